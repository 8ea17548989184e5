/* sanitize.c -- the HTML of imported descriptions reduced to a safe subset.
 *
 * What must stay true: the output holds nothing but
 *   (1) the fixed tags <p> <br> <ul> <ol> <li> <b> <strong> <i> <em> and their end
 *       tags, written by this file, never with an attribute, properly nested and all
 *       closed at the end, and
 *   (2) text in which & < > " ' are escaped.
 * No byte of the input's markup is ever copied to the output.  So whatever the
 * tokenizer below makes of malformed or hostile input (<scr<script>ipt>, unclosed
 * tags, quotes in odd places), the worst outcome is that some text is dropped or
 * shown escaped: the result can never carry a script, a handler or a link.
 *
 * What is done with the input:
 *   - the allowed tags are kept (attributes dropped);
 *   - script, style, iframe, object, svg, ... are dropped together with their
 *     content (DROP_WITH_CONTENT);
 *   - block elements (div, h1..h6, table rows, ...) become paragraphs, so that the
 *     text of a Shopify description keeps its breaks;
 *   - every other tag is dropped and its text kept;
 *   - comments, doctypes and processing instructions are dropped;
 *   - character references are decoded and the text re-escaped (entities
 *     normalised: "&#60;" and "&lt;" both come out as "&lt;");
 *   - control characters and carriage returns are dropped; invalid UTF-8 and
 *     references to what is not a character (&#0;, surrogates) become U+FFFD;
 *   - empty elements are not written (an opening tag is written only when text
 *     follows it). */
#include "catalog_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SANITIZE_DEPTH_MAX 32 /* open allowed elements; deeper tags are dropped */
#define SANITIZE_NAME_MAX 16  /* longer tag names match nothing we know */
#define SANITIZE_BUF_MIN 256
#define SANITIZE_REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD */

/* ----------------------------------------------------------- output buffer */

typedef struct {
    char *p;
    size_t len, cap;
    int oom;
} out_buf;

static void out_put(out_buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : SANITIZE_BUF_MIN;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void out_str(out_buf *b, const char *s)
{
    out_put(b, s, strlen(s));
}

/* ----------------------------------------------------------- element table */

static const char *const ALLOWED[] = {"p", "ul", "ol", "li", "b", "strong", "i", "em", NULL};

/* Dropped with everything inside.  The raw-text ones end at the first "</name"
 * whatever comes between (as in a browser); the others nest. */
static const char *const DROP_RAW[] = {"script",   "style",    "xmp",      "iframe", "noembed",
                                       "noframes", "noscript", "textarea", "title",  NULL};
static const char *const DROP_NESTED[] = {"object", "svg",      "math", "template", "select",
                                          "applet", "frameset", "head", "audio",    "video",
                                          "canvas", "map",      "form", NULL};

/* Become paragraphs. */
static const char *const BLOCKS[] = {
    "div",     "h1",      "h2",         "h3",     "h4",    "h5",         "h6",
    "section", "article", "header",     "footer", "aside", "blockquote", "pre",
    "address", "figure",  "figcaption", "table",  "tr",    "dl",         "dt",
    "dd",      "center",  "main",       "nav",    NULL};

static int name_in(const char *name, const char *const *list)
{
    for (int i = 0; list[i]; i++)
        if (strcmp(name, list[i]) == 0)
            return 1;
    return 0;
}

/* ------------------------------------------------------------------ state */

typedef struct {
    const char *emit;            /* the allowed tag written for it ("p" for a div) */
    char src[SANITIZE_NAME_MAX]; /* the input's element name, for its end tag */
    int written;                 /* the opening tag went to the output */
} open_elem;

typedef struct {
    out_buf out;
    out_buf ws; /* whitespace met while opening tags wait for content */
    open_elem stack[SANITIZE_DEPTH_MAX];
    int depth;
    int waiting; /* elements on the stack not written yet */
    const char *p, *end;
} sanitizer;

static void put_ws(sanitizer *s)
{
    if (s->ws.len) {
        out_put(&s->out, s->ws.p, s->ws.len);
        s->ws.len = 0;
    }
}

/* Write the opening tags that were waiting for content, then the whitespace that
 * came after them. */
static void flush_open(sanitizer *s)
{
    for (int i = 0; i < s->depth && s->waiting; i++) {
        if (s->stack[i].written)
            continue;
        out_str(&s->out, "<");
        out_str(&s->out, s->stack[i].emit);
        out_str(&s->out, ">");
        s->stack[i].written = 1;
        s->waiting--;
    }
    put_ws(s);
}

/* Close the elements above and including stack[i].  Whitespace inside an element
 * that was never written goes out after all (it may separate two words). */
static void close_to(sanitizer *s, int i)
{
    while (s->depth > i) {
        open_elem *e = &s->stack[--s->depth];
        if (e->written) {
            put_ws(s);
            out_str(&s->out, "</");
            out_str(&s->out, e->emit);
            out_str(&s->out, ">");
        } else {
            s->waiting--;
        }
    }
    if (!s->waiting)
        put_ws(s);
}

static int find_open(const sanitizer *s, const char *emit)
{
    for (int i = s->depth - 1; i >= 0; i--)
        if (strcmp(s->stack[i].emit, emit) == 0)
            return i;
    return -1;
}

static void open_tag(sanitizer *s, const char *emit, const char *src)
{
    /* A paragraph does not nest in a paragraph, nor an item in an item of the
     * same list: the browser closes the first one, and so do we. */
    if (strcmp(emit, "p") == 0) {
        int i = find_open(s, "p");
        if (i >= 0)
            close_to(s, i);
    } else if (strcmp(emit, "li") == 0) {
        for (int i = s->depth - 1; i >= 0; i--) {
            const char *e = s->stack[i].emit;
            if (strcmp(e, "ul") == 0 || strcmp(e, "ol") == 0)
                break;
            if (strcmp(e, "li") == 0) {
                close_to(s, i);
                break;
            }
        }
    }
    if (s->depth == SANITIZE_DEPTH_MAX)
        return;
    open_elem *e = &s->stack[s->depth++];
    e->emit = emit;
    snprintf(e->src, sizeof e->src, "%s", src);
    e->written = 0;
    s->waiting++;
}

static void close_tag(sanitizer *s, const char *src)
{
    for (int i = s->depth - 1; i >= 0; i--)
        if (strcmp(s->stack[i].src, src) == 0) {
            close_to(s, i);
            return;
        }
}

/* ------------------------------------------------------------------- text */

static void put_escaped_char(sanitizer *s, unsigned char c)
{
    switch (c) {
    case '&': out_str(&s->out, "&amp;"); break;
    case '<': out_str(&s->out, "&lt;"); break;
    case '>': out_str(&s->out, "&gt;"); break;
    case '"': out_str(&s->out, "&quot;"); break;
    case '\'': out_str(&s->out, "&#39;"); break;
    default: out_put(&s->out, (const char *)&c, 1);
    }
}

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* Text goes out after the opening tags waiting for it; whitespace alone does not
 * make an element worth writing, so it waits with them. */
static void put_text(sanitizer *s, const char *t, size_t n)
{
    int blank = 1;
    for (size_t i = 0; i < n && blank; i++)
        blank = is_space((unsigned char)t[i]);
    if (blank && s->waiting) {
        out_put(&s->ws, t, n);
        return;
    }
    flush_open(s);
    for (size_t i = 0; i < n; i++)
        put_escaped_char(s, (unsigned char)t[i]);
}

size_t catalog_utf8_encode(unsigned long cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* A code point the text may hold: no C0/C1 controls except tab and newline, no
 * surrogates, nothing past U+10FFFF. */
static int cp_allowed(unsigned long cp)
{
    if (cp == '\t' || cp == '\n')
        return 1;
    if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0))
        return 0;
    if (cp >= 0xD800 && cp <= 0xDFFF)
        return 0;
    return cp <= 0x10FFFF;
}

/* A decoded character of text.  Controls (CR included: CRLF becomes LF) are
 * dropped; what is not a character at all becomes U+FFFD. */
static void put_cp(sanitizer *s, unsigned long cp)
{
    char u[4];
    if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) {
        if (cp == '\t' || cp == '\n')
            put_text(s, cp == '\t' ? "\t" : "\n", 1);
        return;
    }
    if (!cp_allowed(cp)) {
        put_text(s, SANITIZE_REPLACEMENT, sizeof SANITIZE_REPLACEMENT - 1);
        return;
    }
    put_text(s, u, catalog_utf8_encode(cp, u));
}

/* Named references that descriptions use in practice; anything else stays as
 * text ("&foo;" is shown as typed). */
static const struct {
    const char *name;
    unsigned long cp;
} ENTITIES[] = {
    {"amp", '&'},       {"lt", '<'},       {"gt", '>'},       {"quot", '"'},
    {"apos", '\''},     {"nbsp", 0xA0},    {"shy", 0xAD},     {"copy", 0xA9},
    {"reg", 0xAE},      {"trade", 0x2122}, {"deg", 0xB0},     {"plusmn", 0xB1},
    {"times", 0xD7},    {"divide", 0xF7},  {"middot", 0xB7},  {"bull", 0x2022},
    {"hellip", 0x2026}, {"ndash", 0x2013}, {"mdash", 0x2014}, {"laquo", 0xAB},
    {"raquo", 0xBB},    {"lsquo", 0x2018}, {"rsquo", 0x2019}, {"ldquo", 0x201C},
    {"rdquo", 0x201D},  {"bdquo", 0x201E}, {"euro", 0x20AC},  {"pound", 0xA3},
    {"yen", 0xA5},      {"cent", 0xA2},    {"sect", 0xA7},    {"para", 0xB6},
    {"frac12", 0xBD},   {"frac14", 0xBC},  {"frac34", 0xBE},  {"sup2", 0xB2},
    {"sup3", 0xB3},     {"micro", 0xB5},   {"larr", 0x2190},  {"rarr", 0x2192},
    {"thinsp", 0x2009}, {"ensp", 0x2002},  {"emsp", 0x2003},  {"numero", 0x2116},
    {"minus", 0x2212},  {"le", 0x2264},    {"ge", 0x2265},
};

#define ENTITY_NAME_MAX 8
#define NUMERIC_REF_DIGITS_MAX 8

/* At '&': decode a character reference and return the bytes consumed, or 0 when
 * it is not one (the '&' is then text). */
static size_t entity(sanitizer *s, const char *p)
{
    const char *q = p + 1;
    unsigned long cp = 0;
    if (q < s->end && *q == '#') {
        q++;
        int hex = q < s->end && (*q == 'x' || *q == 'X');
        if (hex)
            q++;
        const char *digits = q;
        while (q < s->end && q - digits <= NUMERIC_REF_DIGITS_MAX &&
               (hex ? strchr("0123456789abcdefABCDEF", *q) != NULL : (*q >= '0' && *q <= '9')) &&
               *q) {
            int d = *q <= '9' ? *q - '0' : (*q | 0x20) - 'a' + 10;
            cp = cp * (hex ? 16 : 10) + (unsigned long)d;
            q++;
        }
        if (q == digits || q - digits > NUMERIC_REF_DIGITS_MAX || q >= s->end || *q != ';')
            return 0;
        put_cp(s, cp == 0 || cp > 0x10FFFF ? 0xFFFD : cp);
        return (size_t)(q + 1 - p);
    }
    char name[ENTITY_NAME_MAX + 1];
    size_t n = 0;
    while (q < s->end && n < ENTITY_NAME_MAX &&
           ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9')))
        name[n++] = *q++;
    name[n] = '\0';
    if (n == 0 || q >= s->end || *q != ';')
        return 0;
    for (size_t i = 0; i < sizeof ENTITIES / sizeof *ENTITIES; i++)
        if (strcmp(ENTITIES[i].name, name) == 0) {
            put_cp(s, ENTITIES[i].cp);
            return (size_t)(q + 1 - p);
        }
    return 0;
}

/* ------------------------------------------------------------------- tags */

static int is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* The tag name at p, lower-cased into name (truncated names match nothing we
 * know: they are marked with a '?' that no table holds).  As in a browser, the
 * name runs to whitespace, '/' or '>'. */
static const char *tag_name(sanitizer *s, const char *p, char name[SANITIZE_NAME_MAX])
{
    size_t n = 0;
    int truncated = 0;
    while (p < s->end && !is_space((unsigned char)*p) && *p != '/' && *p != '>') {
        if (n < SANITIZE_NAME_MAX - 2)
            name[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p + ('a' - 'A') : *p);
        else
            truncated = 1;
        p++;
    }
    if (truncated)
        name[n++] = '?';
    name[n] = '\0';
    return p;
}

/* Skip the attributes of a tag: returns the position after its '>', or NULL when
 * the input ends inside the tag (which is then dropped with the rest).  Quotes
 * count only where they open an attribute value, as in a browser.  *self_closing
 * is set for "/>". */
static const char *skip_attributes(sanitizer *s, const char *p, int *self_closing)
{
    *self_closing = 0;
    while (p < s->end) {
        char c = *p;
        if (c == '>') {
            *self_closing = p[-1] == '/';
            return p + 1;
        }
        if (c == '=') {
            p++;
            while (p < s->end && is_space((unsigned char)*p))
                p++;
            if (p < s->end && (*p == '"' || *p == '\'')) {
                const char *close = memchr(p + 1, *p, (size_t)(s->end - p - 1));
                if (!close)
                    return NULL;
                p = close + 1;
            }
            continue;
        }
        p++;
    }
    return NULL;
}

/* Case-insensitive search for "</name" followed by a name end. */
static const char *find_end_tag(sanitizer *s, const char *p, const char *name)
{
    size_t n = strlen(name);
    for (; p + 2 + n <= s->end; p++) {
        if (p[0] != '<' || p[1] != '/' || strncasecmp(p + 2, name, n) != 0)
            continue;
        const char *after = p + 2 + n;
        if (after == s->end || is_space((unsigned char)*after) || *after == '/' || *after == '>')
            return p;
    }
    return NULL;
}

/* Skip a raw-text element's content and its end tag; returns where text resumes
 * (end of input when it is never closed: the rest is dropped). */
static const char *skip_raw(sanitizer *s, const char *p, const char *name)
{
    const char *end_tag = find_end_tag(s, p, name);
    if (!end_tag)
        return s->end;
    int sc;
    const char *after = skip_attributes(s, end_tag + 2, &sc);
    return after ? after : s->end;
}

/* Skip a nesting element (svg, object ...) with its content: every tag inside is
 * read like outside, only to count the same name opening and closing. */
static const char *skip_nested(sanitizer *s, const char *p, const char *name)
{
    int depth = 1;
    char n[SANITIZE_NAME_MAX];
    while (p < s->end) {
        const char *lt = memchr(p, '<', (size_t)(s->end - p));
        if (!lt)
            return s->end;
        int closing = lt + 1 < s->end && lt[1] == '/';
        const char *q = lt + 1 + closing;
        if (q >= s->end || !is_alpha(*q)) {
            p = lt + 1;
            continue;
        }
        q = tag_name(s, q, n);
        int sc;
        const char *after = skip_attributes(s, q, &sc);
        if (!after)
            return s->end;
        if (strcmp(n, name) == 0) {
            if (closing)
                depth--;
            else if (!sc)
                depth++;
            if (depth == 0)
                return after;
        } else if (!closing && name_in(n, DROP_RAW)) {
            after = skip_raw(s, after, n); /* "</svg>" inside a script is not the end */
        }
        p = after;
    }
    return s->end;
}

/* At '<' followed by a letter (start tag) or "</" + letter (end tag). */
static const char *tag(sanitizer *s, const char *p)
{
    int closing = p[1] == '/';
    char name[SANITIZE_NAME_MAX];
    const char *q = tag_name(s, p + 1 + closing, name);
    int self_closing;
    const char *after = skip_attributes(s, q, &self_closing);
    if (!after)
        return s->end; /* an unclosed tag swallows the rest, as in a browser */

    if (strcmp(name, "br") == 0) { /* "</br>" is a <br> too */
        flush_open(s);
        out_str(&s->out, "<br>");
        return after;
    }
    if (closing) {
        if (name_in(name, ALLOWED) || name_in(name, BLOCKS))
            close_tag(s, name);
        else if (strcmp(name, "td") == 0 || strcmp(name, "th") == 0)
            put_text(s, " ", 1);
        return after;
    }
    if (name_in(name, DROP_RAW))
        return skip_raw(s, after, name);
    if (name_in(name, DROP_NESTED))
        return self_closing ? after : skip_nested(s, after, name);
    for (int i = 0; ALLOWED[i]; i++)
        if (strcmp(name, ALLOWED[i]) == 0) {
            open_tag(s, ALLOWED[i], name);
            return after;
        }
    if (name_in(name, BLOCKS))
        open_tag(s, "p", name);
    return after; /* any other tag: dropped, its text kept */
}

/* At "<!" or "<?": comments to "-->", the rest (doctype, CDATA, processing
 * instructions) to the next '>'. */
static const char *markup_declaration(sanitizer *s, const char *p)
{
    if (s->end - p >= 4 && memcmp(p, "<!--", 4) == 0) {
        for (const char *q = p + 4; q + 3 <= s->end; q++)
            if (memcmp(q, "-->", 3) == 0)
                return q + 3;
        return s->end;
    }
    const char *gt = memchr(p, '>', (size_t)(s->end - p));
    return gt ? gt + 1 : s->end;
}

/* ------------------------------------------------------------------- main */

char *catalog_sanitize_html(const char *html)
{
    sanitizer s;
    memset(&s, 0, sizeof s);
    s.p = html ? html : "";
    s.end = s.p + strlen(s.p);
    out_put(&s.out, "", 0); /* an empty input gives "" rather than NULL */

    const char *p = s.p;
    while (p < s.end && !s.out.oom) {
        unsigned char c = (unsigned char)*p;
        if (c == '<') {
            char next = p + 1 < s.end ? p[1] : '\0';
            if (is_alpha(next) || (next == '/' && p + 2 < s.end && is_alpha(p[2]))) {
                p = tag(&s, p);
            } else if (next == '!' || next == '?') {
                p = markup_declaration(&s, p);
            } else if (next == '/') { /* "</>" or "</ ..." : ignored like a browser */
                const char *gt = memchr(p, '>', (size_t)(s.end - p));
                p = gt ? gt + 1 : s.end;
            } else {
                put_text(&s, "<", 1); /* "a < b" */
                p++;
            }
        } else if (c == '&') {
            size_t n = entity(&s, p);
            if (n == 0) {
                put_text(&s, "&", 1);
                n = 1;
            }
            p += n;
        } else {
            uint32_t cp;
            size_t n = souk_utf8_decode((const unsigned char *)p, (const unsigned char *)s.end, &cp);
            if (n == 0) {
                put_text(&s, SANITIZE_REPLACEMENT, sizeof SANITIZE_REPLACEMENT - 1);
                n = 1;
            } else if (cp < 0x80 && cp_allowed(cp)) {
                /* the common case: a run of plain ASCII text */
                size_t run = 1;
                while (p + run < s.end && (unsigned char)p[run] >= 0x20 &&
                       (unsigned char)p[run] < 0x7F && p[run] != '<' && p[run] != '&')
                    run++;
                put_text(&s, p, run);
                n = run;
            } else {
                put_cp(&s, cp);
            }
            p += n;
        }
    }
    close_to(&s, 0);
    put_ws(&s);
    free(s.ws.p);
    if (s.out.oom || s.ws.oom) {
        free(s.out.p);
        return NULL;
    }
    return s.out.p;
}
