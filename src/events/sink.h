/* The sinks of event subscriptions (C19, docs/api.md "Event subscriptions"):
 * where the dispatcher (events/dispatch.c) hands each due event. Every
 * deliver call runs on the dispatcher's thread only, may block (within a
 * bounded time: each sink sets its own time-outs), and answers every event
 * of the batch: ok, or an error sentence that names no secret and no event
 * content ("nats: no responders", "warehouse: connection refused"). */
#ifndef BW_EVENTS_SINK_H
#define BW_EVENTS_SINK_H

#include <stdbool.h>
#include <stddef.h>

#include "core/result.h"

struct bw_event_out {
	long long outbox_id;      /* the dispatcher's row */
	const char *instance_id;  /* "in_…" */
	const char *subscription_id; /* "es_…" */
	const char *type;         /* "contact.ended", "contact.queued", "contact.blocked", "audit" */
	const char *event_id;     /* "et_…": the same on every retry */
	const char *dedup_key;    /* "<contact id>/<last update ms>", or the audit event's id */
	const char *body;         /* the envelope JSON (docs/api.md), body_len bytes */
	size_t body_len;
	bool ok;                  /* out: the sink has it */
	char error[160];          /* out, when !ok */
};

/* NATS JetStream (events/sink_nats.c). start copies the URL and returns at
 * once (the connection is made at the first delivery and again after a
 * loss). deliver publishes each event to bulwark.<iid>.<type> with
 * Nats-Msg-Id "<subscription id>/<event id>", creating the instance's
 * stream BULWARK_<iid> (subjects bulwark.<iid>.>) when missing, and marks
 * ok those the stream acknowledged. */
BW_MUST_USE bw_result bw_sink_nats_start(const char *url);
void bw_sink_nats_deliver(struct bw_event_out *ev, size_t n);
void bw_sink_nats_stop(void);

/* The PostgreSQL warehouse (events/sink_pg.c): upserts each contact.ended
 * event's record into bulwark_contact_records (made when missing) in one
 * transaction per batch; a newer last_update_time is never overwritten by
 * an older one. The conninfo may hold a password: never logged. */
BW_MUST_USE bw_result bw_sink_pg_start(const char *conninfo);
void bw_sink_pg_deliver(struct bw_event_out *ev, size_t n);
void bw_sink_pg_stop(void);

#endif
