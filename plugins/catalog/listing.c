/* listing.c -- listing and search: parameters, full-text query, filters, sort,
 * facets, pages; and the prefix suggestions of the search box.
 *
 * A listing starts from its candidate set (listing_set.h): every active product
 * that passes the filters the database applies -- the FTS5 match, category
 * subtree, in stock -- in the base order (relevance, then newest, with a search
 * text not sorted by "newest"; newest otherwise), with brand and category counts.
 * The set is read with one SQL statement, or comes from the worker's cache.  The
 * brand is not one of those filters: the brand facet is "disjunctive" -- with a
 * brand chosen it still lists the other brands, each with the count it would
 * have (every filter but the brand), so that a shopper can switch brand without
 * starting over -- and the set without the brand is what it is counted on.  The
 * same set then serves the listing of every brand.  Then, in C:
 *
 *   - Without a brand, a price bound or a price sort, the page is a slice of the
 *     set and only its products become cards (catalog_cards: one pricing.lua call
 *     for at most per_page products).  The facets are the set's counts.
 *   - With a brand alone, the result is the set's candidates of that brand, in
 *     the base order; again only the page is priced.
 *   - Prices are displayed prices -- what pricing.lua makes of each variant, for
 *     this customer, now -- which SQL cannot know.  With a price bound, every
 *     candidate needs its price (the bounds decide the other brands' counts
 *     too); with a price sort alone, every candidate of the chosen brand.  A
 *     guest's come from the worker's price table (see "price table" below: the
 *     whole catalog priced once, reused for up to cache_ms while the database
 *     is unchanged); a signed-in customer's candidates all become cards (one
 *     script call).  Then the candidates are filtered by the bounds, counted for
 *     the brand facet, filtered by the brand, sorted (stable: ties keep the base
 *     order), counted for the category facet and paged.  A product without a
 *     price (no variant) fails every bound and sorts last.
 *
 * The category facet counts the result, brand included, and keeps the category
 * filter: on a category page it lists the categories under it.
 *
 * Safety of the search text: the user's words never reach MATCH as FTS5 syntax.
 * The text is cut into words (runs of letters and digits); each word becomes an
 * FTS5 string ("..."), and the strings are joined with AND.  Text without a word
 * ("***", "\"", "--") runs no query at all: the list is empty and
 * "query_message" says why. */
#include "listing_set.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define LISTING_FACET_MAX 30      /* entries per facet (the selected one always shown) */
#define LISTING_PAGES_AROUND 2    /* pages_list: first, last, and current +- this */
#define LISTING_ID_TEXT_MAX 24    /* an int64 in decimal, sign and NUL included */
#define LISTING_HREF_FIXED 128    /* bytes of a link's parameter names, '?', '&', '=' */
/* Minor units in a whole unit of the store's currency (RUB, as pricing.c's
 * context.currency): price_from/price_to of the filter form are whole roubles. */
#define LISTING_MINOR_PER_UNIT 100
#define LISTING_TABLE_FIRST_CAP 256 /* first allocation of the price table's ids */
/* Suggestions rank a match in the request's language above one in the other. */
#define SUGGEST_WEIGHT_OWN "2.0"
#define SUGGEST_WEIGHT_OTHER "1.0"

/* ------------------------------------------------------------------ helpers */

static json_t *str_or_null(const char *s)
{
    json_t *v = s ? json_string(s) : NULL;
    return v ? v : json_null();
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* s without leading and trailing ASCII white space (arena), or NULL when nothing
 * is left. */
static const char *trimmed(souk_ctx *ctx, const char *s)
{
    if (!s)
        return NULL;
    while (is_space(*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && is_space(s[n - 1]))
        n--;
    if (n == 0)
        return NULL;
    char *out = catalog_api->alloc(ctx, n + 1);
    memcpy(out, s, n);
    out[n] = '\0';
    return out;
}

/* A non-negative decimal integer, digits only, at most max.  0 on success. */
static int parse_count(const char *s, int64_t max, int64_t *out)
{
    int64_t v = 0;
    if (!s || !*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        int d = *s - '0';
        if (v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* The code point at s (UTF-8; the request parser has validated it): its length
 * in bytes, and whether it can be part of a word.  ASCII: letters and digits
 * only.  Beyond ASCII: everything but the punctuation and symbol blocks that
 * shoppers type (quotes, dashes, «», №, currency, arrows, emoji ...), which
 * FTS5's unicode61 does not make tokens of either.  A rarer symbol taken for a
 * letter only makes a word that matches nothing; it can never make an error. */
static int code_point(const unsigned char *s, int *word)
{
    unsigned cp;
    int len;
    if (s[0] < 0x80) {
        *word = (s[0] >= '0' && s[0] <= '9') || (s[0] >= 'a' && s[0] <= 'z') ||
                (s[0] >= 'A' && s[0] <= 'Z');
        return 1;
    }
    if ((s[0] & 0xE0) == 0xC0 && s[1]) {
        cp = ((s[0] & 0x1Fu) << 6) | (s[1] & 0x3Fu);
        len = 2;
    } else if ((s[0] & 0xF0) == 0xE0 && s[1] && s[2]) {
        cp = ((s[0] & 0x0Fu) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3Fu);
        len = 3;
    } else if ((s[0] & 0xF8) == 0xF0 && s[1] && s[2] && s[3]) {
        cp = ((s[0] & 0x07u) << 18) | ((s[1] & 0x3Fu) << 12) | ((s[2] & 0x3Fu) << 6) |
             (s[3] & 0x3Fu);
        len = 4;
    } else {
        *word = 0;      /* a stray byte: a separator */
        return 1;
    }
    static const struct { unsigned lo, hi; } symbols[] = {
        {0x0080, 0x00BF}, {0x00D7, 0x00D7}, {0x00F7, 0x00F7},  /* Latin-1 signs, ×, ÷ */
        {0x2000, 0x206F}, {0x20A0, 0x20CF}, {0x2116, 0x2116},  /* punctuation, ₽, № */
        {0x2190, 0x2BFF}, {0x3000, 0x303F}, {0xFE00, 0xFE0F},  /* arrows..., CJK, VS */
        {0xFE30, 0xFE4F}, {0xFF01, 0xFF0F}, {0xFFF0, 0xFFFF},
        {0x1F000, 0x1FAFF},                                     /* emoji and pictographs */
    };
    *word = 1;
    for (size_t i = 0; i < sizeof symbols / sizeof *symbols; i++)
        if (cp >= symbols[i].lo && cp <= symbols[i].hi)
            *word = 0;
    return len;
}

/* The user's text as a safe FTS5 query: each word (a run of word characters) a
 * quoted string, followed by "*" when prefix, joined with " AND ".  NULL when the
 * text has no word.  Words contain no '"' by construction; the quoting is what
 * makes AND, OR, NOT, NEAR, ':' and '^' plain text (arena). */
static const char *fts_query(souk_ctx *ctx, const char *text, int prefix)
{
    size_t n = strlen(text);
    /* Each word costs at most its own bytes + 2 quotes + '*' + " AND ". */
    char *out = catalog_api->alloc(ctx, n * 9 + 1), *o = out;
    const unsigned char *s = (const unsigned char *)text;
    int in_word = 0;
    while (*s) {
        int word, len = code_point(s, &word);
        if (word && !in_word) {
            if (o != out) {
                memcpy(o, " AND ", 5);
                o += 5;
            }
            *o++ = '"';
            in_word = 1;
        } else if (!word && in_word) {
            *o++ = '"';
            if (prefix)
                *o++ = '*';
            in_word = 0;
        }
        if (word)
            o = (char *)memcpy(o, s, (size_t)len) + len;
        s += len;
    }
    if (in_word) {
        *o++ = '"';
        if (prefix)
            *o++ = '*';
    }
    *o = '\0';
    return o == out ? NULL : out;
}

/* "[1,2,3]" for json_each(?) (arena). */
static const char *ids_json(souk_ctx *ctx, const int64_t *ids, int n)
{
    char *out = catalog_api->alloc(ctx, (size_t)n * LISTING_ID_TEXT_MAX + 3), *o = out;
    *o++ = '[';
    for (int i = 0; i < n; i++)
        o += sprintf(o, "%s%lld", i ? "," : "", (long long)ids[i]);
    *o++ = ']';
    *o = '\0';
    return out;
}

static const char *sort_name(catalog_sort s)
{
    switch (s) {
    case CATALOG_SORT_PRICE_ASC: return "price_asc";
    case CATALOG_SORT_PRICE_DESC: return "price_desc";
    case CATALOG_SORT_NEWEST: return "newest";
    default: return "relevance";
    }
}

/* ---------------------------------------------------------------- parameters */

static int bad(souk_ctx *ctx, const char *field, const char *message)
{
    return catalog_api->res_error(ctx, 400, "invalid", message, field);
}

/* A text parameter: trimmed, NULL when empty, at most CATALOG_QUERY_MAX bytes. */
static int text_param(souk_ctx *ctx, const char *name, const char *raw, const char **out)
{
    *out = trimmed(ctx, raw);
    if (*out && strlen(*out) > CATALOG_QUERY_MAX)
        return bad(ctx, name, catalog_api->format(ctx, "%s is longer than %d bytes", name,
                                                  CATALOG_QUERY_MAX));
    return SOUK_OK;
}

/* A price bound: name in minor units (the API: min_price, max_price), or else
 * alt in whole units of the store's currency (the page's filter form, where
 * people type roubles: price_from, price_to).  *out: minor units, -1: none;
 * *field: the parameter it came from. */
static int price_param(souk_ctx *ctx, const char *name, const char *alt, int64_t *out,
                       const char **field)
{
    const char *raw = trimmed(ctx, catalog_api->req_query(ctx, name));
    *out = -1;
    *field = name;
    if (raw) {
        if (parse_count(raw, INT64_MAX, out) != 0)
            return bad(ctx, name,
                       catalog_api->format(ctx, "%s must be a whole number of minor units "
                                                "(kopecks, cents), 0 or more", name));
        return SOUK_OK;
    }
    raw = trimmed(ctx, catalog_api->req_query(ctx, alt));
    if (!raw)
        return SOUK_OK;
    *field = alt;
    if (parse_count(raw, INT64_MAX / LISTING_MINOR_PER_UNIT, out) != 0)
        return bad(ctx, alt, catalog_api->format(ctx, "%s must be a whole number, 0 or more",
                                                 alt));
    *out *= LISTING_MINOR_PER_UNIT;
    return SOUK_OK;
}

int catalog_query_parse(souk_ctx *ctx, catalog_query *q)
{
    const souk_host_api *api = catalog_api;
    memset(q, 0, sizeof *q);
    q->base_href = api->req_path(ctx);
    if (!q->base_href)
        q->base_href = "/search";

    if (text_param(ctx, "q", api->req_query(ctx, "q"), &q->q) != SOUK_OK ||
        text_param(ctx, "brand", api->req_query(ctx, "brand"), &q->brand) != SOUK_OK)
        return SOUK_ERR;

    /* /c/:slug names the category in the path; elsewhere ?category= may. */
    const char *route = api->req_param(ctx, "slug");
    if (text_param(ctx, "category", route ? route : api->req_query(ctx, "category"),
                   &q->category) != SOUK_OK)
        return SOUK_ERR;
    if (q->category && catalog_category_id(ctx, q->category) == 0) {
        const char *msg = api->format(ctx, "no category '%s'", q->category);
        return route ? api->res_error(ctx, 404, "not_found", msg, NULL)
                     : bad(ctx, "category", msg);
    }

    const char *min_field, *max_field;
    if (price_param(ctx, "min_price", "price_from", &q->min_price, &min_field) != SOUK_OK ||
        price_param(ctx, "max_price", "price_to", &q->max_price, &max_field) != SOUK_OK)
        return SOUK_ERR;
    if (q->min_price >= 0 && q->max_price >= 0 && q->min_price > q->max_price)
        return bad(ctx, min_field,
                   api->format(ctx, "%s is greater than %s", min_field, max_field));

    const char *stock = trimmed(ctx, api->req_query(ctx, "in_stock"));
    if (!stock || strcmp(stock, "0") == 0 || strcmp(stock, "false") == 0)
        q->in_stock = 0;
    else if (strcmp(stock, "1") == 0 || strcmp(stock, "true") == 0)
        q->in_stock = 1;
    else
        return bad(ctx, "in_stock", "in_stock must be 1, 0, true or false");

    const char *sort = trimmed(ctx, api->req_query(ctx, "sort"));
    q->sort = q->q ? CATALOG_SORT_RELEVANCE : CATALOG_SORT_NEWEST;
    if (sort) {
        static const catalog_sort all[] = {CATALOG_SORT_RELEVANCE, CATALOG_SORT_PRICE_ASC,
                                           CATALOG_SORT_PRICE_DESC, CATALOG_SORT_NEWEST};
        size_t i = 0;
        while (i < sizeof all / sizeof *all && strcmp(sort, sort_name(all[i])) != 0)
            i++;
        if (i == sizeof all / sizeof *all)
            return bad(ctx, "sort", "sort must be relevance, price_asc, price_desc or newest");
        q->sort = all[i];
    }
    /* Relevance needs a search text; without one the newest come first. */
    if (q->sort == CATALOG_SORT_RELEVANCE && !q->q)
        q->sort = CATALOG_SORT_NEWEST;

    int64_t v;
    const char *page = trimmed(ctx, api->req_query(ctx, "page"));
    q->page = 1;
    if (page) {
        if (parse_count(page, INT_MAX, &v) != 0 || v < 1)
            return bad(ctx, "page", "page must be a whole number from 1");
        q->page = (int)v;
    }
    const char *per_page = trimmed(ctx, api->req_query(ctx, "per_page"));
    q->per_page = CATALOG_PER_PAGE_DEFAULT;
    if (per_page) {
        if (parse_count(per_page, CATALOG_PER_PAGE_MAX, &v) != 0 || v < 1)
            return bad(ctx, "per_page",
                       api->format(ctx, "per_page must be from 1 to %d", CATALOG_PER_PAGE_MAX));
        q->per_page = (int)v;
    }
    return SOUK_OK;
}

/* --------------------------------------------------------------------- hrefs */

/* Appends value percent-encoded (all but the unreserved characters), for a query
 * value or a path segment.  Needs 3 * strlen(value) bytes. */
static char *put_escaped(char *o, const char *value)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *s = (const unsigned char *)value; *s; s++) {
        if ((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
            *s == '-' || *s == '.' || *s == '_' || *s == '~') {
            *o++ = (char)*s;
        } else {
            *o++ = '%';
            *o++ = hex[*s >> 4];
            *o++ = hex[*s & 15];
        }
    }
    return o;
}

/* Appends "?key=value" or "&key=value" to a query string being built. */
static char *put_param(char *o, int *first, const char *key, const char *value)
{
    *o++ = *first ? '?' : '&';
    *first = 0;
    size_t k = strlen(key);
    memcpy(o, key, k);
    o += k;
    *o++ = '=';
    return put_escaped(o, value);
}

typedef struct listing_links {
    const catalog_query *q;
    const char *route_category; /* the category is the path's /c/:slug */
} listing_links;

/* The link to this listing with category, brand and page replaced (arena).  The
 * other parameters are kept; defaults are left out.  On a /c/:slug page the
 * category is the path: choosing another goes to its /c/ page, clearing it goes
 * to /search. */
static const char *list_href(souk_ctx *ctx, const listing_links *l, const char *category,
                             const char *brand, int page)
{
    const catalog_query *q = l->q;
    char num[3][LISTING_ID_TEXT_MAX];
    const char *path = q->base_href;
    const char *cat_param = category;
    if (l->route_category) {
        path = category ? "/c/" : "/search";
        cat_param = NULL;
    }
    size_t bound = strlen(path) + (l->route_category && category ? strlen(category) * 3 : 0) +
                   (q->q ? strlen(q->q) * 3 : 0) + (cat_param ? strlen(cat_param) * 3 : 0) +
                   (brand ? strlen(brand) * 3 : 0) + 4 * LISTING_ID_TEXT_MAX + LISTING_HREF_FIXED;
    char *out = catalog_api->alloc(ctx, bound), *o = out;
    size_t n = strlen(path);
    memcpy(o, path, n);
    o += n;
    int first = 1;
    if (l->route_category && category)
        o = put_escaped(o, category);
    if (q->q)
        o = put_param(o, &first, "q", q->q);
    if (cat_param)
        o = put_param(o, &first, "category", cat_param);
    if (brand)
        o = put_param(o, &first, "brand", brand);
    if (q->min_price >= 0) {
        snprintf(num[0], sizeof num[0], "%lld", (long long)q->min_price);
        o = put_param(o, &first, "min_price", num[0]);
    }
    if (q->max_price >= 0) {
        snprintf(num[1], sizeof num[1], "%lld", (long long)q->max_price);
        o = put_param(o, &first, "max_price", num[1]);
    }
    if (q->in_stock)
        o = put_param(o, &first, "in_stock", "1");
    catalog_sort def = q->q ? CATALOG_SORT_RELEVANCE : CATALOG_SORT_NEWEST;
    if (q->sort != def)
        o = put_param(o, &first, "sort", sort_name(q->sort));
    if (q->per_page != CATALOG_PER_PAGE_DEFAULT) {
        snprintf(num[2], sizeof num[2], "%d", q->per_page);
        o = put_param(o, &first, "per_page", num[2]);
    }
    if (page > 1) {
        char p[LISTING_ID_TEXT_MAX];
        snprintf(p, sizeof p, "%d", page);
        o = put_param(o, &first, "page", p);
    }
    *o = '\0';
    return out;
}

/* ------------------------------------------------------------------ pricing */

/* A candidate of a filtered or priced listing. */
typedef struct priced {
    int pos;             /* index in the set: its place in the base order */
    int card;            /* index in the listing's priced cards; -1: not priced */
    int64_t price;       /* displayed amount; -1: none (no variant, or not priced) */
} priced;

static int by_price_asc(const void *a, const void *b)
{
    const priced *x = a, *y = b;
    if ((x->price < 0) != (y->price < 0))
        return x->price < 0 ? 1 : -1;        /* unpriced last */
    if (x->price != y->price)
        return x->price < y->price ? -1 : 1;
    return x->pos - y->pos;                  /* ties keep the base order */
}

static int by_price_desc(const void *a, const void *b)
{
    const priced *x = a, *y = b;
    if ((x->price < 0) != (y->price < 0))
        return x->price < 0 ? 1 : -1;
    if (x->price != y->price)
        return x->price > y->price ? -1 : 1;
    return x->pos - y->pos;
}

/* Price the n candidates v of set with one catalog_cards call: each gets its
 * card's index and its displayed amount.  *cards (yours): the cards, in v's
 * order.  SOUK_ERR after the error view is filled (the pricing failed: never a
 * guessed price). */
static int price_candidates(souk_ctx *ctx, const catalog_set *set, priced *v, int n,
                            json_t **cards)
{
    int64_t *ids = catalog_api->alloc(ctx, (size_t)(n ? n : 1) * sizeof *ids);
    for (int i = 0; i < n; i++)
        ids[i] = set->ids[v[i].pos];
    json_t *c = catalog_cards(ctx, ids, n);
    if (!c)
        return SOUK_ERR;
    if (json_array_size(c) != (size_t)n) {
        /* One card per id is catalog_cards' contract; without it no price can be
         * matched to its product. */
        catalog_api->log(catalog_self, SOUK_LOG_ERROR, "listing: %zu cards for %d products",
                         json_array_size(c), n);
        json_decref(c);
        return catalog_api->res_error(ctx, 500, "internal", "cannot price the listing", NULL);
    }
    for (int i = 0; i < n; i++) {
        json_t *amount = json_object_get(json_object_get(json_array_get(c, (size_t)i),
                                                         "price"), "amount");
        v[i].card = i;
        v[i].price = json_is_integer(amount) ? json_integer_value(amount) : -1;
    }
    *cards = c;
    return SOUK_OK;
}

/* ------------------------------------------------------------- price table */

/* A guest's price sort or price bound needs the displayed price of every
 * candidate -- pricing.lua over thousands of variants, most of a second of CPU
 * on a big catalog -- and every different bound is a different query, which
 * the response cache cannot help with.  So each worker keeps, per locale, the
 * guest price of every active product (its cheapest variant as displayed,
 * priced with ONE script call through catalog_cards), and orders and filters
 * guests' listings by it while:
 *   - the database is exactly as it was when it was priced (catalog_db_stamp:
 *     the same test as the candidate sets'), and
 *   - it is younger than settings.catalog.cache_ms on the store clock (the
 *     response cache's promise: a rule on context.now, or a reloaded script,
 *     shows that late at most; with 0 the table is never used).
 * Signed-in customers are priced per request (member prices are theirs).  The
 * page's own cards are always priced fresh, so what a guest sees is exact;
 * only which products make the page, and their order, may be that old. */

#define PRICE_TABLE_LOCALES 2     /* catalog_lang's answers: "ru" and "en" */

typedef struct price_table {
    int n;                        /* active products */
    int64_t *ids;                 /* ascending */
    int64_t *amounts;             /* per id: displayed amount, -1: no price */
    int64_t version, changes;     /* the database as it was priced */
    int64_t priced_ms;            /* store clock when priced */
    int valid;
} price_table;

/* Per worker process (workers are single-threaded); freed at unload. */
static price_table price_tables[PRICE_TABLE_LOCALES];

static void price_table_clear(price_table *t)
{
    free(t->ids);
    free(t->amounts);
    memset(t, 0, sizeof *t);
}

/* Free the tables when the shared object is finalised: their memory must not
 * outlive the code that knows it, and leak checkers see a clean exit. */
__attribute__((destructor)) static void price_tables_unload(void)
{
    for (int i = 0; i < PRICE_TABLE_LOCALES; i++)
        price_table_clear(&price_tables[i]);
}

/* The ids of every active product, ascending, into t->ids (t->n of them). */
static int price_table_ids(souk_ctx *ctx, price_table *t)
{
    sqlite3_stmt *st = catalog_api->db_prepare(
        ctx, "SELECT id FROM catalog_products WHERE status = 'active' ORDER BY id");
    if (!st)
        return catalog_api->res_error(ctx, 500, "db", "cannot read the products", NULL);
    int cap = 0, rc, failed = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (t->n == cap) {
            int grown = cap ? cap * 2 : LISTING_TABLE_FIRST_CAP;
            int64_t *ids = realloc(t->ids, (size_t)grown * sizeof *ids);
            if (!ids) {
                failed = 1;
                break;
            }
            t->ids = ids;
            cap = grown;
        }
        t->ids[t->n++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_reset(st);
    if (failed)
        return catalog_api->res_error(ctx, 500, "memory", "out of memory", NULL);
    if (rc != SQLITE_DONE)
        return catalog_api->res_error(ctx, 500, "db", "cannot read the products", NULL);
    return SOUK_OK;
}

/* Price every active product into t (cleared on entry), stamped with the
 * database's version.  SOUK_ERR after the error view is filled. */
static int price_table_build(souk_ctx *ctx, price_table *t, int64_t version, int64_t changes)
{
    price_table_clear(t);
    if (price_table_ids(ctx, t) != SOUK_OK) {
        price_table_clear(t);
        return SOUK_ERR;
    }
    json_t *cards = catalog_cards(ctx, t->ids, t->n);
    if (!cards) {
        price_table_clear(t);
        return SOUK_ERR;
    }
    t->amounts = malloc((size_t)(t->n ? t->n : 1) * sizeof *t->amounts);
    if (!t->amounts || json_array_size(cards) != (size_t)t->n) {
        if (t->amounts)      /* one card per id is catalog_cards' contract */
            catalog_api->log(catalog_self, SOUK_LOG_ERROR,
                             "listing: %zu cards for %d products", json_array_size(cards),
                             t->n);
        json_decref(cards);
        price_table_clear(t);
        return catalog_api->res_error(ctx, 500, "internal", "cannot price the listing", NULL);
    }
    for (int i = 0; i < t->n; i++) {
        json_t *amount = json_object_get(json_object_get(json_array_get(cards, (size_t)i),
                                                         "price"), "amount");
        t->amounts[i] = json_is_integer(amount) ? json_integer_value(amount) : -1;
    }
    json_decref(cards);
    t->version = version;
    t->changes = changes;
    t->priced_ms = catalog_api->now_ms(ctx);
    t->valid = 1;
    return SOUK_OK;
}

/* The request's price table, priced now when it is missing or stale; *out is
 * NULL when none may be used (a signed-in customer, cache_ms 0, the database's
 * version unknown).  SOUK_ERR after the error view is filled. */
static int price_table_get(souk_ctx *ctx, const price_table **out)
{
    *out = NULL;
    int64_t max_age = catalog_cache_ms(), version, changes;
    if (catalog_api->req_user(ctx) || max_age <= 0 ||
        catalog_db_stamp(ctx, &version, &changes) != 0)
        return SOUK_OK;
    price_table *t = &price_tables[strcmp(catalog_lang(ctx), "en") == 0];
    int64_t age = catalog_api->now_ms(ctx) - t->priced_ms;
    /* A store clock moved back (the tests' clock file) is no younger table. */
    if (!t->valid || t->version != version || t->changes != changes || age < 0 ||
        age >= max_age) {
        if (price_table_build(ctx, t, version, changes) != SOUK_OK)
            return SOUK_ERR;
    }
    *out = t;
    return SOUK_OK;
}

/* Each of the n candidates v of set gets its amount from t (no card).  0 when
 * every one was found; -1 when one was not (it cannot be, at the same database
 * version: the caller then prices the listing itself). */
static int price_from_table(const price_table *t, const catalog_set *set, priced *v, int n)
{
    for (int i = 0; i < n; i++) {
        int64_t id = set->ids[v[i].pos];
        int lo = 0, hi = t->n;
        while (lo < hi) {
            int mid = lo + (hi - lo) / 2;
            if (t->ids[mid] < id)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == t->n || t->ids[lo] != id)
            return -1;
        v[i].card = -1;
        v[i].price = t->amounts[lo];
    }
    return 0;
}

/* The displayed amounts of the n candidates v: from the price table for a
 * guest, else with price_candidates (*cards: the priced cards, or NULL when the
 * table answered and the page is to be priced on its own).  SOUK_ERR after the
 * error view is filled. */
static int price_listing(souk_ctx *ctx, const catalog_set *set, priced *v, int n,
                         json_t **cards)
{
    const price_table *t;
    *cards = NULL;
    if (price_table_get(ctx, &t) != SOUK_OK)
        return SOUK_ERR;
    if (t && price_from_table(t, set, v, n) == 0)
        return SOUK_OK;
    return price_candidates(ctx, set, v, n, cards);
}

/* Whether a displayed price passes q's bounds.  A product without a price fails
 * every bound. */
static int within_bounds(const catalog_query *q, int64_t price)
{
    if (q->min_price < 0 && q->max_price < 0)
        return 1;
    return price >= 0 && (q->min_price < 0 || price >= q->min_price) &&
           (q->max_price < 0 || price <= q->max_price);
}

/* ---------------------------------------------------------------- the result */

/* What a listing shows before it is paged.  The brand is the one filter the set
 * does not apply: the brand facet is counted without it ("disjunctive", so that
 * a shopper can switch from one brand to another), everything else with it. */
typedef struct listing_result {
    priced *v;                  /* the result in display order (arena); NULL: the
                                   whole set in its base order */
    int n;                      /* products in the result */
    json_t *cards;              /* yours, or NULL: the priced cards (v[i].card) */
    int brand;                  /* the chosen brand's index in the set; -1: none,
                                   or no candidate has it */
    const int *brand_count;     /* per set brand: every filter but the brand */
    const int *category_count;  /* per set category: the result */
} listing_result;

/* Whether the candidate at pos has the chosen brand (any, without one). */
static int has_brand(const catalog_query *q, const catalog_set *set, const listing_result *r,
                     int pos)
{
    return !q->brand || (r->brand >= 0 && set->brand[pos] == r->brand);
}

/* Candidates per brand (brands) or per category over v (n of them) (arena). */
static const int *count_over(souk_ctx *ctx, const catalog_set *set, const priced *v, int n,
                             int brands)
{
    int size = brands ? set->n_brands : set->n_categories;
    int *c = catalog_api->alloc(ctx, (size_t)(size + 1) * sizeof *c);
    memset(c, 0, (size_t)(size + 1) * sizeof *c);
    for (int i = 0; i < n; i++) {
        int k = brands ? set->brand[v[i].pos] : set->category[v[i].pos];
        if (k >= 0)
            c[k]++;
    }
    return c;
}

/* The result of q over set.  Without a brand, a price bound or a price sort it
 * is the set itself, and the set's own counts are the facets.  Otherwise the
 * candidates are priced (price_listing) when a price matters -- all of them
 * when there are bounds, since they decide the brand facet too; only the chosen
 * brand's for a price sort alone -- then filtered by the bounds, counted for the
 * brand facet, filtered by the brand, sorted (stable: ties keep the base order)
 * and counted for the category facet.  SOUK_ERR after the error view is filled. */
static int listing_result_make(souk_ctx *ctx, const catalog_query *q, const catalog_set *set,
                               listing_result *r)
{
    int bounds = q->min_price >= 0 || q->max_price >= 0;
    int by_price = bounds || q->sort == CATALOG_SORT_PRICE_ASC ||
                   q->sort == CATALOG_SORT_PRICE_DESC;
    *r = (listing_result){NULL, set->n, NULL, -1, set->brand_count, set->category_count};
    for (int i = 0; q->brand && i < set->n_brands && r->brand < 0; i++)
        if (strcmp(set->brands[i], q->brand) == 0)
            r->brand = i;
    if (!q->brand && !by_price)
        return SOUK_OK;

    priced *v = catalog_api->alloc(ctx, (size_t)(set->n ? set->n : 1) * sizeof *v);
    int n = 0;
    for (int i = 0; i < set->n; i++)
        if (bounds || has_brand(q, set, r, i))
            v[n++] = (priced){i, -1, -1};
    if (by_price && n > 0 && price_listing(ctx, set, v, n, &r->cards) != SOUK_OK)
        return SOUK_ERR;
    if (bounds) {
        int kept = 0;
        for (int i = 0; i < n; i++)
            if (within_bounds(q, v[i].price))
                v[kept++] = v[i];
        n = kept;
        if (q->brand) {
            /* Every filter but the brand: the brand facet's pool. */
            r->brand_count = count_over(ctx, set, v, n, 1);
            kept = 0;
            for (int i = 0; i < n; i++)
                if (has_brand(q, set, r, v[i].pos))
                    v[kept++] = v[i];
            n = kept;
        }
    }
    if (q->sort == CATALOG_SORT_PRICE_ASC)
        qsort(v, (size_t)n, sizeof *v, by_price_asc);
    else if (q->sort == CATALOG_SORT_PRICE_DESC)
        qsort(v, (size_t)n, sizeof *v, by_price_desc);
    if (n != set->n) {
        /* A part of the set: its own counts.  (The whole set, merely sorted,
         * keeps the set's counts.) */
        r->category_count = count_over(ctx, set, v, n, 0);
        if (!q->brand)
            r->brand_count = count_over(ctx, set, v, n, 1);
    }
    r->v = v;
    r->n = n;
    return SOUK_OK;
}

/* The cards of the result's entries first .. first + count - 1, in order (yours).
 * NULL after the error view is filled. */
static json_t *result_cards(souk_ctx *ctx, const catalog_set *set, const listing_result *r,
                            int first, int count)
{
    if (r->cards) {
        json_t *items = json_array();
        for (int i = 0; i < count; i++)
            json_array_append(items, json_array_get(r->cards, (size_t)r->v[first + i].card));
        return items;
    }
    /* The page alone is priced: one script call for at most per_page cards. */
    if (!r->v)
        return catalog_cards(ctx, count ? set->ids + first : NULL, count);
    int64_t *ids = catalog_api->alloc(ctx, (size_t)(count ? count : 1) * sizeof *ids);
    for (int i = 0; i < count; i++)
        ids[i] = set->ids[r->v[first + i].pos];
    return catalog_cards(ctx, count ? ids : NULL, count);
}

/* -------------------------------------------------------------------- facets */

typedef struct facet_entry {
    int index;           /* into the set's brands or categories */
    int count;
} facet_entry;

static int by_count(const void *a, const void *b)
{
    const facet_entry *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return x->index - y->index;              /* then first seen in the base order */
}

/* The entries with a count, most frequent first, at most LISTING_FACET_MAX; the
 * selected index (-1: none) is kept even when it falls beyond.  *n gets the
 * number of entries (arena). */
static facet_entry *facet_top(souk_ctx *ctx, const int *counts, int size, int selected,
                              int *n)
{
    facet_entry *e = catalog_api->alloc(ctx, (size_t)(size ? size : 1) * sizeof *e);
    int m = 0;
    for (int i = 0; i < size; i++)
        if (counts[i] > 0)
            e[m++] = (facet_entry){i, counts[i]};
    qsort(e, (size_t)m, sizeof *e, by_count);
    if (m > LISTING_FACET_MAX) {
        for (int i = LISTING_FACET_MAX; i < m && selected >= 0; i++)
            if (e[i].index == selected)
                e[LISTING_FACET_MAX - 1] = e[i];
        m = LISTING_FACET_MAX;
    }
    *n = m;
    return e;
}

/* The brand facet: every brand of the result without the brand filter, the
 * chosen one selected (its link clears it, the others' replace it).  A chosen
 * brand that nothing matches any more (a stock or price filter left none) is
 * still listed, selected, with 0: the shopper sees the choice and can undo it. */
static json_t *brand_facet(souk_ctx *ctx, const listing_links *l, const catalog_set *set,
                           const listing_result *r)
{
    const catalog_query *q = l->q;
    int n, shown = 0;
    facet_entry *e = facet_top(ctx, r->brand_count, set->n_brands, r->brand, &n);
    json_t *brands = json_array();
    for (int i = 0; i < n; i++)
        shown |= e[i].index == r->brand;
    if (q->brand && !shown && n == LISTING_FACET_MAX)
        n--;                                 /* room for the chosen brand */
    for (int i = 0; i < n; i++) {
        const char *name = set->brands[e[i].index];
        int sel = e[i].index == r->brand;
        json_array_append_new(
            brands, json_pack("{s:s, s:i, s:b, s:s}", "name", name, "count", e[i].count,
                              "selected", sel, "href",
                              list_href(ctx, l, q->category, sel ? NULL : name, 1)));
    }
    if (q->brand && !shown)
        json_array_append_new(
            brands, json_pack("{s:s, s:i, s:b, s:s}", "name", q->brand, "count", 0, "selected",
                              1, "href", list_href(ctx, l, q->category, NULL, 1)));
    return brands;
}

/* The category facet: the categories of the result's products. */
static json_t *category_facet(souk_ctx *ctx, const listing_links *l, const catalog_set *set,
                              const listing_result *r)
{
    const catalog_query *q = l->q;
    int selected = -1;
    for (int i = 0; q->category && i < set->n_categories; i++)
        if (strcmp(set->categories[i].slug, q->category) == 0)
            selected = i;
    int n;
    facet_entry *e = facet_top(ctx, r->category_count, set->n_categories, selected, &n);
    int en = strcmp(catalog_lang(ctx), "en") == 0;
    json_t *categories = json_array();
    for (int i = 0; i < n; i++) {
        const catalog_set_category *c = &set->categories[e[i].index];
        int sel = e[i].index == selected;
        json_array_append_new(
            categories,
            json_pack("{s:s, s:s, s:i, s:b, s:s}", "slug", c->slug, "name",
                      en ? c->name_en : c->name_ru, "count", e[i].count, "selected", sel,
                      "href", list_href(ctx, l, sel ? NULL : c->slug, q->brand, 1)));
    }
    return categories;
}

/* ---------------------------------------------------------------- the listing */

static void page_link(souk_ctx *ctx, const listing_links *l, json_t *list, int n)
{
    json_array_append_new(list, json_pack("{s:i, s:s, s:b}", "n", n, "href",
                                          list_href(ctx, l, l->q->category, l->q->brand, n),
                                          "current", n == l->q->page));
}

static json_t *pagination(souk_ctx *ctx, const listing_links *l, int pages)
{
    int page = l->q->page;
    /* pages_list: the first page, the pages around the current one, the last. */
    json_t *list = json_array();
    int lo = page - LISTING_PAGES_AROUND > 2 ? page - LISTING_PAGES_AROUND : 2;
    int hi = page < pages - 1 - LISTING_PAGES_AROUND ? page + LISTING_PAGES_AROUND : pages - 1;
    if (pages >= 1)
        page_link(ctx, l, list, 1);
    for (int n = lo; n <= hi; n++)
        page_link(ctx, l, list, n);
    if (pages >= 2)
        page_link(ctx, l, list, pages);
    /* Past the end, "previous" leads back to the last page that has items. */
    int prev = page > pages ? pages : page - 1;
    return json_pack("{s:i, s:i, s:o, s:o, s:o}", "page", page, "pages", pages, "prev_href",
                     prev >= 1 ? json_string(list_href(ctx, l, l->q->category, l->q->brand, prev))
                               : json_null(),
                     "next_href",
                     page < pages ? json_string(list_href(ctx, l, l->q->category, l->q->brand,
                                                          page + 1))
                                  : json_null(),
                     "pages_list", list);
}

/* The parsed parameters; price_from/price_to are the bounds in whole units for
 * the filter form (rounded outwards). */
static json_t *query_echo(const catalog_query *q)
{
    int64_t unit = LISTING_MINOR_PER_UNIT;
    return json_pack(
        "{s:o, s:o, s:o, s:o, s:o, s:b, s:s, s:o, s:o}", "q", str_or_null(q->q), "category",
        str_or_null(q->category), "brand", str_or_null(q->brand), "min_price",
        q->min_price >= 0 ? json_integer(q->min_price) : json_null(), "max_price",
        q->max_price >= 0 ? json_integer(q->max_price) : json_null(), "in_stock", q->in_stock,
        "sort", sort_name(q->sort), "price_from",
        q->min_price >= 0 ? json_integer(q->min_price / unit) : json_null(), "price_to",
        q->max_price >= 0 ? json_integer(q->max_price / unit + (q->max_price % unit != 0))
                          : json_null());
}

int catalog_list(souk_ctx *ctx, const catalog_query *q, json_t *view)
{
    const souk_host_api *api = catalog_api;
    const char *route = api->req_param(ctx, "slug");
    listing_links links = {q, route && q->category && strcmp(route, q->category) == 0
                                  ? q->category : NULL};
    const char *message = NULL;
    int en = strcmp(catalog_lang(ctx), "en") == 0;

    /* The brand is left to listing_result_make: its facet is counted without it.
     * Price sorts break ties by relevance too; only "newest" ignores it. */
    catalog_set_filter filter = {NULL, NULL, NULL, q->in_stock,
                                 q->sort != CATALOG_SORT_NEWEST};
    if (q->q) {
        filter.match = fts_query(ctx, q->q, 0);
        if (!filter.match)
            message = en ? "Nothing to search for: type a word (letters or digits)."
                         : "Искать нечего: введите слово (буквы или цифры).";
    }
    if (q->category) {
        int64_t id = catalog_category_id(ctx, q->category);
        if (id == 0)
            return api->res_error(ctx, 404, "not_found",
                                  api->format(ctx, "no category '%s'", q->category), "category");
        int n = 0;
        int64_t *ids = catalog_category_subtree(ctx, id, &n);
        filter.subtree = ids_json(ctx, ids, n);
    }

    static const catalog_set empty;
    const catalog_set *set = &empty;
    if (!message) {
        int fts_failed = 0;
        if (catalog_set_get(ctx, &filter, &set, &fts_failed) != SOUK_OK)
            return SOUK_ERR;
        if (fts_failed)
            message = en ? "The search could not use this query; try other words."
                         : "Поиск не смог разобрать запрос; попробуйте другие слова.";
    }

    listing_result r;
    if (listing_result_make(ctx, q, set, &r) != SOUK_OK)
        return SOUK_ERR;
    int total = r.n;
    int pages = (int)(((int64_t)total + q->per_page - 1) / q->per_page);
    int64_t first = (int64_t)(q->page - 1) * q->per_page;
    int count = first >= total ? 0
                : (int)(total - first < q->per_page ? total - first : q->per_page);
    json_t *items = result_cards(ctx, set, &r, count ? (int)first : 0, count);
    json_decref(r.cards);
    if (!items)
        return SOUK_ERR;

    json_object_set_new(view, "items", items);
    json_object_set_new(view, "total", json_integer(total));
    json_object_set_new(view, "page", json_integer(q->page));
    json_object_set_new(view, "per_page", json_integer(q->per_page));
    json_object_set_new(view, "pages", json_integer(pages));
    json_object_set_new(view, "query", query_echo(q));
    /* {"<current sort>": true}: what a template's select can test. */
    json_object_set_new(view, "sorts", json_pack("{s:b}", sort_name(q->sort), 1));
    json_object_set_new(view, "facets",
                        json_pack("{s:o, s:o}", "brands", brand_facet(ctx, &links, set, &r),
                                  "categories", category_facet(ctx, &links, set, &r)));
    json_object_set_new(view, "pagination", pagination(ctx, &links, pages));
    if (message)
        json_object_set_new(view, "query_message", json_string(message));
    return SOUK_OK;
}

/* ---------------------------------------------------------------- suggestions */

json_t *catalog_suggest(souk_ctx *ctx, const char *q, int limit)
{
    const souk_host_api *api = catalog_api;
    json_t *out = json_array();
    const char *text = trimmed(ctx, q);
    if (!text || strlen(text) > CATALOG_QUERY_MAX)
        return out;
    const char *match = fts_query(ctx, text, 1);
    if (!match)
        return out;
    if (limit < 1)
        limit = 1;
    if (limit > CATALOG_SUGGEST_MAX)
        limit = CATALOG_SUGGEST_MAX;
    int en = strcmp(catalog_lang(ctx), "en") == 0;
    /* The index has "ё" as "е" (index.c); so must the query. */
    sqlite3_stmt *st = api->db_prepare(
        ctx, en ? "SELECT p.slug, p.title_en, p.title_ru"
                  "  FROM catalog_suggest s JOIN catalog_products p ON p.id = s.rowid"
                  " WHERE catalog_suggest MATCH replace(replace(?1, 'ё', 'е'), 'Ё', 'Е')"
                  "   AND p.status = 'active'"
                  " ORDER BY bm25(catalog_suggest, " SUGGEST_WEIGHT_OTHER ", "
                  SUGGEST_WEIGHT_OWN "), p.id LIMIT ?2"
                : "SELECT p.slug, p.title_ru, p.title_en"
                  "  FROM catalog_suggest s JOIN catalog_products p ON p.id = s.rowid"
                  " WHERE catalog_suggest MATCH replace(replace(?1, 'ё', 'е'), 'Ё', 'Е')"
                  "   AND p.status = 'active'"
                  " ORDER BY bm25(catalog_suggest, " SUGGEST_WEIGHT_OWN ", "
                  SUGGEST_WEIGHT_OTHER "), p.id LIMIT ?2");
    if (!st)
        return out;
    sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, limit);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *slug = (const char *)sqlite3_column_text(st, 0);
        const char *title = (const char *)sqlite3_column_text(st, 1);
        if (!title || !*title)
            title = (const char *)sqlite3_column_text(st, 2);
        if (!slug)
            continue;
        char *url = api->alloc(ctx, strlen(slug) * 3 + 4);
        memcpy(url, "/p/", 3);
        *put_escaped(url + 3, slug) = '\0';
        json_array_append_new(out, json_pack("{s:s, s:s}", "title", title ? title : "", "url",
                                             url));
    }
    if (rc != SQLITE_DONE)
        api->log(catalog_self, SOUK_LOG_WARN, "suggestions for '%s' failed: %s", match,
                 sqlite3_errmsg(api->db(ctx)));
    sqlite3_reset(st);
    return out;
}
