/*
 * souk.h -- the souk plugin ABI, version 1.
 *
 * A plugin is a shared object that exports exactly one symbol, SOUK_PLUGIN_SYMBOL
 * ("souk_plugin"), a const souk_plugin_desc.  The host dlopen()s the object, checks
 * the descriptor's ABI version and signature, orders plugins by their declared
 * dependencies and calls init() with a table of host functions (souk_host_api).
 * Plugins never link against the souk binary: everything they need from the host
 * is reached through that table.
 *
 * Stability rules (the same as sqlite3ext.h):
 *   - the table only grows; new slots are appended at the end, marked with the
 *     ABI minor that added them;
 *   - api->size is sizeof(souk_host_api) as the host was built; a plugin tests a
 *     slot with SOUK_API_HAS(api, slot) before using one newer than it needs;
 *   - SOUK_ABI_VERSION changes only when an existing slot changes meaning.
 *
 * Types shared with the plugin: view models, request inputs and event payloads
 * are jansson json_t values (libjansson, Debian's libjansson-dev); database
 * statements are SQLite's sqlite3_stmt.  Both libraries are shared objects, so the
 * host and its plugins use one instance of each.
 *
 * Ownership words used below:
 *   borrowed  -- owned by the host; valid until the end of the current request
 *                (souk_ctx) unless said otherwise; do not free.
 *   arena     -- allocated from the request arena; freed with the request.
 *   yours     -- transferred to the caller, who must release it (json_decref).
 *   stolen    -- the host takes the caller's reference.
 *
 * Return codes: SOUK_OK (0) on success, SOUK_ERR (-1) on failure.  The message of a
 * failure goes into the request's error view model or the log, never into errno.
 */
#ifndef SOUK_SOUK_H
#define SOUK_SOUK_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SOUK_ABI_VERSION 1
#define SOUK_ABI_MINOR 3

#define SOUK_OK 0
#define SOUK_ERR (-1)

/* Binary-compatibility signature (after nginx's NGX_MODULE_SIGNATURE): sizes of the
 * types that cross the boundary.  A plugin built on another data model is refused
 * with one line at load instead of crashing later. */
#define SOUK_STR_(x) #x
#define SOUK_STR(x) SOUK_STR_(x)
#define SOUK_ABI_SIGNATURE                                                     \
    "souk/" SOUK_STR(SOUK_ABI_VERSION) " ptr" SOUK_STR(__SIZEOF_POINTER__)     \
    " long" SOUK_STR(__SIZEOF_LONG__) " int" SOUK_STR(__SIZEOF_INT__)   \
    " jansson" SOUK_STR(JANSSON_MAJOR_VERSION)

#define SOUK_PLUGIN_SYMBOL "souk_plugin"

#if defined(__GNUC__)
#define SOUK_EXPORT __attribute__((visibility("default")))
#define SOUK_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define SOUK_EXPORT
#define SOUK_PRINTF(f, a)
#endif

typedef struct souk_ctx souk_ctx;       /* one unit of work: a request or a command */
typedef struct souk_plugin souk_plugin; /* the host's handle for a loaded plugin */
typedef struct souk_host_api souk_host_api;

/* ---------------------------------------------------------------- descriptor */

typedef struct souk_plugin_desc {
    uint32_t abi_version;        /* SOUK_ABI_VERSION the plugin was built for */
    const char *signature;       /* SOUK_ABI_SIGNATURE */
    const char *name;            /* [a-z][a-z0-9_]*, also the prefix of its tables */
    const char *version;         /* the plugin's own version, free text ("1.2.0") */
    const char *const *depends;  /* NULL-terminated plugin names, or NULL */
    /* Called once per process after every dependency's init succeeded.  Register
     * routes, migrations, events and services here (registration is refused
     * afterwards).  Return SOUK_ERR after souk_host_api.log() to stop start-up. */
    int (*init)(souk_plugin *self, const souk_host_api *api);
    /* Called at shutdown in reverse load order.  May be NULL. */
    void (*fini)(souk_plugin *self);
} souk_plugin_desc;

/* Declare the descriptor:  SOUK_PLUGIN("hello", "1.0.0", deps, init, fini); */
/* The C name of the variable differs from the souk_plugin typedef; the asm label
 * gives the object its exported name, SOUK_PLUGIN_SYMBOL. */
#define SOUK_PLUGIN(name, version, depends, init, fini)                        \
    SOUK_EXPORT const souk_plugin_desc souk_plugin_descriptor_                 \
        __asm__(SOUK_PLUGIN_SYMBOL) = {                                        \
        SOUK_ABI_VERSION, SOUK_ABI_SIGNATURE, name, version, depends, init, fini}

/* ------------------------------------------------------------------- routes */

/* A handler does its work, fills the view model (api->view(ctx)) and sets a status
 * (200 by default).  The core then serialises the view model as JSON (paths under
 * /api/, or Accept: application/json) or renders the route's page template with it.
 * Return SOUK_OK, or SOUK_ERR after api->res_error() (the transaction of a writing
 * request is rolled back whenever the handler returns SOUK_ERR or a status >= 400). */
typedef int (*souk_handler_fn)(souk_ctx *ctx);

enum souk_route_flags {
    SOUK_ROUTE_AUTH = 1 << 0,   /* a signed-in user is required (see identity_set) */
    SOUK_ROUTE_LISTED = 1 << 1, /* a public page: listed on the theme's home page */
    SOUK_ROUTE_NO_CSRF = 1 << 2 /* a state-changing route exempt from the CSRF check
                                   (webhooks with their own signature) */
};

typedef struct souk_route {
    const char *method;   /* "GET", "POST", "PUT", "PATCH", "DELETE" */
    const char *pattern;  /* "/products/:slug"; ":name" matches one segment,
                             a trailing "*name" matches the rest of the path */
    souk_handler_fn handler;
    const char *page;     /* template name for the HTML form ("product"), or NULL
                             for a JSON-only route */
    int flags;            /* souk_route_flags */
    const char *title;    /* link text for SOUK_ROUTE_LISTED, or NULL */
} souk_route;

/* --------------------------------------------------------------- migrations */

typedef struct souk_migration {
    int version;       /* 1, 2, 3 ... strictly increasing within a plugin */
    const char *name;  /* short description, shown by `souk migrate` */
    const char *sql;   /* one or more statements, applied in one transaction */
} souk_migration;

/* ------------------------------------------------------------------- events */

/* An event handler.  For a plain event the return value is ignored unless it is
 * SOUK_ERR, which fails the emitting operation.  For a vetoable event, refuse with
 * api->event_refuse(ctx, reason) and return SOUK_ERR; return SOUK_OK to allow.
 * payload is borrowed. */
typedef int (*souk_event_fn)(souk_ctx *ctx, const char *event, json_t *payload,
                             void *udata);

/* Identity resolver (one per store, normally the auth plugin): returns the
 * signed-in user for this request as a JSON object (yours) containing at least
 * "id", or NULL for a guest. */
typedef json_t *(*souk_identity_fn)(souk_ctx *ctx);

/* A plugin command for the souk command line: `souk NAME DIR args...`.
 * argv[0] is NAME.  Return the process exit code (0 ok, 1 failure, 2 usage). */
typedef int (*souk_command_fn)(souk_ctx *ctx, int argc, char **argv);

typedef struct souk_cookie {
    int max_age;          /* seconds; 0 = session cookie; < 0 deletes the cookie */
    int http_only;        /* HttpOnly */
    const char *same_site;/* "Lax" (default when NULL), "Strict" or "None" */
    const char *path;     /* "/" when NULL */
} souk_cookie;

enum souk_log_level { SOUK_LOG_DEBUG, SOUK_LOG_INFO, SOUK_LOG_WARN, SOUK_LOG_ERROR };

/* ---------------------------------------------------------------- host API */

struct souk_host_api {
    uint32_t size;         /* sizeof(souk_host_api) as built by the host */
    uint32_t abi_version;  /* SOUK_ABI_VERSION of the host */
    uint32_t abi_minor;    /* SOUK_ABI_MINOR of the host */

    /* ---- ABI 1.0: registration.  Only valid inside init(). ---- */

    /* Add a route.  The struct is copied; the strings must stay valid for the
     * life of the plugin (string literals). */
    int (*route_add)(souk_plugin *self, const souk_route *route);
    /* Add a migration of this plugin's tables.  Migrations are recorded per plugin
     * and applied in version order, each atomically, dependencies first. */
    int (*migration_add)(souk_plugin *self, const souk_migration *migration);
    /* Subscribe to an event ("order.paid").  The same handler serves plain events
     * (event_emit) and vetoable ones (event_ask), where it may refuse. */
    int (*event_on)(souk_plugin *self, const char *event, souk_event_fn fn,
                    void *udata);
    /* Publish a service: a named, versioned table of functions ("wallet", 1).
     * vtable is borrowed for the life of the plugin. */
    int (*service_register)(souk_plugin *self, const char *name, int version,
                            const void *vtable);
    /* Look up another plugin's service.  The provider must be a declared
     * dependency of self.  NULL (and a log line) when absent. */
    const void *(*service_get)(souk_plugin *self, const char *name, int version);
    /* Become the store's identity resolver; signin_path is where pages that need a
     * signed-in user redirect to (with ?next=). */
    int (*identity_set)(souk_plugin *self, souk_identity_fn fn,
                        const char *signin_path);
    /* Add a command-line subcommand, `souk NAME DIR ...`; summary is one line for
     * `souk --help`. */
    int (*command_add)(souk_plugin *self, const char *name, const char *summary,
                       souk_command_fn fn);

    /* ---- ABI 1.0: plugin environment ---- */

    /* The plugin's settings: souk.lua's settings[<plugin name>] (borrowed, an
     * object, possibly empty). */
    json_t *(*config)(souk_plugin *self);
    /* The plugin's name, the store directory. */
    const char *(*plugin_name)(souk_plugin *self);
    const char *(*store_dir)(souk_plugin *self);
    /* Log a line tagged with the plugin's name. */
    void (*log)(souk_plugin *self, int level, const char *fmt, ...) SOUK_PRINTF(3, 4);

    /* ---- ABI 1.0: the request (all borrowed; NULL when absent or when ctx is a
     * command rather than an HTTP request) ---- */

    const char *(*req_method)(souk_ctx *ctx);
    const char *(*req_path)(souk_ctx *ctx);   /* decoded path without query */
    const char *(*req_param)(souk_ctx *ctx, const char *name);  /* route param */
    const char *(*req_query)(souk_ctx *ctx, const char *name);  /* first value */
    const char *(*req_header)(souk_ctx *ctx, const char *name); /* case-insensitive */
    const char *(*req_cookie)(souk_ctx *ctx, const char *name);
    /* The request input as an object: the url-encoded form or the JSON body
     * (whichever the Content-Type says), or an empty object.  Malformed input never
     * reaches a handler: the core has already answered 400. */
    json_t *(*req_input)(souk_ctx *ctx);
    const char *(*req_body)(souk_ctx *ctx, size_t *len); /* raw body */
    const char *(*req_ip)(souk_ctx *ctx);
    const char *(*req_id)(souk_ctx *ctx);     /* request id, also in the access log */
    const char *(*req_locale)(souk_ctx *ctx); /* "ru", "en": chosen for this request */
    int (*req_wants_json)(souk_ctx *ctx);     /* 1 for the API representation */
    /* The signed-in user (borrowed object) or NULL for a guest. */
    json_t *(*req_user)(souk_ctx *ctx);

    /* ---- ABI 1.0: the response ---- */

    /* The view model (borrowed object): fill it; the core serialises or renders. */
    json_t *(*view)(souk_ctx *ctx);
    void (*res_status)(souk_ctx *ctx, int status);
    int (*res_header)(souk_ctx *ctx, const char *name, const char *value);
    int (*res_cookie)(souk_ctx *ctx, const char *name, const char *value,
                      const souk_cookie *opts);
    /* Redirect (303 after a POST is the usual; 301, 302, 307 and 308 also).
     * location must stay on this site: a path ("/account", not "//host") or an
     * http(s) URL whose host is the request's Host; anything else (and control
     * characters, spaces, backslashes) is refused with SOUK_ERR, so that no input
     * can turn a handler into an open redirect.  A deliberate off-site redirect (a
     * payment provider's page) sets the Location header with res_header.  For the
     * API representation the view model is sent with the status and a Location
     * header instead. */
    int (*res_redirect)(souk_ctx *ctx, int status, const char *location);
    /* Fill {"error": {"code","message","field"}} with status; field may be NULL.
     * Returns SOUK_ERR so that a handler can `return api->res_error(...)`. */
    int (*res_error)(souk_ctx *ctx, int status, const char *code,
                     const char *message, const char *field);
    /* A message shown on the next page (survives the redirect). kind: "info",
     * "success", "error". */
    int (*res_flash)(souk_ctx *ctx, const char *kind, const char *message);
    /* Render another page template than the route's. */
    int (*res_page)(souk_ctx *ctx, const char *page);

    /* ---- ABI 1.0: data ---- */

    /* A prepared statement from the connection's cache, reset and with bindings
     * cleared (borrowed: do not finalize).  It stays valid until the ctx ends;
     * preparing the same SQL again while it is still being stepped gives a second,
     * independent statement.  NULL on an SQL error (logged with the SQL). */
    sqlite3_stmt *(*db_prepare)(souk_ctx *ctx, const char *sql);
    /* Run statements without results (DDL, SAVEPOINT ...). */
    int (*db_exec)(souk_ctx *ctx, const char *sql);
    /* The connection itself, for what the two above do not cover (borrowed).
     * Do not BEGIN/COMMIT: a writing request already runs in one transaction. */
    sqlite3 *(*db)(souk_ctx *ctx);

    /* ---- ABI 1.0: events ---- */

    /* Emit a plain event to every subscriber, in load order.  payload borrowed.
     * SOUK_ERR if a subscriber failed. */
    int (*event_emit)(souk_ctx *ctx, const char *event, json_t *payload);
    /* Ask a vetoable event.  SOUK_OK when every subscriber allows; SOUK_ERR when one
     * refused: *reason (borrowed) is its message, *by its plugin's name. */
    int (*event_ask)(souk_ctx *ctx, const char *event, json_t *payload,
                     const char **reason, const char **by);
    /* From a vetoable event handler: refuse, with a reason a person can read. */
    int (*event_refuse)(souk_ctx *ctx, const char *reason);

    /* ---- ABI 1.0: merchant scripts (STORE_DIR/scripts/<script>.lua) ---- */

    /* Call function fn of script with args (a JSON array, borrowed; each element
     * becomes one Lua argument as a plain table/value).  On success *result is the
     * first return value converted to JSON (yours).  On failure (missing script or
     * function, runtime error, instruction budget, memory ceiling, a return value
     * that is not plain data) returns SOUK_ERR and *error (arena) says what, with
     * script name and line. */
    int (*script_call)(souk_ctx *ctx, const char *script, const char *fn,
                       json_t *args, json_t **result, const char **error);

    /* ---- ABI 1.0: crypto (libsodium) ---- */

    /* nbytes random bytes as lowercase hex into out (2*nbytes+1 bytes). */
    void (*random_hex)(char *out, size_t nbytes);
    /* Uniform random integer in [0, upper). */
    uint32_t (*random_uniform)(uint32_t upper);
    /* Uniform random decimal code of digits (1..18) characters into out
     * (digits+1 bytes). */
    void (*random_code)(char *out, int digits);
    /* Keyed hash (BLAKE2b, the store key + purpose as context) of data as hex into
     * out (65 bytes).  Store tokens and codes only in this form. */
    void (*keyed_hash)(const char *purpose, const void *data, size_t len, char *out);
    /* Constant-time equality of two buffers of length len: 1 equal, 0 not. */
    int (*equal_ct)(const void *a, const void *b, size_t len);
    /* Encrypt (secretbox, store key) into base64 text (yours: free with
     * api->free).  NULL on failure. */
    char *(*seal)(const void *plain, size_t len);
    /* Decrypt what seal produced; *len gets the size.  Yours (api->free); NULL when
     * the text is not authentic. */
    void *(*unseal)(const char *sealed, size_t *len);
    void (*free)(void *p);

    /* ---- ABI 1.0: time and memory ---- */

    /* Unix time in milliseconds from the store clock (injectable in tests). */
    int64_t (*now_ms)(souk_ctx *ctx);
    /* Request arena allocation: freed when the ctx ends.  Never NULL. */
    void *(*alloc)(souk_ctx *ctx, size_t size);
    /* Copies into the arena.  (Not named strdup/sprintf: fortified C libraries may
     * define those as macros, which would break api->dup(...).) */
    char *(*dup)(souk_ctx *ctx, const char *s);
    char *(*format)(souk_ctx *ctx, const char *fmt, ...) SOUK_PRINTF(2, 3);

    /* ---- ABI 1.1 ---- */

    /* Run fn on every database connection the store opens (each worker's, each
     * command's), before migrations and before any request: the place to register
     * SQLite functions, collations and FTS5 tokenizers that the plugin's tables
     * need.  Only inside init().  fn returns SOUK_OK, or SOUK_ERR (after logging)
     * to stop start-up.  udata is borrowed for the life of the plugin. */
    int (*db_on_open)(souk_plugin *self, int (*fn)(sqlite3 *db, void *udata), void *udata);

    /* ---- ABI 1.2 ---- */

    /* Declare this response reusable: for up to max_age_ms it may be served again,
     * without calling the handler, to any guest making the same request (GET or
     * HEAD, same path and query string, same representation and locale), as long
     * as the database has not changed.  Call it only when the view depends on
     * nothing but the request's path, query, locale and the database -- never on
     * cookies, other headers, the client's address or a random choice.  Pages get
     * each visitor's own CSRF token even when cached.  The core stores the
     * response only if it ends as a plain 200 (no redirect, no flash message, no
     * header or cookie set by the handler).  SOUK_OK, or SOUK_ERR when this request
     * cannot be cached (not GET/HEAD, a signed-in user, a status other than 200,
     * max_age_ms <= 0, a command). */
    int (*res_cache)(souk_ctx *ctx, int64_t max_age_ms);

    /* ---- ABI 1.3 ---- */

    /* Facts about the store for messages and links, borrowed for the life of the
     * plugin: {"url": the store's public address without a trailing slash
     * (souk.lua public_url, else http://HOST:PORT), "name": the site name (the
     * theme's site_name in the default locale; "souk" until the theme is open,
     * that is during init()), "dev":
     * dev mode, "https": served behind TLS, "locale": the default locale,
     * "locales": ["ru", "en"]}. */
    json_t *(*site)(souk_plugin *self);
    /* Background work in the worker processes.  Only inside init().  start runs in
     * every worker once it serves, with the worker's libuv loop (a uv_loop_t *; the
     * plugin links libuv itself); SOUK_ERR (after logging) stops the worker.  stop
     * runs once when the worker begins to stop (or NULL): uv_close() every handle
     * start opened; the loop runs their close callbacks before it ends.  Work cut
     * short by a stop or a crash must be safe for a later worker to redo.  Neither
     * runs in command-line processes. */
    int (*worker_hooks)(souk_plugin *self,
                        int (*start)(souk_plugin *self, void *loop, void *udata),
                        void (*stop)(souk_plugin *self, void *loop, void *udata),
                        void *udata);
    /* Run fn outside any request: from a timer or other libuv callback in a
     * worker, or from a command.  fn gets a fresh ctx with the database, an arena,
     * now_ms, render, script_call and events, and no request or response.  With
     * write set, fn runs in one BEGIN IMMEDIATE transaction, committed when it
     * returns SOUK_OK and rolled back otherwise.  Returns fn's result, or SOUK_ERR
     * (logged) when the transaction could not begin or commit.  Never call it from
     * inside a request handler or another job: use on_done there. */
    int (*job_run)(souk_plugin *self, int write, int (*fn)(souk_ctx *ctx, void *udata),
                   void *udata);
    /* Call fn when the ctx's transaction has ended, before the ctx is freed:
     * committed is 1 when its changes are durable (or it had none to make), 0 when
     * they were rolled back.  For a request this is after the handler's
     * transaction, before the response is sent; for a job after its commit; for a
     * command when it ends.  Calls run in registration order; fn may use job_run. */
    int (*on_done)(souk_ctx *ctx, void (*fn)(souk_ctx *ctx, int committed, void *udata),
                   void *udata);
    /* Render the theme's template name (e.g. "message.auth_code.sms.ru") with data
     * (borrowed) as the top frame over a frame holding "site" (as api->site plus
     * "locale") and "t" (the strings of locale; NULL = the store's default).  For
     * messages and other text that is not the response: arena text, or NULL with
     * *error (arena) naming the template and the problem. */
    const char *(*render)(souk_ctx *ctx, const char *name, const char *locale, json_t *data,
                          const char **error);
    /* Whether the theme (with the store's overrides) has a template named name. */
    int (*template_exists)(souk_ctx *ctx, const char *name);

    /* Commit the request's changes even though it answers with an error status:
     * for a failed attempt that must be counted (a wrong one-time code) while the
     * answer is still 422.  SOUK_ERR when the ctx is not a writing request. */
    int (*commit_on_error)(souk_ctx *ctx);
    /* Whether the store's script (STORE_DIR/scripts/<script>.lua, as loaded now)
     * defines function fn in its module: for optional hooks of a merchant script.
     * Asking runs none of the script's code.  1 or 0. */
    int (*script_has)(souk_ctx *ctx, const char *script, const char *fn);

    /* New slots are appended here, each marked with the ABI minor that added it. */
};

/* Whether the host's table has a given slot (for slots newer than 1.0). */
#define SOUK_API_HAS(api, slot)                                                \
    ((api)->size >= offsetof(souk_host_api, slot) + sizeof((api)->slot) &&     \
     (api)->slot != NULL)

#ifdef __cplusplus
}
#endif
#endif /* SOUK_SOUK_H */
