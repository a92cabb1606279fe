/* Structured logs: one JSON object per line on standard error.
 * Never pass a body, token, password or secret to these functions. */
#ifndef BW_LOG_H
#define BW_LOG_H

#include <stdarg.h>

enum bw_log_level { BW_LOG_DEBUG, BW_LOG_INFO, BW_LOG_WARN, BW_LOG_ERROR };

extern enum bw_log_level bw_log_min;

int bw_log_level_parse(const char *s, enum bw_log_level *out);

/* msg is a fixed text; fields are "key", value pairs of strings ended by NULL. */
void bw_log__emit(enum bw_log_level lvl, const char *msg, ...);

/* Skips the call (and the formatting of its arguments) below the level. */
#define bw_log(lvl, ...) \
	do { \
		if ((lvl) >= bw_log_min) \
			bw_log__emit((lvl), __VA_ARGS__, (const char *)0); \
	} while (0)

/* One access line per request. */
struct bw_access {
	const char *request_id;
	const char *method;
	const char *route;
	const char *peer;
	int status;
	double latency_ms;
};
void bw_log_access(const struct bw_access *a);

#endif
