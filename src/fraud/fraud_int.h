/* Internals of src/fraud: a small open-addressing map with a keyed hash,
 * and the address parsing the deny list and the keys share. */
#ifndef BW_FRAUD_INT_H
#define BW_FRAUD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/result.h"

/* SipHash-1-3 under a per-table random key: identifiers come from clients,
 * and a fixed hash would let them pick keys that share one probe run. */
uint64_t bw_fraud__hash(const uint64_t seed[2], const void *p, size_t n);
void bw_fraud__seed(uint64_t seed[2]);

/* A map from byte strings to values that hold their own key (keyof gives
 * it back). Linear probing with tombstones; keys and tombstones stay under
 * three quarters of a power-of-two capacity, so every probe ends. Each slot
 * keeps the full hash: a probe dereferences a value only when the hashes
 * agree, and growing never hashes again. The caller hashes (usually with
 * bw_fraud__map_hash), the same way for every key of a map; the top bits
 * of a hash choose its slot. */
struct bw_fraud__slot {
	uint64_t h;
	void *val; /* NULL: empty; bw_fraud__tomb: deleted */
};

struct bw_fraud__map {
	struct bw_fraud__slot *slots;
	size_t cap, n, used; /* used: live values and tombstones */
	int shift;           /* 64 - log2(cap): a hash's top bits pick its slot */
	uint64_t seed[2];
	const void *(*keyof)(const void *val, size_t *len);
};

extern char bw_fraud__tomb;

static inline bool bw_fraud__live(const struct bw_fraud__slot *s)
{
	return s->val && s->val != (void *)&bw_fraud__tomb;
}

static inline uint64_t bw_fraud__map_hash(const struct bw_fraud__map *m, const void *key,
                                          size_t len)
{
	return bw_fraud__hash(m->seed, key, len);
}

void bw_fraud__map_init(struct bw_fraud__map *m, const uint64_t seed[2],
                        const void *(*keyof)(const void *val, size_t *len));
void bw_fraud__map_free(struct bw_fraud__map *m); /* the slots; values are the caller's */
void *bw_fraud__map_get(const struct bw_fraud__map *m, const void *key, size_t len, uint64_t h);
/* Room for `more` new keys: after BW_OK, that many bw_fraud__map_set calls
 * cannot fail. */
BW_MUST_USE bw_result bw_fraud__map_reserve(struct bw_fraud__map *m, size_t more);
/* Inserts val under its key (hash h), or replaces the value holding the same
 * key. Needs a reservation when the key is new. */
void bw_fraud__map_set(struct bw_fraud__map *m, void *val, uint64_t h);
/* Removes and returns the value under key, NULL when none. */
void *bw_fraud__map_del(struct bw_fraud__map *m, const void *key, size_t len, uint64_t h);
/* Removes the value in slot i (while walking the slots). */
void bw_fraud__map_del_at(struct bw_fraud__map *m, size_t i);
/* After many deletions: rebuilds the table at the size its keys need, which
 * drops the tombstones (best effort: unchanged when memory is short). */
void bw_fraud__map_tidy(struct bw_fraud__map *m);

/* ---- addresses ---- */

/* An address with an optional prefix, in binary. IPv4-mapped IPv6
 * addresses (::ffff:a.b.c.d, and ranges of at least /96 inside
 * ::ffff:0:0/96) are IPv4: a dual-stack socket reports IPv4 clients so. */
struct bw_fraud__net {
	uint8_t a[16];  /* IPv4 in a[0..3] */
	uint8_t family; /* 4 or 6 */
	uint8_t plen;   /* 32 or 128 for a single address */
	bool cidr;      /* a "/n" was written */
};

/* Parses "addr" or "addr/n" (n 0..bits, decimal, no leading zero). Does
 * not check host bits. */
bool bw_fraud__parse_net(const char *s, struct bw_fraud__net *n);
/* Clears the bits past plen. */
void bw_fraud__mask(uint8_t *a, int family, int plen);
/* Writes the canonical text: the address alone for a full-length prefix,
 * else "addr/n". -1 when out is too small. */
int bw_fraud__format_net(const struct bw_fraud__net *n, char *out, size_t outsz);

#endif
