/* fuzz_http: bytes from a client, split where the input says, through the
 * HTTP glue (src/net/http.c) on a connection without a socket. There is no
 * worker pool, so routes that are not inline answer 503; inline ones
 * (/healthz, /metrics on the admin side) run for real.
 *
 * Control byte flags (layout in fuzz_net.h):
 *   0x10  the admin listener instead of the public one
 *   0x20  fire the pending deadline after the last byte (408 / idle close)
 *   0x40  an IPv6 peer
 *   0x80  fire the pending deadline after the first chunk
 *
 * Every reply the sink sees must be well formed: a status line with a known
 * status other than 500 (malformed bytes are the client's fault, never an
 * internal error), header lines of "token: value" with no stray CR or LF, a
 * Content-Length equal to the body, an echoed X-Request-Id of safe
 * characters only, a JSON body that parses, and nothing at all after a reply
 * that said "Connection: close". */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_net.h"

#define F_ADMIN 0x10
#define F_DEADLINE_END 0x20
#define F_V6 0x40
#define F_DEADLINE_FIRST 0x80

static struct {
	bool saw_close;
	unsigned replies;
} st;

static bool is_tchar(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

static bool request_id_safe(const char *v, size_t n)
{
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = v[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
			return false;
	}
	return true;
}

/* One header line [s, s+n) without its CRLF. */
static void check_header(const char *s, size_t n, long *clen, bool *close, bool *json)
{
	size_t i = 0;
	while (i < n && is_tchar((unsigned char)s[i]))
		i++;
	FUZZ_CHECK(i > 0 && i + 1 < n && s[i] == ':' && s[i + 1] == ' ');
	const char *v = s + i + 2;
	size_t vn = n - i - 2;
	for (size_t k = 0; k < vn; k++)
		FUZZ_CHECK(v[k] != '\r' && v[k] != '\n' && v[k] != '\0');
	if (i == 14 && !strncasecmp(s, "Content-Length", 14)) {
		FUZZ_CHECK(*clen < 0); /* only one */
		char num[24];
		FUZZ_CHECK(vn > 0 && vn < sizeof(num));
		memcpy(num, v, vn);
		num[vn] = '\0';
		char *end;
		*clen = strtol(num, &end, 10);
		FUZZ_CHECK(*end == '\0' && *clen >= 0);
	} else if (i == 12 && !strncasecmp(s, "X-Request-Id", 12)) {
		FUZZ_CHECK(request_id_safe(v, vn));
	} else if (i == 10 && !strncasecmp(s, "Connection", 10)) {
		if (vn == 5 && !strncmp(v, "close", 5))
			*close = true;
	} else if (i == 12 && !strncasecmp(s, "Content-Type", 12)) {
		if (vn >= 16 && !strncmp(v, "application/json", 16))
			*json = true;
	}
}

static void sink(struct bw_conn *c, struct mbuf *mb)
{
	const char *b = (const char *)mb->buf + mb->pos;
	size_t n = mb->end - mb->pos;
	if (fuzz_dump)
		fuzz_dump_bytes(mb->buf + mb->pos, mb->end - mb->pos);
	/* Nothing may follow a reply that announced the close. */
	FUZZ_CHECK(!st.saw_close);
	st.replies++;
	FUZZ_CHECK(n >= 16 && !memcmp(b, "HTTP/1.1 ", 9));
	for (int i = 9; i < 12; i++)
		FUZZ_CHECK(b[i] >= '0' && b[i] <= '9');
	FUZZ_CHECK(b[12] == ' ');
	int status = (b[9] - '0') * 100 + (b[10] - '0') * 10 + (b[11] - '0');
	if (status == 500)
		fuzz_fail("a 500 for client bytes", __FILE__, __LINE__);
	/* No worker pool here, and the only upgrade route is not inline. */
	FUZZ_CHECK(status != 101);
	FUZZ_CHECK(strcmp(bw_http__reason(status), "Unknown") != 0);
	const char *hend = NULL;
	for (size_t i = 3; i < n; i++)
		if (!memcmp(b + i - 3, "\r\n\r\n", 4)) {
			hend = b + i + 1;
			break;
		}
	FUZZ_CHECK(hend != NULL);
	const char *line = memchr(b, '\n', n);
	FUZZ_CHECK(line && line[-1] == '\r');
	line++;
	long clen = -1;
	bool close = false, json = false;
	while (line < hend - 2) {
		const char *eol = memchr(line, '\n', (size_t)(hend - line));
		FUZZ_CHECK(eol && eol > line && eol[-1] == '\r');
		for (const char *p = line; p < eol - 1; p++)
			FUZZ_CHECK(*p != '\r');
		check_header(line, (size_t)(eol - 1 - line), &clen, &close, &json);
		line = eol + 1;
	}
	size_t body = n - (size_t)(hend - b);
	/* A reply to HEAD announces a length and sends no body. */
	bool head = c->parser.method == HTTP_HEAD;
	FUZZ_CHECK(clen >= 0 && ((size_t)clen == body || (head && body == 0)));
	if (json && body) {
		json_error_t e;
		json_t *v = json_loadb(hend, body, 0, &e);
		FUZZ_CHECK(v != NULL);
		json_decref(v);
	}
	if (close)
		st.saw_close = true;
}

static void after_first(struct bw_conn *c, void *arg)
{
	bool *fired = arg;
	if (!*fired) {
		*fired = true;
		fuzz_fire_deadline(c);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_net_init();
	bw_http__test_sink = sink;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t n)
{
	struct fuzz_input in;
	if (!fuzz_input_parse(buf, n, &in))
		return 0;
	memset(&st, 0, sizeof(st));
	struct bw_conn *c = fuzz_conn_new(in.ctl & F_ADMIN, in.ctl & F_V6);
	size_t turn = 0;
	bool fired = false;
	fuzz_feed(c, &in, in.data, in.len, &turn, (in.ctl & F_DEADLINE_FIRST) ? after_first : NULL,
	          &fired);
	if (in.ctl & F_DEADLINE_END)
		fuzz_fire_deadline(c);
	fuzz_conn_free(c);
	FUZZ_CHECK(bw_ws_count() == 0);
	return 0;
}
