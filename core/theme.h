/* theme.h -- a theme: compiled templates, locale strings and static roots.
 *
 * Templates come from THEMES_PATH/<name>/templates/NAME.mustache, overridden file by
 * file by STORE_DIR/themes/<name>/templates/; locales from locales/<lang>.json,
 * merged key by key (the store's keys win); static files are looked up in the
 * store's static/ first, then the theme's.  Everything is read and compiled once,
 * at open; rendering never touches the disk. */
#ifndef SOUK_THEME_H
#define SOUK_THEME_H

#include "buf.h"
#include "config.h"

#include <jansson.h>

typedef struct souk_theme souk_theme;

/* Load and compile.  -1 with "path/x.mustache:12: message" in err. */
int souk_theme_open(souk_theme **out, const souk_config *cfg, char *err, size_t errlen);
void souk_theme_close(souk_theme *t);
/* Whether a template exists. */
int souk_theme_has(const souk_theme *t, const char *name);
/* The strings of a locale (borrowed object; empty object when unknown). */
json_t *souk_theme_strings(const souk_theme *t, const char *locale);
/* Render template name with a two-frame context: site (bottom) and view (top).
 * -1 with err when the template is missing or rendering fails. */
int souk_theme_render(const souk_theme *t, const char *name, json_t *site, json_t *view,
                      souk_buf *out, char *err, size_t errlen);
/* Static roots, most specific first; NULL-terminated (borrowed). */
char *const *souk_theme_static_roots(const souk_theme *t);
/* Number of templates compiled. */
int souk_theme_count(const souk_theme *t);

#endif
