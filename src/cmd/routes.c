/* `bulwark routes --json`: the route table, so tests can drive every row. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "net/net.h"

int bw_cmd_routes(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: bulwark routes [--json]\nLists every route: method, path, principal "
		       "kinds, permission, flags.\n");
		return 0;
	}
	bool json = argc > 1 && !strcmp(argv[1], "--json");
	json_t *all = json_array();
	for (size_t i = 0; i < bw_routes_count; i++) {
		const struct bw_route *r = &bw_routes[i];
		json_t *kinds = json_array();
		if (r->kinds & BW_KIND(BW_P_PLATFORM))
			json_array_append_new(kinds, json_string("platform"));
		if (r->kinds & BW_KIND(BW_P_USER))
			json_array_append_new(kinds, json_string("user"));
		if (r->kinds & BW_KIND(BW_P_CUSTOMER))
			json_array_append_new(kinds, json_string("customer"));
		json_array_append_new(
			all, json_pack("{s:s, s:s, s:o, s:s, s:b, s:b, s:b, s:b, s:s?}", "method",
			               r->method, "path", r->pattern, "kinds", kinds, "permission",
			               r->permission, "admin", (r->flags & BW_ROUTE_ADMIN) != 0, "body",
			               (r->flags & BW_ROUTE_BODY) != 0, "websocket",
			               (r->flags & BW_ROUTE_WS) != 0, "mfa_setup",
			               (r->flags & BW_ROUTE_MFA_SETUP) != 0, "action", r->action));
		if (!json)
			printf("%-7s %-48s %s\n", r->method, r->pattern, r->permission);
	}
	if (json) {
		char *s = json_dumps(all, JSON_COMPACT);
		if (s)
			printf("%s\n", s);
		free(s);
	}
	json_decref(all);
	return 0;
}
