/* service.c -- the auth_v1 service (auth.h): the shopper's level, the "secured"
 * requirement of sensitive actions, and notices sent by the shopper's own
 * preferences. */
#include "account_internal.h"

#include <string.h>

#define LIMITED_PAGE "account_limited"

static int svc_level(souk_ctx *ctx)
{
    int64_t id = auth_current_account(ctx);
    return id ? auth_account_level(ctx, id) : AUTH_GUEST;
}

/* A guest is asked to sign in (401).  A limited shopper gets 403
 * "account_limited": the API an error object with "finish_url" and what is
 * missing; a page the template account_limited (the view's "limited" says why
 * and links to the profile), because the generic error page could not offer
 * the way out. */
static int svc_require_secured(souk_ctx *ctx)
{
    const souk_host_api *api = auth_api;
    int64_t id = auth_current_account(ctx);
    int level = id ? auth_account_level(ctx, id) : AUTH_GUEST;
    if (level == AUTH_SECURED)
        return SOUK_OK;
    if (level == AUTH_GUEST)
        return api->res_error(ctx, 401, "unauthorized", "sign in to continue", NULL);
    account_row row;
    int have = account_row_load(ctx, id, &row) == SOUK_OK;
    int missing_name = !have || !row.name, missing_email = !have || !row.email;
    const char *message =
        "this needs a secured account: fill in your name and confirm an email address "
        "in your profile";
    if (api->req_wants_json(ctx)) {
        api->res_error(ctx, 403, "account_limited", message, NULL);
        json_t *error = json_object_get(api->view(ctx), "error");
        json_object_set_new(error, "finish_url", json_string(ACCOUNT_FINISH_URL));
        json_object_set_new(error, "missing_name", json_boolean(missing_name));
        json_object_set_new(error, "missing_email", json_boolean(missing_email));
        return SOUK_ERR;
    }
    api->res_status(ctx, 403);
    api->res_page(ctx, LIMITED_PAGE);
    json_object_set_new(
        api->view(ctx), "limited",
        json_pack("{s:s, s:s, s:s, s:b, s:b}", "code", "account_limited", "message",
                  account_say(ctx, "errors", "account_limited", message, NULL), "finish_url",
                  ACCOUNT_FINISH_URL, "missing_name", missing_name, "missing_email",
                  missing_email));
    return SOUK_ERR;
}

/* One message by one channel; data gets the shopper's name (unless the caller
 * set "customer") and, for a bulk email, the unsubscribe address. */
static int send_one(souk_ctx *ctx, const account_row *row, const char *kind, const char *channel,
                    const char *to, const char *message, json_t *data, const char **error)
{
    json_t *d = json_is_object(data) ? json_deep_copy(data) : json_object();
    if (!json_object_get(d, "customer"))
        json_object_set_new(d, "customer", json_pack("{s:o}", "name",
                                                     row->name ? json_string(row->name)
                                                               : json_null()));
    const char *unsubscribe = NULL;
    if (strcmp(channel, NOTIFY_EMAIL) == 0 && account_pref_is_bulk(kind)) {
        unsubscribe = account_unsubscribe_url(ctx, row->id, kind);
        json_object_set_new(d, "unsubscribe_url", json_string(unsubscribe));
    }
    notify_message m = {channel, to, message, row->locale, d, unsubscribe, NULL};
    int rc = auth_notify->queue(ctx, &m, NULL, error);
    json_decref(d);
    return rc;
}

static int svc_notify_account(souk_ctx *ctx, int64_t account_id, const char *kind,
                              const char *message, json_t *data, int *sent, const char **error)
{
    if (sent)
        *sent = 0;
    const char *dummy;
    if (!error)
        error = &dummy;
    if (!kind || !*kind || !message || !*message) {
        *error = "notify_account: the kind and the message are required";
        return SOUK_ERR;
    }
    account_row row;
    if (account_row_load(ctx, account_id, &row) != SOUK_OK) {
        *error = auth_api->format(ctx, "notify_account: no account %lld", (long long)account_id);
        return SOUK_ERR;
    }
    int n = 0;
    /* Email only to an address the shopper verified (the only kind stored). */
    if (row.email && account_pref_enabled(ctx, account_id, kind, NOTIFY_EMAIL)) {
        if (send_one(ctx, &row, kind, NOTIFY_EMAIL, row.email, message, data, error) != SOUK_OK)
            return SOUK_ERR;
        n++;
    }
    if (row.phone && account_pref_enabled(ctx, account_id, kind, NOTIFY_SMS)) {
        if (send_one(ctx, &row, kind, NOTIFY_SMS, row.phone, message, data, error) != SOUK_OK)
            return SOUK_ERR;
        n++;
    }
    if (sent)
        *sent = n;
    return SOUK_OK;
}

const auth_v1 auth_service = {svc_level, svc_require_secured, svc_notify_account};
