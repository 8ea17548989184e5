/* service_v2.c -- the catalog service, version 2 (catalog.h): version 1's
 * functions and two reads of products by slug, for plugins that keep products
 * by slug (favourites and back-in-stock alerts).
 *
 * product_get is unpriced and takes its locale as an argument: a notification is
 * written in the locale of the shopper it goes to, not of the request that caused
 * it (a stock change made in Russian by the merchant can alert a shopper who reads
 * English).  product_cards reuses the catalog's own cards, so a card looks and is
 * priced exactly as on a listing page. */
#include "categories.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------- product_get */

static json_t *product_get(souk_ctx *ctx, const char *slug, const char *locale,
                           const char **error)
{
    const souk_host_api *api = catalog_api;
    const char *dummy;
    if (!error)
        error = &dummy;
    *error = NULL;
    if (!slug)
        return NULL;
    /* Only the two locales the catalog's columns have; the request's otherwise. */
    const char *lang = locale && (strcmp(locale, "ru") == 0 || strcmp(locale, "en") == 0)
                           ? locale
                           : catalog_lang(ctx);
    int en = strcmp(lang, "en") == 0;
    /* The same rule as catalog_options_sql, for a locale given rather than the
     * request's: '{}' in one language means "not translated", show the other. */
    const char *own = en ? "options_en" : "options", *other = en ? "options" : "options_en";
    sqlite3_stmt *st = api->db_prepare(
        ctx, api->format(ctx,
                         "SELECT p.slug, p.title_%s, p.status, v.sku,"
                         " CASE WHEN json(v.%s) <> '{}' THEN v.%s ELSE v.%s END, v.stock"
                         " FROM catalog_products p"
                         " LEFT JOIN catalog_variants v ON v.product_id = p.id"
                         " WHERE p.slug = ?1 ORDER BY v.position, v.id",
                         lang, own, own, other));
    if (!st) {
        *error = "cannot read the product";
        return NULL;
    }
    sqlite3_bind_text(st, 1, slug, -1, SQLITE_STATIC);
    json_t *product = NULL, *variants = NULL;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!product) {
            const char *s = (const char *)sqlite3_column_text(st, 0);
            variants = json_array();
            product = json_pack("{s:s, s:s?, s:o, s:s?, s:O}", "slug", s, "title",
                                (const char *)sqlite3_column_text(st, 1), "url",
                                catalog_url_json(ctx, "/p/", s), "status",
                                (const char *)sqlite3_column_text(st, 2), "variants", variants);
            json_decref(variants);
            if (!product)
                break; /* text that is not UTF-8 */
        }
        if (sqlite3_column_type(st, 3) == SQLITE_NULL)
            continue; /* a product without variants (LEFT JOIN) */
        const char *text = (const char *)sqlite3_column_text(st, 4);
        json_t *options = text ? json_loads(text, 0, NULL) : NULL;
        if (!json_is_object(options)) {
            json_decref(options);
            options = json_object();
        }
        int64_t stock = sqlite3_column_int64(st, 5);
        json_t *v = json_pack("{s:s, s:O, s:s, s:I, s:b}",
                              "sku", (const char *)sqlite3_column_text(st, 3),
                              "options", options, "options_text", catalog_options_text(ctx, options),
                              "stock", (json_int_t)stock, "in_stock", stock > 0);
        json_decref(options);
        if (v)
            json_array_append_new(variants, v);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        api->log(catalog_self, SOUK_LOG_ERROR, "cannot read the product '%s': %s", slug,
                 sqlite3_errmsg(api->db(ctx)));
        json_decref(product);
        *error = "cannot read the product";
        return NULL;
    }
    return product;
}

/* -------------------------------------------------------- product_cards */

/* The message of the error view the catalog filled (arena), or a fallback. */
static const char *view_error(souk_ctx *ctx, const char *fallback)
{
    json_t *e = json_object_get(json_object_get(catalog_api->view(ctx), "error"), "message");
    return json_is_string(e) ? catalog_api->dup(ctx, json_string_value(e)) : fallback;
}

static int product_cards(souk_ctx *ctx, json_t *slugs, json_t **cards, const char **error)
{
    const souk_host_api *api = catalog_api;
    const char *dummy;
    if (!error)
        error = &dummy;
    *cards = NULL;
    size_t i, n = json_array_size(slugs);
    json_t *v;
    if (!json_is_array(slugs)) {
        *error = "slugs must be an array of product slugs";
        return api->res_error(ctx, 500, "internal", *error, NULL);
    }
    json_array_foreach(slugs, i, v) {
        if (!json_is_string(v)) {
            *error = api->format(ctx, "slugs[%zu] is not a string", i);
            return api->res_error(ctx, 500, "internal", *error, NULL);
        }
    }
    if (n == 0) {
        *cards = json_array();
        return SOUK_OK;
    }
    sqlite3_stmt *st = api->db_prepare(
        ctx, "SELECT p.id FROM json_each(?1) AS j"
             " JOIN catalog_products p ON p.slug = j.value AND p.status = 'active'"
             " ORDER BY j.key");
    if (!st) {
        *error = "cannot read the products";
        return api->res_error(ctx, 500, "db", *error, NULL);
    }
    char *text = json_dumps(slugs, JSON_COMPACT);
    if (!text) {
        *error = "out of memory";
        return api->res_error(ctx, 500, "memory", *error, NULL);
    }
    sqlite3_bind_text(st, 1, text, -1, free);
    int64_t *ids = api->alloc(ctx, n * sizeof *ids);
    int found = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && (size_t)found < n)
        ids[found++] = sqlite3_column_int64(st, 0);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        api->log(catalog_self, SOUK_LOG_ERROR, "cannot read the products: %s",
                 sqlite3_errmsg(api->db(ctx)));
        *error = "cannot read the products";
        return api->res_error(ctx, 500, "db", *error, NULL);
    }
    json_t *out = catalog_cards(ctx, ids, found);
    if (!out) {
        *error = view_error(ctx, "the products cannot be shown");
        return SOUK_ERR;
    }
    *cards = out;
    return SOUK_OK;
}

const catalog_v2 catalog_service_v2 = {
    .stock_adjust = catalog_stock_adjust,
    .variant_get = catalog_variant_get,
    .price_skus = catalog_price_skus,
    .product_get = product_get,
    .product_cards = product_cards,
};
