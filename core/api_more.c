/* api_more.c -- the host API slots of ABI 1.3: work outside a request (job_run,
 * worker hooks), after a request (on_done, commit_on_error), and text that is
 * not a response (site, render, template_exists).  See souk.h for the contract. */
#include "app_internal.h"

#include "clock.h"
#include "log.h"

#include <string.h>

json_t *souk_api_site(souk_plugin *self)
{
    souk_app *app = souk_plugin_owner(self);
    return app ? app->site : NULL;
}

int souk_api_on_done(souk_ctx *ctx, void (*fn)(souk_ctx *ctx, int committed, void *udata),
                     void *udata)
{
    if (!ctx || !fn)
        return SOUK_ERR;
    souk_done *d = souk_arena_alloc(ctx->arena, sizeof *d);
    *d = (souk_done){fn, udata, NULL};
    *ctx->done_tail = d;
    ctx->done_tail = &d->next;
    return SOUK_OK;
}

int souk_api_commit_on_error(souk_ctx *ctx)
{
    if (!ctx || !ctx->req || !ctx->write)
        return SOUK_ERR;
    ctx->commit_on_error = 1;
    return SOUK_OK;
}

int souk_api_job_run(souk_plugin *self, int write, int (*fn)(souk_ctx *ctx, void *udata),
                     void *udata)
{
    souk_app *app = souk_plugin_owner(self);
    const char *name = souk_plugin_name(self);
    if (!app || !fn) {
        souk_log(SOUK_LOG_ERROR, "plugin '%s': job_run outside an open store", name);
        return SOUK_ERR;
    }
    /* A job inside a request (or another job) would commit or roll back the
     * caller's transaction under it. */
    if (souk_store_in_transaction(app->store)) {
        souk_log(SOUK_LOG_ERROR,
                 "plugin '%s': job_run inside a transaction (call it from on_done, a "
                 "timer or a command, not from a handler or a job)", name);
        return SOUK_ERR;
    }
    char err[512];
    if (souk_store_begin(app->store, write, err, sizeof err) != 0) {
        souk_log(SOUK_LOG_WARN, "plugin '%s': job: %s", name, err);
        return SOUK_ERR;
    }
    souk_arena arena;
    souk_arena_init(&arena, 0);
    souk_ctx ctx;
    souk_ctx_init(&ctx, app, &arena);
    ctx.write = write;
    ctx.in_job = 1;
    int rc = fn(&ctx, udata);
    souk_store_release_all(app->store);
    int committed = 0;
    if (rc == SOUK_OK) {
        if (souk_store_commit(app->store, err, sizeof err) == 0) {
            committed = 1;
        } else {
            souk_log(SOUK_LOG_ERROR, "plugin '%s': job: commit failed: %s", name, err);
            souk_store_rollback(app->store);
            rc = SOUK_ERR;
        }
    } else {
        souk_store_rollback(app->store);
    }
    souk_ctx_run_done(&ctx, committed);
    souk_ctx_dispose(&ctx);
    souk_arena_free(&arena);
    return rc;
}

/* The frame under a message: the site (as api->site, with the locale) and the
 * locale's strings. */
static json_t *message_frame(souk_app *app, const char *locale)
{
    json_t *site = app->site ? json_deep_copy(app->site) : json_object();
    json_object_set_new(site, "locale", json_string(locale));
    json_t *t = app->theme ? souk_theme_strings(app->theme, locale) : NULL;
    json_t *name = json_object_get(t, "site_name");
    json_object_set_new(site, "name", json_string(json_is_string(name) ? json_string_value(name)
                                                                        : "souk"));
    time_t now = (time_t)(souk_clock_now_ms() / 1000);
    struct tm tm;
    gmtime_r(&now, &tm);
    json_object_set_new(site, "year", json_integer(tm.tm_year + 1900));
    json_t *f = json_object();
    json_object_set_new(f, "site", site);
    json_object_set(f, "t", t ? t : json_object());
    return f;
}

static int known_locale(const souk_app *app, const char *locale)
{
    for (char **l = app->cfg.locales; locale && l && *l; l++)
        if (strcmp(*l, locale) == 0)
            return 1;
    return 0;
}

const char *souk_api_render(souk_ctx *ctx, const char *name, const char *locale, json_t *data,
                            const char **error)
{
    souk_app *app = ctx ? ctx->app : NULL;
    const char *why = NULL;
    if (!app || !app->theme)
        why = "templates are not loaded in this process";
    else if (!name || !souk_theme_has(app->theme, name))
        why = "no such template";
    if (why) {
        if (error)
            *error = souk_arena_printf(ctx->arena, "template '%s': %s", name ? name : "(null)",
                                       why);
        return NULL;
    }
    if (!known_locale(app, locale))
        locale = app->cfg.locale;
    json_t *frame = message_frame(app, locale);
    json_t *view = data ? json_incref(data) : json_object();
    souk_buf out = {0};
    char err[512];
    const char *text = NULL;
    if (souk_theme_render(app->theme, name, frame, view, &out, err, sizeof err) == 0)
        text = souk_arena_strndup(ctx->arena, out.data ? out.data : "", out.len);
    else if (error)
        *error = souk_arena_printf(ctx->arena, "template '%s': %s", name, err);
    souk_buf_free(&out);
    json_decref(view);
    json_decref(frame);
    return text;
}

int souk_api_template_exists(souk_ctx *ctx, const char *name)
{
    return ctx && ctx->app && ctx->app->theme && name && souk_theme_has(ctx->app->theme, name);
}

/* The address links in messages use: public_url, else the listening address. */
void souk_app_site_update(souk_app *app)
{
    const souk_config *c = &app->cfg;
    if (!app->site)
        app->site = json_object();
    json_t *s = app->site;
    if (c->public_url) {
        json_object_set_new(s, "url", json_string(c->public_url));
    } else {
        int v6 = strchr(c->listen_host, ':') != NULL;
        char url[600];
        snprintf(url, sizeof url, "%s://%s%s%s:%d", c->https ? "https" : "http", v6 ? "[" : "",
                 c->listen_host, v6 ? "]" : "", c->listen_port);
        json_object_set_new(s, "url", json_string(url));
    }
    /* The name shoppers know the store by: the theme's site_name in the default
     * locale, once the theme is open (plugins' init() runs before it is). */
    json_t *name = app->theme ? json_object_get(souk_theme_strings(app->theme, c->locale),
                                                "site_name")
                              : NULL;
    if (json_is_string(name))
        json_object_set(s, "name", name);
    else if (!json_object_get(s, "name"))
        json_object_set_new(s, "name", json_string("souk"));
    json_object_set_new(s, "dev", json_boolean(c->dev));
    json_object_set_new(s, "https", json_boolean(c->https));
    json_object_set_new(s, "locale", json_string(c->locale));
    json_t *l = json_array();
    for (char **p = c->locales; p && *p; p++)
        json_array_append_new(l, json_string(*p));
    json_object_set_new(s, "locales", l);
}
