/* Authentication (the token's kind must be one the route admits: C2) and
 * authorization (instance scope: C1, network: C6, declared permission: C3). */
#include "sec/auth.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "sec/authz.h"
#include "sec/isettings.h"
#include "sec/token.h"
#include "store/store.h"

#define TOUCH_EVERY_S 15
#define CACHE_SLOTS 256

/* Per worker thread: what a session token resolved to, trusted only while
 * the store's auth epoch is unchanged (any revocation, disable, profile or
 * settings write bumps it) and the session's own times allow. Anything in
 * doubt takes the full path through the store. */
struct cached {
	uint8_t hash[32];
	unsigned long long epoch;
	struct bw_principal who;
	long long expires_at, last_seen_at, idle_s;
	struct bw_cidr ranges[BW_MAX_RANGES];
	int nranges;
};

static _Thread_local struct cached *cache;

static struct cached *slot_for(const uint8_t h[32])
{
	if (!cache) {
		cache = calloc(CACHE_SLOTS, sizeof(*cache));
		if (!cache)
			return NULL;
	}
	return &cache[h[0] % CACHE_SLOTS];
}

void bw_auth_thread_done(void)
{
	free(cache);
	cache = NULL;
}

static bool ranges_allow(const struct bw_cidr *r, int n, const struct bw_req *req)
{
	struct bw_isettings st;
	st.nranges = n;
	memcpy(st.ranges, r, sizeof(*r) * (size_t)n);
	return bw_isettings_ip_allowed(&st, req->peer_family, req->peer_addr);
}

static bool from_cache(struct bw_ctx *c, const uint8_t h[32], long long now)
{
	struct cached *e = slot_for(h);
	if (!e || e->epoch != bw_store_auth_epoch() || sodium_memcmp(e->hash, h, 32) != 0)
		return false;
	if (now >= e->expires_at || now - e->last_seen_at > e->idle_s)
		return false;
	if (!ranges_allow(e->ranges, e->nranges, c->req))
		return false;
	c->who = e->who;
	if (now - e->last_seen_at >= TOUCH_EVERY_S) {
		bw_ignore(bw_store_session_touch(c->store, e->who.session_id, now));
		e->last_seen_at = now;
	}
	return true;
}

static void to_cache(const uint8_t h[32], unsigned long long epoch, const struct bw_principal *w,
                     const struct bw_session *se, const struct bw_isettings *st, long long seen)
{
	struct cached *e = slot_for(h);
	if (!e)
		return;
	memcpy(e->hash, h, 32);
	e->epoch = epoch;
	e->who = *w;
	e->expires_at = se->expires_at;
	e->last_seen_at = seen;
	e->idle_s = st->idle_s;
	e->nranges = st->nranges;
	memcpy(e->ranges, st->ranges, sizeof(st->ranges[0]) * (size_t)st->nranges);
}

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

static bw_result auth_platform(struct bw_ctx *c, const uint8_t h[32])
{
	struct bw_platform_key pk;
	bw_result r = bw_store_platform_key_find(c->store, h, &pk);
	if (r == BW_NOTFOUND)
		return BW_UNAUTH;
	if (r != BW_OK)
		return r;
	c->who.kind = BW_P_PLATFORM;
	memcpy(c->who.id, pk.id, sizeof(c->who.id));
	memcpy(c->who.name, pk.name, sizeof(c->who.name));
	c->who.perms = ~(uint64_t)0;
	return BW_OK;
}

bw_result bw_auth_user_perms(struct bw_store *s, const char *iid, const char *uid, uint64_t *out)
{
	struct bw_profile p[32];
	size_t n = 0;
	*out = 0;
	bw_result r = bw_store_user_profiles(s, iid, uid, p, 32, &n);
	for (size_t i = 0; i < n; i++) {
		*out |= bw_perms_from_text(p[i].permissions);
		bw_profile_clear(&p[i]);
	}
	return r;
}

static bw_result auth_session(struct bw_ctx *c, const uint8_t h[32])
{
	struct bw_session se;
	struct bw_instance in = {0};
	struct bw_user u = {0};
	struct bw_isettings st;
	long long now = bw_now_unix();
	if (from_cache(c, h, now))
		return BW_OK;
	/* Read before the store, so a write racing this lookup voids the entry. */
	unsigned long long epoch = bw_store_auth_epoch();
	bw_result r = bw_store_session_find(c->store, h, &se);
	if (r == BW_NOTFOUND)
		return BW_UNAUTH;
	if (r != BW_OK)
		return r;
	if (bw_store_instance_get(c->store, se.instance_id, &in) != BW_OK)
		return BW_UNAUTH;
	bw_isettings_parse(in.settings, &st);
	bw_instance_clear(&in);
	if (now >= se.expires_at || now - se.last_seen_at > st.idle_s) {
		bw_ignore(bw_store_session_revoke(c->store, se.instance_id, se.user_id, se.id, now));
		return BW_UNAUTH;
	}
	r = bw_store_user_get(c->store, se.instance_id, se.user_id, &u);
	bool disabled = r != BW_OK || u.disabled;
	if (!disabled) {
		snprintf(c->who.name, sizeof(c->who.name), "%s", u.username);
	}
	bw_user_clear(&u);
	if (disabled)
		return BW_UNAUTH;
	c->who.kind = BW_P_USER;
	memcpy(c->who.id, se.user_id, sizeof(c->who.id));
	memcpy(c->who.instance_id, se.instance_id, sizeof(c->who.instance_id));
	memcpy(c->who.session_id, se.id, sizeof(c->who.session_id));
	c->who.mfa_pending = se.mfa_pending;
	/* Read at every request, so a profile change applies at once. */
	if ((r = bw_auth_user_perms(c->store, se.instance_id, se.user_id, &c->who.perms)) != BW_OK)
		return r;
	if (!bw_isettings_ip_allowed(&st, c->req->peer_family, c->req->peer_addr))
		return BW_DENIED;
	long long seen = se.last_seen_at;
	if (now - se.last_seen_at >= TOUCH_EVERY_S) {
		bw_ignore(bw_store_session_touch(c->store, se.id, now));
		seen = now;
	}
	to_cache(h, epoch, &c->who, &se, &st, seen);
	return BW_OK;
}

#define PARTICIPANT_GRACE_MS (15LL * 60 * 1000)

/* A participant token: scoped to one contact, good while it is live and
 * for a short while after it ended (to read the end on a reconnect). */
static bw_result auth_customer(struct bw_ctx *c, const uint8_t h[32])
{
	struct bw_contact ct = {0};
	bw_result r = bw_store_contact_by_token(c->store, h, &ct);
	if (r == BW_NOTFOUND)
		return BW_UNAUTH;
	if (r != BW_OK)
		return r;
	bool stale = ct.disconnected_at &&
	             bw_now_unix() * 1000LL - ct.disconnected_at > PARTICIPANT_GRACE_MS;
	if (!stale) {
		c->who.kind = BW_P_CUSTOMER;
		memcpy(c->who.id, ct.id, sizeof(c->who.id));
		memcpy(c->who.instance_id, ct.instance_id, sizeof(c->who.instance_id));
		snprintf(c->who.name, sizeof(c->who.name), "customer");
	}
	bw_contact_clear(&ct);
	return stale ? BW_UNAUTH : BW_OK;
}

bw_result bw_auth_authenticate(struct bw_ctx *c)
{
	const struct bw_route *rt = c->req->route;
	memset(&c->who, 0, sizeof(c->who));
	if (rt->kinds == 0)
		return BW_OK;
	char tok[128];
	if (!find_token(c->req, tok, sizeof(tok)))
		return BW_UNAUTH;
	size_t n = strlen(tok);
	enum bw_token_kind k = bw_token_kind_of(tok, n);
	uint8_t h[32];
	bw_token_hash(tok, n, h);
	sodium_memzero(tok, sizeof(tok));
	if (k == BW_TOKEN_PLATFORM && (rt->kinds & BW_KIND(BW_P_PLATFORM)))
		return auth_platform(c, h);
	if (k == BW_TOKEN_SESSION && (rt->kinds & BW_KIND(BW_P_USER)))
		return auth_session(c, h);
	if (k == BW_TOKEN_CUSTOMER && (rt->kinds & BW_KIND(BW_P_CUSTOMER)))
		return auth_customer(c, h);
	return BW_UNAUTH; /* missing, malformed, or a kind this route does not take */
}

static bool instance_scoped(const struct bw_route *rt)
{
	return strncmp(rt->pattern, "/v1/instances/{iid}", 19) == 0;
}

bw_result bw_auth_authorize(struct bw_ctx *c)
{
	const struct bw_route *rt = c->req->route;
	const char *perm = rt->permission;
	if (rt->kinds == 0)
		return strcmp(perm, BW_PERM_PUBLIC) == 0 ? BW_OK : BW_DENIED;
	if (c->who.kind == BW_P_USER) {
		/* Another instance's resource does not exist, as far as you know. */
		if (instance_scoped(rt) && strcmp(c->req->params[0], c->who.instance_id) != 0)
			return BW_NOTFOUND;
		if (c->who.mfa_pending && !(rt->flags & BW_ROUTE_MFA_SETUP))
			return BW_DENIED;
	}
	if (strcmp(perm, BW_PERM_AUTHENTICATED) == 0)
		return BW_OK;
	if (strcmp(perm, BW_PERM_PLATFORM) == 0)
		return c->who.kind == BW_P_PLATFORM ? BW_OK : BW_DENIED;
	if (bw_perm_index(perm) < 0)
		return BW_DENIED; /* a route naming no known permission admits nobody */
	if (c->who.kind == BW_P_PLATFORM)
		return BW_OK; /* the route admits platform keys, which hold every permission */
	return bw_perms_grant(c->who.perms, perm) ? BW_OK : BW_DENIED;
}
