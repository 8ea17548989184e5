/* test_http.c -- request/response helpers and the input parsers of core/http.c. */
#include "http.h"
#include "test.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static souk_arena arena;

/* ------------------------------------------------------- request, response */

TEST(request_header)
{
    souk_header h[] = {{"Host", "example.test"}, {"Accept-Language", "ru"},
                       {"X-Dup", "first"}, {"x-dup", "second"}};
    souk_request req = {0};
    req.headers = h;
    req.n_headers = 4;
    CHECK_STR(souk_request_header(&req, "host"), "example.test");
    CHECK_STR(souk_request_header(&req, "ACCEPT-LANGUAGE"), "ru");
    CHECK_STR(souk_request_header(&req, "X-DUP"), "first");
    CHECK(souk_request_header(&req, "Cookie") == NULL);
    CHECK(souk_request_header(&req, "Hos") == NULL);
    req.n_headers = 0;
    CHECK(souk_request_header(&req, "Host") == NULL);
}

TEST(response_init)
{
    souk_response res;
    memset(&res, 0x5a, sizeof res);
    souk_response_init(&res, &arena);
    CHECK_INT(res.status, 200);
    CHECK_INT(res.file_fd, -1);
    CHECK_INT(res.n_headers, 0);
    CHECK_INT(res.cap_headers, 0);
    CHECK(res.headers == NULL);
    CHECK(res.body == NULL);
    CHECK_INT(res.body_len, 0);
    CHECK(res.content_type == NULL);
    CHECK_INT(res.close, 0);
    CHECK_INT(res.compressible, 0);
    CHECK(res.route == NULL);
}

TEST(response_header_grows_and_copies)
{
    souk_response res;
    souk_response_init(&res, &arena);
    char name[32], value[32];
    for (int i = 0; i < 50; i++) {
        snprintf(name, sizeof name, "X-H%d", i);
        snprintf(value, sizeof value, "v%d", i);
        souk_response_header(&res, &arena, name, value);
    }
    strcpy(name, "clobbered"); /* the response must hold copies */
    CHECK_INT(res.n_headers, 50);
    CHECK(res.cap_headers >= 50);
    CHECK_STR(res.headers[0].name, "X-H0");
    CHECK_STR(res.headers[0].value, "v0");
    CHECK_STR(res.headers[49].name, "X-H49");
    CHECK_STR(res.headers[49].value, "v49");
    CHECK_STR(res.headers[17].name, "X-H17");
}

TEST(response_header_refuses_injection)
{
    souk_response res;
    souk_response_init(&res, &arena);
    souk_response_header(&res, &arena, "Location", "/a\r\nSet-Cookie: x=1");
    souk_response_header(&res, &arena, "Location", "/a\nb");
    souk_response_header(&res, &arena, "Bad Name", "x");
    souk_response_header(&res, &arena, "", "x");
    souk_response_header(&res, &arena, "X-Ok", "tab\tis fine");
    CHECK_INT(res.n_headers, 1);
    CHECK_STR(res.headers[0].name, "X-Ok");
}

TEST(header_valid)
{
    CHECK(souk_http_header_valid("Content-Type", "text/html; charset=utf-8"));
    CHECK(souk_http_header_valid("X-Empty", ""));
    CHECK(souk_http_header_valid("X", "caf\xc3\xa9")); /* obs-text passes */
    CHECK(!souk_http_header_valid("X", "a\rb"));
    CHECK(!souk_http_header_valid("X", "a\nb"));
    CHECK(!souk_http_header_valid("X", "a\x01z"));
    CHECK(!souk_http_header_valid("X", "a\x7fz"));
    CHECK(!souk_http_header_valid("X:Y", "v"));
    CHECK(!souk_http_header_valid("X Y", "v"));
    CHECK(!souk_http_header_valid("", "v"));
    CHECK(!souk_http_header_valid(NULL, "v"));
    CHECK(!souk_http_header_valid("X", NULL));
}

TEST(response_body)
{
    souk_response res;
    souk_response_init(&res, &arena);
    char src[] = "hello\0world";
    char type[] = "text/plain";
    souk_response_body(&res, &arena, type, src, sizeof src - 1);
    src[0] = 'j';
    type[0] = 'X';
    CHECK_INT(res.body_len, 11);
    CHECK(memcmp(res.body, "hello\0world", 11) == 0);
    CHECK_INT(res.body[11], 0);
    CHECK_STR(res.content_type, "text/plain");

    souk_response_body(&res, &arena, NULL, NULL, 5);
    CHECK_INT(res.body_len, 0);
    CHECK_STR(res.body, "");
    CHECK(res.content_type == NULL);
}

TEST(reason)
{
    CHECK_STR(souk_http_reason(100), "Continue");
    CHECK_STR(souk_http_reason(200), "OK");
    CHECK_STR(souk_http_reason(204), "No Content");
    CHECK_STR(souk_http_reason(303), "See Other");
    CHECK_STR(souk_http_reason(304), "Not Modified");
    CHECK_STR(souk_http_reason(308), "Permanent Redirect");
    CHECK_STR(souk_http_reason(400), "Bad Request");
    CHECK_STR(souk_http_reason(404), "Not Found");
    CHECK_STR(souk_http_reason(405), "Method Not Allowed");
    CHECK_STR(souk_http_reason(408), "Request Timeout");
    CHECK_STR(souk_http_reason(413), "Content Too Large");
    CHECK_STR(souk_http_reason(414), "URI Too Long");
    CHECK_STR(souk_http_reason(422), "Unprocessable Content");
    CHECK_STR(souk_http_reason(429), "Too Many Requests");
    CHECK_STR(souk_http_reason(431), "Request Header Fields Too Large");
    CHECK_STR(souk_http_reason(500), "Internal Server Error");
    CHECK_STR(souk_http_reason(501), "Not Implemented");
    CHECK_STR(souk_http_reason(503), "Service Unavailable");
    CHECK_STR(souk_http_reason(505), "HTTP Version Not Supported");
    CHECK_STR(souk_http_reason(511), "Network Authentication Required");
    CHECK_STR(souk_http_reason(0), "Unknown");
    CHECK_STR(souk_http_reason(299), "Unknown");
    CHECK_STR(souk_http_reason(600), "Unknown");
    CHECK_STR(souk_http_reason(-1), "Unknown");
    /* Every code in the common range has a phrase or says Unknown, never NULL. */
    for (int s = 100; s <= 599; s++)
        CHECK(souk_http_reason(s) != NULL && souk_http_reason(s)[0] != '\0');
}

/* ------------------------------------------------------ percent-encoding */

static const char *dec(const char *s, int form)
{
    return souk_url_decode(&arena, s, strlen(s), form);
}

TEST(url_decode)
{
    CHECK_STR(dec("plain", 0), "plain");
    CHECK_STR(dec("", 0), "");
    CHECK_STR(dec("a%20b", 0), "a b");
    CHECK_STR(dec("%41%42%43", 0), "ABC");
    CHECK_STR(dec("%4a%4A", 0), "JJ");
    CHECK_STR(dec("a+b", 0), "a+b");
    CHECK_STR(dec("a+b", 1), "a b");
    CHECK_STR(dec("%2B", 1), "+");
    CHECK_STR(dec("%25", 0), "%");
    CHECK_STR(dec("%25zz", 0), "%zz"); /* decoded once, not twice */
    CHECK_STR(dec("caf%C3%A9", 0), "caf\xc3\xa9");
    CHECK_STR(dec("%FF%FE", 0), "\xff\xfe"); /* bytes: not UTF-8, still decoded */
    /* Only len bytes are read. */
    CHECK_STR(souk_url_decode(&arena, "ab%41cd", 5, 0), "abA");
    CHECK_STR(souk_url_decode(&arena, NULL, 0, 0), "");
}

TEST(url_decode_rejects)
{
    CHECK(dec("%", 0) == NULL);
    CHECK(dec("abc%", 0) == NULL);
    CHECK(dec("%4", 0) == NULL);
    CHECK(dec("%4g", 0) == NULL);
    CHECK(dec("%g4", 0) == NULL);
    CHECK(dec("%zz", 0) == NULL);
    CHECK(dec("% 4", 0) == NULL);
    CHECK(dec("%00", 0) == NULL);
    CHECK(dec("a%00b", 1) == NULL);
    /* A raw NUL inside len is refused too. */
    CHECK(souk_url_decode(&arena, "a\0b", 3, 0) == NULL);
    /* A truncated escape at the end of len, though the string goes on. */
    CHECK(souk_url_decode(&arena, "ab%41", 4, 0) == NULL);
}

/* ------------------------------------------------------------ urlencoded */

static char err[256];

/* Parse s into a fresh object; returns it (yours) or NULL with err set. */
static json_t *form(const char *s)
{
    json_t *obj = json_object();
    err[0] = '\0';
    if (souk_parse_urlencoded(&arena, s, strlen(s), obj, err, sizeof err) < 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

static const char *get_s(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

TEST(urlencoded_basic)
{
    json_t *o = form("a=1&b=2&a=3");
    CHECK(o != NULL);
    json_t *a = json_object_get(o, "a");
    CHECK(json_is_array(a));
    CHECK_INT(json_array_size(a), 2);
    CHECK_STR(json_string_value(json_array_get(a, 0)), "1");
    CHECK_STR(json_string_value(json_array_get(a, 1)), "3");
    CHECK_STR(get_s(o, "b"), "2");
    CHECK_INT(json_object_size(o), 2);
    json_decref(o);

    o = form("x=1&x=2&x=3&x=4");
    CHECK_INT(json_array_size(json_object_get(o, "x")), 4);
    CHECK_STR(json_string_value(json_array_get(json_object_get(o, "x"), 3)), "4");
    json_decref(o);
}

TEST(urlencoded_shapes)
{
    json_t *o = form("a");
    CHECK_STR(get_s(o, "a"), "");
    json_decref(o);

    o = form("a=");
    CHECK_STR(get_s(o, "a"), "");
    json_decref(o);

    o = form("a=1&&b=2&");
    CHECK_INT(json_object_size(o), 2);
    CHECK_STR(get_s(o, "a"), "1");
    CHECK_STR(get_s(o, "b"), "2");
    json_decref(o);

    o = form("&&&");
    CHECK(o != NULL);
    CHECK_INT(json_object_size(o), 0);
    json_decref(o);

    o = form("");
    CHECK_INT(json_object_size(o), 0);
    json_decref(o);

    /* Empty key: skipped (documented choice), the rest still parsed. */
    o = form("=x&b=2&=");
    CHECK(o != NULL);
    CHECK_INT(json_object_size(o), 1);
    CHECK_STR(get_s(o, "b"), "2");
    json_decref(o);

    /* Brackets are ordinary characters. */
    o = form("a[b]=1&a[]=2&a[]=3");
    CHECK_STR(get_s(o, "a[b]"), "1");
    CHECK_INT(json_array_size(json_object_get(o, "a[]")), 2);
    CHECK(json_object_get(o, "a") == NULL);
    json_decref(o);

    /* The first '=' splits; later ones belong to the value. */
    o = form("eq=1=2");
    CHECK_STR(get_s(o, "eq"), "1=2");
    json_decref(o);

    o = form("q=red+shoes&my+key=a%2Bb&amp=%26&pct=100%25");
    CHECK_STR(get_s(o, "q"), "red shoes");
    CHECK_STR(get_s(o, "my key"), "a+b");
    CHECK_STR(get_s(o, "amp"), "&");
    CHECK_STR(get_s(o, "pct"), "100%");
    json_decref(o);

    o = form("%D0%B8%D0%BC%D1%8F=%D0%90%D0%BD%D0%BD%D0%B0"); /* имя=Анна */
    CHECK_STR(get_s(o, "\xd0\xb8\xd0\xbc\xd1\x8f"), "\xd0\x90\xd0\xbd\xd0\xbd\xd0\xb0");
    json_decref(o);

    /* Only len bytes are parsed. */
    json_t *obj = json_object();
    CHECK_INT(souk_parse_urlencoded(&arena, "a=1&b=2", 3, obj, err, sizeof err), 0);
    CHECK_INT(json_object_size(obj), 1);
    CHECK_STR(get_s(obj, "a"), "1");
    CHECK_INT(souk_parse_urlencoded(&arena, NULL, 0, obj, err, sizeof err), 0);
    json_decref(obj);
}

TEST(urlencoded_rejects)
{
    CHECK(form("a=1&q=%zz") == NULL);
    CHECK_STR(err, "bad percent-encoding in field 'q'");
    CHECK(form("q=%4") == NULL);
    CHECK_STR(err, "bad percent-encoding in field 'q'");
    CHECK(form("name=a%00b") == NULL);
    CHECK_STR(err, "bad percent-encoding in field 'name'");
    CHECK(form("na%zzme=1") == NULL);
    CHECK_STR(err, "bad percent-encoding in field name 'na%zzme'");
    CHECK(form("k%00=1") == NULL);
    CHECK_STR(err, "bad percent-encoding in field name 'k%00'");
    CHECK(form("city=%FF") == NULL);
    CHECK_STR(err, "field 'city' is not valid UTF-8");
    CHECK(form("c=%C0%AF") == NULL); /* overlong '/', refused by its lead byte */
    CHECK_STR(err, "field 'c' is not valid UTF-8");
    CHECK(form("c3=%E0%80%AF") == NULL); /* overlong '/' in three bytes */
    CHECK_STR(err, "field 'c3' is not valid UTF-8");
    CHECK(form("c4=%F0%80%80%AF") == NULL); /* and in four */
    CHECK_STR(err, "field 'c4' is not valid UTF-8");
    CHECK(form("s=%ED%A0%80") == NULL); /* a UTF-16 surrogate */
    CHECK_STR(err, "field 's' is not valid UTF-8");
    CHECK(form("t=%F4%90%80%80") == NULL); /* above U+10FFFF */
    CHECK_STR(err, "field 't' is not valid UTF-8");
    CHECK(form("u=%E2%82") == NULL); /* truncated sequence */
    CHECK_STR(err, "field 'u' is not valid UTF-8");
    CHECK(form("%FF=1") == NULL);
    CHECK_STR(err, "field name '\\xff' is not valid UTF-8");
    /* Control characters and quotes in a name are escaped in the message. */
    CHECK(form("a%0Ab'=%zz") == NULL);
    CHECK_STR(err, "bad percent-encoding in field 'a\\x0ab\\x27'");
    /* A long name is cut in the message. */
    char longkey[200];
    memset(longkey, 'k', 150);
    strcpy(longkey + 150, "=%zz");
    CHECK(form(longkey) == NULL);
    CHECK(strlen(err) < 120);
    CHECK(strstr(err, "...'") != NULL);
    /* err may be left out. */
    json_t *obj = json_object();
    CHECK_INT(souk_parse_urlencoded(&arena, "q=%", 3, obj, NULL, 0), -1);
    json_decref(obj);
}

TEST(urlencoded_limit)
{
    size_t cap = (SOUK_URLENCODED_MAX_PAIRS + 1) * 16;
    char *s = malloc(cap);
    size_t n = 0;
    for (int i = 0; i < SOUK_URLENCODED_MAX_PAIRS; i++)
        n += (size_t)snprintf(s + n, cap - n, "%sk%d=%d", i ? "&" : "", i, i);
    json_t *o = form(s);
    CHECK(o != NULL);
    CHECK_INT(json_object_size(o), SOUK_URLENCODED_MAX_PAIRS);
    json_decref(o);
    /* Empty pairs are not fields. */
    n += (size_t)snprintf(s + n, cap - n, "&&&");
    o = form(s);
    CHECK(o != NULL);
    json_decref(o);
    snprintf(s + n, cap - n, "one=more");
    CHECK(form(s) == NULL);
    CHECK(strstr(err, "too many fields") != NULL);
    free(s);
}

/* --------------------------------------------------------------- cookies */

static json_t *cookies(const char *h)
{
    json_t *obj = json_object();
    err[0] = '\0';
    if (souk_parse_cookies(h, obj, err, sizeof err) < 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

TEST(cookies_basic)
{
    json_t *o = cookies("sid=abc123; theme=dark");
    CHECK_INT(json_object_size(o), 2);
    CHECK_STR(get_s(o, "sid"), "abc123");
    CHECK_STR(get_s(o, "theme"), "dark");
    json_decref(o);

    o = cookies("  a = 1 ;b=2;\tc=\"quoted value\" ;; ;d=;");
    CHECK_INT(json_object_size(o), 4);
    CHECK_STR(get_s(o, "a"), "1");
    CHECK_STR(get_s(o, "b"), "2");
    CHECK_STR(get_s(o, "c"), "quoted value");
    CHECK_STR(get_s(o, "d"), "");
    json_decref(o);

    o = cookies("e=\"\"; f=%41%42; g=x=y; h=a,b");
    CHECK_STR(get_s(o, "e"), "");
    CHECK_STR(get_s(o, "f"), "%41%42"); /* not percent-decoded */
    CHECK_STR(get_s(o, "g"), "x=y");
    CHECK_STR(get_s(o, "h"), "a,b");
    json_decref(o);

    /* First wins for a duplicate name. */
    o = cookies("sid=first; sid=second");
    CHECK_STR(get_s(o, "sid"), "first");
    json_decref(o);

    /* Pairs without '=' and with an empty name are ignored. */
    o = cookies("flag; =orphan; ok=1");
    CHECK_INT(json_object_size(o), 1);
    CHECK_STR(get_s(o, "ok"), "1");
    json_decref(o);

    o = cookies("__Host-sid=v; x.y_z!#$%&'*+-^`|~=1; n=caf\xc3\xa9");
    CHECK_STR(get_s(o, "__Host-sid"), "v");
    CHECK_STR(get_s(o, "x.y_z!#$%&'*+-^`|~"), "1");
    CHECK_STR(get_s(o, "n"), "caf\xc3\xa9");
    json_decref(o);

    o = cookies("");
    CHECK_INT(json_object_size(o), 0);
    json_decref(o);
    o = cookies(NULL);
    CHECK(o != NULL);
    CHECK_INT(json_object_size(o), 0);
    json_decref(o);
}

TEST(cookies_rejects)
{
    CHECK(cookies("a b=1") == NULL);
    CHECK_STR(err, "invalid cookie name 'a b'");
    CHECK(cookies("ok=1; a,b=1") == NULL);
    CHECK_STR(err, "invalid cookie name 'a,b'");
    CHECK(cookies("a\x01=1") == NULL);
    CHECK_STR(err, "invalid cookie name 'a\\x01'");
    CHECK(cookies("a@b=1") == NULL);
    CHECK(cookies("(x)=1") == NULL);
    CHECK(cookies("x/y=1") == NULL);
    CHECK(cookies("caf\xc3\xa9=1") == NULL);
    CHECK(cookies("\"q\"=1") == NULL);
    CHECK(cookies("a=\"unterminated") == NULL);
    CHECK_STR(err, "unterminated quote in cookie 'a'");
    CHECK(cookies("a=\"") == NULL);
    CHECK(cookies("a=x\x01y") == NULL);
    CHECK_STR(err, "control character in cookie 'a'");
    CHECK(cookies("a=x\ty") == NULL);
    CHECK(cookies("a=\x7f") == NULL);
    CHECK(cookies("a=\xff") == NULL);
    CHECK_STR(err, "cookie 'a' is not valid UTF-8");
    json_t *obj = json_object();
    CHECK_INT(souk_parse_cookies("a b=1", obj, NULL, 0), -1);
    json_decref(obj);
}

/* ------------------------------------------------------- Accept-* headers */

TEST(pick_locale)
{
    char *ru_en[] = {"ru", "en", NULL};
    char *en_ru[] = {"en", "ru", NULL};
    char *pt[] = {"pt-PT", "pt_BR", NULL};
    char *none[] = {NULL};

    CHECK_STR(souk_pick_locale("en-US,en;q=0.9,ru;q=0.8", ru_en), "en");
    CHECK_STR(souk_pick_locale("ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7", ru_en), "ru");
    CHECK_STR(souk_pick_locale("EN-gb", ru_en), "en");
    CHECK_STR(souk_pick_locale("de, ru;q=0.5", ru_en), "ru");
    /* Highest q wins, whatever the order. */
    CHECK_STR(souk_pick_locale("en;q=0.2, ru;q=0.9", ru_en), "ru");
    CHECK_STR(souk_pick_locale("en;q=0.5, ru", ru_en), "ru");
    /* Ties keep header order. */
    CHECK_STR(souk_pick_locale("en;q=0.5, ru;q=0.5", ru_en), "en");
    CHECK_STR(souk_pick_locale("ru, en", en_ru), "ru");
    /* q=0 means "not this one". */
    CHECK(souk_pick_locale("en;q=0", ru_en) == NULL);
    CHECK_STR(souk_pick_locale("en;q=0, ru;q=0.1", ru_en), "ru");
    CHECK_STR(souk_pick_locale("en;q=0.000, ru;q=0.001", ru_en), "ru");
    /* Nothing matches. */
    CHECK(souk_pick_locale("de-DE,fr;q=0.8", ru_en) == NULL);
    CHECK(souk_pick_locale("", ru_en) == NULL);
    CHECK(souk_pick_locale(" , ,", ru_en) == NULL);
    CHECK(souk_pick_locale(NULL, ru_en) == NULL);
    CHECK(souk_pick_locale("en", none) == NULL);
    CHECK(souk_pick_locale("en", NULL) == NULL);
    /* "english" is not "en": primary subtags compare whole. */
    CHECK(souk_pick_locale("english", ru_en) == NULL);
    CHECK(souk_pick_locale("e", ru_en) == NULL);
    /* Exact tag before primary subtag; '_' and '-' alike. */
    CHECK_STR(souk_pick_locale("pt-BR", pt), "pt_BR");
    CHECK_STR(souk_pick_locale("pt-br, pt;q=0.9", pt), "pt_BR");
    CHECK_STR(souk_pick_locale("pt", pt), "pt-PT");
    CHECK_STR(souk_pick_locale("pt-AO", pt), "pt-PT");
    /* The wildcard picks the first supported locale, at its q. */
    CHECK_STR(souk_pick_locale("*", en_ru), "en");
    CHECK_STR(souk_pick_locale("de, *;q=0.1", ru_en), "ru");
    CHECK_STR(souk_pick_locale("*;q=0.1, en;q=0.5", ru_en), "en");
    /* Malformed q: the element is skipped, the rest still counts. */
    CHECK_STR(souk_pick_locale("en;q=2, ru;q=0.1", ru_en), "ru");
    CHECK_STR(souk_pick_locale("en;q=abc, ru;q=0.1", ru_en), "ru");
    CHECK_STR(souk_pick_locale("en;q=0.1234, ru;q=0.1", ru_en), "ru");
    CHECK_STR(souk_pick_locale("en;q=1.001, ru;q=0.1", ru_en), "ru");
    CHECK_STR(souk_pick_locale("en;q=, ru;q=0.1", ru_en), "ru");
    CHECK_STR(souk_pick_locale("en junk, ru;q=0.1", ru_en), "ru");
    CHECK_STR(souk_pick_locale("en;q=1.000", ru_en), "en");
    CHECK_STR(souk_pick_locale("en ; Q=0.3 , ru ; q=0.2", ru_en), "en");
    /* Other parameters are ignored. */
    CHECK_STR(souk_pick_locale("en;x=1;q=0.2, ru;q=0.1", ru_en), "en");
}

TEST(accepts_gzip)
{
    CHECK(souk_accepts_gzip("gzip"));
    CHECK(!souk_accepts_gzip("gzip;q=0"));
    CHECK(!souk_accepts_gzip("gzip; q=0.000"));
    CHECK(souk_accepts_gzip("*"));
    CHECK(souk_accepts_gzip("deflate, gzip;q=0.5"));
    CHECK(!souk_accepts_gzip("identity"));
    CHECK(souk_accepts_gzip("gzip, deflate, br"));
    CHECK(souk_accepts_gzip("br;q=1.0, GZIP;q=0.8"));
    CHECK(souk_accepts_gzip("x-gzip"));
    CHECK(souk_accepts_gzip("gzip;q=0.001"));
    CHECK(!souk_accepts_gzip("*;q=0"));
    CHECK(!souk_accepts_gzip("gzip;q=0, *"));
    CHECK(!souk_accepts_gzip("*, gzip;q=0"));
    CHECK(souk_accepts_gzip("identity, *;q=0.5"));
    CHECK(!souk_accepts_gzip("gzipx"));
    CHECK(!souk_accepts_gzip("gz"));
    CHECK(!souk_accepts_gzip("deflate, br"));
    CHECK(!souk_accepts_gzip("gzip;q=bad"));
    CHECK(!souk_accepts_gzip(""));
    CHECK(!souk_accepts_gzip(NULL));
}

/* ------------------------------------------------------------------ paths */

static char tmp[PATH_MAX], root[PATH_MAX + 16];

static void write_file(const char *path)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs("x", f);
        fclose(f);
    }
}

static void make_tree(void)
{
    char p[PATH_MAX + 64];
    snprintf(tmp, sizeof tmp, "/tmp/souk-test-http-XXXXXX");
    if (!mkdtemp(tmp)) {
        perror("mkdtemp");
        exit(1);
    }
    snprintf(root, sizeof root, "%s/static", tmp);
    mkdir(root, 0700);
    snprintf(p, sizeof p, "%s/static/sub", tmp), mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/static-evil", tmp), mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/static/a.txt", tmp), write_file(p);
    snprintf(p, sizeof p, "%s/static/...", tmp), write_file(p);
    snprintf(p, sizeof p, "%s/static/sub/b.txt", tmp), write_file(p);
    snprintf(p, sizeof p, "%s/static-evil/secret.txt", tmp), write_file(p);
    snprintf(p, sizeof p, "%s/static/out", tmp);
    CHECK(symlink("../static-evil/secret.txt", p) == 0);
    snprintf(p, sizeof p, "%s/static/evil_dir", tmp);
    CHECK(symlink("../static-evil", p) == 0);
    snprintf(p, sizeof p, "%s/static/abs", tmp);
    CHECK(symlink("/", p) == 0); /* exists everywhere */
    snprintf(p, sizeof p, "%s/static/in", tmp);
    CHECK(symlink("sub/b.txt", p) == 0);
    snprintf(p, sizeof p, "%s/link-to-static", tmp);
    CHECK(symlink("static", p) == 0);
}

static void remove_tree(void)
{
    const char *rel[] = {"static/out", "static/evil_dir", "static/abs", "static/in",
                         "link-to-static", "static/a.txt", "static/...", "static/sub/b.txt",
                         "static-evil/secret.txt", "static/sub", "static", "static-evil",
                         ""};
    char p[PATH_MAX + 64];
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", tmp, rel[i]);
        if (remove(p) != 0)
            perror(p);
    }
}

/* safe_join(root, rel) is root's real path + "/" + expect. */
static int joins_to(const char *rel, const char *expect)
{
    char want[PATH_MAX * 2], real_root[PATH_MAX];
    if (!realpath(root, real_root))
        return 0;
    if (*expect)
        snprintf(want, sizeof want, "%s/%s", real_root, expect);
    else
        snprintf(want, sizeof want, "%s", real_root);
    char *got = souk_safe_join(root, rel);
    int ok = got && strcmp(got, want) == 0;
    if (!ok)
        fprintf(stderr, "safe_join(%s) = %s, expected %s\n", rel, got ? got : "(null)", want);
    free(got);
    return ok;
}

static int refused(const char *r, const char *rel)
{
    char *got = souk_safe_join(r, rel);
    if (got)
        fprintf(stderr, "safe_join(%s, %s) = %s, expected NULL\n", r, rel, got);
    free(got);
    return got == NULL;
}

TEST(safe_join)
{
    make_tree();
    CHECK(joins_to("a.txt", "a.txt"));
    CHECK(joins_to("sub/b.txt", "sub/b.txt"));
    CHECK(joins_to("./a.txt", "a.txt"));
    CHECK(joins_to("sub//b.txt", "sub/b.txt"));
    CHECK(joins_to("...", "..."));
    CHECK(joins_to("sub", "sub"));
    CHECK(joins_to("", ""));
    /* A symlink that stays inside root is followed. */
    CHECK(joins_to("in", "sub/b.txt"));

    CHECK(refused(root, ".."));
    CHECK(refused(root, "../static-evil/secret.txt"));
    CHECK(refused(root, "sub/../a.txt")); /* any ".." segment, even harmless */
    CHECK(refused(root, "sub/.."));
    CHECK(refused(root, "/etc/passwd"));
    CHECK(refused(root, "/a.txt"));
    CHECK(refused(root, "sub\\b.txt"));
    CHECK(refused(root, "..\\static-evil"));
    CHECK(refused(root, "missing.txt"));
    CHECK(refused(root, "sub/missing/x"));
    /* Symlinks leading out of root: to the sibling "static-evil", whose name
     * starts with root's, and to an absolute path. */
    CHECK(refused(root, "out"));
    CHECK(refused(root, "evil_dir/secret.txt"));
    CHECK(refused(root, "evil_dir"));
    CHECK(refused(root, "abs"));
    /* Bad roots. */
    char p[PATH_MAX + 64];
    snprintf(p, sizeof p, "%s/nowhere", tmp);
    CHECK(refused(p, "a.txt"));
    CHECK(refused("", "a.txt"));
    CHECK(refused(NULL, "a.txt"));
    CHECK(refused(root, NULL));
    /* A root given through a symlink still works, the result is the real path. */
    snprintf(p, sizeof p, "%s/link-to-static", tmp);
    char *got = souk_safe_join(p, "a.txt");
    char want[PATH_MAX * 2], real_root[PATH_MAX];
    CHECK(realpath(root, real_root) != NULL);
    snprintf(want, sizeof want, "%s/a.txt", real_root);
    CHECK_STR(got, want);
    free(got);
    /* A rel too long for PATH_MAX is refused, not truncated. */
    char *longrel = malloc(PATH_MAX + 10);
    memset(longrel, 'a', PATH_MAX + 9);
    longrel[PATH_MAX + 9] = '\0';
    CHECK(refused(root, longrel));
    free(longrel);
    /* root "/" itself: everything real is below it. */
    got = souk_safe_join("/", tmp + 1);
    CHECK(got != NULL);
    free(got);
    remove_tree();
}

/* ------------------------------------------------------------------ dates */

TEST(http_date)
{
    char out[SOUK_HTTP_DATE_SIZE];
    souk_http_date(784111777, out);
    CHECK_STR(out, "Sun, 06 Nov 1994 08:49:37 GMT");
    CHECK_INT(strlen(out), SOUK_HTTP_DATE_SIZE - 1);
    souk_http_date(0, out);
    CHECK_STR(out, "Thu, 01 Jan 1970 00:00:00 GMT");
    souk_http_date(951782400, out);
    CHECK_STR(out, "Tue, 29 Feb 2000 00:00:00 GMT");
    souk_http_date(1700000000, out);
    CHECK_STR(out, "Tue, 14 Nov 2023 22:13:20 GMT");
    souk_http_date((time_t)253402300799LL, out);
    CHECK_STR(out, "Fri, 31 Dec 9999 23:59:59 GMT");
    /* Beyond four-digit years: the epoch rather than a malformed date. */
    souk_http_date((time_t)253402300800LL, out);
    CHECK_STR(out, "Thu, 01 Jan 1970 00:00:00 GMT");
}

int main(void)
{
    souk_arena_init(&arena, 4096);
    RUN(request_header);
    RUN(response_init);
    RUN(response_header_grows_and_copies);
    RUN(response_header_refuses_injection);
    RUN(header_valid);
    RUN(response_body);
    RUN(reason);
    RUN(url_decode);
    RUN(url_decode_rejects);
    RUN(urlencoded_basic);
    RUN(urlencoded_shapes);
    RUN(urlencoded_rejects);
    RUN(urlencoded_limit);
    RUN(cookies_basic);
    RUN(cookies_rejects);
    RUN(pick_locale);
    RUN(accepts_gzip);
    RUN(safe_join);
    RUN(http_date);
    souk_arena_free(&arena);
    return test_report();
}
