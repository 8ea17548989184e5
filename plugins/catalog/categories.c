/* categories.c -- the category tree with product counts, category paths, lookups
 * by slug and subtrees (categories.h, catalog_internal.h), and the handler of
 * GET /api/v1/categories.
 *
 * Categories are few (dozens, hundreds at most) and every page wants the tree, so
 * it is read in one statement, counts included, and assembled in C. */
#include "categories.h"

#include <stdlib.h>
#include <string.h>

#define ID_TEXT_MAX 24 /* an int64 in decimal, with sign and NUL */

static const char *col_text(sqlite3_stmt *st, int col)
{
    const char *s = (const char *)sqlite3_column_text(st, col);
    return s ? s : "";
}

static void db_failed(souk_ctx *ctx, const char *what)
{
    catalog_api->log(catalog_self, SOUK_LOG_ERROR, "cannot read %s: %s", what,
                     sqlite3_errmsg(catalog_api->db(ctx)));
    catalog_api->res_error(ctx, 500, "db", catalog_api->format(ctx, "cannot read %s", what),
                           NULL);
}

/* -------------------------------------------------------------------- URLs */

/* s as one URL path segment: percent-encoded unless it is all unreserved
 * characters, as slugs normally are (arena or s itself). */
static const char *url_segment(souk_ctx *ctx, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s), plain = strspn(s, "abcdefghijklmnopqrstuvwxyz"
                                            "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~");
    if (plain == n)
        return s;
    char *out = catalog_api->alloc(ctx, n * 3 + 1), *o = out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (strchr("-._~", *p) || (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
            (*p >= 'A' && *p <= 'Z')) {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        }
    }
    *o = '\0';
    return out;
}

json_t *catalog_url_json(souk_ctx *ctx, const char *prefix, const char *slug)
{
    return json_string(catalog_api->format(ctx, "%s%s", prefix, url_segment(ctx, slug)));
}

/* ------------------------------------------------------------------- paths */

json_t *catalog_category_paths(souk_ctx *ctx, const char *ids)
{
    const char *lang = catalog_lang(ctx);
    sqlite3_stmt *st = catalog_api->db_prepare(
        ctx, catalog_api->format(
                 ctx,
                 "WITH RECURSIVE up(cid, id, depth) AS ("
                 "  SELECT c.id, c.id, 0 FROM catalog_categories c"
                 "   WHERE c.id IN (SELECT value FROM json_each(?1))"
                 "  UNION ALL"
                 "  SELECT up.cid, c.parent_id, up.depth + 1 FROM up"
                 "   JOIN catalog_categories c ON c.id = up.id"
                 "   WHERE c.parent_id IS NOT NULL AND up.depth < ?2)"
                 " SELECT up.cid, c.slug, c.name_%s FROM up"
                 " JOIN catalog_categories c ON c.id = up.id"
                 " ORDER BY up.cid, up.depth DESC",
                 lang));
    if (!st)
        return NULL;
    sqlite3_bind_text(st, 1, ids, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, CATALOG_CATEGORY_DEPTH_MAX);
    json_t *paths = json_object();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char key[ID_TEXT_MAX];
        snprintf(key, sizeof key, "%lld", (long long)sqlite3_column_int64(st, 0));
        json_t *path = json_object_get(paths, key);
        if (!path) {
            path = json_array();
            json_object_set_new(paths, key, path);
        }
        const char *slug = col_text(st, 1);
        json_array_append_new(path, json_pack("{s:s, s:s, s:o}", "slug", slug, "name",
                                              col_text(st, 2), "url",
                                              catalog_url_json(ctx, "/c/", slug)));
    }
    if (rc != SQLITE_DONE) {
        json_decref(paths);
        return NULL;
    }
    return paths;
}

/* ----------------------------------------------------------- lookups, tree */

int64_t catalog_category_id(souk_ctx *ctx, const char *slug)
{
    if (!slug)
        return 0;
    sqlite3_stmt *st = catalog_api->db_prepare(
        ctx, "SELECT id FROM catalog_categories WHERE slug = ?1");
    if (!st)
        return 0;
    sqlite3_bind_text(st, 1, slug, -1, SQLITE_STATIC);
    return sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
}

int64_t *catalog_category_subtree(souk_ctx *ctx, int64_t id, int *n)
{
    *n = 0;
    /* UNION (not UNION ALL) drops rows already seen, so even a cycle in bad data
     * ends. */
    sqlite3_stmt *st = catalog_api->db_prepare(
        ctx, "WITH RECURSIVE sub(id) AS ("
             "  SELECT id FROM catalog_categories WHERE id = ?1"
             "  UNION"
             "  SELECT c.id FROM catalog_categories c JOIN sub ON c.parent_id = sub.id)"
             " SELECT id FROM sub");
    if (!st)
        return catalog_api->alloc(ctx, sizeof(int64_t));
    sqlite3_bind_int64(st, 1, id);
    int cap = 16, count = 0;
    int64_t *out = catalog_api->alloc(ctx, (size_t)cap * sizeof *out);
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (count == cap) {
            int64_t *g = catalog_api->alloc(ctx, (size_t)cap * 2 * sizeof *g);
            memcpy(g, out, (size_t)cap * sizeof *g);
            out = g;
            cap *= 2;
        }
        out[count++] = sqlite3_column_int64(st, 0);
    }
    *n = count;
    return out;
}

typedef struct cat_node {
    int64_t id, parent_id, position, direct; /* direct: active products in it */
    const char *slug, *name;                 /* arena */
    int parent;                              /* index, -1 for a root */
    int first_child, last_child, next;       /* indexes, -1 for none */
    json_t *json;                            /* its shape in the tree (borrowed) */
} cat_node;

typedef struct cat_index {
    int64_t id;
    int at;
} cat_index;

static int cat_index_cmp(const void *a, const void *b)
{
    const cat_index *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* The category shape of node i with its subtree; *total gets the active products
 * of the subtree. */
static json_t *cat_shape(souk_ctx *ctx, cat_node *nodes, int i, int depth, int64_t *total)
{
    cat_node *c = &nodes[i];
    json_t *children = json_array();
    int64_t sum = c->direct;
    if (depth < CATALOG_CATEGORY_DEPTH_MAX) {
        for (int k = c->first_child; k >= 0; k = nodes[k].next) {
            int64_t sub = 0;
            json_array_append_new(children, cat_shape(ctx, nodes, k, depth + 1, &sub));
            sum += sub;
        }
    }
    c->json = json_pack("{s:s, s:s, s:o, s:s?, s:I, s:I, s:o}", "slug", c->slug, "name",
                        c->name, "url", catalog_url_json(ctx, "/c/", c->slug), "parent",
                        c->parent >= 0 ? nodes[c->parent].slug : NULL, "position",
                        (json_int_t)c->position, "count", (json_int_t)sum, "children",
                        children);
    *total = sum;
    return c->json;
}

json_t *catalog_category_tree(souk_ctx *ctx, int64_t find, json_t **found)
{
    const char *lang = catalog_lang(ctx);
    sqlite3_stmt *st = catalog_api->db_prepare(
        ctx, catalog_api->format(
                 ctx,
                 "SELECT c.id, c.parent_id, c.position, c.slug, c.name_%s, coalesce(n.n, 0)"
                 " FROM catalog_categories c LEFT JOIN"
                 " (SELECT category_id, count(*) AS n FROM catalog_products"
                 "   WHERE status = 'active' GROUP BY category_id) n"
                 "  ON n.category_id = c.id"
                 " ORDER BY c.position, c.name_%s, c.id",
                 lang, lang));
    if (found)
        *found = NULL;
    if (!st) {
        db_failed(ctx, "the categories");
        return NULL;
    }
    int n = 0, cap = 0, rc;
    cat_node *nodes = NULL;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            cat_node *g = realloc(nodes, (size_t)cap * sizeof *g);
            if (!g) {
                free(nodes);
                catalog_api->res_error(ctx, 500, "memory", "out of memory", NULL);
                return NULL;
            }
            nodes = g;
        }
        cat_node *c = &nodes[n++];
        c->id = sqlite3_column_int64(st, 0);
        c->parent_id = sqlite3_column_type(st, 1) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 1);
        c->position = sqlite3_column_int64(st, 2);
        c->slug = catalog_api->dup(ctx, col_text(st, 3));
        c->name = catalog_api->dup(ctx, col_text(st, 4));
        c->direct = sqlite3_column_int64(st, 5);
        c->parent = c->first_child = c->last_child = c->next = -1;
        c->json = NULL;
    }
    if (rc != SQLITE_DONE) {
        free(nodes);
        db_failed(ctx, "the categories");
        return NULL;
    }
    /* Link children to parents, keeping the query's order among siblings. */
    cat_index *idx = catalog_api->alloc(ctx, (size_t)(n ? n : 1) * sizeof *idx);
    for (int i = 0; i < n; i++)
        idx[i] = (cat_index){nodes[i].id, i};
    qsort(idx, (size_t)n, sizeof *idx, cat_index_cmp);
    for (int i = 0; i < n; i++) {
        cat_index key = {nodes[i].parent_id, 0};
        cat_index *p = nodes[i].parent_id && n
                           ? bsearch(&key, idx, (size_t)n, sizeof *idx, cat_index_cmp)
                           : NULL;
        if (!p || p->at == i)
            continue; /* a root (or a parent that does not exist: shown as a root) */
        nodes[i].parent = p->at;
        cat_node *parent = &nodes[p->at];
        if (parent->last_child < 0)
            parent->first_child = i;
        else
            nodes[parent->last_child].next = i;
        parent->last_child = i;
    }
    json_t *roots = json_array();
    for (int i = 0; i < n; i++) {
        if (nodes[i].parent < 0) {
            int64_t total;
            json_array_append_new(roots, cat_shape(ctx, nodes, i, 0, &total));
        }
    }
    for (int i = 0; found && i < n; i++) {
        if (nodes[i].id != find)
            continue;
        /* A category caught in a parent cycle is in no tree: shape it alone. */
        int64_t total;
        json_t *shape = nodes[i].json ? json_deep_copy(nodes[i].json)
                                      : cat_shape(ctx, nodes, i, CATALOG_CATEGORY_DEPTH_MAX, &total);
        json_t *path = json_array();
        int depth = 0;
        for (int k = i; k >= 0 && depth < CATALOG_CATEGORY_DEPTH_MAX; k = nodes[k].parent, depth++)
            json_array_insert_new(path, 0,
                                  json_pack("{s:s, s:s, s:o}", "slug", nodes[k].slug, "name",
                                            nodes[k].name, "url",
                                            catalog_url_json(ctx, "/c/", nodes[k].slug)));
        json_object_set_new(shape, "path", path);
        *found = shape;
        break;
    }
    free(nodes);
    return roots;
}

/* ---------------------------------------------------------------- handler */

int catalog_h_categories(souk_ctx *ctx)
{
    json_t *tree = catalog_category_tree(ctx, 0, NULL);
    if (!tree)
        return SOUK_ERR;
    json_object_set_new(catalog_api->view(ctx), "categories", tree);
    catalog_cache(ctx);
    return SOUK_OK;
}
