/* index.c -- keeping the search tables in step with the products.
 *
 * catalog_fts (rowid = product id, tokenizer souk_stem) holds, per active product:
 *   title        title_ru || ' ' || title_en
 *   description  description_ru and description_en as plain text (tags dropped,
 *                entities decoded: the column is sanitised HTML)
 *   brand
 *   category     the names, both locales, of the product's category and of all
 *                its ancestors (so "посуда" finds what lies in "Посуда > Чайники")
 * catalog_suggest (rowid = product id, unicode61, no stemming) holds title_ru and
 * title_en with "ё" written "е"; listing.c maps queries the same way.
 *
 * Products that are not active have no rows in either table: every search and
 * suggestion is then "active only" without a join to check it.  Both functions run
 * inside the caller's transaction. */
#include "catalog_internal.h"

#include <stdlib.h>
#include <string.h>

/* A category tree deeper than this is a cycle (the import refuses one; the limit
 * keeps a damaged table from looping the recursive query). */
#define INDEX_CATEGORY_DEPTH_MAX 64

/* The category names of each category (key "cat") with its ancestors.  ?1: the
 * product whose category alone is needed, or NULL for every category. */
#define INDEX_NAMES_CTE                                                          \
    "WITH RECURSIVE up(cat, id, parent_id, depth) AS ("                          \
    "  SELECT c.id, c.id, c.parent_id, 0 FROM catalog_categories c"              \
    "   WHERE ?1 IS NULL"                                                        \
    "      OR c.id = (SELECT category_id FROM catalog_products WHERE id = ?1)"   \
    "  UNION ALL"                                                                \
    "  SELECT up.cat, c.id, c.parent_id, up.depth + 1"                           \
    "    FROM up JOIN catalog_categories c ON c.id = up.parent_id"               \
    "   WHERE up.depth < ?2),"                                                   \
    " names(cat, text) AS ("                                                     \
    "  SELECT up.cat, group_concat(c.name_ru || ' ' || c.name_en, ' ')"          \
    "    FROM up JOIN catalog_categories c ON c.id = up.id GROUP BY up.cat)"

#define INDEX_COLUMNS                                                            \
    "SELECT p.id, p.title_ru || ' ' || p.title_en, p.title_ru, p.title_en,"      \
    "       p.description_ru, p.description_en, p.brand, coalesce(names.text, '')" \
    "  FROM catalog_products p LEFT JOIN names ON names.cat = p.category_id"

static const char SQL_ONE[] =
    INDEX_NAMES_CTE INDEX_COLUMNS " WHERE p.id = ?1 AND p.status = 'active'";
static const char SQL_ALL[] =
    INDEX_NAMES_CTE INDEX_COLUMNS " WHERE p.status = 'active' ORDER BY p.id";

static const char SQL_FTS_INSERT[] =
    "INSERT INTO catalog_fts(rowid, title, description, brand, category)"
    " VALUES(?1, ?2, ?3, ?4, ?5)";
static const char SQL_SUGGEST_INSERT[] =
    "INSERT INTO catalog_suggest(rowid, title_ru, title_en)"
    " VALUES(?1, replace(replace(?2, 'ё', 'е'), 'Ё', 'Е'),"
    "            replace(replace(?3, 'ё', 'е'), 'Ё', 'Е'))";

/* Column indexes of INDEX_COLUMNS. */
enum { COL_ID, COL_TITLE, COL_TITLE_RU, COL_TITLE_EN, COL_DESC_RU, COL_DESC_EN, COL_BRAND,
       COL_CATEGORY };

static int index_fail(souk_ctx *ctx, const char *what)
{
    catalog_api->log(catalog_self, SOUK_LOG_ERROR, "search index: %s: %s", what,
                     sqlite3_errmsg(catalog_api->db(ctx)));
    return SOUK_ERR;
}

/* Decode the entity at s ("&amp;", "&#1095;", "&#x44F;") into out.  Returns the
 * length of the entity in s and sets *written, or 0 when s is no entity we know
 * (the '&' is then kept as it is).  Every decoded form is shorter than its
 * entity, so the output never outgrows the input. */
static size_t decode_entity(const char *s, char *out, size_t *written)
{
    static const struct { const char *name; const char *text; } named[] = {
        {"amp;", "&"}, {"lt;", "<"}, {"gt;", ">"}, {"quot;", "\""}, {"apos;", "'"},
        {"nbsp;", " "},
    };
    if (s[1] == '#') {
        int hex = s[2] == 'x' || s[2] == 'X';
        size_t i = hex ? 3 : 2;
        unsigned long cp = 0;
        size_t digits = 0;
        for (;; i++, digits++) {
            char c = s[i];
            int d = c >= '0' && c <= '9' ? c - '0'
                    : hex && c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : hex && c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (d < 0 || digits >= 7)
                break;
            cp = cp * (hex ? 16 : 10) + (unsigned long)d;
        }
        if (digits == 0 || s[i] != ';' || cp == 0 || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        *written = catalog_utf8_encode(cp, out);
        return i + 1;
    }
    for (size_t k = 0; k < sizeof named / sizeof *named; k++) {
        size_t n = strlen(named[k].name);
        if (strncmp(s + 1, named[k].name, n) == 0) {
            *written = strlen(named[k].text);
            memcpy(out, named[k].text, *written);
            return n + 1;
        }
    }
    return 0;
}

/* The text of an HTML fragment: each tag (and comment) becomes one space, the
 * entities are decoded.  out must hold strlen(html) + 1 bytes. */
static void html_to_text(const char *html, char *out)
{
    char *o = out;
    for (const char *s = html; *s;) {
        if (*s == '<' && (s[1] == '/' || s[1] == '!' || s[1] == '?' ||
                          (s[1] >= 'a' && s[1] <= 'z') || (s[1] >= 'A' && s[1] <= 'Z'))) {
            const char *end = strncmp(s, "<!--", 4) == 0 ? strstr(s + 4, "-->") : NULL;
            end = end ? end + 2 : strchr(s, '>');
            s = end ? end + 1 : s + strlen(s);
            *o++ = ' ';
            continue;
        }
        if (*s == '&') {
            size_t written = 0, used = decode_entity(s, o, &written);
            if (used) {
                o += written;
                s += used;
                continue;
            }
        }
        *o++ = *s++;
    }
    *o = 0;
}

/* Both descriptions of the current row as one plain text (malloc'ed), or NULL. */
static char *row_description(sqlite3_stmt *row)
{
    const char *ru = (const char *)sqlite3_column_text(row, COL_DESC_RU);
    const char *en = (const char *)sqlite3_column_text(row, COL_DESC_EN);
    ru = ru ? ru : "";
    en = en ? en : "";
    size_t n_ru = strlen(ru), n_en = strlen(en);
    char *html = malloc(n_ru + n_en + 2);
    char *text = malloc(n_ru + n_en + 2);
    if (!html || !text) {
        free(html);
        free(text);
        return NULL;
    }
    memcpy(html, ru, n_ru);
    html[n_ru] = ' ';
    memcpy(html + n_ru + 1, en, n_en + 1);
    html_to_text(html, text);
    free(html);
    return text;
}

static int bind_column(sqlite3_stmt *st, int param, sqlite3_stmt *row, int col)
{
    return sqlite3_bind_text(st, param, (const char *)sqlite3_column_text(row, col),
                             sqlite3_column_bytes(row, col), SQLITE_TRANSIENT);
}

/* Insert the search rows of the product at the current row of an INDEX_COLUMNS
 * query. */
static int insert_row(souk_ctx *ctx, sqlite3_stmt *row)
{
    sqlite3_int64 id = sqlite3_column_int64(row, COL_ID);
    char *description = row_description(row);
    if (!description) {
        catalog_api->log(catalog_self, SOUK_LOG_ERROR, "search index: out of memory");
        return SOUK_ERR;
    }
    sqlite3_stmt *fts = catalog_api->db_prepare(ctx, SQL_FTS_INSERT);
    if (!fts) {
        free(description);
        return SOUK_ERR;
    }
    sqlite3_bind_int64(fts, 1, id);
    bind_column(fts, 2, row, COL_TITLE);
    sqlite3_bind_text(fts, 3, description, -1, free);
    bind_column(fts, 4, row, COL_BRAND);
    bind_column(fts, 5, row, COL_CATEGORY);
    int rc = sqlite3_step(fts);
    sqlite3_reset(fts);
    sqlite3_clear_bindings(fts);   /* releases the description now */
    if (rc != SQLITE_DONE)
        return index_fail(ctx, "cannot write catalog_fts");

    sqlite3_stmt *sug = catalog_api->db_prepare(ctx, SQL_SUGGEST_INSERT);
    if (!sug)
        return SOUK_ERR;
    sqlite3_bind_int64(sug, 1, id);
    bind_column(sug, 2, row, COL_TITLE_RU);
    bind_column(sug, 3, row, COL_TITLE_EN);
    rc = sqlite3_step(sug);
    sqlite3_reset(sug);
    if (rc != SQLITE_DONE)
        return index_fail(ctx, "cannot write catalog_suggest");
    return SOUK_OK;
}

int catalog_index_product(souk_ctx *ctx, int64_t product_id)
{
    static const char *const removes[] = {
        "DELETE FROM catalog_fts WHERE rowid = ?1",
        "DELETE FROM catalog_suggest WHERE rowid = ?1",
    };
    for (size_t i = 0; i < sizeof removes / sizeof *removes; i++) {
        sqlite3_stmt *st = catalog_api->db_prepare(ctx, removes[i]);
        if (!st)
            return SOUK_ERR;
        sqlite3_bind_int64(st, 1, product_id);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return index_fail(ctx, "cannot remove old rows");
    }
    sqlite3_stmt *row = catalog_api->db_prepare(ctx, SQL_ONE);
    if (!row)
        return SOUK_ERR;
    sqlite3_bind_int64(row, 1, product_id);
    sqlite3_bind_int(row, 2, INDEX_CATEGORY_DEPTH_MAX);
    int rc = sqlite3_step(row);
    int status = SOUK_OK;
    if (rc == SQLITE_ROW)
        status = insert_row(ctx, row);
    else if (rc != SQLITE_DONE)
        status = index_fail(ctx, "cannot read the product");
    sqlite3_reset(row);   /* not active or gone: no rows, as wanted */
    return status;
}

int catalog_index_all(souk_ctx *ctx)
{
    if (catalog_api->db_exec(ctx, "DELETE FROM catalog_fts; DELETE FROM catalog_suggest;") !=
        SOUK_OK)
        return index_fail(ctx, "cannot clear the index");
    sqlite3_stmt *row = catalog_api->db_prepare(ctx, SQL_ALL);
    if (!row)
        return SOUK_ERR;
    sqlite3_bind_null(row, 1);
    sqlite3_bind_int(row, 2, INDEX_CATEGORY_DEPTH_MAX);
    int rc = SQLITE_DONE, status = SOUK_OK;
    while (status == SOUK_OK && (rc = sqlite3_step(row)) == SQLITE_ROW)
        status = insert_row(ctx, row);
    if (status == SOUK_OK && rc != SQLITE_DONE)
        status = index_fail(ctx, "cannot read the products");
    sqlite3_reset(row);
    if (status != SOUK_OK)
        return status;
    /* One b-tree per index after a rebuild: queries then read the fewest pages. */
    if (catalog_api->db_exec(ctx, "INSERT INTO catalog_fts(catalog_fts) VALUES('optimize');"
                                  "INSERT INTO catalog_suggest(catalog_suggest)"
                                  " VALUES('optimize');") != SOUK_OK)
        return index_fail(ctx, "cannot optimise the index");
    return SOUK_OK;
}
