/* dispatch.c -- the request path of an app (souk_app_handle):
 *
 *   core routes (/healthz, /metrics, /static/...)  ->  router (404/405)
 *   -> inputs (query, cookies, locale, form/JSON body; 400/415 on bad input)
 *   -> CSRF check for state-changing requests -> identity (401 / sign-in redirect)
 *   -> transaction -> handler -> commit or rollback
 *   -> the view model as JSON, or rendered with the route's page template.
 *
 * One handler, two representations: handlers never produce bytes themselves. */
#define _GNU_SOURCE /* memmem */
#include "app_internal.h"

#include "clock.h"
#include "crypto.h"
#include "log.h"
#include "metrics.h"
#include "static.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define CSRF_COOKIE "souk_csrf"
#define CSRF_COOKIE_SECURE "__Host-souk_csrf"
#define CSRF_FIELD "_csrf"
#define CSRF_TOKEN_BYTES 16
#define FLASH_COOKIE "souk_flash"
#define FLASH_COOKIE_SECURE "__Host-souk_flash"
#define FLASH_MAX_BYTES 2048
#define LANG_COOKIE "souk_lang"
#define LANG_COOKIE_MAX_AGE (365 * 24 * 3600)
#define STATIC_PREFIX "/static/"
#define MEDIA_PREFIX "/media/" /* files of the store: STORE_DIR/media/ */
#define OUT_KEEP_BYTES (1u << 20) /* largest output buffer kept between requests */
#define ACCEPT_Q_ONE 1000         /* q-values are compared in thousandths */
/* A page rendered for the response cache carries this in place of the visitor's
 * CSRF token; every copy served replaces it with the requester's own.  As long as
 * a real token (2 * CSRF_TOKEN_BYTES hex digits), and never hex itself. */
#define CSRF_PLACEHOLDER "@@souk-csrf-placeholder-000000@@"
_Static_assert(sizeof CSRF_PLACEHOLDER - 1 == CSRF_TOKEN_BYTES * 2,
               "the CSRF placeholder must be as long as a token");

/* Behind TLS the core's cookies carry the __Host- prefix: a browser then only
 * accepts them from this very host, over TLS, for Path=/, so that a sibling
 * subdomain cannot plant a CSRF token of its choosing or a message of its own. */
static const char *csrf_cookie_name(const souk_ctx *ctx)
{
    return ctx->app->cfg.https ? CSRF_COOKIE_SECURE : CSRF_COOKIE;
}

static const char *flash_cookie_name(const souk_ctx *ctx)
{
    return ctx->app->cfg.https ? FLASH_COOKIE_SECURE : FLASH_COOKIE;
}

static int is_safe_method(const char *m)
{
    return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 || strcmp(m, "OPTIONS") == 0;
}

static const char *error_code_for(int status)
{
    switch (status) {
    case 400: return "bad_request";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "not_found";
    case 405: return "method_not_allowed";
    case 409: return "conflict";
    case 413: return "payload_too_large";
    case 415: return "unsupported_media_type";
    case 422: return "invalid";
    case 429: return "too_many_requests";
    case 503: return "unavailable";
    default: return status >= 500 ? "internal" : "error";
    }
}

int souk_ctx_error(souk_ctx *ctx, int status, const char *code, const char *message,
                   const char *field)
{
    json_t *e = json_object();
    json_object_set_new(e, "code", json_string(code ? code : error_code_for(status)));
    json_object_set_new(e, "message", json_string(message ? message : souk_http_reason(status)));
    json_object_set_new(e, "field", field ? json_string(field) : json_null());
    json_object_set_new(ctx->view, "error", e);
    ctx->status = status;
    return SOUK_ERR;
}

/* An error the core itself raises (not a plugin's): its message may be replaced by
 * the theme's translation (errors.messages.<code>) on pages. */
static int core_error(souk_ctx *ctx, int status, const char *code, const char *message,
                      const char *field)
{
    ctx->core_error = 1;
    return souk_ctx_error(ctx, status, code, message, field);
}

void souk_ctx_set_cookie(souk_ctx *ctx, const char *name, const char *value,
                         const souk_cookie *opts)
{
    if (!ctx->res)
        return;
    souk_cookie def = {0, 1, "Lax", "/"};
    if (!opts)
        opts = &def;
    char max_age[sizeof "; Max-Age=-2147483648"] = "";
    if (opts->max_age > 0)
        snprintf(max_age, sizeof max_age, "; Max-Age=%d", opts->max_age);
    else if (opts->max_age < 0)
        snprintf(max_age, sizeof max_age, "; Max-Age=0");
    /* Built in the arena: a value of any length fits whole. */
    const char *line = souk_arena_printf(
        ctx->arena, "%s=%s; Path=%s; SameSite=%s%s%s%s", name, value ? value : "",
        opts->path ? opts->path : "/", opts->same_site ? opts->same_site : "Lax", max_age,
        opts->http_only ? "; HttpOnly" : "", ctx->app->cfg.https ? "; Secure" : "");
    souk_response_header(ctx->res, ctx->arena, "Set-Cookie", line);
}

/* ------------------------------------------------------------------ inputs */

static const char *cookie(souk_ctx *ctx, const char *name)
{
    json_t *v = json_object_get(ctx->cookies, name);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int media_type_is(const char *ct, const char *type)
{
    size_t n = strlen(type);
    return ct && strncasecmp(ct, type, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* Parse query, cookies and body into the ctx.  Returns 0 or an error status with
 * the error view filled. */
static int parse_inputs(souk_ctx *ctx)
{
    souk_request *req = ctx->req;
    char err[256];
    ctx->query = json_object();
    if (souk_parse_urlencoded(ctx->arena, req->query, strlen(req->query), ctx->query, err,
                              sizeof err) != 0)
        return core_error(ctx, 400, "bad_query", err, NULL), 400;
    ctx->cookies = json_object();
    const char *ch = souk_request_header(req, "Cookie");
    if (ch && souk_parse_cookies(ch, ctx->cookies, err, sizeof err) != 0)
        return core_error(ctx, 400, "bad_cookie", err, NULL), 400;
    ctx->input = json_object();
    if (req->body_len == 0)
        return 0;
    const char *ct = souk_request_header(req, "Content-Type");
    if (media_type_is(ct, "application/x-www-form-urlencoded")) {
        if (souk_parse_urlencoded(ctx->arena, req->body, req->body_len, ctx->input, err,
                                  sizeof err) != 0)
            return core_error(ctx, 400, "bad_form", err, NULL), 400;
    } else if (media_type_is(ct, "application/json")) {
        json_error_t je;
        json_t *v = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &je);
        if (!v) {
            snprintf(err, sizeof err, "malformed JSON body at line %d, column %d: %s", je.line,
                     je.column, je.text);
            return core_error(ctx, 400, "bad_json", err, NULL), 400;
        }
        if (!json_is_object(v)) {
            json_decref(v);
            return core_error(ctx, 400, "bad_json", "the JSON body must be an object", NULL),
                   400;
        }
        json_decref(ctx->input);
        ctx->input = v;
    } else {
        snprintf(err, sizeof err, "unsupported Content-Type '%s': send "
                 "application/x-www-form-urlencoded or application/json", ct ? ct : "(none)");
        return core_error(ctx, 415, NULL, err, NULL), 415;
    }
    return 0;
}

static int locale_supported(const souk_config *cfg, const char *lang)
{
    for (char **l = cfg->locales; l && *l; l++)
        if (strcmp(*l, lang) == 0)
            return 1;
    return 0;
}

static void choose_locale(souk_ctx *ctx)
{
    const souk_config *cfg = &ctx->app->cfg;
    json_t *q = json_object_get(ctx->query, "lang");
    const char *lang = json_is_string(q) ? json_string_value(q) : NULL;
    if (lang && locale_supported(cfg, lang)) {
        souk_cookie c = {LANG_COOKIE_MAX_AGE, 1, "Lax", "/"};
        souk_ctx_set_cookie(ctx, LANG_COOKIE, lang, &c);
        ctx->locale = lang;
        return;
    }
    lang = cookie(ctx, LANG_COOKIE);
    if (lang && locale_supported(cfg, lang)) {
        ctx->locale = lang;
        return;
    }
    lang = souk_pick_locale(souk_request_header(ctx->req, "Accept-Language"), cfg->locales);
    ctx->locale = lang ? lang : cfg->locale;
}

/* A qvalue ("0.5", "1", "1.000") in thousandths; 0 when malformed (RFC 9110
 * section 12.4.2). */
static int qvalue_parse(const char *s, size_t n)
{
    if (n == 0 || (s[0] != '0' && s[0] != '1') || (n > 1 && s[1] != '.') || n > 5)
        return 0;
    int q = (s[0] - '0') * ACCEPT_Q_ONE;
    for (size_t i = 2, scale = ACCEPT_Q_ONE / 10; i < n; i++, scale /= 10) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        q += (s[i] - '0') * (int)scale;
    }
    return q > ACCEPT_Q_ONE ? 0 : q;
}

/* The q (thousandths) of the media range `type` in an Accept header, or -1 when
 * that exact range is not listed.  Wildcards do not count: a browser's "* / *"
 * must not turn its pages into JSON.  Parameters other than q are ignored. */
static int accept_q(const char *accept, const char *type)
{
    size_t tn = strlen(type);
    int best = -1;
    for (const char *p = accept; *p;) {
        size_t n = strcspn(p, ",");  /* the element: p[0..n) */
        size_t m = strcspn(p, ",;"); /* its media range: p[0..m), then ";param"s */
        size_t b = 0, e = m;
        while (b < e && (p[b] == ' ' || p[b] == '\t'))
            b++;
        while (e > b && (p[e - 1] == ' ' || p[e - 1] == '\t'))
            e--;
        if (e - b == tn && strncasecmp(p + b, type, tn) == 0) {
            int q = ACCEPT_Q_ONE;
            for (size_t i = m; i < n;) { /* p[i] is the ';' before a parameter */
                size_t s0 = i + 1, s1 = s0 + strcspn(p + s0, ",;");
                while (s0 < s1 && (p[s0] == ' ' || p[s0] == '\t'))
                    s0++;
                size_t t = s1;
                while (t > s0 && (p[t - 1] == ' ' || p[t - 1] == '\t'))
                    t--;
                if (t - s0 >= 2 && (p[s0] == 'q' || p[s0] == 'Q') && p[s0 + 1] == '=')
                    q = qvalue_parse(p + s0 + 2, t - s0 - 2);
                i = s1;
            }
            if (q > best)
                best = q;
        }
        p += n;
        if (*p)
            p++;
    }
    return best;
}

/* JSON for the API, for JSON-only routes, and for a client whose Accept prefers
 * application/json to text/html (q-values honoured; a tie goes to the page, as a
 * browser listing both wants the page). */
static int wants_json(const souk_request *req, const souk_route *route)
{
    if (strncmp(req->path, "/api/", 5) == 0 || (route && !route->page))
        return 1;
    const char *accept = souk_request_header(req, "Accept");
    if (!accept)
        return 0;
    int json = accept_q(accept, "application/json");
    return json > 0 && json > accept_q(accept, "text/html");
}

/* Cross-site request forgery: a state-changing request must either carry JSON
 * (which a cross-site form cannot send without a CORS preflight) or a form field
 * equal to the CSRF cookie.  A present Origin header must name this host (compared
 * without the scheme, case-insensitively).  "Origin: null" is refused too: it comes
 * from sandboxed frames, data: and file: pages and cross-site redirects, never
 * from this site's own pages (which send Referrer-Policy: same-origin). */
static int check_csrf(souk_ctx *ctx)
{
    souk_request *req = ctx->req;
    const char *origin = souk_request_header(req, "Origin");
    const char *host = souk_request_header(req, "Host");
    if (origin) {
        const char *o = strstr(origin, "://");
        if (!o || !host || strcasecmp(o + 3, host) != 0)
            return core_error(ctx, 403, "csrf", "cross-origin request refused", NULL), 403;
    }
    /* Only POST can come from a cross-site form; PUT, PATCH and DELETE need a CORS
     * preflight that souk never grants.  (A form's _method override is a POST.) */
    if (strcmp(req->method, "POST") != 0)
        return 0;
    if (media_type_is(souk_request_header(req, "Content-Type"), "application/json"))
        return 0;
    /* Browsers never attach a bearer token on their own: such requests are not
     * forgeable by another site. */
    const char *authz = souk_request_header(req, "Authorization");
    if (authz && strncasecmp(authz, "Bearer ", 7) == 0)
        return 0;
    const char *want = cookie(ctx, csrf_cookie_name(ctx));
    json_t *got = json_object_get(ctx->input, CSRF_FIELD);
    if (!want || !json_is_string(got) || strlen(want) != json_string_length(got) ||
        !souk_equal_ct(want, json_string_value(got), strlen(want)))
        return core_error(ctx, 403, "csrf",
                              "the form has expired or did not come from this site; "
                              "reload the page and try again", NULL), 403;
    return 0;
}

/* ------------------------------------------------------------- rendering */

static void set_body(souk_ctx *ctx, const char *type, const char *data, size_t len)
{
    souk_response *res = ctx->res;
    res->content_type = type;
    res->body = souk_arena_alloc(ctx->arena, len + 1);
    memcpy(res->body, data, len);
    res->body[len] = '\0';
    res->body_len = len;
    res->compressible = 1;
}

/* The output buffer of the app, emptied; a buffer that once grew past
 * OUT_KEEP_BYTES is given back rather than kept for every later request. */
static souk_buf *out_buffer(souk_app *app)
{
    if (app->out.cap > OUT_KEEP_BYTES)
        souk_buf_free(&app->out);
    souk_buf_reset(&app->out);
    return &app->out;
}

static int dump_to_buf(const char *data, size_t size, void *ud)
{
    souk_buf_add(ud, data, size);
    return 0;
}

static void respond_json(souk_ctx *ctx)
{
    souk_buf *out = out_buffer(ctx->app);
    if (json_dump_callback(ctx->view, dump_to_buf, out, JSON_COMPACT) != 0) {
        souk_buf_reset(out);
        souk_buf_adds(out, "{}");
    }
    set_body(ctx, "application/json", out->data ? out->data : "{}", out->data ? out->len : 2);
    ctx->res->status = ctx->status;
}

static json_t *flash_read(souk_ctx *ctx)
{
    const char *c = cookie(ctx, flash_cookie_name(ctx));
    if (!c || !*c)
        return NULL;
    size_t clen = strlen(c), len;
    unsigned char *bin = souk_arena_alloc(ctx->arena, clen + 1);
    if (sodium_base642bin(bin, clen, c, clen, NULL, &len, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        return NULL;
    json_t *v = json_loadb((const char *)bin, len, 0, NULL);
    if (!json_is_array(v)) {
        json_decref(v);
        return NULL;
    }
    return v;
}

static void flash_write(souk_ctx *ctx, json_t *list)
{
    char *s = json_dumps(list, JSON_COMPACT);
    size_t n = strlen(s);
    if (n <= FLASH_MAX_BYTES) {
        size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        char *b64 = souk_arena_alloc(ctx->arena, cap);
        sodium_bin2base64(b64, cap, (unsigned char *)s, n,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        souk_cookie c = {0, 1, "Lax", "/"};
        souk_ctx_set_cookie(ctx, flash_cookie_name(ctx), b64, &c);
    }
    free(s);
}

static const char *csrf_token(souk_ctx *ctx)
{
    const char *tok = cookie(ctx, csrf_cookie_name(ctx));
    if (tok && strlen(tok) == CSRF_TOKEN_BYTES * 2)
        return tok;
    char *fresh = souk_arena_alloc(ctx->arena, CSRF_TOKEN_BYTES * 2 + 1);
    souk_random_hex(fresh, CSRF_TOKEN_BYTES);
    souk_cookie c = {0, 1, "Lax", "/"};
    souk_ctx_set_cookie(ctx, csrf_cookie_name(ctx), fresh, &c);
    return fresh;
}

json_t *souk_ctx_user(souk_ctx *ctx);

/* The bottom frame of every page: site, request, user, csrf, flash, nav... */
static json_t *site_frame(souk_ctx *ctx, json_t *flash)
{
    souk_app *app = ctx->app;
    json_t *t = app->theme ? souk_theme_strings(app->theme, ctx->locale) : json_object();
    json_t *site = json_object();
    json_t *sn = json_object_get(t, "site_name");
    json_object_set_new(site, "name", sn ? json_incref(sn) : json_string("souk"));
    json_object_set_new(site, "locale", json_string(ctx->locale));
    json_object_set_new(site, "dev", json_boolean(app->cfg.dev));
    time_t now = (time_t)(souk_clock_now_ms() / 1000);
    struct tm tm;
    gmtime_r(&now, &tm);
    json_object_set_new(site, "year", json_integer(tm.tm_year + 1900));
    json_t *locales = json_array();
    for (char **l = app->cfg.locales; l && *l; l++) {
        json_t *lt = souk_theme_strings(app->theme, *l);
        json_t *name = json_object_get(lt, "language_name");
        json_array_append_new(locales, json_pack("{s:s, s:s, s:b, s:s++}", "code", *l, "name",
                                                 json_is_string(name) ? json_string_value(name) : *l,
                                                 "current",
                                                 strcmp(*l, ctx->locale) == 0, "href",
                                                 ctx->req->path, "?lang=", *l));
    }
    json_object_set_new(site, "locales", locales);

    json_t *f = json_object();
    json_object_set_new(f, "site", site);
    json_object_set_new(f, "request", json_pack("{s:s, s:O}", "path", ctx->req->path, "query",
                                                ctx->query));
    json_t *user = souk_ctx_user(ctx);
    json_object_set(f, "user", user ? user : json_null());
    json_object_set_new(f, "csrf",
                        json_string(ctx->cache_store ? CSRF_PLACEHOLDER : csrf_token(ctx)));
    /* Error messages are announced to screen readers at once (role="alert"). */
    if (!flash)
        flash = json_array();
    size_t i;
    json_t *m;
    json_array_foreach(flash, i, m) {
        json_t *kind = json_object_get(m, "kind");
        json_object_set_new(m, "alert", json_boolean(json_is_string(kind) &&
                                                     strcmp(json_string_value(kind), "error") == 0));
    }
    json_object_set_new(f, "flash", flash);
    /* The navigation with the current page marked (aria-current). */
    json_t *nav = json_array(), *item;
    json_array_foreach(app->nav, i, item) {
        json_t *copy = json_copy(item);
        json_t *href = json_object_get(item, "href");
        /* A plugin names its listed pages in English; the theme may translate
         * them (t.nav.titles["Pickup points"]). */
        json_t *tr = json_object_get(json_object_get(json_object_get(t, "nav"), "titles"),
                                     json_string_value(json_object_get(item, "title")));
        if (json_is_string(tr))
            json_object_set(copy, "title", tr);
        json_object_set_new(copy, "current",
                            json_boolean(strcmp(json_string_value(href), ctx->req->path) == 0));
        json_array_append_new(nav, copy);
    }
    json_object_set_new(f, "nav", nav);
    json_object_set(f, "plugins", app->plugins_info);
    json_object_set(f, "loaded", app->plugins_loaded);
    json_object_set_new(f, "status", json_integer(ctx->status));
    json_object_set_new(f, "status_4xx", json_boolean(ctx->status >= 400 && ctx->status < 500));
    json_object_set_new(f, "status_5xx", json_boolean(ctx->status >= 500));
    json_object_set_new(f, "status_401", json_boolean(ctx->status == 401));
    json_object_set_new(f, "status_403", json_boolean(ctx->status == 403));
    json_object_set_new(f, "status_404", json_boolean(ctx->status == 404));
    json_object_set(f, "t", t);
    /* "template", not "page": listings have a page number of their own. */
    json_object_set_new(f, "template", json_string(ctx->page ? ctx->page : ""));
    return f;
}

/* Shoppers read the core's own error messages in their language. */
static void translate_core_error(souk_ctx *ctx)
{
    json_t *error = json_object_get(ctx->view, "error");
    const char *code = json_string_value(json_object_get(error, "code"));
    json_t *t = souk_theme_strings(ctx->app->theme, ctx->locale);
    json_t *msg = json_object_get(json_object_get(json_object_get(t, "errors"), "messages"),
                                  code ? code : "");
    if (json_is_string(msg))
        json_object_set(error, "message", msg);
}

/* The headers of every page (cached or not). */
static void page_headers(souk_ctx *ctx)
{
    souk_response_header(ctx->res, ctx->arena, "Content-Security-Policy",
                         "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                         "script-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                         "base-uri 'self'");
    souk_response_header(ctx->res, ctx->arena, "X-Frame-Options", "DENY");
}

static void respond_page(souk_ctx *ctx)
{
    souk_app *app = ctx->app;
    if (!app->theme) {
        respond_json(ctx);
        return;
    }
    json_t *flash = flash_read(ctx);
    if (flash) {
        souk_cookie del = {-1, 1, "Lax", "/"};
        souk_ctx_set_cookie(ctx, flash_cookie_name(ctx), "", &del);
    }
    /* Messages set by this very request show on this page too. */
    if (json_array_size(ctx->flash)) {
        if (!flash)
            flash = json_array();
        json_array_extend(flash, ctx->flash);
    }
    /* A rejected form (422) shows its own page again, with the error beside the
     * fields; every other error has the theme's error page. */
    const char *page = ctx->page;
    if (ctx->status >= 400 && (ctx->status != 422 || !page) &&
        json_object_get(ctx->view, "error"))
        page = "error";
    if (!page || !souk_theme_has(app->theme, page)) {
        souk_log(SOUK_LOG_ERROR, "%s %s: page template '%s' is missing in theme '%s'",
                 ctx->req->method, ctx->req->path, page ? page : "(none)", app->cfg.theme);
        json_object_clear(ctx->view);
        core_error(ctx, 500, "template_missing", "this page cannot be shown", NULL);
        page = "error";
    }
    ctx->page = page;
    if (ctx->core_error)
        translate_core_error(ctx);
    json_t *site = site_frame(ctx, flash);
    souk_buf *out = out_buffer(app);
    char err[512];
    if (souk_theme_render(app->theme, page, site, ctx->view, out, err, sizeof err) != 0) {
        souk_log(SOUK_LOG_ERROR, "rendering '%s': %s", page, err);
        souk_buf_reset(out);
        souk_buf_adds(out, "<!doctype html><title>Error</title><p>This page cannot be shown.");
        ctx->status = 500;
    }
    json_decref(site);
    set_body(ctx, "text/html; charset=utf-8", out->data ? out->data : "", out->len);
    ctx->res->status = ctx->status;
    page_headers(ctx);
}

/* The headers of every answer of the request path (cached or not). */
static void common_headers(souk_ctx *ctx)
{
    souk_response *res = ctx->res;
    souk_response_header(res, ctx->arena, "X-Content-Type-Options", "nosniff");
    souk_response_header(res, ctx->arena, "Referrer-Policy", "same-origin");
    souk_response_header(res, ctx->arena, "Cache-Control", "no-store");
}

static void respond(souk_ctx *ctx)
{
    souk_response *res = ctx->res;
    common_headers(ctx);
    if (ctx->wants_json) {
        if (json_array_size(ctx->flash))
            json_object_set(ctx->view, "flash", ctx->flash);
        if (ctx->redirect)
            souk_response_header(res, ctx->arena, "Location", ctx->redirect);
        respond_json(ctx);
        return;
    }
    if (ctx->redirect) {
        if (json_array_size(ctx->flash))
            flash_write(ctx, ctx->flash);
        souk_response_header(res, ctx->arena, "Location", ctx->redirect);
        res->status = ctx->status;
        return;
    }
    respond_page(ctx);
}

/* ---------------------------------------------------------- core routes */

/* An error of a core route (files, probes), answered before the router: JSON
 * whatever the Accept, with Allow on a 405.  Returns 1 (answered). */
static int core_route_error(souk_ctx *ctx, const char *label, int status, const char *message)
{
    souk_response *res = ctx->res;
    souk_response_init(res, ctx->arena);
    res->route = label;
    if (status == 405)
        souk_response_header(res, ctx->arena, "Allow", "GET, HEAD");
    core_error(ctx, status, NULL, message, NULL);
    ctx->wants_json = 1;
    respond(ctx);
    return 1;
}

/* A file below one of roots (most specific first), with ETag/304 and gzip for
 * text.  Always answers: 200, 304, 404 or 405. */
static int serve_files(souk_ctx *ctx, const char *label, char *const *roots, const char *rel,
                       int get)
{
    souk_response *res = ctx->res;
    res->route = label;
    if (!get)
        return core_route_error(ctx, label, 405, "files are only read (GET, HEAD)");
    for (int i = 0; roots[i]; i++) {
        souk_response_init(res, ctx->arena);
        if (souk_static_serve(ctx->req, res, ctx->arena, roots[i], rel,
                              ctx->app->cfg.static_max_age) != 404) {
            res->route = label;
            /* The store's files (media) may come from imports: an SVG or HTML file
             * opened directly must not run script on the shop's origin. */
            if (strcmp(label, "media") == 0)
                souk_response_header(res, ctx->arena, "Content-Security-Policy",
                                     "default-src 'none'; img-src 'self' data:; "
                                     "style-src 'unsafe-inline'; sandbox");
            return 1;
        }
    }
    return core_route_error(ctx, label, 404, "no such file");
}

static int serve_core(souk_ctx *ctx)
{
    souk_request *req = ctx->req;
    souk_response *res = ctx->res;
    int get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
    if (strcmp(req->path, "/healthz") == 0 && get) {
        res->route = "/healthz";
        souk_response_body(res, ctx->arena, "application/json", "{\"status\":\"ok\"}", 15);
        souk_response_header(res, ctx->arena, "Cache-Control", "no-store");
        return 1;
    }
    if (strcmp(req->path, "/metrics") == 0 && get) {
        res->route = "/metrics";
        size_t len;
        char *text = souk_metrics_render(&len);
        souk_response_body(res, ctx->arena, "text/plain; version=0.0.4; charset=utf-8",
                           text ? text : "", text ? len : 0);
        res->compressible = 1;
        free(text);
        return 1;
    }
    if (strncmp(req->path, STATIC_PREFIX, strlen(STATIC_PREFIX)) == 0 && ctx->app->theme)
        return serve_files(ctx, "static", souk_theme_static_roots(ctx->app->theme),
                           req->path + strlen(STATIC_PREFIX), get);
    if (strncmp(req->path, MEDIA_PREFIX, strlen(MEDIA_PREFIX)) == 0 && ctx->app->media_root) {
        char *roots[2] = {ctx->app->media_root, NULL};
        return serve_files(ctx, "media", roots, req->path + strlen(MEDIA_PREFIX), get);
    }
    return 0;
}

/* s percent-encoded for a query value: everything but unreserved characters and
 * '/' (so that "/a?b=1&c=2" survives as one value).  Arena. */
static const char *query_escape(souk_arena *a, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = souk_arena_alloc(a, strlen(s) * 3 + 1), *o = out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~/", *p)) {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        }
    }
    *o = '\0';
    return out;
}

static void home_view(souk_ctx *ctx)
{
    json_object_set(ctx->view, "pages", ctx->app->nav);
    ctx->page = "home";
}

/* ------------------------------------------------------- response cache */

/* Whether this request may be answered from, or kept in, the response cache: a
 * guest's GET or HEAD of a plugin route, without a body and without a flash
 * message waiting (which would show on the page). */
static int cache_eligible(souk_ctx *ctx, const souk_route_entry *entry)
{
    const souk_request *req = ctx->req;
    if (!ctx->app->respcache || (entry->route.flags & SOUK_ROUTE_AUTH) || req->body_len)
        return 0;
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0)
        return 0;
    const char *flash = cookie(ctx, flash_cookie_name(ctx));
    if (flash && *flash)
        return 0;
    return souk_ctx_user(ctx) == NULL;
}

/* Everything a cacheable view may depend on besides the database: the
 * representation, the locale, and the raw target (path and query string). */
static const char *cache_key(souk_ctx *ctx)
{
    return souk_arena_printf(ctx->arena, "%c\n%s\n%s", ctx->wants_json ? 'j' : 'h',
                             ctx->locale, ctx->req->target);
}

/* Whether the body is a rendered page (which has the CSRF placeholder), rather
 * than JSON. */
static int cache_is_page(const souk_ctx *ctx)
{
    return !ctx->wants_json && ctx->app->theme;
}

/* Put the requester's own CSRF token (setting its cookie when missing) wherever
 * the page has the placeholder; in place: both have the same length. */
static void csrf_fill(souk_ctx *ctx, char *body, size_t len)
{
    const char *tok = csrf_token(ctx);
    const size_t n = sizeof CSRF_PLACEHOLDER - 1;
    char *p = body, *end = body + len;
    while (p && (size_t)(end - p) >= n && (p = memmem(p, (size_t)(end - p), CSRF_PLACEHOLDER, n))) {
        memcpy(p, tok, n);
        p += n;
    }
}

/* The answer from a cached body: the same status, type and headers as the
 * response it was made from. */
static void respond_cached(souk_ctx *ctx, const souk_respcache_hit *hit)
{
    common_headers(ctx);
    /* Both copied: the response is written after this returns, and the cache may
     * drop the entry while other requests run. */
    set_body(ctx, souk_arena_strdup(ctx->arena, hit->content_type), hit->body, hit->body_len);
    ctx->res->status = 200;
    if (cache_is_page(ctx)) {
        csrf_fill(ctx, ctx->res->body, ctx->res->body_len);
        page_headers(ctx);
    }
}

/* --------------------------------------------------------------- handle */

static void run_handler(souk_ctx *ctx, const souk_route_entry *entry)
{
    souk_app *app = ctx->app;
    const souk_route *route = &entry->route;
    int write = !is_safe_method(ctx->req->method);
    char err[512];
    if (souk_store_begin(app->store, write, err, sizeof err) != 0) {
        souk_log(SOUK_LOG_WARN, "%s %s: %s", ctx->req->method, ctx->req->path, err);
        souk_response_header(ctx->res, ctx->arena, "Retry-After", "1");
        core_error(ctx, 503, NULL, "the store is busy; try again in a moment", NULL);
        return;
    }
    if (route->flags & SOUK_ROUTE_AUTH) {
        const char *signin = NULL;
        souk_registry_identity(app->reg, &signin);
        if (!souk_ctx_user(ctx)) {
            souk_store_rollback(app->store);
            if (!ctx->wants_json && signin && !write) {
                ctx->status = 303;
                ctx->redirect = souk_arena_printf(ctx->arena, "%s?next=%s", signin,
                                                  query_escape(ctx->arena, ctx->req->target));
                return;
            }
            core_error(ctx, 401, NULL, "sign in to continue", NULL);
            return;
        }
    }
    ctx->write = write;
    int rc = route->handler(ctx);
    souk_store_release_all(app->store);
    if (rc != SOUK_OK && ctx->status < 400)
        core_error(ctx, 500, NULL, "internal error", NULL);
    /* An error rolls back, unless the handler asked to keep a failed attempt's
     * bookkeeping (api->commit_on_error); a 500 of the core's own never keeps. */
    if (ctx->status >= 400 && !(ctx->commit_on_error && !ctx->core_error)) {
        souk_store_rollback(app->store);
        souk_ctx_run_done(ctx, 0);
        return;
    }
    if (souk_store_commit(app->store, err, sizeof err) != 0) {
        souk_log(SOUK_LOG_ERROR, "%s %s: commit failed: %s", ctx->req->method, ctx->req->path,
                 err);
        souk_store_rollback(app->store);
        json_object_clear(ctx->view);
        ctx->redirect = NULL;
        core_error(ctx, 503, NULL, "the change could not be saved; try again", NULL);
        souk_ctx_run_done(ctx, 0);
        return;
    }
    souk_ctx_run_done(ctx, 1);
}

void souk_app_handle(souk_app *app, souk_request *req, souk_response *res)
{
    souk_ctx ctx;
    souk_ctx_init(&ctx, app, req->arena);
    ctx.req = req;
    ctx.res = res;
    souk_response_init(res, req->arena);
    if (serve_core(&ctx)) {
        souk_ctx_dispose(&ctx);
        return;
    }
    /* HTML forms can only GET and POST: a hidden _method field carries the rest. */
    const char *method = req->method;
    if (parse_inputs(&ctx) != 0) {
        ctx.wants_json = wants_json(req, NULL);
        ctx.locale = app->cfg.locale;
        res->route = "error";
        respond(&ctx);
        souk_ctx_dispose(&ctx);
        return;
    }
    json_t *mo = json_object_get(ctx.input, "_method");
    if (strcmp(method, "POST") == 0 && json_is_string(mo)) {
        const char *m = json_string_value(mo);
        if (strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0 || strcmp(m, "DELETE") == 0)
            method = m;
    }
    void *data = NULL;
    souk_param params[SOUK_ROUTER_MAX_PARAMS];
    int n_params = SOUK_ROUTER_MAX_PARAMS;
    char allow[128] = "";
    int found = souk_router_match(app->router, method, req->path, req->arena, &data, params,
                                  &n_params, allow, sizeof allow);
    const souk_route_entry *entry = data;
    ctx.wants_json = wants_json(req, found == SOUK_ROUTE_FOUND ? &entry->route : NULL);
    choose_locale(&ctx);
    const char *cache_key_s = NULL; /* set when the response may be cached */
    uint64_t version = 0;
    if (found == SOUK_ROUTE_FOUND) {
        res->route = entry->route.pattern;
        ctx.page = entry->route.page;
        ctx.params = json_object();
        int params_ok = 1;
        for (int i = 0; i < n_params && params_ok; i++) {
            /* Handlers may count on every parameter of their pattern being there:
             * one that is not UTF-8 cannot be a JSON string, so it is refused
             * here rather than handed over as NULL. */
            json_t *v = json_string(params[i].value);
            params_ok = v != NULL;
            json_object_set_new(ctx.params, params[i].name, v);
        }
        if (!params_ok)
            core_error(&ctx, 400, "bad_path", "the address is not valid UTF-8", NULL);
        else if (is_safe_method(method) || (entry->route.flags & SOUK_ROUTE_NO_CSRF) ||
                 check_csrf(&ctx) == 0) {
            if (cache_eligible(&ctx, entry)) {
                /* The stamp is taken before the handler reads anything: a change
                 * committed meanwhile makes the stored copy stale at once. */
                version = souk_store_version(app->store);
                cache_key_s = cache_key(&ctx);
                souk_respcache_hit hit;
                if (souk_respcache_get(app->respcache, cache_key_s,
                                       (int64_t)souk_clock_mono_ms(), version, &hit)) {
                    respond_cached(&ctx, &hit);
                    souk_ctx_dispose(&ctx);
                    return;
                }
            }
            int n_headers = res->n_headers;
            run_handler(&ctx, entry);
            /* Kept only as a plain 200 that no header or cookie of the handler's
             * own (which the cache would not replay) went with. */
            ctx.cache_store = cache_key_s && ctx.cache_ms > 0 && ctx.status == 200 &&
                              !ctx.redirect && json_array_size(ctx.flash) == 0 &&
                              res->n_headers == n_headers && !ctx.user;
        }
    } else if (found == SOUK_ROUTE_BAD_METHOD) {
        res->route = "badmethod";
        souk_response_header(res, req->arena, "Allow", allow);
        core_error(&ctx, 405, NULL, "this address does not accept that method", NULL);
    } else if (strcmp(req->path, "/") == 0 && is_safe_method(method)) {
        res->route = "/";
        home_view(&ctx);
    } else if (strcmp(req->path, "/") == 0) {
        res->route = "badmethod";
        souk_response_header(res, req->arena, "Allow", "GET, HEAD");
        core_error(&ctx, 405, NULL, "this address does not accept that method", NULL);
    } else {
        res->route = "notfound";
        core_error(&ctx, 404, NULL, "nothing here: the address may be mistyped or the "
                       "page was removed", NULL);
    }
    respond(&ctx);
    if (ctx.cache_store) {
        if (res->status == 200 && res->content_type)
            souk_respcache_put(app->respcache, cache_key_s, res->content_type, res->body,
                               res->body_len, (int64_t)souk_clock_mono_ms() + ctx.cache_ms,
                               version);
        if (cache_is_page(&ctx))
            csrf_fill(&ctx, res->body, res->body_len);
    }
    souk_ctx_dispose(&ctx);
}

/* -------------------------------------------------------------- the ctx */

void souk_ctx_init(souk_ctx *ctx, souk_app *app, souk_arena *arena)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->app = app;
    ctx->arena = arena;
    ctx->view = json_object();
    ctx->status = 200;
    ctx->flash = json_array();
    ctx->locale = app ? app->cfg.locale : "en";
    ctx->done_tail = &ctx->done;
}

void souk_ctx_run_done(souk_ctx *ctx, int committed)
{
    /* Taken off first: a callback may register another (run in the next round). */
    while (ctx->done) {
        souk_done *d = ctx->done;
        ctx->done = NULL;
        ctx->done_tail = &ctx->done;
        for (; d; d = d->next)
            d->fn(ctx, committed, d->udata);
    }
}

void souk_ctx_dispose(souk_ctx *ctx)
{
    souk_ctx_run_done(ctx, 1);
    if (ctx->app)
        souk_store_release_all(ctx->app->store);
    json_decref(ctx->view);
    json_decref(ctx->params);
    json_decref(ctx->query);
    json_decref(ctx->input);
    json_decref(ctx->cookies);
    json_decref(ctx->user);
    json_decref(ctx->flash);
    memset(ctx, 0, sizeof *ctx);
}

const char *souk_ctx_refusal(souk_ctx *ctx)
{
    const char *r = ctx->refusal;
    ctx->refusal = NULL;
    return r;
}

json_t *souk_ctx_user(souk_ctx *ctx)
{
    if (!ctx->user_resolved) {
        ctx->user_resolved = 1;
        souk_identity_fn fn = ctx->app ? souk_registry_identity(ctx->app->reg, NULL) : NULL;
        if (fn && ctx->req)
            ctx->user = fn(ctx);
        if (ctx->user && !json_is_object(ctx->user)) {
            json_decref(ctx->user);
            ctx->user = NULL;
        }
    }
    return ctx->user;
}
