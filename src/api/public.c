/* The checks every public (customer) route runs before any flow, in the
 * order API.md gives: deny list → approved origin → per-address throttle →
 * contact filter (C10, C6). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "events/events.h"
#include "core/ids.h"
#include "core/log.h"
#include "fraud/fraud.h"
#include "sec/cors.h"
#include "sec/isettings.h"
#include "store/store.h"

static void add_header_lines(struct bw_ctx *c, const char *h)
{
	size_t n = strlen(h);
	if (c->resp->extra_len + n < sizeof(c->resp->extra)) {
		memcpy(c->resp->extra + c->resp->extra_len, h, n);
		c->resp->extra_len += n;
	}
}

int bw_api_public_guard(struct bw_ctx *c, const struct bw_instance *in)
{
	bool denied = c->req->guard.denied;
	int retry = c->req->guard.retry_after_s;
	if (!c->req->guard.done) /* judged on the loop already when it came without Origin */
		bw_guard_public(in->id, c->req->peer, &denied, &retry);
	if (denied) {
		bw_reply_error(c, 403, "ContactBlocked",
		               "contacts from this address are not accepted", NULL);
		return -1;
	}
	struct bw_isettings st;
	bw_isettings_parse(in->settings, &st);
	enum bw_cors k = bw_cors_check(&st, c->req->origin);
	if (k == BW_CORS_DENY) {
		bw_reply_error(c, 403, "AccessDenied", "this origin is not approved for the instance",
		               NULL);
		return -1;
	}
	char h[512];
	if (k == BW_CORS_ALLOW && bw_cors_headers(c->req->origin, false, NULL, h, sizeof(h)) > 0)
		add_header_lines(c, h);
	if (k == BW_CORS_ALLOW && c->req->origin)
		bw_api_origin_note(c, in->id, c->req->origin);
	if (retry > 0) {
		char s[16];
		snprintf(s, sizeof(s), "%d", retry);
		bw_reply_error(c, 429, "Throttled", "too many requests from this address; retry later",
		               NULL);
		bw_reply_header(c, "Retry-After", s);
		return -1;
	}
	return 0;
}

/* OPTIONS on a public path: the CORS preflight. */
void bw_api_public_preflight(struct bw_ctx *c)
{
	struct bw_instance in = {0};
	if (bw_api_instance(c, &in) != 0)
		return;
	struct bw_isettings st;
	bw_isettings_parse(in.settings, &st);
	bw_instance_clear(&in);
	enum bw_cors k = bw_cors_check(&st, c->req->origin);
	if (k == BW_CORS_NONE) { /* not a browser's preflight: nothing to allow */
		bw_reply_empty(c, 204);
		return;
	}
	if (k != BW_CORS_ALLOW) {
		bw_reply_error(c, 403, "AccessDenied", "this origin is not approved for the instance",
		               NULL);
		return;
	}
	char h[512];
	if (bw_cors_headers(c->req->origin, true, "POST, OPTIONS", h, sizeof(h)) > 0)
		add_header_lines(c, h);
	bw_reply_empty(c, 204);
}

static void store_refusal(struct bw_ctx *c, const struct bw_fraud_verdict *v,
                          const struct bw_fraud_rule *rule, struct bw_contact *rec)
{
	if (v->listed.id[0]) {
		struct bw_deny_row d;
		memset(&d, 0, sizeof(d));
		snprintf(d.id, sizeof(d.id), "%s", v->listed.id);
		snprintf(d.instance_id, sizeof(d.instance_id), "%s", v->listed.instance_id);
		snprintf(d.type, sizeof(d.type), "%s", bw_fraud_kind_name(v->listed.kind));
		snprintf(d.value, sizeof(d.value), "%s", v->listed.value);
		if (rule)
			snprintf(d.reason, sizeof(d.reason),
			         "contact filter: more than %d contacts in %d s", rule->limit,
			         rule->window_s);
		snprintf(d.source, sizeof(d.source), "AUTOMATIC");
		d.expires_at = v->listed.expires_ms;
		d.created_at = rec->initiated_at;
		bw_ignore(bw_store_deny_insert(c->store, &d));
	}
	/* The refused contact has a record, which never ran a flow. */
	snprintf(rec->state, sizeof(rec->state), "ENDED");
	snprintf(rec->disconnect_reason, sizeof(rec->disconnect_reason), "CONTACT_FILTER");
	rec->disconnected_at = rec->updated_at = rec->initiated_at;
	/* Its events (C18) are queued with it: prepared first (sealing may
	 * write a data key), written in the same transaction. */
	char key[112];
	snprintf(key, sizeof(key), "%s/%lld", rec->id, rec->updated_at);
	struct bw_events_batch evs = {0};
	struct bw_event_src e = {.type = "contact.blocked",
	                         .instance_id = rec->instance_id,
	                         .contact = rec,
	                         .dedup_key = key,
	                         .time_ms = rec->updated_at,
	                         .channel = rec->channel};
	bw_result r = bw_events_prepare(c->store, &e, &evs);
	e.type = "contact.ended";
	if (r == BW_OK)
		r = bw_events_prepare(c->store, &e, &evs);
	if (r != BW_OK)
		bw_log(BW_LOG_ERROR, "a blocked contact's events could not be queued", "contact",
		       rec->id);
	bool batch = bw_store_batch_begin(c->store) == BW_OK;
	r = bw_store_contact_put(c->store, rec, NULL);
	if (r == BW_OK)
		r = bw_events_write(c->store, &evs);
	if (batch)
		r = bw_store_batch_end(c->store, r);
	if (r == BW_OK && evs.n)
		bw_events_notify();
	bw_events_batch_clear(&evs);
}

int bw_api_contact_filter(struct bw_ctx *c, const char *iid, const struct bw_fraud_id *ids,
                          size_t nids, struct bw_contact *rec)
{
	char *json = NULL;
	struct bw_fraud_filter f;
	bw_result r = bw_store_filter_get(c->store, iid, &json);
	bw_fraud_filter_parse(r == BW_OK ? json : NULL, &f);
	free(json);
	struct bw_fraud_verdict v;
	bw_guard_contact(iid, &f, ids, nids, &v);
	if (v.blocked) {
		const struct bw_fraud_rule *rule = NULL;
		for (size_t i = 0; i < f.nrules; i++)
			if (f.rules[i].kind == v.kind)
				rule = &f.rules[i];
		store_refusal(c, &v, v.by_deny_list ? NULL : rule, rec);
		c->audit_action = "contact_filter.blocked";
		bw_reply_error(c, 403, "ContactBlocked", "this contact is not accepted", NULL);
		return -1;
	}
	if (v.would_block)
		c->audit_action = "contact_filter.dry_run";
	struct bw_history_row h[BW_FRAUD_KINDS];
	for (size_t i = 0; i < v.ncounted; i++) {
		snprintf(h[i].instance_id, sizeof(h[i].instance_id), "%s", iid);
		h[i].kind = (int)v.counted_kind[i];
		memcpy(h[i].key, v.counted[i], sizeof(h[i].key));
		h[i].at = rec->initiated_at;
	}
	if (v.ncounted && bw_store_history_add(c->store, h, v.ncounted) != BW_OK) {
		bw_reply_result(c, BW_ERR, NULL, NULL);
		return -1;
	}
	return 0;
}
