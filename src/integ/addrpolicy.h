/* The egress address policy (C17): which resolved addresses an integration
 * may connect to. Loopback, private, link-local, cloud metadata, CGNAT,
 * multicast, unspecified, broadcast, documentation, benchmarking and other
 * reserved addresses, in IPv4 and IPv6 and in the IPv6 forms that carry an
 * IPv4 address (mapped, translated, NAT64, 6to4), are refused unless one of
 * the integration's allowed_address_ranges contains the address. A metadata
 * address needs a range naming it alone (/32, /128): a broad range written
 * for something else must not open a credential endpoint. Pure: no I/O, no
 * state; the registry (at registration) and the egress (at every
 * connection) ask the same questions. */
#ifndef BW_ADDRPOLICY_H
#define BW_ADDRPOLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h" /* struct bw_cidr: family 4 or 6, addr, prefix */

struct sockaddr;

/* An address: family 4 or 6; b holds 4 or 16 bytes in network order. */
struct bw_ip {
	uint8_t family;
	uint8_t b[16];
};

enum bw_addr_class {
	BW_ADDR_PUBLIC = 0,
	BW_ADDR_UNSPECIFIED,   /* 0.0.0.0/8, :: */
	BW_ADDR_LOOPBACK,      /* 127.0.0.0/8, ::1 */
	BW_ADDR_PRIVATE,       /* RFC 1918, fc00::/7 (ULA), fec0::/10, 64:ff9b:1::/48 */
	BW_ADDR_LINK_LOCAL,    /* 169.254.0.0/16, fe80::/10 */
	BW_ADDR_METADATA,      /* cloud instance metadata and host endpoints */
	BW_ADDR_CGNAT,         /* 100.64.0.0/10 */
	BW_ADDR_MULTICAST,     /* 224.0.0.0/4, ff00::/8 */
	BW_ADDR_BROADCAST,     /* 255.255.255.255 */
	BW_ADDR_DOCUMENTATION, /* TEST-NET-1/2/3, 2001:db8::/32, 3fff::/20 */
	BW_ADDR_BENCHMARK,     /* 198.18.0.0/15, 2001:2::/48 */
	BW_ADDR_RESERVED,      /* 240.0.0.0/4, 192.0.0.0/24, Teredo, ORCHID, outside 2000::/3 ... */
	BW_ADDR_CLASSES
};

/* "public", "loopback", "private", "link-local", "cloud metadata", ... */
const char *bw_addr_class_name(enum bw_addr_class c);

/* An IPv4 dotted quad or an IPv6 address (no brackets, no zone). */
bool bw_ip_parse(const char *s, struct bw_ip *out);
/* From a sockaddr_in or sockaddr_in6; false for any other family. */
bool bw_ip_from_sockaddr(const struct sockaddr *sa, struct bw_ip *out);
/* The canonical text (inet_ntop); out holds at least 46 bytes. */
void bw_ip_format(const struct bw_ip *ip, char *out, size_t n);

/* A range (struct bw_cidr, host bits zero): "10.0.0.0/8", "fd00::/8", or
 * an address alone (a /32 or /128). Returns NULL and fills out, or a
 * sentence saying what is wrong (host bits set, a prefix out of range, not
 * an address). Stricter than bw_cidr_parse (no leading zeros or signs). */
const char *bw_addr_range_parse(const char *s, struct bw_cidr *out);
/* The canonical text: "10.0.0.0/8", "2001:db8::/32". */
void bw_addr_range_format(const struct bw_cidr *c, char *out, size_t n);
/* Does c contain ip? An IPv4-mapped IPv6 address and its IPv4 address are
 * one address here, in either direction. */
bool bw_addr_range_contains(const struct bw_cidr *c, const struct bw_ip *ip);

/* The class of an address. For an IPv6 form that carries an IPv4 address
 * (::ffff:0:0/96, ::ffff:0:0:0/96, 64:ff9b::/96, 2002::/16) the class is
 * that of the IPv4 address, which goes to *inner (when not NULL) with
 * *embedded set. */
enum bw_addr_class bw_addr_classify(const struct bw_ip *ip, bool *embedded, struct bw_ip *inner);

struct bw_addr_verdict {
	bool allowed;
	bool listed;   /* a range of the list contains it (see the top) */
	bool embedded; /* cls is the class of the IPv4 address inside */
	enum bw_addr_class cls;
};

/* The policy for one address against an integration's ranges. */
void bw_addr_check(const struct bw_ip *ip, const struct bw_cidr *ranges, size_t n,
                   struct bw_addr_verdict *v);

#endif
