/* `bulwark encryption-key ...` (routes /v1/instances/{iid}/encryption-keys),
 * with a session token of a user who holds Keys.View / Keys.Edit. Only the
 * public key file is ever read; `bulwark decrypt` is the private side. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_int.h"

#define PEM_MAX 16384 /* what the API takes */

static const char *const pages[] = {"limit", "limit", "next-token", "next_token", NULL};

static const struct bw_cli_col cols[] = {
    {"key_id", "KEY ID", false},      {"status", "STATUS", false},
    {"bits", "BITS", false},          {"fingerprint", "FINGERPRINT (SHA-256)", false},
    {"created_at", "CREATED", false}, {NULL, NULL, false},
};

/* [A-Za-z0-9._-]{1,64}, not . or ..: a key id fits a URL path as it is. */
static int key_id_arg(const char *v)
{
	size_t n = strlen(v);
	bool ok = n >= 1 && n <= 64 && strcmp(v, ".") && strcmp(v, "..");
	for (size_t i = 0; ok && i < n; i++)
		ok = (v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
		     (v[i] >= '0' && v[i] <= '9') || v[i] == '.' || v[i] == '_' || v[i] == '-';
	if (!ok)
		fprintf(stderr, "bulwark: a key id is 1 to 64 of letters, digits, '.', '_', '-'\n");
	return ok ? 0 : -1;
}

static int path(const struct bw_cli *c, const char *key_id, const char *suffix, char *p, size_t cap)
{
	if (key_id && key_id_arg(key_id))
		return -1;
	return bw_cli__path(p, cap, "/v1/instances/%s/encryption-keys%s%s%s", c->instance,
	                    key_id ? "/" : "", key_id ? key_id : "", suffix);
}

static int list(struct bw_cli *c, const struct bw_cli_args *a)
{
	char p[BW_CLI_PATH_MAX];
	json_t *o = NULL;
	if (path(c, NULL, "", p, sizeof(p)) || bw_cli__query(a, pages, p, sizeof(p)))
		return BW_CLI_USAGE;
	int rc = bw_cli__get(c, "GET", p, &o);
	return bw_cli__show_list(c, rc, o, cols);
}

/* The public key file ("-": standard input), NUL-terminated; NULL after printing. */
static char *read_pem(const char *file)
{
	if (!strcmp(file, "-"))
		return bw_cli__read_stdin(PEM_MAX + 1);
	FILE *f = fopen(file, "rb");
	if (!f) {
		fprintf(stderr, "bulwark: cannot open the public key file: %s\n", strerror(errno));
		return NULL;
	}
	char *buf = malloc(PEM_MAX + 1);
	size_t n = buf ? fread(buf, 1, PEM_MAX, f) : 0;
	bool err = !buf || ferror(f), big = !err && n == PEM_MAX && fgetc(f) != EOF;
	fclose(f);
	if (err || big) {
		fprintf(stderr, "bulwark: %s\n",
		        big ? "the public key file is larger than 16 KiB" : "cannot read the file");
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

static int add(struct bw_cli *c, const struct bw_cli_args *a)
{
	char p[BW_CLI_PATH_MAX];
	json_t *o = NULL;
	const char *id = bw_cli__need(a, "key-id"),
	           *file = id ? bw_cli__need(a, "public-key") : NULL;
	if (!file || key_id_arg(id) || path(c, NULL, "", p, sizeof(p)))
		return BW_CLI_USAGE;
	char *pem = read_pem(file);
	if (!pem)
		return BW_CLI_USAGE;
	if (strstr(pem, "PRIVATE KEY")) {
		/* Refused here too, so that it never leaves the machine. */
		fprintf(stderr, "bulwark: the file holds a private key: give the public key "
		                "(openssl pkey -in private.pem -pubout)\n");
		free(pem);
		return BW_CLI_USAGE;
	}
	json_t *body = json_pack("{s:s, s:s, s:s}", "key_id", id, "public_key", pem, "status",
	                         bw_cli__flag(a, "disabled") ? "DISABLED" : "ACTIVE");
	free(pem);
	int rc = bw_cli__send(c, "POST", p, body, &o);
	return bw_cli__show_object(c, rc, o);
}

static int one(struct bw_cli *c, const char *id, const char *method, json_t *body)
{
	char p[BW_CLI_PATH_MAX];
	json_t *o = NULL;
	if (path(c, id, "", p, sizeof(p))) {
		json_decref(body);
		return BW_CLI_USAGE;
	}
	int rc = body ? bw_cli__send(c, method, p, body, &o) : bw_cli__get(c, method, p, &o);
	if (method[0] == 'D')
		return bw_cli__show_done(c, rc, o, "removed encryption key", id);
	return bw_cli__show_object(c, rc, o);
}

static int get(struct bw_cli *c, const struct bw_cli_args *a)
{
	return one(c, a->pos[0], "GET", NULL);
}

static int del(struct bw_cli *c, const struct bw_cli_args *a)
{
	return one(c, a->pos[0], "DELETE", NULL);
}

static int enable(struct bw_cli *c, const struct bw_cli_args *a)
{
	return one(c, a->pos[0], "PATCH", json_pack("{s:s}", "status", "ACTIVE"));
}

static int disable(struct bw_cli *c, const struct bw_cli_args *a)
{
	return one(c, a->pos[0], "PATCH", json_pack("{s:s}", "status", "DISABLED"));
}

static int test_encrypt(struct bw_cli *c, const struct bw_cli_args *a)
{
	char p[BW_CLI_PATH_MAX];
	json_t *o = NULL;
	const char *text = bw_cli__need(a, "plaintext"), *attr = bw_cli__opt(a, "attribute");
	if (!text || path(c, NULL, "/test-encrypt", p, sizeof(p)))
		return BW_CLI_USAGE;
	json_t *body = json_pack("{s:s}", "plaintext", text);
	if (body && attr && json_object_set_new(body, "attribute", json_string(attr))) {
		json_decref(body);
		body = NULL; /* bw_cli__send says why */
	}
	int rc = bw_cli__send(c, "POST", p, body, &o);
	if (rc == BW_CLI_OK && !c->json) {
		const char *ct = json_string_value(json_object_get(o, "ciphertext"));
		if (ct && !strpbrk(ct, "\r\n\x1b"))
			printf("%s\n", ct);
	}
	json_decref(o);
	return rc;
}

static const struct bw_cli_opt list_opts[] = {
    {"limit", BW_OPT_VALUE}, {"next-token", BW_OPT_VALUE}, {NULL, BW_OPT_FLAG}};
static const struct bw_cli_opt add_opts[] = {{"key-id", BW_OPT_VALUE},
                                             {"public-key", BW_OPT_VALUE},
                                             {"disabled", BW_OPT_FLAG},
                                             {NULL, BW_OPT_FLAG}};
static const struct bw_cli_opt test_opts[] = {
    {"plaintext", BW_OPT_VALUE}, {"attribute", BW_OPT_VALUE}, {NULL, BW_OPT_FLAG}};

#define U (BW_NEED_TOKEN | BW_NEED_INSTANCE)
static const struct bw_cli_cmd cmds[] = {
    {"list", "[--limit N] [--next-token T]",
     "Lists the instance's encryption keys (GET .../encryption-keys): key id,\n"
     "status, size, SHA-256 fingerprint of the public key.\n"
     "  --limit N        at most N (1 to 1000, default 50)\n"
     "  --next-token T   the page after T\n",
     list_opts, 0, U, list},
    {"add", "--key-id ID --public-key FILE [--disabled]",
     "Adds an RSA public key (POST .../encryption-keys) to which flows encrypt\n"
     "customer input; at most two keys are ACTIVE at a time.\n"
     "  --key-id ID        1 to 64 of letters, digits, '.', '_', '-': the key name\n"
     "                     of the Encryption SDK keyring that decrypts\n"
     "  --public-key FILE  PEM, -----BEGIN PUBLIC KEY-----, RSA 2048 to 4096 bits\n"
     "                     (openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072\n"
     "                     -out private.pem; openssl pkey -in private.pem -pubout);\n"
     "                     - reads standard input\n"
     "  --disabled         add it DISABLED (enable it later)\n",
     add_opts, 0, U, add},
    {"get", "KEY_ID", "Shows an encryption key (GET .../encryption-keys/{key_id}).\n", NULL, 1, U,
     get},
    {"enable", "KEY_ID",
     "Makes a key ACTIVE (PATCH .../encryption-keys/{key_id}); refused while two are.\n", NULL, 1,
     U, enable},
    {"disable", "KEY_ID",
     "Makes a key DISABLED: new customer input is no longer encrypted to it.\n", NULL, 1, U,
     disable},
    {"remove", "KEY_ID", "Removes an encryption key (DELETE .../encryption-keys/{key_id}).\n", NULL,
     1, U, del},
    {"test-encrypt", "--plaintext TEXT [--attribute NAME]",
     "Encrypts a test value to the ACTIVE keys (POST .../encryption-keys/test-encrypt)\n"
     "and prints the message; `bulwark decrypt --key private.pem` reads it back.\n"
     "  --plaintext TEXT   a test value (never real customer data)\n"
     "  --attribute NAME   the attribute named in the encryption context (test)\n",
     test_opts, 0, U, test_encrypt},
    {NULL, NULL, NULL, NULL, 0, 0, NULL},
};

const struct bw_cli_resource bw_cli_enckey_res = {
    "encryption-key",
    "manage the public keys customer input is encrypted to (session token and --instance)", cmds,
    NULL};
