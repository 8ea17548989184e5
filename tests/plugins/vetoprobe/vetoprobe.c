/* vetoprobe.c -- a test plugin for the account half of the auth plugin.  It uses
 * auth's public header only, like any other plugin would.
 *
 *   PUT    /api/v1/vetoprobe/veto {"reason"}   refuse user.deleting with reason
 *   DELETE /api/v1/vetoprobe/veto              allow it again
 *   GET    /api/v1/vetoprobe/events  {"asked": [{"id", "reason"}], "deleted": [id]}:
 *          every user.deleting asked and user.deleted seen, oldest first (the
 *          rows are written in the deletion's transaction, so a rolled-back
 *          deletion leaves none)
 *   GET    /api/v1/vetoprobe/secure, /vetoprobe/secure (page "vetoprobe_secure",
 *          which a test store supplies)   auth->require_secured, then
 *          {"ok": true, "level"}
 *   GET    /api/v1/vetoprobe/level   {"level": auth->level()}
 *   POST   /api/v1/vetoprobe/notify {"account_id", "kind", "message"}
 *          auth->notify_account: {"sent": n}; 422 with the error */
#include "auth/auth.h"

static const souk_host_api *api;
static const auth_v1 *auth;

static int exec_text(souk_ctx *ctx, const char *sql, const char *text)
{
    sqlite3_stmt *st = api->db_prepare(ctx, sql);
    if (!st)
        return SOUK_ERR;
    if (text)
        sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
    return sqlite3_step(st) == SQLITE_DONE ? SOUK_OK : SOUK_ERR;
}

static int on_deleting(souk_ctx *ctx, const char *event, json_t *payload, void *udata)
{
    sqlite3_stmt *st = api->db_prepare(
        ctx, "INSERT INTO vetoprobe_seen(event, account_id, reason) VALUES('asked', ?1, ?2)");
    if (!st)
        return SOUK_ERR;
    sqlite3_bind_int64(st, 1, json_integer_value(json_object_get(payload, "id")));
    sqlite3_bind_text(st, 2, json_string_value(json_object_get(payload, "reason")), -1,
                      SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_DONE)
        return SOUK_ERR;
    st = api->db_prepare(ctx, "SELECT reason FROM vetoprobe_veto WHERE id = 1");
    if (st && sqlite3_step(st) == SQLITE_ROW) {
        api->event_refuse(ctx, (const char *)sqlite3_column_text(st, 0));
        return SOUK_ERR;
    }
    return SOUK_OK;
}

static int on_deleted(souk_ctx *ctx, const char *event, json_t *payload, void *udata)
{
    sqlite3_stmt *st = api->db_prepare(
        ctx, "INSERT INTO vetoprobe_seen(event, account_id) VALUES('deleted', ?1)");
    if (!st)
        return SOUK_ERR;
    sqlite3_bind_int64(st, 1, json_integer_value(json_object_get(payload, "id")));
    return sqlite3_step(st) == SQLITE_DONE ? SOUK_OK : SOUK_ERR;
}

static int veto_set(souk_ctx *ctx)
{
    const char *reason = json_string_value(json_object_get(api->req_input(ctx), "reason"));
    if (!reason || !*reason)
        return api->res_error(ctx, 422, "invalid", "reason is required", "reason");
    if (exec_text(ctx, "INSERT OR REPLACE INTO vetoprobe_veto(id, reason) VALUES(1, ?1)",
                  reason) != SOUK_OK)
        return api->res_error(ctx, 500, "db", "cannot save", NULL);
    json_object_set_new(api->view(ctx), "reason", json_string(reason));
    return SOUK_OK;
}

static int veto_clear(souk_ctx *ctx)
{
    if (exec_text(ctx, "DELETE FROM vetoprobe_veto", NULL) != SOUK_OK)
        return api->res_error(ctx, 500, "db", "cannot save", NULL);
    json_object_set_new(api->view(ctx), "reason", json_null());
    return SOUK_OK;
}

static int events(souk_ctx *ctx)
{
    sqlite3_stmt *st = api->db_prepare(
        ctx, "SELECT event, account_id, reason FROM vetoprobe_seen ORDER BY id");
    if (!st)
        return api->res_error(ctx, 500, "db", "cannot read", NULL);
    json_t *asked = json_array(), *deleted = json_array();
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_int_t id = (json_int_t)sqlite3_column_int64(st, 1);
        if (sqlite3_column_text(st, 0)[0] == 'a')
            json_array_append_new(asked, json_pack("{s:I, s:s}", "id", id, "reason",
                                                   (const char *)sqlite3_column_text(st, 2)));
        else
            json_array_append_new(deleted, json_integer(id));
    }
    json_object_set_new(api->view(ctx), "asked", asked);
    json_object_set_new(api->view(ctx), "deleted", deleted);
    return SOUK_OK;
}

static int secure(souk_ctx *ctx)
{
    if (auth->require_secured(ctx) != SOUK_OK)
        return SOUK_ERR;
    json_object_set_new(api->view(ctx), "ok", json_true());
    json_object_set_new(api->view(ctx), "level", json_integer(auth->level(ctx)));
    return SOUK_OK;
}

static int level(souk_ctx *ctx)
{
    json_object_set_new(api->view(ctx), "level", json_integer(auth->level(ctx)));
    return SOUK_OK;
}

static int notify(souk_ctx *ctx)
{
    json_t *in = api->req_input(ctx);
    int sent = -1;
    const char *error = NULL;
    if (auth->notify_account(ctx, json_integer_value(json_object_get(in, "account_id")),
                             json_string_value(json_object_get(in, "kind")),
                             json_string_value(json_object_get(in, "message")),
                             json_object_get(in, "data"), &sent, &error) != SOUK_OK)
        return api->res_error(ctx, 422, "refused", error ? error : "refused", NULL);
    json_object_set_new(api->view(ctx), "sent", json_integer(sent));
    return SOUK_OK;
}

static const souk_route routes[] = {
    {"PUT", "/api/v1/vetoprobe/veto", veto_set, NULL, 0, NULL},
    {"DELETE", "/api/v1/vetoprobe/veto", veto_clear, NULL, 0, NULL},
    {"GET", "/api/v1/vetoprobe/events", events, NULL, 0, NULL},
    {"GET", "/api/v1/vetoprobe/secure", secure, NULL, 0, NULL},
    {"GET", "/vetoprobe/secure", secure, "vetoprobe_secure", 0, NULL},
    {"GET", "/api/v1/vetoprobe/level", level, NULL, 0, NULL},
    {"POST", "/api/v1/vetoprobe/notify", notify, NULL, 0, NULL},
};

static const souk_migration tables = {
    1, "the veto flag and the events seen",
    "CREATE TABLE vetoprobe_veto(id INTEGER PRIMARY KEY, reason TEXT NOT NULL);"
    "CREATE TABLE vetoprobe_seen(id INTEGER PRIMARY KEY, event TEXT NOT NULL,"
    " account_id INTEGER NOT NULL, reason TEXT)"};

static int vetoprobe_init(souk_plugin *self, const souk_host_api *host)
{
    api = host;
    auth = api->service_get(self, AUTH_SERVICE, AUTH_SERVICE_VERSION);
    if (!auth)
        return SOUK_ERR; /* service_get logged why */
    if (api->migration_add(self, &tables) != SOUK_OK ||
        api->event_on(self, AUTH_EVENT_DELETING, on_deleting, NULL) != SOUK_OK ||
        api->event_on(self, AUTH_EVENT_DELETED, on_deleted, NULL) != SOUK_OK)
        return SOUK_ERR;
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++)
        if (api->route_add(self, &routes[i]) != SOUK_OK)
            return SOUK_ERR;
    return SOUK_OK;
}

static const char *const depends[] = {"auth", NULL};

SOUK_PLUGIN("vetoprobe", "1.0.0", depends, vetoprobe_init, NULL);
