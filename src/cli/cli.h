/* The admin command line: `bulwark instance|user|profile|platform-key|
 * login|audit ...` talk to the HTTP API of a running daemon. */
#ifndef BW_CLI_H
#define BW_CLI_H

#include <stdbool.h>
#include <stdio.h>

/* True when `name` (argv[1]) is one of the API subcommands. */
bool bw_cli_handles(const char *name);

/* Runs one subcommand; argv[0] is its name. Returns the exit code:
 * 0 ok, 1 the API refused (4xx), 2 usage error, 3 unreachable or 5xx. */
int bw_cli_main(int argc, char **argv);

/* One line per subcommand, for `bulwark --help`. */
void bw_cli_usage(FILE *f);

/* `bulwark decrypt --key private.pem [--json] [FILE|-]`: offline, no API
 * call (argv[0] is "decrypt"). Exit codes as above; 1: does not decrypt. */
int bw_cli_decrypt(int argc, char **argv);

#endif
