/* import_json.c -- the native JSON document:
 *
 *   {"categories": [{...}, ...], "products": [{..., "variants": [...]}, ...],
 *    "pickup_points": [{...}, ...]}
 *
 * (every section optional; docs/catalog.md has the fields).  Each record is
 * decoded by jansson on its own (JSON_DISABLE_EOF_CHECK stops after it and says
 * how many bytes it took), so that a message can name the line a record starts
 * on, a syntax error the line it is on, and a large file never has to be one tree
 * in memory.  Only the punctuation between records ({ "key": [ , ] }) is read
 * here.
 *
 * What must stay true: a record's own problems are reported and the next record
 * read; a syntax error stops the file (nothing is written). */
#include "import.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define JSON_PREFIX_MAX 48 /* "variants[123]." */
#define JSON_RECORD_FLAGS (JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES)

typedef struct json_reader {
    catalog_import *im;
    const char *p, *end;
    const char *counted; /* lines are counted up to here */
    int line;
} json_reader;

static void skip_ws(json_reader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

/* The line of the reader's position (positions only move forward). */
static int line_here(json_reader *r)
{
    for (; r->counted < r->p; r->counted++)
        r->line += *r->counted == '\n';
    return r->line;
}

/* Decode one value at the position and step over it; NULL after reporting. */
static json_t *decode(json_reader *r, size_t flags)
{
    int line = line_here(r);
    json_error_t e;
    json_t *v = json_loadb(r->p, (size_t)(r->end - r->p), flags, &e);
    if (!v) {
        catalog_import_fatal(r->im, line + (e.line > 0 ? e.line - 1 : 0),
                             "JSON syntax error: %s (column %d)", e.text, e.column);
        return NULL;
    }
    r->p += e.position;
    return v;
}

/* ---------------------------------------------------------------- fields */

/* Report the fields of obj that are not in known.  Returns how many. */
static int unknown_fields(catalog_import *im, int line, json_t *obj, const char *const *known,
                          const char *prefix)
{
    int errors = 0;
    const char *k;
    json_t *v;
    char q[CATALOG_IMPORT_QUOTE_BUF];
    json_object_foreach(obj, k, v)
    {
        int i = 0;
        while (known[i] && strcmp(known[i], k) != 0)
            i++;
        if (!known[i]) {
            catalog_import_error(im, line, "%sunknown field '%s'", prefix,
                                 catalog_import_quote(k, q, sizeof q));
            errors++;
        }
    }
    return errors;
}

/* The string obj[key] (NULL when absent, null or ""), or -1 after reporting a value
 * of another type. */
static int get_string(catalog_import *im, int line, json_t *obj, const char *key,
                      const char *prefix, const char **out)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        catalog_import_error(im, line, "%s%s: expected a string", prefix, key);
        return -1;
    }
    if (*json_string_value(v))
        *out = json_string_value(v);
    return 0;
}

/* A plain text field into t (mode SET); returns the number of problems. */
static int get_text(catalog_import *im, int line, json_t *obj, const char *key, const char *prefix,
                    catalog_import_text *t)
{
    const char *s;
    char why[CATALOG_IMPORT_REASON_MAX], *clean = NULL;
    if (get_string(im, line, obj, key, prefix, &s) < 0)
        return 1;
    if (!s)
        return 0;
    if (catalog_import_clean_text(s, CATALOG_IMPORT_TEXT_MAX, &clean, why, sizeof why) != SOUK_OK) {
        catalog_import_error(im, line, "%s%s: %s", prefix, key, why);
        return 1;
    }
    catalog_import_text_set(t, CATALOG_FIELD_SET, clean);
    free(clean);
    return 0;
}

static int get_slug(catalog_import *im, int line, json_t *obj, const char *key, char **out)
{
    const char *s;
    char why[CATALOG_IMPORT_REASON_MAX];
    *out = NULL;
    if (get_string(im, line, obj, key, "", &s) < 0)
        return 1;
    if (!s) {
        catalog_import_error(im, line, "%s: missing", key);
        return 1;
    }
    if (catalog_import_check_slug(s, why, sizeof why) != SOUK_OK) {
        catalog_import_error(im, line, "%s: %s", key, why);
        return 1;
    }
    *out = strdup(s);
    return 0;
}

/* ------------------------------------------------------------------ products */

static const char *const PRODUCT_FIELDS[] = {
    "slug",     "category",   "category_ru",    "category_en",    "brand",
    "title_ru", "title_en",   "description_ru", "description_en", "status",
    "featured", "attributes", "images",         "variants",       NULL};
static const char *const VARIANT_FIELDS[] = {"sku",   "options",     "options_en", "price",
                                             "price_minor", "currency", "stock", NULL};

/* The price of a variant: "1990.50" (exact decimal text), 1990 (whole units) or
 * price_minor 199050.  A number with a fraction is refused: it is a binary
 * floating-point value, not an amount. */
static int variant_price(catalog_import *im, int line, json_t *v, const char *prefix,
                         catalog_import_variant *var)
{
    json_t *price = json_object_get(v, "price"), *minor = json_object_get(v, "price_minor");
    char why[CATALOG_IMPORT_REASON_MAX];
    int decimals = catalog_import_currency_decimals(var->currency);
    if (price && minor) {
        catalog_import_error(im, line, "%sprice: give price or price_minor, not both", prefix);
        return 1;
    }
    if (minor && !json_is_null(minor)) {
        if (!json_is_integer(minor) || json_integer_value(minor) < 0 ||
            json_integer_value(minor) > CATALOG_IMPORT_PRICE_MAX) {
            catalog_import_error(im, line,
                                 "%sprice_minor: expected a whole number of minor "
                                 "units from 0 to %lld",
                                 prefix, (long long)CATALOG_IMPORT_PRICE_MAX);
            return 1;
        }
        var->price = json_integer_value(minor);
        return 0;
    }
    if (!price || json_is_null(price))
        return 0;
    if (json_is_string(price)) {
        if (catalog_import_parse_price(json_string_value(price), decimals, &var->price, why,
                                       sizeof why) != SOUK_OK) {
            catalog_import_error(im, line, "%sprice: %s", prefix, why);
            return 1;
        }
        return 0;
    }
    if (json_is_integer(price)) {
        char text[CATALOG_IMPORT_NUMBER_MAX];
        snprintf(text, sizeof text, "%" JSON_INTEGER_FORMAT, json_integer_value(price));
        if (catalog_import_parse_price(text, decimals, &var->price, why, sizeof why) != SOUK_OK) {
            catalog_import_error(im, line, "%sprice: %s", prefix, why);
            return 1;
        }
        return 0;
    }
    catalog_import_error(im, line,
                         "%sprice: give it as text (\"1990.50\") or price_minor: a "
                         "number with a fraction is not exact",
                         prefix);
    return 1;
}

static int variant_record(catalog_import *im, int line, json_t *v, int index,
                          catalog_import_variant *var)
{
    char prefix[JSON_PREFIX_MAX], why[CATALOG_IMPORT_REASON_MAX];
    snprintf(prefix, sizeof prefix, "variants[%d].", index);
    memcpy(var->currency, im->currency, sizeof var->currency);
    if (!json_is_object(v)) {
        catalog_import_error(im, line, "variants[%d]: expected an object", index);
        var->sku = strdup("");
        return 1;
    }
    int errors = unknown_fields(im, line, v, VARIANT_FIELDS, prefix);
    const char *s;
    if (get_string(im, line, v, "sku", prefix, &s) < 0) {
        errors++;
    } else if (!s) {
        catalog_import_error(im, line, "%ssku: missing", prefix);
        errors++;
    } else if (catalog_import_check_sku(s, why, sizeof why) != SOUK_OK) {
        catalog_import_error(im, line, "%ssku: %s", prefix, why);
        errors++;
    }
    var->sku = strdup(s ? s : "");
    json_t *options = json_object_get(v, "options");
    if (options && !json_is_null(options) &&
        catalog_import_check_pairs(options, 1, &var->options, why, sizeof why) != SOUK_OK) {
        catalog_import_error(im, line, "%soptions: %s", prefix, why);
        errors++;
    }
    json_t *options_en = json_object_get(v, "options_en");
    if (options_en && !json_is_null(options_en) &&
        catalog_import_check_pairs(options_en, 1, &var->options_en, why, sizeof why) != SOUK_OK) {
        catalog_import_error(im, line, "%soptions_en: %s", prefix, why);
        errors++;
    }
    if (get_string(im, line, v, "currency", prefix, &s) < 0) {
        errors++;
    } else if (s && catalog_import_parse_currency(s, var->currency, why, sizeof why) != SOUK_OK) {
        catalog_import_error(im, line, "%scurrency: %s", prefix, why);
        errors++;
    }
    errors += variant_price(im, line, v, prefix, var);
    json_t *stock = json_object_get(v, "stock");
    if (stock && !json_is_null(stock)) {
        if (!json_is_integer(stock) || json_integer_value(stock) < 0 ||
            json_integer_value(stock) > CATALOG_IMPORT_STOCK_MAX) {
            catalog_import_error(im, line, "%sstock: expected a whole number from 0 to %lld",
                                 prefix, (long long)CATALOG_IMPORT_STOCK_MAX);
            errors++;
        } else {
            var->stock = json_integer_value(stock);
        }
    }
    return errors;
}

static int product_record(catalog_import *im, int line, json_t *obj)
{
    catalog_import_product *p = catalog_import_product_new();
    char why[CATALOG_IMPORT_REASON_MAX];
    if (!p || !catalog_import_product_row(p, line)) {
        catalog_import_product_free(p);
        catalog_import_fatal(im, line, "out of memory");
        return SOUK_ERR;
    }
    if (!json_is_object(obj)) {
        catalog_import_error(im, line, "a product must be an object");
        p->bad = 1;
        p->slug = strdup("");
        return catalog_import_write_product(im, p);
    }
    int errors = unknown_fields(im, line, obj, PRODUCT_FIELDS, "");
    errors += get_slug(im, line, obj, "slug", &p->slug);
    if (!p->slug)
        p->slug = strdup("");

    const char *s;
    if (get_string(im, line, obj, "category", "", &s) < 0)
        errors++;
    else if (s)
        p->category_mode = CATALOG_FIELD_SET, p->category = strdup(s);
    const char *names[2];
    static const char *const name_keys[2] = {"category_ru", "category_en"};
    for (int l = 0; l < 2; l++)
        if (get_string(im, line, obj, name_keys[l], "", &names[l]) < 0)
            errors++;
    if ((names[0] || names[1]) && !p->category) {
        catalog_import_error(im, line, "%s: names without a category path",
                             names[0] ? name_keys[0] : name_keys[1]);
        errors++;
    }
    p->category_names_ru = names[0] ? strdup(names[0]) : NULL;
    p->category_names_en = names[1] ? strdup(names[1]) : NULL;
    p->category_names_mode = CATALOG_FIELD_SET;

    errors += get_text(im, line, obj, "brand", "", &p->brand);
    errors += get_text(im, line, obj, "title_ru", "", &p->title_ru);
    errors += get_text(im, line, obj, "title_en", "", &p->title_en);
    static const char *const desc_keys[2] = {"description_ru", "description_en"};
    catalog_import_text *desc[2] = {&p->description_ru, &p->description_en};
    for (int l = 0; l < 2; l++) {
        if (get_string(im, line, obj, desc_keys[l], "", &s) < 0) {
            errors++;
        } else if (s && strlen(s) > CATALOG_IMPORT_DESCRIPTION_MAX) {
            catalog_import_error(im, line, "%s: longer than %d bytes", desc_keys[l],
                                 CATALOG_IMPORT_DESCRIPTION_MAX);
            errors++;
        } else if (s) {
            char *safe = catalog_sanitize_html(s);
            catalog_import_text_set(desc[l], CATALOG_FIELD_SET, safe);
            free(safe);
        }
    }
    if (get_string(im, line, obj, "status", "", &s) < 0) {
        errors++;
    } else if (s) {
        const char *status;
        if (catalog_import_parse_status(s, &status, why, sizeof why) != SOUK_OK) {
            catalog_import_error(im, line, "status: %s", why);
            errors++;
        } else {
            catalog_import_text_set(&p->status, CATALOG_FIELD_SET, status);
        }
    }
    json_t *v = json_object_get(obj, "featured");
    if (v && !json_is_null(v)) {
        if (json_is_boolean(v)) {
            p->featured = json_is_true(v);
        } else {
            catalog_import_error(im, line, "featured: expected true or false");
            errors++;
        }
    }
    v = json_object_get(obj, "attributes");
    if (v && !json_is_null(v) &&
        catalog_import_check_attributes(v, &p->attributes, why, sizeof why) != SOUK_OK) {
        catalog_import_error(im, line, "attributes: %s", why);
        errors++;
    }
    v = json_object_get(obj, "images");
    if (v && !json_is_null(v)) {
        if (!json_is_array(v)) {
            catalog_import_error(im, line, "images: expected an array of URLs");
            errors++;
        } else {
            p->images = json_array();
            size_t i;
            json_t *u;
            json_array_foreach(v, i, u)
            {
                char *url = NULL;
                if (!json_is_string(u)) {
                    catalog_import_error(im, line, "images[%zu]: expected a string", i);
                    errors++;
                } else if (catalog_import_check_url(json_string_value(u), &url, why, sizeof why) !=
                           SOUK_OK) {
                    catalog_import_error(im, line, "images[%zu]: %s", i, why);
                    errors++;
                } else if (i >= CATALOG_IMPORT_IMAGES_MAX) {
                    catalog_import_error(im, line, "images: more than %d",
                                         CATALOG_IMPORT_IMAGES_MAX);
                    errors++;
                    free(url);
                    break;
                } else {
                    json_array_append_new(p->images, json_string(url));
                }
                free(url);
            }
        }
    }
    if (errors)
        p->bad = 1; /* a product-level problem: none of it is written */

    v = json_object_get(obj, "variants");
    if (v && !json_is_null(v) && !json_is_array(v)) {
        catalog_import_error(im, line, "variants: expected an array");
        p->bad = 1;
    } else if (json_array_size(v) > CATALOG_IMPORT_VARIANTS_MAX) {
        catalog_import_error(im, line, "variants: more than %d", CATALOG_IMPORT_VARIANTS_MAX);
        p->bad = 1;
    } else {
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item)
        {
            catalog_import_variant *var = catalog_import_product_variant(p);
            if (!var) {
                catalog_import_product_free(p);
                catalog_import_fatal(im, line, "out of memory");
                return SOUK_ERR;
            }
            if (variant_record(im, line, item, (int)i, var))
                var->bad = 1;
        }
    }
    return catalog_import_write_product(im, p);
}

/* ---------------------------------------------------------------- categories */

static const char *const CATEGORY_FIELDS[] = {"slug",    "parent",   "name_ru",
                                              "name_en", "position", NULL};

static int category_record(catalog_import *im, int line, json_t *obj)
{
    catalog_import_category *c = calloc(1, sizeof *c);
    if (!c) {
        catalog_import_fatal(im, line, "out of memory");
        return SOUK_ERR;
    }
    c->line = line;
    c->position = -1;
    int errors = 0;
    if (!json_is_object(obj)) {
        catalog_import_error(im, line, "a category must be an object");
        errors++;
    } else {
        errors += unknown_fields(im, line, obj, CATEGORY_FIELDS, "");
        errors += get_slug(im, line, obj, "slug", &c->slug);
        json_t *parent = json_object_get(obj, "parent");
        if (parent) {
            c->parent_given = 1;
            if (!json_is_null(parent))
                errors += get_slug(im, line, obj, "parent", &c->parent);
        }
        errors += get_text(im, line, obj, "name_ru", "", &c->name_ru);
        errors += get_text(im, line, obj, "name_en", "", &c->name_en);
        json_t *pos = json_object_get(obj, "position");
        if (pos && !json_is_null(pos)) {
            if (!json_is_integer(pos) || json_integer_value(pos) < 0 ||
                json_integer_value(pos) > CATALOG_IMPORT_POSITION_MAX) {
                catalog_import_error(im, line, "position: expected a whole number from 0 to %d",
                                     CATALOG_IMPORT_POSITION_MAX);
                errors++;
            } else {
                c->position = json_integer_value(pos);
            }
        }
    }
    if (errors) {
        im->bad_rows++;
        im->rows++;
        catalog_import_category_free(c);
        catalog_import_progress(im);
        return SOUK_OK;
    }
    return catalog_import_write_category(im, c);
}

/* ------------------------------------------------------------- pickup points */

static const char *const PICKUP_FIELDS[] = {
    "code", "name_ru", "name_en", "address_ru", "address_en", "hours", "lat", "lon", NULL};

static int coordinate(catalog_import *im, int line, json_t *obj, const char *key, double limit,
                      double *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return -1;
    double d = json_number_value(v);
    if (!json_is_number(v) || !isfinite(d) || d < -limit || d > limit) {
        catalog_import_error(im, line, "%s: expected a number from %g to %g", key, -limit, limit);
        return 1;
    }
    *out = d;
    return 0;
}

static int pickup_record(catalog_import *im, int line, json_t *obj)
{
    catalog_import_pickup *pp = calloc(1, sizeof *pp);
    if (!pp) {
        catalog_import_fatal(im, line, "out of memory");
        return SOUK_ERR;
    }
    pp->line = line;
    int errors = 0;
    if (!json_is_object(obj)) {
        catalog_import_error(im, line, "a pickup point must be an object");
        errors++;
    } else {
        errors += unknown_fields(im, line, obj, PICKUP_FIELDS, "");
        const char *code;
        if (get_string(im, line, obj, "code", "", &code) < 0) {
            errors++;
        } else if (!code) {
            catalog_import_error(im, line, "code: missing");
            errors++;
        } else {
            char why[CATALOG_IMPORT_REASON_MAX];
            if (catalog_import_check_sku(code, why, sizeof why) != SOUK_OK ||
                strlen(code) > CATALOG_IMPORT_CODE_MAX) {
                catalog_import_error(im, line, "code: %s",
                                     strlen(code) > CATALOG_IMPORT_CODE_MAX ? "too long" : why);
                errors++;
            }
            pp->code = strdup(code);
        }
        errors += get_text(im, line, obj, "name_ru", "", &pp->name_ru);
        errors += get_text(im, line, obj, "name_en", "", &pp->name_en);
        errors += get_text(im, line, obj, "address_ru", "", &pp->address_ru);
        errors += get_text(im, line, obj, "address_en", "", &pp->address_en);
        errors += get_text(im, line, obj, "hours", "", &pp->hours);
        int lat = coordinate(im, line, obj, "lat", 90, &pp->lat);
        int lon = coordinate(im, line, obj, "lon", 180, &pp->lon);
        errors += (lat > 0) + (lon > 0);
        if ((lat < 0) != (lon < 0)) {
            catalog_import_error(im, line, "lat, lon: give both or neither");
            errors++;
        }
        pp->has_coords = lat == 0 && lon == 0;
    }
    if (errors) {
        im->bad_rows++;
        im->rows++;
        catalog_import_pickup_free(pp);
        catalog_import_progress(im);
        return SOUK_OK;
    }
    return catalog_import_write_pickup(im, pp);
}

/* ------------------------------------------------------------------ document */

typedef int (*record_fn)(catalog_import *im, int line, json_t *obj);

static int expect(json_reader *r, char c, const char *what)
{
    skip_ws(r);
    if (r->p < r->end && *r->p == c) {
        r->p++;
        return SOUK_OK;
    }
    catalog_import_fatal(r->im, line_here(r), "JSON: expected %s", what);
    return SOUK_ERR;
}

/* The records of one section's array. */
static int section(json_reader *r, record_fn fn)
{
    if (expect(r, '[', "'[' (each section is an array)") != SOUK_OK)
        return SOUK_ERR;
    skip_ws(r);
    if (r->p < r->end && *r->p == ']') {
        r->p++;
        return SOUK_OK;
    }
    for (;;) {
        skip_ws(r);
        int line = line_here(r);
        json_t *v = decode(r, JSON_RECORD_FLAGS);
        if (!v)
            return SOUK_ERR;
        int rc = fn(r->im, line, v);
        json_decref(v);
        r->im->bytes_done = (size_t)(r->p - r->im->data);
        if (rc != SOUK_OK || r->im->fatal)
            return SOUK_ERR;
        skip_ws(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        return expect(r, ']', "',' or ']' after a record");
    }
}

int catalog_import_read_json(catalog_import *im)
{
    json_reader r = {im, im->data, im->data + im->size, im->data, 1};
    static const char *const names[] = {"categories", "products", "pickup_points"};
    static const record_fn fns[] = {category_record, product_record, pickup_record};
    int done[3] = {0, 0, 0};
    im->rows_estimate = -1; /* records are counted as they come */
    catalog_import_progress_start(im);

    if (im->size >= 3 && memcmp(r.p, "\xEF\xBB\xBF", 3) == 0)
        r.p += 3;
    if (expect(&r, '{',
               "an object: {\"categories\": [...], \"products\": [...], "
               "\"pickup_points\": [...]}") != SOUK_OK)
        return SOUK_ERR;
    skip_ws(&r);
    if (r.p < r.end && *r.p == '}') {
        r.p++;
    } else {
        for (;;) {
            skip_ws(&r);
            int line = line_here(&r);
            json_t *key = decode(&r, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK);
            if (!key)
                return SOUK_ERR;
            int which = -1;
            for (int i = 0; i < 3 && json_is_string(key); i++)
                if (strcmp(json_string_value(key), names[i]) == 0)
                    which = i;
            char q[CATALOG_IMPORT_QUOTE_BUF];
            if (which < 0 || done[which]) {
                if (json_is_string(key))
                    catalog_import_fatal(im, line,
                                         "JSON: %s section '%s' (the sections are "
                                         "categories, products and pickup_points)",
                                         which < 0 ? "unknown" : "a second",
                                         catalog_import_quote(json_string_value(key), q, sizeof q));
                else
                    catalog_import_fatal(im, line, "JSON: expected a section name");
                json_decref(key);
                return SOUK_ERR;
            }
            json_decref(key);
            done[which] = 1;
            if (expect(&r, ':', "':' after a section name") != SOUK_OK ||
                section(&r, fns[which]) != SOUK_OK)
                return SOUK_ERR;
            skip_ws(&r);
            if (r.p < r.end && *r.p == ',') {
                r.p++;
                continue;
            }
            if (expect(&r, '}', "',' or '}' after a section") != SOUK_OK)
                return SOUK_ERR;
            break;
        }
    }
    skip_ws(&r);
    if (r.p != r.end) {
        catalog_import_fatal(im, line_here(&r), "JSON: text after the end of the document");
        return SOUK_ERR;
    }
    im->bytes_done = im->size;
    return im->fatal ? SOUK_ERR : SOUK_OK;
}
