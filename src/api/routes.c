/* The route table: the only way in. Every row names its method, path,
 * principal kind and permission (or PUBLIC), handler and audit action. */
#include "api/api.h"

#define R(m, p, k, perm, h, f, action) {m, p, k, perm, h, f, NULL, action}

const struct bw_route bw_routes[] = {
	R("GET", "/healthz", BW_P_NONE, BW_PERM_PUBLIC, bw_api_healthz, BW_ROUTE_INLINE, NULL),
	R("GET", "/readyz", BW_P_NONE, BW_PERM_PUBLIC, bw_api_readyz, 0, NULL),
	R("GET", "/metrics", BW_P_NONE, BW_PERM_PUBLIC, bw_api_metrics,
	  BW_ROUTE_ADMIN | BW_ROUTE_INLINE, NULL),

	R("POST", "/v1/platform-keys", BW_P_PLATFORM, BW_PERM_PLATFORM,
	  bw_api_platform_keys_create, BW_ROUTE_BODY, "platform_keys.create"),
	R("GET", "/v1/platform-keys", BW_P_PLATFORM, BW_PERM_PLATFORM, bw_api_platform_keys_list, 0,
	  "platform_keys.list"),
	R("DELETE", "/v1/platform-keys/{id}", BW_P_PLATFORM, BW_PERM_PLATFORM,
	  bw_api_platform_keys_delete, 0, "platform_keys.delete"),

	{"GET", "/v1/events", BW_P_PLATFORM, BW_PERM_PLATFORM, bw_api_events_upgrade, BW_ROUTE_WS,
	 &bw_api_events_ws, "events.connect"},
};

const size_t bw_routes_count = sizeof(bw_routes) / sizeof(bw_routes[0]);
