/* AWS Encryption SDK messages (C15), see esdk.h. The message:
 *
 *   header  02 | 0478 | message id (32) | AAD length (u16) | [pair count (u16)
 *           | pairs sorted by key bytes: u16 len, key, u16 len, value]
 *           | EDK count (u16) | per EDK: u16 len "Bulwark", u16 len key id,
 *           u16 len RSA-OAEP(data key) | 02 (framed) | frame length (u32)
 *           | commitment key (32) | header tag (16: GCM of nothing, IV of
 *           zeros, the header above as AAD)
 *   frames  seq (u32) | IV (8 zeros, seq) | frame length bytes | tag (16)
 *   final   FFFFFFFF | seq | IV | length (u32) | bytes | tag
 *
 * Frame AAD: message id | "AWSKMSEncryptionClient Frame" (or "... Final
 * Frame") | seq (u32) | content length (u64). Keys: HKDF-SHA512 with the
 * data key as input and the message id as salt; the encryption key expands
 * suite id | "DERIVEKEY", the commitment key "COMMITKEY", 32 bytes each.
 * Integers are big-endian. The data key comes from randombytes and is wiped
 * with every key derived from it. */
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sec/esdk.h"

#define VERSION 2
#define ID_LEN 32  /* message id */
#define KEY_LEN 32 /* data key, encryption key, commitment key */
#define IV_LEN 12
#define TAG_LEN 16
#define FINAL 0xFFFFFFFFu
#define CONTENT_FRAMED 2
#define RESERVED "aws-crypto-"
#define PROVIDER_LEN (sizeof(BW_ESDK_PROVIDER) - 1)
#define MIN_BITS 2048
#define MAX_BITS 4096
#define MAX_PEM (64u << 10)
#define MAX_B64 (BW_ESDK_MAX_MESSAGE / 3 * 4 * 2) /* room for line ends */

static const char frame_label[] = "AWSKMSEncryptionClient Frame";
static const char final_label[] = "AWSKMSEncryptionClient Final Frame";

struct bw_esdk_privkey {
	EVP_PKEY *pkey;
};

/* One context pair as bytes (pointers into the caller's text or the message). */
struct pair {
	const uint8_t *k, *v;
	size_t kl, vl;
};

/* ---- small helpers ---- */

static bool utf8_ok(const uint8_t *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint8_t c = s[i];
		size_t len;
		uint32_t cp, min;
		if (c < 0x80) {
			if (!c)
				return false; /* NUL: the pairs are C strings on our side */
			i++;
			continue;
		}
		if ((c & 0xE0) == 0xC0) {
			len = 2, cp = c & 0x1F, min = 0x80;
		} else if ((c & 0xF0) == 0xE0) {
			len = 3, cp = c & 0x0F, min = 0x800;
		} else if ((c & 0xF8) == 0xF0) {
			len = 4, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (n - i < len)
			return false;
		for (size_t j = 1; j < len; j++) {
			if ((s[i + j] & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += len;
	}
	return true;
}

/* By key bytes, a prefix first: the order the SDKs serialize. */
static int pair_cmp(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	int c = memcmp(x->k, y->k, x->kl < y->kl ? x->kl : y->kl);
	if (c)
		return c;
	return (x->kl > y->kl) - (x->kl < y->kl);
}

static void be16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void be32(uint8_t *p, uint32_t v)
{
	be16(p, v >> 16);
	be16(p + 2, v & 0xFFFF);
}

/* A writer into a buffer sized beforehand; overrunning it is a bug, caught. */
struct wr {
	uint8_t *p;
	size_t n, cap;
	bool bad;
};

static uint8_t *room(struct wr *w, size_t k)
{
	if (w->bad || w->cap - w->n < k) {
		w->bad = true;
		return NULL;
	}
	uint8_t *q = w->p + w->n;
	w->n += k;
	return q;
}

static void put(struct wr *w, const void *b, size_t k)
{
	uint8_t *q = room(w, k);
	if (q && k)
		memcpy(q, b, k);
}

static void put16(struct wr *w, uint32_t v)
{
	uint8_t *q = room(w, 2);
	if (q)
		be16(q, v);
}

static void put32(struct wr *w, uint32_t v)
{
	uint8_t *q = room(w, 4);
	if (q)
		be32(q, v);
}

/* A bounded reader of the message. */
struct rd {
	const uint8_t *p;
	size_t n, at;
	bool bad;
};

static const uint8_t *take(struct rd *r, size_t k)
{
	if (r->bad || r->n - r->at < k) {
		r->bad = true;
		return NULL;
	}
	const uint8_t *q = r->p + r->at;
	r->at += k;
	return q;
}

static uint32_t get16(struct rd *r)
{
	const uint8_t *q = take(r, 2);
	return q ? (uint32_t)q[0] << 8 | q[1] : 0;
}

static uint32_t get32(struct rd *r)
{
	const uint8_t *q = take(r, 4);
	return q ? (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3] : 0;
}

/* A u16 length and its bytes. */
static const uint8_t *get_var(struct rd *r, size_t *len)
{
	*len = get16(r);
	return take(r, *len);
}

/* ---- the primitives ---- */

/* HKDF-SHA512 (RFC 5869) for 32 bytes: one HMAC block of expansion. */
static void hkdf(const uint8_t ikm[KEY_LEN], const uint8_t salt[ID_LEN], const void *info,
                 size_t ilen, uint8_t out[KEY_LEN])
{
	uint8_t prk[crypto_auth_hmacsha512_BYTES], t[crypto_auth_hmacsha512_BYTES];
	const uint8_t one = 1;
	crypto_auth_hmacsha512_state st;
	crypto_auth_hmacsha512_init(&st, salt, ID_LEN);
	crypto_auth_hmacsha512_update(&st, ikm, KEY_LEN);
	crypto_auth_hmacsha512_final(&st, prk);
	crypto_auth_hmacsha512_init(&st, prk, sizeof(prk));
	crypto_auth_hmacsha512_update(&st, info, ilen);
	crypto_auth_hmacsha512_update(&st, &one, 1);
	crypto_auth_hmacsha512_final(&st, t);
	memcpy(out, t, KEY_LEN);
	sodium_memzero(prk, sizeof(prk));
	sodium_memzero(t, sizeof(t));
	sodium_memzero(&st, sizeof(st));
}

static void derive(const uint8_t dk[KEY_LEN], const uint8_t id[ID_LEN], uint8_t ek[KEY_LEN],
                   uint8_t ck[KEY_LEN])
{
	static const uint8_t info[] = {
	    BW_ESDK_SUITE >> 8, BW_ESDK_SUITE & 0xFF, 'D', 'E', 'R', 'I', 'V', 'E', 'K', 'E', 'Y'};
	hkdf(dk, id, info, sizeof(info), ek);
	hkdf(dk, id, "COMMITKEY", 9, ck);
}

/* AES-256-GCM: seals (enc) or opens n bytes of in into out, with aad; the
 * tag is written (enc) or checked. false on any failure. */
static bool gcm(bool enc, const uint8_t key[KEY_LEN], const uint8_t iv[IV_LEN], const uint8_t *aad,
                size_t alen, const uint8_t *in, size_t n, uint8_t *out, uint8_t tag[TAG_LEN])
{
	uint8_t fin[TAG_LEN];
	int l = 0;
	if (alen > INT32_MAX || n > INT32_MAX)
		return false;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	bool ok = c && EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) == 1 &&
	          EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, IV_LEN, NULL) == 1 &&
	          EVP_CipherInit_ex(c, NULL, NULL, key, iv, enc) == 1 &&
	          (alen == 0 || EVP_CipherUpdate(c, NULL, &l, aad, (int)alen) == 1) &&
	          (n == 0 || EVP_CipherUpdate(c, out, &l, in, (int)n) == 1) &&
	          (enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) == 1) &&
	          EVP_CipherFinal_ex(c, fin, &l) == 1 &&
	          (!enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) == 1);
	EVP_CIPHER_CTX_free(c);
	if (!ok)
		ERR_clear_error();
	return ok;
}

/* The IV of frame seq: 8 zero bytes, then seq. */
static void frame_iv(uint8_t iv[IV_LEN], uint32_t seq)
{
	memset(iv, 0, IV_LEN);
	be32(iv + 8, seq);
}

/* message id | label | seq | u64 length; returns the AAD's length. */
static size_t frame_aad(uint8_t *b, const uint8_t id[ID_LEN], bool final, uint32_t seq,
                        uint32_t clen)
{
	const char *label = final ? final_label : frame_label;
	size_t ll = strlen(label);
	memcpy(b, id, ID_LEN);
	memcpy(b + ID_LEN, label, ll);
	be32(b + ID_LEN + ll, seq);
	be32(b + ID_LEN + ll + 4, 0); /* the u64's high half: a frame is < 4 GiB */
	be32(b + ID_LEN + ll + 8, clen);
	return ID_LEN + ll + 12;
}

#define AAD_MAX (ID_LEN + sizeof(final_label) - 1 + 12)

static bool oaep(EVP_PKEY_CTX *c)
{
	return EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_OAEP_PADDING) > 0 &&
	       EVP_PKEY_CTX_set_rsa_oaep_md(c, EVP_sha512()) > 0 &&
	       EVP_PKEY_CTX_set_rsa_mgf1_md(c, EVP_sha512()) > 0;
}

/* A PEM RSA public key (SubjectPublicKeyInfo), or NULL. */
static EVP_PKEY *read_public(const char *pem, size_t len)
{
	if (len > MAX_PEM)
		return NULL;
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *k = b ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	if (k && EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA) {
		EVP_PKEY_free(k);
		k = NULL;
	}
	ERR_clear_error();
	return k;
}

/* Parsed public keys by the hash of their PEM text: OpenSSL 3 decodes a
 * PEM key in about a millisecond, ten times the RSA encryption itself, and
 * a flow encrypts to the same one or two keys again and again. Public keys
 * only; an EVP_PKEY is shared across threads (each call makes its own
 * context). */
#define KEY_CACHE 16
static struct {
	uint8_t hash[32];
	EVP_PKEY *key;
	unsigned long long used;
} key_cache[KEY_CACHE];
static unsigned long long key_clock;
static pthread_mutex_t key_mu = PTHREAD_MUTEX_INITIALIZER;

static EVP_PKEY *cached_public(const char *pem)
{
	size_t len = strlen(pem);
	uint8_t h[32];
	crypto_generichash(h, sizeof(h), (const uint8_t *)pem, len, NULL, 0);
	pthread_mutex_lock(&key_mu);
	int victim = 0;
	for (int i = 0; i < KEY_CACHE; i++) {
		if (key_cache[i].key && !memcmp(key_cache[i].hash, h, sizeof(h))) {
			key_cache[i].used = ++key_clock;
			EVP_PKEY *k = key_cache[i].key;
			EVP_PKEY_up_ref(k);
			pthread_mutex_unlock(&key_mu);
			return k;
		}
		if (key_cache[i].used < key_cache[victim].used)
			victim = i;
	}
	pthread_mutex_unlock(&key_mu);
	EVP_PKEY *k = read_public(pem, len);
	if (!k)
		return NULL;
	pthread_mutex_lock(&key_mu);
	EVP_PKEY_free(key_cache[victim].key);
	memcpy(key_cache[victim].hash, h, sizeof(h));
	key_cache[victim].key = k;
	key_cache[victim].used = ++key_clock;
	EVP_PKEY_up_ref(k);
	pthread_mutex_unlock(&key_mu);
	return k;
}

/* RSA-OAEP(SHA-512, MGF1-SHA-512) of the data key to one public key. */
static bw_result wrap(const char *pem, const uint8_t dk[KEY_LEN], uint8_t **ct, size_t *ctlen)
{
	bw_result r = BW_INVALID;
	EVP_PKEY_CTX *c = NULL;
	EVP_PKEY *k = pem ? cached_public(pem) : NULL;
	*ct = NULL;
	if (!k)
		goto out;
	int bits = EVP_PKEY_get_bits(k);
	if (bits < MIN_BITS || bits > MAX_BITS)
		goto out;
	r = BW_ERR;
	c = EVP_PKEY_CTX_new(k, NULL);
	if (!c || EVP_PKEY_encrypt_init(c) <= 0 || !oaep(c) ||
	    EVP_PKEY_encrypt(c, NULL, ctlen, dk, KEY_LEN) <= 0)
		goto out;
	if (!(*ct = malloc(*ctlen)))
		goto out;
	if (EVP_PKEY_encrypt(c, *ct, ctlen, dk, KEY_LEN) <= 0 || *ctlen > 0xFFFF) {
		free(*ct);
		*ct = NULL;
		goto out;
	}
	r = BW_OK;
out:
	EVP_PKEY_CTX_free(c);
	EVP_PKEY_free(k);
	ERR_clear_error();
	return r;
}

/* ---- encryption ---- */

/* The caller's pairs, checked and sorted; *aad the serialized length. */
static bw_result context_in(const struct bw_esdk_pair *ctx, size_t nctx, struct pair *out,
                            size_t *aad)
{
	size_t total = nctx ? 2 : 0;
	if (nctx > BW_ESDK_MAX_PAIRS)
		return BW_TOOBIG;
	for (size_t i = 0; i < nctx; i++) {
		if (!ctx[i].key || !ctx[i].value)
			return BW_INVALID;
		out[i] = (struct pair){(const uint8_t *)ctx[i].key, (const uint8_t *)ctx[i].value,
		                       strlen(ctx[i].key), strlen(ctx[i].value)};
		if (!out[i].kl || out[i].kl > 0xFFFF || out[i].vl > 0xFFFF ||
		    !utf8_ok(out[i].k, out[i].kl) || !utf8_ok(out[i].v, out[i].vl) ||
		    !strncmp(ctx[i].key, RESERVED, strlen(RESERVED)))
			return BW_INVALID;
		total += 4 + out[i].kl + out[i].vl;
	}
	if (total > 0xFFFF)
		return BW_TOOBIG;
	qsort(out, nctx, sizeof(*out), pair_cmp);
	for (size_t i = 1; i < nctx; i++)
		if (!pair_cmp(&out[i - 1], &out[i]))
			return BW_INVALID; /* a repeated key */
	*aad = total;
	return BW_OK;
}

static bw_result key_ids_ok(const struct bw_esdk_key *keys, size_t nkeys)
{
	if (!nkeys)
		return BW_INVALID;
	if (nkeys > BW_ESDK_MAX_KEYS)
		return BW_TOOBIG;
	for (size_t i = 0; i < nkeys; i++) {
		size_t n = keys[i].key_id ? strlen(keys[i].key_id) : 0;
		if (!n || n > BW_ESDK_MAX_KEY_ID || !keys[i].public_pem)
			return BW_INVALID;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(keys[i].key_id, keys[j].key_id))
				return BW_INVALID;
	}
	return BW_OK;
}

struct enc {
	uint8_t dk[KEY_LEN], ek[KEY_LEN], ck[KEY_LEN], id[ID_LEN];
	uint8_t *wrapped[BW_ESDK_MAX_KEYS];
	size_t wlen[BW_ESDK_MAX_KEYS];
	struct pair pairs[BW_ESDK_MAX_PAIRS];
	size_t npairs, aad;
};

static void write_header(struct wr *w, const struct enc *e, const struct bw_esdk_key *keys,
                         size_t nkeys)
{
	uint8_t v = VERSION, ct = CONTENT_FRAMED;
	put(w, &v, 1);
	put16(w, BW_ESDK_SUITE);
	put(w, e->id, ID_LEN);
	put16(w, (uint32_t)e->aad);
	if (e->npairs)
		put16(w, (uint32_t)e->npairs);
	for (size_t i = 0; i < e->npairs; i++) {
		put16(w, (uint32_t)e->pairs[i].kl);
		put(w, e->pairs[i].k, e->pairs[i].kl);
		put16(w, (uint32_t)e->pairs[i].vl);
		put(w, e->pairs[i].v, e->pairs[i].vl);
	}
	put16(w, (uint32_t)nkeys);
	for (size_t i = 0; i < nkeys; i++) {
		size_t il = strlen(keys[i].key_id);
		put16(w, PROVIDER_LEN);
		put(w, BW_ESDK_PROVIDER, PROVIDER_LEN);
		put16(w, (uint32_t)il);
		put(w, keys[i].key_id, il);
		put16(w, (uint32_t)e->wlen[i]);
		put(w, e->wrapped[i], e->wlen[i]);
	}
	put(w, &ct, 1);
	put32(w, BW_ESDK_FRAME_LEN);
	put(w, e->ck, KEY_LEN);
}

/* One frame (regular, or the final one) of clen bytes of pt. */
static bool write_frame(struct wr *w, const struct enc *e, bool final, uint32_t seq,
                        const uint8_t *pt, uint32_t clen)
{
	uint8_t iv[IV_LEN], aad[AAD_MAX];
	frame_iv(iv, seq);
	if (final)
		put32(w, FINAL);
	put32(w, seq);
	put(w, iv, IV_LEN);
	if (final)
		put32(w, clen);
	uint8_t *ct = room(w, clen), *tag = room(w, TAG_LEN);
	if (!ct || !tag)
		return false;
	size_t alen = frame_aad(aad, e->id, final, seq, clen);
	return gcm(true, e->ek, iv, aad, alen, pt, clen, ct, tag);
}

static bw_result seal(struct enc *e, const struct bw_esdk_key *keys, size_t nkeys,
                      const uint8_t *pt, size_t n, uint8_t **msg, size_t *len)
{
	const uint32_t F = BW_ESDK_FRAME_LEN;
	size_t size = 1 + 2 + ID_LEN + 2 + e->aad + 2 + 1 + 4 + KEY_LEN + TAG_LEN;
	for (size_t i = 0; i < nkeys; i++)
		size += 6 + PROVIDER_LEN + strlen(keys[i].key_id) + e->wlen[i];
	size_t nfull = n / F, rest = n % F;
	size += nfull * (4 + IV_LEN + F + TAG_LEN) + 4 + 4 + IV_LEN + 4 + rest + TAG_LEN;
	struct wr w = {malloc(size), 0, size, false};
	static const uint8_t zero_iv[IV_LEN];
	if (!w.p)
		return BW_NOMEM;
	write_header(&w, e, keys, nkeys);
	size_t hlen = w.n;
	uint8_t *tag = room(&w, TAG_LEN);
	bool ok = tag && gcm(true, e->ek, zero_iv, w.p, hlen, NULL, 0, NULL, tag);
	for (size_t i = 0; ok && i < nfull; i++)
		ok = write_frame(&w, e, false, (uint32_t)(i + 1), pt + i * F, F);
	ok = ok && write_frame(&w, e, true, (uint32_t)(nfull + 1), pt ? pt + nfull * F : NULL,
	                       (uint32_t)rest);
	if (!ok || w.bad || w.n != size) {
		free(w.p);
		return BW_ERR;
	}
	*msg = w.p;
	*len = w.n;
	return BW_OK;
}

bw_result bw_esdk_encrypt_bin(const struct bw_esdk_key *keys, size_t nkeys,
                              const struct bw_esdk_pair *ctx, size_t nctx, const uint8_t *pt,
                              size_t n, uint8_t **msg, size_t *len)
{
	struct enc *e = NULL;
	bw_result r;
	*msg = NULL;
	*len = 0;
	if ((r = key_ids_ok(keys, nkeys)) != BW_OK)
		return r;
	if (n > BW_ESDK_MAX_PLAINTEXT)
		return BW_TOOBIG;
	if (n && !pt)
		return BW_INVALID;
	if (!(e = calloc(1, sizeof(*e))))
		return BW_NOMEM;
	e->npairs = nctx;
	if ((r = context_in(ctx, nctx, e->pairs, &e->aad)) != BW_OK)
		goto out;
	randombytes_buf(e->dk, KEY_LEN);
	randombytes_buf(e->id, ID_LEN);
	for (size_t i = 0; i < nkeys; i++)
		if ((r = wrap(keys[i].public_pem, e->dk, &e->wrapped[i], &e->wlen[i])) != BW_OK)
			goto out;
	derive(e->dk, e->id, e->ek, e->ck);
	r = seal(e, keys, nkeys, pt, n, msg, len);
out:
	for (size_t i = 0; i < BW_ESDK_MAX_KEYS; i++)
		free(e->wrapped[i]);
	sodium_memzero(e, sizeof(*e));
	free(e);
	return r;
}

bw_result bw_esdk_encrypt(const struct bw_esdk_key *keys, size_t nkeys,
                          const struct bw_esdk_pair *ctx, size_t nctx, const uint8_t *pt, size_t n,
                          char **b64_out)
{
	uint8_t *msg;
	size_t len;
	*b64_out = NULL;
	bw_result r = bw_esdk_encrypt_bin(keys, nkeys, ctx, nctx, pt, n, &msg, &len);
	if (r != BW_OK)
		return r;
	size_t cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	if ((*b64_out = malloc(cap)))
		sodium_bin2base64(*b64_out, cap, msg, len, sodium_base64_VARIANT_ORIGINAL);
	free(msg);
	return *b64_out ? BW_OK : BW_NOMEM;
}

/* ---- decryption ---- */

struct edk {
	const uint8_t *id, *info, *ct;
	size_t idl, infol, ctl;
};

struct hdr {
	const uint8_t *msg_id;
	struct pair pairs[BW_ESDK_MAX_PAIRS];
	size_t npairs;
	struct edk edks[BW_ESDK_MAX_KEYS];
	size_t nedks;
	uint32_t frame_len;
	const uint8_t *commit, *tag;
	size_t hlen; /* bytes the header tag covers */
	size_t body; /* where the frames start */
};

static bw_result fail(struct bw_esdk_plain *out, bw_result r, const char *why)
{
	out->error = why;
	return r;
}

/* The encryption context section (aad bytes): a count, then pairs in
 * strictly ascending key order (so no key twice), UTF-8, no NUL. */
static bw_result parse_context(const uint8_t *p, size_t aad, struct hdr *h,
                               struct bw_esdk_plain *out)
{
	struct rd r = {p, aad, 0, false};
	if (!aad)
		return BW_OK;
	size_t n = get16(&r);
	if (!n)
		return fail(out, BW_INVALID, "an encryption context of length > 0 without pairs");
	if (n > BW_ESDK_MAX_PAIRS)
		return fail(out, BW_TOOBIG, "more than 32 encryption context pairs");
	for (size_t i = 0; i < n; i++) {
		struct pair *q = &h->pairs[i];
		q->k = get_var(&r, &q->kl);
		q->v = get_var(&r, &q->vl);
		if (r.bad)
			return fail(out, BW_INVALID, "the encryption context is truncated");
		if (!q->kl || !utf8_ok(q->k, q->kl) || !utf8_ok(q->v, q->vl))
			return fail(out, BW_INVALID,
			            "an encryption context pair is not UTF-8 text");
		if (i && pair_cmp(&h->pairs[i - 1], q) >= 0)
			return fail(out, BW_INVALID,
			            "the encryption context is not sorted or repeats a key");
	}
	if (r.at != aad)
		return fail(out, BW_INVALID, "bytes after the encryption context pairs");
	h->npairs = n;
	return BW_OK;
}

static bw_result parse_header(const uint8_t *msg, size_t len, struct hdr *h,
                              struct bw_esdk_plain *out)
{
	struct rd r = {msg, len, 0, false};
	const uint8_t *v = take(&r, 1);
	if (!v || *v != VERSION)
		return fail(out, BW_INVALID, "not an Encryption SDK message of format version 2");
	if (get16(&r) != BW_ESDK_SUITE)
		return fail(out, BW_INVALID,
		            "unsupported algorithm suite (only 0x0478: AES-256-GCM, HKDF-SHA512, "
		            "key commitment, no signature)");
	h->msg_id = take(&r, ID_LEN);
	size_t aad = get16(&r);
	const uint8_t *ctx = take(&r, aad);
	if (r.bad)
		return fail(out, BW_INVALID, "the message header is truncated");
	bw_result res = parse_context(ctx, aad, h, out);
	if (res != BW_OK)
		return res;
	h->nedks = get16(&r);
	if (!r.bad && !h->nedks)
		return fail(out, BW_INVALID, "no encrypted data key");
	if (h->nedks > BW_ESDK_MAX_KEYS)
		return fail(out, BW_TOOBIG, "more than 8 encrypted data keys");
	for (size_t i = 0; i < h->nedks; i++) {
		struct edk *e = &h->edks[i];
		e->id = get_var(&r, &e->idl);
		e->info = get_var(&r, &e->infol);
		e->ct = get_var(&r, &e->ctl);
	}
	const uint8_t *ct = take(&r, 1);
	h->frame_len = get32(&r);
	h->commit = take(&r, KEY_LEN);
	h->hlen = r.at;
	h->tag = take(&r, TAG_LEN);
	if (r.bad)
		return fail(out, BW_INVALID, "the message header is truncated");
	if (*ct != CONTENT_FRAMED)
		return fail(out, BW_INVALID, "not framed content");
	if (!h->frame_len)
		return fail(out, BW_INVALID, "a frame length of 0");
	h->body = r.at;
	return BW_OK;
}

/* The data key from the first EDK of provider "Bulwark" this key opens. */
static bw_result unwrap(const struct bw_esdk_privkey *k, const struct hdr *h, uint8_t dk[KEY_LEN],
                        struct bw_esdk_plain *out)
{
	uint8_t buf[1024]; /* MAX_BITS / 8, with room */
	for (size_t i = 0; i < h->nedks; i++) {
		const struct edk *e = &h->edks[i];
		size_t olen = sizeof(buf);
		if (e->idl != PROVIDER_LEN || memcmp(e->id, BW_ESDK_PROVIDER, PROVIDER_LEN) ||
		    e->infol > BW_ESDK_MAX_KEY_ID ||
		    (size_t)EVP_PKEY_get_size(k->pkey) > sizeof(buf))
			continue;
		EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(k->pkey, NULL);
		bool ok = c && EVP_PKEY_decrypt_init(c) > 0 && oaep(c) &&
		          EVP_PKEY_decrypt(c, buf, &olen, e->ct, e->ctl) > 0 && olen == KEY_LEN;
		EVP_PKEY_CTX_free(c);
		ERR_clear_error();
		if (ok) {
			memcpy(dk, buf, KEY_LEN);
			memcpy(out->key_id, e->info, e->infol);
			out->key_id[e->infol] = '\0';
		}
		sodium_memzero(buf, sizeof(buf));
		if (ok)
			return BW_OK;
	}
	return fail(out, BW_DENIED,
	            "no encrypted data key of provider \"Bulwark\" opens with this private key");
}

static bw_result context_out(const struct hdr *h, struct bw_esdk_plain *out)
{
	size_t size = h->npairs * sizeof(struct bw_esdk_pair);
	if (!h->npairs)
		return BW_OK;
	for (size_t i = 0; i < h->npairs; i++)
		size += h->pairs[i].kl + h->pairs[i].vl + 2;
	char *blk = malloc(size);
	if (!blk)
		return fail(out, BW_NOMEM, "out of memory");
	struct bw_esdk_pair *p = (struct bw_esdk_pair *)(void *)blk;
	char *s = blk + h->npairs * sizeof(*p);
	for (size_t i = 0; i < h->npairs; i++) {
		const struct pair *q = &h->pairs[i];
		p[i].key = s;
		memcpy(s, q->k, q->kl);
		s[q->kl] = '\0';
		s += q->kl + 1;
		p[i].value = s;
		memcpy(s, q->v, q->vl);
		s[q->vl] = '\0';
		s += q->vl + 1;
	}
	out->ctx = p;
	out->nctx = h->npairs;
	return BW_OK;
}

/* The frames, in sequence, into out->pt (which the caller wipes on failure). */
static bw_result frames(const struct hdr *h, const uint8_t ek[KEY_LEN], const uint8_t *msg,
                        size_t len, struct bw_esdk_plain *out)
{
	struct rd r = {msg, len, h->body, false};
	uint8_t iv[IV_LEN], aad[AAD_MAX];
	size_t cap = len - h->body;
	if (!(out->pt = malloc(cap ? cap : 1)))
		return fail(out, BW_NOMEM, "out of memory");
	for (uint32_t seq = 1;; seq++) {
		uint32_t mark = get32(&r);
		bool final = mark == FINAL;
		uint32_t s = final ? get32(&r) : mark;
		const uint8_t *fiv = take(&r, IV_LEN);
		uint32_t clen = final ? get32(&r) : h->frame_len;
		if (r.bad)
			return fail(out, BW_INVALID, "the message body is truncated");
		if (s != seq)
			return fail(out, BW_INVALID, "a frame is out of sequence");
		frame_iv(iv, seq);
		if (memcmp(fiv, iv, IV_LEN))
			return fail(out, BW_INVALID, "a frame's IV is not its sequence number");
		if (clen > h->frame_len)
			return fail(out, BW_INVALID,
			            "the final frame is longer than the frame length");
		const uint8_t *ct = take(&r, clen), *tag = take(&r, TAG_LEN);
		if (r.bad)
			return fail(out, BW_INVALID, "the message body is truncated");
		size_t alen = frame_aad(aad, h->msg_id, final, seq, clen);
		if (!gcm(false, ek, iv, aad, alen, ct, clen, out->pt + out->len, (uint8_t *)tag)) {
			/* What it decrypted to is not authentic, but may be near the truth. */
			sodium_memzero(out->pt + out->len, clen);
			return fail(out, BW_INVALID, "a frame does not authenticate");
		}
		out->len += clen;
		if (final)
			break;
		if (seq == FINAL - 1)
			return fail(out, BW_INVALID, "too many frames");
	}
	if (r.at != len)
		return fail(out, BW_INVALID, "bytes after the final frame");
	return BW_OK;
}

bw_result bw_esdk_open(const struct bw_esdk_privkey *k, const uint8_t *msg, size_t len,
                       struct bw_esdk_plain *out)
{
	static const uint8_t zero_iv[IV_LEN];
	uint8_t dk[KEY_LEN], ek[KEY_LEN], ck[KEY_LEN];
	struct hdr *h = NULL;
	bw_result r;
	memset(out, 0, sizeof(*out));
	if (!k || (!msg && len))
		return fail(out, BW_INVALID, "no key or no message");
	if (len > BW_ESDK_MAX_MESSAGE)
		return fail(out, BW_TOOBIG, "the message is larger than 4 MiB");
	if (!(h = calloc(1, sizeof(*h))))
		return fail(out, BW_NOMEM, "out of memory");
	if ((r = parse_header(msg, len, h, out)) != BW_OK || (r = unwrap(k, h, dk, out)) != BW_OK)
		goto out;
	derive(dk, h->msg_id, ek, ck);
	r = BW_INVALID;
	if (CRYPTO_memcmp(ck, h->commit, KEY_LEN)) {
		fail(out, r, "the key commitment does not match");
		goto out;
	}
	if (!gcm(false, ek, zero_iv, msg, h->hlen, NULL, 0, NULL, (uint8_t *)h->tag)) {
		fail(out, r, "the header does not authenticate");
		goto out;
	}
	if ((r = frames(h, ek, msg, len, out)) == BW_OK)
		r = context_out(h, out);
out:
	sodium_memzero(dk, sizeof(dk));
	sodium_memzero(ek, sizeof(ek));
	sodium_memzero(ck, sizeof(ck));
	free(h);
	if (r != BW_OK) {
		const char *why = out->error;
		bw_esdk_plain_free(out);
		out->error = why;
	}
	return r;
}

void bw_esdk_plain_free(struct bw_esdk_plain *p)
{
	if (p->pt) {
		sodium_memzero(p->pt, p->len);
		free(p->pt);
	}
	free(p->ctx);
	memset(p, 0, sizeof(*p));
}

/* Never prompt for a passphrase. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1;
}

bw_result bw_esdk_privkey_load(const char *pem, size_t len, struct bw_esdk_privkey **out,
                               const char **why)
{
	*out = NULL;
	if (len > MAX_PEM) {
		*why = "the private key file is larger than 64 KiB";
		return BW_INVALID;
	}
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL) : NULL;
	BIO_free(b);
	ERR_clear_error();
	if (!k) {
		*why = memmem(pem, len, "ENCRYPTED", 9)
		           ? "the private key is protected by a passphrase: export it without one"
		           : "not a PEM private key";
		return BW_INVALID;
	}
	int bits = EVP_PKEY_get_bits(k);
	if (EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA || bits < MIN_BITS || bits > MAX_BITS) {
		EVP_PKEY_free(k);
		*why = "not an RSA private key of 2048 to 4096 bits";
		return BW_INVALID;
	}
	if (!(*out = malloc(sizeof(**out)))) {
		EVP_PKEY_free(k);
		*why = "out of memory";
		return BW_NOMEM;
	}
	(*out)->pkey = k;
	return BW_OK;
}

void bw_esdk_privkey_free(struct bw_esdk_privkey *k)
{
	if (k) {
		EVP_PKEY_free(k->pkey); /* OpenSSL clears the key's numbers */
		free(k);
	}
}

bw_result bw_esdk_open_b64(const struct bw_esdk_privkey *k, const char *b64, size_t b64_len,
                           struct bw_esdk_plain *out)
{
	const char *end = NULL;
	size_t blen = 0, cap = b64_len / 4 * 3 + 3;
	memset(out, 0, sizeof(*out));
	if (b64_len > MAX_B64)
		return fail(out, BW_TOOBIG, "the message is larger than 4 MiB");
	if (!b64 || memchr(b64, '\0', b64_len))
		return fail(out, BW_INVALID, "the message is not standard base64");
	uint8_t *bin = malloc(cap);
	if (!bin)
		return fail(out, BW_NOMEM, "out of memory");
	bw_result r;
	if (sodium_base642bin(bin, cap, b64, b64_len, " \t\r\n", &blen, &end,
	                      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    end != b64 + b64_len || !blen)
		r = fail(out, BW_INVALID, "the message is not standard base64");
	else
		r = bw_esdk_open(k, bin, blen, out);
	free(bin);
	return r;
}

bw_result bw_esdk_decrypt(const char *private_pem, const char *b64, size_t b64_len,
                          struct bw_esdk_plain *out)
{
	struct bw_esdk_privkey *k = NULL;
	const char *why = NULL;
	memset(out, 0, sizeof(*out));
	bw_result r = bw_esdk_privkey_load(private_pem, strlen(private_pem), &k, &why);
	if (r != BW_OK)
		return fail(out, r, why);
	r = bw_esdk_open_b64(k, b64, b64_len, out);
	bw_esdk_privkey_free(k);
	return r;
}

/* ---- public keys of /encryption-keys ---- */

bw_result bw_esdk_public_key(const char *pem, size_t len, char **canonical, int *bits, char fp[65],
                             const char **why)
{
	uint8_t *der = NULL, h[crypto_hash_sha256_BYTES];
	char *text = NULL;
	BIO *b = NULL;
	EVP_PKEY_CTX *c = NULL;
	bw_result r = BW_INVALID;
	*canonical = NULL;
	if (memmem(pem, len, "PRIVATE KEY", 11)) {
		*why = "public_key holds a private key: send only the public key";
		return BW_INVALID;
	}
	EVP_PKEY *k = read_public(pem, len);
	if (!k) {
		*why = "public_key must be an RSA public key in PEM "
		       "(-----BEGIN PUBLIC KEY-----)";
		goto out;
	}
	*bits = EVP_PKEY_get_bits(k);
	if (*bits < MIN_BITS || *bits > MAX_BITS) {
		*why = "public_key must be an RSA key of 2048 to 4096 bits";
		goto out;
	}
	c = EVP_PKEY_CTX_new(k, NULL);
	if (!c || EVP_PKEY_public_check(c) != 1) {
		*why = "public_key is not a valid RSA public key";
		goto out;
	}
	r = BW_ERR;
	int dl = i2d_PUBKEY(k, &der);
	b = BIO_new(BIO_s_mem());
	if (dl <= 0 || !b || PEM_write_bio_PUBKEY(b, k) != 1)
		goto out;
	crypto_hash_sha256(h, der, (unsigned long long)dl);
	sodium_bin2hex(fp, 65, h, sizeof(h));
	char *mem;
	long ml = BIO_get_mem_data(b, &mem);
	if (ml <= 0 || !(text = malloc((size_t)ml + 1)))
		goto out;
	memcpy(text, mem, (size_t)ml);
	text[ml] = '\0';
	*canonical = text;
	r = BW_OK;
out:
	OPENSSL_free(der);
	BIO_free(b);
	EVP_PKEY_CTX_free(c);
	EVP_PKEY_free(k);
	ERR_clear_error();
	return r;
}
