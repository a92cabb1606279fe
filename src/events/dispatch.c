/* The dispatcher: one thread with its own store connection takes the due
 * rows of the outbox, opens them, hands each sink its share, and settles
 * every row in one transaction: delivered rows go, failed ones wait
 * (doubling, with jitter) or, out of tries, stay as dead letters. It
 * sleeps until the earliest retry or until a producer calls
 * bw_events_notify. What is queued survives a stop or a crash: the
 * outbox is the queue. */
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/metrics.h"
#include "events/events.h"
#include "events/events_int.h"
#include "events/subs.h"
#include "sec/seal.h"

#define BATCH 256
#define IDLE_MS 60000

enum { SINK_WEBHOOK, SINK_NATS, SINK_WAREHOUSE, SINK_COUNT };
static const char *const sink_names[SINK_COUNT] = {"webhook", "nats", "warehouse"};

static struct {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool running, stopping, kicked;
	struct bw_store *store;
	bool nats, warehouse;
	long long base_ms, max_ms;
	int max_attempts;
} D = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static atomic_ullong delivered[SINK_COUNT], failed[SINK_COUNT], dead[SINK_COUNT];
static atomic_llong pending_gauge;

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void bw_events_notify(void)
{
	pthread_mutex_lock(&D.mu);
	D.kicked = true;
	pthread_cond_signal(&D.cv);
	pthread_mutex_unlock(&D.mu);
}

bool bw_events_sink_configured(const char *type)
{
	return !strcmp(type, "webhook") || (!strcmp(type, "nats") && D.nats) ||
	       (!strcmp(type, "warehouse") && D.warehouse);
}

/* The wait before try number `attempts` + 1: base doubling, capped, ±20%. */
static long long backoff(int attempts)
{
	long long d = D.base_ms;
	for (int i = 1; i < attempts && d < D.max_ms; i++)
		d *= 2;
	if (d > D.max_ms)
		d = D.max_ms;
	long long spread = d / 5;
	if (spread > 0)
		d += (long long)randombytes_uniform((uint32_t)(2 * spread + 1)) - spread;
	return d > 0 ? d : 1;
}

/* One row being delivered: its opened envelope and its subscription's sink. */
struct item {
	struct bw_outbox_row *row;
	uint8_t *body;
	size_t body_len;
	json_t *sink; /* borrowed from the subscription cache */
	int kind;
	struct bw_event_out out;
};

struct sub_cache {
	char id[48];
	json_t *cfg; /* NULL: gone or unreadable */
};

static json_t *sub_config(struct sub_cache *c, size_t *nc, const struct bw_outbox_row *r)
{
	for (size_t i = 0; i < *nc; i++)
		if (!strcmp(c[i].id, r->subscription_id))
			return c[i].cfg;
	struct bw_event_sub_row s;
	json_t *cfg = NULL;
	if (bw_store_event_sub_get(D.store, r->instance_id, r->subscription_id, &s) == BW_OK)
		cfg = bw_event_sub_config_load(s.config);
	bw_event_sub_row_clear(&s);
	snprintf(c[*nc].id, sizeof(c[*nc].id), "%s", r->subscription_id);
	c[(*nc)++].cfg = cfg;
	return cfg;
}

static int sink_kind(const json_t *sink)
{
	const char *t = json_string_value(json_object_get(sink, "type"));
	for (int k = 0; t && k < SINK_COUNT; k++)
		if (!strcmp(t, sink_names[k]))
			return k;
	return -1;
}

/* Opens the row and finds its sink; false with out.error when it cannot. */
static bool open_item(struct item *it, struct sub_cache *cache, size_t *nc)
{
	struct bw_outbox_row *r = it->row;
	char row[112];
	it->out = (struct bw_event_out){.outbox_id = r->seq,
	                                .instance_id = r->instance_id,
	                                .subscription_id = r->subscription_id,
	                                .type = r->type,
	                                .event_id = r->id};
	json_t *cfg = sub_config(cache, nc, r);
	it->sink = json_object_get(cfg, "sink");
	it->kind = sink_kind(it->sink);
	if (it->kind < 0) {
		snprintf(it->out.error, sizeof(it->out.error), "the subscription cannot be read");
		return false;
	}
	snprintf(row, sizeof(row), "%s/%s", r->subscription_id, r->id);
	if (bw_unseal(r->instance_id, "event_outbox", row, "payload", r->payload, r->payload_len,
	              &it->body, &it->body_len) != BW_OK) {
		it->body = NULL;
		snprintf(it->out.error, sizeof(it->out.error),
		         "the event does not open (its instance's keys are gone or it was altered)");
		return false;
	}
	it->out.body = (const char *)it->body;
	it->out.body_len = it->body_len;
	return true;
}

/* Hands every opened item of one sink to it as one batch. */
static void deliver(struct item *items, size_t n, int kind)
{
	struct bw_event_out *outs = calloc(n ? n : 1, sizeof(*outs));
	size_t *idx = calloc(n ? n : 1, sizeof(*idx));
	const json_t **sinks = calloc(n ? n : 1, sizeof(*sinks));
	size_t k = 0;
	if (!outs || !idx || !sinks) {
		free(outs);
		free(idx);
		free(sinks);
		for (size_t i = 0; i < n; i++)
			if (items[i].kind == kind && items[i].body)
				snprintf(items[i].out.error, sizeof(items[i].out.error), "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (items[i].kind == kind && items[i].body) {
			idx[k] = i;
			sinks[k] = items[i].sink;
			outs[k++] = items[i].out;
		}
	if (k && kind == SINK_NATS)
		bw_sink_nats_deliver(outs, k);
	else if (k && kind == SINK_WAREHOUSE)
		bw_sink_pg_deliver(outs, k);
	else if (k)
		bw_events_webhook_deliver(D.store, sinks, outs, k);
	for (size_t i = 0; i < k; i++)
		items[idx[i]].out = outs[i];
	free(outs);
	free(idx);
	free(sinks);
}

static void settle(struct item *items, size_t n)
{
	struct bw_outbox_result *res = calloc(n, sizeof(*res));
	long long now = now_ms();
	if (!res)
		return; /* the rows stay due: tried again */
	for (size_t i = 0; i < n; i++) {
		struct item *it = &items[i];
		int k = it->kind >= 0 ? it->kind : SINK_WEBHOOK;
		res[i].seq = it->row->seq;
		res[i].subscription_id = it->row->subscription_id;
		res[i].ok = it->out.ok;
		if (it->out.ok) {
			delivered[k]++;
			continue;
		}
		if (!it->out.error[0])
			snprintf(it->out.error, sizeof(it->out.error), "%s: not delivered", sink_names[k]);
		res[i].attempts = it->row->attempts + 1;
		res[i].dead = res[i].attempts >= D.max_attempts;
		res[i].next_at = now + backoff(res[i].attempts);
		res[i].error = it->out.error;
		failed[k]++;
		if (res[i].dead) {
			dead[k]++;
			bw_log(BW_LOG_WARN, "an event is a dead letter", "subscription",
			       it->row->subscription_id, "event", it->row->id, "error", it->out.error);
		}
	}
	if (bw_store_outbox_settle(D.store, res, n, now) != BW_OK)
		bw_log(BW_LOG_ERROR, "event deliveries could not be recorded; they will be sent again");
	free(res);
}

/* One batch of due rows; how many there were. */
static size_t run_batch(void)
{
	struct bw_outbox_row *rows = calloc(BATCH, sizeof(*rows));
	struct item *items = calloc(BATCH, sizeof(*items));
	struct sub_cache *cache = calloc(BATCH, sizeof(*cache));
	size_t n = 0, nc = 0;
	if (!rows || !items || !cache ||
	    bw_store_outbox_due(D.store, now_ms(), rows, BATCH, &n) != BW_OK)
		n = 0;
	for (size_t i = 0; i < n; i++) {
		items[i].row = &rows[i];
		bw_ignore(open_item(&items[i], cache, &nc));
	}
	for (int k = 0; k < SINK_COUNT && n; k++)
		deliver(items, n, k);
	if (n)
		settle(items, n);
	for (size_t i = 0; i < n; i++) {
		if (items[i].body)
			bw_unseal_free(items[i].body);
		bw_outbox_row_clear(&rows[i]);
	}
	for (size_t i = 0; i < nc; i++)
		json_decref(cache[i].cfg);
	free(rows);
	free(items);
	free(cache);
	return n;
}

/* The gauge: rows waiting now, retries included. */
static void refresh_pending(void)
{
	long long p = 0, d = 0;
	if (bw_store_outbox_counts(D.store, NULL, NULL, &p, &d) == BW_OK)
		pending_gauge = p;
}

static void *dispatcher_main(void *arg)
{
	(void)arg;
	for (;;) {
		size_t n = run_batch();
		refresh_pending();
		long long wake = 0;
		if (n < BATCH) { /* nothing more due now: sleep until the next try */
			long long next = 0;
			if (bw_store_outbox_next_at(D.store, &next) != BW_OK)
				next = 0;
			wake = next ? next : now_ms() + IDLE_MS;
		}
		pthread_mutex_lock(&D.mu);
		while (!D.stopping && !D.kicked && wake > now_ms()) {
			struct timespec ts = {.tv_sec = wake / 1000, .tv_nsec = (wake % 1000) * 1000000};
			if (pthread_cond_timedwait(&D.cv, &D.mu, &ts) == ETIMEDOUT)
				break;
		}
		bool stop = D.stopping;
		D.kicked = false;
		pthread_mutex_unlock(&D.mu);
		if (stop)
			break;
	}
	return NULL;
}

bw_result bw_events_start(const char *db_path, int durability,
                          const struct bw_events_settings *cfg)
{
	bw_result r = bw_store_open(&D.store, db_path,
	                            durability ? BW_DURABILITY_FULL : BW_DURABILITY_NORMAL);
	if (r != BW_OK)
		return r;
	D.base_ms = cfg->retry_base_ms;
	D.max_ms = cfg->retry_max_ms;
	D.max_attempts = cfg->max_attempts;
	D.nats = cfg->nats_url && cfg->nats_url[0];
	D.warehouse = cfg->warehouse_url && cfg->warehouse_url[0];
	if ((D.nats && bw_sink_nats_start(cfg->nats_url) != BW_OK) ||
	    (D.warehouse && bw_sink_pg_start(cfg->warehouse_url) != BW_OK)) {
		bw_store_close(D.store);
		D.store = NULL;
		return BW_ERR;
	}
	D.stopping = D.kicked = false;
	if (pthread_create(&D.thread, NULL, dispatcher_main, NULL) != 0) {
		bw_store_close(D.store);
		D.store = NULL;
		return BW_ERR;
	}
	D.running = true;
	return BW_OK;
}

void bw_events_stop(void)
{
	if (!D.running)
		return;
	pthread_mutex_lock(&D.mu);
	D.stopping = true;
	pthread_cond_signal(&D.cv);
	pthread_mutex_unlock(&D.mu);
	pthread_join(D.thread, NULL);
	D.running = false;
	if (D.nats)
		bw_sink_nats_stop();
	if (D.warehouse)
		bw_sink_pg_stop();
	bw_store_close(D.store);
	D.store = NULL;
}

char *bw_events_metrics_text(void)
{
	struct bw_metrics_text b = {0};
	static const char *const what[3][2] = {
	    {"delivered", "events a sink took"},
	    {"failed", "event deliveries that failed (each is tried again until a dead letter)"},
	    {"dead", "events that ran out of tries (dead letters)"}};
	atomic_ullong *arrays[3] = {delivered, failed, dead};
	for (int w = 0; w < 3; w++) {
		bw_metrics_printf(&b, "# HELP bulwark_events_%s_total %s\n# TYPE bulwark_events_%s_total "
		                      "counter\n",
		                  what[w][0], what[w][1], what[w][0]);
		for (int k = 0; k < SINK_COUNT; k++)
			bw_metrics_printf(&b, "bulwark_events_%s_total{sink=\"%s\"} %llu\n", what[w][0],
			                  sink_names[k], (unsigned long long)arrays[w][k]);
	}
	bw_metrics_printf(&b, "# HELP bulwark_events_pending events waiting for delivery, retries "
	                      "included\n# TYPE bulwark_events_pending gauge\nbulwark_events_pending "
	                      "%lld\n",
	                  (long long)pending_gauge);
	return b.buf;
}
