/* List paging shared by every list route. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/ids.h"

int bw_api_page(struct bw_ctx *c, size_t *limit, char *after, size_t aftersz)
{
	char buf[128];
	bool present;
	*limit = 50;
	after[0] = '\0';
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
