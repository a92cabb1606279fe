/* `bulwark instance ...` (routes /v1/instances and .../security-settings). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli_int.h"

static const char *const page[] = {"limit", "limit", "next-token", "next_token", NULL};

static const struct bw_cli_col cols[] = {
    {"id", "ID", false},
    {"alias", "ALIAS", false},
    {"default_region", "REGION", false},
    {"created_at", "CREATED", false},
    {NULL, NULL, false},
};

static int create(struct bw_cli *c, const struct bw_cli_args *a)
{
	const char *alias = bw_cli__need(a, "alias");
	const char *user = alias ? bw_cli__need(a, "admin-username") : NULL;
	const char *region = bw_cli__opt(a, "default-region");
	char pw[BW_CLI_SECRET_MAX + 1];
	json_t *o = NULL;
	if (!user)
		return BW_CLI_USAGE;
	int got =
	    bw_cli__password(a, "admin-password-stdin", "BULWARK_ADMIN_PASSWORD", pw, sizeof(pw));
	if (got == 0)
		fprintf(stderr, "bulwark: give the admin password on standard input with "
		                "--admin-password-stdin, or in BULWARK_ADMIN_PASSWORD\n");
	if (got != 1)
		return BW_CLI_USAGE;
	json_t *body = json_pack("{s:s, s:{s:s, s:s}}", "alias", alias, "admin", "username", user,
	                         "password", pw);
	sodium_memzero(pw, sizeof(pw));
	if (body && region)
		json_object_set_new(body, "default_region", json_string(region));
	int rc = bw_cli__send(c, "POST", "/v1/instances", body, &o);
	return bw_cli__show_object(c, rc, o);
}

static int list(struct bw_cli *c, const struct bw_cli_args *a)
{
	char p[BW_CLI_PATH_MAX] = "/v1/instances";
	json_t *o = NULL;
	if (bw_cli__query(a, page, p, sizeof(p)) != 0)
		return BW_CLI_USAGE;
	int rc = bw_cli__get(c, "GET", p, &o);
	return bw_cli__show_list(c, rc, o, cols);
}

/* GET or DELETE of /v1/instances/{iid}{suffix}. */
static int one(struct bw_cli *c, const char *iid, const char *method, const char *suffix)
{
	char p[BW_CLI_PATH_MAX];
	json_t *o = NULL;
	if (bw_cli__id("instance id", iid) ||
	    bw_cli__path(p, sizeof(p), "/v1/instances/%s%s", iid, suffix))
		return BW_CLI_USAGE;
	int rc = bw_cli__get(c, method, p, &o);
	if (method[0] == 'D')
		return bw_cli__show_done(c, rc, o, "deleted instance", iid);
	return bw_cli__show_object(c, rc, o);
}

static int get(struct bw_cli *c, const struct bw_cli_args *a)
{
	return one(c, a->pos[0], "GET", "");
}

static int del(struct bw_cli *c, const struct bw_cli_args *a)
{
	return one(c, a->pos[0], "DELETE", "");
}

static int settings_get(struct bw_cli *c, const struct bw_cli_args *a)
{
	return one(c, a->pos[0], "GET", "/security-settings");
}

static int update(struct bw_cli *c, const struct bw_cli_args *a)
{
	char p[BW_CLI_PATH_MAX];
	json_t *o = NULL;
	const char *alias = bw_cli__opt(a, "alias"), *region = bw_cli__opt(a, "default-region");
	if (bw_cli__id("instance id", a->pos[0]) ||
	    bw_cli__path(p, sizeof(p), "/v1/instances/%s", a->pos[0]))
		return BW_CLI_USAGE;
	if (!alias && !region) {
		fprintf(stderr, "bulwark: nothing to change: give --alias or --default-region\n");
		return BW_CLI_USAGE;
	}
	json_t *body = json_object();
	if (alias)
		json_object_set_new(body, "alias", json_string(alias));
	if (region)
		json_object_set_new(body, "default_region", json_string(region));
	if (json_object_size(body) != (size_t)(!!alias + !!region)) {
		json_decref(body);
		body = NULL; /* a value was not UTF-8 */
	}
	int rc = bw_cli__send(c, "PATCH", p, body, &o);
	return bw_cli__show_object(c, rc, o);
}

/* --json-body TEXT, or "-" for standard input; must be a JSON object. */
static json_t *json_body(const struct bw_cli_args *a)
{
	const char *text = bw_cli__need(a, "json-body");
	char *in = NULL;
	if (!text)
		return NULL;
	if (text[0] == '-' && !text[1] && !(text = in = bw_cli__read_stdin(BW_CLI_MAX_BODY)))
		return NULL;
	json_error_t e;
	json_t *v = json_loads(text, JSON_REJECT_DUPLICATES, &e);
	free(in);
	if (!json_is_object(v)) {
		fprintf(stderr, "bulwark: --json-body must be a JSON object%s%s\n", v ? "" : ": ",
		        v ? "" : e.text);
		json_decref(v);
		return NULL;
	}
	return v;
}

static int settings_set(struct bw_cli *c, const struct bw_cli_args *a)
{
	char p[BW_CLI_PATH_MAX];
	json_t *o = NULL;
	if (bw_cli__id("instance id", a->pos[0]) ||
	    bw_cli__path(p, sizeof(p), "/v1/instances/%s/security-settings", a->pos[0]))
		return BW_CLI_USAGE;
	json_t *body = json_body(a);
	if (!body)
		return BW_CLI_USAGE;
	int rc = bw_cli__send(c, "PATCH", p, body, &o);
	return bw_cli__show_object(c, rc, o);
}

static const struct bw_cli_opt create_opts[] = {
    {"alias", BW_OPT_VALUE},
    {"admin-username", BW_OPT_VALUE},
    {"admin-password-stdin", BW_OPT_FLAG},
    {"default-region", BW_OPT_VALUE},
    {NULL, BW_OPT_FLAG},
};
static const struct bw_cli_opt list_opts[] = {
    {"limit", BW_OPT_VALUE}, {"next-token", BW_OPT_VALUE}, {NULL, BW_OPT_FLAG}};
static const struct bw_cli_opt update_opts[] = {
    {"alias", BW_OPT_VALUE}, {"default-region", BW_OPT_VALUE}, {NULL, BW_OPT_FLAG}};
static const struct bw_cli_opt set_opts[] = {{"json-body", BW_OPT_VALUE}, {NULL, BW_OPT_FLAG}};

#define P BW_NEED_TOKEN
static const struct bw_cli_cmd cmds[] = {
    {"create", "--alias ALIAS --admin-username USER [--admin-password-stdin] [--default-region XX]",
     "Creates an instance with its first admin user (POST /v1/instances).\n"
     "  --alias ALIAS            1 to 62 lower-case letters, digits or dashes\n"
     "  --admin-username USER    the first admin, who holds the Admin profile\n"
     "  --admin-password-stdin   read the admin's password from the first line of\n"
     "                           standard input; else from $BULWARK_ADMIN_PASSWORD,\n"
     "                           else from the terminal (never from the command line)\n"
     "  --default-region XX      ISO 3166 alpha-2 region for phone numbers (default US)\n",
     create_opts, 0, P, create},
    {"list", "[--limit N] [--next-token T]",
     "Lists the instances (GET /v1/instances).\n"
     "  --limit N        at most N (1 to 1000, default 50)\n"
     "  --next-token T   the page after T\n",
     list_opts, 0, P, list},
    {"get", "IID", "Shows an instance (GET /v1/instances/{iid}).\n", NULL, 1, P, get},
    {"update", "IID [--alias ALIAS] [--default-region XX]",
     "Changes an instance's alias or default region (PATCH /v1/instances/{iid}).\n", update_opts, 1,
     P, update},
    {"delete", "IID", "Deletes an instance (DELETE /v1/instances/{iid}).\n", NULL, 1, P, del},
    {"settings get", "IID", "Shows the instance's security settings (GET .../security-settings).\n",
     NULL, 1, P, settings_get},
    {"settings set", "IID --json-body '{...}'",
     "Changes security settings (PATCH .../security-settings): only the fields given.\n"
     "  --json-body JSON   a JSON object, e.g. '{\"mfa_required\":true}'; - reads it\n"
     "                     from standard input\n",
     set_opts, 1, P, settings_set},
    {NULL, NULL, NULL, NULL, 0, 0, NULL},
};

const struct bw_cli_resource bw_cli_instance_res = {
    "instance", "create, list, show, change and delete instances; their security settings", cmds,
    NULL};
