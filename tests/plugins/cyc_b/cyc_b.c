/* cyc_b.c -- depends on cyc_a, which depends on cyc_b: loading both stops with
 * "dependency cycle". */
#include <souk/souk.h>

static int cyc_b_init(souk_plugin *self, const souk_host_api *api)
{
    return SOUK_OK;
}

static const char *const depends[] = {"cyc_a", NULL};

SOUK_PLUGIN("cyc_b", "1.0.0", depends, cyc_b_init, NULL);
