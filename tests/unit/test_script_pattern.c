/* test_script_pattern.c -- the sandbox's string patterns (script_pattern.c).
 *
 * A table of expressions run in the real sandbox, each compared with what stock
 * Lua 5.4.4 gives for the same text.  The expectations were produced once with the
 * lua5.4 interpreter from a file patterns.lua holding the prelude below, then one
 * line "cases[i] = function() return EXPR end" per case (as cases_source() writes
 * them), then "for i = 1, #cases do print(show(pcall(cases[i]))) end", run as
 * `lua5.4 patterns.lua` from its directory.  Error messages carry the line of the
 * case, so the order of the table matters: add new cases at its end.
 *
 * Then the patterns that hold stock Lua for minutes or years, which must now end
 * promptly with the budget error. */
#define _GNU_SOURCE
#include "script.h"
#include "script_sandbox.h"
#include "test.h"

#include <lauxlib.h>

#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Budget and memory of a default store (docs/scripting.md). */
#define TEST_INSTRUCTIONS 10000000
#define TEST_MEMORY (32u * 1024 * 1024)
/* A bomb that the budget does not stop is killed by this alarm instead of hanging
 * the suite (stock Lua needs hours for each of them). */
#define BOMB_ALARM_SECONDS 30

static char err[SOUK_SANDBOX_ERR_MAX];

/* ------------------------------------------------------ compared with stock Lua */

/* Helpers shared by every case: ALL holds the 256 byte values; show() renders
 * results (strings quoted with \ddd escapes, floats marked "f"), collect() the
 * values of a gmatch iterator. */
static const char prelude[] =
    "local ALL = {}\n"
    "for i = 0, 255 do ALL[#ALL + 1] = string.char(i) end\n"
    "ALL = table.concat(ALL)\n"
    "local function quote(s)\n"
    "  local out = {}\n"
    "  for i = 1, #s do\n"
    "    local b = s:byte(i)\n"
    "    if b == 34 or b == 92 then out[#out + 1] = \"\\\\\" .. string.char(b)\n"
    "    elseif b < 32 or b > 126 then out[#out + 1] = string.format(\"\\\\%03d\", b)\n"
    "    else out[#out + 1] = string.char(b) end\n"
    "  end\n"
    "  return '\"' .. table.concat(out) .. '\"'\n"
    "end\n"
    "local function show(...)\n"
    "  local out = {}\n"
    "  for i = 1, select(\"#\", ...) do\n"
    "    local v = select(i, ...)\n"
    "    if type(v) == \"string\" then out[i] = quote(v)\n"
    "    elseif math.type(v) == \"float\" then out[i] = string.format(\"%.17g\", v) .. \"f\"\n"
    "    else out[i] = tostring(v) end\n"
    "  end\n"
    "  return table.concat(out, \" \")\n"
    "end\n"
    "local function collect(it)\n"
    "  local out = {}\n"
    "  for _ = 1, 100 do\n"
    "    local r = table.pack(it())\n"
    "    if r[1] == nil then return table.concat(out, \"; \") end\n"
    "    out[#out + 1] = show(table.unpack(r, 1, r.n))\n"
    "  end\n"
    "  return table.concat(out, \"; \") .. \"; ...\"\n"
    "end\n"
    "local cases = {}\n";

static const struct {
    const char *expr; /* a Lua expression */
    const char *want; /* show(pcall(function() return expr end)) under lua5.4 */
} cases[] = {
    {"(\"hello world\"):find(\"o\")", "true 5 5"},
    {"(\"hello world\"):find(\"o\", 6)", "true 8 8"},
    {"(\"hello world\"):find(\"o\", -3)", "true nil"},
    {"(\"hello world\"):find(\"o\", -100)", "true 5 5"},
    {"(\"hello world\"):find(\"o\", 0)", "true 5 5"},
    {"(\"hello world\"):find(\"l+\")", "true 3 4"},
    {"(\"hello world\"):find(\"(o)(r?)\")", "true 5 5 \"o\" \"\""},
    {"(\"hello\"):find(\"\")", "true 1 0"},
    {"(\"hello\"):find(\"\", 10)", "true nil"},
    {"(\"hello\"):find(\"\", 6)", "true 6 5"},
    {"(\"hello\"):find(\"\", 7)", "true nil"},
    {"(\"hello\"):find(\"\", -1)", "true 5 4"},
    {"(\"\"):find(\"\")", "true 1 0"},
    {"(\"\"):find(\"\", 2)", "true nil"},
    {"(\"\"):find(\"a*\")", "true 1 0"},
    {"(\"hello\"):find(\"xyz\")", "true nil"},
    {"(\"hello\"):find(\"xyz\", 1, true)", "true nil"},
    {"(\"hello\"):find(\"lo\", 1, true)", "true 4 5"},
    {"(\"hello\"):find(\"hello!\", 1, true)", "true nil"},
    {"(\"a.b\"):find(\".\", 1, true)", "true 2 2"},
    {"(\"a.b\"):find(\".\")", "true 1 1"},
    {"(\"a.b\"):find(\"%.\")", "true 2 2"},
    {"(\"a.b.c\"):find(\".\", 3, true)", "true 4 4"},
    {"(\"a+b\"):find(\"+\", 1, true)", "true 2 2"},
    {"(\"a+b\"):find(\"a+b\")", "true nil"},
    {"(\"a+b\"):find(\"a%+b\")", "true 1 3"},
    {"(\"a)b\"):find(\"a)\")", "true 1 2"},
    {"(\"abc\"):find(\"b\", 1, false)", "true 2 2"},
    {"(\"abc\"):find(\"[b]\", 1, nil)", "true 2 2"},
    {"(\"aaa\"):find(\"a\", 4)", "true nil"},
    {"(\"aaa\"):find(\"a\", 3)", "true 3 3"},
    {"(\"aaa\"):find(\"a\", -1)", "true 3 3"},
    {"(\"a\\0b\"):find(\"\\0\")", "true 2 2"},
    {"(\"a\\0b\"):find(\"[\\0]\")", "true 2 2"},
    {"(\"a\\0b\\0c\"):find(\"\\0c\")", "true 4 5"},
    {"(\"a\\0b\\0c\"):find(\"%z\")", "true 2 2"},
    {"(\"a\\0b\"):find(\"b\", 1, true)", "true 3 3"},
    {"(\"abc\"):find(\"b\", 2.0)", "true 2 2"},
    {"(\"abc\"):find(\"b\", 1.5)",
     "false \"patterns.lua:72: bad argument #2 to 'find' (number has no integer representation)"
     "\""},
    {"string.find(12345, 34)", "true 3 4"},
    {"string.find(\"abc\")",
     "false \"patterns.lua:74: bad argument #2 to 'find' (string expected, got no value)\""},
    {"string.find(nil, \"a\")",
     "false \"patterns.lua:75: bad argument #1 to 'find' (string expected, got nil)\""},
    {"string.find(\"abc\", \"b\", \"x\")",
     "false \"patterns.lua:76: bad argument #3 to 'find' (number expected, got string)\""},
    {"(\"hello\"):find(\"l\", 3.0)", "true 3 3"},
    {"(\"abc\"):find(\"^b\", 2)", "true 2 2"},
    {"(\"abc\"):find(\"^a\", 2)", "true nil"},
    {"(\"abc\"):find(\"^\", 4)", "true 4 3"},
    {"(\"abc\"):find(\"$\", 2)", "true 4 3"},
    {"(\"abc\"):find(\"%f[a]\")", "true 1 0"},
    {"(\"hello\"):find(\"%f[\\0]\")", "true 6 5"},
    {"(\"hello\"):find(\"%f[^%l]\")", "true 6 5"},
    {"(\"hello\"):find(\"%f[%l]\", 2)", "true nil"},
    {"(\"THE (quick) fox\"):find(\"%f[%a]%a+%f[%A]\")", "true 1 3"},
    {"(\"THE (quick) fox\"):find(\"%f[%a]%a+%f[%A]\", 5)", "true 6 10"},
    {"(\"hello world\"):match(\"^(%w+)\")", "true \"hello\""},
    {"(\"key = value\"):match(\"^(%w+)%s*=%s*(%w+)$\")", "true \"key\" \"value\""},
    {"(\"  trim  \"):match(\"^%s*(.-)%s*$\")", "true \"trim\""},
    {"(\"2024-06-01\"):match(\"(%d+)-(%d+)-(%d+)\")", "true \"2024\" \"06\" \"01\""},
    {"(\"abc\"):match(\"()b()\")", "true 2 3"},
    {"(\"abc\"):match(\"()\")", "true 1"},
    {"(\"abc\"):match(\"()\", 4)", "true 4"},
    {"(\"abc\"):match(\"()\", 5)", "true nil"},
    {"(\"abc\"):match(\"()\", -1)", "true 3"},
    {"(\"abc\"):match(\".-\")", "true \"\""},
    {"(\"abc\"):match(\".-$\")", "true \"abc\""},
    {"(\"abc\"):match(\"a*\")", "true \"a\""},
    {"(\"abc\"):match(\"b*\")", "true \"\""},
    {"(\"abc\"):match(\"^b\")", "true nil"},
    {"(\"abc\"):match(\"c$\")", "true \"c\""},
    {"(\"abc$\"):match(\"c$\")", "true nil"},
    {"(\"abc$\"):match(\"c%$\")", "true \"c$\""},
    {"(\"a$b\"):match(\"$b\")", "true \"$b\""},
    {"(\"a$b\"):match(\"a$b\")", "true \"a$b\""},
    {"(\"a$\"):match(\"a$$\")", "true \"a$\""},
    {"(\"^a\"):match(\"%^a\")", "true \"^a\""},
    {"(\"^a\"):match(\"^^a\")", "true \"^a\""},
    {"(\"a^\"):match(\"a^\")", "true \"a^\""},
    {"(\"x = 1, y = 2\"):match(\"(%a)%s*=%s*(%d)\", 5)", "true \"y\" \"2\""},
    {"(\"abc\"):match(\"((a)(b))c\")", "true \"ab\" \"a\" \"b\""},
    {"(\"abc\"):match(\"(a(b(c)))\")", "true \"abc\" \"bc\" \"c\""},
    {"(\"abc\"):match(\"(a)(x?)b\")", "true \"a\" \"\""},
    {"(\"abc\"):match(\"b\", 2)", "true \"b\""},
    {"(\"abc\"):match(\"b\", 3)", "true nil"},
    {"(\"abc\"):match(\"^b\", 2)", "true \"b\""},
    {"(\"abcabc\"):match(\"(abc)%1\")", "true \"abc\""},
    {"(\"abcab\"):match(\"(abc)%1\")", "true nil"},
    {"(\"aa\"):match(\"(a*)%1\")", "true \"a\""},
    {"(\"aaaa\"):match(\"^(a*)%1$\")", "true \"aa\""},
    {"(\"aaa\"):match(\"^(a*)%1$\")", "true nil"},
    {"(\"hello\"):find(\"(l)%1\")", "true 3 4 \"l\""},
    {"(\"aXa\"):match(\"(%a)X%1\")", "true \"a\""},
    {"(\"aa\"):match(\"(a)(%1)\")", "true \"a\" \"a\""},
    {"(\"abc\"):match(\"()a%1\")", "true nil"},
    {"(\"x = 'a', y = \\\"b\\\"\"):match(\"([\\\"'])(.-)%1\")", "true \"'\" \"a\""},
    {"(\"()\"):match(\"%b()\")", "true \"()\""},
    {"(\"f(a(b)c)d\"):match(\"%b()\")", "true \"(a(b)c)\""},
    {"(\"f(a(b c)d\"):match(\"%b()\")", "true \"(b c)\""},
    {"(\"f(a(b c)d\"):find(\"%b()\")", "true 4 8"},
    {"(\"[[x]]\"):match(\"%b[]\")", "true \"[[x]]\""},
    {"(\"'a'b'\"):match(\"%b''\")", "true \"'a'\""},
    {"(\"((a)\"):match(\"%b()\")", "true \"(a)\""},
    {"(\"a(b)c\"):match(\"a%b()c\")", "true \"a(b)c\""},
    {"(\"a(b)c\"):match(\"a%b()\")", "true \"a(b)\""},
    {"(\"x{a{b}}y\"):match(\"%b{}y\")", "true \"{a{b}}y\""},
    {"(\"hello\"):match(\"%f[%l]\")", "true \"\""},
    {"(\"aXb\"):match(\"%u\")", "true \"X\""},
    {"(\"aXb\"):match(\"%U+\")", "true \"a\""},
    {"(\"a1_b c\"):match(\"[%w_]+\")", "true \"a1_b\""},
    {"(\"a-b\"):match(\"[a-]+\")", "true \"a-\""},
    {"(\"a-b\"):match(\"[-a]+\")", "true \"a-\""},
    {"(\"]x\"):match(\"[]]\")", "true \"]\""},
    {"(\"]x\"):match(\"[^]]\")", "true \"x\""},
    {"(\"]x\"):match(\"[]x]+\")", "true \"]x\""},
    {"(\"a^b\"):match(\"[a^]+\")", "true \"a^\""},
    {"(\"a^b\"):match(\"[%^b]+\")", "true \"^b\""},
    {"(\"^b\"):match(\"[^^]\")", "true \"b\""},
    {"(\"%a\"):match(\"[%%]\")", "true \"%\""},
    {"(\"a]b\"):match(\"[%]]\")", "true \"]\""},
    {"(\"a]b\"):match(\"[a%]]+\")", "true \"a]\""},
    {"(\"Hello\"):match(\"[A-Z][a-z]+\")", "true \"Hello\""},
    {"(\"z\"):match(\"[a-]\")", "true nil"},
    {"(\"-\"):match(\"[a-]\")", "true \"-\""},
    {"(\"b\"):match(\"[a-c]\")", "true \"b\""},
    {"(\"d\"):match(\"[a-c]\")", "true nil"},
    {"(\"b\"):match(\"[^a-c]\")", "true nil"},
    {"(\"c\"):match(\"[c-a]\")", "true nil"},
    {"(\"\\200\"):match(\"[\\128-\\255]\")", "true \"\\200\""},
    {"(\"\\200x\"):match(\"[^\\128-\\255]\")", "true \"x\""},
    {"(\"abc\"):match(\"[%a-z]+\")", "true \"abc\""},
    {"(\"a-\"):match(\"[%a-]+\")", "true \"a-\""},
    {"(\"5-z\"):match(\"[%d-z]+\")", "true \"5-z\""},
    {"(\"a.b\"):match(\"[.]\")", "true \".\""},
    {"(\"a.b\"):match(\"[%.]b\")", "true \".b\""},
    {"(\"a b\"):match(\"[%s]\")", "true \" \""},
    {"(\"x\"):match(\"[%x]\")", "true nil"},
    {"(\"abc\"):match(\"a?b?c?d?\")", "true \"abc\""},
    {"(\"ac\"):match(\"ab?c\")", "true \"ac\""},
    {"(\"abc\"):match(\"ab?c\")", "true \"abc\""},
    {"(\"abbc\"):match(\"ab?c\")", "true nil"},
    {"(\"abbbc\"):match(\"ab-c\")", "true \"abbbc\""},
    {"(\"abbbc\"):match(\"ab-\")", "true \"a\""},
    {"(\"abbbc\"):match(\"ab+\")", "true \"abbb\""},
    {"(\"ac\"):match(\"ab+c\")", "true nil"},
    {"(\"aaa\"):match(\"a-b\")", "true nil"},
    {"(\"aaab\"):match(\"a-b\")", "true \"aaab\""},
    {"(\"<a><b>\"):match(\"<(.-)>\")", "true \"a\""},
    {"(\"<a><b>\"):match(\"<(.*)>\")", "true \"a><b\""},
    {"(\"abc\"):match(\".\")", "true \"a\""},
    {"(\"\\n\"):match(\".\")", "true \"\\010\""},
    {"(\"abc\"):match(\"...\")", "true \"abc\""},
    {"(\"ab\"):match(\"...\")", "true nil"},
    {"(\"x\"):match(\"%x\")", "true nil"},
    {"(\"%\"):match(\"%%\")", "true \"%\""},
    {"(\".\"):match(\"%.\")", "true \".\""},
    {"(\"a.b\"):match(\"a%.b\")", "true \"a.b\""},
    {"(\"abc\"):match(\"%q\")", "true nil"},
    {"(\"q\"):match(\"%q\")", "true \"q\""},
    {"(\"Z\"):match(\"%Z\")", "true \"Z\""},
    {"(\"z\"):match(\"%Z\")", "true \"z\""},
    {"(\"zzz\"):match(\"%z+\")", "true nil"},
    {"string.match(\"  x\", \"^ *()\")", "true 3"},
    {"(\"one two  three\"):match(\"(%S+)%s+(%S+)%s+(%S+)\")", "true \"one\" \"two\" \"three\""},
    {"(\"[test]\"):match(\"^%[(.*)%]$\")", "true \"test\""},
    {"(\"a+b=c\"):match(\"(%w+)%+(%w+)=(%w+)\")", "true \"a\" \"b\" \"c\""},
    {"(\"a.b\"):match(\"^(.-)%.(.*)$\")", "true \"a\" \"b\""},
    {"(\"/usr/local/bin\"):match(\"^(.*)/([^/]*)$\")", "true \"/usr/local\" \"bin\""},
    {"(\"1,234.50\"):match(\"^[%d,]+%.%d%d$\")", "true \"1,234.50\""},
    {"(\"-12\"):match(\"^[+-]?%d+$\")", "true \"-12\""},
    {"(\"x\"):match(\"x*?\")", "true nil"},
    {"(\"x?\"):match(\"x*?\")", "true \"x?\""},
    {"(\"x*\"):match(\"x**\")", "true \"x*\""},
    {"(\"aaa\"):match(\"a*-\")", "true nil"},
    {"(\"--\"):match(\"--\")", "true \"\""},
    {"(\"a\"):match(\"\")", "true \"\""},
    {"(\"\"):match(\".\")", "true nil"},
    {"(\"\"):match(\".*\")", "true \"\""},
    {"(\"abc\"):match(\"a.-c\")", "true \"abc\""},
    {"(\"a\\nb\"):match(\"a.b\")", "true \"a\\010b\""},
    {"(\"a\\0b\"):match(\"a%z?b\")", "true \"a\\000b\""},
    {"(\"a\\0b\"):match(\"a.b\")", "true \"a\\000b\""},
    {"(\"a\\0b\"):match(\"%c\")", "true \"\\000\""},
    {"(\"a\\0b\"):match(\"[%c]\")", "true \"\\000\""},
    {"string.match(10.5, \"%d+\")", "true \"10\""},
    {"(ALL:gsub(\"[^%a]\", \"\"))",
     "true \"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\""},
    {"(ALL:gsub(\"[^%c]\", \"\"))",
     "true \"\\000\\001\\002\\003\\004\\005\\006\\007\\008\\009\\010\\011\\012\\013\\014\\015\\"
     "016\\017\\018\\019\\020\\021\\022\\023\\024\\025\\026\\027\\028\\029\\030\\031\\127\""},
    {"(ALL:gsub(\"[^%d]\", \"\"))", "true \"0123456789\""},
    {"(ALL:gsub(\"[^%g]\", \"\"))",
     "true \"!\\\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\\\]^_`abcdefghijkl"
     "mnopqrstuvwxyz{|}~\""},
    {"(ALL:gsub(\"[^%l]\", \"\"))", "true \"abcdefghijklmnopqrstuvwxyz\""},
    {"(ALL:gsub(\"[^%p]\", \"\"))", "true \"!\\\"#$%&'()*+,-./:;<=>?@[\\\\]^_`{|}~\""},
    {"(ALL:gsub(\"[^%s]\", \"\"))", "true \"\\009\\010\\011\\012\\013 \""},
    {"(ALL:gsub(\"[^%u]\", \"\"))", "true \"ABCDEFGHIJKLMNOPQRSTUVWXYZ\""},
    {"(ALL:gsub(\"[^%w]\", \"\"))",
     "true \"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\""},
    {"(ALL:gsub(\"[^%x]\", \"\"))", "true \"0123456789ABCDEFabcdef\""},
    {"(ALL:gsub(\"%A\", \"\"))", "true \"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\""},
    {"(ALL:gsub(\"%C\", \"\"))",
     "true \"\\000\\001\\002\\003\\004\\005\\006\\007\\008\\009\\010\\011\\012\\013\\014\\015\\"
     "016\\017\\018\\019\\020\\021\\022\\023\\024\\025\\026\\027\\028\\029\\030\\031\\127\""},
    {"(ALL:gsub(\"%D\", \"\"))", "true \"0123456789\""},
    {"(ALL:gsub(\"%L\", \"\"))", "true \"abcdefghijklmnopqrstuvwxyz\""},
    {"(ALL:gsub(\"%P\", \"\"))", "true \"!\\\"#$%&'()*+,-./:;<=>?@[\\\\]^_`{|}~\""},
    {"(ALL:gsub(\"%S\", \"\"))", "true \"\\009\\010\\011\\012\\013 \""},
    {"(ALL:gsub(\"%U\", \"\"))", "true \"ABCDEFGHIJKLMNOPQRSTUVWXYZ\""},
    {"(ALL:gsub(\"%W\", \"\"))",
     "true \"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\""},
    {"(ALL:gsub(\"%X\", \"\"))", "true \"0123456789ABCDEFabcdef\""},
    {"select(2, ALL:gsub(\"%a\", \"\"))", "true 52"},
    {"select(2, ALL:gsub(\"%A\", \"\"))", "true 204"},
    {"select(2, ALL:gsub(\"%C\", \"\"))", "true 223"},
    {"select(2, ALL:gsub(\"%G\", \"\"))", "true 162"},
    {"select(2, ALL:gsub(\"%P\", \"\"))", "true 224"},
    {"select(2, ALL:gsub(\"%S\", \"\"))", "true 250"},
    {"select(2, ALL:gsub(\"%W\", \"\"))", "true 194"},
    {"select(2, ALL:gsub(\"[%W%d]\", \"\"))", "true 204"},
    {"select(2, ALL:gsub(\"[^%W%d]\", \"\"))", "true 52"},
    {"select(2, ALL:gsub(\".\", \"\"))", "true 256"},
    {"select(2, ALL:gsub(\"[\\128-\\255]\", \"\"))", "true 128"},
    {"select(2, ALL:gsub(\"[^\\1-\\127]\", \"\"))", "true 129"},
    {"(ALL:gsub(\"[^%d%u]\", \"\"))", "true \"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ\""},
    {"(ALL:gsub(\"[^a-fA-F0-9]\", \"\"))", "true \"0123456789ABCDEFabcdef\""},
    {"(ALL:gsub(\"[^%%%]%-]\", \"\"))", "true \"%-]\""},
    {"(ALL:gsub(\"[^\\0-\\31]\", \"\"))",
     "true \"\\000\\001\\002\\003\\004\\005\\006\\007\\008\\009\\010\\011\\012\\013\\014\\015\\"
     "016\\017\\018\\019\\020\\021\\022\\023\\024\\025\\026\\027\\028\\029\\030\\031\""},
    {"ALL:find(\"%Z\")", "true 2 2"},
    {"ALL:find(\"%z\")", "true 1 1"},
    {"ALL:find(\"%Q\")", "true 82 82"},
    {"ALL:find(\"%%\")", "true 38 38"},
    {"ALL:find(\"%]\")", "true 94 94"},
    {"ALL:find(\"%\\200\")", "true 201 201"},
    {"ALL:find(\"[%\\200]\")", "true 201 201"},
    {"(\"a\"):find(\"%\")", "false \"patterns.lua:259: malformed pattern (ends with '%')\""},
    {"(\"a\"):match(\"a%\")", "false \"patterns.lua:260: malformed pattern (ends with '%')\""},
    {"(\"a\"):match(\"[a\")", "false \"patterns.lua:261: malformed pattern (missing ']')\""},
    {"(\"a\"):match(\"[a%\")", "false \"patterns.lua:262: malformed pattern (missing ']')\""},
    {"(\"a\"):match(\"[a%]\")", "false \"patterns.lua:263: malformed pattern (missing ']')\""},
    {"(\"a\"):match(\"[^\")", "false \"patterns.lua:264: malformed pattern (missing ']')\""},
    {"(\"a\"):match(\"[\")", "false \"patterns.lua:265: malformed pattern (missing ']')\""},
    {"(\"a\"):match(\"[]\")", "false \"patterns.lua:266: malformed pattern (missing ']')\""},
    {"(\"a\"):match(\"[^]\")", "false \"patterns.lua:267: malformed pattern (missing ']')\""},
    {"(\"a\"):match(\"%f\")", "false \"patterns.lua:268: missing '[' after '%f' in pattern\""},
    {"(\"a\"):match(\"%fa\")", "false \"patterns.lua:269: missing '[' after '%f' in pattern\""},
    {"(\"a\"):match(\"%f[a\")", "false \"patterns.lua:270: malformed pattern (missing ']')\""},
    {"(\"a\"):match(\"%b\")",
     "false \"patterns.lua:271: malformed pattern (missing arguments to '%b')\""},
    {"(\"a\"):match(\"%ba\")",
     "false \"patterns.lua:272: malformed pattern (missing arguments to '%b')\""},
    {"(\"a\"):match(\"(a)%2\")", "false \"patterns.lua:273: invalid capture index %2\""},
    {"(\"a\"):match(\"%1\")", "false \"patterns.lua:274: invalid capture index %1\""},
    {"(\"a\"):match(\"%0\")", "false \"patterns.lua:275: invalid capture index %0\""},
    {"(\"a\"):match(\"(a%1)\")", "false \"patterns.lua:276: invalid capture index %1\""},
    {"(\"a\"):match(\"()%1\")", "true nil"},
    {"(\"a\"):match(\"a.)\")", "true nil"},
    {"(\"a\"):match(\")\")", "false \"patterns.lua:279: invalid pattern capture\""},
    {"(\"a\"):match(\"(a\")", "false \"patterns.lua:280: unfinished capture\""},
    {"(\"a\"):find(\"(a\")", "false \"patterns.lua:281: unfinished capture\""},
    {"(\"a\"):match(\"(()\")", "false \"patterns.lua:282: unfinished capture\""},
    {"(\"a\"):match((\"()\"):rep(32))",
     "true 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1"},
    {"(\"a\"):match((\"()\"):rep(33))", "false \"patterns.lua:284: too many captures\""},
    {"(\"a\"):find((\"(a)\"):rep(33))", "true nil"},
    {"(\"b\"):match((\"(a?)\"):rep(40) .. \"b\")", "false \"patterns.lua:286: too many captures\""},
    {"select(\"#\", (\"b\"):match((\"(a?)\"):rep(32) .. \"b\"))", "true 32"},
    {"(\"a\"):rep(199):find((\"a?\"):rep(199))", "true 1 199"},
    {"(\"a\"):rep(200):find((\"a?\"):rep(200))", "false \"patterns.lua:289: pattern too complex\""},
    {"(\"a\"):rep(198):match((\"(a)\"):rep(198 // 2))",
     "false \"patterns.lua:290: too many captures\""},
    {"(\"a\"):rep(200):find((\"a-\"):rep(200) .. \"$\")",
     "false \"patterns.lua:291: pattern too complex\""},
    {"(\"a\"):rep(300):find((\"a*\"):rep(300))", "true 1 300"},
    {"(\"b\"):rep(300):find((\"a*\"):rep(300) .. \"b\")", "true 1 1"},
    {"(\"y\"):find(\"x%\")", "true nil"},
    {"(\"y\"):match(\"x[\")", "true nil"},
    {"(\"y\"):match(\"x%f\")", "true nil"},
    {"(\"xy\"):match(\"x%\")", "false \"patterns.lua:297: malformed pattern (ends with '%')\""},
    {"(\"y\"):match(\"y?%\")", "false \"patterns.lua:298: malformed pattern (ends with '%')\""},
    {"(\"a\"):rep(1000):find(\"a*b\")", "true nil"},
    {"(\"a\"):rep(1000):find(\".-b\")", "true nil"},
    {"(\"hello world\"):gsub(\"o\", \"0\")", "true \"hell0 w0rld\" 2"},
    {"(\"hello world\"):gsub(\"o\", \"0\", 1)", "true \"hell0 world\" 1"},
    {"(\"hello world\"):gsub(\"o\", \"0\", 0)", "true \"hello world\" 0"},
    {"(\"hello world\"):gsub(\"o\", \"0\", -1)", "true \"hello world\" 0"},
    {"(\"hello world\"):gsub(\"o\", \"0\", 1.0)", "true \"hell0 world\" 1"},
    {"(\"hello world\"):gsub(\"o\", \"0\", 1.5)",
     "false \"patterns.lua:306: bad argument #3 to 'gsub' (number has no integer representation"
     ")\""},
    {"(\"hello world\"):gsub(\"(%w+)\", \"<%1>\")", "true \"<hello> <world>\" 2"},
    {"(\"hello world\"):gsub(\"%w+\", \"%0 %0\")", "true \"hello hello world world\" 2"},
    {"(\"hello world\"):gsub(\"(%w+) (%w+)\", \"%2 %1\")", "true \"world hello\" 1"},
    {"(\"abc\"):gsub(\"\", \"-\")", "true \"-a-b-c-\" 4"},
    {"(\"abc\"):gsub(\".-\", \"-\")", "true \"-a-b-c-\" 4"},
    {"(\"abc\"):gsub(\"x*\", \"-\")", "true \"-a-b-c-\" 4"},
    {"(\"abc\"):gsub(\"b*\", \"-\")", "true \"-a-c-\" 3"},
    {"(\"abc\"):gsub(\"b*\", \"-\", 2)", "true \"-a-c\" 2"},
    {"(\"\"):gsub(\"\", \"x\")", "true \"x\" 1"},
    {"(\"\"):gsub(\"x\", \"y\")", "true \"\" 0"},
    {"(\"abc\"):gsub(\"^\", \">\")", "true \">abc\" 1"},
    {"(\"abc\"):gsub(\"$\", \"<\")", "true \"abc<\" 1"},
    {"(\"abc\"):gsub(\"^a\", \"A\")", "true \"Abc\" 1"},
    {"(\"aaa\"):gsub(\"^a\", \"A\")", "true \"Aaa\" 1"},
    {"(\"aaa\"):gsub(\"a\", \"A\")", "true \"AAA\" 3"},
    {"(\"abc\"):gsub(\"^x\", \"A\")", "true \"abc\" 0"},
    {"(\"abc\"):gsub(\"^\", \"x\", 0)", "true \"abc\" 0"},
    {"(\"hello\"):gsub(\"l\", {l = \"L\"})", "true \"heLLo\" 2"},
    {"(\"hello\"):gsub(\"l\", {})", "true \"hello\" 2"},
    {"(\"hello\"):gsub(\".\", {h = 1, e = 2.5, o = false})", "true \"12.5llo\" 5"},
    {"(\"hello\"):gsub(\"(h)(e)\", {h = \"H\"})", "true \"Hllo\" 1"},
    {"(\"hello world\"):gsub(\"%w+\", function(w) return w:upper() end)", "true \"HELLO WORLD\" 2"},
    {"(\"hello world\"):gsub(\"%w+\", function(w) end)", "true \"hello world\" 2"},
    {"(\"hello world\"):gsub(\"(%w)(%w*)\", function(a, b) return a:upper() .. b end)",
     "true \"Hello World\" 2"},
    {"(\"hello world\"):gsub(\"%w+\", function(w) return false end)", "true \"hello world\" 2"},
    {"(\"abc\"):gsub(\"%w\", function(...) return select(\"#\", ...) end)", "true \"111\" 3"},
    {"(\"abc\"):gsub(\"()\", \"%1\")", "true \"1a2b3c4\" 4"},
    {"(\"abc\"):gsub(\"()\", function(p) return p end)", "true \"1a2b3c4\" 4"},
    {"(\"abc\"):gsub(\"()(b)()\", \"%3%2%1\")", "true \"a3b2c\" 1"},
    {"(\"abc\"):gsub(\"%w\", \"%%\")", "true \"%%%\" 3"},
    {"(\"abc\"):gsub(\"%w\", \"%%%0\")", "true \"%a%b%c\" 3"},
    {"(\"a.b.c\"):gsub(\"%.\", \"%%\")", "true \"a%b%c\" 2"},
    {"(\"abc\"):gsub(\"b\", 5)", "true \"a5c\" 1"},
    {"(\"abc\"):gsub(\"b\", 2.5)", "true \"a2.5c\" 1"},
    {"(\"abc\"):gsub(\"b\", 2^63)", "true \"a9.2233720368548e+18c\" 1"},
    {"(\"x\"):gsub(\"x\", \"a%0b%0c\")", "true \"axbxc\" 1"},
    {"(\"$name is $age\"):gsub(\"%$(%w+)\", {name = \"Ann\", age = 30})", "true \"Ann is 30\" 2"},
    {"(\"abc\"):gsub(\"%w\", \"%1%1\")", "true \"aabbcc\" 3"},
    {"string.gsub(\"abc abc\", \"%f[%w]%w+\", \"W\")", "true \"W W\" 2"},
    {"(\"one two\"):gsub(\"(%w+)\", \"%0=%1\")", "true \"one=one two=two\" 2"},
    {"(\"a,b,,c\"):gsub(\",\", \";\")", "true \"a;b;;c\" 3"},
    {"(\"hello\"):gsub(\"\", \"\")", "true \"hello\" 6"},
    {"(\"abc\"):gsub(\".\", {a = \"x\"}, 2)", "true \"xbc\" 2"},
    {"(\"ab\"):gsub(\"a(b?)\", \"[%1]\")", "true \"[b]\" 1"},
    {"(\"a\"):gsub(\"a(b?)\", \"[%1]\")", "true \"[]\" 1"},
    {"(\"\\0a\\0\"):gsub(\"\\0\", \"Z\")", "true \"ZaZ\" 2"},
    {"(\"abc\"):gsub(\"[^b]\", \"\")", "true \"b\" 2"},
    {"(\"  a  b  \"):gsub(\"^%s+\", \"\")", "true \"a  b  \" 1"},
    {"(\"  a  b  \"):gsub(\"%s+$\", \"\")", "true \"  a  b\" 1"},
    {"(\"  a  b  \"):gsub(\"%s+\", \" \")", "true \" a b \" 3"},
    {"string.gsub(123, 2, 9)", "true \"193\" 1"},
    {"string.gsub(\"abc\", \"b\", \"x\", \"y\")",
     "false \"patterns.lua:358: bad argument #4 to 'gsub' (number expected, got string)\""},
    {"(\"a\"):gsub(\"a\", \"%2\")", "false \"patterns.lua:359: invalid capture index %2\""},
    {"(\"a\"):gsub(\"(a)\", \"%2\")", "false \"patterns.lua:360: invalid capture index %2\""},
    {"(\"a\"):gsub(\"a\", \"%x\")",
     "false \"patterns.lua:361: invalid use of '%' in replacement string\""},
    {"(\"a\"):gsub(\"a\", \"%\")",
     "false \"patterns.lua:362: invalid use of '%' in replacement string\""},
    {"(\"a\"):gsub(\"a\", \"x%\")",
     "false \"patterns.lua:363: invalid use of '%' in replacement string\""},
    {"(\"a\"):gsub(\"a\", \"%\\0\")",
     "false \"patterns.lua:364: invalid use of '%' in replacement string\""},
    {"(\"a\"):gsub(\"a\", {a = true})",
     "false \"patterns.lua:365: invalid replacement value (a boolean)\""},
    {"(\"a\"):gsub(\"a\", {a = {}})",
     "false \"patterns.lua:366: invalid replacement value (a table)\""},
    {"(\"a\"):gsub(\"a\", function() return {} end)",
     "false \"patterns.lua:367: invalid replacement value (a table)\""},
    {"(\"a\"):gsub(\"a\")",
     "false \"patterns.lua:368: bad argument #2 to 'gsub' (string/function/table expected, got "
     "no value)\""},
    {"(\"a\"):gsub(\"a\", true)",
     "false \"patterns.lua:369: bad argument #2 to 'gsub' (string/function/table expected, got "
     "boolean)\""},
    {"(\"a\"):gsub(\"(a\", \"%1\")", "false \"patterns.lua:370: unfinished capture\""},
    {"(\"a\"):gsub(\"(a\", \"x\")", "true \"x\" 1"},
    {"(\"a\"):gsub(\"(a\", function(c) return c end)",
     "false \"patterns.lua:372: unfinished capture\""},
    {"(\"abc\"):gsub(\"%\", \"x\")",
     "false \"patterns.lua:373: malformed pattern (ends with '%')\""},
    {"(\"abc\"):gsub(\"x%\", \"y\")", "true \"abc\" 0"},
    {"(\"abc\"):gsub(\"(a)\", \"%0%1%9\")", "false \"patterns.lua:375: invalid capture index %9\""},
    {"(\"THE (quick) fox\"):gsub(\"%f[%a]%a+\", \"W\")", "true \"W (W) W\" 3"},
    {"(\"THE (quick) fox\"):gsub(\"%f[%a]\", \"|\")", "true \"|THE (|quick) |fox\" 3"},
    {"(\"THE (quick) fox\"):gsub(\"%f[%A]\", \"|\")", "true \"THE| (quick|) fox|\" 3"},
    {"(\"hello world\"):gsub(\"l+\", function(s) return #s end)", "true \"he2o wor1d\" 2"},
    {"(\"x^2 + y^2\"):gsub(\"%^\", \"**\")", "true \"x**2 + y**2\" 2"},
    {"(\"path/to/file.txt\"):gsub(\"[/.]\", {[\"/\"] = \"\\\\\", [\".\"] = \"_\"})",
     "true \"path\\\\to\\\\file_txt\" 3"},
    {"collect((\"hello world from lua\"):gmatch(\"%a+\"))",
     "true \"\\\"hello\\\"; \\\"world\\\"; \\\"from\\\"; \\\"lua\\\"\""},
    {"collect((\"k1=v1, k2=v2\"):gmatch(\"(%w+)=(%w+)\"))",
     "true \"\\\"k1\\\" \\\"v1\\\"; \\\"k2\\\" \\\"v2\\\"\""},
    {"collect((\"abc\"):gmatch(\"\"))", "true \"\\\"\\\"; \\\"\\\"; \\\"\\\"; \\\"\\\"\""},
    {"collect((\"abc\"):gmatch(\".-\"))", "true \"\\\"\\\"; \\\"\\\"; \\\"\\\"; \\\"\\\"\""},
    {"collect((\"abc\"):gmatch(\"x*\"))", "true \"\\\"\\\"; \\\"\\\"; \\\"\\\"; \\\"\\\"\""},
    {"collect((\"abc\"):gmatch(\"b*\"))", "true \"\\\"\\\"; \\\"b\\\"; \\\"\\\"\""},
    {"collect((\"a,b,,c\"):gmatch(\"([^,]*)\"))",
     "true \"\\\"a\\\"; \\\"b\\\"; \\\"\\\"; \\\"c\\\"\""},
    {"collect((\"abc\"):gmatch(\"()\"))", "true \"1; 2; 3; 4\""},
    {"collect((\"abc\"):gmatch(\"()(.)()\"))",
     "true \"1 \\\"a\\\" 2; 2 \\\"b\\\" 3; 3 \\\"c\\\" 4\""},
    {"collect((\"^a^b\"):gmatch(\"^.\"))", "true \"\\\"^a\\\"; \\\"^b\\\"\""},
    {"collect((\"a^b\"):gmatch(\"^b\"))", "true \"\\\"^b\\\"\""},
    {"collect((\"hello world\"):gmatch(\"%a+\", 3))", "true \"\\\"llo\\\"; \\\"world\\\"\""},
    {"collect((\"hello world\"):gmatch(\"%a+\", -5))", "true \"\\\"world\\\"\""},
    {"collect((\"hello\"):gmatch(\".\", 10))", "true \"\""},
    {"collect((\"hello\"):gmatch(\"\", 6))", "true \"\\\"\\\"\""},
    {"collect((\"hello\"):gmatch(\"\", 7))", "true \"\""},
    {"collect((\"hello\"):gmatch(\".\", 0))",
     "true \"\\\"h\\\"; \\\"e\\\"; \\\"l\\\"; \\\"l\\\"; \\\"o\\\"\""},
    {"collect((\"hello\"):gmatch(\".\", -100))",
     "true \"\\\"h\\\"; \\\"e\\\"; \\\"l\\\"; \\\"l\\\"; \\\"o\\\"\""},
    {"collect((\"hello\"):gmatch(\"l*$\"))", "true \"\\\"\\\"\""},
    {"collect((\"abc\"):gmatch(\"%\"))",
     "false \"patterns.lua:27: malformed pattern (ends with '%')\""},
    {"collect((\"abc\"):gmatch(\"(a\"))", "false \"patterns.lua:27: unfinished capture\""},
    {"collect((\"abc\"):gmatch(\"[a\"))",
     "false \"patterns.lua:27: malformed pattern (missing ']')\""},
    {"collect(string.gmatch(\"a1b2\", \"%a(%d)\"))", "true \"\\\"1\\\"; \\\"2\\\"\""},
    {"collect((\"one two\"):gmatch(\"%f[%w]%w+\"))", "true \"\\\"one\\\"; \\\"two\\\"\""},
    {"collect((\"(a)(b(c))\"):gmatch(\"%b()\"))", "true \"\\\"(a)\\\"; \\\"(b(c))\\\"\""},
    {"collect((\"aXbXc\"):gmatch(\"[^X]+\"))", "true \"\\\"a\\\"; \\\"b\\\"; \\\"c\\\"\""},
    {"collect(string.gmatch(12345, 3))", "true \"\\\"3\\\"\""},
    {"type(string.gmatch(\"\", \"\"))", "true \"function\""},
    {"string.gmatch()",
     "false \"patterns.lua:410: bad argument #1 to 'gmatch' (string expected, got no value)\""},
    {"string.gmatch(\"abc\", \"b\", \"x\")",
     "false \"patterns.lua:411: bad argument #3 to 'gmatch' (number expected, got string)\""},
    {"#((\"x\"):rep(100000):gsub(\"x\", \"yy\"))", "true 200000"},
    {"select(2, (\"x\"):rep(100000):gsub(\"x\", \"yy\"))", "true 100000"},
    {"#((\"ab\"):rep(50000):gsub(\"%w+\", \"%0\"))", "true 100000"},
    {"(\"ab\"):rep(20000):find(\"ba\", 1, true)", "true 2 3"},
    {"(\"ab\"):rep(20000):find(\"abx\", 1, true)", "true nil"},
    {"(\"ab\"):rep(20000):find(\"b$\")", "true 40000 40000"},
};

#define CASE_COUNT (sizeof cases / sizeof cases[0])

/* patterns.lua: the prelude, one line per case, and run(i). */
static char *cases_source(void)
{
    size_t cap = sizeof prelude + 256;
    for (size_t i = 0; i < CASE_COUNT; i++)
        cap += strlen(cases[i].expr) + 64;
    char *src = malloc(cap);
    if (!src)
        return NULL;
    size_t len = (size_t)snprintf(src, cap, "%s", prelude);
    for (size_t i = 0; i < CASE_COUNT; i++)
        len += (size_t)snprintf(src + len, cap - len, "cases[%zu] = function() return %s end\n",
                                i + 1, cases[i].expr);
    snprintf(src + len, cap - len,
             "return { run = function(i) return show(pcall(cases[i])) end }\n");
    return src;
}

TEST(results_match_stock_lua)
{
    souk_script_limits lim = {TEST_INSTRUCTIONS, TEST_MEMORY};
    souk_sandbox *sb = souk_sandbox_new("patterns.lua", &lim, NULL, err, sizeof err);
    CHECK(sb != NULL);
    if (!sb)
        return;
    lua_State *L = souk_sandbox_lua(sb);
    char *src = cases_source();
    CHECK(src != NULL);
    int loaded =
        src &&
        souk_sandbox_load_buffer(sb, "patterns.lua", src, strlen(src), err, sizeof err) == 0 &&
        souk_sandbox_run(sb, 0, 1, err, sizeof err) == 0;
    free(src);
    if (!loaded) {
        fprintf(stderr, "patterns.lua: %s\n", err);
        CHECK(loaded);
        souk_sandbox_free(sb);
        return;
    }
    int module = lua_gettop(L);
    for (size_t i = 0; i < CASE_COUNT; i++) {
        lua_getfield(L, module, "run");
        lua_pushinteger(L, (lua_Integer)i + 1);
        if (souk_sandbox_run(sb, 1, 1, err, sizeof err) != 0) {
            fprintf(stderr, "case %zu %s: %s\n", i + 1, cases[i].expr, err);
            test_failed_checks++;
            continue;
        }
        const char *got = lua_tostring(L, -1);
        if (!got || strcmp(got, cases[i].want) != 0) {
            fprintf(stderr, "case %zu %s:\n  got  %s\n  want %s\n", i + 1, cases[i].expr,
                    got ? got : "(not a string)", cases[i].want);
            test_failed_checks++;
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    CHECK_INT(lua_gettop(L), 0);
    souk_sandbox_free(sb);
}

/* ---------------------------------------------------------- through the store */

static char root[64];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

/* A store directory holding one script NAME.lua = text, opened with lim. */
static souk_scripts *open_script(const char *name, const char *text, int64_t instructions)
{
    char dir[128], path[192];
    snprintf(dir, sizeof dir, "%s/%s", root, name);
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/%s.lua", dir, name);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f)
        return NULL;
    fputs(text, f);
    fclose(f);
    souk_script_limits lim = {instructions, TEST_MEMORY};
    souk_scripts *s = NULL;
    if (souk_scripts_open(&s, dir, &lim, err, sizeof err) != 0) {
        fprintf(stderr, "open %s: %s\n", name, err);
        return NULL;
    }
    return s;
}

/* script.fn() as compact JSON (static), or NULL with err. */
static const char *call(souk_scripts *s, const char *script, const char *fn)
{
    static char out[1024];
    json_t *r = NULL;
    if (souk_scripts_call(s, script, fn, NULL, &r, err, sizeof err) != 0)
        return NULL;
    char *text = json_dumps(r, JSON_COMPACT | JSON_ENCODE_ANY);
    snprintf(out, sizeof out, "%s", text ? text : "?");
    free(text);
    json_decref(r);
    return out;
}

/* script.fn() in a child process that the alarm stops if the call never returns:
 * it must fail with exactly the message want. */
static void call_fails(souk_scripts *s, const char *script, const char *fn, const char *want,
                       int line)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(BOMB_ALARM_SECONDS);
        const char *r = call(s, script, fn);
        int good = !r && strcmp(err, want) == 0;
        if (!good)
            fprintf(stderr, "%s:%d: %s() gave %s \"%s\"\n", __FILE__, line, fn, r ? r : "the error",
                    r ? "" : err);
        _exit(good ? 0 : 1);
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "%s:%d: %s() %s\n", __FILE__, line, fn,
                WIFSIGNALED(status) ? "never returned (a match the budget does not see)"
                                    : "did not fail with the budget error");
        test_failed_checks++;
    }
}

TEST(bombs_end_with_the_budget_error)
{
    /* Each of these holds stock Lua for minutes (a quadratic scan of 200 KB) to
     * years (the exponential one) without executing one VM instruction.  The line
     * of the error is the line of the call, and pcall cannot catch it. */
    souk_scripts *s = open_script(
        "bombs",
        "local M = {}\n"
        "local big = ('a'):rep(200 * 1024)\n"
        "function M.exponential() return ('a'):rep(30):find(('a*'):rep(20) .. 'b') end\n"
        "function M.quadratic() return big:find('a*b') end\n"
        "function M.lazy() return string.match(big, '.-b') end\n"
        "function M.gmatch() for _ in big:gmatch('a*b') do end end\n"
        "function M.gsub() return big:gsub('a*b', '') end\n"
        "function M.set() return big:find('[' .. ('b'):rep(100 * 1024) .. ']') end\n"
        "function M.balance() return ('('):rep(200 * 1024):find('%b()') end\n"
        "function M.backref() return big:find('(a*)%1b') end\n"
        "function M.template() return big:gsub('', ('%0'):rep(100 * 1024)) end\n"
        "function M.caught()\n"
        "  return pcall(function() return big:find('a*b') end)\n"
        "end\n"
        "return M\n",
        TEST_INSTRUCTIONS);
    CHECK(s != NULL);
    if (!s)
        return;
    static const struct {
        const char *fn;
        int line;
    } bombs[] = {{"exponential", 3}, {"quadratic", 4}, {"lazy", 5},    {"gmatch", 6},
                 {"gsub", 7},        {"set", 8},       {"balance", 9}, {"backref", 10},
                 {"template", 11},   {"caught", 13}};
    for (size_t i = 0; i < sizeof bombs / sizeof bombs[0]; i++) {
        char want[128];
        snprintf(want, sizeof want, "bombs.lua:%d: instruction budget exceeded (%d instructions)",
                 bombs[i].line, TEST_INSTRUCTIONS);
        call_fails(s, "bombs", bombs[i].fn, want, __LINE__);
    }
    souk_scripts_close(s);
}

TEST(steps_are_charged_to_the_budget)
{
    /* scan() takes about two million matcher steps and long_needle() passes over
     * 300 KB: well within a default budget, over a small one.  Each library call
     * is one VM instruction; only the charge can stop it. */
    static const char text[] =
        "local M = {}\n"
        "local s = ('a'):rep(2000)\n"
        "function M.scan() return s:find('a*b') == nil end\n"
        "function M.plain() return s:find('b', 1, true) == nil end\n"
        "local big = ('a'):rep(200 * 1024)\n"
        "function M.long_needle() return big:find(('a'):rep(100 * 1024) .. 'b', 1, true) end\n"
        "return M\n";
    souk_scripts *roomy = open_script("roomy", text, TEST_INSTRUCTIONS);
    souk_scripts *tight = open_script("tight", text, 100000);
    CHECK(roomy != NULL && tight != NULL);
    if (roomy) {
        CHECK_STR(call(roomy, "roomy", "scan"), "true");
        /* A plain search is linear whatever the needle. */
        CHECK_STR(call(roomy, "roomy", "long_needle"), "null");
        souk_scripts_close(roomy);
    }
    if (tight) {
        CHECK(call(tight, "tight", "scan") == NULL);
        CHECK_STR(err, "tight.lua:3: instruction budget exceeded (100000 instructions)");
        /* The state serves the next call with a fresh budget. */
        CHECK_STR(call(tight, "tight", "plain"), "true");
        CHECK(call(tight, "tight", "long_needle") == NULL);
        CHECK_STR(err, "tight.lua:6: instruction budget exceeded (100000 instructions)");
        souk_scripts_close(tight);
    }
}

TEST(methods_reach_the_counting_functions)
{
    /* s:find() goes through the string metatable to the frozen string table: the
     * same functions as string.find, and the metatable stays hidden. */
    souk_scripts *s = open_script("methods",
                                  "local M = {}\n"
                                  "function M.same()\n"
                                  "  local s = ''\n"
                                  "  return rawequal(s.find, string.find) and\n"
                                  "         rawequal(s.match, string.match) and\n"
                                  "         rawequal(s.gmatch, string.gmatch) and\n"
                                  "         rawequal(s.gsub, string.gsub) and\n"
                                  "         getmetatable(s) == false\n"
                                  "end\n"
                                  "function M.assign() string.find = nil end\n"
                                  "return M\n",
                                  TEST_INSTRUCTIONS);
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK_STR(call(s, "methods", "same"), "true");
    CHECK(call(s, "methods", "assign") == NULL);
    CHECK_STR(err, "methods.lua:10: attempt to modify read-only table 'string' (field 'find')");
    souk_scripts_close(s);
}

int main(void)
{
    snprintf(root, sizeof root, "/tmp/souk-pattern-XXXXXX");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(results_match_stock_lua);
    RUN(bombs_end_with_the_budget_error);
    RUN(steps_are_charged_to_the_budget);
    RUN(methods_reach_the_counting_functions);
    nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return test_report();
}
