/* The bulwark command: serve, init, and the admin subcommands. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/cmd.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: bulwark <command> [options]\n\n"
	           "commands:\n"
	           "  init   --data DIR [--json]   create a data folder and the first platform key\n"
	           "  serve  --data DIR [...]      run the contact center (see `bulwark serve --help`)\n");
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
	fprintf(stderr, "bulwark: unknown command \"%s\"\n", cmd);
	usage(stderr);
	return 2;
}
