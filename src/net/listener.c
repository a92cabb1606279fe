/* Listeners on libre's TCP (and TLS) transport, connection caps, and the
 * server's start and stop. The backlog is 1024 (libre's tcp_listen uses 5),
 * and the descriptor table is sized before listening. */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/config.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/metrics.h"
#include "net/egress.h"
#include "net/net_int.h"

struct bw_limits bw_net__limits;

#define HTTP_TXQ_MAX (16u * 1024 * 1024)

struct bw_listener {
	struct tcp_sock *ts;
	struct tls *tls;
	bool admin;
};

/* Open connections per client address (IPv6 counted by address). */
struct bw__addr_slot {
	struct le he;
	struct sa addr;
	size_t count;
};

static struct bw_listener pub, adm;
static struct list conns;
static struct hash *addr_counts;
static void (*shutdown_done)(void);
static struct tmr tmr_shutdown;
static struct tmr tmr_sweep;

#define SWEEP_MS 100
static double shutdown_deadline;

bool bw_listener_is_admin(const struct bw_listener *l)
{
	return l->admin;
}

bool bw_listener_is_tls(const struct bw_listener *l)
{
	return l->tls != NULL;
}

static size_t nconns; /* the length of conns (list_count walks the list) */

size_t bw_net_connections(void)
{
	return nconns;
}

static bool addr_cmp(struct le *le, void *arg)
{
	struct bw__addr_slot *s = le->data;
	return sa_cmp(&s->addr, arg, SA_ADDR);
}

static void slot_release(struct bw__addr_slot *s)
{
	if (s && --s->count == 0) {
		hash_unlink(&s->he);
		mem_deref(s);
	}
}

static void conn_destructor(void *arg)
{
	struct bw_conn *c = arg;
	tmr_cancel(&c->tmr_free);
	if (c->le.list) {
		list_unlink(&c->le);
		nconns--;
	}
	slot_release(c->slot);
	c->sc = mem_deref(c->sc);
	c->tc = mem_deref(c->tc);
	mem_deref(c->in);
	free(c->body);
	free(c->hfield);
	free(c->hval);
	free(c->ws_key);
	free(c->ws_version);
	free(c->upgrade);
	free(c->connection);
	free(c->te);
	bw_req_free(c->req);
	mem_deref(c->ws);
}

static void estab_handler(void *arg)
{
	(void)arg;
}

static void recv_handler(struct mbuf *mb, void *arg)
{
	bw_http__recv(arg, mb);
}

static void close_handler(int err, void *arg)
{
	(void)err;
	bw_http__close(arg);
}

static void conn_handler(const struct sa *peer, void *arg)
{
	struct bw_listener *l = arg;
	struct bw__addr_slot *slot;
	if (nconns >= bw_net__limits.max_conns) {
		tcp_reject(l->ts);
		return;
	}
	uint32_t key = sa_hash(peer, SA_ADDR);
	slot = list_ledata(hash_lookup(addr_counts, key, addr_cmp, (void *)peer));
	if (slot && slot->count >= bw_net__limits.max_conns_per_addr) {
		tcp_reject(l->ts);
		return;
	}
	struct bw_conn *c = mem_zalloc(sizeof(*c), conn_destructor);
	if (!c) {
		tcp_reject(l->ts);
		return;
	}
	c->lst = l;
	c->peer = *peer;
	c->in = mbuf_alloc(4096);
	if (!c->in || tcp_accept(&c->tc, l->ts, estab_handler, recv_handler, close_handler, c) != 0)
		goto fail;
	/* Replies are bounded by our own caps; a WebSocket gets its own cap. */
	tcp_conn_txqsz_set(c->tc, HTTP_TXQ_MAX);
	/* Small replies and frames leave at once (Nagle with a delayed ACK
	 * held a chat message back by 40 ms). */
	int one = 1;
	(void)setsockopt(tcp_conn_fd(c->tc), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (l->tls && tls_start_tcp(&c->sc, l->tls, c->tc, 0) != 0)
		goto fail;
	if (!slot) {
		slot = mem_zalloc(sizeof(*slot), NULL);
		if (!slot)
			goto fail;
		slot->addr = *peer;
		hash_append(addr_counts, key, &slot->he, slot);
	}
	slot->count++;
	c->slot = slot;
	list_append(&conns, &c->le, c);
	nconns++;
	bw_http__conn_start(c);
	return;
fail:
	if (!c->tc)
		tcp_reject(l->ts);
	mem_deref(c);
}

struct bw_listener *bw_listener__test_new(bool admin)
{
	struct bw_listener *l = mem_zalloc(sizeof(*l), NULL);
	if (l)
		l->admin = admin;
	return l;
}

struct bw_conn *bw_conn__test_new(struct bw_listener *l)
{
	struct bw_conn *c = mem_zalloc(sizeof(*c), conn_destructor);
	if (!c)
		return NULL;
	c->lst = l;
	c->in = mbuf_alloc(4096);
	if (!c->in)
		return mem_deref(c);
	bw_http__conn_start(c);
	return c;
}

static bw_result tls_setup(struct bw_listener *l, const char *cert, const char *key)
{
	if (tls_alloc(&l->tls, TLS_METHOD_SSLV23, NULL, NULL) != 0)
		return BW_ERR;
	SSL_CTX *ctx = tls_openssl_context(l->tls);
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
	                             SSL_OP_NO_COMPRESSION | SSL_OP_NO_TICKET);
	/* TLS 1.2: only ECDHE (forward secret) with AEAD ciphers. */
	if (SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20") != 1 ||
	    SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		bw_log(BW_LOG_ERROR, "cannot load the TLS certificate or key", "tls_cert", cert);
		return BW_INVALID;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	return BW_OK;
}

static bw_result listen_on(struct bw_listener *l, const char *hostport, char *out, size_t outsz)
{
	char host[64];
	uint16_t port;
	struct sa sa;
	if (bw_parse_hostport(hostport, host, sizeof(host), &port) != 0)
		return BW_INVALID;
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	if (sa_set_str(&sa, host, port) != 0)
		return BW_INVALID;
	if (tcp_sock_alloc(&l->ts, &sa, conn_handler, l) != 0 || tcp_sock_bind(l->ts, &sa) != 0 ||
	    tcp_sock_listen(l->ts, 1024) != 0) {
		bw_log(BW_LOG_ERROR, "cannot listen", "address", hostport);
		return BW_ERR;
	}
	struct sa local;
	if (tcp_sock_local_get(l->ts, &local) != 0)
		return BW_ERR;
	if (re_snprintf(out, outsz, "%J", &local) < 0)
		return BW_ERR;
	return BW_OK;
}

/* Fires connection deadlines and WebSocket pings (see bw_http__set_deadline). */
static void (*tick_fn)(void);

void bw_server_set_tick(void (*fn)(void))
{
	tick_fn = fn;
}

static void sweep(void *arg)
{
	(void)arg;
	if (tick_fn)
		tick_fn();
	uint64_t now = tmr_jiffies();
	struct le *le = list_head(&conns);
	while (le) {
		struct bw_conn *c = le->data;
		le = le->next; /* a closed connection stays listed until freed */
		bw_http__sweep(c, now);
	}
	tmr_start(&tmr_sweep, SWEEP_MS, sweep, NULL);
}

static const char **route_names(void)
{
	static const char **names;
	if (!names) {
		names = calloc(bw_routes_count + 1, sizeof(*names));
		if (!names)
			return NULL;
		for (size_t i = 0; i < bw_routes_count; i++)
			names[i] = bw_routes[i].pattern;
		names[bw_routes_count] = "unmatched";
	}
	return names;
}

bw_result bw_server_start(const struct bw_server_opts *o, char *listen_out, size_t lsz,
                          char *admin_out, size_t asz)
{
	const struct bw_config *cfg = o->cfg;
	struct bw_limits *L = &bw_net__limits;
	L->max_body = (size_t)bw_config_int(cfg, "max_body_bytes");
	L->header_timeout_ms = (uint32_t)bw_config_int(cfg, "header_timeout_ms");
	L->body_timeout_ms = (uint32_t)bw_config_int(cfg, "body_timeout_ms");
	L->idle_timeout_ms = (uint32_t)bw_config_int(cfg, "idle_timeout_ms");
	L->max_conns = (size_t)bw_config_int(cfg, "max_connections");
	L->max_conns_per_addr = (size_t)bw_config_int(cfg, "max_connections_per_addr");
	L->ws_max_msg = (size_t)bw_config_int(cfg, "ws_max_message_bytes");
	L->ws_max_queue = (size_t)bw_config_int(cfg, "ws_max_queue_bytes");
	L->ws_ping_ms = (uint32_t)bw_config_int(cfg, "ws_ping_interval_s") * 1000;
	L->ws_idle_ms = (uint32_t)bw_config_int(cfg, "ws_idle_timeout_s") * 1000;
	L->hsts_max_age = (int)bw_config_int(cfg, "hsts_max_age_s");
	L->shutdown_ms = (uint32_t)bw_config_int(cfg, "shutdown_timeout_ms");
	http_parser_set_max_header_size(BW_MAX_HEADER_BYTES);
	if (bw_net__trusted_init(bw_config_str(cfg, "trusted_proxies")) != BW_OK)
		return BW_INVALID;

	int maxfds = (int)bw_config_int(cfg, "max_fds");
	fd_setsize(0);
	if (fd_setsize(maxfds) != 0)
		return BW_ERR;
	list_init(&conns);
	if (hash_alloc(&addr_counts, 1024) != 0)
		return BW_NOMEM;
	if (bw_metrics_init(bw_routes_count, route_names()) != 0)
		return BW_NOMEM;
	bw_result r = bw_loopcall__init();
	if (r != BW_OK)
		return r;
	r = bw_ws__init();
	if (r != BW_OK)
		return r;
	r = bw_egress__start();
	if (r != BW_OK)
		return r;
	r = bw_dispatch__init(o);
	if (r != BW_OK)
		return r;
	const char *cert = bw_config_str(cfg, "tls_cert");
	if (cert && (r = tls_setup(&pub, cert, bw_config_str(cfg, "tls_key"))) != BW_OK)
		return r;
	adm.admin = true;
	tmr_start(&tmr_sweep, SWEEP_MS, sweep, NULL);
	r = listen_on(&pub, bw_config_str(cfg, "listen"), listen_out, lsz);
	if (r != BW_OK)
		return r;
	return listen_on(&adm, bw_config_str(cfg, "admin_listen"), admin_out, asz);
}

static bool egress_cut;

static void shutdown_poll(void *arg)
{
	(void)arg;
	bool drained = bw_dispatch__inflight() == 0 && bw_ws_count() == 0;
	/* At the deadline, outbound calls still out answer their callers (the
	 * workers waiting on them then reply): a moment more for those. */
	if (!drained && !egress_cut && bw_now_mono() > shutdown_deadline) {
		egress_cut = true;
		if (bw_egress__abort_all() > 0)
			shutdown_deadline = bw_now_mono() + 0.5;
	}
	if (drained || bw_now_mono() > shutdown_deadline) {
		shutdown_done();
		return;
	}
	tmr_start(&tmr_shutdown, 10, shutdown_poll, NULL);
}

void bw_server_shutdown(void (*done)(void))
{
	shutdown_done = done;
	egress_cut = false;
	pub.ts = mem_deref(pub.ts);
	adm.ts = mem_deref(adm.ts);
	bw_ws__close_all(1001);
	shutdown_deadline = bw_now_mono() + bw_net__limits.shutdown_ms / 1000.0;
	tmr_start(&tmr_shutdown, 0, shutdown_poll, NULL);
}

void bw_server_free(void)
{
	tmr_cancel(&tmr_shutdown);
	tmr_cancel(&tmr_sweep);
	bw_egress__fini(); /* answers every call still out: no worker waits on the loop */
	bw_dispatch__stop();
	struct le *le;
	while ((le = list_head(&conns))) {
		struct bw_conn *c = le->data;
		list_unlink(&c->le);
		nconns--;
		c->closed = true;
		tmr_cancel(&c->tmr_free);
		if (!c->released) {
			c->released = true;
			mem_deref(c);
		}
	}
	bw_ws__fini();
	bw_loopcall__fini();
	hash_flush(addr_counts);
	addr_counts = mem_deref(addr_counts);
	pub.tls = mem_deref(pub.tls);
	bw_metrics_fini();
}
