/* The fraud area's map (fraud_int.h): open addressing, linear probing,
 * tombstones, like src/cc/map.c, but keyed by byte strings the values hold,
 * with the hash kept in the slot and computed by a keyed SipHash-1-3. */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "fraud/fraud_int.h"

char bw_fraud__tomb;

#define MIN_CAP 16

/* ---- SipHash-1-3 (Aumasson and Bernstein; the variant Rust's HashMap
 * uses: one compression round, three finalization rounds) ---- */

static inline uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIPROUND                                                                                   \
	do {                                                                                       \
		v0 += v1;                                                                          \
		v1 = rotl(v1, 13);                                                                 \
		v1 ^= v0;                                                                          \
		v0 = rotl(v0, 32);                                                                 \
		v2 += v3;                                                                          \
		v3 = rotl(v3, 16);                                                                 \
		v3 ^= v2;                                                                          \
		v0 += v3;                                                                          \
		v3 = rotl(v3, 21);                                                                 \
		v3 ^= v0;                                                                          \
		v2 += v1;                                                                          \
		v1 = rotl(v1, 17);                                                                 \
		v1 ^= v2;                                                                          \
		v2 = rotl(v2, 32);                                                                 \
	} while (0)

uint64_t bw_fraud__hash(const uint64_t seed[2], const void *p, size_t n)
{
	uint64_t v0 = 0x736f6d6570736575ull ^ seed[0], v1 = 0x646f72616e646f6dull ^ seed[1];
	uint64_t v2 = 0x6c7967656e657261ull ^ seed[0], v3 = 0x7465646279746573ull ^ seed[1];
	const uint8_t *in = p;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t m;
		memcpy(&m, in + i, 8); /* host order: only this process reads the hashes */
		v3 ^= m;
		SIPROUND;
		v0 ^= m;
	}
	uint64_t b = (uint64_t)n << 56;
	for (int s = 0; i < n; i++, s += 8)
		b |= (uint64_t)in[i] << s;
	v3 ^= b;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

void bw_fraud__seed(uint64_t seed[2])
{
	if (getrandom(seed, 2 * sizeof(uint64_t), GRND_NONBLOCK) == 2 * sizeof(uint64_t))
		return;
	/* No entropy yet (early boot): still differs between runs and tables. */
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	seed[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)seed;
	seed[1] = (uint64_t)ts.tv_sec * 0xbf58476d1ce4e5b9ull ^ (uint64_t)(uintptr_t)&ts;
}

/* ---- the map ---- */

void bw_fraud__map_init(struct bw_fraud__map *m, const uint64_t seed[2],
                        const void *(*keyof)(const void *val, size_t *len))
{
	memset(m, 0, sizeof(*m));
	m->seed[0] = seed[0];
	m->seed[1] = seed[1];
	m->keyof = keyof;
}

void bw_fraud__map_free(struct bw_fraud__map *m)
{
	free(m->slots);
	m->slots = NULL;
	m->cap = m->n = m->used = 0;
}

/* A slot from the hash's top bits: multiply-shift hashes (denylist.c) are
 * universal in their top bits only; SipHash is good in all of them. */
static inline size_t home(const struct bw_fraud__map *m, uint64_t h)
{
	return (size_t)(h >> m->shift);
}

static bool same(const struct bw_fraud__map *m, const void *val, const void *key, size_t len)
{
	size_t vlen;
	const void *vk = m->keyof(val, &vlen);
	return vlen == len && !memcmp(vk, key, len);
}

void *bw_fraud__map_get(const struct bw_fraud__map *m, const void *key, size_t len, uint64_t h)
{
	if (!m->cap)
		return NULL;
	size_t mask = m->cap - 1;
	for (size_t i = home(m, h);; i = (i + 1) & mask) {
		const struct bw_fraud__slot *s = &m->slots[i];
		if (!s->val)
			return NULL;
		if (s->h == h && s->val != (void *)&bw_fraud__tomb && same(m, s->val, key, len))
			return s->val;
	}
}

/* Moves the live values into a table of cap slots (no tombstones). */
static bw_result rebuild(struct bw_fraud__map *m, size_t cap)
{
	struct bw_fraud__slot *ns = calloc(cap, sizeof(*ns));
	if (!ns)
		return BW_NOMEM;
	int shift = 64;
	for (size_t c = cap; c > 1; c >>= 1)
		shift--;
	for (size_t i = 0; i < m->cap; i++) {
		if (!bw_fraud__live(&m->slots[i]))
			continue;
		size_t j = (size_t)(m->slots[i].h >> shift);
		while (ns[j].val)
			j = (j + 1) & (cap - 1);
		ns[j] = m->slots[i];
	}
	free(m->slots);
	m->slots = ns;
	m->cap = cap;
	m->shift = shift;
	m->used = m->n;
	return BW_OK;
}

/* The capacity for n keys: a load of at most a half after a rebuild, so a
 * run of insertions follows before the next one. */
static size_t cap_for(size_t n)
{
	size_t cap = MIN_CAP;
	while (cap / 2 < n)
		cap *= 2;
	return cap;
}

bw_result bw_fraud__map_reserve(struct bw_fraud__map *m, size_t more)
{
	if (more > SIZE_MAX / 8 - m->used)
		return BW_TOOBIG;
	if ((m->used + more) * 4 < m->cap * 3)
		return BW_OK;
	return rebuild(m, cap_for(m->n + more));
}

void bw_fraud__map_set(struct bw_fraud__map *m, void *val, uint64_t h)
{
	size_t len;
	const void *key = m->keyof(val, &len);
	size_t mask = m->cap - 1, free_slot = SIZE_MAX;
	for (size_t i = home(m, h);; i = (i + 1) & mask) {
		struct bw_fraud__slot *s = &m->slots[i];
		if (!s->val) {
			if (free_slot == SIZE_MAX) {
				free_slot = i;
				m->used++;
			}
			break;
		}
		if (s->val == (void *)&bw_fraud__tomb) {
			if (free_slot == SIZE_MAX)
				free_slot = i;
			continue;
		}
		if (s->h == h && same(m, s->val, key, len)) {
			s->val = val;
			return;
		}
	}
	m->slots[free_slot].h = h;
	m->slots[free_slot].val = val;
	m->n++;
}

void bw_fraud__map_del_at(struct bw_fraud__map *m, size_t i)
{
	m->slots[i].val = &bw_fraud__tomb;
	m->slots[i].h = 0;
	m->n--;
	/* A tombstone followed by an empty slot ends no probe: empty it, and
	 * the tombstones before it too. */
	size_t mask = m->cap - 1;
	if (m->slots[(i + 1) & mask].val)
		return;
	while (m->slots[i].val == (void *)&bw_fraud__tomb) {
		m->slots[i].val = NULL;
		m->used--;
		i = (i - 1) & mask;
	}
}

void *bw_fraud__map_del(struct bw_fraud__map *m, const void *key, size_t len, uint64_t h)
{
	if (!m->cap)
		return NULL;
	size_t mask = m->cap - 1;
	for (size_t i = home(m, h);; i = (i + 1) & mask) {
		struct bw_fraud__slot *s = &m->slots[i];
		if (!s->val)
			return NULL;
		if (s->h == h && s->val != (void *)&bw_fraud__tomb && same(m, s->val, key, len)) {
			void *v = s->val;
			bw_fraud__map_del_at(m, i);
			return v;
		}
	}
}

void bw_fraud__map_tidy(struct bw_fraud__map *m)
{
	if (!m->n) {
		bw_fraud__map_free(m);
		return;
	}
	size_t want = cap_for(m->n);
	/* Shrink when a quarter full or less; drop tombstones past a quarter. */
	if (m->cap > want * 2 || (m->used - m->n) * 4 > m->cap)
		bw_ignore(rebuild(m, want));
}
