/* Route matching over the route table (src/api/routes.c), the only way in. */
#include <stdlib.h>
#include <string.h>

#include "net/net_int.h"

size_t bw_router__index(const struct bw_route *rt)
{
	return rt ? (size_t)(rt - bw_routes) : bw_routes_count;
}

/* Matches path against pattern; {name} takes one non-empty segment. */
static bool match_path(const char *pat, const char *path, char **params, int *np)
{
	int n = 0;
	while (*pat && *path) {
		if (*pat == '{') {
			const char *pe = strchr(pat, '}');
			const char *se = strchr(path, '/');
			size_t sl = se ? (size_t)(se - path) : strlen(path);
			if (!pe || sl == 0 || sl > 128 || n >= BW_MAX_PARAMS)
				goto fail;
			if (params) {
				params[n] = malloc(sl + 1);
				if (!params[n])
					goto fail;
				memcpy(params[n], path, sl);
				params[n][sl] = '\0';
			}
			n++;
			pat = pe + 1;
			path += sl;
			continue;
		}
		if (*pat != *path)
			goto fail;
		pat++;
		path++;
	}
	if (*pat || *path)
		goto fail;
	if (np)
		*np = n;
	return true;
fail:
	if (params)
		for (int i = 0; i < n; i++) {
			free(params[i]);
			params[i] = NULL;
		}
	return false;
}

enum bw_match bw_router__match(struct bw_req *r, bool admin, char *allow, size_t allowsz)
{
	bool path_seen = false;
	size_t al = 0;
	allow[0] = '\0';
	for (size_t i = 0; i < bw_routes_count; i++) {
		const struct bw_route *rt = &bw_routes[i];
		if (((rt->flags & BW_ROUTE_ADMIN) != 0) != admin)
			continue;
		if (!match_path(rt->pattern, r->path, NULL, NULL))
			continue;
		path_seen = true;
		if (strcmp(rt->method, r->method) != 0) {
			size_t ml = strlen(rt->method);
			if (al + ml + 3 < allowsz) {
				if (al) {
					memcpy(allow + al, ", ", 2);
					al += 2;
				}
				memcpy(allow + al, rt->method, ml + 1);
				al += ml;
			}
			continue;
		}
		if (!match_path(rt->pattern, r->path, r->params, &r->nparams))
			return BW_MATCH_NOPATH;
		r->route = rt;
		return BW_MATCH_OK;
	}
	return path_seen ? BW_MATCH_NOMETHOD : BW_MATCH_NOPATH;
}
