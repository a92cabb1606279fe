/* The engine's core: instances, live contacts and the flows they run, the
 * contact record's life (every change stored through the writer), and the
 * tick that fires deadlines: input time limits, offers, after-contact
 * work, idle chats. Loop thread only. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cc/engine_int.h"
#include "core/config.h"
#include "core/ids.h"
#include "core/log.h"
#include "events/events.h"
#include "fraud/fraud.h"
#include "sec/classify.h"
#include "sec/esdk.h"
#include "sec/redact.h"

struct bw_cc_settings cc_set;
struct cc_map cc__insts;
static struct cc_map contacts, flows;

const struct bw_cc_settings *bw_cc_settings(void)
{
	return &cc_set;
}

double cc_now(void)
{
	return bw_now_mono();
}

struct cc_inst *cc_inst_get(const char *iid, bool create)
{
	struct cc_inst *in = cc_map_get(&cc__insts, iid);
	if (in || !create)
		return in;
	in = calloc(1, sizeof(*in));
	if (!in)
		return NULL;
	snprintf(in->id, sizeof(in->id), "%s", iid);
	if (cc_map_put(&cc__insts, iid, in) != 0) {
		free(in);
		return NULL;
	}
	return in;
}

struct cc_contact *cc_contact_find(const char *cid)
{
	return cc_map_get(&contacts, cid);
}

char *bw_cc_customer_json(const char *display_name, const char *email, const char *address,
                          const char *phone_number, const json_t *attributes,
                          const json_t *classes)
{
	json_t *map = attributes ? bw_class_map(attributes, classes, NULL) : NULL;
	json_t *v = json_pack("{s:s, s:s?, s:s, s:s?, s:O?, s:o?}", "display_name", display_name,
	                      "email", email && email[0] ? email : NULL, "address", address,
	                      "phone_number", phone_number && phone_number[0] ? phone_number : NULL,
	                      "attributes", attributes, "classes", map);
	char *s = v ? json_dumps(v, JSON_COMPACT) : NULL;
	json_decref(v);
	return s;
}

unsigned long long cc_contact_save(struct cc_contact *c)
{
	c->rec.updated_at = bw_now_ms();
	struct bw_flow_log_entry *log = c->log;
	size_t nlog = c->nlog;
	c->log = NULL;
	c->nlog = c->caplog = 0;
	return cc_persist_contact(&c->rec,
	                          bw_cc_customer_json(c->display_name, c->email, c->address, c->phone_number,
	                                              c->attrs, c->classes),
	                          log, nlog);
}

static void wipe_input(struct cc_contact *c)
{
	if (c->input) {
		sodium_memzero(c->input, strlen(c->input));
		free(c->input);
		c->input = NULL;
	}
}

void cc_contact_release(struct cc_contact *c)
{
	if (!c->ended || c->ncust > 0 || c->agent)
		return;
	struct cc_inst *in = c->in;
	if (c->prev)
		c->prev->next = c->next;
	else
		in->contacts = c->next;
	if (c->next)
		c->next->prev = c->prev;
	cc_map_del(&contacts, c->rec.id);
	json_decref(c->attrs);
	json_decref(c->classes);
	wipe_input(c);
	if (c->flow && --c->flow->refs == 0) {
		cc_map_del(&flows, c->flow->key);
		bw_flow_free(c->flow->graph);
		free(c->flow);
	}
	free(c->qsnaps);
	free(c->hsnaps);
	for (size_t i = 0; i < c->nkeys; i++)
		bw_enckey_clear(&c->keys[i]);
	for (size_t i = 0; i < c->ntranscript; i++) {
		sodium_memzero(c->transcript[i], strlen(c->transcript[i]));
		free(c->transcript[i]);
	}
	free(c->transcript);
	free(c->log);
	sodium_memzero(c, sizeof(*c));
	free(c);
}

unsigned long long cc_contact_end(struct cc_contact *c, const char *reason)
{
	if (c->ended)
		return 0;
	struct cc_inst *in = c->in;
	c->ended = true;
	c->waiting_input = false;
	c->waiting_call = false; /* its answer, when it comes, is dropped */
	bool withdrawn = c->offered;
	if (c->offered)
		cc_offer_withdraw(c);
	else if (c->queue)
		cc_queue_remove(c);
	/* With an agent, the record says AFTER_CONTACT_WORK until it is cleared. */
	snprintf(c->rec.state, sizeof(c->rec.state), "%s", c->agent ? "AFTER_CONTACT_WORK" : "ENDED");
	snprintf(c->rec.disconnect_reason, sizeof(c->rec.disconnect_reason), "%s", reason);
	c->rec.disconnected_at = bw_now_ms();
	if (c->agent) {
		c->acw = true;
		c->acw_deadline = cc_now() + (double)cc_set.acw_timeout_s;
		cc_agent_send_json(c->agent, json_pack("{s:s, s:s, s:s, s:s}", "type", "contact",
		                                       "contact_id", c->rec.id, "state",
		                                       "AFTER_CONTACT_WORK", "reason", reason));
	}
	cc_event(c, "ended", NULL, NULL, reason);
	unsigned long long t = cc_contact_save(c);
	wipe_input(c);
	cc_contact_release(c);
	if (withdrawn)
		cc_route(in);
	return t;
}

/* ---- the flow host ---- */

static void h_say(void *ctx, const char *text)
{
	struct cc_contact *c = ctx;
	cc_message(c, "SYSTEM", "", NULL, text, strlen(text), NULL);
}

static const char *h_attr_get(void *ctx, const char *name)
{
	struct cc_contact *c = ctx;
	return json_string_value(json_object_get(c->attrs, name));
}

static int h_attr_set(void *ctx, const char *name, const char *value)
{
	struct cc_contact *c = ctx;
	if (!json_object_get(c->attrs, name) && json_object_size(c->attrs) >= CC_MAX_ATTRIBUTES)
		return -1;
	return json_object_set_new(c->attrs, name, json_string(value));
}

static int h_attr_class(void *ctx, const char *name, const char *cls)
{
	struct cc_contact *c = ctx;
	int k = bw_class_parse(cls);
	if (k < 0 || (!json_object_get(c->classes, name) &&
	              json_object_size(c->classes) >= CC_MAX_ATTRIBUTES + BW_CLASS_MAX_NAMES))
		return -1;
	return bw_class_raise(c->classes, name, (enum bw_class)k);
}

static const char *h_ref(void *ctx, const char *name)
{
	struct cc_contact *c = ctx;
	if (!strcmp(name, "$.StoredCustomerInput"))
		return c->input;
	if (!strcmp(name, "$.ContactId"))
		return c->rec.id;
	if (!strcmp(name, "$.Channel"))
		return c->rec.channel;
	if (!strcmp(name, "$.InstanceId"))
		return c->rec.instance_id;
	if (!strcmp(name, "$.CustomerEndpoint.Address"))
		return c->address;
	return NULL;
}

static bool h_can_ask(void *ctx)
{
	struct cc_contact *c = ctx;
	return !strcmp(c->rec.channel, "CHAT");
}

static int h_hours_open(void *ctx, const char *hid)
{
	struct cc_contact *c = ctx;
	for (size_t i = 0; hid && i < c->nhsnaps; i++)
		if (!strcmp(c->hsnaps[i].id, hid))
			return bw_hours_open(&c->hsnaps[i].hours, time(NULL)) ? 1 : 0;
	return -1;
}

static int h_queue(void *ctx, const char *qid)
{
	struct cc_contact *c = ctx;
	return qid ? cc_queue_add(c, qid) : -2;
}

static const char *h_region(void *ctx)
{
	struct cc_contact *c = ctx;
	return c->region[0] ? c->region : "US";
}

static void h_log(void *ctx, const char *action_id, const char *type, const char *branch)
{
	struct cc_contact *c = ctx;
	if (!c->logging)
		return;
	if (c->nlog == c->caplog) {
		size_t cap = c->caplog ? c->caplog * 2 : 8;
		struct bw_flow_log_entry *n = realloc(c->log, cap * sizeof(*n));
		if (!n)
			return;
		c->log = n;
		c->caplog = cap;
	}
	struct bw_flow_log_entry *e = &c->log[c->nlog++];
	memset(e, 0, sizeof(*e));
	memcpy(e->instance_id, c->rec.instance_id, sizeof(e->instance_id));
	memcpy(e->contact_id, c->rec.id, sizeof(e->contact_id));
	e->seq = ++c->log_seq;
	e->time = bw_now_ms();
	/* An action's id is the flow author's text: redacted where the flow
	 * log is stored redacted (C13). */
	char *red = NULL;
	size_t rn = 0;
	if (bw_redact_stored((enum bw_redact_mode)c->redaction))
		red = bw_redact(action_id, strlen(action_id), h_region(c), &rn, NULL);
	snprintf(e->action_id, sizeof(e->action_id), "%s",
	         red ? red : bw_redact_stored((enum bw_redact_mode)c->redaction) ? "[REDACTED]"
	                                                                          : action_id);
	free(red);
	snprintf(e->action_type, sizeof(e->action_type), "%s", type);
	snprintf(e->branch, sizeof(e->branch), "%s", branch);
}

static void h_set_logging(void *ctx, bool on)
{
	struct cc_contact *c = ctx;
	c->logging = on;
}

static bool h_denied(void *ctx, const char *identifier)
{
	struct cc_contact *c = ctx;
	struct bw_fraud_id ids[3];
	size_t n = 0;
	bool all = !identifier, callback = !strcmp(c->rec.channel, "CALLBACK");
	bool endpoint = identifier && !strcmp(identifier, "CustomerEndpoint");
	if (all || (identifier && !strcmp(identifier, "SourceIp")) || (endpoint && !callback)) {
		ids[n].kind = BW_FRAUD_ADDRESS;
		snprintf(ids[n++].value, sizeof(ids[0].value), "%s", c->address);
	}
	if ((all || (identifier && !strcmp(identifier, "Email"))) && c->email[0]) {
		ids[n].kind = BW_FRAUD_EMAIL;
		snprintf(ids[n++].value, sizeof(ids[0].value), "%.254s", c->email);
	}
	if ((all || endpoint) && c->phone_number[0]) {
		ids[n].kind = BW_FRAUD_NUMBER;
		snprintf(ids[n++].value, sizeof(ids[0].value), "%s", c->phone_number);
	}
	return bw_guard_denied_any(c->rec.instance_id, ids, n);
}

static int h_encrypt_input(void *ctx, const char *key_id, const char *attribute)
{
	struct cc_contact *c = ctx;
	struct bw_esdk_key keys[BW_ENCKEY_MAX_ACTIVE];
	bool named = false;
	for (size_t i = 0; i < c->nkeys; i++) {
		keys[i] = (struct bw_esdk_key){c->keys[i].key_id, c->keys[i].public_key};
		named |= !strcmp(c->keys[i].key_id, key_id);
	}
	if (!named || !c->input)
		return -1;
	const struct bw_esdk_pair pairs[] = {{BW_ESDK_CTX_INSTANCE, c->rec.instance_id},
	                                     {BW_ESDK_CTX_CONTACT, c->rec.id},
	                                     {BW_ESDK_CTX_ATTRIBUTE, attribute}};
	char *b64 = NULL;
	bw_result r = bw_esdk_encrypt(keys, c->nkeys, pairs, 3, (const uint8_t *)c->input,
	                              strlen(c->input), &b64);
	wipe_input(c); /* the plaintext is dropped either way */
	/* Encrypted customer input is sensitive (C13), whatever else says so. */
	if (r != BW_OK || bw_class_raise(c->classes, attribute, BW_CLASS_SENSITIVE) != 0) {
		free(b64);
		return -1;
	}
	int rc = h_attr_set(c, attribute, b64);
	free(b64);
	return rc;
}

static void h_blocked(void *ctx)
{
	struct cc_contact *c = ctx;
	c->end_reason = "CONTACT_FILTER";
}

static const struct bw_flow_host host = {
	.say = h_say,
	.attr_get = h_attr_get,
	.attr_set = h_attr_set,
	.ref = h_ref,
	.can_ask = h_can_ask,
	.hours_open = h_hours_open,
	.queue = h_queue,
	.region = h_region,
	.log = h_log,
	.set_logging = h_set_logging,
	.denied = h_denied,
	.blocked = h_blocked,
	.encrypt_input = h_encrypt_input,
	.attr_class = h_attr_class,
	.invoke = cc_invoke_start,
};

static void flow_outcome(struct cc_contact *c, enum bw_flow_outcome out)
{
	switch (out) {
	case BW_FLOW_WAIT:
		c->waiting_input = true;
		c->input_deadline = cc_now() + (double)c->cur.wait_s;
		(void)cc_contact_save(c);
		break;
	case BW_FLOW_QUEUED:
		(void)cc_contact_save(c);
		cc_route(c->in);
		break;
	case BW_FLOW_DISCONNECT:
		(void)cc_contact_end(c, c->end_reason ? c->end_reason : "CONTACT_FLOW_DISCONNECT");
		break;
	case BW_FLOW_FAILED: (void)cc_contact_end(c, "FLOW_ERROR"); break;
	case BW_FLOW_PENDING: (void)cc_contact_save(c); break; /* invoke.c has the call */
	}
}

void cc_flow_continue(struct cc_contact *c)
{
	if (c->ended || !c->flow)
		return;
	if (!strcmp(c->rec.state, "INITIATED"))
		snprintf(c->rec.state, sizeof(c->rec.state), "IN_FLOW");
	flow_outcome(c, bw_flow_run(c->flow->graph, &c->cur, cc_set.flow_step_limit, &host, c));
}

void cc_flow_input(struct cc_contact *c, const char *text, size_t n)
{
	if (!c->waiting_input || c->ended)
		return;
	wipe_input(c);
	c->input = strndup(text, n);
	c->waiting_input = false;
	if (!bw_flow_input(c->flow->graph, &c->cur, false, &host, c)) {
		(void)cc_contact_end(c, "FLOW_ERROR");
		return;
	}
	cc_flow_continue(c);
}

void cc_flow_answer(struct cc_contact *c, const struct bw_flow_answer *ans)
{
	if (!c->waiting_call || c->ended)
		return;
	c->waiting_call = false;
	if (!bw_flow_resume(c->flow->graph, &c->cur, ans, &host, c)) {
		(void)cc_contact_end(c, "FLOW_ERROR");
		return;
	}
	cc_flow_continue(c);
}

static void input_timeout(struct cc_contact *c)
{
	c->waiting_input = false;
	if (!bw_flow_input(c->flow->graph, &c->cur, true, &host, c)) {
		(void)cc_contact_end(c, "FLOW_ERROR");
		return;
	}
	cc_flow_continue(c);
}

/* ---- contacts arriving from workers ---- */

static struct cc_flow *flow_share(const struct bw_contact *rec, struct bw_flow *graph)
{
	char key[112];
	snprintf(key, sizeof(key), "%s@%lld", rec->flow_id, rec->flow_version);
	struct cc_flow *f = cc_map_get(&flows, key);
	if (f) {
		bw_flow_free(graph);
		f->refs++;
		return f;
	}
	f = calloc(1, sizeof(*f));
	if (!f || cc_map_put(&flows, key, f) != 0) {
		free(f);
		bw_flow_free(graph);
		return NULL;
	}
	snprintf(f->key, sizeof(f->key), "%s", key);
	f->graph = graph;
	f->refs = 1;
	return f;
}

struct add_call {
	struct bw_cc_new_contact *n;
	bw_result r;
};

static void add_on_loop(void *arg)
{
	struct add_call *a = arg;
	struct bw_cc_new_contact *n = a->n;
	struct cc_inst *in = cc_inst_get(n->rec.instance_id, true);
	struct cc_contact *c = in ? calloc(1, sizeof(*c)) : NULL;
	if (!c || cc_map_put(&contacts, n->rec.id, c) != 0) {
		free(c);
		a->r = BW_NOMEM;
		return;
	}
	c->in = in;
	c->rec = n->rec;
	c->rec.customer = NULL;
	c->rec.customer_len = 0;
	memcpy(c->display_name, n->display_name, sizeof(c->display_name));
	memcpy(c->email, n->email, sizeof(c->email));
	memcpy(c->address, n->address, sizeof(c->address));
	memcpy(c->phone_number, n->phone_number, sizeof(c->phone_number));
	memcpy(c->region, n->region, sizeof(c->region));
	c->attrs = n->attributes ? n->attributes : json_object();
	n->attributes = NULL;
	c->classes = n->classes ? n->classes : json_object();
	n->classes = NULL;
	c->redaction = n->pii_redaction;
	c->qsnaps = n->queues;
	c->nqsnaps = n->nqueues;
	c->hsnaps = n->hours;
	c->nhsnaps = n->nhours;
	memcpy(c->keys, n->keys, sizeof(c->keys));
	c->nkeys = n->nkeys;
	memset(n->keys, 0, sizeof(n->keys));
	n->nkeys = 0;
	n->queues = NULL;
	n->hours = NULL;
	c->flow = flow_share(&c->rec, n->flow);
	n->flow = NULL;
	if (c->flow)
		bw_flow_begin(c->flow->graph, &c->cur);
	c->logging = true;
	c->next_seq = 1;
	c->last_activity = cc_now();
	c->next = in->contacts;
	if (in->contacts)
		in->contacts->prev = c;
	in->contacts = c;
	a->r = BW_OK;
	/* A callback has no socket to wait for: its flow runs at once. */
	if (strcmp(c->rec.channel, "CHAT") != 0)
		cc_flow_continue(c);
}

bw_result bw_cc_contact_add(struct bw_cc_new_contact *n)
{
	struct add_call a = {n, BW_ERR};
	bw_loop_call(add_on_loop, &a);
	bw_flow_free(n->flow);
	json_decref(n->attributes);
	json_decref(n->classes);
	n->classes = NULL;
	free(n->queues);
	free(n->hours);
	for (size_t i = 0; i < n->nkeys; i++)
		bw_enckey_clear(&n->keys[i]);
	n->nkeys = 0;
	n->flow = NULL;
	n->attributes = NULL;
	n->queues = NULL;
	n->hours = NULL;
	return a.r;
}

json_t *cc_contact_attrs(const struct cc_contact *c, bool view)
{
	json_t *a = bw_class_mask_attrs(c->attrs, c->classes, NULL, view);
	return a ? a : json_object();
}

json_t *cc_contact_json(const struct cc_contact *c, bool view)
{
	char it[40];
	bw_time_rfc3339_ms(c->rec.initiated_at, it, sizeof(it));
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s?, s:o, s:s}", "id", c->rec.id,
	                 "instance_id", c->rec.instance_id, "channel", c->rec.channel, "state",
	                 c->acw ? "AFTER_CONTACT_WORK" : c->rec.state, "queue_id", c->rec.queue_id,
	                 "display_name", c->display_name, "phone_number",
	                 c->phone_number[0] ? c->phone_number : NULL, "attributes",
	                 cc_contact_attrs(c, view), "initiation_timestamp", it);
}

/* ---- the tick ---- */

static void tick_contact(struct cc_contact *c, double now)
{
	if (c->ended) {
		if (c->acw && now >= c->acw_deadline)
			(void)cc_agent_release(c->agent, c);
		else
			cc_contact_release(c); /* once its last socket has closed */
		return;
	}
	if (c->waiting_input && now >= c->input_deadline) {
		input_timeout(c);
		return;
	}
	if (c->waiting_call) {
		cc_invoke_tick(c, now);
		return;
	}
	if (c->offered && now >= c->offer_deadline) {
		cc_offer_expired(c);
		return;
	}
	if (c->acw && now >= c->acw_deadline) {
		(void)cc_agent_release(c->agent, c);
		return;
	}
	bool chat = !strcmp(c->rec.channel, "CHAT");
	/* A chat nobody ever connected to holds memory for nothing. */
	long limit = !strcmp(c->rec.state, "INITIATED") ? cc_set.chat_connect_timeout_s
	                                                : cc_set.chat_idle_timeout_s;
	if (chat && now - c->last_activity > (double)limit)
		(void)cc_contact_end(c, "IDLE_TIMEOUT");
}

static void tick(void)
{
	static unsigned ticks;
	if (++ticks % 100 == 0)
		bw_guard_sweep(); /* every 10 s */
	double now = cc_now();
	for (size_t i = 0; i < cc__insts.cap; i++) {
		struct cc_inst *in = cc__insts.slots[i].val;
		if (!in)
			continue;
		struct cc_contact *c = in->contacts, *next;
		for (; c; c = next) {
			next = c->next;
			tick_contact(c, now);
		}
		if (in->nqueued)
			cc_route(in);
	}
}

/* The contacts live at the last stop, copied (the scan may not call the
 * store: that would reset it). */
struct live {
	struct bw_contact *v;
	size_t n, cap;
	bool short_of_memory;
};

static int collect_live(const struct bw_contact *c, void *arg)
{
	struct live *l = arg;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct bw_contact *v = realloc(l->v, cap * sizeof(*v));
		if (!v) {
			l->short_of_memory = true;
			return 1;
		}
		l->v = v;
		l->cap = cap;
	}
	struct bw_contact *d = &l->v[l->n];
	*d = *c;
	d->customer = c->customer_len ? malloc(c->customer_len) : NULL;
	if (c->customer_len && !d->customer) {
		l->short_of_memory = true;
		return 1;
	}
	if (d->customer)
		memcpy(d->customer, c->customer, c->customer_len);
	l->n++;
	return 0;
}

/* Contacts live at the last stop end with SERVER_RESTART, each record and
 * its contact.ended event (C19) in one transaction: the events are
 * prepared first from the records as the UPDATE will leave them (sealing
 * may write a data key through the keyring's own connection). */
static bw_result end_live_contacts(struct bw_store *s, size_t *n)
{
	struct live l = {0};
	struct bw_events_batch evs = {0};
	long long now = bw_now_ms();
	bw_result r = bw_store_contacts_live(s, collect_live, &l);
	if (l.short_of_memory) /* they end all the same, some without their event */
		bw_log(BW_LOG_ERROR, "not every contact ended at start could queue its event");
	for (size_t i = 0; i < l.n && r == BW_OK; i++) {
		struct bw_contact *c = &l.v[i];
		if (!strcmp(c->state, "AFTER_CONTACT_WORK"))
			c->acw_ended_at = now;
		snprintf(c->state, sizeof(c->state), "ENDED");
		if (!c->disconnect_reason[0])
			snprintf(c->disconnect_reason, sizeof(c->disconnect_reason), "SERVER_RESTART");
		if (!c->disconnected_at)
			c->disconnected_at = now;
		c->updated_at = now;
		char key[112];
		snprintf(key, sizeof(key), "%s/%lld", c->id, now);
		struct bw_event_src e = {.type = "contact.ended",
		                         .instance_id = c->instance_id,
		                         .contact = c,
		                         .dedup_key = key,
		                         .time_ms = now,
		                         .queue_id = c->queue_id,
		                         .channel = c->channel,
		                         .agent_id = c->agent_id};
		if (bw_events_prepare(s, &e, &evs) != BW_OK)
			bw_log(BW_LOG_ERROR, "a contact event could not be queued", "contact", c->id);
	}
	bool batch = r == BW_OK && bw_store_batch_begin(s) == BW_OK;
	if (r == BW_OK)
		r = bw_store_contacts_end_live(s, "SERVER_RESTART", now, n);
	if (r == BW_OK)
		r = bw_events_write(s, &evs);
	if (batch)
		r = bw_store_batch_end(s, r);
	bw_events_batch_clear(&evs);
	for (size_t i = 0; i < l.n; i++)
		bw_contact_clear(&l.v[i]);
	free(l.v);
	return r;
}

bw_result bw_cc_start(const struct bw_config *cfg, const char *db_path, int durability)
{
	cc_set.offer_timeout_s = (long)bw_config_int(cfg, "offer_timeout_s");
	cc_set.acw_timeout_s = (long)bw_config_int(cfg, "acw_timeout_s");
	cc_set.chat_idle_timeout_s = (long)bw_config_int(cfg, "chat_idle_timeout_s");
	cc_set.chat_connect_timeout_s = (long)bw_config_int(cfg, "chat_connect_timeout_s");
	cc_set.flow_step_limit = (long)bw_config_int(cfg, "flow_step_limit");
	cc_set.max_message_chars = (long)bw_config_int(cfg, "chat_max_message_chars");
	struct bw_store *s = NULL;
	bw_result r = bw_store_open(&s, db_path, durability ? BW_DURABILITY_FULL
	                                                    : BW_DURABILITY_NORMAL);
	size_t n = 0;
	if (r == BW_OK)
		r = end_live_contacts(s, &n);
	if (r == BW_OK && n) {
		char num[24];
		snprintf(num, sizeof(num), "%zu", n);
		bw_log(BW_LOG_INFO, "contacts live at the last stop were ended", "count", num,
		       "reason", "SERVER_RESTART");
	}
	/* The deny list and the windows come back from the store. */
	if (r == BW_OK)
		r = bw_guard_start(s, bw_now_ms(), (int)bw_config_int(cfg, "public_rate_limit"),
		                   (int)bw_config_int(cfg, "public_rate_window_s"));
	bw_store_close(s);
	if (r != BW_OK)
		return r;
	bw_server_set_tick(tick);
	bw_server_set_public_guard(bw_guard_public_inline);
	return cc_persist_start(db_path, durability);
}

static void free_agent(struct cc_agent *a)
{
	free(a->queues);
	free(a);
}

void bw_cc_stop(void)
{
	bw_server_set_tick(NULL);
	bw_server_set_public_guard(NULL);
	cc_invoke_stop();
	cc_persist_stop();
	for (size_t i = 0; i < cc__insts.cap; i++) {
		struct cc_inst *in = cc__insts.slots[i].val;
		if (!in)
			continue;
		while (in->contacts) {
			struct cc_contact *c = in->contacts;
			c->ended = true;
			c->ncust = 0;
			c->agent = NULL;
			cc_contact_release(c);
		}
		for (struct cc_agent *a = in->agents, *next; a; a = next) {
			next = a->next;
			free_agent(a);
		}
		for (struct cc_queue *q = in->queues, *next; q; q = next) {
			next = q->next;
			free(q);
		}
		free(in);
	}
	bw_guard_stop();
	cc_map_free(&cc__insts);
	cc_map_free(&contacts);
	cc_map_free(&flows);
}
