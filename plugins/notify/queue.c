/* queue.c -- the notify_v1 service: a message rendered from its template,
 * checked, and written to the outbox in the caller's transaction.  Nothing here
 * waits on the network: delivery is the workers' business (deliver.c), woken
 * once the caller's transaction has committed. */
#include "notify_internal.h"

#include <stdlib.h>
#include <string.h>

/* The outbox holds the email's extra header fields as a JSON object. */
#define HEADER_MESSAGE_ID "Message-ID"
#define HEADER_UNSUBSCRIBE "List-Unsubscribe"
#define HEADER_UNSUBSCRIBE_POST "List-Unsubscribe-Post"
#define UNSUBSCRIBE_ONE_CLICK "List-Unsubscribe=One-Click" /* RFC 8058 */
#define MESSAGE_ID_RANDOM_BYTES 12

static int refuse(const char **error, const char *message)
{
    if (error)
        *error = message;
    return SOUK_ERR;
}

/* The domain of Message-ID: the sender's (so that receivers see one origin),
 * else the store's host, else a reserved name. */
static const char *message_id_domain(souk_ctx *ctx)
{
    const char *from = notify_cfg.smtp.from;
    const char *at = from ? strrchr(from, '@') : NULL;
    if (at && at[1])
        return at + 1;
    const char *url = notify_site_url();
    const char *host = url ? strstr(url, "://") : NULL;
    if (host && host[3]) {
        host += 3;
        size_t n = strcspn(host, ":/");
        if (n > 0)
            return notify_api->format(ctx, "%.*s", (int)n, host);
    }
    return "souk.invalid";
}

/* The template of the message in locale, falling back to the store's default
 * locale.  *used_locale gets the locale found. */
static const char *find_template(souk_ctx *ctx, const notify_message *m, const char *locale,
                                 const char **used_locale, const char **error)
{
    const souk_host_api *api = notify_api;
    const char *name = api->format(ctx, "message.%s.%s.%s", m->message, m->channel, locale);
    if (api->template_exists(ctx, name)) {
        *used_locale = locale;
        return name;
    }
    const char *def = notify_cfg.default_locale;
    if (def && strcmp(def, locale) != 0) {
        const char *fallback = api->format(ctx, "message.%s.%s.%s", m->message, m->channel, def);
        if (api->template_exists(ctx, fallback)) {
            *used_locale = def;
            return fallback;
        }
        *error = api->format(ctx, "no message template %s (nor %s of the default locale)", name,
                             fallback);
        return NULL;
    }
    *error = api->format(ctx, "no message template %s", name);
    return NULL;
}

static void on_done(souk_ctx *ctx, int committed, void *udata)
{
    if (committed)
        notify_deliver_wake();
}

/* The header fields of an email kept in the outbox (yours). */
static json_t *email_headers(souk_ctx *ctx, const notify_message *m)
{
    char rnd[2 * MESSAGE_ID_RANDOM_BYTES + 1];
    notify_api->random_hex(rnd, MESSAGE_ID_RANDOM_BYTES);
    json_t *h = json_object();
    json_object_set_new(
        h, HEADER_MESSAGE_ID,
        json_string(notify_api->format(ctx, "<%s@%s>", rnd, message_id_domain(ctx))));
    if (m->unsubscribe_url) {
        json_object_set_new(h, HEADER_UNSUBSCRIBE,
                            json_string(notify_api->format(ctx, "<%s>", m->unsubscribe_url)));
        json_object_set_new(h, HEADER_UNSUBSCRIBE_POST, json_string(UNSUBSCRIBE_ONE_CLICK));
    }
    return h;
}

static const char *check_message(const notify_message *m)
{
    if (!m)
        return "no message";
    int email = m->channel && strcmp(m->channel, NOTIFY_EMAIL) == 0;
    int sms = m->channel && strcmp(m->channel, NOTIFY_SMS) == 0;
    if (!email && !sms)
        return "unknown channel (expected \"email\" or \"sms\")";
    const char *bad = email ? notify_check_email(m->to) : notify_check_phone(m->to);
    if (bad)
        return bad;
    if ((bad = notify_check_name(m->message, NOTIFY_NAME_MAX)) != NULL)
        return bad;
    if (m->locale && (bad = notify_check_locale(m->locale)) != NULL)
        return bad;
    if (m->unsubscribe_url && (bad = notify_check_url(m->unsubscribe_url)) != NULL)
        return bad;
    if (m->dedupe_key && (!*m->dedupe_key || strlen(m->dedupe_key) > NOTIFY_DEDUPE_MAX))
        return "the dedupe key must have 1 to 200 characters";
    return NULL;
}

/* The row's id when dedupe_key is already queued; 0 otherwise. */
static int64_t existing_id(souk_ctx *ctx, const char *dedupe_key)
{
    sqlite3_stmt *st =
        notify_api->db_prepare(ctx, "SELECT id FROM notify_outbox WHERE dedupe_key = ?1");
    if (!st)
        return 0;
    sqlite3_bind_text(st, 1, dedupe_key, -1, SQLITE_STATIC);
    return sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
}

static int notify_queue(souk_ctx *ctx, const notify_message *m, int64_t *id, const char **error)
{
    const souk_host_api *api = notify_api;
    const char *bad = check_message(m);
    if (bad)
        return refuse(error, bad);
    int email = strcmp(m->channel, NOTIFY_EMAIL) == 0;
    const char *locale = m->locale ? m->locale : notify_cfg.default_locale;
    const char *err = NULL;
    const char *tpl = find_template(ctx, m, locale, &locale, &err);
    if (!tpl)
        return refuse(error, err);
    json_t *empty = m->data ? NULL : json_object();
    const char *text = api->render(ctx, tpl, locale, m->data ? m->data : empty, &err);
    json_decref(empty);
    if (!text)
        return refuse(error, err ? err : api->format(ctx, "%s: cannot render", tpl));

    char *copy = api->dup(ctx, text);
    const char *subject = NULL, *body = NULL;
    if (email) {
        if ((bad = notify_split_email(copy, &subject, &body)) != NULL)
            return refuse(error, api->format(ctx, "%s: %s", tpl, bad));
    } else {
        body = notify_trim(copy);
        if (!*body)
            return refuse(error, api->format(ctx, "%s: the text is empty", tpl));
    }

    json_t *headers = email ? email_headers(ctx, m) : json_object();
    char *headers_text = json_dumps(headers, JSON_COMPACT);
    json_decref(headers);
    if (!headers_text)
        return refuse(error, "out of memory");

    /* A dev channel in dev mode is delivered by being written down; anywhere
     * else the row waits for a worker (a dev channel outside dev mode waits
     * for the merchant to configure a real one: nothing is lost). */
    int64_t now = api->now_ms(ctx);
    int delivered = notify_transport_of(m->channel) == NOTIFY_VIA_DEV && notify_cfg.dev;
    sqlite3_stmt *st = api->db_prepare(
        ctx, "INSERT INTO notify_outbox(channel, recipient, message, locale, subject, body,"
             " headers, dedupe_key, state, transport, attempts, next_attempt_at, created_at,"
             " sent_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, ?13)"
             " ON CONFLICT(dedupe_key) DO NOTHING");
    if (!st) {
        free(headers_text);
        return refuse(error, "cannot queue the message: the outbox is not readable");
    }
    sqlite3_bind_text(st, 1, m->channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, m->to, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, m->message, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, locale, -1, SQLITE_STATIC);
    if (subject)
        sqlite3_bind_text(st, 5, subject, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, body, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, headers_text, -1, free);
    if (m->dedupe_key)
        sqlite3_bind_text(st, 8, m->dedupe_key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, delivered ? "sent" : "queued", -1, SQLITE_STATIC);
    if (delivered)
        sqlite3_bind_text(st, 10, "dev", -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 11, delivered ? 1 : 0);
    sqlite3_bind_int64(st, 12, now);
    if (delivered)
        sqlite3_bind_int64(st, 13, now);
    if (sqlite3_step(st) != SQLITE_DONE)
        return refuse(
            error, api->format(ctx, "cannot queue the message: %s", sqlite3_errmsg(api->db(ctx))));
    sqlite3 *db = api->db(ctx);
    int64_t row = sqlite3_changes(db) ? sqlite3_last_insert_rowid(db) : 0;
    if (!row) {
        /* Queued before under the same key: nothing more to do. */
        if (id)
            *id = existing_id(ctx, m->dedupe_key);
        return SOUK_OK;
    }
    if (id)
        *id = row;
    api->log(notify_self, SOUK_LOG_DEBUG, "message #%lld (%s, %s) %s", (long long)row, m->message,
             m->channel, delivered ? "recorded (dev)" : "queued");
    if (!delivered && api->on_done(ctx, on_done, NULL) != SOUK_OK)
        api->log(notify_self, SOUK_LOG_WARN,
                 "message #%lld: cannot ask to be woken after the commit; the next poll "
                 "delivers it",
                 (long long)row);
    return SOUK_OK;
}

const notify_v1 notify_service = {notify_queue};
