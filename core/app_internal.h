/* app_internal.h -- the souk_app structure, shared by app.c (open/close), dispatch.c
 * (the request path), api.c (the host API) and the CLI.  Not for plugins. */
#ifndef SOUK_APP_INTERNAL_H
#define SOUK_APP_INTERNAL_H

#include "app.h"
#include "ctx.h"
#include "buf.h"
#include "respcache.h"
#include "router.h"
#include "theme.h"

#include <uv.h>

struct souk_app {
    souk_config cfg;
    souk_store *store;
    souk_registry *reg;
    souk_scripts *scripts;     /* NULL with SOUK_APP_NO_SCRIPTS */
    souk_theme *theme;         /* NULL with SOUK_APP_NO_THEME */
    souk_router *router;
    json_t *nav;               /* [{title, href}] of SOUK_ROUTE_LISTED routes */
    json_t *plugins_info;      /* [{name, version}] */
    json_t *plugins_loaded;    /* {name: true}: {{#loaded.favourites}} in templates */
    uv_fs_event_t *watch;      /* scripts directory watcher, or NULL */
    uv_timer_t *watch_debounce;
    int migrations_applied;    /* by souk_app_open */
    char *media_root;          /* realpath of STORE_DIR/media, or NULL when absent */
    souk_buf out;              /* response bodies are built here, then copied into
                                  the request arena: its capacity is reused */
    souk_respcache *respcache; /* this process's cached responses, or NULL */
    json_t *site;              /* what api->site returns (souk_app_site_update) */
};

/* ABI 1.3 slots (api_more.c). */
json_t *souk_api_site(souk_plugin *self);
int souk_api_on_done(souk_ctx *ctx, void (*fn)(souk_ctx *ctx, int committed, void *udata),
                     void *udata);
int souk_api_commit_on_error(souk_ctx *ctx);
int souk_api_job_run(souk_plugin *self, int write, int (*fn)(souk_ctx *ctx, void *udata),
                     void *udata);
const char *souk_api_render(souk_ctx *ctx, const char *name, const char *locale, json_t *data,
                            const char **error);
int souk_api_template_exists(souk_ctx *ctx, const char *name);
/* (Re)build app->site from the configuration (after the listening port is known). */
void souk_app_site_update(souk_app *app);

/* The host API table (api.c). */
extern const souk_host_api souk_api_table;

/* Fill ctx->view with {"error": {...}} and set the status (dispatch.c, api.c). */
int souk_ctx_error(souk_ctx *ctx, int status, const char *code, const char *message,
                   const char *field);
/* Add a Set-Cookie header honouring the store's https setting. */
void souk_ctx_set_cookie(souk_ctx *ctx, const char *name, const char *value,
                         const souk_cookie *opts);

#endif
