/* Internals of the front end, shared by the files of src/net/. */
#ifndef BW_NET_INT_H
#define BW_NET_INT_H

#include "net/re_min.h"
#include <http_parser.h>

#include "net/net.h"

#define BW_MAX_HEADERS 64
#define BW_MAX_URL 2048
#define BW_MAX_HEADER_BYTES 16384

struct bw_limits {
	size_t max_body;
	uint32_t header_timeout_ms, body_timeout_ms, idle_timeout_ms;
	size_t max_conns, max_conns_per_addr;
	size_t ws_max_msg, ws_max_queue;
	uint32_t ws_ping_ms, ws_idle_ms;
	int hsts_max_age;
	uint32_t shutdown_ms;
};
extern struct bw_limits bw_net__limits;

struct bw_listener;

/* Incremental state of the header-section scan (http.c). */
struct bw_head_scan {
	size_t pos;
	bool line_start, first_line, in_name, in_method;
};

enum conn_state { ST_HEAD, ST_BODY, ST_WAIT, ST_WS, ST_CLOSING };

struct bw_conn {
	struct le le;
	struct bw_listener *lst;
	struct tcp_conn *tc;
	struct tls_conn *sc;
	struct sa peer;
	struct bw__addr_slot *slot;
	http_parser parser;
	struct bw_head_scan hscan;
	enum conn_state state;
	struct mbuf *in;
	uint64_t deadline;              /* tmr_jiffies() ms; 0: none (the sweep checks it) */
	void (*on_deadline)(struct bw_conn *c);
	struct tmr tmr_free;
	bool closed;
	bool released; /* the connection's own reference was dropped */
	bool keep_alive;
	bool close_after_reply;
	/* the message being parsed */
	struct bw_req *req;
	char *body;
	size_t body_len, body_cap;
	char *hfield;
	size_t hfield_len;
	char *hval;
	size_t hval_len;
	bool in_value;
	int nheaders;
	int nhost;
	int err_status; /* set by a callback to refuse the message */
	char *ws_key, *ws_version, *upgrade, *connection, *te;
	double t_start;
	struct bw_ws *ws;
};

bool bw_listener_is_admin(const struct bw_listener *l);
bool bw_listener_is_tls(const struct bw_listener *l);
/* Test hooks (the fuzzers): a listener and a connection without sockets. */
struct bw_listener *bw_listener__test_new(bool admin);
struct bw_conn *bw_conn__test_new(struct bw_listener *l);

/* http.c */
void bw_http__conn_start(struct bw_conn *c);
void bw_http__recv(struct bw_conn *c, struct mbuf *mb);
void bw_http__resume(struct bw_conn *c);
void bw_http__close(struct bw_conn *c);
/* Ends after what is queued is sent: shut the write side, then linger. */
void bw_http__close_after_send(struct bw_conn *c);
void bw_http__send(struct bw_conn *c, struct mbuf *mb);
/* Deadlines live in the connection and one periodic sweep fires them: libre
 * keeps timers in a sorted list, so a timer per connection would make every
 * re-arm cost O(connections). */
void bw_http__set_deadline(struct bw_conn *c, uint32_t ms, void (*fn)(struct bw_conn *c));
void bw_http__clear_deadline(struct bw_conn *c);
void bw_http__sweep(struct bw_conn *c, uint64_t now);
void bw_req_free(struct bw_req *r);
/* Test hook: what is sent on a connection without a socket (tc NULL) goes
 * here, or is dropped while it is NULL (the default). */
extern void (*bw_http__test_sink)(struct bw_conn *c, struct mbuf *mb);

/* proxy.c: the client address behind trusted proxies */
bw_result bw_net__trusted_init(const char *list);
void bw_net__trusted_free(void);
void bw_net__client_from_xff(struct bw_req *r);

/* http_reply.c */
/* Serializes and sends a response; frees resp->body. */
void bw_http__write_resp(struct bw_conn *c, const struct bw_req *req, struct bw_resp *resp);
/* A bare error for malformed HTTP, then close. */
void bw_http__fail(struct bw_conn *c, int status);
const char *bw_http__reason(int status);
void bw_resp_set_error(struct bw_resp *resp, int status, const char *code, const char *msg,
                       const char *field);

/* router.c */
enum bw_match { BW_MATCH_OK, BW_MATCH_NOPATH, BW_MATCH_NOMETHOD };
enum bw_match bw_router__match(struct bw_req *r, bool admin, char *allow, size_t allowsz);
size_t bw_router__index(const struct bw_route *rt);

/* dispatch.c */
void bw_dispatch__request(struct bw_conn *c, struct bw_req *req);
bw_result bw_dispatch__init(const struct bw_server_opts *o);
void bw_dispatch__stop(void);
size_t bw_dispatch__inflight(void);

/* loopcall.c */
bw_result bw_loopcall__init(void);
void bw_loopcall__fini(void);

/* ws.c */
bw_result bw_ws__start(struct bw_conn *c, const struct bw_route *rt, const struct bw_principal *p);
void bw_ws__recv(struct bw_conn *c);
void bw_ws__conn_closed(struct bw_conn *c);
void bw_ws__sweep(struct bw_ws *ws, uint64_t now);
void bw_ws__close_all(uint16_t code);
bw_result bw_ws__init(void);
void bw_ws__fini(void);
void bw_ws__accept_key(const char *key, char out[32]);

/* metrics (core/metrics.c, fed from the loop) */

#endif
