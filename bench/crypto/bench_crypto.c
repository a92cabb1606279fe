/* Encryption at rest (C14), in process: what sealing costs on the two hot
 * write paths of the engine's writer (src/cc/persist.c), each value its own
 * transaction on a WAL database as the daemon runs it:
 *   contact records: seal the customer JSON, bw_store_contact_put, append
 *                    two flow-log entries;
 *   transcript appends: seal the text, bw_store_message_insert.
 * Each is run sealed (bw_seal: keyring lookup and XChaCha20-Poly1305) and
 * with sealing switched off - a copy of the plaintext in place of the
 * sealed blob, a switch of this benchmark only; the daemon has none - in
 * alternating rounds on the same database. Prints ops/s and the ratio
 * sealed/plain of each (goal >= 0.8), then the read side (open) for scale.
 *   bench_crypto [N per round] [rounds] [full]   (full: synchronous=FULL) */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "sec/keyring.h"
#include "sec/seal.h"
#include "store/store.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *IID = "in_bench";
static unsigned long long seq;

/* The switch: sealed, or the plaintext copied as it is. */
static int blob(int sealed, const char *table, const char *row, const char *column,
                const char *text, uint8_t **out, size_t *len)
{
	size_t n = strlen(text);
	if (sealed)
		return bw_seal(IID, table, row, column, (const uint8_t *)text, n, out, len) == BW_OK
		           ? 0
		           : -1;
	*out = malloc(n);
	if (!*out)
		return -1;
	memcpy(*out, text, n);
	*len = n;
	return 0;
}

static int contact_write(struct bw_store *s, int sealed)
{
	struct bw_contact c;
	struct bw_flow_log_entry log[2];
	char json[512];
	memset(&c, 0, sizeof(c));
	memset(log, 0, sizeof(log));
	seq++;
	snprintf(c.id, sizeof(c.id), "ct_bench_%llu", seq);
	snprintf(c.instance_id, sizeof(c.instance_id), "%s", IID);
	snprintf(c.channel, sizeof(c.channel), "CHAT");
	snprintf(c.initiation_method, sizeof(c.initiation_method), "API");
	snprintf(c.state, sizeof(c.state), "ENDED");
	snprintf(c.entry_point_id, sizeof(c.entry_point_id), "ep_bench");
	snprintf(c.flow_id, sizeof(c.flow_id), "fl_bench");
	snprintf(c.queue_id, sizeof(c.queue_id), "qu_bench");
	snprintf(c.disconnect_reason, sizeof(c.disconnect_reason), "CUSTOMER_DISCONNECT");
	c.flow_version = 2;
	c.initiated_at = c.updated_at = c.disconnected_at = 1796040000000LL + (long long)seq;
	snprintf(json, sizeof(json),
	         "{\"display_name\":\"Customer %llu\",\"email\":\"customer%llu@example.com\","
	         "\"address\":\"203.0.113.%llu\",\"attributes\":{\"callback_number\":"
	         "\"+12024561111\",\"order\":\"A-%llu\",\"plan\":\"gold\"},\"classes\":{}}",
	         seq, seq, seq % 250, seq);
	if (blob(sealed, "contacts", c.id, "customer", json, &c.customer, &c.customer_len) != 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		snprintf(log[i].instance_id, sizeof(log[i].instance_id), "%s", IID);
		snprintf(log[i].contact_id, sizeof(log[i].contact_id), "%s", c.id);
		log[i].seq = i + 1;
		log[i].time = c.initiated_at;
		snprintf(log[i].action_id, sizeof(log[i].action_id), "step%d", i);
		snprintf(log[i].action_type, sizeof(log[i].action_type), "MessageParticipant");
		snprintf(log[i].branch, sizeof(log[i].branch), "Next");
	}
	int rc = bw_store_contact_put(s, &c, NULL) == BW_OK &&
	                 bw_store_flow_log_append(s, log, 2) == BW_OK
	             ? 0
	             : -1;
	bw_contact_clear(&c);
	return rc;
}

static char chat_cid[48];

static int message_append(struct bw_store *s, int sealed)
{
	struct bw_contact_message m;
	char text[160];
	memset(&m, 0, sizeof(m));
	seq++;
	snprintf(m.id, sizeof(m.id), "ms_bench_%llu", seq);
	snprintf(m.instance_id, sizeof(m.instance_id), "%s", IID);
	snprintf(m.contact_id, sizeof(m.contact_id), "%s", chat_cid);
	m.seq = (long long)seq;
	snprintf(m.role, sizeof(m.role), "CUSTOMER");
	m.time = 1796040000000LL + (long long)seq;
	snprintf(text, sizeof(text),
	         "Message %llu: my order has not arrived, can you check "
	         "where it is? Thanks!",
	         seq);
	if (blob(sealed, "contact_messages", m.id, "content", text, &m.content, &m.content_len) !=
	    0)
		return -1;
	int rc = bw_store_message_insert(s, &m) == BW_OK ? 0 : -1;
	bw_contact_message_clear(&m);
	return rc;
}

typedef int(op_fn)(struct bw_store *s, int sealed);

static double rate(struct bw_store *s, op_fn *op, int sealed, long n)
{
	double t0 = now_s();
	for (long i = 0; i < n; i++)
		if (op(s, sealed) != 0) {
			fprintf(stderr, "bench_crypto: a write failed\n");
			exit(1);
		}
	return (double)n / (now_s() - t0);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return v[n / 2];
}

/* Alternating rounds, plain first then sealed then the other way round. */
static void compare(struct bw_store *s, const char *name, op_fn *op, long n, int rounds)
{
	double plain[64], sealed[64], ratio[64];
	for (int r = 0; r < rounds; r++) {
		if (r % 2 == 0) {
			plain[r] = rate(s, op, 0, n);
			sealed[r] = rate(s, op, 1, n);
		} else {
			sealed[r] = rate(s, op, 1, n);
			plain[r] = rate(s, op, 0, n);
		}
		ratio[r] = sealed[r] / plain[r];
	}
	double rr = median(ratio, rounds);
	printf("%s: sealed %.0f/s, plain %.0f/s (medians of %d rounds of %ld); ratio %.3f "
	       "(goal >= 0.8: %s)\n",
	       name, median(sealed, rounds), median(plain, rounds), rounds, n, rr,
	       rr >= 0.8 ? "met" : "NOT met");
}

/* The sealing alone (no store), for scale: what the ratio above pays. */
static void seal_only(long n)
{
	static const char json[] =
	    "{\"display_name\":\"Customer 1\",\"email\":\"c1@example.com\","
	    "\"address\":\"203.0.113.1\",\"attributes\":{\"order\":\"A-1\"}}";
	double t0 = now_s();
	for (long i = 0; i < n; i++) {
		uint8_t *ct = NULL;
		size_t cl = 0;
		if (bw_seal(IID, "contacts", "ct_x", "customer", (const uint8_t *)json,
		            sizeof(json) - 1, &ct, &cl) != BW_OK)
			exit(1);
		free(ct);
	}
	printf("seal alone: %.2f us per %zu-byte value (keyring lookup + XChaCha20-Poly1305)\n",
	       (now_s() - t0) / (double)n * 1e6, sizeof(json) - 1);
}

/* The read side, for scale: a transcript page of 100 values opened. */
static void reads(struct bw_store *s, int rounds)
{
	struct bw_contact_message *m = calloc(100, sizeof(*m));
	size_t n = 0;
	long opened = 0;
	double t0 = now_s();
	for (int r = 0; r < rounds * 20; r++) {
		if (bw_store_message_list(s, IID, chat_cid, 0, m, 100, &n) != BW_OK)
			break;
		for (size_t i = 0; i < n; i++) {
			uint8_t *pt = NULL;
			size_t pl = 0;
			if (m[i].content_len && m[i].content[0] == BW_SEAL_VERSION &&
			    bw_unseal(IID, "contact_messages", m[i].id, "content", m[i].content,
			              m[i].content_len, &pt, &pl) == BW_OK)
				opened++;
			bw_unseal_free(pt);
			bw_contact_message_clear(&m[i]);
		}
	}
	printf("reads: %.0f values opened/s (store page reads included)\n",
	       (double)opened / (now_s() - t0));
	free(m);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 5000;
	int rounds = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 5;
	int full = argc > 3 && !strcmp(argv[3], "full");
	char dir[] = "/tmp/bench-crypto-XXXXXX", db[96];
	uint8_t root[32];
	struct bw_store *s = NULL;
	int v = 0;
	bw_log_min = BW_LOG_WARN;
	if (sodium_init() < 0 || n <= 0 || rounds < 1 || rounds > 64 || !mkdtemp(dir))
		return 2;
	randombytes_buf(root, sizeof(root));
	snprintf(db, sizeof(db), "%s/bulwark.db", dir);
	enum bw_durability dur = full ? BW_DURABILITY_FULL : BW_DURABILITY_NORMAL;
	if (bw_store_open(&s, db, dur) != BW_OK || bw_store_migrate(s, &v) != BW_OK ||
	    bw_keyring_start(db, full, root, NULL) != BW_OK)
		return 1;
	struct bw_instance in = {.created_at = 1, .updated_at = 1};
	struct bw_profile p = {.permissions = "[]", .created_at = 1, .updated_at = 1};
	struct bw_user u = {.created_at = 1, .updated_at = 1};
	snprintf(in.id, sizeof(in.id), "%s", IID);
	snprintf(in.alias, sizeof(in.alias), "bench");
	snprintf(in.default_region, sizeof(in.default_region), "US");
	snprintf(p.id, sizeof(p.id), "sp_bench");
	snprintf(p.instance_id, sizeof(p.instance_id), "%s", IID);
	snprintf(p.name, sizeof(p.name), "Admin");
	snprintf(u.id, sizeof(u.id), "us_bench");
	snprintf(u.instance_id, sizeof(u.instance_id), "%s", IID);
	snprintf(u.username, sizeof(u.username), "admin");
	if (bw_store_instance_create(s, &in, &p, 1, &u, p.id) != BW_OK || contact_write(s, 1) != 0)
		return 1;
	snprintf(chat_cid, sizeof(chat_cid), "ct_bench_%llu", seq);
	printf("bench_crypto: %s durability, %ld writes per round, SQLite WAL, one thread (the "
	       "engine's writer)\n",
	       full ? "full" : "normal", n);
	/* Warm-up: the keyring's cache and the statement cache. */
	rate(s, contact_write, 1, n / 10 + 1);
	rate(s, message_append, 1, n / 10 + 1);
	compare(s, "contact-record writes", contact_write, n, rounds);
	compare(s, "transcript appends", message_append, n, rounds);
	seal_only(n * 20);
	reads(s, rounds);
	bw_store_close(s);
	bw_keyring_stop();
	const char *suffix[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < 3; i++) {
		char f[128];
		snprintf(f, sizeof(f), "%s%s", db, suffix[i]);
		unlink(f);
	}
	rmdir(dir);
	return 0;
}
