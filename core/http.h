/* http.h -- the request and response as the core sees them (no libuv here), and
 * the parsers for what travels inside a request: percent-encoding, query strings,
 * url-encoded forms, cookies, Accept-Language, paths.
 *
 * The server (server.c) fills a souk_request from llhttp callbacks, calls the
 * application, and serialises the souk_response it got back. */
#ifndef SOUK_HTTP_H
#define SOUK_HTTP_H

#include "arena.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* At most this many fields in one query string or url-encoded form: more is an
 * error (bounds the work and the JSON built from one request). */
#define SOUK_URLENCODED_MAX_PAIRS 1000
/* Bytes souk_http_date() writes, the terminating NUL included. */
#define SOUK_HTTP_DATE_SIZE 30

typedef struct souk_header {
    const char *name;  /* as received (compare case-insensitively) */
    const char *value;
} souk_header;

typedef struct souk_request {
    souk_arena *arena;       /* request arena: everything below lives in it */
    const char *method;      /* "GET" */
    int method_id;           /* llhttp's enum llhttp_method */
    const char *target;      /* raw request-target "/a%20b?x=1" */
    const char *path;        /* percent-decoded path "/a b" (never contains NUL) */
    const char *query;       /* raw query string without '?', or "" */
    int http_major, http_minor;
    int keep_alive;          /* what the client asked for (llhttp_should_keep_alive) */
    souk_header *headers;
    int n_headers;
    const char *body;        /* NUL-terminated for convenience; body_len excludes it */
    size_t body_len;
    char ip[64];             /* peer address */
    char id[24];             /* request id (hex), unique per worker start */
    uint64_t start_us;       /* monotonic microseconds when the first byte arrived */
} souk_request;

typedef struct souk_response {
    int status;
    souk_header *headers;    /* extra headers (arena) */
    int n_headers, cap_headers;
    const char *content_type;/* NULL: no body type */
    char *body;              /* arena or NULL */
    size_t body_len;
    int compressible;        /* text body that may be gzip'ed if the client accepts */
    /* A file body (static files): sent with sendfile after the head. */
    int file_fd;             /* -1 when none; the server closes it */
    off_t file_size;
    int close;               /* force Connection: close after this response */
    const char *route;       /* label for metrics and the access log: the route
                                pattern, "static", "notfound", "error" ... */
} souk_response;

/* Header lookup, case-insensitive; NULL when absent.  Borrowed from req. */
const char *souk_request_header(const souk_request *req, const char *name);

/* Status 200, no headers, no body, file_fd -1, everything else zero. */
void souk_response_init(souk_response *res, souk_arena *arena);
/* Append a header (name/value copied into the arena; the array grows in the
 * arena).  A header that souk_http_header_valid() refuses is dropped with a
 * warning in the log: a CR or LF in a value must never reach the wire. */
void souk_response_header(souk_response *res, souk_arena *arena, const char *name,
                          const char *value);
/* 1 when name is a token (RFC 9110) and value holds no control character other
 * than HTAB (no CR, LF, NUL); 0 otherwise.  Callers that can report an error
 * (the host API's res_header) check with this first. */
int souk_http_header_valid(const char *name, const char *value);
/* Set a body (copied into the arena, NUL-terminated after body_len) with its
 * content type (copied too; NULL for none).  body may be NULL when len is 0. */
void souk_response_body(souk_response *res, souk_arena *arena, const char *type,
                        const char *body, size_t len);
/* Standard reason phrase (RFC 9110 wording, "Not Found"); "Unknown" for unknown
 * codes.  Static storage. */
const char *souk_http_reason(int status);

/* Percent-decode src[0..len) into the arena (NUL-terminated).  form: '+' means
 * space.  Returns NULL on a malformed escape ("%zz", "%4"), an encoded NUL ("%00")
 * or a raw NUL byte in src: a NUL must never enter a C string.  The result may be
 * any bytes (not necessarily UTF-8). */
char *souk_url_decode(souk_arena *a, const char *src, size_t len, int form);
/* Parse "a=1&b=2&a=3" (query string or application/x-www-form-urlencoded body)
 * into obj: each key maps to a string, or to an array of strings when repeated
 * ({"a":["1","3"],"b":"2"}).  '+' is a space in both.  "a" (no '=') gives "a":"";
 * empty pairs ("a=1&&b=2") and pairs with an empty key ("=x") are skipped; brackets
 * in keys are not special.  Keys and values must decode to valid UTF-8.  More
 * than SOUK_URLENCODED_MAX_PAIRS pairs is an error.  a holds scratch memory.
 * Returns 0, or -1 with err naming the problem and the field ("bad
 * percent-encoding in field 'q'"); obj may then hold the fields before the bad
 * one (discard it). */
int souk_parse_urlencoded(souk_arena *a, const char *s, size_t len, json_t *obj,
                          char *err, size_t errlen);
/* Parse a Cookie header ("a=1; b=\"2\"") into obj (name -> value string).
 * Whitespace around ';' and '=' is ignored, one pair of double quotes around a
 * value is removed, values are not percent-decoded.  Pairs without '=' or with an
 * empty name are ignored (RFC 6265 section 5.2); a duplicate name keeps the first
 * value (the most specific path comes first).  -1 with err on a name that is not a
 * token, a value with a control character, an unterminated quote or a value that
 * is not UTF-8.  header may be NULL (no cookies). */
int souk_parse_cookies(const char *header, json_t *obj, char *err, size_t errlen);
/* Pick the best of the supported locales (NULL-terminated) for an Accept-Language
 * header ("en-US,en;q=0.9,ru;q=0.8"): highest q wins, ties keep header order,
 * q=0 never matches.  A range matches a supported locale equal to it (case-
 * insensitive, '-' and '_' alike), else one with the same primary subtag ("en-US"
 * matches "en"); "*" matches the first supported locale.  Returns the element of
 * supported (borrowed) or NULL when none matches. */
const char *souk_pick_locale(const char *accept_language, char *const *supported);
/* Whether Accept-Encoding allows gzip (q > 0): "gzip" or "x-gzip" listed with
 * q > 0, or "*" with q > 0 when gzip is not listed.  NULL: no. */
int souk_accepts_gzip(const char *accept_encoding);
/* Resolve a decoded request path below root safely.  rel is relative to root
 * ("css/site.css"); refused: a leading '/', a backslash, any ".." segment.  The
 * joined path is resolved with realpath() (symbolic links followed) and must stay
 * root itself or below it (so "/static-evil" is not below "/static").  Returns a
 * malloc'ed absolute path (yours: free it) or NULL, also when the file does not
 * exist.  It may name a directory: serve only what open()+fstat() show to be a
 * regular file.  (A C string cannot carry a NUL; souk_url_decode refuses "%00".) */
char *souk_safe_join(const char *root, const char *rel);
/* The same for a root that is already absolute and resolved (realpath), which
 * saves resolving it again on every request (static files). */
char *souk_safe_join_real(const char *real_root, const char *rel);
/* Format t as an HTTP date (IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT"), in
 * English whatever the locale, into out (SOUK_HTTP_DATE_SIZE bytes). */
void souk_http_date(time_t t, char *out);

#endif
