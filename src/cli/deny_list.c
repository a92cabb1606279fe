/* `bulwark deny-list ...` (routes /v1/instances/{iid}/deny-list), with a
 * session token of a user who holds Fraud.View / Fraud.Edit. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_int.h"

#define CSV_MAX (16u << 20) /* bytes of a CSV file we read */

static const char *const filters[] = {"type",  "type",       "source",     "source", "limit",
                                      "limit", "next-token", "next_token", NULL};

static const struct bw_cli_col cols[] = {
    {"id", "ID", false},         {"type", "TYPE", false},          {"value", "VALUE", false},
    {"source", "SOURCE", false}, {"expires_at", "EXPIRES", false}, {"reason", "REASON", false},
    {NULL, NULL, false},
};

static int base(const struct bw_cli *c, const char *suffix, char *p, size_t cap)
{
	return bw_cli__path(p, cap, "/v1/instances/%s/deny-list%s", c->instance, suffix);
}

static int list(struct bw_cli *c, const struct bw_cli_args *a)
{
	char p[BW_CLI_PATH_MAX];
	json_t *o = NULL;
	if (base(c, "", p, sizeof(p)) || bw_cli__query(a, filters, p, sizeof(p)))
		return BW_CLI_USAGE;
	int rc = bw_cli__get(c, "GET", p, &o);
	return bw_cli__show_list(c, rc, o, cols);
}

/* --reason and --expires-at (or --no-expiry on update) into body; -1 on error. */
static int fill(json_t *body, const struct bw_cli_args *a)
{
	const char *reason = bw_cli__opt(a, "reason"), *exp = bw_cli__opt(a, "expires-at");
	int bad = 0;
	if (exp && bw_cli__flag(a, "no-expiry")) {
		fprintf(stderr, "bulwark: --expires-at and --no-expiry exclude each other\n");
		return -1;
	}
	if (reason)
		bad |= json_object_set_new(body, "reason", json_string(reason));
	if (exp)
		bad |= json_object_set_new(body, "expires_at", json_string(exp));
	if (bw_cli__flag(a, "no-expiry"))
		bad |= json_object_set_new(body, "expires_at", json_null());
	if (bad)
		fprintf(stderr, "bulwark: the arguments must be valid UTF-8\n");
	return bad ? -1 : 0;
}

static int add(struct bw_cli *c, const struct bw_cli_args *a)
{
	char p[BW_CLI_PATH_MAX];
	json_t *o = NULL;
	const char *type = bw_cli__need(a, "type"), *value = type ? bw_cli__need(a, "value") : NULL;
	if (!value || base(c, "", p, sizeof(p)))
		return BW_CLI_USAGE;
	json_t *body = json_object();
	if (json_object_set_new(body, "type", json_string(type)) ||
	    json_object_set_new(body, "value", json_string(value))) {
		fprintf(stderr, "bulwark: the arguments must be valid UTF-8\n");
		json_decref(body);
		return BW_CLI_USAGE;
	}
	if (fill(body, a) != 0) {
		json_decref(body);
		return BW_CLI_USAGE;
	}
	int rc = bw_cli__send(c, "POST", p, body, &o);
	return bw_cli__show_object(c, rc, o);
}

static int update(struct bw_cli *c, const struct bw_cli_args *a)
{
	char p[BW_CLI_PATH_MAX], suffix[80];
	json_t *o = NULL;
	if (bw_cli__id("entry id", a->pos[0]))
		return BW_CLI_USAGE;
	snprintf(suffix, sizeof(suffix), "/%s", a->pos[0]);
	if (base(c, suffix, p, sizeof(p)))
		return BW_CLI_USAGE;
	json_t *body = json_object();
	int bad = fill(body, a);
	if (!bad && json_object_size(body) == 0)
		fprintf(stderr, "bulwark: nothing to change: give --reason, --expires-at or "
		                "--no-expiry\n");
	if (bad || json_object_size(body) == 0) {
		json_decref(body);
		return BW_CLI_USAGE;
	}
	int rc = bw_cli__send(c, "PATCH", p, body, &o);
	return bw_cli__show_object(c, rc, o);
}

static int one(struct bw_cli *c, const char *id, const char *method)
{
	char p[BW_CLI_PATH_MAX], suffix[80];
	json_t *o = NULL;
	if (bw_cli__id("entry id", id))
		return BW_CLI_USAGE;
	snprintf(suffix, sizeof(suffix), "/%s", id);
	if (base(c, suffix, p, sizeof(p)))
		return BW_CLI_USAGE;
	int rc = bw_cli__get(c, method, p, &o);
	if (method[0] == 'D')
		return bw_cli__show_done(c, rc, o, "removed deny-list entry", id);
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

/* The whole file ("-": standard input), NUL-terminated; NULL after printing. */
static char *read_file(const char *path, size_t *len)
{
	if (!strcmp(path, "-")) {
		char *s = bw_cli__read_stdin(CSV_MAX);
		*len = s ? strlen(s) : 0;
		return s;
	}
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "bulwark: cannot open the CSV file: %s\n", strerror(errno));
		return NULL;
	}
	char *buf = malloc(CSV_MAX);
	size_t n = buf ? fread(buf, 1, CSV_MAX - 1, f) : 0;
	bool err = !buf || ferror(f), big = !err && n == CSV_MAX - 1 && fgetc(f) != EOF;
	fclose(f);
	if (err || big) {
		fprintf(stderr, "bulwark: %s\n",
		        big ? "the CSV file is larger than 16 MiB" : "cannot read the CSV file");
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

static int import(struct bw_cli *c, const struct bw_cli_args *a)
{
	char p[BW_CLI_PATH_MAX];
	json_t *o = NULL;
	size_t len = 0;
	if (base(c, "/import", p, sizeof(p)))
		return BW_CLI_USAGE;
	char *csv = read_file(a->pos[0], &len);
	if (!csv)
		return BW_CLI_USAGE;
	if (strlen(csv) != len) {
		fprintf(stderr, "bulwark: the CSV file holds a NUL byte\n");
		free(csv);
		return BW_CLI_USAGE;
	}
	json_t *text = json_stringn(csv, len);
	free(csv);
	if (!text) {
		fprintf(stderr, "bulwark: the CSV file is not UTF-8 text\n");
		return BW_CLI_USAGE;
	}
	json_t *body = json_object();
	json_object_set_new(body, "csv", text);
	int rc = bw_cli__send(c, "POST", p, body, &o);
	return bw_cli__show_object(c, rc, o);
}

static const struct bw_cli_opt list_opts[] = {
    {"type", BW_OPT_VALUE},       {"source", BW_OPT_VALUE}, {"limit", BW_OPT_VALUE},
    {"next-token", BW_OPT_VALUE}, {NULL, BW_OPT_FLAG},
};
static const struct bw_cli_opt add_opts[] = {
    {"type", BW_OPT_VALUE},       {"value", BW_OPT_VALUE}, {"reason", BW_OPT_VALUE},
    {"expires-at", BW_OPT_VALUE}, {NULL, BW_OPT_FLAG},
};
static const struct bw_cli_opt update_opts[] = {
    {"reason", BW_OPT_VALUE},
    {"expires-at", BW_OPT_VALUE},
    {"no-expiry", BW_OPT_FLAG},
    {NULL, BW_OPT_FLAG},
};

#define U (BW_NEED_TOKEN | BW_NEED_INSTANCE)
static const struct bw_cli_cmd cmds[] = {
    {"list", "[--type T] [--source S] [--limit N] [--next-token T]",
     "Lists the instance's deny-list entries (GET .../deny-list).\n"
     "  --type T         IP, NUMBER or EMAIL\n"
     "  --source S       MANUAL or AUTOMATIC (listed by the contact filter)\n"
     "  --limit N        at most N (1 to 1000, default 50)\n"
     "  --next-token T   the page after T\n",
     list_opts, 0, U, list},
    {"add", "--type T --value V [--reason R] [--expires-at TIME]",
     "Deny-lists an address, a range, a number or an e-mail (POST .../deny-list);\n"
     "public contacts that carry it are refused with ContactBlocked.\n"
     "  --type T           IP (an address or a CIDR range such as 203.0.113.0/24),\n"
     "                     NUMBER (E.164, e.g. +33612345678) or EMAIL\n"
     "  --value V          the address, range, number or e-mail\n"
     "  --reason R         why (at most 512 bytes)\n"
     "  --expires-at TIME  an RFC 3339 time in the future; never, without it\n",
     add_opts, 0, U, add},
    {"get", "ID", "Shows a deny-list entry (GET .../deny-list/{id}).\n", NULL, 1, U, get},
    {"update", "ID [--reason R] [--expires-at TIME | --no-expiry]",
     "Changes an entry's reason or expiry (PATCH .../deny-list/{id}).\n"
     "  --no-expiry        the entry never expires\n",
     update_opts, 1, U, update},
    {"remove", "ID", "Removes a deny-list entry (DELETE .../deny-list/{id}).\n", NULL, 1, U, del},
    {"import", "FILE.csv",
     "Imports a CSV file (POST .../deny-list/import): a header line\n"
     "type,value,reason,expires_at then up to 10,000 rows such as\n"
     "IP,198.51.100.7,abuse, -- all rows or none; the lines in error are listed on\n"
     "standard error. FILE - reads standard input.\n",
     NULL, 1, U, import},
    {NULL, NULL, NULL, NULL, 0, 0, NULL},
};

const struct bw_cli_resource bw_cli_deny_list_res = {
    "deny-list", "manage an instance's deny list (session token and --instance)", cmds, NULL};
