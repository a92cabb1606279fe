/* SQLite backend: instances, security profiles, users, sessions, login
 * failures. Every query of instance data is bound to the instance id. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_int.h"
#include "store/sqlite_ops.h"

/* ---- instances ---- */

#define INSTANCE_COLS "id,alias,default_region,settings,created_at,updated_at"

static void instance_row(sqlite3_stmt *st, struct bw_instance *i)
{
	bw_sq__text(i->id, sizeof(i->id), st, 0);
	bw_sq__text(i->alias, sizeof(i->alias), st, 1);
	bw_sq__text(i->default_region, sizeof(i->default_region), st, 2);
	i->settings = bw_sq__dup(st, 3);
	i->created_at = sqlite3_column_int64(st, 4);
	i->updated_at = sqlite3_column_int64(st, 5);
}

static bw_result profile_insert(struct sq_store *q, const struct bw_profile *p)
{
	sqlite3_stmt *st = bw_sq__stmt(q, "INSERT INTO security_profiles(id,instance_id,name,"
	                                  "description,permissions,created_at,updated_at) "
	                                  "VALUES(?,?,?,?,?,?,?)");
	if (!st)
		return BW_ERR;
	sqlite3_bind_text(st, 1, p->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, p->instance_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, p->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, p->description, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, p->permissions ? p->permissions : "[]", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, p->created_at);
	sqlite3_bind_int64(st, 7, p->updated_at);
	return bw_sq__step_done(st);
}

static bw_result set_profiles(struct sq_store *q, const char *iid, const char *uid, char **ids,
                              size_t n)
{
	sqlite3_stmt *st =
	    bw_sq__stmt(q, "DELETE FROM user_profiles WHERE instance_id=? AND user_id=?");
	if (!st)
		return BW_ERR;
	sqlite3_bind_text(st, 1, iid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, uid, -1, SQLITE_STATIC);
	if (bw_sq__step_done(st) != BW_OK)
		return BW_ERR;
	for (size_t i = 0; i < n; i++) {
		/* The profile must belong to the same instance. */
		st = bw_sq__stmt(
		    q, "INSERT OR IGNORE INTO user_profiles(instance_id,user_id,profile_id) "
		       "SELECT ?,?,id FROM security_profiles WHERE instance_id=? AND id=?");
		if (!st)
			return BW_ERR;
		sqlite3_bind_text(st, 1, iid, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, uid, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, iid, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, ids[i], -1, SQLITE_STATIC);
		if (bw_sq__step_done(st) != BW_OK)
			return BW_ERR;
		if (sqlite3_changes(q->db) == 0)
			return BW_NOTFOUND;
	}
	return BW_OK;
}

static void bind_user(sqlite3_stmt *st, const struct bw_user *u)
{
	sqlite3_bind_text(st, 1, u->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, u->instance_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, u->username, -1, SQLITE_STATIC);
	bw_sq__bind_opt(st, 4, u->password_hash);
	sqlite3_bind_text(st, 5, u->first_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, u->last_name, -1, SQLITE_STATIC);
	bw_sq__bind_opt(st, 7, u->email);
	bw_sq__bind_opt(st, 8, u->routing_profile_id);
	bw_sq__bind_opt(st, 9, u->hierarchy_group);
	sqlite3_bind_text(st, 10, u->status[0] ? u->status : "Offline", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 11, u->disabled);
	if (u->mfa_secret)
		sqlite3_bind_blob(st, 12, u->mfa_secret, (int)u->mfa_secret_len, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 12);
	sqlite3_bind_int(st, 13, u->mfa_enabled);
	sqlite3_bind_int64(st, 14, u->mfa_last_step);
	sqlite3_bind_int64(st, 15, u->created_at);
	sqlite3_bind_int64(st, 16, u->updated_at);
	if (u->pii) /* keys (0008): names and e-mail, sealed by store.c */
		sqlite3_bind_blob(st, 17, u->pii, (int)u->pii_len, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 17);
}

static bw_result user_insert(struct sq_store *q, const struct bw_user *u)
{
	sqlite3_stmt *st = bw_sq__stmt(
	    q, "INSERT INTO users(id,instance_id,username,password_hash,first_name,last_name,email,"
	       "routing_profile_id,hierarchy_group,status,disabled,mfa_secret,mfa_enabled,"
	       "mfa_last_step,created_at,updated_at,pii) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
	if (!st)
		return BW_ERR;
	bind_user(st, u);
	return bw_sq__step_done(st);
}

bw_result bw_sq__instance_create(struct bw_store *s, const struct bw_instance *in,
                                 const struct bw_profile *profiles, size_t nprof,
                                 const struct bw_user *admin, const char *admin_profile_id)
{
	struct sq_store *q = SQ(s);
	if (bw_sq__begin(q) != BW_OK)
		return BW_ERR;
	bw_result r = BW_ERR;
	sqlite3_stmt *st =
	    bw_sq__stmt(q, "INSERT INTO instances(" INSTANCE_COLS ") VALUES(?,?,?,?,?,?)");
	if (!st)
		goto out;
	sqlite3_bind_text(st, 1, in->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, in->alias, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, in->default_region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, in->settings ? in->settings : "{}", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, in->created_at);
	sqlite3_bind_int64(st, 6, in->updated_at);
	if ((r = bw_sq__step_done(st)) != BW_OK)
		goto out;
	for (size_t i = 0; i < nprof; i++)
		if ((r = profile_insert(q, &profiles[i])) != BW_OK)
			goto out;
	if ((r = user_insert(q, admin)) != BW_OK)
		goto out;
	char *ids[1] = {(char *)admin_profile_id};
	r = set_profiles(q, in->id, admin->id, ids, 1);
out:
	return bw_sq__end(q, r);
}

bw_result bw_sq__instance_get(struct bw_store *s, const char *id, struct bw_instance *out)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "SELECT " INSTANCE_COLS " FROM instances WHERE id=?");
	if (!st)
		return BW_ERR;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		instance_row(st, out);
		return BW_OK;
	}
	return rc == SQLITE_DONE ? BW_NOTFOUND : BW_ERR;
}

bw_result bw_sq__instance_list(struct bw_store *s, const char *after, struct bw_instance *out,
                               size_t max, size_t *n)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "SELECT " INSTANCE_COLS
	                                      " FROM instances WHERE id > ? ORDER BY id LIMIT ?");
	*n = 0;
	if (!st)
		return BW_ERR;
	sqlite3_bind_text(st, 1, after ? after : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	int rc;
	while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
		instance_row(st, &out[(*n)++]);
	return BW_OK;
}

bw_result bw_sq__instance_update(struct bw_store *s, const struct bw_instance *in)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "UPDATE instances SET alias=?,default_region=?,"
	                                      "settings=?,updated_at=? WHERE id=?");
	if (!st)
		return BW_ERR;
	sqlite3_bind_text(st, 1, in->alias, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, in->default_region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, in->settings ? in->settings : "{}", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, in->updated_at);
	sqlite3_bind_text(st, 5, in->id, -1, SQLITE_STATIC);
	return bw_sq__step_changed(SQ(s), st);
}

bw_result bw_sq__instance_delete(struct bw_store *s, const char *id)
{
	struct sq_store *q = SQ(s);
	if (bw_sq__begin(q) != BW_OK)
		return BW_ERR;
	bw_result r = BW_ERR;
	/* user_profiles references profiles without a cascade: clear it first. */
	sqlite3_stmt *st = bw_sq__stmt(q, "DELETE FROM user_profiles WHERE instance_id=?");
	if (!st)
		goto out;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if ((r = bw_sq__step_done(st)) != BW_OK)
		goto out;
	st = bw_sq__stmt(q, "DELETE FROM instances WHERE id=?");
	if (!st) {
		r = BW_ERR;
		goto out;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	r = bw_sq__step_changed(q, st);
out:
	return bw_sq__end(q, r);
}

/* ---- security profiles ---- */

#define PROFILE_COLS "id,instance_id,name,description,permissions,created_at,updated_at"

static void profile_row(sqlite3_stmt *st, void *row_)
{
	struct bw_profile *p = row_;
	bw_sq__text(p->id, sizeof(p->id), st, 0);
	bw_sq__text(p->instance_id, sizeof(p->instance_id), st, 1);
	bw_sq__text(p->name, sizeof(p->name), st, 2);
	bw_sq__text(p->description, sizeof(p->description), st, 3);
	p->permissions = bw_sq__dup(st, 4);
	p->created_at = sqlite3_column_int64(st, 5);
	p->updated_at = sqlite3_column_int64(st, 6);
}

bw_result bw_sq__profile_insert(struct bw_store *s, const struct bw_profile *p)
{
	return profile_insert(SQ(s), p);
}

bw_result bw_sq__profile_get(struct bw_store *s, const char *iid, const char *id,
                             struct bw_profile *out)
{
	return bw_sq__one(
	    SQ(s), "SELECT " PROFILE_COLS " FROM security_profiles WHERE instance_id=? AND id=?",
	    iid, id, profile_row, out);
}

bw_result bw_sq__profile_list(struct bw_store *s, const char *iid, const char *after,
                              struct bw_profile *out, size_t max, size_t *n)
{
	return bw_sq__page(SQ(s),
	                   "SELECT " PROFILE_COLS " FROM security_profiles "
	                   "WHERE instance_id=? AND id > ? ORDER BY id LIMIT ?",
	                   iid, after, max, profile_row, out, sizeof(*out), n);
}

bw_result bw_sq__profile_update(struct bw_store *s, const struct bw_profile *p)
{
	sqlite3_stmt *st =
	    bw_sq__stmt(SQ(s), "UPDATE security_profiles SET name=?,description=?,"
	                       "permissions=?,updated_at=? WHERE instance_id=? AND id=?");
	if (!st)
		return BW_ERR;
	sqlite3_bind_text(st, 1, p->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, p->description, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, p->permissions ? p->permissions : "[]", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, p->updated_at);
	sqlite3_bind_text(st, 5, p->instance_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, p->id, -1, SQLITE_STATIC);
	return bw_sq__step_changed(SQ(s), st);
}

bw_result bw_sq__profile_delete(struct bw_store *s, const char *iid, const char *id)
{
	struct sq_store *q = SQ(s);
	if (bw_sq__begin(q) != BW_OK)
		return BW_ERR;
	bw_result r = BW_ERR;
	sqlite3_stmt *st = bw_sq__stmt(q, "SELECT count(*) FROM user_profiles WHERE instance_id=? "
	                                  "AND profile_id=?");
	if (!st)
		goto out;
	sqlite3_bind_text(st, 1, iid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		goto out;
	if (sqlite3_column_int(st, 0) > 0) {
		r = BW_CONFLICT;
		goto out;
	}
	st = bw_sq__stmt(q, "DELETE FROM security_profiles WHERE instance_id=? AND id=?");
	if (!st)
		goto out;
	sqlite3_bind_text(st, 1, iid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	r = bw_sq__step_changed(q, st);
out:
	return bw_sq__end(q, r);
}

/* ---- users ---- */

#define USER_COLS                                                                                  \
	"id,instance_id,username,password_hash,first_name,last_name,email,routing_profile_id,"     \
	"hierarchy_group,status,disabled,mfa_secret,mfa_enabled,mfa_last_step,created_at,updated_" \
	"at,pii"

static void user_row(sqlite3_stmt *st, void *row_)
{
	struct bw_user *u = row_;
	memset(u, 0, sizeof(*u));
	bw_sq__text(u->id, sizeof(u->id), st, 0);
	bw_sq__text(u->instance_id, sizeof(u->instance_id), st, 1);
	bw_sq__text(u->username, sizeof(u->username), st, 2);
	u->password_hash = bw_sq__dup(st, 3);
	bw_sq__text(u->first_name, sizeof(u->first_name), st, 4);
	bw_sq__text(u->last_name, sizeof(u->last_name), st, 5);
	bw_sq__text(u->email, sizeof(u->email), st, 6);
	bw_sq__text(u->routing_profile_id, sizeof(u->routing_profile_id), st, 7);
	bw_sq__text(u->hierarchy_group, sizeof(u->hierarchy_group), st, 8);
	bw_sq__text(u->status, sizeof(u->status), st, 9);
	u->disabled = sqlite3_column_int(st, 10) != 0;
	int blen = sqlite3_column_bytes(st, 11);
	const void *blob = sqlite3_column_blob(st, 11);
	if (blob && blen > 0) {
		u->mfa_secret = malloc((size_t)blen);
		if (u->mfa_secret) {
			memcpy(u->mfa_secret, blob, (size_t)blen);
			u->mfa_secret_len = (size_t)blen;
		}
	}
	u->mfa_enabled = sqlite3_column_int(st, 12) != 0;
	u->mfa_last_step = sqlite3_column_int64(st, 13);
	u->created_at = sqlite3_column_int64(st, 14);
	u->updated_at = sqlite3_column_int64(st, 15);
	blen = sqlite3_column_bytes(st, 16);
	blob = sqlite3_column_blob(st, 16);
	if (blob && blen > 0) {
		u->pii = malloc((size_t)blen);
		u->pii_error = !u->pii;
		if (u->pii) {
			memcpy(u->pii, blob, (size_t)blen);
			u->pii_len = (size_t)blen;
		}
	}
}

bw_result bw_sq__user_insert(struct bw_store *s, const struct bw_user *u, char **ids, size_t n)
{
	struct sq_store *q = SQ(s);
	if (bw_sq__begin(q) != BW_OK)
		return BW_ERR;
	bw_result r = user_insert(q, u);
	if (r == BW_OK)
		r = set_profiles(q, u->instance_id, u->id, ids, n);
	return bw_sq__end(q, r);
}

static bw_result user_one(struct sq_store *q, const char *sql, const char *iid, const char *key,
                          struct bw_user *out)
{
	sqlite3_stmt *st = bw_sq__stmt(q, sql);
	if (!st)
		return BW_ERR;
	sqlite3_bind_text(st, 1, iid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		user_row(st, out);
		return BW_OK;
	}
	return rc == SQLITE_DONE ? BW_NOTFOUND : BW_ERR;
}

bw_result bw_sq__user_get(struct bw_store *s, const char *iid, const char *id, struct bw_user *out)
{
	return user_one(SQ(s), "SELECT " USER_COLS " FROM users WHERE instance_id=? AND id=?", iid,
	                id, out);
}

bw_result bw_sq__user_by_name(struct bw_store *s, const char *iid, const char *username,
                              struct bw_user *out)
{
	return user_one(SQ(s), "SELECT " USER_COLS " FROM users WHERE instance_id=? AND username=?",
	                iid, username, out);
}

bw_result bw_sq__user_list(struct bw_store *s, const char *iid, const char *after,
                           struct bw_user *out, size_t max, size_t *n)
{
	return bw_sq__page(SQ(s),
	                   "SELECT " USER_COLS " FROM users WHERE instance_id=? "
	                   "AND id > ? ORDER BY id LIMIT ?",
	                   iid, after, max, user_row, out, sizeof(*out), n);
}

bw_result bw_sq__user_update(struct bw_store *s, const struct bw_user *u, char **ids, size_t n)
{
	struct sq_store *q = SQ(s);
	if (bw_sq__begin(q) != BW_OK)
		return BW_ERR;
	bw_result r = BW_ERR;
	sqlite3_stmt *st = bw_sq__stmt(
	    q, "UPDATE users SET id=?1,instance_id=?2,username=?3,password_hash=?4,first_name=?5,"
	       "last_name=?6,email=?7,routing_profile_id=?8,hierarchy_group=?9,status=?10,"
	       "disabled=?11,mfa_secret=?12,mfa_enabled=?13,"
	       /* no seed (an MFA reset): the old seed's spent steps go with it */
	       "mfa_last_step=CASE WHEN ?12 IS NULL THEN 0 ELSE max(mfa_last_step,?14) END,"
	       "created_at=?15,updated_at=?16,pii=?17 WHERE instance_id=?2 AND id=?1");
	if (!st)
		goto out;
	bind_user(st, u);
	if ((r = bw_sq__step_done(st)) != BW_OK)
		goto out;
	if (sqlite3_changes(q->db) == 0) {
		r = BW_NOTFOUND;
		goto out;
	}
	if (ids)
		r = set_profiles(q, u->instance_id, u->id, ids, n);
out:
	return bw_sq__end(q, r);
}

bw_result bw_sq__user_delete(struct bw_store *s, const char *iid, const char *id)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "DELETE FROM users WHERE instance_id=? AND id=?");
	if (!st)
		return BW_ERR;
	sqlite3_bind_text(st, 1, iid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	return bw_sq__step_changed(SQ(s), st);
}

bw_result bw_sq__user_profiles(struct bw_store *s, const char *iid, const char *uid,
                               struct bw_profile *out, size_t max, size_t *n)
{
	sqlite3_stmt *st = bw_sq__stmt(
	    SQ(s),
	    "SELECT p.id,p.instance_id,p.name,p.description,p.permissions,p.created_at,"
	    "p.updated_at FROM user_profiles up JOIN security_profiles p ON p.id=up.profile_id "
	    "WHERE up.instance_id=? AND up.user_id=? AND p.instance_id=up.instance_id "
	    "ORDER BY p.id LIMIT ?");
	*n = 0;
	if (!st)
		return BW_ERR;
	sqlite3_bind_text(st, 1, iid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, uid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
	while (*n < max && sqlite3_step(st) == SQLITE_ROW)
		profile_row(st, &out[(*n)++]);
	return BW_OK;
}

bw_result bw_sq__user_mfa_step(struct bw_store *s, const char *iid, const char *uid, long long step)
{
	sqlite3_stmt *st =
	    bw_sq__stmt(SQ(s), "UPDATE users SET mfa_last_step=? WHERE instance_id=? "
	                       "AND id=? AND mfa_last_step < ?");
	if (!st)
		return BW_ERR;
	sqlite3_bind_int64(st, 1, step);
	sqlite3_bind_text(st, 2, iid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, uid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, step);
	bw_result r = bw_sq__step_done(st);
	if (r == BW_OK && sqlite3_changes(SQ(s)->db) == 0)
		r = BW_CONFLICT; /* this step (or a later one) was used already */
	return r;
}

bw_result bw_sq__recovery_codes_set(struct bw_store *s, const char *iid, const char *uid,
                                    const uint8_t (*hashes)[32], size_t n)
{
	struct sq_store *q = SQ(s);
	if (bw_sq__begin(q) != BW_OK)
		return BW_ERR;
	bw_result r = BW_ERR;
	sqlite3_stmt *st =
	    bw_sq__stmt(q, "DELETE FROM recovery_codes WHERE instance_id=? AND user_id=?");
	if (!st)
		goto out;
	sqlite3_bind_text(st, 1, iid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, uid, -1, SQLITE_STATIC);
	if ((r = bw_sq__step_done(st)) != BW_OK)
		goto out;
	for (size_t i = 0; i < n; i++) {
		st = bw_sq__stmt(
		    q, "INSERT INTO recovery_codes(instance_id,user_id,code_hash) VALUES(?,?,?)");
		if (!st) {
			r = BW_ERR;
			goto out;
		}
		sqlite3_bind_text(st, 1, iid, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, uid, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 3, hashes[i], 32, SQLITE_STATIC);
		if ((r = bw_sq__step_done(st)) != BW_OK)
			goto out;
	}
out:
	return bw_sq__end(q, r);
}

bw_result bw_sq__recovery_code_use(struct bw_store *s, const char *iid, const char *uid,
                                   const uint8_t hash[32], long long now)
{
	sqlite3_stmt *st =
	    bw_sq__stmt(SQ(s), "UPDATE recovery_codes SET used_at=? WHERE instance_id=? "
	                       "AND user_id=? AND code_hash=? AND used_at IS NULL");
	if (!st)
		return BW_ERR;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_text(st, 2, iid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, uid, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, hash, 32, SQLITE_STATIC);
	return bw_sq__step_changed(SQ(s), st);
}

/* ---- sessions ---- */

#define SESSION_COLS                                                                               \
	"id,instance_id,user_id,created_at,last_seen_at,expires_at,source_ip,user_agent,mfa_"      \
	"pending"

static void session_row(sqlite3_stmt *st, struct bw_session *se)
{
	bw_sq__text(se->id, sizeof(se->id), st, 0);
	bw_sq__text(se->instance_id, sizeof(se->instance_id), st, 1);
	bw_sq__text(se->user_id, sizeof(se->user_id), st, 2);
	se->created_at = sqlite3_column_int64(st, 3);
	se->last_seen_at = sqlite3_column_int64(st, 4);
	se->expires_at = sqlite3_column_int64(st, 5);
	bw_sq__text(se->source_ip, sizeof(se->source_ip), st, 6);
	bw_sq__text(se->user_agent, sizeof(se->user_agent), st, 7);
	se->mfa_pending = sqlite3_column_int(st, 8) != 0;
}

bw_result bw_sq__session_insert(struct bw_store *s, const struct bw_session *se,
                                const uint8_t hash[32])
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "INSERT INTO sessions(" SESSION_COLS
	                                      ",token_hash) VALUES(?,?,?,?,?,?,?,?,?,?)");
	if (!st)
		return BW_ERR;
	sqlite3_bind_text(st, 1, se->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, se->instance_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, se->user_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, se->created_at);
	sqlite3_bind_int64(st, 5, se->last_seen_at);
	sqlite3_bind_int64(st, 6, se->expires_at);
	sqlite3_bind_text(st, 7, se->source_ip, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, se->user_agent, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 9, se->mfa_pending);
	sqlite3_bind_blob(st, 10, hash, 32, SQLITE_STATIC);
	return bw_sq__step_done(st);
}

bw_result bw_sq__session_find(struct bw_store *s, const uint8_t hash[32], struct bw_session *out)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "SELECT " SESSION_COLS " FROM sessions WHERE "
	                                      "token_hash=? AND revoked_at IS NULL");
	if (!st)
		return BW_ERR;
	sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		session_row(st, out);
		return BW_OK;
	}
	return rc == SQLITE_DONE ? BW_NOTFOUND : BW_ERR;
}

bw_result bw_sq__session_touch(struct bw_store *s, const char *id, long long now)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "UPDATE sessions SET last_seen_at=? WHERE id=?");
	if (!st)
		return BW_ERR;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	return bw_sq__step_done(st);
}

bw_result bw_sq__session_revoke(struct bw_store *s, const char *iid, const char *uid,
                                const char *id, long long now)
{
	sqlite3_stmt *st =
	    bw_sq__stmt(SQ(s), "UPDATE sessions SET revoked_at=? WHERE instance_id=? "
	                       "AND user_id=? AND id=? AND revoked_at IS NULL");
	if (!st)
		return BW_ERR;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_text(st, 2, iid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, uid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, id, -1, SQLITE_STATIC);
	return bw_sq__step_changed(SQ(s), st);
}

bw_result bw_sq__session_mfa_done(struct bw_store *s, const char *iid, const char *id)
{
	sqlite3_stmt *st =
	    bw_sq__stmt(SQ(s), "UPDATE sessions SET mfa_pending=0 WHERE instance_id=? "
	                       "AND id=? AND revoked_at IS NULL");
	if (!st)
		return BW_ERR;
	sqlite3_bind_text(st, 1, iid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	return bw_sq__step_changed(SQ(s), st);
}

bw_result bw_sq__session_revoke_user(struct bw_store *s, const char *iid, const char *uid,
                                     long long now)
{
	sqlite3_stmt *st =
	    bw_sq__stmt(SQ(s), "UPDATE sessions SET revoked_at=? WHERE instance_id=? "
	                       "AND user_id=? AND revoked_at IS NULL");
	if (!st)
		return BW_ERR;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_text(st, 2, iid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, uid, -1, SQLITE_STATIC);
	return bw_sq__step_done(st);
}

bw_result bw_sq__session_list(struct bw_store *s, const char *iid, const char *uid, long long now,
                              long long seen_after, const char *after, struct bw_session *out,
                              size_t max, size_t *n)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "SELECT " SESSION_COLS " FROM sessions WHERE "
	                                      "instance_id=? AND user_id=? AND revoked_at IS NULL "
	                                      "AND expires_at > ? AND last_seen_at >= ? AND id > ? "
	                                      "ORDER BY id LIMIT ?");
	*n = 0;
	if (!st)
		return BW_ERR;
	sqlite3_bind_text(st, 1, iid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, uid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, seen_after);
	sqlite3_bind_text(st, 5, after ? after : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)max);
	while (*n < max && sqlite3_step(st) == SQLITE_ROW)
		session_row(st, &out[(*n)++]);
	return BW_OK;
}

/* ---- login failures ---- */

bw_result bw_sq__failures_get(struct bw_store *s, const char *key, struct bw_failures *out)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "SELECT failures,locked_until,updated_at FROM "
	                                      "login_failures WHERE key=?");
	memset(out, 0, sizeof(*out));
	if (!st)
		return BW_ERR;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->failures = sqlite3_column_int64(st, 0);
		out->locked_until = sqlite3_column_int64(st, 1);
		out->updated_at = sqlite3_column_int64(st, 2);
		return BW_OK;
	}
	return rc == SQLITE_DONE ? BW_NOTFOUND : BW_ERR;
}

bw_result bw_sq__failures_put(struct bw_store *s, const char *key, const struct bw_failures *f)
{
	sqlite3_stmt *st =
	    bw_sq__stmt(SQ(s), "INSERT INTO login_failures(key,failures,locked_until,"
	                       "updated_at) VALUES(?,?,?,?) ON CONFLICT(key) DO UPDATE "
	                       "SET failures=excluded.failures,"
	                       "locked_until=excluded.locked_until,"
	                       "updated_at=excluded.updated_at");
	if (!st)
		return BW_ERR;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, f->failures);
	sqlite3_bind_int64(st, 3, f->locked_until);
	sqlite3_bind_int64(st, 4, f->updated_at);
	return bw_sq__step_done(st);
}

bw_result bw_sq__failures_clear(struct bw_store *s, const char *key)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "DELETE FROM login_failures WHERE key=?");
	if (!st)
		return BW_ERR;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	return bw_sq__step_done(st);
}
