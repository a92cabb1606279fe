/* fuzz_time: RFC 3339 times as the API reads them (bw_time_parse_rfc3339_ms
 * for contact search, deny-list expiry, audit filters; bw_rfc3339_parse for
 * hours-of-operation status). Besides not crashing: a time that parses,
 * written back in UTC with milliseconds, parses to the same instant. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cc/hours.h"
#include "core/ids.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t n)
{
	if (n > 256)
		return 0;
	char *s = malloc(n + 1);
	if (!s)
		return 0;
	memcpy(s, buf, n);
	s[n] = '\0';
	long long ms;
	if (bw_time_parse_rfc3339_ms(s, &ms) && ms >= 0 && ms < 253402300800000LL) {
		char out[64];
		bw_time_rfc3339_ms(ms, out, sizeof(out));
		long long again;
		CHECK(bw_time_parse_rfc3339_ms(out, &again));
		CHECK(again == ms);
	}
	time_t t;
	(void)bw_rfc3339_parse(s, &t);
	free(s);
	return 0;
}
