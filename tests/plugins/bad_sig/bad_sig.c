/* bad_sig.c -- a plugin whose binary signature (type sizes) is not this souk's:
 * refused at load with "ABI signature mismatch". */
#include <souk/souk.h>

#define BAD_SIG_SIGNATURE "souk/1 ptr2 long2 int2 jansson2" /* no such build */

static int bad_sig_init(souk_plugin *self, const souk_host_api *api)
{
    return SOUK_OK;
}

SOUK_EXPORT const souk_plugin_desc bad_sig_descriptor __asm__(SOUK_PLUGIN_SYMBOL) = {
    SOUK_ABI_VERSION, BAD_SIG_SIGNATURE, "bad_sig", "1.0.0", NULL, bad_sig_init, NULL};
