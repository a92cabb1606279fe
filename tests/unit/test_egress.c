/* Egress on the loop (src/net/egress.c) against HTTP servers of this test on
 * 127.0.0.1 and 127.0.0.2 (threads with blocking sockets): a call, the
 * address policy at connection (127.0.0.2 refused while 127.0.0.1/32 is
 * listed; plain http without a listed range; a reused connection checked
 * again), a redirect not followed, the response cap with and without a
 * length, the timeout, a refused port, headers as sent (no Expect, secrets
 * passed through), bad requests, a worker's blocking call, and the loop
 * stopping with requests in flight (every caller answered, nothing leaked
 * under ASan). No packet leaves this machine. */
#include "test_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/re_min.h"

#include "core/ids.h"
#include "net/egress.h"

/* ---- a small HTTP server ---- */

#define MAX_CONNS 32

struct server {
	int lfd;
	int port;
	char host[32];
	atomic_int accepted, requests;
	int conns[MAX_CONNS];
	char bufs[MAX_CONNS][4096];
	size_t lens[MAX_CONNS];
	pthread_t th;
	int stop_pipe[2];
	int other_port; /* where /redirect points (127.0.0.2) */
};

static struct server s1, s2;

static void send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void respond(struct server *s, int fd, const char *req, size_t reqlen)
{
	char head[512], path[256] = "";
	sscanf(req, "%*s %255s", path);
	atomic_fetch_add(&s->requests, 1);
	if (!strcmp(path, "/hang"))
		return; /* never answers */
	if (!strcmp(path, "/ok")) {
		const char *r =
		    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello";
		send_all(fd, r, strlen(r));
	} else if (!strcmp(path, "/echo")) {
		snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n",
		         reqlen);
		send_all(fd, head, strlen(head));
		send_all(fd, req, reqlen);
	} else if (!strcmp(path, "/redirect")) {
		snprintf(head, sizeof(head),
		         "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.2:%d/landed\r\n"
		         "Content-Length: 0\r\n\r\n",
		         s->other_port);
		send_all(fd, head, strlen(head));
	} else if (!strcmp(path, "/big") || !strcmp(path, "/bigchunked")) {
		static char body[5000];
		memset(body, 'x', sizeof(body));
		if (!strcmp(path, "/big")) {
			snprintf(head, sizeof(head),
			         "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", sizeof(body));
			send_all(fd, head, strlen(head));
			send_all(fd, body, sizeof(body));
		} else {
			const char *h = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
			send_all(fd, h, strlen(h));
			for (int i = 0; i < 5; i++) {
				send_all(fd, "3e8\r\n", 5);
				send_all(fd, body, 1000);
				send_all(fd, "\r\n", 2);
			}
			send_all(fd, "0\r\n\r\n", 5);
		}
	} else {
		const char *r = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
		send_all(fd, r, strlen(r));
	}
}

static void *serve(void *arg)
{
	struct server *s = arg;
	for (;;) {
		struct pollfd p[MAX_CONNS + 2];
		int n = 0;
		p[n++] = (struct pollfd){.fd = s->stop_pipe[0], .events = POLLIN};
		p[n++] = (struct pollfd){.fd = s->lfd, .events = POLLIN};
		for (int i = 0; i < MAX_CONNS; i++)
			p[n++] = (struct pollfd){.fd = s->conns[i], .events = POLLIN};
		if (poll(p, (nfds_t)n, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			break;
		if (p[1].revents & POLLIN) {
			int c = accept(s->lfd, NULL, NULL);
			atomic_fetch_add(&s->accepted, 1);
			for (int i = 0; c >= 0 && i < MAX_CONNS; i++)
				if (s->conns[i] < 0) {
					s->conns[i] = c;
					s->lens[i] = 0;
					c = -1;
				}
			if (c >= 0)
				close(c);
		}
		for (int i = 0; i < MAX_CONNS; i++) {
			if (s->conns[i] < 0 || !p[i + 2].revents)
				continue;
			ssize_t r = recv(s->conns[i], s->bufs[i] + s->lens[i],
			                 sizeof(s->bufs[i]) - 1 - s->lens[i], 0);
			if (r <= 0) {
				close(s->conns[i]);
				s->conns[i] = -1;
				continue;
			}
			s->lens[i] += (size_t)r;
			s->bufs[i][s->lens[i]] = '\0';
			char *end = strstr(s->bufs[i], "\r\n\r\n");
			if (!end)
				continue;
			size_t hlen = (size_t)(end + 4 - s->bufs[i]);
			const char *cl = strcasestr(s->bufs[i], "\r\nContent-Length:");
			size_t blen = cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0;
			if (s->lens[i] < hlen + blen)
				continue;
			respond(s, s->conns[i], s->bufs[i], hlen + blen);
			s->lens[i] = 0;
		}
	}
	for (int i = 0; i < MAX_CONNS; i++)
		if (s->conns[i] >= 0)
			close(s->conns[i]);
	return NULL;
}

static int server_start(struct server *s, const char *host)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t al = sizeof(a);
	memset(s, 0, sizeof(*s));
	snprintf(s->host, sizeof(s->host), "%s", host);
	for (int i = 0; i < MAX_CONNS; i++)
		s->conns[i] = -1;
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	inet_pton(AF_INET, host, &a.sin_addr);
	if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(s->lfd, 64) != 0 || getsockname(s->lfd, (struct sockaddr *)&a, &al) != 0 ||
	    pipe(s->stop_pipe) != 0)
		return -1;
	s->port = ntohs(a.sin_port);
	return pthread_create(&s->th, NULL, serve, s) == 0 ? 0 : -1;
}

static void server_stop(struct server *s)
{
	if (write(s->stop_pipe[1], "x", 1) != 1)
		return;
	pthread_join(s->th, NULL);
	close(s->lfd);
	close(s->stop_pipe[0]);
	close(s->stop_pipe[1]);
}

/* ---- driving the loop ---- */

struct got {
	bool done;
	int calls;
	struct bw_egress_resp resp;
	char body[8192];
};

static int outstanding;
static struct tmr guard;

static void on_done(void *arg, const struct bw_egress_resp *r)
{
	struct got *g = arg;
	g->calls++;
	g->done = true;
	g->resp = *r;
	g->resp.body = NULL;
	size_t n = r->body_len < sizeof(g->body) - 1 ? r->body_len : sizeof(g->body) - 1;
	if (n)
		memcpy(g->body, r->body, n);
	g->body[n] = '\0';
	if (--outstanding == 0)
		re_cancel();
}

static void guard_fired(void *arg)
{
	(void)arg;
	re_cancel();
}

/* Runs the loop until every outstanding request answered (or 10 s). */
static void run_loop(void)
{
	tmr_start(&guard, 10000, guard_fired, NULL);
	if (outstanding > 0)
		re_main(NULL);
	tmr_cancel(&guard);
	assert_int_equal(outstanding, 0);
}

static char url1[128], url2[128];
static struct bw_cidr only_one;

static struct bw_egress_req get_req(const char *base, const char *path)
{
	static char url[256];
	snprintf(url, sizeof(url), "%s%s", base, path);
	return (struct bw_egress_req){.method = "GET",
	                              .url = url,
	                              .timeout_ms = 3000,
	                              .max_response_bytes = 1024,
	                              .ranges = &only_one,
	                              .nranges = 1};
}

static void start(const struct bw_egress_req *r, struct got *g)
{
	memset(g, 0, sizeof(*g));
	assert_int_equal(bw_egress_request(r, on_done, g), BW_OK);
	outstanding++;
	assert_false(g->done); /* never inside the call */
}

static void one(const struct bw_egress_req *r, struct got *g)
{
	start(r, g);
	run_loop();
	assert_int_equal(g->calls, 1);
}

/* ---- the tests ---- */

static int setup(void **state)
{
	(void)state;
	if (libre_init() != 0 || server_start(&s1, "127.0.0.1") != 0 ||
	    server_start(&s2, "127.0.0.2") != 0)
		return -1;
	s1.other_port = s2.port;
	snprintf(url1, sizeof(url1), "http://127.0.0.1:%d", s1.port);
	snprintf(url2, sizeof(url2), "http://127.0.0.2:%d", s2.port);
	if (bw_addr_range_parse("127.0.0.1/32", &only_one))
		return -1;
	tmr_init(&guard);
	return bw_egress__start() == BW_OK ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	bw_egress__fini();
	server_stop(&s1);
	server_stop(&s2);
	tmr_cancel(&guard);
	libre_close();
	return 0;
}

static void test_call(void **state)
{
	(void)state;
	struct got g;
	struct bw_egress_req r = get_req(url1, "/ok");
	one(&r, &g);
	assert_int_equal(g.resp.result, BW_EGRESS_OK);
	assert_int_equal(g.resp.status, 200);
	assert_int_equal(g.resp.body_len, 5);
	assert_string_equal(g.body, "hello");
	assert_string_equal(g.resp.content_type, "text/plain");
	assert_string_equal(g.resp.address, "127.0.0.1");
	assert_true(g.resp.elapsed_ms < 3000);
}

static void test_refused_address(void **state)
{
	(void)state;
	struct got g;
	int before = atomic_load(&s2.accepted);
	/* 127.0.0.2 while only 127.0.0.1/32 is listed */
	struct bw_egress_req r = get_req(url2, "/ok");
	one(&r, &g);
	assert_int_equal(g.resp.result, BW_EGRESS_REFUSED);
	assert_int_equal(g.resp.refused_class, BW_ADDR_LOOPBACK);
	assert_string_equal(g.resp.address, "127.0.0.2");
	assert_contains(g.resp.detail, "127.0.0.2 is a loopback address");
	assert_int_equal(g.resp.status, 0);
	/* No ranges at all: loopback is refused, also over https. */
	r = get_req(url1, "/ok");
	r.nranges = 0;
	one(&r, &g);
	assert_int_equal(g.resp.result, BW_EGRESS_REFUSED);
	char https[160];
	snprintf(https, sizeof(https), "https://127.0.0.1:%d/ok", s1.port);
	r.url = https;
	one(&r, &g);
	assert_int_equal(g.resp.result, BW_EGRESS_REFUSED);
	assert_int_equal(atomic_load(&s2.accepted), before);
	/* A name is checked by what it resolves to: localhost, no ranges. */
	int acc1 = atomic_load(&s1.accepted);
	char local[160];
	snprintf(local, sizeof(local), "http://localhost:%d/ok", s1.port);
	r = get_req(local, "");
	r.nranges = 0;
	one(&r, &g);
	assert_int_equal(g.resp.result, BW_EGRESS_REFUSED);
	assert_int_equal(atomic_load(&s1.accepted), acc1);
}

static void test_reused_connection_checked_again(void **state)
{
	(void)state;
	struct got g;
	int acc = atomic_load(&s1.accepted), reqs = atomic_load(&s1.requests);
	struct bw_egress_req r = get_req(url1, "/ok");
	one(&r, &g); /* leaves a kept-alive connection to 127.0.0.1 */
	assert_int_equal(g.resp.result, BW_EGRESS_OK);
	one(&r, &g);
	assert_int_equal(g.resp.result, BW_EGRESS_OK);
	assert_int_equal(atomic_load(&s1.accepted), acc + 1); /* reused */
	/* Another integration, no ranges, same host and port: curl would
	 * reuse the connection without opening a socket; the check before
	 * the request still refuses it. */
	r.nranges = 0;
	one(&r, &g);
	assert_int_equal(g.resp.result, BW_EGRESS_REFUSED);
	assert_int_equal(atomic_load(&s1.requests), reqs + 2);
}

static void test_redirect_not_followed(void **state)
{
	(void)state;
	struct got g;
	int before = atomic_load(&s2.accepted);
	struct bw_cidr both[2];
	assert_null(bw_addr_range_parse("127.0.0.1/32", &both[0]));
	assert_null(bw_addr_range_parse("127.0.0.2/32", &both[1]));
	struct bw_egress_req r = get_req(url1, "/redirect");
	r.ranges = both;
	r.nranges = 2; /* even where the target is allowed */
	one(&r, &g);
	assert_int_equal(g.resp.result, BW_EGRESS_OK);
	assert_int_equal(g.resp.status, 302);
	assert_int_equal(atomic_load(&s2.accepted), before);
}

static void test_response_cap(void **state)
{
	(void)state;
	struct got g;
	struct bw_egress_req r = get_req(url1, "/big");
	one(&r, &g);
	assert_int_equal(g.resp.result, BW_EGRESS_TOO_BIG);
	assert_contains(g.resp.detail, "1024 bytes");
	r = get_req(url1, "/bigchunked");
	one(&r, &g);
	assert_int_equal(g.resp.result, BW_EGRESS_TOO_BIG);
	r = get_req(url1, "/bigchunked");
	r.max_response_bytes = 5000; /* exactly the body */
	one(&r, &g);
	assert_int_equal(g.resp.result, BW_EGRESS_OK);
	assert_int_equal(g.resp.body_len, 5000);
	r = get_req(url1, "/big");
	r.max_response_bytes = 4999;
	one(&r, &g);
	assert_int_equal(g.resp.result, BW_EGRESS_TOO_BIG);
}

static void test_timeout(void **state)
{
	(void)state;
	struct got g;
	struct bw_egress_req r = get_req(url1, "/hang");
	r.timeout_ms = 300;
	double t0 = bw_now_mono();
	one(&r, &g);
	double dt = bw_now_mono() - t0;
	assert_int_equal(g.resp.result, BW_EGRESS_TIMEOUT);
	assert_true(dt >= 0.29 && dt < 3.0);
	assert_true(g.resp.elapsed_ms >= 290);
}

static void test_connect_refused(void **state)
{
	(void)state;
	struct got g;
	struct bw_egress_req r = get_req("http://127.0.0.1:1", "/");
	one(&r, &g);
	assert_int_equal(g.resp.result, BW_EGRESS_CONNECT);
	assert_true(g.resp.detail[0] != '\0');
}

static void test_headers_and_body(void **state)
{
	(void)state;
	struct got g;
	struct bw_egress_header h[] = {{"X-Api-Key", "s3cret-value"},
	                               {"Content-Type", "application/json"}};
	struct bw_egress_req r = get_req(url1, "/echo");
	r.method = "POST";
	r.headers = h;
	r.nheaders = 2;
	r.body = "{\"a\":1}";
	r.body_len = 7;
	r.max_response_bytes = 4096;
	one(&r, &g);
	assert_int_equal(g.resp.result, BW_EGRESS_OK);
	assert_contains(g.body, "POST /echo HTTP/1.1\r\n");
	assert_contains(g.body, "\r\nX-Api-Key: s3cret-value\r\n");
	assert_contains(g.body, "\r\nContent-Type: application/json\r\n");
	assert_contains(g.body, "\r\nContent-Length: 7\r\n");
	assert_contains(g.body, "\r\n\r\n{\"a\":1}");
	assert_not_contains(g.body, "Expect:");
	/* Without a body or a type, no form type is made up. */
	r = get_req(url1, "/echo");
	r.method = "DELETE";
	r.max_response_bytes = 4096;
	one(&r, &g);
	assert_contains(g.body, "DELETE /echo HTTP/1.1\r\n");
	assert_not_contains(g.body, "Content-Type");
}

static void test_bad_requests(void **state)
{
	(void)state;
	struct got g = {0};
	struct bw_egress_req ok = get_req(url1, "/ok"), r;
	struct bw_egress_header crlf[] = {{"X-A", "a\r\nX-Injected: 1"}};
	struct bw_egress_header host[] = {{"Host", "elsewhere"}};
	struct bw_egress_header name[] = {{"X A", "1"}};
#define BAD(mut)                                                                                   \
	do {                                                                                       \
		r = ok;                                                                            \
		mut;                                                                               \
		assert_int_equal(bw_egress_request(&r, on_done, &g), BW_INVALID);                  \
	} while (0)
	BAD(r.method = "CONNECT");
	BAD(r.method = "get");
	BAD(r.url = "ftp://127.0.0.1/");
	BAD(r.url = "file:///etc/passwd");
	BAD(r.timeout_ms = 0);
	BAD(r.max_response_bytes = 0);
	BAD((r.headers = crlf, r.nheaders = 1));
	BAD((r.headers = host, r.nheaders = 1));
	BAD((r.headers = name, r.nheaders = 1));
	BAD((r.body = "x", r.body_len = 1)); /* GET with a body */
	BAD(r.client_cert_pem = "-----BEGIN CERTIFICATE-----");
#undef BAD
	assert_int_equal(bw_egress_request(&ok, NULL, NULL), BW_INVALID);
	assert_false(g.done);
}

struct worker_call {
	struct bw_egress_req req;
	char url[160];
	bw_result r;
	struct bw_egress_answer a;
};

static void *worker(void *arg)
{
	struct worker_call *w = arg;
	w->r = bw_egress_call(&w->req, &w->a);
	return NULL;
}

static void test_worker_call(void **state)
{
	(void)state;
	struct worker_call w = {0};
	snprintf(w.url, sizeof(w.url), "%s/ok", url1);
	w.req = get_req(url1, "/ok");
	w.req.url = w.url;
	/* On the loop thread the blocking form refuses (it would wait for itself). */
	struct bw_egress_answer a;
	assert_int_equal(bw_egress_call(&w.req, &a), BW_INVALID);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, worker, &w), 0);
	/* Keep the loop running until the worker is answered. */
	struct got g;
	struct bw_egress_req slow = get_req(url1, "/hang");
	slow.timeout_ms = 1500;
	start(&slow, &g);
	run_loop();
	pthread_join(th, NULL);
	assert_int_equal(w.r, BW_OK);
	assert_int_equal(w.a.resp.result, BW_EGRESS_OK);
	assert_int_equal(w.a.resp.status, 200);
	assert_int_equal(w.a.resp.body_len, 5);
	assert_memory_equal(w.a.resp.body, "hello", 5);
	bw_egress_answer_clear(&w.a);
	assert_null(w.a.body);
}

static void stop_loop(void *arg)
{
	(void)arg;
	re_cancel();
}

static void *worker_waits(void *arg)
{
	struct worker_call *w = arg;
	w->r = bw_egress_call(&w->req, &w->a);
	return NULL;
}

/* The loop stops with requests in flight and one queued by a worker:
 * fini answers each once with BW_EGRESS_SHUTDOWN and frees everything
 * (ASan's leak check runs at exit). Egress then refuses new work, and
 * starts again. */
static void test_stop_in_flight(void **state)
{
	(void)state;
	struct got g[3];
	struct bw_egress_req r = get_req(url1, "/hang");
	r.timeout_ms = 20000;
	struct bw_egress_header secret[] = {{"Authorization", "Bearer not-to-leak"}};
	r.headers = secret;
	r.nheaders = 1;
	for (int i = 0; i < 3; i++)
		start(&r, &g[i]);
	struct worker_call w = {0};
	w.req = r;
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, worker_waits, &w), 0);
	/* Let the worker's request reach the queue or the flight, then stop. */
	struct tmr stop;
	tmr_init(&stop);
	tmr_start(&stop, 300, stop_loop, NULL);
	re_main(NULL);
	tmr_cancel(&stop);
	assert_true(bw_egress_inflight() >= 3);
	bw_egress__fini();
	pthread_join(th, NULL);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(g[i].calls, 1);
		assert_int_equal(g[i].resp.result, BW_EGRESS_SHUTDOWN);
	}
	outstanding = 0;
	if (w.r == BW_OK) /* queued before the stop: answered by fini */
		assert_int_equal(w.a.resp.result, BW_EGRESS_SHUTDOWN);
	else
		assert_int_equal(w.r, BW_AGAIN);
	bw_egress_answer_clear(&w.a);
	/* Stopped: nothing is taken. */
	struct got late = {0};
	struct bw_egress_answer a;
	assert_int_equal(bw_egress_request(&r, on_done, &late), BW_AGAIN);
	assert_int_equal(bw_egress_call(&r, &a), BW_AGAIN);
	assert_int_equal(bw_egress_inflight(), 0);
	/* And it starts again. */
	assert_int_equal(bw_egress__start(), BW_OK);
	struct bw_egress_req ok = get_req(url1, "/ok");
	one(&ok, &late);
	assert_int_equal(late.resp.result, BW_EGRESS_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_call),
	    cmocka_unit_test(test_refused_address),
	    cmocka_unit_test(test_reused_connection_checked_again),
	    cmocka_unit_test(test_redirect_not_followed),
	    cmocka_unit_test(test_response_cap),
	    cmocka_unit_test(test_timeout),
	    cmocka_unit_test(test_connect_refused),
	    cmocka_unit_test(test_headers_and_body),
	    cmocka_unit_test(test_bad_requests),
	    cmocka_unit_test(test_worker_call),
	    cmocka_unit_test(test_stop_in_flight),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
