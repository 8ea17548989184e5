/* money.c -- amounts of money as people read them.
 *
 * An amount is int64 minor units of an ISO 4217 currency; it is turned into text
 * here and nowhere else, so that every page and every API answer spells prices
 * the same way.  No floating point is involved at any step.
 *
 *   ru  "1 990 ₽", "1 990,50 ₽", "−500 ₽", "12 USD"
 *       digits grouped by three with U+202F (narrow no-break space), a decimal
 *       comma, U+00A0 (no-break space) before the currency, which is the sign ₽
 *       for roubles and the ISO code for everything else.
 *   en  "RUB 1,990", "RUB 1,990.50", "−RUB 500", "USD 12.99"
 *       the ISO code first (unambiguous for a foreign reader: "$" alone could be
 *       any dollar), U+00A0 after it, digits grouped with commas, a decimal point.
 *
 * Both: the minor units are shown only when they are not zero (a whole price
 * reads "1 990 ₽", not "1 990,00 ₽"), with as many digits as the currency has
 * (two for RUB, none for JPY, three for KWD).  A negative amount (a discount, a
 * refund) starts with U+2212 (minus sign), which lines up with the digits where
 * an ASCII hyphen would not. */
#include "catalog_internal.h"

#include <stdio.h>
#include <string.h>

/* Long enough for INT64_MIN with every separator and a currency code. */
#define MONEY_TEXT_MAX 80
#define MONEY_DIGITS_MAX 24

#define MONEY_NNBSP "\xE2\x80\xAF" /* U+202F: between groups of thousands (ru) */
#define MONEY_NBSP "\xC2\xA0"      /* U+00A0: between the number and the currency */
#define MONEY_MINUS "\xE2\x88\x92" /* U+2212 */
#define MONEY_RUBLE "\xE2\x82\xBD" /* U+20BD */

/* Currencies whose minor unit is not a hundredth (ISO 4217 "minor unit" column);
 * every other code has two decimals. */
static const struct {
    const char *code;
    int digits;
} money_exponents[] = {
    {"BIF", 0}, {"CLP", 0}, {"DJF", 0}, {"GNF", 0}, {"ISK", 0}, {"JPY", 0},
    {"KMF", 0}, {"KRW", 0}, {"PYG", 0}, {"RWF", 0}, {"UGX", 0}, {"UYI", 0},
    {"VND", 0}, {"VUV", 0}, {"XAF", 0}, {"XOF", 0}, {"XPF", 0},
    {"BHD", 3}, {"IQD", 3}, {"JOD", 3}, {"KWD", 3}, {"LYD", 3}, {"OMR", 3},
    {"TND", 3},
    {"CLF", 4}, {"UYW", 4},
};

#define MONEY_DEFAULT_DIGITS 2

/* Number of decimal digits of the minor unit of currency. */
static int money_digits(const char *currency)
{
    for (size_t i = 0; i < sizeof money_exponents / sizeof *money_exponents; i++)
        if (strcmp(money_exponents[i].code, currency) == 0)
            return money_exponents[i].digits;
    return MONEY_DEFAULT_DIGITS;
}

/* The decimal digits of v with sep between groups of three, appended to out. */
static void money_group(char *out, size_t cap, uint64_t v, const char *sep)
{
    char digits[MONEY_DIGITS_MAX];
    int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
    size_t len = strlen(out);
    for (int i = 0; i < n && len + 1 < cap; i++) {
        if (i > 0 && (n - i) % 3 == 0) {
            size_t sl = strlen(sep);
            if (len + sl + 1 >= cap)
                break;
            memcpy(out + len, sep, sl);
            len += sl;
        }
        out[len++] = digits[i];
    }
    out[len] = '\0';
}

/* Write the text of amount into out (cap bytes, always terminated).  ru: 1 for the
 * Russian format, 0 for the English one.  Kept apart from the arena so that it
 * can be tested on its own. */
static void money_format(char *out, size_t cap, int64_t amount, const char *currency, int ru)
{
    if (!currency || !*currency)
        currency = "RUB";
    int digits = money_digits(currency);
    uint64_t scale = 1;
    for (int i = 0; i < digits; i++)
        scale *= 10;
    /* Magnitude as unsigned: -INT64_MIN does not fit in int64_t. */
    uint64_t mag = amount < 0 ? (uint64_t)0 - (uint64_t)amount : (uint64_t)amount;
    uint64_t major = mag / scale, minor = mag % scale;

    out[0] = '\0';
    if (amount < 0)
        snprintf(out, cap, "%s", MONEY_MINUS);
    if (!ru) {
        size_t len = strlen(out);
        snprintf(out + len, cap - len, "%s%s", currency, MONEY_NBSP);
    }
    money_group(out, cap, major, ru ? MONEY_NNBSP : ",");
    if (minor) {
        size_t len = strlen(out);
        snprintf(out + len, cap - len, "%s%0*llu", ru ? "," : ".", digits,
                 (unsigned long long)minor);
    }
    if (ru) {
        size_t len = strlen(out);
        snprintf(out + len, cap - len, "%s%s", MONEY_NBSP,
                 strcmp(currency, "RUB") == 0 ? MONEY_RUBLE : currency);
    }
}

const char *catalog_money_text(souk_ctx *ctx, int64_t amount, const char *currency,
                               const char *lang)
{
    char text[MONEY_TEXT_MAX];
    money_format(text, sizeof text, amount, currency, lang && strcmp(lang, "ru") == 0);
    return catalog_api->dup(ctx, text);
}
