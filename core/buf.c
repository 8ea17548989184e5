/* buf.c -- see buf.h. */
#include "buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void buf_oom(void)
{
    fputs("souk: out of memory\n", stderr);
    abort();
}

void souk_buf_reserve(souk_buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len - 1)
        buf_oom();
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *d = realloc(b->data, cap);
    if (!d) {
        fputs("souk: out of memory\n", stderr);
        abort();
    }
    b->data = d;
    b->cap = cap;
}

void souk_buf_add(souk_buf *b, const void *p, size_t n)
{
    /* p may point into b itself: remember where, in case reserve moves it. */
    if (b->data && (const char *)p >= b->data && (const char *)p < b->data + b->cap) {
        size_t off = (size_t)((const char *)p - b->data);
        souk_buf_reserve(b, n);
        p = b->data + off;
    } else {
        souk_buf_reserve(b, n);
    }
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void souk_buf_adds(souk_buf *b, const char *s) { souk_buf_add(b, s, strlen(s)); }

void souk_buf_addc(souk_buf *b, char c) { souk_buf_add(b, &c, 1); }

void souk_buf_printf(souk_buf *b, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n > 0) {
        souk_buf_reserve(b, (size_t)n);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
    }
    va_end(ap2);
}

void souk_buf_add_html(souk_buf *b, const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        const char *rep = NULL;
        switch (s[i]) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default: continue;
        }
        souk_buf_add(b, s + start, i - start);
        souk_buf_adds(b, rep);
        start = i + 1;
    }
    souk_buf_add(b, s + start, n - start);
}

const char *souk_buf_cstr(souk_buf *b)
{
    if (!b->data)
        souk_buf_reserve(b, 0), b->data[0] = '\0';
    return b->data;
}

char *souk_buf_take(souk_buf *b, size_t *len)
{
    souk_buf_cstr(b);
    char *d = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return d;
}

void souk_buf_reset(souk_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void souk_buf_free(souk_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
