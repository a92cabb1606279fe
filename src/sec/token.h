/* Bearer tokens: a kind prefix, then base64url of 32 random bytes.
 * Only a BLAKE2b-256 hash of a token is ever stored. */
#ifndef BW_TOKEN_H
#define BW_TOKEN_H

#include <stddef.h>
#include <stdint.h>

enum bw_token_kind {
	BW_TOKEN_NONE = 0,
	BW_TOKEN_PLATFORM, /* "bwp_" */
	BW_TOKEN_SESSION,  /* "bws_" instance user session */
	BW_TOKEN_CUSTOMER, /* "bwc_" participant */
};

#define BW_TOKEN_LEN 48 /* prefix 4 + 43 base64url + NUL */

void bw_token_new(enum bw_token_kind kind, char out[BW_TOKEN_LEN]);
/* The kind a token claims by its shape; NONE when malformed. */
enum bw_token_kind bw_token_kind_of(const char *tok, size_t n);
void bw_token_hash(const char *tok, size_t n, uint8_t out[32]);

#endif
