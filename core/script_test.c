/* script_test.c -- the assertion helpers of NAME_test.lua and the runner of its
 * cases.  See script_test.h; docs/scripting.md shows a test file. */
#include "script_test.h"

#include "script_json.h"
#include "script_sandbox.h"

#include <lauxlib.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest rendering of a value in a failure message ("\"a long str...\""). */
#define TEST_RENDER_MAX 96
/* Longest string shown inside a rendering. */
#define TEST_STRING_SHOWN 60
/* Deepest tables expect_eq walks (cyclic tables stop here instead of looping). */
#define TEST_COMPARE_DEPTH 32
#define TEST_PATH_MAX 160
#define TEST_MSG_MAX 512

/* --------------------------------------------------------------- rendering */

static void render(lua_State *L, int idx, char *out, size_t n)
{
    switch (lua_type(L, idx)) {
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) {
            snprintf(out, n, "%lld", (long long)lua_tointeger(L, idx));
        } else {
            /* A float always shows as one (5.0), so "expected 5, got 5.0" explains
             * why integral floats do not compare equal to integers. */
            snprintf(out, n, "%.14g", (double)lua_tonumber(L, idx));
            if (strspn(out, "-0123456789") == strlen(out) && strlen(out) + 3 <= n)
                strcat(out, ".0");
        }
        break;
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        snprintf(out, n, "\"%.*s\"%s", (int)(len > TEST_STRING_SHOWN ? TEST_STRING_SHOWN : len), s,
                 len > TEST_STRING_SHOWN ? "..." : "");
        break;
    }
    case LUA_TBOOLEAN: snprintf(out, n, "%s", lua_toboolean(L, idx) ? "true" : "false"); break;
    case LUA_TNIL: snprintf(out, n, "nil"); break;
    case LUA_TLIGHTUSERDATA:
        snprintf(out, n, "%s", lua_touserdata(L, idx) ? "a light userdata" : "souk.null");
        break;
    default: snprintf(out, n, "a %s", luaL_typename(L, idx)); break;
    }
}

/* -------------------------------------------------------------- deep compare */

typedef struct compare {
    lua_State *L;
    char path[TEST_PATH_MAX];
    size_t plen;
    char msg[TEST_MSG_MAX];
} compare;

static size_t compare_push_key(compare *c, int key)
{
    lua_State *L = c->L;
    size_t old = c->plen;
    int n;
    if (lua_type(L, key) == LUA_TSTRING)
        n = snprintf(c->path + old, sizeof c->path - old, "%s%s", old ? "." : "",
                     lua_tostring(L, key));
    else if (lua_isinteger(L, key))
        n = snprintf(c->path + old, sizeof c->path - old, "[%lld]",
                     (long long)lua_tointeger(L, key));
    else
        n = snprintf(c->path + old, sizeof c->path - old, "[%s]", luaL_typename(L, key));
    c->plen = n > 0 && old + (size_t)n < sizeof c->path ? old + (size_t)n : old;
    c->path[c->plen] = '\0';
    return old;
}

static void compare_pop_key(compare *c, size_t old)
{
    c->plen = old;
    c->path[old] = '\0';
}

static int compare_differ(compare *c, int actual, int expected)
{
    char a[TEST_RENDER_MAX], e[TEST_RENDER_MAX];
    render(c->L, actual, a, sizeof a);
    render(c->L, expected, e, sizeof e);
    if (c->plen)
        snprintf(c->msg, sizeof c->msg, "expected %s, got %s (at %s)", e, a, c->path);
    else
        snprintf(c->msg, sizeof c->msg, "expected %s, got %s", e, a);
    return 0;
}

/* 1 when the values at a and e (absolute indices) are equal, else 0 with c->msg.
 * Each pair compared costs one instruction of the case's budget: a table shared
 * by both halves of its parent, nested 30 deep, is 2^30 comparisons that the
 * count hook would never see. */
static int compare_values(compare *c, int a, int e, int depth)
{
    lua_State *L = c->L;
    souk_sandbox_charge(L, 1);
    int ta = lua_type(L, a), te = lua_type(L, e);
    if (ta == LUA_TNUMBER && te == LUA_TNUMBER) {
        if (lua_isinteger(L, a) != lua_isinteger(L, e) || !lua_rawequal(L, a, e))
            return compare_differ(c, a, e);
        return 1;
    }
    if (ta != LUA_TTABLE || te != LUA_TTABLE)
        return lua_rawequal(L, a, e) ? 1 : compare_differ(c, a, e);
    if (lua_rawequal(L, a, e))
        return 1;
    if (depth >= TEST_COMPARE_DEPTH) {
        snprintf(c->msg, sizeof c->msg, "tables nested deeper than %d levels (at %s)",
                 TEST_COMPARE_DEPTH, c->plen ? c->path : "top");
        return 0;
    }
    luaL_checkstack(L, 6, "expect_eq");
    /* Every key of the expected table, then the keys only the actual one has. */
    lua_pushnil(L);
    while (lua_next(L, e)) {
        lua_pushvalue(L, -2);
        lua_rawget(L, a);
        size_t old = compare_push_key(c, -3);
        int same = compare_values(c, lua_gettop(L), lua_gettop(L) - 1, depth + 1);
        compare_pop_key(c, old);
        lua_pop(L, 2);
        if (!same) {
            lua_pop(L, 1);
            return 0;
        }
    }
    lua_pushnil(L);
    while (lua_next(L, a)) {
        lua_pushvalue(L, -2);
        if (lua_rawget(L, e) == LUA_TNIL) {
            compare_push_key(c, -3);
            compare_differ(c, lua_gettop(L) - 1, lua_gettop(L));
            lua_pop(L, 3);
            return 0;
        }
        lua_pop(L, 2);
    }
    return 1;
}

/* ----------------------------------------------------------------- helpers */

static int test_expect(lua_State *L)
{
    if (lua_toboolean(L, 1))
        return 0;
    return luaL_error(L, "%s", luaL_optstring(L, 2, "expectation failed"));
}

static int test_expect_eq(lua_State *L)
{
    lua_settop(L, 3);
    compare c;
    c.L = L;
    c.plen = 0;
    c.path[0] = '\0';
    c.msg[0] = '\0';
    if (compare_values(&c, 1, 2, 0))
        return 0;
    if (lua_isstring(L, 3))
        return luaL_error(L, "%s: %s", lua_tostring(L, 3), c.msg);
    return luaL_error(L, "%s", c.msg);
}

static int test_expect_error(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    const char *text = luaL_optstring(L, 2, NULL);
    lua_settop(L, 2);
    lua_pushvalue(L, 1);
    int status = lua_pcall(L, 0, 0, 0);
    if (status == LUA_OK)
        return luaL_error(L, "expected an error, got none");
    if (souk_sandbox_budget_spent(L))
        return souk_sandbox_reraise_budget(L); /* a runaway case fails, never passes */
    const char *msg =
        lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : luaL_tolstring(L, -1, NULL);
    if (text && !strstr(msg, text))
        return luaL_error(L, "expected an error containing \"%s\", got \"%s\"", text, msg);
    return 1;
}

static int test_helpers(lua_State *L)
{
    lua_pushcfunction(L, test_expect);
    lua_setfield(L, -2, "expect");
    lua_pushcfunction(L, test_expect_eq);
    lua_setfield(L, -2, "expect_eq");
    lua_pushcfunction(L, test_expect_error);
    lua_setfield(L, -2, "expect_error");
    return 0;
}

/* ------------------------------------------------------------------ runner */

static int set_module_global(lua_State *L)
{
    lua_settop(L, 1);
    lua_setglobal(L, "M");
    return 0;
}

/* Run cases[name]: arguments are the cases table and the name (light userdata). */
static int run_case(lua_State *L)
{
    lua_pushstring(L, lua_touserdata(L, 2));
    lua_rawget(L, 1);
    lua_call(L, 0, 0);
    return 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

int souk_script_run_tests(const char *script, const char *script_path, const char *test_path,
                          const souk_script_limits *limits, souk_script_report_fn report, void *ud)
{
    char err[SOUK_SANDBOX_ERR_MAX];
    const char *test_name = base_name(test_path);
    souk_sandbox *sb = souk_sandbox_new(test_name, limits, test_helpers, err, sizeof err);
    if (!sb) {
        report(ud, script, NULL, err);
        return -1;
    }
    lua_State *L = souk_sandbox_lua(sb);
    if (souk_sandbox_load_module(sb, script_path, err, sizeof err) != 0) {
        report(ud, script, NULL, err);
        souk_sandbox_free(sb);
        return -1;
    }
    lua_pushcfunction(L, set_module_global);
    lua_insert(L, -2);
    if (souk_sandbox_run(sb, 1, 0, err, sizeof err) != 0 ||
        souk_sandbox_load_file(sb, test_path, err, sizeof err) != 0 ||
        souk_sandbox_run(sb, 0, 1, err, sizeof err) != 0) {
        report(ud, script, NULL, err);
        souk_sandbox_free(sb);
        return 1;
    }
    if (!lua_istable(L, -1)) {
        snprintf(err, sizeof err, "%s: a test file must return a table of test cases, got %s",
                 test_name, luaL_typename(L, -1));
        report(ud, script, NULL, err);
        souk_sandbox_free(sb);
        return 1;
    }
    int cases = lua_gettop(L);
    int failed = 0;
    size_t n = 0, cap = 0;
    char **names = NULL;
    lua_pushnil(L);
    while (lua_next(L, cases)) {
        if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TFUNCTION) {
            if (n == cap) {
                cap = cap ? 2 * cap : 16;
                char **grown = realloc(names, cap * sizeof *names);
                if (!grown) {
                    lua_pop(L, 2);
                    report(ud, script, NULL, "out of memory");
                    failed++;
                    break;
                }
                names = grown;
            }
            names[n] = strdup(lua_tostring(L, -2));
            if (names[n])
                n++;
        } else {
            char key[48];
            if (lua_type(L, -2) == LUA_TSTRING)
                snprintf(key, sizeof key, "'%.32s'", lua_tostring(L, -2));
            else if (lua_isinteger(L, -2))
                snprintf(key, sizeof key, "[%lld]", (long long)lua_tointeger(L, -2));
            else
                snprintf(key, sizeof key, "of type %s", luaL_typename(L, -2));
            snprintf(err, sizeof err, "%s: entry %s is not a test case (a name and a function)",
                     test_name, key);
            report(ud, script, NULL, err);
            failed++;
        }
        lua_pop(L, 1);
    }
    if (n > 1)
        qsort(names, n, sizeof *names, compare_names);
    for (size_t i = 0; i < n; i++) {
        lua_pushcfunction(L, run_case);
        lua_pushvalue(L, cases);
        lua_pushlightuserdata(L, names[i]);
        if (souk_sandbox_run(sb, 2, 0, err, sizeof err) == 0) {
            report(ud, script, names[i], NULL);
        } else {
            report(ud, script, names[i], err);
            failed++;
        }
        free(names[i]);
    }
    free(names);
    souk_sandbox_free(sb);
    return failed;
}
