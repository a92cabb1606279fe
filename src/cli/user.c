/* `bulwark user ...` (routes /v1/instances/{iid}/users), with a session
 * token of a user who holds Users.View / Users.Edit. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli_int.h"

#define MAX_PROFILES 20

static const char *const page[] = {"limit", "limit", "next-token", "next_token", NULL};

static const struct bw_cli_col cols[] = {
    {"id", "ID", false},           {"username", "USERNAME", false},
    {"status", "STATUS", false},   {"disabled", "DISABLED", false},
    {"mfa_enabled", "MFA", false}, {"security_profile_ids", "PROFILES", false},
    {NULL, NULL, false},
};

/* Optional string fields: {option, body field}. */
static const char *const fields[] = {"first-name", "first_name", "last-name", "last_name",
                                     "email",      "email",      NULL};

/* Adds the fields, profiles and password the options give; -1 on error. */
static int fill(json_t *body, const struct bw_cli_args *a)
{
	const char *ids[MAX_PROFILES + 1];
	char pw[BW_CLI_SECRET_MAX + 1];
	int bad = 0;
	for (const char *const *f = fields; f[0]; f += 2) {
		const char *v = bw_cli__opt(a, f[0]);
		if (v)
			bad |= json_object_set_new(body, f[1], json_string(v));
	}
	size_t n = bw_cli__list(a, "profile", ids, MAX_PROFILES + 1);
	if (n > MAX_PROFILES) {
		fprintf(stderr, "bulwark: at most %d --profile\n", MAX_PROFILES);
		return -1;
	}
	if (n > 0 && bw_cli__flag(a, "no-profiles")) {
		fprintf(stderr, "bulwark: --profile and --no-profiles exclude each other\n");
		return -1;
	}
	if (n > 0 || bw_cli__flag(a, "no-profiles")) {
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++)
			bad |= json_array_append_new(arr, json_string(ids[i]));
		bad |= json_object_set_new(body, "security_profile_ids", arr);
	}
	if (bw_cli__flag(a, "password-stdin")) {
		if (bw_cli__password(a, "password-stdin", NULL, pw, sizeof(pw)) != 1)
			return -1;
		bad |= json_object_set_new(body, "password", json_string(pw));
		sodium_memzero(pw, sizeof(pw));
	}
	if (bad)
		fprintf(stderr, "bulwark: the arguments must be valid UTF-8\n");
	return bad ? -1 : 0;
}

static int create(struct bw_cli *c, const struct bw_cli_args *a)
{
	char p[BW_CLI_PATH_MAX];
	const char *name = bw_cli__need(a, "username");
	json_t *o = NULL;
	if (!name || bw_cli__path(p, sizeof(p), "/v1/instances/%s/users", c->instance))
		return BW_CLI_USAGE;
	json_t *body = json_pack("{s:s}", "username", name);
	if (!body || fill(body, a) != 0) {
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
	bool dis = bw_cli__flag(a, "disable"), en = bw_cli__flag(a, "enable");
	if (bw_cli__id("user id", a->pos[0]) ||
	    bw_cli__path(p, sizeof(p), "/v1/instances/%s/users/%s", c->instance, a->pos[0]))
		return BW_CLI_USAGE;
	if (dis && en) {
		fprintf(stderr, "bulwark: --disable and --enable exclude each other\n");
		return BW_CLI_USAGE;
	}
	json_t *body = json_object();
	if (fill(body, a) != 0) {
		json_decref(body);
		return BW_CLI_USAGE;
	}
	if (dis || en)
		json_object_set_new(body, "disabled", json_boolean(dis));
	if (json_object_size(body) == 0) {
		json_decref(body);
		fprintf(stderr, "bulwark: nothing to change (see `bulwark user update --help`)\n");
		return BW_CLI_USAGE;
	}
	int rc = bw_cli__send(c, "PATCH", p, body, &o);
	return bw_cli__show_object(c, rc, o);
}

static int list(struct bw_cli *c, const struct bw_cli_args *a)
{
	char p[BW_CLI_PATH_MAX];
	json_t *o = NULL;
	if (bw_cli__path(p, sizeof(p), "/v1/instances/%s/users", c->instance) ||
	    bw_cli__query(a, page, p, sizeof(p)))
		return BW_CLI_USAGE;
	int rc = bw_cli__get(c, "GET", p, &o);
	return bw_cli__show_list(c, rc, o, cols);
}

/* GET or DELETE of .../users/{uid}{suffix}. */
static int one(struct bw_cli *c, const char *uid, const char *method, const char *suffix,
               const char *done)
{
	char p[BW_CLI_PATH_MAX];
	json_t *o = NULL;
	if (bw_cli__id("user id", uid) ||
	    bw_cli__path(p, sizeof(p), "/v1/instances/%s/users/%s%s", c->instance, uid, suffix))
		return BW_CLI_USAGE;
	int rc = bw_cli__get(c, method, p, &o);
	return done ? bw_cli__show_done(c, rc, o, done, uid) : bw_cli__show_object(c, rc, o);
}

static int get(struct bw_cli *c, const struct bw_cli_args *a)
{
	return one(c, a->pos[0], "GET", "", NULL);
}

static int del(struct bw_cli *c, const struct bw_cli_args *a)
{
	return one(c, a->pos[0], "DELETE", "", "deleted user");
}

static int mfa_reset(struct bw_cli *c, const struct bw_cli_args *a)
{
	return one(c, a->pos[0], "DELETE", "/mfa", "reset the MFA of user");
}

static const struct bw_cli_opt create_opts[] = {
    {"username", BW_OPT_VALUE},  {"password-stdin", BW_OPT_FLAG}, {"first-name", BW_OPT_VALUE},
    {"last-name", BW_OPT_VALUE}, {"email", BW_OPT_VALUE},         {"profile", BW_OPT_LIST},
    {NULL, BW_OPT_FLAG},
};
static const struct bw_cli_opt update_opts[] = {
    {"disable", BW_OPT_FLAG},     {"enable", BW_OPT_FLAG},      {"password-stdin", BW_OPT_FLAG},
    {"first-name", BW_OPT_VALUE}, {"last-name", BW_OPT_VALUE},  {"email", BW_OPT_VALUE},
    {"profile", BW_OPT_LIST},     {"no-profiles", BW_OPT_FLAG}, {NULL, BW_OPT_FLAG},
};
static const struct bw_cli_opt list_opts[] = {
    {"limit", BW_OPT_VALUE}, {"next-token", BW_OPT_VALUE}, {NULL, BW_OPT_FLAG}};

#define U (BW_NEED_TOKEN | BW_NEED_INSTANCE)
static const struct bw_cli_cmd cmds[] = {
    {"create",
     "--username USER [--password-stdin] [--first-name F] [--last-name L] [--email E] "
     "[--profile ID ...]",
     "Creates a user (POST .../users).\n"
     "  --username USER    letters, digits and ._@+-\n"
     "  --password-stdin   read the password from the first line of standard input\n"
     "                     (without it the user has no password and cannot log in)\n"
     "  --first-name F, --last-name L, --email E\n"
     "  --profile ID       a security profile to assign (repeat for more; needs\n"
     "                     Users.EditPermission)\n",
     create_opts, 0, U, create},
    {"list", "[--limit N] [--next-token T]",
     "Lists the instance's users (GET .../users).\n"
     "  --limit N        at most N (1 to 1000, default 50)\n"
     "  --next-token T   the page after T\n",
     list_opts, 0, U, list},
    {"get", "UID", "Shows a user (GET .../users/{uid}).\n", NULL, 1, U, get},
    {"update",
     "UID [--disable|--enable] [--password-stdin] [--first-name F] [--last-name L] "
     "[--email E] [--profile ID ...|--no-profiles]",
     "Changes a user (PATCH .../users/{uid}): only what is given.\n"
     "  --disable, --enable   turn the account off (its sessions end) or on again\n"
     "  --password-stdin      a new password from standard input (sessions end)\n"
     "  --profile ID          the complete new list of profiles (repeat for more)\n"
     "  --no-profiles         remove every profile\n",
     update_opts, 1, U, update},
    {"delete", "UID", "Deletes a user (DELETE .../users/{uid}).\n", NULL, 1, U, del},
    {"mfa-reset", "UID",
     "Removes a user's TOTP device, so that they enroll again (DELETE .../users/{uid}/mfa).\n",
     NULL, 1, U, mfa_reset},
    {NULL, NULL, NULL, NULL, 0, 0, NULL},
};

const struct bw_cli_resource bw_cli_user_res = {
    "user", "manage an instance's users (session token and --instance)", cmds, NULL};
