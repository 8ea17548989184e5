/* catalog.c -- the catalog plugin: registration.  The rooms are listed in
 * catalog_internal.h. */
#include "catalog_internal.h"

#include <string.h>

const souk_host_api *catalog_api;
souk_plugin *catalog_self;

static const souk_route routes[] = {
    {"GET", "/", catalog_h_home, "catalog_home", 0, NULL},
    {"GET", "/c/:slug", catalog_h_listing, "catalog_listing", 0, NULL},
    {"GET", "/search", catalog_h_listing, "catalog_listing", 0, NULL},
    {"GET", "/p/:slug", catalog_h_product, "catalog_product", 0, NULL},
    {"GET", "/pickup-points", catalog_h_pickup_points, "catalog_pickup_points",
     SOUK_ROUTE_LISTED, "Pickup points"},
    {"GET", "/api/v1/categories", catalog_h_categories, NULL, 0, NULL},
    {"GET", "/api/v1/products", catalog_h_listing, NULL, 0, NULL},
    {"GET", "/api/v1/products/:slug", catalog_h_product, NULL, 0, NULL},
    {"GET", "/api/v1/search/suggest", catalog_h_suggest, NULL, 0, NULL},
    {"GET", "/api/v1/pickup-points", catalog_h_pickup_points, NULL, 0, NULL},
};

static int catalog_init(souk_plugin *self, const souk_host_api *api)
{
    catalog_api = api;
    catalog_self = self;
    if (!SOUK_API_HAS(api, db_on_open)) {
        api->log(self, SOUK_LOG_ERROR, "needs souk plugin ABI 1.1 or newer (db_on_open)");
        return SOUK_ERR;
    }
    if (api->db_on_open(self, catalog_tokenizer_register, NULL) != SOUK_OK)
        return SOUK_ERR;
    for (int i = 0; i < catalog_migration_count; i++)
        if (api->migration_add(self, &catalog_migrations[i]) != SOUK_OK)
            return SOUK_ERR;
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++)
        if (api->route_add(self, &routes[i]) != SOUK_OK)
            return SOUK_ERR;
    if (api->service_register(self, CATALOG_SERVICE, CATALOG_SERVICE_VERSION,
                              &catalog_service) != SOUK_OK ||
        api->event_on(self, "store.created", catalog_on_store_created, NULL) != SOUK_OK ||
        api->command_add(self, "import", "import products from CSV, JSON or a Shopify export",
                         catalog_cmd_import) != SOUK_OK ||
        api->command_add(self, "price", "show the displayed price of a product and why",
                         catalog_cmd_price) != SOUK_OK)
        return SOUK_ERR;
    return SOUK_OK;
}

static void catalog_fini(souk_plugin *self)
{
    catalog_api = NULL;
    catalog_self = NULL;
}

SOUK_PLUGIN("catalog", "1.0.0", NULL, catalog_init, catalog_fini);
