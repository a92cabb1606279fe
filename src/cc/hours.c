/* Hours of operation: building them from validated parts, and whether they
 * are open at an instant in their own time zone (see tz.c for why the zone
 * is read without localtime_r). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cc/cc_int.h"

static const char *const day_names[7] = {"MONDAY", "TUESDAY",  "WEDNESDAY", "THURSDAY",
                                         "FRIDAY", "SATURDAY", "SUNDAY"};

static bool dig(char c)
{
	return c >= '0' && c <= '9';
}

static int num(const char *s, size_t n)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!dig(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

bool bw_hours_zone_ok(const char *tz)
{
	return bw_cc__tz_load(tz) != NULL;
}

int bw_hours_day(const char *s)
{
	for (int i = 0; i < 7; i++)
		if (!strcmp(s, day_names[i]))
			return i;
	return -1;
}

const char *bw_hours_day_name(int day)
{
	return day >= 0 && day < 7 ? day_names[day] : "?";
}

int bw_hours_hhmm(const char *s, bool allow_24)
{
	if (strlen(s) != 5 || s[2] != ':')
		return -1;
	int h = num(s, 2), m = num(s + 3, 2);
	if (h < 0 || m < 0)
		return -1;
	if (h == 24 && m == 0)
		return allow_24 ? 1440 : -1;
	if (h > 23 || m > 59)
		return -1;
	return h * 60 + m;
}

bool bw_hours_date(const char *s, int32_t *days)
{
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	int y = num(s, 4), m = num(s + 5, 2), d = num(s + 8, 2);
	if (y < 1900 || m < 1 || m > 12 || d < 1 || d > bw_cc__mdays(y, m))
		return false;
	*days = (int32_t)bw_cc__days_from_civil(y, m, d);
	return true;
}

const char *bw_hours_add_range(struct bw_hours *h, int day, int start, int end)
{
	if (day < 0 || day > 6)
		return "not a day of the week";
	if (start < 0 || start >= 1440 || end <= start || end > 1440)
		return "end must be after start";
	if (h->nranges >= BW_HOURS_MAX_RANGES)
		return "at most 28 ranges";
	for (size_t i = 0; i < h->nranges; i++) {
		const struct bw_hours_range *r = &h->ranges[i];
		if (r->day == day && start < r->end && r->start < end)
			return "overlaps another range of the same day";
	}
	h->ranges[h->nranges++] = (struct bw_hours_range){day, start, end};
	return NULL;
}

const char *bw_hours_add_holiday(struct bw_hours *h, int32_t day)
{
	for (size_t i = 0; i < h->nholidays; i++)
		if (h->holidays[i] == day)
			return "repeated date";
	if (h->nholidays >= BW_HOURS_MAX_HOLIDAYS)
		return "at most 366 holidays";
	h->holidays[h->nholidays++] = day;
	return NULL;
}

static int64_t fdiv(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if (a % b != 0 && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static void local_text(int64_t local, int32_t off, char *out, size_t n)
{
	int64_t day = fdiv(local, 86400), y;
	int64_t sec = local - day * 86400;
	int m, d;
	bw_cc__civil_from_days(day, &y, &m, &d);
	int32_t a = off < 0 ? -off : off;
	snprintf(out, n, "%04lld-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", (long long)y, m, d,
	         (int)(sec / 3600), (int)(sec / 60 % 60), (int)(sec % 60), off < 0 ? '-' : '+',
	         (int)(a / 3600), (int)(a / 60 % 60));
}

int bw_hours_eval(const struct bw_hours *h, time_t at, struct bw_hours_status *st)
{
	memset(st, 0, sizeof(*st));
	st->reason = BW_HOURS_CLOSED;
	const struct bw_cc__tz *z = bw_cc__tz_load(h->time_zone);
	if (!z)
		return -1;
	int32_t off = bw_cc__tz_offset(z, (int64_t)at);
	int64_t local = (int64_t)at + off;
	int64_t day = fdiv(local, 86400);
	int minute = (int)((local - day * 86400) / 60);
	int wd = (int)(((day + 3) % 7 + 7) % 7); /* 0 = Monday; 1970-01-01 was a Thursday */
	st->utc_offset = off;
	local_text(local, off, st->local_time, sizeof(st->local_time));
	for (size_t i = 0; i < h->nholidays; i++)
		if (h->holidays[i] == day) {
			st->reason = BW_HOURS_HOLIDAY;
			return 0;
		}
	for (size_t i = 0; i < h->nranges; i++) {
		const struct bw_hours_range *r = &h->ranges[i];
		if (r->day == wd && minute >= r->start && minute < r->end) {
			st->open = true;
			st->reason = BW_HOURS_OPEN;
			break;
		}
	}
	return 0;
}

bool bw_hours_open(const struct bw_hours *h, time_t at)
{
	struct bw_hours_status st;
	return bw_hours_eval(h, at, &st) == 0 && st.open;
}

bool bw_rfc3339_parse(const char *s, time_t *out)
{
	/* YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM) */
	size_t n = strlen(s);
	if (n < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
	    s[13] != ':' || s[16] != ':')
		return false;
	int y = num(s, 4), mo = num(s + 5, 2), d = num(s + 8, 2);
	int h = num(s + 11, 2), mi = num(s + 14, 2), se = num(s + 17, 2);
	if (y < 1900 || mo < 1 || mo > 12 || d < 1 || d > bw_cc__mdays(y, mo) || h < 0 || h > 23 ||
	    mi < 0 || mi > 59 || se < 0 || se > 60)
		return false;
	const char *p = s + 19;
	if (*p == '.') {
		const char *f = ++p;
		while (dig(*p) && p - f < 9)
			p++;
		if (p == f)
			return false;
	}
	int off = 0;
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
		off = 0;
	} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
		int oh = num(p + 1, 2), om = num(p + 4, 2);
		if (oh < 0 || oh > 23 || om < 0 || om > 59)
			return false;
		off = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
	} else {
		return false;
	}
	int64_t t = bw_cc__days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off;
	*out = (time_t)t;
	return true;
}
