/* common.c -- what every handler of the favourites plugin needs: who the shopper
 * is, where a form returns to, texts in the shopper's language, and the two ways
 * a handler ends (a form's redirect with a message, or the API's view). */
#include "favourites_internal.h"

#include <ctype.h>
#include <souk/utf8.h>
#include <string.h>

/* The template that holds every text the plugin writes into flash messages and
 * form errors, one section per text code. */
#define FAV_TEXT_TEMPLATE "favourites_text"

int64_t fav_id_value(json_t *v)
{
    if (json_is_integer(v))
        return json_integer_value(v) > 0 ? (int64_t)json_integer_value(v) : 0;
    const char *s = json_string_value(v);
    if (!s || !*s)
        return 0;
    int64_t n = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || n > (INT64_MAX - 9) / 10)
            return 0;
        n = n * 10 + (*s - '0');
    }
    return n;
}

int64_t fav_account(souk_ctx *ctx)
{
    json_t *user = fav_api->req_user(ctx);
    return user ? fav_id_value(json_object_get(user, "id")) : 0;
}

const char *fav_quote(souk_ctx *ctx, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (!s || !souk_utf8_valid(s, n, NULL))
        return "";
    if (n <= FAV_QUOTE_MAX)
        return s;
    n = FAV_QUOTE_MAX;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--; /* back to the first byte of a character */
    return fav_api->format(ctx, "%.*s\xE2\x80\xA6", (int)n, s); /* "…" */
}

const char *fav_input_key(souk_ctx *ctx, const char *name)
{
    const char *s = json_string_value(json_object_get(fav_api->req_input(ctx), name));
    if (!s || !*s)
        return NULL;
    return s;
}

/* A path on this site that res_redirect will accept: "/" then no second "/" or
 * "\" (which browsers read as another host), no spaces or control characters. */
static int local_path(const char *s)
{
    if (!s || s[0] != '/' || s[1] == '/' || s[1] == '\\' || strlen(s) > FAV_NEXT_MAX)
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= ' ' || *p == 0x7f || *p == '\\')
            return 0;
    return 1;
}

const char *fav_next(souk_ctx *ctx, const char *fallback)
{
    const char *next = json_string_value(json_object_get(fav_api->req_input(ctx), "next"));
    return local_path(next) ? next : fallback;
}

const char *fav_text(souk_ctx *ctx, const char *code, const char *english)
{
    const souk_host_api *api = fav_api;
    if (api->req_wants_json(ctx) || !api->template_exists(ctx, FAV_TEXT_TEMPLATE))
        return english;
    json_t *data = json_pack("{s:b}", code, 1);
    const char *error = NULL;
    const char *text = data ? api->render(ctx, FAV_TEXT_TEMPLATE, api->req_locale(ctx), data,
                                          &error)
                            : NULL;
    json_decref(data);
    if (!text) {
        api->log(fav_self, SOUK_LOG_WARN, "text '%s': %s", code, error ? error : "not rendered");
        return english;
    }
    /* The template's sections sit on lines of their own: keep only the text. */
    while (isspace((unsigned char)*text))
        text++;
    size_t n = strlen(text);
    while (n > 0 && isspace((unsigned char)text[n - 1]))
        n--;
    if (n == 0)
        return english; /* no string for this code in the locale */
    return api->format(ctx, "%.*s", (int)n, text);
}

int fav_fail(souk_ctx *ctx, int status, const char *code, const char *key, const char *english,
             const char *field)
{
    return fav_api->res_error(ctx, status, code, fav_text(ctx, key, english), field);
}

int fav_done(souk_ctx *ctx, const char *kind, const char *code, const char *english,
             const char *next)
{
    const souk_host_api *api = fav_api;
    if (api->req_wants_json(ctx))
        return SOUK_OK;
    api->res_flash(ctx, kind, fav_text(ctx, code, english));
    return api->res_redirect(ctx, 303, next);
}

int fav_db_failed(souk_ctx *ctx, const char *what)
{
    const souk_host_api *api = fav_api;
    api->log(fav_self, SOUK_LOG_ERROR, "cannot %s: %s", what, sqlite3_errmsg(api->db(ctx)));
    return api->res_error(ctx, 500, "db", api->format(ctx, "cannot %s", what), NULL);
}

int fav_not_found(souk_ctx *ctx, const char *format, const char *key)
{
    return fav_api->res_error(ctx, 404, "not_found",
                              fav_api->format(ctx, format, fav_quote(ctx, key)), NULL);
}

int fav_count(souk_ctx *ctx, const char *sql, int64_t account)
{
    sqlite3_stmt *st = fav_api->db_prepare(ctx, sql);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, account);
    return sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
}

json_t *fav_variant_in(json_t *product, const char *sku)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(product, "variants"), i, v) {
        const char *s = json_string_value(json_object_get(v, "sku"));
        if (s && strcmp(s, sku) == 0)
            return v;
    }
    return NULL;
}

int fav_refuse(souk_ctx *ctx, fav_fill_fn fill, int64_t account, int status, const char *code,
               const char *key, const char *english, const char *field)
{
    if (status == 422 && !fav_api->req_wants_json(ctx))
        fill(ctx, account); /* its own failure only loses the list, not the error */
    return fav_fail(ctx, status, code, key, english, field);
}

const char *fav_key_get(souk_ctx *ctx, const fav_key *k, int64_t *account)
{
    const souk_host_api *api = fav_api;
    *account = fav_account(ctx);
    if (!*account) {
        api->res_error(ctx, 401, "unauthorized", k->guest, NULL);
        return NULL;
    }
    const char *key = api->req_param(ctx, k->field);
    if (!key)
        key = fav_input_key(ctx, k->field); /* a form, or a JSON body */
    if (!key || !*key) {
        fav_refuse(ctx, k->fill, *account, 422, "invalid", k->missing_key, k->missing_english,
                   k->field);
        return NULL;
    }
    return key;
}

int fav_remove(souk_ctx *ctx, const fav_removal *r)
{
    const souk_host_api *api = fav_api;
    int64_t account;
    const char *key = fav_key_get(ctx, &r->key, &account);
    if (!key)
        return SOUK_ERR;
    sqlite3_stmt *st = api->db_prepare(ctx, r->sql);
    if (!st)
        return fav_db_failed(ctx, r->what);
    sqlite3_bind_int64(st, 1, account);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        return fav_db_failed(ctx, r->what);
    const char *next = fav_next(ctx, r->page);
    if (sqlite3_changes(api->db(ctx)) == 0) {
        if (!api->req_wants_json(ctx))
            return fav_done(ctx, "info", r->absent_key, r->absent_english, next);
        return fav_not_found(ctx, r->absent_api, key);
    }
    json_object_set_new(api->view(ctx), "removed", json_pack("{s:s}", r->key.field, key));
    return fav_done(ctx, "success", r->done_key, r->done_english, next);
}
