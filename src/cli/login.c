/* `bulwark login` (POST /v1/instances/{iid}/auth/login): prints the session
 * token alone, so that `export BULWARK_TOKEN=$(bulwark login ...)` works. */
#include <sodium.h>
#include <stdio.h>

#include "cli/cli_int.h"

static int login(struct bw_cli *c, const struct bw_cli_args *a)
{
	char p[BW_CLI_PATH_MAX], pw[BW_CLI_SECRET_MAX + 1];
	const char *user = bw_cli__need(a, "username"), *totp = bw_cli__opt(a, "totp");
	json_t *o = NULL;
	if (!user || bw_cli__path(p, sizeof(p), "/v1/instances/%s/auth/login", c->instance))
		return BW_CLI_USAGE;
	int got = bw_cli__password(a, "password-stdin", "BULWARK_PASSWORD", pw, sizeof(pw));
	if (got == 0)
		fprintf(stderr,
		        "bulwark: give the password on standard input with --password-stdin, "
		        "or in BULWARK_PASSWORD\n");
	if (got != 1)
		return BW_CLI_USAGE;
	json_t *body = json_pack("{s:s, s:s}", "username", user, "password", pw);
	sodium_memzero(pw, sizeof(pw));
	if (body && totp)
		json_object_set_new(body, "totp_code", json_string(totp));
	int rc = bw_cli__send(c, "POST", p, body, &o);
	if (rc == BW_CLI_OK && !c->json)
		printf("%s\n", json_string_value(json_object_get(o, "token")));
	if (rc == BW_CLI_OK && json_is_true(json_object_get(o, "mfa_enrollment_required")))
		fprintf(stderr, "bulwark: this instance requires MFA: enroll a TOTP device before "
		                "anything else (POST .../users/{uid}/mfa/totp)\n");
	fflush(stdout);
	json_decref(o);
	return rc;
}

static const struct bw_cli_opt opts[] = {
    {"username", BW_OPT_VALUE},
    {"password-stdin", BW_OPT_FLAG},
    {"totp", BW_OPT_VALUE},
    {NULL, BW_OPT_FLAG},
};

static const struct bw_cli_cmd cmds[] = {
    {"", "--instance IID --username USER [--password-stdin] [--totp CODE]",
     "Logs in as an instance user and prints the session token, alone on a line:\n"
     "  export BULWARK_TOKEN=$(bulwark login --instance IID --username USER --password-stdin)\n"
     "  --username USER    the user's name\n"
     "  --password-stdin   read the password from the first line of standard input;\n"
     "                     else from $BULWARK_PASSWORD, else from the terminal\n"
     "  --totp CODE        the current 6-digit code when the user has MFA\n",
     opts, 0, BW_NEED_INSTANCE, login},
    {NULL, NULL, NULL, NULL, 0, 0, NULL},
};

const struct bw_cli_resource bw_cli_login_res = {
    "login", "log in as an instance user; prints a session token", cmds, NULL};
