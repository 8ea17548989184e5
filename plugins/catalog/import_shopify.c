/* import_shopify.c -- the rows of a Shopify product CSV export.
 *
 * An export has one or more rows per product, all with the product's Handle and
 * following each other: the first carries the product (Title, Body (HTML),
 * Vendor, Type, Tags, Status/Published, the option names) and its first variant
 * and image; each further row adds a variant (Option values, Variant SKU, Variant
 * Price, Variant Inventory Qty), an image (Image Src, Image Position), or both.
 * The mapping is documented in docs/catalog.md ("Moving from Shopify").
 *
 * What must stay true: Shopify's texts go into the --lang locale; the other
 * locale receives them only for a new product (a re-import does not overwrite a
 * translation made in souk), and likewise a Type names only a category it
 * creates.  Variant options go into the --lang locale's column only. */
#include "import.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

enum {
    S_HANDLE,
    S_TITLE,
    S_BODY,
    S_VENDOR,
    S_TYPE,
    S_TAGS,
    S_PUBLISHED,
    S_OPT1_NAME,
    S_OPT1_VALUE,
    S_OPT2_NAME,
    S_OPT2_VALUE,
    S_OPT3_NAME,
    S_OPT3_VALUE,
    S_SKU,
    S_QTY,
    S_PRICE,
    S_COMPARE_AT,
    S_IMAGE_SRC,
    S_IMAGE_POSITION,
    S_VARIANT_IMAGE,
    S_STATUS,
    S_COUNT
};

/* Header names as Shopify writes them (compared lower-cased). */
static const char *const SHOPIFY_COLUMNS[S_COUNT] = {
    "Handle",
    "Title",
    "Body (HTML)",
    "Vendor",
    "Type",
    "Tags",
    "Published",
    "Option1 Name",
    "Option1 Value",
    "Option2 Name",
    "Option2 Value",
    "Option3 Name",
    "Option3 Value",
    "Variant SKU",
    "Variant Inventory Qty",
    "Variant Price",
    "Variant Compare At Price",
    "Image Src",
    "Image Position",
    "Variant Image",
    "Status",
};

#define SHOPIFY_OPTIONS 3
#define SHOPIFY_NAME_MAX 64 /* a column name, lower-cased */
/* A product without options has one variant with Option1 "Title" = "Default Title". */
#define SHOPIFY_DEFAULT_OPTION_NAME "Title"
#define SHOPIFY_DEFAULT_OPTION_VALUE "Default Title"

typedef struct {
    char *url;
    long position; /* Image Position, or LONG_MAX when not given */
    int order;     /* the row it came on, for a stable sort */
} shopify_image;

struct catalog_shopify {
    catalog_import *im;
    int col[S_COUNT];
    catalog_import_product *cur;
    char *handle; /* as written in the file */
    char *option_names[SHOPIFY_OPTIONS];
    shopify_image *images;
    int nimages, images_cap;
    int variant_rows; /* for generated SKUs: "<handle>-<n>" */
    int fatal;
};

catalog_shopify *catalog_shopify_new(catalog_import *im, char **names, int ncols)
{
    catalog_shopify *sh = calloc(1, sizeof *sh);
    if (!sh) {
        catalog_import_fatal(im, 1, "out of memory");
        return NULL;
    }
    sh->im = im;
    for (int c = 0; c < S_COUNT; c++) {
        sh->col[c] = -1;
        char lower[SHOPIFY_NAME_MAX];
        size_t n = 0;
        for (const char *p = SHOPIFY_COLUMNS[c]; *p && n < sizeof lower - 1; p++)
            lower[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p + ('a' - 'A') : *p);
        lower[n] = '\0';
        for (int i = 0; i < ncols && sh->col[c] < 0; i++) /* names are lower-cased */
            if (strcmp(names[i], lower) == 0)
                sh->col[c] = i;
    }
    if (sh->col[S_HANDLE] < 0) {
        catalog_import_fatal(im, 1,
                             "not a Shopify product export: there is no 'Handle' "
                             "column");
        free(sh);
        return NULL;
    }
    return sh;
}

static const char *cell(catalog_shopify *sh, char **fields, int n, int c)
{
    int i = sh->col[c];
    return i >= 0 && i < n ? fields[i] : "";
}

static void bad(catalog_shopify *sh, int line, int c, const char *why)
{
    catalog_import_error(sh->im, line, "%s: %s", SHOPIFY_COLUMNS[c], why);
}

static int add_image(catalog_shopify *sh, const char *url, long position)
{
    for (int i = 0; i < sh->nimages; i++)
        if (strcmp(sh->images[i].url, url) == 0)
            return 0;
    if (sh->nimages == sh->images_cap) {
        int cap = sh->images_cap ? sh->images_cap * 2 : 8;
        shopify_image *im = realloc(sh->images, (size_t)cap * sizeof *im);
        if (!im)
            return -1;
        sh->images = im;
        sh->images_cap = cap;
    }
    shopify_image *img = &sh->images[sh->nimages];
    if (!(img->url = strdup(url)))
        return -1;
    img->position = position;
    img->order = sh->nimages++;
    return 0;
}

static int image_cmp(const void *a, const void *b)
{
    const shopify_image *x = a, *y = b;
    if (x->position != y->position)
        return x->position < y->position ? -1 : 1;
    return x->order - y->order;
}

static void reset_product(catalog_shopify *sh)
{
    free(sh->handle);
    sh->handle = NULL;
    for (int i = 0; i < SHOPIFY_OPTIONS; i++) {
        free(sh->option_names[i]);
        sh->option_names[i] = NULL;
    }
    for (int i = 0; i < sh->nimages; i++)
        free(sh->images[i].url);
    sh->nimages = 0;
    sh->variant_rows = 0;
}

/* Hand the collected product to the writer. */
static void flush(catalog_shopify *sh)
{
    catalog_import_product *p = sh->cur;
    if (!p)
        return;
    if (sh->nimages > 0) {
        qsort(sh->images, (size_t)sh->nimages, sizeof *sh->images, image_cmp);
        p->images = json_array();
        int n = sh->nimages;
        if (n > CATALOG_IMPORT_IMAGES_MAX) {
            catalog_import_warning(sh->im, p->rows[0].line,
                                   "product '%s' has %d images; the "
                                   "first %d are imported",
                                   p->slug, n, CATALOG_IMPORT_IMAGES_MAX);
            n = CATALOG_IMPORT_IMAGES_MAX;
        }
        for (int i = 0; i < n; i++)
            json_array_append_new(p->images, json_string(sh->images[i].url));
    }
    sh->cur = NULL;
    reset_product(sh);
    if (catalog_import_write_product(sh->im, p) != SOUK_OK)
        sh->fatal = 1;
}

/* Texts for the --lang locale (SET) and the other one (only when new). */
static void set_localized(catalog_shopify *sh, catalog_import_text *ru, catalog_import_text *en,
                          const char *text)
{
    int is_ru = strcmp(sh->im->lang, "ru") == 0;
    catalog_import_text_set(is_ru ? ru : en, CATALOG_FIELD_SET, text);
    catalog_import_text_set(is_ru ? en : ru, CATALOG_FIELD_IF_NEW, text);
}

/* Tags "a, b,c" as the attribute tags ["a", "b", "c"] (null, which removes the
 * attribute, when there are none). */
static json_t *tags_value(const char *tags)
{
    json_t *list = json_array();
    for (const char *p = tags; *p;) {
        p += strspn(p, " \t,");
        size_t len = strcspn(p, ",");
        char *one = strndup(p, len), *clean = NULL, why[CATALOG_IMPORT_REASON_MAX];
        p += len;
        if (one &&
            catalog_import_clean_text(one, CATALOG_IMPORT_TEXT_MAX, &clean, why, sizeof why) ==
                SOUK_OK &&
            clean && json_array_size(list) < CATALOG_IMPORT_PAIRS_MAX)
            json_array_append_new(list, json_string(clean));
        free(one);
        free(clean);
    }
    if (json_array_size(list) == 0) {
        json_decref(list);
        return json_null();
    }
    return list;
}

/* The product columns of a product's first row; returns the number of problems. */
static int product_columns(catalog_shopify *sh, int line, char **fields, int n)
{
    catalog_import_product *p = sh->cur;
    char why[CATALOG_IMPORT_REASON_MAX], q[CATALOG_IMPORT_QUOTE_BUF];
    int errors = 0;
    const char *v;
    if (catalog_import_check_slug(sh->handle, why, sizeof why) == SOUK_OK) {
        p->slug = strdup(sh->handle);
    } else if (!(p->slug = catalog_import_slugify(sh->handle))) {
        snprintf(why, sizeof why, "'%s' gives no usable slug",
                 catalog_import_quote(sh->handle, q, sizeof q));
        bad(sh, line, S_HANDLE, why), errors++;
        p->slug = strdup(sh->handle);
    }
    char *clean = NULL;
    if (catalog_import_clean_text(cell(sh, fields, n, S_TITLE), CATALOG_IMPORT_TEXT_MAX, &clean,
                                  why, sizeof why) != SOUK_OK)
        bad(sh, line, S_TITLE, why), errors++;
    else if (clean)
        set_localized(sh, &p->title_ru, &p->title_en, clean);
    free(clean);
    if (*(v = cell(sh, fields, n, S_BODY))) {
        if (strlen(v) > CATALOG_IMPORT_DESCRIPTION_MAX) {
            snprintf(why, sizeof why, "longer than %d bytes", CATALOG_IMPORT_DESCRIPTION_MAX);
            bad(sh, line, S_BODY, why), errors++;
        } else {
            char *safe = catalog_sanitize_html(v);
            set_localized(sh, &p->description_ru, &p->description_en, safe);
            free(safe);
        }
    }
    clean = NULL;
    if (catalog_import_clean_text(cell(sh, fields, n, S_VENDOR), CATALOG_IMPORT_TEXT_MAX, &clean,
                                  why, sizeof why) != SOUK_OK)
        bad(sh, line, S_VENDOR, why), errors++;
    else if (clean)
        catalog_import_text_set(&p->brand, CATALOG_FIELD_SET, clean);
    free(clean);

    /* Type: a category of its own (one level), named after the type when new. */
    clean = NULL;
    if (catalog_import_clean_text(cell(sh, fields, n, S_TYPE), CATALOG_IMPORT_TEXT_MAX, &clean, why,
                                  sizeof why) != SOUK_OK) {
        bad(sh, line, S_TYPE, why), errors++;
    } else if (clean && (p->category = catalog_import_slugify(clean))) {
        for (char *c = clean; *c; c++)
            if (*c == '>') /* '>' separates the levels of a name path */
                *c = '/';
        p->category_mode = CATALOG_FIELD_SET;
        p->category_names_ru = strdup(clean);
        p->category_names_en = strdup(clean);
        p->category_names_mode = CATALOG_FIELD_IF_NEW;
    } else {
        p->category_mode = CATALOG_FIELD_IF_NEW;
        p->category = strdup(CATALOG_IMPORT_FALLBACK_CATEGORY);
        p->category_names_ru = strdup(CATALOG_IMPORT_FALLBACK_CATEGORY_RU);
        p->category_names_en = strdup(CATALOG_IMPORT_FALLBACK_CATEGORY_EN);
        p->category_names_mode = CATALOG_FIELD_IF_NEW;
    }
    free(clean);

    if (sh->col[S_TAGS] >= 0) {
        json_t *tags = tags_value(cell(sh, fields, n, S_TAGS));
        p->attributes = json_object();
        json_object_set_new(p->attributes, "tags", tags ? tags : json_null());
        p->attributes_merge = 1;
    }
    const char *status = NULL;
    if (*(v = cell(sh, fields, n, S_STATUS))) {
        if (catalog_import_parse_status(v, &status, why, sizeof why) != SOUK_OK)
            bad(sh, line, S_STATUS, why), errors++;
    } else if (*(v = cell(sh, fields, n, S_PUBLISHED))) {
        int published;
        if (catalog_import_parse_bool(v, &published, why, sizeof why) != SOUK_OK)
            bad(sh, line, S_PUBLISHED, why), errors++;
        else
            status = published ? "active" : "draft";
    }
    if (status)
        catalog_import_text_set(&p->status, CATALOG_FIELD_SET, status);
    for (int i = 0; i < SHOPIFY_OPTIONS; i++) {
        const char *name = cell(sh, fields, n, S_OPT1_NAME + 2 * i);
        if (!*name)
            continue;
        if (catalog_import_clean_text(name, CATALOG_IMPORT_KEY_MAX, &sh->option_names[i], why,
                                      sizeof why) != SOUK_OK)
            bad(sh, line, S_OPT1_NAME + 2 * i, why), errors++;
    }
    return errors;
}

/* A variant row's columns; returns the number of problems. */
static int variant_columns(catalog_shopify *sh, int line, char **fields, int n,
                           catalog_import_variant *var)
{
    catalog_import *im = sh->im;
    char why[CATALOG_IMPORT_REASON_MAX];
    int errors = 0;
    const char *v = cell(sh, fields, n, S_SKU);
    if (*v) {
        var->sku = strdup(v);
    } else { /* Shopify allows variants without a SKU; souk needs one */
        char gen[CATALOG_IMPORT_SLUG_MAX + 16];
        snprintf(gen, sizeof gen, "%s-%d", sh->cur->slug, sh->variant_rows);
        var->sku = strdup(gen);
    }
    if (catalog_import_check_sku(var->sku, why, sizeof why) != SOUK_OK)
        bad(sh, line, S_SKU, why), errors++;

    /* Option names and values are texts of the --lang locale: they go into that
     * locale's column (options for ru, options_en for en) and leave the other. */
    json_t *options = json_object();
    if (strcmp(im->lang, "ru") == 0)
        var->options = options;
    else
        var->options_en = options;
    for (int i = 0; i < SHOPIFY_OPTIONS; i++) {
        const char *value = cell(sh, fields, n, S_OPT1_VALUE + 2 * i);
        if (!*value)
            continue;
        const char *name = sh->option_names[i];
        if (!name) {
            snprintf(why, sizeof why, "a value without Option%d Name on the product's first row",
                     i + 1);
            bad(sh, line, S_OPT1_VALUE + 2 * i, why), errors++;
            continue;
        }
        if (i == 0 && strcmp(name, SHOPIFY_DEFAULT_OPTION_NAME) == 0 &&
            strcmp(value, SHOPIFY_DEFAULT_OPTION_VALUE) == 0)
            continue;
        char *clean = NULL;
        if (catalog_import_clean_text(value, CATALOG_IMPORT_TEXT_MAX, &clean, why, sizeof why) !=
            SOUK_OK) {
            bad(sh, line, S_OPT1_VALUE + 2 * i, why), errors++;
            continue;
        }
        json_object_set_new(options, name, json_string(clean));
        free(clean);
    }
    memcpy(var->currency, im->currency, sizeof var->currency);
    if (*(v = cell(sh, fields, n, S_PRICE)) &&
        catalog_import_parse_price(v, catalog_import_currency_decimals(var->currency), &var->price,
                                   why, sizeof why) != SOUK_OK)
        bad(sh, line, S_PRICE, why), errors++;
    if (*cell(sh, fields, n, S_COMPARE_AT))
        im->compare_at_seen = 1;
    if (*(v = cell(sh, fields, n, S_QTY))) {
        int64_t qty;
        if (catalog_import_parse_int(v, -CATALOG_IMPORT_STOCK_MAX, CATALOG_IMPORT_STOCK_MAX, &qty,
                                     why, sizeof why) != SOUK_OK) {
            bad(sh, line, S_QTY, why), errors++;
        } else if (qty < 0) {
            /* Shopify lets orders oversell; souk's stock never goes below zero */
            catalog_import_warning(im, line, "%s: %lld is negative, imported as 0",
                                   SHOPIFY_COLUMNS[S_QTY], (long long)qty);
            var->stock = 0;
        } else {
            var->stock = qty;
        }
    }
    return errors;
}

int catalog_shopify_row(catalog_shopify *sh, int line, char **fields, int n)
{
    catalog_import *im = sh->im;
    char why[CATALOG_IMPORT_REASON_MAX];
    const char *handle = cell(sh, fields, n, S_HANDLE);
    if (!*handle) {
        catalog_import_error(im, line, "Handle: empty (every row names its product)");
        im->bad_rows++;
        im->rows++;
        return SOUK_OK;
    }
    if (sh->cur && strcmp(sh->handle, handle) != 0)
        flush(sh);
    if (sh->fatal)
        return SOUK_ERR;
    if (!sh->cur) {
        if (!(sh->cur = catalog_import_product_new()) || !(sh->handle = strdup(handle)) ||
            !catalog_import_product_row(sh->cur, line)) {
            catalog_import_fatal(im, line, "out of memory");
            return SOUK_ERR;
        }
        if (product_columns(sh, line, fields, n))
            sh->cur->bad = 1;
    } else if (!catalog_import_product_row(sh->cur, line)) {
        catalog_import_fatal(im, line, "out of memory");
        return SOUK_ERR;
    }
    catalog_import_row *row = &sh->cur->rows[sh->cur->nrows - 1];

    const char *src = cell(sh, fields, n, S_IMAGE_SRC);
    const char *vimg = cell(sh, fields, n, S_VARIANT_IMAGE);
    for (int k = 0; k < 2; k++) {
        const char *u = k == 0 ? src : vimg;
        if (!*u)
            continue;
        char *url = NULL;
        long position = LONG_MAX;
        int64_t pos;
        const char *ptext = cell(sh, fields, n, S_IMAGE_POSITION);
        if (catalog_import_check_url(u, &url, why, sizeof why) != SOUK_OK) {
            bad(sh, line, k == 0 ? S_IMAGE_SRC : S_VARIANT_IMAGE, why);
            row->bad = 1;
            continue;
        }
        if (k == 0 && *ptext) {
            if (catalog_import_parse_int(ptext, 0, CATALOG_IMPORT_POSITION_MAX, &pos, why,
                                         sizeof why) != SOUK_OK) {
                bad(sh, line, S_IMAGE_POSITION, why);
                row->bad = 1;
            } else {
                position = (long)pos;
            }
        }
        int rc = add_image(sh, url, position);
        free(url);
        if (rc != 0) {
            catalog_import_fatal(im, line, "out of memory");
            return SOUK_ERR;
        }
    }

    int variant = *cell(sh, fields, n, S_OPT1_VALUE) || *cell(sh, fields, n, S_SKU) ||
                  *cell(sh, fields, n, S_PRICE);
    if (!variant)
        return SOUK_OK; /* an image row */
    if (sh->cur->nvariants >= CATALOG_IMPORT_VARIANTS_MAX) {
        catalog_import_error(im, line, "product '%s' has more than %d variants", sh->cur->slug,
                             CATALOG_IMPORT_VARIANTS_MAX);
        row->bad = 1;
        return SOUK_OK;
    }
    sh->variant_rows++;
    catalog_import_variant *var = catalog_import_product_variant(sh->cur);
    if (!var) {
        catalog_import_fatal(im, line, "out of memory");
        return SOUK_ERR;
    }
    if (variant_columns(sh, line, fields, n, var) || row->bad)
        var->bad = 1;
    return SOUK_OK;
}

void catalog_shopify_finish(catalog_shopify *sh)
{
    flush(sh);
    if (sh->im->compare_at_seen)
        catalog_import_warning(sh->im, 0,
                               "'Variant Compare At Price' is not imported: the "
                               "displayed \"was / now\" prices come from scripts/pricing.lua "
                               "(see docs/catalog.md)");
}

void catalog_shopify_free(catalog_shopify *sh)
{
    if (!sh)
        return;
    catalog_import_product_free(sh->cur);
    reset_product(sh);
    free(sh->images);
    free(sh);
}
