/* An instance's encryption keys (C15, docs/api.md "Encrypted customer
 * input"): integrators' RSA public keys, to which flows encrypt customer
 * input as AWS Encryption SDK messages. At most two are ACTIVE (one in use,
 * one rotating in). Only public keys are ever taken or kept; a reply
 * carries the key id, fingerprint, size, status and times, never the key
 * text. test-encrypt encrypts a test value to the active keys, so that an
 * integrator can check their decryption end to end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "core/ids.h"
#include "sec/esdk.h"
#include "store/store.h"

#define KEY_ID_MAX 64
#define PEM_MAX 16384
#define TEST_PLAINTEXT_MAX 65536

static json_t *time_json(long long ms)
{
	char b[40];
	bw_time_rfc3339_ms(ms, b, sizeof(b));
	return json_string(b);
}

static json_t *key_json(const struct bw_enckey *k)
{
	return json_pack("{s:s, s:s, s:i, s:s, s:o, s:o}", "key_id", k->key_id, "fingerprint",
	                 k->fingerprint, "bits", k->bits, "status", k->status, "created_at",
	                 time_json(k->created_at), "updated_at", time_json(k->updated_at));
}

/* [A-Za-z0-9._-]{1,64}, and not "." or "..", which no URL path can name. */
static bool key_id_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > KEY_ID_MAX || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
			return false;
	return true;
}

/* "status" of the body into *out when given: ACTIVE or DISABLED. */
static int status_in(struct bw_ctx *c, bool required, const char **out)
{
	if (bw_api_str(c, "status", 1, 16, required, out) != 0)
		return -1;
	if (*out && strcmp(*out, "ACTIVE") && strcmp(*out, "DISABLED")) {
		bw_reply_error(c, 400, "InvalidParameter", "status must be ACTIVE or DISABLED",
		               "status");
		return -1;
	}
	return 0;
}

static const char too_many[] = "at most two encryption keys may be ACTIVE: disable or delete one "
                               "first";

void bw_api_enckeys_create(struct bw_ctx *c)
{
	static const char *const fields[] = {"key_id", "public_key", "status", NULL};
	struct bw_enckey k, old;
	const char *key_id, *pem, *status, *why = "";
	memset(&k, 0, sizeof(k));
	if (bw_api_only(c, fields) || bw_api_str(c, "key_id", 1, KEY_ID_MAX, true, &key_id))
		return;
	if (!key_id_ok(key_id)) {
		bw_reply_error(c, 400, "InvalidParameter",
		               "key_id is 1 to 64 of letters, digits, '.', '_', '-' (not . or ..)",
		               "key_id");
		return;
	}
	if (bw_api_str(c, "public_key", 1, PEM_MAX, true, &pem) || status_in(c, false, &status))
		return;
	bw_result r =
	    bw_esdk_public_key(pem, strlen(pem), &k.public_key, &k.bits, k.fingerprint, &why);
	if (r != BW_OK) {
		bw_reply_result(c, r, why, "public_key");
		return;
	}
	snprintf(k.instance_id, sizeof(k.instance_id), "%s", c->who.instance_id);
	snprintf(k.key_id, sizeof(k.key_id), "%s", key_id);
	snprintf(k.status, sizeof(k.status), "%s", status ? status : "ACTIVE");
	k.created_at = k.updated_at = bw_now_ms();
	r = bw_store_enckey_insert(c->store, &k);
	if (r == BW_CONFLICT) {
		/* Which of the two limits: the row that is there now says. */
		bool exists = bw_store_enckey_get(c->store, k.instance_id, key_id, &old) == BW_OK;
		bw_enckey_clear(&old);
		bw_reply_error(c, 409, "Conflict",
		               exists ? "an encryption key with this key_id exists" : too_many,
		               exists ? "key_id" : "status");
	} else if (r != BW_OK) {
		bw_reply_result(c, r, NULL, NULL);
	} else {
		bw_reply_json(c, 201, key_json(&k));
	}
	bw_enckey_clear(&k);
}

static int load(struct bw_ctx *c, struct bw_enckey *k)
{
	bw_result r = bw_store_enckey_get(c->store, c->who.instance_id, c->req->params[1], k);
	if (r != BW_OK) {
		bw_reply_result(c, r, "no such encryption key", NULL);
		return -1;
	}
	return 0;
}

void bw_api_enckeys_get(struct bw_ctx *c)
{
	struct bw_enckey k;
	if (load(c, &k) == 0)
		bw_reply_json(c, 200, key_json(&k));
	bw_enckey_clear(&k);
}

void bw_api_enckeys_update(struct bw_ctx *c)
{
	static const char *const fields[] = {"status", NULL};
	struct bw_enckey k;
	const char *status;
	if (bw_api_only(c, fields) || status_in(c, true, &status))
		return;
	bw_result r = bw_store_enckey_set_status(c->store, c->who.instance_id, c->req->params[1],
	                                         status, bw_now_ms());
	if (r == BW_CONFLICT) {
		bw_reply_error(c, 409, "Conflict", too_many, "status");
		return;
	}
	if (r != BW_OK) {
		bw_reply_result(c, r, "no such encryption key", NULL);
		return;
	}
	if (load(c, &k) == 0)
		bw_reply_json(c, 200, key_json(&k));
	bw_enckey_clear(&k);
}

void bw_api_enckeys_delete(struct bw_ctx *c)
{
	bw_result r = bw_store_enckey_delete(c->store, c->who.instance_id, c->req->params[1]);
	if (r != BW_OK) {
		bw_reply_result(c, r, "no such encryption key", NULL);
		return;
	}
	bw_reply_empty(c, 204);
}

static bw_result ek_fetch(struct bw_ctx *c, const char *after, void *out, size_t max, size_t *n)
{
	return bw_store_enckey_list(c->store, c->who.instance_id, after, out, max, n);
}

static json_t *ek_encode(struct bw_ctx *c, const void *item)
{
	(void)c;
	return key_json(item);
}

static const char *ek_id(const void *item)
{
	return ((const struct bw_enckey *)item)->key_id;
}

void bw_api_enckeys_list(struct bw_ctx *c)
{
	static const struct bw_api_lister l = {sizeof(struct bw_enckey), ek_fetch, ek_encode, NULL,
	                                       ek_id};
	bw_api_list(c, &l);
}

/* Encrypts {"plaintext"} to the instance's active keys with the context a
 * flow would write for attribute "attribute" (default "test") of a contact
 * named "test-encrypt". */
void bw_api_enckeys_test_encrypt(struct bw_ctx *c)
{
	static const char *const fields[] = {"plaintext", "attribute", NULL};
	struct bw_enckey rows[BW_ENCKEY_MAX_ACTIVE];
	struct bw_esdk_key keys[BW_ENCKEY_MAX_ACTIVE];
	const char *attr = NULL;
	char *b64 = NULL;
	size_t n = 0;
	if (bw_api_only(c, fields) || bw_api_str(c, "attribute", 1, 64, false, &attr))
		return;
	if (attr && !key_id_ok(attr)) {
		bw_reply_error(c, 400, "InvalidParameter",
		               "an attribute name is 1 to 64 of letters, digits, '.', '_', '-'",
		               "attribute");
		return;
	}
	json_t *p = json_object_get(c->in, "plaintext");
	if (!json_is_string(p)) {
		bw_reply_error(c, 400, "InvalidParameter", p ? "must be a string" : "required",
		               "plaintext");
		return;
	}
	if (json_string_length(p) > TEST_PLAINTEXT_MAX) {
		bw_reply_error(c, 400, "InvalidParameter", "plaintext is longer than 65536 bytes",
		               "plaintext");
		return;
	}
	bw_result r = bw_store_enckey_active(c->store, c->who.instance_id, rows, &n);
	if (r != BW_OK) {
		bw_reply_result(c, r, NULL, NULL);
		return;
	}
	if (!n) {
		bw_reply_error(c, 409, "Conflict", "the instance has no ACTIVE encryption key",
		               NULL);
		return;
	}
	json_t *ids = json_array();
	for (size_t i = 0; i < n; i++) {
		keys[i] = (struct bw_esdk_key){rows[i].key_id, rows[i].public_key};
		json_array_append_new(ids, json_string(rows[i].key_id));
	}
	const struct bw_esdk_pair ctx[] = {
	    {BW_ESDK_CTX_INSTANCE, c->who.instance_id},
	    {BW_ESDK_CTX_CONTACT, "test-encrypt"},
	    {BW_ESDK_CTX_ATTRIBUTE, attr ? attr : "test"},
	};
	r = bw_esdk_encrypt(keys, n, ctx, sizeof(ctx) / sizeof(ctx[0]),
	                    (const uint8_t *)json_string_value(p), json_string_length(p), &b64);
	if (r == BW_OK) {
		json_t *ec = json_object();
		for (size_t i = 0; i < sizeof(ctx) / sizeof(ctx[0]); i++)
			json_object_set_new(ec, ctx[i].key, json_string(ctx[i].value));
		bw_reply_json(c, 200,
		              json_pack("{s:s, s:o, s:o}", "ciphertext", b64, "key_ids", ids,
		                        "encryption_context", ec));
	} else {
		json_decref(ids);
		bw_reply_result(c, r == BW_INVALID ? BW_ERR : r, NULL, NULL);
	}
	free(b64);
	for (size_t i = 0; i < n; i++)
		bw_enckey_clear(&rows[i]);
}
