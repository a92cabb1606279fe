/* fuzz_flow: flow documents (src/flow/) through the strict body decoder and
 * the validator. Besides not crashing: every error names a non-empty path
 * and a message, at most BW_FLOW_MAX_ERRORS are listed, the graph is built
 * exactly when the document is valid and every branch of it lands on an
 * action, and a valid document is still valid after a JSON round trip. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "flow/flow.h"
#include "flow/flow_int.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", #cond, __FILE__,    \
			        __LINE__);                                                         \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static void check_errors(const json_t *errs)
{
	CHECK(json_is_array(errs));
	CHECK(json_array_size(errs) <= BW_FLOW_MAX_ERRORS);
	size_t i;
	json_t *e;
	json_array_foreach(errs, i, e)
	{
		const char *p = json_string_value(json_object_get(e, "path"));
		const char *m = json_string_value(json_object_get(e, "message"));
		CHECK(p != NULL && p[0] != '\0');
		CHECK(m != NULL && m[0] != '\0');
	}
}

static void check_graph(const struct bw_flow *f)
{
	CHECK(f->nactions >= 1 && f->nactions <= BW_FLOW_MAX_ACTIONS);
	CHECK(f->start >= 0 && (size_t)f->start < f->nactions);
	for (size_t i = 0; i < f->nactions; i++) {
		const struct bw_flow_action *a = &f->actions[i];
		CHECK(a->id != NULL && a->type != NULL && json_is_object(a->params));
		CHECK(a->next >= -1 && a->next < (int)f->nactions);
		for (size_t k = 0; k < a->nconds; k++)
			CHECK(a->conds[k].target >= 0 && a->conds[k].target < (int)f->nactions);
		for (size_t k = 0; k < a->nerrs; k++)
			CHECK(a->errs[k].target >= 0 && a->errs[k].target < (int)f->nactions);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t n)
{
	const char *why = NULL;
	json_t *doc = bw_json_parse((const char *)buf, n, &why);
	if (!doc)
		return 0;
	json_t *errs = bw_flow_validate(doc);
	CHECK(errs != NULL);
	check_errors(errs);
	bool valid = json_array_size(errs) == 0;
	struct bw_flow *f = NULL;
	json_t *errs2 = NULL;
	bw_result r = bw_flow_load(doc, &f, &errs2);
	CHECK(r == (valid ? BW_OK : BW_INVALID));
	CHECK(valid ? f != NULL && errs2 == NULL : f == NULL && errs2 != NULL);
	if (!valid)
		CHECK(json_equal(errs, errs2)); /* deterministic */
	if (f)
		check_graph(f);
	bw_flow_free(f);
	json_decref(errs2);
	if (valid) {
		char *text = json_dumps(doc, JSON_COMPACT);
		CHECK(text != NULL);
		json_t *again = bw_json_parse(text, strlen(text), &why);
		CHECK(again != NULL);
		json_t *e = bw_flow_validate(again);
		CHECK(e != NULL && json_array_size(e) == 0);
		json_decref(e);
		json_decref(again);
		free(text);
	}
	json_decref(errs);
	json_decref(doc);
	return 0;
}
