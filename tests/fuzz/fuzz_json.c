/* fuzz_json: the strict body decoder (src/core/json.c). Besides not
 * crashing: the depth pre-check and the parser must agree (too deep means no
 * value), a value that parses is at most BW_JSON_MAX_DEPTH deep, is an object
 * or array (nothing trailing, no bare scalars), and survives a round trip. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

#include "fuzz_check.h"

/* Nesting depth counting every array and object level. */
static int depth_of(const json_t *v)
{
	int max = 0;
	if (json_is_object(v)) {
		const char *k;
		json_t *m;
		json_object_foreach((json_t *)v, k, m)
		{
			int d = depth_of(m);
			if (d > max)
				max = d;
		}
		return max + 1;
	}
	if (json_is_array(v)) {
		size_t i;
		json_t *m;
		json_array_foreach(v, i, m)
		{
			int d = depth_of(m);
			if (d > max)
				max = d;
		}
		return max + 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t n)
{
	const char *s = (const char *)buf;
	const char *why = NULL;
	int deep = bw_json_depth_ok(s, n, BW_JSON_MAX_DEPTH);
	json_t *v = bw_json_parse(s, n, &why);
	if (deep != 0)
		CHECK(v == NULL);
	if (!v) {
		CHECK(why != NULL && why[0] != '\0');
		return 0;
	}
	CHECK(json_is_object(v) || json_is_array(v));
	CHECK(depth_of(v) <= BW_JSON_MAX_DEPTH);
	char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	CHECK(text != NULL);
	const char *why2 = NULL;
	json_t *again = bw_json_parse(text, strlen(text), &why2);
	CHECK(again != NULL && json_equal(v, again));
	json_decref(again);
	free(text);
	json_decref(v);
	return 0;
}
