/* The bulwark command: serve, init, and the admin subcommands. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cmd/cmd.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: bulwark <command> [options]\n\n"
	           "commands:\n"
	           "  init   --data DIR [--json]   create a data folder and the first platform key\n"
	           "  serve  --data DIR [...]      run the contact center (see `bulwark serve --help`)\n"
	           "  routes [--json]              list the route table and each route's permission\n"
	           "  audit verify --data DIR      check the audit trail offline\n"
	           "  decrypt --key private.pem [FILE]  decrypt encrypted customer input offline\n"
	           "\nadmin commands, through the HTTP API ($BULWARK_URL, $BULWARK_TOKEN):\n");
	bw_cli_usage(f);
	fprintf(f, "\n`bulwark <command> --help` describes each. Exit codes of the admin commands:\n"
	           "0 done, 1 the API refused, 2 usage error, 3 server unreachable or failing.\n");
}

int main(int argc, char **argv, char **envp)
{
	umask(077);
	if (sodium_init() < 0) {
		fprintf(stderr, "bulwark: libsodium failed to start\n");
		return 1;
	}
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "init"))
		return bw_cmd_init(argc - 1, argv + 1);
	if (!strcmp(cmd, "serve"))
		return bw_cmd_serve(argc - 1, argv + 1, envp);
	if (!strcmp(cmd, "routes"))
		return bw_cmd_routes(argc - 1, argv + 1);
	/* `audit verify` is offline; `audit list|verify-api` go through the API. */
	if (!strcmp(cmd, "audit") && argc > 2 && !strcmp(argv[2], "verify"))
		return bw_cmd_audit_verify(argc - 2, argv + 2);
	if (!strcmp(cmd, "decrypt"))
		return bw_cli_decrypt(argc - 1, argv + 1);
	if (bw_cli_handles(cmd))
		return bw_cli_main(argc - 1, argv + 1);
	fprintf(stderr, "bulwark: unknown command \"%s\"\n", cmd);
	usage(stderr);
	return 2;
}
