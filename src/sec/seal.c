#include "sec/seal.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const uint8_t *bw_seal_root;

#define NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG crypto_aead_xchacha20poly1305_ietf_ABYTES

static int derive(const char *iid, uint8_t key[32])
{
	if (!bw_seal_root)
		return -1;
	crypto_generichash_state st;
	static const char label[] = "bulwark instance seal v1";
	crypto_generichash_init(&st, bw_seal_root, 32, 32);
	crypto_generichash_update(&st, (const uint8_t *)label, sizeof(label));
	crypto_generichash_update(&st, (const uint8_t *)iid, strlen(iid) + 1);
	crypto_generichash_final(&st, key, 32);
	return 0;
}

static int ad(char *buf, size_t n, const char *iid, const char *table, const char *row,
              const char *column)
{
	int k = snprintf(buf, n, "%s|%s|%s|%s", iid, table, row, column);
	return k > 0 && (size_t)k < n ? k : -1;
}

bw_result bw_seal(const char *iid, const char *table, const char *row, const char *column,
                  const uint8_t *pt, size_t n, uint8_t **out, size_t *outlen)
{
	uint8_t key[32];
	char a[512];
	int al = ad(a, sizeof(a), iid, table, row, column);
	if (al < 0 || derive(iid, key) != 0)
		return BW_ERR;
	uint8_t *buf = malloc(NONCE + n + TAG);
	if (!buf) {
		sodium_memzero(key, sizeof(key));
		return BW_NOMEM;
	}
	randombytes_buf(buf, NONCE);
	unsigned long long cl = 0;
	crypto_aead_xchacha20poly1305_ietf_encrypt(buf + NONCE, &cl, pt, n, (const uint8_t *)a,
	                                           (size_t)al, NULL, buf, key);
	sodium_memzero(key, sizeof(key));
	*out = buf;
	*outlen = NONCE + (size_t)cl;
	return BW_OK;
}

bw_result bw_unseal(const char *iid, const char *table, const char *row, const char *column,
                    const uint8_t *ct, size_t n, uint8_t **pt, size_t *ptlen)
{
	uint8_t key[32];
	char a[512];
	int al = ad(a, sizeof(a), iid, table, row, column);
	if (n < NONCE + TAG || al < 0 || derive(iid, key) != 0)
		return BW_ERR;
	uint8_t *p = sodium_malloc(n - NONCE - TAG + 1);
	if (!p) {
		sodium_memzero(key, sizeof(key));
		return BW_NOMEM;
	}
	unsigned long long pl = 0;
	int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(p, &pl, NULL, ct + NONCE, n - NONCE,
	                                                    (const uint8_t *)a, (size_t)al, ct, key);
	sodium_memzero(key, sizeof(key));
	if (rc != 0) {
		sodium_free(p);
		return BW_DENIED;
	}
	*pt = p;
	*ptlen = (size_t)pl;
	return BW_OK;
}

void bw_unseal_free(uint8_t *pt)
{
	if (pt)
		sodium_free(pt);
}
