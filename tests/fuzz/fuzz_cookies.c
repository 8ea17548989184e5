/* fuzz_cookies.c -- the Cookie header parser on arbitrary bytes (up to the first
 * NUL, as a header value is a C string).
 *
 * On success every name must be a non-empty token and every value a string free
 * of control characters and ';' (that is what the parser promises handlers); on
 * failure there must be a message. */
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

static int is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *header = malloc(size + 1);
    memcpy(header, data, size);
    header[size] = '\0';

    json_t *obj = json_object();
    char err[256] = "";
    if (souk_parse_cookies(header, obj, err, sizeof err) == 0) {
        const char *name;
        json_t *v;
        json_object_foreach(obj, name, v) {
            FUZZ_CHECK(name[0] != '\0');
            for (const char *p = name; *p; p++)
                FUZZ_CHECK(is_tchar((unsigned char)*p));
            FUZZ_CHECK(json_is_string(v));
            const char *s = json_string_value(v);
            size_t n = json_string_length(v);
            FUZZ_CHECK(strlen(s) == n);
            for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                FUZZ_CHECK(c >= 0x20 && c != 0x7F && c != ';');
            }
            /* The value came from the header. */
            FUZZ_CHECK(strstr(header, s) != NULL);
        }
    } else {
        FUZZ_CHECK(err[0] != '\0');
    }
    json_decref(obj);
    free(header);
    return 0;
}
