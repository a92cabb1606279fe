/* MFA state of a user: the sealed TOTP seed, replay protection, recovery codes. */
#ifndef BW_MFA_H
#define BW_MFA_H

#include "core/result.h"
#include "store/store.h"

#define BW_RECOVERY_CODES 10
#define BW_RECOVERY_LEN 12 /* "xxxxx-xxxxx" + NUL */

/* A valid code for a step not used before (the step is then recorded). */
BW_MUST_USE bw_result bw_mfa_check_totp(struct bw_store *s, const struct bw_user *u,
                                        const char *code, long long now);
/* Uses one unused recovery code. */
BW_MUST_USE bw_result bw_mfa_use_recovery(struct bw_store *s, const struct bw_user *u,
                                          const char *code, long long now);
/* Seals a new seed into u->mfa_secret; the raw seed goes to secret. */
BW_MUST_USE bw_result bw_mfa_seal(struct bw_user *u, const uint8_t *secret, size_t n);
BW_MUST_USE bw_result bw_mfa_unseal(const struct bw_user *u, uint8_t **secret, size_t *n);
/* Makes and stores ten recovery codes (hashed); the plain codes go to out. */
BW_MUST_USE bw_result bw_mfa_new_recovery(struct bw_store *s, const struct bw_user *u,
                                          char out[BW_RECOVERY_CODES][BW_RECOVERY_LEN]);

#endif
