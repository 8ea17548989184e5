/* phone.c -- phone numbers to E.164, email addresses to their one stored form,
 * and the masked forms shown in pages and notices.
 *
 * A phone number is written by people in many ways: "8 999 123-45-67",
 * "+7 (999) 123-45-67", "9991234567", "7 999 1234567".  Separators are dropped;
 * what remains is either international ("+" and the country code) or national
 * in the store's region (auth_cfg.region), where the trunk prefix (8 in the +7
 * zone) or the bare country code may lead.  Anything else is refused with a
 * sentence saying what was expected, never guessed at. */
#include "signin_internal.h"

#include <souk/utf8.h>
#include <string.h>

#define PHONE_INPUT_MAX 64  /* characters of input looked at */
#define PHONE_DIGITS_MAX 15 /* E.164: at most 15 digits after the "+" */
#define PHONE_DIGITS_MIN 8  /* shorter "international" input is a typo */
#define EMAIL_MAX 254       /* RFC 5321 path limit less the brackets */
#define EMAIL_LOCAL_MAX 64
#define EMAIL_LABEL_MAX 63
#define MASK_KEEP_TAIL 2 /* digits (or characters) left visible at the end */
#define MASK_KEEP_HEAD 3 /* digits after the "+" left visible at the start */

_Static_assert(AUTH_PHONE_MAX >= PHONE_DIGITS_MAX + 2, "room for '+', 15 digits and NUL");
_Static_assert(AUTH_EMAIL_MAX >= EMAIL_MAX, "room for the longest address");

/* The numbering plans whose national numbers we accept without a "+": the
 * country code, the length of a national significant number and the trunk
 * prefix dialled before it at home.  auth.c only offers regions listed here. */
static const struct {
    int country_code;
    int national_digits;
    char trunk;
} plans[] = {
    {7, 10, '8'}, /* Russia, Kazakhstan */
};

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

int auth_phone_normalize(const char *in, char out[AUTH_PHONE_MAX], const char **error)
{
    char digits[PHONE_INPUT_MAX + 1];
    int n = 0, plus = 0;
    out[0] = '\0';
    if (!in) {
        *error = "enter a phone number";
        return SOUK_ERR;
    }
    if (strlen(in) > PHONE_INPUT_MAX) {
        *error = "the phone number is too long";
        return SOUK_ERR;
    }
    for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
        if (is_digit(*p)) {
            digits[n++] = (char)*p;
        } else if (*p == '+') {
            if (plus || n > 0) {
                *error = "a '+' may only stand at the start of the phone number";
                return SOUK_ERR;
            }
            plus = 1;
        } else if (*p == 0xC2 && p[1] == 0xA0) {
            p++; /* a no-break space, as pasted from documents */
        } else if (!strchr(" \t-.()", *p)) {
            *error = "a phone number may contain only digits, spaces, hyphens, dots, "
                     "parentheses and a leading '+'";
            return SOUK_ERR;
        }
    }
    digits[n] = '\0';
    if (n == 0) {
        *error = "enter a phone number";
        return SOUK_ERR;
    }
    int cc = auth_cfg.country_code;
    int plan = -1;
    for (size_t i = 0; i < sizeof plans / sizeof *plans; i++)
        if (plans[i].country_code == cc)
            plan = (int)i;

    const char *national = NULL; /* a number of the region, without its country code */
    if (plus) {
        if (digits[0] == '0') {
            *error = "a country code never starts with 0: write the number as +7 999 123-45-67";
            return SOUK_ERR;
        }
        /* "+8 999 ..." mixes the trunk prefix with the international form. */
        if (plan >= 0 && digits[0] == plans[plan].trunk && n == plans[plan].national_digits + 1) {
            *error = "+8 is not a country code: write the number as +7 999 123-45-67 or "
                     "8 999 123-45-67";
            return SOUK_ERR;
        }
        if (digits[0] == '7' && n != 11) {
            *error = "a number starting with +7 has 10 digits after the +7";
            return SOUK_ERR;
        }
        if (n < PHONE_DIGITS_MIN || n > PHONE_DIGITS_MAX) {
            *error = "an international number has 8 to 15 digits after the '+'";
            return SOUK_ERR;
        }
        out[0] = '+';
        memcpy(out + 1, digits, (size_t)n + 1);
        return SOUK_OK;
    }
    if (plan < 0) {
        *error = "write the phone number in international form, starting with '+' and the "
                 "country code";
        return SOUK_ERR;
    }
    int nd = plans[plan].national_digits;
    char ccs[8];
    int ccl = 0;
    for (int c = cc; c > 0 && ccl < (int)sizeof ccs; c /= 10)
        ccs[ccl++] = (char)('0' + c % 10);
    /* ccs holds the country code reversed; compare it digit by digit below. */
    if (n == nd) {
        national = digits;
    } else if (n == nd + 1 && digits[0] == plans[plan].trunk) {
        national = digits + 1;
    } else if (n == nd + ccl) {
        int same = 1;
        for (int i = 0; i < ccl; i++)
            same &= digits[i] == ccs[ccl - 1 - i];
        if (same)
            national = digits + ccl;
    }
    if (!national) {
        *error = "expected a 10-digit number such as 999 123-45-67, 11 digits starting with "
                 "8 or 7, or an international number starting with '+'";
        return SOUK_ERR;
    }
    if (national[0] == '0') {
        *error = "a phone number of this region never starts with 0 after the code";
        return SOUK_ERR;
    }
    out[0] = '+';
    for (int i = 0; i < ccl; i++)
        out[1 + i] = ccs[ccl - 1 - i];
    memcpy(out + 1 + ccl, national, (size_t)nd + 1);
    return SOUK_OK;
}

/* ------------------------------------------------------------------ email */

static int is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int auth_email_normalize(const char *in, char out[AUTH_EMAIL_MAX + 1], const char **error)
{
    out[0] = '\0';
    if (!in) {
        *error = "enter an email address";
        return SOUK_ERR;
    }
    const char *s = in, *e = in + strlen(in);
    while (s < e && is_ws((unsigned char)*s))
        s++;
    while (e > s && is_ws((unsigned char)e[-1]))
        e--;
    size_t len = (size_t)(e - s);
    if (len == 0) {
        *error = "enter an email address";
        return SOUK_ERR;
    }
    if (len > EMAIL_MAX) {
        *error = "the email address is too long";
        return SOUK_ERR;
    }
    char buf[EMAIL_MAX + 1];
    int at = -1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7F || c == ' ') {
            *error = "an email address has no spaces or control characters";
            return SOUK_ERR;
        }
        if (c >= 0x80) {
            size_t l = souk_utf8_decode((const unsigned char *)s + i,
                                        (const unsigned char *)e, NULL);
            if (!l) {
                *error = "the email address is not valid UTF-8";
                return SOUK_ERR;
            }
            memcpy(buf + i, s + i, l);
            i += l - 1;
            continue;
        }
        if (c == '@') {
            if (at >= 0) {
                *error = "an email address has exactly one '@'";
                return SOUK_ERR;
            }
            at = (int)i;
        }
        buf[i] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    }
    buf[len] = '\0';
    if (at < 0) {
        *error = "an email address has an '@', as in name@example.com";
        return SOUK_ERR;
    }
    /* The part before the '@': the unquoted characters of RFC 5322's dot-atom
     * (quoted local parts are legal but no real shopper has one). */
    const char *local = buf, *domain = buf + at + 1;
    size_t ll = (size_t)at;
    if (ll == 0 || ll > EMAIL_LOCAL_MAX) {
        *error = ll ? "the part before the '@' is too long" : "a name is missing before the '@'";
        return SOUK_ERR;
    }
    for (size_t i = 0; i < ll; i++) {
        unsigned char c = (unsigned char)local[i];
        if (c < 0x80 &&
            !(is_digit(c) || (c >= 'a' && c <= 'z') || strchr("!#$%&'*+/=?^_`{|}~.-", c))) {
            *error = "the part before the '@' has a character an address cannot have";
            return SOUK_ERR;
        }
        if (c == '.' && (i == 0 || i == ll - 1 || local[i + 1] == '.')) {
            *error = "a dot cannot start or end the name before the '@', nor follow another dot";
            return SOUK_ERR;
        }
    }
    /* The domain: dot-separated labels of letters, digits and hyphens (or
     * UTF-8, for internationalised names such as .рф), at least two of them. */
    size_t labels = 0, label_len = 0;
    int last_alpha = 0; /* the last label has a non-digit: a top-level domain */
    for (const char *p = domain;; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '.' || c == '\0') {
            if (label_len == 0 || label_len > EMAIL_LABEL_MAX || p[-1] == '-') {
                *error = "the domain after the '@' is not valid, as in example.com";
                return SOUK_ERR;
            }
            labels++;
            if (c == '\0')
                break;
            label_len = 0;
            last_alpha = 0;
            continue;
        }
        if (c < 0x80 && !(is_digit(c) || (c >= 'a' && c <= 'z') || c == '-')) {
            *error = "the domain after the '@' has a character a domain cannot have";
            return SOUK_ERR;
        }
        if (c == '-' && label_len == 0) {
            *error = "the domain after the '@' is not valid, as in example.com";
            return SOUK_ERR;
        }
        if (!is_digit(c))
            last_alpha = 1;
        label_len++;
    }
    if (labels < 2 || !last_alpha) {
        *error = "the domain after the '@' needs a dot, as in example.com";
        return SOUK_ERR;
    }
    memcpy(out, buf, len + 1);
    return SOUK_OK;
}

/* --------------------------------------------------------------- masking */

const char *auth_mask_phone(souk_ctx *ctx, const char *e164)
{
    if (!e164 || e164[0] != '+')
        return auth_api->dup(ctx, "");
    const char *d = e164 + 1;
    size_t n = strlen(d);
    /* The +7 zone is written the way its people write it. */
    if (n == 11 && d[0] == '7')
        return auth_api->format(ctx, "+7 %.3s ***-**-%s", d + 1, d + 9);
    char buf[AUTH_PHONE_MAX + 1];
    size_t o = 0;
    buf[o++] = '+';
    for (size_t i = 0; i < n && o < sizeof buf - 1; i++)
        buf[o++] = (i < MASK_KEEP_HEAD || i + MASK_KEEP_TAIL >= n) ? d[i] : '*';
    buf[o] = '\0';
    return auth_api->dup(ctx, buf);
}

const char *auth_mask_email(souk_ctx *ctx, const char *email)
{
    const char *at = email ? strchr(email, '@') : NULL;
    if (!at || at == email)
        return auth_api->dup(ctx, "");
    /* The first character (a whole UTF-8 sequence), then stars. */
    const unsigned char *u = (const unsigned char *)email;
    int first = (int)souk_utf8_decode(u, u + strlen(email), NULL);
    if (first == 0)
        first = 1;
    return auth_api->format(ctx, "%.*s***%s", first, email, at);
}
