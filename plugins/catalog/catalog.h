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

#endif
