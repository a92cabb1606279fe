/* Queuing an event: which subscriptions take it, what each receives (its
 * fields), sealed into the outbox. Producers prepare outside their
 * transaction and write inside it (events.h). */
#include <stdio.h>
#include <stdlib.h>
#include <sodium.h>
#include <string.h>

#include "api/api.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/wipe.h"
#include "events/events.h"
#include "events/subs.h"
#include "sec/isettings.h"
#include "sec/seal.h"

json_t *bw_events_contact_data(struct bw_store *s, const struct bw_contact *c)
{
	struct bw_instance in;
	struct bw_api_view v = {.sensitive = false, .classes = NULL};
	memset(&in, 0, sizeof(in));
	if (bw_store_instance_get(s, c->instance_id, &in) == BW_OK)
		v.classes = bw_isettings_classes(in.settings);
	bw_instance_clear(&in);
	json_t *o = bw_api_contact_json(c, &v);
	json_decref(v.classes);
	return o;
}

static bw_result grow(struct bw_events_batch *b)
{
	if (b->n < b->cap)
		return BW_OK;
	size_t cap = b->cap ? b->cap * 2 : 4;
	struct bw_outbox_row *r = realloc(b->rows, cap * sizeof(*r));
	if (!r)
		return BW_NOMEM;
	b->rows = r;
	b->cap = cap;
	return BW_OK;
}

/* The envelope of docs/api.md, sealed into a new row of b. */
static bw_result add_row(struct bw_events_batch *b, const struct bw_event_sub_row *sub,
                         const json_t *cfg, const struct bw_event_src *e, const json_t *full,
                         const char *eid)
{
	char when[40], row[112];
	bw_result r = grow(b);
	if (r != BW_OK)
		return r;
	bw_time_rfc3339_ms(e->time_ms, when, sizeof(when));
	json_t *data = bw_event_project(cfg, e->type, full);
	json_t *env = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "id", eid, "type", e->type,
	                        "time", when, "instance_id", e->instance_id, "subscription_id",
	                        sub->id, "dedup_key", e->dedup_key, "data",
	                        data ? data : json_null());
	char *text = env ? json_dumps(env, JSON_COMPACT) : NULL;
	json_decref(env);
	if (!text)
		return BW_NOMEM;
	struct bw_outbox_row *o = &b->rows[b->n];
	memset(o, 0, sizeof(*o));
	snprintf(o->id, sizeof(o->id), "%s", eid);
	snprintf(o->instance_id, sizeof(o->instance_id), "%s", e->instance_id);
	snprintf(o->subscription_id, sizeof(o->subscription_id), "%.47s", sub->id);
	snprintf(o->type, sizeof(o->type), "%s", e->type);
	snprintf(o->dedup_key, sizeof(o->dedup_key), "%s", e->dedup_key);
	o->created_at = o->next_at = e->time_ms;
	snprintf(row, sizeof(row), "%.47s/%.47s", sub->id, eid);
	size_t len = strlen(text);
	r = bw_seal(e->instance_id, "event_outbox", row, "payload", (const uint8_t *)text, len,
	            &o->payload, &o->payload_len);
	bw_wipe_free(text, len);
	if (r == BW_OK)
		b->n++;
	return r;
}

/* The handling agent's hierarchy group into g ("" when none). */
static void agent_group(struct bw_store *s, const struct bw_event_src *e, char *g, size_t n)
{
	struct bw_user u;
	memset(&u, 0, sizeof(u));
	g[0] = '\0';
	if (!e->agent_id || !e->agent_id[0])
		return;
	if (bw_store_user_get(s, e->instance_id, e->agent_id, &u) == BW_OK)
		snprintf(g, n, "%s", u.hierarchy_group);
	bw_user_clear(&u);
}

bw_result bw_events_prepare(struct bw_store *s, const struct bw_event_src *e,
                            struct bw_events_batch *b)
{
	struct bw_event_sub_row subs[BW_EVENT_SUBS_MAX];
	size_t n = 0;
	bw_result r = bw_store_event_sub_list(s, e->instance_id, NULL, true, subs,
	                                      BW_EVENT_SUBS_MAX, &n);
	if (r != BW_OK || n == 0)
		return r;
	char eid[BW_ID_LEN], group[136];
	bool looked = false;
	const json_t *full = e->data;
	json_t *owned = NULL;
	bw_id_new(eid, "et_");
	group[0] = '\0';
	for (size_t i = 0; i < n && r == BW_OK; i++) {
		json_t *cfg = bw_event_sub_config_load(subs[i].config);
		if (!cfg) {
			bw_log(BW_LOG_ERROR, "an event subscription's settings do not read",
			       "subscription", subs[i].id);
			continue;
		}
		if (!looked && bw_event_sub_needs_group(cfg)) {
			agent_group(s, e, group, sizeof(group));
			looked = true;
		}
		if (bw_event_sub_takes(cfg, e, group)) {
			if (!full && e->contact && !(full = owned = bw_events_contact_data(s, e->contact)))
				r = BW_NOMEM;
			if (r == BW_OK)
				r = add_row(b, &subs[i], cfg, e, full, eid);
		}
		json_decref(cfg);
	}
	for (size_t i = 0; i < n; i++)
		bw_event_sub_row_clear(&subs[i]);
	json_decref(owned);
	return r;
}

bw_result bw_events_write(struct bw_store *s, const struct bw_events_batch *b)
{
	return b->n ? bw_store_outbox_insert(s, b->rows, b->n) : BW_OK;
}

void bw_events_batch_clear(struct bw_events_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		bw_outbox_row_clear(&b->rows[i]);
	free(b->rows);
	memset(b, 0, sizeof(*b));
}
