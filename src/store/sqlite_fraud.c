/* SQLite backend: the deny list, contact history and contact filters
 * (0006). Queries of one instance's rows are bound to its id; the start-up
 * scans and the purges span every instance by design. A reason of "" and
 * an expiry of 0 are stored as NULL and read back as "" and 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_int.h"
#include "store/sqlite_ops.h"

/* ---- deny list ---- */

#define DENY_COLS "id,instance_id,type,value,reason,source,expires_at,created_at"

static void deny_row(sqlite3_stmt *st, void *item)
{
	struct bw_deny_row *d = item;
	memset(d, 0, sizeof(*d));
	bw_sq__text(d->id, sizeof(d->id), st, 0);
	bw_sq__text(d->instance_id, sizeof(d->instance_id), st, 1);
	bw_sq__text(d->type, sizeof(d->type), st, 2);
	bw_sq__text(d->value, sizeof(d->value), st, 3);
	bw_sq__text(d->reason, sizeof(d->reason), st, 4);
	bw_sq__text(d->source, sizeof(d->source), st, 5);
	d->expires_at = sqlite3_column_int64(st, 6);
	d->created_at = sqlite3_column_int64(st, 7);
}

static void bind_expiry(sqlite3_stmt *st, int i, long long ms)
{
	if (ms)
		sqlite3_bind_int64(st, i, ms);
	else
		sqlite3_bind_null(st, i);
}

/* One statement: a new (instance, type, value) is inserted; an existing one
 * is taken over only when it expired by the new row's created_at (its "now").
 * No row changed means an unexpired entry holds the value: BW_CONFLICT, as
 * is a repeated id. */
static bw_result deny_insert(struct sq_store *q, const struct bw_deny_row *d)
{
	sqlite3_stmt *st = bw_sq__stmt(
	    q,
	    "INSERT INTO deny_list(" DENY_COLS ") VALUES(?1,?2,?3,?4,?5,?6,?7,?8) "
	    "ON CONFLICT(instance_id,type,value) DO UPDATE SET id=excluded.id,"
	    "reason=excluded.reason,source=excluded.source,expires_at=excluded.expires_at,"
	    "created_at=excluded.created_at "
	    "WHERE deny_list.expires_at IS NOT NULL AND deny_list.expires_at<=excluded.created_at");
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, d->id);
	bw_sq__bind(st, 2, d->instance_id);
	bw_sq__bind(st, 3, d->type);
	bw_sq__bind(st, 4, d->value);
	bw_sq__bind_opt(st, 5, d->reason);
	bw_sq__bind(st, 6, d->source);
	bind_expiry(st, 7, d->expires_at);
	sqlite3_bind_int64(st, 8, d->created_at);
	bw_result r = bw_sq__step_changed(q, st);
	return r == BW_NOTFOUND ? BW_CONFLICT : r;
}

bw_result bw_sq__deny_insert(struct bw_store *s, const struct bw_deny_row *d)
{
	return deny_insert(SQ(s), d);
}

bw_result bw_sq__deny_insert_many(struct bw_store *s, const struct bw_deny_row *d, size_t n)
{
	struct sq_store *q = SQ(s);
	if (bw_sq__begin(q) != BW_OK)
		return BW_ERR;
	bw_result r = BW_OK;
	for (size_t i = 0; i < n && r == BW_OK; i++)
		r = deny_insert(q, &d[i]);
	return bw_sq__end(q, r);
}

bw_result bw_sq__deny_get(struct bw_store *s, const char *iid, const char *id,
                          struct bw_deny_row *out)
{
	return bw_sq__one(SQ(s), "SELECT " DENY_COLS " FROM deny_list WHERE instance_id=? AND id=?",
	                  iid, id, deny_row, out);
}

bw_result bw_sq__deny_list(struct bw_store *s, const struct bw_deny_filter *f,
                           struct bw_deny_row *out, size_t max, size_t *n)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "SELECT " DENY_COLS " FROM deny_list "
	                                      "WHERE instance_id=?1 AND (?2 IS NULL OR type=?2) "
	                                      "AND (?3 IS NULL OR source=?3) AND id>?4 "
	                                      "ORDER BY id LIMIT ?5");
	*n = 0;
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, f->instance_id);
	bw_sq__bind_opt(st, 2, f->type);
	bw_sq__bind_opt(st, 3, f->source);
	bw_sq__bind(st, 4, f->after ? f->after : "");
	sqlite3_bind_int64(st, 5, (sqlite3_int64)max);
	int rc = SQLITE_DONE;
	while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
		deny_row(st, &out[(*n)++]);
	return *n == max || rc == SQLITE_DONE ? BW_OK : BW_ERR;
}

bw_result bw_sq__deny_update(struct bw_store *s, const struct bw_deny_row *d)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "UPDATE deny_list SET reason=?,expires_at=? "
	                                      "WHERE instance_id=? AND id=?");
	if (!st)
		return BW_ERR;
	bw_sq__bind_opt(st, 1, d->reason);
	bind_expiry(st, 2, d->expires_at);
	bw_sq__bind(st, 3, d->instance_id);
	bw_sq__bind(st, 4, d->id);
	return bw_sq__step_changed(SQ(s), st);
}

bw_result bw_sq__deny_delete(struct bw_store *s, const char *iid, const char *id)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "DELETE FROM deny_list WHERE instance_id=? AND id=?");
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, iid);
	bw_sq__bind(st, 2, id);
	return bw_sq__step_changed(SQ(s), st);
}

/* The scans run once at start-up and may be long: their own statements,
 * not the cache, so that a callback may use the store. A callback's
 * non-zero return stops the scan (not an error). */
struct scan_to {
	bw_deny_cb *deny;
	bw_history_cb *history;
	void *arg;
};

static bw_result scan(struct sq_store *q, const char *sql, long long bound,
                      int (*each)(sqlite3_stmt *st, const struct scan_to *to),
                      const struct scan_to *to)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(q->db, sql, -1, &st, NULL) != SQLITE_OK)
		return BW_ERR;
	sqlite3_bind_int64(st, 1, bound);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (each(st, to))
			break;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? BW_OK : BW_ERR;
}

static int deny_each(sqlite3_stmt *st, const struct scan_to *to)
{
	struct bw_deny_row d;
	deny_row(st, &d);
	return to->deny(&d, to->arg);
}

bw_result bw_sq__deny_scan(struct bw_store *s, long long now_ms, bw_deny_cb *cb, void *arg)
{
	const struct scan_to to = {.deny = cb, .arg = arg};
	return scan(SQ(s),
	            "SELECT " DENY_COLS " FROM deny_list "
	            "WHERE expires_at IS NULL OR expires_at>? ORDER BY id",
	            now_ms, deny_each, &to);
}

bw_result bw_sq__deny_purge(struct bw_store *s, long long now_ms)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "DELETE FROM deny_list "
	                                      "WHERE expires_at IS NOT NULL AND expires_at<=?");
	if (!st)
		return BW_ERR;
	sqlite3_bind_int64(st, 1, now_ms);
	return bw_sq__step_done(st);
}

/* ---- contact history ---- */

bw_result bw_sq__history_add(struct bw_store *s, const struct bw_history_row *h, size_t n)
{
	struct sq_store *q = SQ(s);
	if (bw_sq__begin(q) != BW_OK)
		return BW_ERR;
	bw_result r = BW_OK;
	for (size_t i = 0; i < n && r == BW_OK; i++) {
		sqlite3_stmt *st = bw_sq__stmt(
		    q, "INSERT INTO contact_history(instance_id,kind,key,at) VALUES(?,?,?,?)");
		if (!st) {
			r = BW_ERR;
			break;
		}
		bw_sq__bind(st, 1, h[i].instance_id);
		sqlite3_bind_int(st, 2, h[i].kind);
		bw_sq__bind(st, 3, h[i].key);
		sqlite3_bind_int64(st, 4, h[i].at);
		r = bw_sq__step_done(st);
	}
	return bw_sq__end(q, r);
}

static int history_each(sqlite3_stmt *st, const struct scan_to *to)
{
	struct bw_history_row h;
	memset(&h, 0, sizeof(h));
	bw_sq__text(h.instance_id, sizeof(h.instance_id), st, 0);
	h.kind = sqlite3_column_int(st, 1);
	bw_sq__text(h.key, sizeof(h.key), st, 2);
	h.at = sqlite3_column_int64(st, 3);
	return to->history(&h, to->arg);
}

bw_result bw_sq__history_scan(struct bw_store *s, long long since_ms, bw_history_cb *cb, void *arg)
{
	const struct scan_to to = {.history = cb, .arg = arg};
	return scan(SQ(s),
	            "SELECT instance_id,kind,key,at FROM contact_history WHERE at>=? "
	            "ORDER BY at,rowid",
	            since_ms, history_each, &to);
}

bw_result bw_sq__history_purge(struct bw_store *s, long long before_ms)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "DELETE FROM contact_history WHERE at<?");
	if (!st)
		return BW_ERR;
	sqlite3_bind_int64(st, 1, before_ms);
	return bw_sq__step_done(st);
}

/* ---- contact filters ---- */

bw_result bw_sq__filter_get(struct bw_store *s, const char *iid, char **json)
{
	sqlite3_stmt *st =
	    bw_sq__stmt(SQ(s), "SELECT config FROM contact_filters WHERE instance_id=?");
	*json = NULL;
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, iid);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return BW_NOTFOUND;
	if (rc != SQLITE_ROW)
		return BW_ERR;
	*json = bw_sq__dup(st, 0);
	return *json ? BW_OK : BW_NOMEM;
}

/* An instance that does not exist fails its foreign key: BW_CONFLICT. */
bw_result bw_sq__filter_put(struct bw_store *s, const char *iid, const char *json)
{
	sqlite3_stmt *st =
	    bw_sq__stmt(SQ(s), "INSERT INTO contact_filters(instance_id,config) VALUES(?,?) "
	                       "ON CONFLICT(instance_id) DO UPDATE SET config=excluded.config");
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, iid);
	bw_sq__bind(st, 2, json);
	return bw_sq__step_done(st);
}

bw_result bw_sq__filter_scan(struct bw_store *s, bw_filter_cb *cb, void *arg)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(
	        SQ(s)->db, "SELECT instance_id,config FROM contact_filters ORDER BY instance_id",
	        -1, &st, NULL) != SQLITE_OK)
		return BW_ERR;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *iid = sqlite3_column_text(st, 0);
		const unsigned char *cfg = sqlite3_column_text(st, 1);
		if (cb(iid ? (const char *)iid : "", cfg ? (const char *)cfg : "", arg))
			break;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? BW_OK : BW_ERR;
}
