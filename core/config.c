/* config.c -- the store configuration: defaults, STORE_DIR/souk.lua, environment.
 *
 * souk.lua is evaluated in the script sandbox (souk_lua_eval_file) and must
 * `return { ... }` a table.  Every key is optional; a key not listed here is an
 * error ("souk.lua: unknown key 'limts' (did you mean 'limits'?)"), and so is a
 * value of the wrong type ("souk.lua: key 'limits.body_size': expected a positive
 * integer, got string").  Integers may be written as integral floats (1e6).
 *
 *   listen          "host:port"        "127.0.0.1:8080"; "[::1]:8080"; port 0 = any
 *   workers         integer 0..256     0 = one worker per core (SOUK_MAX_WORKERS)
 *   dev             boolean            dev mode (outbox channel, clock file, verbose
 *                                      errors); the master refuses it on a
 *                                      non-loopback address unless force_public
 *   force_public    boolean            allow dev mode on a non-loopback address
 *   https           boolean            served behind TLS (Secure cookies)
 *   public_url      "https://host[:port][/path]"  the store's address as shoppers
 *                                      reach it, for links in messages; default
 *                                      http(s)://HOST:PORT of listen
 *   theme           name               "default"
 *   locale          name               "ru"; must be one of locales
 *   locales         list of names      {"ru", "en"}
 *   plugins         list of names      plugins to load, in any order, at most
 *                                      SOUK_MAX_PLUGINS
 *   plugin_path     list of dirs       searched before the default directories;
 *                                      relative ones are relative to the store
 *   log_level       "debug" | "info" | "warn" | "error"
 *   static_max_age  integer >= 0       Cache-Control max-age of theme files, s
 *   limits = {                         positive integers (see config.h)
 *     header_size, url_size, max_headers, body_size, header_timeout_ms,
 *     body_timeout_ms, keepalive_timeout_ms, write_timeout_ms,
 *     requests_per_connection, max_connections, shutdown_timeout_ms,
 *              startup_timeout_ms }
 *   scripts = { instructions, memory } positive integers: per call, per state (bytes)
 *   settings = { <plugin> = { ... } }  free-form tables, validated by each plugin
 *
 * Environment overrides, applied after the file with the same checks (an error
 * names the variable): SOUK_LISTEN, SOUK_WORKERS, SOUK_DEV, SOUK_FORCE_PUBLIC,
 * SOUK_HTTPS, SOUK_THEME, SOUK_LOCALE, SOUK_LOG_LEVEL, SOUK_STATIC_MAX_AGE,
 * SOUK_LIMITS_<KEY> and SOUK_SCRIPTS_<KEY> (the key in upper case:
 * SOUK_LIMITS_BODY_SIZE, SOUK_SCRIPTS_MEMORY).  Booleans are 1/0, true/false,
 * yes/no, on/off.  An unknown SOUK_LIMITS_* or SOUK_SCRIPTS_* variable is an error.
 *
 * The plugin search path is, in order: souk.lua's plugin_path, the directories of
 * SOUK_PLUGIN_PATH (colon-separated), STORE_DIR/plugins, the build tree's plugin
 * directory, the installed plugin directory (duplicates dropped). */
#include "config.h"

#include "script.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

/* ---------------------------------------------------------------- defaults */

#define CONFIG_FILE_NAME "souk.lua"
#define CONFIG_DEFAULT_HOST "127.0.0.1"
#define CONFIG_DEFAULT_PORT 8080
#define CONFIG_DEFAULT_THEME "default"
#define CONFIG_DEFAULT_LOCALE "ru"
#define CONFIG_DEFAULT_LOG_LEVEL "info"
#define CONFIG_DEFAULT_STATIC_MAX_AGE 3600
#define CONFIG_DEFAULT_HEADER_SIZE (16 * 1024)
#define CONFIG_DEFAULT_URL_SIZE (8 * 1024)
#define CONFIG_DEFAULT_MAX_HEADERS 100
#define CONFIG_DEFAULT_BODY_SIZE (1024 * 1024)
#define CONFIG_DEFAULT_HEADER_TIMEOUT_MS 10000
#define CONFIG_DEFAULT_BODY_TIMEOUT_MS 10000
#define CONFIG_DEFAULT_KEEPALIVE_TIMEOUT_MS 5000
#define CONFIG_DEFAULT_WRITE_TIMEOUT_MS 30000
#define CONFIG_DEFAULT_REQUESTS_PER_CONNECTION 1000
#define CONFIG_DEFAULT_MAX_CONNECTIONS 10000
#define CONFIG_DEFAULT_SHUTDOWN_TIMEOUT_MS 10000
#define CONFIG_DEFAULT_STARTUP_TIMEOUT_MS 60000
#define CONFIG_DEFAULT_SCRIPT_INSTRUCTIONS 10000000
#define CONFIG_DEFAULT_SCRIPT_MEMORY (32u * 1024 * 1024)
static const char *const default_locales[] = {"ru", "en", NULL};

#define CONFIG_MAX_PORT 65535
/* Longest name (theme, locale, plugin) and longest host name. */
#define CONFIG_NAME_MAX 64
#define CONFIG_HOST_MAX 255
/* Keys this close (edit distance) to a known key get a "did you mean". */
#define CONFIG_SUGGEST_DISTANCE 2
#define CONFIG_ERR_VALUE_MAX 48

#ifndef SOUK_THEMES_INSTALL_DIR
#define SOUK_THEMES_INSTALL_DIR "/usr/local/share/souk/themes"
#endif

/* Defaults cannot report failure (souk_config_defaults returns void): running out
 * of memory while filling them is fatal, as in souk_buf. */
static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d) {
        fputs("souk: out of memory\n", stderr);
        abort();
    }
    return d;
}

/* -------------------------------------------------- NULL-terminated lists */

typedef struct strv {
    char **v;
    size_t n, cap;
} strv;

static void strv_push(strv *l, const char *s)
{
    if (l->n + 1 >= l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 8;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            fputs("souk: out of memory\n", stderr);
            abort();
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = xstrdup(s);
    l->v[l->n] = NULL;
}

static int strv_has(char **v, const char *s)
{
    for (size_t i = 0; v && v[i]; i++)
        if (strcmp(v[i], s) == 0)
            return 1;
    return 0;
}

/* Push s unless already there (search paths keep the first occurrence). */
static void strv_push_unique(strv *l, const char *s)
{
    if (!strv_has(l->v, s))
        strv_push(l, s);
}

/* The list as a NULL-terminated array (never NULL itself). */
static char **strv_take(strv *l)
{
    if (!l->v) {
        l->v = calloc(1, sizeof *l->v);
        if (!l->v) {
            fputs("souk: out of memory\n", stderr);
            abort();
        }
    }
    char **v = l->v;
    l->v = NULL;
    l->n = l->cap = 0;
    return v;
}

static void strv_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

static char **strv_from(const char *const *src)
{
    strv l = {0};
    for (size_t i = 0; src[i]; i++)
        strv_push(&l, src[i]);
    return strv_take(&l);
}

/* ------------------------------------------------------- default directories */

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* extra (may be NULL), SOUK_PLUGIN_PATH, store_dir/plugins (when a store is
 * known), then the build and install directories. */
static char **plugin_path_build(char **extra, const char *store_dir)
{
    strv l = {0};
    for (size_t i = 0; extra && extra[i]; i++)
        strv_push_unique(&l, extra[i]);
    const char *env = getenv("SOUK_PLUGIN_PATH");
    if (env) {
        char *copy = xstrdup(env), *save = NULL;
        for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save))
            strv_push_unique(&l, dir);
        free(copy);
    }
    if (store_dir) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/plugins", store_dir);
        strv_push_unique(&l, path);
    }
#ifdef SOUK_PLUGIN_BUILD_DIR
    strv_push_unique(&l, SOUK_PLUGIN_BUILD_DIR);
#endif
#ifdef SOUK_PLUGIN_INSTALL_DIR
    strv_push_unique(&l, SOUK_PLUGIN_INSTALL_DIR);
#endif
    return strv_take(&l);
}

static char *themes_path_default(void)
{
#ifdef SOUK_THEMES_BUILD_DIR
    if (is_dir(SOUK_THEMES_BUILD_DIR))
        return xstrdup(SOUK_THEMES_BUILD_DIR);
#endif
    return xstrdup(SOUK_THEMES_INSTALL_DIR);
}

void souk_config_defaults(souk_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->listen_host = xstrdup(CONFIG_DEFAULT_HOST);
    cfg->listen_port = CONFIG_DEFAULT_PORT;
    cfg->workers = 0;
    cfg->theme = xstrdup(CONFIG_DEFAULT_THEME);
    cfg->locale = xstrdup(CONFIG_DEFAULT_LOCALE);
    cfg->locales = strv_from(default_locales);
    strv none = {0};
    cfg->plugins = strv_take(&none);
    cfg->plugin_path = plugin_path_build(NULL, NULL);
    cfg->themes_path = themes_path_default();
    cfg->log_level = xstrdup(CONFIG_DEFAULT_LOG_LEVEL);
    cfg->static_max_age = CONFIG_DEFAULT_STATIC_MAX_AGE;
    cfg->limits.header_size = CONFIG_DEFAULT_HEADER_SIZE;
    cfg->limits.url_size = CONFIG_DEFAULT_URL_SIZE;
    cfg->limits.max_headers = CONFIG_DEFAULT_MAX_HEADERS;
    cfg->limits.body_size = CONFIG_DEFAULT_BODY_SIZE;
    cfg->limits.header_timeout_ms = CONFIG_DEFAULT_HEADER_TIMEOUT_MS;
    cfg->limits.body_timeout_ms = CONFIG_DEFAULT_BODY_TIMEOUT_MS;
    cfg->limits.keepalive_timeout_ms = CONFIG_DEFAULT_KEEPALIVE_TIMEOUT_MS;
    cfg->limits.write_timeout_ms = CONFIG_DEFAULT_WRITE_TIMEOUT_MS;
    cfg->limits.requests_per_connection = CONFIG_DEFAULT_REQUESTS_PER_CONNECTION;
    cfg->limits.max_connections = CONFIG_DEFAULT_MAX_CONNECTIONS;
    cfg->limits.shutdown_timeout_ms = CONFIG_DEFAULT_SHUTDOWN_TIMEOUT_MS;
    cfg->limits.startup_timeout_ms = CONFIG_DEFAULT_STARTUP_TIMEOUT_MS;
    cfg->script.instructions = CONFIG_DEFAULT_SCRIPT_INSTRUCTIONS;
    cfg->script.memory = CONFIG_DEFAULT_SCRIPT_MEMORY;
    cfg->settings = json_object();
}

void souk_config_free(souk_config *cfg)
{
    if (!cfg)
        return;
    free(cfg->store_dir);
    free(cfg->config_file);
    free(cfg->listen_host);
    free(cfg->theme);
    free(cfg->public_url);
    free(cfg->locale);
    strv_free(cfg->locales);
    strv_free(cfg->plugins);
    strv_free(cfg->plugin_path);
    free(cfg->themes_path);
    free(cfg->log_level);
    json_decref(cfg->settings);
    memset(cfg, 0, sizeof *cfg);
}

/* ------------------------------------------------------------- the key table */

typedef enum key_kind {
    K_INT, /* integer in [min, max] */
    K_BOOL,
    K_NAME,    /* letters, digits, '-', '_' (theme, locale) */
    K_LEVEL,   /* a log level */
    K_URL,     /* an absolute http(s) URL without query or fragment */
    K_LISTEN,  /* "host:port" */
    K_NAMES,   /* list of names (locales, plugins) */
    K_DIRS,    /* list of directories (plugin_path) */
    K_GROUP,   /* table of more keys */
    K_SETTINGS /* table of free-form tables */
} key_kind;

typedef enum c_type { C_INT, C_SIZE, C_U32, C_I64 } c_type;

typedef struct key_spec {
    const char *name;
    key_kind kind;
    size_t off;                   /* field in souk_config (not for K_LISTEN, K_DIRS, K_SETTINGS) */
    c_type ct;                    /* K_INT: the field's C type */
    long long min;                /* K_INT: smallest value (0 or 1) */
    long long max;                /* K_INT: largest value; 0 = the C type's */
    const struct key_spec *group; /* K_GROUP */
} key_spec;

#define CFG(f) offsetof(souk_config, f)

static const key_spec limits_keys[] = {
    {"header_size", K_INT, CFG(limits.header_size), C_SIZE, 1, 0, NULL},
    {"url_size", K_INT, CFG(limits.url_size), C_SIZE, 1, 0, NULL},
    {"max_headers", K_INT, CFG(limits.max_headers), C_INT, 1, 0, NULL},
    {"body_size", K_INT, CFG(limits.body_size), C_SIZE, 1, 0, NULL},
    {"header_timeout_ms", K_INT, CFG(limits.header_timeout_ms), C_U32, 1, 0, NULL},
    {"body_timeout_ms", K_INT, CFG(limits.body_timeout_ms), C_U32, 1, 0, NULL},
    {"keepalive_timeout_ms", K_INT, CFG(limits.keepalive_timeout_ms), C_U32, 1, 0, NULL},
    {"write_timeout_ms", K_INT, CFG(limits.write_timeout_ms), C_U32, 1, 0, NULL},
    {"requests_per_connection", K_INT, CFG(limits.requests_per_connection), C_INT, 1, 0, NULL},
    {"max_connections", K_INT, CFG(limits.max_connections), C_INT, 1, 0, NULL},
    {"shutdown_timeout_ms", K_INT, CFG(limits.shutdown_timeout_ms), C_U32, 1, 0, NULL},
    {"startup_timeout_ms", K_INT, CFG(limits.startup_timeout_ms), C_U32, 1, 0, NULL},
    {NULL, K_INT, 0, C_INT, 0, 0, NULL}};

static const key_spec script_keys[] = {
    {"instructions", K_INT, CFG(script.instructions), C_I64, 1, 0, NULL},
    {"memory", K_INT, CFG(script.memory), C_SIZE, 1, 0, NULL},
    {NULL, K_INT, 0, C_INT, 0, 0, NULL}};

static const key_spec top_keys[] = {
    {"listen", K_LISTEN, 0, C_INT, 0, 0, NULL},
    {"workers", K_INT, CFG(workers), C_INT, 0, SOUK_MAX_WORKERS, NULL},
    {"dev", K_BOOL, CFG(dev), C_INT, 0, 0, NULL},
    {"force_public", K_BOOL, CFG(force_public), C_INT, 0, 0, NULL},
    {"https", K_BOOL, CFG(https), C_INT, 0, 0, NULL},
    {"public_url", K_URL, CFG(public_url), C_INT, 0, 0, NULL},
    {"theme", K_NAME, CFG(theme), C_INT, 0, 0, NULL},
    {"locale", K_NAME, CFG(locale), C_INT, 0, 0, NULL},
    {"locales", K_NAMES, CFG(locales), C_INT, 0, 0, NULL},
    {"plugins", K_NAMES, CFG(plugins), C_INT, 0, 0, NULL},
    {"plugin_path", K_DIRS, 0, C_INT, 0, 0, NULL},
    {"log_level", K_LEVEL, CFG(log_level), C_INT, 0, 0, NULL},
    {"static_max_age", K_INT, CFG(static_max_age), C_INT, 0, 0, NULL},
    {"limits", K_GROUP, 0, C_INT, 0, 0, limits_keys},
    {"scripts", K_GROUP, 0, C_INT, 0, 0, script_keys},
    {"settings", K_SETTINGS, 0, C_INT, 0, 0, NULL},
    {NULL, K_INT, 0, C_INT, 0, 0, NULL}};

static const char *const log_levels[] = {"debug", "info", "warn", "error", NULL};

/* ------------------------------------------------------------------- loader */

typedef struct loader {
    souk_config *cfg;
    char **extra_dirs; /* plugin_path from souk.lua, already absolute */
    int locale_from_env;
    char *err;
    size_t errlen;
} loader;

static int fail(loader *ld, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(loader *ld, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ld->err, ld->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* What a value is, for "got ...": the type, or the number itself when a number
 * has the wrong range. */
static void describe(json_t *v, char *out, size_t n)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: snprintf(out, n, "table"); break;
    case JSON_ARRAY: snprintf(out, n, "list"); break;
    case JSON_STRING: snprintf(out, n, "string"); break;
    case JSON_INTEGER: snprintf(out, n, "%lld", (long long)json_integer_value(v)); break;
    case JSON_REAL: snprintf(out, n, "real %g", json_real_value(v)); break;
    case JSON_TRUE:
    case JSON_FALSE: snprintf(out, n, "boolean"); break;
    default: snprintf(out, n, "null"); break;
    }
}

static int expected(loader *ld, const char *label, const char *what, json_t *v)
{
    char got[CONFIG_ERR_VALUE_MAX];
    describe(v, got, sizeof got);
    return fail(ld, "%s: expected %s, got %s", label, what, got);
}

static long long c_type_max(c_type ct)
{
    switch (ct) {
    case C_INT: return INT_MAX;
    case C_U32: return UINT32_MAX;
    case C_SIZE: return SIZE_MAX < (unsigned long long)LLONG_MAX ? (long long)SIZE_MAX : LLONG_MAX;
    default: return LLONG_MAX;
    }
}

/* Whether d is a whole number that a long long holds (1e6 written for 1000000);
 * checked before any cast, which would be undefined out of range. */
static int real_is_integer(double d)
{
    return d >= -9223372036854775808.0 && d < 9223372036854775808.0 && d == floor(d);
}

static void set_int(souk_config *cfg, const key_spec *k, long long v)
{
    char *field = (char *)cfg + k->off;
    switch (k->ct) {
    case C_INT: *(int *)field = (int)v; break;
    case C_SIZE: *(size_t *)field = (size_t)v; break;
    case C_U32: *(uint32_t *)field = (uint32_t)v; break;
    case C_I64: *(int64_t *)field = (int64_t)v; break;
    }
}

static void set_string(souk_config *cfg, size_t off, const char *s)
{
    char **field = (char **)((char *)cfg + off);
    free(*field);
    *field = xstrdup(s);
}

static int is_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > CONFIG_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
            return 0;
    return 1;
}

/* "host:port" or "[v6]:port" into cfg.  0 or -1. */
static int parse_listen(loader *ld, const char *label, const char *s)
{
    const char *colon = strrchr(s, ':');
    const char *host = s;
    size_t hlen = colon ? (size_t)(colon - s) : 0;
    if (hlen >= 2 && s[0] == '[' && s[hlen - 1] == ']') {
        host++;
        hlen -= 2;
    }
    int ok = colon && hlen > 0 && hlen <= CONFIG_HOST_MAX && colon[1] != '\0';
    for (size_t i = 0; ok && i < hlen; i++)
        if (isspace((unsigned char)host[i]) || host[i] == '/' || host[i] == '[' || host[i] == ']')
            ok = 0;
    long port = 0;
    for (const char *p = ok ? colon + 1 : ""; ok && *p; p++) {
        if (!isdigit((unsigned char)*p) || (port = port * 10 + (*p - '0')) > CONFIG_MAX_PORT)
            ok = 0;
    }
    if (!ok)
        return fail(ld, "%s: expected \"host:port\" (port 0..%d), got \"%.*s\"", label,
                    CONFIG_MAX_PORT, CONFIG_ERR_VALUE_MAX, s);
    free(ld->cfg->listen_host);
    ld->cfg->listen_host = strndup(host, hlen);
    if (!ld->cfg->listen_host)
        return fail(ld, "%s: out of memory", label);
    ld->cfg->listen_port = (int)port;
    return 0;
}

/* A list of strings: a JSON array, or an empty object (Lua's {} has no kind). */
static int check_list(loader *ld, const char *label, json_t *v)
{
    if (json_is_object(v) && json_object_size(v) == 0)
        return 0;
    if (!json_is_array(v))
        return expected(ld, label, "a list of strings", v);
    for (size_t i = 0; i < json_array_size(v); i++)
        if (!json_is_string(json_array_get(v, i)))
            return expected(ld, label, "a list of strings", json_array_get(v, i));
    return 0;
}

static int apply_names(loader *ld, const key_spec *k, const char *label, json_t *v)
{
    if (check_list(ld, label, v) != 0)
        return -1;
    size_t n = json_is_array(v) ? json_array_size(v) : 0;
    int plugins = strcmp(k->name, "plugins") == 0;
    if (!plugins && n == 0)
        return fail(ld, "%s: expected at least one locale", label);
    if (plugins && n > SOUK_MAX_PLUGINS)
        return fail(ld, "%s: more than %d plugins", label, SOUK_MAX_PLUGINS);
    strv l = {0};
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(v, i));
        if (!is_name(s) || strv_has(l.v, s)) {
            strv_free(strv_take(&l));
            return fail(ld, "%s: \"%.*s\" is %s", label, CONFIG_ERR_VALUE_MAX, s,
                        is_name(s) ? "listed twice" : "not a name (letters, digits, '-', '_')");
        }
        strv_push(&l, s);
    }
    char ***field = (char ***)((char *)ld->cfg + k->off);
    strv_free(*field);
    *field = strv_take(&l);
    return 0;
}

static int apply_dirs(loader *ld, const char *label, json_t *v)
{
    if (check_list(ld, label, v) != 0)
        return -1;
    strv l = {0};
    for (size_t i = 0; json_is_array(v) && i < json_array_size(v); i++) {
        const char *s = json_string_value(json_array_get(v, i));
        if (s[0] == '\0') {
            strv_free(strv_take(&l));
            return fail(ld, "%s: an empty directory name", label);
        }
        char path[PATH_MAX];
        if (s[0] == '/')
            snprintf(path, sizeof path, "%s", s);
        else
            snprintf(path, sizeof path, "%s/%s", ld->cfg->store_dir, s);
        strv_push_unique(&l, path);
    }
    strv_free(ld->extra_dirs);
    ld->extra_dirs = strv_take(&l);
    return 0;
}

static int apply_settings(loader *ld, const char *path, const char *label, json_t *v,
                          const char *origin)
{
    if (json_is_array(v) || !json_is_object(v))
        return expected(ld, label, "a table of plugin settings", v);
    const char *key;
    json_t *val;
    json_object_foreach(v, key, val)
    {
        /* An empty Lua table is indistinguishable from an empty list. */
        if (!json_is_object(val) && !(json_is_array(val) && json_array_size(val) == 0)) {
            char sub[512];
            snprintf(sub, sizeof sub, "%s: key '%s.%s'", origin, path, key);
            return expected(ld, sub, "a table", val);
        }
    }
    json_decref(ld->cfg->settings);
    ld->cfg->settings = json_incref(v);
    return 0;
}

static int apply_group(loader *ld, const key_spec *keys, const char *prefix, json_t *obj,
                       const char *origin);

/* Apply value v to key k.  label names it in messages: "souk.lua: key 'limits.x'"
 * or "SOUK_LIMITS_X". */
static int apply_key(loader *ld, const key_spec *k, const char *path, const char *label, json_t *v,
                     const char *origin)
{
    switch (k->kind) {
    case K_INT: {
        long long max = k->max ? k->max : c_type_max(k->ct);
        const char *what = k->min > 0 ? "a positive integer" : "a non-negative integer";
        long long n;
        if (json_is_integer(v)) {
            n = (long long)json_integer_value(v);
        } else if (json_is_real(v) && real_is_integer(json_real_value(v))) {
            n = (long long)json_real_value(v);
        } else {
            return expected(ld, label, what, v);
        }
        if (n < k->min || n > max)
            return fail(ld, "%s: expected %s up to %lld, got %lld", label, what, max, n);
        set_int(ld->cfg, k, n);
        return 0;
    }
    case K_BOOL:
        if (!json_is_boolean(v))
            return expected(ld, label, "a boolean", v);
        set_int(ld->cfg, k, json_is_true(v));
        return 0;
    case K_NAME:
        if (!json_is_string(v))
            return expected(ld, label, "a name", v);
        if (!is_name(json_string_value(v)))
            return fail(ld, "%s: \"%.*s\" is not a name (letters, digits, '-', '_')", label,
                        CONFIG_ERR_VALUE_MAX, json_string_value(v));
        set_string(ld->cfg, k->off, json_string_value(v));
        return 0;
    case K_LEVEL:
        if (!json_is_string(v))
            return expected(ld, label, "one of debug, info, warn, error", v);
        for (int i = 0; log_levels[i]; i++) {
            if (strcmp(json_string_value(v), log_levels[i]) == 0) {
                set_string(ld->cfg, k->off, log_levels[i]);
                return 0;
            }
        }
        return fail(ld, "%s: expected one of debug, info, warn, error, got \"%.*s\"", label,
                    CONFIG_ERR_VALUE_MAX, json_string_value(v));
    case K_URL: {
        if (!json_is_string(v))
            return expected(ld, label, "an http:// or https:// address", v);
        const char *u = json_string_value(v);
        const char *host = strncmp(u, "https://", 8) == 0 ? u + 8
                           : strncmp(u, "http://", 7) == 0 ? u + 7 : NULL;
        if (!host || !*host || *host == '/' || strpbrk(u, " \t\r\n?#\\\"<>") ||
            strlen(u) > CONFIG_URL_MAX)
            return fail(ld, "%s: expected an http:// or https:// address without spaces, "
                        "query or fragment, got \"%.*s\"", label, CONFIG_ERR_VALUE_MAX, u);
        size_t n = strlen(u);
        while (n > 0 && u[n - 1] == '/') /* links append "/path" */
            n--;
        char *copy = strndup(u, n);
        if (!copy)
            return fail(ld, "%s: out of memory", label);
        free(*(char **)((char *)ld->cfg + k->off));
        *(char **)((char *)ld->cfg + k->off) = copy;
        return 0;
    }
    case K_LISTEN:
        if (!json_is_string(v))
            return expected(ld, label, "\"host:port\"", v);
        return parse_listen(ld, label, json_string_value(v));
    case K_NAMES: return apply_names(ld, k, label, v);
    case K_DIRS: return apply_dirs(ld, label, v);
    case K_SETTINGS: return apply_settings(ld, path, label, v, origin);
    case K_GROUP:
        if (json_is_array(v) || !json_is_object(v))
            return expected(ld, label, "a table", v);
        return apply_group(ld, k->group, path, v, origin);
    }
    return 0;
}

/* Edit distance between two short strings (for "did you mean"). */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > CONFIG_NAME_MAX || lb > CONFIG_NAME_MAX)
        return (size_t)-1;
    size_t row[CONFIG_NAME_MAX + 1];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

static const char *suggest(const key_spec *keys, const char *key)
{
    const char *best = NULL;
    size_t best_d = CONFIG_SUGGEST_DISTANCE + 1;
    size_t klen = strlen(key);
    for (const key_spec *k = keys; k->name; k++) {
        size_t d = edit_distance(key, k->name);
        /* "body" for "body_size": a prefix is as good a hint as a typo. */
        if (d > CONFIG_SUGGEST_DISTANCE && klen >= 3 && strncmp(k->name, key, klen) == 0)
            d = CONFIG_SUGGEST_DISTANCE;
        if (d < best_d) {
            best_d = d;
            best = k->name;
        }
    }
    return best;
}

static int apply_group(loader *ld, const key_spec *keys, const char *prefix, json_t *obj,
                       const char *origin)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        char path[256], label[300];
        snprintf(path, sizeof path, "%s%s%s", prefix, prefix[0] ? "." : "", key);
        const key_spec *k = keys;
        while (k->name && strcmp(k->name, key) != 0)
            k++;
        if (!k->name) {
            const char *hint = suggest(keys, key);
            if (hint)
                return fail(ld, "%s: unknown key '%s' (did you mean '%s%s%s'?)", origin, path,
                            prefix, prefix[0] ? "." : "", hint);
            return fail(ld, "%s: unknown key '%s'", origin, path);
        }
        snprintf(label, sizeof label, "%s: key '%s'", origin, path);
        if (apply_key(ld, k, path, label, v, origin) != 0)
            return -1;
    }
    return 0;
}

/* --------------------------------------------------------------- environment */

static int parse_env_value(loader *ld, const key_spec *k, const char *var, const char *s,
                           json_t **out)
{
    *out = NULL;
    if (k->kind == K_INT) {
        char *end;
        errno = 0;
        long long n = strtoll(s, &end, 10);
        if (s[0] == '\0' || *end != '\0' || errno == ERANGE)
            return fail(ld, "%s: expected %s, got \"%.*s\"", var,
                        k->min > 0 ? "a positive integer" : "a non-negative integer",
                        CONFIG_ERR_VALUE_MAX, s);
        *out = json_integer(n);
    } else if (k->kind == K_BOOL) {
        static const char *const yes[] = {"1", "true", "yes", "on", NULL};
        static const char *const no[] = {"0", "false", "no", "off", NULL};
        for (int i = 0; yes[i] && !*out; i++)
            if (strcasecmp(s, yes[i]) == 0)
                *out = json_true();
        for (int i = 0; no[i] && !*out; i++)
            if (strcasecmp(s, no[i]) == 0)
                *out = json_false();
        if (!*out)
            return fail(ld,
                        "%s: expected a boolean (1/0, true/false, yes/no, on/off), got \"%.*s\"",
                        var, CONFIG_ERR_VALUE_MAX, s);
    } else {
        *out = json_string(s);
        if (!*out)
            return fail(ld, "%s: expected UTF-8 text", var);
    }
    return 0;
}

static void env_name(char *out, size_t n, const char *prefix, const char *key)
{
    snprintf(out, n, "SOUK_%s%s%s", prefix, prefix[0] ? "_" : "", key);
    for (char *p = out; *p; p++)
        *p = (char)toupper((unsigned char)*p);
}

static int apply_env_keys(loader *ld, const key_spec *keys, const char *prefix)
{
    for (const key_spec *k = keys; k->name; k++) {
        if (k->kind == K_NAMES || k->kind == K_DIRS || k->kind == K_SETTINGS)
            continue; /* lists and tables are not overridden one by one */
        if (k->kind == K_GROUP) {
            if (apply_env_keys(ld, k->group, k->name) != 0)
                return -1;
            continue;
        }
        char var[96], path[128];
        env_name(var, sizeof var, prefix, k->name);
        const char *s = getenv(var);
        if (!s)
            continue;
        snprintf(path, sizeof path, "%s%s%s", prefix, prefix[0] ? "." : "", k->name);
        json_t *v;
        if (parse_env_value(ld, k, var, s, &v) != 0)
            return -1;
        int rc = apply_key(ld, k, path, var, v, var);
        json_decref(v);
        if (rc != 0)
            return -1;
        if (strcmp(k->name, "locale") == 0)
            ld->locale_from_env = 1;
    }
    return 0;
}

/* A misspelt SOUK_LIMITS_* variable would otherwise be ignored in silence. */
static int check_env_groups(loader *ld)
{
    for (const key_spec *g = top_keys; g->name; g++) {
        if (g->kind != K_GROUP)
            continue;
        char prefix[64];
        env_name(prefix, sizeof prefix, g->name, "");
        size_t plen = strlen(prefix);
        for (char **e = environ; e && *e; e++) {
            if (strncmp(*e, prefix, plen) != 0)
                continue;
            const char *eq = strchr(*e, '=');
            size_t vlen = eq ? (size_t)(eq - *e) : strlen(*e);
            int known = 0;
            for (const key_spec *k = g->group; k->name && !known; k++) {
                char var[96];
                env_name(var, sizeof var, g->name, k->name);
                known = strlen(var) == vlen && strncmp(var, *e, vlen) == 0;
            }
            if (!known)
                return fail(ld, "%.*s: unknown setting (the %s keys are in souk.lua's '%s' table)",
                            (int)vlen, *e, g->name, g->name);
        }
    }
    return 0;
}

/* ------------------------------------------------------------------- checks */

static int check_whole(loader *ld, const char *origin)
{
    souk_config *cfg = ld->cfg;
    if (!strv_has(cfg->locales, cfg->locale)) {
        char list[256] = "";
        for (size_t i = 0; cfg->locales[i]; i++) {
            size_t used = strlen(list);
            snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", cfg->locales[i]);
        }
        return fail(ld, "%s: locale '%s' is not one of the locales (%s)",
                    ld->locale_from_env ? "SOUK_LOCALE" : origin, cfg->locale, list);
    }
    /* dev mode on a public address is refused by the master, which knows the
     * final address (the command line may override listen). */
    return 0;
}

/* -------------------------------------------------------------------- load */

int souk_config_load(souk_config *cfg, const char *store_dir, char *err, size_t errlen)
{
    if (!cfg->theme) /* a zeroed struct: start from the defaults */
        souk_config_defaults(cfg);
    loader ld = {cfg, NULL, 0, err, errlen};
    char abs[PATH_MAX];
    if (!realpath(store_dir, abs))
        return fail(&ld, "%s: store directory: %s", store_dir, strerror(errno));
    if (!is_dir(abs))
        return fail(&ld, "%s: store directory: not a directory", store_dir);
    char file[PATH_MAX];
    if ((size_t)snprintf(file, sizeof file, "%s/%s", abs, CONFIG_FILE_NAME) >= sizeof file)
        return fail(&ld, "%s: path too long", store_dir);
    if (access(file, F_OK) != 0)
        return fail(&ld, "%s/%s: not found", store_dir, CONFIG_FILE_NAME);
    free(cfg->store_dir);
    cfg->store_dir = xstrdup(abs);
    free(cfg->config_file);
    cfg->config_file = xstrdup(file);

    json_t *root = NULL;
    if (souk_lua_eval_file(file, &cfg->script, &root, err, errlen) != 0)
        return -1;
    int rc = -1;
    if (json_is_array(root))
        expected(&ld, CONFIG_FILE_NAME, "a table of keys", root);
    else if (apply_group(&ld, top_keys, "", root, CONFIG_FILE_NAME) == 0 &&
             apply_env_keys(&ld, top_keys, "") == 0 && check_env_groups(&ld) == 0 &&
             check_whole(&ld, CONFIG_FILE_NAME) == 0)
        rc = 0;
    json_decref(root);
    if (rc == 0) {
        strv_free(cfg->plugin_path);
        cfg->plugin_path = plugin_path_build(ld.extra_dirs, cfg->store_dir);
    }
    strv_free(ld.extra_dirs);
    return rc;
}
