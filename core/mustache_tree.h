/* mustache_tree.h -- the compiled form of a Mustache template.  Private to the
 * compiler (mustache.c) and the renderer (mustache_render.c); nothing else may
 * depend on this layout.
 *
 * A template is a flat array of nodes in source order (pre-order).  A container
 * (section, inverted section, parent, block) is followed by its children, and
 * every node's `end` is the index just past its subtree, so siblings are walked
 * with i = nodes[i].end and a subtree is the range [i + 1, nodes[i].end).  All
 * strings (text, names, indentation) live in one pool owned by the template;
 * nodes refer to them by offset, so the whole tree is three allocations.
 *
 * Whitespace rules of the spec (standalone lines, block outdenting) are applied
 * at compile time; only indentation that depends on where a partial, parent or
 * block is expanded is left for render time, carried by the flags below. */
#ifndef SOUK_MUSTACHE_TREE_H
#define SOUK_MUSTACHE_TREE_H

#include "mustache.h"

#include <stdint.h>

enum souk_mnode_kind {
    SOUK_MN_TEXT,     /* literal text: pool[str, str + len) */
    SOUK_MN_VAR,      /* {{name}}: HTML-escaped */
    SOUK_MN_RAW,      /* {{{name}}} / {{&name}}: as is */
    SOUK_MN_SECTION,  /* {{#name}}...{{/name}} */
    SOUK_MN_INVERTED, /* {{^name}}...{{/name}} */
    SOUK_MN_PARTIAL,  /* {{>name}} / {{>*name}} */
    SOUK_MN_PARENT,   /* {{<name}}...{{/name}}: its direct block children are arguments */
    SOUK_MN_BLOCK     /* {{$name}}...{{/name}}: children are the default content */
};

/* The node starts a line of the source that survives in the output: the current
 * render-time indentation is written before it.  An empty TEXT node with this
 * flag marks a line start that no other node carries (a line beginning with a
 * closing or comment tag that is not standalone). */
#define SOUK_MN_BOL 0x01
/* Partial or parent whose name is looked up in the context ({{>*name}}). */
#define SOUK_MN_DYNAMIC 0x02
/* Partial or parent: the tag stood alone on its line, so its indentation is
 * prepended to every line of the included template.  Block: the opening tag
 * stood alone on its line, so the content starts at the beginning of a line. */
#define SOUK_MN_STANDALONE 0x04

typedef struct souk_mnode {
    uint8_t kind;
    uint8_t flags;
    uint16_t nparts; /* dotted name: number of parts; 0 for the implicit iterator */
    uint32_t line;   /* line of the tag in the source, for messages */
    /* TEXT: the text.  VAR, RAW, SECTION, INVERTED and dynamic PARTIAL/PARENT:
     * the name's parts, each NUL-terminated, one after the other.  Static
     * PARTIAL/PARENT, BLOCK: the name, NUL-terminated. */
    uint32_t str, len;
    /* PARTIAL/PARENT: indentation of a standalone tag.  BLOCK: indentation added
     * to the lines of an overriding block's content (see mustache.c). */
    uint32_t ind, ind_len;
    uint32_t end; /* index just past this node's subtree */
} souk_mnode;

struct souk_template {
    char *name;
    char *pool;
    souk_mnode *nodes;
    uint32_t nnodes;
};

#endif
