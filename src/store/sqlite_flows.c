/* SQLite backend: contact flows and their published versions (0004). Every
 * query is bound to the instance id. A version is numbered and inserted in
 * one writing transaction (BEGIN IMMEDIATE serializes writers), so two
 * publishes never get the same number. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_int.h"
#include "store/sqlite_ops.h"

static void flow_row(sqlite3_stmt *st, struct bw_flow_def *f)
{
	memset(f, 0, sizeof(*f));
	bw_sq__text(f->id, sizeof(f->id), st, 0);
	bw_sq__text(f->instance_id, sizeof(f->instance_id), st, 1);
	bw_sq__text(f->name, sizeof(f->name), st, 2);
	bw_sq__text(f->description, sizeof(f->description), st, 3);
	f->content = bw_sq__dup(st, 4);
	f->created_at = sqlite3_column_int64(st, 5);
	f->updated_at = sqlite3_column_int64(st, 6);
	f->latest_version = sqlite3_column_int64(st, 7); /* NULL reads as 0 */
}

bw_result bw_sq__flow_insert(struct bw_store *s, const struct bw_flow_def *f)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "INSERT INTO flows(id,instance_id,name,description,"
	                                      "content,created_at,updated_at) VALUES(?,?,?,?,?,?,?)");
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, f->id);
	bw_sq__bind(st, 2, f->instance_id);
	bw_sq__bind(st, 3, f->name);
	bw_sq__bind(st, 4, f->description);
	bw_sq__bind(st, 5, f->content);
	sqlite3_bind_int64(st, 6, f->created_at);
	sqlite3_bind_int64(st, 7, f->updated_at);
	return bw_sq__step_done(st);
}

static const char flow_get_sql[] = "SELECT f.id,f.instance_id,f.name,f.description,f.content,"
                                   "f.created_at,f.updated_at,(SELECT max(version) FROM "
                                   "flow_versions v WHERE v.flow_id=f.id) FROM flows f "
                                   "WHERE f.instance_id=? AND f.id=?";

bw_result bw_sq__flow_get(struct bw_store *s, const char *iid, const char *id,
                          struct bw_flow_def *out)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), flow_get_sql);
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, iid);
	bw_sq__bind(st, 2, id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		flow_row(st, out);
		return BW_OK;
	}
	return rc == SQLITE_DONE ? BW_NOTFOUND : BW_ERR;
}

/* Lists carry no content: a page of drafts could weigh 1000 × 256 KiB. */
static const char flow_list_sql[] = "SELECT f.id,f.instance_id,f.name,f.description,NULL,"
                                    "f.created_at,f.updated_at,(SELECT max(version) FROM "
                                    "flow_versions v WHERE v.flow_id=f.id) FROM flows f "
                                    "WHERE f.instance_id=? AND f.id > ? ORDER BY f.id LIMIT ?";

bw_result bw_sq__flow_list(struct bw_store *s, const char *iid, const char *after,
                           struct bw_flow_def *out, size_t max, size_t *n)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), flow_list_sql);
	*n = 0;
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, iid);
	bw_sq__bind(st, 2, after ? after : "");
	sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
	int rc = SQLITE_DONE;
	while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
		flow_row(st, &out[(*n)++]);
	return *n == max || rc == SQLITE_DONE ? BW_OK : BW_ERR;
}

bw_result bw_sq__flow_update(struct bw_store *s, const struct bw_flow_def *f)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "UPDATE flows SET name=?,description=?,content=?,"
	                                      "updated_at=? WHERE instance_id=? AND id=?");
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, f->name);
	bw_sq__bind(st, 2, f->description);
	bw_sq__bind(st, 3, f->content);
	sqlite3_bind_int64(st, 4, f->updated_at);
	bw_sq__bind(st, 5, f->instance_id);
	bw_sq__bind(st, 6, f->id);
	return bw_sq__step_changed(SQ(s), st);
}

/* Entry points (0003) name flows; without that table nothing refers to one. */
static bw_result not_referenced(struct sq_store *q, const char *iid, const char *id)
{
	sqlite3_stmt *st = bw_sq__stmt(q, "SELECT count(*) FROM sqlite_master WHERE type='table' "
	                                  "AND name='entry_points'");
	if (!st || sqlite3_step(st) != SQLITE_ROW)
		return BW_ERR;
	if (sqlite3_column_int(st, 0) == 0)
		return BW_OK;
	st = bw_sq__stmt(q, "SELECT count(*) FROM entry_points WHERE instance_id=? AND flow_id=?");
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, iid);
	bw_sq__bind(st, 2, id);
	if (sqlite3_step(st) != SQLITE_ROW)
		return BW_ERR;
	return sqlite3_column_int64(st, 0) > 0 ? BW_CONFLICT : BW_OK;
}

bw_result bw_sq__flow_delete(struct bw_store *s, const char *iid, const char *id)
{
	struct sq_store *q = SQ(s);
	if (bw_sq__begin(q) != BW_OK)
		return BW_ERR;
	bw_result r = not_referenced(q, iid, id);
	if (r != BW_OK)
		goto out;
	/* Its versions go with it (ON DELETE CASCADE). */
	sqlite3_stmt *st = bw_sq__stmt(q, "DELETE FROM flows WHERE instance_id=? AND id=?");
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

bw_result bw_sq__flow_publish(struct bw_store *s, struct bw_flow_version *v)
{
	struct sq_store *q = SQ(s);
	if (bw_sq__begin(q) != BW_OK)
		return BW_ERR;
	bw_result r = BW_ERR;
	sqlite3_stmt *st = bw_sq__stmt(q, "SELECT (SELECT count(*) FROM flows WHERE instance_id=? "
	                                  "AND id=?), (SELECT coalesce(max(version),0) FROM "
	                                  "flow_versions WHERE flow_id=?)");
	if (!st)
		goto out;
	bw_sq__bind(st, 1, v->instance_id);
	bw_sq__bind(st, 2, v->flow_id);
	bw_sq__bind(st, 3, v->flow_id);
	if (sqlite3_step(st) != SQLITE_ROW)
		goto out;
	if (sqlite3_column_int64(st, 0) == 0) {
		r = BW_NOTFOUND;
		goto out;
	}
	long long latest = sqlite3_column_int64(st, 1);
	if (latest >= BW_FLOW_MAX_VERSIONS) {
		r = BW_CONFLICT;
		goto out;
	}
	v->version = latest + 1;
	snprintf(v->vid, sizeof(v->vid), "%lld", v->version);
	st = bw_sq__stmt(q, "INSERT INTO flow_versions(instance_id,flow_id,version,content,"
	                    "published_by,published_at) VALUES(?,?,?,?,?,?)");
	if (!st)
		goto out;
	bw_sq__bind(st, 1, v->instance_id);
	bw_sq__bind(st, 2, v->flow_id);
	sqlite3_bind_int64(st, 3, v->version);
	bw_sq__bind(st, 4, v->content);
	bw_sq__bind(st, 5, v->published_by);
	sqlite3_bind_int64(st, 6, v->published_at);
	r = bw_sq__step_done(st);
out:
	return bw_sq__end(q, r);
}

static void version_row(sqlite3_stmt *st, struct bw_flow_version *v)
{
	memset(v, 0, sizeof(*v));
	bw_sq__text(v->instance_id, sizeof(v->instance_id), st, 0);
	bw_sq__text(v->flow_id, sizeof(v->flow_id), st, 1);
	v->version = sqlite3_column_int64(st, 2);
	snprintf(v->vid, sizeof(v->vid), "%lld", v->version);
	v->content = bw_sq__dup(st, 3);
	bw_sq__text(v->published_by, sizeof(v->published_by), st, 4);
	v->published_at = sqlite3_column_int64(st, 5);
}

bw_result bw_sq__flow_version_get(struct bw_store *s, const char *iid, const char *fid,
                                  long long version, struct bw_flow_version *out)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "SELECT instance_id,flow_id,version,content,"
	                                      "published_by,published_at FROM flow_versions "
	                                      "WHERE instance_id=? AND flow_id=? AND version=?");
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, iid);
	bw_sq__bind(st, 2, fid);
	sqlite3_bind_int64(st, 3, version);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		version_row(st, out);
		return BW_OK;
	}
	return rc == SQLITE_DONE ? BW_NOTFOUND : BW_ERR;
}

bw_result bw_sq__flow_version_list(struct bw_store *s, const char *iid, const char *fid,
                                   long long after, struct bw_flow_version *out, size_t max,
                                   size_t *n)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "SELECT instance_id,flow_id,version,NULL,"
	                                      "published_by,published_at FROM flow_versions "
	                                      "WHERE instance_id=? AND flow_id=? AND version > ? "
	                                      "ORDER BY version LIMIT ?");
	*n = 0;
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, iid);
	bw_sq__bind(st, 2, fid);
	sqlite3_bind_int64(st, 3, after);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)max);
	int rc = SQLITE_DONE;
	while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
		version_row(st, &out[(*n)++]);
	return *n == max || rc == SQLITE_DONE ? BW_OK : BW_ERR;
}
