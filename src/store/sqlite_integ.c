/* SQLite backend: the integrations registry (0010). Every query is bound to
 * one instance. A repeated name is a constraint error: BW_CONFLICT. */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_int.h"
#include "store/sqlite_ops.h"

#define IG_COLS "id,instance_id,name,base_url,config,created_at,updated_at,last_called_at"

/* A row; base_url and config are copies (NULL when the copy failed). */
static void ig_row(sqlite3_stmt *st, void *item)
{
	struct bw_integration_row *r = item;
	memset(r, 0, sizeof(*r));
	bw_sq__text(r->id, sizeof(r->id), st, 0);
	bw_sq__text(r->instance_id, sizeof(r->instance_id), st, 1);
	bw_sq__text(r->name, sizeof(r->name), st, 2);
	r->base_url = bw_sq__dup(st, 3);
	r->config = bw_sq__dup(st, 4);
	r->created_at = sqlite3_column_int64(st, 5);
	r->updated_at = sqlite3_column_int64(st, 6);
	r->last_called_at = sqlite3_column_int64(st, 7); /* NULL reads 0 */
}

static bool ig_complete(const struct bw_integration_row *r)
{
	return r->base_url && r->config;
}

bw_result bw_sq__integration_insert(struct bw_store *s, const struct bw_integration_row *r)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "INSERT INTO integrations(" IG_COLS ") "
	                                      "VALUES(?,?,?,?,?,?,?,NULL)");
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, r->id);
	bw_sq__bind(st, 2, r->instance_id);
	bw_sq__bind(st, 3, r->name);
	bw_sq__bind(st, 4, r->base_url);
	bw_sq__bind(st, 5, r->config);
	sqlite3_bind_int64(st, 6, r->created_at);
	sqlite3_bind_int64(st, 7, r->updated_at);
	return bw_sq__step_done(st);
}

bw_result bw_sq__integration_get(struct bw_store *s, const char *iid, const char *id,
                                 struct bw_integration_row *out)
{
	memset(out, 0, sizeof(*out));
	bw_result r = bw_sq__one(SQ(s),
	                         "SELECT " IG_COLS " FROM integrations "
	                         "WHERE instance_id=? AND id=?",
	                         iid, id, ig_row, out);
	if (r == BW_OK && !ig_complete(out)) {
		bw_integration_row_clear(out);
		return BW_NOMEM;
	}
	return r;
}

bw_result bw_sq__integration_list(struct bw_store *s, const char *iid, const char *after,
                                  long long unused_before, struct bw_integration_row *out,
                                  size_t max, size_t *n)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "SELECT " IG_COLS " FROM integrations "
	                                      "WHERE instance_id=?1 AND id>?2 AND (?3=0 OR "
	                                      "coalesce(last_called_at,created_at)<?3) "
	                                      "ORDER BY id LIMIT ?4");
	bw_result r = BW_OK;
	int rc = SQLITE_DONE;
	*n = 0;
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, iid);
	bw_sq__bind(st, 2, after ? after : "");
	sqlite3_bind_int64(st, 3, unused_before);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)max);
	while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		ig_row(st, &out[*n]);
		if (!ig_complete(&out[(*n)++])) {
			r = BW_NOMEM;
			break;
		}
	}
	if (r == BW_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = BW_ERR;
	if (r != BW_OK) {
		for (size_t i = 0; i < *n; i++)
			bw_integration_row_clear(&out[i]);
		*n = 0;
	}
	return r;
}

bw_result bw_sq__integration_update(struct bw_store *s, const struct bw_integration_row *r)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "UPDATE integrations SET name=?,base_url=?,config=?,"
	                                      "updated_at=? WHERE instance_id=? AND id=?");
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, r->name);
	bw_sq__bind(st, 2, r->base_url);
	bw_sq__bind(st, 3, r->config);
	sqlite3_bind_int64(st, 4, r->updated_at);
	bw_sq__bind(st, 5, r->instance_id);
	bw_sq__bind(st, 6, r->id);
	return bw_sq__step_changed(SQ(s), st);
}

bw_result bw_sq__integration_delete(struct bw_store *s, const char *iid, const char *id)
{
	sqlite3_stmt *st =
	    bw_sq__stmt(SQ(s), "DELETE FROM integrations WHERE instance_id=? AND id=?");
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, iid);
	bw_sq__bind(st, 2, id);
	return bw_sq__step_changed(SQ(s), st);
}

bw_result bw_sq__integration_touch(struct bw_store *s, const char *iid, const char *id,
                                   long long at)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "UPDATE integrations SET "
	                                      "last_called_at=max(coalesce(last_called_at,0),?1) "
	                                      "WHERE instance_id=?2 AND id=?3");
	if (!st)
		return BW_ERR;
	sqlite3_bind_int64(st, 1, at);
	bw_sq__bind(st, 2, iid);
	bw_sq__bind(st, 3, id);
	return bw_sq__step_changed(SQ(s), st);
}
