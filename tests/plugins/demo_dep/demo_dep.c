/* demo_dep.c -- a test plugin that depends on demo: it uses demo's service
 * through demo.h only, logs every note added (in its own table, its own
 * migration) and vetoes the deletion of notes containing "keep".
 *
 *   GET /api/v1/demo_dep/stats  {"logged": <notes added seen>, "notes": <demo's count>} */
#include "../demo/demo.h"

#include <string.h>

static const souk_host_api *api;
static souk_plugin *self;
static const demo_v1 *demo; /* demo's service, valid while we are loaded */

static int on_note_added(souk_ctx *ctx, const char *event, json_t *payload, void *udata)
{
    json_int_t id = json_integer_value(json_object_get(payload, "id"));
    sqlite3_stmt *st = api->db_prepare(ctx, "INSERT INTO demo_dep_log(note_id, at) VALUES(?1, ?2)");
    if (!st)
        return SOUK_ERR;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, api->now_ms(ctx));
    /* SOUK_ERR fails the emitting request, so the note and this row go together. */
    return sqlite3_step(st) == SQLITE_DONE ? SOUK_OK : SOUK_ERR;
}

static int on_note_deleting(souk_ctx *ctx, const char *event, json_t *payload, void *udata)
{
    const char *text = json_string_value(json_object_get(payload, "text"));
    if (text && strstr(text, "keep")) {
        api->event_refuse(ctx, "this note is protected");
        return SOUK_ERR;
    }
    return SOUK_OK;
}

static int stats(souk_ctx *ctx)
{
    sqlite3_stmt *st = api->db_prepare(ctx, "SELECT count(*) FROM demo_dep_log");
    if (!st || sqlite3_step(st) != SQLITE_ROW)
        return api->res_error(ctx, 500, "db", "cannot read the log", NULL);
    json_t *view = api->view(ctx);
    json_object_set_new(view, "logged", json_integer(sqlite3_column_int64(st, 0)));
    json_object_set_new(view, "notes", json_integer(demo->note_count(ctx)));
    return SOUK_OK;
}

static const souk_migration log_table = {
    1, "create log",
    "CREATE TABLE demo_dep_log(id INTEGER PRIMARY KEY, note_id INTEGER NOT NULL,"
    " at INTEGER NOT NULL)"};

static const souk_route stats_route = {"GET", "/api/v1/demo_dep/stats", stats, NULL, 0, NULL};

static int demo_dep_init(souk_plugin *plugin, const souk_host_api *host)
{
    api = host;
    self = plugin;
    demo = api->service_get(self, DEMO_SERVICE, DEMO_SERVICE_VERSION);
    if (!demo) {
        api->log(self, SOUK_LOG_ERROR, "service %s v%d is missing", DEMO_SERVICE,
                 DEMO_SERVICE_VERSION);
        return SOUK_ERR;
    }
    if (api->migration_add(self, &log_table) != SOUK_OK ||
        api->event_on(self, DEMO_EVENT_NOTE_ADDED, on_note_added, NULL) != SOUK_OK ||
        api->event_on(self, DEMO_EVENT_NOTE_DELETING, on_note_deleting, NULL) != SOUK_OK ||
        api->route_add(self, &stats_route) != SOUK_OK)
        return SOUK_ERR;
    return SOUK_OK;
}

static const char *const depends[] = {"demo", NULL};

SOUK_PLUGIN("demo_dep", "1.0.0", depends, demo_dep_init, NULL);
