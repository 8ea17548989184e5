/* listing_set.c -- candidate sets of listings: read with one SQL statement, kept
 * in a small per-worker cache that is checked against the database's version.
 * The interface and the rules are in listing_set.h. */
#include "listing_set.h"

#include <stdlib.h>
#include <string.h>

#define SET_CACHE_SETS 32          /* sets kept per worker */
#define SET_CACHE_ROWS 200000      /* candidates kept per worker, all sets together
                                      (16 bytes each, plus brand and category names) */
#define SET_FIRST_CAP 64           /* first allocation of a growing array */
#define SET_ID_TEXT_MAX 24         /* an int64 in decimal with its comma */
/* bm25 weights of catalog_fts's columns: title, description, brand, category.  A
 * word in the title counts ten times one in the description. */
#define SET_BM25 "bm25(catalog_fts, 10.0, 1.0, 4.0, 3.0)"

typedef struct cached_set {
    catalog_set set;
    char *key;                     /* the filter, see filter_key(); NULL: empty slot */
    int64_t version, changes;      /* the database as the set was read */
    int stamped;                   /* version and changes are known */
    uint64_t used;                 /* LRU clock */
} cached_set;

/* Per worker process (workers are single-threaded); freed by set_cache_unload(). */
static cached_set set_cache[SET_CACHE_SETS];
static uint64_t set_clock;

/* ------------------------------------------------------------------ helpers */

static void set_free(catalog_set *s)
{
    for (int i = 0; i < s->n_brands; i++)
        free(s->brands[i]);
    for (int i = 0; i < s->n_categories; i++) {
        free(s->categories[i].slug);
        free(s->categories[i].name_ru);
        free(s->categories[i].name_en);
    }
    free(s->ids);
    free(s->brand);
    free(s->category);
    free(s->brands);
    free(s->brand_count);
    free(s->categories);
    free(s->category_count);
    memset(s, 0, sizeof *s);
}

static void slot_clear(cached_set *c)
{
    set_free(&c->set);
    free(c->key);
    memset(c, 0, sizeof *c);
}

/* Free the cache when the shared object is finalised (at the end of the process,
 * or at dlclose if the host ever unmaps plugins): its memory must not outlive the
 * code that knows it, and leak checkers see a clean exit. */
__attribute__((destructor)) static void set_cache_unload(void)
{
    for (int i = 0; i < SET_CACHE_SETS; i++)
        slot_clear(&set_cache[i]);
}

/* Make room for need elements of size elem in *p (capacity *cap).  0 on success. */
static int grow(void **p, int *cap, int need, size_t elem)
{
    if (need <= *cap)
        return 0;
    int n = *cap ? *cap : SET_FIRST_CAP;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, (size_t)n * elem);
    if (!q)
        return -1;
    *p = q;
    *cap = n;
    return 0;
}

static char *dup_text(const unsigned char *s)
{
    return strdup(s ? (const char *)s : "");
}

/* The filter as a cache key: each part length-prefixed, so no two filters share
 * a key whatever their text holds (arena). */
static const char *filter_key(souk_ctx *ctx, const catalog_set_filter *f)
{
#define PART(s) (s) ? (int)strlen(s) : -1, (s) ? (s) : ""
    return catalog_api->format(ctx, "%d:%s|%d:%s|%d:%s|%d|%d", PART(f->match),
                               PART(f->subtree), PART(f->brand), f->in_stock,
                               f->match && f->by_relevance);
#undef PART
}

int catalog_db_stamp(souk_ctx *ctx, int64_t *version, int64_t *changes)
{
    sqlite3_stmt *st = catalog_api->db_prepare(ctx, "PRAGMA data_version");
    if (!st)
        return -1;
    int rc = sqlite3_step(st);
    *version = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    *changes = (int64_t)sqlite3_total_changes64(catalog_api->db(ctx));
    return rc == SQLITE_ROW ? 0 : -1;
}

/* ----------------------------------------------------------------- interning */

/* Open addressing over indexes into the set's brands or categories (slot value:
 * index + 1; 0: empty).  Kept at most half full. */
typedef struct intern {
    int32_t *slot;
    size_t cap;                    /* a power of two */
} intern;

static uint64_t hash_text(const char *s)
{
    uint64_t h = 1469598103934665603ULL;             /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static uint64_t hash_id(int64_t id)
{
    uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15ULL; /* Fibonacci hashing */
    return h ^ (h >> 29);
}

/* Grow t so that it holds count + 1 entries at most half full, re-inserting the
 * existing ones with hash_of(i).  0 on success. */
static int intern_reserve(intern *t, int count, const catalog_set *s, int brands)
{
    if ((size_t)(count + 1) * 2 <= t->cap)
        return 0;
    size_t cap = t->cap ? t->cap * 2 : SET_FIRST_CAP;
    int32_t *slot = calloc(cap, sizeof *slot);
    if (!slot)
        return -1;
    for (int i = 0; i < count; i++) {
        uint64_t h = brands ? hash_text(s->brands[i]) : hash_id(s->categories[i].id);
        size_t k = h & (cap - 1);
        while (slot[k])
            k = (k + 1) & (cap - 1);
        slot[k] = i + 1;
    }
    free(t->slot);
    t->slot = slot;
    t->cap = cap;
    return 0;
}

/* ------------------------------------------------------------------- reading */

/* The capacities of the set's growing arrays while it is read. */
typedef struct set_builder {
    catalog_set *s;
    int cap_ids, cap_brand, cap_category;                 /* per candidate */
    int cap_brands, cap_brand_count, cap_categories, cap_category_count;
    intern brands, categories;
} set_builder;

/* The index of brand in the set, added when new; -1 for no brand, -2 on failure. */
static int32_t brand_index(set_builder *b, const char *brand)
{
    catalog_set *s = b->s;
    if (!*brand)
        return -1;
    if (intern_reserve(&b->brands, s->n_brands, s, 1) != 0)
        return -2;
    size_t k = hash_text(brand) & (b->brands.cap - 1);
    for (; b->brands.slot[k]; k = (k + 1) & (b->brands.cap - 1))
        if (strcmp(s->brands[b->brands.slot[k] - 1], brand) == 0)
            return b->brands.slot[k] - 1;
    if (grow((void **)&s->brands, &b->cap_brands, s->n_brands + 1, sizeof *s->brands) != 0 ||
        grow((void **)&s->brand_count, &b->cap_brand_count, s->n_brands + 1,
             sizeof *s->brand_count) != 0)
        return -2;
    if (!(s->brands[s->n_brands] = strdup(brand)))
        return -2;
    s->brand_count[s->n_brands] = 0;
    b->brands.slot[k] = ++s->n_brands;
    return s->n_brands - 1;
}

/* The index of category id in the set, added when new; -2 on failure. */
static int32_t category_index(set_builder *b, int64_t id)
{
    catalog_set *s = b->s;
    if (intern_reserve(&b->categories, s->n_categories, s, 0) != 0)
        return -2;
    size_t k = hash_id(id) & (b->categories.cap - 1);
    for (; b->categories.slot[k]; k = (k + 1) & (b->categories.cap - 1))
        if (s->categories[b->categories.slot[k] - 1].id == id)
            return b->categories.slot[k] - 1;
    if (grow((void **)&s->categories, &b->cap_categories, s->n_categories + 1,
             sizeof *s->categories) != 0 ||
        grow((void **)&s->category_count, &b->cap_category_count, s->n_categories + 1,
             sizeof *s->category_count) != 0)
        return -2;
    s->categories[s->n_categories] = (catalog_set_category){id, NULL, NULL, NULL};
    s->category_count[s->n_categories] = 0;
    b->categories.slot[k] = ++s->n_categories;
    return s->n_categories - 1;
}

/* The slugs and names of the set's categories. */
static int read_categories(souk_ctx *ctx, catalog_set *s)
{
    if (s->n_categories == 0)
        return SOUK_OK;
    /* The ids as a JSON array text for json_each. */
    char *ids = catalog_api->alloc(ctx, (size_t)s->n_categories * SET_ID_TEXT_MAX + 3), *o = ids;
    *o++ = '[';
    for (int i = 0; i < s->n_categories; i++)
        o += sprintf(o, "%s%lld", i ? "," : "", (long long)s->categories[i].id);
    *o++ = ']';
    *o = '\0';
    sqlite3_stmt *st = catalog_api->db_prepare(
        ctx, "SELECT id, slug, name_ru, name_en FROM catalog_categories"
             " WHERE id IN (SELECT value FROM json_each(?1))");
    if (!st)
        return SOUK_ERR;
    sqlite3_bind_text(st, 1, ids, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        for (int i = 0; i < s->n_categories; i++) {
            catalog_set_category *c = &s->categories[i];
            if (c->id != id || c->slug)
                continue;
            c->slug = dup_text(sqlite3_column_text(st, 1));
            c->name_ru = dup_text(sqlite3_column_text(st, 2));
            c->name_en = dup_text(sqlite3_column_text(st, 3));
            if (!c->slug || !c->name_ru || !c->name_en)
                rc = SQLITE_NOMEM;
            break;
        }
        if (rc == SQLITE_NOMEM)
            break;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return SOUK_ERR;
    /* A category that vanished under a product cannot happen (foreign key); a
     * name is still owed to every entry. */
    for (int i = 0; i < s->n_categories; i++) {
        catalog_set_category *c = &s->categories[i];
        if (!c->slug) {
            c->slug = strdup("");
            c->name_ru = strdup("");
            c->name_en = strdup("");
            if (!c->slug || !c->name_ru || !c->name_en)
                return SOUK_ERR;
        }
    }
    return SOUK_OK;
}

/* Read the set for f into s (empty on entry). */
static int set_read(souk_ctx *ctx, const catalog_set_filter *f, catalog_set *s, int *fts_failed)
{
    const souk_host_api *api = catalog_api;
    /* Fixed fragments only: a few dozen distinct statements at most, all cached. */
    const char *sql = api->format(
        ctx,
        "SELECT p.id, p.brand, p.category_id FROM %s"
        " WHERE p.status = 'active'%s%s%s%s"
        " ORDER BY %sp.created_at DESC, p.id DESC",
        f->match ? "catalog_fts JOIN catalog_products p ON p.id = catalog_fts.rowid"
                 : "catalog_products p",
        f->match ? " AND catalog_fts MATCH ?1" : "",
        f->subtree ? " AND p.category_id IN (SELECT value FROM json_each(?2))" : "",
        f->brand ? " AND p.brand = ?3" : "",
        f->in_stock ? " AND EXISTS (SELECT 1 FROM catalog_variants v"
                      " WHERE v.product_id = p.id AND v.stock > 0)"
                    : "",
        f->match && f->by_relevance ? SET_BM25 ", " : "");
    sqlite3_stmt *st = api->db_prepare(ctx, sql);
    if (!st)
        return api->res_error(ctx, 500, "db", "cannot read the products", NULL);
    if (f->match)
        sqlite3_bind_text(st, 1, f->match, -1, SQLITE_STATIC);
    if (f->subtree)
        sqlite3_bind_text(st, 2, f->subtree, -1, SQLITE_STATIC);
    if (f->brand)
        sqlite3_bind_text(st, 3, f->brand, -1, SQLITE_STATIC);

    set_builder b = {.s = s};
    int rc, failed = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *brand = (const char *)sqlite3_column_text(st, 1);
        int32_t bi = brand_index(&b, brand ? brand : "");
        int32_t ci = category_index(&b, sqlite3_column_int64(st, 2));
        if (bi == -2 || ci == -2 ||
            grow((void **)&s->ids, &b.cap_ids, s->n + 1, sizeof *s->ids) != 0 ||
            grow((void **)&s->brand, &b.cap_brand, s->n + 1, sizeof *s->brand) != 0 ||
            grow((void **)&s->category, &b.cap_category, s->n + 1, sizeof *s->category) != 0) {
            failed = 1;
            break;
        }
        s->ids[s->n] = sqlite3_column_int64(st, 0);
        s->brand[s->n] = bi;
        s->category[s->n] = ci;
        if (bi >= 0)
            s->brand_count[bi]++;
        s->category_count[ci]++;
        s->n++;
    }
    sqlite3_reset(st);
    free(b.brands.slot);
    free(b.categories.slot);
    if (failed)
        return api->res_error(ctx, 500, "memory", "out of memory", NULL);
    if (rc != SQLITE_DONE) {
        api->log(catalog_self, SOUK_LOG_ERROR, "listing query failed: %s (match %s)",
                 sqlite3_errmsg(api->db(ctx)), f->match ? f->match : "-");
        if (!f->match)
            return api->res_error(ctx, 500, "db", "cannot read the products", NULL);
        set_free(s);
        *fts_failed = 1;
        return SOUK_OK;
    }
    if (read_categories(ctx, s) != SOUK_OK) {
        api->log(catalog_self, SOUK_LOG_ERROR, "cannot read the listing's categories: %s",
                 sqlite3_errmsg(api->db(ctx)));
        return api->res_error(ctx, 500, "db", "cannot read the categories", NULL);
    }
    return SOUK_OK;
}

/* -------------------------------------------------------------------- cache */

/* Evict the least recently used sets (never keep) until the cache holds at most
 * SET_CACHE_ROWS candidates. */
static void cache_trim(const cached_set *keep)
{
    for (;;) {
        int64_t rows = 0;
        cached_set *oldest = NULL;
        for (int i = 0; i < SET_CACHE_SETS; i++) {
            cached_set *c = &set_cache[i];
            if (!c->key)
                continue;
            rows += c->set.n;
            if (c != keep && (!oldest || c->used < oldest->used))
                oldest = c;
        }
        if (rows <= SET_CACHE_ROWS || !oldest)
            return;
        slot_clear(oldest);
    }
}

int catalog_set_get(souk_ctx *ctx, const catalog_set_filter *filter, const catalog_set **out,
                    int *fts_failed)
{
    *fts_failed = 0;
    const char *key = filter_key(ctx, filter);
    int64_t version = 0, changes = 0;
    int stamped = catalog_db_stamp(ctx, &version, &changes) == 0;

    cached_set *slot = NULL;
    for (int i = 0; i < SET_CACHE_SETS && !slot; i++)
        if (set_cache[i].key && strcmp(set_cache[i].key, key) == 0)
            slot = &set_cache[i];
    if (slot && slot->stamped && stamped && slot->version == version &&
        slot->changes == changes) {
        slot->used = ++set_clock;
        *out = &slot->set;
        return SOUK_OK;
    }
    if (!slot) {
        for (int i = 0; i < SET_CACHE_SETS; i++) {
            cached_set *c = &set_cache[i];
            if (!c->key) {
                slot = c;
                break;
            }
            if (!slot || c->used < slot->used)
                slot = c;
        }
    }
    slot_clear(slot);
    if (set_read(ctx, filter, &slot->set, fts_failed) != SOUK_OK) {
        slot_clear(slot);
        return SOUK_ERR;
    }
    slot->key = strdup(key);
    if (!slot->key) {
        slot_clear(slot);
        return catalog_api->res_error(ctx, 500, "memory", "out of memory", NULL);
    }
    /* A refused search is answered but not remembered. */
    slot->stamped = stamped && !*fts_failed;
    slot->version = version;
    slot->changes = changes;
    slot->used = ++set_clock;
    cache_trim(slot);
    *out = &slot->set;
    return SOUK_OK;
}
