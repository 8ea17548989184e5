/* static.c -- static files: see static.h. */
#include "static.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Room for W/"<size>-<mtime>" with both in hex. */
#define STATIC_ETAG_SIZE 48
/* Room for "public, max-age=<int>". */
#define STATIC_CACHE_CONTROL_SIZE 48

typedef struct static_type {
    const char *ext;
    const char *type;
    int text; /* small, textual: read into memory and compressible */
} static_type;

static const static_type static_types[] = {
    {"css", "text/css; charset=utf-8", 1},
    {"js", "text/javascript; charset=utf-8", 1},
    {"mjs", "text/javascript; charset=utf-8", 1},
    {"svg", "image/svg+xml; charset=utf-8", 1},
    {"json", "application/json; charset=utf-8", 1},
    {"map", "application/json; charset=utf-8", 1},
    {"txt", "text/plain; charset=utf-8", 1},
    {"html", "text/html; charset=utf-8", 1},
    {"png", "image/png", 0},
    {"jpg", "image/jpeg", 0},
    {"jpeg", "image/jpeg", 0},
    {"webp", "image/webp", 0},
    {"gif", "image/gif", 0},
    {"ico", "image/x-icon", 0},
    {"woff2", "font/woff2", 0},
};

#define STATIC_DEFAULT_TYPE "application/octet-stream"

const char *souk_static_content_type(const char *name, int *text)
{
    *text = 0;
    const char *slash = strrchr(name, '/');
    const char *base = slash ? slash + 1 : name;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base) /* ".hidden" has no extension */
        return STATIC_DEFAULT_TYPE;
    for (size_t i = 0; i < sizeof static_types / sizeof static_types[0]; i++) {
        if (strcasecmp(dot + 1, static_types[i].ext) == 0) {
            *text = static_types[i].text;
            return static_types[i].type;
        }
    }
    return STATIC_DEFAULT_TYPE;
}

/* Weak comparison (RFC 9110 section 8.8.3.2) of our tag with each entity tag in
 * an If-None-Match list; "*" matches any current representation. */
static int etag_listed(const char *header, const char *etag)
{
    const char *opaque = strncmp(etag, "W/", 2) == 0 ? etag + 2 : etag;
    size_t on = strlen(opaque);
    const char *p = header;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n == 1 && *p == '*')
            return 1;
        const char *tag = p;
        if (n >= 2 && strncmp(tag, "W/", 2) == 0)
            tag += 2, n -= 2;
        if (n == on && memcmp(tag, opaque, on) == 0)
            return 1;
        p = end ? end + 1 : p + strlen(p);
    }
    return 0;
}

static int two_digits(const char *s, int *out)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
        return -1;
    *out = (s[0] - '0') * 10 + (s[1] - '0');
    return 0;
}

/* Parse an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT").  The two obsolete
 * formats are not understood: such a request simply gets the full file. */
static int http_date_parse(const char *s, time_t *out)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    if (strlen(s) != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' ||
        s[16] != ' ' || s[19] != ':' || s[22] != ':' || strcmp(s + 25, " GMT") != 0)
        return -1;
    struct tm tm = {0};
    int hi, lo;
    if (two_digits(s + 5, &tm.tm_mday) || two_digits(s + 12, &hi) || two_digits(s + 14, &lo) ||
        two_digits(s + 17, &tm.tm_hour) || two_digits(s + 20, &tm.tm_min) ||
        two_digits(s + 23, &tm.tm_sec))
        return -1;
    const char *m = NULL;
    for (int i = 0; i < 12 && !m; i++) {
        if (strncmp(months + i * 3, s + 8, 3) == 0)
            m = months + i * 3, tm.tm_mon = i;
    }
    if (!m)
        return -1;
    tm.tm_year = hi * 100 + lo - 1900;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    *out = t;
    return 0;
}

static int not_found(souk_response *res, souk_arena *a)
{
    res->status = 404;
    souk_response_body(res, a, "text/plain; charset=utf-8", "not found\n", 10);
    return 404;
}

/* Read the whole regular file behind fd (size bytes) into the arena. */
static char *read_all(souk_arena *a, int fd, size_t size, size_t *got)
{
    char *buf = souk_arena_alloc(a, size + 1);
    size_t off = 0;
    while (off < size) {
        ssize_t n = pread(fd, buf + off, size - off, (off_t)off);
        if (n < 0)
            return NULL;
        if (n == 0) /* truncated meanwhile: serve what is there */
            break;
        off += (size_t)n;
    }
    buf[off] = '\0';
    *got = off;
    return buf;
}

int souk_static_serve(souk_request *req, souk_response *res, souk_arena *a, const char *root,
                      const char *rel, int max_age)
{
    res->route = "static";
    const char *real_root = root;
    char *path = souk_safe_join_real(real_root, rel);
    /* souk_safe_join guarantees this; checked again because a path outside root
     * must never be opened whatever happens to that function. */
    size_t rn = strlen(real_root);
    int inside = path && strncmp(path, real_root, rn) == 0 &&
                 (path[rn] == '/' || (rn == 1 && path[0] == '/'));
    if (!inside) {
        free(path);
        return not_found(res, a);
    }
    /* O_NONBLOCK: opening a FIFO planted in the directory must not hang the
     * worker; it has no effect on the regular files that are served. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    int text = 0;
    const char *type = souk_static_content_type(path, &text);
    free(path);
    struct stat st;
    if (fd < 0)
        return not_found(res, a);
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return not_found(res, a);
    }

    char etag[STATIC_ETAG_SIZE], modified[SOUK_HTTP_DATE_SIZE], cache[STATIC_CACHE_CONTROL_SIZE];
    snprintf(etag, sizeof etag, "W/\"%llx-%llx\"", (unsigned long long)st.st_size,
             (unsigned long long)st.st_mtime);
    souk_http_date(st.st_mtime, modified);
    snprintf(cache, sizeof cache, "public, max-age=%d", max_age > 0 ? max_age : 0);
    souk_response_header(res, a, "ETag", etag);
    souk_response_header(res, a, "Last-Modified", modified);
    souk_response_header(res, a, "Cache-Control", cache);
    /* The type comes from the extension alone: a browser must not guess another
     * one (an uploaded "photo.jpg" that holds HTML must not run as a page). */
    souk_response_header(res, a, "X-Content-Type-Options", "nosniff");
    res->compressible = text; /* also on 304: the 200 would vary by encoding */

    const char *inm = req ? souk_request_header(req, "If-None-Match") : NULL;
    const char *ims = req ? souk_request_header(req, "If-Modified-Since") : NULL;
    time_t since;
    int fresh = inm ? etag_listed(inm, etag)
                    : (ims && http_date_parse(ims, &since) == 0 && st.st_mtime <= since);
    if (fresh) {
        close(fd);
        res->status = 304;
        return 304;
    }

    res->status = 200;
    res->content_type = type;
    if (text && st.st_size <= SOUK_STATIC_INLINE_MAX) {
        size_t got = 0;
        char *body = read_all(a, fd, (size_t)st.st_size, &got);
        close(fd);
        if (!body)
            return not_found(res, a);
        res->body = body;
        res->body_len = got;
        return 200;
    }
    res->compressible = 0; /* sent as is with sendfile */
    res->file_fd = fd;
    res->file_size = st.st_size;
    return 200;
}
