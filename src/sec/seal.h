/* Sealing values at rest (C14) under the instance's current data key
 * (sec/keyring.h): TOTP seeds, contacts' customer data, chat messages,
 * users' names and e-mail. A sealed value is
 *   0x01 | data key id (4 bytes, big-endian) | nonce (24) | ciphertext | tag (16)
 * (XChaCha20-Poly1305); the associated data is the 5-byte header, then
 * instance, table, row and column separated by NUL bytes, so a ciphertext
 * moved to another row, column or instance, or given another key id, does
 * not open. The keyring must be running (bw_keyring_start). */
#ifndef BW_SEAL_H
#define BW_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/result.h"

extern const uint8_t *bw_seal_root; /* the root key, set by the daemon at start */

#define BW_SEAL_VERSION 0x01
#define BW_SEAL_OVERHEAD (5 + 24 + 16)

/* out is malloc'd. */
BW_MUST_USE bw_result bw_seal(const char *iid, const char *table, const char *row,
                              const char *column, const uint8_t *pt, size_t n, uint8_t **out,
                              size_t *outlen);
/* pt is sodium_malloc'd (and NUL-terminated past *ptlen); free with
 * bw_unseal_free. BW_DENIED: it does not open (tampered, moved);
 * BW_NOTFOUND: its data key is unknown or the instance's keys were
 * destroyed; BW_INVALID: not a sealed value. */
BW_MUST_USE bw_result bw_unseal(const char *iid, const char *table, const char *row,
                                const char *column, const uint8_t *ct, size_t n, uint8_t **pt,
                                size_t *ptlen);
void bw_unseal_free(uint8_t *pt);
/* How many values failed to open on this thread so far (the dispatcher
 * audits a request during which it grew: keys.unreadable). */
unsigned long long bw_unseal_failures(void);

/* Users' names and e-mail as one sealed JSON value (users.pii, column
 * "pii"): NULL when all three are empty. open fills the fields from u->pii
 * (then freed), or sets u->pii_error when it does not open and leaves the
 * blob in u->pii, which seal then writes back unchanged unless u was given
 * new names (a key problem that passes loses nothing). */
struct bw_user;
BW_MUST_USE bw_result bw_user_seal_pii(const struct bw_user *u, uint8_t **blob, size_t *len);
void bw_user_open_pii(struct bw_user *u);

#endif
