/* arena.h -- bump allocator for memory that lives exactly as long as one request. */
#ifndef SOUK_ARENA_H
#define SOUK_ARENA_H

#include <stdarg.h>
#include <stddef.h>

typedef struct souk_arena_block souk_arena_block;

typedef struct souk_arena {
    souk_arena_block *head; /* newest block first */
    size_t block_size;      /* size of ordinary blocks; larger requests get their own */
} souk_arena;

/* Initialise an empty arena (allocates nothing yet). */
void souk_arena_init(souk_arena *a, size_t block_size);
/* Memory aligned for any type; never NULL (aborts only on out-of-memory). */
void *souk_arena_alloc(souk_arena *a, size_t size);
char *souk_arena_strdup(souk_arena *a, const char *s);
char *souk_arena_strndup(souk_arena *a, const char *s, size_t n);
char *souk_arena_printf(souk_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
char *souk_arena_vprintf(souk_arena *a, const char *fmt, va_list ap);
/* Free every block but keep the first one for reuse (between requests). */
void souk_arena_reset(souk_arena *a);
/* Free everything. */
void souk_arena_free(souk_arena *a);

#endif
