/* SQLite backend: envelope keys (0008). KEKs and data keys of one instance,
 * rotations, tombstones of destroyed instances, the BYOK import key and
 * tokens, and the keyring's one-time re-seal of older sealed columns. Only
 * the keyring's own connections call these (src/sec/keyring.c), with
 * secure_delete on, so that a deleted key is overwritten in the file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_int.h"
#include "store/sqlite_ops.h"

static void blob_into(uint8_t *dst, size_t cap, size_t *len, sqlite3_stmt *st, int col)
{
	int n = sqlite3_column_bytes(st, col);
	const void *b = sqlite3_column_blob(st, col);
	*len = 0;
	if (b && n > 0 && (size_t)n <= cap) {
		memcpy(dst, b, (size_t)n);
		*len = (size_t)n;
	}
}

/* ---- KEKs ---- */

#define KEK_COLS "instance_id,id,origin,state,wrapped,created_at"

static void kek_row(sqlite3_stmt *st, struct bw_kek_row *k)
{
	memset(k, 0, sizeof(*k));
	bw_sq__text(k->instance_id, sizeof(k->instance_id), st, 0);
	bw_sq__text(k->id, sizeof(k->id), st, 1);
	bw_sq__text(k->origin, sizeof(k->origin), st, 2);
	bw_sq__text(k->state, sizeof(k->state), st, 3);
	blob_into(k->wrapped, sizeof(k->wrapped), &k->wrapped_len, st, 4);
	k->created_at = sqlite3_column_int64(st, 5);
}

bw_result bw_sq__kek_list(struct bw_store *s, const char *iid, struct bw_kek_row *out, size_t max,
                          size_t *n)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "SELECT " KEK_COLS " FROM instance_keks "
	                                      "WHERE instance_id=? ORDER BY state='ACTIVE' DESC,"
	                                      "created_at DESC,id LIMIT ?");
	*n = 0;
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, iid);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	int rc = SQLITE_DONE;
	while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
		kek_row(st, &out[(*n)++]);
	return *n == max || rc == SQLITE_DONE ? BW_OK : BW_ERR;
}

static bw_result kek_insert(struct sq_store *q, const struct bw_kek_row *k)
{
	sqlite3_stmt *st = bw_sq__stmt(q, "INSERT INTO instance_keks(" KEK_COLS ") "
	                                  "VALUES(?,?,?,?,?,?)");
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, k->instance_id);
	bw_sq__bind(st, 2, k->id);
	bw_sq__bind(st, 3, k->origin);
	bw_sq__bind(st, 4, k->state);
	sqlite3_bind_blob(st, 5, k->wrapped, (int)k->wrapped_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, k->created_at);
	return bw_sq__step_done(st);
}

static bw_result tombstoned(struct sq_store *q, const char *iid)
{
	sqlite3_stmt *st = bw_sq__stmt(q, "SELECT 1 FROM key_tombstones WHERE instance_id=?");
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, iid);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? BW_OK : rc == SQLITE_DONE ? BW_NOTFOUND : BW_ERR;
}

bw_result bw_sq__keys_destroyed(struct bw_store *s, const char *iid)
{
	return tombstoned(SQ(s), iid);
}

bw_result bw_sq__kek_insert(struct bw_store *s, const struct bw_kek_row *k)
{
	struct sq_store *q = SQ(s);
	if (bw_sq__begin(q) != BW_OK)
		return BW_ERR;
	bw_result r = tombstoned(q, k->instance_id);
	if (r == BW_OK)
		r = BW_DENIED;
	else if (r == BW_NOTFOUND)
		r = kek_insert(q, k); /* a second ACTIVE one breaks the unique index */
	return bw_sq__end(q, r);
}

/* ---- data keys ---- */

#define DK_COLS "instance_id,id,kek_id,wrapped,created_at"

static void dk_row(sqlite3_stmt *st, struct bw_dk_row *d)
{
	memset(d, 0, sizeof(*d));
	bw_sq__text(d->instance_id, sizeof(d->instance_id), st, 0);
	d->id = (uint32_t)sqlite3_column_int64(st, 1);
	bw_sq__text(d->kek_id, sizeof(d->kek_id), st, 2);
	blob_into(d->wrapped, sizeof(d->wrapped), &d->wrapped_len, st, 3);
	d->created_at = sqlite3_column_int64(st, 4);
}

bw_result bw_sq__dk_insert(struct bw_store *s, const struct bw_dk_row *d)
{
	sqlite3_stmt *st =
	    bw_sq__stmt(SQ(s), "INSERT INTO data_keys(" DK_COLS ") VALUES(?,?,?,?,?)");
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, d->instance_id);
	sqlite3_bind_int64(st, 2, d->id);
	bw_sq__bind(st, 3, d->kek_id);
	sqlite3_bind_blob(st, 4, d->wrapped, (int)d->wrapped_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, d->created_at);
	return bw_sq__step_done(st);
}

static bw_result dk_one(struct sq_store *q, const char *sql, const char *iid, long long id,
                        struct bw_dk_row *out)
{
	sqlite3_stmt *st = bw_sq__stmt(q, sql);
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, iid);
	if (id >= 0)
		sqlite3_bind_int64(st, 2, id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		dk_row(st, out);
		return BW_OK;
	}
	return rc == SQLITE_DONE ? BW_NOTFOUND : BW_ERR;
}

bw_result bw_sq__dk_get(struct bw_store *s, const char *iid, uint32_t id, struct bw_dk_row *out)
{
	return dk_one(SQ(s), "SELECT " DK_COLS " FROM data_keys WHERE instance_id=? AND id=?", iid,
	              (long long)id, out);
}

bw_result bw_sq__dk_newest(struct bw_store *s, const char *iid, struct bw_dk_row *out)
{
	return dk_one(
	    SQ(s), "SELECT " DK_COLS " FROM data_keys WHERE instance_id=? ORDER BY id DESC LIMIT 1",
	    iid, -1, out);
}

bw_result bw_sq__dk_count(struct bw_store *s, const char *iid, long long *n)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "SELECT count(*) FROM data_keys WHERE instance_id=?");
	*n = 0;
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, iid);
	if (sqlite3_step(st) != SQLITE_ROW)
		return BW_ERR;
	*n = sqlite3_column_int64(st, 0);
	return BW_OK;
}

bw_result bw_sq__dk_stale(struct bw_store *s, const char *iid, const char *kek_id, uint32_t after,
                          struct bw_dk_row *out, size_t max, size_t *n)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "SELECT " DK_COLS " FROM data_keys "
	                                      "WHERE instance_id=? AND kek_id<>? AND id>? "
	                                      "ORDER BY id LIMIT ?");
	*n = 0;
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, iid);
	bw_sq__bind(st, 2, kek_id);
	sqlite3_bind_int64(st, 3, after);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)max);
	int rc = SQLITE_DONE;
	while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
		dk_row(st, &out[(*n)++]);
	return *n == max || rc == SQLITE_DONE ? BW_OK : BW_ERR;
}

bw_result bw_sq__dk_rewrap(struct bw_store *s, const char *iid, const char *rid,
                           const struct bw_dk_rewrap *w, size_t n)
{
	struct sq_store *q = SQ(s);
	long long changed = 0;
	if (bw_sq__begin(q) != BW_OK)
		return BW_ERR;
	bw_result r = BW_OK;
	for (size_t i = 0; i < n && r == BW_OK; i++) {
		sqlite3_stmt *st = bw_sq__stmt(q, "UPDATE data_keys SET kek_id=?,wrapped=? "
		                                  "WHERE instance_id=? AND id=? AND kek_id=?");
		if (!st) {
			r = BW_ERR;
			break;
		}
		bw_sq__bind(st, 1, w[i].kek_id);
		sqlite3_bind_blob(st, 2, w[i].wrapped, (int)w[i].wrapped_len, SQLITE_STATIC);
		bw_sq__bind(st, 3, iid);
		sqlite3_bind_int64(st, 4, w[i].id);
		bw_sq__bind(st, 5, w[i].from_kek_id);
		r = bw_sq__step_done(st);
		changed += sqlite3_changes(q->db);
	}
	if (r == BW_OK && rid) {
		sqlite3_stmt *st = bw_sq__stmt(q, "UPDATE key_rotations SET rewrapped=rewrapped+? "
		                                  "WHERE id=? AND instance_id=?");
		if (!st)
			r = BW_ERR;
		else {
			sqlite3_bind_int64(st, 1, changed);
			bw_sq__bind(st, 2, rid);
			bw_sq__bind(st, 3, iid);
			r = bw_sq__step_done(st);
		}
	}
	return bw_sq__end(q, r);
}

/* ---- rotations ---- */

#define ROT_COLS                                                                                   \
	"id,instance_id,kek_id,from_kek_id,state,total,rewrapped,started_at,"                      \
	"coalesce(finished_at,0)"

static void rot_row(sqlite3_stmt *st, struct bw_key_rotation *r)
{
	memset(r, 0, sizeof(*r));
	bw_sq__text(r->id, sizeof(r->id), st, 0);
	bw_sq__text(r->instance_id, sizeof(r->instance_id), st, 1);
	bw_sq__text(r->kek_id, sizeof(r->kek_id), st, 2);
	bw_sq__text(r->from_kek_id, sizeof(r->from_kek_id), st, 3);
	bw_sq__text(r->state, sizeof(r->state), st, 4);
	r->total = sqlite3_column_int64(st, 5);
	r->rewrapped = sqlite3_column_int64(st, 6);
	r->started_at = sqlite3_column_int64(st, 7);
	r->finished_at = sqlite3_column_int64(st, 8);
}

static bw_result rot_one(struct sq_store *q, const char *sql, const char *a, const char *b,
                         struct bw_key_rotation *out)
{
	sqlite3_stmt *st = bw_sq__stmt(q, sql);
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, a);
	if (b)
		bw_sq__bind(st, 2, b);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		rot_row(st, out);
		return BW_OK;
	}
	return rc == SQLITE_DONE ? BW_NOTFOUND : BW_ERR;
}

bw_result bw_sq__rotation_start(struct bw_store *s, const struct bw_kek_row *k,
                                struct bw_key_rotation *r)
{
	struct sq_store *q = SQ(s);
	if (bw_sq__begin(q) != BW_OK)
		return BW_ERR;
	bw_result res = tombstoned(q, k->instance_id);
	sqlite3_stmt *st;
	if (res == BW_OK) {
		res = BW_DENIED;
		goto out;
	}
	if (res != BW_NOTFOUND)
		goto out;
	st = bw_sq__stmt(q, "SELECT id FROM instance_keks WHERE instance_id=? AND state='ACTIVE'");
	if (!st) {
		res = BW_ERR;
		goto out;
	}
	bw_sq__bind(st, 1, k->instance_id);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		res = rc == SQLITE_DONE ? BW_NOTFOUND : BW_ERR;
		goto out;
	}
	bw_sq__text(r->from_kek_id, sizeof(r->from_kek_id), st, 0);
	sqlite3_reset(st);
	st = bw_sq__stmt(q, "UPDATE instance_keks SET state='RETIRING' "
	                    "WHERE instance_id=? AND state='ACTIVE'");
	if (!st) {
		res = BW_ERR;
		goto out;
	}
	bw_sq__bind(st, 1, k->instance_id);
	if ((res = bw_sq__step_done(st)) != BW_OK || (res = kek_insert(q, k)) != BW_OK)
		goto out;
	st = bw_sq__stmt(q, "SELECT count(*) FROM data_keys WHERE instance_id=? AND kek_id<>?");
	if (!st) {
		res = BW_ERR;
		goto out;
	}
	bw_sq__bind(st, 1, k->instance_id);
	bw_sq__bind(st, 2, k->id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		res = BW_ERR;
		goto out;
	}
	r->total = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	snprintf(r->instance_id, sizeof(r->instance_id), "%s", k->instance_id);
	snprintf(r->kek_id, sizeof(r->kek_id), "%s", k->id);
	snprintf(r->state, sizeof(r->state), "RUNNING");
	r->rewrapped = 0;
	r->finished_at = 0;
	st = bw_sq__stmt(q, "INSERT INTO key_rotations(id,instance_id,kek_id,from_kek_id,state,"
	                    "total,rewrapped,started_at) VALUES(?,?,?,?,?,?,0,?)");
	if (!st) {
		res = BW_ERR;
		goto out;
	}
	bw_sq__bind(st, 1, r->id);
	bw_sq__bind(st, 2, r->instance_id);
	bw_sq__bind(st, 3, r->kek_id);
	bw_sq__bind(st, 4, r->from_kek_id);
	bw_sq__bind(st, 5, r->state);
	sqlite3_bind_int64(st, 6, r->total);
	sqlite3_bind_int64(st, 7, r->started_at);
	res = bw_sq__step_done(st); /* a RUNNING one breaks the unique index: BW_CONFLICT */
out:
	return bw_sq__end(q, res);
}

bw_result bw_sq__rotation_last(struct bw_store *s, const char *iid, struct bw_key_rotation *out)
{
	return rot_one(SQ(s),
	               "SELECT " ROT_COLS " FROM key_rotations WHERE instance_id=? "
	               "ORDER BY started_at DESC, rowid DESC LIMIT 1",
	               iid, NULL, out);
}

bw_result bw_sq__rotation_running(struct bw_store *s, struct bw_key_rotation *out, size_t max,
                                  size_t *n)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "SELECT " ROT_COLS " FROM key_rotations "
	                                      "WHERE state='RUNNING' ORDER BY started_at LIMIT ?");
	*n = 0;
	if (!st)
		return BW_ERR;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)max);
	int rc = SQLITE_DONE;
	while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
		rot_row(st, &out[(*n)++]);
	return *n == max || rc == SQLITE_DONE ? BW_OK : BW_ERR;
}

bw_result bw_sq__rotation_finish(struct bw_store *s, const char *iid, const char *rid,
                                 long long now, struct bw_key_rotation *out)
{
	struct sq_store *q = SQ(s);
	if (bw_sq__begin(q) != BW_OK)
		return BW_ERR;
	bw_result r = BW_OK;
	sqlite3_stmt *st = bw_sq__stmt(
	    q, "UPDATE key_rotations SET finished_at=?1,state=CASE WHEN EXISTS(SELECT 1 FROM "
	       "data_keys d WHERE d.instance_id=?2 AND d.kek_id<>key_rotations.kek_id) "
	       "THEN 'FAILED' ELSE 'COMPLETED' END WHERE id=?3 AND instance_id=?2 AND "
	       "state='RUNNING'");
	if (!st) {
		r = BW_ERR;
		goto out;
	}
	sqlite3_bind_int64(st, 1, now);
	bw_sq__bind(st, 2, iid);
	bw_sq__bind(st, 3, rid);
	if ((r = bw_sq__step_changed(q, st)) != BW_OK)
		goto out;
	/* A retiring KEK goes once no data key needs it. */
	st = bw_sq__stmt(q, "DELETE FROM instance_keks WHERE instance_id=?1 AND state='RETIRING' "
	                    "AND NOT EXISTS(SELECT 1 FROM data_keys d WHERE d.instance_id=?1 "
	                    "AND d.kek_id=instance_keks.id)");
	if (!st) {
		r = BW_ERR;
		goto out;
	}
	bw_sq__bind(st, 1, iid);
	if ((r = bw_sq__step_done(st)) != BW_OK)
		goto out;
	r = rot_one(q, "SELECT " ROT_COLS " FROM key_rotations WHERE id=? AND instance_id=?", rid,
	            iid, out);
out:
	return bw_sq__end(q, r);
}

/* ---- destruction ---- */

bw_result bw_sq__keys_destroy(struct bw_store *s, const char *iid, long long now)
{
	static const char *const sql[] = {
	    "DELETE FROM data_keys WHERE instance_id=?",
	    "DELETE FROM instance_keks WHERE instance_id=?",
	    "DELETE FROM key_rotations WHERE instance_id=?",
	    "DELETE FROM key_import_tokens WHERE instance_id=?",
	};
	struct sq_store *q = SQ(s);
	if (bw_sq__begin(q) != BW_OK)
		return BW_ERR;
	bw_result r = BW_OK;
	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]) && r == BW_OK; i++) {
		sqlite3_stmt *st = bw_sq__stmt(q, sql[i]);
		if (!st) {
			r = BW_ERR;
			break;
		}
		bw_sq__bind(st, 1, iid);
		r = bw_sq__step_done(st);
	}
	if (r == BW_OK) {
		sqlite3_stmt *st = bw_sq__stmt(q, "INSERT OR IGNORE INTO key_tombstones"
		                                  "(instance_id,destroyed_at) VALUES(?,?)");
		if (!st)
			r = BW_ERR;
		else {
			bw_sq__bind(st, 1, iid);
			sqlite3_bind_int64(st, 2, now);
			r = bw_sq__step_done(st);
		}
	}
	return bw_sq__end(q, r);
}

/* ---- BYOK ---- */

bw_result bw_sq__import_key_get(struct bw_store *s, struct bw_import_key *out)
{
	sqlite3_stmt *st =
	    bw_sq__stmt(SQ(s), "SELECT id,public_key,bits,wrapped_private,created_at "
	                       "FROM key_import_keys ORDER BY created_at LIMIT 1");
	memset(out, 0, sizeof(*out));
	if (!st)
		return BW_ERR;
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? BW_NOTFOUND : BW_ERR;
	bw_sq__text(out->id, sizeof(out->id), st, 0);
	out->public_key = bw_sq__dup(st, 1);
	out->bits = sqlite3_column_int(st, 2);
	int n = sqlite3_column_bytes(st, 3);
	const void *b = sqlite3_column_blob(st, 3);
	out->created_at = sqlite3_column_int64(st, 4);
	if (b && n > 0 && (out->wrapped_private = malloc((size_t)n)) != NULL) {
		memcpy(out->wrapped_private, b, (size_t)n);
		out->wrapped_len = (size_t)n;
	}
	if (!out->public_key || !out->wrapped_private) {
		bw_import_key_clear(out);
		return BW_NOMEM;
	}
	return BW_OK;
}

bw_result bw_sq__import_key_insert(struct bw_store *s, const struct bw_import_key *k)
{
	struct sq_store *q = SQ(s);
	if (bw_sq__begin(q) != BW_OK)
		return BW_ERR;
	bw_result r = BW_ERR;
	sqlite3_stmt *st = bw_sq__stmt(q, "SELECT count(*) FROM key_import_keys");
	if (!st || sqlite3_step(st) != SQLITE_ROW)
		goto out;
	if (sqlite3_column_int64(st, 0) > 0) {
		r = BW_CONFLICT;
		goto out;
	}
	sqlite3_reset(st);
	st = bw_sq__stmt(q, "INSERT INTO key_import_keys(id,public_key,bits,wrapped_private,"
	                    "created_at) VALUES(?,?,?,?,?)");
	if (!st)
		goto out;
	bw_sq__bind(st, 1, k->id);
	bw_sq__bind(st, 2, k->public_key);
	sqlite3_bind_int(st, 3, k->bits);
	sqlite3_bind_blob(st, 4, k->wrapped_private, (int)k->wrapped_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, k->created_at);
	r = bw_sq__step_done(st);
out:
	return bw_sq__end(q, r);
}

bw_result bw_sq__import_token_insert(struct bw_store *s, const uint8_t hash[32], const char *iid,
                                     const char *key_id, long long expires_at, long long now)
{
	struct sq_store *q = SQ(s);
	if (bw_sq__begin(q) != BW_OK)
		return BW_ERR;
	bw_result r = BW_ERR;
	sqlite3_stmt *st = bw_sq__stmt(q, "DELETE FROM key_import_tokens WHERE expires_at<=?");
	if (!st)
		goto out;
	sqlite3_bind_int64(st, 1, now);
	if ((r = bw_sq__step_done(st)) != BW_OK)
		goto out;
	st = bw_sq__stmt(q, "INSERT INTO key_import_tokens(token_hash,instance_id,import_key_id,"
	                    "expires_at) VALUES(?,?,?,?)");
	if (!st) {
		r = BW_ERR;
		goto out;
	}
	sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
	bw_sq__bind(st, 2, iid);
	bw_sq__bind(st, 3, key_id);
	sqlite3_bind_int64(st, 4, expires_at);
	r = bw_sq__step_done(st);
out:
	return bw_sq__end(q, r);
}

bw_result bw_sq__import_token_take(struct bw_store *s, const uint8_t hash[32], const char *iid,
                                   long long now, char key_id[48])
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "DELETE FROM key_import_tokens WHERE token_hash=? "
	                                      "AND instance_id=? AND expires_at>? "
	                                      "RETURNING import_key_id");
	key_id[0] = '\0';
	if (!st)
		return BW_ERR;
	sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
	bw_sq__bind(st, 2, iid);
	sqlite3_bind_int64(st, 3, now);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return BW_NOTFOUND;
	if (rc != SQLITE_ROW)
		return BW_ERR;
	bw_sq__text(key_id, 48, st, 0);
	return sqlite3_step(st) == SQLITE_DONE ? BW_OK : BW_ERR;
}

/* ---- hygiene ---- */

bw_result bw_sq__keys_harden(struct bw_store *s)
{
	return bw_sq__exec(SQ(s)->db, "PRAGMA secure_delete=ON");
}

bw_result bw_sq__wal_purge(struct bw_store *s)
{
	int log = 0, done = 0;
	/* A short wait for readers: the caller retries, or hands it on. */
	sqlite3_busy_timeout(SQ(s)->db, 200);
	int rc =
	    sqlite3_wal_checkpoint_v2(SQ(s)->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &log, &done);
	sqlite3_busy_timeout(SQ(s)->db, 10000);
	if (rc == SQLITE_BUSY || (rc == SQLITE_OK && done < log))
		return BW_AGAIN;
	return rc == SQLITE_OK ? BW_OK : BW_ERR;
}

/* ---- the one-time re-seal ---- */

static const struct {
	const char *page, *put;
} sealed_sql[] = {
    [BW_SEALED_MFA] = {"SELECT rowid,instance_id,id,mfa_secret FROM users WHERE rowid>? AND "
                       "mfa_secret IS NOT NULL ORDER BY rowid LIMIT ?",
                       "UPDATE users SET mfa_secret=? WHERE rowid=?"},
    [BW_SEALED_CUSTOMER] = {"SELECT rowid,instance_id,id,customer FROM contacts WHERE rowid>? "
                            "AND customer IS NOT NULL ORDER BY rowid LIMIT ?",
                            "UPDATE contacts SET customer=? WHERE rowid=?"},
    [BW_SEALED_MESSAGE] = {"SELECT rowid,instance_id,id,content FROM contact_messages "
                           "WHERE rowid>? ORDER BY rowid LIMIT ?",
                           "UPDATE contact_messages SET content=? WHERE rowid=?"},
    [BW_SEALED_NAMES] = {"SELECT rowid,instance_id,id,json_object('first_name',first_name,"
                         "'last_name',last_name,'email',email) FROM users WHERE rowid>? AND "
                         "pii IS NULL AND (first_name<>'' OR last_name<>'' OR "
                         "coalesce(email,'')<>'') ORDER BY rowid LIMIT ?",
                         "UPDATE users SET pii=?,first_name='',last_name='',email=NULL "
                         "WHERE rowid=?"},
};

bw_result bw_sq__sealed_page(struct bw_store *s, enum bw_sealed_col col, long long after,
                             struct bw_sealed_item *out, size_t max, size_t *n)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), sealed_sql[col].page);
	*n = 0;
	if (!st)
		return BW_ERR;
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	int rc = SQLITE_DONE;
	bw_result r = BW_OK;
	while (r == BW_OK && *n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct bw_sealed_item *it = &out[*n];
		memset(it, 0, sizeof(*it));
		it->rowid = sqlite3_column_int64(st, 0);
		bw_sq__text(it->instance_id, sizeof(it->instance_id), st, 1);
		bw_sq__text(it->id, sizeof(it->id), st, 2);
		int len = sqlite3_column_bytes(st, 3);
		const void *b = col == BW_SEALED_NAMES ? (const void *)sqlite3_column_text(st, 3)
		                                       : sqlite3_column_blob(st, 3);
		it->blob = malloc(len > 0 ? (size_t)len : 1);
		if (!it->blob) {
			r = BW_NOMEM;
			break;
		}
		if (b && len > 0)
			memcpy(it->blob, b, (size_t)len);
		it->len = (size_t)len;
		(*n)++;
	}
	if (r == BW_OK && *n < max && rc != SQLITE_DONE)
		r = BW_ERR;
	if (r != BW_OK) {
		for (size_t i = 0; i < *n; i++)
			free(out[i].blob);
		*n = 0;
	}
	return r;
}

bw_result bw_sq__sealed_put(struct bw_store *s, enum bw_sealed_col col,
                            const struct bw_sealed_item *items, size_t n)
{
	struct sq_store *q = SQ(s);
	if (bw_sq__begin(q) != BW_OK)
		return BW_ERR;
	bw_result r = BW_OK;
	for (size_t i = 0; i < n && r == BW_OK; i++) {
		sqlite3_stmt *st = bw_sq__stmt(q, sealed_sql[col].put);
		if (!st) {
			r = BW_ERR;
			break;
		}
		sqlite3_bind_blob(st, 1, items[i].blob, (int)items[i].len, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, items[i].rowid);
		r = bw_sq__step_done(st);
	}
	return bw_sq__end(q, r);
}

bw_result bw_sq__keyring_task(struct bw_store *s, const char *name)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "SELECT 1 FROM keyring_tasks WHERE name=?");
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, name);
	int rc = sqlite3_step(st);
	return rc == SQLITE_ROW ? BW_OK : rc == SQLITE_DONE ? BW_NOTFOUND : BW_ERR;
}

bw_result bw_sq__keyring_task_done(struct bw_store *s, const char *name)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "DELETE FROM keyring_tasks WHERE name=?");
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, name);
	return bw_sq__step_done(st);
}
