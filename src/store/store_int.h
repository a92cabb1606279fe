/* Internals shared by store.c and the backends. */
#ifndef BW_STORE_INT_H
#define BW_STORE_INT_H

#include "store/store.h"

struct bw_migration {
	int version;
	const char *name;
	const char *sql;
};

extern const struct bw_migration bw_sqlite_migrations[];

struct bw_store_ops {
	const char *name;
	bw_result (*open)(struct bw_store **out, const char *path, enum bw_durability d);
	void (*close)(struct bw_store *s);
	bw_result (*migrate)(struct bw_store *s, int *version);
	bw_result (*ping)(struct bw_store *s);
	bw_result (*pk_insert)(struct bw_store *s, const struct bw_platform_key *k,
	                       const uint8_t hash[32]);
	bw_result (*pk_find)(struct bw_store *s, const uint8_t hash[32], struct bw_platform_key *out);
	bw_result (*pk_list)(struct bw_store *s, const char *after, struct bw_platform_key *out,
	                     size_t max, size_t *n);
	bw_result (*pk_revoke)(struct bw_store *s, const char *id, long long now);
};

/* Every handle starts with its ops pointer. */
struct bw_store {
	const struct bw_store_ops *ops;
};

extern const struct bw_store_ops bw_store__sqlite_ops;

#endif
