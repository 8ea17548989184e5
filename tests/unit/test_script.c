/* test_script.c -- the Lua sandbox, JSON <-> Lua conversion, script tests, reload. */
#define _GNU_SOURCE
#include "script.h"
#include "test.h"

#include <lauxlib.h>
#include <lualib.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char root[64];
static char err[1024];

/* ------------------------------------------------------------------ helpers */

/* Write path atomically (temp file + rename), as editors do: a new inode each time. */
static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512], tmp[520];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp~", path);
    FILE *f = fopen(tmp, "wb");
    CHECK(f != NULL);
    if (!f)
        return;
    fputs(text, f);
    fclose(f);
    CHECK(rename(tmp, path) == 0);
}

static void remove_file(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    CHECK(unlink(path) == 0);
}

/* A fresh empty directory under the test root. */
static const char *new_dir(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", root, name);
    mkdir(path, 0755);
    return path;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static souk_script_limits small_limits(int64_t instructions, size_t memory)
{
    souk_script_limits l = {instructions, memory};
    return l;
}

/* Open dir as a script set with one script name.lua = text. */
static souk_scripts *open_one(const char *dirname, const char *name, const char *text,
                              souk_script_limits lim)
{
    const char *dir = new_dir(dirname);
    char file[128];
    snprintf(file, sizeof file, "%s.lua", name);
    write_file(dir, file, text);
    souk_scripts *s = NULL;
    if (souk_scripts_open(&s, dir, &lim, err, sizeof err) != 0)
        fprintf(stderr, "open: %s\n", err);
    return s;
}

/* Call fn with args given as JSON text; the result as compact JSON text (static)
 * or NULL with err. */
static const char *call(souk_scripts *s, const char *script, const char *fn, const char *args)
{
    static char out[4096];
    json_t *a = args ? json_loads(args, JSON_DECODE_ANY, NULL) : NULL;
    json_t *r = NULL;
    int rc = souk_scripts_call(s, script, fn, a, &r, err, sizeof err);
    json_decref(a);
    if (rc != 0)
        return NULL;
    char *text = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    snprintf(out, sizeof out, "%s", text ? text : "?");
    free(text);
    json_decref(r);
    return out;
}

#define DEFAULT_LIMITS small_limits(10000000, 32u * 1024 * 1024)

/* ---------------------------------------------------------------- sandbox */

TEST(forbidden_libraries_absent)
{
    const char *dir = new_dir("forbidden");
    write_file(dir, "probe.lua",
               "return {\n"
               "  io = type(io), os = type(os), debug = type(debug), package = type(package),\n"
               "  require = type(require), load = type(load), loadfile = type(loadfile),\n"
               "  dofile = type(dofile), collectgarbage = type(collectgarbage),\n"
               "  dump = type(string.dump), randomseed = type(math.randomseed),\n"
               "  coroutine = type(coroutine), warn = type(warn), loadstring = type(loadstring),\n"
               "  print = type(print), format = type(string.format), insert = type(table.insert),\n"
               "  floor = type(math.floor), utf8len = type(utf8.len), pcall = type(pcall),\n"
               "}\n");
    char path[512];
    snprintf(path, sizeof path, "%s/probe.lua", dir);
    json_t *out = NULL;
    souk_script_limits lim = DEFAULT_LIMITS;
    CHECK_INT(souk_lua_eval_file(path, &lim, &out, err, sizeof err), 0);
    const char *absent[] = {"io",         "os",        "debug",  "package",        "require",
                            "load",       "loadfile",  "dofile", "collectgarbage", "dump",
                            "randomseed", "coroutine", "warn",   "loadstring",     NULL};
    for (int i = 0; absent[i]; i++)
        CHECK_STR(json_string_value(json_object_get(out, absent[i])), "nil");
    const char *present[] = {"print", "format", "insert", "floor", "utf8len", "pcall", NULL};
    for (int i = 0; present[i]; i++)
        CHECK_STR(json_string_value(json_object_get(out, present[i])), "function");
    json_decref(out);
}

static int bytecode_writer(lua_State *L, const void *p, size_t n, void *ud)
{
    fwrite(p, 1, n, ud);
    return 0;
}

TEST(bytecode_refused)
{
    /* Real bytecode, compiled by a plain (unsandboxed) state. */
    const char *dir = new_dir("bytecode");
    char path[512];
    snprintf(path, sizeof path, "%s/compiled.lua", dir);
    lua_State *L = luaL_newstate();
    CHECK(luaL_loadstring(L, "return { f = function() return 1 end }") == LUA_OK);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    lua_dump(L, bytecode_writer, f, 1);
    fclose(f);
    lua_close(L);

    json_t *out = NULL;
    souk_script_limits lim = DEFAULT_LIMITS;
    CHECK_INT(souk_lua_eval_file(path, &lim, &out, err, sizeof err), -1);
    CHECK(out == NULL);
    CHECK(strstr(err, "compiled.lua: precompiled (binary) chunks are refused") == err);

    souk_scripts *s = NULL;
    CHECK_INT(souk_scripts_open(&s, dir, &lim, err, sizeof err), -1);
    CHECK(s == NULL);
    CHECK(strstr(err, "binary") != NULL);
}

TEST(budget_stops_loop_and_state_survives)
{
    souk_scripts *s = open_one("budget", "loop",
                               "local M = {}\n"
                               "function M.spin()\n"
                               "  while true do end\n"
                               "end\n"
                               "function M.ok(x) return x + 1 end\n"
                               "function M.sneaky()\n"
                               "  while true do pcall(function() while true do end end) end\n"
                               "end\n"
                               "function M.sneaky_x()\n"
                               "  local ok, e = xpcall(function() while true do end end,\n"
                               "                       function(m) return m end)\n"
                               "  return 'escaped'\n"
                               "end\n"
                               "return M\n",
                               small_limits(100000, 32u * 1024 * 1024));
    CHECK(s != NULL);
    CHECK(call(s, "loop", "spin", "[]") == NULL);
    CHECK_STR(err, "loop.lua:3: instruction budget exceeded (100000 instructions)");
    /* The same state serves the next call with a fresh budget. */
    CHECK_STR(call(s, "loop", "ok", "[41]"), "42");
    /* A script cannot catch the budget error with pcall or xpcall. */
    CHECK(call(s, "loop", "sneaky", "[]") == NULL);
    CHECK(strstr(err, "instruction budget exceeded") != NULL);
    CHECK(call(s, "loop", "sneaky_x", "[]") == NULL);
    CHECK(strstr(err, "instruction budget exceeded") != NULL);
    CHECK_STR(call(s, "loop", "ok", "[1]"), "2");
    souk_scripts_close(s);
}

TEST(budget_stops_top_level_loop)
{
    souk_scripts *s = open_one("budget_top", "hang", "while true do end\nreturn {}\n",
                               small_limits(50000, 32u * 1024 * 1024));
    CHECK(s == NULL);
    CHECK_STR(err, "hang.lua:1: instruction budget exceeded (50000 instructions)");
}

/* Run script.fn() in a child process (the alarm ends it if the call never
 * returns) and check that it failed with a message containing want, or succeeded
 * with result want when ok is set.  A library function that loops in C without
 * end would otherwise hang the whole test run. */
#define CALL_ALARM_SECONDS 30
static void call_returns(souk_scripts *s, const char *script, const char *fn, int ok,
                         const char *want, int line)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(CALL_ALARM_SECONDS);
        const char *r = call(s, script, fn, "[]");
        int good = ok ? r && strcmp(r, want) == 0 : !r && strstr(err, want) != NULL;
        if (!good)
            fprintf(stderr, "%s:%d: %s() gave %s / \"%s\"\n", __FILE__, line, fn, r ? r : "(error)",
                    r ? "" : err);
        _exit(good ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "%s:%d: %s() %s\n", __FILE__, line, fn,
                WIFSIGNALED(status) ? "never returned (a loop the budget does not see)"
                                    : "gave the wrong answer");
        test_failed_checks++;
    }
}

TEST(library_loops_are_budgeted)
{
    /* Library functions that loop in C as often as an argument says, without
     * allocating: the count hook never sees those loops, so they are charged to
     * the budget (or short-cut) by the sandbox. */
    souk_scripts *s = open_one("libloops", "loops",
                               "local M = {}\n"
                               "function M.rep()\n"
                               "  return {string.rep('', math.maxinteger), ('').rep('', 1 << 40, ''),\n"
                               "          ('ab'):rep(3, ','), ('x'):rep(0)}\n"
                               "end\n"
                               "function M.move()\n"
                               "  table.move({}, 1, math.maxinteger, 1)\n"
                               "end\n"
                               "local huge = {__len = function() return 1 << 62 end}\n"
                               "function M.insert() table.insert(setmetatable({}, huge), 1, 1) end\n"
                               "function M.remove() table.remove(setmetatable({}, huge), 1) end\n"
                               "function M.sort()\n"
                               "  table.sort(setmetatable({}, {__len = function() return (1 << 31) - 2 end,\n"
                               "                              __index = type, __newindex = type}))\n"
                               "end\n"
                               "function M.ordinary()\n"
                               "  local t = {}\n"
                               "  for i = 1, 3000 do table.insert(t, i) end\n"
                               "  for i = 1, 10 do table.insert(t, 1, -i) end\n"
                               "  for i = 1, 10 do table.remove(t, 1) end\n"
                               "  for i = 1, 1500 do table.remove(t) end\n"
                               "  table.sort(t, function(a, b) return a > b end)\n"
                               "  local m = table.move(t, 1, 3, 1, {})\n"
                               "  return {#t, t[1], m[3], #string.rep('ab', 1000, ',')}\n"
                               "end\n"
                               "return M\n",
                               small_limits(1000000, 32u * 1024 * 1024));
    CHECK(s != NULL);
    if (!s)
        return;
    call_returns(s, "loops", "rep", 1, "[\"\",\"\",\"ab,ab,ab\",\"\"]", __LINE__);
    call_returns(s, "loops", "move", 0,
                 "loops.lua:7: instruction budget exceeded (1000000 instructions)", __LINE__);
    call_returns(s, "loops", "insert", 0,
                 "loops.lua:10: bad argument #1 to 'insert' (a table with a __len metamethod is "
                 "not supported in scripts)",
                 __LINE__);
    call_returns(s, "loops", "remove", 0, "loops.lua:11: bad argument #1 to 'remove'", __LINE__);
    call_returns(s, "loops", "sort", 0, "loops.lua:13: bad argument #1 to 'sort'", __LINE__);
    /* Appending, removing the last element and sorting a list cost what they do. */
    call_returns(s, "loops", "ordinary", 1, "[1500,1500,1498,2999]", __LINE__);
    souk_scripts_close(s);
}

TEST(memory_ceiling_and_state_survives)
{
    souk_scripts *s = open_one("memory", "bomb",
                               "local M = {}\n"
                               "function M.grow()\n"
                               "  local t = {}\n"
                               "  for i = 1, 1e9 do\n"
                               "    t[i] = string.rep('x', 64) .. i\n"
                               "  end\n"
                               "end\n"
                               "function M.big()\n"
                               "  return #string.rep('x', 64 * 1024 * 1024)\n"
                               "end\n"
                               "function M.small() return #string.rep('y', 1000) end\n"
                               "return M\n",
                               small_limits(100000000, 4u * 1024 * 1024));
    CHECK(s != NULL);
    CHECK(call(s, "bomb", "grow", "[]") == NULL);
    CHECK(strstr(err, "bomb.lua:5: memory limit exceeded (4194304 bytes)") == err);
    CHECK_STR(call(s, "bomb", "small", "[]"), "1000");
    CHECK(call(s, "bomb", "big", "[]") == NULL);
    CHECK(strstr(err, "bomb.lua:9: memory limit exceeded") == err);
    CHECK_STR(call(s, "bomb", "small", "[]"), "1000");
    CHECK(call(s, "bomb", "grow", "[]") == NULL);
    CHECK_STR(call(s, "bomb", "small", "[]"), "1000");
    souk_scripts_close(s);

    /* A ceiling too small for any state names the setting to change. */
    s = open_one("memory_tiny", "tiny", "return {}\n", small_limits(1000, 1000));
    CHECK(s == NULL);
    CHECK_STR(err, "tiny.lua: memory limit (1000 bytes, scripts.memory) is too small for a Lua "
                   "state");
}

TEST(read_only_libraries)
{
    souk_scripts *s =
        open_one("readonly", "ro",
                 "local M = {}\n"
                 "function M.format() string.format = nil end\n"
                 "function M.pi() math.pi = 3 end\n"
                 "function M.print() print = nil end\n"
                 "function M.raw() rawset(string, 'upper', print) end\n"
                 "function M.rawg() rawset(_G, 'pairs', nil) end\n"
                 "function M.meta() setmetatable(table, {}) end\n"
                 "function M.strmeta() return getmetatable('').__index end\n"
                 "function M.newfield() utf8.extra = 1 end\n"
                 "function M.method() return ('abc'):upper() .. ('%d'):format(7) end\n"
                 "function M.own() counter = (counter or 0) + 1 return counter end\n"
                 "function M.still() return math.pi > 3.14 and type(string.format) end\n"
                 "function M.listing()\n"
                 "  local n = 0 for k in pairs(math) do n = n + 1 end return n > 20\n"
                 "end\n"
                 "function M.gc() setmetatable({}, {__gc = function() end}) end\n"
                 "return M\n",
                 DEFAULT_LIMITS);
    CHECK(s != NULL);
    CHECK(call(s, "ro", "format", "[]") == NULL);
    CHECK_STR(err, "ro.lua:2: attempt to modify read-only table 'string' (field 'format')");
    CHECK(call(s, "ro", "pi", "[]") == NULL);
    CHECK_STR(err, "ro.lua:3: attempt to modify read-only table 'math' (field 'pi')");
    CHECK(call(s, "ro", "print", "[]") == NULL);
    CHECK_STR(err, "ro.lua:4: global 'print' is read-only");
    CHECK(call(s, "ro", "raw", "[]") == NULL);
    CHECK(strstr(err, "read-only table 'string'") != NULL);
    CHECK(call(s, "ro", "rawg", "[]") == NULL);
    CHECK(strstr(err, "global 'pairs' is read-only") != NULL);
    CHECK(call(s, "ro", "meta", "[]") == NULL);
    CHECK(strstr(err, "protected metatable") != NULL);
    CHECK(call(s, "ro", "strmeta", "[]") == NULL); /* getmetatable('') is false */
    CHECK(call(s, "ro", "newfield", "[]") == NULL);
    CHECK(strstr(err, "read-only table 'utf8'") != NULL);
    CHECK(call(s, "ro", "gc", "[]") == NULL);
    CHECK(strstr(err, "__gc metamethods are not available") != NULL);
    CHECK_STR(call(s, "ro", "method", "[]"), "\"ABC7\"");
    CHECK_STR(call(s, "ro", "own", "[]"), "1");
    CHECK_STR(call(s, "ro", "own", "[]"), "2");
    CHECK_STR(call(s, "ro", "still", "[]"), "\"function\"");
    CHECK_STR(call(s, "ro", "listing", "[]"), "true");
    souk_scripts_close(s);
}

TEST(errors_carry_script_and_line)
{
    souk_scripts *s = open_one("errors", "err",
                               "local M = {}\n"
                               "function M.plain() error('boom') end\n"
                               "function M.level0() error('raw', 0) end\n"
                               "function M.table() error({code = 1}) end\n"
                               "function M.arith(x) return x.price * 2 end\n"
                               "local shown = {__tostring = function() return 'shown' end}\n"
                               "function M.tostr() error(setmetatable({}, shown)) end\n"
                               "local spins = {__tostring = function() while true do end end}\n"
                               "function M.tostr_loop() error(setmetatable({}, spins)) end\n"
                               "M.notfn = 5\n"
                               "return M\n",
                               DEFAULT_LIMITS);
    CHECK(s != NULL);
    CHECK(call(s, "err", "plain", "[]") == NULL);
    CHECK_STR(err, "err.lua:2: boom");
    CHECK(call(s, "err", "level0", "[]") == NULL);
    CHECK_STR(err, "err.lua:3: raw");
    CHECK(call(s, "err", "table", "[]") == NULL);
    CHECK_STR(err, "err.lua:4: (error object is a table value)");
    CHECK(call(s, "err", "arith", "[{}]") == NULL);
    CHECK(strstr(err, "err.lua:5: attempt to perform arithmetic on a nil value") == err);
    /* An error object with __tostring is shown through it, within the budget. */
    CHECK(call(s, "err", "tostr", "[]") == NULL);
    CHECK_STR(err, "err.lua:7: shown");
    CHECK(call(s, "err", "tostr_loop", "[]") == NULL);
    CHECK_STR(err, "err.lua:8: instruction budget exceeded (10000000 instructions)");
    CHECK(call(s, "err", "missing", "[]") == NULL);
    CHECK_STR(err, "err.lua: the module has no function 'missing' (nil)");
    CHECK(call(s, "err", "notfn", "[]") == NULL);
    CHECK(strstr(err, "no function 'notfn' (number)") != NULL);
    CHECK(call(s, "nosuch", "f", "[]") == NULL);
    CHECK(strstr(err, "no script 'nosuch'") == err);
    CHECK(!souk_scripts_has(s, "nosuch"));
    CHECK(souk_scripts_has(s, "err"));
    souk_scripts_close(s);

    s = open_one("errors_syntax", "bad", "local M = {\nreturn M\n", DEFAULT_LIMITS);
    CHECK(s == NULL);
    CHECK(strstr(err, "bad.lua:2:") == err);
    s = open_one("errors_notable", "nt", "return 42\n", DEFAULT_LIMITS);
    CHECK(s == NULL);
    CHECK_STR(err, "nt.lua: a script must return a table (its module), got number");
}

TEST(random_is_deterministic_and_print_goes_to_log)
{
    souk_scripts *s =
        open_one("determinism", "rnd",
                 "local M = {}\n"
                 "function M.draw() return {math.random(1, 1000000), math.random()} end\n"
                 "function M.say() print('hello from', 'rnd', 42) return true end\n"
                 "return M\n",
                 DEFAULT_LIMITS);
    CHECK(s != NULL);
    char first[256];
    const char *r = call(s, "rnd", "draw", "[]");
    CHECK(r != NULL);
    snprintf(first, sizeof first, "%s", r ? r : "");
    CHECK_STR(call(s, "rnd", "draw", "[]"), first);

    /* print: nothing on stdout, one line on the log (stderr). */
    char outp[512], errp[512];
    snprintf(outp, sizeof outp, "%s/stdout.txt", root);
    snprintf(errp, sizeof errp, "%s/stderr.txt", root);
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2);
    int fo = open(outp, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    int fe = open(errp, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    dup2(fo, 1);
    dup2(fe, 2);
    const char *said = call(s, "rnd", "say", "[]");
    fflush(stdout);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(fo);
    close(fe);
    close(saved_out);
    close(saved_err);
    CHECK_STR(said, "true");
    char buf[2048] = "";
    FILE *f = fopen(outp, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    CHECK_INT(n, 0);
    f = fopen(errp, "r");
    n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
    CHECK(strstr(buf, "script rnd.lua:3: hello from\\x09rnd\\x0942") != NULL);
    souk_scripts_close(s);
}

/* ------------------------------------------------------------ JSON <-> Lua */

static souk_scripts *json_scripts;

static void json_setup(void)
{
    json_scripts = open_one(
        "json", "j",
        "local M = {}\n"
        "function M.echo(...) return ... end\n"
        "function M.kinds(x) return {math.type(x.i), math.type(x.r), type(x.n)} end\n"
        "function M.half(x) return x / 2 end\n"
        "function M.floor_half(x) return x // 2 end\n"
        "function M.count(a) return #a end\n"
        "function M.is_null(a) return a[2] == souk.null end\n"
        "function M.fn() return {items = {{price = 1}, {price = 2}, {price = print}}} end\n"
        "function M.mixed() return {1, 2, x = 3} end\n"
        "function M.sparse() return {[1] = 1, [3] = 3} end\n"
        "function M.zero() return {[0] = 1} end\n"
        "function M.cycle() local t = {a = {}} t.a.back = t return t end\n"
        "function M.nan() return {x = 0/0} end\n"
        "function M.inf() return {list = {1, -1/0}} end\n"
        "function M.bytes() return {name = 'caf\\xe9'} end\n"
        "function M.boolkey() return {[true] = 1} end\n"
        "function M.floatkey() return {[1.5] = 1} end\n"
        "function M.deep() local t = {} for i = 1, 100 do t = {t} end return t end\n"
        "function M.dag() local t = {} for i = 1, 25 do t = {t, t} end return t end\n"
        "function M.empty() return {obj = {}, arr = souk.array(), list = souk.array({1})} end\n"
        "function M.null() return {souk.null, 1} end\n"
        "function M.nothing() end\n"
        "function M.weird_key() return {['my key'] = {print}} end\n"
        "function M.marked_named() local a = souk.array() a.x = 1 return a end\n"
        "function M.is_array(a, o) return {souk.is_array(a), souk.is_array(o)} end\n"
        "return M\n",
        DEFAULT_LIMITS);
}

TEST(json_round_trips)
{
    souk_scripts *s = json_scripts;
    CHECK(s != NULL);
    CHECK_STR(
        call(s, "j", "echo", "[{\"a\":1,\"b\":[1,2.5,\"s\",true,false,null],\"c\":{},\"d\":[]}]"),
        "{\"a\":1,\"b\":[1,2.5,\"s\",true,false,null],\"c\":{},\"d\":[]}");
    CHECK_STR(call(s, "j", "echo", "[\"\\u00e9t\\u00e9 \\u2603\"]"), "\"été ☃\"");
    CHECK_STR(call(s, "j", "echo", "[9007199254740993]"), "9007199254740993");
    CHECK_STR(call(s, "j", "echo", "[{\"gone\":null,\"kept\":1}]"), "{\"kept\":1}");
    CHECK_STR(call(s, "j", "echo", "[null]"), "null");
    CHECK_STR(call(s, "j", "echo", "[]"), "null");
    CHECK_STR(call(s, "j", "echo", NULL), "null");
    CHECK_STR(call(s, "j", "nothing", "[]"), "null");
    CHECK_STR(call(s, "j", "kinds", "[{\"i\":5,\"r\":5.0}]"), "[\"integer\",\"float\",\"nil\"]");
    /* Integral floats stay reals: money code will refuse 5.0. */
    CHECK_STR(call(s, "j", "half", "[10]"), "5.0");
    CHECK_STR(call(s, "j", "floor_half", "[10]"), "5");
    CHECK_STR(call(s, "j", "count", "[[1,null,3]]"), "3");
    CHECK_STR(call(s, "j", "is_null", "[[1,null,3]]"), "true");
    CHECK_STR(call(s, "j", "empty", "[]"), "{\"arr\":[],\"list\":[1],\"obj\":{}}");
    CHECK_STR(call(s, "j", "null", "[]"), "[null,1]");
    CHECK_STR(call(s, "j", "is_array", "[[], {}]"), "[true,false]");
}

TEST(json_rejections_name_the_path)
{
    souk_scripts *s = json_scripts;
    CHECK(s != NULL);
    struct {
        const char *fn, *msg;
    } cases[] = {{"fn", "j.lua: fn() returned a value that is not plain data: "
                        "result.items[3].price: function is not plain data"},
                 {"mixed", "j.lua: mixed() returned a value that is not plain data: "
                           "result: table mixes array items and named keys"},
                 {"sparse", "j.lua: sparse() returned a value that is not plain data: "
                            "result: sparse array (keys 1..3 for 2 items; arrays have keys 1..n)"},
                 {"zero", "j.lua: zero() returned a value that is not plain data: "
                          "result: sparse array (keys 0..0 for 1 items; arrays have keys 1..n)"},
                 {"cycle", "j.lua: cycle() returned a value that is not plain data: "
                           "result.a.back: table contains itself (a cycle)"},
                 {"nan", "j.lua: nan() returned a value that is not plain data: "
                         "result.x: number is not finite (nan)"},
                 {"inf", "j.lua: inf() returned a value that is not plain data: "
                         "result.list[2]: number is not finite (inf)"},
                 {"bytes", "j.lua: bytes() returned a value that is not plain data: "
                           "result.name: string is not valid UTF-8"},
                 {"boolkey",
                  "j.lua: boolkey() returned a value that is not plain data: "
                  "result: a key of type boolean is not plain data (keys are names or 1..n)"},
                 {"floatkey", "j.lua: floatkey() returned a value that is not plain data: "
                              "result: a key 1.5 is not plain data (keys are names or 1..n)"},
                 {"weird_key", "j.lua: weird_key() returned a value that is not plain data: "
                               "result[\"my key\"][1]: function is not plain data"},
                 {"marked_named", "j.lua: marked_named() returned a value that is not plain data: "
                                  "result: table mixes array items and named keys"},
                 {NULL, NULL}};
    for (int i = 0; cases[i].fn; i++) {
        CHECK(call(s, "j", cases[i].fn, "[]") == NULL);
        CHECK_STR(err, cases[i].msg);
    }
    CHECK(call(s, "j", "deep", "[]") == NULL);
    CHECK(strstr(err, "nested deeper than 64 levels") != NULL);
    CHECK(call(s, "j", "dag", "[]") == NULL);
    CHECK(strstr(err, "more than 1000000 values") != NULL);
    /* Arguments must be an array. */
    json_t *obj = json_object(), *r = NULL;
    CHECK_INT(souk_scripts_call(s, "j", "echo", obj, &r, err, sizeof err), -1);
    CHECK(strstr(err, "arguments must be a JSON array") != NULL);
    json_decref(obj);
}

TEST(eval_file_config_shape)
{
    const char *dir = new_dir("eval");
    char path[512];
    snprintf(path, sizeof path, "%s/souk.lua", dir);
    json_t *out = NULL;
    write_file(dir, "souk.lua",
               "local port = 8000 + 80\n"
               "return { listen = '127.0.0.1:' .. port, plugins = {'a', 'b'}, settings = {} }\n");
    CHECK_INT(souk_lua_eval_file(path, NULL, &out, err, sizeof err), 0);
    char *text = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
    CHECK_STR(text, "{\"listen\":\"127.0.0.1:8080\",\"plugins\":[\"a\",\"b\"],\"settings\":{}}");
    free(text);
    json_decref(out);
    write_file(dir, "souk.lua", "return 'nope'\n");
    CHECK_INT(souk_lua_eval_file(path, NULL, &out, err, sizeof err), -1);
    CHECK_STR(err, "souk.lua: must return a table, got string");
    write_file(dir, "souk.lua", "return { x = function() end }\n");
    CHECK_INT(souk_lua_eval_file(path, NULL, &out, err, sizeof err), -1);
    CHECK_STR(err, "souk.lua: x: function is not plain data");
    write_file(dir, "souk.lua", "return {\n  a = 1,\n  b = nil + 1,\n}\n");
    CHECK_INT(souk_lua_eval_file(path, NULL, &out, err, sizeof err), -1);
    CHECK(strstr(err, "souk.lua:3: attempt to perform arithmetic on a nil value") == err);
    snprintf(path, sizeof path, "%s/absent.lua", dir);
    CHECK_INT(souk_lua_eval_file(path, NULL, &out, err, sizeof err), -1);
    CHECK(strstr(err, "absent.lua: cannot open") != NULL);
}

/* ------------------------------------------------------------- script tests */

static const char pricing_v1[] = "local M = {}\n"
                                 "function M.price(item, customer)\n"
                                 "  if customer.member then return item.price * 9 // 10 end\n"
                                 "  return item.price\n"
                                 "end\n"
                                 "return M\n";

static const char pricing_test_mixed[] =
    "return {\n"
    "  ['member price'] = function()\n"
    "    expect_eq(M.price({price = 1000}, {member = true}), 900)\n"
    "  end,\n"
    "  ['guest price'] = function()\n"
    "    expect_eq(M.price({price = 1000}, {member = false}), 900)\n"
    "  end,\n"
    "  ['deep'] = function()\n"
    "    expect_eq({items = {{amount = 5}}}, {items = {{amount = 5.0}}}, 'adjustments')\n"
    "  end,\n"
    "  ['errors'] = function()\n"
    "    local msg = expect_error(function() M.price(nil, {}) end, 'index a nil value')\n"
    "    expect(msg:find('pricing.lua:4:', 1, true), 'message names the line')\n"
    "  end,\n"
    "  ['no error'] = function() expect_error(function() end) end,\n"
    "  ['expect'] = function() expect(1 == 2, 'one is not two') end,\n"
    "  ['runaway'] = function() while true do end end,\n"
    "}\n";

static char *run_report(const char *dir, souk_script_limits lim, int *rc)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    *rc = souk_scripts_test(dir, &lim, out);
    fclose(out);
    return text;
}

TEST(script_tests_report)
{
    const char *dir = new_dir("report");
    write_file(dir, "pricing.lua", pricing_v1);
    write_file(dir, "pricing_test.lua", pricing_test_mixed);
    write_file(dir, "promo.lua", "return { code = function() return 'X' end }\n");
    write_file(dir, "orphan_test.lua", "return {}\n");
    write_file(dir, ".#pricing.lua", "garbage");
    int rc;
    char *text = run_report(dir, small_limits(200000, 32u * 1024 * 1024), &rc);
    CHECK_INT(rc, 6);
    CHECK_STR(text, "FAIL pricing: deep: pricing_test.lua:9: adjustments: expected 5.0, got 5 "
                    "(at items[1].amount)\n"
                    "ok   pricing: errors\n"
                    "FAIL pricing: expect: pricing_test.lua:16: one is not two\n"
                    "FAIL pricing: guest price: pricing_test.lua:6: expected 900, got 1000\n"
                    "ok   pricing: member price\n"
                    "FAIL pricing: no error: pricing_test.lua:15: expected an error, got none\n"
                    "FAIL pricing: runaway: pricing_test.lua:17: instruction budget exceeded "
                    "(200000 instructions)\n"
                    "note promo: loads; no promo_test.lua\n"
                    "FAIL orphan: orphan_test.lua has no orphan.lua to test\n"
                    "2 passed, 6 failed\n");
    free(text);
}

TEST(script_tests_all_pass_and_broken_script)
{
    const char *dir = new_dir("report_ok");
    write_file(dir, "pricing.lua", pricing_v1);
    write_file(
        dir, "pricing_test.lua",
        "local cart = {price = 1000}\n"
        "return {\n"
        "  ['member price'] = function() expect_eq(M.price(cart, {member = true}), 900) end,\n"
        "  ['guest price'] = function() expect_eq(M.price(cart, {}), 1000) end,\n"
        "  ['tables'] = function() expect_eq({a = {1, 2}}, {a = {1, 2}}) end,\n"
        "}\n");
    int rc;
    char *text = run_report(dir, DEFAULT_LIMITS, &rc);
    CHECK_INT(rc, 0);
    CHECK_STR(text, "ok   pricing: guest price\nok   pricing: member price\nok   pricing: tables\n"
                    "3 passed, 0 failed\n");
    free(text);

    write_file(dir, "broken.lua", "local M = {}\nfunction M.f()\n  return 1 +\nend\nreturn M\n");
    text = run_report(dir, DEFAULT_LIMITS, &rc);
    CHECK_INT(rc, -1);
    CHECK(strstr(text, "FAIL broken: broken.lua:4: unexpected symbol near 'end'\n") == text);
    CHECK(strstr(text, "3 passed, 1 failed\n") != NULL);
    free(text);

    const char *empty = new_dir("report_empty");
    text = run_report(empty, DEFAULT_LIMITS, &rc);
    CHECK_INT(rc, 0);
    CHECK(strstr(text, "0 passed, 0 failed\n") != NULL);
    free(text);
}

static void expect_eq_dag(void)
{
    const char *dir = new_dir("report_dag");
    write_file(dir, "dag.lua", "return {}\n");
    write_file(dir, "dag_test.lua",
               "local function dag(k) local t = {} for i = 1, k do t = {t, t} end return t end\n"
               "return {\n"
               "  ['shared halves'] = function()\n"
               "    expect_eq(dag(30), dag(30))\n"
               "  end,\n"
               "  ['small'] = function() expect_eq(dag(8), dag(8)) end,\n"
               "}\n");
    int rc;
    char *text = run_report(dir, small_limits(1000000, 32u * 1024 * 1024), &rc);
    CHECK_INT(rc, 1);
    CHECK_STR(text, "FAIL dag: shared halves: dag_test.lua:4: instruction budget exceeded "
                    "(1000000 instructions)\n"
                    "ok   dag: small\n"
                    "1 passed, 1 failed\n");
    free(text);
}

TEST(expect_eq_is_budgeted)
{
    /* expect_eq walks tables in C: two equal tables that share their halves at
     * every level are 2^30 comparisons, charged to the case's budget.  Run in a
     * child that the alarm stops if they are not. */
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(CALL_ALARM_SECONDS);
        expect_eq_dag();
        _exit(test_failed_checks ? 1 : 0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(open_refuses_failing_tests)
{
    const char *dir = new_dir("open_tests");
    write_file(dir, "pricing.lua", pricing_v1);
    write_file(dir, "pricing_test.lua",
               "return { ['member price'] = function()\n"
               "  expect_eq(M.price({price = 1000}, {member = true}), 800)\n"
               "end }\n");
    souk_scripts *s = NULL;
    souk_script_limits lim = DEFAULT_LIMITS;
    CHECK_INT(souk_scripts_open(&s, dir, &lim, err, sizeof err), -1);
    CHECK_STR(err,
              "pricing: test 'member price' failed: pricing_test.lua:2: expected 800, got 900");
    /* A test file that is not a table of cases. */
    write_file(dir, "pricing_test.lua", "return { 1 }\n");
    CHECK_INT(souk_scripts_open(&s, dir, &lim, err, sizeof err), -1);
    CHECK(strstr(err, "entry [1] is not a test case") != NULL);
    /* A missing directory is an empty set. */
    char missing[512];
    snprintf(missing, sizeof missing, "%s/does-not-exist", root);
    CHECK_INT(souk_scripts_open(&s, missing, &lim, err, sizeof err), 0);
    CHECK(!souk_scripts_has(s, "pricing"));
    CHECK_INT(souk_scripts_reload(s), 0);
    souk_scripts_close(s);
}

/* ------------------------------------------------------------------ reload */

/* An optional hook is asked about without running the merchant's code: a
 * function found with rawget, a metamethod never called. */
TEST(has_function_runs_no_code)
{
    souk_scripts *s = open_one("hasfn", "hooks",
                               "local M = setmetatable({}, {__index = function(t, k)\n"
                               "  error('__index ran for ' .. k)\nend})\n"
                               "rawset(M, 'price', function() return 1 end)\n"
                               "rawset(M, 'answer', 42)\nreturn M\n",
                               DEFAULT_LIMITS);
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK(souk_scripts_has_function(s, "hooks", "price"));
    CHECK(!souk_scripts_has_function(s, "hooks", "answer"));       /* not a function */
    CHECK(!souk_scripts_has_function(s, "hooks", "customer_key")); /* __index not run */
    CHECK(!souk_scripts_has_function(s, "nosuch", "price"));
    CHECK(!souk_scripts_has_function(s, "hooks", NULL));
    CHECK_STR(call(s, "hooks", "price", "[]"), "1");
    souk_scripts_close(s);
}

TEST(reload_keeps_working_version)
{
    const char *dir = new_dir("reload");
    write_file(dir, "pricing.lua", "return { v = function() return 1 end }\n");
    souk_scripts *s = NULL;
    souk_script_limits lim = DEFAULT_LIMITS;
    CHECK_INT(souk_scripts_open(&s, dir, &lim, err, sizeof err), 0);
    CHECK_STR(call(s, "pricing", "v", "[]"), "1");
    CHECK_INT(souk_scripts_reload(s), 0); /* nothing changed */

    /* Does not compile: the old version keeps running. */
    write_file(dir, "pricing.lua", "return { v = function() return 2 end\n");
    CHECK_INT(souk_scripts_reload(s), 0);
    CHECK_STR(call(s, "pricing", "v", "[]"), "1");
    CHECK_INT(souk_scripts_reload(s), 0); /* reported once, not retried until it changes */

    /* Compiles, but its tests fail: still the old version. */
    write_file(dir, "pricing.lua", "return { v = function() return 2 end }\n");
    write_file(dir, "pricing_test.lua", "return { v = function() expect_eq(M.v(), 3) end }\n");
    CHECK_INT(souk_scripts_reload(s), 0);
    CHECK_STR(call(s, "pricing", "v", "[]"), "1");

    /* The test is fixed: the new version goes live. */
    write_file(dir, "pricing_test.lua", "return { v = function() expect_eq(M.v(), 2) end }\n");
    CHECK_INT(souk_scripts_reload(s), 1);
    CHECK_STR(call(s, "pricing", "v", "[]"), "2");

    /* New, broken new, and removed scripts. */
    write_file(dir, "promo.lua", "return { code = function() return 'SALE' end }\n");
    write_file(dir, "referral.lua", "return 1\n");
    CHECK_INT(souk_scripts_reload(s), 1);
    CHECK(souk_scripts_has(s, "promo"));
    CHECK(!souk_scripts_has(s, "referral"));
    CHECK_STR(call(s, "promo", "code", "[]"), "\"SALE\"");
    write_file(dir, "referral.lua", "return { bonus = function() return 100 end }\n");
    CHECK_INT(souk_scripts_reload(s), 1);
    CHECK_STR(call(s, "referral", "bonus", "[]"), "100");
    remove_file(dir, "promo.lua");
    CHECK_INT(souk_scripts_reload(s), 1);
    CHECK(!souk_scripts_has(s, "promo"));
    CHECK(call(s, "promo", "code", "[]") == NULL);
    CHECK_INT(souk_scripts_reload(s), 0);
    souk_scripts_close(s);
}

int main(void)
{
    snprintf(root, sizeof root, "/tmp/souk-test-script-XXXXXX");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(forbidden_libraries_absent);
    RUN(bytecode_refused);
    RUN(budget_stops_loop_and_state_survives);
    RUN(budget_stops_top_level_loop);
    RUN(library_loops_are_budgeted);
    RUN(memory_ceiling_and_state_survives);
    RUN(read_only_libraries);
    RUN(errors_carry_script_and_line);
    RUN(random_is_deterministic_and_print_goes_to_log);
    json_setup();
    RUN(json_round_trips);
    RUN(json_rejections_name_the_path);
    souk_scripts_close(json_scripts);
    RUN(eval_file_config_shape);
    RUN(script_tests_report);
    RUN(script_tests_all_pass_and_broken_script);
    RUN(expect_eq_is_budgeted);
    RUN(open_refuses_failing_tests);
    RUN(reload_keeps_working_version);
    RUN(has_function_runs_no_code);
    nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return test_report();
}
