#include "sec/password.h"

#include <ctype.h>
#include <pthread.h>
#include <string.h>

#include "core/pool.h"

struct bw_pool *bw_password_pool;

struct hash_call {
	const char *pw;
	char *out;
	int rc;
};

static void do_hash(void *arg)
{
	struct hash_call *c = arg;
	c->rc = crypto_pwhash_str(c->out, c->pw, strlen(c->pw), BW_PW_OPSLIMIT, BW_PW_MEMLIMIT);
}

bw_result bw_password_hash(const char *pw, char out[crypto_pwhash_STRBYTES])
{
	struct hash_call c = {pw, out, -1};
	if (bw_pool_call(bw_password_pool, do_hash, &c) != BW_OK)
		return BW_AGAIN;
	return c.rc == 0 ? BW_OK : BW_NOMEM;
}

struct verify_call {
	const char *hash;
	const char *pw;
	int rc;
};

static void do_verify(void *arg)
{
	struct verify_call *c = arg;
	c->rc = crypto_pwhash_str_verify(c->hash, c->pw, strlen(c->pw));
}

static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char dummy[crypto_pwhash_STRBYTES];

static void make_dummy(void)
{
	unsigned char rnd[16];
	char pw[33];
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(pw, sizeof(pw), rnd, sizeof(rnd));
	if (crypto_pwhash_str(dummy, pw, strlen(pw), BW_PW_OPSLIMIT, BW_PW_MEMLIMIT) != 0)
		dummy[0] = '\0';
	sodium_memzero(pw, sizeof(pw));
}

bool bw_password_verify(const char *hash, const char *pw)
{
	pthread_once(&dummy_once, make_dummy);
	struct verify_call c = {hash ? hash : dummy, pw, -1};
	if (!c.hash[0] || bw_pool_call(bw_password_pool, do_verify, &c) != BW_OK)
		return false;
	return hash && c.rc == 0;
}

const char *bw_password_policy_check(const char *pw, const char *username, int min_length)
{
	size_t n = strlen(pw);
	if (n < (size_t)min_length)
		return "password is shorter than the instance's minimum length";
	if (n > BW_PW_MAX_BYTES)
		return "password is longer than 256 bytes";
	if (username && strcasecmp(pw, username) == 0)
		return "password must not be the username";
	bool same = true;
	for (size_t i = 1; i < n; i++)
		if (pw[i] != pw[0])
			same = false;
	if (same)
		return "password must not repeat one character";
	if (bw_password_is_common(pw))
		return "password is on the list of common passwords";
	return NULL;
}
