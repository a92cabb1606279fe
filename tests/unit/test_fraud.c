/* The in-memory fraud core (src/fraud: key.c, map.c, denylist.c,
 * windows.c): keys and deny values, the deny list's exact entries and
 * ranges, the sliding windows' exactness, and randomized runs of both
 * against naive references (every entry scanned, every time kept). */
#include "test_common.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "fraud/fraud.h"
#include "fraud/fraud_int.h"

/* A small deterministic generator (rand is banned, and a seed that prints
 * makes a failure reproducible). */
static uint64_t rng_state;
static uint32_t rnd(void)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rng_state >> 32);
}
static uint32_t below(uint32_t n)
{
	return (uint32_t)(((uint64_t)rnd() * n) >> 32);
}

static void key_is(enum bw_fraud_kind k, const char *in, const char *want)
{
	char out[256];
	int r = bw_fraud_key(k, in, out, sizeof(out));
	if (!want) {
		if (r != -1)
			fail_msg("key(%s) = \"%s\", want -1", in, out);
		return;
	}
	if (r != 0)
		fail_msg("key(%s) = -1, want \"%s\"", in, want);
	assert_string_equal(out, want);
	/* A key is its own key, and a deny value that stays as it is. */
	char again[256];
	assert_int_equal(bw_fraud_key(k, out, again, sizeof(again)), 0);
	assert_string_equal(again, out);
	assert_null(bw_fraud_deny_value(k, out, again, sizeof(again)));
	assert_string_equal(again, out);
}

static void value_is(enum bw_fraud_kind k, const char *in, const char *want)
{
	char out[256], again[256];
	const char *why = bw_fraud_deny_value(k, in, out, sizeof(out));
	if (!want) {
		if (!why)
			fail_msg("deny_value(%s) = \"%s\", want a refusal", in, out);
		return;
	}
	if (why)
		fail_msg("deny_value(%s) refused: %s", in, why);
	assert_string_equal(out, want);
	assert_null(bw_fraud_deny_value(k, out, again, sizeof(again)));
	assert_string_equal(again, out);
}

static void test_kinds(void **state)
{
	(void)state;
	for (int k = 0; k < BW_FRAUD_KINDS; k++)
		assert_int_equal(bw_fraud_kind_parse(bw_fraud_kind_name((enum bw_fraud_kind)k)), k);
	assert_string_equal(bw_fraud_kind_name(BW_FRAUD_ADDRESS), "IP");
	assert_int_equal(bw_fraud_kind_parse("EMAIL"), BW_FRAUD_EMAIL);
	assert_int_equal(bw_fraud_kind_parse("ip"), -1);
	assert_int_equal(bw_fraud_kind_parse("ADDRESS"), -1); /* a rule identifier, not a type */
	assert_int_equal(bw_fraud_kind_parse(""), -1);
	assert_int_equal(bw_fraud_kind_parse(NULL), -1);
	assert_null(bw_fraud_kind_name(BW_FRAUD_KINDS));
}

static void test_address_keys(void **state)
{
	(void)state;
	key_is(BW_FRAUD_ADDRESS, "203.0.113.9", "203.0.113.9");
	key_is(BW_FRAUD_ADDRESS, "0.0.0.0", "0.0.0.0");
	key_is(BW_FRAUD_ADDRESS, "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64");
	key_is(BW_FRAUD_ADDRESS, "2001:DB8:1:2::1", "2001:db8:1:2::/64");
	key_is(BW_FRAUD_ADDRESS, "2001:0db8:0001:0002:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64");
	key_is(BW_FRAUD_ADDRESS, "::1", "::/64");
	key_is(BW_FRAUD_ADDRESS, "fe80::1:2", "fe80::/64");
	/* A dual-stack socket's IPv4 client keeps its own key. */
	key_is(BW_FRAUD_ADDRESS, "::ffff:203.0.113.9", "203.0.113.9");
	key_is(BW_FRAUD_ADDRESS, "::FFFF:cb00:7109", "203.0.113.9");
	key_is(BW_FRAUD_ADDRESS, "2001:db8:1:2::/64", "2001:db8:1:2::/64"); /* a key given back */
	key_is(BW_FRAUD_ADDRESS, "2001:db8:1:2::/48", NULL);
	key_is(BW_FRAUD_ADDRESS, "2001:db8:1:2::1/64", NULL);
	key_is(BW_FRAUD_ADDRESS, "203.0.113.0/24", NULL);
	key_is(BW_FRAUD_ADDRESS, "203.0.113.9/32", NULL);
	const char *bad[] = {
	    "",         "1.2.3",        "1.2.3.4.5",   "01.2.3.4", "256.1.1.1",   " 1.2.3.4",
	    "1.2.3.4 ", "fe80::1%eth0", "2001:db8::g", "::1::",    "example.com", "/64",
	    "1.2.3.4/"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		key_is(BW_FRAUD_ADDRESS, bad[i], NULL);
	char small[8];
	assert_int_equal(bw_fraud_key(BW_FRAUD_ADDRESS, "203.0.113.9", small, sizeof(small)), -1);
	assert_int_equal(bw_fraud_key(BW_FRAUD_ADDRESS, NULL, small, sizeof(small)), -1);
	assert_int_equal(bw_fraud_key(BW_FRAUD_KINDS, "203.0.113.9", small, sizeof(small)), -1);
}

static void test_number_and_email_keys(void **state)
{
	(void)state;
	key_is(BW_FRAUD_NUMBER, "+33612345678", "+33612345678");
	key_is(BW_FRAUD_NUMBER, "+12345678", "+12345678");               /* 8 digits */
	key_is(BW_FRAUD_NUMBER, "+123456789012345", "+123456789012345"); /* 15 */
	const char *bad_numbers[] = {"+1234567",
	                             "+1234567890123456",
	                             "+01234567890",
	                             "33612345678",
	                             "+3361234567a",
	                             "+33 612345678",
	                             "++33612345678",
	                             "",
	                             "+"};
	for (size_t i = 0; i < sizeof(bad_numbers) / sizeof(bad_numbers[0]); i++)
		key_is(BW_FRAUD_NUMBER, bad_numbers[i], NULL);

	key_is(BW_FRAUD_EMAIL, "Alice.Smith@Example.COM", "alice.smith@example.com");
	key_is(BW_FRAUD_EMAIL, "a@b", "a@b");
	key_is(BW_FRAUD_EMAIL, "Ünïcode@Example.org", "Ünïcode@example.org"); /* ASCII only */
	const char *bad_emails[] = {"@b", "a@", "a@b@c", "a b@c", "a@b\t", "ab", ""};
	for (size_t i = 0; i < sizeof(bad_emails) / sizeof(bad_emails[0]); i++)
		key_is(BW_FRAUD_EMAIL, bad_emails[i], NULL);
	char e[300];
	memset(e, 'X', sizeof(e));
	memcpy(e + 250, "@a.b", 5); /* 254 bytes */
	char want[300];
	for (int i = 0; i < 255; i++)
		want[i] = e[i] >= 'A' && e[i] <= 'Z' ? (char)(e[i] + 32) : e[i];
	key_is(BW_FRAUD_EMAIL, e, want);
	memset(e, 'x', sizeof(e));
	memcpy(e + 251, "@a.b", 5); /* 255 */
	key_is(BW_FRAUD_EMAIL, e, NULL);
}

static void test_deny_values(void **state)
{
	(void)state;
	value_is(BW_FRAUD_ADDRESS, "203.0.113.9", "203.0.113.9");
	value_is(BW_FRAUD_ADDRESS, "203.0.113.9/32", "203.0.113.9");
	value_is(BW_FRAUD_ADDRESS, "203.0.113.0/24", "203.0.113.0/24");
	value_is(BW_FRAUD_ADDRESS, "203.0.113.128/25", "203.0.113.128/25");
	value_is(BW_FRAUD_ADDRESS, "0.0.0.0/0", "0.0.0.0/0");
	value_is(BW_FRAUD_ADDRESS, "2001:DB8::/32", "2001:db8::/32");
	value_is(BW_FRAUD_ADDRESS, "2001:0db8:0000::/48", "2001:db8::/48");
	value_is(BW_FRAUD_ADDRESS, "2001:db8:1:2::/64", "2001:db8:1:2::/64");
	value_is(BW_FRAUD_ADDRESS, "2001:db8::1/128", "2001:db8::1");
	value_is(BW_FRAUD_ADDRESS, "2001:db8::1", "2001:db8::1");
	value_is(BW_FRAUD_ADDRESS, "::/0", "::/0");
	value_is(BW_FRAUD_ADDRESS, "::ffff:203.0.113.9", "203.0.113.9");
	value_is(BW_FRAUD_ADDRESS, "::ffff:203.0.113.0/120", "203.0.113.0/24");
	value_is(BW_FRAUD_ADDRESS, "::ffff:0:0/96", "0.0.0.0/0");
	/* Host bits, prefixes out of bounds, and bad prefix text. */
	const char *bad[] = {"203.0.113.1/24",
	                     "203.0.113.0/23",
	                     "1.0.0.0/0",
	                     "0.0.0.1/31",
	                     "203.0.113.0/33",
	                     "203.0.113.0/",
	                     "203.0.113.0/024",
	                     "203.0.113.0/-1",
	                     "203.0.113.0/+24",
	                     "203.0.113.0/ 24",
	                     "203.0.113.0/24/24",
	                     "2001:db8::1/64",
	                     "2001:db8::/129",
	                     "2001:db8::/1000",
	                     "::1/0",
	                     "::ffff:203.0.113.1/120",
	                     "203.0.113.0 /24",
	                     "",
	                     "/0",
	                     "nothing"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		value_is(BW_FRAUD_ADDRESS, bad[i], NULL);
	value_is(BW_FRAUD_ADDRESS, "0.0.0.0/0", "0.0.0.0/0");
	value_is(BW_FRAUD_ADDRESS, "255.255.255.255/32", "255.255.255.255");
	value_is(BW_FRAUD_ADDRESS, "128.0.0.0/1", "128.0.0.0/1");
	value_is(BW_FRAUD_ADDRESS, "8000::/1", "8000::/1");
	value_is(BW_FRAUD_ADDRESS, "2001:db8::1:0/112", "2001:db8::1:0/112");

	value_is(BW_FRAUD_NUMBER, "+33612345678", "+33612345678");
	value_is(BW_FRAUD_NUMBER, "+1234567", NULL);
	value_is(BW_FRAUD_NUMBER, "+1234567890123456", NULL);
	value_is(BW_FRAUD_EMAIL, "Bob@Example.COM", "bob@example.com");
	value_is(BW_FRAUD_EMAIL, "bob", NULL);
	char out[256], small[4];
	assert_non_null(bw_fraud_deny_value(BW_FRAUD_KINDS, "x", out, sizeof(out)));
	assert_non_null(bw_fraud_deny_value(BW_FRAUD_EMAIL, NULL, out, sizeof(out)));
	assert_non_null(bw_fraud_deny_value(BW_FRAUD_EMAIL, "a@b.c", small, sizeof(small)));
}

/* ---- deny list ---- */

static struct bw_fraud_deny entry(const char *iid, const char *id, enum bw_fraud_kind k,
                                  const char *value, long long expires)
{
	struct bw_fraud_deny e;
	memset(&e, 0, sizeof(e));
	snprintf(e.instance_id, sizeof(e.instance_id), "%s", iid);
	snprintf(e.id, sizeof(e.id), "%s", id);
	e.kind = k;
	snprintf(e.value, sizeof(e.value), "%s", value);
	e.expires_ms = expires;
	return e;
}

static void put(struct bw_fraud_denylist *d, const char *iid, const char *id, enum bw_fraud_kind k,
                const char *value, long long expires)
{
	struct bw_fraud_deny e = entry(iid, id, k, value, expires);
	assert_int_equal(bw_fraud_denylist_put(d, &e), BW_OK);
}

/* The id of the matching entry, "" for none. */
static const char *who(struct bw_fraud_denylist *d, const char *iid, enum bw_fraud_kind k,
                       const char *value, long long now)
{
	static char id[48];
	id[0] = '\0';
	bool hit = bw_fraud_denied(d, iid, k, value, now, id, sizeof(id));
	assert_true(hit == (id[0] != '\0'));
	return id;
}

static void test_deny_exact(void **state)
{
	(void)state;
	struct bw_fraud_denylist *d = bw_fraud_denylist_new();
	assert_non_null(d);
	assert_false(bw_fraud_denied(d, "in_a", BW_FRAUD_ADDRESS, "203.0.113.9", 0, NULL, 0));
	put(d, "in_a", "dl_ip", BW_FRAUD_ADDRESS, "203.0.113.9", 0);
	put(d, "in_a", "dl_ip6", BW_FRAUD_ADDRESS, "2001:db8::9", 0);
	put(d, "in_a", "dl_num", BW_FRAUD_NUMBER, "+33612345678", 0);
	put(d, "in_a", "dl_mail", BW_FRAUD_EMAIL, "Mallory@Example.COM", 0);
	assert_int_equal(bw_fraud_denylist_size(d), 4);
	assert_string_equal(who(d, "in_a", BW_FRAUD_ADDRESS, "203.0.113.9", 1), "dl_ip");
	assert_string_equal(who(d, "in_a", BW_FRAUD_ADDRESS, "::ffff:203.0.113.9", 1), "dl_ip");
	assert_string_equal(who(d, "in_a", BW_FRAUD_ADDRESS, "203.0.113.10", 1), "");
	assert_string_equal(who(d, "in_a", BW_FRAUD_ADDRESS, "203.0.113.8", 1), "");
	assert_string_equal(who(d, "in_a", BW_FRAUD_ADDRESS, "2001:db8::9", 1), "dl_ip6");
	assert_string_equal(who(d, "in_a", BW_FRAUD_ADDRESS, "2001:DB8:0::9", 1), "dl_ip6");
	assert_string_equal(who(d, "in_a", BW_FRAUD_ADDRESS, "2001:db8::8", 1), "");
	/* An exact IPv6 entry does not hold its whole /64. */
	assert_string_equal(who(d, "in_a", BW_FRAUD_ADDRESS, "2001:db8::/64", 1), "");
	assert_string_equal(who(d, "in_a", BW_FRAUD_NUMBER, "+33612345678", 1), "dl_num");
	assert_string_equal(who(d, "in_a", BW_FRAUD_NUMBER, "+33612345679", 1), "");
	assert_string_equal(who(d, "in_a", BW_FRAUD_EMAIL, "mallory@example.com", 1), "dl_mail");
	assert_string_equal(who(d, "in_a", BW_FRAUD_EMAIL, "MALLORY@EXAMPLE.COM", 1), "dl_mail");
	assert_string_equal(who(d, "in_a", BW_FRAUD_EMAIL, "mallory@example.co", 1), "");
	/* Kinds do not mix, and values that are not of the kind match nothing. */
	assert_string_equal(who(d, "in_a", BW_FRAUD_EMAIL, "+33612345678", 1), "");
	assert_string_equal(who(d, "in_a", BW_FRAUD_ADDRESS, "not an address", 1), "");
	assert_false(bw_fraud_denied(d, "in_a", BW_FRAUD_KINDS, "203.0.113.9", 1, NULL, 0));
	assert_false(bw_fraud_denied(d, "in_a", BW_FRAUD_ADDRESS, NULL, 1, NULL, 0));
	/* match_id is optional, and truncated to its size. */
	assert_true(bw_fraud_denied(d, "in_a", BW_FRAUD_NUMBER, "+33612345678", 1, NULL, 0));
	char small[4];
	assert_true(bw_fraud_denied(d, "in_a", BW_FRAUD_NUMBER, "+33612345678", 1, small, 4));
	assert_string_equal(small, "dl_");
	bw_fraud_denylist_free(d);
	bw_fraud_denylist_free(NULL);
}

static void test_deny_ranges(void **state)
{
	(void)state;
	struct bw_fraud_denylist *d = bw_fraud_denylist_new();
	put(d, "in_a", "v4_24", BW_FRAUD_ADDRESS, "198.51.100.0/24", 0);
	put(d, "in_a", "v4_32", BW_FRAUD_ADDRESS, "198.51.100.7", 0);
	put(d, "in_a", "v6_64", BW_FRAUD_ADDRESS, "2001:db8:1:2::/64", 0);
	put(d, "in_a", "v6_48", BW_FRAUD_ADDRESS, "2001:db8:aa::/48", 0);
	const char *hits[][2] = {
	    {"198.51.100.0", "v4_24"},
	    {"198.51.100.255", "v4_24"},
	    {"198.51.100.7", "v4_32"}, /* the most specific entry */
	    {"::ffff:198.51.100.1", "v4_24"},
	    {"2001:db8:1:2::", "v6_64"},
	    {"2001:db8:1:2:ffff:ffff:ffff:ffff", "v6_64"},
	    {"2001:db8:aa::1", "v6_48"},
	    {"2001:db8:aa:ffff:ffff:ffff:ffff:ffff", "v6_48"},
	    {"2001:db8:1:2::/64", "v6_64"}, /* a window key */
	    {"2001:db8:aa:5::/64", "v6_48"},
	};
	for (size_t i = 0; i < sizeof(hits) / sizeof(hits[0]); i++)
		assert_string_equal(who(d, "in_a", BW_FRAUD_ADDRESS, hits[i][0], 1), hits[i][1]);
	const char *misses[] = {
	    "198.51.99.255",  "198.51.101.0",    "2001:db8:1:1:ffff:ffff:ffff:ffff",
	    "2001:db8:1:3::", "2001:db8:ab::",   "2001:db8:a9:ffff::1",
	    "2001:db8::/32",  "198.51.100.0/23", "::ffff:198.51.101.1"};
	for (size_t i = 0; i < sizeof(misses) / sizeof(misses[0]); i++)
		assert_string_equal(who(d, "in_a", BW_FRAUD_ADDRESS, misses[i], 1), "");

	/* /0 ranges hold every address of their family, and only those. */
	put(d, "in_b", "all4", BW_FRAUD_ADDRESS, "0.0.0.0/0", 0);
	assert_string_equal(who(d, "in_b", BW_FRAUD_ADDRESS, "255.255.255.255", 1), "all4");
	assert_string_equal(who(d, "in_b", BW_FRAUD_ADDRESS, "0.0.0.0", 1), "all4");
	assert_string_equal(who(d, "in_b", BW_FRAUD_ADDRESS, "::ffff:10.0.0.1", 1), "all4");
	assert_string_equal(who(d, "in_b", BW_FRAUD_ADDRESS, "2001:db8::1", 1), "");
	put(d, "in_b", "all6", BW_FRAUD_ADDRESS, "::/0", 0);
	assert_string_equal(who(d, "in_b", BW_FRAUD_ADDRESS, "2001:db8::1", 1), "all6");
	assert_string_equal(who(d, "in_b", BW_FRAUD_ADDRESS, "::", 1), "all6");
	assert_string_equal(who(d, "in_b", BW_FRAUD_ADDRESS, "2001:db8::/64", 1), "all6");
	bw_fraud_denylist_del(d, "in_b", "all4");
	assert_string_equal(who(d, "in_b", BW_FRAUD_ADDRESS, "10.0.0.1", 1), "");
	assert_string_equal(who(d, "in_b", BW_FRAUD_ADDRESS, "::ffff:10.0.0.1", 1), "");

	/* A deny value made from a window key lists the whole /64. */
	char key[256];
	assert_int_equal(bw_fraud_key(BW_FRAUD_ADDRESS, "2001:db8:9:9::1", key, sizeof(key)), 0);
	put(d, "in_c", "auto", BW_FRAUD_ADDRESS, key, 0);
	assert_string_equal(who(d, "in_c", BW_FRAUD_ADDRESS, "2001:db8:9:9:1:2:3:4", 1), "auto");
	assert_string_equal(who(d, "in_c", BW_FRAUD_ADDRESS, "2001:db8:9:8::1", 1), "");
	bw_fraud_denylist_free(d);
}

/* Several range lengths turn the summary on; deleting leaves stale bits
 * (extra probes, no wrong answers) until a sweep rebuilds it. */
static void test_deny_summary(void **state)
{
	(void)state;
	struct bw_fraud_denylist *d = bw_fraud_denylist_new();
	put(d, "in_s", "r16", BW_FRAUD_ADDRESS, "10.1.0.0/16", 0);
	put(d, "in_s", "r24", BW_FRAUD_ADDRESS, "10.2.3.0/24", 0);
	put(d, "in_s", "r28", BW_FRAUD_ADDRESS, "10.2.4.16/28", 0);
	put(d, "in_s", "r31", BW_FRAUD_ADDRESS, "192.0.2.2/31", 100);
	put(d, "in_s", "one", BW_FRAUD_ADDRESS, "10.2.4.1", 0);
	put(d, "in_s", "r8", BW_FRAUD_ADDRESS, "11.0.0.0/8", 0); /* under the summary */
	const char *cases[][2] = {
	    {"10.1.255.255", "r16"}, {"10.2.3.77", "r24"}, {"10.2.4.31", "r28"}, {"10.2.4.32", ""},
	    {"10.2.4.15", ""},       {"10.2.4.1", "one"},  {"10.2.5.1", ""},     {"10.3.0.0", ""},
	    {"192.0.2.3", "r31"},    {"192.0.2.4", ""},    {"11.9.9.9", "r8"},   {"12.0.0.0", ""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(who(d, "in_s", BW_FRAUD_ADDRESS, cases[i][0], 0), cases[i][1]);
	bw_fraud_denylist_del(d, "in_s", "r24");
	assert_string_equal(who(d, "in_s", BW_FRAUD_ADDRESS, "10.2.3.77", 0), "");
	assert_string_equal(who(d, "in_s", BW_FRAUD_ADDRESS, "10.2.4.31", 0), "r28");
	bw_fraud_denylist_sweep(d, 100); /* r31 expires; the summary is rebuilt */
	assert_string_equal(who(d, "in_s", BW_FRAUD_ADDRESS, "192.0.2.3", 0), "");
	assert_string_equal(who(d, "in_s", BW_FRAUD_ADDRESS, "10.2.4.31", 0), "r28");
	assert_string_equal(who(d, "in_s", BW_FRAUD_ADDRESS, "10.1.2.3", 0), "r16");
	/* Down to one summarized length, and back to several. */
	bw_fraud_denylist_del(d, "in_s", "r28");
	assert_string_equal(who(d, "in_s", BW_FRAUD_ADDRESS, "10.1.2.3", 0), "r16");
	put(d, "in_s", "r20", BW_FRAUD_ADDRESS, "10.4.16.0/20", 0);
	assert_string_equal(who(d, "in_s", BW_FRAUD_ADDRESS, "10.4.31.255", 0), "r20");
	assert_string_equal(who(d, "in_s", BW_FRAUD_ADDRESS, "10.1.2.3", 0), "r16");
	/* IPv6: /48, /56 and /64 entries, and a /64 key looked up as a range. */
	put(d, "in_s", "v48", BW_FRAUD_ADDRESS, "2001:db8:1::/48", 0);
	put(d, "in_s", "v56", BW_FRAUD_ADDRESS, "2001:db8:2:100::/56", 0);
	put(d, "in_s", "v64", BW_FRAUD_ADDRESS, "2001:db8:3:4::/64", 0);
	assert_string_equal(who(d, "in_s", BW_FRAUD_ADDRESS, "2001:db8:1:ffff::1", 0), "v48");
	assert_string_equal(who(d, "in_s", BW_FRAUD_ADDRESS, "2001:db8:2:1ff::1", 0), "v56");
	assert_string_equal(who(d, "in_s", BW_FRAUD_ADDRESS, "2001:db8:2:200::1", 0), "");
	assert_string_equal(who(d, "in_s", BW_FRAUD_ADDRESS, "2001:db8:3:4::/64", 0), "v64");
	assert_string_equal(who(d, "in_s", BW_FRAUD_ADDRESS, "2001:db8:3:5::/64", 0), "");
	assert_string_equal(who(d, "in_s", BW_FRAUD_ADDRESS, "2001:db8::/32", 0), "");
	bw_fraud_denylist_free(d);
}

static void test_deny_expiry(void **state)
{
	(void)state;
	struct bw_fraud_denylist *d = bw_fraud_denylist_new();
	put(d, "in_a", "temp", BW_FRAUD_ADDRESS, "203.0.113.0/24", 5000);
	put(d, "in_a", "mail", BW_FRAUD_EMAIL, "a@b.c", 5000);
	put(d, "in_a", "ever", BW_FRAUD_NUMBER, "+33612345678", 0);
	assert_string_equal(who(d, "in_a", BW_FRAUD_ADDRESS, "203.0.113.1", 4999), "temp");
	assert_string_equal(who(d, "in_a", BW_FRAUD_EMAIL, "a@b.c", 4999), "mail");
	/* It stops matching at expires_ms, before any sweep. */
	assert_string_equal(who(d, "in_a", BW_FRAUD_ADDRESS, "203.0.113.1", 5000), "");
	assert_string_equal(who(d, "in_a", BW_FRAUD_EMAIL, "a@b.c", 5000), "");
	assert_string_equal(who(d, "in_a", BW_FRAUD_NUMBER, "+33612345678", 1LL << 60), "ever");
	bw_fraud_denylist_sweep(d, 4999);
	assert_int_equal(bw_fraud_denylist_size(d), 3);
	bw_fraud_denylist_sweep(d, 5000);
	assert_int_equal(bw_fraud_denylist_size(d), 1);
	assert_string_equal(who(d, "in_a", BW_FRAUD_ADDRESS, "203.0.113.1", 0), "");
	assert_string_equal(who(d, "in_a", BW_FRAUD_NUMBER, "+33612345678", 0), "ever");
	/* An expired entry does not hide a live one with the same value. */
	put(d, "in_a", "old", BW_FRAUD_EMAIL, "x@y.z", 100);
	put(d, "in_a", "new", BW_FRAUD_EMAIL, "x@y.z", 0);
	assert_string_equal(who(d, "in_a", BW_FRAUD_EMAIL, "x@y.z", 50), "old");
	assert_string_equal(who(d, "in_a", BW_FRAUD_EMAIL, "x@y.z", 100), "new");
	bw_fraud_denylist_sweep(d, 100);
	assert_int_equal(bw_fraud_denylist_size(d), 2);
	assert_string_equal(who(d, "in_a", BW_FRAUD_EMAIL, "x@y.z", 0), "new");
	/* A swept-empty instance goes, and the list still works after it. */
	bw_fraud_denylist_del(d, "in_a", "new");
	bw_fraud_denylist_del(d, "in_a", "ever");
	assert_int_equal(bw_fraud_denylist_size(d), 0);
	put(d, "in_a", "back", BW_FRAUD_ADDRESS, "203.0.113.1", 10);
	bw_fraud_denylist_sweep(d, 10);
	assert_int_equal(bw_fraud_denylist_size(d), 0);
	put(d, "in_a", "back", BW_FRAUD_ADDRESS, "203.0.113.1", 0);
	assert_string_equal(who(d, "in_a", BW_FRAUD_ADDRESS, "203.0.113.1", 0), "back");
	bw_fraud_denylist_free(d);
}

static void test_deny_delete_replace(void **state)
{
	(void)state;
	struct bw_fraud_denylist *d = bw_fraud_denylist_new();
	put(d, "in_a", "dl_1", BW_FRAUD_ADDRESS, "203.0.113.0/24", 0);
	put(d, "in_a", "dl_2", BW_FRAUD_ADDRESS, "198.51.100.0/24", 0);
	bw_fraud_denylist_del(d, "in_a", "dl_unknown");
	bw_fraud_denylist_del(d, "in_unknown", "dl_1");
	assert_int_equal(bw_fraud_denylist_size(d), 2);
	bw_fraud_denylist_del(d, "in_a", "dl_1");
	assert_int_equal(bw_fraud_denylist_size(d), 1);
	assert_string_equal(who(d, "in_a", BW_FRAUD_ADDRESS, "203.0.113.1", 0), "");
	assert_string_equal(who(d, "in_a", BW_FRAUD_ADDRESS, "198.51.100.1", 0), "dl_2");
	/* Replacing by id: the old value stops matching, the new one matches. */
	put(d, "in_a", "dl_2", BW_FRAUD_ADDRESS, "192.0.2.0/25", 0);
	assert_int_equal(bw_fraud_denylist_size(d), 1);
	assert_string_equal(who(d, "in_a", BW_FRAUD_ADDRESS, "198.51.100.1", 0), "");
	assert_string_equal(who(d, "in_a", BW_FRAUD_ADDRESS, "192.0.2.127", 0), "dl_2");
	assert_string_equal(who(d, "in_a", BW_FRAUD_ADDRESS, "192.0.2.128", 0), "");
	/* ... even to another kind, or to new expiry only. */
	put(d, "in_a", "dl_2", BW_FRAUD_EMAIL, "eve@example.com", 0);
	assert_string_equal(who(d, "in_a", BW_FRAUD_ADDRESS, "192.0.2.1", 0), "");
	assert_string_equal(who(d, "in_a", BW_FRAUD_EMAIL, "eve@example.com", 0), "dl_2");
	put(d, "in_a", "dl_2", BW_FRAUD_EMAIL, "eve@example.com", 10);
	assert_string_equal(who(d, "in_a", BW_FRAUD_EMAIL, "eve@example.com", 10), "");
	assert_int_equal(bw_fraud_denylist_size(d), 1);
	/* Two ids with one value: deleting either leaves the other matching. */
	put(d, "in_a", "dup_1", BW_FRAUD_ADDRESS, "2001:db8::/48", 0);
	put(d, "in_a", "dup_2", BW_FRAUD_ADDRESS, "2001:DB8:0::/48", 0);
	put(d, "in_a", "dup_3", BW_FRAUD_ADDRESS, "2001:db8::/48", 0);
	bw_fraud_denylist_del(d, "in_a", "dup_2");
	assert_true(bw_fraud_denied(d, "in_a", BW_FRAUD_ADDRESS, "2001:db8::1", 0, NULL, 0));
	bw_fraud_denylist_del(d, "in_a", "dup_1");
	assert_string_equal(who(d, "in_a", BW_FRAUD_ADDRESS, "2001:db8::1", 0), "dup_3");
	bw_fraud_denylist_del(d, "in_a", "dup_3");
	assert_string_equal(who(d, "in_a", BW_FRAUD_ADDRESS, "2001:db8::1", 0), "");
	/* Bad entries are refused and change nothing. */
	struct bw_fraud_deny e = entry("in_a", "dl_x", BW_FRAUD_ADDRESS, "203.0.113.1/24", 0);
	assert_int_equal(bw_fraud_denylist_put(d, &e), BW_INVALID);
	e = entry("in_a", "", BW_FRAUD_ADDRESS, "203.0.113.1", 0);
	assert_int_equal(bw_fraud_denylist_put(d, &e), BW_INVALID);
	e = entry("", "dl_x", BW_FRAUD_ADDRESS, "203.0.113.1", 0);
	assert_int_equal(bw_fraud_denylist_put(d, &e), BW_INVALID);
	e = entry("in_a", "dl_x", BW_FRAUD_KINDS, "203.0.113.1", 0);
	assert_int_equal(bw_fraud_denylist_put(d, &e), BW_INVALID);
	e = entry("in_a", "dl_x", BW_FRAUD_ADDRESS, "203.0.113.1", 0);
	memset(e.id, 'i', sizeof(e.id)); /* no terminator */
	assert_int_equal(bw_fraud_denylist_put(d, &e), BW_INVALID);
	/* A bad replacement leaves the entry it would have replaced. */
	e = entry("in_a", "dl_2", BW_FRAUD_NUMBER, "12", 0);
	assert_int_equal(bw_fraud_denylist_put(d, &e), BW_INVALID);
	assert_string_equal(who(d, "in_a", BW_FRAUD_EMAIL, "eve@example.com", 0), "dl_2");
	assert_int_equal(bw_fraud_denylist_put(NULL, &e), BW_INVALID);
	assert_int_equal(bw_fraud_denylist_size(d), 1);
	bw_fraud_denylist_free(d);
}

static void test_deny_instances(void **state)
{
	(void)state;
	struct bw_fraud_denylist *d = bw_fraud_denylist_new();
	put(d, "in_a", "dl_1", BW_FRAUD_ADDRESS, "203.0.113.0/24", 0);
	put(d, "in_a", "dl_2", BW_FRAUD_EMAIL, "x@y.z", 0);
	put(d, "in_b", "dl_1", BW_FRAUD_ADDRESS, "198.51.100.7", 0); /* the same id elsewhere */
	assert_string_equal(who(d, "in_a", BW_FRAUD_ADDRESS, "203.0.113.1", 0), "dl_1");
	assert_string_equal(who(d, "in_b", BW_FRAUD_ADDRESS, "203.0.113.1", 0), "");
	assert_string_equal(who(d, "in_c", BW_FRAUD_ADDRESS, "203.0.113.1", 0), "");
	assert_string_equal(who(d, "in_b", BW_FRAUD_EMAIL, "x@y.z", 0), "");
	assert_string_equal(who(d, "in_a", BW_FRAUD_ADDRESS, "198.51.100.7", 0), "");
	assert_string_equal(who(d, "in_b", BW_FRAUD_ADDRESS, "198.51.100.7", 0), "dl_1");
	bw_fraud_denylist_del(d, "in_b", "dl_1");
	assert_string_equal(who(d, "in_a", BW_FRAUD_ADDRESS, "203.0.113.1", 0), "dl_1");
	assert_string_equal(who(d, "in_b", BW_FRAUD_ADDRESS, "198.51.100.7", 0), "");
	/* A prefix of an instance id is another instance. */
	assert_string_equal(who(d, "in_", BW_FRAUD_ADDRESS, "203.0.113.1", 0), "");
	assert_string_equal(who(d, "in_aa", BW_FRAUD_ADDRESS, "203.0.113.1", 0), "");
	bw_fraud_denylist_free(d);
}

/* ---- windows ---- */

static const struct bw_fraud_rule r5 = {BW_FRAUD_ADDRESS, 5, 10, 60};

static void count(struct bw_fraud_windows *w, const char *iid, const struct bw_fraud_rule *r,
                  const char *key, long long at)
{
	assert_int_equal(bw_fraud_count(w, iid, r, key, at), BW_OK);
}

static void test_windows_exact(void **state)
{
	(void)state;
	struct bw_fraud_windows *w = bw_fraud_windows_new();
	assert_non_null(w);
	const char *k = "203.0.113.9";
	long long t0 = 1700000000000LL;
	for (int i = 0; i < 5; i++) {
		assert_true(bw_fraud_would_pass(w, "in_a", &r5, k, t0 + i * 100));
		count(w, "in_a", &r5, k, t0 + i * 100);
	}
	/* The sixth is refused until the first leaves the 10 s window. */
	assert_false(bw_fraud_would_pass(w, "in_a", &r5, k, t0 + 400));
	assert_false(bw_fraud_would_pass(w, "in_a", &r5, k, t0 + 9999));
	assert_int_equal(bw_fraud_wait_ms(w, "in_a", &r5, k, t0 + 9999), 1);
	assert_int_equal(bw_fraud_wait_ms(w, "in_a", &r5, k, t0 + 400), 9600);
	assert_true(bw_fraud_would_pass(w, "in_a", &r5, k, t0 + 10000));
	assert_int_equal(bw_fraud_wait_ms(w, "in_a", &r5, k, t0 + 10000), 0);
	count(w, "in_a", &r5, k, t0 + 10000);
	/* Now the second (t0 + 100) is the oldest that counts. */
	assert_false(bw_fraud_would_pass(w, "in_a", &r5, k, t0 + 10099));
	assert_true(bw_fraud_would_pass(w, "in_a", &r5, k, t0 + 10100));
	/* A burst at one instant: limit 1. */
	const struct bw_fraud_rule r1 = {BW_FRAUD_EMAIL, 1, 1, 0};
	assert_true(bw_fraud_would_pass(w, "in_a", &r1, "a@b.c", 0));
	count(w, "in_a", &r1, "a@b.c", 0);
	assert_false(bw_fraud_would_pass(w, "in_a", &r1, "a@b.c", 0));
	assert_false(bw_fraud_would_pass(w, "in_a", &r1, "a@b.c", 999));
	assert_true(bw_fraud_would_pass(w, "in_a", &r1, "a@b.c", 1000));
	assert_int_equal(bw_fraud_windows_keys(w), 2);
	bw_fraud_windows_free(w);
	bw_fraud_windows_free(NULL);
}

static void test_windows_limits_change(void **state)
{
	(void)state;
	struct bw_fraud_windows *w = bw_fraud_windows_new();
	struct bw_fraud_rule r = {BW_FRAUD_NUMBER, 10, 100, 0};
	const char *k = "+33612345678";
	for (int i = 0; i < 10; i++)
		count(w, "in_a", &r, k, i * 1000); /* 0 s .. 9 s; the ring grew 2, 4, 8, 10 */
	assert_false(bw_fraud_would_pass(w, "in_a", &r, k, 99999));
	assert_true(bw_fraud_would_pass(w, "in_a", &r, k, 100000));
	/* Lowered to 3: the third newest (7 s) decides, before and after the
	 * ring shrinks on the next count. */
	r.limit = 3;
	assert_false(bw_fraud_would_pass(w, "in_a", &r, k, 106999));
	assert_true(bw_fraud_would_pass(w, "in_a", &r, k, 107000));
	count(w, "in_a", &r, k, 107000); /* keeps 8 s, 9 s, 107 s */
	assert_false(bw_fraud_would_pass(w, "in_a", &r, k, 107999));
	assert_true(bw_fraud_would_pass(w, "in_a", &r, k, 108000));
	count(w, "in_a", &r, k, 108000);
	count(w, "in_a", &r, k, 108500); /* 107, 108, 108.5 */
	assert_false(bw_fraud_would_pass(w, "in_a", &r, k, 206999));
	assert_true(bw_fraud_would_pass(w, "in_a", &r, k, 207000));
	/* Raised to 5: two more pass, then the third newest of five decides. */
	r.limit = 5;
	assert_true(bw_fraud_would_pass(w, "in_a", &r, k, 109000));
	count(w, "in_a", &r, k, 109000);
	count(w, "in_a", &r, k, 110000);
	assert_false(bw_fraud_would_pass(w, "in_a", &r, k, 110000));
	assert_false(bw_fraud_would_pass(w, "in_a", &r, k, 206999));
	assert_true(bw_fraud_would_pass(w, "in_a", &r, k, 207000));
	/* Lowered to 1 and raised to 10,000 in turn: memory stays sound (ASan). */
	for (int i = 0; i < 200; i++) {
		r.limit = i % 2 ? 1 : 10000;
		count(w, "in_a", &r, k, 200000 + i);
	}
	r.limit = 1;
	assert_false(bw_fraud_would_pass(w, "in_a", &r, k, 200199 + 99999));
	assert_true(bw_fraud_would_pass(w, "in_a", &r, k, 200199 + 100000));
	bw_fraud_windows_free(w);
}

static void test_windows_out_of_order(void **state)
{
	(void)state;
	struct bw_fraud_windows *w = bw_fraud_windows_new();
	/* History reloaded newest first is kept as if it came in order. */
	const long long times[] = {9000, 3000, 7000, 1000, 5000, 8000, 2000};
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++)
		count(w, "in_a", &r5, "k", times[i]);
	/* Newest five: 3, 5, 7, 8, 9 s; the oldest of them leaves at 13 s. */
	assert_false(bw_fraud_would_pass(w, "in_a", &r5, "k", 12999));
	assert_true(bw_fraud_would_pass(w, "in_a", &r5, "k", 13000));
	count(w, "in_a", &r5, "k", 500); /* older than all kept: changes nothing */
	assert_true(bw_fraud_would_pass(w, "in_a", &r5, "k", 13000));
	count(w, "in_a", &r5, "k", 13000);
	assert_false(bw_fraud_would_pass(w, "in_a", &r5, "k", 14999));
	assert_true(bw_fraud_would_pass(w, "in_a", &r5, "k", 15000));
	bw_fraud_windows_free(w);
}

static void test_windows_sweep(void **state)
{
	(void)state;
	struct bw_fraud_windows *w = bw_fraud_windows_new();
	char k[32];
	for (int i = 0; i < 1000; i++) {
		snprintf(k, sizeof(k), "10.0.%d.%d", i / 256, i % 256);
		count(w, "in_a", &r5, k, i < 500 ? 1000 : 2000);
	}
	assert_int_equal(bw_fraud_windows_keys(w), 1000);
	bw_fraud_windows_sweep(w, 60999, 60); /* newest at 1 s: not yet 60 s old */
	assert_int_equal(bw_fraud_windows_keys(w), 1000);
	bw_fraud_windows_sweep(w, 61000, 60);
	assert_int_equal(bw_fraud_windows_keys(w), 500);
	assert_true(bw_fraud_would_pass(w, "in_a", &r5, "10.0.0.1", 61000));
	/* The others still count. */
	for (int i = 0; i < 4; i++)
		count(w, "in_a", &r5, "10.0.3.231", 3000 + i);
	assert_false(bw_fraud_would_pass(w, "in_a", &r5, "10.0.3.231", 11999));
	bw_fraud_windows_sweep(w, 1LL << 50, 86400);
	assert_int_equal(bw_fraud_windows_keys(w), 0);
	assert_true(bw_fraud_would_pass(w, "in_a", &r5, "10.0.3.231", 11999));
	bw_fraud_windows_sweep(NULL, 0, 0);
	bw_fraud_windows_free(w);
}

static void test_windows_isolation(void **state)
{
	(void)state;
	struct bw_fraud_windows *w = bw_fraud_windows_new();
	const struct bw_fraud_rule a1 = {BW_FRAUD_ADDRESS, 1, 60, 0};
	const struct bw_fraud_rule e1 = {BW_FRAUD_EMAIL, 1, 60, 0};
	count(w, "in_a", &a1, "x", 0);
	assert_false(bw_fraud_would_pass(w, "in_a", &a1, "x", 1));
	assert_true(bw_fraud_would_pass(w, "in_b", &a1, "x", 1));
	assert_true(bw_fraud_would_pass(w, "in_a", &e1, "x", 1));
	assert_true(bw_fraud_would_pass(w, "in_a", &a1, "y", 1));
	assert_true(bw_fraud_would_pass(w, "in_", &a1, "ax", 1)); /* no run-together keys */
	assert_true(bw_fraud_would_pass(w, "", &a1, "x", 1));
	count(w, "", &a1, "x", 0); /* the public throttle's instance is "" */
	assert_false(bw_fraud_would_pass(w, "", &a1, "x", 1));
	assert_false(bw_fraud_would_pass(w, "in_a", &a1, "x", 1));
	assert_int_equal(bw_fraud_windows_keys(w), 2);
	bw_fraud_windows_free(w);
}

static void test_windows_bad_input(void **state)
{
	(void)state;
	struct bw_fraud_windows *w = bw_fraud_windows_new();
	const struct bw_fraud_rule bad[] = {
	    {BW_FRAUD_ADDRESS, 0, 10, 0}, {BW_FRAUD_ADDRESS, 1000001, 10, 0},
	    {BW_FRAUD_ADDRESS, 5, 0, 0},  {BW_FRAUD_ADDRESS, 5, 86401, 0},
	    {BW_FRAUD_KINDS, 5, 10, 0},   {(enum bw_fraud_kind) - 1, 5, 10, 0},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(bw_fraud_count(w, "in_a", &bad[i], "k", 0), BW_INVALID);
		assert_false(bw_fraud_would_pass(w, "in_a", &bad[i], "k", 0));
		assert_int_equal(bw_fraud_wait_ms(w, "in_a", &bad[i], "k", 0), -1);
	}
	char longkey[300];
	memset(longkey, 'k', sizeof(longkey));
	longkey[256] = '\0';
	assert_int_equal(bw_fraud_count(w, "in_a", &r5, longkey, 0), BW_INVALID);
	assert_false(bw_fraud_would_pass(w, "in_a", &r5, longkey, 0));
	longkey[255] = '\0'; /* 255 bytes: fine */
	count(w, "in_a", &r5, longkey, 0);
	assert_int_equal(bw_fraud_count(w, "in_a", &r5, "", 0), BW_INVALID);
	assert_int_equal(bw_fraud_count(w, "in_a", NULL, "k", 0), BW_INVALID);
	assert_int_equal(bw_fraud_count(w, NULL, &r5, "k", 0), BW_INVALID);
	assert_int_equal(bw_fraud_count(NULL, "in_a", &r5, "k", 0), BW_INVALID);
	char longiid[60];
	memset(longiid, 'i', sizeof(longiid));
	longiid[48] = '\0';
	assert_int_equal(bw_fraud_count(w, longiid, &r5, "k", 0), BW_INVALID);
	longiid[47] = '\0';
	count(w, longiid, &r5, "k", 0);
	assert_int_equal(bw_fraud_windows_keys(w), 2);
	/* The public throttle's bound: a million a window, grown as used. */
	const struct bw_fraud_rule huge = {BW_FRAUD_ADDRESS, 1000000, 3600, 0};
	for (int i = 0; i < 1000; i++)
		count(w, "", &huge, "203.0.113.9", i);
	assert_true(bw_fraud_would_pass(w, "", &huge, "203.0.113.9", 1000));
	assert_true(bw_fraud_windows_bytes(w) < 64 * 1024);
	/* Times near the ends of the range neither overflow nor pass wrongly. */
	const struct bw_fraud_rule big = {BW_FRAUD_ADDRESS, 1, 86400, 0};
	count(w, "in_a", &big, "edge", -(1LL << 62));
	assert_false(bw_fraud_would_pass(w, "in_a", &big, "edge", -(1LL << 62)));
	assert_true(bw_fraud_would_pass(w, "in_a", &big, "edge", 1LL << 62));
	bw_fraud_windows_free(w);
}

static void test_windows_memory(void **state)
{
	(void)state;
	struct bw_fraud_windows *w = bw_fraud_windows_new();
	/* A high limit costs nothing up front, and a steady flow under a
	 * short window holds only the window's times. */
	const struct bw_fraud_rule r = {BW_FRAUD_ADDRESS, 10000, 1, 0};
	size_t empty = bw_fraud_windows_bytes(w);
	for (int i = 0; i < 100000; i++)
		count(w, "in_a", &r, "busy", i * 100LL); /* 10 a window */
	size_t steady = bw_fraud_windows_bytes(w) - empty;
	assert_true(steady < 16 * 1024); /* the slots and one ring of at most 32 times */
	assert_true(bw_fraud_would_pass(w, "in_a", &r, "busy", 9999999));
	/* A burst grows the ring; once the window has passed it shrinks. */
	for (int i = 0; i < 5000; i++)
		count(w, "in_a", &r, "busy", 20000000);
	assert_true(bw_fraud_windows_bytes(w) - empty > 5000 * 8);
	for (int i = 1; i <= 3; i++)
		count(w, "in_a", &r, "busy", 20000000 + i * 1000LL);
	assert_true(bw_fraud_windows_bytes(w) - empty < 16 * 1024);
	/* A reloaded time older than the window of the newest is dropped. */
	count(w, "in_a", &r, "busy", 1);
	const struct bw_fraud_rule r2 = {BW_FRAUD_ADDRESS, 2, 1, 0};
	assert_true(bw_fraud_would_pass(w, "in_a", &r2, "busy", 20003000));
	bw_fraud_windows_sweep(w, 1LL << 40, 86400);
	assert_int_equal(bw_fraud_windows_keys(w), 0);
	assert_true(bw_fraud_windows_bytes(w) <= 16 * sizeof(struct bw_fraud__slot));
	bw_fraud_windows_free(w);
}

/* ---- the map's shape under churn ---- */

struct item {
	char key[16];
	size_t len;
};

static const void *item_key(const void *v, size_t *len)
{
	const struct item *it = v;
	*len = it->len;
	return it->key;
}

static void test_map_churn(void **state)
{
	(void)state;
	static struct item items[4096];
	uint64_t seed[2] = {1, 2};
	struct bw_fraud__map m;
	bw_fraud__map_init(&m, seed, item_key);
	size_t maxcap = 0;
	/* Keys come and go, never more than 64 at once, 200,000 in all. */
	for (int i = 0; i < 200000; i++) {
		struct item *it = &items[i % 4096];
		if (i >= 64) {
			struct item *old = &items[(i - 64) % 4096];
			uint64_t h = bw_fraud__map_hash(&m, old->key, old->len);
			assert_ptr_equal(bw_fraud__map_del(&m, old->key, old->len, h), old);
			assert_null(bw_fraud__map_get(&m, old->key, old->len, h));
		}
		it->len = (size_t)snprintf(it->key, sizeof(it->key), "k%d", i);
		assert_int_equal(bw_fraud__map_reserve(&m, 1), BW_OK);
		bw_fraud__map_set(&m, it, bw_fraud__map_hash(&m, it->key, it->len));
		assert_true(m.used * 4 < m.cap * 3 + 4);
		if (m.cap > maxcap)
			maxcap = m.cap;
	}
	assert_int_equal(m.n, 64);
	assert_true(maxcap <= 256);
	for (int i = 200000 - 64; i < 200000; i++) {
		struct item *it = &items[i % 4096];
		assert_ptr_equal(bw_fraud__map_get(&m, it->key, it->len,
		                                   bw_fraud__map_hash(&m, it->key, it->len)),
		                 it);
	}
	bw_fraud__map_tidy(&m);
	assert_true((m.used - m.n) * 4 <= m.cap);
	bw_fraud__map_free(&m);
}

/* ---- randomized, against naive references ---- */

/* Every counted time of one (instance, kind, key). */
struct ref_times {
	long long *t;
	size_t n;
};

static void test_windows_random(void **state)
{
	(void)state;
	rng_state = 0x5eed0001;
	struct bw_fraud_windows *w = bw_fraud_windows_new();
	enum { N = 40000, INSTS = 2, KEYS = 4 };
	struct ref_times ref[INSTS][BW_FRAUD_KINDS][KEYS];
	memset(ref, 0, sizeof(ref));
	struct bw_fraud_rule rules[BW_FRAUD_KINDS] = {
	    {BW_FRAUD_ADDRESS, 4, 7, 0}, {BW_FRAUD_NUMBER, 1, 3, 0}, {BW_FRAUD_EMAIL, 9, 20, 0}};
	long long now = 1000000;
	int maxw = 20, refused = 0, past = 0;
	for (int step = 0; step < N; step++) {
		now += below(100);
		if (step % 5000 == 0)
			now += 30000; /* a quiet spell: sweeps drop every key */
		int inst = (int)below(INSTS), kind = (int)below(BW_FRAUD_KINDS),
		    key = (int)below(KEYS);
		char iid[16], k[16];
		snprintf(iid, sizeof(iid), "in_%d", inst);
		snprintf(k, sizeof(k), "key%d", key);
		const struct bw_fraud_rule *r = &rules[kind];
		struct ref_times *rt = &ref[inst][kind][key];
		long long cut = now - (long long)r->window_s * 1000;
		int inwin = 0;
		for (size_t i = 0; i < rt->n; i++)
			inwin += rt->t[i] > cut;
		bool want = inwin < r->limit;
		if (bw_fraud_would_pass(w, iid, r, k, now) != want)
			fail_msg("step %d: would_pass %d, reference %d", step, !want, want);
		long long wait = bw_fraud_wait_ms(w, iid, r, k, now);
		assert_true(want ? wait == 0 : wait > 0 && wait <= r->window_s * 1000LL);
		if (!want) {
			refused++;
			assert_true(bw_fraud_would_pass(w, iid, r, k, now + wait));
			continue;
		}
		/* Mostly now, sometimes a time from the past (a reload). */
		long long at = now;
		if (below(8) == 0) {
			at = now - below((uint32_t)r->window_s * 2000);
			past++;
		}
		assert_int_equal(bw_fraud_count(w, iid, r, k, at), BW_OK);
		long long *nt = realloc(rt->t, (rt->n + 1) * sizeof(*nt));
		assert_non_null(nt);
		rt->t = nt;
		rt->t[rt->n++] = at;
		if (below(300) == 0)
			bw_fraud_windows_sweep(w, now, maxw);
		/* Limits only go down here: the ring then holds every time that can
		 * count, so the reference stays exact. */
		if (step == N / 2)
			rules[BW_FRAUD_EMAIL].limit = 5;
	}
	print_message("windows: %d refused, %d counted in the past\n", refused, past);
	assert_true(refused > N / 10 && refused < N - N / 10);
	assert_true(past > N / 20);
	bw_fraud_windows_sweep(w, now + maxw * 1000, maxw);
	assert_int_equal(bw_fraud_windows_keys(w), 0);
	for (int i = 0; i < INSTS; i++)
		for (int k = 0; k < BW_FRAUD_KINDS; k++)
			for (int j = 0; j < KEYS; j++)
				free(ref[i][k][j].t);
	bw_fraud_windows_free(w);
}

struct ref_deny {
	char id[16];
	int inst, family, plen;
	uint8_t a[16];
	long long expires;
	bool alive;
};

static bool ref_match(const struct ref_deny *e, int family, const uint8_t *a)
{
	if (!e->alive || e->family != family)
		return false;
	uint8_t m[16];
	memcpy(m, a, 16);
	bw_fraud__mask(m, family, e->plen);
	return !memcmp(m, e->a, family == 4 ? 4 : 16);
}

/* A network in a small space, so that lookups hit now and then: mostly
 * single addresses, some short ranges, rarely a /16, /48 or /0. */
static void random_net(int family, uint8_t *a, int *plen)
{
	uint32_t p = below(1000);
	memset(a, 0, 16);
	if (family == 4) {
		a[0] = 10;
		a[2] = (uint8_t)below(16);
		a[3] = (uint8_t)below(256);
		*plen = p < 600 ? 32 : p < 800 ? 28 : p < 990 ? 24 : p < 999 ? 16 : 0;
	} else {
		a[0] = 0x20;
		a[1] = 0x01;
		a[5] = (uint8_t)below(16);
		a[7] = (uint8_t)below(16);
		a[15] = (uint8_t)below(8);
		*plen = p < 500 ? 128 : p < 800 ? 64 : p < 990 ? 56 : p < 999 ? 48 : 0;
	}
	bw_fraud__mask(a, family, *plen);
}

static void test_denylist_random(void **state)
{
	(void)state;
	rng_state = 0x5eed0002;
	struct bw_fraud_denylist *d = bw_fraud_denylist_new();
	enum { N = 1000, INSTS = 2 };
	struct ref_deny *ref = calloc(N, sizeof(*ref));
	assert_non_null(ref);
	int hits = 0, probes = 0;
	long long now = 0;
	for (int step = 0; step < 60000; step++) {
		now += below(3);
		uint32_t op = below(10);
		if (op < 2) { /* put a new entry, or replace one */
			struct ref_deny *e = &ref[below(N)];
			snprintf(e->id, sizeof(e->id), "dl_%d", (int)(e - ref));
			e->inst = (int)(e - ref) % INSTS; /* an id stays in its instance */
			e->family = below(3) ? 4 : 6;
			random_net(e->family, e->a, &e->plen);
			e->expires = below(2) ? 0 : now + below(400);
			e->alive = true;
			char t[64];
			struct bw_fraud__net n = {.family = (uint8_t)e->family,
			                          .plen = (uint8_t)e->plen};
			memcpy(n.a, e->a, 16);
			assert_int_equal(bw_fraud__format_net(&n, t, sizeof(t)), 0);
			char iid[16];
			snprintf(iid, sizeof(iid), "in_%d", e->inst);
			put(d, iid, e->id, BW_FRAUD_ADDRESS, t, e->expires);
		} else if (op < 3) { /* delete */
			struct ref_deny *e = &ref[below(N)];
			if (!e->alive)
				continue;
			char iid[16];
			snprintf(iid, sizeof(iid), "in_%d", e->inst);
			bw_fraud_denylist_del(d, iid, e->id);
			e->alive = false;
		} else if (op < 4 && below(20) == 0) {
			bw_fraud_denylist_sweep(d, now);
			for (int i = 0; i < N; i++)
				if (ref[i].alive && ref[i].expires && ref[i].expires <= now)
					ref[i].alive = false;
		} else { /* look up an address */
			int family = below(3) ? 4 : 6, inst = (int)below(INSTS), plen;
			uint8_t a[16];
			random_net(family, a, &plen);
			if (family == 4)
				a[3] = (uint8_t)below(256);
			else
				a[15] = (uint8_t)below(8);
			bool want = false;
			for (int i = 0; i < N && !want; i++)
				want = ref[i].inst == inst && ref_match(&ref[i], family, a) &&
				       (!ref[i].expires || now < ref[i].expires);
			char text[64], iid[16], id[48] = "";
			inet_ntop(family == 4 ? AF_INET : AF_INET6, a, text, sizeof(text));
			snprintf(iid, sizeof(iid), "in_%d", inst);
			bool got =
			    bw_fraud_denied(d, iid, BW_FRAUD_ADDRESS, text, now, id, sizeof(id));
			probes++;
			if (got != want)
				fail_msg("step %d: %s in %s: denied %d, reference %d", step, text,
				         iid, got, want);
			if (got) {
				hits++;
				int i = (int)strtol(id + 3, NULL, 10);
				assert_true(i >= 0 && i < N && ref[i].inst == inst &&
				            ref_match(&ref[i], family, a));
			}
		}
	}
	print_message("deny list: %d of %d lookups matched\n", hits, probes);
	assert_true(hits > probes / 10 && hits < probes - probes / 10);
	size_t alive = 0;
	bw_fraud_denylist_sweep(d, now);
	for (int i = 0; i < N; i++)
		alive += ref[i].alive && (!ref[i].expires || now < ref[i].expires);
	assert_int_equal(bw_fraud_denylist_size(d), alive);
	free(ref);
	bw_fraud_denylist_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kinds),
	    cmocka_unit_test(test_address_keys),
	    cmocka_unit_test(test_number_and_email_keys),
	    cmocka_unit_test(test_deny_values),
	    cmocka_unit_test(test_deny_exact),
	    cmocka_unit_test(test_deny_ranges),
	    cmocka_unit_test(test_deny_summary),
	    cmocka_unit_test(test_deny_expiry),
	    cmocka_unit_test(test_deny_delete_replace),
	    cmocka_unit_test(test_deny_instances),
	    cmocka_unit_test(test_windows_exact),
	    cmocka_unit_test(test_windows_limits_change),
	    cmocka_unit_test(test_windows_out_of_order),
	    cmocka_unit_test(test_windows_sweep),
	    cmocka_unit_test(test_windows_isolation),
	    cmocka_unit_test(test_windows_bad_input),
	    cmocka_unit_test(test_windows_memory),
	    cmocka_unit_test(test_map_churn),
	    cmocka_unit_test(test_windows_random),
	    cmocka_unit_test(test_denylist_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
