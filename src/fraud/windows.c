/* Sliding windows (fraud.h). Each (instance, rule kind, key) holds the
 * times of its newest contacts, oldest first, in a ring that lives in the
 * same allocation as the key. A contact passes a rule of `limit` per
 * `window` when fewer than `limit` times are held, or when the limit-th
 * newest has left the window: one probe and one comparison.
 *
 * A count drops the times that have left the rule's window (as of the
 * newest time): no later query can see them, and a key then costs memory
 * for the contacts in its window, not for its limit (10,000 would be 80 KB
 * a key). The ring grows by doubling up to the limit and shrinks when
 * mostly empty. When the limit of a key's rule is lowered, the next count
 * moves the newest `limit` times into a ring of that size. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "fraud/fraud.h"
#include "fraud/fraud_int.h"

#define LIMIT_MAX 1000000 /* public_rate_limit's bound; contact-filter rules stop at 10,000 */
#define WINDOW_MAX_S 86400
#define INSTANCE_MAX 47
#define KEY_MAX 255
#define CKEY_MAX (INSTANCE_MAX + 2 + KEY_MAX)
#define FIRST_CAP 2

struct win {
	uint32_t cap, n, head; /* ring slots, times held, index of the oldest */
	uint16_t klen;
	/* the composite key, then the ring at ring_of() */
};

struct bw_fraud_windows {
	struct bw_fraud__map map;
	size_t bytes; /* held by the keys */
};

static size_t ring_off(size_t klen)
{
	return (sizeof(struct win) + klen + 7) & ~(size_t)7;
}

static size_t win_size(size_t klen, uint32_t cap)
{
	return ring_off(klen) + (size_t)cap * sizeof(long long);
}

static long long *ring_of(const struct win *x)
{
	return (long long *)((char *)x + ring_off(x->klen));
}

/* The slot of the i-th oldest time (i < cap). */
static uint32_t at(const struct win *x, uint32_t i)
{
	uint32_t j = x->head + i;
	return j >= x->cap ? j - x->cap : j;
}

static const void *win_key(const void *v, size_t *len)
{
	const struct win *x = v;
	*len = x->klen;
	return x + 1;
}

/* instance '\0' kind key: no instance id holds a NUL, so no two triples
 * meet. 0 when a part is too long or the key empty. */
static size_t compose(uint8_t *buf, const char *instance_id, enum bw_fraud_kind kind,
                      const char *key)
{
	size_t il = strnlen(instance_id, INSTANCE_MAX + 1), kl = strnlen(key, KEY_MAX + 1);
	if (il > INSTANCE_MAX || kl > KEY_MAX || !kl)
		return 0;
	memcpy(buf, instance_id, il);
	buf[il] = 0;
	buf[il + 1] = (uint8_t)kind;
	memcpy(buf + il + 2, key, kl);
	return il + 2 + kl;
}

static bool rule_ok(const struct bw_fraud_rule *r)
{
	return r && (unsigned)r->kind < BW_FRAUD_KINDS && r->limit >= 1 && r->limit <= LIMIT_MAX &&
	       r->window_s >= 1 && r->window_s <= WINDOW_MAX_S;
}

/* now - seconds, clamped instead of overflowing. */
static long long before(long long now_ms, long long seconds)
{
	long long cut;
	return __builtin_sub_overflow(now_ms, seconds * 1000, &cut) ? LLONG_MIN : cut;
}

struct bw_fraud_windows *bw_fraud_windows_new(void)
{
	struct bw_fraud_windows *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	uint64_t seed[2];
	bw_fraud__seed(seed);
	bw_fraud__map_init(&w->map, seed, win_key);
	return w;
}

void bw_fraud_windows_free(struct bw_fraud_windows *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->map.cap; i++)
		if (bw_fraud__live(&w->map.slots[i]))
			free(w->map.slots[i].val);
	bw_fraud__map_free(&w->map);
	free(w);
}

size_t bw_fraud_windows_keys(const struct bw_fraud_windows *w)
{
	return w ? w->map.n : 0;
}

size_t bw_fraud_windows_bytes(const struct bw_fraud_windows *w)
{
	return w ? w->bytes + w->map.cap * sizeof(struct bw_fraud__slot) : 0;
}

static void win_free(struct bw_fraud_windows *w, struct win *x)
{
	w->bytes -= win_size(x->klen, x->cap);
	free(x);
}

static const struct win *lookup(const struct bw_fraud_windows *w, const char *instance_id,
                                const struct bw_fraud_rule *r, const char *key, bool *ok)
{
	uint8_t ck[CKEY_MAX];
	*ok = false;
	if (!w || !instance_id || !key || !rule_ok(r))
		return NULL;
	size_t len = compose(ck, instance_id, r->kind, key);
	if (!len)
		return NULL;
	*ok = true;
	return bw_fraud__map_get(&w->map, ck, len, bw_fraud__map_hash(&w->map, ck, len));
}

long long bw_fraud_wait_ms(const struct bw_fraud_windows *w, const char *instance_id,
                           const struct bw_fraud_rule *r, const char *key, long long now_ms)
{
	bool ok;
	const struct win *x = lookup(w, instance_id, r, key, &ok);
	if (!ok)
		return -1;
	if (!x || x->n < (uint32_t)r->limit)
		return 0;
	/* The limit-th newest leaves the window at its time + window. */
	long long t = ring_of(x)[at(x, x->n - (uint32_t)r->limit)],
	          cut = before(now_ms, r->window_s);
	long long wait;
	return t <= cut ? 0 : __builtin_sub_overflow(t, cut, &wait) ? LLONG_MAX : wait;
}

bool bw_fraud_would_pass(const struct bw_fraud_windows *w, const char *instance_id,
                         const struct bw_fraud_rule *r, const char *key, long long now_ms)
{
	return bw_fraud_wait_ms(w, instance_id, r, key, now_ms) == 0;
}

/* Moves x into a ring of cap slots keeping its newest times; x is freed
 * and the map points at the copy. NULL when memory is short (x intact). */
static struct win *resize(struct bw_fraud_windows *w, struct win *x, uint32_t cap, uint64_t h)
{
	struct win *y = malloc(win_size(x->klen, cap));
	if (!y)
		return NULL;
	w->bytes += win_size(x->klen, cap);
	memcpy(y, x, sizeof(*x) + x->klen);
	uint32_t keep = x->n < cap ? x->n : cap, skip = x->n - keep;
	const long long *from = ring_of(x);
	long long *to = ring_of(y);
	for (uint32_t i = 0; i < keep; i++)
		to[i] = from[at(x, skip + i)];
	y->cap = cap;
	y->n = keep;
	y->head = 0;
	bw_fraud__map_set(&w->map, y, h); /* the same key: replaces x */
	win_free(w, x);
	return y;
}

static struct win *create(struct bw_fraud_windows *w, const uint8_t *ck, size_t len, uint32_t cap,
                          uint64_t h)
{
	if (bw_fraud__map_reserve(&w->map, 1) != BW_OK)
		return NULL;
	struct win *x = malloc(win_size(len, cap));
	if (!x)
		return NULL;
	w->bytes += win_size(len, cap);
	x->cap = cap;
	x->n = x->head = 0;
	x->klen = (uint16_t)len;
	memcpy(x + 1, ck, len);
	bw_fraud__map_set(&w->map, x, h);
	return x;
}

bw_result bw_fraud_count(struct bw_fraud_windows *w, const char *instance_id,
                         const struct bw_fraud_rule *r, const char *key, long long at_ms)
{
	uint8_t ck[CKEY_MAX];
	if (!w || !instance_id || !key || !rule_ok(r))
		return BW_INVALID;
	size_t len = compose(ck, instance_id, r->kind, key);
	if (!len)
		return BW_INVALID;
	uint32_t limit = (uint32_t)r->limit;
	uint64_t h = bw_fraud__map_hash(&w->map, ck, len);
	struct win *x = bw_fraud__map_get(&w->map, ck, len, h);
	if (!x && !(x = create(w, ck, len, limit < FIRST_CAP ? limit : FIRST_CAP, h)))
		return BW_NOMEM;
	if (x->cap > limit && !(x = resize(w, x, limit, h))) /* the limit was lowered */
		return BW_NOMEM;
	long long *ring = ring_of(x);
	long long latest = x->n && ring[at(x, x->n - 1)] > at_ms ? ring[at(x, x->n - 1)] : at_ms;
	long long cut = before(latest, r->window_s);
	if (at_ms <= cut)
		return BW_OK; /* reloaded, and already out of the window */
	while (x->n && ring[x->head] <= cut) {
		x->head = at(x, 1);
		x->n--;
	}
	if (x->cap >= 16 && x->n * 4 <= x->cap) {
		struct win *y = resize(w, x, x->n * 2 > FIRST_CAP ? x->n * 2 : FIRST_CAP, h);
		if (y) /* else keep the larger ring */
			x = y;
		ring = ring_of(x);
	}
	if (x->n == limit) {
		/* Full: the oldest goes, unless the new time is older still (a
		 * reload out of order), when it cannot count in any window the
		 * kept times do not already cover. */
		if (at_ms < ring[x->head])
			return BW_OK;
		x->head = at(x, 1);
		x->n--;
	} else if (x->n == x->cap) {
		uint32_t cap = x->cap * 2 < limit ? x->cap * 2 : limit;
		if (!(x = resize(w, x, cap, h)))
			return BW_NOMEM;
		ring = ring_of(x);
	}
	/* Oldest first: a time older than the newest (history reloaded out of
	 * order) is moved into place. */
	uint32_t pos = x->n;
	for (; pos > 0 && ring[at(x, pos - 1)] > at_ms; pos--)
		ring[at(x, pos)] = ring[at(x, pos - 1)];
	ring[at(x, pos)] = at_ms;
	x->n++;
	return BW_OK;
}

void bw_fraud_windows_sweep(struct bw_fraud_windows *w, long long now_ms, int max_window_s)
{
	if (!w)
		return;
	long long cut = before(now_ms, max_window_s > 0 ? max_window_s : 0);
	for (size_t i = 0; i < w->map.cap; i++) {
		if (!bw_fraud__live(&w->map.slots[i]))
			continue;
		struct win *x = w->map.slots[i].val;
		if (x->n && ring_of(x)[at(x, x->n - 1)] > cut)
			continue;
		bw_fraud__map_del_at(&w->map, i);
		win_free(w, x);
	}
	bw_fraud__map_tidy(&w->map);
}
