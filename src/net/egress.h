/* Outbound HTTP (C17; docs/internals/egress.md): libcurl's multi interface
 * driven by the loop. Every connection is checked against the caller's
 * address policy when its socket is opened (CURLOPT_OPENSOCKETFUNCTION, the
 * addresses curl resolved at that moment) and again before a request goes
 * out on it (CURLOPT_PREREQFUNCTION: a reused connection too). TLS is
 * verified, redirects are never followed (a 3xx is the answer), only http
 * and https are spoken, no proxy is used, the response body is capped and
 * the whole exchange has a deadline. A plain-http URL may reach only the
 * addresses the ranges list, never a public one outside them. */
#ifndef BW_EGRESS_H
#define BW_EGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/result.h"
#include "integ/addrpolicy.h"

#define BW_EGRESS_MAX_HEADERS 32
#define BW_EGRESS_MAX_RANGES 64
#define BW_EGRESS_MAX_BODY (1024 * 1024)          /* request body */
#define BW_EGRESS_MAX_RESPONSE (16 * 1024 * 1024) /* the largest cap a caller may ask */
#define BW_EGRESS_MAX_TIMEOUT_MS 600000

struct bw_egress_header {
	const char *name;  /* a token; not Host, Content-Length, Transfer-Encoding... */
	const char *value; /* no CR, LF or NUL; may be a secret: the copy is wiped */
};

/* What to send. bw_egress_request copies everything it points to. */
struct bw_egress_req {
	const char *method; /* GET, POST, PUT, PATCH, DELETE */
	const char *url;    /* absolute http:// or https:// URL */
	const struct bw_egress_header *headers;
	size_t nheaders;
	const void *body; /* sent when not NULL (not with GET) */
	size_t body_len;
	uint32_t timeout_ms;          /* the whole exchange, 1..BW_EGRESS_MAX_TIMEOUT_MS */
	size_t max_response_bytes;    /* 1..BW_EGRESS_MAX_RESPONSE; more aborts */
	const struct bw_cidr *ranges; /* the integration's allowed_address_ranges */
	size_t nranges;
	/* mTLS: a client certificate and its key (PEM), both or neither. */
	const char *client_cert_pem, *client_key_pem;
	const char *ca_pem; /* trust anchors (PEM) instead of the system's; NULL: the system's */
};

enum bw_egress_result {
	BW_EGRESS_OK = 0,  /* a response came (any status; a 3xx is not followed) */
	BW_EGRESS_REFUSED, /* the policy refused every address: nothing was sent */
	BW_EGRESS_TIMEOUT,
	BW_EGRESS_TOO_BIG,  /* the response passed max_response_bytes */
	BW_EGRESS_RESOLVE,  /* the host name did not resolve */
	BW_EGRESS_CONNECT,  /* no connection (refused, unreachable) */
	BW_EGRESS_TLS,      /* the handshake or the certificate check failed */
	BW_EGRESS_PROTOCOL, /* no valid HTTP response */
	BW_EGRESS_SHUTDOWN, /* the server stopped first */
	BW_EGRESS_FAILED,   /* anything else */
};

/* "ok", "refused", "timeout", ... */
const char *bw_egress_result_name(enum bw_egress_result r);

struct bw_egress_resp {
	enum bw_egress_result result;
	int status;          /* the HTTP status, 0 when none came */
	const uint8_t *body; /* valid during the callback only (NULL when empty) */
	size_t body_len;
	char content_type[128];
	uint32_t elapsed_ms;
	char address[64];                 /* the peer's address, or the last one refused */
	enum bw_addr_class refused_class; /* with BW_EGRESS_REFUSED */
	char detail[256]; /* one sentence for replies and logs: no secret, no body */
};

typedef void(bw_egress_done)(void *arg, const struct bw_egress_resp *resp);

/* Starts a request (loop thread only). BW_OK: done(arg, resp) runs exactly
 * once, on the loop, never inside this call (when the server stops, with
 * BW_EGRESS_SHUTDOWN). Otherwise done is never called: BW_INVALID for a bad
 * request or a call off the loop, BW_AGAIN when egress is not running,
 * BW_NOMEM. */
BW_MUST_USE bw_result bw_egress_request(const struct bw_egress_req *r, bw_egress_done *done,
                                        void *arg);

/* The same from a worker thread, waiting for the answer. out->resp.body
 * points at out->body (malloc'd): bw_egress_result_clear frees it. BW_AGAIN
 * when egress is not running; BW_INVALID on the loop thread. */
struct bw_egress_answer {
	struct bw_egress_resp resp;
	uint8_t *body;
};
BW_MUST_USE bw_result bw_egress_call(const struct bw_egress_req *r, struct bw_egress_answer *out);
/* The same in two steps, so that a thread can have several calls out at
 * once: start queues the request (BW_OK: exactly one wait must follow,
 * which answers and frees the pending call); other results as above. */
struct bw_egress_pending;
BW_MUST_USE bw_result bw_egress_call_start(const struct bw_egress_req *r,
                                           struct bw_egress_pending **out);
void bw_egress_call_wait(struct bw_egress_pending *p, struct bw_egress_answer *out);
/* start with notify(arg) called on the loop once the answer is in (it must
 * not block: wake a thread); poll then takes the answer without waiting:
 * true when there was one (p is then freed), false while the call is out. */
BW_MUST_USE bw_result bw_egress_call_start_notify(const struct bw_egress_req *r,
                                                  void (*notify)(void *arg), void *arg,
                                                  struct bw_egress_pending **out);
BW_MUST_USE bool bw_egress_call_poll(struct bw_egress_pending *p, struct bw_egress_answer *out);
void bw_egress_answer_clear(struct bw_egress_answer *a);

/* Requests in flight or waiting for the loop (loop thread). */
size_t bw_egress_inflight(void);

/* The server's side (src/net/listener.c), and the unit tests. start runs
 * on the loop thread before the loop; abort_all answers every request with
 * BW_EGRESS_SHUTDOWN (the shutdown deadline) and says how many; fini does
 * that, stops accepting, and frees everything (after the loop returned,
 * before the workers are joined, so that no worker waits forever). */
BW_MUST_USE bw_result bw_egress__start(void);
size_t bw_egress__abort_all(void);
void bw_egress__fini(void);

#endif
