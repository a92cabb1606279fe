/* Shared by the user, MFA and session handlers. */
#ifndef BW_API_USERS_INT_H
#define BW_API_USERS_INT_H

#include "api/api.h"
#include "store/store.h"

json_t *bw_api_user_json(struct bw_store *s, const struct bw_user *u);
/* Loads the path's {uid} within the caller's instance; replies 404 on failure. */
int bw_api_user_load(struct bw_ctx *c, struct bw_user *u);
/* The no-escalation rule for acting on another user; replies 403 on failure. */
int bw_api_user_may_manage(struct bw_ctx *c, const struct bw_user *u);

#endif
