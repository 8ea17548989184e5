/* gzip.h -- gzip (RFC 1952) compression of a response body with zlib.
 *
 * The server compresses a body when the response says it is compressible, the body
 * is at least SOUK_GZIP_MIN_SIZE bytes and the client's Accept-Encoding allows gzip.
 * Below that size the gzip header and trailer (18 bytes) and the cost of deflate
 * outweigh what is saved. */
#ifndef SOUK_GZIP_H
#define SOUK_GZIP_H

#include "arena.h"

#include <stddef.h>

/* Smallest body worth compressing, bytes. */
#define SOUK_GZIP_MIN_SIZE 1024
/* zlib compression level: 6 is zlib's own default, a good speed/size balance for
 * text generated per request. */
#define SOUK_GZIP_LEVEL 6

/* Compress src[0..len) into one gzip member allocated in the arena a.  On success
 * returns 0 with *out (arena memory, freed with the arena) and *out_len; returns -1
 * when zlib fails (out of memory), *out untouched. */
int souk_gzip_compress(souk_arena *a, const void *src, size_t len, char **out, size_t *out_len);

#endif
