/* router.c -- a segment trie shared by all methods; see router.h.
 *
 * Each node stands for one pattern segment.  A node has static children (sorted,
 * found by binary search), at most one ":param" child and at most one "*wildcard"
 * child (always a leaf).  Routes hang off the node where their pattern ends, one
 * per method.  Parameter names are not part of the trie -- "/p/:id" and "/p/:slug"
 * have the same shape -- so each route keeps its own names.
 *
 * Every node carries two method bitmasks: `here` (routes ending at this node) and
 * `below` (this node and its whole subtree).  The search only enters a subtree
 * that holds the wanted method, which keeps backtracking (static, then param, then
 * wildcard) short in practice; in the worst case it is bounded by
 * 2^SOUK_ROUTER_MAX_SEGMENTS over trusted, registered patterns, never by the
 * request path. */
#include "router.h"

#include "log.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest method name accepted ("PROPPATCH" and friends fit easily). */
#define ROUTER_METHOD_MAX_LEN 32

typedef struct route_node route_node;

typedef struct route_entry {
    int method;          /* index into souk_router.methods */
    void *data;          /* borrowed from the caller */
    char *pattern;       /* owned copy, for messages */
    char *names_buf;     /* owned: the pattern with each name NUL-terminated */
    const char *names[SOUK_ROUTER_MAX_PARAMS]; /* point into names_buf */
    int n_names;
} route_entry;

struct route_node {
    char *seg;             /* static segment text (owned); NULL for param/wild */
    size_t seg_len;
    route_node **statics;  /* sorted by (length, bytes) */
    int n_statics;
    route_node *param;     /* ":name" child */
    route_node *wild;      /* "*name" child: a leaf */
    route_entry *routes;   /* routes ending here, one per method */
    int n_routes;
    uint32_t here, below;  /* method bitmasks, see the file comment */
};

struct souk_router {
    route_node root;
    char *methods[SOUK_ROUTER_MAX_METHODS];
    int n_methods;
};

/* One segment of a pattern, as parsed by parse_pattern. */
enum seg_kind { SEG_STATIC, SEG_PARAM, SEG_WILD };
typedef struct pattern_seg {
    enum seg_kind kind;
    const char *text; /* static text, or the parameter name */
    size_t len;
} pattern_seg;

/* ------------------------------------------------------------ allocation */

/* Routes are added at start-up; like the arena, running out of memory there is
 * not something to recover from. */
static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        fputs("souk: out of memory\n", stderr);
        abort();
    }
    return p;
}

static void *xrealloc(void *p, size_t size)
{
    p = realloc(p, size ? size : 1);
    if (!p) {
        fputs("souk: out of memory\n", stderr);
        abort();
    }
    return p;
}

static char *xstrndup(const char *s, size_t n)
{
    char *d = xcalloc(1, n + 1);
    memcpy(d, s, n);
    return d;
}

souk_router *souk_router_new(void) { return xcalloc(1, sizeof(souk_router)); }

static void node_free_children(route_node *n)
{
    for (int i = 0; i < n->n_statics; i++) {
        node_free_children(n->statics[i]);
        free(n->statics[i]);
    }
    free(n->statics);
    if (n->param) {
        node_free_children(n->param);
        free(n->param);
    }
    if (n->wild) {
        node_free_children(n->wild);
        free(n->wild);
    }
    for (int i = 0; i < n->n_routes; i++) {
        free(n->routes[i].pattern);
        free(n->routes[i].names_buf);
    }
    free(n->routes);
    free(n->seg);
}

void souk_router_free(souk_router *r)
{
    if (!r)
        return;
    node_free_children(&r->root);
    for (int i = 0; i < r->n_methods; i++)
        free(r->methods[i]);
    free(r);
}

/* ------------------------------------------------------------- patterns */

static int is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_';
}

/* Split and check a pattern.  Returns the number of segments or -1 with err. */
static int parse_pattern(const char *pattern, pattern_seg *segs, char *err, size_t errlen)
{
    if (!pattern || pattern[0] != '/') {
        souk_errorf(err, errlen, "route pattern '%s' must start with '/'",
                pattern ? pattern : "(null)");
        return -1;
    }
    int n = 0, n_params = 0;
    const char *p = pattern + 1;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (n == SOUK_ROUTER_MAX_SEGMENTS) {
            souk_errorf(err, errlen, "route pattern '%s' has more than %d segments", pattern,
                    SOUK_ROUTER_MAX_SEGMENTS);
            return -1;
        }
        pattern_seg *s = &segs[n++];
        if (len > 0 && (p[0] == ':' || p[0] == '*')) {
            s->kind = p[0] == ':' ? SEG_PARAM : SEG_WILD;
            s->text = p + 1;
            s->len = len - 1;
            if (s->len == 0) {
                souk_errorf(err, errlen, "route pattern '%s': empty parameter name in segment %d",
                        pattern, n);
                return -1;
            }
            for (size_t i = 0; i < s->len; i++) {
                if (!is_name_char(s->text[i])) {
                    souk_errorf(err, errlen,
                            "route pattern '%s': parameter name '%.*s' must be [A-Za-z0-9_]",
                            pattern, (int)s->len, s->text);
                    return -1;
                }
            }
            if (s->kind == SEG_WILD && slash) {
                souk_errorf(err, errlen, "route pattern '%s': '*%.*s' must be the last segment",
                        pattern, (int)s->len, s->text);
                return -1;
            }
            for (int i = 0; i < n - 1; i++) {
                if (segs[i].kind != SEG_STATIC && segs[i].len == s->len &&
                    memcmp(segs[i].text, s->text, s->len) == 0) {
                    souk_errorf(err, errlen, "route pattern '%s': parameter '%.*s' repeated",
                            pattern, (int)s->len, s->text);
                    return -1;
                }
            }
            if (++n_params > SOUK_ROUTER_MAX_PARAMS) {
                souk_errorf(err, errlen, "route pattern '%s' has more than %d parameters",
                        pattern, SOUK_ROUTER_MAX_PARAMS);
                return -1;
            }
        } else {
            /* An empty segment is only a trailing slash ("/" or "/a/"); "//"
             * elsewhere is a typo that no browser-produced path would match. */
            if (len == 0 && slash) {
                souk_errorf(err, errlen, "route pattern '%s': empty segment %d", pattern, n);
                return -1;
            }
            s->kind = SEG_STATIC;
            s->text = p;
            s->len = len;
        }
        if (!slash)
            return n;
        p = slash + 1;
    }
}

static int check_method(const char *method, char *err, size_t errlen)
{
    size_t n = method ? strlen(method) : 0;
    int ok = n > 0 && n <= ROUTER_METHOD_MAX_LEN;
    for (size_t i = 0; ok && i < n; i++) {
        unsigned char c = (unsigned char)method[i];
        ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
             strchr("!#$%&'*+-.^_`|~", c);
    }
    if (!ok)
        souk_errorf(err, errlen, "route method '%s' is not a valid HTTP method",
                method ? method : "(null)");
    return ok ? 0 : -1;
}

static int method_find(const souk_router *r, const char *method)
{
    for (int i = 0; i < r->n_methods; i++) {
        if (strcmp(r->methods[i], method) == 0)
            return i;
    }
    return -1;
}

/* ---------------------------------------------------------------- trie */

/* Order of static children: by length, then bytes.  Any total order would do;
 * this one rejects most candidates on the length alone. */
static int seg_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return alen < blen ? -1 : 1;
    return memcmp(a, b, alen);
}

/* Index of the static child equal to s, or -(insertion point) - 1. */
static int static_index(const route_node *n, const char *s, size_t len)
{
    int lo = 0, hi = n->n_statics - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        const route_node *c = n->statics[mid];
        int cmp = seg_cmp(c->seg, c->seg_len, s, len);
        if (cmp == 0)
            return mid;
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -lo - 1;
}

static route_node *static_child(route_node *n, const char *s, size_t len)
{
    int i = static_index(n, s, len);
    if (i >= 0)
        return n->statics[i];
    i = -i - 1;
    n->statics = xrealloc(n->statics, sizeof *n->statics * (size_t)(n->n_statics + 1));
    memmove(n->statics + i + 1, n->statics + i, sizeof *n->statics * (size_t)(n->n_statics - i));
    route_node *c = xcalloc(1, sizeof *c);
    c->seg = xstrndup(s, len);
    c->seg_len = len;
    n->statics[i] = c;
    n->n_statics++;
    return c;
}

/* Walk the trie along segs without creating anything; NULL when the shape is new. */
static const route_node *shape_find(const route_node *n, const pattern_seg *segs, int n_segs)
{
    for (int i = 0; n && i < n_segs; i++) {
        if (segs[i].kind == SEG_PARAM) {
            n = n->param;
        } else if (segs[i].kind == SEG_WILD) {
            n = n->wild;
        } else {
            int k = static_index(n, segs[i].text, segs[i].len);
            n = k >= 0 ? n->statics[k] : NULL;
        }
    }
    return n;
}

int souk_router_add(souk_router *r, const char *method, const char *pattern, void *data,
                    char *err, size_t errlen)
{
    pattern_seg segs[SOUK_ROUTER_MAX_SEGMENTS];
    if (check_method(method, err, errlen) < 0)
        return -1;
    int n_segs = parse_pattern(pattern, segs, err, errlen);
    if (n_segs < 0)
        return -1;
    int m = method_find(r, method);
    const route_node *same = shape_find(&r->root, segs, n_segs);
    if (m >= 0 && same && (same->here & (UINT32_C(1) << m))) {
        for (int i = 0; i < same->n_routes; i++) {
            if (same->routes[i].method == m)
                souk_errorf(err, errlen, "duplicate route %s %s (same shape as %s)", method,
                        pattern, same->routes[i].pattern);
        }
        return -1;
    }
    if (m < 0) {
        if (r->n_methods == SOUK_ROUTER_MAX_METHODS) {
            souk_errorf(err, errlen, "route %s %s: more than %d methods", method, pattern,
                    SOUK_ROUTER_MAX_METHODS);
            return -1;
        }
        m = r->n_methods++;
        r->methods[m] = xstrndup(method, strlen(method));
    }
    uint32_t bit = UINT32_C(1) << m;

    route_node *n = &r->root;
    n->below |= bit;
    for (int i = 0; i < n_segs; i++) {
        if (segs[i].kind == SEG_PARAM) {
            if (!n->param)
                n->param = xcalloc(1, sizeof *n->param);
            n = n->param;
        } else if (segs[i].kind == SEG_WILD) {
            if (!n->wild)
                n->wild = xcalloc(1, sizeof *n->wild);
            n = n->wild;
        } else {
            n = static_child(n, segs[i].text, segs[i].len);
        }
        n->below |= bit;
    }
    n->here |= bit;
    n->routes = xrealloc(n->routes, sizeof *n->routes * (size_t)(n->n_routes + 1));
    route_entry *e = &n->routes[n->n_routes++];
    memset(e, 0, sizeof *e);
    e->method = m;
    e->data = data;
    e->pattern = xstrndup(pattern, strlen(pattern));
    /* Names point into a second copy of the pattern where each one is cut out
     * with a NUL: the segment offsets are the same in both copies. */
    e->names_buf = xstrndup(pattern, strlen(pattern));
    for (int i = 0; i < n_segs; i++) {
        if (segs[i].kind == SEG_STATIC)
            continue;
        char *name = e->names_buf + (segs[i].text - pattern);
        name[segs[i].len] = '\0';
        e->names[e->n_names++] = name;
    }
    return 0;
}

/* ---------------------------------------------------------------- match */

typedef struct match_state {
    const char *end;  /* end of the path */
    uint32_t mask;    /* methods wanted */
    int n;            /* captured values so far */
    const char *val[SOUK_ROUTER_MAX_PARAMS];
    size_t len[SOUK_ROUTER_MAX_PARAMS];
} match_state;

/* The deepest-precedence node where a route for st->mask ends, for the path from
 * seg on (seg is NULL once the path is used up).  Captures go into st. */
static const route_node *search(const route_node *n, const char *seg, match_state *st)
{
    if (!seg)
        return (n->here & st->mask) ? n : NULL;
    const char *slash = memchr(seg, '/', (size_t)(st->end - seg));
    const char *next = slash ? slash + 1 : NULL;
    size_t len = (size_t)((slash ? slash : st->end) - seg);

    int k = static_index(n, seg, len);
    if (k >= 0 && (n->statics[k]->below & st->mask)) {
        const route_node *found = search(n->statics[k], next, st);
        if (found)
            return found;
    }
    /* Pattern checks keep captures within SOUK_ROUTER_MAX_PARAMS; the test on
     * st->n only guards the arrays. */
    if (n->param && len > 0 && (n->param->below & st->mask) && st->n < SOUK_ROUTER_MAX_PARAMS) {
        st->val[st->n] = seg;
        st->len[st->n] = len;
        st->n++;
        const route_node *found = search(n->param, next, st);
        if (found)
            return found;
        st->n--;
    }
    if (n->wild && (n->wild->here & st->mask) && st->n < SOUK_ROUTER_MAX_PARAMS) {
        st->val[st->n] = seg;
        st->len[st->n] = (size_t)(st->end - seg);
        st->n++;
        return n->wild;
    }
    return NULL;
}

/* Every method with a route matching the path from seg on, whatever its shape. */
static uint32_t methods_matching(const route_node *n, const char *seg, const char *end)
{
    if (!seg)
        return n->here;
    const char *slash = memchr(seg, '/', (size_t)(end - seg));
    const char *next = slash ? slash + 1 : NULL;
    size_t len = (size_t)((slash ? slash : end) - seg);
    uint32_t m = 0;
    int k = static_index(n, seg, len);
    if (k >= 0)
        m |= methods_matching(n->statics[k], next, end);
    if (n->param && len > 0)
        m |= methods_matching(n->param, next, end);
    if (n->wild)
        m |= n->wild->here;
    return m;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void write_allow(const souk_router *r, uint32_t mask, char *allow, size_t allowlen)
{
    if (!allow || allowlen == 0)
        return;
    const char *names[SOUK_ROUTER_MAX_METHODS + 1];
    int n = 0, get = method_find(r, "GET"), head = method_find(r, "HEAD");
    for (int i = 0; i < r->n_methods; i++) {
        if (mask & (UINT32_C(1) << i))
            names[n++] = r->methods[i];
    }
    if (get >= 0 && (mask & (UINT32_C(1) << get)) &&
        !(head >= 0 && (mask & (UINT32_C(1) << head))))
        names[n++] = "HEAD";
    qsort(names, (size_t)n, sizeof names[0], cmp_str);
    size_t used = 0;
    allow[0] = '\0';
    for (int i = 0; i < n && used < allowlen; i++) {
        int w = snprintf(allow + used, allowlen - used, "%s%s", i ? ", " : "", names[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

int souk_router_match(const souk_router *r, const char *method, const char *path,
                      souk_arena *arena, void **data, souk_param *params, int *n_params,
                      char *allow, size_t allowlen)
{
    if (n_params)
        *n_params = 0;
    if (!path || path[0] != '/')
        return SOUK_ROUTE_NOT_FOUND;
    match_state st;
    st.end = path + strlen(path);
    st.n = 0;
    st.mask = 0;
    int m = method ? method_find(r, method) : -1;
    int get = -1;
    if (m >= 0)
        st.mask |= UINT32_C(1) << m;
    if (method && strcmp(method, "HEAD") == 0 && (get = method_find(r, "GET")) >= 0)
        st.mask |= UINT32_C(1) << get;

    const route_node *node = st.mask ? search(&r->root, path + 1, &st) : NULL;
    if (!node) {
        uint32_t any = methods_matching(&r->root, path + 1, st.end);
        if (!any)
            return SOUK_ROUTE_NOT_FOUND;
        write_allow(r, any, allow, allowlen);
        return SOUK_ROUTE_BAD_METHOD;
    }
    /* The exact method first; for HEAD, the GET route of that shape otherwise. */
    const route_entry *e = NULL;
    for (int i = 0; i < node->n_routes; i++) {
        if (node->routes[i].method == m) {
            e = &node->routes[i];
            break;
        }
        if (node->routes[i].method == get)
            e = &node->routes[i];
    }
    if (data)
        *data = e->data;
    if (params) {
        for (int i = 0; i < e->n_names && i < st.n; i++) {
            params[i].name = e->names[i];
            params[i].value = souk_arena_strndup(arena, st.val[i], st.len[i]);
        }
    }
    if (n_params)
        *n_params = e->n_names;
    return SOUK_ROUTE_FOUND;
}
