/* deliver.c -- delivery in a worker process.
 *
 * Each worker runs the same loop: a poll timer (notify.poll_ms) and wake-ups
 * (after a commit that queued a message, and when the next retry falls due)
 * start a pass.  A pass first asks, read-only, whether anything is due; only
 * then does it claim due rows in a write transaction: state 'sending' with a
 * lease (lease_until = now + lease_ms) and one more attempt counted.  The write
 * lock makes the claim exclusive: two workers never send a row at the same
 * time.  After the commit the claimed messages go out through libcurl: SMS on
 * the loop (transfer.c), email in libuv's thread pool (pool.c), never more
 * than smtp_parallel of those at once, so a pass claims no more email than
 * there are free slots.  Each result is recorded, on the loop, in a job of its
 * own: sent, or queued again after a back-off, or failed after max_attempts.
 *
 * A worker that dies mid-send leaves its rows 'sending' with a lease that
 * expires; any worker then claims them again, so a message is delivered at
 * least once and never lost.  A worker that stops gracefully gives its leases
 * back at once, except those of SMTP transfers already running on a pool
 * thread: they are cut, but may have reached the server, so their rows keep
 * the lease until it expires (see notify_deliver_stop). */
#include "notify_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define ERROR_MAX 512
#define NONE_DUE INT64_MAX

static struct {
    uv_timer_t poll;           /* every poll_ms */
    uv_timer_t wake;           /* one-shot: a commit, or the next due time */
    int open;                  /* the timers are initialised */
    int running;               /* started and not stopping */
    notify_transfer *inflight; /* claimed by this worker, being sent */
    int ninflight;
    int more; /* the last claim left due messages behind (no room) */
} D;

static void pass(void);

static void on_timer(uv_timer_t *t)
{
    pass();
}

/* Run a pass in delay_ms, unless one is already due sooner. */
static void schedule(int64_t delay_ms)
{
    if (!D.running)
        return;
    if (delay_ms < 0)
        delay_ms = 0;
    if (uv_is_active((uv_handle_t *)&D.wake) && uv_timer_get_due_in(&D.wake) <= (uint64_t)delay_ms)
        return;
    uv_timer_start(&D.wake, on_timer, (uint64_t)delay_ms, 0);
}

void notify_deliver_wake(void)
{
    schedule(0);
}

/* ------------------------------------------------------------ the questions */

/* How many email messages this worker may take now: none when the channel is
 * not active, and with SMTP no more than the thread pool slots left free. */
static int email_room(void)
{
    if (!notify_channel_active(NOTIFY_EMAIL))
        return 0;
    if (notify_transport_of(NOTIFY_EMAIL) != NOTIFY_VIA_SMTP)
        return NOTIFY_BATCH_MAX;
    int free_slots = notify_cfg.smtp_parallel - notify_pool_busy();
    return free_slots > 0 ? free_slots : 0;
}

/* Rows whose channel can be delivered now: ?2 is the email channel's flag, ?3
 * the sms channel's (bind_active).  Email with every SMTP slot busy waits: it
 * is not due for this worker until a slot frees (which starts a pass). */
#define ACTIVE_CHANNELS "((channel = 'email' AND ?2) OR (channel = 'sms' AND ?3))"

static void bind_active(sqlite3_stmt *st)
{
    sqlite3_bind_int(st, 2, email_room() > 0);
    sqlite3_bind_int(st, 3, notify_channel_active(NOTIFY_SMS));
}

/* The earliest time anything needs this worker (NONE_DUE when nothing). */
static int64_t next_due(souk_ctx *ctx)
{
    sqlite3_stmt *st = notify_api->db_prepare(
        ctx, "SELECT min(CASE state WHEN 'queued' THEN next_attempt_at ELSE lease_until END)"
             " FROM notify_outbox WHERE state IN ('queued', 'sending') AND " ACTIVE_CHANNELS);
    if (!st)
        return NONE_DUE;
    bind_active(st);
    int64_t due = NONE_DUE;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        due = sqlite3_column_int64(st, 0);
    return due;
}

typedef struct probe {
    int64_t now, due;
} probe;

static int probe_fn(souk_ctx *ctx, void *udata)
{
    probe *p = udata;
    p->now = notify_api->now_ms(ctx);
    p->due = next_due(ctx);
    return SOUK_OK;
}

/* ------------------------------------------------------------------ claiming */

typedef struct claim {
    int room; /* how many this worker may take */
    int taken;
    int full;              /* a channel took its whole share: more may be due */
    notify_transfer *list; /* claimed, to send once committed */
    int64_t now, due;      /* the next due time after the claim */
} claim;

static char *dup_column(sqlite3_stmt *st, int col)
{
    const unsigned char *s = sqlite3_column_text(st, col);
    return s ? strdup((const char *)s) : NULL;
}

/* Rows whose lease ran out max_attempts times never reached a verdict: a
 * message that kills its worker must not kill every worker forever. */
static void give_up_interrupted(souk_ctx *ctx, int64_t id, int attempts)
{
    const char *why = notify_api->format(
        ctx, "delivery interrupted %d times (a worker stopped while sending)", attempts - 1);
    sqlite3_stmt *st = notify_api->db_prepare(
        ctx, "UPDATE notify_outbox SET state = 'failed', lease_until = NULL, last_error = ?2"
             " WHERE id = ?1");
    if (!st)
        return;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, why, -1, SQLITE_STATIC);
    sqlite3_step(st);
    notify_api->log(notify_self, SOUK_LOG_ERROR, "message #%lld failed: %s", (long long)id, why);
}

static void record_dev(souk_ctx *ctx, int64_t id, int64_t now)
{
    sqlite3_stmt *st = notify_api->db_prepare(
        ctx, "UPDATE notify_outbox SET state = 'sent', transport = 'dev', sent_at = ?2,"
             " lease_until = NULL WHERE id = ?1");
    if (!st)
        return;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_step(st);
}

/* Claim one row if it is still due.  NULL when another worker has it, when it
 * was settled here (dev, given up), or on an error. */
static notify_transfer *claim_row(souk_ctx *ctx, int64_t id, int64_t now)
{
    int64_t lease = now + notify_cfg.lease_ms;
    sqlite3_stmt *st = notify_api->db_prepare(
        ctx, "UPDATE notify_outbox SET state = 'sending', lease_until = ?2,"
             " attempts = attempts + 1"
             " WHERE id = ?1 AND (state = 'queued' OR (state = 'sending' AND lease_until <= ?3))"
             " RETURNING channel, recipient, subject, body, headers, attempts, created_at");
    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, lease);
    sqlite3_bind_int64(st, 3, now);
    if (sqlite3_step(st) != SQLITE_ROW)
        return NULL;
    const char *channel = (const char *)sqlite3_column_text(st, 0);
    int attempts = sqlite3_column_int(st, 5);
    int transport = notify_transport_of(channel);
    if (attempts > notify_cfg.max_attempts) {
        sqlite3_reset(st);
        give_up_interrupted(ctx, id, attempts);
        return NULL;
    }
    if (transport == NOTIFY_VIA_DEV) {
        sqlite3_reset(st);
        record_dev(ctx, id, now);
        return NULL;
    }
    notify_transfer *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->id = id;
    t->attempts = attempts;
    t->transport = transport;
    t->channel = dup_column(st, 0);
    t->recipient = dup_column(st, 1);
    t->subject = dup_column(st, 2);
    t->body = dup_column(st, 3);
    t->headers = dup_column(st, 4);
    t->created_at = sqlite3_column_int64(st, 6);
    t->now_ms = now;
    t->lease_until = lease;
    sqlite3_reset(st);
    if (!t->channel || !t->recipient || !t->body) {
        notify_transfer_free(t);
        return NULL; /* out of memory: the lease expires and it is tried again */
    }
    return t;
}

/* Claim up to limit due rows of one channel, oldest due first. */
static int claim_channel(souk_ctx *ctx, claim *c, const char *channel, int limit)
{
    if (limit <= 0)
        return SOUK_OK;
    sqlite3_stmt *st = notify_api->db_prepare(
        ctx, "SELECT id FROM notify_outbox WHERE ((state = 'queued' AND next_attempt_at <= ?1)"
             " OR (state = 'sending' AND lease_until <= ?1)) AND channel = ?2"
             " ORDER BY next_attempt_at, id LIMIT ?3");
    if (!st)
        return SOUK_ERR;
    sqlite3_bind_int64(st, 1, c->now);
    sqlite3_bind_text(st, 2, channel, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, limit);
    int64_t ids[NOTIFY_BATCH_MAX];
    int n = 0;
    while (n < limit && n < (int)(sizeof ids / sizeof *ids) && sqlite3_step(st) == SQLITE_ROW)
        ids[n++] = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (n == limit)
        c->full = 1;
    for (int i = 0; i < n; i++) {
        c->taken++;
        notify_transfer *t = claim_row(ctx, ids[i], c->now);
        if (t) {
            t->next = c->list;
            c->list = t;
        }
    }
    return SOUK_OK;
}

static int claim_fn(souk_ctx *ctx, void *udata)
{
    claim *c = udata;
    c->now = notify_api->now_ms(ctx);
    int email = email_room();
    if (email > c->room)
        email = c->room;
    if (claim_channel(ctx, c, NOTIFY_EMAIL, email) != SOUK_OK ||
        claim_channel(ctx, c, NOTIFY_SMS,
                      notify_channel_active(NOTIFY_SMS) ? c->room - c->taken : 0) != SOUK_OK)
        return SOUK_ERR;
    c->due = next_due(ctx);
    return SOUK_OK;
}

/* -------------------------------------------------------------- recording */

typedef struct outcome {
    notify_transfer *t;
    int ok;
    const char *error;
} outcome;

static int record_fn(souk_ctx *ctx, void *udata)
{
    const outcome *o = udata;
    const notify_transfer *t = o->t;
    const souk_host_api *api = notify_api;
    int64_t now = api->now_ms(ctx);
    sqlite3_stmt *st;
    if (o->ok) {
        /* Delivered: whatever happened to the lease meanwhile, it is sent. */
        st = api->db_prepare(ctx, "UPDATE notify_outbox SET state = 'sent', sent_at = ?2,"
                                  " transport = ?3, lease_until = NULL, last_error = NULL"
                                  " WHERE id = ?1 AND state <> 'sent'");
        if (!st)
            return SOUK_ERR;
        sqlite3_bind_int64(st, 1, t->id);
        sqlite3_bind_int64(st, 2, now);
        sqlite3_bind_text(st, 3, notify_transport_name(t->transport), -1, SQLITE_STATIC);
        return sqlite3_step(st) == SQLITE_DONE ? SOUK_OK : SOUK_ERR;
    }
    /* Failed: only while the row is still this worker's claim. */
    int give_up = t->attempts >= notify_cfg.max_attempts;
    int64_t wait =
        notify_backoff_ms(t->attempts, notify_cfg.retry_base_ms, notify_cfg.retry_max_ms);
    st = api->db_prepare(ctx, "UPDATE notify_outbox SET state = ?3, lease_until = NULL,"
                              " next_attempt_at = ?4, last_error = ?5"
                              " WHERE id = ?1 AND state = 'sending' AND lease_until = ?2");
    if (!st)
        return SOUK_ERR;
    sqlite3_bind_int64(st, 1, t->id);
    sqlite3_bind_int64(st, 2, t->lease_until);
    sqlite3_bind_text(st, 3, give_up ? "failed" : "queued", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, give_up ? now : now + wait);
    sqlite3_bind_text(st, 5, o->error, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        return SOUK_ERR;
    if (give_up)
        api->log(notify_self, SOUK_LOG_ERROR, "message #%lld (%s) failed after %d attempts: %s",
                 (long long)t->id, t->channel, t->attempts, o->error);
    else
        api->log(notify_self, SOUK_LOG_WARN,
                 "message #%lld (%s): attempt %d of %d failed: %s; next in %lld ms",
                 (long long)t->id, t->channel, t->attempts, notify_cfg.max_attempts, o->error,
                 (long long)wait);
    return SOUK_OK;
}

static void record(notify_transfer *t, int ok, const char *error)
{
    outcome o = {t, ok, error};
    if (notify_api->job_run(notify_self, 1, record_fn, &o) != SOUK_OK) {
        /* The row keeps its lease; when it expires the message is sent again. */
        notify_api->log(notify_self, SOUK_LOG_ERROR,
                        "message #%lld: the result (%s) could not be recorded; it will be "
                        "retried when its lease expires",
                        (long long)t->id, ok ? "sent" : error);
        return;
    }
    if (ok)
        notify_api->log(notify_self, SOUK_LOG_INFO, "message #%lld (%s) sent by %s",
                        (long long)t->id, t->channel, notify_transport_name(t->transport));
}

static void unlink_inflight(notify_transfer *t)
{
    for (notify_transfer **p = &D.inflight; *p; p = &(*p)->next)
        if (*p == t) {
            *p = t->next;
            D.ninflight--;
            return;
        }
}

/* An SMTP transfer that was running on a pool thread when the worker stopped
 * comes back.  After fini (notify_api NULL) nothing can be recorded; before it
 * (the worker is still draining its requests) a delivery is recorded, so that
 * it is not sent twice.  Anything else leaves the row to its lease: the
 * attempt may have reached the server, so no other worker takes the message
 * before lease_ms; then it is sent again. */
static void settle_abandoned(notify_transfer *t, int curl_result)
{
    if (!notify_api)
        return;
    char err[ERROR_MAX];
    if (notify_channel_result(t, curl_result, err, sizeof err) == SOUK_OK) {
        record(t, 1, NULL);
        return;
    }
    notify_api->log(notify_self, SOUK_LOG_WARN,
                    "message #%lld (%s): the worker stopped during the attempt (%s); it is "
                    "sent again when its lease expires",
                    (long long)t->id, t->channel, err);
}

static void on_finished(notify_transfer *t, int curl_result)
{
    if (t->abandoned) {
        settle_abandoned(t, curl_result);
        notify_transfer_free(t);
        return;
    }
    char err[ERROR_MAX];
    int ok = notify_channel_result(t, curl_result, err, sizeof err) == SOUK_OK;
    int slot = t->pooled;
    unlink_inflight(t);
    record(t, ok, err);
    notify_transfer_free(t);
    /* Room again: take the next ones now rather than at the next poll.  A
     * freed SMTP slot may let email through that the last pass left. */
    if (D.more || slot)
        schedule(0);
}

/* ------------------------------------------------------------------ passes */

static void send_claimed(notify_transfer *list)
{
    while (list) {
        notify_transfer *t = list;
        list = t->next;
        char err[ERROR_MAX];
        int smtp = t->transport == NOTIFY_VIA_SMTP;
        if (notify_channel_prepare(t, err, sizeof err) != SOUK_OK ||
            (smtp ? notify_pool_add(t, err, sizeof err) : notify_curl_add(t, err, sizeof err)) !=
                SOUK_OK) {
            record(t, 0, err);
            notify_transfer_free(t);
            continue;
        }
        t->next = D.inflight;
        D.inflight = t;
        D.ninflight++;
    }
}

static void pass(void)
{
    if (!D.running)
        return;
    probe p = {0, NONE_DUE};
    if (notify_api->job_run(notify_self, 0, probe_fn, &p) != SOUK_OK)
        return; /* logged; the poll timer tries again */
    int room = notify_cfg.batch - D.ninflight;
    int64_t due = p.due, now = p.now;
    if (room > 0 && due <= now) {
        claim c = {room, 0, 0, NULL, 0, NONE_DUE};
        if (notify_api->job_run(notify_self, 1, claim_fn, &c) != SOUK_OK) {
            while (c.list) { /* rolled back: nothing was claimed */
                notify_transfer *t = c.list;
                c.list = t->next;
                notify_transfer_free(t);
            }
            return;
        }
        D.more = c.full;
        send_claimed(c.list);
        due = c.due;
        now = c.now;
    }
    /* A retry due before the next poll gets a wake-up of its own, so that the
     * back-off is kept whatever poll_ms is.  With no room left, a finished
     * transfer wakes the loop instead. */
    if (due != NONE_DUE && due - now < notify_cfg.poll_ms && notify_cfg.batch > D.ninflight)
        schedule(due - now);
}

/* ---------------------------------------------------------------- lifecycle */

/* smtp_parallel as large as libuv's pool would leave its other users (name
 * resolution, file work of any module) waiting behind stalled SMTP servers. */
static void warn_pool_size(souk_plugin *self)
{
    if (notify_cfg.email != NOTIFY_VIA_SMTP)
        return;
    const char *env = getenv("UV_THREADPOOL_SIZE");
    long threads = env && *env ? strtol(env, NULL, 10) : NOTIFY_UV_THREADPOOL_DEFAULT;
    if (threads < 1)
        threads = NOTIFY_UV_THREADPOOL_DEFAULT;
    if (notify_cfg.smtp_parallel >= threads)
        notify_api->log(self, SOUK_LOG_WARN,
                        "settings.notify.smtp_parallel (%d) takes every thread of libuv's pool "
                        "(%ld): keep it below, or raise UV_THREADPOOL_SIZE",
                        notify_cfg.smtp_parallel, threads);
}

int notify_deliver_start(souk_plugin *self, void *loop, void *udata)
{
    char err[ERROR_MAX];
    if (notify_curl_open(loop, on_finished, err, sizeof err) != SOUK_OK) {
        notify_api->log(self, SOUK_LOG_ERROR, "cannot start delivery: %s", err);
        return SOUK_ERR;
    }
    notify_pool_open(loop, on_finished);
    uv_timer_init(loop, &D.poll);
    uv_timer_init(loop, &D.wake);
    D.open = 1;
    D.running = 1;
    D.more = 0;
    warn_pool_size(self);
    if (!notify_cfg.dev) {
        const char *ch[] = {NOTIFY_EMAIL, NOTIFY_SMS};
        for (size_t i = 0; i < sizeof ch / sizeof *ch; i++)
            if (notify_transport_of(ch[i]) == NOTIFY_VIA_DEV)
                notify_api->log(self, SOUK_LOG_WARN,
                                "channel %s is \"dev\" outside dev mode: its messages stay "
                                "queued until settings.notify.%s names a real transport",
                                ch[i], ch[i]);
    }
    /* The first pass at once: rows left by a stopped or crashed worker. */
    uv_timer_start(&D.poll, on_timer, 0, (uint64_t)notify_cfg.poll_ms);
    return SOUK_OK;
}

/* Give the leases of unfinished transfers back, so that the next worker does
 * not wait for them to expire.  The cut attempt is not counted. */
static int release_fn(souk_ctx *ctx, void *udata)
{
    sqlite3_stmt *st =
        notify_api->db_prepare(ctx, "UPDATE notify_outbox SET state = 'queued', lease_until = NULL,"
                                    " attempts = max(attempts - 1, 0)"
                                    " WHERE id = ?1 AND state = 'sending' AND lease_until = ?2");
    if (!st)
        return SOUK_ERR;
    for (notify_transfer *t = D.inflight; t; t = t->next) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, t->id);
        sqlite3_bind_int64(st, 2, t->lease_until);
        if (sqlite3_step(st) != SQLITE_DONE)
            return SOUK_ERR;
    }
    return SOUK_OK;
}

/* SMTP transfers in the pool are the pool's to free (its after-work callback
 * runs even after this).  Those that have not started are cancelled and keep
 * their place in D.inflight, so that their leases go back; those running are
 * asked to stop (within a second: libcurl calls smtp_progress at least that
 * often) and leave the list with their leases, see settle_abandoned.  Waiting
 * for them here would hold the draining worker's requests for up to
 * smtp.timeout_ms. */
static int abandon_pooled(void)
{
    int running = 0;
    for (notify_transfer **p = &D.inflight; *p;) {
        notify_transfer *t = *p;
        if (!t->pooled) {
            p = &t->next;
            continue;
        }
        t->abandoned = 1;
        if (notify_pool_cancel(t) == SOUK_OK) {
            p = &t->next;
            continue;
        }
        *p = t->next;
        D.ninflight--;
        running++;
    }
    return running;
}

void notify_deliver_stop(souk_plugin *self, void *loop, void *udata)
{
    D.running = 0;
    int running = abandon_pooled();
    if (running > 0)
        notify_api->log(self, SOUK_LOG_WARN,
                        "stopping with %d email transfer(s) under way: cut short; their "
                        "messages keep their leases and are sent again once those expire "
                        "(lease_ms)",
                        running);
    if (D.inflight && notify_api->job_run(self, 1, release_fn, NULL) != SOUK_OK)
        notify_api->log(self, SOUK_LOG_WARN,
                        "could not give back %d lease(s); those messages are sent again "
                        "when the leases expire",
                        D.ninflight);
    while (D.inflight) {
        notify_transfer *t = D.inflight;
        D.inflight = t->next;
        if (!t->pooled) {
            notify_curl_remove(t);
            notify_transfer_free(t);
        }
    }
    D.ninflight = 0;
    notify_pool_close();
    notify_curl_close();
    if (D.open) {
        D.open = 0;
        uv_timer_stop(&D.poll);
        uv_timer_stop(&D.wake);
        uv_close((uv_handle_t *)&D.poll, NULL);
        uv_close((uv_handle_t *)&D.wake, NULL);
    }
}
