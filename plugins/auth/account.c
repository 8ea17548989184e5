/* account.c -- the account overview and the profile (name, birth date, the
 * language of messages), and the helpers the account half shares
 * (account_internal.h).
 *
 *   GET   /account, /api/v1/account        overview
 *         {"account", "level", "limited": {"missing_name", "missing_email",
 *          "finish_url"} (absent when secured), "referral": {"code", "url"},
 *          "phone_change" (or null)}
 *   GET   /account/profile                 {"account", "limited", "locales"}
 *   POST  /account/profile (form), PATCH /api/v1/account/profile
 *         {"name"?, "birth_date"? ("YYYY-MM-DD"; "" or null clears it),
 *          "locale"?}  ->  {"account"}
 *
 * A birth date must be a real calendar date in the past that makes the shopper
 * between ACCOUNT_AGE_MIN and ACCOUNT_AGE_MAX years old. */
#include "account_internal.h"
#include "signin_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ACCOUNT_AGE_MIN 14   /* years: younger shoppers need a parent's account */
#define ACCOUNT_AGE_MAX 120  /* years: anything older is a typing mistake */
#define ACCOUNT_MESSAGES "account_messages"      /* template: translated texts */
#define ACCOUNT_LANGUAGE_NAME "account_language_name" /* template: t.language_name */
#define MS_PER_S 1000

/* ------------------------------------------------------------ shared helpers */

int64_t account_current(souk_ctx *ctx) { return auth_current_account(ctx); }

static const char *col_text(souk_ctx *ctx, sqlite3_stmt *st, int i)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    return s && *s ? auth_api->dup(ctx, (const char *)s) : NULL;
}

int account_missing(souk_ctx *ctx)
{
    return auth_api->res_error(ctx, 404, "account_unknown", "this account does not exist", NULL);
}

int account_load_current(souk_ctx *ctx, account_row *row)
{
    if (account_row_load(ctx, account_current(ctx), row) != SOUK_OK)
        return account_missing(ctx);
    return SOUK_OK;
}

int account_show(souk_ctx *ctx, account_fill_fn fill)
{
    if (fill(ctx, account_current(ctx)) != SOUK_OK)
        return account_missing(ctx);
    return SOUK_OK;
}

int account_row_load(souk_ctx *ctx, int64_t id, account_row *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = auth_row_by_id(
        ctx, "SELECT phone, email, name, birth_date, locale, referral_code, created_at"
             " FROM auth_account WHERE id = ?1 AND deleted_at IS NULL", id);
    if (!st)
        return SOUK_ERR;
    out->id = id;
    out->phone = col_text(ctx, st, 0);
    out->email = col_text(ctx, st, 1);
    out->name = col_text(ctx, st, 2);
    out->birth_date = col_text(ctx, st, 3);
    out->locale = col_text(ctx, st, 4);
    out->referral_code = col_text(ctx, st, 5);
    out->created_at = sqlite3_column_int64(st, 6);
    /* Done with the row: the cached statement serves the next call (a loop over
     * many accounts would otherwise prepare one statement each). */
    sqlite3_reset(st);
    return SOUK_OK;
}

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

json_t *account_row_json(souk_ctx *ctx, const account_row *row)
{
    int level = auth_account_level(ctx, row->id);
    /* The identity object's keys (auth.h), and what the profile adds. */
    return json_pack("{s:I, s:o, s:o, s:o, s:o, s:s, s:o, s:I, s:s, s:b, s:b}", "id",
                     (json_int_t)row->id, "name", str_or_null(row->name), "birth_date",
                     str_or_null(row->birth_date), "phone", str_or_null(row->phone), "email",
                     str_or_null(row->email), "locale", row->locale ? row->locale : "ru",
                     "referral_code", str_or_null(row->referral_code), "created_at",
                     (json_int_t)row->created_at, "level",
                     level == AUTH_SECURED ? "secured" : "limited", "secured",
                     level == AUTH_SECURED, "member", 1);
}

json_t *account_view_row(souk_ctx *ctx, int64_t id, account_row *row)
{
    if (account_row_load(ctx, id, row) != SOUK_OK)
        return NULL;
    json_t *acct = account_row_json(ctx, row);
    json_object_set_new(auth_api->view(ctx), "account", acct);
    return acct;
}

const char *account_time_text(souk_ctx *ctx, int64_t ms)
{
    time_t s = (time_t)(ms / MS_PER_S);
    struct tm tm;
    char buf[64];
    if (!gmtime_r(&s, &tm) || !strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm))
        return "";
    return auth_api->dup(ctx, buf);
}

static json_t *ms_or_null(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? json_null()
                                                     : json_integer(sqlite3_column_int64(st, i));
}

json_t *account_phone_change_json(souk_ctx *ctx, int64_t account_id)
{
    sqlite3_stmt *st = auth_row_by_id(
        ctx, "SELECT new_phone, new_confirmed_at, old_confirmed_at, due_at, created_at"
             " FROM auth_phone_change WHERE account_id = ?1", account_id);
    if (!st)
        return NULL;
    int waiting = sqlite3_column_type(st, 3) != SQLITE_NULL;
    int64_t due = sqlite3_column_int64(st, 3);
    const int64_t day_ms = 24 * AUTH_HOUR_MS;
    json_t *out = json_pack("{s:s, s:b, s:b, s:b, s:o, s:o, s:I, s:I}", "new_phone",
                     (const char *)sqlite3_column_text(st, 0), "new_confirmed",
                     sqlite3_column_type(st, 1) != SQLITE_NULL, "old_confirmed",
                     sqlite3_column_type(st, 2) != SQLITE_NULL, "waiting", waiting, "due_at",
                     ms_or_null(st, 3), "due_text",
                     waiting ? json_string(account_time_text(ctx, due)) : json_null(),
                     "created_at", (json_int_t)sqlite3_column_int64(st, 4), "wait_days",
                     (json_int_t)((auth_cfg.phone_change_wait_ms + day_ms - 1) / day_ms));
    sqlite3_reset(st);
    return out;
}

int account_view_phone_change(souk_ctx *ctx, int64_t account_id)
{
    json_t *change = account_phone_change_json(ctx, account_id);
    json_object_set_new(auth_api->view(ctx), "phone_change", change ? change : json_null());
    return change != NULL;
}

int account_challenge_mine(souk_ctx *ctx, const char *public_id, const char *purpose,
                           int64_t account_id, auth_challenge *c, json_t **data, auth_fail *f)
{
    auth_fail dummy;
    if (!f)
        f = &dummy;
    if (data)
        *data = NULL;
    if (!public_id || !*public_id) {
        auth_failf(f, 422, "challenge_required", "challenge", "the challenge is missing");
        return SOUK_ERR;
    }
    if (auth_challenge_get(ctx, public_id, purpose, c, f) != SOUK_OK)
        return SOUK_ERR;
    if (c->account_id != account_id) {
        json_decref(c->data);
        c->data = NULL;
        auth_failf(f, 404, "challenge_unknown", "challenge", "this code request is unknown");
        return SOUK_ERR;
    }
    if (data)
        *data = c->data;
    else
        json_decref(c->data);
    c->data = NULL;
    return SOUK_OK;
}

json_t *account_challenge_json(souk_ctx *ctx, const auth_challenge *c)
{
    /* The sign-in half's shape, so that every code of the plugin reads alike. */
    auth_challenge_state s;
    memset(&s, 0, sizeof s);
    s.c = *c;
    s.c.data = NULL;
    s.deliver = 1;
    s.expired = auth_api->now_ms(ctx) >= c->expires_at;
    return auth_challenge_json(ctx, &s);
}

/* Renders template name in locale with data; the text trimmed (arena), or NULL. */
static const char *render_text(souk_ctx *ctx, const char *name, const char *locale,
                               json_t *data)
{
    if (!auth_api->template_exists(ctx, name))
        return NULL;
    const char *error = NULL;
    const char *text = auth_api->render(ctx, name, locale, data, &error);
    if (!text) {
        auth_api->log(auth_self, SOUK_LOG_WARN, "template %s: %s", name,
                      error ? error : "cannot render");
        return NULL;
    }
    return auth_trimmed(ctx, text);
}

const char *account_say(souk_ctx *ctx, const char *group, const char *key,
                        const char *fallback, json_t *extra)
{
    json_t *data = extra ? json_deep_copy(extra) : json_object();
    json_object_set_new(data, group, json_pack("{s:b}", key ? key : "", 1));
    const char *text = render_text(ctx, ACCOUNT_MESSAGES, auth_api->req_locale(ctx), data);
    json_decref(data);
    return text ? text : fallback;
}

/* The form as entered, for the page shown again (never the code or the token). */
static json_t *input_echo(souk_ctx *ctx)
{
    json_t *in = json_deep_copy(auth_api->req_input(ctx));
    if (!json_is_object(in)) {
        json_decref(in);
        return json_object();
    }
    json_object_del(in, "_csrf");
    json_object_del(in, "code");
    return in;
}

int account_fail(souk_ctx *ctx, const auth_fail *f, account_fill_fn fill)
{
    const souk_host_api *api = auth_api;
    int page = !api->req_wants_json(ctx);
    int64_t id = account_current(ctx);
    if (page && fill && id)
        fill(ctx, id);
    auth_respond_fail(ctx, f);
    if (!page)
        return SOUK_ERR;
    json_object_set_new(api->view(ctx), "input", input_echo(ctx));
    json_t *error = json_object_get(api->view(ctx), "error");
    if (json_is_object(error) && f->code) {
        json_t *extra = json_object();
        if (f->tries_left >= 0)
            json_object_set_new(extra, "tries_left", json_integer(f->tries_left));
        if (f->retry_after_ms > 0)
            json_object_set_new(extra, "retry_after_s",
                                json_integer(auth_ceil_seconds(f->retry_after_ms)));
        /* auth_respond_fail put the sign-in half's translation there (codes of
         * challenges); texts of the account's own codes replace it. */
        const char *have = json_string_value(json_object_get(error, "message"));
        const char *msg = account_say(ctx, "errors", f->code, have ? have : f->message, extra);
        json_decref(extra);
        json_object_set_new(error, "message", json_string(msg));
    }
    /* Mustache cannot compare: the page learns which field and which code form
     * failed through flags ("invalid": {"<field>": true}; "failed" on the
     * challenge object whose form was posted). */
    json_t *view = api->view(ctx);
    if (f->field)
        json_object_set_new(view, "invalid", json_pack("{s:b}", f->field, 1));
    const char *cid = json_string_value(json_object_get(api->req_input(ctx), "challenge"));
    const char *key;
    json_t *v;
    json_object_foreach(view, key, v) {
        const char *vid = json_string_value(json_object_get(v, "id"));
        if (cid && vid && json_is_object(v) && strcmp(cid, vid) == 0)
            json_object_set_new(v, "failed", json_true());
    }
    return SOUK_ERR;
}

int account_error(souk_ctx *ctx, int status, const char *code, const char *field,
                  const char *message, account_fill_fn fill)
{
    auth_fail f;
    auth_failf(&f, status, code, field, message);
    return account_fail(ctx, &f, fill);
}

int account_done(souk_ctx *ctx, const char *location, const char *flash_key,
                 const char *flash_fallback)
{
    const souk_host_api *api = auth_api;
    if (api->req_wants_json(ctx))
        return SOUK_OK;
    if (flash_key)
        api->res_flash(ctx, "success", account_say(ctx, "flash", flash_key, flash_fallback, NULL));
    if (api->res_redirect(ctx, 303, location) != SOUK_OK)
        return api->res_error(ctx, 500, "internal", "cannot redirect", NULL);
    return SOUK_OK;
}

/* One notice to one address; to == NULL sends nothing. */
static int notice_to(souk_ctx *ctx, const char *channel, const char *to, const char *message,
                     const char *locale, json_t *data, const char **error)
{
    if (!to || !*to)
        return SOUK_OK;
    notify_message m = {channel, to, message, locale, data, NULL, NULL};
    return auth_notify->queue(ctx, &m, NULL, error);
}

int account_notice_both(souk_ctx *ctx, const account_row *row, const char *message, json_t *data)
{
    const char *error = NULL;
    if (notice_to(ctx, NOTIFY_EMAIL, row->email, message, row->locale, data, &error) != SOUK_OK ||
        notice_to(ctx, NOTIFY_SMS, row->phone, message, row->locale, data, &error) != SOUK_OK) {
        auth_api->log(auth_self, SOUK_LOG_ERROR, "account %lld: notice %s: %s",
                      (long long)row->id, message, error ? error : "cannot queue");
        return SOUK_ERR;
    }
    return SOUK_OK;
}

/* ------------------------------------------------------------------ overview */

const char *account_site_url(void)
{
    const char *url = json_string_value(json_object_get(auth_api->site(auth_self), "url"));
    return url ? url : "";
}

static int overview_fill(souk_ctx *ctx, int64_t id)
{
    account_row row;
    json_t *acct = account_view_row(ctx, id, &row);
    if (!acct)
        return SOUK_ERR;
    json_t *view = auth_api->view(ctx);
    json_object_set(view, "level", json_object_get(acct, "level"));
    if (!json_is_true(json_object_get(acct, "secured")))
        json_object_set_new(view, "limited",
                            json_pack("{s:b, s:b, s:s}", "missing_name", !row.name,
                                      "missing_email", !row.email, "finish_url",
                                      ACCOUNT_FINISH_URL));
    if (row.referral_code)
        json_object_set_new(view, "referral",
                            json_pack("{s:s, s:s++}", "code", row.referral_code, "url",
                                      account_site_url(), "/?ref=", row.referral_code));
    account_view_phone_change(ctx, id);
    return SOUK_OK;
}

static int h_overview(souk_ctx *ctx) { return account_show(ctx, overview_fill); }

/* ------------------------------------------------------------------- profile */

/* The store's languages for the select: [{"code", "name", "selected"}]. */
static json_t *locale_options(souk_ctx *ctx, const char *current)
{
    json_t *list = json_array(), *l;
    size_t i;
    json_array_foreach(json_object_get(auth_api->site(auth_self), "locales"), i, l) {
        const char *code = json_string_value(l);
        if (!code)
            continue;
        const char *name = render_text(ctx, ACCOUNT_LANGUAGE_NAME, code, NULL);
        json_array_append_new(list, json_pack("{s:s, s:s, s:b}", "code", code, "name",
                                              name ? name : code, "selected",
                                              current && strcmp(current, code) == 0));
    }
    return list;
}

static int profile_fill(souk_ctx *ctx, int64_t id)
{
    if (overview_fill(ctx, id) != SOUK_OK)
        return SOUK_ERR;
    json_t *acct = json_object_get(auth_api->view(ctx), "account");
    json_object_set_new(auth_api->view(ctx), "locales",
                        locale_options(ctx, json_string_value(json_object_get(acct, "locale"))));
    return SOUK_OK;
}

static int h_profile_show(souk_ctx *ctx) { return account_show(ctx, profile_fill); }

/* A name: trimmed, 1..ACCOUNT_NAME_MAX characters, no control characters.
 * Returns the arena copy or NULL with *code and *message set. */
static const char *check_name(souk_ctx *ctx, const char *in, const char **code,
                              const char **message)
{
    const char *name = auth_trimmed(ctx, in);
    if (!name) {
        *code = "name_required";
        *message = "enter your name";
        return NULL;
    }
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f) {
            *code = "name_invalid";
            *message = "the name has characters that cannot be part of a name";
            return NULL;
        }
    if (auth_utf8_chars(name) > ACCOUNT_NAME_MAX) {
        *code = "name_too_long";
        *message = "the name is too long (at most 100 characters)";
        return NULL;
    }
    return name;
}

static int is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* "YYYY-MM-DD": a real date, in the past, giving a sane age today (now_ms, UTC).
 * SOUK_OK, or SOUK_ERR with *code and *message. */
static int check_birth_date(const char *s, int64_t now_ms, const char **code,
                            const char **message)
{
    static const char shape[] = "dddd-dd-dd";
    int ok = strlen(s) == sizeof shape - 1;
    for (size_t i = 0; ok && i < sizeof shape - 1; i++)
        ok = shape[i] == 'd' ? isdigit((unsigned char)s[i]) != 0 : s[i] == shape[i];
    int y = ok ? atoi(s) : 0, m = ok ? atoi(s + 5) : 0, d = ok ? atoi(s + 8) : 0;
    if (!ok || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) {
        *code = "birth_date_invalid";
        *message = "enter the birth date as a real date, YYYY-MM-DD";
        return SOUK_ERR;
    }
    time_t now = (time_t)(now_ms / MS_PER_S);
    struct tm t;
    gmtime_r(&now, &t);
    int ny = t.tm_year + 1900, nm = t.tm_mon + 1, nd = t.tm_mday;
    if (y > ny || (y == ny && (m > nm || (m == nm && d >= nd)))) {
        *code = "birth_date_future";
        *message = "the birth date must be in the past";
        return SOUK_ERR;
    }
    int age = ny - y - ((nm < m || (nm == m && nd < d)) ? 1 : 0);
    if (age < ACCOUNT_AGE_MIN || age > ACCOUNT_AGE_MAX) {
        *code = "birth_date_age";
        *message = age < ACCOUNT_AGE_MIN ? "the shop serves customers from 14 years of age"
                                         : "check the year of the birth date";
        return SOUK_ERR;
    }
    return SOUK_OK;
}

static int is_site_locale(const char *code)
{
    json_t *l;
    size_t i;
    json_array_foreach(json_object_get(auth_api->site(auth_self), "locales"), i, l)
        if (json_is_string(l) && strcmp(json_string_value(l), code) == 0)
            return 1;
    return 0;
}

static int h_profile_save(souk_ctx *ctx)
{
    const souk_host_api *api = auth_api;
    account_row row;
    if (account_load_current(ctx, &row) != SOUK_OK)
        return SOUK_ERR;
    int64_t id = row.id;
    json_t *in = api->req_input(ctx);
    const char *name = row.name, *birth = row.birth_date, *locale = row.locale;
    const char *code = NULL, *message = NULL;

    json_t *v = json_object_get(in, "name");
    if (v) {
        if (!json_is_string(v))
            return account_error(ctx, 422, "name_required", "name", "enter your name",
                                 profile_fill);
        if (!(name = check_name(ctx, json_string_value(v), &code, &message)))
            return account_error(ctx, 422, code, "name", message, profile_fill);
    }
    v = json_object_get(in, "birth_date");
    if (v) {
        if (json_is_null(v) || (json_is_string(v) && !*json_string_value(v)))
            birth = NULL;
        else if (!json_is_string(v) ||
                 check_birth_date(json_string_value(v), api->now_ms(ctx), &code, &message) !=
                     SOUK_OK)
            return account_error(ctx, 422, code ? code : "birth_date_invalid", "birth_date",
                                 message ? message : "enter the birth date as YYYY-MM-DD",
                                 profile_fill);
        else
            birth = json_string_value(v);
    }
    v = json_object_get(in, "locale");
    if (v) {
        if (!json_is_string(v) || !is_site_locale(json_string_value(v)))
            return account_error(ctx, 422, "locale_unknown", "locale",
                                 "choose one of the store's languages", profile_fill);
        locale = json_string_value(v);
    }

    int before = auth_account_level(ctx, id);
    sqlite3_stmt *st = api->db_prepare(
        ctx, "UPDATE auth_account SET name = ?1, birth_date = ?2, locale = ?3 WHERE id = ?4");
    if (!st)
        return api->res_error(ctx, 500, "db", "cannot save the profile", NULL);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, birth, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, locale ? locale : "ru", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, id);
    if (sqlite3_step(st) != SQLITE_DONE)
        return api->res_error(ctx, 500, "db", "cannot save the profile", NULL);
    int after = auth_account_level(ctx, id);
    if (!account_view_row(ctx, id, &row))
        return api->res_error(ctx, 500, "db", "cannot read the profile", NULL);
    if (before != AUTH_SECURED && after == AUTH_SECURED)
        return account_done(ctx, "/account", "account_secured",
                            "Your account is secured: every feature of the shop is open to you");
    return account_done(ctx, "/account/profile", "profile_saved", "Profile saved");
}

/* ------------------------------------------------------------------ routes */

static const souk_route routes[] = {
    {"GET", "/account", h_overview, "account_overview", SOUK_ROUTE_AUTH, NULL},
    {"GET", "/api/v1/account", h_overview, NULL, SOUK_ROUTE_AUTH, NULL},
    {"GET", "/account/profile", h_profile_show, "account_profile", SOUK_ROUTE_AUTH, NULL},
    {"POST", "/account/profile", h_profile_save, "account_profile", SOUK_ROUTE_AUTH, NULL},
    {"PATCH", "/api/v1/account/profile", h_profile_save, NULL, SOUK_ROUTE_AUTH, NULL},
};

int auth_account_init(souk_plugin *self, const souk_host_api *api)
{
    return AUTH_ROUTES_ADD(self, api, routes);
}
