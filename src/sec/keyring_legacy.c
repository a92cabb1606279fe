/* The keyring's one-time task at the first start after migration 0008:
 * values sealed by older versions under a key derived from the root key
 * alone (which deleting an instance could not shred) are opened with that
 * derivation and sealed again under the instance's data key, and users'
 * names and e-mail in clear move into their sealed column. A value that
 * does not open with the old derivation is new already (the pass can be
 * cut and run again). The derivation lives here only, for this pass. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "sec/keyring_int.h"
#include "sec/seal.h"

#define PAGE 200
#define TASK "reseal_legacy"

static const struct {
	const char *table, *column;
} cols[] = {
    [BW_SEALED_MFA] = {"users", "mfa_secret"},
    [BW_SEALED_CUSTOMER] = {"contacts", "customer"},
    [BW_SEALED_MESSAGE] = {"contact_messages", "content"},
    [BW_SEALED_NAMES] = {"users", "pii"},
};

/* The pre-0008 format: nonce || ciphertext || tag under BLAKE2b(root,
 * label || iid), AD "iid|table|row|column". */
static bw_result legacy_open(const uint8_t *root, const char *iid, const char *table,
                             const char *row, const char *column, const uint8_t *ct, size_t n,
                             uint8_t **pt, size_t *pl)
{
	static const char label[] = "bulwark instance seal v1";
	const size_t nb = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
	const size_t tb = crypto_aead_xchacha20poly1305_ietf_ABYTES;
	uint8_t key[32];
	char a[512];
	int al = snprintf(a, sizeof(a), "%s|%s|%s|%s", iid, table, row, column);
	if (n < nb + tb || al < 0 || (size_t)al >= sizeof(a))
		return BW_DENIED;
	crypto_generichash_state st;
	crypto_generichash_init(&st, root, 32, 32);
	crypto_generichash_update(&st, (const uint8_t *)label, sizeof(label));
	crypto_generichash_update(&st, (const uint8_t *)iid, strlen(iid) + 1);
	crypto_generichash_final(&st, key, 32);
	uint8_t *p = sodium_malloc(n - nb - tb + 1);
	unsigned long long len = 0;
	int rc = p ? crypto_aead_xchacha20poly1305_ietf_decrypt(
	                 p, &len, NULL, ct + nb, n - nb, (const uint8_t *)a, (size_t)al, ct, key)
	           : -1;
	sodium_memzero(key, sizeof(key));
	if (rc != 0) {
		if (p)
			sodium_free(p);
		return BW_DENIED;
	}
	*pt = p;
	*pl = (size_t)len;
	return BW_OK;
}

/* Re-seals one page in place; *changed counts the items to write back
 * (moved to the front). */
static bw_result reseal_page(const uint8_t *root, enum bw_sealed_col col, struct bw_sealed_item *it,
                             size_t n, size_t *changed)
{
	*changed = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t *pt = NULL, *blob = NULL;
		size_t pl = 0, bl = 0;
		bool names = col == BW_SEALED_NAMES;
		if (!names &&
		    legacy_open(root, it[i].instance_id, cols[col].table, it[i].id,
		                cols[col].column, it[i].blob, it[i].len, &pt, &pl) != BW_OK)
			continue; /* sealed by this version */
		bw_result r =
		    bw_seal(it[i].instance_id, cols[col].table, it[i].id, cols[col].column,
		            names ? it[i].blob : pt, names ? it[i].len : pl, &blob, &bl);
		bw_unseal_free(pt);
		if (r != BW_OK)
			return r;
		sodium_memzero(it[i].blob, it[i].len);
		free(it[i].blob);
		it[i].blob = blob;
		it[i].len = bl;
		struct bw_sealed_item t = it[*changed];
		it[*changed] = it[i];
		it[i] = t;
		(*changed)++;
	}
	return BW_OK;
}

int bw_keyring__reseal_legacy(const uint8_t *root)
{
	struct bw_store *s = NULL;
	struct bw_sealed_item *it = calloc(PAGE, sizeof(*it));
	size_t total = 0;
	bw_result r = it ? bw_keyring__open_store(&s) : BW_NOMEM;
	if (r == BW_OK)
		r = bw_store_keyring_task(s, TASK);
	for (int col = 0; r == BW_OK && col <= BW_SEALED_NAMES; col++) {
		long long after = 0;
		size_t n = 0, changed = 0;
		do {
			r = bw_store_sealed_page(s, (enum bw_sealed_col)col, after, it, PAGE, &n);
			if (r != BW_OK || n == 0)
				break;
			after = it[n - 1].rowid;
			r = reseal_page(root, (enum bw_sealed_col)col, it, n, &changed);
			if (r == BW_OK && changed)
				r = bw_store_sealed_put(s, (enum bw_sealed_col)col, it, changed);
			total += changed;
			for (size_t i = 0; i < n; i++) {
				sodium_memzero(it[i].blob, it[i].len);
				free(it[i].blob);
			}
		} while (r == BW_OK && n == PAGE);
	}
	if (r == BW_OK)
		r = bw_store_keyring_task_done(s, TASK);
	if (r == BW_OK && total) {
		char num[24];
		snprintf(num, sizeof(num), "%zu", total);
		bw_log(BW_LOG_INFO, "values sealed under the root key alone were sealed again",
		       "count", num);
		bw_ignore(bw_store_wal_purge(s));
	}
	bw_store_close(s);
	free(it);
	if (r == BW_NOTFOUND)
		return 0; /* done before */
	if (r != BW_OK)
		bw_log(BW_LOG_ERROR, "the one-time re-seal failed", "result", bw_result_code(r));
	return r == BW_OK ? 0 : -1;
}
