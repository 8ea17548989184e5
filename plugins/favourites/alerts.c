/* alerts.c -- the plugin's event handlers.
 *
 * catalog.back_in_stock ({"sku", "product", "stock"}) is emitted inside the
 * transaction that raised a variant's stock from 0.  Each open subscription to
 * that SKU gets one alert through auth's notify_account (which picks SMS and/or
 * email from the shopper's preferences and queues into notify's outbox, in this
 * same transaction) and is closed in the same breath.  So:
 *   - a stock change that is rolled back takes its alerts and closings with it:
 *     nobody hears of stock that never came;
 *   - a subscription is alerted at most once: the next rise from 0 finds it
 *     closed;
 *   - a shopper who turned back-in-stock alerts off on every channel gets
 *     nothing, and the subscription closes all the same (sent 0), so turning
 *     them on later does not bring an old alert.
 * One subscriber's failure (an unknown account, a broken template) must not stop
 * a merchant from restocking: it is undone alone (a savepoint around each
 * subscriber), logged, and the subscription stays open for the next rise.  Only a
 * failure to write our own table fails the event, and with it the stock change.
 *
 * user.deleted ({"id"}), in the deletion's transaction: the account's favourites
 * and subscriptions are erased, history included. */
#include "favourites_internal.h"

#define ALERT_SAVEPOINT "favourites_alert"

/* What the message templates receive (docs/favourites.md):
 *   {"sku", "stock", "product": slug, "url": the product page (absolute),
 *    "waitlist_url", "title", "options_text" (the request's locale),
 *    "ru": {"title", "options_text"}, "en": {"title", "options_text"}}
 * The texts come per locale because each shopper is written to in their own
 * language, whatever the language of the request that restocked.  (yours) */
static json_t *alert_data(souk_ctx *ctx, const char *sku, const char *slug, json_int_t stock)
{
    const souk_host_api *api = fav_api;
    json_t *site = api->site(fav_self);
    const char *base = json_string_value(json_object_get(site, "url"));
    if (!base)
        base = "";
    json_t *data = json_pack("{s:s, s:I, s:s, s:s}", "sku", sku, "stock", stock, "product", slug,
                             "waitlist_url", api->format(ctx, "%s/waitlist", base));
    if (!data)
        return NULL;
    const char *locales[] = {NULL, "ru", "en"}; /* NULL: the request's, as the default */
    for (size_t i = 0; i < sizeof locales / sizeof *locales; i++) {
        json_t *p = fav_catalog->product_get(ctx, slug, locales[i], NULL);
        const char *title = json_string_value(json_object_get(p, "title"));
        const char *options =
            json_string_value(json_object_get(fav_variant_in(p, sku), "options_text"));
        json_t *texts = json_pack("{s:s, s:s}", "title", title ? title : sku, "options_text",
                                  options ? options : "");
        if (!locales[i]) {
            const char *path = json_string_value(json_object_get(p, "url"));
            json_object_set_new(data, "url", json_string(api->format(
                                                 ctx, "%s%s", base, path ? path : "/")));
            json_object_update(data, texts);
            json_decref(texts);
        } else {
            json_object_set_new(data, locales[i], texts);
        }
        json_decref(p);
    }
    return data;
}

/* Close subscription id: notified now when sent > 0, else closed silently. */
static int close_subscription(souk_ctx *ctx, int64_t id, int sent)
{
    sqlite3_stmt *st = fav_api->db_prepare(
        ctx, "UPDATE favourites_waitlist SET closed_at = ?1,"
             " notified_at = CASE WHEN ?2 > 0 THEN ?1 END, sent = ?2"
             " WHERE id = ?3 AND closed_at IS NULL");
    if (!st)
        return SOUK_ERR;
    sqlite3_bind_int64(st, 1, fav_api->now_ms(ctx));
    sqlite3_bind_int(st, 2, sent);
    sqlite3_bind_int64(st, 3, id);
    return sqlite3_step(st) == SQLITE_DONE ? SOUK_OK : SOUK_ERR;
}

int fav_on_back_in_stock(souk_ctx *ctx, const char *event, json_t *payload, void *udata)
{
    const souk_host_api *api = fav_api;
    const char *sku = json_string_value(json_object_get(payload, "sku"));
    const char *slug = json_string_value(json_object_get(payload, "product"));
    json_int_t stock = json_integer_value(json_object_get(payload, "stock"));
    if (!sku || !slug) {
        api->log(fav_self, SOUK_LOG_WARN, "%s without a sku or product: ignored", event);
        return SOUK_OK;
    }
    /* The open subscriptions first, then the sending: each alert writes to this
     * table, which a statement still being stepped should not see change. */
    sqlite3_stmt *st = api->db_prepare(
        ctx, "SELECT id, account_id FROM favourites_waitlist"
             " WHERE sku = ?1 AND closed_at IS NULL ORDER BY id");
    if (!st)
        return SOUK_ERR;
    sqlite3_bind_text(st, 1, sku, -1, SQLITE_STATIC);
    json_t *subs = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(subs, json_pack("[I, I]", (json_int_t)sqlite3_column_int64(st, 0),
                                              (json_int_t)sqlite3_column_int64(st, 1)));
    if (rc != SQLITE_DONE) {
        json_decref(subs);
        api->log(fav_self, SOUK_LOG_ERROR, "cannot read the waitlist of '%s': %s", sku,
                 sqlite3_errmsg(api->db(ctx)));
        return SOUK_ERR;
    }
    if (json_array_size(subs) == 0) {
        json_decref(subs);
        return SOUK_OK;
    }
    json_t *data = alert_data(ctx, sku, slug, stock);
    int result = SOUK_OK, alerted = 0, failed = 0;
    size_t i;
    json_t *sub;
    json_array_foreach(subs, i, sub) {
        int64_t id = json_integer_value(json_array_get(sub, 0));
        int64_t account = json_integer_value(json_array_get(sub, 1));
        if (api->db_exec(ctx, "SAVEPOINT " ALERT_SAVEPOINT) != SOUK_OK) {
            result = SOUK_ERR;
            break;
        }
        int sent = 0;
        const char *error = NULL;
        if (!data || fav_auth->notify_account(ctx, account, AUTH_PREF_BACK_IN_STOCK,
                                              FAV_MESSAGE_BACK_IN_STOCK, data, &sent,
                                              &error) != SOUK_OK) {
            api->db_exec(ctx, "ROLLBACK TO " ALERT_SAVEPOINT);
            api->db_exec(ctx, "RELEASE " ALERT_SAVEPOINT);
            api->log(fav_self, SOUK_LOG_WARN,
                     "back-in-stock alert of '%s' to account %lld not sent, still waiting: %s",
                     sku, (long long)account, error ? error : "the alert could not be made");
            failed++;
            continue;
        }
        if (close_subscription(ctx, id, sent) != SOUK_OK) {
            api->log(fav_self, SOUK_LOG_ERROR, "cannot close subscription %lld: %s",
                     (long long)id, sqlite3_errmsg(api->db(ctx)));
            api->db_exec(ctx, "ROLLBACK TO " ALERT_SAVEPOINT);
            api->db_exec(ctx, "RELEASE " ALERT_SAVEPOINT);
            result = SOUK_ERR;
            break;
        }
        api->db_exec(ctx, "RELEASE " ALERT_SAVEPOINT);
        alerted++;
    }
    json_decref(data);
    json_decref(subs);
    api->log(fav_self, SOUK_LOG_INFO, "'%s' is back in stock: %d subscription%s closed%s", sku,
             alerted, alerted == 1 ? "" : "s",
             failed ? api->format(ctx, ", %d left open after a failure", failed) : "");
    return result;
}

int fav_on_user_deleted(souk_ctx *ctx, const char *event, json_t *payload, void *udata)
{
    const souk_host_api *api = fav_api;
    int64_t account = fav_id_value(json_object_get(payload, "id"));
    if (!account) {
        api->log(fav_self, SOUK_LOG_WARN, "%s without an account id: ignored", event);
        return SOUK_OK;
    }
    const char *sql[] = {"DELETE FROM favourites_item WHERE account_id = ?1",
                         "DELETE FROM favourites_waitlist WHERE account_id = ?1"};
    for (size_t i = 0; i < sizeof sql / sizeof *sql; i++) {
        sqlite3_stmt *st = api->db_prepare(ctx, sql[i]);
        if (!st)
            return SOUK_ERR;
        sqlite3_bind_int64(st, 1, account);
        if (sqlite3_step(st) != SQLITE_DONE) {
            api->log(fav_self, SOUK_LOG_ERROR, "cannot erase the favourites of account %lld: %s",
                     (long long)account, sqlite3_errmsg(api->db(ctx)));
            return SOUK_ERR;
        }
    }
    return SOUK_OK;
}
