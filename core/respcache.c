/* respcache.c -- see respcache.h.  A chained hash table over the keys plus a
 * doubly linked list in insertion order for eviction.  Each entry is one
 * allocation: the struct, then key, content type and body as NUL-terminated
 * strings. */
#include "respcache.h"

#include <stdlib.h>
#include <string.h>

typedef struct rc_entry {
    struct rc_entry *next_in_bucket;
    struct rc_entry *older, *newer; /* insertion order */
    uint64_t hash;
    int64_t expires_at_ms;
    size_t size; /* bytes charged to the budget */
    const char *key, *content_type, *body;
    size_t body_len;
} rc_entry;

struct souk_respcache {
    rc_entry **buckets;
    size_t n_buckets; /* a power of two */
    rc_entry *oldest, *newest;
    size_t count, bytes;
    size_t max_entries, max_bytes;
    uint64_t version; /* stamp of the database the entries were made from */
};

static uint64_t key_hash(const char *s)
{
    /* FNV-1a, 64-bit: keys are short request targets. */
    uint64_t h = 14695981039346656037ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

souk_respcache *souk_respcache_new(size_t max_entries, size_t max_bytes)
{
    if (max_entries == 0 || max_bytes == 0)
        return NULL;
    souk_respcache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    /* Twice as many buckets as entries keeps the chains short. */
    c->n_buckets = 1;
    while (c->n_buckets < max_entries * 2)
        c->n_buckets <<= 1;
    c->buckets = calloc(c->n_buckets, sizeof *c->buckets);
    if (!c->buckets) {
        free(c);
        return NULL;
    }
    c->max_entries = max_entries;
    c->max_bytes = max_bytes;
    return c;
}

static void entry_remove(souk_respcache *c, rc_entry *e)
{
    rc_entry **p = &c->buckets[e->hash & (c->n_buckets - 1)];
    while (*p != e)
        p = &(*p)->next_in_bucket;
    *p = e->next_in_bucket;
    if (e->older)
        e->older->newer = e->newer;
    else
        c->oldest = e->newer;
    if (e->newer)
        e->newer->older = e->older;
    else
        c->newest = e->older;
    c->count--;
    c->bytes -= e->size;
    free(e);
}

void souk_respcache_clear(souk_respcache *c)
{
    if (!c)
        return;
    while (c->oldest)
        entry_remove(c, c->oldest);
}

void souk_respcache_free(souk_respcache *c)
{
    if (!c)
        return;
    souk_respcache_clear(c);
    free(c->buckets);
    free(c);
}

static rc_entry *entry_find(souk_respcache *c, const char *key, uint64_t h)
{
    for (rc_entry *e = c->buckets[h & (c->n_buckets - 1)]; e; e = e->next_in_bucket)
        if (e->hash == h && strcmp(e->key, key) == 0)
            return e;
    return NULL;
}

/* Entries made from another state of the database are all stale together. */
static void check_version(souk_respcache *c, uint64_t version)
{
    if (c->version != version) {
        souk_respcache_clear(c);
        c->version = version;
    }
}

int souk_respcache_get(souk_respcache *c, const char *key, int64_t now_ms, uint64_t version,
                       souk_respcache_hit *out)
{
    if (!c || !key)
        return 0;
    check_version(c, version);
    uint64_t h = key_hash(key);
    rc_entry *e = entry_find(c, key, h);
    if (!e)
        return 0;
    if (now_ms >= e->expires_at_ms) {
        entry_remove(c, e);
        return 0;
    }
    out->content_type = e->content_type;
    out->body = e->body;
    out->body_len = e->body_len;
    return 1;
}

int souk_respcache_put(souk_respcache *c, const char *key, const char *content_type,
                       const char *body, size_t body_len, int64_t expires_at_ms,
                       uint64_t version)
{
    if (!c || !key || !content_type || (!body && body_len))
        return -1;
    check_version(c, version);
    size_t klen = strlen(key), tlen = strlen(content_type);
    size_t size = sizeof(rc_entry) + klen + 1 + tlen + 1 + body_len + 1;
    if (size > c->max_bytes)
        return -1;
    uint64_t h = key_hash(key);
    rc_entry *old = entry_find(c, key, h);
    if (old)
        entry_remove(c, old);
    while (c->oldest && (c->count >= c->max_entries || c->bytes + size > c->max_bytes))
        entry_remove(c, c->oldest);
    rc_entry *e = malloc(size);
    if (!e)
        return -1;
    char *p = (char *)(e + 1);
    memcpy(p, key, klen + 1);
    e->key = p;
    p += klen + 1;
    memcpy(p, content_type, tlen + 1);
    e->content_type = p;
    p += tlen + 1;
    if (body_len)
        memcpy(p, body, body_len);
    p[body_len] = '\0';
    e->body = p;
    e->body_len = body_len;
    e->hash = h;
    e->expires_at_ms = expires_at_ms;
    e->size = size;
    size_t b = h & (c->n_buckets - 1);
    e->next_in_bucket = c->buckets[b];
    c->buckets[b] = e;
    e->newer = NULL;
    e->older = c->newest;
    if (c->newest)
        c->newest->newer = e;
    else
        c->oldest = e;
    c->newest = e;
    c->count++;
    c->bytes += size;
    return 0;
}

size_t souk_respcache_count(const souk_respcache *c) { return c ? c->count : 0; }
size_t souk_respcache_bytes(const souk_respcache *c) { return c ? c->bytes : 0; }
