/* The secrets vault (C7, secrets.h). A value is sealed before it reaches
 * the store, under associated data naming the instance, the table, the
 * secret's id and version, and the column, so that a sealed value copied
 * to another secret, version or instance does not open. Nothing here logs
 * a value or a name's value; clear text only lives in guarded memory
 * (sodium_malloc) that is wiped on free. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/ids.h"
#include "core/log.h"
#include "integ/integ_int.h"
#include "integ/secrets.h"
#include "sec/seal.h"

#define TABLE "secret_versions"
#define COLUMN "value"
#define ROTATE_TRIES 4

static long long (*test_clock)(void);

long long bw_integ__now_ms(void)
{
	return test_clock ? test_clock() : bw_now_ms();
}

void bw_integ__set_clock(long long (*fn)(void))
{
	test_clock = fn;
}

bool bw_secret_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n < 1 || n > BW_SECRET_NAME_MAX)
		return false;
	for (; *name; name++) {
		char ch = *name;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
			return false;
	}
	return true;
}

static bool value_ok(const char *value, size_t n)
{
	return value && n >= 1 && n <= BW_SECRET_VALUE_MAX && !memchr(value, '\0', n);
}

/* The sealing row of one version: "<secret id>.<version>". */
static void row_of(char *out, size_t cap, const char *id, long long version)
{
	snprintf(out, cap, "%s.%lld", id, version);
}

static bw_result seal_version(const char *iid, const char *id, long long version, const char *value,
                              size_t n, uint8_t **sealed, size_t *len)
{
	char row[80];
	row_of(row, sizeof(row), id, version);
	return bw_seal(iid, TABLE, row, COLUMN, (const uint8_t *)value, n, sealed, len);
}

bw_result bw_secret_create(struct bw_store *s, const char *iid, const char *name, const char *value,
                           size_t n, struct bw_secret *out)
{
	uint8_t *sealed = NULL;
	size_t len = 0;
	memset(out, 0, sizeof(*out));
	if (!bw_secret_name_ok(name) || !value_ok(value, n))
		return BW_INVALID;
	bw_id_new(out->id, "sc_");
	snprintf(out->instance_id, sizeof(out->instance_id), "%s", iid);
	snprintf(out->name, sizeof(out->name), "%s", name);
	out->version = 1;
	out->created_at = bw_integ__now_ms();
	bw_result r = seal_version(iid, out->id, 1, value, n, &sealed, &len);
	if (r == BW_OK)
		r = bw_store_secret_insert(s, out, sealed, len);
	free(sealed);
	return r;
}

bw_result bw_secret_rotate(struct bw_store *s, const char *iid, const char *id, const char *value,
                           size_t n, long long grace_s, struct bw_secret *out)
{
	if (!value_ok(value, n) || grace_s < 0 || grace_s > BW_SECRET_GRACE_MAX_S)
		return BW_INVALID;
	bw_result r = BW_CONFLICT;
	/* The version is part of the sealing row: seal for the version read,
	 * and again when another rotation took it first. */
	for (int i = 0; i < ROTATE_TRIES && r == BW_CONFLICT; i++) {
		struct bw_secret cur;
		uint8_t *sealed = NULL;
		size_t len = 0;
		r = bw_store_secret_get(s, iid, id, &cur);
		if (r != BW_OK)
			return r;
		r = seal_version(iid, id, cur.version + 1, value, n, &sealed, &len);
		if (r == BW_OK) {
			long long now = bw_integ__now_ms();
			r = bw_store_secret_rotate(s, iid, id, cur.version, sealed, len, now,
			                           now + grace_s * 1000, out);
		}
		free(sealed);
	}
	return r;
}

/* Opens a sealed version into a NUL-terminated copy in guarded memory. */
static bw_result open_blob(const char *iid, const struct bw_secret_blob *b, char **value)
{
	char row[80];
	uint8_t *pt = NULL;
	size_t n = 0;
	row_of(row, sizeof(row), b->secret_id, b->version);
	bw_result r = bw_unseal(iid, TABLE, row, COLUMN, b->value, b->len, &pt, &n);
	if (r != BW_OK) {
		char v[24];
		snprintf(v, sizeof(v), "%lld", b->version);
		bw_log(BW_LOG_ERROR, "a secret's value does not open", "instance_id", iid,
		       "secret_id", b->secret_id, "version", v);
		return r == BW_NOMEM ? r : BW_ERR;
	}
	char *copy = sodium_malloc(n + 1);
	if (copy) {
		memcpy(copy, pt, n);
		copy[n] = '\0';
	}
	bw_unseal_free(pt);
	if (!copy)
		return BW_NOMEM;
	*value = copy;
	return BW_OK;
}

static bw_result read_version(struct bw_store *s, const char *iid, const char *name,
                              long long version, char **value)
{
	struct bw_secret_blob b;
	*value = NULL;
	if (!bw_secret_name_ok(name))
		return BW_NOTFOUND;
	bw_result r = bw_store_secret_blob(s, iid, name, version, bw_integ__now_ms(), &b);
	if (r == BW_OK)
		r = open_blob(iid, &b, value);
	bw_secret_blob_clear(&b);
	return r;
}

bw_result bw_secret_read(struct bw_store *s, const char *iid, const char *name, char **value)
{
	return read_version(s, iid, name, 0, value);
}

bw_result bw_secret_read_previous(struct bw_store *s, const char *iid, const char *name,
                                  char **value)
{
	struct bw_secret_blob cur;
	*value = NULL;
	if (!bw_secret_name_ok(name))
		return BW_NOTFOUND;
	bw_result r = bw_store_secret_blob(s, iid, name, 0, bw_integ__now_ms(), &cur);
	long long v = cur.version;
	bw_secret_blob_clear(&cur);
	if (r != BW_OK)
		return r;
	return v > 1 ? read_version(s, iid, name, v - 1, value) : BW_NOTFOUND;
}

void bw_secret_free(char *value)
{
	if (value)
		sodium_free(value); /* wipes: sodium_free zeroes before it unmaps */
}
