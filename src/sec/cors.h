/* CORS and frame-ancestors for the public endpoints, from an instance's
 * approved_origins (C6). A request without Origin is not a browser's: it is
 * allowed and gets no CORS headers. */
#ifndef BW_CORS_H
#define BW_CORS_H

#include <stdbool.h>
#include <stddef.h>

#include "sec/isettings.h"

enum bw_cors { BW_CORS_NONE, BW_CORS_ALLOW, BW_CORS_DENY };

enum bw_cors bw_cors_check(const struct bw_isettings *s, const char *origin);
/* Header lines (each ending CRLF) for an allowed origin; a preflight also
 * names the methods and headers it allows. Returns the length or -1. */
int bw_cors_headers(const char *origin, bool preflight, const char *methods, char *out, size_t n);
/* "frame-ancestors 'self' https://a https://b" for Content-Security-Policy. */
int bw_cors_frame_ancestors(const struct bw_isettings *s, char *out, size_t n);

#endif
