/* `bulwark decrypt --key private.pem [--json] [FILE|-]`: decrypts customer
 * input a flow encrypted (an AWS Encryption SDK message in base64, as a
 * contact attribute holds it) with the integrator's private key, offline:
 * no server, no token. The key file's bytes are wiped after use. */
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_int.h"
#include "sec/esdk.h"

#define KEY_MAX (64u << 10)
#define MSG_MAX (16u << 20)

static const char usage_text[] =
    "usage: bulwark decrypt --key private.pem [--json] [FILE|-]\n\n"
    "Decrypts encrypted customer input: the base64 AWS Encryption SDK message a\n"
    "StoreCustomerInput block wrote into a contact attribute (or test-encrypt\n"
    "returned), read from FILE or standard input. Prints the plaintext as it\n"
    "is; --json prints {\"plaintext\",\"key_id\",\"encryption_context\"} on one line\n"
    "(\"plaintext_base64\" instead when the plaintext is not UTF-8 text). Works\n"
    "offline; the message is refused unless every check passes (key commitment,\n"
    "header and frame tags).\n"
    "  --key FILE   the RSA private key (PEM, without a passphrase) whose public\n"
    "               half is an encryption key of the instance\n"
    "  --json       the plaintext and the encryption context as JSON\n"
    "  --help       this text\n"
    "\nexit codes: 0 done, 1 the message does not decrypt with this key (wrong\n"
    "key, tampered or unsupported), 2 usage error or unreadable file\n";

/* The whole file, at most cap - 1 bytes, NUL-terminated; NULL after printing. */
static char *slurp(const char *file, size_t cap, const char *what, size_t *len)
{
	FILE *f = fopen(file, "rb");
	if (!f) {
		fprintf(stderr, "bulwark: cannot open the %s: %s\n", what, strerror(errno));
		return NULL;
	}
	char *buf = malloc(cap);
	size_t n = buf ? fread(buf, 1, cap - 1, f) : 0;
	bool err = !buf || ferror(f), big = !err && n == cap - 1 && fgetc(f) != EOF;
	fclose(f);
	if (err || big) {
		fprintf(stderr, "bulwark: %s %s\n", big ? "too large:" : "cannot read the", what);
		if (buf)
			sodium_memzero(buf, cap);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

static int print_json(const struct bw_esdk_plain *p)
{
	json_t *o = json_object(), *ec = json_object();
	json_t *text = json_stringn((const char *)p->pt, p->len);
	if (text) {
		json_object_set_new(o, "plaintext", text);
	} else {
		size_t cap = sodium_base64_ENCODED_LEN(p->len, sodium_base64_VARIANT_ORIGINAL);
		char *b = malloc(cap);
		if (!b) {
			json_decref(o);
			json_decref(ec);
			return -1;
		}
		sodium_bin2base64(b, cap, p->pt, p->len, sodium_base64_VARIANT_ORIGINAL);
		json_object_set_new(o, "plaintext_base64", json_string(b));
		free(b);
	}
	json_object_set_new(o, "key_id", json_string(p->key_id));
	for (size_t i = 0; i < p->nctx; i++)
		json_object_set_new(ec, p->ctx[i].key, json_string(p->ctx[i].value));
	json_object_set_new(o, "encryption_context", ec);
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!s)
		return -1;
	printf("%s\n", s);
	bw_cli__jfree(s);
	return 0;
}

int bw_cli_decrypt(int argc, char **argv)
{
	const char *key = NULL, *file = NULL;
	bool json = false;
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];
		if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
			fputs(usage_text, stdout);
			return BW_CLI_OK;
		} else if (!strcmp(s, "--json")) {
			json = true;
		} else if (!strcmp(s, "--key") && i + 1 < argc) {
			key = argv[++i];
		} else if (!strncmp(s, "--key=", 6)) {
			key = s + 6;
		} else if ((s[0] != '-' || !strcmp(s, "-")) && !file) {
			file = s;
		} else {
			fprintf(stderr, "bulwark decrypt: unexpected argument \"%.64s\"\n%s", s,
			        usage_text);
			return BW_CLI_USAGE;
		}
	}
	if (!key || !*key) {
		fprintf(stderr, "bulwark decrypt: --key private.pem is required\n");
		return BW_CLI_USAGE;
	}
	bw_cli__secure_json();
	size_t klen = 0, mlen = 0;
	char *pem = slurp(key, KEY_MAX, "private key file", &klen), *msg = NULL;
	if (!pem)
		return BW_CLI_USAGE;
	if (!file || !strcmp(file, "-")) {
		msg = bw_cli__read_stdin(MSG_MAX);
		mlen = msg ? strlen(msg) : 0;
	} else {
		msg = slurp(file, MSG_MAX, "message file", &mlen);
	}
	int rc = BW_CLI_USAGE;
	struct bw_esdk_privkey *k = NULL;
	struct bw_esdk_plain p;
	const char *why = NULL;
	memset(&p, 0, sizeof(p));
	if (msg && bw_esdk_privkey_load(pem, klen, &k, &why) != BW_OK)
		fprintf(stderr, "bulwark decrypt: %s: %s\n", key, why);
	if (msg && k) {
		if (bw_esdk_open_b64(k, msg, mlen, &p) == BW_OK) {
			rc = json ? print_json(&p) : fwrite(p.pt, 1, p.len, stdout) != p.len;
			rc = rc ? BW_CLI_USAGE : BW_CLI_OK;
			fflush(stdout);
		} else {
			fprintf(stderr, "bulwark decrypt: %s\n",
			        p.error ? p.error : "cannot decrypt");
			rc = BW_CLI_REFUSED;
		}
	}
	bw_esdk_privkey_free(k);
	bw_esdk_plain_free(&p);
	sodium_memzero(pem, klen);
	free(pem);
	free(msg);
	return rc;
}
