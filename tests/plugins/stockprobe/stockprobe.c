/* stockprobe.c -- a test plugin that drives the catalog.v1 service over HTTP, so
 * that black-box tests can hit stock_adjust from many connections at once.  It
 * uses the catalog's public header only, like any other plugin would.
 *
 *   POST /api/v1/stockprobe/take   {"sku", "qty"}  stock_adjust(sku, -qty)
 *   POST /api/v1/stockprobe/put    {"sku", "qty"}  stock_adjust(sku, +qty)
 *        200 {"sku", "stock": after}; 409 {"error": ...} when refused
 *   GET  /api/v1/stockprobe/variant?sku=   variant_get: {"variant": ... or null}
 *   GET  /api/v1/stockprobe/prices?skus=A,B   price_skus for a guest:
 *        {"prices": [...]}; 422 naming the problem when refused
 *   GET  /api/v1/stockprobe/events  {"events": [{"sku", "product", "stock"}]}:
 *        every catalog.back_in_stock seen, oldest first */
#include "catalog/catalog.h"

#include <string.h>

static const souk_host_api *api;
static const catalog_v1 *catalog;

static int probe_on_back_in_stock(souk_ctx *ctx, const char *event, json_t *payload,
                                  void *udata)
{
    sqlite3_stmt *st = api->db_prepare(
        ctx, "INSERT INTO stockprobe_events(sku, product, stock) VALUES(?1, ?2, ?3)");
    if (!st)
        return SOUK_ERR;
    sqlite3_bind_text(st, 1, json_string_value(json_object_get(payload, "sku")), -1,
                      SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, json_string_value(json_object_get(payload, "product")), -1,
                      SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, json_integer_value(json_object_get(payload, "stock")));
    return sqlite3_step(st) == SQLITE_DONE ? SOUK_OK : SOUK_ERR;
}

static int probe_adjust(souk_ctx *ctx, int sign)
{
    json_t *in = api->req_input(ctx);
    const char *sku = json_string_value(json_object_get(in, "sku"));
    json_t *qty = json_object_get(in, "qty");
    if (!sku)
        return api->res_error(ctx, 422, "invalid", "sku is required", "sku");
    if (!json_is_integer(qty))
        return api->res_error(ctx, 422, "invalid", "qty must be an integer", "qty");
    int64_t after = -1;
    const char *error = NULL;
    if (catalog->stock_adjust(ctx, sku, sign * json_integer_value(qty), &after, &error) !=
        SOUK_OK)
        return api->res_error(ctx, 409, "refused", error ? error : "refused", "qty");
    json_t *view = api->view(ctx);
    json_object_set_new(view, "sku", json_string(sku));
    json_object_set_new(view, "stock", json_integer(after));
    return SOUK_OK;
}

static int probe_take(souk_ctx *ctx) { return probe_adjust(ctx, -1); }
static int probe_put(souk_ctx *ctx) { return probe_adjust(ctx, 1); }

static int probe_variant(souk_ctx *ctx)
{
    json_t *v = catalog->variant_get(ctx, api->req_query(ctx, "sku"));
    json_object_set_new(api->view(ctx), "variant", v ? v : json_null());
    return SOUK_OK;
}

static int probe_prices(souk_ctx *ctx)
{
    const char *list = api->req_query(ctx, "skus");
    json_t *skus = json_array();
    if (list && *list) {
        char *copy = api->dup(ctx, list), *save = NULL;
        for (char *s = strtok_r(copy, ",", &save); s; s = strtok_r(NULL, ",", &save))
            json_array_append_new(skus, json_string(s));
    }
    json_t *prices = NULL;
    const char *error = NULL;
    int rc = catalog->price_skus(ctx, skus, NULL, &prices, &error);
    json_decref(skus);
    if (rc != SOUK_OK)
        return api->res_error(ctx, 422, "refused", error ? error : "refused", "skus");
    json_object_set_new(api->view(ctx), "prices", prices);
    return SOUK_OK;
}

static int probe_events(souk_ctx *ctx)
{
    sqlite3_stmt *st = api->db_prepare(
        ctx, "SELECT sku, product, stock FROM stockprobe_events ORDER BY id");
    if (!st)
        return api->res_error(ctx, 500, "db", "cannot read the events", NULL);
    json_t *list = json_array();
    while (sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(list, json_pack("{s:s, s:s, s:I}",
                                              "sku", (const char *)sqlite3_column_text(st, 0),
                                              "product", (const char *)sqlite3_column_text(st, 1),
                                              "stock", (json_int_t)sqlite3_column_int64(st, 2)));
    json_object_set_new(api->view(ctx), "events", list);
    return SOUK_OK;
}

static const souk_route routes[] = {
    {"POST", "/api/v1/stockprobe/take", probe_take, NULL, 0, NULL},
    {"POST", "/api/v1/stockprobe/put", probe_put, NULL, 0, NULL},
    {"GET", "/api/v1/stockprobe/variant", probe_variant, NULL, 0, NULL},
    {"GET", "/api/v1/stockprobe/prices", probe_prices, NULL, 0, NULL},
    {"GET", "/api/v1/stockprobe/events", probe_events, NULL, 0, NULL},
};

static const souk_migration events_table = {
    1, "back-in-stock events seen",
    "CREATE TABLE stockprobe_events(id INTEGER PRIMARY KEY, sku TEXT NOT NULL,"
    " product TEXT NOT NULL, stock INTEGER NOT NULL)"};

static int stockprobe_init(souk_plugin *self, const souk_host_api *host)
{
    api = host;
    catalog = api->service_get(self, CATALOG_SERVICE, CATALOG_SERVICE_VERSION);
    if (!catalog)
        return SOUK_ERR; /* service_get logged why */
    if (api->migration_add(self, &events_table) != SOUK_OK ||
        api->event_on(self, CATALOG_EVENT_BACK_IN_STOCK, probe_on_back_in_stock, NULL) !=
            SOUK_OK)
        return SOUK_ERR;
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++)
        if (api->route_add(self, &routes[i]) != SOUK_OK)
            return SOUK_ERR;
    return SOUK_OK;
}

static const char *const depends[] = {"catalog", NULL};

SOUK_PLUGIN("stockprobe", "1.0.0", depends, stockprobe_init, NULL);
