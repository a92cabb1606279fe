/* Integrations (0010) on the SQLite backend in a temporary folder: round
 * trips, a repeated name (insert and rename), lists by id with paging,
 * ?unused_for= (last call, or creation when never called), touch never
 * moving back, instance scoping and the cascade of an instance's deletion. */
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
	if (!f || test_db_open(f, "integ", 10) != 0)
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

static bw_result insert(struct bw_store *s, const char *iid, const char *id, const char *name,
                        long long at)
{
	char url[64], cfg[32];
	struct bw_integration_row r = {
	    .base_url = url, .config = cfg, .created_at = at, .updated_at = at};
	snprintf(r.id, sizeof(r.id), "%s", id);
	snprintf(r.instance_id, sizeof(r.instance_id), "%s", iid);
	snprintf(r.name, sizeof(r.name), "%s", name);
	snprintf(url, sizeof(url), "https://%s.example", name);
	snprintf(cfg, sizeof(cfg), "{\"n\":\"%s\"}", id);
	return bw_store_integration_insert(s, &r);
}

static void test_round_trip(void **state)
{
	struct fixture *f = *state;
	struct bw_integration_row r;
	assert_int_equal(insert(f->s, "in_A", "ig_1", "crm", 1000), BW_OK);
	assert_int_equal(bw_store_integration_get(f->s, "in_A", "ig_1", &r), BW_OK);
	assert_string_equal(r.name, "crm");
	assert_string_equal(r.base_url, "https://crm.example");
	assert_string_equal(r.config, "{\"n\":\"ig_1\"}");
	assert_int_equal(r.created_at, 1000);
	assert_int_equal(r.last_called_at, 0);
	bw_integration_row_clear(&r);
	assert_null(r.base_url);
	/* a name once per instance; another instance may reuse it */
	assert_int_equal(insert(f->s, "in_A", "ig_2", "crm", 1000), BW_CONFLICT);
	assert_int_equal(insert(f->s, "in_B", "ig_3", "crm", 1000), BW_OK);
	/* another instance's row is not found */
	assert_int_equal(bw_store_integration_get(f->s, "in_B", "ig_1", &r), BW_NOTFOUND);
	assert_int_equal(bw_store_integration_delete(f->s, "in_B", "ig_1"), BW_NOTFOUND);
	assert_int_equal(bw_store_integration_touch(f->s, "in_B", "ig_1", 5), BW_NOTFOUND);
	/* update, and a rename onto a taken name */
	assert_int_equal(insert(f->s, "in_A", "ig_4", "billing", 1000), BW_OK);
	assert_int_equal(bw_store_integration_get(f->s, "in_A", "ig_4", &r), BW_OK);
	char url[] = "https://new.example/api", cfg[] = "{}";
	free(r.base_url);
	free(r.config);
	r.base_url = url;
	r.config = cfg;
	r.updated_at = 2000;
	assert_int_equal(bw_store_integration_update(f->s, &r), BW_OK);
	snprintf(r.name, sizeof(r.name), "crm");
	assert_int_equal(bw_store_integration_update(f->s, &r), BW_CONFLICT);
	snprintf(r.instance_id, sizeof(r.instance_id), "in_B");
	snprintf(r.name, sizeof(r.name), "other");
	assert_int_equal(bw_store_integration_update(f->s, &r), BW_NOTFOUND);
	assert_int_equal(bw_store_integration_get(f->s, "in_A", "ig_4", &r), BW_OK);
	assert_string_equal(r.name, "billing");
	assert_string_equal(r.base_url, "https://new.example/api");
	assert_int_equal(r.updated_at, 2000);
	bw_integration_row_clear(&r);
	assert_int_equal(bw_store_integration_delete(f->s, "in_A", "ig_4"), BW_OK);
	assert_int_equal(bw_store_integration_get(f->s, "in_A", "ig_4", &r), BW_NOTFOUND);
}

static size_t list(struct bw_store *s, const char *iid, const char *after, long long before,
                   char ids[][48], size_t max)
{
	struct bw_integration_row rows[16];
	size_t n = 0;
	assert_int_equal(bw_store_integration_list(s, iid, after, before, rows, max, &n), BW_OK);
	for (size_t i = 0; i < n; i++) {
		memcpy(ids[i], rows[i].id, sizeof(rows[i].id));
		bw_integration_row_clear(&rows[i]);
	}
	return n;
}

static void test_unused(void **state)
{
	struct fixture *f = *state;
	char ids[16][48];
	/* created at 100 (never called), 200 (called at 900), 300 (called at 400) */
	assert_int_equal(insert(f->s, "in_A", "ig_a", "a", 100), BW_OK);
	assert_int_equal(insert(f->s, "in_A", "ig_b", "b", 200), BW_OK);
	assert_int_equal(insert(f->s, "in_A", "ig_c", "c", 300), BW_OK);
	assert_int_equal(insert(f->s, "in_B", "ig_d", "d", 50), BW_OK);
	assert_int_equal(bw_store_integration_touch(f->s, "in_A", "ig_b", 900), BW_OK);
	assert_int_equal(bw_store_integration_touch(f->s, "in_A", "ig_c", 400), BW_OK);
	assert_int_equal(bw_store_integration_touch(f->s, "in_A", "ig_b", 500),
	                 BW_OK); /* not back */
	struct bw_integration_row r;
	assert_int_equal(bw_store_integration_get(f->s, "in_A", "ig_b", &r), BW_OK);
	assert_int_equal(r.last_called_at, 900);
	bw_integration_row_clear(&r);
	/* all of A's, by id; paging */
	assert_int_equal(list(f->s, "in_A", NULL, 0, ids, 16), 3);
	assert_string_equal(ids[0], "ig_a");
	assert_string_equal(ids[2], "ig_c");
	assert_int_equal(list(f->s, "in_A", NULL, 0, ids, 2), 2);
	assert_int_equal(list(f->s, "in_A", "ig_b", 0, ids, 16), 1);
	assert_string_equal(ids[0], "ig_c");
	/* unused since 350: a (created 100, never called); c was called at 400 */
	assert_int_equal(list(f->s, "in_A", NULL, 350, ids, 16), 1);
	assert_string_equal(ids[0], "ig_a");
	/* since 450: c too (last call 400), not b (900) */
	assert_int_equal(list(f->s, "in_A", NULL, 450, ids, 16), 2);
	assert_string_equal(ids[1], "ig_c");
	assert_int_equal(list(f->s, "in_A", NULL, 100, ids, 16), 0); /* strictly before */
	assert_int_equal(list(f->s, "in_A", NULL, 1000, ids, 16), 3);
	assert_int_equal(list(f->s, "in_B", NULL, 1000, ids, 16), 1);
	/* the instance's deletion takes its integrations */
	assert_int_equal(bw_store_instance_delete(f->s, "in_B"), BW_OK);
	assert_int_equal(list(f->s, "in_B", NULL, 0, ids, 16), 0);
	assert_int_equal(list(f->s, "in_A", NULL, 0, ids, 16), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
