/* fuzz_catalog_sanitize.c -- catalog_sanitize_html (plugins/catalog/sanitize.c), the
 * filter between imported descriptions and the product page, on arbitrary bytes.
 *
 * Whatever the input, the output must be what sanitize.c promises: only the
 * allowed tags, each written bare (no attribute, nothing but the name between
 * < and >), properly nested and all closed; no other '<' or '>' (text is escaped);
 * every '&' starting one of the references the escaper writes; valid UTF-8; and
 * sanitising the output again must give it back unchanged. */
#include "../../plugins/catalog/sanitize.c"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            __builtin_trap();                                                                      \
    } while (0)

#define FUZZ_INPUT_MAX 65536

static const char *const TAGS[] = {"p", "ul", "ol", "li", "b", "strong", "i", "em", NULL};
static const char *const REFS[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;", NULL};

static int valid_utf8(const unsigned char *p)
{
    while (*p) {
        size_t n = souk_utf8_decode(p, p + strlen((const char *)p), NULL);
        if (n == 0)
            return 0;
        p += n;
    }
    return 1;
}

static void check_output(const char *out)
{
    const char *stack[SANITIZE_DEPTH_MAX];
    int depth = 0;
    FUZZ_CHECK(valid_utf8((const unsigned char *)out));
    for (const char *p = out; *p; p++) {
        if (*p == '>' || *p == '"' || *p == '\'')
            __builtin_trap(); /* only inside our own tags, which are skipped below */
        if (*p == '&') {
            int known = 0;
            for (int i = 0; REFS[i]; i++)
                known |= strncmp(p, REFS[i], strlen(REFS[i])) == 0;
            FUZZ_CHECK(known);
            continue;
        }
        if (*p != '<')
            continue;
        const char *gt = strchr(p, '>');
        FUZZ_CHECK(gt != NULL);
        int closing = p[1] == '/';
        size_t n = (size_t)(gt - p - 1 - closing);
        char name[16];
        FUZZ_CHECK(n > 0 && n < sizeof name);
        memcpy(name, p + 1 + closing, n);
        name[n] = '\0';
        p = gt;
        if (!closing && strcmp(name, "br") == 0)
            continue;
        int i = 0;
        while (TAGS[i] && strcmp(TAGS[i], name) != 0)
            i++;
        FUZZ_CHECK(TAGS[i] != NULL);
        if (closing) {
            FUZZ_CHECK(depth > 0 && stack[depth - 1] == TAGS[i]);
            depth--;
        } else {
            FUZZ_CHECK(depth < SANITIZE_DEPTH_MAX);
            stack[depth++] = TAGS[i];
        }
    }
    FUZZ_CHECK(depth == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_INPUT_MAX)
        return 0;
    char *in = malloc(size + 1);
    memcpy(in, data, size);
    in[size] = '\0';
    char *out = catalog_sanitize_html(in);
    FUZZ_CHECK(out != NULL);
    check_output(out);
    char *again = catalog_sanitize_html(out);
    FUZZ_CHECK(again != NULL && strcmp(again, out) == 0);
    free(again);
    free(out);
    free(in);
    return 0;
}
