/* Small decoding helpers shared by the resource files. */
#include <string.h>

#include "api/api.h"
#include "core/json.h"

int bw_api_str(struct bw_ctx *c, const char *key, size_t min, size_t max, bool required,
               const char **out)
{
	json_t *v = json_object_get(c->in, key);
	*out = NULL;
	if (!v || json_is_null(v)) {
		if (!required)
			return 0;
		bw_reply_error(c, 400, "InvalidParameter", "this field is required", key);
		return -1;
	}
	if (!json_is_string(v)) {
		bw_reply_error(c, 400, "InvalidParameter", "must be a string", key);
		return -1;
	}
	size_t n = json_string_length(v);
	if (n < min || n > max || strlen(json_string_value(v)) != n) {
		bw_reply_error(c, 400, "InvalidParameter", "length out of range", key);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

int bw_api_only(struct bw_ctx *c, const char *const *allowed)
{
	const char *k;
	json_t *v;
	json_object_foreach(c->in, k, v)
	{
		bool ok = false;
		for (const char *const *a = allowed; *a; a++)
			if (!strcmp(*a, k))
				ok = true;
		if (!ok) {
			bw_reply_error(c, 400, "InvalidParameter", "unknown field", k);
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
