/* Shared state of the chat load client (chatload.c: options, helpers and
 * main; chatload_chat.c: the chat scenario; chatload_echo.c: the echo
 * reference). One thread: nothing here is locked. */
#ifndef CL_CHATLOAD_H
#define CL_CHATLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CL_MSGS_EACH_WAY 5
#define CL_MAX_REASONS 32

struct cl_opts {
	const char *mode, *addr, *iid, *ep, *agents_file, *path, *label;
	int agents, chats, conns, pid;
	int interval_ms, flood_s, inflight, msg_chars, timeout_s, window;
};

struct cl_lat {
	uint32_t *v; /* microseconds */
	size_t n, cap;
};

struct cl_run {
	bool interrupted;
	struct {
		const char *why;
		uint64_t count;
	} reasons[CL_MAX_REASONS];
	int notes_printed;
};

extern struct cl_opts cl_opt;
extern struct cl_run cl;

double cl_secs(uint64_t a, uint64_t b);
long cl_rss_kib(void);
long cl_cpu_ticks(void);
double cl_client_cpu_s(void);

void cl_lat_add(struct cl_lat *l, uint64_t us);
void cl_lat_summary(struct cl_lat *l, double out[3]); /* p50, p99, max (ms) */

bool cl_json_str(const char *s, size_t n, const char *key, const char **val, size_t *vlen);
bool cl_json_is(const char *s, size_t n, const char *key, const char *want);
uint64_t cl_sent_at(const char *s, size_t n);
int cl_content(char *out, size_t cap, int idx, int k);

/* Counts an event or failure by reason; cl_note also prints the first few. */
void cl_fail(const char *why);
void cl_note(const char *what, const char *text, size_t len);
void cl_print_reasons(void);

void cl_loop(void);
int cl_chat_run(void);
int cl_echo_run(void);

#endif
