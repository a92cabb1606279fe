/* Internals of the keyring, shared by keyring.c (the cache), keyring_bg.c
 * (the background re-wrapping), byok.c (imports) and seal.c (values). */
#ifndef BW_KEYRING_INT_H
#define BW_KEYRING_INT_H

#include "sec/keyring.h"

#define BW_KEY_LEN 32
#define BW_KR_NONCE 24 /* XChaCha20-Poly1305 */
#define BW_KR_TAG 16

/* seal.c: a copy of the instance's current data key (a new one is made
 * when there is none, or it sealed dk_max_seals values, or it is a day
 * old; the instance's first KEK on first use), or of data key dk_id. The
 * caller wipes key. BW_NOTFOUND: unknown key, or the instance's keys were
 * destroyed. */
BW_MUST_USE bw_result bw_keyring__seal_key(const char *iid, uint32_t *dk_id,
                                           uint8_t key[BW_KEY_LEN]);
BW_MUST_USE bw_result bw_keyring__open_key(const char *iid, uint32_t dk_id,
                                           uint8_t key[BW_KEY_LEN]);

/* AEAD under a key derived from the root key for purpose (nonce || ct || tag). */
BW_MUST_USE bw_result bw_keyring__root_seal(const char *purpose, const uint8_t *ad, size_t adlen,
                                            const uint8_t *pt, size_t n, uint8_t *out, size_t cap,
                                            size_t *outlen);
/* pt must hold n - NONCE - TAG bytes; BW_DENIED when it does not open. */
BW_MUST_USE bw_result bw_keyring__root_open(const char *purpose, const uint8_t *ad, size_t adlen,
                                            const uint8_t *ct, size_t n, uint8_t *pt);

/* A data key wrapped under a KEK, and back (AD: instance, id, KEK id). */
BW_MUST_USE bw_result bw_keyring__dk_wrap(const char *iid, uint32_t id, const char *kek_id,
                                          const uint8_t kek[BW_KEY_LEN],
                                          const uint8_t dk[BW_KEY_LEN], uint8_t out[BW_WRAPPED_MAX],
                                          size_t *outlen);
BW_MUST_USE bw_result bw_keyring__dk_unwrap(const struct bw_dk_row *row,
                                            const uint8_t kek[BW_KEY_LEN], uint8_t dk[BW_KEY_LEN]);

/* The background thread (keyring_bg.c): runs rotations one after another
 * on its own connection. */
BW_MUST_USE bw_result bw_keyring__bg_start(void);
void bw_keyring__bg_stop(void);
void bw_keyring__bg_push(const struct bw_key_rotation *r);
/* Retries a WAL truncation that readers held back, until it goes through. */
void bw_keyring__bg_purge(void);
BW_MUST_USE bw_result bw_keyring__bg_idle(long timeout_ms);

/* For the background thread: a copy of a KEK of the instance (kek_id NULL:
 * the active one, whose id goes to id_out); BW_NOTFOUND once destroyed. */
BW_MUST_USE bw_result bw_keyring__kek_copy(const char *iid, const char *kek_id, char id_out[48],
                                           uint8_t key[BW_KEY_LEN]);
/* Ends a rotation on connection s and drops retired KEKs from the cache. */
BW_MUST_USE bw_result bw_keyring__finish(struct bw_store *s, const char *iid, const char *rid,
                                         struct bw_key_rotation *out);
/* A new connection to the keyring's database, with secure_delete on. */
BW_MUST_USE bw_result bw_keyring__open_store(struct bw_store **out);
const struct bw_keyring_opts *bw_keyring__opts(void);
/* Makes a KEK and its rotation (made or imported bytes) for bw_keyring_rotate. */
BW_MUST_USE bw_result bw_keyring__rotate(const char *iid, const uint8_t *kek, const char *origin,
                                         struct bw_key_rotation *out);

#endif
