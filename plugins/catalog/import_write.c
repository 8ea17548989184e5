/* import_write.c -- products and their variants into the store: the checks that
 * need the store or the rest of the file (a SKU that belongs to another product,
 * what a new product lacks, a slug or SKU met twice), then upserts by slug
 * (products) and SKU (variants).  Categories are import_category.c's, pickup
 * points import_pickup.c's.
 *
 * What must stay true:
 *   - writing the same record twice changes nothing the second time: a row is
 *     compared with what is stored and only written when it differs, so a re-run
 *     reports everything "unchanged" and keeps updated_at;
 *   - products keep their id (UPDATE, never delete + insert), so orders and links
 *     that point at a product stay valid;
 *   - one product (its row, its category path, its variants) is written under a
 *     savepoint: if the store refuses any part, none of it stays, and the rows are
 *     reported instead of the whole import failing;
 *   - statements are prepared once per import (see catalog_import_writer_open): in
 *     a command the host keeps every statement it hands out until the end. */
#include "import.h"

#include <stdlib.h>
#include <string.h>

enum {
    ST_P_SEL,
    ST_P_INS,
    ST_P_UPD,
    ST_V_SEL,
    ST_V_INS,
    ST_V_UPD,
    ST_SAVEPOINT,
    ST_RELEASE,
    ST_ROLLBACK_TO,
    ST_COUNT
};

static const char *const SQL[ST_COUNT] = {
    [ST_P_SEL] = ("SELECT id, category_id, brand, title_ru, title_en, description_ru, "
                  "description_en, attributes, images, status, featured "
                  "FROM catalog_products WHERE slug = ?1"),
    [ST_P_INS] = ("INSERT INTO catalog_products(slug, category_id, brand, title_ru, title_en, "
                  "description_ru, description_en, attributes, images, status, featured, "
                  "created_at, updated_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
                  "?12, ?12)"),
    [ST_P_UPD] = ("UPDATE catalog_products SET category_id = ?2, brand = ?3, title_ru = ?4, "
                  "title_en = ?5, description_ru = ?6, description_en = ?7, attributes = ?8, "
                  "images = ?9, status = ?10, featured = ?11, updated_at = ?12 WHERE id = ?1"),
    [ST_V_SEL] = ("SELECT v.id, p.slug, v.options, v.price, v.currency, v.stock, v.options_en "
                  "FROM catalog_variants v JOIN catalog_products p ON p.id = v.product_id "
                  "WHERE v.sku = ?1"),
    /* a new variant goes after the product's others */
    [ST_V_INS] = ("INSERT INTO catalog_variants(product_id, sku, options, position, price, "
                  "currency, stock, options_en) VALUES(?1, ?2, ?3, (SELECT coalesce(max(position) "
                  "+ 1, 0) FROM catalog_variants WHERE product_id = ?1), ?4, ?5, ?6, ?7)"),
    [ST_V_UPD] = ("UPDATE catalog_variants SET options = ?2, price = ?3, currency = ?4, "
                  "stock = ?5, options_en = ?6 WHERE id = ?1"),
    [ST_SAVEPOINT] = "SAVEPOINT catalog_import",
    [ST_RELEASE] = "RELEASE catalog_import",
    [ST_ROLLBACK_TO] = "ROLLBACK TO catalog_import",
};

struct catalog_import_writer {
    sqlite3_stmt *st[ST_COUNT];
    int64_t *touched; /* products whose search rows must be rewritten */
    size_t ntouched, touched_cap;
};

/* ---------------------------------------------------------------- writer */

int catalog_import_writer_open(catalog_import *im)
{
    const souk_host_api *api = catalog_api;
    catalog_import_writer *w = calloc(1, sizeof *w);
    if (!w)
        return SOUK_ERR;
    im->writer = w;
    for (int i = 0; i < ST_COUNT; i++)
        if (!(w->st[i] = api->db_prepare(im->ctx, SQL[i])))
            return SOUK_ERR; /* the host logged the SQL and the reason */
    if (!(im->cats = catalog_import_categories_new(im)))
        return SOUK_ERR;
    if (!(im->seen_slugs = catalog_import_seen_new()) ||
        !(im->seen_skus = catalog_import_seen_new()) ||
        !(im->seen_categories = catalog_import_seen_new()) ||
        !(im->seen_pickups = catalog_import_seen_new()))
        return SOUK_ERR;
    return SOUK_OK;
}

void catalog_import_writer_close(catalog_import *im)
{
    if (im->writer)
        free(im->writer->touched);
    free(im->writer);
    im->writer = NULL;
    catalog_import_categories_free(im->cats);
    im->cats = NULL;
    catalog_import_seen_free(im->seen_slugs);
    catalog_import_seen_free(im->seen_skus);
    catalog_import_seen_free(im->seen_categories);
    catalog_import_seen_free(im->seen_pickups);
    im->seen_slugs = im->seen_skus = im->seen_categories = im->seen_pickups = NULL;
}

int catalog_import_step(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

const char *catalog_import_db_message(catalog_import *im)
{
    return sqlite3_errmsg(catalog_api->db(im->ctx));
}

int catalog_import_refused(int rc)
{
    return (rc & 0xFF) == SQLITE_CONSTRAINT;
}

static void bind_text_or_empty(sqlite3_stmt *st, int i, const char *s)
{
    sqlite3_bind_text(st, i, s ? s : "", -1, SQLITE_TRANSIENT);
}

const char *catalog_import_column_text(sqlite3_stmt *st, int i)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    return s ? s : "";
}

static int touch(catalog_import *im, int64_t id)
{
    catalog_import_writer *w = im->writer;
    if (w->ntouched && w->touched[w->ntouched - 1] == id)
        return SOUK_OK;
    if (w->ntouched == w->touched_cap) {
        size_t cap = w->touched_cap ? w->touched_cap * 2 : 256;
        int64_t *t = realloc(w->touched, cap * sizeof *t);
        if (!t)
            return SOUK_ERR;
        w->touched = t;
        w->touched_cap = cap;
    }
    w->touched[w->ntouched++] = id;
    return SOUK_OK;
}

/* ---------------------------------------------------------------- products */

/* The product as stored, or as it will be. */
typedef struct {
    int64_t id, category_id;
    char *brand, *title[2], *description[2], *status;
    json_t *attributes, *images;
    int featured;
} product_row;

static void product_row_free(product_row *r)
{
    free(r->brand);
    for (int l = 0; l < 2; l++) {
        free(r->title[l]);
        free(r->description[l]);
    }
    free(r->status);
    json_decref(r->attributes);
    json_decref(r->images);
}

/* Load the stored product by slug into r: 1 found, 0 not, -1 database error. */
static int product_load(catalog_import *im, const char *slug, product_row *r)
{
    sqlite3_stmt *st = im->writer->st[ST_P_SEL];
    sqlite3_bind_text(st, 1, slug, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        r->id = sqlite3_column_int64(st, 0);
        r->category_id = sqlite3_column_int64(st, 1);
        r->brand = strdup(catalog_import_column_text(st, 2));
        r->title[0] = strdup(catalog_import_column_text(st, 3));
        r->title[1] = strdup(catalog_import_column_text(st, 4));
        r->description[0] = strdup(catalog_import_column_text(st, 5));
        r->description[1] = strdup(catalog_import_column_text(st, 6));
        r->attributes = json_loads(catalog_import_column_text(st, 7), 0, NULL);
        r->images = json_loads(catalog_import_column_text(st, 8), 0, NULL);
        r->status = strdup(catalog_import_column_text(st, 9));
        r->featured = sqlite3_column_int(st, 10);
        if (!json_is_object(r->attributes)) {
            json_decref(r->attributes);
            r->attributes = json_object();
        }
        if (!json_is_array(r->images)) {
            json_decref(r->images);
            r->images = json_array();
        }
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int catalog_import_apply_text(char **slot, const catalog_import_text *t, int is_new)
{
    if (t->mode == CATALOG_FIELD_KEEP || (t->mode == CATALOG_FIELD_IF_NEW && !is_new))
        return 0;
    if (*slot && strcmp(*slot, t->text) == 0)
        return 0;
    char *copy = strdup(t->text);
    if (!copy)
        return 0;
    free(*slot);
    *slot = copy;
    return 1;
}

/* Merge the record into the stored row (or a fresh one); *changed says whether the
 * result differs from what is stored.  lang: where merged attributes go when the
 * stored ones are kept per language. */
static void product_merge(catalog_import_product *p, product_row *r, int is_new, const char *lang,
                          int *changed)
{
    int ch = 0;
    ch |= catalog_import_apply_text(&r->brand, &p->brand, is_new);
    ch |= catalog_import_apply_text(&r->title[0], &p->title_ru, is_new);
    ch |= catalog_import_apply_text(&r->title[1], &p->title_en, is_new);
    ch |= catalog_import_apply_text(&r->description[0], &p->description_ru, is_new);
    ch |= catalog_import_apply_text(&r->description[1], &p->description_en, is_new);
    ch |= catalog_import_apply_text(&r->status, &p->status, is_new);
    if (is_new) { /* a locale without a text takes the other's */
        for (int l = 0; l < 2; l++) {
            if (!r->title[l] && r->title[!l])
                r->title[l] = strdup(r->title[!l]);
            if (!r->description[l])
                r->description[l] = strdup(r->description[!l] ? r->description[!l] : "");
        }
        if (!r->brand)
            r->brand = strdup("");
        if (!r->status)
            r->status = strdup("active");
        r->attributes = json_object();
        r->images = json_array();
        r->featured = 0;
    }
    if (p->featured >= 0 && p->featured != r->featured) {
        r->featured = p->featured;
        ch = 1;
    }
    if (p->attributes) {
        json_t *next = p->attributes_merge ? json_deep_copy(r->attributes) : json_object();
        json_t *into = next;
        /* merging into attributes kept per language: into the import's language */
        if (p->attributes_merge && catalog_import_attributes_per_locale(next)) {
            if (!(into = json_object_get(next, lang))) {
                into = json_object();
                json_object_set_new(next, lang, into);
            }
        }
        const char *k;
        json_t *v;
        json_object_foreach(p->attributes, k, v)
        {
            if (json_is_null(v))
                json_object_del(into, k);
            else
                json_object_set(into, k, v);
        }
        if (!json_equal(next, r->attributes)) {
            json_decref(r->attributes);
            r->attributes = next;
            ch = 1;
        } else {
            json_decref(next);
        }
    }
    if (p->images && !json_equal(p->images, r->images)) {
        json_decref(r->images);
        r->images = json_incref(p->images);
        ch = 1;
    }
    *changed = ch;
}

/* Write the merged row; SQLITE_DONE or the error code. */
static int product_store(catalog_import *im, const char *slug, product_row *r, int is_new)
{
    const souk_host_api *api = catalog_api;
    sqlite3_stmt *st = im->writer->st[is_new ? ST_P_INS : ST_P_UPD];
    char *attributes = json_dumps(r->attributes, JSON_COMPACT);
    char *images = json_dumps(r->images, JSON_COMPACT);
    if (is_new)
        sqlite3_bind_text(st, 1, slug, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(st, 1, r->id);
    sqlite3_bind_int64(st, 2, r->category_id);
    bind_text_or_empty(st, 3, r->brand);
    bind_text_or_empty(st, 4, r->title[0]);
    bind_text_or_empty(st, 5, r->title[1]);
    bind_text_or_empty(st, 6, r->description[0]);
    bind_text_or_empty(st, 7, r->description[1]);
    bind_text_or_empty(st, 8, attributes ? attributes : "{}");
    bind_text_or_empty(st, 9, images ? images : "[]");
    bind_text_or_empty(st, 10, r->status);
    sqlite3_bind_int(st, 11, r->featured);
    sqlite3_bind_int64(st, 12, api->now_ms(im->ctx));
    free(attributes);
    free(images);
    int rc = catalog_import_step(st);
    if (rc == SQLITE_DONE && is_new)
        r->id = sqlite3_last_insert_rowid(api->db(im->ctx));
    return rc;
}

/* ---------------------------------------------------------------- variants */

typedef struct {
    int64_t id;
    char *product; /* slug of its product */
    json_t *options, *options_en;
    int64_t price, stock;
    char currency[4];
} variant_row;

/* A stored options column as an object (yours); {} when it is not one. */
static json_t *options_load(sqlite3_stmt *st, int col)
{
    json_t *o = json_loads(catalog_import_column_text(st, col), 0, NULL);
    if (json_is_object(o))
        return o;
    json_decref(o);
    return json_object();
}

static int variant_load(catalog_import *im, const char *sku, variant_row *r)
{
    sqlite3_stmt *st = im->writer->st[ST_V_SEL];
    sqlite3_bind_text(st, 1, sku, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        r->id = sqlite3_column_int64(st, 0);
        r->product = strdup(catalog_import_column_text(st, 1));
        r->options = options_load(st, 2);
        r->options_en = options_load(st, 6);
        r->price = sqlite3_column_int64(st, 3);
        snprintf(r->currency, sizeof r->currency, "%s", catalog_import_column_text(st, 4));
        r->stock = sqlite3_column_int64(st, 5);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static void variant_row_free(variant_row *r)
{
    free(r->product);
    json_decref(r->options);
    json_decref(r->options_en);
}

/* Replace *stored with given unless given is NULL (keep) or equal; 1 when changed. */
static int options_merge(json_t **stored, json_t *given)
{
    if (!given || json_equal(given, *stored))
        return 0;
    json_decref(*stored);
    *stored = json_incref(given);
    return 1;
}

/* Mark a row bad (it is counted once, at the end of its product). */
static void row_bad(catalog_import_product *p, int row)
{
    if (row >= 0 && row < p->nrows)
        p->rows[row].bad = 1;
}

static void all_rows_bad(catalog_import_product *p)
{
    for (int i = 0; i < p->nrows; i++)
        p->rows[i].bad = 1;
}

static int first_line(catalog_import_product *p)
{
    return p->nrows ? p->rows[0].line : 0;
}

/* A product that is not written takes all its rows with it; those without a
 * message of their own are told why, so that every bad row is reported. */
static void skip_rows(catalog_import *im, catalog_import_product *p)
{
    char q[CATALOG_IMPORT_QUOTE_BUF];
    for (int i = 1; i < p->nrows; i++) {
        int reported = p->rows[i].bad;
        for (int v = 0; v < p->nvariants && !reported; v++)
            reported = p->variants[v].row == i && p->variants[v].bad;
        if (!reported)
            catalog_import_error(im, p->rows[i].line,
                                 "not imported: product '%s' (line %d) was refused",
                                 catalog_import_quote(p->slug, q, sizeof q), p->rows[0].line);
    }
    all_rows_bad(p);
}

/* Checks of the variants that need the store or the rest of the file.  Loads
 * each good variant's stored row into rows[i] (id 0 when new). */
static int variants_check(catalog_import *im, catalog_import_product *p, variant_row *rows)
{
    char q[CATALOG_IMPORT_QUOTE_BUF];
    for (int i = 0; i < p->nvariants; i++) {
        catalog_import_variant *v = &p->variants[i];
        int line = p->rows[v->row].line;
        if (v->bad)
            continue;
        int seen = catalog_import_seen_add(im->seen_skus, v->sku, line);
        if (seen < 0)
            return SOUK_ERR;
        if (seen > 0) {
            catalog_import_error(im, line, "sku: '%s' is already used on line %d",
                                 catalog_import_quote(v->sku, q, sizeof q), seen);
            v->bad = 1;
            continue;
        }
        int found = variant_load(im, v->sku, &rows[i]);
        if (found < 0) {
            catalog_import_fatal(im, line, "reading variants: %s", catalog_import_db_message(im));
            return SOUK_ERR;
        }
        if (found && strcmp(rows[i].product, p->slug) != 0) {
            catalog_import_error(im, line, "sku: '%s' belongs to product '%s'",
                                 catalog_import_quote(v->sku, q, sizeof q), rows[i].product);
            v->bad = 1;
        } else if (!found && v->price < 0) {
            catalog_import_error(im, line, "price: a new variant ('%s') needs a price",
                                 catalog_import_quote(v->sku, q, sizeof q));
            v->bad = 1;
        }
    }
    return SOUK_OK;
}

/* Upsert one variant; *state 0 new, 1 updated, 2 unchanged.  SQLITE_DONE or the
 * error code. */
static int variant_store(catalog_import *im, catalog_import_product *p, int64_t product_id,
                         catalog_import_variant *v, variant_row *r, int *state)
{
    const souk_host_api *api = catalog_api;
    catalog_import_writer *w = im->writer;
    if (r->id == 0) {
        sqlite3_stmt *st = w->st[ST_V_INS];
        char *options = v->options ? json_dumps(v->options, JSON_COMPACT) : NULL;
        char *options_en = v->options_en ? json_dumps(v->options_en, JSON_COMPACT) : NULL;
        sqlite3_bind_int64(st, 1, product_id);
        sqlite3_bind_text(st, 2, v->sku, -1, SQLITE_STATIC);
        bind_text_or_empty(st, 3, options ? options : "{}");
        sqlite3_bind_int64(st, 4, v->price);
        sqlite3_bind_text(st, 5, v->currency, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, v->stock >= 0 ? v->stock : 0);
        bind_text_or_empty(st, 7, options_en ? options_en : "{}");
        free(options);
        free(options_en);
        *state = 0;
        return catalog_import_step(st);
    }
    int64_t old_stock = r->stock;
    int changed = 0;
    changed |= options_merge(&r->options, v->options);
    changed |= options_merge(&r->options_en, v->options_en);
    if (v->price >= 0 && v->price != r->price)
        r->price = v->price, changed = 1;
    if (strcmp(v->currency, r->currency) != 0)
        memcpy(r->currency, v->currency, sizeof r->currency), changed = 1;
    if (v->stock >= 0 && v->stock != r->stock)
        r->stock = v->stock, changed = 1;
    *state = changed ? 1 : 2;
    if (!changed)
        return SQLITE_DONE;
    sqlite3_stmt *st = w->st[ST_V_UPD];
    char *options = json_dumps(r->options, JSON_COMPACT);
    char *options_en = json_dumps(r->options_en, JSON_COMPACT);
    sqlite3_bind_int64(st, 1, r->id);
    bind_text_or_empty(st, 2, options ? options : "{}");
    sqlite3_bind_int64(st, 3, r->price);
    sqlite3_bind_text(st, 4, r->currency, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, r->stock);
    bind_text_or_empty(st, 6, options_en ? options_en : "{}");
    free(options);
    free(options_en);
    int rc = catalog_import_step(st);
    /* Back in stock: the same event as a stock change through the service, so
     * that whoever waits for it (notifications) hears of restocks by import too.
     * Not in a dry run, whose writes are rolled back. */
    if (rc == SQLITE_DONE && old_stock == 0 && r->stock > 0 && !im->dry_run) {
        json_t *payload = json_pack("{s:s, s:s, s:I}", "sku", v->sku, "product", p->slug, "stock",
                                    (json_int_t)r->stock);
        int ev = api->event_emit(im->ctx, CATALOG_EVENT_BACK_IN_STOCK, payload);
        json_decref(payload);
        if (ev != SOUK_OK)
            return SQLITE_CONSTRAINT; /* treated like a refusal of this product */
    }
    return rc;
}

/* The database refused part of a product: undo it and report its rows. */
static int product_refused(catalog_import *im, catalog_import_product *p, int line, int rc)
{
    catalog_import_writer *w = im->writer;
    if (!catalog_import_refused(rc)) {
        catalog_import_fatal(im, line, "writing product '%s': %s", p->slug,
                             catalog_import_db_message(im));
        return SOUK_ERR;
    }
    catalog_import_error(im, line, "the store refused product '%s': %s", p->slug,
                         catalog_import_db_message(im));
    if (catalog_import_step(w->st[ST_ROLLBACK_TO]) != SQLITE_DONE ||
        catalog_import_step(w->st[ST_RELEASE]) != SQLITE_DONE) {
        catalog_import_fatal(im, line, "rolling back product '%s': %s", p->slug,
                             catalog_import_db_message(im));
        return SOUK_ERR;
    }
    catalog_import_categories_forget(im->cats);
    skip_rows(im, p);
    return SOUK_OK;
}

static int product_write(catalog_import *im, catalog_import_product *p)
{
    catalog_import_writer *w = im->writer;
    int line = first_line(p);
    char q[CATALOG_IMPORT_QUOTE_BUF];
    if (p->bad) {
        skip_rows(im, p);
        return SOUK_OK;
    }
    int seen = catalog_import_seen_add(im->seen_slugs, p->slug, line);
    if (seen < 0)
        return SOUK_ERR;
    if (seen > 0) {
        catalog_import_error(im, line,
                             "slug: product '%s' already came on line %d (a product's "
                             "rows must follow each other)",
                             catalog_import_quote(p->slug, q, sizeof q), seen);
        skip_rows(im, p);
        return SOUK_OK;
    }

    product_row row;
    memset(&row, 0, sizeof row);
    variant_row *vrows = calloc((size_t)p->nvariants + 1, sizeof *vrows);
    int rc = SOUK_ERR;
    if (!vrows)
        goto out;
    int found = product_load(im, p->slug, &row);
    if (found < 0) {
        catalog_import_fatal(im, line, "reading products: %s", catalog_import_db_message(im));
        goto out;
    }
    if (variants_check(im, p, vrows) != SOUK_OK)
        goto out;
    int good = 0;
    for (int i = 0; i < p->nvariants; i++)
        good += !p->variants[i].bad;
    if (!found) {
        const char *why = NULL;
        if (p->title_ru.mode == CATALOG_FIELD_KEEP && p->title_en.mode == CATALOG_FIELD_KEEP)
            why = "a new product needs a title (title_ru or title_en)";
        else if (p->category_mode == CATALOG_FIELD_KEEP)
            why = "a new product needs a category";
        else if (p->nvariants == 0)
            why = "a new product needs at least one variant";
        else if (good == 0)
            why = "none of its variants is valid";
        if (why) {
            catalog_import_error(im, line, "product '%s' not imported: %s",
                                 catalog_import_quote(p->slug, q, sizeof q), why);
            skip_rows(im, p);
            rc = SOUK_OK;
            goto out;
        }
    }

    /* Writes from here on, under a savepoint; a refusal restores the counts. */
    catalog_import_counts before = im->items, cats_before = im->categories;
    if (catalog_import_step(w->st[ST_SAVEPOINT]) != SQLITE_DONE) {
        catalog_import_fatal(im, line, "savepoint: %s", catalog_import_db_message(im));
        goto out;
    }
    int64_t category_id = row.category_id;
    if (p->category_mode == CATALOG_FIELD_SET ||
        (p->category_mode == CATALOG_FIELD_IF_NEW && !found)) {
        if (catalog_import_category_path(im, line, p->category, p->category_names_ru,
                                         p->category_names_en, p->category_names_mode,
                                         &category_id) != SOUK_OK) {
            catalog_import_step(w->st[ST_ROLLBACK_TO]);
            catalog_import_step(w->st[ST_RELEASE]);
            catalog_import_categories_forget(im->cats);
            im->categories = cats_before;
            skip_rows(im, p);
            rc = im->fatal ? SOUK_ERR : SOUK_OK;
            goto out;
        }
    }
    int changed = 0;
    product_merge(p, &row, !found, im->lang, &changed);
    if (category_id != row.category_id)
        changed = 1;
    row.category_id = category_id;
    int touched = 0;
    if (!found || changed) {
        int src = product_store(im, p->slug, &row, !found);
        if (src != SQLITE_DONE) {
            rc = product_refused(im, p, line, src);
            im->items = before;
            im->categories = cats_before;
            goto out;
        }
        touched = 1;
    }
    if (!found)
        im->items.created++;
    else if (changed)
        im->items.updated++;
    else
        im->items.unchanged++;

    long variants = 0;
    for (int i = 0; i < p->nvariants; i++) {
        catalog_import_variant *v = &p->variants[i];
        if (v->bad)
            continue;
        int state;
        int src = variant_store(im, p, row.id, v, &vrows[i], &state);
        if (src != SQLITE_DONE) {
            rc = product_refused(im, p, p->rows[v->row].line, src);
            im->items = before;
            im->categories = cats_before;
            goto out;
        }
        variants++;
        if (state == 0)
            im->items.created++;
        else if (state == 1)
            im->items.updated++;
        else
            im->items.unchanged++;
        touched |= state != 2;
    }
    if (catalog_import_step(w->st[ST_RELEASE]) != SQLITE_DONE) {
        catalog_import_fatal(im, line, "release: %s", catalog_import_db_message(im));
        goto out;
    }
    im->products++;
    im->variants += variants;
    if (touched && touch(im, row.id) != SOUK_OK)
        goto out;
    rc = SOUK_OK;
out:
    for (int i = 0; vrows && i < p->nvariants; i++)
        variant_row_free(&vrows[i]);
    free(vrows);
    product_row_free(&row);
    return rc;
}

int catalog_import_write_product(catalog_import *im, catalog_import_product *p)
{
    int rc = im->fatal ? SOUK_ERR : product_write(im, p);
    for (int i = 0; i < p->nvariants; i++)
        if (p->variants[i].bad)
            row_bad(p, p->variants[i].row);
    for (int i = 0; i < p->nrows; i++)
        im->bad_rows += p->rows[i].bad;
    im->rows += p->nrows;
    catalog_import_product_free(p);
    catalog_import_progress(im);
    return rc;
}

/* -------------------------------------------------------------- categories */

int catalog_import_write_category(catalog_import *im, catalog_import_category *c)
{
    int rc = SOUK_OK, bad = 0;
    if (im->fatal) {
        rc = SOUK_ERR;
    } else {
        int seen = catalog_import_seen_add(im->seen_categories, c->slug, c->line);
        if (seen > 0) {
            catalog_import_error(im, c->line, "slug: category '%s' is already defined on line %d",
                                 c->slug, seen);
            bad = 1;
        } else if (seen < 0 || catalog_import_category_upsert(im, c) != SOUK_OK) {
            bad = 1;
            rc = im->fatal || seen < 0 ? SOUK_ERR : SOUK_OK;
        }
    }
    im->bad_rows += bad;
    im->rows++;
    catalog_import_category_free(c);
    catalog_import_progress(im);
    return rc;
}

/* ------------------------------------------------------------ search index */

int catalog_import_reindex(catalog_import *im)
{
    catalog_import_writer *w = im->writer;
    /* Renamed categories change the indexed text of every product in them; many
     * touched products are cheaper to index in one pass. */
    if (catalog_import_categories_renamed(im->cats) ||
        w->ntouched >= CATALOG_IMPORT_REINDEX_ALL_MIN)
        return catalog_index_all(im->ctx);
    for (size_t i = 0; i < w->ntouched; i++)
        if (catalog_index_product(im->ctx, w->touched[i]) != SOUK_OK)
            return SOUK_ERR;
    return SOUK_OK;
}
