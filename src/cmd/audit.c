/* `bulwark audit verify --data DIR`: checks every audit chain offline and
 * names the first bad record. Exit 0 when intact, 1 when not, 2 on error. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "sec/audit.h"
#include "sec/rootkey.h"
#include "store/store.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: bulwark audit verify --data DIR [--json]\n"
	           "Checks the hash chains and MAC-protected heads of the audit trail.\n"
	           "The API side (list, filters) is `bulwark audit list` through the CLI.\n");
}

int bw_cmd_audit_verify(int argc, char **argv)
{
	const char *dir = NULL;
	bool json = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--data") && i + 1 < argc) {
			dir = argv[++i];
		} else if (!strcmp(argv[i], "--json")) {
			json = true;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (!dir) {
		fprintf(stderr, "bulwark audit verify: --data DIR is required\n");
		return 2;
	}
	char kp[4096], db[4096];
	snprintf(kp, sizeof(kp), "%s/root.key", dir);
	snprintf(db, sizeof(db), "%s/bulwark.db", dir);
	uint8_t *key = NULL;
	struct bw_store *s = NULL;
	json_t *report = NULL;
	int rc = 2;
	if (bw_rootkey_load(kp, &key) != BW_OK) {
		fprintf(stderr, "bulwark audit verify: cannot read %s\n", kp);
		goto out;
	}
	if (bw_store_open(&s, db, BW_DURABILITY_NORMAL) != BW_OK ||
	    bw_audit_verify(s, key, NULL, &report) != BW_OK) {
		fprintf(stderr, "bulwark audit verify: cannot read %s\n", db);
		goto out;
	}
	bool ok = json_is_true(json_object_get(report, "ok"));
	if (json) {
		char *t = json_dumps(report, JSON_COMPACT);
		printf("%s\n", t ? t : "{}");
		free(t);
	} else if (ok) {
		printf("audit trail intact: %lld records checked\n",
		       (long long)json_integer_value(json_object_get(report, "checked")));
	}
	if (!ok) {
		json_t *b = json_object_get(report, "first_bad");
		fprintf(stderr, "audit trail broken: chain %s, record %lld%s%s: %s\n",
		        json_string_value(json_object_get(b, "chain")),
		        (long long)json_integer_value(json_object_get(b, "seq")),
		        json_string_value(json_object_get(b, "id")) ? " id " : "",
		        json_string_value(json_object_get(b, "id")) ? json_string_value(json_object_get(b, "id")) : "",
		        json_string_value(json_object_get(b, "reason")));
	}
	rc = ok ? 0 : 1;
out:
	json_decref(report);
	bw_store_close(s);
	bw_rootkey_free(key);
	return rc;
}
