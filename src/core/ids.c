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

long long bw_now_unix(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec;
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
