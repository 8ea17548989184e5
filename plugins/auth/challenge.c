/* challenge.c -- one-time codes: issue, resend, check.
 *
 * A challenge is a row of auth_challenge: a public id (random, 128 bits, what
 * the client holds), the destination and purpose, and the keyed hash of
 * public_id || code.  The code itself is never stored; binding the hash to the
 * public id means a code is only good for the challenge it was sent for.
 *
 * Limits, all counted in the database (rate.c, this table):
 *   - a new code to a destination for a purpose not before resend_ms after the
 *     last one (resend_too_soon);
 *   - codes_per_destination per hour to one destination, codes_per_ip per hour
 *     from one client address (rate_limited);
 *   - code_tries wrong codes per challenge, then it is locked (code_locked);
 *   - checks_per_ip code checks per hour from one address (rate_limited);
 *   - failures_per_account wrong codes per hour against one account, across all
 *     of its challenges (too_many_failures); for a number that has no account
 *     yet, against the destination.
 * A wrong code is committed although the answer is 422 (commit_on_error):
 * otherwise the rollback would forget the try and the limits would count
 * nothing. */
#include "signin_internal.h"

#include <stdlib.h>
#include <string.h>

#define CHALLENGE_ID_BYTES (AUTH_CHALLENGE_ID_LEN / 2)
#define CODE_INPUT_MAX 32 /* characters of a typed code looked at */
#define MINUTE_MS (60 * AUTH_SECOND_MS)

_Static_assert(AUTH_CHALLENGE_ID_LEN % 2 == 0, "a public id is whole bytes of hex");

static const char *const purposes[] = {AUTH_P_SIGNIN, AUTH_P_EMAIL_VERIFY, AUTH_P_PHONE_NEW,
                                       AUTH_P_PHONE_OLD, AUTH_P_DELETE};

int auth_is_hex(const char *s, size_t len)
{
    if (!s || strlen(s) != len)
        return 0;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return 0;
    return 1;
}

static int valid_public_id(const char *s) { return auth_is_hex(s, AUTH_CHALLENGE_ID_LEN); }

static int64_t ceil_div(int64_t a, int64_t b)
{
    return a <= 0 ? 0 : (a + b - 1) / b;
}

/* The keyed hash of public_id || code into out (AUTH_HASH_HEX + 1). */
static void code_hash(const char *public_id, const char *code, char *out)
{
    char buf[AUTH_CHALLENGE_ID_LEN + CODE_INPUT_MAX + 1];
    size_t n = strlen(code);
    if (n > CODE_INPUT_MAX)
        n = CODE_INPUT_MAX;
    memcpy(buf, public_id, AUTH_CHALLENGE_ID_LEN);
    memcpy(buf + AUTH_CHALLENGE_ID_LEN, code, n);
    auth_api->keyed_hash(AUTH_HASH_CODE, buf, AUTH_CHALLENGE_ID_LEN + n, out);
}

static const char *col_text(souk_ctx *ctx, sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? auth_api->dup(ctx, (const char *)t) : NULL;
}

#define CHALLENGE_COLUMNS                                                                          \
    "id, public_id, purpose, channel, destination, coalesce(account_id, 0), data,"                 \
    " sent_at, expires_at, tries, verified_at, used_at, deliver, code_hash"

/* Fill s from a row of CHALLENGE_COLUMNS; *hash (arena) gets the code hash. */
static void challenge_from_row(souk_ctx *ctx, sqlite3_stmt *st, auth_challenge_state *s,
                               const char **hash)
{
    int64_t now = auth_api->now_ms(ctx);
    memset(s, 0, sizeof *s);
    auth_challenge *c = &s->c;
    c->id = sqlite3_column_int64(st, 0);
    const char *pid = (const char *)sqlite3_column_text(st, 1);
    strncpy(c->public_id, pid ? pid : "", AUTH_CHALLENGE_ID_LEN);
    c->purpose = col_text(ctx, st, 2);
    c->channel = col_text(ctx, st, 3);
    c->destination = col_text(ctx, st, 4);
    c->account_id = sqlite3_column_int64(st, 5);
    const char *data = (const char *)sqlite3_column_text(st, 6);
    c->data = data ? json_loads(data, 0, NULL) : NULL;
    int64_t sent_at = sqlite3_column_int64(st, 7);
    c->expires_at = sqlite3_column_int64(st, 8);
    c->resend_at = sent_at + auth_cfg.resend_ms;
    int tries = sqlite3_column_int(st, 9);
    c->tries_left = tries < auth_cfg.code_tries ? auth_cfg.code_tries - tries : 0;
    s->verified_at = sqlite3_column_type(st, 10) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 10);
    c->verified = s->verified_at != 0;
    s->used = sqlite3_column_type(st, 11) != SQLITE_NULL;
    s->deliver = sqlite3_column_int(st, 12);
    s->expired = now >= c->expires_at;
    s->locked = c->tries_left == 0;
    if (hash)
        *hash = col_text(ctx, st, 13);
}

static int load(souk_ctx *ctx, const char *public_id, const char *purpose,
                auth_challenge_state *out, const char **hash, auth_fail *f)
{
    memset(out, 0, sizeof *out);
    if (!valid_public_id(public_id))
        return auth_failf(f, 404, "challenge_unknown", "challenge",
                          "this code request is unknown; ask for a new code");
    sqlite3_stmt *st = auth_api->db_prepare(ctx, "SELECT " CHALLENGE_COLUMNS
                                                 " FROM auth_challenge WHERE public_id = ?1");
    if (!st)
        return auth_failf(f, 500, "internal", NULL, "the code cannot be read");
    sqlite3_bind_text(st, 1, public_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return auth_failf(f, 500, "internal", NULL, "the code cannot be read");
    if (rc == SQLITE_ROW)
        challenge_from_row(ctx, st, out, hash);
    if (rc == SQLITE_DONE || (purpose && strcmp(out->c.purpose, purpose) != 0)) {
        json_decref(out->c.data);
        memset(out, 0, sizeof *out);
        return auth_failf(f, 404, "challenge_unknown", "challenge",
                          "this code request is unknown; ask for a new code");
    }
    return SOUK_OK;
}

int auth_challenge_load(souk_ctx *ctx, const char *public_id, const char *purpose,
                        auth_challenge_state *out, auth_fail *f)
{
    return load(ctx, public_id, purpose, out, NULL, f);
}

json_t *auth_challenge_json(souk_ctx *ctx, const auth_challenge_state *s)
{
    const auth_challenge *c = &s->c;
    int64_t now = auth_api->now_ms(ctx);
    int sms = strcmp(c->channel, NOTIFY_SMS) == 0;
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:i, s:b, s:b, s:b, s:b, s:b}", "id", c->public_id,
                     "channel", c->channel, "destination",
                     sms ? auth_mask_phone(ctx, c->destination)
                         : auth_mask_email(ctx, c->destination),
                     "expires_in", (json_int_t)ceil_div(c->expires_at - now, AUTH_SECOND_MS),
                     "resend_in", (json_int_t)ceil_div(c->resend_at - now, AUTH_SECOND_MS),
                     "tries_left", c->tries_left, "expired", s->expired, "locked", s->locked,
                     "used", s->used || c->verified, "sms", sms, "email", !sms);
}

/* --------------------------------------------------------------- sending */

/* Refuse a new code to destination for purpose when one went there less than
 * resend_ms ago; then the hourly limits of the destination and the address. */
static int send_limits(souk_ctx *ctx, const char *purpose, const char *destination,
                       const char **dest_key, const char **ip_key, auth_fail *f)
{
    const souk_host_api *api = auth_api;
    int64_t now = api->now_ms(ctx);
    sqlite3_stmt *st = api->db_prepare(ctx, "SELECT max(sent_at) FROM auth_challenge"
                                            " WHERE destination = ?1 AND purpose = ?2");
    if (!st)
        return auth_failf(f, 500, "internal", NULL, "the codes cannot be read");
    sqlite3_bind_text(st, 1, destination, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, purpose, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW)
        return auth_failf(f, 500, "internal", NULL, "the codes cannot be read");
    if (sqlite3_column_type(st, 0) != SQLITE_NULL) {
        int64_t last = sqlite3_column_int64(st, 0);
        if (now - last < auth_cfg.resend_ms) {
            auth_failf(f, 429, "resend_too_soon", NULL,
                       "a code was sent a moment ago; wait before asking for another");
            f->retry_after_ms = last + auth_cfg.resend_ms - now;
            return SOUK_ERR;
        }
    }
    *dest_key = api->format(ctx, "send:dest:%s", destination);
    if (auth_rate_check(ctx, *dest_key, AUTH_HOUR_MS, auth_cfg.codes_per_destination, f) !=
        SOUK_OK) {
        if (f->status == 429)
            f->message = "too many codes were sent to this address in the last hour; "
                         "try again later";
        return SOUK_ERR;
    }
    const char *ip = api->req_ip(ctx);
    *ip_key = ip ? api->format(ctx, "send:ip:%s", ip) : NULL;
    if (*ip_key && auth_rate_check(ctx, *ip_key, AUTH_HOUR_MS, auth_cfg.codes_per_ip, f) != SOUK_OK)
        return SOUK_ERR;
    if (auth_rate_add(ctx, *dest_key, AUTH_HOUR_MS) != SOUK_OK ||
        (*ip_key && auth_rate_add(ctx, *ip_key, AUTH_HOUR_MS) != SOUK_OK))
        return auth_failf(f, 500, "internal", NULL, "the limits cannot be counted");
    return SOUK_OK;
}

/* A newer code to the same place replaces the older ones of that account (they
 * end now), so that tries cannot be multiplied by asking for many codes. */
static int replace_older(souk_ctx *ctx, const auth_challenge *c, int64_t keep_id, auth_fail *f)
{
    const souk_host_api *api = auth_api;
    int64_t now = api->now_ms(ctx);
    sqlite3_stmt *st = api->db_prepare(
        ctx, "UPDATE auth_challenge SET expires_at = ?5 WHERE destination = ?1 AND purpose = ?2"
             " AND coalesce(account_id, 0) = ?3 AND id != ?4 AND used_at IS NULL"
             " AND verified_at IS NULL AND expires_at > ?5");
    if (!st)
        return auth_failf(f, 500, "internal", NULL, "the codes cannot be written");
    sqlite3_bind_text(st, 1, c->destination, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, c->purpose, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, c->account_id);
    sqlite3_bind_int64(st, 4, keep_id);
    sqlite3_bind_int64(st, 5, now);
    if (sqlite3_step(st) != SQLITE_DONE)
        return auth_failf(f, 500, "internal", NULL, "the codes cannot be written");
    return SOUK_OK;
}

/* Queue the message "auth_code" with the code, or for a decoy render the same
 * message without queuing it, so that both take about the same work. */
static int deliver(souk_ctx *ctx, const auth_challenge *c, const char *code, const char *locale,
                   int really, auth_fail *f)
{
    const souk_host_api *api = auth_api;
    int sms = strcmp(c->channel, NOTIFY_SMS) == 0;
    json_t *data = json_pack("{s:s, s:I, s:s, s:b, s:s}", "code", code, "minutes",
                             (json_int_t)ceil_div(auth_cfg.code_ttl_ms, MINUTE_MS), "purpose",
                             c->purpose, c->purpose, 1, "destination",
                             sms ? auth_mask_phone(ctx, c->destination)
                                 : auth_mask_email(ctx, c->destination));
    int rc = SOUK_OK;
    const char *err = NULL;
    if (really) {
        notify_message m = {c->channel, c->destination, "auth_code", locale, data, NULL, NULL};
        if (auth_notify->queue(ctx, &m, NULL, &err) != SOUK_OK) {
            api->log(auth_self, SOUK_LOG_ERROR, "the code for %s cannot be queued: %s", c->purpose,
                     err ? err : "?");
            rc = auth_failf(f, 500, "send_failed", NULL, "the code cannot be sent right now");
        }
    } else {
        const char *l =
            locale ? locale : json_string_value(json_object_get(api->site(auth_self), "locale"));
        api->render(ctx, api->format(ctx, "message.auth_code.%s.%s", c->channel, l ? l : "en"),
                    locale, data, &err);
    }
    json_decref(data);
    return rc;
}

/* A fresh code for the challenge row id: stored as its hash, the clock and the
 * tries started again.  *code (arena) gets the code. */
static int new_code(souk_ctx *ctx, auth_challenge *c, const char **code, auth_fail *f)
{
    const souk_host_api *api = auth_api;
    int64_t now = api->now_ms(ctx);
    char plain[AUTH_CODE_DIGITS + 1], hash[AUTH_HASH_HEX + 1];
    api->random_code(plain, AUTH_CODE_DIGITS);
    code_hash(c->public_id, plain, hash);
    sqlite3_stmt *st = api->db_prepare(
        ctx, "UPDATE auth_challenge SET code_hash = ?2, sent_at = ?3, expires_at = ?4,"
             " tries = 0 WHERE id = ?1");
    if (!st)
        return auth_failf(f, 500, "internal", NULL, "the code cannot be written");
    sqlite3_bind_int64(st, 1, c->id);
    sqlite3_bind_text(st, 2, hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, now);
    sqlite3_bind_int64(st, 4, now + auth_cfg.code_ttl_ms);
    if (sqlite3_step(st) != SQLITE_DONE)
        return auth_failf(f, 500, "internal", NULL, "the code cannot be written");
    c->expires_at = now + auth_cfg.code_ttl_ms;
    c->resend_at = now + auth_cfg.resend_ms;
    c->tries_left = auth_cfg.code_tries;
    *code = api->dup(ctx, plain);
    return SOUK_OK;
}

int auth_challenge_issue(souk_ctx *ctx, const auth_issue *in, auth_challenge *out, auth_fail *f)
{
    const souk_host_api *api = auth_api;
    memset(out, 0, sizeof *out);
    int known = 0;
    for (size_t i = 0; in->purpose && i < sizeof purposes / sizeof *purposes; i++)
        known |= strcmp(purposes[i], in->purpose) == 0;
    if (!known || !in->channel || !in->destination || !*in->destination ||
        (strcmp(in->channel, NOTIFY_SMS) != 0 && strcmp(in->channel, NOTIFY_EMAIL) != 0))
        return auth_failf(f, 500, "internal", NULL, "a code was asked for with bad arguments");
    const char *dest_key, *ip_key;
    if (send_limits(ctx, in->purpose, in->destination, &dest_key, &ip_key, f) != SOUK_OK)
        return SOUK_ERR;

    int64_t now = api->now_ms(ctx);
    api->random_hex(out->public_id, CHALLENGE_ID_BYTES);
    out->purpose = api->dup(ctx, in->purpose);
    out->channel = api->dup(ctx, in->channel);
    out->destination = api->dup(ctx, in->destination);
    out->account_id = in->account_id;
    char *data = in->data ? json_dumps(in->data, JSON_COMPACT) : NULL;
    /* The row first with a placeholder hash: new_code() sets the real one. */
    sqlite3_stmt *st = api->db_prepare(
        ctx, "INSERT INTO auth_challenge(public_id, purpose, channel, destination, account_id,"
             " code_hash, data, created_at, sent_at, expires_at, deliver)"
             " VALUES(?1, ?2, ?3, ?4, nullif(?5, 0), '', ?6, ?7, ?7, ?7, ?8)");
    if (!st) {
        free(data);
        return auth_failf(f, 500, "internal", NULL, "the code cannot be written");
    }
    sqlite3_bind_text(st, 1, out->public_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, out->purpose, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, out->channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, out->destination, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, in->account_id);
    if (data)
        sqlite3_bind_text(st, 6, data, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 7, now);
    sqlite3_bind_int(st, 8, in->deliver ? 1 : 0);
    int rc = sqlite3_step(st);
    free(data);
    if (rc != SQLITE_DONE)
        return auth_failf(f, 500, "internal", NULL, "the code cannot be written");
    out->id = sqlite3_last_insert_rowid(api->db(ctx));
    const char *code;
    if (new_code(ctx, out, &code, f) != SOUK_OK || replace_older(ctx, out, out->id, f) != SOUK_OK)
        return SOUK_ERR;
    const char *locale = in->locale ? in->locale : api->req_locale(ctx);
    return deliver(ctx, out, code, locale, in->deliver, f);
}

int auth_challenge_resend(souk_ctx *ctx, const char *public_id, auth_challenge *out, auth_fail *f)
{
    auth_challenge_state s;
    memset(out, 0, sizeof *out);
    if (load(ctx, public_id, NULL, &s, NULL, f) != SOUK_OK)
        return SOUK_ERR;
    json_decref(s.c.data);
    s.c.data = NULL;
    if (s.used || s.c.verified)
        return auth_failf(f, 410, "code_used", "challenge",
                          "this code was already used; start again");
    const char *dest_key, *ip_key;
    if (send_limits(ctx, s.c.purpose, s.c.destination, &dest_key, &ip_key, f) != SOUK_OK)
        return SOUK_ERR;
    const char *code;
    if (new_code(ctx, &s.c, &code, f) != SOUK_OK || replace_older(ctx, &s.c, s.c.id, f) != SOUK_OK)
        return SOUK_ERR;
    *out = s.c;
    return deliver(ctx, out, code, auth_api->req_locale(ctx), s.deliver, f);
}

int auth_challenge_get(souk_ctx *ctx, const char *public_id, const char *purpose,
                       auth_challenge *out, auth_fail *f)
{
    auth_challenge_state s;
    memset(out, 0, sizeof *out);
    if (load(ctx, public_id, purpose, &s, NULL, f) != SOUK_OK)
        return SOUK_ERR;
    if (s.used || s.c.verified || s.expired) {
        json_decref(s.c.data);
        return s.expired && !s.used && !s.c.verified
                   ? auth_failf(f, 410, "code_expired", "code",
                                "the code has expired; ask for a new one")
                   : auth_failf(f, 410, "code_used", "challenge",
                                "this code was already used; start again");
    }
    *out = s.c;
    return SOUK_OK;
}

/* The typed code without the spaces and hyphens people put in ("123 456"). */
static const char *clean_code(souk_ctx *ctx, const char *in)
{
    char buf[CODE_INPUT_MAX + 1];
    size_t n = 0;
    for (const char *p = in ? in : ""; *p && n < CODE_INPUT_MAX; p++)
        if (*p != ' ' && *p != '-' && *p != '\t')
            buf[n++] = *p;
    buf[n] = '\0';
    return auth_api->dup(ctx, buf);
}

int auth_challenge_verify(souk_ctx *ctx, const char *public_id, const char *purpose,
                          const char *code, int keep_verified, auth_challenge *out, auth_fail *f)
{
    const souk_host_api *api = auth_api;
    memset(out, 0, sizeof *out);
    const char *ip = api->req_ip(ctx);
    const char *ip_key = ip ? api->format(ctx, "check:ip:%s", ip) : NULL;
    if (ip_key && auth_rate_check(ctx, ip_key, AUTH_HOUR_MS, auth_cfg.checks_per_ip, f) != SOUK_OK)
        return SOUK_ERR;
    auth_challenge_state s;
    const char *stored;
    if (load(ctx, public_id, purpose, &s, &stored, f) != SOUK_OK)
        return SOUK_ERR;
    int rc = SOUK_ERR;
    const char *typed = clean_code(ctx, code);
    const char *fail_key = s.c.account_id
                               ? api->format(ctx, "fail:acct:%lld", (long long)s.c.account_id)
                               : api->format(ctx, "fail:dest:%s", s.c.destination);
    if (s.used || s.c.verified) {
        auth_failf(f, 410, "code_used", "code", "this code was already used; start again");
    } else if (s.locked) {
        auth_failf(f, 429, "code_locked", "code", "too many wrong codes; ask for a new code");
        f->tries_left = 0;
    } else if (s.expired) {
        auth_failf(f, 410, "code_expired", "code", "the code has expired; ask for a new one");
    } else if (auth_rate_check(ctx, fail_key, AUTH_HOUR_MS, auth_cfg.failures_per_account, f) !=
               SOUK_OK) {
        if (f->status == 429) {
            f->code = "too_many_failures";
            f->field = "code";
            f->message = "too many wrong codes in the last hour; try again later";
        }
    } else if (!*typed) {
        auth_failf(f, 422, "code_required", "code", "enter the code from the message");
    } else if (ip_key && auth_rate_add(ctx, ip_key, AUTH_HOUR_MS) != SOUK_OK) {
        auth_failf(f, 500, "internal", NULL, "the limits cannot be counted");
    } else {
        char hash[AUTH_HASH_HEX + 1];
        code_hash(s.c.public_id, typed, hash);
        int right = stored && strlen(stored) == AUTH_HASH_HEX &&
                    api->equal_ct(hash, stored, AUTH_HASH_HEX) == 1;
        /* Right: used up, or verified and kept for the sign-up step.  Wrong:
         * one try less. */
        const char *sql = !right ? "UPDATE auth_challenge SET tries = tries + 1 WHERE id = ?1"
                          : keep_verified
                              ? "UPDATE auth_challenge SET verified_at = ?2 WHERE id = ?1"
                              : "UPDATE auth_challenge SET used_at = ?2 WHERE id = ?1";
        sqlite3_stmt *st = api->db_prepare(ctx, sql);
        if (st) {
            sqlite3_bind_int64(st, 1, s.c.id);
            if (right)
                sqlite3_bind_int64(st, 2, api->now_ms(ctx));
        }
        if (!st || sqlite3_step(st) != SQLITE_DONE) {
            auth_failf(f, 500, "internal", NULL, "the code cannot be checked right now");
        } else if (right) {
            rc = SOUK_OK;
            if (keep_verified) {
                s.c.verified = 1;
                s.verified_at = api->now_ms(ctx);
            }
            *out = s.c;
        } else if (auth_rate_add(ctx, fail_key, AUTH_HOUR_MS) != SOUK_OK) {
            auth_failf(f, 500, "internal", NULL, "the code cannot be checked right now");
        } else {
            api->commit_on_error(ctx);
            auth_failf(f, 422, "code_wrong", "code", "wrong code; check the message and try again");
            f->tries_left = s.c.tries_left - 1;
        }
    }
    if (rc != SOUK_OK)
        json_decref(s.c.data);
    return rc;
}

int auth_challenge_consume_verified(souk_ctx *ctx, const char *public_id, auth_challenge *out,
                                    auth_fail *f)
{
    const souk_host_api *api = auth_api;
    auth_challenge_state s;
    memset(out, 0, sizeof *out);
    if (load(ctx, public_id, NULL, &s, NULL, f) != SOUK_OK)
        return SOUK_ERR;
    int64_t now = api->now_ms(ctx);
    if (s.used)
        auth_failf(f, 410, "code_used", "challenge", "this code was already used; start again");
    else if (!s.c.verified)
        auth_failf(f, 403, "code_not_verified", "challenge", "enter the code first");
    else if (now - s.verified_at > auth_cfg.signup_window_ms)
        auth_failf(f, 410, "signup_expired", "challenge",
                   "too much time has passed since the code was entered; start again");
    else {
        sqlite3_stmt *st =
            api->db_prepare(ctx, "UPDATE auth_challenge SET used_at = ?2 WHERE id = ?1");
        if (st) {
            sqlite3_bind_int64(st, 1, s.c.id);
            sqlite3_bind_int64(st, 2, now);
        }
        if (st && sqlite3_step(st) == SQLITE_DONE) {
            *out = s.c;
            return SOUK_OK;
        }
        auth_failf(f, 500, "internal", NULL, "the code cannot be written");
    }
    json_decref(s.c.data);
    return SOUK_ERR;
}
