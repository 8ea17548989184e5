/* server.h -- HTTP/1.1 on libuv + llhttp (strict): accepts connections on a listening
 * socket, parses requests within the configured limits, calls the application for
 * each complete request (in order: keep-alive and pipelining), writes the response
 * (Date, Content-Length, Connection, gzip, HEAD, sendfile for file bodies) and
 * answers protocol errors itself (400, 408, 413, 414, 431, 501, 505). */
#ifndef SOUK_SERVER_H
#define SOUK_SERVER_H

#include "config.h"
#include "http.h"

#include <uv.h>

typedef struct souk_server souk_server;

typedef struct souk_server_hooks {
    /* A complete request: fill res (status, headers, body or file).  Synchronous. */
    void (*on_request)(void *ud, souk_request *req, souk_response *res);
    /* After the response was written (or failed): for the access log and metrics.
     * route is res->route (or the error's label), bytes the bytes of the body sent. */
    void (*on_complete)(void *ud, const souk_request *req, const souk_response *res,
                        size_t bytes, double duration_ms);
    void *ud;
} souk_server_hooks;

/* Start serving on an already listening socket fd (inherited from the master).
 * limits is borrowed for the life of the server. */
int souk_server_start(souk_server **out, uv_loop_t *loop, uv_os_sock_t fd,
                      const souk_limits *limits, const souk_server_hooks *hooks,
                      char *err, size_t errlen);
/* Stop accepting; finish requests in flight (their responses say Connection: close);
 * close idle keep-alive connections; call done once no connection is left.  The
 * caller enforces the deadline (limits->shutdown_timeout_ms) by exiting. */
void souk_server_drain(souk_server *s, void (*done)(void *ud), void *ud);
/* Number of open connections. */
int souk_server_connections(const souk_server *s);
void souk_server_free(souk_server *s);

/* Open a listening TCP socket (SO_REUSEADDR, backlog 1024) for host:port; returns
 * the fd or -1 with err.  Port 0 picks a free port; *bound_port gets the port. */
int souk_listen_socket(const char *host, int port, int *bound_port, char *err, size_t errlen);

#endif
