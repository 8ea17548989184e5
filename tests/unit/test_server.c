/* test_server.c -- the HTTP server over real sockets on 127.0.0.1.
 *
 * A child process runs a libuv loop with souk_server_start and a small
 * application (echo, a 5 KiB text body, static files); the parent talks to it with
 * plain blocking sockets.  Timeouts in the child's limits are a few hundred
 * milliseconds, and every wait in the parent is bounded by a receive timeout, so a
 * broken server fails the test instead of hanging it.  At the end the parent sends
 * SIGTERM: the child drains, frees everything and must exit 0 (a leak report from
 * the sanitizer would make it exit non-zero). */
#define _GNU_SOURCE /* memmem */
#include "buf.h"
#include "gzip.h"
#include "server.h"
#include "static.h"
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

/* Every blocking receive in the parent gives up after this long. */
#define CLIENT_TIMEOUT_MS 5000
/* The child's timeouts: short, so that the timeout tests are quick. */
#define CHILD_TIMEOUT_MS 300
#define BIG_TEXT_SIZE (5 * 1024)
#define FILE_SIZE (300 * 1024)
/* The server side's socket send buffer (see start_child). */
#define SERVER_SNDBUF (16 * 1024)

static char tmp_dir[256], static_root[PATH_MAX];
static char *big_text;            /* the /big body */
static unsigned char *file_bytes; /* static/big.bin */
static int complete_pipe[2];      /* child -> parent: one line per on_complete */

/* ------------------------------------------------------------------ child */

static void app_request(void *ud, souk_request *req, souk_response *res)
{
    souk_arena *a = req->arena;
    if (strcmp(req->path, "/big") == 0) {
        souk_response_body(res, a, "text/plain; charset=utf-8", big_text, BIG_TEXT_SIZE);
        res->compressible = 1;
        res->route = "/big";
    } else if (strncmp(req->path, "/static/", 8) == 0) {
        souk_static_serve(req, res, a, static_root, req->path + 8, 60);
    } else if (strcmp(req->path, "/close") == 0) {
        souk_response_body(res, a, "text/plain", "bye", 3);
        res->close = 1;
    } else if (strncmp(req->path, "/status/", 8) == 0) {
        souk_response_body(res, a, "text/plain", "s", 1);
        res->status = atoi(req->path + 8);
    } else {
        char *s = souk_arena_printf(a, "method=%s path=%s query=%s body=%s", req->method, req->path,
                                    req->query, req->body);
        souk_response_body(res, a, "text/plain", s, strlen(s));
        souk_response_header(res, a, "X-Echo", "1");
        souk_response_header(res, a, "Content-Length", "999"); /* must be ignored */
        souk_response_header(res, a, "Content-Type", "text/html"); /* and this one */
        res->route = "/echo";
    }
}

static void app_complete(void *ud, const souk_request *req, const souk_response *res, size_t bytes,
                         double ms)
{
    char line[256];
    int n = snprintf(line, sizeof line, "%s %s %d %zu %s\n", req->method, req->path, res->status,
                     bytes, res->route ? res->route : "?");
    ssize_t w = write(complete_pipe[1], line, (size_t)n);
    (void)w;
}

typedef struct child_state {
    souk_server *srv;
    uv_signal_t sig;
    int drained;
} child_state;

static void child_drained(void *ud)
{
    child_state *cs = ud;
    cs->drained = 1;
    uv_close((uv_handle_t *)&cs->sig, NULL);
}

static void child_on_term(uv_signal_t *sig, int signum)
{
    child_state *cs = sig->data;
    uv_signal_stop(sig);
    souk_server_drain(cs->srv, child_drained, cs);
}

static void run_child(int fd, const souk_limits *lim)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    child_state cs = {0};
    souk_server_hooks hooks = {app_request, app_complete, NULL};
    char err[256];
    if (souk_server_start(&cs.srv, &loop, fd, lim, &hooks, err, sizeof err) != 0) {
        fprintf(stderr, "child: %s\n", err);
        _exit(2);
    }
    uv_signal_init(&loop, &cs.sig);
    cs.sig.data = &cs;
    uv_signal_start(&cs.sig, child_on_term, SIGTERM);
    uv_run(&loop, UV_RUN_DEFAULT);
    int code = cs.drained && souk_server_connections(cs.srv) == 0 ? 0 : 3;
    souk_server_free(cs.srv);
    uv_run(&loop, UV_RUN_DEFAULT); /* let the last handles close */
    if (uv_loop_close(&loop) != 0)
        code = 4;
    free(big_text);
    free(file_bytes);
    exit(code);
}

static souk_limits child_limits(void)
{
    souk_limits l = {0};
    l.header_size = 2048;
    l.url_size = 512;
    l.max_headers = 20;
    l.body_size = 4096;
    l.header_timeout_ms = CHILD_TIMEOUT_MS;
    l.body_timeout_ms = CHILD_TIMEOUT_MS;
    l.keepalive_timeout_ms = CHILD_TIMEOUT_MS;
    l.write_timeout_ms = 2 * CHILD_TIMEOUT_MS;
    l.requests_per_connection = 4;
    l.max_connections = 64;
    l.shutdown_timeout_ms = 1000;
    return l;
}

/* Fork a server with these limits; returns its pid and sets *port. */
static pid_t start_child(const souk_limits *lim, int *port)
{
    char err[256];
    int fd = souk_listen_socket("127.0.0.1", 0, port, err, sizeof err);
    if (fd < 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    /* Accepted sockets inherit the listener's send buffer size: a small one (it
     * also turns off the kernel's autotuning) makes the 300 KiB file responses
     * fill the socket, so that sendfile really has to wait for writability. */
    int sndbuf = SERVER_SNDBUF;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(complete_pipe[0]);
        run_child(fd, lim);
    }
    close(fd);
    return pid;
}

/* SIGTERM, then wait (bounded) for the exit status; -1 if it had to be killed. */
static int stop_child(pid_t pid)
{
    kill(pid, SIGTERM);
    for (int i = 0; i < CLIENT_TIMEOUT_MS / 10; i++) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        usleep(10 * 1000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

/* ----------------------------------------------------------------- client */

static int server_port;

typedef struct client {
    int fd;
    souk_buf in;
} client;

typedef struct response {
    int status;
    char *head;
    char *body;
    size_t body_len;
} response;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* rcvbuf > 0 shrinks the receive buffer (before connecting, so that the window
 * is small too): the server's sendfile then has to wait for the socket. */
static int client_open(client *c, int port, int rcvbuf)
{
    memset(c, 0, sizeof *c);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {CLIENT_TIMEOUT_MS / 1000, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (rcvbuf > 0)
        setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return connect(c->fd, (struct sockaddr *)&sa, sizeof sa);
}

static void client_close(client *c)
{
    close(c->fd);
    souk_buf_free(&c->in);
}

static void client_send(client *c, const char *s, size_t n)
{
    while (n) {
        ssize_t w = send(c->fd, s, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

static void client_sends(client *c, const char *s)
{
    client_send(c, s, strlen(s));
}

static ssize_t client_fill(client *c)
{
    char tmp[64 * 1024];
    ssize_t n = recv(c->fd, tmp, sizeof tmp, 0);
    if (n > 0)
        souk_buf_add(&c->in, tmp, (size_t)n);
    return n;
}

static void response_free(response *r)
{
    free(r->head);
    free(r->body);
    memset(r, 0, sizeof *r);
}

/* The value of a response header (first one), copied into out; NULL if absent. */
static const char *header(const response *r, const char *name, char *out, size_t outlen)
{
    size_t n = strlen(name);
    for (const char *p = r->head ? strstr(r->head, "\r\n") : NULL; p; p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2;
        if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ')
                v++;
            const char *e = strstr(v, "\r\n");
            size_t vn = e ? (size_t)(e - v) : strlen(v);
            if (vn >= outlen)
                vn = outlen - 1;
            memcpy(out, v, vn);
            out[vn] = '\0';
            return out;
        }
    }
    return NULL;
}

static int header_is(const response *r, const char *name, const char *want)
{
    char v[512];
    return header(r, name, v, sizeof v) && strcmp(v, want) == 0;
}

/* Read one response; head_request: the body is not sent whatever Content-Length
 * says.  0, or -1 on EOF/timeout before it was complete. */
static int read_response(client *c, response *r, int head_request)
{
    memset(r, 0, sizeof *r);
    char *end;
    while (!c->in.len || !(end = memmem(c->in.data, c->in.len, "\r\n\r\n", 4))) {
        if (client_fill(c) <= 0)
            return -1;
    }
    size_t hlen = (size_t)(end - c->in.data) + 4;
    r->head = strndup(c->in.data, hlen);
    if (sscanf(r->head, "HTTP/1.1 %d", &r->status) != 1)
        r->status = -1;
    char v[64];
    size_t blen = 0;
    if (!head_request && header(r, "Content-Length", v, sizeof v))
        blen = strtoul(v, NULL, 10);
    while (c->in.len < hlen + blen) {
        if (client_fill(c) <= 0)
            return -1;
    }
    r->body = malloc(blen + 1);
    memcpy(r->body, c->in.data + hlen, blen);
    r->body[blen] = '\0';
    r->body_len = blen;
    memmove(c->in.data, c->in.data + hlen + blen, c->in.len - hlen - blen);
    c->in.len -= hlen + blen;
    return 0;
}

/* Whether the server closes the connection (EOF or reset) before the timeout,
 * with nothing else sent. */
static int closed_by_server(client *c)
{
    if (c->in.len)
        return 0;
    char b;
    ssize_t n = recv(c->fd, &b, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
}

/* One request on a fresh connection. */
static int roundtrip(const char *request, response *r)
{
    client c;
    if (client_open(&c, server_port, 0) != 0)
        return -1;
    client_sends(&c, request);
    int rc = read_response(&c, r, strncmp(request, "HEAD ", 5) == 0);
    client_close(&c);
    return rc;
}

/* ------------------------------------------------------------------ tests */

/* An application status that is not a final one (1xx would be read as an interim
 * response, and the client would wait for another) goes out as a 500 with its
 * body framed. */
TEST(final_status_only)
{
    const int statuses[] = {101, 100, 99, 600, 404, 599};
    const int wire[] = {500, 500, 500, 500, 404, 599};
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        char req[64];
        snprintf(req, sizeof req, "GET /status/%d HTTP/1.1\r\n\r\n", statuses[i]);
        response r;
        CHECK_INT(roundtrip(req, &r), 0);
        CHECK_INT(r.status, wire[i]);
        CHECK(header_is(&r, "Content-Length", "1"));
        response_free(&r);
    }
}

TEST(keep_alive)
{
    client c;
    CHECK_INT(client_open(&c, server_port, 0), 0);
    response r;
    client_sends(&c, "GET /echo?x=1 HTTP/1.1\r\nHost: t\r\n\r\n");
    CHECK_INT(read_response(&c, &r, 0), 0);
    CHECK_INT(r.status, 200);
    CHECK_STR(r.body, "method=GET path=/echo query=x=1 body=");
    CHECK(header_is(&r, "Connection", "keep-alive"));
    CHECK(header_is(&r, "Server", "souk"));
    CHECK(header_is(&r, "Content-Type", "text/plain"));
    CHECK(header_is(&r, "X-Echo", "1"));
    char v[64];
    CHECK(header(&r, "Date", v, sizeof v) && strlen(v) == 29 && strstr(v, " GMT"));
    CHECK(header_is(&r, "Content-Length", "37")); /* the application's 999 is ignored */
    CHECK(strstr(r.head, "999") == NULL);
    CHECK(strstr(r.head, "text/html") == NULL); /* one Content-Type: the body's own */
    response_free(&r);
    client_sends(&c, "POST /e HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
    CHECK_INT(read_response(&c, &r, 0), 0);
    CHECK_STR(r.body, "method=POST path=/e query= body=abc");
    response_free(&r);
    client_close(&c);
}

TEST(pipelining_in_order)
{
    client c;
    CHECK_INT(client_open(&c, server_port, 0), 0);
    client_sends(&c, "GET /p1 HTTP/1.1\r\n\r\n"
                     "POST /p2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n"
                     "GET /p3?q HTTP/1.1\r\n\r\n");
    const char *want[] = {
        "method=GET path=/p1 query= body=", "method=POST path=/p2 query= body=xyz",
        "method=GET path=/p3 query=q body="};
    for (int i = 0; i < 3; i++) {
        response r;
        CHECK_INT(read_response(&c, &r, 0), 0);
        CHECK_STR(r.body, want[i]);
        response_free(&r);
    }
    client_close(&c);
}

TEST(requests_per_connection)
{
    client c;
    CHECK_INT(client_open(&c, server_port, 0), 0);
    for (int i = 1; i <= 4; i++) {
        response r;
        client_sends(&c, "GET /n HTTP/1.1\r\n\r\n");
        CHECK_INT(read_response(&c, &r, 0), 0);
        CHECK(header_is(&r, "Connection", i < 4 ? "keep-alive" : "close"));
        response_free(&r);
    }
    CHECK(closed_by_server(&c));
    client_close(&c);
}

TEST(http10_closes)
{
    client c;
    CHECK_INT(client_open(&c, server_port, 0), 0);
    response r;
    client_sends(&c, "GET /old HTTP/1.0\r\n\r\n");
    CHECK_INT(read_response(&c, &r, 0), 0);
    CHECK_INT(r.status, 200);
    CHECK(header_is(&r, "Connection", "close"));
    response_free(&r);
    CHECK(closed_by_server(&c));
    client_close(&c);
    /* 1.0 with keep-alive stays open. */
    CHECK_INT(client_open(&c, server_port, 0), 0);
    client_sends(&c, "GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    CHECK_INT(read_response(&c, &r, 0), 0);
    CHECK(header_is(&r, "Connection", "keep-alive"));
    response_free(&r);
    client_sends(&c, "GET /close HTTP/1.1\r\n\r\n"); /* the application asks to close */
    CHECK_INT(read_response(&c, &r, 0), 0);
    CHECK(header_is(&r, "Connection", "close"));
    response_free(&r);
    CHECK(closed_by_server(&c));
    client_close(&c);
}

static int gunzip(const char *in, size_t n, char *out, size_t cap, size_t *got)
{
    z_stream zs = {0};
    if (inflateInit2(&zs, 15 + 16) != Z_OK)
        return -1;
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)n;
    zs.next_out = (Bytef *)out;
    zs.avail_out = (uInt)cap;
    int rc = inflate(&zs, Z_FINISH);
    *got = zs.total_out;
    inflateEnd(&zs);
    return rc == Z_STREAM_END ? 0 : -1;
}

TEST(gzip)
{
    response r;
    CHECK_INT(roundtrip("GET /big HTTP/1.1\r\nAccept-Encoding: br, gzip\r\n\r\n", &r), 0);
    CHECK_INT(r.status, 200);
    CHECK(header_is(&r, "Content-Encoding", "gzip"));
    CHECK(header_is(&r, "Vary", "Accept-Encoding"));
    CHECK(r.body_len > 0 && r.body_len < BIG_TEXT_SIZE);
    char *plain = malloc(BIG_TEXT_SIZE * 2);
    size_t got = 0;
    CHECK_INT(gunzip(r.body, r.body_len, plain, BIG_TEXT_SIZE * 2, &got), 0);
    CHECK_INT(got, BIG_TEXT_SIZE);
    CHECK(memcmp(plain, big_text, BIG_TEXT_SIZE) == 0);
    free(plain);
    size_t gz_len = r.body_len;
    response_free(&r);

    CHECK_INT(roundtrip("GET /big HTTP/1.1\r\n\r\n", &r), 0);
    char v[64];
    CHECK(header(&r, "Content-Encoding", v, sizeof v) == NULL);
    CHECK(header_is(&r, "Vary", "Accept-Encoding"));
    CHECK_INT(r.body_len, BIG_TEXT_SIZE);
    CHECK(r.body && memcmp(r.body, big_text, BIG_TEXT_SIZE) == 0);
    response_free(&r);

    CHECK_INT(roundtrip("GET /big HTTP/1.1\r\nAccept-Encoding: gzip;q=0\r\n\r\n", &r), 0);
    CHECK(header(&r, "Content-Encoding", v, sizeof v) == NULL);
    response_free(&r);

    /* HEAD: the GET's headers (its gzip'ed length), no body. */
    client c;
    CHECK_INT(client_open(&c, server_port, 0), 0);
    client_sends(&c, "HEAD /big HTTP/1.1\r\nAccept-Encoding: gzip\r\n\r\n");
    CHECK_INT(read_response(&c, &r, 1), 0);
    CHECK_INT(r.status, 200);
    CHECK(header_is(&r, "Content-Encoding", "gzip"));
    CHECK(header(&r, "Content-Length", v, sizeof v) && strtoul(v, NULL, 10) == gz_len);
    response_free(&r);
    /* If a body had been sent, it would be read as the next response. */
    client_sends(&c, "GET /after-head HTTP/1.1\r\n\r\n");
    CHECK_INT(read_response(&c, &r, 0), 0);
    CHECK_INT(r.status, 200);
    CHECK_STR(r.body, "method=GET path=/after-head query= body=");
    response_free(&r);
    client_close(&c);
}

/* Read the JSON error the server answers with and check its code. */
static void check_error(const response *r, int status, const char *code)
{
    CHECK_INT(r->status, status);
    CHECK(header_is(r, "Content-Type", "application/json"));
    CHECK(header_is(r, "Connection", "close"));
    char want[128];
    snprintf(want, sizeof want, "{\"error\":{\"code\":\"%s\",\"message\":\"", code);
    CHECK(r->body && strncmp(r->body, want, strlen(want)) == 0);
}

TEST(header_timeout_slowloris)
{
    client c;
    CHECK_INT(client_open(&c, server_port, 0), 0);
    uint64_t t0 = now_ms();
    client_sends(&c, "GET /slow HTTP/1.1\r\nHost: t\r\n");
    /* Trickle one header byte every 50 ms: this must not hold the timer off. */
    struct pollfd pf = {c.fd, POLLIN, 0};
    for (int i = 0; i < 60 && poll(&pf, 1, 50) == 0; i++)
        client_sends(&c, "X");
    response r;
    CHECK_INT(read_response(&c, &r, 0), 0);
    uint64_t took = now_ms() - t0;
    check_error(&r, 408, "request_timeout");
    CHECK(took >= CHILD_TIMEOUT_MS - 10); /* t0 was taken before the first byte left */
    CHECK(took < 2000);                   /* far below the 3 s the trickle would have lasted */
    response_free(&r);
    CHECK(closed_by_server(&c));
    client_close(&c);
}

TEST(body_timeout)
{
    client c;
    CHECK_INT(client_open(&c, server_port, 0), 0);
    client_sends(&c, "POST /b HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
    response r;
    CHECK_INT(read_response(&c, &r, 0), 0);
    check_error(&r, 408, "request_timeout");
    response_free(&r);
    client_close(&c);
}

TEST(keepalive_idle_close)
{
    client c;
    CHECK_INT(client_open(&c, server_port, 0), 0);
    response r;
    /* The empty line behind the request is no request: the connection is idle.
     * (t0 before sending: the server's idle timer starts later than that.) */
    uint64_t t0 = now_ms();
    client_sends(&c, "GET /k HTTP/1.1\r\n\r\n\r\n");
    CHECK_INT(read_response(&c, &r, 0), 0);
    response_free(&r);
    CHECK(closed_by_server(&c)); /* silently: no 408 on an idle connection */
    CHECK(now_ms() - t0 >= CHILD_TIMEOUT_MS - 10);
    client_close(&c);
    /* A connection that never sends anything is closed as well. */
    CHECK_INT(client_open(&c, server_port, 0), 0);
    CHECK(closed_by_server(&c));
    client_close(&c);
}

TEST(limits_over_the_socket)
{
    response r;
    CHECK_INT(roundtrip("POST /x HTTP/1.1\r\nContent-Length: 4097\r\n\r\n", &r), 0);
    check_error(&r, 413, "payload_too_large");
    response_free(&r);
    /* The whole oversized body already sent: the answer must still arrive. */
    souk_buf b = SOUK_BUF_INIT;
    souk_buf_adds(&b, "POST /x HTTP/1.1\r\nContent-Length: 8000\r\n\r\n");
    for (int i = 0; i < 8000; i++)
        souk_buf_addc(&b, 'b');
    CHECK_INT(roundtrip(souk_buf_cstr(&b), &r), 0);
    check_error(&r, 413, "payload_too_large");
    response_free(&r);

    souk_buf_reset(&b);
    souk_buf_adds(&b, "GET /");
    for (int i = 0; i < 600; i++)
        souk_buf_addc(&b, 'u');
    souk_buf_adds(&b, " HTTP/1.1\r\n\r\n");
    CHECK_INT(roundtrip(souk_buf_cstr(&b), &r), 0);
    check_error(&r, 414, "uri_too_long");
    response_free(&r);

    souk_buf_reset(&b);
    souk_buf_adds(&b, "GET /h HTTP/1.1\r\n");
    for (int i = 0; i < 21; i++)
        souk_buf_printf(&b, "H%d: v\r\n", i);
    souk_buf_adds(&b, "\r\n");
    CHECK_INT(roundtrip(souk_buf_cstr(&b), &r), 0);
    check_error(&r, 431, "header_fields_too_large");
    response_free(&r);

    souk_buf_reset(&b);
    souk_buf_adds(&b, "GET /h HTTP/1.1\r\nX-Big: ");
    for (int i = 0; i < 3000; i++)
        souk_buf_addc(&b, 'v');
    souk_buf_adds(&b, "\r\n\r\n");
    CHECK_INT(roundtrip(souk_buf_cstr(&b), &r), 0);
    check_error(&r, 431, "header_fields_too_large");
    response_free(&r);
    souk_buf_free(&b);

    CHECK_INT(roundtrip("GET / HTTP/1.1\nHost: x\n\n", &r), 0);
    check_error(&r, 400, "bad_request");
    response_free(&r);
    CHECK_INT(roundtrip("GET / HTTP/2.0\r\n\r\n", &r), 0);
    check_error(&r, 505, "http_version_not_supported");
    response_free(&r);
    CHECK_INT(roundtrip("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", &r), 0);
    check_error(&r, 501, "not_implemented");
    response_free(&r);
}

TEST(expect_continue)
{
    client c;
    CHECK_INT(client_open(&c, server_port, 0), 0);
    client_sends(&c, "POST /up HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
    response r;
    CHECK_INT(read_response(&c, &r, 0), 0);
    CHECK_INT(r.status, 100);
    response_free(&r);
    client_sends(&c, "data");
    CHECK_INT(read_response(&c, &r, 0), 0);
    CHECK_INT(r.status, 200);
    CHECK_STR(r.body, "method=POST path=/up query= body=data");
    response_free(&r);
    client_close(&c);
    CHECK_INT(
        roundtrip("POST /up HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n", &r),
        0);
    check_error(&r, 413, "payload_too_large"); /* no 100 for a body that is refused */
    response_free(&r);
}

TEST(sendfile_body)
{
    client c;
    CHECK_INT(client_open(&c, server_port, 4096), 0);
    /* Two file responses and an echo pipelined behind them: bytes intact and in
     * order even though the socket fills up many times. */
    client_sends(&c, "GET /static/big.bin HTTP/1.1\r\n\r\nGET /static/big.bin HTTP/1.1\r\n\r\n"
                     "GET /after-file HTTP/1.1\r\n\r\n");
    for (int i = 0; i < 2; i++) {
        response r;
        usleep(100 * 1000); /* a slow reader: the server must wait, not spin or block */
        CHECK_INT(read_response(&c, &r, 0), 0);
        CHECK_INT(r.status, 200);
        CHECK(header_is(&r, "Content-Type", "application/octet-stream"));
        CHECK_INT(r.body_len, FILE_SIZE);
        CHECK(r.body && memcmp(r.body, file_bytes, FILE_SIZE) == 0);
        CHECK(header_is(&r, "Connection", "keep-alive"));
        response_free(&r);
    }
    response r;
    CHECK_INT(read_response(&c, &r, 0), 0);
    CHECK_STR(r.body, "method=GET path=/after-file query= body=");
    response_free(&r);
    client_close(&c);
    /* HEAD of a file: its length, no body. */
    CHECK_INT(client_open(&c, server_port, 0), 0);
    client_sends(&c, "HEAD /static/big.bin HTTP/1.1\r\n\r\nGET /x HTTP/1.1\r\n\r\n");
    CHECK_INT(read_response(&c, &r, 1), 0);
    char v[64];
    CHECK(header(&r, "Content-Length", v, sizeof v) && atoi(v) == FILE_SIZE);
    response_free(&r);
    CHECK_INT(read_response(&c, &r, 0), 0);
    CHECK_STR(r.body, "method=GET path=/x query= body=");
    response_free(&r);
    client_close(&c);
}

TEST(write_timeout)
{
    /* A client that asks for the file and never reads: once nothing moves for
     * write_timeout_ms, the server gives up and closes. */
    client c;
    CHECK_INT(client_open(&c, server_port, 4096), 0);
    client_sends(&c, "GET /static/big.bin HTTP/1.1\r\n\r\n");
    usleep(5 * CHILD_TIMEOUT_MS * 1000); /* write timeout: 2 * CHILD_TIMEOUT_MS */
    size_t total = 0;
    for (;;) {
        char tmp[65536];
        ssize_t n = recv(c.fd, tmp, sizeof tmp, 0);
        if (n <= 0)
            break;
        total += (size_t)n;
    }
    CHECK(total > 0);
    CHECK(total < FILE_SIZE); /* cut short: what was in the socket buffers, then EOF */
    client_close(&c);
}

TEST(static_304)
{
    client c;
    CHECK_INT(client_open(&c, server_port, 0), 0);
    response r;
    client_sends(&c, "GET /static/app.css HTTP/1.1\r\n\r\n");
    CHECK_INT(read_response(&c, &r, 0), 0);
    CHECK_INT(r.status, 200);
    CHECK(header_is(&r, "Content-Type", "text/css; charset=utf-8"));
    CHECK(header_is(&r, "Cache-Control", "public, max-age=60"));
    CHECK_STR(r.body, "body { color: red; }\n");
    char etag[128], modified[64];
    CHECK(header(&r, "ETag", etag, sizeof etag) != NULL);
    CHECK(header(&r, "Last-Modified", modified, sizeof modified) != NULL);
    response_free(&r);
    char req[512];
    snprintf(req, sizeof req, "GET /static/app.css HTTP/1.1\r\nIf-None-Match: \"x\", %s\r\n\r\n",
             etag);
    client_sends(&c, req);
    CHECK_INT(read_response(&c, &r, 0), 0);
    CHECK_INT(r.status, 304);
    char v[64];
    CHECK(header(&r, "Content-Length", v, sizeof v) == NULL);
    CHECK(header_is(&r, "ETag", etag));
    CHECK_INT(r.body_len, 0);
    response_free(&r);
    snprintf(req, sizeof req, "GET /static/app.css HTTP/1.1\r\nIf-Modified-Since: %s\r\n\r\n",
             modified);
    client_sends(&c, req);
    CHECK_INT(read_response(&c, &r, 0), 0);
    CHECK_INT(r.status, 304);
    response_free(&r);
    /* The connection goes on after a 304 (nothing was left unread). */
    client_sends(&c, "GET /static/app.css HTTP/1.1\r\nIf-None-Match: \"other\"\r\n\r\n");
    CHECK_INT(read_response(&c, &r, 0), 0);
    CHECK_INT(r.status, 200);
    response_free(&r);
    client_close(&c);
    CHECK_INT(roundtrip("GET /static/sub HTTP/1.1\r\n\r\n", &r), 0);
    CHECK_INT(r.status, 404); /* a directory */
    response_free(&r);
}

TEST(path_traversal)
{
    const char *targets[] = {
        "/static/../secret.txt",         "/static/%2e%2e/secret.txt",
        "/static/%2e%2e%2fsecret.txt",   "/static/..%5csecret.txt",
        "/static/%252e%252e/secret.txt", "/static/%252e%252e%252fsecret.txt",
        "/static/sub/../../secret.txt",  "/static/sub/%2e%2e/%2e%2e/secret.txt",
        "/static/.%2e/secret.txt",       "/static//../secret.txt",
        "/static/%2E%2E/secret.txt",     "/static/link-out",
    };
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        char req[512];
        snprintf(req, sizeof req, "GET %s HTTP/1.1\r\n\r\n", targets[i]);
        response r;
        CHECK_INT(roundtrip(req, &r), 0);
        if (r.status == 200 || (r.body && strstr(r.body, "TOP-SECRET")))
            fprintf(stderr, "traversal through %s answered %d\n", targets[i], r.status);
        CHECK(r.status == 404 || r.status == 400);
        CHECK(r.body && strstr(r.body, "TOP-SECRET") == NULL);
        response_free(&r);
    }
}

/* The on_complete lines the child wrote so far (waits up to 2 s for want). */
static int completed(const char *want)
{
    static souk_buf seen = SOUK_BUF_INIT;
    for (int i = 0; i < 200; i++) {
        if (seen.len && strstr(souk_buf_cstr(&seen), want))
            return 1;
        struct pollfd pf = {complete_pipe[0], POLLIN, 0};
        if (poll(&pf, 1, 10) == 1) {
            char tmp[4096];
            ssize_t n = read(complete_pipe[0], tmp, sizeof tmp);
            if (n > 0)
                souk_buf_add(&seen, tmp, (size_t)n);
        }
    }
    return 0;
}

TEST(on_complete_hook)
{
    response r;
    CHECK_INT(roundtrip("GET /hooked HTTP/1.1\r\n\r\n", &r), 0);
    response_free(&r);
    CHECK(completed("GET /hooked 200 36 /echo\n"));
    CHECK_INT(roundtrip("GET / HTTP/9.9\r\n\r\n", &r), 0);
    response_free(&r);
    CHECK(completed("- - 505 "));
    CHECK(completed("GET /static/big.bin 200 307200 static\n")); /* file bytes counted */
    CHECK(completed("HEAD /big 200 0 /big\n"));
}

TEST(max_connections)
{
    souk_limits lim = child_limits();
    lim.max_connections = 2;
    int port;
    pid_t pid = start_child(&lim, &port);
    CHECK(pid > 0);
    client a, b, extra;
    response r;
    CHECK_INT(client_open(&a, port, 0), 0);
    CHECK_INT(client_open(&b, port, 0), 0);
    client_sends(&a, "GET /a HTTP/1.1\r\n\r\n");
    client_sends(&b, "GET /b HTTP/1.1\r\n\r\n");
    CHECK_INT(read_response(&a, &r, 0), 0); /* both accepted and counted */
    response_free(&r);
    CHECK_INT(read_response(&b, &r, 0), 0);
    response_free(&r);
    CHECK_INT(client_open(&extra, port, 0), 0); /* the backlog accepts it ... */
    client_sends(&extra, "GET /c HTTP/1.1\r\n\r\n");
    CHECK(closed_by_server(&extra)); /* ... and the server closes it */
    client_close(&extra);
    client_close(&a);
    client_close(&b);
    CHECK_INT(stop_child(pid), 0);
}

TEST(drain)
{
    int port;
    souk_limits lim = child_limits();
    lim.keepalive_timeout_ms = CLIENT_TIMEOUT_MS * 2; /* idle must end by the drain */
    lim.body_timeout_ms = CLIENT_TIMEOUT_MS * 2;
    lim.write_timeout_ms = CLIENT_TIMEOUT_MS * 2;
    pid_t pid = start_child(&lim, &port);
    CHECK(pid > 0);
    client idle, busy, sending;
    response r;
    CHECK_INT(client_open(&idle, port, 0), 0);
    client_sends(&idle, "GET /i HTTP/1.1\r\n\r\n");
    CHECK_INT(read_response(&idle, &r, 0), 0);
    response_free(&r);
    /* Busy reading a request: its "100 Continue" proves the server is in the
     * middle of it. */
    CHECK_INT(client_open(&busy, port, 0), 0);
    client_sends(&busy, "POST /busy HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
    CHECK_INT(read_response(&busy, &r, 0), 0);
    CHECK_INT(r.status, 100);
    response_free(&r);
    /* Busy sending a file to a client that has not read it yet. */
    CHECK_INT(client_open(&sending, port, 4096), 0);
    client_sends(&sending, "GET /static/big.bin HTTP/1.1\r\n\r\n");
    CHECK_INT(read_response(&sending, &r, 1), 0); /* its head only */
    response_free(&r);

    kill(pid, SIGTERM);
    CHECK(closed_by_server(&idle)); /* the drain has begun */
    client_sends(&busy, "data");
    CHECK_INT(read_response(&busy, &r, 0), 0);
    CHECK_INT(r.status, 200);
    CHECK_STR(r.body, "method=POST path=/busy query= body=data");
    CHECK(header_is(&r, "Connection", "close"));
    response_free(&r);
    CHECK(closed_by_server(&busy));
    /* The file still arrives whole, then the connection ends. */
    size_t want = FILE_SIZE, got = 0;
    while (sending.in.len < want && client_fill(&sending) > 0)
        ;
    got = sending.in.len;
    CHECK_INT(got, want);
    CHECK(got == want && memcmp(sending.in.data, file_bytes, want) == 0);
    souk_buf_reset(&sending.in);
    CHECK(closed_by_server(&sending));
    client_close(&idle);
    client_close(&busy);
    client_close(&sending);
    /* New connections are refused once the listener is closed. */
    client late;
    int refused = client_open(&late, port, 0) != 0;
    if (!refused) {
        client_sends(&late, "GET / HTTP/1.1\r\n\r\n");
        refused = closed_by_server(&late);
    }
    CHECK(refused);
    client_close(&late);
    int st = -1;
    for (int i = 0; i < CLIENT_TIMEOUT_MS / 10 && waitpid(pid, &st, WNOHANG) != pid; i++)
        usleep(10 * 1000);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

TEST(listen_socket)
{
    char err[256];
    int port = 0;
    int fd = souk_listen_socket("::1", 0, &port, err, sizeof err);
    if (fd >= 0) { /* IPv6 may be disabled on the machine */
        CHECK(port > 0);
        close(fd);
    }
    fd = souk_listen_socket("localhost", 0, &port, err, sizeof err);
    CHECK(fd >= 0 && port > 0);
    int again = souk_listen_socket("127.0.0.1", port, NULL, err, sizeof err);
    CHECK_INT(again, -1); /* in use */
    CHECK(strstr(err, "127.0.0.1") != NULL);
    close(fd);
    CHECK_INT(souk_listen_socket("not-an-address", 0, &port, err, sizeof err), -1);
    CHECK(strstr(err, "not-an-address") != NULL);
}

/* static.c and gzip.c without sockets. */
TEST(static_direct)
{
    int text;
    CHECK_STR(souk_static_content_type("css/a.CSS", &text), "text/css; charset=utf-8");
    CHECK_INT(text, 1);
    CHECK_STR(souk_static_content_type("f.woff2", &text), "font/woff2");
    CHECK_INT(text, 0);
    CHECK_STR(souk_static_content_type("README", &text), "application/octet-stream");
    CHECK_STR(souk_static_content_type(".css", &text), "application/octet-stream");
    CHECK_STR(souk_static_content_type("x.css/file", &text), "application/octet-stream");

    souk_arena a;
    souk_arena_init(&a, 0);
    souk_header hs[1];
    souk_request req = {0};
    req.arena = &a;
    req.headers = hs;
    souk_response res;

    souk_response_init(&res, &a);
    CHECK_INT(souk_static_serve(&req, &res, &a, static_root, "app.css", 5), 200);
    CHECK_INT(res.file_fd, -1);
    CHECK_INT(res.compressible, 1);
    CHECK(res.body && res.body_len == 21 && strcmp(res.body, "body { color: red; }\n") == 0);
    CHECK_STR(res.route, "static");

    hs[0].name = "If-None-Match";
    hs[0].value = "*";
    req.n_headers = 1;
    souk_response_init(&res, &a);
    CHECK_INT(souk_static_serve(&req, &res, &a, static_root, "app.css", 5), 304);
    CHECK(res.body == NULL);
    hs[0].name = "If-Modified-Since";
    hs[0].value = "Sun, 06 Nov 1994 08:49:37 GMT"; /* older than the file */
    souk_response_init(&res, &a);
    CHECK_INT(souk_static_serve(&req, &res, &a, static_root, "app.css", 5), 200);
    hs[0].value = "Fri, 01 Jan 9999 00:00:00 GMT"; /* not older */
    souk_response_init(&res, &a);
    CHECK_INT(souk_static_serve(&req, &res, &a, static_root, "app.css", 5), 304);
    hs[0].value = "yesterday";
    souk_response_init(&res, &a);
    CHECK_INT(souk_static_serve(&req, &res, &a, static_root, "app.css", 5), 200);
    req.n_headers = 0;

    souk_response_init(&res, &a);
    CHECK_INT(souk_static_serve(&req, &res, &a, static_root, "big.bin", 5), 200);
    CHECK(res.file_fd >= 0);
    CHECK_INT(res.file_size, FILE_SIZE);
    CHECK_INT(res.compressible, 0);
    if (res.file_fd >= 0)
        close(res.file_fd);
    const char *missing[] = {"nope.css", "sub", "../secret.txt", "sub/../app.css", "link-out", ""};
    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
        souk_response_init(&res, &a);
        CHECK_INT(souk_static_serve(&req, &res, &a, static_root, missing[i], 5), 404);
        CHECK_INT(res.file_fd, -1);
    }
    char *z = NULL;
    size_t zlen = 0, got = 0;
    CHECK_INT(souk_gzip_compress(&a, big_text, BIG_TEXT_SIZE, &z, &zlen), 0);
    char *plain = malloc(BIG_TEXT_SIZE);
    CHECK(z && gunzip(z, zlen, plain, BIG_TEXT_SIZE, &got) == 0 && got == BIG_TEXT_SIZE &&
          memcmp(plain, big_text, BIG_TEXT_SIZE) == 0);
    CHECK_INT(souk_gzip_compress(&a, "", 0, &z, &zlen), 0);
    CHECK(gunzip(z, zlen, plain, BIG_TEXT_SIZE, &got) == 0 && got == 0);
    free(plain);
    souk_arena_free(&a);
}

static pid_t main_child;

TEST(drains_and_exits_cleanly)
{
    int code = stop_child(main_child);
    if (code != 0)
        fprintf(stderr, "server child exited with %d\n", code);
    CHECK_INT(code, 0);
}

/* ------------------------------------------------------------------ setup */

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(data, 1, n, f);
        fclose(f);
    }
}

static void setup_files(void)
{
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/souk-test-server-XXXXXX");
    if (!mkdtemp(tmp_dir))
        perror("mkdtemp");
    snprintf(static_root, sizeof static_root, "%s/static", tmp_dir);
    mkdir(static_root, 0755);
    char p[PATH_MAX + 64];
    snprintf(p, sizeof p, "%s/sub", static_root);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/app.css", static_root);
    write_file(p, "body { color: red; }\n", 21);
    snprintf(p, sizeof p, "%s/secret.txt", tmp_dir);
    write_file(p, "TOP-SECRET\n", 11);
    char target[PATH_MAX + 64];
    snprintf(target, sizeof target, "%s/secret.txt", tmp_dir);
    snprintf(p, sizeof p, "%s/link-out", static_root);
    if (symlink(target, p) != 0)
        perror("symlink");
    file_bytes = malloc(FILE_SIZE);
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < FILE_SIZE; i++) { /* xorshift: not compressible, not uniform */
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        file_bytes[i] = (unsigned char)x;
    }
    snprintf(p, sizeof p, "%s/big.bin", static_root);
    write_file(p, file_bytes, FILE_SIZE);
    big_text = malloc(BIG_TEXT_SIZE);
    for (size_t i = 0; i < BIG_TEXT_SIZE; i++)
        big_text[i] = "souk sells tea and spices, "[i % 27];
}

static void cleanup_files(void)
{
    const char *names[] = {"static/app.css", "static/big.bin", "static/link-out",
                           "static/sub",     "static",         "secret.txt"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char p[PATH_MAX + 64];
        snprintf(p, sizeof p, "%s/%s", tmp_dir, names[i]);
        if (unlink(p) != 0)
            rmdir(p);
    }
    rmdir(tmp_dir);
    free(big_text);
    free(file_bytes);
}

int main(void)
{
    setup_files();
    if (pipe(complete_pipe) != 0)
        return 1;
    souk_limits lim = child_limits();
    pid_t pid = start_child(&lim, &server_port);
    if (pid <= 0)
        return 1;
    RUN(keep_alive);
    RUN(final_status_only);
    RUN(pipelining_in_order);
    RUN(requests_per_connection);
    RUN(http10_closes);
    RUN(gzip);
    RUN(header_timeout_slowloris);
    RUN(body_timeout);
    RUN(keepalive_idle_close);
    RUN(limits_over_the_socket);
    RUN(expect_continue);
    RUN(sendfile_body);
    RUN(write_timeout);
    RUN(static_304);
    RUN(path_traversal);
    RUN(on_complete_hook);
    main_child = pid;
    RUN(drains_and_exits_cleanly);
    RUN(max_connections);
    RUN(drain);
    RUN(listen_socket);
    RUN(static_direct);
    cleanup_files();
    return test_report();
}
