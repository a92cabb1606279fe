#include "core/result.h"

static const struct {
	const char *code;
	int status;
} map[] = {
	[BW_OK] = {"Ok", 200},
	[BW_ERR] = {"Internal", 500},
	[BW_AGAIN] = {"Throttled", 429},
	[BW_DENIED] = {"AccessDenied", 403},
	[BW_UNAUTH] = {"Unauthenticated", 401},
	[BW_NOTFOUND] = {"NotFound", 404},
	[BW_INVALID] = {"InvalidParameter", 400},
	[BW_CONFLICT] = {"Conflict", 409},
	[BW_NOMEM] = {"Internal", 500},
	[BW_TOOBIG] = {"PayloadTooLarge", 413},
};

const char *bw_result_code(bw_result r)
{
	if ((unsigned)r >= sizeof(map) / sizeof(map[0]))
		return "Internal";
	return map[r].code;
}

int bw_result_status(bw_result r)
{
	if ((unsigned)r >= sizeof(map) / sizeof(map[0]))
		return 500;
	return map[r].status;
}
