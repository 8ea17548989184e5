/* settings.c -- settings.notify in souk.lua: every key, its type, bounds and
 * default.  An unknown key or a wrong value stops start-up with one line naming
 * the key, so a typo never silently turns delivery off.  docs/notify.md lists
 * the same keys; keep the two in step. */
#include "notify_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

notify_settings notify_cfg;

#define SECOND_MS 1000LL
#define MINUTE_MS (60 * SECOND_MS)
#define HOUR_MS (60 * MINUTE_MS)
#define DAY_MS (24 * HOUR_MS)

/* A value "env:NAME" is read from the environment variable NAME (secrets stay
 * out of souk.lua). */
#define ENV_PREFIX "env:"
#define ENV_NAME_MAX 128

typedef struct reader {
    souk_plugin *self;
    const souk_host_api *api;
} reader;

static int fail(const reader *r, const char *section, const char *key, const char *what)
{
    r->api->log(r->self, SOUK_LOG_ERROR, "souk.lua: settings.notify.%s%s%s: %s",
                section ? section : "", section ? "." : "", key, what);
    return SOUK_ERR;
}

static int check_known(const reader *r, json_t *obj, const char *section, const char *const *known,
                       size_t count)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        size_t i = 0;
        while (i < count && strcmp(known[i], k) != 0)
            i++;
        if (i == count)
            return fail(r, section, k, "unknown setting (see docs/notify.md)");
    }
    return SOUK_OK;
}

/* A whole number of the key within [min, max], or def when absent. */
static int get_number(const reader *r, json_t *obj, const char *section, const char *key,
                      int64_t def, int64_t min, int64_t max, int64_t *out)
{
    json_t *v = json_object_get(obj, key);
    *out = def;
    if (!v)
        return SOUK_OK;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
        char what[128];
        snprintf(what, sizeof what, "expected a whole number from %lld to %lld", (long long)min,
                 (long long)max);
        return fail(r, section, key, what);
    }
    *out = json_integer_value(v);
    return SOUK_OK;
}

/* A non-empty text, or NULL when absent; "env:NAME" is looked up.  *out is
 * yours (malloc). */
static int get_string(const reader *r, json_t *obj, const char *section, const char *key,
                      char **out)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v)
        return SOUK_OK;
    const char *s = json_string_value(v);
    if (!s || !*s)
        return fail(r, section, key, "expected a non-empty text");
    if (strncmp(s, ENV_PREFIX, strlen(ENV_PREFIX)) == 0) {
        const char *name = s + strlen(ENV_PREFIX);
        const char *value = *name && strlen(name) < ENV_NAME_MAX ? getenv(name) : NULL;
        if (!value || !*value) {
            char what[ENV_NAME_MAX + 64];
            snprintf(what, sizeof what, "the environment variable %.*s is not set", ENV_NAME_MAX,
                     name);
            return fail(r, section, key, what);
        }
        s = value;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < ' ' || *p == 0x7f)
            return fail(r, section, key, "contains a control character");
    *out = strdup(s);
    if (!*out)
        return fail(r, section, key, "out of memory");
    return SOUK_OK;
}

static int get_choice(const reader *r, json_t *obj, const char *section, const char *key,
                      const char *const *names, size_t count, int def, int *out,
                      const char *expected)
{
    json_t *v = json_object_get(obj, key);
    *out = def;
    if (!v)
        return SOUK_OK;
    const char *s = json_string_value(v);
    for (size_t i = 0; s && i < count; i++)
        if (names[i] && strcmp(names[i], s) == 0) {
            *out = (int)i;
            return SOUK_OK;
        }
    return fail(r, section, key, expected);
}

static int check_file(const reader *r, const char *section, const char *key, const char *path)
{
    if (path && access(path, R_OK) != 0)
        return fail(r, section, key, "the file does not exist or cannot be read");
    return SOUK_OK;
}

static json_t *get_section(const reader *r, json_t *conf, const char *key, int *bad)
{
    json_t *v = json_object_get(conf, key);
    *bad = 0;
    if (!v)
        return NULL;
    if (!json_is_object(v)) {
        fail(r, NULL, key, "expected a table { ... }");
        *bad = 1;
    }
    return v;
}

static int read_smtp(const reader *r, json_t *o, int used)
{
    static const char *const known[] = {"url",  "starttls",  "username", "password",
                                        "from", "from_name", "ca_file",  "timeout_ms"};
    static const char *const starttls[] = {"required", "try", "none"};
    notify_smtp_settings *s = &notify_cfg.smtp;
    if (check_known(r, o, "smtp", known, sizeof known / sizeof *known) != SOUK_OK ||
        get_string(r, o, "smtp", "url", &s->url) != SOUK_OK ||
        get_choice(r, o, "smtp", "starttls", starttls, 3, NOTIFY_STARTTLS_REQUIRED, &s->starttls,
                   "expected \"required\", \"try\" or \"none\"") != SOUK_OK ||
        get_string(r, o, "smtp", "username", &s->username) != SOUK_OK ||
        get_string(r, o, "smtp", "password", &s->password) != SOUK_OK ||
        get_string(r, o, "smtp", "from", &s->from) != SOUK_OK ||
        get_string(r, o, "smtp", "from_name", &s->from_name) != SOUK_OK ||
        get_string(r, o, "smtp", "ca_file", &s->ca_file) != SOUK_OK ||
        get_number(r, o, "smtp", "timeout_ms", 30 * SECOND_MS, 100, 10 * MINUTE_MS,
                   &s->timeout_ms) != SOUK_OK ||
        check_file(r, "smtp", "ca_file", s->ca_file) != SOUK_OK)
        return SOUK_ERR;
    if (s->url && strncmp(s->url, "smtp://", 7) != 0 && strncmp(s->url, "smtps://", 8) != 0)
        return fail(r, "smtp", "url", "expected smtp://HOST[:PORT] or smtps://HOST[:PORT]");
    if (s->url && strchr(s->url, ' '))
        return fail(r, "smtp", "url", "contains a space");
    const char *bad;
    if (s->from && (bad = notify_check_email(s->from)) != NULL)
        return fail(r, "smtp", "from", bad);
    if (!s->username != !s->password)
        return fail(r, "smtp", s->username ? "password" : "username",
                    "username and password go together");
    if (used && !s->url)
        return fail(r, "smtp", "url", "required when email = \"smtp\"");
    if (used && !s->from)
        return fail(r, "smtp", "from", "required when email = \"smtp\"");
    return SOUK_OK;
}

static int read_webhook(const reader *r, json_t *o, int used)
{
    static const char *const known[] = {"url", "secret", "sender", "ca_file", "timeout_ms"};
    notify_webhook_settings *w = &notify_cfg.webhook;
    if (check_known(r, o, "webhook", known, sizeof known / sizeof *known) != SOUK_OK ||
        get_string(r, o, "webhook", "url", &w->url) != SOUK_OK ||
        get_string(r, o, "webhook", "secret", &w->secret) != SOUK_OK ||
        get_string(r, o, "webhook", "sender", &w->sender) != SOUK_OK ||
        get_string(r, o, "webhook", "ca_file", &w->ca_file) != SOUK_OK ||
        get_number(r, o, "webhook", "timeout_ms", 10 * SECOND_MS, 100, 10 * MINUTE_MS,
                   &w->timeout_ms) != SOUK_OK ||
        check_file(r, "webhook", "ca_file", w->ca_file) != SOUK_OK)
        return SOUK_ERR;
    const char *bad;
    if (w->url && (bad = notify_check_url(w->url)) != NULL)
        return fail(r, "webhook", "url", bad);
    if (used && !w->url)
        return fail(r, "webhook", "url", "required when sms = \"webhook\"");
    if (used && !w->secret)
        return fail(r, "webhook", "secret", "required when sms = \"webhook\"");
    return SOUK_OK;
}

static const char *site_text(const char *key)
{
    const souk_host_api *api = notify_api;
    if (!api || !notify_self || !SOUK_API_HAS(api, site))
        return NULL;
    const char *s = json_string_value(json_object_get(api->site(notify_self), key));
    return s && *s ? s : NULL;
}

const char *notify_site_name(void)
{
    return site_text("name");
}

const char *notify_site_url(void)
{
    return site_text("url");
}

static int read_site(const reader *r)
{
    if (!SOUK_API_HAS(r->api, site))
        return SOUK_OK;
    json_t *site = r->api->site(r->self);
    notify_cfg.dev = json_is_true(json_object_get(site, "dev"));
    const char *locale = json_string_value(json_object_get(site, "locale"));
    notify_cfg.default_locale = strdup(locale ? locale : "ru");
    if (!notify_cfg.default_locale)
        return fail(r, NULL, "site", "out of memory");
    return SOUK_OK;
}

int notify_settings_read(souk_plugin *self, const souk_host_api *api)
{
    static const char *const known[] = {"email",         "sms",          "poll_ms",      "lease_ms",
                                        "retry_base_ms", "retry_max_ms", "max_attempts", "batch",
                                        "smtp_parallel", "smtp",         "webhook"};
    static const char *const email_via[] = {"dev", "smtp", NULL};
    static const char *const sms_via[] = {"dev", NULL, "webhook"};
    reader r = {self, api};
    json_t *conf = api->config(self);
    notify_settings_free();
    int64_t attempts, batch, smtp_parallel;
    if (check_known(&r, conf, NULL, known, sizeof known / sizeof *known) != SOUK_OK ||
        get_choice(&r, conf, NULL, "email", email_via, 3, NOTIFY_VIA_DEV, &notify_cfg.email,
                   "expected \"dev\" or \"smtp\"") != SOUK_OK ||
        get_choice(&r, conf, NULL, "sms", sms_via, 3, NOTIFY_VIA_DEV, &notify_cfg.sms,
                   "expected \"dev\" or \"webhook\"") != SOUK_OK ||
        get_number(&r, conf, NULL, "poll_ms", SECOND_MS, 50, HOUR_MS, &notify_cfg.poll_ms) !=
            SOUK_OK ||
        get_number(&r, conf, NULL, "lease_ms", 2 * MINUTE_MS, SECOND_MS, DAY_MS,
                   &notify_cfg.lease_ms) != SOUK_OK ||
        get_number(&r, conf, NULL, "retry_base_ms", 5 * SECOND_MS, 10, DAY_MS,
                   &notify_cfg.retry_base_ms) != SOUK_OK ||
        get_number(&r, conf, NULL, "retry_max_ms", HOUR_MS, 10, 7 * DAY_MS,
                   &notify_cfg.retry_max_ms) != SOUK_OK ||
        get_number(&r, conf, NULL, "max_attempts", 10, 1, 100, &attempts) != SOUK_OK ||
        get_number(&r, conf, NULL, "batch", 16, 1, NOTIFY_BATCH_MAX, &batch) != SOUK_OK ||
        get_number(&r, conf, NULL, "smtp_parallel", 2, 1, NOTIFY_SMTP_PARALLEL_MAX,
                   &smtp_parallel) != SOUK_OK)
        return SOUK_ERR;
    notify_cfg.max_attempts = (int)attempts;
    notify_cfg.batch = (int)batch;
    notify_cfg.smtp_parallel = (int)smtp_parallel;
    if (notify_cfg.retry_max_ms < notify_cfg.retry_base_ms)
        return fail(&r, NULL, "retry_max_ms", "must not be less than retry_base_ms");
    int bad = 0;
    json_t *smtp = get_section(&r, conf, "smtp", &bad);
    if (bad || read_smtp(&r, smtp, notify_cfg.email == NOTIFY_VIA_SMTP) != SOUK_OK)
        return SOUK_ERR;
    json_t *webhook = get_section(&r, conf, "webhook", &bad);
    if (bad || read_webhook(&r, webhook, notify_cfg.sms == NOTIFY_VIA_WEBHOOK) != SOUK_OK)
        return SOUK_ERR;
    /* A lease must outlive the transfer it covers, or a slow but healthy
     * delivery would be claimed and sent again by another worker. */
    if (notify_cfg.email == NOTIFY_VIA_SMTP &&
        notify_cfg.lease_ms <= notify_cfg.smtp.timeout_ms + NOTIFY_SMTP_OVERRUN_MS) {
        char what[128];
        snprintf(what, sizeof what,
                 "must be greater than smtp.timeout_ms + %d (an SMTP transfer may end up to "
                 "that long after its timeout)",
                 NOTIFY_SMTP_OVERRUN_MS);
        return fail(&r, NULL, "lease_ms", what);
    }
    if (notify_cfg.sms == NOTIFY_VIA_WEBHOOK &&
        notify_cfg.lease_ms <= notify_cfg.webhook.timeout_ms)
        return fail(&r, NULL, "lease_ms", "must be greater than webhook.timeout_ms");
    return read_site(&r);
}

void notify_settings_free(void)
{
    notify_smtp_settings *s = &notify_cfg.smtp;
    notify_webhook_settings *w = &notify_cfg.webhook;
    free(s->url);
    free(s->username);
    if (s->password)
        memset(s->password, 0, strlen(s->password));
    free(s->password);
    free(s->from);
    free(s->from_name);
    free(s->ca_file);
    free(w->url);
    if (w->secret)
        memset(w->secret, 0, strlen(w->secret));
    free(w->secret);
    free(w->sender);
    free(w->ca_file);
    free(notify_cfg.default_locale);
    memset(&notify_cfg, 0, sizeof notify_cfg);
}

int notify_transport_of(const char *channel)
{
    if (channel && strcmp(channel, NOTIFY_EMAIL) == 0)
        return notify_cfg.email;
    if (channel && strcmp(channel, NOTIFY_SMS) == 0)
        return notify_cfg.sms;
    return -1;
}

int notify_channel_active(const char *channel)
{
    int t = notify_transport_of(channel);
    return t > NOTIFY_VIA_DEV || (t == NOTIFY_VIA_DEV && notify_cfg.dev);
}

const char *notify_transport_name(int transport)
{
    switch (transport) {
    case NOTIFY_VIA_SMTP: return "smtp";
    case NOTIFY_VIA_WEBHOOK: return "webhook";
    default: return "dev";
    }
}
