/* Client connections for the chat load generator, on libre's loop: HTTP/1.1
 * keep-alive connections with a FIFO of requests (one in flight), and
 * WebSocket client sessions on wslay (masked frames, random masks). One
 * process, one thread: everything here runs on the loop. */
#ifndef LC_LOADCONN_H
#define LC_LOADCONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lc_conn;

/* status is the HTTP status, or 0 when the connection failed before a reply. */
typedef void(lc_http_h)(int status, const char *body, size_t len, void *arg);
/* A WebSocket session: open (after a valid 101), each text message, close.
 * err is 0 on a clean close, else an errno value or -1 (refused handshake). */
typedef void(lc_ws_open_h)(struct lc_conn *c, void *arg);
typedef void(lc_ws_msg_h)(struct lc_conn *c, const char *text, size_t len, void *arg);
typedef void(lc_ws_close_h)(struct lc_conn *c, int err, void *arg);

struct lc_ws_handlers {
	lc_ws_open_h *open;
	lc_ws_msg_h *msg;
	lc_ws_close_h *close;
};

/* Sets the server address (IPv4 "HOST:PORT") and the descriptor table. */
int lc_init(const char *hostport, int max_fds);
void lc_fini(void);

/* HTTP: requests on one connection go in order, one at a time; a connection
 * idle for 10 s is replaced before the next request (the server closes idle
 * keep-alive connections after 15 s). token may be NULL; body (JSON) may be NULL. */
struct lc_conn *lc_http_new(void);
void lc_http_request(struct lc_conn *c, const char *method, const char *path, const char *token,
                     const char *body, lc_http_h *h, void *arg);
size_t lc_http_pending(const struct lc_conn *c);

/* WebSocket: GET path with "Sec-WebSocket-Protocol: bulwark.v1[, bearer.TOKEN]". */
struct lc_conn *lc_ws_open(const char *path, const char *token, const struct lc_ws_handlers *h,
                           void *arg);
int lc_ws_send(struct lc_conn *c, const char *text, size_t len);
bool lc_ws_is_open(const struct lc_conn *c);
/* Sends a close frame; the close handler runs when the server closes. */
void lc_ws_close(struct lc_conn *c);

/* Ends a connection without calling its handlers again; freed later. */
void lc_conn_drop(struct lc_conn *c);
/* Frees dropped connections (call from a timer, never from a handler). */
void lc_reap(void);

/* Counters for the report. */
struct lc_stats {
	uint64_t connects, connect_errors, http_requests, http_errors;
	uint64_t ws_opened, ws_refused, ws_closed_unexpected, frames_in, frames_out;
	uint64_t bytes_in, bytes_out;
};
extern struct lc_stats lc_stats;

/* CLOCK_MONOTONIC in microseconds. */
uint64_t lc_now_us(void);

#endif
