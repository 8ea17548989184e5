/* fuzz_script_json.c -- JSON -> Lua -> JSON through a script sandbox.
 *
 * Input: a JSON text.  Whatever jansson accepts is pushed into a sandbox
 * (souk_json_push, under protection) and converted back (souk_json_from_lua).
 * The only conversions allowed to fail are those the rules name (nesting deeper
 * than SOUK_JSON_MAX_DEPTH); a success must give back the input exactly, except
 * that object members whose value is null are left out (script_json.h). */
#include "script_json.h"
#include "script_sandbox.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            __builtin_trap();                                                                      \
    } while (0)

static souk_sandbox *sb;

/* The input as a script sees it: null object members removed. */
static json_t *without_null_members(json_t *v)
{
    if (json_is_object(v)) {
        json_t *o = json_object();
        const char *k;
        size_t klen;
        json_t *e;
        json_object_keylen_foreach(v, k, klen, e)
        {
            if (!json_is_null(e))
                json_object_setn_new_nocheck(o, k, klen, without_null_members(e));
        }
        return o;
    }
    if (json_is_array(v)) {
        json_t *a = json_array();
        for (size_t i = 0; i < json_array_size(v); i++)
            json_array_append_new(a, without_null_members(json_array_get(v, i)));
        return a;
    }
    return json_incref(v);
}

static int push_input(lua_State *L)
{
    souk_json_push(L, lua_touserdata(L, 1), "input");
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[SOUK_SANDBOX_ERR_MAX];
    if (!sb) {
        souk_script_limits lim = {1000000, 64u * 1024 * 1024};
        sb = souk_sandbox_new("fuzz.lua", &lim, NULL, err, sizeof err);
        FUZZ_CHECK(sb != NULL);
    }
    json_t *in = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (!in)
        return 0;
    lua_State *L = souk_sandbox_lua(sb);
    if (souk_sandbox_cpcall(sb, push_input, in, 1, err, sizeof err) == 0) {
        json_t *out = souk_json_from_lua(L, -1, "result", err, sizeof err);
        lua_pop(L, 1);
        json_t *want = without_null_members(in);
        if (json_is_null(in))
            FUZZ_CHECK(json_is_null(out));
        else
            FUZZ_CHECK(out && json_equal(out, want));
        json_decref(want);
        json_decref(out);
    }
    FUZZ_CHECK(lua_gettop(L) == 0);
    json_decref(in);
    return 0;
}
