/* Small decoding helpers shared by the resource files. */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "core/json.h"

int bw_api_str(struct bw_ctx *c, const char *key, size_t min, size_t max, bool required,
               const char **out)
{
	return bw_api_str_in(c, c->in, key, key, min, max, required, out);
}

int bw_api_str_in(struct bw_ctx *c, const json_t *obj, const char *key, const char *field,
                  size_t min, size_t max, bool required, const char **out)
{
	json_t *v = json_object_get(obj, key);
	*out = NULL;
	if (!v || json_is_null(v)) {
		if (!required)
			return 0;
		bw_reply_error(c, 400, "InvalidParameter", "this field is required", field);
		return -1;
	}
	if (!json_is_string(v)) {
		bw_reply_error(c, 400, "InvalidParameter", "must be a string", field);
		return -1;
	}
	size_t n = json_string_length(v);
	if (n < min || n > max || strlen(json_string_value(v)) != n) {
		bw_reply_error(c, 400, "InvalidParameter", "length out of range", field);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

int bw_api_only(struct bw_ctx *c, const char *const *allowed)
{
	return bw_api_only_in(c, c->in, NULL, allowed);
}

int bw_api_only_in(struct bw_ctx *c, const json_t *obj, const char *prefix,
                   const char *const *allowed)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)obj, k, v)
	{
		bool ok = false;
		for (const char *const *a = allowed; *a; a++)
			if (!strcmp(*a, k))
				ok = true;
		if (!ok) {
			char f[160];
			snprintf(f, sizeof(f), "%s%s%.100s", prefix ? prefix : "", prefix ? "." : "", k);
			bw_reply_error(c, 400, "InvalidParameter", "unknown field", f);
			return -1;
		}
	}
	return 0;
}

bool bw_api_name_ok(const char *s)
{
	for (; *s; s++) {
		char ch = *s;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '.' || ch == '_' || ch == '-' || ch == '@' || ch == '+'))
			return false;
	}
	return true;
}

bool bw_api_id_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 47)
		return false;
	return bw_api_name_ok(s);
}

int bw_api_query(struct bw_ctx *c, const char *name, char *buf, size_t n, bool *present)
{
	int r = bw_query_get(c->req, name, buf, n);
	*present = r == 0;
	if (r == -2 || (r == 0 && !buf[0])) {
		bw_reply_error(c, 400, "InvalidParameter", r == -2 ? "query value too long" :
		                                                     "query value empty", name);
		return -1;
	}
	return 0;
}
