/* Real-time metrics (K7): per queue, contacts waiting, the oldest one's
 * age, agents available for it and agents on a contact, through the API
 * and as Prometheus gauges. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cc/engine_int.h"
#include "core/ids.h"
#include "core/metrics.h"

struct qfig {
	size_t queued, available, on_contact;
	double oldest_s;
};

static bool serves(const struct cc_agent *a, const char *qid)
{
	for (size_t i = 0; i < a->nqueues; i++)
		if (!strcmp(a->queues[i].queue_id, qid))
			return true;
	return false;
}

static void figures(const struct cc_inst *in, const struct cc_queue *q, long long now_ms,
                    struct qfig *f)
{
	memset(f, 0, sizeof(*f));
	f->queued = q->count;
	if (q->head)
		f->oldest_s = (double)(now_ms - q->head->rec.enqueued_at) / 1000.0;
	for (const struct cc_agent *a = in->agents; a; a = a->next) {
		if (!serves(a, q->id))
			continue;
		f->available += a->nws > 0 && !strcmp(a->status, "Available");
		f->on_contact += a->nheld > 0;
	}
}

struct rt_call {
	const char *iid;
	json_t *out;
};

static void rt_on_loop(void *arg)
{
	struct rt_call *r = arg;
	json_t *items = json_array();
	const struct cc_inst *in = cc_inst_get(r->iid, false);
	long long now = bw_now_ms();
	for (const struct cc_queue *q = in ? in->queues : NULL; q; q = q->next) {
		struct qfig f;
		figures(in, q, now, &f);
		json_array_append_new(items, json_pack("{s:s, s:I, s:f, s:I, s:I}", "queue_id", q->id,
		                                       "contacts_queued", (json_int_t)f.queued,
		                                       "oldest_contact_age_s", f.oldest_s,
		                                       "agents_available", (json_int_t)f.available,
		                                       "agents_on_contact",
		                                       (json_int_t)f.on_contact));
	}
	r->out = json_pack("{s:o}", "queues", items);
}

json_t *bw_cc_realtime(const char *iid)
{
	struct rt_call r = {iid, NULL};
	bw_loop_call(rt_on_loop, &r);
	return r.out;
}

char *bw_cc_metrics_text(void)
{
	static const char *const names[] = {
		"bulwark_queue_contacts_queued", "bulwark_queue_oldest_contact_age_seconds",
		"bulwark_queue_agents_available", "bulwark_queue_agents_on_contact"};
	static const char *const help[] = {"contacts waiting in the queue",
	                                   "age of the oldest contact waiting",
	                                   "agents available who serve the queue",
	                                   "agents on a contact who serve the queue"};
	struct bw_metrics_text b = {0};
	long long now = bw_now_ms();
	for (int m = 0; m < 4; m++) {
		bw_metrics_printf(&b, "# HELP %s %s\n# TYPE %s gauge\n", names[m], help[m], names[m]);
		for (size_t i = 0; i < cc__insts.cap; i++) {
			const struct cc_inst *in = cc__insts.slots[i].val;
			for (const struct cc_queue *q = in ? in->queues : NULL; q; q = q->next) {
				struct qfig f;
				figures(in, q, now, &f);
				double v = m == 0   ? (double)f.queued
				           : m == 1 ? f.oldest_s
				           : m == 2 ? (double)f.available
				                    : (double)f.on_contact;
				bw_metrics_printf(&b, "%s{instance=\"%s\",queue=\"%s\"} %g\n", names[m], in->id, q->id, v);
			}
		}
	}
	return b.buf;
}
