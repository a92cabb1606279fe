/* The keyring's cache (keyring.h): per instance, its KEKs and the data keys
 * met so far, unwrapped in guarded memory (sodium_malloc: guard pages,
 * mlock, wiped on free), behind one mutex that also guards the keyring's
 * own store connection. A hit copies 32 bytes under the lock; a miss reads
 * and unwraps one row. Only this process writes the key tables, so the
 * cache is the truth once loaded. */
#include "sec/keyring_int.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/ids.h"
#include "core/log.h"

#define BUCKETS 256
#define SLAB_KEYS 128
#define MAX_KEKS 8
#define DK_MAX_AGE_MS (24LL * 3600 * 1000)
#define KEK_PURPOSE "bulwark kek wrap v1"

struct kek {
	char id[48];
	char origin[12];
	bool active;
	long long created_at;
	uint8_t *key; /* sodium_malloc'd */
};

struct dkent {
	uint32_t id;
	const uint8_t *key; /* in a slab */
};

/* Data keys live in guarded slabs of SLAB_KEYS keys (one mapping each,
 * not one per key), freed and wiped with their instance. */
struct slab {
	struct slab *next;
	uint8_t *mem;
	size_t used;
};

struct inst {
	struct inst *next;
	char id[48];
	bool destroyed; /* a tombstone: nothing opens, nothing is made */
	struct kek keks[MAX_KEKS];
	size_t nkeks;
	struct dkent *dks; /* sorted by id */
	size_t ndks, cap;
	struct slab *slabs;
	bool has_seal, seal_checked;
	uint32_t seal_id;
	const uint8_t *seal_key;
	long long seal_created;
	unsigned long long seal_count;
};

extern int bw_keyring__reseal_legacy(const uint8_t *root);

static struct {
	pthread_mutex_t mu;
	bool running;
	char *db_path;
	int durability;
	const uint8_t *root;
	struct bw_store *s;
	struct bw_keyring_opts o;
	struct inst *b[BUCKETS];
} kr = {.mu = PTHREAD_MUTEX_INITIALIZER};

const struct bw_keyring_opts *bw_keyring__opts(void)
{
	return &kr.o;
}

bw_result bw_keyring__open_store(struct bw_store **out)
{
	bw_result r = bw_store_open(out, kr.db_path,
	                            kr.durability ? BW_DURABILITY_FULL : BW_DURABILITY_NORMAL);
	if (r == BW_OK && (r = bw_store_keys_harden(*out)) != BW_OK) {
		bw_store_close(*out);
		*out = NULL;
	}
	return r;
}

/* ---- wrapping ---- */

/* "a\0b\0c": associated data from NUL-free parts. */
static size_t ad_join(uint8_t *buf, size_t cap, const char *const *parts, size_t n)
{
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		size_t k = strlen(parts[i]);
		if (len + k + 1 > cap)
			return 0;
		memcpy(buf + len, parts[i], k);
		len += k;
		if (i + 1 < n)
			buf[len++] = '\0';
	}
	return len;
}

static void root_subkey(const char *purpose, uint8_t out[BW_KEY_LEN])
{
	crypto_auth_hmacsha256(out, (const uint8_t *)purpose, strlen(purpose), kr.root);
}

static bw_result aead_seal(const uint8_t key[BW_KEY_LEN], const uint8_t *ad, size_t adlen,
                           const uint8_t *pt, size_t n, uint8_t *out, size_t cap, size_t *outlen)
{
	if (cap < BW_KR_NONCE + n + BW_KR_TAG)
		return BW_TOOBIG;
	unsigned long long cl = 0;
	randombytes_buf(out, BW_KR_NONCE);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + BW_KR_NONCE, &cl, pt, n, ad, adlen, NULL,
	                                           out, key);
	*outlen = BW_KR_NONCE + (size_t)cl;
	return BW_OK;
}

static bw_result aead_open(const uint8_t key[BW_KEY_LEN], const uint8_t *ad, size_t adlen,
                           const uint8_t *ct, size_t n, uint8_t *pt)
{
	if (n < BW_KR_NONCE + BW_KR_TAG)
		return BW_DENIED;
	unsigned long long pl = 0;
	return crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &pl, NULL, ct + BW_KR_NONCE,
	                                                  n - BW_KR_NONCE, ad, adlen, ct, key) == 0
	           ? BW_OK
	           : BW_DENIED;
}

bw_result bw_keyring__root_seal(const char *purpose, const uint8_t *ad, size_t adlen,
                                const uint8_t *pt, size_t n, uint8_t *out, size_t cap,
                                size_t *outlen)
{
	uint8_t k[BW_KEY_LEN];
	if (!kr.root)
		return BW_ERR;
	root_subkey(purpose, k);
	bw_result r = aead_seal(k, ad, adlen, pt, n, out, cap, outlen);
	sodium_memzero(k, sizeof(k));
	return r;
}

bw_result bw_keyring__root_open(const char *purpose, const uint8_t *ad, size_t adlen,
                                const uint8_t *ct, size_t n, uint8_t *pt)
{
	uint8_t k[BW_KEY_LEN];
	if (!kr.root)
		return BW_ERR;
	root_subkey(purpose, k);
	bw_result r = aead_open(k, ad, adlen, ct, n, pt);
	sodium_memzero(k, sizeof(k));
	return r;
}

static size_t kek_ad(uint8_t *buf, size_t cap, const char *iid, const char *kek_id)
{
	const char *parts[] = {"bulwark.kek.v1", iid, kek_id};
	return ad_join(buf, cap, parts, 3);
}

static size_t dk_ad(uint8_t *buf, size_t cap, const char *iid, uint32_t id, const char *kek_id)
{
	char num[16];
	snprintf(num, sizeof(num), "%u", id);
	const char *parts[] = {"bulwark.dk.v1", iid, num, kek_id};
	return ad_join(buf, cap, parts, 4);
}

bw_result bw_keyring__dk_wrap(const char *iid, uint32_t id, const char *kek_id,
                              const uint8_t kek[BW_KEY_LEN], const uint8_t dk[BW_KEY_LEN],
                              uint8_t out[BW_WRAPPED_MAX], size_t *outlen)
{
	uint8_t ad[256];
	size_t al = dk_ad(ad, sizeof(ad), iid, id, kek_id);
	if (!al)
		return BW_INVALID;
	return aead_seal(kek, ad, al, dk, BW_KEY_LEN, out, BW_WRAPPED_MAX, outlen);
}

bw_result bw_keyring__dk_unwrap(const struct bw_dk_row *row, const uint8_t kek[BW_KEY_LEN],
                                uint8_t dk[BW_KEY_LEN])
{
	uint8_t ad[256];
	size_t al = dk_ad(ad, sizeof(ad), row->instance_id, row->id, row->kek_id);
	if (!al || row->wrapped_len != BW_KR_NONCE + BW_KEY_LEN + BW_KR_TAG)
		return BW_DENIED;
	return aead_open(kek, ad, al, row->wrapped, row->wrapped_len, dk);
}

/* ---- the cache (kr.mu held) ---- */

static unsigned bucket_of(const char *iid)
{
	uint32_t h = 2166136261u;
	for (const char *p = iid; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return h % BUCKETS;
}

static struct inst *find(const char *iid)
{
	for (struct inst *in = kr.b[bucket_of(iid)]; in; in = in->next)
		if (!strcmp(in->id, iid))
			return in;
	return NULL;
}

static void keks_free(struct inst *in)
{
	for (size_t i = 0; i < in->nkeks; i++)
		sodium_free(in->keks[i].key);
	memset(in->keks, 0, sizeof(in->keks));
	in->nkeks = 0;
}

static void inst_free(struct inst *in)
{
	keks_free(in);
	for (struct slab *sl = in->slabs, *next; sl; sl = next) {
		next = sl->next;
		sodium_free(sl->mem); /* wipes */
		free(sl);
	}
	free(in->dks);
	free(in);
}

static void unlink_inst(struct inst *in)
{
	struct inst **pp = &kr.b[bucket_of(in->id)];
	while (*pp && *pp != in)
		pp = &(*pp)->next;
	if (*pp)
		*pp = in->next;
}

static struct kek *kek_find(struct inst *in, const char *id)
{
	for (size_t i = 0; i < in->nkeks; i++)
		if (id ? !strcmp(in->keks[i].id, id) : in->keks[i].active)
			return &in->keks[i];
	return NULL;
}

static bw_result kek_unwrap(const struct bw_kek_row *row, uint8_t key[BW_KEY_LEN])
{
	uint8_t ad[256];
	size_t al = kek_ad(ad, sizeof(ad), row->instance_id, row->id);
	if (!al || row->wrapped_len != BW_KR_NONCE + BW_KEY_LEN + BW_KR_TAG)
		return BW_DENIED;
	return bw_keyring__root_open(KEK_PURPOSE, ad, al, row->wrapped, row->wrapped_len, key);
}

/* (Re)reads the instance's KEKs from s into the cache. */
static bw_result keks_load(struct bw_store *s, struct inst *in)
{
	struct bw_kek_row rows[MAX_KEKS];
	size_t n = 0;
	bw_result r = bw_store_kek_list(s, in->id, rows, MAX_KEKS, &n);
	if (r != BW_OK)
		return r;
	keks_free(in);
	for (size_t i = 0; i < n && r == BW_OK; i++) {
		struct kek *k = &in->keks[in->nkeks];
		k->key = sodium_malloc(BW_KEY_LEN);
		if (!k->key) {
			r = BW_NOMEM;
			break;
		}
		r = kek_unwrap(&rows[i], k->key);
		if (r != BW_OK) {
			bw_log(BW_LOG_ERROR, "a key-encryption key does not open", "instance_id",
			       in->id, "kek_id", rows[i].id);
			sodium_free(k->key);
			k->key = NULL;
			break;
		}
		snprintf(k->id, sizeof(k->id), "%s", rows[i].id);
		snprintf(k->origin, sizeof(k->origin), "%s", rows[i].origin);
		k->active = !strcmp(rows[i].state, "ACTIVE");
		k->created_at = rows[i].created_at;
		in->nkeks++;
	}
	sodium_memzero(rows, sizeof(rows));
	if (r != BW_OK)
		keks_free(in);
	return r;
}

/* A new KEK in the cache and its row (not stored). */
static bw_result kek_new(struct inst *in, const uint8_t *bytes, const char *origin,
                         struct bw_kek_row *row)
{
	uint8_t ad[256];
	if (in->nkeks >= MAX_KEKS)
		return BW_CONFLICT;
	struct kek *k = &in->keks[in->nkeks];
	memset(row, 0, sizeof(*row));
	k->key = sodium_malloc(BW_KEY_LEN);
	if (!k->key)
		return BW_NOMEM;
	if (bytes)
		memcpy(k->key, bytes, BW_KEY_LEN);
	else
		randombytes_buf(k->key, BW_KEY_LEN);
	bw_id_new(k->id, "kek_");
	snprintf(k->origin, sizeof(k->origin), "%s", origin);
	k->created_at = bw_now_ms();
	snprintf(row->instance_id, sizeof(row->instance_id), "%s", in->id);
	snprintf(row->id, sizeof(row->id), "%s", k->id);
	snprintf(row->origin, sizeof(row->origin), "%s", origin);
	snprintf(row->state, sizeof(row->state), "ACTIVE");
	row->created_at = k->created_at;
	size_t al = kek_ad(ad, sizeof(ad), in->id, k->id);
	bw_result r =
	    al ? bw_keyring__root_seal(KEK_PURPOSE, ad, al, k->key, BW_KEY_LEN, row->wrapped,
	                               sizeof(row->wrapped), &row->wrapped_len)
	       : BW_INVALID;
	if (r != BW_OK) {
		sodium_free(k->key);
		memset(k, 0, sizeof(*k));
	}
	return r; /* the caller counts it in (nkeks++) once stored */
}

/* The instance's cache entry, loaded on first use; with create, its first
 * KEK is made when it has none. BW_NOTFOUND: no KEK (or destroyed). */
static bw_result inst_get(const char *iid, bool create, struct inst **out)
{
	struct inst *in = find(iid);
	bw_result r;
	if (in) {
		if (in->destroyed)
			return BW_NOTFOUND;
		if (in->nkeks || !create) {
			*out = in;
			return in->nkeks ? BW_OK : BW_NOTFOUND;
		}
	} else {
		if (strlen(iid) >= sizeof(in->id))
			return BW_INVALID;
		in = calloc(1, sizeof(*in));
		if (!in)
			return BW_NOMEM;
		snprintf(in->id, sizeof(in->id), "%s", iid);
		r = bw_store_keys_destroyed(kr.s, iid);
		if (r == BW_OK)
			in->destroyed = true;
		else if (r != BW_NOTFOUND || (r = keks_load(kr.s, in)) != BW_OK) {
			inst_free(in);
			return r;
		}
		unsigned b = bucket_of(iid);
		in->next = kr.b[b];
		kr.b[b] = in;
		if (in->destroyed)
			return BW_NOTFOUND;
	}
	if (!in->nkeks && create) {
		struct bw_kek_row row;
		r = kek_new(in, NULL, "GENERATED", &row);
		if (r == BW_OK) {
			r = bw_store_kek_insert(kr.s, &row);
			if (r == BW_OK) {
				in->keks[0].active = true;
				in->nkeks = 1;
			} else {
				sodium_free(in->keks[0].key);
				memset(&in->keks[0], 0, sizeof(in->keks[0]));
				in->destroyed = r == BW_DENIED;
			}
		}
		sodium_memzero(&row, sizeof(row));
		if (r != BW_OK)
			return r == BW_DENIED ? BW_NOTFOUND : r;
	}
	*out = in;
	return in->nkeks ? BW_OK : BW_NOTFOUND;
}

static uint8_t *slab_take(struct inst *in)
{
	struct slab *sl = in->slabs;
	if (!sl || sl->used == SLAB_KEYS) {
		sl = calloc(1, sizeof(*sl));
		if (!sl || !(sl->mem = sodium_malloc(SLAB_KEYS * BW_KEY_LEN))) {
			free(sl);
			return NULL;
		}
		sl->next = in->slabs;
		in->slabs = sl;
	}
	return sl->mem + BW_KEY_LEN * sl->used++;
}

/* Gives back the slot slab_take just gave (a key that did not come to be). */
static void slab_untake(struct inst *in, uint8_t *slot)
{
	sodium_memzero(slot, BW_KEY_LEN);
	in->slabs->used--;
}

static const uint8_t *dk_find(const struct inst *in, uint32_t id)
{
	size_t lo = 0, hi = in->ndks;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (in->dks[mid].id == id)
			return in->dks[mid].key;
		if (in->dks[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static bw_result dk_add(struct inst *in, uint32_t id, const uint8_t *key)
{
	if (in->ndks == in->cap) {
		size_t cap = in->cap ? in->cap * 2 : 8;
		struct dkent *d = realloc(in->dks, cap * sizeof(*d));
		if (!d)
			return BW_NOMEM;
		in->dks = d;
		in->cap = cap;
	}
	size_t i = in->ndks;
	while (i > 0 && in->dks[i - 1].id > id) {
		in->dks[i] = in->dks[i - 1];
		i--;
	}
	in->dks[i].id = id;
	in->dks[i].key = key;
	in->ndks++;
	return BW_OK;
}

/* Unwraps a data key row into the cache. */
static bw_result dk_take_row(struct inst *in, const struct bw_dk_row *row, const uint8_t **out)
{
	struct kek *k = kek_find(in, row->kek_id);
	if (!k) {
		bw_result r = keks_load(kr.s, in); /* not expected: this process writes them */
		if (r != BW_OK)
			return r;
		if (!(k = kek_find(in, row->kek_id)))
			return BW_NOTFOUND;
	}
	uint8_t *slot = slab_take(in);
	if (!slot)
		return BW_NOMEM;
	bw_result r = bw_keyring__dk_unwrap(row, k->key, slot);
	if (r == BW_OK && (r = dk_add(in, row->id, slot)) == BW_OK) {
		*out = slot;
		return BW_OK;
	}
	slab_untake(in, slot);
	if (r == BW_DENIED)
		bw_log(BW_LOG_ERROR, "a data key does not open", "instance_id", in->id);
	return r;
}

static bw_result dk_load(struct inst *in, uint32_t id, const uint8_t **out)
{
	struct bw_dk_row row;
	bw_result r = bw_store_dk_get(kr.s, in->id, id, &row);
	if (r == BW_OK)
		r = dk_take_row(in, &row, out);
	sodium_memzero(&row, sizeof(row));
	return r;
}

/* The newest data key, when it is under the active KEK and young enough,
 * seals on after a restart; otherwise a new one. */
static bw_result seal_pick(struct inst *in)
{
	struct kek *active = kek_find(in, NULL);
	long long now = bw_now_ms();
	if (!active)
		return BW_NOTFOUND;
	if (!in->seal_checked) {
		struct bw_dk_row row;
		in->seal_checked = true;
		bw_result r = bw_store_dk_newest(kr.s, in->id, &row);
		if (r == BW_OK && !strcmp(row.kek_id, active->id) &&
		    now - row.created_at < DK_MAX_AGE_MS) {
			const uint8_t *key = dk_find(in, row.id);
			if (key || dk_take_row(in, &row, &key) == BW_OK) {
				in->has_seal = true;
				in->seal_id = row.id;
				in->seal_key = key;
				in->seal_created = row.created_at;
				in->seal_count = 0;
			}
		}
		sodium_memzero(&row, sizeof(row));
		if (in->has_seal)
			return BW_OK;
	}
	uint8_t *slot = slab_take(in);
	if (!slot)
		return BW_NOMEM;
	randombytes_buf(slot, BW_KEY_LEN);
	struct bw_dk_row row = {.created_at = now};
	snprintf(row.instance_id, sizeof(row.instance_id), "%s", in->id);
	snprintf(row.kek_id, sizeof(row.kek_id), "%s", active->id);
	/* The next id of the instance (this process alone writes data keys). */
	struct bw_dk_row newest;
	bw_result r = bw_store_dk_newest(kr.s, in->id, &newest);
	row.id = r == BW_OK ? newest.id + 1 : 1;
	sodium_memzero(&newest, sizeof(newest));
	if (r == BW_NOTFOUND)
		r = BW_OK;
	if (r == BW_OK && row.id == 0)
		r = BW_TOOBIG; /* 2^32 data keys */
	if (r == BW_OK)
		r = bw_keyring__dk_wrap(in->id, row.id, active->id, active->key, slot, row.wrapped,
		                        &row.wrapped_len);
	if (r == BW_OK)
		r = bw_store_dk_insert(kr.s, &row);
	if (r == BW_OK)
		r = dk_add(in, row.id, slot);
	if (r != BW_OK) {
		slab_untake(in, slot);
		bw_log(BW_LOG_ERROR, "cannot make a data key", "instance_id", in->id);
		return r;
	}
	in->has_seal = true;
	in->seal_id = row.id;
	in->seal_key = slot;
	in->seal_created = now;
	in->seal_count = 0;
	return BW_OK;
}

bw_result bw_keyring__seal_key(const char *iid, uint32_t *dk_id, uint8_t key[BW_KEY_LEN])
{
	struct inst *in;
	pthread_mutex_lock(&kr.mu);
	bw_result r = kr.running ? inst_get(iid, true, &in) : BW_ERR;
	if (r == BW_OK && (!in->has_seal || in->seal_count >= kr.o.dk_max_seals ||
	                   bw_now_ms() - in->seal_created >= DK_MAX_AGE_MS)) {
		in->has_seal = false;
		r = seal_pick(in);
	}
	if (r == BW_OK) {
		memcpy(key, in->seal_key, BW_KEY_LEN);
		*dk_id = in->seal_id;
		in->seal_count++;
	}
	pthread_mutex_unlock(&kr.mu);
	return r;
}

bw_result bw_keyring__open_key(const char *iid, uint32_t dk_id, uint8_t key[BW_KEY_LEN])
{
	struct inst *in;
	const uint8_t *k = NULL;
	pthread_mutex_lock(&kr.mu);
	bw_result r = kr.running ? inst_get(iid, false, &in) : BW_ERR;
	if (r == BW_OK && !(k = dk_find(in, dk_id)))
		r = dk_load(in, dk_id, &k);
	if (r == BW_OK)
		memcpy(key, k, BW_KEY_LEN);
	pthread_mutex_unlock(&kr.mu);
	return r;
}

bw_result bw_keyring__kek_copy(const char *iid, const char *kek_id, char id_out[48],
                               uint8_t key[BW_KEY_LEN])
{
	struct inst *in;
	pthread_mutex_lock(&kr.mu);
	bw_result r = kr.running ? inst_get(iid, false, &in) : BW_ERR;
	struct kek *k = r == BW_OK ? kek_find(in, kek_id) : NULL;
	if (r == BW_OK && !k && kek_id && keks_load(kr.s, in) == BW_OK)
		k = kek_find(in, kek_id);
	if (r == BW_OK && !k)
		r = BW_NOTFOUND;
	if (r == BW_OK) {
		memcpy(key, k->key, BW_KEY_LEN);
		if (id_out)
			snprintf(id_out, 48, "%s", k->id);
	}
	pthread_mutex_unlock(&kr.mu);
	return r;
}

bw_result bw_keyring__finish(struct bw_store *s, const char *iid, const char *rid,
                             struct bw_key_rotation *out)
{
	pthread_mutex_lock(&kr.mu);
	bw_result r = bw_store_rotation_finish(s, iid, rid, bw_now_ms(), out);
	struct inst *in = find(iid);
	if (r == BW_OK && in && !in->destroyed && keks_load(s, in) != BW_OK)
		bw_log(BW_LOG_ERROR, "cannot reload key-encryption keys", "instance_id", iid);
	pthread_mutex_unlock(&kr.mu);
	return r;
}

bw_result bw_keyring__rotate(const char *iid, const uint8_t *bytes, const char *origin,
                             struct bw_key_rotation *out)
{
	struct inst *in;
	struct bw_kek_row row;
	memset(&row, 0, sizeof(row));
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&kr.mu);
	bw_result r = kr.running ? inst_get(iid, true, &in) : BW_ERR;
	if (r == BW_OK)
		r = kek_new(in, bytes, origin, &row);
	if (r == BW_OK) {
		bw_id_new(out->id, "kr_");
		out->started_at = row.created_at;
		r = bw_store_rotation_start(kr.s, &row, out);
		struct kek *fresh = &in->keks[in->nkeks];
		if (r == BW_OK) {
			for (size_t i = 0; i < in->nkeks; i++)
				in->keks[i].active = false;
			fresh->active = true;
			in->nkeks++;
			in->has_seal = false; /* new values take a new data key under the new KEK */
			in->seal_checked = true;
		} else {
			sodium_free(fresh->key);
			memset(fresh, 0, sizeof(*fresh));
		}
	}
	pthread_mutex_unlock(&kr.mu);
	sodium_memzero(&row, sizeof(row));
	if (r == BW_OK)
		bw_keyring__bg_push(out);
	return r;
}

bw_result bw_keyring_rotate(const char *iid, const uint8_t *imported_kek,
                            struct bw_key_rotation *out)
{
	return bw_keyring__rotate(iid, imported_kek, imported_kek ? "IMPORTED" : "GENERATED", out);
}

bw_result bw_keyring_info(const char *iid, struct bw_keyring_info *out)
{
	struct inst *in;
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&kr.mu);
	bw_result r = kr.running ? inst_get(iid, true, &in) : BW_ERR;
	if (r == BW_OK) {
		for (size_t i = 0; i < in->nkeks; i++) {
			const struct kek *k = &in->keks[i];
			if (k->active) {
				snprintf(out->kek_id, sizeof(out->kek_id), "%s", k->id);
				snprintf(out->origin, sizeof(out->origin), "%s", k->origin);
				out->created_at = k->created_at;
			} else if (out->nretiring < BW_KEYRING_MAX_RETIRING) {
				snprintf(out->retiring[out->nretiring++], 48, "%s", k->id);
			}
		}
		r = bw_store_dk_count(kr.s, iid, &out->data_keys);
	}
	if (r == BW_OK) {
		r = bw_store_rotation_last(kr.s, iid, &out->rotation);
		out->has_rotation = r == BW_OK;
		if (r == BW_NOTFOUND)
			r = BW_OK;
	}
	pthread_mutex_unlock(&kr.mu);
	return r;
}

bw_result bw_keyring_destroy(const char *iid)
{
	pthread_mutex_lock(&kr.mu);
	bw_result r = kr.running ? bw_store_keys_destroy(kr.s, iid, bw_now_ms()) : BW_ERR;
	if (r == BW_OK) {
		struct inst *in = find(iid);
		if (in) {
			unlink_inst(in);
			inst_free(in); /* every cached key of it wiped */
		}
		in = calloc(1, sizeof(*in));
		if (in) {
			snprintf(in->id, sizeof(in->id), "%s", iid);
			in->destroyed = true;
			unsigned b = bucket_of(iid);
			in->next = kr.b[b];
			kr.b[b] = in;
		}
	}
	pthread_mutex_unlock(&kr.mu);
	if (r != BW_OK)
		return r;
	/* The deleted rows were overwritten in their pages (secure_delete); the
	 * WAL may still hold older images of them until it is checkpointed and
	 * truncated. Readers can hold that back for a moment: a few tries
	 * here, then the background thread keeps trying. */
	struct bw_store *s = NULL;
	bw_result pr = bw_keyring__open_store(&s);
	for (int i = 0; pr == BW_OK && i < 10; i++) {
		pr = bw_store_wal_purge(s);
		if (pr != BW_AGAIN)
			break;
		nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
	}
	bw_store_close(s);
	if (pr != BW_OK) {
		bw_log(BW_LOG_WARN, "the WAL is truncated later after a key was destroyed",
		       "instance_id", iid);
		bw_keyring__bg_purge();
	}
	return BW_OK;
}

bw_result bw_keyring_wait_idle(long timeout_ms)
{
	return bw_keyring__bg_idle(timeout_ms);
}

/* ---- start and stop ---- */

static void cache_clear(void)
{
	for (size_t i = 0; i < BUCKETS; i++) {
		struct inst *in = kr.b[i];
		while (in) {
			struct inst *next = in->next;
			inst_free(in);
			in = next;
		}
		kr.b[i] = NULL;
	}
}

bw_result bw_keyring_start(const char *db_path, int durability, const uint8_t *root_key,
                           const struct bw_keyring_opts *o)
{
	pthread_mutex_lock(&kr.mu);
	bw_result r = kr.running ? BW_CONFLICT : BW_OK;
	if (r == BW_OK && !(kr.db_path = strdup(db_path)))
		r = BW_NOMEM;
	if (r == BW_OK) {
		kr.durability = durability;
		kr.root = root_key;
		kr.o.dk_max_seals = o && o->dk_max_seals ? o->dk_max_seals : 1000000;
		kr.o.rotation_batch = o && o->rotation_batch ? o->rotation_batch : 100;
		kr.o.rotation_pause_ms = o ? o->rotation_pause_ms : 0;
		r = bw_keyring__open_store(&kr.s);
	}
	kr.running = r == BW_OK;
	pthread_mutex_unlock(&kr.mu);
	if (r == BW_OK && bw_keyring__reseal_legacy(root_key) != 0)
		r = BW_ERR;
	if (r == BW_OK)
		r = bw_keyring__bg_start();
	if (r != BW_OK) {
		bw_log(BW_LOG_ERROR, "the keyring cannot start", "result", bw_result_code(r));
		if (r != BW_CONFLICT)
			bw_keyring_stop();
	}
	return r;
}

void bw_keyring_stop(void)
{
	bw_keyring__bg_stop();
	pthread_mutex_lock(&kr.mu);
	cache_clear();
	bw_store_close(kr.s);
	kr.s = NULL;
	free(kr.db_path);
	kr.db_path = NULL;
	kr.root = NULL;
	kr.running = false;
	pthread_mutex_unlock(&kr.mu);
}
