/* import.h -- what the files of `souk import` share (not the rest of the plugin,
 * which calls only catalog_cmd_import).
 *
 *   import.c           the command: options, reading the file, the transaction,
 *                      the summary and the exit status
 *   import_csv.c       CSV through libcsv: lines, header, native rows
 *   import_shopify.c   Shopify product CSV rows
 *   import_json.c      the native JSON document
 *   import_record.c    the records: making, growing, freeing
 *   import_write.c     products and variants: checks against the store, upserts
 *   import_category.c  category paths: lookup, creation, consistency
 *   import_pickup.c    pickup points: upserts and their R*Tree entries
 *   import_value.c     pure parsers of cell values (prices, slugs, lists, ...)
 *   import_progress.c  the progress bar on a terminal, progress lines elsewhere
 *   sanitize.c         description HTML (catalog_sanitize_html)
 *
 * The readers turn rows into records (catalog_import_product, _category, _pickup)
 * and hand each complete record to its writer (catalog_import_write_*), which
 * frees it.  Records own their strings (malloc) and JSON values (a reference
 * each).
 *
 * Field modes.  A record says per field whether the import sets it, keeps what
 * the store has (an empty cell, a missing column), or sets it only when the
 * record is new (a default: the other locale's title copied, a Shopify type's
 * name for a category). */
#ifndef CATALOG_IMPORT_H
#define CATALOG_IMPORT_H

#include "catalog_internal.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ------------------------------------------------------------------ limits */

#define CATALOG_IMPORT_FILE_MAX ((size_t)1 << 30) /* bytes of an input file */
#define CATALOG_IMPORT_COLUMNS_MAX 256
#define CATALOG_IMPORT_SLUG_MAX 100
#define CATALOG_IMPORT_SKU_MAX 64
#define CATALOG_IMPORT_CODE_MAX 64                  /* pickup point code */
#define CATALOG_IMPORT_TEXT_MAX 500                 /* titles, names, brand, option values */
#define CATALOG_IMPORT_KEY_MAX 100                  /* attribute and option names */
#define CATALOG_IMPORT_DESCRIPTION_MAX (256 * 1024) /* bytes of description HTML */
#define CATALOG_IMPORT_URL_MAX 2048
#define CATALOG_IMPORT_IMAGES_MAX 50     /* per product */
#define CATALOG_IMPORT_PAIRS_MAX 100     /* attributes or options per record */
#define CATALOG_IMPORT_VARIANTS_MAX 2048 /* per product (Shopify's own limit) */
#define CATALOG_IMPORT_CATEGORY_DEPTH_MAX 8
#define CATALOG_IMPORT_PRICE_MAX INT64_C(999999999999999) /* minor units */
#define CATALOG_IMPORT_STOCK_MAX INT64_C(1000000000)
#define CATALOG_IMPORT_POSITION_MAX 1000000
#define CATALOG_IMPORT_DEFAULT_CURRENCY "RUB"
#define CATALOG_IMPORT_DEFAULT_LANG "ru"
/* Past this many touched products the search index is rebuilt in one pass
 * (catalog_index_all) rather than product by product. */
#define CATALOG_IMPORT_REINDEX_ALL_MIN 1000
/* Products without a category column (Shopify rows without a Type) go here. */
#define CATALOG_IMPORT_FALLBACK_CATEGORY "uncategorised"
#define CATALOG_IMPORT_FALLBACK_CATEGORY_RU "Без категории"
#define CATALOG_IMPORT_FALLBACK_CATEGORY_EN "Uncategorised"

/* Progress: a terminal gets a bar redrawn at most this often; anything else gets
 * a plain line per PLAIN_STEP percent of the file, and at least every PLAIN_MS. */
#define CATALOG_IMPORT_PROGRESS_TTY_MS 100
#define CATALOG_IMPORT_PROGRESS_PLAIN_MS 2000
#define CATALOG_IMPORT_PROGRESS_PLAIN_STEP 10
#define CATALOG_IMPORT_PROGRESS_BAR_WIDTH 24

#define CATALOG_IMPORT_PICKUP_STATEMENTS 4 /* import_pickup.c prepares them */

/* ----------------------------------------------------------------- records */

typedef enum {
    CATALOG_FIELD_KEEP = 0, /* not given: the store's value stays */
    CATALOG_FIELD_SET,      /* given: written */
    CATALOG_FIELD_IF_NEW    /* a default: written only into a new record */
} catalog_field_mode;

typedef struct catalog_import_text {
    catalog_field_mode mode;
    char *text; /* malloc'ed; NULL when mode is KEEP */
} catalog_import_text;

/* One row of the input: its line, and whether a reason was reported for it. */
typedef struct catalog_import_row {
    int line;
    int bad;
} catalog_import_row;

typedef struct catalog_import_variant {
    int row; /* index into the product's rows */
    char *sku;
    json_t *options;    /* Russian (the options column): object of strings, or NULL: keep */
    json_t *options_en; /* English (options_en): the same; {} means "not translated" */
    int64_t price;    /* minor units, or -1: keep */
    char currency[4]; /* always set */
    int64_t stock;    /* -1: keep (0 for a new variant) */
    int bad;
} catalog_import_variant;

typedef struct catalog_import_product {
    char *slug;
    /* Category: a path of slugs ("kitchen/kettles"), each missing one created,
     * with optional names per level (names_ru/en: as many as the path has, or
     * one for the last); category_mode KEEP leaves the product's category. */
    catalog_field_mode category_mode;
    char *category;
    char *category_names_ru, *category_names_en; /* " > "-separated, or NULL */
    catalog_field_mode category_names_mode;
    catalog_import_text brand, title_ru, title_en, description_ru, description_en, status;
    int featured;         /* 0/1, or -1: keep */
    json_t *attributes;   /* object or NULL: keep */
    int attributes_merge; /* 1: set these keys (null removes one), keep the others */
    json_t *images;       /* array of URLs or NULL: keep */

    catalog_import_row *rows;
    int nrows, rows_cap;
    catalog_import_variant *variants;
    int nvariants, variants_cap;
    int bad; /* a product-level reason: nothing of it is written */
} catalog_import_product;

typedef struct catalog_import_category {
    int line;
    char *slug;
    int parent_given; /* 0: keep (root when new) */
    char *parent;     /* slug or NULL for the root */
    catalog_import_text name_ru, name_en;
    int64_t position; /* -1: keep (after its siblings when new) */
} catalog_import_category;

typedef struct catalog_import_pickup {
    int line;
    char *code;
    catalog_import_text name_ru, name_en, address_ru, address_en, hours;
    int has_coords;
    double lat, lon;
} catalog_import_pickup;

/* ------------------------------------------------------------------ import */

typedef enum {
    CATALOG_FORMAT_AUTO = 0,
    CATALOG_FORMAT_CSV, /* native CSV */
    CATALOG_FORMAT_JSON,
    CATALOG_FORMAT_SHOPIFY
} catalog_import_format;

typedef struct catalog_import_counts {
    long created, updated, unchanged;
} catalog_import_counts;

typedef struct catalog_import_writer catalog_import_writer;         /* import_write.c */
typedef struct catalog_import_categories catalog_import_categories; /* import_category.c */
typedef struct catalog_import_seen catalog_import_seen;             /* import_value.c */

typedef struct catalog_import {
    souk_ctx *ctx;
    const char *path; /* as given on the command line: messages say it */
    catalog_import_format format;
    int dry_run, strict;
    const char *lang; /* "ru" or "en": the locale of Shopify texts */
    char currency[4]; /* the default currency */
    const char *data; /* the whole file (borrowed from import.c) */
    size_t size;

    /* what happened */
    long rows;          /* data rows (CSV) or records (JSON) read */
    long rows_estimate; /* for the progress: lines of the file, or -1 */
    size_t bytes_done;  /* how far the reader is */
    long bad_rows, warnings;
    long products, variants;     /* written (new, updated or unchanged) */
    catalog_import_counts items; /* products and variants together */
    catalog_import_counts categories, pickups;
    int fatal;           /* the file as a whole is unusable: write nothing */
    int compare_at_seen; /* a Shopify compare-at price was ignored */

    /* the progress display (import_progress.c) */
    int tty;
    int64_t started_ms, last_draw_ms;
    int last_step;
    int progress_shown; /* a bar is on the terminal line */

    catalog_import_writer *writer;
    catalog_import_categories *cats;
    sqlite3_stmt *pickup_st[CATALOG_IMPORT_PICKUP_STATEMENTS]; /* import_pickup.c's */
    catalog_import_seen *seen_slugs, *seen_skus, *seen_categories, *seen_pickups;
} catalog_import;

/* ------------------------------------------------------------ messages */

/* "FILE:LINE: message" on stderr (the progress bar cleared first).  The caller
 * marks the row bad; catalog_import_fatal also sets im->fatal. */
void catalog_import_error(catalog_import *im, int line, const char *fmt, ...) SOUK_PRINTF(3, 4);
void catalog_import_warning(catalog_import *im, int line, const char *fmt, ...) SOUK_PRINTF(3, 4);
void catalog_import_fatal(catalog_import *im, int line, const char *fmt, ...) SOUK_PRINTF(3, 4);

/* ---------------------------------------------------------- progress */

void catalog_import_progress_start(catalog_import *im);
/* Called after each record: redraws when it is time. */
void catalog_import_progress(catalog_import *im);
/* Clears the bar (before a message or the summary). */
void catalog_import_progress_clear(catalog_import *im);

/* ------------------------------------------------------------ readers */

/* Each reads im->data and hands records to the writer; SOUK_ERR only for a
 * fatal problem (already reported).  Row problems are reported and counted. */
int catalog_import_read_csv(catalog_import *im); /* native and Shopify */
int catalog_import_read_json(catalog_import *im);

/* import_shopify.c, called by import_csv.c: header (SOUK_ERR when unusable), each
 * row (fields borrowed for the call), end of file. */
typedef struct catalog_shopify catalog_shopify;
catalog_shopify *catalog_shopify_new(catalog_import *im, char **names, int ncols);
int catalog_shopify_row(catalog_shopify *sh, int line, char **fields, int n);
void catalog_shopify_finish(catalog_shopify *sh);
void catalog_shopify_free(catalog_shopify *sh);

/* ------------------------------------------------------------- writer */

int catalog_import_writer_open(catalog_import *im); /* prepares the statements */
void catalog_import_writer_close(catalog_import *im);
/* Validate against the store and upsert; takes ownership of the record (freed).
 * SOUK_ERR only for a failure of the database itself (already reported). */
int catalog_import_write_product(catalog_import *im, catalog_import_product *p);
int catalog_import_write_category(catalog_import *im, catalog_import_category *c);
int catalog_import_write_pickup(catalog_import *im, catalog_import_pickup *pp);
/* After the records: bring the search index up to date. */
int catalog_import_reindex(catalog_import *im);

/* Helpers the writers share (import_write.c). */
/* Step a statement that returns no rows, then reset it and clear its bindings:
 * SQLITE_DONE or the error code. */
int catalog_import_step(sqlite3_stmt *st);
/* Whether an error code is the store refusing one record (a constraint), rather
 * than a failure of the store (disk full, I/O) that ends the import. */
int catalog_import_refused(int rc);
const char *catalog_import_db_message(catalog_import *im);
/* A text column, "" for NULL (borrowed from the statement). */
const char *catalog_import_column_text(sqlite3_stmt *st, int i);
/* Put a text field into *slot (the stored value, or NULL for a new record; freed
 * and replaced when it changes).  Returns 1 when the value changed. */
int catalog_import_apply_text(char **slot, const catalog_import_text *t, int is_new);

/* ---------------------------------------------------------- categories */

catalog_import_categories *catalog_import_categories_new(catalog_import *im);
void catalog_import_categories_free(catalog_import_categories *cs);
/* Resolve a product's category path, creating the missing levels: *id gets the
 * last one's.  On a problem reports it at line (naming field) and returns
 * SOUK_ERR; a failure of the database sets im->fatal as well. */
int catalog_import_category_path(catalog_import *im, int line, const char *path,
                                 const char *names_ru, const char *names_en,
                                 catalog_field_mode names_mode, int64_t *id);
/* Upsert one category of a JSON categories section. */
int catalog_import_category_upsert(catalog_import *im, catalog_import_category *c);
/* Forget what is cached (after a savepoint was rolled back). */
void catalog_import_categories_forget(catalog_import_categories *cs);
/* Whether a category's names changed (the index then needs a full rebuild). */
int catalog_import_categories_renamed(catalog_import_categories *cs);

/* ------------------------------------------------------------- records */

catalog_import_product *catalog_import_product_new(void);
void catalog_import_product_free(catalog_import_product *p);
/* Append a row / a variant (the variant belongs to the last row); NULL on OOM. */
catalog_import_row *catalog_import_product_row(catalog_import_product *p, int line);
catalog_import_variant *catalog_import_product_variant(catalog_import_product *p);
void catalog_import_category_free(catalog_import_category *c);
void catalog_import_pickup_free(catalog_import_pickup *pp);
/* Set a text field (copies text; mode SET or IF_NEW). */
void catalog_import_text_set(catalog_import_text *t, catalog_field_mode mode, const char *text);
void catalog_import_text_clear(catalog_import_text *t);

/* ------------------------------------------------- values (import_value.c) */

/* Each parser returns SOUK_OK, or SOUK_ERR with a reason (static or written
 * into err of errlen bytes) that the caller prefixes with the field name. */

/* Decimal major units ("1990.50") into minor units of a currency with decimals
 * digits, by integer arithmetic. */
int catalog_import_parse_price(const char *s, int decimals, int64_t *out, char *err, size_t errlen);
/* Minor-unit digits of an ISO 4217 currency (2 for RUB). */
int catalog_import_currency_decimals(const char *code);
int catalog_import_parse_currency(const char *s, char out[4], char *err, size_t errlen);
/* A whole number in [min, max]; negative values only when min < 0. */
int catalog_import_parse_int(const char *s, int64_t min, int64_t max, int64_t *out, char *err,
                             size_t errlen);
/* yes/no, true/false, 1/0, да/нет (any case). */
int catalog_import_parse_bool(const char *s, int *out, char *err, size_t errlen);
/* draft / active / archived. */
int catalog_import_parse_status(const char *s, const char **out, char *err, size_t errlen);
/* [a-z0-9] words joined by '-' or '_'. */
int catalog_import_check_slug(const char *s, char *err, size_t errlen);
/* Make a slug of free text (Cyrillic transliterated); malloc'ed, NULL when
 * nothing is left ("!!!"). */
char *catalog_import_slugify(const char *s);
/* "Kettle stands" from "kettle-stands" (names of categories created without
 * one); malloc'ed. */
char *catalog_import_humanize(const char *slug);
/* A SKU: printable, no surrounding spaces, at most CATALOG_IMPORT_SKU_MAX bytes. */
int catalog_import_check_sku(const char *s, char *err, size_t errlen);
/* Plain text (a title, a name): whitespace runs become one space, controls are
 * refused; malloc'ed into *out (NULL for an empty result). */
int catalog_import_clean_text(const char *s, size_t max, char **out, char *err, size_t errlen);
/* "k=v; k2=v2" or a JSON object into an object.  strings_only: every value a
 * string (options); otherwise strings, numbers and booleans (attributes). */
int catalog_import_parse_pairs(const char *s, int strings_only, json_t **out, char *err,
                               size_t errlen);
/* Check a JSON object of pairs (from a JSON file) the same way; a new reference in
 * *out with numbers turned into strings when strings_only. */
int catalog_import_check_pairs(json_t *obj, int strings_only, json_t **out, char *err,
                               size_t errlen);
/* Attributes: a pairs object (strings_only 0: strings, numbers, booleans and
 * lists of strings), or {"ru": {...}, "en": {...}} with one such object per
 * locale (the shape the product pages show per language). */
int catalog_import_check_attributes(json_t *obj, json_t **out, char *err, size_t errlen);
int catalog_import_attributes_per_locale(json_t *obj);
/* Image URLs separated by spaces or '|' into an array. */
int catalog_import_parse_images(const char *s, json_t **out, char *err, size_t errlen);
/* One image URL: http(s)://, a /path on the store, or a file name in the store's
 * media/ folder ("catalog/kettle.jpg" becomes "/media/catalog/kettle.jpg");
 * "//host/x" becomes "https://host/x"; non-ASCII bytes are percent-encoded.
 * malloc'ed into *out. */
#define CATALOG_IMPORT_MEDIA_PREFIX "/media/"
int catalog_import_check_url(const char *s, char **out, char *err, size_t errlen);
/* Room for a reason, and for a whole number as text. */
#define CATALOG_IMPORT_REASON_MAX 256
#define CATALOG_IMPORT_NUMBER_MAX 32

/* A value for a message: at most CATALOG_IMPORT_QUOTE_MAX bytes of s (cut at a
 * character boundary, "..." added), controls shown as '?'.  Returns buf. */
#define CATALOG_IMPORT_QUOTE_MAX 60
#define CATALOG_IMPORT_QUOTE_BUF (CATALOG_IMPORT_QUOTE_MAX + 8) /* with "..." and NUL */
const char *catalog_import_quote(const char *s, char *buf, size_t size);

/* A set of strings with the line each was first seen on. */
catalog_import_seen *catalog_import_seen_new(void);
void catalog_import_seen_free(catalog_import_seen *set);
/* 0 when added; otherwise the line it was first seen on (and nothing added);
 * -1 on OOM. */
int catalog_import_seen_add(catalog_import_seen *set, const char *key, int line);

#endif
