/* test_accesslog.c -- the access log line: fields, quoting and escaping, bounds. */
#include "accesslog.h"
#include "test.h"

#include <souk/souk.h>
#include <stdlib.h>
#include <string.h>

/* The line without its timestamp (the first field), which changes every call. */
static const char *after_ts(const char *line)
{
    CHECK(strncmp(line, "ts=", 3) == 0);
    const char *sp = strchr(line, ' ');
    return sp ? sp + 1 : "";
}

static souk_request make_req(const char *method, const char *path, souk_header *h, int nh)
{
    souk_request req;
    memset(&req, 0, sizeof req);
    req.method = method;
    req.path = path;
    req.target = path;
    req.query = "";
    req.headers = h;
    req.n_headers = nh;
    snprintf(req.ip, sizeof req.ip, "127.0.0.1");
    snprintf(req.id, sizeof req.id, "00af3c");
    return req;
}

TEST(plain_line)
{
    souk_accesslog_setup("worker.1", SOUK_LOG_INFO);
    souk_header h[] = {{"user-agent", "curl/8.0"}, {"Accept", "*/*"}};
    souk_request req = make_req("GET", "/products/tea", h, 2);
    souk_response res;
    memset(&res, 0, sizeof res);
    res.status = 200;
    res.route = "/products/:slug";
    char line[SOUK_ACCESSLOG_LINE_MAX + 1];
    size_t n = souk_accesslog_format(line, sizeof line, &req, &res, 123, 0.42);
    CHECK_INT(n, strlen(line));
    CHECK_STR(after_ts(line),
              "level=info src=worker.1 kind=access id=00af3c method=GET path=\"/products/tea\" "
              "status=200 bytes=123 ms=0.420 route=\"/products/:slug\" ip=127.0.0.1 "
              "ua=\"curl/8.0\"");
    /* ts=YYYY-MM-DDTHH:MM:SS.mmmZ */
    CHECK(strlen(line) > 27 && line[13] == 'T' && line[26] == 'Z' && line[27] == ' ');
}

TEST(escaping)
{
    souk_accesslog_setup("worker.2", SOUK_LOG_INFO);
    /* quote, backslash, a control byte, valid UTF-8 kept, invalid bytes escaped */
    souk_header h[] = {{"User-Agent", "evil\" ua=x\n"}};
    souk_request req = make_req("GET", "/a\"b\\c\x01\xd0\x96\xff\xc0\xaf", h, 1);
    snprintf(req.ip, sizeof req.ip, "::1");
    souk_response res;
    memset(&res, 0, sizeof res);
    res.status = 404;
    res.route = "notfound";
    char line[SOUK_ACCESSLOG_LINE_MAX + 1];
    souk_accesslog_format(line, sizeof line, &req, &res, 0, 1.5);
    CHECK_STR(after_ts(line),
              "level=info src=worker.2 kind=access id=00af3c method=GET "
              "path=\"/a\\\"b\\\\c\\x01\xd0\x96\\xff\\xc0\\xaf\" status=404 bytes=0 ms=1.500 "
              "route=\"notfound\" ip=::1 ua=\"evil\\\" ua=x\\x0a\"");
    CHECK(strchr(line, '\n') == NULL);
}

/* A request that failed before its head was parsed: no method, path or route. */
TEST(missing_fields)
{
    souk_accesslog_setup("worker.0", SOUK_LOG_INFO);
    souk_request req;
    memset(&req, 0, sizeof req);
    souk_response res;
    memset(&res, 0, sizeof res);
    res.status = 400;
    char line[SOUK_ACCESSLOG_LINE_MAX + 1];
    souk_accesslog_format(line, sizeof line, &req, &res, 11, -3);
    CHECK_STR(after_ts(line), "level=info src=worker.0 kind=access id=- method=- path=- "
                              "status=400 bytes=11 ms=0.000 route=- ip=- ua=-");
    souk_accesslog_format(line, sizeof line, NULL, NULL, 0, 0);
    CHECK_STR(after_ts(line), "level=info src=worker.0 kind=access id=- method=- path=- "
                              "status=- bytes=0 ms=0.000 route=- ip=- ua=-");
}

/* A method or ip that is not a plain token is quoted rather than break the line. */
TEST(token_quoted_when_needed)
{
    souk_accesslog_setup("worker.0", SOUK_LOG_INFO);
    souk_request req = make_req("GE T", "/", NULL, 0);
    souk_response res;
    memset(&res, 0, sizeof res);
    res.status = 501;
    char line[SOUK_ACCESSLOG_LINE_MAX + 1];
    souk_accesslog_format(line, sizeof line, &req, &res, 0, 0);
    CHECK(strstr(line, " method=\"GE T\" ") != NULL);
}

/* Huge values are cut with "..." and the line stays within its bound; a value cut
 * never ends in half a UTF-8 character. */
TEST(bounds)
{
    souk_accesslog_setup("worker.0", SOUK_LOG_INFO);
    size_t big = 20000;
    char *path = malloc(big + 1);
    char *ua = malloc(big + 1);
    CHECK(path && ua);
    if (!path || !ua) {
        free(path);
        free(ua);
        return;
    }
    path[0] = '/';
    for (size_t i = 1; i + 1 < big; i += 2) {
        path[i] = (char)0xD0;
        path[i + 1] = (char)0x96;
    }
    path[big - 1] = '/';
    path[big] = '\0';
    memset(ua, '"', big); /* every byte doubles when escaped */
    ua[big] = '\0';
    souk_header h[] = {{"User-Agent", ua}};
    souk_request req = make_req("GET", path, h, 1);
    souk_response res;
    memset(&res, 0, sizeof res);
    res.status = 200;
    res.route = "/x";
    char line[SOUK_ACCESSLOG_LINE_MAX + 1];
    size_t n = souk_accesslog_format(line, sizeof line, &req, &res, 1, 1);
    CHECK(n <= SOUK_ACCESSLOG_LINE_MAX);
    const char *p = strstr(line, " path=\"");
    const char *u = strstr(line, " ua=\"");
    CHECK(p && u);
    if (p && u) {
        p += 7;
        const char *end = strstr(p, "...\" ");
        CHECK(end != NULL);
        CHECK(end && (size_t)(end - p) <= SOUK_ACCESSLOG_PATH_MAX);
        CHECK(end && (end - p - 1) % 2 == 0);      /* whole two-byte characters */
        CHECK(strcmp(line + n - 4, "...\"") == 0); /* ua cut too */
        CHECK((size_t)(line + n - (u + 5)) <= SOUK_ACCESSLOG_UA_MAX);
        CHECK(strstr(line, " status=200 bytes=1 ms=1.000 route=\"/x\" ip=127.0.0.1 ") != NULL);
    }
    /* a small buffer is never overrun */
    char tiny[16];
    CHECK_INT(souk_accesslog_format(tiny, sizeof tiny, &req, &res, 1, 1), sizeof tiny - 1);
    CHECK_INT(strlen(tiny), sizeof tiny - 1);
    free(path);
    free(ua);
}

int main(void)
{
    RUN(plain_line);
    RUN(escaping);
    RUN(missing_fields);
    RUN(token_quoted_when_needed);
    RUN(bounds);
    return test_report();
}
