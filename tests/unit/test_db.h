/* A store for unit tests: a migrated SQLite file in a temporary folder,
 * instances made the way the API makes them, and removal of the files. */
#ifndef BW_TEST_DB_H
#define BW_TEST_DB_H

#include "test_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "store/store.h"

struct fixture {
	char dir[64];
	char path[128];
	struct bw_store *s;
	bool keyring; /* test_integ.h: the keyring was started */
};

/* Opens and migrates a new store under /tmp/bw_test_<name>_XXXXXX; -1 when
 * that fails or the schema is below min_version. */
static inline int test_db_open(struct fixture *f, const char *name, int min_version)
{
	int v = 0;
	snprintf(f->dir, sizeof(f->dir), "/tmp/bw_test_%s_XXXXXX", name);
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/bulwark.db", f->dir);
	if (bw_store_open(&f->s, f->path, BW_DURABILITY_NORMAL) != BW_OK ||
	    bw_store_migrate(f->s, &v) != BW_OK || v < min_version)
		return -1;
	return 0;
}

/* An instance with an Admin profile and its first user "admin". */
static inline void test_db_instance(struct bw_store *s, const char *iid, const char *first_name)
{
	struct bw_instance in = {.created_at = 1, .updated_at = 1};
	struct bw_profile p = {.permissions = "[]", .created_at = 1, .updated_at = 1};
	struct bw_user u = {.created_at = 1, .updated_at = 1};
	snprintf(in.id, sizeof(in.id), "%s", iid);
	snprintf(in.alias, sizeof(in.alias), "alias-%s", iid);
	snprintf(in.default_region, sizeof(in.default_region), "US");
	snprintf(p.id, sizeof(p.id), "sp_%s", iid);
	snprintf(p.instance_id, sizeof(p.instance_id), "%s", iid);
	snprintf(p.name, sizeof(p.name), "Admin");
	snprintf(u.id, sizeof(u.id), "us_%s", iid);
	snprintf(u.instance_id, sizeof(u.instance_id), "%s", iid);
	snprintf(u.username, sizeof(u.username), "admin");
	if (first_name)
		snprintf(u.first_name, sizeof(u.first_name), "%s", first_name);
	assert_int_equal(bw_store_instance_create(s, &in, &p, 1, &u, p.id), BW_OK);
}

/* Closes the store and removes its files and folder. */
static inline void test_db_close(struct fixture *f)
{
	char p[160];
	bw_store_close(f->s);
	const char *suffix[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", f->path, suffix[i]);
		unlink(p);
	}
	rmdir(f->dir);
}

#endif
