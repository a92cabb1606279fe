/* HTTP/1.1 connections: http-parser under strict glue.
 * The glue refuses what the parser alone lets through (NOTES.md): bare LF and
 * folded lines in the header section, white space in header names, not exactly
 * one Host, CONNECT, transfer codings other than "chunked", and invalid
 * WebSocket upgrades. It enforces the header, URL and body caps and the
 * header, body and idle deadlines. One message is handled at a time: the
 * parser pauses at the end of each message and resumes after the reply. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <sodium.h>

#include "core/ids.h"
#include "core/log.h"
#include "net/net_int.h"

#define LINGER_MS 2000

static http_parser_settings settings;

void (*bw_http__test_sink)(struct bw_conn *c, struct mbuf *mb);

void bw_req_free(struct bw_req *r)
{
	if (!r)
		return;
	free(r->path);
	free(r->query);
	free(r->body);
	free(r->authorization);
	free(r->content_type);
	free(r->origin);
	free(r->user_agent);
	free(r->host);
	free(r->xff);
	free(r->ws_protocol);
	for (int i = 0; i < r->nparams; i++)
		free(r->params[i]);
	free(r);
}

static void reset_message(struct bw_conn *c)
{
	bw_req_free(c->req);
	c->req = NULL;
	free(c->body);
	c->body = NULL;
	c->body_len = c->body_cap = 0;
	free(c->hfield);
	free(c->hval);
	c->hfield = c->hval = NULL;
	c->hfield_len = c->hval_len = 0;
	c->in_value = false;
	c->nheaders = c->nhost = 0;
	c->err_status = 0;
	free(c->ws_key);
	free(c->ws_version);
	free(c->upgrade);
	free(c->connection);
	free(c->te);
	c->ws_key = c->ws_version = c->upgrade = c->connection = c->te = NULL;
}

static void free_handler(void *arg)
{
	struct bw_conn *c = arg;
	c->sc = mem_deref(c->sc);
	c->tc = mem_deref(c->tc);
	if (!c->released) {
		c->released = true;
		mem_deref(c); /* the connection's own reference */
	}
}

void bw_http__close(struct bw_conn *c)
{
	if (c->closed)
		return;
	c->closed = true;
	c->state = ST_CLOSING;
	bw_http__clear_deadline(c);
	if (c->ws)
		bw_ws__conn_closed(c);
	/* Free from a zero-delay timer, never inside the socket's own handler. */
	tmr_start(&c->tmr_free, 0, free_handler, c);
}

static void linger_expired(struct bw_conn *c)
{
	bw_http__close(c);
}

/* The queue is empty: shut the write side so the client sees the end of the
 * reply, then read and discard until it closes (or the linger time ends). */
static void drained(void *arg)
{
	struct bw_conn *c = arg;
	if (c->closed)
		return;
	if (c->tc) {
		tcp_set_send(c->tc, NULL);
		shutdown(tcp_conn_fd(c->tc), SHUT_WR);
	}
	bw_http__set_deadline(c, LINGER_MS, linger_expired);
}

void bw_http__close_after_send(struct bw_conn *c)
{
	if (c->closed || c->state == ST_CLOSING)
		return;
	c->state = ST_CLOSING;
	bw_http__clear_deadline(c);
	if (c->tc)
		tcp_set_send(c->tc, drained);
}

void bw_http__send(struct bw_conn *c, struct mbuf *mb)
{
	if (c->closed)
		return;
	mb->pos = 0;
	if (!c->tc) { /* no socket: the fuzzers */
		if (bw_http__test_sink)
			bw_http__test_sink(c, mb);
		return;
	}
	int err = tcp_send(c->tc, mb);
	if (err)
		bw_http__close(c); /* the send queue cap: a reader too slow */
}

/* ---- deadlines ---- */

void bw_http__set_deadline(struct bw_conn *c, uint32_t ms, void (*fn)(struct bw_conn *c))
{
	c->deadline = tmr_jiffies() + ms;
	c->on_deadline = fn;
}

void bw_http__clear_deadline(struct bw_conn *c)
{
	c->deadline = 0;
	c->on_deadline = NULL;
}

void bw_http__sweep(struct bw_conn *c, uint64_t now)
{
	if (c->closed)
		return;
	if (c->deadline && now >= c->deadline && c->on_deadline) {
		void (*fn)(struct bw_conn *) = c->on_deadline;
		bw_http__clear_deadline(c);
		fn(c);
	}
	if (!c->closed && c->ws)
		bw_ws__sweep(c->ws, now);
}

static void deadline_expired(struct bw_conn *c)
{
	if (c->state == ST_HEAD && mbuf_get_left(c->in) == 0 && !c->req) {
		bw_http__close(c); /* idle keep-alive: just close */
		return;
	}
	bw_http__fail(c, 408);
}

static void start_deadline(struct bw_conn *c, uint32_t ms)
{
	bw_http__set_deadline(c, ms, deadline_expired);
}

/* ---- header capture ---- */

static char *dupn(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

static int append(char **buf, size_t *len, const char *at, size_t n, size_t cap)
{
	if (*len + n > cap)
		return -1;
	char *nb = realloc(*buf, *len + n + 1);
	if (!nb)
		return -1;
	memcpy(nb + *len, at, n);
	*len += n;
	nb[*len] = '\0';
	*buf = nb;
	return 0;
}

static int set_once(struct bw_conn *c, char **slot, const char *v, size_t n)
{
	if (*slot) {
		c->err_status = 400; /* a duplicated singleton header */
		return -1;
	}
	*slot = dupn(v, n);
	return *slot ? 0 : -1;
}

static int commit_header(struct bw_conn *c)
{
	if (!c->hfield)
		return 0;
	if (++c->nheaders > BW_MAX_HEADERS) {
		c->err_status = 431;
		return -1;
	}
	const char *f = c->hfield;
	const char *v = c->hval ? c->hval : "";
	size_t vn = c->hval_len;
	struct bw_req *r = c->req;
	int rc = 0;
	if (!strcasecmp(f, "host")) {
		c->nhost++;
		if (!r->host)
			r->host = dupn(v, vn);
	} else if (!strcasecmp(f, "authorization")) {
		rc = set_once(c, &r->authorization, v, vn);
	} else if (!strcasecmp(f, "content-type")) {
		rc = set_once(c, &r->content_type, v, vn);
	} else if (!strcasecmp(f, "origin")) {
		rc = set_once(c, &r->origin, v, vn);
	} else if (!strcasecmp(f, "user-agent")) {
		rc = set_once(c, &r->user_agent, v, vn);
	} else if (!strcasecmp(f, "x-forwarded-for")) {
		rc = set_once(c, &r->xff, v, vn);
	} else if (!strcasecmp(f, "sec-websocket-protocol")) {
		rc = set_once(c, &r->ws_protocol, v, vn);
	} else if (!strcasecmp(f, "x-request-id")) {
		if (bw_request_id_valid(v, vn) && !r->request_id[0]) {
			memcpy(r->request_id, v, vn);
			r->request_id[vn] = '\0';
		}
	} else if (!strcasecmp(f, "sec-websocket-key")) {
		rc = set_once(c, &c->ws_key, v, vn);
	} else if (!strcasecmp(f, "sec-websocket-version")) {
		rc = set_once(c, &c->ws_version, v, vn);
	} else if (!strcasecmp(f, "upgrade")) {
		rc = set_once(c, &c->upgrade, v, vn);
	} else if (!strcasecmp(f, "connection")) {
		rc = set_once(c, &c->connection, v, vn);
	} else if (!strcasecmp(f, "transfer-encoding")) {
		rc = set_once(c, &c->te, v, vn);
	}
	free(c->hfield);
	free(c->hval);
	c->hfield = c->hval = NULL;
	c->hfield_len = c->hval_len = 0;
	c->in_value = false;
	return rc;
}

static struct bw_conn *conn_of(http_parser *p)
{
	return p->data;
}

static int on_message_begin(http_parser *p)
{
	struct bw_conn *c = conn_of(p);
	reset_message(c);
	c->req = calloc(1, sizeof(*c->req));
	return c->req ? 0 : -1;
}

static int on_url(http_parser *p, const char *at, size_t n)
{
	struct bw_conn *c = conn_of(p);
	size_t len = c->req->path ? strlen(c->req->path) : 0;
	if (append(&c->req->path, &len, at, n, BW_MAX_URL) != 0) {
		c->err_status = 414;
		return -1;
	}
	return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
	struct bw_conn *c = conn_of(p);
	if (c->in_value && commit_header(c) != 0)
		return -1;
	if (append(&c->hfield, &c->hfield_len, at, n, BW_MAX_HEADER_BYTES) != 0) {
		c->err_status = 431;
		return -1;
	}
	return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
	struct bw_conn *c = conn_of(p);
	c->in_value = true;
	if (append(&c->hval, &c->hval_len, at, n, BW_MAX_HEADER_BYTES) != 0) {
		c->err_status = 431;
		return -1;
	}
	return 0;
}

static bool has_token(const char *list, const char *tok)
{
	size_t tl = strlen(tok);
	const char *s = list;
	while (s && *s) {
		while (*s == ' ' || *s == '\t' || *s == ',')
			s++;
		const char *e = s;
		while (*e && *e != ',')
			e++;
		const char *te = e;
		while (te > s && (te[-1] == ' ' || te[-1] == '\t'))
			te--;
		if ((size_t)(te - s) == tl && !strncasecmp(s, tok, tl))
			return true;
		s = e;
	}
	return false;
}

static bool ws_key_valid(const char *k)
{
	unsigned char raw[32];
	size_t n = 0;
	if (!k || strlen(k) != 24)
		return false;
	if (sodium_base642bin(raw, sizeof(raw), k, 24, NULL, &n, NULL,
	                      sodium_base64_VARIANT_ORIGINAL) != 0)
		return false;
	return n == 16;
}

static int refuse(struct bw_conn *c, int status)
{
	c->err_status = status;
	return -1;
}

static int on_headers_complete(http_parser *p)
{
	struct bw_conn *c = conn_of(p);
	struct bw_req *r = c->req;
	if (c->in_value && commit_header(c) != 0)
		return -1;
	if (p->method == HTTP_CONNECT)
		return refuse(c, 400);
	if (p->http_major != 1)
		return refuse(c, 400);
	if ((p->http_minor == 1 && c->nhost != 1) || c->nhost > 1)
		return refuse(c, 400);
	if (c->te && strcasecmp(c->te, "chunked") != 0)
		return refuse(c, 400);
	if (c->te && (p->flags & F_CONTENTLENGTH))
		return refuse(c, 400);
	if (!c->te && (p->flags & F_CONTENTLENGTH) &&
	    p->content_length > bw_net__limits.max_body)
		return refuse(c, 413);
	if (!r->path || r->path[0] != '/')
		return refuse(c, 400);
	char *q = strchr(r->path, '?');
	if (q) {
		r->query = strdup(q + 1);
		*q = '\0';
		if (!r->query)
			return -1;
	}
	if (strchr(r->path, '#'))
		return refuse(c, 400);
	if (c->upgrade) {
		if (p->method != HTTP_GET || strcasecmp(c->upgrade, "websocket") != 0 ||
		    !c->connection || !has_token(c->connection, "upgrade") || !c->ws_version ||
		    strcmp(c->ws_version, "13") != 0 || !ws_key_valid(c->ws_key) ||
		    (p->flags & F_CONTENTLENGTH) || c->te)
			return refuse(c, 400);
		r->upgrade = true;
	}
	c->keep_alive = http_should_keep_alive(p);
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
	struct bw_conn *c = conn_of(p);
	if (c->body_len + n > bw_net__limits.max_body)
		return refuse(c, 413);
	if (c->body_len + n > c->body_cap) {
		size_t cap = c->body_cap ? c->body_cap : 1024;
		while (cap < c->body_len + n)
			cap *= 2;
		if (cap > bw_net__limits.max_body)
			cap = bw_net__limits.max_body;
		char *nb = realloc(c->body, cap + 1);
		if (!nb)
			return refuse(c, 413);
		c->body = nb;
		c->body_cap = cap;
	}
	memcpy(c->body + c->body_len, at, n);
	c->body_len += n;
	return 0;
}

static int on_message_complete(http_parser *p)
{
	http_parser_pause(p, 1);
	return 0;
}

/* ---- raw header section checks, before the parser sees it ---- */

static bool is_tchar(unsigned char ch)
{
	return isalnum(ch) || strchr("!#$%&'*+-.^_`|~", ch);
}

/* Scans a header section incrementally as bytes arrive, so junk is refused
 * at once (not at the header deadline) and a trickling client costs linear
 * time. Returns -1 on a violation, 0 when more bytes are needed, else the
 * length of the section through its final CRLF CRLF. */
static long scan_head(struct bw_head_scan *hs, const uint8_t *b, size_t len)
{
	for (; hs->pos < len; hs->pos++) {
		size_t i = hs->pos;
		uint8_t ch = b[i];
		if (ch == '\n') {
			if (i == 0 || b[i - 1] != '\r')
				return -1; /* bare LF */
			if (hs->in_name || hs->in_method)
				return -1; /* a line without its colon, or no method */
			if (hs->line_start && !hs->first_line)
				return (long)(i + 1); /* the empty line: end of the section */
			hs->line_start = true;
			hs->first_line = false;
			continue;
		}
		if (ch == '\r') {
			if (i + 1 >= len)
				return 0; /* its LF may be on the way */
			if (b[i + 1] != '\n')
				return -1; /* bare CR */
			continue;
		}
		if (ch == 0)
			return -1;
		if (hs->in_method) {
			if (ch == ' ' && i > 0)
				hs->in_method = false;
			else if (!is_tchar(ch))
				return -1; /* not an HTTP request line */
			continue;
		}
		if (hs->line_start) {
			hs->line_start = false;
			if (!hs->first_line) {
				if (ch == ' ' || ch == '\t')
					return -1; /* obsolete line folding */
				hs->in_name = true;
			}
		}
		if (hs->in_name) {
			if (ch == ':')
				hs->in_name = false;
			else if (!is_tchar(ch))
				return -1; /* white space or junk in a header name */
		}
	}
	return 0;
}

static int status_for_errno(enum http_errno e)
{
	switch (e) {
	case HPE_HEADER_OVERFLOW:
		return 431;
	default:
		return 400;
	}
}

static void compact_input(struct bw_conn *c)
{
	struct mbuf *mb = c->in;
	if (mb->pos == mb->end) {
		mb->pos = mb->end = 0;
	} else if (mb->pos > 65536) {
		memmove(mb->buf, mb->buf + mb->pos, mb->end - mb->pos);
		mb->end -= mb->pos;
		mb->pos = 0;
	}
}

static void peer_info(struct bw_conn *c, struct bw_req *r)
{
	int af = sa_af(&c->peer);
	if (af == AF_INET) {
		r->peer_family = 4;
		uint32_t a = htonl(sa_in(&c->peer));
		memcpy(r->peer_addr, &a, 4);
	} else if (af == AF_INET6) {
		r->peer_family = 6;
		sa_in6(&c->peer, r->peer_addr);
	}
	(void)re_snprintf(r->peer, sizeof(r->peer), "%j", &c->peer);
	r->tls = bw_listener_is_tls(c->lst);
	if (r->xff)
		bw_net__client_from_xff(r);
}

static void message_done(struct bw_conn *c)
{
	struct bw_req *r = c->req;
	c->req = NULL;
	r->method = http_method_str((enum http_method)c->parser.method);
	if (c->body_len) {
		c->body[c->body_len] = '\0';
		r->body = c->body;
		r->body_len = c->body_len;
		c->body = NULL;
		c->body_len = c->body_cap = 0;
	}
	if (!r->request_id[0])
		bw_request_id_new(r->request_id, sizeof(r->request_id));
	peer_info(c, r);
	if (r->upgrade)
		bw_ws__accept_key(c->ws_key, r->ws_accept);
	c->state = ST_WAIT;
	bw_http__clear_deadline(c);
	bw_dispatch__request(c, r);
}

static void process(struct bw_conn *c)
{
	while (!c->closed && c->state != ST_CLOSING) {
		size_t avail = mbuf_get_left(c->in);
		const uint8_t *b = mbuf_buf(c->in);
		if (c->state == ST_HEAD) {
			if (!avail)
				return;
			if (!c->req) {
				c->hscan = (struct bw_head_scan){.line_start = true, .first_line = true,
				                                 .in_method = true};
				start_deadline(c, bw_net__limits.header_timeout_ms);
				if (on_message_begin(&c->parser) != 0) {
					bw_http__fail(c, 500);
					return;
				}
			}
			long end = scan_head(&c->hscan, b, avail);
			if (end < 0) {
				bw_http__fail(c, 400);
				return;
			}
			if (c->hscan.first_line && avail > BW_MAX_URL + 32) {
				bw_http__fail(c, 414);
				return;
			}
			if (end == 0 || end > BW_MAX_HEADER_BYTES) {
				if (avail > BW_MAX_HEADER_BYTES)
					bw_http__fail(c, c->hscan.first_line ? 414 : 431);
				return;
			}
			c->state = ST_BODY;
			start_deadline(c, bw_net__limits.body_timeout_ms);
		}
		if (c->state == ST_BODY) {
			size_t n = http_parser_execute(&c->parser, &settings, (const char *)b, avail);
			enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
			if (c->err_status) {
				bw_http__fail(c, c->err_status);
				return;
			}
			if (e == HPE_PAUSED) {
				c->in->pos += n;
				compact_input(c);
				message_done(c);
				return;
			}
			if (e != HPE_OK) {
				bw_http__fail(c, status_for_errno(e));
				return;
			}
			c->in->pos += n;
			compact_input(c);
			return;
		}
		return;
	}
}

static int on_message_begin_cb(http_parser *p)
{
	/* The request was allocated when its first byte arrived (process()). */
	(void)p;
	return 0;
}

void bw_http__recv(struct bw_conn *c, struct mbuf *mb)
{
	if (c->closed)
		return;
	if (c->state == ST_CLOSING)
		return; /* lingering: discard */
	size_t n = mbuf_get_left(mb);
	size_t have = mbuf_get_left(c->in);
	size_t cap = c->state == ST_WS ? bw_net__limits.ws_max_msg + 65536
	                               : bw_net__limits.max_body + BW_MAX_HEADER_BYTES + 65536;
	if (have + n > cap) {
		if (c->state == ST_HEAD)
			bw_http__fail(c, 431);
		else
			bw_http__close(c);
		return;
	}
	size_t save = c->in->pos;
	c->in->pos = c->in->end;
	if (mbuf_write_mem(c->in, mbuf_buf(mb), n) != 0) {
		bw_http__close(c);
		return;
	}
	c->in->pos = save;
	if (c->state == ST_WS) {
		bw_ws__recv(c);
		return;
	}
	process(c);
}

void bw_http__resume(struct bw_conn *c)
{
	if (c->closed || c->state == ST_CLOSING || c->state == ST_WS)
		return;
	if (c->close_after_reply || !c->keep_alive) {
		bw_http__close_after_send(c);
		return;
	}
	c->state = ST_HEAD;
	http_parser_pause(&c->parser, 0);
	start_deadline(c, bw_net__limits.idle_timeout_ms);
	process(c);
}

void bw_http__conn_start(struct bw_conn *c)
{
	static bool inited;
	if (!inited) {
		settings.on_message_begin = on_message_begin_cb;
		settings.on_url = on_url;
		settings.on_header_field = on_header_field;
		settings.on_header_value = on_header_value;
		settings.on_headers_complete = on_headers_complete;
		settings.on_body = on_body;
		settings.on_message_complete = on_message_complete;
		inited = true;
	}
	http_parser_init(&c->parser, HTTP_REQUEST);
	c->parser.data = c;
	c->state = ST_HEAD;
	start_deadline(c, bw_net__limits.header_timeout_ms);
}

void bw_http__fail(struct bw_conn *c, int status)
{
	if (c->closed || c->state == ST_CLOSING)
		return;
	reset_message(c);
	if (status == 400) {
		struct mbuf *mb = mbuf_alloc(128);
		if (mb) {
			(void)mbuf_printf(mb,
			                  "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
			                  "Connection: close\r\n\r\n");
			bw_http__send(c, mb);
			mem_deref(mb);
		}
	} else {
		struct bw_resp resp = {0};
		struct bw_req req = {0};
		bw_request_id_new(req.request_id, sizeof(req.request_id));
		const char *code = status == 413   ? "PayloadTooLarge"
		                   : status == 414 ? "UriTooLong"
		                   : status == 431 ? "HeadersTooLarge"
		                   : status == 408 ? "RequestTimeout"
		                                   : "Internal";
		bw_resp_set_error(&resp, status, code, bw_http__reason(status), NULL);
		c->close_after_reply = true;
		bw_http__write_resp(c, &req, &resp);
	}
	bw_log(BW_LOG_DEBUG, "http request refused", "reason", bw_http__reason(status));
	bw_http__close_after_send(c);
}
