/* The egress address policy (C17); see addrpolicy.h. The tables follow the
 * IANA special-purpose address registries; the first row that matches
 * decides, so single addresses come before the ranges around them. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "integ/addrpolicy.h"

struct special {
	uint8_t b[16];
	uint8_t prefix;
	enum bw_addr_class cls;
};

static const struct special v4_table[] = {
    {{255, 255, 255, 255}, 32, BW_ADDR_BROADCAST},
    /* AWS, GCP, Azure, Oracle, DigitalOcean... instance metadata */
    {{169, 254, 169, 254}, 32, BW_ADDR_METADATA},
    {{169, 254, 170, 2}, 32, BW_ADDR_METADATA},   /* AWS ECS task credentials */
    {{169, 254, 170, 23}, 32, BW_ADDR_METADATA},  /* AWS EKS Pod Identity */
    {{100, 100, 100, 200}, 32, BW_ADDR_METADATA}, /* Alibaba Cloud */
    {{168, 63, 129, 16}, 32, BW_ADDR_METADATA},   /* Azure WireServer (a public range) */
    {{192, 0, 0, 192}, 32, BW_ADDR_METADATA},     /* Oracle Cloud, older images */
    {{0}, 8, BW_ADDR_UNSPECIFIED}, /* "this network": Linux connects 0.0.0.0 to itself */
    {{127}, 8, BW_ADDR_LOOPBACK},
    {{10}, 8, BW_ADDR_PRIVATE},
    {{172, 16}, 12, BW_ADDR_PRIVATE},
    {{192, 168}, 16, BW_ADDR_PRIVATE},
    {{100, 64}, 10, BW_ADDR_CGNAT},
    {{169, 254}, 16, BW_ADDR_LINK_LOCAL},
    {{192, 0, 0}, 24, BW_ADDR_RESERVED}, /* IETF protocol assignments (DS-Lite, NAT64 discovery) */
    {{192, 0, 2}, 24, BW_ADDR_DOCUMENTATION},
    {{198, 51, 100}, 24, BW_ADDR_DOCUMENTATION},
    {{203, 0, 113}, 24, BW_ADDR_DOCUMENTATION},
    {{198, 18}, 15, BW_ADDR_BENCHMARK},
    {{192, 88, 99}, 24, BW_ADDR_RESERVED}, /* 6to4 relay anycast, deprecated */
    {{224}, 4, BW_ADDR_MULTICAST},
    {{240}, 4, BW_ADDR_RESERVED},
};

/* IPv6 after the forms that carry IPv4 (handled first, in classify). */
static const struct special v6_table[] = {
    {{0}, 128, BW_ADDR_UNSPECIFIED},
    {{[15] = 1}, 128, BW_ADDR_LOOPBACK},
    {{0xfd, 0x00, 0x0e, 0xc2, [15] = 0x54, [14] = 0x02}, 128, BW_ADDR_METADATA}, /* fd00:ec2::254 */
    {{0xfd, 0x00, 0x0e, 0xc2, [15] = 0x23}, 128, BW_ADDR_METADATA}, /* fd00:ec2::23 (EKS) */
    {{0}, 96, BW_ADDR_RESERVED},                                    /* ::a.b.c.d, deprecated */
    {{0x00, 0x64, 0xff, 0x9b, 0x00, 0x01}, 48, BW_ADDR_PRIVATE},    /* local-use NAT64 */
    {{0x01, 0x00}, 64, BW_ADDR_RESERVED},                           /* 100::/64 discard */
    {{0x20, 0x01, 0x00, 0x02, 0x00, 0x00}, 48, BW_ADDR_BENCHMARK},  /* 2001:2::/48 */
    {{0x20, 0x01, 0x00, 0x00}, 32, BW_ADDR_RESERVED},               /* Teredo */
    {{0x20, 0x01, 0x00, 0x10}, 28, BW_ADDR_RESERVED},               /* ORCHID */
    {{0x20, 0x01, 0x00, 0x20}, 28, BW_ADDR_RESERVED},               /* ORCHIDv2 */
    {{0x20, 0x01, 0x0d, 0xb8}, 32, BW_ADDR_DOCUMENTATION},
    {{0x3f, 0xff}, 20, BW_ADDR_DOCUMENTATION},
    {{0xfc}, 7, BW_ADDR_PRIVATE},
    {{0xfe, 0x80}, 10, BW_ADDR_LINK_LOCAL},
    {{0xfe, 0xc0}, 10, BW_ADDR_PRIVATE}, /* site-local, deprecated */
    {{0xff}, 8, BW_ADDR_MULTICAST},
};

static const char *const class_names[BW_ADDR_CLASSES] = {
    [BW_ADDR_PUBLIC] = "public",           [BW_ADDR_UNSPECIFIED] = "unspecified",
    [BW_ADDR_LOOPBACK] = "loopback",       [BW_ADDR_PRIVATE] = "private",
    [BW_ADDR_LINK_LOCAL] = "link-local",   [BW_ADDR_METADATA] = "cloud metadata",
    [BW_ADDR_CGNAT] = "carrier-grade NAT", [BW_ADDR_MULTICAST] = "multicast",
    [BW_ADDR_BROADCAST] = "broadcast",     [BW_ADDR_DOCUMENTATION] = "documentation",
    [BW_ADDR_BENCHMARK] = "benchmarking",  [BW_ADDR_RESERVED] = "reserved",
};

const char *bw_addr_class_name(enum bw_addr_class c)
{
	return (unsigned)c < BW_ADDR_CLASSES ? class_names[c] : "reserved";
}

/* The first `bits` bits of a and b are equal. */
static bool prefix_eq(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;
	if (memcmp(a, b, whole) != 0)
		return false;
	if (!rest)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

static unsigned full_len(uint8_t family)
{
	return family == 4 ? 32 : 128;
}

bool bw_ip_parse(const char *s, struct bw_ip *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, s, out->b) == 1) {
		out->family = 4;
		return true;
	}
	if (inet_pton(AF_INET6, s, out->b) == 1) {
		out->family = 6;
		return true;
	}
	return false;
}

bool bw_ip_from_sockaddr(const struct sockaddr *sa, struct bw_ip *out)
{
	memset(out, 0, sizeof(*out));
	if (!sa)
		return false;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		out->family = 4;
		memcpy(out->b, &in->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		out->family = 6;
		memcpy(out->b, &in6->sin6_addr, 16);
		return true;
	}
	return false;
}

void bw_ip_format(const struct bw_ip *ip, char *out, size_t n)
{
	if (!inet_ntop(ip->family == 4 ? AF_INET : AF_INET6, ip->b, out, (socklen_t)n))
		snprintf(out, n, "?");
}

const char *bw_addr_range_parse(const char *s, struct bw_cidr *out)
{
	char addr[64];
	struct bw_ip ip;
	memset(out, 0, sizeof(*out));
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	if (alen == 0 || alen >= sizeof(addr))
		return "is not an address or a CIDR range";
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (!bw_ip_parse(addr, &ip))
		return "is not an address or a CIDR range";
	out->family = ip.family;
	memcpy(out->addr, ip.b, sizeof(out->addr));
	unsigned max = full_len(ip.family), prefix = max;
	if (slash) {
		const char *p = slash + 1;
		size_t digits = strspn(p, "0123456789");
		if (digits == 0 || digits > 3 || p[digits] || (digits > 1 && p[0] == '0'))
			return "has a prefix length that is not a number";
		prefix = 0;
		for (size_t i = 0; i < digits; i++)
			prefix = prefix * 10 + (unsigned)(p[i] - '0');
		if (prefix > max)
			return ip.family == 4 ? "has a prefix length over 32"
			                      : "has a prefix length over 128";
	}
	out->prefix = (int)prefix;
	for (unsigned bit = prefix; bit < max; bit++)
		if (out->addr[bit / 8] & (0x80 >> (bit % 8)))
			return "has host bits set past its prefix length";
	return NULL;
}

void bw_addr_range_format(const struct bw_cidr *c, char *out, size_t n)
{
	char a[64];
	struct bw_ip ip = {.family = (uint8_t)c->family};
	memcpy(ip.b, c->addr, sizeof(ip.b));
	bw_ip_format(&ip, a, sizeof(a));
	snprintf(out, n, "%s/%d", a, c->prefix);
}

static bool is_mapped(const struct bw_ip *ip)
{
	static const uint8_t pfx[12] = {[10] = 0xff, [11] = 0xff};
	return ip->family == 6 && !memcmp(ip->b, pfx, 12);
}

bool bw_addr_range_contains(const struct bw_cidr *c, const struct bw_ip *ip)
{
	unsigned bits = (unsigned)c->prefix;
	if (c->family == ip->family)
		return prefix_eq(c->addr, ip->b, bits);
	if (c->family == 6 && ip->family == 4) {
		uint8_t m[16] = {[10] = 0xff, [11] = 0xff};
		memcpy(m + 12, ip->b, 4);
		return prefix_eq(c->addr, m, bits);
	}
	if (c->family == 4 && is_mapped(ip))
		return prefix_eq(c->addr, ip->b + 12, bits);
	return false;
}

/* The IPv4 address inside an IPv6 form that carries one, at `at`. */
static bool embedded_v4(const struct bw_ip *ip, size_t *at)
{
	static const uint8_t translated[12] = {[8] = 0xff, [9] = 0xff};
	static const uint8_t nat64[12] = {0x00, 0x64, 0xff, 0x9b};
	if (is_mapped(ip) || !memcmp(ip->b, translated, 12) || !memcmp(ip->b, nat64, 12)) {
		*at = 12;
		return true;
	}
	if (ip->b[0] == 0x20 && ip->b[1] == 0x02) { /* 6to4: 2002:AABB:CCDD::/48 */
		*at = 2;
		return true;
	}
	return false;
}

static enum bw_addr_class lookup(const struct special *t, size_t n, const struct bw_ip *ip)
{
	for (size_t i = 0; i < n; i++)
		if (prefix_eq(t[i].b, ip->b, t[i].prefix))
			return t[i].cls;
	return BW_ADDR_PUBLIC;
}

enum bw_addr_class bw_addr_classify(const struct bw_ip *ip, bool *embedded, struct bw_ip *inner)
{
	if (embedded)
		*embedded = false;
	if (ip->family == 4)
		return lookup(v4_table, sizeof(v4_table) / sizeof(v4_table[0]), ip);
	if (ip->family != 6)
		return BW_ADDR_RESERVED;
	size_t at;
	if (embedded_v4(ip, &at)) {
		struct bw_ip v4 = {.family = 4};
		memcpy(v4.b, ip->b + at, 4);
		if (embedded)
			*embedded = true;
		if (inner)
			*inner = v4;
		return lookup(v4_table, sizeof(v4_table) / sizeof(v4_table[0]), &v4);
	}
	enum bw_addr_class c = lookup(v6_table, sizeof(v6_table) / sizeof(v6_table[0]), ip);
	/* Global unicast is 2000::/3 alone; the rest is unassigned. */
	if (c == BW_ADDR_PUBLIC && (ip->b[0] & 0xe0) != 0x20)
		c = BW_ADDR_RESERVED;
	return c;
}

void bw_addr_check(const struct bw_ip *ip, const struct bw_cidr *ranges, size_t n,
                   struct bw_addr_verdict *v)
{
	struct bw_ip inner;
	memset(v, 0, sizeof(*v));
	v->cls = bw_addr_classify(ip, &v->embedded, &inner);
	for (size_t i = 0; i < n && !v->listed; i++) {
		const struct bw_cidr *r = &ranges[i];
		if (!bw_addr_range_contains(r, ip) &&
		    !(v->embedded && bw_addr_range_contains(r, &inner)))
			continue;
		if (v->cls == BW_ADDR_METADATA &&
		    (unsigned)r->prefix != full_len((uint8_t)r->family))
			continue;
		v->listed = true;
	}
	v->allowed = v->cls == BW_ADDR_PUBLIC || v->listed;
}
