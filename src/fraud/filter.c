/* An instance's contact filter: the defaults of docs/api.md, and its JSON.
 * The stored text is what the API wrote after checking it, so reading is
 * all or nothing: text that is not a whole valid filter gives the defaults
 * (a filter half read could silently drop a rule). */
#include <string.h>

#include "fraud/fraud.h"

static const char *const rule_names[BW_FRAUD_KINDS] = {"ADDRESS", "NUMBER", "EMAIL"};

const char *bw_fraud_rule_name(enum bw_fraud_kind k)
{
	return (unsigned)k < BW_FRAUD_KINDS ? rule_names[k] : "?";
}

int bw_fraud_rule_parse(const char *s)
{
	for (int k = 0; s && k < BW_FRAUD_KINDS; k++)
		if (!strcmp(s, rule_names[k]))
			return k;
	return -1;
}

void bw_fraud_filter_defaults(struct bw_fraud_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->enabled = true;
	f->dry_run = false;
	f->nrules = 3;
	f->rules[0] = (struct bw_fraud_rule){BW_FRAUD_ADDRESS, 20, 600, 3600};
	f->rules[1] = (struct bw_fraud_rule){BW_FRAUD_NUMBER, 5, 3600, 3600};
	f->rules[2] = (struct bw_fraud_rule){BW_FRAUD_EMAIL, 10, 3600, 3600};
}

/* An integer member within [lo, hi]; false when absent or out of range. */
static bool int_in(const json_t *o, const char *key, int lo, int hi, int *out)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return false;
	*out = (int)json_integer_value(v);
	return true;
}

static bool rule_of(const json_t *o, struct bw_fraud_rule *r)
{
	int k = bw_fraud_rule_parse(json_string_value(json_object_get(o, "identifier")));
	if (!json_is_object(o) || k < 0)
		return false;
	r->kind = (enum bw_fraud_kind)k;
	return int_in(o, "limit", 1, 10000, &r->limit) &&
	       int_in(o, "window_s", 1, 86400, &r->window_s) &&
	       int_in(o, "deny_s", 0, 2592000, &r->deny_s);
}

static bool filter_of(const json_t *o, struct bw_fraud_filter *f)
{
	json_t *en = json_object_get(o, "enabled"), *dry = json_object_get(o, "dry_run");
	json_t *rules = json_object_get(o, "rules");
	size_t i;
	json_t *r;
	if (!json_is_boolean(en) || !json_is_boolean(dry) || !json_is_array(rules) ||
	    json_array_size(rules) > BW_FRAUD_KINDS)
		return false;
	memset(f, 0, sizeof(*f));
	f->enabled = json_is_true(en);
	f->dry_run = json_is_true(dry);
	json_array_foreach(rules, i, r)
	{
		struct bw_fraud_rule rule;
		if (!rule_of(r, &rule))
			return false;
		for (size_t j = 0; j < f->nrules; j++)
			if (f->rules[j].kind == rule.kind)
				return false; /* one rule per identifier */
		f->rules[f->nrules++] = rule;
	}
	return true;
}

void bw_fraud_filter_parse(const char *json_text, struct bw_fraud_filter *f)
{
	json_t *o = json_text ? json_loads(json_text, JSON_REJECT_DUPLICATES, NULL) : NULL;
	if (!json_is_object(o) || !filter_of(o, f))
		bw_fraud_filter_defaults(f);
	json_decref(o);
}

json_t *bw_fraud_filter_json(const struct bw_fraud_filter *f)
{
	json_t *rules = json_array();
	for (size_t i = 0; rules && i < f->nrules && i < BW_FRAUD_KINDS; i++) {
		const struct bw_fraud_rule *r = &f->rules[i];
		if (json_array_append_new(rules, json_pack("{s:s, s:i, s:i, s:i}", "identifier",
		                                           bw_fraud_rule_name(r->kind), "limit",
		                                           r->limit, "window_s", r->window_s,
		                                           "deny_s", r->deny_s)) != 0) {
			json_decref(rules);
			return NULL;
		}
	}
	return rules ? json_pack("{s:b, s:b, s:o}", "enabled", f->enabled, "dry_run", f->dry_run,
	                         "rules", rules)
	             : NULL;
}
