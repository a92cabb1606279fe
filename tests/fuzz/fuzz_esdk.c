/* fuzz_esdk: the AWS Encryption SDK message reader (src/sec/esdk.c). The
 * first byte picks the mode:
 *   0  the rest is a binary message, opened with the test key of
 *      tests/unit/esdk_vectors.h (the seeds are real messages to it, so
 *      mutations get past the header tag into the frames);
 *   1  the rest is base64 text, the same way;
 *   2  a round trip: a byte (its low two bits: how many context pairs, up
 *      to three; all of it: which bit to flip), the pairs (key and value,
 *      each NUL-terminated), then the plaintext, encrypted to the test key;
 *      what is encrypted must decrypt to the same bytes and context, and
 *      the message with one bit flipped must not.
 * What opens must hold: the plaintext no longer than the message, the
 * context NUL-free UTF-8 strings sorted by key bytes. No crash on any input.
 * The seeds in corpus/fuzz_esdk: bin_* and text_* are messages the real
 * @aws-crypto/client-node made to the test key (suite 0x0478, frame lengths
 * 4096, 16 and 1024), rt_* round trips. */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/esdk_vectors.h"
#include "sec/esdk.h"

#include "fuzz_check.h"

static struct bw_esdk_privkey *priv;
static char *pub_pem;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *why = NULL;
	CHECK(sodium_init() >= 0);
	CHECK(bw_esdk_privkey_load(esdk_test_private_pem, strlen(esdk_test_private_pem), &priv,
	                           &why) == BW_OK);
	BIO *in = BIO_new_mem_buf(esdk_test_private_pem, -1), *out = BIO_new(BIO_s_mem());
	EVP_PKEY *k = PEM_read_bio_PrivateKey(in, NULL, NULL, NULL);
	CHECK(k && PEM_write_bio_PUBKEY(out, k) == 1);
	char *mem;
	long n = BIO_get_mem_data(out, &mem);
	pub_pem = malloc((size_t)n + 1);
	CHECK(pub_pem);
	memcpy(pub_pem, mem, (size_t)n);
	pub_pem[n] = '\0';
	EVP_PKEY_free(k);
	BIO_free(in);
	BIO_free(out);
	return 0;
}

static void check_opened(const struct bw_esdk_plain *p, size_t msg_len)
{
	CHECK(p->len <= msg_len);
	CHECK(p->len == 0 || p->pt);
	CHECK(strlen(p->key_id) <= BW_ESDK_MAX_KEY_ID);
	for (size_t i = 0; i < p->nctx; i++) {
		CHECK(p->ctx[i].key[0]);
		if (i)
			CHECK(strcmp(p->ctx[i - 1].key, p->ctx[i].key) < 0);
	}
}

static void open_bin(const uint8_t *data, size_t size)
{
	struct bw_esdk_plain p;
	bw_result r = bw_esdk_open(priv, data, size, &p);
	if (r == BW_OK)
		check_opened(&p, size);
	else
		CHECK(!p.pt && !p.ctx && p.error);
	bw_esdk_plain_free(&p);
}

static void open_text(const uint8_t *data, size_t size)
{
	struct bw_esdk_plain p;
	bw_result r = bw_esdk_open_b64(priv, (const char *)data, size, &p);
	if (r == BW_OK)
		check_opened(&p, size);
	else
		CHECK(!p.pt && !p.ctx && p.error);
	bw_esdk_plain_free(&p);
}

/* Next NUL-terminated piece of the input into a fresh string; NULL at the end. */
static char *piece(const uint8_t **d, size_t *n)
{
	const uint8_t *z = memchr(*d, 0, *n);
	if (!z)
		return NULL;
	size_t len = (size_t)(z - *d);
	char *s = malloc(len + 1);
	CHECK(s);
	memcpy(s, *d, len);
	s[len] = '\0';
	*d += len + 1;
	*n -= len + 1;
	return s;
}

static void round_trip(const uint8_t *data, size_t size)
{
	struct bw_esdk_pair ctx[3];
	char *strs[6] = {0};
	size_t nctx = 0, ns = 0;
	if (!size)
		return;
	size_t want = data[0] % 4, flip = data[0];
	data++, size--;
	while (nctx < want) {
		char *k = piece(&data, &size), *v = k ? piece(&data, &size) : NULL;
		if (k)
			strs[ns++] = k;
		if (!v)
			break;
		strs[ns++] = v;
		ctx[nctx++] = (struct bw_esdk_pair){k, v};
	}
	const struct bw_esdk_key key = {"js-key", pub_pem};
	uint8_t *msg = NULL;
	size_t len = 0;
	bw_result r = bw_esdk_encrypt_bin(&key, 1, ctx, nctx, data, size, &msg, &len);
	if (r == BW_OK) {
		struct bw_esdk_plain p;
		CHECK(bw_esdk_open(priv, msg, len, &p) == BW_OK);
		CHECK(p.len == size && (size == 0 || !memcmp(p.pt, data, size)));
		CHECK(p.nctx == nctx);
		for (size_t i = 0; i < nctx; i++) {
			bool found = false;
			for (size_t j = 0; j < p.nctx; j++)
				found |= !strcmp(p.ctx[j].key, ctx[i].key) &&
				         !strcmp(p.ctx[j].value, ctx[i].value);
			CHECK(found);
		}
		check_opened(&p, len);
		bw_esdk_plain_free(&p);
		size_t at = (flip * 2654435761u + size) % len;
		msg[at] ^= (uint8_t)(1u << (flip % 8));
		CHECK(bw_esdk_open(priv, msg, len, &p) != BW_OK);
		bw_esdk_plain_free(&p);
	} else {
		CHECK(!msg);
	}
	free(msg);
	for (size_t i = 0; i < ns; i++)
		free(strs[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	switch (data[0] % 3) {
	case 0:
		open_bin(data + 1, size - 1);
		break;
	case 1:
		open_text(data + 1, size - 1);
		break;
	default:
		round_trip(data + 1, size - 1);
		break;
	}
	return 0;
}
