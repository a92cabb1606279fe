/* SQLite backend: the use of approved origins (0012). */
#include <string.h>

#include "store/sqlite_int.h"
#include "store/sqlite_ops.h"

bw_result bw_sq__origin_used(struct bw_store *s, const char *iid, const char *origin, long long at)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "INSERT INTO origin_uses(instance_id,origin,"
	                                      "first_seen_at,last_used_at) VALUES(?1,?2,?3,?3) "
	                                      "ON CONFLICT(instance_id,origin) DO UPDATE SET "
	                                      "last_used_at=max(coalesce(last_used_at,0),?3)");
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, iid);
	bw_sq__bind(st, 2, origin);
	sqlite3_bind_int64(st, 3, at);
	return bw_sq__step_done(st);
}

bw_result bw_sq__origin_seen(struct bw_store *s, const char *iid, const char *origin, long long at,
                             struct bw_origin_use *out)
{
	struct sq_store *q = SQ(s);
	sqlite3_stmt *st = bw_sq__stmt(q, "INSERT OR IGNORE INTO origin_uses(instance_id,origin,"
	                                  "first_seen_at) VALUES(?,?,?)");
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, iid);
	bw_sq__bind(st, 2, origin);
	sqlite3_bind_int64(st, 3, at);
	bw_result r = bw_sq__step_done(st);
	if (r != BW_OK)
		return r;
	st = bw_sq__stmt(q, "SELECT first_seen_at,coalesce(last_used_at,0) FROM origin_uses "
	                    "WHERE instance_id=? AND origin=?");
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, iid);
	bw_sq__bind(st, 2, origin);
	if (sqlite3_step(st) != SQLITE_ROW)
		return BW_ERR;
	out->first_seen_at = sqlite3_column_int64(st, 0);
	out->last_used_at = sqlite3_column_int64(st, 1);
	return BW_OK;
}
