#include "sec/mfa.h"

#include <ctype.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "sec/seal.h"
#include "sec/totp.h"

bw_result bw_mfa_seal(struct bw_user *u, const uint8_t *secret, size_t n)
{
	free(u->mfa_secret);
	u->mfa_secret = NULL;
	u->mfa_secret_len = 0;
	return bw_seal(u->instance_id, "users", u->id, "mfa_secret", secret, n, &u->mfa_secret,
	               &u->mfa_secret_len);
}

bw_result bw_mfa_unseal(const struct bw_user *u, uint8_t **secret, size_t *n)
{
	if (!u->mfa_secret)
		return BW_NOTFOUND;
	return bw_unseal(u->instance_id, "users", u->id, "mfa_secret", u->mfa_secret,
	                 u->mfa_secret_len, secret, n);
}

bw_result bw_mfa_check_totp(struct bw_store *s, const struct bw_user *u, const char *code,
                            long long now)
{
	uint8_t *secret = NULL;
	size_t n = 0;
	long long step = 0;
	bw_result r = bw_mfa_unseal(u, &secret, &n);
	if (r != BW_OK)
		return r;
	r = bw_totp_check(secret, n, code, now, &step);
	bw_unseal_free(secret);
	if (r != BW_OK)
		return r;
	/* Accepted once: the store takes a step only newer than the last. */
	return bw_store_user_mfa_step(s, u->instance_id, u->id, step);
}

/* Keyed hash of a normalized code (lower case, no dash or space). */
static int code_hash(const char *code, uint8_t out[32])
{
	char norm[32];
	size_t k = 0;
	for (const char *p = code; *p; p++) {
		if (*p == '-' || *p == ' ')
			continue;
		if (k + 1 >= sizeof(norm) || !isalnum((unsigned char)*p))
			return -1;
		norm[k++] = (char)tolower((unsigned char)*p);
	}
	norm[k] = '\0';
	if (k != BW_RECOVERY_LEN - 2 || !bw_seal_root)
		return -1;
	static const char label[] = "bulwark recovery code v1";
	uint8_t key[32];
	crypto_generichash(key, 32, (const uint8_t *)label, sizeof(label), bw_seal_root, 32);
	crypto_generichash(out, 32, (const uint8_t *)norm, k, key, 32);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(norm, sizeof(norm));
	return 0;
}

bw_result bw_mfa_use_recovery(struct bw_store *s, const struct bw_user *u, const char *code,
                              long long now)
{
	uint8_t h[32];
	if (code_hash(code, h) != 0)
		return BW_INVALID;
	return bw_store_recovery_code_use(s, u->instance_id, u->id, h, now);
}

bw_result bw_mfa_new_recovery(struct bw_store *s, const struct bw_user *u,
                              char out[BW_RECOVERY_CODES][BW_RECOVERY_LEN])
{
	static const char alphabet[] = "abcdefghjkmnpqrstuvwxyz23456789"; /* no 0/o, 1/l/i */
	uint8_t hashes[BW_RECOVERY_CODES][32];
	for (int i = 0; i < BW_RECOVERY_CODES; i++) {
		for (int k = 0, o = 0; k < 10; k++) {
			if (k == 5)
				out[i][o++] = '-';
			out[i][o++] = alphabet[randombytes_uniform(sizeof(alphabet) - 1)];
		}
		out[i][BW_RECOVERY_LEN - 1] = '\0';
		if (code_hash(out[i], hashes[i]) != 0)
			return BW_ERR;
	}
	return bw_store_recovery_codes_set(s, u->instance_id, u->id,
	                                   (const uint8_t(*)[32])hashes, BW_RECOVERY_CODES);
}
