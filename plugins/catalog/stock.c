/* stock.c -- the catalog.v1 service: stock changes, variant lookup, prices by SKU.
 *
 * Every function runs in the caller's transaction.  The invariant that matters
 * most, stock never below zero, is kept by one statement that checks and changes
 * together (UPDATE ... WHERE stock + delta >= 0): no read-then-write window in
 * which two workers could both see the last item. */
#include "catalog_internal.h"

#include <string.h>

/* A change larger than this is refused as a mistake (and so stock + delta can
 * never leave int64 range, where SQLite would turn the sum into a float). */
#define STOCK_DELTA_MAX 1000000000LL
#define STOCK_MAX 1000000000000LL

#define STOCK_SAVEPOINT "catalog_stock"

static const char *stock_why(souk_ctx *ctx, const char *sku, int64_t delta)
{
    sqlite3_stmt *st = catalog_api->db_prepare(
        ctx, "SELECT stock FROM catalog_variants WHERE sku = ?1");
    if (!st)
        return "cannot read the stock";
    sqlite3_bind_text(st, 1, sku, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW)
        return catalog_api->format(ctx, "no variant with SKU '%s'", sku);
    long long have = sqlite3_column_int64(st, 0);
    if (delta < 0)
        return catalog_api->format(ctx, "not enough stock of '%s': %lld left, %lld asked", sku,
                                   have, (long long)-delta);
    return catalog_api->format(ctx, "the stock of '%s' would exceed %lld", sku, STOCK_MAX);
}

/* The change itself: one statement.  Returns 1 changed, 0 refused, -1 error. */
static int stock_update(souk_ctx *ctx, const char *sku, int64_t delta, int64_t *after,
                        const char **slug)
{
    sqlite3_stmt *st = catalog_api->db_prepare(
        ctx, "UPDATE catalog_variants SET stock = stock + ?1"
             " WHERE sku = ?2 AND stock + ?1 >= 0 AND stock + ?1 <= ?3"
             " RETURNING stock,"
             " (SELECT slug FROM catalog_products p WHERE p.id = catalog_variants.product_id)");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, delta);
    sqlite3_bind_text(st, 2, sku, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, STOCK_MAX);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *after = sqlite3_column_int64(st, 0);
        *slug = catalog_api->dup(ctx, (const char *)sqlite3_column_text(st, 1));
        /* Step to the end so that the statement completes now. */
        rc = sqlite3_step(st);
        return rc == SQLITE_DONE ? 1 : -1;
    }
    return rc == SQLITE_DONE ? 0 : -1;
}

int catalog_stock_adjust(souk_ctx *ctx, const char *sku, int64_t delta, int64_t *stock_after,
                         const char **error)
{
    const souk_host_api *api = catalog_api;
    const char *dummy;
    if (!error)
        error = &dummy;
    if (!sku || !*sku) {
        *error = "no SKU given";
        return SOUK_ERR;
    }
    if (delta > STOCK_DELTA_MAX || delta < -STOCK_DELTA_MAX) {
        *error = api->format(ctx, "a stock change of %lld is out of range (at most %lld)",
                             (long long)delta, STOCK_DELTA_MAX);
        return SOUK_ERR;
    }
    /* Only a rise can bring a variant back in stock, and only then do subscribers
     * run: a savepoint lets a failing subscriber undo the change as well, so that
     * SOUK_ERR always means "nothing changed". */
    int rising = delta > 0;
    if (rising && api->db_exec(ctx, "SAVEPOINT " STOCK_SAVEPOINT) != SOUK_OK) {
        *error = "cannot change the stock";
        return SOUK_ERR;
    }
    int64_t after = 0;
    const char *slug = NULL;
    int rc = stock_update(ctx, sku, delta, &after, &slug);
    if (rc == 1 && rising && after - delta == 0) {
        json_t *payload = json_pack("{s:s, s:s, s:I}", "sku", sku, "product", slug ? slug : "",
                                    "stock", (json_int_t)after);
        int erc = api->event_emit(ctx, CATALOG_EVENT_BACK_IN_STOCK, payload);
        json_decref(payload);
        if (erc != SOUK_OK) {
            api->db_exec(ctx, "ROLLBACK TO " STOCK_SAVEPOINT);
            api->db_exec(ctx, "RELEASE " STOCK_SAVEPOINT);
            *error = api->format(ctx, "a subscriber of %s failed for '%s'",
                                 CATALOG_EVENT_BACK_IN_STOCK, sku);
            return SOUK_ERR;
        }
    }
    if (rising)
        api->db_exec(ctx, "RELEASE " STOCK_SAVEPOINT);
    if (rc < 0) {
        *error = "cannot change the stock";
        return SOUK_ERR;
    }
    if (rc == 0) {
        *error = stock_why(ctx, sku, delta);
        return SOUK_ERR;
    }
    if (stock_after)
        *stock_after = after;
    return SOUK_OK;
}

json_t *catalog_variant_get(souk_ctx *ctx, const char *sku)
{
    if (!sku)
        return NULL;
    const char *lang = catalog_lang(ctx);
    sqlite3_stmt *st = catalog_api->db_prepare(
        ctx, catalog_api->format(ctx,
                                 "SELECT v.sku, p.slug, p.title_%s, %s, v.price, v.currency,"
                                 " v.stock, p.status"
                                 " FROM catalog_variants v"
                                 " JOIN catalog_products p ON p.id = v.product_id"
                                 " WHERE v.sku = ?1",
                                 lang, catalog_options_sql(ctx, "v")));
    if (!st)
        return NULL;
    sqlite3_bind_text(st, 1, sku, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW)
        return NULL;
    json_t *options = json_loads((const char *)sqlite3_column_text(st, 3), 0, NULL);
    if (!json_is_object(options)) {
        json_decref(options);
        options = json_object();
    }
    return json_pack("{s:s, s:s, s:s, s:o, s:I, s:s, s:I, s:s}",
                     "sku", (const char *)sqlite3_column_text(st, 0),
                     "product", (const char *)sqlite3_column_text(st, 1),
                     "title", (const char *)sqlite3_column_text(st, 2),
                     "options", options,
                     "price", (json_int_t)sqlite3_column_int64(st, 4),
                     "currency", (const char *)sqlite3_column_text(st, 5),
                     "stock", (json_int_t)sqlite3_column_int64(st, 6),
                     "status", (const char *)sqlite3_column_text(st, 7));
}

/* The service's price shape, from pricing.c's: {"sku", "price", "currency",
 * "base_price", "adjustments": [{"label", "amount", "rule"}]}. */
static json_t *service_price(const char *sku, json_t *price)
{
    json_t *adj = json_array();
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(price, "adjustments"), i, a) {
        json_array_append_new(adj, json_pack("{s:O?, s:O?, s:O?}",
                                             "label", json_object_get(a, "label"),
                                             "amount", json_object_get(a, "amount"),
                                             "rule", json_object_get(a, "rule")));
    }
    return json_pack("{s:s, s:O?, s:O?, s:O?, s:o}", "sku", sku,
                     "price", json_object_get(price, "amount"),
                     "currency", json_object_get(price, "currency"),
                     "base_price", json_object_get(price, "base"),
                     "adjustments", adj);
}

int catalog_price_skus(souk_ctx *ctx, json_t *skus, json_t *customer, json_t **prices,
                       const char **error)
{
    const char *dummy;
    if (!error)
        error = &dummy;
    *prices = NULL;
    json_t *items = catalog_items_by_sku(ctx, skus, error);
    if (!items)
        return SOUK_ERR;
    json_t *priced = NULL;
    int rc = catalog_price_items(ctx, items, customer, catalog_api->now_ms(ctx), &priced, error);
    json_decref(items);
    if (rc != SOUK_OK)
        return SOUK_ERR;
    json_t *out = json_array();
    size_t i;
    json_t *p;
    json_array_foreach(priced, i, p) {
        json_array_append_new(out, service_price(json_string_value(json_array_get(skus, i)), p));
    }
    json_decref(priced);
    *prices = out;
    return SOUK_OK;
}

const catalog_v1 catalog_service = {
    .stock_adjust = catalog_stock_adjust,
    .variant_get = catalog_variant_get,
    .price_skus = catalog_price_skus,
};
