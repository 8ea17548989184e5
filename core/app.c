/* app.c -- opening and closing a store; see app.h.  The request path is dispatch.c. */
#include "app_internal.h"

#include "clock.h"
#include "crypto.h"
#include "log.h"

#include <stdio.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <string.h>

#define APP_RELOAD_DEBOUNCE_MS 200 /* editors write a file in several steps */

static void report_migration(void *ud, const souk_store_migration *m)
{
    souk_log(SOUK_LOG_INFO, "applied migration %s %d (%s)", m->plugin, m->version, m->name);
}

/* Register the plugins' routes with the router and collect the listed pages. */
static int app_build_routes(souk_app *app, char *err, size_t errlen)
{
    int n;
    const souk_route_entry *routes = souk_registry_routes(app->reg, &n);
    app->router = souk_router_new();
    app->nav = json_array();
    for (int i = 0; i < n; i++) {
        const souk_route *r = &routes[i].route;
        char rerr[256];
        if (souk_router_add(app->router, r->method, r->pattern, (void *)&routes[i], rerr,
                            sizeof rerr) != 0) {
            snprintf(err, errlen, "plugin '%s': route %s %s: %s",
                     souk_plugin_get_name(routes[i].plugin), r->method, r->pattern, rerr);
            return -1;
        }
        if ((r->flags & SOUK_ROUTE_LISTED) && strcmp(r->method, "GET") == 0 &&
            !strchr(r->pattern, ':') && !strchr(r->pattern, '*'))
            json_array_append_new(app->nav, json_pack("{s:s, s:s}", "title",
                                                      r->title ? r->title : r->pattern,
                                                      "href", r->pattern));
    }
    return 0;
}

int souk_app_open(souk_app **out, const char *dir, int flags, char *err, size_t errlen)
{
    souk_app *app = calloc(1, sizeof *app);
    souk_config_defaults(&app->cfg);
    if (souk_config_load(&app->cfg, dir, err, errlen) != 0)
        goto fail;
    /* Tests move time with SOUK_CLOCK_FILE; a production store never does. */
    souk_clock_allow_file(app->cfg.dev);
    char path[4096];
    snprintf(path, sizeof path, "%s/keys", app->cfg.store_dir);
    if (souk_crypto_open(path, 0, err, errlen) != 0)
        goto fail;
    snprintf(path, sizeof path, "%s/data/souk.db", app->cfg.store_dir);
    if (souk_store_open(&app->store, path, err, errlen) != 0)
        goto fail;
    souk_app_site_update(app); /* plugins may read it in init() */
    if (souk_plugins_load_owned(&app->reg, &app->cfg, &souk_api_table, app, err, errlen) != 0)
        goto fail;
    if (souk_registry_db_open(app->reg, souk_store_db(app->store), err, errlen) != 0)
        goto fail;
    app->plugins_info = json_array();
    app->plugins_loaded = json_object();
    for (int i = 0; i < souk_registry_count(app->reg); i++) {
        souk_plugin *p = souk_registry_plugin(app->reg, i);
        json_array_append_new(app->plugins_info,
                              json_pack("{s:s, s:s}", "name", souk_plugin_get_name(p),
                                        "version", souk_plugin_get_version(p)));
        json_object_set_new(app->plugins_loaded, souk_plugin_get_name(p), json_true());
    }
    if (flags & SOUK_APP_MIGRATE) {
        size_t nm;
        const souk_store_migration *m = souk_registry_migrations(app->reg, &nm);
        int applied = souk_store_migrate(app->store, m, nm, report_migration, NULL, err, errlen);
        if (applied < 0)
            goto fail;
        app->migrations_applied = applied;
    }
    if (app_build_routes(app, err, errlen) != 0)
        goto fail;
    if (!(flags & SOUK_APP_NO_SCRIPTS)) {
        snprintf(path, sizeof path, "%s/scripts", app->cfg.store_dir);
        if (souk_scripts_open(&app->scripts, path, &app->cfg.script, err, errlen) != 0)
            goto fail;
    }
    snprintf(path, sizeof path, "%s/media", app->cfg.store_dir);
    app->media_root = realpath(path, NULL); /* resolved once: see static.h */
    if (!(flags & SOUK_APP_NO_THEME)) {
        if (souk_theme_open(&app->theme, &app->cfg, err, errlen) != 0)
            goto fail;
        if (!souk_theme_has(app->theme, "error")) {
            snprintf(err, errlen, "theme '%s': the 'error' template is missing", app->cfg.theme);
            goto fail;
        }
        souk_app_site_update(app); /* now with the site's name */
    }
    /* Without memory for it the store still works, only uncached. */
    app->respcache = souk_respcache_new(SOUK_RESPCACHE_ENTRIES, SOUK_RESPCACHE_BYTES);
    *out = app;
    return 0;
fail:
    souk_app_close(app);
    return -1;
}

int souk_app_worker_start(souk_app *app, uv_loop_t *loop, int listen_fd, char *err,
                          size_t errlen)
{
    /* The address really listened on: `serve --listen` may differ from souk.lua,
     * and port 0 means any. */
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char host[INET6_ADDRSTRLEN] = "";
    if (getsockname(listen_fd, (struct sockaddr *)&ss, &len) == 0) {
        int port = 0;
        if (ss.ss_family == AF_INET) {
            const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
            port = ntohs(a->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
            port = ntohs(a->sin6_port);
        }
        char *h = host[0] ? strdup(host) : NULL;
        if (h) {
            free(app->cfg.listen_host);
            app->cfg.listen_host = h;
            app->cfg.listen_port = port;
            souk_app_site_update(app);
        }
    }
    return souk_registry_worker_start(app->reg, loop, err, errlen);
}

void souk_app_worker_stop(souk_app *app, uv_loop_t *loop)
{
    if (app && app->reg)
        souk_registry_worker_stop(app->reg, loop);
}

static void free_handle(uv_handle_t *h) { free(h); }

void souk_app_close(souk_app *app)
{
    if (!app)
        return;
    if (app->watch) {
        uv_close((uv_handle_t *)app->watch, free_handle);
        uv_close((uv_handle_t *)app->watch_debounce, free_handle);
    }
    souk_buf_free(&app->out);
    souk_respcache_free(app->respcache);
    free(app->media_root);
    souk_router_free(app->router);
    json_decref(app->nav);
    json_decref(app->plugins_info);
    json_decref(app->plugins_loaded);
    json_decref(app->site);
    souk_theme_close(app->theme);
    souk_scripts_close(app->scripts);
    /* Plugins go before the store: their fini() may still use the database. */
    souk_plugins_unload(app->reg);
    souk_store_close(app->store);
    souk_config_free(&app->cfg);
    free(app);
}

void souk_app_reload_scripts(souk_app *app)
{
    if (!app->scripts)
        return;
    int n = souk_scripts_reload(app->scripts);
    if (n > 0) {
        souk_log(SOUK_LOG_INFO, "reloaded %d script(s)", n);
        /* Cached responses may hold what the old scripts computed (prices). */
        souk_respcache_clear(app->respcache);
    }
}

static void on_debounce(uv_timer_t *t) { souk_app_reload_scripts(t->data); }

static void on_scripts_change(uv_fs_event_t *h, const char *file, int events, int status)
{
    souk_app *app = h->data;
    uv_timer_start(app->watch_debounce, on_debounce, APP_RELOAD_DEBOUNCE_MS, 0);
}

void souk_app_watch(souk_app *app, uv_loop_t *loop)
{
    if (!app->scripts || app->watch)
        return;
    char path[4096];
    snprintf(path, sizeof path, "%s/scripts", app->cfg.store_dir);
    app->watch = calloc(1, sizeof *app->watch);
    app->watch_debounce = calloc(1, sizeof *app->watch_debounce);
    uv_fs_event_init(loop, app->watch);
    uv_timer_init(loop, app->watch_debounce);
    app->watch->data = app;
    app->watch_debounce->data = app;
    if (uv_fs_event_start(app->watch, on_scripts_change, path, 0) != 0)
        souk_log(SOUK_LOG_WARN, "cannot watch %s; scripts reload on SIGHUP only", path);
    /* The watcher must not keep a draining worker alive. */
    uv_unref((uv_handle_t *)app->watch);
    uv_unref((uv_handle_t *)app->watch_debounce);
}

souk_config *souk_app_config(souk_app *app) { return &app->cfg; }
souk_store *souk_app_store(souk_app *app) { return app->store; }
souk_registry *souk_app_registry(souk_app *app) { return app->reg; }
souk_scripts *souk_app_scripts(souk_app *app) { return app->scripts; }
const souk_host_api *souk_app_api(void) { return &souk_api_table; }
