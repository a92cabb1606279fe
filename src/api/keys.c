/* An instance's encryption-at-rest keys (C14, docs/api.md "Keys"): the
 * state of its KEK and of its last rotation, a rotation to a new KEK, and
 * BYOK (the KMS import pattern: import parameters, then an import of a KEK
 * wrapped with RSA-OAEP-SHA256 to the platform key). Key material never
 * leaves: replies carry ids, origins, times and counts. Deleting an
 * instance destroys its keys first (bw_api_keys_shred). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/ids.h"
#include "core/log.h"
#include "sec/audit.h"
#include "sec/keyring.h"

#define WRAPPED_B64_MAX 2048

static json_t *rotation_json(const struct bw_key_rotation *r)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:o, s:o}", "id", r->id, "state", r->state,
	                 "kek_id", r->kek_id, "from_kek_id", r->from_kek_id, "rewrapped",
	                 (json_int_t)r->rewrapped, "total", (json_int_t)r->total, "started_at",
	                 bw_api_time_or_null(r->started_at), "finished_at",
	                 bw_api_time_or_null(r->finished_at));
}

static void reply_keyring_error(struct bw_ctx *c, bw_result r)
{
	if (r == BW_CONFLICT)
		bw_reply_error(c, 409, "Conflict",
		               "a key rotation of this instance is running: wait until it ends",
		               NULL);
	else if (r == BW_NOTFOUND)
		bw_reply_error(c, 404, "NotFound", "no such instance", NULL);
	else if (r == BW_DENIED)
		bw_reply_error(
		    c, 409, "Conflict",
		    "the instance's key-encryption key does not open: its row was altered, "
		    "or another root key wrapped it",
		    NULL);
	else
		bw_reply_result(c, r, NULL, NULL);
}

void bw_api_keys_get(struct bw_ctx *c)
{
	struct bw_keyring_info ki;
	bw_result r = bw_keyring_info(c->who.instance_id, &ki);
	if (r != BW_OK) {
		reply_keyring_error(c, r);
		return;
	}
	json_t *retiring = json_array();
	for (size_t i = 0; i < ki.nretiring; i++)
		json_array_append_new(retiring, json_string(ki.retiring[i]));
	bw_reply_json(c, 200,
	              json_pack("{s:s, s:s, s:s, s:o, s:o, s:I, s:o}", "instance_id",
	                        c->who.instance_id, "kek_id", ki.kek_id, "origin", ki.origin,
	                        "created_at", bw_api_time_or_null(ki.created_at), "retiring_kek_ids",
	                        retiring, "data_keys", (json_int_t)ki.data_keys, "rotation",
	                        ki.has_rotation ? rotation_json(&ki.rotation) : json_null()));
}

void bw_api_keys_rotate(struct bw_ctx *c)
{
	struct bw_key_rotation rot;
	bw_result r = bw_keyring_rotate(c->who.instance_id, NULL, &rot);
	if (r != BW_OK) {
		reply_keyring_error(c, r);
		return;
	}
	bw_reply_json(c, 202, rotation_json(&rot));
}

void bw_api_keys_import_params(struct bw_ctx *c)
{
	struct bw_import_params p;
	bw_result r = bw_keyring_import_params(c->who.instance_id, &p);
	if (r != BW_OK) {
		bw_reply_result(c, r, NULL, NULL);
		return;
	}
	char bits[24];
	snprintf(bits, sizeof(bits), "RSA_%d", p.bits);
	bw_reply_json(c, 200,
	              json_pack("{s:s, s:s, s:s, s:s, s:o}", "public_key", p.public_key, "key_spec",
	                        bits, "wrapping_algorithm", "RSAES_OAEP_SHA_256", "import_token",
	                        p.token, "expires_at", bw_api_time_or_null(p.expires_at)));
	bw_import_params_clear(&p);
}

void bw_api_keys_import(struct bw_ctx *c)
{
	static const char *const fields[] = {"import_token", "wrapped_key", NULL};
	const char *token, *b64, *field = NULL, *why = NULL;
	if (bw_api_only(c, fields) || bw_api_str(c, "import_token", 1, 128, true, &token) ||
	    bw_api_str(c, "wrapped_key", 1, WRAPPED_B64_MAX, true, &b64))
		return;
	uint8_t wrapped[WRAPPED_B64_MAX];
	size_t n = 0;
	if (sodium_base642bin(wrapped, sizeof(wrapped), b64, strlen(b64), NULL, &n, NULL,
	                      sodium_base64_VARIANT_ORIGINAL) != 0 &&
	    sodium_base642bin(wrapped, sizeof(wrapped), b64, strlen(b64), NULL, &n, NULL,
	                      sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0) {
		bw_reply_error(c, 400, "InvalidParameter", "wrapped_key must be standard base64",
		               "wrapped_key");
		return;
	}
	struct bw_key_rotation rot;
	bw_result r = bw_keyring_import(c->who.instance_id, token, wrapped, n, &rot, &field, &why);
	if (r == BW_INVALID)
		bw_reply_error(c, 400, "InvalidParameter", why, field);
	else if (r != BW_OK)
		reply_keyring_error(c, r);
	else
		bw_reply_json(c, 202, rotation_json(&rot));
}

/* The audit record of a destruction, on the platform's chain next to
 * instances.delete (a separate event: keys and rows are gone by then). */
static void audit_destroy(struct bw_ctx *c, const char *iid, bw_result r)
{
	struct bw_audit_event e;
	memset(&e, 0, sizeof(e));
	bw_id_new(e.id, "ev_");
	bw_time_rfc3339(bw_now_unix(), e.time, sizeof(e.time));
	snprintf(e.principal_kind, sizeof(e.principal_kind), "platform");
	snprintf(e.principal_id, sizeof(e.principal_id), "%s", c->who.id);
	snprintf(e.principal_name, sizeof(e.principal_name), "%s", c->who.name);
	snprintf(e.instance_id, sizeof(e.instance_id), "%s", iid);
	snprintf(e.action, sizeof(e.action), "keys.destroy");
	snprintf(e.resource, sizeof(e.resource), "/v1/instances/%s/keys", iid);
	snprintf(e.source_ip, sizeof(e.source_ip), "%s", c->req->peer);
	snprintf(e.user_agent, sizeof(e.user_agent), "%s",
	         c->req->user_agent ? c->req->user_agent : "");
	snprintf(e.result, sizeof(e.result), "%s", r == BW_OK ? "allowed" : "failed");
	e.status = r == BW_OK ? 200 : 500;
	if (r != BW_OK)
		snprintf(e.error_code, sizeof(e.error_code), "Internal");
	snprintf(e.request_id, sizeof(e.request_id), "%s", c->req->request_id);
	if (bw_audit_append(&e) != BW_OK)
		bw_log(BW_LOG_ERROR, "audit record not written", "request_id", c->req->request_id);
	else
		bw_api_events_audit(&e);
}

int bw_api_keys_shred(struct bw_ctx *c, const char *iid)
{
	bw_result r = bw_keyring_destroy(iid);
	audit_destroy(c, iid, r);
	if (r != BW_OK) {
		bw_log(BW_LOG_ERROR, "an instance's keys could not be destroyed", "instance_id",
		       iid);
		bw_reply_result(c, r, NULL, NULL);
		return -1;
	}
	return 0;
}
