/* test_router.c -- core/router.c: shapes, precedence, HEAD, 405, parameters,
 * malformed patterns and duplicates. */
#include "router.h"
#include "test.h"

#include <stdlib.h>

static souk_arena arena;
static char err[256];

/* Distinct addresses to hand to the router as route data. */
static int h_root, h_list, h_show, h_new, h_files, h_create, h_del, h_me, h_head,
    h_deep, h_other;

/* The result of one match, for compact checks. */
typedef struct outcome {
    int rc;
    void *data;
    souk_param params[SOUK_ROUTER_MAX_PARAMS];
    int n;
    char allow[128];
} outcome;

static outcome match(const souk_router *r, const char *method, const char *path)
{
    outcome o;
    memset(&o, 0, sizeof o);
    o.rc = souk_router_match(r, method, path, &arena, &o.data, o.params, &o.n, o.allow,
                             sizeof o.allow);
    return o;
}

static int add(souk_router *r, const char *method, const char *pattern, void *data)
{
    err[0] = '\0';
    return souk_router_add(r, method, pattern, data, err, sizeof err);
}

static const char *param(const outcome *o, const char *name)
{
    for (int i = 0; i < o->n; i++) {
        if (strcmp(o->params[i].name, name) == 0)
            return o->params[i].value;
    }
    return NULL;
}

TEST(static_and_params)
{
    souk_router *r = souk_router_new();
    CHECK_INT(add(r, "GET", "/", &h_root), 0);
    CHECK_INT(add(r, "GET", "/products", &h_list), 0);
    CHECK_INT(add(r, "GET", "/products/:slug", &h_show), 0);
    CHECK_INT(add(r, "GET", "/shops/:shop/products/:id", &h_deep), 0);

    outcome o = match(r, "GET", "/");
    CHECK_INT(o.rc, SOUK_ROUTE_FOUND);
    CHECK(o.data == &h_root);
    CHECK_INT(o.n, 0);

    o = match(r, "GET", "/products");
    CHECK_INT(o.rc, SOUK_ROUTE_FOUND);
    CHECK(o.data == &h_list);

    o = match(r, "GET", "/products/red-shoes");
    CHECK_INT(o.rc, SOUK_ROUTE_FOUND);
    CHECK(o.data == &h_show);
    CHECK_INT(o.n, 1);
    CHECK_STR(o.params[0].name, "slug");
    CHECK_STR(o.params[0].value, "red-shoes");

    o = match(r, "GET", "/shops/7/products/42");
    CHECK_INT(o.rc, SOUK_ROUTE_FOUND);
    CHECK(o.data == &h_deep);
    CHECK_INT(o.n, 2);
    CHECK_STR(o.params[0].name, "shop");
    CHECK_STR(o.params[0].value, "7");
    CHECK_STR(o.params[1].name, "id");
    CHECK_STR(o.params[1].value, "42");

    /* Values are the decoded path's bytes, not decoded again. */
    o = match(r, "GET", "/products/a%20b c");
    CHECK_STR(param(&o, "slug"), "a%20b c");

    CHECK_INT(match(r, "GET", "/nothing").rc, SOUK_ROUTE_NOT_FOUND);
    CHECK_INT(match(r, "GET", "/products/a/b").rc, SOUK_ROUTE_NOT_FOUND);
    CHECK_INT(match(r, "GET", "/shops/7/products").rc, SOUK_ROUTE_NOT_FOUND);
    /* A parameter needs a non-empty segment. */
    CHECK_INT(match(r, "GET", "/shops//products/1").rc, SOUK_ROUTE_NOT_FOUND);
    /* Trailing slash is significant, both ways. */
    CHECK_INT(match(r, "GET", "/products/").rc, SOUK_ROUTE_NOT_FOUND);
    CHECK_INT(match(r, "GET", "/products/x/").rc, SOUK_ROUTE_NOT_FOUND);
    CHECK_INT(match(r, "GET", "//").rc, SOUK_ROUTE_NOT_FOUND);
    /* Not a path. */
    CHECK_INT(match(r, "GET", "").rc, SOUK_ROUTE_NOT_FOUND);
    CHECK_INT(match(r, "GET", "products").rc, SOUK_ROUTE_NOT_FOUND);
    CHECK_INT(match(r, "GET", "*").rc, SOUK_ROUTE_NOT_FOUND);
    CHECK_INT(match(r, "GET", NULL).rc, SOUK_ROUTE_NOT_FOUND);
    /* Case matters in paths. */
    CHECK_INT(match(r, "GET", "/Products").rc, SOUK_ROUTE_NOT_FOUND);
    souk_router_free(r);
}

TEST(trailing_slash_routes)
{
    souk_router *r = souk_router_new();
    CHECK_INT(add(r, "GET", "/admin/", &h_list), 0);
    CHECK_INT(add(r, "GET", "/admin", &h_other), 0);
    CHECK(match(r, "GET", "/admin/").data == &h_list);
    CHECK(match(r, "GET", "/admin").data == &h_other);
    CHECK_INT(match(r, "GET", "/").rc, SOUK_ROUTE_NOT_FOUND);
    souk_router_free(r);
}

TEST(precedence_regardless_of_order)
{
    /* Registered least specific first: the order must not matter. */
    souk_router *r = souk_router_new();
    CHECK_INT(add(r, "GET", "/p/*rest", &h_files), 0);
    CHECK_INT(add(r, "GET", "/p/:slug", &h_show), 0);
    CHECK_INT(add(r, "GET", "/p/new", &h_new), 0);

    CHECK(match(r, "GET", "/p/new").data == &h_new);
    outcome o = match(r, "GET", "/p/other");
    CHECK(o.data == &h_show);
    CHECK_STR(param(&o, "slug"), "other");
    o = match(r, "GET", "/p/a/b");
    CHECK(o.data == &h_files);
    CHECK_STR(param(&o, "rest"), "a/b");
    /* An empty segment cannot be a :param, so the wildcard takes it. */
    o = match(r, "GET", "/p/");
    CHECK(o.data == &h_files);
    CHECK_STR(param(&o, "rest"), "");
    souk_router_free(r);

    /* And most specific first. */
    r = souk_router_new();
    CHECK_INT(add(r, "GET", "/p/new", &h_new), 0);
    CHECK_INT(add(r, "GET", "/p/:slug", &h_show), 0);
    CHECK_INT(add(r, "GET", "/p/*rest", &h_files), 0);
    CHECK(match(r, "GET", "/p/new").data == &h_new);
    CHECK(match(r, "GET", "/p/other").data == &h_show);
    CHECK(match(r, "GET", "/p/a/b").data == &h_files);
    souk_router_free(r);
}

TEST(backtracking)
{
    /* The static branch "b" leads nowhere for "/a/b/x": fall back to ":p". */
    souk_router *r = souk_router_new();
    CHECK_INT(add(r, "GET", "/a/b/y", &h_new), 0);
    CHECK_INT(add(r, "GET", "/a/:p/x", &h_show), 0);
    CHECK_INT(add(r, "GET", "/a/*rest", &h_files), 0);
    CHECK(match(r, "GET", "/a/b/y").data == &h_new);
    outcome o = match(r, "GET", "/a/b/x");
    CHECK(o.data == &h_show);
    CHECK_INT(o.n, 1);
    CHECK_STR(param(&o, "p"), "b");
    /* Neither: the wildcard, and no stale capture from the failed ":p" branch. */
    o = match(r, "GET", "/a/b/z");
    CHECK(o.data == &h_files);
    CHECK_INT(o.n, 1);
    CHECK_STR(o.params[0].name, "rest");
    CHECK_STR(o.params[0].value, "b/z");
    souk_router_free(r);

    /* A branch only counts when it holds the method asked for. */
    r = souk_router_new();
    CHECK_INT(add(r, "POST", "/u/me", &h_me), 0);
    CHECK_INT(add(r, "GET", "/u/:id", &h_show), 0);
    o = match(r, "GET", "/u/me");
    CHECK(o.data == &h_show);
    CHECK_STR(param(&o, "id"), "me");
    CHECK(match(r, "POST", "/u/me").data == &h_me);
    souk_router_free(r);
}

TEST(wildcard)
{
    souk_router *r = souk_router_new();
    CHECK_INT(add(r, "GET", "/static/*path", &h_files), 0);
    CHECK_INT(add(r, "GET", "/*all", &h_other), 0);
    outcome o = match(r, "GET", "/static/css/site.css");
    CHECK(o.data == &h_files);
    CHECK_STR(param(&o, "path"), "css/site.css");
    o = match(r, "GET", "/static/");
    CHECK(o.data == &h_files);
    CHECK_STR(param(&o, "path"), "");
    o = match(r, "GET", "/static/a//b/");
    CHECK_STR(param(&o, "path"), "a//b/");
    /* "/static" has no segment for the wildcard: the root catch-all gets it. */
    o = match(r, "GET", "/static");
    CHECK(o.data == &h_other);
    CHECK_STR(param(&o, "all"), "static");
    o = match(r, "GET", "/");
    CHECK(o.data == &h_other);
    CHECK_STR(param(&o, "all"), "");
    souk_router_free(r);
}

TEST(head)
{
    souk_router *r = souk_router_new();
    CHECK_INT(add(r, "GET", "/a", &h_list), 0);
    CHECK_INT(add(r, "GET", "/b/:x", &h_show), 0);
    CHECK_INT(add(r, "HEAD", "/b/:x", &h_head), 0);
    CHECK_INT(add(r, "POST", "/c", &h_create), 0);
    outcome o = match(r, "HEAD", "/a");
    CHECK_INT(o.rc, SOUK_ROUTE_FOUND);
    CHECK(o.data == &h_list);
    /* An explicit HEAD route of the same shape wins over GET. */
    o = match(r, "HEAD", "/b/1");
    CHECK(o.data == &h_head);
    CHECK_STR(param(&o, "x"), "1");
    CHECK(match(r, "GET", "/b/1").data == &h_show);
    /* With both GET and HEAD routes, HEAD is listed once. */
    o = match(r, "POST", "/b/1");
    CHECK_INT(o.rc, SOUK_ROUTE_BAD_METHOD);
    CHECK_STR(o.allow, "GET, HEAD");
    /* HEAD does not reach other methods. */
    o = match(r, "HEAD", "/c");
    CHECK_INT(o.rc, SOUK_ROUTE_BAD_METHOD);
    CHECK_STR(o.allow, "POST");
    souk_router_free(r);

    /* A router without any GET route: HEAD is just another method. */
    r = souk_router_new();
    CHECK_INT(add(r, "POST", "/c", &h_create), 0);
    CHECK_INT(match(r, "HEAD", "/c").rc, SOUK_ROUTE_BAD_METHOD);
    CHECK_INT(match(r, "HEAD", "/d").rc, SOUK_ROUTE_NOT_FOUND);
    souk_router_free(r);
}

TEST(bad_method)
{
    souk_router *r = souk_router_new();
    CHECK_INT(add(r, "GET", "/users/me", &h_me), 0);
    CHECK_INT(add(r, "DELETE", "/users/:id", &h_del), 0);
    CHECK_INT(add(r, "POST", "/users", &h_create), 0);
    CHECK_INT(add(r, "GET", "/users", &h_list), 0);
    CHECK_INT(add(r, "PUT", "/files/*path", &h_files), 0);

    outcome o = match(r, "PATCH", "/users");
    CHECK_INT(o.rc, SOUK_ROUTE_BAD_METHOD);
    CHECK_STR(o.allow, "GET, HEAD, POST");
    CHECK(o.data == NULL);
    CHECK_INT(o.n, 0);

    /* Another shape answers DELETE for "/users/me": a match, not a 405. */
    o = match(r, "DELETE", "/users/me");
    CHECK_INT(o.rc, SOUK_ROUTE_FOUND);
    CHECK(o.data == &h_del);
    CHECK_STR(param(&o, "id"), "me");
    /* The Allow list gathers every shape that matches the path. */
    o = match(r, "PUT", "/users/me");
    CHECK_INT(o.rc, SOUK_ROUTE_BAD_METHOD);
    CHECK_STR(o.allow, "DELETE, GET, HEAD");
    o = match(r, "GET", "/users/42");
    CHECK_INT(o.rc, SOUK_ROUTE_BAD_METHOD);
    CHECK_STR(o.allow, "DELETE");
    o = match(r, "GET", "/files/a/b");
    CHECK_INT(o.rc, SOUK_ROUTE_BAD_METHOD);
    CHECK_STR(o.allow, "PUT");
    /* Methods are case-sensitive tokens. */
    o = match(r, "get", "/users");
    CHECK_INT(o.rc, SOUK_ROUTE_BAD_METHOD);
    CHECK_STR(o.allow, "GET, HEAD, POST");
    CHECK_INT(match(r, "PATCH", "/nowhere").rc, SOUK_ROUTE_NOT_FOUND);
    /* POST lives below "/users/me/x" but not at "/users/me" itself. */
    CHECK_INT(add(r, "POST", "/users/me/avatar", &h_new), 0);
    o = match(r, "POST", "/users/me");
    CHECK_INT(o.rc, SOUK_ROUTE_BAD_METHOD);
    CHECK_STR(o.allow, "DELETE, GET, HEAD");
    o = match(r, "POST", "/users/me/avatar");
    CHECK(o.data == &h_new);
    CHECK_INT(match(r, NULL, "/users").rc, SOUK_ROUTE_BAD_METHOD);

    /* A short buffer is cut, still NUL-terminated, never overrun. */
    char small[8];
    memset(small, 'Z', sizeof small);
    CHECK_INT(souk_router_match(r, "PATCH", "/users", &arena, NULL, NULL, NULL, small, 6),
              SOUK_ROUTE_BAD_METHOD);
    CHECK_STR(small, "GET, ");
    CHECK_INT(small[6], 'Z');
    /* No buffer at all is fine. */
    CHECK_INT(souk_router_match(r, "PATCH", "/users", &arena, NULL, NULL, NULL, NULL, 0),
              SOUK_ROUTE_BAD_METHOD);
    souk_router_free(r);
}

TEST(malformed_patterns)
{
    souk_router *r = souk_router_new();
    CHECK_INT(add(r, "GET", "", &h_other), -1);
    CHECK(strstr(err, "must start with '/'") != NULL);
    CHECK_INT(add(r, "GET", "products", &h_other), -1);
    CHECK_STR(err, "route pattern 'products' must start with '/'");
    CHECK_INT(add(r, "GET", NULL, &h_other), -1);
    CHECK_INT(add(r, "GET", "/a/:", &h_other), -1);
    CHECK_STR(err, "route pattern '/a/:': empty parameter name in segment 2");
    CHECK_INT(add(r, "GET", "/a/*", &h_other), -1);
    CHECK(strstr(err, "empty parameter name") != NULL);
    CHECK_INT(add(r, "GET", "/*rest/x", &h_other), -1);
    CHECK_STR(err, "route pattern '/*rest/x': '*rest' must be the last segment");
    CHECK_INT(add(r, "GET", "/*rest/", &h_other), -1);
    CHECK_INT(add(r, "GET", "/:id/x/:id", &h_other), -1);
    CHECK_STR(err, "route pattern '/:id/x/:id': parameter 'id' repeated");
    CHECK_INT(add(r, "GET", "/:id/*id", &h_other), -1);
    CHECK(strstr(err, "repeated") != NULL);
    CHECK_INT(add(r, "GET", "/a//b", &h_other), -1);
    CHECK_STR(err, "route pattern '/a//b': empty segment 2");
    CHECK_INT(add(r, "GET", "//", &h_other), -1);
    CHECK_INT(add(r, "GET", "/:a-b", &h_other), -1);
    CHECK(strstr(err, "must be [A-Za-z0-9_]") != NULL);
    CHECK_INT(add(r, "GET", "/:a:b", &h_other), -1);
    CHECK_INT(add(r, "GET", "/:", &h_other), -1);

    char pat[512];
    size_t n = 0;
    for (int i = 0; i <= SOUK_ROUTER_MAX_PARAMS; i++)
        n += (size_t)snprintf(pat + n, sizeof pat - n, "/:p%d", i);
    CHECK_INT(add(r, "GET", pat, &h_other), -1);
    CHECK(strstr(err, "more than 16 parameters") != NULL);
    n = 0;
    for (int i = 0; i <= SOUK_ROUTER_MAX_SEGMENTS; i++)
        n += (size_t)snprintf(pat + n, sizeof pat - n, "/s");
    CHECK_INT(add(r, "GET", pat, &h_other), -1);
    CHECK(strstr(err, "more than 32 segments") != NULL);

    CHECK_INT(add(r, "", "/x", &h_other), -1);
    CHECK(strstr(err, "not a valid HTTP method") != NULL);
    CHECK_INT(add(r, "G T", "/x", &h_other), -1);
    CHECK_INT(add(r, "GET\r\n", "/x", &h_other), -1);
    CHECK_INT(add(r, NULL, "/x", &h_other), -1);
    CHECK_INT(add(r, "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG", "/x", &h_other), -1);

    /* Nothing of the refused routes was registered. */
    CHECK_INT(match(r, "GET", "/a/x").rc, SOUK_ROUTE_NOT_FOUND);
    CHECK_INT(match(r, "GET", "/products").rc, SOUK_ROUTE_NOT_FOUND);
    CHECK_INT(match(r, "GET", "/s/s").rc, SOUK_ROUTE_NOT_FOUND);
    CHECK_INT(match(r, "GET", "/x").rc, SOUK_ROUTE_NOT_FOUND);

    /* What is allowed: ':' and '*' inside a static segment, the limits exactly,
     * other methods. */
    CHECK_INT(add(r, "GET", "/a:b/c*d", &h_other), 0);
    CHECK(match(r, "GET", "/a:b/c*d").data == &h_other);
    n = 0;
    for (int i = 0; i < SOUK_ROUTER_MAX_PARAMS; i++)
        n += (size_t)snprintf(pat + n, sizeof pat - n, "/:p%d", i);
    CHECK_INT(add(r, "GET", pat, &h_deep), 0);
    outcome o = match(r, "GET", "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16");
    CHECK(o.data == &h_deep);
    CHECK_INT(o.n, SOUK_ROUTER_MAX_PARAMS);
    CHECK_STR(param(&o, "p15"), "16");
    CHECK_INT(add(r, "M-SEARCH", "/x", &h_other), 0);
    CHECK(match(r, "M-SEARCH", "/x").data == &h_other);
    souk_router_free(r);
}

TEST(duplicates)
{
    souk_router *r = souk_router_new();
    CHECK_INT(add(r, "GET", "/p/:id", &h_show), 0);
    CHECK_INT(add(r, "GET", "/p/:id", &h_other), -1);
    CHECK_STR(err, "duplicate route GET /p/:id (same shape as /p/:id)");
    CHECK_INT(add(r, "GET", "/p/:slug", &h_other), -1);
    CHECK_STR(err, "duplicate route GET /p/:slug (same shape as /p/:id)");
    CHECK_INT(add(r, "GET", "/f/*a", &h_files), 0);
    CHECK_INT(add(r, "GET", "/f/*b", &h_other), -1);
    CHECK_INT(add(r, "GET", "/", &h_root), 0);
    CHECK_INT(add(r, "GET", "/", &h_other), -1);
    /* The first registration is still the one that answers. */
    CHECK(match(r, "GET", "/p/1").data == &h_show);
    /* Same shape, other method; and other shapes: not duplicates. */
    CHECK_INT(add(r, "POST", "/p/:slug", &h_create), 0);
    CHECK_INT(add(r, "GET", "/p/:id/edit", &h_new), 0);
    CHECK_INT(add(r, "GET", "/p/*rest", &h_files), 0);
    CHECK_INT(add(r, "GET", "/p/", &h_list), 0);
    /* Each route keeps its own parameter names. */
    outcome o = match(r, "POST", "/p/9");
    CHECK(o.data == &h_create);
    CHECK_STR(o.params[0].name, "slug");
    o = match(r, "GET", "/p/9");
    CHECK_STR(o.params[0].name, "id");
    souk_router_free(r);
}

TEST(pattern_copied)
{
    souk_router *r = souk_router_new();
    char method[] = "GET", pattern[] = "/items/:item/:part";
    CHECK_INT(add(r, method, pattern, &h_show), 0);
    memset(pattern, 'x', sizeof pattern - 1);
    memset(method, 'x', sizeof method - 1);
    outcome o = match(r, "GET", "/items/a/b");
    CHECK(o.data == &h_show);
    CHECK_INT(o.n, 2);
    CHECK_STR(o.params[0].name, "item");
    CHECK_STR(o.params[1].name, "part");
    CHECK_STR(o.params[1].value, "b");
    souk_router_free(r);
}

TEST(many_routes)
{
    /* A table of the size a store has: every route answers for itself. */
    enum { N = 120 };
    static int slots[N];
    char pat[64], path[64];
    souk_router *r = souk_router_new();
    for (int i = 0; i < N; i++) {
        switch (i % 4) {
        case 0: snprintf(pat, sizeof pat, "/s%d", i); break;
        case 1: snprintf(pat, sizeof pat, "/s%d/:id", i); break;
        case 2: snprintf(pat, sizeof pat, "/s%d/:id/sub/:sub", i); break;
        default: snprintf(pat, sizeof pat, "/s%d/*rest", i); break;
        }
        CHECK_INT(add(r, i % 3 ? "GET" : "POST", pat, &slots[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        const char *m = i % 3 ? "GET" : "POST";
        switch (i % 4) {
        case 0: snprintf(path, sizeof path, "/s%d", i); break;
        case 1: snprintf(path, sizeof path, "/s%d/x%d", i, i); break;
        case 2: snprintf(path, sizeof path, "/s%d/x/sub/y", i); break;
        default: snprintf(path, sizeof path, "/s%d/a/b", i); break;
        }
        outcome o = match(r, m, path);
        CHECK_INT(o.rc, SOUK_ROUTE_FOUND);
        CHECK(o.data == &slots[i]);
        CHECK_INT(match(r, i % 3 ? "POST" : "GET", path).rc, SOUK_ROUTE_BAD_METHOD);
    }
    CHECK_INT(match(r, "GET", "/s999").rc, SOUK_ROUTE_NOT_FOUND);
    souk_router_free(r);
    souk_router_free(NULL);
}

int main(void)
{
    souk_arena_init(&arena, 4096);
    RUN(static_and_params);
    RUN(trailing_slash_routes);
    RUN(precedence_regardless_of_order);
    RUN(backtracking);
    RUN(wildcard);
    RUN(head);
    RUN(bad_method);
    RUN(malformed_patterns);
    RUN(duplicates);
    RUN(pattern_copied);
    RUN(many_routes);
    souk_arena_free(&arena);
    return test_report();
}
