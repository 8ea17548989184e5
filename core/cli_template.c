/* cli_template.c -- `souk template render FILE --data FILE.json [--partials DIR]`:
 * render one template outside a store, to preview a theme or debug a view model.
 * Every *.mustache of the partials directory is compiled first (as a theme is at
 * load), so a syntax error anywhere in it is reported. */
#include "cli.h"
#include "mustache.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Largest template file read (a theme template is a few KiB). */
#define SOUK_TEMPLATE_FILE_MAX (16u * 1024 * 1024)
#define SOUK_TEMPLATE_ERR_MAX 1024
#define SOUK_TEMPLATE_EXT ".mustache"

static const char TEMPLATE_USAGE[] =
    "usage: souk template render FILE --data FILE.json [--partials DIR]\n"
    "\n"
    "Render the Mustache template FILE with the JSON document FILE.json as its\n"
    "context and print the result.  Partials and parents ({{>name}}, {{<name}})\n"
    "are the *.mustache files of DIR (default: FILE's directory), named without\n"
    "the extension.\n"
    "  --data FILE.json   the context (any JSON value)\n"
    "  --partials DIR     where partials are looked up\n"
    "Exit codes: 0 ok, 1 error (the message names the file and line), 2 usage.\n";

typedef struct partial {
    char *name;
    souk_template *tpl;
} partial;

typedef struct partials {
    partial *v;
    size_t n, cap;
} partials;

static int usage_error(const char *msg)
{
    if (msg)
        fprintf(stderr, "souk template: %s\n", msg);
    fputs(TEMPLATE_USAGE, stderr);
    return SOUK_EXIT_USAGE;
}

/* Read a whole file into a NUL-terminated heap string.  -1 with err set. */
static int read_file(const char *path, char **out, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    souk_buf b = SOUK_BUF_INIT;
    char chunk[BUFSIZ];
    size_t n;
    int rc = 0;
    while (rc == 0 && (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b.len + n > SOUK_TEMPLATE_FILE_MAX) {
            snprintf(err, errlen, "%s: larger than %u bytes", path, SOUK_TEMPLATE_FILE_MAX);
            rc = -1;
        } else {
            souk_buf_add(&b, chunk, n);
        }
    }
    if (rc == 0 && ferror(f)) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        rc = -1;
    }
    fclose(f);
    if (rc)
        souk_buf_free(&b);
    else
        *out = souk_buf_take(&b, len);
    return rc;
}

static souk_template *compile_file(const char *path, char *err, size_t errlen)
{
    char *src;
    size_t len;
    if (read_file(path, &src, &len, err, errlen))
        return NULL;
    souk_template *t = souk_mustache_compile(path, src, len, err, errlen);
    free(src);
    return t;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const partial *)a)->name, ((const partial *)b)->name);
}

static const souk_template *find_partial(void *ud, const char *name)
{
    const partials *ps = ud;
    partial key = {(char *)name, NULL};
    const partial *p = bsearch(&key, ps->v, ps->n, sizeof *ps->v, by_name);
    return p ? p->tpl : NULL;
}

static void free_partials(partials *ps)
{
    for (size_t i = 0; i < ps->n; i++) {
        free(ps->v[i].name);
        souk_mustache_free(ps->v[i].tpl);
    }
    free(ps->v);
}

/* Compile every DIR/x.mustache as partial "x". */
static int load_partials(partials *ps, const char *dir, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    const size_t extlen = strlen(SOUK_TEMPLATE_EXT);
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len <= extlen || strcmp(e->d_name + len - extlen, SOUK_TEMPLATE_EXT) != 0)
            continue;
        size_t plen = strlen(dir) + 1 + len + 1;
        char *path = malloc(plen);
        struct stat st;
        if (!path) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
            break;
        }
        snprintf(path, plen, "%s/%s", dir, e->d_name);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            if (ps->n == ps->cap) {
                size_t cap = ps->cap ? ps->cap * 2 : 16;
                partial *v = realloc(ps->v, cap * sizeof *v);
                if (!v) {
                    snprintf(err, errlen, "out of memory");
                    rc = -1;
                }
                ps->v = v ? v : ps->v;
                ps->cap = v ? cap : ps->cap;
            }
            souk_template *t = rc ? NULL : compile_file(path, err, errlen);
            char *name = t ? strndup(e->d_name, len - extlen) : NULL;
            if (t && name) {
                ps->v[ps->n].name = name;
                ps->v[ps->n++].tpl = t;
            } else {
                if (t)
                    snprintf(err, errlen, "out of memory");
                souk_mustache_free(t);
                rc = -1;
            }
        }
        free(path);
    }
    closedir(d);
    qsort(ps->v, ps->n, sizeof *ps->v, by_name);
    return rc;
}

/* The directory part of path ("." when there is none); heap string. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

static int render_file(const char *file, const char *data_path, const char *dir)
{
    char err[SOUK_TEMPLATE_ERR_MAX] = "";
    partials ps = {0};
    souk_buf out = SOUK_BUF_INIT;
    json_t *data = NULL;
    json_error_t jerr;
    int rc = SOUK_EXIT_FAIL;
    souk_template *t = compile_file(file, err, sizeof err);
    if (!t)
        goto done;
    data = json_load_file(data_path, JSON_DECODE_ANY, &jerr);
    if (!data) {
        snprintf(err, sizeof err, "%s:%d: %s", data_path, jerr.line, jerr.text);
        goto done;
    }
    if (load_partials(&ps, dir, err, sizeof err))
        goto done;
    if (souk_mustache_render(t, &data, 1, find_partial, &ps, &out, err, sizeof err))
        goto done;
    if (fwrite(out.data ? out.data : "", 1, out.len, stdout) != out.len || fflush(stdout)) {
        snprintf(err, sizeof err, "writing the output: %s", strerror(errno));
        goto done;
    }
    rc = SOUK_EXIT_OK;
done:
    if (rc != SOUK_EXIT_OK)
        fprintf(stderr, "souk template: %s\n", err);
    souk_buf_free(&out);
    free_partials(&ps);
    json_decref(data);
    souk_mustache_free(t);
    return rc;
}

/* "--name VALUE" or "--name=VALUE": 1 and *val set when argv[*i] is it. */
static int option(int argc, char **argv, int *i, const char *name, const char **val)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0)
        return 0;
    if (argv[*i][n] == '=') {
        *val = argv[*i] + n + 1;
        return 1;
    }
    if (argv[*i][n] != '\0')
        return 0;
    *val = *i + 1 < argc ? argv[++*i] : NULL;
    return 1;
}

int souk_cmd_template(int argc, char **argv)
{
    const char *file = NULL, *data = NULL, *dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(TEMPLATE_USAGE, stdout);
            return SOUK_EXIT_OK;
        }
    }
    if (argc < 2 || strcmp(argv[1], "render") != 0)
        return usage_error(argc < 2 ? NULL : "unknown subcommand (expected 'render')");
    for (int i = 2; i < argc; i++) {
        const char *val;
        if (option(argc, argv, &i, "--data", &val)) {
            if (!val || !*val)
                return usage_error("--data needs a file");
            data = val;
        } else if (option(argc, argv, &i, "--partials", &val)) {
            if (!val || !*val)
                return usage_error("--partials needs a directory");
            dir = val;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "souk template: unknown option '%s'\n", argv[i]);
            return usage_error(NULL);
        } else if (!file) {
            file = argv[i];
        } else {
            return usage_error("only one template file");
        }
    }
    if (!file)
        return usage_error("no template file");
    if (!data)
        return usage_error("--data is required");
    char *own_dir = dir ? NULL : dir_of(file);
    if (!dir && !own_dir) {
        fputs("souk template: out of memory\n", stderr);
        return SOUK_EXIT_FAIL;
    }
    int rc = render_file(file, data, dir ? dir : own_dir);
    free(own_dir);
    return rc;
}
