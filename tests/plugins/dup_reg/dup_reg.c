/* dup_reg.c -- registers what the demo plugin already registered, so that the
 * loader's refusals can be tested.  Which one comes from its settings,
 * settings.dup_reg.what:
 *   "route"       GET /demo/hello/:who (same as demo's route, other param name)
 *   "service"     service "demo" v1
 *   "identity"    a second identity resolver
 *   "command"     command demo-count
 *   "migration"   migration 1 twice
 *   "bad_route"   a route with an unknown method
 *   "undeclared"  looks up demo's service without depending on demo: must get
 *                 NULL (init fails if it does not) */
#include "../demo/demo.h"

#include <string.h>

static int dup_handler(souk_ctx *ctx)
{
    return SOUK_OK;
}
static json_t *dup_identity(souk_ctx *ctx)
{
    return NULL;
}
static int dup_command(souk_ctx *ctx, int argc, char **argv)
{
    return 0;
}
static const int dup_vtable = 1;

static int dup_reg_init(souk_plugin *self, const souk_host_api *api)
{
    const char *what = json_string_value(json_object_get(api->config(self), "what"));
    if (!what)
        return SOUK_OK;
    if (strcmp(what, "route") == 0) {
        souk_route r = {"GET", "/demo/hello/:who", dup_handler, NULL, 0, NULL};
        api->route_add(self, &r); /* the result is ignored on purpose */
    } else if (strcmp(what, "bad_route") == 0) {
        souk_route r = {"FETCH", "/dup", dup_handler, NULL, 0, NULL};
        api->route_add(self, &r);
    } else if (strcmp(what, "service") == 0) {
        api->service_register(self, DEMO_SERVICE, DEMO_SERVICE_VERSION, &dup_vtable);
    } else if (strcmp(what, "identity") == 0) {
        api->identity_set(self, dup_identity, NULL);
    } else if (strcmp(what, "command") == 0) {
        api->command_add(self, "demo-count", "again", dup_command);
    } else if (strcmp(what, "migration") == 0) {
        souk_migration m = {1, "one", "CREATE TABLE dup_reg_t(x)"};
        api->migration_add(self, &m);
        api->migration_add(self, &m);
    } else if (strcmp(what, "undeclared") == 0) {
        if (api->service_get(self, DEMO_SERVICE, DEMO_SERVICE_VERSION) != NULL)
            return SOUK_ERR;
    }
    return SOUK_OK;
}

SOUK_PLUGIN("dup_reg", "1.0.0", NULL, dup_reg_init, NULL);
