/* Result codes shared by every area, and their API error mapping. */
#ifndef BW_RESULT_H
#define BW_RESULT_H

#define BW_MUST_USE __attribute__((warn_unused_result))

typedef enum {
	BW_OK = 0,
	BW_ERR,       /* internal failure: 500, no detail leaks */
	BW_AGAIN,     /* try later */
	BW_DENIED,    /* authorization refused: 403 */
	BW_UNAUTH,    /* no or bad credential: 401 */
	BW_NOTFOUND,  /* 404, also for another instance's resource */
	BW_INVALID,   /* bad parameter: 400 */
	BW_CONFLICT,  /* 409 */
	BW_NOMEM,     /* allocation failed: 500 */
	BW_TOOBIG,    /* a cap was passed: 413 */
} bw_result;

/* For best-effort calls whose failure changes nothing for the caller. */
static inline void bw_ignore(bw_result r)
{
	(void)r;
}

/* The API error code and HTTP status for a result (one table). */
const char *bw_result_code(bw_result r);
int bw_result_status(bw_result r);

#endif
