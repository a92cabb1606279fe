/* SQLite backend: encryption keys (0007), integrators' RSA public keys for
 * encrypted customer input. Every query is bound to one instance. The
 * two-active limit is the schema's (triggers), so that it holds whichever
 * connection writes; its refusal is a constraint error: BW_CONFLICT. */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_int.h"
#include "store/sqlite_ops.h"

#define EK_COLS "instance_id,key_id,status,fingerprint,bits,created_at,updated_at"

static void ek_row(sqlite3_stmt *st, void *item)
{
	struct bw_enckey *k = item;
	memset(k, 0, sizeof(*k));
	bw_sq__text(k->instance_id, sizeof(k->instance_id), st, 0);
	bw_sq__text(k->key_id, sizeof(k->key_id), st, 1);
	bw_sq__text(k->status, sizeof(k->status), st, 2);
	bw_sq__text(k->fingerprint, sizeof(k->fingerprint), st, 3);
	k->bits = sqlite3_column_int(st, 4);
	k->created_at = sqlite3_column_int64(st, 5);
	k->updated_at = sqlite3_column_int64(st, 6);
}

/* A row with its PEM (column 7); BW_NOMEM when the copy fails. */
static bw_result ek_row_pem(sqlite3_stmt *st, struct bw_enckey *k)
{
	ek_row(st, k);
	k->public_key = bw_sq__dup(st, 7);
	return k->public_key ? BW_OK : BW_NOMEM;
}

bw_result bw_sq__enckey_insert(struct bw_store *s, const struct bw_enckey *k)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "INSERT INTO encryption_keys(" EK_COLS ",public_key) "
	                                      "VALUES(?,?,?,?,?,?,?,?)");
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, k->instance_id);
	bw_sq__bind(st, 2, k->key_id);
	bw_sq__bind(st, 3, k->status);
	bw_sq__bind(st, 4, k->fingerprint);
	sqlite3_bind_int(st, 5, k->bits);
	sqlite3_bind_int64(st, 6, k->created_at);
	sqlite3_bind_int64(st, 7, k->updated_at);
	bw_sq__bind(st, 8, k->public_key ? k->public_key : "");
	return bw_sq__step_done(st);
}

bw_result bw_sq__enckey_get(struct bw_store *s, const char *iid, const char *key_id,
                            struct bw_enckey *out)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "SELECT " EK_COLS ",public_key FROM encryption_keys "
	                                      "WHERE instance_id=? AND key_id=?");
	memset(out, 0, sizeof(*out));
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, iid);
	bw_sq__bind(st, 2, key_id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return ek_row_pem(st, out);
	return rc == SQLITE_DONE ? BW_NOTFOUND : BW_ERR;
}

bw_result bw_sq__enckey_list(struct bw_store *s, const char *iid, const char *after,
                             struct bw_enckey *out, size_t max, size_t *n)
{
	return bw_sq__page(SQ(s),
	                   "SELECT " EK_COLS " FROM encryption_keys WHERE instance_id=?1 "
	                   "AND key_id>?2 ORDER BY key_id LIMIT ?3",
	                   iid, after, max, ek_row, out, sizeof(*out), n);
}

bw_result bw_sq__enckey_set_status(struct bw_store *s, const char *iid, const char *key_id,
                                   const char *status, long long now_ms)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "UPDATE encryption_keys SET status=?,updated_at=? "
	                                      "WHERE instance_id=? AND key_id=?");
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, status);
	sqlite3_bind_int64(st, 2, now_ms);
	bw_sq__bind(st, 3, iid);
	bw_sq__bind(st, 4, key_id);
	return bw_sq__step_changed(SQ(s), st);
}

bw_result bw_sq__enckey_delete(struct bw_store *s, const char *iid, const char *key_id)
{
	sqlite3_stmt *st =
	    bw_sq__stmt(SQ(s), "DELETE FROM encryption_keys WHERE instance_id=? AND key_id=?");
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, iid);
	bw_sq__bind(st, 2, key_id);
	return bw_sq__step_changed(SQ(s), st);
}

bw_result bw_sq__enckey_active(struct bw_store *s, const char *iid, struct bw_enckey *out,
                               size_t max, size_t *n)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "SELECT " EK_COLS ",public_key FROM encryption_keys "
	                                      "WHERE instance_id=? AND status='ACTIVE' "
	                                      "ORDER BY key_id LIMIT ?");
	bw_result r = BW_OK;
	int rc = SQLITE_DONE;
	*n = 0;
	for (size_t i = 0; i < max; i++)
		memset(&out[i], 0, sizeof(out[i]));
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, iid);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	while (r == BW_OK && *n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
		r = ek_row_pem(st, &out[(*n)++]);
	if (r == BW_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = BW_ERR;
	if (r != BW_OK) {
		for (size_t i = 0; i < *n; i++)
			bw_enckey_clear(&out[i]);
		*n = 0;
	}
	return r;
}
