/* script.h -- the Lua 5.4 host: a sandbox for merchant scripts and for souk.lua.
 *
 * Sandbox (docs/scripting.md): base library without load/loadfile/dofile/require/
 * collectgarbage (and without print going to stdout: print goes to the log),
 * string without dump, table, math (math.random deterministic), utf8; no io, os,
 * debug, package.  Library tables are read-only.  Text chunks only (mode "t").
 * Every call has an instruction budget (count hook); every state a memory ceiling
 * (custom allocator).  Errors carry "script.lua:LINE: message". */
#ifndef SOUK_SCRIPT_H
#define SOUK_SCRIPT_H

#include "config.h"

#include <jansson.h>
#include <stdio.h>

typedef struct souk_scripts souk_scripts;

/* Evaluate a Lua file in a fresh sandbox and convert the table it returns to JSON
 * (*out, yours).  Used for souk.lua.  -1 with "file:line: message" in err. */
int souk_lua_eval_file(const char *path, const souk_script_limits *limits, json_t **out,
                       char *err, size_t errlen);

/* Open the scripts of a store: every DIR/NAME.lua that is not NAME_test.lua, each
 * in its own Lua state.  A script must compile, return a table, and pass the cases of its
 * NAME_test.lua if present.  A missing DIR is an empty set.  -1 with err naming the
 * script and the line when any script fails. */
int souk_scripts_open(souk_scripts **out, const char *dir, const souk_script_limits *limits,
                      char *err, size_t errlen);
void souk_scripts_close(souk_scripts *s);
/* Whether a script (by name without .lua) is loaded. */
int souk_scripts_has(souk_scripts *s, const char *script);
/* Whether that script's module (a table) has a function fn, read without
 * metamethods, so asking runs none of the merchant's code. */
int souk_scripts_has_function(souk_scripts *s, const char *script, const char *fn);

/* Call script.fn(args...) where args is a JSON array (borrowed) whose elements are
 * converted to Lua values (objects and arrays become fresh tables).  The first
 * return value is converted back into *result (yours).  Fails (-1, err) on a missing
 * script or function, a runtime error, the budget or the ceiling, or a return value
 * that is not plain data (functions, userdata, cycles, NaN/inf, mixed or sparse
 * tables). */
int souk_scripts_call(souk_scripts *s, const char *script, const char *fn, json_t *args,
                      json_t **result, char *err, size_t errlen);

/* Re-read scripts whose files changed.  Each changed script replaces the running
 * one only after it compiles and its tests pass; otherwise the old one stays and
 * the reason is logged.  Returns the number of scripts replaced. */
int souk_scripts_reload(souk_scripts *s);

/* `souk script test`: run every script's *_test.lua in dir, writing a report to
 * out.  Returns the number of failed cases (0 = all passed), -1 on a script that
 * does not load. */
int souk_scripts_test(const char *dir, const souk_script_limits *limits, FILE *out);

#endif
