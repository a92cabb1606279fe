/* TOTP enrollment by the user, verification, and reset by an admin (C4). */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/users_int.h"
#include "core/ids.h"
#include "sec/mfa.h"
#include "sec/totp.h"
#include "store/store.h"

static int self_only(struct bw_ctx *c)
{
	if (strcmp(c->req->params[1], c->who.id) != 0) {
		bw_reply_error(c, 403, "AccessDenied", "only the user can enroll their own MFA", NULL);
		return -1;
	}
	return 0;
}

void bw_api_mfa_enroll(struct bw_ctx *c)
{
	struct bw_user u;
	if (self_only(c) || bw_api_user_load(c, &u))
		return;
	uint8_t secret[BW_TOTP_SECRET_LEN];
	char *uri = NULL, *svg = NULL;
	if (u.mfa_enabled) {
		bw_reply_error(c, 409, "Conflict", "MFA is active; an admin must reset it first", NULL);
		goto out;
	}
	bw_totp_new_secret(secret);
	bw_result r = bw_mfa_seal(&u, secret, sizeof(secret));
	if (r == BW_OK) {
		u.updated_at = bw_now_unix();
		r = bw_store_user_update(c->store, &u, NULL, 0);
	}
	if (r == BW_OK) {
		uri = bw_totp_uri(secret, sizeof(secret), "Bulwark", u.username);
		svg = uri ? bw_qr_svg(uri) : NULL;
	}
	if (!svg) {
		bw_reply_result(c, r == BW_OK ? BW_NOMEM : r, NULL, NULL);
		goto out;
	}
	bw_reply_json(c, 200, json_pack("{s:s, s:s}", "otpauth_uri", uri, "qr_svg", svg));
out:
	sodium_memzero(secret, sizeof(secret));
	if (uri)
		sodium_memzero(uri, strlen(uri));
	free(uri);
	free(svg);
	bw_user_clear(&u);
}

void bw_api_mfa_verify(struct bw_ctx *c)
{
	static const char *const fields[] = {"code", NULL};
	const char *code;
	struct bw_user u;
	char codes[BW_RECOVERY_CODES][BW_RECOVERY_LEN];
	if (bw_api_only(c, fields) || bw_api_str(c, "code", 1, 16, true, &code) || self_only(c) ||
	    bw_api_user_load(c, &u))
		return;
	if (u.mfa_enabled || !u.mfa_secret) {
		bw_reply_error(c, 409, "Conflict",
		               u.mfa_enabled ? "MFA is active already" : "enroll first", NULL);
		goto out;
	}
	bw_result r = bw_mfa_check_totp(c->store, &u, code, bw_now_unix());
	if (r == BW_INVALID || r == BW_DENIED || r == BW_CONFLICT) {
		bw_reply_error(c, 400, "InvalidParameter", "the code does not match", "code");
		goto out;
	}
	if (r == BW_OK)
		r = bw_mfa_new_recovery(c->store, &u, codes);
	if (r == BW_OK) {
		struct bw_user fresh;
		r = bw_store_user_get(c->store, u.instance_id, u.id, &fresh);
		if (r == BW_OK) {
			fresh.mfa_enabled = true;
			fresh.updated_at = bw_now_unix();
			r = bw_store_user_update(c->store, &fresh, NULL, 0);
			bw_user_clear(&fresh);
		}
	}
	/* The enrollment-only session that did this may now do the rest. */
	if (r == BW_OK && c->who.mfa_pending)
		r = bw_store_session_mfa_done(c->store, c->who.instance_id, c->who.session_id);
	if (r != BW_OK) {
		bw_reply_result(c, r, NULL, NULL);
		goto out;
	}
	json_t *list = json_array();
	for (int i = 0; i < BW_RECOVERY_CODES; i++)
		json_array_append_new(list, json_string(codes[i]));
	sodium_memzero(codes, sizeof(codes));
	bw_reply_json(c, 200, json_pack("{s:b, s:o}", "mfa_enabled", 1, "recovery_codes", list));
out:
	bw_user_clear(&u);
}

void bw_api_mfa_reset(struct bw_ctx *c)
{
	struct bw_user u;
	if (bw_api_user_load(c, &u))
		return;
	if (bw_api_user_may_manage(c, &u))
		goto out;
	free(u.mfa_secret);
	u.mfa_secret = NULL;
	u.mfa_secret_len = 0;
	u.mfa_enabled = false;
	u.updated_at = bw_now_unix();
	bw_result r = bw_store_user_update(c->store, &u, NULL, 0);
	if (r == BW_OK)
		r = bw_store_recovery_codes_set(c->store, u.instance_id, u.id, NULL, 0);
	if (r == BW_OK)
		r = bw_store_session_revoke_user(c->store, u.instance_id, u.id, u.updated_at);
	if (r != BW_OK) {
		bw_reply_result(c, r, NULL, NULL);
		goto out;
	}
	bw_reply_empty(c, 204);
out:
	bw_user_clear(&u);
}
