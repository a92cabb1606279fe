/* fuzz_fraud: the fraud core's parsers (src/fraud/key.c) and the deny
 * list's ranges (src/fraud/denylist.c). The first byte picks the kind (low
 * two bits; 3 is ADDRESS too); the text runs to a NUL or the end; bytes
 * after a NUL choose addresses inside a range. What must hold:
 * - a normalized deny value and a key normalize to themselves, and a key
 *   is a deny value that stays as it is;
 * - the address parser agrees with glibc's inet_pton (same verdict, same
 *   bytes), and the printer with inet_ntop (but for its dotted IPv4 tails);
 * - a listed range matches the addresses inside it (its first and last,
 *   and some chosen by the input), in every spelling, and not the ones
 *   just outside; once deleted, nothing. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fraud/fraud.h"
#include "fraud/fraud_int.h"

#include "fuzz_check.h"

static void parser_agrees(const char *s)
{
	char addr[128];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	if (n >= sizeof(addr))
		return;
	memcpy(addr, s, n);
	addr[n] = '\0';
	uint8_t g[16];
	int fam = inet_pton(AF_INET, addr, g) == 1 ? 4 : inet_pton(AF_INET6, addr, g) == 1 ? 6 : 0;
	struct bw_fraud__net net;
	bool ours = bw_fraud__parse_net(addr, &net);
	CHECK(ours == (fam != 0));
	if (!ours)
		return;
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (fam == 6 && net.family == 4) {
		CHECK(!memcmp(g, mapped, 12) && !memcmp(g + 12, net.a, 4));
	} else {
		CHECK(net.family == fam && !memcmp(g, net.a, fam == 4 ? 4 : 16));
	}
	char ours_text[64], theirs[INET6_ADDRSTRLEN];
	CHECK(bw_fraud__format_net(&net, ours_text, sizeof(ours_text)) == 0);
	CHECK(inet_ntop(net.family == 4 ? AF_INET : AF_INET6, net.a, theirs, sizeof(theirs)));
	CHECK(!strcmp(ours_text, theirs) || strchr(theirs, '.'));
}

static void normalizes_to_itself(enum bw_fraud_kind k, const char *s)
{
	char out[256], again[256];
	if (!bw_fraud_deny_value(k, s, out, sizeof(out))) {
		CHECK(!bw_fraud_deny_value(k, out, again, sizeof(again)));
		CHECK(!strcmp(out, again));
	}
	if (bw_fraud_key(k, s, out, sizeof(out)) == 0) {
		CHECK(bw_fraud_key(k, out, again, sizeof(again)) == 0);
		CHECK(!strcmp(out, again));
		CHECK(!bw_fraud_deny_value(k, out, again, sizeof(again)));
		CHECK(!strcmp(out, again));
	}
}

/* An address of the family as text; for IPv4, spelt as an IPv4-mapped IPv6
 * address when mapped. */
static void text_of(int family, const uint8_t *a, bool mapped, char *out, size_t outsz)
{
	if (family == 4 && mapped) {
		uint8_t m[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		memcpy(m + 12, a, 4);
		CHECK(inet_ntop(AF_INET6, m, out, (socklen_t)outsz));
		return;
	}
	CHECK(inet_ntop(family == 4 ? AF_INET : AF_INET6, a, out, (socklen_t)outsz));
}

static bool is_mapped(int family, const uint8_t *a)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	return family == 6 && !memcmp(a, mapped, 12);
}

static void listed(const char *value, const uint8_t *extra, size_t nextra)
{
	char norm[256];
	if (bw_fraud_deny_value(BW_FRAUD_ADDRESS, value, norm, sizeof(norm)))
		return;
	struct bw_fraud__net net;
	CHECK(bw_fraud__parse_net(norm, &net));
	static struct bw_fraud_denylist *d; /* one for the run: making one draws a seed */
	if (!d)
		CHECK((d = bw_fraud_denylist_new()));
	struct bw_fraud_deny e;
	memset(&e, 0, sizeof(e));
	snprintf(e.id, sizeof(e.id), "dl_fuzz");
	snprintf(e.instance_id, sizeof(e.instance_id), "in_fuzz");
	e.kind = BW_FRAUD_ADDRESS;
	snprintf(e.value, sizeof(e.value), "%s", value);
	if (bw_fraud_denylist_put(d, &e) != BW_OK) /* only when memory is short */
		return;
	int bytes = net.family == 4 ? 4 : 16, bits = bytes * 8;
	char text[64], id[48];
	/* Inside: the first address, the last, and a few from the input. */
	for (int i = 0; i < 6; i++) {
		uint8_t a[16], host[16];
		if (i == 0)
			memset(host, 0, sizeof(host));
		else if (i == 1)
			memset(host, 0xff, sizeof(host));
		else
			for (int j = 0; j < 16; j++)
				host[j] = nextra ? extra[((size_t)i * 16 + (size_t)j) % nextra]
				                 : (uint8_t)(i * j);
		for (int j = 0; j < bytes; j++) {
			uint8_t keep = net.plen >= (j + 1) * 8 ? 0xff
			               : net.plen <= j * 8
			                   ? 0
			                   : (uint8_t)(0xff << (8 - (net.plen - j * 8)));
			a[j] = (uint8_t)((net.a[j] & keep) | (host[j] & ~keep));
		}
		if (is_mapped(net.family, a))
			continue; /* an IPv4 client: IPv6 ranges under /96 do not hold it */
		text_of(net.family, a, false, text, sizeof(text));
		id[0] = '\0';
		CHECK(bw_fraud_denied(d, "in_fuzz", BW_FRAUD_ADDRESS, text, 0, id, sizeof(id)));
		CHECK(!strcmp(id, "dl_fuzz"));
		CHECK(!bw_fraud_denied(d, "in_other", BW_FRAUD_ADDRESS, text, 0, NULL, 0));
		if (net.family == 4) {
			text_of(4, a, true, text, sizeof(text));
			CHECK(bw_fraud_denied(d, "in_fuzz", BW_FRAUD_ADDRESS, text, 0, NULL, 0));
		}
		/* Just outside: the last bit of the network flipped. */
		if (net.plen > 0) {
			int b = net.plen - 1;
			a[b / 8] ^= (uint8_t)(0x80 >> (b % 8));
			if (!is_mapped(net.family, a)) {
				text_of(net.family, a, false, text, sizeof(text));
				CHECK(!bw_fraud_denied(d, "in_fuzz", BW_FRAUD_ADDRESS, text, 0,
				                       NULL, 0));
			}
		}
	}
	/* The range itself (as a window key would be looked up), and wider. */
	CHECK(bw_fraud_denied(d, "in_fuzz", BW_FRAUD_ADDRESS, norm, 0, NULL, 0));
	if (net.plen > 0 && net.plen < bits) {
		struct bw_fraud__net wider = net;
		wider.plen--;
		bw_fraud__mask(wider.a, wider.family, wider.plen);
		char w[64];
		CHECK(bw_fraud__format_net(&wider, w, sizeof(w)) == 0);
		CHECK(!bw_fraud_denied(d, "in_fuzz", BW_FRAUD_ADDRESS, w, 0, NULL, 0));
	}
	bw_fraud_denylist_del(d, "in_fuzz", "dl_fuzz");
	CHECK(bw_fraud_denylist_size(d) == 0);
	CHECK(!bw_fraud_denied(d, "in_fuzz", BW_FRAUD_ADDRESS, norm, 0, NULL, 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 4096)
		return 0;
	enum bw_fraud_kind k =
	    (data[0] & 3) == 3 ? BW_FRAUD_ADDRESS : (enum bw_fraud_kind)(data[0] & 3);
	const uint8_t *text = data + 1, *nul = memchr(text, 0, size - 1);
	size_t n = nul ? (size_t)(nul - text) : size - 1;
	char *s = malloc(n + 1);
	if (!s)
		return 0;
	memcpy(s, text, n);
	s[n] = '\0';
	normalizes_to_itself(k, s);
	if (k == BW_FRAUD_ADDRESS) {
		parser_agrees(s);
		const uint8_t *extra = nul ? nul + 1 : NULL;
		listed(s, extra, extra ? size - 1 - n - 1 : 0);
	}
	free(s);
	return 0;
}
