/* An instance's event subscriptions (C18, docs/api.md "Event
 * subscriptions"): what it streams, filtered and projected, to which sink;
 * their delivery figures and dead letters. A webhook sink's integration
 * must be the instance's, its path one the integration may call and POST
 * one of its methods; a nats or warehouse sink needs the server to have
 * one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/ids.h"
#include "core/log.h"
#include "events/events.h"
#include "events/subs.h"
#include "integ/integ.h"
#include "store/store.h"

static json_t *sub_json(struct bw_ctx *c, const struct bw_event_sub_row *r, const json_t *cfg)
{
	long long pending = 0, dead = 0;
	json_t *o = cfg ? json_deep_copy(cfg) : json_object();
	if (bw_store_outbox_counts(c->store, r->instance_id, r->id, &pending, &dead) != BW_OK)
		bw_log(BW_LOG_WARN, "event subscription counts not read", "subscription", r->id);
	json_object_set_new(o, "id", json_string(r->id));
	json_object_set_new(o, "name", json_string(r->name));
	json_object_set_new(o, "enabled", json_boolean(r->enabled));
	json_object_set_new(o, "created_at", bw_api_time_or_null(r->created_at));
	json_object_set_new(o, "updated_at", bw_api_time_or_null(r->updated_at));
	json_object_set_new(o, "stats",
	                    json_pack("{s:I, s:I, s:I, s:o, s:o, s:o}", "pending",
	                              (json_int_t)pending, "delivered", (json_int_t)r->delivered,
	                              "dead", (json_int_t)dead, "last_delivered_at",
	                              bw_api_time_or_null(r->last_delivered_at), "last_error",
	                              r->last_error[0] ? json_string(r->last_error) : json_null(),
	                              "last_error_at", bw_api_time_or_null(r->last_error_at)));
	return o;
}

static const char *const fields[] = {"name", "event_types", "filters", "fields",
                                     "sink", "enabled",     NULL};

static int enabled_in(struct bw_ctx *c, bool *enabled)
{
	json_t *v = json_object_get(c->in, "enabled");
	if (!v)
		return 0;
	if (!json_is_boolean(v)) {
		bw_reply_error(c, 400, "InvalidParameter", "enabled must be true or false",
		               "enabled");
		return -1;
	}
	*enabled = json_is_true(v);
	return 0;
}

static int bad(struct bw_ctx *c, const char *field, const char *msg)
{
	bw_reply_error(c, 400, "InvalidParameter", msg, field);
	return -1;
}

/* The settings as a whole: types given, the sink there and usable here. */
static int check_whole(struct bw_ctx *c, const json_t *cfg)
{
	char msg[512];
	const json_t *sink = json_object_get(cfg, "sink");
	const char *type = json_string_value(json_object_get(sink, "type"));
	if (json_array_size(json_object_get(cfg, "event_types")) == 0)
		return bad(c, "event_types", "event_types is required: 1 to 4 event types");
	if (!type)
		return bad(c, "sink", "sink is required");
	if (!bw_events_sink_configured(type)) {
		snprintf(msg, sizeof(msg),
		         "sink.type %s: this server has no %s configured (the operator's setting)",
		         type, !strcmp(type, "nats") ? "nats_url" : "warehouse_url");
		return bad(c, "sink.type", msg);
	}
	if (!strcmp(type, "warehouse")) {
		const json_t *t = json_object_get(cfg, "event_types");
		if (json_array_size(t) != 1 ||
		    strcmp(json_string_value(json_array_get(t, 0)), "contact.ended"))
			return bad(
			    c, "event_types",
			    "a warehouse sink takes contact.ended only (it keeps contact records)");
	}
	if (strcmp(type, "webhook"))
		return 0;
	struct bw_integration_row row;
	struct bw_integ_config ic;
	const char *ig = json_string_value(json_object_get(sink, "integration_id"));
	const char *path = json_string_value(json_object_get(sink, "path"));
	bw_result r = bw_store_integration_get(c->store, c->who.instance_id, ig, &row);
	if (r == BW_NOTFOUND)
		return bad(c, "sink.integration_id",
		           "sink.integration_id names no integration of "
		           "this instance");
	if (r != BW_OK) {
		bw_reply_result(c, r, NULL, NULL);
		return -1;
	}
	bw_integ_config_init(&ic);
	int rc = 0;
	const char *why;
	if (bw_integ_config_load(&ic, row.config) != BW_OK) {
		bw_reply_result(c, BW_ERR, NULL, NULL);
		rc = -1;
	} else if (!(ic.methods & BW_INTEG_POST)) {
		rc = bad(
		    c, "sink.integration_id",
		    "the integration does not allow POST (allowed_methods), which webhooks use");
	} else if ((why = bw_integ_path_check(&ic, path))) {
		snprintf(msg, sizeof(msg), "sink.path %s", why);
		rc = bad(c, "sink.path", msg);
	}
	bw_integ_config_clear(&ic);
	bw_integration_row_clear(&row);
	return rc;
}

/* Applies the body over cfg and checks the result; -1 when replied. */
static int settings_in(struct bw_ctx *c, json_t *cfg)
{
	const char *field;
	char why[256];
	if (bw_event_sub_config_apply(cfg, c->in, &field, why, sizeof(why)) != 0)
		return bad(c, field, why);
	return check_whole(c, cfg);
}

static char *text_of(const json_t *cfg)
{
	return json_dumps(cfg, JSON_COMPACT);
}

void bw_api_event_subs_create(struct bw_ctx *c)
{
	struct bw_event_sub_row row;
	const char *name;
	bool enabled = true;
	size_t n = 0;
	json_t *cfg = bw_event_sub_config_new();
	memset(&row, 0, sizeof(row));
	if (!cfg) {
		bw_reply_result(c, BW_NOMEM, NULL, NULL);
		return;
	}
	if (bw_api_only(c, fields) || bw_api_label(c, "name", 128, true, &name) ||
	    enabled_in(c, &enabled) || settings_in(c, cfg))
		goto out;
	struct bw_event_sub_row probe[BW_EVENT_SUBS_MAX];
	bw_result r = bw_store_event_sub_list(c->store, c->who.instance_id, NULL, false, probe,
	                                      BW_EVENT_SUBS_MAX, &n);
	for (size_t i = 0; i < n; i++)
		bw_event_sub_row_clear(&probe[i]);
	if (r == BW_OK && n >= BW_EVENT_SUBS_MAX) {
		bw_reply_error(c, 409, "Conflict", "an instance has at most 32 event subscriptions",
		               NULL);
		goto out;
	}
	bw_id_new(row.id, "es_");
	snprintf(row.instance_id, sizeof(row.instance_id), "%s", c->who.instance_id);
	snprintf(row.name, sizeof(row.name), "%s", name);
	row.enabled = enabled;
	row.config = text_of(cfg);
	row.created_at = row.updated_at = bw_now_ms();
	if (!row.config) {
		bw_reply_result(c, BW_NOMEM, NULL, NULL);
		goto out;
	}
	r = bw_store_event_sub_insert(c->store, &row);
	if (r != BW_OK) {
		bw_reply_result(c, r, "an event subscription of this name exists", "name");
		goto out;
	}
	bw_reply_json(c, 201, sub_json(c, &row, cfg));
out:
	bw_event_sub_row_clear(&row);
	json_decref(cfg);
}

/* The path's subscription and its settings; replies and returns NULL. */
static json_t *load(struct bw_ctx *c, struct bw_event_sub_row *row)
{
	bw_result r = bw_store_event_sub_get(c->store, c->who.instance_id, c->req->params[1], row);
	if (r != BW_OK) {
		bw_reply_result(c, r, "no such event subscription", NULL);
		return NULL;
	}
	json_t *cfg = bw_event_sub_config_load(row->config);
	if (!cfg) {
		bw_log(BW_LOG_ERROR, "stored event subscription does not read", "subscription",
		       row->id);
		bw_event_sub_row_clear(row);
		bw_reply_result(c, BW_ERR, NULL, NULL);
	}
	return cfg;
}

void bw_api_event_subs_get(struct bw_ctx *c)
{
	struct bw_event_sub_row row;
	json_t *cfg = load(c, &row);
	if (!cfg)
		return;
	bw_reply_json(c, 200, sub_json(c, &row, cfg));
	bw_event_sub_row_clear(&row);
	json_decref(cfg);
}

void bw_api_event_subs_update(struct bw_ctx *c)
{
	struct bw_event_sub_row row;
	const char *name;
	if (bw_api_only(c, fields) || bw_api_label(c, "name", 128, false, &name))
		return;
	json_t *cfg = load(c, &row);
	if (!cfg)
		return;
	if (enabled_in(c, &row.enabled) || settings_in(c, cfg))
		goto out;
	char *text = text_of(cfg);
	if (!text) {
		bw_reply_result(c, BW_NOMEM, NULL, NULL);
		goto out;
	}
	free(row.config);
	row.config = text;
	if (name)
		snprintf(row.name, sizeof(row.name), "%s", name);
	row.updated_at = bw_now_ms();
	bw_result r = bw_store_event_sub_update(c->store, &row);
	if (r != BW_OK) {
		bw_reply_result(c, r,
		                r == BW_CONFLICT ? "an event subscription of this name exists"
		                                 : "no such event subscription",
		                r == BW_CONFLICT ? "name" : NULL);
		goto out;
	}
	bw_reply_json(c, 200, sub_json(c, &row, cfg));
out:
	bw_event_sub_row_clear(&row);
	json_decref(cfg);
}

void bw_api_event_subs_delete(struct bw_ctx *c)
{
	bw_result r = bw_store_event_sub_delete(c->store, c->who.instance_id, c->req->params[1]);
	if (r != BW_OK) {
		bw_reply_result(c, r, "no such event subscription", NULL);
		return;
	}
	bw_reply_empty(c, 204);
}

static bw_result es_fetch(struct bw_ctx *c, const char *after, void *out, size_t max, size_t *n)
{
	return bw_store_event_sub_list(c->store, c->who.instance_id, after, false, out, max, n);
}

static json_t *es_encode(struct bw_ctx *c, const void *item)
{
	const struct bw_event_sub_row *r = item;
	json_t *cfg = bw_event_sub_config_load(r->config);
	if (!cfg)
		bw_log(BW_LOG_ERROR, "stored event subscription does not read", "subscription",
		       r->id);
	json_t *o = sub_json(c, r, cfg);
	json_decref(cfg);
	return o;
}

static void es_clear(void *item)
{
	bw_event_sub_row_clear(item);
}

static const char *es_id(const void *item)
{
	return ((const struct bw_event_sub_row *)item)->id;
}

void bw_api_event_subs_list(struct bw_ctx *c)
{
	static const struct bw_api_lister l = {sizeof(struct bw_event_sub_row), es_fetch, es_encode,
	                                       es_clear, es_id};
	bw_api_list(c, &l);
}

/* ---- dead letters ---- */

/* The subscription must be the caller's instance's: 404 otherwise. */
static int sub_exists(struct bw_ctx *c)
{
	struct bw_event_sub_row row;
	bw_result r = bw_store_event_sub_get(c->store, c->who.instance_id, c->req->params[1], &row);
	bw_event_sub_row_clear(&row);
	if (r != BW_OK) {
		bw_reply_result(c, r, "no such event subscription", NULL);
		return -1;
	}
	return 0;
}

struct dead_item {
	struct bw_outbox_row row;
	char key[24]; /* the row's seq, zero-padded: the page token */
};

static bw_result dl_fetch(struct bw_ctx *c, const char *after, void *out, size_t max, size_t *n)
{
	long long seq = 0;
	if (after) {
		char *end;
		seq = strtoll(after, &end, 10);
		if (*end || seq < 0)
			return BW_NOTFOUND; /* a token this list did not make */
	}
	struct bw_outbox_row *rows = calloc(max, sizeof(*rows));
	if (!rows)
		return BW_NOMEM;
	bw_result r = bw_store_outbox_dead_list(c->store, c->who.instance_id, c->req->params[1],
	                                        seq, rows, max, n);
	struct dead_item *items = out;
	for (size_t i = 0; r == BW_OK && i < *n; i++) {
		items[i].row = rows[i];
		snprintf(items[i].key, sizeof(items[i].key), "%020lld", rows[i].seq);
	}
	free(rows);
	return r;
}

static json_t *dl_encode(struct bw_ctx *c, const void *item)
{
	(void)c;
	const struct bw_outbox_row *r = &((const struct dead_item *)item)->row;
	return json_pack("{s:s, s:s, s:s, s:i, s:s, s:o, s:o}", "event_id", r->id, "type", r->type,
	                 "dedup_key", r->dedup_key, "attempts", r->attempts, "last_error",
	                 r->last_error, "created_at", bw_api_time_or_null(r->created_at),
	                 "last_attempt_at", bw_api_time_or_null(r->last_attempt_at));
}

static const char *dl_id(const void *item)
{
	return ((const struct dead_item *)item)->key;
}

/* A next_token this list did not make (its tokens are digits) is a bad
 * parameter, not a missing subscription. */
static int dl_token_ok(struct bw_ctx *c)
{
	char buf[128];
	bool present;
	if (bw_api_query(c, "next_token", buf, sizeof(buf), &present) != 0)
		return -1;
	if (present && buf[0] && strspn(buf, "0123456789") != strlen(buf)) {
		bw_reply_error(c, 400, "InvalidParameter", "next_token is not valid", "next_token");
		return -1;
	}
	return 0;
}

void bw_api_event_subs_dead_list(struct bw_ctx *c)
{
	static const struct bw_api_lister l = {sizeof(struct dead_item), dl_fetch, dl_encode, NULL,
	                                       dl_id};
	if (sub_exists(c) == 0 && dl_token_ok(c) == 0)
		bw_api_list(c, &l);
}

void bw_api_event_subs_dead_retry(struct bw_ctx *c)
{
	long long n = 0;
	if (sub_exists(c) != 0)
		return;
	bw_result r = bw_store_outbox_dead_requeue(c->store, c->who.instance_id, c->req->params[1],
	                                           bw_now_ms(), &n);
	if (r != BW_OK) {
		bw_reply_result(c, r, NULL, NULL);
		return;
	}
	bw_events_notify();
	bw_reply_json(c, 200, json_pack("{s:I}", "requeued", (json_int_t)n));
}

void bw_api_event_subs_dead_delete(struct bw_ctx *c)
{
	long long n = 0;
	if (sub_exists(c) != 0)
		return;
	bw_result r =
	    bw_store_outbox_dead_delete(c->store, c->who.instance_id, c->req->params[1], &n);
	if (r != BW_OK) {
		bw_reply_result(c, r, NULL, NULL);
		return;
	}
	bw_reply_json(c, 200, json_pack("{s:I}", "deleted", (json_int_t)n));
}

bw_result bw_api_event_subs_using(struct bw_ctx *c, const char *ig, char *name, size_t n)
{
	struct bw_event_sub_row subs[BW_EVENT_SUBS_MAX];
	size_t k = 0;
	bw_result r = bw_store_event_sub_list(c->store, c->who.instance_id, NULL, false, subs,
	                                      BW_EVENT_SUBS_MAX, &k);
	bool found = false;
	for (size_t i = 0; i < k; i++) {
		json_t *cfg = found ? NULL : bw_event_sub_config_load(subs[i].config);
		const char *id = json_string_value(
		    json_object_get(json_object_get(cfg, "sink"), "integration_id"));
		if (id && !strcmp(id, ig)) {
			snprintf(name, n, "%s", subs[i].name);
			found = true;
		}
		json_decref(cfg);
		bw_event_sub_row_clear(&subs[i]);
	}
	return r != BW_OK ? r : found ? BW_OK : BW_NOTFOUND;
}
