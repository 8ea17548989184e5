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

/* settings.catalog.cache_ms: a whole number of milliseconds, 0 or more. */
static int catalog_read_settings(souk_plugin *self, const souk_host_api *api)
{
    json_t *v = json_object_get(api->config(self), "cache_ms");
    if (!v)
        return SOUK_OK;
    double ms = json_number_value(v);
    if (!json_is_number(v) || ms < 0 || ms != (double)(int64_t)ms) {
        api->log(self, SOUK_LOG_ERROR,
                 "souk.lua: settings.catalog.cache_ms: expected a whole number of "
                 "milliseconds, 0 or more (0 turns the response cache off)");
        return SOUK_ERR;
    }
    return SOUK_OK;
}

static int catalog_init(souk_plugin *self, const souk_host_api *api)
{
    catalog_api = api;
    catalog_self = self;
    if (catalog_read_settings(self, api) != SOUK_OK)
        return SOUK_ERR;
    if (!SOUK_API_HAS(api, script_has)) {
        api->log(self, SOUK_LOG_ERROR, "needs souk plugin ABI 1.3 or newer (script_has)");
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
        api->service_register(self, CATALOG_SERVICE, CATALOG_SERVICE_VERSION_2,
                              &catalog_service_v2) != SOUK_OK ||
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
