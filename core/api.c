/* api.c -- the host API table handed to every plugin (souk.h).  Registration slots
 * live in plugin.c; everything that works on a souk_ctx lives here. */
#include "app_internal.h"

#include "clock.h"
#include "crypto.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The final statuses a handler may set (1xx are interim; nothing above 5xx). */
#define API_STATUS_MIN 200
#define API_STATUS_MAX 599

json_t *souk_ctx_user(souk_ctx *ctx);

/* ------------------------------------------------------------ request */

static const char *req_method(souk_ctx *ctx) { return ctx->req ? ctx->req->method : NULL; }
static const char *req_path(souk_ctx *ctx) { return ctx->req ? ctx->req->path : NULL; }

static const char *first_string(json_t *obj, const char *name)
{
    json_t *v = json_object_get(obj, name);
    if (json_is_array(v))
        v = json_array_get(v, 0);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static const char *req_param(souk_ctx *ctx, const char *name) { return first_string(ctx->params, name); }
static const char *req_query(souk_ctx *ctx, const char *name) { return first_string(ctx->query, name); }
static const char *req_cookie(souk_ctx *ctx, const char *name) { return first_string(ctx->cookies, name); }

static const char *req_header(souk_ctx *ctx, const char *name)
{
    return ctx->req ? souk_request_header(ctx->req, name) : NULL;
}

static json_t *req_input(souk_ctx *ctx)
{
    if (!ctx->input)
        ctx->input = json_object();
    return ctx->input;
}

static const char *req_body(souk_ctx *ctx, size_t *len)
{
    if (len)
        *len = ctx->req ? ctx->req->body_len : 0;
    return ctx->req ? ctx->req->body : NULL;
}

static const char *req_ip(souk_ctx *ctx) { return ctx->req ? ctx->req->ip : NULL; }
static const char *req_id(souk_ctx *ctx) { return ctx->req ? ctx->req->id : NULL; }
static const char *req_locale(souk_ctx *ctx) { return ctx->locale; }
static int req_wants_json(souk_ctx *ctx) { return ctx->wants_json; }
static json_t *req_user(souk_ctx *ctx) { return souk_ctx_user(ctx); }

/* ----------------------------------------------------------- response */

static json_t *view(souk_ctx *ctx) { return ctx->view; }

/* The dispatcher decides whether the response is actually kept (respcache.h);
 * here only what the handler can be told at once is refused. */
static int res_cache(souk_ctx *ctx, int64_t max_age_ms)
{
    if (!ctx->req || !ctx->res || max_age_ms <= 0 || ctx->status != 200)
        return SOUK_ERR;
    if (strcmp(ctx->req->method, "GET") != 0 && strcmp(ctx->req->method, "HEAD") != 0)
        return SOUK_ERR;
    if (souk_ctx_user(ctx))
        return SOUK_ERR;
    ctx->cache_ms = max_age_ms;
    return SOUK_OK;
}
/* A final status (RFC 9110 section 15): an interim 1xx or a number outside the
 * classes would break the framing of the response.  Such a status becomes 500, so
 * that the request's transaction is rolled back too. */
static void res_status(souk_ctx *ctx, int status)
{
    if (status < API_STATUS_MIN || status > API_STATUS_MAX) {
        souk_log(SOUK_LOG_ERROR, "res_status(%d): not a final HTTP status; answering 500",
                 status);
        status = 500;
    }
    ctx->status = status;
}

static int res_header(souk_ctx *ctx, const char *name, const char *value)
{
    if (!ctx->res || !name || !value || !souk_http_header_valid(name, value))
        return SOUK_ERR;
    souk_response_header(ctx->res, ctx->arena, name, value);
    return SOUK_OK;
}

static int is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* A cookie name is an RFC 6265 token; its value must not need quoting. */
static int cookie_ok(const char *name, const char *value)
{
    if (!name || !*name)
        return 0;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (!is_tchar(*p))
            return 0;
    for (const unsigned char *p = (const unsigned char *)(value ? value : ""); *p; p++)
        if (*p <= 0x20 || *p == '"' || *p == ',' || *p == ';' || *p == '\\' || *p >= 0x7f)
            return 0;
    return 1;
}

/* The attributes a plugin chose must stay attributes: a ';' in the path would add
 * others ("/; Domain=example.com").  SameSite=None and the __Secure- and __Host-
 * name prefixes only work with Secure, which the core adds when the store is
 * served over TLS (https); a browser silently drops such a cookie otherwise, so it
 * is refused here where the plugin can see it.  __Host- also needs Path=/. */
static int cookie_opts_ok(souk_ctx *ctx, const char *name, const souk_cookie *o)
{
    int https = ctx->app && ctx->app->cfg.https;
    const char *path = o && o->path ? o->path : "/";
    const char *same_site = o && o->same_site ? o->same_site : "Lax";
    if (path[0] != '/')
        return 0;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++)
        if (*p < 0x20 || *p == ';' || *p >= 0x7f)
            return 0;
    if (strcmp(same_site, "Lax") != 0 && strcmp(same_site, "Strict") != 0 &&
        strcmp(same_site, "None") != 0)
        return 0;
    if (strcmp(same_site, "None") == 0 && !https)
        return 0;
    if (strncasecmp(name, "__Secure-", 9) == 0 && !https)
        return 0;
    if (strncasecmp(name, "__Host-", 7) == 0 && (!https || strcmp(path, "/") != 0))
        return 0;
    return 1;
}

static int res_cookie(souk_ctx *ctx, const char *name, const char *value, const souk_cookie *o)
{
    if (!ctx->res || !cookie_ok(name, value) || !cookie_opts_ok(ctx, name, o)) {
        souk_log(SOUK_LOG_WARN, "res_cookie: cookie '%s' refused (name, value or attributes)",
                 name && cookie_ok(name, NULL) ? name : "?");
        return SOUK_ERR;
    }
    souk_ctx_set_cookie(ctx, name, value, o);
    return SOUK_OK;
}

/* Where res_redirect may send a client: a path on this site ("/orders/7"), or an
 * absolute http(s) URL whose authority is the request's own Host.  Refused: other
 * hosts, protocol-relative "//host" and "/\\host" (browsers read both as another
 * host), other schemes ("javascript:"), relative references, and any space,
 * control character or backslash (browsers drop tabs and newlines from URLs,
 * turning "/\t/host" into "//host").  Plugins that redirect to a ?next= parameter
 * therefore cannot become open redirects; a plugin that means to send the client to
 * another site (a payment page) sets Location itself with res_header. */
static int location_ok(souk_ctx *ctx, const char *loc)
{
    for (const unsigned char *p = (const unsigned char *)loc; *p; p++)
        if (*p <= ' ' || *p == 0x7F || *p == '\\')
            return 0;
    if (loc[0] == '/')
        return loc[1] != '/';
    const char *rest = NULL;
    if (strncasecmp(loc, "https://", 8) == 0)
        rest = loc + 8;
    else if (strncasecmp(loc, "http://", 7) == 0)
        rest = loc + 7;
    const char *host = ctx->req ? souk_request_header(ctx->req, "Host") : NULL;
    if (!rest || !host || !*host)
        return 0;
    size_t hn = strlen(host);
    return strncasecmp(rest, host, hn) == 0 &&
           (rest[hn] == '\0' || rest[hn] == '/' || rest[hn] == '?' || rest[hn] == '#');
}

/* Redirect statuses that carry a Location (RFC 9110 section 15.4). */
static int redirect_status(int status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

static int res_redirect(souk_ctx *ctx, int status, const char *location)
{
    if (!location || !redirect_status(status) || !location_ok(ctx, location)) {
        souk_log(SOUK_LOG_WARN, "res_redirect(%d): location refused (not this site, or not "
                 "a valid URL)", status);
        return SOUK_ERR;
    }
    ctx->status = status;
    ctx->redirect = souk_arena_strdup(ctx->arena, location);
    return SOUK_OK;
}

static int res_error(souk_ctx *ctx, int status, const char *code, const char *message,
                     const char *field)
{
    return souk_ctx_error(ctx, status, code, message, field);
}

static int res_flash(souk_ctx *ctx, const char *kind, const char *message)
{
    if (!kind || !message)
        return SOUK_ERR;
    json_array_append_new(ctx->flash, json_pack("{s:s, s:s}", "kind", kind, "message", message));
    return SOUK_OK;
}

static int res_page(souk_ctx *ctx, const char *page)
{
    if (!page)
        return SOUK_ERR;
    ctx->page = souk_arena_strdup(ctx->arena, page);
    return SOUK_OK;
}

/* --------------------------------------------------------------- data */

static sqlite3_stmt *db_prepare(souk_ctx *ctx, const char *sql)
{
    return souk_store_prepare(ctx->app->store, sql);
}

static int db_exec(souk_ctx *ctx, const char *sql)
{
    char err[512];
    if (souk_store_exec(ctx->app->store, sql, err, sizeof err) != 0) {
        souk_log(SOUK_LOG_ERROR, "SQL failed: %s", err);
        return SOUK_ERR;
    }
    return SOUK_OK;
}

static sqlite3 *db(souk_ctx *ctx) { return souk_store_db(ctx->app->store); }

/* ------------------------------------------------------------- events */

static int event_emit(souk_ctx *ctx, const char *event, json_t *payload)
{
    return souk_registry_emit(ctx->app->reg, ctx, event, payload, 0, NULL, NULL);
}

static int event_ask(souk_ctx *ctx, const char *event, json_t *payload, const char **reason,
                     const char **by)
{
    return souk_registry_emit(ctx->app->reg, ctx, event, payload, 1, reason, by);
}

static int event_refuse(souk_ctx *ctx, const char *reason)
{
    ctx->refusal = souk_arena_strdup(ctx->arena, reason ? reason : "refused");
    return SOUK_ERR;
}

/* ------------------------------------------------------------ scripts */

static int script_call(souk_ctx *ctx, const char *script, const char *fn, json_t *args,
                       json_t **result, const char **error)
{
    char err[1024];
    *result = NULL;
    if (!ctx->app->scripts) {
        snprintf(err, sizeof err, "%s.lua: scripts are not loaded", script);
    } else if (souk_scripts_call(ctx->app->scripts, script, fn, args, result, err,
                                 sizeof err) == 0) {
        return SOUK_OK;
    }
    souk_log(SOUK_LOG_ERROR, "script %s.%s: %s", script, fn, err);
    if (error)
        *error = souk_arena_strdup(ctx->arena, err);
    return SOUK_ERR;
}

static int script_has(souk_ctx *ctx, const char *script, const char *fn)
{
    return ctx && ctx->app && souk_scripts_has_function(ctx->app->scripts, script, fn);
}

/* -------------------------------------------------------- time, memory */

static int64_t now_ms(souk_ctx *ctx) { return souk_clock_now_ms(); }
static void *api_alloc(souk_ctx *ctx, size_t size) { return souk_arena_alloc(ctx->arena, size); }
static char *api_strdup(souk_ctx *ctx, const char *s) { return souk_arena_strdup(ctx->arena, s); }

static char *api_sprintf(souk_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = souk_arena_vprintf(ctx->arena, fmt, ap);
    va_end(ap);
    return s;
}

static void api_free(void *p) { free(p); }

const souk_host_api souk_api_table = {
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

    .req_method = req_method,
    .req_path = req_path,
    .req_param = req_param,
    .req_query = req_query,
    .req_header = req_header,
    .req_cookie = req_cookie,
    .req_input = req_input,
    .req_body = req_body,
    .req_ip = req_ip,
    .req_id = req_id,
    .req_locale = req_locale,
    .req_wants_json = req_wants_json,
    .req_user = req_user,

    .view = view,
    .res_status = res_status,
    .res_header = res_header,
    .res_cookie = res_cookie,
    .res_redirect = res_redirect,
    .res_error = res_error,
    .res_flash = res_flash,
    .res_page = res_page,

    .db_prepare = db_prepare,
    .db_exec = db_exec,
    .db = db,

    .event_emit = event_emit,
    .event_ask = event_ask,
    .event_refuse = event_refuse,

    .script_call = script_call,

    .random_hex = souk_random_hex,
    .random_uniform = souk_random_uniform,
    .random_code = souk_random_code,
    .keyed_hash = souk_keyed_hash,
    .equal_ct = souk_equal_ct,
    .seal = souk_seal,
    .unseal = souk_unseal,
    .free = api_free,

    .now_ms = now_ms,
    .alloc = api_alloc,
    .dup = api_strdup,
    .format = api_sprintf,

    .db_on_open = souk_plugin_db_on_open,
    .res_cache = res_cache,

    .site = souk_api_site,
    .worker_hooks = souk_plugin_worker_hooks,
    .job_run = souk_api_job_run,
    .on_done = souk_api_on_done,
    .render = souk_api_render,
    .template_exists = souk_api_template_exists,
    .commit_on_error = souk_api_commit_on_error,
    .script_has = script_has,
};
