/* gzip.c -- see gzip.h. */
#include "gzip.h"

#include <limits.h>
#include <zlib.h>

/* windowBits 15 is deflate's largest window; adding 16 asks zlib for the gzip
 * wrapper (header + CRC-32 trailer) instead of the zlib one. */
#define GZIP_WINDOW_BITS (15 + 16)
/* zlib's default memory level (8): more buys little for bodies of a few KiB. */
#define GZIP_MEM_LEVEL 8

int souk_gzip_compress(souk_arena *a, const void *src, size_t len, char **out, size_t *out_len)
{
    /* zlib counts in uInt: a body that does not fit is not compressed (bodies are
     * bounded far below that anyway). */
    if (len > UINT_MAX)
        return -1;
    z_stream zs = {0};
    if (deflateInit2(&zs, SOUK_GZIP_LEVEL, Z_DEFLATED, GZIP_WINDOW_BITS, GZIP_MEM_LEVEL,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    /* deflateBound() is an upper bound for one Z_FINISH call, gzip wrapper
     * included, so a single call always completes. */
    uLong bound = deflateBound(&zs, (uLong)len);
    if (bound > UINT_MAX) {
        deflateEnd(&zs);
        return -1;
    }
    char *dst = souk_arena_alloc(a, bound);
    zs.next_in = (Bytef *)src;
    zs.avail_in = (uInt)len;
    zs.next_out = (Bytef *)dst;
    zs.avail_out = (uInt)bound;
    int rc = deflate(&zs, Z_FINISH);
    size_t produced = zs.total_out;
    deflateEnd(&zs);
    if (rc != Z_STREAM_END)
        return -1;
    *out = dst;
    *out_len = produced;
    return 0;
}
