/* A fixture for the tests of src/integ/ (test_secrets.c, test_roles.c): a
 * migrated SQLite file in a temporary folder with instances in_A and in_B,
 * sealing ready, and a test clock the tests move by hand. */
#ifndef BW_TEST_INTEG_H
#define BW_TEST_INTEG_H

#include "test_common.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "integ/integ_int.h"
#include "sec/seal.h"
#include "store/store.h"
#include "test_db.h"

/* Sealing under the envelope keyring (sec/keyring.h) needs it running;
 * the older derivation needed bw_seal_root alone. Weak, so that these
 * tests build and run with either. */
bw_result bw_keyring_start(const char *db_path, int durability, const uint8_t *root_key,
                           const void *opts) __attribute__((weak));
void bw_keyring_stop(void) __attribute__((weak));


static uint8_t fx_root[32];
static long long fx_now = 1800000000000LL; /* ms, moved by the tests */

static long long fx_clock(void)
{
	return fx_now;
}

static int fx_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f || test_db_open(f, "integ", 9) != 0)
		return -1;
	randombytes_buf(fx_root, sizeof(fx_root));
	bw_seal_root = fx_root;
	if (bw_keyring_start) {
		if (bw_keyring_start(f->path, 0, fx_root, NULL) != BW_OK)
			return -1;
		f->keyring = true;
	}
	test_db_instance(f->s, "in_A", NULL);
	test_db_instance(f->s, "in_B", NULL);
	fx_now = 1800000000000LL;
	bw_integ__set_clock(fx_clock);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fixture *f = *state;
	bw_integ__set_clock(NULL);
	if (f->keyring && bw_keyring_stop)
		bw_keyring_stop();
	bw_seal_root = NULL;
	test_db_close(f);
	free(f);
	return 0;
}

/* Does the file at path hold the bytes? (-1: it cannot be read) */
static int fx_file_holds(const char *path, const void *needle, size_t n)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return -1;
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	size_t got;
	while (buf && (got = fread(buf + len, 1, cap - len, fp)) > 0) {
		len += got;
		if (len == cap) {
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	fclose(fp);
	int found = buf && memmem(buf, len, needle, n) != NULL;
	free(buf);
	return found;
}

#endif
