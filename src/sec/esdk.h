/* AWS Encryption SDK messages (C15): customer input encrypted to an
 * integrator's RSA public keys, in the format `@aws-crypto/client-node` 5.x
 * and the other Encryption SDKs decrypt with a raw RSA keyring (key
 * namespace "Bulwark", key name = the key id, RSA-OAEP with SHA-512 and
 * MGF1-SHA-512). Message format version 2, algorithm suite 0x0478
 * (AES-256-GCM, HKDF-SHA512, key commitment, no signature), framed. The
 * layout, byte by byte, is in docs/api.md ("Encrypted customer input").
 *
 * Every function is thread-safe and takes no global state. */
#ifndef BW_ESDK_H
#define BW_ESDK_H

#include <stddef.h>
#include <stdint.h>

#include "core/result.h"

#define BW_ESDK_SUITE 0x0478
#define BW_ESDK_PROVIDER "Bulwark"
#define BW_ESDK_FRAME_LEN 4096u
#define BW_ESDK_MAX_KEYS 8u     /* encrypted data keys written or read */
#define BW_ESDK_MAX_PAIRS 32u   /* encryption context pairs */
#define BW_ESDK_MAX_KEY_ID 255u /* bytes of a key id (provider info) */
#define BW_ESDK_MAX_PLAINTEXT (1u << 20)
#define BW_ESDK_MAX_MESSAGE (4u << 20) /* bytes of a binary message read */

/* The encryption context a flow writes (and test-encrypt imitates): which
 * instance, contact and attribute the value belongs to, so that a message
 * copied to another contact or attribute is seen for what it is. */
#define BW_ESDK_CTX_INSTANCE "instance_id"
#define BW_ESDK_CTX_CONTACT "contact_id"
#define BW_ESDK_CTX_ATTRIBUTE "attribute"

/* One recipient: the key id (written as the provider info) and its RSA
 * public key as PEM text ("-----BEGIN PUBLIC KEY-----", 2048 to 4096
 * bits). The PEM is parsed at each call, so a row of the store
 * (bw_store_enckey_active) can be passed as it is. */
struct bw_esdk_key {
	const char *key_id;
	const char *public_pem;
};

/* One encryption context pair: UTF-8 text, the key non-empty. */
struct bw_esdk_pair {
	const char *key;
	const char *value;
};

/* Encrypts pt (n bytes, at most BW_ESDK_MAX_PLAINTEXT; NULL when 0) to every
 * key, one encrypted data key each, with the context pairs (any order; the
 * message holds them sorted by key bytes; keys starting "aws-crypto-" are
 * reserved). *b64_out: the message in standard base64 with padding,
 * NUL-terminated, malloc'd. BW_INVALID for a bad key, key id or context,
 * BW_TOOBIG past a cap, BW_ERR when the crypto library fails. The data key
 * and the keys derived from it are wiped before return. */
BW_MUST_USE bw_result bw_esdk_encrypt(const struct bw_esdk_key *keys, size_t nkeys,
                                      const struct bw_esdk_pair *ctx, size_t nctx,
                                      const uint8_t *pt, size_t n, char **b64_out);
/* The same, the binary message in *msg (malloc'd, *len bytes). */
BW_MUST_USE bw_result bw_esdk_encrypt_bin(const struct bw_esdk_key *keys, size_t nkeys,
                                          const struct bw_esdk_pair *ctx, size_t nctx,
                                          const uint8_t *pt, size_t n, uint8_t **msg, size_t *len);

/* What a decryption gives. pt is wiped when freed; ctx is one block
 * (keys and values NUL-terminated inside it), in the message's order. */
struct bw_esdk_plain {
	uint8_t *pt;
	size_t len;
	struct bw_esdk_pair *ctx;
	size_t nctx;
	char key_id[BW_ESDK_MAX_KEY_ID + 1]; /* the provider info of the key that opened */
	const char *error;                   /* on failure: why, a static text without secrets */
};
void bw_esdk_plain_free(struct bw_esdk_plain *p);

/* An RSA private key, parsed once (the CLI, tests, the fuzzer). */
struct bw_esdk_privkey;
/* PEM text of an RSA private key (PKCS#8 "PRIVATE KEY" or "RSA PRIVATE
 * KEY"; not passphrase-protected). BW_INVALID with *why set otherwise. */
BW_MUST_USE bw_result bw_esdk_privkey_load(const char *pem, size_t len,
                                           struct bw_esdk_privkey **out, const char **why);
void bw_esdk_privkey_free(struct bw_esdk_privkey *k);

/* Decrypts a binary message: version 2, suite 0x0478, framed, an encrypted
 * data key of provider "Bulwark" that the key opens, the commitment key,
 * the header tag and every frame's tag checked, the frames in sequence, no
 * byte after the final frame. Nothing is returned unless all of it holds.
 * BW_DENIED: no encrypted data key opens with this key; BW_INVALID: a
 * malformed, unsupported or tampered message; BW_TOOBIG: past a cap. */
BW_MUST_USE bw_result bw_esdk_open(const struct bw_esdk_privkey *k, const uint8_t *msg, size_t len,
                                   struct bw_esdk_plain *out);
/* The same from the base64 text (standard alphabet, padded; spaces and
 * line ends are skipped). */
BW_MUST_USE bw_result bw_esdk_open_b64(const struct bw_esdk_privkey *k, const char *b64,
                                       size_t b64_len, struct bw_esdk_plain *out);
/* The same from the private key's PEM text (NUL-terminated): a key that
 * does not load is BW_INVALID too, with out->error saying so. */
BW_MUST_USE bw_result bw_esdk_decrypt(const char *private_pem, const char *b64, size_t b64_len,
                                      struct bw_esdk_plain *out);

/* Checks an RSA public key for /encryption-keys: PEM SubjectPublicKeyInfo,
 * RSA (not RSA-PSS), 2048 to 4096 bits. On BW_OK: *canonical the key
 * re-encoded as PEM (malloc'd), *bits, fp the hex SHA-256 of its DER.
 * BW_INVALID with *why (static text) otherwise. */
BW_MUST_USE bw_result bw_esdk_public_key(const char *pem, size_t len, char **canonical, int *bits,
                                         char fp[65], const char **why);

#endif
