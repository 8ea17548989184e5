/* metrics.c -- see metrics.h.
 *
 * Layout: one fixed-size area in a memfd, mapped MAP_SHARED by the master and every
 * worker.  It holds a header (magic, two global counters) and a table of slots, one
 * per (route label, method, status).  A process that counts a request finds the
 * slot by open addressing from a hash of the key; an empty slot is claimed with a
 * compare-and-swap on its state word (EMPTY -> CLAIMING), the key is written, and
 * the state is published as READY with a release store.  Slots are never freed, so
 * a key that is in the table is always found before the first EMPTY slot of its
 * probe sequence.  Counters are only ever added to with atomic builtins: no lock,
 * no system call in the hot path, and a worker that dies mid-update loses at most
 * that one request.
 *
 * Readers (render) copy READY slots with relaxed loads; the counters of one slot
 * may be a request apart from each other while a worker is updating them, which is
 * what Prometheus expects of a live scrape. */
#define _GNU_SOURCE
#include "metrics.h"

#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define METRICS_MAGIC 0x736f756bu /* "souk": a stray fd 5 is not our area */
#define METRICS_VERSION 1u        /* bump when the layout below changes */
#define METRICS_SLOTS SOUK_METRICS_SLOTS
#define METRICS_ROUTE_MAX 160 /* route label bytes kept (longer ones are cut) */
#define METRICS_METHOD_MAX 24 /* longest method llhttp knows is 11 bytes */
/* How often a process re-checks a slot another process is claiming before it
 * probes on.  The claimer only copies two short strings, so this is rarely reached:
 * when the claimer was preempted (or killed) in between.  Probing on may then claim a
 * second slot for the same key; render adds such twins together. */
#define METRICS_CLAIM_SPINS 64

/* Histogram upper bounds in microseconds, and the same bounds as Prometheus "le"
 * strings in seconds (written out so that the text is exact, not a float print). */
static const uint64_t bucket_us[] = {1000,   2500,   5000,   10000,   25000,   50000,
                                     100000, 250000, 500000, 1000000, 2500000, 5000000};
static const char *const bucket_le[] = {"0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
                                        "0.1",   "0.25",   "0.5",   "1",    "2.5",   "5"};
#define METRICS_BUCKETS (sizeof bucket_us / sizeof bucket_us[0])

enum { SLOT_EMPTY = 0, SLOT_CLAIMING = 1, SLOT_READY = 2 };

typedef struct metrics_slot {
    uint32_t state; /* SLOT_*; the only field written with CAS */
    int32_t status;
    char method[METRICS_METHOD_MAX];
    char route[METRICS_ROUTE_MAX];
    uint64_t count;                        /* requests */
    uint64_t sum_us;                       /* total latency, microseconds */
    uint64_t buckets[METRICS_BUCKETS + 1]; /* per bucket (not cumulative); last = +Inf */
} metrics_slot;

typedef struct metrics_area {
    uint32_t magic;
    uint32_t version;
    uint32_t nslots;
    uint32_t pad;
    uint64_t worker_restarts;
    uint64_t dropped; /* requests not counted: table full */
    metrics_slot slots[METRICS_SLOTS];
} metrics_area;

static metrics_area *area; /* NULL when not attached */

int souk_metrics_create(void)
{
    /* MFD_CLOEXEC: the master passes the area to its workers explicitly (uv_spawn
     * dup2()s it to fd 5, which clears the flag on the copy), and no other program
     * the master or a plugin may run should inherit it. */
    int fd = memfd_create("souk-metrics", MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    if (ftruncate(fd, (off_t)sizeof(metrics_area)) != 0) {
        close(fd);
        return -1;
    }
    /* The area is zero-filled (every slot EMPTY); stamp the header so that attach
     * can tell our area from any other file. */
    metrics_area hdr = {
        .magic = METRICS_MAGIC, .version = METRICS_VERSION, .nslots = METRICS_SLOTS};
    size_t hdr_len = offsetof(metrics_area, worker_restarts);
    if (pwrite(fd, &hdr, hdr_len, 0) != (ssize_t)hdr_len) {
        close(fd);
        return -1;
    }
    return fd;
}

int souk_metrics_attach(int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size < (off_t)sizeof(metrics_area))
        return -1;
    void *p = mmap(NULL, sizeof(metrics_area), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        return -1;
    metrics_area *a = p;
    if (a->magic != METRICS_MAGIC || a->version != METRICS_VERSION || a->nslots != METRICS_SLOTS) {
        munmap(p, sizeof(metrics_area));
        return -1;
    }
    souk_metrics_detach();
    area = a;
    return 0;
}

void souk_metrics_detach(void)
{
    if (area)
        munmap(area, sizeof(metrics_area));
    area = NULL;
}

/* Copy a label into a fixed field, cutting it at a UTF-8 character boundary so
 * that a long label never ends in half a character. */
static void label_copy(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* FNV-1a over the key, as stored (after cutting), so equal stored keys hash equal. */
static uint32_t key_hash(const char *route, const char *method, int status)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)route; *p; p++)
        h = (h ^ *p) * 16777619u;
    h = (h ^ 0xFFu) * 16777619u; /* separator: ("a","bc") != ("ab","c") */
    for (const unsigned char *p = (const unsigned char *)method; *p; p++)
        h = (h ^ *p) * 16777619u;
    h = (h ^ (uint32_t)status) * 16777619u;
    return h;
}

static int slot_matches(const metrics_slot *s, const char *route, const char *method, int status)
{
    return s->status == status && strcmp(s->method, method) == 0 && strcmp(s->route, route) == 0;
}

/* Find or claim the slot for a key; NULL when the table is full. */
static metrics_slot *slot_find(const char *route, const char *method, int status)
{
    uint32_t start = key_hash(route, method, status) % METRICS_SLOTS;
    for (uint32_t i = 0; i < METRICS_SLOTS; i++) {
        metrics_slot *s = &area->slots[(start + i) % METRICS_SLOTS];
        for (int spins = 0;; spins++) {
            uint32_t st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
            if (st == SLOT_READY) {
                if (slot_matches(s, route, method, status))
                    return s;
                break; /* someone else's key: probe on */
            }
            if (st == SLOT_EMPTY) {
                uint32_t expect = SLOT_EMPTY;
                if (__atomic_compare_exchange_n(&s->state, &expect, SLOT_CLAIMING, 0,
                                                __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
                    s->status = status;
                    memcpy(s->method, method, strlen(method) + 1);
                    memcpy(s->route, route, strlen(route) + 1);
                    __atomic_store_n(&s->state, SLOT_READY, __ATOMIC_RELEASE);
                    return s;
                }
                continue; /* lost the race: look again at what the winner wrote */
            }
            /* CLAIMING: the key is being written, which takes nanoseconds. */
            if (spins >= METRICS_CLAIM_SPINS)
                break;
            sched_yield();
        }
    }
    return NULL;
}

static uint64_t ms_to_us(double ms)
{
    if (!(ms > 0)) /* also NaN */
        return 0;
    if (ms > (double)(UINT64_MAX / 2000))
        return UINT64_MAX / 2;
    return (uint64_t)llround(ms * 1000.0);
}

void souk_metrics_request(const char *route, const char *method, int status, double ms)
{
    if (!area)
        return;
    char r[METRICS_ROUTE_MAX], m[METRICS_METHOD_MAX];
    label_copy(r, sizeof r, route ? route : "");
    label_copy(m, sizeof m, method ? method : "");
    metrics_slot *s = slot_find(r, m, status);
    if (!s) {
        __atomic_add_fetch(&area->dropped, 1, __ATOMIC_RELAXED);
        return;
    }
    uint64_t us = ms_to_us(ms);
    size_t b = 0;
    while (b < METRICS_BUCKETS && us > bucket_us[b])
        b++;
    __atomic_add_fetch(&s->buckets[b], 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&s->sum_us, us, __ATOMIC_RELAXED);
    __atomic_add_fetch(&s->count, 1, __ATOMIC_RELAXED);
}

void souk_metrics_worker_restart(void)
{
    if (area)
        __atomic_add_fetch(&area->worker_restarts, 1, __ATOMIC_RELAXED);
}

/* ---------------------------------------------------------------- rendering */

typedef struct render_buf {
    char *p;
    size_t len, cap;
    int failed;
} render_buf;

static void out_mem(render_buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->failed = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void out(render_buf *b, const char *s)
{
    out_mem(b, s, strlen(s));
}

static void outf(render_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void outf(render_buf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        out_mem(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* A label value: backslash, double quote and line feed are escaped, as the text
 * exposition format requires; everything else is written as is. */
static void out_label(render_buf *b, const char *v)
{
    out(b, "\"");
    for (const char *p = v; *p; p++) {
        if (*p == '\\')
            out(b, "\\\\");
        else if (*p == '"')
            out(b, "\\\"");
        else if (*p == '\n')
            out(b, "\\n");
        else
            out_mem(b, p, 1);
    }
    out(b, "\"");
}

static int slot_cmp(const void *a, const void *b)
{
    const metrics_slot *x = a, *y = b;
    int c = strcmp(x->route, y->route);
    if (c == 0)
        c = strcmp(x->method, y->method);
    if (c == 0)
        c = (x->status > y->status) - (x->status < y->status);
    return c;
}

static void out_sum_seconds(render_buf *b, uint64_t us)
{
    outf(b, "%llu.%06llu", (unsigned long long)(us / 1000000), (unsigned long long)(us % 1000000));
}

char *souk_metrics_render(size_t *len)
{
    /* Snapshot the READY slots, then sort them so that the output is stable and the
     * statuses of one route+method are adjacent (their histograms are summed). */
    metrics_slot *snap = NULL;
    size_t n = 0;
    uint64_t restarts = 0, dropped = 0;
    if (area) {
        snap = malloc(sizeof(metrics_slot) * METRICS_SLOTS);
        if (!snap)
            return NULL;
        for (size_t i = 0; i < METRICS_SLOTS; i++) {
            metrics_slot *s = &area->slots[i];
            if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != SLOT_READY)
                continue;
            metrics_slot *d = &snap[n++];
            d->status = s->status;
            memcpy(d->method, s->method, sizeof d->method);
            memcpy(d->route, s->route, sizeof d->route);
            d->count = __atomic_load_n(&s->count, __ATOMIC_RELAXED);
            d->sum_us = __atomic_load_n(&s->sum_us, __ATOMIC_RELAXED);
            for (size_t k = 0; k <= METRICS_BUCKETS; k++)
                d->buckets[k] = __atomic_load_n(&s->buckets[k], __ATOMIC_RELAXED);
        }
        restarts = __atomic_load_n(&area->worker_restarts, __ATOMIC_RELAXED);
        dropped = __atomic_load_n(&area->dropped, __ATOMIC_RELAXED);
        qsort(snap, n, sizeof *snap, slot_cmp);
        /* Twins (two slots for one key, see METRICS_CLAIM_SPINS) are adjacent now:
         * one series each, as the format requires. */
        size_t w = 0;
        for (size_t r = 0; r < n; r++) {
            if (w > 0 && slot_cmp(&snap[w - 1], &snap[r]) == 0) {
                snap[w - 1].count += snap[r].count;
                snap[w - 1].sum_us += snap[r].sum_us;
                for (size_t k = 0; k <= METRICS_BUCKETS; k++)
                    snap[w - 1].buckets[k] += snap[r].buckets[k];
            } else {
                snap[w++] = snap[r];
            }
        }
        n = w;
    }

    render_buf b = {0};
    out(&b, "# HELP souk_http_requests_total HTTP requests served, by route, method and "
            "status.\n# TYPE souk_http_requests_total counter\n");
    for (size_t i = 0; i < n; i++) {
        out(&b, "souk_http_requests_total{route=");
        out_label(&b, snap[i].route);
        out(&b, ",method=");
        out_label(&b, snap[i].method);
        outf(&b, ",status=\"%d\"} %llu\n", (int)snap[i].status, (unsigned long long)snap[i].count);
    }

    out(&b, "# HELP souk_http_request_duration_seconds HTTP request latency, by route "
            "and method.\n# TYPE souk_http_request_duration_seconds histogram\n");
    for (size_t i = 0; i < n;) {
        uint64_t buckets[METRICS_BUCKETS + 1] = {0}, sum_us = 0;
        size_t j = i;
        for (; j < n && strcmp(snap[j].route, snap[i].route) == 0 &&
               strcmp(snap[j].method, snap[i].method) == 0;
             j++) {
            for (size_t k = 0; k <= METRICS_BUCKETS; k++)
                buckets[k] += snap[j].buckets[k];
            sum_us += snap[j].sum_us;
        }
        uint64_t cumulative = 0;
        for (size_t k = 0; k <= METRICS_BUCKETS; k++) {
            cumulative += buckets[k];
            out(&b, "souk_http_request_duration_seconds_bucket{route=");
            out_label(&b, snap[i].route);
            out(&b, ",method=");
            out_label(&b, snap[i].method);
            outf(&b, ",le=\"%s\"} %llu\n", k < METRICS_BUCKETS ? bucket_le[k] : "+Inf",
                 (unsigned long long)cumulative);
        }
        out(&b, "souk_http_request_duration_seconds_sum{route=");
        out_label(&b, snap[i].route);
        out(&b, ",method=");
        out_label(&b, snap[i].method);
        out(&b, "} ");
        out_sum_seconds(&b, sum_us);
        out(&b, "\nsouk_http_request_duration_seconds_count{route=");
        out_label(&b, snap[i].route);
        out(&b, ",method=");
        out_label(&b, snap[i].method);
        /* _count is the +Inf bucket by definition; taking it from the same numbers
         * keeps the two equal even while workers are counting. */
        outf(&b, "} %llu\n", (unsigned long long)cumulative);
        i = j;
    }

    outf(&b,
         "# HELP souk_worker_restarts_total Workers restarted after they died.\n"
         "# TYPE souk_worker_restarts_total counter\nsouk_worker_restarts_total %llu\n",
         (unsigned long long)restarts);
    outf(&b,
         "# HELP souk_metrics_dropped_total Requests not counted because the metrics "
         "table was full.\n# TYPE souk_metrics_dropped_total counter\n"
         "souk_metrics_dropped_total %llu\n",
         (unsigned long long)dropped);
    free(snap);
    if (b.failed) {
        free(b.p);
        return NULL;
    }
    if (len)
        *len = b.len;
    return b.p;
}
