#include "sec/cors.h"

#include <stdio.h>
#include <string.h>

enum bw_cors bw_cors_check(const struct bw_isettings *s, const char *origin)
{
	if (!origin)
		return BW_CORS_NONE;
	return bw_isettings_origin_allowed(s, origin) ? BW_CORS_ALLOW : BW_CORS_DENY;
}

int bw_cors_headers(const char *origin, bool preflight, const char *methods, char *out, size_t n)
{
	int k = snprintf(out, n, "Access-Control-Allow-Origin: %s\r\nVary: Origin\r\n", origin);
	if (k < 0 || (size_t)k >= n)
		return -1;
	if (preflight) {
		int m = snprintf(out + k, n - (size_t)k,
		                 "Access-Control-Allow-Methods: %s\r\n"
		                 "Access-Control-Allow-Headers: Content-Type, Authorization, X-Request-Id\r\n"
		                 "Access-Control-Max-Age: 600\r\n",
		                 methods);
		if (m < 0 || (size_t)m >= n - (size_t)k)
			return -1;
		k += m;
	}
	return k;
}

int bw_cors_frame_ancestors(const struct bw_isettings *s, char *out, size_t n)
{
	int k = snprintf(out, n, "frame-ancestors 'self'");
	for (int i = 0; i < s->norigins && k > 0 && (size_t)k < n; i++)
		k += snprintf(out + k, n - (size_t)k, " %s", s->origins[i]);
	return k > 0 && (size_t)k < n ? k : -1;
}
