/* Bearer tokens (src/sec/token.c): shape, kind detection, the stored hash. */
#include "test_common.h"

#include <sodium.h>

#include "sec/token.h"

static bool b64url(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

static void check_new(enum bw_token_kind kind, const char *prefix)
{
	char a[BW_TOKEN_LEN], b[BW_TOKEN_LEN];
	memset(a, 'x', sizeof(a));
	bw_token_new(kind, a);
	bw_token_new(kind, b);
	assert_int_equal(strlen(a), 47); /* prefix 4 + 43 base64url of 32 bytes */
	assert_memory_equal(a, prefix, 4);
	for (size_t i = 4; i < 47; i++)
		assert_true(b64url(a[i]));
	assert_int_equal(bw_token_kind_of(a, strlen(a)), kind);
	assert_string_not_equal(a, b); /* random */
}

static void test_new_and_kind(void **state)
{
	(void)state;
	check_new(BW_TOKEN_PLATFORM, "bwp_");
	check_new(BW_TOKEN_SESSION, "bws_");
	check_new(BW_TOKEN_CUSTOMER, "bwc_");
}

static void test_kind_refusals(void **state)
{
	(void)state;
	char t[BW_TOKEN_LEN];
	bw_token_new(BW_TOKEN_PLATFORM, t);
	size_t n = strlen(t);
	assert_int_equal(bw_token_kind_of(t, n), BW_TOKEN_PLATFORM);
	/* Wrong or differently cased prefix. */
	const char *prefixes[] = {"bwx_", "BWP_", "bwp-", "xbwp", "bw__"};
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		char u[BW_TOKEN_LEN];
		memcpy(u, t, sizeof(u));
		memcpy(u, prefixes[i], 4);
		assert_int_equal(bw_token_kind_of(u, n), BW_TOKEN_NONE);
	}
	/* Wrong length, either way. */
	assert_int_equal(bw_token_kind_of(t, n - 1), BW_TOKEN_NONE);
	char longer[BW_TOKEN_LEN + 1];
	memcpy(longer, t, n);
	longer[n] = 'A';
	longer[n + 1] = '\0';
	assert_int_equal(bw_token_kind_of(longer, n + 1), BW_TOKEN_NONE);
	assert_int_equal(bw_token_kind_of("", 0), BW_TOKEN_NONE);
	assert_int_equal(bw_token_kind_of("bwp_", 4), BW_TOKEN_NONE);
	/* A character outside base64url anywhere in the body. */
	const char bad[] = {'+', '/', '=', ' ', '.', '\0', '\n', (char)0xc3};
	for (size_t i = 0; i < sizeof(bad); i++) {
		for (size_t pos = 4; pos < n; pos += 21) {
			char u[BW_TOKEN_LEN];
			memcpy(u, t, sizeof(u));
			u[pos] = bad[i];
			assert_int_equal(bw_token_kind_of(u, n), BW_TOKEN_NONE);
		}
	}
}

static void test_hash(void **state)
{
	(void)state;
	/* BLAKE2b-256, unkeyed: a fixed vector, so stored hashes stay valid. */
	static const uint8_t abc[32] = {
	    0xbd, 0xdd, 0x81, 0x3c, 0x63, 0x42, 0x39, 0x72, 0x31, 0x71, 0xef,
	    0x3f, 0xee, 0x98, 0x57, 0x9b, 0x94, 0x96, 0x4e, 0x3b, 0xb1, 0xcb,
	    0x3e, 0x42, 0x72, 0x62, 0xc8, 0xc0, 0x68, 0xd5, 0x23, 0x19,
	};
	uint8_t h1[32], h2[32];
	bw_token_hash("abc", 3, h1);
	assert_memory_equal(h1, abc, 32);

	char t[BW_TOKEN_LEN];
	bw_token_new(BW_TOKEN_PLATFORM, t);
	bw_token_hash(t, strlen(t), h1);
	bw_token_hash(t, strlen(t), h2);
	assert_memory_equal(h1, h2, 32);
	/* The length given is what is hashed. */
	bw_token_hash(t, strlen(t) - 1, h2);
	assert_memory_not_equal(h1, h2, 32);
	/* One changed character, another hash. */
	t[10] = t[10] == 'A' ? 'B' : 'A';
	bw_token_hash(t, strlen(t), h2);
	assert_memory_not_equal(h1, h2, 32);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_new_and_kind),
	    cmocka_unit_test(test_kind_refusals),
	    cmocka_unit_test(test_hash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
