/* Envelope keys (C14, docs/internals/keys.md). The platform root key wraps
 * one key-encryption key (KEK) per instance; KEKs wrap data keys; data keys
 * seal values (sec/seal.h), each value naming its data key. The keyring
 * caches unwrapped keys in guarded memory (sodium_malloc, wiped on free),
 * loads them through a store connection of its own, re-wraps data keys in
 * a background thread when a KEK is rotated or imported (BYOK), and
 * destroys an instance's keys when the instance goes (crypto-shredding).
 * Every call may block on the store: never call it on the loop thread. */
#ifndef BW_KEYRING_H
#define BW_KEYRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/result.h"
#include "store/store.h"

struct bw_keyring_opts {
	unsigned long long dk_max_seals; /* values a data key seals before a new one */
	unsigned rotation_batch;         /* data keys re-wrapped per transaction */
	unsigned rotation_pause_ms;      /* pause between batches (yields to traffic) */
};

/* Starts the keyring on db_path (migrated) with the root key, which must
 * outlive bw_keyring_stop. Re-seals once what older versions sealed under
 * the root key alone, and resumes interrupted rotations. o may be NULL. */
BW_MUST_USE bw_result bw_keyring_start(const char *db_path, int durability, const uint8_t *root_key,
                                       const struct bw_keyring_opts *o);
/* Stops the background thread (a rotation resumes at the next start) and
 * wipes every cached key. */
void bw_keyring_stop(void);

/* What GET .../keys shows. */
#define BW_KEYRING_MAX_RETIRING 4
struct bw_keyring_info {
	char kek_id[48];
	char origin[12];      /* GENERATED, IMPORTED */
	long long created_at; /* ms */
	size_t nretiring;
	char retiring[BW_KEYRING_MAX_RETIRING][48]; /* old KEKs that still wrap data keys */
	long long data_keys;
	bool has_rotation; /* the newest rotation, if any */
	struct bw_key_rotation rotation;
};
/* The instance's key state (its first KEK is made on first use).
 * BW_NOTFOUND once its keys were destroyed; BW_DENIED when its KEK does not
 * open (the row was altered, or another root key wrapped it). */
BW_MUST_USE bw_result bw_keyring_info(const char *iid, struct bw_keyring_info *out);

/* A new KEK for the instance (made here, or imported: 32 bytes the caller
 * wipes) and a rotation that re-wraps every data key under it in the
 * background; the next sealed value takes a new data key. BW_CONFLICT while
 * a rotation of the instance runs; BW_NOTFOUND and BW_DENIED as above. */
BW_MUST_USE bw_result bw_keyring_rotate(const char *iid, const uint8_t *imported_kek,
                                        struct bw_key_rotation *out);
/* Crypto-shredding: the instance's KEKs and data keys leave the cache and
 * the file (secure_delete, WAL truncated) at once; nothing sealed for it
 * opens again, and no key is made for it again. */
BW_MUST_USE bw_result bw_keyring_destroy(const char *iid);
/* Waits until the background thread has no work (tests, benchmarks). */
BW_MUST_USE bw_result bw_keyring_wait_idle(long timeout_ms);

/* BYOK, the KMS import pattern: the platform's RSA public key (3072 bits,
 * made once, its private half sealed under the root key) and a token for
 * one instance that expires. */
#define BW_IMPORT_TOKEN_LEN 48
#define BW_IMPORT_TOKEN_TTL_S 86400
struct bw_import_params {
	char *public_key; /* PEM, malloc'd */
	int bits;
	char token[BW_IMPORT_TOKEN_LEN];
	long long expires_at; /* ms */
};
void bw_import_params_clear(struct bw_import_params *p);
BW_MUST_USE bw_result bw_keyring_import_params(const char *iid, struct bw_import_params *out);
/* Unwraps an RSA-OAEP-SHA256 ciphertext of 32 bytes with the platform key
 * and makes it the instance's KEK (a rotation, as above). BW_INVALID with
 * *field "wrapped_key" or "import_token" (and *why) when the input is wrong. */
BW_MUST_USE bw_result bw_keyring_import(const char *iid, const char *token, const uint8_t *wrapped,
                                        size_t n, struct bw_key_rotation *out, const char **field,
                                        const char **why);

#endif
