/* `bulwark secret ...` (routes /v1/instances/{iid}/secrets), with a session
 * token of a user who holds Secrets.View / Secrets.Edit. A value never
 * comes from argv (other users can read it there): it is read from
 * standard input, a file, $BULWARK_SECRET_VALUE or the terminal, kept in
 * memory that is wiped, and never printed; the API answers with metadata
 * only. (secret.c is the other side: how the CLI reads any secret.) */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_int.h"

#define VALUE_MAX 8192 /* what the API takes */
#define NAME_MAX_ 64

static const char *const list_map[] = {"name",       "name",       "limit", "limit",
                                       "next-token", "next_token", NULL};

static const struct bw_cli_col cols[] = {
    {"id", "ID", false},
    {"name", "NAME", false},
    {"version", "VERSION", false},
    {"created_at", "CREATED", false},
    {"rotated_at", "ROTATED", false},
    {"previous_readable_until", "PREVIOUS READABLE UNTIL", false},
    {NULL, NULL, false},
};

static bool name_ok(const char *v)
{
	size_t n = strlen(v);
	bool ok = n >= 1 && n <= NAME_MAX_;
	for (size_t i = 0; ok && i < n; i++)
		ok = (v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
		     (v[i] >= '0' && v[i] <= '9') || v[i] == '.' || v[i] == '_' || v[i] == '-';
	return ok;
}

/* An id as the API makes them: "sc_" and 22 base64url characters. */
static bool looks_like_id(const char *v)
{
	if (strncmp(v, "sc_", 3) || strlen(v) != 25)
		return false;
	for (v += 3; *v; v++)
		if (!((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') ||
		      (*v >= '0' && *v <= '9') || *v == '_' || *v == '-'))
			return false;
	return true;
}

static int base(const struct bw_cli *c, char *p, size_t cap)
{
	return bw_cli__path(p, cap, "/v1/instances/%s/secrets", c->instance);
}

/* The id of SECRET (an id, or a name looked up quietly): 0, or an exit code. */
static int resolve(struct bw_cli *c, const char *arg, char id[64])
{
	char p[BW_CLI_PATH_MAX];
	if (looks_like_id(arg)) {
		snprintf(id, 64, "%s", arg);
		return BW_CLI_OK;
	}
	if (!name_ok(arg)) {
		fprintf(stderr, "bulwark: give a secret's id (sc_...) or its name (1 to 64 of "
		                "letters, digits, '.', '_', '-')\n");
		return BW_CLI_USAGE;
	}
	/* A valid name needs no percent-encoding. */
	if (bw_cli__path(p, sizeof(p), "/v1/instances/%s/secrets?name=%s", c->instance, arg))
		return BW_CLI_USAGE;
	json_t *o = NULL;
	bool json = c->json;
	c->json = false; /* the lookup prints nothing */
	int rc = bw_cli__get(c, "GET", p, &o);
	c->json = json;
	const char *found = json_string_value(
	    json_object_get(json_array_get(json_object_get(o, "items"), 0), "id"));
	if (rc == BW_CLI_OK && (!found || !looks_like_id(found))) {
		fprintf(stderr, "bulwark: no secret named %s\n", arg);
		rc = BW_CLI_REFUSED;
	}
	if (rc == BW_CLI_OK)
		snprintf(id, 64, "%s", found);
	json_decref(o);
	return rc;
}

static void wipe_free(char *p, size_t cap)
{
	if (p) {
		sodium_memzero(p, cap);
		free(p);
	}
}

/* All of a file ("-": standard input) into buf (VALUE_MAX + 1 bytes), one
 * trailing newline dropped; -1 after printing why. */
static int read_all(const char *file, char *buf)
{
	size_t n = 0;
	if (!strcmp(file, "-")) {
		char *in = bw_cli__read_stdin(VALUE_MAX + 2);
		if (!in)
			return -1;
		n = strlen(in);
		memcpy(buf, in, n < VALUE_MAX + 1 ? n : VALUE_MAX + 1);
		wipe_free(in, VALUE_MAX + 2);
	} else {
		FILE *f = fopen(file, "rb");
		if (!f) {
			fprintf(stderr, "bulwark: cannot open the value file: %s\n",
			        strerror(errno));
			return -1;
		}
		n = fread(buf, 1, VALUE_MAX + 1, f);
		bool err = ferror(f);
		fclose(f);
		if (err) {
			fprintf(stderr, "bulwark: cannot read the value file\n");
			return -1;
		}
	}
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if (n > VALUE_MAX) {
		fprintf(stderr, "bulwark: the value is longer than 8192 bytes\n");
		return -1;
	}
	buf[n] = '\0';
	return 0;
}

/* The value from --value-stdin, --value-file, $BULWARK_SECRET_VALUE or the
 * terminal, in buf (VALUE_MAX + 2 bytes); -1 after printing why. */
static int value(const struct bw_cli_args *a, char *buf)
{
	const char *file = bw_cli__opt(a, "value-file");
	int got;
	if (bw_cli__flag(a, "value-stdin") && file) {
		fprintf(stderr, "bulwark: give --value-stdin or --value-file, not both\n");
		return -1;
	}
	if (bw_cli__flag(a, "value-stdin") || file)
		got = read_all(file ? file : "-", buf) == 0 ? 1 : -1;
	else /* the flag is known not set: the environment, then the terminal */
		got =
		    bw_cli__password(a, "value-stdin", "BULWARK_SECRET_VALUE", buf, VALUE_MAX + 2);
	if (got == 0)
		fprintf(stderr, "bulwark: no value: use --value-stdin, --value-file FILE or "
		                "BULWARK_SECRET_VALUE (never an argument)\n");
	if (got == 1 && !buf[0]) {
		fprintf(stderr, "bulwark: the value is empty\n");
		got = -1;
	}
	if (got == 1 && strlen(buf) > VALUE_MAX) {
		fprintf(stderr, "bulwark: the value is longer than 8192 bytes\n");
		got = -1;
	}
	return got == 1 ? 0 : -1;
}

static int list(struct bw_cli *c, const struct bw_cli_args *a)
{
	char p[BW_CLI_PATH_MAX];
	json_t *o = NULL;
	const char *name = bw_cli__opt(a, "name");
	if (name && !name_ok(name)) {
		fprintf(stderr,
		        "bulwark: a secret name is 1 to 64 of letters, digits, '.', '_', '-'\n");
		return BW_CLI_USAGE;
	}
	if (base(c, p, sizeof(p)) || bw_cli__query(a, list_map, p, sizeof(p)))
		return BW_CLI_USAGE;
	int rc = bw_cli__get(c, "GET", p, &o);
	return bw_cli__show_list(c, rc, o, cols);
}

static int add(struct bw_cli *c, const struct bw_cli_args *a)
{
	char p[BW_CLI_PATH_MAX];
	json_t *o = NULL;
	const char *name = bw_cli__need(a, "name");
	if (!name)
		return BW_CLI_USAGE;
	if (!name_ok(name)) {
		fprintf(stderr,
		        "bulwark: a secret name is 1 to 64 of letters, digits, '.', '_', '-'\n");
		return BW_CLI_USAGE;
	}
	if (base(c, p, sizeof(p)))
		return BW_CLI_USAGE;
	char *buf = calloc(1, VALUE_MAX + 2);
	if (!buf || value(a, buf)) {
		wipe_free(buf, VALUE_MAX + 2);
		return BW_CLI_USAGE;
	}
	json_t *body = json_pack("{s:s, s:s}", "name", name, "value", buf);
	wipe_free(buf, VALUE_MAX + 2);
	int rc = bw_cli__send(c, "POST", p, body, &o);
	return bw_cli__show_object(c, rc, o);
}

static int rotate(struct bw_cli *c, const struct bw_cli_args *a)
{
	char p[BW_CLI_PATH_MAX], id[64];
	json_t *o = NULL;
	const char *grace = bw_cli__opt(a, "grace");
	long long g = -1;
	if (grace) {
		char *end;
		errno = 0;
		g = strtoll(grace, &end, 10);
		if (!*grace || *end || errno || g < 0 || g > 2592000) {
			fprintf(stderr, "bulwark: --grace is 0 to 2592000 seconds\n");
			return BW_CLI_USAGE;
		}
	}
	int rc = resolve(c, a->pos[0], id);
	if (rc != BW_CLI_OK)
		return rc;
	if (bw_cli__path(p, sizeof(p), "/v1/instances/%s/secrets/%s/rotate", c->instance, id))
		return BW_CLI_USAGE;
	char *buf = calloc(1, VALUE_MAX + 2);
	if (!buf || value(a, buf)) {
		wipe_free(buf, VALUE_MAX + 2);
		return BW_CLI_USAGE;
	}
	json_t *body = json_pack("{s:s}", "value", buf);
	wipe_free(buf, VALUE_MAX + 2);
	if (body && g >= 0 && json_object_set_new(body, "grace_s", json_integer(g))) {
		json_decref(body);
		body = NULL;
	}
	rc = bw_cli__send(c, "POST", p, body, &o);
	return bw_cli__show_object(c, rc, o);
}

static int one(struct bw_cli *c, const char *arg, const char *method)
{
	char p[BW_CLI_PATH_MAX], id[64];
	json_t *o = NULL;
	int rc = resolve(c, arg, id);
	if (rc != BW_CLI_OK)
		return rc;
	if (bw_cli__path(p, sizeof(p), "/v1/instances/%s/secrets/%s", c->instance, id))
		return BW_CLI_USAGE;
	rc = bw_cli__get(c, method, p, &o);
	if (method[0] == 'D')
		return bw_cli__show_done(c, rc, o, "removed secret", id);
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

static const struct bw_cli_opt list_opts[] = {{"name", BW_OPT_VALUE},
                                              {"limit", BW_OPT_VALUE},
                                              {"next-token", BW_OPT_VALUE},
                                              {NULL, BW_OPT_FLAG}};
static const struct bw_cli_opt add_opts[] = {{"name", BW_OPT_VALUE},
                                             {"value-stdin", BW_OPT_FLAG},
                                             {"value-file", BW_OPT_VALUE},
                                             {NULL, BW_OPT_FLAG}};
static const struct bw_cli_opt rotate_opts[] = {{"grace", BW_OPT_VALUE},
                                                {"value-stdin", BW_OPT_FLAG},
                                                {"value-file", BW_OPT_VALUE},
                                                {NULL, BW_OPT_FLAG}};

#define VALUE_HELP                                                                                 \
	"  --value-stdin      read the value from standard input (all of it, one\n"                \
	"                     trailing newline dropped)\n"                                         \
	"  --value-file FILE  read it from FILE\n"                                                 \
	"                     without either: $BULWARK_SECRET_VALUE, else a prompt on the\n"       \
	"                     terminal. Never on the command line. 1 to 8192 bytes.\n"

#define U (BW_NEED_TOKEN | BW_NEED_INSTANCE)
static const struct bw_cli_cmd cmds[] = {
    {"list", "[--name NAME] [--limit N] [--next-token T]",
     "Lists the instance's secrets (GET .../secrets): metadata only, never a value.\n"
     "  --name NAME      only the secret of that name\n"
     "  --limit N        at most N (1 to 1000, default 50)\n"
     "  --next-token T   the page after T\n",
     list_opts, 0, U, list},
    {"add", "--name NAME [--value-stdin | --value-file FILE]",
     "Stores a secret (POST .../secrets) that flows and integrations fetch by name;\n"
     "the value can never be read back through the API or this command.\n"
     "  --name NAME        1 to 64 of letters, digits, '.', '_', '-'\n" VALUE_HELP,
     add_opts, 0, U, add},
    {"get", "SECRET",
     "Shows a secret's metadata (GET .../secrets/{id}); SECRET is its id or name.\n", NULL, 1, U,
     get},
    {"rotate", "SECRET [--grace S] [--value-stdin | --value-file FILE]",
     "Gives a secret a new value (POST .../secrets/{id}/rotate): a new version.\n"
     "The previous value stays readable by the engine for the grace period.\n"
     "  --grace S          seconds the previous value stays readable (default 3600;\n"
     "                     0: at once unreadable, for a leaked credential)\n" VALUE_HELP,
     rotate_opts, 1, U, rotate},
    {"remove", "SECRET", "Deletes a secret and all its versions (DELETE .../secrets/{id}).\n", NULL,
     1, U, del},
    {NULL, NULL, NULL, NULL, 0, 0, NULL},
};

const struct bw_cli_resource bw_cli_secret_res = {
    "secret", "manage the secrets vault: write-only values (session token and --instance)", cmds,
    NULL};
