#include "sec/auth.h"

#include <sodium.h>
#include <string.h>

#include "sec/token.h"
#include "store/store.h"

/* Bearer from Authorization, or for WebSocket routes from the offered
 * subprotocol "bearer.<token>" or ?token=. */
static bool find_token(const struct bw_req *r, char *out, size_t outsz)
{
	const char *a = r->authorization;
	if (a && strncasecmp(a, "Bearer ", 7) == 0) {
		const char *t = a + 7;
		while (*t == ' ')
			t++;
		size_t n = strlen(t);
		if (n == 0 || n >= outsz)
			return false;
		memcpy(out, t, n + 1);
		return true;
	}
	if (!r->route || !(r->route->flags & BW_ROUTE_WS))
		return false;
	const char *p = r->ws_protocol;
	while (p && *p) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		while (n && p[n - 1] == ' ')
			n--;
		if (n > 7 && strncmp(p, "bearer.", 7) == 0 && n - 7 < outsz) {
			memcpy(out, p + 7, n - 7);
			out[n - 7] = '\0';
			return true;
		}
		p = e;
	}
	return bw_query_get(r, "token", out, outsz) == 0 && out[0];
}

bw_result bw_auth_authenticate(struct bw_ctx *c)
{
	const struct bw_route *rt = c->req->route;
	memset(&c->who, 0, sizeof(c->who));
	if (rt->kind == BW_P_NONE)
		return BW_OK;
	char tok[128];
	if (!find_token(c->req, tok, sizeof(tok)))
		return BW_UNAUTH;
	size_t n = strlen(tok);
	enum bw_token_kind k = bw_token_kind_of(tok, n);
	bw_result r = BW_UNAUTH;
	if (rt->kind == BW_P_PLATFORM && k == BW_TOKEN_PLATFORM) {
		uint8_t h[32];
		struct bw_platform_key pk;
		bw_token_hash(tok, n, h);
		r = bw_store_platform_key_find(c->store, h, &pk);
		if (r == BW_OK) {
			c->who.kind = BW_P_PLATFORM;
			memcpy(c->who.id, pk.id, sizeof(c->who.id));
			memcpy(c->who.name, pk.name, sizeof(c->who.name));
		} else if (r == BW_NOTFOUND) {
			r = BW_UNAUTH;
		}
	}
	sodium_memzero(tok, sizeof(tok));
	return r;
}

bw_result bw_auth_authorize(struct bw_ctx *c)
{
	const struct bw_route *rt = c->req->route;
	if (strcmp(rt->permission, BW_PERM_PUBLIC) == 0)
		return rt->kind == BW_P_NONE ? BW_OK : BW_DENIED;
	if (strcmp(rt->permission, BW_PERM_PLATFORM) == 0)
		return c->who.kind == BW_P_PLATFORM ? BW_OK : BW_DENIED;
	return BW_DENIED; /* instance permissions arrive with security profiles */
}
