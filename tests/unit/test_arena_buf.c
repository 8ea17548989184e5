/* test_arena_buf.c -- core/arena.c (request arena) and core/buf.c (growable
 * buffer). */
#include "arena.h"
#include "buf.h"
#include "test.h"

#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define ALIGN (_Alignof(max_align_t))

/* A check on an operation that must not return (it must abort, as documented for
 * out-of-memory): run it in a child.  Returns 1 when the child died, 0 when the
 * call returned (a wrong answer) or hung (killed by the alarm). */
#define DEATH_TIMEOUT_S 5
#define DEATH_RETURNED 42
static int dies(void (*fn)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return 0;
    if (pid == 0) {
        alarm(DEATH_TIMEOUT_S);
        /* Keep the expected abort quiet. */
        if (!freopen("/dev/null", "w", stderr))
            _exit(1);
        fn();
        _exit(DEATH_RETURNED);
    }
    int st = 0;
    if (waitpid(pid, &st, 0) != pid)
        return 0;
    if (WIFEXITED(st) && WEXITSTATUS(st) == DEATH_RETURNED) {
        fprintf(stderr, "  the call returned instead of aborting\n");
        return 0;
    }
    if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM) {
        fprintf(stderr, "  the call hung (no answer within %d s)\n", DEATH_TIMEOUT_S);
        return 0;
    }
    return 1;
}

/* ------------------------------------------------------------------ arena */

TEST(arena_init)
{
    souk_arena a;
    souk_arena_init(&a, 0);
    CHECK_INT(a.block_size, 8192);
    CHECK(a.head == NULL);
    souk_arena_init(&a, 1000);
    CHECK_INT(a.block_size, 1000);
    CHECK(a.head == NULL);
    souk_arena_free(&a); /* freeing an arena that never allocated is fine */
    CHECK(a.head == NULL);
}

TEST(arena_alignment_and_separation)
{
    souk_arena a;
    souk_arena_init(&a, 256);
    enum { N = 500 };
    unsigned char *ptrs[N];
    size_t sizes[N];
    for (int i = 0; i < N; i++) {
        sizes[i] = (size_t)(i * 7) % 300; /* 0, small, and larger than half a block */
        ptrs[i] = souk_arena_alloc(&a, sizes[i]);
        CHECK(ptrs[i] != NULL);
        CHECK_INT((uintptr_t)ptrs[i] % ALIGN, 0);
        memset(ptrs[i], i & 0xff, sizes[i]);
    }
    /* Nothing overlaps: every allocation still holds its own fill. */
    for (int i = 0; i < N; i++) {
        for (size_t k = 0; k < sizes[i]; k++) {
            if (ptrs[i][k] != (unsigned char)(i & 0xff)) {
                CHECK(!"allocation overwritten");
                break;
            }
        }
    }
    /* Zero-size allocations are distinct, usable pointers. */
    void *z1 = souk_arena_alloc(&a, 0), *z2 = souk_arena_alloc(&a, 0);
    CHECK(z1 && z2 && z1 != z2);
    souk_arena_free(&a);
    CHECK(a.head == NULL);
}

TEST(arena_odd_block_size)
{
    /* A block size that is not a multiple of the alignment. */
    souk_arena a;
    souk_arena_init(&a, 100);
    for (int i = 1; i < 200; i++) {
        char *p = souk_arena_alloc(&a, (size_t)i % 60 + 1);
        CHECK_INT((uintptr_t)p % ALIGN, 0);
        memset(p, 'x', (size_t)i % 60 + 1);
    }
    souk_arena_free(&a);
}

TEST(arena_large)
{
    souk_arena a;
    souk_arena_init(&a, 1024);
    char *small1 = souk_arena_alloc(&a, 16);
    /* Larger than half a block: a block of its own ... */
    size_t big_n = 10 * 1024 * 1024;
    char *big = souk_arena_alloc(&a, big_n);
    CHECK_INT((uintptr_t)big % ALIGN, 0);
    memset(big, 'b', big_n);
    CHECK(big[0] == 'b' && big[big_n - 1] == 'b');
    /* ... while the current block keeps serving small requests (small2 comes
     * right after small1, whatever the rounding, not from a new block). */
    char *small2 = souk_arena_alloc(&a, 16);
    CHECK(small2 > small1 && small2 - small1 < 1024);
    char *big2 = souk_arena_alloc(&a, 600);
    memset(big2, 'c', 600);
    CHECK(big[big_n - 1] == 'b');
    /* Exactly one block's worth. */
    char *whole = souk_arena_alloc(&a, 1024);
    memset(whole, 'w', 1024);
    souk_arena_free(&a);

    /* A large allocation as the very first one. */
    souk_arena_init(&a, 1024);
    char *first = souk_arena_alloc(&a, 5000);
    memset(first, 'f', 5000);
    char *after = souk_arena_alloc(&a, 8);
    memset(after, 'a', 8);
    CHECK(first[4999] == 'f');
    souk_arena_free(&a);
}

TEST(arena_strings)
{
    souk_arena a;
    souk_arena_init(&a, 512);
    char src[] = "hello world";
    char *d = souk_arena_strdup(&a, src);
    src[0] = 'J';
    CHECK_STR(d, "hello world");
    CHECK(souk_arena_strdup(&a, NULL) == NULL);
    CHECK_STR(souk_arena_strdup(&a, ""), "");
    CHECK_STR(souk_arena_strndup(&a, "hello world", 5), "hello");
    CHECK_STR(souk_arena_strndup(&a, "abc", 0), "");
    /* strndup copies n bytes, NUL-terminates after them. */
    char *e = souk_arena_strndup(&a, "a\0b", 3);
    CHECK(e[0] == 'a' && e[1] == '\0' && e[2] == 'b' && e[3] == '\0');
    souk_arena_free(&a);
}

static char *vp(souk_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *vp(souk_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = souk_arena_vprintf(a, fmt, ap);
    va_end(ap);
    return s;
}

TEST(arena_printf)
{
    souk_arena a;
    souk_arena_init(&a, 256);
    CHECK_STR(souk_arena_printf(&a, "%s=%d", "n", 42), "n=42");
    CHECK_STR(souk_arena_printf(&a, "%s", ""), "");
    CHECK_STR(vp(&a, "%05.1f|%x|%c", 3.14159, 255u, 'z'), "003.1|ff|z");
    /* Longer than a block. */
    char longs[2000];
    memset(longs, 'q', sizeof longs - 1);
    longs[sizeof longs - 1] = '\0';
    char *p = souk_arena_printf(&a, "<%s>", longs);
    CHECK_INT(strlen(p), sizeof longs + 1);
    CHECK(p[0] == '<' && p[1] == 'q' && p[sizeof longs] == '>');
    CHECK_INT((uintptr_t)p % ALIGN, 0);
    souk_arena_free(&a);
}

TEST(arena_reset)
{
    souk_arena a;
    souk_arena_init(&a, 1024);
    /* Many "requests": the arena must not grow without bound (LeakSanitizer
     * checks the blocks freed by reset). */
    for (int round = 0; round < 200; round++) {
        for (int i = 0; i < 50; i++)
            memset(souk_arena_alloc(&a, 100), i, 100);
        memset(souk_arena_alloc(&a, 4096), 1, 4096);
        souk_arena_reset(&a);
        /* One ordinary block is kept for the next request. */
        CHECK(a.head != NULL);
    }
    /* The kept block is reused from its start. */
    char *p1 = souk_arena_alloc(&a, 32);
    souk_arena_reset(&a);
    char *p2 = souk_arena_alloc(&a, 32);
    CHECK(p1 == p2);
    souk_arena_free(&a);
    CHECK(a.head == NULL);

    /* An arena that only ever held large blocks keeps none. */
    souk_arena_init(&a, 1024);
    souk_arena_alloc(&a, 5000);
    souk_arena_alloc(&a, 6000);
    souk_arena_reset(&a);
    CHECK(a.head == NULL);
    memset(souk_arena_alloc(&a, 10), 0, 10);
    souk_arena_reset(&a);
    souk_arena_reset(&a); /* twice in a row is fine */
    /* Usable again after free. */
    souk_arena_free(&a);
    memset(souk_arena_alloc(&a, 10), 0, 10);
    souk_arena_free(&a);
}

/* Sizes whose rounding or block header would wrap around SIZE_MAX must abort like
 * any other impossible allocation, never return a small block. */
static void arena_alloc_wraps_rounding(void)
{
    souk_arena a;
    souk_arena_init(&a, 1024);
    souk_arena_alloc(&a, SIZE_MAX - 5); /* SIZE_MAX - 5 + 15 wraps */
}

static void arena_alloc_wraps_header(void)
{
    souk_arena a;
    souk_arena_init(&a, 1024);
    souk_arena_alloc(&a, SIZE_MAX - 20); /* the block header's size wraps */
}

TEST(arena_impossible_sizes)
{
    CHECK(dies(arena_alloc_wraps_rounding));
    CHECK(dies(arena_alloc_wraps_header));
}

/* ------------------------------------------------------------------- buf */

TEST(buf_add)
{
    souk_buf b = SOUK_BUF_INIT;
    CHECK_STR(souk_buf_cstr(&b), "");
    CHECK_INT(b.len, 0);
    souk_buf_adds(&b, "hello");
    souk_buf_addc(&b, ' ');
    souk_buf_add(&b, "world!!!", 5);
    CHECK_INT(b.len, 11);
    CHECK_STR(b.data, "hello world");
    CHECK_STR(souk_buf_cstr(&b), "hello world");
    souk_buf_add(&b, NULL, 0);
    souk_buf_adds(&b, "");
    CHECK_INT(b.len, 11);
    /* Binary data, NUL included. */
    souk_buf_add(&b, "\0x", 2);
    CHECK_INT(b.len, 13);
    CHECK(b.data[11] == '\0' && b.data[12] == 'x' && b.data[13] == '\0');
    souk_buf_free(&b);
    CHECK(b.data == NULL);
    CHECK_INT(b.len, 0);
    CHECK_INT(b.cap, 0);
}

TEST(buf_growth)
{
    souk_buf b = SOUK_BUF_INIT;
    for (int i = 0; i < 100000; i++)
        souk_buf_addc(&b, (char)('a' + i % 26));
    CHECK_INT(b.len, 100000);
    CHECK(b.cap > b.len);
    CHECK_INT(b.data[b.len], '\0');
    int ok = 1;
    for (int i = 0; i < 100000; i++)
        ok &= b.data[i] == (char)('a' + i % 26);
    CHECK(ok);
    /* reserve guarantees room for extra bytes plus the NUL. */
    souk_buf_reset(&b);
    souk_buf_reserve(&b, 300000);
    CHECK(b.cap >= 300001);
    char *before = b.data;
    for (int i = 0; i < 300000; i++)
        b.data[b.len++] = 'z';
    b.data[b.len] = '\0';
    CHECK(b.data == before);
    souk_buf_free(&b);
}

TEST(buf_printf)
{
    souk_buf b = SOUK_BUF_INIT;
    souk_buf_printf(&b, "%d-%s", 7, "x");
    souk_buf_printf(&b, "|%04x", 0xbeefu);
    CHECK_STR(b.data, "7-x|beef");
    CHECK_INT(b.len, 8);
    souk_buf_printf(&b, "%s", ""); /* nothing to add */
    CHECK_INT(b.len, 8);
    /* Output bigger than the current capacity. */
    char longs[5000];
    memset(longs, 'L', sizeof longs - 1);
    longs[sizeof longs - 1] = '\0';
    souk_buf_printf(&b, "[%s]", longs);
    CHECK_INT(b.len, 8 + sizeof longs + 1);
    CHECK(b.data[8] == '[' && b.data[b.len - 1] == ']' && b.data[b.len] == '\0');
    CHECK(strncmp(b.data, "7-x|beef[LLL", 12) == 0);
    souk_buf_free(&b);

    /* An empty printf on a fresh buffer leaves a valid empty string. */
    souk_buf e = SOUK_BUF_INIT;
    souk_buf_printf(&e, "%s", "");
    CHECK_STR(souk_buf_cstr(&e), "");
    souk_buf_free(&e);
}

TEST(buf_html)
{
    souk_buf b = SOUK_BUF_INIT;
    const char *in = "<a href=\"x\" title='y'>Tom & Jerry</a>";
    souk_buf_add_html(&b, in, strlen(in));
    CHECK_STR(b.data, "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;Tom &amp; Jerry&lt;/a&gt;");
    souk_buf_reset(&b);
    souk_buf_add_html(&b, "plain text", 10);
    CHECK_STR(b.data, "plain text");
    souk_buf_reset(&b);
    souk_buf_add_html(&b, "&&", 2);
    CHECK_STR(b.data, "&amp;&amp;");
    souk_buf_reset(&b);
    souk_buf_add_html(&b, "<", 1);
    CHECK_STR(b.data, "&lt;");
    souk_buf_reset(&b);
    /* Only n bytes, and UTF-8 passes through untouched. */
    souk_buf_add_html(&b, "caf\xc3\xa9<tail", 5);
    CHECK_STR(b.data, "caf\xc3\xa9");
    CHECK_INT(b.len, 5); /* "<" was past n */
    souk_buf_reset(&b);
    souk_buf_add_html(&b, "caf\xc3\xa9<tail", 6);
    CHECK_STR(b.data, "caf\xc3\xa9&lt;");
    souk_buf_reset(&b);
    souk_buf_add_html(&b, "", 0);
    CHECK_INT(b.len, 0);
    /* Appends after what is there. */
    souk_buf_adds(&b, "x=");
    souk_buf_add_html(&b, "\"1\"", 3);
    CHECK_STR(b.data, "x=&quot;1&quot;");
    souk_buf_free(&b);
}

TEST(buf_take_reset)
{
    souk_buf b = SOUK_BUF_INIT;
    souk_buf_adds(&b, "abc");
    size_t len = 0;
    char *t = souk_buf_take(&b, &len);
    CHECK_STR(t, "abc");
    CHECK_INT(len, 3);
    CHECK(b.data == NULL);
    CHECK_INT(b.len, 0);
    CHECK_INT(b.cap, 0);
    free(t);
    /* The buffer is usable after take. */
    souk_buf_adds(&b, "again");
    CHECK_STR(b.data, "again");
    /* take with no length wanted. */
    t = souk_buf_take(&b, NULL);
    CHECK_STR(t, "again");
    free(t);
    /* take of an empty buffer: an empty string to free, never NULL. */
    t = souk_buf_take(&b, &len);
    CHECK(t != NULL);
    CHECK_STR(t, "");
    CHECK_INT(len, 0);
    free(t);

    /* reset keeps the storage. */
    souk_buf_adds(&b, "some content");
    char *storage = b.data;
    size_t cap = b.cap;
    souk_buf_reset(&b);
    CHECK_INT(b.len, 0);
    CHECK(b.data == storage);
    CHECK_INT(b.cap, cap);
    CHECK_STR(souk_buf_cstr(&b), "");
    souk_buf_adds(&b, "new");
    CHECK_STR(b.data, "new");
    souk_buf_free(&b);
    souk_buf_reset(&b); /* on a freed buffer */
    CHECK_STR(souk_buf_cstr(&b), "");
    souk_buf_free(&b);
}

/* A reserve whose size cannot be had must abort, not return with too little room
 * (len + extra + 1 wrapping) nor loop forever (the doubling wrapping to 0). */
static void buf_reserve_wraps_sum(void)
{
    souk_buf b = SOUK_BUF_INIT;
    souk_buf_adds(&b, "x");
    souk_buf_reserve(&b, SIZE_MAX);
}

static void buf_reserve_wraps_doubling(void)
{
    souk_buf b = SOUK_BUF_INIT;
    souk_buf_reserve(&b, SIZE_MAX / 2 + 10);
}

TEST(buf_impossible_sizes)
{
    CHECK(dies(buf_reserve_wraps_sum));
    CHECK(dies(buf_reserve_wraps_doubling));
}

int main(void)
{
    RUN(arena_init);
    RUN(arena_alignment_and_separation);
    RUN(arena_odd_block_size);
    RUN(arena_large);
    RUN(arena_strings);
    RUN(arena_printf);
    RUN(arena_reset);
    RUN(arena_impossible_sizes);
    RUN(buf_add);
    RUN(buf_growth);
    RUN(buf_printf);
    RUN(buf_html);
    RUN(buf_take_reset);
    RUN(buf_impossible_sizes);
    return test_report();
}
