/* test_catalog_import_value.c -- the value parsers of `souk import`
 * (plugins/catalog/import_value.c): exact prices, numbers, slugs, lists, URLs. */
#include "test.h"

#include "../../plugins/catalog/import_value.c"
#include "../../plugins/catalog/sanitize.c"

#include <stdlib.h>

static char why[256];

static int64_t price(const char *s, int decimals)
{
    int64_t v = -12345;
    if (catalog_import_parse_price(s, decimals, &v, why, sizeof why) != SOUK_OK)
        return -1;
    return v;
}

TEST(prices_are_exact)
{
    CHECK_INT(price("1990.50", 2), 199050);
    CHECK_INT(price("1990.5", 2), 199050);
    CHECK_INT(price("1990", 2), 199000);
    CHECK_INT(price("0.01", 2), 1);
    CHECK_INT(price("0", 2), 0);
    CHECK_INT(price("1.990", 2), 199); /* trailing zeros are still exact */
    /* 0.29 and 1.15 have no exact binary form: a double would give 28 and 114 */
    CHECK_INT(price("0.29", 2), 29);
    CHECK_INT(price("1.15", 2), 115);
    CHECK_INT(price("4999999.99", 2), 499999999);
    CHECK_INT(price("1990", 0), 1990);
    CHECK_INT(price("1.234", 3), 1234);
    CHECK_INT(price("9999999999999.99", 2), 999999999999999);
}

TEST(bad_prices_say_why)
{
    CHECK_INT(price("12,3x", 2), -1);
    CHECK_STR(why, "'12,3x' is not a price (use a dot for decimals: 1990.50)");
    CHECK_INT(price("1.999", 2), -1);
    CHECK_STR(why, "'1.999' has more than 2 decimals");
    CHECK_INT(price("-5", 2), -1);
    CHECK_STR(why, "'-5' is negative");
    CHECK_INT(price("1990.5", 0), -1);
    CHECK(strstr(why, "has decimals") != NULL);
    const char *bad[] = {"",   "abc",   "1e3",  ".5",    "5.",  " 5", "5 ",
                         "+5", "1 990", "0x10", "1.2.3", "NaN", NULL};
    for (int i = 0; bad[i]; i++) {
        if (price(bad[i], 2) != -1)
            fprintf(stderr, "accepted '%s'\n", bad[i]);
        CHECK_INT(price(bad[i], 2), -1);
    }
    CHECK_INT(price("10000000000000.00", 2), -1);
    CHECK(strstr(why, "too large") != NULL);
    CHECK_INT(price("99999999999999999999999", 2), -1);
}

TEST(currencies)
{
    char cur[4];
    CHECK_INT(catalog_import_parse_currency("rub", cur, why, sizeof why), SOUK_OK);
    CHECK_STR(cur, "RUB");
    CHECK_INT(catalog_import_parse_currency("RUBL", cur, why, sizeof why), SOUK_ERR);
    CHECK_INT(catalog_import_parse_currency("R1B", cur, why, sizeof why), SOUK_ERR);
    CHECK_INT(catalog_import_currency_decimals("RUB"), 2);
    CHECK_INT(catalog_import_currency_decimals("JPY"), 0);
    CHECK_INT(catalog_import_currency_decimals("KWD"), 3);
}

TEST(whole_numbers_booleans_statuses)
{
    int64_t v = 0;
    CHECK_INT(catalog_import_parse_int("12", 0, 100, &v, why, sizeof why), SOUK_OK);
    CHECK_INT(v, 12);
    CHECK_INT(catalog_import_parse_int("12.0", 0, 100, &v, why, sizeof why), SOUK_OK);
    CHECK_INT(v, 12);
    CHECK_INT(catalog_import_parse_int("-3", 0, 100, &v, why, sizeof why), SOUK_ERR);
    CHECK_STR(why, "'-3' is negative");
    CHECK_INT(catalog_import_parse_int("-3", -10, 100, &v, why, sizeof why), SOUK_OK);
    CHECK_INT(v, -3);
    CHECK_INT(catalog_import_parse_int("12.5", 0, 100, &v, why, sizeof why), SOUK_ERR);
    CHECK_INT(catalog_import_parse_int("101", 0, 100, &v, why, sizeof why), SOUK_ERR);
    CHECK_INT(catalog_import_parse_int("ten", 0, 100, &v, why, sizeof why), SOUK_ERR);
    CHECK_INT(catalog_import_parse_int("99999999999999999999", 0, 100, &v, why, sizeof why),
              SOUK_ERR);

    int b = -1;
    CHECK_INT(catalog_import_parse_bool("Yes", &b, why, sizeof why), SOUK_OK);
    CHECK_INT(b, 1);
    CHECK_INT(catalog_import_parse_bool("нет", &b, why, sizeof why), SOUK_OK);
    CHECK_INT(b, 0);
    CHECK_INT(catalog_import_parse_bool("maybe", &b, why, sizeof why), SOUK_ERR);

    const char *st = NULL;
    CHECK_INT(catalog_import_parse_status("Active", &st, why, sizeof why), SOUK_OK);
    CHECK_STR(st, "active");
    CHECK_INT(catalog_import_parse_status("sold", &st, why, sizeof why), SOUK_ERR);
    CHECK_STR(why, "'sold' is not a status (draft, active or archived)");
}

static void check_slugify(const char *in, const char *want)
{
    char *s = catalog_import_slugify(in);
    if (!want)
        CHECK(s == NULL);
    else
        CHECK_STR(s, want);
    free(s);
}

TEST(slugs)
{
    CHECK_INT(catalog_import_check_slug("kettle-17_b", why, sizeof why), SOUK_OK);
    CHECK_INT(catalog_import_check_slug("Kettle", why, sizeof why), SOUK_ERR);
    CHECK_INT(catalog_import_check_slug("-kettle", why, sizeof why), SOUK_ERR);
    CHECK_INT(catalog_import_check_slug("kettle-", why, sizeof why), SOUK_ERR);
    CHECK_INT(catalog_import_check_slug("ket tle", why, sizeof why), SOUK_ERR);
    CHECK_INT(catalog_import_check_slug("", why, sizeof why), SOUK_ERR);
    char long_slug[CATALOG_IMPORT_SLUG_MAX + 2];
    memset(long_slug, 'a', sizeof long_slug - 1);
    long_slug[sizeof long_slug - 1] = '\0';
    CHECK_INT(catalog_import_check_slug(long_slug, why, sizeof why), SOUK_ERR);

    check_slugify("Чайники электрические", "chayniki-elektricheskie");
    check_slugify("Ёлочные ИГРУШКИ", "elochnye-igrushki");
    check_slugify("Щётка & Совок", "shchetka-sovok");
    check_slugify("Подъезд", "podezd");
    check_slugify("Hoodies & Sweatshirts", "hoodies-sweatshirts");
    check_slugify("  T-Shirts (2024)  ", "t-shirts-2024");
    check_slugify("Café", "caf");
    check_slugify("!!!", NULL);
    check_slugify("", NULL);

    char *h = catalog_import_humanize("kettle-stands");
    CHECK_STR(h, "Kettle stands");
    free(h);
}

TEST(skus_and_text)
{
    CHECK_INT(catalog_import_check_sku("KT-17/BLK", why, sizeof why), SOUK_OK);
    CHECK_INT(catalog_import_check_sku("", why, sizeof why), SOUK_ERR);
    CHECK_INT(catalog_import_check_sku(" KT", why, sizeof why), SOUK_ERR);
    CHECK_INT(catalog_import_check_sku("KT\tX", why, sizeof why), SOUK_ERR);

    char *t = NULL;
    CHECK_INT(catalog_import_clean_text("  Steel \n kettle\t1.7 l ", 100, &t, why, sizeof why),
              SOUK_OK);
    CHECK_STR(t, "Steel kettle 1.7 l");
    free(t);
    CHECK_INT(catalog_import_clean_text("   ", 100, &t, why, sizeof why), SOUK_OK);
    CHECK(t == NULL);
    CHECK_INT(catalog_import_clean_text("a\x01"
                                        "b",
                                        100, &t, why, sizeof why),
              SOUK_ERR);
    CHECK_INT(catalog_import_clean_text("abcdef", 5, &t, why, sizeof why), SOUK_ERR);
    /* markup in a title is text: kept as typed, escaped when shown */
    CHECK_INT(catalog_import_clean_text("<b>Bold</b> kettle", 100, &t, why, sizeof why), SOUK_OK);
    CHECK_STR(t, "<b>Bold</b> kettle");
    free(t);
}

static char *dump(json_t *v)
{
    return json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
}

TEST(pairs)
{
    json_t *o = NULL;
    CHECK_INT(catalog_import_parse_pairs("size=M; colour = red ;", 1, &o, why, sizeof why),
              SOUK_OK);
    char *s = dump(o);
    CHECK_STR(s, "{\"size\":\"M\",\"colour\":\"red\"}");
    free(s);
    json_decref(o);

    CHECK_INT(
        catalog_import_parse_pairs("{\"size\": 42, \"colour\": \"red\"}", 1, &o, why, sizeof why),
        SOUK_OK);
    s = dump(o);
    CHECK_STR(s, "{\"size\":\"42\",\"colour\":\"red\"}");
    free(s);
    json_decref(o);

    CHECK_INT(catalog_import_parse_pairs("{\"w\": 1.5, \"eco\": true, \"tags\": [\"a\", \"b\"]}", 0,
                                         &o, why, sizeof why),
              SOUK_OK);
    s = dump(o);
    CHECK_STR(s, "{\"w\":1.5,\"eco\":true,\"tags\":[\"a\",\"b\"]}");
    free(s);
    json_decref(o);

    CHECK_INT(catalog_import_parse_pairs("size", 1, &o, why, sizeof why), SOUK_ERR);
    CHECK_STR(why, "'size' is not name=value");
    CHECK_INT(catalog_import_parse_pairs("size=M; size=L", 1, &o, why, sizeof why), SOUK_ERR);
    CHECK_STR(why, "'size' is given twice");
    CHECK_INT(catalog_import_parse_pairs("size=", 1, &o, why, sizeof why), SOUK_ERR);
    CHECK_STR(why, "'size' has no value");
    CHECK_INT(catalog_import_parse_pairs("=M", 1, &o, why, sizeof why), SOUK_ERR);
    CHECK_INT(catalog_import_parse_pairs("{\"w\": 1.5}", 1, &o, why, sizeof why), SOUK_ERR);
    CHECK_INT(catalog_import_parse_pairs("{\"a\": {\"b\": 1}}", 0, &o, why, sizeof why), SOUK_ERR);
    CHECK_INT(catalog_import_parse_pairs("{\"a\": 1, \"a\": 2}", 0, &o, why, sizeof why), SOUK_ERR);
    CHECK_INT(catalog_import_parse_pairs("{broken", 0, &o, why, sizeof why), SOUK_ERR);

    json_t *in = json_loads(
        "{\"ru\": {\"материал\": \"сталь\"}, \"en\": {\"material\": \"steel\"}}", 0, NULL);
    CHECK_INT(catalog_import_check_attributes(in, &o, why, sizeof why), SOUK_OK);
    CHECK(catalog_import_attributes_per_locale(o));
    CHECK_STR(json_string_value(json_object_get(json_object_get(o, "en"), "material")), "steel");
    json_decref(o);
    json_decref(in);
    in = json_loads("{\"ru\": {\"a\": {}}}", 0, NULL);
    CHECK_INT(catalog_import_check_attributes(in, &o, why, sizeof why), SOUK_ERR);
    json_decref(in);
}

TEST(images)
{
    json_t *a = NULL;
    CHECK_INT(catalog_import_parse_images(
                  "/media/a.jpg | https://cdn.example.com/b.png  //cdn.example.com/c.png|"
                  "catalog/d.jpg /media/a.jpg",
                  &a, why, sizeof why),
              SOUK_OK);
    char *s = dump(a);
    CHECK_STR(s, "[\"/media/a.jpg\",\"https://cdn.example.com/b.png\","
                 "\"https://cdn.example.com/c.png\",\"/media/catalog/d.jpg\"]");
    free(s);
    json_decref(a);

    char *u = NULL;
    CHECK_INT(catalog_import_check_url("https://cdn.example.com/чайник.jpg", &u, why, sizeof why),
              SOUK_OK);
    CHECK_STR(u, "https://cdn.example.com/%D1%87%D0%B0%D0%B9%D0%BD%D0%B8%D0%BA.jpg");
    free(u);
    const char *bad[] = {"javascript:alert(1)",
                         "data:image/png;base64,xx",
                         "JaVaScRiPt:x",
                         "https://",
                         "https:///x",
                         "/a/../b",
                         "../b",
                         "catalog/../../x",
                         "/x\"onerror=\"y",
                         "vbscript:x",
                         "ftp://host/x",
                         NULL};
    for (int i = 0; bad[i]; i++) {
        int rc = catalog_import_check_url(bad[i], &u, why, sizeof why);
        if (rc == SOUK_OK) {
            fprintf(stderr, "accepted '%s' as '%s'\n", bad[i], u);
            free(u);
        }
        CHECK_INT(rc, SOUK_ERR);
    }
    CHECK_INT(catalog_import_parse_images("/a.jpg javascript:alert(1)", &a, why, sizeof why),
              SOUK_ERR);
    CHECK_STR(why, "'javascript:alert(1)' is not an http(s) URL, a /path or a file name in media/");
}

TEST(utf8_quote_and_seen)
{
    size_t at = 0;
    CHECK(souk_utf8_valid("Чайник", strlen("Чайник"), &at));
    CHECK(!souk_utf8_valid("ok\xC3(", 4, &at));
    CHECK_INT(at, 2);
    CHECK(!souk_utf8_valid("\xED\xA0\x80", 3, &at)); /* a surrogate */
    CHECK(!souk_utf8_valid("\xC0\xAF", 2, &at));     /* overlong */

    char buf[CATALOG_IMPORT_QUOTE_BUF];
    char long_text[200] = "";
    for (int i = 0; i < 40; i++)
        strcat(long_text, "ж"); /* 80 bytes, 2 per character */
    const char *q = catalog_import_quote(long_text, buf, sizeof buf);
    CHECK(strlen(q) <= CATALOG_IMPORT_QUOTE_MAX + 3);
    CHECK(souk_utf8_valid(q, strlen(q), &at));
    CHECK(strcmp(q + strlen(q) - 3, "...") == 0);
    CHECK_STR(catalog_import_quote("a\nb", buf, sizeof buf), "a?b");

    catalog_import_seen *set = catalog_import_seen_new();
    CHECK_INT(catalog_import_seen_add(set, "SKU-1", 2), 0);
    CHECK_INT(catalog_import_seen_add(set, "SKU-1", 9), 2);
    char key[32];
    for (int i = 0; i < 5000; i++) { /* grows past its first size */
        snprintf(key, sizeof key, "k%d", i);
        CHECK_INT(catalog_import_seen_add(set, key, i + 10), 0);
    }
    CHECK_INT(catalog_import_seen_add(set, "k4321", 1), 4331);
    CHECK_INT(catalog_import_seen_add(set, "SKU-1", 1), 2);
    catalog_import_seen_free(set);
}

int main(void)
{
    RUN(prices_are_exact);
    RUN(bad_prices_say_why);
    RUN(currencies);
    RUN(whole_numbers_booleans_statuses);
    RUN(slugs);
    RUN(skus_and_text);
    RUN(pairs);
    RUN(images);
    RUN(utf8_quote_and_seen);
    return test_report();
}
