/* The keyring and sealed values (C14) on a temporary database: the value
 * format and its associated data (moved, flipped, re-labelled values do
 * not open), data-key roll-over, a restart, rotation (every data key
 * re-wrapped, the old KEK deleted, values still open), a rotation cut by a
 * stop and resumed, crypto-shredding (keys gone from cache and file, no
 * key made again), a KEK row moved to another instance, BYOK (RSA-OAEP-
 * SHA256 with OpenSSL), users' names sealed by the store, and the one-time
 * re-seal of values sealed under the root key alone. */
#include "test_common.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sec/keyring.h"
#include "sec/seal.h"
#include "store/store.h"

static uint8_t root[32];

struct fixture {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct bw_store *s = NULL;
	int v = 0;
	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/bw_test_keyring_XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/bulwark.db", f->dir);
	if (bw_store_open(&s, f->path, BW_DURABILITY_NORMAL) != BW_OK ||
	    bw_store_migrate(s, &v) != BW_OK)
		return -1;
	bw_store_close(s);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char p[160];
	bw_keyring_stop();
	const char *suffix[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", f->path, suffix[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

static void start(struct fixture *f, unsigned long long max_seals, unsigned batch,
                  unsigned pause_ms)
{
	struct bw_keyring_opts o = {max_seals, batch, pause_ms};
	assert_int_equal(bw_keyring_start(f->path, 0, root, &o), BW_OK);
}

static long long count(struct fixture *f, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long n = -1;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static void exec(struct fixture *f, const char *sql)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void seal(const char *iid, const char *row, const char *text, uint8_t **ct, size_t *n)
{
	assert_int_equal(bw_seal(iid, "contact_messages", row, "content", (const uint8_t *)text,
	                         strlen(text), ct, n),
	                 BW_OK);
}

static bw_result opens(const char *iid, const char *row, const uint8_t *ct, size_t n,
                       const char *want)
{
	uint8_t *pt = NULL;
	size_t pl = 0;
	bw_result r = bw_unseal(iid, "contact_messages", row, "content", ct, n, &pt, &pl);
	if (r == BW_OK) {
		assert_int_equal(pl, strlen(want));
		assert_memory_equal(pt, want, pl);
		assert_int_equal(pt[pl], 0);
	}
	bw_unseal_free(pt);
	return r;
}

static void test_format(void **state)
{
	struct fixture *f = *state;
	uint8_t *ct = NULL;
	size_t n = 0;
	start(f, 0, 0, 0);
	seal("in_A", "ms_1", "hello", &ct, &n);
	assert_int_equal(n, BW_SEAL_OVERHEAD + 5);
	assert_int_equal(ct[0], BW_SEAL_VERSION);
	assert_int_equal(ct[1] | ct[2] | ct[3], 0);
	assert_int_equal(ct[4], 1); /* the instance's first data key */
	assert_int_equal(opens("in_A", "ms_1", ct, n, "hello"), BW_OK);
	/* Another row, column, table or instance: it does not open. */
	assert_int_equal(opens("in_A", "ms_2", ct, n, "hello"), BW_DENIED);
	uint8_t *pt = NULL;
	size_t pl = 0;
	assert_int_equal(bw_unseal("in_A", "contact_messages", "ms_1", "other", ct, n, &pt, &pl),
	                 BW_DENIED);
	assert_int_equal(bw_unseal("in_A", "contacts", "ms_1", "content", ct, n, &pt, &pl),
	                 BW_DENIED);
	assert_int_not_equal(opens("in_B", "ms_1", ct, n, "hello"), BW_OK);
	/* Every byte flipped, every cut: never opens, never crashes. */
	for (size_t i = 0; i < n; i++) {
		ct[i] ^= 0x20;
		assert_int_not_equal(opens("in_A", "ms_1", ct, n, "hello"), BW_OK);
		ct[i] ^= 0x20;
	}
	for (size_t k = 0; k < n; k++)
		assert_int_not_equal(opens("in_A", "ms_1", ct, k, "hello"), BW_OK);
	assert_int_equal(opens("in_A", "ms_1", ct, n, "hello"), BW_OK);
	/* Another data key id in the header: unknown, or the AD differs. */
	ct[4] = 2;
	assert_int_equal(opens("in_A", "ms_1", ct, n, "hello"), BW_NOTFOUND);
	free(ct);
	/* Without a running keyring nothing seals or opens. */
	bw_keyring_stop();
	assert_int_not_equal(bw_seal("in_A", "t", "r", "c", (const uint8_t *)"x", 1, &ct, &n),
	                     BW_OK);
}

static void test_rollover_and_restart(void **state)
{
	struct fixture *f = *state;
	uint8_t *ct[7];
	size_t n[7];
	char row[16], text[16];
	start(f, 3, 0, 0);
	for (int i = 0; i < 7; i++) {
		snprintf(row, sizeof(row), "ms_%d", i);
		snprintf(text, sizeof(text), "text %d", i);
		seal("in_A", row, text, &ct[i], &n[i]);
		assert_int_equal(ct[i][4], 1 + i / 3); /* three values per data key */
	}
	assert_int_equal(count(f, "SELECT count(*) FROM data_keys WHERE instance_id='in_A'"), 3);
	assert_int_equal(count(f, "SELECT count(*) FROM instance_keks WHERE instance_id='in_A'"),
	                 1);
	bw_keyring_stop();
	start(f, 3, 0, 0);
	for (int i = 0; i < 7; i++) {
		snprintf(row, sizeof(row), "ms_%d", i);
		snprintf(text, sizeof(text), "text %d", i);
		assert_int_equal(opens("in_A", row, ct[i], n[i], text), BW_OK);
		free(ct[i]);
	}
	/* After a restart the newest data key seals on until its count. */
	seal("in_A", "ms_x", "x", &ct[0], &n[0]);
	assert_int_equal(ct[0][4], 3);
	free(ct[0]);
}

static void test_rotation(void **state)
{
	struct fixture *f = *state;
	enum { N = 25 };
	uint8_t *ct[N];
	size_t n[N];
	char row[16];
	struct bw_keyring_info before, after;
	struct bw_key_rotation rot;
	start(f, 1, 4, 0);
	for (int i = 0; i < N; i++) {
		snprintf(row, sizeof(row), "ms_%d", i);
		seal("in_A", row, row, &ct[i], &n[i]);
	}
	uint8_t *other;
	size_t on;
	seal("in_B", "ms_b", "other instance", &other, &on);
	free(other);
	free(ct[0]);
	seal("in_A", "ms_0", "ms_0", &ct[0], &n[0]); /* sealed again: a 26th data key */
	assert_int_equal(bw_keyring_info("in_A", &before), BW_OK);
	assert_string_equal(before.origin, "GENERATED");
	assert_int_equal(before.data_keys, N + 1);
	assert_false(before.has_rotation);
	assert_int_equal(bw_keyring_rotate("in_A", NULL, &rot), BW_OK);
	assert_string_equal(rot.state, "RUNNING");
	assert_string_equal(rot.from_kek_id, before.kek_id);
	assert_int_equal(rot.total, N + 1);
	/* A second one waits for the first to end. */
	struct bw_key_rotation again;
	bw_result r2 = bw_keyring_rotate("in_A", NULL, &again);
	assert_true(r2 == BW_CONFLICT || r2 == BW_OK);
	assert_int_equal(bw_keyring_wait_idle(10000), BW_OK);
	/* The next value takes a new data key under the new KEK. */
	uint8_t *fresh;
	size_t fn;
	seal("in_A", "ms_new", "new", &fresh, &fn);
	assert_int_equal(bw_keyring_info("in_A", &after), BW_OK);
	assert_true(after.has_rotation);
	assert_string_equal(after.rotation.state, "COMPLETED");
	assert_int_equal(after.rotation.rewrapped, after.rotation.total);
	assert_int_not_equal(strcmp(after.kek_id, before.kek_id), 0);
	assert_int_equal(after.nretiring, 0);
	assert_int_equal(count(f, "SELECT count(*) FROM instance_keks WHERE instance_id='in_A'"),
	                 1);
	assert_int_equal(count(f, "SELECT count(*) FROM data_keys d JOIN instance_keks k ON "
	                          "k.instance_id=d.instance_id AND k.id=d.kek_id AND "
	                          "k.state='ACTIVE' WHERE d.instance_id='in_A'"),
	                 N + 2);
	assert_int_equal(count(f, "SELECT count(*) FROM instance_keks WHERE instance_id='in_B'"),
	                 1);
	/* Everything opens, now and after a restart (keys read back from the file). */
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < N; i++) {
			snprintf(row, sizeof(row), "ms_%d", i);
			assert_int_equal(opens("in_A", row, ct[i], n[i], row), BW_OK);
		}
		assert_int_equal(opens("in_A", "ms_new", fresh, fn, "new"), BW_OK);
		bw_keyring_stop();
		start(f, 1, 4, 0);
	}
	for (int i = 0; i < N; i++)
		free(ct[i]);
	free(fresh);
}

static void test_rotation_resumes(void **state)
{
	struct fixture *f = *state;
	uint8_t *ct[6];
	size_t n[6];
	char row[16];
	struct bw_key_rotation rot;
	struct bw_keyring_info ki;
	start(f, 1, 1, 60000); /* one key per batch, then a minute's pause */
	for (int i = 0; i < 6; i++) {
		snprintf(row, sizeof(row), "ms_%d", i);
		seal("in_A", row, row, &ct[i], &n[i]);
	}
	assert_int_equal(bw_keyring_rotate("in_A", NULL, &rot), BW_OK);
	/* While it runs (paused), old and new KEKs both open everything. */
	for (int i = 0; i < 6; i++) {
		snprintf(row, sizeof(row), "ms_%d", i);
		assert_int_equal(opens("in_A", row, ct[i], n[i], row), BW_OK);
	}
	bw_keyring_stop(); /* cut mid-rotation */
	assert_int_equal(count(f, "SELECT count(*) FROM key_rotations WHERE state='RUNNING'"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM instance_keks WHERE state='RETIRING'"), 1);
	start(f, 1, 100, 0);
	assert_int_equal(bw_keyring_wait_idle(10000), BW_OK);
	assert_int_equal(bw_keyring_info("in_A", &ki), BW_OK);
	assert_string_equal(ki.rotation.id, rot.id);
	assert_string_equal(ki.rotation.state, "COMPLETED");
	assert_int_equal(ki.rotation.rewrapped, 6);
	assert_int_equal(count(f, "SELECT count(*) FROM instance_keks"), 1);
	for (int i = 0; i < 6; i++) {
		snprintf(row, sizeof(row), "ms_%d", i);
		assert_int_equal(opens("in_A", row, ct[i], n[i], row), BW_OK);
		free(ct[i]);
	}
}

static void test_destroy(void **state)
{
	struct fixture *f = *state;
	uint8_t *a, *b, *c;
	size_t an, bn, cn;
	struct bw_key_rotation rot;
	start(f, 0, 0, 0);
	seal("in_A", "ms_1", "secret of A", &a, &an);
	seal("in_B", "ms_1", "secret of B", &b, &bn);
	assert_int_equal(bw_keyring_destroy("in_A"), BW_OK);
	assert_int_equal(opens("in_A", "ms_1", a, an, "secret of A"), BW_NOTFOUND);
	assert_int_equal(opens("in_B", "ms_1", b, bn, "secret of B"), BW_OK);
	assert_int_not_equal(bw_seal("in_A", "t", "r", "c", (const uint8_t *)"x", 1, &c, &cn),
	                     BW_OK);
	assert_int_equal(bw_keyring_rotate("in_A", NULL, &rot), BW_NOTFOUND);
	assert_int_equal(count(f, "SELECT count(*) FROM instance_keks WHERE instance_id='in_A'"),
	                 0);
	assert_int_equal(count(f, "SELECT count(*) FROM data_keys WHERE instance_id='in_A'"), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM key_tombstones WHERE instance_id='in_A'"),
	                 1);
	/* The WAL was truncated: no old page image of the key is left in it. */
	char wal[160];
	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	FILE *w = fopen(wal, "rb");
	if (w) {
		fseek(w, 0, SEEK_END);
		assert_int_equal(ftell(w), 0);
		fclose(w);
	}
	/* After a restart the tombstone still holds. */
	bw_keyring_stop();
	start(f, 0, 0, 0);
	assert_int_equal(opens("in_A", "ms_1", a, an, "secret of A"), BW_NOTFOUND);
	assert_int_not_equal(bw_seal("in_A", "t", "r", "c", (const uint8_t *)"x", 1, &c, &cn),
	                     BW_OK);
	assert_int_equal(opens("in_B", "ms_1", b, bn, "secret of B"), BW_OK);
	free(a);
	free(b);
}

static void test_kek_moved(void **state)
{
	struct fixture *f = *state;
	uint8_t *a;
	size_t an;
	start(f, 0, 0, 0);
	seal("in_A", "ms_1", "A", &a, &an);
	bw_keyring_stop();
	/* A's KEK and data key given to in_C, with A's value: nothing opens. */
	exec(f, "INSERT INTO instance_keks SELECT 'in_C',id,origin,state,wrapped,created_at "
	        "FROM instance_keks WHERE instance_id='in_A';"
	        "INSERT INTO data_keys SELECT 'in_C',id,kek_id,wrapped,created_at "
	        "FROM data_keys WHERE instance_id='in_A';");
	start(f, 0, 0, 0);
	assert_int_not_equal(opens("in_C", "ms_1", a, an, "A"), BW_OK);
	assert_int_equal(opens("in_A", "ms_1", a, an, "A"), BW_OK);
	/* A data key row tampered with: its values do not open. */
	bw_keyring_stop();
	exec(f, "UPDATE data_keys SET wrapped=zeroblob(72) WHERE instance_id='in_A'");
	start(f, 0, 0, 0);
	assert_int_not_equal(opens("in_A", "ms_1", a, an, "A"), BW_OK);
	free(a);
}

/* RSA-OAEP-SHA256 of 32 bytes to the PEM public key. */
static size_t oaep_wrap(const char *pem, const uint8_t kek[32], uint8_t *out, size_t cap)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *pk = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pk, NULL);
	size_t n = cap;
	assert_non_null(ctx);
	assert_int_equal(EVP_PKEY_encrypt_init(ctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()), 1);
	assert_int_equal(EVP_PKEY_encrypt(ctx, out, &n, kek, 32), 1);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pk);
	BIO_free(bio);
	return n;
}

static void test_byok(void **state)
{
	struct fixture *f = *state;
	struct bw_import_params p, p2;
	struct bw_key_rotation rot;
	struct bw_keyring_info ki;
	const char *field, *why;
	uint8_t kek[32], wrapped[512], *a;
	size_t an;
	start(f, 0, 0, 0);
	seal("in_A", "ms_1", "before import", &a, &an);
	assert_int_equal(bw_keyring_import_params("in_A", &p), BW_OK);
	assert_contains(p.public_key, "-----BEGIN PUBLIC KEY-----");
	assert_int_equal(p.bits, 3072);
	assert_true(p.expires_at > 0);
	/* One platform key: the second call gives the same one, another token. */
	assert_int_equal(bw_keyring_import_params("in_A", &p2), BW_OK);
	assert_string_equal(p.public_key, p2.public_key);
	assert_int_not_equal(strcmp(p.token, p2.token), 0);
	randombytes_buf(kek, sizeof(kek));
	size_t wn = oaep_wrap(p.public_key, kek, wrapped, sizeof(wrapped));
	assert_int_equal(wn, 384);
	/* Wrong inputs name their field; a wrong key does not spend the token. */
	wrapped[7] ^= 1;
	assert_int_equal(bw_keyring_import("in_A", p.token, wrapped, wn, &rot, &field, &why),
	                 BW_INVALID);
	assert_string_equal(field, "wrapped_key");
	wrapped[7] ^= 1;
	assert_int_equal(bw_keyring_import("in_B", p.token, wrapped, wn, &rot, &field, &why),
	                 BW_INVALID);
	assert_string_equal(field, "import_token"); /* another instance's token */
	assert_int_equal(bw_keyring_import("in_A", "bwi_nope", wrapped, wn, &rot, &field, &why),
	                 BW_INVALID);
	assert_string_equal(field, "import_token");
	assert_int_equal(bw_keyring_import("in_A", p.token, wrapped, wn, &rot, &field, &why),
	                 BW_OK);
	assert_int_equal(bw_keyring_wait_idle(10000), BW_OK);
	assert_int_equal(bw_keyring_info("in_A", &ki), BW_OK);
	assert_string_equal(ki.origin, "IMPORTED");
	assert_string_equal(ki.rotation.state, "COMPLETED");
	assert_int_equal(opens("in_A", "ms_1", a, an, "before import"), BW_OK);
	/* The token was spent. */
	assert_int_equal(bw_keyring_import("in_A", p.token, wrapped, wn, &rot, &field, &why),
	                 BW_INVALID);
	assert_string_equal(field, "import_token");
	/* The imported KEK is the one that wraps: unwrapping the data key with
	 * it (outside the keyring) gives a key that opens the value. */
	bw_keyring_stop();
	start(f, 0, 0, 0);
	assert_int_equal(opens("in_A", "ms_1", a, an, "before import"), BW_OK);
	assert_int_equal(
	    count(f, "SELECT count(*) FROM key_import_tokens WHERE instance_id='in_A'"),
	    1); /* p2's, unused */
	bw_import_params_clear(&p);
	bw_import_params_clear(&p2);
	free(a);
}

static void make_instance(struct bw_store *s, const char *iid, const char *first, const char *email)
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
	snprintf(u.first_name, sizeof(u.first_name), "%s", first);
	snprintf(u.email, sizeof(u.email), "%s", email);
	assert_int_equal(bw_store_instance_create(s, &in, &p, 1, &u, p.id), BW_OK);
}

static void test_user_names(void **state)
{
	struct fixture *f = *state;
	struct bw_store *s;
	struct bw_user u, list[4];
	size_t n = 0;
	start(f, 0, 0, 0);
	assert_int_equal(bw_store_open(&s, f->path, BW_DURABILITY_NORMAL), BW_OK);
	make_instance(s, "in_A", "Grace", "grace@example.com");
	assert_int_equal(count(f, "SELECT count(*) FROM users WHERE pii IS NOT NULL AND "
	                          "first_name='' AND last_name='' AND email IS NULL"),
	                 1);
	assert_int_equal(bw_store_user_get(s, "in_A", "us_in_A", &u), BW_OK);
	assert_string_equal(u.first_name, "Grace");
	assert_string_equal(u.email, "grace@example.com");
	assert_false(u.pii_error);
	assert_null(u.pii);
	snprintf(u.last_name, sizeof(u.last_name), "Hopper");
	assert_int_equal(bw_store_user_update(s, &u, NULL, 0), BW_OK);
	bw_user_clear(&u);
	assert_int_equal(bw_store_user_list(s, "in_A", NULL, list, 4, &n), BW_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].last_name, "Hopper");
	bw_user_clear(&list[0]);
	/* A user without names stores no sealed blob at all. */
	make_instance(s, "in_B", "", "");
	assert_int_equal(count(f, "SELECT count(*) FROM users WHERE instance_id='in_B' AND "
	                          "pii IS NULL"),
	                 1);
	/* Moved to another user, the blob does not open: fields empty, flagged. */
	exec(f, "UPDATE users SET pii=(SELECT pii FROM users WHERE id='us_in_A') "
	        "WHERE id='us_in_B'");
	assert_int_equal(bw_store_user_get(s, "in_B", "us_in_B", &u), BW_OK);
	assert_true(u.pii_error);
	assert_string_equal(u.first_name, "");
	/* Written back without new names (a status change), the blob is kept as
	 * it was: a key problem that passes loses nothing. */
	snprintf(u.status, sizeof(u.status), "Available");
	assert_int_equal(bw_store_user_update(s, &u, NULL, 0), BW_OK);
	bw_user_clear(&u);
	assert_int_equal(count(f, "SELECT count(*) FROM users a JOIN users b ON a.pii=b.pii "
	                          "WHERE a.id='us_in_A' AND b.id='us_in_B'"),
	                 1);
	/* Given new names, the user gets a new blob that opens. */
	assert_int_equal(bw_store_user_get(s, "in_B", "us_in_B", &u), BW_OK);
	snprintf(u.first_name, sizeof(u.first_name), "Barbara");
	assert_int_equal(bw_store_user_update(s, &u, NULL, 0), BW_OK);
	bw_user_clear(&u);
	assert_int_equal(bw_store_user_get(s, "in_B", "us_in_B", &u), BW_OK);
	assert_false(u.pii_error);
	assert_string_equal(u.first_name, "Barbara");
	bw_user_clear(&u);
	bw_store_close(s);
}

/* The pre-0008 seal, as the old code wrote it. */
static void legacy_seal(const char *iid, const char *table, const char *row, const char *col,
                        const char *text, uint8_t *out, size_t *n)
{
	static const char label[] = "bulwark instance seal v1";
	uint8_t key[32];
	char a[256];
	int al = snprintf(a, sizeof(a), "%s|%s|%s|%s", iid, table, row, col);
	crypto_generichash_state st;
	crypto_generichash_init(&st, root, 32, 32);
	crypto_generichash_update(&st, (const uint8_t *)label, sizeof(label));
	crypto_generichash_update(&st, (const uint8_t *)iid, strlen(iid) + 1);
	crypto_generichash_final(&st, key, 32);
	randombytes_buf(out, 24);
	unsigned long long cl = 0;
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + 24, &cl, (const uint8_t *)text,
	                                           strlen(text), (const uint8_t *)a, (size_t)al,
	                                           NULL, out, key);
	*n = 24 + (size_t)cl;
}

static void bind_exec(struct fixture *f, const char *sql, const uint8_t *blob, size_t n)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_blob(st, 1, blob, (int)n, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void blob_of(struct fixture *f, const char *sql, uint8_t *out, size_t *n)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	*n = (size_t)sqlite3_column_bytes(st, 0);
	memcpy(out, sqlite3_column_blob(st, 0), *n);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void test_legacy_reseal(void **state)
{
	struct fixture *f = *state;
	uint8_t blob[512], *pt;
	size_t n, pl;
	/* A database as an older version left it (rows written in clear and
	 * sealed under the root key alone), then the first start. */
	exec(f, "INSERT INTO instances(id,alias,default_region,settings,created_at,updated_at) "
	        "VALUES('in_L','legacy','US','{}',1,1);"
	        "INSERT INTO users(id,instance_id,username,first_name,last_name,email,created_at,"
	        "updated_at) VALUES('us_L','in_L','ada','Ada','Lovelace','ada@example.com',1,1);"
	        "INSERT INTO contacts(id,instance_id,channel,initiation_method,state,initiated_at,"
	        "updated_at) VALUES('ct_L','in_L','CHAT','API','ENDED',1,1);"
	        "INSERT INTO keyring_tasks(name) VALUES('reseal_legacy') ON CONFLICT DO NOTHING;");
	legacy_seal("in_L", "users", "us_L", "mfa_secret", "seed", blob, &n);
	bind_exec(f, "UPDATE users SET mfa_secret=? WHERE id='us_L'", blob, n);
	legacy_seal("in_L", "contacts", "ct_L", "customer", "{\"display_name\":\"Ada\"}", blob, &n);
	bind_exec(f, "UPDATE contacts SET customer=? WHERE id='ct_L'", blob, n);
	legacy_seal("in_L", "contact_messages", "ms_L", "content", "hi there", blob, &n);
	bind_exec(f,
	          "INSERT INTO contact_messages(id,instance_id,contact_id,seq,role,time,content) "
	          "VALUES('ms_L','in_L','ct_L',1,'CUSTOMER',1,?)",
	          blob, n);
	start(f, 0, 0, 0);
	assert_int_equal(count(f, "SELECT count(*) FROM keyring_tasks"), 0);
	blob_of(f, "SELECT mfa_secret FROM users WHERE id='us_L'", blob, &n);
	assert_int_equal(blob[0], BW_SEAL_VERSION);
	assert_int_equal(bw_unseal("in_L", "users", "us_L", "mfa_secret", blob, n, &pt, &pl),
	                 BW_OK);
	assert_memory_equal(pt, "seed", 4);
	bw_unseal_free(pt);
	blob_of(f, "SELECT customer FROM contacts WHERE id='ct_L'", blob, &n);
	assert_int_equal(bw_unseal("in_L", "contacts", "ct_L", "customer", blob, n, &pt, &pl),
	                 BW_OK);
	assert_string_equal((char *)pt, "{\"display_name\":\"Ada\"}");
	bw_unseal_free(pt);
	blob_of(f, "SELECT content FROM contact_messages WHERE id='ms_L'", blob, &n);
	assert_int_equal(opens("in_L", "ms_L", blob, n, "hi there"), BW_OK);
	assert_int_equal(count(f, "SELECT count(*) FROM users WHERE id='us_L' AND first_name='' "
	                          "AND last_name='' AND email IS NULL AND pii IS NOT NULL"),
	                 1);
	struct bw_store *s;
	struct bw_user u;
	assert_int_equal(bw_store_open(&s, f->path, BW_DURABILITY_NORMAL), BW_OK);
	assert_int_equal(bw_store_user_get(s, "in_L", "us_L", &u), BW_OK);
	assert_string_equal(u.first_name, "Ada");
	assert_string_equal(u.last_name, "Lovelace");
	assert_string_equal(u.email, "ada@example.com");
	bw_user_clear(&u);
	bw_store_close(s);
	/* Shredding now reaches them too: the root key alone opens nothing. */
	assert_int_equal(bw_keyring_destroy("in_L"), BW_OK);
	assert_int_not_equal(opens("in_L", "ms_L", blob, n, "hi there"), BW_OK);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	randombytes_buf(root, sizeof(root));
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_format, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rollover_and_restart, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rotation_resumes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_destroy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_kek_moved, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_byok, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_user_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_legacy_reseal, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
