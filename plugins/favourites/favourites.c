/* favourites.c -- the favourites plugin: a shopper's favourite products and
 * back-in-stock alerts for variants that are sold out.  Settings and
 * registration; the files and what each owns are listed in
 * favourites_internal.h, the merchant's guide is docs/favourites.md. */
#include "favourites_internal.h"

#include <string.h>

const souk_host_api *fav_api;
souk_plugin *fav_self;
const catalog_v2 *fav_catalog;
const auth_v1 *fav_auth;
fav_settings fav_cfg;

/* Every route needs a signed-in shopper: guests get 401 from the API and are
 * sent to the sign-in page (with ?next=) from a page.  State changes only on
 * POST/DELETE, and forms carry the CSRF token (checked by the core).
 *
 * Pages remove with a form (POST, _method=DELETE) that names the product or SKU
 * in a field, so that no slug or SKU has to be written into a form's action;
 * the API names it in the path.  A SKU may hold a "/" ("TEE/M"): its API paths
 * take the rest of the path (*sku), as "%2F" is a segment boundary too. */
#define AUTH SOUK_ROUTE_AUTH

static const souk_route routes[] = {
    {"GET", "/favourites", fav_h_list, "favourites_list", AUTH, NULL},
    {"POST", "/favourites", fav_h_add, "favourites_list", AUTH, NULL},
    {"DELETE", "/favourites", fav_h_remove, "favourites_list", AUTH, NULL},
    {"GET", "/waitlist", fav_h_waitlist, "favourites_waitlist", AUTH, NULL},
    {"POST", "/waitlist", fav_h_subscribe, "favourites_waitlist", AUTH, NULL},
    {"DELETE", "/waitlist", fav_h_unsubscribe, "favourites_waitlist", AUTH, NULL},
    {"GET", "/api/v1/favourites", fav_h_list, NULL, AUTH, NULL},
    {"GET", "/api/v1/favourites/:slug", fav_h_get, NULL, AUTH, NULL},
    {"POST", "/api/v1/favourites", fav_h_add, NULL, AUTH, NULL},
    {"DELETE", "/api/v1/favourites/:slug", fav_h_remove, NULL, AUTH, NULL},
    {"GET", "/api/v1/waitlist", fav_h_waitlist, NULL, AUTH, NULL},
    {"GET", "/api/v1/waitlist/*sku", fav_h_wait_get, NULL, AUTH, NULL},
    {"POST", "/api/v1/waitlist", fav_h_subscribe, NULL, AUTH, NULL},
    {"DELETE", "/api/v1/waitlist/*sku", fav_h_unsubscribe, NULL, AUTH, NULL},
};

/* One whole-number setting of settings.favourites with its default and bounds. */
typedef struct fav_number {
    const char *key;
    int *out;
    int def, min, max;
} fav_number;

#define FAV_MAX_ITEMS_DEFAULT 500
#define FAV_MAX_ITEMS_LIMIT 100000
#define FAV_MAX_WAITLIST_DEFAULT 100
#define FAV_MAX_WAITLIST_LIMIT 10000

static int read_settings(souk_plugin *self, const souk_host_api *api)
{
    const fav_number list[] = {
        {"max_items", &fav_cfg.max_items, FAV_MAX_ITEMS_DEFAULT, 1, FAV_MAX_ITEMS_LIMIT},
        {"max_waitlist", &fav_cfg.max_waitlist, FAV_MAX_WAITLIST_DEFAULT, 1,
         FAV_MAX_WAITLIST_LIMIT},
    };
    const size_t n = sizeof list / sizeof *list;
    json_t *conf = api->config(self);
    const char *k;
    json_t *v;
    json_object_foreach(conf, k, v) {
        size_t i = 0;
        while (i < n && strcmp(list[i].key, k) != 0)
            i++;
        if (i == n) {
            api->log(self, SOUK_LOG_ERROR,
                     "souk.lua: settings.favourites.%s: unknown setting (known: max_items, "
                     "max_waitlist)",
                     k);
            return SOUK_ERR;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const fav_number *s = &list[i];
        json_t *val = json_object_get(conf, s->key);
        *s->out = s->def;
        if (!val)
            continue;
        if (!json_is_integer(val) || json_integer_value(val) < s->min ||
            json_integer_value(val) > s->max) {
            api->log(self, SOUK_LOG_ERROR,
                     "souk.lua: settings.favourites.%s: expected a whole number from %d to %d",
                     s->key, s->min, s->max);
            return SOUK_ERR;
        }
        *s->out = (int)json_integer_value(val);
    }
    return SOUK_OK;
}

static int favourites_init(souk_plugin *self, const souk_host_api *api)
{
    fav_api = api;
    fav_self = self;
    /* site (the store's address in alerts), render and template_exists (texts in
     * the shopper's locale) are ABI 1.3. */
    if (!SOUK_API_HAS(api, site) || !SOUK_API_HAS(api, render) ||
        !SOUK_API_HAS(api, template_exists)) {
        api->log(self, SOUK_LOG_ERROR,
                 "needs souk plugin ABI 1.3 or newer (site, render, template_exists)");
        return SOUK_ERR;
    }
    if (read_settings(self, api) != SOUK_OK)
        return SOUK_ERR;
    fav_catalog = api->service_get(self, CATALOG_SERVICE, CATALOG_SERVICE_VERSION_2);
    fav_auth = api->service_get(self, AUTH_SERVICE, AUTH_SERVICE_VERSION);
    if (!fav_catalog || !fav_auth)
        return SOUK_ERR; /* service_get logged which one */
    for (int i = 0; i < favourites_migration_count; i++)
        if (api->migration_add(self, &favourites_migrations[i]) != SOUK_OK)
            return SOUK_ERR;
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++)
        if (api->route_add(self, &routes[i]) != SOUK_OK)
            return SOUK_ERR;
    if (api->event_on(self, CATALOG_EVENT_BACK_IN_STOCK, fav_on_back_in_stock, NULL) !=
            SOUK_OK ||
        api->event_on(self, AUTH_EVENT_DELETED, fav_on_user_deleted, NULL) != SOUK_OK ||
        api->event_on(self, CATALOG_EVENT_PRODUCT_SHOWN, fav_on_product_shown, NULL) != SOUK_OK)
        return SOUK_ERR;
    return SOUK_OK;
}

static void favourites_fini(souk_plugin *self)
{
    fav_api = NULL;
    fav_self = NULL;
    fav_catalog = NULL;
    fav_auth = NULL;
}

/* notify: alerts are queued through the auth service into notify's outbox; the
 * dependency also makes the outbox exist before the first alert. */
static const char *const favourites_depends[] = {"catalog", "notify", "auth", NULL};

SOUK_PLUGIN("favourites", "1.0.0", favourites_depends, favourites_init, favourites_fini);
