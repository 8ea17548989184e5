/* script_test.h -- running a script's NAME_test.lua (internal to the script host).
 *
 * The test file runs in a fresh sandbox of its own (the live module is never
 * touched by a test), with:
 *   M                           the module, loaded from NAME.lua in that sandbox
 *   expect(cond [, msg])        fails the case unless cond is truthy
 *   expect_eq(actual, expected [, msg])
 *                               deep comparison; integers and floats differ (5 vs
 *                               5.0), tables are compared key by key; the message
 *                               names the first difference
 *   expect_error(fn [, text])   fn() must raise an error (containing text, a plain
 *                               substring); returns the message
 * It returns a table of named cases { ["member price"] = function() ... end }.
 * Cases run in name order, each with a fresh instruction budget; a case fails when
 * it raises an error. */
#ifndef SOUK_SCRIPT_TEST_H
#define SOUK_SCRIPT_TEST_H

#include "config.h"

/* One outcome.  test_case is NULL for a failure of the whole file (the module or
 * the test file does not load); error is NULL when the case passed. */
typedef void (*souk_script_report_fn)(void *ud, const char *script, const char *test_case,
                                      const char *error);

/* Run the cases of test_path against the module at script_path.  Returns the
 * number of failed cases (a test file that does not load counts as one), or -1
 * when the module itself does not load (reported once, with test_case NULL). */
int souk_script_run_tests(const char *script, const char *script_path, const char *test_path,
                          const souk_script_limits *limits, souk_script_report_fn report, void *ud);

#endif
