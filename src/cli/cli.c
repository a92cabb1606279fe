/* The admin command line: finds the resource and verb, parses the options,
 * resolves the settings (flags over BULWARK_* variables), makes the call. */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_int.h"

static const struct bw_cli_resource *const resources[] = {
    &bw_cli_platform_key_res,
    &bw_cli_instance_res,
    &bw_cli_login_res,
    &bw_cli_user_res,
    &bw_cli_profile_res,
    &bw_cli_audit_res,
    &bw_cli_deny_list_res,      /* fraud */
    &bw_cli_contact_filter_res, /* fraud */
    &bw_cli_enckey_res,         /* encryption keys */
    &bw_cli_scan_res,           /* classification */
    &bw_cli_secret_res,         /* secrets */
    NULL,
};

static const char common_help[] =
    "\ncommon options:\n"
    "  --url URL        the API, e.g. http://127.0.0.1:8080 (default: $BULWARK_URL)\n"
    "  --token TOKEN    a platform key bwp_... or a session token bws_... (default:\n"
    "                   $BULWARK_TOKEN; prefer the variable: argv is visible to others)\n"
    "  --instance IID   the instance of instance-scoped commands ($BULWARK_INSTANCE)\n"
    "  --json           print the API's JSON response body as it came, on one line\n"
    "  --timeout S      give up after S seconds (default 30)\n"
    "  --help           this text\n"
    "\nexit codes: 0 done, 1 the API refused (4xx; its error code and message go to\n"
    "standard error), 2 usage error, 3 server unreachable or failing (5xx)\n";

static bool is_help(const char *s)
{
	return !strcmp(s, "--help") || !strcmp(s, "-h") || !strcmp(s, "help");
}

static const struct bw_cli_resource *find_resource(const char *name)
{
	for (size_t i = 0; resources[i]; i++)
		if (!strcmp(resources[i]->name, name))
			return resources[i];
	return NULL;
}

bool bw_cli_handles(const char *name)
{
	return find_resource(name) != NULL;
}

void bw_cli_usage(FILE *f)
{
	for (size_t i = 0; resources[i]; i++)
		fprintf(f, "  %-16s%s\n", resources[i]->name, resources[i]->summary);
}

static void resource_usage(const struct bw_cli_resource *r, FILE *f)
{
	fprintf(f, "usage: bulwark %s <command> [options]\n%s\n\ncommands:\n", r->name, r->summary);
	for (const struct bw_cli_cmd *c = r->cmds; c->verb; c++)
		fprintf(f, "  %s%s%s\n", c->verb, c->synopsis[0] ? " " : "", c->synopsis);
	if (r->note)
		fprintf(f, "%s", r->note);
	fprintf(f, "\n`bulwark %s <command> --help` describes one command.\n", r->name);
}

static void cmd_usage(const struct bw_cli_resource *r, const struct bw_cli_cmd *c, FILE *f)
{
	fprintf(f, "usage: bulwark %s%s%s%s%s\n\n%s", r->name, c->verb[0] ? " " : "", c->verb,
	        c->synopsis[0] ? " " : "", c->synopsis, c->help);
	fprintf(f, "%s", common_help);
}

/* Matches the verb's words ("settings get") against argv; returns how many
 * arguments it took, 0 when it does not match. */
static int match_verb(const char *verb, int argc, char **argv)
{
	int used = 0;
	while (*verb) {
		size_t n = strcspn(verb, " ");
		if (used >= argc || strlen(argv[used]) != n || strncmp(argv[used], verb, n))
			return 0;
		used++;
		verb += n;
		verb += *verb == ' ';
	}
	return used;
}

static const struct bw_cli_cmd *find_cmd(const struct bw_cli_resource *r, int argc, char **argv,
                                         int *used)
{
	if (!r->cmds[0].verb[0]) {
		*used = 0;
		return &r->cmds[0];
	}
	for (const struct bw_cli_cmd *c = r->cmds; c->verb; c++)
		if ((*used = match_verb(c->verb, argc, argv)) > 0)
			return c;
	return NULL;
}

/* True when w is the first word of a two-word verb ("settings"). */
static bool first_word(const struct bw_cli_resource *r, const char *w)
{
	size_t n = strlen(w);
	for (const struct bw_cli_cmd *c = r->cmds; c->verb; c++)
		if (!strncmp(c->verb, w, n) && c->verb[n] == ' ')
			return true;
	return false;
}

static int token_kind(struct bw_cli *c)
{
	size_t n = strlen(c->token);
	bool ok = n > 4 && n <= 128;
	for (size_t i = 0; ok && i < n; i++) {
		char ch = c->token[i];
		ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		     (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
	}
	if (ok && !strncmp(c->token, "bwp_", 4))
		c->kind = BW_CLI_PLATFORM;
	else if (ok && !strncmp(c->token, "bws_", 4))
		c->kind = BW_CLI_USER;
	else /* the value is not echoed */
		fprintf(stderr,
		        "bulwark: the token is neither a platform key (bwp_...) nor a session "
		        "token (bws_...)\n");
	return c->kind == BW_CLI_NONE ? -1 : 0;
}

static int set_url(struct bw_cli *c, const char *url)
{
	if (!url || !*url) {
		fprintf(stderr, "bulwark: no API address: set BULWARK_URL or pass --url\n");
		return -1;
	}
	size_t n = strlen(url);
	while (n > 0 && url[n - 1] == '/')
		n--;
	if ((strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) || n >= sizeof(c->url) ||
	    strpbrk(url, " \t\r\n?#")) {
		fprintf(stderr, "bulwark: the API address must be an http:// or https:// URL\n");
		return -1;
	}
	memcpy(c->url, url, n);
	c->url[n] = '\0';
	return 0;
}

static const char *setting(const struct bw_cli_args *a, const char *opt, const char *env)
{
	const char *v = bw_cli__opt(a, opt);
	return v ? v : getenv(env);
}

static int settings(struct bw_cli *c, const struct bw_cli_args *a, unsigned need)
{
	memset(c, 0, sizeof(*c));
	c->json = bw_cli__flag(a, "json");
	c->timeout_s = 30;
	const char *t = bw_cli__opt(a, "timeout");
	if (t) {
		char *end;
		c->timeout_s = strtol(t, &end, 10);
		if (!*t || *end || c->timeout_s < 1 || c->timeout_s > 3600) {
			fprintf(stderr, "bulwark: --timeout must be 1 to 3600 seconds\n");
			return -1;
		}
	}
	if (set_url(c, setting(a, "url", "BULWARK_URL")) != 0)
		return -1;
	if (need & BW_NEED_TOKEN) { /* else no credential is sent at all */
		c->token = setting(a, "token", "BULWARK_TOKEN");
		if (!c->token || !*c->token) {
			fprintf(stderr,
			        "bulwark: no credential: set BULWARK_TOKEN or pass --token\n");
			return -1;
		}
		if (token_kind(c) != 0)
			return -1;
	}
	if (!(need & (BW_NEED_INSTANCE | BW_MAY_INSTANCE)))
		return 0; /* the instance setting is not even looked at */
	c->instance = setting(a, "instance", "BULWARK_INSTANCE");
	if (c->instance && !*c->instance)
		c->instance = NULL;
	if ((need & BW_NEED_INSTANCE) && !c->instance) {
		fprintf(stderr, "bulwark: no instance: set BULWARK_INSTANCE or pass --instance\n");
		return -1;
	}
	return c->instance && bw_cli__id("instance id", c->instance) != 0 ? -1 : 0;
}

static int run(const struct bw_cli_resource *r, const struct bw_cli_cmd *cmd, int argc, char **argv)
{
	struct bw_cli_args a;
	struct bw_cli c;
	if (bw_cli__parse(cmd->opts, argc, argv, &a) != 0) {
		fprintf(stderr, "(see `bulwark %s%s%s --help`)\n", r->name, cmd->verb[0] ? " " : "",
		        cmd->verb);
		return BW_CLI_USAGE;
	}
	if (a.help) {
		cmd_usage(r, cmd, stdout);
		return BW_CLI_OK;
	}
	if (a.npos != cmd->npos) {
		fprintf(stderr, "bulwark: %s argument (see `bulwark %s%s%s --help`)\n",
		        a.npos < cmd->npos ? "a missing" : "an unexpected", r->name,
		        cmd->verb[0] ? " " : "", cmd->verb);
		return BW_CLI_USAGE;
	}
	if (settings(&c, &a, cmd->need) != 0)
		return BW_CLI_USAGE;
	bw_cli__secure_json();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "bulwark: cannot start libcurl\n");
		return BW_CLI_UNREACHABLE;
	}
	int rc = cmd->run(&c, &a);
	curl_global_cleanup();
	return rc;
}

int bw_cli_main(int argc, char **argv)
{
	const struct bw_cli_resource *r = find_resource(argv[0]);
	int used = 0;
	if (!r)
		return BW_CLI_USAGE;
	bool verbs = r->cmds[0].verb[0] != '\0';
	if (verbs && (argc < 2 || is_help(argv[1]))) {
		resource_usage(r, argc < 2 ? stderr : stdout);
		return argc < 2 ? BW_CLI_USAGE : BW_CLI_OK;
	}
	const struct bw_cli_cmd *cmd = find_cmd(r, argc - 1, argv + 1, &used);
	if (!cmd) {
		bool help = argc > 2 && is_help(argv[2]) && first_word(r, argv[1]);
		if (!help)
			fprintf(stderr, "bulwark %s: unknown command \"%.64s\"\n", r->name,
			        argv[1]);
		resource_usage(r, help ? stdout : stderr);
		return help ? BW_CLI_OK : BW_CLI_USAGE;
	}
	return run(r, cmd, argc - 1 - used, argv + 1 + used);
}

/* ---- one API call ---- */

static int answer(struct bw_cli *c, struct bw_cli_resp *r, json_t **out)
{
	if (r->status >= 200 && r->status < 300) {
		size_t n = r->len;
		while (n > 0 && (r->body[n - 1] == '\n' || r->body[n - 1] == '\r'))
			n--;
		json_t *v = n ? json_loadb(r->body, n, JSON_DECODE_ANY, NULL) : NULL;
		if (n && !v) {
			fprintf(stderr, "bulwark: the server's answer is not JSON\n");
			return BW_CLI_UNREACHABLE;
		}
		if (c->json && n) {
			fwrite(r->body, 1, n, stdout);
			fputc('\n', stdout);
		}
		*out = v;
		return BW_CLI_OK;
	}
	bw_cli__print_error(r);
	return r->status >= 400 && r->status < 500 ? BW_CLI_REFUSED : BW_CLI_UNREACHABLE;
}

static int call(struct bw_cli *c, const char *method, const char *path, const char *body,
                json_t **out)
{
	struct bw_cli_resp r;
	*out = NULL;
	if (bw_cli__http(c, method, path, body, &r) != 0) {
		fprintf(stderr, "bulwark: cannot reach %s: %s\n", c->url, r.err);
		return BW_CLI_UNREACHABLE;
	}
	int rc = answer(c, &r, out);
	bw_cli__resp_free(&r);
	return rc;
}

int bw_cli__get(struct bw_cli *c, const char *method, const char *path, json_t **out)
{
	return call(c, method, path, NULL, out);
}

int bw_cli__send(struct bw_cli *c, const char *method, const char *path, json_t *body, json_t **out)
{
	*out = NULL;
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (!text) {
		fprintf(stderr, "bulwark: the arguments must be valid UTF-8\n");
		return BW_CLI_USAGE;
	}
	int rc = call(c, method, path, text, out);
	bw_cli__jfree(text);
	return rc;
}
