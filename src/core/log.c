#include "core/log.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum bw_log_level bw_log_min = BW_LOG_INFO;

static const char *const names[] = {"debug", "info", "warn", "error"};

int bw_log_level_parse(const char *s, enum bw_log_level *out)
{
	for (int i = 0; i < 4; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (enum bw_log_level)i;
			return 0;
		}
	}
	return -1;
}

static void stamp(char *buf, size_t n)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t k = strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + k, n - k, ".%03ldZ", ts.tv_nsec / 1000000);
}

/* One write() per line keeps lines whole across threads. */
static void write_obj(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);
	if (s) {
		size_t n = strlen(s);
		s[n] = '\n';
		ssize_t w = write(STDERR_FILENO, s, n + 1);
		(void)w;
		s[n] = '\0';
		free(s);
	}
	json_decref(o);
}

void bw_log__emit(enum bw_log_level lvl, const char *msg, ...)
{
	char ts[40];
	stamp(ts, sizeof(ts));
	json_t *o = json_object();
	json_object_set_new(o, "time", json_string(ts));
	json_object_set_new(o, "level", json_string(names[lvl]));
	json_object_set_new(o, "msg", json_string(msg));
	va_list ap;
	va_start(ap, msg);
	for (;;) {
		const char *k = va_arg(ap, const char *);
		if (!k)
			break;
		const char *v = va_arg(ap, const char *);
		json_object_set_new(o, k, v ? json_string(v) : json_null());
	}
	va_end(ap);
	write_obj(o);
}

void bw_log_access(const struct bw_access *a)
{
	if (BW_LOG_INFO < bw_log_min)
		return;
	char ts[40];
	stamp(ts, sizeof(ts));
	json_t *o = json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s, s:s, s:i, s:f}",
	                      "time", ts, "level", "info", "msg", "request",
	                      "request_id", a->request_id, "method", a->method,
	                      "route", a->route, "peer", a->peer, "status", a->status,
	                      "latency_ms", a->latency_ms);
	if (o)
		write_obj(o);
}
