/* Reading and verifying the audit trail (C8). Reads are audited too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "sec/audit.h"
#include "sec/seal.h"
#include "store/store.h"

static int opt(struct bw_ctx *c, const char *name, char *buf, size_t n, const char **out)
{
	*out = NULL;
	if (bw_query_get(c->req, name, buf, n) != 0)
		return 0;
	if (!buf[0] || strlen(buf) > 128) {
		bw_reply_error(c, 400, "InvalidParameter", "invalid filter value", name);
		return -1;
	}
	*out = buf;
	return 0;
}

static const char *chain_of(struct bw_ctx *c)
{
	return c->who.kind == BW_P_USER ? c->who.instance_id : NULL;
}

void bw_api_audit_list(struct bw_ctx *c)
{
	char a[136], r[136], p[136], s[136], u[136], tok[64];
	struct bw_audit_filter f = {.instance_id = chain_of(c)};
	size_t limit, n = 0;
	if (opt(c, "action", a, sizeof(a), &f.action) || opt(c, "result", r, sizeof(r), &f.result) ||
	    opt(c, "principal_id", p, sizeof(p), &f.principal_id) ||
	    opt(c, "since", s, sizeof(s), &f.since) || opt(c, "until", u, sizeof(u), &f.until))
		return;
	if (bw_query_get(c->req, "limit", tok, sizeof(tok)) == 0) {
		char *end;
		long v = strtol(tok, &end, 10);
		if (!tok[0] || *end || v < 1 || v > 1000) {
			bw_reply_error(c, 400, "InvalidParameter", "limit must be an integer from 1 to 1000",
			               "limit");
			return;
		}
		limit = (size_t)v;
	} else {
		limit = 50;
	}
	if (bw_query_get(c->req, "next_token", tok, sizeof(tok)) == 0) {
		char *end;
		long long v = strtoll(tok, &end, 10);
		if (!tok[0] || *end || v < 1) {
			bw_reply_error(c, 400, "InvalidParameter", "next_token is not valid", "next_token");
			return;
		}
		f.before_seq = v;
	}
	struct bw_audit_event *ev = calloc(limit, sizeof(*ev));
	if (!ev) {
		bw_reply_result(c, BW_NOMEM, NULL, NULL);
		return;
	}
	bw_result res = bw_store_audit_list(c->store, &f, ev, limit, &n);
	if (res != BW_OK) {
		free(ev);
		bw_reply_result(c, res, NULL, NULL);
		return;
	}
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, bw_audit_event_json(&ev[i]));
	json_t *next = json_null();
	if (n == limit && ev[n - 1].seq > 1) {
		char b[24];
		snprintf(b, sizeof(b), "%lld", ev[n - 1].seq);
		next = json_string(b);
	}
	free(ev);
	bw_reply_json(c, 200, json_pack("{s:o, s:o}", "items", items, "next_token", next));
}

void bw_api_audit_verify(struct bw_ctx *c)
{
	json_t *report = NULL;
	bw_result r = bw_audit_verify(c->store, bw_seal_root, chain_of(c), &report);
	if (r != BW_OK) {
		bw_reply_result(c, r, NULL, NULL);
		return;
	}
	bw_reply_json(c, 200, report);
}
