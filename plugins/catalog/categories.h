/* categories.h -- the category tree, category paths and catalog URLs, shared by
 * products.c and categories.c (private to the catalog plugin; catalog_category_id
 * and catalog_category_subtree are in catalog_internal.h). */
#ifndef CATALOG_CATEGORIES_H
#define CATALOG_CATEGORIES_H

#include "catalog_internal.h"

/* A tree deeper than this is cut there; it also ends a parent cycle in bad data. */
#define CATALOG_CATEGORY_DEPTH_MAX 32

/* prefix + slug as a JSON string, the slug percent-encoded as one path segment
 * unless it is all unreserved characters ("/c/kettles") (yours). */
json_t *catalog_url_json(souk_ctx *ctx, const char *prefix, const char *slug);

/* For every category id in ids (a JSON array text such as "[3,7]"), its path from
 * the root: {"<id>": [{"slug", "name", "url"}, ...]} (yours); NULL on a database
 * error (logged). */
json_t *catalog_category_paths(souk_ctx *ctx, const char *ids);

/* The whole category tree (yours): the top-level categories in order of position
 * then name, each a category shape with its children.  When find is a category
 * id, *found gets a copy of that category's shape (yours) with "path": [{"slug",
 * "name", "url"}] from the root to it, or stays NULL when there is none.  NULL
 * after filling the error view. */
json_t *catalog_category_tree(souk_ctx *ctx, int64_t find, json_t **found);

#endif
