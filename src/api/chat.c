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
#include "sec/cors.h"
#include "sec/isettings.h"
#include "sec/seal.h"
#include "sec/token.h"
#include "store/store.h"

#define MAX_NAME_CHARS 64
#define MAX_ATTRS 32

static bool name_ok(const char *s)
{
	size_t chars = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return false;
		chars += (*p & 0xc0) != 0x80;
	}
	return chars >= 1 && chars <= MAX_NAME_CHARS;
}

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

/* The queues and hours the flow document names, read now for the engine. */
static bw_result snapshots(struct bw_ctx *c, const char *iid, const json_t *doc,
                           struct bw_cc_new_contact *n)
{
	n->queues = calloc(BW_CC_MAX_SNAPSHOTS, sizeof(*n->queues));
	n->hours = calloc(BW_CC_MAX_SNAPSHOTS, sizeof(*n->hours));
	if (!n->queues || !n->hours)
		return BW_NOMEM;
	size_t i;
	json_t *act;
	json_array_foreach(json_object_get(doc, "Actions"), i, act)
	{
		const json_t *p = json_object_get(act, "Parameters");
		const char *qid = json_string_value(json_object_get(p, "QueueId"));
		const char *hid = json_string_value(json_object_get(p, "HoursOfOperationId"));
		struct bw_queue q;
		if (qid && n->nqueues < BW_CC_MAX_SNAPSHOTS &&
		    bw_store_queue_get(c->store, iid, qid, &q) == BW_OK) {
			struct bw_cc_queue_snap *s = &n->queues[n->nqueues++];
			snprintf(s->id, sizeof(s->id), "%s", q.id);
			s->max_contacts = q.max_contacts;
		}
		struct bw_hoo h = {0};
		if (hid && n->nhours < BW_CC_MAX_SNAPSHOTS &&
		    bw_store_hoo_get(c->store, iid, hid, &h) == BW_OK) {
			struct bw_cc_hours_snap *s = &n->hours[n->nhours];
			snprintf(s->id, sizeof(s->id), "%s", h.id);
			if (bw_api_hours_of(&h, &s->hours) == 0)
				n->nhours++;
		}
		bw_hoo_clear(&h);
	}
	return BW_OK;
}

/* The entry point's flow at its latest version; 400 naming entry_point. */
static int load_flow(struct bw_ctx *c, const char *iid, const struct bw_entry_point *ep,
                     struct bw_cc_new_contact *n)
{
	struct bw_flow_def f = {0};
	struct bw_flow_version v = {0};
	json_t *doc = NULL;
	bw_result r = bw_store_flow_get(c->store, iid, ep->flow_id, &f);
	if (r == BW_OK && f.latest_version < 1)
		r = BW_NOTFOUND;
	if (r == BW_OK)
		r = bw_store_flow_version_get(c->store, iid, f.id, f.latest_version, &v);
	if (r == BW_OK && !(doc = json_loads(v.content, 0, NULL)))
		r = BW_ERR;
	if (r == BW_OK && bw_flow_load(doc, &n->flow, NULL) != BW_OK)
		r = BW_ERR;
	if (r == BW_OK)
		r = snapshots(c, iid, doc, n);
	if (r == BW_OK) {
		snprintf(n->rec.flow_id, sizeof(n->rec.flow_id), "%s", f.id);
		n->rec.flow_version = f.latest_version;
	}
	json_decref(doc);
	bw_flow_def_clear(&f);
	bw_flow_version_clear(&v);
	if (r == BW_NOTFOUND)
		bw_reply_error(c, 400, "InvalidParameter",
		               "the entry point's flow has no published version", "entry_point");
	else if (r != BW_OK)
		bw_reply_result(c, r, NULL, NULL);
	return r == BW_OK ? 0 : -1;
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

static void free_new(struct bw_cc_new_contact *n)
{
	bw_flow_free(n->flow);
	json_decref(n->attributes);
	free(n->queues);
	free(n->hours);
}

static int origin_check(struct bw_ctx *c, const struct bw_instance *in)
{
	struct bw_isettings st;
	bw_isettings_parse(in->settings, &st);
	enum bw_cors k = bw_cors_check(&st, c->req->origin);
	if (k == BW_CORS_DENY) {
		bw_reply_error(c, 403, "AccessDenied", "this origin is not approved for the instance",
		               NULL);
		return -1;
	}
	if (k == BW_CORS_ALLOW) {
		char h[512];
		if (bw_cors_headers(c->req->origin, false, NULL, h, sizeof(h)) > 0 &&
		    c->resp->extra_len + strlen(h) < sizeof(c->resp->extra)) {
			memcpy(c->resp->extra + c->resp->extra_len, h, strlen(h));
			c->resp->extra_len += strlen(h);
		}
	}
	return 0;
}

void bw_api_chats_create(struct bw_ctx *c)
{
	static const char *const fields[] = {"entry_point", "display_name", "email", "attributes",
	                                     NULL};
	const char *iid = c->req->params[0], *epid, *name, *email;
	struct bw_instance in = {0};
	struct bw_entry_point ep;
	struct bw_cc_new_contact n;
	memset(&n, 0, sizeof(n));
	if (bw_api_instance(c, &in) != 0)
		return;
	snprintf(c->audit_instance, sizeof(c->audit_instance), "%s", in.id);
	snprintf(c->audit_name, sizeof(c->audit_name), "customer");
	if (origin_check(c, &in) != 0 || bw_api_only(c, fields) ||
	    bw_api_str(c, "entry_point", 1, 64, true, &epid) ||
	    bw_api_str(c, "display_name", 1, 256, true, &name) ||
	    bw_api_str(c, "email", 3, 254, false, &email) || attributes(c, &n.attributes))
		goto out;
	if (!name_ok(name)) {
		bw_reply_error(c, 400, "InvalidParameter",
		               "display_name is 1 to 64 characters without control characters",
		               "display_name");
		goto out;
	}
	if (email && !email_ok(email)) {
		bw_reply_error(c, 400, "InvalidParameter", "email is not an e-mail address", "email");
		goto out;
	}
	bw_result r = bw_api_id_ok(epid) ? bw_store_ep_get(c->store, iid, epid, &ep) : BW_NOTFOUND;
	if (r == BW_OK && strcmp(ep.type, "CHAT") != 0)
		r = BW_NOTFOUND;
	if (r != BW_OK) {
		bw_reply_error(c, 400, "InvalidParameter", "no CHAT entry point of this instance has that id",
		               "entry_point");
		goto out;
	}
	if (load_flow(c, iid, &ep, &n) != 0)
		goto out;
	if (!host_ok(c->req->host)) {
		bw_reply_error(c, 400, "InvalidParameter", "the Host header is not a host name", NULL);
		goto out;
	}

	char token[BW_TOKEN_LEN];
	uint8_t th[32];
	bw_token_new(BW_TOKEN_CUSTOMER, token);
	bw_token_hash(token, strlen(token), th);
	struct bw_contact *rec = &n.rec;
	bw_id_new(rec->id, "ct_");
	snprintf(rec->instance_id, sizeof(rec->instance_id), "%s", iid);
	snprintf(rec->channel, sizeof(rec->channel), "CHAT");
	snprintf(rec->initiation_method, sizeof(rec->initiation_method), "API");
	snprintf(rec->state, sizeof(rec->state), "INITIATED");
	snprintf(rec->entry_point_id, sizeof(rec->entry_point_id), "%s", ep.id);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	rec->initiated_at = rec->updated_at = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	snprintf(n.display_name, sizeof(n.display_name), "%s", name);
	snprintf(n.email, sizeof(n.email), "%s", email ? email : "");
	snprintf(n.address, sizeof(n.address), "%s", c->req->peer);
	snprintf(n.region, sizeof(n.region), "%s", ep.default_region[0] ? ep.default_region
	                                                                   : in.default_region);
	char *cj = bw_cc_customer_json(n.display_name, n.email, n.address, n.attributes);
	r = cj ? bw_seal(iid, "contacts", rec->id, "customer", (const uint8_t *)cj, strlen(cj),
	                 &rec->customer, &rec->customer_len)
	       : BW_NOMEM;
	if (cj) {
		sodium_memzero(cj, strlen(cj));
		free(cj);
	}
	if (r == BW_OK)
		r = bw_store_contact_put(c->store, rec, th);
	free(rec->customer);
	rec->customer = NULL;
	if (r == BW_OK)
		r = bw_cc_contact_add(&n);
	if (r != BW_OK) {
		sodium_memzero(token, sizeof(token));
		bw_reply_result(c, r, NULL, NULL);
		goto out;
	}
	char url[320];
	snprintf(url, sizeof(url), "%s://%s/v1/public/chat", c->req->tls ? "wss" : "ws",
	         c->req->host);
	bw_reply_json(c, 201, json_pack("{s:s, s:s, s:s}", "contact_id", rec->id,
	                                "participant_token", token, "websocket_url", url));
	sodium_memzero(token, sizeof(token));
out:
	free_new(&n);
	bw_instance_clear(&in);
}

void bw_api_chat_upgrade(struct bw_ctx *c)
{
	c->resp->ws_accept = true;
	c->resp->principal = c->who;
	c->resp->status = 101;
}
