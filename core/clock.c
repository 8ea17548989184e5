/* clock.c -- see clock.h. */
#include "clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

static int64_t clock_fixed;
static int clock_file_allowed;
static int64_t clock_offset;
static struct timespec clock_file_mtime;

void souk_clock_set_fixed(int64_t ms) { clock_fixed = ms; }
void souk_clock_allow_file(int allow) { clock_file_allowed = allow; }

static void clock_file_refresh(void)
{
    const char *path = getenv("SOUK_CLOCK_FILE");
    struct stat st;
    if (!path || !*path || stat(path, &st) != 0) {
        clock_offset = 0;
        return;
    }
    if (st.st_mtim.tv_sec == clock_file_mtime.tv_sec &&
        st.st_mtim.tv_nsec == clock_file_mtime.tv_nsec)
        return;
    clock_file_mtime = st.st_mtim;
    FILE *f = fopen(path, "r");
    long long off = 0;
    if (f) {
        if (fscanf(f, "%lld", &off) != 1)
            off = 0;
        fclose(f);
    }
    clock_offset = off;
}

int64_t souk_clock_now_ms(void)
{
    if (clock_fixed)
        return clock_fixed;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    if (clock_file_allowed) {
        clock_file_refresh();
        now += clock_offset;
    }
    return now;
}

uint64_t souk_clock_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t souk_clock_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}
