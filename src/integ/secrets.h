/* The secrets vault (C7): credentials of integrations live here, sealed at
 * rest (sec/seal.h: instance, table, row "<id>.<version>", column), fetched
 * by name by the engine and the integrations, never by the API: no reply
 * carries a value. A rotation makes a new version current; the previous
 * one stays readable (bw_secret_read_previous) for a grace period, so that
 * a credential can be changed on both sides without a gap.
 *
 * Every call may block on the store: call from a worker thread with its own
 * store handle, never on the loop. Values are NUL-terminated strings (the
 * API takes them as JSON strings, which cannot hold a NUL) in guarded
 * memory: free them with bw_secret_free, which wipes them. */
#ifndef BW_INTEG_SECRETS_H
#define BW_INTEG_SECRETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/result.h"
#include "store/store.h"

#define BW_SECRET_NAME_MAX 64
#define BW_SECRET_VALUE_MAX 8192
#define BW_SECRET_GRACE_DEFAULT_S 3600
#define BW_SECRET_GRACE_MAX_S (30 * 86400)

/* [A-Za-z0-9._-]{1,64} */
bool bw_secret_name_ok(const char *name);

/* A new secret at version 1. BW_INVALID for a bad name or a value outside
 * 1..BW_SECRET_VALUE_MAX bytes (or holding a NUL), BW_CONFLICT when the
 * instance has a secret of that name. out: its metadata. */
BW_MUST_USE bw_result bw_secret_create(struct bw_store *s, const char *iid, const char *name,
                                       const char *value, size_t n, struct bw_secret *out);
/* A new current version; the one it replaces stays readable for grace_s
 * seconds (0: not at all; at most BW_SECRET_GRACE_MAX_S). BW_NOTFOUND for
 * no such secret; BW_CONFLICT when concurrent rotations kept it busy. */
BW_MUST_USE bw_result bw_secret_rotate(struct bw_store *s, const char *iid, const char *id,
                                       const char *value, size_t n, long long grace_s,
                                       struct bw_secret *out);

/* The current value of the instance's secret `name` (the engine's and the
 * integrations' way in). BW_NOTFOUND when there is no such secret, BW_ERR
 * when its value does not open (logged by id, never by value). */
BW_MUST_USE bw_result bw_secret_read(struct bw_store *s, const char *iid, const char *name,
                                     char **value);
/* The value that the last rotation replaced, while its grace period runs;
 * BW_NOTFOUND when there is none (never rotated, or the grace is over). */
BW_MUST_USE bw_result bw_secret_read_previous(struct bw_store *s, const char *iid, const char *name,
                                              char **value);
/* Wipes and frees a value of bw_secret_read*; NULL is fine. */
void bw_secret_free(char *value);

#endif
