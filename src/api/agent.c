/* The agent's side (K2, K5): the agent stream, accept / reject / end /
 * message, stopping a contact, and the real-time figures. Each action is
 * the engine's (src/cc/agent.c); this file decodes, checks and answers. */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "cc/engine.h"
#include "sec/auth.h"
#include "sec/authz.h"
#include "store/store.h"

bw_result bw_api_agent_info(struct bw_store *s, const struct bw_user *u,
                            struct bw_cc_agent_info *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->instance_id, sizeof(out->instance_id), "%s", u->instance_id);
	snprintf(out->user_id, sizeof(out->user_id), "%s", u->id);
	snprintf(out->name, sizeof(out->name), "%s", u->first_name[0] ? u->first_name : u->username);
	snprintf(out->status, sizeof(out->status), "%s", u->status[0] ? u->status : "Offline");
	uint64_t perms = 0;
	bw_result pr = bw_auth_user_perms(s, u->instance_id, u->id, &perms);
	if (pr != BW_OK)
		return pr;
	out->outbound = bw_perms_grant(perms, "Contacts.Outbound");
	out->sensitive_view = bw_perms_grant(perms, "SensitiveData.View");
	if (!u->routing_profile_id[0])
		return BW_OK; /* no profile: no capacity, never offered anything */
	struct bw_routing_profile rp = {0};
	bw_result r = bw_store_rp_get(s, u->instance_id, u->routing_profile_id, &rp);
	if (r == BW_NOTFOUND)
		return BW_OK;
	if (r != BW_OK)
		return r;
	out->cap_chat = rp.chat;
	out->cap_callback = rp.callback;
	for (size_t i = 0; i < rp.nqueues && i < BW_CC_MAX_RP_QUEUES; i++)
		out->queues[out->nqueues++] = rp.queues[i];
	bw_routing_profile_clear(&rp);
	return BW_OK;
}

/* Tells the engine about the caller's status and routing profile. */
bw_result bw_api_agent_sync(struct bw_ctx *c, const struct bw_user *u)
{
	struct bw_cc_agent_info info;
	bw_result r = bw_api_agent_info(c->store, u, &info);
	if (r == BW_OK)
		bw_cc_agent_update(&info);
	return r;
}

void bw_api_agent_stream(struct bw_ctx *c)
{
	struct bw_user u = {0};
	bw_result r = bw_store_user_get(c->store, c->who.instance_id, c->who.id, &u);
	if (r == BW_OK)
		r = bw_api_agent_sync(c, &u);
	bw_user_clear(&u);
	if (r != BW_OK) {
		bw_reply_result(c, r, "no such user", NULL);
		return;
	}
	c->resp->ws_accept = true;
	c->resp->principal = c->who;
	c->resp->status = 101;
}

static void reply(struct bw_ctx *c, bw_result r, json_t *v, int status)
{
	if (r == BW_OK) {
		bw_reply_json(c, status, v ? v : json_object());
		return;
	}
	json_decref(v);
	if (r == BW_CONFLICT)
		bw_reply_error(c, 409, "Conflict",
		               "the contact is not in a state that allows this (expired, withdrawn or ended)",
		               NULL);
	else
		bw_reply_result(c, r, "no such contact offered to or held by you", NULL);
}

/* The caller may see sensitive attributes (C13), read at this request. */
static bool sensitive_view(const struct bw_ctx *c)
{
	return bw_perms_grant(c->who.perms, "SensitiveData.View");
}

void bw_api_agent_accept(struct bw_ctx *c)
{
	json_t *v = NULL;
	bw_result r = bw_cc_accept(c->who.instance_id, c->who.id, c->req->params[1],
	                           sensitive_view(c), &v);
	reply(c, r, v, 200);
}

void bw_api_agent_reject(struct bw_ctx *c)
{
	bw_result r = bw_cc_reject(c->who.instance_id, c->who.id, c->req->params[1]);
	reply(c, r, NULL, 200);
}

void bw_api_agent_end(struct bw_ctx *c)
{
	json_t *v = NULL;
	bw_result r = bw_cc_agent_end(c->who.instance_id, c->who.id, c->req->params[1],
	                              sensitive_view(c), &v);
	reply(c, r, v, 200);
}

void bw_api_agent_message(struct bw_ctx *c)
{
	static const char *const fields[] = {"content", NULL};
	const char *text, *why = NULL;
	if (bw_api_only(c, fields) || bw_api_str(c, "content", 1, 64 * 1024, true, &text))
		return;
	json_t *v = NULL;
	bw_result r = bw_cc_agent_message(c->who.instance_id, c->who.id, c->req->params[1], text, &v,
	                                  &why);
	if (r == BW_INVALID || r == BW_TOOBIG) {
		/* A field too long is a bad parameter (413 is for the body's size). */
		bw_reply_error(c, 400, "InvalidParameter", why, "content");
		return;
	}
	reply(c, r, v, 201);
}

void bw_api_agent_outcome(struct bw_ctx *c)
{
	static const char *const fields[] = {"outcome", "note", NULL};
	static const char *const outcomes[] = {"CONNECTED", "NO_ANSWER", "BUSY",
	                                       "VOICEMAIL", "WRONG_NUMBER", "DECLINED", NULL};
	const char *outcome, *note, *why = NULL;
	if (bw_api_only(c, fields) || bw_api_str(c, "outcome", 1, 32, true, &outcome) ||
	    bw_api_str(c, "note", 1, 1024, false, &note))
		return;
	bool known = false;
	for (const char *const *o = outcomes; *o; o++)
		known |= !strcmp(*o, outcome);
	bool too_long = false;
	if (!known || (note && bw_cc_text_check(note, strlen(note), 512, &too_long))) {
		bw_reply_error(c, 400, "InvalidParameter",
		               known ? "note is up to 512 characters of text"
		                     : "outcome is CONNECTED, NO_ANSWER, BUSY, VOICEMAIL, WRONG_NUMBER "
		                       "or DECLINED",
		               known ? "note" : "outcome");
		return;
	}
	json_t *v = NULL;
	bw_result r = bw_cc_outcome(c->who.instance_id, c->who.id, c->req->params[1], outcome, note,
	                            sensitive_view(c), &v, &why);
	if (r == BW_INVALID) {
		bw_reply_error(c, 409, "Conflict", why, NULL);
		return;
	}
	reply(c, r, v, 200);
}

void bw_api_contacts_stop(struct bw_ctx *c)
{
	bw_result r = bw_cc_stop_contact(c->who.instance_id, c->req->params[1]);
	if (r == BW_NOTFOUND) {
		/* Not live here: an ended contact is a conflict, an unknown one 404. */
		struct bw_contact rec = {0};
		if (bw_store_contact_get(c->store, c->who.instance_id, c->req->params[1], &rec) == BW_OK)
			r = BW_CONFLICT;
		bw_contact_clear(&rec);
	}
	reply(c, r, NULL, 200);
}

void bw_api_realtime(struct bw_ctx *c)
{
	json_t *v = bw_cc_realtime(c->req->params[0]);
	if (v)
		bw_reply_json(c, 200, v);
	else
		bw_reply_result(c, BW_NOMEM, NULL, NULL);
}
