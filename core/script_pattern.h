/* script_pattern.h -- Lua 5.4 string patterns that count their work (internal to
 * the script host: script_sandbox.c installs them; plugins never see them).
 *
 * string.find, string.match, string.gmatch and string.gsub behave as in the Lua 5.4
 * reference manual (§6.4.1, Patterns; §6.4, the four functions, init arguments,
 * plain find, gsub's replacement kinds and its limit), with Lua's error messages:
 *   "malformed pattern (ends with '%')"       "malformed pattern (missing ']')"
 *   "malformed pattern (missing arguments to '%b')"
 *   "missing '[' after '%f' in pattern"       "invalid pattern capture"
 *   "invalid capture index %N"                "unfinished capture"
 *   "too many captures"                       "pattern too complex"
 *   "invalid use of '%' in replacement string" "invalid replacement value (a table)"
 * Pattern errors are found while matching, as in Lua: a malformed item that the
 * matcher never reaches is not an error.
 *
 * The difference from the stock library is cost accounting.  Stock Lua matches
 * inside C, where the instruction budget cannot see it, and a backtracking pattern
 * can take time exponential in its length ("a*a*a*...b") or quadratic in the
 * subject's ("a*b" on 200 KB).  Here every step of the matcher -- trying a pattern
 * item at a position, one byte of a plain search, of a %b scan, of a back-reference
 * or of a set, one byte of a gsub replacement string -- is one unit charged through
 * souk_sandbox_charge(), so such a call stops with the ordinary budget error.
 *
 * Character classes (%a %c %d %g %l %p %s %u %w %x, the deprecated %z for the
 * zero byte that Lua 5.4 still accepts, and their complements) are
 * those of the C locale whatever locale the process runs in: bytes 0x80-0xFF
 * belong to no class. */
#ifndef SOUK_SCRIPT_PATTERN_H
#define SOUK_SCRIPT_PATTERN_H

#include <lua.h>

/* Deepest nesting of the matcher (each capture and each backtracking quantifier
 * nests one level); deeper patterns fail with "pattern too complex".  The same
 * value as stock Lua (MAXCCALLS), so that the same patterns are refused. */
#define SOUK_PATTERN_DEPTH_MAX 200
/* Most captures in one pattern ("too many captures"), as LUA_MAXCAPTURES. */
#define SOUK_PATTERN_CAPTURES_MAX 32
/* Matcher steps counted locally between two calls to souk_sandbox_charge: the
 * budget is checked often enough to stop a runaway match promptly, rarely enough
 * to cost nothing measurable.  Whatever is left is charged when a call returns. */
#define SOUK_PATTERN_CHARGE_STEP 1024

/* Set find, match, gmatch and gsub in the table at index idx (the real string
 * library table, before it is frozen; ("x"):find() then reaches them through the
 * string metatable).  The functions charge the sandbox that owns L, so they must
 * only be installed in a state built by souk_sandbox_new().  May raise a memory
 * error (call it protected, as sandbox setup is). */
void souk_pattern_install(lua_State *L, int idx);

#endif
