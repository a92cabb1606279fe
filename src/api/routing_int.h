/* Shared by the routing handlers: hours of operation, queues, routing
 * profiles, entry points. */
#ifndef BW_API_ROUTING_INT_H
#define BW_API_ROUTING_INT_H

#include "api/api.h"

/* An integer field of obj within [lo, hi] (a JSON integer, not 1.0);
 * replies 400 naming `field` and returns -1 when wrong. *present says
 * whether it was given (null counts as absent). */
int bw_api__int_in(struct bw_ctx *c, const json_t *obj, const char *key, const char *field,
                   long long lo, long long hi, bool required, long long *out, bool *present);
/* "name" (1..128) and "description" (0..1024) of the body. */
int bw_api__name_desc(struct bw_ctx *c, bool create, const char **name, const char **desc);
/* An id field naming another resource: a string of 1..47 id characters. */
int bw_api__ref_in(struct bw_ctx *c, const json_t *obj, const char *key, const char *field,
                   bool required, const char **out);
/* Adds created_at and updated_at (RFC 3339) to o and returns it. */
json_t *bw_api__times(json_t *o, long long created, long long updated);

#endif
