/* `bulwark init --data DIR [--json]`: the data folder (0700), the root key
 * (0600), the database with its schema, and the first platform key, printed
 * once. An existing folder is never touched. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/cmd.h"
#include "core/ids.h"
#include "sec/rootkey.h"
#include "sec/token.h"
#include "store/store.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: bulwark init --data DIR [--json]\n"
	           "Creates DIR (mode 0700) with the root key, the database and the first\n"
	           "platform API key, which is printed once. Refuses an existing DIR.\n");
}

static int create_key(const char *db, char *key)
{
	struct bw_store *s = NULL;
	int version = 0;
	int rc = 1;
	if (bw_store_open(&s, db, BW_DURABILITY_FULL) != BW_OK)
		return 1;
	if (bw_store_migrate(s, &version) != BW_OK)
		goto out;
	struct bw_platform_key k = {0};
	uint8_t hash[32];
	bw_id_new(k.id, "pk_");
	snprintf(k.name, sizeof(k.name), "initial");
	k.created_at = bw_now_unix();
	bw_token_new(BW_TOKEN_PLATFORM, key);
	bw_token_hash(key, strlen(key), hash);
	if (bw_store_platform_key_insert(s, &k, hash) == BW_OK)
		rc = 0;
out:
	bw_store_close(s);
	return rc;
}

int bw_cmd_init(int argc, char **argv)
{
	const char *dir = NULL;
	int json = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--json")) {
			json = 1;
		} else if (!strcmp(argv[i], "--data") && i + 1 < argc) {
			dir = argv[++i];
		} else if (!strncmp(argv[i], "--data=", 7)) {
			dir = argv[i] + 7;
		} else {
			fprintf(stderr, "bulwark init: unknown argument %s\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (!dir || !*dir) {
		fprintf(stderr, "bulwark init: --data DIR is required\n");
		return 2;
	}
	if (mkdir(dir, 0700) != 0) {
		if (errno == EEXIST)
			fprintf(stderr, "bulwark init: %s already exists; refusing to touch it\n", dir);
		else
			fprintf(stderr, "bulwark init: cannot create %s: %s\n", dir, strerror(errno));
		return 1;
	}
	char path[4096], db[4096];
	snprintf(path, sizeof(path), "%s/root.key", dir);
	snprintf(db, sizeof(db), "%s/bulwark.db", dir);
	if (bw_rootkey_create(path) != BW_OK) {
		fprintf(stderr, "bulwark init: cannot write %s\n", path);
		return 1;
	}
	char key[BW_TOKEN_LEN];
	if (create_key(db, key) != 0) {
		fprintf(stderr, "bulwark init: cannot create the database %s\n", db);
		return 1;
	}
	chmod(db, 0600);
	if (json)
		printf("{\"platform_key\":\"%s\"}\n", key);
	else
		printf("Initialized %s\nPlatform API key (shown once, keep it safe):\n  %s\n", dir, key);
	fflush(stdout);
	sodium_memzero(key, sizeof(key));
	return 0;
}
