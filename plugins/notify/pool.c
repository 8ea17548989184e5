/* pool.c -- SMTP transfers in libuv's thread pool.
 *
 * Why not on the loop with the webhook: libcurl 7.88 ends an SMTP transfer with
 * a blocking wait even inside the multi interface (smtp_done reads the reply to
 * the final "." synchronously, and so does the QUIT at disconnect).  A server
 * that takes the message and then stalls would hold the whole worker, every
 * request it serves, for up to smtp.timeout_ms.  So each SMTP transfer is one
 * blocking curl_easy_perform on a pool thread (uv_queue_work), and the
 * after-work callback hands the result to deliver.c on the loop.
 *
 * What must stay true (thread safety):
 *   - The pool thread touches only its transfer: the easy handle and what the
 *     handle reads or writes (payload, slists, errbuf), plus the fields the
 *     thread owns (curl_result, started_ns, timed_out).  Nothing else of the
 *     plugin: no souk_ctx, no api->..., no SQLite, no jansson, no notify_cfg
 *     (which fini frees while an abandoned thread may still run).
 *   - The loop does not touch those fields between uv_queue_work and the
 *     after-work callback: libuv's queue orders the two threads' accesses.  The
 *     one exception is t->cut, an atomic that asks the thread to stop early.
 *   - curl_global_init has run on the worker's main thread (transfer.c does it
 *     when the worker starts, before any transfer is handed here).
 *   - At most smtp_parallel transfers are handed over at once (deliver.c claims
 *     no more), so other users of the pool (4 threads unless UV_THREADPOOL_SIZE
 *     says otherwise) are never starved.
 *   - The connection is closed inside curl_easy_perform (CURLOPT_FORBID_REUSE,
 *     channels.c) and the handle is cleaned up on the thread too, so the loop
 *     never runs libcurl's QUIT exchange. */
#include "notify_internal.h"

#include <curl/curl.h>
#include <stdio.h>
#include <uv.h>

static uv_loop_t *pool_loop;
static void (*pool_done)(notify_transfer *t, int curl_result);
static int pool_busy; /* handed to the pool, after-work callback not yet run */

void notify_pool_open(void *loop, void (*done)(notify_transfer *t, int curl_result))
{
    pool_loop = loop;
    pool_done = done;
}

int notify_pool_busy(void)
{
    return pool_busy;
}

/* On a pool thread: only t. */
static void work(uv_work_t *w)
{
    notify_transfer *t = w->data;
    t->started_ns = uv_hrtime();
    t->curl_result = (int)curl_easy_perform(t->easy);
    /* The connection is closed already (no reuse); anything left to free is
     * freed here, off the loop. */
    curl_easy_cleanup(t->easy);
    t->easy = NULL;
}

/* On the loop, after work() ended or was cancelled. */
static void after_work(uv_work_t *w, int status)
{
    notify_transfer *t = w->data;
    pool_busy--;
    if (status == UV_ECANCELED) {
        /* Cancelled by notify_pool_cancel before it started: the worker has
         * stopped and given its lease back. */
        notify_transfer_free(t);
        return;
    }
    /* After fini too (the final turns of a stopping worker's loop): the code
     * stays mapped (plugins are loaded RTLD_NODELETE) and done copes. */
    pool_done(t, t->curl_result);
}

int notify_pool_add(notify_transfer *t, char *err, size_t errlen)
{
    if (!pool_loop) {
        snprintf(err, errlen, "delivery is not running in this process");
        return SOUK_ERR;
    }
    t->work.data = t;
    int rc = uv_queue_work(pool_loop, &t->work, work, after_work);
    if (rc != 0) {
        snprintf(err, errlen, "libuv: %s", uv_strerror(rc));
        return SOUK_ERR;
    }
    t->pooled = 1;
    pool_busy++;
    return SOUK_OK;
}

int notify_pool_cancel(notify_transfer *t)
{
    if (uv_cancel((uv_req_t *)&t->work) == 0)
        return SOUK_OK;
    atomic_store(&t->cut, 1);
    return SOUK_ERR;
}

void notify_pool_close(void)
{
    /* Transfers still in the pool keep their after-work callbacks: the loop runs
     * them before it closes, and pool_done copes with a stopped worker. */
    pool_loop = NULL;
}
