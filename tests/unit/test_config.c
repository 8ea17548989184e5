/* test_config.c -- defaults, souk.lua, validation messages, environment overrides. */
#define _GNU_SOURCE
#include "config.h"
#include "test.h"

#include <ftw.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[64];
static char store[PATH_MAX];
static char err[1024];

static const char *const env_vars[] = {"SOUK_LISTEN",
                                       "SOUK_WORKERS",
                                       "SOUK_DEV",
                                       "SOUK_FORCE_PUBLIC",
                                       "SOUK_HTTPS",
                                       "SOUK_THEME",
                                       "SOUK_LOCALE",
                                       "SOUK_LOG_LEVEL",
                                       "SOUK_STATIC_MAX_AGE",
                                       "SOUK_LIMITS_BODY_SIZE",
                                       "SOUK_LIMITS_BODY",
                                       "SOUK_SCRIPTS_MEMORY",
                                       "SOUK_SCRIPTS_INSTRUCTIONS",
                                       "SOUK_PLUGIN_PATH",
                                       NULL};

static void clear_env(void)
{
    for (int i = 0; env_vars[i]; i++)
        unsetenv(env_vars[i]);
}

static void write_config(const char *text)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/souk.lua", store);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    fputs(text, f);
    fclose(f);
}

/* Load souk.lua = text over the defaults; returns the status, cfg filled. */
static int load(souk_config *cfg, const char *text)
{
    write_config(text);
    souk_config_defaults(cfg);
    return souk_config_load(cfg, store, err, sizeof err);
}

/* The error of loading text (the config is freed). */
static const char *load_error(const char *text)
{
    souk_config cfg;
    int rc = load(&cfg, text);
    CHECK_INT(rc, -1);
    souk_config_free(&cfg);
    return err;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static int list_len(char **v)
{
    int n = 0;
    while (v && v[n])
        n++;
    return n;
}

TEST(defaults)
{
    souk_config cfg;
    souk_config_defaults(&cfg);
    CHECK(cfg.store_dir == NULL);
    CHECK_STR(cfg.listen_host, "127.0.0.1");
    CHECK_INT(cfg.listen_port, 8080);
    CHECK_INT(cfg.workers, 0);
    CHECK_INT(cfg.dev, 0);
    CHECK_INT(cfg.force_public, 0);
    CHECK_INT(cfg.https, 0);
    CHECK_STR(cfg.theme, "default");
    CHECK_STR(cfg.locale, "ru");
    CHECK_INT(list_len(cfg.locales), 2);
    CHECK_STR(cfg.locales[0], "ru");
    CHECK_STR(cfg.locales[1], "en");
    CHECK(cfg.plugins != NULL);
    CHECK_INT(list_len(cfg.plugins), 0);
    CHECK(cfg.plugin_path != NULL);
    CHECK(cfg.themes_path != NULL && cfg.themes_path[0] == '/');
    CHECK_STR(cfg.log_level, "info");
    CHECK_INT(cfg.static_max_age, 3600);
    CHECK_INT(cfg.limits.header_size, 16384);
    CHECK_INT(cfg.limits.url_size, 8192);
    CHECK_INT(cfg.limits.max_headers, 100);
    CHECK_INT(cfg.limits.body_size, 1048576);
    CHECK_INT(cfg.limits.header_timeout_ms, 10000);
    CHECK_INT(cfg.limits.body_timeout_ms, 10000);
    CHECK_INT(cfg.limits.keepalive_timeout_ms, 5000);
    CHECK_INT(cfg.limits.write_timeout_ms, 30000);
    CHECK_INT(cfg.limits.requests_per_connection, 1000);
    CHECK_INT(cfg.limits.max_connections, 10000);
    CHECK_INT(cfg.limits.shutdown_timeout_ms, 10000);
    CHECK_INT(cfg.script.instructions, 10000000);
    CHECK_INT(cfg.script.memory, 32 * 1024 * 1024);
    CHECK(json_is_object(cfg.settings) && json_object_size(cfg.settings) == 0);
    souk_config_free(&cfg);
    CHECK(cfg.theme == NULL);
}

TEST(minimal_file_keeps_defaults)
{
    souk_config cfg;
    CHECK_INT(load(&cfg, "return {}\n"), 0);
    char real[PATH_MAX];
    CHECK(realpath(store, real) != NULL);
    CHECK_STR(cfg.store_dir, real);
    char file[PATH_MAX + 16];
    snprintf(file, sizeof file, "%s/souk.lua", real);
    CHECK_STR(cfg.config_file, file);
    CHECK_INT(cfg.listen_port, 8080);
    CHECK_INT(cfg.limits.body_size, 1048576);
    /* STORE_DIR/plugins is on the search path. */
    char plugins[PATH_MAX + 16];
    snprintf(plugins, sizeof plugins, "%s/plugins", real);
    CHECK_STR(cfg.plugin_path[0], plugins);
    souk_config_free(&cfg);
}

TEST(valid_file)
{
    souk_config cfg;
    int rc =
        load(&cfg,
             "local mb = 1024 * 1024\n"
             "return {\n"
             "  listen = '[::1]:9000',\n"
             "  workers = 4,\n"
             "  dev = true,\n"
             "  https = true,\n"
             "  theme = 'bazaar',\n"
             "  locale = 'en',\n"
             "  locales = {'en', 'ru', 'kk'},\n"
             "  plugins = {'auth', 'catalog'},\n"
             "  plugin_path = {'my-plugins', '/opt/souk/plugins'},\n"
             "  log_level = 'debug',\n"
             "  static_max_age = 0,\n"
             "  limits = { body_size = 4 * mb, header_timeout_ms = 2000, max_connections = 1e3 },\n"
             "  scripts = { instructions = 5000000, memory = 8 * mb },\n"
             "  settings = { catalog = { per_page = 24, sort = 'name' }, auth = {} },\n"
             "}\n");
    if (rc != 0)
        fprintf(stderr, "load: %s\n", err);
    CHECK_INT(rc, 0);
    CHECK_STR(cfg.listen_host, "::1");
    CHECK_INT(cfg.listen_port, 9000);
    CHECK_INT(cfg.workers, 4);
    CHECK_INT(cfg.dev, 1);
    CHECK_INT(cfg.https, 1);
    CHECK_STR(cfg.theme, "bazaar");
    CHECK_STR(cfg.locale, "en");
    CHECK_INT(list_len(cfg.locales), 3);
    CHECK_STR(cfg.locales[2], "kk");
    CHECK_INT(list_len(cfg.plugins), 2);
    CHECK_STR(cfg.plugins[0], "auth");
    CHECK_STR(cfg.plugins[1], "catalog");
    char mine[PATH_MAX + 16];
    snprintf(mine, sizeof mine, "%s/my-plugins", cfg.store_dir);
    CHECK_STR(cfg.plugin_path[0], mine);
    CHECK_STR(cfg.plugin_path[1], "/opt/souk/plugins");
    CHECK_STR(cfg.log_level, "debug");
    CHECK_INT(cfg.static_max_age, 0);
    CHECK_INT(cfg.limits.body_size, 4 * 1024 * 1024);
    CHECK_INT(cfg.limits.header_timeout_ms, 2000);
    CHECK_INT(cfg.limits.max_connections, 1000);
    CHECK_INT(cfg.limits.url_size, 8192); /* untouched keys keep their defaults */
    CHECK_INT(cfg.script.instructions, 5000000);
    CHECK_INT(cfg.script.memory, 8 * 1024 * 1024);
    CHECK_INT(
        json_integer_value(json_object_get(json_object_get(cfg.settings, "catalog"), "per_page")),
        24);
    CHECK(json_object_get(cfg.settings, "auth") != NULL);
    souk_config_free(&cfg);
}

TEST(unknown_keys)
{
    CHECK_STR(load_error("return { limts = {} }\n"),
              "souk.lua: unknown key 'limts' (did you mean 'limits'?)");
    CHECK_STR(load_error("return { limits = { body = 10 } }\n"),
              "souk.lua: unknown key 'limits.body' (did you mean 'limits.body_size'?)");
    CHECK_STR(load_error("return { colour = 'red' }\n"), "souk.lua: unknown key 'colour'");
    CHECK_STR(load_error("return { scripts = { memroy = 1 } }\n"),
              "souk.lua: unknown key 'scripts.memroy' (did you mean 'scripts.memory'?)");
}

TEST(wrong_types)
{
    CHECK_STR(load_error("return { limits = { body_size = 'big' } }\n"),
              "souk.lua: key 'limits.body_size': expected a positive integer, got string");
    CHECK_STR(load_error("return { limits = { body_size = 0 } }\n"),
              "souk.lua: key 'limits.body_size': expected a positive integer up to "
              "9223372036854775807, got 0");
    CHECK_STR(load_error("return { limits = { header_timeout_ms = 5000000000 } }\n"),
              "souk.lua: key 'limits.header_timeout_ms': expected a positive integer up to "
              "4294967295, got 5000000000");
    CHECK_STR(load_error("return { workers = -1 }\n"),
              "souk.lua: key 'workers': expected a non-negative integer up to 256, got -1");
    CHECK_STR(load_error("return { workers = 257 }\n"),
              "souk.lua: key 'workers': expected a non-negative integer up to 256, got 257");
    CHECK_STR(load_error("return { listen = '127.0.0.1:70000' }\n"),
              "souk.lua: key 'listen': expected \"host:port\" (port 0..65535), got "
              "\"127.0.0.1:70000\"");
    CHECK_STR(load_error("return { scripts = { instructions = 0 } }\n"),
              "souk.lua: key 'scripts.instructions': expected a positive integer up to "
              "9223372036854775807, got 0");
    CHECK_STR(load_error("return { limits = { max_connections = 0 } }\n"),
              "souk.lua: key 'limits.max_connections': expected a positive integer up to "
              "2147483647, got 0");
    CHECK_STR(load_error("return { workers = 1.5 }\n"),
              "souk.lua: key 'workers': expected a non-negative integer, got real 1.5");
    CHECK_STR(load_error("return { limits = { body_size = 1e30 } }\n"),
              "souk.lua: key 'limits.body_size': expected a positive integer, got real 1e+30");
    CHECK_STR(load_error("return { dev = 1 }\n"), "souk.lua: key 'dev': expected a boolean, got 1");
    CHECK_STR(load_error("return { limits = 5 }\n"),
              "souk.lua: key 'limits': expected a table, got 5");
    CHECK_STR(load_error("return { listen = '8080' }\n"),
              "souk.lua: key 'listen': expected \"host:port\" (port 0..65535), got \"8080\"");
    CHECK_STR(load_error("return { listen = 'localhost:99999' }\n"),
              "souk.lua: key 'listen': expected \"host:port\" (port 0..65535), got "
              "\"localhost:99999\"");
    CHECK_STR(load_error("return { log_level = 'loud' }\n"),
              "souk.lua: key 'log_level': expected one of debug, info, warn, error, got \"loud\"");
    CHECK_STR(load_error("return { theme = '../etc' }\n"),
              "souk.lua: key 'theme': \"../etc\" is not a name (letters, digits, '-', '_')");
    CHECK_STR(load_error("return { plugins = {'auth', 'auth'} }\n"),
              "souk.lua: key 'plugins': \"auth\" is listed twice");
    CHECK_STR(load_error("return { plugins = {'../x'} }\n"),
              "souk.lua: key 'plugins': \"../x\" is not a name (letters, digits, '-', '_')");
    CHECK_STR(load_error("return { plugins = 'auth' }\n"),
              "souk.lua: key 'plugins': expected a list of strings, got string");
    CHECK_STR(load_error("return { locales = {} }\n"),
              "souk.lua: key 'locales': expected at least one locale");
    CHECK_STR(load_error("return { settings = { catalog = 5 } }\n"),
              "souk.lua: key 'settings.catalog': expected a table, got 5");
    CHECK_STR(load_error("return { locale = 'de' }\n"),
              "souk.lua: locale 'de' is not one of the locales (ru, en)");
    CHECK_STR(load_error("return { 'a', 'b' }\n"), "souk.lua: expected a table of keys, got list");
    CHECK_STR(load_error("return 5\n"), "souk.lua: must return a table, got number");
    CHECK(strstr(load_error("return {\n  workers = ,\n}\n"), "souk.lua:2:") ==
          load_error("return {\n  workers = ,\n}\n"));

    /* An empty table is an empty list where a list is expected. */
    souk_config cfg;
    CHECK_INT(load(&cfg, "return { plugins = {}, dev = true, force_public = true, "
                         "listen = '0.0.0.0:0' }\n"),
              0);
    CHECK_INT(list_len(cfg.plugins), 0);
    CHECK_INT(cfg.listen_port, 0);
    souk_config_free(&cfg);
}

TEST(missing_file_and_store)
{
    char empty[PATH_MAX];
    snprintf(empty, sizeof empty, "%s/empty", root);
    mkdir(empty, 0755);
    souk_config cfg;
    souk_config_defaults(&cfg);
    CHECK_INT(souk_config_load(&cfg, empty, err, sizeof err), -1);
    char expect[PATH_MAX + 64];
    snprintf(expect, sizeof expect, "%s/souk.lua: not found", empty);
    CHECK_STR(err, expect);
    souk_config_free(&cfg);

    char missing[PATH_MAX];
    snprintf(missing, sizeof missing, "%s/nope", root);
    souk_config_defaults(&cfg);
    CHECK_INT(souk_config_load(&cfg, missing, err, sizeof err), -1);
    snprintf(expect, sizeof expect, "%s: store directory: No such file or directory", missing);
    CHECK_STR(err, expect);
    souk_config_free(&cfg);

    /* A zeroed struct is filled with the defaults first. */
    memset(&cfg, 0, sizeof cfg);
    write_config("return { workers = 2 }\n");
    CHECK_INT(souk_config_load(&cfg, store, err, sizeof err), 0);
    CHECK_INT(cfg.workers, 2);
    CHECK_STR(cfg.theme, "default");
    souk_config_free(&cfg);
}

TEST(environment_overrides)
{
    souk_config cfg;
    setenv("SOUK_LIMITS_BODY_SIZE", "2048", 1);
    setenv("SOUK_DEV", "yes", 1);
    setenv("SOUK_WORKERS", "3", 1);
    setenv("SOUK_LISTEN", "127.0.0.2:7000", 1);
    setenv("SOUK_LOG_LEVEL", "warn", 1);
    setenv("SOUK_SCRIPTS_MEMORY", "1048576", 1);
    setenv("SOUK_THEME", "night", 1);
    setenv("SOUK_LOCALE", "en", 1);
    CHECK_INT(load(&cfg, "return { workers = 8, limits = { body_size = 100 } }\n"), 0);
    CHECK_INT(cfg.limits.body_size, 2048);
    CHECK_INT(cfg.dev, 1);
    CHECK_INT(cfg.workers, 3);
    CHECK_STR(cfg.listen_host, "127.0.0.2");
    CHECK_INT(cfg.listen_port, 7000);
    CHECK_STR(cfg.log_level, "warn");
    CHECK_INT(cfg.script.memory, 1048576);
    CHECK_STR(cfg.theme, "night");
    CHECK_STR(cfg.locale, "en");
    souk_config_free(&cfg);
    clear_env();

    setenv("SOUK_WORKERS", "abc", 1);
    CHECK_STR(load_error("return {}\n"),
              "SOUK_WORKERS: expected a non-negative integer, got \"abc\"");
    clear_env();
    setenv("SOUK_LIMITS_BODY_SIZE", "-5", 1);
    CHECK_STR(load_error("return {}\n"),
              "SOUK_LIMITS_BODY_SIZE: expected a positive integer up to 9223372036854775807, "
              "got -5");
    clear_env();
    setenv("SOUK_DEV", "maybe", 1);
    CHECK_STR(load_error("return {}\n"),
              "SOUK_DEV: expected a boolean (1/0, true/false, yes/no, on/off), got \"maybe\"");
    clear_env();
    setenv("SOUK_LIMITS_BODY", "10", 1);
    CHECK_STR(load_error("return {}\n"),
              "SOUK_LIMITS_BODY: unknown setting (the limits keys are in souk.lua's 'limits' "
              "table)");
    clear_env();
    setenv("SOUK_LOCALE", "de", 1);
    CHECK_STR(load_error("return {}\n"),
              "SOUK_LOCALE: locale 'de' is not one of the locales (ru, en)");
    clear_env();

    /* SOUK_PLUGIN_PATH: after souk.lua's plugin_path, before STORE_DIR/plugins. */
    setenv("SOUK_PLUGIN_PATH", "/a:/b::/a", 1);
    CHECK_INT(load(&cfg, "return { plugin_path = {'/first'} }\n"), 0);
    CHECK_STR(cfg.plugin_path[0], "/first");
    CHECK_STR(cfg.plugin_path[1], "/a");
    CHECK_STR(cfg.plugin_path[2], "/b");
    char plugins[PATH_MAX + 16];
    snprintf(plugins, sizeof plugins, "%s/plugins", cfg.store_dir);
    CHECK_STR(cfg.plugin_path[3], plugins);
    int a = 0;
    for (int i = 0; cfg.plugin_path[i]; i++)
        a += strcmp(cfg.plugin_path[i], "/a") == 0;
    CHECK_INT(a, 1);
    souk_config_free(&cfg);
    souk_config_defaults(&cfg);
    CHECK_STR(cfg.plugin_path[0], "/a");
    souk_config_free(&cfg);
    clear_env();
}

int main(void)
{
    clear_env();
    snprintf(root, sizeof root, "/tmp/souk-test-config-XXXXXX");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    /* A store path with a "." in it: the loader must make it absolute and clean. */
    char sub[PATH_MAX];
    snprintf(sub, sizeof sub, "%s/store", root);
    mkdir(sub, 0755);
    snprintf(store, sizeof store, "%s/./store", root);
    RUN(defaults);
    RUN(minimal_file_keeps_defaults);
    RUN(valid_file);
    RUN(unknown_keys);
    RUN(wrong_types);
    RUN(missing_file_and_store);
    RUN(environment_overrides);
    nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return test_report();
}
