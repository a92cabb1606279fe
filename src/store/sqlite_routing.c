/* SQLite backend: hours of operation, queues, routing profiles and entry
 * points (0003). Every query is bound to the instance id, and references
 * are checked inside the writing transaction (BEGIN IMMEDIATE serializes
 * writers), so a check and the write it guards cannot be interleaved. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_int.h"
#include "store/sqlite_ops.h"

/* BW_OK when `SELECT 1 ... WHERE instance_id=? AND id=?` finds a row,
 * else `missing`. */
static bw_result exists(struct sq_store *q, const char *sql, const char *iid, const char *id,
                        bw_result missing)
{
	sqlite3_stmt *st = bw_sq__stmt(q, sql);
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, iid);
	bw_sq__bind(st, 2, id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return BW_OK;
	return rc == SQLITE_DONE ? missing : BW_ERR;
}

/* BW_CONFLICT when `SELECT count(*) ... WHERE instance_id=? AND <ref>=?` is
 * not zero: the row is still in use. */
static bw_result unused(struct sq_store *q, const char *sql, const char *iid, const char *id)
{
	sqlite3_stmt *st = bw_sq__stmt(q, sql);
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, iid);
	bw_sq__bind(st, 2, id);
	if (sqlite3_step(st) != SQLITE_ROW)
		return BW_ERR;
	return sqlite3_column_int64(st, 0) > 0 ? BW_CONFLICT : BW_OK;
}

static bw_result delete_unused(struct bw_store *s, const char *check, const char *del,
                               const char *iid, const char *id)
{
	struct sq_store *q = SQ(s);
	if (bw_sq__begin(q) != BW_OK)
		return BW_ERR;
	bw_result r = unused(q, check, iid, id);
	if (r != BW_OK)
		goto out;
	sqlite3_stmt *st = bw_sq__stmt(q, del);
	if (!st) {
		r = BW_ERR;
		goto out;
	}
	bw_sq__bind(st, 1, iid);
	bw_sq__bind(st, 2, id);
	r = bw_sq__step_changed(q, st);
out:
	return bw_sq__end(q, r);
}

/* ---- hours of operation ---- */

#define HOO_COLS "id,instance_id,name,description,time_zone,config,holidays,created_at,updated_at"

static void hoo_row(sqlite3_stmt *st, void *row_)
{
	struct bw_hoo *h = row_;
	memset(h, 0, sizeof(*h));
	bw_sq__text(h->id, sizeof(h->id), st, 0);
	bw_sq__text(h->instance_id, sizeof(h->instance_id), st, 1);
	bw_sq__text(h->name, sizeof(h->name), st, 2);
	bw_sq__text(h->description, sizeof(h->description), st, 3);
	bw_sq__text(h->time_zone, sizeof(h->time_zone), st, 4);
	h->config = bw_sq__dup(st, 5);
	h->holidays = bw_sq__dup(st, 6);
	h->created_at = sqlite3_column_int64(st, 7);
	h->updated_at = sqlite3_column_int64(st, 8);
}

bw_result bw_sq__hoo_insert(struct bw_store *s, const struct bw_hoo *h)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "INSERT INTO hours_of_operation(" HOO_COLS
	                                      ") VALUES(?,?,?,?,?,?,?,?,?)");
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, h->id);
	bw_sq__bind(st, 2, h->instance_id);
	bw_sq__bind(st, 3, h->name);
	bw_sq__bind(st, 4, h->description);
	bw_sq__bind(st, 5, h->time_zone);
	bw_sq__bind(st, 6, h->config ? h->config : "[]");
	bw_sq__bind(st, 7, h->holidays ? h->holidays : "[]");
	sqlite3_bind_int64(st, 8, h->created_at);
	sqlite3_bind_int64(st, 9, h->updated_at);
	return bw_sq__step_done(st);
}

bw_result bw_sq__hoo_get(struct bw_store *s, const char *iid, const char *id, struct bw_hoo *out)
{
	return bw_sq__one(SQ(s),
	                  "SELECT " HOO_COLS " FROM hours_of_operation "
	                  "WHERE instance_id=? AND id=?",
	                  iid, id, hoo_row, out);
}

bw_result bw_sq__hoo_list(struct bw_store *s, const char *iid, const char *after,
                          struct bw_hoo *out, size_t max, size_t *n)
{
	return bw_sq__page(SQ(s),
	                   "SELECT " HOO_COLS " FROM hours_of_operation "
	                   "WHERE instance_id=? AND id > ? ORDER BY id LIMIT ?",
	                   iid, after, max, hoo_row, out, sizeof(*out), n);
}

bw_result bw_sq__hoo_update(struct bw_store *s, const struct bw_hoo *h)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "UPDATE hours_of_operation SET name=?,description=?,"
	                                      "time_zone=?,config=?,holidays=?,updated_at=? "
	                                      "WHERE instance_id=? AND id=?");
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, h->name);
	bw_sq__bind(st, 2, h->description);
	bw_sq__bind(st, 3, h->time_zone);
	bw_sq__bind(st, 4, h->config ? h->config : "[]");
	bw_sq__bind(st, 5, h->holidays ? h->holidays : "[]");
	sqlite3_bind_int64(st, 6, h->updated_at);
	bw_sq__bind(st, 7, h->instance_id);
	bw_sq__bind(st, 8, h->id);
	return bw_sq__step_changed(SQ(s), st);
}

bw_result bw_sq__hoo_delete(struct bw_store *s, const char *iid, const char *id)
{
	return delete_unused(s,
	                     "SELECT count(*) FROM queues WHERE instance_id=? AND "
	                     "hours_of_operation_id=?",
	                     "DELETE FROM hours_of_operation WHERE instance_id=? AND id=?", iid,
	                     id);
}

/* ---- queues ---- */

#define QUEUE_COLS                                                                                 \
	"id,instance_id,name,description,hours_of_operation_id,max_contacts,created_at,updated_at"
#define HOO_EXISTS "SELECT 1 FROM hours_of_operation WHERE instance_id=? AND id=?"

static void queue_row(sqlite3_stmt *st, void *row_)
{
	struct bw_queue *qu = row_;
	memset(qu, 0, sizeof(*qu));
	bw_sq__text(qu->id, sizeof(qu->id), st, 0);
	bw_sq__text(qu->instance_id, sizeof(qu->instance_id), st, 1);
	bw_sq__text(qu->name, sizeof(qu->name), st, 2);
	bw_sq__text(qu->description, sizeof(qu->description), st, 3);
	bw_sq__text(qu->hours_id, sizeof(qu->hours_id), st, 4);
	qu->max_contacts = sqlite3_column_int64(st, 5);
	qu->created_at = sqlite3_column_int64(st, 6);
	qu->updated_at = sqlite3_column_int64(st, 7);
}

bw_result bw_sq__queue_insert(struct bw_store *s, const struct bw_queue *qu)
{
	struct sq_store *q = SQ(s);
	if (bw_sq__begin(q) != BW_OK)
		return BW_ERR;
	bw_result r = exists(q, HOO_EXISTS, qu->instance_id, qu->hours_id, BW_INVALID);
	if (r != BW_OK)
		goto out;
	sqlite3_stmt *st =
	    bw_sq__stmt(q, "INSERT INTO queues(" QUEUE_COLS ") VALUES(?,?,?,?,?,?,?,?)");
	if (!st) {
		r = BW_ERR;
		goto out;
	}
	bw_sq__bind(st, 1, qu->id);
	bw_sq__bind(st, 2, qu->instance_id);
	bw_sq__bind(st, 3, qu->name);
	bw_sq__bind(st, 4, qu->description);
	bw_sq__bind(st, 5, qu->hours_id);
	sqlite3_bind_int64(st, 6, qu->max_contacts);
	sqlite3_bind_int64(st, 7, qu->created_at);
	sqlite3_bind_int64(st, 8, qu->updated_at);
	r = bw_sq__step_done(st);
out:
	return bw_sq__end(q, r);
}

bw_result bw_sq__queue_get(struct bw_store *s, const char *iid, const char *id,
                           struct bw_queue *out)
{
	return bw_sq__one(SQ(s),
	                  "SELECT " QUEUE_COLS " FROM queues "
	                  "WHERE instance_id=? AND id=?",
	                  iid, id, queue_row, out);
}

bw_result bw_sq__queue_list(struct bw_store *s, const char *iid, const char *after,
                            struct bw_queue *out, size_t max, size_t *n)
{
	return bw_sq__page(SQ(s),
	                   "SELECT " QUEUE_COLS " FROM queues "
	                   "WHERE instance_id=? AND id > ? ORDER BY id LIMIT ?",
	                   iid, after, max, queue_row, out, sizeof(*out), n);
}

bw_result bw_sq__queue_update(struct bw_store *s, const struct bw_queue *qu)
{
	struct sq_store *q = SQ(s);
	if (bw_sq__begin(q) != BW_OK)
		return BW_ERR;
	bw_result r = exists(q, HOO_EXISTS, qu->instance_id, qu->hours_id, BW_INVALID);
	if (r != BW_OK)
		goto out;
	sqlite3_stmt *st = bw_sq__stmt(q, "UPDATE queues SET name=?,description=?,"
	                                  "hours_of_operation_id=?,max_contacts=?,updated_at=? "
	                                  "WHERE instance_id=? AND id=?");
	if (!st) {
		r = BW_ERR;
		goto out;
	}
	bw_sq__bind(st, 1, qu->name);
	bw_sq__bind(st, 2, qu->description);
	bw_sq__bind(st, 3, qu->hours_id);
	sqlite3_bind_int64(st, 4, qu->max_contacts);
	sqlite3_bind_int64(st, 5, qu->updated_at);
	bw_sq__bind(st, 6, qu->instance_id);
	bw_sq__bind(st, 7, qu->id);
	r = bw_sq__step_changed(q, st);
out:
	return bw_sq__end(q, r);
}

bw_result bw_sq__queue_delete(struct bw_store *s, const char *iid, const char *id)
{
	return delete_unused(s,
	                     "SELECT count(*) FROM routing_profile_queues WHERE instance_id=? "
	                     "AND queue_id=?",
	                     "DELETE FROM queues WHERE instance_id=? AND id=?", iid, id);
}

/* ---- routing profiles ---- */

#define RP_COLS "id,instance_id,name,description,chat,callback,voice,created_at,updated_at"

static bw_result rp_queues_load(struct sq_store *q, struct bw_routing_profile *p)
{
	sqlite3_stmt *st = bw_sq__stmt(q, "SELECT queue_id,priority,delay_s FROM "
	                                  "routing_profile_queues WHERE instance_id=? AND "
	                                  "routing_profile_id=? ORDER BY position LIMIT ?");
	if (!st)
		return BW_ERR;
	p->queues = calloc(BW_RP_MAX_QUEUES, sizeof(*p->queues));
	if (!p->queues)
		return BW_NOMEM;
	bw_sq__bind(st, 1, p->instance_id);
	bw_sq__bind(st, 2, p->id);
	sqlite3_bind_int(st, 3, BW_RP_MAX_QUEUES);
	while (p->nqueues < BW_RP_MAX_QUEUES && sqlite3_step(st) == SQLITE_ROW) {
		struct bw_rp_queue *e = &p->queues[p->nqueues++];
		bw_sq__text(e->queue_id, sizeof(e->queue_id), st, 0);
		e->priority = sqlite3_column_int(st, 1);
		e->delay_s = sqlite3_column_int(st, 2);
	}
	sqlite3_reset(st);
	return BW_OK;
}

static bw_result rp_row(struct sq_store *q, sqlite3_stmt *st, struct bw_routing_profile *p)
{
	memset(p, 0, sizeof(*p));
	bw_sq__text(p->id, sizeof(p->id), st, 0);
	bw_sq__text(p->instance_id, sizeof(p->instance_id), st, 1);
	bw_sq__text(p->name, sizeof(p->name), st, 2);
	bw_sq__text(p->description, sizeof(p->description), st, 3);
	p->chat = sqlite3_column_int(st, 4);
	p->callback = sqlite3_column_int(st, 5);
	p->voice = sqlite3_column_int(st, 6);
	p->created_at = sqlite3_column_int64(st, 7);
	p->updated_at = sqlite3_column_int64(st, 8);
	return rp_queues_load(q, p);
}

/* Replaces the profile's queue list; BW_INVALID when a queue is not one of
 * the instance's (the insert selects it by instance). */
static bw_result rp_queues_set(struct sq_store *q, const struct bw_routing_profile *p)
{
	sqlite3_stmt *st = bw_sq__stmt(q, "DELETE FROM routing_profile_queues WHERE instance_id=? "
	                                  "AND routing_profile_id=?");
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, p->instance_id);
	bw_sq__bind(st, 2, p->id);
	if (bw_sq__step_done(st) != BW_OK)
		return BW_ERR;
	for (size_t i = 0; i < p->nqueues; i++) {
		const struct bw_rp_queue *e = &p->queues[i];
		st = bw_sq__stmt(
		    q, "INSERT INTO routing_profile_queues(instance_id,routing_profile_id,"
		       "queue_id,position,priority,delay_s) SELECT ?1,?2,id,?3,?4,?5 FROM "
		       "queues WHERE instance_id=?1 AND id=?6");
		if (!st)
			return BW_ERR;
		bw_sq__bind(st, 1, p->instance_id);
		bw_sq__bind(st, 2, p->id);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)i);
		sqlite3_bind_int(st, 4, e->priority);
		sqlite3_bind_int(st, 5, e->delay_s);
		bw_sq__bind(st, 6, e->queue_id);
		bw_result r = bw_sq__step_done(st);
		if (r != BW_OK)
			return r == BW_CONFLICT ? BW_INVALID : r; /* a repeated queue */
		if (sqlite3_changes(q->db) == 0)
			return BW_INVALID;
	}
	return BW_OK;
}

bw_result bw_sq__rp_insert(struct bw_store *s, const struct bw_routing_profile *p)
{
	struct sq_store *q = SQ(s);
	if (bw_sq__begin(q) != BW_OK)
		return BW_ERR;
	bw_result r = BW_ERR;
	sqlite3_stmt *st =
	    bw_sq__stmt(q, "INSERT INTO routing_profiles(" RP_COLS ") VALUES(?,?,?,?,?,?,?,?,?)");
	if (!st)
		goto out;
	bw_sq__bind(st, 1, p->id);
	bw_sq__bind(st, 2, p->instance_id);
	bw_sq__bind(st, 3, p->name);
	bw_sq__bind(st, 4, p->description);
	sqlite3_bind_int(st, 5, p->chat);
	sqlite3_bind_int(st, 6, p->callback);
	sqlite3_bind_int(st, 7, p->voice);
	sqlite3_bind_int64(st, 8, p->created_at);
	sqlite3_bind_int64(st, 9, p->updated_at);
	if ((r = bw_sq__step_done(st)) != BW_OK)
		goto out;
	r = rp_queues_set(q, p);
out:
	return bw_sq__end(q, r);
}

bw_result bw_sq__rp_get(struct bw_store *s, const char *iid, const char *id,
                        struct bw_routing_profile *out)
{
	struct sq_store *q = SQ(s);
	sqlite3_stmt *st = bw_sq__stmt(q, "SELECT " RP_COLS " FROM routing_profiles "
	                                  "WHERE instance_id=? AND id=?");
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, iid);
	bw_sq__bind(st, 2, id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return rp_row(q, st, out);
	return rc == SQLITE_DONE ? BW_NOTFOUND : BW_ERR;
}

bw_result bw_sq__rp_list(struct bw_store *s, const char *iid, const char *after,
                         struct bw_routing_profile *out, size_t max, size_t *n)
{
	struct sq_store *q = SQ(s);
	sqlite3_stmt *st = bw_sq__stmt(q, "SELECT " RP_COLS " FROM routing_profiles "
	                                  "WHERE instance_id=? AND id > ? ORDER BY id LIMIT ?");
	*n = 0;
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, iid);
	bw_sq__bind(st, 2, after ? after : "");
	sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
	while (*n < max && sqlite3_step(st) == SQLITE_ROW) {
		bw_result r = rp_row(q, st, &out[(*n)++]);
		if (r != BW_OK)
			return r;
	}
	return BW_OK;
}

bw_result bw_sq__rp_update(struct bw_store *s, const struct bw_routing_profile *p)
{
	struct sq_store *q = SQ(s);
	if (bw_sq__begin(q) != BW_OK)
		return BW_ERR;
	bw_result r = BW_ERR;
	sqlite3_stmt *st =
	    bw_sq__stmt(q, "UPDATE routing_profiles SET name=?,description=?,chat=?,"
	                   "callback=?,voice=?,updated_at=? WHERE instance_id=? AND id=?");
	if (!st)
		goto out;
	bw_sq__bind(st, 1, p->name);
	bw_sq__bind(st, 2, p->description);
	sqlite3_bind_int(st, 3, p->chat);
	sqlite3_bind_int(st, 4, p->callback);
	sqlite3_bind_int(st, 5, p->voice);
	sqlite3_bind_int64(st, 6, p->updated_at);
	bw_sq__bind(st, 7, p->instance_id);
	bw_sq__bind(st, 8, p->id);
	if ((r = bw_sq__step_changed(q, st)) != BW_OK)
		goto out;
	r = rp_queues_set(q, p);
out:
	return bw_sq__end(q, r);
}

bw_result bw_sq__rp_delete(struct bw_store *s, const char *iid, const char *id)
{
	return delete_unused(s,
	                     "SELECT count(*) FROM users WHERE instance_id=? AND "
	                     "routing_profile_id=?",
	                     "DELETE FROM routing_profiles WHERE instance_id=? AND id=?", iid, id);
}

/* ---- entry points ---- */

#define EP_COLS "id,instance_id,name,type,flow_id,default_region,created_at,updated_at"

static void ep_row(sqlite3_stmt *st, void *row_)
{
	struct bw_entry_point *e = row_;
	memset(e, 0, sizeof(*e));
	bw_sq__text(e->id, sizeof(e->id), st, 0);
	bw_sq__text(e->instance_id, sizeof(e->instance_id), st, 1);
	bw_sq__text(e->name, sizeof(e->name), st, 2);
	bw_sq__text(e->type, sizeof(e->type), st, 3);
	bw_sq__text(e->flow_id, sizeof(e->flow_id), st, 4);
	bw_sq__text(e->default_region, sizeof(e->default_region), st, 5);
	e->created_at = sqlite3_column_int64(st, 6);
	e->updated_at = sqlite3_column_int64(st, 7);
}

/* The flows table comes with migration 0004, which may not be there yet:
 * until it is, any well-formed flow id is accepted. */
static bw_result flow_check(struct sq_store *q, const char *iid, const char *flow_id)
{
	sqlite3_stmt *st = bw_sq__stmt(q, "SELECT count(*) FROM sqlite_master WHERE type='table' "
	                                  "AND name='flows'");
	if (!st || sqlite3_step(st) != SQLITE_ROW)
		return BW_ERR;
	bool have = sqlite3_column_int(st, 0) > 0;
	sqlite3_reset(st);
	if (!have)
		return BW_OK;
	return exists(q, "SELECT 1 FROM flows WHERE instance_id=? AND id=?", iid, flow_id,
	              BW_INVALID);
}

static void ep_bind(sqlite3_stmt *st, const struct bw_entry_point *e, int first)
{
	bw_sq__bind(st, first, e->name);
	bw_sq__bind(st, first + 1, e->type);
	bw_sq__bind(st, first + 2, e->flow_id);
	if (e->default_region[0])
		bw_sq__bind(st, first + 3, e->default_region);
	else
		sqlite3_bind_null(st, first + 3);
}

bw_result bw_sq__ep_insert(struct bw_store *s, const struct bw_entry_point *e)
{
	struct sq_store *q = SQ(s);
	if (bw_sq__begin(q) != BW_OK)
		return BW_ERR;
	bw_result r = flow_check(q, e->instance_id, e->flow_id);
	if (r != BW_OK)
		goto out;
	sqlite3_stmt *st = bw_sq__stmt(q, "INSERT INTO entry_points(id,instance_id,created_at,"
	                                  "updated_at,name,type,flow_id,default_region) "
	                                  "VALUES(?,?,?,?,?,?,?,?)");
	if (!st) {
		r = BW_ERR;
		goto out;
	}
	bw_sq__bind(st, 1, e->id);
	bw_sq__bind(st, 2, e->instance_id);
	sqlite3_bind_int64(st, 3, e->created_at);
	sqlite3_bind_int64(st, 4, e->updated_at);
	ep_bind(st, e, 5);
	r = bw_sq__step_done(st);
out:
	return bw_sq__end(q, r);
}

bw_result bw_sq__ep_get(struct bw_store *s, const char *iid, const char *id,
                        struct bw_entry_point *out)
{
	return bw_sq__one(SQ(s),
	                  "SELECT " EP_COLS " FROM entry_points "
	                  "WHERE instance_id=? AND id=?",
	                  iid, id, ep_row, out);
}

bw_result bw_sq__ep_list(struct bw_store *s, const char *iid, const char *after,
                         struct bw_entry_point *out, size_t max, size_t *n)
{
	return bw_sq__page(SQ(s),
	                   "SELECT " EP_COLS " FROM entry_points "
	                   "WHERE instance_id=? AND id > ? ORDER BY id LIMIT ?",
	                   iid, after, max, ep_row, out, sizeof(*out), n);
}

bw_result bw_sq__ep_update(struct bw_store *s, const struct bw_entry_point *e)
{
	struct sq_store *q = SQ(s);
	if (bw_sq__begin(q) != BW_OK)
		return BW_ERR;
	bw_result r = flow_check(q, e->instance_id, e->flow_id);
	if (r != BW_OK)
		goto out;
	sqlite3_stmt *st =
	    bw_sq__stmt(q, "UPDATE entry_points SET updated_at=?,name=?,type=?,"
	                   "flow_id=?,default_region=? WHERE instance_id=? AND id=?");
	if (!st) {
		r = BW_ERR;
		goto out;
	}
	sqlite3_bind_int64(st, 1, e->updated_at);
	ep_bind(st, e, 2);
	bw_sq__bind(st, 6, e->instance_id);
	bw_sq__bind(st, 7, e->id);
	r = bw_sq__step_changed(q, st);
out:
	return bw_sq__end(q, r);
}

bw_result bw_sq__ep_delete(struct bw_store *s, const char *iid, const char *id)
{
	sqlite3_stmt *st =
	    bw_sq__stmt(SQ(s), "DELETE FROM entry_points WHERE instance_id=? AND id=?");
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, iid);
	bw_sq__bind(st, 2, id);
	return bw_sq__step_changed(SQ(s), st);
}
