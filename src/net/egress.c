/* Outbound HTTP on the loop (C17): libcurl's multi interface driven by
 * libre. curl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION →
 * fd_listen) and when to wake it (CURLMOPT_TIMERFUNCTION → a tmr); the
 * handlers call curl_multi_socket_action, never a curl callback, and then
 * collect finished transfers. Workers hand requests over through a queue
 * of our own and an eventfd the loop watches, so that a request is never
 * lost in a pipe when the loop stops first: fini answers whatever is
 * queued or in flight. Everything copied from a request is wiped when the
 * transfer ends (header values may be secrets). See docs/internals/egress.md. */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net/re_min.h"

#include "core/ids.h"
#include "core/log.h"
#include "core/wipe.h"
#include "net/egress.h"

#define USER_AGENT "Bulwark/0.1"
#define CALL_GRACE_MS 10000 /* a waiting worker's last resort past the timeout */

struct xfer {
	struct xfer *prev, *next; /* in flight, or queued by a worker */
	CURL *easy;
	bw_egress_done *done;
	void *arg;
	char *method, *url;
	uint8_t *body;
	size_t body_len;
	bool has_body;
	/* Request headers: nodes and text are ours (wiped on free), so that
	 * curl_slist_append never copies a secret where we cannot wipe it. */
	struct curl_slist *hdrs;
	char *hdr_text;
	size_t hdr_text_len;
	char *cert, *key, *ca;
	struct bw_cidr *ranges;
	size_t nranges;
	bool listed_only; /* plain http: listed addresses only */
	uint32_t timeout_ms;
	size_t max;
	/* the answer */
	uint8_t *buf;
	size_t len, cap;
	bool too_big;
	unsigned opened, refused; /* sockets let through and refused by the policy */
	bool prereq_refused;
	struct bw_ip refused_ip;
	enum bw_addr_class refused_cls;
	bool refused_unlisted; /* refused by the plain-http rule */
	double t0;
	char errbuf[CURL_ERROR_SIZE];
};

/* Loop thread only. */
static CURLM *multi;
static struct tmr timer;
static struct xfer *flight;
static size_t nflight;
static int *socks; /* descriptors curl asked us to watch */
static size_t nsocks, capsocks;
static pthread_t loop_thread;
static bool global_init;

/* Shared with workers, under mu. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static bool running;
static int wake_fd = -1;
static struct xfer *queued_head, *queued_tail;
static size_t nqueued;

static const char *const result_names[] = {
    [BW_EGRESS_OK] = "ok",
    [BW_EGRESS_REFUSED] = "refused",
    [BW_EGRESS_TIMEOUT] = "timeout",
    [BW_EGRESS_TOO_BIG] = "too_big",
    [BW_EGRESS_RESOLVE] = "resolve",
    [BW_EGRESS_CONNECT] = "connect",
    [BW_EGRESS_TLS] = "tls",
    [BW_EGRESS_PROTOCOL] = "protocol",
    [BW_EGRESS_SHUTDOWN] = "shutdown",
    [BW_EGRESS_FAILED] = "failed",
};

const char *bw_egress_result_name(enum bw_egress_result r)
{
	return (unsigned)r <= BW_EGRESS_FAILED ? result_names[r] : "failed";
}

static bool on_loop(void)
{
	return multi && pthread_equal(pthread_self(), loop_thread);
}

/* ---- copies of a request ---- */

static void wipe_str(char *s)
{
	if (s)
		bw_wipe_free(s, strlen(s));
}

static void xfer_free(struct xfer *x)
{
	if (!x)
		return;
	if (x->easy)
		curl_easy_cleanup(x->easy);
	wipe_str(x->method);
	wipe_str(x->url);
	bw_wipe_free(x->body, x->body_len);
	bw_wipe_free(x->hdr_text, x->hdr_text_len);
	free(x->hdrs);
	wipe_str(x->cert);
	wipe_str(x->key);
	wipe_str(x->ca);
	free(x->ranges);
	bw_wipe_free(x->buf, x->cap);
	free(x);
}

static bool token_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("!#$%&'*+-.^_`|~", c);
}

/* Headers curl or the transport own; a caller may not set them. */
static bool reserved_header(const char *name)
{
	static const char *const names[] = {"host",
	                                    "content-length",
	                                    "transfer-encoding",
	                                    "connection",
	                                    "expect",
	                                    "upgrade",
	                                    "te",
	                                    "keep-alive",
	                                    "proxy-authorization",
	                                    "proxy-connection",
	                                    "trailer",
	                                    NULL};
	for (const char *const *n = names; *n; n++)
		if (!strcasecmp(*n, name))
			return true;
	return false;
}

static bool header_ok(const struct bw_egress_header *h)
{
	if (!h->name || !h->value || !h->name[0] || strlen(h->name) > 128 ||
	    strlen(h->value) > 8192 || reserved_header(h->name))
		return false;
	for (const char *p = h->name; *p; p++)
		if (!token_char(*p))
			return false;
	for (const char *p = h->value; *p; p++)
		if ((unsigned char)*p < 0x20 ? *p != '\t' : *p == 0x7f)
			return false;
	return true;
}

static bool method_ok(const char *m)
{
	static const char *const ms[] = {"GET", "POST", "PUT", "PATCH", "DELETE", NULL};
	for (const char *const *p = ms; *p; p++)
		if (m && !strcmp(*p, m))
			return true;
	return false;
}

static char *dup_opt(const char *s, bool *fail)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		*fail = true;
	return d;
}

/* "Name: value" lines in one buffer, with "Expect:" (no 100-continue
 * round trip; an empty value removes curl's header) and the nodes curl
 * reads pointing into it. */
static bw_result copy_headers(struct xfer *x, const struct bw_egress_req *r)
{
	static const char expect[] = "Expect:";
	size_t n = r->nheaders + 1, total = sizeof(expect);
	for (size_t i = 0; i < r->nheaders; i++)
		total += strlen(r->headers[i].name) + 2 + strlen(r->headers[i].value) + 1;
	/* Without a body curl would still say x-www-form-urlencoded. */
	bool ctype = false;
	for (size_t i = 0; i < r->nheaders; i++)
		if (!strcasecmp(r->headers[i].name, "content-type"))
			ctype = true;
	static const char no_ctype[] = "Content-Type:";
	if (!ctype) {
		n++;
		total += sizeof(no_ctype);
	}
	x->hdr_text = malloc(total);
	x->hdrs = calloc(n, sizeof(*x->hdrs));
	if (!x->hdr_text || !x->hdrs)
		return BW_NOMEM;
	x->hdr_text_len = total;
	char *p = x->hdr_text;
	for (size_t i = 0; i < r->nheaders; i++) {
		int w = snprintf(p, total - (size_t)(p - x->hdr_text), "%s: %s", r->headers[i].name,
		                 r->headers[i].value);
		x->hdrs[i].data = p;
		x->hdrs[i].next = &x->hdrs[i + 1];
		p += w + 1;
	}
	if (!ctype) {
		memcpy(p, no_ctype, sizeof(no_ctype));
		x->hdrs[n - 2].data = p;
		x->hdrs[n - 2].next = &x->hdrs[n - 1];
		p += sizeof(no_ctype);
	}
	memcpy(p, expect, sizeof(expect));
	x->hdrs[n - 1].data = p;
	x->hdrs[n - 1].next = NULL;
	return BW_OK;
}

static bw_result xfer_new(const struct bw_egress_req *r, bw_egress_done *done, void *arg,
                          struct xfer **out)
{
	*out = NULL;
	if (!r || !done || !method_ok(r->method) || !r->url ||
	    (strncmp(r->url, "http://", 7) && strncmp(r->url, "https://", 8)) ||
	    r->timeout_ms < 1 || r->timeout_ms > BW_EGRESS_MAX_TIMEOUT_MS ||
	    r->max_response_bytes < 1 || r->max_response_bytes > BW_EGRESS_MAX_RESPONSE ||
	    r->nheaders > BW_EGRESS_MAX_HEADERS || (r->nheaders && !r->headers) ||
	    r->nranges > BW_EGRESS_MAX_RANGES || (r->nranges && !r->ranges) ||
	    r->body_len > BW_EGRESS_MAX_BODY || (r->body_len && !r->body) ||
	    (r->body && !strcmp(r->method, "GET")) || !r->client_cert_pem != !r->client_key_pem)
		return BW_INVALID;
	for (size_t i = 0; i < r->nheaders; i++)
		if (!header_ok(&r->headers[i]))
			return BW_INVALID;
	struct xfer *x = calloc(1, sizeof(*x));
	if (!x)
		return BW_NOMEM;
	bool fail = false;
	x->done = done;
	x->arg = arg;
	x->method = dup_opt(r->method, &fail);
	x->url = dup_opt(r->url, &fail);
	x->cert = dup_opt(r->client_cert_pem, &fail);
	x->key = dup_opt(r->client_key_pem, &fail);
	x->ca = dup_opt(r->ca_pem, &fail);
	x->listed_only = !strncmp(r->url, "http://", 7);
	x->timeout_ms = r->timeout_ms;
	x->max = r->max_response_bytes;
	if (r->body) {
		x->has_body = true;
		x->body_len = r->body_len;
		x->body = malloc(r->body_len ? r->body_len : 1);
		if (x->body)
			memcpy(x->body, r->body, r->body_len);
		else
			fail = true;
	}
	if (r->nranges) {
		x->ranges = malloc(r->nranges * sizeof(*x->ranges));
		if (x->ranges) {
			memcpy(x->ranges, r->ranges, r->nranges * sizeof(*x->ranges));
			x->nranges = r->nranges;
		} else {
			fail = true;
		}
	}
	if (fail || copy_headers(x, r) != BW_OK) {
		xfer_free(x);
		return BW_NOMEM;
	}
	*out = x;
	return BW_OK;
}

/* ---- the policy, at every connection ---- */

static bool address_ok(struct xfer *x, const struct bw_ip *ip)
{
	struct bw_addr_verdict v;
	bw_addr_check(ip, x->ranges, x->nranges, &v);
	bool ok = v.allowed && (!x->listed_only || v.listed);
	if (!ok) {
		char a[64];
		x->refused++;
		x->refused_ip = *ip;
		x->refused_cls = v.cls;
		x->refused_unlisted = v.allowed;
		bw_ip_format(ip, a, sizeof(a));
		bw_log(BW_LOG_WARN, "egress address refused", "address", a, "class",
		       bw_addr_class_name(v.cls), "rule",
		       v.allowed ? "http needs a listed address" : "address policy");
	}
	return ok;
}

static curl_socket_t open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct xfer *x = clientp;
	struct bw_ip ip;
	if (purpose != CURLSOCKTYPE_IPCXN || !bw_ip_from_sockaddr(&a->addr, &ip)) {
		x->refused++;
		return CURL_SOCKET_BAD; /* no Unix sockets, nothing but IP */
	}
	if (!address_ok(x, &ip))
		return CURL_SOCKET_BAD;
	curl_socket_t s = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
	if (s != CURL_SOCKET_BAD)
		x->opened++;
	return s;
}

/* Before each request on a connection, a reused one included (curl does
 * not open a socket for it again). */
static int prereq(void *clientp, char *primary_ip, char *local_ip, int primary_port, int local_port)
{
	(void)local_ip;
	(void)primary_port;
	(void)local_port;
	struct xfer *x = clientp;
	struct bw_ip ip;
	if (!primary_ip || !bw_ip_parse(primary_ip, &ip) || !address_ok(x, &ip)) {
		x->prereq_refused = true;
		return CURL_PREREQFUNC_ABORT;
	}
	return CURL_PREREQFUNC_OK;
}

static size_t on_data(char *p, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb;
	if (n > x->max - x->len) {
		x->too_big = true;
		return 0; /* a count other than n aborts the transfer */
	}
	if (x->len + n > x->cap) {
		size_t cap = x->cap ? x->cap : 4096;
		while (cap < x->len + n)
			cap *= 2;
		if (cap > x->max)
			cap = x->max;
		uint8_t *b = malloc(cap);
		if (!b)
			return 0;
		if (x->len)
			memcpy(b, x->buf, x->len);
		bw_wipe_free(x->buf, x->cap);
		x->buf = b;
		x->cap = cap;
	}
	memcpy(x->buf + x->len, p, n);
	x->len += n;
	return n;
}

/* ---- the multi handle on the loop ---- */

static void reap(void);

static void on_fd(int flags, void *arg)
{
	int fd = (int)(intptr_t)arg, running_handles, ev = 0;
	if (flags & FD_READ)
		ev |= CURL_CSELECT_IN;
	if (flags & FD_WRITE)
		ev |= CURL_CSELECT_OUT;
	if (flags & FD_EXCEPT)
		ev |= CURL_CSELECT_ERR;
	if (multi)
		curl_multi_socket_action(multi, fd, ev, &running_handles);
	reap();
}

static void on_timeout(void *arg)
{
	(void)arg;
	int running_handles;
	if (multi)
		curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running_handles);
	reap();
}

static void sock_forget(int fd)
{
	for (size_t i = 0; i < nsocks; i++)
		if (socks[i] == fd) {
			socks[i] = socks[--nsocks];
			return;
		}
}

static void sock_remember(int fd)
{
	for (size_t i = 0; i < nsocks; i++)
		if (socks[i] == fd)
			return;
	if (nsocks == capsocks) {
		size_t cap = capsocks ? capsocks * 2 : 16;
		int *s = realloc(socks, cap * sizeof(*s));
		if (!s)
			return; /* fini then misses it; curl still closes it */
		socks = s;
		capsocks = cap;
	}
	socks[nsocks++] = fd;
}

static int on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	(void)e;
	(void)userp;
	(void)socketp;
	if (what == CURL_POLL_REMOVE) {
		sock_forget(s);
		fd_close(s);
		return 0;
	}
	int fl = 0;
	if (what & CURL_POLL_IN)
		fl |= FD_READ;
	if (what & CURL_POLL_OUT)
		fl |= FD_WRITE;
	if (fd_listen(s, fl, on_fd, (void *)(intptr_t)s) != 0) {
		bw_log(BW_LOG_ERROR, "egress cannot watch a socket");
		return 0; /* the transfer then times out */
	}
	sock_remember(s);
	return 0;
}

static int on_timer(CURLM *m, long ms, void *userp)
{
	(void)m;
	(void)userp;
	if (ms < 0)
		tmr_cancel(&timer);
	else
		tmr_start(&timer, (uint64_t)ms, on_timeout, NULL); /* 0: at the next turn */
	return 0;
}

static void link_flight(struct xfer *x)
{
	x->prev = NULL;
	x->next = flight;
	if (flight)
		flight->prev = x;
	flight = x;
	nflight++;
}

static void unlink_flight(struct xfer *x)
{
	if (x->prev)
		x->prev->next = x->next;
	else
		flight = x->next;
	if (x->next)
		x->next->prev = x->prev;
	x->prev = x->next = NULL;
	nflight--;
}

#define SET(opt, val)                                                                              \
	do {                                                                                       \
		if (curl_easy_setopt(e, opt, val) != CURLE_OK)                                     \
			return BW_ERR;                                                             \
	} while (0)

static bw_result set_blob(CURL *e, CURLoption opt, char *pem)
{
	struct curl_blob b = {pem, strlen(pem), CURL_BLOB_NOCOPY};
	return curl_easy_setopt(e, opt, &b) == CURLE_OK ? BW_OK : BW_ERR;
}

static bw_result configure(struct xfer *x)
{
	CURL *e = x->easy;
	SET(CURLOPT_URL, x->url);
	SET(CURLOPT_PRIVATE, x);
	SET(CURLOPT_ERRORBUFFER, x->errbuf);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_MAXREDIRS, 0L);
	SET(CURLOPT_PROXY, ""); /* never one from the environment */
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_TIMEOUT_MS, (long)x->timeout_ms);
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)x->timeout_ms);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	SET(CURLOPT_OPENSOCKETFUNCTION, open_socket);
	SET(CURLOPT_OPENSOCKETDATA, x);
	SET(CURLOPT_PREREQFUNCTION, prereq);
	SET(CURLOPT_PREREQDATA, x);
	SET(CURLOPT_WRITEFUNCTION, on_data);
	SET(CURLOPT_WRITEDATA, x);
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max);
	SET(CURLOPT_HTTPHEADER, x->hdrs);
	SET(CURLOPT_USERAGENT, USER_AGENT);
	if (!strcmp(x->method, "GET")) {
		SET(CURLOPT_HTTPGET, 1L);
	} else {
		SET(CURLOPT_CUSTOMREQUEST, x->method);
		if (x->has_body || strcmp(x->method, "DELETE")) {
			SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->body_len);
			SET(CURLOPT_POSTFIELDS, x->has_body ? (char *)x->body : "");
		}
	}
	if (x->cert) {
		if (set_blob(e, CURLOPT_SSLCERT_BLOB, x->cert) != BW_OK ||
		    set_blob(e, CURLOPT_SSLKEY_BLOB, x->key) != BW_OK)
			return BW_ERR;
		SET(CURLOPT_SSLCERTTYPE, "PEM");
		SET(CURLOPT_SSLKEYTYPE, "PEM");
	}
	if (x->ca) { /* these anchors alone, not the system's too */
		if (set_blob(e, CURLOPT_CAINFO_BLOB, x->ca) != BW_OK)
			return BW_ERR;
		SET(CURLOPT_CAINFO, NULL);
		SET(CURLOPT_CAPATH, NULL);
	}
	return BW_OK;
}

#undef SET

/* Hands x to curl; on failure x is still the caller's. */
static bw_result xfer_start(struct xfer *x)
{
	x->easy = curl_easy_init();
	if (!x->easy)
		return BW_NOMEM;
	if (configure(x) != BW_OK)
		return BW_ERR;
	x->t0 = bw_now_mono();
	if (curl_multi_add_handle(multi, x->easy) != CURLM_OK)
		return BW_ERR;
	link_flight(x);
	return BW_OK;
}

static void describe_refusal(const struct xfer *x, struct bw_egress_resp *r)
{
	bw_ip_format(&x->refused_ip, r->address, sizeof(r->address));
	r->refused_class = x->refused_cls;
	if (x->refused_unlisted)
		snprintf(r->detail, sizeof(r->detail),
		         "%s is not in allowed_address_ranges, which plain http requires: nothing "
		         "was sent",
		         r->address);
	else
		snprintf(r->detail, sizeof(r->detail),
		         "%s is a %s address that allowed_address_ranges does not contain: nothing "
		         "was sent",
		         r->address, bw_addr_class_name(x->refused_cls));
}

static enum bw_egress_result classify(const struct xfer *x, CURLcode cc)
{
	if (cc == CURLE_OK)
		return BW_EGRESS_OK;
	if (x->too_big || cc == CURLE_FILESIZE_EXCEEDED)
		return BW_EGRESS_TOO_BIG;
	if (x->prereq_refused || (x->refused && !x->opened))
		return BW_EGRESS_REFUSED;
	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT:
		return BW_EGRESS_TIMEOUT;
	case CURLE_COULDNT_RESOLVE_HOST:
		return BW_EGRESS_RESOLVE;
	case CURLE_COULDNT_CONNECT:
		return BW_EGRESS_CONNECT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_USE_SSL_FAILED:
		return BW_EGRESS_TLS;
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_PARTIAL_FILE:
	case CURLE_BAD_CONTENT_ENCODING:
		return BW_EGRESS_PROTOCOL;
	default:
		return BW_EGRESS_FAILED;
	}
}

static void answer(struct xfer *x, struct bw_egress_resp *r)
{
	r->elapsed_ms = x->t0 > 0 ? (uint32_t)((bw_now_mono() - x->t0) * 1000.0) : 0;
	x->done(x->arg, r);
}

/* A finished transfer: its answer, then it goes. */
static void finish(struct xfer *x, CURLcode cc)
{
	struct bw_egress_resp r;
	memset(&r, 0, sizeof(r));
	long code = 0;
	char *ct = NULL, *ip = NULL;
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(x->easy, CURLINFO_CONTENT_TYPE, &ct);
	curl_easy_getinfo(x->easy, CURLINFO_PRIMARY_IP, &ip);
	r.result = classify(x, cc);
	r.status = r.result == BW_EGRESS_OK ? (int)code : 0;
	if (ct && r.result == BW_EGRESS_OK)
		snprintf(r.content_type, sizeof(r.content_type), "%s", ct);
	if (ip)
		snprintf(r.address, sizeof(r.address), "%s", ip);
	switch (r.result) {
	case BW_EGRESS_OK:
		r.body = x->len ? x->buf : NULL;
		r.body_len = x->len;
		snprintf(r.detail, sizeof(r.detail), "HTTP %d", r.status);
		break;
	case BW_EGRESS_REFUSED:
		describe_refusal(x, &r);
		break;
	case BW_EGRESS_TOO_BIG:
		snprintf(r.detail, sizeof(r.detail), "the response passed %zu bytes", x->max);
		break;
	case BW_EGRESS_TIMEOUT:
		snprintf(r.detail, sizeof(r.detail), "no complete response within %u ms",
		         (unsigned)x->timeout_ms);
		break;
	default:
		snprintf(r.detail, sizeof(r.detail), "%s%s%.180s", curl_easy_strerror(cc),
		         x->errbuf[0] ? ": " : "", x->errbuf);
		break;
	}
	curl_multi_remove_handle(multi, x->easy);
	unlink_flight(x);
	answer(x, &r);
	xfer_free(x);
}

static void reap(void)
{
	CURLMsg *m;
	int left;
	while (multi && (m = curl_multi_info_read(multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		CURL *e = m->easy_handle;
		CURLcode cc = m->data.result;
		char *priv = NULL;
		curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
		if (priv)
			finish((struct xfer *)(void *)priv, cc);
	}
}

/* An answer without a transfer (stopped, or it could not start). */
static void answer_now(struct xfer *x, enum bw_egress_result res, const char *detail)
{
	struct bw_egress_resp r;
	memset(&r, 0, sizeof(r));
	r.result = res;
	snprintf(r.detail, sizeof(r.detail), "%s", detail);
	answer(x, &r);
	xfer_free(x);
}

bw_result bw_egress_request(const struct bw_egress_req *r, bw_egress_done *done, void *arg)
{
	if (!on_loop())
		return multi ? BW_INVALID : BW_AGAIN;
	pthread_mutex_lock(&mu);
	bool up = running;
	pthread_mutex_unlock(&mu);
	if (!up)
		return BW_AGAIN;
	struct xfer *x;
	bw_result res = xfer_new(r, done, arg, &x);
	if (res != BW_OK)
		return res;
	res = xfer_start(x);
	if (res != BW_OK)
		xfer_free(x);
	return res;
}

size_t bw_egress_inflight(void)
{
	pthread_mutex_lock(&mu);
	size_t n = nqueued;
	pthread_mutex_unlock(&mu);
	return n + nflight;
}

/* ---- requests from workers ---- */

static struct xfer *take_queued(void)
{
	pthread_mutex_lock(&mu);
	struct xfer *q = queued_head;
	queued_head = queued_tail = NULL;
	nqueued = 0;
	pthread_mutex_unlock(&mu);
	return q;
}

static void on_wake(int flags, void *arg)
{
	(void)flags;
	(void)arg;
	uint64_t v;
	if (read(wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		bw_log(BW_LOG_ERROR, "egress wake-up read failed");
	struct xfer *x = take_queued();
	while (x) {
		struct xfer *next = x->next;
		x->next = NULL;
		if (xfer_start(x) != BW_OK)
			answer_now(x, BW_EGRESS_FAILED, "the request could not start");
		x = next;
	}
}

struct waiter {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	int refs; /* the worker's and the loop's */
	struct bw_egress_resp resp;
	uint8_t *body;
	uint32_t timeout_ms;
	void (*notify)(void *arg); /* called (on the loop) once answered */
	void *notify_arg;
};

static void waiter_unref(struct waiter *w)
{
	pthread_mutex_lock(&w->mu);
	bool last = --w->refs == 0;
	pthread_mutex_unlock(&w->mu);
	if (!last)
		return;
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	bw_wipe_free(w->body, w->resp.body_len);
	free(w);
}

static void waiter_done(void *arg, const struct bw_egress_resp *r)
{
	struct waiter *w = arg;
	pthread_mutex_lock(&w->mu);
	w->resp = *r;
	w->resp.body = NULL;
	if (r->body_len) {
		w->body = malloc(r->body_len);
		if (w->body) {
			memcpy(w->body, r->body, r->body_len);
			w->resp.body = w->body;
		} else {
			w->resp.result = BW_EGRESS_FAILED;
			w->resp.body_len = 0;
			snprintf(w->resp.detail, sizeof(w->resp.detail), "out of memory");
		}
	}
	w->done = true;
	pthread_cond_signal(&w->cv);
	void (*notify)(void *) = w->notify;
	void *notify_arg = w->notify_arg;
	pthread_mutex_unlock(&w->mu);
	waiter_unref(w);
	if (notify)
		notify(notify_arg);
}

static struct waiter *waiter_new(void)
{
	struct waiter *w = calloc(1, sizeof(*w));
	pthread_condattr_t ca;
	if (!w)
		return NULL;
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	w->refs = 2;
	return w;
}

bw_result bw_egress_call_start(const struct bw_egress_req *r, struct bw_egress_pending **out)
{
	return bw_egress_call_start_notify(r, NULL, NULL, out);
}

bw_result bw_egress_call_start_notify(const struct bw_egress_req *r, void (*notify)(void *arg),
                                      void *arg, struct bw_egress_pending **out)
{
	*out = NULL;
	struct waiter *w = waiter_new();
	if (!w)
		return BW_NOMEM;
	w->notify = notify;
	w->notify_arg = arg;
	pthread_mutex_lock(&mu);
	bool self = running && pthread_equal(pthread_self(), loop_thread);
	pthread_mutex_unlock(&mu);
	if (self) {
		w->refs = 1;
		waiter_unref(w);
		return BW_INVALID; /* it would wait for itself */
	}
	struct xfer *x;
	bw_result res = xfer_new(r, waiter_done, w, &x);
	if (res != BW_OK) {
		w->refs = 1;
		waiter_unref(w);
		return res;
	}
	pthread_mutex_lock(&mu);
	if (!running) {
		pthread_mutex_unlock(&mu);
		xfer_free(x);
		w->refs = 1;
		waiter_unref(w);
		return BW_AGAIN;
	}
	if (queued_tail)
		queued_tail->next = x;
	else
		queued_head = x;
	queued_tail = x;
	nqueued++;
	uint64_t one = 1;
	if (write(wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		bw_log(BW_LOG_ERROR, "egress wake-up write failed");
	pthread_mutex_unlock(&mu);
	w->timeout_ms = r->timeout_ms;
	*out = (struct bw_egress_pending *)w;
	return BW_OK;
}

void bw_egress_call_wait(struct bw_egress_pending *p, struct bw_egress_answer *out)
{
	struct waiter *w = (struct waiter *)p;
	memset(out, 0, sizeof(*out));
	/* The loop answers every request, also when it stops (fini); the
	 * deadline only keeps a worker from waiting forever on a bug. */
	struct timespec dl;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	uint64_t ms = (uint64_t)w->timeout_ms + CALL_GRACE_MS;
	dl.tv_sec += (time_t)(ms / 1000);
	dl.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->mu);
	while (!w->done)
		if (pthread_cond_timedwait(&w->cv, &w->mu, &dl) == ETIMEDOUT)
			break;
	if (w->done) {
		out->resp = w->resp;
		out->body = w->body;
		w->body = NULL;
	} else {
		out->resp.result = BW_EGRESS_TIMEOUT;
		snprintf(out->resp.detail, sizeof(out->resp.detail), "no answer from the loop");
	}
	pthread_mutex_unlock(&w->mu);
	waiter_unref(w);
}

bool bw_egress_call_poll(struct bw_egress_pending *p, struct bw_egress_answer *out)
{
	struct waiter *w = (struct waiter *)p;
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&w->mu);
	bool done = w->done;
	if (done) {
		out->resp = w->resp;
		out->body = w->body;
		w->body = NULL;
	}
	pthread_mutex_unlock(&w->mu);
	if (done)
		waiter_unref(w);
	return done;
}

bw_result bw_egress_call(const struct bw_egress_req *r, struct bw_egress_answer *out)
{
	struct bw_egress_pending *p;
	memset(out, 0, sizeof(*out));
	bw_result res = bw_egress_call_start(r, &p);
	if (res == BW_OK)
		bw_egress_call_wait(p, out);
	return res;
}

void bw_egress_answer_clear(struct bw_egress_answer *a)
{
	bw_wipe_free(a->body, a->resp.body_len);
	memset(a, 0, sizeof(*a));
}

/* ---- start and stop ---- */

bw_result bw_egress__start(void)
{
	if (multi)
		return BW_OK;
	if (!global_init) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return BW_ERR;
		global_init = true;
	}
	multi = curl_multi_init();
	if (!multi)
		return BW_NOMEM;
	curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_timer);
	tmr_init(&timer);
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (fd < 0 || fd_listen(fd, FD_READ, on_wake, NULL) != 0) {
		if (fd >= 0)
			close(fd);
		curl_multi_cleanup(multi);
		multi = NULL;
		return BW_ERR;
	}
	pthread_mutex_lock(&mu);
	loop_thread = pthread_self();
	wake_fd = fd;
	running = true;
	pthread_mutex_unlock(&mu);
	return BW_OK;
}

size_t bw_egress__abort_all(void)
{
	size_t n = 0;
	struct xfer *x = take_queued();
	while (x) {
		struct xfer *next = x->next;
		answer_now(x, BW_EGRESS_SHUTDOWN, "the server is stopping");
		x = next;
		n++;
	}
	/* Those in flight now: a callback may start another, which stays. */
	struct xfer *list = flight;
	flight = NULL;
	nflight = 0;
	while ((x = list)) {
		list = x->next;
		curl_multi_remove_handle(multi, x->easy);
		answer_now(x, BW_EGRESS_SHUTDOWN, "the server is stopping");
		n++;
	}
	return n;
}

void bw_egress__fini(void)
{
	if (!multi)
		return;
	pthread_mutex_lock(&mu);
	running = false; /* workers get BW_AGAIN from here on */
	pthread_mutex_unlock(&mu);
	size_t n = bw_egress__abort_all();
	if (n)
		bw_log(BW_LOG_INFO, "egress requests cut short by the stop");
	curl_multi_cleanup(multi);
	multi = NULL;
	tmr_cancel(&timer);
	for (size_t i = 0; i < nsocks; i++)
		fd_close(socks[i]);
	free(socks);
	socks = NULL;
	nsocks = capsocks = 0;
	pthread_mutex_lock(&mu);
	fd_close(wake_fd);
	close(wake_fd);
	wake_fd = -1;
	pthread_mutex_unlock(&mu);
	if (global_init) {
		curl_global_cleanup();
		global_init = false;
	}
}
