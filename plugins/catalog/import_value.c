/* import_value.c -- parsers of the values in import files: prices (exact, integer
 * arithmetic only), whole numbers, booleans, statuses, slugs, SKUs, plain text,
 * name=value lists, image URLs; and a set of strings for duplicate checks.
 * Pure functions: no database, no host API, so the unit tests call them directly.
 * Each refusal comes back as a reason that the caller prefixes with the field. */
#include "import.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Write a reason into err and return SOUK_ERR (ERR(...) inside the parsers). */
static int fail(char *err, size_t errlen, const char *fmt, ...) SOUK_PRINTF(3, 4);
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return SOUK_ERR;
}
#define ERR(...) fail(err, errlen, __VA_ARGS__)

/* ------------------------------------------------------------------ text */

const char *catalog_import_quote(const char *s, char *buf, size_t size)
{
    size_t max = size - 4 < CATALOG_IMPORT_QUOTE_MAX ? size - 4 : CATALOG_IMPORT_QUOTE_MAX;
    size_t i = 0;
    for (; s[i] && i < max; i++)
        buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7F ? '?' : s[i];
    if (s[i]) {
        while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
            i--; /* do not cut a character in two */
        memcpy(buf + i, "...", 3);
        i += 3;
    }
    buf[i] = '\0';
    return buf;
}

static int is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

int catalog_import_clean_text(const char *s, size_t max, char **out, char *err, size_t errlen)
{
    *out = NULL;
    size_t len = strlen(s);
    char *t = malloc(len + 1);
    if (!t)
        return ERR("out of memory");
    size_t n = 0;
    int space = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_ws(c)) {
            space = n > 0;
            continue;
        }
        if (c < 0x20 || c == 0x7F) {
            free(t);
            return ERR("contains a control character (byte 0x%02X)", c);
        }
        if (space)
            t[n++] = ' ';
        space = 0;
        t[n++] = (char)c;
    }
    t[n] = '\0';
    if (n > max) {
        free(t);
        return ERR("is longer than %zu bytes", max);
    }
    if (n == 0) {
        free(t);
        return SOUK_OK;
    }
    *out = t;
    return SOUK_OK;
}

/* ---------------------------------------------------------------- numbers */

int catalog_import_currency_decimals(const char *code)
{
    /* ISO 4217 minor units that are not 2 */
    static const char *const zero[] = {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY",
                                       "KMF", "KRW", "PYG", "RWF", "UGX", "VND",
                                       "VUV", "XAF", "XOF", "XPF", NULL};
    static const char *const three[] = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND", NULL};
    for (int i = 0; zero[i]; i++)
        if (strcmp(code, zero[i]) == 0)
            return 0;
    for (int i = 0; three[i]; i++)
        if (strcmp(code, three[i]) == 0)
            return 3;
    return 2;
}

int catalog_import_parse_currency(const char *s, char out[4], char *err, size_t errlen)
{
    char q[CATALOG_IMPORT_QUOTE_BUF];
    if (strlen(s) != 3 || !isalpha((unsigned char)s[0]) || !isalpha((unsigned char)s[1]) ||
        !isalpha((unsigned char)s[2]))
        return ERR("'%s' is not a currency code (three letters: RUB)",
                   catalog_import_quote(s, q, sizeof q));
    for (int i = 0; i < 3; i++)
        out[i] = (char)toupper((unsigned char)s[i]);
    out[3] = '\0';
    return SOUK_OK;
}

int catalog_import_parse_price(const char *s, int decimals, int64_t *out, char *err, size_t errlen)
{
    char q[CATALOG_IMPORT_QUOTE_BUF];
    catalog_import_quote(s, q, sizeof q);
    const char *p = s;
    if (*p == '-' && isdigit((unsigned char)p[1]))
        return ERR("'%s' is negative", q);
    if (!isdigit((unsigned char)*p))
        return ERR("'%s' is not a price (digits with a dot: 1990.50)", q);
    int64_t whole = 0;
    for (; isdigit((unsigned char)*p); p++) {
        if (whole > CATALOG_IMPORT_PRICE_MAX / 10)
            return ERR("'%s' is too large", q);
        whole = whole * 10 + (*p - '0');
    }
    int64_t frac = 0;
    int nfrac = 0;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return ERR("'%s' is not a price (digits with a dot: 1990.50)", q);
        for (; isdigit((unsigned char)*p); p++, nfrac++) {
            if (nfrac >= decimals) {
                if (*p != '0') /* "1990.500" is still exact */
                    return decimals == 0 ? ERR("'%s' has decimals; this currency has none", q)
                                         : ERR("'%s' has more than %d decimals", q, decimals);
                continue;
            }
            frac = frac * 10 + (*p - '0');
        }
        if (nfrac > decimals)
            nfrac = decimals;
    } else if (*p == ',') {
        return ERR("'%s' is not a price (use a dot for decimals: 1990.50)", q);
    }
    if (*p != '\0')
        return ERR("'%s' is not a price (digits with a dot: 1990.50)", q);
    for (; nfrac < decimals; nfrac++)
        frac *= 10;
    int64_t scale = 1;
    for (int i = 0; i < decimals; i++)
        scale *= 10;
    if (whole > (CATALOG_IMPORT_PRICE_MAX - frac) / scale)
        return ERR("'%s' is too large", q);
    *out = whole * scale + frac;
    return SOUK_OK;
}

int catalog_import_parse_int(const char *s, int64_t min, int64_t max, int64_t *out, char *err,
                             size_t errlen)
{
    char q[CATALOG_IMPORT_QUOTE_BUF];
    catalog_import_quote(s, q, sizeof q);
    const char *p = s;
    int neg = *p == '-';
    if (neg || *p == '+')
        p++;
    if (!isdigit((unsigned char)*p))
        return ERR("'%s' is not a whole number", q);
    int64_t v = 0;
    for (; isdigit((unsigned char)*p); p++) {
        if (v > (INT64_MAX - 9) / 10)
            return ERR("'%s' is too large", q);
        v = v * 10 + (*p - '0');
    }
    if (*p == '.' || *p == ',') {
        /* "12.0" from a spreadsheet is still a whole number */
        const char *z = p + 1;
        while (*z == '0')
            z++;
        if (*z != '\0' || z == p + 1)
            return ERR("'%s' is not a whole number", q);
        p = z;
    }
    if (*p != '\0')
        return ERR("'%s' is not a whole number", q);
    if (neg)
        v = -v;
    if (v < min)
        return min == 0 ? ERR("'%s' is negative", q) : ERR("'%s' is below %lld", q, (long long)min);
    if (v > max)
        return ERR("'%s' is above %lld", q, (long long)max);
    *out = v;
    return SOUK_OK;
}

int catalog_import_parse_bool(const char *s, int *out, char *err, size_t errlen)
{
    static const char *const yes[] = {"1", "yes", "y", "true", "t", "да", "Да", "ДА", NULL};
    static const char *const no[] = {"0", "no", "n", "false", "f", "нет", "Нет", "НЕТ", NULL};
    for (int i = 0; yes[i]; i++)
        if (strcasecmp(s, yes[i]) == 0) {
            *out = 1;
            return SOUK_OK;
        }
    for (int i = 0; no[i]; i++)
        if (strcasecmp(s, no[i]) == 0) {
            *out = 0;
            return SOUK_OK;
        }
    char q[CATALOG_IMPORT_QUOTE_BUF];
    return ERR("'%s' is not yes or no", catalog_import_quote(s, q, sizeof q));
}

int catalog_import_parse_status(const char *s, const char **out, char *err, size_t errlen)
{
    static const char *const statuses[] = {"draft", "active", "archived", NULL};
    for (int i = 0; statuses[i]; i++)
        if (strcasecmp(s, statuses[i]) == 0) {
            *out = statuses[i];
            return SOUK_OK;
        }
    char q[CATALOG_IMPORT_QUOTE_BUF];
    return ERR("'%s' is not a status (draft, active or archived)",
               catalog_import_quote(s, q, sizeof q));
}

/* ------------------------------------------------------------------ slugs */

static int slug_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

int catalog_import_check_slug(const char *s, char *err, size_t errlen)
{
    char q[CATALOG_IMPORT_QUOTE_BUF];
    size_t n = strlen(s);
    int ok = n > 0 && n <= CATALOG_IMPORT_SLUG_MAX && slug_char(s[0]) && s[0] != '-' &&
             s[0] != '_' && s[n - 1] != '-' && s[n - 1] != '_';
    for (size_t i = 0; ok && i < n; i++)
        ok = slug_char(s[i]);
    if (!ok)
        return n > CATALOG_IMPORT_SLUG_MAX
                   ? ERR("'%s' is longer than %d characters", catalog_import_quote(s, q, sizeof q),
                         CATALOG_IMPORT_SLUG_MAX)
                   : ERR("'%s' is not a slug (lowercase latin letters, digits, '-' and '_')",
                         catalog_import_quote(s, q, sizeof q));
    return SOUK_OK;
}

/* Russian (and the Ukrainian/Belarusian extras) in Latin letters, after the
 * common web transliteration: "Чайники" -> "chayniki".  Index: code point - 0x400. */
static const char *const TRANSLIT[0x60] = {
    [0x01] = "e",    [0x04] = "ye", [0x06] = "i",  [0x07] = "yi", [0x0E] = "u",  [0x10] = "a",
    [0x11] = "b",    [0x12] = "v",  [0x13] = "g",  [0x14] = "d",  [0x15] = "e",  [0x16] = "zh",
    [0x17] = "z",    [0x18] = "i",  [0x19] = "y",  [0x1A] = "k",  [0x1B] = "l",  [0x1C] = "m",
    [0x1D] = "n",    [0x1E] = "o",  [0x1F] = "p",  [0x20] = "r",  [0x21] = "s",  [0x22] = "t",
    [0x23] = "u",    [0x24] = "f",  [0x25] = "kh", [0x26] = "ts", [0x27] = "ch", [0x28] = "sh",
    [0x29] = "shch", [0x2A] = "",   [0x2B] = "y",  [0x2C] = "",   [0x2D] = "e",  [0x2E] = "yu",
    [0x2F] = "ya",
};

char *catalog_import_slugify(const char *s)
{
    size_t len = strlen(s);
    /* the longest transliteration is 4 letters for a 2-byte character */
    char *out = malloc(len * 2 + 2);
    if (!out)
        return NULL;
    size_t n = 0;
    int dash = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        const char *add = NULL;
        char one[2] = {0, 0};
        if (*p < 0x80) {
            if (isalnum(*p)) {
                one[0] = (char)tolower(*p);
                add = one;
            }
            p++;
        } else if ((p[0] == 0xD0 || p[0] == 0xD1) && (p[1] & 0xC0) == 0x80) {
            unsigned cp = ((p[0] & 0x1Fu) << 6) | (p[1] & 0x3Fu);
            unsigned i = cp - 0x400;
            if (i >= 0x30 && i < 0x50)
                i -= 0x20; /* lower case letters map like capitals */
            else if (i >= 0x50 && i < 0x60)
                i -= 0x50; /* ё, є, і, ї, ў */
            add = i < 0x60 ? TRANSLIT[i] : NULL;
            p += 2;
        } else {
            p++;
            while ((*p & 0xC0) == 0x80)
                p++;
        }
        if (!add) {
            dash = n > 0;
            continue;
        }
        if (!*add)
            continue; /* ъ, ь */
        if (dash && n + 1 < CATALOG_IMPORT_SLUG_MAX)
            out[n++] = '-';
        dash = 0;
        for (; *add && n < CATALOG_IMPORT_SLUG_MAX; add++)
            out[n++] = *add;
        if (n >= CATALOG_IMPORT_SLUG_MAX)
            break;
    }
    while (n > 0 && out[n - 1] == '-')
        n--;
    out[n] = '\0';
    if (n == 0) {
        free(out);
        return NULL;
    }
    return out;
}

char *catalog_import_humanize(const char *slug)
{
    char *out = strdup(slug);
    if (!out)
        return NULL;
    for (char *p = out; *p; p++)
        if (*p == '-' || *p == '_')
            *p = ' ';
    out[0] = (char)toupper((unsigned char)out[0]);
    return out;
}

int catalog_import_check_sku(const char *s, char *err, size_t errlen)
{
    char q[CATALOG_IMPORT_QUOTE_BUF];
    size_t n = strlen(s);
    if (n == 0)
        return ERR("is empty");
    if (n > CATALOG_IMPORT_SKU_MAX)
        return ERR("'%s' is longer than %d bytes", catalog_import_quote(s, q, sizeof q),
                   CATALOG_IMPORT_SKU_MAX);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7F || (c == ' ' && (i == 0 || i == n - 1)))
            return ERR("'%s' has spaces around it or a control character",
                       catalog_import_quote(s, q, sizeof q));
    }
    return SOUK_OK;
}

/* ------------------------------------------------------------------ pairs */

static int check_key(const char *k, char **out, char *err, size_t errlen)
{
    char why[CATALOG_IMPORT_REASON_MAX], q[CATALOG_IMPORT_QUOTE_BUF];
    if (catalog_import_clean_text(k, CATALOG_IMPORT_KEY_MAX, out, why, sizeof why) != SOUK_OK)
        return ERR("name '%s' %s", catalog_import_quote(k, q, sizeof q), why);
    if (!*out)
        return ERR("a name is empty");
    return SOUK_OK;
}

int catalog_import_check_pairs(json_t *obj, int strings_only, json_t **out, char *err,
                               size_t errlen)
{
    *out = NULL;
    if (!json_is_object(obj))
        return ERR("expected an object of name: value");
    if (json_object_size(obj) > CATALOG_IMPORT_PAIRS_MAX)
        return ERR("has more than %d entries", CATALOG_IMPORT_PAIRS_MAX);
    json_t *res = json_object();
    const char *k;
    json_t *v;
    char q[CATALOG_IMPORT_QUOTE_BUF];
    json_object_foreach(obj, k, v)
    {
        char *key = NULL, *text = NULL, why[CATALOG_IMPORT_REASON_MAX];
        if (check_key(k, &key, err, errlen) != SOUK_OK)
            goto fail;
        json_t *val = NULL;
        if (json_is_string(v)) {
            if (catalog_import_clean_text(json_string_value(v), CATALOG_IMPORT_TEXT_MAX, &text, why,
                                          sizeof why) != SOUK_OK) {
                ERR("'%s' %s", catalog_import_quote(key, q, sizeof q), why);
                free(key);
                goto fail;
            }
            if (!text) {
                ERR("'%s' has no value", catalog_import_quote(key, q, sizeof q));
                free(key);
                goto fail;
            }
            val = json_string(text);
            free(text);
        } else if (json_is_integer(v) && strings_only) {
            char num[CATALOG_IMPORT_NUMBER_MAX];
            snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
            val = json_string(num);
        } else if (!strings_only && (json_is_number(v) || json_is_boolean(v))) {
            val = json_incref(v);
        } else if (!strings_only && json_is_array(v)) {
            /* a list ("tags": ["cotton", "winter"]): strings only */
            val = json_array();
            size_t i;
            json_t *e;
            json_array_foreach(v, i, e)
            {
                text = NULL;
                if (!json_is_string(e) || i >= CATALOG_IMPORT_PAIRS_MAX ||
                    catalog_import_clean_text(json_string_value(e), CATALOG_IMPORT_TEXT_MAX, &text,
                                              why, sizeof why) != SOUK_OK) {
                    ERR("'%s' must be a list of at most %d texts",
                        catalog_import_quote(key, q, sizeof q), CATALOG_IMPORT_PAIRS_MAX);
                    json_decref(val);
                    free(key);
                    goto fail;
                }
                if (text)
                    json_array_append_new(val, json_string(text));
                free(text);
            }
        } else {
            ERR("'%s' must be %s", catalog_import_quote(key, q, sizeof q),
                strings_only ? "a string" : "a string, a number, true/false or a list of texts");
            free(key);
            goto fail;
        }
        json_object_set_new(res, key, val);
        free(key);
    }
    *out = res;
    return SOUK_OK;
fail:
    json_decref(res);
    return SOUK_ERR;
}

int catalog_import_attributes_per_locale(json_t *obj)
{
    if (!json_is_object(obj) || json_object_size(obj) == 0)
        return 0;
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        if ((strcmp(k, "ru") != 0 && strcmp(k, "en") != 0) || !json_is_object(v))
            return 0;
    }
    return 1;
}

int catalog_import_check_attributes(json_t *obj, json_t **out, char *err, size_t errlen)
{
    if (!catalog_import_attributes_per_locale(obj))
        return catalog_import_check_pairs(obj, 0, out, err, errlen);
    json_t *res = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        json_t *one;
        char why[CATALOG_IMPORT_REASON_MAX];
        if (catalog_import_check_pairs(v, 0, &one, why, sizeof why) != SOUK_OK) {
            json_decref(res);
            return ERR("%s: %s", k, why);
        }
        json_object_set_new(res, k, one);
    }
    *out = res;
    return SOUK_OK;
}

static char *trim_copy(const char *s, size_t n)
{
    while (n > 0 && is_ws((unsigned char)*s))
        s++, n--;
    while (n > 0 && is_ws((unsigned char)s[n - 1]))
        n--;
    return strndup(s, n);
}

int catalog_import_parse_pairs(const char *s, int strings_only, json_t **out, char *err,
                               size_t errlen)
{
    *out = NULL;
    const char *p = s;
    while (is_ws((unsigned char)*p))
        p++;
    if (*p == '{') {
        json_error_t je;
        json_t *obj = json_loads(p, JSON_REJECT_DUPLICATES, &je);
        if (!obj)
            return ERR("is not a JSON object: %s", je.text);
        int rc = catalog_import_check_pairs(obj, strings_only, out, err, errlen);
        json_decref(obj);
        return rc;
    }
    json_t *res = json_object();
    char q[CATALOG_IMPORT_QUOTE_BUF];
    while (*p) {
        const char *semi = strchr(p, ';');
        size_t n = semi ? (size_t)(semi - p) : strlen(p);
        char *part = trim_copy(p, n);
        p += n + (semi ? 1 : 0);
        if (!part)
            goto oom;
        if (!*part) { /* "a=1;" or ";;" */
            free(part);
            continue;
        }
        char *eq = strchr(part, '=');
        if (!eq) {
            ERR("'%s' is not name=value", catalog_import_quote(part, q, sizeof q));
            free(part);
            goto fail;
        }
        *eq = '\0';
        char *name = trim_copy(part, strlen(part)), *value = trim_copy(eq + 1, strlen(eq + 1));
        free(part);
        char *key = NULL, *text = NULL, why[CATALOG_IMPORT_REASON_MAX];
        int rc = SOUK_ERR;
        if (!name || !value)
            ERR("out of memory");
        else if (check_key(name, &key, err, errlen) != SOUK_OK)
            rc = SOUK_ERR; /* err is set */
        else if (json_object_get(res, key))
            ERR("'%s' is given twice", catalog_import_quote(key, q, sizeof q));
        else if (catalog_import_clean_text(value, CATALOG_IMPORT_TEXT_MAX, &text, why,
                                           sizeof why) != SOUK_OK)
            ERR("'%s' %s", catalog_import_quote(key, q, sizeof q), why);
        else if (!text)
            ERR("'%s' has no value", catalog_import_quote(key, q, sizeof q));
        else if (json_object_size(res) >= CATALOG_IMPORT_PAIRS_MAX)
            ERR("has more than %d entries", CATALOG_IMPORT_PAIRS_MAX);
        else
            rc = json_object_set_new(res, key, json_string(text)) == 0 ? SOUK_OK : SOUK_ERR;
        free(name);
        free(value);
        free(key);
        free(text);
        if (rc != SOUK_OK)
            goto fail;
    }
    *out = res;
    return SOUK_OK;
oom:
    ERR("out of memory");
fail:
    json_decref(res);
    return SOUK_ERR;
}

/* ----------------------------------------------------------------- images */

static int url_char_ok(unsigned char c)
{
    return c > 0x20 && c < 0x7F && !strchr("\"<>\\`{}^|", c);
}

int catalog_import_check_url(const char *s, char **out, char *err, size_t errlen)
{
    char q[CATALOG_IMPORT_QUOTE_BUF];
    catalog_import_quote(s, q, sizeof q);
    *out = NULL;
    const char *prefix = "", *rest = s;
    if (strncasecmp(s, "https://", 8) == 0)
        prefix = "https://", rest = s + 8;
    else if (strncasecmp(s, "http://", 7) == 0)
        prefix = "http://", rest = s + 7;
    else if (strncmp(s, "//", 2) == 0)
        prefix = "https://", rest = s + 2;
    else if (s[0] == '/')
        prefix = "", rest = s;
    else if (isalnum((unsigned char)s[0]) && !memchr(s, ':', strcspn(s, "/")))
        prefix = CATALOG_IMPORT_MEDIA_PREFIX, rest = s; /* a file in STORE_DIR/media/ */
    else
        return ERR("'%s' is not an http(s) URL, a /path or a file name in media/", q);
    if (!*prefix || strcmp(prefix, CATALOG_IMPORT_MEDIA_PREFIX) == 0) {
        /* a path on this site never climbs out of where it points */
        for (const char *d = strstr(rest, ".."); d; d = strstr(d + 2, ".."))
            if ((d == rest || d[-1] == '/') && (d[2] == '/' || d[2] == '\0'))
                return ERR("'%s' has a '..' segment", q);
    }
    if (*prefix && (*rest == '\0' || *rest == '/'))
        return ERR("'%s' has no host", q);
    size_t len = strlen(rest);
    char *u = malloc(strlen(prefix) + len * 3 + 1);
    if (!u)
        return ERR("out of memory");
    size_t n = (size_t)sprintf(u, "%s", prefix);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)rest[i];
        if (c >= 0x80) { /* a non-ASCII file name: percent-encoded, as browsers do */
            n += (size_t)sprintf(u + n, "%%%02X", c);
        } else if (url_char_ok(c)) {
            u[n++] = (char)c;
        } else {
            free(u);
            return ERR("'%s' has a character a URL cannot hold (0x%02X)", q, c);
        }
    }
    u[n] = '\0';
    if (n > CATALOG_IMPORT_URL_MAX) {
        free(u);
        return ERR("'%s' is longer than %d bytes", q, CATALOG_IMPORT_URL_MAX);
    }
    *out = u;
    return SOUK_OK;
}

int catalog_import_parse_images(const char *s, json_t **out, char *err, size_t errlen)
{
    json_t *arr = json_array();
    const char *p = s;
    for (;;) {
        while (*p && (is_ws((unsigned char)*p) || *p == '|'))
            p++;
        if (!*p)
            break;
        const char *e = p;
        while (*e && !is_ws((unsigned char)*e) && *e != '|')
            e++;
        char *one = strndup(p, (size_t)(e - p)), *url = NULL;
        p = e;
        if (!one || catalog_import_check_url(one, &url, err, errlen) != SOUK_OK) {
            if (!one)
                ERR("out of memory");
            free(one);
            json_decref(arr);
            return SOUK_ERR;
        }
        free(one);
        int dup = 0;
        for (size_t i = 0; i < json_array_size(arr) && !dup; i++)
            dup = strcmp(json_string_value(json_array_get(arr, i)), url) == 0;
        if (!dup && json_array_size(arr) >= CATALOG_IMPORT_IMAGES_MAX) {
            free(url);
            json_decref(arr);
            return ERR("more than %d images", CATALOG_IMPORT_IMAGES_MAX);
        }
        if (!dup)
            json_array_append_new(arr, json_string(url));
        free(url);
    }
    *out = arr;
    return SOUK_OK;
}

/* ------------------------------------------------------------ string set */

#define SEEN_INITIAL 1024 /* slots; a power of two */

typedef struct {
    char *key;
    int line;
} seen_slot;

struct catalog_import_seen {
    seen_slot *slots;
    size_t cap, count;
};

static size_t seen_hash(const char *s)
{
    size_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

catalog_import_seen *catalog_import_seen_new(void)
{
    catalog_import_seen *set = calloc(1, sizeof *set);
    if (!set || !(set->slots = calloc(SEEN_INITIAL, sizeof *set->slots))) {
        free(set);
        return NULL;
    }
    set->cap = SEEN_INITIAL;
    return set;
}

void catalog_import_seen_free(catalog_import_seen *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->cap; i++)
        free(set->slots[i].key);
    free(set->slots);
    free(set);
}

static seen_slot *seen_find(seen_slot *slots, size_t cap, const char *key)
{
    for (size_t i = seen_hash(key) & (cap - 1);; i = (i + 1) & (cap - 1))
        if (!slots[i].key || strcmp(slots[i].key, key) == 0)
            return &slots[i];
}

int catalog_import_seen_add(catalog_import_seen *set, const char *key, int line)
{
    seen_slot *s = seen_find(set->slots, set->cap, key);
    if (s->key)
        return s->line > 0 ? s->line : 1;
    if ((set->count + 1) * 2 > set->cap) { /* keep the load under one half */
        size_t cap = set->cap * 2;
        seen_slot *slots = calloc(cap, sizeof *slots);
        if (!slots)
            return -1;
        for (size_t i = 0; i < set->cap; i++)
            if (set->slots[i].key)
                *seen_find(slots, cap, set->slots[i].key) = set->slots[i];
        free(set->slots);
        set->slots = slots;
        set->cap = cap;
        s = seen_find(set->slots, set->cap, key);
    }
    if (!(s->key = strdup(key)))
        return -1;
    s->line = line;
    set->count++;
    return 0;
}
