/* accounts.c -- account rows: sign-up, look-ups, the identity object, the level.
 *
 * An account is made only for a phone number proven by a code, with the terms
 * the shopper accepted (version and time) and a referral code of its own.
 * Deleted accounts stay as tombstones (deleted_at set, contacts NULL) and never
 * match a look-up. */
#include "signin_internal.h"

#include <string.h>

#define REFERRAL_LEN 6
#define REFERRAL_TRIES 8 /* fresh codes tried before giving up on a collision */
/* Letters and digits a person reads back without confusion (no 0/O, 1/I). */
static const char referral_alphabet[] = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

_Static_assert(REFERRAL_LEN >= AUTH_REF_MIN && REFERRAL_LEN <= AUTH_REF_MAX,
               "own referral codes must pass auth_referral_clean");

sqlite3_stmt *auth_row_by_id(souk_ctx *ctx, const char *sql, int64_t id)
{
    sqlite3_stmt *st = auth_api->db_prepare(ctx, sql);
    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, id);
    return sqlite3_step(st) == SQLITE_ROW ? st : NULL;
}

int auth_exec_id(souk_ctx *ctx, const char *sql, int64_t id)
{
    sqlite3_stmt *st = auth_api->db_prepare(ctx, sql);
    if (!st)
        return SOUK_ERR;
    sqlite3_bind_int64(st, 1, id);
    return sqlite3_step(st) == SQLITE_DONE ? SOUK_OK : SOUK_ERR;
}

static int64_t id_by(souk_ctx *ctx, const char *sql, const char *value)
{
    if (!value || !*value)
        return 0;
    sqlite3_stmt *st = auth_api->db_prepare(ctx, sql);
    if (!st)
        return 0;
    sqlite3_bind_text(st, 1, value, -1, SQLITE_STATIC);
    return sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
}

int64_t auth_account_by_phone(souk_ctx *ctx, const char *e164)
{
    return id_by(ctx, "SELECT id FROM auth_account WHERE phone = ?1 AND deleted_at IS NULL", e164);
}

int64_t auth_account_by_email(souk_ctx *ctx, const char *email)
{
    return id_by(ctx, "SELECT id FROM auth_account WHERE email = ?1 AND deleted_at IS NULL", email);
}

static int64_t account_by_referral(souk_ctx *ctx, const char *code)
{
    return id_by(ctx, "SELECT id FROM auth_account WHERE referral_code = ?1 AND deleted_at IS NULL",
                 code);
}

/* The locale for a new account: the one asked for when the store offers it,
 * else the store's default. */
static const char *account_locale(souk_ctx *ctx, const char *want)
{
    json_t *site = auth_api->site(auth_self);
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(site, "locales"), i,
                       l) if (want && json_is_string(l) &&
                              strcmp(json_string_value(l), want) == 0) return want;
    const char *def = json_string_value(json_object_get(site, "locale"));
    return def ? def : "ru";
}

int64_t auth_account_create(souk_ctx *ctx, const char *phone, const char *ref, const char *locale,
                            auth_fail *f)
{
    const souk_host_api *api = auth_api;
    int64_t now = api->now_ms(ctx);
    const char *code = auth_referral_clean(ctx, ref);
    int64_t referrer = code ? account_by_referral(ctx, code) : 0;
    sqlite3_stmt *st = api->db_prepare(
        ctx, "INSERT INTO auth_account(phone, locale, referral_code, referrer_id, terms_version,"
             " terms_accepted_at, created_at) VALUES(?1, ?2, ?3, nullif(?4, 0), ?5, ?6, ?6)"
             " ON CONFLICT(referral_code) DO NOTHING");
    if (!st) {
        auth_failf(f, 500, "internal", NULL, "the account cannot be created");
        return 0;
    }
    int64_t id = 0;
    for (int attempt = 0; attempt < REFERRAL_TRIES && !id; attempt++) {
        char mine[REFERRAL_LEN + 1];
        for (int i = 0; i < REFERRAL_LEN; i++)
            mine[i] = referral_alphabet[api->random_uniform(sizeof referral_alphabet - 1)];
        mine[REFERRAL_LEN] = '\0';
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, phone, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, account_locale(ctx, locale), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, mine, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 4, referrer);
        sqlite3_bind_text(st, 5, auth_cfg.terms_version, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, now);
        if (sqlite3_step(st) != SQLITE_DONE) {
            /* The phone is taken: another sign-up of the same number won the race
             * since the caller looked it up. */
            if (sqlite3_extended_errcode(api->db(ctx)) == SQLITE_CONSTRAINT_UNIQUE)
                auth_failf(f, 409, "phone_taken", "phone",
                           "an account with this phone number already exists; sign in instead");
            else
                auth_failf(f, 500, "internal", NULL, "the account cannot be created");
            return 0;
        }
        if (sqlite3_changes(api->db(ctx)) == 1)
            id = sqlite3_last_insert_rowid(api->db(ctx));
    }
    if (!id) {
        auth_failf(f, 500, "internal", NULL, "the account cannot be created");
        return 0;
    }
    json_t *payload = json_pack("{s:I, s:o}", "id", (json_int_t)id, "referrer_id",
                                referrer ? json_integer(referrer) : json_null());
    int rc = api->event_emit(ctx, AUTH_EVENT_CREATED, payload);
    json_decref(payload);
    if (rc != SOUK_OK) {
        auth_failf(f, 500, "internal", NULL, "the account cannot be created");
        return 0;
    }
    return id;
}

/* The level from the row's name and verified email. */
static int level_of(const unsigned char *name, int has_email)
{
    int named = 0;
    for (const unsigned char *p = name; p && *p && !named; p++)
        named = *p != ' ' && *p != '\t';
    return named && has_email ? AUTH_SECURED : AUTH_LIMITED;
}

int auth_account_level(souk_ctx *ctx, int64_t account_id)
{
    sqlite3_stmt *st = auth_row_by_id(ctx,
                                      "SELECT name, email IS NOT NULL FROM auth_account"
                                      " WHERE id = ?1 AND deleted_at IS NULL",
                                      account_id);
    if (!st)
        return AUTH_GUEST;
    return level_of(sqlite3_column_text(st, 0), sqlite3_column_int(st, 1));
}

static json_t *text_or_null(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    json_t *s = t && *t ? json_string((const char *)t) : NULL;
    return s ? s : json_null();
}

json_t *auth_account_json(souk_ctx *ctx, int64_t account_id)
{
    sqlite3_stmt *st = auth_row_by_id(
        ctx, "SELECT id, name, phone, email, locale, referral_code FROM auth_account"
             " WHERE id = ?1 AND deleted_at IS NULL", account_id);
    if (!st)
        return NULL;
    int level = level_of(sqlite3_column_text(st, 1), sqlite3_column_type(st, 3) != SQLITE_NULL);
    return json_pack("{s:I, s:s, s:o, s:o, s:o, s:o, s:o, s:b}", "id",
                     (json_int_t)sqlite3_column_int64(st, 0), "level",
                     level == AUTH_SECURED ? "secured" : "limited", "name", text_or_null(st, 1),
                     "phone", text_or_null(st, 2), "email", text_or_null(st, 3), "locale",
                     text_or_null(st, 4), "referral_code", text_or_null(st, 5), "member", 1);
}
