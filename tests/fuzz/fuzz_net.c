#include "fuzz_net.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/log.h"
#include "core/metrics.h"

bool fuzz_dump;

void fuzz_dump_bytes(const uint8_t *b, size_t n)
{
	fprintf(stderr, "--- sink, %zu bytes\n", n);
	for (size_t i = 0; i < n; i++) {
		if ((b[i] >= 0x20 && b[i] < 0x7f) || b[i] == '\n')
			fputc(b[i], stderr);
		else if (b[i] != '\r')
			fprintf(stderr, "\\x%02x", b[i]);
	}
	fputc('\n', stderr);
}

void fuzz_fail(const char *what, const char *file, int line)
{
	fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", what, file, line);
	abort();
}

/* The same mapping as bw_server_start, from the settings table's defaults. */
static void set_limits(void)
{
	struct bw_config cfg;
	struct bw_config_err err;
	bw_config_init(&cfg);
	if (bw_config_set(&cfg, "data", "/nonexistent", "fuzz", &err) != 0 ||
	    bw_config_finish(&cfg, &err) != 0) {
		fprintf(stderr, "fuzz: defaults: %s\n", err.msg);
		abort();
	}
	struct bw_limits *L = &bw_net__limits;
	L->max_body = (size_t)bw_config_int(&cfg, "max_body_bytes");
	L->header_timeout_ms = (uint32_t)bw_config_int(&cfg, "header_timeout_ms");
	L->body_timeout_ms = (uint32_t)bw_config_int(&cfg, "body_timeout_ms");
	L->idle_timeout_ms = (uint32_t)bw_config_int(&cfg, "idle_timeout_ms");
	L->max_conns = (size_t)bw_config_int(&cfg, "max_connections");
	L->max_conns_per_addr = (size_t)bw_config_int(&cfg, "max_connections_per_addr");
	L->ws_max_msg = (size_t)bw_config_int(&cfg, "ws_max_message_bytes");
	L->ws_max_queue = (size_t)bw_config_int(&cfg, "ws_max_queue_bytes");
	L->ws_ping_ms = (uint32_t)bw_config_int(&cfg, "ws_ping_interval_s") * 1000;
	L->ws_idle_ms = (uint32_t)bw_config_int(&cfg, "ws_idle_timeout_s") * 1000;
	L->hsts_max_age = (int)bw_config_int(&cfg, "hsts_max_age_s");
	L->shutdown_ms = (uint32_t)bw_config_int(&cfg, "shutdown_timeout_ms");
	bw_config_free(&cfg);
	/* The values the NOTES name; a changed default should be a choice. */
	if (L->max_body != 1048576 || L->header_timeout_ms != 10000 || L->ws_max_msg != 65536) {
		fprintf(stderr, "fuzz: unexpected defaults\n");
		abort();
	}
}

void fuzz_net_init(void)
{
	static const char **names;
	if (sodium_init() < 0 || libre_init() != 0) {
		fprintf(stderr, "fuzz: init failed\n");
		abort();
	}
	/* Silence the access log (one line per request) unless asked. */
	if (!getenv("FUZZ_VERBOSE"))
		bw_log_min = (enum bw_log_level)(BW_LOG_ERROR + 1);
	fuzz_dump = getenv("FUZZ_DUMP") != NULL;
	set_limits();
	http_parser_set_max_header_size(BW_MAX_HEADER_BYTES);
	/* The fuzzers' peers (fuzz_conn_new) are proxies, so X-Forwarded-For
	 * is parsed. */
	if (bw_net__trusted_init("192.0.2.0/24, 2001:db8::/32, 10.0.0.0/8") != BW_OK)
		abort();
	names = calloc(bw_routes_count + 1, sizeof(*names));
	if (!names)
		abort();
	for (size_t i = 0; i < bw_routes_count; i++)
		names[i] = bw_routes[i].pattern;
	names[bw_routes_count] = "unmatched";
	if (bw_metrics_init(bw_routes_count, names) != 0 || bw_ws__init() != BW_OK)
		abort();
}

bool fuzz_input_parse(const uint8_t *buf, size_t n, struct fuzz_input *in)
{
	if (n == 0)
		return false;
	memset(in, 0, sizeof(*in));
	in->ctl = buf[0];
	size_t k = in->ctl & FUZZ_CTL_SPLITS;
	if (k > n - 1)
		k = n - 1;
	in->sizes = buf + 1;
	in->nsizes = k;
	in->data = buf + 1 + k;
	in->len = n - 1 - k;
	return true;
}

/* Listeners live for the process: the connection keeps a plain pointer. */
static struct bw_listener *listener(bool admin)
{
	static struct bw_listener *pub, *adm;
	struct bw_listener **l = admin ? &adm : &pub;
	if (!*l)
		*l = bw_listener__test_new(admin);
	if (!*l)
		abort();
	return *l;
}

struct bw_conn *fuzz_conn_new(bool admin, bool v6_peer)
{
	struct bw_conn *c = bw_conn__test_new(listener(admin));
	if (!c)
		abort();
	if (sa_set_str(&c->peer, v6_peer ? "2001:db8::7" : "192.0.2.7", 40000) != 0)
		abort();
	return c;
}

void fuzz_feed(struct bw_conn *c, const struct fuzz_input *in, const uint8_t *data, size_t len,
               size_t *turn, void (*between)(struct bw_conn *c, void *arg), void *arg)
{
	size_t off = 0;
	while (off < len) {
		size_t n = len - off;
		if (in->nsizes) {
			size_t want = (size_t)in->sizes[*turn % in->nsizes] + 1;
			(*turn)++;
			if (want < n)
				n = want;
		}
		/* A view of the caller's bytes: ASan sees any read past them. */
		struct mbuf mb;
		mbuf_init(&mb);
		mb.buf = (uint8_t *)(uintptr_t)(data + off);
		mb.size = mb.end = n;
		bw_http__recv(c, &mb);
		off += n;
		if (between && off < len)
			between(c, arg);
	}
}

void fuzz_fire_deadline(struct bw_conn *c)
{
	/* What the loop's sweep does once the deadline has passed. */
	if (c->deadline)
		bw_http__sweep(c, c->deadline);
}

void fuzz_conn_free(struct bw_conn *c)
{
	/* What the loop does: close (ends a WebSocket session), then the
	 * zero-delay free timer drops the connection's own reference. That
	 * timer never runs here, so drop it directly; the destructor cancels it. */
	bw_http__close(c);
	mem_deref(c);
}
