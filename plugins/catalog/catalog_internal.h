/* catalog_internal.h -- what the files of the catalog plugin share.  Not for other
 * plugins (they include catalog.h only).
 *
 * Files and their rooms:
 *   catalog.c     init/fini: migrations, routes, service, events, commands, db hook
 *   schema.c      the migrations (SQL)
 *   tokenizer.c   the FTS5 tokenizer "souk_stem" (unicode61 + Snowball, ru/en)
 *   index.c       keeping catalog_fts / catalog_suggest in step with products
 *   listing.c     listing and search: parameters, FTS, filters, sort, facets, pages
 *   listing_set.c (part of listing.c's room) the candidate set of a listing, read
 *                 with one statement and cached per worker; private header
 *                 listing_set.h
 *   products.c    product, category and variant reads and their JSON shapes;
 *                 the page/API handlers of home, categories, listing, product
 *   categories.c  (part of products.c's room) the category tree, paths, lookups
 *                 and GET /api/v1/categories; private header categories.h
 *   pickup.c      pickup points: list, nearest (R*Tree + great-circle)
 *   stock.c       the catalog.v1 service (stock, variant lookup, prices by SKU)
 *   pricing.c     running pricing.lua over items and validating what it returns
 *   pricememo.c   (part of pricing.c's room) the worker's memo of recent prices
 *   money.c       formatting minor units for people ("1 990 ₽", "RUB 1,990.00")
 *   sanitize.c    HTML of imported descriptions reduced to a safe subset
 *   import.c      `souk import` (CSV, JSON, Shopify CSV)
 *   price_cmd.c   `souk price`
 *   demo.c        the demonstration catalog made by `souk init --demo`
 *
 * JSON shapes (the view models; docs/api.md documents them for API users):
 *
 *   price  {"amount": 199000, "currency": "RUB", "amount_text": "1 990 ₽",
 *           "base": 249000, "base_text": "2 490 ₽", "discounted": true,
 *           "adjustments": [{"label", "amount", "amount_text", "rule"}]}
 *          amount = base + sum(adjustments.amount), always (pricing.c checks).
 *   card   {"slug", "title", "brand", "url": "/p/<slug>",
 *           "category": {"slug", "name", "url"}, "image": url or null,
 *           "in_stock": bool, "variants_count": n,
 *           "price": price of the cheapest variant as displayed ("from")}
 *   product card + {"description_html" (sanitised HTML), "attributes": {name: value},
 *           "images": [url], "status", "created_at",
 *           "category_path": [{"slug", "name", "url"}] (root first),
 *           "variants": [{"sku", "options": {name: value}, "options_text",
 *                         "stock", "in_stock", "price": price}]}
 *   list   {"items": [card], "total", "page", "per_page", "pages",
 *           "query": {"q", "category", "brand", "min_price", "max_price",
 *                     "in_stock", "sort",
 *                     "price_from", "price_to" (the bounds in whole units, for
 *                     the filter form; the form sends them back by these names)},
 *           "sorts": {<the current sort>: true},
 *           "query_message" (only when a search text could not be searched),
 *           "facets": {"brands": [{"name", "count", "selected", "href"}],
 *                      "categories": [{"slug", "name", "count", "selected", "href"}]},
 *           "pagination": {"page", "pages", "prev_href", "next_href",
 *                          "pages_list": [{"n", "href", "current"}]}}
 *   category {"slug", "name", "url", "parent": slug or null, "position",
 *           "count" (active products, descendants included), "children": [category]}
 *   pickup {"code", "name", "address", "hours", "lat", "lon",
 *           "distance_m" (only when asked near a point)}
 * Added by products.c / pickup.c beside the keys above:
 *   card    "price_from": true when the variants' displayed prices differ (a page
 *           writes "from 1 990 ₽"); "price" is null for a product without variants.
 *   variant "options_text": the option values joined by " / " ("M / red").
 *           "options" (and so options_text) are in the request's locale
 *           (catalog_options_sql), the other locale's when not given in it.
 *   pickup  "distance_text" ("850 м", "1,2 км"; "1.2 km" in en) with distance_m.
 *
 * Views of the routes (the page's template gets exactly what the API returns):
 *   GET /                   {"categories": [category] (roots, with children),
 *                            "featured": [card]}
 *   GET /api/v1/categories  {"categories": [category]}
 *   GET /c/:slug            list + {"category": category + "path": [{"slug", "name",
 *                            "url"}] (root first, the category itself last),
 *                            "title": its name, "breadcrumbs": [crumb]}
 *   GET /search             list + {"title": the query text, or null}
 *   GET /api/v1/products    list
 *   GET /p/:slug, /api/v1/products/:slug
 *                           {"product": product, "pickup_points": [pickup],
 *                            "title": the product's title, "breadcrumbs": [crumb]}
 *   GET /api/v1/search/suggest?q=[&limit=N]
 *                           {"q", "suggestions": [{"title", "url"}]}
 *   GET /pickup-points, /api/v1/pickup-points [?near=LAT,LON[&limit=N]]
 *                           {"pickup_points": [pickup] (by name; nearest first
 *                            with near), "near": {"lat", "lon", "text"} or null,
 *                            "limit": N (with near) or null}
 *   crumb  {"name", "url", "current"}: the category path root first, then for a
 *          product the product itself; current is true on the last crumb only
 *          (the page being shown).  Pages with a fixed heading (home, pickup
 *          points) have no "title": the theme's strings name them.
 *
 * For the page templates (Mustache can neither iterate an object's keys nor
 * compare values, so pages get lists and booleans):
 *   product  "attribute_list": [{"name", "value"}] (the attributes, in order).
 *            The attributes column is {name: value}, or per locale
 *            {"ru": {name: value}, "en": {...}} (the demo catalog's form): then
 *            "attributes" is the request locale's object.
 *   list     "sorts" marks the sort select's current option; price_from and
 *            price_to are what the filter form sends (whole currency units).
 *
 * Texts come in the request's locale ("ru" or "en"; columns *_ru / *_en). */
#ifndef CATALOG_INTERNAL_H
#define CATALOG_INTERNAL_H

#include "catalog.h"

#include <souk/utf8.h>

#include <stdint.h>

#define CATALOG_PER_PAGE_DEFAULT 24
#define CATALOG_PER_PAGE_MAX 100
#define CATALOG_FEATURED 12          /* products on the home page */
#define CATALOG_SUGGEST_MAX 10
#define CATALOG_SUGGEST_PAGE 5       /* suggestions shown on the search page */
#define CATALOG_QUERY_MAX 200        /* bytes of a search query */
#define CATALOG_NEAREST_DEFAULT 5
#define CATALOG_SCRIPT "pricing"     /* STORE_DIR/scripts/pricing.lua */
#define CATALOG_SCRIPT_FN "price"
/* How long a guest's catalog page or API answer may be served again from the
 * core's response cache (settings.catalog.cache_ms; 0 turns it off). */
#define CATALOG_CACHE_MS_DEFAULT 10000

/* Set in init, valid until fini. */
extern const souk_host_api *catalog_api;
extern souk_plugin *catalog_self;

/* settings.catalog.cache_ms: how long what a guest is shown may be reused (the
 * response cache, listing.c's table of prices); 0: never. */
static inline int64_t catalog_cache_ms(void)
{
    /* Checked at init (catalog.c): absent, or a whole number >= 0. */
    json_t *v = json_object_get(catalog_api->config(catalog_self), "cache_ms");
    return v ? (int64_t)json_number_value(v) : CATALOG_CACHE_MS_DEFAULT;
}

/* Declare the response reusable for guests (api->res_cache, ABI 1.2) for
 * catalog_cache_ms().  Call only from handlers whose view depends on the
 * request's path, query, locale and the database alone; prices of guests do
 * (no customer), so the listings qualify.  A no-op for signed-in users and on
 * hosts older than ABI 1.2. */
static inline void catalog_cache(souk_ctx *ctx)
{
    const souk_host_api *api = catalog_api;
    if (!SOUK_API_HAS(api, res_cache) || api->req_user(ctx))
        return;
    int64_t ms = catalog_cache_ms();
    if (ms > 0)
        api->res_cache(ctx, ms);
}

/* ------------------------------------------------------------ schema.c */
extern const souk_migration catalog_migrations[];
extern const int catalog_migration_count;

/* --------------------------------------------------------- tokenizer.c */
/* db_on_open hook: registers the FTS5 tokenizer "souk_stem" on db. */
int catalog_tokenizer_register(sqlite3 *db, void *udata);

/* ------------------------------------------------------------- index.c */
/* Rewrite the search rows (catalog_fts, catalog_suggest) of one product from its
 * current row (removes them when the product is not active). */
int catalog_index_product(souk_ctx *ctx, int64_t product_id);
/* Rebuild the whole index (after an import). */
int catalog_index_all(souk_ctx *ctx);

/* ----------------------------------------------------------- listing.c */
typedef enum { CATALOG_SORT_RELEVANCE, CATALOG_SORT_PRICE_ASC, CATALOG_SORT_PRICE_DESC,
               CATALOG_SORT_NEWEST } catalog_sort;

typedef struct catalog_query {
    const char *q;          /* search text or NULL */
    const char *category;   /* category slug (descendants included) or NULL */
    const char *brand;      /* exact brand or NULL */
    int64_t min_price;      /* displayed price bounds in minor units, -1: none */
    int64_t max_price;
    int in_stock;           /* only products with a variant in stock */
    catalog_sort sort;
    int page, per_page;     /* page from 1 */
    const char *base_href;  /* path the pagination and facet links point to */
} catalog_query;

/* Read and validate the listing parameters of the request (query string; the
 * category may come from the route's :slug).  On bad input fills the error view
 * (400/422 naming the parameter) and returns SOUK_ERR. */
int catalog_query_parse(souk_ctx *ctx, catalog_query *q);
/* Run the listing: fills the view with the list shape.  SOUK_ERR after filling the
 * error view (e.g. the pricing script failed: 503, never a wrong price). */
int catalog_list(souk_ctx *ctx, const catalog_query *q, json_t *view);
/* Prefix suggestions for a search box: [{"title", "url"}] (yours). */
json_t *catalog_suggest(souk_ctx *ctx, const char *q, int limit);

/* ---------------------------------------------------------- products.c */
/* The locale suffix of text columns for this request: "ru" or "en". */
const char *catalog_lang(souk_ctx *ctx);
/* An SQL expression for the options of the variant aliased `alias` in this
 * request's locale (arena): `options` (Russian) for ru, options_en for en; when
 * that one is '{}' (not given in that language), the other one. */
const char *catalog_options_sql(souk_ctx *ctx, const char *alias);
/* Cards of the given products, in the given order, priced (one script call for
 * all).  ids: int64 array.  NULL after filling the error view. */
json_t *catalog_cards(souk_ctx *ctx, const int64_t *ids, int n);
/* The full product by slug (active only unless drafts), priced.  NULL with
 * *status 404 (not found) or after filling the error view. */
json_t *catalog_product(souk_ctx *ctx, const char *slug, int *status);
/* Category id by slug (0 when none), and the ids of it and all its descendants
 * (arena array, *n set). */
int64_t catalog_category_id(souk_ctx *ctx, const char *slug);
int64_t *catalog_category_subtree(souk_ctx *ctx, int64_t id, int *n);
/* The pricing items ({"product", "variant"}, docs/pricing.md) of the variants
 * whose SKUs are in skus (a JSON array of strings, borrowed), in that order
 * (yours).  NULL with *error (arena) naming the first unknown SKU. */
json_t *catalog_items_by_sku(souk_ctx *ctx, json_t *skus, const char **error);
/* Route handlers. */
int catalog_h_home(souk_ctx *ctx);          /* GET /                 page catalog_home */
int catalog_h_categories(souk_ctx *ctx);    /* GET /api/v1/categories */
int catalog_h_listing(souk_ctx *ctx);       /* GET /c/:slug, /search, /api/v1/products */
int catalog_h_product(souk_ctx *ctx);       /* GET /p/:slug, /api/v1/products/:slug */
int catalog_h_suggest(souk_ctx *ctx);       /* GET /api/v1/search/suggest?q= */

/* ------------------------------------------------------------ pickup.c */
int catalog_h_pickup_points(souk_ctx *ctx); /* GET /pickup-points, /api/v1/pickup-points */
/* Every pickup point, or the nearest n to (lat, lon) with distance_m (yours). */
json_t *catalog_pickup_list(souk_ctx *ctx, int near, double lat, double lon, int n);
/* Great-circle distance in metres. */
double catalog_distance_m(double lat1, double lon1, double lat2, double lon2);

/* "M / red": a variant's option values in their stored order (products.c). */
const char *catalog_options_text(souk_ctx *ctx, json_t *options);

/* ------------------------------------------------------------- stock.c */
/* The service's functions (catalog.h says what each does), shared by the tables
 * of version 1 (stock.c) and version 2 (service_v2.c). */
int catalog_stock_adjust(souk_ctx *ctx, const char *sku, int64_t delta, int64_t *stock_after,
                         const char **error);
json_t *catalog_variant_get(souk_ctx *ctx, const char *sku);
int catalog_price_skus(souk_ctx *ctx, json_t *skus, json_t *customer, json_t **prices,
                       const char **error);
extern const catalog_v1 catalog_service;
extern const catalog_v2 catalog_service_v2; /* service_v2.c */

/* ----------------------------------------------------------- pricing.c */
/* Price items for a request, in the request's locale.  items (borrowed): a JSON
 * array of {"product": {...}, "variant": {...}} as the script contract says
 * (docs/pricing.md), read from the database by this ctx (products.c): the
 * worker's price memo (pricememo.c) answers the items it knows for the same
 * customer key, and pricing.lua is called once with the others, in their
 * order.  *prices (yours): array of price shapes in the same order.  SOUK_ERR
 * with *error (arena; names the script and line, or what was wrong with its
 * answer or with customer_key's). */
int catalog_price_items(souk_ctx *ctx, json_t *items, json_t *customer, int64_t now_ms,
                        json_t **prices, const char **error);
/* Exact: one call of pricing.lua with every item, never the memo, with the
 * locale of labels and amounts given ("ru" or "en"; NULL: "ru"): `souk price`. */
int catalog_price_items_lang(souk_ctx *ctx, json_t *items, json_t *customer, int64_t now_ms,
                             const char *lang, json_t **prices, const char **error);

/* --------------------------------------------------------- pricememo.c */
/* The worker's memo of price shapes: memo key -> shape (borrowed; treat the
 * shapes as read-only and hand out copies), valid for this call only; cleared
 * when the database changed or it is cache_ms old at now_ms.  NULL when it must
 * not be used: cache_ms 0, the database's stamp unknown, or ctx inside a write
 * transaction. */
json_t *catalog_price_memo(souk_ctx *ctx, int64_t now_ms);
/* The memo key of an item (arena): the customer key, the locale, the SKU. */
const char *catalog_price_memo_key(souk_ctx *ctx, const char *customer_key, const char *lang,
                                   const char *sku);
/* Keep shape (a checked answer; the memo takes it) under key; the memo is
 * cleared first when it holds its maximum. */
void catalog_price_memo_put(json_t *map, const char *key, json_t *shape);
/* The customer key of customer (borrowed, an object or NULL/null for a guest)
 * into *key (arena): pricing.lua's customer_key(customer, context) when it has
 * one (a non-empty string of at most 64 bytes), else "guest" or the customer's
 * canonical JSON.  SOUK_ERR with *error (arena) when the function fails or
 * answers anything else. */
int catalog_price_customer_key(souk_ctx *ctx, json_t *customer, json_t *context,
                               const char **key, const char **error);

/* -------------------------------------------------------------- money.c */
/* "1 990 ₽", "1 990,50 ₽", "−500 ₽" (ru) or "RUB 1,990", "RUB 1,990.50", "−RUB 500"
 * (any other lang) text of amount minor units (arena); minor units only when not
 * zero; currencies other than RUB by their code.  money.c documents the spaces. */
const char *catalog_money_text(souk_ctx *ctx, int64_t amount, const char *currency,
                               const char *lang);

/* ----------------------------------------------------------- sanitize.c */
/* Imported description HTML reduced to p, br, ul, ol, li, b, strong, i, em (no
 * attributes); everything else dropped or escaped.  malloc'ed. */
char *catalog_sanitize_html(const char *html);
/* Code point cp (at most U+10FFFF) as UTF-8 into out; returns the bytes written. */
size_t catalog_utf8_encode(unsigned long cp, char out[4]);
/* Decoding is souk_utf8_decode (<souk/utf8.h>), shared with the core. */

/* -------------------------------------------------------- commands */
/* argv.c: the value of option name at argv[*i] ("--at X" or "--at=X"), advancing *i
 * past it; NULL when argv[*i] is not that option, "" when its value is missing. */
const char *catalog_argv_option(int argc, char **argv, int *i, const char *name);
int catalog_cmd_import(souk_ctx *ctx, int argc, char **argv); /* import.c */
int catalog_cmd_price(souk_ctx *ctx, int argc, char **argv);  /* price_cmd.c */
/* demo.c: on "store.created" with {"demo": true}: the demonstration catalog. */
int catalog_on_store_created(souk_ctx *ctx, const char *event, json_t *payload, void *udata);

#endif
