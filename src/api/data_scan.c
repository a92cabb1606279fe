/* GET /v1/instances/{iid}/data-scan [SensitiveData.View] (C13): where the
 * instance's customer data is stored and how much of each class, over a
 * bounded window of contact records (the newest `limit`, within
 * since/until): attributes by class in the sealed customer data, the
 * customer endpoint fields beside them, PII findings by type in the stored
 * transcripts and flow logs. Everything is read and unsealed through the
 * store on this worker; the reply holds counts and attribute names, never
 * a value. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/ids.h"
#include "sec/classify.h"
#include "sec/isettings.h"
#include "sec/redact.h"
#include "sec/seal.h"
#include "store/store.h"

#define SCAN_MAX_MESSAGES 20000 /* per call, across the contacts scanned */
#define SCAN_PAGE 200

struct scan {
	const char *region;
	json_t *classes; /* the instance's attribute_classes now */
	size_t contacts, unreadable_records;
	unsigned by_class[BW_CLASS_COUNT];
	json_t *names; /* name → {class: count} */
	unsigned attr_pii[BW_PII_KINDS];
	unsigned endpoint[4]; /* display_name, email, phone_number, address */
	size_t messages, unreadable_messages, log_entries;
	unsigned msg_pii[BW_PII_KINDS], log_pii[BW_PII_KINDS];
	bool complete;
	bool nomem;
};

static const char *const endpoint_fields[4] = {"display_name", "email", "phone_number",
                                               "address"};

static void count_name(struct scan *s, const char *name, enum bw_class cls)
{
	json_t *per = json_object_get(s->names, name);
	if (!per) {
		per = json_object();
		if (!per || json_object_set_new(s->names, name, per) != 0) {
			s->nomem = true;
			return;
		}
	}
	const char *cn = bw_class_name(cls);
	json_int_t was = json_integer_value(json_object_get(per, cn));
	if (json_object_set_new(per, cn, json_integer(was + 1)) != 0)
		s->nomem = true;
}

/* The record's customer data: endpoint fields and attributes by class;
 * public and internal values (shown to every reader) are also searched
 * for PII, which would mean an attribute is classed too low. */
static void scan_customer(struct scan *s, const struct bw_contact *ct)
{
	json_t *cust = bw_api_contact_customer(ct);
	if (!cust) {
		s->unreadable_records += ct->customer && ct->customer_len;
		return;
	}
	for (int i = 0; i < 4; i++) {
		const char *v = json_string_value(json_object_get(cust, endpoint_fields[i]));
		s->endpoint[i] += v && v[0];
	}
	const json_t *stored = json_object_get(cust, "classes");
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(cust, "attributes"), k, v)
	{
		enum bw_class cls = bw_class_max(stored, s->classes, k);
		s->by_class[cls]++;
		count_name(s, k, cls);
		const char *text = json_string_value(v);
		if (text && cls <= BW_CLASS_INTERNAL &&
		    !bw_redact_count(text, json_string_length(v), s->region, s->attr_pii))
			s->nomem = true;
	}
	json_decref(cust);
}

static bw_result scan_messages(struct bw_ctx *c, struct scan *s, const struct bw_contact *ct)
{
	struct bw_contact_message *page = calloc(SCAN_PAGE, sizeof(*page));
	long long after = 0;
	bw_result r = page ? BW_OK : BW_NOMEM;
	while (r == BW_OK) {
		size_t n = 0;
		if (s->messages + s->unreadable_messages >= SCAN_MAX_MESSAGES) {
			s->complete = false;
			break;
		}
		memset(page, 0, SCAN_PAGE * sizeof(*page));
		r = bw_store_message_list(c->store, c->who.instance_id, ct->id, after, page, SCAN_PAGE,
		                          &n);
		for (size_t i = 0; r == BW_OK && i < n; i++) {
			size_t len = 0;
			uint8_t *pt = bw_api_message_open(&page[i], &len);
			if (!pt) {
				s->unreadable_messages++;
			} else {
				s->messages++;
				if (!bw_redact_count((const char *)pt, len, s->region, s->msg_pii))
					s->nomem = true;
				bw_unseal_free(pt);
			}
			after = page[i].seq;
		}
		for (size_t i = 0; i < n; i++)
			bw_contact_message_clear(&page[i]);
		if (n < SCAN_PAGE)
			break;
	}
	free(page);
	return r;
}

static bw_result scan_flow_log(struct bw_ctx *c, struct scan *s, const struct bw_contact *ct)
{
	struct bw_flow_log_entry *page = calloc(SCAN_PAGE, sizeof(*page));
	long long after = 0;
	bw_result r = page ? BW_OK : BW_NOMEM;
	while (r == BW_OK) {
		size_t n = 0;
		r = bw_store_flow_log_list(c->store, c->who.instance_id, ct->id, after, page, SCAN_PAGE,
		                           &n);
		for (size_t i = 0; r == BW_OK && i < n; i++) {
			s->log_entries++;
			if (!bw_redact_count(page[i].action_id, strlen(page[i].action_id), s->region,
			                     s->log_pii))
				s->nomem = true;
			after = page[i].seq;
		}
		if (n < SCAN_PAGE)
			break;
	}
	free(page);
	return r;
}

static json_t *pii_json(const unsigned counts[BW_PII_KINDS])
{
	json_t *o = json_object();
	for (int k = 0; k < BW_PII_KINDS; k++)
		json_object_set_new(o, bw_pii_name((enum bw_pii)k), json_integer(counts[k]));
	return o;
}

static json_t *time_json(long long ms)
{
	char b[40];
	if (!ms)
		return json_null();
	bw_time_rfc3339_ms(ms < 0 ? 0 : ms, b, sizeof(b));
	return json_string(b);
}

static json_t *reply_json(const struct scan *s, const char *iid, const struct bw_contact_filter *f,
                          size_t limit)
{
	json_t *by_class = json_object(), *ep = json_pack("{s:s}", "stored_in", "contacts.customer");
	for (int k = 0; k < BW_CLASS_COUNT; k++)
		json_object_set_new(by_class, bw_class_name((enum bw_class)k), json_integer(s->by_class[k]));
	for (int i = 0; i < 4; i++)
		json_object_set_new(ep, endpoint_fields[i], json_integer(s->endpoint[i]));
	return json_pack(
	    "{s:s, s:o, s:o, s:I, s:I, s:b, s:I,"
	    " s:{s:s, s:o, s:O, s:o}, s:o,"
	    " s:{s:s, s:I, s:I, s:o}, s:{s:s, s:I, s:o}}",
	    "instance_id", iid, "since", time_json(f->since_ms), "until", time_json(f->until_ms),
	    "limit", (json_int_t)limit, "contacts_scanned", (json_int_t)s->contacts, "complete",
	    s->complete, "unreadable_records", (json_int_t)s->unreadable_records,
	    "attributes", "stored_in", "contacts.customer", "by_class", by_class, "names", s->names,
	    "pii_in_visible_values", pii_json(s->attr_pii),
	    "customer_endpoints", ep,
	    "transcripts", "stored_in", "contact_messages.content", "messages",
	    (json_int_t)s->messages, "unreadable", (json_int_t)s->unreadable_messages, "pii",
	    pii_json(s->msg_pii),
	    "flow_logs", "stored_in", "contact_flow_log.action_id", "entries",
	    (json_int_t)s->log_entries, "pii", pii_json(s->log_pii));
}

/* ?name= as RFC 3339 into *ms; 0 when absent. */
static int time_param(struct bw_ctx *c, const char *name, long long *ms)
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
	if (present && *ms == 0)
		*ms = -1; /* the epoch itself: 0 would mean unbounded to the store */
	return 0;
}

void bw_api_data_scan(struct bw_ctx *c)
{
	struct bw_contact_filter f = {.instance_id = c->who.instance_id};
	struct bw_instance in = {0};
	struct bw_contact *rows = NULL;
	struct scan s = {.complete = true};
	size_t limit, n = 0;
	if (time_param(c, "since", &f.since_ms) || time_param(c, "until", &f.until_ms) ||
	    bw_api_limit(c, &limit))
		return;
	bw_result r = bw_store_instance_get(c->store, c->who.instance_id, &in);
	if (r == BW_OK) {
		s.region = in.default_region[0] ? in.default_region : "US";
		s.classes = bw_isettings_classes(in.settings);
		s.names = json_object();
		rows = calloc(limit + 1, sizeof(*rows));
		r = s.classes && s.names && rows ? BW_OK : BW_NOMEM;
	}
	/* One more than asked: its presence says the window holds more. */
	if (r == BW_OK)
		r = bw_store_contact_search(c->store, &f, rows, limit + 1, &n);
	if (r == BW_OK && n > limit)
		s.complete = false;
	for (size_t i = 0; r == BW_OK && i < n && i < limit; i++) {
		s.contacts++;
		scan_customer(&s, &rows[i]);
		r = scan_messages(c, &s, &rows[i]);
		if (r == BW_OK)
			r = scan_flow_log(c, &s, &rows[i]);
	}
	if (r == BW_OK && s.nomem)
		r = BW_NOMEM;
	if (r == BW_OK)
		bw_reply_json(c, 200, reply_json(&s, c->who.instance_id, &f, limit));
	else
		bw_reply_result(c, r, NULL, NULL);
	for (size_t i = 0; rows && i < n; i++)
		bw_contact_clear(&rows[i]);
	free(rows);
	json_decref(s.classes);
	json_decref(s.names);
	bw_instance_clear(&in);
}
