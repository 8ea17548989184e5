/* account_internal.h -- what the account half of the auth plugin shares between
 * its files (account.c, contacts.c, prefs.c, deletion.c, service.c).  The whole
 * plugin's declarations are in auth_internal.h.
 *
 * Every page and API route here serves both representations from one handler:
 * JSON for /api/v1/... (or Accept: application/json), the page template
 * otherwise.  A page handler that fails fills its page's view first (an
 * account_fill_fn), so that a 422 re-renders the form with the message, and the
 * message is put in the shopper's language (template account_messages).
 *
 * View shapes (docs/api.md has them for API users):
 *   account       {"id", "name", "birth_date", "phone", "email", "locale",
 *                  "referral_code", "created_at", "level": "limited" | "secured",
 *                  "secured": bool, "member": true} (the identity object of auth.h
 *                  and more)
 *   phone_change  {"new_phone", "new_confirmed", "old_confirmed", "waiting" (the
 *                  "lost old number" path), "due_at" (ms or null), "due_text"
 *                  ("2026-11-15 14:05 UTC" or null), "created_at", "wait_days" (how
 *                  long the "lost old number" path takes)}
 *   challenge     the sign-in half's shape (auth_challenge_json): {"id", "channel",
 *                  "destination" (masked), "expires_in", "resend_in" (seconds),
 *                  "tries_left", "expired", "locked", "used", "sms", "email"}
 */
#ifndef SOUK_AUTH_ACCOUNT_INTERNAL_H
#define SOUK_AUTH_ACCOUNT_INTERNAL_H

#include "auth_internal.h"

#define ACCOUNT_NAME_MAX 100      /* characters of a name */
#define ACCOUNT_REASON_MAX 500    /* characters of a deletion reason */
#define ACCOUNT_FINISH_URL "/account/profile"

/* Notices (message templates message.<name>.<channel>.<locale>). */
#define ACCOUNT_MSG_EMAIL_CHANGED "account_email_changed"
#define ACCOUNT_MSG_PHONE_STARTED "account_phone_change_started"
#define ACCOUNT_MSG_PHONE_COMPLETED "account_phone_change_completed"
#define ACCOUNT_MSG_PHONE_CANCELLED "account_phone_change_cancelled"
#define ACCOUNT_MSG_PHONE_FAILED "account_phone_change_failed"
#define ACCOUNT_MSG_DELETED "account_deleted"

/* An account row as stored (arena strings; NULL for an empty column). */
typedef struct account_row {
    int64_t id;
    const char *phone, *email, *name, *birth_date, *locale, *referral_code;
    int64_t created_at;
} account_row;

/* Fills the view of a page for the signed-in account (used before an error so
 * that the page can be shown again).  SOUK_OK or SOUK_ERR. */
typedef int (*account_fill_fn)(souk_ctx *ctx, int64_t account_id);

/* ---------------------------------------------------------------- account.c */

/* Load a live (not deleted) account; SOUK_ERR when there is none. */
int account_row_load(souk_ctx *ctx, int64_t id, account_row *out);
/* The answer for a signed-in account that is gone: 404 account_unknown.
 * Returns SOUK_ERR. */
int account_missing(souk_ctx *ctx);
/* The signed-in account's row, or account_missing() answered and SOUK_ERR. */
int account_load_current(souk_ctx *ctx, account_row *row);
/* A page (or GET) handler: fill the view for the signed-in account, or answer
 * account_missing(). */
int account_show(souk_ctx *ctx, account_fill_fn fill);
/* The "account" object of a row (yours). */
json_t *account_row_json(souk_ctx *ctx, const account_row *row);
/* Load account id into *row and put its "account" object into the view:
 * that object (borrowed from the view), or NULL when there is no live account. */
json_t *account_view_row(souk_ctx *ctx, int64_t id, account_row *row);
/* The pending phone change of an account (yours), or NULL. */
json_t *account_phone_change_json(souk_ctx *ctx, int64_t account_id);
/* The pending phone change (or null) as the view's "phone_change"; 1 when there
 * is one. */
int account_view_phone_change(souk_ctx *ctx, int64_t account_id);
/* A live challenge of purpose that belongs to account_id (public_id from the
 * client; missing: 422 challenge_required, another account's: 404
 * challenge_unknown, else auth_challenge_get's failures, in f when not NULL).
 * Its data goes to *data (yours) when data is not NULL, else it is released;
 * c->data is NULL. */
int account_challenge_mine(souk_ctx *ctx, const char *public_id, const char *purpose,
                           int64_t account_id, auth_challenge *c, json_t **data, auth_fail *f);
/* A challenge for a view (yours). */
json_t *account_challenge_json(souk_ctx *ctx, const auth_challenge *c);
/* "2026-11-15 14:05 UTC" for a time in ms (arena). */
const char *account_time_text(souk_ctx *ctx, int64_t ms);

/* The theme's text for key in the request's language: the template
 * account_messages renders {{{t.account.<group>.<key>}}} for {"<group>":
 * {"<key>": true}} (group "errors" or "flash").  fallback (the English text)
 * when the theme has no such text.  extra (borrowed, may be NULL) adds values the
 * text may use (tries_left). */
const char *account_say(souk_ctx *ctx, const char *group, const char *key,
                        const char *fallback, json_t *extra);

/* Answer a failure.  For a page: fill (when not NULL) builds the page's view,
 * the message is translated, and "input" echoes the form (so a 422 shows the
 * form again with the entered values).  Returns SOUK_ERR. */
int account_fail(souk_ctx *ctx, const auth_fail *f, account_fill_fn fill);
/* The same from parts. */
int account_error(souk_ctx *ctx, int status, const char *code, const char *field,
                  const char *message, account_fill_fn fill);
/* Success of a form: a page gets the flash (a key of t.account.flash, with its
 * English fallback) and a 303 to location; JSON gets nothing more.  SOUK_OK. */
int account_done(souk_ctx *ctx, const char *location, const char *flash_key,
                 const char *flash_fallback);

/* Queue a notice to the email (when verified) and the phone of row, in its
 * language; data is borrowed.  Notices about security go whatever the
 * preferences say.  SOUK_ERR (logged) when one cannot be queued. */
int account_notice_both(souk_ctx *ctx, const account_row *row, const char *message, json_t *data);
/* The store's address ("https://shop.example"), "" when unknown; borrowed. */
const char *account_site_url(void);

/* The signed-in account (routes are SOUK_ROUTE_AUTH, so never 0 in them). */
int64_t account_current(souk_ctx *ctx);

/* --------------------------------------------------------------- contacts.c */

/* Fills the contacts page view (account, phone change, the challenges named by
 * the query: email_challenge, phone_new, phone_old). */
int account_contacts_fill(souk_ctx *ctx, int64_t account_id);

/* Complete every phone change due by now_ms and purge expired challenges, rate
 * counters and sessions.  For the sweep job (and tests).  SOUK_OK or SOUK_ERR. */
int account_sweep(souk_ctx *ctx);

/* ------------------------------------------------------------------ prefs.c */

/* Whether account wants notices of kind by channel (its stored choice, else the
 * kind's default).  Channels a kind does not offer are off. */
int account_pref_enabled(souk_ctx *ctx, int64_t account_id, const char *kind,
                         const char *channel);
/* Whether a kind is sent to everyone by bulk (a newsletter): its emails carry
 * the one-click unsubscribe link. */
int account_pref_is_bulk(const char *kind);
/* The one-click unsubscribe address for kind by email (arena): the site's url
 * + "/unsubscribe/" + token. */
const char *account_unsubscribe_url(souk_ctx *ctx, int64_t account_id, const char *kind);

#endif
