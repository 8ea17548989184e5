/* bad_abi.c -- a plugin built for an ABI this souk does not have: refused at load
 * with "built for ABI 999, this souk has ABI 1". */
#include <souk/souk.h>

static int bad_abi_init(souk_plugin *self, const souk_host_api *api)
{
    return SOUK_OK;
}

SOUK_EXPORT const souk_plugin_desc bad_abi_descriptor __asm__(SOUK_PLUGIN_SYMBOL) = {
    999, SOUK_ABI_SIGNATURE, "bad_abi", "1.0.0", NULL, bad_abi_init, NULL};
