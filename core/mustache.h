/* mustache.h -- Mustache templates (spec v1.3: interpolation, sections, inverted,
 * comments, partials, set delimiters, plus ~inheritance and ~dynamic-names).
 * A template is compiled once into a tree and rendered many times. */
#ifndef SOUK_MUSTACHE_H
#define SOUK_MUSTACHE_H

#include "buf.h"

#include <jansson.h>
#include <stddef.h>

typedef struct souk_template souk_template;

/* Look up a partial or parent template by name during rendering; NULL when there
 * is none (renders as empty, per the spec).  The result is borrowed. */
typedef const souk_template *(*souk_partial_fn)(void *ud, const char *name);

/* Compile src[0..len).  name is used in messages.  On a syntax error returns NULL
 * and writes "name:line: message" into err.  The result is yours
 * (souk_mustache_free). */
souk_template *souk_mustache_compile(const char *name, const char *src, size_t len,
                                     char *err, size_t errlen);
void souk_mustache_free(souk_template *t);
const char *souk_mustache_name(const souk_template *t);

/* Render t with a context stack: stack[0] is the bottom (looked up last),
 * stack[depth-1] the top.  Values are borrowed.  Output is appended to out.
 * Returns 0, or -1 when rendering had to stop (partial recursion deeper than
 * SOUK_MUSTACHE_MAX_DEPTH), with err set. */
#define SOUK_MUSTACHE_MAX_DEPTH 64
int souk_mustache_render(const souk_template *t, json_t *const *stack, int depth,
                         souk_partial_fn partials, void *ud, souk_buf *out,
                         char *err, size_t errlen);

#endif
