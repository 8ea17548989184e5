/* fuzz_script_sandbox.c -- arbitrary Lua source in the script sandbox.
 *
 * Input: Lua source text (binary chunks included: they must be refused), loaded
 * from memory and run with a small instruction budget and memory ceiling; what it
 * returns is converted to JSON.  Nothing may crash, hang or leak; afterwards the
 * state must still be usable (a trivial chunk runs), its stack balanced and its
 * memory under the ceiling. */
#include "log.h"
#include "script_json.h"
#include "script_sandbox.h"

#include <jansson.h>
#include <lauxlib.h>
#include <souk/souk.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            __builtin_trap();                                                                      \
    } while (0)

#define FUZZ_MEMORY (1024u * 1024)
#define FUZZ_INSTRUCTIONS 200000

static int quiet;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[SOUK_SANDBOX_ERR_MAX];
    if (!quiet) {
        souk_log_setup("fuzz", SOUK_LOG_ERROR + 1); /* print() would flood the output */
        quiet = 1;
    }
    souk_script_limits lim = {FUZZ_INSTRUCTIONS, FUZZ_MEMORY};
    souk_sandbox *sb = souk_sandbox_new("fuzz.lua", &lim, NULL, err, sizeof err);
    FUZZ_CHECK(sb != NULL);
    lua_State *L = souk_sandbox_lua(sb);
    if (souk_sandbox_load_buffer(sb, "fuzz.lua", (const char *)data, size, err, sizeof err) == 0 &&
        souk_sandbox_run(sb, 0, 1, err, sizeof err) == 0) {
        json_t *out = souk_json_from_lua(L, -1, "result", err, sizeof err);
        json_decref(out);
        lua_pop(L, 1);
    }
    FUZZ_CHECK(lua_gettop(L) == 0);
    FUZZ_CHECK(souk_sandbox_memory(sb) <= FUZZ_MEMORY);
    FUZZ_CHECK(luaL_loadstring(L, "return 1 + 1") == LUA_OK);
    FUZZ_CHECK(souk_sandbox_run(sb, 0, 1, err, sizeof err) == 0);
    FUZZ_CHECK(lua_tointeger(L, -1) == 2);
    lua_pop(L, 1);
    souk_sandbox_free(sb);
    return 0;
}
