/* test_catalog_pricing.c -- the catalog's pricing host (plugins/catalog/pricing.c):
 * what reaches pricing.lua and every check of what comes back; and the argument,
 * time and usage handling of `souk price` (price_cmd.c).  The plugin's sources are
 * compiled into this test with a host table whose script_call answers what each
 * case sets up; the real script, server and database are exercised by
 * tests/http/test_catalog_pricing.py. */
#include "test.h"

#include "arena.h"

#include <unistd.h>

#include "../../plugins/catalog/argv.c"
#include "../../plugins/catalog/price_cmd.c"
#include "../../plugins/catalog/pricing.c"
#include "../../plugins/catalog/pricememo.c"

/* ------------------------------------------------------------ the host */

static souk_arena arena;
static json_t *script_answer;     /* what the script "returns" (borrowed) */
static const char *script_error;  /* or the error it raises */
static json_t *script_args;       /* the arguments of the last call (owned) */
static int script_calls, log_lines;
static json_t *key_answer;        /* what customer_key "returns" (owned); NULL: no such
                                     function */
static int key_calls;
static json_t *settings;          /* settings.catalog: cache_ms */
static sqlite3 *memdb;            /* a database for sqlite3_txn_state */
static int64_t stamp_version;     /* catalog_db_stamp's answer */

static void fake_log(souk_plugin *self, int level, const char *fmt, ...) { log_lines++; }
static void *fake_alloc(souk_ctx *ctx, size_t n) { return souk_arena_alloc(&arena, n); }
static char *fake_dup(souk_ctx *ctx, const char *s) { return souk_arena_strdup(&arena, s); }

static char *fake_format(souk_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = souk_arena_vprintf(&arena, fmt, ap);
    va_end(ap);
    return s;
}

static int fake_script_call(souk_ctx *ctx, const char *script, const char *fn, json_t *args,
                            json_t **result, const char **error)
{
    script_calls++;
    json_decref(script_args);
    script_args = json_deep_copy(args);
    *result = NULL;
    if (strcmp(script, "pricing") == 0 && strcmp(fn, "customer_key") == 0) {
        key_calls++;
        if (!key_answer) { /* script_has said there is none: never asked */
            *error = "pricing.lua: the module has no function 'customer_key' (nil)";
            return SOUK_ERR;
        }
        *result = json_incref(key_answer);
        return SOUK_OK;
    }
    if (strcmp(script, "pricing") != 0 || strcmp(fn, "price") != 0) {
        *error = "wrong script";
        return SOUK_ERR;
    }
    if (script_error) {
        *error = script_error;
        return SOUK_ERR;
    }
    *result = json_incref(script_answer);
    return SOUK_OK;
}

/* pricing.lua has customer_key exactly when the test gave it an answer. */
static int fake_script_has(souk_ctx *ctx, const char *script, const char *fn)
{
    return strcmp(script, "pricing") == 0 && strcmp(fn, "customer_key") == 0 && key_answer;
}

static json_t *fake_config(souk_plugin *self) { return settings; }
static sqlite3 *fake_db(souk_ctx *ctx) { return memdb; }

int catalog_db_stamp(souk_ctx *ctx, int64_t *version, int64_t *changes)
{
    *version = stamp_version;
    *changes = 0;
    return 0;
}

static souk_host_api fake_api = {
    .config = fake_config,
    .db = fake_db,
    .log = fake_log,
    .alloc = fake_alloc,
    .dup = fake_dup,
    .format = fake_format,
    .script_call = fake_script_call,
    .script_has = fake_script_has,
};

const souk_host_api *catalog_api = &fake_api;
souk_plugin *catalog_self;

const char *catalog_lang(souk_ctx *ctx) { return "en"; }

/* "<amount> <currency>/<lang>": shows which values the texts were made from. */
const char *catalog_money_text(souk_ctx *ctx, int64_t amount, const char *currency,
                               const char *lang)
{
    return souk_arena_printf(&arena, "%lld %s/%s", (long long)amount, currency, lang);
}

/* ------------------------------------------------------------ helpers */

static souk_ctx *const CTX = NULL; /* the fake host never looks at it */

static json_t *items_of(int n)
{
    json_t *items = json_array();
    for (int i = 0; i < n; i++) {
        char sku[8];
        snprintf(sku, sizeof sku, "%c", 'A' + i);
        json_array_append_new(
            items, json_pack("{s:{s:s, s:s}, s:{s:s, s:I, s:s, s:I}}", "product", "slug", "kettle",
                             "brand", "Bosch", "variant", "sku", sku, "price",
                             (json_int_t)(100000 * (i + 1)), "currency", "RUB", "stock",
                             (json_int_t)3));
    }
    return items;
}

/* Price n items (bases 100000, 200000, ...) with the script answering json; the
 * error (or NULL) and *prices (yours, may be NULL). */
static const char *price_with(int n, const char *json, json_t **prices)
{
    json_error_t jerr;
    script_answer = json_loads(json, JSON_DECODE_ANY, &jerr);
    if (!script_answer)
        fprintf(stderr, "bad test JSON: %s: %s\n", json, jerr.text);
    script_error = NULL;
    json_t *items = items_of(n), *out = NULL;
    const char *error = NULL;
    int rc = catalog_price_items(CTX, items, NULL, 1795726800000, &out, &error);
    CHECK(rc == SOUK_OK ? error == NULL && out != NULL : error != NULL && out == NULL);
    json_decref(items);
    json_decref(script_answer);
    if (prices)
        *prices = out;
    else
        json_decref(out);
    return error;
}

/* The error for a script answer that must be refused. */
static const char *refused(int n, const char *json)
{
    int before = log_lines;
    const char *error = price_with(n, json, NULL);
    CHECK(error != NULL);
    CHECK(log_lines == before + 1); /* the reason is in the log too */
    return error ? error : "(accepted)";
}

/* ------------------------------------------------------------ pricing.c */

TEST(answers_become_price_shapes)
{
    json_t *prices;
    const char *error = price_with(
        2,
        "[{\"price\": 90000, \"adjustments\": [{\"label\": \"Sale -10%\", \"amount\": -10000, "
        "\"rule\": \"sale\"}]},"
        " {\"price\": 200000, \"adjustments\": {}}]",
        &prices);
    CHECK(error == NULL);
    CHECK_INT(json_array_size(prices), 2);
    json_t *p = json_array_get(prices, 0);
    CHECK_INT(json_integer_value(json_object_get(p, "amount")), 90000);
    CHECK_INT(json_integer_value(json_object_get(p, "base")), 100000);
    CHECK_STR(json_string_value(json_object_get(p, "currency")), "RUB");
    CHECK_STR(json_string_value(json_object_get(p, "amount_text")), "90000 RUB/en");
    CHECK_STR(json_string_value(json_object_get(p, "base_text")), "100000 RUB/en");
    CHECK(json_is_true(json_object_get(p, "discounted")));
    json_t *a = json_array_get(json_object_get(p, "adjustments"), 0);
    CHECK_STR(json_string_value(json_object_get(a, "label")), "Sale -10%");
    CHECK_INT(json_integer_value(json_object_get(a, "amount")), -10000);
    CHECK_STR(json_string_value(json_object_get(a, "amount_text")), "-10000 RUB/en");
    CHECK_STR(json_string_value(json_object_get(a, "rule")), "sale");
    CHECK_INT(json_object_size(a), 4);
    /* {} (an empty Lua table) is an empty list of adjustments */
    p = json_array_get(prices, 1);
    CHECK(json_is_false(json_object_get(p, "discounted")));
    CHECK(json_is_array(json_object_get(p, "adjustments")));
    CHECK_INT(json_array_size(json_object_get(p, "adjustments")), 0);
    CHECK_INT(json_object_size(p), 7);
    json_decref(prices);
}

TEST(the_script_gets_items_customer_and_context)
{
    json_t *prices;
    price_with(1, "[{\"price\": 100000}]", &prices);
    CHECK_INT(json_array_size(script_args), 3);
    json_t *items = json_array_get(script_args, 0);
    CHECK_STR(json_string_value(json_object_get(json_object_get(json_array_get(items, 0),
                                                                "variant"), "sku")), "A");
    CHECK(json_is_null(json_array_get(script_args, 1))); /* a guest: nil in Lua */
    json_t *context = json_array_get(script_args, 2);
    CHECK_INT(json_integer_value(json_object_get(context, "now")), 1795726800000);
    CHECK_STR(json_string_value(json_object_get(context, "locale")), "en");
    CHECK_STR(json_string_value(json_object_get(context, "currency")), "RUB");
    CHECK_INT(json_array_size(json_object_get(json_array_get(prices, 0), "adjustments")), 0);
    json_decref(prices);

    /* a customer, and a locale given by the caller */
    json_t *customer = json_pack("{s:i, s:b}", "id", 7, "member", 1);
    json_t *items1 = items_of(1);
    script_answer = json_loads("[{\"price\": 100000}]", 0, NULL);
    const char *error = NULL;
    CHECK(catalog_price_items_lang(CTX, items1, customer, 5, "ru", &prices, &error) == SOUK_OK);
    CHECK(json_equal(json_array_get(script_args, 1), customer));
    CHECK_STR(json_string_value(json_object_get(json_array_get(script_args, 2), "locale")), "ru");
    CHECK_STR(json_string_value(json_object_get(json_array_get(prices, 0), "amount_text")),
              "100000 RUB/ru");
    json_decref(prices);
    json_decref(script_answer);
    json_decref(items1);
    json_decref(customer);
}

TEST(an_empty_page_calls_no_script)
{
    int before = script_calls;
    json_t *items = json_array(), *prices = NULL;
    const char *error = NULL;
    CHECK(catalog_price_items(CTX, items, NULL, 0, &prices, &error) == SOUK_OK);
    CHECK(json_is_array(prices) && json_array_size(prices) == 0);
    CHECK_INT(script_calls, before);
    json_decref(prices);
    json_decref(items);
}

TEST(script_errors_pass_through)
{
    json_t *items = items_of(2), *prices = (json_t *)1;
    const char *error = NULL;
    script_error = "pricing.lua:3: instruction budget exceeded (10000000 instructions)";
    CHECK(catalog_price_items(CTX, items, NULL, 0, &prices, &error) == SOUK_ERR);
    CHECK(prices == NULL);
    CHECK_STR(error, script_error);
    script_error = NULL;
    json_decref(items);
}

TEST(prices_must_be_integers)
{
    CHECK_STR(refused(3, "[{\"price\": 100000}, {\"price\": 200000}, {\"price\": 1000.5}]"),
              "pricing.lua: item 3 (sku C): price 1000.5 is not an integer");
    CHECK_STR(refused(1, "[{\"price\": 100000.0}]"),
              "pricing.lua: item 1 (sku A): price 100000.0 is not an integer");
    CHECK_STR(refused(1, "[{\"price\": \"100000\"}]"),
              "pricing.lua: item 1 (sku A): price \"100000\" is not an integer");
    CHECK_STR(refused(1, "[{\"adjustments\": []}]"),
              "pricing.lua: item 1 (sku A): price is missing");
    CHECK_STR(refused(1, "[{\"price\": -1, \"adjustments\": [{\"label\": \"x\", \"amount\": "
                         "-100001, \"rule\": \"r\"}]}]"),
              "pricing.lua: item 1 (sku A): price -1 is negative");
}

TEST(one_answer_per_item)
{
    CHECK_STR(refused(2, "[{\"price\": 100000}]"),
              "pricing.lua: price() returned 1 answer for 2 items");
    CHECK_STR(refused(1, "[{\"price\": 100000}, {\"price\": 200000}]"),
              "pricing.lua: price() returned 2 answers for 1 item");
    CHECK_STR(refused(1, "{}"),
              "pricing.lua: price() returned an empty table, not a list of one answer per item");
    CHECK_STR(refused(1, "null"),
              "pricing.lua: price() returned nothing, not a list of one answer per item");
    CHECK_STR(refused(1, "100000"),
              "pricing.lua: price() returned 100000, not a list of one answer per item");
    CHECK_STR(refused(2, "[{\"price\": 100000}, 200000]"),
              "pricing.lua: item 2 (sku B): the answer is 200000, not {price = ..., "
              "adjustments = {...}}");
    CHECK_STR(refused(1, "[{\"price\": 100000, \"adjustment\": []}]"),
              "pricing.lua: item 1 (sku A): unknown field 'adjustment' (an answer has price "
              "and adjustments)");
}

TEST(price_is_base_plus_adjustments)
{
    CHECK_STR(refused(1, "[{\"price\": 90000}]"),
              "pricing.lua: item 1 (sku A): price 90000 does not add up: base 100000 + "
              "adjustments 0 = 100000");
    CHECK_STR(refused(2, "[{\"price\": 100000}, {\"price\": 150000, \"adjustments\": ["
                         "{\"label\": \"a\", \"amount\": -30000, \"rule\": \"a\"},"
                         "{\"label\": \"b\", \"amount\": -10000, \"rule\": \"b\"}]}]"),
              "pricing.lua: item 2 (sku B): price 150000 does not add up: base 200000 + "
              "adjustments -40000 = 160000");
    /* sums that overflow are refused, not wrapped around */
    CHECK_STR(refused(1, "[{\"price\": 0, \"adjustments\": ["
                         "{\"label\": \"a\", \"amount\": 9223372036854775807, \"rule\": \"a\"},"
                         "{\"label\": \"b\", \"amount\": 9223372036854775807, \"rule\": \"b\"}]}]"),
              "pricing.lua: item 1 (sku A): the adjustments add up beyond any price");
    CHECK_STR(refused(1, "[{\"price\": 0, \"adjustments\": ["
                         "{\"label\": \"a\", \"amount\": 9223372036854775807, \"rule\": \"a\"}]}]"),
              "pricing.lua: item 1 (sku A): base 100000 plus the adjustments is beyond any "
              "price");
    /* a surcharge is fine when it is explained */
    json_t *prices;
    CHECK(price_with(1, "[{\"price\": 100500, \"adjustments\": [{\"label\": \"Gift wrap\", "
                        "\"amount\": 500, \"rule\": \"wrap\"}]}]", &prices) == NULL);
    CHECK(json_is_false(json_object_get(json_array_get(prices, 0), "discounted")));
    json_decref(prices);
}

TEST(adjustments_are_checked)
{
    CHECK_STR(refused(1, "[{\"price\": 100000, \"adjustments\": 5}]"),
              "pricing.lua: item 1 (sku A): adjustments is 5, not a list");
    CHECK_STR(refused(1, "[{\"price\": 100000, \"adjustments\": {\"a\": 1}}]"),
              "pricing.lua: item 1 (sku A): adjustments is a table, not a list");
    CHECK_STR(refused(1, "[{\"price\": 100000, \"adjustments\": [\"sale\"]}]"),
              "pricing.lua: item 1 (sku A): adjustment 1 is \"sale\", not {label = ..., "
              "amount = ..., rule = ...}");
    CHECK_STR(refused(1, "[{\"price\": 99000, \"adjustments\": [{\"amount\": -1000, "
                         "\"rule\": \"r\"}]}]"),
              "pricing.lua: item 1 (sku A): adjustment 1: label is missing");
    CHECK_STR(refused(1, "[{\"price\": 99000, \"adjustments\": [{\"label\": \"\", \"amount\": "
                         "-1000, \"rule\": \"r\"}]}]"),
              "pricing.lua: item 1 (sku A): adjustment 1: label \"\" is not a non-empty string");
    CHECK_STR(refused(1, "[{\"price\": 99000, \"adjustments\": [{\"label\": \"x\", \"amount\": "
                         "-1000}]}]"),
              "pricing.lua: item 1 (sku A): adjustment 1: rule is missing");
    CHECK_STR(refused(1, "[{\"price\": 99000, \"adjustments\": [{\"label\": \"x\", \"amount\": "
                         "-1000, \"rule\": 7}]}]"),
              "pricing.lua: item 1 (sku A): adjustment 1: rule 7 is not a non-empty string");
    CHECK_STR(refused(1, "[{\"price\": 99000, \"adjustments\": [{\"label\": \"x\", "
                         "\"rule\": \"r\"}]}]"),
              "pricing.lua: item 1 (sku A): adjustment 1 (rule r): amount is missing");
    CHECK_STR(refused(1, "[{\"price\": 99000, \"adjustments\": [{\"label\": \"x\", \"amount\": "
                         "-1000.0, \"rule\": \"r\"}]}]"),
              "pricing.lua: item 1 (sku A): adjustment 1 (rule r): amount -1000.0 is not an "
              "integer");
    CHECK_STR(refused(1, "[{\"price\": 99000, \"adjustments\": [{\"label\": \"x\", \"amount\": "
                         "-1000, \"rule\": \"r\", \"note\": 1}]}]"),
              "pricing.lua: item 1 (sku A): adjustment 1: unknown field 'note' (an adjustment "
              "has label, amount and rule)");

    /* too long a label; too many adjustments */
    char json[8192];
    int n = snprintf(json, sizeof json, "[{\"price\": 99000, \"adjustments\": [{\"label\": \"");
    for (int i = 0; i <= PRICING_LABEL_MAX; i++)
        json[n++] = 'x';
    snprintf(json + n, sizeof json - (size_t)n, "\", \"amount\": -1000, \"rule\": \"r\"}]}]");
    CHECK_STR(refused(1, json),
              "pricing.lua: item 1 (sku A): adjustment 1: label is longer than 200 bytes");
    n = snprintf(json, sizeof json, "[{\"price\": 100000, \"adjustments\": [");
    for (int i = 0; i <= PRICING_ADJUSTMENTS_MAX; i++)
        n += snprintf(json + n, sizeof json - (size_t)n, "%s{\"label\": \"x\", \"amount\": 0, "
                      "\"rule\": \"r\"}", i ? "," : "");
    snprintf(json + n, sizeof json - (size_t)n, "]}]");
    CHECK_STR(refused(1, json), "pricing.lua: item 1 (sku A): 33 adjustments (at most 32)");
}

TEST(long_strings_are_cut_in_messages)
{
    /* 39 ASCII bytes then a two-byte letter across the 40-byte limit: the cut must
     * not split it */
    const char *e = refused(1, "[{\"price\": \"123456789012345678901234567890123456789Жxyz\"}]");
    CHECK_STR(e, "pricing.lua: item 1 (sku A): price \"123456789012345678901234567890123456789"
                 "...\" is not an integer");
}

TEST(callers_must_pass_items)
{
    json_t *prices, *bad = json_pack("[{s:{}}]", "product");
    const char *error = NULL;
    CHECK(catalog_price_items(CTX, bad, NULL, 0, &prices, &error) == SOUK_ERR);
    CHECK(error && strstr(error, "item 1: not a {product, variant} pair"));
    json_t *customer = json_string("guest"), *items = items_of(1);
    CHECK(catalog_price_items(CTX, items, customer, 0, &prices, &error) == SOUK_ERR);
    CHECK(error && strstr(error, "the customer is \"guest\""));
    json_decref(customer);
    json_decref(items);
    json_decref(bad);
}

/* ---------------------------------------------------------- pricememo.c */

#define MEMO_NOW 1795726800000
#define MEMO_CACHE_MS 10000

static void memo_settings(int64_t cache_ms, int64_t version)
{
    json_object_set_new(settings, "cache_ms", json_integer(cache_ms));
    stamp_version = version;
}

static void key_answers(const char *json)
{
    json_decref(key_answer);
    key_answer = json ? json_loads(json, JSON_DECODE_ANY, NULL) : NULL;
}

/* Price the first n items for customer at now (through the memo when it is on),
 * the script answering json: the amounts as JSON text, or "(failed)" with
 * *error. */
static const char *memo_price(int n, json_t *customer, int64_t now, const char *json,
                              const char **error)
{
    static char text[256];
    script_answer = json_loads(json, JSON_DECODE_ANY, NULL);
    json_t *items = items_of(n), *out = NULL;
    *error = NULL;
    int rc = catalog_price_items(CTX, items, customer, now, &out, error);
    json_decref(items);
    json_decref(script_answer);
    script_answer = NULL;
    snprintf(text, sizeof text, "(failed)");
    if (rc != SOUK_OK)
        return text;
    json_t *amounts = json_array();
    size_t i;
    json_t *p;
    json_array_foreach(out, i, p)
        json_array_append(amounts, json_object_get(p, "amount"));
    char *dump = json_dumps(amounts, JSON_COMPACT);
    snprintf(text, sizeof text, "%s", dump);
    free(dump);
    json_decref(amounts);
    json_decref(out);
    return text;
}

/* The SKUs price() was last given: "A,B". */
static const char *priced_skus(void)
{
    static char out[64];
    out[0] = '\0';
    size_t i;
    json_t *item;
    json_array_foreach(json_array_get(script_args, 0), i, item) {
        if (i)
            strcat(out, ",");
        strcat(out, json_string_value(json_object_get(json_object_get(item, "variant"), "sku")));
    }
    return out;
}

TEST(the_memo_asks_the_script_only_for_what_it_does_not_know)
{
    memo_settings(MEMO_CACHE_MS, 1);
    key_answers("\"member\"");
    json_t *ann = json_pack("{s:i, s:b}", "id", 1, "member", 1);
    json_t *bob = json_pack("{s:i, s:b}", "id", 2, "member", 1);
    const char *error;
    /* A with a discount: the memo keeps the checked shape, adjustments and all. */
    CHECK_STR(memo_price(2, ann, MEMO_NOW,
                         "[{\"price\": 90000, \"adjustments\": [{\"label\": \"-10%\", "
                         "\"amount\": -10000, \"rule\": \"r\"}]}, {\"price\": 200000}]",
                         &error), "[90000,200000]");
    CHECK_STR(priced_skus(), "A,B");
    /* Another member (the same key): only C is new; the answers keep the order. */
    int calls = script_calls, keys = key_calls;
    CHECK_STR(memo_price(3, bob, MEMO_NOW + 1, "[{\"price\": 300000}]", &error),
              "[90000,200000,300000]");
    CHECK_STR(priced_skus(), "C");
    CHECK_INT(key_calls, keys + 1);          /* once per pricing call */
    CHECK_INT(script_calls, calls + 2);      /* customer_key and price */
    /* Everything known: no price() call at all. */
    calls = script_calls;
    CHECK_STR(memo_price(3, ann, MEMO_NOW + 2, "[]", &error), "[90000,200000,300000]");
    CHECK_INT(script_calls, calls + 1);
    /* Another key is priced on its own. */
    key_answers("\"guest\"");
    CHECK_STR(memo_price(1, NULL, MEMO_NOW + 3, "[{\"price\": 100000}]", &error), "[100000]");
    CHECK_STR(priced_skus(), "A");
    key_answers("\"member\"");
    /* A changed database forgets everything ... */
    stamp_version = 2;
    CHECK_STR(memo_price(1, ann, MEMO_NOW + 4, "[{\"price\": 100000}]", &error), "[100000]");
    CHECK_STR(priced_skus(), "A");
    calls = script_calls;
    CHECK_STR(memo_price(1, ann, MEMO_NOW + 5, "[]", &error), "[100000]");
    CHECK_INT(script_calls, calls + 1);
    /* ... and so does time: cache_ms after its first entry. */
    CHECK_STR(memo_price(1, ann, MEMO_NOW + 4 + MEMO_CACHE_MS, "[{\"price\": 100000}]", &error),
              "[100000]");
    CHECK_INT(script_calls, calls + 3);
    json_decref(ann);
    json_decref(bob);
}

TEST(a_refused_answer_is_not_remembered)
{
    memo_settings(MEMO_CACHE_MS, 3);
    const char *error;
    CHECK_STR(memo_price(2, NULL, MEMO_NOW, "[{\"price\": 100000}, {\"price\": 1.5}]", &error),
              "(failed)");
    CHECK(error && strstr(error, "sku B"));
    /* Nothing was kept, not even A's good answer. */
    CHECK_STR(memo_price(2, NULL, MEMO_NOW, "[{\"price\": 100000}, {\"price\": 200000}]", &error),
              "[100000,200000]");
    CHECK_STR(priced_skus(), "A,B");
}

TEST(customer_key_must_answer_a_short_string)
{
    memo_settings(MEMO_CACHE_MS, 4);
    const char *bad[] = {"5", "\"\"", "{\"a\": 1}",
                         "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        key_answers(bad[i]);
        int calls = script_calls;
        const char *error;
        CHECK_STR(memo_price(1, NULL, MEMO_NOW, "[{\"price\": 100000}]", &error), "(failed)");
        CHECK(error && strstr(error, "pricing.lua: customer_key() returned"));
        CHECK_INT(script_calls, calls + 1); /* price() was never asked */
    }
    key_answers("\"guest\"");
}

TEST(cache_ms_zero_prices_every_call)
{
    memo_settings(0, 4);
    const char *error;
    for (int i = 0; i < 2; i++) {
        int keys = key_calls;
        CHECK_STR(memo_price(1, NULL, MEMO_NOW, "[{\"price\": 100000}]", &error), "[100000]");
        CHECK_STR(priced_skus(), "A");
        CHECK_INT(key_calls, keys);          /* no memo, no key */
    }
}

TEST(a_write_transaction_does_not_use_the_memo)
{
    memo_settings(MEMO_CACHE_MS, 5);
    const char *error;
    CHECK_STR(memo_price(1, NULL, MEMO_NOW, "[{\"price\": 100000}]", &error), "[100000]");
    CHECK(sqlite3_exec(memdb, "BEGIN IMMEDIATE; CREATE TABLE t(x)", NULL, NULL, NULL) ==
          SQLITE_OK);
    int calls = script_calls;
    CHECK_STR(memo_price(1, NULL, MEMO_NOW, "[{\"price\": 100000}]", &error), "[100000]");
    CHECK_INT(script_calls, calls + 1);     /* asked again, and no key needed */
    CHECK(sqlite3_exec(memdb, "ROLLBACK", NULL, NULL, NULL) == SQLITE_OK);
}

/* Without customer_key (script_has says so) it is never called. */
TEST(without_customer_key_each_customer_has_its_own_prices)
{
    memo_settings(MEMO_CACHE_MS, 6);
    key_answers(NULL);
    json_t *ann = json_pack("{s:i, s:b}", "id", 1, "member", 1);
    json_t *ann2 = json_pack("{s:b, s:i}", "member", 1, "id", 1); /* the same, reordered */
    json_t *bob = json_pack("{s:i, s:b}", "id", 2, "member", 1);
    const char *error;
    CHECK_STR(memo_price(1, ann, MEMO_NOW, "[{\"price\": 100000}]", &error), "[100000]");
    CHECK_STR(priced_skus(), "A");
    int calls = script_calls, keys = key_calls;
    CHECK_STR(memo_price(1, ann2, MEMO_NOW, "[]", &error), "[100000]");
    CHECK_INT(script_calls, calls);         /* the same customer: known, nothing asked */
    CHECK_STR(memo_price(1, bob, MEMO_NOW, "[{\"price\": 100000}]", &error), "[100000]");
    CHECK_INT(script_calls, calls + 1);     /* another customer: priced */
    CHECK_STR(memo_price(1, NULL, MEMO_NOW, "[{\"price\": 100000}]", &error), "[100000]");
    CHECK_INT(script_calls, calls + 2);     /* a guest: priced as "guest" */
    CHECK_INT(key_calls, keys);             /* the missing function is never called */
    json_decref(ann);
    json_decref(ann2);
    json_decref(bob);
}

/* ----------------------------------------------------------- price_cmd.c */

static int64_t at(const char *s)
{
    int64_t ms = -1;
    return price_parse_time(s, &ms) == 0 ? ms : -1;
}

TEST(times_parse)
{
    CHECK_INT(at("2026-12-31T23:00:00Z"), 1798758000000);
    CHECK_INT(at("2026-12-31"), 1798675200000);
    CHECK_INT(at("2026-12-31T23:00Z"), 1798758000000);
    CHECK_INT(at("2027-01-01T02:00:00+03:00"), 1798758000000);
    CHECK_INT(at("2027-01-01T02:00:00+0300"), 1798758000000);
    CHECK_INT(at("2026-12-31T18:30:00-04:30"), 1798758000000);
    CHECK_INT(at("2026-12-31 23:00:00"), 1798758000000);
    CHECK_INT(at("2026-12-31T23:00:00.5Z"), 1798758000500);
    CHECK_INT(at("2026-12-31T23:00:00.123456Z"), 1798758000123);
    CHECK_INT(at("1970-01-01"), 0);
    CHECK_INT(at("2000-02-29T12:30:00+03:00"), 951816600000);
    CHECK_INT(at("1798758000000"), 1798758000000);
    CHECK_INT(at("0"), 0);
    const char *bad[] = {"", "tomorrow", "2026-13-01", "2026-02-29", "2026-12-32", "2026-1-1",
                         "2026-12-31T24:00:00Z", "2026-12-31T23:60Z", "2026-12-31T23:00:61Z",
                         "2026-12-31T23", "2026-12-31T23:00:00Zx", "2026-12-31T23:00:00.Z",
                         "2026-12-31T23:00+3", "2026-12-31T23:00+03:", "-5", "1e12",
                         "1234567890123456", "2026-12-31X"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (at(bad[i]) != -1) {
            fprintf(stderr, "accepted bad time '%s'\n", bad[i]);
            CHECK(0);
        }
}

TEST(times_format)
{
    char out[PRICE_TIME_TEXT_MAX];
    price_format_time(1798758000000, out, sizeof out);
    CHECK_STR(out, "2026-12-31T23:00:00Z");
    price_format_time(951816600123, out, sizeof out);
    CHECK_STR(out, "2000-02-29T09:30:00.123Z");
    price_format_time(-1, out, sizeof out);
    CHECK_STR(out, "1969-12-31T23:59:59.999Z");
    /* every day of four centuries goes there and back */
    for (int64_t d = -800; d < 146097; d += 7) {
        int64_t y;
        int m, dd;
        price_civil_from_days(d, &y, &m, &dd);
        if (price_days_from_civil(y, m, dd) != d || dd > price_days_in_month(y, m)) {
            CHECK_INT(price_days_from_civil(y, m, dd), d);
            break;
        }
    }
}

static int cmd(const char *const *args, int n)
{
    char *argv[16];
    argv[0] = "price";
    for (int i = 0; i < n; i++)
        argv[i + 1] = (char *)args[i];
    /* usage goes to stdout/stderr; keep the test's output readable */
    fflush(stdout);
    fflush(stderr);
    FILE *saved_out = stdout, *saved_err = stderr;
    stdout = stderr = fopen("/dev/null", "w");
    int rc = catalog_cmd_price(CTX, n + 1, argv);
    fclose(stdout);
    stdout = saved_out;
    stderr = saved_err;
    return rc;
}

TEST(command_usage)
{
    CHECK_INT(cmd(NULL, 0), PRICE_EXIT_USAGE);
    CHECK_INT(cmd((const char *[]){"--help"}, 1), PRICE_EXIT_OK);
    CHECK_INT(cmd((const char *[]){"--product", "x", "-h"}, 3), PRICE_EXIT_OK);
    CHECK_INT(cmd((const char *[]){"--product"}, 1), PRICE_EXIT_USAGE);
    CHECK_INT(cmd((const char *[]){"--product="}, 1), PRICE_EXIT_USAGE);
    CHECK_INT(cmd((const char *[]){"--product", "x", "--frob"}, 3), PRICE_EXIT_USAGE);
    CHECK_INT(cmd((const char *[]){"--product", "x", "extra"}, 3), PRICE_EXIT_USAGE);
    CHECK_INT(cmd((const char *[]){"--product", "x", "--lang", "de"}, 4), PRICE_EXIT_USAGE);
    CHECK_INT(cmd((const char *[]){"--product", "x", "--at", "soon"}, 4), PRICE_EXIT_USAGE);
    CHECK_INT(cmd((const char *[]){"--product=x", "--at=2026-02-30"}, 2), PRICE_EXIT_USAGE);
    /* a customer file that cannot be read fails before the database is touched */
    CHECK_INT(cmd((const char *[]){"--product", "x", "--at", "0", "--customer-json",
                                   "/nonexistent/customer.json"}, 6), PRICE_EXIT_FAIL);
}

TEST(customer_files)
{
    char path[] = "/tmp/souk-price-customer-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("{\"id\": 7, \"member\": true}", f);
    fclose(f);
    json_t *c = price_customer_load(path);
    CHECK(json_is_object(c) && json_is_true(json_object_get(c, "member")));
    json_decref(c);
    f = fopen(path, "w");
    fputs("[1, 2]", f);
    fclose(f);
    fflush(stderr);
    FILE *saved = stderr;
    stderr = fopen("/dev/null", "w");
    c = price_customer_load(path);
    CHECK(c == NULL);
    f = fopen(path, "w");
    fputs("{\"id\": 7,\n \"id\": 8}", f);
    fclose(f);
    c = price_customer_load(path);
    CHECK(c == NULL);
    fclose(stderr);
    stderr = saved;
    c = price_customer_load(NULL);
    CHECK(json_is_null(c));
    json_decref(c);
    unlink(path);
}

int main(void)
{
    souk_arena_init(&arena, 0);
    fake_api.size = sizeof fake_api;
    settings = json_pack("{s:i}", "cache_ms", 0); /* the memo off, until its own cases */
    CHECK(sqlite3_open(":memory:", &memdb) == SQLITE_OK);
    RUN(answers_become_price_shapes);
    RUN(the_script_gets_items_customer_and_context);
    RUN(an_empty_page_calls_no_script);
    RUN(script_errors_pass_through);
    RUN(prices_must_be_integers);
    RUN(one_answer_per_item);
    RUN(price_is_base_plus_adjustments);
    RUN(adjustments_are_checked);
    RUN(long_strings_are_cut_in_messages);
    RUN(callers_must_pass_items);
    RUN(times_parse);
    RUN(times_format);
    RUN(command_usage);
    RUN(customer_files);
    RUN(the_memo_asks_the_script_only_for_what_it_does_not_know);
    RUN(a_refused_answer_is_not_remembered);
    RUN(customer_key_must_answer_a_short_string);
    RUN(cache_ms_zero_prices_every_call);
    RUN(a_write_transaction_does_not_use_the_memo);
    RUN(without_customer_key_each_customer_has_its_own_prices);
    json_decref(script_args);
    json_decref(key_answer);
    json_decref(settings);
    sqlite3_close(memdb);
    souk_arena_free(&arena);
    return test_report();
}
