/* tokenizer.c -- the FTS5 tokenizer "souk_stem": unicode61 + Snowball (ru, en).
 *
 * Segmentation and case folding are SQLite's own "unicode61" tokenizer (with
 * remove_diacritics 0, so that "й" stays "й" and is not folded into "и").  Each
 * token it yields is then
 *   1. cut to STEM_TOKEN_MAX bytes (at a character boundary): a pasted 10 kB
 *      "word" costs the index no more than a long real one;
 *   2. normalised: "ё" becomes "е" (Russian writes both for the same word);
 *   3. stemmed by the Snowball stemmer of its script: Cyrillic -> "russian",
 *      Latin -> "english"; tokens of other scripts, of mixed scripts, of digits only
 *      or longer than the limit are emitted as they are.
 * Documents and queries pass through the same steps, so "чайники" finds "чайник",
 * "Ёлка" finds "елка" and "running" finds "run".  A prefix query term ("чайн*") is
 * normalised but not stemmed: its stem would no longer be a prefix of anything.
 *
 * Each tokenizer instance (one per FTS5 table per connection) owns its two
 * stemmers; a stemmer keeps state between calls and must not be shared.  Workers
 * are single-threaded, and SQLite calls one instance from one thread at a time. */
#include "catalog_internal.h"

#include <libstemmer.h>
#include <stdlib.h>
#include <string.h>

#define STEM_TOKEN_MAX 128          /* bytes of a token kept and stemmed */
#define STEM_INNER "unicode61"      /* the wrapped tokenizer */
#define STEM_NAME "souk_stem"

typedef struct stem_tokenizer {
    fts5_tokenizer inner_methods;   /* unicode61's xCreate/xDelete/xTokenize */
    Fts5Tokenizer *inner;           /* our unicode61 instance */
    struct sb_stemmer *ru, *en;
} stem_tokenizer;

/* What the token callback needs: the caller's callback and context, the flags of
 * this xTokenize call (query, prefix) and a buffer for the normalised token. */
typedef struct stem_call {
    stem_tokenizer *tok;
    void *ctx;
    int (*emit)(void *ctx, int tflags, const char *token, int n, int start, int end);
    int flags;
    char buf[STEM_TOKEN_MAX];
} stem_call;

enum stem_script { SCRIPT_NONE, SCRIPT_CYRILLIC, SCRIPT_LATIN, SCRIPT_OTHER };

/* Length of the longest prefix of s (n bytes of valid UTF-8, as unicode61 yields)
 * that is at most max bytes and ends at a character boundary. */
static int utf8_cut(const char *s, int n, int max)
{
    if (n <= max)
        return n;
    int k = max;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
    return k;
}

/* "ё" (U+0451, D1 91) -> "е" (U+0435, D0 B5) and "Ё" (U+0401, D0 81) -> "Е"
 * (U+0415, D0 95), in place: both pairs have the same length.  unicode61 has
 * already folded the case, but the capital is mapped too so that the function
 * stays right on its own. */
static void map_yo(char *s, int n)
{
    for (int i = 0; i + 1 < n; i++) {
        unsigned char a = (unsigned char)s[i], b = (unsigned char)s[i + 1];
        if (a == 0xD1 && b == 0x91) {
            s[i] = (char)0xD0;
            s[i + 1] = (char)0xB5;
            i++;
        } else if (a == 0xD0 && b == 0x81) {
            s[i + 1] = (char)0x95;
            i++;
        }
    }
}

/* The one script of the token's letters (digits go with any script), or
 * SCRIPT_OTHER when letters of several or of another script are mixed in. */
static enum stem_script token_script(const char *s, int n)
{
    enum stem_script found = SCRIPT_NONE;
    for (int i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        enum stem_script here;
        int len;
        if (c < 0x80) {
            len = 1;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
                here = SCRIPT_LATIN;
            else if (c >= '0' && c <= '9')
                here = SCRIPT_NONE;
            else
                here = SCRIPT_OTHER;
        } else if ((c & 0xE0) == 0xC0 && i + 1 < n) {
            len = 2;
            unsigned cp = ((c & 0x1Fu) << 6) | ((unsigned char)s[i + 1] & 0x3Fu);
            if (cp >= 0x0400 && cp <= 0x052F)       /* Cyrillic (+ Supplement) */
                here = SCRIPT_CYRILLIC;
            else if (cp >= 0x00C0 && cp <= 0x024F && cp != 0x00D7 && cp != 0x00F7)
                here = SCRIPT_LATIN;                /* Latin-1 letters, Extended-A/B */
            else
                here = SCRIPT_OTHER;
        } else {
            return SCRIPT_OTHER;                    /* 3- and 4-byte characters */
        }
        if (here == SCRIPT_OTHER)
            return SCRIPT_OTHER;
        if (here != SCRIPT_NONE) {
            if (found != SCRIPT_NONE && found != here)
                return SCRIPT_OTHER;
            found = here;
        }
        i += len;
    }
    return found;
}

static int stem_on_token(void *pctx, int tflags, const char *token, int n, int start, int end)
{
    stem_call *call = pctx;
    int cut = utf8_cut(token, n, STEM_TOKEN_MAX);
    memcpy(call->buf, token, (size_t)cut);
    map_yo(call->buf, cut);
    const char *out = call->buf;
    int out_n = cut;

    struct sb_stemmer *stemmer = NULL;
    if (cut == n && !(call->flags & FTS5_TOKENIZE_PREFIX)) {
        switch (token_script(call->buf, cut)) {
        case SCRIPT_CYRILLIC: stemmer = call->tok->ru; break;
        case SCRIPT_LATIN: stemmer = call->tok->en; break;
        default: break;
        }
    }
    if (stemmer) {
        const sb_symbol *stem = sb_stemmer_stem(stemmer, (const sb_symbol *)call->buf, cut);
        if (!stem)
            return SQLITE_NOMEM;
        int len = sb_stemmer_length(stemmer);
        if (len > 0) {                 /* a stem is never empty; keep the word if it were */
            out = (const char *)stem;
            out_n = len;
        }
    }
    return call->emit(call->ctx, tflags, out, out_n, start, end);
}

static int stem_tokenize(Fts5Tokenizer *p, void *ctx, int flags, const char *text, int n,
                         int (*emit)(void *, int, const char *, int, int, int))
{
    stem_tokenizer *tok = (stem_tokenizer *)p;
    stem_call call = {.tok = tok, .ctx = ctx, .emit = emit, .flags = flags};
    return tok->inner_methods.xTokenize(tok->inner, &call, flags, text, n, stem_on_token);
}

static void stem_delete(Fts5Tokenizer *p)
{
    stem_tokenizer *tok = (stem_tokenizer *)p;
    if (!tok)
        return;
    if (tok->inner)
        tok->inner_methods.xDelete(tok->inner);
    sb_stemmer_delete(tok->ru);
    sb_stemmer_delete(tok->en);
    free(tok);
}

/* pctx is the connection's fts5_api (see catalog_tokenizer_register).  The
 * tokenizer takes no arguments: its behaviour is fixed because the index and
 * every query must agree on it. */
static int stem_create(void *pctx, const char **argv, int argc, Fts5Tokenizer **out)
{
    fts5_api *fts = pctx;
    *out = NULL;
    if (argc != 0)
        return SQLITE_ERROR;
    stem_tokenizer *tok = calloc(1, sizeof *tok);
    if (!tok)
        return SQLITE_NOMEM;
    void *inner_ctx = NULL;
    int rc = fts->xFindTokenizer(fts, STEM_INNER, &inner_ctx, &tok->inner_methods);
    if (rc != SQLITE_OK) {
        free(tok);
        return rc;
    }
    const char *inner_args[] = {"remove_diacritics", "0"};
    rc = tok->inner_methods.xCreate(inner_ctx, inner_args, 2, &tok->inner);
    if (rc != SQLITE_OK) {
        tok->inner = NULL;
        stem_delete((Fts5Tokenizer *)tok);
        return rc;
    }
    tok->ru = sb_stemmer_new("russian", NULL);   /* NULL: UTF-8 */
    tok->en = sb_stemmer_new("english", NULL);
    if (!tok->ru || !tok->en) {
        stem_delete((Fts5Tokenizer *)tok);
        return SQLITE_NOMEM;
    }
    *out = (Fts5Tokenizer *)tok;
    return SQLITE_OK;
}

static void tokenizer_log(const char *what, sqlite3 *db)
{
    if (catalog_api && catalog_self)
        catalog_api->log(catalog_self, SOUK_LOG_ERROR, "tokenizer %s: %s: %s", STEM_NAME, what,
                         sqlite3_errmsg(db));
}

int catalog_tokenizer_register(sqlite3 *db, void *udata)
{
    /* The documented way to reach FTS5's API from outside SQLite: the fts5()
     * function writes the pointer through a "fts5_api_ptr" pointer binding. */
    fts5_api *fts = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL) != SQLITE_OK) {
        tokenizer_log("SQLite has no FTS5", db);
        return SOUK_ERR;
    }
    sqlite3_bind_pointer(st, 1, (void *)&fts, "fts5_api_ptr", NULL);
    sqlite3_step(st);
    sqlite3_finalize(st);
    if (!fts || fts->iVersion < 2) {
        tokenizer_log("cannot reach the FTS5 API", db);
        return SOUK_ERR;
    }
    fts5_tokenizer methods = {stem_create, stem_delete, stem_tokenize};
    if (fts->xCreateTokenizer(fts, STEM_NAME, fts, &methods, NULL) != SQLITE_OK) {
        tokenizer_log("cannot register", db);
        return SOUK_ERR;
    }
    return SOUK_OK;
}
