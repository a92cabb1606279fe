/* `bulwark platform-key create|list|revoke` (routes /v1/platform-keys). */
#include <stdio.h>

#include "cli/cli_int.h"

static const char *const page[] = {"limit", "limit", "next-token", "next_token", NULL};

static const struct bw_cli_col cols[] = {
    {"id", "ID", false},
    {"name", "NAME", false},
    {"created_at", "CREATED", false},
    {NULL, NULL, false},
};

static int create(struct bw_cli *c, const struct bw_cli_args *a)
{
	const char *name = bw_cli__need(a, "name");
	json_t *o = NULL;
	if (!name)
		return BW_CLI_USAGE;
	int rc = bw_cli__send(c, "POST", "/v1/platform-keys", json_pack("{s:s}", "name", name), &o);
	if (rc == BW_CLI_OK && !c->json) {
		printf("platform key %s (%s) created; the key, shown once, keep it safe:\n  %s\n",
		       json_string_value(json_object_get(o, "id")),
		       json_string_value(json_object_get(o, "name")),
		       json_string_value(json_object_get(o, "key")));
	}
	fflush(stdout);
	json_decref(o);
	return rc;
}

static int list(struct bw_cli *c, const struct bw_cli_args *a)
{
	char p[BW_CLI_PATH_MAX] = "/v1/platform-keys";
	json_t *o = NULL;
	if (bw_cli__query(a, page, p, sizeof(p)) != 0)
		return BW_CLI_USAGE;
	int rc = bw_cli__get(c, "GET", p, &o);
	return bw_cli__show_list(c, rc, o, cols);
}

static int revoke(struct bw_cli *c, const struct bw_cli_args *a)
{
	char p[BW_CLI_PATH_MAX];
	json_t *o = NULL;
	if (bw_cli__id("key id", a->pos[0]) ||
	    bw_cli__path(p, sizeof(p), "/v1/platform-keys/%s", a->pos[0]))
		return BW_CLI_USAGE;
	int rc = bw_cli__get(c, "DELETE", p, &o);
	return bw_cli__show_done(c, rc, o, "revoked platform key", a->pos[0]);
}

static const struct bw_cli_opt create_opts[] = {{"name", BW_OPT_VALUE}, {NULL, BW_OPT_FLAG}};
static const struct bw_cli_opt list_opts[] = {
    {"limit", BW_OPT_VALUE}, {"next-token", BW_OPT_VALUE}, {NULL, BW_OPT_FLAG}};

static const struct bw_cli_cmd cmds[] = {
    {"create", "--name NAME",
     "Creates a platform API key and prints it once (POST /v1/platform-keys).\n"
     "  --name NAME      what the key is for (1 to 200 characters)\n",
     create_opts, 0, BW_NEED_TOKEN, create},
    {"list", "[--limit N] [--next-token T]",
     "Lists the platform keys, never the keys themselves (GET /v1/platform-keys).\n"
     "  --limit N        at most N (1 to 1000, default 50)\n"
     "  --next-token T   the page after T\n",
     list_opts, 0, BW_NEED_TOKEN, list},
    {"revoke", "KEY_ID",
     "Revokes a platform key (DELETE /v1/platform-keys/{id}); the last active key\n"
     "cannot be revoked.\n",
     NULL, 1, BW_NEED_TOKEN, revoke},
    {NULL, NULL, NULL, NULL, 0, 0, NULL},
};

const struct bw_cli_resource bw_cli_platform_key_res = {
    "platform-key", "create, list and revoke platform API keys (platform key)", cmds, NULL};
