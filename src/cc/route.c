/* Routing (K5): queues hold contacts oldest first; whenever a contact is
 * queued or an agent frees capacity, the longest-idle available agent is
 * offered the best contact of their routing profile (lowest priority, then
 * oldest, once it has waited the queue's delay). An offer waits
 * offer_timeout_s; a miss marks the agent Missed and moves on. */
#include <stdlib.h>
#include <string.h>

#include "cc/engine_int.h"
#include "core/ids.h"

struct cc_queue *cc_queue_live(struct cc_inst *in, const char *qid, bool create)
{
	for (struct cc_queue *q = in->queues; q; q = q->next)
		if (!strcmp(q->id, qid))
			return q;
	if (!create)
		return NULL;
	struct cc_queue *q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	snprintf(q->id, sizeof(q->id), "%s", qid);
	q->next = in->queues;
	in->queues = q;
	return q;
}

int cc_queue_add(struct cc_contact *c, const char *qid)
{
	const struct bw_cc_queue_snap *snap = NULL;
	for (size_t i = 0; i < c->nqsnaps; i++)
		if (!strcmp(c->qsnaps[i].id, qid))
			snap = &c->qsnaps[i];
	struct cc_queue *q = snap ? cc_queue_live(c->in, qid, true) : NULL;
	if (!q)
		return -2;
	q->max_contacts = snap->max_contacts;
	if (q->max_contacts > 0 && (long long)q->count >= q->max_contacts)
		return -1;
	c->qprev = q->tail;
	c->qnext = NULL;
	if (q->tail)
		q->tail->qnext = c;
	else
		q->head = c;
	q->tail = c;
	q->count++;
	c->in->nqueued++;
	c->queue = q;
	snprintf(c->rec.queue_id, sizeof(c->rec.queue_id), "%s", qid);
	c->rec.enqueued_at = bw_now_ms();
	snprintf(c->rec.state, sizeof(c->rec.state), "QUEUED");
	return 0;
}

void cc_queue_remove(struct cc_contact *c)
{
	struct cc_queue *q = c->queue;
	if (!q)
		return;
	if (c->qprev)
		c->qprev->qnext = c->qnext;
	else
		q->head = c->qnext;
	if (c->qnext)
		c->qnext->qprev = c->qprev;
	else
		q->tail = c->qprev;
	c->qprev = c->qnext = NULL;
	q->count--;
	c->in->nqueued--;
	c->queue = NULL;
}

struct cc_agent *cc_agent_find(struct cc_inst *in, const char *uid)
{
	for (struct cc_agent *a = in->agents; a; a = a->next)
		if (!strcmp(a->uid, uid))
			return a;
	return NULL;
}

void cc_agent_send(struct cc_agent *a, const char *text, size_t len)
{
	for (int i = 0; i < a->nws; i++)
		bw_ws_send(a->ws[i], text, len);
}

void cc_agent_send_json(struct cc_agent *a, json_t *v)
{
	char *s = v ? json_dumps(v, JSON_COMPACT) : NULL;
	json_decref(v);
	if (s) {
		cc_agent_send(a, s, strlen(s));
		free(s);
	}
}

void cc_agent_set_status(struct cc_agent *a, const char *status)
{
	bool was = !strcmp(a->status, "Available");
	snprintf(a->status, sizeof(a->status), "%s", status);
	if (!was && !strcmp(status, "Available"))
		a->idle_since = cc_now();
	cc_agent_send_json(a, json_pack("{s:s, s:s}", "type", "status", "status", a->status));
}

static int capacity(const struct cc_agent *a, const char *channel)
{
	return !strcmp(channel, "CHAT") ? a->cap_chat : a->cap_callback;
}

static int load(const struct cc_agent *a, const char *channel)
{
	int n = 0;
	for (int i = 0; i < a->nheld; i++)
		n += !strcmp(a->held[i]->rec.channel, channel);
	return n;
}

static bool excluded(const struct cc_contact *c, const char *uid)
{
	for (int i = 0; i < c->nexcluded; i++)
		if (!strcmp(c->excluded[i], uid))
			return true;
	return false;
}

static void exclude(struct cc_contact *c, const char *uid)
{
	if (excluded(c, uid))
		return;
	if (c->nexcluded == CC_MAX_EXCLUDED) {
		memmove(c->excluded[0], c->excluded[1], sizeof(c->excluded[0]) * (CC_MAX_EXCLUDED - 1));
		c->nexcluded--;
	}
	snprintf(c->excluded[c->nexcluded++], sizeof(c->excluded[0]), "%s", uid);
}

/* The contact this agent should be offered, or NULL. */
static struct cc_contact *best_for(struct cc_agent *a, long long now_ms, bool honor_exclusions,
                                   int *prio)
{
	struct cc_contact *best = NULL;
	int bestp = 0;
	for (size_t i = 0; i < a->nqueues; i++) {
		const struct bw_rp_queue *rq = &a->queues[i];
		struct cc_queue *q = cc_queue_live(a->in, rq->queue_id, false);
		if (!q || !q->count || (best && rq->priority > bestp))
			continue;
		for (struct cc_contact *c = q->head; c; c = c->qnext) {
			bool callback = !strcmp(c->rec.channel, "CALLBACK");
			if (c->offered || (callback && !a->outbound) ||
			    load(a, c->rec.channel) >= capacity(a, c->rec.channel) ||
			    (honor_exclusions && excluded(c, a->uid)) ||
			    now_ms - c->rec.enqueued_at < (long long)rq->delay_s * 1000)
				continue;
			if (!best || rq->priority < bestp || c->rec.enqueued_at < best->rec.enqueued_at) {
				best = c;
				bestp = rq->priority;
			}
			break; /* the first eligible is the oldest of this queue */
		}
	}
	*prio = bestp;
	return best;
}

static bool available(const struct cc_agent *a)
{
	return a->nws > 0 && !a->offer && !strcmp(a->status, "Available");
}

static void offer(struct cc_agent *a, struct cc_contact *c)
{
	c->offered = true;
	c->agent = a;
	a->offer = c;
	c->offer_deadline = cc_now() + (double)cc_set.offer_timeout_s;
	snprintf(c->rec.state, sizeof(c->rec.state), "OFFERED");
	char exp[40];
	bw_time_rfc3339_ms(bw_now_ms() + cc_set.offer_timeout_s * 1000, exp, sizeof(exp));
	cc_agent_send_json(a, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:o, s:s}", "type",
	                                "offer", "contact_id", c->rec.id, "channel", c->rec.channel,
	                                "queue_id", c->rec.queue_id, "display_name",
	                                c->display_name, "phone_number",
	                                c->phone_number[0] ? c->phone_number : NULL, "attributes",
	                                cc_contact_attrs(c, a->sensitive_view), "expires_at", exp));
	(void)cc_contact_save(c);
}

static bool route_pass(struct cc_inst *in, bool honor_exclusions)
{
	bool any = false;
	long long now_ms = bw_now_ms();
	for (;;) {
		struct cc_agent *ba = NULL;
		struct cc_contact *bc = NULL;
		for (struct cc_agent *a = in->agents; a; a = a->next) {
			if (!available(a) || (ba && a->idle_since >= ba->idle_since))
				continue;
			int prio;
			struct cc_contact *c = best_for(a, now_ms, honor_exclusions, &prio);
			if (c) {
				ba = a;
				bc = c;
			}
		}
		if (!ba)
			return any;
		offer(ba, bc);
		any = true;
	}
}

void cc_route(struct cc_inst *in)
{
	if (!in->nqueued)
		return;
	/* Someone who turned a contact down gets it again only when nobody
	 * else can take it. */
	if (!route_pass(in, true))
		(void)route_pass(in, false);
}

static void offer_clear(struct cc_contact *c)
{
	struct cc_agent *a = c->agent;
	a->offer = NULL;
	snprintf(a->last_offer, sizeof(a->last_offer), "%s", c->rec.id);
	c->agent = NULL;
	c->offered = false;
	snprintf(c->rec.state, sizeof(c->rec.state), "QUEUED");
}

void cc_offer_withdraw(struct cc_contact *c)
{
	struct cc_agent *a = c->agent;
	offer_clear(c);
	cc_queue_remove(c);
	cc_agent_send_json(a, json_pack("{s:s, s:s}", "type", "offer_withdrawn", "contact_id",
	                                c->rec.id));
}

void cc_offer_expired(struct cc_contact *c)
{
	struct cc_agent *a = c->agent;
	offer_clear(c);
	exclude(c, a->uid);
	cc_agent_send_json(a, json_pack("{s:s, s:s}", "type", "offer_missed", "contact_id",
	                                c->rec.id));
	cc_agent_set_status(a, "Missed");
	(void)cc_persist_status(a->in->id, a->uid, "Missed");
	(void)cc_contact_save(c);
	cc_route(c->in);
}

bool cc_agent_release(struct cc_agent *a, struct cc_contact *c)
{
	int i = 0;
	while (i < a->nheld && a->held[i] != c)
		i++;
	if (i == a->nheld)
		return false;
	a->held[i] = a->held[--a->nheld];
	struct cc_inst *in = c->in;
	c->agent = NULL;
	c->acw = false;
	c->rec.acw_ended_at = bw_now_ms();
	snprintf(c->rec.state, sizeof(c->rec.state), "ENDED");
	a->idle_since = cc_now();
	cc_agent_send_json(a, json_pack("{s:s, s:s, s:s}", "type", "contact", "contact_id",
	                                c->rec.id, "state", "ENDED"));
	(void)cc_contact_save(c);
	cc_contact_release(c);
	cc_route(in);
	return true;
}

/* ---- agent actions (loop side) ---- */

bw_result cc_accept(struct cc_agent *a, struct cc_contact *c)
{
	if (a->nheld == CC_MAX_HELD)
		return BW_CONFLICT;
	cc_queue_remove(c);
	c->offered = false;
	a->offer = NULL;
	a->held[a->nheld++] = c;
	a->idle_since = cc_now();
	long long now = bw_now_ms();
	snprintf(c->rec.state, sizeof(c->rec.state), "CONNECTED");
	snprintf(c->rec.agent_id, sizeof(c->rec.agent_id), "%s", a->uid);
	c->rec.dequeued_at = c->rec.connected_at = now;
	c->last_activity = cc_now();
	cc_agent_send_json(a, json_pack("{s:s, s:s, s:s}", "type", "contact", "contact_id",
	                                c->rec.id, "state", "CONNECTED"));
	cc_event(c, "joined", "AGENT", a->name, NULL);
	return BW_OK;
}

void cc_reject(struct cc_agent *a, struct cc_contact *c)
{
	offer_clear(c);
	exclude(c, a->uid);
	(void)cc_contact_save(c);
	cc_route(c->in);
}
