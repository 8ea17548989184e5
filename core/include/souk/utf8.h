/*
 * utf8.h -- strict UTF-8 (RFC 3629) for the core and for plugins: no overlong
 * forms, no UTF-16 surrogates, nothing above U+10FFFF, no sequence cut short.
 * jansson checks strings the same way, so text that passes here can be handed to
 * its *_nocheck functions.
 *
 * Header-only (static inline): a plugin includes it next to souk.h and needs no
 * host function for it.  One decoder for everything that reads text from outside
 * -- request inputs, scripts' strings, the access log, imports, emails.
 */
#ifndef SOUK_UTF8_H
#define SOUK_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* The length (1..4) of the valid sequence at p, where p < end, with its code
 * point in *cp (cp may be NULL); 0 when the bytes there are not one. */
static inline size_t souk_utf8_decode(const unsigned char *p, const unsigned char *end,
                                      uint32_t *cp)
{
    unsigned char c = p[0];
    size_t n;
    uint32_t v, min;
    if (c < 0x80) {
        if (cp)
            *cp = c;
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        n = 2, v = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3, v = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (p[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    if (cp)
        *cp = v;
    return n;
}

/* Whether s[0..len) is valid UTF-8 throughout; when it is not and bad_at is not
 * NULL, *bad_at is the offset of the first invalid byte. */
static inline int souk_utf8_valid(const char *s, size_t len, size_t *bad_at)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        size_t n = souk_utf8_decode(p, end, NULL);
        if (n == 0) {
            if (bad_at)
                *bad_at = (size_t)(p - (const unsigned char *)s);
            return 0;
        }
        p += n;
    }
    return 1;
}

#endif /* SOUK_UTF8_H */
