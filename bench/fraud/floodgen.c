/* Load for bench/fraud/flood.sh: a paced flood of chat starts from a few
 * client addresses, or a trickle of chat starts each from a fresh address.
 * The client address is stood in for with X-Forwarded-For (the daemon runs
 * with trusted_proxies = 127.0.0.1/32). One thread, epoll, non-blocking
 * sockets, no library: the script builds it with `cc -O2` (no meson target,
 * so it needs no rebuild of the tree).
 *
 *   floodgen flood   --addr 127.0.0.1:PORT --path P --body JSON --rate R
 *                    --duration S [--conns 64] [--keys 198.51.100.1,...]
 *   floodgen trickle --addr 127.0.0.1:PORT --path P --body JSON
 *                    --interval-ms 50 --duration S [--first N]
 *
 * flood: `conns` keep-alive connections with one request in flight each.
 * Request i is due at t0 + i / rate and names key i mod K (round robin, so
 * every key gets the same share). When it is due and no connection is free
 * it waits; if the backlog passes 50 ms of requests, the overflow is given
 * up and counted as `skipped` (the generator or the server could not keep
 * the rate). Per key it counts the replies by status and lists the send
 * times (ms after t0) of the requests that got 201, for the script to count
 * by window.
 *
 * trickle: request i is due at t0 + i * interval, on a new connection, from
 * the address 10.(first+i) (as a 24-bit counter). Its latency runs from the
 * due time (so a late client does not hide a slow server) to the last byte
 * of the reply; a request with no reply in 5 s is a failure.
 *
 * Both print one JSON line on stdout. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_KEYS 64
#define MAX_SECONDS 4096
#define REPLY_TIMEOUT_US 5000000ull
#define INBUF 16384

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void die(const char *m)
{
	fprintf(stderr, "floodgen: %s\n", m);
	exit(2);
}

/* ---- options ---- */

static struct {
	const char *mode, *path, *body, *keys;
	char host[64];
	struct sockaddr_in sa;
	double rate, duration, interval_ms;
	int conns;
	unsigned first;
} opt = {.conns = 64, .interval_ms = 50,
         .keys = "198.51.100.1,198.51.100.2,198.51.100.3,198.51.100.4,198.51.100.5"};

static void parse(int argc, char **argv)
{
	if (argc < 2)
		die("usage: floodgen flood|trickle --addr HOST:PORT --path P --body JSON ...");
	opt.mode = argv[1];
	const char *addr = NULL;
	for (int i = 2; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];
		if (!strcmp(k, "--addr"))
			addr = v;
		else if (!strcmp(k, "--path"))
			opt.path = v;
		else if (!strcmp(k, "--body"))
			opt.body = v;
		else if (!strcmp(k, "--rate"))
			opt.rate = atof(v);
		else if (!strcmp(k, "--duration"))
			opt.duration = atof(v);
		else if (!strcmp(k, "--conns"))
			opt.conns = atoi(v);
		else if (!strcmp(k, "--keys"))
			opt.keys = v;
		else if (!strcmp(k, "--interval-ms"))
			opt.interval_ms = atof(v);
		else if (!strcmp(k, "--first"))
			opt.first = (unsigned)strtoul(v, NULL, 10);
		else
			die("unknown option");
	}
	if (!addr || !opt.path || !opt.body || !(opt.duration > 0))
		die("need --addr, --path, --body, --duration");
	snprintf(opt.host, sizeof(opt.host), "%s", addr);
	char ip[64];
	snprintf(ip, sizeof(ip), "%s", addr);
	char *colon = strrchr(ip, ':');
	if (!colon)
		die("--addr is HOST:PORT");
	*colon = '\0';
	opt.sa.sin_family = AF_INET;
	opt.sa.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, ip, &opt.sa.sin_addr) != 1)
		die("--addr: an IPv4 address");
	if (strcmp(opt.mode, "flood") && strcmp(opt.mode, "trickle"))
		die("mode is flood or trickle");
	if (!strcmp(opt.mode, "flood") && !(opt.rate > 0 && opt.conns > 0))
		die("flood needs --rate and --conns > 0");
	if (!strcmp(opt.mode, "trickle") && !(opt.interval_ms > 0))
		die("trickle needs --interval-ms > 0");
}

/* ---- connections ---- */

enum { C_FREE, C_CONNECTING, C_IDLE, C_BUSY };

struct conn {
	int fd, state;
	char out[1024];
	size_t olen, ooff;
	char in[INBUF];
	size_t ilen;
	long req;          /* flood: request number; trickle: index */
	uint64_t due, sent; /* µs */
	uint64_t retry_at; /* flood: reconnect after this (a failed connect) */
	bool in_idle;      /* flood: on the idle stack */
};

static int ep;
static struct conn *conns;
static size_t nconns;

static int build_request(struct conn *c, const char *xff)
{
	int n = snprintf(c->out, sizeof(c->out),
	                 "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
	                 "X-Forwarded-For: %s\r\nContent-Length: %zu\r\n\r\n%s",
	                 opt.path, opt.host, xff, strlen(opt.body), opt.body);
	if (n < 0 || (size_t)n >= sizeof(c->out))
		die("request too long");
	c->olen = (size_t)n;
	c->ooff = 0;
	c->ilen = 0;
	return 0;
}

static int conn_open(struct conn *c)
{
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	int r = connect(c->fd, (struct sockaddr *)&opt.sa, sizeof(opt.sa));
	if (r < 0 && errno != EINPROGRESS) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	c->state = C_CONNECTING;
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP, .data.ptr = c};
	epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
	return 0;
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0) {
		epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
	c->state = C_FREE;
	c->ilen = 0;
}

static void want_out(struct conn *c, bool on)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | (on ? EPOLLOUT : 0), .data.ptr = c};
	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Writes what is left of c->out; -1 on error. */
static int flush_out(struct conn *c)
{
	while (c->ooff < c->olen) {
		ssize_t k = send(c->fd, c->out + c->ooff, c->olen - c->ooff, MSG_NOSIGNAL);
		if (k < 0) {
			if (errno == EAGAIN)
				break;
			return -1;
		}
		c->ooff += (size_t)k;
	}
	want_out(c, c->ooff < c->olen);
	return 0;
}

/* A complete reply in c->in: its status, and whether the server closes.
 * 0 when not complete yet, -1 when unreadable. */
static int parse_reply(struct conn *c, int *status, bool *closing)
{
	c->in[c->ilen < INBUF ? c->ilen : INBUF - 1] = '\0';
	char *end = memmem(c->in, c->ilen, "\r\n\r\n", 4);
	if (!end)
		return c->ilen >= INBUF - 1 ? -1 : 0;
	if (strncmp(c->in, "HTTP/1.1 ", 9) && strncmp(c->in, "HTTP/1.0 ", 9))
		return -1;
	*status = atoi(c->in + 9);
	size_t head = (size_t)(end - c->in) + 4, clen = 0;
	*closing = false;
	for (char *l = strstr(c->in, "\r\n"); l && l < end; l = strstr(l + 2, "\r\n")) {
		char *h = l + 2;
		if (!strncasecmp(h, "content-length:", 15))
			clen = strtoul(h + 15, NULL, 10);
		else if (!strncasecmp(h, "connection:", 11)) {
			char *cl = strcasestr(h, "close");
			*closing = cl && cl < strstr(h, "\r\n");
		}
	}
	if (head + clen > INBUF - 1)
		return -1;
	if (c->ilen < head + clen)
		return 0;
	return 1;
}

/* ---- results ---- */

struct key_stat {
	char addr[48];
	unsigned long long sent, s201, s429, s403, s4xx, s5xx, err;
	uint32_t *t201; /* send times of the 201s, ms after t0 */
	size_t cap201;
};

static struct key_stat keys[MAX_KEYS];
static int nkeys;
static uint32_t *lat; /* µs, one per completed request */
static size_t nlat, caplat;
static unsigned long long per_sec_done[MAX_SECONDS], per_sec_5xx[MAX_SECONDS];
static uint32_t per_sec_max[MAX_SECONDS];
static unsigned long long skipped, conn_errors, reconnects, status_other;
static uint64_t t0;

/* This process's CPU time (user + system), in seconds. */
static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void add_lat(uint32_t us)
{
	if (nlat == caplat) {
		caplat = caplat ? caplat * 2 : 4096;
		lat = realloc(lat, caplat * sizeof(*lat));
		if (!lat)
			die("out of memory");
	}
	lat[nlat++] = us;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static double pct(double p)
{
	if (!nlat)
		return 0;
	size_t i = (size_t)(p * (double)(nlat - 1) + 0.5);
	return lat[i] / 1000.0;
}

/* ---- flood ---- */

static struct conn **idle;
static size_t nidle;

static void push_idle(struct conn *c)
{
	c->state = C_IDLE;
	if (!c->in_idle) {
		c->in_idle = true;
		idle[nidle++] = c;
	}
}

/* The next idle connection, or NULL (entries that failed meanwhile are
 * skipped; they come back once reconnected). */
static struct conn *pop_idle(void)
{
	while (nidle > 0) {
		struct conn *c = idle[--nidle];
		c->in_idle = false;
		if (c->state == C_IDLE)
			return c;
	}
	return NULL;
}

static void flood_done(struct conn *c, int status)
{
	uint64_t t = now_us();
	struct key_stat *k = &keys[c->req % nkeys];
	uint32_t us = (uint32_t)(t - c->sent);
	add_lat(us);
	size_t sec = (size_t)((t - t0) / 1000000u);
	if (sec < MAX_SECONDS) {
		per_sec_done[sec]++;
		if (us > per_sec_max[sec])
			per_sec_max[sec] = us;
		if (status >= 500)
			per_sec_5xx[sec]++;
	}
	if (status == 201) {
		if (k->s201 == k->cap201) {
			k->cap201 = k->cap201 ? k->cap201 * 2 : 1024;
			k->t201 = realloc(k->t201, k->cap201 * sizeof(*k->t201));
			if (!k->t201)
				die("out of memory");
		}
		k->t201[k->s201++] = (uint32_t)((c->sent - t0) / 1000u);
	} else if (status == 429)
		k->s429++;
	else if (status == 403)
		k->s403++;
	else if (status >= 400 && status < 500)
		k->s4xx++;
	else if (status >= 500)
		k->s5xx++;
	else
		status_other++;
}

static void flood_failed(struct conn *c)
{
	bool was_connecting = c->state == C_CONNECTING;
	if (c->state == C_BUSY)
		keys[c->req % nkeys].err++;
	conn_errors++;
	conn_close(c);
	if (was_connecting) { /* refused: try again in 10 ms, not at once */
		c->retry_at = now_us() + 10000u;
		return;
	}
	reconnects++;
	if (conn_open(c) != 0)
		c->retry_at = now_us() + 10000u;
}

static void flood_retry(uint64_t t)
{
	for (size_t i = 0; i < nconns; i++)
		if (conns[i].state == C_FREE && t >= conns[i].retry_at) {
			reconnects++;
			if (conn_open(&conns[i]) != 0) {
				conns[i].state = C_FREE;
				conns[i].retry_at = t + 10000u;
			}
		}
}

static void flood_send(struct conn *c, long req, uint64_t due)
{
	struct key_stat *k = &keys[req % nkeys];
	build_request(c, k->addr);
	c->req = req;
	c->due = due;
	c->sent = now_us();
	c->state = C_BUSY;
	k->sent++;
	if (flush_out(c) != 0)
		flood_failed(c);
}

static void flood_event(struct conn *c, uint32_t events)
{
	if (c->state == C_CONNECTING) {
		int err = 0;
		socklen_t l = sizeof(err);
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
		if (err || (events & (EPOLLERR | EPOLLHUP))) {
			flood_failed(c);
			return;
		}
		want_out(c, false);
		push_idle(c);
		return;
	}
	if ((events & EPOLLOUT) && c->state == C_BUSY && flush_out(c) != 0) {
		flood_failed(c);
		return;
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		for (;;) {
			ssize_t k = recv(c->fd, c->in + c->ilen, INBUF - 1 - c->ilen, 0);
			if (k > 0) {
				c->ilen += (size_t)k;
				if (c->ilen < INBUF - 1)
					continue;
			} else if (k < 0 && errno == EAGAIN)
				break;
			else if (k == 0 || k < 0) {
				flood_failed(c);
				return;
			}
			break;
		}
		if (c->state != C_BUSY) {
			if (c->ilen) /* bytes nobody asked for */
				flood_failed(c);
			return;
		}
		int status;
		bool closing;
		int r = parse_reply(c, &status, &closing);
		if (r < 0) {
			flood_failed(c);
			return;
		}
		if (r == 0)
			return;
		flood_done(c, status);
		c->ilen = 0;
		if (closing) {
			conn_close(c);
			reconnects++;
			conn_open(c);
			return;
		}
		push_idle(c);
	}
}

static int run_flood(void)
{
	char *list = strdup(opt.keys);
	for (char *s = NULL, *t = strtok_r(list, ",", &s); t; t = strtok_r(NULL, ",", &s)) {
		if (nkeys == MAX_KEYS)
			die("too many keys");
		snprintf(keys[nkeys++].addr, sizeof(keys[0].addr), "%s", t);
	}
	free(list);
	if (!nkeys)
		die("no keys");
	nconns = (size_t)opt.conns;
	conns = calloc(nconns, sizeof(*conns));
	idle = calloc(nconns, sizeof(*idle));
	for (size_t i = 0; i < nconns; i++)
		if (conn_open(&conns[i]) != 0)
			die("connect");
	/* wait until the connections are up (at most 2 s) */
	uint64_t until = now_us() + 2000000u;
	struct epoll_event evs[256];
	while (nidle < nconns && now_us() < until) {
		flood_retry(now_us());
		int n = epoll_wait(ep, evs, 256, 10);
		for (int i = 0; i < n; i++)
			flood_event(evs[i].data.ptr, evs[i].events);
	}
	if (nidle < nconns)
		fprintf(stderr, "floodgen: only %zu of %zu connections up\n", nidle, nconns);
	if (!nidle)
		die("no connection to the server");
	conn_errors = reconnects = 0;

	t0 = now_us();
	const long total = (long)(opt.rate * opt.duration);
	const long max_lag = (long)(opt.rate * 0.05) + 1;
	long next = 0;
	uint64_t end = t0 + (uint64_t)(opt.duration * 1e6);
	for (;;) {
		uint64_t t = now_us();
		flood_retry(t);
		if (t < end) {
			long due = (long)((double)(t - t0) * opt.rate / 1e6) + 1;
			if (due > total)
				due = total;
			if (due - next > max_lag) {
				skipped += (unsigned long long)(due - next - max_lag);
				next = due - max_lag;
			}
			struct conn *c;
			while (next < due && (c = pop_idle()) != NULL) {
				flood_send(c, next, t0 + (uint64_t)((double)next * 1e6 / opt.rate));
				next++;
			}
		} else {
			/* the end: what was due and never sent is skipped; wait for replies */
			if (next < total) {
				skipped += (unsigned long long)(total - next);
				next = total;
			}
			size_t busy = 0;
			for (size_t i = 0; i < nconns; i++)
				busy += conns[i].state == C_BUSY;
			if (!busy || t > end + REPLY_TIMEOUT_US)
				break;
		}
		/* sleep until the next request is due (or 1 ms) */
		int ms = 1;
		if (next < total && nidle > 0) {
			uint64_t nd = t0 + (uint64_t)((double)next * 1e6 / opt.rate);
			ms = nd > t ? (int)((nd - t) / 1000u) : 0;
			if (ms > 1)
				ms = 1;
		}
		int n = epoll_wait(ep, evs, 256, ms);
		for (int i = 0; i < n; i++)
			flood_event(evs[i].data.ptr, evs[i].events);
	}
	uint64_t t_end = now_us();
	size_t unanswered = 0;
	for (size_t i = 0; i < nconns; i++)
		if (conns[i].state == C_BUSY) {
			unanswered++;
			keys[conns[i].req % nkeys].err++;
		}

	qsort(lat, nlat, sizeof(*lat), cmp_u32);
	unsigned long long sent = 0, done = nlat;
	for (int i = 0; i < nkeys; i++)
		sent += keys[i].sent;
	double secs = opt.duration;
	printf("{\"mode\":\"flood\",\"rate_target\":%.0f,\"duration_s\":%.3f,\"elapsed_s\":%.3f,"
	       "\"conns\":%d,\"sent\":%llu,\"answered\":%llu,\"skipped\":%llu,\"unanswered\":%zu,"
	       "\"conn_errors\":%llu,\"reconnects\":%llu,\"status_other\":%llu,"
	       "\"sent_rate\":%.0f,\"answered_rate\":%.0f,"
	       "\"lat_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"max\":%.3f},"
	       "\"cpu_s\":%.2f,\"keys\":[",
	       opt.rate, opt.duration, (double)(t_end - t0) / 1e6, opt.conns, sent, done, skipped,
	       unanswered, conn_errors, reconnects, status_other, (double)sent / secs,
	       (double)done / secs, pct(0.5), pct(0.9), pct(0.99), nlat ? lat[nlat - 1] / 1000.0 : 0,
	       cpu_s());
	for (int i = 0; i < nkeys; i++) {
		struct key_stat *k = &keys[i];
		printf("%s{\"addr\":\"%s\",\"sent\":%llu,\"s201\":%llu,\"s429\":%llu,\"s403\":%llu,"
		       "\"s4xx\":%llu,\"s5xx\":%llu,\"err\":%llu,\"t201_ms\":[",
		       i ? "," : "", k->addr, k->sent, k->s201, k->s429, k->s403, k->s4xx, k->s5xx,
		       k->err);
		for (size_t w = 0; w < k->s201; w++)
			printf("%s%u", w ? "," : "", k->t201[w]);
		printf("]}");
	}
	printf("],\"per_second\":[");
	size_t nsec = (size_t)opt.duration + 6;
	for (size_t s = 0; s < nsec && s < MAX_SECONDS; s++)
		printf("%s[%llu,%.1f,%llu]", s ? "," : "", per_sec_done[s], per_sec_max[s] / 1000.0,
		       per_sec_5xx[s]);
	printf("]}\n");
	return 0;
}

/* ---- trickle ---- */

struct trickle_rec {
	double due_s, ms;
	int status; /* 0: no reply (error or timeout) */
};

static struct trickle_rec *recs;

static void trickle_finish(struct conn *c, int status)
{
	uint64_t t = now_us();
	recs[c->req].status = status;
	recs[c->req].ms = (double)(t - c->due) / 1000.0;
	conn_close(c);
}

static void trickle_event(struct conn *c, uint32_t events)
{
	if (c->state == C_CONNECTING) {
		int err = 0;
		socklen_t l = sizeof(err);
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
		if (err || (events & (EPOLLERR | EPOLLHUP))) {
			trickle_finish(c, 0);
			return;
		}
		c->state = C_BUSY;
		c->sent = now_us();
		if (flush_out(c) != 0)
			trickle_finish(c, 0);
		return;
	}
	if ((events & EPOLLOUT) && flush_out(c) != 0) {
		trickle_finish(c, 0);
		return;
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		for (;;) {
			ssize_t k = recv(c->fd, c->in + c->ilen, INBUF - 1 - c->ilen, 0);
			if (k > 0) {
				c->ilen += (size_t)k;
				if (c->ilen < INBUF - 1)
					continue;
			} else if (k < 0 && errno == EAGAIN)
				break;
			else {
				int status;
				bool closing;
				trickle_finish(c, parse_reply(c, &status, &closing) == 1 ? status : 0);
				return;
			}
			break;
		}
		int status;
		bool closing;
		int r = parse_reply(c, &status, &closing);
		if (r != 0)
			trickle_finish(c, r == 1 ? status : 0);
	}
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int run_trickle(void)
{
	long total = (long)(opt.duration * 1000.0 / opt.interval_ms);
	if (total < 1)
		total = 1;
	recs = calloc((size_t)total, sizeof(*recs));
	/* at most 5 s of requests in flight */
	nconns = (size_t)(REPLY_TIMEOUT_US / 1000 / opt.interval_ms) + 16;
	conns = calloc(nconns, sizeof(*conns));
	for (size_t i = 0; i < nconns; i++)
		conns[i].fd = -1;
	for (long i = 0; i < total; i++)
		recs[i].status = -1; /* not sent */
	struct epoll_event evs[64];
	t0 = now_us();
	long next = 0;
	for (;;) {
		uint64_t t = now_us();
		while (next < total && t >= t0 + (uint64_t)((double)next * opt.interval_ms * 1000.0)) {
			struct conn *c = NULL;
			for (size_t i = 0; i < nconns && !c; i++)
				if (conns[i].state == C_FREE)
					c = &conns[i];
			recs[next].due_s = (double)next * opt.interval_ms / 1000.0;
			if (!c) { /* more than 5 s of requests outstanding */
				recs[next].status = 0;
				recs[next].ms = -1;
				next++;
				continue;
			}
			unsigned a = opt.first + (unsigned)next;
			char xff[32];
			snprintf(xff, sizeof(xff), "10.%u.%u.%u", (a >> 16) & 255, (a >> 8) & 255, a & 255);
			build_request(c, xff);
			c->req = next;
			c->due = t0 + (uint64_t)((double)next * opt.interval_ms * 1000.0);
			if (conn_open(c) != 0) {
				recs[next].status = 0;
				recs[next].ms = -1;
				c->state = C_FREE;
			}
			next++;
		}
		size_t busy = 0;
		for (size_t i = 0; i < nconns; i++) {
			struct conn *c = &conns[i];
			if (c->state == C_FREE)
				continue;
			if (t > c->due + REPLY_TIMEOUT_US)
				trickle_finish(c, 0);
			else
				busy++;
		}
		if (next >= total && !busy)
			break;
		int ms = 1;
		int n = epoll_wait(ep, evs, 64, ms);
		for (int i = 0; i < n; i++)
			trickle_event(evs[i].data.ptr, evs[i].events);
	}
	double *ok = calloc((size_t)total, sizeof(double));
	size_t nok = 0, fail = 0;
	for (long i = 0; i < total; i++) {
		if (recs[i].status == 201)
			ok[nok++] = recs[i].ms;
		else
			fail++;
	}
	qsort(ok, nok, sizeof(double), cmp_dbl);
#define P(p) (nok ? ok[(size_t)((p) * (double)(nok - 1) + 0.5)] : 0)
	printf("{\"mode\":\"trickle\",\"interval_ms\":%g,\"duration_s\":%g,\"requests\":%ld,"
	       "\"ok\":%zu,\"failures\":%zu,\"lat_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,"
	       "\"max\":%.3f},\"cpu_s\":%.2f,\"failed\":[",
	       opt.interval_ms, opt.duration, total, nok, fail, P(0.5), P(0.9), P(0.99),
	       nok ? ok[nok - 1] : 0, cpu_s());
	int shown = 0;
	for (long i = 0; i < total && shown < 20; i++)
		if (recs[i].status != 201)
			printf("%s{\"at_s\":%.3f,\"status\":%d,\"ms\":%.1f}", shown++ ? "," : "",
			       recs[i].due_s, recs[i].status, recs[i].ms);
	/* the five slowest, with when they were due: to line up with stalls */
	printf("],\"slowest\":[");
	for (int s = 0; s < 5; s++) {
		long worst = -1;
		for (long i = 0; i < total; i++)
			if (recs[i].status == 201 && (worst < 0 || recs[i].ms > recs[worst].ms))
				worst = i;
		if (worst < 0)
			break;
		printf("%s{\"at_s\":%.3f,\"ms\":%.2f}", s ? "," : "", recs[worst].due_s, recs[worst].ms);
		recs[worst].status = -2;
	}
	printf("]}\n");
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	parse(argc, argv);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1");
	return !strcmp(opt.mode, "flood") ? run_flood() : run_trickle();
}
