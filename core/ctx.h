/* ctx.h -- souk_ctx, the unit of work handed to plugins: an HTTP request or a
 * command-line run.  Owns the arena, the view model and the request's parsed
 * inputs.  Defined here for the core; opaque to plugins. */
#ifndef SOUK_CTX_H
#define SOUK_CTX_H

#include "arena.h"
#include "http.h"

#include <jansson.h>
#include <souk/souk.h>

struct souk_app;

struct souk_ctx {
    struct souk_app *app;
    souk_arena *arena;
    souk_request *req;   /* NULL for a command */
    souk_response *res;  /* NULL for a command */
    json_t *view;        /* view model (owned) */
    int status;
    const char *page;    /* template to render */
    const char *redirect;
    json_t *params;      /* route parameters (owned) */
    json_t *query;       /* parsed query (owned, lazily) */
    json_t *input;       /* parsed form or JSON body (owned) */
    json_t *cookies;     /* parsed cookies (owned, lazily) */
    json_t *user;        /* identity (owned) */
    int user_resolved;
    json_t *flash;       /* flash messages to set (owned) */
    const char *locale;
    int wants_json;
    const char *refusal; /* set by api->event_refuse */
    int core_error;      /* the error in the view was raised by the core */
    int64_t cache_ms;    /* set by api->res_cache: the response may be reused */
    int cache_store;     /* the response is being rendered for the cache: pages
                            get the CSRF placeholder, replaced afterwards */
};

/* Set up a ctx for a command (no request) or reset one. */
void souk_ctx_init(souk_ctx *ctx, struct souk_app *app, souk_arena *arena);
void souk_ctx_dispose(souk_ctx *ctx);
/* Take the refusal a vetoing handler left (and clear it). */
const char *souk_ctx_refusal(souk_ctx *ctx);

#endif
