/* `bulwark audit list|verify-api`: the platform trail with a platform key,
 * an instance's trail with a session token (and --instance). The offline
 * `bulwark audit verify --data DIR` lives in src/cmd/audit.c. */
#include <stdio.h>

#include "cli/cli_int.h"

static const char *const filters[] = {
    "action", "action", "result", "result", "principal",  "principal_id", "since", "since",
    "until",  "until",  "limit",  "limit",  "next-token", "next_token",   NULL,
};

static const struct bw_cli_col cols[] = {
    {"time", "TIME", false},           {"action", "ACTION", false},
    {"result", "RESULT", false},       {"status", "STATUS", false},
    {"principal.kind", "KIND", false}, {"principal.name", "PRINCIPAL", false},
    {"error_code", "ERROR", false},    {NULL, NULL, false},
};

/* The trail's path: /v1/audit-events or /v1/instances/{iid}/audit-events. */
static int trail(const struct bw_cli *c, const char *suffix, char *p, size_t cap)
{
	if (c->kind == BW_CLI_PLATFORM)
		return bw_cli__path(p, cap, "/v1/audit-events%s", suffix);
	if (!c->instance) {
		fprintf(stderr, "bulwark: a session token reads its instance's trail: set "
		                "BULWARK_INSTANCE or pass --instance\n");
		return -1;
	}
	return bw_cli__path(p, cap, "/v1/instances/%s/audit-events%s", c->instance, suffix);
}

static int list(struct bw_cli *c, const struct bw_cli_args *a)
{
	char p[BW_CLI_PATH_MAX];
	json_t *o = NULL;
	if (trail(c, "", p, sizeof(p)) || bw_cli__query(a, filters, p, sizeof(p)))
		return BW_CLI_USAGE;
	int rc = bw_cli__get(c, "GET", p, &o);
	return bw_cli__show_list(c, rc, o, cols);
}

static const char *str(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));
	return v ? v : "?";
}

/* Exit 1 when the trail is broken, as the offline `audit verify` does. */
static int verify(struct bw_cli *c, const struct bw_cli_args *a)
{
	char p[BW_CLI_PATH_MAX];
	json_t *o = NULL;
	(void)a;
	if (trail(c, "/verify", p, sizeof(p)))
		return BW_CLI_USAGE;
	int rc = bw_cli__get(c, "GET", p, &o);
	if (rc == BW_CLI_OK && !json_is_true(json_object_get(o, "ok"))) {
		json_t *b = json_object_get(o, "first_bad");
		fprintf(stderr,
		        "audit trail broken: chain %s, record %" JSON_INTEGER_FORMAT ": %s\n",
		        str(b, "chain"), json_integer_value(json_object_get(b, "seq")),
		        str(b, "reason"));
		rc = BW_CLI_REFUSED;
	} else if (rc == BW_CLI_OK && !c->json) {
		printf("audit trail intact: %" JSON_INTEGER_FORMAT " records checked\n",
		       json_integer_value(json_object_get(o, "checked")));
	}
	json_decref(o);
	return rc;
}

static const struct bw_cli_opt list_opts[] = {
    {"action", BW_OPT_VALUE},     {"result", BW_OPT_VALUE}, {"principal", BW_OPT_VALUE},
    {"since", BW_OPT_VALUE},      {"until", BW_OPT_VALUE},  {"limit", BW_OPT_VALUE},
    {"next-token", BW_OPT_VALUE}, {NULL, BW_OPT_FLAG},
};

static const struct bw_cli_cmd cmds[] = {
    {"list",
     "[--action A] [--result R] [--principal ID] [--since T] [--until T] [--limit N] "
     "[--next-token T]",
     "Lists audit events, newest first: the platform trail with a platform key\n"
     "(GET /v1/audit-events), the instance's trail with a session token and\n"
     "--instance (GET /v1/instances/{iid}/audit-events, needs Audit.View).\n"
     "  --action A       e.g. users.create, auth.login\n"
     "  --result R       allowed, denied or failed\n"
     "  --principal ID   events of one principal\n"
     "  --since T, --until T   RFC 3339 times\n"
     "  --limit N        at most N (1 to 1000, default 50)\n"
     "  --next-token T   the page after T\n",
     list_opts, 0, BW_NEED_TOKEN | BW_MAY_INSTANCE, list},
    {"verify-api", "",
     "Asks the server to check the trail's hash chain (GET .../audit-events/verify);\n"
     "exits 1 and names the first bad record when it is broken.\n",
     NULL, 0, BW_NEED_TOKEN | BW_MAY_INSTANCE, verify},
    {NULL, NULL, NULL, NULL, 0, 0, NULL},
};

const struct bw_cli_resource bw_cli_audit_res = {
    "audit", "read and verify the audit trail through the API", cmds,
    "  verify --data DIR [--json]\n"
    "      offline: checks the chains in DIR/bulwark.db with the root key, no server\n"};
