/* Serializing replies, and the reply helpers handlers use. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_int.h"

const char *bw_http__reason(int status)
{
	switch (status) {
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 426: return "Upgrade Required";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

static void set_body(struct bw_resp *resp, json_t *v)
{
	free(resp->body);
	resp->body = json_dumps(v, JSON_COMPACT);
	resp->body_len = resp->body ? strlen(resp->body) : 0;
	resp->content_type = "application/json";
	json_decref(v);
}

void bw_resp_set_error(struct bw_resp *resp, int status, const char *code, const char *msg,
                       const char *field)
{
	json_t *err = json_pack("{s:s, s:s}", "code", code, "message", msg);
	if (field)
		json_object_set_new(err, "field", json_string(field));
	resp->status = status;
	set_body(resp, json_pack("{s:o}", "error", err));
}

void bw_reply_json(struct bw_ctx *c, int status, json_t *v)
{
	c->resp->status = status;
	set_body(c->resp, v);
}

void bw_reply_error(struct bw_ctx *c, int status, const char *code, const char *msg,
                    const char *field)
{
	bw_resp_set_error(c->resp, status, code, msg, field);
}

void bw_reply_result(struct bw_ctx *c, bw_result r, const char *msg, const char *field)
{
	int st = bw_result_status(r);
	if (st >= 500) {
		msg = "internal error"; /* no detail leaks */
		field = NULL;
	}
	bw_resp_set_error(c->resp, st, bw_result_code(r), msg, field);
}

void bw_reply_empty(struct bw_ctx *c, int status)
{
	free(c->resp->body);
	c->resp->body = NULL;
	c->resp->body_len = 0;
	c->resp->status = status;
}

void bw_reply_header(struct bw_ctx *c, const char *name, const char *value)
{
	struct bw_resp *r = c->resp;
	int n = snprintf(r->extra + r->extra_len, sizeof(r->extra) - r->extra_len, "%s: %s\r\n",
	                 name, value);
	if (n > 0 && (size_t)n < sizeof(r->extra) - r->extra_len)
		r->extra_len += (size_t)n;
	else
		r->extra[r->extra_len] = '\0';
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int bw_query_get(const struct bw_req *r, const char *name, char *out, size_t outsz)
{
	size_t nl = strlen(name);
	const char *q = r->query;
	while (q && *q) {
		const char *amp = strchr(q, '&');
		const char *end = amp ? amp : q + strlen(q);
		if ((size_t)(end - q) > nl && !strncmp(q, name, nl) && q[nl] == '=') {
			size_t o = 0;
			for (const char *p = q + nl + 1; p < end; p++) {
				char ch = *p;
				if (ch == '%' && p + 2 < end && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
					ch = (char)(hexval(p[1]) * 16 + hexval(p[2]));
					p += 2;
				} else if (ch == '+') {
					ch = ' ';
				}
				if (o + 1 >= outsz || ch == '\0')
					return -2; /* too long for the caller, or a NUL */
				out[o++] = ch;
			}
			out[o] = '\0';
			return 0;
		}
		q = amp ? amp + 1 : NULL;
	}
	return -1;
}

void bw_http__write_resp(struct bw_conn *c, const struct bw_req *req, struct bw_resp *resp)
{
	struct mbuf *mb = mbuf_alloc(256 + resp->body_len + resp->extra_len);
	if (!mb) {
		bw_http__close(c);
		goto out;
	}
	bool closing = c->close_after_reply || !c->keep_alive;
	int err = mbuf_printf(mb, "HTTP/1.1 %d %s\r\nX-Request-Id: %s\r\n", resp->status,
	                      bw_http__reason(resp->status), req->request_id);
	if (resp->status != 101) {
		err |= mbuf_printf(mb, "Content-Length: %zu\r\nX-Content-Type-Options: nosniff\r\n",
		                   resp->body_len);
		/* no-store unless the handler chose (the public JWKS is cacheable) */
		if (!memmem(resp->extra, resp->extra_len, "Cache-Control:", 14))
			err |= mbuf_printf(mb, "Cache-Control: no-store\r\n");
		if (resp->body_len)
			err |= mbuf_printf(mb, "Content-Type: %s\r\n",
			                   resp->content_type ? resp->content_type : "application/json");
		if (closing)
			err |= mbuf_printf(mb, "Connection: close\r\n");
	}
	if (bw_listener_is_tls(c->lst) && bw_net__limits.hsts_max_age > 0)
		err |= mbuf_printf(mb, "Strict-Transport-Security: max-age=%d\r\n",
		                   bw_net__limits.hsts_max_age);
	if (resp->extra_len)
		err |= mbuf_write_mem(mb, (const uint8_t *)resp->extra, resp->extra_len);
	err |= mbuf_write_str(mb, "\r\n");
	/* A HEAD reply announces the length but carries no body. */
	bool head = req->method && !strcmp(req->method, "HEAD");
	if (resp->body_len && !head)
		err |= mbuf_write_mem(mb, (const uint8_t *)resp->body, resp->body_len);
	if (err)
		bw_http__close(c);
	else
		bw_http__send(c, mb);
	mem_deref(mb);
out:
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
}
