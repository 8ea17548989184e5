/* signin.c -- the sign-in half's pages and API: sign in by a code (phone or
 * email), sign up (an unknown phone, after the terms), sign out, sessions.
 *
 * Every handler serves both representations: JSON for /api/v1/auth/... (or
 * Accept: application/json), the page otherwise.  Pages follow POST/redirect/GET:
 * a form that worked answers 303 with a flash message; a form with a mistake in
 * it (422) shows its page again with the message beside the field; any other
 * refusal (a limit, an expired code) goes back to the page with the message as a
 * flash, where the shopper can act on it (ask for a new code).
 *
 * Flow (pages; the API is the same steps as JSON):
 *   GET  /signin                  phone or email form          -> POST /signin
 *   POST /signin                  code sent                    -> /signin/code?c=ID
 *   POST /signin/code             right code, known account    -> next (signed in)
 *                                 right code, unknown phone    -> /signup/terms?c=ID
 *   POST /signup/terms            terms accepted: account made -> next (signed in)
 * "next" is kept through every step and is only ever a path on this site. */
#include "signin_internal.h"

#include <stdlib.h>
#include <string.h>

#define NEXT_MAX 512            /* bytes of a ?next= path */
#define NEXT_DEFAULT "/account" /* where a shopper lands after signing in */
#define SESSIONS_PAGE "/account/sessions"

/* ----------------------------------------------------------------- helpers */

static int is_page(souk_ctx *ctx)
{
    return !auth_api->req_wants_json(ctx);
}

static const char *in_str(souk_ctx *ctx, const char *name)
{
    json_t *v = json_object_get(auth_api->req_input(ctx), name);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A checkbox (any of its usual values) or a JSON true. */
static int in_true(souk_ctx *ctx, const char *name)
{
    json_t *v = json_object_get(auth_api->req_input(ctx), name);
    if (json_is_true(v))
        return 1;
    const char *s = json_is_string(v) ? json_string_value(v) : "";
    return strcmp(s, "1") == 0 || strcmp(s, "on") == 0 || strcmp(s, "true") == 0 ||
           strcmp(s, "yes") == 0;
}

static int blank(const char *s)
{
    for (; s && *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
            return 0;
    return 1;
}

/* A path on this site to go to after signing in: "/x..." but not "//host" or
 * "/\host" (which browsers take for another host), without control characters,
 * spaces or backslashes.  Anything else gives the default. */
static const char *next_of(souk_ctx *ctx)
{
    const char *n = in_str(ctx, "next");
    if (!n)
        n = auth_api->req_query(ctx, "next");
    if (!n || n[0] != '/' || n[1] == '/' || n[1] == '\\' || strlen(n) > NEXT_MAX)
        return NEXT_DEFAULT;
    for (const unsigned char *p = (const unsigned char *)n; *p; p++)
        if (*p <= 0x20 || *p == 0x7f || *p == '\\')
            return NEXT_DEFAULT;
    return n;
}

/* s percent-encoded for a query value (arena). */
static const char *query_escape(souk_ctx *ctx, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = auth_api->alloc(ctx, strlen(s) * 3 + 1), *o = out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~/", *p)) {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        }
    }
    *o = '\0';
    return out;
}

static const char *signin_url(souk_ctx *ctx, const char *next)
{
    return auth_api->format(ctx, "/signin?next=%s", query_escape(ctx, next));
}

static const char *code_url(souk_ctx *ctx, const char *id, const char *next)
{
    return auth_api->format(ctx, "/signin/code?c=%s&next=%s", id, query_escape(ctx, next));
}

static const char *terms_url(souk_ctx *ctx, const char *id, const char *next)
{
    return auth_api->format(ctx, "/signup/terms?c=%s&next=%s", id, query_escape(ctx, next));
}

/* "next" for forms and "next_q" (percent-encoded) for links, into the view. */
static void set_next(souk_ctx *ctx, const char *next)
{
    json_t *view = auth_api->view(ctx);
    json_object_set_new(view, "next", json_string(next));
    json_object_set_new(view, "next_q", json_string(query_escape(ctx, next)));
}

/* A refusal.  The API gets the error; a page gets it too when it is a mistake in
 * the form (422: the page is shown again, its view filled by the caller) or a
 * failure of ours (5xx); otherwise the message as a flash and a 303 to back. */
static int fail(souk_ctx *ctx, const auth_fail *f, const char *back)
{
    const souk_host_api *api = auth_api;
    if (!is_page(ctx) || f->status == 422 || f->status >= 500 || !back) {
        /* The page marks the field at fault (aria-invalid, the message beside it). */
        if (is_page(ctx) && f->field)
            json_object_set_new(api->view(ctx), "invalid", json_pack("{s:b}", f->field, 1));
        return auth_respond_fail(ctx, f);
    }
    api->res_flash(ctx, "error", auth_fail_text(ctx, f));
    return api->res_redirect(ctx, 303, back);
}

static int fail_with(souk_ctx *ctx, int status, const char *code, const char *field,
                     const char *message, const char *back)
{
    auth_fail f;
    auth_failf(&f, status, code, field, message);
    return fail(ctx, &f, back);
}

/* The sign-in challenge id (from a form) into s, its data released: 1.  0 when
 * there is no such challenge, after answering (back to the sign-in page; *rc is
 * what the handler returns). */
static int form_challenge(souk_ctx *ctx, const char *id, const char *next, auth_challenge_state *s,
                          int *rc)
{
    auth_fail f;
    if (auth_challenge_load(ctx, id, AUTH_P_SIGNIN, s, &f) != SOUK_OK) {
        *rc = fail(ctx, &f, signin_url(ctx, next));
        return 0;
    }
    json_decref(s->c.data);
    s->c.data = NULL;
    return 1;
}

static void flash(souk_ctx *ctx, const char *key, json_t *extra, const char *fallback)
{
    auth_api->res_flash(ctx, "success", auth_text(ctx, key, extra, fallback));
}

/* The answer to "send me a code": the same shape for every destination, known
 * or not. */
static void code_answer(souk_ctx *ctx, const auth_challenge *c)
{
    int64_t now = auth_api->now_ms(ctx);
    int sms = strcmp(c->channel, NOTIFY_SMS) == 0;
    json_t *view = auth_api->view(ctx);
    json_object_set_new(view, "challenge", json_string(c->public_id));
    json_object_set_new(view, "channel", json_string(c->channel));
    json_object_set_new(view, "destination",
                        json_string(sms ? auth_mask_phone(ctx, c->destination)
                                        : auth_mask_email(ctx, c->destination)));
    json_object_set_new(view, "expires_in", json_integer(auth_ceil_seconds(c->expires_at - now)));
    json_object_set_new(view, "resend_in", json_integer(auth_ceil_seconds(c->resend_at - now)));
}

/* The view of the code page for challenge id: "challenge" (auth_challenge_json)
 * and "next".  SOUK_ERR with f when there is no such sign-in challenge. */
static int code_view(souk_ctx *ctx, const char *id, const char *next, auth_challenge_state *s,
                     auth_fail *f)
{
    if (auth_challenge_load(ctx, id, AUTH_P_SIGNIN, s, f) != SOUK_OK)
        return SOUK_ERR;
    json_decref(s->c.data);
    s->c.data = NULL;
    json_t *view = auth_api->view(ctx);
    json_object_set_new(view, "challenge", auth_challenge_json(ctx, s));
    set_next(ctx, next);
    return SOUK_OK;
}

/* Start a session for account and answer: the token and the account (API), or
 * a flash and a 303 to next (page). */
static int signed_in(souk_ctx *ctx, int64_t account, const char *next, const char *flash_key,
                     const char *flash_text)
{
    const souk_host_api *api = auth_api;
    const char *token;
    if (auth_session_start(ctx, account, &token) != SOUK_OK)
        return api->res_error(ctx, 500, "internal", "the session cannot be started", NULL);
    if (is_page(ctx)) {
        flash(ctx, flash_key, NULL, flash_text);
        return api->res_redirect(ctx, 303, next);
    }
    json_t *view = api->view(ctx);
    json_object_set_new(view, "token", json_string(token));
    json_t *acct = auth_account_json(ctx, account);
    json_object_set_new(view, "account", acct ? acct : json_null());
    return SOUK_OK;
}

/* ------------------------------------------------------------ sign in: code */

/* GET /signin */
static int h_signin_page(souk_ctx *ctx)
{
    set_next(ctx, next_of(ctx));
    json_object_set_new(auth_api->view(ctx), "signed_in",
                        json_boolean(auth_current_account(ctx) != 0));
    return SOUK_OK;
}

/* POST /signin, /api/v1/auth/code {phone | email}: a code to the phone (any
 * number: an unknown one signs up), or to the email of the account that has it
 * verified.  For an email that no account has verified, the same answer and the
 * same work (a challenge that is never delivered), so the answer tells nothing
 * about who has an account. */
static int h_code_send(souk_ctx *ctx)
{
    const souk_host_api *api = auth_api;
    const char *phone = in_str(ctx, "phone"), *email = in_str(ctx, "email");
    const char *next = next_of(ctx);
    if (is_page(ctx)) {
        set_next(ctx, next);
        json_object_set_new(
            api->view(ctx), "input",
            json_pack("{s:s, s:s}", "phone", phone ? phone : "", "email", email ? email : ""));
    }
    auth_issue in = {AUTH_P_SIGNIN, NULL, NULL, 0, NULL, NULL, 1};
    char e164[AUTH_PHONE_MAX], addr[AUTH_EMAIL_MAX + 1];
    const char *why = NULL;
    if (!blank(phone)) {
        if (auth_phone_normalize(phone, e164, &why) != SOUK_OK)
            return fail_with(ctx, 422, "invalid_phone", "phone", why, NULL);
        in.channel = NOTIFY_SMS;
        in.destination = e164;
        in.account_id = auth_account_by_phone(ctx, e164);
    } else if (!blank(email)) {
        if (auth_email_normalize(email, addr, &why) != SOUK_OK)
            return fail_with(ctx, 422, "invalid_email", "email", why, NULL);
        in.channel = NOTIFY_EMAIL;
        in.destination = addr;
        in.account_id = auth_account_by_email(ctx, addr);
        in.deliver = in.account_id != 0;
    } else {
        return fail_with(ctx, 422, "login_required", "phone",
                         "enter your phone number or email address", NULL);
    }
    auth_challenge c;
    auth_fail f;
    if (auth_challenge_issue(ctx, &in, &c, &f) != SOUK_OK)
        return fail(ctx, &f, signin_url(ctx, next));
    if (is_page(ctx))
        return api->res_redirect(ctx, 303, code_url(ctx, c.public_id, next));
    code_answer(ctx, &c);
    return SOUK_OK;
}

/* GET /signin/code?c=ID: the code form, with what the shopper needs to know
 * (where the code went, tries left, when it expires, when a new one can be
 * asked for). */
static int h_code_page(souk_ctx *ctx)
{
    const souk_host_api *api = auth_api;
    const char *id = api->req_query(ctx, "c"), *next = next_of(ctx);
    auth_challenge_state s;
    auth_fail f;
    if (code_view(ctx, id, next, &s, &f) != SOUK_OK)
        return auth_respond_fail(ctx, &f);
    /* A code already entered for a sign-up: the next step is the terms. */
    if (s.c.verified && !s.used && is_page(ctx))
        return api->res_redirect(ctx, 303, terms_url(ctx, s.c.public_id, next));
    return SOUK_OK;
}

/* POST /signin/code/resend, /api/v1/auth/code/resend {challenge}: a new code for
 * the same challenge (the old one stops working), under the same limits. */
static int h_resend(souk_ctx *ctx)
{
    const souk_host_api *api = auth_api;
    const char *id = in_str(ctx, "challenge"), *next = next_of(ctx);
    auth_challenge_state s;
    int rc;
    if (!form_challenge(ctx, id, next, &s, &rc))
        return rc;
    auth_fail f;
    auth_challenge c;
    if (auth_challenge_resend(ctx, id, &c, &f) != SOUK_OK)
        return fail(ctx, &f, code_url(ctx, id, next));
    if (is_page(ctx)) {
        flash(ctx, "flash_code_sent", NULL, "A new code is on its way.");
        return api->res_redirect(ctx, 303, code_url(ctx, id, next));
    }
    code_answer(ctx, &c);
    return SOUK_OK;
}

/* POST /signin/code, /api/v1/auth/verify {challenge, code}: a right code signs
 * the account in; for a phone without an account it is kept verified for the
 * sign-up step (the terms) instead. */
static int h_verify(souk_ctx *ctx)
{
    const souk_host_api *api = auth_api;
    const char *id = in_str(ctx, "challenge"), *next = next_of(ctx);
    auth_challenge_state s;
    int rc;
    if (!form_challenge(ctx, id, next, &s, &rc))
        return rc;
    auth_fail f;
    /* The account is the one the destination belongs to now: a number may have
     * got an account since the code was sent (or moved to another one); an
     * email must still be the verified email of the account it was sent for. */
    int sms = strcmp(s.c.channel, NOTIFY_SMS) == 0;
    int64_t account = sms ? auth_account_by_phone(ctx, s.c.destination)
                          : auth_account_by_email(ctx, s.c.destination);
    if (!sms && account != s.c.account_id)
        account = 0;
    int signup = !account && sms;
    auth_challenge c;
    if (auth_challenge_verify(ctx, id, AUTH_P_SIGNIN, in_str(ctx, "code"), signup, &c, &f) !=
        SOUK_OK) {
        if (is_page(ctx) && f.status == 422) {
            auth_fail ignored;
            code_view(ctx, id, next, &s, &ignored);
        }
        return fail(ctx, &f, code_url(ctx, id, next));
    }
    json_decref(c.data);
    if (signup) {
        if (is_page(ctx))
            return api->res_redirect(ctx, 303, terms_url(ctx, id, next));
        json_t *view = api->view(ctx);
        json_object_set_new(view, "signup_required", json_true());
        json_object_set_new(view, "challenge", json_string(id));
        json_object_set_new(view, "terms_version", json_string(auth_cfg.terms_version));
        return SOUK_OK;
    }
    /* A decoy (an email no account has) cannot be answered right in practice;
     * should it ever be, or should the email have left its account meanwhile,
     * nobody signs in. */
    if (!account)
        return fail_with(ctx, 404, "challenge_unknown", "challenge",
                         "this code request is unknown; ask for a new code", signin_url(ctx, next));
    return signed_in(ctx, account, next, "flash_signed_in", "You are signed in.");
}

/* ------------------------------------------------------------------ sign up */

/* The sign-up page's view: the verified challenge, the terms version, next. */
static void signup_view(souk_ctx *ctx, const auth_challenge_state *s, const char *next)
{
    json_t *view = auth_api->view(ctx);
    json_object_set_new(view, "challenge", auth_challenge_json(ctx, s));
    json_object_set_new(view, "terms_version", json_string(auth_cfg.terms_version));
    set_next(ctx, next);
}

/* Whether s is a phone code entered for a sign-up and not used yet. */
static int signup_pending(const auth_challenge_state *s)
{
    return s->c.verified && !s->used && !s->c.account_id && strcmp(s->c.channel, NOTIFY_SMS) == 0;
}

/* GET /signup/terms?c=ID */
static int h_signup_page(souk_ctx *ctx)
{
    const souk_host_api *api = auth_api;
    const char *id = api->req_query(ctx, "c"), *next = next_of(ctx);
    auth_challenge_state s;
    auth_fail f;
    if (auth_challenge_load(ctx, id, AUTH_P_SIGNIN, &s, &f) != SOUK_OK)
        return auth_respond_fail(ctx, &f);
    json_decref(s.c.data);
    if (!signup_pending(&s)) {
        auth_failf(&f, s.used ? 410 : 404, s.used ? "code_used" : "challenge_unknown", "challenge",
                   "this sign-up is unknown or finished; start again");
        return auth_respond_fail(ctx, &f);
    }
    signup_view(ctx, &s, next);
    return SOUK_OK;
}

/* POST /signup/terms, /api/v1/auth/signup {challenge, accept_terms: true}: the
 * new account (terms version and time recorded, the remembered referral), signed
 * in. */
static int h_signup(souk_ctx *ctx)
{
    const souk_host_api *api = auth_api;
    const char *id = in_str(ctx, "challenge"), *next = next_of(ctx);
    auth_challenge_state s;
    int rc;
    if (!form_challenge(ctx, id, next, &s, &rc))
        return rc;
    auth_fail f;
    if (is_page(ctx))
        signup_view(ctx, &s, next);
    if (s.c.account_id || strcmp(s.c.channel, NOTIFY_SMS) != 0)
        return fail_with(ctx, 404, "challenge_unknown", "challenge",
                         "this sign-up is unknown; start again", signin_url(ctx, next));
    if (!in_true(ctx, "accept_terms"))
        return fail_with(ctx, 422, "terms_required", "accept_terms",
                         "accept the terms to create your account", NULL);
    auth_challenge c;
    if (auth_challenge_consume_verified(ctx, id, &c, &f) != SOUK_OK)
        return fail(ctx, &f, signin_url(ctx, next));
    json_decref(c.data);
    int64_t account = auth_account_by_phone(ctx, c.destination);
    if (account)
        return signed_in(ctx, account, next, "flash_signed_in", "You are signed in.");
    account =
        auth_account_create(ctx, c.destination, auth_referral_seen(ctx), api->req_locale(ctx), &f);
    if (!account)
        return fail(ctx, &f, signin_url(ctx, next));
    auth_referral_forget(ctx);
    api->res_status(ctx, 201);
    return signed_in(ctx, account, next, "flash_signed_up", "Welcome! Your account is ready.");
}

/* GET /terms */
static int h_terms(souk_ctx *ctx)
{
    json_object_set_new(auth_api->view(ctx), "terms_version", json_string(auth_cfg.terms_version));
    return SOUK_OK;
}

/* ----------------------------------------------------------------- sign out */

/* POST /signout, /api/v1/auth/signout */
static int h_signout(souk_ctx *ctx)
{
    const souk_host_api *api = auth_api;
    if (auth_session_end(ctx) != SOUK_OK)
        return api->res_error(ctx, 500, "internal", "the session cannot be ended", NULL);
    if (is_page(ctx)) {
        flash(ctx, "flash_signed_out", NULL, "You are signed out.");
        return api->res_redirect(ctx, 303, "/");
    }
    json_object_set_new(api->view(ctx), "signed_out", json_true());
    return SOUK_OK;
}

/* ----------------------------------------------------------------- sessions */

/* GET /account/sessions, /api/v1/auth/sessions */
static int h_sessions(souk_ctx *ctx)
{
    int64_t account = auth_current_account(ctx), current = auth_current_session(ctx);
    json_t *list = auth_session_list(ctx, account, current);
    json_t *view = auth_api->view(ctx);
    size_t n = json_array_size(list);
    json_object_set_new(view, "sessions", list);
    json_object_set_new(view, "others",
                        json_integer(n > 0 && current ? (json_int_t)n - 1 : (json_int_t)n));
    return SOUK_OK;
}

/* DELETE /account/sessions/:id, /api/v1/auth/sessions/:id: end one session of
 * the signed-in account (this one too: that is signing out). */
static int h_session_end(souk_ctx *ctx)
{
    const souk_host_api *api = auth_api;
    const char *p = api->req_param(ctx, "id");
    char *end = NULL;
    long long id = p && *p >= '1' && *p <= '9' ? strtoll(p, &end, 10) : 0;
    if (!id || !end || *end)
        return fail_with(ctx, 404, "session_unknown", NULL, "no such session", SESSIONS_PAGE);
    int64_t account = auth_current_account(ctx), current = auth_current_session(ctx);
    int r = auth_session_end_one(ctx, account, id);
    if (r < 0)
        return api->res_error(ctx, 500, "internal", "the session cannot be ended", NULL);
    if (r == 0)
        return fail_with(ctx, 404, "session_unknown", NULL, "no such session", SESSIONS_PAGE);
    if (id == current && auth_session_end(ctx) != SOUK_OK)
        return api->res_error(ctx, 500, "internal", "the session cannot be ended", NULL);
    if (is_page(ctx)) {
        flash(ctx, id == current ? "flash_signed_out" : "flash_session_ended", NULL,
              id == current ? "You are signed out." : "The session is ended.");
        return api->res_redirect(ctx, 303, id == current ? "/" : SESSIONS_PAGE);
    }
    json_t *view = api->view(ctx);
    json_object_set_new(view, "ended", json_integer(1));
    json_object_set_new(view, "current", json_boolean(id == current));
    return SOUK_OK;
}

/* POST /account/sessions/revoke-others, /api/v1/auth/sessions/revoke-others */
static int h_revoke_others(souk_ctx *ctx)
{
    const souk_host_api *api = auth_api;
    int64_t account = auth_current_account(ctx), current = auth_current_session(ctx);
    int n = auth_session_end_all(ctx, account, current);
    if (n < 0)
        return api->res_error(ctx, 500, "internal", "the sessions cannot be ended", NULL);
    if (is_page(ctx)) {
        json_t *extra = json_pack("{s:i}", "count", n);
        flash(ctx, "flash_sessions_ended", extra, "The other sessions are ended.");
        json_decref(extra);
        return api->res_redirect(ctx, 303, SESSIONS_PAGE);
    }
    json_object_set_new(api->view(ctx), "ended", json_integer(n));
    return SOUK_OK;
}

/* GET /api/v1/auth/me: the signed-in account and its session. */
static int h_me(souk_ctx *ctx)
{
    const souk_host_api *api = auth_api;
    auth_session_info s;
    json_t *view = api->view(ctx);
    json_object_set(view, "account", api->req_user(ctx));
    if (auth_session_lookup(ctx, &s)) {
        int64_t idle_end = s.last_seen_at + auth_cfg.session_idle_ms;
        int64_t abs_end = s.created_at + auth_cfg.session_absolute_ms;
        json_object_set_new(view, "session",
                            json_pack("{s:I, s:I, s:I, s:I}", "id", (json_int_t)s.id, "created_at",
                                      (json_int_t)s.created_at, "last_seen_at",
                                      (json_int_t)s.last_seen_at, "expires_at",
                                      (json_int_t)(idle_end < abs_end ? idle_end : abs_end)));
    }
    return SOUK_OK;
}

/* ----------------------------------------------------------- registration */

static const souk_route routes[] = {
    {"GET", "/signin", h_signin_page, "auth_signin", 0, NULL},
    {"POST", "/signin", h_code_send, "auth_signin", 0, NULL},
    {"GET", "/signin/code", h_code_page, "auth_code", 0, NULL},
    {"POST", "/signin/code", h_verify, "auth_code", 0, NULL},
    {"POST", "/signin/code/resend", h_resend, "auth_code", 0, NULL},
    {"GET", "/signup/terms", h_signup_page, "auth_signup", 0, NULL},
    {"POST", "/signup/terms", h_signup, "auth_signup", 0, NULL},
    {"GET", "/terms", h_terms, "auth_terms", 0, NULL},
    {"POST", "/signout", h_signout, "auth_signin", 0, NULL},
    {"GET", SESSIONS_PAGE, h_sessions, "auth_sessions", SOUK_ROUTE_AUTH, NULL},
    {"DELETE", SESSIONS_PAGE "/:id", h_session_end, "auth_sessions", SOUK_ROUTE_AUTH, NULL},
    {"POST", SESSIONS_PAGE "/revoke-others", h_revoke_others, "auth_sessions", SOUK_ROUTE_AUTH,
     NULL},
    {"POST", "/api/v1/auth/code", h_code_send, NULL, 0, NULL},
    {"POST", "/api/v1/auth/code/resend", h_resend, NULL, 0, NULL},
    {"POST", "/api/v1/auth/verify", h_verify, NULL, 0, NULL},
    {"POST", "/api/v1/auth/signup", h_signup, NULL, 0, NULL},
    {"POST", "/api/v1/auth/signout", h_signout, NULL, 0, NULL},
    {"GET", "/api/v1/auth/sessions", h_sessions, NULL, SOUK_ROUTE_AUTH, NULL},
    {"DELETE", "/api/v1/auth/sessions/:id", h_session_end, NULL, SOUK_ROUTE_AUTH, NULL},
    {"POST", "/api/v1/auth/sessions/revoke-others", h_revoke_others, NULL, SOUK_ROUTE_AUTH, NULL},
    {"GET", "/api/v1/auth/me", h_me, NULL, SOUK_ROUTE_AUTH, NULL},
};

int auth_signin_init(souk_plugin *self, const souk_host_api *api)
{
    return AUTH_ROUTES_ADD(self, api, routes);
}
