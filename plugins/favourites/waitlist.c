/* waitlist.c -- back-in-stock subscriptions: a shopper asks to be told when a
 * sold-out variant (a SKU) is back; alerts.c sends the alert and closes the
 * subscription.  Subscribing to a variant that is in stock is refused (409): it
 * can be bought now, and an alert would never come.
 *
 * View models (docs/favourites.md):
 *   list          {"waiting": [subscription], "history": [subscription] (the
 *                  latest closed ones, at most FAV_WAITLIST_HISTORY), "count":
 *                  open subscriptions, "history_count", "max"}
 *   subscription  {"sku", "product": slug, "title", "options_text", "url",
 *                  "stock", "in_stock", "available", "status": "waiting" |
 *                  "notified" | "closed", "created_at", "notified_at",
 *                  "closed_at"}
 *                 title, options_text and url are null and available false when
 *                 the variant is no longer sold; "closed" is a subscription that
 *                 closed without a message (every channel turned off). */
#include "favourites_internal.h"

#include <string.h>

/* The API's 404 for a SKU the shopper is not waiting for. */
#define NOT_WAITING "you are not waiting for '%s'"

/* ------------------------------------------------------------ describing */

/* The product slug as product_get gives it, read once per request (cache:
 * slug -> product or null, yours). */
static json_t *product_cached(souk_ctx *ctx, json_t *cache, const char *slug)
{
    if (!slug)
        return NULL;
    json_t *p = json_object_get(cache, slug);
    if (p)
        return json_is_null(p) ? NULL : p;
    p = fav_catalog->product_get(ctx, slug, NULL, NULL);
    json_object_set_new(cache, slug, p ? p : json_null());
    return p;
}

/* Add to sub (a subscription being built) what the catalog says of its variant
 * now: stored_slug is the product it belonged to when subscribed; a variant that
 * has moved is found through variant_get. */
static void describe(souk_ctx *ctx, json_t *cache, json_t *sub, const char *sku,
                     const char *stored_slug)
{
    json_t *p = product_cached(ctx, cache, stored_slug);
    json_t *v = p ? fav_variant_in(p, sku) : NULL;
    if (!v) {
        json_t *moved = fav_catalog->variant_get(ctx, sku);
        const char *slug = json_string_value(json_object_get(moved, "product"));
        p = slug ? product_cached(ctx, cache, slug) : NULL;
        v = p ? fav_variant_in(p, sku) : NULL;
        json_decref(moved);
    }
    const char *status = json_string_value(json_object_get(p, "status"));
    int available = v && status && strcmp(status, "active") == 0;
    json_object_set_new(sub, "product", p ? json_incref(json_object_get(p, "slug"))
                                          : json_string(stored_slug));
    json_object_set(sub, "title", available ? json_object_get(p, "title") : json_null());
    json_object_set(sub, "url", available ? json_object_get(p, "url") : json_null());
    json_object_set(sub, "options_text",
                    available ? json_object_get(v, "options_text") : json_null());
    json_object_set_new(sub, "stock",
                        json_integer(json_integer_value(json_object_get(v, "stock"))));
    json_object_set_new(sub, "in_stock",
                        json_boolean(json_is_true(json_object_get(v, "in_stock"))));
    json_object_set_new(sub, "available", json_boolean(available));
}

/* The columns every subscription query selects, in this order. */
#define SUB_COLUMNS                                                            \
    "SELECT sku, product, created_at, notified_at, closed_at FROM favourites_waitlist"

static json_t *null_or_int(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL
               ? json_null()
               : json_integer((json_int_t)sqlite3_column_int64(st, col));
}

/* The subscriptions the statement st (SUB_COLUMNS, bound) yields, described
 * (yours); NULL on a database error. */
static json_t *subscriptions(souk_ctx *ctx, json_t *cache, sqlite3_stmt *st)
{
    json_t *out = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *sku = (const char *)sqlite3_column_text(st, 0);
        const char *slug = (const char *)sqlite3_column_text(st, 1);
        int closed = sqlite3_column_type(st, 4) != SQLITE_NULL;
        int notified = sqlite3_column_type(st, 3) != SQLITE_NULL;
        json_t *sub = json_pack("{s:s, s:s, s:I, s:o, s:o}", "sku", sku, "status",
                                !closed ? "waiting" : notified ? "notified" : "closed",
                                "created_at", (json_int_t)sqlite3_column_int64(st, 2),
                                "notified_at", null_or_int(st, 3), "closed_at",
                                null_or_int(st, 4));
        if (!sub || !slug)
            continue; /* text that is not UTF-8 cannot be shown */
        describe(ctx, cache, sub, sku, slug);
        json_array_append_new(out, sub);
    }
    if (rc != SQLITE_DONE) {
        json_decref(out);
        return NULL;
    }
    return out;
}

/* ------------------------------------------------------------------ list */

static int list_fill(souk_ctx *ctx, int64_t account)
{
    const souk_host_api *api = fav_api;
    json_t *cache = json_object();
    sqlite3_stmt *open = api->db_prepare(
        ctx, SUB_COLUMNS " WHERE account_id = ?1 AND closed_at IS NULL"
                         " ORDER BY created_at DESC, id DESC");
    json_t *waiting = NULL, *history = NULL;
    if (open) {
        sqlite3_bind_int64(open, 1, account);
        waiting = subscriptions(ctx, cache, open);
    }
    sqlite3_stmt *closed = waiting ? api->db_prepare(
                                         ctx, SUB_COLUMNS
                                         " WHERE account_id = ?1 AND closed_at IS NOT NULL"
                                         " ORDER BY closed_at DESC, id DESC LIMIT ?2")
                                   : NULL;
    if (closed) {
        sqlite3_bind_int64(closed, 1, account);
        sqlite3_bind_int(closed, 2, FAV_WAITLIST_HISTORY);
        history = subscriptions(ctx, cache, closed);
    }
    json_decref(cache);
    if (!waiting || !history) {
        json_decref(waiting);
        json_decref(history);
        return fav_db_failed(ctx, "read the waitlist");
    }
    json_t *view = api->view(ctx);
    json_object_set_new(view, "count", json_integer((json_int_t)json_array_size(waiting)));
    json_object_set_new(view, "history_count",
                        json_integer((json_int_t)json_array_size(history)));
    json_object_set_new(view, "max", json_integer(fav_cfg.max_waitlist));
    json_object_set_new(view, "waiting", waiting);
    json_object_set_new(view, "history", history);
    return SOUK_OK;
}

int fav_h_waitlist(souk_ctx *ctx)
{
    int64_t account = fav_account(ctx);
    if (!account)
        return fav_api->res_error(ctx, 401, "unauthorized", "sign in to see your waitlist", NULL);
    return list_fill(ctx, account);
}

/* The account's open subscription to sku as a described subscription (yours);
 * NULL with *db_error 0 when there is none, 1 on a database error. */
static json_t *open_subscription(souk_ctx *ctx, int64_t account, const char *sku, int *db_error)
{
    *db_error = 0;
    sqlite3_stmt *st = fav_api->db_prepare(
        ctx, SUB_COLUMNS " WHERE account_id = ?1 AND sku = ?2 AND closed_at IS NULL");
    if (!st) {
        *db_error = 1;
        return NULL;
    }
    sqlite3_bind_int64(st, 1, account);
    sqlite3_bind_text(st, 2, sku, -1, SQLITE_STATIC);
    json_t *cache = json_object();
    json_t *list = subscriptions(ctx, cache, st);
    json_decref(cache);
    if (!list) {
        *db_error = 1;
        return NULL;
    }
    json_t *sub = json_incref(json_array_get(list, 0));
    json_decref(list);
    return sub;
}

int fav_h_wait_get(souk_ctx *ctx)
{
    const souk_host_api *api = fav_api;
    int64_t account = fav_account(ctx);
    const char *sku = api->req_param(ctx, "sku");
    if (!account)
        return api->res_error(ctx, 401, "unauthorized", "sign in first", NULL);
    if (!sku)
        sku = "";
    int db_error;
    json_t *sub = open_subscription(ctx, account, sku, &db_error);
    if (db_error)
        return fav_db_failed(ctx, "read the waitlist");
    if (!sub)
        return fav_not_found(ctx, NOT_WAITING, sku);
    json_object_set_new(api->view(ctx), "subscription", sub);
    return SOUK_OK;
}

/* ------------------------------------------------------------- subscribe */

static const fav_key subscribing = {
    "sku", list_fill, "sign in to be alerted", "sku_required",
    "sku is required: the SKU of the variant to wait for"};

int fav_h_subscribe(souk_ctx *ctx)
{
    const souk_host_api *api = fav_api;
    int64_t account;
    const char *sku = fav_key_get(ctx, &subscribing, &account);
    if (!sku)
        return SOUK_ERR;
    json_t *variant = fav_catalog->variant_get(ctx, sku);
    const char *status = json_string_value(json_object_get(variant, "status"));
    const char *slug = json_string_value(json_object_get(variant, "product"));
    if (!variant || !slug || !status || strcmp(status, "active") != 0) {
        json_decref(variant);
        return fav_fail(ctx, 404, "not_found", "no_variant",
                        api->format(ctx, "there is no variant with SKU '%s' in the catalog",
                                    fav_quote(ctx, sku)),
                        "sku");
    }
    json_int_t stock = json_integer_value(json_object_get(variant, "stock"));
    slug = api->dup(ctx, slug);
    json_decref(variant);
    if (stock > 0)
        return fav_fail(ctx, 409, "in_stock", "in_stock",
                        api->format(ctx, "'%s' is in stock (%lld left): it can be ordered now, "
                                         "so there is nothing to wait for",
                                    fav_quote(ctx, sku), (long long)stock),
                        "sku");

    int db_error;
    json_t *sub = open_subscription(ctx, account, sku, &db_error);
    if (db_error)
        return fav_db_failed(ctx, "read the waitlist");
    int created = sub == NULL;
    if (created) {
        int n = fav_count(ctx, "SELECT count(*) FROM favourites_waitlist"
                               " WHERE account_id = ?1 AND closed_at IS NULL", account);
        if (n < 0)
            return fav_db_failed(ctx, "count the waitlist");
        if (n >= fav_cfg.max_waitlist)
            return fav_fail(ctx, 409, "limit", "waitlist_limit",
                            api->format(ctx, "you are already waiting for %d variants, the most "
                                             "a waitlist can hold: remove some first",
                                        n),
                            "sku");
        sqlite3_stmt *st = api->db_prepare(
            ctx, "INSERT INTO favourites_waitlist(account_id, sku, product, created_at)"
                 " VALUES(?1, ?2, ?3, ?4)");
        if (!st)
            return fav_db_failed(ctx, "subscribe");
        sqlite3_bind_int64(st, 1, account);
        sqlite3_bind_text(st, 2, sku, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, slug, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, api->now_ms(ctx));
        if (sqlite3_step(st) != SQLITE_DONE)
            return fav_db_failed(ctx, "subscribe");
        sub = open_subscription(ctx, account, sku, &db_error);
        if (!sub)
            return fav_db_failed(ctx, "read the waitlist");
    }
    json_t *view = api->view(ctx);
    json_object_set_new(view, "subscription", sub);
    json_object_set_new(view, "created", json_boolean(created));
    api->res_status(ctx, created ? 201 : 200);
    const char *next = fav_next(ctx, "/waitlist");
    if (created)
        return fav_done(ctx, "success", "subscribed",
                        "We will let you know as soon as it is back in stock.", next);
    return fav_done(ctx, "info", "already_subscribed",
                    "You are already waiting for this one: we will let you know.", next);
}

/* ----------------------------------------------------------- unsubscribe */

static const fav_removal removal = {
    .key = {"sku", list_fill, "sign in first", "sku_required",
            "sku is required: the SKU of the variant to stop waiting for"},
    .sql = "DELETE FROM favourites_waitlist WHERE account_id = ?1 AND sku = ?2"
           " AND closed_at IS NULL",
    .what = "unsubscribe",
    .page = "/waitlist",
    .absent_key = "not_subscribed",
    .absent_english = "You were not waiting for this one.",
    .absent_api = NOT_WAITING,
    .done_key = "unsubscribed",
    .done_english = "You will not be alerted about it.",
};

int fav_h_unsubscribe(souk_ctx *ctx) { return fav_remove(ctx, &removal); }
