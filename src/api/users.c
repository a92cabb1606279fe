/* Users (C3, C4). Assigning profiles needs Users.EditPermission and may not
 * grant more than the caller holds; nobody edits, resets, disables or
 * deletes a user whose permissions are not a subset of their own. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/ids.h"
#include "sec/auth.h"
#include "sec/authz.h"
#include "sec/isettings.h"
#include "sec/password.h"
#include "store/store.h"
#include "api/users_int.h"

#define MAX_PROFILES 20

json_t *bw_api_user_json(struct bw_store *s, const struct bw_user *u)
{
	char c[32], up[32];
	bw_time_rfc3339(u->created_at, c, sizeof(c));
	bw_time_rfc3339(u->updated_at, up, sizeof(up));
	json_t *ids = json_array();
	struct bw_profile p[32];
	size_t n = 0;
	if (bw_store_user_profiles(s, u->instance_id, u->id, p, 32, &n) == BW_OK)
		for (size_t i = 0; i < n; i++) {
			json_array_append_new(ids, json_string(p[i].id));
			bw_profile_clear(&p[i]);
		}
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:o, s:s?, s:s?, s:s, s:b, s:b, s:s, s:s}",
	                 "id", u->id, "username", u->username, "first_name", u->first_name,
	                 "last_name", u->last_name, "email", u->email[0] ? u->email : NULL,
	                 "security_profile_ids", ids, "routing_profile_id",
	                 u->routing_profile_id[0] ? u->routing_profile_id : NULL, "hierarchy_group",
	                 u->hierarchy_group[0] ? u->hierarchy_group : NULL, "status", u->status,
	                 "disabled", u->disabled, "mfa_enabled", u->mfa_enabled, "created_at", c,
	                 "updated_at", up);
	if (o && u->pii_error) /* keys (C14): the sealed names did not open */
		json_object_set_new(o, "pii_error", json_string("Undecryptable"));
	return o;
}

/* Decodes security_profile_ids: rights, existence, no escalation. */
static int decode_profiles(struct bw_ctx *c, char **ids, size_t *n, bool *present)
{
	json_t *v = json_object_get(c->in, "security_profile_ids");
	*n = 0;
	*present = v != NULL;
	if (!v)
		return 0;
	if (!json_is_array(v) || json_array_size(v) > MAX_PROFILES) {
		bw_reply_error(c, 400, "InvalidParameter", "an array of at most 20 profile ids",
		               "security_profile_ids");
		return -1;
	}
	if (!bw_perms_grant(c->who.perms, "Users.EditPermission")) {
		bw_reply_error(c, 403, "AccessDenied", "assigning profiles needs Users.EditPermission",
		               "security_profile_ids");
		return -1;
	}
	bw_perms all = 0;
	size_t i;
	json_t *e;
	json_array_foreach(v, i, e)
	{
		struct bw_profile p = {0};
		const char *id = json_string_value(e);
		if (!id || !bw_api_id_ok(id) ||
		    bw_store_profile_get(c->store, c->who.instance_id, id, &p) != BW_OK) {
			bw_reply_error(c, 400, "InvalidParameter", "no such security profile",
			               "security_profile_ids");
			return -1;
		}
		all |= bw_perms_from_text(p.permissions);
		bw_profile_clear(&p);
		ids[(*n)++] = (char *)id;
	}
	if (!bw_perms_subset(all, c->who.perms)) {
		bw_reply_error(c, 403, "AccessDenied", "you cannot grant a permission you do not hold",
		               "security_profile_ids");
		return -1;
	}
	return 0;
}

static int min_length(struct bw_ctx *c)
{
	struct bw_instance in = {0};
	struct bw_isettings st;
	if (bw_store_instance_get(c->store, c->who.instance_id, &in) != BW_OK)
		return 12;
	bw_isettings_parse(in.settings, &st);
	bw_instance_clear(&in);
	return st.min_length;
}

/* Hashes a new password after the policy; replies and returns -1 on refusal. */
static int new_password(struct bw_ctx *c, const char *pw, const char *username,
                        char hash[crypto_pwhash_STRBYTES])
{
	const char *why = bw_password_policy_check(pw, username, min_length(c));
	if (why) {
		bw_reply_error(c, 400, "InvalidParameter", why, "password");
		return -1;
	}
	bw_result r = bw_password_hash(pw, hash);
	if (r != BW_OK) {
		bw_reply_result(c, r, "try again", NULL);
		return -1;
	}
	return 0;
}

static const char *const user_fields[] = {"username", "password", "first_name", "last_name",
                                          "email", "security_profile_ids", "routing_profile_id",
                                          "hierarchy_group", "disabled", NULL};

static int decode_common(struct bw_ctx *c, struct bw_user *u, bool create)
{
	const char *first, *last, *email, *rp, *hg;
	if (bw_api_only(c, user_fields) || bw_api_str(c, "first_name", 0, 128, false, &first) ||
	    bw_api_str(c, "last_name", 0, 128, false, &last) ||
	    bw_api_str(c, "email", 3, 254, false, &email) ||
	    bw_api_str(c, "routing_profile_id", 1, 47, false, &rp) ||
	    bw_api_str(c, "hierarchy_group", 1, 128, false, &hg))
		return -1;
	if (email && !strchr(email, '@')) {
		bw_reply_error(c, 400, "InvalidParameter", "not an e-mail address", "email");
		return -1;
	}
	json_t *dis = json_object_get(c->in, "disabled");
	if (dis && !json_is_boolean(dis)) {
		bw_reply_error(c, 400, "InvalidParameter", "must be true or false", "disabled");
		return -1;
	}
	if (create && json_object_get(c->in, "disabled") && json_is_true(dis))
		u->disabled = true;
	else if (dis)
		u->disabled = json_is_true(dis);
	if (first)
		snprintf(u->first_name, sizeof(u->first_name), "%s", first);
	if (last)
		snprintf(u->last_name, sizeof(u->last_name), "%s", last);
	if (email)
		snprintf(u->email, sizeof(u->email), "%s", email);
	if (rp) { /* routing: a routing profile of the caller's instance */
		struct bw_routing_profile p = {0};
		bw_result r = bw_api_id_ok(rp) ? bw_store_rp_get(c->store, c->who.instance_id, rp, &p)
		                               : BW_NOTFOUND;
		bw_routing_profile_clear(&p);
		if (r != BW_OK) {
			if (r == BW_NOTFOUND)
				bw_reply_error(c, 400, "InvalidParameter", "no such routing profile",
				               "routing_profile_id");
			else
				bw_reply_result(c, r, NULL, NULL);
			return -1;
		}
		snprintf(u->routing_profile_id, sizeof(u->routing_profile_id), "%s", rp);
	} else if (json_is_null(json_object_get(c->in, "routing_profile_id"))) {
		u->routing_profile_id[0] = '\0'; /* null: no routing profile */
	}
	if (hg)
		snprintf(u->hierarchy_group, sizeof(u->hierarchy_group), "%s", hg);
	return 0;
}

void bw_api_users_create(struct bw_ctx *c)
{
	const char *username, *password;
	char *ids[MAX_PROFILES];
	size_t nids = 0;
	bool present;
	struct bw_user u = {0};
	char hash[crypto_pwhash_STRBYTES];
	if (bw_api_str(c, "username", 1, 128, true, &username) ||
	    bw_api_str(c, "password", 1, 1024, false, &password) || decode_common(c, &u, true) ||
	    decode_profiles(c, ids, &nids, &present))
		return;
	if (!bw_api_name_ok(username)) {
		bw_reply_error(c, 400, "InvalidParameter", "username may hold letters, digits and ._@+-",
		               "username");
		return;
	}
	if (password && new_password(c, password, username, hash) != 0)
		return;
	bw_id_new(u.id, "us_");
	snprintf(u.instance_id, sizeof(u.instance_id), "%s", c->who.instance_id);
	snprintf(u.username, sizeof(u.username), "%s", username);
	snprintf(u.status, sizeof(u.status), "Offline");
	u.password_hash = password ? hash : NULL;
	u.created_at = u.updated_at = bw_now_unix();
	bw_result r = bw_store_user_insert(c->store, &u, ids, nids);
	sodium_memzero(hash, sizeof(hash));
	u.password_hash = NULL;
	if (r == BW_OK)
		bw_reply_json(c, 201, bw_api_user_json(c->store, &u));
	else
		bw_reply_result(c, r, r == BW_CONFLICT ? "a user with this username exists" : NULL,
		                r == BW_CONFLICT ? "username" : NULL);
}

static bw_result us_fetch(struct bw_ctx *c, const char *after, void *out, size_t max, size_t *n)
{
	return bw_store_user_list(c->store, c->who.instance_id, after, out, max, n);
}

static json_t *us_encode(struct bw_ctx *c, const void *item)
{
	return bw_api_user_json(c->store, item);
}

static void us_clear(void *item)
{
	bw_user_clear(item);
}

static const char *us_id(const void *item)
{
	return ((const struct bw_user *)item)->id;
}

void bw_api_users_list(struct bw_ctx *c)
{
	static const struct bw_api_lister l = {sizeof(struct bw_user), us_fetch, us_encode, us_clear,
	                                       us_id};
	bw_api_list(c, &l);
}

int bw_api_user_load(struct bw_ctx *c, struct bw_user *u)
{
	memset(u, 0, sizeof(*u));
	bw_result r = bw_store_user_get(c->store, c->who.instance_id, c->req->params[1], u);
	if (r != BW_OK) {
		bw_reply_result(c, r, "no such user", NULL);
		return -1;
	}
	return 0;
}

int bw_api_user_may_manage(struct bw_ctx *c, const struct bw_user *u)
{
	uint64_t target = 0;
	if (bw_auth_user_perms(c->store, u->instance_id, u->id, &target) != BW_OK) {
		bw_reply_result(c, BW_ERR, NULL, NULL);
		return -1;
	}
	if (!bw_perms_subset(target, c->who.perms)) {
		bw_reply_error(c, 403, "AccessDenied",
		               "this user holds permissions you do not hold", NULL);
		return -1;
	}
	return 0;
}

void bw_api_users_get(struct bw_ctx *c)
{
	struct bw_user u;
	if (bw_api_user_load(c, &u) != 0)
		return;
	bw_reply_json(c, 200, bw_api_user_json(c->store, &u));
	bw_user_clear(&u);
}

void bw_api_users_update(struct bw_ctx *c)
{
	const char *password;
	char *ids[MAX_PROFILES];
	size_t nids = 0;
	bool present;
	struct bw_user u;
	char hash[crypto_pwhash_STRBYTES];
	if (json_object_get(c->in, "username")) {
		bw_reply_error(c, 400, "InvalidParameter", "a username cannot change", "username");
		return;
	}
	if (bw_api_user_load(c, &u) != 0)
		return;
	bool was_disabled = u.disabled;
	if (bw_api_user_may_manage(c, &u) || bw_api_str(c, "password", 1, 1024, false, &password) ||
	    decode_common(c, &u, false) || decode_profiles(c, ids, &nids, &present))
		goto out;
	if (u.disabled && !was_disabled && !strcmp(u.id, c->who.id)) {
		bw_reply_error(c, 409, "Conflict", "you cannot disable yourself", "disabled");
		goto out;
	}
	if (password) {
		if (new_password(c, password, u.username, hash) != 0)
			goto out;
		free(u.password_hash);
		u.password_hash = strdup(hash);
		sodium_memzero(hash, sizeof(hash));
	}
	u.updated_at = bw_now_unix();
	bw_result r = bw_store_user_update(c->store, &u, present ? ids : NULL, nids);
	if (r != BW_OK) {
		bw_reply_result(c, r, "no such user", NULL);
		goto out;
	}
	/* A new password or a disabled account ends every session. */
	if (password || (u.disabled && !was_disabled))
		bw_ignore(bw_store_session_revoke_user(c->store, u.instance_id, u.id, u.updated_at));
	bw_reply_json(c, 200, bw_api_user_json(c->store, &u));
out:
	bw_user_clear(&u);
}

void bw_api_users_delete(struct bw_ctx *c)
{
	struct bw_user u;
	if (bw_api_user_load(c, &u) != 0)
		return;
	if (bw_api_user_may_manage(c, &u) != 0)
		goto out;
	if (!strcmp(u.id, c->who.id)) {
		bw_reply_error(c, 409, "Conflict", "you cannot delete yourself", NULL);
		goto out;
	}
	bw_result r = bw_store_user_delete(c->store, u.instance_id, u.id);
	if (r != BW_OK) {
		bw_reply_result(c, r, "no such user", NULL);
		goto out;
	}
	bw_reply_empty(c, 204);
out:
	bw_user_clear(&u);
}
