/* Identifier kinds, window keys and deny-list values (fraud.h): parsing
 * and normalizing addresses, CIDR ranges, E.164 numbers and e-mails. */
#include <stdio.h>
#include <string.h>

#include "fraud/fraud.h"
#include "fraud/fraud_int.h"

static const char *const kind_names[BW_FRAUD_KINDS] = {"IP", "NUMBER", "EMAIL"};

int bw_fraud_kind_parse(const char *s)
{
	for (int k = 0; s && k < BW_FRAUD_KINDS; k++)
		if (!strcmp(s, kind_names[k]))
			return k;
	return -1;
}

const char *bw_fraud_kind_name(enum bw_fraud_kind k)
{
	return (unsigned)k < BW_FRAUD_KINDS ? kind_names[k] : NULL;
}

/* ---- addresses ---- */

static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* Our own parsers and printers, with inet_pton's and inet_ntop's rules
 * (tests/fuzz/fuzz_fraud.c holds them to glibc's), because glibc's take
 * most of a decision's time: inet_pton6 looks each digit up with strchr,
 * inet_ntop prints with sprintf. */

/* Four decimal parts 0..255, no leading zeros, nothing else. */
static bool parse_v4(const char *s, const char *end, uint8_t out[4])
{
	int parts = 0;
	while (s < end) {
		if (parts == 4 || *s < '0' || *s > '9')
			return false;
		const char *start = s;
		unsigned v = 0;
		for (; s < end && *s >= '0' && *s <= '9'; s++)
			if ((v = v * 10 + (unsigned)(*s - '0')) > 255)
				return false;
		if (s - start > 1 && *start == '0')
			return false;
		out[parts++] = (uint8_t)v;
		if (s < end && (*s++ != '.' || s == end))
			return false;
	}
	return parts == 4;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* RFC 4291 text: groups of 1 to 4 hex digits, at most one "::" standing
 * for at least one zero group, an optional dotted quad for the last 32
 * bits. */
static bool parse_v6(const char *s, const char *end, uint8_t out[16])
{
	uint8_t *tp = out, *const endp = out + 16, *colonp = NULL;
	if (s == end)
		return false;
	if (*s == ':' && (++s == end || *s != ':'))
		return false;
	const char *curtok = s;
	int digits = 0;
	unsigned val = 0;
	while (s < end) {
		char ch = *s++;
		int d = hexval(ch);
		if (d >= 0) {
			if (digits == 4)
				return false;
			val = val << 4 | (unsigned)d;
			digits++;
			continue;
		}
		if (ch == ':') {
			curtok = s;
			if (!digits) {
				if (colonp)
					return false;
				colonp = tp;
				continue;
			}
			if (s == end || tp + 2 > endp)
				return false;
			*tp++ = (uint8_t)(val >> 8);
			*tp++ = (uint8_t)val;
			digits = 0;
			val = 0;
			continue;
		}
		if (ch == '.' && tp + 4 <= endp && parse_v4(curtok, end, tp)) {
			tp += 4;
			digits = 0;
			break;
		}
		return false;
	}
	if (digits) {
		if (tp + 2 > endp)
			return false;
		*tp++ = (uint8_t)(val >> 8);
		*tp++ = (uint8_t)val;
	}
	if (colonp) {
		if (tp == endp)
			return false;
		size_t n = (size_t)(tp - colonp);
		memmove(endp - n, colonp, n);
		memset(colonp, 0, (size_t)(endp - n - colonp));
		tp = endp;
	}
	return tp == endp;
}

bool bw_fraud__parse_net(const char *s, struct bw_fraud__net *n)
{
	const char *end = s;
	while (*end && *end != '/')
		end++;
	memset(n, 0, sizeof(*n));
	if (parse_v4(s, end, n->a))
		n->family = 4;
	else if (parse_v6(s, end, n->a))
		n->family = 6;
	else
		return false;
	int bits = n->family == 4 ? 32 : 128, plen = bits;
	if (*end == '/') {
		const char *p = end + 1;
		size_t digits = strspn(p, "0123456789");
		if (digits == 0 || digits > 3 || p[digits] || (digits > 1 && p[0] == '0'))
			return false;
		plen = 0;
		for (size_t i = 0; i < digits; i++)
			plen = plen * 10 + (p[i] - '0');
		if (plen > bits)
			return false;
		n->cidr = true;
	}
	n->plen = (uint8_t)plen;
	if (n->family == 6 && plen >= 96 && !memcmp(n->a, v4mapped, sizeof(v4mapped))) {
		memmove(n->a, n->a + 12, 4);
		memset(n->a + 4, 0, 12);
		n->family = 4;
		n->plen = (uint8_t)(plen - 96);
	}
	return true;
}

static uint64_t load_be(const uint8_t *p, int bytes)
{
	uint64_t x = 0;
	for (int i = 0; i < bytes; i++)
		x = x << 8 | p[i];
	return x;
}

static void store_be(uint8_t *p, uint64_t x, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--, x >>= 8)
		p[i] = (uint8_t)x;
}

/* The top p of `bits` bits set. */
static uint64_t top_bits(int p, int bits)
{
	uint64_t all = bits == 64 ? ~0ull : (1ull << bits) - 1;
	return p <= 0 ? 0 : p >= bits ? all : all & ~(all >> p);
}

void bw_fraud__mask(uint8_t *a, int family, int plen)
{
	if (family == 4) {
		store_be(a, load_be(a, 4) & top_bits(plen, 32), 4);
		return;
	}
	store_be(a, load_be(a, 8) & top_bits(plen, 64), 8);
	store_be(a + 8, load_be(a + 8, 8) & top_bits(plen - 64, 64), 8);
}

static char *put_dec(char *p, unsigned v)
{
	if (v >= 100)
		*p++ = (char)('0' + v / 100);
	if (v >= 10)
		*p++ = (char)('0' + v / 10 % 10);
	*p++ = (char)('0' + v % 10);
	return p;
}

/* RFC 5952: lower case, no leading zeros, the longest run of two or more
 * zero groups (the first of equals) as "::". Unlike glibc, never a dotted
 * quad inside (IPv4-mapped addresses are IPv4 here). */
static char *put_v6(char *p, const uint8_t *a)
{
	static const char hex[] = "0123456789abcdef";
	unsigned w[8];
	int best = -1, bestlen = 0;
	for (int i = 0; i < 8; i++)
		w[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
	for (int i = 0; i < 8;) {
		int j = i;
		while (j < 8 && !w[j])
			j++;
		if (j - i > bestlen && j - i >= 2) {
			best = i;
			bestlen = j - i;
		}
		i = j > i ? j : i + 1;
	}
	for (int i = 0; i < 8;) {
		if (i == best) {
			*p++ = ':';
			*p++ = ':';
			i += bestlen;
			continue;
		}
		if (i > 0 && i != best + bestlen)
			*p++ = ':';
		unsigned v = w[i];
		if (v >= 0x1000)
			*p++ = hex[v >> 12];
		if (v >= 0x100)
			*p++ = hex[v >> 8 & 0xf];
		if (v >= 0x10)
			*p++ = hex[v >> 4 & 0xf];
		*p++ = hex[v & 0xf];
		i++;
	}
	return p;
}

int bw_fraud__format_net(const struct bw_fraud__net *n, char *out, size_t outsz)
{
	char buf[64], *p = buf;
	int full = n->family == 4 ? 32 : 128;
	if (n->family == 4) {
		for (int i = 0; i < 4; i++) {
			if (i)
				*p++ = '.';
			p = put_dec(p, n->a[i]);
		}
	} else {
		p = put_v6(p, n->a);
	}
	if (n->plen != full) {
		*p++ = '/';
		p = put_dec(p, n->plen);
	}
	size_t len = (size_t)(p - buf);
	if (len >= outsz)
		return -1;
	memcpy(out, buf, len);
	out[len] = '\0';
	return 0;
}

static bool host_bits_clear(const struct bw_fraud__net *n)
{
	uint8_t m[16];
	memcpy(m, n->a, sizeof(m));
	bw_fraud__mask(m, n->family, n->plen);
	return !memcmp(m, n->a, sizeof(m));
}

/* ---- numbers and e-mails ---- */

static bool e164(const char *s)
{
	if (s[0] != '+' || s[1] < '1' || s[1] > '9') /* no country code starts with 0 */
		return false;
	size_t digits = strspn(s + 1, "0123456789");
	return !s[1 + digits] && digits >= 8 && digits <= 15;
}

#define EMAIL_MAX 254

/* One '@' with text on both sides; no spaces or control bytes (what the
 * chat API accepts, src/api/chat.c). */
static bool email(const char *s)
{
	const char *at = strchr(s, '@');
	if (!at || at == s || !at[1] || strchr(at + 1, '@') ||
	    strnlen(s, EMAIL_MAX + 1) > EMAIL_MAX)
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= 0x20 || *p == 0x7f)
			return false;
	return true;
}

static int lower_copy(const char *s, char *out, size_t outsz)
{
	size_t n = strlen(s);
	if (n >= outsz)
		return -1;
	for (size_t i = 0; i <= n; i++)
		out[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];
	return 0;
}

static int copy(const char *s, char *out, size_t outsz)
{
	int w = snprintf(out, outsz, "%s", s);
	return w < 0 || (size_t)w >= outsz ? -1 : 0;
}

int bw_fraud_key(enum bw_fraud_kind k, const char *value, char *out, size_t outsz)
{
	if (!value || !out || !outsz)
		return -1;
	switch (k) {
	case BW_FRAUD_ADDRESS: {
		struct bw_fraud__net n;
		if (!bw_fraud__parse_net(value, &n))
			return -1;
		/* An address, or a key made here (an IPv6 /64) given back. */
		if (n.cidr && !(n.family == 6 && n.plen == 64 && host_bits_clear(&n)))
			return -1;
		if (n.family == 6) {
			bw_fraud__mask(n.a, 6, 64);
			n.plen = 64;
		}
		return bw_fraud__format_net(&n, out, outsz);
	}
	case BW_FRAUD_NUMBER:
		return e164(value) ? copy(value, out, outsz) : -1;
	case BW_FRAUD_EMAIL:
		return email(value) ? lower_copy(value, out, outsz) : -1;
	default:
		return -1;
	}
}

const char *bw_fraud_deny_value(enum bw_fraud_kind k, const char *value, char *out, size_t outsz)
{
	if (!value || !out || !outsz)
		return "no value";
	switch (k) {
	case BW_FRAUD_ADDRESS: {
		struct bw_fraud__net n;
		if (!bw_fraud__parse_net(value, &n))
			return "not an IP address or CIDR range";
		if (!host_bits_clear(&n))
			return "the CIDR range has host bits set";
		return bw_fraud__format_net(&n, out, outsz) ? "value too long" : NULL;
	}
	case BW_FRAUD_NUMBER:
		if (!e164(value))
			return "not an E.164 number (+ and 8 to 15 digits)";
		return copy(value, out, outsz) ? "value too long" : NULL;
	case BW_FRAUD_EMAIL:
		if (!email(value))
			return "not an e-mail address";
		return lower_copy(value, out, outsz) ? "value too long" : NULL;
	default:
		return "unknown type";
	}
}
