/* `bulwark profile ...` (routes /v1/instances/{iid}/security-profiles), with
 * a session token of a user who holds SecurityProfiles.View / .Edit. */
#include <stdio.h>

#include "cli/cli_int.h"

#define MAX_PERMS 64

static const char *const page[] = {"limit", "limit", "next-token", "next_token", NULL};

static const struct bw_cli_col cols[] = {
    {"id", "ID", false},
    {"name", "NAME", false},
    {"permissions", "PERMISSIONS", true},
    {"description", "DESCRIPTION", false},
    {NULL, NULL, false},
};

/* Adds --name, --description and --permission ...; -1 on error. */
static int fill(json_t *body, const struct bw_cli_args *a)
{
	const char *perms[MAX_PERMS + 1];
	const char *name = bw_cli__opt(a, "name"), *desc = bw_cli__opt(a, "description");
	int bad = 0;
	if (name)
		bad |= json_object_set_new(body, "name", json_string(name));
	if (desc)
		bad |= json_object_set_new(body, "description", json_string(desc));
	size_t n = bw_cli__list(a, "permission", perms, MAX_PERMS + 1);
	if (n > MAX_PERMS) {
		fprintf(stderr, "bulwark: at most %d --permission\n", MAX_PERMS);
		return -1;
	}
	if (n > 0) {
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++)
			bad |= json_array_append_new(arr, json_string(perms[i]));
		bad |= json_object_set_new(body, "permissions", arr);
	}
	if (bad)
		fprintf(stderr, "bulwark: the arguments must be valid UTF-8\n");
	return bad ? -1 : 0;
}

static int create(struct bw_cli *c, const struct bw_cli_args *a)
{
	char p[BW_CLI_PATH_MAX];
	json_t *o = NULL;
	if (!bw_cli__need(a, "name") || !bw_cli__need(a, "permission") ||
	    bw_cli__path(p, sizeof(p), "/v1/instances/%s/security-profiles", c->instance))
		return BW_CLI_USAGE;
	json_t *body = json_object();
	if (fill(body, a) != 0) {
		json_decref(body);
		return BW_CLI_USAGE;
	}
	int rc = bw_cli__send(c, "POST", p, body, &o);
	return bw_cli__show_object(c, rc, o);
}

static int update(struct bw_cli *c, const struct bw_cli_args *a)
{
	char p[BW_CLI_PATH_MAX];
	json_t *o = NULL;
	if (bw_cli__id("profile id", a->pos[0]) ||
	    bw_cli__path(p, sizeof(p), "/v1/instances/%s/security-profiles/%s", c->instance,
	                 a->pos[0]))
		return BW_CLI_USAGE;
	json_t *body = json_object();
	if (fill(body, a) != 0 || json_object_size(body) == 0) {
		if (json_object_size(body) == 0)
			fprintf(stderr, "bulwark: nothing to change: give --name, --description or "
			                "--permission\n");
		json_decref(body);
		return BW_CLI_USAGE;
	}
	int rc = bw_cli__send(c, "PATCH", p, body, &o);
	return bw_cli__show_object(c, rc, o);
}

static int list(struct bw_cli *c, const struct bw_cli_args *a)
{
	char p[BW_CLI_PATH_MAX];
	json_t *o = NULL;
	if (bw_cli__path(p, sizeof(p), "/v1/instances/%s/security-profiles", c->instance) ||
	    bw_cli__query(a, page, p, sizeof(p)))
		return BW_CLI_USAGE;
	int rc = bw_cli__get(c, "GET", p, &o);
	return bw_cli__show_list(c, rc, o, cols);
}

static int one(struct bw_cli *c, const char *pid, const char *method)
{
	char p[BW_CLI_PATH_MAX];
	json_t *o = NULL;
	if (bw_cli__id("profile id", pid) ||
	    bw_cli__path(p, sizeof(p), "/v1/instances/%s/security-profiles/%s", c->instance, pid))
		return BW_CLI_USAGE;
	int rc = bw_cli__get(c, method, p, &o);
	if (method[0] == 'D')
		return bw_cli__show_done(c, rc, o, "deleted security profile", pid);
	return bw_cli__show_object(c, rc, o);
}

static int get(struct bw_cli *c, const struct bw_cli_args *a)
{
	return one(c, a->pos[0], "GET");
}

static int del(struct bw_cli *c, const struct bw_cli_args *a)
{
	return one(c, a->pos[0], "DELETE");
}

static const struct bw_cli_opt edit_opts[] = {
    {"name", BW_OPT_VALUE},
    {"description", BW_OPT_VALUE},
    {"permission", BW_OPT_LIST},
    {NULL, BW_OPT_FLAG},
};
static const struct bw_cli_opt list_opts[] = {
    {"limit", BW_OPT_VALUE}, {"next-token", BW_OPT_VALUE}, {NULL, BW_OPT_FLAG}};

#define U (BW_NEED_TOKEN | BW_NEED_INSTANCE)
static const struct bw_cli_cmd cmds[] = {
    {"create", "--name NAME --permission P [--permission P ...] [--description D]",
     "Creates a security profile (POST .../security-profiles). Nobody can grant a\n"
     "permission they do not hold.\n"
     "  --name NAME        1 to 128 characters, unique in the instance\n"
     "  --permission P     a catalog permission such as Users.View (repeat for more)\n"
     "  --description D    what the profile is for\n",
     edit_opts, 0, U, create},
    {"list", "[--limit N] [--next-token T]",
     "Lists the instance's security profiles (GET .../security-profiles).\n"
     "  --limit N        at most N (1 to 1000, default 50)\n"
     "  --next-token T   the page after T\n",
     list_opts, 0, U, list},
    {"get", "PID", "Shows a security profile (GET .../security-profiles/{pid}).\n", NULL, 1, U,
     get},
    {"update", "PID [--name NAME] [--description D] [--permission P ...]",
     "Changes a security profile (PATCH .../security-profiles/{pid}); --permission\n"
     "gives the complete new list.\n",
     edit_opts, 1, U, update},
    {"delete", "PID",
     "Deletes a security profile (DELETE .../security-profiles/{pid}); refused while\n"
     "it is assigned to users.\n",
     NULL, 1, U, del},
    {NULL, NULL, NULL, NULL, 0, 0, NULL},
};

const struct bw_cli_resource bw_cli_profile_res = {
    "profile", "manage an instance's security profiles (session token and --instance)", cmds, NULL};
