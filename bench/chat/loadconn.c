/* HTTP/1.1 and WebSocket client connections on libre's loop (see loadconn.h).
 * Responses are parsed with http-parser (as the server does), frames with
 * wslay's client context (it masks every frame; the masks come from a pool of
 * libsodium random bytes). Nothing is freed inside a libre handler: a dropped
 * connection waits in a list that lc_reap() empties from a timer. */
#include <re_types.h>
#include <re_fmt.h>
#include <re_mem.h>
#include <re_mbuf.h>
#include <re_list.h>
#include <re_sa.h>
#include <re_main.h>
#include <re_tcp.h>

#include <errno.h>
#include <http_parser.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/sha.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <wslay/wslay.h>

#include "loadconn.h"

#define BODY_MAX (4u << 20)     /* largest HTTP reply body kept */
#define WS_MSG_MAX (1u << 20)   /* largest WebSocket message accepted */
#define TXQ_MAX (4u << 20)      /* libre send queue per connection */
#define HTTP_IDLE_US 10000000u  /* replace a keep-alive connection idle this long */

struct lc_stats lc_stats;

struct buf {
	char *p;
	size_t len, cap;
};

struct hreq {
	struct le le;
	char *data;
	size_t len;
	lc_http_h *h;
	void *arg;
	int tries;
};

enum kind { K_HTTP, K_WS };
enum state { S_IDLE, S_CONNECTING, S_OPEN, S_WS, S_DEAD };

struct lc_conn {
	struct le le; /* in the graveyard once dropped */
	enum kind kind;
	enum state state;
	struct tcp_conn *tc;
	http_parser parser;
	struct buf in, body, out; /* out: a frame header waiting for its payload */
	/* header being parsed (name, value) and the two the handshake checks */
	char hname[40], hval[128];
	size_t hname_len, hval_len;
	bool in_value, msg_done, headers_done;
	char accept_got[40], accept_want[40];
	bool proto_v1;
	size_t rx_bytes; /* reply bytes seen for the request in flight */
	/* HTTP */
	struct list q;
	bool inflight;
	uint64_t last_used;
	/* WebSocket */
	char *handshake;
	wslay_event_context_ptr ws;
	const struct lc_ws_handlers *wh;
	void *arg;
	bool dropped, close_reported;
};

static struct sa server;
static char host_hdr[64];
static struct list graveyard;

/* ---- helpers ---- */

uint64_t lc_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int buf_add(struct buf *b, const void *p, size_t n, size_t max)
{
	if (b->len + n > max)
		return -1;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 512;
		while (cap < b->len + n)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (!np)
			return -1;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

static void buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* Mask keys: random bytes from libsodium, drawn 4 KiB at a time. */
static void random_bytes(uint8_t *out, size_t n)
{
	static uint8_t pool[4096];
	static size_t left;
	while (n) {
		if (!left) {
			randombytes_buf(pool, sizeof(pool));
			left = sizeof(pool);
		}
		size_t k = n < left ? n : left;
		memcpy(out, pool + sizeof(pool) - left, k);
		left -= k;
		out += k;
		n -= k;
	}
}

static void set_nodelay(struct tcp_conn *tc)
{
	int one = 1;
	int fd = tcp_conn_fd(tc);
	if (fd >= 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static int raw_send(struct lc_conn *c, const void *p, size_t n)
{
	struct mbuf mb;
	if (!c->tc || c->dropped)
		return -1;
	mbuf_init(&mb);
	mb.buf = (uint8_t *)(uintptr_t)p;
	mb.size = mb.end = n;
	lc_stats.bytes_out += n;
	return tcp_send(c->tc, &mb);
}

/* ---- response parsing (http-parser) ---- */

static void header_done(struct lc_conn *c)
{
	if (!c->hname_len)
		return;
	c->hname[c->hname_len] = '\0';
	c->hval[c->hval_len] = '\0';
	if (!strcasecmp(c->hname, "sec-websocket-accept"))
		snprintf(c->accept_got, sizeof(c->accept_got), "%.39s", c->hval);
	else if (!strcasecmp(c->hname, "sec-websocket-protocol"))
		c->proto_v1 = !strcmp(c->hval, "bulwark.v1");
	c->hname_len = c->hval_len = 0;
}

static int on_hfield(http_parser *p, const char *at, size_t n)
{
	struct lc_conn *c = p->data;
	if (c->in_value) {
		header_done(c);
		c->in_value = false;
	}
	size_t room = sizeof(c->hname) - 1 - c->hname_len;
	if (n > room)
		n = room;
	memcpy(c->hname + c->hname_len, at, n);
	c->hname_len += n;
	return 0;
}

static int on_hvalue(http_parser *p, const char *at, size_t n)
{
	struct lc_conn *c = p->data;
	c->in_value = true;
	size_t room = sizeof(c->hval) - 1 - c->hval_len;
	if (n > room)
		n = room;
	memcpy(c->hval + c->hval_len, at, n);
	c->hval_len += n;
	return 0;
}

static int on_headers_complete(http_parser *p)
{
	struct lc_conn *c = p->data;
	header_done(c);
	c->in_value = false;
	c->headers_done = true;
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
	struct lc_conn *c = p->data;
	return buf_add(&c->body, at, n, BODY_MAX);
}

static int on_message_complete(http_parser *p)
{
	struct lc_conn *c = p->data;
	c->msg_done = true;
	http_parser_pause(p, 1); /* one reply at a time */
	return 0;
}

static const http_parser_settings psettings = {
	.on_header_field = on_hfield,
	.on_header_value = on_hvalue,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

static void parser_reset(struct lc_conn *c)
{
	http_parser_init(&c->parser, HTTP_RESPONSE);
	c->parser.data = c;
	c->body.len = 0;
	c->hname_len = c->hval_len = 0;
	c->in_value = c->msg_done = c->headers_done = false;
	c->rx_bytes = 0;
}

/* ---- connections ---- */

static void estab_h(void *arg);
static void recv_h(struct mbuf *mb, void *arg);
static void close_h(int err, void *arg);

static int conn_connect(struct lc_conn *c)
{
	lc_stats.connects++;
	parser_reset(c);
	c->in.len = 0;
	if (tcp_connect(&c->tc, &server, estab_h, recv_h, close_h, c) != 0) {
		lc_stats.connect_errors++;
		c->tc = NULL;
		return -1;
	}
	tcp_conn_txqsz_set(c->tc, TXQ_MAX);
	c->state = S_CONNECTING;
	return 0;
}

/* A closed socket is detached from its connection at once and freed by
 * lc_reap(): never inside one of its own handlers. */
static struct tcp_conn **dead_tcs;
static size_t ndead, dead_cap;

static void noop_estab(void *arg)
{
	(void)arg;
}

static void noop_recv(struct mbuf *mb, void *arg)
{
	(void)mb;
	(void)arg;
}

static void noop_close(int err, void *arg)
{
	(void)err;
	(void)arg;
}

static void tc_release(struct tcp_conn *tc)
{
	if (!tc)
		return;
	tcp_set_handlers(tc, noop_estab, noop_recv, noop_close, NULL);
	if (ndead == dead_cap) {
		size_t cap = dead_cap ? dead_cap * 2 : 256;
		struct tcp_conn **n = realloc(dead_tcs, cap * sizeof(*n));
		if (!n) {
			mem_deref(tc); /* out of memory: free now rather than leak */
			return;
		}
		dead_tcs = n;
		dead_cap = cap;
	}
	dead_tcs[ndead++] = tc;
}

static void conn_shut(struct lc_conn *c)
{
	tc_release(c->tc);
	c->tc = NULL;
	c->state = S_IDLE;
}

void lc_conn_drop(struct lc_conn *c)
{
	if (!c || c->dropped)
		return;
	c->dropped = true;
	c->state = S_DEAD;
	list_append(&graveyard, &c->le, c);
}

static void conn_free(struct lc_conn *c)
{
	tc_release(c->tc);
	if (c->ws)
		wslay_event_context_free(c->ws);
	struct le *le;
	while ((le = list_head(&c->q))) {
		struct hreq *r = le->data;
		list_unlink(le);
		free(r->data);
		free(r);
	}
	buf_free(&c->in);
	buf_free(&c->body);
	buf_free(&c->out);
	free(c->handshake);
	free(c);
}

void lc_reap(void)
{
	struct le *le;
	while ((le = list_head(&graveyard))) {
		list_unlink(le);
		conn_free(le->data);
	}
	for (size_t i = 0; i < ndead; i++)
		mem_deref(dead_tcs[i]);
	ndead = 0;
}

/* ---- HTTP ---- */

struct lc_conn *lc_http_new(void)
{
	struct lc_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->kind = K_HTTP;
	c->state = S_IDLE;
	list_init(&c->q);
	return c;
}

size_t lc_http_pending(const struct lc_conn *c)
{
	return list_count(&c->q);
}

static void http_next(struct lc_conn *c)
{
	if (c->dropped || c->inflight || list_isempty(&c->q))
		return;
	uint64_t now = lc_now_us();
	if (c->state == S_OPEN && now - c->last_used > HTTP_IDLE_US)
		conn_shut(c); /* the server may be closing it right now */
	if (c->state == S_IDLE) {
		if (conn_connect(c) != 0) {
			struct hreq *r = list_ledata(list_head(&c->q));
			list_unlink(&r->le);
			lc_stats.http_errors++;
			r->h(0, NULL, 0, r->arg);
			free(r->data);
			free(r);
		}
		return;
	}
	if (c->state != S_OPEN)
		return;
	struct hreq *r = list_ledata(list_head(&c->q));
	c->inflight = true;
	c->last_used = now;
	parser_reset(c);
	r->tries++;
	lc_stats.http_requests++;
	if (raw_send(c, r->data, r->len) != 0) {
		c->inflight = false;
		conn_shut(c);
		list_unlink(&r->le);
		lc_stats.http_errors++;
		r->h(0, NULL, 0, r->arg);
		free(r->data);
		free(r);
		http_next(c);
	}
}

void lc_http_request(struct lc_conn *c, const char *method, const char *path, const char *token,
                     const char *body, lc_http_h *h, void *arg)
{
	struct hreq *r = calloc(1, sizeof(*r));
	size_t bl = body ? strlen(body) : 0;
	size_t cap = 512 + strlen(path) + (token ? strlen(token) : 0) + bl;
	if (!r || !(r->data = malloc(cap))) {
		free(r);
		h(0, NULL, 0, arg);
		return;
	}
	int n = snprintf(r->data, cap, "%s %s HTTP/1.1\r\nHost: %s\r\n%s%s%s", method, path, host_hdr,
	                 token ? "Authorization: Bearer " : "", token ? token : "", token ? "\r\n" : "");
	if (body)
		n += snprintf(r->data + n, cap - (size_t)n,
		              "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s", bl, body);
	else if (strcmp(method, "GET") != 0)
		n += snprintf(r->data + n, cap - (size_t)n, "Content-Length: 0\r\n\r\n");
	else
		n += snprintf(r->data + n, cap - (size_t)n, "\r\n");
	r->len = (size_t)n;
	r->h = h;
	r->arg = arg;
	list_append(&c->q, &r->le, r);
	http_next(c);
}

static void http_closed(struct lc_conn *c, int err);

static void http_recv(struct lc_conn *c, struct mbuf *mb)
{
	const char *p = (const char *)mbuf_buf(mb);
	size_t n = mbuf_get_left(mb);
	c->rx_bytes += n;
	if (!c->inflight)
		return; /* nothing asked: ignore */
	size_t k = http_parser_execute(&c->parser, &psettings, p, n);
	enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
	if (!c->msg_done && (e != HPE_OK || k != n)) {
		http_closed(c, EPROTO); /* a reply we cannot read: fail it */
		return;
	}
	if (!c->msg_done)
		return;
	/* One reply (one request is in flight, so nothing follows it):
	 * hand it over, then send the next request. */
	struct hreq *r = list_ledata(list_head(&c->q));
	bool keep = http_should_keep_alive(&c->parser);
	int status = c->parser.status_code;
	c->inflight = false;
	c->last_used = lc_now_us();
	if (!keep)
		conn_shut(c);
	if (r) {
		list_unlink(&r->le);
		if (status >= 400)
			lc_stats.http_errors++;
		/* a NUL after the body, for the handler's convenience */
		if (buf_add(&c->body, "", 1, BODY_MAX + 1) != 0)
			c->body.len = 0;
		r->h(status, c->body.p, c->body.len ? c->body.len - 1 : 0, r->arg);
		free(r->data);
		free(r);
	}
	if (c->dropped || c->inflight)
		return;
	parser_reset(c);
	http_next(c);
}

/* The connection went away: a request in flight with no reply byte yet is
 * sent once more on a new connection (the keep-alive race); otherwise it fails. */
static void http_closed(struct lc_conn *c, int err)
{
	(void)err;
	bool was_inflight = c->inflight;
	c->inflight = false;
	conn_shut(c);
	if (was_inflight) {
		struct hreq *r = list_ledata(list_head(&c->q));
		if (r && (c->rx_bytes || r->tries >= 2)) {
			list_unlink(&r->le);
			lc_stats.http_errors++;
			r->h(0, NULL, 0, r->arg);
			free(r->data);
			free(r);
			if (c->dropped)
				return;
		}
	}
	http_next(c);
}

/* ---- WebSocket ---- */

static ssize_t ws_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
                          void *user)
{
	(void)flags;
	struct lc_conn *c = user;
	if (c->in.len == 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	size_t n = c->in.len < len ? c->in.len : len;
	memcpy(buf, c->in.p, n);
	memmove(c->in.p, c->in.p + n, c->in.len - n);
	c->in.len -= n;
	return (ssize_t)n;
}

static ssize_t ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                          void *user)
{
	struct lc_conn *c = user;
	int r;
	/* wslay hands the header and the payload over separately: one segment */
	if (flags & WSLAY_MSG_MORE) {
		r = buf_add(&c->out, data, len, WS_MSG_MAX * 2);
	} else if (c->out.len) {
		r = buf_add(&c->out, data, len, WS_MSG_MAX * 2);
		if (r == 0)
			r = raw_send(c, c->out.p, c->out.len);
		c->out.len = 0;
	} else {
		r = raw_send(c, data, len);
	}
	if (r != 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return (ssize_t)len;
}

static int ws_genmask_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *user)
{
	(void)ctx;
	(void)user;
	random_bytes(buf, len);
	return 0;
}

static void ws_msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                      void *user)
{
	(void)ctx;
	struct lc_conn *c = user;
	if (arg->opcode != WSLAY_TEXT_FRAME || c->dropped)
		return;
	lc_stats.frames_in++;
	if (c->wh->msg)
		c->wh->msg(c, (const char *)arg->msg, arg->msg_length, c->arg);
}

static const struct wslay_event_callbacks ws_callbacks = {
	.recv_callback = ws_recv_cb,
	.send_callback = ws_send_cb,
	.genmask_callback = ws_genmask_cb,
	.on_msg_recv_callback = ws_msg_cb,
};

static void ws_report_close(struct lc_conn *c, int err)
{
	if (c->close_reported || c->dropped)
		return;
	c->close_reported = true;
	if (c->state == S_WS && err)
		lc_stats.ws_closed_unexpected++;
	c->state = S_DEAD;
	if (c->wh->close)
		c->wh->close(c, err, c->arg);
}

struct lc_conn *lc_ws_open(const char *path, const char *token, const struct lc_ws_handlers *h,
                           void *arg)
{
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	struct lc_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->kind = K_WS;
	c->wh = h;
	c->arg = arg;
	list_init(&c->q);
	uint8_t raw[16], md[SHA_DIGEST_LENGTH];
	char key[32], cat[80];
	random_bytes(raw, sizeof(raw));
	sodium_bin2base64(key, sizeof(key), raw, sizeof(raw), sodium_base64_VARIANT_ORIGINAL);
	int kl = snprintf(cat, sizeof(cat), "%s%s", key, guid);
	SHA1((const unsigned char *)cat, (size_t)kl, md);
	sodium_bin2base64(c->accept_want, sizeof(c->accept_want), md, sizeof(md),
	                  sodium_base64_VARIANT_ORIGINAL);
	size_t cap = 512 + strlen(path) + (token ? strlen(token) : 0);
	c->handshake = malloc(cap);
	if (!c->handshake) {
		free(c);
		return NULL;
	}
	snprintf(c->handshake, cap,
	         "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	         "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
	         "Sec-WebSocket-Protocol: bulwark.v1%s%s\r\n\r\n",
	         path, host_hdr, key, token ? ", bearer." : "", token ? token : "");
	if (conn_connect(c) != 0) {
		free(c->handshake);
		free(c);
		return NULL;
	}
	return c;
}

static void ws_pump(struct lc_conn *c)
{
	if (c->dropped || !c->ws)
		return;
	if (wslay_event_send(c->ws) != 0) {
		conn_shut(c);
		ws_report_close(c, EPIPE);
		return;
	}
	if (!wslay_event_want_read(c->ws) && !wslay_event_want_write(c->ws)) {
		conn_shut(c);
		ws_report_close(c, 0);
	}
}

static void ws_frames(struct lc_conn *c)
{
	if (wslay_event_recv(c->ws) != 0) {
		conn_shut(c);
		ws_report_close(c, EPROTO);
		return;
	}
	ws_pump(c);
}

/* The 101 reply: check it, then the rest of the bytes are frames. */
static void ws_handshake_recv(struct lc_conn *c, const char *p, size_t n)
{
	size_t k = http_parser_execute(&c->parser, &psettings, p, n);
	if (HTTP_PARSER_ERRNO(&c->parser) != HPE_OK && !c->msg_done && !c->parser.upgrade) {
		lc_stats.ws_refused++;
		conn_shut(c);
		ws_report_close(c, -1);
		return;
	}
	if (!c->headers_done)
		return;
	int status = c->parser.status_code;
	if (status != 101) {
		if (!c->msg_done)
			return; /* wait for the error body */
		lc_stats.ws_refused++;
		if (getenv("LC_DEBUG"))
			fprintf(stderr, "ws refused %d: %.*s\n", status, (int)c->body.len, c->body.p);
		conn_shut(c);
		ws_report_close(c, -status);
		return;
	}
	if (strcmp(c->accept_got, c->accept_want) != 0 || !c->proto_v1 ||
	    wslay_event_context_client_init(&c->ws, &ws_callbacks, c) != 0) {
		lc_stats.ws_refused++;
		conn_shut(c);
		ws_report_close(c, -1);
		return;
	}
	wslay_event_config_set_max_recv_msg_length(c->ws, WS_MSG_MAX);
	c->state = S_WS;
	lc_stats.ws_opened++;
	free(c->handshake);
	c->handshake = NULL;
	if (c->wh->open)
		c->wh->open(c, c->arg);
	if (c->dropped || c->state != S_WS)
		return;
	if (k < n) {
		if (buf_add(&c->in, p + k, n - k, WS_MSG_MAX * 2) != 0) {
			conn_shut(c);
			ws_report_close(c, ENOMEM);
			return;
		}
		ws_frames(c);
	}
}

int lc_ws_send(struct lc_conn *c, const char *text, size_t len)
{
	if (!c || c->dropped || c->state != S_WS)
		return -1;
	struct wslay_event_msg m = {WSLAY_TEXT_FRAME, (const uint8_t *)text, len};
	if (wslay_event_queue_msg(c->ws, &m) != 0)
		return -1;
	lc_stats.frames_out++;
	ws_pump(c);
	return 0;
}

bool lc_ws_is_open(const struct lc_conn *c)
{
	return c && !c->dropped && c->state == S_WS;
}

void lc_ws_close(struct lc_conn *c)
{
	if (!c || c->dropped || c->state != S_WS)
		return;
	(void)wslay_event_queue_close(c->ws, WSLAY_CODE_NORMAL_CLOSURE, NULL, 0);
	ws_pump(c);
}

/* ---- libre handlers ---- */

static void estab_h(void *arg)
{
	struct lc_conn *c = arg;
	if (c->dropped)
		return;
	set_nodelay(c->tc);
	c->state = S_OPEN;
	c->last_used = lc_now_us();
	if (c->kind == K_HTTP) {
		http_next(c);
		return;
	}
	if (raw_send(c, c->handshake, strlen(c->handshake)) != 0) {
		conn_shut(c);
		ws_report_close(c, EPIPE);
	}
}

static void recv_h(struct mbuf *mb, void *arg)
{
	struct lc_conn *c = arg;
	if (c->dropped)
		return;
	lc_stats.bytes_in += mbuf_get_left(mb);
	if (c->kind == K_HTTP) {
		http_recv(c, mb);
		return;
	}
	if (c->state == S_OPEN) {
		ws_handshake_recv(c, (const char *)mbuf_buf(mb), mbuf_get_left(mb));
		return;
	}
	if (c->state != S_WS)
		return;
	if (buf_add(&c->in, mbuf_buf(mb), mbuf_get_left(mb), WS_MSG_MAX * 2) != 0) {
		conn_shut(c);
		ws_report_close(c, ENOMEM);
		return;
	}
	ws_frames(c);
}

static void close_h(int err, void *arg)
{
	struct lc_conn *c = arg;
	if (c->dropped)
		return;
	if (c->state == S_CONNECTING)
		lc_stats.connect_errors++;
	if (c->kind == K_HTTP) {
		http_closed(c, err);
		return;
	}
	conn_shut(c);
	bool clean = c->ws && wslay_event_get_close_received(c->ws);
	ws_report_close(c, clean ? 0 : (err ? err : ECONNRESET));
}

/* ---- setup ---- */

int lc_init(const char *hostport, int max_fds)
{
	if (sodium_init() < 0)
		return -1;
	if (sa_decode(&server, hostport, strlen(hostport)) != 0) {
		fprintf(stderr, "chatload: bad address %s (want IPv4 HOST:PORT)\n", hostport);
		return -1;
	}
	snprintf(host_hdr, sizeof(host_hdr), "%s", hostport);
	list_init(&graveyard);
	fd_setsize(0);
	if (fd_setsize(max_fds) != 0)
		return -1;
	return 0;
}

void lc_fini(void)
{
	lc_reap();
}
