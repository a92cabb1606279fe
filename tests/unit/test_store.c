/* The SQLite backend (src/store/sqlite.c) in a temporary folder:
 * migrations, and platform keys end to end. */
#include "test_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/log.h"
#include "store/store.h"

struct fixture {
	char dir[64];
	char path[128];
	struct bw_store *s;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/bw_test_store_XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/bulwark.db", f->dir);
	if (bw_store_open(&f->s, f->path, BW_DURABILITY_NORMAL) != BW_OK)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char p[160];
	bw_store_close(f->s);
	const char *suffix[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", f->path, suffix[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

static void migrate(struct bw_store *s, int *v)
{
	assert_int_equal(bw_store_migrate(s, v), BW_OK);
}

static void key(struct bw_platform_key *k, uint8_t hash[32], int i)
{
	memset(k, 0, sizeof(*k));
	snprintf(k->id, sizeof(k->id), "pk_%02d", i);
	snprintf(k->name, sizeof(k->name), "key %d", i);
	k->created_at = 1700000000 + i;
	memset(hash, 0, 32);
	hash[0] = (uint8_t)i;
	hash[31] = 0xa5;
}

static void insert_keys(struct bw_store *s, int n)
{
	for (int i = 1; i <= n; i++) {
		struct bw_platform_key k;
		uint8_t h[32];
		key(&k, h, i);
		assert_int_equal(bw_store_platform_key_insert(s, &k, h), BW_OK);
	}
}

static void test_migrate_idempotent(void **state)
{
	struct fixture *f = *state;
	int v1 = -1, v2 = -1, v3 = -1;
	assert_int_equal(bw_store_ping(f->s), BW_ERR); /* no schema yet */
	migrate(f->s, &v1);
	assert_true(v1 >= 1);
	assert_int_equal(bw_store_ping(f->s), BW_OK);
	migrate(f->s, &v2);
	assert_int_equal(v2, v1);
	insert_keys(f->s, 1);
	/* Reopened: the same version, the data kept, nothing applied twice. */
	bw_store_close(f->s);
	assert_int_equal(bw_store_open(&f->s, f->path, BW_DURABILITY_FULL), BW_OK);
	migrate(f->s, &v3);
	assert_int_equal(v3, v1);
	struct bw_platform_key out[4];
	size_t n = 99;
	assert_int_equal(bw_store_platform_key_list(f->s, NULL, out, 4, &n), BW_OK);
	assert_int_equal(n, 1);
}

static void test_insert_find(void **state)
{
	struct fixture *f = *state;
	int v;
	migrate(f->s, &v);
	insert_keys(f->s, 3);
	struct bw_platform_key k, out;
	uint8_t h[32];
	key(&k, h, 2);
	memset(&out, 0, sizeof(out));
	assert_int_equal(bw_store_platform_key_find(f->s, h, &out), BW_OK);
	assert_string_equal(out.id, "pk_02");
	assert_string_equal(out.name, "key 2");
	assert_int_equal(out.created_at, 1700000002);
	assert_int_equal(out.last_used_at, 0);
	h[5] ^= 1;
	assert_int_equal(bw_store_platform_key_find(f->s, h, &out), BW_NOTFOUND);

	/* The same id, or the same hash, is a conflict. */
	key(&k, h, 2);
	h[1] = 0x77;
	assert_int_equal(bw_store_platform_key_insert(f->s, &k, h), BW_CONFLICT);
	key(&k, h, 2);
	snprintf(k.id, sizeof(k.id), "pk_other");
	assert_int_equal(bw_store_platform_key_insert(f->s, &k, h), BW_CONFLICT);
}

static void test_list_paging(void **state)
{
	struct fixture *f = *state;
	int v;
	migrate(f->s, &v);
	struct bw_platform_key out[3];
	size_t n = 99;
	assert_int_equal(bw_store_platform_key_list(f->s, NULL, out, 3, &n), BW_OK);
	assert_int_equal(n, 0);
	insert_keys(f->s, 5);
	const char *expect[] = {"pk_01", "pk_02", "pk_03", "pk_04", "pk_05"};
	const char *after = NULL;
	char cursor[48];
	size_t seen = 0;
	for (int page = 0; page < 3; page++) {
		assert_int_equal(bw_store_platform_key_list(f->s, after, out, 2, &n), BW_OK);
		assert_int_equal(n, page < 2 ? 2 : 1);
		for (size_t i = 0; i < n; i++)
			assert_string_equal(out[i].id, expect[seen++]);
		snprintf(cursor, sizeof(cursor), "%s", out[n - 1].id);
		after = cursor;
	}
	assert_int_equal(seen, 5);
	assert_int_equal(bw_store_platform_key_list(f->s, "pk_05", out, 2, &n), BW_OK);
	assert_int_equal(n, 0);
	/* max bounds what is written. */
	memset(out, 0x5a, sizeof(out));
	assert_int_equal(bw_store_platform_key_list(f->s, NULL, out, 1, &n), BW_OK);
	assert_int_equal(n, 1);
	assert_int_equal((unsigned char)out[1].id[0], 0x5a);
}

static void test_revoke(void **state)
{
	struct fixture *f = *state;
	int v;
	migrate(f->s, &v);
	insert_keys(f->s, 3);
	struct bw_platform_key k, out[4];
	uint8_t h[32];
	size_t n;
	assert_int_equal(bw_store_platform_key_revoke(f->s, "pk_nope", 1), BW_NOTFOUND);
	assert_int_equal(bw_store_platform_key_revoke(f->s, "pk_02", 1800000000), BW_OK);
	/* Revoked: not found by hash, not listed, not revocable again. */
	key(&k, h, 2);
	assert_int_equal(bw_store_platform_key_find(f->s, h, &out[0]), BW_NOTFOUND);
	assert_int_equal(bw_store_platform_key_list(f->s, NULL, out, 4, &n), BW_OK);
	assert_int_equal(n, 2);
	assert_string_equal(out[0].id, "pk_01");
	assert_string_equal(out[1].id, "pk_03");
	assert_int_equal(bw_store_platform_key_revoke(f->s, "pk_02", 1), BW_NOTFOUND);
	/* Its hash is still taken: a revoked key's text cannot come back. */
	snprintf(k.id, sizeof(k.id), "pk_again");
	assert_int_equal(bw_store_platform_key_insert(f->s, &k, h), BW_CONFLICT);

	assert_int_equal(bw_store_platform_key_revoke(f->s, "pk_01", 1), BW_OK);
	/* The last active key cannot be revoked: that would lock everyone out. */
	assert_int_equal(bw_store_platform_key_revoke(f->s, "pk_03", 1), BW_CONFLICT);
	key(&k, h, 3);
	assert_int_equal(bw_store_platform_key_find(f->s, h, &out[0]), BW_OK);
	assert_string_equal(out[0].id, "pk_03");
	/* The failed revoke rolled back: the store still takes writes. */
	key(&k, h, 9);
	assert_int_equal(bw_store_platform_key_insert(f->s, &k, h), BW_OK);
	assert_int_equal(bw_store_platform_key_revoke(f->s, "pk_03", 1), BW_OK);
	assert_int_equal(bw_store_platform_key_revoke(f->s, "pk_09", 1), BW_CONFLICT);
}

int main(void)
{
	bw_log_min = BW_LOG_WARN; /* no "migration applied" lines */
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_migrate_idempotent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_insert_find, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list_paging, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_revoke, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
