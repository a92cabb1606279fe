/* WebSocket sessions on wslay. wslay enforces masking (1002), UTF-8 in text
 * frames (1007), control frame rules and reserved bits; we set the message
 * cap (1009; wslay's default would allocate 2 GiB up front), bound the send
 * queue (a slow reader is disconnected), keep the session alive with pings,
 * and close after the close frame is on the wire so the code reaches the peer. */
#include <openssl/sha.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <wslay/wslay.h>

#include "core/ids.h"
#include "core/log.h"
#include "net/net_int.h"

struct bw_ws {
	struct le he;
	uint64_t id;
	struct bw_conn *c; /* NULL once the connection closed */
	wslay_event_context_ptr ctx;
	const struct bw_route *rt;
	struct bw_principal who;
	uint64_t next_ping; /* tmr_jiffies() ms, checked by the sweep */
	double last_rx;
	void *user;
	uint8_t head[16]; /* a frame header held back to go out with its payload */
	size_t nhead;
};

/* A message for one session (id), or for every session of a route (ops). */
struct push_msg {
	uint64_t id;
	const struct bw_ws_ops *ops;
	size_t len;
	char text[];
};

static struct hash *sessions;
static struct mqueue *pushq;
static uint64_t next_id = 1;
static size_t nsessions;

void bw_ws__accept_key(const char *key, char out[32])
{
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	unsigned char buf[64], md[SHA_DIGEST_LENGTH];
	size_t kl = strlen(key);
	memcpy(buf, key, kl);
	memcpy(buf + kl, guid, sizeof(guid) - 1);
	SHA1(buf, kl + sizeof(guid) - 1, md);
	sodium_bin2base64(out, 32, md, sizeof(md), sodium_base64_VARIANT_ORIGINAL);
}

void bw_ws_set_user(struct bw_ws *ws, void *user)
{
	ws->user = user;
}

void *bw_ws_user(const struct bw_ws *ws)
{
	return ws->user;
}

uint64_t bw_ws_id(const struct bw_ws *ws)
{
	return ws->id;
}

const struct bw_principal *bw_ws_principal(const struct bw_ws *ws)
{
	return &ws->who;
}

size_t bw_ws_count(void)
{
	return nsessions;
}

static ssize_t recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
                       void *user)
{
	(void)flags;
	struct bw_ws *ws = user;
	if (!ws->c || ws->c->closed) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	struct mbuf *in = ws->c->in;
	size_t n = mbuf_get_left(in);
	if (n == 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	if (n > len)
		n = len;
	memcpy(buf, mbuf_buf(in), n);
	in->pos += n;
	if (in->pos == in->end)
		in->pos = in->end = 0;
	return (ssize_t)n;
}

static ssize_t send_now(wslay_event_context_ptr ctx, struct bw_ws *ws, const uint8_t *data,
                        size_t len)
{
	struct mbuf mb;
	mbuf_init(&mb);
	mb.buf = (uint8_t *)(uintptr_t)data;
	mb.size = mb.end = len;
	if (!ws->c->tc) { /* no socket: the fuzzers' sink */
		if (bw_http__test_sink)
			bw_http__test_sink(ws->c, &mb);
		return (ssize_t)len;
	}
	if (tcp_send(ws->c->tc, &mb) != 0) {
		/* libre's queue is full: the reader is too slow. */
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return (ssize_t)len;
}

static ssize_t send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *user)
{
	struct bw_ws *ws = user;
	if (!ws->c || ws->c->closed) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	/* wslay hands over a frame's header, then its payload: one write of
	 * both puts a message in one segment. */
	if ((flags & WSLAY_MSG_MORE) && ws->nhead + len <= sizeof(ws->head)) {
		memcpy(ws->head + ws->nhead, data, len);
		ws->nhead += len;
		return (ssize_t)len;
	}
	uint8_t stack[4096], *joined = NULL;
	if (ws->nhead) {
		size_t total = ws->nhead + len;
		joined = total <= sizeof(stack) ? stack : malloc(total);
		if (!joined) {
			wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
			return -1;
		}
		memcpy(joined, ws->head, ws->nhead);
		memcpy(joined + ws->nhead, data, len);
		data = joined;
		len = total;
	}
	size_t held = ws->nhead;
	ws->nhead = 0;
	ssize_t r = send_now(ctx, ws, data, len);
	if (joined && joined != stack)
		free(joined);
	return r < 0 ? r : (ssize_t)(len - held);
}


static void msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                   void *user)
{
	struct bw_ws *ws = user;
	ws->last_rx = bw_now_mono();
	if (arg->opcode == WSLAY_TEXT_FRAME) {
		if (ws->rt->ws && ws->rt->ws->message)
			ws->rt->ws->message(ws, (const char *)arg->msg, arg->msg_length);
	} else if (arg->opcode == WSLAY_BINARY_FRAME) {
		wslay_event_queue_close(ctx, WSLAY_CODE_UNSUPPORTED_DATA, NULL, 0);
	}
}

/* After any I/O: flush, enforce the queue cap, and end finished sessions. */
static void pump(struct bw_ws *ws)
{
	struct bw_conn *c = ws->c;
	if (!c || c->closed || c->state == ST_CLOSING)
		return;
	if (wslay_event_get_queued_msg_length(ws->ctx) > bw_net__limits.ws_max_queue) {
		bw_http__close(c);
		return;
	}
	if (wslay_event_send(ws->ctx) != 0) {
		bw_http__close(c);
		return;
	}
	if (c->closed)
		return;
	if (wslay_event_get_close_sent(ws->ctx) ||
	    (!wslay_event_want_read(ws->ctx) && !wslay_event_want_write(ws->ctx)))
		bw_http__close_after_send(c);
}

/* An idle session keeps only a small input buffer (memory per session). */
static void shrink_input(struct bw_conn *c)
{
	if (mbuf_get_left(c->in) == 0 && c->in->size > 256) {
		c->in->pos = c->in->end = 0;
		(void)mbuf_resize(c->in, 256);
	}
}

void bw_ws__recv(struct bw_conn *c)
{
	struct bw_ws *ws = c->ws;
	if (!ws)
		return;
	if (wslay_event_recv(ws->ctx) != 0) {
		bw_http__close(c);
		return;
	}
	shrink_input(c);
	pump(ws);
}

void bw_ws_send(struct bw_ws *ws, const char *text, size_t len)
{
	if (!ws->c || ws->c->closed)
		return;
	struct wslay_event_msg m = {WSLAY_TEXT_FRAME, (const uint8_t *)text, len};
	if (wslay_event_queue_msg(ws->ctx, &m) != 0)
		return;
	pump(ws);
}

void bw_ws_send_json(struct bw_ws *ws, json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT);
	json_decref(v);
	if (s) {
		bw_ws_send(ws, s, strlen(s));
		free(s);
	}
}

void bw_ws_close(struct bw_ws *ws, uint16_t code, const char *reason)
{
	if (!ws->c || ws->c->closed)
		return;
	size_t rl = reason ? strlen(reason) : 0;
	if (rl > 120)
		rl = 120;
	(void)wslay_event_queue_close(ws->ctx, code, (const uint8_t *)reason, rl);
	pump(ws);
}

static void ping_tick(struct bw_ws *ws)
{
	if (!ws->c || ws->c->closed)
		return;
	if ((bw_now_mono() - ws->last_rx) * 1000.0 > bw_net__limits.ws_idle_ms) {
		bw_ws_close(ws, WSLAY_CODE_GOING_AWAY, "idle");
		return;
	}
	struct wslay_event_msg m = {WSLAY_PING, NULL, 0};
	(void)wslay_event_queue_msg(ws->ctx, &m);
	pump(ws);
	ws->next_ping = tmr_jiffies() + bw_net__limits.ws_ping_ms;
}

void bw_ws__sweep(struct bw_ws *ws, uint64_t now)
{
	if (ws->c && ws->next_ping && now >= ws->next_ping)
		ping_tick(ws);
}

static void ws_destructor(void *arg)
{
	struct bw_ws *ws = arg;
	hash_unlink(&ws->he);
	wslay_event_context_free(ws->ctx);
}

static const struct wslay_event_callbacks callbacks = {
	.recv_callback = recv_cb,
	.send_callback = send_cb,
	.on_msg_recv_callback = msg_cb,
};

bw_result bw_ws__start(struct bw_conn *c, const struct bw_route *rt, const struct bw_principal *p)
{
	struct bw_ws *ws = mem_zalloc(sizeof(*ws), ws_destructor);
	if (!ws)
		return BW_NOMEM;
	if (wslay_event_context_server_init(&ws->ctx, &callbacks, ws) != 0) {
		mem_deref(ws);
		return BW_NOMEM;
	}
	wslay_event_config_set_max_recv_msg_length(ws->ctx, bw_net__limits.ws_max_msg);
	/* A reader too slow to drain this much is disconnected. */
	if (c->tc)
		tcp_conn_txqsz_set(c->tc, bw_net__limits.ws_max_queue);
	ws->id = next_id++;
	ws->c = c;
	ws->rt = rt;
	ws->who = *p;
	ws->last_rx = bw_now_mono();
	c->ws = ws;
	c->state = ST_WS;
	bw_http__clear_deadline(c);
	hash_append(sessions, (uint32_t)ws->id, &ws->he, ws);
	nsessions++;
	ws->next_ping = tmr_jiffies() + bw_net__limits.ws_ping_ms;
	if (rt->ws && rt->ws->open)
		rt->ws->open(ws);
	/* Frames that arrived with the upgrade request. */
	if (!c->closed && mbuf_get_left(c->in))
		bw_ws__recv(c);
	else
		shrink_input(c);
	return BW_OK;
}

void bw_ws__conn_closed(struct bw_conn *c)
{
	struct bw_ws *ws = c->ws;
	if (!ws || !ws->c)
		return;
	ws->next_ping = 0;
	hash_unlink(&ws->he);
	nsessions--;
	if (ws->rt->ws && ws->rt->ws->close)
		ws->rt->ws->close(ws);
	ws->c = NULL;
}

static bool close_one(struct le *le, void *arg)
{
	struct bw_ws *ws = le->data;
	bw_ws_close(ws, *(uint16_t *)arg, "server shutting down");
	return false;
}

void bw_ws__close_all(uint16_t code)
{
	if (sessions)
		(void)hash_apply(sessions, close_one, &code);
}

static bool id_cmp(struct le *le, void *arg)
{
	return ((struct bw_ws *)le->data)->id == *(uint64_t *)arg;
}

static bool send_if_route(struct le *le, void *arg)
{
	struct bw_ws *ws = le->data;
	const struct push_msg *m = arg;
	if (ws->rt->ws == m->ops)
		bw_ws_send(ws, m->text, m->len);
	return false;
}

static void push_handler(int id, void *data, void *arg)
{
	(void)id;
	(void)arg;
	struct push_msg *m = data;
	if (m->ops) {
		(void)hash_apply(sessions, send_if_route, m);
	} else {
		struct bw_ws *ws = list_ledata(hash_lookup(sessions, (uint32_t)m->id, id_cmp, &m->id));
		if (ws)
			bw_ws_send(ws, m->text, m->len);
	}
	free(m);
}

static void push(uint64_t session_id, const struct bw_ws_ops *ops, const char *text, size_t len)
{
	struct push_msg *m = malloc(sizeof(*m) + len + 1);
	if (!m)
		return;
	m->id = session_id;
	m->ops = ops;
	m->len = len;
	memcpy(m->text, text, len);
	m->text[len] = '\0';
	if (!pushq || mqueue_push(pushq, 0, m) != 0)
		free(m);
}

void bw_ws_push(uint64_t session_id, const char *text, size_t len)
{
	push(session_id, NULL, text, len);
}

void bw_ws_broadcast(const struct bw_ws_ops *ops, const char *text, size_t len)
{
	push(0, ops, text, len);
}

bw_result bw_ws__init(void)
{
	if (hash_alloc(&sessions, 256) != 0 || mqueue_alloc(&pushq, push_handler, NULL) != 0)
		return BW_NOMEM;
	return BW_OK;
}

void bw_ws__fini(void)
{
	hash_clear(sessions);
	sessions = mem_deref(sessions);
	pushq = mem_deref(pushq);
}
