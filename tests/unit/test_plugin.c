/* test_plugin.c -- the plugin loader and registry, with the plugins of
 * tests/plugins/ (built into $SOUK_TEST_PLUGIN_DIR): one-line load errors,
 * dependency order, registrations, services, events and vetoes. */
#include "clock.h"
#include "ctx.h"
#include "plugin.h"
#include "store.h"
#include "test.h"

#include "../plugins/demo/demo.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *plugin_dir;
static char tmp_root[] = "/tmp/souk-test-plugin-XXXXXX";
static souk_store *store; /* the database behind db_prepare in the table below */

/* ---- a host table for the loader: registration slots are the real ones; the
 * few request-time slots the test plugins' event handlers use are stand-ins. */

static int stub_refuse(souk_ctx *ctx, const char *reason)
{
    ctx->refusal = souk_arena_strdup(ctx->arena, reason);
    return SOUK_ERR;
}

static sqlite3_stmt *stub_prepare(souk_ctx *ctx, const char *sql)
{
    return store ? souk_store_prepare(store, sql) : NULL;
}

static sqlite3 *stub_db(souk_ctx *ctx)
{
    return store ? souk_store_db(store) : NULL;
}

static int64_t stub_now(souk_ctx *ctx)
{
    return souk_clock_now_ms();
}

static const souk_host_api table = {
    .size = sizeof(souk_host_api),
    .abi_version = SOUK_ABI_VERSION,
    .abi_minor = SOUK_ABI_MINOR,
    .route_add = souk_plugin_route_add,
    .migration_add = souk_plugin_migration_add,
    .event_on = souk_plugin_event_on,
    .service_register = souk_plugin_service_register,
    .service_get = souk_plugin_service_get,
    .identity_set = souk_plugin_identity_set,
    .command_add = souk_plugin_command_add,
    .config = souk_plugin_config,
    .plugin_name = souk_plugin_name,
    .store_dir = souk_plugin_store_dir,
    .log = souk_plugin_log,
    .db_prepare = stub_prepare,
    .db = stub_db,
    .event_refuse = stub_refuse,
    .now_ms = stub_now,
};

/* Load names (NULL-terminated) along path (NULL-terminated; default: the test
 * plugin dir) with settings (borrowed, may be NULL). */
static int load(souk_registry **r, const char *const *names, const char *const *path,
                json_t *settings, char *err, size_t errlen)
{
    const char *default_path[] = {plugin_dir, NULL};
    souk_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.store_dir = tmp_root;
    cfg.plugins = (char **)names;
    cfg.plugin_path = (char **)(path ? path : default_path);
    cfg.settings = settings;
    err[0] = '\0';
    return souk_plugins_load(r, &cfg, &table, err, errlen);
}

/* Loading names must fail with exactly the line want. */
static void expect_error(const char *const *names, json_t *settings, const char *want, int line)
{
    char err[1024];
    souk_registry *r = (souk_registry *)1;
    int rc = load(&r, names, NULL, settings, err, sizeof err);
    if (rc != -1 || r != NULL || strcmp(err, want) != 0) {
        fprintf(stderr, "%s:%d: load gave %d \"%s\", expected \"%s\"\n", __FILE__, line, rc, err,
                want);
        test_failed_checks++;
    }
    if (rc == 0)
        souk_plugins_unload(r);
}

/* Loading names must fail with a line that starts with prefix and contains part. */
static void expect_error_like(const char *const *names, const char *prefix, const char *part,
                              int line)
{
    char err[1024];
    souk_registry *r = (souk_registry *)1;
    int rc = load(&r, names, NULL, NULL, err, sizeof err);
    if (rc != -1 || r != NULL || strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, part) ||
        strchr(err, '\n')) {
        fprintf(stderr, "%s:%d: load gave %d \"%s\", expected \"%s...%s...\"\n", __FILE__, line, rc,
                err, prefix, part);
        test_failed_checks++;
    }
    if (rc == 0)
        souk_plugins_unload(r);
}

#define NAMES(...) ((const char *const[]){__VA_ARGS__, NULL})

TEST(load_errors)
{
    char want[1024];
    expect_error(NAMES("bad_abi"), NULL, "plugin 'bad_abi': built for ABI 999, this souk has ABI 1",
                 __LINE__);
    snprintf(want, sizeof want,
             "plugin 'bad_sig': ABI signature mismatch: plugin \"souk/1 ptr2 long2 int2 "
             "jansson2\", souk \"%s\"",
             SOUK_ABI_SIGNATURE);
    expect_error(NAMES("bad_sig"), NULL, want, __LINE__);
    expect_error(NAMES("bad_init"), NULL, "plugin 'bad_init': init failed", __LINE__);
    expect_error(NAMES("cyc_a", "cyc_b"), NULL,
                 "plugin 'cyc_a': dependency cycle cyc_a -> cyc_b -> cyc_a", __LINE__);
    expect_error(NAMES("cyc_b", "cyc_a"), NULL,
                 "plugin 'cyc_b': dependency cycle cyc_b -> cyc_a -> cyc_b", __LINE__);
    expect_error(NAMES("needs_missing"), NULL,
                 "plugin 'needs_missing': depends on 'nonexistent', which is not configured",
                 __LINE__);
    /* Only one of a cycle configured: the other is missing, not a cycle. */
    expect_error(NAMES("cyc_a"), NULL,
                 "plugin 'cyc_a': depends on 'cyc_b', which is not configured", __LINE__);
    expect_error(NAMES("demo", "demo"), NULL, "plugin 'demo': configured twice", __LINE__);
    expect_error(NAMES("../demo"), NULL,
                 "plugin '../demo': invalid name (expected [a-z][a-z0-9_]*, at most 64 "
                 "characters)",
                 __LINE__);
    /* A good plugin before a bad one is unloaded again (LeakSanitizer watches). */
    expect_error(NAMES("demo", "demo_dep", "bad_init"), NULL, "plugin 'bad_init': init failed",
                 __LINE__);

    expect_error_like(NAMES("bad_symbol"), "plugin 'bad_symbol': cannot load: ",
                      "undefined symbol: bad_symbol_missing_function", __LINE__);
    snprintf(want, sizeof want, "%s/no_desc.so does not export the symbol 'souk_plugin'",
             plugin_dir);
    expect_error_like(NAMES("no_desc"), "plugin 'no_desc': ", want, __LINE__);

    /* Not found: every searched directory is listed. */
    char dir_a[600], err[1024];
    snprintf(dir_a, sizeof dir_a, "%s/empty", tmp_root);
    mkdir(dir_a, 0700);
    const char *path[] = {dir_a, plugin_dir, NULL};
    souk_registry *r = NULL;
    CHECK_INT(load(&r, NAMES("nonexistent_plugin"), path, NULL, err, sizeof err), -1);
    snprintf(want, sizeof want,
             "plugin 'nonexistent_plugin': nonexistent_plugin.so not found "
             "in %s, %s",
             dir_a, plugin_dir);
    CHECK_STR(err, want);
    const char *nopath[] = {NULL};
    CHECK_INT(load(&r, NAMES("demo"), nopath, NULL, err, sizeof err), -1);
    CHECK_STR(err, "plugin 'demo': demo.so not found in (plugin_path is empty)");
}

TEST(name_must_match_file)
{
    char dir[600], link[700], target[700], err[1024];
    snprintf(dir, sizeof dir, "%s/renamed", tmp_root);
    mkdir(dir, 0700);
    snprintf(link, sizeof link, "%s/other.so", dir);
    snprintf(target, sizeof target, "%s/demo.so", plugin_dir);
    CHECK(symlink(target, link) == 0);
    const char *path[] = {dir, NULL};
    souk_registry *r = NULL;
    CHECK_INT(load(&r, NAMES("other"), path, NULL, err, sizeof err), -1);
    char want[1024];
    snprintf(want, sizeof want, "plugin 'other': %s declares the name 'demo'", link);
    CHECK_STR(err, want);
}

TEST(first_directory_wins)
{
    char dir[600], link[700], target[700], err[1024];
    snprintf(dir, sizeof dir, "%s/first", tmp_root);
    mkdir(dir, 0700);
    snprintf(link, sizeof link, "%s/demo.so", dir);
    snprintf(target, sizeof target, "%s/demo.so", plugin_dir);
    CHECK(symlink(target, link) == 0);
    const char *path[] = {dir, plugin_dir, NULL};
    souk_registry *r = NULL;
    CHECK_INT(load(&r, NAMES("demo"), path, NULL, err, sizeof err), 0);
    if (!r)
        return;
    CHECK_STR(souk_plugin_get_path(souk_registry_plugin(r, 0)), link);
    souk_plugins_unload(r);
}

TEST(registration_refusals)
{
    json_t *s = json_object();
    json_t *what = json_object();
    json_object_set_new(s, "dup_reg", what);
    json_object_set_new(what, "what", json_string("route"));
    expect_error(NAMES("demo", "dup_reg"), s,
                 "plugin 'dup_reg': route GET /demo/hello/:who conflicts with GET "
                 "/demo/hello/:name of plugin 'demo'",
                 __LINE__);
    json_object_set_new(what, "what", json_string("bad_route"));
    expect_error(NAMES("dup_reg"), s,
                 "plugin 'dup_reg': route FETCH /dup: unknown method (GET, POST, PUT, PATCH, "
                 "DELETE)",
                 __LINE__);
    json_object_set_new(what, "what", json_string("service"));
    expect_error(NAMES("demo", "dup_reg"), s,
                 "plugin 'dup_reg': service 'demo' v1 is already registered by plugin 'demo'",
                 __LINE__);
    json_object_set_new(what, "what", json_string("identity"));
    expect_error(NAMES("demo", "dup_reg"), s,
                 "plugin 'dup_reg': the identity resolver is already set by plugin 'demo'",
                 __LINE__);
    json_object_set_new(what, "what", json_string("command"));
    expect_error(NAMES("demo", "dup_reg"), s,
                 "plugin 'dup_reg': command 'demo-count' is already added by plugin 'demo'",
                 __LINE__);
    json_object_set_new(what, "what", json_string("migration"));
    expect_error(NAMES("dup_reg"), s, "plugin 'dup_reg': migration 1 registered twice", __LINE__);

    /* A service of a plugin that is not a declared dependency is refused (the
     * plugin's init fails if it got one). */
    json_object_set_new(what, "what", json_string("undeclared"));
    char err[1024];
    souk_registry *r = NULL;
    CHECK_INT(load(&r, NAMES("demo", "dup_reg"), NULL, s, err, sizeof err), 0);
    if (r) {
        souk_plugin *dup = souk_registry_plugin(r, 1);
        CHECK_STR(souk_plugin_get_name(dup), "dup_reg");
        CHECK(souk_plugin_service_get(dup, DEMO_SERVICE, 1) == NULL);
        souk_plugins_unload(r);
    }
    json_decref(s);
}

static int dummy_handler(souk_ctx *ctx)
{
    return SOUK_OK;
}
static int dummy_event(souk_ctx *ctx, const char *e, json_t *p, void *u)
{
    return SOUK_OK;
}
static int dummy_command(souk_ctx *ctx, int argc, char **argv)
{
    return 0;
}

static const souk_route_entry *find_route(souk_registry *r, const char *method, const char *pattern)
{
    int n;
    const souk_route_entry *routes = souk_registry_routes(r, &n);
    for (int i = 0; i < n; i++)
        if (strcmp(routes[i].route.method, method) == 0 &&
            strcmp(routes[i].route.pattern, pattern) == 0)
            return &routes[i];
    return NULL;
}

static long long count_rows(const char *sql)
{
    sqlite3_stmt *st = souk_store_prepare(store, sql);
    long long n = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    souk_store_release_all(store);
    return n;
}

TEST(good_plugins)
{
    json_t *settings = json_pack("{s:{s:s}}", "demo", "greeting", "Hi");
    char err[1024];
    souk_registry *r = NULL;
    /* The dependent first in the configuration: loaded second anyway. */
    CHECK_INT(load(&r, NAMES("demo_dep", "demo"), NULL, settings, err, sizeof err), 0);
    json_decref(settings); /* the registry keeps its own reference */
    if (!r) {
        fprintf(stderr, "load: %s\n", err);
        return;
    }
    CHECK_INT(souk_registry_count(r), 2);
    souk_plugin *demo = souk_registry_plugin(r, 0), *dep = souk_registry_plugin(r, 1);
    CHECK(souk_registry_plugin(r, 2) == NULL);
    CHECK_STR(souk_plugin_get_name(demo), "demo");
    CHECK_STR(souk_plugin_get_name(dep), "demo_dep");
    CHECK_STR(souk_plugin_get_version(demo), "1.0.0");
    char want[700];
    snprintf(want, sizeof want, "%s/demo.so", plugin_dir);
    CHECK_STR(souk_plugin_get_path(demo), want);

    /* Environment. */
    CHECK_STR(json_string_value(json_object_get(souk_plugin_config(demo), "greeting")), "Hi");
    CHECK(json_is_object(souk_plugin_config(dep)));
    CHECK_INT(json_object_size(souk_plugin_config(dep)), 0);
    CHECK_STR(souk_plugin_name(dep), "demo_dep");
    CHECK_STR(souk_plugin_store_dir(dep), tmp_root);

    /* Routes, copied with their flags and owner. */
    const souk_route_entry *hello = find_route(r, "GET", "/demo/hello/:name");
    CHECK(hello != NULL);
    if (hello) {
        CHECK(hello->plugin == demo);
        CHECK_STR(hello->route.page, "demo_hello");
        CHECK_INT(hello->route.flags, SOUK_ROUTE_LISTED);
        CHECK(hello->route.title != NULL);
        CHECK(hello->route.handler != NULL);
    }
    const souk_route_entry *me = find_route(r, "GET", "/api/v1/demo/me");
    CHECK(me && (me->route.flags & SOUK_ROUTE_AUTH));
    const souk_route_entry *stats = find_route(r, "GET", "/api/v1/demo_dep/stats");
    CHECK(stats && stats->plugin == dep);
    CHECK(find_route(r, "POST", "/api/v1/demo/notes") != NULL);
    CHECK(find_route(r, "DELETE", "/api/v1/demo/notes/:id") != NULL);

    /* Migrations: plugins in load order, versions ascending. */
    size_t nm;
    const souk_store_migration *m = souk_registry_migrations(r, &nm);
    CHECK_INT(nm, 3);
    if (nm == 3) {
        CHECK_STR(m[0].plugin, "demo");
        CHECK_INT(m[0].version, 1);
        CHECK_STR(m[1].plugin, "demo");
        CHECK_INT(m[1].version, 2);
        CHECK_STR(m[1].name, "add created_at");
        CHECK_STR(m[2].plugin, "demo_dep");
        CHECK_INT(m[2].version, 1);
    }

    /* Commands and identity. */
    int nc;
    const souk_command_entry *cmds = souk_registry_commands(r, &nc);
    CHECK_INT(nc, 1);
    if (nc == 1) {
        CHECK_STR(cmds[0].name, "demo-count");
        CHECK(cmds[0].plugin == demo);
        CHECK(cmds[0].summary && cmds[0].summary[0]);
    }
    const char *signin = NULL;
    CHECK(souk_registry_identity(r, &signin) != NULL);
    CHECK_STR(signin, "/demo/signin");

    /* Services: the dependent and the owner get it; unknown versions do not. */
    const demo_v1 *svc = souk_plugin_service_get(dep, DEMO_SERVICE, 1);
    CHECK(svc != NULL);
    CHECK(souk_plugin_service_get(demo, DEMO_SERVICE, 1) == svc);
    CHECK(souk_plugin_service_get(dep, DEMO_SERVICE, 2) == NULL);
    CHECK(souk_plugin_service_get(dep, "nope", 1) == NULL);

    /* Registration after init is refused. */
    souk_route late = {"GET", "/late", dummy_handler, NULL, 0, NULL};
    souk_migration lm = {9, "late", "SELECT 1"};
    CHECK_INT(souk_plugin_route_add(demo, &late), SOUK_ERR);
    CHECK_INT(souk_plugin_migration_add(demo, &lm), SOUK_ERR);
    CHECK_INT(souk_plugin_event_on(demo, "x", dummy_event, NULL), SOUK_ERR);
    CHECK_INT(souk_plugin_service_register(demo, "late", 1, &late), SOUK_ERR);
    CHECK_INT(souk_plugin_identity_set(demo, NULL, NULL), SOUK_ERR);
    CHECK_INT(souk_plugin_command_add(demo, "late", "x", dummy_command), SOUK_ERR);
    CHECK(find_route(r, "GET", "/late") == NULL);
    souk_registry_migrations(r, &nm);
    CHECK_INT(nm, 3);

    /* Events against a real database with the plugins' migrations applied. */
    char path[600];
    snprintf(path, sizeof path, "%s/data/souk.db", tmp_root);
    CHECK_INT(souk_store_open(&store, path, err, sizeof err), 0);
    if (!store) {
        souk_plugins_unload(r);
        return;
    }
    CHECK_INT(souk_store_migrate(store, m, nm, NULL, NULL, err, sizeof err), 3);

    souk_arena arena;
    souk_arena_init(&arena, 4096);
    souk_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.arena = &arena;

    CHECK_INT(svc->note_count(&ctx), 0);
    souk_store_exec(store, "INSERT INTO demo_notes(text) VALUES('hello')", err, sizeof err);
    CHECK_INT(svc->note_count(&ctx), 1);
    souk_store_release_all(store);
    CHECK_INT(cmds[0].fn(&ctx, 1, (char *[]){"demo-count", NULL}), 0);
    CHECK_INT(cmds[0].fn(&ctx, 2, (char *[]){"demo-count", "extra", NULL}), 2);
    souk_store_release_all(store);

    const char *reason = "x", *by = "x";
    json_t *payload = json_pack("{s:i, s:s}", "id", 1, "text", "hello");
    CHECK_INT(souk_registry_emit(r, &ctx, DEMO_EVENT_NOTE_ADDED, payload, 0, &reason, &by),
              SOUK_OK);
    CHECK(reason == NULL && by == NULL);
    souk_store_release_all(store);
    CHECK_INT(count_rows("SELECT count(*) FROM demo_dep_log WHERE note_id=1"), 1);

    /* Vetoable: allowed, then refused with demo_dep's reason. */
    CHECK_INT(souk_registry_emit(r, &ctx, DEMO_EVENT_NOTE_DELETING, payload, 1, &reason, &by),
              SOUK_OK);
    CHECK(reason == NULL && by == NULL);
    json_object_set_new(payload, "text", json_string("keep me"));
    CHECK_INT(souk_registry_emit(r, &ctx, DEMO_EVENT_NOTE_DELETING, payload, 1, &reason, &by),
              SOUK_ERR);
    CHECK_STR(reason, "this note is protected");
    CHECK_STR(by, "demo_dep");
    CHECK(ctx.refusal == NULL); /* taken by the registry */

    /* A failing subscriber fails a plain event (no table: the insert fails). */
    souk_store_exec(store, "DROP TABLE demo_dep_log", err, sizeof err);
    CHECK_INT(souk_registry_emit(r, &ctx, DEMO_EVENT_NOTE_ADDED, payload, 0, &reason, &by),
              SOUK_ERR);
    CHECK_STR(by, "demo_dep");
    CHECK_INT(souk_registry_emit(r, &ctx, "nobody.listens", payload, 1, &reason, &by), SOUK_OK);
    json_decref(payload);
    souk_store_release_all(store);

    souk_arena_free(&arena);
    souk_plugins_unload(r);
    souk_store_close(store);
    store = NULL;
}

TEST(no_plugins)
{
    char err[256];
    souk_registry *r = NULL;
    const char *none[] = {NULL};
    CHECK_INT(load(&r, none, NULL, NULL, err, sizeof err), 0);
    if (!r)
        return;
    CHECK_INT(souk_registry_count(r), 0);
    int n;
    size_t nm;
    CHECK(souk_registry_routes(r, &n) == NULL || n == 0);
    CHECK_INT(n, 0);
    souk_registry_migrations(r, &nm);
    CHECK_INT(nm, 0);
    CHECK(souk_registry_identity(r, NULL) == NULL);
    const char *reason, *by;
    CHECK_INT(souk_registry_emit(r, NULL, "x", NULL, 1, &reason, &by), SOUK_OK);
    souk_plugins_unload(r);
}

int main(void)
{
    plugin_dir = getenv("SOUK_TEST_PLUGIN_DIR");
    if (!plugin_dir || !*plugin_dir) {
        fprintf(stderr, "SOUK_TEST_PLUGIN_DIR is not set (ctest sets it to "
                        "build/tests/plugins)\n");
        return 1;
    }
    if (!mkdtemp(tmp_root)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(load_errors);
    RUN(name_must_match_file);
    RUN(first_directory_wins);
    RUN(registration_refusals);
    RUN(good_plugins);
    RUN(no_plugins);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmp_root);
    return test_report();
}
