/* fuzz_script_pattern.c -- the sandbox's string patterns against stock Lua's.
 *
 * Input: byte 0 picks the function (find, plain find, match, gmatch, gsub with one
 * of a few replacement strings), byte 1 the init argument (-8..8, or none), byte 2
 * the pattern's length; the pattern follows, the subject is the rest.  The same
 * call runs in a sandbox (script_pattern.c) and in a plain Lua state (lstrlib), both
 * through the same chunk, which renders results or the error message as one
 * string.  Whenever the sandbox finishes within its budget, stock Lua must give
 * exactly the same string (it does about as much work, so it finishes too).
 * Nothing may crash or leak, and the sandbox must stay usable. */
#include "log.h"
#include "script_sandbox.h"

#include <lauxlib.h>
#include <lualib.h>
#include <souk/souk.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            __builtin_trap();                                                                      \
    } while (0)

#define FUZZ_MEMORY (4u * 1024 * 1024)
#define FUZZ_INSTRUCTIONS 200000
#define FUZZ_INIT_RANGE 17 /* init arguments -8..8 */

/* Runs one call and renders what it gave; line numbers matter (they appear in
 * error messages), so both states load exactly this text under one name. */
static const char chunk[] = "local op, s, p, init = ...\n"
                            "local function show(...)\n"
                            "  local out = {}\n"
                            "  for i = 1, select('#', ...) do\n"
                            "    local v = select(i, ...)\n"
                            "    out[i] = type(v) == 'string' and ('%q'):format(v) or tostring(v)\n"
                            "  end\n"
                            "  return table.concat(out, ' ')\n"
                            "end\n"
                            "local repl = { '%0', '[%1]', '<%2%1>', '%%', '%', 'x' }\n"
                            "local function run()\n"
                            "  if op == 0 then return string.find(s, p, init) end\n"
                            "  if op == 1 then return string.find(s, p, init, true) end\n"
                            "  if op == 2 then return string.match(s, p, init) end\n"
                            "  if op == 3 then\n"
                            "    local out, it = {}, string.gmatch(s, p, init)\n"
                            "    for _ = 1, 64 do\n"
                            "      local r = table.pack(it())\n"
                            "      if r[1] == nil then break end\n"
                            "      out[#out + 1] = show(table.unpack(r, 1, r.n))\n"
                            "    end\n"
                            "    return table.concat(out, ';')\n"
                            "  end\n"
                            "  return string.gsub(s, p, repl[op - 3], init)\n"
                            "end\n"
                            "return show(pcall(run))\n";
#define FUZZ_OPS 10 /* find, plain find, match, gmatch, gsub with each of 6 repl */

static souk_sandbox *sandbox;
static lua_State *stock;

static void fuzz_setup(void)
{
    char err[SOUK_SANDBOX_ERR_MAX];
    souk_log_setup("fuzz", SOUK_LOG_ERROR + 1);
    souk_script_limits lim = {FUZZ_INSTRUCTIONS, FUZZ_MEMORY};
    sandbox = souk_sandbox_new("fuzz.lua", &lim, NULL, err, sizeof err);
    FUZZ_CHECK(sandbox != NULL);
    stock = luaL_newstate();
    FUZZ_CHECK(stock != NULL);
    luaL_openlibs(stock);
}

/* Push the call's arguments (the chunk is below them). */
static void push_args(lua_State *L, int op, int init, const char *p, size_t lp, const char *s,
                      size_t ls)
{
    lua_pushinteger(L, op);
    lua_pushlstring(L, s, ls);
    lua_pushlstring(L, p, lp);
    if (init < FUZZ_INIT_RANGE)
        lua_pushinteger(L, init - FUZZ_INIT_RANGE / 2);
    else
        lua_pushnil(L);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!sandbox)
        fuzz_setup();
    if (size < 3)
        return 0;
    int op = data[0] % FUZZ_OPS;
    int init = data[1] % (FUZZ_INIT_RANGE + 1);
    size_t rest = size - 3;
    size_t lp = rest ? data[2] % (rest + 1) : 0;
    const char *p = (const char *)data + 3, *s = p + lp;
    size_t ls = rest - lp;

    char err[SOUK_SANDBOX_ERR_MAX];
    lua_State *L = souk_sandbox_lua(sandbox);
    FUZZ_CHECK(souk_sandbox_load_buffer(sandbox, "fuzz.lua", chunk, sizeof chunk - 1, err,
                                        sizeof err) == 0);
    push_args(L, op, init, p, lp, s, ls);
    if (souk_sandbox_run(sandbox, 4, 1, err, sizeof err) != 0) {
        /* Only the budget or the memory ceiling can get past the chunk's pcall. */
        FUZZ_CHECK(strstr(err, "instruction budget exceeded") ||
                   strstr(err, "memory limit exceeded"));
        FUZZ_CHECK(lua_gettop(L) == 0);
        return 0;
    }
    size_t ours_len;
    const char *ours = lua_tolstring(L, -1, &ours_len);
    FUZZ_CHECK(ours != NULL);

    FUZZ_CHECK(luaL_loadbufferx(stock, chunk, sizeof chunk - 1, "@fuzz.lua", "t") == LUA_OK);
    push_args(stock, op, init, p, lp, s, ls);
    FUZZ_CHECK(lua_pcall(stock, 4, 1, 0) == LUA_OK);
    size_t theirs_len;
    const char *theirs = lua_tolstring(stock, -1, &theirs_len);
    FUZZ_CHECK(theirs != NULL);
    if (ours_len != theirs_len || memcmp(ours, theirs, ours_len) != 0) {
        fprintf(stderr, "op %d init %d\nsandbox: %.*s\nstock:   %.*s\n", op, init, (int)ours_len,
                ours, (int)theirs_len, theirs);
        __builtin_trap();
    }
    lua_pop(stock, 1);
    lua_pop(L, 1);
    FUZZ_CHECK(lua_gettop(L) == 0);
    FUZZ_CHECK(souk_sandbox_memory(sandbox) <= FUZZ_MEMORY);
    return 0;
}
