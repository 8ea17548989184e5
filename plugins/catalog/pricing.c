/* pricing.c -- displayed prices: one call of the merchant's pricing.lua for a batch
 * of items, and a strict check of everything it returns (docs/pricing.md).
 *
 * What must stay true: a price that reaches a page, the API or another plugin is
 * one the script returned *and* explained -- an integer number of minor units, not
 * negative, equal to the base price plus the sum of its adjustments.  Anything else
 * fails the whole batch with a message naming the script, the item (1-based, as
 * the script sees it in Lua), its SKU and the field.  There is no fallback price:
 * the caller answers 503 "pricing_failed". */
#include "catalog_internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define PRICING_FILE CATALOG_SCRIPT ".lua" /* how errors name the script */
#define PRICING_CURRENCY "RUB"             /* context.currency: the store's currency */
#define PRICING_LANG_DEFAULT "ru"          /* context.locale when none is given */
#define PRICING_ADJUSTMENTS_MAX 32         /* adjustments of one item */
#define PRICING_LABEL_MAX 200              /* bytes of an adjustment's label */
#define PRICING_RULE_MAX 64                /* bytes of a rule name */
#define PRICING_SHOWN_MAX 40               /* bytes of a bad string quoted in an error */
#define PRICING_ERROR_MAX 512              /* bytes of one error message */

/* ------------------------------------------------------------ messages */

/* Fail with "pricing.lua: <fmt>" (arena) in *error, logged: script_call logs the
 * script's own errors, this logs the ones found in its answer. */
static int pricing_fail(souk_ctx *ctx, const char **error, const char *fmt, ...)
    SOUK_PRINTF(3, 4);

static int pricing_fail(souk_ctx *ctx, const char **error, const char *fmt, ...)
{
    char msg[PRICING_ERROR_MAX];
    int n = snprintf(msg, sizeof msg, "%s: ", PRICING_FILE);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    va_end(ap);
    catalog_api->log(catalog_self, SOUK_LOG_ERROR, "%s", msg);
    if (error)
        *error = catalog_api->dup(ctx, msg);
    return SOUK_ERR;
}

/* A returned value as a person reads it in an error: 1000.5, 1000.0 (a float even
 * when integral, as Lua prints it), "text", a list, a table, true, nothing. */
static const char *pricing_describe(souk_ctx *ctx, json_t *v)
{
    if (!v)
        return "nothing";
    switch (json_typeof(v)) {
    case JSON_INTEGER:
        return catalog_api->format(ctx, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    case JSON_REAL: {
        char num[64];
        snprintf(num, sizeof num, "%.14g", json_real_value(v));
        if (strspn(num, "-0123456789") == strlen(num))
            strcat(num, ".0");
        return catalog_api->dup(ctx, num);
    }
    case JSON_STRING: {
        const char *s = json_string_value(v);
        size_t len = strlen(s);
        if (len <= PRICING_SHOWN_MAX)
            return catalog_api->format(ctx, "\"%s\"", s);
        /* Cut at a character boundary: the message must stay valid UTF-8. */
        size_t cut = PRICING_SHOWN_MAX;
        while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
            cut--;
        return catalog_api->format(ctx, "\"%.*s...\"", (int)cut, s);
    }
    case JSON_ARRAY: return "a list";
    case JSON_OBJECT: return json_object_size(v) ? "a table" : "an empty table";
    case JSON_TRUE: return "true";
    case JSON_FALSE: return "false";
    default: return "nothing";
    }
}

/* ---------------------------------------------------------- validation */

/* Which item a message is about: "item 3 (sku X)". */
typedef struct pricing_item {
    size_t index;          /* 1-based */
    const char *sku;       /* borrowed from the items */
    int64_t base;          /* variant.price */
    const char *currency;  /* variant.currency */
} pricing_item;

/* Only these keys may appear: a misspelt one ("adjustment") is a mistake to report,
 * not a field to ignore. */
static const char *pricing_unknown_key(json_t *obj, const char *const *allowed)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        const char *const *a = allowed;
        while (*a && strcmp(*a, key) != 0)
            a++;
        if (!*a)
            return key;
    }
    return NULL;
}

/* A required non-empty string of at most max bytes.  NULL after failing. */
static const char *pricing_text_field(souk_ctx *ctx, const pricing_item *it, size_t j,
                                      json_t *adj, const char *field, size_t max,
                                      const char **error)
{
    json_t *v = json_object_get(adj, field);
    const char *s = json_string_value(v);
    if (!v)
        pricing_fail(ctx, error, "item %zu (sku %s): adjustment %zu: %s is missing", it->index,
                     it->sku, j, field);
    else if (!s || !*s)
        pricing_fail(ctx, error, "item %zu (sku %s): adjustment %zu: %s %s is not a non-empty "
                     "string", it->index, it->sku, j, field, pricing_describe(ctx, v));
    else if (strlen(s) > max)
        pricing_fail(ctx, error, "item %zu (sku %s): adjustment %zu: %s is longer than %zu bytes",
                     it->index, it->sku, j, field, max);
    else
        return s;
    return NULL;
}

/* Check one adjustment and append its shape to out; *sum accumulates its amount. */
static int pricing_check_adjustment(souk_ctx *ctx, const pricing_item *it, size_t j, json_t *adj,
                                    const char *lang, int64_t *sum, json_t *out,
                                    const char **error)
{
    static const char *const keys[] = {"label", "amount", "rule", NULL};
    if (!json_is_object(adj))
        return pricing_fail(ctx, error, "item %zu (sku %s): adjustment %zu is %s, not "
                            "{label = ..., amount = ..., rule = ...}", it->index, it->sku, j,
                            pricing_describe(ctx, adj));
    const char *bad = pricing_unknown_key(adj, keys);
    if (bad)
        return pricing_fail(ctx, error, "item %zu (sku %s): adjustment %zu: unknown field '%s' "
                            "(an adjustment has label, amount and rule)", it->index, it->sku, j,
                            bad);
    const char *label = pricing_text_field(ctx, it, j, adj, "label", PRICING_LABEL_MAX, error);
    if (!label)
        return SOUK_ERR;
    const char *rule = pricing_text_field(ctx, it, j, adj, "rule", PRICING_RULE_MAX, error);
    if (!rule)
        return SOUK_ERR;
    json_t *amount = json_object_get(adj, "amount");
    if (!amount)
        return pricing_fail(ctx, error, "item %zu (sku %s): adjustment %zu (rule %s): amount is "
                            "missing", it->index, it->sku, j, rule);
    if (!json_is_integer(amount))
        return pricing_fail(ctx, error, "item %zu (sku %s): adjustment %zu (rule %s): amount %s "
                            "is not an integer", it->index, it->sku, j, rule,
                            pricing_describe(ctx, amount));
    int64_t a = json_integer_value(amount);
    if (__builtin_add_overflow(*sum, a, sum))
        return pricing_fail(ctx, error, "item %zu (sku %s): the adjustments add up beyond any "
                            "price", it->index, it->sku);
    const char *text = catalog_money_text(ctx, a, it->currency, lang);
    if (!text)
        return pricing_fail(ctx, error, "item %zu (sku %s): cannot write amounts of currency %s",
                            it->index, it->sku, it->currency);
    json_array_append_new(out, json_pack("{s:s, s:I, s:s, s:s}", "label", label, "amount",
                                         (json_int_t)a, "amount_text", text, "rule", rule));
    return SOUK_OK;
}

/* The adjustments of one answer: *list (borrowed) is the array, or NULL for none --
 * absent, or {} (how an empty Lua table arrives). */
static int pricing_adjustment_list(souk_ctx *ctx, const pricing_item *it, json_t *v,
                                   json_t **list, const char **error)
{
    *list = NULL;
    if (!v || (json_is_object(v) && json_object_size(v) == 0))
        return SOUK_OK;
    if (!json_is_array(v))
        return pricing_fail(ctx, error, "item %zu (sku %s): adjustments is %s, not a list",
                            it->index, it->sku, pricing_describe(ctx, v));
    if (json_array_size(v) > PRICING_ADJUSTMENTS_MAX)
        return pricing_fail(ctx, error, "item %zu (sku %s): %zu adjustments (at most %d)",
                            it->index, it->sku, json_array_size(v), PRICING_ADJUSTMENTS_MAX);
    *list = v;
    return SOUK_OK;
}

/* Check the script's answer for one item; *shape (yours) is its price shape. */
static int pricing_check_answer(souk_ctx *ctx, const pricing_item *it, json_t *answer,
                                const char *lang, json_t **shape, const char **error)
{
    static const char *const keys[] = {"price", "adjustments", NULL};
    *shape = NULL;
    if (!json_is_object(answer) || json_object_size(answer) == 0)
        return pricing_fail(ctx, error, "item %zu (sku %s): the answer is %s, not "
                            "{price = ..., adjustments = {...}}", it->index, it->sku,
                            pricing_describe(ctx, answer));
    const char *bad = pricing_unknown_key(answer, keys);
    if (bad)
        return pricing_fail(ctx, error, "item %zu (sku %s): unknown field '%s' (an answer has "
                            "price and adjustments)", it->index, it->sku, bad);
    json_t *price = json_object_get(answer, "price");
    if (!price)
        return pricing_fail(ctx, error, "item %zu (sku %s): price is missing", it->index,
                            it->sku);
    if (!json_is_integer(price))
        return pricing_fail(ctx, error, "item %zu (sku %s): price %s is not an integer",
                            it->index, it->sku, pricing_describe(ctx, price));
    int64_t amount = json_integer_value(price);
    if (amount < 0)
        return pricing_fail(ctx, error, "item %zu (sku %s): price %" PRId64 " is negative",
                            it->index, it->sku, amount);
    json_t *list;
    if (pricing_adjustment_list(ctx, it, json_object_get(answer, "adjustments"), &list,
                                error) != SOUK_OK)
        return SOUK_ERR;
    json_t *adjs = json_array();
    int64_t sum = 0, expected;
    for (size_t j = 0; list && j < json_array_size(list); j++) {
        if (pricing_check_adjustment(ctx, it, j + 1, json_array_get(list, j), lang, &sum, adjs,
                                     error) != SOUK_OK)
            goto fail;
    }
    if (__builtin_add_overflow(it->base, sum, &expected)) {
        pricing_fail(ctx, error, "item %zu (sku %s): base %" PRId64 " plus the adjustments is "
                     "beyond any price", it->index, it->sku, it->base);
        goto fail;
    }
    if (expected != amount) {
        pricing_fail(ctx, error, "item %zu (sku %s): price %" PRId64 " does not add up: base %"
                     PRId64 " + adjustments %" PRId64 " = %" PRId64, it->index, it->sku, amount,
                     it->base, sum, expected);
        goto fail;
    }
    const char *amount_text = catalog_money_text(ctx, amount, it->currency, lang);
    const char *base_text = catalog_money_text(ctx, it->base, it->currency, lang);
    if (!amount_text || !base_text) {
        pricing_fail(ctx, error, "item %zu (sku %s): cannot write amounts of currency %s",
                     it->index, it->sku, it->currency);
        goto fail;
    }
    *shape = json_pack("{s:I, s:s, s:s, s:I, s:s, s:b, s:o}", "amount", (json_int_t)amount,
                       "currency", it->currency, "amount_text", amount_text, "base",
                       (json_int_t)it->base, "base_text", base_text, "discounted",
                       amount < it->base, "adjustments", adjs);
    return SOUK_OK;
fail:
    json_decref(adjs);
    return SOUK_ERR;
}

/* What the caller put in items: the base price and currency every check needs.
 * A failure here is a bug in the caller, reported the same way. */
static int pricing_item_read(souk_ctx *ctx, json_t *item, size_t index, pricing_item *it,
                             const char **error)
{
    json_t *variant = json_object_get(item, "variant");
    json_t *base = json_object_get(variant, "price");
    it->index = index;
    it->sku = json_string_value(json_object_get(variant, "sku"));
    it->currency = json_string_value(json_object_get(variant, "currency"));
    if (!it->sku || !it->currency || !json_is_integer(base) || !json_is_object(item) ||
        !json_is_object(json_object_get(item, "product")))
        return pricing_fail(ctx, error, "item %zu: not a {product, variant} pair with the "
                            "variant's sku, price and currency (a bug in the caller)", index);
    it->base = json_integer_value(base);
    return SOUK_OK;
}

/* --------------------------------------------------------------- calls */

/* What every call checks before anything is priced.  A failure is a bug in the
 * caller, reported as the script's failures are. */
static int pricing_arguments(souk_ctx *ctx, json_t *items, json_t *customer,
                             const char **error)
{
    if (error)
        *error = NULL;
    if (!json_is_array(items))
        return pricing_fail(ctx, error, "the items to price are not a list (a bug in the caller)");
    if (customer && !json_is_null(customer) && !json_is_object(customer))
        return pricing_fail(ctx, error, "the customer is %s, not a table or nil (a bug in the "
                            "caller)", pricing_describe(ctx, customer));
    return SOUK_OK;
}

static json_t *pricing_context(int64_t now_ms, const char *lang)
{
    return json_pack("{s:I, s:s, s:s}", "now", (json_int_t)now_ms, "locale", lang, "currency",
                     PRICING_CURRENCY);
}

/* One call of pricing.lua with every item of items (a non-empty array) and the
 * strict check of its answer.  context (borrowed) is the script's third argument. */
static int pricing_run(souk_ctx *ctx, json_t *items, json_t *customer, json_t *context,
                       const char *lang, json_t **prices, const char **error)
{
    size_t n = json_array_size(items);
    pricing_item *its = catalog_api->alloc(ctx, n * sizeof *its);
    for (size_t i = 0; i < n; i++)
        if (pricing_item_read(ctx, json_array_get(items, i), i + 1, &its[i], error) != SOUK_OK)
            return SOUK_ERR;

    json_t *args = json_pack("[O, O, O]", items, customer ? customer : json_null(), context);
    json_t *result = NULL;
    const char *why = NULL;
    int rc = catalog_api->script_call(ctx, CATALOG_SCRIPT, CATALOG_SCRIPT_FN, args, &result, &why);
    json_decref(args);
    if (rc != SOUK_OK) {
        /* script_call has logged it, with the script's line. */
        if (error)
            *error = why ? why : PRICING_FILE ": the script failed";
        return SOUK_ERR;
    }
    if (!json_is_array(result)) {
        const char *got = pricing_describe(ctx, result);
        json_decref(result);
        return pricing_fail(ctx, error, "%s() returned %s, not a list of one answer per item",
                            CATALOG_SCRIPT_FN, got);
    }
    if (json_array_size(result) != n) {
        size_t got = json_array_size(result);
        json_decref(result);
        return pricing_fail(ctx, error, "%s() returned %zu answer%s for %zu item%s",
                            CATALOG_SCRIPT_FN, got, got == 1 ? "" : "s", n, n == 1 ? "" : "s");
    }
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *shape;
        if (pricing_check_answer(ctx, &its[i], json_array_get(result, i), lang, &shape,
                                 error) != SOUK_OK) {
            json_decref(result);
            json_decref(out);
            return SOUK_ERR;
        }
        json_array_append_new(out, shape);
    }
    json_decref(result);
    *prices = out;
    return SOUK_OK;
}

int catalog_price_items_lang(souk_ctx *ctx, json_t *items, json_t *customer, int64_t now_ms,
                             const char *lang, json_t **prices, const char **error)
{
    *prices = NULL;
    if (!lang)
        lang = PRICING_LANG_DEFAULT;
    if (pricing_arguments(ctx, items, customer, error) != SOUK_OK)
        return SOUK_ERR;
    if (json_array_size(items) == 0) {
        /* Nothing to ask: an empty page costs no script call. */
        *prices = json_array();
        return SOUK_OK;
    }
    json_t *context = pricing_context(now_ms, lang);
    int rc = pricing_run(ctx, items, customer, context, lang, prices, error);
    json_decref(context);
    return rc;
}

/* Requests: the memo answers what it knows (pricememo.c says why that is
 * exact enough: the promise of the response cache), the script the rest, in
 * one call.  Only checked answers are remembered; a failure remembers nothing
 * and answers nothing. */
int catalog_price_items(souk_ctx *ctx, json_t *items, json_t *customer, int64_t now_ms,
                        json_t **prices, const char **error)
{
    const char *lang = catalog_lang(ctx);
    *prices = NULL;
    if (pricing_arguments(ctx, items, customer, error) != SOUK_OK)
        return SOUK_ERR;
    size_t n = json_array_size(items);
    json_t *memo = n ? catalog_price_memo(ctx, now_ms) : NULL;
    if (!memo)
        return catalog_price_items_lang(ctx, items, customer, now_ms, lang, prices, error);

    const char *dummy, *ckey;
    if (!error)
        error = &dummy;
    json_t *context = pricing_context(now_ms, lang);
    if (catalog_price_customer_key(ctx, customer, context, &ckey, error) != SOUK_OK) {
        json_decref(context);
        return SOUK_ERR;
    }
    /* Per item: its memo key, and its shape once known (a copy: the caller may
     * change what it gets, the memo's own stays as checked). */
    const char **keys = catalog_api->alloc(ctx, n * sizeof *keys);
    json_t **shapes = catalog_api->alloc(ctx, n * sizeof *shapes);
    size_t *missed = catalog_api->alloc(ctx, n * sizeof *missed), m = 0;
    json_t *misses = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_array_get(items, i);
        const char *sku = json_string_value(json_object_get(json_object_get(item, "variant"),
                                                            "sku"));
        keys[i] = sku ? catalog_price_memo_key(ctx, ckey, lang, sku) : NULL;
        json_t *known = keys[i] ? json_object_get(memo, keys[i]) : NULL;
        shapes[i] = known ? json_deep_copy(known) : NULL;
        if (!shapes[i]) {
            /* Unknown (or an item without a SKU: the checks will say so). */
            missed[m++] = i;
            json_array_append(misses, item);
        }
    }
    json_t *fresh = NULL;
    int rc = m ? pricing_run(ctx, misses, customer, context, lang, &fresh, error) : SOUK_OK;
    json_decref(misses);
    json_decref(context);
    if (rc != SOUK_OK) {
        for (size_t i = 0; i < n; i++)
            json_decref(shapes[i]);
        return SOUK_ERR;
    }
    for (size_t j = 0; j < m; j++) {
        json_t *shape = json_array_get(fresh, j);
        shapes[missed[j]] = json_incref(shape);
        catalog_price_memo_put(memo, keys[missed[j]], json_deep_copy(shape));
    }
    json_decref(fresh);
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(out, shapes[i]);
    *prices = out;
    return SOUK_OK;
}
