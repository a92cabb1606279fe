/* The engine's writer: one thread with its own store connection stores
 * contact records, flow logs and messages in the order the loop hands them
 * over, sealing customer data on the way (the loop never waits for the
 * disk). What is waiting when the writer wakes goes in one transaction
 * (group commit). A message goes out to the participants only once it is
 * committed, so what a participant has seen survives kill -9. Workers that
 * must answer after a write wait for its ticket. */
#include <pthread.h>
#include <stdio.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "cc/engine_int.h"
#include "core/log.h"
#include "core/pool.h"
#include "core/wipe.h"
#include "events/events.h"
#include "sec/seal.h"

enum job_kind { JOB_CONTACT, JOB_MESSAGE, JOB_STATUS };

struct pjob {
	struct pjob *next;
	enum job_kind kind;
	unsigned long long ticket;
	struct bw_contact rec;
	char *customer_json;
	struct bw_flow_log_entry *log;
	size_t nlog;
	struct bw_contact_message msg;
	char *text;
	size_t text_len;
	char *frame, *agent_frame;
	char uid[48], status[40];
	bw_result sealed;
};

/* Stored messages waiting for the loop to send them (oldest first). */
struct relay {
	struct relay *next;
	char cid[48];
	char *frame, *agent_frame;
};

static struct bw_pool *writer;
static struct pjob *qhead, *qtail; /* handed over, not yet taken (under mu) */
static struct bw_job drain_job;
static char *path;
static int dur;
static unsigned long long submitted, stored;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

static void *writer_init(void *arg)
{
	(void)arg;
	struct bw_store *s = NULL;
	if (bw_store_open(&s, path, dur ? BW_DURABILITY_FULL : BW_DURABILITY_NORMAL) != BW_OK)
		bw_log(BW_LOG_ERROR, "the engine's writer cannot open the store");
	return s;
}

static void writer_fini(void *ctx)
{
	bw_store_close(ctx);
}

static struct relay *rhead, *rtail;

static void relay_drain(void)
{
	pthread_mutex_lock(&mu);
	struct relay *r = rhead;
	rhead = rtail = NULL;
	pthread_mutex_unlock(&mu);
	while (r) {
		struct relay *next = r->next;
		cc_relay(r->cid, r->frame, r->agent_frame);
		free(r);
		r = next;
	}
}

static const struct bw_loop_kick relay_kick = {relay_drain};

/* Queues a frame for the loop; one kick per batch. */
static void relay_push(struct relay *r)
{
	pthread_mutex_lock(&mu);
	bool was_empty = !rhead;
	if (rtail)
		rtail->next = r;
	else
		rhead = r;
	rtail = r;
	pthread_mutex_unlock(&mu);
	if (was_empty)
		bw_loop_kick(&relay_kick);
}

/* Sealing comes before the batch's transaction: the keyring may write a
 * new data key through its own connection, which would wait for the
 * writer's lock while the writer waits for the key. */
static bw_result seal_job(struct pjob *j)
{
	bw_result r = BW_OK;
	if (j->kind == JOB_CONTACT && j->customer_json) {
		size_t n = strlen(j->customer_json);
		r = bw_seal(j->rec.instance_id, "contacts", j->rec.id, "customer",
		            (const uint8_t *)j->customer_json, n, &j->rec.customer, &j->rec.customer_len);
		bw_wipe_free(j->customer_json, n);
		j->customer_json = NULL;
	} else if (j->kind == JOB_MESSAGE && j->text) {
		r = bw_seal(j->msg.instance_id, "contact_messages", j->msg.id, "content",
		            (const uint8_t *)j->text, j->text_len, &j->msg.content, &j->msg.content_len);
		bw_wipe_free(j->text, j->text_len);
		j->text = NULL;
	}
	j->sealed = r;
	return r;
}

static bw_result store_contact(struct bw_store *s, struct pjob *j)
{
	bw_result r = j->sealed;
	if (r == BW_OK)
		r = bw_store_contact_put(s, &j->rec, NULL);
	if (r == BW_OK && j->nlog)
		r = bw_store_flow_log_append(s, j->log, j->nlog);
	bw_contact_clear(&j->rec);
	free(j->log);
	return r;
}

static bw_result store_message(struct bw_store *s, struct pjob *j, struct relay **out)
{
	bw_result r = j->sealed;
	if (r == BW_OK)
		r = bw_store_message_insert(s, &j->msg);
	bw_contact_message_clear(&j->msg);
	if (r == BW_OK && j->frame) {
		struct relay *rl = calloc(1, sizeof(*rl));
		if (rl) {
			memcpy(rl->cid, j->msg.contact_id, sizeof(rl->cid));
			rl->frame = j->frame;
			rl->agent_frame = j->agent_frame;
			j->frame = j->agent_frame = NULL;
			*out = rl; /* sent once the batch is committed */
		}
	}
	bw_wipe_free(j->frame, j->frame ? strlen(j->frame) : 0);
	bw_wipe_free(j->agent_frame, j->agent_frame ? strlen(j->agent_frame) : 0);
	j->frame = j->agent_frame = NULL;
	return r;
}

/* A status the engine set (Missed): the user's row says it too. */
static bw_result store_status(struct bw_store *s, struct pjob *j)
{
	struct bw_user u = {0};
	bw_result r = bw_store_user_get(s, j->rec.instance_id, j->uid, &u);
	if (r == BW_OK) {
		snprintf(u.status, sizeof(u.status), "%s", j->status);
		r = bw_store_user_update(s, &u, NULL, 0);
	}
	bw_user_clear(&u);
	return r;
}

static void job_run(struct bw_store *s, struct pjob *j, struct relay **out)
{
	bw_result r = BW_ERR;
	if (s)
		r = j->kind == JOB_CONTACT   ? store_contact(s, j)
		    : j->kind == JOB_MESSAGE ? store_message(s, j, out)
		                             : store_status(s, j);
	if (r != BW_OK) {
		bw_log(BW_LOG_ERROR, "the engine could not store a contact write", "result",
		       bw_result_code(r));
		if (j->kind == JOB_MESSAGE) { /* nothing to relay: not stored */
			bw_contact_message_clear(&j->msg);
			bw_wipe_free(j->text, j->text ? j->text_len : 0);
			bw_wipe_free(j->frame, j->frame ? strlen(j->frame) : 0);
			bw_wipe_free(j->agent_frame, j->agent_frame ? strlen(j->agent_frame) : 0);
			j->text = j->frame = j->agent_frame = NULL;
		}
	}
}

#define BATCH_MAX 512

/* The state j's contact had before j: an earlier job of the batch, else
 * the store ("" for a new contact). */
static void state_before(struct bw_store *s, const struct pjob *list, const struct pjob *j,
                         char *out, size_t n)
{
	const char *seen = NULL;
	for (const struct pjob *p = list; p != j; p = p->next)
		if (p->kind == JOB_CONTACT && !strcmp(p->rec.id, j->rec.id))
			seen = p->rec.state;
	out[0] = '\0';
	if (seen) {
		snprintf(out, n, "%s", seen);
		return;
	}
	struct bw_contact old;
	memset(&old, 0, sizeof(old));
	if (bw_store_contact_get(s, j->rec.instance_id, j->rec.id, &old) == BW_OK)
		snprintf(out, n, "%s", old.state);
	bw_contact_clear(&old);
}

static void prepare_one(struct bw_store *s, const struct pjob *j, const char *type,
                        struct bw_events_batch *b)
{
	char key[112];
	snprintf(key, sizeof(key), "%s/%lld", j->rec.id, j->rec.updated_at);
	struct bw_event_src e = {.type = type,
	                         .instance_id = j->rec.instance_id,
	                         .contact = &j->rec,
	                         .dedup_key = key,
	                         .time_ms = j->rec.updated_at,
	                         .queue_id = j->rec.queue_id,
	                         .channel = j->rec.channel,
	                         .agent_id = j->rec.agent_id};
	if (bw_events_prepare(s, &e, b) != BW_OK)
		bw_log(BW_LOG_ERROR, "a contact event could not be queued", "contact", j->rec.id,
		       "type", type);
}

/* The events (C18) the batch's contact writes make: a contact that
 * reached QUEUED or ENDED (a blocked one also contact.blocked). Outside
 * the transaction: sealing may write a data key. */
static void prepare_events(struct bw_store *s, const struct pjob *list, struct bw_events_batch *b)
{
	char before[24];
	for (const struct pjob *j = list; j && s; j = j->next) {
		if (j->kind != JOB_CONTACT || j->sealed != BW_OK)
			continue;
		bool ended = !strcmp(j->rec.state, "ENDED"), queued = !strcmp(j->rec.state, "QUEUED");
		if (!ended && !queued)
			continue;
		state_before(s, list, j, before, sizeof(before));
		if (!strcmp(before, j->rec.state))
			continue;
		prepare_one(s, j, ended ? "contact.ended" : "contact.queued", b);
		if (ended && !strcmp(j->rec.disconnect_reason, "CONTACT_FILTER"))
			prepare_one(s, j, "contact.blocked", b);
	}
}

/* On the writer thread: everything handed over so far, in one transaction. */
static void drain(struct bw_job *bj, void *ctx)
{
	(void)bj;
	struct bw_store *s = ctx;
	for (;;) {
		pthread_mutex_lock(&mu);
		struct pjob *list = qhead, *last = NULL;
		size_t n = 0;
		for (struct pjob *j = list; j && n < BATCH_MAX; j = j->next, n++)
			last = j;
		if (last) {
			qhead = last->next;
			if (!qhead)
				qtail = NULL;
			last->next = NULL;
		}
		pthread_mutex_unlock(&mu);
		if (!list)
			return;
		struct relay *rhead_b = NULL, **rtail_b = &rhead_b;
		for (struct pjob *j = list; j; j = j->next)
			bw_ignore(seal_job(j));
		struct bw_events_batch evs = {0};
		prepare_events(s, list, &evs);
		bool batch = s && bw_store_batch_begin(s) == BW_OK;
		unsigned long long ticket = 0;
		for (struct pjob *j = list, *next; j; j = next) {
			next = j->next;
			struct relay *rl = NULL;
			job_run(s, j, &rl);
			if (rl) {
				*rtail_b = rl;
				rtail_b = &rl->next;
			}
			ticket = j->ticket;
			free(j);
		}
		if (s && evs.n && bw_events_write(s, &evs) != BW_OK)
			bw_log(BW_LOG_ERROR, "contact events could not be queued");
		bool committed = !batch || bw_store_batch_end(s, BW_OK) == BW_OK;
		if (!committed)
			bw_log(BW_LOG_ERROR, "the engine's writer could not commit a batch");
		if (evs.n && committed)
			bw_events_notify();
		bw_events_batch_clear(&evs);
		pthread_mutex_lock(&mu);
		stored = ticket;
		pthread_cond_broadcast(&cv);
		pthread_mutex_unlock(&mu);
		for (struct relay *r = rhead_b, *next; r; r = next) {
			next = r->next;
			r->next = NULL;
			relay_push(r);
		}
	}
}

/* The newest ticket handed out (a caller whose job could not be made
 * waits for what came before it). */
static unsigned long long last_submitted(void)
{
	pthread_mutex_lock(&mu);
	unsigned long long t = submitted;
	pthread_mutex_unlock(&mu);
	return t;
}

static unsigned long long submit(struct pjob *j)
{
	pthread_mutex_lock(&mu);
	unsigned long long t = j->ticket = ++submitted; /* j is the writer's once queued */
	bool was_empty = !qhead;
	if (qtail)
		qtail->next = j;
	else
		qhead = j;
	qtail = j;
	pthread_mutex_unlock(&mu);
	/* One drain at a time is enough: it takes what arrives while it runs. */
	if (was_empty && bw_pool_submit(writer, &drain_job) == BW_AGAIN)
		bw_log(BW_LOG_ERROR, "the engine's writer is not taking work");
	return t;
}

unsigned long long cc_persist_contact(const struct bw_contact *rec, char *customer_json,
                                      struct bw_flow_log_entry *log, size_t nlog)
{
	struct pjob *j = calloc(1, sizeof(*j));
	if (!j) {
		bw_wipe_free(customer_json, customer_json ? strlen(customer_json) : 0);
		free(log);
		return last_submitted();
	}
	j->kind = JOB_CONTACT;
	j->rec = *rec;
	j->rec.customer = NULL;
	j->rec.customer_len = 0;
	j->customer_json = customer_json;
	j->log = log;
	j->nlog = nlog;
	return submit(j);
}

unsigned long long cc_persist_message(const struct bw_contact_message *m, const char *text,
                                      size_t n, char *frame, char *agent_frame)
{
	struct pjob *j = calloc(1, sizeof(*j));
	char *t = j ? malloc(n + 1) : NULL;
	if (!t) {
		free(j);
		bw_wipe_free(frame, frame ? strlen(frame) : 0);
		bw_wipe_free(agent_frame, agent_frame ? strlen(agent_frame) : 0);
		return last_submitted();
	}
	memcpy(t, text, n);
	t[n] = '\0';
	j->kind = JOB_MESSAGE;
	j->msg = *m;
	j->msg.content = NULL;
	j->text = t;
	j->text_len = n;
	j->frame = frame;
	j->agent_frame = agent_frame;
	return submit(j);
}

unsigned long long cc_persist_status(const char *iid, const char *uid, const char *status)
{
	struct pjob *j = calloc(1, sizeof(*j));
	if (!j)
		return last_submitted();
	j->kind = JOB_STATUS;
	snprintf(j->rec.instance_id, sizeof(j->rec.instance_id), "%s", iid);
	snprintf(j->uid, sizeof(j->uid), "%s", uid);
	snprintf(j->status, sizeof(j->status), "%s", status);
	return submit(j);
}

void cc_persist_wait(unsigned long long ticket)
{
	pthread_mutex_lock(&mu);
	while (stored < ticket)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
}

bw_result cc_persist_start(const char *db_path, int durability)
{
	path = strdup(db_path);
	dur = durability;
	if (!path)
		return BW_NOMEM;
	drain_job.run = drain;
	return bw_pool_start(&writer, "cc-writer", 1, 1000000, writer_init, writer_fini, NULL);
}

void cc_persist_stop(void)
{
	bw_pool_stop(writer);
	writer = NULL;
	/* The loop has stopped: what it did not send is dropped. */
	for (struct relay *r = rhead, *next; r; r = next) {
		next = r->next;
		bw_wipe_free(r->frame, strlen(r->frame));
		bw_wipe_free(r->agent_frame, r->agent_frame ? strlen(r->agent_frame) : 0);
		free(r);
	}
	rhead = rtail = NULL;
	free(path);
	path = NULL;
}
