/* arena.c -- bump allocator; see arena.h. */
#include "arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct souk_arena_block {
    souk_arena_block *next;
    size_t size, used;
    max_align_t data[]; /* flexible, aligned for anything */
};

#define ARENA_ALIGN (_Alignof(max_align_t))

void souk_arena_init(souk_arena *a, size_t block_size)
{
    a->head = NULL;
    a->block_size = block_size ? block_size : 8192;
}

static void arena_oom(void)
{
    fputs("souk: out of memory\n", stderr);
    abort();
}

static souk_arena_block *block_new(size_t size)
{
    souk_arena_block *b = malloc(sizeof(*b) + size);
    if (!b)
        arena_oom();
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

void *souk_arena_alloc(souk_arena *a, size_t size)
{
    /* Rounding and the block header must not wrap around. */
    if (size > SIZE_MAX - sizeof(souk_arena_block) - ARENA_ALIGN)
        arena_oom();
    size = (size + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
    if (size == 0)
        size = ARENA_ALIGN;
    souk_arena_block *b = a->head;
    if (!b || b->size - b->used < size) {
        if (size > a->block_size / 2) {
            /* A large request gets a block of its own, linked behind the current
             * one so that the current block keeps serving small requests. */
            souk_arena_block *big = block_new(size);
            big->used = size;
            if (b) {
                big->next = b->next;
                b->next = big;
            } else {
                a->head = big;
            }
            return big->data;
        }
        b = block_new(a->block_size);
        b->next = a->head;
        a->head = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += size;
    return p;
}

char *souk_arena_strndup(souk_arena *a, const char *s, size_t n)
{
    char *d = souk_arena_alloc(a, n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *souk_arena_strdup(souk_arena *a, const char *s)
{
    return s ? souk_arena_strndup(a, s, strlen(s)) : NULL;
}

char *souk_arena_vprintf(souk_arena *a, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        n = 0;
    char *d = souk_arena_alloc(a, (size_t)n + 1);
    vsnprintf(d, (size_t)n + 1, fmt, ap);
    return d;
}

char *souk_arena_printf(souk_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *d = souk_arena_vprintf(a, fmt, ap);
    va_end(ap);
    return d;
}

void souk_arena_reset(souk_arena *a)
{
    souk_arena_block *b = a->head, *keep = NULL;
    while (b) {
        souk_arena_block *next = b->next;
        if (!keep && b->size == a->block_size) {
            keep = b;
        } else {
            free(b);
        }
        b = next;
    }
    if (keep) {
        keep->next = NULL;
        keep->used = 0;
    }
    a->head = keep;
}

void souk_arena_free(souk_arena *a)
{
    souk_arena_block *b = a->head;
    while (b) {
        souk_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
}
