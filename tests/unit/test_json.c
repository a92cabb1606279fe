/* The strict body decoder (src/core/json.c): the depth cap, strings and
 * escapes not counted as nesting, duplicates, UTF-8, trailing bytes. */
#include "test_common.h"

#include <stdlib.h>

#include "core/json.h"

static char *nested(int depth, const char *open, const char *close, const char *inner)
{
	size_t ol = strlen(open), cl = strlen(close), il = strlen(inner);
	char *s = malloc((size_t)depth * (ol + cl) + il + 1);
	assert_non_null(s);
	size_t n = 0;
	for (int i = 0; i < depth; i++, n += ol)
		memcpy(s + n, open, ol);
	memcpy(s + n, inner, il);
	n += il;
	for (int i = 0; i < depth; i++, n += cl)
		memcpy(s + n, close, cl);
	s[n] = '\0';
	return s;
}

static json_t *parse(const char *s, const char **why)
{
	*why = NULL;
	return bw_json_parse(s, strlen(s), why);
}

static void test_depth_cap_arrays(void **state)
{
	(void)state;
	const char *why;
	char *ok = nested(BW_JSON_MAX_DEPTH, "[", "]", "");
	char *deep = nested(BW_JSON_MAX_DEPTH + 1, "[", "]", "");
	assert_int_equal(BW_JSON_MAX_DEPTH, 32);
	assert_int_equal(bw_json_depth_ok(ok, strlen(ok), 32), 0);
	assert_int_equal(bw_json_depth_ok(deep, strlen(deep), 32), -1);
	json_t *v = parse(ok, &why);
	assert_non_null(v);
	json_decref(v);
	assert_null(parse(deep, &why));
	assert_string_equal(why, "JSON nested too deeply");
	free(ok);
	free(deep);
}

static void test_depth_cap_objects(void **state)
{
	(void)state;
	const char *why;
	/* 31 objects around one array: 32 levels; one more object: 33. */
	char *ok = nested(31, "{\"a\":", "}", "[]");
	char *deep = nested(32, "{\"a\":", "}", "[]");
	json_t *v = parse(ok, &why);
	assert_non_null(v);
	json_decref(v);
	assert_null(parse(deep, &why));
	assert_string_equal(why, "JSON nested too deeply");
	free(ok);
	free(deep);
}

static void test_depth_siblings(void **state)
{
	(void)state;
	/* Depth, not the count of brackets: 40 arrays side by side. */
	char s[256];
	size_t n = 0;
	s[n++] = '[';
	for (int i = 0; i < 40; i++) {
		if (i)
			s[n++] = ',';
		s[n++] = '[';
		s[n++] = ']';
	}
	s[n++] = ']';
	s[n] = '\0';
	const char *why;
	json_t *v = parse(s, &why);
	assert_non_null(v);
	assert_int_equal(json_array_size(v), 40);
	json_decref(v);
}

static void test_brackets_in_strings(void **state)
{
	(void)state;
	const char *why;
	/* 40 brackets inside a string are text, not nesting. */
	char *inner = nested(40, "[", "", "");
	char s[256];
	snprintf(s, sizeof(s), "{\"a\":\"%s{{{{\"}", inner);
	assert_int_equal(bw_json_depth_ok(s, strlen(s), 32), 0);
	json_t *v = parse(s, &why);
	assert_non_null(v);
	assert_int_equal(strlen(bw_json_str(v, "a")), 44);
	json_decref(v);

	/* An escaped quote does not end the string: the brackets after it are
	 * still text. */
	snprintf(s, sizeof(s), "[\"\\\"%s\", 1]", inner);
	assert_int_equal(bw_json_depth_ok(s, strlen(s), 32), 0);
	v = parse(s, &why);
	assert_non_null(v);
	json_decref(v);
	free(inner);

	/* An escaped backslash does end the string: 32 real levels follow
	 * inside the outer array, 33 in all. */
	char *deep = nested(32, "[", "]", "");
	snprintf(s, sizeof(s), "[\"\\\\\",%s]", deep);
	assert_int_equal(bw_json_depth_ok(s, strlen(s), 32), -1);
	assert_null(parse(s, &why));
	assert_string_equal(why, "JSON nested too deeply");
	free(deep);
}

static void test_duplicates(void **state)
{
	(void)state;
	const char *why;
	assert_null(parse("{\"a\":1,\"a\":2}", &why));
	assert_string_equal(why, "request body is not valid JSON");
	assert_null(parse("{\"x\":{\"b\":1,\"b\":1}}", &why));
	assert_null(parse("[{\"k\":1},{\"k\":2,\"k\":3}]", &why));
	/* The same key in sibling objects is fine. */
	json_t *v = parse("[{\"k\":1},{\"k\":2}]", &why);
	assert_non_null(v);
	json_decref(v);
}

static void test_utf8(void **state)
{
	(void)state;
	const char *why;
	assert_null(parse("{\"a\":\"\xff\"}", &why));
	assert_null(parse("{\"a\":\"\xc0\xaf\"}", &why));     /* overlong "/" */
	assert_null(parse("{\"a\":\"\xed\xa0\x80\"}", &why)); /* a surrogate */
	assert_null(parse("{\"a\":\"\xe2\x82\"}", &why));     /* cut short */
	assert_null(parse("{\"\xff\":1}", &why));             /* in a key */
	json_t *v = parse("{\"a\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}", &why);
	assert_non_null(v);
	assert_string_equal(bw_json_str(v, "a"), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	json_decref(v);
}

static void test_trailing_and_nul(void **state)
{
	(void)state;
	const char *why;
	assert_null(parse("{\"a\":1} x", &why));
	assert_null(parse("{\"a\":1}{}", &why));
	assert_null(parse("{\"a\":1},", &why));
	assert_null(parse("{\"a\":\"\\u0000\"}", &why)); /* no NUL in strings */
	/* A raw NUL after the value, inside the length given. */
	assert_null(bw_json_parse("{\"a\":1}\0", 8, &why));
	assert_null(parse("{\"a\":1", &why));
	assert_null(parse("", &why));
	json_t *v = parse(" {\"a\":1}\r\n\t ", &why); /* white space is not garbage */
	assert_non_null(v);
	json_decref(v);
	/* The length is honoured: bytes past it are not read. */
	v = bw_json_parse("{\"a\":1}garbage", 7, &why);
	assert_non_null(v);
	json_decref(v);
}

static void test_str_getter(void **state)
{
	(void)state;
	const char *why;
	json_t *v = parse("{\"s\":\"x\",\"n\":1,\"z\":null}", &why);
	assert_non_null(v);
	assert_string_equal(bw_json_str(v, "s"), "x");
	assert_null(bw_json_str(v, "n"));
	assert_null(bw_json_str(v, "z"));
	assert_null(bw_json_str(v, "missing"));
	assert_null(bw_json_str(NULL, "s"));
	json_decref(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_depth_cap_arrays), cmocka_unit_test(test_depth_cap_objects),
	    cmocka_unit_test(test_depth_siblings),   cmocka_unit_test(test_brackets_in_strings),
	    cmocka_unit_test(test_duplicates),       cmocka_unit_test(test_utf8),
	    cmocka_unit_test(test_trailing_and_nul), cmocka_unit_test(test_str_getter),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
