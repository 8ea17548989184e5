/* http.c -- request/response helpers and the parsers for what travels inside a
 * request (percent-encoding, url-encoded fields, cookies, Accept-* lists, paths);
 * see http.h.
 *
 * Every parser here reads bytes a client chose.  They are strict where a sloppy
 * reading could hurt (a NUL inside a C string, a path leaving its root, a CR in a
 * header) and tolerant where browsers and proxies are known to differ (whitespace,
 * cookies without '=').  Errors name the field, never echoing raw bytes: names are
 * escaped before they go into a message. */
#include "http.h"

#include "log.h"

#include <limits.h>
#include <souk/souk.h>
#include <souk/utf8.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* How many bytes of a field name an error message quotes (then "..."). */
#define HTTP_ERR_NAME_MAX 64
/* Initial size of a response's header array; it doubles from there. */
#define HTTP_HEADERS_INITIAL 8
/* q-values are kept in thousandths: "0.5" -> 500. */
#define HTTP_Q_ONE 1000

/* ---------------------------------------------------------------- helpers */

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}


/* Write a field name into out for an error message: printable ASCII as is,
 * valid UTF-8 as is, anything else (and quote, backslash) as \xNN; cut after
 * HTTP_ERR_NAME_MAX bytes of input with "...".  out has room for the worst case. */
#define HTTP_ERR_NAME_BUF (HTTP_ERR_NAME_MAX * 4 + 4)
static const char *describe_name(char out[HTTP_ERR_NAME_BUF], const char *s, size_t n)
{
    int cut = 0;
    if (n > HTTP_ERR_NAME_MAX) {
        n = HTTP_ERR_NAME_MAX;
        /* Do not split a UTF-8 sequence: back off over continuation bytes. */
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
        cut = 1;
    }
    int text = souk_utf8_valid(s, n, NULL);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7F || c == '\'' || c == '\\' || (c >= 0x80 && !text)) {
            j += (size_t)snprintf(out + j, HTTP_ERR_NAME_BUF - j, "\\x%02x", c);
        } else {
            out[j++] = (char)c;
        }
    }
    if (cut) {
        memcpy(out + j, "...", 3);
        j += 3;
    }
    out[j] = '\0';
    return out;
}

/* tchar of RFC 9110: the characters of a token (header and cookie names). */
static int is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int is_ows(char c) { return c == ' ' || c == '\t'; }

/* ------------------------------------------------------- request, response */

const char *souk_request_header(const souk_request *req, const char *name)
{
    for (int i = 0; i < req->n_headers; i++) {
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    }
    return NULL;
}

void souk_response_init(souk_response *res, souk_arena *arena)
{
    memset(res, 0, sizeof *res);
    res->status = 200;
    res->file_fd = -1;
}

int souk_http_header_valid(const char *name, const char *value)
{
    if (!name || !value || !*name)
        return 0;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if (!is_tchar(*p))
            return 0;
    }
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if ((*p < 0x20 && *p != '\t') || *p == 0x7F)
            return 0;
    }
    return 1;
}

void souk_response_header(souk_response *res, souk_arena *arena, const char *name,
                          const char *value)
{
    if (!souk_http_header_valid(name, value)) {
        char shown[HTTP_ERR_NAME_BUF];
        souk_log(SOUK_LOG_WARN, "response header '%s' dropped: invalid name or value",
                 name ? describe_name(shown, name, strlen(name)) : "(null)");
        return;
    }
    if (res->n_headers == res->cap_headers) {
        int cap = res->cap_headers ? res->cap_headers * 2 : HTTP_HEADERS_INITIAL;
        souk_header *h = souk_arena_alloc(arena, sizeof *h * (size_t)cap);
        if (res->n_headers)
            memcpy(h, res->headers, sizeof *h * (size_t)res->n_headers);
        res->headers = h; /* the old array stays in the arena until the request ends */
        res->cap_headers = cap;
    }
    souk_header *h = &res->headers[res->n_headers++];
    h->name = souk_arena_strdup(arena, name);
    h->value = souk_arena_strdup(arena, value);
}

void souk_response_body(souk_response *res, souk_arena *arena, const char *type,
                        const char *body, size_t len)
{
    if (!body)
        len = 0;
    res->body = souk_arena_strndup(arena, body ? body : "", len);
    res->body_len = len;
    res->content_type = type ? souk_arena_strdup(arena, type) : NULL;
}

const char *souk_http_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 102: return "Processing";
    case 103: return "Early Hints";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 206: return "Partial Content";
    case 207: return "Multi-Status";
    case 208: return "Already Reported";
    case 226: return "IM Used";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 305: return "Use Proxy";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Content";
    case 423: return "Locked";
    case 424: return "Failed Dependency";
    case 425: return "Too Early";
    case 426: return "Upgrade Required";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 451: return "Unavailable For Legal Reasons";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    case 506: return "Variant Also Negotiates";
    case 507: return "Insufficient Storage";
    case 508: return "Loop Detected";
    case 510: return "Not Extended";
    case 511: return "Network Authentication Required";
    default: return "Unknown";
    }
}

/* ------------------------------------------------------ percent-encoding */

char *souk_url_decode(souk_arena *a, const char *src, size_t len, int form)
{
    /* Decoding never lengthens, so len + 1 bytes always suffice. */
    char *out = souk_arena_alloc(a, len + 1);
    size_t j = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c == '%') {
            if (len - i < 3)
                return NULL;
            int hi = hex_value((unsigned char)src[i + 1]);
            int lo = hex_value((unsigned char)src[i + 2]);
            if (hi < 0 || lo < 0)
                return NULL;
            c = (unsigned char)(hi << 4 | lo);
            i += 2;
        } else if (c == '+' && form) {
            c = ' ';
        }
        if (c == '\0')
            return NULL;
        out[j++] = (char)c;
    }
    out[j] = '\0';
    return out;
}

/* Store key=value in obj: a second value turns the entry into an array. */
static void urlencoded_store(json_t *obj, const char *key, const char *value)
{
    json_t *v = json_string_nocheck(value);
    json_t *old = json_object_get(obj, key);
    if (!old) {
        json_object_set_new_nocheck(obj, key, v);
    } else if (json_is_array(old)) {
        json_array_append_new(old, v);
    } else {
        json_t *arr = json_array();
        json_array_append(arr, old);
        json_array_append_new(arr, v);
        json_object_set_new_nocheck(obj, key, arr);
    }
}

/* One "key=value" (or "key") pair, raw, non-empty. */
static int urlencoded_pair(souk_arena *a, const char *p, size_t n, json_t *obj,
                           char *err, size_t errlen)
{
    char shown[HTTP_ERR_NAME_BUF];
    const char *eq = memchr(p, '=', n);
    size_t klen = eq ? (size_t)(eq - p) : n;
    if (klen == 0)
        return 0; /* "=x": a value nobody can ask for; skipped, like an empty pair */
    const char *vraw = eq ? eq + 1 : p + n;
    size_t vlen = eq ? n - klen - 1 : 0;

    char *key = souk_url_decode(a, p, klen, 1);
    if (!key) {
        souk_errorf(err, errlen, "bad percent-encoding in field name '%s'",
                describe_name(shown, p, klen));
        return -1;
    }
    size_t key_len = strlen(key);
    if (!souk_utf8_valid(key, key_len, NULL)) {
        souk_errorf(err, errlen, "field name '%s' is not valid UTF-8",
                describe_name(shown, key, key_len));
        return -1;
    }
    char *value = souk_url_decode(a, vraw, vlen, 1);
    if (!value) {
        souk_errorf(err, errlen, "bad percent-encoding in field '%s'",
                describe_name(shown, key, key_len));
        return -1;
    }
    if (!souk_utf8_valid(value, strlen(value), NULL)) {
        souk_errorf(err, errlen, "field '%s' is not valid UTF-8",
                describe_name(shown, key, key_len));
        return -1;
    }
    urlencoded_store(obj, key, value);
    return 0;
}

int souk_parse_urlencoded(souk_arena *a, const char *s, size_t len, json_t *obj,
                          char *err, size_t errlen)
{
    size_t pairs = 0, i = 0;
    while (i < len) {
        const char *amp = memchr(s + i, '&', len - i);
        size_t end = amp ? (size_t)(amp - s) : len;
        if (end > i) {
            if (++pairs > SOUK_URLENCODED_MAX_PAIRS) {
                souk_errorf(err, errlen, "too many fields (more than %d)",
                        SOUK_URLENCODED_MAX_PAIRS);
                return -1;
            }
            if (urlencoded_pair(a, s + i, end - i, obj, err, errlen) < 0)
                return -1;
        }
        i = end + 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- cookies */

int souk_parse_cookies(const char *header, json_t *obj, char *err, size_t errlen)
{
    char shown[HTTP_ERR_NAME_BUF];
    const char *p = header;
    while (p && *p) {
        while (is_ows(*p) || *p == ';')
            p++;
        if (!*p)
            break;
        const char *semi = strchr(p, ';');
        const char *end = semi ? semi : p + strlen(p);
        const char *next = semi ? semi + 1 : end;
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (!eq) {
            p = next; /* "flag" without '=': ignored (RFC 6265 section 5.2) */
            continue;
        }
        const char *name_end = eq;
        while (name_end > p && is_ows(name_end[-1]))
            name_end--;
        size_t name_len = (size_t)(name_end - p);
        if (name_len == 0) {
            p = next; /* "=x": ignored, as a user agent would */
            continue;
        }
        for (size_t i = 0; i < name_len; i++) {
            if (!is_tchar((unsigned char)p[i])) {
                souk_errorf(err, errlen, "invalid cookie name '%s'",
                        describe_name(shown, p, name_len));
                return -1;
            }
        }
        const char *v = eq + 1, *v_end = end;
        while (v < v_end && is_ows(*v))
            v++;
        while (v_end > v && is_ows(v_end[-1]))
            v_end--;
        if (v < v_end && *v == '"') {
            if (v_end - v < 2 || v_end[-1] != '"') {
                souk_errorf(err, errlen, "unterminated quote in cookie '%.*s'",
                        (int)name_len, p);
                return -1;
            }
            v++, v_end--;
        }
        size_t vlen = (size_t)(v_end - v);
        /* Values are opaque to the server, so more than RFC 6265's cookie-octets
         * is accepted (browsers send what scripts set); control characters and
         * non-UTF-8 cannot be carried by the JSON the handlers see. */
        for (size_t i = 0; i < vlen; i++) {
            unsigned char c = (unsigned char)v[i];
            if (c < 0x20 || c == 0x7F) {
                souk_errorf(err, errlen, "control character in cookie '%.*s'",
                        (int)name_len, p);
                return -1;
            }
        }
        if (!souk_utf8_valid(v, vlen, NULL)) {
            souk_errorf(err, errlen, "cookie '%.*s' is not valid UTF-8", (int)name_len, p);
            return -1;
        }
        if (!json_object_getn(obj, p, name_len))
            json_object_setn_new_nocheck(obj, p, name_len, json_stringn_nocheck(v, vlen));
        p = next;
    }
    return 0;
}

/* ------------------------------------------------------- Accept-* headers */

/* A qvalue (RFC 9110 section 12.4.2) in thousandths, or -1 when malformed:
 * "0" ["." 0*3DIGIT] / "1" ["." 0*3("0")]. */
static int parse_qvalue(const char *s, size_t n)
{
    if (n == 0 || (s[0] != '0' && s[0] != '1'))
        return -1;
    int q = (s[0] - '0') * HTTP_Q_ONE;
    if (n == 1)
        return q;
    if (s[1] != '.' || n > 5)
        return -1;
    int scale = HTTP_Q_ONE / 10;
    for (size_t i = 2; i < n; i++, scale /= 10) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        q += (s[i] - '0') * scale;
    }
    return q > HTTP_Q_ONE ? -1 : q;
}

/* One element of a comma-separated list "token *( OWS ';' OWS param )": skips
 * empty elements, sets the token span and its q (HTTP_Q_ONE when absent, -1 when
 * malformed) and returns where the next element starts, or NULL at the end. */
static const char *list_next(const char *p, const char **tok, size_t *toklen, int *q)
{
    while (*p == ',' || is_ows(*p))
        p++;
    if (!*p)
        return NULL;
    *tok = p;
    while (*p && *p != ',' && *p != ';' && !is_ows(*p))
        p++;
    *toklen = (size_t)(p - *tok);
    *q = HTTP_Q_ONE;
    for (;;) {
        while (is_ows(*p))
            p++;
        if (*p != ';')
            break;
        p++;
        while (is_ows(*p))
            p++;
        const char *name = p;
        while (*p && *p != '=' && *p != ';' && *p != ',' && !is_ows(*p))
            p++;
        size_t name_len = (size_t)(p - name);
        const char *val = p, *val_end = p;
        if (*p == '=') {
            val = ++p;
            while (*p && *p != ';' && *p != ',' && !is_ows(*p))
                p++;
            val_end = p;
        }
        if (name_len == 1 && (*name == 'q' || *name == 'Q'))
            *q = parse_qvalue(val, (size_t)(val_end - val));
    }
    /* Anything else before the comma is junk: mark the element malformed. */
    if (*p && *p != ',') {
        *q = -1;
        while (*p && *p != ',')
            p++;
    }
    return p;
}

/* One byte of a language tag folded for comparison: ASCII lower case, '_' as '-'
 * (supported locales may be written "pt_BR"). */
static char tag_fold(char c)
{
    if (c >= 'A' && c <= 'Z')
        return (char)(c - 'A' + 'a');
    return c == '_' ? '-' : c;
}

static int tag_equal(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (tag_fold(a[i]) != tag_fold(b[i]))
            return 0;
    }
    return 1;
}

static size_t primary_len(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && s[i] != '-' && s[i] != '_')
        i++;
    return i;
}

static const char *locale_match(const char *tok, size_t n, char *const *supported)
{
    if (n == 1 && tok[0] == '*')
        return supported[0];
    for (char *const *s = supported; *s; s++) {
        if (strlen(*s) == n && tag_equal(*s, tok, n))
            return *s;
    }
    size_t p = primary_len(tok, n);
    if (p == 0)
        return NULL;
    for (char *const *s = supported; *s; s++) {
        size_t sp = primary_len(*s, strlen(*s));
        if (sp == p && tag_equal(*s, tok, p))
            return *s;
    }
    return NULL;
}

const char *souk_pick_locale(const char *accept_language, char *const *supported)
{
    if (!accept_language || !supported || !supported[0])
        return NULL;
    const char *best = NULL, *tok;
    int best_q = 0, q; /* only q > 0 can win; equal q keeps the earlier range */
    size_t n;
    for (const char *p = accept_language; (p = list_next(p, &tok, &n, &q));) {
        if (q <= best_q)
            continue;
        const char *m = locale_match(tok, n, supported);
        if (m)
            best = m, best_q = q;
    }
    return best;
}

int souk_accepts_gzip(const char *accept_encoding)
{
    if (!accept_encoding)
        return 0;
    int gzip_q = -1, star_q = -1, q; /* -1: not listed */
    const char *tok;
    size_t n;
    for (const char *p = accept_encoding; (p = list_next(p, &tok, &n, &q));) {
        if (q < 0)
            continue;
        if ((n == 4 && strncasecmp(tok, "gzip", 4) == 0) ||
            (n == 6 && strncasecmp(tok, "x-gzip", 6) == 0)) {
            if (q > gzip_q)
                gzip_q = q;
        } else if (n == 1 && tok[0] == '*') {
            star_q = q;
        }
    }
    return gzip_q >= 0 ? gzip_q > 0 : star_q > 0;
}

/* ------------------------------------------------------------------ paths */

char *souk_safe_join(const char *root, const char *rel)
{
    if (!root || !*root)
        return NULL;
    char real_root[PATH_MAX];
    if (!realpath(root, real_root))
        return NULL;
    return souk_safe_join_real(real_root, rel);
}

char *souk_safe_join_real(const char *real_root, const char *rel)
{
    if (!real_root || real_root[0] != '/' || !rel || rel[0] == '/' || strchr(rel, '\\'))
        return NULL;
    /* No ".." segment at all, even one that would stay inside root: a request
     * that needs one is not a request for a file we serve. */
    for (const char *seg = rel; seg;) {
        const char *slash = strchr(seg, '/');
        size_t n = slash ? (size_t)(slash - seg) : strlen(seg);
        if (n == 2 && seg[0] == '.' && seg[1] == '.')
            return NULL;
        seg = slash ? slash + 1 : NULL;
    }
    char joined[PATH_MAX];
    int len = snprintf(joined, sizeof joined, "%s/%s", real_root, rel);
    if (len < 0 || (size_t)len >= sizeof joined)
        return NULL;
    char *real = realpath(joined, NULL); /* NULL as well when it does not exist */
    if (!real)
        return NULL;
    /* Below root means root itself or root + '/' + more: a plain prefix test
     * would let "/srv/static-evil" pass for "/srv/static". */
    size_t rn = strlen(real_root);
    if (rn == 1) /* root is "/" */
        return real;
    if (strncmp(real, real_root, rn) == 0 && (real[rn] == '\0' || real[rn] == '/'))
        return real;
    free(real);
    return NULL;
}

/* Write the last `width` decimal digits of v at out. */
static void put_digits(char *out, unsigned v, int width)
{
    for (int i = width - 1; i >= 0; i--, v /= 10)
        out[i] = (char)('0' + v % 10);
}

void souk_http_date(time_t t, char *out)
{
    /* Fixed English names: strftime's %a/%b follow the locale. */
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
        time_t epoch = 0; /* outside IMF-fixdate's four-digit years */
        gmtime_r(&epoch, &tm);
    }
    /* "Sun, 06 Nov 1994 08:49:37 GMT": fixed columns. */
    memcpy(out, "Ddd, DD Mmm YYYY HH:MM:SS GMT", SOUK_HTTP_DATE_SIZE);
    memcpy(out, days[tm.tm_wday], 3);
    put_digits(out + 5, (unsigned)tm.tm_mday, 2);
    memcpy(out + 8, months[tm.tm_mon], 3);
    put_digits(out + 12, (unsigned)(tm.tm_year + 1900), 4);
    put_digits(out + 17, (unsigned)tm.tm_hour, 2);
    put_digits(out + 20, (unsigned)tm.tm_min, 2);
    put_digits(out + 23, (unsigned)tm.tm_sec, 2);
}
