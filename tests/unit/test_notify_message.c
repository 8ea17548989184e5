/* test_notify_message.c -- the notify plugin's message text (plugins/notify/
 * message.c, compiled into this test): address checks, the template split,
 * RFC 2047 words, quoted-printable, the whole RFC 5322 message, the webhook's
 * body and HMAC, and the back-off. */
#include "notify/notify_internal.h"
#include "test.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* Every line ends in CRLF, none is longer than max (CRLF excluded). */
static int lines_ok(const char *s, size_t max)
{
    size_t col = 0;
    for (const char *p = s; *p; p++) {
        if (*p == '\r') {
            if (p[1] != '\n')
                return 0;
            continue;
        }
        if (*p == '\n') {
            if (p == s || p[-1] != '\r')
                return 0;
            col = 0;
            continue;
        }
        if (++col > max)
            return 0;
    }
    return 1;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Decode quoted-printable (soft breaks, =XX) back to text with CRLF ends. */
static char *qp_decode(const char *s)
{
    char *out = malloc(strlen(s) + 1), *o = out;
    for (const char *p = s; *p;) {
        if (p[0] == '=' && p[1] == '\r' && p[2] == '\n') {
            p += 3;
        } else if (p[0] == '=' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
            *o++ = (char)(hexval(p[1]) * 16 + hexval(p[2]));
            p += 3;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    return out;
}

/* Concatenate the decoded text of "=?UTF-8?B?...?=" words. */
static char *words_decode(const char *s, int *chunks_ok)
{
    char *out = calloc(1, strlen(s) + 1);
    size_t n = 0;
    *chunks_ok = 1;
    const char *p = s;
    while ((p = strstr(p, "=?UTF-8?B?")) != NULL) {
        p += 10;
        const char *end = strstr(p, "?=");
        if (!end)
            break;
        if (end - p + 12 > 75)
            *chunks_ok = 0;
        unsigned char bin[128];
        size_t len = 0;
        if (sodium_base642bin(bin, sizeof bin, p, (size_t)(end - p), NULL, &len, NULL,
                              sodium_base64_VARIANT_ORIGINAL) != 0)
            *chunks_ok = 0;
        /* A word must not start in the middle of a UTF-8 character. */
        if (len > 0 && (bin[0] & 0xC0) == 0x80)
            *chunks_ok = 0;
        memcpy(out + n, bin, len);
        n += len;
        p = end + 2;
    }
    return out;
}

TEST(check_email)
{
    CHECK(notify_check_email("anna@example.com") == NULL);
    CHECK(notify_check_email("a.b+tag@mail.example.ru") == NULL);
    CHECK(notify_check_email("") != NULL);
    CHECK(notify_check_email(NULL) != NULL);
    CHECK(notify_check_email("anna") != NULL);
    CHECK(notify_check_email("anna@localhost") != NULL);
    CHECK(notify_check_email("a@@example.com") != NULL);
    CHECK(notify_check_email("a@b@example.com") != NULL);
    CHECK(notify_check_email("a b@example.com") != NULL);
    CHECK(notify_check_email("<a@example.com>") != NULL);
    CHECK(notify_check_email("a@example.com\r\nRCPT TO:<x@y.z>") != NULL);
    CHECK(notify_check_email("a@example..com") != NULL);
    CHECK(notify_check_email("a@.example.com") != NULL);
    CHECK(notify_check_email("@example.com") != NULL);
    char longer[300];
    memset(longer, 'a', sizeof longer);
    strcpy(longer + 250, "@example.com");
    CHECK(notify_check_email(longer) != NULL);
}

TEST(check_phone_name_url)
{
    CHECK(notify_check_phone("+79991234567") == NULL);
    CHECK(notify_check_phone("+4915123456789") == NULL);
    CHECK(notify_check_phone("89991234567") != NULL);
    CHECK(notify_check_phone("+09991234567") != NULL);
    CHECK(notify_check_phone("+7999") != NULL);
    CHECK(notify_check_phone("+7999123456789012") != NULL);
    CHECK(notify_check_phone("+7 999 123 45 67") != NULL);
    CHECK(notify_check_name("auth_code", NOTIFY_NAME_MAX) == NULL);
    CHECK(notify_check_name("auth.code", NOTIFY_NAME_MAX) != NULL);
    CHECK(notify_check_name("../x", NOTIFY_NAME_MAX) != NULL);
    CHECK(notify_check_name("", NOTIFY_NAME_MAX) != NULL);
    CHECK(notify_check_locale("ru") == NULL);
    CHECK(notify_check_locale("ru/../x") != NULL);
    CHECK(notify_check_url("https://shop.example/u?t=abc") == NULL);
    CHECK(notify_check_url("javascript:alert(1)") != NULL);
    CHECK(notify_check_url("https://shop.example/u>\r\nBcc: x@y.z") != NULL);
    CHECK(notify_check_url("https://shop.example/ space") != NULL);
}

TEST(split_email)
{
    char a[] = "Subject: Your code\n\nThe code is 123456.\n\nBye\n\n";
    const char *subject = NULL, *body = NULL;
    CHECK(notify_split_email(a, &subject, &body) == NULL);
    CHECK_STR(subject, "Your code");
    CHECK_STR(body, "The code is 123456.\n\nBye");

    char b[] = "\n\nSubject:   Ваш код  \r\nТекст";
    CHECK(notify_split_email(b, &subject, &body) == NULL);
    CHECK_STR(subject, "Ваш код");
    CHECK_STR(body, "Текст");

    char c[] = "Hello\n\nBody";
    CHECK(notify_split_email(c, &subject, &body) != NULL);
    char d[] = "Subject:   \n\nBody";
    CHECK(notify_split_email(d, &subject, &body) != NULL);
    char e[] = "Subject: Only a subject\n\n  \n";
    CHECK(notify_split_email(e, &subject, &body) != NULL);

    char sms[] = "\n  Код: 123456 \n";
    CHECK_STR(notify_trim(sms), "Код: 123456");
}

TEST(header_words)
{
    notify_buf b = {0};
    notify_header_words(&b, "Your code", strlen("Subject: "));
    char *s = notify_buf_take(&b, NULL);
    CHECK_STR(s, "Your code");
    free(s);

    /* Cyrillic: encoded words, each at most 75 characters, lines within 78,
     * never split inside a character, decoding to the original. */
    const char *ru = "Ваш код для входа в магазин: 123456 — никому его не сообщайте";
    notify_header_words(&b, ru, strlen("Subject: "));
    s = notify_buf_take(&b, NULL);
    CHECK(strncmp(s, "=?UTF-8?B?", 10) == 0);
    CHECK(strstr(s, "\r\n ") != NULL); /* folded */
    char line[512];
    snprintf(line, sizeof line, "Subject: %s", s);
    CHECK(lines_ok(line, 78));
    int chunks_ok = 0;
    char *back = words_decode(s, &chunks_ok);
    CHECK(chunks_ok);
    CHECK_STR(back, ru);
    free(back);
    free(s);

    /* Text that looks like an encoded word is encoded itself. */
    notify_header_words(&b, "=?UTF-8?B?AAAA?=", strlen("Subject: "));
    s = notify_buf_take(&b, NULL);
    back = words_decode(s, &chunks_ok);
    CHECK_STR(back, "=?UTF-8?B?AAAA?=");
    free(back);
    free(s);
}

TEST(quoted_printable)
{
    const char *text = "Привет = мир \r\nline two\t\r\n.dot";
    notify_buf b = {0};
    notify_qp_encode(&b, text);
    char *s = notify_buf_take(&b, NULL);
    CHECK(lines_ok(s, 76));
    CHECK(strstr(s, "=3D") != NULL);     /* '=' itself */
    CHECK(strstr(s, "=20\r\n") != NULL); /* a trailing space */
    CHECK(strstr(s, "=09\r\n") != NULL); /* a trailing tab */
    char *back = qp_decode(s);
    CHECK_STR(back, text);
    free(back);
    free(s);

    /* A long line gets soft breaks and decodes to itself; LF ends become CRLF. */
    char longline[400];
    memset(longline, 'x', 300);
    memcpy(longline + 300, "\nend", 5);
    notify_qp_encode(&b, longline);
    s = notify_buf_take(&b, NULL);
    CHECK(lines_ok(s, 76));
    back = qp_decode(s);
    char expect[400];
    memset(expect, 'x', 300);
    memcpy(expect + 300, "\r\nend", 6);
    CHECK_STR(back, expect);
    free(back);
    free(s);
}

TEST(date)
{
    char d[40];
    notify_rfc5322_date(0, d);
    CHECK_STR(d, "Thu, 01 Jan 1970 00:00:00 +0000");
    notify_rfc5322_date(1700000000123LL, d);
    CHECK_STR(d, "Tue, 14 Nov 2023 22:13:20 +0000");
}

static const char *header(const char *msg, const char *name, char *out, size_t n)
{
    char key[64];
    snprintf(key, sizeof key, "\r\n%s: ", name);
    const char *p = strstr(msg, key);
    if (!p && strncmp(msg, key + 2, strlen(key + 2)) == 0)
        p = msg - 2;
    if (!p)
        return NULL;
    p += strlen(key);
    size_t len = strcspn(p, "\r");
    snprintf(out, n, "%.*s", (int)len, p);
    return out;
}

TEST(email_ascii)
{
    json_t *h = json_pack("{s:s, s:s, s:s}", "Message-ID", "<abc@shop.example>", "List-Unsubscribe",
                          "<https://shop.example/u?t=1>", "List-Unsubscribe-Post",
                          "List-Unsubscribe=One-Click");
    notify_email e = {"shop@shop.example",
                      "Shop \"Best\"",
                      "anna@example.com",
                      "Your code",
                      "Code: 123456\n.\nBye",
                      1700000000000LL,
                      h};
    size_t len = 0;
    char *m = notify_email_build(&e, &len);
    CHECK(m != NULL);
    CHECK_INT(len, strlen(m));
    CHECK(lines_ok(m, 998));
    char v[256];
    CHECK(strncmp(m, "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n", 39) == 0);
    CHECK_STR(header(m, "From", v, sizeof v), "\"Shop \\\"Best\\\"\" <shop@shop.example>");
    CHECK_STR(header(m, "To", v, sizeof v), "anna@example.com");
    CHECK_STR(header(m, "Subject", v, sizeof v), "Your code");
    CHECK_STR(header(m, "Message-ID", v, sizeof v), "<abc@shop.example>");
    CHECK_STR(header(m, "List-Unsubscribe", v, sizeof v), "<https://shop.example/u?t=1>");
    CHECK_STR(header(m, "List-Unsubscribe-Post", v, sizeof v), "List-Unsubscribe=One-Click");
    CHECK_STR(header(m, "MIME-Version", v, sizeof v), "1.0");
    CHECK_STR(header(m, "Content-Type", v, sizeof v), "text/plain; charset=utf-8");
    CHECK_STR(header(m, "Content-Transfer-Encoding", v, sizeof v), "7bit");
    const char *body = strstr(m, "\r\n\r\n");
    CHECK(body && strcmp(body + 4, "Code: 123456\r\n.\r\nBye\r\n") == 0);
    free(m);
    json_decref(h);
}

TEST(email_utf8)
{
    notify_email e = {"shop@shop.example",
                      "Магазин",
                      "anna@example.com",
                      "Ваш код",
                      "Код: 123456\nДо свидания",
                      0,
                      NULL};
    char *m = notify_email_build(&e, NULL);
    CHECK(lines_ok(m, 998));
    char v[256];
    CHECK_STR(header(m, "Content-Transfer-Encoding", v, sizeof v), "quoted-printable");
    int ok = 0;
    char *subject = words_decode(header(m, "Subject", v, sizeof v), &ok);
    CHECK(ok);
    CHECK_STR(subject, "Ваш код");
    free(subject);
    const char *from = header(m, "From", v, sizeof v);
    CHECK(from && strncmp(from, "=?UTF-8?B?", 10) == 0 && strstr(from, " <shop@shop.example>"));
    const char *body = strstr(m, "\r\n\r\n");
    CHECK(body != NULL);
    char *text = qp_decode(body + 4);
    CHECK_STR(text, "Код: 123456\r\nДо свидания\r\n");
    free(text);
    free(m);
}

TEST(webhook)
{
    char *body = notify_webhook_body(1, "+79991234567", "code 123456", "Shop");
    CHECK_STR(body,
              "{\"id\":1,\"to\":\"+79991234567\",\"text\":\"code 123456\",\"sender\":\"Shop\"}");
    char sig[NOTIFY_SIGNATURE_MAX];
    notify_webhook_sign("k3y-s3cret", 1700000000, body, strlen(body), sig);
    /* Computed independently (Python's hmac module). */
    CHECK_STR(sig, "sha256=8b7fae46b29f0a8ef13a32c89d56db061011a80d925ab6e8fedbe71c21a8815f");
    notify_webhook_sign("other", 1700000000, body, strlen(body), sig);
    CHECK(strcmp(sig, "sha256=8b7fae46b29f0a8ef13a32c89d56db061011a80d925ab6e8fedbe71c21a8815f"));
    free(body);

    body = notify_webhook_body(7, "+79991234567", "Код \"1\"", NULL);
    json_t *o = json_loads(body, 0, NULL);
    CHECK(o != NULL);
    CHECK_STR(json_string_value(json_object_get(o, "text")), "Код \"1\"");
    CHECK(json_object_get(o, "sender") == NULL);
    json_decref(o);
    free(body);
}

TEST(backoff)
{
    CHECK_INT(notify_backoff_ms(1, 5000, 3600000), 5000);
    CHECK_INT(notify_backoff_ms(2, 5000, 3600000), 10000);
    CHECK_INT(notify_backoff_ms(3, 5000, 3600000), 20000);
    CHECK_INT(notify_backoff_ms(10, 5000, 3600000), 2560000);
    CHECK_INT(notify_backoff_ms(11, 5000, 3600000), 3600000);
    CHECK_INT(notify_backoff_ms(100, 5000, 3600000), 3600000);
    CHECK_INT(notify_backoff_ms(3, 200, 500), 500);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    RUN(check_email);
    RUN(check_phone_name_url);
    RUN(split_email);
    RUN(header_words);
    RUN(quoted_printable);
    RUN(date);
    RUN(email_ascii);
    RUN(email_utf8);
    RUN(webhook);
    RUN(backoff);
    return test_report();
}
