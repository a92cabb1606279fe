/* Encryption keys (0007) on the SQLite backend in a temporary folder:
 * round trips, a repeated key id, the two-active limit on insert and on
 * re-activation (a slot frees on disable and on delete), lists by key id,
 * the engine's active keys with their PEM, instance scoping and the
 * cascade of an instance's deletion. */
#include "test_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "store/store.h"
#include "test_db.h"

static void make_instance(struct bw_store *s, const char *iid)
{
	test_db_instance(s, iid, NULL);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f || test_db_open(f, "enckey", 7) != 0)
		return -1;
	make_instance(f->s, "in_A");
	make_instance(f->s, "in_B");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	test_db_close(f);
	free(f);
	return 0;
}

static bw_result insert(struct bw_store *s, const char *iid, const char *key_id, const char *status,
                        long long at)
{
	char pem[96];
	struct bw_enckey k = {.bits = 2048, .created_at = at, .updated_at = at, .public_key = pem};
	snprintf(k.instance_id, sizeof(k.instance_id), "%s", iid);
	snprintf(k.key_id, sizeof(k.key_id), "%s", key_id);
	snprintf(k.status, sizeof(k.status), "%s", status);
	snprintf(k.fingerprint, sizeof(k.fingerprint), "%064d", 7);
	snprintf(pem, sizeof(pem), "-----BEGIN PUBLIC KEY-----\n%s\n-----END PUBLIC KEY-----\n",
	         key_id);
	return bw_store_enckey_insert(s, &k);
}

static void test_round_trip(void **state)
{
	struct fixture *f = *state;
	struct bw_enckey k;
	assert_int_equal(insert(f->s, "in_A", "k.1", "ACTIVE", 1000), BW_OK);
	assert_int_equal(bw_store_enckey_get(f->s, "in_A", "k.1", &k), BW_OK);
	assert_string_equal(k.instance_id, "in_A");
	assert_string_equal(k.key_id, "k.1");
	assert_string_equal(k.status, "ACTIVE");
	assert_int_equal(k.bits, 2048);
	assert_int_equal(strlen(k.fingerprint), 64);
	assert_int_equal(k.created_at, 1000);
	assert_contains(k.public_key, "k.1");
	bw_enckey_clear(&k);
	assert_null(k.public_key);
	/* Another instance sees nothing of it, and may use the same id. */
	assert_int_equal(bw_store_enckey_get(f->s, "in_B", "k.1", &k), BW_NOTFOUND);
	assert_int_equal(insert(f->s, "in_B", "k.1", "ACTIVE", 1000), BW_OK);
	assert_int_equal(insert(f->s, "in_A", "k.1", "DISABLED", 1000), BW_CONFLICT);
	/* An unknown instance fails its foreign key. */
	assert_int_equal(insert(f->s, "in_nope", "k.1", "ACTIVE", 1000), BW_CONFLICT);
}

static void test_two_active(void **state)
{
	struct fixture *f = *state;
	struct bw_enckey act[BW_ENCKEY_MAX_ACTIVE];
	size_t n;
	assert_int_equal(bw_store_enckey_active(f->s, "in_A", act, &n), BW_OK);
	assert_int_equal(n, 0);
	assert_int_equal(insert(f->s, "in_A", "b", "ACTIVE", 1), BW_OK);
	assert_int_equal(insert(f->s, "in_A", "a", "ACTIVE", 2), BW_OK);
	assert_int_equal(insert(f->s, "in_A", "c", "ACTIVE", 3), BW_CONFLICT);
	assert_int_equal(bw_store_enckey_get(f->s, "in_A", "c", act), BW_NOTFOUND);
	/* A DISABLED key takes no slot. */
	assert_int_equal(insert(f->s, "in_A", "c", "DISABLED", 3), BW_OK);
	/* Another instance has its own two. */
	assert_int_equal(insert(f->s, "in_B", "x", "ACTIVE", 1), BW_OK);
	assert_int_equal(insert(f->s, "in_B", "y", "ACTIVE", 1), BW_OK);

	assert_int_equal(bw_store_enckey_active(f->s, "in_A", act, &n), BW_OK);
	assert_int_equal(n, 2);
	assert_string_equal(act[0].key_id, "a");
	assert_string_equal(act[1].key_id, "b");
	assert_contains(act[0].public_key, "\na\n");
	assert_contains(act[1].public_key, "\nb\n");
	for (size_t i = 0; i < n; i++)
		bw_enckey_clear(&act[i]);

	/* Re-activating c is refused until a slot frees. */
	assert_int_equal(bw_store_enckey_set_status(f->s, "in_A", "c", "ACTIVE", 10), BW_CONFLICT);
	assert_int_equal(bw_store_enckey_set_status(f->s, "in_A", "a", "DISABLED", 10), BW_OK);
	assert_int_equal(bw_store_enckey_set_status(f->s, "in_A", "c", "ACTIVE", 11), BW_OK);
	/* Setting a status a key has already is no change of slots. */
	assert_int_equal(bw_store_enckey_set_status(f->s, "in_A", "c", "ACTIVE", 12), BW_OK);
	assert_int_equal(bw_store_enckey_get(f->s, "in_A", "c", act), BW_OK);
	assert_int_equal(act[0].updated_at, 12);
	bw_enckey_clear(&act[0]);
	assert_int_equal(bw_store_enckey_delete(f->s, "in_A", "b"), BW_OK);
	assert_int_equal(bw_store_enckey_delete(f->s, "in_A", "b"), BW_NOTFOUND);
	assert_int_equal(bw_store_enckey_set_status(f->s, "in_A", "a", "ACTIVE", 13), BW_OK);
	assert_int_equal(bw_store_enckey_set_status(f->s, "in_A", "nope", "ACTIVE", 13),
	                 BW_NOTFOUND);
	/* Another instance's key is not found through this one. */
	assert_int_equal(bw_store_enckey_delete(f->s, "in_A", "x"), BW_NOTFOUND);
	assert_int_equal(bw_store_enckey_set_status(f->s, "in_A", "x", "DISABLED", 13),
	                 BW_NOTFOUND);
	assert_int_equal(bw_store_enckey_active(f->s, "in_A", act, &n), BW_OK);
	assert_int_equal(n, 2);
	assert_string_equal(act[0].key_id, "a");
	assert_string_equal(act[1].key_id, "c");
	for (size_t i = 0; i < n; i++)
		bw_enckey_clear(&act[i]);
}

static void test_list_and_cascade(void **state)
{
	struct fixture *f = *state;
	struct bw_enckey out[10];
	size_t n;
	const char *ids[] = {"m", "a-1", "Z", "b.2", "a_0"};
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(insert(f->s, "in_A", ids[i], "DISABLED", 1), BW_OK);
	assert_int_equal(bw_store_enckey_list(f->s, "in_A", NULL, out, 3, &n), BW_OK);
	assert_int_equal(n, 3);
	assert_string_equal(out[0].key_id, "Z");
	assert_string_equal(out[1].key_id, "a-1");
	assert_string_equal(out[2].key_id, "a_0");
	assert_null(out[0].public_key); /* lists carry no PEM */
	assert_int_equal(bw_store_enckey_list(f->s, "in_A", "a_0", out, 10, &n), BW_OK);
	assert_int_equal(n, 2);
	assert_string_equal(out[0].key_id, "b.2");
	assert_string_equal(out[1].key_id, "m");
	assert_int_equal(bw_store_enckey_list(f->s, "in_B", NULL, out, 10, &n), BW_OK);
	assert_int_equal(n, 0);

	assert_int_equal(bw_store_instance_delete(f->s, "in_A"), BW_OK);
	assert_int_equal(bw_store_enckey_list(f->s, "in_A", NULL, out, 10, &n), BW_OK);
	assert_int_equal(n, 0);
	assert_int_equal(bw_store_enckey_get(f->s, "in_A", "m", out), BW_NOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_two_active, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list_and_cascade, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
