/* Input validation (C16, src/flow/validate_input.c): phone numbers through
 * libphonenumber (valid, not merely parsed; E.164 with or without a country
 * code; number types), digit counts, Luhn, calendar dates, patterns. */
#include "test_common.h"

#include "flow/flow.h"

static struct bw_input_result res;

static bool check(const struct bw_input_rule *r, const char *v)
{
	assert_int_equal(bw_input_validate(r, v, strlen(v), &res), BW_OK);
	if (!res.valid)
		assert_non_null(res.reason);
	return res.valid;
}

static bool phone(const char *v, const char *region)
{
	struct bw_input_rule r = {.kind = BW_INPUT_PHONE_NUMBER, .region = region};
	return check(&r, v);
}

static void test_phone_with_country_code(void **state)
{
	(void)state;
	static const struct {
		const char *in, *e164, *type;
	} ok[] = {
		{"+1 202-456-1111", "+12024561111", "FIXED_LINE_OR_MOBILE"}, /* US */
		{"+33 1 23 45 67 89", "+33123456789", "FIXED_LINE"},         /* FR */
		{"+33 6 12 34 56 78", "+33612345678", "MOBILE"},
		{"+44 20 7946 0958", "+442079460958", "FIXED_LINE"}, /* GB */
		{"+44 7400 123456", "+447400123456", "MOBILE"},
		{"+49 30 123456", "+4930123456", "FIXED_LINE"}, /* DE */
		{"+49 1512 3456789", "+4915123456789", "MOBILE"},
		{"+1 800 555 0199", "+18005550199", "TOLL_FREE"},
		{"+1 900 555 0123", "+19005550123", "PREMIUM_RATE"},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		/* The country code wins over whatever region is the default. */
		const char *regions[] = {NULL, "US", "FR", "DE"};
		for (size_t k = 0; k < 4; k++) {
			if (!phone(ok[i].in, regions[k]))
				fail_msg("%s (%s): %s", ok[i].in, regions[k] ? regions[k] : "-", res.reason);
			assert_string_equal(res.normalized, ok[i].e164);
			assert_string_equal(res.number_type, ok[i].type);
		}
	}
}

static void test_phone_national_with_region(void **state)
{
	(void)state;
	assert_true(phone("06 12 34 56 78", "FR"));
	assert_string_equal(res.normalized, "+33612345678");
	assert_string_equal(res.number_type, "MOBILE");
	assert_true(phone("(202) 456-1111", "US"));
	assert_string_equal(res.normalized, "+12024561111");
	assert_true(phone("020 7946 0958", "GB"));
	assert_string_equal(res.normalized, "+442079460958");
	assert_true(phone("030 123456", "DE"));
	assert_string_equal(res.normalized, "+4930123456");
	/* The same digits read with another region are another number, or none. */
	assert_false(phone("06 12 34 56 78", "US"));
	/* Without a country code and without a region, nothing can be read. */
	assert_false(phone("202 456 1111", NULL));
	assert_contains(res.reason, "country code");
}

static void test_phone_invalid(void **state)
{
	(void)state;
	/* "12" parses in libphonenumber; it is not a valid number. */
	assert_false(phone("12", "US"));
	assert_string_equal(res.reason, "not a valid phone number");
	assert_string_equal(res.normalized, "");
	assert_false(phone("+1 555 555 5555", "US")); /* no such area code */
	assert_false(phone("hello", "US"));
	assert_false(phone("", "US"));
	assert_false(phone("+999 123 456", "US"));
	assert_false(phone("+1 202 456 1111 1111 1111 1111 1111 1111 1111 1111 1111 1111 1111 1111",
	                   "US")); /* past 64 bytes */
	assert_false(phone("+1 202\n456 1111", "US")); /* a control character */
	/* A region libphonenumber does not know is a mistake of the rule. */
	struct bw_input_rule r = {.kind = BW_INPUT_PHONE_NUMBER, .region = "XX"};
	assert_int_equal(bw_input_validate(&r, "+12024561111", 12, &res), BW_INVALID);
	r.region = "us";
	assert_int_equal(bw_input_validate(&r, "+12024561111", 12, &res), BW_INVALID);
	assert_true(bw_input_region_ok("FR"));
	assert_false(bw_input_region_ok("ZZ"));
	assert_false(bw_input_region_ok("FRA"));
}

static void test_phone_not_nul_terminated(void **state)
{
	(void)state;
	struct bw_input_rule r = {.kind = BW_INPUT_PHONE_NUMBER, .region = "US"};
	const char buf[] = "+12024561111999";
	assert_int_equal(bw_input_validate(&r, buf, 12, &res), BW_OK);
	assert_true(res.valid);
	assert_string_equal(res.normalized, "+12024561111");
}

static void test_digits(void **state)
{
	(void)state;
	struct bw_input_rule r = {.kind = BW_INPUT_DIGITS, .min = 4, .max = 6};
	assert_true(check(&r, "12-34 5"));
	assert_string_equal(res.normalized, "12345");
	assert_true(check(&r, "1234"));
	assert_true(check(&r, "123456"));
	assert_false(check(&r, "123"));
	assert_string_equal(res.reason, "too few digits");
	assert_false(check(&r, "1234567"));
	assert_string_equal(res.reason, "too many digits");
	assert_false(check(&r, "12a4"));
	assert_false(check(&r, "12.34"));
	assert_false(check(&r, " - "));
	r.min = r.max = -1;
	assert_true(check(&r, "0"));
	r.min = 5;
	r.max = 4;
	assert_int_equal(bw_input_validate(&r, "1234", 4, &res), BW_INVALID);
}

static void test_luhn(void **state)
{
	(void)state;
	struct bw_input_rule r = {.kind = BW_INPUT_LUHN};
	assert_true(check(&r, "4111 1111 1111 1111"));
	assert_string_equal(res.normalized, "4111111111111111");
	assert_true(check(&r, "4111-1111-1111-1111"));
	assert_true(check(&r, "79927398713"));
	assert_false(check(&r, "4111 1111 1111 1112"));
	assert_contains(res.reason, "Luhn");
	assert_false(check(&r, "79927398710"));
	assert_false(check(&r, "4111 1111 1111 111x"));
	assert_false(check(&r, "0"));
}

static void test_date(void **state)
{
	(void)state;
	struct bw_input_rule r = {.kind = BW_INPUT_DATE};
	assert_true(check(&r, "2024-02-29"));
	assert_true(check(&r, "2000-02-29")); /* divisible by 400 */
	assert_true(check(&r, "1999-12-31"));
	assert_false(check(&r, "2023-02-29"));
	assert_string_equal(res.reason, "no such date");
	assert_false(check(&r, "1900-02-29")); /* divisible by 100 */
	assert_false(check(&r, "2024-04-31"));
	assert_false(check(&r, "2024-13-01"));
	assert_false(check(&r, "2024-00-10"));
	assert_false(check(&r, "0000-01-01"));
	assert_false(check(&r, "2024-2-29"));
	assert_false(check(&r, "2024/02/29"));
	assert_false(check(&r, "2024-02-29T00:00:00Z"));
	assert_false(check(&r, "+024-02-29"));
}

static void test_pattern(void **state)
{
	(void)state;
	struct bw_input_rule r = {.kind = BW_INPUT_PATTERN, .pattern = "[A-Z]{2}[0-9]{4}"};
	assert_true(check(&r, "AB1234"));
	assert_string_equal(res.normalized, "AB1234");
	/* The whole input must match, not a part of it. */
	assert_false(check(&r, "xAB1234"));
	assert_false(check(&r, "AB12345"));
	r.pattern = "yes|no";
	assert_true(check(&r, "no"));
	assert_false(check(&r, "yesno"));
	const char *why;
	assert_int_equal(bw_input_pattern_check("[0-9]{3}-[0-9]{4}", &why), 0);
	assert_int_equal(bw_input_pattern_check("(a", &why), -1);
	assert_int_equal(bw_input_pattern_check("a)(b", &why), -1);
	assert_int_equal(bw_input_pattern_check("(a)\\1", &why), -1);
	assert_contains(why, "back-reference");
	assert_int_equal(bw_input_pattern_check("((a{200}){200}){200}", &why), -1);
	assert_contains(why, "repetition");
	assert_int_equal(bw_input_pattern_check("a{1000}", &why), -1);
	assert_int_equal(bw_input_pattern_check("", &why), -1);
	char longp[300];
	memset(longp, 'a', 257);
	longp[257] = '\0';
	assert_int_equal(bw_input_pattern_check(longp, &why), -1);
	longp[256] = '\0';
	assert_int_equal(bw_input_pattern_check(longp, &why), 0);
	r.pattern = "(a";
	assert_int_equal(bw_input_validate(&r, "a", 1, &res), BW_INVALID);
}

static void test_input_bounds(void **state)
{
	(void)state;
	struct bw_input_rule r = {.kind = BW_INPUT_PATTERN, .pattern = ".*"};
	char big[BW_INPUT_MAX + 2];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_false(check(&r, big));
	assert_contains(res.reason, "1024");
	big[BW_INPUT_MAX] = '\0';
	assert_true(check(&r, big));
	/* Not text: invalid UTF-8, NUL. */
	assert_false(check(&r, "\xc3\x28"));
	assert_int_equal(bw_input_validate(&r, "a\0b", 3, &res), BW_OK);
	assert_false(res.valid);
	assert_int_equal(bw_input_kind_parse("PhoneNumber"), BW_INPUT_PHONE_NUMBER);
	assert_int_equal(bw_input_kind_parse("Luhn"), BW_INPUT_LUHN);
	assert_int_equal(bw_input_kind_parse("phonenumber"), -1);
	assert_string_equal(bw_input_kind_name(BW_INPUT_DATE), "Date");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_phone_with_country_code),
		cmocka_unit_test(test_phone_national_with_region),
		cmocka_unit_test(test_phone_invalid),
		cmocka_unit_test(test_phone_not_nul_terminated),
		cmocka_unit_test(test_digits),
		cmocka_unit_test(test_luhn),
		cmocka_unit_test(test_date),
		cmocka_unit_test(test_pattern),
		cmocka_unit_test(test_input_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
