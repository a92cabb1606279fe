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

/* One delivery being made: its call, its signature, what came back. */
struct hook {
	struct bw_event_out *ev;
	struct bw_integ_call k;
	struct bw_egress_pending *pending;
	char *jwt;
	char cid[64];
};

/* Prepares and sends one event; false (ev->error set) when nothing went. */
static bool start_one(struct bw_store *s, const json_t *sink, struct hook *h)
{
	struct bw_event_out *ev = h->ev;
	const char *ig = json_string_value(json_object_get(sink, "integration_id"));
	const char *path = json_string_value(json_object_get(sink, "path"));
	char why[256];
	contact_of(ev, h->cid, sizeof(h->cid));
	bw_result r = bw_integ_call_open(s, ev->instance_id, ig ? ig : "", &h->k);
	if (r != BW_OK) {
		fail(ev, "webhook: %s",
		     r == BW_NOTFOUND ? "the integration is gone" : "the integration cannot be read");
		return false;
	}
	struct bw_role_claims cl = {.integration_id = h->k.row.id,
	                            .audience = h->k.row.base_url,
	                            .contact_id = h->cid[0] ? h->cid : NULL,
	                            .body = (const uint8_t *)ev->body,
	                            .body_len = ev->body_len};
	if (bw_role_token(s, ev->instance_id, &cl, &h->jwt) != BW_OK) {
		h->jwt = NULL;
		fail(ev, "webhook: %s", "no signature can be made for this instance");
		return false;
	}
	const struct bw_egress_header extra[3] = {
	    {"Bulwark-Event-Id", ev->event_id},
	    {"Bulwark-Event-Type", ev->type},
	    {"Bulwark-Signature", h->jwt},
	};
	struct bw_integ_call_spec spec = {.method = "POST",
	                                  .path = path ? path : "/",
	                                  .body = ev->body,
	                                  .body_len = ev->body_len,
	                                  .contact_id = h->cid[0] ? h->cid : NULL,
	                                  .extra = extra,
	                                  .nextra = 3};
	r = bw_integ_call_build(s, &h->k, &spec, why, sizeof(why));
	if (r != BW_OK) {
		fail(ev, "webhook: %s", r == BW_INVALID || r == BW_CONFLICT ? why : "cannot be sent");
		return false;
	}
	r = bw_egress_call_start(&h->k.req, &h->pending);
	if (r != BW_OK) {
		h->pending = NULL;
		fail(ev, "webhook: %s", r == BW_AGAIN ? "the server is stopping" : "cannot be sent");
		return false;
	}
	return true;
}

static void finish_one(struct hook *h)
{
	struct bw_egress_answer ans;
	struct bw_event_out *ev = h->ev;
	bw_egress_call_wait(h->pending, &ans);
	if (ans.resp.result != BW_EGRESS_OK)
		fail(ev, "webhook: %s", ans.resp.detail);
	else if (ans.resp.status < 200 || ans.resp.status > 299) {
		char st[16];
		snprintf(st, sizeof(st), "%d", ans.resp.status);
		fail(ev, "webhook: status %s", st);
	} else
		ev->ok = true;
	bw_egress_answer_clear(&ans);
}

static void hook_clear(struct hook *h)
{
	if (h->jwt) {
		sodium_memzero(h->jwt, strlen(h->jwt));
		free(h->jwt);
	}
	bw_integ_call_clear(&h->k);
	memset(h, 0, sizeof(*h));
}

void bw_events_webhook_deliver(struct bw_store *s, const json_t *const *sinks,
                               struct bw_event_out *ev, size_t n)
{
	struct hook *hooks = calloc(BW_EVENTS_WEBHOOK_WINDOW, sizeof(*hooks));
	if (!hooks) {
		for (size_t i = 0; i < n; i++)
			fail(&ev[i], "webhook: %s", "out of memory");
		return;
	}
	/* A window of calls out at once: prepared and started one after the
	 * other here, answered by the loop in parallel. */
	for (size_t at = 0; at < n; at += BW_EVENTS_WEBHOOK_WINDOW) {
		size_t w = n - at < BW_EVENTS_WEBHOOK_WINDOW ? n - at : BW_EVENTS_WEBHOOK_WINDOW;
		for (size_t i = 0; i < w; i++) {
			hooks[i].ev = &ev[at + i];
			if (!start_one(s, sinks[at + i], &hooks[i]))
				hooks[i].pending = NULL;
		}
		for (size_t i = 0; i < w; i++) {
			if (hooks[i].pending)
				finish_one(&hooks[i]);
			hook_clear(&hooks[i]);
		}
	}
	free(hooks);
}
