/* bgprobe.c -- a test plugin for the ABI 1.3 slots: work outside requests
 * (worker_hooks, job_run), after them (on_done, commit_on_error) and text that is
 * not a response (site, render, template_exists).  Everything it sees goes into
 * the table bgprobe_log, which tests read through GET /api/v1/bg/log.
 *
 *   POST /api/v1/bg/attempt {"keep"}  logs "attempt", answers 422; with keep the
 *                                     row stays (commit_on_error).  An on_done
 *                                     callback logs "done" with the committed flag
 *                                     through job_run.
 *   GET  /api/v1/bg/log               {"log": [{"kind", "detail"}...]}
 *   GET  /api/v1/bg/render?name=&locale=   {"text"} or 422 {"error"}
 *   GET  /api/v1/bg/site              api->site
 *   GET  /api/v1/bg/nested            {"rc"}: job_run inside a request (refused)
 * Every worker logs "start" when it starts serving and "stop" when it stops. */
#include <souk/souk.h>

#include <stdio.h>
#include <unistd.h>

static const souk_host_api *api;
static souk_plugin *self;

typedef struct log_entry {
    const char *kind;
    char detail[64];
} log_entry;

static int log_job(souk_ctx *ctx, void *udata)
{
    const log_entry *e = udata;
    sqlite3_stmt *st =
        api->db_prepare(ctx, "INSERT INTO bgprobe_log(kind, detail) VALUES (?1, ?2)");
    if (!st)
        return SOUK_ERR;
    sqlite3_bind_text(st, 1, e->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, e->detail, -1, SQLITE_STATIC);
    return sqlite3_step(st) == SQLITE_DONE ? SOUK_OK : SOUK_ERR;
}

static void log_now(const char *kind, const char *detail)
{
    log_entry e = {kind, ""};
    snprintf(e.detail, sizeof e.detail, "%s", detail);
    if (api->job_run(self, 1, log_job, &e) != SOUK_OK)
        api->log(self, SOUK_LOG_ERROR, "could not log %s", kind);
}

static void attempt_done(souk_ctx *ctx, int committed, void *udata)
{
    log_now("done", committed ? "committed" : "rolled back");
}

static int h_attempt(souk_ctx *ctx)
{
    log_entry e = {"attempt", ""};
    if (log_job(ctx, &e) != SOUK_OK)
        return SOUK_ERR;
    api->on_done(ctx, attempt_done, NULL);
    if (json_is_true(json_object_get(api->req_input(ctx), "keep")) &&
        api->commit_on_error(ctx) != SOUK_OK)
        return api->res_error(ctx, 500, "keep_refused", "commit_on_error refused", NULL);
    return api->res_error(ctx, 422, "wrong", "a failed attempt", NULL);
}

static int h_log(souk_ctx *ctx)
{
    sqlite3_stmt *st = api->db_prepare(ctx, "SELECT kind, detail FROM bgprobe_log ORDER BY id");
    if (!st)
        return SOUK_ERR;
    json_t *list = json_array();
    while (sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(list, json_pack("{s:s, s:s}", "kind", sqlite3_column_text(st, 0),
                                              "detail", sqlite3_column_text(st, 1)));
    json_object_set_new(api->view(ctx), "log", list);
    return SOUK_OK;
}

static int h_render(souk_ctx *ctx)
{
    const char *name = api->req_query(ctx, "name");
    const char *error = NULL;
    json_t *data = json_pack("{s:s}", "who", "<Ann & Bob>");
    const char *text = api->render(ctx, name ? name : "", api->req_query(ctx, "locale"), data,
                                   &error);
    json_decref(data);
    if (!text)
        return api->res_error(ctx, 422, "render_failed", error, "name");
    json_object_set_new(api->view(ctx), "text", json_string(text));
    json_object_set_new(api->view(ctx), "exists",
                        json_boolean(api->template_exists(ctx, name)));
    return SOUK_OK;
}

static int h_site(souk_ctx *ctx)
{
    json_object_set(api->view(ctx), "site", api->site(self));
    return SOUK_OK;
}

static int nested_job(souk_ctx *ctx, void *udata) { return SOUK_OK; }

static int h_nested(souk_ctx *ctx)
{
    json_object_set_new(api->view(ctx), "rc",
                        json_integer(api->job_run(self, 0, nested_job, NULL)));
    return SOUK_OK;
}

static int worker_start(souk_plugin *p, void *loop, void *udata)
{
    char pid[32];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    log_now("start", pid);
    return SOUK_OK;
}

static void worker_stop(souk_plugin *p, void *loop, void *udata)
{
    char pid[32];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    log_now("stop", pid);
}

static const souk_route routes[] = {
    {"POST", "/api/v1/bg/attempt", h_attempt, NULL, 0, NULL},
    {"GET", "/api/v1/bg/log", h_log, NULL, 0, NULL},
    {"GET", "/api/v1/bg/render", h_render, NULL, 0, NULL},
    {"GET", "/api/v1/bg/site", h_site, NULL, 0, NULL},
    {"GET", "/api/v1/bg/nested", h_nested, NULL, 0, NULL},
};

static const souk_migration migration = {
    1, "log", "CREATE TABLE bgprobe_log (id INTEGER PRIMARY KEY, kind TEXT, detail TEXT)"};

static int init(souk_plugin *p, const souk_host_api *a)
{
    api = a;
    self = p;
    if (!SOUK_API_HAS(a, commit_on_error)) {
        a->log(p, SOUK_LOG_ERROR, "needs ABI 1.3");
        return SOUK_ERR;
    }
    if (!a->site(p)) {
        a->log(p, SOUK_LOG_ERROR, "site() is NULL in init");
        return SOUK_ERR;
    }
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++)
        if (a->route_add(p, &routes[i]) != SOUK_OK)
            return SOUK_ERR;
    return a->migration_add(p, &migration) == SOUK_OK &&
                   a->worker_hooks(p, worker_start, worker_stop, NULL) == SOUK_OK
               ? SOUK_OK
               : SOUK_ERR;
}

SOUK_PLUGIN("bgprobe", "1.0.0", NULL, init, NULL);
