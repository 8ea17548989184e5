/* message.c -- the text of messages: checks of addresses and names, the rendered
 * template split into subject and body, the email as RFC 5322 / MIME text, and
 * the SMS webhook's body and signature.  Pure functions (no host API), so that
 * the unit tests compile this file on its own. */
#include "notify_internal.h"

#include <ctype.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ------------------------------------------------------------------ buffer */

#define BUF_MIN_CAP 256

void notify_buf_add(notify_buf *b, const void *p, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : BUF_MIN_CAP;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d) {
            b->oom = 1;
            return;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void notify_buf_puts(notify_buf *b, const char *s)
{
    notify_buf_add(b, s, strlen(s));
}

void notify_buf_printf(notify_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = 1;
        return;
    }
    if ((size_t)n < sizeof small) {
        notify_buf_add(b, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        b->oom = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    notify_buf_add(b, big, (size_t)n);
    free(big);
}

char *notify_buf_take(notify_buf *b, size_t *len)
{
    if (b->oom) {
        notify_buf_free(b);
        return NULL;
    }
    if (!b->data)
        notify_buf_add(b, "", 0);
    char *out = b->data;
    if (len)
        *len = b->len;
    memset(b, 0, sizeof *b);
    return out;
}

void notify_buf_free(notify_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

/* ------------------------------------------------------------------ checks */

/* An address goes into SMTP commands and header fields: besides its shape, no
 * byte may end a line or a command (CR, LF, NUL are impossible here; spaces,
 * controls, '<', '>', '"', ',' and ';' are refused). */
const char *notify_check_email(const char *a)
{
    if (!a || !*a)
        return "the address is empty";
    size_t n = strlen(a);
    if (n > NOTIFY_ADDRESS_MAX)
        return "the address is longer than 254 characters";
    const char *at = strchr(a, '@');
    if (!at || strchr(at + 1, '@'))
        return "the address must contain exactly one '@'";
    if (at == a || (size_t)(at - a) > 64)
        return "the part before '@' must have 1 to 64 characters";
    for (const unsigned char *p = (const unsigned char *)a; *p; p++)
        if (*p <= ' ' || *p == 0x7f || strchr("<>\"(),;:[]\\", *p))
            return "the address contains a space or a character not allowed in it";
    const char *domain = at + 1;
    const char *dot = strchr(domain, '.');
    if (!*domain || !dot || domain[0] == '.' || domain[strlen(domain) - 1] == '.' ||
        strstr(domain, ".."))
        return "the domain after '@' must be a name such as example.com";
    return NULL;
}

/* E.164: '+', a country code that does not start with 0, 8 to 15 digits in all
 * (the shortest national numbers in use have 7 digits after the country code). */
#define PHONE_DIGITS_MIN 8
#define PHONE_DIGITS_MAX 15

const char *notify_check_phone(const char *p)
{
    if (!p || !*p)
        return "the phone number is empty";
    if (p[0] != '+' || p[1] < '1' || p[1] > '9')
        return "the phone number must be in E.164 form, such as +79991234567";
    size_t digits = 0;
    for (const char *q = p + 1; *q; q++) {
        if (*q < '0' || *q > '9')
            return "the phone number must be in E.164 form, such as +79991234567";
        digits++;
    }
    if (digits < PHONE_DIGITS_MIN || digits > PHONE_DIGITS_MAX)
        return "the phone number must have 8 to 15 digits after '+'";
    return NULL;
}

const char *notify_check_name(const char *name, size_t max)
{
    if (!name || !*name)
        return "the message name is empty";
    if (strlen(name) > max)
        return "the message name is too long";
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return "the message name may contain only a-z, 0-9 and '_'";
    return NULL;
}

const char *notify_check_locale(const char *l)
{
    if (!l || !*l || strlen(l) > NOTIFY_LOCALE_MAX)
        return "the locale must be a short name such as \"ru\"";
    for (const char *p = l; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
            return "the locale must be a short name such as \"ru\"";
    return NULL;
}

const char *notify_check_url(const char *u)
{
    if (!u || (strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0))
        return "the address must start with http:// or https://";
    if (strlen(u) > NOTIFY_URL_MAX)
        return "the address is longer than 900 characters";
    for (const unsigned char *p = (const unsigned char *)u; *p; p++)
        if (*p <= ' ' || *p >= 0x7f || *p == '<' || *p == '>' || *p == '"')
            return "the address must be printable ASCII without spaces, '<', '>' or '\"'";
    return NULL;
}

/* --------------------------------------------------------------- templates */

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

char *notify_trim(char *text)
{
    while (is_blank(*text))
        text++;
    size_t n = strlen(text);
    while (n > 0 && is_blank(text[n - 1]))
        text[--n] = '\0';
    return text;
}

const char *notify_split_email(char *text, const char **subject, const char **body)
{
    static const char label[] = "Subject:";
    /* Leading blank lines come from Mustache tags on lines of their own; skip
     * them rather than make template authors fight the whitespace rules. */
    while (*text == '\n' || *text == '\r')
        text++;
    if (strncasecmp(text, label, sizeof label - 1) != 0)
        return "the first line must be \"Subject: ...\"";
    char *s = text + sizeof label - 1;
    char *eol = strchr(s, '\n');
    char *rest = eol ? eol + 1 : s + strlen(s);
    if (eol)
        *eol = '\0';
    s = notify_trim(s);
    if (!*s)
        return "the subject is empty";
    if (strlen(s) > NOTIFY_SUBJECT_MAX)
        return "the subject is longer than 500 bytes";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < ' ' && *p != '\t')
            return "the subject contains a control character";
    /* The blank line between the subject and the body. */
    if (*rest == '\r' && rest[1] == '\n')
        rest += 2;
    else if (*rest == '\n')
        rest++;
    size_t n = strlen(rest);
    while (n > 0 && is_blank(rest[n - 1]))
        rest[--n] = '\0';
    if (!*rest)
        return "the body is empty";
    *subject = s;
    *body = rest;
    return NULL;
}

/* ------------------------------------------------------------------- email */

/* RFC 5322 2.1.1: lines SHOULD stay within 78 characters and MUST within 998. */
#define LINE_SOFT_MAX 78
#define LINE_HARD_MAX 998
/* RFC 2045 6.7: encoded lines of at most 76 characters. */
#define QP_LINE_MAX 76
/* RFC 2047: an encoded word is at most 75 characters; "=?UTF-8?B?" and "?=" take
 * 12, so 63 remain for base64, i.e. 45 bytes of text.  A smaller chunk keeps the
 * first line ("Subject: " + word) within 78 characters. */
#define WORD_CHUNK_MAX 42

static int needs_words(const char *v, size_t label_len)
{
    if (strstr(v, "=?"))
        return 1;
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p >= 0x7f || (*p < ' ' && *p != '\t'))
            return 1;
    return label_len + strlen(v) > LINE_SOFT_MAX;
}

/* Length of the longest prefix of s, at most max bytes, that ends on a UTF-8
 * character boundary (a continuation byte is 10xxxxxx). */
static size_t utf8_prefix(const unsigned char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t n = max;
    while (n > 0 && (s[n] & 0xC0) == 0x80)
        n--;
    return n ? n : max; /* a run of continuation bytes: cut anyway */
}

void notify_header_words(notify_buf *b, const char *value, size_t label_len)
{
    if (!needs_words(value, label_len)) {
        notify_buf_puts(b, value);
        return;
    }
    const unsigned char *p = (const unsigned char *)value;
    size_t left = strlen(value);
    int first = 1;
    char b64[sodium_base64_ENCODED_LEN(WORD_CHUNK_MAX, sodium_base64_VARIANT_ORIGINAL)];
    while (left > 0 || first) {
        size_t n = utf8_prefix(p, left, WORD_CHUNK_MAX);
        sodium_bin2base64(b64, sizeof b64, p, n, sodium_base64_VARIANT_ORIGINAL);
        if (!first)
            notify_buf_puts(b, "\r\n ");
        notify_buf_printf(b, "=?UTF-8?B?%s?=", b64);
        p += n;
        left -= n;
        first = 0;
    }
}

void notify_qp_encode(notify_buf *b, const char *text)
{
    static const char hex[] = "0123456789ABCDEF";
    const char *line = text;
    for (;;) {
        const char *eol = strchr(line, '\n');
        size_t n = eol ? (size_t)(eol - line) : strlen(line);
        if (n > 0 && line[n - 1] == '\r')
            n--;
        size_t col = 0;
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)line[i];
            int last = i + 1 == n;
            char enc[3];
            size_t w;
            /* Printable ASCII stays; a blank stays unless it ends the line
             * (trailing blanks may be stripped in transit). */
            if ((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last)) {
                enc[0] = (char)c;
                w = 1;
            } else {
                enc[0] = '=';
                enc[1] = hex[c >> 4];
                enc[2] = hex[c & 15];
                w = 3;
            }
            /* Room for a soft break "=" unless this is the line's last piece. */
            size_t limit = last ? QP_LINE_MAX : QP_LINE_MAX - 1;
            if (col + w > limit) {
                notify_buf_puts(b, "=\r\n");
                col = 0;
            }
            notify_buf_add(b, enc, w);
            col += w;
        }
        if (!eol)
            break;
        notify_buf_puts(b, "\r\n");
        line = eol + 1;
    }
}

void notify_rfc5322_date(int64_t ms, char out[40])
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* The body with CRLF line ends, unchanged otherwise. */
static void add_crlf_text(notify_buf *b, const char *text)
{
    for (const char *p = text; *p;) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        size_t m = n > 0 && p[n - 1] == '\r' ? n - 1 : n;
        notify_buf_add(b, p, m);
        notify_buf_puts(b, "\r\n");
        if (!eol)
            break;
        p = eol + 1;
    }
}

/* 7bit is enough for ASCII text with lines within the hard limit; anything
 * else goes quoted-printable, which needs no 8BITMIME from any relay. */
static int body_is_7bit(const char *body)
{
    size_t col = 0;
    for (const unsigned char *p = (const unsigned char *)body; *p; p++) {
        if (*p >= 0x80 || *p == 0 || (*p < ' ' && *p != '\t' && *p != '\r' && *p != '\n'))
            return 0;
        col = *p == '\n' ? 0 : col + 1;
        if (col > LINE_HARD_MAX)
            return 0;
    }
    return 1;
}

/* A display name: a quoted string when it is plain ASCII, encoded words
 * otherwise. */
static void add_display_name(notify_buf *b, const char *name)
{
    int plain = 1;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p >= 0x7f || *p < ' ')
            plain = 0;
    if (!plain || strlen(name) > LINE_SOFT_MAX / 2) {
        notify_header_words(b, name, strlen("From: "));
        return;
    }
    notify_buf_puts(b, "\"");
    for (const char *p = name; *p; p++) {
        if (*p == '"' || *p == '\\')
            notify_buf_puts(b, "\\");
        notify_buf_add(b, p, 1);
    }
    notify_buf_puts(b, "\"");
}

char *notify_email_build(const notify_email *e, size_t *len)
{
    notify_buf b = {0};
    char date[40];
    notify_rfc5322_date(e->date_ms, date);
    notify_buf_printf(&b, "Date: %s\r\n", date);
    notify_buf_puts(&b, "From: ");
    if (e->from_name && *e->from_name) {
        add_display_name(&b, e->from_name);
        notify_buf_printf(&b, " <%s>\r\n", e->from);
    } else {
        notify_buf_printf(&b, "%s\r\n", e->from);
    }
    notify_buf_printf(&b, "To: %s\r\n", e->to);
    notify_buf_puts(&b, "Subject: ");
    notify_header_words(&b, e->subject, strlen("Subject: "));
    notify_buf_puts(&b, "\r\n");
    const char *k;
    json_t *v;
    json_object_foreach(e->headers, k, v) {
        const char *s = json_string_value(v);
        /* Values were checked when queued; a line break here would start a new
         * header, so one that slipped through is dropped, not sent. */
        if (s && !strpbrk(s, "\r\n") && !strpbrk(k, "\r\n: "))
            notify_buf_printf(&b, "%s: %s\r\n", k, s);
    }
    int seven = body_is_7bit(e->body);
    notify_buf_puts(&b, "MIME-Version: 1.0\r\n"
                        "Content-Type: text/plain; charset=utf-8\r\n");
    notify_buf_printf(&b, "Content-Transfer-Encoding: %s\r\n\r\n",
                      seven ? "7bit" : "quoted-printable");
    if (seven) {
        add_crlf_text(&b, e->body);
    } else {
        notify_qp_encode(&b, e->body);
        notify_buf_puts(&b, "\r\n");
    }
    return notify_buf_take(&b, len);
}

/* ----------------------------------------------------------------- webhook */

char *notify_webhook_body(int64_t id, const char *to, const char *text, const char *sender)
{
    json_t *o = json_pack("{s:I, s:s, s:s, s:s*}", "id", (json_int_t)id, "to", to, "text", text,
                          "sender", sender);
    if (!o)
        return NULL;
    char *s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(o);
    return s;
}

void notify_webhook_sign(const char *secret, int64_t timestamp, const char *body, size_t body_len,
                         char out[NOTIFY_SIGNATURE_MAX])
{
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    char prefix[32];
    int n = snprintf(prefix, sizeof prefix, "%lld.", (long long)timestamp);
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)prefix, (size_t)n);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, body_len);
    crypto_auth_hmacsha256_final(&st, mac);
    memcpy(out, "sha256=", 7);
    sodium_bin2hex(out + 7, NOTIFY_SIGNATURE_MAX - 7, mac, sizeof mac);
    sodium_memzero(&st, sizeof st);
}

/* ----------------------------------------------------------------- back-off */

int64_t notify_backoff_ms(int attempts, int64_t base_ms, int64_t max_ms)
{
    int64_t wait = base_ms;
    for (int i = 1; i < attempts && wait < max_ms; i++)
        wait *= 2;
    return wait < max_ms ? wait : max_ms;
}
