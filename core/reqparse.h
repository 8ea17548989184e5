/* reqparse.h -- the HTTP/1.1 request parser: llhttp (strict, no lenient flag)
 * glued to souk's limits and to souk_request, with no socket in sight, so that the
 * server and the fuzzer drive exactly the same code.
 *
 * Bytes go in as they arrive, in pieces of any size; complete requests come out one
 * at a time, in order.  After a request, the parser stops (llhttp is paused) so that
 * the caller answers request N before a byte of request N+1 is parsed (pipelining).
 * The caller keeps the bytes it has not fed yet and feeds them after
 * souk_reqparse_next().  A typical loop:
 *
 *     size_t off = 0, used;
 *     while (off < len) {
 *         souk_reqparse_event ev = souk_reqparse_feed(p, data + off, len - off, &used);
 *         off += used;
 *         if (ev == SOUK_REQPARSE_REQUEST) {
 *             answer(souk_reqparse_request(p));
 *             souk_reqparse_next(p);
 *         } else if (ev == SOUK_REQPARSE_CONTINUE) {
 *             send(SOUK_REQPARSE_CONTINUE_RESPONSE);
 *         } else if (ev == SOUK_REQPARSE_ERROR) {
 *             answer(souk_reqparse_error_status(p), souk_reqparse_error_message(p));
 *             close the connection;
 *         }
 *     }
 *
 * Limits (souk_limits, borrowed for the parser's life):
 *   400  malformed request line or header (llhttp's reason in the message), a target
 *        that is not an absolute path ("*" only for OPTIONS), a bad percent-escape
 *        or an encoded NUL in the path;
 *   414  request target longer than url_size;
 *   431  request line + headers longer than header_size (counted from the end of the
 *        previous request, blank line included), more than max_headers fields (the
 *        same bounds apply to a chunked body's trailer section);
 *   413  Content-Length above body_size (as soon as the headers are complete), or a
 *        chunked body that grows past it;
 *   417  an Expect other than 100-continue;
 *   501  a Transfer-Encoding other than "chunked";
 *   505  an HTTP version other than 1.0 and 1.1. */
#ifndef SOUK_REQPARSE_H
#define SOUK_REQPARSE_H

#include "config.h"
#include "http.h"

#include <stddef.h>

/* The interim response owed to a client that sent "Expect: 100-continue". */
#define SOUK_REQPARSE_CONTINUE_RESPONSE "HTTP/1.1 100 Continue\r\n\r\n"

typedef struct souk_reqparse souk_reqparse;

typedef enum souk_reqparse_event {
    SOUK_REQPARSE_MORE,     /* everything fed was consumed: feed more when it arrives */
    SOUK_REQPARSE_REQUEST,  /* a complete request: souk_reqparse_request(), then
                               souk_reqparse_next() before feeding again */
    SOUK_REQPARSE_CONTINUE, /* the headers ask for "100 Continue" and the body may
                               come: send SOUK_REQPARSE_CONTINUE_RESPONSE, then
                               feed on */
    SOUK_REQPARSE_ERROR     /* protocol error: answer souk_reqparse_error_status()
                               and close; every later feed returns ERROR again */
} souk_reqparse_event;

typedef enum souk_reqparse_phase {
    SOUK_REQPARSE_IDLE,  /* between requests: no byte of the next request yet
                            (empty lines before a request count as none) */
    SOUK_REQPARSE_HEAD,  /* inside the request line and headers */
    SOUK_REQPARSE_BODY,  /* headers complete, reading the body */
    SOUK_REQPARSE_READY, /* a complete request waits for souk_reqparse_next() */
    SOUK_REQPARSE_FAILED /* a protocol error was reported */
} souk_reqparse_phase;

/* A parser for one connection.  limits is borrowed and must outlive the parser.
 * Never NULL (aborts only on out-of-memory, like the arena). */
souk_reqparse *souk_reqparse_new(const souk_limits *limits);
void souk_reqparse_free(souk_reqparse *p);

/* Parse data[0..len).  *consumed gets how many bytes were used; the caller keeps
 * the rest (they belong to the next request, or follow a 100-continue) and feeds
 * them again later.  len may be 0 (nothing happens).  Feeding while a request is
 * READY returns SOUK_REQPARSE_REQUEST again and consumes nothing; feeding bytes
 * after a request that ends the connection (keep_alive 0) is an ERROR (400). */
souk_reqparse_event souk_reqparse_feed(souk_reqparse *p, const char *data, size_t len,
                                       size_t *consumed);

/* The complete request after SOUK_REQPARSE_REQUEST (NULL otherwise).  Owned by the
 * parser: the struct and everything it points to (in req->arena, which the caller
 * may use for the response) stay valid until souk_reqparse_next().  ip is left
 * empty for the caller to fill; id is "<pid>-<counter>" in hex; start_us is the
 * monotonic time when its first byte was parsed. */
souk_request *souk_reqparse_request(souk_reqparse *p);
/* Release the current request and its arena; the parser is ready for the next one. */
void souk_reqparse_next(souk_reqparse *p);

souk_reqparse_phase souk_reqparse_get_phase(const souk_reqparse *p);
/* After SOUK_REQPARSE_ERROR: the status to answer (400, 413, 414, 417, 431, 501,
 * 505) and a message for the client that names the problem (static or the
 * parser's storage; ASCII). */
int souk_reqparse_error_status(const souk_reqparse *p);
const char *souk_reqparse_error_message(const souk_reqparse *p);

#endif
