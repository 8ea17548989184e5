/* import.c -- `souk import DIR FILE`: products, variants, categories and pickup
 * points from a native CSV or JSON file or a Shopify product export
 * (docs/catalog.md is the merchant's guide to the formats).
 *
 * The whole import is one transaction (BEGIN IMMEDIATE ... COMMIT):
 *   - without --strict, the good records are committed and each bad row is
 *     reported as FILE:LINE: reason;
 *   - with --strict, one bad row means nothing is written;
 *   - with --dry-run, everything is checked and written, then rolled back, so
 *     that the upserts themselves are exercised;
 *   - a problem with the file as a whole (not UTF-8, a CSV or JSON syntax error,
 *     an unknown column) writes nothing.
 * Exit status: 0 when nothing was wrong, or some records were imported and others
 * reported (without --strict); 1 when nothing could be imported, the file is
 * unusable, or --strict met a bad row; 2 for a usage error. */
#include "import.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define IMPORT_EXIT_OK 0
#define IMPORT_EXIT_FAIL 1
#define IMPORT_EXIT_USAGE 2

static const char USAGE[] =
    "usage: souk import DIR FILE [--format csv|json|shopify] [--dry-run] [--strict]\n"
    "                   [--lang ru|en] [--currency CODE]\n";

static const char HELP[] =
    "Import products, variants, categories and pickup points into the store.\n"
    "\n"
    "FILE is a native CSV file (one row per variant), a native JSON file, or a\n"
    "Shopify product export (CSV).  The format is taken from the extension and,\n"
    "for CSV, from the header (Shopify's has Handle and Variant SKU).\n"
    "Re-running an import is safe: products and categories are matched by slug,\n"
    "variants by SKU, pickup points by code, and only what differs is written.\n"
    "\n"
    "  --format F     csv, json or shopify instead of guessing\n"
    "  --dry-run      check and report everything, write nothing\n"
    "  --strict       write nothing if any row is bad (exit status 1)\n"
    "  --lang L       the language of a Shopify export's texts: ru (default) or en\n"
    "  --currency C   the currency of prices without one (default RUB)\n"
    "\n"
    "Bad rows are reported as FILE:LINE: reason.  Without --strict the good rows\n"
    "are imported (exit status 0) unless none was (exit status 1).\n"
    "See docs/catalog.md for the formats.\n";

/* ---------------------------------------------------------------- messages */

static void message(catalog_import *im, int line, const char *kind, const char *fmt, va_list ap)
{
    catalog_import_progress_clear(im);
    if (line > 0)
        fprintf(stderr, "%s:%d: %s", im->path, line, kind);
    else
        fprintf(stderr, "%s: %s", im->path, kind);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void catalog_import_error(catalog_import *im, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    message(im, line, "", fmt, ap);
    va_end(ap);
}

void catalog_import_warning(catalog_import *im, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    message(im, line, "warning: ", fmt, ap);
    va_end(ap);
    im->warnings++;
}

void catalog_import_fatal(catalog_import *im, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    message(im, line, "", fmt, ap);
    va_end(ap);
    im->fatal = 1;
}

/* ------------------------------------------------------------------ input */

/* The whole file, NUL-terminated (malloc'ed).  NULL with errno set. */
static char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct stat st;
    char *data = NULL;
    if (fstat(fileno(f), &st) != 0)
        goto out;
    if (!S_ISREG(st.st_mode)) {
        errno = EISDIR;
        goto out;
    }
    if ((uint64_t)st.st_size > CATALOG_IMPORT_FILE_MAX) {
        errno = EFBIG;
        goto out;
    }
    data = malloc((size_t)st.st_size + 1);
    if (!data)
        goto out;
    size_t n = fread(data, 1, (size_t)st.st_size, f);
    if (n != (size_t)st.st_size || ferror(f)) {
        free(data);
        data = NULL;
        errno = EIO;
        goto out;
    }
    data[n] = '\0';
    *size = n;
out:
    fclose(f);
    return data;
}

static catalog_import_format guess_format(const char *path, const char *data, size_t size)
{
    const char *dot = strrchr(path, '.');
    if (dot && strcasecmp(dot, ".json") == 0)
        return CATALOG_FORMAT_JSON;
    if (dot && (strcasecmp(dot, ".csv") == 0 || strcasecmp(dot, ".tsv") == 0 ||
                strcasecmp(dot, ".txt") == 0))
        return CATALOG_FORMAT_AUTO; /* native or Shopify: the header decides */
    size_t i = 0;
    if (size >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    while (i < size && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r'))
        i++;
    return i < size && data[i] == '{' ? CATALOG_FORMAT_JSON : CATALOG_FORMAT_AUTO;
}

/* ---------------------------------------------------------------- options */

typedef struct {
    const char *file;
    catalog_import_format format;
    int dry_run, strict, help;
    const char *lang;
    char currency[4];
} import_options;

static int parse_options(int argc, char **argv, import_options *o)
{
    memset(o, 0, sizeof *o);
    o->lang = CATALOG_IMPORT_DEFAULT_LANG;
    memcpy(o->currency, CATALOG_IMPORT_DEFAULT_CURRENCY, sizeof o->currency);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        char why[CATALOG_IMPORT_REASON_MAX];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            o->help = 1;
        } else if (strcmp(a, "--dry-run") == 0) {
            o->dry_run = 1;
        } else if (strcmp(a, "--strict") == 0) {
            o->strict = 1;
        } else if ((v = catalog_argv_option(argc, argv, &i, "--format"))) {
            if (!*v) {
                fprintf(stderr, "souk import: --format needs a value\n");
                return SOUK_ERR;
            }
            if (strcmp(v, "csv") == 0)
                o->format = CATALOG_FORMAT_CSV;
            else if (strcmp(v, "json") == 0)
                o->format = CATALOG_FORMAT_JSON;
            else if (strcmp(v, "shopify") == 0)
                o->format = CATALOG_FORMAT_SHOPIFY;
            else {
                fprintf(stderr, "souk import: --format: '%s' is not csv, json or shopify\n", v);
                return SOUK_ERR;
            }
        } else if ((v = catalog_argv_option(argc, argv, &i, "--lang"))) {
            if (!*v) {
                fprintf(stderr, "souk import: --lang needs a value\n");
                return SOUK_ERR;
            }
            if (strcmp(v, "ru") != 0 && strcmp(v, "en") != 0) {
                fprintf(stderr, "souk import: --lang: '%s' is not ru or en\n", v);
                return SOUK_ERR;
            }
            o->lang = v;
        } else if ((v = catalog_argv_option(argc, argv, &i, "--currency"))) {
            if (!*v) {
                fprintf(stderr, "souk import: --currency needs a value\n");
                return SOUK_ERR;
            }
            if (catalog_import_parse_currency(v, o->currency, why, sizeof why) != SOUK_OK) {
                fprintf(stderr, "souk import: --currency: %s\n", why);
                return SOUK_ERR;
            }
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "souk import: unknown option '%s'\n", a);
            return SOUK_ERR;
        } else if (o->file) {
            fprintf(stderr, "souk import: one file at a time ('%s' and '%s')\n", o->file, a);
            return SOUK_ERR;
        } else {
            o->file = a;
        }
    }
    if (!o->file && !o->help) {
        fprintf(stderr, "souk import: which file?\n");
        return SOUK_ERR;
    }
    return SOUK_OK;
}

/* ---------------------------------------------------------------- summary */

static void print_counts(const char *what, const catalog_import_counts *c)
{
    if (c->created + c->updated + c->unchanged > 0)
        printf("%s: %ld new, %ld updated, %ld unchanged\n", what, c->created, c->updated,
               c->unchanged);
}

static void summary(catalog_import *im, int written, double seconds)
{
    print_counts("categories", &im->categories);
    print_counts("pickup points", &im->pickups);
    if (im->warnings)
        printf("%ld warning%s\n", im->warnings, im->warnings == 1 ? "" : "s");
    if (im->fatal)
        printf("nothing was written: the file could not be imported\n");
    else if (im->dry_run)
        printf("dry run: nothing was written\n");
    else if (!written)
        printf("nothing was written: --strict and %ld bad row%s\n", im->bad_rows,
               im->bad_rows == 1 ? "" : "s");
    double rate = (double)im->rows / (seconds > 0.001 ? seconds : 0.001);
    printf("imported %ld products, %ld variants (%ld new, %ld updated, %ld unchanged), "
           "%ld errors in %.2f s (%.0f rows/s)\n",
           im->products, im->variants, im->items.created, im->items.updated, im->items.unchanged,
           im->bad_rows, seconds, rate);
    fflush(stdout);
}

/* --------------------------------------------------------------- command */

static int monotonic_ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (int)((t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000);
}

int catalog_cmd_import(souk_ctx *ctx, int argc, char **argv)
{
    const souk_host_api *api = catalog_api;
    import_options o;
    if (parse_options(argc, argv, &o) != SOUK_OK) {
        fputs(USAGE, stderr);
        return IMPORT_EXIT_USAGE;
    }
    if (o.help) {
        fputs(USAGE, stdout);
        fputs(HELP, stdout);
        return IMPORT_EXIT_OK;
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    size_t size = 0;
    char *data = read_file(o.file, &size);
    if (!data) {
        fprintf(stderr, "souk import: %s: %s\n", o.file,
                errno == EFBIG ? "larger than the import limit" : strerror(errno));
        return IMPORT_EXIT_FAIL;
    }

    catalog_import im;
    memset(&im, 0, sizeof im);
    im.ctx = ctx;
    im.path = o.file;
    im.format = o.format ? o.format : guess_format(o.file, data, size);
    im.dry_run = o.dry_run;
    im.strict = o.strict;
    im.lang = o.lang;
    memcpy(im.currency, o.currency, sizeof im.currency);
    im.data = data;
    im.size = size;
    im.tty = isatty(STDERR_FILENO);

    if (api->db_exec(ctx, "BEGIN IMMEDIATE") != SOUK_OK) {
        fprintf(stderr, "souk import: cannot start a write transaction (is the store busy?)\n");
        free(data);
        return IMPORT_EXIT_FAIL;
    }
    if (catalog_import_writer_open(&im) != SOUK_OK)
        catalog_import_fatal(&im, 0, "cannot prepare the import (see the log above)");
    if (!im.fatal) {
        if (im.format == CATALOG_FORMAT_JSON)
            catalog_import_read_json(&im);
        else
            catalog_import_read_csv(&im);
    }
    /* (not when --strict is about to roll everything back anyway) */
    if (!im.fatal && !(im.strict && im.bad_rows > 0) && catalog_import_reindex(&im) != SOUK_OK)
        catalog_import_fatal(&im, 0, "updating the search index failed (see the log above)");

    int write = !im.fatal && !im.dry_run && !(im.strict && im.bad_rows > 0);
    if (write && api->db_exec(ctx, "COMMIT") != SOUK_OK) {
        catalog_import_fatal(&im, 0, "the store did not accept the import (see the log above)");
        write = 0;
    }
    if (!write)
        api->db_exec(ctx, "ROLLBACK");
    catalog_import_writer_close(&im);
    catalog_import_progress_clear(&im);
    summary(&im, write, monotonic_ms_since(&t0) / 1000.0);
    free(data);

    long imported = im.products + im.variants + im.categories.created + im.categories.updated +
                    im.categories.unchanged + im.pickups.created + im.pickups.updated +
                    im.pickups.unchanged;
    if (im.fatal || (im.strict && im.bad_rows > 0) || (im.bad_rows > 0 && imported == 0))
        return IMPORT_EXIT_FAIL;
    return IMPORT_EXIT_OK;
}
