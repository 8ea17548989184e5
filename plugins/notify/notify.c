/* notify.c -- the notify plugin: settings and registration.  The files and what
 * each owns are listed in notify_internal.h. */
#include "notify_internal.h"

const souk_host_api *notify_api;
souk_plugin *notify_self;

static int notify_register(souk_plugin *self, const souk_host_api *api)
{
    for (int i = 0; i < notify_migration_count; i++)
        if (api->migration_add(self, &notify_migrations[i]) != SOUK_OK)
            return SOUK_ERR;
    if (api->service_register(self, NOTIFY_SERVICE, NOTIFY_SERVICE_VERSION, &notify_service) !=
            SOUK_OK ||
        api->command_add(self, "outbox", "print the messages of the outbox (notify)",
                         notify_cmd_outbox) != SOUK_OK ||
        api->worker_hooks(self, notify_deliver_start, notify_deliver_stop, NULL) != SOUK_OK)
        return SOUK_ERR;
    return SOUK_OK;
}

static int notify_init(souk_plugin *self, const souk_host_api *api)
{
    notify_api = api;
    notify_self = self;
    /* site, worker_hooks, job_run, on_done, render and template_exists. */
    if (!SOUK_API_HAS(api, template_exists)) {
        api->log(self, SOUK_LOG_ERROR, "needs souk plugin ABI 1.3 or newer");
        return SOUK_ERR;
    }
    if (notify_settings_read(self, api) != SOUK_OK || notify_register(self, api) != SOUK_OK) {
        notify_settings_free(); /* fini is not called after a failed init */
        return SOUK_ERR;
    }
    return SOUK_OK;
}

static void notify_fini(souk_plugin *self)
{
    notify_settings_free();
    notify_api = NULL;
    notify_self = NULL;
}

SOUK_PLUGIN("notify", "1.0.0", NULL, notify_init, notify_fini);
