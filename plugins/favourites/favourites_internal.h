/* favourites_internal.h -- shared by the favourites plugin's files.  The plugin
 * exports no service: other plugins learn of it only through its pages, its API
 * and the messages it queues.
 *
 * Files and what they own:
 *   favourites.c  init: settings, service lookups, registration
 *   schema.c      the tables (favourites_migrations)
 *   common.c      the shopper's account id, the "next" address of a form, texts
 *                 in the request's locale, answering a form or the API, removing
 *                 one of the shopper's rows
 *   items.c       favourites: list, add, remove (pages and API)
 *   waitlist.c    back-in-stock subscriptions: list, subscribe, unsubscribe
 *   alerts.c      catalog.back_in_stock -> one alert per open subscription;
 *                 user.deleted -> the account's rows erased
 *
 * Tables (schema.c):
 *   favourites_item      one row per (account, product slug)
 *   favourites_waitlist  one row per subscription to a variant (SKU); open while
 *                        closed_at is NULL, at most one open per (account, SKU)
 * Products are kept by slug and variants by SKU, the keys the catalog matches
 * imports by, so that a re-import does not orphan them.  The channel of an alert
 * is not stored: the auth plugin resolves it from the shopper's preferences when
 * the alert is sent. */
#ifndef FAVOURITES_INTERNAL_H
#define FAVOURITES_INTERNAL_H

#include "auth/auth.h"
#include "catalog/catalog.h"

#include <souk/souk.h>
#include <stdint.h>

/* The message template of an alert: message.back_in_stock.<channel>.<locale>. */
#define FAV_MESSAGE_BACK_IN_STOCK "back_in_stock"

/* Closed subscriptions shown under the open ones on the waitlist page. */
#define FAV_WAITLIST_HISTORY 20

/* The longest "next" address a form may ask to return to. */
#define FAV_NEXT_MAX 1024

/* The most of a slug or SKU from a shopper that a message quotes back (the
 * catalog's are far shorter). */
#define FAV_QUOTE_MAX 200

/* Set in init, valid until fini. */
extern const souk_host_api *fav_api;
extern souk_plugin *fav_self;
extern const catalog_v2 *fav_catalog;
extern const auth_v1 *fav_auth;

/* settings.favourites in souk.lua (favourites.c reads and bounds them). */
typedef struct fav_settings {
    int max_items;    /* favourites per account (500) */
    int max_waitlist; /* open subscriptions per account (100) */
} fav_settings;

extern fav_settings fav_cfg;

/* ------------------------------------------------------------- schema.c */
extern const souk_migration favourites_migrations[];
extern const int favourites_migration_count;

/* ------------------------------------------------------------- common.c */

/* The signed-in shopper's account id, 0 when there is none (routes are flagged
 * SOUK_ROUTE_AUTH, so a handler sees 0 only if the identity lacks an id). */
int64_t fav_account(souk_ctx *ctx);
/* An account id from a JSON value (an integer, or a string of digits); 0 when it
 * is neither. */
int64_t fav_id_value(json_t *v);
/* s to quote back in a message: "" when it is not UTF-8 (a path or field came
 * from a client), cut to FAV_QUOTE_MAX bytes at a character boundary.  Borrowed
 * or arena. */
const char *fav_quote(souk_ctx *ctx, const char *s);
/* A string input field, or NULL when absent, not a string or empty.  (A long
 * one is simply not found: lookups are bound parameters, quoting is cut.) */
const char *fav_input_key(souk_ctx *ctx, const char *name);
/* Where a form asks to go back to: its "next" field when it is a path on this
 * site ("/p/tea", not "//host" or "http://..."), else fallback.  Borrowed. */
const char *fav_next(souk_ctx *ctx, const char *fallback);
/* The text of code for a person: for a page, rendered in the request's locale
 * from the template "favourites_text" (the strings t.favourites.text.<code>, so
 * a store translates or rewords them in its locale files); for the API, and
 * whenever that fails, english (arena or static). */
const char *fav_text(souk_ctx *ctx, const char *code, const char *english);
/* res_error(status, code) with the message fav_text(key, english): the code is
 * the API's stable word ("not_found"), the key names the text ("no_product"). */
int fav_fail(souk_ctx *ctx, int status, const char *code, const char *key, const char *english,
             const char *field);
/* The end of a successful form post: a flash (kind "success" or "info") with
 * fav_text(code) and a 303 to next.  For the API nothing happens (the handler
 * has filled the view). */
int fav_done(souk_ctx *ctx, const char *kind, const char *code, const char *english,
             const char *next);
/* A database failure: logged with SQLite's message, 500 for the shopper. */
int fav_db_failed(souk_ctx *ctx, const char *what);
/* 404 not_found with the message format (one %s: key, quoted) for the API. */
int fav_not_found(souk_ctx *ctx, const char *format, const char *key);
/* The account's rows that sql counts (SELECT count(*) ... account_id = ?1), -1
 * on a database error. */
int fav_count(souk_ctx *ctx, const char *sql, int64_t account);
/* The variant of product (product_get's shape, borrowed) with this SKU, or
 * NULL. */
json_t *fav_variant_in(json_t *product, const char *sku);

/* Fills a list page's view for account (items.c, waitlist.c); SOUK_ERR after
 * filling the error view. */
typedef int (*fav_fill_fn)(souk_ctx *ctx, int64_t account);
/* A refused request: fav_fail(); a page form refused with 422 first gets its
 * list page's view (fill), so the page shows the form again with the error. */
int fav_refuse(souk_ctx *ctx, fav_fill_fn fill, int64_t account, int status, const char *code,
               const char *key, const char *english, const char *field);

/* The key a request names (a product's slug, a variant's SKU): the path
 * parameter when the route has one, else the input field of the same name. */
typedef struct fav_key {
    const char *field;                         /* "slug" or "sku" */
    fav_fill_fn fill;                          /* the list page whose forms send it */
    const char *guest;                         /* English: the 401 for a guest */
    const char *missing_key, *missing_english; /* the 422 when there is none */
} fav_key;
/* The key, with the signed-in shopper in *account; NULL after answering 401 (a
 * guest) or 422 (no key): the handler returns SOUK_ERR.  Borrowed. */
const char *fav_key_get(souk_ctx *ctx, const fav_key *k, int64_t *account);

/* Removing one row of the shopper's (a favourite, a subscription). */
typedef struct fav_removal {
    fav_key key;          /* its field is also the key of "removed" */
    const char *sql;      /* DELETE ... WHERE account_id = ?1 AND <the key> = ?2 ... */
    const char *what;     /* for fav_db_failed: "remove the favourite" */
    const char *page;     /* where the form returns unless it says "next" */
    const char *absent_key, *absent_english; /* the page's flash: there was nothing to remove */
    const char *absent_api;                  /* the API's 404 message (fav_not_found) */
    const char *done_key, *done_english;     /* the page's flash: removed */
} fav_removal;
/* The whole handler: 401 for a guest, 422 without the key, the row deleted, then
 * {"removed": {field: key}} (API) or a flash and 303 to next (page).  Nothing to
 * remove is 404 for the API and news (an "info" flash) for a page: the product
 * page offers "remove" without knowing whether there is anything. */
int fav_remove(souk_ctx *ctx, const fav_removal *r);

/* -------------------------------------------------------------- items.c */
int fav_h_list(souk_ctx *ctx);   /* GET /favourites, /api/v1/favourites */
int fav_h_get(souk_ctx *ctx);    /* GET /api/v1/favourites/:slug */
int fav_h_add(souk_ctx *ctx);    /* POST /favourites, /api/v1/favourites */
int fav_h_remove(souk_ctx *ctx); /* DELETE /favourites (form: slug), /api/v1/favourites/:slug */
/* catalog.product_shown (a signed-in shopper's product page): adds
 * "favourites": {"favourite": bool} to the view, so the page offers the one
 * action that applies. */
int fav_on_product_shown(souk_ctx *ctx, const char *event, json_t *payload, void *udata);

/* ----------------------------------------------------------- waitlist.c */
int fav_h_waitlist(souk_ctx *ctx);     /* GET /waitlist, /api/v1/waitlist */
int fav_h_wait_get(souk_ctx *ctx);     /* GET /api/v1/waitlist/SKU... */
int fav_h_subscribe(souk_ctx *ctx);    /* POST /waitlist, /api/v1/waitlist */
int fav_h_unsubscribe(souk_ctx *ctx);  /* DELETE /waitlist (form: sku), /api/v1/waitlist/SKU... */

/* ------------------------------------------------------------- alerts.c */
int fav_on_back_in_stock(souk_ctx *ctx, const char *event, json_t *payload, void *udata);
int fav_on_user_deleted(souk_ctx *ctx, const char *event, json_t *payload, void *udata);

#endif
