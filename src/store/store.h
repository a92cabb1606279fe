/* The store interface. Backends are const vtables (sqlite.c; postgres.c later).
 * A handle belongs to one thread. Every call that touches instance data takes
 * the instance id from the authenticated context, never from a request body. */
#ifndef BW_STORE_H
#define BW_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/result.h"

struct bw_store;

enum bw_durability { BW_DURABILITY_NORMAL, BW_DURABILITY_FULL };

struct bw_platform_key {
	char id[48];
	char name[256];
	long long created_at;
	long long last_used_at;
};

BW_MUST_USE bw_result bw_store_open(struct bw_store **out, const char *db_path,
                                    enum bw_durability d);
void bw_store_close(struct bw_store *s);
/* Applies pending migrations; returns the schema version reached. */
BW_MUST_USE bw_result bw_store_migrate(struct bw_store *s, int *version);
BW_MUST_USE bw_result bw_store_ping(struct bw_store *s);

/* Platform keys (hash = BLAKE2b-256 of the key text). */
BW_MUST_USE bw_result bw_store_platform_key_insert(struct bw_store *s,
                                                   const struct bw_platform_key *k,
                                                   const uint8_t hash[32]);
BW_MUST_USE bw_result bw_store_platform_key_find(struct bw_store *s, const uint8_t hash[32],
                                                 struct bw_platform_key *out);
/* Lists active keys with id > after (NULL for the start), at most max. */
BW_MUST_USE bw_result bw_store_platform_key_list(struct bw_store *s, const char *after,
                                                 struct bw_platform_key *out, size_t max,
                                                 size_t *n);
/* BW_NOTFOUND for unknown or revoked, BW_CONFLICT for the last active key. */
BW_MUST_USE bw_result bw_store_platform_key_revoke(struct bw_store *s, const char *id,
                                                   long long now);

#endif
