/* Role signing keys and tokens (C7, role.h). A private key is the 32-byte
 * Ed25519 seed, sealed under the instance (associated data: instance,
 * "signing_keys", kid, "private_key"); it is opened in guarded memory for
 * one signature and wiped at once. Rotation happens when a key is used or
 * published (a token, the JWKS), in one store transaction that checks the
 * newest key is still the one read, so concurrent workers make one
 * successor between them. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "integ/integ_int.h"
#include "integ/role.h"
#include "sec/seal.h"

#define TABLE "signing_keys"
#define COLUMN "private_key"
#define KEYS_MAX 16        /* published at once: the newest */
#define LEAD_MAX_MS 300000 /* a successor is published this long before it signs */
#define TRIES 4

static long long rotate_ms = 86400LL * 1000, overlap_ms = 3600LL * 1000;

void bw_role_configure(long long rotate_s, long long overlap_s)
{
	if (rotate_s >= 2)
		rotate_ms = rotate_s * 1000;
	if (overlap_s >= 1)
		overlap_ms = overlap_s * 1000;
}

/* How long before it signs a successor is published, and so how long a
 * receiver may cache the JWKS: short, and at most half a key's life. */
static long long lead_ms(void)
{
	return rotate_ms / 2 < LEAD_MAX_MS ? rotate_ms / 2 : LEAD_MAX_MS;
}

static void b64url(char *out, size_t cap, const uint8_t *in, size_t n)
{
	sodium_bin2base64(out, cap, in, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* RFC 7638: SHA-256 of {"crv","kty","x"} in that order, no spaces. */
static void thumbprint(const uint8_t pk[32], char kid[48])
{
	char x[48], canon[128];
	uint8_t h[crypto_hash_sha256_BYTES];
	b64url(x, sizeof(x), pk, 32);
	int n =
	    snprintf(canon, sizeof(canon), "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"%s\"}", x);
	crypto_hash_sha256(h, (const uint8_t *)canon, (unsigned long long)n);
	b64url(kid, 48, h, sizeof(h));
}

/* The key that signs at now: the newest that has started and not stopped. */
static const struct bw_signing_key *signer_of(const struct bw_signing_key *k, size_t n,
                                              long long now)
{
	for (size_t i = 0; i < n; i++)
		if (k[i].activates_at <= now && (!k[i].retires_at || k[i].retires_at > now))
			return &k[i];
	return NULL;
}

/* A new key for the instance, signing from activates_at, added after
 * newest_kid ("" for none). */
static bw_result add_key(struct bw_store *s, const char *iid, const char *newest_kid, long long now,
                         long long activates_at, char *kid_out)
{
	struct bw_signing_key k;
	memset(&k, 0, sizeof(k));
	uint8_t *seed = sodium_malloc(crypto_sign_SEEDBYTES);
	uint8_t *sk = sodium_malloc(crypto_sign_SECRETKEYBYTES);
	bw_result r = BW_NOMEM;
	if (!seed || !sk)
		goto out;
	randombytes_buf(seed, crypto_sign_SEEDBYTES);
	crypto_sign_seed_keypair(k.public_key, sk, seed);
	snprintf(k.instance_id, sizeof(k.instance_id), "%s", iid);
	thumbprint(k.public_key, k.kid);
	k.created_at = now;
	k.activates_at = activates_at;
	r = bw_seal(iid, TABLE, k.kid, COLUMN, seed, crypto_sign_SEEDBYTES, &k.private_key,
	            &k.private_len);
	if (r == BW_OK)
		r = bw_store_signing_key_add(s, &k, newest_kid, now - overlap_ms);
	if (r == BW_OK && kid_out)
		memcpy(kid_out, k.kid, sizeof(k.kid));
out:
	if (seed)
		sodium_free(seed);
	if (sk)
		sodium_free(sk);
	bw_signing_key_clear(&k);
	return r;
}

/* An instance without keys: does it exist? */
static bw_result instance_exists(struct bw_store *s, const char *iid)
{
	struct bw_instance in;
	memset(&in, 0, sizeof(in));
	bw_result r = bw_store_instance_get(s, iid, &in);
	bw_instance_clear(&in);
	return r;
}

/* Lists the keys into k after making the first or the due successor.
 * BW_CONFLICT from the store means another thread added one first: read
 * again. */
static bw_result ensure(struct bw_store *s, const char *iid, long long now,
                        struct bw_signing_key *k, size_t *n)
{
	bw_result r = BW_CONFLICT;
	for (int i = 0; i < TRIES && r == BW_CONFLICT; i++) {
		r = bw_store_signing_key_list(s, iid, k, KEYS_MAX, n);
		if (r != BW_OK)
			return r;
		if (!*n) {
			if ((r = instance_exists(s, iid)) != BW_OK)
				return r;
			r = add_key(s, iid, "", now, now, NULL);
		} else {
			long long due = k[0].activates_at + rotate_ms;
			if (now < due - lead_ms())
				return BW_OK;
			long long at = now + lead_ms() > due ? now + lead_ms() : due;
			r = add_key(s, iid, k[0].kid, now, at, NULL);
		}
		if (r == BW_OK)
			r = BW_CONFLICT; /* list again, with the new key */
		else if (r != BW_CONFLICT)
			return r;
	}
	return bw_store_signing_key_list(s, iid, k, KEYS_MAX, n);
}

bw_result bw_role_keys_ensure(struct bw_store *s, const char *iid)
{
	struct bw_signing_key k[KEYS_MAX];
	size_t n = 0;
	return ensure(s, iid, bw_integ__now_ms(), k, &n);
}

bw_result bw_role_keys(struct bw_store *s, const char *iid, struct bw_signing_key *out, size_t max,
                       size_t *n, const struct bw_signing_key **signer)
{
	struct bw_signing_key k[KEYS_MAX];
	long long now = bw_integ__now_ms();
	size_t m = 0;
	*n = 0;
	*signer = NULL;
	bw_result r = ensure(s, iid, now, k, &m);
	if (r != BW_OK)
		return r;
	for (size_t i = 0; i < m && i < max; i++)
		out[(*n)++] = k[i];
	*signer = signer_of(out, *n, now);
	return BW_OK;
}

const char *bw_role_key_state(const struct bw_signing_key *k, const struct bw_signing_key *signer,
                              long long *published_until)
{
	long long now_ms = bw_integ__now_ms();
	*published_until = k->retires_at ? k->retires_at + overlap_ms : 0;
	if (k == signer)
		return "ACTIVE";
	if (k->activates_at > now_ms && (!k->retires_at || k->retires_at > now_ms))
		return "PENDING";
	return "RETIRED";
}

bw_result bw_role_rotate(struct bw_store *s, const char *iid, char *kid_out)
{
	struct bw_signing_key k[KEYS_MAX];
	bw_result r = BW_CONFLICT;
	for (int i = 0; i < TRIES && r == BW_CONFLICT; i++) {
		size_t n = 0;
		long long now = bw_integ__now_ms();
		r = bw_store_signing_key_list(s, iid, k, KEYS_MAX, &n);
		if (r == BW_OK && !n)
			r = instance_exists(s, iid);
		if (r == BW_OK)
			r = add_key(s, iid, n ? k[0].kid : "", now, now, kid_out);
	}
	return r;
}

static json_t *jwk(const struct bw_signing_key *k)
{
	char x[48];
	b64url(x, sizeof(x), k->public_key, sizeof(k->public_key));
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "OKP", "crv", "Ed25519", "x", x,
	                 "kid", k->kid, "use", "sig", "alg", "EdDSA");
}

bw_result bw_role_jwks(struct bw_store *s, const char *iid, json_t **out, int *max_age_s)
{
	struct bw_signing_key k[KEYS_MAX];
	long long now = bw_integ__now_ms();
	size_t n = 0;
	*out = NULL;
	bw_result r = ensure(s, iid, now, k, &n);
	if (r != BW_OK)
		return r;
	json_t *keys = json_array();
	for (size_t i = 0; i < n; i++)
		if (!k[i].retires_at || k[i].retires_at + overlap_ms > now)
			json_array_append_new(keys, jwk(&k[i]));
	*out = json_pack("{s:o}", "keys", keys);
	*max_age_s = (int)(lead_ms() / 1000);
	return *out ? BW_OK : BW_NOMEM;
}

/* ---- tokens ---- */

static bool claim_ok(const char *v, bool required)
{
	if (!v || !*v)
		return !required;
	return strlen(v) <= BW_ROLE_CLAIM_MAX;
}

/* base64url of the compact JSON text of v (which it takes). */
static char *b64url_json(json_t *v)
{
	char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
	json_decref(v);
	if (!text)
		return NULL;
	size_t n = strlen(text),
	       cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *out = malloc(cap);
	if (out)
		b64url(out, cap, (const uint8_t *)text, n);
	free(text);
	return out;
}

static json_t *claims_json(const char *iid, const struct bw_role_claims *c, long long now_s,
                           int ttl)
{
	uint8_t h[crypto_hash_sha256_BYTES], nonce[16];
	char digest[64] = "sha-256=", jti[32];
	crypto_hash_sha256(h, c->body ? c->body : (const uint8_t *)"", c->body ? c->body_len : 0);
	sodium_bin2base64(digest + 8, sizeof(digest) - 8, h, sizeof(h),
	                  sodium_base64_VARIANT_ORIGINAL);
	randombytes_buf(nonce, sizeof(nonce));
	b64url(jti, sizeof(jti), nonce, sizeof(nonce));
	json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s}", "iss", BW_ROLE_ISSUER,
	                      "sub", c->integration_id, "aud", c->audience, "iat",
	                      (json_int_t)now_s, "nbf", (json_int_t)now_s, "exp",
	                      (json_int_t)(now_s + ttl), "jti", jti, "instance", iid);
	if (o && c->contact_id && *c->contact_id)
		json_object_set_new(o, "contact", json_string(c->contact_id));
	if (o)
		json_object_set_new(o, "digest", json_string(digest));
	return o;
}

/* Signs input with the sealed seed of key k into sig. */
static bw_result sign_with(const char *iid, const struct bw_signing_key *k, const char *input,
                           uint8_t sig[crypto_sign_BYTES])
{
	uint8_t *seed = NULL, pk[crypto_sign_PUBLICKEYBYTES];
	size_t n = 0;
	bw_result r =
	    bw_unseal(iid, TABLE, k->kid, COLUMN, k->private_key, k->private_len, &seed, &n);
	if (r != BW_OK) {
		bw_log(BW_LOG_ERROR, "a signing key does not open", "instance_id", iid, "kid",
		       k->kid);
		return r == BW_NOMEM ? r : BW_ERR;
	}
	uint8_t *sk = sodium_malloc(crypto_sign_SECRETKEYBYTES);
	r = BW_NOMEM;
	if (sk && n == crypto_sign_SEEDBYTES) {
		crypto_sign_seed_keypair(pk, sk, seed);
		/* The stored public key must be this seed's: never sign under a kid
		 * that receivers would check against another key. */
		r = sodium_memcmp(pk, k->public_key, sizeof(pk)) == 0 ? BW_OK : BW_ERR;
		if (r == BW_OK)
			crypto_sign_detached(sig, NULL, (const uint8_t *)input, strlen(input), sk);
	} else if (sk) {
		r = BW_ERR;
	}
	if (sk)
		sodium_free(sk);
	bw_unseal_free(seed);
	return r;
}

bw_result bw_role_token(struct bw_store *s, const char *iid, const struct bw_role_claims *c,
                        char **jwt)
{
	struct bw_signing_key keys[KEYS_MAX], k;
	uint8_t sig[crypto_sign_BYTES];
	char sig64[96];
	char *h = NULL, *p = NULL;
	size_t n = 0;
	int ttl = c->ttl_s ? c->ttl_s : BW_ROLE_TTL_DEFAULT_S;
	*jwt = NULL;
	memset(&k, 0, sizeof(k));
	if (!claim_ok(c->integration_id, true) || !claim_ok(c->audience, true) ||
	    !claim_ok(c->contact_id, false) || ttl < 1 || ttl > BW_ROLE_TTL_MAX_S ||
	    (!c->body && c->body_len))
		return BW_INVALID;
	long long now = bw_integ__now_ms();
	bw_result r = ensure(s, iid, now, keys, &n);
	const struct bw_signing_key *signer = r == BW_OK ? signer_of(keys, n, now) : NULL;
	if (r == BW_OK && !signer)
		r = BW_ERR; /* cannot happen: the oldest listed key has started */
	if (r == BW_OK)
		r = bw_store_signing_key_get(s, iid, signer->kid, &k);
	if (r != BW_OK)
		goto out;
	h = b64url_json(json_pack("{s:s, s:s, s:s}", "alg", "EdDSA", "typ", "JWT", "kid", k.kid));
	p = b64url_json(claims_json(iid, c, now / 1000, ttl));
	size_t need = (h ? strlen(h) : 0) + (p ? strlen(p) : 0) + 2 + sizeof(sig64);
	char *out = h && p ? malloc(need) : NULL;
	r = BW_NOMEM;
	if (!out)
		goto out;
	snprintf(out, need, "%s.%s", h, p);
	r = sign_with(iid, &k, out, sig);
	if (r == BW_OK) {
		b64url(sig64, sizeof(sig64), sig, sizeof(sig));
		size_t l = strlen(out);
		snprintf(out + l, need - l, ".%s", sig64);
		*jwt = out;
	} else {
		free(out);
	}
out:
	free(h);
	free(p);
	bw_signing_key_clear(&k);
	return r;
}
