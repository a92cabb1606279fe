/* Entry points: what a public endpoint names to start a contact of a
 * channel with a flow. The flow must be one of the instance's once the
 * flows table exists (the store checks it in the writing transaction). */
#include <stdio.h>
#include <string.h>

#include "api/routing_int.h"
#include "core/ids.h"
#include "store/store.h"

static json_t *ep_json(const struct bw_entry_point *e)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s?}", "id", e->id, "name", e->name, "type",
	                      e->type, "flow_id", e->flow_id, "default_region",
	                      e->default_region[0] ? e->default_region : NULL);
	return bw_api__times(o, e->created_at, e->updated_at);
}

static const char *const ep_fields[] = {"name", "type", "flow_id", "default_region", NULL};

static bool type_ok(const char *t)
{
	return !strcmp(t, "CHAT") || !strcmp(t, "CALLBACK") || !strcmp(t, "VOICE");
}

static bool region_ok(const char *r)
{
	return strlen(r) == 2 && r[0] >= 'A' && r[0] <= 'Z' && r[1] >= 'A' && r[1] <= 'Z';
}

/* The fields shared by create and update, applied to e. */
static int decode(struct bw_ctx *c, struct bw_entry_point *e, bool create)
{
	const char *name, *type, *flow, *region;
	if (bw_api_only(c, ep_fields) || bw_api_str(c, "name", 1, 128, create, &name) ||
	    bw_api_str(c, "type", 1, 16, create, &type) ||
	    bw_api__ref_in(c, c->in, "flow_id", "flow_id", create, &flow) ||
	    bw_api_str(c, "default_region", 2, 2, false, &region))
		return -1;
	if (type && !type_ok(type)) {
		bw_reply_error(c, 400, "InvalidParameter", "one of CHAT, CALLBACK, VOICE", "type");
		return -1;
	}
	if (region && !region_ok(region)) {
		bw_reply_error(c, 400, "InvalidParameter",
		               "an ISO 3166 alpha-2 region code in capitals, such as FR",
		               "default_region");
		return -1;
	}
	if (name)
		snprintf(e->name, sizeof(e->name), "%s", name);
	if (type)
		snprintf(e->type, sizeof(e->type), "%s", type);
	if (flow)
		snprintf(e->flow_id, sizeof(e->flow_id), "%s", flow);
	if (region)
		snprintf(e->default_region, sizeof(e->default_region), "%s", region);
	else if (json_is_null(json_object_get(c->in, "default_region")))
		e->default_region[0] = '\0'; /* null: back to the instance's region */
	return 0;
}

static void reply_write(struct bw_ctx *c, bw_result r, const struct bw_entry_point *e, int status)
{
	if (r == BW_OK)
		bw_reply_json(c, status, ep_json(e));
	else if (r == BW_INVALID)
		bw_reply_error(c, 400, "InvalidParameter", "no such flow", "flow_id");
	else
		bw_reply_result(c, r,
		                r == BW_CONFLICT ? "an entry point with this name exists"
		                                 : "no such entry point",
		                r == BW_CONFLICT ? "name" : NULL);
}

void bw_api_ep_create(struct bw_ctx *c)
{
	struct bw_entry_point e = {0};
	if (decode(c, &e, true) != 0)
		return;
	bw_id_new(e.id, "ep_");
	snprintf(e.instance_id, sizeof(e.instance_id), "%s", c->who.instance_id);
	e.created_at = e.updated_at = bw_now_unix();
	reply_write(c, bw_store_ep_insert(c->store, &e), &e, 201);
}

static bw_result ep_fetch(struct bw_ctx *c, const char *after, void *out, size_t max, size_t *n)
{
	return bw_store_ep_list(c->store, c->who.instance_id, after, out, max, n);
}

static json_t *ep_encode(struct bw_ctx *c, const void *item)
{
	(void)c;
	return ep_json(item);
}

static const char *ep_id(const void *item)
{
	return ((const struct bw_entry_point *)item)->id;
}

void bw_api_ep_list(struct bw_ctx *c)
{
	static const struct bw_api_lister l = {sizeof(struct bw_entry_point), ep_fetch, ep_encode,
	                                       NULL, ep_id};
	bw_api_list(c, &l);
}

static int load(struct bw_ctx *c, struct bw_entry_point *e)
{
	memset(e, 0, sizeof(*e));
	bw_result r = bw_store_ep_get(c->store, c->who.instance_id, c->req->params[1], e);
	if (r != BW_OK) {
		bw_reply_result(c, r, "no such entry point", NULL);
		return -1;
	}
	return 0;
}

void bw_api_ep_get(struct bw_ctx *c)
{
	struct bw_entry_point e;
	if (load(c, &e) == 0)
		bw_reply_json(c, 200, ep_json(&e));
}

void bw_api_ep_update(struct bw_ctx *c)
{
	struct bw_entry_point e;
	if (load(c, &e) != 0 || decode(c, &e, false) != 0)
		return;
	e.updated_at = bw_now_unix();
	reply_write(c, bw_store_ep_update(c->store, &e), &e, 200);
}

void bw_api_ep_delete(struct bw_ctx *c)
{
	bw_result r = bw_store_ep_delete(c->store, c->who.instance_id, c->req->params[1]);
	if (r != BW_OK) {
		bw_reply_result(c, r, "no such entry point", NULL);
		return;
	}
	bw_reply_empty(c, 204);
}
