/* List paging shared by every list route. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/ids.h"

int bw_api_limit(struct bw_ctx *c, size_t *limit)
{
	char buf[128];
	bool present;
	*limit = 50;
	if (bw_api_query(c, "limit", buf, sizeof(buf), &present) != 0)
		return -1;
	if (present) {
		char *end;
		long v = strtol(buf, &end, 10);
		if (!buf[0] || *end || v < 1 || v > 1000) {
			bw_reply_error(c, 400, "InvalidParameter", "limit must be an integer from 1 to 1000",
			               "limit");
			return -1;
		}
		*limit = (size_t)v;
	}
	return 0;
}

int bw_api_page(struct bw_ctx *c, size_t *limit, char *after, size_t aftersz)
{
	char buf[128];
	bool present;
	after[0] = '\0';
	if (bw_api_limit(c, limit) != 0)
		return -1;
	if (bw_api_query(c, "next_token", buf, sizeof(buf), &present) != 0)
		return -1;
	if (present) {
		size_t n = strlen(buf);
		if (n == 0 || n >= aftersz || !bw_request_id_valid(buf, n)) {
			bw_reply_error(c, 400, "InvalidParameter", "next_token is not valid", "next_token");
			return -1;
		}
		memcpy(after, buf, n + 1);
	}
	return 0;
}

void bw_api_list(struct bw_ctx *c, const struct bw_api_lister *l)
{
	size_t limit, n = 0;
	char after[72]; /* an id of up to 64 characters (an encryption key id) */
	if (bw_api_page(c, &limit, after, sizeof(after)) != 0)
		return;
	/* One more than asked: its presence says there is a next page. */
	char *items = calloc(limit + 1, l->item_size);
	if (!items) {
		bw_reply_result(c, BW_NOMEM, NULL, NULL);
		return;
	}
	bw_result r = l->fetch(c, after[0] ? after : NULL, items, limit + 1, &n);
	json_t *arr = json_array();
	for (size_t i = 0; i < n && r == BW_OK; i++)
		if (i < limit)
			json_array_append_new(arr, l->encode(c, items + i * l->item_size));
	json_t *next = r == BW_OK && n > limit ? json_string(l->id(items + (limit - 1) * l->item_size))
	                                       : json_null();
	for (size_t i = 0; l->clear && i < n; i++)
		l->clear(items + i * l->item_size);
	free(items);
	if (r != BW_OK) {
		json_decref(arr);
		bw_reply_result(c, r, NULL, NULL);
		return;
	}
	bw_reply_json(c, 200, json_pack("{s:o, s:o}", "items", arr, "next_token", next));
}
