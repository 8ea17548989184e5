/* main.c -- the souk command line: dispatch to a subcommand. */
#include "cli.h"
#include "log.h"
#include "master.h"

#include <jansson.h>
#include <lua.h>
#include <signal.h>
#include <sodium.h>
#include <souk/souk.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

static const char USAGE[] =
    "usage: souk COMMAND [ARGS...]\n"
    "\n"
    "commands:\n"
    "  init DIR [--demo]              create a store (--demo: the demonstration store)\n"
    "  serve DIR [--listen A:P] [--workers N]\n"
    "                                 serve a store (master + worker processes)\n"
    "  check DIR                      validate config, plugins, scripts and templates\n"
    "  migrate DIR                    apply pending database migrations\n"
    "  plugins DIR                    list plugins, their routes and commands\n"
    "  script test DIR                run the store's script tests\n"
    "  template render FILE --data FILE.json [--partials DIR]\n"
    "                                 render a Mustache template (theme preview)\n"
    "  version                        print the version\n"
    "  help [DIR]                     this text (with DIR: the store's plugin commands)\n"
    "\n"
    "Plugins add commands of their own: souk NAME DIR [ARGS...].\n"
    "Every command answers --help.  Exit codes: 0 ok, 1 failure, 2 usage.\n";

static int cmd_version(void)
{
    printf("souk %s (plugin ABI %d.%d)\n", SOUK_VERSION, SOUK_ABI_VERSION, SOUK_ABI_MINOR);
    printf("libuv %s, SQLite %s, %s, libsodium %s, jansson %s\n", uv_version_string(),
           sqlite3_libversion(), LUA_RELEASE, sodium_version_string(), JANSSON_VERSION);
    return SOUK_EXIT_OK;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    souk_log_setup("cli", SOUK_LOG_WARN);
    if (argc < 2) {
        fputs(USAGE, stderr);
        return SOUK_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    int sub_argc = argc - 1;
    char **sub_argv = argv + 1;
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        fputs(USAGE, stdout);
        if (strcmp(cmd, "help") == 0 && argc == 3)
            return souk_cli_plugin_commands(argv[2]);
        return SOUK_EXIT_OK;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        if (souk_cli_wants_help(sub_argc, sub_argv)) {
            fputs("usage: souk version\n\nPrint the version of souk, of its plugin ABI and of "
                  "the libraries it runs on.\n", stdout);
            return SOUK_EXIT_OK;
        }
        return cmd_version();
    }
    if (strcmp(cmd, "init") == 0)
        return souk_cmd_init(sub_argc, sub_argv);
    if (strcmp(cmd, "serve") == 0)
        return souk_master_main(sub_argc, sub_argv);
    if (strcmp(cmd, "__worker") == 0)
        return souk_worker_main(sub_argc, sub_argv);
    if (strcmp(cmd, "check") == 0)
        return souk_cmd_check(sub_argc, sub_argv);
    if (strcmp(cmd, "migrate") == 0)
        return souk_cmd_migrate(sub_argc, sub_argv);
    if (strcmp(cmd, "plugins") == 0)
        return souk_cmd_plugins(sub_argc, sub_argv);
    if (strcmp(cmd, "script") == 0)
        return souk_cmd_script(sub_argc, sub_argv);
    if (strcmp(cmd, "template") == 0)
        return souk_cmd_template(sub_argc, sub_argv);
    return souk_cmd_plugin(sub_argc, sub_argv);
}
