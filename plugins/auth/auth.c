/* auth.c -- the auth plugin: settings and registration.  The files and what each
 * owns are listed in auth_internal.h. */
#include "auth_internal.h"

#include <string.h>

const souk_host_api *auth_api;
souk_plugin *auth_self;
const notify_v1 *auth_notify;
auth_settings auth_cfg;

#define SECOND_MS 1000LL
#define MINUTE_MS (60 * SECOND_MS)
#define DAY_MS (24 * 3600 * SECOND_MS)

/* One numeric setting: its key in settings.auth, where it goes, its default and
 * the bounds a merchant may choose within (NIST SP 800-63B and ASVS set the outer
 * ones: a code lives at most 10 minutes, and so on). */
typedef struct num_setting {
    const char *key;
    int64_t *ms;   /* either ms ... */
    int *count;    /* ... or count */
    int64_t def, min, max;
} num_setting;

static int read_numbers(souk_plugin *self, const souk_host_api *api, json_t *conf)
{
    auth_settings *c = &auth_cfg;
    const num_setting list[] = {
        {"code_ttl_ms", &c->code_ttl_ms, NULL, 5 * MINUTE_MS, 30 * SECOND_MS, 10 * MINUTE_MS},
        {"code_tries", NULL, &c->code_tries, 5, 1, 10},
        {"resend_ms", &c->resend_ms, NULL, 60 * SECOND_MS, 0, 10 * MINUTE_MS},
        {"codes_per_destination", NULL, &c->codes_per_destination, 5, 1, 50},
        {"codes_per_ip", NULL, &c->codes_per_ip, 20, 1, 1000000},
        {"checks_per_ip", NULL, &c->checks_per_ip, 60, 1, 1000000},
        {"failures_per_account", NULL, &c->failures_per_account, 20, 1, 100},
        {"signup_window_ms", &c->signup_window_ms, NULL, 10 * MINUTE_MS, MINUTE_MS, DAY_MS},
        {"session_idle_ms", &c->session_idle_ms, NULL, 14 * DAY_MS, 5 * MINUTE_MS, 365 * DAY_MS},
        {"session_absolute_ms", &c->session_absolute_ms, NULL, 30 * DAY_MS, 5 * MINUTE_MS,
         365 * DAY_MS},
        {"touch_ms", &c->touch_ms, NULL, MINUTE_MS, 0, DAY_MS},
        {"phone_change_wait_ms", &c->phone_change_wait_ms, NULL, 14 * DAY_MS, MINUTE_MS,
         365 * DAY_MS},
        {"sweep_ms", &c->sweep_ms, NULL, MINUTE_MS, 50, DAY_MS},
    };
    for (size_t i = 0; i < sizeof list / sizeof *list; i++) {
        const num_setting *s = &list[i];
        json_t *v = json_object_get(conf, s->key);
        int64_t n = s->def;
        if (v) {
            if (!json_is_integer(v) || json_integer_value(v) < s->min ||
                json_integer_value(v) > s->max) {
                api->log(self, SOUK_LOG_ERROR,
                         "souk.lua: settings.auth.%s: expected a whole number from %lld to %lld",
                         s->key, (long long)s->min, (long long)s->max);
                return SOUK_ERR;
            }
            n = json_integer_value(v);
        }
        if (s->ms)
            *s->ms = n;
        else
            *s->count = (int)n;
    }
    return SOUK_OK;
}

/* Country calling codes of the regions whose national numbers we accept without
 * a "+".  A region outside the list must be added here with its trunk rules. */
static const struct { const char *region; int code; } regions[] = {
    {"RU", 7}, {"KZ", 7},
};

static int read_settings(souk_plugin *self, const souk_host_api *api)
{
    json_t *conf = api->config(self);
    const char *known[] = {"region", "terms_version", "code_ttl_ms", "code_tries", "resend_ms",
                           "codes_per_destination", "codes_per_ip", "checks_per_ip",
                           "failures_per_account", "signup_window_ms", "session_idle_ms",
                           "session_absolute_ms", "touch_ms", "phone_change_wait_ms",
                           "sweep_ms"};
    const char *k;
    json_t *v;
    json_object_foreach(conf, k, v) {
        size_t i = 0;
        while (i < sizeof known / sizeof *known && strcmp(known[i], k) != 0)
            i++;
        if (i == sizeof known / sizeof *known) {
            api->log(self, SOUK_LOG_ERROR, "souk.lua: settings.auth.%s: unknown setting", k);
            return SOUK_ERR;
        }
    }
    memset(&auth_cfg, 0, sizeof auth_cfg);
    if (read_numbers(self, api, conf) != SOUK_OK)
        return SOUK_ERR;
    json_t *region = json_object_get(conf, "region");
    const char *r = region ? json_string_value(region) : "RU";
    for (size_t i = 0; r && i < sizeof regions / sizeof *regions; i++)
        if (strcmp(regions[i].region, r) == 0) {
            memcpy(auth_cfg.region, r, 3);
            auth_cfg.country_code = regions[i].code;
        }
    if (!auth_cfg.country_code) {
        api->log(self, SOUK_LOG_ERROR,
                 "souk.lua: settings.auth.region: expected one of \"RU\", \"KZ\"");
        return SOUK_ERR;
    }
    json_t *terms = json_object_get(conf, "terms_version");
    const char *t = terms ? json_string_value(terms) : "2026-11-01";
    if (!t || !*t || strlen(t) >= sizeof auth_cfg.terms_version) {
        api->log(self, SOUK_LOG_ERROR,
                 "souk.lua: settings.auth.terms_version: expected a short text such as "
                 "\"2026-11-01\"");
        return SOUK_ERR;
    }
    strcpy(auth_cfg.terms_version, t);
    return SOUK_OK;
}

int auth_routes_add(souk_plugin *self, const souk_host_api *api, const souk_route *routes,
                    size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (api->route_add(self, &routes[i]) != SOUK_OK)
            return SOUK_ERR;
    return SOUK_OK;
}

static int auth_init(souk_plugin *self, const souk_host_api *api)
{
    auth_api = api;
    auth_self = self;
    if (!SOUK_API_HAS(api, commit_on_error)) {
        api->log(self, SOUK_LOG_ERROR, "needs souk plugin ABI 1.3 or newer");
        return SOUK_ERR;
    }
    if (read_settings(self, api) != SOUK_OK)
        return SOUK_ERR;
    auth_notify = api->service_get(self, NOTIFY_SERVICE, NOTIFY_SERVICE_VERSION);
    if (!auth_notify)
        return SOUK_ERR;
    for (int i = 0; i < auth_migration_count; i++)
        if (api->migration_add(self, &auth_migrations[i]) != SOUK_OK)
            return SOUK_ERR;
    if (api->identity_set(self, auth_identity, "/signin") != SOUK_OK ||
        api->service_register(self, AUTH_SERVICE, AUTH_SERVICE_VERSION, &auth_service) !=
            SOUK_OK)
        return SOUK_ERR;
    if (auth_signin_init(self, api) != SOUK_OK || auth_account_init(self, api) != SOUK_OK ||
        auth_contacts_init(self, api) != SOUK_OK || auth_prefs_init(self, api) != SOUK_OK ||
        auth_deletion_init(self, api) != SOUK_OK)
        return SOUK_ERR;
    return SOUK_OK;
}

static void auth_fini(souk_plugin *self)
{
    auth_api = NULL;
    auth_self = NULL;
    auth_notify = NULL;
}

static const char *const auth_depends[] = {"notify", NULL};

SOUK_PLUGIN("auth", "1.0.0", auth_depends, auth_init, auth_fini);
