/* price_cmd.c -- `souk price DIR --product SLUG [...]`: the merchant's preview of
 * what pricing.lua does to a product, for a given customer and moment, before any
 * shopper sees it.  Reads only: one read transaction around everything. */
#include "catalog_internal.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Exit codes of a command (souk.h: souk_command_fn). */
#define PRICE_EXIT_OK 0
#define PRICE_EXIT_FAIL 1
#define PRICE_EXIT_USAGE 2

#define PRICE_CATEGORY_DEPTH_MAX 64 /* ancestors followed: a cycle in the data stops here */
#define PRICE_MS_DIGITS_MAX 15      /* unix ms up to the year 33658: more is a typo */
#define PRICE_TIME_TEXT_MAX 96      /* "2026-12-31T23:00:00.123Z", room for any year */
#define PRICE_COLUMN_GAP 2          /* spaces between the columns of the listing */

static const char PRICE_USAGE[] =
    "usage: souk price DIR --product SLUG [--customer-json FILE] [--at TIME]\n"
    "                      [--lang ru|en] [--json]\n"
    "\n"
    "Show how the store's scripts/pricing.lua prices every variant of a product:\n"
    "the base price, each adjustment (label, amount, rule) and the price shoppers\n"
    "see.  Drafts and archived products are priced too.  Nothing is written.\n"
    "\n"
    "  --product SLUG        the product to price\n"
    "  --customer-json FILE  price for this customer, a JSON object such as\n"
    "                        {\"id\": 7, \"member\": true}; without it, a guest\n"
    "  --at TIME             price at this moment instead of now: ISO 8601\n"
    "                        (2026-12-31T23:00:00Z, 2026-12-31T23:00+03:00;\n"
    "                        a date alone, 2026-12-31, is midnight UTC; no offset\n"
    "                        means UTC) or unix milliseconds (1798758000000)\n"
    "  --lang ru|en          language of the labels and amounts (default: the\n"
    "                        store's)\n"
    "  --json                print the prices as JSON (the API's price shape)\n"
    "\n"
    "Exit 0 when priced, 1 when the product is unknown or the script fails (the\n"
    "message names pricing.lua and the line), 2 on bad usage.\n";

typedef struct price_args {
    const char *product;
    const char *customer_file;
    const char *at;
    const char *lang;
    int json;
} price_args;

/* ---------------------------------------------------------------- time */

/* Days since 1970-01-01 of a date of the proleptic Gregorian calendar, and back
 * (H. Hinnant's algorithms; exact for every year, no time zone involved). */
static int64_t price_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void price_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int price_days_in_month(int64_t y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return days[m - 1] + (m == 2 && leap);
}

/* Exactly n decimal digits at *p into *out; advances *p. */
static int price_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

/* Unix milliseconds of TIME: all digits (unix ms), YYYY-MM-DD (midnight UTC), or
 * YYYY-MM-DD[T ]HH:MM[:SS[.fraction]] followed by Z, +HH:MM, +HHMM, -HH:MM or
 * nothing (UTC).  -1 when s is none of these or names no real moment. */
static int price_parse_time(const char *s, int64_t *ms)
{
    size_t nd = strspn(s, "0123456789");
    if (nd > 0 && s[nd] == '\0') {
        if (nd > PRICE_MS_DIGITS_MAX)
            return -1;
        *ms = strtoll(s, NULL, 10);
        return 0;
    }
    const char *p = s;
    int year, month, day, hour = 0, minute = 0, second = 0, frac_ms = 0, off_min = 0;
    if (price_digits(&p, 4, &year) || *p++ != '-' || price_digits(&p, 2, &month) ||
        *p++ != '-' || price_digits(&p, 2, &day))
        return -1;
    if (year < 1 || month < 1 || month > 12 || day < 1 || day > price_days_in_month(year, month))
        return -1;
    if (*p) {
        if (*p != 'T' && *p != 't' && *p != ' ')
            return -1;
        p++;
        if (price_digits(&p, 2, &hour) || *p++ != ':' || price_digits(&p, 2, &minute))
            return -1;
        if (*p == ':') {
            p++;
            if (price_digits(&p, 2, &second))
                return -1;
            if (*p == '.' || *p == ',') {
                p++;
                int scale = 100, n = 0;
                for (; isdigit((unsigned char)*p); p++, n++) {
                    frac_ms += (*p - '0') * scale;
                    scale /= 10;
                }
                if (n == 0)
                    return -1;
            }
        }
        if (hour > 23 || minute > 59 || second > 59)
            return -1;
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1, oh, om;
            if (price_digits(&p, 2, &oh))
                return -1;
            if (*p == ':')
                p++;
            if (price_digits(&p, 2, &om) || oh > 23 || om > 59)
                return -1;
            off_min = sign * (oh * 60 + om);
        }
        if (*p)
            return -1;
    }
    int64_t minutes = price_days_from_civil(year, month, day) * 24 * 60 + hour * 60 + minute -
                      off_min;
    *ms = (minutes * 60 + second) * 1000 + frac_ms;
    return 0;
}

/* "2026-12-31T23:00:00Z" (with .mmm when there are milliseconds) into out. */
static void price_format_time(int64_t ms, char *out, size_t outlen)
{
    int64_t day_ms = 24 * 60 * 60 * 1000;
    int64_t days = ms >= 0 ? ms / day_ms : -((-ms + day_ms - 1) / day_ms);
    int64_t rest = ms - days * day_ms, y;
    int m, d;
    price_civil_from_days(days, &y, &m, &d);
    int h = (int)(rest / 3600000), mi = (int)(rest / 60000 % 60), s = (int)(rest / 1000 % 60);
    int frac = (int)(rest % 1000);
    if (frac)
        snprintf(out, outlen, "%04" PRId64 "-%02d-%02dT%02d:%02d:%02d.%03dZ", y, m, d, h, mi, s,
                 frac);
    else
        snprintf(out, outlen, "%04" PRId64 "-%02d-%02dT%02d:%02d:%02dZ", y, m, d, h, mi, s);
}

/* ----------------------------------------------------------- arguments */

static int price_usage_error(const char *fmt, const char *what)
{
    fputs("souk price: ", stderr);
    fprintf(stderr, fmt, what);
    fputs("\n\n", stderr);
    fputs(PRICE_USAGE, stderr);
    return PRICE_EXIT_USAGE;
}

/* -1 when parsed, else the exit code (help printed or a usage error). */
static int price_args_parse(int argc, char **argv, price_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(PRICE_USAGE, stdout);
            return PRICE_EXIT_OK;
        }
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *v;
        if ((v = catalog_argv_option(argc, argv, &i, "--product")))
            a->product = v;
        else if ((v = catalog_argv_option(argc, argv, &i, "--customer-json")))
            a->customer_file = v;
        else if ((v = catalog_argv_option(argc, argv, &i, "--at")))
            a->at = v;
        else if ((v = catalog_argv_option(argc, argv, &i, "--lang")))
            a->lang = v;
        else if (strcmp(arg, "--json") == 0)
            a->json = 1;
        else if (arg[0] == '-')
            return price_usage_error("unknown option '%s'", arg);
        else
            return price_usage_error("unexpected argument '%s'", arg);
        if (v && !*v)
            return price_usage_error("%s needs a value", arg);
    }
    if (!a->product)
        return price_usage_error("%s is required", "--product SLUG");
    if (a->lang && strcmp(a->lang, "ru") != 0 && strcmp(a->lang, "en") != 0)
        return price_usage_error("--lang '%s': the languages are ru and en", a->lang);
    return -1;
}

/* The customer of --customer-json (yours), json null for a guest; NULL after
 * printing why the file cannot be used. */
static json_t *price_customer_load(const char *path)
{
    if (!path)
        return json_null();
    json_error_t jerr;
    json_t *c = json_load_file(path, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    if (!c) {
        if (jerr.line > 0)
            fprintf(stderr, "souk price: %s:%d: %s\n", path, jerr.line, jerr.text);
        else
            fprintf(stderr, "souk price: %s: %s\n", path, jerr.text);
        return NULL;
    }
    if (!json_is_object(c) && !json_is_null(c)) {
        fprintf(stderr, "souk price: %s: a customer is a JSON object such as {\"id\": 7, "
                "\"member\": true} (or null for a guest)\n", path);
        json_decref(c);
        return NULL;
    }
    return c;
}

/* -------------------------------------------------------- the product */

/* A JSON object stored as text (attributes, options); {} when it is not one. */
static json_t *price_object_column(sqlite3_stmt *st, int col)
{
    const char *text = (const char *)sqlite3_column_text(st, col);
    json_t *v = text ? json_loads(text, 0, NULL) : NULL;
    if (json_is_object(v))
        return v;
    json_decref(v);
    return json_object();
}

/* Slugs of the category and its ancestors, root first (yours); NULL on an SQL error. */
static json_t *price_category_path(souk_ctx *ctx, int64_t category_id)
{
    sqlite3_stmt *st = catalog_api->db_prepare(
        ctx, "WITH RECURSIVE up(id, parent_id, slug, depth) AS ("
             "  SELECT id, parent_id, slug, 0 FROM catalog_categories WHERE id = ?1"
             "  UNION ALL"
             "  SELECT c.id, c.parent_id, c.slug, up.depth + 1"
             "  FROM catalog_categories c JOIN up ON c.id = up.parent_id"
             "  WHERE up.depth < ?2)"
             " SELECT slug FROM up ORDER BY depth DESC");
    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, category_id);
    sqlite3_bind_int(st, 2, PRICE_CATEGORY_DEPTH_MAX);
    json_t *path = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(path, json_string((const char *)sqlite3_column_text(st, 0)));
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        json_decref(path);
        return NULL;
    }
    return path;
}

/* The product as the script sees it (yours), with its id and status; NULL with
 * *found 0 when there is none, or on an SQL error (*found 1). */
static json_t *price_product_read(souk_ctx *ctx, const char *slug, const char *lang,
                                  int64_t *id, const char **status, int *found)
{
    *found = 1;
    sqlite3_stmt *st = catalog_api->db_prepare(
        ctx, "SELECT id, slug, title_ru, title_en, brand, attributes, status, category_id"
             " FROM catalog_products WHERE slug = ?1");
    if (!st)
        return NULL;
    sqlite3_bind_text(st, 1, slug, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        *found = rc != SQLITE_DONE;
        return NULL;
    }
    *id = sqlite3_column_int64(st, 0);
    *status = catalog_api->dup(ctx, (const char *)sqlite3_column_text(st, 6));
    json_t *product = json_pack("{s:s, s:s, s:s, s:o}", "slug", sqlite3_column_text(st, 1),
                                "title", sqlite3_column_text(st, strcmp(lang, "en") == 0 ? 3 : 2),
                                "brand", sqlite3_column_text(st, 4), "attributes",
                                price_object_column(st, 5));
    json_t *path = price_category_path(ctx, sqlite3_column_int64(st, 7));
    sqlite3_reset(st); /* no statement stays open past COMMIT */
    if (!product || !path || json_array_size(path) == 0) {
        json_decref(product);
        json_decref(path);
        return NULL;
    }
    json_object_set(product, "category", json_array_get(path, json_array_size(path) - 1));
    json_object_set_new(product, "category_path", path);
    return product;
}

/* The items of every variant of the product, in their display order, with the
 * options in lang (the other language's when not given in it), as pages show them
 * (yours); NULL on an SQL error. */
static json_t *price_items_read(souk_ctx *ctx, int64_t product_id, json_t *product,
                                const char *lang)
{
    int en = strcmp(lang, "en") == 0;
    sqlite3_stmt *st = catalog_api->db_prepare(
        ctx, en ? "SELECT sku, CASE WHEN json(options_en) <> '{}' THEN options_en ELSE options END,"
                  " price, currency, stock FROM catalog_variants"
                  " WHERE product_id = ?1 ORDER BY position, id"
                : "SELECT sku, CASE WHEN json(options) <> '{}' THEN options ELSE options_en END,"
                  " price, currency, stock FROM catalog_variants"
                  " WHERE product_id = ?1 ORDER BY position, id");
    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, product_id);
    json_t *items = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *variant = json_pack("{s:s, s:o, s:I, s:s, s:I}", "sku", sqlite3_column_text(st, 0),
                                    "options", price_object_column(st, 1), "price",
                                    (json_int_t)sqlite3_column_int64(st, 2), "currency",
                                    sqlite3_column_text(st, 3), "stock",
                                    (json_int_t)sqlite3_column_int64(st, 4));
        json_array_append_new(items, json_pack("{s:O, s:o}", "product", product, "variant",
                                               variant));
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        json_decref(items);
        return NULL;
    }
    return items;
}

/* ------------------------------------------------------------- output */

/* Characters of UTF-8 text: what a terminal column counts. */
static int price_width(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static void price_pad(const char *s, int width, int right)
{
    int fill = width - price_width(s);
    if (right)
        printf("%*s%s", fill > 0 ? fill : 0, "", s);
    else
        printf("%s%*s", s, fill > 0 ? fill : 0, "");
}

typedef struct price_columns {
    int label, rule, amount;
} price_columns;

static void price_line(const price_columns *w, const char *label, const char *rule,
                       const char *amount)
{
    printf("%*s", PRICE_COLUMN_GAP, "");
    price_pad(label, w->label, 0);
    printf("%*s", PRICE_COLUMN_GAP, "");
    price_pad(rule, w->rule, 0);
    printf("%*s", PRICE_COLUMN_GAP, "");
    price_pad(amount, w->amount, 1);
    printf("\n");
}

/* "colour: white, size: M" */
static const char *price_options_text(souk_ctx *ctx, json_t *options)
{
    const char *text = "", *key;
    json_t *v;
    json_object_foreach(options, key, v) {
        char *value = json_is_string(v) ? NULL : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        text = catalog_api->format(ctx, "%s%s%s: %s", text, *text ? ", " : "", key,
                                   value ? value : json_string_value(v));
        free(value);
    }
    return text;
}

static void price_print_text(souk_ctx *ctx, json_t *product, const char *status, json_t *items,
                             json_t *prices, json_t *customer, int64_t at, const char *lang)
{
    static const char *const base_label = "base price", *const price_label = "price";
    char when[PRICE_TIME_TEXT_MAX];
    price_format_time(at, when, sizeof when);
    char *who = json_is_object(customer) ? json_dumps(customer, JSON_COMPACT) : NULL;
    const char *path = "", *brand = json_string_value(json_object_get(product, "brand"));
    size_t i;
    json_t *slug;
    json_array_foreach(json_object_get(product, "category_path"), i, slug)
        path = catalog_api->format(ctx, "%s%s%s", path, i ? " / " : "", json_string_value(slug));
    printf("product   %s (%s)\n", json_string_value(json_object_get(product, "title")),
           json_string_value(json_object_get(product, "slug")));
    printf("brand     %s\n", brand && *brand ? brand : "-");
    printf("category  %s\n", path);
    printf("status    %s\n", status);
    printf("at        %s (%" PRId64 ")\n", when, at);
    printf("customer  %s\n", who ? who : "guest");
    printf("locale    %s\n", lang);
    free(who);

    price_columns w = {price_width(base_label), 0, 0};
    json_t *p, *a;
    json_array_foreach(prices, i, p) {
        size_t j;
        const char *texts[] = {json_string_value(json_object_get(p, "amount_text")),
                               json_string_value(json_object_get(p, "base_text"))};
        for (j = 0; j < 2; j++)
            if (price_width(texts[j]) > w.amount)
                w.amount = price_width(texts[j]);
        json_array_foreach(json_object_get(p, "adjustments"), j, a) {
            int lw = price_width(json_string_value(json_object_get(a, "label")));
            int rw = price_width(json_string_value(json_object_get(a, "rule")));
            int aw = price_width(json_string_value(json_object_get(a, "amount_text")));
            w.label = lw > w.label ? lw : w.label;
            w.rule = rw > w.rule ? rw : w.rule;
            w.amount = aw > w.amount ? aw : w.amount;
        }
    }
    json_array_foreach(prices, i, p) {
        json_t *variant = json_object_get(json_array_get(items, i), "variant");
        const char *options = price_options_text(ctx, json_object_get(variant, "options"));
        printf("\n%s%s%s  (stock %" JSON_INTEGER_FORMAT ")\n",
               json_string_value(json_object_get(variant, "sku")), *options ? "  " : "", options,
               json_integer_value(json_object_get(variant, "stock")));
        price_line(&w, base_label, "", json_string_value(json_object_get(p, "base_text")));
        size_t j;
        json_array_foreach(json_object_get(p, "adjustments"), j, a)
            price_line(&w, json_string_value(json_object_get(a, "label")),
                       json_string_value(json_object_get(a, "rule")),
                       json_string_value(json_object_get(a, "amount_text")));
        price_line(&w, price_label, "", json_string_value(json_object_get(p, "amount_text")));
    }
}

static void price_print_json(json_t *product, const char *status, json_t *items, json_t *prices,
                             json_t *customer, int64_t at, const char *lang)
{
    char when[PRICE_TIME_TEXT_MAX];
    price_format_time(at, when, sizeof when);
    json_t *variants = json_array(), *p;
    size_t i;
    json_array_foreach(prices, i, p) {
        json_t *v = json_object_get(json_array_get(items, i), "variant");
        json_array_append_new(variants, json_pack("{s:O, s:O, s:O, s:O}", "sku",
                                                  json_object_get(v, "sku"), "options",
                                                  json_object_get(v, "options"), "stock",
                                                  json_object_get(v, "stock"), "price", p));
    }
    json_t *out = json_pack("{s:O, s:s, s:I, s:s, s:s, s:O, s:o}", "product", product, "status",
                            status, "at", (json_int_t)at, "at_text", when, "locale", lang,
                            "customer", customer, "variants", variants);
    json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    printf("\n");
    json_decref(out);
}

/* --------------------------------------------------------- the command */

/* Everything between BEGIN and COMMIT: the exit code. */
static int price_run(souk_ctx *ctx, const price_args *a, json_t *customer, int64_t at,
                     const char *lang)
{
    int64_t id = 0;
    const char *status = NULL;
    int found;
    json_t *product = price_product_read(ctx, a->product, lang, &id, &status, &found);
    if (!product) {
        if (found)
            fprintf(stderr, "souk price: cannot read product '%s' from the database (see the "
                    "log)\n", a->product);
        else
            fprintf(stderr, "souk price: no product '%s' in the catalog\n", a->product);
        return PRICE_EXIT_FAIL;
    }
    json_t *items = price_items_read(ctx, id, product, lang), *prices = NULL;
    int rc = PRICE_EXIT_OK;
    const char *error = NULL;
    if (!items) {
        fprintf(stderr, "souk price: cannot read the variants of '%s' (see the log)\n",
                a->product);
        rc = PRICE_EXIT_FAIL;
    } else if (json_array_size(items) == 0) {
        fprintf(stderr, "souk price: product '%s' has no variants: nothing to price\n",
                a->product);
        rc = PRICE_EXIT_FAIL;
    } else if (catalog_price_items_lang(ctx, items, customer, at, lang, &prices, &error) !=
               SOUK_OK) {
        fprintf(stderr, "souk price: %s\n", error ? error : "the pricing script failed");
        rc = PRICE_EXIT_FAIL;
    } else if (a->json) {
        price_print_json(product, status, items, prices, customer, at, lang);
    } else {
        price_print_text(ctx, product, status, items, prices, customer, at, lang);
    }
    json_decref(prices);
    json_decref(items);
    json_decref(product);
    return rc;
}

int catalog_cmd_price(souk_ctx *ctx, int argc, char **argv)
{
    price_args a;
    int rc = price_args_parse(argc, argv, &a);
    if (rc >= 0)
        return rc;
    int64_t at;
    if (!a.at)
        at = catalog_api->now_ms(ctx);
    else if (price_parse_time(a.at, &at) != 0)
        return price_usage_error("--at '%s': expected ISO 8601 (2026-12-31T23:00:00Z, "
                                 "2026-12-31) or unix milliseconds", a.at);
    const char *lang = a.lang ? a.lang : catalog_lang(ctx);
    json_t *customer = price_customer_load(a.customer_file);
    if (!customer)
        return PRICE_EXIT_FAIL;
    /* Commands run outside any transaction: one read transaction gives the product,
     * its categories and its variants as of one moment. */
    if (catalog_api->db_exec(ctx, "BEGIN") != SOUK_OK) {
        fprintf(stderr, "souk price: cannot read the database (see the log)\n");
        json_decref(customer);
        return PRICE_EXIT_FAIL;
    }
    rc = price_run(ctx, &a, customer, at, lang);
    catalog_api->db_exec(ctx, "COMMIT");
    fflush(stdout);
    json_decref(customer);
    return rc;
}
