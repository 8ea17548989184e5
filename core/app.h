/* app.h -- one store, opened in one process: configuration, database, plugins,
 * scripts, theme and router, and the request dispatcher that turns a souk_request
 * into a souk_response (routing, CSRF, identity, transaction, handler, JSON or page
 * rendering).  A worker opens one app; CLI commands open one without serving. */
#ifndef SOUK_APP_H
#define SOUK_APP_H

#include "config.h"
#include "http.h"
#include "plugin.h"
#include "script.h"
#include "store.h"

#include <stdio.h>
#include <uv.h>

typedef struct souk_app souk_app;

enum souk_app_flags {
    SOUK_APP_MIGRATE = 1 << 0,    /* apply pending migrations while opening */
    SOUK_APP_NO_SCRIPTS = 1 << 1, /* do not load merchant scripts */
    SOUK_APP_NO_THEME = 1 << 2    /* do not load templates */
};

/* Open the store at dir.  -1 with one line in err naming what failed. */
int souk_app_open(souk_app **out, const char *dir, int flags, char *err, size_t errlen);
void souk_app_close(souk_app *app);

/* The server's request callback. */
void souk_app_handle(souk_app *app, souk_request *req, souk_response *res);
/* Watch scripts for changes on loop (hot reload). */
void souk_app_watch(souk_app *app, uv_loop_t *loop);
/* In a worker, once it serves on listen_fd: learn the real port (listen = port 0)
 * for api->site, then start the plugins' background work on loop (-1 with err).
 * Stop runs their stop hooks, once. */
int souk_app_worker_start(souk_app *app, uv_loop_t *loop, int listen_fd, char *err,
                          size_t errlen);
void souk_app_worker_stop(souk_app *app, uv_loop_t *loop);
/* Reload scripts (and keep the old ones when the new ones fail). */
void souk_app_reload_scripts(souk_app *app);

souk_config *souk_app_config(souk_app *app);
souk_store *souk_app_store(souk_app *app);
souk_registry *souk_app_registry(souk_app *app);
souk_scripts *souk_app_scripts(souk_app *app);
const souk_host_api *souk_app_api(void);

#endif
