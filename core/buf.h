/* buf.h -- a growable byte buffer (heap).  Used for rendered pages, serialized
 * responses and anything built up piece by piece. */
#ifndef SOUK_BUF_H
#define SOUK_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct souk_buf {
    char *data; /* NUL-terminated whenever len > 0 or after souk_buf_cstr */
    size_t len, cap;
} souk_buf;

#define SOUK_BUF_INIT {NULL, 0, 0}

void souk_buf_reserve(souk_buf *b, size_t extra); /* aborts on out-of-memory */
void souk_buf_add(souk_buf *b, const void *p, size_t n);
void souk_buf_adds(souk_buf *b, const char *s);
void souk_buf_addc(souk_buf *b, char c);
void souk_buf_printf(souk_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s with & < > " ' escaped for HTML text and attribute values. */
void souk_buf_add_html(souk_buf *b, const char *s, size_t n);
/* The contents as a C string (never NULL; "" when empty).  Borrowed. */
const char *souk_buf_cstr(souk_buf *b);
/* Hand the storage to the caller (free() it); the buffer becomes empty. */
char *souk_buf_take(souk_buf *b, size_t *len);
void souk_buf_reset(souk_buf *b); /* len = 0, keep storage */
void souk_buf_free(souk_buf *b);

#endif
