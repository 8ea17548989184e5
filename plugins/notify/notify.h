/* notify.h -- the notify plugin's service, "notify" version 1: messages (one-time
 * codes, notices, alerts, newsletters) written to a durable outbox in the caller's
 * transaction and delivered asynchronously by the worker processes.
 *
 * A plugin that sends messages declares "notify" among its dependencies and looks
 * the service up in init():
 *
 *     const notify_v1 *notify = api->service_get(self, NOTIFY_SERVICE, 1);
 *
 * Messages are theme templates, one per message, channel and locale:
 *     message.<message>.<channel>.<locale>     e.g. message.auth_code.sms.ru
 * (falling back to the store's default locale).  An email template's first line is
 * "Subject: ..." and the body follows a blank line; an SMS template is the text.
 * Templates are plain text: use {{{triple}}} mustaches for values, since double
 * ones escape HTML.  The message is rendered when it is queued, so the outbox holds
 * exactly what will be sent. */
#ifndef SOUK_NOTIFY_H
#define SOUK_NOTIFY_H

#include <souk/souk.h>

#define NOTIFY_SERVICE "notify"
#define NOTIFY_SERVICE_VERSION 1

/* Channels. */
#define NOTIFY_EMAIL "email"
#define NOTIFY_SMS "sms"

typedef struct notify_message {
    const char *channel;    /* NOTIFY_EMAIL or NOTIFY_SMS */
    const char *to;         /* an email address, or an E.164 phone number */
    const char *message;    /* template name part: "auth_code" */
    const char *locale;     /* "ru", "en"; NULL = the store default */
    json_t *data;           /* the template's view model (borrowed), or NULL */
    /* Optional: for newsletters, the one-click unsubscribe address (RFC 8058):
     * sent as List-Unsubscribe with List-Unsubscribe-Post.  NULL otherwise. */
    const char *unsubscribe_url;
    /* Optional: a key that makes queuing idempotent: a second message with the
     * same key is not queued again (SOUK_OK).  NULL for none. */
    const char *dedupe_key;
} notify_message;

typedef struct notify_v1 {
    /* Render the message and add it to the outbox in the ctx's current
     * transaction (a request's, or a write job's): it is delivered only if that
     * transaction commits, and then at least once.  The outbox row's id goes to
     * *id when id is not NULL.  SOUK_ERR with *error (arena) naming the problem:
     * an unknown channel, an empty address, a missing template, a render error. */
    int (*queue)(souk_ctx *ctx, const notify_message *m, int64_t *id, const char **error);
} notify_v1;

#endif
