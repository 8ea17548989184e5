/* router.h -- method + path patterns with named parameters.
 *   "/products/:slug"   ":name" matches one non-empty segment
 *   "/static/" "*path"  "*name" as the last segment matches the rest of the path,
 *                       '/' included, possibly empty: "/static/" gives path "",
 *                       "/static/css/a.css" gives "css/a.css", "/static" does not
 *                       match)
 *   "/"                 the root only
 * Static segments win over parameters, parameters over wildcards, whatever the
 * order of registration; a branch that leads nowhere falls back to the next kind
 * ("/a/b/x" can match "/a/:p/x" next to "/a/b/y").  HEAD matches GET routes (a HEAD
 * route of the same shape is preferred).  A path that matches only another
 * method's route gives BAD_METHOD with an Allow list.
 *
 * Trailing slash is significant: "/a/" does not match "/a" (nor the reverse); the
 * application may redirect one to the other.  Paths are matched as given (already
 * percent-decoded by the server) and parameter values are not decoded again, so a
 * "%2F" in a request arrives as '/' and is a segment boundary like any other.
 *
 * Matching allocates nothing but the parameter values (in the request arena). */
#ifndef SOUK_ROUTER_H
#define SOUK_ROUTER_H

#include "arena.h"

#include <stddef.h>

#define SOUK_ROUTER_MAX_PARAMS 16    /* parameters in one pattern */
#define SOUK_ROUTER_MAX_SEGMENTS 32  /* segments in one pattern */
#define SOUK_ROUTER_MAX_METHODS 32   /* distinct methods in one router */

typedef struct souk_router souk_router;

typedef struct souk_param {
    const char *name;  /* borrowed from the router (a copy of the pattern's name,
                          valid until souk_router_free) */
    const char *value; /* arena */
} souk_param;

enum souk_route_result { SOUK_ROUTE_FOUND, SOUK_ROUTE_NOT_FOUND, SOUK_ROUTE_BAD_METHOD };

/* An empty router (yours: souk_router_free).  Aborts only on out-of-memory. */
souk_router *souk_router_new(void);
void souk_router_free(souk_router *r);
/* Add a route; data (borrowed) is returned by match.  method is a token, compared
 * exactly ("GET").  The pattern is copied.  -1 with err on a malformed method or
 * pattern (not starting with '/', an empty segment other than a trailing one, an
 * empty or non-[A-Za-z0-9_] parameter name, '*' not last, a repeated parameter
 * name, more than SOUK_ROUTER_MAX_PARAMS or SOUK_ROUTER_MAX_SEGMENTS), or when the
 * same method and shape (parameter names aside) is already taken. */
int souk_router_add(souk_router *r, const char *method, const char *pattern, void *data,
                    char *err, size_t errlen);
/* Match a decoded path.  On FOUND sets *data and params[0..*n_params) in pattern
 * order (params has room for SOUK_ROUTER_MAX_PARAMS).  On BAD_METHOD writes the
 * methods that match the path, sorted, with HEAD added when GET is there, into
 * allow ("GET, HEAD, POST"; cut to allowlen).  NOT_FOUND otherwise, also for a
 * path that does not start with '/'. */
int souk_router_match(const souk_router *r, const char *method, const char *path,
                      souk_arena *arena, void **data, souk_param *params, int *n_params,
                      char *allow, size_t allowlen);

#endif
