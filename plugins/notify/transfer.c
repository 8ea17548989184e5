/* transfer.c -- libcurl's multi interface driven from a worker's libuv loop,
 * for the SMS webhook.
 *
 * libcurl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION) and when to
 * call it back (CURLMOPT_TIMERFUNCTION); libuv watches them (one uv_poll_t per
 * socket, one uv_timer_t) and we hand every event to curl_multi_socket_action.
 * Nothing here waits: the worker keeps serving requests while messages travel.
 * SMTP does not come here: libcurl 7.88 reads an SMTP server's reply to the
 * final "." and to QUIT synchronously even in the multi interface, so email
 * goes through the thread pool (pool.c).  HTTP has no such wait. */
#include "notify_internal.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <uv.h>

static uv_loop_t *loop;
static CURLM *multi;
static uv_timer_t timer;
static int timer_open;
static void (*finished)(notify_transfer *t, int curl_result);

/* A socket libcurl asked us to watch.  Freed by its close callback. */
typedef struct watch {
    uv_poll_t poll;
    curl_socket_t fd;
} watch;

static void watch_closed(uv_handle_t *h)
{
    free(h->data);
}

/* Hand every finished transfer to its owner.  The easy handle leaves the multi
 * first, so that the owner may free it. */
static void collect(void)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        int result = (int)msg->data.result;
        notify_transfer *t = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
        curl_multi_remove_handle(multi, easy);
        if (t)
            finished(t, result);
    }
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    watch *w = h->data;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    int running = 0;
    curl_multi_socket_action(multi, w->fd, flags, &running);
    collect();
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    watch *w = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (w) {
            uv_poll_stop(&w->poll);
            uv_close((uv_handle_t *)&w->poll, watch_closed);
            curl_multi_assign(multi, fd, NULL);
        }
        return 0;
    }
    if (!w) {
        w = calloc(1, sizeof *w);
        if (!w)
            return -1;
        w->fd = fd;
        if (uv_poll_init_socket(loop, &w->poll, fd) != 0) {
            free(w);
            return -1; /* libcurl fails the transfer; it is retried later */
        }
        w->poll.data = w;
        curl_multi_assign(multi, fd, w);
    }
    int events = 0;
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    return uv_poll_start(&w->poll, events, on_poll) == 0 ? 0 : -1;
}

static void on_timeout(uv_timer_t *t)
{
    int running = 0;
    curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
    collect();
}

/* libcurl must not be called back from inside this function: a timeout of 0
 * becomes a timer that fires on the loop's next turn. */
static int on_timer(CURLM *m, long timeout_ms, void *userp)
{
    if (!timer_open)
        return 0;
    if (timeout_ms < 0)
        uv_timer_stop(&timer);
    else
        uv_timer_start(&timer, on_timeout, (uint64_t)timeout_ms, 0);
    return 0;
}

int notify_curl_open(void *uvloop, void (*done)(notify_transfer *t, int curl_result), char *err,
                     size_t errlen)
{
    /* Once per process, before any other libcurl call, on the worker's main
     * thread: before any SMTP transfer is handed to a pool thread (pool.c). */
    static int global_ready;
    if (!global_ready) {
        CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
        if (rc != CURLE_OK) {
            snprintf(err, errlen, "libcurl: %s", curl_easy_strerror(rc));
            return SOUK_ERR;
        }
        global_ready = 1;
    }
    loop = uvloop;
    finished = done;
    multi = curl_multi_init();
    if (!multi) {
        snprintf(err, errlen, "libcurl: cannot create a multi handle");
        return SOUK_ERR;
    }
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_timer);
    int rc = uv_timer_init(loop, &timer);
    if (rc != 0) {
        snprintf(err, errlen, "libuv: %s", uv_strerror(rc));
        curl_multi_cleanup(multi);
        multi = NULL;
        return SOUK_ERR;
    }
    timer_open = 1;
    return SOUK_OK;
}

int notify_curl_add(notify_transfer *t, char *err, size_t errlen)
{
    curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
    CURLMcode rc = curl_multi_add_handle(multi, t->easy);
    if (rc != CURLM_OK) {
        snprintf(err, errlen, "libcurl: %s", curl_multi_strerror(rc));
        return SOUK_ERR;
    }
    return SOUK_OK;
}

void notify_curl_remove(notify_transfer *t)
{
    if (multi && t->easy)
        curl_multi_remove_handle(multi, t->easy);
}

void notify_curl_close(void)
{
    if (multi)
        curl_multi_cleanup(multi); /* closes the cached connections */
    multi = NULL;
    if (timer_open) {
        timer_open = 0;
        uv_timer_stop(&timer);
        uv_close((uv_handle_t *)&timer, NULL);
    }
    loop = NULL;
}
