/* Backend selection and the thin dispatch over the vtable. */
#include "store/store_int.h"

bw_result bw_store_open(struct bw_store **out, const char *db_path, enum bw_durability d)
{
	return bw_store__sqlite_ops.open(out, db_path, d);
}

void bw_store_close(struct bw_store *s)
{
	if (s)
		s->ops->close(s);
}

bw_result bw_store_migrate(struct bw_store *s, int *version)
{
	return s->ops->migrate(s, version);
}

bw_result bw_store_ping(struct bw_store *s)
{
	return s->ops->ping(s);
}

bw_result bw_store_platform_key_insert(struct bw_store *s, const struct bw_platform_key *k,
                                       const uint8_t hash[32])
{
	return s->ops->pk_insert(s, k, hash);
}

bw_result bw_store_platform_key_find(struct bw_store *s, const uint8_t hash[32],
                                     struct bw_platform_key *out)
{
	return s->ops->pk_find(s, hash, out);
}

bw_result bw_store_platform_key_list(struct bw_store *s, const char *after,
                                     struct bw_platform_key *out, size_t max, size_t *n)
{
	return s->ops->pk_list(s, after, out, max, n);
}

bw_result bw_store_platform_key_revoke(struct bw_store *s, const char *id, long long now)
{
	return s->ops->pk_revoke(s, id, now);
}
