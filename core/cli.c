/* cli.c -- the built-in subcommands that work on a store without serving it:
 * init, check, migrate, plugins, and plugin-provided commands. */
#include "cli.h"

#include "app_internal.h"
#include "crypto.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int souk_cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    return 0;
}

static int usage(const char *text, int code)
{
    fputs(text, code == SOUK_EXIT_OK ? stdout : stderr);
    return code;
}

/* ------------------------------------------------------------------ init */

static const char INIT_USAGE[] =
    "usage: souk init DIR [--demo]\n"
    "\n"
    "Create a store in DIR: souk.lua (configuration), scripts/ (merchant rules,\n"
    "copied from the examples), data/ (the database), keys/ (the store key, 0600),\n"
    "themes/ and plugins/ (overrides), media/ (the store's files, served at /media/).\n"
    "DIR must not hold a store already.\n"
    "  --demo   a demonstration store: dev mode, every bundled plugin enabled\n";

static const char CONFIG_TEMPLATE[] =
    "-- souk.lua: the configuration of this store (docs/operations.md lists every key).\n"
    "-- It is Lua evaluated in the script sandbox and must return a table.\n"
    "return {\n"
    "  listen = \"127.0.0.1:8080\",\n"
    "  workers = 0,            -- 0: one worker per core\n"
    "  dev = %s,           -- dev mode: messages go to the outbox, verbose errors\n"
    "  theme = \"default\",\n"
    "  locale = \"ru\",          -- default language; shoppers may switch\n"
    "  locales = { \"ru\", \"en\" },\n"
    "  plugins = { %s },\n"
    "  limits = {\n"
    "    body_size = 1048576,\n"
    "    header_timeout_ms = 10000,\n"
    "  },\n"
    "  scripts = {\n"
    "    instructions = 10000000,\n"
    "    memory = 33554432,\n"
    "  },\n"
    "  settings = {\n"
    "  },\n"
    "}\n";

static int mkdir_mode(const char *path, mode_t mode)
{
    if (mkdir(path, mode) != 0 && errno != EEXIST) {
        fprintf(stderr, "souk init: %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wbx") : NULL;
    if (!in || !out) {
        if (in)
            fclose(in);
        if (!out && errno == EEXIST)
            return 0; /* keep the merchant's own version */
        fprintf(stderr, "souk init: %s: %s\n", out ? from : to, strerror(errno));
        return -1;
    }
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        fwrite(buf, 1, n, out);
    fclose(in);
    return fclose(out) == 0 ? 0 : -1;
}

static const char *bundled_dir(const char *build, const char *install)
{
    struct stat st;
    return stat(build, &st) == 0 && S_ISDIR(st.st_mode) ? build : install;
}

/* The bundled plugins (every NAME.so in the plugin directory), as a Lua list. */
static void bundled_plugins(char *out, size_t outlen)
{
    out[0] = '\0';
    DIR *d = opendir(bundled_dir(SOUK_PLUGIN_BUILD_DIR, SOUK_PLUGIN_INSTALL_DIR));
    if (!d)
        return;
    struct dirent *e;
    size_t used = 0;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n <= 3 || strcmp(e->d_name + n - 3, ".so") != 0)
            continue;
        /* Whole names only: a name cut short would leave souk.lua unparsable. */
        size_t need = (used ? 2 : 0) + 2 + (n - 3);
        if (used + need >= outlen) {
            fprintf(stderr, "souk init: too many bundled plugins; %s and later ones left out\n",
                    e->d_name);
            break;
        }
        used += (size_t)snprintf(out + used, outlen - used, "%s\"%.*s\"", used ? ", " : "",
                                 (int)(n - 3), e->d_name);
    }
    closedir(d);
}

/* Tell the plugins that the store was just created (the plain event
 * "store.created", payload {"demo": bool}), in one write transaction: the catalog
 * fills the demonstration catalog here.  All or nothing. */
static int init_announce(souk_app *app, int demo, char *err, size_t errlen)
{
    souk_store *store = souk_app_store(app);
    if (souk_store_begin(store, 1, err, errlen) != 0)
        return -1;
    souk_arena arena;
    souk_arena_init(&arena, 0);
    souk_ctx ctx;
    souk_ctx_init(&ctx, app, &arena);
    json_t *payload = json_pack("{s:b}", "demo", demo);
    int rc = souk_registry_emit(souk_app_registry(app), &ctx, "store.created", payload, 0, NULL,
                                NULL);
    json_decref(payload);
    souk_ctx_dispose(&ctx);
    souk_arena_free(&arena);
    if (rc != SOUK_OK) {
        souk_store_rollback(store);
        souk_errorf(err, errlen, "a plugin failed to set up the new store (see the log)");
        return -1;
    }
    return souk_store_commit(store, err, errlen);
}

int souk_cmd_init(int argc, char **argv)
{
    if (souk_cli_wants_help(argc, argv))
        return usage(INIT_USAGE, SOUK_EXIT_OK);
    const char *dir = NULL;
    int demo = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--demo") == 0)
            demo = 1;
        else if (argv[i][0] == '-' || dir)
            return usage(INIT_USAGE, SOUK_EXIT_USAGE);
        else
            dir = argv[i];
    }
    if (!dir)
        return usage(INIT_USAGE, SOUK_EXIT_USAGE);
    char path[4096], from[4096];
    snprintf(path, sizeof path, "%s/souk.lua", dir);
    if (access(path, F_OK) == 0) {
        fprintf(stderr, "souk init: %s already exists; not touching an existing store\n", path);
        return SOUK_EXIT_FAIL;
    }
    if (mkdir_mode(dir, 0755) != 0)
        return SOUK_EXIT_FAIL;
    const char *subdirs[] = {"scripts", "data", "themes", "plugins", "media"};
    for (size_t i = 0; i < sizeof subdirs / sizeof *subdirs; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, subdirs[i]);
        if (mkdir_mode(path, strcmp(subdirs[i], "data") == 0 ? 0700 : 0755) != 0)
            return SOUK_EXIT_FAIL;
    }
    char err[512];
    snprintf(path, sizeof path, "%s/keys", dir);
    if (souk_crypto_open(path, 1, err, sizeof err) != 0) {
        fprintf(stderr, "souk init: %s\n", err);
        return SOUK_EXIT_FAIL;
    }
    const char *scripts = bundled_dir(SOUK_SCRIPTS_BUILD_DIR, SOUK_SCRIPTS_INSTALL_DIR);
    DIR *d = opendir(scripts);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 4, ".lua") != 0)
            continue;
        snprintf(from, sizeof from, "%s/%s", scripts, e->d_name);
        snprintf(path, sizeof path, "%s/scripts/%s", dir, e->d_name);
        if (copy_file(from, path) != 0) {
            closedir(d);
            return SOUK_EXIT_FAIL;
        }
    }
    if (d)
        closedir(d);
    char plugins[2048] = "";
    if (demo)
        bundled_plugins(plugins, sizeof plugins);
    snprintf(path, sizeof path, "%s/souk.lua", dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "souk init: %s: %s\n", path, strerror(errno));
        return SOUK_EXIT_FAIL;
    }
    fprintf(f, CONFIG_TEMPLATE, demo ? "true " : "false", plugins);
    fclose(f);
    /* Open the store once: this creates the database and applies every migration,
     * so that a fresh store is complete (and a broken one fails here, not later). */
    souk_app *app;
    if (souk_app_open(&app, dir, SOUK_APP_MIGRATE | SOUK_APP_NO_THEME, err, sizeof err) != 0) {
        fprintf(stderr, "souk init: %s\n", err);
        return SOUK_EXIT_FAIL;
    }
    int rc = init_announce(app, demo, err, sizeof err);
    souk_app_close(app);
    if (rc != 0) {
        fprintf(stderr, "souk init: %s\n", err);
        return SOUK_EXIT_FAIL;
    }
    printf("created %sstore in %s\nserve it with: souk serve %s\n", demo ? "demo " : "", dir, dir);
    return SOUK_EXIT_OK;
}

/* ----------------------------------------------------------------- check */

static const char CHECK_USAGE[] =
    "usage: souk check DIR\n"
    "\n"
    "Validate a store without serving it: configuration, plugins (ABI, dependencies,\n"
    "routes), pending migrations, scripts (compiled and their *_test.lua cases run)\n"
    "and theme templates.  Exit 0 when everything would start, 1 otherwise.\n";

static int one_dir_arg(int argc, char **argv, const char *text, const char **dir)
{
    if (souk_cli_wants_help(argc, argv))
        return usage(text, SOUK_EXIT_OK) + 100;
    if (argc != 2 || argv[1][0] == '-')
        return usage(text, SOUK_EXIT_USAGE);
    *dir = argv[1];
    return -1;
}

int souk_cmd_check(int argc, char **argv)
{
    const char *dir;
    int rc = one_dir_arg(argc, argv, CHECK_USAGE, &dir);
    if (rc >= 0)
        return rc >= 100 ? SOUK_EXIT_OK : rc;
    souk_app *app;
    char err[1024];
    if (souk_app_open(&app, dir, 0, err, sizeof err) != 0) {
        fprintf(stderr, "souk check: %s\n", err);
        return SOUK_EXIT_FAIL;
    }
    int nroutes;
    souk_registry_routes(app->reg, &nroutes);
    size_t nm;
    const souk_store_migration *m = souk_registry_migrations(app->reg, &nm);
    int pending = souk_store_pending(app->store, m, nm);
    printf("config    ok  %s\n", app->cfg.config_file);
    printf("plugins   ok  %d loaded, %d routes\n", souk_registry_count(app->reg), nroutes);
    printf("database  ok  %d migration(s) pending%s\n", pending,
           pending > 0 ? " (applied by `souk migrate` or at start)" : "");
    printf("scripts   ok  compiled, tests passed\n");
    printf("theme     ok  '%s', %d templates\n", app->cfg.theme, souk_theme_count(app->theme));
    souk_app_close(app);
    return SOUK_EXIT_OK;
}

/* --------------------------------------------------------------- migrate */

static const char MIGRATE_USAGE[] =
    "usage: souk migrate DIR\n"
    "\n"
    "Apply the pending migrations of every configured plugin, in dependency order,\n"
    "each in its own transaction, and print what was done.\n";

static void print_migration(void *ud, const souk_store_migration *m)
{
    printf("applied  %-12s %3d  %s\n", m->plugin, m->version, m->name);
    fflush(stdout);
}

int souk_cmd_migrate(int argc, char **argv)
{
    const char *dir;
    int rc = one_dir_arg(argc, argv, MIGRATE_USAGE, &dir);
    if (rc >= 0)
        return rc >= 100 ? SOUK_EXIT_OK : rc;
    souk_app *app;
    char err[1024];
    if (souk_app_open(&app, dir, SOUK_APP_NO_SCRIPTS | SOUK_APP_NO_THEME, err, sizeof err) != 0) {
        fprintf(stderr, "souk migrate: %s\n", err);
        return SOUK_EXIT_FAIL;
    }
    size_t nm;
    const souk_store_migration *m = souk_registry_migrations(app->reg, &nm);
    int n = souk_store_migrate(app->store, m, nm, print_migration, NULL, err, sizeof err);
    souk_app_close(app);
    if (n < 0) {
        fprintf(stderr, "souk migrate: %s\n", err);
        return SOUK_EXIT_FAIL;
    }
    if (n == 0)
        printf("nothing to migrate: the database is up to date\n");
    else
        printf("%d migration(s) applied\n", n);
    return SOUK_EXIT_OK;
}

/* --------------------------------------------------------------- plugins */

static const char PLUGINS_USAGE[] =
    "usage: souk plugins DIR\n"
    "\n"
    "List the store's plugins in load order with their versions, files, routes and\n"
    "commands.\n";

int souk_cmd_plugins(int argc, char **argv)
{
    const char *dir;
    int rc = one_dir_arg(argc, argv, PLUGINS_USAGE, &dir);
    if (rc >= 0)
        return rc >= 100 ? SOUK_EXIT_OK : rc;
    souk_app *app;
    char err[1024];
    if (souk_app_open(&app, dir, SOUK_APP_NO_SCRIPTS | SOUK_APP_NO_THEME, err, sizeof err) != 0) {
        fprintf(stderr, "souk plugins: %s\n", err);
        return SOUK_EXIT_FAIL;
    }
    int nr, nc;
    const souk_route_entry *routes = souk_registry_routes(app->reg, &nr);
    const souk_command_entry *cmds = souk_registry_commands(app->reg, &nc);
    for (int i = 0; i < souk_registry_count(app->reg); i++) {
        souk_plugin *p = souk_registry_plugin(app->reg, i);
        printf("%s %s  (%s)\n", souk_plugin_get_name(p), souk_plugin_get_version(p),
               souk_plugin_get_path(p));
        for (int j = 0; j < nr; j++) {
            if (routes[j].plugin != p)
                continue;
            const souk_route *r = &routes[j].route;
            printf("  %-6s %-40s %s%s\n", r->method, r->pattern, r->page ? r->page : "(json)",
                   r->flags & SOUK_ROUTE_AUTH ? "  [signed-in]" : "");
        }
        for (int j = 0; j < nc; j++)
            if (cmds[j].plugin == p)
                printf("  command %-15s %s\n", cmds[j].name, cmds[j].summary);
    }
    if (souk_registry_count(app->reg) == 0)
        printf("no plugins configured (souk.lua: plugins = { ... })\n");
    souk_app_close(app);
    return SOUK_EXIT_OK;
}

/* ------------------------------------------------------- plugin commands */

int souk_cmd_plugin(int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-') {
        fprintf(stderr, "souk: unknown command '%s' (see souk --help; plugin commands take the "
                "store directory first: souk %s DIR ...)\n", argv[0], argv[0]);
        return SOUK_EXIT_USAGE;
    }
    souk_app *app;
    char err[1024];
    /* With the theme: a command may queue messages, which are rendered from it
     * (api->render). */
    if (souk_app_open(&app, argv[1], SOUK_APP_MIGRATE, err, sizeof err) != 0) {
        fprintf(stderr, "souk %s: %s\n", argv[0], err);
        return SOUK_EXIT_FAIL;
    }
    int nc;
    const souk_command_entry *cmds = souk_registry_commands(app->reg, &nc);
    const souk_command_entry *cmd = NULL;
    for (int i = 0; i < nc && !cmd; i++)
        if (strcmp(cmds[i].name, argv[0]) == 0)
            cmd = &cmds[i];
    int rc;
    /* The command sees its own name then the arguments after DIR. */
    char **args = cmd ? calloc((size_t)argc, sizeof *args) : NULL;
    if (!cmd) {
        fprintf(stderr, "souk: unknown command '%s' (not built in, and no plugin of %s "
                "provides it)\n", argv[0], argv[1]);
        rc = SOUK_EXIT_USAGE;
    } else if (!args) {
        fprintf(stderr, "souk %s: out of memory\n", argv[0]);
        rc = SOUK_EXIT_FAIL;
    } else {
        souk_arena arena;
        souk_arena_init(&arena, 0);
        souk_ctx ctx;
        souk_ctx_init(&ctx, app, &arena);
        args[0] = argv[0];
        for (int j = 2; j < argc; j++)
            args[j - 1] = argv[j];
        rc = cmd->fn(&ctx, argc - 1, args);
        souk_ctx_dispose(&ctx);
        souk_arena_free(&arena);
        /* The contract is 0, 1 or 2; a plugin that returns SOUK_ERR (or any other
         * code) failed, and must not pass for a usage error or for success. */
        if (rc != SOUK_EXIT_OK && rc != SOUK_EXIT_USAGE)
            rc = SOUK_EXIT_FAIL;
    }
    free(args);
    souk_app_close(app);
    return rc;
}

/* List a store's plugin commands (souk help DIR). */
int souk_cli_plugin_commands(const char *dir)
{
    souk_app *app;
    char err[1024];
    if (souk_app_open(&app, dir, SOUK_APP_NO_SCRIPTS | SOUK_APP_NO_THEME, err, sizeof err) != 0) {
        fprintf(stderr, "souk help: %s\n", err);
        return SOUK_EXIT_FAIL;
    }
    int nc;
    const souk_command_entry *cmds = souk_registry_commands(app->reg, &nc);
    printf("\ncommands of the plugins of %s:\n", dir);
    for (int i = 0; i < nc; i++)
        printf("  %-18s %s  (%s)\n", cmds[i].name, cmds[i].summary,
               souk_plugin_get_name(cmds[i].plugin));
    if (nc == 0)
        printf("  (none)\n");
    souk_app_close(app);
    return SOUK_EXIT_OK;
}
