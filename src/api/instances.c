/* Instances (platform keys) and their security settings. */
#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/ids.h"
#include "core/log.h"
#include "integ/role.h"
#include "sec/authz.h"
#include "sec/isettings.h"
#include "sec/keyring.h"
#include "sec/password.h"
#include "store/store.h"

static json_t *instance_json(const struct bw_instance *in)
{
	char c[32], u[32];
	bw_time_rfc3339(in->created_at, c, sizeof(c));
	bw_time_rfc3339(in->updated_at, u, sizeof(u));
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", in->id, "alias", in->alias,
	                 "default_region", in->default_region, "created_at", c, "updated_at", u);
}

static bool alias_ok(const char *a)
{
	size_t n = strlen(a);
	if (n < 1 || n > 62 || a[0] == '-' || a[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)a[i]) || isdigit((unsigned char)a[i]) || a[i] == '-'))
			return false;
	return true;
}

static bool region_ok(const char *r)
{
	return strlen(r) == 2 && isupper((unsigned char)r[0]) && isupper((unsigned char)r[1]);
}

/* The four default profiles of API.md, for a new instance. */
static void default_profiles(const char *iid, long long now, struct bw_profile *p)
{
	for (size_t i = 0; i < bw_default_profiles_count; i++) {
		memset(&p[i], 0, sizeof(p[i]));
		bw_id_new(p[i].id, "sp_");
		snprintf(p[i].instance_id, sizeof(p[i].instance_id), "%s", iid);
		snprintf(p[i].name, sizeof(p[i].name), "%s", bw_default_profiles[i].name);
		snprintf(p[i].description, sizeof(p[i].description), "%s",
		         bw_default_profiles[i].description);
		p[i].permissions = bw_perms_to_text(bw_default_profiles[i].perms());
		p[i].created_at = p[i].updated_at = now;
	}
}

void bw_api_instances_create(struct bw_ctx *c)
{
	static const char *const fields[] = {"alias", "admin", "default_region", NULL};
	static const char *const afields[] = {"username", "password", "first_name", "last_name",
	                                      "email", NULL};
	const char *alias, *region, *username, *password, *first = NULL, *last = NULL, *email = NULL;
	if (bw_api_only(c, fields) != 0 || bw_api_str(c, "alias", 1, 62, true, &alias) != 0 ||
	    bw_api_str(c, "default_region", 2, 2, false, &region) != 0)
		return;
	if (!alias_ok(alias)) {
		bw_reply_error(c, 400, "InvalidParameter",
		               "alias is 1 to 62 lower-case letters, digits or dashes", "alias");
		return;
	}
	if (region && !region_ok(region)) {
		bw_reply_error(c, 400, "InvalidParameter", "an ISO 3166 alpha-2 code such as US",
		               "default_region");
		return;
	}
	json_t *admin = json_object_get(c->in, "admin");
	if (!json_is_object(admin)) {
		bw_reply_error(c, 400, "InvalidParameter", "admin must be an object", "admin");
		return;
	}
	if (bw_api_only_in(c, admin, "admin", afields) ||
	    bw_api_str_in(c, admin, "username", "admin.username", 1, 128, true, &username) ||
	    bw_api_str_in(c, admin, "password", "admin.password", 1, 1024, true, &password) ||
	    bw_api_str_in(c, admin, "first_name", "admin.first_name", 0, 128, false, &first) ||
	    bw_api_str_in(c, admin, "last_name", "admin.last_name", 0, 128, false, &last) ||
	    bw_api_str_in(c, admin, "email", "admin.email", 3, 254, false, &email))
		return;
	if (!bw_api_name_ok(username)) {
		bw_reply_error(c, 400, "InvalidParameter", "username may hold letters, digits and ._@+-",
		               "admin.username");
		return;
	}
	const char *why = bw_password_policy_check(password, username, 12);
	if (why) {
		bw_reply_error(c, 400, "InvalidParameter", why, "admin.password");
		return;
	}
	char hash[crypto_pwhash_STRBYTES];
	bw_result r = bw_password_hash(password, hash);
	if (r != BW_OK) {
		bw_reply_result(c, r, "try again", NULL);
		return;
	}
	long long now = bw_now_unix();
	struct bw_instance in = {0};
	bw_id_new(in.id, "in_");
	snprintf(in.alias, sizeof(in.alias), "%s", alias);
	snprintf(in.default_region, sizeof(in.default_region), "%s", region ? region : "US");
	json_t *settings = bw_isettings_default_json();
	in.settings = json_dumps(settings, JSON_COMPACT);
	json_decref(settings);
	in.created_at = in.updated_at = now;
	struct bw_profile profiles[8];
	default_profiles(in.id, now, profiles);
	struct bw_user u = {0};
	bw_id_new(u.id, "us_");
	snprintf(u.instance_id, sizeof(u.instance_id), "%s", in.id);
	snprintf(u.username, sizeof(u.username), "%s", username);
	snprintf(u.first_name, sizeof(u.first_name), "%s", first ? first : "");
	snprintf(u.last_name, sizeof(u.last_name), "%s", last ? last : "");
	snprintf(u.email, sizeof(u.email), "%s", email ? email : "");
	snprintf(u.status, sizeof(u.status), "Offline");
	u.password_hash = hash;
	u.created_at = u.updated_at = now;
	r = bw_store_instance_create(c->store, &in, profiles, bw_default_profiles_count, &u,
	                             profiles[0].id);
	sodium_memzero(hash, sizeof(hash));
	for (size_t i = 0; i < bw_default_profiles_count; i++)
		bw_profile_clear(&profiles[i]);
	/* keys (C14): sealing the admin's names made the id's KEK; without the
	 * instance it wraps nothing and goes */
	if (r != BW_OK)
		bw_ignore(bw_keyring_destroy(in.id));
	/* C7: every instance has a signing key from its creation (older ones
	 * get theirs on first use, which is also the fallback here). */
	if (r == BW_OK && bw_role_keys_ensure(c->store, in.id) != BW_OK)
		bw_log(BW_LOG_WARN, "no signing key made with the instance; made on first use",
		       "instance_id", in.id);
	if (r == BW_OK) {
		json_t *o = instance_json(&in);
		json_object_set_new(o, "admin_user_id", json_string(u.id));
		bw_reply_json(c, 201, o);
	} else {
		bw_reply_result(c, r, r == BW_CONFLICT ? "an instance with this alias exists" : NULL,
		                r == BW_CONFLICT ? "alias" : NULL);
	}
	free(in.settings);
}

static bw_result in_fetch(struct bw_ctx *c, const char *after, void *out, size_t max, size_t *n)
{
	return bw_store_instance_list(c->store, after, out, max, n);
}

static json_t *in_encode(struct bw_ctx *c, const void *item)
{
	(void)c;
	return instance_json(item);
}

static void in_clear(void *item)
{
	bw_instance_clear(item);
}

static const char *in_id(const void *item)
{
	return ((const struct bw_instance *)item)->id;
}

void bw_api_instances_list(struct bw_ctx *c)
{
	static const struct bw_api_lister l = {sizeof(struct bw_instance), in_fetch, in_encode,
	                                       in_clear, in_id};
	bw_api_list(c, &l);
}

/* Loads the {iid} of the path; replies 404 when it does not exist. */
int bw_api_instance(struct bw_ctx *c, struct bw_instance *in)
{
	memset(in, 0, sizeof(*in));
	bw_result r = bw_store_instance_get(c->store, c->req->params[0], in);
	if (r != BW_OK) {
		bw_reply_result(c, r, "no such instance", NULL);
		return -1;
	}
	return 0;
}

void bw_api_instances_get(struct bw_ctx *c)
{
	struct bw_instance in;
	if (bw_api_instance(c, &in) != 0)
		return;
	bw_reply_json(c, 200, instance_json(&in));
	bw_instance_clear(&in);
}

void bw_api_instances_update(struct bw_ctx *c)
{
	static const char *const fields[] = {"alias", "default_region", NULL};
	const char *alias, *region;
	struct bw_instance in;
	if (bw_api_only(c, fields) != 0 || bw_api_str(c, "alias", 1, 62, false, &alias) != 0 ||
	    bw_api_str(c, "default_region", 2, 2, false, &region) != 0)
		return;
	if (alias && !alias_ok(alias)) {
		bw_reply_error(c, 400, "InvalidParameter",
		               "alias is 1 to 62 lower-case letters, digits or dashes", "alias");
		return;
	}
	if (region && !region_ok(region)) {
		bw_reply_error(c, 400, "InvalidParameter", "an ISO 3166 alpha-2 code such as US",
		               "default_region");
		return;
	}
	if (bw_api_instance(c, &in) != 0)
		return;
	if (alias)
		snprintf(in.alias, sizeof(in.alias), "%s", alias);
	if (region)
		snprintf(in.default_region, sizeof(in.default_region), "%s", region);
	in.updated_at = bw_now_unix();
	bw_result r = bw_store_instance_update(c->store, &in);
	if (r == BW_OK)
		bw_reply_json(c, 200, instance_json(&in));
	else
		bw_reply_result(c, r, r == BW_CONFLICT ? "an instance with this alias exists" : "no such instance",
		                r == BW_CONFLICT ? "alias" : NULL);
	bw_instance_clear(&in);
}

void bw_api_instances_delete(struct bw_ctx *c)
{
	struct bw_instance in;
	if (bw_api_instance(c, &in) != 0)
		return;
	bw_instance_clear(&in);
	/* keys (C14): the keys go first, so that the rows are unreadable even
	 * where they linger in the file (crypto-shredding) */
	if (bw_api_keys_shred(c, c->req->params[0]) != 0)
		return;
	bw_result r = bw_store_instance_delete(c->store, c->req->params[0]);
	if (r != BW_OK) {
		bw_reply_result(c, r, "no such instance", NULL);
		return;
	}
	bw_reply_empty(c, 204);
}

void bw_api_security_settings_get(struct bw_ctx *c)
{
	struct bw_instance in;
	if (bw_api_instance(c, &in) != 0)
		return;
	json_t *d = bw_isettings_default_json();
	json_t *cur = in.settings ? json_loads(in.settings, 0, NULL) : NULL;
	if (json_is_object(cur))
		json_object_update(d, cur);
	json_decref(cur);
	bw_instance_clear(&in);
	bw_reply_json(c, 200, d);
}

void bw_api_security_settings_update(struct bw_ctx *c)
{
	struct bw_instance in;
	if (bw_api_instance(c, &in) != 0)
		return;
	const char *field = NULL, *msg = NULL;
	json_t *next = bw_isettings_patch(in.settings, c->in, &field, &msg);
	if (!next) {
		bw_instance_clear(&in);
		bw_reply_error(c, 400, "InvalidParameter", msg, field);
		return;
	}
	free(in.settings);
	in.settings = json_dumps(next, JSON_COMPACT);
	in.updated_at = bw_now_unix();
	bw_result r = bw_store_instance_update(c->store, &in);
	bw_instance_clear(&in);
	if (r != BW_OK) {
		json_decref(next);
		bw_reply_result(c, r, "no such instance", NULL);
		return;
	}
	bw_reply_json(c, 200, next);
}
