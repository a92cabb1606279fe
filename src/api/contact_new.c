/* Starting a contact from a public entry (chat, callback): the entry point
 * and its flow at the latest published version, the queues and hours the
 * flow names (snapshots for the engine), the record stored before the
 * engine takes the contact. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "cc/engine.h"
#include "core/ids.h"
#include "flow/flow.h"
#include "sec/isettings.h"
#include "sec/seal.h"
#include "store/store.h"

/* The queues and hours the flow document names, read now for the engine. */
static bw_result snapshots(struct bw_ctx *c, const char *iid, const json_t *doc,
                           struct bw_cc_new_contact *n)
{
	/* As many slots as the flow names (a contact keeps them for its life). */
	size_t i, nq = 0, nh = 0;
	json_t *act;
	json_array_foreach(json_object_get(doc, "Actions"), i, act)
	{
		const json_t *p = json_object_get(act, "Parameters");
		nq += json_object_get(p, "QueueId") != NULL;
		nh += json_object_get(p, "HoursOfOperationId") != NULL;
	}
	nq = nq < BW_CC_MAX_SNAPSHOTS ? nq : BW_CC_MAX_SNAPSHOTS;
	nh = nh < BW_CC_MAX_SNAPSHOTS ? nh : BW_CC_MAX_SNAPSHOTS;
	n->queues = nq ? calloc(nq, sizeof(*n->queues)) : NULL;
	n->hours = nh ? calloc(nh, sizeof(*n->hours)) : NULL;
	if ((nq && !n->queues) || (nh && !n->hours))
		return BW_NOMEM;
	bool encrypts = false;
	json_array_foreach(json_object_get(doc, "Actions"), i, act)
	{
		const json_t *p = json_object_get(act, "Parameters");
		encrypts |= json_object_get(p, "EncryptionKeyId") != NULL;
		const char *qid = json_string_value(json_object_get(p, "QueueId"));
		const char *hid = json_string_value(json_object_get(p, "HoursOfOperationId"));
		struct bw_queue q;
		if (qid && n->nqueues < nq &&
		    bw_store_queue_get(c->store, iid, qid, &q) == BW_OK) {
			struct bw_cc_queue_snap *s = &n->queues[n->nqueues++];
			snprintf(s->id, sizeof(s->id), "%s", q.id);
			s->max_contacts = q.max_contacts;
		}
		struct bw_hoo h = {0};
		if (hid && n->nhours < nh &&
		    bw_store_hoo_get(c->store, iid, hid, &h) == BW_OK) {
			struct bw_cc_hours_snap *s = &n->hours[n->nhours];
			snprintf(s->id, sizeof(s->id), "%s", h.id);
			if (bw_api_hours_of(&h, &s->hours) == 0)
				n->nhours++;
		}
		bw_hoo_clear(&h);
	}
	/* The flow encrypts customer input: the instance's active keys now. */
	if (encrypts && bw_store_enckey_active(c->store, iid, n->keys, &n->nkeys) != BW_OK)
		n->nkeys = 0;
	return BW_OK;
}

/* The entry point's flow at its latest version; 400 naming entry_point. */
static int load_flow(struct bw_ctx *c, const char *iid, const struct bw_entry_point *ep,
                     struct bw_cc_new_contact *n)
{
	struct bw_flow_def f = {0};
	struct bw_flow_version v = {0};
	json_t *doc = NULL;
	bw_result r = bw_store_flow_get(c->store, iid, ep->flow_id, &f);
	if (r == BW_OK && f.latest_version < 1)
		r = BW_NOTFOUND;
	if (r == BW_OK)
		r = bw_store_flow_version_get(c->store, iid, f.id, f.latest_version, &v);
	if (r == BW_OK && !(doc = json_loads(v.content, 0, NULL)))
		r = BW_ERR;
	if (r == BW_OK && bw_flow_load(doc, &n->flow, NULL) != BW_OK)
		r = BW_ERR;
	if (r == BW_OK)
		r = snapshots(c, iid, doc, n);
	if (r == BW_OK) {
		snprintf(n->rec.flow_id, sizeof(n->rec.flow_id), "%s", f.id);
		n->rec.flow_version = f.latest_version;
	}
	json_decref(doc);
	bw_flow_def_clear(&f);
	bw_flow_version_clear(&v);
	if (r == BW_NOTFOUND)
		bw_reply_error(c, 400, "InvalidParameter",
		               "the entry point's flow has no published version", "entry_point");
	else if (r != BW_OK)
		bw_reply_result(c, r, NULL, NULL);
	return r == BW_OK ? 0 : -1;
}

static void free_new(struct bw_cc_new_contact *n)
{
	bw_flow_free(n->flow);
	json_decref(n->attributes);
	json_decref(n->classes);
	n->classes = NULL;
	free(n->queues);
	free(n->hours);
	for (size_t i = 0; i < n->nkeys; i++)
		bw_enckey_clear(&n->keys[i]);
	n->nkeys = 0;
}


int bw_api_contact_prepare(struct bw_ctx *c, const struct bw_instance *in, const char *epid,
                           const char *type, struct bw_cc_new_contact *n)
{
	struct bw_entry_point ep;
	bw_result r = bw_api_id_ok(epid) ? bw_store_ep_get(c->store, in->id, epid, &ep)
	                                 : BW_NOTFOUND;
	if (r == BW_OK && strcmp(ep.type, type) != 0)
		r = BW_NOTFOUND;
	if (r != BW_OK) {
		char msg[96];
		snprintf(msg, sizeof(msg), "no %s entry point of this instance has that id", type);
		bw_reply_error(c, 400, "InvalidParameter", msg, "entry_point");
		return -1;
	}
	if (load_flow(c, in->id, &ep, n) != 0)
		return -1;
	struct bw_contact *rec = &n->rec;
	bw_id_new(rec->id, "ct_");
	snprintf(rec->instance_id, sizeof(rec->instance_id), "%s", in->id);
	snprintf(rec->channel, sizeof(rec->channel), "%s", type);
	snprintf(rec->initiation_method, sizeof(rec->initiation_method), "API");
	snprintf(rec->state, sizeof(rec->state), "INITIATED");
	snprintf(rec->entry_point_id, sizeof(rec->entry_point_id), "%s", ep.id);
	rec->initiated_at = rec->updated_at = bw_now_ms();
	snprintf(n->address, sizeof(n->address), "%s", c->req->peer);
	snprintf(n->region, sizeof(n->region), "%s",
	         ep.default_region[0] ? ep.default_region : in->default_region);
	/* Classification and redaction as the instance says now (C13). */
	struct bw_isettings st;
	bw_isettings_parse(in->settings, &st);
	n->pii_redaction = st.pii_redaction;
	if (!(n->classes = bw_isettings_classes(in->settings))) {
		bw_reply_result(c, BW_NOMEM, NULL, NULL);
		return -1;
	}
	return 0;
}

static bw_result seal_customer(struct bw_cc_new_contact *n)
{
	struct bw_contact *rec = &n->rec;
	free(rec->customer);
	rec->customer = NULL;
	char *cj = bw_cc_customer_json(n->display_name, n->email, n->address, n->phone_number,
	                               n->attributes, n->classes);
	if (!cj)
		return BW_NOMEM;
	bw_result r = bw_seal(rec->instance_id, "contacts", rec->id, "customer", (const uint8_t *)cj,
	                      strlen(cj), &rec->customer, &rec->customer_len);
	sodium_memzero(cj, strlen(cj));
	free(cj);
	return r;
}

int bw_api_contact_start(struct bw_ctx *c, struct bw_cc_new_contact *n,
                         const uint8_t token_hash[32])
{
	bw_result r = seal_customer(n);
	if (r == BW_OK)
		r = bw_store_contact_put(c->store, &n->rec, token_hash);
	free(n->rec.customer);
	n->rec.customer = NULL;
	n->rec.customer_len = 0;
	if (r == BW_OK)
		r = bw_cc_contact_add(n);
	if (r != BW_OK) {
		bw_reply_result(c, r, NULL, NULL);
		return -1;
	}
	return 0;
}

/* A refused contact's record holds the customer data it came with. */
int bw_api_contact_seal(struct bw_cc_new_contact *n)
{
	return seal_customer(n) == BW_OK ? 0 : -1;
}

void bw_api_contact_free(struct bw_cc_new_contact *n)
{
	free_new(n);
	free(n->rec.customer);
	n->rec.customer = NULL;
}
