/* The engine's string → pointer map (src/cc/map.c): open addressing with
 * linear probing and tombstones. Besides lookups, each test checks the
 * table's shape: a power-of-two capacity, a load (keys and tombstones) under
 * three quarters, so a probe always ends on an empty slot. */
#include "test_common.h"

#include <stdio.h>
#include <stdlib.h>

#include "cc/engine_int.h"

static void assert_shape(const struct cc_map *m)
{
	if (!m->cap) {
		assert_int_equal(m->n, 0);
		return;
	}
	assert_true((m->cap & (m->cap - 1)) == 0);
	assert_true(m->n <= m->used);
	assert_true(m->used * 4 < m->cap * 3);
	size_t live = 0, taken = 0;
	for (size_t i = 0; i < m->cap; i++) {
		if (m->slots[i].key)
			taken++;
		if (m->slots[i].key && cc_map_get(m, m->slots[i].key) == m->slots[i].val)
			live++; /* a tombstone's marker text is no key of ours */
	}
	assert_int_equal(taken, m->used);
	assert_true(live >= m->n);
}

static void test_empty(void **state)
{
	(void)state;
	struct cc_map m = {0};
	assert_null(cc_map_get(&m, "nothing"));
	cc_map_del(&m, "nothing");
	assert_int_equal(m.n, 0);
	cc_map_free(&m);
	cc_map_free(&m); /* freeing twice is fine: free leaves an empty map */
	int v;
	assert_int_equal(cc_map_put(&m, "", &v), 0); /* the empty key is a key */
	assert_ptr_equal(cc_map_get(&m, ""), &v);
	assert_null(cc_map_get(&m, "x"));
	cc_map_free(&m);
	assert_null(m.slots);
	assert_int_equal(m.cap, 0);
}

#define MANY 20000

static void test_many_keys(void **state)
{
	(void)state;
	static int vals[MANY];
	struct cc_map m = {0};
	char k[32];
	for (int i = 0; i < MANY; i++) {
		snprintf(k, sizeof(k), "ct_%d", i);
		assert_int_equal(cc_map_put(&m, k, &vals[i]), 0);
	}
	assert_int_equal(m.n, MANY);
	assert_shape(&m);
	for (int i = 0; i < MANY; i++) {
		snprintf(k, sizeof(k), "ct_%d", i);
		assert_ptr_equal(cc_map_get(&m, k), &vals[i]);
	}
	assert_null(cc_map_get(&m, "ct_"));
	assert_null(cc_map_get(&m, "ct_20000"));
	assert_null(cc_map_get(&m, "ct_-1"));
	cc_map_free(&m);
}

static void test_overwrite(void **state)
{
	(void)state;
	struct cc_map m = {0};
	int a, b;
	assert_int_equal(cc_map_put(&m, "inst", &a), 0);
	size_t used = m.used;
	assert_int_equal(cc_map_put(&m, "inst", &b), 0);
	assert_ptr_equal(cc_map_get(&m, "inst"), &b);
	assert_int_equal(m.n, 1);
	assert_int_equal(m.used, used);
	cc_map_free(&m);
}

static void test_key_is_copied(void **state)
{
	(void)state;
	struct cc_map m = {0};
	int v;
	char k[16];
	snprintf(k, sizeof(k), "ct_abc");
	assert_int_equal(cc_map_put(&m, k, &v), 0);
	k[3] = 'X';
	assert_ptr_equal(cc_map_get(&m, "ct_abc"), &v);
	assert_null(cc_map_get(&m, k));
	cc_map_free(&m);
}

static size_t fnv1a(const char *s)
{
	size_t h = 1469598103934665603ull;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

/* Keys that share a home slot in a table of cap slots. */
static void colliding(char keys[][16], size_t n, size_t cap)
{
	size_t home = fnv1a("seed") & (cap - 1), found = 0;
	for (int i = 0; found < n; i++) {
		assert_true(i < 1000000);
		snprintf(keys[found], 16, "k%d", i);
		if ((fnv1a(keys[found]) & (cap - 1)) == home)
			found++;
	}
}

static void test_tombstones(void **state)
{
	(void)state;
	struct cc_map m = {0};
	int v[4], w;
	assert_int_equal(cc_map_put(&m, "seed", &w), 0);
	assert_int_equal(m.cap, 64);
	char keys[4][16];
	colliding(keys, 4, m.cap);
	/* seed, k0, k1, k2 sit in one run of slots. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(cc_map_put(&m, keys[i], &v[i]), 0);
	assert_int_equal(m.used, 4);
	/* A deleted key in the middle of a run: the ones after it are still found. */
	cc_map_del(&m, keys[0]);
	assert_null(cc_map_get(&m, keys[0]));
	assert_ptr_equal(cc_map_get(&m, keys[1]), &v[1]);
	assert_ptr_equal(cc_map_get(&m, keys[2]), &v[2]);
	assert_null(cc_map_get(&m, keys[3])); /* a miss walks past the tombstone */
	assert_int_equal(m.n, 3);
	assert_int_equal(m.used, 4);
	cc_map_del(&m, keys[0]); /* twice: nothing more */
	assert_int_equal(m.n, 3);
	/* Reinserting takes the tombstone's slot: no new slot is used. */
	assert_int_equal(cc_map_put(&m, keys[3], &v[3]), 0);
	assert_int_equal(m.used, 4);
	assert_int_equal(m.n, 4);
	assert_ptr_equal(cc_map_get(&m, keys[3]), &v[3]);
	/* An existing key behind a tombstone is updated, not added twice. */
	cc_map_del(&m, keys[1]);
	assert_int_equal(cc_map_put(&m, keys[2], &v[0]), 0);
	assert_int_equal(m.n, 3);
	assert_ptr_equal(cc_map_get(&m, keys[2]), &v[0]);
	assert_int_equal(cc_map_put(&m, keys[0], &v[0]), 0);
	assert_int_equal(cc_map_put(&m, keys[1], &v[1]), 0);
	for (int i = 0; i < 4; i++)
		assert_non_null(cc_map_get(&m, keys[i]));
	assert_int_equal(m.n, 5);
	assert_shape(&m);
	cc_map_free(&m);
}

static void test_growth(void **state)
{
	(void)state;
	static int vals[1000];
	struct cc_map m = {0};
	char k[32];
	size_t grows = 0, cap = 0;
	for (int i = 0; i < 1000; i++) {
		snprintf(k, sizeof(k), "agent-%d", i);
		assert_int_equal(cc_map_put(&m, k, &vals[i]), 0);
		if (m.cap != cap) {
			grows++;
			cap = m.cap;
			/* Every key survives the rehash. */
			for (int j = 0; j <= i; j++) {
				snprintf(k, sizeof(k), "agent-%d", j);
				assert_ptr_equal(cc_map_get(&m, k), &vals[j]);
			}
			assert_shape(&m);
		}
	}
	assert_int_equal(m.cap, 2048); /* 1000 keys under 3/4 of it */
	assert_int_equal(grows, 6);    /* 64, 128, ..., 2048 */
	cc_map_free(&m);
}

/* Contacts come and go under ids never seen again: the table must not grow
 * with every contact ever made, only with the ones alive together. */
static void test_churn_stays_small(void **state)
{
	(void)state;
	struct cc_map m = {0};
	int v;
	char k[32], old[32];
	for (int i = 0; i < 200000; i++) {
		snprintf(k, sizeof(k), "ct_%d", i);
		assert_int_equal(cc_map_put(&m, k, &v), 0);
		if (i >= 8) {
			snprintf(old, sizeof(old), "ct_%d", i - 8);
			cc_map_del(&m, old);
		}
		assert_true(m.n <= 9);
	}
	assert_true(m.cap <= 128);
	assert_shape(&m);
	for (int i = 200000 - 8; i < 200000; i++) {
		snprintf(k, sizeof(k), "ct_%d", i);
		assert_ptr_equal(cc_map_get(&m, k), &v);
	}
	cc_map_free(&m);
}

/* ---- randomized, against a plain array ---- */

#define NKEYS 600

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void test_random_against_reference(void **state)
{
	(void)state;
	static int vals[NKEYS * 2];
	static char keys[NKEYS][24];
	void *ref[NKEYS] = {0};
	size_t nref = 0;
	for (int i = 0; i < NKEYS; i++)
		snprintf(keys[i], sizeof(keys[i]), "%s%d", i % 3 ? "ct_" : "q", i * 7919);
	struct cc_map m = {0};
	for (int round = 0; round < 300000; round++) {
		uint64_t r = next_rand();
		size_t i = (size_t)(r >> 8) % NKEYS;
		/* Phases that favour inserts, then deletes, to sweep the load up and down. */
		bool filling = (round / 20000) % 2 == 0;
		unsigned op = (unsigned)(r & 0xff);
		if (op < (filling ? 150u : 80u)) {
			void *val = &vals[i * 2 + (r >> 40 & 1)];
			assert_int_equal(cc_map_put(&m, keys[i], val), 0);
			if (!ref[i])
				nref++;
			ref[i] = val;
		} else if (op < 230u) {
			cc_map_del(&m, keys[i]);
			if (ref[i])
				nref--;
			ref[i] = NULL;
		} else {
			assert_ptr_equal(cc_map_get(&m, keys[i]), ref[i]);
		}
		assert_int_equal(m.n, nref);
		if (round % 5000 == 0) {
			for (size_t k = 0; k < NKEYS; k++)
				assert_ptr_equal(cc_map_get(&m, keys[k]), ref[k]);
			assert_shape(&m);
		}
	}
	for (size_t k = 0; k < NKEYS; k++)
		assert_ptr_equal(cc_map_get(&m, keys[k]), ref[k]);
	assert_true(m.cap <= 4096); /* 600 keys at most, whatever came and went */
	cc_map_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_many_keys),
		cmocka_unit_test(test_overwrite),
		cmocka_unit_test(test_key_is_copied),
		cmocka_unit_test(test_tombstones),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_churn_stays_small),
		cmocka_unit_test(test_random_against_reference),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
