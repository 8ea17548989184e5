/* auth.h -- the auth plugin's service, "auth" version 1, for other plugins.
 *
 * The auth plugin is the store's identity resolver: api->req_user(ctx) is, for a
 * signed-in shopper, an object
 *     {"id": 17, "level": "limited" | "secured", "name": "Анна" | null,
 *      "phone": "+79991234567", "email": "a@example.com" | null, "locale": "ru",
 *      "referral_code": "K7Q2MX", "member": true}
 * ("member" is what pricing.lua's member prices test).  Look the service up in
 * init() after declaring "auth" a dependency:
 *
 *     const auth_v1 *auth = api->service_get(self, AUTH_SERVICE, 1);
 */
#ifndef SOUK_AUTH_H
#define SOUK_AUTH_H

#include <souk/souk.h>

#define AUTH_SERVICE "auth"
#define AUTH_SERVICE_VERSION 1

enum auth_level {
    AUTH_GUEST = 0,   /* nobody is signed in */
    AUTH_LIMITED = 1, /* signed in; name or a verified email still missing */
    AUTH_SECURED = 2  /* name filled in and an email verified by a code */
};

/* Events.  user.created (plain): a new account, {"id", "referrer_id" (or null)},
 * in the sign-up transaction.  user.deleting (vetoable): {"id", "reason"}; a
 * plugin refuses with api->event_refuse(ctx, "You have an open order") and the
 * shopper sees that reason.  user.deleted (plain): {"id"}, in the deletion's
 * transaction: erase or anonymise your rows of that account. */
#define AUTH_EVENT_CREATED "user.created"
#define AUTH_EVENT_DELETING "user.deleting"
#define AUTH_EVENT_DELETED "user.deleted"

/* Notification kinds a shopper can turn on or off per channel. */
#define AUTH_PREF_NEWSLETTER "newsletter"
#define AUTH_PREF_ORDERS "orders"
#define AUTH_PREF_BACK_IN_STOCK "back_in_stock"

typedef struct auth_v1 {
    /* The level of the request's shopper (AUTH_GUEST for a guest). */
    int (*level)(souk_ctx *ctx);
    /* For handlers of sensitive actions: SOUK_OK when the shopper is secured;
     * otherwise fills the error view (403 "account_limited", a message saying
     * why, and "finish_url" pointing at the profile page) and returns SOUK_ERR,
     * so that a handler can `return auth->require_secured(ctx);`. */
    int (*require_secured)(souk_ctx *ctx);
    /* Send a notice of kind (an AUTH_PREF_* or another kind) to an account by the
     * channels its preferences allow (email when verified, SMS to the phone), in
     * the account's locale, queued in the ctx's transaction through notify.
     * *sent (when not NULL) gets the number of messages queued: 0 when the
     * shopper turned every channel off.  SOUK_ERR with *error when the account is
     * unknown or queuing failed. */
    int (*notify_account)(souk_ctx *ctx, int64_t account_id, const char *kind,
                          const char *message, json_t *data, int *sent, const char **error);
} auth_v1;

#endif
