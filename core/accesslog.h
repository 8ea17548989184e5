/* accesslog.h -- the access log: one logfmt line per completed request, written to
 * stderr through souk_log_raw (one write() per line, so the lines of several
 * workers never interleave):
 *
 *   ts=2026-11-29T19:30:46.123Z level=info src=worker.1 kind=access id=00af3c
 *   method=GET path="/x" status=200 bytes=123 ms=0.420 route="/products/:slug"
 *   ip=127.0.0.1 ua="curl/8.0"
 *
 * (on one line).  path is the decoded path without the query string (query strings
 * carry tokens and codes that do not belong in a log).  Quoted values escape '"',
 * '\', control bytes and bytes that are not valid UTF-8 as \" \\ \xNN; unquoted
 * values (method, id, ip) are quoted the same way if they hold anything but plain
 * token characters.  Over-long values are cut (at a character) and end in "...",
 * so that a line always fits the SOUK_ACCESSLOG_LINE_MAX bytes souk_log_raw takes. */
#ifndef SOUK_ACCESSLOG_H
#define SOUK_ACCESSLOG_H

#include "http.h"

#include <stddef.h>

/* Most bytes a value takes in the line, after escaping: path, user agent and route
 * label; any other value (method, id, ip). */
#define SOUK_ACCESSLOG_PATH_MAX 1024
#define SOUK_ACCESSLOG_UA_MAX 512
#define SOUK_ACCESSLOG_ROUTE_MAX 256
#define SOUK_ACCESSLOG_TOKEN_MAX 128
/* One line without its newline; the sum of the maxima above plus the fixed fields
 * stays below it, and souk_log_raw writes up to this many bytes per line. */
#define SOUK_ACCESSLOG_LINE_MAX 4095

/* The source tag (the process log's, "worker.3"; copied) and whether lines are
 * written at all: they are level=info, so a log level above info silences them. */
void souk_accesslog_setup(const char *source, int min_level);

/* Format one line (no newline) into out[cap].  Any field of req/res may be NULL or
 * empty (a request rejected before its head was parsed): it is written as "-".
 * Returns the line's length (cut to cap - 1). */
size_t souk_accesslog_format(char *out, size_t cap, const souk_request *req,
                             const souk_response *res, size_t bytes, double ms);

/* Format and write one line (when enabled). */
void souk_accesslog_write(const souk_request *req, const souk_response *res, size_t bytes,
                          double ms);

#endif
