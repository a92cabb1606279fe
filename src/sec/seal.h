/* Sealing small secrets at rest (TOTP seeds for now) under a key derived from
 * the root key for one instance; the associated data binds instance, table,
 * row and column, so a ciphertext moved elsewhere does not open. The
 * data-protection issue replaces the derivation with wrapped per-instance keys. */
#ifndef BW_SEAL_H
#define BW_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/result.h"

extern const uint8_t *bw_seal_root; /* set by the daemon at start */

/* out is malloc'd: nonce || ciphertext || tag. */
BW_MUST_USE bw_result bw_seal(const char *iid, const char *table, const char *row,
                              const char *column, const uint8_t *pt, size_t n, uint8_t **out,
                              size_t *outlen);
/* pt is sodium_malloc'd; free with bw_unseal_free. */
BW_MUST_USE bw_result bw_unseal(const char *iid, const char *table, const char *row,
                                const char *column, const uint8_t *ct, size_t n, uint8_t **pt,
                                size_t *ptlen);
void bw_unseal_free(uint8_t *pt);

#endif
