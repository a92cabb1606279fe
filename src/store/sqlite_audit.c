/* SQLite backend: the audit trail (append-only; triggers refuse UPDATE and
 * DELETE) and the chain heads. */
#include <stdio.h>
#include <string.h>

#include "store/sqlite_int.h"
#include "store/sqlite_ops.h"

#define AUDIT_COLS                                                                                 \
	"chain,seq,id,time,instance_id,principal_kind,principal_id,principal_name,action,resource,"\
	"source_ip,user_agent,result,status,error_code,request_id,prev_hash,hash"

static void blob32(uint8_t out[32], sqlite3_stmt *st, int col)
{
	memset(out, 0, 32);
	const void *b = sqlite3_column_blob(st, col);
	if (b && sqlite3_column_bytes(st, col) == 32)
		memcpy(out, b, 32);
}

static void audit_row(sqlite3_stmt *st, struct bw_audit_event *e)
{
	bw_sq__text(e->chain, sizeof(e->chain), st, 0);
	e->seq = sqlite3_column_int64(st, 1);
	bw_sq__text(e->id, sizeof(e->id), st, 2);
	bw_sq__text(e->time, sizeof(e->time), st, 3);
	bw_sq__text(e->instance_id, sizeof(e->instance_id), st, 4);
	bw_sq__text(e->principal_kind, sizeof(e->principal_kind), st, 5);
	bw_sq__text(e->principal_id, sizeof(e->principal_id), st, 6);
	bw_sq__text(e->principal_name, sizeof(e->principal_name), st, 7);
	bw_sq__text(e->action, sizeof(e->action), st, 8);
	bw_sq__text(e->resource, sizeof(e->resource), st, 9);
	bw_sq__text(e->source_ip, sizeof(e->source_ip), st, 10);
	bw_sq__text(e->user_agent, sizeof(e->user_agent), st, 11);
	bw_sq__text(e->result, sizeof(e->result), st, 12);
	e->status = sqlite3_column_int(st, 13);
	bw_sq__text(e->error_code, sizeof(e->error_code), st, 14);
	bw_sq__text(e->request_id, sizeof(e->request_id), st, 15);
	blob32(e->prev_hash, st, 16);
	blob32(e->hash, st, 17);
}

bw_result bw_sq__audit_append(struct bw_store *s, const struct bw_audit_event *ev, size_t n,
                              const struct bw_audit_head *heads, size_t nheads)
{
	struct sq_store *q = SQ(s);
	if (bw_sq__begin(q) != BW_OK)
		return BW_ERR;
	bw_result r = BW_OK;
	for (size_t i = 0; i < n && r == BW_OK; i++) {
		const struct bw_audit_event *e = &ev[i];
		sqlite3_stmt *st = bw_sq__stmt(q, "INSERT INTO audit_events(" AUDIT_COLS ") VALUES("
		                                  "?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
		if (!st) {
			r = BW_ERR;
			break;
		}
		sqlite3_bind_text(st, 1, e->chain, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, e->seq);
		sqlite3_bind_text(st, 3, e->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, e->time, -1, SQLITE_STATIC);
		bw_sq__bind_opt(st, 5, e->instance_id);
		sqlite3_bind_text(st, 6, e->principal_kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, e->principal_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 8, e->principal_name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 9, e->action, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 10, e->resource, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 11, e->source_ip, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 12, e->user_agent, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 13, e->result, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 14, e->status);
		bw_sq__bind_opt(st, 15, e->error_code);
		sqlite3_bind_text(st, 16, e->request_id, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 17, e->prev_hash, 32, SQLITE_STATIC);
		sqlite3_bind_blob(st, 18, e->hash, 32, SQLITE_STATIC);
		r = bw_sq__step_done(st);
	}
	for (size_t i = 0; i < nheads && r == BW_OK; i++) {
		sqlite3_stmt *st = bw_sq__stmt(q, "INSERT INTO audit_heads(chain,seq,hash,mac) "
		                                  "VALUES(?,?,?,?) ON CONFLICT(chain) DO UPDATE SET "
		                                  "seq=excluded.seq,hash=excluded.hash,mac=excluded.mac");
		if (!st) {
			r = BW_ERR;
			break;
		}
		sqlite3_bind_text(st, 1, heads[i].chain, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, heads[i].seq);
		sqlite3_bind_blob(st, 3, heads[i].hash, 32, SQLITE_STATIC);
		sqlite3_bind_blob(st, 4, heads[i].mac, 32, SQLITE_STATIC);
		r = bw_sq__step_done(st);
	}
	return bw_sq__end(q, r);
}

bw_result bw_sq__audit_head(struct bw_store *s, const char *chain, struct bw_audit_head *out)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "SELECT chain,seq,hash,mac FROM audit_heads WHERE chain=?");
	if (!st)
		return BW_ERR;
	sqlite3_bind_text(st, 1, chain, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? BW_NOTFOUND : BW_ERR;
	bw_sq__text(out->chain, sizeof(out->chain), st, 0);
	out->seq = sqlite3_column_int64(st, 1);
	blob32(out->hash, st, 2);
	blob32(out->mac, st, 3);
	return BW_OK;
}

bw_result bw_sq__audit_list(struct bw_store *s, const struct bw_audit_filter *f,
                            struct bw_audit_event *out, size_t max, size_t *n)
{
	sqlite3_stmt *st = bw_sq__stmt(
		SQ(s), "SELECT " AUDIT_COLS " FROM audit_events WHERE chain=?1 "
		       "AND (?2 IS NULL OR action=?2) AND (?3 IS NULL OR result=?3) "
		       "AND (?4 IS NULL OR principal_id=?4) AND (?5 IS NULL OR time>=?5) "
		       "AND (?6 IS NULL OR time<=?6) AND (?7 = 0 OR seq < ?7) "
		       "ORDER BY seq DESC LIMIT ?8");
	*n = 0;
	if (!st)
		return BW_ERR;
	sqlite3_bind_text(st, 1, f->instance_id ? f->instance_id : "platform", -1, SQLITE_STATIC);
	bw_sq__bind_opt(st, 2, f->action);
	bw_sq__bind_opt(st, 3, f->result);
	bw_sq__bind_opt(st, 4, f->principal_id);
	bw_sq__bind_opt(st, 5, f->since);
	bw_sq__bind_opt(st, 6, f->until);
	sqlite3_bind_int64(st, 7, f->before_seq);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)max);
	while (*n < max && sqlite3_step(st) == SQLITE_ROW)
		audit_row(st, &out[(*n)++]);
	return BW_OK;
}

bw_result bw_sq__audit_scan(struct bw_store *s, const char *chain, bw_audit_cb *cb, void *arg)
{
	/* Its own statement: a scan may be long and must not share the cache. */
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(SQ(s)->db, "SELECT " AUDIT_COLS " FROM audit_events WHERE chain=? "
	                                  "ORDER BY rowid", -1, &st, NULL) != SQLITE_OK)
		return BW_ERR;
	sqlite3_bind_text(st, 1, chain, -1, SQLITE_STATIC);
	struct bw_audit_event e;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&e, 0, sizeof(e));
		audit_row(st, &e);
		if (cb(&e, arg))
			break;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? BW_OK : BW_ERR;
}

bw_result bw_sq__audit_chains(struct bw_store *s, char (*out)[48], size_t max, size_t *n)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "SELECT chain FROM audit_heads UNION "
	                                      "SELECT DISTINCT chain FROM audit_events ORDER BY 1");
	*n = 0;
	if (!st)
		return BW_ERR;
	while (*n < max && sqlite3_step(st) == SQLITE_ROW)
		bw_sq__text(out[(*n)++], 48, st, 0);
	return BW_OK;
}
