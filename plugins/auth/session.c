/* session.c -- sessions: start (with rotation), resolve, touch, end, list.
 *
 * A session is a 256-bit random token held by the client (the session cookie, or
 * "Authorization: Bearer <token>" for the API) and a row of auth_session keyed by
 * the token's keyed hash: a copy of the database gives no usable token.  A
 * session ends after session_idle_ms without use or session_absolute_ms after
 * sign-in, whichever comes first; the row is then refused at once and purged
 * later.  Every sign-in makes a new token and ends the session the request came
 * with, so a token planted before sign-in (session fixation) is worth nothing.
 *
 * last_seen_at is written at most every touch_ms, and never inside the request's
 * own transaction (a GET must not write): after the request, by a small write
 * job (api->on_done, api->job_run). */
#include "signin_internal.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define UA_MAX 512 /* bytes of User-Agent kept */
#define IP_MAX 64  /* bytes of an address kept */
#define COOKIE_MAX_AGE_MAX 0x7fffffff

const char *auth_session_cookie(souk_ctx *ctx)
{
    json_t *site = auth_api->site(auth_self);
    return json_is_true(json_object_get(site, "https")) ? AUTH_SESSION_COOKIE_SECURE
                                                        : AUTH_SESSION_COOKIE;
}

static int is_token(const char *s) { return auth_is_hex(s, AUTH_TOKEN_HEX); }

/* The token the request carries: a Bearer header decides alone when present (a
 * client that sends one means it), else the cookie.  NULL when none or when it
 * is not a well-formed token. */
static const char *request_token(souk_ctx *ctx)
{
    const souk_host_api *api = auth_api;
    const char *authz = api->req_header(ctx, "Authorization");
    if (authz) {
        if (strncasecmp(authz, "Bearer ", 7) != 0)
            return NULL;
        const char *t = authz + 7;
        while (*t == ' ')
            t++;
        return is_token(t) ? t : NULL;
    }
    const char *c = api->req_cookie(ctx, auth_session_cookie(ctx));
    return is_token(c) ? c : NULL;
}

static void token_hash(const char *token, char out[AUTH_HASH_HEX + 1])
{
    auth_api->keyed_hash(AUTH_HASH_SESSION, token, AUTH_TOKEN_HEX, out);
}

static int live(souk_ctx *ctx, int64_t created_at, int64_t last_seen_at)
{
    int64_t now = auth_api->now_ms(ctx);
    return now - last_seen_at < auth_cfg.session_idle_ms &&
           now - created_at < auth_cfg.session_absolute_ms;
}

int auth_session_lookup(souk_ctx *ctx, auth_session_info *out)
{
    const souk_host_api *api = auth_api;
    memset(out, 0, sizeof *out);
    const char *token = request_token(ctx);
    if (!token)
        return 0;
    char hash[AUTH_HASH_HEX + 1];
    token_hash(token, hash);
    sqlite3_stmt *st = api->db_prepare(
        ctx, "SELECT s.id, s.account_id, s.created_at, s.last_seen_at FROM auth_session s"
             " JOIN auth_account a ON a.id = s.account_id"
             " WHERE s.token_hash = ?1 AND a.deleted_at IS NULL");
    if (!st)
        return 0;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_ROW)
        return 0;
    auth_session_info s = {sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
                           sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3)};
    if (!live(ctx, s.created_at, s.last_seen_at))
        return 0;
    *out = s;
    return 1;
}

int64_t auth_session_resolve(souk_ctx *ctx, int64_t *account_id)
{
    auth_session_info s;
    int found = auth_session_lookup(ctx, &s);
    if (account_id)
        *account_id = found ? s.account_id : 0;
    return found ? s.id : 0;
}

/* Delete the row of the request's token, live or not.  SOUK_OK or SOUK_ERR. */
static int end_request_session(souk_ctx *ctx)
{
    const char *token = request_token(ctx);
    if (!token)
        return SOUK_OK;
    char hash[AUTH_HASH_HEX + 1];
    token_hash(token, hash);
    sqlite3_stmt *st = auth_api->db_prepare(ctx, "DELETE FROM auth_session WHERE token_hash = ?1");
    if (!st)
        return SOUK_ERR;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_TRANSIENT);
    return sqlite3_step(st) == SQLITE_DONE ? SOUK_OK : SOUK_ERR;
}

/* Printable ASCII of s, at most max bytes (arena): what we keep of headers. */
static const char *printable(souk_ctx *ctx, const char *s, size_t max)
{
    if (!s)
        return NULL;
    size_t n = strlen(s);
    if (n > max)
        n = max;
    char *out = auth_api->alloc(ctx, n + 1);
    for (size_t i = 0; i < n; i++)
        out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    out[n] = '\0';
    return out;
}

int auth_session_start(souk_ctx *ctx, int64_t account_id, const char **token)
{
    const souk_host_api *api = auth_api;
    if (end_request_session(ctx) != SOUK_OK)
        return SOUK_ERR;
    char *tok = api->alloc(ctx, AUTH_TOKEN_HEX + 1), hash[AUTH_HASH_HEX + 1];
    api->random_hex(tok, AUTH_TOKEN_BYTES);
    token_hash(tok, hash);
    int64_t now = api->now_ms(ctx);
    sqlite3_stmt *st = api->db_prepare(
        ctx, "INSERT INTO auth_session(account_id, token_hash, created_at, last_seen_at, ip,"
             " user_agent) VALUES(?1, ?2, ?3, ?3, ?4, ?5)");
    if (!st)
        return SOUK_ERR;
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_text(st, 2, hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, now);
    sqlite3_bind_text(st, 4, printable(ctx, api->req_ip(ctx), IP_MAX), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, printable(ctx, api->req_header(ctx, "User-Agent"), UA_MAX), -1,
                      SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        return SOUK_ERR;
    /* A persistent cookie (it survives closing the browser) that lives as long as
     * the session can; the server ends it earlier when it sits idle. */
    int64_t age = auth_cfg.session_absolute_ms / AUTH_SECOND_MS;
    souk_cookie c = {age > COOKIE_MAX_AGE_MAX ? COOKIE_MAX_AGE_MAX : (int)age, 1, "Lax", "/"};
    if (api->req_method(ctx))
        api->res_cookie(ctx, auth_session_cookie(ctx), tok, &c);
    if (token)
        *token = tok;
    return SOUK_OK;
}

int auth_session_end(souk_ctx *ctx)
{
    const souk_host_api *api = auth_api;
    if (end_request_session(ctx) != SOUK_OK)
        return SOUK_ERR;
    if (api->req_cookie(ctx, auth_session_cookie(ctx))) {
        souk_cookie gone = {-1, 1, "Lax", "/"};
        api->res_cookie(ctx, auth_session_cookie(ctx), "", &gone);
    }
    return SOUK_OK;
}

/* A DELETE of sessions (?1 the account, ?2 a session id): how many rows went, -1
 * on an error. */
static int sessions_delete(souk_ctx *ctx, const char *sql, int64_t account_id, int64_t id)
{
    sqlite3_stmt *st = auth_api->db_prepare(ctx, sql);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_int64(st, 2, id);
    if (sqlite3_step(st) != SQLITE_DONE)
        return -1;
    return sqlite3_changes(auth_api->db(ctx));
}

int auth_session_end_all(souk_ctx *ctx, int64_t account_id, int64_t keep)
{
    return sessions_delete(ctx, "DELETE FROM auth_session WHERE account_id = ?1 AND id != ?2",
                           account_id, keep);
}

int auth_session_end_one(souk_ctx *ctx, int64_t account_id, int64_t session_id)
{
    int n = sessions_delete(ctx, "DELETE FROM auth_session WHERE account_id = ?1 AND id = ?2",
                            account_id, session_id);
    return n < 0 ? -1 : n > 0;
}

/* ------------------------------------------------------------------ touch */

typedef struct touch {
    int64_t id;
} touch;

static int touch_job(souk_ctx *ctx, void *udata)
{
    const touch *t = udata;
    int64_t now = auth_api->now_ms(ctx);
    /* The condition keeps two workers (or two quick requests) from both
     * writing; a session ended meanwhile simply has no row. */
    sqlite3_stmt *st = auth_api->db_prepare(
        ctx, "UPDATE auth_session SET last_seen_at = ?2 WHERE id = ?1 AND last_seen_at <= ?3");
    if (!st)
        return SOUK_ERR;
    sqlite3_bind_int64(st, 1, t->id);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_int64(st, 3, now - auth_cfg.touch_ms);
    return sqlite3_step(st) == SQLITE_DONE ? SOUK_OK : SOUK_ERR;
}

static void touch_done(souk_ctx *ctx, int committed, void *udata)
{
    /* A failed touch only makes last-seen a little older: logged by job_run. */
    auth_api->job_run(auth_self, 1, touch_job, udata);
}

void auth_session_touch_later(souk_ctx *ctx, const auth_session_info *s)
{
    const souk_host_api *api = auth_api;
    if (api->now_ms(ctx) - s->last_seen_at < auth_cfg.touch_ms || !api->req_method(ctx))
        return;
    touch *t = api->alloc(ctx, sizeof *t); /* lives until the ctx ends, after on_done */
    t->id = s->id;
    api->on_done(ctx, touch_done, t);
}

/* ------------------------------------------------------------------- list */

const char *auth_device_summary(souk_ctx *ctx, const char *ua)
{
    if (!ua || !*ua)
        return NULL;
    /* Order matters: Edge, Opera and Yandex also say "Chrome", Chrome says
     * "Safari", iPhones say "Mac OS X" and Android says "Linux". */
    static const struct {
        const char *needle, *name;
    } browsers[] = {
        {"YaBrowser/", "Yandex Browser"},
        {"Edg/", "Edge"},
        {"Edge/", "Edge"},
        {"OPR/", "Opera"},
        {"Opera", "Opera"},
        {"SamsungBrowser/", "Samsung Internet"},
        {"Firefox/", "Firefox"},
        {"FxiOS/", "Firefox"},
        {"CriOS/", "Chrome"},
        {"Chrome/", "Chrome"},
        {"Chromium/", "Chromium"},
        {"Safari/", "Safari"},
        {"curl/", "curl"},
        {"python", "Python"},
        {"Python", "Python"},
    };
    static const struct {
        const char *needle, *name;
    } systems[] = {
        {"iPhone", "iPhone"},   {"iPad", "iPad"},     {"Android", "Android"},
        {"Windows", "Windows"}, {"CrOS", "ChromeOS"}, {"Macintosh", "macOS"},
        {"Mac OS X", "macOS"},  {"Linux", "Linux"},
    };
    const char *b = NULL, *o = NULL;
    for (size_t i = 0; !b && i < sizeof browsers / sizeof *browsers; i++)
        if (strstr(ua, browsers[i].needle))
            b = browsers[i].name;
    for (size_t i = 0; !o && i < sizeof systems / sizeof *systems; i++)
        if (strstr(ua, systems[i].needle))
            o = systems[i].name;
    if (b && o)
        return auth_api->format(ctx, "%s, %s", b, o);
    return b ? b : o;
}

/* "2026-11-01 12:34 UTC" and "2026-11-01T12:34:56Z" for a time in ms (arena). */
static const char *time_text(souk_ctx *ctx, int64_t ms, int iso)
{
    time_t t = (time_t)(ms / AUTH_SECOND_MS);
    struct tm tm;
    char buf[40];
    gmtime_r(&t, &tm);
    strftime(buf, sizeof buf, iso ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d %H:%M UTC", &tm);
    return auth_api->dup(ctx, buf);
}

json_t *auth_session_list(souk_ctx *ctx, int64_t account_id, int64_t current)
{
    const souk_host_api *api = auth_api;
    int64_t now = api->now_ms(ctx);
    json_t *list = json_array();
    sqlite3_stmt *st =
        api->db_prepare(ctx, "SELECT id, created_at, last_seen_at, ip, user_agent FROM auth_session"
                             " WHERE account_id = ?1 AND last_seen_at > ?2 AND created_at > ?3"
                             " ORDER BY id = ?4 DESC, last_seen_at DESC, id DESC");
    if (!st)
        return list;
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_int64(st, 2, now - auth_cfg.session_idle_ms);
    sqlite3_bind_int64(st, 3, now - auth_cfg.session_absolute_ms);
    sqlite3_bind_int64(st, 4, current);
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0), created = sqlite3_column_int64(st, 1),
                seen = sqlite3_column_int64(st, 2);
        const char *ip = (const char *)sqlite3_column_text(st, 3);
        const char *ua = (const char *)sqlite3_column_text(st, 4);
        const char *device = auth_device_summary(ctx, ua);
        json_array_append_new(
            list,
            json_pack("{s:I, s:o, s:o, s:o, s:I, s:I, s:s, s:s, s:s, s:b}", "id", (json_int_t)id,
                      "device", device ? json_string(device) : json_null(), "user_agent",
                      ua ? json_string(ua) : json_null(), "ip", ip ? json_string(ip) : json_null(),
                      "created_at", (json_int_t)created, "last_seen_at", (json_int_t)seen,
                      "created", time_text(ctx, created, 0), "last_seen", time_text(ctx, seen, 0),
                      "last_seen_iso", time_text(ctx, seen, 1), "current", id == current));
    }
    return list;
}
