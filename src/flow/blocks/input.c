/* The customer's input: GetParticipantInput waits for it and stores it as
 * $.StoredCustomerInput; ValidateInput checks it (C16); StoreCustomerInput
 * encrypts it to an integrator's key (C15; it runs with the engine). */
#include <stdlib.h>
#include <string.h>

#include "flow/flow_int.h"

#define DEFAULT_INPUT_TIME_LIMIT_S 300

static int gpi_validate(struct bw_flow_check *ck, const struct bw_flow_action *a,
                        const char *path)
{
	static const char *const fields[] = {"Text", "StoreInput", "InputTimeLimitSeconds", NULL};
	const char *text;
	bool store = true;
	long limit = DEFAULT_INPUT_TIME_LIMIT_S;
	int bad = bw_flow__only(ck, a->params, path, fields);
	bad |= bw_flow__str(ck, a->params, "Text", path, 1, BW_FLOW_MAX_TEXT, false, &text);
	bad |= bw_flow__int(ck, a->params, "InputTimeLimitSeconds", path, 1, 3600, false, &limit);
	if (bw_flow__bool(ck, a->params, "StoreInput", path, false, &store) != 0) {
		bad = -1;
	} else if (!store) {
		char p[BW_FLOW_PATH_MAX];
		bw_flow__path_key(p, sizeof(p), path, "StoreInput");
		bw_flow__error(ck, p, "only \"True\" is supported: the input is always stored");
		bad = -1;
	}
	return bad;
}

static struct bw_branch gpi_run(const struct bw_flow_exec *x, const struct bw_flow_action *a)
{
	if (!x->h->can_ask(x->ctx))
		return BW_BR_ERR("NoMatchingError");
	const char *text = json_string_value(json_object_get(a->params, "Text"));
	if (text)
		x->h->say(x->ctx, text);
	long limit = DEFAULT_INPUT_TIME_LIMIT_S;
	const json_t *l = json_object_get(a->params, "InputTimeLimitSeconds");
	if (json_is_integer(l))
		limit = (long)json_integer_value(l);
	else if (json_is_string(l))
		limit = strtol(json_string_value(l), NULL, 10);
	struct bw_branch b = BW_BR(BW_BR_WAIT);
	b.wait_s = limit;
	return b;
}

static const char *const gpi_errors[] = {"NoMatchingError", NULL};

const struct bw_block_type bw_block_get_participant_input = {
	.name = "GetParticipantInput",
	.flags = BW_BLOCK_WAITS | BW_BLOCK_GETS_INPUT,
	.error_types = gpi_errors,
	.validate = gpi_validate,
	.run = gpi_run,
};

static int vi_validate(struct bw_flow_check *ck, const struct bw_flow_action *a,
                       const char *path)
{
	static const char *const fields[] = {"Kind",    "DefaultRegion", "Min",      "Max",
	                                     "Pattern", "Attribute",     NULL};
	static const char *const kinds[] = {"PhoneNumber", "Digits", "Luhn", "Date", "Pattern",
	                                    NULL};
	const json_t *pr = a->params;
	char p[BW_FLOW_PATH_MAX];
	const char *kind, *region, *pattern, *attr;
	long min = -1, max = -1;
	int bad = bw_flow__only(ck, pr, path, fields);
	bad |= bw_flow__enum(ck, pr, "Kind", path, kinds, true, &kind);
	bad |= bw_flow__str(ck, pr, "Attribute", path, 1, 64, false, &attr);
	if (attr && !bw_flow__attr_name_ok(attr)) {
		bw_flow__path_key(p, sizeof(p), path, "Attribute");
		bw_flow__error(ck, p, "an attribute name is 1 to 64 of letters, digits, '.', '_', '-'");
		bad = -1;
	}
	bad |= bw_flow__str(ck, pr, "DefaultRegion", path, 2, 2, false, &region);
	bad |= bw_flow__int(ck, pr, "Min", path, 0, BW_INPUT_MAX, false, &min);
	bad |= bw_flow__int(ck, pr, "Max", path, 0, BW_INPUT_MAX, false, &max);
	bad |= bw_flow__str(ck, pr, "Pattern", path, 1, BW_FLOW_MAX_PATTERN, false, &pattern);
	if (!kind)
		return -1;
	bool phone = !strcmp(kind, "PhoneNumber"), digits = !strcmp(kind, "Digits"),
	     pat = !strcmp(kind, "Pattern");
	if (json_object_get(pr, "DefaultRegion") && !phone) {
		bw_flow__path_key(p, sizeof(p), path, "DefaultRegion");
		bw_flow__error(ck, p, "only Kind PhoneNumber takes a DefaultRegion");
		bad = -1;
	} else if (region && !bw_input_region_ok(region)) {
		bw_flow__path_key(p, sizeof(p), path, "DefaultRegion");
		bw_flow__error(ck, p, "not a region code libphonenumber knows (ISO 3166 alpha-2, upper case)");
		bad = -1;
	}
	for (int i = 0; i < 2; i++) {
		const char *k = i ? "Max" : "Min";
		if (json_object_get(pr, k) && !digits) {
			bw_flow__path_key(p, sizeof(p), path, k);
			bw_flow__error(ck, p, "only Kind Digits takes %s", k);
			bad = -1;
		}
	}
	if (digits && min >= 0 && max >= 0 && min > max) {
		bw_flow__path_key(p, sizeof(p), path, "Min");
		bw_flow__error(ck, p, "Min is greater than Max");
		bad = -1;
	}
	bw_flow__path_key(p, sizeof(p), path, "Pattern");
	if (json_object_get(pr, "Pattern") && !pat) {
		bw_flow__error(ck, p, "only Kind Pattern takes a Pattern");
		bad = -1;
	} else if (pat && !json_object_get(pr, "Pattern")) {
		bw_flow__error(ck, p, "Kind Pattern needs a Pattern");
		bad = -1;
	} else if (pattern) {
		const char *why;
		if (bw_input_pattern_check(pattern, &why) != 0) {
			bw_flow__error(ck, p, "%s", why);
			bad = -1;
		}
	}
	return bad;
}

static struct bw_branch vi_run(const struct bw_flow_exec *x, const struct bw_flow_action *a)
{
	const json_t *pr = a->params;
	const char *in = x->h->ref(x->ctx, "$.StoredCustomerInput");
	struct bw_input_rule rule = {.min = -1, .max = -1};
	rule.kind = (enum bw_input_kind)bw_input_kind_parse(json_string_value(json_object_get(pr, "Kind")));
	rule.region = json_string_value(json_object_get(pr, "DefaultRegion"));
	if (!rule.region)
		rule.region = x->h->region(x->ctx);
	rule.pattern = json_string_value(json_object_get(pr, "Pattern"));
	for (int i = 0; i < 2; i++) {
		const json_t *v = json_object_get(pr, i ? "Max" : "Min");
		long n = json_is_integer(v) ? (long)json_integer_value(v)
		         : json_is_string(v) ? strtol(json_string_value(v), NULL, 10) : -1;
		*(i ? &rule.max : &rule.min) = (int)n;
	}
	if (!in)
		return BW_BR_ERR("InvalidInput");
	struct bw_input_result r;
	if (bw_input_validate(&rule, in, strlen(in), &r) != BW_OK)
		return BW_BR_ERR("NoMatchingError");
	if (!r.valid)
		return BW_BR_ERR("InvalidInput");
	const char *attr = json_string_value(json_object_get(pr, "Attribute"));
	if (attr && x->h->attr_set(x->ctx, attr, r.normalized) != 0)
		return BW_BR_ERR("NoMatchingError");
	return BW_BR(BW_BR_NEXT);
}

static const char *const vi_errors[] = {"InvalidInput", "NoMatchingError", NULL};

const struct bw_block_type bw_block_validate_input = {
	.name = "ValidateInput",
	.flags = BW_BLOCK_VALIDATES,
	.error_types = vi_errors,
	.required_error = "InvalidInput",
	.validate = vi_validate,
	.run = vi_run,
};

static int sci_validate(struct bw_flow_check *ck, const struct bw_flow_action *a,
                        const char *path)
{
	static const char *const fields[] = {"Attribute", "EncryptionKeyId", NULL};
	const char *attr, *key;
	int bad = bw_flow__only(ck, a->params, path, fields);
	bad |= bw_flow__ref_id(ck, a->params, "EncryptionKeyId", path, true, &key);
	bad |= bw_flow__str(ck, a->params, "Attribute", path, 1, 64, true, &attr);
	if (attr && !bw_flow__attr_name_ok(attr)) {
		char p[BW_FLOW_PATH_MAX];
		bw_flow__path_key(p, sizeof(p), path, "Attribute");
		bw_flow__error(ck, p, "an attribute name is 1 to 64 of letters, digits, '.', '_', '-'");
		bad = -1;
	}
	return bad;
}

/* The input, encrypted to the integrator's keys (C15): only the AWS
 * Encryption SDK message is kept; anything wrong takes NoMatchingError and
 * nothing is stored. */
static struct bw_branch sci_run(const struct bw_flow_exec *x, const struct bw_flow_action *a)
{
	const char *key = json_string_value(json_object_get(a->params, "EncryptionKeyId"));
	const char *attr = json_string_value(json_object_get(a->params, "Attribute"));
	if (!x->h->encrypt_input || !key || !attr || x->h->encrypt_input(x->ctx, key, attr) != 0)
		return BW_BR_ERR("NoMatchingError");
	return BW_BR(BW_BR_NEXT);
}

static const char *const sci_errors[] = {"NoMatchingError", NULL};

const struct bw_block_type bw_block_store_customer_input = {
	.name = "StoreCustomerInput",
	.flags = BW_BLOCK_READS_INPUT,
	.error_types = sci_errors,
	.validate = sci_validate,
	.run = sci_run,
};
