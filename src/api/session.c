/* Login, logout, the caller's own user and sessions (C4, C6). */
#include <ctype.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/users_int.h"
#include "core/ids.h"
#include "sec/authz.h"
#include "sec/isettings.h"
#include "sec/mfa.h"
#include "sec/password.h"
#include "sec/throttle.h"
#include "sec/token.h"
#include "store/store.h"

#define FAILURE_WINDOW_S 3600

static long long lock_for(const struct bw_isettings *st, long long failures, long long threshold)
{
	if (failures < threshold)
		return 0;
	long long shift = failures - threshold;
	if (shift > 30)
		shift = 30;
	long long t = st->base_lockout_s << shift;
	return t > st->max_lockout_s ? st->max_lockout_s : t;
}

/* Failure counts are read, raised and written back under one lock, so
 * that two attempts failing at once both count. */
static pthread_mutex_t failures_mu = PTHREAD_MUTEX_INITIALIZER;

static void record_failure(struct bw_ctx *c, const char *key, const struct bw_isettings *st,
                           long long threshold, long long now)
{
	struct bw_failures f;
	pthread_mutex_lock(&failures_mu);
	if (bw_store_failures_get(c->store, key, &f) != BW_OK || now - f.updated_at > FAILURE_WINDOW_S)
		memset(&f, 0, sizeof(f));
	f.failures++;
	f.updated_at = now;
	long long t = lock_for(st, f.failures, threshold);
	if (t)
		f.locked_until = now + t;
	bw_ignore(bw_store_failures_put(c->store, key, &f));
	pthread_mutex_unlock(&failures_mu);
}

/* Seconds the key stays locked, and how many attempts may run at once now:
 * what is left before the threshold, or one after an expired lock. */
static long long locked_for(struct bw_ctx *c, const char *key, long long threshold,
                            long long now, int *allowed)
{
	struct bw_failures f;
	*allowed = (int)threshold;
	if (bw_store_failures_get(c->store, key, &f) != BW_OK || now - f.updated_at > FAILURE_WINDOW_S)
		return 0;
	if (f.locked_until > now)
		return f.locked_until - now;
	*allowed = f.failures < threshold ? (int)(threshold - f.failures) : 1;
	return 0;
}

static void throttled(struct bw_ctx *c, long long secs)
{
	char ra[24];
	snprintf(ra, sizeof(ra), "%lld", secs);
	bw_reply_error(c, 429, "Throttled", "too many failed logins; try again later", NULL);
	bw_reply_header(c, "Retry-After", ra);
}

static void fail_login(struct bw_ctx *c, const char *ukey, const char *akey,
                       const struct bw_isettings *st, long long now, const char *code,
                       const char *msg)
{
	record_failure(c, ukey, st, st->max_failures, now);
	record_failure(c, akey, st, st->address_max_failures, now);
	bw_reply_error(c, 401, code, msg, NULL);
}

/* MFA at login: a TOTP code (once per step) or an unused recovery code. */
static bool second_factor(struct bw_ctx *c, const struct bw_user *u, const char *code,
                          long long now)
{
	if (!code)
		return false;
	if (bw_mfa_check_totp(c->store, u, code, now) == BW_OK)
		return true;
	return bw_mfa_use_recovery(c->store, u, code, now) == BW_OK;
}

static void issue_session(struct bw_ctx *c, const struct bw_user *u, const struct bw_isettings *st,
                          bool pending, long long now)
{
	char token[BW_TOKEN_LEN];
	uint8_t h[32];
	struct bw_session se = {0};
	bw_id_new(se.id, "se_");
	snprintf(se.instance_id, sizeof(se.instance_id), "%s", u->instance_id);
	snprintf(se.user_id, sizeof(se.user_id), "%s", u->id);
	se.created_at = se.last_seen_at = now;
	se.expires_at = now + st->max_age_s;
	snprintf(se.source_ip, sizeof(se.source_ip), "%s", c->req->peer);
	snprintf(se.user_agent, sizeof(se.user_agent), "%s",
	         c->req->user_agent ? c->req->user_agent : "");
	se.mfa_pending = pending;
	bw_token_new(BW_TOKEN_SESSION, token);
	bw_token_hash(token, strlen(token), h);
	bw_result r = bw_store_session_insert(c->store, &se, h);
	if (r != BW_OK) {
		sodium_memzero(token, sizeof(token));
		bw_reply_result(c, r, NULL, NULL);
		return;
	}
	char exp[32];
	bw_time_rfc3339(se.expires_at, exp, sizeof(exp));
	json_t *o = json_pack("{s:s, s:s, s:o}", "token", token, "expires_at", exp, "user",
	                      bw_api_user_json(c->store, u));
	if (pending)
		json_object_set_new(o, "mfa_enrollment_required", json_true());
	sodium_memzero(token, sizeof(token));
	bw_reply_json(c, 200, o);
}

static void attempt(struct bw_ctx *c, const struct bw_isettings *stp, const char *username,
                    const char *password, const char *code, const char *ukey, const char *akey,
                    long long now)
{
	struct bw_user u = {0};
	bw_result r = bw_store_user_by_name(c->store, c->req->params[0], username, &u);
	bool found = r == BW_OK && !u.disabled && u.password_hash;
	/* An unknown user costs one hash too: the same answer in the same time. */
	bool ok = bw_password_verify(found ? u.password_hash : NULL, password) && found;
	if (!ok) {
		fail_login(c, ukey, akey, stp, now, "Unauthenticated", "invalid username or password");
		goto out;
	}
	if (u.mfa_enabled && !second_factor(c, &u, code, now)) {
		fail_login(c, ukey, akey, stp, now, "MfaRequired",
		           code ? "the MFA code is not valid" : "an MFA code is required");
		goto out;
	}
	bw_ignore(bw_store_failures_clear(c->store, ukey));
	/* The audit record names the user who logged in. */
	c->who.kind = BW_P_USER;
	snprintf(c->who.id, sizeof(c->who.id), "%s", u.id);
	snprintf(c->who.name, sizeof(c->who.name), "%s", u.username);
	snprintf(c->who.instance_id, sizeof(c->who.instance_id), "%s", u.instance_id);
	issue_session(c, &u, stp, stp->mfa_required && !u.mfa_enabled, now);
out:
	bw_user_clear(&u);
}

void bw_api_login(struct bw_ctx *c)
{
	static const char *const fields[] = {"username", "password", "totp_code", NULL};
	const char *username, *password, *code;
	struct bw_instance in = {0};
	struct bw_isettings st;
	c->audit_action = "auth.login";
	if (bw_api_only(c, fields) || bw_api_str(c, "username", 1, 128, true, &username) ||
	    bw_api_str(c, "password", 1, 1024, true, &password) ||
	    bw_api_str(c, "totp_code", 1, 32, false, &code))
		return;
	snprintf(c->audit_name, sizeof(c->audit_name), "%s",
	         bw_api_name_ok(username) ? username : "(invalid username)");
	if (bw_api_instance(c, &in) != 0)
		return;
	snprintf(c->audit_instance, sizeof(c->audit_instance), "%s", in.id);
	bw_isettings_parse(in.settings, &st);
	bw_instance_clear(&in);
	if (!bw_isettings_ip_allowed(&st, c->req->peer_family, c->req->peer_addr)) {
		bw_reply_error(c, 403, "AccessDenied",
		               "your network address is not allowed for this instance", NULL);
		return;
	}
	long long now = bw_now_unix();
	char ukey[256], akey[160];
	char lname[136];
	size_t i;
	for (i = 0; username[i] && i + 1 < sizeof(lname); i++)
		lname[i] = (char)tolower((unsigned char)username[i]);
	lname[i] = '\0';
	snprintf(ukey, sizeof(ukey), "u:%s:%s", c->req->params[0], lname);
	snprintf(akey, sizeof(akey), "a:%s:%s", c->req->params[0], c->req->peer);
	int uallow, aallow;
	long long wait = locked_for(c, ukey, st.max_failures, now, &uallow);
	long long await = locked_for(c, akey, st.address_max_failures, now, &aallow);
	if (wait || await) {
		throttled(c, wait > await ? wait : await);
		return;
	}
	/* A burst of parallel attempts checks no more passwords than are left.
	 * The count is read again once admitted: an attempt that ended after
	 * the first read is in the stored failures by then (it records before
	 * it leaves), and one still running is among those in flight, so the
	 * two together never pass the threshold. */
	int un = bw_throttle_enter(ukey, uallow), an = un ? bw_throttle_enter(akey, aallow) : 0;
	if (un && an) {
		wait = locked_for(c, ukey, st.max_failures, now, &uallow);
		await = locked_for(c, akey, st.address_max_failures, now, &aallow);
	}
	if (!un || !an || wait || await || un > uallow || an > aallow) {
		if (an)
			bw_throttle_leave(akey);
		if (un)
			bw_throttle_leave(ukey);
		throttled(c, wait > await ? (wait ? wait : 1) : (await ? await : 1));
		return;
	}
	attempt(c, &st, username, password, code, ukey, akey, now);
	bw_throttle_leave(akey);
	bw_throttle_leave(ukey);
}

void bw_api_logout(struct bw_ctx *c)
{
	bw_result r = bw_store_session_revoke(c->store, c->who.instance_id, c->who.id,
	                                      c->who.session_id, bw_now_unix());
	if (r != BW_OK && r != BW_NOTFOUND) {
		bw_reply_result(c, r, NULL, NULL);
		return;
	}
	bw_reply_empty(c, 204);
}

void bw_api_me(struct bw_ctx *c)
{
	struct bw_user u = {0};
	bw_result r = bw_store_user_get(c->store, c->who.instance_id, c->who.id, &u);
	if (r != BW_OK) {
		bw_reply_result(c, r, "no such user", NULL);
		return;
	}
	json_t *o = bw_api_user_json(c->store, &u);
	json_object_set_new(o, "instance_id", json_string(u.instance_id));
	json_object_set_new(o, "permissions", bw_perms_to_json(c->who.perms));
	bw_user_clear(&u);
	bw_reply_json(c, 200, o);
}

void bw_api_me_status(struct bw_ctx *c)
{
	static const char *const fields[] = {"status", NULL};
	const char *status;
	if (bw_api_only(c, fields) || bw_api_str(c, "status", 1, 32, true, &status))
		return;
	for (const char *p = status; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != ' ' && *p != '_' && *p != '-') {
			bw_reply_error(c, 400, "InvalidParameter",
			               "a status holds letters, digits, spaces, _ and -", "status");
			return;
		}
	struct bw_user u = {0};
	bw_result r = bw_store_user_get(c->store, c->who.instance_id, c->who.id, &u);
	if (r == BW_OK) {
		snprintf(u.status, sizeof(u.status), "%s", status);
		u.updated_at = bw_now_unix();
		r = bw_store_user_update(c->store, &u, NULL, 0);
	}
	if (r == BW_OK)
		r = bw_api_agent_sync(c, &u);
	if (r == BW_OK)
		bw_reply_json(c, 200, bw_api_user_json(c->store, &u));
	else
		bw_reply_result(c, r, "no such user", NULL);
	bw_user_clear(&u);
}

static bw_result se_fetch(struct bw_ctx *c, const char *after, void *out, size_t max, size_t *n)
{
	struct bw_instance in = {0};
	struct bw_isettings st;
	bw_result r = bw_store_instance_get(c->store, c->who.instance_id, &in);
	if (r != BW_OK)
		return r;
	bw_isettings_parse(in.settings, &st);
	bw_instance_clear(&in);
	long long now = bw_now_unix();
	/* Live means neither past its absolute expiry nor idle too long. */
	return bw_store_session_list(c->store, c->who.instance_id, c->who.id, now, now - st.idle_s,
	                             after, out, max, n);
}

static json_t *se_encode(struct bw_ctx *c, const void *item)
{
	const struct bw_session *s = item;
	char a[32], b[32], e[32];
	bw_time_rfc3339(s->created_at, a, sizeof(a));
	bw_time_rfc3339(s->last_seen_at, b, sizeof(b));
	bw_time_rfc3339(s->expires_at, e, sizeof(e));
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "id", s->id, "created_at", a,
	                 "last_seen_at", b, "expires_at", e, "source_ip", s->source_ip, "user_agent",
	                 s->user_agent, "current", !strcmp(s->id, c->who.session_id));
}

static const char *se_id(const void *item)
{
	return ((const struct bw_session *)item)->id;
}

void bw_api_me_sessions(struct bw_ctx *c)
{
	static const struct bw_api_lister l = {sizeof(struct bw_session), se_fetch, se_encode, NULL,
	                                       se_id};
	bw_api_list(c, &l);
}

void bw_api_me_session_revoke(struct bw_ctx *c)
{
	bw_result r = bw_store_session_revoke(c->store, c->who.instance_id, c->who.id,
	                                      c->req->params[0], bw_now_unix());
	if (r != BW_OK) {
		bw_reply_result(c, r, "no such session", NULL);
		return;
	}
	bw_reply_empty(c, 204);
}
