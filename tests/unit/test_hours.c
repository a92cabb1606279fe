/* Hours of operation (src/cc/hours.c) and the TZif reader (src/cc/tz.c):
 * DST transitions in Europe/Paris and America/New_York, the footer rule
 * past the table, 24:00 ends, holidays, unlisted days, validation, and a
 * cross-check of every offset against glibc's localtime_r (single-threaded
 * here, so setting TZ is safe in this test only). */
#include "test_common.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cc/cc_int.h"
#include "cc/hours.h"

static time_t at(const char *rfc3339)
{
	time_t t = 0;
	if (!bw_rfc3339_parse(rfc3339, &t))
		fail_msg("cannot parse %s", rfc3339);
	return t;
}

static void hours(struct bw_hours *h, const char *tz)
{
	memset(h, 0, sizeof(*h));
	snprintf(h->time_zone, sizeof(h->time_zone), "%s", tz);
}

static void range(struct bw_hours *h, const char *day, const char *start, const char *end)
{
	const char *why = bw_hours_add_range(h, bw_hours_day(day), bw_hours_hhmm(start, false),
	                                     bw_hours_hhmm(end, true));
	if (why)
		fail_msg("range %s %s-%s refused: %s", day, start, end, why);
}

static void expect(const struct bw_hours *h, const char *when, bool open, const char *local)
{
	struct bw_hours_status st;
	assert_int_equal(bw_hours_eval(h, at(when), &st), 0);
	if (st.open != open)
		fail_msg("%s in %s: expected %s, got %s (local %s)", when, h->time_zone,
		         open ? "open" : "closed", st.open ? "open" : "closed", st.local_time);
	assert_int_equal(bw_hours_open(h, at(when)), open);
	if (local)
		assert_string_equal(st.local_time, local);
}

static void test_paris_spring_forward(void **state)
{
	(void)state;
	struct bw_hours h;
	hours(&h, "Europe/Paris");
	range(&h, "SUNDAY", "03:00", "04:00");
	/* 2026-03-29: 02:00 CET becomes 03:00 CEST at 01:00 UTC. */
	expect(&h, "2026-03-29T00:59:59Z", false, "2026-03-29T01:59:59+01:00");
	expect(&h, "2026-03-29T01:00:00Z", true, "2026-03-29T03:00:00+02:00");
	expect(&h, "2026-03-29T01:59:59Z", true, "2026-03-29T03:59:59+02:00");
	expect(&h, "2026-03-29T02:00:00Z", false, "2026-03-29T04:00:00+02:00");
	/* A week earlier, in winter time, 03:00 local is 02:00 UTC. */
	expect(&h, "2026-03-22T01:30:00Z", false, "2026-03-22T02:30:00+01:00");
	expect(&h, "2026-03-22T02:30:00Z", true, "2026-03-22T03:30:00+01:00");
}

static void test_paris_fall_back(void **state)
{
	(void)state;
	struct bw_hours h;
	hours(&h, "Europe/Paris");
	range(&h, "SUNDAY", "02:00", "03:00");
	/* 2026-10-25: 03:00 CEST becomes 02:00 CET at 01:00 UTC: 02:xx twice. */
	expect(&h, "2026-10-24T23:59:59Z", false, "2026-10-25T01:59:59+02:00");
	expect(&h, "2026-10-25T00:00:00Z", true, "2026-10-25T02:00:00+02:00");
	expect(&h, "2026-10-25T00:59:59Z", true, "2026-10-25T02:59:59+02:00");
	expect(&h, "2026-10-25T01:00:00Z", true, "2026-10-25T02:00:00+01:00");
	expect(&h, "2026-10-25T01:59:59Z", true, "2026-10-25T02:59:59+01:00");
	expect(&h, "2026-10-25T02:00:00Z", false, "2026-10-25T03:00:00+01:00");
}

static void test_new_york(void **state)
{
	(void)state;
	struct bw_hours h;
	hours(&h, "America/New_York");
	const char *days[] = {"MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"};
	for (size_t i = 0; i < 5; i++)
		range(&h, days[i], "09:00", "17:00");
	/* Monday 2026-03-02, EST (-5). */
	expect(&h, "2026-03-02T13:59:59Z", false, "2026-03-02T08:59:59-05:00");
	expect(&h, "2026-03-02T14:00:00Z", true, "2026-03-02T09:00:00-05:00");
	expect(&h, "2026-03-02T21:59:59Z", true, "2026-03-02T16:59:59-05:00");
	expect(&h, "2026-03-02T22:00:00Z", false, "2026-03-02T17:00:00-05:00");
	/* Sunday 2026-03-08 02:00 EST → 03:00 EDT; Monday 2026-03-09, EDT (-4). */
	expect(&h, "2026-03-08T06:59:59Z", false, "2026-03-08T01:59:59-05:00");
	expect(&h, "2026-03-08T07:00:00Z", false, "2026-03-08T03:00:00-04:00");
	expect(&h, "2026-03-09T12:59:59Z", false, "2026-03-09T08:59:59-04:00");
	expect(&h, "2026-03-09T13:00:00Z", true, "2026-03-09T09:00:00-04:00");
	/* Sunday 2026-11-01 02:00 EDT → 01:00 EST. */
	expect(&h, "2026-11-01T05:59:59Z", false, "2026-11-01T01:59:59-04:00");
	expect(&h, "2026-11-01T06:00:00Z", false, "2026-11-01T01:00:00-05:00");
	expect(&h, "2026-11-02T14:00:00Z", true, "2026-11-02T09:00:00-05:00");
	/* Weekends are not listed: closed all day. */
	expect(&h, "2026-03-07T17:00:00Z", false, "2026-03-07T12:00:00-05:00");
}

static void test_footer_rule(void **state)
{
	(void)state;
	struct bw_hours h;
	/* Past the transition table, the TZif footer's POSIX rule applies. */
	hours(&h, "Europe/Paris");
	range(&h, "MONDAY", "12:00", "13:00");
	expect(&h, "2100-07-05T10:00:00Z", true, "2100-07-05T12:00:00+02:00");
	expect(&h, "2100-12-06T10:00:00Z", false, "2100-12-06T11:00:00+01:00");
	/* Southern hemisphere: summer time spans the new year. */
	hours(&h, "Australia/Sydney");
	range(&h, "FRIDAY", "21:00", "22:00");
	expect(&h, "2100-01-15T10:00:00Z", true, "2100-01-15T21:00:00+11:00");
	expect(&h, "2100-07-16T10:00:00Z", false, "2100-07-16T20:00:00+10:00");
}

static void test_end_24_00(void **state)
{
	(void)state;
	struct bw_hours h;
	hours(&h, "Europe/Paris");
	range(&h, "FRIDAY", "18:00", "24:00");
	/* Friday 2026-11-27, CET. */
	expect(&h, "2026-11-27T16:59:59Z", false, NULL);
	expect(&h, "2026-11-27T17:00:00Z", true, "2026-11-27T18:00:00+01:00");
	expect(&h, "2026-11-27T22:59:59Z", true, "2026-11-27T23:59:59+01:00");
	expect(&h, "2026-11-27T23:00:00Z", false, "2026-11-28T00:00:00+01:00");
	/* An open day next to it runs on across midnight. */
	range(&h, "SATURDAY", "00:00", "02:00");
	expect(&h, "2026-11-27T23:00:00Z", true, "2026-11-28T00:00:00+01:00");
	expect(&h, "2026-11-28T01:00:00Z", false, "2026-11-28T02:00:00+01:00");
}

static void test_holidays(void **state)
{
	(void)state;
	struct bw_hours h;
	int32_t xmas, boxing;
	hours(&h, "Europe/Paris");
	for (int d = 0; d < 7; d++)
		assert_null(bw_hours_add_range(&h, d, 0, 1440));
	assert_true(bw_hours_date("2026-12-25", &xmas));
	assert_null(bw_hours_add_holiday(&h, xmas));
	assert_true(bw_hours_date("2026-12-26", &boxing));
	assert_non_null(bw_hours_add_holiday(&h, xmas)); /* repeated */
	struct bw_hours_status st;
	/* The holiday is a local date: 23:30 UTC on the 24th is the 25th in Paris. */
	assert_int_equal(bw_hours_eval(&h, at("2026-12-24T22:59:59Z"), &st), 0);
	assert_true(st.open);
	assert_int_equal(st.reason, BW_HOURS_OPEN);
	assert_int_equal(bw_hours_eval(&h, at("2026-12-24T23:30:00Z"), &st), 0);
	assert_false(st.open);
	assert_int_equal(st.reason, BW_HOURS_HOLIDAY);
	assert_string_equal(st.local_time, "2026-12-25T00:30:00+01:00");
	assert_int_equal(bw_hours_eval(&h, at("2026-12-25T22:59:59Z"), &st), 0);
	assert_int_equal(st.reason, BW_HOURS_HOLIDAY);
	assert_int_equal(bw_hours_eval(&h, at("2026-12-25T23:00:00Z"), &st), 0);
	assert_int_equal(st.reason, BW_HOURS_OPEN);
	assert_true(boxing == xmas + 1);
}

static void test_unlisted_day_and_empty(void **state)
{
	(void)state;
	struct bw_hours h;
	struct bw_hours_status st;
	hours(&h, "UTC");
	range(&h, "MONDAY", "00:00", "24:00");
	expect(&h, "2026-11-30T12:00:00Z", true, "2026-11-30T12:00:00+00:00"); /* Monday */
	expect(&h, "2026-12-01T12:00:00Z", false, NULL);                       /* Tuesday */
	hours(&h, "UTC");
	assert_int_equal(bw_hours_eval(&h, at("2026-11-30T12:00:00Z"), &st), 0);
	assert_false(st.open);
	assert_int_equal(st.reason, BW_HOURS_CLOSED);
	/* An unknown zone: closed, and the evaluation says it failed. */
	hours(&h, "Nowhere/Atlantis");
	range(&h, "MONDAY", "00:00", "24:00");
	assert_int_equal(bw_hours_eval(&h, at("2026-11-30T12:00:00Z"), &st), -1);
	assert_false(bw_hours_open(&h, at("2026-11-30T12:00:00Z")));
}

static void test_parsers(void **state)
{
	(void)state;
	int32_t d;
	assert_int_equal(bw_hours_day("MONDAY"), 0);
	assert_int_equal(bw_hours_day("SUNDAY"), 6);
	assert_int_equal(bw_hours_day("monday"), -1);
	assert_int_equal(bw_hours_day(""), -1);
	assert_int_equal(bw_hours_hhmm("00:00", false), 0);
	assert_int_equal(bw_hours_hhmm("23:59", false), 1439);
	assert_int_equal(bw_hours_hhmm("24:00", false), -1);
	assert_int_equal(bw_hours_hhmm("24:00", true), 1440);
	assert_int_equal(bw_hours_hhmm("24:01", true), -1);
	assert_int_equal(bw_hours_hhmm("23:60", true), -1);
	assert_int_equal(bw_hours_hhmm("9:00", false), -1);
	assert_int_equal(bw_hours_hhmm("09:00 ", false), -1);
	assert_int_equal(bw_hours_hhmm("+9:00", false), -1);
	assert_true(bw_hours_date("2028-02-29", &d));
	assert_false(bw_hours_date("2026-02-29", &d));
	assert_false(bw_hours_date("2100-02-29", &d));
	assert_true(bw_hours_date("2000-02-29", &d));
	assert_false(bw_hours_date("2026-13-01", &d));
	assert_false(bw_hours_date("2026-12-32", &d));
	assert_false(bw_hours_date("2026-1-01", &d));
	assert_true(bw_hours_date("1970-01-02", &d));
	assert_int_equal(d, 1);
	time_t t;
	assert_true(bw_rfc3339_parse("1970-01-01T00:00:00Z", &t));
	assert_int_equal(t, 0);
	assert_true(bw_rfc3339_parse("1970-01-01T01:00:00+01:00", &t));
	assert_int_equal(t, 0);
	assert_true(bw_rfc3339_parse("1969-12-31T19:00:00.123-05:00", &t));
	assert_int_equal(t, 0);
	assert_false(bw_rfc3339_parse("1970-01-01T00:00:00", &t));
	assert_false(bw_rfc3339_parse("1970-01-01 00:00:00Z", &t));
	assert_false(bw_rfc3339_parse("1970-01-01T00:00:00+0100", &t));
	assert_false(bw_rfc3339_parse("1970-02-30T00:00:00Z", &t));
	assert_false(bw_rfc3339_parse("1970-01-01T00:00:00Zjunk", &t));
}

static void test_ranges_refused(void **state)
{
	(void)state;
	struct bw_hours h;
	hours(&h, "UTC");
	assert_null(bw_hours_add_range(&h, 0, 540, 720));
	assert_null(bw_hours_add_range(&h, 0, 720, 1020));      /* adjacent is fine */
	assert_non_null(bw_hours_add_range(&h, 0, 600, 660));   /* inside */
	assert_non_null(bw_hours_add_range(&h, 0, 480, 541));   /* overlaps the start */
	assert_non_null(bw_hours_add_range(&h, 0, 1000, 1100)); /* overlaps the end */
	assert_null(bw_hours_add_range(&h, 1, 600, 660));       /* another day */
	assert_non_null(bw_hours_add_range(&h, 2, 600, 600));   /* empty */
	assert_non_null(bw_hours_add_range(&h, 2, 660, 600));   /* backwards */
	assert_non_null(bw_hours_add_range(&h, 7, 0, 60));      /* no such day */
	hours(&h, "UTC");
	for (int i = 0; i < BW_HOURS_MAX_RANGES; i++)
		assert_null(bw_hours_add_range(&h, i % 7, (i / 7) * 60, (i / 7) * 60 + 30));
	assert_non_null(bw_hours_add_range(&h, 6, 1200, 1260)); /* the 29th */
}

static void test_zone_names(void **state)
{
	(void)state;
	const char *good[] = {"Europe/Paris",
	                      "America/New_York",
	                      "UTC",
	                      "Etc/GMT+5",
	                      "America/Argentina/Buenos_Aires",
	                      "Asia/Kolkata"};
	const char *bad[] = {"",
	                     "../etc/passwd",
	                     "/etc/passwd",
	                     "Europe/../../etc/passwd",
	                     "Europe",
	                     "Europe/",
	                     "zone.tab",
	                     "tzdata.zi",
	                     "right/Europe/Paris",
	                     "Nowhere/Atlantis",
	                     "Europe/Paris ",
	                     "Europe\\Paris",
	                     "Europe/Paris\n",
	                     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!bw_hours_zone_ok(good[i]))
			fail_msg("refused %s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (bw_hours_zone_ok(bad[i]))
			fail_msg("accepted \"%s\"", bad[i]);
}

/* Every offset agrees with glibc's, from 1900 to 2200, in zones with and
 * without DST, north and south, and with odd offsets. */
static void test_against_glibc(void **state)
{
	(void)state;
	const char *zones[] = {"Europe/Paris",      "America/New_York",
	                       "Australia/Sydney",  "Asia/Kolkata",
	                       "America/Sao_Paulo", "Pacific/Chatham",
	                       "Africa/Casablanca", "Europe/London",
	                       "America/St_Johns",  "UTC"};
	for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
		const struct bw_cc__tz *tz = bw_cc__tz_load(zones[z]);
		assert_non_null(tz);
		setenv("TZ", zones[z], 1);
		tzset();
		/* Steps of 3 h 7 min 11 s walk through every hour and minute. */
		for (int64_t t = -2208988800LL; t < 7258118400LL; t += 11231) {
			time_t tt = (time_t)t;
			struct tm tm;
			assert_non_null(localtime_r(&tt, &tm));
			int32_t mine = bw_cc__tz_offset(tz, t);
			if (mine != tm.tm_gmtoff)
				fail_msg("%s at %lld: %d, glibc %ld", zones[z], (long long)t, mine,
				         tm.tm_gmtoff);
		}
	}
	unsetenv("TZ");
	tzset();
}

struct worker_arg {
	int ok;
};

static void *worker(void *p)
{
	struct worker_arg *a = p;
	struct bw_hours h;
	hours(&h, "America/New_York");
	range(&h, "MONDAY", "09:00", "17:00");
	a->ok = 1;
	for (int i = 0; i < 2000; i++) {
		if (!bw_hours_open(&h, at("2026-03-09T13:00:00Z")) ||
		    bw_hours_open(&h, at("2026-03-09T12:59:59Z")) ||
		    !bw_hours_zone_ok(i % 2 ? "Europe/Paris" : "Asia/Tokyo"))
			a->ok = 0;
	}
	return NULL;
}

/* Many threads loading and using zones at once (the cache's mutex). */
static void test_threads(void **state)
{
	(void)state;
	pthread_t th[8];
	struct worker_arg args[8];
	for (int i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&th[i], NULL, worker, &args[i]), 0);
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(args[i].ok, 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_paris_spring_forward),
	    cmocka_unit_test(test_paris_fall_back),
	    cmocka_unit_test(test_new_york),
	    cmocka_unit_test(test_footer_rule),
	    cmocka_unit_test(test_end_24_00),
	    cmocka_unit_test(test_holidays),
	    cmocka_unit_test(test_unlisted_day_and_empty),
	    cmocka_unit_test(test_parsers),
	    cmocka_unit_test(test_ranges_refused),
	    cmocka_unit_test(test_zone_names),
	    cmocka_unit_test(test_threads),
	    cmocka_unit_test(test_against_glibc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
