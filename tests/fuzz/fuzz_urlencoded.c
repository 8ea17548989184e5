/* fuzz_urlencoded.c -- percent-decoding (plain and form mode) and the url-encoded
 * field parser on arbitrary bytes.
 *
 * Beyond "no crash, no leak" it checks what must stay true:
 *   - decoding never lengthens and never lets a NUL through;
 *   - it fails only when there is a '%' (or a raw NUL) to fail on;
 *   - decode(encode(x)) == x for any NUL-free x, in both modes;
 *   - a parse that succeeds yields only strings or arrays of strings, at most
 *     SOUK_URLENCODED_MAX_PAIRS values, and serialises as JSON;
 *   - a parse that fails says why. */
#include "http.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond)                                                       \
    do {                                                                       \
        if (!(cond))                                                           \
            __builtin_trap();                                                  \
    } while (0)

static void check_decode(souk_arena *a, const char *s, size_t n, int form)
{
    char *d = souk_url_decode(a, s, n, form);
    if (!d) {
        FUZZ_CHECK(memchr(s, '%', n) || memchr(s, '\0', n));
        return;
    }
    size_t dn = strlen(d);
    FUZZ_CHECK(dn <= n);
    if (!memchr(s, '%', n) && !(form && memchr(s, '+', n))) {
        FUZZ_CHECK(dn == n);
        FUZZ_CHECK(memcmp(d, s, n) == 0);
    }
}

/* Percent-encode every byte that is not unreserved (so '+' becomes %2B). */
static void check_roundtrip(souk_arena *a, const char *s, size_t n, int form)
{
    static const char hex[] = "0123456789ABCDEF";
    if (memchr(s, '\0', n))
        return;
    char *enc = souk_arena_alloc(a, n * 3 + 1);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            enc[j++] = (char)c;
        } else {
            enc[j++] = '%';
            enc[j++] = hex[c >> 4];
            enc[j++] = hex[c & 15];
        }
    }
    char *d = souk_url_decode(a, enc, j, form);
    FUZZ_CHECK(d != NULL);
    FUZZ_CHECK(strlen(d) == n && memcmp(d, s, n) == 0);
}

static void check_parse(souk_arena *a, const char *s, size_t n)
{
    json_t *obj = json_object();
    char err[256] = "";
    if (souk_parse_urlencoded(a, s, n, obj, err, sizeof err) == 0) {
        size_t values = 0;
        const char *key;
        json_t *v;
        json_object_foreach(obj, key, v) {
            FUZZ_CHECK(key[0] != '\0');
            if (json_is_array(v)) {
                FUZZ_CHECK(json_array_size(v) >= 2);
                for (size_t i = 0; i < json_array_size(v); i++)
                    FUZZ_CHECK(json_is_string(json_array_get(v, i)));
                values += json_array_size(v);
            } else {
                FUZZ_CHECK(json_is_string(v));
                values++;
            }
        }
        FUZZ_CHECK(values <= SOUK_URLENCODED_MAX_PAIRS);
        char *dump = json_dumps(obj, 0);
        FUZZ_CHECK(dump != NULL);
        free(dump);
    } else {
        FUZZ_CHECK(err[0] != '\0');
    }
    json_decref(obj);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    souk_arena a;
    souk_arena_init(&a, 4096);
    check_decode(&a, s, size, 0);
    check_decode(&a, s, size, 1);
    check_roundtrip(&a, s, size, 0);
    check_roundtrip(&a, s, size, 1);
    check_parse(&a, s, size);
    souk_arena_free(&a);
    return 0;
}
