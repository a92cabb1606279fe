/* The webhook sink: each event POSTed to the integration the subscription
 * names (its address policy, TLS, time-out, size cap and auth), with a
 * role token over the body in Bulwark-Signature so that the receiver
 * checks it against the instance's JWKS with no shared secret. One call
 * at a time on the dispatcher's thread (bw_egress_call waits). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/events_int.h"
#include "integ/call.h"
#include "integ/role.h"

static void fail(struct bw_event_out *ev, const char *fmt, const char *detail)
{
	char m[512];
	ev->ok = false;
	snprintf(m, sizeof(m), fmt, detail);
	snprintf(ev->error, sizeof(ev->error), "%.159s", m);
}

/* The contact id of a contact event's envelope ("" for audit). */
static void contact_of(const struct bw_event_out *ev, char *cid, size_t n)
{
	cid[0] = '\0';
	if (strncmp(ev->type, "contact.", 8))
		return;
	json_t *env = json_loadb(ev->body, ev->body_len, 0, NULL);
	const char *k = json_string_value(json_object_get(env, "dedup_key"));
	if (k)
		snprintf(cid, n, "%.*s", (int)strcspn(k, "/"), k);
	json_decref(env);
}

static void deliver_one(struct bw_store *s, const json_t *sink, struct bw_event_out *ev)
{
	const char *ig = json_string_value(json_object_get(sink, "integration_id"));
	const char *path = json_string_value(json_object_get(sink, "path"));
	struct bw_integ_call k;
	struct bw_egress_answer ans;
	char why[256], cid[64];
	char *jwt = NULL;
	memset(&k, 0, sizeof(k));
	memset(&ans, 0, sizeof(ans));
	contact_of(ev, cid, sizeof(cid));
	bw_result r = bw_integ_call_open(s, ev->instance_id, ig ? ig : "", &k);
	if (r == BW_NOTFOUND) {
		fail(ev, "webhook: %s", "the integration is gone");
		goto out;
	}
	if (r != BW_OK) {
		fail(ev, "webhook: %s", "the integration cannot be read");
		goto out;
	}
	struct bw_role_claims cl = {.integration_id = k.row.id,
	                            .audience = k.row.base_url,
	                            .contact_id = cid[0] ? cid : NULL,
	                            .body = (const uint8_t *)ev->body,
	                            .body_len = ev->body_len};
	if (bw_role_token(s, ev->instance_id, &cl, &jwt) != BW_OK) {
		fail(ev, "webhook: %s", "no signature can be made for this instance");
		goto out;
	}
	const struct bw_egress_header extra[3] = {
	    {"Bulwark-Event-Id", ev->event_id},
	    {"Bulwark-Event-Type", ev->type},
	    {"Bulwark-Signature", jwt},
	};
	struct bw_integ_call_spec spec = {.method = "POST",
	                                  .path = path ? path : "/",
	                                  .body = ev->body,
	                                  .body_len = ev->body_len,
	                                  .contact_id = cid[0] ? cid : NULL,
	                                  .extra = extra,
	                                  .nextra = 3};
	r = bw_integ_call_build(s, &k, &spec, why, sizeof(why));
	if (r != BW_OK) {
		fail(ev, "webhook: %s", r == BW_INVALID || r == BW_CONFLICT ? why : "cannot be sent");
		goto out;
	}
	r = bw_egress_call(&k.req, &ans);
	if (r == BW_AGAIN)
		fail(ev, "webhook: %s", "the server is stopping");
	else if (r != BW_OK)
		fail(ev, "webhook: %s", "cannot be sent");
	else if (ans.resp.result != BW_EGRESS_OK)
		fail(ev, "webhook: %s", ans.resp.detail);
	else if (ans.resp.status < 200 || ans.resp.status > 299) {
		char st[16];
		snprintf(st, sizeof(st), "%d", ans.resp.status);
		fail(ev, "webhook: status %s", st);
	} else
		ev->ok = true;
out:
	if (jwt) {
		sodium_memzero(jwt, strlen(jwt));
		free(jwt);
	}
	bw_egress_answer_clear(&ans);
	bw_integ_call_clear(&k);
}

void bw_events_webhook_deliver(struct bw_store *s, const json_t *sink, struct bw_event_out *ev,
                               size_t n)
{
	for (size_t i = 0; i < n; i++)
		deliver_one(s, sink, &ev[i]);
}
