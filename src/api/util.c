/* Small decoding helpers shared by the resource files. */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "core/ids.h"
#include "core/json.h"
#include "integ/integ.h"

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

json_t *bw_api_time_or_null(long long ms)
{
	char b[40];
	if (!ms)
		return json_null();
	bw_time_rfc3339_ms(ms, b, sizeof(b));
	return json_string(b);
}

int bw_api_label(struct bw_ctx *c, const char *key, size_t max, bool required, const char **out)
{
	if (bw_api_str(c, key, 1, max, required, out) != 0)
		return -1;
	for (const char *p = *out; p && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			char msg[128];
			snprintf(msg, sizeof(msg), "%.64s may not hold control characters", key);
			bw_reply_error(c, 400, "InvalidParameter", msg, key);
			return -1;
		}
	return 0;
}

int bw_api_unused_before(struct bw_ctx *c, long long now, long long *before)
{
	char buf[32];
	bool present;
	long long ms;
	*before = 0;
	if (bw_api_query(c, "unused_for", buf, sizeof(buf), &present) != 0)
		return -1;
	if (!present)
		return 0;
	if (!bw_integ_duration_parse(buf, &ms)) {
		bw_reply_error(c, 400, "InvalidParameter",
		               "unused_for must be a duration such as 30d, 12h, 90m or 45s "
		               "(at most 3650d)",
		               "unused_for");
		return -1;
	}
	*before = now - ms;
	return 0;
}
