/* theme.c -- see theme.h. */
#include "theme.h"

#include "log.h"
#include "mustache.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define THEME_MAX_TEMPLATE_BYTES (4u << 20) /* a template larger than this is a mistake */

typedef struct theme_tpl {
    char *name;
    souk_template *tpl;
} theme_tpl;

struct souk_theme {
    theme_tpl *tpls;
    int n_tpls, cap_tpls;
    json_t *locales; /* lang -> object of strings */
    json_t *empty;
    char *static_roots[3];
};

/* dir/name into out; -1 (with err) when it does not fit. */
static int join_path(char *out, size_t outlen, const char *dir, const char *name, char *err,
                     size_t errlen)
{
    int n = snprintf(out, outlen, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= outlen) {
        snprintf(err, errlen, "%s: path too long", dir);
        return -1;
    }
    return 0;
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    souk_buf b = SOUK_BUF_INIT;
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        souk_buf_add(&b, chunk, n);
        if (b.len > THEME_MAX_TEMPLATE_BYTES) {
            snprintf(err, errlen, "%s: larger than %u bytes", path, THEME_MAX_TEMPLATE_BYTES);
            fclose(f);
            souk_buf_free(&b);
            return NULL;
        }
    }
    fclose(f);
    return souk_buf_take(&b, len);
}

static theme_tpl *find_tpl(const souk_theme *t, const char *name)
{
    for (int i = 0; i < t->n_tpls; i++)
        if (strcmp(t->tpls[i].name, name) == 0)
            return &t->tpls[i];
    return NULL;
}

/* Compile every *.mustache of dir; a file replaces an earlier one of the same name
 * (the store's override comes after the theme's own). */
static int load_templates(souk_theme *t, const char *dir, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0; /* an absent directory has no templates */
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        size_t nl = strlen(e->d_name);
        const char *ext = ".mustache";
        size_t el = strlen(ext);
        if (nl <= el || strcmp(e->d_name + nl - el, ext) != 0 || e->d_name[0] == '.')
            continue;
        char path[4096];
        if (join_path(path, sizeof path, dir, e->d_name, err, errlen) != 0) {
            rc = -1;
            break;
        }
        size_t len;
        char *src = read_file(path, &len, err, errlen);
        if (!src) {
            rc = -1;
            break;
        }
        souk_template *tpl = souk_mustache_compile(path, src, len, err, errlen);
        free(src);
        if (!tpl) {
            rc = -1;
            break;
        }
        char *name = strndup(e->d_name, nl - el);
        theme_tpl *old = find_tpl(t, name);
        if (old) {
            souk_mustache_free(old->tpl);
            old->tpl = tpl;
            free(name);
            continue;
        }
        if (t->n_tpls == t->cap_tpls) {
            t->cap_tpls = t->cap_tpls ? t->cap_tpls * 2 : 32;
            t->tpls = realloc(t->tpls, sizeof *t->tpls * (size_t)t->cap_tpls);
        }
        t->tpls[t->n_tpls].name = name;
        t->tpls[t->n_tpls].tpl = tpl;
        t->n_tpls++;
    }
    closedir(d);
    return rc;
}

/* Merge src into dst recursively: objects merge key by key, anything else replaces. */
static void merge_strings(json_t *dst, json_t *src)
{
    const char *k;
    json_t *v;
    json_object_foreach(src, k, v) {
        json_t *cur = json_object_get(dst, k);
        if (json_is_object(cur) && json_is_object(v))
            merge_strings(cur, v);
        else
            json_object_set(dst, k, v);
    }
}

static int load_locales(souk_theme *t, const char *dir, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        size_t nl = strlen(e->d_name);
        if (nl <= 5 || strcmp(e->d_name + nl - 5, ".json") != 0 || e->d_name[0] == '.')
            continue;
        char path[4096];
        if (join_path(path, sizeof path, dir, e->d_name, err, errlen) != 0) {
            rc = -1;
            break;
        }
        json_error_t je;
        json_t *obj = json_load_file(path, 0, &je);
        if (!obj || !json_is_object(obj)) {
            snprintf(err, errlen, "%s:%d: %s", path, obj ? 1 : je.line,
                     obj ? "a locale file must hold a JSON object" : je.text);
            json_decref(obj);
            rc = -1;
            break;
        }
        /* "ru.json" and "ru.auth.json" both hold strings of "ru": a plugin's
         * strings can live in a file of their own. */
        char lang[64];
        snprintf(lang, sizeof lang, "%.*s", (int)strcspn(e->d_name, "."), e->d_name);
        json_t *cur = json_object_get(t->locales, lang);
        if (cur)
            merge_strings(cur, obj);
        else
            json_object_set(t->locales, lang, obj);
        json_decref(obj);
    }
    closedir(d);
    return rc;
}

int souk_theme_open(souk_theme **out, const souk_config *cfg, char *err, size_t errlen)
{
    souk_theme *t = calloc(1, sizeof *t);
    t->locales = json_object();
    t->empty = json_object();
    char base[4096], over[4096], path[4200];
    snprintf(base, sizeof base, "%s/%s", cfg->themes_path ? cfg->themes_path : ".", cfg->theme);
    snprintf(over, sizeof over, "%s/themes/%s", cfg->store_dir, cfg->theme);
    int have_over = is_dir(over);
    if (!is_dir(base) && !have_over) {
        snprintf(err, errlen, "theme '%s': not found in %s or %s", cfg->theme, base, over);
        souk_theme_close(t);
        return -1;
    }
    const char *layers[2] = {base, have_over ? over : NULL};
    int ns = 0;
    for (int i = 1; i >= 0; i--) { /* static roots: the store's first */
        if (!layers[i])
            continue;
        snprintf(path, sizeof path, "%s/static", layers[i]);
        /* Resolved once here: the static file server requires a real root. */
        char *real = is_dir(path) ? realpath(path, NULL) : NULL;
        if (real)
            t->static_roots[ns++] = real;
    }
    for (int i = 0; i < 2; i++) {
        if (!layers[i])
            continue;
        snprintf(path, sizeof path, "%s/templates", layers[i]);
        if (load_templates(t, path, err, errlen) != 0)
            goto fail;
        snprintf(path, sizeof path, "%s/locales", layers[i]);
        if (load_locales(t, path, err, errlen) != 0)
            goto fail;
    }
    *out = t;
    return 0;
fail:
    souk_theme_close(t);
    return -1;
}

void souk_theme_close(souk_theme *t)
{
    if (!t)
        return;
    for (int i = 0; i < t->n_tpls; i++) {
        free(t->tpls[i].name);
        souk_mustache_free(t->tpls[i].tpl);
    }
    free(t->tpls);
    for (int i = 0; t->static_roots[i]; i++)
        free(t->static_roots[i]);
    json_decref(t->locales);
    json_decref(t->empty);
    free(t);
}

int souk_theme_has(const souk_theme *t, const char *name)
{
    return find_tpl(t, name) != NULL;
}

json_t *souk_theme_strings(const souk_theme *t, const char *locale)
{
    json_t *s = locale ? json_object_get(t->locales, locale) : NULL;
    return s ? s : t->empty;
}

static const souk_template *partial_lookup(void *ud, const char *name)
{
    theme_tpl *tp = find_tpl(ud, name);
    return tp ? tp->tpl : NULL;
}

int souk_theme_render(const souk_theme *t, const char *name, json_t *site, json_t *view,
                      souk_buf *out, char *err, size_t errlen)
{
    theme_tpl *tp = find_tpl(t, name);
    if (!tp) {
        snprintf(err, errlen, "template '%s' not found in the theme", name);
        return -1;
    }
    json_t *stack[2] = {site, view};
    return souk_mustache_render(tp->tpl, stack, view ? 2 : 1, partial_lookup, (void *)t, out,
                                err, errlen);
}

char *const *souk_theme_static_roots(const souk_theme *t) { return t->static_roots; }

int souk_theme_count(const souk_theme *t) { return t->n_tpls; }
