/* Random identifiers and tokens (base64url, no padding). */
#ifndef BW_IDS_H
#define BW_IDS_H

#include <stdbool.h>
#include <stddef.h>

/* prefix + base64url(nbytes random); out must hold strlen(prefix)+ceil(4n/3)+1. */
void bw_id_random(char *out, size_t outsz, const char *prefix, size_t nbytes);
/* An object id such as "pk_3q2...": 16 random bytes. */
#define BW_ID_LEN 40
void bw_id_new(char *out, const char *prefix);
/* A fresh request id (loop thread): a random per-process prefix and a
 * counter, unique without a system call per request. */
void bw_request_id_new(char *out, size_t outsz);
/* An incoming X-Request-Id is echoed only if 1..64 of [A-Za-z0-9._-]. */
bool bw_request_id_valid(const char *s, size_t n);
/* RFC 3339 UTC time string for a unix time in seconds. */
void bw_time_rfc3339(long long unix_s, char *out, size_t outsz);
/* The same for Unix milliseconds, with them: "2026-11-30T12:00:00.123Z". */
void bw_time_rfc3339_ms(long long unix_ms, char *out, size_t outsz);
/* Reads an RFC 3339 time ("2026-11-30T12:00:00Z", a fraction, an offset
 * such as "+01:00") into Unix milliseconds (fraction digits past the third
 * are dropped); false when it is not one. */
bool bw_time_parse_rfc3339_ms(const char *s, long long *unix_ms);
long long bw_now_unix(void);
/* Wall-clock Unix milliseconds (stored times, deadlines kept across restarts). */
long long bw_now_ms(void);
double bw_now_mono(void);

#endif
