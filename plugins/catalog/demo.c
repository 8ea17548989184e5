/* demo.c -- the demonstration catalog that `souk init DIR --demo` makes.
 *
 * On the event "store.created" with {"demo": true} this fills an empty catalog
 * with a realistic shop: categories in a two-level tree, a little over 2,000
 * active products (and a few drafts and archived ones) with Russian and English
 * titles, descriptions and attributes, one to four variants each with stock
 * (some sold out), a small generated SVG image per product under
 * STORE_DIR/media/catalog/, and a dozen pickup points in Moscow and Saint
 * Petersburg.  The words come from demo_data.h.
 *
 * What must stay true:
 *   - deterministic: the same rows and files every time, on every machine.  The
 *     generator is splitmix64 with a fixed seed, reseeded per product (so a change
 *     in one product's recipe does not reshuffle the others), and the dates are
 *     fixed absolute times, not the clock;
 *   - it runs inside the write transaction the core opened for store.created:
 *     no BEGIN/COMMIT here; a failure returns SOUK_ERR and the core rolls back
 *     (image files already written stay: they are harmless and rewritten next
 *     time);
 *   - it is quick: well under a second for the rows on an ordinary machine (the
 *     search index is then rebuilt once by catalog_index_all). */
#include "catalog_internal.h"
#include "demo_data.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define DEMO_SEED 0x736f756b2d64656dULL /* "souk-dem" */
#define DEMO_PRODUCTS_PER_LEAF 116      /* 18 leaves: 2,088 products */
#define DEMO_MODEL_BASE 1000            /* model numbers: PREFIX-1000 ... */
#define DEMO_MODEL_STEP 8               /* numbers of one leaf never collide */
#define DEMO_NEWEST_MS 1767225600000LL  /* 2026-01-01T00:00:00Z */
#define DEMO_SPREAD_DAYS 365            /* products created over the year before */
#define DEMO_DAY_MS 86400000LL
#define DEMO_MAX_VARIANTS 4
#define DEMO_DRAFT_EVERY 131 /* every 131st product is a draft ... */
#define DEMO_DRAFT_AT 64
#define DEMO_ARCHIVED_EVERY 149 /* ... every 149th is archived ... */
#define DEMO_ARCHIVED_AT 100
#define DEMO_FEATURED_EVERY 53 /* ... every 53rd active one is featured ... */
#define DEMO_FEATURED_AT 17
#define DEMO_SOLD_OUT_EVERY 29 /* ... and every 29th is sold out */
#define DEMO_SOLD_OUT_AT 3
#define DEMO_PERCENT 100
#define DEMO_VARIANT_OUT_PCT 10 /* share of other variants with no stock */
#define DEMO_STOCK_MAX 60
#define DEMO_CURRENCY "RUB"
#define DEMO_IMAGE_DIR "media/catalog"   /* under the store directory */
#define DEMO_IMAGE_URL "/media/catalog/" /* where the core serves it */
#define DEMO_IMAGE_SHAPES 4              /* circle, square, diamond, ring */

#define DEMO_TEXT_MAX 512  /* a title */
#define DEMO_SLUG_MAX 160  /* a slug (ours are under 60 bytes) */
#define DEMO_PATH_MAX 4096 /* a file name under the store directory */
#define DEMO_DESC_MAX 2048 /* a description */
#define DEMO_SVG_MAX 1024

/* ------------------------------------------------------------ generator */

/* splitmix64 (Steele, Lea, Flood 2014): tiny, fast, and every seed gives a good
 * sequence, so a per-product seed is simply the product's number mixed in. */
typedef struct demo_rng {
    uint64_t state;
} demo_rng;

static uint64_t demo_next(demo_rng *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A number in [0, n).  The modulo bias (n is tiny beside 2^64) is irrelevant
 * for sample data. */
static uint64_t demo_below(demo_rng *r, uint64_t n)
{
    return n ? demo_next(r) % n : 0;
}

/* ------------------------------------------------------------- helpers */

static int count_types(const demo_leaf *l)
{
    int n = 0;
    while (n < DEMO_MAX_TYPES && l->types[n].slug)
        n++;
    return n;
}

static int count_brands(const demo_leaf *l)
{
    int n = 0;
    while (n < DEMO_MAX_BRANDS && l->brands[n])
        n++;
    return n;
}

static int count_values(const demo_text *v)
{
    int n = 0;
    while (n < DEMO_MAX_VALUES && v[n].ru)
        n++;
    return n;
}

static int count_options(const demo_axis *a)
{
    int n = 0;
    while (n < DEMO_MAX_VALUES && a->values[n].value.ru)
        n++;
    return n;
}

/* Shop prices end in 90 roubles: 3 457 -> 3 490. */
static int64_t demo_round_price(int64_t roubles)
{
    int64_t r = roubles / 100 * 100 + 90;
    return r < 90 ? 90 : r;
}

static void lower_ascii(char *dst, size_t len, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < len; i++)
        dst[i] = (char)tolower((unsigned char)src[i]);
    dst[i] = '\0';
}

/* Append ", text" to a title; a title that would not fit is cut, never overrun. */
static void title_append(char *buf, size_t size, const char *text)
{
    size_t used = strlen(buf);
    if (used + 1 < size)
        snprintf(buf + used, size - used, ", %s", text);
}

static int make_dir(const char *path)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        catalog_api->log(catalog_self, SOUK_LOG_ERROR, "demo: cannot create %s: %s", path,
                         strerror(errno));
        return SOUK_ERR;
    }
    return SOUK_OK;
}

/* The statements of the run, prepared once (borrowed from the ctx's cache). */
typedef struct demo_stmts {
    sqlite3_stmt *category, *product, *variant, *pickup, *pickup_rtree;
} demo_stmts;

/* Step an INSERT, then make the statement ready for the next row. */
static int demo_step(souk_ctx *ctx, sqlite3_stmt *st, const char *what, const char *name)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE) {
        catalog_api->log(catalog_self, SOUK_LOG_ERROR, "demo: cannot insert %s %s: %s", what, name,
                         sqlite3_errmsg(catalog_api->db(ctx)));
        return SOUK_ERR;
    }
    return SOUK_OK;
}

/* ---------------------------------------------------------------- image */

/* A 400x300 SVG: the category's colour, a light shape, the brand's initials and
 * the model.  A few hundred bytes; the card's alt text carries the meaning. */
static int demo_write_image(const char *dir, const char *slug, const char *colour,
                            const char *brand, const char *model, unsigned shape)
{
    static const char *const shapes[DEMO_IMAGE_SHAPES] = {
        "<circle cx=\"200\" cy=\"140\" r=\"95\" fill=\"#fff\" fill-opacity=\".18\"/>",
        "<rect x=\"110\" y=\"50\" width=\"180\" height=\"180\" rx=\"28\" fill=\"#fff\" "
        "fill-opacity=\".18\"/>",
        "<path d=\"M200 30 310 140 200 250 90 140z\" fill=\"#fff\" fill-opacity=\".18\"/>",
        "<circle cx=\"200\" cy=\"140\" r=\"88\" fill=\"none\" stroke=\"#fff\" "
        "stroke-opacity=\".3\" stroke-width=\"18\"/>",
    };
    char initials[3] = {(char)toupper((unsigned char)brand[0]),
                        brand[1] ? (char)toupper((unsigned char)brand[1]) : '\0', '\0'};
    char svg[DEMO_SVG_MAX], path[DEMO_PATH_MAX];
    int n = snprintf(svg, sizeof svg,
                     "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"400\" height=\"300\" "
                     "viewBox=\"0 0 400 300\"><rect width=\"400\" height=\"300\" fill=\"%s\"/>%s"
                     "<g fill=\"#fff\" font-family=\"sans-serif\" text-anchor=\"middle\">"
                     "<text x=\"200\" y=\"162\" font-size=\"64\" font-weight=\"700\">%s</text>"
                     "<text x=\"200\" y=\"282\" font-size=\"22\">%s</text></g></svg>\n",
                     colour, shapes[shape % DEMO_IMAGE_SHAPES], initials, model);
    if (snprintf(path, sizeof path, "%s/%s.svg", dir, slug) >= (int)sizeof path) {
        catalog_api->log(catalog_self, SOUK_LOG_ERROR, "demo: path too long: %s", dir);
        return SOUK_ERR;
    }
    FILE *f = fopen(path, "w");
    int ok = f && fwrite(svg, 1, (size_t)n, f) == (size_t)n;
    if (f && fclose(f) != 0)
        ok = 0;
    if (!ok) {
        catalog_api->log(catalog_self, SOUK_LOG_ERROR, "demo: cannot write %s: %s", path,
                         strerror(errno));
        return SOUK_ERR;
    }
    return SOUK_OK;
}

/* ------------------------------------------------------------- products */

typedef struct demo_counts {
    int products, active, variants, images;
} demo_counts;

/* {"name": "value"} as compact JSON text (yours, free()); NULL when out of memory. */
static char *demo_option_json(const char *name, const char *value)
{
    json_t *opt = json_pack("{ss}", name, value);
    char *text = opt ? json_dumps(opt, JSON_COMPACT) : NULL;
    json_decref(opt);
    return text;
}

/* Which values of the variant axis a product offers, in the axis's order. */
static int demo_pick_options(demo_rng *r, const demo_axis *axis, int *picked)
{
    int avail = count_options(axis);
    /* How many variants, in per cent: 1 variant 20%, 2: 30%, 3: 30%, 4: 20%. */
    static const int weights[DEMO_MAX_VARIANTS] = {20, 30, 30, 20};
    int roll = (int)demo_below(r, DEMO_PERCENT), want = 1;
    for (int i = 0, acc = 0; i < DEMO_MAX_VARIANTS; i++) {
        acc += weights[i];
        if (roll < acc) {
            want = i + 1;
            break;
        }
    }
    if (want > avail)
        want = avail;
    if (axis->consecutive) {
        /* Sizes come in a run (M, L, XL), never M and XXL alone. */
        int start = (int)demo_below(r, (uint64_t)(avail - want + 1));
        for (int i = 0; i < want; i++)
            picked[i] = start + i;
        return want;
    }
    /* Any want of the values, kept in the axis's order. */
    int n = 0;
    for (int i = 0; i < avail && n < want; i++)
        if ((int)demo_below(r, (uint64_t)(avail - i)) < want - n)
            picked[n++] = i;
    return n;
}

/* One product of leaf l, number idx within the leaf (g overall). */
static int demo_product(souk_ctx *ctx, const demo_stmts *st, const char *image_dir, int64_t cat_id,
                        const demo_leaf *l, int idx, int g, demo_counts *c)
{
    demo_rng r = {DEMO_SEED ^ ((uint64_t)(g + 1) * 0x9e3779b97f4a7c15ULL)};
    const demo_type *type = &l->types[demo_below(&r, (uint64_t)count_types(l))];
    const char *brand = l->brands[demo_below(&r, (uint64_t)count_brands(l))];
    int number = DEMO_MODEL_BASE + idx * DEMO_MODEL_STEP + (int)demo_below(&r, DEMO_MODEL_STEP);

    char model[64], brand_lc[64], prefix_lc[16], slug[DEMO_SLUG_MAX];
    snprintf(model, sizeof model, "%s-%d", l->prefix, number);
    lower_ascii(brand_lc, sizeof brand_lc, brand);
    lower_ascii(prefix_lc, sizeof prefix_lc, l->prefix);
    snprintf(slug, sizeof slug, "%s-%s-%s-%d", type->slug, brand_lc, prefix_lc, number);

    /* Attributes: one value of each; those marked in_title also name the product. */
    char title_ru[DEMO_TEXT_MAX], title_en[DEMO_TEXT_MAX];
    snprintf(title_ru, sizeof title_ru, "%s %s %s", type->title.ru, brand, model);
    snprintf(title_en, sizeof title_en, "%s %s %s", brand, model, type->title.en);
    json_t *attrs = json_object(), *attrs_ru = json_object(), *attrs_en = json_object();
    json_object_set_new(attrs, "ru", attrs_ru);
    json_object_set_new(attrs, "en", attrs_en);
    for (int a = 0; a < DEMO_MAX_ATTRS && l->attrs[a].name.ru; a++) {
        const demo_attr *at = &l->attrs[a];
        const demo_text *v = &at->values[demo_below(&r, (uint64_t)count_values(at->values))];
        json_object_set_new(attrs_ru, at->name.ru, json_string(v->ru));
        json_object_set_new(attrs_en, at->name.en, json_string(v->en));
        if (at->in_title) {
            title_append(title_ru, sizeof title_ru, v->ru);
            title_append(title_en, sizeof title_en, v->en);
        }
    }

    /* Two different feature sentences and a closing one. */
    int f1 = (int)demo_below(&r, DEMO_MAX_FEATURES);
    int f2 = (f1 + 1 + (int)demo_below(&r, DEMO_MAX_FEATURES - 1)) % DEMO_MAX_FEATURES;
    const demo_text *close =
        &demo_closings[demo_below(&r, sizeof demo_closings / sizeof *demo_closings)];
    /* Pages print descriptions raw (they are sanitised HTML).  These are made only of
     * the vocabulary in demo_data.h, which holds no markup characters (< > &)
     * (test_catalog_demo checks it), so they are safe by construction. */
    char desc_ru[DEMO_DESC_MAX], desc_en[DEMO_DESC_MAX];
    snprintf(desc_ru, sizeof desc_ru, "<p>%s %s</p><p>%s</p>", l->features[f1].ru,
             l->features[f2].ru, close->ru);
    snprintf(desc_en, sizeof desc_en, "<p>%s %s</p><p>%s</p>", l->features[f1].en,
             l->features[f2].en, close->en);

    const char *status = "active";
    if (g % DEMO_DRAFT_EVERY == DEMO_DRAFT_AT)
        status = "draft";
    else if (g % DEMO_ARCHIVED_EVERY == DEMO_ARCHIVED_AT)
        status = "archived";
    int active = strcmp(status, "active") == 0;
    int featured = active && g % DEMO_FEATURED_EVERY == DEMO_FEATURED_AT;
    int64_t created = DEMO_NEWEST_MS - (int64_t)demo_below(&r, DEMO_SPREAD_DAYS) * DEMO_DAY_MS -
                      (int64_t)demo_below(&r, DEMO_DAY_MS);
    int64_t updated = created + (int64_t)demo_below(&r, (uint64_t)(DEMO_NEWEST_MS - created) + 1);

    char images[DEMO_TEXT_MAX];
    snprintf(images, sizeof images, "[\"" DEMO_IMAGE_URL "%s.svg\"]", slug);
    char *attrs_json = json_dumps(attrs, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(attrs);
    if (!attrs_json)
        return SOUK_ERR;

    sqlite3_stmt *p = st->product;
    sqlite3_bind_text(p, 1, slug, -1, SQLITE_STATIC);
    sqlite3_bind_int64(p, 2, cat_id);
    sqlite3_bind_text(p, 3, brand, -1, SQLITE_STATIC);
    sqlite3_bind_text(p, 4, title_ru, -1, SQLITE_STATIC);
    sqlite3_bind_text(p, 5, title_en, -1, SQLITE_STATIC);
    sqlite3_bind_text(p, 6, desc_ru, -1, SQLITE_STATIC);
    sqlite3_bind_text(p, 7, desc_en, -1, SQLITE_STATIC);
    sqlite3_bind_text(p, 8, attrs_json, -1, SQLITE_STATIC);
    sqlite3_bind_text(p, 9, images, -1, SQLITE_STATIC);
    sqlite3_bind_text(p, 10, status, -1, SQLITE_STATIC);
    sqlite3_bind_int(p, 11, featured);
    sqlite3_bind_int64(p, 12, created);
    sqlite3_bind_int64(p, 13, updated);
    int rc = demo_step(ctx, p, "product", slug);
    free(attrs_json);
    if (rc != SOUK_OK)
        return SOUK_ERR;
    int64_t product_id = sqlite3_last_insert_rowid(catalog_api->db(ctx));

    /* Variants: prices from the product's base by the option's percentage. */
    int picked[DEMO_MAX_VARIANTS];
    int nvar = demo_pick_options(&r, &l->axis, picked);
    int64_t base =
        l->price_min + (int64_t)demo_below(&r, (uint64_t)(l->price_max - l->price_min + 1));
    int sold_out = g % DEMO_SOLD_OUT_EVERY == DEMO_SOLD_OUT_AT;
    for (int v = 0; v < nvar; v++) {
        const demo_option *o = &l->axis.values[picked[v]];
        int64_t price = demo_round_price(base * (100 + o->price_pct) / 100) * 100;
        int64_t stock = 0;
        if (!sold_out && (int)demo_below(&r, DEMO_PERCENT) >= DEMO_VARIANT_OUT_PCT)
            stock = 1 + (int64_t)demo_below(&r, DEMO_STOCK_MAX);
        char sku[96];
        snprintf(sku, sizeof sku, "%s-%d-%d", l->prefix, number, v + 1);
        /* The same option in each language: options is Russian, options_en English. */
        char *opt_ru = demo_option_json(l->axis.name.ru, o->value.ru);
        char *opt_en = demo_option_json(l->axis.name.en, o->value.en);
        if (!opt_ru || !opt_en) {
            free(opt_ru);
            free(opt_en);
            return SOUK_ERR;
        }
        sqlite3_stmt *s = st->variant;
        sqlite3_bind_int64(s, 1, product_id);
        sqlite3_bind_text(s, 2, sku, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, opt_ru, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, opt_en, -1, SQLITE_STATIC);
        sqlite3_bind_int(s, 5, v);
        sqlite3_bind_int64(s, 6, price);
        sqlite3_bind_text(s, 7, DEMO_CURRENCY, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 8, stock);
        rc = demo_step(ctx, s, "variant", sku);
        free(opt_ru);
        free(opt_en);
        if (rc != SOUK_OK)
            return SOUK_ERR;
        c->variants++;
    }

    if (demo_write_image(image_dir, slug, l->colour, brand, model,
                         (unsigned)demo_below(&r, DEMO_IMAGE_SHAPES)) != SOUK_OK)
        return SOUK_ERR;
    c->images++;
    c->products++;
    c->active += active;
    return SOUK_OK;
}

/* ------------------------------------------------------- categories, pickup */

static int demo_category(souk_ctx *ctx, const demo_stmts *st, const char *slug, int64_t parent,
                         int position, const demo_text *name, int64_t *id)
{
    sqlite3_stmt *s = st->category;
    sqlite3_bind_text(s, 1, slug, -1, SQLITE_STATIC);
    if (parent)
        sqlite3_bind_int64(s, 2, parent);
    else
        sqlite3_bind_null(s, 2);
    sqlite3_bind_int(s, 3, position);
    sqlite3_bind_text(s, 4, name->ru, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, name->en, -1, SQLITE_STATIC);
    if (demo_step(ctx, s, "category", slug) != SOUK_OK)
        return SOUK_ERR;
    *id = sqlite3_last_insert_rowid(catalog_api->db(ctx));
    return SOUK_OK;
}

static int demo_pickups_insert(souk_ctx *ctx, const demo_stmts *st)
{
    for (size_t i = 0; i < sizeof demo_pickups / sizeof *demo_pickups; i++) {
        const demo_pickup *p = &demo_pickups[i];
        sqlite3_stmt *s = st->pickup;
        sqlite3_bind_text(s, 1, p->code, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, p->name.ru, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, p->name.en, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, p->address.ru, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 5, p->address.en, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 6, p->hours, -1, SQLITE_STATIC);
        sqlite3_bind_double(s, 7, p->lat);
        sqlite3_bind_double(s, 8, p->lon);
        if (demo_step(ctx, s, "pickup point", p->code) != SOUK_OK)
            return SOUK_ERR;
        /* The R*Tree row shares the point's id: a box of zero size. */
        s = st->pickup_rtree;
        sqlite3_bind_int64(s, 1, sqlite3_last_insert_rowid(catalog_api->db(ctx)));
        sqlite3_bind_double(s, 2, p->lat);
        sqlite3_bind_double(s, 3, p->lon);
        if (demo_step(ctx, s, "pickup point box", p->code) != SOUK_OK)
            return SOUK_ERR;
    }
    return SOUK_OK;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- event */

static int demo_fill(souk_ctx *ctx)
{
    const souk_host_api *api = catalog_api;
    demo_stmts st = {
        api->db_prepare(ctx, "INSERT INTO catalog_categories(slug, parent_id, position, "
                             "name_ru, name_en) VALUES(?1, ?2, ?3, ?4, ?5)"),
        api->db_prepare(ctx, "INSERT INTO catalog_products(slug, category_id, brand, title_ru, "
                             "title_en, description_ru, description_en, attributes, images, "
                             "status, featured, created_at, updated_at) "
                             "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"),
        api->db_prepare(ctx, "INSERT INTO catalog_variants(product_id, sku, options, options_en, "
                             "position, price, currency, stock) "
                             "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
        api->db_prepare(ctx, "INSERT INTO catalog_pickup_points(code, name_ru, name_en, "
                             "address_ru, address_en, hours, lat, lon) "
                             "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
        api->db_prepare(ctx, "INSERT INTO catalog_pickup_rtree(id, min_lat, max_lat, min_lon, "
                             "max_lon) VALUES(?1, ?2, ?2, ?3, ?3)"),
    };
    if (!st.category || !st.product || !st.variant || !st.pickup || !st.pickup_rtree)
        return SOUK_ERR;

    char media[DEMO_PATH_MAX], image_dir[DEMO_PATH_MAX];
    const char *store = api->store_dir(catalog_self);
    if (snprintf(media, sizeof media, "%s/media", store) >= (int)sizeof media ||
        snprintf(image_dir, sizeof image_dir, "%s/" DEMO_IMAGE_DIR, store) >=
            (int)sizeof image_dir) {
        api->log(catalog_self, SOUK_LOG_ERROR, "demo: store path too long: %s", store);
        return SOUK_ERR;
    }
    if (make_dir(media) != SOUK_OK || make_dir(image_dir) != SOUK_OK)
        return SOUK_ERR;

    enum { NROOTS = sizeof demo_roots / sizeof *demo_roots };
    int64_t root_ids[NROOTS];
    for (int i = 0; i < NROOTS; i++)
        if (demo_category(ctx, &st, demo_roots[i].slug, 0, i, &demo_roots[i].name, &root_ids[i]) !=
            SOUK_OK)
            return SOUK_ERR;

    demo_counts c = {0, 0, 0, 0};
    int positions[NROOTS] = {0};
    int g = 0;
    for (size_t i = 0; i < sizeof demo_leaves / sizeof *demo_leaves; i++) {
        const demo_leaf *l = &demo_leaves[i];
        int64_t leaf_id;
        if (demo_category(ctx, &st, l->slug, root_ids[l->root], positions[l->root]++, &l->name,
                          &leaf_id) != SOUK_OK)
            return SOUK_ERR;
        for (int k = 0; k < DEMO_PRODUCTS_PER_LEAF; k++, g++)
            if (demo_product(ctx, &st, image_dir, leaf_id, l, k, g, &c) != SOUK_OK)
                return SOUK_ERR;
    }
    if (demo_pickups_insert(ctx, &st) != SOUK_OK)
        return SOUK_ERR;
    int64_t indexed = mono_ms();
    if (catalog_index_all(ctx) != SOUK_OK) {
        api->log(catalog_self, SOUK_LOG_ERROR, "demo: cannot build the search index");
        return SOUK_ERR;
    }
    api->log(catalog_self, SOUK_LOG_INFO,
             "demo catalog: %d products (%d active), %d variants, %d images, %d categories, "
             "%d pickup points; search index in %lld ms",
             c.products, c.active, c.variants, c.images,
             (int)(NROOTS + sizeof demo_leaves / sizeof *demo_leaves),
             (int)(sizeof demo_pickups / sizeof *demo_pickups), (long long)(mono_ms() - indexed));
    return SOUK_OK;
}

int catalog_on_store_created(souk_ctx *ctx, const char *event, json_t *payload, void *udata)
{
    if (!json_is_true(json_object_get(payload, "demo")))
        return SOUK_OK;
    /* Never mix the demonstration into a catalog that already has data. */
    sqlite3_stmt *st = catalog_api->db_prepare(ctx, "SELECT 1 FROM catalog_categories LIMIT 1");
    if (!st)
        return SOUK_ERR;
    int has_data = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    if (has_data) {
        catalog_api->log(catalog_self, SOUK_LOG_WARN,
                         "demo: the catalog already has categories; not adding the demo catalog");
        return SOUK_OK;
    }
    int64_t t0 = mono_ms();
    int rc = demo_fill(ctx);
    if (rc == SOUK_OK)
        catalog_api->log(catalog_self, SOUK_LOG_INFO, "demo catalog made in %lld ms",
                         (long long)(mono_ms() - t0));
    return rc;
}
