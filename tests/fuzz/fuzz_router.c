/* fuzz_router.c -- souk_router_match against a fixed route table.
 *
 * Input: the first byte picks the method, the rest (up to a NUL) is the path.
 * Every answer is checked against a naive reference matcher written here from
 * router.h's rules (try every route, keep the most specific shape: static over
 * :param over *wildcard, segment by segment), so the trie, its pruning and its
 * backtracking must agree with the plain reading of the rules.  A ':param' value
 * must never be empty or contain '/'. */
#include "router.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond)                                                       \
    do {                                                                       \
        if (!(cond))                                                           \
            __builtin_trap();                                                  \
    } while (0)

typedef struct fuzz_route {
    const char *method;
    const char *pattern;
} fuzz_route;

static const fuzz_route routes[] = {
    {"GET", "/"},
    {"GET", "/products"},
    {"POST", "/products"},
    {"GET", "/products/new"},
    {"GET", "/products/:slug"},
    {"GET", "/products/:slug/reviews"},
    {"POST", "/products/:slug/reviews"},
    {"DELETE", "/products/:slug/reviews/:id"},
    {"GET", "/static/*path"},
    {"GET", "/api/v1/:resource/:id"},
    {"PUT", "/api/v1/:resource/:id"},
    {"GET", "/api/v1/users/me"},
    {"HEAD", "/api/v1/users/me"},
    {"GET", "/a/b/y"},
    {"GET", "/a/:p/x"},
    {"GET", "/a/*rest"},
    {"POST", "/a/:p/:q/z"},
    {"PATCH", "/u/:id/"},
    {"GET", "/u/"},
    {"OPTIONS", "/cors/*path"},
    {"DELETE", "/:kind/:id"},
};
#define N_ROUTES (sizeof routes / sizeof routes[0])

static const char *const methods[] = {"GET", "HEAD", "POST", "PUT",
                                      "DELETE", "PATCH", "OPTIONS", "BREW"};
#define N_METHODS (sizeof methods / sizeof methods[0])

/* Up to this many path segments are compared by the reference matcher; the
 * route table is far shallower. */
#define REF_MAX_SEGS 64

static souk_router *router;

/* The reference: does pattern match path?  On a match, ranks[] gets one rank per
 * pattern segment (2 static, 1 param, 0 wildcard) and vals/lens the captures. */
typedef struct ref_match {
    int ranks[REF_MAX_SEGS], n_ranks;
    const char *vals[SOUK_ROUTER_MAX_PARAMS];
    size_t lens[SOUK_ROUTER_MAX_PARAMS];
    int n_vals;
} ref_match;

static int ref_matches(const char *pattern, const char *path, ref_match *m)
{
    memset(m, 0, sizeof *m);
    if (path[0] != '/')
        return 0;
    const char *p = pattern + 1, *s = path + 1;
    for (;;) {
        const char *pe = strchr(p, '/');
        size_t plen = pe ? (size_t)(pe - p) : strlen(p);
        if (!s)
            return 0; /* the pattern goes on, the path is used up */
        const char *se = strchr(s, '/');
        size_t slen = se ? (size_t)(se - s) : strlen(s);
        if (m->n_ranks == REF_MAX_SEGS)
            return 0;
        if (plen && p[0] == '*') {
            m->ranks[m->n_ranks++] = 0;
            m->vals[m->n_vals] = s;
            m->lens[m->n_vals++] = strlen(s);
            return 1;
        }
        if (plen && p[0] == ':') {
            if (slen == 0)
                return 0;
            m->ranks[m->n_ranks++] = 1;
            m->vals[m->n_vals] = s;
            m->lens[m->n_vals++] = slen;
        } else {
            if (plen != slen || memcmp(p, s, plen) != 0)
                return 0;
            m->ranks[m->n_ranks++] = 2;
        }
        s = se ? se + 1 : NULL;
        if (!pe)
            return s == NULL;
        p = pe + 1;
    }
}

/* The kind of parameter name in pattern: ':' or '*' (0 when it is not there as a
 * whole segment name). */
static char param_kind(const char *pattern, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = strchr(pattern, '/'); p; p = strchr(p + 1, '/')) {
        if ((p[1] == ':' || p[1] == '*') && strncmp(p + 2, name, n) == 0 &&
            (p[2 + n] == '/' || p[2 + n] == '\0'))
            return p[1];
    }
    return 0;
}

/* > 0 when shape a is more specific than b. */
static int ref_cmp(const ref_match *a, const ref_match *b)
{
    for (int i = 0; i < a->n_ranks && i < b->n_ranks; i++) {
        if (a->ranks[i] != b->ranks[i])
            return a->ranks[i] - b->ranks[i];
    }
    return a->n_ranks - b->n_ranks;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    router = souk_router_new();
    for (size_t i = 0; i < N_ROUTES; i++) {
        char err[256];
        FUZZ_CHECK(souk_router_add(router, routes[i].method, routes[i].pattern,
                                   (void *)&routes[i], err, sizeof err) == 0);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *method = methods[data[0] % N_METHODS];
    char *path = malloc(size);
    memcpy(path, data + 1, size - 1);
    path[size - 1] = '\0';

    souk_arena arena;
    souk_arena_init(&arena, 4096);
    void *found = NULL;
    souk_param params[SOUK_ROUTER_MAX_PARAMS];
    int n = -1;
    char allow[256] = "";
    int rc = souk_router_match(router, method, path, &arena, &found, params, &n, allow,
                               sizeof allow);

    /* The reference answer. */
    int is_head = strcmp(method, "HEAD") == 0;
    int best = -1;
    ref_match best_m, m;
    const char *any[N_ROUTES + 1];
    int n_any = 0, any_get = 0;
    for (size_t i = 0; i < N_ROUTES; i++) {
        if (!ref_matches(routes[i].pattern, path, &m))
            continue;
        any[n_any++] = routes[i].method;
        any_get |= strcmp(routes[i].method, "GET") == 0;
        int exact = strcmp(routes[i].method, method) == 0;
        int via_get = is_head && strcmp(routes[i].method, "GET") == 0;
        if (!exact && !via_get)
            continue;
        int c = best < 0 ? 1 : ref_cmp(&m, &best_m);
        /* Same shape: the exact method beats HEAD's GET fallback. */
        if (c > 0 || (c == 0 && exact)) {
            best = (int)i;
            best_m = m;
        }
    }

    if (best >= 0) {
        FUZZ_CHECK(rc == SOUK_ROUTE_FOUND);
        FUZZ_CHECK(found == &routes[best]);
        FUZZ_CHECK(n == best_m.n_vals);
        for (int i = 0; i < n; i++) {
            FUZZ_CHECK(strlen(params[i].value) == best_m.lens[i]);
            FUZZ_CHECK(memcmp(params[i].value, best_m.vals[i], best_m.lens[i]) == 0);
            char kind = param_kind(routes[best].pattern, params[i].name);
            FUZZ_CHECK(kind != 0);
            if (kind == ':') {
                FUZZ_CHECK(params[i].value[0] != '\0');
                FUZZ_CHECK(strchr(params[i].value, '/') == NULL);
            }
        }
    } else if (n_any > 0) {
        FUZZ_CHECK(rc == SOUK_ROUTE_BAD_METHOD);
        FUZZ_CHECK(n == 0);
        if (any_get)
            any[n_any++] = "HEAD";
        qsort(any, (size_t)n_any, sizeof any[0], cmp_str);
        char want[256] = "";
        size_t used = 0;
        for (int i = 0; i < n_any; i++) {
            if (i && strcmp(any[i], any[i - 1]) == 0)
                continue;
            used += (size_t)snprintf(want + used, sizeof want - used, "%s%s",
                                     used ? ", " : "", any[i]);
        }
        FUZZ_CHECK(strcmp(allow, want) == 0);
    } else {
        FUZZ_CHECK(rc == SOUK_ROUTE_NOT_FOUND);
    }

    souk_arena_free(&arena);
    free(path);
    return 0;
}
