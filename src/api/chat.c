/* The customer's side of chat (K2): POST /v1/public/instances/{iid}/chats
 * checks the entry point and its flow, stores the contact (with a
 * participant token scoped to it) and hands it to the engine; the customer
 * socket then runs on the loop (src/cc/chat.c). */
#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "cc/engine.h"
#include "core/ids.h"
#include "core/json.h"
#include "flow/flow.h"
#include "fraud/fraud.h"
#include "sec/cors.h"
#include "sec/isettings.h"
#include "sec/seal.h"
#include "sec/token.h"
#include "store/store.h"

#define MAX_NAME_CHARS 64
#define MAX_ATTRS 32

static bool email_ok(const char *s)
{
	const char *at = strchr(s, '@');
	if (!at || at == s || !at[1] || strchr(at + 1, '@'))
		return false;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '<' || *p == '>')
			return false;
	return true;
}

static bool attr_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 64)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' && *s != '-')
			return false;
	return true;
}

static int attributes(struct bw_ctx *c, json_t **out)
{
	const json_t *a = json_object_get(c->in, "attributes");
	*out = json_object();
	if (!a)
		return 0;
	if (!json_is_object(a) || json_object_size(a) > MAX_ATTRS) {
		bw_reply_error(c, 400, "InvalidParameter", "attributes is an object of at most 32 strings",
		               "attributes");
		return -1;
	}
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)a, k, v)
	{
		bool too_long = false;
		const char *s = json_string_value(v);
		if (!attr_name_ok(k) || !s || strlen(s) != json_string_length(v) ||
		    (s[0] && bw_cc_text_check(s, strlen(s), BW_FLOW_MAX_TEXT, &too_long))) {
			bw_reply_error(c, 400, "InvalidParameter",
			               "each attribute is a name of [A-Za-z0-9_.-]{1,64} and a text of at "
			               "most 1024 characters",
			               "attributes");
			return -1;
		}
		json_object_set_new(*out, k, json_string(s));
	}
	return 0;
}

static bool host_ok(const char *h)
{
	if (!h || !h[0] || strlen(h) > 255)
		return false;
	for (; *h; h++)
		if (!isalnum((unsigned char)*h) && !strchr(".-:[]", *h))
			return false;
	return true;
}

void bw_api_chats_create(struct bw_ctx *c)
{
	static const char *const fields[] = {"entry_point", "display_name", "email", "attributes",
	                                     NULL};
	const char *epid, *name, *email;
	struct bw_instance in = {0};
	struct bw_cc_new_contact n;
	memset(&n, 0, sizeof(n));
	if (bw_api_instance(c, &in) != 0)
		return;
	snprintf(c->audit_instance, sizeof(c->audit_instance), "%s", in.id);
	snprintf(c->audit_name, sizeof(c->audit_name), "customer");
	if (bw_api_public_guard(c, &in) != 0 || bw_api_only(c, fields) ||
	    bw_api_str(c, "entry_point", 1, 64, true, &epid) ||
	    bw_api_str(c, "display_name", 1, 256, true, &name) ||
	    bw_api_str(c, "email", 3, 254, false, &email) || attributes(c, &n.attributes))
		goto out;
	if (!bw_cc_name_ok(name, MAX_NAME_CHARS)) {
		bw_reply_error(c, 400, "InvalidParameter",
		               "display_name is 1 to 64 characters without control characters",
		               "display_name");
		goto out;
	}
	if (email && !email_ok(email)) {
		bw_reply_error(c, 400, "InvalidParameter", "email is not an e-mail address", "email");
		goto out;
	}
	if (!host_ok(c->req->host)) {
		bw_reply_error(c, 400, "InvalidParameter", "the Host header is not a host name", NULL);
		goto out;
	}
	if (bw_api_contact_prepare(c, &in, epid, "CHAT", &n) != 0)
		goto out;
	snprintf(n.display_name, sizeof(n.display_name), "%s", name);
	snprintf(n.email, sizeof(n.email), "%s", email ? email : "");
	struct bw_fraud_id ids[2];
	size_t nids = 0;
	ids[nids].kind = BW_FRAUD_ADDRESS;
	snprintf(ids[nids++].value, sizeof(ids[0].value), "%s", c->req->peer);
	if (email) {
		ids[nids].kind = BW_FRAUD_EMAIL;
		snprintf(ids[nids++].value, sizeof(ids[0].value), "%s", email);
	}
	if (bw_api_contact_seal(&n) != 0) {
		bw_reply_result(c, BW_ERR, NULL, NULL);
		goto out;
	}
	if (bw_api_contact_filter(c, in.id, ids, nids, &n.rec) != 0)
		goto out;

	char token[BW_TOKEN_LEN];
	uint8_t th[32];
	bw_token_new(BW_TOKEN_CUSTOMER, token);
	bw_token_hash(token, strlen(token), th);
	if (bw_api_contact_start(c, &n, th) == 0) {
		char url[320];
		snprintf(url, sizeof(url), "%s://%s/v1/public/chat", c->req->tls ? "wss" : "ws",
		         c->req->host);
		bw_reply_json(c, 201, json_pack("{s:s, s:s, s:s}", "contact_id", n.rec.id,
		                                "participant_token", token, "websocket_url", url));
	}
	sodium_memzero(token, sizeof(token));
out:
	bw_api_contact_free(&n);
	bw_instance_clear(&in);
}

void bw_api_chat_upgrade(struct bw_ctx *c)
{
	c->resp->ws_accept = true;
	c->resp->principal = c->who;
	c->resp->status = 101;
}
