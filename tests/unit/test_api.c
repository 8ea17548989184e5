/* test_api.c -- the response slots of the host API (api.c) that guard the wire:
 * redirects (no open redirect), cookies (whole, attributes that stay attributes,
 * prefixes that need TLS) and statuses (final ones only).  The ctx is built by hand:
 * these slots need a request, a response and the store's https setting, nothing
 * else of an app. */
#include "app_internal.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

/* A cookie value longer than any fixed line buffer a Set-Cookie could be built in. */
#define LONG_VALUE_SIZE 6000

typedef struct fixture {
    souk_app app;
    souk_arena arena;
    souk_header headers[1];
    souk_request req;
    souk_response res;
    souk_ctx ctx;
} fixture;

/* A GET with Host: host (none when NULL) on a store served over TLS or not. */
static void fixture_init(fixture *f, int https, const char *host)
{
    memset(f, 0, sizeof *f);
    f->app.cfg.https = https;
    souk_arena_init(&f->arena, 4096);
    f->req.arena = &f->arena;
    f->req.method = "GET";
    f->req.path = "/";
    f->req.target = "/";
    f->req.query = "";
    f->req.body = "";
    f->headers[0].name = "Host";
    f->headers[0].value = host;
    f->req.headers = f->headers;
    f->req.n_headers = host ? 1 : 0;
    souk_response_init(&f->res, &f->arena);
    souk_ctx_init(&f->ctx, &f->app, &f->arena);
    f->ctx.req = &f->req;
    f->ctx.res = &f->res;
}

static void fixture_free(fixture *f)
{
    json_decref(f->ctx.view);
    json_decref(f->ctx.flash);
    souk_arena_free(&f->arena);
}

/* The value of the last Set-Cookie header, or NULL. */
static const char *last_cookie(const fixture *f)
{
    const char *v = NULL;
    for (int i = 0; i < f->res.n_headers; i++)
        if (strcmp(f->res.headers[i].name, "Set-Cookie") == 0)
            v = f->res.headers[i].value;
    return v;
}

static int redirect(const char *host, int status, const char *location)
{
    fixture f;
    fixture_init(&f, 0, host);
    int rc = souk_api_table.res_redirect(&f.ctx, status, location);
    if (rc == SOUK_OK && (f.ctx.status != status || !f.ctx.redirect ||
                          strcmp(f.ctx.redirect, location) != 0))
        rc = 99; /* accepted, but not recorded as asked */
    if (rc != SOUK_OK && (f.ctx.redirect || f.ctx.status != 200))
        rc = 98; /* refused, but left something behind */
    fixture_free(&f);
    return rc;
}

TEST(redirect_stays_on_this_site)
{
    const char *host = "shop.example:8080";
    CHECK_INT(redirect(host, 303, "/orders/7?x=1#top"), SOUK_OK);
    CHECK_INT(redirect(host, 302, "/"), SOUK_OK);
    CHECK_INT(redirect(host, 301, "http://shop.example:8080/a"), SOUK_OK);
    CHECK_INT(redirect(host, 307, "HTTPS://Shop.Example:8080"), SOUK_OK);
    CHECK_INT(redirect(host, 308, "https://shop.example:8080?q"), SOUK_OK);
    /* Another host, however spelt. */
    CHECK_INT(redirect(host, 303, "//evil.example/"), SOUK_ERR);
    CHECK_INT(redirect(host, 303, "/\\evil.example/"), SOUK_ERR);
    CHECK_INT(redirect(host, 303, "/\t/evil.example/"), SOUK_ERR);
    CHECK_INT(redirect(host, 303, "/\n/evil.example/"), SOUK_ERR);
    CHECK_INT(redirect(host, 303, "https://evil.example/"), SOUK_ERR);
    CHECK_INT(redirect(host, 303, "https://shop.example:8080.evil.example/"), SOUK_ERR);
    CHECK_INT(redirect(host, 303, "https://shop.example:8080@evil.example/"), SOUK_ERR);
    CHECK_INT(redirect(host, 303, "https://shop.example/"), SOUK_ERR); /* other port */
    CHECK_INT(redirect(NULL, 303, "https://shop.example:8080/"), SOUK_ERR);
    CHECK_INT(redirect(host, 303, "javascript:alert(1)"), SOUK_ERR);
    CHECK_INT(redirect(host, 303, "evil.example"), SOUK_ERR);
    CHECK_INT(redirect(host, 303, ""), SOUK_ERR);
    CHECK_INT(redirect(host, 303, "/a b"), SOUK_ERR);
    CHECK_INT(redirect(host, 303, "/a\r\nSet-Cookie: x=1"), SOUK_ERR);
    CHECK_INT(redirect(host, 303, NULL), SOUK_ERR);
    /* Only the statuses that redirect. */
    CHECK_INT(redirect(host, 200, "/a"), SOUK_ERR);
    CHECK_INT(redirect(host, 304, "/a"), SOUK_ERR);
    CHECK_INT(redirect(host, 300, "/a"), SOUK_ERR);
}

TEST(long_cookie_is_whole)
{
    fixture f;
    fixture_init(&f, 1, "shop.example");
    char *value = malloc(LONG_VALUE_SIZE + 1);
    memset(value, 'v', LONG_VALUE_SIZE);
    value[LONG_VALUE_SIZE] = '\0';
    souk_cookie o = {3600, 1, "Strict", "/account"};
    CHECK_INT(souk_api_table.res_cookie(&f.ctx, "big", value, &o), SOUK_OK);
    const char *line = last_cookie(&f);
    CHECK(line != NULL);
    if (line) {
        CHECK(strncmp(line, "big=", 4) == 0);
        CHECK(strncmp(line + 4, value, LONG_VALUE_SIZE) == 0);
        CHECK_STR(line + 4 + LONG_VALUE_SIZE,
                  "; Path=/account; SameSite=Strict; Max-Age=3600; HttpOnly; Secure");
    }
    free(value);
    fixture_free(&f);
}

static int cookie(int https, const char *name, const char *value, const souk_cookie *o)
{
    fixture f;
    fixture_init(&f, https, "shop.example");
    int rc = souk_api_table.res_cookie(&f.ctx, name, value, o);
    if (rc != SOUK_OK && last_cookie(&f))
        rc = 98; /* refused, but a header went out */
    fixture_free(&f);
    return rc;
}

TEST(cookie_attributes)
{
    souk_cookie lax = {0, 1, "Lax", "/"};
    souk_cookie none = {0, 1, "None", "/"};
    souk_cookie sub = {0, 1, "Lax", "/account"};
    CHECK_INT(cookie(0, "sid", "abc", &lax), SOUK_OK);
    CHECK_INT(cookie(0, "sid", "abc", NULL), SOUK_OK);
    /* A path or SameSite that would smuggle in more attributes. */
    souk_cookie bad_path = {0, 1, "Lax", "/; Domain=evil.example"};
    souk_cookie rel_path = {0, 1, "Lax", "account"};
    souk_cookie bad_site = {0, 1, "Lax; Domain=evil.example", "/"};
    CHECK_INT(cookie(0, "sid", "abc", &bad_path), SOUK_ERR);
    CHECK_INT(cookie(0, "sid", "abc", &rel_path), SOUK_ERR);
    CHECK_INT(cookie(0, "sid", "abc", &bad_site), SOUK_ERR);
    /* Names are tokens; values need no quoting. */
    CHECK_INT(cookie(0, "a b", "abc", &lax), SOUK_ERR);
    CHECK_INT(cookie(0, "s\xc3\xa9", "abc", &lax), SOUK_ERR);
    CHECK_INT(cookie(0, "sid", "a;b", &lax), SOUK_ERR);
    /* What only works with Secure, which only TLS stores get. */
    CHECK_INT(cookie(0, "sid", "abc", &none), SOUK_ERR);
    CHECK_INT(cookie(1, "sid", "abc", &none), SOUK_OK);
    CHECK_INT(cookie(0, "__Host-sid", "abc", &lax), SOUK_ERR);
    CHECK_INT(cookie(1, "__Host-sid", "abc", &lax), SOUK_OK);
    CHECK_INT(cookie(1, "__Host-sid", "abc", &sub), SOUK_ERR); /* __Host- needs Path=/ */
    CHECK_INT(cookie(0, "__Secure-sid", "abc", &sub), SOUK_ERR);
    CHECK_INT(cookie(1, "__Secure-sid", "abc", &sub), SOUK_OK);

    fixture f; /* Secure behind TLS only */
    fixture_init(&f, 0, "shop.example");
    souk_api_table.res_cookie(&f.ctx, "sid", "abc", &lax);
    CHECK_STR(last_cookie(&f), "sid=abc; Path=/; SameSite=Lax; HttpOnly");
    fixture_free(&f);
    fixture_init(&f, 1, "shop.example");
    souk_cookie gone = {-1, 1, NULL, NULL};
    souk_api_table.res_cookie(&f.ctx, "__Host-sid", "", &gone);
    CHECK_STR(last_cookie(&f), "__Host-sid=; Path=/; SameSite=Lax; Max-Age=0; HttpOnly; Secure");
    fixture_free(&f);
}

TEST(final_statuses_only)
{
    fixture f;
    fixture_init(&f, 0, "shop.example");
    souk_api_table.res_status(&f.ctx, 201);
    CHECK_INT(f.ctx.status, 201);
    souk_api_table.res_status(&f.ctx, 599);
    CHECK_INT(f.ctx.status, 599);
    souk_api_table.res_status(&f.ctx, 101); /* interim: would break the framing */
    CHECK_INT(f.ctx.status, 500);
    souk_api_table.res_status(&f.ctx, 200);
    souk_api_table.res_status(&f.ctx, 0);
    CHECK_INT(f.ctx.status, 500);
    souk_api_table.res_status(&f.ctx, 200);
    souk_api_table.res_status(&f.ctx, 1000);
    CHECK_INT(f.ctx.status, 500);
    fixture_free(&f);
}

int main(void)
{
    RUN(redirect_stays_on_this_site);
    RUN(long_cookie_is_whole);
    RUN(cookie_attributes);
    RUN(final_statuses_only);
    return test_report();
}
