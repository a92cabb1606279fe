/* The request path: route → (worker) body decode → authenticate → authorize
 * → handler → reply through mqueue to the loop. Inline routes run the same
 * phases on the loop. */
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/ids.h"
#include "core/json.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/pool.h"
#include "net/net_int.h"
#include "api/api.h"
#include "sec/audit.h"
#include "sec/auth.h"
#include "sec/password.h"
#include "sec/seal.h"
#include "store/store.h"

struct job {
	struct bw_job base;
	struct bw_conn *conn; /* a reference, touched on the loop only */
	struct bw_req *req;
	struct bw_resp resp;
	double t0;
};

static struct bw_pool *api_pool, *hash_pool;
static struct mqueue *replies;
static size_t inflight;
static char *db_path;
static enum bw_durability durability;

size_t bw_net_queue_depth(void)
{
	return bw_pool_depth(api_pool);
}

size_t bw_net_hash_queue_depth(void)
{
	return bw_pool_depth(hash_pool);
}

size_t bw_dispatch__inflight(void)
{
	return inflight;
}

static bool json_content_type(const char *ct)
{
	if (!ct)
		return false;
	size_t n = strlen("application/json");
	if (strncasecmp(ct, "application/json", n) != 0)
		return false;
	const char *rest = ct + n;
	while (*rest == ' ')
		rest++;
	return *rest == '\0' || *rest == ';';
}

/* Phase: decode the body of routes that take one. */
static bool decode_body(struct bw_ctx *c)
{
	if (!(c->req->route->flags & BW_ROUTE_BODY))
		return true;
	if (!json_content_type(c->req->content_type)) {
		bw_reply_error(c, 415, "UnsupportedMediaType", "Content-Type must be application/json",
		               NULL);
		return false;
	}
	if (!c->req->body_len) {
		bw_reply_error(c, 400, "InvalidJson", "a JSON body is required", NULL);
		return false;
	}
	const char *why = NULL;
	c->in = bw_json_parse(c->req->body, c->req->body_len, &why);
	if (!c->in) {
		bw_reply_error(c, 400, "InvalidJson", why, NULL);
		return false;
	}
	if (!json_is_object(c->in)) {
		bw_reply_error(c, 400, "InvalidParameter", "the body must be a JSON object", NULL);
		return false;
	}
	return true;
}

static const char *result_of(int status)
{
	if (status < 400)
		return "allowed";
	if (status == 401 || status == 403 || status == 429)
		return "denied";
	return "failed";
}

static void error_code_of(const struct bw_resp *r, char *out, size_t n)
{
	out[0] = '\0';
	if (r->status < 400 || !r->body)
		return;
	json_t *v = json_loadb(r->body, r->body_len, 0, NULL);
	const char *code = json_string_value(json_object_get(json_object_get(v, "error"), "code"));
	if (code)
		snprintf(out, n, "%s", code);
	json_decref(v);
}

static const char *const kind_names[] = {"anonymous", "platform", "user", "customer"};

/* Phase: the audit record. Every mutating call, every refused or failed
 * authentication or authorization, and every read of sensitive data; a
 * record is committed before the reply leaves (C8). */
static void audit(struct bw_ctx *c, bool unreadable)
{
	const struct bw_route *rt = c->req->route;
	const char *action = c->audit_action ? c->audit_action : rt->action;
	int st = c->resp->status;
	if (unreadable) /* keys (C14): a sealed value of the request did not open */
		action = "keys.unreadable";
	if (!action)
		return;
	bool mutating = strcmp(c->req->method, "GET") != 0;
	bool refused = st == 401 || st == 403;
	if (!unreadable && !mutating && !refused && !(rt->flags & BW_ROUTE_AUDIT_READ))
		return;
	/* A throttled public request is counted (bulwark_http_requests_total),
	 * not recorded one by one: under a flood a record per refusal would
	 * make every refusal cost a commit and grow the trail without bound. */
	if (st == 429 && !strncmp(rt->pattern, "/v1/public/", 11))
		return;
	struct bw_audit_event e;
	memset(&e, 0, sizeof(e));
	bw_id_new(e.id, "ev_");
	bw_time_rfc3339(bw_now_unix(), e.time, sizeof(e.time));
	const struct bw_principal *w = &c->who;
	snprintf(e.principal_kind, sizeof(e.principal_kind), "%s", kind_names[w->kind]);
	snprintf(e.principal_id, sizeof(e.principal_id), "%s", w->id);
	snprintf(e.principal_name, sizeof(e.principal_name), "%s",
	         w->kind == BW_P_NONE ? c->audit_name : w->name);
	if (w->kind == BW_P_USER) {
		snprintf(e.chain, sizeof(e.chain), "%s", w->instance_id);
		snprintf(e.instance_id, sizeof(e.instance_id), "%s", w->instance_id);
	} else if (w->kind == BW_P_NONE && c->audit_instance[0]) {
		snprintf(e.chain, sizeof(e.chain), "%s", c->audit_instance);
		snprintf(e.instance_id, sizeof(e.instance_id), "%s", c->audit_instance);
	} else if (strncmp(rt->pattern, "/v1/instances/{iid}", 19) == 0) {
		/* Platform actions stay on the platform chain, naming the instance;
		 * a refused anonymous call goes to the chain of the instance it
		 * aimed at, where that instance's admins can see it. */
		snprintf(e.instance_id, sizeof(e.instance_id), "%s", c->req->params[0]);
		struct bw_instance in = {0};
		if (w->kind == BW_P_NONE && bw_store_instance_get(c->store, e.instance_id, &in) == BW_OK)
			snprintf(e.chain, sizeof(e.chain), "%s", e.instance_id);
		bw_instance_clear(&in);
	}
	snprintf(e.action, sizeof(e.action), "%s", action);
	snprintf(e.resource, sizeof(e.resource), "%s", c->req->path);
	snprintf(e.source_ip, sizeof(e.source_ip), "%s", c->req->peer);
	snprintf(e.user_agent, sizeof(e.user_agent), "%s",
	         c->req->user_agent ? c->req->user_agent : "");
	snprintf(e.result, sizeof(e.result), "%s", unreadable ? "failed" : result_of(st));
	e.status = st;
	error_code_of(c->resp, e.error_code, sizeof(e.error_code));
	snprintf(e.request_id, sizeof(e.request_id), "%s", c->req->request_id);
	bw_result ar = bw_audit_append(&e);
	if (ar == BW_OK && !strcmp(e.chain, BW_AUDIT_PLATFORM))
		bw_api_events_audit(&e);
	if (ar != BW_OK) {
		bw_log(BW_LOG_ERROR, "audit record not written", "request_id", c->req->request_id);
		/* Fail closed where nothing was changed yet. */
		if (!mutating || st >= 400)
			bw_reply_result(c, BW_ERR, NULL, NULL);
	}
}

static void run_phases(struct bw_ctx *c)
{
	bw_result r;
	unsigned long long unopened = bw_unseal_failures();
	if (!decode_body(c))
		goto out;
	r = bw_auth_authenticate(c);
	if (r == BW_DENIED) {
		bw_reply_error(c, 403, "AccessDenied",
		               "your network address is not allowed for this instance", NULL);
		goto out;
	}
	if (r != BW_OK) {
		bw_reply_result(c, r, "a valid credential of the right kind is required", NULL);
		if (r == BW_UNAUTH)
			bw_reply_header(c, "WWW-Authenticate", "Bearer");
		goto out;
	}
	r = bw_auth_authorize(c);
	if (r == BW_NOTFOUND) {
		bw_reply_result(c, r, "no such resource", NULL);
		goto out;
	}
	if (r != BW_OK) {
		bw_reply_result(c, r, c->who.mfa_pending
		                          ? "enroll MFA first: this session may only set it up"
		                          : "the credential lacks the permission this route needs",
		                NULL);
		goto out;
	}
	c->req->route->handler(c);
	if (!c->resp->status)
		bw_reply_result(c, BW_ERR, NULL, NULL);
out:
	if (c->store) {
		audit(c, false);
		if (bw_unseal_failures() != unopened)
			audit(c, true);
	}
}

static void *worker_init(void *arg)
{
	(void)arg;
	struct bw_store *s = NULL;
	if (bw_store_open(&s, db_path, durability) != BW_OK)
		bw_log(BW_LOG_ERROR, "worker cannot open the store");
	return s;
}

static void worker_fini(void *ctx)
{
	bw_auth_thread_done();
	bw_store_close(ctx);
}

static void job_run(struct bw_job *bj, void *thread_ctx)
{
	struct job *j = (struct job *)bj;
	struct bw_ctx c = {.req = j->req, .resp = &j->resp, .store = thread_ctx};
	if (!c.store)
		bw_reply_result(&c, BW_ERR, NULL, NULL);
	else
		run_phases(&c);
	json_decref(c.in);
	/* The pipe can be momentarily full under load: retry, never drop. */
	while (mqueue_push(replies, 0, j) != 0)
		sched_yield();
}

static void finish(struct bw_conn *c, struct bw_req *req, struct bw_resp *resp, double t0)
{
	double dt = bw_now_mono() - t0;
	const struct bw_route *rt = req->route;
	bw_metrics_http(bw_router__index(rt), resp->status, dt);
	struct bw_access a = {req->request_id, req->method, rt ? rt->pattern : "unmatched",
	                      req->peer, resp->status, dt * 1000.0};
	bw_log_access(&a);
	if (c->closed) {
		free(resp->body);
		return;
	}
	if (resp->ws_accept) {
		resp->status = 101;
		bw_reply_header(&(struct bw_ctx){.resp = resp}, "Upgrade", "websocket");
		bw_reply_header(&(struct bw_ctx){.resp = resp}, "Connection", "Upgrade");
		bw_reply_header(&(struct bw_ctx){.resp = resp}, "Sec-WebSocket-Accept", req->ws_accept);
		if (req->ws_offered_v1)
			bw_reply_header(&(struct bw_ctx){.resp = resp}, "Sec-WebSocket-Protocol",
			                "bulwark.v1");
		free(resp->body);
		resp->body = NULL;
		resp->body_len = 0;
		bw_http__write_resp(c, req, resp);
		if (bw_ws__start(c, rt, &resp->principal) != BW_OK)
			bw_http__close(c);
		return;
	}
	bw_http__write_resp(c, req, resp);
	bw_http__resume(c);
}

static void reply_handler(int id, void *data, void *arg)
{
	(void)id;
	(void)arg;
	struct job *j = data;
	inflight--;
	finish(j->conn, j->req, &j->resp, j->t0);
	mem_deref(j->conn);
	bw_req_free(j->req);
	free(j);
}

static void reply_now(struct bw_conn *c, struct bw_req *req, struct bw_resp *resp, double t0)
{
	finish(c, req, resp, t0);
	bw_req_free(req);
}

static bool offers_v1(const char *list)
{
	const char *p = list;
	while (p && *p) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		while (n && p[n - 1] == ' ')
			n--;
		if (n == 10 && !strncmp(p, "bulwark.v1", 10))
			return true;
		p = e;
	}
	return false;
}

static void (*public_guard)(struct bw_req *req);

void bw_server_set_public_guard(void (*fn)(struct bw_req *req))
{
	public_guard = fn;
}

void bw_dispatch__request(struct bw_conn *c, struct bw_req *req)
{
	double t0 = bw_now_mono();
	struct bw_resp resp = {0};
	char allow[128];
	enum bw_match m = bw_router__match(req, bw_listener_is_admin(c->lst), allow, sizeof(allow));
	if (m == BW_MATCH_NOPATH) {
		bw_resp_set_error(&resp, 404, "NotFound", "no such resource", NULL);
		reply_now(c, req, &resp, t0);
		return;
	}
	if (m == BW_MATCH_NOMETHOD) {
		bw_resp_set_error(&resp, 405, "MethodNotAllowed", "method not allowed on this resource",
		                  NULL);
		bw_reply_header(&(struct bw_ctx){.resp = &resp}, "Allow", allow);
		reply_now(c, req, &resp, t0);
		return;
	}
	const struct bw_route *rt = req->route;
	bool ws_route = (rt->flags & BW_ROUTE_WS) != 0;
	if (ws_route != req->upgrade) {
		bw_resp_set_error(&resp, ws_route ? 426 : 400,
		                  ws_route ? "UpgradeRequired" : "InvalidParameter",
		                  ws_route ? "this route takes a WebSocket upgrade"
		                           : "this route does not take an upgrade",
		                  NULL);
		if (ws_route)
			bw_reply_header(&(struct bw_ctx){.resp = &resp}, "Upgrade", "websocket");
		c->close_after_reply = true;
		reply_now(c, req, &resp, t0);
		return;
	}
	if (ws_route) {
		req->ws_offered_v1 = offers_v1(req->ws_protocol);
		if (req->ws_protocol && !req->ws_offered_v1) {
			bw_resp_set_error(&resp, 400, "InvalidParameter",
			                  "the subprotocol bulwark.v1 must be offered", NULL);
			c->close_after_reply = true;
			reply_now(c, req, &resp, t0);
			return;
		}
	}
	if ((rt->flags & BW_ROUTE_PUBLIC_GUARD) && !req->origin && public_guard) {
		public_guard(req);
		if (req->guard.done && !req->guard.denied && req->guard.retry_after_s > 0) {
			char s[16];
			snprintf(s, sizeof(s), "%d", req->guard.retry_after_s);
			bw_resp_set_error(&resp, 429, "Throttled",
			                  "too many requests from this address; retry later", NULL);
			bw_reply_header(&(struct bw_ctx){.resp = &resp}, "Retry-After", s);
			reply_now(c, req, &resp, t0);
			return;
		}
	}
	if (rt->flags & BW_ROUTE_INLINE) {
		struct bw_ctx cx = {.req = req, .resp = &resp};
		run_phases(&cx);
		json_decref(cx.in);
		reply_now(c, req, &resp, t0);
		return;
	}
	struct job *j = calloc(1, sizeof(*j));
	if (!j)
		goto busy;
	j->base.run = job_run;
	j->conn = mem_ref(c);
	j->req = req;
	j->t0 = t0;
	if (bw_pool_submit(api_pool, &j->base) != BW_OK) {
		mem_deref(j->conn);
		free(j);
		goto busy;
	}
	inflight++;
	return;
busy:
	bw_resp_set_error(&resp, 503, "Unavailable", "the server is busy; retry shortly", NULL);
	bw_reply_header(&(struct bw_ctx){.resp = &resp}, "Retry-After", "1");
	reply_now(c, req, &resp, t0);
}

struct post_job {
	struct bw_job base;
	void (*fn)(struct bw_store *s, void *arg);
	void *arg;
};

static void post_run(struct bw_job *bj, void *thread_ctx)
{
	struct post_job *j = (struct post_job *)bj;
	j->fn(thread_ctx, j->arg);
	free(j);
}

bw_result bw_worker_post(void (*fn)(struct bw_store *s, void *arg), void *arg)
{
	struct post_job *j = calloc(1, sizeof(*j));
	if (!j)
		return BW_NOMEM;
	*j = (struct post_job){.base.run = post_run, .fn = fn, .arg = arg};
	if (bw_pool_submit(api_pool, &j->base) != BW_OK) {
		free(j);
		return BW_AGAIN;
	}
	return BW_OK;
}

bw_result bw_dispatch__init(const struct bw_server_opts *o)
{
	db_path = strdup(o->db_path);
	durability = o->durability ? BW_DURABILITY_FULL : BW_DURABILITY_NORMAL;
	if (!db_path || mqueue_alloc(&replies, reply_handler, NULL) != 0)
		return BW_NOMEM;
	bw_seal_root = o->root_key;
	bw_result ar = bw_audit_start(o->db_path, o->durability, o->root_key);
	if (ar != BW_OK)
		return ar;
	int workers = (int)bw_config_int(o->cfg, "workers");
	int hashers = (int)bw_config_int(o->cfg, "hash_workers");
	bw_result r = bw_pool_start(&api_pool, "api", workers, 100000, worker_init, worker_fini, NULL);
	if (r != BW_OK)
		return r;
	r = bw_pool_start(&hash_pool, "hash", hashers, 10000, NULL, NULL, NULL);
	bw_password_pool = hash_pool;
	return r;
}

void bw_dispatch__stop(void)
{
	bw_pool_stop(api_pool);
	bw_pool_stop(hash_pool);
	bw_password_pool = NULL;
	bw_audit_stop();
	api_pool = hash_pool = NULL;
	replies = mem_deref(replies);
	free(db_path);
	db_path = NULL;
}
