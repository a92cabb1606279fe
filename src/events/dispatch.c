/* The dispatcher: one thread per kind of sink (webhook, nats, warehouse),
 * each with its own store connection, so that a sink that is slow or down
 * holds up only its own kind. A lane lists the subscriptions of its kind
 * with waiting rows, takes each one's due rows, opens them, and hands them
 * to the sink. NATS and warehouse batches are answered at once; webhooks
 * are started (up to BW_EVENTS_WEBHOOK_WINDOW per subscription, leased so
 * that they are not due again meanwhile) and settled as their answers come
 * in, so a receiver that hangs delays only its own subscription. Settling
 * deletes delivered rows and gives failed ones their next try (doubling,
 * with jitter) or, out of tries, leaves them as dead letters. A lane sleeps
 * until its earliest next try, a notify from a producer, or an answer.
 * What is queued survives a stop or a crash: the outbox is the queue. */
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/ids.h"
#include "core/log.h"
#include "core/metrics.h"
#include "events/events.h"
#include "events/events_int.h"
#include "events/subs.h"
#include "sec/seal.h"

#define BATCH 256
#define SUBS_MAX 256
#define IDLE_MS 60000
#define LEASE_MS (30000 + 5000) /* the longest integration time-out, and some */

enum { SINK_WEBHOOK, SINK_NATS, SINK_WAREHOUSE, SINK_COUNT };
static const char *const sink_names[SINK_COUNT] = {"webhook", "nats", "warehouse"};

struct lane {
	int kind;
	pthread_t thread;
	pthread_cond_t cv; /* under D.mu */
	bool kicked, started;
	struct bw_store *store;
};

/* A webhook out (the webhook lane's alone). */
struct flight {
	struct flight *next;
	struct bw_webhook *w;
	long long seq;
	int attempts;
	char sid[48], iid[48], eid[48], type[24];
};

static struct {
	pthread_mutex_t mu;
	bool running, stopping;
	bool nats, warehouse;
	long long base_ms, max_ms;
	int max_attempts;
	long long retention_ms, next_expiry;
	struct lane lanes[SINK_COUNT];
	struct flight *flights;
} D = {.mu = PTHREAD_MUTEX_INITIALIZER};

static atomic_ullong delivered[SINK_COUNT], failed[SINK_COUNT], dead[SINK_COUNT];
static atomic_llong pending_gauge;

/* Producers may call this at any time, also while the lanes stop: a lane
 * is looked at only under the lock, and its condition variable lives as
 * long as the process (made once, never destroyed). */
static void kick(struct lane *l)
{
	pthread_mutex_lock(&D.mu);
	if (l->started) {
		l->kicked = true;
		pthread_cond_signal(&l->cv);
	}
	pthread_mutex_unlock(&D.mu);
}

/* An egress answer came in (on the loop): the webhook lane looks. */
static void answered(void *arg)
{
	kick(arg);
}

void bw_events_notify(void)
{
	for (int k = 0; k < SINK_COUNT; k++)
		kick(&D.lanes[k]);
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

/* One failed try as the store settles it; counted and logged. */
static void failure(struct bw_outbox_result *res, int kind, int attempts, const char *sid,
                    const char *eid, const char *error, long long now)
{
	res->subscription_id = sid;
	res->ok = false;
	res->attempts = attempts + 1;
	res->dead = res->attempts >= D.max_attempts;
	res->next_at = now + backoff(res->attempts);
	res->error = error;
	failed[kind]++;
	if (res->dead) {
		dead[kind]++;
		bw_log(BW_LOG_WARN, "an event is a dead letter", "subscription", sid, "event", eid,
		       "error", error);
	}
}

static void settle(struct lane *l, const struct bw_outbox_result *res, size_t n, long long now)
{
	if (n && bw_store_outbox_settle(l->store, res, n, now) != BW_OK)
		bw_log(BW_LOG_ERROR, "event deliveries could not be recorded; they will be sent again");
}

/* ---- one subscription's due rows ---- */

struct item {
	struct bw_outbox_row *row;
	uint8_t *body;
	size_t body_len;
	struct bw_event_out out;
};

/* Opens the row (its envelope); false with out.error when it does not. */
static bool open_item(struct item *it)
{
	struct bw_outbox_row *r = it->row;
	char row[112];
	it->out = (struct bw_event_out){.outbox_id = r->seq,
	                                .instance_id = r->instance_id,
	                                .subscription_id = r->subscription_id,
	                                .type = r->type,
	                                .event_id = r->id,
	                                .dedup_key = r->dedup_key};
	snprintf(row, sizeof(row), "%.47s/%.47s", r->subscription_id, r->id);
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

static size_t inflight_of(const char *sid)
{
	size_t n = 0;
	for (struct flight *f = D.flights; f; f = f->next)
		n += !strcmp(f->sid, sid);
	return n;
}

/* Starts each opened webhook; those that could not start fail now. */
static void start_webhooks(struct lane *l, const json_t *sink, struct item *items, size_t n,
                           struct bw_outbox_result *res, size_t *nres, long long now)
{
	long long *leased = calloc(n ? n : 1, sizeof(*leased));
	size_t nl = 0;
	for (size_t i = 0; i < n; i++) {
		struct item *it = &items[i];
		struct flight *f = it->body ? calloc(1, sizeof(*f)) : NULL;
		if (f && !(f->w = bw_webhook_start(l->store, sink, &it->out, answered, l))) {
			free(f);
			f = NULL;
		}
		if (!f) {
			if (!it->out.error[0])
				snprintf(it->out.error, sizeof(it->out.error), "webhook: out of memory");
			res[*nres].seq = it->row->seq;
			failure(&res[(*nres)++], SINK_WEBHOOK, it->row->attempts, it->row->subscription_id,
			        it->row->id, it->out.error, now);
			continue;
		}
		f->seq = it->row->seq;
		f->attempts = it->row->attempts;
		snprintf(f->sid, sizeof(f->sid), "%s", it->row->subscription_id);
		snprintf(f->iid, sizeof(f->iid), "%s", it->row->instance_id);
		snprintf(f->eid, sizeof(f->eid), "%s", it->row->id);
		snprintf(f->type, sizeof(f->type), "%s", it->row->type);
		f->next = D.flights;
		D.flights = f;
		if (leased)
			leased[nl++] = f->seq;
	}
	if (nl && bw_store_outbox_lease(l->store, leased, nl, now + LEASE_MS) != BW_OK)
		bw_log(BW_LOG_WARN, "webhook deliveries could not be leased; some may go twice");
	free(leased);
}

/* The answers that came in: settled in one transaction. */
static void collect(struct lane *l)
{
	size_t n = 0, k = 0;
	for (struct flight *f = D.flights; f; f = f->next)
		n++;
	if (!n)
		return;
	struct bw_outbox_result *res = calloc(n, sizeof(*res));
	struct flight **done = calloc(n, sizeof(*done));
	struct bw_event_out *outs = calloc(n, sizeof(*outs));
	if (!res || !done || !outs)
		goto out;
	long long now = bw_now_ms();
	for (struct flight **p = &D.flights; *p;) {
		struct flight *f = *p;
		bool shutdown = false;
		struct bw_event_out *ev = &outs[k];
		if (!bw_webhook_poll(f->w, ev, &shutdown)) {
			p = &f->next;
			continue;
		}
		*p = f->next;
		done[k] = f;
		res[k].seq = f->seq;
		res[k].subscription_id = f->sid;
		if (ev->ok) {
			res[k].ok = true;
			delivered[SINK_WEBHOOK]++;
		} else if (shutdown) { /* not the receiver's doing: no try spent */
			res[k] = (struct bw_outbox_result){.seq = f->seq, .subscription_id = f->sid,
			                                   .attempts = f->attempts, .next_at = now,
			                                   .error = "webhook: the server is stopping"};
		} else {
			failure(&res[k], SINK_WEBHOOK, f->attempts, f->sid, f->eid, ev->error, now);
		}
		k++;
	}
	settle(l, res, k, now);
out:
	for (size_t i = 0; i < k; i++)
		free(done[i]);
	free(res);
	free(done);
	free(outs);
}

/* The subscription's due rows (at most `room`): delivered, or started. */
static void run_sub(struct lane *l, const struct bw_outbox_sub *sub, size_t room, long long now)
{
	struct bw_outbox_row *rows = calloc(room, sizeof(*rows));
	struct item *items = calloc(room, sizeof(*items));
	struct bw_outbox_result *res = calloc(room, sizeof(*res));
	struct bw_event_sub_row srow;
	json_t *cfg = NULL;
	size_t n = 0, nres = 0;
	memset(&srow, 0, sizeof(srow));
	if (!rows || !items || !res ||
	    bw_store_outbox_due(l->store, sub->subscription_id, now, rows, room, &n) != BW_OK)
		n = 0;
	if (n && bw_store_event_sub_get(l->store, sub->instance_id, sub->subscription_id, &srow) ==
	             BW_OK)
		cfg = bw_event_sub_config_load(srow.config);
	const json_t *sink = json_object_get(cfg, "sink");
	const char *type = json_string_value(json_object_get(sink, "type"));
	bool mine = type && !strcmp(type, sink_names[l->kind]);
	for (size_t i = 0; i < n; i++) {
		items[i].row = &rows[i];
		if (!open_item(&items[i]) || !mine) {
			if (!mine) /* gone, or changed kind since it was listed */
				snprintf(items[i].out.error, sizeof(items[i].out.error),
				         "the subscription cannot be read");
			res[nres].seq = rows[i].seq;
			failure(&res[nres++], l->kind, rows[i].attempts, rows[i].subscription_id,
			        rows[i].id, items[i].out.error, now);
			if (items[i].body)
				bw_unseal_free(items[i].body);
			items[i].body = NULL;
		}
	}
	/* only the opened ones go on */
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (items[i].body)
			items[m++] = items[i];
	if (m && l->kind == SINK_WEBHOOK) {
		start_webhooks(l, sink, items, m, res, &nres, now);
	} else if (m) {
		struct bw_event_out *outs = calloc(m, sizeof(*outs));
		for (size_t i = 0; outs && i < m; i++)
			outs[i] = items[i].out;
		if (outs && l->kind == SINK_NATS)
			bw_sink_nats_deliver(outs, m);
		else if (outs)
			bw_sink_pg_deliver(outs, m);
		for (size_t i = 0; i < m; i++) {
			struct bw_outbox_row *r = items[i].row;
			res[nres].seq = r->seq;
			if (outs && outs[i].ok) {
				res[nres].subscription_id = r->subscription_id;
				res[nres++].ok = true;
				delivered[l->kind]++;
				continue;
			}
			snprintf(items[i].out.error, sizeof(items[i].out.error), "%s",
			         outs && outs[i].error[0] ? outs[i].error : "not delivered");
			failure(&res[nres++], l->kind, r->attempts, r->subscription_id, r->id,
			        items[i].out.error, now);
		}
		free(outs);
	}
	settle(l, res, nres, now);
	for (size_t i = 0; i < m; i++)
		bw_unseal_free(items[i].body);
	for (size_t i = 0; i < n; i++)
		bw_outbox_row_clear(&rows[i]);
	bw_event_sub_row_clear(&srow);
	json_decref(cfg);
	free(rows);
	free(items);
	free(res);
}

/* One pass over the lane's subscriptions; when to look again. */
static long long run_lane(struct lane *l)
{
	struct bw_outbox_sub *subs = calloc(SUBS_MAX, sizeof(*subs));
	size_t n = 0;
	long long now = bw_now_ms(), wake = now + IDLE_MS;
	if (!subs || bw_store_outbox_subs(l->store, sink_names[l->kind], subs, SUBS_MAX, &n) != BW_OK)
		n = 0;
	for (size_t i = 0; i < n; i++) {
		size_t room = BATCH;
		if (l->kind == SINK_WEBHOOK) {
			size_t out = inflight_of(subs[i].subscription_id);
			room = out < BW_EVENTS_WEBHOOK_WINDOW ? BW_EVENTS_WEBHOOK_WINDOW - out : 0;
		}
		if (room == 0) /* its answers wake the lane */
			continue;
		if (subs[i].next_at > now) {
			if (subs[i].next_at < wake)
				wake = subs[i].next_at;
			continue;
		}
		run_sub(l, &subs[i], room, now);
		wake = now; /* look again at once: more may be due, and its next try */
	}
	free(subs);
	return wake;
}

/* Retention (data minimization): dead letters hold sealed customer data,
 * so they go once they are older than the retention; looked at every
 * minute, or every half retention when that is shorter. When to look
 * again. */
static long long expire_dead(struct lane *l, long long now)
{
	if (now >= D.next_expiry) {
		long long n = 0;
		if (bw_store_outbox_dead_expire(l->store, now - D.retention_ms, &n) != BW_OK)
			bw_log(BW_LOG_WARN, "expired dead letters could not be deleted");
		else if (n > 0) {
			char num[24];
			snprintf(num, sizeof(num), "%lld", n);
			bw_log(BW_LOG_INFO, "expired dead letters deleted", "count", num);
		}
		long long every = D.retention_ms / 2 < IDLE_MS ? D.retention_ms / 2 : IDLE_MS;
		D.next_expiry = now + (every > 0 ? every : 1);
	}
	return D.next_expiry;
}

/* The gauge: rows waiting now, retries included. */
static void refresh_pending(struct lane *l)
{
	long long p = 0, d = 0;
	if (bw_store_outbox_counts(l->store, NULL, NULL, &p, &d) == BW_OK)
		pending_gauge = p;
}

/* Sleeps until `wake`, a kick or the stop; false when stopping. */
static bool lane_wait(struct lane *l, long long wake)
{
	pthread_mutex_lock(&D.mu);
	while (!D.stopping && !l->kicked && wake > bw_now_ms()) {
		struct timespec ts = {.tv_sec = wake / 1000, .tv_nsec = (wake % 1000) * 1000000};
		if (pthread_cond_timedwait(&l->cv, &D.mu, &ts) == ETIMEDOUT)
			break;
	}
	bool go = !D.stopping;
	l->kicked = false;
	pthread_mutex_unlock(&D.mu);
	return go;
}

static void *lane_main(void *arg)
{
	struct lane *l = arg;
	for (;;) {
		if (l->kind == SINK_WEBHOOK)
			collect(l);
		long long wake = run_lane(l);
		if (l->kind == SINK_WEBHOOK) {
			refresh_pending(l);
			long long ex = expire_dead(l, bw_now_ms());
			wake = ex < wake ? ex : wake;
		}
		if (!lane_wait(l, wake))
			break;
	}
	/* The egress answers every call out by now (the listeners stopped
	 * first); their rows are settled before the lane goes. */
	while (l->kind == SINK_WEBHOOK && D.flights) {
		collect(l);
		if (!D.flights)
			break;
		long long until = bw_now_ms() + 50; /* answers no longer kick: look again soon */
		struct timespec ts = {.tv_sec = until / 1000, .tv_nsec = (until % 1000) * 1000000};
		pthread_mutex_lock(&D.mu);
		pthread_cond_timedwait(&l->cv, &D.mu, &ts);
		pthread_mutex_unlock(&D.mu);
	}
	return NULL;
}

static void stop_lanes(void)
{
	bool joined[SINK_COUNT];
	pthread_mutex_lock(&D.mu);
	D.stopping = true;
	for (int k = 0; k < SINK_COUNT; k++) {
		joined[k] = D.lanes[k].started;
		D.lanes[k].started = false;
		pthread_cond_signal(&D.lanes[k].cv);
	}
	pthread_mutex_unlock(&D.mu);
	for (int k = 0; k < SINK_COUNT; k++) {
		struct lane *l = &D.lanes[k];
		if (joined[k])
			pthread_join(l->thread, NULL);
		bw_store_close(l->store);
		l->store = NULL;
	}
}

static void lanes_init(void)
{
	for (int k = 0; k < SINK_COUNT; k++) {
		D.lanes[k].kind = k;
		pthread_cond_init(&D.lanes[k].cv, NULL);
	}
}

bw_result bw_events_start(const char *db_path, int durability,
                          const struct bw_events_settings *cfg)
{
	D.base_ms = cfg->retry_base_ms;
	D.max_ms = cfg->retry_max_ms;
	D.max_attempts = cfg->max_attempts;
	D.retention_ms = cfg->dead_retention_ms > 0 ? cfg->dead_retention_ms : 1;
	D.next_expiry = 0;
	D.nats = D.warehouse = false;
	D.stopping = false;
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, lanes_init);
	D.running = true; /* from here bw_events_stop undoes whatever was done */
	bw_result r = BW_OK;
	if (cfg->nats_url && cfg->nats_url[0])
		D.nats = (r = bw_sink_nats_start(cfg->nats_url)) == BW_OK;
	if (r == BW_OK && cfg->warehouse_url && cfg->warehouse_url[0])
		D.warehouse = (r = bw_sink_pg_start(cfg->warehouse_url)) == BW_OK;
	for (int k = 0; k < SINK_COUNT && r == BW_OK; k++) {
		struct lane *l = &D.lanes[k];
		if ((k == SINK_NATS && !D.nats) || (k == SINK_WAREHOUSE && !D.warehouse))
			continue;
		r = bw_store_open(&l->store, db_path,
		                  durability ? BW_DURABILITY_FULL : BW_DURABILITY_NORMAL);
		long long moved = 0;
		/* What the last run had out (leased) or was waiting on is due now:
		 * a crash must not hold a call back for its whole lease. */
		if (r == BW_OK && k == SINK_WEBHOOK &&
		    bw_store_outbox_due_now(l->store, bw_now_ms(), &moved) != BW_OK)
			bw_log(BW_LOG_WARN, "queued events keep their next try from the last run");
		pthread_mutex_lock(&D.mu);
		if (r == BW_OK && pthread_create(&l->thread, NULL, lane_main, l) != 0)
			r = BW_ERR;
		l->started = r == BW_OK;
		pthread_mutex_unlock(&D.mu);
	}
	if (r != BW_OK)
		bw_events_stop();
	return r;
}

void bw_events_stop(void)
{
	if (!D.running)
		return;
	D.running = false;
	stop_lanes();
	if (D.nats)
		bw_sink_nats_stop();
	if (D.warehouse)
		bw_sink_pg_stop();
	D.nats = D.warehouse = false;
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
