#include "core/metrics.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NSTATUS 16
static const double buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                 0.05,   0.1,   0.25,   0.5,   1,    2.5};
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

struct route_stats {
	int status[NSTATUS];
	uint64_t count[NSTATUS];
	uint64_t hist[NBUCKETS];
	uint64_t n;
	double sum;
};

static struct route_stats *stats;
static size_t nstats;
static const char *const *names;

int bw_metrics_init(size_t nroutes, const char *const *route_names)
{
	nstats = nroutes + 1;
	stats = calloc(nstats, sizeof(*stats));
	names = route_names;
	return stats ? 0 : -1;
}

void bw_metrics_fini(void)
{
	free(stats);
	stats = NULL;
}

void bw_metrics_http(size_t idx, int status, double seconds)
{
	if (!stats || idx >= nstats)
		return;
	struct route_stats *s = &stats[idx];
	for (int i = 0; i < NSTATUS; i++) {
		if (s->status[i] == status || s->status[i] == 0) {
			s->status[i] = status;
			s->count[i]++;
			break;
		}
	}
	for (size_t b = 0; b < NBUCKETS; b++)
		if (seconds <= buckets[b])
			s->hist[b]++;
	s->n++;
	s->sum += seconds;
}

void bw_metrics_printf(struct bw_metrics_text *o, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(o->buf ? o->buf + o->len : NULL, o->buf ? o->cap - o->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (o->buf && o->len + (size_t)n < o->cap) {
			o->len += (size_t)n;
			return;
		}
		size_t cap = o->cap ? o->cap * 2 : 8192;
		while (cap < o->len + (size_t)n + 1)
			cap *= 2;
		char *nb = realloc(o->buf, cap);
		if (!nb)
			return;
		o->buf = nb;
		o->cap = cap;
	}
}

char *bw_metrics_render(size_t ws, size_t qdepth, size_t hdepth, size_t conns, size_t *len)
{
	struct bw_metrics_text o = {0};
	bw_metrics_printf(&o, "# HELP bulwark_http_requests_total HTTP requests answered, by route and status.\n"
	        "# TYPE bulwark_http_requests_total counter\n");
	for (size_t i = 0; i < nstats; i++)
		for (int k = 0; k < NSTATUS && stats[i].status[k]; k++)
			bw_metrics_printf(&o, "bulwark_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
			    names[i], stats[i].status[k], (unsigned long long)stats[i].count[k]);
	bw_metrics_printf(&o, "# HELP bulwark_http_request_duration_seconds Time from a complete request to its reply.\n"
	        "# TYPE bulwark_http_request_duration_seconds histogram\n");
	for (size_t i = 0; i < nstats; i++) {
		if (!stats[i].n)
			continue;
		for (size_t b = 0; b < NBUCKETS; b++)
			bw_metrics_printf(&o, "bulwark_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
			    names[i], buckets[b], (unsigned long long)stats[i].hist[b]);
		bw_metrics_printf(&o, "bulwark_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
		    names[i], (unsigned long long)stats[i].n);
		bw_metrics_printf(&o, "bulwark_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", names[i],
		    stats[i].sum);
		bw_metrics_printf(&o, "bulwark_http_request_duration_seconds_count{route=\"%s\"} %llu\n", names[i],
		    (unsigned long long)stats[i].n);
	}
	bw_metrics_printf(&o, "# HELP bulwark_websocket_sessions Open WebSocket sessions.\n"
	        "# TYPE bulwark_websocket_sessions gauge\nbulwark_websocket_sessions %zu\n", ws);
	bw_metrics_printf(&o, "# HELP bulwark_worker_queue_depth Jobs waiting for a worker, by pool.\n"
	        "# TYPE bulwark_worker_queue_depth gauge\n"
	        "bulwark_worker_queue_depth{pool=\"api\"} %zu\n"
	        "bulwark_worker_queue_depth{pool=\"hash\"} %zu\n", qdepth, hdepth);
	bw_metrics_printf(&o, "# HELP bulwark_http_connections Open client connections.\n"
	        "# TYPE bulwark_http_connections gauge\nbulwark_http_connections %zu\n", conns);
	*len = o.len;
	return o.buf;
}
