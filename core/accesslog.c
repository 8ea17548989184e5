/* accesslog.c -- see accesslog.h. */
#include "accesslog.h"

#include "log.h"

#include <souk/souk.h>
#include <souk/utf8.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static char access_source[32] = "souk";
static int access_enabled = 1;

void souk_accesslog_setup(const char *source, int min_level)
{
    snprintf(access_source, sizeof access_source, "%s", source ? source : "souk");
    access_enabled = min_level <= SOUK_LOG_INFO;
}

/* The line being built: writes past the end are dropped, never overflow. */
typedef struct line_buf {
    char *p;
    size_t len, cap; /* cap includes the NUL */
} line_buf;

static void put_mem(line_buf *b, const char *s, size_t n)
{
    if (b->len + 1 >= b->cap)
        return;
    size_t room = b->cap - 1 - b->len;
    if (n > room)
        n = room;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void put(line_buf *b, const char *s)
{
    put_mem(b, s, strlen(s));
}

static int is_token_byte(unsigned char c)
{
    return c > 0x20 && c < 0x7F && c != '"' && c != '\\' && c != '=';
}

static int is_token(const char *v)
{
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (!is_token_byte(*p))
            return 0;
    return 1;
}

#define ELLIPSIS "..."

/* key="value" with escaping, the value taking at most max bytes of the line
 * (quotes included); a longer value is cut at a character and ends in "...". */
static void put_quoted(line_buf *b, const char *key, const char *v, size_t max)
{
    put(b, " ");
    put(b, key);
    put(b, "=");
    if (!v || !*v) {
        put(b, "-");
        return;
    }
    size_t budget = max - 2 - (sizeof ELLIPSIS - 1); /* quotes and a possible "..." */
    size_t used = 0;
    size_t len = strlen(v);
    const unsigned char *p = (const unsigned char *)v;
    put(b, "\"");
    for (size_t i = 0; i < len;) {
        char esc[8];
        size_t n = souk_utf8_decode(p + i, p + len, NULL);
        const char *piece = (const char *)p + i;
        size_t piece_len = n;
        if (n == 0 || (n == 1 && (p[i] < 0x20 || p[i] == 0x7F))) {
            snprintf(esc, sizeof esc, "\\x%02x", p[i]);
            piece = esc;
            piece_len = 4;
            n = 1;
        } else if (n == 1 && (p[i] == '"' || p[i] == '\\')) {
            esc[0] = '\\';
            esc[1] = (char)p[i];
            piece = esc;
            piece_len = 2;
        }
        if (used + piece_len > budget) {
            put(b, ELLIPSIS);
            break;
        }
        put_mem(b, piece, piece_len);
        used += piece_len;
        i += n;
    }
    put(b, "\"");
}

/* key=value, quoted (as above) unless the value is a plain token. */
static void put_token(line_buf *b, const char *key, const char *v)
{
    if (v && *v && is_token(v) && strlen(v) <= SOUK_ACCESSLOG_TOKEN_MAX) {
        put(b, " ");
        put(b, key);
        put(b, "=");
        put(b, v);
    } else {
        put_quoted(b, key, v, SOUK_ACCESSLOG_TOKEN_MAX);
    }
}

size_t souk_accesslog_format(char *out, size_t cap, const souk_request *req,
                             const souk_response *res, size_t bytes, double ms)
{
    if (cap == 0)
        return 0;
    line_buf b = {out, 0, cap};
    out[0] = '\0';

    /* Wall time as the process log prints it (real time: a log is never moved by
     * the store's injectable clock). */
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char ts[40], num[64];
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(num, sizeof num, ".%03dZ", (int)(tv.tv_usec / 1000));
    put(&b, "ts=");
    put(&b, ts);
    put(&b, num);
    put(&b, " level=info");
    put_token(&b, "src", access_source);
    put(&b, " kind=access");
    put_token(&b, "id", req ? req->id : NULL);
    put_token(&b, "method", req ? req->method : NULL);
    put_quoted(&b, "path", req ? req->path : NULL, SOUK_ACCESSLOG_PATH_MAX);
    if (res) {
        snprintf(num, sizeof num, " status=%d", res->status);
        put(&b, num);
    } else {
        put(&b, " status=-");
    }
    snprintf(num, sizeof num, " bytes=%zu ms=%.3f", bytes, ms >= 0 ? ms : 0.0);
    put(&b, num);
    put_quoted(&b, "route", res ? res->route : NULL, SOUK_ACCESSLOG_ROUTE_MAX);
    put_token(&b, "ip", req ? req->ip : NULL);
    put_quoted(&b, "ua", req && req->headers ? souk_request_header(req, "User-Agent") : NULL,
               SOUK_ACCESSLOG_UA_MAX);
    return b.len;
}

void souk_accesslog_write(const souk_request *req, const souk_response *res, size_t bytes,
                          double ms)
{
    if (!access_enabled)
        return;
    char line[SOUK_ACCESSLOG_LINE_MAX + 1];
    souk_accesslog_format(line, sizeof line, req, res, bytes, ms);
    souk_log_raw(line);
}
