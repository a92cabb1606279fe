/* SQLite backend: the secrets vault and the role signing keys (0009).
 * Every query is bound to one instance. Values and private keys arrive
 * sealed and leave sealed: this file never sees a clear one. The writes
 * that depend on what they read (a rotation) run in one IMMEDIATE
 * transaction, so that two connections cannot both take a version. */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_int.h"
#include "store/sqlite_ops.h"

static uint8_t *blob_dup(sqlite3_stmt *st, int col, size_t *len)
{
	const void *b = sqlite3_column_blob(st, col);
	int n = sqlite3_column_bytes(st, col);
	*len = 0;
	uint8_t *p = malloc(n > 0 ? (size_t)n : 1);
	if (!p)
		return NULL;
	if (b && n > 0)
		memcpy(p, b, (size_t)n);
	*len = (size_t)n;
	return p;
}

/* ---- secrets ---- */

#define SECRET_COLS "id,instance_id,name,version,created_at,rotated_at,previous_readable_until"

static void secret_row(sqlite3_stmt *st, void *item)
{
	struct bw_secret *x = item;
	memset(x, 0, sizeof(*x));
	bw_sq__text(x->id, sizeof(x->id), st, 0);
	bw_sq__text(x->instance_id, sizeof(x->instance_id), st, 1);
	bw_sq__text(x->name, sizeof(x->name), st, 2);
	x->version = sqlite3_column_int64(st, 3);
	x->created_at = sqlite3_column_int64(st, 4);
	x->rotated_at = sqlite3_column_int64(st, 5);              /* NULL reads 0 */
	x->previous_readable_until = sqlite3_column_int64(st, 6); /* likewise */
}

static bw_result version_insert(struct sq_store *q, const char *sid, const char *iid,
                                long long version, const uint8_t *sealed, size_t n, long long now)
{
	sqlite3_stmt *st =
	    bw_sq__stmt(q, "INSERT INTO secret_versions(secret_id,instance_id,version,"
	                   "value,created_at,readable_until) VALUES(?,?,?,?,?,NULL)");
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, sid);
	bw_sq__bind(st, 2, iid);
	sqlite3_bind_int64(st, 3, version);
	sqlite3_bind_blob(st, 4, sealed, (int)n, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now);
	return bw_sq__step_done(st);
}

bw_result bw_sq__secret_insert(struct bw_store *s, const struct bw_secret *sec,
                               const uint8_t *sealed, size_t n)
{
	struct sq_store *q = SQ(s);
	if (n > 1u << 20)
		return BW_INVALID;
	if (bw_sq__begin(q) != BW_OK)
		return BW_ERR;
	sqlite3_stmt *st = bw_sq__stmt(q, "INSERT INTO secrets(" SECRET_COLS ") "
	                                  "VALUES(?,?,?,1,?,NULL,NULL)");
	bw_result r = BW_ERR;
	if (st) {
		bw_sq__bind(st, 1, sec->id);
		bw_sq__bind(st, 2, sec->instance_id);
		bw_sq__bind(st, 3, sec->name);
		sqlite3_bind_int64(st, 4, sec->created_at);
		r = bw_sq__step_done(st);
	}
	if (r == BW_OK)
		r = version_insert(q, sec->id, sec->instance_id, 1, sealed, n, sec->created_at);
	return bw_sq__end(q, r);
}

bw_result bw_sq__secret_get(struct bw_store *s, const char *iid, const char *id,
                            struct bw_secret *out)
{
	memset(out, 0, sizeof(*out));
	return bw_sq__one(SQ(s), "SELECT " SECRET_COLS " FROM secrets WHERE instance_id=? AND id=?",
	                  iid, id, secret_row, out);
}

bw_result bw_sq__secret_list(struct bw_store *s, const char *iid, const char *name,
                             const char *after, struct bw_secret *out, size_t max, size_t *n)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "SELECT " SECRET_COLS " FROM secrets "
	                                      "WHERE instance_id=?1 AND (?2 IS NULL OR name=?2) "
	                                      "AND id>?3 ORDER BY id LIMIT ?4");
	*n = 0;
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, iid);
	bw_sq__bind_opt(st, 2, name);
	bw_sq__bind(st, 3, after ? after : "");
	sqlite3_bind_int64(st, 4, (sqlite3_int64)max);
	int rc = SQLITE_DONE;
	while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
		secret_row(st, &out[(*n)++]);
	return *n == max || rc == SQLITE_DONE ? BW_OK : BW_ERR;
}

/* The rotation's steps after the version check, inside the transaction. */
static bw_result rotate_versions(struct sq_store *q, const char *iid, const char *id,
                                 long long from, const uint8_t *sealed, size_t n, long long now,
                                 long long until)
{
	sqlite3_stmt *st = bw_sq__stmt(q, "UPDATE secret_versions SET readable_until=?3 "
	                                  "WHERE secret_id=?1 AND version=?2");
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, id);
	sqlite3_bind_int64(st, 2, from);
	sqlite3_bind_int64(st, 3, until);
	bw_result r = bw_sq__step_done(st);
	if (r != BW_OK)
		return r;
	/* Versions whose grace is over go now (with grace 0, `from` too). */
	st = bw_sq__stmt(q, "DELETE FROM secret_versions WHERE secret_id=?1 "
	                    "AND readable_until IS NOT NULL AND readable_until<=?2");
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, id);
	sqlite3_bind_int64(st, 2, now);
	if ((r = bw_sq__step_done(st)) != BW_OK)
		return r;
	return version_insert(q, id, iid, from + 1, sealed, n, now);
}

bw_result bw_sq__secret_rotate(struct bw_store *s, const char *iid, const char *id, long long from,
                               const uint8_t *sealed, size_t n, long long now, long long until,
                               struct bw_secret *out)
{
	struct sq_store *q = SQ(s);
	if (bw_sq__begin(q) != BW_OK)
		return BW_ERR;
	sqlite3_stmt *st = bw_sq__stmt(q, "UPDATE secrets SET version=?4+1,rotated_at=?5,"
	                                  "previous_readable_until=?6 "
	                                  "WHERE instance_id=?1 AND id=?2 AND version=?4");
	bw_result r = BW_ERR;
	if (st) {
		bw_sq__bind(st, 1, iid);
		bw_sq__bind(st, 2, id);
		sqlite3_bind_int64(st, 4, from);
		sqlite3_bind_int64(st, 5, now);
		sqlite3_bind_int64(st, 6, until);
		r = bw_sq__step_changed(q, st);
	}
	if (r == BW_NOTFOUND) /* gone, or another rotation came first */
		r = bw_sq__secret_get(s, iid, id, out) == BW_OK ? BW_CONFLICT : BW_NOTFOUND;
	if (r == BW_OK)
		r = rotate_versions(q, iid, id, from, sealed, n, now, until);
	if (r == BW_OK)
		r = bw_sq__secret_get(s, iid, id, out);
	return bw_sq__end(q, r);
}

bw_result bw_sq__secret_delete(struct bw_store *s, const char *iid, const char *id)
{
	/* Its versions go with it (ON DELETE CASCADE). */
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "DELETE FROM secrets WHERE instance_id=? AND id=?");
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, iid);
	bw_sq__bind(st, 2, id);
	return bw_sq__step_changed(SQ(s), st);
}

bw_result bw_sq__secret_blob(struct bw_store *s, const char *iid, const char *name,
                             long long version, long long now, struct bw_secret_blob *out)
{
	sqlite3_stmt *st =
	    bw_sq__stmt(SQ(s), "SELECT v.secret_id,v.version,v.value,v.readable_until "
	                       "FROM secrets s JOIN secret_versions v ON v.secret_id=s.id "
	                       "WHERE s.instance_id=?1 AND s.name=?2 "
	                       "AND v.version=CASE WHEN ?3=0 THEN s.version ELSE ?3 END "
	                       "AND (v.readable_until IS NULL OR v.readable_until>?4)");
	memset(out, 0, sizeof(*out));
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, iid);
	bw_sq__bind(st, 2, name);
	sqlite3_bind_int64(st, 3, version);
	sqlite3_bind_int64(st, 4, now);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? BW_NOTFOUND : BW_ERR;
	bw_sq__text(out->secret_id, sizeof(out->secret_id), st, 0);
	out->version = sqlite3_column_int64(st, 1);
	out->value = blob_dup(st, 2, &out->len);
	out->readable_until = sqlite3_column_int64(st, 3);
	return out->value ? BW_OK : BW_NOMEM;
}

/* ---- signing keys ---- */

#define SK_COLS "instance_id,kid,public_key,created_at,activates_at,retires_at"

static void sk_row(sqlite3_stmt *st, struct bw_signing_key *k)
{
	memset(k, 0, sizeof(*k));
	bw_sq__text(k->instance_id, sizeof(k->instance_id), st, 0);
	bw_sq__text(k->kid, sizeof(k->kid), st, 1);
	const void *pk = sqlite3_column_blob(st, 2);
	if (pk && sqlite3_column_bytes(st, 2) == (int)sizeof(k->public_key))
		memcpy(k->public_key, pk, sizeof(k->public_key));
	k->created_at = sqlite3_column_int64(st, 3);
	k->activates_at = sqlite3_column_int64(st, 4);
	k->retires_at = sqlite3_column_int64(st, 5);
}

bw_result bw_sq__signing_key_list(struct bw_store *s, const char *iid, struct bw_signing_key *out,
                                  size_t max, size_t *n)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "SELECT " SK_COLS " FROM signing_keys "
	                                      "WHERE instance_id=? "
	                                      "ORDER BY created_at DESC, rowid DESC LIMIT ?");
	*n = 0;
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, iid);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	int rc = SQLITE_DONE;
	while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
		sk_row(st, &out[(*n)++]);
	return *n == max || rc == SQLITE_DONE ? BW_OK : BW_ERR;
}

bw_result bw_sq__signing_key_get(struct bw_store *s, const char *iid, const char *kid,
                                 struct bw_signing_key *out)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "SELECT " SK_COLS ",private_key FROM signing_keys "
	                                      "WHERE instance_id=? AND kid=?");
	memset(out, 0, sizeof(*out));
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, iid);
	bw_sq__bind(st, 2, kid);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? BW_NOTFOUND : BW_ERR;
	sk_row(st, out);
	out->private_key = blob_dup(st, 6, &out->private_len);
	return out->private_key ? BW_OK : BW_NOMEM;
}

/* BW_OK when the instance's newest key is `kid` ("" for none). */
static bw_result newest_is(struct sq_store *q, const char *iid, const char *kid)
{
	sqlite3_stmt *st = bw_sq__stmt(q, "SELECT kid FROM signing_keys WHERE instance_id=? "
	                                  "ORDER BY created_at DESC, rowid DESC LIMIT 1");
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, iid);
	char cur[48] = "";
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		bw_sq__text(cur, sizeof(cur), st, 0);
	else if (rc != SQLITE_DONE)
		return BW_ERR;
	return strcmp(cur, kid) == 0 ? BW_OK : BW_CONFLICT;
}

static bw_result sk_retire_and_purge(struct sq_store *q, const char *iid, long long at,
                                     long long purge_before)
{
	sqlite3_stmt *st = bw_sq__stmt(q, "UPDATE signing_keys SET retires_at=?2 "
	                                  "WHERE instance_id=?1 AND retires_at IS NULL");
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, iid);
	sqlite3_bind_int64(st, 2, at);
	bw_result r = bw_sq__step_done(st);
	if (r != BW_OK)
		return r;
	st = bw_sq__stmt(q, "DELETE FROM signing_keys WHERE instance_id=?1 "
	                    "AND retires_at IS NOT NULL AND retires_at<?2");
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, iid);
	sqlite3_bind_int64(st, 2, purge_before);
	return bw_sq__step_done(st);
}

bw_result bw_sq__signing_key_add(struct bw_store *s, const struct bw_signing_key *k,
                                 const char *newest_kid, long long purge_before)
{
	struct sq_store *q = SQ(s);
	if (bw_sq__begin(q) != BW_OK)
		return BW_ERR;
	bw_result r = newest_is(q, k->instance_id, newest_kid);
	if (r == BW_OK)
		r = sk_retire_and_purge(q, k->instance_id, k->activates_at, purge_before);
	if (r == BW_OK) {
		sqlite3_stmt *st =
		    bw_sq__stmt(q, "INSERT INTO signing_keys(" SK_COLS ",private_key) "
		                   "VALUES(?,?,?,?,?,NULL,?)");
		r = BW_ERR;
		if (st) {
			bw_sq__bind(st, 1, k->instance_id);
			bw_sq__bind(st, 2, k->kid);
			sqlite3_bind_blob(st, 3, k->public_key, sizeof(k->public_key),
			                  SQLITE_STATIC);
			sqlite3_bind_int64(st, 4, k->created_at);
			sqlite3_bind_int64(st, 5, k->activates_at);
			sqlite3_bind_blob(st, 6, k->private_key, (int)k->private_len,
			                  SQLITE_STATIC);
			r = bw_sq__step_done(st);
		}
	}
	return bw_sq__end(q, r);
}
