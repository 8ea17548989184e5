/* channels.c -- a libcurl easy handle for one message: email through SMTP,
 * SMS through the HTTP webhook of a gateway; and the verdict on a finished one.
 * Only libcurl options here; the bytes come from message.c.  Handles are set up
 * on the loop; an SMTP handle then runs on a pool thread (pool.c), so its
 * callbacks (read_payload, smtp_progress) touch nothing but their transfer. */
#include "notify_internal.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USER_AGENT "souk-notify/1"
#define MS_PER_SECOND 1000
#define NS_PER_MS 1000000ULL

_Static_assert(sizeof(((notify_transfer *)0)->errbuf) >= CURL_ERROR_SIZE,
               "CURLOPT_ERRORBUFFER needs CURL_ERROR_SIZE bytes");

void notify_transfer_free(notify_transfer *t)
{
    if (!t)
        return;
    if (t->easy)
        curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->slist_rcpt);
    curl_slist_free_all(t->slist_headers);
    free(t->payload);
    free(t->channel);
    free(t->recipient);
    free(t->subject);
    free(t->body);
    free(t->headers);
    free(t);
}

/* The SMTP upload: libcurl pulls the message in pieces (and does the dot
 * stuffing of lines that start with "."). */
static size_t read_payload(char *out, size_t size, size_t n, void *udata)
{
    notify_transfer *t = udata;
    size_t room = size * n, left = t->payload_len - t->payload_off;
    size_t take = left < room ? left : room;
    memcpy(out, t->payload + t->payload_off, take);
    t->payload_off += take;
    return take;
}

/* Called by libcurl on the pool thread at least once a second, also inside its
 * blocking waits for an SMTP reply: a non-zero return ends the transfer.  It
 * ends when the worker stops (cut), and at timeout_ms whatever libcurl is
 * waiting for: CURLOPT_TIMEOUT_MS does not cover the QUIT at disconnect. */
static int smtp_progress(void *udata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                         curl_off_t ulnow)
{
    notify_transfer *t = udata;
    if (atomic_load(&t->cut))
        return 1;
    if (uv_hrtime() - t->started_ns >= (uint64_t)t->timeout_ms * NS_PER_MS) {
        t->timed_out = 1;
        return 1;
    }
    return 0;
}

/* The gateway's answer is not needed: only its status. */
static size_t discard(char *data, size_t size, size_t n, void *udata)
{
    return size * n;
}

static void common_options(CURL *e, notify_transfer *t, int64_t timeout_ms, const char *ca_file)
{
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
    if (ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, ca_file);
}

static int prepare_smtp(notify_transfer *t, CURL *e, char *err, size_t errlen)
{
    const notify_smtp_settings *s = &notify_cfg.smtp;
    json_t *headers = json_loads(t->headers ? t->headers : "{}", 0, NULL);
    notify_email m = {
        .from = s->from,
        .from_name = s->from_name ? s->from_name : notify_site_name(),
        .to = t->recipient,
        .subject = t->subject ? t->subject : "",
        .body = t->body,
        .date_ms = t->created_at,
        .headers = headers,
    };
    t->payload = notify_email_build(&m, &t->payload_len);
    json_decref(headers);
    char rcpt[NOTIFY_ADDRESS_MAX + 3], from[NOTIFY_ADDRESS_MAX + 3];
    snprintf(rcpt, sizeof rcpt, "<%s>", t->recipient);
    snprintf(from, sizeof from, "<%s>", s->from);
    t->slist_rcpt = curl_slist_append(NULL, rcpt);
    if (!t->payload || !t->slist_rcpt) {
        snprintf(err, errlen, "out of memory");
        return SOUK_ERR;
    }
    static const long use_ssl[] = {CURLUSESSL_ALL, CURLUSESSL_TRY, CURLUSESSL_NONE};
    common_options(e, t, s->timeout_ms, s->ca_file);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(e, CURLOPT_URL, s->url);
    curl_easy_setopt(e, CURLOPT_USE_SSL, use_ssl[s->starttls]);
    curl_easy_setopt(e, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(e, CURLOPT_MAIL_RCPT, t->slist_rcpt);
    if (s->username) {
        curl_easy_setopt(e, CURLOPT_USERNAME, s->username);
        curl_easy_setopt(e, CURLOPT_PASSWORD, s->password);
    }
    /* Each reply, those libcurl waits for synchronously (the final "." and
     * QUIT) included; smtp_progress bounds the whole. */
    long reply_s = (long)((s->timeout_ms + MS_PER_SECOND - 1) / MS_PER_SECOND);
    curl_easy_setopt(e, CURLOPT_SERVER_RESPONSE_TIMEOUT, reply_s);
    t->timeout_ms = s->timeout_ms;
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, smtp_progress);
    curl_easy_setopt(e, CURLOPT_XFERINFODATA, t);
    /* One connection per message, closed (QUIT) inside curl_easy_perform on
     * the pool thread: a handle that kept it would send QUIT, and wait for the
     * reply, wherever it is cleaned up. */
    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, read_payload);
    curl_easy_setopt(e, CURLOPT_READDATA, t);
    curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)t->payload_len);
    return SOUK_OK;
}

static int prepare_webhook(notify_transfer *t, CURL *e, char *err, size_t errlen)
{
    const notify_webhook_settings *w = &notify_cfg.webhook;
    const char *sender = w->sender ? w->sender : notify_site_name();
    t->payload = notify_webhook_body(t->id, t->recipient, t->body, sender);
    if (!t->payload) {
        snprintf(err, errlen, "out of memory");
        return SOUK_ERR;
    }
    t->payload_len = strlen(t->payload);
    int64_t timestamp = t->now_ms / MS_PER_SECOND;
    char sig[NOTIFY_SIGNATURE_MAX], line[NOTIFY_SIGNATURE_MAX + 64];
    notify_webhook_sign(w->secret, timestamp, t->payload, t->payload_len, sig);
    struct curl_slist *h = NULL, *next;
    const char *fixed[] = {"Content-Type: application/json", "Expect:"};
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) {
        if (!(next = curl_slist_append(h, fixed[i])))
            goto oom;
        h = next;
    }
    snprintf(line, sizeof line, "X-Souk-Timestamp: %lld", (long long)timestamp);
    if (!(next = curl_slist_append(h, line)))
        goto oom;
    h = next;
    snprintf(line, sizeof line, "X-Souk-Signature: %s", sig);
    if (!(next = curl_slist_append(h, line)))
        goto oom;
    h = next;
    snprintf(line, sizeof line, "Idempotency-Key: %lld", (long long)t->id);
    if (!(next = curl_slist_append(h, line)))
        goto oom;
    t->slist_headers = next;
    common_options(e, t, w->timeout_ms, w->ca_file);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_URL, w->url);
    curl_easy_setopt(e, CURLOPT_USERAGENT, USER_AGENT);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->slist_headers);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->payload);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)t->payload_len);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    return SOUK_OK;
oom:
    curl_slist_free_all(h);
    snprintf(err, errlen, "out of memory");
    return SOUK_ERR;
}

int notify_channel_prepare(notify_transfer *t, char *err, size_t errlen)
{
    CURL *e = curl_easy_init();
    if (!e) {
        snprintf(err, errlen, "libcurl: cannot create a handle");
        return SOUK_ERR;
    }
    t->easy = e;
    t->errbuf[0] = '\0';
    if (t->transport == NOTIFY_VIA_SMTP)
        return prepare_smtp(t, e, err, errlen);
    if (t->transport == NOTIFY_VIA_WEBHOOK)
        return prepare_webhook(t, e, err, errlen);
    snprintf(err, errlen, "no transport for channel %s", t->channel);
    return SOUK_ERR;
}

int notify_channel_result(notify_transfer *t, int curl_result, char *err, size_t errlen)
{
    if (curl_result != CURLE_OK && t->timed_out) {
        snprintf(err, errlen, "no answer from the SMTP server within %lld ms",
                 (long long)t->timeout_ms);
        return SOUK_ERR;
    }
    if (curl_result != CURLE_OK && atomic_load(&t->cut)) {
        snprintf(err, errlen, "cut short: the worker stopped");
        return SOUK_ERR;
    }
    if (curl_result != CURLE_OK) {
        snprintf(err, errlen, "%s",
                 t->errbuf[0] ? t->errbuf : curl_easy_strerror((CURLcode)curl_result));
        return SOUK_ERR;
    }
    if (t->transport == NOTIFY_VIA_WEBHOOK) {
        long status = 0;
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
        if (status < 200 || status > 299) {
            snprintf(err, errlen, "the gateway answered HTTP %ld", status);
            return SOUK_ERR;
        }
    }
    return SOUK_OK;
}
