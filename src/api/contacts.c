/* Contact records (K6), read-only: search, one record, its transcript and
 * its flow log. Customer data and message text are sealed at rest (C14) and
 * opened here only to build the reply, never for a log line; reads of
 * records and transcripts are audited (AREAD in the route table, C8). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/ids.h"
#include "core/log.h"
#include "sec/authz.h"
#include "sec/classify.h"
#include "sec/isettings.h"
#include "sec/seal.h"
#include "store/store.h"

static json_t *str_or_null(const char *s)
{
	json_t *v = s && *s ? json_string(s) : NULL;
	return v ? v : json_null();
}

/* The customer blob {"display_name","email"?,"address","attributes",
 * "classes"}, or NULL when there is none or it does not open. */
json_t *bw_api_contact_customer(const struct bw_contact *c)
{
	uint8_t *pt = NULL;
	size_t n = 0;
	if (!c->customer || !c->customer_len)
		return NULL;
	if (bw_unseal(c->instance_id, "contacts", c->id, "customer", c->customer, c->customer_len,
	              &pt, &n) != BW_OK) {
		bw_log(BW_LOG_ERROR, "contact customer data does not open", "contact_id", c->id);
		return NULL;
	}
	json_t *v = json_loadb((const char *)pt, n, 0, NULL);
	bw_unseal_free(pt);
	if (!json_is_object(v)) {
		json_decref(v);
		return NULL;
	}
	return v;
}

static json_t *member(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_string(v) ? json_incref(v) : json_null();
}

int bw_api_view_load(struct bw_ctx *c, struct bw_api_view *v)
{
	struct bw_instance in = {0};
	v->sensitive = bw_perms_grant(c->who.perms, "SensitiveData.View");
	v->classes = NULL;
	bw_result r = bw_store_instance_get(c->store, c->who.instance_id, &in);
	if (r == BW_OK && !(v->classes = bw_isettings_classes(in.settings)))
		r = BW_NOMEM;
	bw_instance_clear(&in);
	if (r != BW_OK)
		bw_reply_result(c, r, NULL, NULL);
	return r == BW_OK ? 0 : -1;
}

void bw_api_view_clear(struct bw_api_view *v)
{
	json_decref(v->classes);
	v->classes = NULL;
}

/* The attributes as the reader sees them: the class a record stored for
 * each, raised by what the instance says now; sensitive values masked
 * without SensitiveData.View, restricted ones always. */
static json_t *attrs_for(const json_t *cust, const struct bw_api_view *v)
{
	json_t *attrs = json_object_get(cust, "attributes");
	if (!json_is_object(attrs))
		return json_object();
	json_t *m = bw_class_mask_attrs(attrs, json_object_get(cust, "classes"),
	                                v ? v->classes : NULL, v && v->sensitive);
	return m ? m : json_object();
}

json_t *bw_api_contact_json(const struct bw_contact *c, const struct bw_api_view *v)
{
	json_t *cust = bw_api_contact_customer(c);
	json_t *queue = json_null(), *agent = json_null();
	if (c->queue_id[0])
		queue = json_pack("{s:s, s:o, s:o}", "id", c->queue_id, "enqueue_timestamp",
		                  bw_api_time_or_null(c->enqueued_at), "dequeue_timestamp",
		                  bw_api_time_or_null(c->dequeued_at));
	if (c->agent_id[0])
		agent = json_pack("{s:s, s:o}", "id", c->agent_id, "connected_timestamp",
		                  bw_api_time_or_null(c->connected_at));
	json_t *o = json_object();
	json_object_set_new(o, "id", json_string(c->id));
	json_object_set_new(o, "instance_id", json_string(c->instance_id));
	json_object_set_new(o, "channel", json_string(c->channel));
	json_object_set_new(o, "initiation_method", json_string(c->initiation_method));
	json_object_set_new(o, "state", json_string(c->state));
	json_object_set_new(o, "initiation_timestamp", bw_api_time_or_null(c->initiated_at));
	json_object_set_new(o, "entry_point_id", str_or_null(c->entry_point_id));
	json_object_set_new(o, "flow_id", str_or_null(c->flow_id));
	json_object_set_new(o, "flow_version",
	                    c->flow_version ? json_integer(c->flow_version) : json_null());
	/* A callback's endpoint is its number (Amazon Connect's TELEPHONE_NUMBER);
	 * the address it was asked from stays as source_address. */
	bool callback = !strcmp(c->channel, "CALLBACK");
	json_object_set_new(o, "customer_endpoint",
	                    json_pack("{s:s, s:o, s:o, s:o, s:o}", "type",
	                              callback ? "TELEPHONE_NUMBER" : c->channel, "display_name",
	                              member(cust, "display_name"), "email", member(cust, "email"),
	                              "address", member(cust, callback ? "phone_number" : "address"),
	                              "source_address", member(cust, "address")));
	json_object_set_new(o, "queue", queue ? queue : json_null());
	json_object_set_new(o, "agent", agent ? agent : json_null());
	json_object_set_new(o, "attributes", attrs_for(cust, v));
	json_object_set_new(o, "disconnect_reason", str_or_null(c->disconnect_reason));
	json_object_set_new(o, "disconnect_timestamp", bw_api_time_or_null(c->disconnected_at));
	json_object_set_new(o, "after_contact_work_end_timestamp", bw_api_time_or_null(c->acw_ended_at));
	json_object_set_new(o, "last_update_timestamp", bw_api_time_or_null(c->updated_at));
	if (!cust && c->customer && c->customer_len) /* keys (C14): sealed, did not open */
		json_object_set_new(o, "customer_data_error", json_string("Undecryptable"));
	json_decref(cust);
	return o;
}

json_t *bw_api_message_json(const struct bw_contact_message *m, const char *plaintext, size_t len,
                            const char *display_name)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_string(m->id));
	json_object_set_new(o, "participant_role", json_string(m->role));
	if (display_name)
		json_object_set_new(o, "display_name", str_or_null(display_name));
	json_t *text = plaintext ? json_stringn(plaintext, len) : NULL; /* NULL: not UTF-8 */
	json_object_set_new(o, "content", text ? text : json_null());
	json_object_set_new(o, "time", bw_api_time_or_null(m->time));
	return o;
}

/* ---- search ---- */

/* ?name= as RFC 3339 into *ms (left as is when absent). */
static int time_query(struct bw_ctx *c, const char *name, long long *ms)
{
	char buf[48];
	bool present;
	if (bw_api_query(c, name, buf, sizeof(buf), &present) != 0)
		return -1;
	if (present && !bw_time_parse_rfc3339_ms(buf, ms)) {
		bw_reply_error(c, 400, "InvalidParameter",
		               "an RFC 3339 time such as 2026-11-30T12:00:00Z", name);
		return -1;
	}
	/* 0 means unbounded to the store; the epoch itself as -1 ms selects
	 * the same rows, as no contact starts before it. */
	if (present && *ms == 0)
		*ms = -1;
	return 0;
}

/* ?name= into buf: one of the NULL-ended list `one_of`, or an id when it is
 * NULL; *out stays NULL when absent. */
static int text_query(struct bw_ctx *c, const char *name, const char *const *one_of, char *buf,
                      size_t n, const char **out)
{
	bool present;
	*out = NULL;
	if (bw_api_query(c, name, buf, n, &present) != 0)
		return -1;
	if (!present)
		return 0;
	bool ok = !one_of && bw_api_id_ok(buf);
	for (const char *const *v = one_of; v && *v; v++)
		ok = ok || !strcmp(*v, buf);
	if (!ok) {
		bw_reply_error(c, 400, "InvalidParameter",
		               one_of ? "not one of the allowed values" : "not a valid id", name);
		return -1;
	}
	*out = buf;
	return 0;
}

/* next_token: base64url of "<initiated_at ms>:<id>" of the page's last row. */
static json_t *search_token(const struct bw_contact *last)
{
	char raw[80], tok[112];
	int n = snprintf(raw, sizeof(raw), "%lld:%s", last->initiated_at, last->id);
	if (n < 0 || (size_t)n >= sizeof(raw))
		return json_null();
	sodium_bin2base64(tok, sizeof(tok), (const unsigned char *)raw, (size_t)n,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return json_string(tok);
}

static int search_after(struct bw_ctx *c, struct bw_contact_filter *f, char *id, size_t idsz)
{
	char tok[128], raw[96];
	size_t n = 0;
	bool present;
	if (bw_api_query(c, "next_token", tok, sizeof(tok), &present) != 0)
		return -1;
	if (!present)
		return 0;
	char *colon = NULL, *end = NULL;
	if (sodium_base642bin((unsigned char *)raw, sizeof(raw) - 1, tok, strlen(tok), NULL, &n,
	                      NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0) {
		raw[n] = '\0';
		colon = memchr(raw, ':', n);
	}
	if (colon) {
		*colon = '\0';
		f->before_ms = strtoll(raw, &end, 10);
	}
	if (!colon || !raw[0] || *end || strlen(colon + 1) >= idsz || !bw_api_id_ok(colon + 1)) {
		bw_reply_error(c, 400, "InvalidParameter", "next_token is not valid", "next_token");
		return -1;
	}
	memcpy(id, colon + 1, strlen(colon + 1) + 1);
	f->before_id = id;
	return 0;
}

static const char *const channels[] = {"CHAT", "CALLBACK", NULL};
static const char *const states[] = {
    "INITIATED", "IN_FLOW", "QUEUED", "OFFERED", "CONNECTED", "AFTER_CONTACT_WORK", "ENDED", NULL};

void bw_api_contacts_search(struct bw_ctx *c)
{
	char ch[16], qid[64], aid[64], st[32], before[48];
	struct bw_contact_filter f = {.instance_id = c->who.instance_id};
	struct bw_api_view view;
	size_t limit, n = 0;
	if (time_query(c, "since", &f.since_ms) || time_query(c, "until", &f.until_ms) ||
	    text_query(c, "channel", channels, ch, sizeof(ch), &f.channel) ||
	    text_query(c, "queue_id", NULL, qid, sizeof(qid), &f.queue_id) ||
	    text_query(c, "agent_id", NULL, aid, sizeof(aid), &f.agent_id) ||
	    text_query(c, "state", states, st, sizeof(st), &f.state) || bw_api_limit(c, &limit) ||
	    search_after(c, &f, before, sizeof(before)) || bw_api_view_load(c, &view))
		return;
	/* One more than asked: its presence says there is a next page. */
	struct bw_contact *rows = calloc(limit + 1, sizeof(*rows));
	if (!rows) {
		bw_api_view_clear(&view);
		bw_reply_result(c, BW_NOMEM, NULL, NULL);
		return;
	}
	bw_result r = bw_store_contact_search(c->store, &f, rows, limit + 1, &n);
	json_t *items = json_array(), *next = json_null();
	for (size_t i = 0; r == BW_OK && i < n && i < limit; i++)
		json_array_append_new(items, bw_api_contact_json(&rows[i], &view));
	if (r == BW_OK && n > limit) {
		json_decref(next);
		next = search_token(&rows[limit - 1]);
	}
	for (size_t i = 0; i < n; i++)
		bw_contact_clear(&rows[i]);
	free(rows);
	bw_api_view_clear(&view);
	if (r != BW_OK) {
		json_decref(items);
		json_decref(next);
		bw_reply_result(c, r, NULL, NULL);
		return;
	}
	bw_reply_json(c, 200, json_pack("{s:o, s:o}", "items", items, "next_token", next));
}

/* ---- one contact and what hangs off it ---- */

/* The path's contact {cid} of the caller's instance; replies 404 otherwise. */
static int load(struct bw_ctx *c, struct bw_contact *ct)
{
	memset(ct, 0, sizeof(*ct));
	bw_result r = bw_store_contact_get(c->store, c->who.instance_id, c->req->params[1], ct);
	if (r != BW_OK) {
		bw_reply_result(c, r, "no such contact", NULL);
		return -1;
	}
	return 0;
}

void bw_api_contacts_get(struct bw_ctx *c)
{
	struct bw_contact ct;
	struct bw_api_view view;
	if (load(c, &ct) != 0)
		return;
	if (bw_api_view_load(c, &view) == 0)
		bw_reply_json(c, 200, bw_api_contact_json(&ct, &view));
	bw_api_view_clear(&view);
	bw_contact_clear(&ct);
}

/* ?next_token= of a list paged by seq: the last seq seen. */
static int seq_after(struct bw_ctx *c, long long *after)
{
	char tok[24];
	bool present;
	*after = 0;
	if (bw_api_query(c, "next_token", tok, sizeof(tok), &present) != 0)
		return -1;
	if (present) {
		char *end;
		*after = strtoll(tok, &end, 10);
		if (*end || *after < 1) {
			bw_reply_error(c, 400, "InvalidParameter", "next_token is not valid",
			               "next_token");
			return -1;
		}
	}
	return 0;
}

static json_t *seq_token(long long seq)
{
	char b[24];
	snprintf(b, sizeof(b), "%lld", seq);
	return json_string(b);
}

/* Display names of agents met in one transcript page, read once each. */
struct names {
	struct {
		char id[48];
		char name[136];
	} v[8];
	size_t n;
};

static const char *agent_name(struct bw_ctx *c, struct names *nm, const char *uid)
{
	for (size_t i = 0; i < nm->n; i++)
		if (!strcmp(nm->v[i].id, uid))
			return nm->v[i].name[0] ? nm->v[i].name : NULL;
	struct bw_user u = {0};
	const char *name = NULL;
	if (uid[0] && bw_store_user_get(c->store, c->who.instance_id, uid, &u) == BW_OK &&
	    u.first_name[0])
		name = u.first_name;
	if (nm->n < sizeof(nm->v) / sizeof(nm->v[0])) {
		snprintf(nm->v[nm->n].id, sizeof(nm->v[0].id), "%s", uid);
		snprintf(nm->v[nm->n].name, sizeof(nm->v[0].name), "%s", name ? name : "");
		name = nm->v[nm->n].name[0] ? nm->v[nm->n].name : NULL;
		nm->n++;
	} else {
		name = NULL; /* a page with more agents than this is not worth a cache */
	}
	bw_user_clear(&u);
	return name;
}

uint8_t *bw_api_message_open(const struct bw_contact_message *m, size_t *len)
{
	uint8_t *pt = NULL;
	*len = 0;
	if (bw_unseal(m->instance_id, "contact_messages", m->id, "content", m->content,
	              m->content_len, &pt, len) != BW_OK) {
		bw_log(BW_LOG_ERROR, "contact message does not open", "message_id", m->id);
		*len = 0;
		return NULL;
	}
	return pt;
}

/* The opened text of one message as a JSON item; content is null (and the
 * failure logged, without the text) when it does not open. */
static json_t *transcript_item(struct bw_ctx *c, const struct bw_contact_message *m,
                               const char *customer_name, struct names *nm)
{
	const char *who = NULL;
	if (!strcmp(m->role, "CUSTOMER"))
		who = customer_name;
	else if (!strcmp(m->role, "AGENT"))
		who = agent_name(c, nm, m->sender_id);
	else if (!strcmp(m->role, "SYSTEM"))
		who = "SYSTEM";
	size_t n = 0;
	uint8_t *pt = bw_api_message_open(m, &n);
	json_t *o = bw_api_message_json(m, (const char *)pt, n, who);
	if (!pt && m->content_len) /* keys (C14): sealed, did not open */
		json_object_set_new(o, "content_error", json_string("Undecryptable"));
	bw_unseal_free(pt);
	return o;
}

void bw_api_contacts_transcript(struct bw_ctx *c)
{
	struct bw_contact ct;
	struct bw_contact_message *msgs = NULL;
	json_t *cust = NULL;
	size_t limit, n = 0;
	long long after;
	if (bw_api_limit(c, &limit) || seq_after(c, &after) || load(c, &ct) != 0)
		return;
	msgs = calloc(limit + 1, sizeof(*msgs));
	if (!msgs) {
		bw_reply_result(c, BW_NOMEM, NULL, NULL);
		goto out;
	}
	bw_result r =
	    bw_store_message_list(c->store, c->who.instance_id, ct.id, after, msgs, limit + 1, &n);
	if (r != BW_OK) {
		bw_reply_result(c, r, NULL, NULL);
		goto out;
	}
	cust = bw_api_contact_customer(&ct);
	const char *customer_name = json_string_value(json_object_get(cust, "display_name"));
	struct names nm = {.n = 0};
	json_t *items = json_array();
	for (size_t i = 0; i < n && i < limit; i++)
		json_array_append_new(items, transcript_item(c, &msgs[i], customer_name, &nm));
	json_t *next = n > limit ? seq_token(msgs[limit - 1].seq) : json_null();
	bw_reply_json(c, 200, json_pack("{s:o, s:o}", "items", items, "next_token", next));
out:
	for (size_t i = 0; msgs && i < n; i++)
		bw_contact_message_clear(&msgs[i]);
	free(msgs);
	json_decref(cust);
	bw_contact_clear(&ct);
}

void bw_api_contacts_flow_log(struct bw_ctx *c)
{
	struct bw_contact ct;
	size_t limit, n = 0;
	long long after;
	if (bw_api_limit(c, &limit) || seq_after(c, &after) || load(c, &ct) != 0)
		return;
	bw_contact_clear(&ct); /* only its existence in this instance matters */
	struct bw_flow_log_entry *log = calloc(limit + 1, sizeof(*log));
	if (!log) {
		bw_reply_result(c, BW_NOMEM, NULL, NULL);
		return;
	}
	bw_result r =
	    bw_store_flow_log_list(c->store, c->who.instance_id, ct.id, after, log, limit + 1, &n);
	if (r != BW_OK) {
		free(log);
		bw_reply_result(c, r, NULL, NULL);
		return;
	}
	json_t *items = json_array();
	for (size_t i = 0; i < n && i < limit; i++)
		json_array_append_new(
		    items, json_pack("{s:o, s:s, s:s, s:s}", "time", bw_api_time_or_null(log[i].time),
		                     "action_id", log[i].action_id, "action_type",
		                     log[i].action_type, "branch", log[i].branch));
	json_t *next = n > limit ? seq_token(log[limit - 1].seq) : json_null();
	free(log);
	bw_reply_json(c, 200, json_pack("{s:o, s:o}", "items", items, "next_token", next));
}
