/* SQLite backend: event subscriptions and their outbox (0011). Every
 * query a user reaches is bound to one instance; the dispatcher's (due,
 * next_at, settle) span instances, since it serves them all. */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_int.h"
#include "store/sqlite_ops.h"

#define ES_COLS                                                                             \
	"id,instance_id,name,config,enabled,created_at,updated_at,delivered,last_delivered_at," \
	"last_error,last_error_at"

static void es_row(sqlite3_stmt *st, void *item)
{
	struct bw_event_sub_row *r = item;
	memset(r, 0, sizeof(*r));
	bw_sq__text(r->id, sizeof(r->id), st, 0);
	bw_sq__text(r->instance_id, sizeof(r->instance_id), st, 1);
	bw_sq__text(r->name, sizeof(r->name), st, 2);
	r->config = bw_sq__dup(st, 3);
	r->enabled = sqlite3_column_int(st, 4) != 0;
	r->created_at = sqlite3_column_int64(st, 5);
	r->updated_at = sqlite3_column_int64(st, 6);
	r->delivered = sqlite3_column_int64(st, 7);
	r->last_delivered_at = sqlite3_column_int64(st, 8);
	bw_sq__text(r->last_error, sizeof(r->last_error), st, 9);
	r->last_error_at = sqlite3_column_int64(st, 10);
}

bw_result bw_sq__event_sub_insert(struct bw_store *s, const struct bw_event_sub_row *r)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "INSERT INTO event_subscriptions(id,instance_id,name,"
	                                      "config,enabled,created_at,updated_at) "
	                                      "VALUES(?,?,?,?,?,?,?)");
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, r->id);
	bw_sq__bind(st, 2, r->instance_id);
	bw_sq__bind(st, 3, r->name);
	bw_sq__bind(st, 4, r->config);
	sqlite3_bind_int(st, 5, r->enabled);
	sqlite3_bind_int64(st, 6, r->created_at);
	sqlite3_bind_int64(st, 7, r->updated_at);
	return bw_sq__step_done(st);
}

bw_result bw_sq__event_sub_get(struct bw_store *s, const char *iid, const char *id,
                               struct bw_event_sub_row *out)
{
	memset(out, 0, sizeof(*out));
	bw_result r = bw_sq__one(SQ(s),
	                         "SELECT " ES_COLS " FROM event_subscriptions "
	                         "WHERE instance_id=? AND id=?",
	                         iid, id, es_row, out);
	if (r == BW_OK && !out->config)
		return BW_NOMEM;
	return r;
}

bw_result bw_sq__event_sub_list(struct bw_store *s, const char *iid, const char *after,
                                bool enabled_only, struct bw_event_sub_row *out, size_t max,
                                size_t *n)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "SELECT " ES_COLS " FROM event_subscriptions "
	                                      "WHERE instance_id=?1 AND id>?2 AND "
	                                      "(?3=0 OR enabled=1) ORDER BY id LIMIT ?4");
	bw_result r = BW_OK;
	int rc = SQLITE_DONE;
	*n = 0;
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, iid);
	bw_sq__bind(st, 2, after ? after : "");
	sqlite3_bind_int(st, 3, enabled_only);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)max);
	while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		es_row(st, &out[*n]);
		if (!out[(*n)++].config) {
			r = BW_NOMEM;
			break;
		}
	}
	if (r == BW_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = BW_ERR;
	if (r != BW_OK) {
		for (size_t i = 0; i < *n; i++)
			bw_event_sub_row_clear(&out[i]);
		*n = 0;
	}
	return r;
}

bw_result bw_sq__event_sub_update(struct bw_store *s, const struct bw_event_sub_row *r)
{
	sqlite3_stmt *st =
	    bw_sq__stmt(SQ(s), "UPDATE event_subscriptions SET name=?,config=?,enabled=?,"
	                       "updated_at=? WHERE instance_id=? AND id=?");
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, r->name);
	bw_sq__bind(st, 2, r->config);
	sqlite3_bind_int(st, 3, r->enabled);
	sqlite3_bind_int64(st, 4, r->updated_at);
	bw_sq__bind(st, 5, r->instance_id);
	bw_sq__bind(st, 6, r->id);
	return bw_sq__step_changed(SQ(s), st);
}

bw_result bw_sq__event_sub_delete(struct bw_store *s, const char *iid, const char *id)
{
	struct sq_store *q = SQ(s);
	bw_result r = bw_sq__begin(q);
	if (r != BW_OK)
		return r;
	sqlite3_stmt *st = bw_sq__stmt(q, "DELETE FROM event_outbox WHERE instance_id=? AND "
	                                  "subscription_id=?");
	if (!st)
		return bw_sq__end(q, BW_ERR);
	bw_sq__bind(st, 1, iid);
	bw_sq__bind(st, 2, id);
	r = bw_sq__step_done(st);
	if (r == BW_OK) {
		st = bw_sq__stmt(q, "DELETE FROM event_subscriptions WHERE instance_id=? AND id=?");
		if (!st)
			return bw_sq__end(q, BW_ERR);
		bw_sq__bind(st, 1, iid);
		bw_sq__bind(st, 2, id);
		r = bw_sq__step_changed(q, st);
	}
	return bw_sq__end(q, r);
}

/* ---- the outbox ---- */

#define OB_COLS                                                                              \
	"seq,id,instance_id,subscription_id,type,dedup_key,attempts,dead,next_at,created_at," \
	"last_attempt_at,last_error"

static void ob_row(sqlite3_stmt *st, struct bw_outbox_row *r)
{
	memset(r, 0, sizeof(*r));
	r->seq = sqlite3_column_int64(st, 0);
	bw_sq__text(r->id, sizeof(r->id), st, 1);
	bw_sq__text(r->instance_id, sizeof(r->instance_id), st, 2);
	bw_sq__text(r->subscription_id, sizeof(r->subscription_id), st, 3);
	bw_sq__text(r->type, sizeof(r->type), st, 4);
	bw_sq__text(r->dedup_key, sizeof(r->dedup_key), st, 5);
	r->attempts = sqlite3_column_int(st, 6);
	r->dead = sqlite3_column_int(st, 7) != 0;
	r->next_at = sqlite3_column_int64(st, 8);
	r->created_at = sqlite3_column_int64(st, 9);
	r->last_attempt_at = sqlite3_column_int64(st, 10);
	bw_sq__text(r->last_error, sizeof(r->last_error), st, 11);
}

bw_result bw_sq__outbox_insert(struct bw_store *s, const struct bw_outbox_row *rows, size_t n)
{
	struct sq_store *q = SQ(s);
	if (n == 0)
		return BW_OK;
	bw_result r = bw_sq__begin(q);
	for (size_t i = 0; i < n && r == BW_OK; i++) {
		const struct bw_outbox_row *o = &rows[i];
		sqlite3_stmt *st =
		    bw_sq__stmt(q, "INSERT INTO event_outbox(id,instance_id,subscription_id,type,"
		                   "dedup_key,payload,next_at,created_at) VALUES(?,?,?,?,?,?,?,?)");
		if (!st) {
			r = BW_ERR;
			break;
		}
		bw_sq__bind(st, 1, o->id);
		bw_sq__bind(st, 2, o->instance_id);
		bw_sq__bind(st, 3, o->subscription_id);
		bw_sq__bind(st, 4, o->type);
		bw_sq__bind(st, 5, o->dedup_key);
		sqlite3_bind_blob(st, 6, o->payload, (int)o->payload_len, SQLITE_STATIC);
		sqlite3_bind_int64(st, 7, o->next_at);
		sqlite3_bind_int64(st, 8, o->created_at);
		r = bw_sq__step_done(st);
	}
	return bw_sq__end(q, r);
}

bw_result bw_sq__outbox_due(struct bw_store *s, const char *sid, long long now,
                            struct bw_outbox_row *out, size_t max, size_t *n)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "SELECT " OB_COLS ",payload FROM event_outbox "
	                                      "WHERE dead=0 AND next_at<=?1 AND "
	                                      "(?3 IS NULL OR subscription_id=?3) "
	                                      "ORDER BY seq LIMIT ?2");
	bw_result r = BW_OK;
	int rc = SQLITE_DONE;
	*n = 0;
	if (!st)
		return BW_ERR;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	bw_sq__bind_opt(st, 3, sid);
	while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct bw_outbox_row *o = &out[(*n)++];
		ob_row(st, o);
		int len = sqlite3_column_bytes(st, 12);
		const void *b = sqlite3_column_blob(st, 12);
		o->payload = len > 0 ? malloc((size_t)len) : NULL;
		if (!o->payload) {
			r = BW_NOMEM;
			break;
		}
		memcpy(o->payload, b, (size_t)len);
		o->payload_len = (size_t)len;
	}
	if (r == BW_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = BW_ERR;
	if (r != BW_OK) {
		for (size_t i = 0; i < *n; i++)
			bw_outbox_row_clear(&out[i]);
		*n = 0;
	}
	return r;
}

bw_result bw_sq__outbox_subs(struct bw_store *s, const char *sink, struct bw_outbox_sub *out,
                             size_t max, size_t *n)
{
	sqlite3_stmt *st = bw_sq__stmt(
	    SQ(s), "SELECT o.subscription_id,o.instance_id,min(o.next_at) FROM event_outbox o "
	           "JOIN event_subscriptions s ON s.id=o.subscription_id "
	           "WHERE o.dead=0 AND json_extract(s.config,'$.sink.type')=?1 "
	           "GROUP BY o.subscription_id ORDER BY 3 LIMIT ?2");
	int rc = SQLITE_DONE;
	*n = 0;
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, sink);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct bw_outbox_sub *o = &out[(*n)++];
		bw_sq__text(o->subscription_id, sizeof(o->subscription_id), st, 0);
		bw_sq__text(o->instance_id, sizeof(o->instance_id), st, 1);
		o->next_at = sqlite3_column_int64(st, 2);
	}
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? BW_OK : BW_ERR;
}

bw_result bw_sq__outbox_due_now(struct bw_store *s, long long now, long long *n)
{
	struct sq_store *q = SQ(s);
	sqlite3_stmt *st =
	    bw_sq__stmt(q, "UPDATE event_outbox SET next_at=?1 WHERE dead=0 AND next_at>?1");
	if (!st)
		return BW_ERR;
	sqlite3_bind_int64(st, 1, now);
	bw_result r = bw_sq__step_done(st);
	*n = r == BW_OK ? sqlite3_changes(q->db) : 0;
	return r;
}

bw_result bw_sq__outbox_lease(struct bw_store *s, const long long *seqs, size_t n, long long until)
{
	struct sq_store *q = SQ(s);
	if (n == 0)
		return BW_OK;
	bw_result r = bw_sq__begin(q);
	for (size_t i = 0; i < n && r == BW_OK; i++) {
		sqlite3_stmt *st = bw_sq__stmt(q, "UPDATE event_outbox SET next_at=? WHERE seq=?");
		if (!st) {
			r = BW_ERR;
			break;
		}
		sqlite3_bind_int64(st, 1, until);
		sqlite3_bind_int64(st, 2, seqs[i]);
		r = bw_sq__step_done(st);
	}
	return bw_sq__end(q, r);
}

static bw_result settle_one(struct sq_store *q, const struct bw_outbox_result *o, long long now)
{
	sqlite3_stmt *st;
	bw_result r;
	if (o->ok) {
		st = bw_sq__stmt(q, "DELETE FROM event_outbox WHERE seq=?");
		if (!st)
			return BW_ERR;
		sqlite3_bind_int64(st, 1, o->seq);
		if ((r = bw_sq__step_done(st)) != BW_OK)
			return r;
		st = bw_sq__stmt(q, "UPDATE event_subscriptions SET delivered=delivered+1,"
		                    "last_delivered_at=? WHERE id=?");
		if (!st)
			return BW_ERR;
		sqlite3_bind_int64(st, 1, now);
		bw_sq__bind(st, 2, o->subscription_id);
		return bw_sq__step_done(st);
	}
	st = bw_sq__stmt(q, "UPDATE event_outbox SET attempts=?,dead=?,next_at=?,last_error=?,"
	                    "last_attempt_at=? WHERE seq=?");
	if (!st)
		return BW_ERR;
	sqlite3_bind_int(st, 1, o->attempts);
	sqlite3_bind_int(st, 2, o->dead);
	sqlite3_bind_int64(st, 3, o->next_at);
	bw_sq__bind(st, 4, o->error ? o->error : "");
	sqlite3_bind_int64(st, 5, now);
	sqlite3_bind_int64(st, 6, o->seq);
	if ((r = bw_sq__step_done(st)) != BW_OK)
		return r;
	st = bw_sq__stmt(q, "UPDATE event_subscriptions SET last_error=?,last_error_at=? "
	                    "WHERE id=?");
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, o->error ? o->error : "");
	sqlite3_bind_int64(st, 2, now);
	bw_sq__bind(st, 3, o->subscription_id);
	return bw_sq__step_done(st);
}

bw_result bw_sq__outbox_settle(struct bw_store *s, const struct bw_outbox_result *res, size_t n,
                               long long now)
{
	struct sq_store *q = SQ(s);
	bw_result r = bw_sq__begin(q);
	for (size_t i = 0; i < n && r == BW_OK; i++)
		r = settle_one(q, &res[i], now);
	return bw_sq__end(q, r);
}

bw_result bw_sq__outbox_counts(struct bw_store *s, const char *iid, const char *sid,
                               long long *pending, long long *dead)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "SELECT coalesce(sum(dead=0),0),coalesce(sum(dead),0)"
	                                      " FROM event_outbox WHERE (?1 IS NULL OR instance_id=?1) AND "
	                                      "(?2 IS NULL OR subscription_id=?2)");
	if (!st)
		return BW_ERR;
	bw_sq__bind_opt(st, 1, iid);
	bw_sq__bind_opt(st, 2, sid);
	if (sqlite3_step(st) != SQLITE_ROW)
		return BW_ERR;
	*pending = sqlite3_column_int64(st, 0);
	*dead = sqlite3_column_int64(st, 1);
	return BW_OK;
}

bw_result bw_sq__outbox_dead_list(struct bw_store *s, const char *iid, const char *sid,
                                  long long after, struct bw_outbox_row *out, size_t max,
                                  size_t *n)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "SELECT " OB_COLS " FROM event_outbox WHERE "
	                                      "instance_id=? AND subscription_id=? AND dead=1 "
	                                      "AND seq>? ORDER BY seq LIMIT ?");
	int rc = SQLITE_DONE;
	*n = 0;
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, iid);
	bw_sq__bind(st, 2, sid);
	sqlite3_bind_int64(st, 3, after);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)max);
	while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
		ob_row(st, &out[(*n)++]);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? BW_OK : BW_ERR;
}

bw_result bw_sq__outbox_dead_requeue(struct bw_store *s, const char *iid, const char *sid,
                                     long long now, long long *n)
{
	struct sq_store *q = SQ(s);
	sqlite3_stmt *st = bw_sq__stmt(q, "UPDATE event_outbox SET dead=0,attempts=0,next_at=? "
	                                  "WHERE instance_id=? AND subscription_id=? AND dead=1");
	if (!st)
		return BW_ERR;
	sqlite3_bind_int64(st, 1, now);
	bw_sq__bind(st, 2, iid);
	bw_sq__bind(st, 3, sid);
	bw_result r = bw_sq__step_done(st);
	*n = r == BW_OK ? sqlite3_changes(q->db) : 0;
	return r;
}

bw_result bw_sq__outbox_dead_delete(struct bw_store *s, const char *iid, const char *sid,
                                    long long *n)
{
	struct sq_store *q = SQ(s);
	sqlite3_stmt *st = bw_sq__stmt(q, "DELETE FROM event_outbox WHERE instance_id=? AND "
	                                  "subscription_id=? AND dead=1");
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, iid);
	bw_sq__bind(st, 2, sid);
	bw_result r = bw_sq__step_done(st);
	*n = r == BW_OK ? sqlite3_changes(q->db) : 0;
	return r;
}

bw_result bw_sq__outbox_dead_expire(struct bw_store *s, long long before, long long *n)
{
	struct sq_store *q = SQ(s);
	sqlite3_stmt *st = bw_sq__stmt(q, "DELETE FROM event_outbox WHERE dead=1 AND "
	                                  "coalesce(last_attempt_at,created_at)<?");
	if (!st)
		return BW_ERR;
	sqlite3_bind_int64(st, 1, before);
	bw_result r = bw_sq__step_done(st);
	*n = r == BW_OK ? sqlite3_changes(q->db) : 0;
	return r;
}
