/* The AWS Encryption SDK messages of src/sec/esdk.c: round trips through
 * bw_esdk_decrypt with two keys at sizes around the frame length; every
 * header field at its offset, the keys recomputed here with OpenSSL's own
 * HKDF, RSA and GCM (not the code under test); a flipped bit anywhere, a
 * cut and an added byte are refused; messages the real @aws-crypto/
 * client-node made decrypt (esdk_vectors.h); what encryption refuses; the
 * public-key checks of /encryption-keys. */
#include "test_common.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>

#include "esdk_vectors.h"
#include "sec/esdk.h"

struct kp {
	char *pub, *priv; /* PEM */
};

static char *pem_of(EVP_PKEY *k, bool priv)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *mem, *out;
	assert_non_null(b);
	if (priv)
		assert_int_equal(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL), 1);
	else
		assert_int_equal(PEM_write_bio_PUBKEY(b, k), 1);
	long n = BIO_get_mem_data(b, &mem);
	out = malloc((size_t)n + 1);
	assert_non_null(out);
	memcpy(out, mem, (size_t)n);
	out[n] = '\0';
	BIO_free(b);
	return out;
}

static struct kp make_key(unsigned bits)
{
	EVP_PKEY *k = EVP_RSA_gen(bits);
	assert_non_null(k);
	struct kp p = {pem_of(k, false), pem_of(k, true)};
	EVP_PKEY_free(k);
	return p;
}

static void free_key(struct kp *p)
{
	free(p->pub);
	free(p->priv);
}

/* Keys for the whole file (generation is slow): two recipients, a stranger. */
static struct kp k2048, k3072, kother;

static int setup(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	k2048 = make_key(2048);
	k3072 = make_key(3072);
	kother = make_key(2048);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free_key(&k2048);
	free_key(&k3072);
	free_key(&kother);
	return 0;
}

static const struct bw_esdk_pair ctx3[] = {
    {"instance_id", "in_abc"},
    {"contact_id", "ct_123"},
    {"attribute", "card_number"},
};

static uint8_t *pattern(size_t n)
{
	uint8_t *p = malloc(n ? n : 1);
	assert_non_null(p);
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + 3);
	return p;
}

static void check_ctx(const struct bw_esdk_plain *p)
{
	/* Sorted by key bytes, as written. */
	assert_int_equal(p->nctx, 3);
	assert_string_equal(p->ctx[0].key, "attribute");
	assert_string_equal(p->ctx[0].value, "card_number");
	assert_string_equal(p->ctx[1].key, "contact_id");
	assert_string_equal(p->ctx[1].value, "ct_123");
	assert_string_equal(p->ctx[2].key, "instance_id");
	assert_string_equal(p->ctx[2].value, "in_abc");
}

static void test_round_trip_two_keys(void **state)
{
	(void)state;
	const struct bw_esdk_key keys[] = {{"key-2048", k2048.pub}, {"rot.3072_b", k3072.pub}};
	const size_t sizes[] = {0, 1, 19, 4095, 4096, 4097, 8192, 10000};
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		size_t n = sizes[s];
		uint8_t *pt = pattern(n);
		char *b64 = NULL;
		assert_int_equal(bw_esdk_encrypt(keys, 2, ctx3, 3, n ? pt : NULL, n, &b64), BW_OK);
		assert_non_null(b64);
		const struct kp *privs[] = {&k2048, &k3072};
		for (size_t i = 0; i < 2; i++) {
			struct bw_esdk_plain p;
			assert_int_equal(bw_esdk_decrypt(privs[i]->priv, b64, strlen(b64), &p),
			                 BW_OK);
			assert_int_equal(p.len, n);
			assert_true(n == 0 || !memcmp(p.pt, pt, n));
			assert_string_equal(p.key_id, keys[i].key_id);
			check_ctx(&p);
			bw_esdk_plain_free(&p);
		}
		/* A key of neither: no encrypted data key opens. */
		struct bw_esdk_plain p;
		assert_int_equal(bw_esdk_decrypt(kother.priv, b64, strlen(b64), &p), BW_DENIED);
		assert_null(p.pt);
		assert_non_null(p.error);
		free(b64);
		free(pt);
	}
}

static void test_messages_differ(void **state)
{
	(void)state;
	const struct bw_esdk_key k = {"k", k2048.pub};
	char *a = NULL, *b = NULL;
	assert_int_equal(bw_esdk_encrypt(&k, 1, NULL, 0, (const uint8_t *)"same", 4, &a), BW_OK);
	assert_int_equal(bw_esdk_encrypt(&k, 1, NULL, 0, (const uint8_t *)"same", 4, &b), BW_OK);
	assert_string_not_equal(a, b); /* a fresh message id and data key each time */
	struct bw_esdk_plain p;
	assert_int_equal(bw_esdk_decrypt(k2048.priv, a, strlen(a), &p), BW_OK);
	assert_int_equal(p.nctx, 0);
	assert_null(p.ctx);
	assert_memory_equal(p.pt, "same", 4);
	bw_esdk_plain_free(&p);
	free(a);
	free(b);
}

/* ---- the bytes, recomputed independently ---- */

static uint32_t rd16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void ossl_hkdf(const uint8_t *dk, const uint8_t *salt, const void *info, size_t ilen,
                      uint8_t out[32])
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *c = EVP_KDF_CTX_new(kdf);
	OSSL_PARAM ps[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA512", 0),
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)dk, 32),
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, 32),
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, ilen),
	    OSSL_PARAM_construct_end(),
	};
	assert_int_equal(EVP_KDF_derive(c, out, 32, ps), 1);
	EVP_KDF_CTX_free(c);
	EVP_KDF_free(kdf);
}

static void ossl_rsa_open(const char *priv_pem, const uint8_t *ct, size_t n, uint8_t dk[32])
{
	BIO *b = BIO_new_mem_buf(priv_pem, -1);
	EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	assert_non_null(k);
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(k, NULL);
	uint8_t buf[512];
	size_t olen = sizeof(buf);
	assert_int_equal(EVP_PKEY_decrypt_init(c), 1);
	assert_true(EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_OAEP_PADDING) > 0);
	assert_true(EVP_PKEY_CTX_set_rsa_oaep_md(c, EVP_sha512()) > 0);
	assert_true(EVP_PKEY_CTX_set_rsa_mgf1_md(c, EVP_sha512()) > 0);
	assert_int_equal(EVP_PKEY_decrypt(c, buf, &olen, ct, n), 1);
	assert_int_equal(olen, 32);
	memcpy(dk, buf, 32);
	EVP_PKEY_CTX_free(c);
	EVP_PKEY_free(k);
	BIO_free(b);
}

/* GCM open with OpenSSL; true when the tag holds. */
static bool ossl_gcm_open(const uint8_t key[32], const uint8_t iv[12], const uint8_t *aad,
                          size_t alen, const uint8_t *ct, size_t n, const uint8_t tag[16],
                          uint8_t *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int l;
	uint8_t fin[16];
	bool ok = EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, iv) == 1 &&
	          EVP_DecryptUpdate(c, NULL, &l, aad, (int)alen) == 1 &&
	          (n == 0 || EVP_DecryptUpdate(c, out, &l, ct, (int)n) == 1) &&
	          EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, (void *)tag) == 1 &&
	          EVP_DecryptFinal_ex(c, fin, &l) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok;
}

static uint8_t *unb64(const char *b64, size_t *len)
{
	size_t cap = strlen(b64);
	uint8_t *bin = malloc(cap);
	assert_non_null(bin);
	assert_int_equal(sodium_base642bin(bin, cap, b64, strlen(b64), NULL, len, NULL,
	                                   sodium_base64_VARIANT_ORIGINAL),
	                 0);
	return bin;
}

static void test_header_offsets(void **state)
{
	(void)state;
	const struct bw_esdk_key keys[] = {{"key-2048", k2048.pub}, {"rot.3072_b", k3072.pub}};
	const size_t n = 4096 + 100; /* one full frame and a final one of 100 bytes */
	uint8_t *pt = pattern(n), *out = malloc(n);
	char *b64 = NULL;
	size_t len;
	assert_int_equal(bw_esdk_encrypt(keys, 2, ctx3, 3, pt, n, &b64), BW_OK);
	/* Standard base64 with padding: the alphabet has + and /, never - or _. */
	assert_null(strpbrk(b64, "-_\n"));
	assert_int_equal(strlen(b64) % 4, 0);
	uint8_t *m = unb64(b64, &len);

	assert_int_equal(m[0], 0x02);          /* version */
	assert_int_equal(rd16(m + 1), 0x0478); /* suite */
	const uint8_t *id = m + 3;             /* message id: 32 bytes, no length */
	size_t aad = rd16(m + 35);
	static const char ctx_bytes[] = "\x00\x03"
	                                "\x00\x09"
	                                "attribute"
	                                "\x00\x0b"
	                                "card_number"
	                                "\x00\x0a"
	                                "contact_id"
	                                "\x00\x06"
	                                "ct_123"
	                                "\x00\x0b"
	                                "instance_id"
	                                "\x00\x06"
	                                "in_abc";
	assert_int_equal(aad, sizeof(ctx_bytes) - 1);
	assert_memory_equal(m + 37, ctx_bytes, aad);
	size_t at = 37 + aad;
	assert_int_equal(rd16(m + at), 2); /* EDK count */
	at += 2;
	const char *ids[] = {"key-2048", "rot.3072_b"};
	const size_t ctlen[] = {256, 384};
	const uint8_t *edk_ct[2];
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(rd16(m + at), 7);
		assert_memory_equal(m + at + 2, "Bulwark", 7);
		at += 9;
		assert_int_equal(rd16(m + at), strlen(ids[i]));
		assert_memory_equal(m + at + 2, ids[i], strlen(ids[i]));
		at += 2 + strlen(ids[i]);
		assert_int_equal(rd16(m + at), ctlen[i]);
		edk_ct[i] = m + at + 2;
		at += 2 + ctlen[i];
	}
	assert_int_equal(m[at], 0x02); /* framed */
	assert_int_equal(rd32(m + at + 1), 4096);
	const uint8_t *commit = m + at + 5;
	size_t hlen = at + 5 + 32;
	const uint8_t *htag = m + hlen;

	/* The data key through either EDK, then the keys by the spec. */
	uint8_t dk[32], dk2[32], ek[32], ck[32], zero_iv[12] = {0};
	ossl_rsa_open(k2048.priv, edk_ct[0], ctlen[0], dk);
	ossl_rsa_open(k3072.priv, edk_ct[1], ctlen[1], dk2);
	assert_memory_equal(dk, dk2, 32);
	ossl_hkdf(dk, id,
	          "\x04\x78"
	          "DERIVEKEY",
	          11, ek);
	ossl_hkdf(dk, id, "COMMITKEY", 9, ck);
	assert_memory_equal(commit, ck, 32);
	assert_true(ossl_gcm_open(ek, zero_iv, m, hlen, NULL, 0, htag, NULL));

	/* Frame 1: seq, IV = 8 zero bytes | seq, 4096 bytes, tag. */
	at = hlen + 16;
	uint8_t iv[12] = {0}, faad[32 + 34 + 12];
	assert_int_equal(rd32(m + at), 1);
	iv[11] = 1;
	assert_memory_equal(m + at + 4, iv, 12);
	memcpy(faad, id, 32);
	memcpy(faad + 32, "AWSKMSEncryptionClient Frame", 28);
	memcpy(faad + 60,
	       "\x00\x00\x00\x01"
	       "\x00\x00\x00\x00\x00\x00\x10\x00",
	       12);
	assert_true(ossl_gcm_open(ek, iv, faad, 72, m + at + 16, 4096, m + at + 16 + 4096, out));
	at += 16 + 4096 + 16;
	/* The final frame: FFFFFFFF, seq 2, IV, u32 length, bytes, tag. */
	assert_int_equal(rd32(m + at), 0xFFFFFFFFu);
	assert_int_equal(rd32(m + at + 4), 2);
	iv[11] = 2;
	assert_memory_equal(m + at + 8, iv, 12);
	assert_int_equal(rd32(m + at + 20), 100);
	memcpy(faad + 32, "AWSKMSEncryptionClient Final Frame", 34);
	memcpy(faad + 66,
	       "\x00\x00\x00\x02"
	       "\x00\x00\x00\x00\x00\x00\x00\x64",
	       12);
	assert_true(
	    ossl_gcm_open(ek, iv, faad, 78, m + at + 24, 100, m + at + 24 + 100, out + 4096));
	assert_int_equal(at + 24 + 100 + 16, len); /* nothing after it */
	assert_memory_equal(out, pt, n);
	free(m);
	free(b64);
	free(pt);
	free(out);
}

/* ---- tampering ---- */

static char *b64_of(const uint8_t *m, size_t len)
{
	size_t cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	char *s = malloc(cap);
	assert_non_null(s);
	sodium_bin2base64(s, cap, m, len, sodium_base64_VARIANT_ORIGINAL);
	return s;
}

static void test_flipped_bits_refused(void **state)
{
	(void)state;
	const struct bw_esdk_key k = {"key-2048", k2048.pub};
	struct bw_esdk_privkey *priv = NULL;
	const char *why = NULL;
	uint8_t *m = NULL;
	size_t len;
	/* Two frames at a small size would need a smaller frame length; the
	 * 4096-byte one keeps the message short and the loop quick. */
	assert_int_equal(
	    bw_esdk_encrypt_bin(&k, 1, ctx3, 3, (const uint8_t *)"4111111111111111", 16, &m, &len),
	    BW_OK);
	assert_int_equal(bw_esdk_privkey_load(k2048.priv, strlen(k2048.priv), &priv, &why), BW_OK);
	struct bw_esdk_plain p;
	assert_int_equal(bw_esdk_open(priv, m, len, &p), BW_OK);
	bw_esdk_plain_free(&p);
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			m[i] ^= (uint8_t)(1u << bit);
			bw_result r = bw_esdk_open(priv, m, len, &p);
			if (r == BW_OK)
				fail_msg("a flip of bit %d of byte %zu was accepted", bit, i);
			assert_null(p.pt);
			assert_null(p.ctx);
			assert_non_null(p.error);
			m[i] ^= (uint8_t)(1u << bit);
		}
	}
	/* Every cut, and one byte more. */
	for (size_t cut = 0; cut < len; cut++)
		assert_int_not_equal(bw_esdk_open(priv, m, cut, &p), BW_OK);
	uint8_t *longer = malloc(len + 1);
	memcpy(longer, m, len);
	longer[len] = 0;
	assert_int_equal(bw_esdk_open(priv, longer, len + 1, &p), BW_INVALID);
	assert_string_equal(p.error, "bytes after the final frame");
	/* The same through base64: a flipped bit of the text. */
	char *b64 = b64_of(m, len);
	b64[40] = b64[40] == 'A' ? 'B' : 'A';
	assert_int_not_equal(bw_esdk_open_b64(priv, b64, strlen(b64), &p), BW_OK);
	free(b64);
	free(longer);
	free(m);
	bw_esdk_privkey_free(priv);
}

/* Refusals that name the reason: version, suite, content type. */
static void test_refusals(void **state)
{
	(void)state;
	const struct bw_esdk_key k = {"key-2048", k2048.pub};
	struct bw_esdk_privkey *priv = NULL;
	const char *why = NULL;
	struct bw_esdk_plain p;
	uint8_t *m = NULL;
	size_t len;
	assert_int_equal(bw_esdk_encrypt_bin(&k, 1, NULL, 0, (const uint8_t *)"x", 1, &m, &len),
	                 BW_OK);
	assert_int_equal(bw_esdk_privkey_load(k2048.priv, strlen(k2048.priv), &priv, &why), BW_OK);
	m[0] = 1;
	assert_int_equal(bw_esdk_open(priv, m, len, &p), BW_INVALID);
	assert_contains(p.error, "version 2");
	m[0] = 2;
	m[1] = 0x05; /* 0x0578: signed */
	assert_int_equal(bw_esdk_open(priv, m, len, &p), BW_INVALID);
	assert_contains(p.error, "algorithm suite");
	m[1] = 0x04;
	/* No context: AAD length 0, then the EDK count 1, then its fields. */
	assert_int_equal(rd16(m + 35), 0);
	assert_int_equal(rd16(m + 37), 1);
	size_t ct_at = 39 + 2 + 7 + 2 + 8 + 2 + 256;
	m[ct_at] = 1; /* non-framed */
	assert_int_equal(bw_esdk_open(priv, m, len, &p), BW_INVALID);
	assert_contains(p.error, "framed");
	m[ct_at] = 2;
	assert_int_equal(bw_esdk_open(priv, m, len, &p), BW_OK);
	bw_esdk_plain_free(&p);
	/* Another provider id: not ours to open. */
	m[39 + 2] = 'b';
	assert_int_equal(bw_esdk_open(priv, m, len, &p), BW_DENIED);
	/* Not base64, a NUL, empty. */
	assert_int_equal(bw_esdk_open_b64(priv, "AgR4*", 5, &p), BW_INVALID);
	assert_int_equal(bw_esdk_open_b64(priv, "AgR4\0AAA", 8, &p), BW_INVALID);
	assert_int_equal(bw_esdk_open_b64(priv, "", 0, &p), BW_INVALID);
	assert_int_equal(bw_esdk_open(priv, NULL, 0, &p), BW_INVALID);
	/* A key that is not one: refused before any message is read. */
	assert_int_equal(bw_esdk_decrypt("not a key", "AgR4", 4, &p), BW_INVALID);
	assert_contains(p.error, "private key");
	assert_int_equal(bw_esdk_decrypt(k2048.pub, "AgR4", 4, &p), BW_INVALID);
	free(m);
	bw_esdk_privkey_free(priv);
}

/* Line ends in the base64 (a pasted attribute) are skipped. */
static void test_base64_whitespace(void **state)
{
	(void)state;
	const struct bw_esdk_key k = {"k", k2048.pub};
	char *b64 = NULL, buf[4096];
	assert_int_equal(bw_esdk_encrypt(&k, 1, ctx3, 3, (const uint8_t *)"hi", 2, &b64), BW_OK);
	size_t n = strlen(b64), o = 0;
	for (size_t i = 0; i < n; i++) {
		buf[o++] = b64[i];
		if (i % 64 == 63)
			buf[o++] = '\n';
	}
	buf[o++] = '\r';
	buf[o++] = '\n';
	struct bw_esdk_plain p;
	assert_int_equal(bw_esdk_decrypt(k2048.priv, buf, o, &p), BW_OK);
	assert_memory_equal(p.pt, "hi", 2);
	bw_esdk_plain_free(&p);
	free(b64);
}

/* ---- messages made by @aws-crypto/client-node ---- */

static void test_js_messages(void **state)
{
	(void)state;
	struct bw_esdk_plain p;
	assert_int_equal(bw_esdk_decrypt(esdk_test_private_pem, esdk_js_message_1,
	                                 strlen(esdk_js_message_1), &p),
	                 BW_OK);
	assert_int_equal(p.len, strlen(ESDK_JS_PLAINTEXT_1));
	assert_memory_equal(p.pt, ESDK_JS_PLAINTEXT_1, p.len);
	assert_string_equal(p.key_id, "js-key");
	assert_int_equal(p.nctx, 3);
	assert_string_equal(p.ctx[0].key, "attribute");
	assert_string_equal(p.ctx[0].value, "card");
	assert_string_equal(p.ctx[1].key, "contact_id");
	assert_string_equal(p.ctx[1].value, "ct_js");
	assert_string_equal(p.ctx[2].key, "instance_id");
	assert_string_equal(p.ctx[2].value, "in_js");
	bw_esdk_plain_free(&p);

	assert_int_equal(bw_esdk_decrypt(esdk_test_private_pem, esdk_js_message_2,
	                                 strlen(esdk_js_message_2), &p),
	                 BW_OK);
	assert_int_equal(p.len, 100);
	for (size_t i = 0; i < 100; i++)
		assert_int_equal(p.pt[i], 'x');
	bw_esdk_plain_free(&p);

	/* And our own messages to that key decrypt with it too. */
	BIO *b = BIO_new_mem_buf(esdk_test_private_pem, -1);
	EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	char *pub = pem_of(k, false), *b64 = NULL;
	const struct bw_esdk_key key = {"js-key", pub};
	assert_int_equal(bw_esdk_encrypt(&key, 1, ctx3, 3, (const uint8_t *)"ok", 2, &b64), BW_OK);
	assert_int_equal(bw_esdk_decrypt(esdk_test_private_pem, b64, strlen(b64), &p), BW_OK);
	bw_esdk_plain_free(&p);
	free(b64);
	free(pub);
	EVP_PKEY_free(k);
	BIO_free(b);
}

/* ---- what encryption refuses ---- */

static void test_encrypt_refusals(void **state)
{
	(void)state;
	char *b64 = NULL;
	const uint8_t pt[] = "v";
	const struct bw_esdk_key good = {"k", k2048.pub};
	struct kp small = make_key(1024);
	const struct bw_esdk_key too_small = {"k", small.pub}, no_id = {"", k2048.pub},
	                         bad_pem = {"k", "-----BEGIN PUBLIC KEY-----\nAAAA\n"},
	                         priv_pem = {"k", k2048.priv};
	const struct bw_esdk_key twice[] = {{"k", k2048.pub}, {"k", k3072.pub}};
	assert_int_equal(bw_esdk_encrypt(&too_small, 1, NULL, 0, pt, 1, &b64), BW_INVALID);
	assert_int_equal(bw_esdk_encrypt(&no_id, 1, NULL, 0, pt, 1, &b64), BW_INVALID);
	assert_int_equal(bw_esdk_encrypt(&bad_pem, 1, NULL, 0, pt, 1, &b64), BW_INVALID);
	assert_int_equal(bw_esdk_encrypt(&priv_pem, 1, NULL, 0, pt, 1, &b64), BW_INVALID);
	assert_int_equal(bw_esdk_encrypt(twice, 2, NULL, 0, pt, 1, &b64), BW_INVALID);
	assert_int_equal(bw_esdk_encrypt(&good, 0, NULL, 0, pt, 1, &b64), BW_INVALID);
	assert_null(b64);

	const struct bw_esdk_pair reserved[] = {{"aws-crypto-public-key", "x"}};
	const struct bw_esdk_pair dup[] = {{"a", "1"}, {"a", "2"}};
	const struct bw_esdk_pair empty_key[] = {{"", "1"}};
	const struct bw_esdk_pair bad_utf8[] = {{"a", "\xc3\x28"}};
	assert_int_equal(bw_esdk_encrypt(&good, 1, reserved, 1, pt, 1, &b64), BW_INVALID);
	assert_int_equal(bw_esdk_encrypt(&good, 1, dup, 2, pt, 1, &b64), BW_INVALID);
	assert_int_equal(bw_esdk_encrypt(&good, 1, empty_key, 1, pt, 1, &b64), BW_INVALID);
	assert_int_equal(bw_esdk_encrypt(&good, 1, bad_utf8, 1, pt, 1, &b64), BW_INVALID);

	/* Caps: the plaintext, the context's serialized size. */
	uint8_t *big = calloc(1, BW_ESDK_MAX_PLAINTEXT + 1);
	assert_int_equal(bw_esdk_encrypt(&good, 1, NULL, 0, big, BW_ESDK_MAX_PLAINTEXT + 1, &b64),
	                 BW_TOOBIG);
	char *longv = calloc(1, 40000);
	memset(longv, 'v', 39999);
	const struct bw_esdk_pair huge[] = {{"a", longv}, {"b", longv}};
	assert_int_equal(bw_esdk_encrypt(&good, 1, huge, 2, pt, 1, &b64), BW_TOOBIG);
	assert_null(b64);
	/* UTF-8 keys sort by their bytes: "é" (C3 A9) after "z". */
	const struct bw_esdk_pair utf[] = {{"\xc3\xa9", "1"}, {"z", "2"}};
	assert_int_equal(bw_esdk_encrypt(&good, 1, utf, 2, pt, 1, &b64), BW_OK);
	struct bw_esdk_plain p;
	assert_int_equal(bw_esdk_decrypt(k2048.priv, b64, strlen(b64), &p), BW_OK);
	assert_string_equal(p.ctx[0].key, "z");
	assert_string_equal(p.ctx[1].key, "\xc3\xa9");
	bw_esdk_plain_free(&p);
	free(b64);
	free(big);
	free(longv);
	free_key(&small);
}

/* ---- the public keys of /encryption-keys ---- */

static void test_public_key_checks(void **state)
{
	(void)state;
	char *canon = NULL, fp[65];
	int bits = 0;
	const char *why = NULL;
	assert_int_equal(bw_esdk_public_key(k3072.pub, strlen(k3072.pub), &canon, &bits, fp, &why),
	                 BW_OK);
	assert_int_equal(bits, 3072);
	assert_string_equal(canon, k3072.pub);
	/* The fingerprint: SHA-256 of the DER SubjectPublicKeyInfo. */
	BIO *b = BIO_new_mem_buf(k3072.pub, -1);
	EVP_PKEY *k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
	uint8_t *der = NULL, h[32];
	char hex[65];
	int dl = i2d_PUBKEY(k, &der);
	assert_true(dl > 0);
	crypto_hash_sha256(h, der, (unsigned long long)dl);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	assert_string_equal(fp, hex);
	OPENSSL_free(der);
	EVP_PKEY_free(k);
	BIO_free(b);
	free(canon);

	/* Surrounding text and CRLF line ends are fine; the stored form is clean. */
	char framed[4096];
	size_t o = 0;
	o += (size_t)snprintf(framed, sizeof(framed), "my key:\r\n");
	for (const char *s = k2048.pub; *s; s++) {
		if (*s == '\n')
			framed[o++] = '\r';
		framed[o++] = *s;
	}
	framed[o] = '\0';
	assert_int_equal(bw_esdk_public_key(framed, o, &canon, &bits, fp, &why), BW_OK);
	assert_string_equal(canon, k2048.pub);
	free(canon);

	assert_int_equal(
	    bw_esdk_public_key(k2048.priv, strlen(k2048.priv), &canon, &bits, fp, &why),
	    BW_INVALID);
	assert_contains(why, "private key");
	assert_null(canon);
	struct kp small = make_key(1024);
	assert_int_equal(bw_esdk_public_key(small.pub, strlen(small.pub), &canon, &bits, fp, &why),
	                 BW_INVALID);
	assert_contains(why, "2048 to 4096");
	free_key(&small);
	EVP_PKEY *ec = EVP_EC_gen("P-256");
	char *ecpem = pem_of(ec, false);
	assert_int_equal(bw_esdk_public_key(ecpem, strlen(ecpem), &canon, &bits, fp, &why),
	                 BW_INVALID);
	assert_contains(why, "RSA");
	free(ecpem);
	EVP_PKEY_free(ec);
	assert_int_equal(bw_esdk_public_key("hello", 5, &canon, &bits, fp, &why), BW_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip_two_keys),
	    cmocka_unit_test(test_messages_differ),
	    cmocka_unit_test(test_header_offsets),
	    cmocka_unit_test(test_flipped_bits_refused),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_base64_whitespace),
	    cmocka_unit_test(test_js_messages),
	    cmocka_unit_test(test_encrypt_refusals),
	    cmocka_unit_test(test_public_key_checks),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
