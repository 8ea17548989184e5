/* test_catalog_tokenizer.c -- the FTS5 tokenizer "souk_stem" of the catalog plugin
 * (plugins/catalog/tokenizer.c, compiled into this test; see tests/CMakeLists.txt).
 *
 * Every check goes through SQLite itself: a real FTS5 table indexes documents with
 * the tokenizer, fts5vocab shows the terms it stored, and MATCH queries pass
 * through the same tokenizer, as they do in the store. */
#include "test.h"

#include "catalog/catalog_internal.h"

#include <stdlib.h>

/* tokenizer.c logs through these when the plugin is loaded; unset here. */
const souk_host_api *catalog_api;
souk_plugin *catalog_self;

static sqlite3 *open_db(void)
{
    sqlite3 *db = NULL;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK)
        return NULL;
    if (catalog_tokenizer_register(db, NULL) != SOUK_OK ||
        sqlite3_exec(db,
                     "CREATE VIRTUAL TABLE t USING fts5(body, tokenize = 'souk_stem');"
                     "CREATE VIRTUAL TABLE v USING fts5vocab(t, 'row');",
                     NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "set-up: %s\n", sqlite3_errmsg(db));
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

static void add(sqlite3 *db, long long id, const char *body)
{
    sqlite3_stmt *st;
    CHECK_INT(sqlite3_prepare_v2(db, "INSERT INTO t(rowid, body) VALUES(?1, ?2)", -1, &st, NULL),
              SQLITE_OK);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, body, -1, SQLITE_STATIC);
    CHECK_INT(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
}

/* The rowids that match q, as "1,3" ("" for none; "error" on an SQL error). */
static const char *match(sqlite3 *db, const char *q)
{
    static char out[256];
    sqlite3_stmt *st;
    out[0] = 0;
    if (sqlite3_prepare_v2(db, "SELECT rowid FROM t WHERE t MATCH ?1 ORDER BY rowid", -1, &st,
                           NULL) != SQLITE_OK)
        return "error";
    sqlite3_bind_text(st, 1, q, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        size_t len = strlen(out);
        snprintf(out + len, sizeof out - len, "%s%lld", len ? "," : "",
                 (long long)sqlite3_column_int64(st, 0));
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? out : "error";
}

/* The terms stored for the whole table, space-separated in vocabulary order. */
static const char *terms(sqlite3 *db)
{
    static char out[1024];
    sqlite3_stmt *st;
    out[0] = 0;
    if (sqlite3_prepare_v2(db, "SELECT term FROM v ORDER BY term", -1, &st, NULL) != SQLITE_OK)
        return "error";
    while (sqlite3_step(st) == SQLITE_ROW) {
        size_t len = strlen(out);
        snprintf(out + len, sizeof out - len, "%s%s", len ? " " : "",
                 (const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    return out;
}

TEST(russian_plural_finds_singular)
{
    sqlite3 *db = open_db();
    CHECK(db != NULL);
    if (!db)
        return;
    add(db, 1, "Электрический чайник");
    add(db, 2, "Заварочные чайники из стекла");
    add(db, 3, "Чай зелёный");
    CHECK_STR(match(db, "чайники"), "1,2");
    CHECK_STR(match(db, "чайник"), "1,2");
    CHECK_STR(match(db, "ЧАЙНИКОВ"), "1,2");
    CHECK_STR(match(db, "стеклянный"), "");      /* a different word, not a form */
    CHECK_STR(match(db, "стекло"), "2");
    CHECK_STR(match(db, "электрические"), "1");
    sqlite3_close(db);
}

TEST(stored_terms_are_stems)
{
    sqlite3 *db = open_db();
    if (!db) {
        CHECK(db != NULL);
        return;
    }
    add(db, 1, "Чайники, RUNNING; ёлки 42");
    CHECK_STR(terms(db), "42 run елк чайник");
    sqlite3_close(db);
}

TEST(yo_and_ye_are_one_letter)
{
    sqlite3 *db = open_db();
    if (!db) {
        CHECK(db != NULL);
        return;
    }
    add(db, 1, "Новогодняя ёлка");
    add(db, 2, "ЕЛКА искусственная");
    add(db, 3, "Зелёный чай");
    CHECK_STR(match(db, "Ёлка"), "1,2");
    CHECK_STR(match(db, "елки"), "1,2");
    CHECK_STR(match(db, "ёлочные") , "");        /* another stem, honestly */
    CHECK_STR(match(db, "зеленый"), "3");
    CHECK_STR(match(db, "ЗЕЛЁНОГО"), "3");
    /* No "ё" is ever stored. */
    CHECK(strstr(terms(db), "ё") == NULL);
    sqlite3_close(db);
}

TEST(short_i_keeps_its_breve)
{
    sqlite3 *db = open_db();
    if (!db) {
        CHECK(db != NULL);
        return;
    }
    add(db, 1, "йогурт");
    add(db, 2, "иогурт");
    CHECK_STR(match(db, "йогурт"), "1");
    CHECK_STR(match(db, "иогурт"), "2");
    sqlite3_close(db);
}

TEST(english_stems_and_folds_case)
{
    sqlite3 *db = open_db();
    if (!db) {
        CHECK(db != NULL);
        return;
    }
    add(db, 1, "Running shoes");
    add(db, 2, "A run in the park");
    add(db, 3, "Teapots and KETTLES");
    CHECK_STR(match(db, "running"), "1,2");
    CHECK_STR(match(db, "RUN"), "1,2");
    CHECK_STR(match(db, "Runs"), "1,2");
    CHECK_STR(match(db, "kettle"), "3");
    CHECK_STR(match(db, "teapot"), "3");
    CHECK_STR(match(db, "shoe"), "1");
    sqlite3_close(db);
}

TEST(mixed_documents_and_queries)
{
    sqlite3 *db = open_db();
    if (!db) {
        CHECK(db != NULL);
        return;
    }
    add(db, 1, "Чайник Bosch TWK3A011 kettles");
    add(db, 2, "iPhone15 чехлы");
    CHECK_STR(match(db, "чайники AND kettle"), "1");
    CHECK_STR(match(db, "twk3a011"), "1");
    CHECK_STR(match(db, "iphone15"), "2");
    CHECK_STR(match(db, "чехла"), "2");     /* Snowball keeps the fleeting "о" of "чехол" */
    /* A token mixing scripts is kept whole rather than stemmed by either. */
    add(db, 3, "чайkettles");
    CHECK_STR(match(db, "чайkettles"), "3");
    CHECK_STR(match(db, "чайkettle"), "");
    sqlite3_close(db);
}

TEST(prefix_terms_are_not_stemmed)
{
    sqlite3 *db = open_db();
    if (!db) {
        CHECK(db != NULL);
        return;
    }
    add(db, 1, "чайник");
    add(db, 2, "чайный сервиз");
    add(db, 3, "running");
    CHECK_STR(match(db, "чайн*"), "1,2");
    CHECK_STR(match(db, "чайник*"), "1");
    CHECK_STR(match(db, "ru*"), "3");
    /* Stemming "runni" would give a stem that is no prefix of "run". */
    CHECK_STR(match(db, "runni*"), "");
    CHECK_STR(match(db, "ЁЛ*"), "");
    add(db, 4, "ёлочка");
    CHECK_STR(match(db, "ЁЛ*"), "4");
    CHECK_STR(match(db, "ел*"), "4");
    sqlite3_close(db);
}

TEST(long_tokens_are_cut)
{
    sqlite3 *db = open_db();
    if (!db) {
        CHECK(db != NULL);
        return;
    }
    /* 300 two-byte letters: the stored term is cut at a character boundary. */
    char word[601];
    for (int i = 0; i < 300; i++)
        memcpy(word + 2 * i, "ж", 2);
    word[600] = 0;
    add(db, 1, word);
    const char *t = terms(db);
    CHECK(strlen(t) > 0 && strlen(t) <= 128);
    CHECK(strlen(t) % 2 == 0);
    /* The same word as a query is cut the same way, so it still matches. */
    CHECK_STR(match(db, word), "1");
    sqlite3_close(db);
}

TEST(other_scripts_pass_through)
{
    sqlite3 *db = open_db();
    if (!db) {
        CHECK(db != NULL);
        return;
    }
    add(db, 1, "Καλημέρα 東京");
    CHECK_STR(match(db, "καλημέρα"), "1");
    CHECK_STR(match(db, "東京"), "1");
    sqlite3_close(db);
}

TEST(arguments_are_refused)
{
    sqlite3 *db = NULL;
    CHECK_INT(sqlite3_open(":memory:", &db), SQLITE_OK);
    CHECK_INT(catalog_tokenizer_register(db, NULL), SOUK_OK);
    CHECK(sqlite3_exec(db, "CREATE VIRTUAL TABLE x USING fts5(a, tokenize = 'souk_stem porter')",
                       NULL, NULL, NULL) != SQLITE_OK);
    sqlite3_close(db);
}

TEST(many_connections_no_leak)
{
    /* Under LeakSanitizer this proves xDelete frees the stemmers and unicode61. */
    for (int i = 0; i < 20; i++) {
        sqlite3 *db = open_db();
        CHECK(db != NULL);
        if (!db)
            return;
        add(db, i + 1, "чайники running");
        char want[16];
        snprintf(want, sizeof want, "%d", i + 1);
        CHECK_STR(match(db, "чайник"), want);
        sqlite3_close(db);
    }
}

int main(void)
{
    RUN(russian_plural_finds_singular);
    RUN(stored_terms_are_stems);
    RUN(yo_and_ye_are_one_letter);
    RUN(short_i_keeps_its_breve);
    RUN(english_stems_and_folds_case);
    RUN(mixed_documents_and_queries);
    RUN(prefix_terms_are_not_stemmed);
    RUN(long_tokens_are_cut);
    RUN(other_scripts_pass_through);
    RUN(arguments_are_refused);
    RUN(many_connections_no_leak);
    return test_report();
}
