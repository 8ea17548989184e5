/* script_json.h -- JSON <-> Lua conversion for the script host (internal).
 *
 * JSON -> Lua
 *   object  -> table with string keys; a member whose value is null is left out
 *   array   -> sequence 1..n marked as an array (souk.array), so that an empty
 *              array comes back out as [] and not {}
 *   null    -> souk.null inside an array (a hole would break the sequence);
 *              nil as a top-level value (a function argument)
 *   integer -> integer (lua_Integer), real -> float, string -> string, bool -> bool
 *
 * Lua -> JSON (strict: anything else is an error naming the path, never a guess)
 *   table with keys 1..n only, or marked with souk.array  -> array
 *   table with string keys only, or empty and not marked   -> object
 *   integer -> integer; float -> real (an integral float stays a real: 10/2 is 5.0)
 *   string (valid UTF-8) -> string; boolean -> bool; nil or souk.null -> null
 *   Errors: mixed or sparse keys, keys that are neither strings nor integers,
 *   functions, userdata, threads, cycles, NaN and infinities, strings that are not
 *   UTF-8, nesting deeper than SOUK_JSON_MAX_DEPTH, more than SOUK_JSON_MAX_VALUES
 *   values (a table shared many times is copied each time). */
#ifndef SOUK_SCRIPT_JSON_H
#define SOUK_SCRIPT_JSON_H

#include <jansson.h>
#include <lua.h>
#include <stddef.h>

#define SOUK_JSON_MAX_DEPTH 64
#define SOUK_JSON_MAX_VALUES 1000000
/* Longest path kept in a message ("result.items[3].price"); longer ones are cut. */
#define SOUK_JSON_PATH_MAX 256

/* Install the array marker in the registry and push the `souk` library table
 * (null, array, is_array) onto the stack.  Called while a sandbox is built. */
void souk_json_open(lua_State *L);

/* Push v (borrowed) as a Lua value; NULL or a top-level null pushes nil.  May raise
 * a Lua error (memory, depth): call it only inside a protected call.  path names
 * the value in messages ("args[2]"). */
void souk_json_push(lua_State *L, json_t *v, const char *path);

/* Convert the Lua value at idx.  Never raises.  Returns a new reference, or NULL
 * with err = "<root>.items[3].price: function is not plain data" (root may be ""). */
json_t *souk_json_from_lua(lua_State *L, int idx, const char *root, char *err, size_t errlen);

/* Whether the value at idx is a table marked as an array. */
int souk_json_is_array(lua_State *L, int idx);

#endif
