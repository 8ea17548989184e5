/* cli.h -- the souk command line: one function per subcommand, each taking the
 * arguments after the subcommand name (argv[0] is the subcommand) and returning the
 * exit code: 0 ok, 1 failure, 2 usage.  Every command answers --help. */
#ifndef SOUK_CLI_H
#define SOUK_CLI_H

#define SOUK_EXIT_OK 0
#define SOUK_EXIT_FAIL 1
#define SOUK_EXIT_USAGE 2

int souk_cmd_init(int argc, char **argv);
int souk_cmd_check(int argc, char **argv);
int souk_cmd_migrate(int argc, char **argv);
int souk_cmd_plugins(int argc, char **argv);
int souk_cmd_script(int argc, char **argv);   /* script test DIR */
int souk_cmd_template(int argc, char **argv); /* template render FILE --data F [--partials D] */
/* A plugin's command: souk NAME DIR ... (looked up after the built-ins). */
int souk_cmd_plugin(int argc, char **argv);

/* `souk help DIR`: list the commands the store's plugins provide. */
int souk_cli_plugin_commands(const char *dir);

/* Whether argv has -h or --help. */
int souk_cli_wants_help(int argc, char **argv);

#endif
