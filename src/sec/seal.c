#include "sec/seal.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "sec/keyring_int.h"
#include "store/store.h"

const uint8_t *bw_seal_root;

static _Thread_local unsigned long long unseal_failures;

unsigned long long bw_unseal_failures(void)
{
	return unseal_failures;
}

#define HDR 5
#define NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG crypto_aead_xchacha20poly1305_ietf_ABYTES

/* header || iid \0 table \0 row \0 column */
static size_t ad(uint8_t *buf, size_t cap, const uint8_t hdr[HDR], const char *iid,
                 const char *table, const char *row, const char *column)
{
	const char *parts[] = {iid, table, row, column};
	size_t len = HDR;
	memcpy(buf, hdr, HDR);
	for (size_t i = 0; i < 4; i++) {
		size_t k = strlen(parts[i]);
		if (len + k + 1 > cap)
			return 0;
		memcpy(buf + len, parts[i], k);
		len += k;
		if (i < 3)
			buf[len++] = '\0';
	}
	return len;
}

bw_result bw_seal(const char *iid, const char *table, const char *row, const char *column,
                  const uint8_t *pt, size_t n, uint8_t **out, size_t *outlen)
{
	uint8_t key[BW_KEY_LEN], a[512];
	uint32_t id = 0;
	*out = NULL;
	*outlen = 0;
	bw_result r = bw_keyring__seal_key(iid, &id, key);
	if (r != BW_OK)
		return r;
	uint8_t *buf = malloc(HDR + NONCE + n + TAG);
	if (!buf) {
		sodium_memzero(key, sizeof(key));
		return BW_NOMEM;
	}
	buf[0] = BW_SEAL_VERSION;
	buf[1] = (uint8_t)(id >> 24);
	buf[2] = (uint8_t)(id >> 16);
	buf[3] = (uint8_t)(id >> 8);
	buf[4] = (uint8_t)id;
	size_t al = ad(a, sizeof(a), buf, iid, table, row, column);
	if (!al) {
		sodium_memzero(key, sizeof(key));
		free(buf);
		return BW_INVALID;
	}
	randombytes_buf(buf + HDR, NONCE);
	unsigned long long cl = 0;
	crypto_aead_xchacha20poly1305_ietf_encrypt(buf + HDR + NONCE, &cl, pt, n, a, al, NULL,
	                                           buf + HDR, key);
	sodium_memzero(key, sizeof(key));
	*out = buf;
	*outlen = HDR + NONCE + (size_t)cl;
	return BW_OK;
}

static bw_result unseal(const char *iid, const char *table, const char *row, const char *column,
                        const uint8_t *ct, size_t n, uint8_t **pt, size_t *ptlen)
{
	uint8_t key[BW_KEY_LEN], a[512];
	*pt = NULL;
	*ptlen = 0;
	if (!ct || n < HDR + NONCE + TAG || ct[0] != BW_SEAL_VERSION)
		return BW_INVALID;
	uint32_t id = (uint32_t)ct[1] << 24 | (uint32_t)ct[2] << 16 | (uint32_t)ct[3] << 8 | ct[4];
	size_t al = ad(a, sizeof(a), ct, iid, table, row, column);
	if (!al)
		return BW_INVALID;
	bw_result r = bw_keyring__open_key(iid, id, key);
	if (r != BW_OK)
		return r;
	uint8_t *p = sodium_malloc(n - HDR - NONCE - TAG + 1);
	if (!p) {
		sodium_memzero(key, sizeof(key));
		return BW_NOMEM;
	}
	unsigned long long pl = 0;
	int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(p, &pl, NULL, ct + HDR + NONCE,
	                                                    n - HDR - NONCE, a, al, ct + HDR, key);
	sodium_memzero(key, sizeof(key));
	if (rc != 0) {
		sodium_free(p);
		return BW_DENIED;
	}
	p[pl] = '\0';
	*pt = p;
	*ptlen = (size_t)pl;
	return BW_OK;
}

bw_result bw_unseal(const char *iid, const char *table, const char *row, const char *column,
                    const uint8_t *ct, size_t n, uint8_t **pt, size_t *ptlen)
{
	bw_result r = unseal(iid, table, row, column, ct, n, pt, ptlen);
	if (r == BW_DENIED || r == BW_NOTFOUND || r == BW_INVALID)
		unseal_failures++;
	return r;
}

void bw_unseal_free(uint8_t *pt)
{
	if (pt)
		sodium_free(pt);
}

/* ---- users' names and e-mail ---- */

bw_result bw_user_seal_pii(const struct bw_user *u, uint8_t **blob, size_t *len)
{
	*blob = NULL;
	*len = 0;
	bool none = !u->first_name[0] && !u->last_name[0] && !u->email[0];
	if (none && u->pii_error && u->pii) { /* read but not opened: kept as it is */
		if (!(*blob = malloc(u->pii_len)))
			return BW_NOMEM;
		memcpy(*blob, u->pii, u->pii_len);
		*len = u->pii_len;
		return BW_OK;
	}
	if (none)
		return BW_OK;
	json_t *o = json_pack("{s:s, s:s, s:s?}", "first_name", u->first_name, "last_name",
	                      u->last_name, "email", u->email[0] ? u->email : NULL);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!text)
		return BW_NOMEM;
	size_t n = strlen(text);
	bw_result r =
	    bw_seal(u->instance_id, "users", u->id, "pii", (const uint8_t *)text, n, blob, len);
	sodium_memzero(text, n);
	free(text);
	return r;
}

static void field(char *dst, size_t cap, const json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	snprintf(dst, cap, "%s", v ? v : "");
}

void bw_user_open_pii(struct bw_user *u)
{
	uint8_t *pt = NULL;
	size_t n = 0;
	if (!u->pii)
		return; /* none, or written before 0008 and not yet re-sealed */
	bw_result r = bw_unseal(u->instance_id, "users", u->id, "pii", u->pii, u->pii_len, &pt, &n);
	json_t *o = r == BW_OK ? json_loadb((const char *)pt, n, 0, NULL) : NULL;
	bw_unseal_free(pt);
	if (!json_is_object(o)) {
		/* The blob stays with u: a write of u without new names keeps it,
		 * so that a key problem that passes loses nothing. */
		u->pii_error = true;
		u->first_name[0] = u->last_name[0] = u->email[0] = '\0';
		bw_log(BW_LOG_ERROR, "a user's sealed names do not open", "user_id", u->id,
		       "result", bw_result_code(r));
		json_decref(o);
		return;
	}
	free(u->pii);
	u->pii = NULL;
	u->pii_len = 0;
	field(u->first_name, sizeof(u->first_name), o, "first_name");
	field(u->last_name, sizeof(u->last_name), o, "last_name");
	field(u->email, sizeof(u->email), o, "email");
	json_decref(o); /* jansson's copies are not wiped: names, not secrets */
}
