/* chatload echo: the reference run. N sessions to bench_chat_echo's /echo
 * (the daemon's own front end with an echo route), each with --window
 * messages in flight, for --flood-s seconds; the frames are the customer's
 * message frames of the chat run. Reports echoes per second, the echo
 * latency and the server's CPU per echo. */
#include <re_types.h>
#include <re_fmt.h>
#include <re_list.h>
#include <re_main.h>
#include <re_tmr.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chatload.h"
#include "loadconn.h"

#define OPENING_MAX 200

struct econn {
	int idx, k;
	struct lc_conn *c;
	int outstanding;
	bool open, closed;
};

static struct {
	struct econn *v;
	int n, nopen, opening, next, failed;
	enum { E_OPEN, E_FLOOD, E_DRAIN } phase;
	uint64_t t0, open_done, flood_t0, flood_t1, drain_t0, last_print;
	uint64_t sent, echoed, in_window;
	long cpu0, cpu1, rss0, rss1;
	double ccpu0, ccpu1;
	struct cl_lat lat;
	struct tmr tick;
	int rc;
} E;

static void send_one(struct econn *e)
{
	char content[512], buf[640];
	cl_content(content, sizeof(content), e->idx, e->k++);
	int n = snprintf(buf, sizeof(buf), "{\"type\":\"message\",\"content\":\"%s\"}", content);
	if (lc_ws_send(e->c, buf, (size_t)n) == 0) {
		e->outstanding++;
		E.sent++;
	}
}

static void on_open(struct lc_conn *c, void *arg)
{
	(void)c;
	struct econn *e = arg;
	e->open = true;
	E.nopen++;
	E.opening--;
}

static void on_msg(struct lc_conn *c, const char *text, size_t len, void *arg)
{
	(void)c;
	struct econn *e = arg;
	uint64_t t = cl_sent_at(text, len), now = lc_now_us();
	if (!t) {
		cl_note("unexpected frame from the echo", text, len);
		return;
	}
	cl_lat_add(&E.lat, now - t);
	e->outstanding--;
	E.echoed++;
	if (E.phase == E_FLOOD) {
		E.in_window++;
		send_one(e);
	}
}

static void on_close(struct lc_conn *c, int err, void *arg)
{
	struct econn *e = arg;
	lc_conn_drop(c);
	e->closed = true;
	if (e->open) {
		E.nopen--;
		if (E.phase != E_DRAIN || err)
			cl_fail("echo session closed by the server");
	} else {
		E.opening--;
		E.failed++;
		cl_fail(err < 0 ? "echo handshake refused" : "echo connection failed");
	}
	e->open = false;
}

static const struct lc_ws_handlers handlers = {on_open, on_msg, on_close};

static void report(void)
{
	double fl = cl_secs(E.flood_t0, E.flood_t1);
	double rate = fl > 0 ? E.in_window / fl : 0;
	double lat[3];
	cl_lat_summary(&E.lat, lat);
	long tck = sysconf(_SC_CLK_TCK);
	double scpu = E.cpu0 >= 0 && E.cpu1 >= 0 ? (double)(E.cpu1 - E.cpu0) / (double)tck : -1;
	double us_per = scpu >= 0 && E.in_window ? scpu * 1e6 / (double)E.in_window : -1;
	printf("echo %s: %d sessions (%d failed), window %d, %.1f s: %.0f echoes/s, "
	       "latency p50 %.2f ms p99 %.2f ms max %.2f ms, server CPU %.1f µs/echo, "
	       "client CPU %.2f s\n",
	       cl_opt.label, E.nopen, E.failed, cl_opt.window, fl, rate, lat[0], lat[1], lat[2],
	       us_per, E.ccpu1 - E.ccpu0);
	cl_print_reasons();
	printf("RESULT {\"mode\":\"echo\",\"label\":\"%s\",\"sessions\":%d,\"failed\":%d,"
	       "\"window\":%d,\"seconds\":%.2f,\"msgs_per_s\":%.0f,\"p50_ms\":%.3f,"
	       "\"p99_ms\":%.3f,\"max_ms\":%.3f,\"server_us_per_msg\":%.2f,"
	       "\"rss_kib\":%ld,\"open_s\":%.2f}\n",
	       cl_opt.label, E.nopen, E.failed, cl_opt.window, fl, rate, lat[0], lat[1], lat[2],
	       us_per, E.rss1, cl_secs(E.t0, E.open_done));
	fflush(stdout);
}

static void tick_h(void *arg)
{
	(void)arg;
	uint64_t now = lc_now_us();
	lc_reap();
	if (E.phase == E_OPEN) {
		while (E.opening < OPENING_MAX && E.next < E.n) {
			struct econn *e = &E.v[E.next];
			e->idx = E.next++;
			e->c = lc_ws_open(cl_opt.path, NULL, &handlers, e);
			if (!e->c) {
				E.failed++;
				cl_fail("echo connect failed");
				continue;
			}
			E.opening++;
		}
		if (E.next == E.n && E.opening == 0) {
			E.open_done = now;
			E.rss0 = cl_rss_kib();
			E.cpu0 = cl_cpu_ticks();
			E.ccpu0 = cl_client_cpu_s();
			E.flood_t0 = now;
			E.phase = E_FLOOD;
			for (int i = 0; i < E.n; i++)
				for (int w = 0; w < cl_opt.window && E.v[i].open; w++)
					send_one(&E.v[i]);
		} else if (cl_secs(E.t0, now) > cl_opt.timeout_s) {
			fprintf(stderr, "chatload: echo sessions did not open in time\n");
			E.rc = 1;
			re_cancel();
			return;
		}
	} else if (E.phase == E_FLOOD && now >= E.flood_t0 + (uint64_t)cl_opt.flood_s * 1000000u) {
		E.cpu1 = cl_cpu_ticks();
		E.rss1 = cl_rss_kib();
		E.ccpu1 = cl_client_cpu_s();
		E.flood_t1 = now;
		E.drain_t0 = now;
		E.phase = E_DRAIN;
	} else if (E.phase == E_DRAIN) {
		bool quiet = true;
		for (int i = 0; i < E.n && quiet; i++)
			quiet = !E.v[i].open || E.v[i].outstanding == 0;
		if (quiet || cl_secs(E.drain_t0, now) > 10) {
			report();
			for (int i = 0; i < E.n; i++)
				if (E.v[i].open)
					lc_conn_drop(E.v[i].c);
			re_cancel();
			return;
		}
	}
	if (cl_secs(E.last_print, now) >= 2) {
		E.last_print = now;
		fprintf(stderr, "chatload echo: %d open, %d opening, %d failed, %llu echoed\n", E.nopen,
		        E.opening, E.failed, (unsigned long long)E.echoed);
	}
	tmr_start(&E.tick, 1, tick_h, NULL);
}

int cl_echo_run(void)
{
	E.n = cl_opt.conns;
	E.v = calloc((size_t)E.n, sizeof(*E.v));
	if (!E.v)
		return 1;
	E.t0 = E.last_print = lc_now_us();
	tmr_init(&E.tick);
	tmr_start(&E.tick, 0, tick_h, NULL);
	cl_loop();
	tmr_cancel(&E.tick);
	if (cl.interrupted)
		return 130;
	return E.rc;
}
