/* Contact flows (K1): drafts that may be invalid, publishing that refuses
 * an invalid one with every error and its path, immutable versions, and the
 * input validation of C16 as a black box for admins and tests. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/ids.h"
#include "flow/flow.h"
#include "store/store.h"

/* {"valid","errors"} of a document; NULL when memory runs out. */
static json_t *validation_json(const json_t *doc)
{
	json_t *errs = bw_flow_validate(doc);
	if (!errs)
		return NULL;
	return json_pack("{s:b, s:o}", "valid", json_array_size(errs) == 0, "errors", errs);
}

static json_t *flow_json(const struct bw_flow_def *f, bool full)
{
	char c[32], u[32];
	bw_time_rfc3339(f->created_at, c, sizeof(c));
	bw_time_rfc3339(f->updated_at, u, sizeof(u));
	json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:s, s:s}", "id", f->id, "name", f->name,
	                      "description", f->description, "latest_version",
	                      f->latest_version ? json_integer(f->latest_version) : json_null(),
	                      "created_at", c, "updated_at", u);
	if (o && full && f->content) {
		json_t *doc = json_loads(f->content, 0, NULL);
		json_object_set_new(o, "validation", validation_json(doc));
		json_object_set_new(o, "content", doc ? doc : json_null());
	}
	return o;
}

static json_t *version_json(const struct bw_flow_version *v)
{
	char t[32];
	bw_time_rfc3339(v->published_at, t, sizeof(t));
	json_t *o = json_pack("{s:s, s:I, s:s, s:s}", "flow_id", v->flow_id, "version",
	                      (json_int_t)v->version, "published_at", t, "published_by",
	                      v->published_by);
	if (o && v->content)
		json_object_set_new(o, "content", json_loads(v->content, 0, NULL));
	return o;
}

/* "content": a JSON object of at most BW_FLOW_MAX_DOC bytes, as compact
 * text in *text (malloc'd). Replies 400 and returns -1 otherwise. */
static int decode_content(struct bw_ctx *c, bool required, char **text)
{
	*text = NULL;
	json_t *v = json_object_get(c->in, "content");
	if (!v) {
		if (!required)
			return 0;
		bw_reply_error(c, 400, "InvalidParameter", "this field is required", "content");
		return -1;
	}
	if (!json_is_object(v)) {
		bw_reply_error(c, 400, "InvalidParameter", "must be a flow document (a JSON object)",
		               "content");
		return -1;
	}
	size_t n = json_dumpb(v, NULL, 0, JSON_COMPACT);
	if (n > BW_FLOW_MAX_DOC) {
		bw_reply_error(c, 400, "InvalidParameter",
		               "the flow document is larger than 256 KiB", "content");
		return -1;
	}
	*text = json_dumps(v, JSON_COMPACT);
	if (!*text) {
		bw_reply_result(c, BW_NOMEM, NULL, NULL);
		return -1;
	}
	return 0;
}

static void reply_store(struct bw_ctx *c, bw_result r)
{
	bw_reply_result(c, r, r == BW_CONFLICT ? "a flow with this name exists" : "no such flow",
	                r == BW_CONFLICT ? "name" : NULL);
}

static const char *const flow_fields[] = {"name", "description", "content", NULL};

void bw_api_flows_create(struct bw_ctx *c)
{
	const char *name, *desc;
	char *content;
	if (bw_api_only(c, flow_fields) || bw_api_str(c, "name", 1, 128, true, &name) ||
	    bw_api_str(c, "description", 0, 1024, false, &desc) ||
	    decode_content(c, true, &content))
		return;
	struct bw_flow_def f = {0};
	bw_id_new(f.id, "fl_");
	snprintf(f.instance_id, sizeof(f.instance_id), "%s", c->who.instance_id);
	snprintf(f.name, sizeof(f.name), "%s", name);
	snprintf(f.description, sizeof(f.description), "%s", desc ? desc : "");
	f.content = content;
	f.created_at = f.updated_at = bw_now_unix();
	bw_result r = bw_store_flow_insert(c->store, &f);
	if (r == BW_OK)
		bw_reply_json(c, 201, flow_json(&f, true));
	else
		reply_store(c, r);
	bw_flow_def_clear(&f);
}

static bw_result fl_fetch(struct bw_ctx *c, const char *after, void *out, size_t max, size_t *n)
{
	return bw_store_flow_list(c->store, c->who.instance_id, after, out, max, n);
}

static json_t *fl_encode(struct bw_ctx *c, const void *item)
{
	(void)c;
	return flow_json(item, false);
}

static void fl_clear(void *item)
{
	bw_flow_def_clear(item);
}

static const char *fl_id(const void *item)
{
	return ((const struct bw_flow_def *)item)->id;
}

void bw_api_flows_list(struct bw_ctx *c)
{
	static const struct bw_api_lister l = {sizeof(struct bw_flow_def), fl_fetch, fl_encode,
	                                       fl_clear, fl_id};
	bw_api_list(c, &l);
}

static int load(struct bw_ctx *c, struct bw_flow_def *f)
{
	memset(f, 0, sizeof(*f));
	bw_result r = bw_store_flow_get(c->store, c->who.instance_id, c->req->params[1], f);
	if (r != BW_OK) {
		bw_reply_result(c, r, "no such flow", NULL);
		return -1;
	}
	return 0;
}

void bw_api_flows_get(struct bw_ctx *c)
{
	struct bw_flow_def f;
	if (load(c, &f) != 0)
		return;
	bw_reply_json(c, 200, flow_json(&f, true));
	bw_flow_def_clear(&f);
}

void bw_api_flows_update(struct bw_ctx *c)
{
	const char *name, *desc;
	char *content;
	struct bw_flow_def f;
	if (bw_api_only(c, flow_fields) || bw_api_str(c, "name", 1, 128, false, &name) ||
	    bw_api_str(c, "description", 0, 1024, false, &desc) ||
	    decode_content(c, false, &content))
		return;
	if (load(c, &f) != 0) {
		free(content);
		return;
	}
	if (name)
		snprintf(f.name, sizeof(f.name), "%s", name);
	if (desc)
		snprintf(f.description, sizeof(f.description), "%s", desc);
	if (content) {
		free(f.content);
		f.content = content; /* the draft is replaced; versions stay as published */
	}
	f.updated_at = bw_now_unix();
	bw_result r = bw_store_flow_update(c->store, &f);
	if (r == BW_OK)
		bw_reply_json(c, 200, flow_json(&f, true));
	else
		reply_store(c, r);
	bw_flow_def_clear(&f);
}

void bw_api_flows_delete(struct bw_ctx *c)
{
	bw_result r = bw_store_flow_delete(c->store, c->who.instance_id, c->req->params[1]);
	if (r != BW_OK) {
		bw_reply_result(c, r, r == BW_CONFLICT ? "an entry point uses this flow" :
		                                         "no such flow", NULL);
		return;
	}
	bw_reply_empty(c, 204);
}

/* 400 InvalidFlow: the error shape of API.md with every {"path","message"}. */
static void reply_invalid_flow(struct bw_ctx *c, json_t *errs)
{
	char msg[96];
	size_t n = json_array_size(errs);
	snprintf(msg, sizeof(msg), "the flow has %zu error%s%s; nothing was published", n,
	         n == 1 ? "" : "s", n >= BW_FLOW_MAX_ERRORS ? " (the first ones are listed)" : "");
	json_t *body = json_pack("{s:{s:s, s:s, s:o}}", "error", "code", "InvalidFlow", "message",
	                         msg, "errors", errs);
	if (!body) {
		bw_reply_result(c, BW_NOMEM, NULL, NULL);
		return;
	}
	bw_reply_json(c, 400, body);
}

void bw_api_flows_publish(struct bw_ctx *c)
{
	struct bw_flow_def f;
	if (load(c, &f) != 0)
		return;
	json_t *doc = json_loads(f.content ? f.content : "", 0, NULL);
	json_t *errs = doc ? bw_flow_validate(doc) : NULL;
	json_decref(doc);
	if (!errs) {
		bw_flow_def_clear(&f);
		bw_reply_result(c, BW_ERR, NULL, NULL);
		return;
	}
	if (json_array_size(errs)) {
		bw_flow_def_clear(&f);
		reply_invalid_flow(c, errs);
		return;
	}
	json_decref(errs);
	/* The text just checked is what is published, whatever a concurrent
	 * edit of the draft does meanwhile. */
	struct bw_flow_version v = {0};
	snprintf(v.instance_id, sizeof(v.instance_id), "%s", c->who.instance_id);
	snprintf(v.flow_id, sizeof(v.flow_id), "%s", f.id);
	snprintf(v.published_by, sizeof(v.published_by), "%s", c->who.id);
	v.content = f.content;
	v.published_at = bw_now_unix();
	bw_result r = bw_store_flow_publish(c->store, &v);
	if (r == BW_OK)
		bw_reply_json(c, 201, version_json(&v));
	else
		bw_reply_result(c, r, r == BW_CONFLICT ? "this flow has as many versions as allowed" :
		                                         "no such flow", NULL);
	bw_flow_def_clear(&f);
}

/* "1".."999999999"; -1 otherwise. */
static long long version_number(const char *s)
{
	long long v = 0;
	size_t n = strlen(s);
	if (n < 1 || n > 9 || s[0] == '0')
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static bw_result fv_fetch(struct bw_ctx *c, const char *after, void *out, size_t max, size_t *n)
{
	long long a = after ? version_number(after) : 0;
	return bw_store_flow_version_list(c->store, c->who.instance_id, c->req->params[1],
	                                  a > 0 ? a : 0, out, max, n);
}

static json_t *fv_encode(struct bw_ctx *c, const void *item)
{
	(void)c;
	return version_json(item);
}

static void fv_clear(void *item)
{
	bw_flow_version_clear(item);
}

static const char *fv_id(const void *item)
{
	return ((const struct bw_flow_version *)item)->vid;
}

void bw_api_flow_versions_list(struct bw_ctx *c)
{
	static const struct bw_api_lister l = {sizeof(struct bw_flow_version), fv_fetch, fv_encode,
	                                       fv_clear, fv_id};
	char tok[32];
	bool present;
	if (bw_api_query(c, "next_token", tok, sizeof(tok), &present) != 0)
		return;
	if (present && version_number(tok) < 0) {
		bw_reply_error(c, 400, "InvalidParameter", "next_token is not valid", "next_token");
		return;
	}
	struct bw_flow_def f;
	if (load(c, &f) != 0)
		return;
	bw_flow_def_clear(&f);
	bw_api_list(c, &l);
}

void bw_api_flow_versions_get(struct bw_ctx *c)
{
	long long n = version_number(c->req->params[2]);
	struct bw_flow_version v = {0};
	bw_result r = n > 0 ? bw_store_flow_version_get(c->store, c->who.instance_id,
	                                                c->req->params[1], n, &v)
	                    : BW_NOTFOUND;
	if (r != BW_OK) {
		bw_reply_result(c, r, "no such flow version", NULL);
		return;
	}
	bw_reply_json(c, 200, version_json(&v));
	bw_flow_version_clear(&v);
}

/* ---- POST .../flows/validate-input ---- */

/* An optional integer field in [0, BW_INPUT_MAX]; -1 when absent. */
static int int_field(struct bw_ctx *c, const char *key, int *out)
{
	json_t *v = json_object_get(c->in, key);
	*out = -1;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > BW_INPUT_MAX) {
		bw_reply_error(c, 400, "InvalidParameter", "must be an integer from 0 to 1024", key);
		return -1;
	}
	*out = (int)json_integer_value(v);
	return 0;
}

/* A field that only some kinds take. */
static int only_for(struct bw_ctx *c, const char *key, bool allowed, const char *kind)
{
	if (allowed || !json_object_get(c->in, key))
		return 0;
	char msg[64];
	snprintf(msg, sizeof(msg), "only kind %s takes this field", kind);
	bw_reply_error(c, 400, "InvalidParameter", msg, key);
	return -1;
}

void bw_api_flows_validate_input(struct bw_ctx *c)
{
	static const char *const fields[] = {"kind", "value", "default_region", "min", "max",
	                                     "pattern", NULL};
	const char *kind_s, *value, *region, *pattern;
	struct bw_input_rule rule = {0};
	if (bw_api_only(c, fields) || bw_api_str(c, "kind", 1, 32, true, &kind_s) ||
	    bw_api_str(c, "value", 0, BW_INPUT_MAX, true, &value) ||
	    bw_api_str(c, "default_region", 2, 2, false, &region) ||
	    bw_api_str(c, "pattern", 1, 1024, false, &pattern) || int_field(c, "min", &rule.min) ||
	    int_field(c, "max", &rule.max))
		return;
	int kind = bw_input_kind_parse(kind_s);
	if (kind < 0) {
		bw_reply_error(c, 400, "InvalidParameter",
		               "must be one of PhoneNumber, Digits, Luhn, Date, Pattern", "kind");
		return;
	}
	rule.kind = (enum bw_input_kind)kind;
	if (only_for(c, "default_region", kind == BW_INPUT_PHONE_NUMBER, "PhoneNumber") ||
	    only_for(c, "min", kind == BW_INPUT_DIGITS, "Digits") ||
	    only_for(c, "max", kind == BW_INPUT_DIGITS, "Digits") ||
	    only_for(c, "pattern", kind == BW_INPUT_PATTERN, "Pattern"))
		return;
	if (kind == BW_INPUT_PATTERN && !pattern) {
		bw_reply_error(c, 400, "InvalidParameter", "this field is required", "pattern");
		return;
	}
	if (region && !bw_input_region_ok(region)) {
		bw_reply_error(c, 400, "InvalidParameter",
		               "not a region code libphonenumber knows (ISO 3166 alpha-2, upper case)",
		               "default_region");
		return;
	}
	struct bw_instance in = {0};
	if (kind == BW_INPUT_PHONE_NUMBER && !region) {
		if (bw_api_instance(c, &in) != 0)
			return;
		/* An instance region libphonenumber does not know reads nothing. */
		region = bw_input_region_ok(in.default_region) ? in.default_region : NULL;
	}
	rule.region = region;
	rule.pattern = pattern;
	struct bw_input_result *res = malloc(sizeof(*res));
	bw_result r = res ? bw_input_validate(&rule, value, strlen(value), res) : BW_NOMEM;
	if (r == BW_INVALID) {
		bw_reply_error(c, 400, "InvalidParameter", res->reason,
		               kind == BW_INPUT_PATTERN ? "pattern" :
		               kind == BW_INPUT_DIGITS  ? "min" : "default_region");
	} else if (r != BW_OK) {
		bw_reply_result(c, r, NULL, NULL);
	} else if (!res->valid) {
		bw_reply_json(c, 200, json_pack("{s:b, s:s}", "valid", 0, "reason", res->reason));
	} else {
		json_t *o = json_pack("{s:b, s:s}", "valid", 1, "normalized", res->normalized);
		if (o && res->number_type)
			json_object_set_new(o, "number_type", json_string(res->number_type));
		bw_reply_json(c, 200, o);
	}
	if (res) {
		/* The input may be a card number: leave no copy behind. */
		sodium_memzero(res, sizeof(*res));
		free(res);
	}
	bw_instance_clear(&in);
}
