/* cyc_a.c -- depends on cyc_b, which depends on cyc_a: loading both stops with
 * "dependency cycle". */
#include <souk/souk.h>

static int cyc_a_init(souk_plugin *self, const souk_host_api *api)
{
    return SOUK_OK;
}

static const char *const depends[] = {"cyc_b", NULL};

SOUK_PLUGIN("cyc_a", "1.0.0", depends, cyc_a_init, NULL);
