/* no_desc.c -- a shared object without the descriptor symbol (an ordinary
 * library put on the plugin path by mistake): refused at load. */
#include <souk/souk.h>

SOUK_EXPORT int no_desc_hello(void)
{
    return 42;
}
