/* Queues: each names hours of operation of its instance and caps how many
 * contacts may wait in it. */
#include <stdio.h>
#include <string.h>

#include "api/routing_int.h"
#include "core/ids.h"
#include "store/store.h"

#define MAX_CONTACTS_DEFAULT 1000
#define MAX_CONTACTS_MAX 100000

static json_t *queue_json(const struct bw_queue *q)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I}", "id", q->id, "name", q->name,
	                      "description", q->description, "hours_of_operation_id", q->hours_id,
	                      "max_contacts", (json_int_t)q->max_contacts);
	return bw_api__times(o, q->created_at, q->updated_at);
}

static const char *const queue_fields[] = {"name", "description", "hours_of_operation_id",
                                           "max_contacts", NULL};

static void reply_write(struct bw_ctx *c, bw_result r, const struct bw_queue *q, int status)
{
	if (r == BW_OK)
		bw_reply_json(c, status, queue_json(q));
	else if (r == BW_INVALID)
		bw_reply_error(c, 400, "InvalidParameter", "no such hours of operation",
		               "hours_of_operation_id");
	else
		bw_reply_result(
		    c, r, r == BW_CONFLICT ? "a queue with this name exists" : "no such queue",
		    r == BW_CONFLICT ? "name" : NULL);
}

void bw_api_queues_create(struct bw_ctx *c)
{
	const char *name, *desc, *hid;
	long long max = MAX_CONTACTS_DEFAULT;
	bool present;
	if (bw_api_only(c, queue_fields) || bw_api__name_desc(c, true, &name, &desc) ||
	    bw_api__ref_in(c, c->in, "hours_of_operation_id", "hours_of_operation_id", true,
	                   &hid) ||
	    bw_api__int_in(c, c->in, "max_contacts", "max_contacts", 1, MAX_CONTACTS_MAX, false,
	                   &max, &present))
		return;
	struct bw_queue q = {0};
	bw_id_new(q.id, "qu_");
	snprintf(q.instance_id, sizeof(q.instance_id), "%s", c->who.instance_id);
	snprintf(q.name, sizeof(q.name), "%s", name);
	snprintf(q.description, sizeof(q.description), "%s", desc ? desc : "");
	snprintf(q.hours_id, sizeof(q.hours_id), "%s", hid);
	q.max_contacts = max;
	q.created_at = q.updated_at = bw_now_unix();
	reply_write(c, bw_store_queue_insert(c->store, &q), &q, 201);
}

static bw_result qu_fetch(struct bw_ctx *c, const char *after, void *out, size_t max, size_t *n)
{
	return bw_store_queue_list(c->store, c->who.instance_id, after, out, max, n);
}

static json_t *qu_encode(struct bw_ctx *c, const void *item)
{
	(void)c;
	return queue_json(item);
}

static const char *qu_id(const void *item)
{
	return ((const struct bw_queue *)item)->id;
}

void bw_api_queues_list(struct bw_ctx *c)
{
	static const struct bw_api_lister l = {sizeof(struct bw_queue), qu_fetch, qu_encode, NULL,
	                                       qu_id};
	bw_api_list(c, &l);
}

static int load(struct bw_ctx *c, struct bw_queue *q)
{
	memset(q, 0, sizeof(*q));
	bw_result r = bw_store_queue_get(c->store, c->who.instance_id, c->req->params[1], q);
	if (r != BW_OK) {
		bw_reply_result(c, r, "no such queue", NULL);
		return -1;
	}
	return 0;
}

void bw_api_queues_get(struct bw_ctx *c)
{
	struct bw_queue q;
	if (load(c, &q) == 0)
		bw_reply_json(c, 200, queue_json(&q));
}

void bw_api_queues_update(struct bw_ctx *c)
{
	const char *name, *desc, *hid;
	long long max = 0;
	bool present;
	struct bw_queue q;
	if (bw_api_only(c, queue_fields) || bw_api__name_desc(c, false, &name, &desc) ||
	    bw_api__ref_in(c, c->in, "hours_of_operation_id", "hours_of_operation_id", false,
	                   &hid) ||
	    bw_api__int_in(c, c->in, "max_contacts", "max_contacts", 1, MAX_CONTACTS_MAX, false,
	                   &max, &present) ||
	    load(c, &q) != 0)
		return;
	if (name)
		snprintf(q.name, sizeof(q.name), "%s", name);
	if (desc)
		snprintf(q.description, sizeof(q.description), "%s", desc);
	if (hid)
		snprintf(q.hours_id, sizeof(q.hours_id), "%s", hid);
	if (present)
		q.max_contacts = max;
	q.updated_at = bw_now_unix();
	reply_write(c, bw_store_queue_update(c->store, &q), &q, 200);
}

void bw_api_queues_delete(struct bw_ctx *c)
{
	bw_result r = bw_store_queue_delete(c->store, c->who.instance_id, c->req->params[1]);
	if (r != BW_OK) {
		bw_reply_result(
		    c, r, r == BW_CONFLICT ? "a routing profile uses this queue" : "no such queue",
		    NULL);
		return;
	}
	bw_reply_empty(c, 204);
}
