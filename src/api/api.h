/* Handlers, one file per resource; the route table in routes.c names them. */
#ifndef BW_API_H
#define BW_API_H

#include "net/net.h"

void bw_api_healthz(struct bw_ctx *c);
void bw_api_readyz(struct bw_ctx *c);
void bw_api_metrics(struct bw_ctx *c);

void bw_api_platform_keys_create(struct bw_ctx *c);
void bw_api_platform_keys_list(struct bw_ctx *c);
void bw_api_platform_keys_delete(struct bw_ctx *c);

void bw_api_events_upgrade(struct bw_ctx *c);
extern const struct bw_ws_ops bw_api_events_ws;

/* Shared list paging: ?limit= (default 50, max 1000) and ?next_token=. */
int bw_api_page(struct bw_ctx *c, size_t *limit, char *after, size_t aftersz);

#endif
