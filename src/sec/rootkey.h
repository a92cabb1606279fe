/* The platform root key: 32 random bytes in DATA/root.key (mode 0600). */
#ifndef BW_ROOTKEY_H
#define BW_ROOTKEY_H

#include <stdint.h>

#include "core/result.h"

#define BW_ROOTKEY_LEN 32

BW_MUST_USE bw_result bw_rootkey_create(const char *path);
/* Loads into secure memory (sodium_malloc); free with bw_rootkey_free. */
BW_MUST_USE bw_result bw_rootkey_load(const char *path, uint8_t **key);
void bw_rootkey_free(uint8_t *key);

#endif
