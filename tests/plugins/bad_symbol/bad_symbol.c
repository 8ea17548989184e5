/* bad_symbol.c -- a plugin that calls a function nothing defines (as if it had
 * linked against the souk binary): dlopen(RTLD_NOW) fails with
 * "undefined symbol: bad_symbol_missing_function". */
#include <souk/souk.h>

extern int bad_symbol_missing_function(void);

static int bad_symbol_init(souk_plugin *self, const souk_host_api *api)
{
    return bad_symbol_missing_function();
}

SOUK_PLUGIN("bad_symbol", "1.0.0", NULL, bad_symbol_init, NULL);
