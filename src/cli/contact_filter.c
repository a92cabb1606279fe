/* `bulwark contact-filter get|set` (routes /v1/instances/{iid}/contact-filter),
 * with a session token of a user who holds Fraud.View / Fraud.Edit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_int.h"

#define MAX_RULES 3 /* one per identifier */

static int path(const struct bw_cli *c, char *p, size_t cap)
{
	return bw_cli__path(p, cap, "/v1/instances/%s/contact-filter", c->instance);
}

/* The human form: the two flags, then one line per rule. */
static int show(const struct bw_cli *c, int rc, json_t *o)
{
	if (rc == BW_CLI_OK && !c->json && json_is_object(o)) {
		json_t *rules = json_object_get(o, "rules"), *r;
		size_t i;
		printf("enabled  %s\n", json_is_true(json_object_get(o, "enabled")) ? "yes" : "no");
		printf("dry_run  %s\n", json_is_true(json_object_get(o, "dry_run")) ? "yes" : "no");
		printf("rules%s\n", json_array_size(rules) ? "" : "    (none)");
		json_array_foreach(rules, i, r)
		{
			const char *id = json_string_value(json_object_get(r, "identifier"));
			printf("  %-8s at most %" JSON_INTEGER_FORMAT " per %" JSON_INTEGER_FORMAT
			       " s, then deny-listed for %" JSON_INTEGER_FORMAT " s\n",
			       id && strlen(id) < 16 && !strpbrk(id, "\r\n\t\x1b") ? id : "?",
			       json_integer_value(json_object_get(r, "limit")),
			       json_integer_value(json_object_get(r, "window_s")),
			       json_integer_value(json_object_get(r, "deny_s")));
		}
	}
	json_decref(o);
	return rc;
}

static int get(struct bw_cli *c, const struct bw_cli_args *a)
{
	char p[BW_CLI_PATH_MAX];
	json_t *o = NULL;
	(void)a;
	if (path(c, p, sizeof(p)))
		return BW_CLI_USAGE;
	int rc = bw_cli__get(c, "GET", p, &o);
	return show(c, rc, o);
}

/* "true" or "false" into body[key]; -1 after printing. */
static int flag(json_t *body, const struct bw_cli_args *a, const char *opt, const char *key)
{
	const char *v = bw_cli__opt(a, opt);
	if (!v)
		return 0;
	if (strcmp(v, "true") && strcmp(v, "false")) {
		fprintf(stderr, "bulwark: --%s must be true or false\n", opt);
		return -1;
	}
	json_object_set_new(body, key, json_boolean(!strcmp(v, "true")));
	return 0;
}

/* IDENTIFIER:LIMIT:WINDOW_S:DENY_S, e.g. ADDRESS:20:600:3600. The server
 * checks the values; this only reads the shape. */
static json_t *rule(const char *spec)
{
	char id[16];
	long long n[3];
	char *end;
	const char *colon = strchr(spec, ':');
	size_t len = colon ? (size_t)(colon - spec) : 0;
	if (!colon || len == 0 || len >= sizeof(id))
		return NULL;
	memcpy(id, spec, len);
	id[len] = '\0';
	const char *s = colon + 1;
	for (int i = 0; i < 3; i++) {
		n[i] = strtoll(s, &end, 10);
		if (end == s || *end != (i < 2 ? ':' : '\0'))
			return NULL;
		s = end + 1;
	}
	return json_pack("{s:s, s:I, s:I, s:I}", "identifier", id, "limit", (json_int_t)n[0],
	                 "window_s", (json_int_t)n[1], "deny_s", (json_int_t)n[2]);
}

static int rules(json_t *body, const struct bw_cli_args *a)
{
	const char *specs[MAX_RULES + 1];
	size_t n = bw_cli__list(a, "rule", specs, MAX_RULES + 1);
	bool none = bw_cli__flag(a, "no-rules");
	if (n > MAX_RULES) {
		fprintf(stderr, "bulwark: at most %d --rule (one per identifier)\n", MAX_RULES);
		return -1;
	}
	if (n && none) {
		fprintf(stderr, "bulwark: --rule and --no-rules exclude each other\n");
		return -1;
	}
	if (!n && !none)
		return 0;
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *r = rule(specs[i]);
		if (!r) {
			fprintf(stderr, "bulwark: --rule is IDENTIFIER:LIMIT:WINDOW_S:DENY_S, e.g. "
			                "ADDRESS:20:600:3600\n");
			json_decref(arr);
			return -1;
		}
		json_array_append_new(arr, r);
	}
	json_object_set_new(body, "rules", arr);
	return 0;
}

/* --json-body TEXT, or "-" for standard input; must be a JSON object. */
static json_t *json_body(const char *text)
{
	char *in = NULL;
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

static int set(struct bw_cli *c, const struct bw_cli_args *a)
{
	char p[BW_CLI_PATH_MAX];
	json_t *o = NULL, *body;
	const char *raw = bw_cli__opt(a, "json-body");
	if (path(c, p, sizeof(p)))
		return BW_CLI_USAGE;
	if (raw) {
		if (bw_cli__opt(a, "enabled") || bw_cli__opt(a, "dry-run") ||
		    bw_cli__opt(a, "rule") || bw_cli__flag(a, "no-rules")) {
			fprintf(stderr, "bulwark: --json-body excludes the other options\n");
			return BW_CLI_USAGE;
		}
		if (!(body = json_body(raw)))
			return BW_CLI_USAGE;
	} else {
		body = json_object();
		int bad = flag(body, a, "enabled", "enabled") ||
		          flag(body, a, "dry-run", "dry_run") || rules(body, a);
		if (!bad && json_object_size(body) == 0)
			fprintf(stderr, "bulwark: nothing to change: give --enabled, --dry-run, "
			                "--rule, --no-rules or --json-body\n");
		if (bad || json_object_size(body) == 0) {
			json_decref(body);
			return BW_CLI_USAGE;
		}
	}
	int rc = bw_cli__send(c, "PATCH", p, body, &o);
	return show(c, rc, o);
}

static const struct bw_cli_opt set_opts[] = {
    {"enabled", BW_OPT_VALUE}, {"dry-run", BW_OPT_VALUE},   {"rule", BW_OPT_LIST},
    {"no-rules", BW_OPT_FLAG}, {"json-body", BW_OPT_VALUE}, {NULL, BW_OPT_FLAG},
};

#define U (BW_NEED_TOKEN | BW_NEED_INSTANCE)
static const struct bw_cli_cmd cmds[] = {
    {"get", "", "Shows the instance's contact filter (GET .../contact-filter).\n", NULL, 0, U, get},
    {"set",
     "[--enabled true|false] [--dry-run true|false] [--rule ID:LIMIT:WINDOW_S:DENY_S ...] "
     "[--no-rules] | --json-body '{...}'",
     "Changes the contact filter (PATCH .../contact-filter): only what is given.\n"
     "  --enabled B        true or false\n"
     "  --dry-run B        true: refuse nothing, only record what would be refused\n"
     "  --rule SPEC        IDENTIFIER:LIMIT:WINDOW_S:DENY_S, e.g. ADDRESS:20:600:3600\n"
     "                     (identifiers ADDRESS, NUMBER, EMAIL; at most one each); the\n"
     "                     rules given replace the whole list\n"
     "  --no-rules         an empty list of rules\n"
     "  --json-body JSON   the request body itself, e.g. '{\"dry_run\":true}'; - reads\n"
     "                     it from standard input\n",
     set_opts, 0, U, set},
    {NULL, NULL, NULL, NULL, 0, 0, NULL},
};

const struct bw_cli_resource bw_cli_contact_filter_res = {
    "contact-filter", "show and change an instance's contact filter (session token and --instance)",
    cmds, NULL};
