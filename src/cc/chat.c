/* The chat channel (K2): the customer's socket, messages both ways (stored
 * before anyone sees them), typing and end events, and the transcript kept
 * in memory for a socket that reconnects. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "cc/engine_int.h"
#include "core/ids.h"
#include "core/json.h"
#include "sec/classify.h"
#include "sec/redact.h"

const char *bw_cc_text_check(const char *s, size_t n, long max, bool *too_long)
{
	*too_long = false;
	if (n == 0)
		return "a message holds at least one character";
	long chars = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char b = (unsigned char)s[i];
		if ((b < 0x20 && b != '\n' && b != '\t') || b == 0x7f)
			return "a message holds no control characters";
		if (b == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
		    (unsigned char)s[i + 1] <= 0x9f)
			return "a message holds no control characters";
		chars += (b & 0xc0) != 0x80;
	}
	if (chars > max) {
		*too_long = true;
		return "the message is longer than the chat allows";
	}
	return NULL;
}

bool bw_cc_name_ok(const char *s, long max_chars)
{
	bool too_long;
	return s && !strpbrk(s, "\n\t") && !bw_cc_text_check(s, strlen(s), max_chars, &too_long);
}

static void send_all_customers(struct cc_contact *c, const char *text, size_t len)
{
	for (int i = 0; i < c->ncust; i++)
		bw_ws_send(c->cust[i], text, len);
}

void cc_customer_send_json(struct cc_contact *c, json_t *v)
{
	char *s = v ? json_dumps(v, JSON_COMPACT) : NULL;
	json_decref(v);
	if (s) {
		send_all_customers(c, s, strlen(s));
		free(s);
	}
}

static bool agent_present(const struct cc_contact *c)
{
	return c->agent && !c->offered;
}

void cc_event(struct cc_contact *c, const char *event, const char *role, const char *name,
              const char *reason)
{
	char t[40];
	bw_time_rfc3339_ms(bw_now_ms(), t, sizeof(t));
	json_t *v = json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s, s:s?}", "type", "event", "contact_id",
	                      c->rec.id, "event", event, "participant_role", role, "display_name",
	                      name, "time", t, "reason", reason);
	char *s = v ? json_dumps(v, JSON_COMPACT) : NULL;
	json_decref(v);
	if (!s)
		return;
	bool typing = !strcmp(event, "typing");
	bool from_agent = role && !strcmp(role, "AGENT");
	if (!typing || from_agent)
		send_all_customers(c, s, strlen(s));
	if (agent_present(c) && (!typing || !from_agent))
		cc_agent_send(c->agent, s, strlen(s));
	free(s);
}

static char *message_frame(const struct cc_contact *c, const struct bw_contact_message *m,
                           const char *display_name, const char *text, size_t n, json_t **out)
{
	char t[40];
	bw_time_rfc3339_ms(m->time, t, sizeof(t));
	json_t *v = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s%, s:s}", "type", "message",
	                      "contact_id", c->rec.id, "id", m->id, "participant_role", m->role,
	                      "display_name", display_name, "content", text, n, "time", t);
	char *frame = v ? json_dumps(v, JSON_COMPACT) : NULL;
	if (out && v) {
		json_object_del(v, "type");
		*out = json_incref(v);
	}
	json_decref(v);
	return frame;
}

/* Every message of the chat. With pii_redaction (C13) the stored text, the
 * agent's frame, or both, carry the redacted text; the customer always
 * sees what was typed. */
unsigned long long cc_message(struct cc_contact *c, const char *role, const char *sender_id,
                              const char *display_name, const char *text, size_t n,
                              json_t **out)
{
	struct bw_contact_message m;
	memset(&m, 0, sizeof(m));
	bw_id_new(m.id, "ms_");
	memcpy(m.instance_id, c->rec.instance_id, sizeof(m.instance_id));
	memcpy(m.contact_id, c->rec.id, sizeof(m.contact_id));
	m.seq = c->next_seq++;
	snprintf(m.role, sizeof(m.role), "%s", role);
	snprintf(m.sender_id, sizeof(m.sender_id), "%s", sender_id);
	m.time = bw_now_ms();
	c->last_activity = cc_now();
	enum bw_redact_mode mode = (enum bw_redact_mode)c->redaction;
	const char *red = text;
	size_t rn = n;
	char *copy = NULL;
	if (mode != BW_REDACT_OFF) {
		/* Out of memory, nothing of the text goes where redaction is asked. */
		copy = bw_redact(text, n, c->region[0] ? c->region : "US", &rn, NULL);
		red = copy ? copy : "[REDACTED]";
		rn = copy ? rn : strlen(red);
	}
	bool to_agent = bw_redact_agents(mode) && (rn != n || memcmp(red, text, n) != 0);
	char *frame = message_frame(c, &m, display_name, text, n, to_agent ? NULL : out);
	char *agent_frame = to_agent ? message_frame(c, &m, display_name, red, rn, out) : NULL;
	unsigned long long t = bw_redact_stored(mode)
	                           ? cc_persist_message(&m, red, rn, frame, agent_frame)
	                           : cc_persist_message(&m, text, n, frame, agent_frame);
	if (copy) {
		sodium_memzero(copy, rn);
		free(copy);
	}
	return t;
}

void cc_mask(const char *s, size_t n, char *out, size_t outsz)
{
	bw_mask(s, n, true, out, outsz);
}

static void transcript_add(struct cc_contact *c, const char *frame)
{
	if (c->ntranscript == CC_MAX_TRANSCRIPT) {
		sodium_memzero(c->transcript[0], strlen(c->transcript[0]));
		free(c->transcript[0]);
		memmove(c->transcript, c->transcript + 1, sizeof(char *) * (CC_MAX_TRANSCRIPT - 1));
		c->ntranscript--;
	}
	if (!c->transcript && !(c->transcript = calloc(CC_MAX_TRANSCRIPT, sizeof(char *))))
		return;
	char *copy = strdup(frame);
	if (copy)
		c->transcript[c->ntranscript++] = copy;
}

void cc_relay(const char *cid, char *frame, char *agent_frame)
{
	struct cc_contact *c = cc_contact_find(cid);
	size_t n = strlen(frame), an = agent_frame ? strlen(agent_frame) : 0;
	if (c) {
		transcript_add(c, frame); /* the customer's view, for a reconnect */
		send_all_customers(c, frame, n);
		if (agent_present(c))
			cc_agent_send(c->agent, agent_frame ? agent_frame : frame,
			              agent_frame ? an : n);
	}
	sodium_memzero(frame, n);
	free(frame);
	if (agent_frame) {
		sodium_memzero(agent_frame, an);
		free(agent_frame);
	}
}

/* ---- the customer's socket ---- */

static void send_error(struct bw_ws *ws, const char *code, const char *msg)
{
	bw_ws_send_json(ws, json_pack("{s:s, s:s, s:s}", "type", "error", "code", code, "message",
	                              msg));
}

static void on_open(struct bw_ws *ws)
{
	const struct bw_principal *p = bw_ws_principal(ws);
	struct cc_contact *c = cc_contact_find(p->id);
	if (!c || strcmp(c->rec.instance_id, p->instance_id) != 0) {
		/* Ended before this process started, or already gone. */
		bw_ws_send_json(ws, json_pack("{s:s, s:s, s:s}", "type", "event", "contact_id", p->id,
		                              "event", "ended"));
		bw_ws_close(ws, 1000, "the contact has ended");
		return;
	}
	if (c->ncust == CC_MAX_SOCKETS) {
		bw_ws_close(ws, 1008, "too many sockets for this contact");
		return;
	}
	c->cust[c->ncust++] = ws;
	bw_ws_set_user(ws, c);
	for (size_t i = 0; i < c->ntranscript; i++)
		bw_ws_send(ws, c->transcript[i], strlen(c->transcript[i]));
	if (c->ended) {
		bw_ws_send_json(ws, json_pack("{s:s, s:s, s:s, s:s}", "type", "event", "contact_id",
		                              c->rec.id, "event", "ended", "reason",
		                              c->rec.disconnect_reason));
		return;
	}
	if (!strcmp(c->rec.state, "INITIATED"))
		cc_flow_continue(c);
}

static void on_close(struct bw_ws *ws)
{
	struct cc_contact *c = bw_ws_user(ws);
	if (!c)
		return;
	bw_ws_set_user(ws, NULL);
	for (int i = 0; i < c->ncust; i++)
		if (c->cust[i] == ws) {
			c->cust[i] = c->cust[--c->ncust];
			break;
		}
	/* Not released here: a socket can close inside a send to it, while the
	 * engine is still working on the contact. The tick frees it. */
}

static void on_message(struct bw_ws *ws, const char *text, size_t len)
{
	struct cc_contact *c = bw_ws_user(ws);
	const char *why = NULL;
	if (!c)
		return;
	json_t *v = bw_json_parse(text, len, &why);
	if (!v || !json_is_object(v)) {
		send_error(ws, "InvalidJson", v ? "a frame is a JSON object" : why);
		json_decref(v);
		return;
	}
	const char *type = bw_json_str(v, "type");
	const json_t *content = json_object_get(v, "content");
	size_t fields = json_object_size(v);
	if (!type || (strcmp(type, "message") && strcmp(type, "typing") && strcmp(type, "end"))) {
		send_error(ws, "InvalidParameter", "type is message, typing or end");
	} else if (fields != (size_t)(!strcmp(type, "message") ? 2 : 1) ||
	           (!strcmp(type, "message") && !json_is_string(content))) {
		send_error(ws, "InvalidParameter",
		           "a message frame holds type and content (a string); others only type");
	} else if (c->ended) {
		send_error(ws, "ContactEnded", "the contact has ended");
	} else if (!strcmp(type, "typing")) {
		cc_event(c, "typing", "CUSTOMER", c->display_name, NULL);
	} else if (!strcmp(type, "end")) {
		(void)cc_contact_end(c, "CUSTOMER_DISCONNECT");
	} else {
		const char *s = json_string_value(content);
		size_t n = json_string_length(content);
		bool too_long = false;
		const char *bad = strlen(s) != n ? "a message holds no NUL"
		                                 : bw_cc_text_check(s, n, cc_set.max_message_chars,
		                                                    &too_long);
		if (bad) {
			send_error(ws, too_long ? "PayloadTooLarge" : "InvalidParameter", bad);
		} else {
			/* An answer the flow may encrypt (C15) is kept out of the
			 * transcript: everyone sees a mask, the flow gets the value. */
			if (c->waiting_input && c->nkeys) {
				char mask[64];
				cc_mask(s, n, mask, sizeof(mask));
				(void)cc_message(c, "CUSTOMER", "", c->display_name, mask, strlen(mask),
				                 NULL);
			} else {
				(void)cc_message(c, "CUSTOMER", "", c->display_name, s, n, NULL);
			}
			cc_flow_input(c, s, n);
		}
	}
	json_decref(v);
}

const struct bw_ws_ops bw_cc_customer_ws = {
	.open = on_open,
	.message = on_message,
	.close = on_close,
};
