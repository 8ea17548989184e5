/* script_pattern.c -- Lua 5.4 pattern matching whose steps are charged to the
 * sandbox's instruction budget.  See script_pattern.h for what is matched and why.
 *
 * The matcher is a backtracking one, as the manual's semantics require (the
 * quantifiers '*', '+' and '?' take the longest match that lets the rest of the
 * pattern match, '-' the shortest).  match_here() matches the pattern from p at s;
 * items that need no backtracking advance in a loop, the others (captures,
 * quantifiers that may have to give back characters) recurse, one level each. */
#define _GNU_SOURCE /* memmem */
#include "script_pattern.h"

#include "script_sandbox.h"

#include <lauxlib.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PAT_ESC '%'
/* A pattern without any of these is a plain string (find then skips the matcher). */
static const char pat_specials[] = "^$*+?.([%-";

/* Capture lengths that are markers: still open, or a position capture "()". */
#define CAP_OPEN ((ptrdiff_t)-1)
#define CAP_POSITION ((ptrdiff_t)-2)

typedef struct {
    const char *start;
    ptrdiff_t len; /* bytes, or CAP_OPEN / CAP_POSITION */
} pat_capture;

/* One match in progress.  All pointers are borrowed from Lua strings that the
 * calling function keeps on its stack (or, for gmatch, in its upvalues). */
typedef struct {
    lua_State *L;
    const char *src, *src_end; /* the subject */
    const char *pat_end;       /* end of the pattern */
    int depth_left;            /* nesting still allowed (SOUK_PATTERN_DEPTH_MAX) */
    int level;                 /* captures opened so far */
    uint64_t steps;            /* work counted and not yet charged */
    pat_capture cap[SOUK_PATTERN_CAPTURES_MAX];
} pat_state;

/* ------------------------------------------------------------------- budget */

static void pat_flush(pat_state *ms)
{
    uint64_t n = ms->steps;
    ms->steps = 0;
    if (n > 0)
        souk_sandbox_charge(ms->L, n);
}

/* Count n steps; raises the budget error once the run's budget is spent. */
static inline void pat_tick(pat_state *ms, uint64_t n)
{
    ms->steps += n;
    if (ms->steps >= SOUK_PATTERN_CHARGE_STEP)
        pat_flush(ms);
}

static void pat_init(pat_state *ms, lua_State *L, const char *s, size_t ls, const char *p,
                     size_t lp)
{
    ms->L = L;
    ms->src = s;
    ms->src_end = s + ls;
    ms->pat_end = p + lp;
    ms->steps = 0;
}

/* Before each attempt at a new subject position. */
static void pat_restart(pat_state *ms)
{
    ms->level = 0;
    ms->depth_left = SOUK_PATTERN_DEPTH_MAX;
}

/* --------------------------------------------------------- character classes */

/* The C locale's classes, written out so that the process's locale cannot change
 * what a script matches. */
static int c_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static int c_digit(int c)
{
    return c >= '0' && c <= '9';
}
static int c_graph(int c)
{
    return c > ' ' && c < 0x7f;
}

/* Whether byte c is in class %k; k an unknown letter or another character stands
 * for itself ("%." is a dot, "%q" a q). */
static int class_has(int k, int c)
{
    int lower = (k >= 'A' && k <= 'Z') ? k - 'A' + 'a' : k;
    int in;
    switch (lower) {
    case 'a': in = c_alpha(c); break;
    case 'c': in = c < ' ' || c == 0x7f; break;
    case 'd': in = c_digit(c); break;
    case 'g': in = c_graph(c); break;
    case 'l': in = c >= 'a' && c <= 'z'; break;
    case 'p': in = c_graph(c) && !c_alpha(c) && !c_digit(c); break;
    case 's': in = c == ' ' || (c >= '\t' && c <= '\r'); break;
    case 'u': in = c >= 'A' && c <= 'Z'; break;
    case 'w': in = c_alpha(c) || c_digit(c); break;
    case 'x': in = c_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); break;
    case 'z': in = c == 0; break; /* deprecated in Lua 5.2, still matched by 5.4 */
    default: return k == c;
    }
    return lower != k ? !in : in; /* upper case: the complement */
}

/* Whether byte c is in the set [...] that runs from open (its '[') to close (its
 * ']').  The first character after "[" or "[^" is always a member, even ']';
 * "x-y" is a range unless the '-' is last; "%k" is a class or an escaped char. */
static int set_has(pat_state *ms, const char *open, const char *close, int c)
{
    const char *p = open + 1;
    int member = 1;
    if (*p == '^') {
        member = 0;
        p++;
    }
    pat_tick(ms, (uint64_t)(close - p));
    for (; p < close; p++) {
        if (*p == PAT_ESC) {
            p++;
            if (class_has((unsigned char)*p, c))
                return member;
        } else if (p + 2 < close && p[1] == '-') {
            if ((unsigned char)p[0] <= c && c <= (unsigned char)p[2])
                return member;
            p += 2;
        } else if ((unsigned char)*p == c) {
            return member;
        }
    }
    return !member;
}

/* One past the single-character item at p: ".", "x", "%k" or "[...]".  Raises the
 * malformed-pattern errors when the pattern ends inside the item. */
static const char *item_end(pat_state *ms, const char *p)
{
    char c = *p++;
    if (c == PAT_ESC) {
        if (p >= ms->pat_end)
            luaL_error(ms->L, "malformed pattern (ends with '%c')", PAT_ESC);
        return p + 1;
    }
    if (c != '[')
        return p;
    const char *first = p;
    if (p < ms->pat_end && *p == '^')
        p++;
    do { /* the first member is taken whatever it is, so "[]]" is a set */
        if (p >= ms->pat_end)
            luaL_error(ms->L, "malformed pattern (missing ']')");
        if (*p++ == PAT_ESC && p < ms->pat_end)
            p++;
    } while (p >= ms->pat_end || *p != ']');
    pat_tick(ms, (uint64_t)(p - first));
    return p + 1;
}

/* Whether the item p..ep matches the byte at s (never past the subject). */
static int item_matches(pat_state *ms, const char *s, const char *p, const char *ep)
{
    if (s >= ms->src_end)
        return 0;
    int c = (unsigned char)*s;
    switch (*p) {
    case '.': return 1;
    case PAT_ESC: return class_has((unsigned char)p[1], c);
    case '[': return set_has(ms, p, ep - 1, c);
    default: return (unsigned char)*p == c;
    }
}

/* ------------------------------------------------------------------- matcher */

static const char *match_here(pat_state *ms, const char *s, const char *p);

/* item* (or item+ once the first byte is taken): the longest run, then shorter
 * ones until the rest of the pattern (after ep's quantifier) matches. */
static const char *match_greedy(pat_state *ms, const char *s, const char *p, const char *ep)
{
    size_t n = 0;
    while (item_matches(ms, s + n, p, ep)) {
        n++;
        pat_tick(ms, 1);
    }
    for (;;) {
        const char *end = match_here(ms, s + n, ep + 1);
        if (end)
            return end;
        if (n == 0)
            return NULL;
        n--;
    }
}

/* item-: the shortest run after which the rest of the pattern matches. */
static const char *match_lazy(pat_state *ms, const char *s, const char *p, const char *ep)
{
    for (;;) {
        const char *end = match_here(ms, s, ep + 1);
        if (end)
            return end;
        if (!item_matches(ms, s, p, ep))
            return NULL;
        s++;
    }
}

/* "(" at s; the capture stays open while the rest of the pattern (p) matches. */
static const char *capture_open(pat_state *ms, const char *s, const char *p, ptrdiff_t kind)
{
    if (ms->level >= SOUK_PATTERN_CAPTURES_MAX)
        luaL_error(ms->L, "too many captures");
    ms->cap[ms->level].start = s;
    ms->cap[ms->level].len = kind;
    ms->level++;
    const char *end = match_here(ms, s, p);
    if (!end)
        ms->level--;
    return end;
}

/* ")" at s closes the innermost capture still open. */
static const char *capture_close(pat_state *ms, const char *s, const char *p)
{
    int i = ms->level - 1;
    while (i >= 0 && ms->cap[i].len != CAP_OPEN)
        i--;
    if (i < 0)
        luaL_error(ms->L, "invalid pattern capture");
    ms->cap[i].len = s - ms->cap[i].start;
    const char *end = match_here(ms, s, p);
    if (!end)
        ms->cap[i].len = CAP_OPEN;
    return end;
}

/* %bxy at s: from an x to its balancing y.  p points at x. */
static const char *match_balance(pat_state *ms, const char *s, const char *p)
{
    if (p + 1 >= ms->pat_end)
        luaL_error(ms->L, "malformed pattern (missing arguments to '%cb')", PAT_ESC);
    if (s >= ms->src_end || *s != p[0])
        return NULL;
    int open = 1;
    for (const char *q = s + 1; q < ms->src_end; q++) {
        if (*q == p[1]) {
            if (--open == 0) {
                pat_tick(ms, (uint64_t)(q - s));
                return q + 1;
            }
        } else if (*q == p[0]) {
            open++;
        }
    }
    pat_tick(ms, (uint64_t)(ms->src_end - s));
    return NULL;
}

/* %1-%9 at s: the same bytes as capture digit - '1' (which must be closed).  A
 * position capture has no bytes and never matches. */
static const char *match_backref(pat_state *ms, const char *s, int digit)
{
    int i = digit - '1';
    if (i < 0 || i >= ms->level || ms->cap[i].len == CAP_OPEN)
        luaL_error(ms->L, "invalid capture index %c%d", PAT_ESC, i + 1);
    ptrdiff_t len = ms->cap[i].len;
    if (len == CAP_POSITION || ms->src_end - s < len)
        return NULL;
    pat_tick(ms, (uint64_t)len);
    return memcmp(ms->cap[i].start, s, (size_t)len) == 0 ? s + len : NULL;
}

/* Match the pattern from p (to pat_end) at subject position s: one past the
 * match, or NULL. */
static const char *match_here(pat_state *ms, const char *s, const char *p)
{
    if (ms->depth_left == 0)
        luaL_error(ms->L, "pattern too complex");
    ms->depth_left--;
    pat_tick(ms, 1);
    while (p < ms->pat_end) {
        if (*p == '(') {
            s = p + 1 < ms->pat_end && p[1] == ')' ? capture_open(ms, s, p + 2, CAP_POSITION)
                                                   : capture_open(ms, s, p + 1, CAP_OPEN);
            break;
        }
        if (*p == ')') {
            s = capture_close(ms, s, p + 1);
            break;
        }
        if (*p == '$' && p + 1 == ms->pat_end) {
            if (s != ms->src_end)
                s = NULL;
            break;
        }
        if (*p == PAT_ESC && p + 1 < ms->pat_end) {
            char k = p[1];
            if (k == 'b') {
                s = match_balance(ms, s, p + 2);
                if (!s)
                    break;
                p += 4;
                continue;
            }
            if (k == 'f') {
                p += 2;
                if (p >= ms->pat_end || *p != '[')
                    luaL_error(ms->L, "missing '[' after '%cf' in pattern", PAT_ESC);
                const char *ep = item_end(ms, p);
                int before = s > ms->src ? (unsigned char)s[-1] : 0;
                int here = s < ms->src_end ? (unsigned char)*s : 0;
                if (set_has(ms, p, ep - 1, before) || !set_has(ms, p, ep - 1, here)) {
                    s = NULL;
                    break;
                }
                p = ep;
                continue;
            }
            if (c_digit((unsigned char)k)) {
                s = match_backref(ms, s, k);
                if (!s)
                    break;
                p += 2;
                continue;
            }
        }
        /* A single-character item, perhaps followed by a quantifier. */
        const char *ep = item_end(ms, p);
        char q = ep < ms->pat_end ? *ep : '\0';
        if (!item_matches(ms, s, p, ep)) {
            if (q == '*' || q == '?' || q == '-') { /* zero repetitions are fine */
                p = ep + 1;
                continue;
            }
            s = NULL;
            break;
        }
        if (q == '?') {
            const char *end = match_here(ms, s + 1, ep + 1);
            if (end) {
                s = end;
                break;
            }
            p = ep + 1;
            continue;
        }
        if (q == '+' || q == '*') {
            s = match_greedy(ms, q == '+' ? s + 1 : s, p, ep);
            break;
        }
        if (q == '-') {
            s = match_lazy(ms, s, p, ep);
            break;
        }
        s++;
        p = ep;
    }
    ms->depth_left++;
    return s;
}

/* ------------------------------------------------------------------ captures */

/* Capture i of the match s..e: its bytes (*out, length returned) or CAP_POSITION.
 * With no captures at all, capture 0 is the whole match. */
static ptrdiff_t capture_get(pat_state *ms, int i, const char *s, const char *e, const char **out)
{
    if (i >= ms->level) {
        if (i != 0)
            luaL_error(ms->L, "invalid capture index %c%d", PAT_ESC, i + 1);
        *out = s;
        return e - s;
    }
    if (ms->cap[i].len == CAP_OPEN)
        luaL_error(ms->L, "unfinished capture");
    *out = ms->cap[i].start;
    return ms->cap[i].len;
}

static void capture_push(pat_state *ms, int i, const char *s, const char *e)
{
    const char *bytes;
    ptrdiff_t len = capture_get(ms, i, s, e, &bytes);
    if (len == CAP_POSITION)
        lua_pushinteger(ms->L, (lua_Integer)(bytes - ms->src) + 1);
    else
        lua_pushlstring(ms->L, bytes, (size_t)len);
}

/* Push the captures of the match s..e (the whole match if there are none and s is
 * not NULL); returns how many. */
static int captures_push(pat_state *ms, const char *s, const char *e)
{
    int n = ms->level == 0 && s ? 1 : ms->level;
    luaL_checkstack(ms->L, n, "too many captures");
    for (int i = 0; i < n; i++)
        capture_push(ms, i, s, e);
    return n;
}

/* ------------------------------------------------------------ find and match */

/* The 0-based offset where a search starting at Lua position pos begins
 * (negative positions count from the end); may be len + 1 or more. */
static size_t start_offset(lua_Integer pos, size_t len)
{
    if (pos > 0)
        return (size_t)pos - 1;
    if (pos == 0 || pos < -(lua_Integer)len)
        return 0;
    return (size_t)((lua_Integer)len + pos);
}

static int is_plain(const char *p, size_t lp)
{
    for (size_t i = 0; i < lp; i++)
        if (memchr(pat_specials, p[i], sizeof pat_specials - 1)) /* not the final '\0' */
            return 0;
    return 1;
}

/* First occurrence of needle in hay.  glibc's memmem is linear in hl + nl (two-way
 * algorithm), so charging the bytes it passes over is a true count of its work,
 * whatever the needle; a naive search would be quadratic on "aaa...ab". */
static const char *plain_search(pat_state *ms, const char *hay, size_t hl, const char *needle,
                                size_t nl)
{
    const char *hit = memmem(hay, hl, needle, nl);
    pat_tick(ms, hit ? (uint64_t)(hit - hay) + nl : hl);
    return hit;
}

static int find_or_match(lua_State *L, int find)
{
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = start_offset(luaL_optinteger(L, 3, 1), ls);
    if (init > ls) {
        luaL_pushfail(L);
        return 1;
    }
    pat_state ms;
    if (find && (lua_toboolean(L, 4) || is_plain(p, lp))) {
        pat_init(&ms, L, s, ls, p, lp);
        const char *hit = plain_search(&ms, s + init, ls - init, p, lp);
        pat_flush(&ms);
        if (!hit) {
            luaL_pushfail(L);
            return 1;
        }
        lua_pushinteger(L, (lua_Integer)(hit - s) + 1);
        lua_pushinteger(L, (lua_Integer)(hit - s + lp));
        return 2;
    }
    int anchored = lp > 0 && *p == '^';
    if (anchored) {
        p++;
        lp--;
    }
    pat_init(&ms, L, s, ls, p, lp);
    for (const char *at = s + init;; at++) { /* every start up to the end, included */
        pat_restart(&ms);
        const char *end = match_here(&ms, at, p);
        if (end) {
            pat_flush(&ms);
            if (!find)
                return captures_push(&ms, at, end);
            lua_pushinteger(L, (lua_Integer)(at - s) + 1);
            lua_pushinteger(L, (lua_Integer)(end - s));
            return 2 + captures_push(&ms, NULL, NULL);
        }
        if (anchored || at == ms.src_end)
            break;
    }
    pat_flush(&ms);
    luaL_pushfail(L);
    return 1;
}

static int pattern_find(lua_State *L)
{
    return find_or_match(L, 1);
}

static int pattern_match(lua_State *L)
{
    return find_or_match(L, 0);
}

/* -------------------------------------------------------------------- gmatch */

/* The iterator's state (a full userdata, upvalue 3; the subject and the pattern
 * are upvalues 1 and 2, which keeps the pointers below alive).  A '^' in gmatch is
 * an ordinary character, as in Lua 5.4: an anchor would stop the iteration. */
typedef struct {
    pat_state ms;
    const char *pat;
    size_t next;     /* offset where the next search starts; > length when done */
    const char *end; /* end of the previous match: an empty match there is skipped */
} pat_iter;

static int gmatch_next(lua_State *L)
{
    pat_iter *it = lua_touserdata(L, lua_upvalueindex(3));
    pat_state *ms = &it->ms;
    ms->L = L;
    size_t len = (size_t)(ms->src_end - ms->src);
    for (; it->next <= len; it->next++) {
        const char *at = ms->src + it->next;
        pat_restart(ms);
        const char *end = match_here(ms, at, it->pat);
        if (end && end != it->end) {
            it->next = (size_t)(end - ms->src);
            it->end = end;
            pat_flush(ms);
            return captures_push(ms, at, end);
        }
    }
    pat_flush(ms);
    return 0;
}

static int pattern_gmatch(lua_State *L)
{
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = start_offset(luaL_optinteger(L, 3, 1), ls);
    lua_settop(L, 2);
    pat_iter *it = lua_newuserdatauv(L, sizeof *it, 0);
    pat_init(&it->ms, L, s, ls, p, lp);
    it->pat = p;
    it->next = init > ls ? ls + 1 : init;
    it->end = NULL;
    lua_pushcclosure(L, gmatch_next, 3);
    return 1;
}

/* ---------------------------------------------------------------------- gsub */

/* A replacement string: "%0" the whole match, "%1".."%9" a capture, "%%" a '%'. */
static void add_template(pat_state *ms, luaL_Buffer *b, const char *s, const char *e)
{
    size_t tl;
    const char *t = lua_tolstring(ms->L, 3, &tl), *t_end = t + tl;
    pat_tick(ms, tl);
    const char *esc;
    while ((esc = memchr(t, PAT_ESC, (size_t)(t_end - t))) != NULL) {
        luaL_addlstring(b, t, (size_t)(esc - t));
        char c = esc + 1 < t_end ? esc[1] : '\0';
        if (c == PAT_ESC) {
            luaL_addchar(b, PAT_ESC);
        } else if (c == '0') {
            luaL_addlstring(b, s, (size_t)(e - s));
        } else if (c_digit((unsigned char)c)) {
            const char *bytes;
            ptrdiff_t len = capture_get(ms, c - '1', s, e, &bytes);
            if (len == CAP_POSITION) {
                lua_pushinteger(ms->L, (lua_Integer)(bytes - ms->src) + 1);
                luaL_addvalue(b);
            } else {
                luaL_addlstring(b, bytes, (size_t)len);
            }
        } else {
            luaL_error(ms->L, "invalid use of '%c' in replacement string", PAT_ESC);
        }
        t = esc + 2;
    }
    luaL_addlstring(b, t, (size_t)(t_end - t));
}

/* Append the replacement of the match s..e; kind is the type of argument 3. */
static void add_replacement(pat_state *ms, luaL_Buffer *b, const char *s, const char *e, int kind)
{
    lua_State *L = ms->L;
    if (kind == LUA_TSTRING || kind == LUA_TNUMBER) {
        add_template(ms, b, s, e);
        return;
    }
    pat_flush(ms); /* the function or __index that runs next has its own count */
    if (kind == LUA_TFUNCTION) {
        lua_pushvalue(L, 3);
        int n = captures_push(ms, s, e);
        lua_call(L, n, 1);
    } else {
        capture_push(ms, 0, s, e);
        lua_gettable(L, 3);
    }
    if (!lua_toboolean(L, -1)) { /* nil or false: the match stays as it was */
        lua_pop(L, 1);
        luaL_addlstring(b, s, (size_t)(e - s));
    } else if (!lua_isstring(L, -1)) {
        luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
    } else {
        luaL_addvalue(b);
    }
}

static int pattern_gsub(lua_State *L)
{
    size_t ls, lp;
    const char *src = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    int kind = lua_type(L, 3);
    lua_Integer max = luaL_optinteger(L, 4, (lua_Integer)ls + 1);
    luaL_argexpected(L,
                     kind == LUA_TNUMBER || kind == LUA_TSTRING || kind == LUA_TFUNCTION ||
                         kind == LUA_TTABLE,
                     3, "string/function/table");
    int anchored = lp > 0 && *p == '^';
    if (anchored) {
        p++;
        lp--;
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    pat_state ms;
    pat_init(&ms, L, src, ls, p, lp);
    const char *at = src, *last = NULL;
    lua_Integer n = 0;
    while (n < max) {
        pat_restart(&ms);
        const char *end = match_here(&ms, at, p);
        if (end && end != last) { /* not an empty match right after the previous one */
            n++;
            add_replacement(&ms, &b, at, end, kind);
            at = last = end;
        } else if (at < ms.src_end) {
            luaL_addchar(&b, *at++);
        } else {
            break;
        }
        if (anchored)
            break;
    }
    pat_flush(&ms);
    luaL_addlstring(&b, at, (size_t)(ms.src_end - at));
    luaL_pushresult(&b);
    lua_pushinteger(L, n);
    return 2;
}

/* ------------------------------------------------------------------- install */

void souk_pattern_install(lua_State *L, int idx)
{
    static const luaL_Reg fns[] = {{"find", pattern_find},
                                   {"match", pattern_match},
                                   {"gmatch", pattern_gmatch},
                                   {"gsub", pattern_gsub},
                                   {NULL, NULL}};
    idx = lua_absindex(L, idx);
    for (const luaL_Reg *f = fns; f->name; f++) {
        lua_pushcfunction(L, f->func);
        lua_setfield(L, idx, f->name);
    }
}
