/* script_json.c -- JSON <-> Lua conversion and the `souk` library table.
 * The rules are in script_json.h; docs/scripting.md tells them to script authors. */
#include "script_json.h"

#include <lauxlib.h>

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <souk/utf8.h>
#include <string.h>

/* Registry key of the metatable that marks a table as a JSON array. */
static const char array_key = 'a';

/* --------------------------------------------------------------- souk library */

static void push_array_marker(lua_State *L)
{
    lua_rawgetp(L, LUA_REGISTRYINDEX, &array_key);
}

int souk_json_is_array(lua_State *L, int idx)
{
    if (lua_type(L, idx) != LUA_TTABLE || !lua_getmetatable(L, idx))
        return 0;
    push_array_marker(L);
    int marked = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return marked;
}

/* souk.array([t]): mark t (or a new empty table) as an array and return it. */
static int souk_array(lua_State *L)
{
    if (lua_isnoneornil(L, 1)) {
        lua_newtable(L);
    } else {
        luaL_checktype(L, 1, LUA_TTABLE);
        lua_settop(L, 1);
        if (souk_json_is_array(L, 1))
            return 1;
        if (lua_getmetatable(L, 1))
            return luaL_error(L, "souk.array: the table already has a metatable");
    }
    push_array_marker(L);
    lua_setmetatable(L, -2);
    return 1;
}

static int souk_is_array(lua_State *L)
{
    lua_pushboolean(L, souk_json_is_array(L, 1));
    return 1;
}

void souk_json_open(lua_State *L)
{
    /* The marker is protected: getmetatable(list) gives "array" and the marker
     * itself cannot be reached or changed by a script. */
    lua_createtable(L, 0, 2);
    lua_pushliteral(L, "souk.array");
    lua_setfield(L, -2, "__name");
    lua_pushliteral(L, "array");
    lua_setfield(L, -2, "__metatable");
    lua_rawsetp(L, LUA_REGISTRYINDEX, &array_key);

    lua_createtable(L, 0, 3);
    lua_pushlightuserdata(L, NULL);
    lua_setfield(L, -2, "null");
    lua_pushcfunction(L, souk_array);
    lua_setfield(L, -2, "array");
    lua_pushcfunction(L, souk_is_array);
    lua_setfield(L, -2, "is_array");
}

/* ---------------------------------------------------------------- JSON -> Lua */

static void push_json(lua_State *L, json_t *v, int depth, const char *path)
{
    if (depth > SOUK_JSON_MAX_DEPTH)
        luaL_error(L, "%s: nested deeper than %d levels", path, SOUK_JSON_MAX_DEPTH);
    luaL_checkstack(L, 3, path);
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        size_t n = json_object_size(v);
        lua_createtable(L, 0, n > INT_MAX ? 0 : (int)n);
        for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it)) {
            json_t *val = json_object_iter_value(it);
            if (json_is_null(val))
                continue; /* an absent key reads as nil: the same thing to Lua */
            lua_pushlstring(L, json_object_iter_key(it), json_object_iter_key_len(it));
            push_json(L, val, depth + 1, path);
            lua_rawset(L, -3);
        }
        break;
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(v);
        lua_createtable(L, n > INT_MAX ? 0 : (int)n, 0);
        for (size_t i = 0; i < n; i++) {
            json_t *e = json_array_get(v, i);
            if (json_is_null(e))
                lua_pushlightuserdata(L, NULL); /* souk.null keeps the sequence whole */
            else
                push_json(L, e, depth + 1, path);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        push_array_marker(L);
        lua_setmetatable(L, -2);
        break;
    }
    case JSON_STRING: lua_pushlstring(L, json_string_value(v), json_string_length(v)); break;
    case JSON_INTEGER: lua_pushinteger(L, (lua_Integer)json_integer_value(v)); break;
    case JSON_REAL: lua_pushnumber(L, (lua_Number)json_real_value(v)); break;
    case JSON_TRUE: lua_pushboolean(L, 1); break;
    case JSON_FALSE: lua_pushboolean(L, 0); break;
    default: lua_pushnil(L); break;
    }
}

void souk_json_push(lua_State *L, json_t *v, const char *path)
{
    if (!v)
        lua_pushnil(L);
    else
        push_json(L, v, 0, path);
}

/* ---------------------------------------------------------------- Lua -> JSON */

typedef struct conv {
    lua_State *L;
    char path[SOUK_JSON_PATH_MAX];
    size_t plen;
    const void *ancestors[SOUK_JSON_MAX_DEPTH + 1]; /* tables being converted */
    int depth;
    long values;
    char *err;
    size_t errlen;
} conv;

static json_t *conv_fail(conv *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static json_t *conv_fail(conv *c, const char *fmt, ...)
{
    char reason[192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    if (c->plen)
        snprintf(c->err, c->errlen, "%s: %s", c->path, reason);
    else
        snprintf(c->err, c->errlen, "%s", reason);
    return NULL;
}

/* Append a path segment; returns the length to restore afterwards.  A path too
 * long for the buffer is cut (the message still starts right). */
static size_t path_index(conv *c, lua_Integer i)
{
    size_t old = c->plen;
    int n = snprintf(c->path + old, sizeof c->path - old, "[%lld]", (long long)i);
    c->plen = n > 0 && old + (size_t)n < sizeof c->path ? old + (size_t)n : old;
    c->path[c->plen] = '\0';
    return old;
}

static int is_identifier(const char *s, size_t len)
{
    if (len == 0 || (s[0] >= '0' && s[0] <= '9'))
        return 0;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (!(ch == '_' || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9')))
            return 0;
    }
    return 1;
}

static size_t path_key(conv *c, const char *key, size_t len)
{
    size_t old = c->plen;
    int n;
    if (is_identifier(key, len))
        n = snprintf(c->path + old, sizeof c->path - old, "%s%.*s", old ? "." : "", (int)len, key);
    else
        n = snprintf(c->path + old, sizeof c->path - old, "[\"%.*s\"]", (int)(len > 40 ? 40 : len),
                     key);
    c->plen = n > 0 && old + (size_t)n < sizeof c->path ? old + (size_t)n : old;
    c->path[c->plen] = '\0';
    return old;
}

static void path_restore(conv *c, size_t old)
{
    c->plen = old;
    c->path[old] = '\0';
}


static json_t *conv_value(conv *c, int idx);

static json_t *conv_array(conv *c, int idx, lua_Integer n)
{
    json_t *arr = json_array();
    if (!arr)
        return conv_fail(c, "out of memory");
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(c->L, idx, i);
        size_t old = path_index(c, i);
        json_t *e = conv_value(c, lua_gettop(c->L));
        path_restore(c, old);
        lua_pop(c->L, 1);
        if (!e || json_array_append_new(arr, e) != 0) {
            json_decref(arr);
            return e ? conv_fail(c, "out of memory") : NULL;
        }
    }
    return arr;
}

static json_t *conv_object(conv *c, int idx)
{
    json_t *obj = json_object();
    if (!obj)
        return conv_fail(c, "out of memory");
    lua_pushnil(c->L);
    while (lua_next(c->L, idx)) {
        size_t klen;
        const char *key = lua_tolstring(c->L, -2, &klen); /* keys are strings here */
        json_t *v = NULL;
        if (!souk_utf8_valid(key, klen, NULL)) {
            conv_fail(c, "a key is not valid UTF-8");
        } else {
            size_t old = path_key(c, key, klen);
            v = conv_value(c, lua_gettop(c->L));
            path_restore(c, old);
        }
        if (!v || json_object_setn_new_nocheck(obj, key, klen, v) != 0) {
            lua_pop(c->L, 2);
            json_decref(obj);
            return v ? conv_fail(c, "out of memory") : NULL;
        }
        lua_pop(c->L, 1);
    }
    return obj;
}

static json_t *conv_table(conv *c, int idx)
{
    lua_State *L = c->L;
    int marked = souk_json_is_array(L, idx);
    lua_Integer nint = 0, min = 0, max = 0;
    long nstr = 0;
    char what[64];
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        int kt = lua_type(L, -2);
        if (kt == LUA_TSTRING) {
            nstr++;
        } else if (lua_isinteger(L, -2)) {
            lua_Integer k = lua_tointeger(L, -2);
            min = nint == 0 || k < min ? k : min;
            max = nint == 0 || k > max ? k : max;
            nint++;
        } else {
            if (kt == LUA_TNUMBER)
                snprintf(what, sizeof what, "%.14g", (double)lua_tonumber(L, -2));
            else
                snprintf(what, sizeof what, "of type %s", lua_typename(L, kt));
            lua_pop(L, 2);
            return conv_fail(c, "a key %s is not plain data (keys are names or 1..n)", what);
        }
        lua_pop(L, 1);
    }
    if (nstr > 0 && (nint > 0 || marked))
        return conv_fail(c, "table mixes array items and named keys");
    if (nstr > 0)
        return conv_object(c, idx);
    if (nint == 0)
        return marked ? json_array() : json_object();
    if (min < 1 || max != nint) {
        return conv_fail(c, "sparse array (keys %lld..%lld for %lld items; arrays have keys 1..n)",
                         (long long)min, (long long)max, (long long)nint);
    }
    return conv_array(c, idx, nint);
}

static json_t *conv_value(conv *c, int idx)
{
    lua_State *L = c->L;
    if (++c->values > SOUK_JSON_MAX_VALUES) {
        return conv_fail(c, "more than %d values (a shared table counts each time)",
                         SOUK_JSON_MAX_VALUES);
    }
    switch (lua_type(L, idx)) {
    case LUA_TNIL: return json_null();
    case LUA_TBOOLEAN: return json_boolean(lua_toboolean(L, idx));
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx))
            return json_integer((json_int_t)lua_tointeger(L, idx));
        if (!isfinite((double)lua_tonumber(L, idx)))
            return conv_fail(c, "number is not finite (%s)",
                             isnan((double)lua_tonumber(L, idx)) ? "nan" : "inf");
        return json_real((double)lua_tonumber(L, idx));
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        if (!souk_utf8_valid(s, len, NULL))
            return conv_fail(c, "string is not valid UTF-8");
        json_t *j = json_stringn_nocheck(s, len);
        return j ? j : conv_fail(c, "out of memory");
    }
    case LUA_TLIGHTUSERDATA:
        if (lua_touserdata(L, idx) == NULL)
            return json_null(); /* souk.null */
        return conv_fail(c, "light userdata is not plain data");
    case LUA_TTABLE: {
        const void *t = lua_topointer(L, idx);
        for (int i = 0; i < c->depth; i++)
            if (c->ancestors[i] == t)
                return conv_fail(c, "table contains itself (a cycle)");
        if (c->depth >= SOUK_JSON_MAX_DEPTH)
            return conv_fail(c, "nested deeper than %d levels", SOUK_JSON_MAX_DEPTH);
        if (!lua_checkstack(L, 4))
            return conv_fail(c, "Lua stack exhausted");
        c->ancestors[c->depth++] = t;
        json_t *j = conv_table(c, idx);
        c->depth--;
        return j;
    }
    default: return conv_fail(c, "%s is not plain data", lua_typename(L, lua_type(L, idx)));
    }
}

json_t *souk_json_from_lua(lua_State *L, int idx, const char *root, char *err, size_t errlen)
{
    conv c;
    c.L = L;
    c.plen = 0;
    c.depth = 0;
    c.values = 0;
    c.err = err;
    c.errlen = errlen;
    snprintf(c.path, sizeof c.path, "%s", root ? root : "");
    c.plen = strlen(c.path);
    return conv_value(&c, lua_absindex(L, idx));
}
