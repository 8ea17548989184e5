/* rate.c -- counters in the database (table auth_rate), shared by every worker,
 * and the housekeeping that drops rows no rule can still need.
 *
 * A limit "N per window" is counted in buckets of window/RATE_BUCKETS: a hit is
 * added to the bucket of its time, and the count of a key is the sum of every
 * bucket that overlaps the last window.  That is a sliding window (it never
 * resets at a round hour, so N+N hits around a boundary cannot happen), a little
 * stricter than exact: the oldest bucket counts whole for up to one bucket
 * longer.  Counting errs towards refusing, never towards allowing. */
#include "signin_internal.h"

#include <string.h>

#define RATE_BUCKETS 60                    /* buckets per window: 1 minute of an hour */
#define RATE_KEEP_MS (24 * AUTH_HOUR_MS)   /* windows longer than a day are not supported */
#define PURGE_AFTER_MS (24 * AUTH_HOUR_MS) /* challenges are kept this long after expiry */

static int64_t bucket_ms(int64_t window_ms)
{
    int64_t b = window_ms / RATE_BUCKETS;
    return b > 0 ? b : 1;
}

int auth_rate_count(souk_ctx *ctx, const char *key, int64_t window_ms)
{
    const souk_host_api *api = auth_api;
    int64_t now = api->now_ms(ctx);
    sqlite3_stmt *st = api->db_prepare(
        ctx, "SELECT coalesce(sum(hits), 0) FROM auth_rate WHERE key = ?1 AND window > ?2");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now - window_ms - bucket_ms(window_ms));
    return sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
}

int auth_rate_add(souk_ctx *ctx, const char *key, int64_t window_ms)
{
    const souk_host_api *api = auth_api;
    int64_t now = api->now_ms(ctx), b = bucket_ms(window_ms);
    sqlite3_stmt *st =
        api->db_prepare(ctx, "INSERT INTO auth_rate(key, window, hits) VALUES(?1, ?2, 1)"
                             " ON CONFLICT(key, window) DO UPDATE SET hits = hits + 1");
    if (!st)
        return SOUK_ERR;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now - now % b);
    return sqlite3_step(st) == SQLITE_DONE ? SOUK_OK : SOUK_ERR;
}

int auth_rate_check(souk_ctx *ctx, const char *key, int64_t window_ms, int limit, auth_fail *f)
{
    const souk_host_api *api = auth_api;
    int64_t now = api->now_ms(ctx), b = bucket_ms(window_ms);
    sqlite3_stmt *st = api->db_prepare(ctx, "SELECT window, hits FROM auth_rate"
                                            " WHERE key = ?1 AND window > ?2 ORDER BY window");
    if (!st)
        return auth_failf(f, 500, "internal", NULL, "the limits cannot be read");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now - window_ms - b);
    /* Buckets are few (at most RATE_BUCKETS + 1): read them all, then find when
     * enough of the oldest will have left the window for one more hit to fit. */
    int64_t start[RATE_BUCKETS + 2];
    int hits[RATE_BUCKETS + 2], n = 0, total = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n < RATE_BUCKETS + 2) {
            start[n] = sqlite3_column_int64(st, 0);
            hits[n] = sqlite3_column_int(st, 1);
            total += hits[n];
            n++;
        }
    }
    if (rc != SQLITE_DONE)
        return auth_failf(f, 500, "internal", NULL, "the limits cannot be read");
    if (total < limit)
        return SOUK_OK;
    int64_t wait = window_ms;
    for (int i = 0, left = total; i < n; i++) {
        left -= hits[i];
        if (left < limit) {
            wait = start[i] + window_ms + b - now;
            break;
        }
    }
    auth_failf(f, 429, "rate_limited", NULL, "too many attempts; try again later");
    f->retry_after_ms = wait > 0 ? wait : 1;
    return SOUK_ERR;
}

int auth_signin_purge(souk_ctx *ctx)
{
    const souk_host_api *api = auth_api;
    int64_t now = api->now_ms(ctx);
    static const char *const sql[] = {
        "DELETE FROM auth_rate WHERE window < ?1 - ?2",
        "DELETE FROM auth_challenge WHERE expires_at < ?1 - ?2",
        "DELETE FROM auth_session WHERE last_seen_at < ?1 - ?2 OR created_at < ?1 - ?3",
    };
    const int64_t arg2[] = {RATE_KEEP_MS, PURGE_AFTER_MS, auth_cfg.session_idle_ms};
    for (size_t i = 0; i < sizeof sql / sizeof *sql; i++) {
        sqlite3_stmt *st = api->db_prepare(ctx, sql[i]);
        if (!st)
            return SOUK_ERR;
        sqlite3_bind_int64(st, 1, now);
        sqlite3_bind_int64(st, 2, arg2[i]);
        if (i == 2)
            sqlite3_bind_int64(st, 3, auth_cfg.session_absolute_ms);
        if (sqlite3_step(st) != SQLITE_DONE) {
            api->log(auth_self, SOUK_LOG_ERROR, "purge: %s", sqlite3_errmsg(api->db(ctx)));
            return SOUK_ERR;
        }
    }
    return SOUK_OK;
}
