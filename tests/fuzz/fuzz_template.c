/* fuzz_template.c -- compile arbitrary bytes as a Mustache template and render the
 * result with a small fixed context, the template itself standing in for every
 * partial and parent name (so recursion, blocks and indentation are exercised).
 *
 * The context is shaped so that nested sections cannot multiply the work: the
 * only list with more than one element holds objects whose own "list" is empty,
 * so {{#list}}{{#list}}... stops at the second level.  (Mustache lets a template
 * do exponential work over suitable data; that is the template author's to
 * avoid, not a parser bug for the fuzzer to report as a timeout.) */
#include "mustache.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define FUZZ_ERR_SIZE 256

static const char FUZZ_CONTEXT[] =
    "{\"name\": \"<b>Tea & \\\"Co\\\"</b>\", \"n\": 42, \"r\": 1.5, \"t\": true, \"f\": false,"
    " \"z\": null, \"e\": \"\", \"none\": [], \"dyn\": \"x\","
    " \"obj\": {\"a\": {\"b\": \"deep\"}, \"list\": []},"
    " \"list\": [{\"v\": 1, \"list\": []}, {\"v\": \"two\\nlines\", \"list\": []}]}";

static const souk_template *self_partial(void *ud, const char *name)
{
    (void)name;
    return ud;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static json_t *ctx;
    if (!ctx)
        ctx = json_loads(FUZZ_CONTEXT, 0, NULL);
    char err[FUZZ_ERR_SIZE];
    souk_template *t = souk_mustache_compile("fuzz", (const char *)data, size, err, sizeof err);
    if (!t)
        return 0;
    souk_buf out = SOUK_BUF_INIT;
    souk_mustache_render(t, &ctx, 1, self_partial, t, &out, err, sizeof err);
    souk_buf_free(&out);
    souk_mustache_free(t);
    return 0;
}
