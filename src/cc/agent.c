/* Agents: presence (status, routing profile, streams), the agent stream,
 * and the actions workers ask for (accept, reject, end, message, stop),
 * each run on the loop and answered once its writes are stored. */
#include <stdlib.h>
#include <string.h>

#include "cc/engine_int.h"
#include "core/ids.h"
#include "core/json.h"

static struct cc_agent *agent_get(const char *iid, const char *uid, bool create)
{
	struct cc_inst *in = cc_inst_get(iid, create);
	if (!in)
		return NULL;
	struct cc_agent *a = cc_agent_find(in, uid);
	if (a || !create)
		return a;
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->in = in;
	snprintf(a->uid, sizeof(a->uid), "%s", uid);
	snprintf(a->status, sizeof(a->status), "Offline");
	a->next = in->agents;
	if (in->agents)
		in->agents->prev = a;
	in->agents = a;
	return a;
}

static void update_on_loop(void *arg)
{
	const struct bw_cc_agent_info *i = arg;
	struct cc_agent *a = agent_get(i->instance_id, i->user_id, true);
	if (!a)
		return;
	snprintf(a->name, sizeof(a->name), "%s", i->name);
	a->cap_chat = i->cap_chat;
	a->cap_callback = i->cap_callback;
	a->outbound = i->outbound;
	a->sensitive_view = i->sensitive_view;
	struct bw_rp_queue *q = i->nqueues ? malloc(i->nqueues * sizeof(*q)) : NULL;
	if (q || !i->nqueues) {
		free(a->queues);
		a->queues = q;
		a->nqueues = i->nqueues;
		if (q)
			memcpy(q, i->queues, i->nqueues * sizeof(*q));
	}
	/* The queues an agent serves show in the real-time figures at once. */
	for (size_t k = 0; k < a->nqueues; k++)
		(void)cc_queue_live(a->in, a->queues[k].queue_id, true);
	if (strcmp(a->status, i->status) != 0)
		cc_agent_set_status(a, i->status);
	cc_route(a->in);
}

void bw_cc_agent_update(const struct bw_cc_agent_info *a)
{
	bw_loop_call(update_on_loop, (void *)a);
}

/* ---- the stream ---- */

static void hello(struct bw_ws *ws, struct cc_agent *a)
{
	json_t *list = json_array();
	for (int i = 0; i < a->nheld; i++)
		json_array_append_new(list, cc_contact_json(a->held[i], a->sensitive_view));
	json_t *off = a->offer ? cc_contact_json(a->offer, a->sensitive_view) : json_null();
	bw_ws_send_json(ws, json_pack("{s:s, s:s, s:s, s:o, s:o}", "type", "hello", "agent_id",
	                              a->uid, "status", a->status, "contacts", list, "offer", off));
}

static void on_open(struct bw_ws *ws)
{
	const struct bw_principal *p = bw_ws_principal(ws);
	struct cc_agent *a = agent_get(p->instance_id, p->id, true);
	if (!a || a->nws == CC_MAX_SOCKETS) {
		bw_ws_close(ws, 1008, "too many streams for this agent");
		return;
	}
	a->ws[a->nws++] = ws;
	bw_ws_set_user(ws, a);
	hello(ws, a);
	cc_route(a->in);
}

static void on_close(struct bw_ws *ws)
{
	struct cc_agent *a = bw_ws_user(ws);
	if (!a)
		return;
	for (int i = 0; i < a->nws; i++)
		if (a->ws[i] == ws) {
			a->ws[i] = a->ws[--a->nws];
			break;
		}
	bw_ws_set_user(ws, NULL);
}

static void send_error(struct bw_ws *ws, const char *code, const char *msg)
{
	bw_ws_send_json(ws, json_pack("{s:s, s:s, s:s}", "type", "error", "code", code, "message",
	                              msg));
}

static struct cc_contact *held_by(struct cc_agent *a, const char *cid)
{
	for (int i = 0; cid && i < a->nheld; i++)
		if (!strcmp(a->held[i]->rec.id, cid))
			return a->held[i];
	return NULL;
}

static void on_message(struct bw_ws *ws, const char *text, size_t len)
{
	struct cc_agent *a = bw_ws_user(ws);
	const char *why = NULL;
	if (!a)
		return;
	json_t *v = bw_json_parse(text, len, &why);
	if (!v || !json_is_object(v)) {
		send_error(ws, "InvalidJson", v ? "a frame is a JSON object" : why);
		json_decref(v);
		return;
	}
	const char *type = bw_json_str(v, "type");
	const json_t *content = json_object_get(v, "content");
	struct cc_contact *c = held_by(a, bw_json_str(v, "contact_id"));
	if (type && !strcmp(type, "ping")) {
		bw_ws_send_json(ws, json_pack("{s:s}", "type", "pong"));
	} else if (!type || (strcmp(type, "message") && strcmp(type, "typing"))) {
		send_error(ws, "InvalidParameter", "type is message, typing or ping");
	} else if (!c) {
		send_error(ws, "NotFound", "no such contact among yours");
	} else if (c->ended) {
		send_error(ws, "ContactEnded", "the contact has ended");
	} else if (!strcmp(type, "typing")) {
		cc_event(c, "typing", "AGENT", a->name, NULL);
	} else if (!json_is_string(content) || json_object_size(v) != 3) {
		send_error(ws, "InvalidParameter", "a message frame holds type, contact_id and content");
	} else {
		const char *s = json_string_value(content);
		size_t n = json_string_length(content);
		bool too_long = false;
		const char *bad = strlen(s) != n ? "a message holds no NUL"
		                                 : bw_cc_text_check(s, n, cc_set.max_message_chars,
		                                                    &too_long);
		if (bad)
			send_error(ws, too_long ? "PayloadTooLarge" : "InvalidParameter", bad);
		else
			(void)cc_message(c, "AGENT", a->uid, a->name, s, n, NULL);
	}
	json_decref(v);
}

const struct bw_ws_ops bw_cc_agent_ws = {
	.open = on_open,
	.message = on_message,
	.close = on_close,
};

/* ---- actions from workers ---- */

enum op_kind { OP_ACCEPT, OP_REJECT, OP_END, OP_MESSAGE, OP_STOP, OP_OUTCOME };

struct op {
	enum op_kind kind;
	const char *iid, *uid, *cid, *text, *note;
	bool view; /* the caller holds SensitiveData.View */
	json_t *out;
	const char *why;
	bw_result r;
	unsigned long long ticket;
};

static void op_agent(struct op *o, struct cc_agent *a, struct cc_contact *c)
{
	bool offered_here = c && c->offered && c->agent == a;
	bool held = c && !c->offered && c->agent == a;
	switch (o->kind) {
	case OP_ACCEPT:
	case OP_REJECT:
		if (!offered_here) {
			o->r = c && !strcmp(a->last_offer, c->rec.id) ? BW_CONFLICT
			       : held                                 ? BW_CONFLICT
			                                              : BW_NOTFOUND;
			return;
		}
		if (o->kind == OP_REJECT) {
			cc_reject(a, c);
			o->r = BW_OK;
		} else if ((o->r = cc_accept(a, c)) == BW_OK) {
			o->out = cc_contact_json(c, o->view);
			o->ticket = cc_contact_save(c);
			cc_route(a->in);
		}
		return;
	case OP_END:
		if (!held) {
			o->r = BW_NOTFOUND;
			return;
		}
		if (!c->ended) {
			o->ticket = cc_contact_end(c, "AGENT_DISCONNECT");
			o->out = cc_contact_json(c, o->view);
		} else {
			o->out = cc_contact_json(c, o->view);
			json_object_set_new(o->out, "state", json_string("ENDED"));
			(void)cc_agent_release(a, c);
		}
		o->r = BW_OK;
		return;
	case OP_MESSAGE: {
		if (!held) {
			o->r = BW_NOTFOUND;
			return;
		}
		if (c->ended) {
			o->r = BW_CONFLICT;
			return;
		}
		size_t n = strlen(o->text);
		bool too_long = false;
		if ((o->why = bw_cc_text_check(o->text, n, cc_set.max_message_chars, &too_long))) {
			o->r = too_long ? BW_TOOBIG : BW_INVALID;
			return;
		}
		o->ticket = cc_message(c, "AGENT", a->uid, a->name, o->text, n, &o->out);
		o->r = BW_OK;
		return;
	}
	case OP_OUTCOME:
		if (!held) {
			o->r = BW_NOTFOUND;
			return;
		}
		if (strcmp(c->rec.channel, "CALLBACK") != 0) {
			o->r = BW_INVALID;
			o->why = "only a callback has an outcome";
			return;
		}
		json_object_set_new(c->attrs, "callback_outcome", json_string(o->text));
		if (o->note)
			json_object_set_new(c->attrs, "callback_note", json_string(o->note));
		else
			json_object_del(c->attrs, "callback_note");
		o->out = cc_contact_json(c, o->view);
		o->ticket = cc_contact_save(c);
		o->r = BW_OK;
		return;
	case OP_STOP: break;
	}
}

static void op_on_loop(void *arg)
{
	struct op *o = arg;
	struct cc_inst *in = cc_inst_get(o->iid, false);
	struct cc_contact *c = cc_contact_find(o->cid);
	if (!in || !c || c->in != in) {
		o->r = BW_NOTFOUND;
		return;
	}
	if (o->kind == OP_STOP) {
		if (c->ended) {
			o->r = BW_CONFLICT;
			return;
		}
		o->ticket = cc_contact_end(c, "API");
		o->r = BW_OK;
		return;
	}
	struct cc_agent *a = cc_agent_find(in, o->uid);
	if (!a) {
		o->r = BW_NOTFOUND;
		return;
	}
	op_agent(o, a, c);
}

static bw_result run_op(struct op *o, json_t **out)
{
	bw_loop_call(op_on_loop, o);
	cc_persist_wait(o->ticket);
	if (out)
		*out = o->out;
	else
		json_decref(o->out);
	return o->r;
}

bw_result bw_cc_accept(const char *iid, const char *uid, const char *cid, bool view, json_t **out)
{
	struct op o = {.kind = OP_ACCEPT, .iid = iid, .uid = uid, .cid = cid, .view = view};
	return run_op(&o, out);
}

bw_result bw_cc_reject(const char *iid, const char *uid, const char *cid)
{
	struct op o = {.kind = OP_REJECT, .iid = iid, .uid = uid, .cid = cid};
	return run_op(&o, NULL);
}

bw_result bw_cc_agent_end(const char *iid, const char *uid, const char *cid, bool view,
                          json_t **out)
{
	struct op o = {.kind = OP_END, .iid = iid, .uid = uid, .cid = cid, .view = view};
	return run_op(&o, out);
}

bw_result bw_cc_agent_message(const char *iid, const char *uid, const char *cid,
                              const char *text, json_t **out, const char **why)
{
	struct op o = {.kind = OP_MESSAGE, .iid = iid, .uid = uid, .cid = cid, .text = text};
	bw_result r = run_op(&o, out);
	*why = o.why;
	return r;
}

bw_result bw_cc_outcome(const char *iid, const char *uid, const char *cid, const char *outcome,
                        const char *note, bool view, json_t **out, const char **why)
{
	struct op o = {.kind = OP_OUTCOME, .iid = iid, .uid = uid, .cid = cid, .text = outcome,
	               .note = note, .view = view};
	bw_result r = run_op(&o, out);
	*why = o.why;
	return r;
}

bw_result bw_cc_stop_contact(const char *iid, const char *cid)
{
	struct op o = {.kind = OP_STOP, .iid = iid, .cid = cid};
	return run_op(&o, NULL);
}
