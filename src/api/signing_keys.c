/* Role signing keys (C7, docs/api.md "Role tokens"): the public JWKS that
 * receivers of outbound calls verify tokens against, the instance's key
 * list (public halves and times only), a forced rotation, and test-sign,
 * which makes the token an outbound call would carry so that an
 * integrator can check their verification end to end. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/ids.h"
#include "integ/role.h"
#include "store/store.h"

#define KEYS_MAX 16
#define TEST_BODY_MAX 65536

/* GET /.well-known/bulwark/{iid}/jwks.json (PUBLIC). */
void bw_api_jwks(struct bw_ctx *c)
{
	json_t *jwks = NULL;
	int max_age = 0;
	char cc[64];
	const char *iid = c->req->params[0];
	bw_result r =
	    bw_api_id_ok(iid) ? bw_role_jwks(c->store, iid, &jwks, &max_age) : BW_NOTFOUND;
	if (r != BW_OK) {
		bw_reply_result(c, r, "no such instance", NULL);
		return;
	}
	/* Short, and no longer than a successor is published before it signs. */
	snprintf(cc, sizeof(cc), "public, max-age=%d", max_age);
	bw_reply_header(c, "Cache-Control", cc);
	bw_reply_json(c, 200, jwks);
}

static json_t *key_json(const struct bw_signing_key *k, const struct bw_signing_key *signer)
{
	long long until = 0;
	const char *state = bw_role_key_state(k, signer, &until);
	char x[48];
	sodium_bin2base64(x, sizeof(x), k->public_key, sizeof(k->public_key),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "kid", k->kid, "state", state, "x",
	                 x, "created_at", bw_api_time_or_null(k->created_at), "activates_at",
	                 bw_api_time_or_null(k->activates_at), "retires_at",
	                 bw_api_time_or_null(k->retires_at),
	                 "published_until", bw_api_time_or_null(until));
}

void bw_api_signing_keys_list(struct bw_ctx *c)
{
	struct bw_signing_key k[KEYS_MAX];
	const struct bw_signing_key *signer = NULL;
	size_t n = 0;
	bw_result r = bw_role_keys(c->store, c->who.instance_id, k, KEYS_MAX, &n, &signer);
	if (r != BW_OK) {
		bw_reply_result(c, r, "no such instance", NULL);
		return;
	}
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, key_json(&k[i], signer));
	bw_reply_json(c, 200, json_pack("{s:o, s:n}", "items", items, "next_token"));
}

void bw_api_signing_keys_rotate(struct bw_ctx *c)
{
	struct bw_signing_key k[KEYS_MAX];
	const struct bw_signing_key *signer = NULL;
	char kid[48] = "";
	size_t n = 0;
	bw_result r = bw_role_rotate(c->store, c->who.instance_id, kid);
	if (r == BW_OK)
		r = bw_role_keys(c->store, c->who.instance_id, k, KEYS_MAX, &n, &signer);
	for (size_t i = 0; r == BW_OK && i < n; i++)
		if (!strcmp(k[i].kid, kid)) {
			bw_reply_json(c, 201, key_json(&k[i], signer));
			return;
		}
	bw_reply_result(c, r == BW_OK ? BW_ERR : r, NULL, NULL);
}

/* {"audience", "body"?, "integration_id"?, "contact_id"?, "ttl_s"?} →
 * {"token"}: the token an outbound call to audience with this body would
 * carry (sub "test-sign" unless integration_id is given). */
void bw_api_signing_keys_test_sign(struct bw_ctx *c)
{
	static const char *const fields[] = {"audience",   "body",  "integration_id",
	                                     "contact_id", "ttl_s", NULL};
	const char *aud, *body, *integ, *contact;
	char *jwt = NULL;
	if (bw_api_only(c, fields) || bw_api_str(c, "audience", 1, BW_ROLE_CLAIM_MAX, true, &aud) ||
	    bw_api_str(c, "body", 0, TEST_BODY_MAX, false, &body) ||
	    bw_api_str(c, "integration_id", 1, BW_ROLE_CLAIM_MAX, false, &integ) ||
	    bw_api_str(c, "contact_id", 1, BW_ROLE_CLAIM_MAX, false, &contact))
		return;
	json_t *t = json_object_get(c->in, "ttl_s");
	if (t && (!json_is_integer(t) || json_integer_value(t) < 1 ||
	          json_integer_value(t) > BW_ROLE_TTL_MAX_S)) {
		bw_reply_error(c, 400, "InvalidParameter", "ttl_s is an integer from 1 to 900",
		               "ttl_s");
		return;
	}
	struct bw_role_claims cl = {
	    .integration_id = integ ? integ : "test-sign",
	    .audience = aud,
	    .contact_id = contact,
	    .body = (const uint8_t *)(body ? body : ""),
	    .body_len = body ? strlen(body) : 0,
	    .ttl_s = t ? (int)json_integer_value(t) : 0,
	};
	bw_result r = bw_role_token(c->store, c->who.instance_id, &cl, &jwt);
	if (r != BW_OK) {
		bw_reply_result(c, r, r == BW_INVALID ? "a claim is not valid" : "no such instance",
		                NULL);
		return;
	}
	json_t *o = json_pack("{s:s}", "token", jwt);
	free(jwt);
	bw_reply_json(c, 200, o);
}
