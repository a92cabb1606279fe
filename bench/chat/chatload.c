/* chatload: the load client of bench/chat, one thread on libre's loop.
 *
 * chat mode: agents open their streams and go Available; then N customer
 * chats start (POST /v1/public/instances/{iid}/chats, then the customer
 * WebSocket), at most --inflight of them in setup at once; an agent accepts
 * each offer (POST .../agent/contacts/{cid}/accept). Once all N are live
 * (the peak), every chat exchanges five messages each way, paced so that
 * each chat sends one message every --interval-ms, alternately customer and
 * agent. Each message carries its send time; the receiving side measures
 * the relay latency on the relayed copy (never the sender's own echo).
 * Then, with the N chats still live, --flood-s seconds of closed-loop
 * traffic (one message in flight per direction per chat) give the relay
 * throughput. Finally each customer ends ({"type":"end"}) and the agent
 * clears after-contact work (POST .../end until the contact is no longer in
 * after-contact work). The server's VmRSS is read before the chats, when all
 * are live, and after the messages.
 *
 * echo mode: the same client against bench_chat_echo's /echo route: N
 * sessions, --window messages in flight on each, for --flood-s seconds.
 *
 * Prints a report on stdout and one line "RESULT {json}" for run.sh. */
#include <re_types.h>
#include <re_fmt.h>
#include <re_mem.h>
#include <re_mbuf.h>
#include <re_list.h>
#include <re_sa.h>
#include <re_main.h>
#include <re_tmr.h>

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "chatload.h"
#include "loadconn.h"

struct cl_opts cl_opt;
struct cl_run cl;

/* ---- small helpers ---- */

static uint64_t now_us(void)
{
	return lc_now_us();
}

double cl_secs(uint64_t a, uint64_t b)
{
	return b > a ? (double)(b - a) / 1e6 : 0.0;
}

long cl_rss_kib(void)
{
	char path[64], line[256];
	long kib = -1;
	if (cl_opt.pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/status", cl_opt.pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6)) {
			kib = strtol(line + 6, NULL, 10);
			break;
		}
	fclose(f);
	return kib;
}

/* user + system CPU of the server (all threads), in clock ticks */
long cl_cpu_ticks(void)
{
	char path[64], buf[1024];
	if (cl_opt.pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/stat", cl_opt.pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	/* after "(comm)": state is field 3; utime and stime are fields 14 and 15 */
	long t = 0;
	for (int field = 3; *p && field <= 15; field++) {
		while (*p && *p != ' ')
			p++;
		while (*p == ' ')
			p++;
		if (field == 14 || field == 15)
			t += strtol(p, NULL, 10);
	}
	return t;
}

double cl_client_cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

/* ---- latency samples ---- */

void cl_lat_add(struct cl_lat *l, uint64_t us)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4096;
		uint32_t *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* p50, p99 and max in milliseconds (sorts the samples) */
void cl_lat_summary(struct cl_lat *l, double out[3])
{
	out[0] = out[1] = out[2] = 0;
	if (!l->n)
		return;
	qsort(l->v, l->n, sizeof(*l->v), cmp_u32);
	out[0] = l->v[(l->n - 1) * 50 / 100] / 1000.0;
	out[1] = l->v[(l->n - 1) * 99 / 100] / 1000.0;
	out[2] = l->v[l->n - 1] / 1000.0;
}

/* ---- frames ---- */

/* "key":"value" in a compact JSON text (values here hold no escapes). */
bool cl_json_str(const char *s, size_t n, const char *key, const char **val, size_t *vlen)
{
	char pat[48];
	int pl = snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	const char *p = memmem(s, n, pat, (size_t)pl);
	if (!p)
		return false;
	p += pl;
	const char *e = memchr(p, '"', n - (size_t)(p - s));
	if (!e)
		return false;
	*val = p;
	*vlen = (size_t)(e - p);
	return true;
}

bool cl_json_is(const char *s, size_t n, const char *key, const char *want)
{
	const char *v;
	size_t vl;
	return cl_json_str(s, n, key, &v, &vl) && vl == strlen(want) && !memcmp(v, want, vl);
}

/* The send time carried in a message's content ("t=<µs> ..."), or 0. */
uint64_t cl_sent_at(const char *s, size_t n)
{
	const char *p = memmem(s, n, "\"content\":\"t=", 13);
	if (!p)
		return 0;
	return strtoull(p + 13, NULL, 10);
}

static const char pad[] = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod "
                          "tempor incididunt ut labore et dolore magna aliqua ut enim ad minim "
                          "veniam quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea "
                          "commodo consequat duis aute irure dolor in reprehenderit in voluptate";

/* A message body: the send time first, then text up to --msg-chars. */
int cl_content(char *out, size_t cap, int idx, int k)
{
	int n = snprintf(out, cap, "t=%" PRIu64 " c=%d k=%d ", now_us(), idx, k);
	int want = cl_opt.msg_chars - n;
	if (want > (int)sizeof(pad) - 1)
		want = (int)sizeof(pad) - 1;
	if (want > 0 && (size_t)(n + want) < cap)
		n += snprintf(out + n, cap - (size_t)n, "%.*s", want, pad);
	return n;
}

/* ---- failure tally ---- */

void cl_fail(const char *why)
{
	for (size_t i = 0; i < CL_MAX_REASONS; i++) {
		if (!cl.reasons[i].why) {
			cl.reasons[i].why = why;
			cl.reasons[i].count = 1;
			return;
		}
		if (!strcmp(cl.reasons[i].why, why)) {
			cl.reasons[i].count++;
			return;
		}
	}
}

void cl_note(const char *what, const char *text, size_t len)
{
	cl_fail(what);
	if (cl.notes_printed < 8) {
		cl.notes_printed++;
		fprintf(stderr, "chatload: %s: %.*s\n", what, (int)(len > 300 ? 300 : len), text);
	}
}

void cl_print_reasons(void)
{
	for (size_t i = 0; i < CL_MAX_REASONS && cl.reasons[i].why; i++)
		printf("  %-44s %" PRIu64 "\n", cl.reasons[i].why, cl.reasons[i].count);
}

/* ---- options ---- */

static void usage(void)
{
	fprintf(stderr,
	        "usage: chatload chat --addr HOST:PORT --instance IID --entry-point EP\n"
	        "                     --agents-file FILE --agents K --chats N [--pid PID]\n"
	        "                     [--interval-ms 2000] [--flood-s 5] [--inflight 200]\n"
	        "                     [--msg-chars 64] [--timeout-s 300] [--label TEXT]\n"
	        "       chatload echo --addr HOST:PORT --conns N [--window 2] [--flood-s 5]\n"
	        "                     [--pid PID] [--path /echo] [--label TEXT]\n");
}

static int parse_opts(int argc, char **argv)
{
	struct cl_opts *o = &cl_opt;
	o->interval_ms = 2000;
	o->flood_s = 5;
	o->inflight = 200;
	o->msg_chars = 64;
	o->timeout_s = 300;
	o->window = 2;
	o->path = "/echo";
	o->label = "";
	if (argc < 2)
		return -1;
	o->mode = argv[1];
	for (int i = 2; i < argc; i += 2) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			return -1;
		if (!strcmp(k, "--addr"))
			o->addr = v;
		else if (!strcmp(k, "--instance"))
			o->iid = v;
		else if (!strcmp(k, "--entry-point"))
			o->ep = v;
		else if (!strcmp(k, "--agents-file"))
			o->agents_file = v;
		else if (!strcmp(k, "--path"))
			o->path = v;
		else if (!strcmp(k, "--label"))
			o->label = v;
		else {
			char *e;
			long n = strtol(v, &e, 10);
			if (*e || n < 0 || n > 10000000)
				return -1;
			if (!strcmp(k, "--agents"))
				o->agents = (int)n;
			else if (!strcmp(k, "--chats"))
				o->chats = (int)n;
			else if (!strcmp(k, "--conns"))
				o->conns = (int)n;
			else if (!strcmp(k, "--pid"))
				o->pid = (int)n;
			else if (!strcmp(k, "--interval-ms"))
				o->interval_ms = (int)n;
			else if (!strcmp(k, "--flood-s"))
				o->flood_s = (int)n;
			else if (!strcmp(k, "--inflight"))
				o->inflight = (int)n;
			else if (!strcmp(k, "--msg-chars"))
				o->msg_chars = (int)n;
			else if (!strcmp(k, "--timeout-s"))
				o->timeout_s = (int)n;
			else if (!strcmp(k, "--window"))
				o->window = (int)n;
			else
				return -1;
		}
	}
	if (!o->addr || o->inflight < 1 || o->interval_ms < 1 || o->window < 1)
		return -1;
	if (!strcmp(o->mode, "chat"))
		return o->iid && o->ep && o->agents_file && o->agents > 0 && o->chats > 0 ? 0 : -1;
	if (!strcmp(o->mode, "echo"))
		return o->conns > 0 ? 0 : -1;
	return -1;
}

static void on_signal(int sig)
{
	(void)sig;
	fprintf(stderr, "chatload: interrupted\n");
	cl.interrupted = true;
	re_cancel();
}

int main(int argc, char **argv)
{
	if (parse_opts(argc, argv) != 0) {
		usage();
		return 2;
	}
	struct rlimit rl;
	int max_fds = 4096;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		max_fds = (int)rl.rlim_cur;
	if (libre_init() != 0 || lc_init(cl_opt.addr, max_fds) != 0)
		return 1;
	int need = !strcmp(cl_opt.mode, "chat") ? cl_opt.chats + 2 * cl_opt.agents + 64
	                                        : cl_opt.conns + 16;
	if (need > max_fds) {
		fprintf(stderr, "chatload: %d descriptors needed, ulimit -n is %d\n", need, max_fds);
		return 2;
	}
	int rc = !strcmp(cl_opt.mode, "chat") ? cl_chat_run() : cl_echo_run();
	lc_fini();
	libre_close();
	return rc;
}

/* re_main with SIGINT/SIGTERM stopping the loop */
void cl_loop(void)
{
	re_main(on_signal);
}
