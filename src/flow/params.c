/* Helpers blocks use to check Parameters: each names the path of what is
 * wrong and never copies a value into its message. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/flow_int.h"

void bw_flow__error(struct bw_flow_check *ck, const char *path, const char *fmt, ...)
{
	if (json_array_size(ck->errors) >= BW_FLOW_MAX_ERRORS)
		return;
	char msg[320];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_t *e = json_pack("{s:s, s:s}", "path", path && path[0] ? path : "$", "message", msg);
	if (!e || json_array_append_new(ck->errors, e) != 0)
		ck->nomem = true;
}

static bool plain_name(const char *k)
{
	if (!k[0])
		return false;
	for (const char *p = k; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '_'))
			return false;
	return true;
}

void bw_flow__pathf(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vsnprintf(out, n, fmt, ap);
	va_end(ap);
	if (r < 0)
		out[0] = '\0';
}

void bw_flow__path_key(char *out, size_t n, const char *path, const char *key)
{
	if (plain_name(key)) {
		bw_flow__pathf(out, n, "%s%s%.100s", path, path[0] ? "." : "", key);
		return;
	}
	/* Quote anything else, JSON style, with quotes and control bytes escaped. */
	char q[128];
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)key; *p && o + 7 < sizeof(q); p++) {
		if (*p == '"' || *p == '\\') {
			q[o++] = '\\';
			q[o++] = (char)*p;
		} else if (*p < 0x20 || *p == 0x7f) {
			o += (size_t)snprintf(q + o, sizeof(q) - o, "\\u%04x", *p);
		} else {
			q[o++] = (char)*p;
		}
	}
	q[o] = '\0';
	bw_flow__pathf(out, n, "%s[\"%s\"]", path, q);
}

int bw_flow__only(struct bw_flow_check *ck, const json_t *obj, const char *path,
                  const char *const *allowed)
{
	const char *k;
	json_t *v;
	int bad = 0;
	json_object_foreach((json_t *)obj, k, v)
	{
		bool ok = false;
		for (const char *const *a = allowed; *a; a++)
			if (!strcmp(*a, k))
				ok = true;
		if (!ok) {
			char p[BW_FLOW_PATH_MAX];
			bw_flow__path_key(p, sizeof(p), path, k);
			bw_flow__error(ck, p, "unknown field");
			bad = -1;
		}
	}
	return bad;
}

int bw_flow__str(struct bw_flow_check *ck, const json_t *obj, const char *key, const char *path,
                 size_t min, size_t max, bool required, const char **out)
{
	char p[BW_FLOW_PATH_MAX];
	bw_flow__path_key(p, sizeof(p), path, key);
	json_t *v = json_object_get(obj, key);
	*out = NULL;
	if (!v) {
		if (!required)
			return 0;
		bw_flow__error(ck, p, "this field is required");
		return -1;
	}
	if (!json_is_string(v)) {
		bw_flow__error(ck, p, "must be a string");
		return -1;
	}
	size_t chars, n = json_string_length(v);
	const char *s = json_string_value(v);
	if (strlen(s) != n || !bw_flow__utf8_text(s, n, true, &chars)) {
		bw_flow__error(ck, p, "must be text without control characters");
		return -1;
	}
	if (chars < min || chars > max) {
		bw_flow__error(ck, p, "must be %zu to %zu characters long", min, max);
		return -1;
	}
	*out = s;
	return 0;
}

int bw_flow__int(struct bw_flow_check *ck, const json_t *obj, const char *key, const char *path,
                 long min, long max, bool required, long *out)
{
	char p[BW_FLOW_PATH_MAX];
	bw_flow__path_key(p, sizeof(p), path, key);
	json_t *v = json_object_get(obj, key);
	if (!v) {
		if (!required)
			return 0;
		bw_flow__error(ck, p, "this field is required");
		return -1;
	}
	long val = -1;
	bool ok = false;
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);
		ok = i >= min && i <= max;
		val = (long)i;
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v);
		size_t n = json_string_length(v);
		ok = n >= 1 && n <= 9;
		val = 0;
		for (size_t i = 0; ok && i < n; i++) {
			if (s[i] < '0' || s[i] > '9')
				ok = false;
			else
				val = val * 10 + (s[i] - '0');
		}
		ok = ok && val >= min && val <= max;
	}
	if (!ok) {
		bw_flow__error(ck, p, "must be an integer from %ld to %ld", min, max);
		return -1;
	}
	if (out)
		*out = val;
	return 0;
}

int bw_flow__bool(struct bw_flow_check *ck, const json_t *obj, const char *key, const char *path,
                  bool required, bool *out)
{
	char p[BW_FLOW_PATH_MAX];
	bw_flow__path_key(p, sizeof(p), path, key);
	json_t *v = json_object_get(obj, key);
	if (!v) {
		if (!required)
			return 0;
		bw_flow__error(ck, p, "this field is required");
		return -1;
	}
	if (json_is_boolean(v)) {
		*out = json_is_true(v);
		return 0;
	}
	const char *s = json_string_value(v);
	if (s && (!strcasecmp(s, "true") || !strcasecmp(s, "false"))) {
		*out = !strcasecmp(s, "true");
		return 0;
	}
	bw_flow__error(ck, p, "must be \"True\" or \"False\"");
	return -1;
}

int bw_flow__enum(struct bw_flow_check *ck, const json_t *obj, const char *key, const char *path,
                  const char *const *names, bool required, const char **out)
{
	char p[BW_FLOW_PATH_MAX];
	bw_flow__path_key(p, sizeof(p), path, key);
	json_t *v = json_object_get(obj, key);
	*out = NULL;
	if (!v) {
		if (!required)
			return 0;
		bw_flow__error(ck, p, "this field is required");
		return -1;
	}
	const char *s = json_string_value(v);
	for (const char *const *n = names; s && *n; n++)
		if (!strcmp(*n, s)) {
			*out = *n;
			return 0;
		}
	char list[200];
	size_t o = 0;
	list[0] = '\0';
	for (const char *const *n = names; *n; n++) {
		int r = snprintf(list + o, sizeof(list) - o, "%s%s", o ? ", " : "", *n);
		if (r < 0 || (size_t)r >= sizeof(list) - o)
			break;
		o += (size_t)r;
	}
	bw_flow__error(ck, p, "must be one of: %s", list);
	return -1;
}

static bool id_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '.' || ch == '_' || ch == '-';
}

int bw_flow__ref_id(struct bw_flow_check *ck, const json_t *obj, const char *key,
                    const char *path, bool required, const char **out)
{
	if (bw_flow__str(ck, obj, key, path, 1, 64, required, out) != 0)
		return -1;
	if (!*out)
		return 0;
	for (const char *s = *out; *s; s++)
		if (!id_char(*s)) {
			char p[BW_FLOW_PATH_MAX];
			bw_flow__path_key(p, sizeof(p), path, key);
			bw_flow__error(ck, p, "must be an id (letters, digits, '.', '_', '-')");
			*out = NULL;
			return -1;
		}
	return 0;
}

bool bw_flow__attr_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 64)
		return false;
	for (; *s; s++)
		if (!id_char(*s))
			return false;
	return true;
}

#define INPUT_REF "$.StoredCustomerInput"

static bool known_ref(const char *s)
{
	static const char *const fixed[] = {INPUT_REF, "$.ContactId", "$.Channel", "$.InstanceId",
	                                    "$.CustomerEndpoint.Address", NULL};
	for (const char *const *f = fixed; *f; f++)
		if (!strcmp(s, *f))
			return true;
	return !strncmp(s, "$.Attributes.", 13) && bw_flow__attr_name_ok(s + 13);
}

int bw_flow__value(struct bw_flow_check *ck, const json_t *v, const char *path)
{
	if (!json_is_string(v)) {
		bw_flow__error(ck, path, "must be a string");
		return -1;
	}
	const char *s = json_string_value(v);
	size_t chars, n = json_string_length(v);
	if (strlen(s) != n || !bw_flow__utf8_text(s, n, true, &chars)) {
		bw_flow__error(ck, path, "must be text without control characters");
		return -1;
	}
	if (chars > BW_FLOW_MAX_TEXT) {
		bw_flow__error(ck, path, "must be at most %d characters long", BW_FLOW_MAX_TEXT);
		return -1;
	}
	if (!strncmp(s, "$.", 2) && !known_ref(s)) {
		bw_flow__error(ck, path,
		               "an unknown reference (known: $.StoredCustomerInput, "
		               "$.Attributes.<name>, $.ContactId, $.Channel, $.InstanceId, "
		               "$.CustomerEndpoint.Address)");
		return -1;
	}
	return 0;
}

const char *bw_flow__secret_ref(const json_t *v)
{
	const json_t *name = json_object_get(v, "secret");
	if (!json_is_object(v) || json_object_size(v) != 1 || !json_is_string(name) ||
	    strlen(json_string_value(name)) != json_string_length(name) ||
	    !bw_flow__attr_name_ok(json_string_value(name)))
		return NULL;
	return json_string_value(name);
}

void bw_flow__action_path(char *out, size_t n, const char *params_path)
{
	const char *dot = strrchr(params_path, '.');
	size_t len = dot ? (size_t)(dot - params_path) : strlen(params_path);
	bw_flow__pathf(out, n, "%.*s", (int)len, params_path);
}

int bw_flow__conds(struct bw_flow_check *ck, const struct bw_flow_action *a, const char *ppath,
                   const char *const *ops)
{
	int bad = 0;
	char path[BW_FLOW_PATH_MAX];
	bw_flow__action_path(path, sizeof(path), ppath);
	for (size_t i = 0; i < a->nconds; i++) {
		const struct bw_flow_cond *c = &a->conds[i];
		char p[BW_FLOW_PATH_MAX];
		bw_flow__pathf(p, sizeof(p), "%s.Transitions.Conditions[%zu].Condition.Operator", path, i);
		bool ok = false;
		for (const char *const *o = ops; c->op && *o; o++)
			if (!strcmp(*o, c->op))
				ok = true;
		if (!ok) {
			bw_flow__error(ck, p, "not an operator this action takes");
			bad = -1;
		}
		bw_flow__pathf(p, sizeof(p), "%s.Transitions.Conditions[%zu].Condition.Operands", path, i);
		if (json_array_size(c->operands) != 1) {
			bw_flow__error(ck, p, "must be an array of one string");
			bad = -1;
			continue;
		}
		char q[BW_FLOW_PATH_MAX];
		bw_flow__pathf(q, sizeof(q), "%s[0]", p);
		if (bw_flow__value(ck, json_array_get(c->operands, 0), q) != 0)
			bad = -1;
	}
	return bad;
}

static bool walk_mentions(const json_t *v, const char *path, char *where, size_t n, int depth)
{
	if (depth > BW_JSON_DEPTH_GUARD)
		return false;
	if (json_is_string(v)) {
		if (strstr(json_string_value(v), INPUT_REF)) {
			snprintf(where, n, "%s", path);
			return true;
		}
		return false;
	}
	char p[BW_FLOW_PATH_MAX];
	if (json_is_object(v)) {
		const char *k;
		json_t *m;
		json_object_foreach((json_t *)v, k, m)
		{
			bw_flow__path_key(p, sizeof(p), path, k);
			if (walk_mentions(m, p, where, n, depth + 1))
				return true;
		}
	} else if (json_is_array(v)) {
		size_t i;
		json_t *m;
		json_array_foreach(v, i, m)
		{
			bw_flow__pathf(p, sizeof(p), "%s[%zu]", path, i);
			if (walk_mentions(m, p, where, n, depth + 1))
				return true;
		}
	}
	return false;
}

bool bw_flow__mentions_input(const json_t *v, const char *path, char *where, size_t n)
{
	return walk_mentions(v, path, where, n, 0);
}
