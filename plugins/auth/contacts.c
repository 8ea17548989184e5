/* contacts.c -- the shopper's email and phone: add or change the email (a code
 * to the new address, a notice to the old one), change the phone (codes to the
 * new number and to the old one, or the 14-day path when the old number is out
 * of reach), and the sweep that completes due changes.
 *
 *   GET    /account/contacts [?email_challenge=ID&phone_new=ID&phone_old=ID]
 *          {"account", "phone_change", "email_challenge", "phone_new_challenge",
 *           "phone_old_challenge" (each a challenge or absent), "state" (the
 *           query string that names them, for the forms' actions)}
 *   POST   /api/v1/account/email {"email"}            {"challenge"}
 *   POST   /api/v1/account/email/verify {"challenge", "code"}   {"account"}
 *   POST   /api/v1/account/phone {"phone"}
 *          {"phone_change", "challenges": {"new", "old"}}
 *   POST   /api/v1/account/phone/verify {"challenge", "code"}
 *          {"confirmed": "new" | "old", "completed", "phone_change", "account"}
 *   POST   /api/v1/account/phone/lost                 {"phone_change"}
 *   DELETE /api/v1/account/phone/change               {"cancelled": true}
 *   POST   /api/v1/account/code/resend {"challenge"}  {"challenge"}
 * and the same as forms under /account/... (redirecting back to the page).
 *
 * A phone change is one row of auth_phone_change.  Its two challenges carry
 * {"new_phone", "change": the row's created_at} so that a code sent for an
 * earlier attempt cannot confirm a later one.  Both codes right: the number
 * changes at once.  The new number's code right and "I no longer have my old
 * number": due_at = now + phone_change_wait_ms, notices go at once to the email
 * and the old number, and the sweep completes the change when due unless it was
 * cancelled.  If the new number became another account's meanwhile, the change
 * fails with a notice.  The sweep also purges what the sign-in half no longer
 * needs (auth_signin_purge). */
#include "account_internal.h"
#include "signin_internal.h"

#include <string.h>
#include <uv.h>

#define SWEEP_BATCH 100                      /* due changes completed per sweep */

/* ------------------------------------------------------------ challenges */

static const char *query(souk_ctx *ctx, const char *name)
{
    const char *v = auth_api->req_query(ctx, name);
    return v && *v ? v : NULL;
}

/* The page's state as a query string: the challenges it shows (arena; "" when
 * none).  replace_key/replace_value (may be NULL) swap or drop one of them. */
static const char *state_query(souk_ctx *ctx, const char *replace_key, const char *replace_value)
{
    static const char *const keys[] = {"email_challenge", "phone_new", "phone_old"};
    const char *out = "";
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        const char *v = query(ctx, keys[i]);
        if (replace_key && strcmp(replace_key, keys[i]) == 0)
            v = replace_value;
        /* Public ids are hex (challenge.c); anything else is not carried on. */
        if (!v || strspn(v, "0123456789abcdef") != strlen(v))
            continue;
        out = auth_api->format(ctx, "%s%s%s=%s", out, *out ? "&" : "", keys[i], v);
    }
    return out;
}

static const char *contacts_url(souk_ctx *ctx, const char *state, const char *anchor)
{
    return auth_api->format(ctx, "/account/contacts%s%s%s", *state ? "?" : "", state,
                            anchor ? anchor : "");
}

int account_contacts_fill(souk_ctx *ctx, int64_t id)
{
    account_row row;
    if (!account_view_row(ctx, id, &row))
        return SOUK_ERR;
    json_t *view = auth_api->view(ctx);
    int change = account_view_phone_change(ctx, id);
    static const struct { const char *query, *purpose, *key; } shown[] = {
        {"email_challenge", AUTH_P_EMAIL_VERIFY, "email_challenge"},
        {"phone_new", AUTH_P_PHONE_NEW, "phone_new_challenge"},
        {"phone_old", AUTH_P_PHONE_OLD, "phone_old_challenge"},
    };
    for (size_t i = 0; i < sizeof shown / sizeof *shown; i++) {
        auth_challenge c;
        const char *cid = query(ctx, shown[i].query);
        /* Codes of a phone change are only worth showing while it is pending. */
        if (cid && (strcmp(shown[i].purpose, AUTH_P_EMAIL_VERIFY) == 0 || change) &&
            account_challenge_mine(ctx, cid, shown[i].purpose, id, &c, NULL, NULL) == SOUK_OK)
            json_object_set_new(view, shown[i].key, account_challenge_json(ctx, &c));
    }
    json_object_set_new(view, "state", json_string(state_query(ctx, NULL, NULL)));
    return SOUK_OK;
}

static int h_contacts_show(souk_ctx *ctx) { return account_show(ctx, account_contacts_fill); }

static const char *input_str(souk_ctx *ctx, const char *key)
{
    const char *s = json_string_value(json_object_get(auth_api->req_input(ctx), key));
    return s && *s ? s : NULL;
}

/* "This address belongs to another account" tells whether an address has an
 * account, so each such answer is counted like a code sent from the client's
 * address (send:ip, codes_per_ip an hour): probing addresses is no faster than
 * asking for codes.  Returns SOUK_ERR (422, or 429 over the limit). */
static int taken_refusal(souk_ctx *ctx, const char *code, const char *field,
                         const char *message)
{
    const souk_host_api *api = auth_api;
    const char *ip = api->req_ip(ctx);
    if (ip) {
        const char *key = api->format(ctx, "send:ip:%s", ip);
        auth_fail f;
        if (auth_rate_check(ctx, key, AUTH_HOUR_MS, auth_cfg.codes_per_ip, &f) != SOUK_OK)
            return account_fail(ctx, &f, account_contacts_fill);
        /* Kept although the answer is an error: nothing else was written. */
        if (auth_rate_add(ctx, key, AUTH_HOUR_MS) == SOUK_OK)
            api->commit_on_error(ctx);
    }
    return account_error(ctx, 422, code, field, message, account_contacts_fill);
}

/* A new email address or phone number: what the two kinds differ in. */
typedef struct contact_refusal {
    const char *code, *message;
} contact_refusal;

typedef struct contact_kind {
    const char *field; /* "email" or "phone": the input, and the field at fault */
    int (*normalize)(const char *in, char *out, const char **error);
    int64_t (*owner)(souk_ctx *ctx, const char *value); /* the live account that has it */
    contact_refusal required, invalid, same, taken;
} contact_kind;

/* Room for either kind, normalised. */
#define CONTACT_MAX (AUTH_EMAIL_MAX + 1)
_Static_assert(CONTACT_MAX >= AUTH_PHONE_MAX, "a normalised phone fits a contact buffer");

static const contact_kind email_kind = {
    "email", auth_email_normalize, auth_account_by_email,
    {"email_required", "enter an email address"},
    {"email_invalid", "this is not an email address"},
    {"email_same", "this is already your email"},
    {"email_taken", "this email belongs to another account"},
};

static const contact_kind phone_kind = {
    "phone", auth_phone_normalize, auth_account_by_phone,
    {"phone_required", "enter the new phone number"},
    {"phone_invalid", "this is not a phone number"},
    {"phone_same", "this is already your number"},
    {"phone_taken", "this number belongs to another account"},
};

/* The new address of kind k from the input, normalised into out (CONTACT_MAX
 * bytes): SOUK_OK.  SOUK_ERR after answering 422 when it is missing, invalid,
 * the account's current one (current may be NULL) or another account's. */
static int new_contact(souk_ctx *ctx, const account_row *row, const char *current,
                       const contact_kind *k, char out[CONTACT_MAX])
{
    const char *in = input_str(ctx, k->field), *error = NULL;
    const contact_refusal *no = NULL;
    if (!in)
        no = &k->required;
    else if (k->normalize(in, out, &error) != SOUK_OK)
        no = &k->invalid;
    else if (current && strcmp(current, out) == 0)
        no = &k->same;
    if (no)
        return account_error(ctx, 422, no->code, k->field,
                             no == &k->invalid && error ? error : no->message,
                             account_contacts_fill);
    int64_t other = k->owner(ctx, out);
    if (other && other != row->id)
        return taken_refusal(ctx, k->taken.code, k->field, k->taken.message);
    return SOUK_OK;
}

/* ------------------------------------------------------------------- email */

static int h_email_start(souk_ctx *ctx)
{
    const souk_host_api *api = auth_api;
    account_row row;
    if (account_load_current(ctx, &row) != SOUK_OK)
        return SOUK_ERR;
    char email[CONTACT_MAX];
    if (new_contact(ctx, &row, row.email, &email_kind, email) != SOUK_OK)
        return SOUK_ERR;
    auth_issue issue = {AUTH_P_EMAIL_VERIFY, NOTIFY_EMAIL, email, row.id, NULL, NULL, 1};
    auth_challenge c;
    auth_fail f;
    if (auth_challenge_issue(ctx, &issue, &c, &f) != SOUK_OK)
        return account_fail(ctx, &f, account_contacts_fill);
    json_object_set_new(api->view(ctx), "challenge", account_challenge_json(ctx, &c));
    if (api->req_wants_json(ctx))
        return SOUK_OK;
    return account_done(ctx,
                        contacts_url(ctx, state_query(ctx, "email_challenge", c.public_id),
                                     "#email-code"),
                        "code_sent_email", "We sent a code to the new address");
}

static int h_email_verify(souk_ctx *ctx)
{
    const souk_host_api *api = auth_api;
    account_row row;
    if (account_load_current(ctx, &row) != SOUK_OK)
        return SOUK_ERR;
    int64_t id = row.id;
    const char *cid = input_str(ctx, "challenge"), *code = input_str(ctx, "code");
    auth_challenge c;
    auth_fail f;
    if (account_challenge_mine(ctx, cid, AUTH_P_EMAIL_VERIFY, id, &c, NULL, &f) != SOUK_OK)
        return account_fail(ctx, &f, account_contacts_fill);
    if (!code)
        return account_error(ctx, 422, "code_required", "code", "enter the code from the email",
                             account_contacts_fill);
    if (auth_challenge_verify(ctx, cid, AUTH_P_EMAIL_VERIFY, code, 0, &c, &f) != SOUK_OK)
        return account_fail(ctx, &f, account_contacts_fill);
    json_decref(c.data);
    const char *email = c.destination;
    /* Checked again: another account may have verified the address meanwhile. */
    int64_t other = auth_account_by_email(ctx, email);
    if (other && other != id)
        return account_error(ctx, 422, "email_taken", "email",
                             "this email belongs to another account", account_contacts_fill);
    sqlite3_stmt *st = api->db_prepare(ctx, "UPDATE auth_account SET email = ?1 WHERE id = ?2");
    if (!st)
        return api->res_error(ctx, 500, "db", "cannot save the email", NULL);
    sqlite3_bind_text(st, 1, email, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, id);
    if (sqlite3_step(st) != SQLITE_DONE)
        return api->res_error(ctx, 500, "db", "cannot save the email", NULL);
    int changed = row.email && strcmp(row.email, email) != 0;
    if (changed) {
        /* The old address hears of it (and the phone): a stolen session must not
         * be able to move the account's mail silently. */
        json_t *data = json_pack("{s:s, s:s, s:{s:o}}", "new_email", auth_mask_email(ctx, email),
                                 "old_email", auth_mask_email(ctx, row.email), "customer", "name",
                                 row.name ? json_string(row.name) : json_null());
        int rc = account_notice_both(ctx, &row, ACCOUNT_MSG_EMAIL_CHANGED, data);
        json_decref(data);
        if (rc != SOUK_OK)
            return api->res_error(ctx, 500, "notice_failed",
                                  "the notice to the old address could not be queued", NULL);
    }
    account_view_row(ctx, id, &row);
    return account_done(ctx, contacts_url(ctx, state_query(ctx, "email_challenge", NULL), NULL),
                        changed ? "email_changed" : "email_verified",
                        changed ? "Your email was changed" : "Your email is confirmed");
}

/* ------------------------------------------------------------------- phone */

typedef struct phone_change {
    const char *new_phone;
    int64_t created_at;
    int new_confirmed, old_confirmed, waiting;
} phone_change;

static int change_load(souk_ctx *ctx, int64_t id, phone_change *out)
{
    sqlite3_stmt *st = auth_row_by_id(
        ctx, "SELECT new_phone, created_at, new_confirmed_at IS NOT NULL,"
             " old_confirmed_at IS NOT NULL, due_at IS NOT NULL"
             " FROM auth_phone_change WHERE account_id = ?1", id);
    if (!st)
        return SOUK_ERR;
    out->new_phone = auth_api->dup(ctx, (const char *)sqlite3_column_text(st, 0));
    out->created_at = sqlite3_column_int64(st, 1);
    out->new_confirmed = sqlite3_column_int(st, 2);
    out->old_confirmed = sqlite3_column_int(st, 3);
    out->waiting = sqlite3_column_int(st, 4);
    sqlite3_reset(st);
    return SOUK_OK;
}

/* End the account's phone change (done, failed or cancelled). */
static int change_drop(souk_ctx *ctx, int64_t account_id)
{
    return auth_exec_id(ctx, "DELETE FROM auth_phone_change WHERE account_id = ?1", account_id);
}

/* Move the account to new_phone and end the change.  SOUK_ERR with *taken set
 * when the number became another account's meanwhile. */
static int phone_complete(souk_ctx *ctx, const account_row *row, const char *new_phone,
                          int *taken)
{
    *taken = 0;
    int64_t other = auth_account_by_phone(ctx, new_phone);
    if (other && other != row->id) {
        *taken = 1;
        return SOUK_ERR;
    }
    sqlite3_stmt *st =
        auth_api->db_prepare(ctx, "UPDATE auth_account SET phone = ?1 WHERE id = ?2");
    if (!st)
        return SOUK_ERR;
    sqlite3_bind_text(st, 1, new_phone, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, row->id);
    if (sqlite3_step(st) != SQLITE_DONE)
        return SOUK_ERR;
    return change_drop(ctx, row->id);
}

/* A notice about a change of number (row as it was before): to the email and
 * the old number. */
static int phone_notice(souk_ctx *ctx, const account_row *row, const char *new_phone,
                        const char *message, json_t *extra)
{
    json_t *data = json_pack("{s:s, s:s, s:{s:o}}", "new_phone", auth_mask_phone(ctx, new_phone),
                             "old_phone", row->phone ? auth_mask_phone(ctx, row->phone) : "",
                             "customer", "name",
                             row->name ? json_string(row->name) : json_null());
    if (extra)
        json_object_update(data, extra);
    int rc = account_notice_both(ctx, row, message, data);
    json_decref(data);
    return rc;
}

static int h_phone_start(souk_ctx *ctx)
{
    const souk_host_api *api = auth_api;
    account_row row;
    if (account_load_current(ctx, &row) != SOUK_OK)
        return SOUK_ERR;
    int64_t id = row.id;
    char phone[CONTACT_MAX];
    if (new_contact(ctx, &row, row.phone, &phone_kind, phone) != SOUK_OK)
        return SOUK_ERR;
    int64_t now = api->now_ms(ctx);
    /* A new attempt replaces a pending one (its codes stop matching). */
    sqlite3_stmt *st = api->db_prepare(
        ctx, "INSERT OR REPLACE INTO auth_phone_change(account_id, new_phone, created_at)"
             " VALUES(?1, ?2, ?3)");
    if (!st)
        return api->res_error(ctx, 500, "db", "cannot start the change", NULL);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, phone, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now);
    if (sqlite3_step(st) != SQLITE_DONE)
        return api->res_error(ctx, 500, "db", "cannot start the change", NULL);
    json_t *data = json_pack("{s:s, s:I}", "new_phone", phone, "change", (json_int_t)now);
    auth_issue to_new = {AUTH_P_PHONE_NEW, NOTIFY_SMS, phone, id, data, NULL, 1};
    auth_issue to_old = {AUTH_P_PHONE_OLD, NOTIFY_SMS, row.phone, id, data, NULL, 1};
    auth_challenge cn, co;
    auth_fail f;
    int rc = auth_challenge_issue(ctx, &to_new, &cn, &f);
    if (rc == SOUK_OK)
        rc = auth_challenge_issue(ctx, &to_old, &co, &f);
    json_decref(data);
    if (rc != SOUK_OK)
        return account_fail(ctx, &f, account_contacts_fill);
    json_t *view = api->view(ctx);
    account_view_phone_change(ctx, id);
    json_object_set_new(view, "challenges",
                        json_pack("{s:o, s:o}", "new", account_challenge_json(ctx, &cn), "old",
                                  account_challenge_json(ctx, &co)));
    if (api->req_wants_json(ctx))
        return SOUK_OK;
    const char *state = api->format(ctx, "phone_new=%s&phone_old=%s", cn.public_id, co.public_id);
    return account_done(ctx, contacts_url(ctx, state, "#phone-codes"), "code_sent_phone",
                        "We sent codes to the new number and to the old one");
}

/* Which code of a phone change a challenge is: 1 new, 0 old; -1 with *f. */
static int phone_which(souk_ctx *ctx, const char *cid, int64_t id, auth_challenge *c,
                       json_t **data, auth_fail *f)
{
    if (account_challenge_mine(ctx, cid, AUTH_P_PHONE_NEW, id, c, data, f) == SOUK_OK)
        return 1;
    auth_fail f2;
    if (account_challenge_mine(ctx, cid, AUTH_P_PHONE_OLD, id, c, data, &f2) == SOUK_OK)
        return 0;
    /* The more telling failure: an expired or used code over "unknown". */
    if (f->status == 404 || (f->code && strcmp(f->code, "challenge_unknown") == 0))
        *f = f2;
    return -1;
}

static int h_phone_verify(souk_ctx *ctx)
{
    const souk_host_api *api = auth_api;
    account_row row;
    if (account_load_current(ctx, &row) != SOUK_OK)
        return SOUK_ERR;
    int64_t id = row.id;
    const char *cid = input_str(ctx, "challenge"), *code = input_str(ctx, "code");
    auth_challenge c;
    auth_fail f;
    json_t *data = NULL;
    int which = phone_which(ctx, cid, id, &c, &data, &f);
    if (which < 0)
        return account_fail(ctx, &f, account_contacts_fill);
    const char *for_phone = json_string_value(json_object_get(data, "new_phone"));
    int64_t for_change = json_integer_value(json_object_get(data, "change"));
    phone_change pc;
    int have = change_load(ctx, id, &pc) == SOUK_OK;
    int stale = !have || !for_phone || strcmp(for_phone, pc.new_phone) != 0 ||
                for_change != pc.created_at;
    json_decref(data);
    if (!have)
        return account_error(ctx, 409, "no_phone_change", NULL,
                             "there is no phone change to confirm", account_contacts_fill);
    if (stale)
        return account_error(ctx, 409, "change_stale", "challenge",
                             "this code was sent for an earlier change of number",
                             account_contacts_fill);
    if (!code)
        return account_error(ctx, 422, "code_required", "code", "enter the code from the SMS",
                             account_contacts_fill);
    const char *purpose = which ? AUTH_P_PHONE_NEW : AUTH_P_PHONE_OLD;
    if (auth_challenge_verify(ctx, cid, purpose, code, 0, &c, &f) != SOUK_OK)
        return account_fail(ctx, &f, account_contacts_fill);
    json_decref(c.data);
    sqlite3_stmt *st = api->db_prepare(
        ctx, which ? "UPDATE auth_phone_change SET new_confirmed_at = ?2 WHERE account_id = ?1"
                   : "UPDATE auth_phone_change SET old_confirmed_at = ?2 WHERE account_id = ?1");
    if (!st)
        return api->res_error(ctx, 500, "db", "cannot save the confirmation", NULL);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, api->now_ms(ctx));
    if (sqlite3_step(st) != SQLITE_DONE)
        return api->res_error(ctx, 500, "db", "cannot save the confirmation", NULL);
    /* Both codes right: the change is complete (also on the waiting path, when
     * the old number turns up after all). */
    int completed = which ? pc.old_confirmed : pc.new_confirmed;
    if (completed) {
        int taken = 0;
        if (phone_complete(ctx, &row, pc.new_phone, &taken) != SOUK_OK)
            return taken ? account_error(ctx, 422, "phone_taken", "phone",
                                         "this number belongs to another account",
                                         account_contacts_fill)
                         : api->res_error(ctx, 500, "db", "cannot change the number", NULL);
        if (phone_notice(ctx, &row, pc.new_phone, ACCOUNT_MSG_PHONE_COMPLETED, NULL) != SOUK_OK)
            return api->res_error(ctx, 500, "notice_failed", "the notices could not be queued",
                                  NULL);
    }
    json_t *view = api->view(ctx);
    json_object_set_new(view, "confirmed", json_string(which ? "new" : "old"));
    json_object_set_new(view, "completed", json_boolean(completed));
    account_view_phone_change(ctx, id);
    account_view_row(ctx, id, &row);
    if (completed)
        return account_done(ctx, contacts_url(ctx, state_query(ctx, "phone_new", NULL), NULL),
                            "phone_changed", "Your phone number was changed");
    return account_done(ctx,
                        contacts_url(ctx, state_query(ctx, which ? "phone_new" : "phone_old", NULL),
                                     "#phone-codes"),
                        "phone_code_ok", "Code accepted");
}

static int h_phone_lost(souk_ctx *ctx)
{
    const souk_host_api *api = auth_api;
    account_row row;
    if (account_load_current(ctx, &row) != SOUK_OK)
        return SOUK_ERR;
    int64_t id = row.id;
    phone_change pc;
    if (change_load(ctx, id, &pc) != SOUK_OK)
        return account_error(ctx, 409, "no_phone_change", NULL,
                             "there is no phone change in progress", account_contacts_fill);
    if (!pc.new_confirmed)
        return account_error(ctx, 422, "phone_new_unconfirmed", "code",
                             "first confirm the new number with the code we sent to it",
                             account_contacts_fill);
    if (!pc.waiting) {
        int64_t due = api->now_ms(ctx) + auth_cfg.phone_change_wait_ms;
        sqlite3_stmt *st =
            api->db_prepare(ctx, "UPDATE auth_phone_change SET due_at = ?2 WHERE account_id = ?1");
        if (!st)
            return api->res_error(ctx, 500, "db", "cannot save the change", NULL);
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, due);
        if (sqlite3_step(st) != SQLITE_DONE)
            return api->res_error(ctx, 500, "db", "cannot save the change", NULL);
        /* At once, to both: whoever holds the old number or the mailbox can
         * still stop a change the shopper did not ask for. */
        json_t *extra = json_pack("{s:s, s:s+}", "due_text", account_time_text(ctx, due),
                                  "cancel_url", account_site_url(), "/account");
        int rc = phone_notice(ctx, &row, pc.new_phone, ACCOUNT_MSG_PHONE_STARTED, extra);
        json_decref(extra);
        if (rc != SOUK_OK)
            return api->res_error(ctx, 500, "notice_failed", "the notices could not be queued",
                                  NULL);
    }
    account_view_phone_change(ctx, id);
    return account_done(ctx, "/account", "phone_waiting",
                        "Done: unless you cancel, the number will change by itself on the date "
                        "shown below");
}

static int h_phone_cancel(souk_ctx *ctx)
{
    const souk_host_api *api = auth_api;
    account_row row;
    if (account_load_current(ctx, &row) != SOUK_OK)
        return SOUK_ERR;
    int64_t id = row.id;
    phone_change pc;
    if (change_load(ctx, id, &pc) != SOUK_OK)
        return api->res_error(ctx, 404, "no_phone_change", "there is no phone change to cancel",
                              NULL);
    if (change_drop(ctx, id) != SOUK_OK)
        return api->res_error(ctx, 500, "db", "cannot cancel the change", NULL);
    /* Only the waiting path sent notices; its end is announced the same way. */
    if (pc.waiting &&
        phone_notice(ctx, &row, pc.new_phone, ACCOUNT_MSG_PHONE_CANCELLED, NULL) != SOUK_OK)
        return api->res_error(ctx, 500, "notice_failed", "the notices could not be queued", NULL);
    json_object_set_new(api->view(ctx), "cancelled", json_true());
    return account_done(ctx, "/account", "phone_cancelled", "The change of number was cancelled");
}

/* ------------------------------------------------------------------ resend */

static int h_code_resend(souk_ctx *ctx)
{
    const souk_host_api *api = auth_api;
    int64_t id = account_current(ctx);
    const char *cid = input_str(ctx, "challenge");
    static const struct { const char *purpose, *state_key; } mine[] = {
        {AUTH_P_EMAIL_VERIFY, "email_challenge"},
        {AUTH_P_PHONE_NEW, "phone_new"},
        {AUTH_P_PHONE_OLD, "phone_old"},
        {AUTH_P_DELETE, NULL},
    };
    auth_challenge c;
    auth_fail f, first;
    size_t i;
    for (i = 0; i < sizeof mine / sizeof *mine; i++) {
        if (account_challenge_mine(ctx, cid, mine[i].purpose, id, &c, NULL, &f) == SOUK_OK)
            break;
        if (i == 0 || (first.status == 404 && f.status != 404))
            first = f;
    }
    if (i == sizeof mine / sizeof *mine)
        return account_fail(ctx, &first, account_contacts_fill);
    if (auth_challenge_resend(ctx, cid, &c, &f) != SOUK_OK)
        return account_fail(ctx, &f, account_contacts_fill);
    json_decref(c.data);
    json_object_set_new(api->view(ctx), "challenge", account_challenge_json(ctx, &c));
    if (api->req_wants_json(ctx))
        return SOUK_OK;
    const char *back =
        mine[i].state_key
            ? contacts_url(ctx, state_query(ctx, mine[i].state_key, c.public_id), NULL)
            : api->format(ctx, "/account/delete?challenge=%s", c.public_id);
    return account_done(ctx, back, "code_resent", "We sent a new code");
}

/* ------------------------------------------------------------------- sweep */

int account_sweep(souk_ctx *ctx)
{
    const souk_host_api *api = auth_api;
    int64_t now = api->now_ms(ctx);
    sqlite3_stmt *st = api->db_prepare(
        ctx, "SELECT c.account_id, c.new_phone FROM auth_phone_change c"
             " JOIN auth_account a ON a.id = c.account_id"
             " WHERE c.due_at IS NOT NULL AND c.due_at <= ?1 AND c.new_confirmed_at IS NOT NULL"
             "   AND a.deleted_at IS NULL ORDER BY c.due_at LIMIT ?2");
    if (!st)
        return SOUK_ERR;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int(st, 2, SWEEP_BATCH);
    int64_t ids[SWEEP_BATCH];
    const char *phones[SWEEP_BATCH];
    int n = 0;
    /* Read first, change after: the rows being read are the ones deleted. */
    while (n < SWEEP_BATCH && sqlite3_step(st) == SQLITE_ROW) {
        ids[n] = sqlite3_column_int64(st, 0);
        phones[n] = api->dup(ctx, (const char *)sqlite3_column_text(st, 1));
        n++;
    }
    sqlite3_reset(st);
    for (int i = 0; i < n; i++) {
        account_row row;
        if (account_row_load(ctx, ids[i], &row) != SOUK_OK)
            continue;
        int taken = 0;
        if (phone_complete(ctx, &row, phones[i], &taken) == SOUK_OK) {
            /* A notice that cannot be queued (a template missing) must not hold
             * the change back for ever: it is logged (notice_both). */
            phone_notice(ctx, &row, phones[i], ACCOUNT_MSG_PHONE_COMPLETED, NULL);
            api->log(auth_self, SOUK_LOG_INFO, "account %lld: phone change completed",
                     (long long)ids[i]);
            continue;
        }
        if (!taken)
            return SOUK_ERR;
        /* The number went to someone else while we waited: the change cannot
         * happen; the shopper hears why. */
        if (change_drop(ctx, ids[i]) != SOUK_OK)
            return SOUK_ERR;
        phone_notice(ctx, &row, phones[i], ACCOUNT_MSG_PHONE_FAILED, NULL);
        api->log(auth_self, SOUK_LOG_INFO,
                 "account %lld: phone change failed: the number belongs to another account",
                 (long long)ids[i]);
    }
    /* Expired codes, counters and sessions (the sign-in half knows how long
     * each must be kept). */
    return auth_signin_purge(ctx);
}

/* The sweep runs in every worker on a timer; the job's write transaction makes
 * two workers' sweeps take turns, and a change completed by one is gone for the
 * other. */
static uv_timer_t sweep_timer;
static int sweep_running;

static int sweep_job(souk_ctx *ctx, void *udata) { return account_sweep(ctx); }

static void on_sweep_timer(uv_timer_t *t) { auth_api->job_run(auth_self, 1, sweep_job, NULL); }

static int sweep_start(souk_plugin *self, void *loop, void *udata)
{
    int rc = uv_timer_init(loop, &sweep_timer);
    if (rc == 0)
        rc = uv_timer_start(&sweep_timer, on_sweep_timer, (uint64_t)auth_cfg.sweep_ms,
                            (uint64_t)auth_cfg.sweep_ms);
    if (rc != 0) {
        auth_api->log(self, SOUK_LOG_ERROR, "cannot start the sweep timer: %s", uv_strerror(rc));
        return SOUK_ERR;
    }
    sweep_running = 1;
    return SOUK_OK;
}

static void sweep_stop(souk_plugin *self, void *loop, void *udata)
{
    if (!sweep_running)
        return;
    uv_timer_stop(&sweep_timer);
    uv_close((uv_handle_t *)&sweep_timer, NULL);
    sweep_running = 0;
}

/* ------------------------------------------------------------------ routes */

static const souk_route routes[] = {
    {"GET", "/account/contacts", h_contacts_show, "account_contacts", SOUK_ROUTE_AUTH, NULL},
    {"POST", "/account/email", h_email_start, "account_contacts", SOUK_ROUTE_AUTH, NULL},
    {"POST", "/account/email/verify", h_email_verify, "account_contacts", SOUK_ROUTE_AUTH, NULL},
    {"POST", "/account/phone", h_phone_start, "account_contacts", SOUK_ROUTE_AUTH, NULL},
    {"POST", "/account/phone/verify", h_phone_verify, "account_contacts", SOUK_ROUTE_AUTH, NULL},
    {"POST", "/account/phone/lost", h_phone_lost, "account_contacts", SOUK_ROUTE_AUTH, NULL},
    {"DELETE", "/account/phone/change", h_phone_cancel, "account_contacts", SOUK_ROUTE_AUTH,
     NULL},
    {"POST", "/account/code/resend", h_code_resend, "account_contacts", SOUK_ROUTE_AUTH, NULL},
    {"POST", "/api/v1/account/email", h_email_start, NULL, SOUK_ROUTE_AUTH, NULL},
    {"POST", "/api/v1/account/email/verify", h_email_verify, NULL, SOUK_ROUTE_AUTH, NULL},
    {"POST", "/api/v1/account/phone", h_phone_start, NULL, SOUK_ROUTE_AUTH, NULL},
    {"POST", "/api/v1/account/phone/verify", h_phone_verify, NULL, SOUK_ROUTE_AUTH, NULL},
    {"POST", "/api/v1/account/phone/lost", h_phone_lost, NULL, SOUK_ROUTE_AUTH, NULL},
    {"DELETE", "/api/v1/account/phone/change", h_phone_cancel, NULL, SOUK_ROUTE_AUTH, NULL},
    {"POST", "/api/v1/account/code/resend", h_code_resend, NULL, SOUK_ROUTE_AUTH, NULL},
};

int auth_contacts_init(souk_plugin *self, const souk_host_api *api)
{
    if (AUTH_ROUTES_ADD(self, api, routes) != SOUK_OK)
        return SOUK_ERR;
    return api->worker_hooks(self, sweep_start, sweep_stop, NULL);
}
