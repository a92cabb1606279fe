/* Roles (C7): short-lived signed credentials for outbound calls. Every
 * instance has Ed25519 signing keys (made with the instance, or on first
 * use for older ones), their private halves sealed at rest. Keys rotate on
 * their own: a successor is published in the JWKS a little before it
 * starts signing (so that a receiver's cached copy knows it), and a
 * replaced key stays published for an overlap, so that tokens it signed
 * still verify. A role token is a compact JWS (RFC 7515/7519, alg EdDSA)
 * that receivers verify against
 *   GET /.well-known/bulwark/{iid}/jwks.json
 * without any shared secret. Nothing long-lived leaves Bulwark.
 *
 * Every call may block on the store: call from a worker thread with its own
 * store handle, never on the loop. */
#ifndef BW_INTEG_ROLE_H
#define BW_INTEG_ROLE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/result.h"
#include "store/store.h"

#define BW_ROLE_ISSUER "bulwark"
#define BW_ROLE_TTL_DEFAULT_S 300
#define BW_ROLE_TTL_MAX_S 900
#define BW_ROLE_CLAIM_MAX 2048 /* longest integration id, audience or contact id */

/* What a token asserts. Claims: iss "bulwark", sub integration_id, aud
 * audience, iat, nbf, exp (iat + ttl_s), jti (a random nonce), instance,
 * contact (when given), digest ("sha-256=" + base64 of SHA-256 of body,
 * the form of the HTTP Digest header; of the empty string when no body). */
struct bw_role_claims {
	const char *integration_id; /* required */
	const char *audience;       /* required: the integration's base URL */
	const char *contact_id;     /* NULL or "": no contact claim */
	const uint8_t *body;        /* the request body the token travels with */
	size_t body_len;
	int ttl_s; /* 0: BW_ROLE_TTL_DEFAULT_S; at most BW_ROLE_TTL_MAX_S */
};

/* Signs a token for the instance with its current signing key (rotating it
 * first when due). *jwt is malloc'd ("header.payload.signature"); free it
 * with free(). BW_INVALID for missing or oversized claims, BW_NOTFOUND for
 * an unknown instance. */
BW_MUST_USE bw_result bw_role_token(struct bw_store *s, const char *iid,
                                    const struct bw_role_claims *c, char **jwt);

/* The daemon's settings (signing_key_rotate_s, signing_key_overlap_s);
 * before any call, defaults apply (86400 and 3600). */
void bw_role_configure(long long rotate_s, long long overlap_s);

/* Makes the instance's first key, or its successor when one is due.
 * BW_NOTFOUND for an unknown instance. */
BW_MUST_USE bw_result bw_role_keys_ensure(struct bw_store *s, const char *iid);
/* A rotation now (a key thought exposed): the new key signs at once, the
 * others stop signing and stay published for the overlap. kid_out (48
 * bytes) may be NULL. */
BW_MUST_USE bw_result bw_role_rotate(struct bw_store *s, const char *iid, char *kid_out);
/* The published public keys as an RFC 7517 JWK Set, newest first, and the
 * seconds a receiver may cache it (Cache-Control max-age). */
BW_MUST_USE bw_result bw_role_jwks(struct bw_store *s, const char *iid, json_t **out,
                                   int *max_age_s);

/* A key's state now: "PENDING" (published, not signing yet), "ACTIVE"
 * (the signer), "RETIRED" (published until *published_until, then gone
 * from the JWKS). *published_until is 0 while the key has no successor. */
const char *bw_role_key_state(const struct bw_signing_key *k, const struct bw_signing_key *signer,
                              long long *published_until);
/* The instance's keys (newest first) and which one signs now (NULL when
 * none does), after bw_role_keys_ensure. */
BW_MUST_USE bw_result bw_role_keys(struct bw_store *s, const char *iid, struct bw_signing_key *out,
                                   size_t max, size_t *n, const struct bw_signing_key **signer);

#endif
