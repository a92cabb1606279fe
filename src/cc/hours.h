/* Hours of operation: weekly ranges in an IANA time zone, plus holidays,
 * and whether they are open at an instant. Pure functions apart from
 * reading the zone's TZif file once (then cached); thread-safe. */
#ifndef BW_CC_HOURS_H
#define BW_CC_HOURS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define BW_HOURS_MAX_RANGES 28 /* 7 days x 4 */
#define BW_HOURS_MAX_HOLIDAYS 366
#define BW_TZ_NAME_MAX 64

/* day: 0 = MONDAY .. 6 = SUNDAY; start and end in minutes, end > start,
 * end at most 1440 (24:00). A range covers [start, end). */
struct bw_hours_range {
	int day;
	int start;
	int end;
};

struct bw_hours {
	char time_zone[BW_TZ_NAME_MAX + 1];
	size_t nranges;
	struct bw_hours_range ranges[BW_HOURS_MAX_RANGES];
	size_t nholidays;
	int32_t holidays[BW_HOURS_MAX_HOLIDAYS]; /* local dates, days since 1970-01-01 */
};

enum bw_hours_reason { BW_HOURS_CLOSED, BW_HOURS_OPEN, BW_HOURS_HOLIDAY };

struct bw_hours_status {
	bool open;
	enum bw_hours_reason reason;
	int32_t utc_offset;  /* seconds east of UTC at that instant */
	char local_time[32]; /* RFC 3339 with the zone's offset */
};

/* The name is [A-Za-z0-9_+/-]{1,64}, not starting with '/', and names a
 * TZif file under the zoneinfo directory (no leap-second zones). */
bool bw_hours_zone_ok(const char *tz);

/* "MONDAY".."SUNDAY" → 0..6, else -1. */
int bw_hours_day(const char *s);
const char *bw_hours_day_name(int day);
/* "HH:MM" 00:00–23:59 → minutes; "24:00" → 1440 only when allow_24; else -1. */
int bw_hours_hhmm(const char *s, bool allow_24);
/* "YYYY-MM-DD", a real calendar date (years 1900–9999) → days since 1970-01-01. */
bool bw_hours_date(const char *s, int32_t *days);
/* Adds a range; NULL when accepted, else why not (too many, end not after
 * start, overlaps another range of the day). */
const char *bw_hours_add_range(struct bw_hours *h, int day, int start, int end);
/* Adds a holiday; NULL when accepted, else why not (too many, repeated). */
const char *bw_hours_add_holiday(struct bw_hours *h, int32_t day);

/* The state at `at`: open within a range of the local weekday, closed on a
 * holiday (local date) or outside every range. -1 when the zone cannot be
 * loaded (st then says closed). */
int bw_hours_eval(const struct bw_hours *h, time_t at, struct bw_hours_status *st);
/* Whether the hours are open at `at` (closed when the zone is unavailable). */
bool bw_hours_open(const struct bw_hours *h, time_t at);

/* Parses an RFC 3339 time (Z or ±HH:MM; fractions ignored). */
bool bw_rfc3339_parse(const char *s, time_t *out);

#endif
