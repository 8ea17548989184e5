/* respcache.h -- the response cache of one worker: bodies of guest GET responses
 * that a handler declared reusable (api->res_cache), keyed by representation,
 * locale and request target.  Per process, no locking: each worker has its own.
 *
 * An entry is served while it is younger than its max age AND the database has not
 * changed since it was made: every lookup and insert carries the store's version
 * stamp (souk_store_version), and a stamp different from the cache's drops every
 * entry at once.  Bounded by entry count and total bytes; when full, the oldest
 * insert goes first (FIFO: entries live seconds, so recency buys little). */
#ifndef SOUK_RESPCACHE_H
#define SOUK_RESPCACHE_H

#include <stddef.h>
#include <stdint.h>

#define SOUK_RESPCACHE_ENTRIES 1024          /* responses kept per worker */
#define SOUK_RESPCACHE_BYTES (32u << 20)     /* their total size (keys + bodies) */

typedef struct souk_respcache souk_respcache;

/* A cached response, borrowed from the cache until its next put or clear. */
typedef struct souk_respcache_hit {
    const char *content_type;
    const char *body;
    size_t body_len;
} souk_respcache_hit;

/* NULL when out of memory.  max_entries and max_bytes must be > 0. */
souk_respcache *souk_respcache_new(size_t max_entries, size_t max_bytes);
void souk_respcache_free(souk_respcache *c);

/* The live entry for key: 1 with *out filled, or 0 (absent, expired, or the
 * database changed: version differs from the one the entries were made at). */
int souk_respcache_get(souk_respcache *c, const char *key, int64_t now_ms, uint64_t version,
                       souk_respcache_hit *out);

/* Keep a copy of the response (key, type and body are copied).  version is the
 * stamp taken BEFORE the response's data was read, so that a change committed
 * while it was being built makes it stale at once.  0, or -1 when it cannot be
 * kept (larger than the whole budget, out of memory). */
int souk_respcache_put(souk_respcache *c, const char *key, const char *content_type,
                       const char *body, size_t body_len, int64_t expires_at_ms,
                       uint64_t version);

/* Drop every entry (scripts reloaded, ...). */
void souk_respcache_clear(souk_respcache *c);

/* What the cache holds now: entries and bytes charged to the budget. */
size_t souk_respcache_count(const souk_respcache *c);
size_t souk_respcache_bytes(const souk_respcache *c);

#endif
