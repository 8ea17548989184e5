/* cli_script.c -- `souk script test DIR`: run the merchant scripts' own tests.
 *
 * DIR is a store directory; its scripts are in DIR/scripts.  The limits are the
 * store's (souk.lua's scripts table) when DIR has a souk.lua, else the defaults.
 * Output: one line per case ("ok   pricing: member price" or "FAIL pricing: member
 * price: pricing_test.lua:14: expected 900, got 1000"), then "N passed, N failed".
 * Exit 0 when every case passed and every script loads, else 1; 2 on usage. */
#include "cli.h"

#include "config.h"
#include "script.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CLI_SCRIPT_ERR_MAX 1024

static const char usage[] =
    "usage: souk script test DIR\n"
    "\n"
    "Run the tests of the store's scripts: for every DIR/scripts/NAME.lua, check that\n"
    "it compiles and returns a table, then run the cases of NAME_test.lua (if any)\n"
    "with the store's instruction and memory limits.  Prints one line per case and\n"
    "a summary \"N passed, N failed\"; exits 1 if anything failed.\n"
    "See docs/scripting.md.\n";

int souk_cmd_script(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage, stdout);
            return SOUK_EXIT_OK;
        }
    }
    if (argc != 3 || strcmp(argv[1], "test") != 0) {
        fputs(usage, stderr);
        return SOUK_EXIT_USAGE;
    }
    const char *dir = argv[2];
    char err[CLI_SCRIPT_ERR_MAX];
    char file[PATH_MAX];
    snprintf(file, sizeof file, "%s/souk.lua", dir);
    souk_config cfg;
    souk_config_defaults(&cfg);
    if (access(file, F_OK) == 0) {
        if (souk_config_load(&cfg, dir, err, sizeof err) != 0) {
            fprintf(stderr, "souk script: %s\n", err);
            souk_config_free(&cfg);
            return SOUK_EXIT_FAIL;
        }
    } else if (access(dir, F_OK) != 0) {
        fprintf(stderr, "souk script: %s: no such store directory\n", dir);
        souk_config_free(&cfg);
        return SOUK_EXIT_FAIL;
    }
    char scripts[PATH_MAX];
    snprintf(scripts, sizeof scripts, "%s/scripts", cfg.store_dir ? cfg.store_dir : dir);
    int failed = souk_scripts_test(scripts, &cfg.script, stdout);
    souk_config_free(&cfg);
    return failed == 0 ? SOUK_EXIT_OK : SOUK_EXIT_FAIL;
}
