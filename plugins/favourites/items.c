/* items.c -- a shopper's favourite products: list, add, remove.  One handler per
 * action serves the page (a form posts, then 303 back with a flash message) and
 * the API (JSON in, the view model out).
 *
 * View models (docs/favourites.md documents them for API users):
 *   list      {"items": [item], "count", "max"}
 *   item      {"slug", "added_at", "available": bool, "product": card or null}
 *             card: the catalog's card shape, priced for the shopper; null (and
 *             available false) when the product is no longer sold
 *   favourite {"slug", "added_at", "title"} */
#include "favourites_internal.h"

#include <string.h>

/* The API's 404 for a product that is not one of the shopper's favourites. */
#define NOT_FAVOURITE "'%s' is not in your favourites"

/* ------------------------------------------------------------------ list */

/* Fill the view with the account's list.  SOUK_ERR after filling the error view
 * (the database, or the catalog's pricing failed). */
static int list_fill(souk_ctx *ctx, int64_t account)
{
    const souk_host_api *api = fav_api;
    sqlite3_stmt *st = api->db_prepare(
        ctx, "SELECT product, added_at FROM favourites_item WHERE account_id = ?1"
             " ORDER BY added_at DESC, id DESC LIMIT ?2");
    if (!st)
        return fav_db_failed(ctx, "read the favourites");
    sqlite3_bind_int64(st, 1, account);
    sqlite3_bind_int(st, 2, fav_cfg.max_items);
    json_t *rows = json_array(), *slugs = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *slug = (const char *)sqlite3_column_text(st, 0);
        json_t *row = json_pack("{s:s, s:I}", "slug", slug, "added_at",
                                (json_int_t)sqlite3_column_int64(st, 1));
        if (!row)
            continue; /* a slug that is not UTF-8 cannot be shown */
        json_array_append_new(rows, row);
        json_array_append_new(slugs, json_string(slug));
    }
    if (rc != SQLITE_DONE) {
        json_decref(rows);
        json_decref(slugs);
        return fav_db_failed(ctx, "read the favourites");
    }
    json_t *cards = NULL;
    const char *error = NULL;
    int prc = fav_catalog->product_cards(ctx, slugs, &cards, &error);
    json_decref(slugs);
    if (prc != SOUK_OK) {
        json_decref(rows);
        return SOUK_ERR; /* the catalog filled the error view */
    }
    /* The cards come in the list's order, without the products no longer sold. */
    json_t *by_slug = json_object();
    size_t i;
    json_t *card;
    json_array_foreach(cards, i, card) {
        const char *slug = json_string_value(json_object_get(card, "slug"));
        if (slug)
            json_object_set(by_slug, slug, card);
    }
    json_t *row;
    json_array_foreach(rows, i, row) {
        json_t *c = json_object_get(by_slug, json_string_value(json_object_get(row, "slug")));
        json_object_set_new(row, "available", json_boolean(c != NULL));
        json_object_set(row, "product", c ? c : json_null());
    }
    json_decref(by_slug);
    json_decref(cards);
    json_t *view = api->view(ctx);
    json_object_set_new(view, "count", json_integer((json_int_t)json_array_size(rows)));
    json_object_set_new(view, "max", json_integer(fav_cfg.max_items));
    json_object_set_new(view, "items", rows);
    return SOUK_OK;
}

int fav_h_list(souk_ctx *ctx)
{
    int64_t account = fav_account(ctx);
    if (!account)
        return fav_api->res_error(ctx, 401, "unauthorized", "sign in to see your favourites",
                                  NULL);
    return list_fill(ctx, account);
}

/* The added_at of slug in the account's favourites; 0 when it is not one, -1 on
 * a database error. */
static int64_t added_at(souk_ctx *ctx, int64_t account, const char *slug)
{
    sqlite3_stmt *st = fav_api->db_prepare(
        ctx, "SELECT added_at FROM favourites_item WHERE account_id = ?1 AND product = ?2");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, account);
    sqlite3_bind_text(st, 2, slug, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        int64_t t = sqlite3_column_int64(st, 0);
        return t > 0 ? t : 1; /* 0 means "not one" to the caller */
    }
    return rc == SQLITE_DONE ? 0 : -1;
}

int fav_h_get(souk_ctx *ctx)
{
    const souk_host_api *api = fav_api;
    int64_t account = fav_account(ctx);
    const char *slug = api->req_param(ctx, "slug");
    if (!account || !slug)
        return api->res_error(ctx, 401, "unauthorized", "sign in first", NULL);
    int64_t at = added_at(ctx, account, slug);
    if (at < 0)
        return fav_db_failed(ctx, "read the favourites");
    if (at == 0)
        return fav_not_found(ctx, NOT_FAVOURITE, slug);
    json_object_set_new(api->view(ctx), "favourite",
                        json_pack("{s:s, s:I}", "slug", slug, "added_at", (json_int_t)at));
    return SOUK_OK;
}

/* ------------------------------------------------------------------- add */

static const fav_key adding = {
    "slug", list_fill, "sign in to keep favourites", "slug_required",
    "slug is required: the slug of the product to add"};

int fav_h_add(souk_ctx *ctx)
{
    const souk_host_api *api = fav_api;
    int64_t account;
    const char *slug = fav_key_get(ctx, &adding, &account);
    if (!slug)
        return SOUK_ERR;
    const char *error = NULL;
    json_t *product = fav_catalog->product_get(ctx, slug, NULL, &error);
    if (!product && error)
        return api->res_error(ctx, 500, "db", error, NULL);
    const char *status = json_string_value(json_object_get(product, "status"));
    if (!product || !status || strcmp(status, "active") != 0) {
        json_decref(product);
        return fav_fail(ctx, 404, "not_found", "no_product",
                        api->format(ctx, "there is no product '%s' in the catalog",
                                    fav_quote(ctx, slug)),
                        "slug");
    }
    json_t *title = json_incref(json_object_get(product, "title"));
    json_decref(product);

    int64_t at = added_at(ctx, account, slug);
    int created = at == 0;
    if (at < 0) {
        json_decref(title);
        return fav_db_failed(ctx, "read the favourites");
    }
    if (created) {
        int n = fav_count(ctx, "SELECT count(*) FROM favourites_item WHERE account_id = ?1",
                          account);
        if (n < 0) {
            json_decref(title);
            return fav_db_failed(ctx, "count the favourites");
        }
        if (n >= fav_cfg.max_items) {
            json_decref(title);
            return fav_fail(ctx, 409, "limit", "items_limit",
                            api->format(ctx, "you already have %d favourites, the most a list "
                                             "can hold: remove some first",
                                        n),
                            "slug");
        }
        at = api->now_ms(ctx);
        sqlite3_stmt *st = api->db_prepare(
            ctx, "INSERT INTO favourites_item(account_id, product, added_at) VALUES(?1, ?2, ?3)");
        if (!st) {
            json_decref(title);
            return fav_db_failed(ctx, "add the favourite");
        }
        sqlite3_bind_int64(st, 1, account);
        sqlite3_bind_text(st, 2, slug, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, at);
        if (sqlite3_step(st) != SQLITE_DONE) {
            json_decref(title);
            return fav_db_failed(ctx, "add the favourite");
        }
    }
    json_t *view = api->view(ctx);
    json_object_set_new(view, "favourite",
                        json_pack("{s:s, s:I, s:o?}", "slug", slug, "added_at", (json_int_t)at,
                                  "title", title));
    json_object_set_new(view, "created", json_boolean(created));
    api->res_status(ctx, created ? 201 : 200);
    if (created)
        return fav_done(ctx, "success", "added", "Added to your favourites.",
                        fav_next(ctx, "/favourites"));
    return fav_done(ctx, "info", "already_added", "This product is already in your favourites.",
                    fav_next(ctx, "/favourites"));
}

/* ---------------------------------------------------------------- remove */

static const fav_removal removal = {
    .key = {"slug", list_fill, "sign in first", "slug_required",
            "slug is required: the slug of the product to remove"},
    .sql = "DELETE FROM favourites_item WHERE account_id = ?1 AND product = ?2",
    .what = "remove the favourite",
    .page = "/favourites",
    .absent_key = "not_favourite",
    .absent_english = "This product is not in your favourites.",
    .absent_api = NOT_FAVOURITE,
    .done_key = "removed",
    .done_english = "Removed from your favourites.",
};

int fav_h_remove(souk_ctx *ctx) { return fav_remove(ctx, &removal); }

int fav_on_product_shown(souk_ctx *ctx, const char *event, json_t *payload, void *udata)
{
    const souk_host_api *api = fav_api;
    int64_t account = fav_account(ctx);
    const char *slug = json_string_value(json_object_get(payload, "slug"));
    if (!account || !slug)
        return SOUK_OK;
    sqlite3_stmt *st = api->db_prepare(
        ctx, "SELECT 1 FROM favourites_item WHERE account_id = ?1 AND product = ?2");
    if (!st)
        return SOUK_ERR;
    sqlite3_bind_int64(st, 1, account);
    sqlite3_bind_text(st, 2, slug, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return SOUK_ERR;
    json_object_set_new(api->view(ctx), "favourites",
                        json_pack("{s:b}", "favourite", rc == SQLITE_ROW));
    return SOUK_OK;
}
