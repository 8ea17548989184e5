/* catalog.h -- the public header of the catalog plugin: the only thing another
 * plugin may include from it.  Look the service up in init() of a plugin that lists
 * "catalog" among its dependencies:
 *
 *     const catalog_v1 *catalog = api->service_get(self, CATALOG_SERVICE, 1);
 *
 * Every function runs inside the caller's transaction (a writing request runs in one
 * BEGIN IMMEDIATE transaction), so a stock change commits or rolls back together
 * with the caller's own rows. */
#ifndef CATALOG_H
#define CATALOG_H

#include <souk/souk.h>

#define CATALOG_SERVICE "catalog"
#define CATALOG_SERVICE_VERSION 1

/* Plain event, emitted in the transaction that raised a variant's stock from 0 to
 * more.  Payload: {"sku", "product": slug, "stock": new quantity}. */
#define CATALOG_EVENT_BACK_IN_STOCK "catalog.back_in_stock"

/* Plain event, emitted by the product page and GET /api/v1/products/:slug for a
 * signed-in shopper only (a guest's page is the same for everyone and may come
 * from the response cache), after the view is filled: {"slug"}.  A subscriber may
 * add what it knows of this shopper and product to the view (api->view(ctx))
 * under a key named after its plugin ("favourites": {"favourite": true}). */
#define CATALOG_EVENT_PRODUCT_SHOWN "catalog.product_shown"

/* Service "catalog", version 1.  Never changed once published. */
typedef struct catalog_v1 {
    /* Add delta (negative: take) to the stock of the variant sku.  Refused, with
     * nothing changed, when the variant does not exist or the stock would go below
     * zero (concurrent callers included: the check and the change are one
     * statement).  *stock_after (may be NULL) gets the new quantity; *error
     * (arena, may be NULL) says why on SOUK_ERR. */
    int (*stock_adjust)(souk_ctx *ctx, const char *sku, int64_t delta, int64_t *stock_after,
                        const char **error);
    /* The variant sku as {"sku", "product": slug, "title" (request locale),
     * "options": {...} (request locale), "price": base minor units, "currency",
     * "stock"} (yours), or
     * NULL when there is no such variant. */
    json_t *(*variant_get)(souk_ctx *ctx, const char *sku);
    /* Displayed prices of variants, computed by the store's pricing.lua for customer
     * (a JSON object, or NULL for a guest) at the store clock.  skus: a JSON array
     * of strings (borrowed).  *prices (yours): an array in the same order of
     * {"sku", "price", "currency", "base_price", "adjustments": [{"label",
     * "amount", "rule"}]}.  SOUK_ERR with *error (arena) when a SKU is unknown or
     * the script fails: never a guessed price. */
    int (*price_skus)(souk_ctx *ctx, json_t *skus, json_t *customer, json_t **prices,
                      const char **error);
} catalog_v1;

/* Service "catalog", version 2: version 1's functions, unchanged and in the same
 * order (so the first members of a catalog_v2 are a catalog_v1), and reads of a
 * product for plugins that keep products by slug (favourites, notifications).
 * Registered next to version 1:
 *
 *     const catalog_v2 *catalog = api->service_get(self, CATALOG_SERVICE, 2);
 *
 * Never changed once published. */
#define CATALOG_SERVICE_VERSION_2 2

typedef struct catalog_v2 {
    /* As in catalog_v1. */
    int (*stock_adjust)(souk_ctx *ctx, const char *sku, int64_t delta, int64_t *stock_after,
                        const char **error);
    json_t *(*variant_get)(souk_ctx *ctx, const char *sku);
    int (*price_skus)(souk_ctx *ctx, json_t *skus, json_t *customer, json_t **prices,
                      const char **error);

    /* ---- version 2 ---- */

    /* The product slug, whatever its status, in locale ("ru" or "en"; NULL: the
     * request's) as
     *     {"slug", "title", "url": "/p/<slug>", "status": "active" | "draft" |
     *      "archived", "variants": [{"sku", "options": {...}, "options_text":
     *      "M / red", "stock", "in_stock"}] (in the product page's order)}
     * (yours).  Unpriced, so it never runs pricing.lua.  NULL when there is no such
     * product (*error set to NULL), or on a database failure (*error, arena, says
     * so).  error may be NULL. */
    json_t *(*product_get)(souk_ctx *ctx, const char *slug, const char *locale,
                           const char **error);
    /* Cards of the active products among slugs (a JSON array of strings,
     * borrowed), in that order, in the request's locale and priced for the
     * request's shopper with one run of pricing.lua: the card shape of
     * docs/api.md ({"slug", "title", "brand", "url", "category", "image",
     * "in_stock", "variants_count", "price", "price_from"}).  Slugs of products
     * that do not exist or are not active are left out.  *cards (yours) is an
     * array.  SOUK_ERR when the database or the pricing script failed (never a
     * guessed price): the request's error view is then already filled as the
     * catalog's own pages fill it (503 pricing_failed or 500 db) and *error
     * (arena) is its message. */
    int (*product_cards)(souk_ctx *ctx, json_t *slugs, json_t **cards, const char **error);
} catalog_v2;

#endif
