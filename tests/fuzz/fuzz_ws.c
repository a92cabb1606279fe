/* fuzz_ws: a WebSocket session on /v1/events (src/net/ws.c on wslay, and
 * the route's message handler), fed client frames split where the input
 * says, on a connection without a socket.
 *
 * Control byte flags (layout in fuzz_net.h):
 *   0x10  structured: the stream is records [b0][len][payload] that the
 *         harness turns into masked client frames (b0 is sent as the first
 *         frame byte; len 255 means a 16-bit length follows and the payload
 *         is that many 'a'), so the fuzzer reaches messages quickly
 *   0x20  the server shuts down (close 1001 to all) after the first chunk
 *   0x40  the server pushes a message between chunks
 *   0x80  the first chunk arrives with the upgrade (before the session starts)
 *
 * What the server writes must be valid server frames: unmasked, no reserved
 * bits, known opcodes, whole messages, control frames short and final, text
 * that is a JSON object, a valid close code, and nothing after a close. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_net.h"

#define F_STRUCTURED 0x10
#define F_SHUTDOWN 0x20
#define F_PUSH 0x40
#define F_WITH_UPGRADE 0x80

static const struct bw_route *events_route;

static struct {
	uint8_t *buf;
	size_t len, cap;
	bool close_seen;
} out;

static bool close_code_valid(unsigned code)
{
	if (code >= 3000 && code <= 4999)
		return true;
	return code >= 1000 && code <= 1011 && code != 1004 && code != 1005 && code != 1006;
}

/* Consumes the complete frames at the start of out.buf. */
static void check_frames(void)
{
	size_t off = 0;
	for (;;) {
		const uint8_t *f = out.buf + off;
		size_t left = out.len - off;
		if (left < 2)
			break;
		uint8_t op = f[0] & 0x0f;
		bool fin = (f[0] & 0x80) != 0;
		FUZZ_CHECK((f[0] & 0x70) == 0); /* no reserved bits */
		FUZZ_CHECK((f[1] & 0x80) == 0); /* a server never masks */
		FUZZ_CHECK(!out.close_seen);    /* nothing after a close */
		uint64_t plen = f[1] & 0x7f;
		size_t hl = 2;
		if (plen == 126) {
			if (left < 4)
				break;
			plen = (uint64_t)f[2] << 8 | f[3];
			hl = 4;
		} else if (plen == 127) {
			if (left < 10)
				break;
			plen = 0;
			for (int i = 0; i < 8; i++)
				plen = plen << 8 | f[2 + i];
			hl = 10;
		}
		if (left - hl < plen)
			break;
		const uint8_t *p = f + hl;
		/* Whole messages only: the server never fragments, nor sends binary. */
		FUZZ_CHECK(fin && op != 0 && op != 2);
		FUZZ_CHECK(op == 1 || op == 8 || op == 9 || op == 10);
		if (op >= 8)
			FUZZ_CHECK(plen <= 125);
		if (op == 1) {
			json_error_t e;
			json_t *v = json_loadb((const char *)p, (size_t)plen, 0, &e);
			FUZZ_CHECK(json_is_object(v));
			json_decref(v);
		} else if (op == 8) {
			FUZZ_CHECK(plen == 0 || plen >= 2);
			if (plen >= 2)
				FUZZ_CHECK(close_code_valid((unsigned)p[0] << 8 | p[1]));
			out.close_seen = true;
		}
		off += hl + (size_t)plen;
	}
	memmove(out.buf, out.buf + off, out.len - off);
	out.len -= off;
}

static void sink(struct bw_conn *c, struct mbuf *mb)
{
	(void)c;
	size_t n = mb->end - mb->pos;
	if (fuzz_dump)
		fuzz_dump_bytes(mb->buf + mb->pos, mb->end - mb->pos);
	if (out.len + n > out.cap) {
		size_t cap = out.cap ? out.cap : 4096;
		while (cap < out.len + n)
			cap *= 2;
		uint8_t *nb = realloc(out.buf, cap);
		if (!nb)
			abort();
		out.buf = nb;
		out.cap = cap;
	}
	memcpy(out.buf + out.len, mb->buf + mb->pos, n);
	out.len += n;
	check_frames();
}

/* Turns records into masked client frames, at most BUILD_MAX bytes (the
 * connection takes a message plus 64 KiB before it closes anyway). Not
 * instrumented: it is the harness, and runs over long payloads. */
#define BUILD_MAX (256 * 1024)

__attribute__((no_sanitize("coverage"))) static uint8_t *build_frames(const uint8_t *d, size_t n,
                                                                      size_t *outlen)
{
	static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
	static uint8_t b[BUILD_MAX];
	size_t len = 0, i = 0;
	while (i + 2 <= n) {
		uint8_t b0 = d[i], l = d[i + 1];
		i += 2;
		size_t plen;
		const uint8_t *src = NULL;
		if (l == 255) {
			if (i + 2 > n)
				break;
			plen = (size_t)d[i] << 8 | d[i + 1];
			i += 2;
		} else {
			plen = l < n - i ? l : n - i;
			src = d + i;
			i += plen;
		}
		if (len + 8 + plen > BUILD_MAX)
			break;
		b[len++] = b0;
		if (plen < 126) {
			b[len++] = (uint8_t)(0x80 | plen);
		} else {
			b[len++] = 0x80 | 126;
			b[len++] = (uint8_t)(plen >> 8);
			b[len++] = (uint8_t)plen;
		}
		memcpy(b + len, key, 4);
		len += 4;
		if (src)
			memcpy(b + len, src, plen);
		else
			memset(b + len, 'a', plen);
		for (size_t k = 0; k < plen; k++)
			b[len + k] ^= key[k & 3];
		len += plen;
	}
	/* A copy of exactly len bytes, so ASan sees a read past the end. */
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		abort();
	memcpy(copy, b, len);
	*outlen = len;
	return copy;
}

struct between_ctx {
	uint8_t ctl;
	bool first_done;
};

static void between(struct bw_conn *c, void *arg)
{
	struct between_ctx *bc = arg;
	if ((bc->ctl & F_SHUTDOWN) && !bc->first_done)
		bw_ws__close_all(1001);
	bc->first_done = true;
	if ((bc->ctl & F_PUSH) && c->ws)
		bw_ws_send(c->ws, "{\"type\":\"push\"}", 15);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_net_init();
	bw_http__test_sink = sink;
	for (size_t i = 0; i < bw_routes_count; i++)
		if ((bw_routes[i].flags & BW_ROUTE_WS) &&
		    !strcmp(bw_routes[i].pattern, "/v1/events"))
			events_route = &bw_routes[i];
	if (!events_route)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t n)
{
	struct fuzz_input in;
	if (!fuzz_input_parse(buf, n, &in))
		return 0;
	out.len = 0;
	out.close_seen = false;
	const uint8_t *data = in.data;
	size_t len = in.len;
	uint8_t *built = NULL;
	if (in.ctl & F_STRUCTURED) {
		built = build_frames(in.data, in.len, &len);
		data = built;
	}
	struct bw_conn *c = fuzz_conn_new(false, false);
	size_t first = 0;
	if ((in.ctl & F_WITH_UPGRADE) && len) {
		/* Frames pipelined behind the upgrade request wait in c->in. */
		first = in.nsizes ? (size_t)in.sizes[0] + 1 : len;
		if (first > len)
			first = len;
		if (mbuf_write_mem(c->in, data, first) != 0)
			abort();
		c->in->pos = 0;
	}
	struct bw_principal who = {.kind = BW_P_PLATFORM};
	memcpy(who.id, "pk_fuzz", 8);
	memcpy(who.name, "fuzz", 5);
	FUZZ_CHECK(bw_ws__start(c, events_route, &who) == BW_OK);
	FUZZ_CHECK(bw_ws_count() == (c->closed ? 0u : 1u));
	size_t turn = first ? 1 : 0;
	struct between_ctx bc = {in.ctl, false};
	fuzz_feed(c, &in, data + first, len - first, &turn, between, &bc);
	fuzz_conn_free(c);
	FUZZ_CHECK(bw_ws_count() == 0);
	free(built);
	return 0;
}
