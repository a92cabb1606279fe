/* The contact filter's configuration (src/fraud/filter.c): the defaults of
 * docs/api.md, its JSON, reading stored text back, and the text that gives
 * the defaults instead. */
#include "test_common.h"

#include <stdlib.h>

#include "fraud/fraud.h"

static const char defaults_json[] =
    "{\"enabled\": true, \"dry_run\": false, \"rules\": ["
    "{\"identifier\": \"ADDRESS\", \"limit\": 20, \"window_s\": 600, \"deny_s\": 3600}, "
    "{\"identifier\": \"NUMBER\", \"limit\": 5, \"window_s\": 3600, \"deny_s\": 3600}, "
    "{\"identifier\": \"EMAIL\", \"limit\": 10, \"window_s\": 3600, \"deny_s\": 3600}]}";

static void assert_json_equal(json_t *got, const char *want_text)
{
	json_t *want = json_loads(want_text, 0, NULL);
	assert_non_null(want);
	assert_non_null(got);
	if (!json_equal(got, want)) {
		char *g = json_dumps(got, JSON_COMPACT);
		fail_msg("got %s, want %s", g ? g : "?", want_text);
	}
	json_decref(want);
}

static void assert_defaults(const struct bw_fraud_filter *f)
{
	json_t *j = bw_fraud_filter_json(f);
	assert_json_equal(j, defaults_json);
	json_decref(j);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(bw_fraud_rule_name(BW_FRAUD_ADDRESS), "ADDRESS");
	assert_string_equal(bw_fraud_rule_name(BW_FRAUD_NUMBER), "NUMBER");
	assert_string_equal(bw_fraud_rule_name(BW_FRAUD_EMAIL), "EMAIL");
	assert_string_equal(bw_fraud_rule_name(BW_FRAUD_KINDS), "?");
	for (int k = 0; k < BW_FRAUD_KINDS; k++)
		assert_int_equal(bw_fraud_rule_parse(bw_fraud_rule_name(k)), k);
	/* Rule identifiers are not deny-list types: "IP" is not one of them. */
	assert_int_equal(bw_fraud_rule_parse("IP"), -1);
	assert_int_equal(bw_fraud_rule_parse("address"), -1);
	assert_int_equal(bw_fraud_rule_parse(""), -1);
	assert_int_equal(bw_fraud_rule_parse(NULL), -1);
}

static void test_defaults(void **state)
{
	(void)state;
	struct bw_fraud_filter f;
	memset(&f, 0xff, sizeof(f));
	bw_fraud_filter_defaults(&f);
	assert_true(f.enabled);
	assert_false(f.dry_run);
	assert_int_equal(f.nrules, 3);
	assert_int_equal(f.rules[0].kind, BW_FRAUD_ADDRESS);
	assert_int_equal(f.rules[0].limit, 20);
	assert_int_equal(f.rules[0].window_s, 600);
	assert_int_equal(f.rules[0].deny_s, 3600);
	assert_int_equal(f.rules[1].kind, BW_FRAUD_NUMBER);
	assert_int_equal(f.rules[1].limit, 5);
	assert_int_equal(f.rules[2].kind, BW_FRAUD_EMAIL);
	assert_int_equal(f.rules[2].limit, 10);
	assert_defaults(&f);
}

static void test_round_trip(void **state)
{
	(void)state;
	static const char *const texts[] = {
	    "{\"enabled\":false,\"dry_run\":true,\"rules\":[]}",
	    "{\"enabled\":true,\"dry_run\":true,\"rules\":[{\"identifier\":\"EMAIL\",\"limit\":1,"
	    "\"window_s\":1,\"deny_s\":0}]}",
	    "{\"enabled\":true,\"dry_run\":false,\"rules\":[{\"identifier\":\"NUMBER\",\"limit\":"
	    "10000,\"window_s\":86400,\"deny_s\":2592000},{\"identifier\":\"ADDRESS\",\"limit\":3,"
	    "\"window_s\":60,\"deny_s\":60}]}",
	};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct bw_fraud_filter f;
		bw_fraud_filter_parse(texts[i], &f);
		json_t *j = bw_fraud_filter_json(&f);
		assert_json_equal(j, texts[i]); /* order of the rules kept */
		char *again = json_dumps(j, JSON_COMPACT);
		struct bw_fraud_filter g;
		bw_fraud_filter_parse(again, &g);
		assert_int_equal(g.nrules, f.nrules);
		assert_memory_equal(g.rules, f.rules, sizeof(f.rules[0]) * f.nrules);
		free(again);
		json_decref(j);
	}
	struct bw_fraud_filter f;
	bw_fraud_filter_parse(texts[2], &f);
	assert_int_equal(f.nrules, 2);
	assert_int_equal(f.rules[0].kind, BW_FRAUD_NUMBER);
	assert_int_equal(f.rules[0].deny_s, 2592000);
	assert_int_equal(f.rules[1].kind, BW_FRAUD_ADDRESS);
	assert_int_equal(f.rules[1].window_s, 60);
}

/* Whatever is not a whole, valid filter reads as the defaults. */
static void test_bad_text_gives_defaults(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "",
	    "not json",
	    "[]",
	    "{}",
	    "{\"enabled\":true,\"dry_run\":false}",
	    "{\"enabled\":1,\"dry_run\":false,\"rules\":[]}",
	    "{\"enabled\":true,\"dry_run\":false,\"rules\":{}}",
	    "{\"enabled\":true,\"dry_run\":false,\"rules\":[{\"identifier\":\"IP\",\"limit\":1,"
	    "\"window_s\":1,\"deny_s\":0}]}",
	    "{\"enabled\":true,\"dry_run\":false,\"rules\":[{\"identifier\":\"EMAIL\",\"limit\":0,"
	    "\"window_s\":1,\"deny_s\":0}]}",
	    "{\"enabled\":true,\"dry_run\":false,\"rules\":[{\"identifier\":\"EMAIL\",\"limit\":1,"
	    "\"window_s\":86401,\"deny_s\":0}]}",
	    "{\"enabled\":true,\"dry_run\":false,\"rules\":[{\"identifier\":\"EMAIL\",\"limit\":1,"
	    "\"window_s\":1,\"deny_s\":2592001}]}",
	    "{\"enabled\":true,\"dry_run\":false,\"rules\":[{\"identifier\":\"EMAIL\","
	    "\"limit\":1.0,\"window_s\":1,\"deny_s\":1}]}",
	    "{\"enabled\":true,\"dry_run\":false,\"rules\":[{\"identifier\":\"EMAIL\",\"limit\":1,"
	    "\"window_s\":1}]}",
	    "{\"enabled\":true,\"dry_run\":false,\"rules\":[{\"identifier\":\"EMAIL\",\"limit\":1,"
	    "\"window_s\":1,\"deny_s\":1},{\"identifier\":\"EMAIL\",\"limit\":2,\"window_s\":1,"
	    "\"deny_s\":1}]}",
	    "{\"enabled\":false,\"enabled\":true,\"dry_run\":false,\"rules\":[]}",
	    "{\"enabled\":true,\"dry_run\":false,\"rules\":[1,2,3,4]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct bw_fraud_filter f;
		memset(&f, 0, sizeof(f));
		bw_fraud_filter_parse(bad[i], &f);
		assert_defaults(&f);
	}
	struct bw_fraud_filter f;
	memset(&f, 0, sizeof(f));
	bw_fraud_filter_parse(NULL, &f);
	assert_defaults(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_bad_text_gives_defaults),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
