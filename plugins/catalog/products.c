/* products.c -- reading products and their variants into their JSON shapes
 * (catalog_internal.h), and the handlers of the home, listing, product and
 * suggestion routes.  The category tree and paths are in categories.c.
 *
 * Cost rules, because these run on every page: a set of cards is read with one
 * statement (products, their category and every variant, in the caller's order)
 * plus one for the category paths, and priced with ONE call of pricing.lua for all
 * their variants.  A card's price is its cheapest variant as displayed (after the
 * script), which is why every variant is priced, not only the cheapest base. */
#include "categories.h"

#include <stdlib.h>
#include <string.h>

#define MESSAGE_SLUG_MAX 100    /* bytes of a slug quoted back in an error */
#define ID_TEXT_MAX 24          /* an int64 in decimal, with sign and NUL */

/* The columns every card query selects, in this order (%s: the locale, twice,
 * then the options expression, catalog_options_sql(ctx, "v")). */
#define CARD_COLUMNS                                                           \
    "SELECT j.key, p.id, p.slug, p.title_%s, p.brand, p.images, p.attributes,"  \
    " p.category_id, c.slug, c.name_%s,"                                        \
    " v.sku, %s, v.price, v.currency, v.stock"
enum {
    COL_KEY, COL_PID, COL_SLUG, COL_TITLE, COL_BRAND, COL_IMAGES, COL_ATTRS,
    COL_CAT_ID, COL_CAT_SLUG, COL_CAT_NAME,
    COL_SKU, COL_OPTIONS, COL_PRICE, COL_CURRENCY, COL_STOCK,
    COL_EXTRA /* first column after the common ones */
};

const char *catalog_lang(souk_ctx *ctx)
{
    const char *l = catalog_api->req_locale(ctx);
    return l && strcmp(l, "en") == 0 ? "en" : "ru";
}

const char *catalog_options_sql(souk_ctx *ctx, const char *alias)
{
    /* options is Russian, options_en English; '{}' in either means "not given in
     * this language", and the other one is shown instead, as attributes_shown
     * does (a Shopify import in English fills only options_en).  json() minifies,
     * so a hand-written '{ }' counts as empty too. */
    int en = strcmp(catalog_lang(ctx), "en") == 0;
    const char *own = en ? "options_en" : "options", *other = en ? "options" : "options_en";
    return catalog_api->format(ctx, "CASE WHEN json(%s.%s) <> '{}' THEN %s.%s ELSE %s.%s END",
                               alias, own, alias, own, alias, other);
}

/* ------------------------------------------------------------------ helpers */

static const char *col_text(sqlite3_stmt *st, int col)
{
    const char *s = (const char *)sqlite3_column_text(st, col);
    return s ? s : "";
}

/* A JSON column parsed (yours); an empty object or array when it is not of the
 * expected type (the schema only promises valid JSON). */
static json_t *col_json(sqlite3_stmt *st, int col, int want_object)
{
    const char *s = (const char *)sqlite3_column_text(st, col);
    json_t *v = s ? json_loads(s, JSON_DECODE_ANY, NULL) : NULL;
    if (want_object ? json_is_object(v) : json_is_array(v))
        return v;
    json_decref(v);
    return want_object ? json_object() : json_array();
}

/* The URL of a stored image: an absolute http(s) URL or a path on this site as
 * is, a bare name under /media/ (where `souk import` and the demo put files).
 * Anything else with a scheme (javascript:, data:) is dropped: an image URL goes
 * into src attributes, where escaping does not make a scheme safe.  NULL: drop. */
static const char *image_url(souk_ctx *ctx, const char *v)
{
    if (!v || !*v)
        return NULL;
    if (strncmp(v, "https://", 8) == 0 || strncmp(v, "http://", 7) == 0)
        return v;
    if (v[0] == '/')
        return v[1] == '/' ? NULL : v; /* "//host/x" is another site, scheme-relative */
    if (strchr(v, ':'))
        return NULL;
    return catalog_api->format(ctx, "/media/%s", v);
}

/* The stored images (a JSON array of strings) as URLs (yours). */
static json_t *image_urls(souk_ctx *ctx, json_t *stored)
{
    json_t *out = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(stored, i, v) {
        const char *u = image_url(ctx, json_string_value(v));
        if (u)
            json_array_append_new(out, json_string(u));
    }
    return out;
}

const char *catalog_options_text(souk_ctx *ctx, json_t *options)
{
    const char *text = "";
    const char *k;
    json_t *v;
    json_object_foreach(options, k, v) {
        const char *s = json_is_string(v) ? json_string_value(v) : NULL;
        char num[ID_TEXT_MAX];
        if (!s && json_is_integer(v)) {
            snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
            s = num;
        }
        if (s && *s)
            text = *text ? catalog_api->format(ctx, "%s / %s", text, s) : catalog_api->dup(ctx, s);
    }
    return text;
}

/* The attributes a page shows (yours): the stored object, or -- when it is kept
 * per locale, {"ru": {...}, "en": {...}} as the demo catalog writes it -- the
 * request locale's object (the other locale's when that one is missing). */
static json_t *attributes_shown(json_t *stored, const char *lang)
{
    const char *k;
    json_t *v;
    int per_locale = json_object_size(stored) > 0;
    json_object_foreach(stored, k, v) {
        if ((strcmp(k, "ru") != 0 && strcmp(k, "en") != 0) || !json_is_object(v))
            per_locale = 0;
    }
    if (!per_locale)
        return json_incref(stored);
    json_t *own = json_object_get(stored, lang);
    if (!own)
        own = json_object_get(stored, strcmp(lang, "ru") == 0 ? "en" : "ru");
    return own ? json_incref(own) : json_object();
}

/* [{"name", "value"}] of attributes, in their order, every value as text (yours):
 * a template cannot walk an object's keys.  Lists are joined with ", "; nested
 * objects are left out. */
static json_t *attribute_list(souk_ctx *ctx, json_t *attributes, const char *lang)
{
    json_t *out = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(attributes, k, v) {
        const char *text = NULL;
        if (json_is_string(v)) {
            text = json_string_value(v);
        } else if (json_is_integer(v)) {
            text = catalog_api->format(ctx, "%lld", (long long)json_integer_value(v));
        } else if (json_is_real(v)) {
            text = catalog_api->format(ctx, "%g", json_real_value(v));
        } else if (json_is_boolean(v)) {
            int ru = strcmp(lang, "ru") == 0;
            text = json_is_true(v) ? (ru ? "да" : "yes") : (ru ? "нет" : "no");
        } else if (json_is_array(v)) {
            size_t i;
            json_t *e;
            text = "";
            json_array_foreach(v, i, e) {
                if (json_is_string(e))
                    text = *text ? catalog_api->format(ctx, "%s, %s", text, json_string_value(e))
                                 : json_string_value(e);
            }
        }
        if (text && *text)
            json_array_append_new(out, json_pack("{s:s, s:s}", "name", k, "value", text));
    }
    return out;
}

/* The error view for a failed pricing run: 503, never a guessed price. */
static void pricing_failed(souk_ctx *ctx, const char *error)
{
    catalog_api->res_error(ctx, 503, "pricing_failed",
                           catalog_api->format(ctx, "prices cannot be shown right now: %s",
                                               error ? error : "the pricing script failed"),
                           NULL);
}

static void db_failed(souk_ctx *ctx, const char *what)
{
    catalog_api->log(catalog_self, SOUK_LOG_ERROR, "cannot read %s: %s", what,
                     sqlite3_errmsg(catalog_api->db(ctx)));
    catalog_api->res_error(ctx, 500, "db", catalog_api->format(ctx, "cannot read %s", what),
                           NULL);
}

/* s to quote back in a message: at most MESSAGE_SLUG_MAX bytes, cut at a character
 * boundary; "" when s is not UTF-8 (the path came from a client). */
static const char *quote_slug(souk_ctx *ctx, const char *s)
{
    json_t *probe = s ? json_string(s) : NULL;
    if (!probe)
        return "";
    json_decref(probe);
    size_t n = strlen(s);
    if (n <= MESSAGE_SLUG_MAX)
        return s;
    n = MESSAGE_SLUG_MAX;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return catalog_api->format(ctx, "%.*s\xE2\x80\xA6", (int)n, s); /* "…" */
}

/* "[1,2,3]": ids as a JSON array text for json_each(?) (arena). */
static const char *ids_text(souk_ctx *ctx, const int64_t *ids, int n)
{
    char *out = catalog_api->alloc(ctx, (size_t)n * ID_TEXT_MAX + 3), *o = out;
    *o++ = '[';
    for (int i = 0; i < n; i++)
        o += sprintf(o, "%s%lld", i ? "," : "", (long long)ids[i]);
    *o++ = ']';
    *o = '\0';
    return out;
}

/* The path of a category in paths (borrowed), or NULL when it has none. */
static json_t *path_of(json_t *paths, int64_t category_id)
{
    char key[ID_TEXT_MAX];
    snprintf(key, sizeof key, "%lld", (long long)category_id);
    return json_object_get(paths, key);
}

/* The slugs of a path, root first (yours): what pricing.lua sees. */
static json_t *path_slugs(json_t *path)
{
    json_t *out = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(path, i, c)
        json_array_append(out, json_object_get(c, "slug"));
    return out;
}

/* The category ids of n builds as a JSON array text (arena). */
static const char *distinct_ids_text(souk_ctx *ctx, const int64_t *ids, int n)
{
    int64_t *u = catalog_api->alloc(ctx, (size_t)(n ? n : 1) * sizeof *u);
    int m = 0;
    for (int i = 0; i < n; i++) {
        int seen = 0;
        for (int k = 0; k < m && !seen; k++)
            seen = u[k] == ids[i];
        if (!seen)
            u[m++] = ids[i];
    }
    return ids_text(ctx, u, m);
}

/* ------------------------------------------------------------ pricing items */

/* What pricing.lua sees of a product (docs/pricing.md), from a card row (yours).
 * attributes is borrowed (the item takes its own reference); category_path is
 * set once the paths are known. */
static json_t *pricing_product(sqlite3_stmt *st, json_t *attributes)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:[], s:O}",
                     "slug", col_text(st, COL_SLUG),
                     "title", col_text(st, COL_TITLE),
                     "brand", col_text(st, COL_BRAND),
                     "category", col_text(st, COL_CAT_SLUG),
                     "category_path",
                     "attributes", attributes);
}

/* What pricing.lua sees of a variant (yours); *options (borrowed from the result)
 * gets its parsed options. */
static json_t *pricing_variant(sqlite3_stmt *st, json_t **options)
{
    json_t *o = col_json(st, COL_OPTIONS, 1);
    *options = o;
    return json_pack("{s:s, s:o, s:I, s:s, s:I}",
                     "sku", col_text(st, COL_SKU),
                     "options", o,
                     "price", (json_int_t)sqlite3_column_int64(st, COL_PRICE),
                     "currency", col_text(st, COL_CURRENCY),
                     "stock", (json_int_t)sqlite3_column_int64(st, COL_STOCK));
}

/* Price items with one script call, for the request's customer at the store
 * clock.  *prices (yours) has one price shape per item. */
static int price_items(souk_ctx *ctx, json_t *items, json_t **prices, const char **error)
{
    *prices = NULL;
    if (json_array_size(items) == 0) {
        *prices = json_array();
        return SOUK_OK;
    }
    if (catalog_price_items(ctx, items, catalog_api->req_user(ctx), catalog_api->now_ms(ctx),
                            prices, error) != SOUK_OK)
        return SOUK_ERR;
    if (!json_is_array(*prices) || json_array_size(*prices) != json_array_size(items)) {
        json_decref(*prices);
        *prices = NULL;
        *error = "the pricing returned a different number of prices than items";
        return SOUK_ERR;
    }
    return SOUK_OK;
}

static json_int_t price_amount(json_t *price)
{
    return json_integer_value(json_object_get(price, "amount"));
}

/* ------------------------------------------------------------------ cards */

typedef struct card_build {
    json_t *card;        /* the shape being built (yours) */
    json_t *product;     /* what the script sees of the product (yours) */
    int64_t category_id;
    size_t first, count; /* its variants are items[first .. first + count) */
} card_build;

/* Cards of the products whose ids are in the JSON array text ids (n of them at
 * most), in that order; full: product shapes (description, attributes, images,
 * status, created_at, category_path, variants).  NULL after filling the error
 * view with *status (500 or 503). */
static json_t *cards_build(souk_ctx *ctx, const char *ids, int n, int full, int *status)
{
    const souk_host_api *api = catalog_api;
    const char *lang = catalog_lang(ctx);
    const char *sql = api->format(
        ctx,
        CARD_COLUMNS "%s"
        " FROM json_each(?1) AS j"
        " JOIN catalog_products p ON p.id = j.value"
        " JOIN catalog_categories c ON c.id = p.category_id"
        " LEFT JOIN catalog_variants v ON v.product_id = p.id"
        " ORDER BY j.key, v.position, v.id",
        lang, lang, catalog_options_sql(ctx, "v"),
        full ? api->format(ctx, ", p.description_%s, p.status, p.created_at", lang) : "");
    enum { COL_DESC = COL_EXTRA, COL_STATUS, COL_CREATED };
    sqlite3_stmt *st = api->db_prepare(ctx, sql);
    *status = 500;
    if (!st) {
        db_failed(ctx, "the products");
        return NULL;
    }
    sqlite3_bind_text(st, 1, ids, -1, SQLITE_STATIC);

    card_build *b = calloc((size_t)(n > 0 ? n : 1), sizeof *b);
    int64_t *cat_ids = calloc((size_t)(n > 0 ? n : 1), sizeof *cat_ids);
    json_t *items = json_array(), *prices = NULL, *paths = NULL, *cards = NULL;
    int nb = 0, rc;
    int64_t last_key = -1;
    if (!b || !cat_ids) {
        api->res_error(ctx, 500, "memory", "out of memory", NULL);
        goto done;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t key = sqlite3_column_int64(st, COL_KEY);
        if (nb == 0 || key != last_key) {
            if (nb == n)
                break; /* cannot happen: one group per id */
            last_key = key;
            card_build *cb = &b[nb];
            json_t *attributes = col_json(st, COL_ATTRS, 1);
            json_t *stored = col_json(st, COL_IMAGES, 0);
            json_t *images = image_urls(ctx, stored);
            json_decref(stored);
            const char *slug = col_text(st, COL_SLUG), *cslug = col_text(st, COL_CAT_SLUG);
            json_t *first = json_array_get(images, 0);
            cb->card = json_pack(
                "{s:s, s:s, s:s, s:o, s:{s:s, s:s, s:o}, s:O, s:b, s:i, s:n, s:b}",
                "slug", slug, "title", col_text(st, COL_TITLE), "brand",
                col_text(st, COL_BRAND), "url", catalog_url_json(ctx, "/p/", slug), "category",
                "slug", cslug, "name", col_text(st, COL_CAT_NAME), "url",
                catalog_url_json(ctx, "/c/", cslug), "image", first ? first : json_null(),
                "in_stock", 0, "variants_count", 0, "price", "price_from", 0);
            cb->product = pricing_product(st, attributes);
            cb->category_id = sqlite3_column_int64(st, COL_CAT_ID);
            cat_ids[nb] = cb->category_id;
            cb->first = json_array_size(items);
            if (full) {
                json_object_set_new(cb->card, "description_html",
                                    json_string(col_text(st, COL_DESC)));
                json_t *shown = attributes_shown(attributes, lang);
                json_object_set_new(cb->card, "attribute_list",
                                    attribute_list(ctx, shown, lang));
                json_object_set_new(cb->card, "attributes", shown);
                json_object_set(cb->card, "images", images);
                json_object_set_new(cb->card, "status", json_string(col_text(st, COL_STATUS)));
                json_object_set_new(cb->card, "created_at",
                                    json_integer(sqlite3_column_int64(st, COL_CREATED)));
                json_object_set_new(cb->card, "variants", json_array());
            }
            json_decref(attributes);
            json_decref(images);
            nb++;
        }
        card_build *cb = &b[nb - 1];
        if (sqlite3_column_type(st, COL_SKU) == SQLITE_NULL)
            continue; /* a product without variants (LEFT JOIN) */
        json_t *options;
        json_t *item = json_pack("{s:O, s:o}", "product", cb->product, "variant",
                                 pricing_variant(st, &options));
        int64_t stock = sqlite3_column_int64(st, COL_STOCK);
        if (!cb->card || !item) { /* text that is not UTF-8: the row is skipped */
            json_decref(item);
            continue;
        }
        json_array_append_new(items, item);
        cb->count++;
        if (stock > 0)
            json_object_set_new(cb->card, "in_stock", json_true());
        if (full)
            json_array_append_new(
                json_object_get(cb->card, "variants"),
                json_pack("{s:s, s:O, s:s, s:I, s:b, s:n}", "sku", col_text(st, COL_SKU),
                          "options", options, "options_text", catalog_options_text(ctx, options),
                          "stock", (json_int_t)stock, "in_stock", stock > 0, "price"));
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        db_failed(ctx, "the products");
        goto done;
    }

    if (nb > 0) {
        paths = catalog_category_paths(ctx, distinct_ids_text(ctx, cat_ids, nb));
        if (!paths) {
            db_failed(ctx, "the categories");
            goto done;
        }
    }
    for (int i = 0; i < nb; i++) {
        json_t *path = path_of(paths, b[i].category_id);
        json_object_set_new(b[i].product, "category_path", path_slugs(path));
        if (full)
            json_object_set_new(b[i].card, "category_path", path ? json_incref(path) : json_array());
    }

    const char *error = NULL;
    if (price_items(ctx, items, &prices, &error) != SOUK_OK) {
        *status = 503;
        pricing_failed(ctx, error);
        goto done;
    }
    cards = json_array();
    for (int i = 0; i < nb; i++) {
        card_build *cb = &b[i];
        json_t *cheapest = NULL;
        int differ = 0;
        for (size_t k = 0; k < cb->count; k++) {
            json_t *p = json_array_get(prices, cb->first + k);
            if (cheapest && price_amount(p) != price_amount(cheapest))
                differ = 1;
            if (!cheapest || price_amount(p) < price_amount(cheapest))
                cheapest = p;
            if (full)
                json_object_set(json_array_get(json_object_get(cb->card, "variants"), k),
                                "price", p);
        }
        json_object_set_new(cb->card, "variants_count", json_integer((json_int_t)cb->count));
        /* A copy: a page may decorate the card's price without touching a variant's. */
        if (cheapest)
            json_object_set_new(cb->card, "price", json_deep_copy(cheapest));
        json_object_set_new(cb->card, "price_from", json_boolean(differ));
        json_array_append(cards, cb->card);
    }

done:
    for (int i = 0; b && i < nb; i++) {
        json_decref(b[i].card);
        json_decref(b[i].product);
    }
    free(b);
    free(cat_ids);
    json_decref(items);
    json_decref(prices);
    json_decref(paths);
    return cards;
}

json_t *catalog_cards(souk_ctx *ctx, const int64_t *ids, int n)
{
    if (n <= 0)
        return json_array();
    int status;
    return cards_build(ctx, ids_text(ctx, ids, n), n, 0, &status);
}

json_t *catalog_product(souk_ctx *ctx, const char *slug, int *status)
{
    int dummy;
    if (!status)
        status = &dummy;
    *status = 404;
    if (!slug)
        return NULL;
    sqlite3_stmt *st = catalog_api->db_prepare(
        ctx, "SELECT id FROM catalog_products WHERE slug = ?1 AND status = 'active'");
    if (!st) {
        *status = 500;
        db_failed(ctx, "the product");
        return NULL;
    }
    sqlite3_bind_text(st, 1, slug, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        if (rc != SQLITE_DONE) {
            *status = 500;
            db_failed(ctx, "the product");
        }
        return NULL;
    }
    int64_t id = sqlite3_column_int64(st, 0);
    json_t *cards = cards_build(ctx, ids_text(ctx, &id, 1), 1, 1, status);
    if (!cards)
        return NULL;
    json_t *product = json_incref(json_array_get(cards, 0));
    json_decref(cards);
    if (!product)
        return NULL; /* removed in between: not found */
    *status = 200;
    return product;
}

json_t *catalog_items_by_sku(souk_ctx *ctx, json_t *skus, const char **error)
{
    const souk_host_api *api = catalog_api;
    size_t i;
    json_t *v;
    if (!json_is_array(skus)) {
        *error = "skus must be an array of SKU strings";
        return NULL;
    }
    json_array_foreach(skus, i, v) {
        if (!json_is_string(v)) {
            *error = api->format(ctx, "skus[%zu] is not a string", i);
            return NULL;
        }
    }
    if (json_array_size(skus) == 0)
        return json_array();
    const char *lang = catalog_lang(ctx);
    sqlite3_stmt *st = api->db_prepare(
        ctx, api->format(ctx,
                         CARD_COLUMNS ", j.value"
                         " FROM json_each(?1) AS j"
                         " LEFT JOIN catalog_variants v ON v.sku = j.value"
                         " LEFT JOIN catalog_products p ON p.id = v.product_id"
                         " LEFT JOIN catalog_categories c ON c.id = p.category_id"
                         " ORDER BY j.key",
                         lang, lang, catalog_options_sql(ctx, "v")));
    if (!st) {
        *error = "cannot read the variants";
        return NULL;
    }
    char *text = json_dumps(skus, JSON_COMPACT);
    sqlite3_bind_text(st, 1, text, -1, free);
    size_t n = json_array_size(skus);
    int64_t *cat_ids = api->alloc(ctx, n * sizeof *cat_ids);
    json_t *items = json_array();
    int rc;
    size_t k = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && k < n) {
        if (sqlite3_column_type(st, COL_SKU) == SQLITE_NULL) {
            *error = api->format(ctx, "no variant with SKU '%s'", col_text(st, COL_EXTRA));
            json_decref(items);
            return NULL;
        }
        json_t *attributes = col_json(st, COL_ATTRS, 1), *options;
        json_t *product = pricing_product(st, attributes);
        json_decref(attributes);
        json_array_append_new(items, json_pack("{s:o, s:o}", "product", product, "variant",
                                               pricing_variant(st, &options)));
        cat_ids[k++] = sqlite3_column_int64(st, COL_CAT_ID);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        *error = "cannot read the variants";
        json_decref(items);
        return NULL;
    }
    json_t *paths = catalog_category_paths(ctx, distinct_ids_text(ctx, cat_ids, (int)k));
    if (!paths) {
        *error = "cannot read the categories";
        json_decref(items);
        return NULL;
    }
    json_array_foreach(items, i, v)
        json_object_set_new(json_object_get(v, "product"), "category_path",
                            path_slugs(path_of(paths, cat_ids[i])));
    json_decref(paths);
    return items;
}

/* [{"name", "url", "current"}] from a path of {"slug", "name", "url"} (yours). */
static json_t *breadcrumbs(json_t *path, int last_is_current)
{
    json_t *out = json_array();
    size_t i, n = json_array_size(path);
    json_t *c;
    json_array_foreach(path, i, c)
        json_array_append_new(out, json_pack("{s:O, s:O, s:b}", "name",
                                             json_object_get(c, "name"), "url",
                                             json_object_get(c, "url"), "current",
                                             last_is_current && i + 1 == n));
    return out;
}

/* ---------------------------------------------------------------- handlers */

int catalog_h_home(souk_ctx *ctx)
{
    const souk_host_api *api = catalog_api;
    json_t *tree = catalog_category_tree(ctx, 0, NULL);
    if (!tree)
        return SOUK_ERR;
    json_object_set_new(api->view(ctx), "categories", tree);

    sqlite3_stmt *st = api->db_prepare(
        ctx, "SELECT id FROM catalog_products WHERE status = 'active'"
             " ORDER BY featured DESC, created_at DESC, id DESC LIMIT ?1");
    if (!st) {
        db_failed(ctx, "the featured products");
        return SOUK_ERR;
    }
    sqlite3_bind_int(st, 1, CATALOG_FEATURED);
    int64_t ids[CATALOG_FEATURED];
    int n = 0;
    while (n < CATALOG_FEATURED && sqlite3_step(st) == SQLITE_ROW)
        ids[n++] = sqlite3_column_int64(st, 0);
    json_t *cards = catalog_cards(ctx, ids, n);
    if (!cards)
        return SOUK_ERR;
    json_object_set_new(api->view(ctx), "featured", cards);
    catalog_cache(ctx);
    return SOUK_OK;
}

int catalog_h_listing(souk_ctx *ctx)
{
    const souk_host_api *api = catalog_api;
    const char *slug = api->req_param(ctx, "slug");
    json_t *category = NULL;
    if (slug) {
        int64_t id = catalog_category_id(ctx, slug);
        json_t *tree = id ? catalog_category_tree(ctx, id, &category) : NULL;
        if (id && !tree)
            return SOUK_ERR;
        json_decref(tree);
        if (!category)
            return api->res_error(ctx, 404, "not_found",
                                  api->format(ctx, "there is no category '%s'",
                                              quote_slug(ctx, slug)),
                                  NULL);
    }
    catalog_query q;
    memset(&q, 0, sizeof q);
    if (catalog_query_parse(ctx, &q) != SOUK_OK) {
        json_decref(category);
        return SOUK_ERR;
    }
    if (!q.base_href)
        q.base_href = api->req_path(ctx);
    json_t *view = api->view(ctx);
    if (catalog_list(ctx, &q, view) != SOUK_OK) {
        json_decref(category);
        return SOUK_ERR;
    }
    if (category) {
        json_object_set_new(view, "title", json_incref(json_object_get(category, "name")));
        json_object_set_new(view, "breadcrumbs", breadcrumbs(json_object_get(category, "path"), 1));
        json_object_set_new(view, "category", category);
    } else if (strncmp(api->req_path(ctx), "/api/", 5) != 0) {
        /* The search page: its title is what was searched for, and the search box
         * offers the products whose titles start like the words typed (a datalist
         * and links: suggestions without JavaScript). */
        json_object_set_new(view, "title", q.q && *q.q ? json_string(q.q) : json_null());
        if (q.q && *q.q) {
            json_t *suggestions = catalog_suggest(ctx, q.q, CATALOG_SUGGEST_PAGE);
            if (!suggestions)
                suggestions = json_array();
            json_object_set_new(view, "has_suggestions",
                                json_boolean(json_array_size(suggestions) > 0));
            json_object_set_new(view, "suggestions", suggestions);
        }
    }
    catalog_cache(ctx);
    return SOUK_OK;
}

int catalog_h_product(souk_ctx *ctx)
{
    const souk_host_api *api = catalog_api;
    const char *slug = api->req_param(ctx, "slug");
    int status = 0;
    json_t *product = catalog_product(ctx, slug, &status);
    if (!product) {
        if (status == 404)
            return api->res_error(ctx, 404, "not_found",
                                  api->format(ctx, "there is no product '%s' in the catalog",
                                              quote_slug(ctx, slug)),
                                  NULL);
        return SOUK_ERR; /* the error view is filled */
    }
    json_t *points = catalog_pickup_list(ctx, 0, 0, 0, 0);
    if (!points) {
        json_decref(product);
        db_failed(ctx, "the pickup points");
        return SOUK_ERR;
    }
    json_t *view = api->view(ctx);
    json_t *crumbs = breadcrumbs(json_object_get(product, "category_path"), 0);
    json_array_append_new(crumbs, json_pack("{s:O, s:O, s:b}", "name",
                                            json_object_get(product, "title"), "url",
                                            json_object_get(product, "url"), "current", 1));
    json_object_set_new(view, "title", json_incref(json_object_get(product, "title")));
    json_object_set_new(view, "breadcrumbs", crumbs);
    json_object_set_new(view, "product", product);
    json_object_set_new(view, "pickup_points", points);
    if (api->req_user(ctx)) {
        json_t *shown = json_pack("{s:s}", "slug", slug);
        int rc = api->event_emit(ctx, CATALOG_EVENT_PRODUCT_SHOWN, shown);
        json_decref(shown);
        if (rc != SOUK_OK)
            return api->res_error(ctx, 500, "internal", "the product page could not be completed",
                                  NULL);
    }
    catalog_cache(ctx);
    return SOUK_OK;
}

/* GET /api/v1/search/suggest?q=TEXT[&limit=N]: {"q", "suggestions": [{"title",
 * "url"}]}.  An empty text (or one without a word) has no suggestions, not an
 * error: the search box asks on every key stroke. */
int catalog_h_suggest(souk_ctx *ctx)
{
    const souk_host_api *api = catalog_api;
    const char *q = api->req_query(ctx, "q");
    const char *limit_text = api->req_query(ctx, "limit");
    int limit = CATALOG_SUGGEST_MAX;
    if (q && strlen(q) > CATALOG_QUERY_MAX)
        return api->res_error(ctx, 400, "invalid",
                              api->format(ctx, "q is longer than %d bytes", CATALOG_QUERY_MAX),
                              "q");
    if (limit_text && *limit_text) {
        int v = 0;
        const char *s = limit_text;
        while (*s >= '0' && *s <= '9' && v <= CATALOG_SUGGEST_MAX)
            v = v * 10 + (*s++ - '0');
        if (*s || v < 1 || v > CATALOG_SUGGEST_MAX)
            return api->res_error(
                ctx, 400, "invalid",
                api->format(ctx, "limit must be a whole number from 1 to %d", CATALOG_SUGGEST_MAX),
                "limit");
        limit = v;
    }
    json_t *view = api->view(ctx);
    json_object_set_new(view, "q", json_string(q ? q : ""));
    json_object_set_new(view, "suggestions",
                        q && *q ? catalog_suggest(ctx, q, limit) : json_array());
    catalog_cache(ctx);
    return SOUK_OK;
}
