/* The webhook sink: each event POSTed to the integration the subscription
 * names (its address policy, TLS, time-out, size cap and auth), with a
 * role token over the body in Bulwark-Signature so that the receiver
 * checks it against the instance's JWKS with no shared secret. Calls are
 * started here and answered later (the dispatcher keeps many out at once
 * and is woken as each answer comes in). */
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

/* The contact id of a contact event (its dedup key's first part; "" for
 * audit). */
static void contact_of(const struct bw_event_out *ev, char *cid, size_t n)
{
	cid[0] = '\0';
	if (strncmp(ev->type, "contact.", 8) || !ev->dedup_key)
		return;
	snprintf(cid, n, "%.*s", (int)strcspn(ev->dedup_key, "/"), ev->dedup_key);
}

/* One delivery out: the egress call. Everything the request needed was
 * copied by the egress at the start, so only the answer is waited for. */
struct bw_webhook {
	struct bw_egress_pending *pending;
};

struct bw_webhook *bw_webhook_start(struct bw_store *s, const json_t *sink,
                                    struct bw_event_out *ev, void (*notify)(void *arg),
                                    void *arg)
{
	const char *ig = json_string_value(json_object_get(sink, "integration_id"));
	const char *path = json_string_value(json_object_get(sink, "path"));
	struct bw_integ_call k;
	struct bw_webhook *w = NULL;
	char why[256], cid[64];
	char *jwt = NULL;
	memset(&k, 0, sizeof(k));
	contact_of(ev, cid, sizeof(cid));
	bw_result r = bw_integ_call_open(s, ev->instance_id, ig ? ig : "", &k);
	if (r != BW_OK) {
		fail(ev, "webhook: %s",
		     r == BW_NOTFOUND ? "the integration is gone" : "the integration cannot be read");
		goto out;
	}
	struct bw_role_claims cl = {.integration_id = k.row.id,
	                            .audience = k.row.base_url,
	                            .contact_id = cid[0] ? cid : NULL,
	                            .body = (const uint8_t *)ev->body,
	                            .body_len = ev->body_len};
	if (bw_role_token(s, ev->instance_id, &cl, &jwt) != BW_OK) {
		jwt = NULL;
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
	w = calloc(1, sizeof(*w));
	if (!w) {
		fail(ev, "webhook: %s", "out of memory");
		goto out;
	}
	r = bw_egress_call_start_notify(&k.req, notify, arg, &w->pending);
	if (r != BW_OK) {
		free(w);
		w = NULL;
		fail(ev, "webhook: %s", r == BW_AGAIN ? "the server is stopping" : "cannot be sent");
	}
out:
	if (jwt) {
		sodium_memzero(jwt, strlen(jwt));
		free(jwt);
	}
	bw_integ_call_clear(&k);
	return w;
}

bool bw_webhook_poll(struct bw_webhook *w, struct bw_event_out *ev, bool *shutdown)
{
	struct bw_egress_answer ans;
	if (!bw_egress_call_poll(w->pending, &ans))
		return false;
	*shutdown = ans.resp.result == BW_EGRESS_SHUTDOWN;
	if (ans.resp.result != BW_EGRESS_OK)
		fail(ev, "webhook: %s", ans.resp.detail);
	else if (ans.resp.status < 200 || ans.resp.status > 299) {
		char st[16];
		snprintf(st, sizeof(st), "%d", ans.resp.status);
		fail(ev, "webhook: status %s", st);
	} else
		ev->ok = true;
	bw_egress_answer_clear(&ans);
	free(w);
	return true;
}
