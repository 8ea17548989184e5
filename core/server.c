/* server.c -- HTTP/1.1 on libuv: see server.h.
 *
 * One souk_server per worker process; one conn per TCP connection.  A connection
 * handles one request at a time:
 *
 *   READING  --request-->  (app, synchronous)  WRITING  [--> SENDFILE]  --> READING
 *      |                                          |                          ...
 *      +--protocol error / timeout--> WRITING (error, Connection: close) --> LINGER
 *
 * Reading stops while a response is written, and bytes that arrived behind a
 * request (pipelining) stay in the connection's input buffer until the response is
 * out; then parsing resumes on them.  Responses therefore go out in request order
 * and a client that does not read its responses stops being read from.
 *
 * Timers (one per connection, its meaning follows the state):
 *   READING, nothing of a request yet   first request: header_timeout_ms, then
 *                                       keepalive_timeout_ms; expiry closes silently
 *   READING, inside the head            header_timeout_ms from the first byte -> 408
 *   READING, inside the body            body_timeout_ms since the last read -> 408
 *   WRITING / SENDFILE                  write_timeout_ms without progress -> close
 *                                       (uv_write's progress is seen at each expiry,
 *                                       so a stalled write may last up to twice that)
 *   LINGER                              SERVER_LINGER_MS -> close
 * A limit of 0 disables its timer.
 *
 * File bodies: the head goes through uv_write; the file then goes with sendfile(2)
 * straight from the loop on the non-blocking socket.  When the socket is full, a
 * uv_poll handle on the same fd waits for writability.  libuv keeps one watcher per
 * fd, so the poll handle is only started while the TCP handle watches nothing (not
 * reading, no write queued): sendfile is started from the head's write callback,
 * and if it must wait, the poll is started from an idle callback, after libuv has
 * stopped the TCP handle's own write watcher. */
#include "server.h"

#include "buf.h"
#include "clock.h"
#include "gzip.h"
#include "log.h"
#include "reqparse.h"

#include <arpa/inet.h>
#include <errno.h>
#include <llhttp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <souk/souk.h>

/* listen(2) backlog of the listening socket. */
#define SOUK_LISTEN_BACKLOG 1024
/* Bytes asked from the socket per read. */
#define SERVER_READ_SIZE (64 * 1024)
/* Largest single sendfile(2) call. */
#define SERVER_SENDFILE_CHUNK (256 * 1024)
/* File bytes sent in one go before giving the other connections their turn. */
#define SERVER_SENDFILE_BURST (1024 * 1024)
/* After the last response of a connection, how long input is still read (and
 * thrown away) so that the close does not reset the connection before the client
 * has read the response (a RST can make it drop data it has not read yet). */
#define SERVER_LINGER_MS 2000
/* Room for a peer address. */
#define SERVER_IP_SIZE 64
/* During a drain, a connection accepted a moment ago that has not sent its first
 * request yet gets this long to send it (it is answered with Connection: close):
 * closing it at once would reset a client whose request is already on its way. */
#define SERVER_DRAIN_GRACE_MS 1000

typedef enum conn_state {
    CONN_READING,  /* reading a request, or parsing bytes already read */
    CONN_WRITING,  /* a response (or its head) is being written */
    CONN_SENDFILE, /* the head is out; the file body goes with sendfile */
    CONN_LINGER,   /* last response sent, write side shut: discarding input */
    CONN_CLOSING   /* uv_close called on the handles */
} conn_state;

typedef struct conn conn;

struct souk_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    uv_idle_t kick; /* starts the waits of SENDFILE connections */
    const souk_limits *limits;
    souk_server_hooks hooks;
    conn *conns;         /* open connections (doubly linked) */
    conn *kick_list;     /* connections waiting for the kick */
    int n_conns;         /* open, not closing */
    int n_alloc;         /* allocated, until their handles are closed */
    int open_handles;    /* listener + kick + allocated connections */
    int listening;       /* listener open (not closing) */
    int listener_closed; /* its close callback ran */
    int draining;
    int drain_reported;
    void (*drain_done)(void *ud);
    void *drain_ud;
    int freed; /* souk_server_free called: free when handles are gone */
    time_t date_sec;
    char date[SOUK_HTTP_DATE_SIZE];
    /* One read buffer for every connection: a read is parsed at once, and only
     * bytes left over (a pipelined or partial request) are copied out, so the
     * common request costs no allocation here. */
    int read_buf_busy;
    char read_buf[SERVER_READ_SIZE];
};

struct conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_poll_t poll;
    uv_write_t write_req;    /* the response */
    uv_write_t continue_req; /* an interim "100 Continue" */
    uv_shutdown_t shutdown_req;
    souk_server *srv;
    conn *prev, *next;
    conn *kick_next;
    int kicked;
    souk_reqparse *rp;
    conn_state state;
    int open_handles; /* close callbacks still to come */
    int poll_ready, poll_active, reading, continue_pending;
    char *rbuf; /* input not parsed yet: rbuf[roff..rlen) (heap) */
    size_t rlen, roff;
    int served;             /* responses built on this connection */
    int close_after;        /* the response in flight is the last one */
    char ip[SERVER_IP_SIZE];
    /* The response in flight. */
    int in_flight;
    souk_request *req; /* the parser's request, or &err_req */
    souk_response res;
    souk_request err_req; /* stands for the request of a protocol error */
    char *err_body;       /* malloc'ed JSON of a protocol error */
    souk_buf out;         /* head being written */
    const char *body;     /* body written behind it (borrowed), or NULL */
    size_t body_bytes;    /* body bytes sent, for on_complete */
    int file_fd;
    off_t file_off, file_end;
    size_t progress_mark;   /* what was left to write at the last timer check */
    uint64_t last_progress; /* loop time of the last bytes sendfile moved */
};

static void conn_close(conn *c);
static void conn_parse(conn *c);
static void on_read_timeout(uv_timer_t *t);
static void conn_pump_file(conn *c, int may_poll);

/* ---------------------------------------------------------------- helpers */

static const char *server_date(souk_server *s)
{
    /* The wire's Date is real time, never the store clock that tests move. */
    time_t now = time(NULL);
    if (now != s->date_sec || !s->date[0]) {
        souk_http_date(now, s->date);
        s->date_sec = now;
    }
    return s->date;
}

static void conn_timer(conn *c, uint32_t ms, uv_timer_cb cb)
{
    if (ms)
        uv_timer_start(&c->timer, cb, ms, 0);
    else
        uv_timer_stop(&c->timer);
}

static void server_check_drained(souk_server *s)
{
    if (s->draining && !s->drain_reported && s->listener_closed && s->n_alloc == 0) {
        s->drain_reported = 1;
        if (s->drain_done)
            s->drain_done(s->drain_ud);
    }
}

static void server_handle_gone(souk_server *s)
{
    s->open_handles--;
    server_check_drained(s);
    if (s->freed && s->open_handles == 0)
        free(s);
}

/* ------------------------------------------------------ closing a connection */

static void on_conn_handle_closed(uv_handle_t *h)
{
    conn *c = h->data;
    if (--c->open_handles > 0)
        return;
    souk_server *s = c->srv;
    if (c->rbuf != s->read_buf)
        free(c->rbuf);
    free(c->err_body);
    souk_buf_free(&c->out);
    souk_reqparse_free(c->rp);
    free(c);
    s->n_alloc--;
    server_handle_gone(s);
}

static void kick_remove(conn *c)
{
    if (!c->kicked)
        return;
    for (conn **pp = &c->srv->kick_list; *pp; pp = &(*pp)->kick_next) {
        if (*pp == c) {
            *pp = c->kick_next;
            break;
        }
    }
    c->kicked = 0;
}

static void report_complete(conn *c)
{
    souk_server *s = c->srv;
    if (!c->in_flight)
        return;
    c->in_flight = 0;
    if (s->hooks.on_complete && !s->freed) {
        uint64_t now = souk_clock_mono_us();
        uint64_t start = c->req->start_us ? c->req->start_us : now;
        s->hooks.on_complete(s->hooks.ud, c->req, &c->res, c->body_bytes,
                             (double)(now > start ? now - start : 0) / 1000.0);
    }
}

/* Close at once (no lingering): client gone, timeouts, drain of idle connections. */
static void conn_close(conn *c)
{
    if (c->state == CONN_CLOSING)
        return;
    souk_server *s = c->srv;
    report_complete(c); /* a response cut short is still logged */
    c->state = CONN_CLOSING;
    kick_remove(c);
    if (c->file_fd >= 0) {
        close(c->file_fd);
        c->file_fd = -1;
        c->res.file_fd = -1;
    }
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->n_conns--;
    /* The poll handle first: closing it removes the fd from epoll, which must
     * happen while the fd is still open (closing the TCP handle closes it). */
    if (c->poll_ready)
        uv_close((uv_handle_t *)&c->poll, on_conn_handle_closed);
    uv_close((uv_handle_t *)&c->timer, on_conn_handle_closed);
    uv_close((uv_handle_t *)&c->tcp, on_conn_handle_closed);
}

static void on_linger_timeout(uv_timer_t *t)
{
    conn_close(t->data);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    conn *c = req->data;
    if (status < 0 && c->state == CONN_LINGER)
        conn_close(c);
}

/* ------------------------------------------------------------------ reading */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    /* Reading only runs when every earlier byte was parsed (rbuf is NULL): the
     * buffer belongs to this read alone. */
    conn *c = h->data;
    souk_server *s = c->srv;
    if (!s->read_buf_busy) {
        s->read_buf_busy = 1;
        buf->base = s->read_buf;
    } else {
        buf->base = malloc(SERVER_READ_SIZE);
    }
    buf->len = buf->base ? SERVER_READ_SIZE : 0;
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

static void conn_read_start(conn *c)
{
    if (c->reading || c->state == CONN_CLOSING)
        return;
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) {
        conn_close(c);
        return;
    }
    c->reading = 1;
}

static void conn_read_stop(conn *c)
{
    if (!c->reading)
        return;
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = 0;
}

static void conn_input_drop(conn *c)
{
    if (c->rbuf == c->srv->read_buf)
        c->srv->read_buf_busy = 0;
    else
        free(c->rbuf);
    c->rbuf = NULL;
    c->rlen = c->roff = 0;
}

/* The last response is out and says Connection: close: shut the write side, then
 * read and discard until the client closes or SERVER_LINGER_MS passes. */
static void conn_linger(conn *c)
{
    conn_input_drop(c);
    c->state = CONN_LINGER;
    c->shutdown_req.data = c;
    if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, on_shutdown) != 0) {
        conn_close(c);
        return;
    }
    uv_timer_start(&c->timer, on_linger_timeout, SERVER_LINGER_MS, 0);
    conn_read_start(c);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    conn *c = stream->data;
    souk_server *s = c->srv;
    if (nread <= 0 || c->state != CONN_READING) {
        /* EAGAIN (0), or EOF or error: a half-sent request has nobody to answer
         * to.  LINGER discards whatever comes. */
        if (buf->base == s->read_buf)
            s->read_buf_busy = 0;
        else
            free(buf->base);
        if (nread < 0)
            conn_close(c);
        return;
    }
    c->rbuf = buf->base;
    c->rlen = (size_t)nread;
    c->roff = 0;
    conn_parse(c);
    /* Keep what was not parsed yet (it waits for the response in flight) in memory
     * of the connection's own: the shared buffer serves the next read. */
    if (c->rbuf == s->read_buf) {
        size_t left = c->rlen - c->roff;
        char *own = left ? malloc(left) : NULL;
        if (own)
            memcpy(own, s->read_buf + c->roff, left);
        s->read_buf_busy = 0;
        c->rbuf = own;
        c->rlen = own ? left : 0;
        c->roff = 0;
        if (left && !own)
            conn_close(c);
    }
}

/* ------------------------------------------------------------------ writing */

static void on_write_timeout(uv_timer_t *t)
{
    conn *c = t->data;
    uint32_t limit = c->srv->limits->write_timeout_ms;
    if (c->state != CONN_WRITING && c->state != CONN_SENDFILE)
        return;
    /* The limit is on a client that stops reading, not on a large response:
     * progress re-arms the timer.  sendfile knows when it last moved bytes; a
     * uv_write only shows how much is still queued at each check. */
    if (c->state == CONN_SENDFILE) {
        uint64_t idle = uv_now(c->srv->loop) - c->last_progress;
        if (idle < limit) {
            uv_timer_start(&c->timer, on_write_timeout, limit - idle, 0);
            return;
        }
    } else {
        size_t left = uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp);
        if (left < c->progress_mark) {
            c->progress_mark = left;
            uv_timer_start(&c->timer, on_write_timeout, limit, 0);
            return;
        }
    }
    souk_log(SOUK_LOG_INFO, "closing connection from %s: client does not read its response", c->ip);
    conn_close(c);
}

/* The response (and its file, if any) is completely sent. */
static void conn_response_done(conn *c)
{
    souk_server *s = c->srv;
    report_complete(c);
    souk_buf_free(&c->out);
    free(c->err_body);
    c->err_body = NULL;
    int was_request = c->req != &c->err_req;
    c->req = NULL;
    if (was_request)
        souk_reqparse_next(c->rp);
    if (c->close_after) {
        conn_linger(c);
        return;
    }
    c->state = CONN_READING;
    /* Idle until the next request's first byte (conn_parse switches to the
     * header timeout when it sees one). */
    conn_timer(c, s->limits->keepalive_timeout_ms, on_read_timeout);
    if (c->rbuf) {
        /* Pipelined bytes already here (during a drain too: the next response
         * says Connection: close). */
        conn_parse(c);
        return;
    }
    if (s->draining) { /* answered with keep-alive just before the drain began */
        conn_close(c);
        return;
    }
    conn_read_start(c);
}

static void on_response_written(uv_write_t *req, int status)
{
    conn *c = req->data;
    if (c->state == CONN_CLOSING)
        return;
    if (status < 0) {
        conn_close(c);
        return;
    }
    if (c->file_fd >= 0) {
        c->state = CONN_SENDFILE;
        c->last_progress = uv_now(c->srv->loop);
        conn_pump_file(c, 0);
        return;
    }
    conn_response_done(c);
}

static void conn_write_out(conn *c)
{
    c->state = CONN_WRITING;
    c->write_req.data = c;
    uv_buf_t b[2] = {uv_buf_init(c->out.data, (unsigned)c->out.len),
                     uv_buf_init((char *)c->body, (unsigned)c->body_bytes)};
    unsigned n = c->body ? 2 : 1;
    if (uv_write(&c->write_req, (uv_stream_t *)&c->tcp, b, n, on_response_written) != 0) {
        conn_close(c);
        return;
    }
    c->progress_mark = uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp);
    conn_timer(c, c->srv->limits->write_timeout_ms, on_write_timeout);
}

static void on_continue_written(uv_write_t *req, int status)
{
    conn *c = req->data;
    c->continue_pending = 0;
    if (status < 0 && c->state != CONN_CLOSING)
        conn_close(c);
}

static void conn_write_continue(conn *c)
{
    static const char line[] = SOUK_REQPARSE_CONTINUE_RESPONSE;
    /* Never two at once: responses complete in order, so the previous request's
     * 100 was written before its response, and parsing only resumes after that. */
    if (c->continue_pending)
        return;
    c->continue_req.data = c;
    uv_buf_t b = uv_buf_init((char *)line, sizeof line - 1);
    if (uv_write(&c->continue_req, (uv_stream_t *)&c->tcp, &b, 1, on_continue_written) != 0) {
        conn_close(c);
        return;
    }
    c->continue_pending = 1;
}

/* ----------------------------------------------------------------- sendfile */

static void on_kick(uv_idle_t *h);

static void conn_kick(conn *c)
{
    if (c->kicked)
        return;
    c->kicked = 1;
    c->kick_next = c->srv->kick_list;
    c->srv->kick_list = c;
    uv_idle_start(&c->srv->kick, on_kick);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    conn *c = h->data;
    if (c->state != CONN_SENDFILE)
        return;
    if (status < 0) {
        conn_close(c);
        return;
    }
    conn_pump_file(c, 1);
}

/* Wait until the socket takes more.  Only called outside libuv's stream
 * callbacks (from the idle kick or the poll callback itself), when the TCP
 * handle's watcher is stopped. */
static void conn_wait_writable(conn *c)
{
    if (!c->poll_ready) {
        uv_os_fd_t fd;
        if (uv_fileno((uv_handle_t *)&c->tcp, &fd) != 0 ||
            uv_poll_init_socket(c->srv->loop, &c->poll, fd) != 0) {
            souk_log(SOUK_LOG_WARN, "cannot wait on the socket of %s; closing it", c->ip);
            conn_close(c);
            return;
        }
        c->poll.data = c;
        c->poll_ready = 1;
        c->open_handles++;
    }
    if (!c->poll_active) {
        if (uv_poll_start(&c->poll, UV_WRITABLE, on_poll) != 0) {
            conn_close(c);
            return;
        }
        c->poll_active = 1;
    }
}

static void conn_pump_file(conn *c, int may_poll)
{
    uv_os_fd_t sock;
    if (uv_fileno((uv_handle_t *)&c->tcp, &sock) != 0) {
        conn_close(c);
        return;
    }
    size_t burst = 0;
    while (c->file_off < c->file_end) {
        size_t want = (size_t)(c->file_end - c->file_off);
        if (want > SERVER_SENDFILE_CHUNK)
            want = SERVER_SENDFILE_CHUNK;
        ssize_t n = sendfile(sock, c->file_fd, &c->file_off, want);
        if (n > 0) {
            c->body_bytes += (size_t)n;
            c->last_progress = uv_now(c->srv->loop);
            burst += (size_t)n;
            if (burst >= SERVER_SENDFILE_BURST)
                break; /* let the other connections have the loop */
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        /* n == 0: the file shrank under us; the promised Content-Length can no
         * longer be kept, so the connection cannot go on. */
        souk_log(SOUK_LOG_WARN, "sending a file to %s failed: %s", c->ip,
                 n == 0 ? "file truncated" : strerror(errno));
        conn_close(c);
        return;
    }
    if (c->file_off < c->file_end) {
        if (may_poll)
            conn_wait_writable(c);
        else
            conn_kick(c);
        return;
    }
    if (c->poll_active) {
        uv_poll_stop(&c->poll);
        c->poll_active = 0;
    }
    close(c->file_fd);
    c->file_fd = -1;
    c->res.file_fd = -1;
    conn_response_done(c);
}

static void on_kick(uv_idle_t *h)
{
    souk_server *s = h->data;
    conn *list = s->kick_list;
    s->kick_list = NULL;
    uv_idle_stop(&s->kick);
    while (list) {
        conn *c = list;
        list = c->kick_next;
        c->kicked = 0;
        if (c->state == CONN_SENDFILE)
            conn_pump_file(c, 1);
    }
}

/* --------------------------------------------------------------- responses */

static int status_has_body(int status)
{
    return status >= 200 && status != 204 && status != 304;
}

/* Headers the server writes itself: an application's copy would contradict the
 * framing or duplicate them (a second Content-Type could make a browser read a
 * JSON body as a page). */
static int header_reserved(const char *name)
{
    static const char *const reserved[] = {
        "Content-Length", "Transfer-Encoding", "Connection", "Date",
        "Server",         "Content-Encoding",  "Vary",       "Content-Type"};
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++) {
        if (strcasecmp(name, reserved[i]) == 0)
            return 1;
    }
    return 0;
}

/* Serialise c->res for c->req into c->out and start writing it. */
static void conn_send_response(conn *c, int head_only)
{
    souk_server *s = c->srv;
    souk_response *res = &c->res;
    souk_request *req = c->req;
    /* Only final statuses: an application's 1xx would be read as an interim
     * response, and the real one would never come. */
    if (res->status < 200 || res->status > 599)
        res->status = 500;
    int with_body = status_has_body(res->status);

    const char *body = res->body ? res->body : "";
    size_t body_len = res->body ? res->body_len : 0;
    int gzipped = 0, file = res->file_fd >= 0;
    if (file) {
        body_len = (size_t)res->file_size;
        if (!with_body || head_only || res->file_size <= 0) {
            close(res->file_fd); /* nothing of it goes out */
            res->file_fd = -1;
            file = 0;
        }
    } else if (with_body && res->compressible && body_len >= SOUK_GZIP_MIN_SIZE &&
               souk_accepts_gzip(souk_request_header(req, "Accept-Encoding"))) {
        char *z;
        size_t zlen;
        /* HEAD compresses too: its Content-Length must be the GET's. */
        if (souk_gzip_compress(req->arena, body, body_len, &z, &zlen) == 0 && zlen < body_len) {
            body = z;
            body_len = zlen;
            gzipped = 1;
        }
    }

    souk_buf *o = &c->out;
    souk_buf_reset(o);
    souk_buf_printf(o, "HTTP/1.1 %d %s\r\nDate: %s\r\nServer: souk\r\n", res->status,
                    souk_http_reason(res->status), server_date(s));
    const char *type = res->content_type;
    if (with_body && type && souk_http_header_valid("Content-Type", type))
        souk_buf_printf(o, "Content-Type: %s\r\n", type);
    if (gzipped)
        souk_buf_adds(o, "Content-Encoding: gzip\r\n");
    if (res->compressible)
        souk_buf_adds(o, "Vary: Accept-Encoding\r\n");
    if (with_body)
        souk_buf_printf(o, "Content-Length: %zu\r\n", body_len);
    for (int i = 0; i < res->n_headers; i++) {
        const souk_header *h = &res->headers[i];
        if (header_reserved(h->name) || !souk_http_header_valid(h->name, h->value))
            continue;
        souk_buf_printf(o, "%s: %s\r\n", h->name, h->value);
    }
    souk_buf_printf(o, "Connection: %s\r\n\r\n", c->close_after ? "close" : "keep-alive");

    c->body_bytes = 0;
    c->body = NULL;
    if (file) {
        c->file_fd = res->file_fd;
        c->file_off = 0;
        c->file_end = res->file_size;
    } else if (with_body && !head_only && body_len) {
        /* Written from where it is (the request arena or err_body), which lives
         * until the response is done. */
        c->body = body;
        c->body_bytes = body_len;
    }
    conn_write_out(c);
}

static void conn_dispatch(conn *c)
{
    souk_server *s = c->srv;
    souk_request *req = souk_reqparse_request(c->rp);
    snprintf(req->ip, sizeof req->ip, "%s", c->ip);
    c->req = req;
    souk_response_init(&c->res, req->arena);
    c->in_flight = 1;
    c->served++;
    s->hooks.on_request(s->hooks.ud, req, &c->res);
    int limit = s->limits->requests_per_connection;
    c->close_after =
        !req->keep_alive || c->res.close || s->draining || (limit > 0 && c->served >= limit);
    conn_send_response(c, req->method_id == HTTP_HEAD);
}

static const char *error_code(int status)
{
    switch (status) {
    case 400: return "bad_request";
    case 408: return "request_timeout";
    case 413: return "payload_too_large";
    case 414: return "uri_too_long";
    case 417: return "expectation_failed";
    case 431: return "header_fields_too_large";
    case 501: return "not_implemented";
    case 505: return "http_version_not_supported";
    default: return "error";
    }
}

/* Answer a protocol error (or a timeout) and end the connection. */
static void conn_send_error(conn *c, int status, const char *message)
{
    conn_read_stop(c);
    conn_input_drop(c);
    memset(&c->err_req, 0, sizeof c->err_req);
    c->err_req.method = "-";
    c->err_req.target = "-";
    c->err_req.path = "-";
    c->err_req.query = "";
    c->err_req.body = "";
    snprintf(c->err_req.ip, sizeof c->err_req.ip, "%s", c->ip);
    snprintf(c->err_req.id, sizeof c->err_req.id, "-");
    c->err_req.start_us = souk_clock_mono_us();
    c->req = &c->err_req;

    json_t *doc =
        json_pack("{s:{s:s,s:s}}", "error", "code", error_code(status), "message", message);
    free(c->err_body);
    c->err_body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    souk_response_init(&c->res, NULL);
    c->res.status = status;
    c->res.route = "error";
    c->res.content_type = "application/json";
    c->res.body = c->err_body;
    c->res.body_len = c->err_body ? strlen(c->err_body) : 0;
    c->in_flight = 1;
    c->close_after = 1;
    conn_send_response(c, 0);
}

/* ------------------------------------------------------------------ parsing */

static void on_read_timeout(uv_timer_t *t)
{
    conn *c = t->data;
    if (c->state != CONN_READING)
        return;
    souk_reqparse_phase ph = souk_reqparse_get_phase(c->rp);
    if (ph == SOUK_REQPARSE_IDLE) { /* an idle connection: nobody waits for an answer */
        conn_close(c);
        return;
    }
    conn_send_error(c, 408,
                    ph == SOUK_REQPARSE_BODY ? "timed out reading the request body"
                                             : "timed out reading the request headers");
}

/* Feed what is buffered to the parser; dispatch a request or an error, or read on. */
static void conn_parse(conn *c)
{
    const souk_limits *lim = c->srv->limits;
    souk_reqparse_phase before = souk_reqparse_get_phase(c->rp);
    while (c->roff < c->rlen) {
        size_t used = 0;
        souk_reqparse_event ev =
            souk_reqparse_feed(c->rp, c->rbuf + c->roff, c->rlen - c->roff, &used);
        c->roff += used;
        if (before == SOUK_REQPARSE_IDLE && souk_reqparse_get_phase(c->rp) != before) {
            before = SOUK_REQPARSE_HEAD;
            /* the whole head must arrive within header_timeout_ms of its first byte */
            conn_timer(c, lim->header_timeout_ms, on_read_timeout);
        }
        if (ev == SOUK_REQPARSE_CONTINUE) {
            conn_write_continue(c);
            if (c->state == CONN_CLOSING)
                return;
        } else if (ev == SOUK_REQPARSE_REQUEST) {
            conn_read_stop(c);
            if (c->roff == c->rlen)
                conn_input_drop(c);
            conn_dispatch(c);
            return;
        } else if (ev == SOUK_REQPARSE_ERROR) {
            conn_send_error(c, souk_reqparse_error_status(c->rp),
                            souk_reqparse_error_message(c->rp));
            return;
        }
    }
    conn_input_drop(c);
    if (souk_reqparse_get_phase(c->rp) == SOUK_REQPARSE_BODY)
        conn_timer(c, lim->body_timeout_ms, on_read_timeout); /* an idle gap limit */
    conn_read_start(c);
}

/* ------------------------------------------------------------ connections */

static void on_refused_closed(uv_handle_t *h)
{
    souk_server *s = h->data;
    free(h);
    s->n_alloc--;
    server_handle_gone(s);
}

static void peer_name(uv_tcp_t *tcp, char *out, size_t outlen)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    snprintf(out, outlen, "-");
    if (uv_tcp_getpeername(tcp, (struct sockaddr *)&ss, &len) != 0)
        return;
    if (ss.ss_family == AF_INET)
        uv_ip4_name((struct sockaddr_in *)&ss, out, outlen);
    else if (ss.ss_family == AF_INET6)
        uv_ip6_name((struct sockaddr_in6 *)&ss, out, outlen);
}

static void on_connection(uv_stream_t *listener, int status)
{
    souk_server *s = listener->data;
    if (status < 0) {
        souk_log(SOUK_LOG_WARN, "accept failed: %s", uv_strerror(status));
        return;
    }
    if (s->n_conns >= s->limits->max_connections || s->draining) {
        /* Over the limit: accept (so that it leaves the backlog) and close. */
        uv_tcp_t *t = malloc(sizeof *t);
        if (!t || uv_tcp_init(s->loop, t) != 0) {
            free(t);
            return;
        }
        t->data = s;
        s->n_alloc++;
        s->open_handles++;
        uv_accept(listener, (uv_stream_t *)t);
        uv_close((uv_handle_t *)t, on_refused_closed);
        return;
    }
    conn *c = calloc(1, sizeof *c);
    if (!c)
        return;
    c->srv = s;
    c->file_fd = -1;
    uv_tcp_init(s->loop, &c->tcp);
    uv_timer_init(s->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->open_handles = 2;
    c->rp = souk_reqparse_new(s->limits);
    s->n_alloc++;
    s->open_handles++;
    s->n_conns++;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    c->state = CONN_READING;
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
        conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    peer_name(&c->tcp, c->ip, sizeof c->ip);
    /* The first request gets the header timeout for its first byte too. */
    conn_timer(c, s->limits->header_timeout_ms, on_read_timeout);
    conn_read_start(c);
}

/* ------------------------------------------------------------------- server */

static void on_server_handle_closed(uv_handle_t *h)
{
    souk_server *s = h->data;
    if (h == (uv_handle_t *)&s->listener)
        s->listener_closed = 1;
    server_handle_gone(s);
}

int souk_server_start(souk_server **out, uv_loop_t *loop, uv_os_sock_t fd,
                      const souk_limits *limits, const souk_server_hooks *hooks, char *err,
                      size_t errlen)
{
    *out = NULL;
    if (!hooks || !hooks->on_request) {
        souk_errorf(err, errlen, "server: no request handler");
        return -1;
    }
    souk_server *s = calloc(1, sizeof *s);
    if (!s) {
        souk_errorf(err, errlen, "server: out of memory");
        return -1;
    }
    /* A client that closes while its response is written must cost an EPIPE,
     * not the process: libuv leaves SIGPIPE to the application. */
    signal(SIGPIPE, SIG_IGN);
    s->loop = loop;
    s->limits = limits;
    s->hooks = *hooks;
    int rc = uv_tcp_init(loop, &s->listener);
    if (rc != 0) {
        souk_errorf(err, errlen, "server: %s", uv_strerror(rc));
        free(s);
        return -1;
    }
    s->listener.data = s;
    uv_idle_init(loop, &s->kick);
    s->kick.data = s;
    s->open_handles = 2;
    s->listening = 1;
    rc = uv_tcp_open(&s->listener, fd);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&s->listener, SOUK_LISTEN_BACKLOG, on_connection);
    if (rc != 0) {
        souk_errorf(err, errlen, "server: cannot listen on fd %d: %s", (int)fd, uv_strerror(rc));
        souk_server_free(s); /* handles close on the loop's next run */
        return -1;
    }
    *out = s;
    return 0;
}

static void server_close_listener(souk_server *s)
{
    if (!s->listening)
        return;
    s->listening = 0;
    uv_close((uv_handle_t *)&s->listener, on_server_handle_closed);
}

void souk_server_drain(souk_server *s, void (*done)(void *ud), void *ud)
{
    s->draining = 1;
    s->drain_done = done;
    s->drain_ud = ud;
    server_close_listener(s);
    for (conn *c = s->conns, *next; c; c = next) {
        next = c->next;
        /* Idle: between requests, nothing buffered.  The others finish what
         * they are doing and close (their response says Connection: close). */
        if (c->state == CONN_READING && !c->rbuf &&
            souk_reqparse_get_phase(c->rp) == SOUK_REQPARSE_IDLE) {
            if (c->served > 0)
                conn_close(c);
            else
                conn_timer(c, SERVER_DRAIN_GRACE_MS, on_read_timeout);
        }
    }
    server_check_drained(s);
}

int souk_server_connections(const souk_server *s)
{
    return s->n_conns;
}

void souk_server_free(souk_server *s)
{
    if (!s)
        return;
    s->freed = 1;
    s->drain_done = NULL;
    server_close_listener(s);
    while (s->conns)
        conn_close(s->conns);
    if (!uv_is_closing((uv_handle_t *)&s->kick))
        uv_close((uv_handle_t *)&s->kick, on_server_handle_closed);
    if (s->open_handles == 0)
        free(s);
}

/* ----------------------------------------------------------------- listening */

int souk_listen_socket(const char *host, int port, int *bound_port, char *err, size_t errlen)
{
    char name[256];
    if (!host || !*host || strcmp(host, "*") == 0)
        host = "0.0.0.0";
    else if (strcmp(host, "localhost") == 0)
        host = "127.0.0.1"; /* one predictable address, not whatever the resolver prefers */
    size_t hl = strlen(host);
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']' && hl - 2 < sizeof name) {
        memcpy(name, host + 1, hl - 2); /* "[::1]" */
        name[hl - 2] = '\0';
    } else {
        snprintf(name, sizeof name, "%s", host);
    }
    if (port < 0 || port > 65535) {
        souk_errorf(err, errlen, "listen: port %d out of range", port);
        return -1;
    }
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sslen;
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, name, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        sslen = sizeof *v4;
    } else if (inet_pton(AF_INET6, name, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        sslen = sizeof *v6;
    } else {
        souk_errorf(err, errlen, "listen: '%s' is not an IPv4 or IPv6 address", host);
        return -1;
    }
    /* Not close-on-exec: the master hands this socket to its workers. */
    /* CLOEXEC: the master hands the socket to its workers explicitly (as fd 3);
     * nothing else it may start should inherit it. */
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        souk_errorf(err, errlen, "listen on %s:%d: socket: %s", host, port, strerror(errno));
        return -1;
    }
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&ss, sslen) != 0 || listen(fd, SOUK_LISTEN_BACKLOG) != 0) {
        souk_errorf(err, errlen, "listen on %s:%d: %s", host, port, strerror(errno));
        close(fd);
        return -1;
    }
    if (bound_port) {
        struct sockaddr_storage got;
        socklen_t gl = sizeof got;
        *bound_port = port;
        if (getsockname(fd, (struct sockaddr *)&got, &gl) == 0)
            *bound_port = ntohs(got.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&got)->sin6_port
                                                          : ((struct sockaddr_in *)&got)->sin_port);
    }
    return fd;
}
