/* script_sandbox.h -- one sandboxed Lua 5.4 state (internal to the script host:
 * script.c, script_json.c, script_test.c; plugins never see it).
 *
 * A sandbox is a lua_State built by souk_sandbox_new() with:
 *   - a counting allocator: the state never holds more than limits->memory bytes;
 *   - a count hook: every souk_sandbox_run() may execute at most
 *     limits->instructions VM instructions (checked every SOUK_SANDBOX_HOOK_STEP);
 *     library functions that loop in C over a length a script chooses
 *     (string.rep, table.move, insert, remove, sort) and the pattern functions
 *     (string.find, match, gmatch, gsub: script_pattern.c) charge those loops to the
 *     same budget (souk_sandbox_charge);
 *   - the libraries of docs/scripting.md only, behind read-only proxy tables;
 *   - the global `souk` table (souk.null, souk.array: see script_json.h).
 * Both limits end a call with an ordinary error message
 *   "pricing.lua:12: instruction budget exceeded (10000000 instructions)"
 *   "pricing.lua:12: memory limit exceeded (33554432 bytes)"
 * after which the state stays usable for the next call.
 *
 * Only the main thread of a state ever runs code (the coroutine library is not
 * opened), which is what lets the allocator and the hook find the running line. */
#ifndef SOUK_SCRIPT_SANDBOX_H
#define SOUK_SCRIPT_SANDBOX_H

#include "config.h"

#include <lua.h>
#include <stddef.h>
#include <stdint.h>

/* Instructions between two checks of the budget: small enough that a runaway loop
 * stops promptly, large enough that the hook costs nothing measurable. */
#define SOUK_SANDBOX_HOOK_STEP 1000
/* math.random is reseeded with this value at the start of every run, so the same
 * call with the same arguments always draws the same numbers. */
#define SOUK_SANDBOX_RANDOM_SEED 20240601
/* Largest source file accepted (scripts and souk.lua are small programs). */
#define SOUK_SANDBOX_SOURCE_MAX (4u * 1024 * 1024)
/* Longest chunk name kept for messages ("pricing_test.lua"). */
#define SOUK_SANDBOX_NAME_MAX 128
/* Longest error message a run reports. */
#define SOUK_SANDBOX_ERR_MAX 1024

typedef struct souk_sandbox souk_sandbox;

/* Adds globals to a state being built: called (protected) with the table of
 * read-only globals on top of the stack; must leave the stack as it found it. */
typedef int (*souk_sandbox_extra_fn)(lua_State *L);

/* A fresh sandbox.  name ("pricing.lua") prefixes messages that have no Lua
 * position.  extra, if not NULL, adds read-only globals (the test helpers).
 * NULL with err on failure (limits too small to build the state). */
souk_sandbox *souk_sandbox_new(const char *name, const souk_script_limits *limits,
                               souk_sandbox_extra_fn extra, char *err, size_t errlen);
void souk_sandbox_free(souk_sandbox *sb);
lua_State *souk_sandbox_lua(souk_sandbox *sb);
/* The sandbox a state belongs to (from inside a C function). */
souk_sandbox *souk_sandbox_of(lua_State *L);
/* The name given to souk_sandbox_new (borrowed). */
const char *souk_sandbox_name(souk_sandbox *sb);

/* Read path and push it as a function: a text chunk named after the file's base
 * name, so that its errors read "pricing.lua:3: ...".  Binary chunks are refused.
 * -1 with err ("pricing.lua:3: unexpected symbol near ...") and nothing pushed. */
int souk_sandbox_load_file(souk_sandbox *sb, const char *path, char *err, size_t errlen);
/* The same for source text already in memory (text borrowed); name is the chunk
 * name used in messages ("pricing.lua"). */
int souk_sandbox_load_buffer(souk_sandbox *sb, const char *name, const char *text, size_t len,
                             char *err, size_t errlen);

/* Load path (as above) and run it: it must return a table (a script's module),
 * which is left on top of the stack.  -1 with err otherwise. */
int souk_sandbox_load_module(souk_sandbox *sb, const char *path, char *err, size_t errlen);

/* Call the function below the nargs arguments on top of the stack, with a fresh
 * instruction budget and a reseeded math.random.  On success 0 and nresults values
 * replace the function and its arguments.  On failure -1, the function and its
 * arguments are popped and err holds "name.lua:LINE: message". */
int souk_sandbox_run(souk_sandbox *sb, int nargs, int nresults, char *err, size_t errlen);
/* Run f(ud) the same way (f gets a light userdata as its only argument): used to
 * do work that allocates Lua memory (converting arguments) under protection. */
int souk_sandbox_cpcall(souk_sandbox *sb, lua_CFunction f, void *ud, int nresults, char *err,
                        size_t errlen);

/* Whether the budget of the current run is spent.  Script-level pcall/xpcall and
 * expect_error re-raise instead of swallowing such an error. */
int souk_sandbox_budget_spent(lua_State *L);
/* Raise the budget error again (after it was caught by a protected call). */
int souk_sandbox_reraise_budget(lua_State *L);

/* Charge units of work done inside a C function to the budget of the current run
 * (the count hook cannot see it); raises the budget error, naming the calling Lua
 * line, when the budget is spent.  Only from a C function called by a script. */
void souk_sandbox_charge(lua_State *L, uint64_t units);

/* Bytes the state holds now (tests and diagnostics). */
size_t souk_sandbox_memory(souk_sandbox *sb);

#endif
