/* identity.c -- the store's identity resolver, and the referral link.
 *
 * The core calls auth_identity at most once per request, when something needs
 * to know who is signed in (a page's header, an SOUK_ROUTE_AUTH route,
 * api->req_user).  It is also where a visitor's "?ref=CODE" is remembered: every
 * page asks for the identity, so every page a guest lands on with a referral
 * link keeps the code in a cookie until they sign up. */
#include "signin_internal.h"

#include <string.h>

const char *auth_referral_clean(souk_ctx *ctx, const char *ref)
{
    if (!ref)
        return NULL;
    size_t n = strlen(ref);
    if (n < AUTH_REF_MIN || n > AUTH_REF_MAX)
        return NULL;
    char buf[AUTH_REF_MAX + 1];
    for (size_t i = 0; i < n; i++) {
        char c = ref[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return NULL;
        buf[i] = c;
    }
    buf[n] = '\0';
    return auth_api->dup(ctx, buf);
}

/* A guest who came with ?ref=CODE: keep the code (HttpOnly: no script needs it;
 * Lax: it rides along when the visitor comes back from another site). */
static void remember_referral(souk_ctx *ctx)
{
    const souk_host_api *api = auth_api;
    const char *ref = auth_referral_clean(ctx, api->req_query(ctx, "ref"));
    if (!ref)
        return;
    const char *had = api->req_cookie(ctx, AUTH_REF_COOKIE);
    if (had && strcmp(had, ref) == 0)
        return;
    souk_cookie c = {AUTH_REF_COOKIE_DAYS * 24 * 3600, 1, "Lax", "/"};
    api->res_cookie(ctx, AUTH_REF_COOKIE, ref, &c);
}

const char *auth_referral_seen(souk_ctx *ctx)
{
    const souk_host_api *api = auth_api;
    const char *now = auth_referral_clean(ctx, api->req_query(ctx, "ref"));
    return now ? now : auth_referral_clean(ctx, api->req_cookie(ctx, AUTH_REF_COOKIE));
}

void auth_referral_forget(souk_ctx *ctx)
{
    const souk_host_api *api = auth_api;
    if (!api->req_cookie(ctx, AUTH_REF_COOKIE))
        return;
    souk_cookie gone = {-1, 1, "Lax", "/"};
    api->res_cookie(ctx, AUTH_REF_COOKIE, "", &gone);
}

json_t *auth_identity(souk_ctx *ctx)
{
    auth_session_info s;
    if (!auth_session_lookup(ctx, &s)) {
        remember_referral(ctx);
        return NULL;
    }
    json_t *account = auth_account_json(ctx, s.account_id);
    if (account)
        auth_session_touch_later(ctx, &s);
    return account;
}

int64_t auth_current_account(souk_ctx *ctx)
{
    json_t *user = auth_api->req_user(ctx);
    return user ? (int64_t)json_integer_value(json_object_get(user, "id")) : 0;
}

int64_t auth_current_session(souk_ctx *ctx)
{
    return auth_session_resolve(ctx, NULL);
}
