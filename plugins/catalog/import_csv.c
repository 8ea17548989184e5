/* import_csv.c -- CSV files through libcsv: lines, the header, and the rows of the
 * native format (one row per variant; docs/catalog.md).  Shopify exports go to
 * import_shopify.c once the header has given them away.
 *
 * libcsv runs in strict mode (a stray quote is an error, never a guess) and
 * accepts LF, CRLF and CR line ends.  It does not count lines, so the file is fed
 * to it one physical line at a time: the line of a row is the line being fed when
 * its first field ends, minus the line breaks inside that (quoted) field.
 *
 * What must stay true: a row is always reported by the line it starts on; a
 * syntax error stops the file (nothing is written: after a broken quote no later
 * row can be trusted). */
#include "import.h"

#include <csv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The native columns.  Those before C_SKU describe the product and must agree on
 * every row of a product; the others describe the row's variant. */
enum {
    C_SLUG,
    C_CATEGORY,
    C_CATEGORY_RU,
    C_CATEGORY_EN,
    C_BRAND,
    C_TITLE_RU,
    C_TITLE_EN,
    C_DESCRIPTION_RU,
    C_DESCRIPTION_EN,
    C_STATUS,
    C_FEATURED,
    C_ATTRIBUTES,
    C_ATTRIBUTES_RU,
    C_ATTRIBUTES_EN,
    C_IMAGES,
    C_SKU,
    C_OPTIONS,
    C_OPTIONS_EN,
    C_PRICE,
    C_CURRENCY,
    C_STOCK,
    C_COUNT
};

static const char *const COLUMNS[C_COUNT] = {
    "slug",     "category",   "category_ru",    "category_en",    "brand",
    "title_ru", "title_en",   "description_ru", "description_en", "status",
    "featured", "attributes", "attributes_ru",  "attributes_en",  "images",
    "sku",      "options",    "options_en",     "price",          "currency",
    "stock",
};

#define CSV_FIELDS_INITIAL 32
#define CSV_BUF_INITIAL 4096
#define CSV_COLUMN_LIST_MAX 512 /* the known columns, listed in a message */

typedef struct csv_reader {
    catalog_import *im;
    struct csv_parser parser;
    int line;     /* the physical line being fed (1-based) */
    int row_line; /* the line the current row started on */
    int end_line; /* the line the last complete row ended on */
    char *buf;    /* the current row's fields, each NUL-terminated */
    size_t len, cap;
    size_t *offs;  /* start of each field in buf */
    char **fields; /* pointers handed to the row functions */
    int nf, fields_cap;
    int overflow; /* the row has more than CATALOG_IMPORT_COLUMNS_MAX fields */
    int nul;      /* a field held a NUL byte */
    int have_header;
    int ncols;
    int col[C_COUNT]; /* header position of each native column, or -1 */
    catalog_shopify *sh;
    catalog_import_product *cur; /* the product being collected */
    char *first[C_SKU];          /* its product columns as its first row had them */
    int stop;                    /* a fatal problem: the rest is ignored */
} csv_reader;

/* -------------------------------------------------------------- callbacks */

static int reserve_fields(csv_reader *r)
{
    if (r->nf < r->fields_cap)
        return 0;
    int cap = r->fields_cap ? r->fields_cap * 2 : CSV_FIELDS_INITIAL;
    size_t *offs = realloc(r->offs, (size_t)cap * sizeof *offs);
    if (!offs)
        return -1;
    r->offs = offs;
    char **fields = realloc(r->fields, (size_t)cap * sizeof *fields);
    if (!fields)
        return -1;
    r->fields = fields;
    r->fields_cap = cap;
    return 0;
}

static int reserve_buf(csv_reader *r, size_t more)
{
    if (r->len + more <= r->cap)
        return 0;
    size_t cap = r->cap ? r->cap : CSV_BUF_INITIAL;
    while (r->len + more > cap)
        cap *= 2;
    char *b = realloc(r->buf, cap);
    if (!b)
        return -1;
    r->buf = b;
    r->cap = cap;
    return 0;
}

static void on_field(void *data, size_t len, void *ud)
{
    csv_reader *r = ud;
    if (r->stop)
        return;
    if (r->nf == 0) {
        size_t breaks = 0;
        for (size_t i = 0; i < len; i++)
            breaks += ((const char *)data)[i] == '\n';
        r->row_line = r->line - (int)breaks;
    }
    if (r->nf >= CATALOG_IMPORT_COLUMNS_MAX) {
        r->overflow = 1;
        return;
    }
    if (memchr(data, '\0', len))
        r->nul = 1;
    if (reserve_fields(r) != 0 || reserve_buf(r, len + 1) != 0) {
        catalog_import_fatal(r->im, r->line, "out of memory");
        r->stop = 1;
        return;
    }
    r->offs[r->nf++] = r->len;
    memcpy(r->buf + r->len, data, len);
    r->len += len;
    r->buf[r->len++] = '\0';
}

static int header_row(csv_reader *r, char **fields, int n);
static void native_row(csv_reader *r, int line, char **fields, int n);

static void on_row(int c, void *ud)
{
    csv_reader *r = ud;
    int n = r->nf, line = r->row_line;
    r->end_line = r->line;
    r->nf = 0;
    r->len = 0;
    int overflow = r->overflow, nul = r->nul;
    r->overflow = r->nul = 0;
    if (r->stop || n == 0)
        return;
    for (int i = 0; i < n; i++)
        r->fields[i] = r->buf + r->offs[i];
    int blank = 1;
    for (int i = 0; i < n && blank; i++)
        blank = r->fields[i][0] == '\0';
    if (blank)
        return; /* ",,,," rows that spreadsheets leave at the end */

    catalog_import *im = r->im;
    if (!r->have_header) {
        if (overflow || nul) {
            catalog_import_fatal(im, line, "the header %s",
                                 overflow ? "has too many columns" : "holds a NUL byte");
            r->stop = 1;
            return;
        }
        r->have_header = 1;
        r->ncols = n;
        if (header_row(r, r->fields, n) != SOUK_OK)
            r->stop = 1;
        return;
    }
    if (overflow || nul || n > r->ncols) {
        if (overflow)
            catalog_import_error(im, line, "more than %d fields", CATALOG_IMPORT_COLUMNS_MAX);
        else if (nul)
            catalog_import_error(im, line, "a field holds a NUL byte");
        else
            catalog_import_error(im, line,
                                 "%d fields, but the header has %d (a comma in a "
                                 "value must be inside double quotes)",
                                 n, r->ncols);
        im->bad_rows++;
        im->rows++;
        return;
    }
    if (r->sh) {
        if (catalog_shopify_row(r->sh, line, r->fields, n) != SOUK_OK)
            r->stop = 1;
    } else {
        native_row(r, line, r->fields, n);
    }
}

/* ------------------------------------------------------------------ header */

static void lower_trim(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    size_t skip = strspn(s, " \t");
    memmove(s, s + skip, n - skip + 1);
    for (char *p = s; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + ('a' - 'A'));
}

static int header_row(csv_reader *r, char **fields, int n)
{
    catalog_import *im = r->im;
    int line = r->row_line;
    for (int i = 0; i < n; i++)
        lower_trim(fields[i]);
    int handle = 0, variant_sku = 0;
    for (int i = 0; i < n; i++) {
        handle |= strcmp(fields[i], "handle") == 0;
        variant_sku |= strcmp(fields[i], "variant sku") == 0;
    }
    if (im->format == CATALOG_FORMAT_AUTO)
        im->format = handle && variant_sku ? CATALOG_FORMAT_SHOPIFY : CATALOG_FORMAT_CSV;
    if (im->format == CATALOG_FORMAT_SHOPIFY) {
        r->sh = catalog_shopify_new(im, fields, n);
        return r->sh ? SOUK_OK : SOUK_ERR;
    }

    for (int c = 0; c < C_COUNT; c++)
        r->col[c] = -1;
    for (int i = 0; i < n; i++) {
        if (!fields[i][0])
            continue; /* an unnamed column (a spreadsheet's leftover) is ignored */
        int c = 0;
        while (c < C_COUNT && strcmp(fields[i], COLUMNS[c]) != 0)
            c++;
        char q[CATALOG_IMPORT_QUOTE_BUF];
        if (c == C_COUNT) {
            char list[CSV_COLUMN_LIST_MAX] = "";
            for (int k = 0; k < C_COUNT; k++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", k ? ", " : "",
                         COLUMNS[k]);
            catalog_import_fatal(im, line, "unknown column '%s' (the columns are: %s)",
                                 catalog_import_quote(fields[i], q, sizeof q), list);
            return SOUK_ERR;
        }
        if (r->col[c] >= 0) {
            catalog_import_fatal(im, line, "column '%s' appears twice", COLUMNS[c]);
            return SOUK_ERR;
        }
        r->col[c] = i;
    }
    if (r->col[C_SLUG] < 0 || r->col[C_SKU] < 0) {
        catalog_import_fatal(im, line,
                             "the header has no '%s' column (a native import needs "
                             "at least slug and sku; see docs/catalog.md)",
                             r->col[C_SLUG] < 0 ? "slug" : "sku");
        return SOUK_ERR;
    }
    return SOUK_OK;
}

/* ------------------------------------------------------------- native rows */

static const char *cell(csv_reader *r, char **fields, int n, int c)
{
    int i = r->col[c];
    return i >= 0 && i < n ? fields[i] : "";
}

static void flush_product(csv_reader *r)
{
    if (!r->cur)
        return;
    if (catalog_import_write_product(r->im, r->cur) != SOUK_OK)
        r->stop = 1;
    r->cur = NULL;
    for (int c = 0; c < C_SKU; c++) {
        free(r->first[c]);
        r->first[c] = NULL;
    }
}

/* Report a bad value of column c. */
static void bad(csv_reader *r, int line, int c, const char *why)
{
    catalog_import_error(r->im, line, "%s: %s", COLUMNS[c], why);
}

/* attributes (the same in both languages), or attributes_ru / attributes_en
 * (stored as {"ru": {...}, "en": {...}}).  Returns the number of problems. */
static int attribute_columns(csv_reader *r, int line, char **fields, int n)
{
    catalog_import_product *p = r->cur;
    char why[CATALOG_IMPORT_REASON_MAX];
    const char *shared = cell(r, fields, n, C_ATTRIBUTES);
    const char *per[2] = {cell(r, fields, n, C_ATTRIBUTES_RU), cell(r, fields, n, C_ATTRIBUTES_EN)};
    if (*shared && (*per[0] || *per[1])) {
        bad(r, line, C_ATTRIBUTES, "give attributes or attributes_ru/attributes_en, not both");
        return 1;
    }
    if (*shared) {
        if (catalog_import_parse_pairs(shared, 0, &p->attributes, why, sizeof why) != SOUK_OK) {
            bad(r, line, C_ATTRIBUTES, why);
            return 1;
        }
        return 0;
    }
    if (!*per[0] && !*per[1])
        return 0;
    p->attributes = json_object();
    static const char *const langs[2] = {"ru", "en"};
    for (int l = 0; l < 2; l++) {
        json_t *one;
        if (!*per[l])
            continue;
        if (catalog_import_parse_pairs(per[l], 0, &one, why, sizeof why) != SOUK_OK) {
            bad(r, line, l ? C_ATTRIBUTES_EN : C_ATTRIBUTES_RU, why);
            return 1;
        }
        json_object_set_new(p->attributes, langs[l], one);
    }
    return 0;
}

/* The product columns of a product's first row.  Returns 0 when all are good. */
static int product_columns(csv_reader *r, int line, char **fields, int n)
{
    catalog_import_product *p = r->cur;
    char why[CATALOG_IMPORT_REASON_MAX];
    int errors = 0;
    const char *v;
    if (catalog_import_check_slug(p->slug, why, sizeof why) != SOUK_OK)
        bad(r, line, C_SLUG, why), errors++;
    if (*(v = cell(r, fields, n, C_CATEGORY))) {
        p->category_mode = CATALOG_FIELD_SET;
        p->category = strdup(v);
    }
    const char *names_ru = cell(r, fields, n, C_CATEGORY_RU);
    const char *names_en = cell(r, fields, n, C_CATEGORY_EN);
    if ((*names_ru || *names_en) && !*v)
        bad(r, line, *names_ru ? C_CATEGORY_RU : C_CATEGORY_EN, "names without a category path"),
            errors++;
    p->category_names_ru = *names_ru ? strdup(names_ru) : NULL;
    p->category_names_en = *names_en ? strdup(names_en) : NULL;
    p->category_names_mode = CATALOG_FIELD_SET;

    static const int text_cols[] = {C_BRAND, C_TITLE_RU, C_TITLE_EN};
    catalog_import_text *texts[] = {&p->brand, &p->title_ru, &p->title_en};
    for (int i = 0; i < 3; i++) {
        char *clean = NULL;
        if (catalog_import_clean_text(cell(r, fields, n, text_cols[i]), CATALOG_IMPORT_TEXT_MAX,
                                      &clean, why, sizeof why) != SOUK_OK)
            bad(r, line, text_cols[i], why), errors++;
        catalog_import_text_set(texts[i], CATALOG_FIELD_SET, clean);
        free(clean);
    }
    static const int html_cols[] = {C_DESCRIPTION_RU, C_DESCRIPTION_EN};
    catalog_import_text *html[] = {&p->description_ru, &p->description_en};
    for (int i = 0; i < 2; i++) {
        v = cell(r, fields, n, html_cols[i]);
        if (!*v)
            continue;
        if (strlen(v) > CATALOG_IMPORT_DESCRIPTION_MAX) {
            snprintf(why, sizeof why, "longer than %d bytes", CATALOG_IMPORT_DESCRIPTION_MAX);
            bad(r, line, html_cols[i], why), errors++;
            continue;
        }
        char *safe = catalog_sanitize_html(v);
        catalog_import_text_set(html[i], CATALOG_FIELD_SET, safe);
        free(safe);
    }
    if (*(v = cell(r, fields, n, C_STATUS))) {
        const char *status;
        if (catalog_import_parse_status(v, &status, why, sizeof why) != SOUK_OK)
            bad(r, line, C_STATUS, why), errors++;
        else
            catalog_import_text_set(&p->status, CATALOG_FIELD_SET, status);
    }
    if (*(v = cell(r, fields, n, C_FEATURED)) &&
        catalog_import_parse_bool(v, &p->featured, why, sizeof why) != SOUK_OK)
        bad(r, line, C_FEATURED, why), errors++;
    errors += attribute_columns(r, line, fields, n);
    if (*(v = cell(r, fields, n, C_IMAGES)) &&
        catalog_import_parse_images(v, &p->images, why, sizeof why) != SOUK_OK)
        bad(r, line, C_IMAGES, why), errors++;
    return errors;
}

/* The variant columns of any row.  Returns 0 when all are good. */
static int variant_columns(csv_reader *r, int line, char **fields, int n,
                           catalog_import_variant *var)
{
    catalog_import *im = r->im;
    char why[CATALOG_IMPORT_REASON_MAX];
    int errors = 0;
    const char *v = cell(r, fields, n, C_SKU);
    if (catalog_import_check_sku(v, why, sizeof why) != SOUK_OK)
        bad(r, line, C_SKU, why), errors++;
    var->sku = strdup(v);
    if (*(v = cell(r, fields, n, C_OPTIONS)) &&
        catalog_import_parse_pairs(v, 1, &var->options, why, sizeof why) != SOUK_OK)
        bad(r, line, C_OPTIONS, why), errors++;
    if (*(v = cell(r, fields, n, C_OPTIONS_EN)) &&
        catalog_import_parse_pairs(v, 1, &var->options_en, why, sizeof why) != SOUK_OK)
        bad(r, line, C_OPTIONS_EN, why), errors++;
    memcpy(var->currency, im->currency, sizeof var->currency);
    if (*(v = cell(r, fields, n, C_CURRENCY)) &&
        catalog_import_parse_currency(v, var->currency, why, sizeof why) != SOUK_OK)
        bad(r, line, C_CURRENCY, why), errors++;
    if (*(v = cell(r, fields, n, C_PRICE)) &&
        catalog_import_parse_price(v, catalog_import_currency_decimals(var->currency), &var->price,
                                   why, sizeof why) != SOUK_OK)
        bad(r, line, C_PRICE, why), errors++;
    if (*(v = cell(r, fields, n, C_STOCK)) &&
        catalog_import_parse_int(v, 0, CATALOG_IMPORT_STOCK_MAX, &var->stock, why, sizeof why) !=
            SOUK_OK)
        bad(r, line, C_STOCK, why), errors++;
    return errors;
}

static void native_row(csv_reader *r, int line, char **fields, int n)
{
    catalog_import *im = r->im;
    const char *slug = cell(r, fields, n, C_SLUG);
    if (!*slug) {
        catalog_import_error(im, line, "slug: empty (every row names its product)");
        im->bad_rows++;
        im->rows++;
        return;
    }
    if (r->cur && strcmp(r->cur->slug, slug) != 0)
        flush_product(r);
    if (r->stop)
        return;
    int row_bad = 0;
    if (!r->cur) {
        if (!(r->cur = catalog_import_product_new()) || !(r->cur->slug = strdup(slug)) ||
            !catalog_import_product_row(r->cur, line)) {
            catalog_import_fatal(im, line, "out of memory");
            r->stop = 1;
            return;
        }
        if (product_columns(r, line, fields, n))
            r->cur->bad = 1;
        for (int c = 0; c < C_SKU; c++)
            r->first[c] = strdup(cell(r, fields, n, c));
    } else {
        if (!catalog_import_product_row(r->cur, line)) {
            catalog_import_fatal(im, line, "out of memory");
            r->stop = 1;
            return;
        }
        /* a product's later rows may repeat its columns or leave them empty */
        for (int c = C_SLUG + 1; c < C_SKU; c++) {
            const char *v = cell(r, fields, n, c);
            if (*v && r->first[c] && strcmp(v, r->first[c]) != 0) {
                catalog_import_error(im, line,
                                     "%s: differs from line %d, the first row of "
                                     "product '%s' (leave it empty on the later rows)",
                                     COLUMNS[c], r->cur->rows[0].line, r->cur->slug);
                row_bad = 1;
            }
        }
    }
    if (r->cur->nvariants >= CATALOG_IMPORT_VARIANTS_MAX) {
        catalog_import_error(im, line, "product '%s' has more than %d variants", r->cur->slug,
                             CATALOG_IMPORT_VARIANTS_MAX);
        r->cur->rows[r->cur->nrows - 1].bad = 1;
        return;
    }
    catalog_import_variant *var = catalog_import_product_variant(r->cur);
    if (!var) {
        catalog_import_fatal(im, line, "out of memory");
        r->stop = 1;
        return;
    }
    if (variant_columns(r, line, fields, n, var) || row_bad)
        var->bad = 1;
}

/* ------------------------------------------------------------------ reader */

/* The delimiter: whichever of , ; TAB is most frequent outside quotes on the
 * first line (spreadsheets in Russian locales write ';'). */
static unsigned char guess_delimiter(const char *p, const char *end)
{
    int comma = 0, semi = 0, tab = 0, quoted = 0;
    for (; p < end && (quoted || (*p != '\n' && *p != '\r')); p++) {
        if (*p == '"')
            quoted = !quoted;
        else if (!quoted)
            comma += *p == ',', semi += *p == ';', tab += *p == '\t';
    }
    if (semi > comma && semi >= tab)
        return ';';
    if (tab > comma && tab > semi)
        return '\t';
    return ',';
}

static int space_only(unsigned char c)
{
    return c == CSV_SPACE;
}

int catalog_import_read_csv(catalog_import *im)
{
    csv_reader r;
    memset(&r, 0, sizeof r);
    r.im = im;
    const char *data = im->data, *end = im->data + im->size;
    if (im->size >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        data += 3; /* the byte order mark that spreadsheets put first */

    size_t bad_at;
    if (!souk_utf8_valid(data, (size_t)(end - data), &bad_at)) {
        int line = 1;
        for (const char *p = data; p < data + bad_at; p++)
            line += *p == '\n';
        catalog_import_fatal(im, line,
                             "not valid UTF-8 (save the file as UTF-8; spreadsheets "
                             "call it \"CSV UTF-8\")");
        return SOUK_ERR;
    }
    /* the progress's total: the lines after the header (an upper bound of the
     * rows, as a quoted value may span lines) */
    long lines = end > data && end[-1] != '\n';
    for (const char *p = data; p < end && (p = memchr(p, '\n', (size_t)(end - p))); p++)
        lines++;
    im->rows_estimate = lines > 1 ? lines - 1 : 1;
    catalog_import_progress_start(im);

    if (csv_init(&r.parser, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
        catalog_import_fatal(im, 0, "out of memory");
        return SOUK_ERR;
    }
    unsigned char delim = guess_delimiter(data, end);
    csv_set_delim(&r.parser, delim);
    if (delim == '\t')
        csv_set_space_func(&r.parser, space_only);

    int rc = SOUK_OK;
    r.line = 1;
    for (const char *p = data; p < end && !r.stop; r.line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl + 1 - p) : (size_t)(end - p);
        if (csv_parse(&r.parser, p, len, on_field, on_row, &r) != len) {
            catalog_import_fatal(im, r.line,
                                 "CSV syntax error: %s (a value with a quote, "
                                 "comma or line break must be in double quotes, its quotes "
                                 "doubled: \"a \"\"b\"\"\")",
                                 csv_strerror(csv_error(&r.parser)));
            r.stop = 1;
            break;
        }
        p += len;
        im->bytes_done = (size_t)(p - im->data);
    }
    if (!r.stop && csv_fini(&r.parser, on_field, on_row, &r) != 0) {
        /* the unfinished row started after the last complete one */
        catalog_import_fatal(im, r.end_line + 1,
                             "CSV syntax error: the file ends inside a "
                             "quoted value (a quote opened on this line or later is never "
                             "closed)");
        r.stop = 1;
    }
    if (!r.stop && !r.have_header) {
        catalog_import_fatal(im, 1, "the file is empty (expected a header row)");
        r.stop = 1;
    }
    if (!r.stop) {
        flush_product(&r);
        if (r.sh)
            catalog_shopify_finish(r.sh);
    }
    if (r.stop || im->fatal)
        rc = SOUK_ERR;
    catalog_import_product_free(r.cur);
    for (int c = 0; c < C_SKU; c++)
        free(r.first[c]);
    catalog_shopify_free(r.sh);
    csv_free(&r.parser);
    free(r.buf);
    free(r.offs);
    free(r.fields);
    return rc;
}
