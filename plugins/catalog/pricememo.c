/* pricememo.c -- the worker's memo of displayed prices: the price shapes that
 * pricing.lua gave recently, so that a page whose items were priced a moment
 * ago for the same kind of customer costs no script call (docs/pricing.md,
 * "The price memo").
 *
 * Why an answer may be reused -- the same promise as the response cache and
 * listing.c's price table:
 *   - the entry's key is (customer key, locale, SKU).  While the database is
 *     exactly as it was (catalog_db_stamp), a SKU and a locale fix the item's
 *     JSON that the script sees (products.c builds it from the rows alone);
 *   - the customer key is the script's own word that customers with the same
 *     key get the same prices (M.customer_key), or the whole customer object;
 *   - what remains is context.now and the script's version: the memo is
 *     dropped once it is settings.catalog.cache_ms old on the store clock, so
 *     a rule on the time or a reloaded script shows at most that late, and
 *     cache_ms = 0 never uses it.
 * Never inside a write transaction: the request may have changed catalog rows
 * that a rollback would undo while the stamp stays as it was.  Only answers
 * that passed pricing.c's checks are stored, so a refused answer is never
 * served again.  Workers are single-threaded: one memo per process. */
#include "catalog_internal.h"
#include "listing_set.h"

#include <stdlib.h>
#include <string.h>

/* At most this many shapes are kept (a shape is some hundreds of bytes): the
 * memo is cleared when a new one would exceed it. */
#define PRICE_MEMO_MAX 20000
#define CUSTOMER_KEY_FN "customer_key" /* the optional function of pricing.lua */
#define CUSTOMER_KEY_MAX 64            /* bytes of its answer */
#define CUSTOMER_KEY_GUEST "guest"     /* a guest's key without customer_key */

static struct {
    json_t *map;                 /* memo key -> price shape (yours) */
    int64_t version, changes;    /* the database as its entries were priced */
    int64_t started_ms;          /* store clock of its oldest entry */
} memo;

/* The memo's memory must not outlive the code that knows it, and leak checkers
 * see a clean exit. */
__attribute__((destructor)) static void price_memo_unload(void)
{
    json_decref(memo.map);
    memo.map = NULL;
}

json_t *catalog_price_memo(souk_ctx *ctx, int64_t now_ms)
{
    int64_t max_age = catalog_cache_ms(), version, changes;
    if (max_age <= 0 || catalog_db_stamp(ctx, &version, &changes) != 0 ||
        sqlite3_txn_state(catalog_api->db(ctx), NULL) == SQLITE_TXN_WRITE)
        return NULL;
    if (!memo.map && !(memo.map = json_object()))
        return NULL;
    int64_t age = now_ms - memo.started_ms;
    /* A store clock moved back (the tests' clock file) is no younger memo. */
    if (memo.version != version || memo.changes != changes || age < 0 || age >= max_age) {
        json_object_clear(memo.map);
        memo.version = version;
        memo.changes = changes;
        memo.started_ms = now_ms;
    }
    return memo.map;
}

const char *catalog_price_memo_key(souk_ctx *ctx, const char *customer_key, const char *lang,
                                   const char *sku)
{
    /* Length-prefixed: no customer key can run into the locale or the SKU. */
    return catalog_api->format(ctx, "%zu:%s|%s|%s", strlen(customer_key), customer_key, lang,
                               sku);
}

void catalog_price_memo_put(json_t *map, const char *key, json_t *shape)
{
    if (json_object_size(map) >= PRICE_MEMO_MAX)
        json_object_clear(map);
    json_object_set_new(map, key, shape);
}

/* The key of a script without customer_key: the whole customer, canonical. */
static const char *customer_key_default(souk_ctx *ctx, json_t *customer)
{
    if (!customer || json_is_null(customer))
        return CUSTOMER_KEY_GUEST;
    char *text = json_dumps(customer, JSON_SORT_KEYS | JSON_COMPACT);
    if (!text)
        return NULL;
    const char *key = catalog_api->format(ctx, "customer %s", text);
    free(text);
    return key;
}

int catalog_price_customer_key(souk_ctx *ctx, json_t *customer, json_t *context,
                               const char **key, const char **error)
{
    *key = NULL;
    /* Asked on every call: a script reloaded with (or without) the hook is
     * followed at once, and asking runs none of its code. */
    if (catalog_api->script_has(ctx, CATALOG_SCRIPT, CUSTOMER_KEY_FN)) {
        json_t *args = json_pack("[O, O]", customer ? customer : json_null(), context);
        json_t *result = NULL;
        const char *why = NULL;
        int rc = catalog_api->script_call(ctx, CATALOG_SCRIPT, CUSTOMER_KEY_FN, args, &result,
                                          &why);
        json_decref(args);
        if (rc != SOUK_OK) {
            /* script_call has logged it, with the script's line. */
            *error = why ? why : CATALOG_SCRIPT ".lua: " CUSTOMER_KEY_FN "() failed";
            return SOUK_ERR;
        } else {
            const char *s = json_string_value(result);
            size_t len = s ? strlen(s) : 0;
            if (len == 0 || len > CUSTOMER_KEY_MAX) {
                const char *got = !s ? (json_is_number(result) ? "a number"
                                        : json_is_boolean(result) ? "a boolean"
                                        : json_is_null(result) ? "nothing" : "a table")
                                  : catalog_api->format(ctx, "a string of %zu bytes", len);
                const char *msg = catalog_api->format(
                    ctx, "%s.lua: %s() returned %s, not a non-empty string of at most %d bytes",
                    CATALOG_SCRIPT, CUSTOMER_KEY_FN, got, CUSTOMER_KEY_MAX);
                json_decref(result);
                catalog_api->log(catalog_self, SOUK_LOG_ERROR, "%s", msg);
                *error = msg;
                return SOUK_ERR;
            }
            *key = catalog_api->dup(ctx, s);
            json_decref(result);
            return SOUK_OK;
        }
    }
    *key = customer_key_default(ctx, customer);
    if (!*key) {
        *error = CATALOG_SCRIPT ".lua: the customer cannot be written as JSON";
        return SOUK_ERR;
    }
    return SOUK_OK;
}
