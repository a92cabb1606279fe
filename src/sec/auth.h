/* Authentication and authorization phases of the request path. */
#ifndef BW_AUTH_H
#define BW_AUTH_H

#include "net/net.h"

/* Finds the credential the route's principal kind needs and checks it.
 * BW_OK fills c->who; BW_UNAUTH when missing, malformed, unknown, or of
 * another kind (C2). */
BW_MUST_USE bw_result bw_auth_authenticate(struct bw_ctx *c);
/* Checks the route's declared permission against the principal. */
BW_MUST_USE bw_result bw_auth_authorize(struct bw_ctx *c);

/* Frees the calling thread's session cache (a worker thread, as it ends). */
void bw_auth_thread_done(void);

/* The union of a user's profiles' permissions. */
BW_MUST_USE bw_result bw_auth_user_perms(struct bw_store *s, const char *iid, const char *uid,
                                         uint64_t *out);

#endif
