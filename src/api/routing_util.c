/* Decoding helpers of the routing handlers. */
#include <stdio.h>

#include "api/routing_int.h"
#include "core/ids.h"

int bw_api__int_in(struct bw_ctx *c, const json_t *obj, const char *key, const char *field,
                   long long lo, long long hi, bool required, long long *out, bool *present)
{
	json_t *v = json_object_get(obj, key);
	*present = v && !json_is_null(v);
	if (!*present) {
		if (!required)
			return 0;
		bw_reply_error(c, 400, "InvalidParameter", "this field is required", field);
		return -1;
	}
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		char msg[96];
		snprintf(msg, sizeof(msg), "must be an integer from %lld to %lld", lo, hi);
		bw_reply_error(c, 400, "InvalidParameter", msg, field);
		return -1;
	}
	*out = (long long)json_integer_value(v);
	return 0;
}

int bw_api__name_desc(struct bw_ctx *c, bool create, const char **name, const char **desc)
{
	return bw_api_str(c, "name", 1, 128, create, name) ||
	       bw_api_str(c, "description", 0, 1024, false, desc);
}

int bw_api__ref_in(struct bw_ctx *c, const json_t *obj, const char *key, const char *field,
                   bool required, const char **out)
{
	if (bw_api_str_in(c, obj, key, field, 1, 47, required, out))
		return -1;
	if (*out && !bw_api_id_ok(*out)) {
		bw_reply_error(c, 400, "InvalidParameter", "not a valid id", field);
		return -1;
	}
	return 0;
}

json_t *bw_api__times(json_t *o, long long created, long long updated)
{
	char cr[32], up[32];
	bw_time_rfc3339(created, cr, sizeof(cr));
	bw_time_rfc3339(updated, up, sizeof(up));
	json_object_set_new(o, "created_at", json_string(cr));
	json_object_set_new(o, "updated_at", json_string(up));
	return o;
}
