/* test_auth_phone.c -- phone numbers to E.164 and email addresses to their
 * stored form (plugins/auth/phone.c, compiled into this test), and the masked
 * forms.  The few host functions phone.c uses come from a small table backed by
 * the core's arena. */
#include "test.h"

#include "arena.h"

#include "auth/signin_internal.h"

#include <stdarg.h>

const souk_host_api *auth_api;
souk_plugin *auth_self;
const notify_v1 *auth_notify;
auth_settings auth_cfg;

static souk_arena arena;

static char *fake_dup(souk_ctx *ctx, const char *s)
{
    return souk_arena_strdup(&arena, s);
}

static char *fake_format(souk_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = souk_arena_vprintf(&arena, fmt, ap);
    va_end(ap);
    return s;
}

static const char *phone(const char *in)
{
    static char out[AUTH_PHONE_MAX];
    const char *err = NULL;
    if (auth_phone_normalize(in, out, &err) != SOUK_OK) {
        CHECK(err != NULL && *err);
        return NULL;
    }
    return out;
}

/* The error message for in, or NULL when it was accepted. */
static const char *phone_error(const char *in)
{
    char out[AUTH_PHONE_MAX];
    const char *err = NULL;
    return auth_phone_normalize(in, out, &err) == SOUK_OK ? NULL : err;
}

static const char *email(const char *in)
{
    static char out[AUTH_EMAIL_MAX + 1];
    const char *err = NULL;
    if (auth_email_normalize(in, out, &err) != SOUK_OK) {
        CHECK(err != NULL && *err);
        return NULL;
    }
    return out;
}

static void region_ru(void)
{
    memcpy(auth_cfg.region, "RU", 3);
    auth_cfg.country_code = 7;
}

TEST(phone_russian_forms)
{
    region_ru();
    CHECK_STR(phone("8 999 123-45-67"), "+79991234567");
    CHECK_STR(phone("+7 (999) 123-45-67"), "+79991234567");
    CHECK_STR(phone("9991234567"), "+79991234567");
    CHECK_STR(phone("7 999 1234567"), "+79991234567");
    CHECK_STR(phone("89991234567"), "+79991234567");
    CHECK_STR(phone("+79991234567"), "+79991234567");
    CHECK_STR(phone("  8(999)123.45.67  "), "+79991234567");
    CHECK_STR(phone("8\xC2\xA0"
                    "999\xC2\xA0"
                    "123-45-67"),
              "+79991234567"); /* no-break spaces */
    CHECK_STR(phone("(999) 123 45 67"), "+79991234567");
    CHECK_STR(phone("8 800 555-35-35"), "+78005553535");
}

TEST(phone_international)
{
    region_ru();
    CHECK_STR(phone("+44 20 7946 0958"), "+442079460958");
    CHECK_STR(phone("+1 (415) 555-2671"), "+14155552671");
    CHECK_STR(phone("+998 90 123 45 67"), "+998901234567");
    CHECK_STR(phone("+123456789012345"), "+123456789012345"); /* 15 digits: the most */
}

TEST(phone_refused)
{
    region_ru();
    CHECK(phone(NULL) == NULL);
    CHECK(phone("") == NULL);
    CHECK(phone("   ") == NULL);
    CHECK(phone("999 123 45 6") == NULL);      /* 9 digits */
    CHECK(phone("999 123 45 678") == NULL);    /* 11 digits, not 7 or 8 first */
    CHECK(phone("8 999 123 45 678") == NULL);  /* 12 digits */
    CHECK(phone("+7 999 123 45 6") == NULL);   /* +7 with 9 digits */
    CHECK(phone("+7 999 123 45 678") == NULL); /* +7 with 11 digits */
    CHECK(phone("+1234567") == NULL);          /* too short to be international */
    CHECK(phone("+1234567890123456") == NULL); /* 16 digits */
    CHECK(phone("+0 999 123 45 67") == NULL);
    CHECK(phone("0999123456") == NULL); /* national numbers never start with 0 */
    CHECK(phone("8 999 123-45-67 ext 2") == NULL);
    CHECK(phone("8-999-123-45-67+") == NULL);
    CHECK(phone("++79991234567") == NULL);
    CHECK(phone("8 999 1234567; DROP") == NULL);
    CHECK(phone("999\x01"
                "1234567") == NULL);
    CHECK(phone("８９９９１２３４５６７") == NULL); /* full-width digits are not digits */
    char lots[200];
    memset(lots, '1', sizeof lots - 1);
    lots[sizeof lots - 1] = '\0';
    CHECK(phone(lots) == NULL);
}

TEST(phone_errors_name_the_problem)
{
    region_ru();
    const char *e = phone_error("+8 999 123-45-67");
    CHECK(e && strstr(e, "+8 is not a country code"));
    e = phone_error("8 999 123-45-67 ext 2");
    CHECK(e && strstr(e, "only digits"));
    e = phone_error("999 123 45 6");
    CHECK(e && strstr(e, "10-digit"));
    e = phone_error("+7 999 123 45 6");
    CHECK(e && strstr(e, "+7 has 10 digits"));
    e = phone_error("79+991234567");
    CHECK(e && strstr(e, "'+' may only"));
    e = phone_error("");
    CHECK(e && strstr(e, "enter a phone number"));
}

TEST(phone_region_without_plan)
{
    /* A region whose numbering plan phone.c does not know: only "+" numbers. */
    memcpy(auth_cfg.region, "XX", 3);
    auth_cfg.country_code = 999;
    CHECK(phone("9991234567") == NULL);
    CHECK_STR(phone("+7 999 123-45-67"), "+79991234567");
    region_ru();
}

TEST(phone_kazakhstan)
{
    memcpy(auth_cfg.region, "KZ", 3);
    auth_cfg.country_code = 7;
    CHECK_STR(phone("8 701 123 45 67"), "+77011234567");
    region_ru();
}

TEST(email_forms)
{
    CHECK_STR(email("Anna@Example.COM"), "anna@example.com");
    CHECK_STR(email("  anna.k+shop@mail.example.ru \t"), "anna.k+shop@mail.example.ru");
    CHECK_STR(email("o'brien@example.org"), "o'brien@example.org");
    CHECK_STR(email("a@b.co"), "a@b.co");
    CHECK_STR(email("почта@пример.рф"), "почта@пример.рф");
    CHECK_STR(email("x@my-shop.example"), "x@my-shop.example");
}

TEST(email_refused)
{
    CHECK(email(NULL) == NULL);
    CHECK(email("") == NULL);
    CHECK(email("   ") == NULL);
    CHECK(email("anna") == NULL);
    CHECK(email("anna@") == NULL);
    CHECK(email("@example.com") == NULL);
    CHECK(email("anna@example") == NULL); /* no dot */
    CHECK(email("anna@@example.com") == NULL);
    CHECK(email("an@na@example.com") == NULL);
    CHECK(email("an na@example.com") == NULL);
    CHECK(email("anna@exa mple.com") == NULL);
    CHECK(email(".anna@example.com") == NULL);
    CHECK(email("anna.@example.com") == NULL);
    CHECK(email("an..na@example.com") == NULL);
    CHECK(email("anna@example..com") == NULL);
    CHECK(email("anna@.example.com") == NULL);
    CHECK(email("anna@example.com.") == NULL);
    CHECK(email("anna@-example.com") == NULL);
    CHECK(email("anna@example-.com") == NULL);
    CHECK(email("anna@1.2.3.4") == NULL); /* a bare address, no top-level domain */
    CHECK(email("anna@[1.2.3.4]") == NULL);
    CHECK(email("\"anna\"@example.com") == NULL);
    CHECK(email("anna<x>@example.com") == NULL);
    CHECK(email("anna@example.com\r\nBcc: x@y.z") == NULL);
    CHECK(email("anna\x01@example.com") == NULL);
    CHECK(email("anna@ex\xC3\x28.com") == NULL);     /* broken UTF-8 */
    CHECK(email("anna@ex\xED\xA0\x80.com") == NULL); /* a surrogate */
    char local[80];
    memset(local, 'a', 65);
    strcpy(local + 65, "@example.com");
    CHECK(email(local) == NULL); /* 65 characters before the '@' */
    char longd[300] = "a@";
    for (int i = 0; i < 5; i++)
        strcat(longd, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.");
    strcat(longd, "com");
    CHECK(email(longd) == NULL); /* over 254 characters */
    char label[100] = "a@";
    memset(label + 2, 'b', 64);
    strcpy(label + 66, ".com");
    CHECK(email(label) == NULL); /* a 64-character label */
}

TEST(masks)
{
    CHECK_STR(auth_mask_phone(NULL, "+79991234567"), "+7 999 ***-**-67");
    CHECK_STR(auth_mask_phone(NULL, "+442079460958"), "+442*******58");
    CHECK_STR(auth_mask_phone(NULL, "nonsense"), "");
    CHECK_STR(auth_mask_email(NULL, "anna@example.com"), "a***@example.com");
    CHECK_STR(auth_mask_email(NULL, "x@example.com"), "x***@example.com");
    CHECK_STR(auth_mask_email(NULL, "почта@пример.рф"), "п***@пример.рф");
    CHECK_STR(auth_mask_email(NULL, "no-at-sign"), "");
}

int main(void)
{
    static souk_host_api api;
    api.dup = fake_dup;
    api.format = fake_format;
    auth_api = &api;
    souk_arena_init(&arena, 4096);
    RUN(phone_russian_forms);
    RUN(phone_international);
    RUN(phone_refused);
    RUN(phone_errors_name_the_problem);
    RUN(phone_region_without_plan);
    RUN(phone_kazakhstan);
    RUN(email_forms);
    RUN(email_refused);
    RUN(masks);
    souk_arena_free(&arena);
    return test_report();
}
