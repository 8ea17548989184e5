/* bad_init.c -- a plugin whose init() fails: start-up stops with
 * "plugin 'bad_init': init failed" after the plugin's own log line. */
#include <souk/souk.h>

static int bad_init_init(souk_plugin *self, const souk_host_api *api)
{
    api->log(self, SOUK_LOG_ERROR, "refusing to start (on purpose)");
    return SOUK_ERR;
}

SOUK_PLUGIN("bad_init", "1.0.0", NULL, bad_init_init, NULL);
