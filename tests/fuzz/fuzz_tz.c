/* fuzz_tz: the TZif reader with its POSIX TZ footer (src/cc/tz.c), and the
 * text parsers of hours of operation (src/cc/hours.c). The first byte picks
 * the target: 0 a TZif image, else text. What is accepted must hold: an
 * offset within a day and a bit at any instant, a parsed time that prints
 * back to itself, a date that converts back to the same calendar day. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cc/cc_int.h"
#include "cc/hours.h"

#include "fuzz_check.h"

static void tzif(const uint8_t *data, size_t size)
{
	struct bw_cc__tz *z = bw_cc__tz_parse(data, size);
	if (!z)
		return;
	/* Years 1800 to 2500, the footer's rule included. */
	for (int64_t t = -5364662400LL; t < 16725225600LL; t += 7776000 + 3607) {
		int32_t off = bw_cc__tz_offset(z, t);
		CHECK(off > -100000 && off < 100000);
	}
	bw_cc__tz_free(z);
}

static void text(const char *s)
{
	time_t t;
	if (bw_rfc3339_parse(s, &t)) {
		int64_t day = t >= 0 ? t / 86400 : -((-t + 86399) / 86400), y;
		int m, d;
		int64_t sec = t - day * 86400;
		bw_cc__civil_from_days(day, &y, &m, &d);
		char back[40];
		snprintf(back, sizeof(back), "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)y, m, d,
		         (int)(sec / 3600), (int)(sec / 60 % 60), (int)(sec % 60));
		time_t t2;
		CHECK(bw_rfc3339_parse(back, &t2) && t2 == t);
	}
	int mins = bw_hours_hhmm(s, true), mins2 = bw_hours_hhmm(s, false);
	CHECK(mins >= -1 && mins <= 1440);
	CHECK(mins2 >= -1 && mins2 < 1440);
	CHECK(mins2 == mins || (mins == 1440 && mins2 == -1));
	int32_t days;
	if (bw_hours_date(s, &days)) {
		int64_t y;
		int m, d;
		char back[16];
		bw_cc__civil_from_days(days, &y, &m, &d);
		snprintf(back, sizeof(back), "%04lld-%02d-%02d", (long long)y, m, d);
		CHECK(!strcmp(back, s));
	}
	int wd = bw_hours_day(s);
	CHECK(wd >= -1 && wd < 7);
	CHECK(wd < 0 || !strcmp(bw_hours_day_name(wd), s));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] == 0) {
		tzif(data + 1, size - 1);
		return 0;
	}
	char *s = malloc(size);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	text(s);
	free(s);
	return 0;
}
