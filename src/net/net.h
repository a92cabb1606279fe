/* The front end as handlers and the daemon see it: requests, replies, the
 * route table's row type, WebSocket sessions, and starting the listeners.
 * libre stays inside src/net/. */
#ifndef BW_NET_H
#define BW_NET_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/result.h"

struct bw_store;
struct bw_config;
struct bw_ws;

/* Who may call a route. A credential of another kind gets 401. */
enum bw_principal_kind {
	BW_P_NONE = 0,  /* no credential: PUBLIC routes */
	BW_P_PLATFORM,  /* platform API key */
	BW_P_USER,      /* instance user session */
	BW_P_CUSTOMER,  /* customer participant token */
};

#define BW_KIND(k) (1u << (k))

struct bw_principal {
	enum bw_principal_kind kind;
	char id[48];
	char name[256];
	char instance_id[48];
	char session_id[48];
	uint64_t perms;   /* union of the user's profiles, read at each request */
	bool mfa_pending; /* a session that may only enroll MFA */
};

#define BW_MAX_PARAMS 4

struct bw_req {
	char request_id[72];
	const char *method;
	char *path;  /* decoded? no: raw path, matched segment by segment */
	char *query; /* raw query string or NULL */
	char *body;
	size_t body_len;
	char *authorization, *content_type, *origin, *user_agent, *host, *xff, *ws_protocol;
	char peer[64];    /* the client: the socket peer, or from X-Forwarded-For
	                     when the peer is a trusted proxy */
	int peer_family; /* 4 or 6 */
	uint8_t peer_addr[16];
	bool tls;
	bool upgrade; /* a valid WebSocket upgrade */
	char ws_accept[32];
	bool ws_offered_v1; /* the client offered bulwark.v1 */
	const struct bw_route *route;
	char *params[BW_MAX_PARAMS];
	int nparams;
	/* A public entry without Origin is judged on the loop before it queues
	 * (bw_server_set_public_guard): done says the address was counted,
	 * denied and retry_after_s what came of it, for the handler. */
	struct {
		bool done, denied;
		int retry_after_s;
	} guard;
};

struct bw_resp {
	int status;
	char *body; /* malloc'd */
	size_t body_len;
	const char *content_type;
	char extra[512]; /* extra header lines, each ending CRLF */
	size_t extra_len;
	bool ws_accept;
	struct bw_principal principal; /* for an accepted WebSocket */
};

/* What a handler gets. Handlers run on a worker thread unless the route is
 * BW_ROUTE_INLINE (then on the loop, and they must not block). */
struct bw_ctx {
	struct bw_req *req;
	struct bw_resp *resp;
	struct bw_store *store; /* this thread's connection; NULL inline */
	json_t *in;             /* parsed body, when the route takes one */
	struct bw_principal who;
	/* Audit hints from handlers: the instance whose chain records an
	 * anonymous call (login), and the name it claimed. */
	char audit_instance[48];
	char audit_name[136];
	const char *audit_action; /* overrides the route's action */
};

typedef void(bw_handler)(struct bw_ctx *c);

/* Loop-side callbacks of a WebSocket route (the engine's side). */
struct bw_ws_ops {
	void (*open)(struct bw_ws *ws);
	void (*message)(struct bw_ws *ws, const char *text, size_t len);
	void (*close)(struct bw_ws *ws);
};

enum {
	BW_ROUTE_ADMIN = 1 << 0,  /* served on the admin listener only */
	BW_ROUTE_INLINE = 1 << 1, /* runs on the loop: no store, no blocking */
	BW_ROUTE_BODY = 1 << 2,   /* takes a JSON object body */
	BW_ROUTE_WS = 1 << 3,     /* a WebSocket upgrade route */
	BW_ROUTE_AUDIT_READ = 1 << 4, /* a read of sensitive data: audited */
	BW_ROUTE_MFA_SETUP = 1 << 5,  /* open to a session that must enroll MFA */
	BW_ROUTE_PUBLIC_GUARD = 1 << 6, /* a public entry: deny list and throttle first (C10) */
};

#define BW_PERM_PUBLIC "PUBLIC"
#define BW_PERM_PLATFORM "Platform"
#define BW_PERM_AUTHENTICATED "Authenticated" /* any principal the route admits */

struct bw_route {
	const char *method;
	const char *pattern; /* "/v1/platform-keys/{id}" */
	unsigned kinds;      /* BW_KIND() mask of who may call; 0 = no credential */
	const char *permission; /* PUBLIC, Platform, or a catalog permission */
	bw_handler *handler;
	unsigned flags;
	const struct bw_ws_ops *ws;
	const char *action; /* audit action, e.g. "platform_keys.create" */
};

extern const struct bw_route bw_routes[];
extern const size_t bw_routes_count;

/* Reply helpers (take ownership of v). */
void bw_reply_json(struct bw_ctx *c, int status, json_t *v);
void bw_reply_error(struct bw_ctx *c, int status, const char *code, const char *msg,
                    const char *field);
void bw_reply_result(struct bw_ctx *c, bw_result r, const char *msg, const char *field);
void bw_reply_empty(struct bw_ctx *c, int status);
void bw_reply_header(struct bw_ctx *c, const char *name, const char *value);
/* Reads ?name= from the query (percent-decoded): 0 if present, -1 if
 * absent, -2 if longer than outsz allows or holding a NUL. */
int bw_query_get(const struct bw_req *r, const char *name, char *out, size_t outsz);

/* WebSocket sessions (loop thread only). */
uint64_t bw_ws_id(const struct bw_ws *ws);
const struct bw_principal *bw_ws_principal(const struct bw_ws *ws);
/* Queues a text message; a reader too slow to drain is disconnected. */
void bw_ws_send(struct bw_ws *ws, const char *text, size_t len);
void bw_ws_send_json(struct bw_ws *ws, json_t *v); /* takes ownership */
void bw_ws_close(struct bw_ws *ws, uint16_t code, const char *reason);
/* Push from any thread to a session by id (dropped if it is gone). */
void bw_ws_push(uint64_t session_id, const char *text, size_t len);
/* Push from any thread to every session of one WebSocket route. */
void bw_ws_broadcast(const struct bw_ws_ops *ops, const char *text, size_t len);
size_t bw_ws_count(void);

/* Per-session data of the route's owner (the engine), loop thread only. */
void bw_ws_set_user(struct bw_ws *ws, void *user);
void *bw_ws_user(const struct bw_ws *ws);

/* The loop thread (src/net/loopcall.c). bw_loop_call runs fn there and
 * waits (from a worker; directly when already on the loop); bw_loop_post
 * queues it and returns. */
void bw_loop_call(void (*fn)(void *arg), void *arg);
BW_MUST_USE bw_result bw_loop_post(void (*fn)(void *arg), void *arg);
bool bw_on_loop(void);
/* Wakes the loop to run k->fn, allocating nothing (k is static): what a
 * kick was for waits in the caller's own queue, so nothing is lost in the
 * pipe when the loop stops first. */
struct bw_loop_kick {
	void (*fn)(void);
};
void bw_loop_kick(const struct bw_loop_kick *k);
/* Runs fn(store, arg) on an API worker, with its store connection (NULL
 * when it could not open one), without waiting: the engine's blocking
 * work. BW_AGAIN when the pool is full, stopping or absent (fn will not
 * run). A job taken runs even while the server stops: the pool runs what
 * is queued before its threads are joined, while bw_loop_kick still works. */
BW_MUST_USE bw_result bw_worker_post(void (*fn)(struct bw_store *s, void *arg), void *arg);
/* Called on the loop every sweep (100 ms): the engine's timers. */
void bw_server_set_tick(void (*fn)(void));
/* The loop-side judge of public entries (the deny list and the per-address
 * throttle, C10): called on the loop for a BW_ROUTE_PUBLIC_GUARD route
 * without an Origin header (origin checks need the store, so those go to
 * a worker whole). It fills req->guard; a throttled request is answered
 * 429 on the loop without reaching a worker, so that a flood of refused
 * requests does not queue ahead of real customers. */
void bw_server_set_public_guard(void (*fn)(struct bw_req *req));

/* Gauges for /metrics (loop thread). */
size_t bw_net_queue_depth(void);
size_t bw_net_hash_queue_depth(void);
size_t bw_net_connections(void);

/* The daemon's front end. */
struct bw_server_opts {
	const struct bw_config *cfg;
	const char *db_path;
	int durability;
	uint8_t *root_key;
};
BW_MUST_USE bw_result bw_server_start(const struct bw_server_opts *o, char *listen_out,
                                      size_t lsz, char *admin_out, size_t asz);
/* Stops accepting, closes sockets with 1001, drains in-flight work. */
void bw_server_shutdown(void (*done)(void));
void bw_server_free(void);

#endif
