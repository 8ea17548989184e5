/* mustache_render.c -- rendering a compiled template (see mustache.h and
 * mustache_tree.h).
 *
 * Rendering walks the node array recursively.  Everything it needs besides the
 * output lives in small structs on the C stack, linked to their callers' copies:
 *  - the context stack: frames pushed by sections, on top of the caller's array;
 *  - the indentation: one link per standalone partial or parent, or per block
 *    whose overriding content must be reindented; written at line starts;
 *  - the block scope: one link per parent being expanded, holding the blocks
 *    passed to it.
 * So a render allocates nothing but the output buffer's growth.
 *
 * Values, as the spec wants them: a name is looked up from the top of the stack
 * down, in objects only; dotted parts then resolve inside the value found.
 * Falsy values are the JavaScript ones the spec cites (`!!data`): missing,
 * null, false, 0, "" and the empty array.  Numbers print as JSON would
 * (1.21 -> "1.21", 1.0 -> "1"); true and false print as words; null, objects
 * and arrays print nothing. */
#include "mustache.h"
#include "mustache_tree.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for an integer or a shortest round-trip double. */
#define SOUK_MUSTACHE_NUMBER_MAX 32

typedef struct frame {
    json_t *v;
    const struct frame *up;
} frame;

typedef struct indent {
    const char *s;
    size_t n;
    const struct indent *up;
} indent;

/* A parent being expanded: its block children (in template t) override the
 * blocks of the templates it includes.  Outer scopes win (the spec's
 * "top-level substitutions take precedence"). */
typedef struct scope {
    const souk_template *t;
    uint32_t parent;
    const struct scope *outer;
} scope;

typedef struct rstate {
    souk_partial_fn partials;
    void *ud;
    souk_buf *out;
    json_t *const *base;
    int nbase;
    char *err;
    size_t errlen;
    int depth;    /* partials, parents and overriding blocks being expanded */
    int skip_bol; /* the next line start is already indented (see render_block) */
} rstate;

static int render_range(rstate *rs, const souk_template *t, uint32_t i, uint32_t end,
                        const frame *ctx, const indent *ind, const scope *sc);

static void put_indent(rstate *rs, const indent *ind)
{
    if (!ind)
        return;
    put_indent(rs, ind->up);
    souk_buf_add(rs->out, ind->s, ind->n);
}

/* Template text: every line after the first starts with the indentation, except
 * after a final line end (what follows decides). */
static void put_text(rstate *rs, const char *s, size_t n, const indent *ind)
{
    if (!ind) {
        souk_buf_add(rs->out, s, n);
        return;
    }
    while (n) {
        const char *nl = memchr(s, '\n', n);
        size_t k = nl ? (size_t)(nl - s) + 1 : n;
        souk_buf_add(rs->out, s, k);
        s += k;
        n -= k;
        if (n)
            put_indent(rs, ind);
    }
}

static json_t *lookup_first(const rstate *rs, const frame *ctx, const char *key)
{
    json_t *v;
    for (const frame *f = ctx; f; f = f->up)
        if (json_is_object(f->v) && (v = json_object_get(f->v, key)) != NULL)
            return v;
    for (int i = rs->nbase - 1; i >= 0; i--)
        if (json_is_object(rs->base[i]) && (v = json_object_get(rs->base[i], key)) != NULL)
            return v;
    return NULL;
}

static json_t *resolve(const rstate *rs, const souk_template *t, const souk_mnode *nd,
                       const frame *ctx)
{
    if (nd->nparts == 0)
        return ctx ? ctx->v : rs->nbase ? rs->base[rs->nbase - 1] : NULL;
    const char *part = t->pool + nd->str;
    json_t *v = lookup_first(rs, ctx, part);
    for (unsigned k = 1; v && k < nd->nparts; k++) {
        part += strlen(part) + 1;
        v = json_is_object(v) ? json_object_get(v, part) : NULL;
    }
    return v;
}

static int truthy(const json_t *v)
{
    if (!v)
        return 0;
    switch (json_typeof(v)) {
    case JSON_NULL:
    case JSON_FALSE: return 0;
    case JSON_ARRAY: return json_array_size(v) > 0;
    case JSON_STRING: return json_string_length(v) > 0;
    case JSON_INTEGER: return json_integer_value(v) != 0;
    case JSON_REAL: return json_real_value(v) != 0.0;
    default: return 1;
    }
}

/* v as text: a pointer to its bytes (into v or buf), or NULL for nothing. */
static const char *scalar_text(const json_t *v, char *buf, size_t *n)
{
    double d;
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_STRING: *n = json_string_length(v); return json_string_value(v);
    case JSON_INTEGER:
        *n = (size_t)snprintf(buf, SOUK_MUSTACHE_NUMBER_MAX, "%" JSON_INTEGER_FORMAT,
                              json_integer_value(v));
        return buf;
    case JSON_REAL:
        /* Shortest form that reads back the same, as JSON serialisers print. */
        d = json_real_value(v);
        if (d == 0.0)
            d = 0.0; /* -0 prints as 0 */
        *n = (size_t)snprintf(buf, SOUK_MUSTACHE_NUMBER_MAX, "%.15g", d);
        if (strtod(buf, NULL) != d)
            *n = (size_t)snprintf(buf, SOUK_MUSTACHE_NUMBER_MAX, "%.17g", d);
        return buf;
    case JSON_TRUE: *n = 4; return "true";
    case JSON_FALSE: *n = 5; return "false";
    default: return NULL;
    }
}

/* The template a partial or parent tag names, or NULL (renders as nothing). */
static const souk_template *include_target(rstate *rs, const souk_template *t, const souk_mnode *nd,
                                           const frame *ctx)
{
    if (!rs->partials)
        return NULL;
    if (!(nd->flags & SOUK_MN_DYNAMIC))
        return rs->partials(rs->ud, t->pool + nd->str);
    char buf[SOUK_MUSTACHE_NUMBER_MAX];
    size_t n = 0;
    json_t *v = resolve(rs, t, nd, ctx);
    if (!json_is_string(v) && !json_is_number(v))
        return NULL;
    const char *name = scalar_text(v, buf, &n);
    if (!n || memchr(name, '\0', n))
        return NULL;
    return rs->partials(rs->ud, name);
}

static int too_deep(rstate *rs, const souk_template *t, const souk_mnode *nd)
{
    if (rs->depth < SOUK_MUSTACHE_MAX_DEPTH)
        return 0;
    if (rs->err && rs->errlen)
        snprintf(rs->err, rs->errlen,
                 "%s:%u: templates nested deeper than %d (a partial or parent includes itself?)",
                 t->name, nd->line, SOUK_MUSTACHE_MAX_DEPTH);
    return 1;
}

/* {{>name}} and {{<name}}...{{/name}}: a standalone tag indents every line of the
 * included template; an inline one includes it as is, lines unindented (the spec
 * prepends indentation to the partial's source, and an inline tag has none). */
static int render_include(rstate *rs, const souk_template *t, uint32_t i, const frame *ctx,
                          const indent *ind, const scope *sc)
{
    const souk_mnode *nd = &t->nodes[i];
    const souk_template *pt = include_target(rs, t, nd, ctx);
    if (!pt)
        return 0;
    if (too_deep(rs, t, nd))
        return -1;
    indent own = {t->pool + nd->ind, nd->ind_len, ind};
    const indent *pi = NULL;
    if (nd->flags & SOUK_MN_STANDALONE)
        pi = nd->ind_len ? &own : ind;
    scope s = {t, i, sc};
    rs->depth++;
    int rc = render_range(rs, pt, 0, pt->nnodes, ctx, pi, nd->kind == SOUK_MN_PARENT ? &s : sc);
    rs->depth--;
    return rc;
}

/* The outermost argument overriding block name, if any. */
static const souk_mnode *find_override(const scope *sc, const char *name, const souk_template **ot,
                                       const scope **osc)
{
    const souk_mnode *found = NULL;
    for (; sc; sc = sc->outer) {
        const souk_mnode *nodes = sc->t->nodes;
        for (uint32_t j = sc->parent + 1; j < nodes[sc->parent].end; j = nodes[j].end) {
            if (nodes[j].kind == SOUK_MN_BLOCK && strcmp(sc->t->pool + nodes[j].str, name) == 0) {
                found = &nodes[j];
                *ot = sc->t;
                *osc = sc->outer; /* its own blocks resolve where it was written */
                break;
            }
        }
    }
    return found;
}

/* {{$name}}: the default content, or the argument that overrides it, rendered
 * here (this context, this indentation) and reindented: the argument lost its
 * intrinsic indentation at compile time and takes this block's. */
static int render_block(rstate *rs, const souk_template *t, uint32_t i, const frame *ctx,
                        const indent *ind, const scope *sc)
{
    const souk_mnode *nd = &t->nodes[i];
    const souk_template *ot = NULL;
    const scope *osc = NULL;
    const souk_mnode *o = find_override(sc, t->pool + nd->str, &ot, &osc);
    if (!o)
        return render_range(rs, t, i + 1, nd->end, ctx, ind, sc);
    if (too_deep(rs, t, nd))
        return -1;
    indent own = {t->pool + nd->ind, nd->ind_len, ind};
    const indent *bi = nd->ind_len ? &own : ind;
    if (nd->flags & SOUK_MN_STANDALONE) {
        /* This block's line was removed: the argument starts a line.  If the
         * argument's content starts a line of its own, that node indents it. */
        if (!(o->flags & SOUK_MN_STANDALONE))
            put_indent(rs, bi);
    } else if (o->flags & SOUK_MN_STANDALONE) {
        rs->skip_bol = 1; /* we are mid-line: the argument's first line is not indented */
    }
    rs->depth++;
    int rc = render_range(rs, ot, (uint32_t)(o - ot->nodes) + 1, o->end, ctx, bi, osc);
    rs->depth--;
    rs->skip_bol = 0;
    return rc;
}

static int render_range(rstate *rs, const souk_template *t, uint32_t i, uint32_t end,
                        const frame *ctx, const indent *ind, const scope *sc)
{
    char buf[SOUK_MUSTACHE_NUMBER_MAX];
    while (i < end) {
        const souk_mnode *nd = &t->nodes[i];
        if (nd->flags & SOUK_MN_BOL) {
            if (rs->skip_bol)
                rs->skip_bol = 0;
            else
                put_indent(rs, ind);
        }
        json_t *v;
        const char *s;
        size_t n;
        switch (nd->kind) {
        case SOUK_MN_TEXT: put_text(rs, t->pool + nd->str, nd->len, ind); break;
        case SOUK_MN_VAR:
        case SOUK_MN_RAW:
            s = scalar_text(resolve(rs, t, nd, ctx), buf, &n);
            if (s && nd->kind == SOUK_MN_VAR)
                souk_buf_add_html(rs->out, s, n);
            else if (s)
                souk_buf_add(rs->out, s, n);
            break;
        case SOUK_MN_SECTION:
            v = resolve(rs, t, nd, ctx);
            if (json_is_array(v)) {
                for (size_t k = 0; k < json_array_size(v); k++) {
                    frame f = {json_array_get(v, k), ctx};
                    if (render_range(rs, t, i + 1, nd->end, &f, ind, sc))
                        return -1;
                }
            } else if (truthy(v)) {
                frame f = {v, ctx};
                if (render_range(rs, t, i + 1, nd->end, &f, ind, sc))
                    return -1;
            }
            break;
        case SOUK_MN_INVERTED:
            if (!truthy(resolve(rs, t, nd, ctx)) &&
                render_range(rs, t, i + 1, nd->end, ctx, ind, sc))
                return -1;
            break;
        case SOUK_MN_PARTIAL:
        case SOUK_MN_PARENT:
            if (render_include(rs, t, i, ctx, ind, sc))
                return -1;
            break;
        case SOUK_MN_BLOCK:
            if (render_block(rs, t, i, ctx, ind, sc))
                return -1;
            break;
        }
        i = nd->end;
    }
    return 0;
}

int souk_mustache_render(const souk_template *t, json_t *const *stack, int depth,
                         souk_partial_fn partials, void *ud, souk_buf *out, char *err,
                         size_t errlen)
{
    rstate rs = {partials, ud, out, stack, stack ? depth : 0, err, errlen, 0, 0};
    if (err && errlen)
        err[0] = '\0';
    return render_range(&rs, t, 0, t->nnodes, NULL, NULL, NULL);
}
