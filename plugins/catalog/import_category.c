/* import_category.c -- categories met by an import: the paths of product rows
 * ("kitchen/kettles", missing levels created) and the records of a JSON
 * categories section (upserts by slug).
 *
 * What must stay true:
 *   - a product row never moves a category: a path whose levels exist under other
 *     parents is refused (only a categories record sets a parent);
 *   - a category's names are set once per import: two rows that name the same
 *     category differently are an error on the later one, so that re-running the
 *     file cannot flip a name back and forth;
 *   - the tree stays a tree: a parent that is the category itself or one of its
 *     descendants is refused.
 * The cache below only saves lookups; after a rolled-back savepoint it is emptied
 * (catalog_import_categories_forget) and refilled from the store. */
#include "import.h"

#include <stdlib.h>
#include <string.h>

#define CATEGORY_CACHE_INITIAL 256 /* slots; a power of two */
#define CATEGORY_NAMES_SEP '>'     /* "Кухня > Чайники" */
#define CATEGORY_PATH_SEP '/'      /* "kitchen/kettles" */
#define CATEGORY_WALK_MAX 100000   /* ancestors followed in a cycle check */

typedef struct cat_entry {
    char *slug;            /* NULL: a free slot */
    int64_t id, parent_id; /* parent 0: a root */
    char *name[2];         /* ru, en as stored */
    int name_line[2];      /* the line that named it in this import, or 0 */
    int counted;           /* how im->categories counts it (COUNTED_*) */
} cat_entry;

enum { RU = 0, EN = 1 };
enum { NOT_COUNTED = 0, COUNTED_CREATED, COUNTED_UPDATED, COUNTED_UNCHANGED };

struct catalog_import_categories {
    cat_entry *slots;
    size_t cap, count;
    int renamed; /* names or a parent changed: the whole index is rebuilt */
    sqlite3_stmt *sel, *sel_id, *ins, *upd;
};

static const char SQL_SEL[] =
    "SELECT id, coalesce(parent_id, 0), name_ru, name_en, position FROM catalog_categories "
    "WHERE slug = ?1";
static const char SQL_SEL_ID[] =
    "SELECT slug, coalesce(parent_id, 0) FROM catalog_categories WHERE id = ?1";
/* A new category goes after its siblings unless a position is given. */
static const char SQL_INS[] =
    "INSERT INTO catalog_categories(slug, parent_id, position, name_ru, name_en) "
    "VALUES(?1, nullif(?2, 0), coalesce(?3, (SELECT coalesce(max(position) + 1, 0) "
    "FROM catalog_categories WHERE parent_id IS nullif(?2, 0))), ?4, ?5)";
static const char SQL_UPD[] =
    "UPDATE catalog_categories SET parent_id = nullif(?2, 0), position = ?3, name_ru = ?4, "
    "name_en = ?5 WHERE id = ?1";

catalog_import_categories *catalog_import_categories_new(catalog_import *im)
{
    const souk_host_api *api = catalog_api;
    catalog_import_categories *cs = calloc(1, sizeof *cs);
    if (!cs)
        return NULL;
    cs->cap = CATEGORY_CACHE_INITIAL;
    cs->slots = calloc(cs->cap, sizeof *cs->slots);
    cs->sel = api->db_prepare(im->ctx, SQL_SEL);
    cs->sel_id = api->db_prepare(im->ctx, SQL_SEL_ID);
    cs->ins = api->db_prepare(im->ctx, SQL_INS);
    cs->upd = api->db_prepare(im->ctx, SQL_UPD);
    if (!cs->slots || !cs->sel || !cs->sel_id || !cs->ins || !cs->upd) {
        catalog_import_categories_free(cs);
        return NULL;
    }
    return cs;
}

static void entry_clear(cat_entry *e)
{
    free(e->slug);
    free(e->name[RU]);
    free(e->name[EN]);
    memset(e, 0, sizeof *e);
}

void catalog_import_categories_forget(catalog_import_categories *cs)
{
    for (size_t i = 0; i < cs->cap; i++)
        entry_clear(&cs->slots[i]);
    cs->count = 0;
}

void catalog_import_categories_free(catalog_import_categories *cs)
{
    if (!cs)
        return;
    if (cs->slots)
        catalog_import_categories_forget(cs);
    free(cs->slots);
    free(cs); /* the statements are the host's (db_prepare) */
}

int catalog_import_categories_renamed(catalog_import_categories *cs)
{
    return cs->renamed;
}

/* ------------------------------------------------------------------ cache */

static size_t slug_hash(const char *s)
{
    size_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static cat_entry *slot_for(cat_entry *slots, size_t cap, const char *slug)
{
    for (size_t i = slug_hash(slug) & (cap - 1);; i = (i + 1) & (cap - 1))
        if (!slots[i].slug || strcmp(slots[i].slug, slug) == 0)
            return &slots[i];
}

static cat_entry *cache_add(catalog_import_categories *cs, const char *slug)
{
    if ((cs->count + 1) * 2 > cs->cap) {
        size_t cap = cs->cap * 2;
        cat_entry *slots = calloc(cap, sizeof *slots);
        if (!slots)
            return NULL;
        for (size_t i = 0; i < cs->cap; i++)
            if (cs->slots[i].slug)
                *slot_for(slots, cap, cs->slots[i].slug) = cs->slots[i];
        free(cs->slots);
        cs->slots = slots;
        cs->cap = cap;
    }
    cat_entry *e = slot_for(cs->slots, cs->cap, slug);
    if (!(e->slug = strdup(slug)))
        return NULL;
    cs->count++;
    return e;
}

static int db_failed(catalog_import *im, int line, const char *what)
{
    catalog_import_fatal(im, line, "%s: %s", what, sqlite3_errmsg(catalog_api->db(im->ctx)));
    return SOUK_ERR;
}

/* The category slug from the cache or the store: *out NULL when there is none.
 * SOUK_ERR after a database failure. */
static int lookup(catalog_import *im, int line, const char *slug, cat_entry **out)
{
    catalog_import_categories *cs = im->cats;
    *out = NULL;
    cat_entry *e = slot_for(cs->slots, cs->cap, slug);
    if (e->slug) {
        *out = e;
        return SOUK_OK;
    }
    sqlite3_stmt *st = cs->sel;
    sqlite3_bind_text(st, 1, slug, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if (!(e = cache_add(cs, slug))) {
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            return db_failed(im, line, "out of memory");
        }
        e->id = sqlite3_column_int64(st, 0);
        e->parent_id = sqlite3_column_int64(st, 1);
        e->name[RU] = strdup((const char *)sqlite3_column_text(st, 2));
        e->name[EN] = strdup((const char *)sqlite3_column_text(st, 3));
        *out = e;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SOUK_OK
                                                 : db_failed(im, line, "reading categories");
}

/* The slug of a category id (for messages), or NULL. */
static char *slug_of(catalog_import *im, int64_t id)
{
    sqlite3_stmt *st = im->cats->sel_id;
    sqlite3_bind_int64(st, 1, id);
    char *slug = NULL;
    if (sqlite3_step(st) == SQLITE_ROW)
        slug = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return slug;
}

static int64_t parent_of(catalog_import *im, int64_t id)
{
    sqlite3_stmt *st = im->cats->sel_id;
    sqlite3_bind_int64(st, 1, id);
    int64_t parent = -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        parent = sqlite3_column_int64(st, 1);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return parent;
}

/* Each category touched by the import counts once: created, else updated, else
 * unchanged (a later change turns "unchanged" into "updated"). */
static void count_as(catalog_import *im, cat_entry *e, int kind)
{
    if (e->counted == kind || e->counted == COUNTED_CREATED || e->counted == COUNTED_UPDATED)
        return;
    if (kind == COUNTED_UNCHANGED && e->counted != NOT_COUNTED)
        return;
    if (e->counted == COUNTED_UNCHANGED)
        im->categories.unchanged--;
    e->counted = kind;
    if (kind == COUNTED_UPDATED)
        im->categories.updated++;
    else
        im->categories.unchanged++;
}

static int write_row(catalog_import *im, int line, cat_entry *e, int64_t position)
{
    sqlite3_stmt *st = im->cats->upd;
    sqlite3_bind_int64(st, 1, e->id);
    sqlite3_bind_int64(st, 2, e->parent_id);
    sqlite3_bind_int64(st, 3, position);
    sqlite3_bind_text(st, 4, e->name[RU], -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, e->name[EN], -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? SOUK_OK : db_failed(im, line, "updating a category");
}

static int insert_row(catalog_import *im, int line, const char *slug, int64_t parent,
                      int64_t position, const char *ru, const char *en, cat_entry **out)
{
    const souk_host_api *api = catalog_api;
    sqlite3_stmt *st = im->cats->ins;
    sqlite3_bind_text(st, 1, slug, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, parent);
    if (position >= 0)
        sqlite3_bind_int64(st, 3, position);
    sqlite3_bind_text(st, 4, ru, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, en, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE)
        return db_failed(im, line, "creating a category");
    cat_entry *e = cache_add(im->cats, slug);
    if (!e)
        return db_failed(im, line, "out of memory");
    e->id = sqlite3_last_insert_rowid(api->db(im->ctx));
    e->parent_id = parent;
    e->name[RU] = strdup(ru);
    e->name[EN] = strdup(en);
    e->counted = COUNTED_CREATED;
    im->categories.created++;
    *out = e;
    return SOUK_OK;
}

/* Apply the names given for a category (one per locale, NULL: none given).
 * Returns 1 when a stored name changed, 0 when not, -1 after reporting a
 * conflict with an earlier line of the file. */
static int apply_names(catalog_import *im, int line, cat_entry *e, const char *given[2],
                       const char *const field[2])
{
    int changed = 0;
    char q1[CATALOG_IMPORT_QUOTE_BUF], q2[CATALOG_IMPORT_QUOTE_BUF];
    for (int l = RU; l <= EN; l++) {
        if (!given[l])
            continue;
        int same = e->name[l] && strcmp(e->name[l], given[l]) == 0;
        if (!same && e->name_line[l] && e->name_line[l] != line) {
            catalog_import_error(im, line, "%s: '%s' names category '%s', which line %d named '%s'",
                                 field[l], catalog_import_quote(given[l], q1, sizeof q1), e->slug,
                                 e->name_line[l], catalog_import_quote(e->name[l], q2, sizeof q2));
            return -1;
        }
        if (!e->name_line[l])
            e->name_line[l] = line;
        if (!same) {
            char *copy = strdup(given[l]);
            if (!copy)
                return -1;
            free(e->name[l]);
            e->name[l] = copy;
            changed = 1;
        }
    }
    return changed;
}

/* ------------------------------------------------------------ product paths */

static void free_parts(char **parts, int n);

/* Split s at sep into at most max trimmed parts (malloc'ed copies); returns the
 * count, or -1 when there are more (or memory ran out). */
static int split(const char *s, char sep, char **parts, int max)
{
    int n = 0;
    for (const char *p = s;;) {
        const char *e = strchr(p, sep);
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (n == max || (n > 0 && !parts[n - 1])) {
            free_parts(parts, n);
            return -1;
        }
        while (len > 0 && (*p == ' ' || *p == '\t'))
            p++, len--;
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        parts[n++] = strndup(p, len);
        if (!e) {
            if (!parts[n - 1]) {
                free_parts(parts, n);
                return -1;
            }
            return n;
        }
        p = e + 1;
    }
}

static void free_parts(char **parts, int n)
{
    for (int i = 0; i < n; i++)
        free(parts[i]);
}

/* Names of the levels of a path from a " > " list: as many as the levels, or one
 * (the last level's).  names[i] NULL: not given.  SOUK_ERR after reporting. */
static int split_names(catalog_import *im, int line, const char *field, const char *list,
                       int levels, char **names)
{
    for (int i = 0; i < levels; i++)
        names[i] = NULL;
    if (!list)
        return SOUK_OK;
    char *parts[CATALOG_IMPORT_CATEGORY_DEPTH_MAX];
    int n = split(list, CATEGORY_NAMES_SEP, parts, CATALOG_IMPORT_CATEGORY_DEPTH_MAX);
    if (n != levels && n != 1) {
        catalog_import_error(im, line,
                             "%s: %d names for a path of %d categories (give one per "
                             "level, separated by '>', or only the last one's)",
                             field, n < 0 ? CATALOG_IMPORT_CATEGORY_DEPTH_MAX + 1 : n, levels);
        if (n > 0)
            free_parts(parts, n);
        return SOUK_ERR;
    }
    for (int i = 0; i < n; i++) {
        char *clean = NULL, why[CATALOG_IMPORT_REASON_MAX];
        if (catalog_import_clean_text(parts[i], CATALOG_IMPORT_TEXT_MAX, &clean, why, sizeof why) !=
                SOUK_OK ||
            !clean) {
            catalog_import_error(im, line, "%s: %s", field, clean ? why : "a name is empty");
            free(clean);
            free_parts(parts, n);
            for (int j = 0; j < levels; j++)
                free(names[j]), names[j] = NULL;
            return SOUK_ERR;
        }
        names[n == 1 ? levels - 1 : i] = clean;
    }
    free_parts(parts, n);
    return SOUK_OK;
}

int catalog_import_category_path(catalog_import *im, int line, const char *path,
                                 const char *names_ru, const char *names_en,
                                 catalog_field_mode names_mode, int64_t *id)
{
    char *slugs[CATALOG_IMPORT_CATEGORY_DEPTH_MAX], *names[2][CATALOG_IMPORT_CATEGORY_DEPTH_MAX];
    static const char *const field[2] = {"category_ru", "category_en"};
    char why[CATALOG_IMPORT_REASON_MAX], q[CATALOG_IMPORT_QUOTE_BUF];
    int levels = split(path, CATEGORY_PATH_SEP, slugs, CATALOG_IMPORT_CATEGORY_DEPTH_MAX);
    if (levels < 0) {
        catalog_import_error(im, line, "category: '%s' is deeper than %d levels",
                             catalog_import_quote(path, q, sizeof q),
                             CATALOG_IMPORT_CATEGORY_DEPTH_MAX);
        return SOUK_ERR;
    }
    int rc = SOUK_ERR, nnames = 0;
    for (int i = 0; i < levels; i++)
        if (catalog_import_check_slug(slugs[i], why, sizeof why) != SOUK_OK) {
            catalog_import_error(im, line, "category: %s", why);
            goto out;
        }
    if (split_names(im, line, field[RU], names_ru, levels, names[RU]) != SOUK_OK)
        goto out;
    if (split_names(im, line, field[EN], names_en, levels, names[EN]) != SOUK_OK) {
        for (int i = 0; i < levels; i++)
            free(names[RU][i]);
        goto out;
    }
    nnames = levels;

    int64_t parent = 0;
    for (int i = 0; i < levels; i++) {
        cat_entry *e;
        if (lookup(im, line, slugs[i], &e) != SOUK_OK)
            goto out;
        const char *given[2] = {names[RU][i], names[EN][i]};
        if (!e) {
            /* a new level: its names, the other locale's, or its slug's */
            char *human = catalog_import_humanize(slugs[i]);
            const char *ru = given[RU] ? given[RU] : given[EN] ? given[EN] : human;
            const char *en = given[EN] ? given[EN] : given[RU] ? given[RU] : human;
            int ok =
                human && insert_row(im, line, slugs[i], i ? parent : 0, -1, ru, en, &e) == SOUK_OK;
            free(human);
            if (!ok)
                goto out;
            for (int l = RU; l <= EN; l++)
                if (given[l] && names_mode == CATALOG_FIELD_SET)
                    e->name_line[l] = line;
        } else {
            if (i > 0 && e->parent_id != parent) {
                char *actual = e->parent_id ? slug_of(im, e->parent_id) : NULL;
                if (actual)
                    catalog_import_error(im, line, "category: '%s' is under '%s', not under '%s'",
                                         slugs[i], actual, slugs[i - 1]);
                else
                    catalog_import_error(im, line,
                                         "category: '%s' is a top-level category, not under '%s'",
                                         slugs[i], slugs[i - 1]);
                free(actual);
                goto out;
            }
            if (names_mode == CATALOG_FIELD_SET) {
                int changed = apply_names(im, line, e, given, field);
                if (changed < 0)
                    goto out;
                if (changed) {
                    sqlite3_stmt *st = im->cats->sel;
                    sqlite3_bind_text(st, 1, e->slug, -1, SQLITE_STATIC);
                    int64_t position =
                        sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 4) : 0;
                    sqlite3_reset(st);
                    sqlite3_clear_bindings(st);
                    if (write_row(im, line, e, position) != SOUK_OK)
                        goto out;
                    im->cats->renamed = 1;
                    count_as(im, e, COUNTED_UPDATED);
                }
            }
            count_as(im, e, COUNTED_UNCHANGED);
        }
        parent = e->id;
    }
    *id = parent;
    rc = SOUK_OK;
out:
    for (int i = 0; i < nnames; i++) {
        free(names[RU][i]);
        free(names[EN][i]);
    }
    free_parts(slugs, levels);
    return rc;
}

/* ------------------------------------------------------ categories section */

int catalog_import_category_upsert(catalog_import *im, catalog_import_category *c)
{
    int line = c->line;
    cat_entry *e, *parent = NULL;
    if (lookup(im, line, c->slug, &e) != SOUK_OK)
        return SOUK_ERR;
    if (c->parent_given && c->parent) {
        if (lookup(im, line, c->parent, &parent) != SOUK_OK)
            return SOUK_ERR;
        if (!parent) {
            catalog_import_error(im, line,
                                 "parent: there is no category '%s' (define parents "
                                 "before their children)",
                                 c->parent);
            return SOUK_ERR;
        }
    }
    int64_t parent_id = parent ? parent->id : 0;
    const char *given[2] = {c->name_ru.text, c->name_en.text};

    if (!e) {
        char *human = catalog_import_humanize(c->slug);
        const char *ru = given[RU] ? given[RU] : given[EN] ? given[EN] : human;
        const char *en = given[EN] ? given[EN] : given[RU] ? given[RU] : human;
        int rc = human ? insert_row(im, line, c->slug, c->parent_given ? parent_id : 0, c->position,
                                    ru, en, &e)
                       : db_failed(im, line, "out of memory");
        free(human);
        if (rc == SOUK_OK) {
            e->name_line[RU] = c->name_ru.mode == CATALOG_FIELD_SET ? line : 0;
            e->name_line[EN] = c->name_en.mode == CATALOG_FIELD_SET ? line : 0;
        }
        return rc;
    }

    /* an existing one: parent (no cycles), names, position */
    int changed = 0;
    if (c->parent_given && parent_id != e->parent_id) {
        for (int64_t up = parent_id, steps = 0; up > 0; up = parent_of(im, up), steps++) {
            if (up == e->id || steps > CATEGORY_WALK_MAX) {
                catalog_import_error(im, line,
                                     "parent: '%s' is inside '%s' (a category cannot "
                                     "be its own ancestor)",
                                     c->parent, c->slug);
                return SOUK_ERR;
            }
        }
        e->parent_id = parent_id;
        changed = 1;
    }
    const char *set[2] = {c->name_ru.mode == CATALOG_FIELD_SET ? given[RU] : NULL,
                          c->name_en.mode == CATALOG_FIELD_SET ? given[EN] : NULL};
    static const char *const field[2] = {"name_ru", "name_en"};
    int named = apply_names(im, line, e, set, field);
    if (named < 0)
        return SOUK_ERR;
    sqlite3_stmt *st = im->cats->sel;
    sqlite3_bind_text(st, 1, c->slug, -1, SQLITE_STATIC);
    int64_t position = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 4) : 0;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (c->position >= 0 && c->position != position) {
        position = c->position;
        changed = 1;
    }
    if (changed || named) {
        if (write_row(im, line, e, position) != SOUK_OK)
            return SOUK_ERR;
        im->cats->renamed = 1;
        count_as(im, e, COUNTED_UPDATED);
    } else {
        count_as(im, e, COUNTED_UNCHANGED);
    }
    return SOUK_OK;
}
