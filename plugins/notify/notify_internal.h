/* notify_internal.h -- shared by the notify plugin's files.  Not for other plugins
 * (they use notify.h).
 *
 * Files and what they own:
 *   notify.c      init: settings lookup, registration (migrations, service,
 *                 command, worker hooks)
 *   settings.c    settings.notify in souk.lua: reading, checking, defaults
 *   schema.c      the table notify_outbox (notify_migrations)
 *   message.c     pure text work: address checks, the rendered template split
 *                 into subject and body, RFC 5322 / MIME email, RFC 2047 words,
 *                 quoted-printable, the webhook body and its HMAC, back-off
 *   queue.c       the notify_v1 service: render, check, insert, wake delivery
 *   deliver.c     delivery in a worker: timers, claiming rows with a lease,
 *                 recording results with back-off
 *   transfer.c    libcurl multi driven from the worker's libuv loop (webhook)
 *   pool.c        SMTP transfers, blocking, in libuv's thread pool
 *   channels.c    one libcurl easy handle per message: SMTP and the SMS webhook
 *   outbox_cmd.c  `souk outbox DIR [--to ADDR] [--last] [--json]`
 *
 * The outbox is the only state shared between workers: a row is claimed with a
 * lease in a write transaction, so two workers never send it at the same time,
 * and a worker that dies mid-send leaves a lease that expires, after which the
 * row is sent again (at least once, never lost). */
#ifndef SOUK_NOTIFY_INTERNAL_H
#define SOUK_NOTIFY_INTERNAL_H

#include "notify.h"

#include <souk/souk.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

extern const souk_host_api *notify_api;
extern souk_plugin *notify_self;

/* ------------------------------------------------------------- settings */

/* How a channel's messages leave the store. */
typedef enum notify_transport {
    NOTIFY_VIA_DEV = 0, /* recorded in the outbox only (dev mode) */
    NOTIFY_VIA_SMTP,    /* email through an SMTP server */
    NOTIFY_VIA_WEBHOOK  /* SMS through an HTTP gateway */
} notify_transport;

/* What starttls asks of a smtp:// connection (libcurl's CURLOPT_USE_SSL). */
typedef enum notify_starttls {
    NOTIFY_STARTTLS_REQUIRED = 0, /* fail unless the server upgrades to TLS */
    NOTIFY_STARTTLS_TRY,          /* upgrade when offered, else go on in clear */
    NOTIFY_STARTTLS_NONE          /* never upgrade */
} notify_starttls;

typedef struct notify_smtp_settings {
    char *url;      /* smtp://host:port or smtps://host:port (required for smtp) */
    int starttls;   /* notify_starttls */
    char *username; /* NULL: no AUTH */
    char *password;
    char *from;         /* the sender's address (required for smtp) */
    char *from_name;    /* its display name; NULL = the site's name, if any */
    char *ca_file;      /* a private CA's certificate (PEM), or NULL */
    int64_t timeout_ms; /* a whole delivery, connect to QUIT (30 s) */
} notify_smtp_settings;

typedef struct notify_webhook_settings {
    char *url;    /* http(s) address of the gateway (required for webhook) */
    char *secret; /* HMAC-SHA256 key (required for webhook) */
    char *sender; /* "sender" in the body; NULL = the site's name, if any */
    char *ca_file;
    int64_t timeout_ms; /* a whole request (10 s) */
} notify_webhook_settings;

#define NOTIFY_BATCH_MAX 256
/* SMTP transfers run in libuv's thread pool, shared by the whole process (4
 * threads unless UV_THREADPOOL_SIZE says otherwise): smtp_parallel of them at
 * most, so that the pool's other users always find a thread. */
#define NOTIFY_SMTP_PARALLEL_MAX 64
#define NOTIFY_UV_THREADPOOL_DEFAULT 4 /* libuv's pool size without the variable */
/* How far past smtp.timeout_ms an SMTP transfer may end: libcurl 7.88 checks
 * for a cut once a second while it waits for a reply (the QUIT after a timed
 * out message is not covered by CURLOPT_TIMEOUT_MS).  lease_ms must exceed
 * smtp.timeout_ms by more than this. */
#define NOTIFY_SMTP_OVERRUN_MS 1000

/* settings.notify, plus the facts of the store the plugin needs.  Strings are
 * owned (malloc) and freed by notify_settings_free. */
typedef struct notify_settings {
    int email;             /* notify_transport of the email channel (dev) */
    int sms;               /* notify_transport of the sms channel (dev) */
    int64_t poll_ms;       /* how often a worker looks for due messages (1 s) */
    int64_t lease_ms;      /* a claimed row is another worker's after this (2 min) */
    int64_t retry_base_ms; /* first back-off (5 s), doubled per attempt ... */
    int64_t retry_max_ms;  /* ... up to this (1 h) */
    int max_attempts;      /* then the message is failed (10) */
    int batch;             /* messages in flight per worker at most (16; at most
                              NOTIFY_BATCH_MAX) */
    int smtp_parallel;     /* of them, SMTP transfers in the thread pool at most
                              (2; at most NOTIFY_SMTP_PARALLEL_MAX) */
    notify_smtp_settings smtp;
    notify_webhook_settings webhook;
    /* From api->site when the plugin starts. */
    int dev; /* the store runs in dev mode */
    char *default_locale;
} notify_settings;

extern notify_settings notify_cfg;

/* Read settings.notify (and api->site) into notify_cfg.  SOUK_ERR after logging
 * one line naming the key at fault. */
int notify_settings_read(souk_plugin *self, const souk_host_api *api);
void notify_settings_free(void);
/* The transport that carries channel ("email"/"sms"); -1 for another channel. */
int notify_transport_of(const char *channel);
/* Whether a channel's messages can leave now: a real transport, or dev in dev
 * mode.  A "dev" channel outside dev mode keeps its messages queued. */
int notify_channel_active(const char *channel);
const char *notify_transport_name(int transport);
/* The store's name and address from api->site, read when needed (the core
 * completes the address once it listens): borrowed, NULL when unknown. */
const char *notify_site_name(void);
const char *notify_site_url(void);

/* --------------------------------------------------------------- schema */

extern const souk_migration notify_migrations[];
extern const int notify_migration_count;

/* --------------------------------------------------------------- message */

/* Limits on what goes into the outbox. */
#define NOTIFY_ADDRESS_MAX 254 /* RFC 5321 path limit for an address */
#define NOTIFY_NAME_MAX 64     /* a message's name ("auth_code") */
#define NOTIFY_LOCALE_MAX 16
#define NOTIFY_SUBJECT_MAX 500 /* bytes of the decoded subject */
#define NOTIFY_URL_MAX 900     /* List-Unsubscribe must fit one header line */
#define NOTIFY_DEDUPE_MAX 200

/* A growable byte buffer (malloc).  Appends never fail silently: after an
 * allocation failure oom is set and later appends do nothing. */
typedef struct notify_buf {
    char *data;
    size_t len, cap;
    int oom;
} notify_buf;

void notify_buf_add(notify_buf *b, const void *p, size_t n);
void notify_buf_puts(notify_buf *b, const char *s);
void notify_buf_printf(notify_buf *b, const char *fmt, ...) SOUK_PRINTF(2, 3);
/* The text, NUL-terminated (yours: free()), or NULL after an allocation failure.
 * The buffer is empty afterwards. */
char *notify_buf_take(notify_buf *b, size_t *len);
void notify_buf_free(notify_buf *b);

/* Checks: NULL when fine, else a static message naming the problem. */
const char *notify_check_email(const char *address);
const char *notify_check_phone(const char *e164);
const char *notify_check_name(const char *name, size_t max); /* [a-z0-9_]+ */
const char *notify_check_locale(const char *locale);
const char *notify_check_url(const char *url); /* http(s), printable */

/* Split a rendered email template: the first line "Subject: ...", an optional
 * blank line, then the body.  On success *subject and *body point into text
 * (which is modified: NULs are written), the subject trimmed and the body
 * without trailing blank space.  NULL, or a static message naming the problem. */
const char *notify_split_email(char *text, const char **subject, const char **body);
/* Trim an SMS text in place: returns its start. */
char *notify_trim(char *text);

/* An email as the SMTP server receives it. */
typedef struct notify_email {
    const char *from;      /* the sender's address */
    const char *from_name; /* display name (UTF-8), or NULL */
    const char *to;
    const char *subject; /* UTF-8, one line */
    const char *body;    /* UTF-8; LF or CRLF line ends */
    int64_t date_ms;     /* the Date: header */
    json_t *headers;     /* more header fields {"Message-ID": ..., ...}
                            (borrowed; ASCII values, no line breaks), or NULL */
} notify_email;

/* The RFC 5322 message: Date, From, To, Subject (RFC 2047 when needed),
 * Message-ID and the other headers, MIME-Version, Content-Type text/plain;
 * charset=utf-8, Content-Transfer-Encoding 7bit (ASCII with short lines) or
 * quoted-printable, a blank line and the body, every line ending in CRLF.
 * Yours (free()); NULL on an allocation failure. */
char *notify_email_build(const notify_email *e, size_t *len);
/* A header value as RFC 2047 encoded words when it needs them (non-ASCII,
 * control characters, "=?" or longer than fits a line), folded with CRLF SP
 * so that no line passes 78 characters; otherwise the text itself.  label_len is
 * the length of "Subject: " that precedes the value on its first line. */
void notify_header_words(notify_buf *b, const char *value, size_t label_len);
/* Quoted-printable (RFC 2045 6.7) of text with CRLF line ends: lines of at most
 * 76 characters, soft breaks "=" CRLF, trailing blanks encoded. */
void notify_qp_encode(notify_buf *b, const char *text);
/* "Thu, 01 Jan 2026 12:00:00 +0000" (RFC 5322 3.3), C locale, UTC. */
void notify_rfc5322_date(int64_t ms, char out[40]);

/* The webhook's request body {"id","to","text","sender"} (yours: free()). */
char *notify_webhook_body(int64_t id, const char *to, const char *text, const char *sender);
/* "sha256=<hex>" of HMAC-SHA256(secret, "<timestamp>.<body>") into out. */
#define NOTIFY_SIGNATURE_MAX 72
void notify_webhook_sign(const char *secret, int64_t timestamp, const char *body, size_t body_len,
                         char out[NOTIFY_SIGNATURE_MAX]);

/* The wait before attempt n + 1 after n failed attempts (n >= 1):
 * base * 2^(n-1), at most max. */
int64_t notify_backoff_ms(int attempts, int64_t base_ms, int64_t max_ms);

/* ----------------------------------------------------------------- queue */

extern const notify_v1 notify_service;

/* ---------------------------------------------------------------- deliver */

/* The worker hooks (api->worker_hooks). */
int notify_deliver_start(souk_plugin *self, void *loop, void *udata);
void notify_deliver_stop(souk_plugin *self, void *loop, void *udata);
/* Look for due messages at once (after a commit that queued one).  Does
 * nothing outside a worker. */
void notify_deliver_wake(void);

/* ---------------------------------------------------------------- transfer */

/* One message being delivered: a claimed outbox row and its libcurl handle.
 * A webhook transfer lives on the loop (transfer.c).  An SMTP transfer runs on
 * a pool thread (pool.c): from notify_pool_add until its after-work callback,
 * that thread owns easy, the slists, payload, errbuf, curl_result, started_ns
 * and timed_out, and the loop touches only next, pooled, abandoned and cut. */
typedef struct notify_transfer {
    int64_t id;
    int attempts;                                         /* counting this one */
    int transport;                                        /* notify_transport */
    char *channel, *recipient, *subject, *body, *headers; /* owned copies */
    int64_t created_at;
    int64_t now_ms;      /* store time when claimed (signature timestamp) */
    int64_t lease_until; /* this claim's lease: results are recorded only while
                            the row still carries it */
    /* libcurl state (channels.c) */
    void *easy;       /* CURL * */
    void *slist_rcpt; /* struct curl_slist * */
    void *slist_headers;
    char *payload; /* the message or the request body */
    size_t payload_len, payload_off;
    char errbuf[256]; /* CURL_ERROR_SIZE */
    /* The thread pool (SMTP) */
    uv_work_t work;
    int pooled;          /* handed to the pool: only its after-work callback frees t */
    int abandoned;       /* the worker stopped while t was in the pool */
    int64_t timeout_ms;  /* the whole transfer, QUIT included (a copy for the thread) */
    uint64_t started_ns; /* uv_hrtime() when the thread began it */
    int timed_out;       /* the thread cut it at timeout_ms */
    atomic_int cut;      /* set by the loop: stop as soon as libcurl lets us */
    int curl_result;     /* the thread's CURLcode */
    struct notify_transfer *next;
} notify_transfer;

/* Start libcurl multi on the worker's loop; done is called once per finished
 * transfer with curl's result (a CURLcode).  SOUK_ERR with a message in err. */
int notify_curl_open(void *loop, void (*done)(notify_transfer *t, int curl_result), char *err,
                     size_t errlen);
/* Begin a transfer whose easy handle is set up (channels.c).  SOUK_ERR when
 * libcurl refuses it (err says why). */
int notify_curl_add(notify_transfer *t, char *err, size_t errlen);
/* Remove a transfer without completing it (the worker is stopping). */
void notify_curl_remove(notify_transfer *t);
/* Stop: close every libuv handle it opened.  Transfers must have been removed. */
void notify_curl_close(void);

/* The thread pool for SMTP (pool.c).  done is called on the loop once per
 * transfer that ran, with curl's result; also after the worker stopped (then
 * t->abandoned is set, and after fini notify_api is NULL). */
void notify_pool_open(void *loop, void (*done)(notify_transfer *t, int curl_result));
/* Hand t (prepared) to a pool thread.  SOUK_ERR with err when libuv refuses. */
int notify_pool_add(notify_transfer *t, char *err, size_t errlen);
/* Transfers handed over whose result has not come back yet. */
int notify_pool_busy(void);
/* The worker is stopping.  SOUK_OK: t had not started and never will (the pool
 * frees it; its lease may be given back).  SOUK_ERR: t is running, or has run
 * and waits for its after-work callback; it is asked to stop early (t->cut) and
 * done gets it later. */
int notify_pool_cancel(notify_transfer *t);
void notify_pool_close(void);

/* Set up t->easy for t's transport.  SOUK_ERR with err. */
int notify_channel_prepare(notify_transfer *t, char *err, size_t errlen);
/* Judge a finished transfer: SOUK_OK delivered, else SOUK_ERR with err. */
int notify_channel_result(notify_transfer *t, int curl_result, char *err, size_t errlen);
/* Free t and its libcurl state. */
void notify_transfer_free(notify_transfer *t);

/* -------------------------------------------------------------- command */

int notify_cmd_outbox(souk_ctx *ctx, int argc, char **argv);

#endif
