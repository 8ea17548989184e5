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

/* A callback waiting for the end of the ctx's transaction (api->on_done). */
typedef struct souk_done {
    void (*fn)(souk_ctx *ctx, int committed, void *udata);
    void *udata;
    struct souk_done *next;
} souk_done;

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
    int write;           /* a writing request or job: its transaction may commit */
    int commit_on_error; /* set by api->commit_on_error */
    int in_job;          /* the ctx of api->job_run */
    souk_done *done, **done_tail; /* api->on_done callbacks (arena), in order */
};

/* Set up a ctx for a command (no request) or reset one. */
void souk_ctx_init(souk_ctx *ctx, struct souk_app *app, souk_arena *arena);
void souk_ctx_dispose(souk_ctx *ctx);
/* Run (and forget) the on_done callbacks: committed says whether the ctx's
 * changes are durable.  souk_ctx_dispose runs any still waiting with 1 (a
 * command's work has no transaction of the core's). */
void souk_ctx_run_done(souk_ctx *ctx, int committed);
/* Take the refusal a vetoing handler left (and clear it). */
const char *souk_ctx_refusal(souk_ctx *ctx);

#endif
