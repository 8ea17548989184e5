/* import_progress.c -- how far an import is, on stderr.
 *
 * On a terminal: one line redrawn in place at most every
 * CATALOG_IMPORT_PROGRESS_TTY_MS,
 *
 *   [##########..............]  42%  42,000/100,000 rows  35,120 rows/s  ETA 0:02
 *
 * Elsewhere (a log, a pipe, a test): a plain line each time another
 * CATALOG_IMPORT_PROGRESS_PLAIN_STEP percent of the file is done (files of at least
 * CATALOG_IMPORT_PROGRESS_PLAIN_MIN_ROWS rows) and at least every
 * CATALOG_IMPORT_PROGRESS_PLAIN_MS:
 *
 *   import: 42000/100000 rows (42%), 35120 rows/s, ETA 2 s
 *
 * The fraction done is the bytes read over the file size (exact even when quoted
 * values span lines); the row total is the file's line count, an upper bound.
 * Durations come from the monotonic clock, not the store clock (which tests may
 * stop). */
#include "import.h"

#include <time.h>

#define PROGRESS_PLAIN_MIN_ROWS 1000       /* smaller files get time-based lines only */
#define PROGRESS_PLAIN_MIN_BYTES (1 << 20) /* the same for files without a row count */
#define PROGRESS_NUM_MAX 32

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 1234567 -> "1,234,567" */
static const char *grouped(long v, char *buf)
{
    char digits[PROGRESS_NUM_MAX];
    int n = snprintf(digits, sizeof digits, "%ld", v < 0 ? 0 : v), o = 0;
    for (int i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

/* "7 s", "3:05", "1:02:03" */
static const char *eta_text(long s, char *buf, size_t size, int plain)
{
    if (s < 60 && plain)
        snprintf(buf, size, "%ld s", s);
    else if (s < 3600)
        snprintf(buf, size, "%ld:%02ld", s / 60, s % 60);
    else
        snprintf(buf, size, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    return buf;
}

void catalog_import_progress_start(catalog_import *im)
{
    im->started_ms = im->last_draw_ms = mono_ms();
    im->last_step = 0;
}

void catalog_import_progress_clear(catalog_import *im)
{
    if (!im->progress_shown)
        return;
    fputs("\r\x1b[K", stderr);
    fflush(stderr);
    im->progress_shown = 0;
}

void catalog_import_progress(catalog_import *im)
{
    int64_t now = mono_ms();
    double done = im->size ? (double)im->bytes_done / (double)im->size : 1.0;
    if (done > 1.0)
        done = 1.0;
    int percent = (int)(done * 100.0);
    int step = percent / CATALOG_IMPORT_PROGRESS_PLAIN_STEP;
    int due;
    if (im->tty) {
        due = now - im->last_draw_ms >= CATALOG_IMPORT_PROGRESS_TTY_MS;
    } else {
        int big = im->rows_estimate >= PROGRESS_PLAIN_MIN_ROWS ||
                  (im->rows_estimate < 0 && im->size >= PROGRESS_PLAIN_MIN_BYTES);
        due = (big && step > im->last_step && percent < 100) ||
              now - im->last_draw_ms >= CATALOG_IMPORT_PROGRESS_PLAIN_MS;
    }
    if (!due)
        return;
    im->last_draw_ms = now;
    im->last_step = step;

    int64_t elapsed = now - im->started_ms > 0 ? now - im->started_ms : 1;
    long rate = (long)((double)im->rows * 1000.0 / (double)elapsed);
    long eta = done > 0 ? (long)((double)elapsed * (1.0 - done) / done / 1000.0 + 0.5) : 0;
    char eta_buf[PROGRESS_NUM_MAX];
    if (!im->tty) {
        if (im->rows_estimate > 0)
            fprintf(stderr, "import: %ld/%ld rows (%d%%), %ld rows/s, ETA %s\n", im->rows,
                    im->rows_estimate, percent, rate, eta_text(eta, eta_buf, sizeof eta_buf, 1));
        else
            fprintf(stderr, "import: %ld records (%d%%), %ld records/s, ETA %s\n", im->rows,
                    percent, rate, eta_text(eta, eta_buf, sizeof eta_buf, 1));
        fflush(stderr);
        return;
    }
    char bar[CATALOG_IMPORT_PROGRESS_BAR_WIDTH + 1];
    int filled = (int)(done * CATALOG_IMPORT_PROGRESS_BAR_WIDTH);
    for (int i = 0; i < CATALOG_IMPORT_PROGRESS_BAR_WIDTH; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[CATALOG_IMPORT_PROGRESS_BAR_WIDTH] = '\0';
    char a[PROGRESS_NUM_MAX], b[PROGRESS_NUM_MAX], c[PROGRESS_NUM_MAX];
    if (im->rows_estimate > 0)
        fprintf(stderr, "\r[%s] %3d%%  %s/%s rows  %s rows/s  ETA %s\x1b[K", bar, percent,
                grouped(im->rows, a), grouped(im->rows_estimate, b), grouped(rate, c),
                eta_text(eta, eta_buf, sizeof eta_buf, 0));
    else
        fprintf(stderr, "\r[%s] %3d%%  %s records  %s records/s  ETA %s\x1b[K", bar, percent,
                grouped(im->rows, a), grouped(rate, c), eta_text(eta, eta_buf, sizeof eta_buf, 0));
    fflush(stderr);
    im->progress_shown = 1;
}
