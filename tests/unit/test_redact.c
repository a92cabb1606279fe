/* PII redaction (C13, src/sec/redact.c) and classification
 * (src/sec/classify.c): data-driven cases of what must be found and what
 * must be left alone (order numbers, dates, Luhn-invalid numbers,
 * addresses, versions), idempotence, the size bound, the phone budget;
 * class names, maps and masks. */
#include "test_common.h"

#include <stdio.h>
#include <stdlib.h>

#include "sec/classify.h"
#include "sec/redact.h"

static char *redact(const char *in, const char *region, unsigned counts[BW_PII_KINDS])
{
	size_t n = 0;
	char *out = bw_redact(in, strlen(in), region, &n, counts);
	assert_non_null(out);
	assert_int_equal(strlen(out), n);
	assert_true(n <= BW_REDACT_BOUND(strlen(in)));
	/* Idempotent: nothing is left to find. */
	size_t n2 = 0;
	unsigned again[BW_PII_KINDS] = {0};
	char *twice = bw_redact(out, n, region, &n2, again);
	assert_non_null(twice);
	if (strcmp(out, twice) != 0)
		fail_msg("not idempotent: \"%s\" -> \"%s\" -> \"%s\"", in, out, twice);
	for (int k = 0; k < BW_PII_KINDS; k++)
		assert_int_equal(again[k], 0);
	free(twice);
	return out;
}

struct tcase {
	const char *in, *want, *region;
};

static void run_cases(const struct tcase *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *out = redact(c[i].in, c[i].region ? c[i].region : "US", NULL);
		if (strcmp(out, c[i].want) != 0)
			fail_msg("case %zu: \"%s\" -> \"%s\", want \"%s\"", i, c[i].in, out, c[i].want);
		free(out);
	}
}

static void test_cards(void **state)
{
	(void)state;
	static const struct tcase c[] = {
	    {"card 4111 1111 1111 1111 thanks", "card [CARD] thanks", NULL},
	    {"4111-1111-1111-1111", "[CARD]", NULL},
	    {"4111111111111111", "[CARD]", NULL},
	    {"amex 3782 822463 10005.", "amex [CARD].", NULL},
	    {"mc 5555555555554444, exp 12/27", "mc [CARD], exp 12/27", NULL},
	    {"2223003122003222", "[CARD]", NULL},            /* Mastercard 2-series */
	    {"6011 1111 1111 1117", "[CARD]", NULL},         /* Discover */
	    {"4929 1234 5678 7134 12", "[CARD] 12", NULL},   /* a trailing group stays */
	    {"cvv 123 4111 1111 1111 1111", "cvv 123 [CARD]", NULL},
	    {"(4111111111111111)", "([CARD])", NULL},
	    /* Luhn-invalid, no issuer prefix, too short or too long: left alone. */
	    {"4111 1111 1111 1112", "4111 1111 1111 1112", NULL},
	    {"1234 5678 9012 3452", "1234 5678 9012 3452", NULL},
	    {"7992739871312345", "7992739871312345", NULL},
	    {"411111111111", "411111111111", NULL},
	    {"41111111111111111111", "41111111111111111111", NULL},
	    /* Glued to a word, or a code with dashes: not a card. */
	    {"x4111111111111111", "x4111111111111111", NULL},
	    {"4111111111111111abc", "4111111111111111abc", NULL},
	    {"SKU-4111-1111-1111-1111", "SKU-4111-1111-1111-1111", NULL},
	};
	run_cases(c, sizeof(c) / sizeof(c[0]));
}

static void test_ssn(void **state)
{
	(void)state;
	static const struct tcase c[] = {
	    {"ssn 123-45-6789", "ssn [SSN]", NULL},
	    {"my SSN is 078 05 1120.", "my SSN is [SSN].", NULL},
	    {"123-45-6789 and 234-56-7890", "[SSN] and [SSN]", NULL},
	    /* Invalid ranges. */
	    {"000-12-3456", "000-12-3456", NULL},
	    {"666-12-3456", "666-12-3456", NULL},
	    {"900-12-3456", "900-12-3456", NULL},
	    {"123-00-4567", "123-00-4567", NULL},
	    {"123-45-0000", "123-45-0000", NULL},
	    /* Other shapes. */
	    {"123-456-789", "123-456-789", NULL},
	    {"123-45-6789-0123", "123-45-6789-0123", NULL},
	    {"123-45 6789", "123-45 6789", NULL},
	    {"part 123-45-6789x", "part 123-45-6789x", NULL},
	};
	run_cases(c, sizeof(c) / sizeof(c[0]));
}

static void test_emails(void **state)
{
	(void)state;
	static const struct tcase c[] = {
	    {"write to ada@example.com please", "write to [EMAIL] please", NULL},
	    {"<ada.lovelace+cc@mail.example.co.uk>", "<[EMAIL]>", NULL},
	    {"a@b.co", "[EMAIL]", NULL},
	    {"Ada@Example.COM.", "[EMAIL].", NULL},
	    {"x@y.com,z@w.org", "[EMAIL],[EMAIL]", NULL},
	    {"2024561111@example.com", "[EMAIL]", NULL},
	    {"a@b@c.com", "a@[EMAIL]", NULL},
	    /* Not addresses. */
	    {"user@localhost", "user@localhost", NULL},
	    {"@example.com", "@example.com", NULL},
	    {"ada@example.c", "ada@example.c", NULL},
	    {"ada@example.c0m", "ada@example.c0m", NULL},
	    {"ada@-example.com", "ada@-example.com", NULL},
	    {"ada.@example.com", "ada.@example.com", NULL},
	    {"meet @ 5pm", "meet @ 5pm", NULL},
	};
	run_cases(c, sizeof(c) / sizeof(c[0]));
}

static void test_phones(void **state)
{
	(void)state;
	static const struct tcase c[] = {
	    {"call (202) 456-1111 today", "call [PHONE] today", NULL},
	    {"202-456-1111", "[PHONE]", NULL},
	    {"202.456.1111", "[PHONE]", NULL},
	    {"+1 202 456 1111", "[PHONE]", NULL},
	    {"+33 6 12 34 56 78 or 202 456 1111", "[PHONE] or [PHONE]", NULL},
	    {"tel:+442079460958", "tel:[PHONE]", NULL},
	    {"06 12 34 56 78", "[PHONE]", "FR"},
	    {"mon numéro: 01 23 45 67 89", "mon numéro: [PHONE]", "FR"},
	    {"06 12 34 56 78", "06 12 34 56 78", "US"}, /* not a US number */
	    {"2024561111.", "[PHONE].", NULL},
	    /* Order numbers, amounts, dates, times, addresses, versions. */
	    {"order 1234567 shipped", "order 1234567 shipped", NULL},
	    {"order #2024561111", "order #2024561111", NULL},
	    {"order A-2024561111", "order A-2024561111", NULL},
	    {"ref 98765432101", "ref 98765432101", NULL},
	    {"total $2024561111", "total $2024561111", NULL},
	    {"on 2026-12-25 at 10:30", "on 2026-12-25 at 10:30", NULL},
	    {"le 25.12.2026", "le 25.12.2026", "DE"},
	    {"2026 12 25", "2026 12 25", "DE"},
	    {"from 10.20.30.40", "from 10.20.30.40", "FR"},
	    {"http://x.example/2024561111", "http://x.example/2024561111", NULL},
	    {"1 000 000", "1 000 000", NULL},
	    {"12", "12", NULL},
	    {"", "", NULL},
	};
	run_cases(c, sizeof(c) / sizeof(c[0]));
}

static void test_mixed_and_counts(void **state)
{
	(void)state;
	unsigned counts[BW_PII_KINDS] = {0};
	char *out = redact("Ada, ada@example.com, 202-456-1111, 4111 1111 1111 1111, 123-45-6789, "
	                   "order 1234567",
	                   "US", counts);
	assert_string_equal(out, "Ada, [EMAIL], [PHONE], [CARD], [SSN], order 1234567");
	assert_int_equal(counts[BW_PII_CARD], 1);
	assert_int_equal(counts[BW_PII_SSN], 1);
	assert_int_equal(counts[BW_PII_EMAIL], 1);
	assert_int_equal(counts[BW_PII_PHONE], 1);
	free(out);
	unsigned c2[BW_PII_KINDS] = {0};
	const char *two = "x@y.com 202 456 1111 and 202 456 2222";
	assert_true(bw_redact_count(two, strlen(two), "US", c2));
	assert_int_equal(c2[BW_PII_EMAIL], 1);
	assert_true(c2[BW_PII_PHONE] >= 1);
	/* Without a region only +CC numbers are read. */
	out = redact("202 456 1111 / +1 202 456 1111", NULL, NULL);
	assert_string_equal(out, "202 456 1111 / [PHONE]");
	free(out);
	/* Text is not NUL-terminated: n bounds it. */
	size_t n;
	out = bw_redact("4111111111111111XYZ", 16, "US", &n, NULL);
	assert_string_equal(out, "[CARD]");
	free(out);
	/* UTF-8 around findings is kept. */
	out = redact("\xc3\xa9 ada@example.com \xe2\x82\xac", "US", NULL);
	assert_string_equal(out, "\xc3\xa9 [EMAIL] \xe2\x82\xac");
	free(out);
}

static void test_budget(void **state)
{
	(void)state;
	/* A wall of digit groups: past the budget, long runs are phones unchecked,
	 * the rest (and cards) as usual, and a second pass finds nothing. */
	char in[2048];
	size_t o = 0;
	o += (size_t)snprintf(in + o, sizeof(in) - o, "4111 1111 1111 1111 x ");
	for (int i = 0; i < 120; i++)
		o += (size_t)snprintf(in + o, sizeof(in) - o, "%02d ", i % 100);
	o += (size_t)snprintf(in + o, sizeof(in) - o, "x 12 34");
	unsigned counts[BW_PII_KINDS] = {0};
	char *out = redact(in, "US", counts);
	assert_contains(out, "[CARD] x [PHONE] x 12 34");
	assert_int_equal(counts[BW_PII_CARD], 1);
	assert_int_equal(counts[BW_PII_PHONE], 1);
	free(out);
	/* The bound holds for text of addresses only. */
	char many[600];
	o = 0;
	while (o + 7 < sizeof(many))
		o += (size_t)snprintf(many + o, sizeof(many) - o, "a@b.co ");
	out = redact(many, "US", NULL);
	assert_true(strlen(out) > strlen(many));
	free(out);
}

static void test_modes(void **state)
{
	(void)state;
	assert_int_equal(bw_redact_mode_parse("off"), BW_REDACT_OFF);
	assert_int_equal(bw_redact_mode_parse("stored"), BW_REDACT_STORED);
	assert_int_equal(bw_redact_mode_parse("agents"), BW_REDACT_AGENTS);
	assert_int_equal(bw_redact_mode_parse("both"), BW_REDACT_BOTH);
	assert_int_equal(bw_redact_mode_parse("Both"), -1);
	assert_int_equal(bw_redact_mode_parse(NULL), -1);
	assert_true(bw_redact_stored(BW_REDACT_BOTH) && bw_redact_agents(BW_REDACT_BOTH));
	assert_true(bw_redact_stored(BW_REDACT_STORED) && !bw_redact_agents(BW_REDACT_STORED));
	assert_true(!bw_redact_stored(BW_REDACT_AGENTS) && bw_redact_agents(BW_REDACT_AGENTS));
	assert_string_equal(bw_pii_name(BW_PII_SSN), "SSN");
}

static void test_classes(void **state)
{
	(void)state;
	assert_int_equal(bw_class_parse("public"), BW_CLASS_PUBLIC);
	assert_int_equal(bw_class_parse("restricted"), BW_CLASS_RESTRICTED);
	assert_int_equal(bw_class_parse("Sensitive"), -1);
	json_t *inst = json_pack("{s:s, s:s}", "card", "restricted", "note", "public");
	json_t *flow = json_object();
	assert_int_equal(bw_class_of(NULL, "x"), BW_CLASS_INTERNAL);
	assert_int_equal(bw_class_raise(flow, "cb", BW_CLASS_SENSITIVE), 0);
	assert_int_equal(bw_class_raise(flow, "cb", BW_CLASS_PUBLIC), 0); /* never lowered */
	assert_int_equal(bw_class_of(flow, "cb"), BW_CLASS_SENSITIVE);
	assert_int_equal(bw_class_raise(flow, "card", BW_CLASS_SENSITIVE), 0);
	assert_int_equal(bw_class_max(inst, flow, "card"), BW_CLASS_RESTRICTED);
	assert_int_equal(bw_class_max(inst, flow, "note"), BW_CLASS_PUBLIC);

	json_t *attrs = json_pack("{s:s, s:s, s:s, s:s, s:s}", "cb", "+12024561111", "card",
	                          "4111111111111111", "note", "hi", "plain", "x", "short", "1234");
	assert_int_equal(bw_class_raise(flow, "short", BW_CLASS_SENSITIVE), 0);
	json_t *m = bw_class_map(attrs, inst, flow);
	char *s = json_dumps(m, JSON_SORT_KEYS | JSON_COMPACT);
	assert_string_equal(s, "{\"card\":\"restricted\",\"cb\":\"sensitive\",\"note\":\"public\","
	                       "\"plain\":\"internal\",\"short\":\"sensitive\"}");
	free(s);
	json_decref(m);

	const char *B8 = "\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2"
	                 "\xe2\x80\xa2\xe2\x80\xa2";
	char want[64];
	json_t *masked = bw_class_mask_attrs(attrs, inst, flow, false);
	snprintf(want, sizeof(want), "%s1111", B8);
	assert_string_equal(json_string_value(json_object_get(masked, "cb")), want);
	assert_string_equal(json_string_value(json_object_get(masked, "card")), B8);
	assert_string_equal(json_string_value(json_object_get(masked, "short")), B8);
	assert_string_equal(json_string_value(json_object_get(masked, "note")), "hi");
	assert_string_equal(json_string_value(json_object_get(masked, "plain")), "x");
	json_decref(masked);
	masked = bw_class_mask_attrs(attrs, inst, flow, true);
	assert_string_equal(json_string_value(json_object_get(masked, "cb")), "+12024561111");
	assert_string_equal(json_string_value(json_object_get(masked, "card")), B8); /* never */
	json_decref(masked);

	char out[BW_MASK_MAX];
	const char *fr = "caf\xc3\xa9 au lait \xc3\xa9t\xc3\xa9";
	bw_mask(fr, strlen(fr), true, out, sizeof(out));
	assert_string_equal(out, B8); /* a non-ASCII end is not shown */
	json_decref(attrs);
	json_decref(inst);
	json_decref(flow);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cards),   cmocka_unit_test(test_ssn),
	    cmocka_unit_test(test_emails),  cmocka_unit_test(test_phones),
	    cmocka_unit_test(test_mixed_and_counts), cmocka_unit_test(test_budget),
	    cmocka_unit_test(test_modes),   cmocka_unit_test(test_classes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
