/* Prometheus metrics. Counters are fed on the loop thread; gauges are read
 * from their owners when /metrics renders. */
#ifndef BW_METRICS_H
#define BW_METRICS_H

#include <stddef.h>

/* route_idx == nroutes stands for "unmatched". */
int bw_metrics_init(size_t nroutes, const char *const *route_names);
void bw_metrics_fini(void);
void bw_metrics_http(size_t route_idx, int status, double seconds);
/* A growing exposition text (buf malloc'd, NULL until the first write);
 * other owners of gauges (the engine, the fraud guard) write theirs with it. */
struct bw_metrics_text {
	char *buf;
	size_t len, cap;
};
void bw_metrics_printf(struct bw_metrics_text *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Renders the exposition text into a malloc'd string. */
char *bw_metrics_render(size_t ws_sessions, size_t queue_depth, size_t hash_depth,
                        size_t connections, size_t *len);

#endif
