#include "core/ids.h"

#include <sodium.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

void bw_id_random(char *out, size_t outsz, const char *prefix, size_t nbytes)
{
	unsigned char raw[64];
	size_t pl = strlen(prefix);
	if (nbytes > sizeof(raw))
		nbytes = sizeof(raw);
	randombytes_buf(raw, nbytes);
	if (pl >= outsz) {
		out[0] = '\0';
		return;
	}
	memcpy(out, prefix, pl);
	sodium_bin2base64(out + pl, outsz - pl, raw, nbytes,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
}

void bw_id_new(char *out, const char *prefix)
{
	bw_id_random(out, BW_ID_LEN, prefix, 16);
}

bool bw_request_id_valid(const char *s, size_t n)
{
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

void bw_time_rfc3339(long long unix_s, char *out, size_t outsz)
{
	time_t t = (time_t)unix_s;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void bw_time_rfc3339_ms(long long unix_ms, char *out, size_t outsz)
{
	/* Floor division: -1 ms is 23:59:59.999 of the day before. */
	long long s = unix_ms / 1000, ms = unix_ms % 1000;
	if (ms < 0) {
		ms += 1000;
		s--;
	}
	time_t t = (time_t)s;
	struct tm tm;
	char base[32];
	gmtime_r(&t, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, outsz, "%s.%03lldZ", base, ms);
}

/* n digits at s as a number, or -1. */
static int digits(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int days_in_month(int y, int m)
{
	static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : d[m - 1];
}

bool bw_time_parse_rfc3339_ms(const char *s, long long *unix_ms)
{
	/* date-time = YYYY-MM-DD "T" hh:mm:ss [.frac] ("Z" / ("+"/"-") hh:mm) */
	if (strlen(s) < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
	    s[13] != ':' || s[16] != ':')
		return false;
	int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
	int h = digits(s + 11, 2), mi = digits(s + 14, 2), se = digits(s + 17, 2);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 ||
	    se > 60 || d > days_in_month(y, mo))
		return false;
	const char *p = s + 19;
	int ms = 0;
	if (*p == '.') {
		int nd = 0;
		for (p++; *p >= '0' && *p <= '9'; p++, nd++)
			if (nd < 3)
				ms = ms * 10 + (*p - '0');
		if (nd == 0 || nd > 9)
			return false;
		for (; nd < 3; nd++)
			ms *= 10;
	}
	long long off = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh = digits(p + 1, 2);
		if (oh < 0 || oh > 23 || p[3] != ':') /* p[3]: p[1] and p[2] were digits */
			return false;
		int om = digits(p + 4, 2);
		if (om < 0 || om > 59)
			return false;
		off = (*p == '+' ? 1 : -1) * (oh * 3600LL + om * 60LL);
		p += 6;
	} else {
		return false;
	}
	if (*p)
		return false;
	struct tm tm = {.tm_year = y - 1900,
	                .tm_mon = mo - 1,
	                .tm_mday = d,
	                .tm_hour = h,
	                .tm_min = mi,
	                .tm_sec = se};
	long long t = (long long)timegm(&tm) - off;
	*unix_ms = t * 1000 + ms;
	return true;
}

long long bw_now_unix(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec;
}

long long bw_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double bw_now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void bw_request_id_new(char *out, size_t outsz)
{
	static unsigned char prefix[9];
	static uint64_t counter;
	if (!counter)
		randombytes_buf(prefix, sizeof(prefix));
	counter++;
	unsigned char raw[sizeof(prefix) + 6];
	memcpy(raw, prefix, sizeof(prefix));
	for (int i = 0; i < 6; i++)
		raw[sizeof(prefix) + i] = (unsigned char)(counter >> (40 - 8 * i));
	sodium_bin2base64(out, outsz, raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}
