/* signin_internal.h -- what the sign-in half of the auth plugin (phone.c,
 * rate.c, challenge.c, session.c, identity.c, accounts.c, signin.c, fail.c)
 * shares among its own files, beyond auth_internal.h.  Other files of the plugin
 * may use it too; nothing here is for other plugins. */
#ifndef SOUK_AUTH_SIGNIN_INTERNAL_H
#define SOUK_AUTH_SIGNIN_INTERNAL_H

#include "auth_internal.h"

/* ------------------------------------------------------------ cookies */

#define AUTH_SESSION_COOKIE "souk_session"
#define AUTH_SESSION_COOKIE_SECURE "__Host-souk_session" /* when the store is on https */
#define AUTH_REF_COOKIE "souk_ref"
#define AUTH_REF_COOKIE_DAYS 30
#define AUTH_REF_MIN 4 /* a referral code: 4..16 of [A-Z0-9] */
#define AUTH_REF_MAX 16

#define AUTH_TOKEN_BYTES 32                   /* 256-bit session tokens ... */
#define AUTH_TOKEN_HEX (2 * AUTH_TOKEN_BYTES) /* ... sent as 64 hex digits */
#define AUTH_HASH_HEX 64                      /* api->keyed_hash's output */
#define AUTH_CODE_DIGITS 6
#define AUTH_SECOND_MS 1000LL

/* Keyed-hash purposes (domain separation of the store key). */
#define AUTH_HASH_CODE "auth-code"
#define AUTH_HASH_SESSION "auth-session"

/* ---------------------------------------------------------- challenge.c */

/* Whether s is exactly len lower-case hex digits (public ids, session tokens). */
int auth_is_hex(const char *s, size_t len);

/* A challenge in whatever state it is (auth_challenge_get only gives live
 * ones): for pages that explain why a code no longer works. */
typedef struct auth_challenge_state {
    auth_challenge c;
    int used;    /* used up (or replaced by a newer code to the same place) */
    int expired; /* now >= expires_at */
    int locked;  /* no tries left */
    int deliver; /* 0: a decoy that never sends anything */
    int64_t verified_at;
} auth_challenge_state;

/* Load a challenge by public id in any state.  SOUK_ERR 404 challenge_unknown
 * when there is none (or public_id is malformed, or of another purpose when
 * purpose is not NULL). */
int auth_challenge_load(souk_ctx *ctx, const char *public_id, const char *purpose,
                        auth_challenge_state *out, auth_fail *f);
/* The challenge as the pages and the API show it (yours):
 * {"id", "channel", "destination" (masked), "expires_in", "resend_in" (seconds),
 *  "tries_left", "expired", "locked", "used", "sms", "email"}. */
json_t *auth_challenge_json(souk_ctx *ctx, const auth_challenge_state *s);

/* ------------------------------------------------------------ session.c */

typedef struct auth_session_info {
    int64_t id;
    int64_t account_id;
    int64_t created_at;
    int64_t last_seen_at;
} auth_session_info;

/* The request's live session (cookie or Bearer).  1 found, 0 none. */
int auth_session_lookup(souk_ctx *ctx, auth_session_info *out);
/* Write last_seen_at after the request (api->on_done + a write job) when it is
 * older than touch_ms: a GET never writes inside its own transaction. */
void auth_session_touch_later(souk_ctx *ctx, const auth_session_info *s);
/* The account's live sessions, most recent first, current one marked (yours):
 * [{"id", "device", "ip", "created_at", "last_seen_at", "created", "last_seen",
 *   "current"}]. */
json_t *auth_session_list(souk_ctx *ctx, int64_t account_id, int64_t current);
/* End one session of account_id.  1 ended, 0 no such session, -1 error. */
int auth_session_end_one(souk_ctx *ctx, int64_t account_id, int64_t session_id);
/* "Firefox, Windows" from a User-Agent (arena), or NULL when it says nothing
 * recognisable. */
const char *auth_device_summary(souk_ctx *ctx, const char *user_agent);

/* --------------------------------------------------------------- rate.c */

/* Delete what can no longer matter: rate buckets out of every window, challenges
 * expired for longer than the sign-up window, sessions past their expiry.  For a
 * write job (the plugin's sweep).  SOUK_OK or SOUK_ERR (logged). */
int auth_signin_purge(souk_ctx *ctx);

/* ----------------------------------------------------------- identity.c */

/* The referral code in ref when it looks like one, upper-cased (arena), else
 * NULL. */
const char *auth_referral_clean(souk_ctx *ctx, const char *ref);
/* Forget the remembered referral (after sign-up). */
void auth_referral_forget(souk_ctx *ctx);

/* ------------------------------------------------------------- fail.c */

/* A short text of the theme in the request's language: the template "auth_text"
 * rendered with {key: true} and the members of extra (borrowed, may be NULL);
 * fallback (English) when the theme has no such text.  Arena. */
const char *auth_text(souk_ctx *ctx, const char *key, json_t *extra, const char *fallback);
/* f's message in the shopper's language (auth_text with the code, "retry_after"
 * in seconds and "tries_left"), the English one when the theme has none. */
const char *auth_fail_text(souk_ctx *ctx, const auth_fail *f);
/* s without white space at either end (arena), or NULL when nothing is left or
 * s is NULL. */
const char *auth_trimmed(souk_ctx *ctx, const char *s);
/* The characters of UTF-8 text s (its bytes that start a character). */
size_t auth_utf8_chars(const char *s);
/* Whole seconds to wait for ms, rounded up (a client that waits exactly that
 * long must succeed); 0 for ms <= 0. */
int64_t auth_ceil_seconds(int64_t ms);

#endif
