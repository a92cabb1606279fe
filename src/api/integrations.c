/* An instance's integrations (C17, docs/api.md "Integrations"): the
 * outbound HTTP targets its flows may call. Every write checks the target
 * (src/integ/integ.c: https, or http toward listed addresses only; every
 * address the host resolves to must pass the address policy) and a refusal
 * names base_url with the reason. Secrets are named, never taken. The test
 * route makes one call through the same egress the engine uses (on the
 * loop, checked again at connection) and answers what came back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "core/ids.h"
#include "core/log.h"
#include "integ/call.h"
#include "integ/integ.h"
#include "net/egress.h"
#include "store/store.h"

#define MSG_MAX 512

static json_t *integration_json(const struct bw_integration_row *r,
                                const struct bw_integ_config *cfg)
{
	json_t *o = cfg ? bw_integ_config_json(cfg) : json_object();
	json_object_set_new(o, "id", json_string(r->id));
	json_object_set_new(o, "name", json_string(r->name));
	json_object_set_new(o, "base_url", json_string(r->base_url));
	json_object_set_new(o, "created_at", bw_api_time_or_null(r->created_at));
	json_object_set_new(o, "updated_at", bw_api_time_or_null(r->updated_at));
	json_object_set_new(o, "last_called_at", bw_api_time_or_null(r->last_called_at));
	return o;
}

static const char *const fields[] = {"name",
                                     "base_url",
                                     "allowed_methods",
                                     "allowed_path_prefixes",
                                     "timeout_ms",
                                     "max_response_bytes",
                                     "auth",
                                     "allowed_address_ranges",
                                     "ca_certificate",
                                     NULL};

static int settings_in(struct bw_ctx *c, struct bw_integ_config *cfg)
{
	const char *field;
	char why[256];
	if (bw_integ_config_apply(cfg, c->in, &field, why, sizeof(why)) == 0)
		return 0;
	bw_reply_error(c, 400, "InvalidParameter", why, field);
	return -1;
}

/* The base URL and every address of its host, with the settings it will
 * be called with; u->canonical is what is stored. */
static int target_in(struct bw_ctx *c, const char *base_url, const struct bw_integ_config *cfg,
                     struct bw_integ_url *u)
{
	char msg[MSG_MAX], why[400];
	const char *bad = bw_integ_url_parse(base_url, u);
	if (bad) {
		snprintf(msg, sizeof(msg), "base_url %s", bad);
		bw_reply_error(c, 400, "InvalidParameter", msg, "base_url");
		return -1;
	}
	if (bw_integ_check_target(u, cfg, why, sizeof(why)) != BW_OK) {
		snprintf(msg, sizeof(msg), "base_url: %s", why);
		bw_reply_error(c, 400, "InvalidParameter", msg, "base_url");
		return -1;
	}
	return 0;
}

static char *config_text(const struct bw_integ_config *cfg)
{
	json_t *v = bw_integ_config_json(cfg);
	char *t = json_dumps(v, JSON_COMPACT);
	json_decref(v);
	return t;
}

void bw_api_integrations_create(struct bw_ctx *c)
{
	struct bw_integ_config cfg;
	struct bw_integ_url u;
	struct bw_integration_row row;
	const char *name, *base;
	bw_integ_config_init(&cfg);
	memset(&row, 0, sizeof(row));
	if (bw_api_only(c, fields) || bw_api_label(c, "name", BW_INTEG_NAME_MAX, true, &name) ||
	    bw_api_str(c, "base_url", 1, BW_INTEG_URL_MAX, true, &base) || settings_in(c, &cfg) ||
	    target_in(c, base, &cfg, &u))
		goto out;
	bw_id_new(row.id, "ig_");
	snprintf(row.instance_id, sizeof(row.instance_id), "%s", c->who.instance_id);
	snprintf(row.name, sizeof(row.name), "%s", name);
	row.base_url = strdup(u.canonical);
	row.config = config_text(&cfg);
	row.created_at = row.updated_at = bw_now_ms();
	if (!row.base_url || !row.config) {
		bw_reply_result(c, BW_NOMEM, NULL, NULL);
		goto out;
	}
	bw_result r = bw_store_integration_insert(c->store, &row);
	if (r != BW_OK) {
		bw_reply_result(c, r, "an integration of this name exists", "name");
		goto out;
	}
	bw_reply_json(c, 201, integration_json(&row, &cfg));
out:
	bw_integration_row_clear(&row);
	bw_integ_config_clear(&cfg);
}

/* The path's integration and its settings; replies and returns -1 when
 * it is not there or does not read. */
static int load(struct bw_ctx *c, struct bw_integration_row *row, struct bw_integ_config *cfg)
{
	bw_integ_config_init(cfg);
	bw_result r =
	    bw_store_integration_get(c->store, c->who.instance_id, c->req->params[1], row);
	if (r != BW_OK) {
		bw_reply_result(c, r, "no such integration", NULL);
		return -1;
	}
	if (bw_integ_config_load(cfg, row->config) != BW_OK) {
		bw_log(BW_LOG_ERROR, "stored integration does not read", "integration", row->id);
		bw_integration_row_clear(row);
		bw_reply_result(c, BW_ERR, NULL, NULL);
		return -1;
	}
	return 0;
}

void bw_api_integrations_get(struct bw_ctx *c)
{
	struct bw_integration_row row;
	struct bw_integ_config cfg;
	if (load(c, &row, &cfg) != 0)
		return;
	bw_reply_json(c, 200, integration_json(&row, &cfg));
	bw_integration_row_clear(&row);
	bw_integ_config_clear(&cfg);
}

void bw_api_integrations_update(struct bw_ctx *c)
{
	struct bw_integration_row row;
	struct bw_integ_config cfg;
	struct bw_integ_url u;
	const char *name, *base;
	if (bw_api_only(c, fields) || bw_api_label(c, "name", BW_INTEG_NAME_MAX, false, &name) ||
	    bw_api_str(c, "base_url", 1, BW_INTEG_URL_MAX, false, &base))
		return;
	if (load(c, &row, &cfg) != 0)
		return;
	/* Whatever changed, the target is checked again with the result. */
	if (settings_in(c, &cfg) || target_in(c, base ? base : row.base_url, &cfg, &u))
		goto out;
	char *url = strdup(u.canonical), *text = config_text(&cfg);
	if (!url || !text) {
		free(url);
		free(text);
		bw_reply_result(c, BW_NOMEM, NULL, NULL);
		goto out;
	}
	free(row.base_url);
	free(row.config);
	row.base_url = url;
	row.config = text;
	if (name)
		snprintf(row.name, sizeof(row.name), "%s", name);
	row.updated_at = bw_now_ms();
	bw_result r = bw_store_integration_update(c->store, &row);
	if (r != BW_OK) {
		bw_reply_result(c, r,
		                r == BW_CONFLICT ? "an integration of this name exists"
		                                 : "no such integration",
		                r == BW_CONFLICT ? "name" : NULL);
		goto out;
	}
	bw_reply_json(c, 200, integration_json(&row, &cfg));
out:
	bw_integration_row_clear(&row);
	bw_integ_config_clear(&cfg);
}

void bw_api_integrations_delete(struct bw_ctx *c)
{
	char name[136], msg[MSG_MAX];
	/* A subscription's webhook would go nowhere: it is changed first. */
	bw_result r = bw_api_event_subs_using(c, c->req->params[1], name, sizeof(name));
	if (r == BW_OK) {
		snprintf(msg, sizeof(msg),
		         "the event subscription \"%.128s\" sends its webhooks to this integration: "
		         "change its sink or delete it first",
		         name);
		bw_reply_error(c, 409, "Conflict", msg, NULL);
		return;
	}
	if (r != BW_NOTFOUND) {
		bw_reply_result(c, r, NULL, NULL);
		return;
	}
	r = bw_store_integration_delete(c->store, c->who.instance_id, c->req->params[1]);
	if (r != BW_OK) {
		bw_reply_result(c, r, "no such integration", NULL);
		return;
	}
	bw_reply_empty(c, 204);
}

/* ---- the list, and ?unused_for= ---- */

static bw_result ig_fetch(struct bw_ctx *c, const char *after, void *out, size_t max, size_t *n)
{
	long long before;
	/* checked by the handler already: does not reply here */
	if (bw_api_unused_before(c, bw_now_ms(), &before) != 0)
		return BW_INVALID;
	return bw_store_integration_list(c->store, c->who.instance_id, after, before, out, max, n);
}

static json_t *ig_encode(struct bw_ctx *c, const void *item)
{
	(void)c;
	const struct bw_integration_row *r = item;
	struct bw_integ_config cfg;
	bool ok = bw_integ_config_load(&cfg, r->config) == BW_OK;
	if (!ok)
		bw_log(BW_LOG_ERROR, "stored integration does not read", "integration", r->id);
	json_t *o = integration_json(r, ok ? &cfg : NULL);
	if (ok)
		bw_integ_config_clear(&cfg);
	return o;
}

static void ig_clear(void *item)
{
	bw_integration_row_clear(item);
}

static const char *ig_id(const void *item)
{
	return ((const struct bw_integration_row *)item)->id;
}

void bw_api_integrations_list(struct bw_ctx *c)
{
	static const struct bw_api_lister l = {sizeof(struct bw_integration_row), ig_fetch,
	                                       ig_encode, ig_clear, ig_id};
	long long before;
	if (bw_api_unused_before(c, bw_now_ms(), &before) == 0)
		bw_api_list(c, &l);
}

/* ---- a test call ---- */

static void reply_answer(struct bw_ctx *c, const struct bw_egress_resp *r)
{
	char msg[MSG_MAX];
	switch (r->result) {
	case BW_EGRESS_OK:
		bw_reply_json(c, 200,
		              json_pack("{s:i, s:I, s:I}", "status", r->status, "body_bytes",
		                        (json_int_t)r->body_len, "elapsed_ms",
		                        (json_int_t)r->elapsed_ms));
		return;
	case BW_EGRESS_REFUSED:
		bw_reply_error(c, 403, "AddressRefused", r->detail, NULL);
		return;
	case BW_EGRESS_TIMEOUT:
		bw_reply_error(c, 504, "UpstreamTimeout", r->detail, NULL);
		return;
	case BW_EGRESS_TOO_BIG:
		bw_reply_error(c, 502, "UpstreamTooLarge", r->detail, NULL);
		return;
	case BW_EGRESS_SHUTDOWN:
		bw_reply_error(c, 503, "Unavailable", "the server is stopping; retry shortly",
		               NULL);
		return;
	default:
		snprintf(msg, sizeof(msg), "%s: %s", bw_egress_result_name(r->result), r->detail);
		bw_reply_error(c, 502, "UpstreamFailed", msg, NULL);
		return;
	}
}

static const char *const test_fields[] = {"method", "path", "body", NULL};

/* The call of the request's body on an opened integration; replies and
 * returns -1 when it cannot be made. */
static int test_build(struct bw_ctx *c, struct bw_integ_call *k)
{
	char why[MSG_MAX];
	const char *method, *path;
	char *text = NULL;
	if (bw_api_only(c, test_fields) || bw_api_str(c, "method", 1, 8, true, &method) ||
	    bw_api_str(c, "path", 1, BW_INTEG_PATH_MAX, true, &path))
		return -1;
	json_t *body = json_object_get(c->in, "body");
	if (body && !json_is_null(body) && !(text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY))) {
		bw_reply_result(c, BW_NOMEM, NULL, NULL);
		return -1;
	}
	struct bw_integ_call_spec spec = {.method = method,
	                                  .path = path,
	                                  .body = text,
	                                  .body_len = text ? strlen(text) : 0};
	bw_result r = bw_integ_call_build(c->store, k, &spec, why, sizeof(why));
	free(text);
	if (r == BW_INVALID && k->field)
		bw_reply_error(c, 400, "InvalidParameter", why, k->field);
	else if (r == BW_CONFLICT)
		bw_reply_error(c, 409, "Conflict", why, NULL);
	else if (r != BW_OK)
		bw_reply_result(c, r == BW_INVALID ? BW_ERR : r, NULL, NULL);
	return r == BW_OK ? 0 : -1;
}

void bw_api_integrations_test(struct bw_ctx *c)
{
	struct bw_integ_call *k = calloc(1, sizeof(*k));
	struct bw_egress_answer ans;
	memset(&ans, 0, sizeof(ans));
	if (!k) {
		bw_reply_result(c, BW_NOMEM, NULL, NULL);
		return;
	}
	bw_result r = bw_integ_call_open(c->store, c->who.instance_id, c->req->params[1], k);
	if (r != BW_OK) {
		bw_reply_result(c, r, "no such integration", NULL);
		goto out;
	}
	if (test_build(c, k) != 0)
		goto out;
	r = bw_egress_call(&k->req, &ans);
	if (r == BW_AGAIN)
		bw_reply_error(c, 503, "Unavailable", "the server is stopping; retry shortly",
		               NULL);
	else if (r != BW_OK)
		bw_reply_result(c, r == BW_INVALID ? BW_ERR : r, NULL, NULL);
	else
		reply_answer(c, &ans.resp);
out:
	bw_egress_answer_clear(&ans);
	bw_integ_call_clear(k);
	free(k);
}
