/* SQLite backend: WAL, one connection per thread, busy timeout, versioned
 * migrations in one transaction each. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "store/sqlite_int.h"
#include "store/sqlite_ops.h"

sqlite3_stmt *bw_sq__stmt(struct sq_store *q, const char *sql)
{
	int free_slot = -1;
	for (int i = 0; i < SQ_CACHE; i++) {
		if (q->cache[i].sql == sql) {
			sqlite3_reset(q->cache[i].st);
			sqlite3_clear_bindings(q->cache[i].st);
			return q->cache[i].st;
		}
		if (!q->cache[i].sql && free_slot < 0)
			free_slot = i;
	}
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v3(q->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
		bw_log(BW_LOG_ERROR, "sqlite prepare failed", "error", sqlite3_errmsg(q->db));
		return NULL;
	}
	if (free_slot >= 0) {
		q->cache[free_slot].sql = sql;
		q->cache[free_slot].st = st;
	}
	return st; /* a full cache leaks one statement per call: grow SQ_CACHE */
}

/* Transactions nest: inside a batch (bw_store_batch_begin) an operation's
 * own transaction is a savepoint, so its failure undoes only itself. */
bw_result bw_sq__begin(struct sq_store *q)
{
	bw_result r = bw_sq__exec(q->db, q->depth ? "SAVEPOINT bw_nested" : "BEGIN IMMEDIATE");
	if (r == BW_OK)
		q->depth++;
	return r;
}

bw_result bw_sq__end(struct sq_store *q, bw_result r)
{
	if (q->depth <= 0)
		return BW_ERR;
	bool ok = r == BW_OK, outer = --q->depth == 0;
	bw_result e;
	if (outer)
		e = bw_sq__exec(q->db, ok ? "COMMIT" : "ROLLBACK");
	else if (ok)
		e = bw_sq__exec(q->db, "RELEASE bw_nested");
	else
		e = bw_sq__exec(q->db, "ROLLBACK TO bw_nested") == BW_OK
		        ? bw_sq__exec(q->db, "RELEASE bw_nested")
		        : BW_ERR;
	if (e != BW_OK && r == BW_OK)
		return BW_ERR;
	return r;
}

static bw_result sq_batch_begin(struct bw_store *s)
{
	return bw_sq__begin(SQ(s));
}

static bw_result sq_batch_end(struct bw_store *s, bw_result r)
{
	return bw_sq__end(SQ(s), r);
}

void bw_sq__text(char *dst, size_t n, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	snprintf(dst, n, "%s", t ? (const char *)t : "");
}

char *bw_sq__dup(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	return t ? strdup((const char *)t) : NULL;
}

bw_result bw_sq__step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return BW_OK;
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return BW_CONFLICT;
	return BW_ERR;
}

void bw_sq__bind(sqlite3_stmt *st, int i, const char *v)
{
	sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

void bw_sq__bind_opt(sqlite3_stmt *st, int i, const char *v)
{
	if (v && *v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

bw_result bw_sq__step_changed(struct sq_store *q, sqlite3_stmt *st)
{
	bw_result r = bw_sq__step_done(st);
	if (r == BW_OK && sqlite3_changes(q->db) == 0)
		r = BW_NOTFOUND;
	return r;
}

bw_result bw_sq__one(struct sq_store *q, const char *sql, const char *iid, const char *id,
                     bw_sq_row_fn *row, void *out)
{
	sqlite3_stmt *st = bw_sq__stmt(q, sql);
	if (!st)
		return BW_ERR;
	sqlite3_bind_text(st, 1, iid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		row(st, out);
		return BW_OK;
	}
	return rc == SQLITE_DONE ? BW_NOTFOUND : BW_ERR;
}

bw_result bw_sq__page(struct sq_store *q, const char *sql, const char *iid, const char *after,
                      size_t max, bw_sq_row_fn *row, void *out, size_t size, size_t *n)
{
	sqlite3_stmt *st = bw_sq__stmt(q, sql);
	*n = 0;
	if (!st)
		return BW_ERR;
	sqlite3_bind_text(st, 1, iid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, after ? after : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
	while (*n < max && sqlite3_step(st) == SQLITE_ROW)
		row(st, (char *)out + (*n)++ * size);
	return BW_OK;
}

bw_result bw_sq__exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		bw_log(BW_LOG_ERROR, "sqlite exec failed", "error", err ? err : "?");
		sqlite3_free(err);
		return BW_ERR;
	}
	return BW_OK;
}

static void sq_close(struct bw_store *s)
{
	struct sq_store *q = (struct sq_store *)s;
	for (int i = 0; i < SQ_CACHE; i++)
		sqlite3_finalize(q->cache[i].st);
	sqlite3_close_v2(q->db);
	free(q);
}

static bw_result sq_open(struct bw_store **out, const char *path, enum bw_durability d)
{
	struct sq_store *q = calloc(1, sizeof(*q));
	if (!q)
		return BW_NOMEM;
	q->base.ops = &bw_store__sqlite_ops;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(path, &q->db, flags, NULL) != SQLITE_OK) {
		bw_log(BW_LOG_ERROR, "cannot open database", "error", sqlite3_errmsg(q->db));
		sqlite3_close_v2(q->db);
		free(q);
		return BW_ERR;
	}
	sqlite3_busy_timeout(q->db, 10000);
	sqlite3_extended_result_codes(q->db, 1);
	const char *sync = d == BW_DURABILITY_FULL ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=NORMAL;";
	if (bw_sq__exec(q->db, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;") != BW_OK ||
	    bw_sq__exec(q->db, sync) != BW_OK) {
		sq_close(&q->base);
		return BW_ERR;
	}
	*out = &q->base;
	return BW_OK;
}

static int user_version(sqlite3 *db)
{
	sqlite3_stmt *st;
	int v = -1;
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	return v;
}

static bw_result sq_migrate(struct bw_store *s, int *version)
{
	struct sq_store *q = (struct sq_store *)s;
	if (bw_sq__exec(q->db, "BEGIN IMMEDIATE") != BW_OK)
		return BW_ERR;
	int cur = user_version(q->db);
	bw_result r = BW_OK;
	for (const struct bw_migration *m = bw_sqlite_migrations; m->sql; m++) {
		if (m->version <= cur)
			continue;
		char pragma[64];
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version=%d", m->version);
		if (bw_sq__exec(q->db, m->sql) != BW_OK || bw_sq__exec(q->db, pragma) != BW_OK) {
			bw_log(BW_LOG_ERROR, "migration failed", "migration", m->name);
			r = BW_ERR;
			break;
		}
		cur = m->version;
		bw_log(BW_LOG_INFO, "migration applied", "migration", m->name);
	}
	if (bw_sq__exec(q->db, r == BW_OK ? "COMMIT" : "ROLLBACK") != BW_OK)
		r = BW_ERR;
	*version = cur;
	return r;
}

static bw_result sq_ping(struct bw_store *s)
{
	struct sq_store *q = (struct sq_store *)s;
	return user_version(q->db) > 0 ? BW_OK : BW_ERR;
}

static void copy_text(char *dst, size_t n, const unsigned char *src)
{
	snprintf(dst, n, "%s", src ? (const char *)src : "");
}

static void pk_row(sqlite3_stmt *st, struct bw_platform_key *k)
{
	copy_text(k->id, sizeof(k->id), sqlite3_column_text(st, 0));
	copy_text(k->name, sizeof(k->name), sqlite3_column_text(st, 1));
	k->created_at = sqlite3_column_int64(st, 2);
	k->last_used_at = sqlite3_column_int64(st, 3);
}

static bw_result sq_pk_insert(struct bw_store *s, const struct bw_platform_key *k,
                              const uint8_t hash[32])
{
	struct sq_store *q = (struct sq_store *)s;
	sqlite3_stmt *st;
	bw_result r = BW_ERR;
	if (sqlite3_prepare_v2(q->db,
	                       "INSERT INTO platform_keys(id,name,key_hash,created_at) VALUES(?,?,?,?)",
	                       -1, &st, NULL) != SQLITE_OK)
		return BW_ERR;
	sqlite3_bind_text(st, 1, k->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, k->name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, hash, 32, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, k->created_at);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		r = BW_OK;
	else if ((rc & 0xff) == SQLITE_CONSTRAINT)
		r = BW_CONFLICT;
	sqlite3_finalize(st);
	return r;
}

static bw_result sq_pk_find(struct bw_store *s, const uint8_t hash[32], struct bw_platform_key *out)
{
	struct sq_store *q = (struct sq_store *)s;
	sqlite3_stmt *st;
	bw_result r = BW_ERR;
	if (sqlite3_prepare_v2(q->db,
	                       "SELECT id,name,created_at,last_used_at FROM platform_keys "
	                       "WHERE key_hash=? AND revoked_at IS NULL",
	                       -1, &st, NULL) != SQLITE_OK)
		return BW_ERR;
	sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		pk_row(st, out);
		r = BW_OK;
	} else if (rc == SQLITE_DONE) {
		r = BW_NOTFOUND;
	}
	sqlite3_finalize(st);
	return r;
}

static bw_result sq_pk_list(struct bw_store *s, const char *after, struct bw_platform_key *out,
                            size_t max, size_t *n)
{
	struct sq_store *q = (struct sq_store *)s;
	sqlite3_stmt *st;
	*n = 0;
	if (sqlite3_prepare_v2(q->db,
	                       "SELECT id,name,created_at,last_used_at FROM platform_keys "
	                       "WHERE revoked_at IS NULL AND id > ? ORDER BY id LIMIT ?",
	                       -1, &st, NULL) != SQLITE_OK)
		return BW_ERR;
	sqlite3_bind_text(st, 1, after ? after : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < max)
		pk_row(st, &out[(*n)++]);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? BW_OK : BW_ERR;
}

static bw_result sq_pk_revoke(struct bw_store *s, const char *id, long long now)
{
	struct sq_store *q = (struct sq_store *)s;
	bw_result r = BW_ERR;
	sqlite3_stmt *st = NULL;
	if (bw_sq__exec(q->db, "BEGIN IMMEDIATE") != BW_OK)
		return BW_ERR;
	if (sqlite3_prepare_v2(q->db,
	                       "SELECT (SELECT count(*) FROM platform_keys WHERE id=? AND revoked_at IS NULL),"
	                       " (SELECT count(*) FROM platform_keys WHERE revoked_at IS NULL)",
	                       -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		goto out;
	if (sqlite3_column_int(st, 0) == 0) {
		r = BW_NOTFOUND;
		goto out;
	}
	if (sqlite3_column_int(st, 1) <= 1) {
		r = BW_CONFLICT;
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(q->db, "UPDATE platform_keys SET revoked_at=? WHERE id=?", -1, &st,
	                       NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_DONE)
		r = BW_OK;
out:
	sqlite3_finalize(st);
	if (bw_sq__exec(q->db, r == BW_OK ? "COMMIT" : "ROLLBACK") != BW_OK)
		r = BW_ERR;
	return r;
}

static void sq_release(struct bw_store *s)
{
	struct sq_store *q = SQ(s);
	for (int i = 0; i < SQ_CACHE && q->cache[i].sql; i++)
		if (sqlite3_stmt_busy(q->cache[i].st))
			sqlite3_reset(q->cache[i].st);
}

const struct bw_store_ops bw_store__sqlite_ops = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.migrate = sq_migrate,
	.ping = sq_ping,
	.pk_insert = sq_pk_insert,
	.pk_find = sq_pk_find,
	.pk_list = sq_pk_list,
	.pk_revoke = sq_pk_revoke,
	.release = sq_release,
	.batch_begin = sq_batch_begin,
	.batch_end = sq_batch_end,
	.instance_create = bw_sq__instance_create,
	.instance_get = bw_sq__instance_get,
	.instance_list = bw_sq__instance_list,
	.instance_update = bw_sq__instance_update,
	.instance_delete = bw_sq__instance_delete,
	.profile_insert = bw_sq__profile_insert,
	.profile_get = bw_sq__profile_get,
	.profile_list = bw_sq__profile_list,
	.profile_update = bw_sq__profile_update,
	.profile_delete = bw_sq__profile_delete,
	.user_insert = bw_sq__user_insert,
	.user_get = bw_sq__user_get,
	.user_by_name = bw_sq__user_by_name,
	.user_list = bw_sq__user_list,
	.user_update = bw_sq__user_update,
	.user_delete = bw_sq__user_delete,
	.user_profiles = bw_sq__user_profiles,
	.user_mfa_step = bw_sq__user_mfa_step,
	.recovery_codes_set = bw_sq__recovery_codes_set,
	.recovery_code_use = bw_sq__recovery_code_use,
	.session_insert = bw_sq__session_insert,
	.session_find = bw_sq__session_find,
	.session_touch = bw_sq__session_touch,
	.session_revoke = bw_sq__session_revoke,
	.session_mfa_done = bw_sq__session_mfa_done,
	.session_revoke_user = bw_sq__session_revoke_user,
	.session_list = bw_sq__session_list,
	.failures_get = bw_sq__failures_get,
	.failures_put = bw_sq__failures_put,
	.failures_clear = bw_sq__failures_clear,
	.audit_append = bw_sq__audit_append,
	.audit_head = bw_sq__audit_head,
	.audit_list = bw_sq__audit_list,
	.audit_scan = bw_sq__audit_scan,
	.audit_chains = bw_sq__audit_chains,
	/* routing */
	.hoo_insert = bw_sq__hoo_insert,
	.hoo_get = bw_sq__hoo_get,
	.hoo_list = bw_sq__hoo_list,
	.hoo_update = bw_sq__hoo_update,
	.hoo_delete = bw_sq__hoo_delete,
	.queue_insert = bw_sq__queue_insert,
	.queue_get = bw_sq__queue_get,
	.queue_list = bw_sq__queue_list,
	.queue_update = bw_sq__queue_update,
	.queue_delete = bw_sq__queue_delete,
	.rp_insert = bw_sq__rp_insert,
	.rp_get = bw_sq__rp_get,
	.rp_list = bw_sq__rp_list,
	.rp_update = bw_sq__rp_update,
	.rp_delete = bw_sq__rp_delete,
	.ep_insert = bw_sq__ep_insert,
	.ep_get = bw_sq__ep_get,
	.ep_list = bw_sq__ep_list,
	.ep_update = bw_sq__ep_update,
	.ep_delete = bw_sq__ep_delete,
	/* end routing */
	/* flows */
	.flow_insert = bw_sq__flow_insert,
	.flow_get = bw_sq__flow_get,
	.flow_list = bw_sq__flow_list,
	.flow_update = bw_sq__flow_update,
	.flow_delete = bw_sq__flow_delete,
	.flow_publish = bw_sq__flow_publish,
	.flow_version_get = bw_sq__flow_version_get,
	.flow_version_list = bw_sq__flow_version_list,
	/* end flows */
	/* contacts */
	.contact_put = bw_sq__contact_put,
	.contact_get = bw_sq__contact_get,
	.contact_by_token = bw_sq__contact_by_token,
	.contact_search = bw_sq__contact_search,
	.contacts_live = bw_sq__contacts_live,
	.contacts_end_live = bw_sq__contacts_end_live,
	.message_insert = bw_sq__message_insert,
	.message_list = bw_sq__message_list,
	.flow_log_append = bw_sq__flow_log_append,
	.flow_log_list = bw_sq__flow_log_list,
	/* end contacts */
	/* integrations */
	.integration_insert = bw_sq__integration_insert,
	.integration_get = bw_sq__integration_get,
	.integration_list = bw_sq__integration_list,
	.integration_update = bw_sq__integration_update,
	.integration_delete = bw_sq__integration_delete,
	.integration_touch = bw_sq__integration_touch,
	/* end integrations */
	/* event subscriptions */
	.event_sub_insert = bw_sq__event_sub_insert,
	.event_sub_get = bw_sq__event_sub_get,
	.event_sub_list = bw_sq__event_sub_list,
	.event_sub_update = bw_sq__event_sub_update,
	.event_sub_delete = bw_sq__event_sub_delete,
	.outbox_insert = bw_sq__outbox_insert,
	.outbox_due = bw_sq__outbox_due,
	.outbox_subs = bw_sq__outbox_subs,
	.outbox_due_now = bw_sq__outbox_due_now,
	.outbox_lease = bw_sq__outbox_lease,
	.outbox_settle = bw_sq__outbox_settle,
	.outbox_counts = bw_sq__outbox_counts,
	.outbox_dead_list = bw_sq__outbox_dead_list,
	.outbox_dead_requeue = bw_sq__outbox_dead_requeue,
	.outbox_dead_delete = bw_sq__outbox_dead_delete,
	.outbox_dead_expire = bw_sq__outbox_dead_expire,
	/* end event subscriptions */
	/* approved origins */
	.origin_used = bw_sq__origin_used,
	.origin_seen = bw_sq__origin_seen,
	/* fraud */
	.deny_insert = bw_sq__deny_insert,
	.deny_insert_many = bw_sq__deny_insert_many,
	.deny_get = bw_sq__deny_get,
	.deny_list = bw_sq__deny_list,
	.deny_update = bw_sq__deny_update,
	.deny_delete = bw_sq__deny_delete,
	.deny_scan = bw_sq__deny_scan,
	.deny_purge = bw_sq__deny_purge,
	.history_add = bw_sq__history_add,
	.history_scan = bw_sq__history_scan,
	.history_purge = bw_sq__history_purge,
	.filter_get = bw_sq__filter_get,
	.filter_put = bw_sq__filter_put,
	.filter_scan = bw_sq__filter_scan,
	/* end fraud */
	/* secrets */
	.secret_insert = bw_sq__secret_insert,
	.secret_get = bw_sq__secret_get,
	.secret_list = bw_sq__secret_list,
	.secret_rotate = bw_sq__secret_rotate,
	.secret_delete = bw_sq__secret_delete,
	.secret_blob = bw_sq__secret_blob,
	.signing_key_list = bw_sq__signing_key_list,
	.signing_key_get = bw_sq__signing_key_get,
	.signing_key_add = bw_sq__signing_key_add,
	/* end secrets */
	/* encryption keys */
	.enckey_insert = bw_sq__enckey_insert,
	.enckey_get = bw_sq__enckey_get,
	.enckey_list = bw_sq__enckey_list,
	.enckey_set_status = bw_sq__enckey_set_status,
	.enckey_delete = bw_sq__enckey_delete,
	.enckey_active = bw_sq__enckey_active,
	/* end encryption keys */
	/* keys */
	.kek_list = bw_sq__kek_list,
	.kek_insert = bw_sq__kek_insert,
	.keys_destroyed = bw_sq__keys_destroyed,
	.dk_insert = bw_sq__dk_insert,
	.dk_get = bw_sq__dk_get,
	.dk_newest = bw_sq__dk_newest,
	.dk_count = bw_sq__dk_count,
	.dk_stale = bw_sq__dk_stale,
	.dk_rewrap = bw_sq__dk_rewrap,
	.rotation_start = bw_sq__rotation_start,
	.rotation_last = bw_sq__rotation_last,
	.rotation_running = bw_sq__rotation_running,
	.rotation_finish = bw_sq__rotation_finish,
	.keys_destroy = bw_sq__keys_destroy,
	.import_key_get = bw_sq__import_key_get,
	.import_key_insert = bw_sq__import_key_insert,
	.import_token_insert = bw_sq__import_token_insert,
	.import_token_take = bw_sq__import_token_take,
	.keys_harden = bw_sq__keys_harden,
	.wal_purge = bw_sq__wal_purge,
	.sealed_page = bw_sq__sealed_page,
	.sealed_put = bw_sq__sealed_put,
	.keyring_task = bw_sq__keyring_task,
	.keyring_task_done = bw_sq__keyring_task_done,
	/* end keys */
};
