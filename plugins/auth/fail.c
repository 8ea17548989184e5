/* fail.c -- what went wrong, told to the API and to pages alike.
 *
 * The API gets the English message and the stable code; pages get the same
 * message in the shopper's language when the theme has it: the template
 * "auth_text" is rendered with the code as a flag, so that translations live in
 * the theme (t.auth.errors.*) like every other text. */
#include "signin_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

int auth_failf(auth_fail *f, int status, const char *code, const char *field, const char *message)
{
    f->status = status;
    f->code = code;
    f->field = field;
    f->message = message;
    f->retry_after_ms = 0;
    f->tries_left = -1;
    return SOUK_ERR;
}

const char *auth_trimmed(souk_ctx *ctx, const char *s)
{
    if (!s)
        return NULL;
    while (*s && isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    if (!n)
        return NULL;
    char *out = auth_api->alloc(ctx, n + 1);
    memcpy(out, s, n);
    out[n] = '\0';
    return out;
}

size_t auth_utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) /* the first byte of a character */
            n++;
    return n;
}

const char *auth_text(souk_ctx *ctx, const char *key, json_t *extra, const char *fallback)
{
    const souk_host_api *api = auth_api;
    if (!key || !api->template_exists(ctx, "auth_text"))
        return fallback;
    json_t *data = extra ? json_copy(extra) : json_object();
    json_object_set_new(data, key, json_true());
    const char *err = NULL;
    const char *text = api->render(ctx, "auth_text", api->req_locale(ctx), data, &err);
    json_decref(data);
    /* Trim the template's line breaks; an empty result means the theme has no
     * text for this key. */
    text = auth_trimmed(ctx, text);
    return text ? text : fallback;
}

int64_t auth_ceil_seconds(int64_t ms)
{
    return ms <= 0 ? 0 : (ms + AUTH_SECOND_MS - 1) / AUTH_SECOND_MS;
}

const char *auth_fail_text(souk_ctx *ctx, const auth_fail *f)
{
    json_t *extra = json_pack("{s:I}", "retry_after",
                              (json_int_t)auth_ceil_seconds(f->retry_after_ms));
    if (f->tries_left >= 0)
        json_object_set_new(extra, "tries_left", json_integer(f->tries_left));
    const char *message = auth_text(ctx, f->code, extra, f->message);
    json_decref(extra);
    return message;
}

int auth_respond_fail(souk_ctx *ctx, const auth_fail *f)
{
    const souk_host_api *api = auth_api;
    long long wait = (long long)auth_ceil_seconds(f->retry_after_ms);
    const char *message = api->req_wants_json(ctx) ? f->message : auth_fail_text(ctx, f);
    api->res_error(ctx, f->status, f->code, message, f->field);
    json_t *error = json_object_get(api->view(ctx), "error");
    if (f->status == 429 && wait > 0) {
        char v[24];
        snprintf(v, sizeof v, "%lld", wait);
        api->res_header(ctx, "Retry-After", v);
        json_object_set_new(error, "retry_after", json_integer(wait));
    }
    if (f->tries_left >= 0)
        json_object_set_new(error, "tries_left", json_integer(f->tries_left));
    return SOUK_ERR;
}
