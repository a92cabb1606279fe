/* Security profiles (C3). Nobody creates, edits or deletes a profile that
 * holds a permission they lack. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/ids.h"
#include "sec/authz.h"
#include "store/store.h"

static json_t *profile_json(const struct bw_profile *p)
{
	char c[32], u[32];
	bw_time_rfc3339(p->created_at, c, sizeof(c));
	bw_time_rfc3339(p->updated_at, u, sizeof(u));
	json_t *perms = bw_perms_to_json(bw_perms_from_text(p->permissions));
	return json_pack("{s:s, s:s, s:s, s:o, s:s, s:s}", "id", p->id, "name", p->name,
	                 "description", p->description, "permissions", perms, "created_at", c,
	                 "updated_at", u);
}

void bw_api_permissions_list(struct bw_ctx *c)
{
	bw_reply_json(c, 200, json_pack("{s:o, s:n}", "items", bw_catalog_json(), "next_token"));
}

/* Decodes "permissions"; replies and returns -1 when invalid or escalating. */
static int decode_perms(struct bw_ctx *c, bw_perms *out, bool required, bool *present)
{
	json_t *v = json_object_get(c->in, "permissions");
	*present = v != NULL;
	if (!v) {
		if (required) {
			bw_reply_error(c, 400, "InvalidParameter", "this field is required", "permissions");
			return -1;
		}
		return 0;
	}
	const char *bad = NULL;
	if (bw_perms_from_json(v, out, &bad) != 0) {
		char msg[160];
		snprintf(msg, sizeof(msg), "%s%.100s", bad ? "unknown or repeated permission: " :
		                                             "must be an array of permission names",
		         bad ? bad : "");
		bw_reply_error(c, 400, "InvalidParameter", msg, "permissions");
		return -1;
	}
	if (!bw_perms_subset(*out, c->who.perms)) {
		bw_reply_error(c, 403, "AccessDenied", "you cannot grant a permission you do not hold",
		               "permissions");
		return -1;
	}
	return 0;
}

void bw_api_profiles_create(struct bw_ctx *c)
{
	static const char *const fields[] = {"name", "description", "permissions", NULL};
	const char *name, *desc;
	bw_perms perms = 0;
	bool present;
	if (bw_api_only(c, fields) || bw_api_str(c, "name", 1, 128, true, &name) ||
	    bw_api_str(c, "description", 0, 1024, false, &desc) ||
	    decode_perms(c, &perms, true, &present))
		return;
	struct bw_profile p = {0};
	bw_id_new(p.id, "sp_");
	snprintf(p.instance_id, sizeof(p.instance_id), "%s", c->who.instance_id);
	snprintf(p.name, sizeof(p.name), "%s", name);
	snprintf(p.description, sizeof(p.description), "%s", desc ? desc : "");
	p.permissions = bw_perms_to_text(perms);
	p.created_at = p.updated_at = bw_now_unix();
	bw_result r = bw_store_profile_insert(c->store, &p);
	if (r == BW_OK)
		bw_reply_json(c, 201, profile_json(&p));
	else
		bw_reply_result(c, r, r == BW_CONFLICT ? "a profile with this name exists" : NULL,
		                r == BW_CONFLICT ? "name" : NULL);
	bw_profile_clear(&p);
}

static bw_result sp_fetch(struct bw_ctx *c, const char *after, void *out, size_t max, size_t *n)
{
	return bw_store_profile_list(c->store, c->who.instance_id, after, out, max, n);
}

static json_t *sp_encode(struct bw_ctx *c, const void *item)
{
	(void)c;
	return profile_json(item);
}

static void sp_clear(void *item)
{
	bw_profile_clear(item);
}

static const char *sp_id(const void *item)
{
	return ((const struct bw_profile *)item)->id;
}

void bw_api_profiles_list(struct bw_ctx *c)
{
	static const struct bw_api_lister l = {sizeof(struct bw_profile), sp_fetch, sp_encode,
	                                       sp_clear, sp_id};
	bw_api_list(c, &l);
}

static int load(struct bw_ctx *c, struct bw_profile *p)
{
	memset(p, 0, sizeof(*p));
	bw_result r = bw_store_profile_get(c->store, c->who.instance_id, c->req->params[1], p);
	if (r != BW_OK) {
		bw_reply_result(c, r, "no such security profile", NULL);
		return -1;
	}
	return 0;
}

void bw_api_profiles_get(struct bw_ctx *c)
{
	struct bw_profile p;
	if (load(c, &p) != 0)
		return;
	bw_reply_json(c, 200, profile_json(&p));
	bw_profile_clear(&p);
}

/* The profile as it stands must be within the caller's permissions too. */
static int may_edit(struct bw_ctx *c, const struct bw_profile *p)
{
	if (!bw_perms_subset(bw_perms_from_text(p->permissions), c->who.perms)) {
		bw_reply_error(c, 403, "AccessDenied",
		               "this profile holds a permission you do not hold", NULL);
		return -1;
	}
	return 0;
}

void bw_api_profiles_update(struct bw_ctx *c)
{
	static const char *const fields[] = {"name", "description", "permissions", NULL};
	const char *name, *desc;
	bw_perms perms = 0;
	bool present;
	struct bw_profile p;
	if (bw_api_only(c, fields) || bw_api_str(c, "name", 1, 128, false, &name) ||
	    bw_api_str(c, "description", 0, 1024, false, &desc) ||
	    decode_perms(c, &perms, false, &present) || load(c, &p) != 0)
		return;
	if (may_edit(c, &p) != 0) {
		bw_profile_clear(&p);
		return;
	}
	if (name)
		snprintf(p.name, sizeof(p.name), "%s", name);
	if (desc)
		snprintf(p.description, sizeof(p.description), "%s", desc);
	if (present) {
		free(p.permissions);
		p.permissions = bw_perms_to_text(perms);
	}
	p.updated_at = bw_now_unix();
	bw_result r = bw_store_profile_update(c->store, &p);
	if (r == BW_OK)
		bw_reply_json(c, 200, profile_json(&p));
	else
		bw_reply_result(c, r, r == BW_CONFLICT ? "a profile with this name exists" : NULL,
		                r == BW_CONFLICT ? "name" : NULL);
	bw_profile_clear(&p);
}

void bw_api_profiles_delete(struct bw_ctx *c)
{
	struct bw_profile p;
	if (load(c, &p) != 0)
		return;
	int denied = may_edit(c, &p);
	bw_profile_clear(&p);
	if (denied)
		return;
	bw_result r = bw_store_profile_delete(c->store, c->who.instance_id, c->req->params[1]);
	if (r != BW_OK) {
		bw_reply_result(c, r, r == BW_CONFLICT ? "the profile is assigned to users" :
		                                         "no such security profile", NULL);
		return;
	}
	bw_reply_empty(c, 204);
}
