/* mustache.c -- compiling Mustache templates into the tree of mustache_tree.h
 * (rendering is in mustache_render.c).
 *
 * One pass over the source: find the next tag with the current delimiters,
 * decide whether it is standalone, emit the text before it (trimmed when the tag
 * is standalone), then add the tag's node.  Open containers sit on a fixed stack
 * so that a closing tag can be matched and its kind known.
 *
 * Whitespace, as the spec wants it:
 *  - interpolation tags are never standalone;
 *  - any other tag is standalone when only blanks share its line: the blanks
 *    before it and the line end after it are removed; for a partial the blanks
 *    before it become its indentation, prepended at render time to every line
 *    of the partial (the partial is compiled once, never per indentation).
 * Inheritance (~inheritance, including its block reindentation cases):
 *  - text directly inside {{<parent}}...{{/parent}} is ignored, so a tag that
 *    touches that text on one side is "clear" on that side: a parent's opening
 *    tag only needs blanks before it, its closing tag only a line end after it,
 *    and that line end is removed only when the opening tag was clear too (an
 *    inline parent keeps the line end that follows it);
 *  - an argument block ({{$b}} directly inside a parent) whose opening tag ends
 *    its line starts its content on the next line; that line's leading blanks
 *    are the block's intrinsic indentation and are removed from the start of
 *    every line of the content ("outdent");
 *  - its closing tag drops the blanks before it but never a line end;
 *  - a parameter block ({{$b}} anywhere else) records the indentation to give
 *    to the lines of an argument that overrides it: when it stands alone on its
 *    line, the leading blanks of the next line (where its default content is
 *    indented); when only blanks precede it, those blanks (which stay in the
 *    output as text, so they apply from the argument's second line on).
 */
#include "mustache.h"
#include "mustache_tree.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Containers (sections, parents, blocks) open at once in one template.  Bounds
 * the compiler's stack and, with SOUK_MUSTACHE_MAX_DEPTH, the renderer's
 * recursion. */
#define SOUK_MUSTACHE_MAX_NESTING 100
/* Longest delimiter a set-delimiter tag may choose. */
#define SOUK_MUSTACHE_MAX_DELIM 16
/* Longest source: node and pool offsets are 32-bit, and the pool may hold the
 * text plus a copy of every name. */
#define SOUK_MUSTACHE_MAX_SOURCE ((size_t)INT32_MAX)
/* Longest piece of a tag quoted in an error message. */
#define SOUK_MUSTACHE_QUOTE_MAX 40

typedef struct open_tag {
    uint32_t node;               /* the container's node */
    uint8_t kind;                /* its node kind */
    uint8_t arg;                 /* a block directly inside a parent */
    uint8_t left_clear;          /* parent: only blanks before the opening tag */
    size_t name, name_len;       /* the opening tag's content, to match the close */
    size_t outdent, outdent_len; /* source blanks removed from each line start inside */
    uint32_t line;
} open_tag;

typedef struct tag {
    char sigil;        /* '#', '^', '/', '!', '>', '<', '$', '=', '&', '{', or 0 */
    size_t start, end; /* the whole tag, delimiters included */
    size_t cs, ce;     /* its content (after the sigil), trimmed except for comments */
    uint32_t line;
} tag;

typedef struct parser {
    const char *name, *src;
    size_t len;
    char otag[SOUK_MUSTACHE_MAX_DELIM], ctag[SOUK_MUSTACHE_MAX_DELIM];
    size_t olen, clen;
    souk_buf pool;
    souk_mnode *nodes;
    uint32_t nnodes, cap;
    open_tag stack[SOUK_MUSTACHE_MAX_NESTING];
    int depth;
    int bol;        /* the next node starts a line of the output */
    size_t counted; /* line numbers: src[0, counted) has line - 1 newlines */
    uint32_t line;
    char *err;
    size_t errlen;
} parser;

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static int quote_len(size_t n)
{
    return (int)(n < SOUK_MUSTACHE_QUOTE_MAX ? n : SOUK_MUSTACHE_QUOTE_MAX);
}

static int fail(parser *p, uint32_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(parser *p, uint32_t line, const char *fmt, ...)
{
    if (!p->err || !p->errlen)
        return -1;
    int n = snprintf(p->err, p->errlen, "%s:%u: ", p->name, line);
    if (n >= 0 && (size_t)n < p->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Tags are met in source order, so counting newlines forward is linear overall. */
static uint32_t line_at(parser *p, size_t pos)
{
    if (pos < p->counted) {
        p->counted = 0;
        p->line = 1;
    }
    for (const char *c = p->src + p->counted, *e = p->src + pos;
         (c = memchr(c, '\n', (size_t)(e - c))) != NULL; c++)
        p->line++;
    p->counted = pos;
    return p->line;
}

static size_t find(const char *s, size_t from, size_t len, const char *pat, size_t n)
{
    while (from + n <= len) {
        const char *c = memchr(s + from, pat[0], len - n + 1 - from);
        if (!c)
            break;
        if (memcmp(c, pat, n) == 0)
            return (size_t)(c - s);
        from = (size_t)(c - s) + 1;
    }
    return SIZE_MAX;
}

static int in_parent(const parser *p)
{
    return p->depth > 0 && p->stack[p->depth - 1].kind == SOUK_MN_PARENT;
}

static int add_node(parser *p, uint8_t kind, uint8_t flags, uint32_t line, uint32_t *out)
{
    if (p->nnodes == p->cap) {
        uint32_t cap = p->cap ? p->cap * 2 : 32;
        souk_mnode *n = realloc(p->nodes, cap * sizeof *n);
        if (!n)
            return fail(p, line, "out of memory");
        p->nodes = n;
        p->cap = cap;
    }
    souk_mnode *n = &p->nodes[p->nnodes];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->flags = flags;
    n->line = line;
    n->end = p->nnodes + 1;
    *out = p->nnodes++;
    return 0;
}

/* Only blanks between the start of t's line and t; *ls = where they start. */
static int left_clear(const parser *p, size_t t, size_t *ls)
{
    while (t > 0 && is_blank(p->src[t - 1]))
        t--;
    *ls = t;
    return t == 0 || p->src[t - 1] == '\n';
}

/* Only blanks between e and the end of its line; *after = start of the next line. */
static int right_clear(const parser *p, size_t e, size_t *after)
{
    while (e < p->len && is_blank(p->src[e]))
        e++;
    if (e == p->len) {
        *after = e;
        return 1;
    }
    if (p->src[e] == '\n' || (p->src[e] == '\r' && e + 1 < p->len && p->src[e + 1] == '\n')) {
        *after = e + (p->src[e] == '\r' ? 2 : 1);
        return 1;
    }
    return 0;
}

/* Skip the current outdent at a line start i (never past b). */
static size_t skip_outdent(const parser *p, size_t i, size_t b)
{
    if (!p->depth)
        return i;
    const open_tag *o = &p->stack[p->depth - 1];
    const char *od = p->src + o->outdent;
    for (size_t k = 0; k < o->outdent_len && i < b && p->src[i] == od[k]; k++)
        i++;
    return i;
}

/* Add the text src[a, b) to the current container, outdented line by line. */
static int emit_text(parser *p, size_t a, size_t b)
{
    if (a >= b || in_parent(p))
        return 0;
    const char *s = p->src;
    size_t start = p->pool.len, i = a;
    int at_line_start = a == 0 || s[a - 1] == '\n';
    while (i < b) {
        if (at_line_start)
            i = skip_outdent(p, i, b);
        const char *nl = memchr(s + i, '\n', b - i);
        size_t e = nl ? (size_t)(nl - s) + 1 : b;
        souk_buf_add(&p->pool, s + i, e - i);
        i = e;
        at_line_start = 1;
    }
    size_t n = p->pool.len - start;
    if (n == 0)
        return 0; /* only outdent: the line start passes to the next node */
    uint32_t ni;
    if (add_node(p, SOUK_MN_TEXT, p->bol ? SOUK_MN_BOL : 0, 0, &ni))
        return -1;
    p->nodes[ni].str = (uint32_t)start;
    p->nodes[ni].len = (uint32_t)n;
    p->bol = p->pool.data[p->pool.len - 1] == '\n';
    return 0;
}

/* Flags of a node that a standalone tag may carry: standalone, it owns its line;
 * inline, it may start one. */
static uint8_t place_flags(const parser *p, int standalone)
{
    if (standalone)
        return SOUK_MN_STANDALONE;
    return p->bol ? SOUK_MN_BOL : 0;
}

/* A line start that no node carries (see SOUK_MN_BOL). */
static int add_line_mark(parser *p)
{
    uint32_t ni;
    if (p->bol && !in_parent(p) && add_node(p, SOUK_MN_TEXT, SOUK_MN_BOL, 0, &ni))
        return -1;
    p->bol = 0;
    return 0;
}

static int check_name(parser *p, const tag *tg, size_t a, const char *what)
{
    if (a == tg->ce)
        return fail(p, tg->line, "empty %s name", what);
    for (size_t i = a; i < tg->ce; i++)
        if (is_space(p->src[i]))
            return fail(p, tg->line, "invalid %s name '%.*s'", what, quote_len(tg->ce - a),
                        p->src + a);
    return 0;
}

static void put_name(parser *p, uint32_t ni, size_t a, size_t b)
{
    p->nodes[ni].str = (uint32_t)p->pool.len;
    p->nodes[ni].len = (uint32_t)(b - a);
    souk_buf_add(&p->pool, p->src + a, b - a);
    souk_buf_addc(&p->pool, '\0');
}

/* A dotted name (already checked by check_name): its parts, NUL-terminated. */
static int put_dotted(parser *p, const tag *tg, uint32_t ni, size_t a, size_t b)
{
    const char *s = p->src;
    uint32_t off = (uint32_t)p->pool.len;
    unsigned parts = 0;
    if (b - a == 1 && s[a] == '.') {
        souk_buf_add(&p->pool, ".", 2); /* the implicit iterator: no parts */
    } else {
        size_t st = a;
        for (size_t i = a; i <= b; i++) {
            if (i < b && s[i] != '.')
                continue;
            if (i == st || parts == UINT16_MAX)
                return fail(p, tg->line, "invalid name '%.*s'", quote_len(b - a), s + a);
            souk_buf_add(&p->pool, s + st, i - st);
            souk_buf_addc(&p->pool, '\0');
            parts++;
            st = i + 1;
        }
    }
    p->nodes[ni].str = off;
    p->nodes[ni].len = (uint32_t)(b - a);
    p->nodes[ni].nparts = (uint16_t)parts;
    return 0;
}

/* Indentation src[a, b) found at a line start, less the current outdent. */
static void put_indent(parser *p, uint32_t ni, size_t a, size_t b)
{
    a = skip_outdent(p, a, b);
    p->nodes[ni].ind = (uint32_t)p->pool.len;
    p->nodes[ni].ind_len = (uint32_t)(b - a);
    souk_buf_add(&p->pool, p->src + a, b - a);
}

static int push(parser *p, const tag *tg, uint32_t ni, int arg, int left_clear)
{
    open_tag *o = &p->stack[p->depth];
    o->node = ni;
    o->kind = p->nodes[ni].kind;
    o->arg = (uint8_t)arg;
    o->left_clear = (uint8_t)left_clear;
    o->name = tg->cs;
    o->name_len = tg->ce - tg->cs;
    o->outdent = p->depth ? p->stack[p->depth - 1].outdent : 0;
    o->outdent_len = p->depth ? p->stack[p->depth - 1].outdent_len : 0;
    o->line = tg->line;
    p->depth++;
    return 0;
}

static int check_depth(parser *p, const tag *tg)
{
    if (p->depth < SOUK_MUSTACHE_MAX_NESTING)
        return 0;
    return fail(p, tg->line, "sections nested deeper than %d", SOUK_MUSTACHE_MAX_NESTING);
}

/* Partial and parent names: "name", or "*dotted.name" for a dynamic name. */
static int put_include_name(parser *p, const tag *tg, uint32_t ni, const char *what)
{
    size_t a = tg->cs;
    if (a < tg->ce && p->src[a] == '*') {
        for (a++; a < tg->ce && is_space(p->src[a]); a++)
            ;
        p->nodes[ni].flags |= SOUK_MN_DYNAMIC;
        if (check_name(p, tg, a, what))
            return -1;
        return put_dotted(p, tg, ni, a, tg->ce);
    }
    if (check_name(p, tg, a, what))
        return -1;
    put_name(p, ni, a, tg->ce);
    return 0;
}

/* Names match; "*name" and "* name" are the same dynamic name. */
static int name_eq(const char *a, size_t an, const char *b, size_t bn)
{
    int da = an && a[0] == '*', db = bn && b[0] == '*';
    if (da != db)
        return 0;
    if (da) {
        for (a++, an--; an && is_space(*a); a++, an--)
            ;
        for (b++, bn--; bn && is_space(*b); b++, bn--)
            ;
    }
    return an == bn && memcmp(a, b, an) == 0;
}

static int set_delims(parser *p, const tag *tg)
{
    const char *s = p->src;
    size_t i = tg->cs, e = tg->ce, a, an, b, bn;
    for (a = i; i < e && !is_space(s[i]); i++)
        ;
    an = i - a;
    while (i < e && is_space(s[i]))
        i++;
    for (b = i; i < e && !is_space(s[i]); i++)
        ;
    bn = i - b;
    if (!an || !bn || i != e)
        return fail(p, tg->line, "bad delimiter tag '%.*s': expected two delimiters",
                    quote_len(e - tg->cs), s + tg->cs);
    if (an > SOUK_MUSTACHE_MAX_DELIM || bn > SOUK_MUSTACHE_MAX_DELIM)
        return fail(p, tg->line, "bad delimiter tag: delimiters are at most %d characters",
                    SOUK_MUSTACHE_MAX_DELIM);
    memcpy(p->otag, s + a, an);
    p->olen = an;
    memcpy(p->ctag, s + b, bn);
    p->clen = bn;
    return 0;
}

/* Find the end of the tag that starts at t and classify it. */
static int scan_tag(parser *p, size_t t, tag *tg)
{
    const char *s = p->src;
    size_t i = t + p->olen, j = i;
    char close[SOUK_MUSTACHE_MAX_DELIM + 1];
    size_t cn = 0;
    tg->start = t;
    tg->line = line_at(p, t);
    tg->sigil = 0;
    while (j < p->len && is_space(s[j]))
        j++; /* "{{ #name }}" is a section too */
    char c = j < p->len ? s[j] : 0;
    if (c == '{' && j == i) {
        close[cn++] = '}';
        tg->sigil = c;
    } else if (c == '=') {
        close[cn++] = '=';
        tg->sigil = c;
    } else if (c && strchr("#^/!><$&", c)) {
        tg->sigil = c;
    }
    size_t from = tg->sigil ? j + 1 : i;
    memcpy(close + cn, p->ctag, p->clen);
    cn += p->clen;
    size_t k = find(s, from, p->len, close, cn);
    if (k == SIZE_MAX)
        return fail(p, tg->line, "unclosed tag: '%.*s' without '%.*s'", (int)p->olen, p->otag,
                    (int)cn, close);
    tg->end = k + cn;
    tg->cs = from;
    tg->ce = k;
    if (tg->sigil != '!') {
        while (tg->cs < tg->ce && is_space(s[tg->cs]))
            tg->cs++;
        while (tg->ce > tg->cs && is_space(s[tg->ce - 1]))
            tg->ce--;
    }
    return 0;
}

static int do_var(parser *p, const tag *tg, size_t text, size_t *next)
{
    uint32_t ni;
    if (check_name(p, tg, tg->cs, "variable") || emit_text(p, text, tg->start) ||
        add_node(p, tg->sigil ? SOUK_MN_RAW : SOUK_MN_VAR, p->bol ? SOUK_MN_BOL : 0, tg->line,
                 &ni) ||
        put_dotted(p, tg, ni, tg->cs, tg->ce))
        return -1;
    p->bol = 0;
    *next = tg->end;
    return 0;
}

/* Comments and set-delimiter tags: no node, only whitespace effects. */
static int do_silent(parser *p, const tag *tg, size_t text, size_t *next)
{
    size_t ls, after;
    if (tg->sigil == '=' && set_delims(p, tg))
        return -1;
    if (left_clear(p, tg->start, &ls) && right_clear(p, tg->end, &after)) {
        *next = after;
        if (emit_text(p, text, ls))
            return -1;
        p->bol = 1;
        return 0;
    }
    *next = tg->end;
    return emit_text(p, text, tg->start) || add_line_mark(p) ? -1 : 0;
}

static int do_section(parser *p, const tag *tg, size_t text, size_t *next)
{
    size_t ls, after;
    int sa = left_clear(p, tg->start, &ls) && right_clear(p, tg->end, &after);
    uint32_t ni;
    if (check_name(p, tg, tg->cs, "section") || check_depth(p, tg) ||
        emit_text(p, text, sa ? ls : tg->start) ||
        add_node(p, tg->sigil == '#' ? SOUK_MN_SECTION : SOUK_MN_INVERTED,
                 !sa && p->bol ? SOUK_MN_BOL : 0, tg->line, &ni) ||
        put_dotted(p, tg, ni, tg->cs, tg->ce))
        return -1;
    push(p, tg, ni, 0, 0);
    p->bol = sa;
    *next = sa ? after : tg->end;
    return 0;
}

static int do_partial(parser *p, const tag *tg, size_t text, size_t *next)
{
    size_t ls, after;
    int sa = left_clear(p, tg->start, &ls) && right_clear(p, tg->end, &after);
    uint32_t ni;
    if (emit_text(p, text, sa ? ls : tg->start) ||
        add_node(p, SOUK_MN_PARTIAL, place_flags(p, sa), tg->line, &ni) ||
        put_include_name(p, tg, ni, "partial"))
        return -1;
    if (sa)
        put_indent(p, ni, ls, tg->start);
    p->bol = sa;
    *next = sa ? after : tg->end;
    return 0;
}

static int do_parent(parser *p, const tag *tg, size_t text, size_t *next)
{
    size_t ls;
    int lc = left_clear(p, tg->start, &ls);
    uint32_t ni;
    if (check_depth(p, tg) || emit_text(p, text, lc ? ls : tg->start) ||
        add_node(p, SOUK_MN_PARENT, place_flags(p, lc), tg->line, &ni) ||
        put_include_name(p, tg, ni, "parent"))
        return -1;
    if (lc)
        put_indent(p, ni, ls, tg->start);
    push(p, tg, ni, 0, lc);
    p->bol = 0;
    *next = tg->end;
    return 0;
}

static int do_block(parser *p, const tag *tg, size_t text, size_t *next)
{
    size_t ls, after, e;
    int arg = in_parent(p);
    int lc = left_clear(p, tg->start, &ls), rc = right_clear(p, tg->end, &after);
    uint32_t ni;
    if (check_name(p, tg, tg->cs, "block") || check_depth(p, tg))
        return -1;
    for (e = rc ? after : tg->end; e < p->len && is_blank(p->src[e]); e++)
        ; /* [after, e): the next line's indentation, when rc */
    if (arg) {
        /* An argument: the text before it is the parent's and ignored. */
        if (add_node(p, SOUK_MN_BLOCK, rc ? SOUK_MN_STANDALONE : 0, tg->line, &ni))
            return -1;
        put_name(p, ni, tg->cs, tg->ce);
        push(p, tg, ni, 1, 0);
        if (rc) {
            p->stack[p->depth - 1].outdent = after;
            p->stack[p->depth - 1].outdent_len = e - after;
        }
        p->bol = rc;
        *next = rc ? after : tg->end;
        return 0;
    }
    int sa = lc && rc;
    if (emit_text(p, text, sa ? ls : tg->start) ||
        add_node(p, SOUK_MN_BLOCK, place_flags(p, sa), tg->line, &ni))
        return -1;
    put_name(p, ni, tg->cs, tg->ce);
    if (sa)
        put_indent(p, ni, after, e);
    else if (lc)
        put_indent(p, ni, ls, tg->start);
    push(p, tg, ni, 0, 0);
    p->bol = sa;
    *next = sa ? after : tg->end;
    return 0;
}

static const char *kind_word(uint8_t kind)
{
    switch (kind) {
    case SOUK_MN_PARENT: return "parent";
    case SOUK_MN_BLOCK: return "block";
    default: return "section";
    }
}

static int do_close(parser *p, const tag *tg, size_t text, size_t *next)
{
    const char *s = p->src;
    size_t ls, after;
    int lc = left_clear(p, tg->start, &ls), rc = right_clear(p, tg->end, &after), sa;
    size_t a = tg->cs;
    if (a < tg->ce && s[a] == '*') /* closing a dynamic parent: "*name" */
        for (a++; a < tg->ce && is_space(s[a]); a++)
            ;
    if (check_name(p, tg, a, "closing tag"))
        return -1;
    if (!p->depth)
        return fail(p, tg->line, "closing tag '%.*s' without an open section",
                    quote_len(tg->ce - tg->cs), s + tg->cs);
    const open_tag *o = &p->stack[p->depth - 1];
    if (!name_eq(s + o->name, o->name_len, s + tg->cs, tg->ce - tg->cs))
        return fail(p, tg->line, "closing tag '%.*s' does not match %s '%.*s' opened at line %u",
                    quote_len(tg->ce - tg->cs), s + tg->cs, kind_word(o->kind),
                    quote_len(o->name_len), s + o->name, o->line);
    if (o->kind == SOUK_MN_PARENT) {
        sa = o->left_clear && rc; /* the text before it is the parent's: ignored */
    } else if (o->arg) {
        if (emit_text(p, text, lc ? ls : tg->start))
            return -1;
        sa = 0; /* what follows is the parent's text: its line end stays */
    } else {
        sa = lc && rc;
        if (emit_text(p, text, sa ? ls : tg->start) || (!sa && add_line_mark(p)))
            return -1;
    }
    p->nodes[o->node].end = p->nnodes;
    p->depth--;
    p->bol = sa;
    *next = sa ? after : tg->end;
    return 0;
}

static int parse(parser *p)
{
    size_t text = 0; /* the pending text starts here */
    for (;;) {
        size_t t = find(p->src, text, p->len, p->otag, p->olen);
        if (t == SIZE_MAX)
            return emit_text(p, text, p->len);
        tag tg;
        int rc;
        if (scan_tag(p, t, &tg))
            return -1;
        switch (tg.sigil) {
        case '!':
        case '=': rc = do_silent(p, &tg, text, &text); break;
        case '#':
        case '^': rc = do_section(p, &tg, text, &text); break;
        case '>': rc = do_partial(p, &tg, text, &text); break;
        case '<': rc = do_parent(p, &tg, text, &text); break;
        case '$': rc = do_block(p, &tg, text, &text); break;
        case '/': rc = do_close(p, &tg, text, &text); break;
        default: rc = do_var(p, &tg, text, &text); break;
        }
        if (rc)
            return -1;
    }
}

souk_template *souk_mustache_compile(const char *name, const char *src, size_t len, char *err,
                                     size_t errlen)
{
    parser *p = calloc(1, sizeof *p);
    souk_template *t = NULL;
    if (err && errlen)
        err[0] = '\0';
    if (!p) {
        if (err && errlen)
            snprintf(err, errlen, "%s: out of memory", name ? name : "template");
        return NULL;
    }
    p->name = name ? name : "template";
    p->src = src ? src : "";
    p->len = src ? len : 0;
    memcpy(p->otag, "{{", 2);
    memcpy(p->ctag, "}}", 2);
    p->olen = p->clen = 2;
    p->bol = 1;
    p->line = 1;
    p->err = err;
    p->errlen = errlen;
    int rc;
    if (p->len > SOUK_MUSTACHE_MAX_SOURCE)
        rc = fail(p, 1, "template too large (%zu bytes)", p->len);
    else
        rc = parse(p);
    if (rc == 0 && p->depth) {
        const open_tag *o = &p->stack[p->depth - 1];
        rc = fail(p, o->line, "unclosed %s '%.*s'", kind_word(o->kind), quote_len(o->name_len),
                  p->src + o->name);
    }
    if (rc == 0 && (t = calloc(1, sizeof *t)) != NULL && (t->name = strdup(p->name)) != NULL) {
        t->pool = souk_buf_take(&p->pool, NULL);
        t->nodes = p->nodes;
        t->nnodes = p->nnodes;
        if (p->nnodes && p->nnodes < p->cap) {
            souk_mnode *n = realloc(p->nodes, p->nnodes * sizeof *n);
            if (n)
                t->nodes = n;
        }
        p->nodes = NULL;
    } else if (rc == 0) {
        free(t);
        t = NULL;
        fail(p, 1, "out of memory");
    }
    free(p->nodes);
    souk_buf_free(&p->pool);
    free(p);
    return t;
}

void souk_mustache_free(souk_template *t)
{
    if (!t)
        return;
    free(t->name);
    free(t->pool);
    free(t->nodes);
    free(t);
}

const char *souk_mustache_name(const souk_template *t)
{
    return t->name;
}
