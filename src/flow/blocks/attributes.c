/* Contact attributes: UpdateContactAttributes sets them (literals or
 * references such as $.StoredCustomerInput) and classes them (C13);
 * Compare branches on a value. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/flow_int.h"
#include "sec/classify.h"

/* Classes: {name: "public"|"internal"|"sensitive"|"restricted"}, 1 to 32. */
static int classes_validate(struct bw_flow_check *ck, const json_t *classes, const char *path)
{
	char p[BW_FLOW_PATH_MAX], q[BW_FLOW_PATH_MAX];
	const char *k;
	json_t *v;
	int bad = 0;
	bw_flow__path_key(p, sizeof(p), path, "Classes");
	if (!json_is_object(classes) || json_object_size(classes) < 1 ||
	    json_object_size(classes) > BW_FLOW_MAX_ATTRIBUTES) {
		bw_flow__error(ck, p, "must be an object of 1 to %d attribute classes",
		               BW_FLOW_MAX_ATTRIBUTES);
		return -1;
	}
	json_object_foreach((json_t *)classes, k, v)
	{
		bw_flow__path_key(q, sizeof(q), p, k);
		if (!bw_flow__attr_name_ok(k)) {
			bw_flow__error(ck, q, "an attribute name is 1 to 64 of letters, digits, '.', '_', '-'");
			bad = -1;
		} else if (bw_class_parse(json_string_value(v)) < 0) {
			bw_flow__error(ck, q, "must be one of: public, internal, sensitive, restricted");
			bad = -1;
		}
	}
	return bad;
}

static int uca_validate(struct bw_flow_check *ck, const struct bw_flow_action *a,
                        const char *path)
{
	static const char *const fields[] = {"Attributes", "Classes", "TargetContact", NULL};
	static const char *const targets[] = {"Current", NULL};
	const char *target;
	char p[BW_FLOW_PATH_MAX], q[BW_FLOW_PATH_MAX];
	int bad = bw_flow__only(ck, a->params, path, fields);
	bad |= bw_flow__enum(ck, a->params, "TargetContact", path, targets, false, &target);
	const json_t *attrs = json_object_get(a->params, "Attributes");
	const json_t *classes = json_object_get(a->params, "Classes");
	if (classes)
		bad |= classes_validate(ck, classes, path);
	if (classes && !attrs)
		return bad; /* classes only: for attributes other blocks write */
	bw_flow__path_key(p, sizeof(p), path, "Attributes");
	if (!json_is_object(attrs) || json_object_size(attrs) < 1 ||
	    json_object_size(attrs) > BW_FLOW_MAX_ATTRIBUTES) {
		bw_flow__error(ck, p, "must be an object of 1 to %d attributes",
		               BW_FLOW_MAX_ATTRIBUTES);
		return -1;
	}
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)attrs, k, v)
	{
		bw_flow__path_key(q, sizeof(q), p, k);
		if (!bw_flow__attr_name_ok(k)) {
			bw_flow__error(ck, q, "an attribute name is 1 to 64 of letters, digits, '.', '_', '-'");
			bad = -1;
		} else if (bw_flow__value(ck, v, q) != 0) {
			bad = -1;
		}
	}
	return bad;
}

static struct bw_branch uca_run(const struct bw_flow_exec *x, const struct bw_flow_action *a)
{
	const char *k;
	json_t *v;
	/* Classes first: a value is never held under a lower class than asked. */
	json_object_foreach((json_t *)json_object_get(a->params, "Classes"), k, v)
	{
		if (!x->h->attr_class || x->h->attr_class(x->ctx, k, json_string_value(v)) != 0)
			return BW_BR_ERR("NoMatchingError");
	}
	json_object_foreach((json_t *)json_object_get(a->params, "Attributes"), k, v)
	{
		if (x->h->attr_set(x->ctx, k, bw_flow__resolve(x, v)) != 0)
			return BW_BR_ERR("NoMatchingError");
	}
	return BW_BR(BW_BR_NEXT);
}

static const char *const uca_errors[] = {"NoMatchingError", NULL};

const struct bw_block_type bw_block_update_contact_attributes = {
	.name = "UpdateContactAttributes",
	.flags = 0,
	.error_types = uca_errors,
	.validate = uca_validate,
	.run = uca_run,
};

/* A decimal number: [+-]digits[.digits], at most 32 characters (strtod
 * alone would take "nan", "inf", hex and leading spaces). */
static bool number_ok(const char *s)
{
	size_t n = strlen(s), i = 0, digits = 0;
	if (!n || n > 32)
		return false;
	if (s[i] == '+' || s[i] == '-')
		i++;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		digits++;
	if (i < n && s[i] == '.') {
		size_t frac = 0;
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			frac++;
		if (!frac)
			return false;
	}
	return digits && i == n;
}

static int cmp_validate(struct bw_flow_check *ck, const struct bw_flow_action *a,
                        const char *path)
{
	static const char *const fields[] = {"ComparisonValue", NULL};
	static const char *const ops[] = {"Equals",
	                                  "TextStartsWith",
	                                  "TextEndsWith",
	                                  "TextContains",
	                                  "NumberGreaterThan",
	                                  "NumberLessThan",
	                                  "NumberGreaterOrEqualTo",
	                                  "NumberLessOrEqualTo",
	                                  NULL};
	char p[BW_FLOW_PATH_MAX];
	int bad = bw_flow__only(ck, a->params, path, fields);
	bw_flow__path_key(p, sizeof(p), path, "ComparisonValue");
	const json_t *v = json_object_get(a->params, "ComparisonValue");
	if (!v) {
		bw_flow__error(ck, p, "this field is required");
		bad = -1;
	} else if (bw_flow__value(ck, v, p) != 0) {
		bad = -1;
	}
	char tpath[BW_FLOW_PATH_MAX];
	bw_flow__action_path(tpath, sizeof(tpath), path);
	if (bw_flow__conds(ck, a, path, ops) != 0)
		return -1;
	for (size_t i = 0; i < a->nconds; i++) {
		const struct bw_flow_cond *c = &a->conds[i];
		const char *operand = json_string_value(json_array_get(c->operands, 0));
		if (!strncmp(c->op, "Number", 6) && operand && !number_ok(operand)) {
			bw_flow__pathf(p, sizeof(p), "%s.Transitions.Conditions[%zu].Condition.Operands[0]",
			         tpath, i);
			bw_flow__error(ck, p, "a number operator needs a number");
			bad = -1;
		}
	}
	return bad;
}

static bool as_number(const char *s, double *out)
{
	char *end;
	if (!number_ok(s))
		return false;
	*out = strtod(s, &end);
	return true;
}

static bool holds(const char *op, const char *value, const char *operand)
{
	size_t vn = strlen(value), on = strlen(operand);
	if (!strcmp(op, "Equals"))
		return !strcmp(value, operand);
	if (!strcmp(op, "TextStartsWith"))
		return !strncmp(value, operand, on);
	if (!strcmp(op, "TextEndsWith"))
		return vn >= on && !strcmp(value + vn - on, operand);
	if (!strcmp(op, "TextContains"))
		return strstr(value, operand) != NULL;
	double a, b;
	if (!as_number(value, &a) || !as_number(operand, &b))
		return false;
	if (!strcmp(op, "NumberGreaterThan"))
		return a > b;
	if (!strcmp(op, "NumberLessThan"))
		return a < b;
	if (!strcmp(op, "NumberGreaterOrEqualTo"))
		return a >= b;
	return !strcmp(op, "NumberLessOrEqualTo") && a <= b;
}

static struct bw_branch cmp_run(const struct bw_flow_exec *x, const struct bw_flow_action *a)
{
	const char *value = bw_flow__resolve(x, json_object_get(a->params, "ComparisonValue"));
	for (size_t i = 0; i < a->nconds; i++) {
		const char *operand = bw_flow__resolve(x, json_array_get(a->conds[i].operands, 0));
		if (holds(a->conds[i].op, value, operand))
			return (struct bw_branch){.kind = BW_BR_COND, .cond = (int)i};
	}
	return BW_BR_ERR("NoMatchingCondition");
}

static const char *const cmp_errors[] = {"NoMatchingCondition", NULL};

const struct bw_block_type bw_block_compare = {
	.name = "Compare",
	.flags = BW_BLOCK_CONDITIONS,
	.error_types = cmp_errors,
	.validate = cmp_validate,
	.run = cmp_run,
};
