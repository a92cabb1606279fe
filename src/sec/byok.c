/* BYOK, the KMS import pattern (keyring.h): the platform's RSA-3072 key,
 * made once and kept with its private half sealed under the root key; an
 * import token per request, stored hashed, bound to one instance, expiring
 * in a day; an import unwraps RSA-OAEP-SHA256 (MGF1-SHA256) to 32 bytes
 * and makes them the instance's KEK through a rotation. Imports are rare:
 * each call uses a connection of its own and parses the private key only
 * for the call, wiping what it decoded. */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "core/log.h"
#include "sec/keyring_int.h"

#define IMPORT_BITS 3072
#define IMPORT_PURPOSE "bulwark import key wrap v1"
#define DER_MAX 4096

static pthread_mutex_t gen_mu = PTHREAD_MUTEX_INITIALIZER;

static size_t import_ad(uint8_t *buf, size_t cap, const char *id)
{
	static const char label[] = "bulwark.import-key.v1";
	size_t k = strlen(id);
	if (sizeof(label) + k > cap)
		return 0;
	memcpy(buf, label, sizeof(label)); /* with its NUL */
	memcpy(buf + sizeof(label), id, k);
	return sizeof(label) + k;
}

void bw_import_params_clear(struct bw_import_params *p)
{
	free(p->public_key);
	p->public_key = NULL;
	sodium_memzero(p->token, sizeof(p->token));
}

/* A new platform import key, stored (or the one another thread stored). */
static bw_result make_key(struct bw_store *s, struct bw_import_key *out)
{
	struct bw_import_key k = {.bits = IMPORT_BITS, .created_at = bw_now_ms()};
	uint8_t ad[128], *der = NULL;
	BIO *bio = NULL;
	bw_result r = BW_ERR;
	EVP_PKEY *pk = EVP_RSA_gen(IMPORT_BITS);
	int dl = pk ? i2d_PrivateKey(pk, &der) : -1;
	if (dl <= 0 || dl > DER_MAX)
		goto out;
	bw_id_new(k.id, "ik_");
	size_t al = import_ad(ad, sizeof(ad), k.id);
	k.wrapped_private = malloc((size_t)dl + BW_KR_NONCE + BW_KR_TAG);
	bio = BIO_new(BIO_s_mem());
	char *pem = NULL;
	long pl;
	if (!al || !k.wrapped_private || !bio || PEM_write_bio_PUBKEY(bio, pk) != 1 ||
	    (pl = BIO_get_mem_data(bio, &pem)) <= 0 || !(k.public_key = strndup(pem, (size_t)pl)))
		goto out;
	r = bw_keyring__root_seal(IMPORT_PURPOSE, ad, al, der, (size_t)dl, k.wrapped_private,
	                          (size_t)dl + BW_KR_NONCE + BW_KR_TAG, &k.wrapped_len);
	if (r == BW_OK)
		r = bw_store_import_key_insert(s, &k);
	if (r == BW_OK) {
		*out = k;
		memset(&k, 0, sizeof(k));
		bw_log(BW_LOG_INFO, "the platform import key was made", "import_key_id", out->id);
	} else if (r == BW_CONFLICT) {
		r = bw_store_import_key_get(s, out);
	}
out:
	if (der) {
		sodium_memzero(der, (size_t)dl);
		OPENSSL_free(der);
	}
	BIO_free(bio);
	EVP_PKEY_free(pk);
	bw_import_key_clear(&k);
	return r;
}

static bw_result import_key(struct bw_store *s, struct bw_import_key *out)
{
	bw_result r = bw_store_import_key_get(s, out);
	if (r != BW_NOTFOUND)
		return r;
	pthread_mutex_lock(&gen_mu); /* one RSA generation at a time, not one per caller */
	r = bw_store_import_key_get(s, out);
	if (r == BW_NOTFOUND)
		r = make_key(s, out);
	pthread_mutex_unlock(&gen_mu);
	return r;
}

bw_result bw_keyring_import_params(const char *iid, struct bw_import_params *out)
{
	struct bw_store *s = NULL;
	struct bw_import_key k;
	uint8_t hash[32];
	memset(out, 0, sizeof(*out));
	memset(&k, 0, sizeof(k));
	bw_result r = bw_keyring__open_store(&s);
	if (r == BW_OK)
		r = import_key(s, &k);
	if (r == BW_OK) {
		long long now = bw_now_ms();
		bw_id_random(out->token, sizeof(out->token), "bwi_", 32);
		crypto_generichash(hash, sizeof(hash), (const uint8_t *)out->token,
		                   strlen(out->token), NULL, 0);
		out->expires_at = now + BW_IMPORT_TOKEN_TTL_S * 1000LL;
		out->bits = k.bits;
		r = bw_store_import_token_insert(s, hash, iid, k.id, out->expires_at, now);
	}
	if (r == BW_OK) {
		out->public_key = k.public_key;
		k.public_key = NULL;
	} else {
		bw_import_params_clear(out);
	}
	bw_import_key_clear(&k);
	bw_store_close(s);
	return r;
}

/* RSA-OAEP-SHA256 with the platform key into kek (32 bytes). */
static bw_result unwrap_kek(const struct bw_import_key *k, const uint8_t *ct, size_t n,
                            uint8_t kek[BW_KEY_LEN])
{
	uint8_t ad[128];
	size_t al = import_ad(ad, sizeof(ad), k->id);
	size_t dl =
	    k->wrapped_len > BW_KR_NONCE + BW_KR_TAG ? k->wrapped_len - BW_KR_NONCE - BW_KR_TAG : 0;
	uint8_t *der = dl && dl <= DER_MAX ? sodium_malloc(dl) : NULL;
	uint8_t *pt = sodium_malloc(IMPORT_BITS / 8);
	EVP_PKEY *pk = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	bw_result r = BW_ERR;
	size_t pl = IMPORT_BITS / 8;
	if (!der || !pt || !al)
		goto out;
	if (bw_keyring__root_open(IMPORT_PURPOSE, ad, al, k->wrapped_private, k->wrapped_len,
	                          der) != BW_OK) {
		bw_log(BW_LOG_ERROR, "the platform import key does not open", "import_key_id",
		       k->id);
		goto out;
	}
	const uint8_t *p = der;
	pk = d2i_AutoPrivateKey(NULL, &p, (long)dl);
	if (!pk || !(ctx = EVP_PKEY_CTX_new(pk, NULL)) || EVP_PKEY_decrypt_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) != 1 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) != 1)
		goto out;
	r = BW_INVALID;
	if (n != IMPORT_BITS / 8 || EVP_PKEY_decrypt(ctx, pt, &pl, ct, n) != 1 || pl != BW_KEY_LEN)
		goto out;
	uint8_t any = 0;
	for (size_t i = 0; i < BW_KEY_LEN; i++)
		any |= pt[i];
	if (any) { /* an all-zero key is no key */
		memcpy(kek, pt, BW_KEY_LEN);
		r = BW_OK;
	}
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pk);
	if (der)
		sodium_free(der);
	if (pt)
		sodium_free(pt);
	return r;
}

bw_result bw_keyring_import(const char *iid, const char *token, const uint8_t *wrapped, size_t n,
                            struct bw_key_rotation *out, const char **field, const char **why)
{
	struct bw_store *s = NULL;
	struct bw_import_key k;
	uint8_t hash[32], kek[BW_KEY_LEN];
	char key_id[48];
	memset(&k, 0, sizeof(k));
	*field = *why = NULL;
	bw_result r = bw_keyring__open_store(&s);
	if (r == BW_OK && (r = bw_store_import_key_get(s, &k)) == BW_NOTFOUND) {
		r = BW_INVALID;
		*field = "import_token";
		*why = "unknown or expired import token: get new import parameters";
	}
	/* The key first, so that a wrong wrapped_key does not spend the token. */
	if (r == BW_OK && (r = unwrap_kek(&k, wrapped, n, kek)) == BW_INVALID) {
		*field = "wrapped_key";
		*why =
		    "wrapped_key must be 32 bytes encrypted with RSA-OAEP (SHA-256, MGF1 SHA-256) "
		    "to the platform public key, in base64";
	}
	if (r == BW_OK) {
		crypto_generichash(hash, sizeof(hash), (const uint8_t *)token, strlen(token), NULL,
		                   0);
		r = bw_store_import_token_take(s, hash, iid, bw_now_ms(), key_id);
		if (r == BW_OK && strcmp(key_id, k.id) != 0)
			r = BW_NOTFOUND;
		if (r == BW_NOTFOUND) {
			r = BW_INVALID;
			*field = "import_token";
			*why = "unknown or expired import token: get new import parameters";
		}
	}
	if (r == BW_OK)
		r = bw_keyring__rotate(iid, kek, "IMPORTED", out);
	sodium_memzero(kek, sizeof(kek));
	bw_import_key_clear(&k);
	bw_store_close(s);
	return r;
}
