/* reqparse.c -- llhttp glue: see reqparse.h.
 *
 * llhttp hands out spans (URL, header names and values, body) that may be cut at
 * any byte by the reads; they are accumulated in scratch buffers and copied into
 * the request arena once complete.  Every span is checked against the limits
 * *before* it is copied, so an oversized head or body costs no memory.
 *
 * The parser pauses llhttp twice per request:
 *   - in on_headers_complete, to learn exactly where the head ends (the 431 count,
 *     413 on Content-Length and the Expect decision are taken there, before a byte
 *     of the body is looked at);
 *   - in on_message_complete, so that the bytes behind the request (pipelining)
 *     wait until the caller has answered it.
 * llhttp_get_error_pos() tells where it stopped; llhttp_resume() restarts it. */
#include "reqparse.h"

#include "buf.h"
#include "clock.h"

#include <llhttp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Arena block size for one request: holds the head of a typical request in one
 * block. */
#define REQPARSE_ARENA_BLOCK 8192
/* First size of the header array; it doubles up to limits->max_headers. */
#define REQPARSE_HEADERS_INITIAL 16
/* First allocation for a chunked body (a Content-Length body gets its exact size). */
#define REQPARSE_BODY_INITIAL 4096
/* Room for the error message (ASCII, with a number or a limit in it). */
#define REQPARSE_MESSAGE_SIZE 160
/* Room for the version span ("1.1"); longer spans are malformed anyway. */
#define REQPARSE_VERSION_SIZE 8

enum reqparse_stop { STOP_NONE, STOP_HEADERS, STOP_MESSAGE };

struct souk_reqparse {
    llhttp_t http;
    const souk_limits *limits;
    souk_arena arena;
    souk_request req;
    souk_reqparse_phase phase;
    unsigned pid; /* for request ids; read once per connection, not per request */
    int paused;        /* llhttp is paused: resume before the next execute */
    int stop;          /* enum reqparse_stop: why llhttp paused */
    int closed;        /* the last request ended the connection */
    const char *chunk; /* first byte of the current llhttp_execute() */
    size_t head_base;  /* head bytes consumed by earlier executes */
    size_t url_len;
    souk_buf url, field, value; /* spans in progress (heap, reused across requests) */
    int in_field;               /* inside a header name (its first piece was seen) */
    int header_cap;
    int n_trailers;
    size_t trailer_bytes; /* trailer section and chunk extensions */
    char *body;
    size_t body_cap;
    char version[REQPARSE_VERSION_SIZE];
    size_t version_len;
    int status; /* error status, 0 while none */
    char message[REQPARSE_MESSAGE_SIZE];
    char head_last; /* last head byte seen by head_has_fold (0 at a request's start) */
};

/* Request ids: pid and a per-process counter, so that they are unique across the
 * workers of a server and across restarts of one worker. */
static unsigned long long reqparse_counter;

static souk_reqparse *parser_of(llhttp_t *h)
{
    return h->data;
}

static void set_error(souk_reqparse *p, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_error(souk_reqparse *p, int status, const char *fmt, ...)
{
    if (p->status) /* the first problem found is the one reported */
        return;
    p->status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->message, sizeof p->message, fmt, ap);
    va_end(ap);
}

/* The head so far, up to end (a pointer into the current chunk), must fit. */
static int head_fits(souk_reqparse *p, const char *end)
{
    size_t used = p->head_base + (size_t)(end - p->chunk);
    if (used > p->limits->header_size) {
        set_error(p, 431, "request header section larger than %zu bytes", p->limits->header_size);
        return 0;
    }
    return 1;
}

/* Trailer fields and chunk extensions are parsed but not kept; they share one
 * budget with the head's limits so that a body cannot carry unbounded metadata. */
static int trailer_fits(souk_reqparse *p, size_t n)
{
    p->trailer_bytes += n;
    if (p->trailer_bytes > p->limits->header_size) {
        set_error(p, 431, "trailer section larger than %zu bytes", p->limits->header_size);
        return 0;
    }
    return 1;
}

/* ------------------------------------------------------------- callbacks */

static int on_message_begin(llhttp_t *h)
{
    souk_reqparse *p = parser_of(h);
    p->phase = SOUK_REQPARSE_HEAD;
    memset(&p->req, 0, sizeof p->req);
    p->req.arena = &p->arena;
    p->req.query = "";
    p->req.body = "";
    p->req.start_us = souk_clock_mono_us();
    snprintf(p->req.id, sizeof p->req.id, "%x-%llx", p->pid, ++reqparse_counter);
    return 0;
}

static int on_url(llhttp_t *h, const char *at, size_t n)
{
    souk_reqparse *p = parser_of(h);
    p->url_len += n;
    if (p->url_len > p->limits->url_size) {
        set_error(p, 414, "request target longer than %zu bytes", p->limits->url_size);
        return HPE_USER;
    }
    if (!head_fits(p, at + n))
        return HPE_USER;
    souk_buf_add(&p->url, at, n);
    return 0;
}

static int on_version(llhttp_t *h, const char *at, size_t n)
{
    souk_reqparse *p = parser_of(h);
    for (size_t i = 0; i < n && p->version_len + 1 < sizeof p->version; i++)
        p->version[p->version_len++] = at[i];
    p->version[p->version_len] = '\0';
    return 0;
}

static int on_header_field(llhttp_t *h, const char *at, size_t n)
{
    souk_reqparse *p = parser_of(h);
    int starts = !p->in_field;
    p->in_field = 1;
    if (p->phase == SOUK_REQPARSE_BODY) { /* a trailer field */
        if (starts && ++p->n_trailers > p->limits->max_headers) {
            set_error(p, 431, "more than %d trailer fields", p->limits->max_headers);
            return HPE_USER;
        }
        return trailer_fits(p, n) ? 0 : HPE_USER;
    }
    if (starts && p->req.n_headers >= p->limits->max_headers) {
        set_error(p, 431, "more than %d header fields", p->limits->max_headers);
        return HPE_USER;
    }
    if (!head_fits(p, at + n))
        return HPE_USER;
    souk_buf_add(&p->field, at, n);
    return 0;
}

/* RFC 9110 section 5.6.2: a field name is a token. */
static int is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int on_header_field_complete(llhttp_t *h)
{
    souk_reqparse *p = parser_of(h);
    p->in_field = 0;
    if (p->phase == SOUK_REQPARSE_BODY)
        return 0;
    /* llhttp (without its strict build flag) lets an empty name (": v") or a
     * space or other separator into a name it does not know ("Bad Name", "X ");
     * a proxy in front may read such a field differently, so it is refused. */
    if (p->field.len == 0) {
        set_error(p, 400, "malformed request: empty header name");
        return -1;
    }
    for (size_t i = 0; i < p->field.len; i++) {
        if (!is_tchar((unsigned char)p->field.data[i])) {
            set_error(p, 400, "malformed request: invalid character in a header name");
            return -1;
        }
    }
    return 0;
}

static int on_header_value(llhttp_t *h, const char *at, size_t n)
{
    souk_reqparse *p = parser_of(h);
    if (p->phase == SOUK_REQPARSE_BODY)
        return trailer_fits(p, n) ? 0 : HPE_USER;
    if (!head_fits(p, at + n))
        return HPE_USER;
    /* Obsolete line folding never gets here as part of a value: the head is
     * refused (head_has_fold) before the request is handed out. */
    souk_buf_add(&p->value, at, n);
    return 0;
}

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static int on_header_value_complete(llhttp_t *h)
{
    souk_reqparse *p = parser_of(h);
    if (p->phase == SOUK_REQPARSE_BODY)
        return 0; /* trailers are not kept */
    souk_request *r = &p->req;
    if (r->n_headers == p->header_cap) {
        int cap = p->header_cap ? p->header_cap * 2 : REQPARSE_HEADERS_INITIAL;
        souk_header *hs = souk_arena_alloc(&p->arena, sizeof *hs * (size_t)cap);
        if (r->n_headers)
            memcpy(hs, r->headers, sizeof *hs * (size_t)r->n_headers);
        r->headers = hs;
        p->header_cap = cap;
    }
    const char *v = p->value.data ? p->value.data : "";
    size_t vn = p->value.len;
    while (vn && is_ows(*v))
        v++, vn--;
    while (vn && is_ows(v[vn - 1]))
        vn--;
    souk_header *hd = &r->headers[r->n_headers++];
    hd->name = souk_arena_strndup(&p->arena, p->field.data ? p->field.data : "", p->field.len);
    hd->value = souk_arena_strndup(&p->arena, v, vn);
    souk_buf_reset(&p->field);
    souk_buf_reset(&p->value);
    return 0;
}

/* Split and check the request target: origin-form ("/path?query") for every
 * method, "*" for OPTIONS; absolute-form and authority-form are refused (souk is
 * no proxy).  0, or -1 with the error set. */
static int target_parse(souk_reqparse *p)
{
    souk_request *r = &p->req;
    const char *u = p->url.data ? p->url.data : "";
    size_t n = p->url.len;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)u[i];
        if (c <= ' ' || c == 0x7F) { /* llhttp lets a TAB through */
            set_error(p, 400, "request target contains a space or control character");
            return -1;
        }
    }
    r->target = souk_arena_strndup(&p->arena, u, n);
    if (n == 1 && u[0] == '*') {
        if (r->method_id != HTTP_OPTIONS) {
            set_error(p, 400, "request target '*' is only allowed with OPTIONS");
            return -1;
        }
        r->path = "*";
        return 0;
    }
    if (n == 0 || u[0] != '/') {
        set_error(p, 400, "request target must be an absolute path");
        return -1;
    }
    /* A fragment is never sent by a conforming client; it is ignored if present. */
    const char *hash = memchr(u, '#', n);
    if (hash)
        n = (size_t)(hash - u);
    const char *q = memchr(u, '?', n);
    size_t path_len = q ? (size_t)(q - u) : n;
    if (q)
        r->query = souk_arena_strndup(&p->arena, q + 1, n - path_len - 1);
    r->path = souk_url_decode(&p->arena, u, path_len, 0);
    if (!r->path) {
        set_error(p, 400, "bad percent-encoding in the request path");
        return -1;
    }
    return 0;
}

/* Number of fields named name. */
static int header_count(const souk_request *r, const char *name)
{
    int n = 0;
    for (int i = 0; i < r->n_headers; i++)
        n += strcasecmp(r->headers[i].name, name) == 0;
    return n;
}

/* Only "chunked" is implemented, and only once: "gzip, chunked" or two
 * Transfer-Encoding fields would need a decoder souk does not have. */
static int transfer_encoding_ok(const souk_request *r)
{
    int chunked = 0;
    for (int i = 0; i < r->n_headers; i++) {
        if (strcasecmp(r->headers[i].name, "Transfer-Encoding") != 0)
            continue;
        if (chunked || strcasecmp(r->headers[i].value, "chunked") != 0)
            return 0;
        chunked = 1;
    }
    return chunked;
}

static int on_headers_complete(llhttp_t *h)
{
    souk_reqparse *p = parser_of(h);
    souk_request *r = &p->req;
    r->method_id = h->method;
    r->method = llhttp_method_name((llhttp_method_t)h->method);
    r->http_major = h->http_major;
    r->http_minor = h->http_minor;
    if (h->http_major != 1 || h->http_minor > 1) {
        set_error(p, 505, "HTTP version %d.%d is not supported (1.0 and 1.1 are)", h->http_major,
                  h->http_minor);
        return -1;
    }
    if (target_parse(p) != 0)
        return -1;
    /* RFC 9112 section 3.2: more than one Host is a 400.  The CSRF check compares
     * Origin with Host; with two, souk and a proxy in front could each read
     * another one. */
    if (header_count(r, "Host") > 1) {
        set_error(p, 400, "malformed request: more than one Host header");
        return -1;
    }
    /* RFC 9112 section 6.1: an HTTP/1.0 message with Transfer-Encoding has faulty
     * framing (a 1.0 proxy in front would not read it as chunked). */
    if ((h->flags & F_TRANSFER_ENCODING) && h->http_minor == 0) {
        set_error(p, 400, "malformed request: Transfer-Encoding in an HTTP/1.0 request");
        return -1;
    }
    if ((h->flags & F_TRANSFER_ENCODING) && !transfer_encoding_ok(r)) {
        set_error(p, 501, "unsupported Transfer-Encoding (only chunked is implemented)");
        return -1;
    }
    p->stop = STOP_HEADERS;
    return HPE_PAUSED;
}

static int on_body(llhttp_t *h, const char *at, size_t n)
{
    souk_reqparse *p = parser_of(h);
    souk_request *r = &p->req;
    size_t max = p->limits->body_size;
    if (n > max || r->body_len > max - n) {
        set_error(p, 413, "request body larger than %zu bytes", max);
        return HPE_USER;
    }
    if (r->body_len + n + 1 > p->body_cap) {
        /* Chunked: grow by doubling within the arena, never past the limit. */
        size_t cap = p->body_cap ? p->body_cap * 2 : REQPARSE_BODY_INITIAL;
        if (cap < r->body_len + n + 1)
            cap = r->body_len + n + 1;
        if (cap > max + 1)
            cap = max + 1;
        char *b = souk_arena_alloc(&p->arena, cap);
        if (r->body_len)
            memcpy(b, p->body, r->body_len);
        p->body = b;
        p->body_cap = cap;
    }
    memcpy(p->body + r->body_len, at, n);
    r->body_len += n;
    return 0;
}

static int on_chunk_extension(llhttp_t *h, const char *at, size_t n)
{
    return trailer_fits(parser_of(h), n) ? 0 : HPE_USER;
}

static int on_message_complete(llhttp_t *h)
{
    souk_reqparse *p = parser_of(h);
    souk_request *r = &p->req;
    if (p->body) {
        p->body[r->body_len] = '\0';
        r->body = p->body;
    }
    /* An Upgrade (WebSocket, h2c) is answered as a plain request; what follows it
     * on the connection is another protocol, so the connection ends. */
    r->keep_alive = llhttp_should_keep_alive(h) && !h->upgrade;
    p->phase = SOUK_REQPARSE_READY;
    p->stop = STOP_MESSAGE;
    return HPE_PAUSED;
}

static const llhttp_settings_t reqparse_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_version = on_version,
    .on_header_field = on_header_field,
    .on_header_field_complete = on_header_field_complete,
    .on_header_value = on_header_value,
    .on_header_value_complete = on_header_value_complete,
    .on_chunk_extension_name = on_chunk_extension,
    .on_chunk_extension_value = on_chunk_extension,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ------------------------------------------------------------------- API */

souk_reqparse *souk_reqparse_new(const souk_limits *limits)
{
    souk_reqparse *p = calloc(1, sizeof *p);
    if (!p) {
        fputs("souk: out of memory\n", stderr);
        abort();
    }
    p->limits = limits;
    souk_arena_init(&p->arena, REQPARSE_ARENA_BLOCK);
    llhttp_init(&p->http, HTTP_REQUEST, &reqparse_settings);
    p->http.data = p;
    p->phase = SOUK_REQPARSE_IDLE;
    p->pid = (unsigned)getpid();
    return p;
}

void souk_reqparse_free(souk_reqparse *p)
{
    if (!p)
        return;
    souk_arena_free(&p->arena);
    souk_buf_free(&p->url);
    souk_buf_free(&p->field);
    souk_buf_free(&p->value);
    free(p);
}

/* Whether the version llhttp refused looks like one ("1.2", "3.0"): that is a
 * 505, anything else in its place a 400.  A supported version means that what
 * follows it was wrong ("HTTP/1.1" and a bare CR): a 400 too. */
static int version_shaped(const souk_reqparse *p)
{
    const char *v = p->version;
    if (p->version_len != 3 || v[0] < '0' || v[0] > '9' || v[1] != '.' || v[2] < '0' ||
        v[2] > '9')
        return 0;
    return !(v[0] == '1' && (v[2] == '0' || v[2] == '1'));
}

static souk_reqparse_event fail_from_llhttp(souk_reqparse *p, llhttp_errno_t e)
{
    if (!p->status) {
        if ((e == HPE_INVALID_VERSION && version_shaped(p)) || e == HPE_PAUSED_H2_UPGRADE) {
            set_error(p, 505, "HTTP version not supported (1.0 and 1.1 are)");
        } else {
            const char *why = llhttp_get_error_reason(&p->http);
            set_error(p, 400, "malformed request: %s", why ? why : llhttp_errno_name(e));
        }
    }
    p->phase = SOUK_REQPARSE_FAILED;
    return SOUK_REQPARSE_ERROR;
}

/* RFC 9112 section 5.2: a head line that starts with SP or HTAB continues the
 * previous field (obsolete line folding).  llhttp unfolds it, but a proxy in front
 * may not, and would then see other fields than souk ("X: a" CRLF SP
 * "Transfer-Encoding: chunked" is one field here and two there): such a request is
 * refused (400), as the RFC allows.  Scans head bytes as they are consumed, in
 * pieces of any size (head_last carries the byte before the piece). */
static int head_has_fold(souk_reqparse *p, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p->head_last == '\n' && (s[i] == ' ' || s[i] == '\t'))
            return 1;
        p->head_last = s[i];
    }
    return 0;
}

/* The headers are complete (llhttp paused right behind the blank line): the
 * decisions that must precede the body.  Returns MORE to go on parsing, CONTINUE
 * or ERROR. */
static souk_reqparse_event headers_done(souk_reqparse *p, size_t head_len)
{
    const souk_limits *lim = p->limits;
    llhttp_t *h = &p->http;
    souk_request *r = &p->req;
    if (head_len > lim->header_size) {
        set_error(p, 431, "request header section larger than %zu bytes", lim->header_size);
        return fail_from_llhttp(p, HPE_USER);
    }
    int chunked = (h->flags & F_CHUNKED) != 0;
    int sized = !chunked && (h->flags & F_CONTENT_LENGTH);
    if (sized && h->content_length > lim->body_size) {
        set_error(p, 413, "request body larger than %zu bytes", lim->body_size);
        return fail_from_llhttp(p, HPE_USER);
    }
    int has_body = chunked || (sized && h->content_length > 0);
    souk_reqparse_event ev = SOUK_REQPARSE_MORE;
    const char *expect = souk_request_header(r, "Expect");
    /* RFC 9110 section 10.1.1: an HTTP/1.0 client cannot expect anything. */
    if (expect && r->http_minor >= 1) {
        if (strcasecmp(expect, "100-continue") != 0) {
            set_error(p, 417, "unsupported expectation (only 100-continue is)");
            return fail_from_llhttp(p, HPE_USER);
        }
        if (has_body)
            ev = SOUK_REQPARSE_CONTINUE;
    }
    if (has_body) {
        p->phase = SOUK_REQPARSE_BODY;
        if (sized) { /* the exact size is known and allowed: one allocation */
            p->body_cap = (size_t)h->content_length + 1;
            p->body = souk_arena_alloc(&p->arena, p->body_cap);
        }
    }
    return ev;
}

souk_reqparse_event souk_reqparse_feed(souk_reqparse *p, const char *data, size_t len,
                                       size_t *consumed)
{
    size_t off = 0;
    *consumed = 0;
    if (!data) /* no pointer arithmetic on NULL, even "+ 0" */
        data = "", len = 0;
    if (p->phase == SOUK_REQPARSE_FAILED)
        return SOUK_REQPARSE_ERROR;
    if (p->phase == SOUK_REQPARSE_READY)
        return SOUK_REQPARSE_REQUEST;
    if (p->closed && len > 0) {
        set_error(p, 400, "data after the last request of the connection");
        return fail_from_llhttp(p, HPE_USER);
    }
    for (;;) {
        if (p->paused) {
            llhttp_resume(&p->http);
            p->paused = 0;
        }
        p->chunk = data + off;
        p->stop = STOP_NONE;
        int in_head = p->phase == SOUK_REQPARSE_IDLE || p->phase == SOUK_REQPARSE_HEAD;
        llhttp_errno_t e = llhttp_execute(&p->http, data + off, len - off);
        size_t used = len - off;
        if (e == HPE_PAUSED) {
            used = (size_t)(llhttp_get_error_pos(&p->http) - (data + off));
            p->paused = 1;
        } else if (e != HPE_OK) {
            const char *pos = llhttp_get_error_pos(&p->http);
            *consumed = off + (pos ? (size_t)(pos - (data + off)) : 0);
            return fail_from_llhttp(p, e);
        }
        /* An execute that starts in the head pauses at its end at the latest, so
         * these bytes are head bytes only. */
        if (in_head && head_has_fold(p, data + off, used)) {
            set_error(p, 400, "malformed request: obsolete line folding in a header");
            return fail_from_llhttp(p, HPE_USER);
        }
        off += used;
        *consumed = off;
        if (p->stop == STOP_MESSAGE)
            return SOUK_REQPARSE_REQUEST;
        if (p->stop == STOP_HEADERS) {
            souk_reqparse_event ev = headers_done(p, p->head_base + used);
            if (ev != SOUK_REQPARSE_MORE)
                return ev;
            /* Go on even when off == len: a request without a body completes
             * on the resumed (empty) execute. */
            continue;
        }
        if (p->phase == SOUK_REQPARSE_IDLE || p->phase == SOUK_REQPARSE_HEAD) {
            p->head_base += used;
            if (p->head_base > p->limits->header_size) {
                set_error(p, 431, "request header section larger than %zu bytes",
                          p->limits->header_size);
                return fail_from_llhttp(p, HPE_USER);
            }
        }
        return SOUK_REQPARSE_MORE;
    }
}

souk_request *souk_reqparse_request(souk_reqparse *p)
{
    return p->phase == SOUK_REQPARSE_READY ? &p->req : NULL;
}

void souk_reqparse_next(souk_reqparse *p)
{
    if (p->phase != SOUK_REQPARSE_READY)
        return;
    p->closed = !p->req.keep_alive;
    memset(&p->req, 0, sizeof p->req);
    souk_arena_reset(&p->arena);
    p->phase = SOUK_REQPARSE_IDLE;
    p->head_base = 0;
    p->url_len = 0;
    souk_buf_reset(&p->url);
    souk_buf_reset(&p->field);
    souk_buf_reset(&p->value);
    p->in_field = 0;
    p->header_cap = 0;
    p->n_trailers = 0;
    p->trailer_bytes = 0;
    p->body = NULL;
    p->body_cap = 0;
    p->version_len = 0;
    p->version[0] = '\0';
    p->head_last = 0;
}

souk_reqparse_phase souk_reqparse_get_phase(const souk_reqparse *p)
{
    return p->phase;
}

int souk_reqparse_error_status(const souk_reqparse *p)
{
    return p->status;
}

const char *souk_reqparse_error_message(const souk_reqparse *p)
{
    return p->status ? p->message : "";
}
