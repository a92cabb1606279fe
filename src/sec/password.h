/* Passwords: argon2id (libsodium) on the hashing pool, the instance policy. */
#ifndef BW_PASSWORD_H
#define BW_PASSWORD_H

#include <sodium.h>
#include <stdbool.h>

#include "core/result.h"

struct bw_pool;
/* Set by the daemon at start; hashing refuses to run without it (never on the loop). */
extern struct bw_pool *bw_password_pool;

#define BW_PW_OPSLIMIT 2
#define BW_PW_MEMLIMIT (19u * 1024u * 1024u) /* OWASP: m=19 MiB, t=2 */
#define BW_PW_MAX_BYTES 256

BW_MUST_USE bw_result bw_password_hash(const char *pw, char out[crypto_pwhash_STRBYTES]);
/* Verifies on the hashing pool. hash == NULL verifies against a dummy hash so
 * an unknown user costs the same time as a wrong password. */
bool bw_password_verify(const char *hash, const char *pw);

/* NULL when acceptable, else a sentence for the client. */
const char *bw_password_policy_check(const char *pw, const char *username, int min_length);
bool bw_password_is_common(const char *pw);

#endif
