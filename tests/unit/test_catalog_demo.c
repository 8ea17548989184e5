/* test_catalog_demo.c -- the demonstration catalog (plugins/catalog/demo.c).
 *
 * demo.c is compiled into this test directly and driven through a small fake
 * host: db_prepare/db over an SQLite database holding the catalog's tables (the
 * migrations of schema.c, except the search index, whose tokenizer lives in
 * tokenizer.c), store_dir, log.  catalog_index_all is a stub that counts calls.
 * The checks are the promises of the issue: over 2,000 active products in at
 * least 12 categories, both languages, 1-4 variants, some sold out, images,
 * pickup points with their R*Tree rows -- and the same data every time. */
#include "../../plugins/catalog/demo.c"
#include "../../plugins/catalog/schema.c"

#include "test.h"

#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

const souk_host_api *catalog_api;
souk_plugin *catalog_self;

static int index_calls;
int catalog_index_all(souk_ctx *ctx)
{
    index_calls++;
    return SOUK_OK;
}

/* ------------------------------------------------------------ fake host */

#define FAKE_STMTS 16

static struct {
    sqlite3 *db;
    char dir[256];
    struct {
        char *sql;
        sqlite3_stmt *st;
    } cache[FAKE_STMTS];
    int ncache;
    char last_log[1024];
} fake;

static sqlite3_stmt *fake_prepare(souk_ctx *ctx, const char *sql)
{
    for (int i = 0; i < fake.ncache; i++)
        if (strcmp(fake.cache[i].sql, sql) == 0) {
            sqlite3_reset(fake.cache[i].st);
            sqlite3_clear_bindings(fake.cache[i].st);
            return fake.cache[i].st;
        }
    if (fake.ncache == FAKE_STMTS)
        return NULL;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(fake.db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "prepare: %s\n%s\n", sqlite3_errmsg(fake.db), sql);
        return NULL;
    }
    fake.cache[fake.ncache].sql = strdup(sql);
    fake.cache[fake.ncache++].st = st;
    return st;
}

static sqlite3 *fake_db(souk_ctx *ctx)
{
    return fake.db;
}

static const char *fake_store_dir(souk_plugin *self)
{
    return fake.dir;
}

static void fake_log(souk_plugin *self, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fake.last_log, sizeof fake.last_log, fmt, ap);
    va_end(ap);
    if (level >= SOUK_LOG_WARN)
        fprintf(stderr, "log: %s\n", fake.last_log);
}

static souk_host_api fake_api;
static char fake_ctx_storage[8];
#define CTX ((souk_ctx *)fake_ctx_storage)

/* A fresh store: database with the catalog's tables, and a directory. */
static void fake_open(void)
{
    memset(&fake, 0, sizeof fake);
    fake_api.size = sizeof fake_api;
    fake_api.db_prepare = fake_prepare;
    fake_api.db = fake_db;
    fake_api.store_dir = fake_store_dir;
    fake_api.log = fake_log;
    catalog_api = &fake_api;
    snprintf(fake.dir, sizeof fake.dir, "/tmp/souk-test-demo-XXXXXX");
    if (!mkdtemp(fake.dir))
        abort();
    if (sqlite3_open(":memory:", &fake.db) != SQLITE_OK)
        abort();
    for (int i = 0; i < catalog_migration_count; i++) {
        if (strstr(catalog_migrations[i].sql, "fts5"))
            continue; /* the search index needs tokenizer.c */
        char *err = NULL;
        if (sqlite3_exec(fake.db, catalog_migrations[i].sql, NULL, NULL, &err) != SQLITE_OK) {
            fprintf(stderr, "migration %d: %s\n", catalog_migrations[i].version, err);
            abort();
        }
    }
    sqlite3_exec(fake.db, "BEGIN", NULL, NULL, NULL);
}

static void remove_tree(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

static void fake_close(void)
{
    for (int i = 0; i < fake.ncache; i++) {
        sqlite3_finalize(fake.cache[i].st);
        free(fake.cache[i].sql);
    }
    sqlite3_exec(fake.db, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(fake.db);
    remove_tree(fake.dir);
}

static int64_t query_int(const char *sql)
{
    sqlite3_stmt *st;
    int64_t v = -1;
    if (sqlite3_prepare_v2(fake.db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "query: %s\n%s\n", sqlite3_errmsg(fake.db), sql);
        return -1;
    }
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* FNV-1a over every column of every row of a query: a fingerprint of the data. */
static uint64_t fingerprint(const char *sql)
{
    uint64_t h = 1469598103934665603ULL;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(fake.db, sql, -1, &st, NULL) != SQLITE_OK)
        return 0;
    while (sqlite3_step(st) == SQLITE_ROW)
        for (int c = 0; c < sqlite3_column_count(st); c++) {
            const unsigned char *t = sqlite3_column_text(st, c);
            for (; t && *t; t++)
                h = (h ^ *t) * 1099511628211ULL;
            h = (h ^ 0xff) * 1099511628211ULL;
        }
    sqlite3_finalize(st);
    return h;
}

static uint64_t data_fingerprint(void)
{
    return fingerprint("SELECT * FROM catalog_categories ORDER BY id") ^
           fingerprint("SELECT * FROM catalog_products ORDER BY id") * 3 ^
           fingerprint("SELECT * FROM catalog_variants ORDER BY id") * 5 ^
           fingerprint("SELECT * FROM catalog_pickup_points ORDER BY id") * 7;
}

/* The SVG of the first product, as text. */
static void read_first_image(char *out, size_t size)
{
    out[0] = '\0';
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(fake.db, "SELECT slug FROM catalog_products ORDER BY id LIMIT 1", -1,
                           &st, NULL) != SQLITE_OK)
        return;
    if (sqlite3_step(st) == SQLITE_ROW) {
        char path[600];
        snprintf(path, sizeof path, "%s/media/catalog/%s.svg", fake.dir,
                 (const char *)sqlite3_column_text(st, 0));
        FILE *f = fopen(path, "r");
        if (f) {
            size_t n = fread(out, 1, size - 1, f);
            out[n] = '\0';
            fclose(f);
        }
    }
    sqlite3_finalize(st);
}

static json_t *demo_payload(int demo)
{
    return json_pack("{sb}", "demo", demo);
}

static int run_demo(int demo)
{
    json_t *p = demo_payload(demo);
    int rc = catalog_on_store_created(CTX, "store.created", p, NULL);
    json_decref(p);
    return rc;
}

/* ---------------------------------------------------------------- tests */

TEST(not_demo_leaves_the_catalog_empty)
{
    fake_open();
    index_calls = 0;
    CHECK(run_demo(0) == SOUK_OK);
    CHECK(query_int("SELECT count(*) FROM catalog_products") == 0);
    CHECK(query_int("SELECT count(*) FROM catalog_categories") == 0);
    CHECK(index_calls == 0);
    fake_close();
}

TEST(demo_catalog_has_what_the_issue_asks)
{
    fake_open();
    index_calls = 0;
    CHECK(run_demo(1) == SOUK_OK);
    CHECK(index_calls == 1);
    CHECK(query_int("SELECT count(*) FROM catalog_products WHERE status = 'active'") >= 2000);
    CHECK(query_int("SELECT count(*) FROM catalog_products WHERE status = 'draft'") > 0);
    CHECK(query_int("SELECT count(*) FROM catalog_products WHERE status = 'archived'") > 0);
    /* At least 12 categories with products, each under a parent category. */
    CHECK(query_int("SELECT count(DISTINCT category_id) FROM catalog_products") >= 12);
    CHECK(query_int("SELECT count(*) FROM catalog_products p JOIN catalog_categories c "
                    "ON c.id = p.category_id WHERE c.parent_id IS NULL") == 0);
    CHECK(query_int("SELECT count(*) FROM catalog_categories WHERE parent_id IS NULL") >= 5);
    /* Titles in both languages, the English ones without Cyrillic, all distinct. */
    CHECK(query_int("SELECT count(*) FROM catalog_products WHERE title_ru NOT GLOB '*[а-яА-Я]*'") ==
          0);
    CHECK(query_int("SELECT count(*) FROM catalog_products WHERE title_en GLOB '*[а-яА-ЯёЁ]*' "
                    "OR description_en GLOB '*[а-яА-ЯёЁ]*' "
                    "OR json_extract(attributes, '$.en') GLOB '*[а-яА-ЯёЁ]*'") == 0);
    CHECK(query_int("SELECT count(*) - count(DISTINCT title_ru) FROM catalog_products") == 0);
    CHECK(query_int("SELECT count(*) - count(DISTINCT title_en) FROM catalog_products") == 0);
    CHECK(query_int("SELECT count(*) FROM catalog_products WHERE title_ru LIKE '%чайник%'") > 50);
    CHECK(query_int("SELECT count(*) FROM catalog_products WHERE description_ru NOT LIKE '<p>%' "
                    "OR json_type(attributes, '$.ru') != 'object' "
                    "OR json_type(attributes, '$.en') != 'object'") == 0);
    /* Descriptions are printed raw: no markup but the <p> paragraphs demo.c adds. */
    CHECK(query_int("SELECT count(*) FROM catalog_products WHERE "
                    "replace(replace(description_ru || description_en, '<p>', ''), '</p>', '') "
                    "GLOB '*[<>&]*'") == 0);
    CHECK(query_int("SELECT count(DISTINCT brand) FROM catalog_products") >= 20);
    /* One to four variants, prices ending in 90 roubles, some stock missing. */
    CHECK(query_int("SELECT count(*) FROM (SELECT count(v.id) n FROM catalog_products p LEFT JOIN "
                    "catalog_variants v ON v.product_id = p.id GROUP BY p.id) "
                    "WHERE n < 1 OR n > 4") == 0);
    CHECK(query_int("SELECT count(DISTINCT n) FROM (SELECT count(*) n FROM catalog_variants "
                    "GROUP BY product_id)") == 4);
    CHECK(query_int("SELECT count(*) FROM catalog_variants WHERE price <= 0 OR "
                    "price % 10000 != 9000 OR currency != 'RUB'") == 0);
    int64_t variants = query_int("SELECT count(*) FROM catalog_variants");
    int64_t empty = query_int("SELECT count(*) FROM catalog_variants WHERE stock = 0");
    CHECK(empty * 100 >= variants * 7 && empty * 100 <= variants * 20);
    CHECK(query_int("SELECT count(*) FROM (SELECT product_id FROM catalog_variants "
                    "GROUP BY product_id HAVING max(stock) = 0)") >= 30);
    /* Options in both languages: every variant has a Russian and an English one
     * (same number of pairs), and the English names and values hold no Cyrillic. */
    CHECK(query_int("SELECT count(*) FROM catalog_variants WHERE options = '{}' "
                    "OR options_en = '{}' OR options NOT GLOB '*[а-яА-ЯёЁ]*' "
                    "OR (SELECT count(*) FROM json_each(options)) != "
                    "(SELECT count(*) FROM json_each(options_en))") == 0);
    CHECK(query_int("SELECT count(*) FROM catalog_variants WHERE options_en GLOB '*[а-яА-ЯёЁ]*'") ==
          0);
    CHECK(query_int("SELECT count(*) FROM catalog_variants "
                    "WHERE json_extract(options_en, '$.Colour') IS NOT NULL") > 0);
    /* Variants of one product differ, and sizes cost at least as much as smaller ones. */
    CHECK(query_int("SELECT count(*) FROM (SELECT product_id, options FROM catalog_variants "
                    "GROUP BY product_id, options HAVING count(*) > 1)") == 0);
    CHECK(query_int("SELECT count(*) FROM (SELECT product_id, options_en FROM catalog_variants "
                    "GROUP BY product_id, options_en HAVING count(*) > 1)") == 0);
    CHECK(query_int("SELECT count(*) FROM catalog_variants a JOIN catalog_variants b "
                    "ON a.product_id = b.product_id AND b.position = a.position + 1 "
                    "WHERE b.price < a.price AND json_extract(a.options, '$.Размер') IS NOT NULL "
                    "AND json_extract(a.options, '$.Размер') GLOB '[0-9]*' "
                    "AND json_extract(a.options, '$.Размер') NOT GLOB '*×*'") == 0);
    CHECK(query_int("SELECT count(*) FROM catalog_products WHERE featured AND status = 'active'") >=
          CATALOG_FEATURED);
    CHECK(query_int("SELECT count(*) FROM catalog_products "
                    "WHERE featured AND status != 'active'") == 0);
    /* Dates: fixed, over the year before 2026-01-01. */
    CHECK(query_int("SELECT count(*) FROM catalog_products WHERE created_at > 1767225600000 "
                    "OR created_at < 1767225600000 - 366 * 86400000 "
                    "OR updated_at < created_at OR updated_at > 1767225600000") == 0);
    CHECK(query_int("SELECT max(created_at) - min(created_at) FROM catalog_products") >
          300 * 86400000LL);
    fake_close();
}

TEST(demo_images_are_small_svg_files)
{
    fake_open();
    CHECK(run_demo(1) == SOUK_OK);
    sqlite3_stmt *st;
    CHECK(sqlite3_prepare_v2(fake.db,
                             "SELECT slug, json_extract(images, '$[0]') FROM "
                             "catalog_products ORDER BY id",
                             -1, &st, NULL) == SQLITE_OK);
    int rows = 0, bad = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *slug = (const char *)sqlite3_column_text(st, 0);
        const char *url = (const char *)sqlite3_column_text(st, 1);
        char want[512], path[600];
        snprintf(want, sizeof want, "/media/catalog/%s.svg", slug);
        if (!url || strcmp(url, want) != 0) {
            bad++;
            continue;
        }
        snprintf(path, sizeof path, "%s%s", fake.dir, url);
        FILE *f = fopen(path, "r");
        char buf[2048];
        size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
        if (f)
            fclose(f);
        if (n < 200 || n >= 1024 || memcmp(buf, "<svg ", 5) != 0)
            bad++;
        rows++;
    }
    sqlite3_finalize(st);
    CHECK(rows > 2000);
    CHECK(bad == 0);
    fake_close();
}

TEST(demo_pickup_points_are_in_moscow_and_saint_petersburg)
{
    fake_open();
    CHECK(run_demo(1) == SOUK_OK);
    CHECK(query_int("SELECT count(*) FROM catalog_pickup_points") == 12);
    CHECK(query_int("SELECT count(*) FROM catalog_pickup_points WHERE "
                    "lat BETWEEN 55.55 AND 55.95 AND lon BETWEEN 37.35 AND 37.85") >= 5);
    CHECK(query_int("SELECT count(*) FROM catalog_pickup_points WHERE "
                    "lat BETWEEN 59.80 AND 60.10 AND lon BETWEEN 30.15 AND 30.55") >= 5);
    CHECK(query_int("SELECT count(*) FROM catalog_pickup_points WHERE hours = '' "
                    "OR address_ru NOT GLOB '*[а-яА-Я]*' OR address_en GLOB '*[а-яА-Я]*'") == 0);
    /* Each point has its R*Tree box, with the same id, around its coordinates. */
    CHECK(query_int("SELECT count(*) FROM catalog_pickup_points p JOIN catalog_pickup_rtree r "
                    "ON r.id = p.id WHERE abs(r.min_lat - p.lat) < 0.0001 "
                    "AND abs(r.max_lat - p.lat) < 0.0001 AND abs(r.min_lon - p.lon) < 0.0001 "
                    "AND abs(r.max_lon - p.lon) < 0.0001") == 12);
    /* The R*Tree narrows a query near Nevsky Prospect to Saint Petersburg. */
    CHECK(query_int("SELECT count(*) FROM catalog_pickup_rtree WHERE min_lat > 59.5 AND "
                    "max_lat < 60.5 AND min_lon > 29.5 AND max_lon < 31") == 5);
    fake_close();
}

TEST(demo_is_the_same_every_time)
{
    fake_open();
    CHECK(run_demo(1) == SOUK_OK);
    uint64_t first = data_fingerprint();
    char image[1024] = "";
    read_first_image(image, sizeof image);
    CHECK(strncmp(image, "<svg ", 5) == 0);
    /* A second event on the same store adds nothing. */
    CHECK(run_demo(1) == SOUK_OK);
    CHECK(data_fingerprint() == first);
    fake_close();

    fake_open();
    CHECK(run_demo(1) == SOUK_OK);
    CHECK(data_fingerprint() == first);
    char again[1024] = "";
    read_first_image(again, sizeof again);
    CHECK(strcmp(image, again) == 0);
    fake_close();
}

TEST(demo_fails_cleanly_when_the_images_cannot_be_written)
{
    fake_open();
    char media[600];
    snprintf(media, sizeof media, "%s/media", fake.dir);
    FILE *f = fopen(media, "w"); /* a file where the folder should be */
    CHECK(f != NULL);
    if (f)
        fclose(f);
    CHECK(run_demo(1) == SOUK_ERR);
    CHECK(strstr(fake.last_log, "media") != NULL);
    fake_close();
}

int main(void)
{
    RUN(not_demo_leaves_the_catalog_empty);
    RUN(demo_catalog_has_what_the_issue_asks);
    RUN(demo_images_are_small_svg_files);
    RUN(demo_pickup_points_are_in_moscow_and_saint_petersburg);
    RUN(demo_is_the_same_every_time);
    RUN(demo_fails_cleanly_when_the_images_cannot_be_written);
    return test_report();
}
