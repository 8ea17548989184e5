/* fuzz_catalog_import_json.c -- `souk import` of a JSON document
 * (plugins/catalog/import_json.c with the writer, categories, values and the
 * description sanitiser) on arbitrary bytes, against an in-memory store with the
 * catalog's tables.  The host is a small fake: prepared statements, the clock,
 * events; the search index is not built (it has its own tests).
 *
 * Each input is imported twice, each time in a transaction that a problem with
 * the whole file rolls back (as the command does).  Whatever it holds:
 *   - nothing crashes, leaks or reads out of bounds (the sanitizers' part);
 *   - when the first import met no bad record, the second changes nothing
 *     (re-running an import is safe): no record new or updated.  (With bad records
 *     a second run may legitimately do more: a category that failed for want of a
 *     parent finds the parent created later in the first run.)
 *   - what was stored keeps the store's rules: descriptions are fixed points of
 *     the sanitiser, prices and stock are not negative, every product has a
 *     category, and the store's own constraints hold. */
#include "../../plugins/catalog/import_category.c"
#include "../../plugins/catalog/import_json.c"
#include "../../plugins/catalog/import_pickup.c"
#include "../../plugins/catalog/import_progress.c"
#include "../../plugins/catalog/import_record.c"
#include "../../plugins/catalog/import_value.c"
#include "../../plugins/catalog/import_write.c"
#include "../../plugins/catalog/sanitize.c"
#include "../../plugins/catalog/schema.c"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            __builtin_trap();                                                                      \
    } while (0)

#define FUZZ_INPUT_MAX 65536
#define FUZZ_STATEMENTS_MAX 256
#define FUZZ_NOW_MS INT64_C(1764403200000)

/* ------------------------------------------------------------- a fake host */

const souk_host_api *catalog_api;
souk_plugin *catalog_self;

static sqlite3 *fuzz_db;
static sqlite3_stmt *fuzz_statements[FUZZ_STATEMENTS_MAX];
static int fuzz_nstatements;

static sqlite3_stmt *fake_prepare(souk_ctx *ctx, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (fuzz_nstatements == FUZZ_STATEMENTS_MAX ||
        sqlite3_prepare_v2(fuzz_db, sql, -1, &st, NULL) != SQLITE_OK)
        return NULL;
    fuzz_statements[fuzz_nstatements++] = st;
    return st;
}

static sqlite3 *fake_db(souk_ctx *ctx)
{
    return fuzz_db;
}
static int64_t fake_now(souk_ctx *ctx)
{
    return FUZZ_NOW_MS;
}
static int fake_emit(souk_ctx *ctx, const char *event, json_t *payload)
{
    return SOUK_OK;
}

static const souk_host_api fake_api = {
    .size = sizeof(souk_host_api),
    .abi_version = SOUK_ABI_VERSION,
    .db_prepare = fake_prepare,
    .db = fake_db,
    .now_ms = fake_now,
    .event_emit = fake_emit,
};

int catalog_index_product(souk_ctx *ctx, int64_t product_id)
{
    return SOUK_OK;
}
int catalog_index_all(souk_ctx *ctx)
{
    return SOUK_OK;
}

/* import.c's messages, silent here */
void catalog_import_error(catalog_import *im, int line, const char *fmt, ...) {}
void catalog_import_warning(catalog_import *im, int line, const char *fmt, ...)
{
    im->warnings++;
}
void catalog_import_fatal(catalog_import *im, int line, const char *fmt, ...)
{
    im->fatal = 1;
}

/* ------------------------------------------------------------------ checks */

static void open_store(void)
{
    FUZZ_CHECK(sqlite3_open(":memory:", &fuzz_db) == SQLITE_OK);
    FUZZ_CHECK(sqlite3_exec(fuzz_db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL) == SQLITE_OK);
    for (int i = 0; i < catalog_migration_count; i++) {
        if (strstr(catalog_migrations[i].sql, "fts5")) /* needs the stemming tokenizer */
            continue;
        FUZZ_CHECK(sqlite3_exec(fuzz_db, catalog_migrations[i].sql, NULL, NULL, NULL) == SQLITE_OK);
    }
}

static void close_store(void)
{
    for (int i = 0; i < fuzz_nstatements; i++)
        sqlite3_finalize(fuzz_statements[i]);
    fuzz_nstatements = 0;
    FUZZ_CHECK(sqlite3_close(fuzz_db) == SQLITE_OK);
    fuzz_db = NULL;
}

static void import_once(const char *data, size_t size, catalog_import *im)
{
    memset(im, 0, sizeof *im);
    im->path = "fuzz.json";
    im->format = CATALOG_FORMAT_JSON;
    im->lang = "ru";
    memcpy(im->currency, "RUB", 4);
    im->data = data;
    im->size = size;
    im->tty = 0;
    FUZZ_CHECK(sqlite3_exec(fuzz_db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK);
    FUZZ_CHECK(catalog_import_writer_open(im) == SOUK_OK);
    catalog_import_read_json(im);
    catalog_import_writer_close(im);
    FUZZ_CHECK(sqlite3_exec(fuzz_db, im->fatal ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL) ==
               SQLITE_OK);
    for (int i = 0; i < fuzz_nstatements; i++) /* a finished import leaves none running */
        FUZZ_CHECK(!sqlite3_stmt_busy(fuzz_statements[i]));
}

static void check_stored(void)
{
    sqlite3_stmt *st;
    FUZZ_CHECK(sqlite3_prepare_v2(fuzz_db,
                                  "SELECT description_ru, description_en FROM "
                                  "catalog_products",
                                  -1, &st, NULL) == SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int i = 0; i < 2; i++) {
            const char *d = (const char *)sqlite3_column_text(st, i);
            char *again = catalog_sanitize_html(d);
            FUZZ_CHECK(again && strcmp(again, d) == 0);
            free(again);
        }
    }
    sqlite3_finalize(st);
    FUZZ_CHECK(
        sqlite3_prepare_v2(fuzz_db,
                           "SELECT count(*) FROM catalog_variants WHERE price < 0 OR stock < 0 "
                           "OR length(currency) != 3 OR product_id NOT IN "
                           "(SELECT id FROM catalog_products) "
                           "UNION ALL SELECT count(*) FROM catalog_products WHERE "
                           "category_id NOT IN (SELECT id FROM catalog_categories) "
                           "UNION ALL SELECT count(*) FROM catalog_pickup_points WHERE "
                           "id NOT IN (SELECT id FROM catalog_pickup_rtree)",
                           -1, &st, NULL) == SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW)
        FUZZ_CHECK(sqlite3_column_int(st, 0) == 0);
    sqlite3_finalize(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_INPUT_MAX)
        return 0;
    catalog_api = &fake_api;
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    open_store();

    catalog_import first, second;
    import_once(text, size, &first);
    check_stored();
    import_once(text, size, &second);
    check_stored();
    if (!first.fatal && first.bad_rows == 0) {
        FUZZ_CHECK(second.bad_rows == 0 && !second.fatal);
        FUZZ_CHECK(second.items.created == 0 && second.items.updated == 0);
        FUZZ_CHECK(second.categories.created == 0 && second.categories.updated == 0);
        FUZZ_CHECK(second.pickups.created == 0 && second.pickups.updated == 0);
        FUZZ_CHECK(second.products == first.products && second.variants == first.variants);
    }

    close_store();
    free(text);
    return 0;
}
