/* listing_set.h -- the candidate set of a listing (listing_set.c).
 *
 * A candidate set is every active product that passes a listing's database
 * filters (search text, category subtree, brand, in stock), in the listing's base
 * order, with each candidate's brand and category and the counts of both over the
 * whole set.  listing.c builds pages, facets and price filters on top of it.
 *
 * Sets are kept in a small per-worker cache: the same listing asked again (the
 * category page, the next page, another sort) costs no scan.  A cached set is
 * used only while the database is exactly as it was when the set was read --
 * SQLite's data_version (commits by other connections) and this connection's
 * total_changes (its own writes) are both unchanged -- so a cached set is never
 * stale, and workers share nothing. */
#ifndef CATALOG_LISTING_SET_H
#define CATALOG_LISTING_SET_H

#include "catalog_internal.h"

#include <stdint.h>

/* What the database filters on.  Every string is borrowed for the call. */
typedef struct catalog_set_filter {
    const char *match;    /* safe FTS5 query (listing.c), or NULL: no search */
    const char *subtree;  /* category ids as a JSON array text, or NULL: any */
    const char *brand;    /* exact brand, or NULL: any */
    int in_stock;         /* only products with a variant in stock */
    int by_relevance;     /* base order: bm25 first (with a match), else newest */
} catalog_set_filter;

typedef struct catalog_set_category {
    int64_t id;
    char *slug, *name_ru, *name_en;
} catalog_set_category;

typedef struct catalog_set {
    int n;                      /* candidates */
    int64_t *ids;               /* base order: bm25 then newest (by_relevance),
                                   or newest */
    int32_t *brand;             /* per candidate: index into brands, -1: no brand */
    int32_t *category;          /* per candidate: index into categories */
    int n_brands;
    char **brands;
    int *brand_count;           /* candidates per brand */
    int n_categories;
    catalog_set_category *categories;
    int *category_count;        /* candidates per category */
} catalog_set;

/* The candidate set for filter (borrowed from the cache: valid until the next
 * catalog_set_get of this worker; never free it).  SOUK_ERR after filling the
 * error view.  When FTS5 refused the query (it should not: listing.c quotes
 * every word) *fts_failed is set and an empty set is returned: a search problem
 * is an empty answer, not a 500. */
int catalog_set_get(souk_ctx *ctx, const catalog_set_filter *filter, const catalog_set **out,
                    int *fts_failed);

/* The database's version as this connection sees it: SQLite's data_version
 * (commits by other connections) and this connection's total_changes (its own
 * writes).  Anything derived from the database while both stay the same is
 * still exact.  0 when known, -1 when not (then trust nothing cached). */
int catalog_db_stamp(souk_ctx *ctx, int64_t *version, int64_t *changes);

#endif
