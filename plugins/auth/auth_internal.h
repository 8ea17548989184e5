/* auth_internal.h -- shared by the auth plugin's files.  Not for other plugins
 * (they use auth.h).
 *
 * Files and what they own:
 *   auth.c        init: settings, service lookups, registration (routes of every
 *                 part, migrations, identity, events, commands, worker hooks)
 *   schema.c      the tables (auth_migrations)
 *   phone.c       phone (E.164) and email normalisation
 *   rate.c        counters in the database (per destination, IP, account)
 *   challenge.c   one-time codes: issue, resend, verify
 *   session.c     sessions: start (rotation), resolve, touch, end, list, revoke
 *   identity.c    the identity resolver, the referral cookie
 *   accounts.c    account rows: create (sign-up), look up, referral codes; the
 *                 one-row queries by id the other files share
 *   signin.c      sign-in / sign-up / sign-out / sessions pages and API
 *   account.c     account overview and profile pages and API
 *   contacts.c    add/verify/change email, change phone (the 14-day path), sweep
 *   prefs.c       notification preferences, signed unsubscribe, `souk newsletter`
 *   deletion.c    account deletion (user.deleting / user.deleted)
 *   service.c     the auth_v1 service
 * Two more headers: signin_internal.h (what the sign-in files share, and the few
 * functions of theirs the account files call) and account_internal.h (what the
 * account files share).
 */
#ifndef SOUK_AUTH_INTERNAL_H
#define SOUK_AUTH_INTERNAL_H

#include "auth.h"
#include "notify/notify.h"

#include <souk/souk.h>
#include <stdint.h>

extern const souk_host_api *auth_api;
extern souk_plugin *auth_self;
extern const notify_v1 *auth_notify;

/* ------------------------------------------------------------- settings */

/* settings.auth in souk.lua; every figure has a default (auth.c) and bounds. */
typedef struct auth_settings {
    char region[3];               /* "RU": numbers without a country code */
    int country_code;             /* 7: from region */
    int64_t code_ttl_ms;          /* 5 min; at most 10 min */
    int code_tries;               /* 5 wrong tries per code, then locked */
    int64_t resend_ms;            /* 60 s between codes to one destination */
    int codes_per_destination;    /* 5 per hour */
    int codes_per_ip;             /* 20 per hour */
    int checks_per_ip;            /* 60 code checks per hour */
    int failures_per_account;     /* 20 failed checks per hour */
    int64_t signup_window_ms;     /* a verified, unknown phone may accept the terms
                                     within this (10 min) */
    int64_t session_idle_ms;      /* 14 days without use ends a session */
    int64_t session_absolute_ms;  /* 30 days after sign-in at most */
    int64_t touch_ms;             /* last-seen is written at most this often (60 s) */
    int64_t phone_change_wait_ms; /* 14 days */
    int64_t sweep_ms;             /* how often workers complete due phone changes,
                                     purge expired rows (60 s) */
    char terms_version[32];       /* "2026-11-01" */
} auth_settings;

extern auth_settings auth_cfg;

#define AUTH_HOUR_MS (3600 * 1000LL)

/* ------------------------------------------------------------ failures */

/* What went wrong, for the page or the API: status, a stable code, a message a
 * shopper can read (English; pages translate by code through
 * t.auth.errors.<code>), the input field, and for 429 the wait. */
typedef struct auth_fail {
    int status;
    const char *code;
    const char *message;
    const char *field;
    int64_t retry_after_ms;
    int tries_left;             /* for code_wrong; -1 otherwise */
} auth_fail;

/* Fill f; returns SOUK_ERR. */
int auth_failf(auth_fail *f, int status, const char *code, const char *field,
               const char *message);
/* Answer with f: res_error with its status/code/message/field, Retry-After for
 * 429, and "tries_left" / "retry_after" in the error object when set. */
int auth_respond_fail(souk_ctx *ctx, const auth_fail *f);

/* ---------------------------------------------------------------- phone.c */

#define AUTH_PHONE_MAX 17  /* "+" and at most 15 digits, NUL */
#define AUTH_EMAIL_MAX 255

/* Normalise a phone number to E.164 ("+79991234567").  Accepts spaces,
 * hyphens, dots, parentheses; "+CC...", "8 ..." (Russian trunk prefix when the
 * region is RU) and national numbers of the region.  SOUK_ERR with a message
 * naming the problem. */
int auth_phone_normalize(const char *in, char out[AUTH_PHONE_MAX], const char **error);
/* Lower-case, trim and check an email address (one '@', a dotted domain, no
 * spaces or control characters, length limits).  SOUK_ERR with a message. */
int auth_email_normalize(const char *in, char out[AUTH_EMAIL_MAX + 1], const char **error);
/* "+7 999 ***-**-67", "a***@example.com": for notices and pages. */
const char *auth_mask_phone(souk_ctx *ctx, const char *e164);
const char *auth_mask_email(souk_ctx *ctx, const char *email);

/* ----------------------------------------------------------------- rate.c */

/* Sliding-window counters in the table auth_rate (one-minute buckets of an
 * hour; see rate.c), shared by all workers.  auth_rate_count: hits of key in the
 * last window.  auth_rate_add: count one hit.  auth_rate_check: SOUK_ERR (429
 * "rate_limited", retry_after until a hit leaves the window) when key already has
 * limit hits; counts nothing.
 * Keys: "send:dest:<dest>", "send:ip:<ip>", "check:ip:<ip>", "fail:acct:<id>". */
int auth_rate_count(souk_ctx *ctx, const char *key, int64_t window_ms);
int auth_rate_add(souk_ctx *ctx, const char *key, int64_t window_ms);
int auth_rate_check(souk_ctx *ctx, const char *key, int64_t window_ms, int limit,
                    auth_fail *f);

/* ------------------------------------------------------------ challenge.c */

/* What a code proves. */
#define AUTH_P_SIGNIN "signin"             /* sign in or sign up (phone), sign in (email) */
#define AUTH_P_EMAIL_VERIFY "email_verify" /* add or change an email: code to the new one */
#define AUTH_P_PHONE_NEW "phone_new"       /* change phone: code to the new number */
#define AUTH_P_PHONE_OLD "phone_old"       /* change phone: code to the old number */
#define AUTH_P_DELETE "delete"             /* confirm account deletion */

#define AUTH_CHALLENGE_ID_LEN 32           /* hex characters of a public id */

typedef struct auth_challenge {
    int64_t id;
    char public_id[AUTH_CHALLENGE_ID_LEN + 1];
    const char *purpose;     /* arena */
    const char *channel;     /* NOTIFY_SMS or NOTIFY_EMAIL */
    const char *destination; /* E.164 or email */
    int64_t account_id;      /* 0: nobody yet (an unknown phone) */
    json_t *data;            /* extra state (yours when loaded; may be NULL) */
    int64_t expires_at;      /* ms */
    int64_t resend_at;       /* ms: no new code before */
    int tries_left;
    int verified;            /* verified but not yet used (sign-up pending) */
} auth_challenge;

typedef struct auth_issue {
    const char *purpose;
    const char *channel;
    const char *destination;
    int64_t account_id;
    json_t *data;            /* borrowed; stored with the challenge */
    const char *locale;      /* of the message; NULL = request's */
    /* 0: create the challenge and count the limits exactly as for a real one, but
     * queue no message (an email sign-in for an unknown address: the answer must
     * not differ). */
    int deliver;
} auth_issue;

/* Create a challenge with a fresh uniform code, store the code's keyed hash, and
 * queue the message "auth_code" (data: code, minutes, purpose flags) to the
 * destination.  Checks and counts the limits: resend interval and codes per hour
 * for the destination, codes per hour for the IP.  out->data is NULL. */
int auth_challenge_issue(souk_ctx *ctx, const auth_issue *in, auth_challenge *out,
                         auth_fail *f);
/* A new code for the same challenge (the old one stops working), under the same
 * limits; tries start again. */
int auth_challenge_resend(souk_ctx *ctx, const char *public_id, auth_challenge *out,
                          auth_fail *f);
/* Load a live challenge of purpose by public id (not used up, not expired):
 * SOUK_ERR 404 "challenge_unknown" / 410 "code_expired" otherwise.  For pages. */
int auth_challenge_get(souk_ctx *ctx, const char *public_id, const char *purpose,
                       auth_challenge *out, auth_fail *f);
/* Check a code.  Wrong: one try used (and one failure for the account and the IP),
 * committed even though the request answers 422 (api->commit_on_error); the 5th
 * wrong try locks the challenge.  Right: the challenge is used up (or marked
 * verified when keep_verified, for the sign-up step) and out is filled.  Unknown
 * / used / expired / locked / over a limit: SOUK_ERR with the matching code
 * (challenge_unknown 404, code_used 410, code_expired 410, code_locked 429,
 * too_many_failures 429, rate_limited 429, code_wrong 422). */
int auth_challenge_verify(souk_ctx *ctx, const char *public_id, const char *purpose,
                          const char *code, int keep_verified, auth_challenge *out,
                          auth_fail *f);
/* Use up a verified challenge (the sign-up step); SOUK_ERR when it is not
 * verified, or verified longer than signup_window_ms ago. */
int auth_challenge_consume_verified(souk_ctx *ctx, const char *public_id,
                                    auth_challenge *out, auth_fail *f);

/* -------------------------------------------------------------- session.c */

/* Start a session for account: a 256-bit token in the session cookie (and, for
 * the API, returned in *token as hex, arena), its keyed hash in auth_session.
 * A session the request already carried is ended first (a new token at every
 * sign-in).  Records IP and User-Agent. */
int auth_session_start(souk_ctx *ctx, int64_t account_id, const char **token);
/* The request's session (cookie, or Authorization: Bearer) when live: its row
 * id and account.  0 for none.  Expired sessions are refused (idle and absolute). */
int64_t auth_session_resolve(souk_ctx *ctx, int64_t *account_id);
/* End the request's session (sign-out): row deleted, cookie cleared. */
int auth_session_end(souk_ctx *ctx);
/* End every session of account except keep (0 = all). Returns the number ended. */
int auth_session_end_all(souk_ctx *ctx, int64_t account_id, int64_t keep);
/* The session cookie's name (the __Host- form when the store is on https). */
const char *auth_session_cookie(souk_ctx *ctx);

/* ------------------------------------------------------------- identity.c */

/* The identity resolver (api->identity_set). */
json_t *auth_identity(souk_ctx *ctx);
/* The request's account id (0 for a guest) and session id. */
int64_t auth_current_account(souk_ctx *ctx);
int64_t auth_current_session(souk_ctx *ctx);
/* The referral code remembered for this visitor (cookie), or NULL. */
const char *auth_referral_seen(souk_ctx *ctx);

/* ------------------------------------------------------------- accounts.c */

/* A new account for a verified phone: terms version and time recorded, its own
 * referral code, referrer (when ref names an account), default preferences. */
int64_t auth_account_create(souk_ctx *ctx, const char *phone, const char *ref,
                            const char *locale, auth_fail *f);
/* Account id by phone / verified email; 0 when none (deleted accounts never
 * match). */
int64_t auth_account_by_phone(souk_ctx *ctx, const char *e164);
int64_t auth_account_by_email(souk_ctx *ctx, const char *email);
/* The account as the identity object of auth.h (yours), or NULL. */
json_t *auth_account_json(souk_ctx *ctx, int64_t account_id);
/* The account's level (AUTH_LIMITED or AUTH_SECURED; AUTH_GUEST if absent). */
int auth_account_level(souk_ctx *ctx, int64_t account_id);
/* A query about one row, ?1 bound to id: the statement stepped to its first
 * row, or NULL when there is none or the query failed.  It is the core's cached
 * statement (borrowed): read the columns at once, reset it when done. */
sqlite3_stmt *auth_row_by_id(souk_ctx *ctx, const char *sql, int64_t id);
/* A statement without results, ?1 bound to id (UPDATE or DELETE ... = ?1). */
int auth_exec_id(souk_ctx *ctx, const char *sql, int64_t id);

/* --------------------------------------------- registration of each part */

/* Add routes[0..n) (auth.c); SOUK_ERR at the first the core refuses. */
int auth_routes_add(souk_plugin *self, const souk_host_api *api, const souk_route *routes,
                    size_t n);
#define AUTH_ROUTES_ADD(self, api, routes)                                                         \
    auth_routes_add((self), (api), (routes), sizeof(routes) / sizeof *(routes))

int auth_signin_init(souk_plugin *self, const souk_host_api *api);    /* signin.c */
int auth_account_init(souk_plugin *self, const souk_host_api *api);   /* account.c */
int auth_contacts_init(souk_plugin *self, const souk_host_api *api);  /* contacts.c */
int auth_prefs_init(souk_plugin *self, const souk_host_api *api);     /* prefs.c */
int auth_deletion_init(souk_plugin *self, const souk_host_api *api);  /* deletion.c */
extern const auth_v1 auth_service;                                     /* service.c */
extern const souk_migration auth_migrations[];                         /* schema.c */
extern const int auth_migration_count;

#endif
