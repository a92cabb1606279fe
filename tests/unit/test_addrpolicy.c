/* The egress address policy (src/integ/addrpolicy.c): every special range
 * of IPv4 and IPv6 at its edges, the IPv6 forms that carry an IPv4 address
 * (mapped, translated, NAT64, 6to4), CIDR parsing, and what an integration's
 * allowed_address_ranges open. No packet is sent: the classifier is pure. */
#include "test_common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>

#include "integ/addrpolicy.h"

struct cls_case {
	const char *addr;
	enum bw_addr_class cls;
	bool embedded;
};

static const struct cls_case cases[] = {
    /* IPv4 */
    {"8.8.8.8", BW_ADDR_PUBLIC, false},
    {"1.1.1.1", BW_ADDR_PUBLIC, false},
    {"0.0.0.0", BW_ADDR_UNSPECIFIED, false},
    {"0.255.255.255", BW_ADDR_UNSPECIFIED, false},
    {"1.0.0.0", BW_ADDR_PUBLIC, false},
    {"126.255.255.255", BW_ADDR_PUBLIC, false},
    {"127.0.0.0", BW_ADDR_LOOPBACK, false},
    {"127.0.0.1", BW_ADDR_LOOPBACK, false},
    {"127.0.0.2", BW_ADDR_LOOPBACK, false},
    {"127.255.255.255", BW_ADDR_LOOPBACK, false},
    {"128.0.0.0", BW_ADDR_PUBLIC, false},
    {"9.255.255.255", BW_ADDR_PUBLIC, false},
    {"10.0.0.0", BW_ADDR_PRIVATE, false},
    {"10.255.255.255", BW_ADDR_PRIVATE, false},
    {"11.0.0.0", BW_ADDR_PUBLIC, false},
    {"172.15.255.255", BW_ADDR_PUBLIC, false},
    {"172.16.0.0", BW_ADDR_PRIVATE, false},
    {"172.31.255.255", BW_ADDR_PRIVATE, false},
    {"172.32.0.0", BW_ADDR_PUBLIC, false},
    {"192.167.255.255", BW_ADDR_PUBLIC, false},
    {"192.168.0.1", BW_ADDR_PRIVATE, false},
    {"192.168.255.255", BW_ADDR_PRIVATE, false},
    {"192.169.0.0", BW_ADDR_PUBLIC, false},
    {"100.63.255.255", BW_ADDR_PUBLIC, false},
    {"100.64.0.0", BW_ADDR_CGNAT, false},
    {"100.127.255.255", BW_ADDR_CGNAT, false},
    {"100.128.0.0", BW_ADDR_PUBLIC, false},
    {"100.100.100.200", BW_ADDR_METADATA, false},
    {"100.100.100.201", BW_ADDR_CGNAT, false},
    {"169.253.255.255", BW_ADDR_PUBLIC, false},
    {"169.254.0.0", BW_ADDR_LINK_LOCAL, false},
    {"169.254.169.254", BW_ADDR_METADATA, false},
    {"169.254.169.253", BW_ADDR_LINK_LOCAL, false},
    {"169.254.170.2", BW_ADDR_METADATA, false},
    {"169.254.170.23", BW_ADDR_METADATA, false},
    {"169.254.255.255", BW_ADDR_LINK_LOCAL, false},
    {"169.255.0.0", BW_ADDR_PUBLIC, false},
    {"168.63.129.16", BW_ADDR_METADATA, false},
    {"168.63.129.17", BW_ADDR_PUBLIC, false},
    {"192.0.0.1", BW_ADDR_RESERVED, false},
    {"192.0.0.192", BW_ADDR_METADATA, false},
    {"192.0.1.0", BW_ADDR_PUBLIC, false},
    {"192.0.2.0", BW_ADDR_DOCUMENTATION, false},
    {"192.0.2.255", BW_ADDR_DOCUMENTATION, false},
    {"198.51.100.7", BW_ADDR_DOCUMENTATION, false},
    {"203.0.113.255", BW_ADDR_DOCUMENTATION, false},
    {"203.0.114.0", BW_ADDR_PUBLIC, false},
    {"198.17.255.255", BW_ADDR_PUBLIC, false},
    {"198.18.0.0", BW_ADDR_BENCHMARK, false},
    {"198.19.255.255", BW_ADDR_BENCHMARK, false},
    {"198.20.0.0", BW_ADDR_PUBLIC, false},
    {"192.88.99.1", BW_ADDR_RESERVED, false},
    {"223.255.255.255", BW_ADDR_PUBLIC, false},
    {"224.0.0.0", BW_ADDR_MULTICAST, false},
    {"239.255.255.250", BW_ADDR_MULTICAST, false},
    {"240.0.0.0", BW_ADDR_RESERVED, false},
    {"255.255.255.254", BW_ADDR_RESERVED, false},
    {"255.255.255.255", BW_ADDR_BROADCAST, false},
    /* IPv6 */
    {"2606:4700:4700::1111", BW_ADDR_PUBLIC, false},
    {"2a00:1450:4001::1", BW_ADDR_PUBLIC, false},
    {"::", BW_ADDR_UNSPECIFIED, false},
    {"::1", BW_ADDR_LOOPBACK, false},
    {"::2", BW_ADDR_RESERVED, false},
    {"::127.0.0.1", BW_ADDR_RESERVED, false}, /* IPv4-compatible, deprecated */
    {"fc00::", BW_ADDR_PRIVATE, false},
    {"fd12:3456::1", BW_ADDR_PRIVATE, false},
    {"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", BW_ADDR_PRIVATE, false},
    {"fd00:ec2::254", BW_ADDR_METADATA, false},
    {"fd00:ec2::23", BW_ADDR_METADATA, false},
    {"fd00:ec2::255", BW_ADDR_PRIVATE, false},
    {"fe80::1", BW_ADDR_LINK_LOCAL, false},
    {"febf:ffff::1", BW_ADDR_LINK_LOCAL, false},
    {"fec0::1", BW_ADDR_PRIVATE, false},
    {"ff02::1", BW_ADDR_MULTICAST, false},
    {"ff05::1:3", BW_ADDR_MULTICAST, false},
    {"2001:db8::1", BW_ADDR_DOCUMENTATION, false},
    {"2001:db9::1", BW_ADDR_PUBLIC, false},
    {"3fff::1", BW_ADDR_DOCUMENTATION, false},
    {"3fff:0fff::1", BW_ADDR_DOCUMENTATION, false},
    {"3fff:1000::1", BW_ADDR_PUBLIC, false},
    {"2001:2::1", BW_ADDR_BENCHMARK, false},
    {"2001:2:1::1", BW_ADDR_PUBLIC, false},
    {"2001::1", BW_ADDR_RESERVED, false},    /* Teredo */
    {"2001:10::1", BW_ADDR_RESERVED, false}, /* ORCHID */
    {"2001:20::1", BW_ADDR_RESERVED, false}, /* ORCHIDv2 */
    {"100::1", BW_ADDR_RESERVED, false},
    {"64:ff9b:1::a00:1", BW_ADDR_PRIVATE, false},
    {"4000::1", BW_ADDR_RESERVED, false}, /* outside 2000::/3 */
    {"1fff:ffff::1", BW_ADDR_RESERVED, false},
    /* IPv6 forms of IPv4 addresses take the IPv4 class */
    {"::ffff:127.0.0.1", BW_ADDR_LOOPBACK, true},
    {"::ffff:10.1.2.3", BW_ADDR_PRIVATE, true},
    {"::ffff:169.254.169.254", BW_ADDR_METADATA, true},
    {"::ffff:100.64.0.1", BW_ADDR_CGNAT, true},
    {"::ffff:0.0.0.0", BW_ADDR_UNSPECIFIED, true},
    {"::ffff:255.255.255.255", BW_ADDR_BROADCAST, true},
    {"::ffff:198.18.0.1", BW_ADDR_BENCHMARK, true},
    {"::ffff:8.8.8.8", BW_ADDR_PUBLIC, true},
    {"::ffff:0:127.0.0.1", BW_ADDR_LOOPBACK, true}, /* SIIT translated */
    {"::ffff:0:192.168.1.1", BW_ADDR_PRIVATE, true},
    {"64:ff9b::127.0.0.1", BW_ADDR_LOOPBACK, true}, /* NAT64 well-known prefix */
    {"64:ff9b::a9fe:a9fe", BW_ADDR_METADATA, true},
    {"64:ff9b::224.0.0.1", BW_ADDR_MULTICAST, true},
    {"64:ff9b::808:808", BW_ADDR_PUBLIC, true},
    {"2002:7f00:1::1", BW_ADDR_LOOPBACK, true}, /* 6to4 of 127.0.0.1 */
    {"2002:a9fe:a9fe::", BW_ADDR_METADATA, true},
    {"2002:c0a8:0101::1", BW_ADDR_PRIVATE, true},
    {"2002:808:808::1", BW_ADDR_PUBLIC, true},
};

static struct bw_ip ip_of(const char *s)
{
	struct bw_ip ip;
	if (!bw_ip_parse(s, &ip))
		fail_msg("%s does not parse", s);
	return ip;
}

static void test_classes(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bw_ip ip = ip_of(cases[i].addr), inner;
		bool embedded = !cases[i].embedded;
		enum bw_addr_class c = bw_addr_classify(&ip, &embedded, &inner);
		if (c != cases[i].cls || embedded != cases[i].embedded)
			fail_msg("%s: class %s%s, expected %s%s", cases[i].addr,
			         bw_addr_class_name(c), embedded ? " (embedded)" : "",
			         bw_addr_class_name(cases[i].cls),
			         cases[i].embedded ? " (embedded)" : "");
		/* With no range listed, only public addresses pass. */
		struct bw_addr_verdict v;
		bw_addr_check(&ip, NULL, 0, &v);
		assert_int_equal(v.cls, c);
		assert_false(v.listed);
		if (v.allowed != (c == BW_ADDR_PUBLIC))
			fail_msg("%s: allowed %d", cases[i].addr, v.allowed);
	}
}

static void test_class_names(void **state)
{
	(void)state;
	for (int c = 0; c < BW_ADDR_CLASSES; c++) {
		const char *n = bw_addr_class_name((enum bw_addr_class)c);
		assert_non_null(n);
		assert_true(n[0] != '\0');
	}
	assert_string_equal(bw_addr_class_name(BW_ADDR_METADATA), "cloud metadata");
	assert_string_equal(bw_addr_class_name(BW_ADDR_LOOPBACK), "loopback");
	assert_string_equal(bw_addr_class_name(BW_ADDR_CLASSES), "reserved");
}

static struct bw_cidr cidr_of(const char *s)
{
	struct bw_cidr c;
	const char *why = bw_addr_range_parse(s, &c);
	if (why)
		fail_msg("%s: %s", s, why);
	return c;
}

static void test_cidr_parse(void **state)
{
	(void)state;
	static const struct {
		const char *in, *canonical;
	} ok[] = {
	    {"10.0.0.0/8", "10.0.0.0/8"},
	    {"127.0.0.1/32", "127.0.0.1/32"},
	    {"127.0.0.1", "127.0.0.1/32"},
	    {"0.0.0.0/0", "0.0.0.0/0"},
	    {"192.168.4.0/22", "192.168.4.0/22"},
	    {"::1", "::1/128"},
	    {"fd00::/8", "fd00::/8"},
	    {"2001:0DB8:0000::/48", "2001:db8::/48"},
	    {"::ffff:127.0.0.1/128", "::ffff:127.0.0.1/128"},
	    {"::/0", "::/0"},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct bw_cidr c = cidr_of(ok[i].in);
		char out[80];
		bw_addr_range_format(&c, out, sizeof(out));
		assert_string_equal(out, ok[i].canonical);
	}
	static const char *const bad[] = {
	    "",
	    "/8",
	    "10.0.0.0/",
	    "10.0.0.0/33",
	    "10.0.0.1/8",
	    "10.0.0.0/08",
	    "10.0.0.0/+8",
	    "10.0.0.0/8 ",
	    " 10.0.0.0/8",
	    "10.0.0/8",
	    "10.0.0.0.0/8",
	    "0x7f.0.0.1",
	    "2130706433",
	    "127.1",
	    "fe80::1%eth0",
	    "fd00::/129",
	    "fd00::1/8",
	    "[::1]",
	    "10.0.0.0/8/8",
	    "localhost",
	    "10.0.0.0/1000",
	    "10.0.0.0/-1",
	    "1111111111111111111111111111111111111111111111111111111111111111111/8",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct bw_cidr c;
		if (!bw_addr_range_parse(bad[i], &c))
			fail_msg("\"%s\" was accepted", bad[i]);
	}
	struct bw_cidr c;
	assert_string_equal(bw_addr_range_parse("10.0.0.1/8", &c),
	                    "has host bits set past its prefix length");
}

static bool allowed(const char *addr, const char *const *ranges, size_t n, bool *listed)
{
	struct bw_cidr r[8];
	for (size_t i = 0; i < n; i++)
		r[i] = cidr_of(ranges[i]);
	struct bw_ip ip = ip_of(addr);
	struct bw_addr_verdict v;
	bw_addr_check(&ip, r, n, &v);
	if (listed)
		*listed = v.listed;
	return v.allowed;
}

static void test_ranges_open(void **state)
{
	(void)state;
	const char *one[] = {"127.0.0.1/32"};
	bool listed;
	/* The black-box test's case: 127.0.0.1 listed, 127.0.0.2 not. */
	assert_true(allowed("127.0.0.1", one, 1, &listed));
	assert_true(listed);
	assert_false(allowed("127.0.0.2", one, 1, &listed));
	assert_false(listed);
	assert_false(allowed("::1", one, 1, NULL));
	/* The IPv6 forms of a listed IPv4 address are that address. */
	assert_true(allowed("::ffff:127.0.0.1", one, 1, NULL));
	assert_true(allowed("64:ff9b::7f00:1", one, 1, NULL));
	assert_true(allowed("2002:7f00:1::", one, 1, NULL));
	assert_false(allowed("::ffff:127.0.0.2", one, 1, NULL));
	/* And a mapped range lists the IPv4 address. */
	const char *mapped[] = {"::ffff:10.0.0.0/104"};
	assert_true(allowed("10.9.8.7", mapped, 1, NULL));
	assert_true(allowed("::ffff:10.9.8.7", mapped, 1, NULL));
	assert_false(allowed("10.9.8.7", one, 1, NULL));
	assert_false(allowed("::ffff:192.168.0.1", mapped, 1, NULL));
	/* A range opens its own class and nothing else. */
	const char *lan[] = {"10.0.0.0/8", "fd00::/8"};
	assert_true(allowed("10.20.30.40", lan, 2, NULL));
	assert_true(allowed("fd12::1", lan, 2, NULL));
	assert_false(allowed("192.168.1.1", lan, 2, NULL));
	assert_false(allowed("fc00::1", lan, 2, NULL));
	assert_false(allowed("127.0.0.1", lan, 2, NULL));
	/* Public addresses need no range, and are "listed" only when one holds them. */
	assert_true(allowed("8.8.8.8", lan, 2, &listed));
	assert_false(listed);
	const char *pub[] = {"8.8.8.0/24"};
	assert_true(allowed("8.8.8.8", pub, 1, &listed));
	assert_true(listed);
}

static void test_metadata_needs_its_own_range(void **state)
{
	(void)state;
	const char *broad[] = {"169.254.0.0/16", "0.0.0.0/0", "::/0", "fd00::/8", "100.64.0.0/10"};
	assert_true(allowed("169.254.1.1", broad, 5, NULL)); /* link-local: the /16 opens it */
	assert_true(allowed("100.64.0.1", broad, 5, NULL));
	assert_true(allowed("fd00::1", broad, 5, NULL));
	assert_false(allowed("169.254.169.254", broad, 5, NULL));
	assert_false(allowed("::ffff:169.254.169.254", broad, 5, NULL));
	assert_false(allowed("64:ff9b::a9fe:a9fe", broad, 5, NULL));
	assert_false(allowed("fd00:ec2::254", broad, 5, NULL));
	assert_false(allowed("100.100.100.200", broad, 5, NULL));
	assert_false(allowed("168.63.129.16", broad, 5, NULL));
	const char *exact[] = {"169.254.169.254/32", "fd00:ec2::254/128"};
	assert_true(allowed("169.254.169.254", exact, 2, NULL));
	assert_true(allowed("::ffff:169.254.169.254", exact, 2, NULL));
	assert_true(allowed("fd00:ec2::254", exact, 2, NULL));
	assert_false(allowed("169.254.170.2", exact, 2, NULL));
	/* Everything listed still leaves the metadata addresses closed. */
	const char *all[] = {"0.0.0.0/0", "::/0"};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (allowed(cases[i].addr, all, 2, NULL) != (cases[i].cls != BW_ADDR_METADATA))
			fail_msg("%s under 0.0.0.0/0 and ::/0", cases[i].addr);
}

static void test_sockaddr(void **state)
{
	(void)state;
	struct sockaddr_in in = {.sin_family = AF_INET};
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
	struct sockaddr un = {.sa_family = AF_UNIX};
	struct bw_ip ip;
	char t[64];
	inet_pton(AF_INET, "169.254.169.254", &in.sin_addr);
	assert_true(bw_ip_from_sockaddr((struct sockaddr *)&in, &ip));
	assert_int_equal(bw_addr_classify(&ip, NULL, NULL), BW_ADDR_METADATA);
	bw_ip_format(&ip, t, sizeof(t));
	assert_string_equal(t, "169.254.169.254");
	inet_pton(AF_INET6, "::ffff:127.0.0.2", &in6.sin6_addr);
	assert_true(bw_ip_from_sockaddr((struct sockaddr *)&in6, &ip));
	assert_int_equal(ip.family, 6);
	assert_int_equal(bw_addr_classify(&ip, NULL, NULL), BW_ADDR_LOOPBACK);
	bw_ip_format(&ip, t, sizeof(t));
	assert_string_equal(t, "::ffff:127.0.0.2");
	assert_false(bw_ip_from_sockaddr(&un, &ip));
	assert_false(bw_ip_from_sockaddr(NULL, &ip));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_classes),
	    cmocka_unit_test(test_class_names),
	    cmocka_unit_test(test_cidr_parse),
	    cmocka_unit_test(test_ranges_open),
	    cmocka_unit_test(test_metadata_needs_its_own_range),
	    cmocka_unit_test(test_sockaddr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
