/* fuzz_script_sandbox.c -- arbitrary Lua source in the script sandbox.
 *
 * Input: Lua source text (binary chunks included: they must be refused).  It is
 * loaded as a chunk and run with a small instruction budget and memory ceiling,
 * and what it returns is converted to JSON.  Nothing may crash, hang or leak;
 * the state must stay usable (a trivial chunk still runs afterwards), its stack
 * balanced and its memory under the ceiling. */
#include "log.h"
#include "script_json.h"
#include "script_sandbox.h"

#include <jansson.h>
#include <lauxlib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FUZZ_CHECK(cond)                                                       \
    do {                                                                       \
        if (!(cond))                                                           \
            __builtin_trap();                                                  \
    } while (0)

#define FUZZ_MEMORY (1024u * 1024)
#define FUZZ_INSTRUCTIONS 200000

static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[SOUK_SANDBOX_ERR_MAX];
    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/souk-fuzz-sandbox-%d.lua", (int)getpid());
        /* print() would flood the output. */
        souk_log_setup("fuzz", 99);
    }
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f != NULL);
    fwrite(data, 1, size, f);
    fclose(f);
    souk_script_limits lim = {FUZZ_INSTRUCTIONS, FUZZ_MEMORY};
    souk_sandbox *sb = souk_sandbox_new("fuzz.lua", &lim, NULL, err, sizeof err);
    FUZZ_CHECK(sb != NULL);
    lua_State *L = souk_sandbox_lua(sb);
    if (souk_sandbox_load_file(sb, path, err, sizeof err) == 0 &&
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
