/* Event subscriptions (C18, docs/api.md "Event subscriptions"): what an
 * instance streams to its sinks, and the outbox that makes it at least
 * once. Producers (the engine's writer, the public entry's block path, the
 * audit writer) prepare an event's rows outside their transaction (sealing
 * may write a data key through the keyring's own connection), write them
 * inside it, and wake the dispatcher after the commit. docs/internals/events.md. */
#ifndef BW_EVENTS_H
#define BW_EVENTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/result.h"
#include "store/store.h"

#define BW_EVENT_SUBS_MAX 32 /* subscriptions per instance */

/* One thing that happened, as its producer knows it. */
struct bw_event_src {
	const char *type;        /* "contact.ended", "contact.queued", "contact.blocked", "audit" */
	const char *instance_id;
	const json_t *data;      /* the audit event as the API shows it, or NULL and: */
	const struct bw_contact *contact; /* a record (customer data sealed): rendered
	                                   * only when a subscription takes it */
	const char *dedup_key;   /* contact id/last update ms, or the audit event id */
	long long time_ms;       /* when it happened */
	/* what filters judge; NULL or "" when the event has none */
	const char *queue_id, *channel, *agent_id;
};

/* The rows one event queues, one per subscription that takes it. */
struct bw_events_batch {
	struct bw_outbox_row *rows;
	size_t n, cap;
};

/* Adds e's rows to b: every enabled subscription of the instance whose
 * types and filters take it, its fields projected, sealed. Call outside a
 * transaction. BW_OK with nothing added when none takes it. */
BW_MUST_USE bw_result bw_events_prepare(struct bw_store *s, const struct bw_event_src *e,
                                        struct bw_events_batch *b);
/* Writes b's rows (inside the caller's transaction, or alone). */
BW_MUST_USE bw_result bw_events_write(struct bw_store *s, const struct bw_events_batch *b);
void bw_events_batch_clear(struct bw_events_batch *b);
/* After the commit: the dispatcher looks at the outbox now. */
void bw_events_notify(void);

/* A contact record as the events carry it: the API's view for a user
 * without SensitiveData.View under the instance's attribute classes now. */
json_t *bw_events_contact_data(struct bw_store *s, const struct bw_contact *c);

/* ---- the dispatcher (events/dispatch.c) ---- */
struct bw_events_settings {
	const char *nats_url;      /* NULL: no nats sink */
	const char *warehouse_url; /* NULL: no warehouse sink */
	long long retry_base_ms, retry_max_ms;
	int max_attempts;
	long long dead_retention_ms; /* dead letters go this long after their last try */
};
/* Starts the dispatcher thread with its own store connection. */
BW_MUST_USE bw_result bw_events_start(const char *db_path, int durability,
                                      const struct bw_events_settings *cfg);
/* Stops it; what is queued stays queued for the next start. */
void bw_events_stop(void);
/* Whether the server has that sink ("nats", "warehouse"; "webhook" always). */
bool bw_events_sink_configured(const char *type);
/* The metrics in Prometheus text (malloc'd; NULL when out of memory). */
char *bw_events_metrics_text(void);

#endif
