/* needs_missing.c -- depends on a plugin that is never configured: refused with
 * "depends on 'nonexistent', which is not configured". */
#include <souk/souk.h>

static int needs_missing_init(souk_plugin *self, const souk_host_api *api)
{
    return SOUK_OK;
}

static const char *const depends[] = {"nonexistent", NULL};

SOUK_EXPORT const souk_plugin_desc needs_missing_descriptor __asm__(SOUK_PLUGIN_SYMBOL) = {
    SOUK_ABI_VERSION,
    SOUK_ABI_SIGNATURE,
    "needs_missing",
    "1.0.0",
    depends,
    needs_missing_init,
    NULL};
