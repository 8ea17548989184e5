/* script_sandbox.c -- one sandboxed Lua state: allocator, budget hook, libraries,
 * read-only tables, protected runs.  See script_sandbox.h and docs/scripting.md. */
#include "script_sandbox.h"

#include "log.h"
#include "script_json.h"
#include "script_pattern.h"

#include <lauxlib.h>
#include <lualib.h>
#include <souk/souk.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Up to Lua 5.4.4 the stack is reallocated into a new block and the old one stays
 * intact until the copy succeeds, so the allocator may walk the call stack when it
 * refuses a block and name the exact line.  Later releases turn stack pointers into
 * offsets while the stack moves; there the line comes from the last budget check
 * (at most SOUK_SANDBOX_HOOK_STEP instructions old). */
#define SANDBOX_ALLOC_SEES_STACK (LUA_VERSION_RELEASE_NUM <= 50404)

struct souk_sandbox {
    lua_State *L;
    souk_sandbox_extra_fn extra;
    char name[SOUK_SANDBOX_NAME_MAX];
    size_t mem_used, mem_limit;
    int64_t budget;              /* instructions per run */
    int64_t spent;               /* instructions counted in this run (by hook steps) */
    int step;                    /* instructions between two hook calls */
    int budget_spent;            /* the budget of this run is exhausted */
    int mem_refused;             /* the allocator refused a block during this run */
    int running;                 /* inside souk_sandbox_run: the stack may be inspected */
    char where[LUA_IDSIZE + 24]; /* last known "pricing.lua:12" of this run, or "" */
    char budget_msg[SOUK_SANDBOX_ERR_MAX];
};

/* Registry key of the real math.randomseed (hidden from scripts). */
static const char randomseed_key = 'r';

souk_sandbox *souk_sandbox_of(lua_State *L)
{
    void *ud = NULL;
    lua_getallocf(L, &ud);
    return ud;
}

lua_State *souk_sandbox_lua(souk_sandbox *sb)
{
    return sb->L;
}
const char *souk_sandbox_name(souk_sandbox *sb)
{
    return sb->name;
}
size_t souk_sandbox_memory(souk_sandbox *sb)
{
    return sb->mem_used;
}

/* Record the innermost Lua function's position as "chunk:line" in sb->where. */
static void sandbox_note_where(souk_sandbox *sb)
{
    lua_Debug ar;
    for (int level = 0; lua_getstack(sb->L, level, &ar); level++) {
        if (!lua_getinfo(sb->L, "Sl", &ar))
            break;
        if (ar.currentline > 0) {
            snprintf(sb->where, sizeof sb->where, "%s:%d", ar.short_src, ar.currentline);
            return;
        }
    }
}

/* ------------------------------------------------------------------ allocator */

/* The memory ceiling.  Invariant: mem_used <= mem_limit (only growth is refused,
 * and only when it would cross the limit).  Refusing makes Lua collect garbage
 * and try once more; if that fails too the script gets a memory error. */
static void *sandbox_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    souk_sandbox *sb = ud;
    size_t old = ptr ? osize : 0; /* with ptr NULL, osize is a type tag */
    if (nsize == 0) {
        free(ptr);
        sb->mem_used -= old;
        return NULL;
    }
    if (nsize > old && nsize - old > sb->mem_limit - sb->mem_used) {
        sb->mem_refused = 1;
#if SANDBOX_ALLOC_SEES_STACK
        if (sb->running)
            sandbox_note_where(sb);
#endif
        return NULL;
    }
    void *p = realloc(ptr, nsize);
    if (p)
        sb->mem_used = sb->mem_used - old + nsize;
    return p;
}

/* ---------------------------------------------------------------- budget hook */

/* Raise the budget error of this run (position from sb->where).  Once spent,
 * every later check fails again at once, so code that runs during unwinding
 * (__close handlers) gets at most one more step. */
static int budget_exceeded(lua_State *L, souk_sandbox *sb)
{
    sb->budget_spent = 1;
    snprintf(sb->budget_msg, sizeof sb->budget_msg,
             "%s: instruction budget exceeded (%lld instructions)",
             sb->where[0] ? sb->where : sb->name, (long long)sb->budget);
    lua_pushstring(L, sb->budget_msg);
    return lua_error(L);
}

static void sandbox_hook(lua_State *L, lua_Debug *ar)
{
    souk_sandbox *sb = souk_sandbox_of(L);
    sb->spent += sb->step;
#if !SANDBOX_ALLOC_SEES_STACK
    /* Where a memory error will say it happened (see SANDBOX_ALLOC_SEES_STACK). */
    if (lua_getinfo(L, "Sl", ar) && ar->currentline > 0)
        snprintf(sb->where, sizeof sb->where, "%s:%d", ar->short_src, ar->currentline);
#endif
    if (sb->spent < sb->budget)
        return;
    if (lua_getinfo(L, "Sl", ar) && ar->currentline > 0)
        snprintf(sb->where, sizeof sb->where, "%s:%d", ar->short_src, ar->currentline);
    budget_exceeded(L, sb);
}

void souk_sandbox_charge(lua_State *L, uint64_t units)
{
    souk_sandbox *sb = souk_sandbox_of(L);
    uint64_t left = sb->spent < sb->budget ? (uint64_t)(sb->budget - sb->spent) : 0;
    if (units < left) {
        sb->spent += (int64_t)units;
        return;
    }
    sb->spent = sb->budget;
    sandbox_note_where(sb); /* the Lua line that called the C function */
    budget_exceeded(L, sb);
}

int souk_sandbox_budget_spent(lua_State *L)
{
    return souk_sandbox_of(L)->budget_spent;
}

int souk_sandbox_reraise_budget(lua_State *L)
{
    lua_pushstring(L, souk_sandbox_of(L)->budget_msg);
    return lua_error(L);
}

/* ------------------------------------------------------------ error messages */

/* Whether msg already starts with a position "something.lua:LINE:". */
static int has_position(const char *msg)
{
    const char *colon = strchr(msg, ':');
    if (!colon || colon - msg < 5 || strncmp(colon - 4, ".lua", 4) != 0)
        return 0;
    const char *p = colon + 1;
    if (*p < '0' || *p > '9')
        return 0;
    while (*p >= '0' && *p <= '9')
        p++;
    return *p == ':';
}

/* Message handler of every run: turns any error value into one string that starts
 * with the script's name and line. */
static int sandbox_msgh(lua_State *L)
{
    souk_sandbox *sb = souk_sandbox_of(L);
    if (sb->budget_spent) {
        lua_pushstring(L, sb->budget_msg);
        return 1;
    }
    const char *msg;
    if (lua_type(L, 1) == LUA_TSTRING)
        msg = lua_tostring(L, 1);
    else if (lua_type(L, 1) == LUA_TNUMBER || luaL_getmetafield(L, 1, "__tostring") != LUA_TNIL)
        msg = luaL_tolstring(L, 1, NULL);
    else
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    if (has_position(msg))
        return 1;
    lua_Debug ar;
    for (int level = 1; lua_getstack(L, level, &ar); level++) {
        if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
            lua_pushfstring(L, "%s:%d: %s", ar.short_src, ar.currentline, msg);
            return 1;
        }
    }
    lua_pushfstring(L, "%s: %s", sb->name, msg);
    return 1;
}

/* ------------------------------------------------------- replaced base functions */

/* print(...) writes one line to the souk log, never to stdout (stdout may be a
 * CLI's output). */
static int sandbox_print(lua_State *L)
{
    int n = lua_gettop(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 1; i <= n; i++) {
        if (i > 1)
            luaL_addchar(&b, '\t');
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    lua_Debug ar;
    const char *src = souk_sandbox_of(L)->name;
    int line = 0;
    if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
        src = ar.short_src;
        line = ar.currentline;
    }
    souk_log(SOUK_LOG_INFO, "script %s:%d: %s", src, line, lua_tostring(L, -1));
    return 0;
}

/* pcall and xpcall as in Lua, except that a spent budget is never swallowed: a
 * script must not be able to catch the error that stops it. */
static int sandbox_pcall(lua_State *L)
{
    luaL_checkany(L, 1);
    int status = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
    if (status != LUA_OK && souk_sandbox_budget_spent(L))
        return souk_sandbox_reraise_budget(L);
    lua_pushboolean(L, status == LUA_OK);
    lua_insert(L, 1);
    return lua_gettop(L);
}

static int sandbox_xpcall(lua_State *L)
{
    int n = lua_gettop(L);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushvalue(L, 1); /* f */
    lua_copy(L, 2, 1);   /* handler in slot 1 */
    lua_replace(L, 2);   /* f in slot 2, arguments follow */
    int status = lua_pcall(L, n - 2, LUA_MULTRET, 1);
    if (status != LUA_OK && souk_sandbox_budget_spent(L))
        return souk_sandbox_reraise_budget(L);
    lua_pushboolean(L, status == LUA_OK);
    lua_replace(L, 1);
    return lua_gettop(L);
}

/* setmetatable without finalizers: a __gc method would run at an arbitrary later
 * moment, inside another call and its budget. */
static int sandbox_setmetatable(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL)
            return luaL_error(L, "setmetatable: __gc metamethods are not available in scripts");
        lua_pop(L, 1);
    }
    lua_settop(L, 2);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, 2, 1);
    return 1;
}

/* --------------------------------------------- loops inside library functions */

/* The count hook only runs between VM instructions, never inside a C function,
 * and the memory ceiling only stops loops that allocate.  A few library functions
 * loop as many times as their arguments say without allocating: string.rep of an
 * empty string, table.move over a range of holes, table.insert, table.remove and
 * table.sort over a length that a sparse table or __len makes huge.  Left alone,
 * one call would hold the process for hours.  Their wrappers below charge the
 * loop to the budget (one instruction per element) before it runs, then call the
 * library's own function (upvalue 1) in their own call frame, so that its error
 * messages still name it ("bad argument #2 to 'rep'").  Appending or removing
 * the last element costs nothing extra: only shifted elements are charged.
 *
 * Pattern matching (string.find, match, gmatch, gsub) backtracks inside C and
 * can take time exponential in the pattern's length: those four are replaced by
 * the matcher of script_pattern.c, which charges its own steps. */

static int call_library(lua_State *L)
{
    return lua_tocfunction(L, lua_upvalueindex(1))(L);
}

/* string.rep(s, n [, sep]): with s and sep both empty, the library copies nothing
 * n times; the answer is "" whatever n is.  Any other call writes at least one
 * byte per round, which the memory ceiling bounds. */
static int sandbox_rep(lua_State *L)
{
    size_t len, sep_len;
    luaL_checklstring(L, 1, &len);
    lua_Integer n = luaL_checkinteger(L, 2);
    luaL_optlstring(L, 3, "", &sep_len);
    if (n <= 0 || len + sep_len == 0) {
        lua_pushliteral(L, "");
        return 1;
    }
    return call_library(L);
}

/* table.move(a1, f, e, t [, a2]) visits e - f + 1 slots. */
static int sandbox_move(lua_State *L)
{
    lua_Integer f = luaL_checkinteger(L, 2), e = luaL_checkinteger(L, 3);
    if (e >= f) {
        uint64_t span = (uint64_t)e - (uint64_t)f;
        souk_sandbox_charge(L, span == UINT64_MAX ? span : span + 1);
    }
    return call_library(L);
}

/* table.insert, table.remove and table.sort work on #t elements.  A __len
 * metamethod could give the library another length than the one charged here, so
 * these functions take plain tables (a souk.array included).  Returns #t. */
static uint64_t plain_length(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    if (luaL_getmetafield(L, 1, "__len") != LUA_TNIL)
        luaL_argerror(L, 1, "a table with a __len metamethod is not supported in scripts");
    return lua_rawlen(L, 1);
}

/* table.insert(t, [pos,] v) shifts t[pos..#t] up by one. */
static int sandbox_insert(lua_State *L)
{
    uint64_t n = plain_length(L);
    if (lua_gettop(L) == 3) {
        lua_Integer pos = luaL_checkinteger(L, 2);
        if (pos >= 1 && (uint64_t)pos <= n + 1)
            souk_sandbox_charge(L, n + 1 - (uint64_t)pos);
    }
    return call_library(L);
}

/* table.remove(t [, pos]) shifts t[pos+1..#t] down by one. */
static int sandbox_remove(lua_State *L)
{
    uint64_t n = plain_length(L);
    lua_Integer pos = luaL_optinteger(L, 2, (lua_Integer)n);
    if (pos >= 1 && (uint64_t)pos <= n)
        souk_sandbox_charge(L, n - (uint64_t)pos);
    return call_library(L);
}

/* table.sort(t [, comp]): about n log2 n comparisons. */
static int sandbox_sort(lua_State *L)
{
    uint64_t n = plain_length(L), cost = n;
    for (uint64_t k = n; k > 1; k >>= 1)
        cost += n;
    souk_sandbox_charge(L, cost);
    return call_library(L);
}

/* Replace lib[name] (lib at index lib) by f with the original as upvalue 1. */
static void wrap_library_function(lua_State *L, int lib, const char *name, lua_CFunction f)
{
    lib = lua_absindex(L, lib);
    lua_getfield(L, lib, name);
    lua_pushcclosure(L, f, 1);
    lua_setfield(L, lib, name);
}

static int readonly_newindex(lua_State *L);
static int globals_newindex(lua_State *L);

/* rawset must not get around the read-only tables. */
static int sandbox_rawset(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checkany(L, 2);
    luaL_checkany(L, 3);
    lua_settop(L, 3);
    if (lua_getmetatable(L, 1)) {
        lua_pushliteral(L, "__newindex");
        lua_rawget(L, -2);
        lua_CFunction f = lua_tocfunction(L, -1);
        if (f == readonly_newindex || f == globals_newindex) {
            lua_pushvalue(L, 1);
            lua_pushvalue(L, 2);
            lua_pushvalue(L, 3);
            lua_call(L, 3, 0);
            lua_settop(L, 1);
            return 1;
        }
        lua_pop(L, 2);
    }
    lua_rawset(L, 1);
    return 1;
}

/* ---------------------------------------------------------- read-only tables */

static const char *key_name(lua_State *L, int idx)
{
    return lua_type(L, idx) == LUA_TSTRING ? lua_tostring(L, idx) : luaL_typename(L, idx);
}

static int readonly_newindex(lua_State *L)
{
    return luaL_error(L, "attempt to modify read-only table '%s' (field '%s')",
                      lua_tostring(L, lua_upvalueindex(1)), key_name(L, 2));
}

/* New globals are the script's own; the names of the sandbox's globals are not. */
static int globals_newindex(lua_State *L)
{
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL)
        return luaL_error(L, "global '%s' is read-only", key_name(L, 2));
    lua_settop(L, 3);
    lua_rawset(L, 1);
    return 0;
}

static int readonly_next(lua_State *L)
{
    lua_settop(L, 2);
    if (lua_next(L, lua_upvalueindex(1)))
        return 2;
    lua_pushnil(L);
    return 1;
}

/* pairs(string) lists the library without handing out the table behind it. */
static int readonly_pairs(lua_State *L)
{
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushcclosure(L, readonly_next, 1);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

/* Replace the table on top of the stack by an empty proxy that reads through to it
 * and refuses writes.  The proxy's metatable is protected (getmetatable gives
 * false, setmetatable fails), so the table behind it cannot be reached. */
static void sandbox_freeze(lua_State *L, const char *what)
{
    lua_newtable(L);
    lua_createtable(L, 0, 4);
    lua_pushvalue(L, -3);
    lua_setfield(L, -2, "__index");
    lua_pushstring(L, what);
    lua_pushcclosure(L, readonly_newindex, 1);
    lua_setfield(L, -2, "__newindex");
    lua_pushvalue(L, -3);
    lua_pushcclosure(L, readonly_pairs, 1);
    lua_setfield(L, -2, "__pairs");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_remove(L, -2);
}

/* ------------------------------------------------------------ building a state */

static const char *const removed_globals[] = {"load",    "loadfile", "dofile", "collectgarbage",
                                              "require", "warn",     NULL};
static const char *const frozen_libraries[] = {LUA_STRLIBNAME,  LUA_TABLIBNAME, LUA_MATHLIBNAME,
                                               LUA_UTF8LIBNAME, "souk",         NULL};

static int sandbox_setup(lua_State *L)
{
    souk_sandbox *sb = souk_sandbox_of(L);
    /* Only these libraries are opened: no io, os, debug, package, coroutine. */
    luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
    luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
    luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 1);
    luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 1);
    luaL_requiref(L, LUA_UTF8LIBNAME, luaopen_utf8, 1);
    lua_settop(L, 0);

    lua_pushglobaltable(L);
    int g = lua_gettop(L);
    for (int i = 0; removed_globals[i]; i++) {
        lua_pushnil(L);
        lua_setfield(L, g, removed_globals[i]);
    }
    lua_pushcfunction(L, sandbox_print);
    lua_setfield(L, g, "print");
    lua_pushcfunction(L, sandbox_pcall);
    lua_setfield(L, g, "pcall");
    lua_pushcfunction(L, sandbox_xpcall);
    lua_setfield(L, g, "xpcall");
    lua_pushcfunction(L, sandbox_rawset);
    lua_setfield(L, g, "rawset");
    lua_getfield(L, g, "setmetatable");
    lua_pushcclosure(L, sandbox_setmetatable, 1);
    lua_setfield(L, g, "setmetatable");

    lua_getfield(L, g, LUA_STRLIBNAME);
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    wrap_library_function(L, -1, "rep", sandbox_rep);
    souk_pattern_install(L, -1);
    lua_pop(L, 1);
    lua_getfield(L, g, LUA_TABLIBNAME);
    wrap_library_function(L, -1, "move", sandbox_move);
    wrap_library_function(L, -1, "insert", sandbox_insert);
    wrap_library_function(L, -1, "remove", sandbox_remove);
    wrap_library_function(L, -1, "sort", sandbox_sort);
    lua_pop(L, 1);
    /* The host reseeds math.random before every run; scripts cannot reseed (a
     * randomseed() without argument would seed from the time). */
    lua_getfield(L, g, LUA_MATHLIBNAME);
    lua_getfield(L, -1, "randomseed");
    lua_rawsetp(L, LUA_REGISTRYINDEX, &randomseed_key);
    lua_pushnil(L);
    lua_setfield(L, -2, "randomseed");
    lua_pop(L, 1);

    souk_json_open(L);
    lua_setfield(L, g, "souk");
    for (int i = 0; frozen_libraries[i]; i++) {
        lua_getfield(L, g, frozen_libraries[i]);
        sandbox_freeze(L, frozen_libraries[i]);
        lua_setfield(L, g, frozen_libraries[i]);
    }
    /* ("x"):upper() goes through the string metatable: point it at the proxy and
     * protect it, or getmetatable("").__index would hand out the real library. */
    lua_pushliteral(L, "");
    lua_getmetatable(L, -1);
    lua_getfield(L, g, LUA_STRLIBNAME);
    lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 2);

    if (sb->extra) {
        lua_pushvalue(L, g);
        sb->extra(L);
        lua_pop(L, 1);
    }

    /* The globals seen by chunks become a proxy of g: reads fall through to g,
     * assignments to g's names fail, any other name is the script's own global. */
    lua_newtable(L);
    lua_createtable(L, 0, 3);
    lua_pushvalue(L, g);
    lua_setfield(L, -2, "__index");
    lua_pushvalue(L, g);
    lua_pushcclosure(L, globals_newindex, 1);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_setfield(L, g, LUA_GNAME);
    lua_rawseti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
    return 0;
}

souk_sandbox *souk_sandbox_new(const char *name, const souk_script_limits *limits,
                               souk_sandbox_extra_fn extra, char *err, size_t errlen)
{
    souk_sandbox *sb = calloc(1, sizeof *sb);
    if (!sb) {
        snprintf(err, errlen, "%s: out of memory", name);
        return NULL;
    }
    snprintf(sb->name, sizeof sb->name, "%s", name);
    sb->extra = extra;
    sb->mem_limit = limits->memory;
    sb->budget = limits->instructions > 0 ? limits->instructions : 1;
    sb->step = sb->budget < SOUK_SANDBOX_HOOK_STEP ? (int)sb->budget : SOUK_SANDBOX_HOOK_STEP;
    sb->L = lua_newstate(sandbox_alloc, sb);
    if (!sb->L) {
        snprintf(err, errlen,
                 "%s: memory limit (%zu bytes, scripts.memory) is too small for a Lua state",
                 name, sb->mem_limit);
        free(sb);
        return NULL;
    }
    lua_pushcfunction(sb->L, sandbox_setup);
    int status = lua_pcall(sb->L, 0, 0, 0);
    if (status != LUA_OK) {
        if (status == LUA_ERRMEM)
            snprintf(err, errlen,
                     "%s: memory limit (%zu bytes, scripts.memory) is too small for a Lua state",
                     name, sb->mem_limit);
        else
            snprintf(err, errlen, "%s: cannot build the sandbox: %s", name,
                     lua_tostring(sb->L, -1));
        souk_sandbox_free(sb);
        return NULL;
    }
    lua_sethook(sb->L, sandbox_hook, LUA_MASKCOUNT, sb->step);
    return sb;
}

void souk_sandbox_free(souk_sandbox *sb)
{
    if (!sb)
        return;
    lua_close(sb->L);
    free(sb);
}

/* --------------------------------------------------------------------- loading */

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* The whole file into a malloc'd buffer; -1 with err. */
static int read_source(const char *path, char **out, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        fclose(f);
        return -1;
    }
    if ((unsigned long long)st.st_size > SOUK_SANDBOX_SOURCE_MAX) {
        snprintf(err, errlen, "%s: larger than %u bytes", path, SOUK_SANDBOX_SOURCE_MAX);
        fclose(f);
        return -1;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    size_t n = buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
    int failed = !buf || ferror(f);
    fclose(f);
    if (failed) {
        snprintf(err, errlen, "%s: cannot read: %s", path, buf ? strerror(errno) : "out of memory");
        free(buf);
        return -1;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

int souk_sandbox_load_buffer(souk_sandbox *sb, const char *name, const char *text, size_t len,
                             char *err, size_t errlen)
{
    if (len > 0 && text[0] == LUA_SIGNATURE[0]) {
        snprintf(err, errlen, "%s: precompiled (binary) chunks are refused: give the Lua source",
                 name);
        return -1;
    }
    static const char bom[] = "\xEF\xBB\xBF";
    if (len >= 3 && memcmp(text, bom, 3) == 0) {
        text += 3;
        len -= 3;
    }
    char chunkname[SOUK_SANDBOX_NAME_MAX + 2];
    snprintf(chunkname, sizeof chunkname, "@%s", name);
    sb->mem_refused = 0;
    /* Mode "t" as well as the check above: never hand bytecode to the loader. */
    int status = luaL_loadbufferx(sb->L, text, len, chunkname, "t");
    if (status == LUA_OK)
        return 0;
    if (status == LUA_ERRMEM && sb->mem_refused)
        snprintf(err, errlen, "%s: memory limit exceeded (%zu bytes) while compiling", name,
                 sb->mem_limit);
    else
        snprintf(err, errlen, "%s", lua_tostring(sb->L, -1));
    lua_pop(sb->L, 1);
    return -1;
}

int souk_sandbox_load_file(souk_sandbox *sb, const char *path, char *err, size_t errlen)
{
    char *src;
    size_t len;
    if (read_source(path, &src, &len, err, errlen) != 0)
        return -1;
    int rc = souk_sandbox_load_buffer(sb, base_name(path), src, len, err, errlen);
    free(src);
    return rc;
}

/* ------------------------------------------------------------------------ runs */

static int sandbox_reseed(lua_State *L)
{
    lua_rawgetp(L, LUA_REGISTRYINDEX, &randomseed_key);
    lua_pushinteger(L, SOUK_SANDBOX_RANDOM_SEED);
    lua_call(L, 1, 0);
    return 0;
}

int souk_sandbox_run(souk_sandbox *sb, int nargs, int nresults, char *err, size_t errlen)
{
    lua_State *L = sb->L;
    int fn = lua_gettop(L) - nargs;
    if (!lua_checkstack(L, LUA_MINSTACK)) {
        snprintf(err, errlen, "%s: Lua stack exhausted", sb->name);
        lua_settop(L, fn - 1);
        return -1;
    }
    sb->spent = 0;
    sb->budget_spent = 0;
    sb->mem_refused = 0;
    sb->where[0] = '\0';
    lua_sethook(L, sandbox_hook, LUA_MASKCOUNT, sb->step); /* restarts the count */
    lua_pushcfunction(L, sandbox_reseed);
    if (lua_pcall(L, 0, 0, 0) != LUA_OK)
        lua_pop(L, 1); /* could only fail for memory; the call will say so */
    lua_pushcfunction(L, sandbox_msgh);
    lua_insert(L, fn);
    sb->running = 1;
    int status = lua_pcall(L, nargs, nresults, fn);
    sb->running = 0;
    if (status == LUA_OK) {
        lua_remove(L, fn);
        return 0;
    }
    if (sb->budget_spent)
        snprintf(err, errlen, "%s", sb->budget_msg);
    else if (sb->mem_refused && (status == LUA_ERRMEM || status == LUA_ERRERR))
        snprintf(err, errlen, "%s: memory limit exceeded (%zu bytes)",
                 sb->where[0] ? sb->where : sb->name, sb->mem_limit);
    else if (lua_type(L, -1) == LUA_TSTRING)
        snprintf(err, errlen, "%s", lua_tostring(L, -1));
    else
        snprintf(err, errlen, "%s: error (status %d)", sb->name, status);
    lua_settop(L, fn - 1);
    /* Give back at once what the failed call left behind, so that the next call
     * starts well below the ceiling (a memory bomb leaves it full of garbage). */
    lua_gc(L, LUA_GCCOLLECT);
    return -1;
}

int souk_sandbox_cpcall(souk_sandbox *sb, lua_CFunction f, void *ud, int nresults, char *err,
                        size_t errlen)
{
    if (!lua_checkstack(sb->L, 2)) {
        snprintf(err, errlen, "%s: Lua stack exhausted", sb->name);
        return -1;
    }
    lua_pushcfunction(sb->L, f);
    lua_pushlightuserdata(sb->L, ud);
    return souk_sandbox_run(sb, 1, nresults, err, errlen);
}

int souk_sandbox_load_module(souk_sandbox *sb, const char *path, char *err, size_t errlen)
{
    if (souk_sandbox_load_file(sb, path, err, errlen) != 0 ||
        souk_sandbox_run(sb, 0, 1, err, errlen) != 0)
        return -1;
    if (!lua_istable(sb->L, -1)) {
        snprintf(err, errlen, "%s: a script must return a table (its module), got %s",
                 base_name(path), luaL_typename(sb->L, -1));
        lua_pop(sb->L, 1);
        return -1;
    }
    return 0;
}
