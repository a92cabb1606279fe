/* Platform API keys: create (the key is shown once), list, revoke. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/ids.h"
#include "core/json.h"
#include "sec/token.h"
#include "store/store.h"

#define NAME_MAX_LEN 200

static json_t *key_json(const struct bw_platform_key *k)
{
	char t[32];
	bw_time_rfc3339(k->created_at, t, sizeof(t));
	return json_pack("{s:s, s:s, s:s}", "id", k->id, "name", k->name, "created_at", t);
}

void bw_api_platform_keys_create(struct bw_ctx *c)
{
	const char *name = bw_json_str(c->in, "name");
	if (!name || !*name || strlen(name) > NAME_MAX_LEN) {
		bw_reply_error(c, 400, "InvalidParameter", "name must be a string of 1 to 200 characters",
		               "name");
		return;
	}
	struct bw_platform_key k = {0};
	char key[BW_TOKEN_LEN];
	uint8_t hash[32];
	bw_id_new(k.id, "pk_");
	snprintf(k.name, sizeof(k.name), "%s", name);
	k.created_at = bw_now_unix();
	bw_token_new(BW_TOKEN_PLATFORM, key);
	bw_token_hash(key, strlen(key), hash);
	bw_result r = bw_store_platform_key_insert(c->store, &k, hash);
	if (r != BW_OK) {
		sodium_memzero(key, sizeof(key));
		bw_reply_result(c, r, "the key could not be stored", NULL);
		return;
	}
	json_t *o = key_json(&k);
	json_object_set_new(o, "key", json_string(key));
	sodium_memzero(key, sizeof(key));
	bw_reply_json(c, 201, o);
}

static bw_result pk_fetch(struct bw_ctx *c, const char *after, void *out, size_t max, size_t *n)
{
	return bw_store_platform_key_list(c->store, after, out, max, n);
}

static json_t *pk_encode(struct bw_ctx *c, const void *item)
{
	(void)c;
	return key_json(item);
}

static const char *pk_id(const void *item)
{
	return ((const struct bw_platform_key *)item)->id;
}

void bw_api_platform_keys_list(struct bw_ctx *c)
{
	static const struct bw_api_lister l = {sizeof(struct bw_platform_key), pk_fetch, pk_encode,
	                                       NULL, pk_id};
	bw_api_list(c, &l);
}

void bw_api_platform_keys_delete(struct bw_ctx *c)
{
	bw_result r = bw_store_platform_key_revoke(c->store, c->req->params[0], bw_now_unix());
	if (r == BW_NOTFOUND) {
		bw_reply_result(c, r, "no such platform key", NULL);
		return;
	}
	if (r == BW_CONFLICT) {
		bw_reply_result(c, r, "the last active platform key cannot be revoked", NULL);
		return;
	}
	if (r != BW_OK) {
		bw_reply_result(c, r, NULL, NULL);
		return;
	}
	bw_reply_empty(c, 204);
}
