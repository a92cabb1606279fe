/* Filter decisions per second on one core, in process (src/fraud).
 *
 * One decision is what bw_guard_public does for a public request: the
 * client address against the instance's deny list (exact entries and
 * ranges), then its window key (an IPv6 client by its /64), would_pass,
 * and count when it passes. The mix: 100,000 clients (70% IPv4, 30% IPv6,
 * from all over the address space), a deny list of 10,000 exact entries
 * (7,000 IPv4 addresses, 2,000 IPv6 /64s, 500 numbers, 500 e-mails) and
 * 1,000 ranges (IPv4 /16 to /30, IPv6 /32 to /56: 12 prefix lengths in
 * use with the exact entries), one rule of 20 contacts per 600 s. Clients
 * are drawn uniformly (the worst case for caches) plus 1% of decisions from
 * 50 abusers: about 1% of the decisions are refused by the window and 2%
 * by the deny list.
 *
 * The reference, timed in the same run over the same sequence: a plain
 * open-addressing hash (FNV-1a, linear probing, as src/cc/map.c) doing the
 * two lookups a decision cannot do without: the address string in a set of
 * the 10,000 exact deny values, and the key string in a map of 100,000
 * fixed-window counters. It has no ranges, no sliding window, no keyed
 * hash, and is handed the keys ready-made (no address parsing), so it is
 * the floor for any in-memory filter: the ratio says what exact windows,
 * CIDR ranges, parsing and DoS-resistant hashing cost on top of it.
 *
 *   bench_filter [DECISIONS]   (default 3,000,000) */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fraud/fraud.h"

#define CLIENTS 100000
#define ABUSERS 50
#define CHUNK 4096
#define IID "in_0123456789abcdef"

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
	rng = rng * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rng >> 32);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long pages = 0, resident = 0;
	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return resident * 4;
}

struct client {
	char addr[48], key[48];
};

static void random_client(struct client *c, bool v6)
{
	uint8_t a[16];
	for (int i = 0; i < 16; i += 4) {
		uint32_t r = rnd();
		memcpy(a + i, &r, 4);
	}
	if (v6) {
		a[0] = 0x20 | (a[0] & 0x0f); /* 2000::/4, global unicast */
		inet_ntop(AF_INET6, a, c->addr, sizeof(c->addr));
	} else {
		a[0] = (uint8_t)(1 + a[0] % 223);
		inet_ntop(AF_INET, a, c->addr, sizeof(c->addr));
	}
	if (bw_fraud_key(BW_FRAUD_ADDRESS, c->addr, c->key, sizeof(c->key)) != 0)
		abort();
}

static void put(struct bw_fraud_denylist *d, const char *iid, int n, enum bw_fraud_kind k,
                const char *value)
{
	struct bw_fraud_deny e;
	memset(&e, 0, sizeof(e));
	snprintf(e.id, sizeof(e.id), "dl_%08d", n);
	snprintf(e.instance_id, sizeof(e.instance_id), "%s", iid);
	e.kind = k;
	snprintf(e.value, sizeof(e.value), "%s", value);
	if (bw_fraud_denylist_put(d, &e) != BW_OK) {
		fprintf(stderr, "bench_filter: cannot list %s\n", value);
		exit(1);
	}
}

static void random_range(char *out, size_t outsz)
{
	static const int v4[] = {16, 20, 22, 24, 24, 24, 24, 28, 29, 30};
	static const int v6[] = {32, 48, 48, 56};
	uint8_t a[16] = {0};
	uint32_t r = rnd();
	memcpy(a, &r, 4);
	char text[INET6_ADDRSTRLEN];
	if (rnd() % 4) {
		int p = v4[rnd() % 10];
		a[0] = (uint8_t)(1 + a[0] % 223);
		uint32_t x;
		memcpy(&x, a, 4);
		x = htonl(ntohl(x) & (uint32_t)(0xffffffffull << (32 - p)));
		inet_ntop(AF_INET, &x, text, sizeof(text));
		snprintf(out, outsz, "%s/%d", text, p);
	} else {
		int p = v6[rnd() % 4];
		r = rnd();
		memcpy(a + 4, &r, 4);
		a[0] = 0x20 | (a[0] & 0x0f);
		for (int i = p / 8; i < 16; i++)
			a[i] = i == p / 8 && p % 8 ? a[i] & (uint8_t)(0xff << (8 - p % 8)) : 0;
		inet_ntop(AF_INET6, a, text, sizeof(text));
		snprintf(out, outsz, "%s/%d", text, p);
	}
}

/* ---- the reference: a plain hash ---- */

struct ref_slot {
	const char *key;
	long long start;
	int n;
};

struct ref_map {
	struct ref_slot *s;
	size_t cap;
};

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static void ref_init(struct ref_map *m, size_t n)
{
	m->cap = 16;
	while (m->cap < n * 2)
		m->cap *= 2;
	m->s = calloc(m->cap, sizeof(*m->s));
	if (!m->s)
		abort();
}

static struct ref_slot *ref_find(struct ref_map *m, const char *key, bool add)
{
	for (size_t i = fnv(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (!m->s[i].key) {
			if (!add)
				return NULL;
			m->s[i].key = key;
			return &m->s[i];
		}
		if (!strcmp(m->s[i].key, key))
			return &m->s[i];
	}
}

int main(int argc, char **argv)
{
	long decisions = argc > 1 ? strtol(argv[1], NULL, 10) : 3000000;
	if (decisions < 1000)
		decisions = 1000;
	long rss0 = rss_kib();
	struct client *cl = calloc(CLIENTS + ABUSERS, sizeof(*cl));
	uint32_t *seq = malloc((size_t)decisions * sizeof(*seq));
	if (!cl || !seq)
		return 1;
	for (int i = 0; i < CLIENTS + ABUSERS; i++)
		random_client(&cl[i], i % 10 >= 7);

	/* The deny list: 10,000 exact entries, 1,000 ranges, and a few other
	 * instances' entries beside them. */
	struct bw_fraud_denylist *d = bw_fraud_denylist_new();
	struct bw_fraud_windows *w = bw_fraud_windows_new();
	struct ref_map ref_deny, ref_win;
	ref_init(&ref_deny, 10000);
	ref_init(&ref_win, CLIENTS + ABUSERS);
	static char values[10000][64];
	int n = 0;
	for (int i = 0; i < 7000; i++) {
		/* A third of them are clients of the mix; the rest strangers. */
		struct client c;
		if (i % 3 == 0)
			c = cl[(i / 3) * 7 % CLIENTS];
		else
			random_client(&c, false);
		if (strchr(c.addr, ':'))
			random_client(&c, false);
		snprintf(values[n], sizeof(values[n]), "%s", c.addr);
		put(d, IID, n, BW_FRAUD_ADDRESS, values[n]);
		n++;
	}
	for (int i = 0; i < 2000; i++) {
		struct client c;
		random_client(&c, true);
		snprintf(values[n], sizeof(values[n]), "%s", c.key);
		put(d, IID, n, BW_FRAUD_ADDRESS, values[n]);
		n++;
	}
	for (int i = 0; i < 500; i++) {
		snprintf(values[n], sizeof(values[n]), "+3361%07d", i * 7919 % 10000000);
		put(d, IID, n, BW_FRAUD_NUMBER, values[n]);
		n++;
	}
	for (int i = 0; i < 500; i++) {
		snprintf(values[n], sizeof(values[n]), "spam%d@example.com", i);
		put(d, IID, n, BW_FRAUD_EMAIL, values[n]);
		n++;
	}
	for (int i = 0; i < 1000; i++) {
		char r[64];
		random_range(r, sizeof(r));
		put(d, IID, 10000 + i, BW_FRAUD_ADDRESS, r);
	}
	for (int i = 0; i < 10000; i++)
		ref_find(&ref_deny, values[i], true);
	for (int i = 0; i < 1000; i++) {
		char iid[48];
		snprintf(iid, sizeof(iid), "in_other%d", i % 20);
		put(d, iid, 20000 + i, BW_FRAUD_ADDRESS, cl[i].addr);
	}

	/* Steady state: every client made one contact in the last ten minutes. */
	const struct bw_fraud_rule rule = {BW_FRAUD_ADDRESS, 20, 600, 3600};
	long long t0 = 1800000000000LL, now = t0;
	for (int i = 0; i < CLIENTS + ABUSERS; i++) {
		if (bw_fraud_count(w, IID, &rule, cl[i].key, t0 - 600000 + i * 6) != BW_OK)
			return 1;
		ref_find(&ref_win, cl[i].key, true)->start = t0 - 600000 + i * 6;
	}
	for (long i = 0; i < decisions; i++)
		seq[i] = rnd() % 100 ? rnd() % CLIENTS : CLIENTS + rnd() % ABUSERS;

	/* Each run goes in chunks of CHUNK decisions whose request data (the
	 * address text, and the key for the reference) is first copied into a
	 * buffer, untimed: in the server that text was just read off the
	 * connection and is in cache, while the filter's tables are not. */
	struct client *chunk = malloc(CHUNK * sizeof(*chunk));
	if (!chunk)
		return 1;
	long denied = 0, refused = 0, passed = 0;
	char key[256];
	double filter_s = 0;
	for (long base = 0; base < decisions; base += CHUNK) {
		long m = decisions - base < CHUNK ? decisions - base : CHUNK;
		for (long i = 0; i < m; i++)
			chunk[i] = cl[seq[base + i]];
		double a = now_s();
		for (long i = 0; i < m; i++) {
			const struct client *c = &chunk[i];
			now += 1; /* 1,000 decisions a simulated second */
			if (bw_fraud_denied(d, IID, BW_FRAUD_ADDRESS, c->addr, now, NULL, 0)) {
				denied++;
				continue;
			}
			if (bw_fraud_key(BW_FRAUD_ADDRESS, c->addr, key, sizeof(key)) != 0)
				return 1;
			if (!bw_fraud_would_pass(w, IID, &rule, key, now)) {
				refused++;
				continue;
			}
			if (bw_fraud_count(w, IID, &rule, key, now) != BW_OK)
				return 1;
			passed++;
		}
		filter_s += now_s() - a;
	}

	/* ---- the reference, same sequence ---- */
	long rdenied = 0, rrefused = 0;
	double ref_s = 0;
	now = t0;
	for (long base = 0; base < decisions; base += CHUNK) {
		long m = decisions - base < CHUNK ? decisions - base : CHUNK;
		for (long i = 0; i < m; i++)
			chunk[i] = cl[seq[base + i]];
		double a = now_s();
		for (long i = 0; i < m; i++) {
			const struct client *c = &chunk[i];
			now += 1;
			if (ref_find(&ref_deny, c->addr, false)) {
				rdenied++;
				continue;
			}
			struct ref_slot *s = ref_find(&ref_win, c->key, false);
			if (now - s->start >= 600000) {
				s->start = now;
				s->n = 0;
			}
			if (s->n >= rule.limit)
				rrefused++;
			else
				s->n++;
		}
		ref_s += now_s() - a;
	}

	long rss1 = rss_kib();
	double rate = (double)decisions / filter_s, ref_rate = (double)decisions / ref_s;
	printf("fraud filter: %ld decisions (%ld denied, %ld refused, %ld passed) on %d keys,\n"
	       "  deny list %zu entries (10,000 exact + 1,000 ranges + 1,000 elsewhere)\n",
	       decisions, denied, refused, passed, CLIENTS + ABUSERS, bw_fraud_denylist_size(d));
	printf("fraud filter: %.0f decisions/s (%.0f ns each), plain-hash reference %.0f/s "
	       "(%ld denied, %ld refused), ratio %.2f\n"
	       "  (goal >= 1,000,000/s: %s)\n",
	       rate, 1e9 / rate, ref_rate, rdenied, rrefused, rate / ref_rate,
	       rate >= 1e6 ? "met" : "NOT met");
	printf("fraud filter: %zu window keys holding %zu KiB; RSS %+ld KiB in all (clients, the "
	       "sequence, the deny list, the windows and the reference)\n",
	       bw_fraud_windows_keys(w), bw_fraud_windows_bytes(w) >> 10, rss1 - rss0);

	/* The parts of a decision, each over the same sequence (no counting). */
	now = t0 + decisions;
	double part[3] = {0, 0, 0};
	long sink = 0;
	for (long base = 0; base < decisions; base += CHUNK) {
		long m = decisions - base < CHUNK ? decisions - base : CHUNK;
		for (long i = 0; i < m; i++)
			chunk[i] = cl[seq[base + i]];
		double a = now_s();
		for (long i = 0; i < m; i++)
			sink +=
			    bw_fraud_denied(d, IID, BW_FRAUD_ADDRESS, chunk[i].addr, now, NULL, 0);
		double b = now_s();
		for (long i = 0; i < m; i++)
			sink += bw_fraud_key(BW_FRAUD_ADDRESS, chunk[i].addr, key, sizeof(key));
		double c = now_s();
		for (long i = 0; i < m; i++)
			sink += bw_fraud_would_pass(w, IID, &rule, chunk[i].key, now);
		part[0] += b - a;
		part[1] += c - b;
		part[2] += now_s() - c;
	}
	printf("fraud filter: per decision %.0f ns deny list, %.0f ns key, %.0f ns would_pass "
	       "(%ld)\n",
	       part[0] * 1e9 / (double)decisions, part[1] * 1e9 / (double)decisions,
	       part[2] * 1e9 / (double)decisions, sink % 2);
	free(chunk);
	bw_fraud_denylist_free(d);
	bw_fraud_windows_free(w);
	free(ref_deny.s);
	free(ref_win.s);
	free(cl);
	free(seq);
	return 0;
}
