#include "core/json.h"

int bw_json_depth_ok(const char *buf, size_t len, int max_depth)
{
	int depth = 0;
	int in_str = 0, esc = 0;
	for (size_t i = 0; i < len; i++) {
		char c = buf[i];
		if (in_str) {
			if (esc)
				esc = 0;
			else if (c == '\\')
				esc = 1;
			else if (c == '"')
				in_str = 0;
			continue;
		}
		if (c == '"') {
			in_str = 1;
		} else if (c == '[' || c == '{') {
			if (++depth > max_depth)
				return -1;
		} else if (c == ']' || c == '}') {
			depth--;
		}
	}
	return 0;
}

json_t *bw_json_parse(const char *buf, size_t len, const char **why)
{
	if (bw_json_depth_ok(buf, len, BW_JSON_MAX_DEPTH) != 0) {
		*why = "JSON nested too deeply";
		return NULL;
	}
	json_error_t e;
	json_t *v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &e);
	if (!v) {
		*why = "request body is not valid JSON";
		return NULL;
	}
	return v;
}

const char *bw_json_str(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}
