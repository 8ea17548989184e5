/* script.c -- a store's merchant scripts: loading, calling, hot reload, and the
 * report of `souk script test`; and the evaluation of souk.lua.  See script.h.
 *
 * Each script NAME.lua lives in a sandbox of its own (script_sandbox.c).  The
 * module table it returned stays in stack slot SCRIPT_MODULE_SLOT of that state's
 * main thread between calls; every call runs on top of it. */
#include "script.h"

#include "log.h"
#include "script_json.h"
#include "script_sandbox.h"
#include "script_test.h"

#include <lauxlib.h>
#include <souk/souk.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SCRIPT_MODULE_SLOT 1
#define SCRIPT_EXT ".lua"
#define SCRIPT_TEST_SUFFIX "_test.lua"
/* Longest script name ("pricing"). */
#define SCRIPT_NAME_MAX 96

/* What a file looked like when it was last examined; a change of any field (or of
 * existence) means the script must be checked again.  The inode catches editors
 * that save by writing a new file and renaming it over the old one. */
typedef struct file_stamp {
    int exists;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
} file_stamp;

typedef struct script_entry {
    char *name;           /* "pricing" */
    souk_sandbox *sb;     /* the running version, NULL when none loaded */
    file_stamp src, test; /* the files as last examined */
} script_entry;

struct souk_scripts {
    char *dir;
    souk_script_limits limits;
    script_entry *items;
    size_t n, cap;
};

static void default_limits(souk_script_limits *out)
{
    souk_config cfg;
    souk_config_defaults(&cfg);
    *out = cfg.script;
    souk_config_free(&cfg);
}

/* ----------------------------------------------------------------- souk.lua */

int souk_lua_eval_file(const char *path, const souk_script_limits *limits, json_t **out, char *err,
                       size_t errlen)
{
    souk_script_limits def;
    if (!limits) {
        default_limits(&def);
        limits = &def;
    }
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    *out = NULL;
    souk_sandbox *sb = souk_sandbox_new(base, limits, NULL, err, errlen);
    if (!sb)
        return -1;
    lua_State *L = souk_sandbox_lua(sb);
    int rc = -1;
    if (souk_sandbox_load_file(sb, path, err, errlen) == 0 &&
        souk_sandbox_run(sb, 0, 1, err, errlen) == 0) {
        if (!lua_istable(L, -1)) {
            snprintf(err, errlen, "%s: must return a table, got %s", base, luaL_typename(L, -1));
        } else {
            char why[SOUK_SANDBOX_ERR_MAX];
            *out = souk_json_from_lua(L, -1, "", why, sizeof why);
            if (*out)
                rc = 0;
            else
                snprintf(err, errlen, "%s: %s", base, why);
        }
    }
    souk_sandbox_free(sb);
    return rc;
}

/* ------------------------------------------------------------ the directory */

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct name_list {
    char **v;
    size_t n, cap;
} name_list;

static int names_add(name_list *l, const char *s, size_t len)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n] = strndup(s, len);
    if (!l->v[l->n])
        return -1;
    l->n++;
    return 0;
}

static void names_free(name_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

static int names_find(const name_list *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], s) == 0)
            return 1;
    return 0;
}

/* The scripts (NAME of NAME.lua) and the test files (NAME of NAME_test.lua) in
 * dir, sorted.  Hidden files (editors' backups) are skipped.  A missing dir is
 * empty: 0.  -1 with err on another error. */
static int scan_dir(const char *dir, name_list *scripts, name_list *tests, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "%s: cannot read: %s", dir, strerror(errno));
        return -1;
    }
    struct dirent *de;
    int rc = 0;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        const char *f = de->d_name;
        size_t len = strlen(f);
        if (f[0] == '.' || !has_suffix(f, SCRIPT_EXT))
            continue;
        int is_test = has_suffix(f, SCRIPT_TEST_SUFFIX) && len > strlen(SCRIPT_TEST_SUFFIX);
        size_t nlen = len - strlen(is_test ? SCRIPT_TEST_SUFFIX : SCRIPT_EXT);
        if (nlen == 0 || nlen > SCRIPT_NAME_MAX)
            continue;
        if (names_add(is_test ? tests : scripts, f, nlen) != 0) {
            snprintf(err, errlen, "%s: out of memory", dir);
            rc = -1;
        }
    }
    closedir(d);
    if (scripts->n > 1)
        qsort(scripts->v, scripts->n, sizeof *scripts->v, compare_names);
    if (tests->n > 1)
        qsort(tests->v, tests->n, sizeof *tests->v, compare_names);
    return rc;
}

static void script_paths(const char *dir, const char *name, char *src, char *test, size_t n)
{
    snprintf(src, n, "%s/%s%s", dir, name, SCRIPT_EXT);
    snprintf(test, n, "%s/%s%s", dir, name, SCRIPT_TEST_SUFFIX);
}

static file_stamp stamp_of(const char *path)
{
    file_stamp s;
    memset(&s, 0, sizeof s);
    struct stat st;
    if (stat(path, &st) == 0) {
        s.exists = 1;
        s.dev = st.st_dev;
        s.ino = st.st_ino;
        s.size = st.st_size;
        s.mtime = st.st_mtim;
    }
    return s;
}

static int stamp_equal(const file_stamp *a, const file_stamp *b)
{
    return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* ------------------------------------------------------- loading one script */

typedef struct first_failure {
    char msg[SOUK_SANDBOX_ERR_MAX];
    int count;
} first_failure;

static void keep_first_failure(void *ud, const char *script, const char *test_case,
                               const char *error)
{
    first_failure *f = ud;
    if (!error)
        return;
    if (f->count++ == 0) {
        if (test_case)
            snprintf(f->msg, sizeof f->msg, "%s: test '%s' failed: %s", script, test_case, error);
        else
            snprintf(f->msg, sizeof f->msg, "%s: %s", script, error);
    }
}

/* Build a live sandbox for dir/name.lua: compile, run, keep the module; then run
 * name_test.lua if there is one.  NULL with err when any step fails. */
static souk_sandbox *script_prepare(const char *dir, const char *name,
                                    const souk_script_limits *limits, char *err, size_t errlen)
{
    char src[PATH_MAX], test[PATH_MAX], chunk[SCRIPT_NAME_MAX + sizeof SCRIPT_EXT];
    script_paths(dir, name, src, test, sizeof src);
    snprintf(chunk, sizeof chunk, "%s%s", name, SCRIPT_EXT);
    souk_sandbox *sb = souk_sandbox_new(chunk, limits, NULL, err, errlen);
    if (!sb)
        return NULL;
    if (souk_sandbox_load_module(sb, src, err, errlen) != 0) {
        souk_sandbox_free(sb);
        return NULL;
    }
    if (access(test, F_OK) == 0) {
        first_failure f;
        f.count = 0;
        f.msg[0] = '\0';
        if (souk_script_run_tests(name, src, test, limits, keep_first_failure, &f) != 0) {
            if (f.count > 1)
                snprintf(err, errlen, "%s (and %d more failures)", f.msg, f.count - 1);
            else
                snprintf(err, errlen, "%s", f.msg);
            souk_sandbox_free(sb);
            return NULL;
        }
    }
    return sb;
}

/* ---------------------------------------------------------------- the set */

static script_entry *scripts_find(souk_scripts *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->items[i].name, name) == 0)
            return &s->items[i];
    return NULL;
}

static script_entry *scripts_add(souk_scripts *s, const char *name)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 8;
        script_entry *items = realloc(s->items, cap * sizeof *items);
        if (!items)
            return NULL;
        s->items = items;
        s->cap = cap;
    }
    script_entry *e = &s->items[s->n];
    memset(e, 0, sizeof *e);
    e->name = strdup(name);
    if (!e->name)
        return NULL;
    s->n++;
    return e;
}

static void scripts_remove_at(souk_scripts *s, size_t i)
{
    souk_sandbox_free(s->items[i].sb);
    free(s->items[i].name);
    memmove(&s->items[i], &s->items[i + 1], (s->n - i - 1) * sizeof *s->items);
    s->n--;
}

static void entry_stamps(const souk_scripts *s, const char *name, file_stamp *src, file_stamp *test)
{
    char p[PATH_MAX], t[PATH_MAX];
    script_paths(s->dir, name, p, t, sizeof p);
    *src = stamp_of(p);
    *test = stamp_of(t);
}

int souk_scripts_open(souk_scripts **out, const char *dir, const souk_script_limits *limits,
                      char *err, size_t errlen)
{
    *out = NULL;
    souk_scripts *s = calloc(1, sizeof *s);
    if (!s || !(s->dir = strdup(dir))) {
        free(s);
        snprintf(err, errlen, "%s: out of memory", dir);
        return -1;
    }
    if (limits)
        s->limits = *limits;
    else
        default_limits(&s->limits);
    name_list scripts = {0}, tests = {0};
    if (scan_dir(dir, &scripts, &tests, err, errlen) != 0)
        goto fail;
    for (size_t i = 0; i < scripts.n; i++) {
        script_entry *e = scripts_add(s, scripts.v[i]);
        if (!e) {
            snprintf(err, errlen, "%s: out of memory", dir);
            goto fail;
        }
        /* Stamps first: a file saved while it is being read is seen as changed
         * by the next reload rather than missed. */
        entry_stamps(s, e->name, &e->src, &e->test);
        e->sb = script_prepare(dir, e->name, &s->limits, err, errlen);
        if (!e->sb)
            goto fail;
    }
    names_free(&scripts);
    names_free(&tests);
    *out = s;
    return 0;
fail:
    names_free(&scripts);
    names_free(&tests);
    souk_scripts_close(s);
    return -1;
}

void souk_scripts_close(souk_scripts *s)
{
    if (!s)
        return;
    while (s->n > 0)
        scripts_remove_at(s, s->n - 1);
    free(s->items);
    free(s->dir);
    free(s);
}

int souk_scripts_has(souk_scripts *s, const char *script)
{
    script_entry *e = s ? scripts_find(s, script) : NULL;
    return e && e->sb;
}

int souk_scripts_has_function(souk_scripts *s, const char *script, const char *fn)
{
    script_entry *e = s && fn ? scripts_find(s, script) : NULL;
    if (!e || !e->sb)
        return 0;
    lua_State *L = souk_sandbox_lua(e->sb);
    if (lua_type(L, SCRIPT_MODULE_SLOT) != LUA_TTABLE)
        return 0;
    lua_pushstring(L, fn);
    int found = lua_rawget(L, SCRIPT_MODULE_SLOT) == LUA_TFUNCTION;
    lua_pop(L, 1);
    return found;
}

typedef struct call_request {
    const char *fn;
    json_t *args;
} call_request;

/* Protected part of a call: arguments become Lua values here, because building
 * them allocates and may hit the memory ceiling.  Argument 1 is the module. */
static int call_protected(lua_State *L)
{
    call_request *r = lua_touserdata(L, 2);
    lua_getfield(L, 1, r->fn);
    if (!lua_isfunction(L, -1))
        return luaL_error(L, "the module has no function '%s' (%s)", r->fn, luaL_typename(L, -1));
    size_t n = r->args ? json_array_size(r->args) : 0;
    if (n > INT_MAX / 2)
        return luaL_error(L, "too many arguments");
    luaL_checkstack(L, (int)n + LUA_MINSTACK, "too many arguments");
    for (size_t i = 0; i < n; i++) {
        char path[32];
        snprintf(path, sizeof path, "args[%zu]", i + 1);
        souk_json_push(L, json_array_get(r->args, i), path);
    }
    lua_call(L, (int)n, 1);
    return 1;
}

int souk_scripts_call(souk_scripts *s, const char *script, const char *fn, json_t *args,
                      json_t **result, char *err, size_t errlen)
{
    *result = NULL;
    script_entry *e = s ? scripts_find(s, script) : NULL;
    if (!e || !e->sb) {
        snprintf(err, errlen, "no script '%s' is loaded (%s/%s%s)", script, s ? s->dir : "?",
                 script, SCRIPT_EXT);
        return -1;
    }
    if (args && !json_is_array(args)) {
        snprintf(err, errlen, "%s%s: %s(): the arguments must be a JSON array", script, SCRIPT_EXT,
                 fn);
        return -1;
    }
    lua_State *L = souk_sandbox_lua(e->sb);
    call_request r = {fn, args};
    lua_pushcfunction(L, call_protected);
    lua_pushvalue(L, SCRIPT_MODULE_SLOT);
    lua_pushlightuserdata(L, &r);
    if (souk_sandbox_run(e->sb, 2, 1, err, errlen) != 0)
        return -1;
    char why[SOUK_SANDBOX_ERR_MAX];
    *result = souk_json_from_lua(L, -1, "result", why, sizeof why);
    lua_pop(L, 1);
    if (!*result) {
        snprintf(err, errlen, "%s%s: %s() returned a value that is not plain data: %s", script,
                 SCRIPT_EXT, fn, why);
        return -1;
    }
    return 0;
}

int souk_scripts_reload(souk_scripts *s)
{
    if (!s)
        return 0;
    char err[SOUK_SANDBOX_ERR_MAX];
    name_list scripts = {0}, tests = {0};
    if (scan_dir(s->dir, &scripts, &tests, err, sizeof err) != 0) {
        souk_log(SOUK_LOG_WARN, "scripts not reloaded: %s", err);
        names_free(&scripts);
        names_free(&tests);
        return 0;
    }
    int replaced = 0;
    for (size_t i = s->n; i-- > 0;) {
        if (names_find(&scripts, s->items[i].name))
            continue;
        if (s->items[i].sb) {
            souk_log(SOUK_LOG_INFO, "script %s%s removed: unloaded", s->items[i].name, SCRIPT_EXT);
            replaced++;
        }
        scripts_remove_at(s, i);
    }
    for (size_t i = 0; i < scripts.n; i++) {
        script_entry *e = scripts_find(s, scripts.v[i]);
        int added = 0;
        if (!e) {
            e = scripts_add(s, scripts.v[i]);
            if (!e) {
                souk_log(SOUK_LOG_WARN, "script %s%s not loaded: out of memory", scripts.v[i],
                         SCRIPT_EXT);
                continue;
            }
            added = 1;
        }
        file_stamp src, test;
        entry_stamps(s, e->name, &src, &test);
        if (!added && stamp_equal(&src, &e->src) && stamp_equal(&test, &e->test))
            continue;
        /* Remember what was examined even when it fails, so that a broken file is
         * reported once, not at every reload, and retried when it changes again. */
        e->src = src;
        e->test = test;
        souk_sandbox *sb = script_prepare(s->dir, e->name, &s->limits, err, sizeof err);
        if (!sb) {
            if (e->sb)
                souk_log(SOUK_LOG_WARN, "script %s%s not reloaded, the running version stays: %s",
                         e->name, SCRIPT_EXT, err);
            else
                souk_log(SOUK_LOG_WARN, "script %s%s not loaded: %s", e->name, SCRIPT_EXT, err);
            continue;
        }
        souk_log(SOUK_LOG_INFO, "script %s%s %s", e->name, SCRIPT_EXT,
                 e->sb ? "reloaded" : "loaded");
        souk_sandbox_free(e->sb);
        e->sb = sb;
        replaced++;
    }
    names_free(&scripts);
    names_free(&tests);
    return replaced;
}

/* --------------------------------------------------------- souk script test */

typedef struct test_report {
    FILE *out;
    int passed, failed;
} test_report;

static void report_line(void *ud, const char *script, const char *test_case, const char *error)
{
    test_report *r = ud;
    if (!error) {
        r->passed++;
        fprintf(r->out, "ok   %s: %s\n", script, test_case);
    } else if (test_case) {
        r->failed++;
        fprintf(r->out, "FAIL %s: %s: %s\n", script, test_case, error);
    } else {
        r->failed++;
        fprintf(r->out, "FAIL %s: %s\n", script, error);
    }
}

int souk_scripts_test(const char *dir, const souk_script_limits *limits, FILE *out)
{
    souk_script_limits def;
    if (!limits) {
        default_limits(&def);
        limits = &def;
    }
    test_report r = {out, 0, 0};
    int broken = 0;
    char err[SOUK_SANDBOX_ERR_MAX];
    name_list scripts = {0}, tests = {0};
    if (scan_dir(dir, &scripts, &tests, err, sizeof err) != 0) {
        fprintf(out, "FAIL %s\n", err);
        r.failed++;
        broken = 1;
    } else if (scripts.n == 0 && tests.n == 0) {
        fprintf(out, "no scripts in %s\n", dir);
    }
    for (size_t i = 0; i < scripts.n; i++) {
        const char *name = scripts.v[i];
        char src[PATH_MAX], test[PATH_MAX];
        script_paths(dir, name, src, test, sizeof src);
        if (names_find(&tests, name)) {
            /* The test run loads the module first and reports it if it fails. */
            if (souk_script_run_tests(name, src, test, limits, report_line, &r) < 0)
                broken = 1;
            continue;
        }
        souk_sandbox *sb = script_prepare(dir, name, limits, err, sizeof err);
        if (!sb) {
            report_line(&r, name, NULL, err);
            broken = 1;
            continue;
        }
        souk_sandbox_free(sb);
        fprintf(out, "note %s: loads; no %s%s\n", name, name, SCRIPT_TEST_SUFFIX);
    }
    for (size_t i = 0; i < tests.n; i++) {
        if (names_find(&scripts, tests.v[i]))
            continue;
        snprintf(err, sizeof err, "%s%s has no %s%s to test", tests.v[i], SCRIPT_TEST_SUFFIX,
                 tests.v[i], SCRIPT_EXT);
        report_line(&r, tests.v[i], NULL, err);
    }
    names_free(&scripts);
    names_free(&tests);
    fprintf(out, "%d passed, %d failed\n", r.passed, r.failed);
    fflush(out);
    return broken ? -1 : r.failed;
}
