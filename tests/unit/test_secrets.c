/* The secrets vault (src/integ/secrets.c, src/store/sqlite_secrets.c) on
 * SQLite in a temporary folder: create and read back, names and value
 * bounds, versions and the grace period of the previous one (a test clock,
 * no sleeping), grace 0, purging of ended versions, a concurrent rotation,
 * tenancy, deletion and its cascade, and the value at rest: sealed (not in
 * the database file or its WAL), bound to its secret, version and instance
 * (a sealed value copied to another row does not open). */
#include "test_integ.h"

#include <sqlite3.h>

#include "integ/secrets.h"

#define VALUE "sk_live_5f2bA9-unit-test-value"

static struct bw_secret mk(struct bw_store *s, const char *iid, const char *name, const char *value)
{
	struct bw_secret x;
	assert_int_equal(bw_secret_create(s, iid, name, value, strlen(value), &x), BW_OK);
	return x;
}

static void expect_read(struct bw_store *s, const char *iid, const char *name, const char *want)
{
	char *v = NULL;
	assert_int_equal(bw_secret_read(s, iid, name, &v), BW_OK);
	assert_string_equal(v, want);
	bw_secret_free(v);
}

static void test_create_and_read(void **state)
{
	struct fixture *f = *state;
	struct bw_secret x = mk(f->s, "in_A", "crm-api-key", VALUE), got;
	assert_memory_equal(x.id, "sc_", 3);
	assert_int_equal(x.version, 1);
	assert_int_equal(x.created_at, fx_now);
	assert_int_equal(x.rotated_at, 0);
	assert_int_equal(x.previous_readable_until, 0);
	assert_int_equal(bw_store_secret_get(f->s, "in_A", x.id, &got), BW_OK);
	assert_string_equal(got.name, "crm-api-key");
	assert_int_equal(got.version, 1);
	expect_read(f->s, "in_A", "crm-api-key", VALUE);
	char *v = (char *)1;
	assert_int_equal(bw_secret_read_previous(f->s, "in_A", "crm-api-key", &v), BW_NOTFOUND);
	assert_null(v);
	assert_int_equal(bw_secret_read(f->s, "in_A", "no-such", &v), BW_NOTFOUND);
	assert_int_equal(bw_secret_read(f->s, "in_A", "bad name!", &v), BW_NOTFOUND);
	bw_secret_free(NULL);

	/* List by id, and by name. */
	struct bw_secret y = mk(f->s, "in_A", "other", "x"), list[4];
	size_t n = 0;
	assert_int_equal(bw_store_secret_list(f->s, "in_A", NULL, NULL, list, 4, &n), BW_OK);
	assert_int_equal(n, 2);
	assert_true(strcmp(list[0].id, list[1].id) < 0);
	assert_int_equal(bw_store_secret_list(f->s, "in_A", "other", NULL, list, 4, &n), BW_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].id, y.id);
	char after[48];
	snprintf(after, sizeof(after), "%s", strcmp(x.id, y.id) < 0 ? x.id : y.id);
	assert_int_equal(bw_store_secret_list(f->s, "in_A", NULL, after, list, 4, &n), BW_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].id, strcmp(x.id, y.id) < 0 ? y.id : x.id);
}

static void test_names_and_values(void **state)
{
	struct fixture *f = *state;
	struct bw_secret x;
	char big[BW_SECRET_VALUE_MAX + 2];
	memset(big, 'v', sizeof(big));
	big[BW_SECRET_VALUE_MAX + 1] = '\0';
	const char *bad_names[] = {
	    "",  "a b", "a/b",
	    "é", "x\n", "12345678901234567890123456789012345678901234567890123456789012345"};
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++)
		assert_int_equal(bw_secret_create(f->s, "in_A", bad_names[i], "v", 1, &x),
		                 BW_INVALID);
	assert_true(bw_secret_name_ok("A.z_0-9"));
	assert_true(
	    bw_secret_name_ok("1234567890123456789012345678901234567890123456789012345678901234"));
	assert_int_equal(bw_secret_create(f->s, "in_A", "n", "", 0, &x), BW_INVALID);
	assert_int_equal(bw_secret_create(f->s, "in_A", "n", big, BW_SECRET_VALUE_MAX + 1, &x),
	                 BW_INVALID);
	assert_int_equal(bw_secret_create(f->s, "in_A", "n", "a\0b", 3, &x), BW_INVALID);
	/* 8192 bytes is the largest. */
	assert_int_equal(bw_secret_create(f->s, "in_A", "n", big, BW_SECRET_VALUE_MAX, &x), BW_OK);
	char *v = NULL;
	assert_int_equal(bw_secret_read(f->s, "in_A", "n", &v), BW_OK);
	assert_int_equal(strlen(v), BW_SECRET_VALUE_MAX);
	bw_secret_free(v);
	/* A name is taken once per instance; another instance may have it. */
	assert_int_equal(bw_secret_create(f->s, "in_A", "n", "v", 1, &x), BW_CONFLICT);
	assert_int_equal(bw_secret_create(f->s, "in_B", "n", "w", 1, &x), BW_OK);
	expect_read(f->s, "in_B", "n", "w");
	/* Bad rotation input. */
	assert_int_equal(bw_secret_rotate(f->s, "in_A", x.id, "", 0, 0, &x), BW_INVALID);
	assert_int_equal(bw_secret_rotate(f->s, "in_A", x.id, "v", 1, -1, &x), BW_INVALID);
	assert_int_equal(
	    bw_secret_rotate(f->s, "in_A", x.id, "v", 1, BW_SECRET_GRACE_MAX_S + 1, &x),
	    BW_INVALID);
}

static void test_rotate_and_grace(void **state)
{
	struct fixture *f = *state;
	struct bw_secret x = mk(f->s, "in_A", "crm", "v1"), r;
	char *v = NULL;
	long long t0 = fx_now;
	fx_now += 1000;
	assert_int_equal(bw_secret_rotate(f->s, "in_A", x.id, "v2", 2, 3600, &r), BW_OK);
	assert_int_equal(r.version, 2);
	assert_int_equal(r.created_at, t0);
	assert_int_equal(r.rotated_at, t0 + 1000);
	assert_int_equal(r.previous_readable_until, t0 + 1000 + 3600 * 1000);
	expect_read(f->s, "in_A", "crm", "v2");
	assert_int_equal(bw_secret_read_previous(f->s, "in_A", "crm", &v), BW_OK);
	assert_string_equal(v, "v1");
	bw_secret_free(v);
	/* The last millisecond of the grace, then none. */
	fx_now = r.previous_readable_until - 1;
	assert_int_equal(bw_secret_read_previous(f->s, "in_A", "crm", &v), BW_OK);
	bw_secret_free(v);
	fx_now = r.previous_readable_until;
	assert_int_equal(bw_secret_read_previous(f->s, "in_A", "crm", &v), BW_NOTFOUND);
	expect_read(f->s, "in_A", "crm", "v2");

	/* Grace 0: the replaced value is unreadable at once (a leaked one). */
	assert_int_equal(bw_secret_rotate(f->s, "in_A", x.id, "v3", 2, 0, &r), BW_OK);
	assert_int_equal(r.version, 3);
	assert_int_equal(bw_secret_read_previous(f->s, "in_A", "crm", &v), BW_NOTFOUND);
	expect_read(f->s, "in_A", "crm", "v3");

	/* Ended versions are gone from the file, not just unreadable. */
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
	                                    "SELECT group_concat(version) FROM secret_versions "
	                                    "WHERE secret_id=?",
	                                    -1, &st, NULL),
	                 SQLITE_OK);
	sqlite3_bind_text(st, 1, x.id, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "3");
	sqlite3_finalize(st);
	sqlite3_close(db);

	/* Unknown secret, another instance's. */
	assert_int_equal(bw_secret_rotate(f->s, "in_A", "sc_none", "v", 1, 0, &r), BW_NOTFOUND);
	assert_int_equal(bw_secret_rotate(f->s, "in_B", x.id, "v", 1, 0, &r), BW_NOTFOUND);
}

/* Two rotations from one version: the second finds the secret moved on. */
static void test_concurrent_rotation(void **state)
{
	struct fixture *f = *state;
	struct bw_secret x = mk(f->s, "in_A", "crm", "v1"), r;
	uint8_t *sealed = NULL;
	size_t len = 0;
	assert_int_equal(bw_seal("in_A", "secret_versions", "x.2", "value", (const uint8_t *)"z", 1,
	                         &sealed, &len),
	                 BW_OK);
	assert_int_equal(
	    bw_store_secret_rotate(f->s, "in_A", x.id, 1, sealed, len, fx_now, fx_now, &r), BW_OK);
	assert_int_equal(
	    bw_store_secret_rotate(f->s, "in_A", x.id, 1, sealed, len, fx_now, fx_now, &r),
	    BW_CONFLICT);
	assert_int_equal(
	    bw_store_secret_rotate(f->s, "in_A", "sc_none", 1, sealed, len, fx_now, fx_now, &r),
	    BW_NOTFOUND);
	free(sealed);
	/* The domain call reads the version again and goes on. */
	assert_int_equal(bw_secret_rotate(f->s, "in_A", x.id, "v3", 2, 10, &r), BW_OK);
	assert_int_equal(r.version, 3);
	expect_read(f->s, "in_A", "crm", "v3");
}

static void test_tenancy_and_delete(void **state)
{
	struct fixture *f = *state;
	struct bw_secret a = mk(f->s, "in_A", "crm", "value-of-A"), got;
	char *v = NULL;
	assert_int_equal(bw_store_secret_get(f->s, "in_B", a.id, &got), BW_NOTFOUND);
	assert_int_equal(bw_secret_read(f->s, "in_B", "crm", &v), BW_NOTFOUND);
	assert_int_equal(bw_store_secret_delete(f->s, "in_B", a.id), BW_NOTFOUND);
	size_t n = 9;
	assert_int_equal(bw_store_secret_list(f->s, "in_B", NULL, NULL, &got, 1, &n), BW_OK);
	assert_int_equal(n, 0);
	assert_int_equal(bw_secret_rotate(f->s, "in_A", a.id, "v2", 2, 3600, &got), BW_OK);
	assert_int_equal(bw_store_secret_delete(f->s, "in_A", a.id), BW_OK);
	assert_int_equal(bw_store_secret_delete(f->s, "in_A", a.id), BW_NOTFOUND);
	assert_int_equal(bw_secret_read(f->s, "in_A", "crm", &v), BW_NOTFOUND);
	assert_int_equal(bw_secret_read_previous(f->s, "in_A", "crm", &v), BW_NOTFOUND);
	/* The name is free again; a deleted instance takes its secrets along. */
	mk(f->s, "in_A", "crm", "again");
	mk(f->s, "in_B", "b", "of-B");
	assert_int_equal(bw_store_instance_delete(f->s, "in_B"), BW_OK);
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
	                                    "SELECT (SELECT count(*) FROM secrets WHERE "
	                                    "instance_id='in_B'), (SELECT count(*) FROM "
	                                    "secret_versions WHERE instance_id='in_B')",
	                                    -1, &st, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 0);
	assert_int_equal(sqlite3_column_int(st, 1), 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* The value is sealed: absent from the file and the WAL, and a sealed value
 * copied onto another secret's row (or version) does not open there. */
static void test_sealed_at_rest(void **state)
{
	struct fixture *f = *state;
	struct bw_secret a = mk(f->s, "in_A", "crm", VALUE);
	struct bw_secret b = mk(f->s, "in_A", "other", "something-else");
	char wal[160], *v = NULL;
	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	assert_int_equal(fx_file_holds(f->path, VALUE, strlen(VALUE)) == 1 ||
	                     fx_file_holds(wal, VALUE, strlen(VALUE)) == 1,
	                 0);
	assert_true(fx_file_holds(wal, "crm", 3) == 1 || fx_file_holds(f->path, "crm", 3) == 1);

	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	char sql[256];
	snprintf(sql, sizeof(sql),
	         "UPDATE secret_versions SET value=(SELECT value FROM secret_versions "
	         "WHERE secret_id='%s') WHERE secret_id='%s'",
	         a.id, b.id);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(bw_secret_read(f->s, "in_A", "other", &v), BW_ERR);
	assert_null(v);
	expect_read(f->s, "in_A", "crm", VALUE);

	/* Version binding: version 1's value under version 2 does not open. */
	struct bw_secret r;
	assert_int_equal(bw_secret_rotate(f->s, "in_A", a.id, "second", 6, 3600, &r), BW_OK);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	snprintf(sql, sizeof(sql),
	         "UPDATE secret_versions SET value=(SELECT value FROM secret_versions WHERE "
	         "secret_id='%s' AND version=1) WHERE secret_id='%s' AND version=2",
	         a.id, a.id);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(bw_secret_read(f->s, "in_A", "crm", &v), BW_ERR);
	assert_int_equal(bw_secret_read_previous(f->s, "in_A", "crm", &v), BW_OK);
	assert_string_equal(v, VALUE);
	bw_secret_free(v);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_create_and_read, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_names_and_values, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_rotate_and_grace, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent_rotation, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_tenancy_and_delete, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_sealed_at_rest, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
