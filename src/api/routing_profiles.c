/* Routing profiles: the queues an agent takes contacts from (priority,
 * delay) and how many contacts of each channel at once. Users name one
 * with routing_profile_id (src/api/users.c checks it exists). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/routing_int.h"
#include "core/ids.h"
#include "store/store.h"

/* Concurrency per channel: key, bounds, default. */
static const struct {
	const char *key;
	long long lo, hi;
	int def;
} channels[] = {{"CHAT", 1, 10, 1}, {"CALLBACK", 0, 10, 0}, {"VOICE", 0, 1, 0}};

static int *chan(struct bw_routing_profile *p, size_t i)
{
	return i == 0 ? &p->chat : i == 1 ? &p->callback : &p->voice;
}

static json_t *rp_json(const struct bw_routing_profile *p)
{
	json_t *qs = json_array();
	for (size_t i = 0; i < p->nqueues; i++)
		json_array_append_new(
		    qs, json_pack("{s:s, s:i, s:i}", "queue_id", p->queues[i].queue_id, "priority",
		                  p->queues[i].priority, "delay_s", p->queues[i].delay_s));
	json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:{s:i, s:i, s:i}}", "id", p->id, "name",
	                      p->name, "description", p->description, "queues", qs, "concurrency",
	                      "CHAT", p->chat, "CALLBACK", p->callback, "VOICE", p->voice);
	return bw_api__times(o, p->created_at, p->updated_at);
}

/* "concurrency": the channels given replace the current values. */
static int decode_concurrency(struct bw_ctx *c, struct bw_routing_profile *p, bool required)
{
	static const char *const keys[] = {"CHAT", "CALLBACK", "VOICE", NULL};
	json_t *v = json_object_get(c->in, "concurrency");
	if (!v || json_is_null(v)) {
		if (required)
			bw_reply_error(c, 400, "InvalidParameter", "this field is required",
			               "concurrency");
		return required ? -1 : 0;
	}
	if (!json_is_object(v)) {
		bw_reply_error(c, 400, "InvalidParameter", "must be an object", "concurrency");
		return -1;
	}
	if (bw_api_only_in(c, v, "concurrency", keys))
		return -1;
	for (size_t i = 0; i < sizeof(channels) / sizeof(channels[0]); i++) {
		char field[32];
		long long n;
		bool present;
		snprintf(field, sizeof(field), "concurrency.%s", channels[i].key);
		if (bw_api__int_in(c, v, channels[i].key, field, channels[i].lo, channels[i].hi,
		                   false, &n, &present))
			return -1;
		if (present)
			*chan(p, i) = (int)n;
	}
	return 0;
}

/* "queues": [{"queue_id","priority","delay_s"?}], each a queue of the
 * instance, none twice. Replaces p->queues when given. */
static int decode_queues(struct bw_ctx *c, struct bw_routing_profile *p)
{
	static const char *const keys[] = {"queue_id", "priority", "delay_s", NULL};
	json_t *v = json_object_get(c->in, "queues"), *e;
	size_t i;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v) || json_array_size(v) > BW_RP_MAX_QUEUES) {
		bw_reply_error(c, 400, "InvalidParameter", "an array of at most 50 queues",
		               "queues");
		return -1;
	}
	struct bw_rp_queue *qs = calloc(BW_RP_MAX_QUEUES, sizeof(*qs));
	if (!qs) {
		bw_reply_result(c, BW_NOMEM, NULL, NULL);
		return -1;
	}
	json_array_foreach(v, i, e)
	{
		char f[32], ff[48];
		const char *id;
		long long prio, delay = 0;
		bool present;
		snprintf(f, sizeof(f), "queues[%zu]", i);
		if (!json_is_object(e)) {
			bw_reply_error(c, 400, "InvalidParameter", "must be an object", f);
			goto bad;
		}
		snprintf(ff, sizeof(ff), "%s.queue_id", f);
		if (bw_api_only_in(c, e, f, keys) ||
		    bw_api__ref_in(c, e, "queue_id", ff, true, &id))
			goto bad;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(qs[j].queue_id, id)) {
				bw_reply_error(c, 400, "InvalidParameter", "repeated queue", ff);
				goto bad;
			}
		struct bw_queue q;
		bw_result r = bw_store_queue_get(c->store, c->who.instance_id, id, &q);
		if (r != BW_OK) {
			if (r == BW_NOTFOUND)
				bw_reply_error(c, 400, "InvalidParameter", "no such queue", ff);
			else
				bw_reply_result(c, r, NULL, NULL);
			goto bad;
		}
		snprintf(ff, sizeof(ff), "%s.priority", f);
		if (bw_api__int_in(c, e, "priority", ff, 1, 99, true, &prio, &present))
			goto bad;
		snprintf(ff, sizeof(ff), "%s.delay_s", f);
		if (bw_api__int_in(c, e, "delay_s", ff, 0, 3600, false, &delay, &present))
			goto bad;
		snprintf(qs[i].queue_id, sizeof(qs[i].queue_id), "%s", id);
		qs[i].priority = (int)prio;
		qs[i].delay_s = (int)delay;
	}
	free(p->queues);
	p->queues = qs;
	p->nqueues = json_array_size(v);
	return 0;
bad:
	free(qs);
	return -1;
}

static const char *const rp_fields[] = {"name", "description", "queues", "concurrency", NULL};

static void reply_write(struct bw_ctx *c, bw_result r, const struct bw_routing_profile *p,
                        int status)
{
	if (r == BW_OK)
		bw_reply_json(c, status, rp_json(p));
	else if (r == BW_INVALID) /* a queue went away since it was checked */
		bw_reply_error(c, 400, "InvalidParameter", "no such queue", "queues");
	else
		bw_reply_result(c, r,
		                r == BW_CONFLICT ? "a routing profile with this name exists"
		                                 : "no such routing profile",
		                r == BW_CONFLICT ? "name" : NULL);
}

void bw_api_rp_create(struct bw_ctx *c)
{
	const char *name, *desc;
	struct bw_routing_profile p = {0};
	for (size_t i = 0; i < sizeof(channels) / sizeof(channels[0]); i++)
		*chan(&p, i) = channels[i].def;
	if (bw_api_only(c, rp_fields) || bw_api__name_desc(c, true, &name, &desc) ||
	    decode_concurrency(c, &p, true) || decode_queues(c, &p))
		goto out;
	bw_id_new(p.id, "rp_");
	snprintf(p.instance_id, sizeof(p.instance_id), "%s", c->who.instance_id);
	snprintf(p.name, sizeof(p.name), "%s", name);
	snprintf(p.description, sizeof(p.description), "%s", desc ? desc : "");
	p.created_at = p.updated_at = bw_now_unix();
	reply_write(c, bw_store_rp_insert(c->store, &p), &p, 201);
out:
	bw_routing_profile_clear(&p);
}

static bw_result rp_fetch(struct bw_ctx *c, const char *after, void *out, size_t max, size_t *n)
{
	return bw_store_rp_list(c->store, c->who.instance_id, after, out, max, n);
}

static json_t *rp_encode(struct bw_ctx *c, const void *item)
{
	(void)c;
	return rp_json(item);
}

static void rp_clear(void *item)
{
	bw_routing_profile_clear(item);
}

static const char *rp_id(const void *item)
{
	return ((const struct bw_routing_profile *)item)->id;
}

void bw_api_rp_list(struct bw_ctx *c)
{
	static const struct bw_api_lister l = {sizeof(struct bw_routing_profile), rp_fetch,
	                                       rp_encode, rp_clear, rp_id};
	bw_api_list(c, &l);
}

static int load(struct bw_ctx *c, struct bw_routing_profile *p)
{
	memset(p, 0, sizeof(*p));
	bw_result r = bw_store_rp_get(c->store, c->who.instance_id, c->req->params[1], p);
	if (r != BW_OK) {
		bw_routing_profile_clear(p);
		bw_reply_result(c, r, "no such routing profile", NULL);
		return -1;
	}
	return 0;
}

void bw_api_rp_get(struct bw_ctx *c)
{
	struct bw_routing_profile p;
	if (load(c, &p) != 0)
		return;
	bw_reply_json(c, 200, rp_json(&p));
	bw_routing_profile_clear(&p);
}

void bw_api_rp_update(struct bw_ctx *c)
{
	const char *name, *desc;
	struct bw_routing_profile p;
	if (bw_api_only(c, rp_fields) || bw_api__name_desc(c, false, &name, &desc) ||
	    load(c, &p) != 0)
		return;
	if (decode_concurrency(c, &p, false) || decode_queues(c, &p))
		goto out;
	if (name)
		snprintf(p.name, sizeof(p.name), "%s", name);
	if (desc)
		snprintf(p.description, sizeof(p.description), "%s", desc);
	p.updated_at = bw_now_unix();
	reply_write(c, bw_store_rp_update(c->store, &p), &p, 200);
out:
	bw_routing_profile_clear(&p);
}

void bw_api_rp_delete(struct bw_ctx *c)
{
	bw_result r = bw_store_rp_delete(c->store, c->who.instance_id, c->req->params[1]);
	if (r != BW_OK) {
		bw_reply_result(c, r,
		                r == BW_CONFLICT ? "the routing profile is assigned to users"
		                                 : "no such routing profile",
		                NULL);
		return;
	}
	bw_reply_empty(c, 204);
}
