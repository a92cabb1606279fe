/* Reading and verifying the audit trail (C8). Reads are audited too. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "sec/audit.h"
#include "sec/seal.h"
#include "store/store.h"

/* YYYY-MM-DDTHH:MM:SSZ, the form the trail stores (compared as text). */
static bool rfc3339(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
	if (strlen(s) != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; shape[i]; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
			return false;
	int mo = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
	int h = (s[11] - '0') * 10 + (s[12] - '0'), mi = (s[14] - '0') * 10 + (s[15] - '0');
	int se = (s[17] - '0') * 10 + (s[18] - '0');
	return mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h < 24 && mi < 60 && se < 61;
}

static int filter(struct bw_ctx *c, const char *name, char *buf, size_t n, const char **out)
{
	bool present;
	*out = NULL;
	if (bw_api_query(c, name, buf, n, &present) != 0)
		return -1;
	if (!present)
		return 0;
	bool ok = true;
	if (!strcmp(name, "since") || !strcmp(name, "until"))
		ok = rfc3339(buf);
	else if (!strcmp(name, "result"))
		ok = !strcmp(buf, "allowed") || !strcmp(buf, "denied") || !strcmp(buf, "failed");
	if (!ok) {
		bw_reply_error(c, 400, "InvalidParameter",
		               !strcmp(name, "result") ? "one of allowed, denied, failed"
		                                       : "an RFC 3339 UTC time such as 2026-11-28T18:00:00Z",
		               name);
		return -1;
	}
	*out = buf;
	return 0;
}

static const char *chain_of(struct bw_ctx *c)
{
	return c->who.kind == BW_P_USER ? c->who.instance_id : NULL;
}

static int paging(struct bw_ctx *c, size_t *limit, long long *before)
{
	char tok[32];
	bool present;
	*limit = 50;
	*before = 0;
	if (bw_api_query(c, "limit", tok, sizeof(tok), &present) != 0)
		return -1;
	if (present) {
		char *end;
		long v = strtol(tok, &end, 10);
		if (*end || v < 1 || v > 1000) {
			bw_reply_error(c, 400, "InvalidParameter", "limit must be an integer from 1 to 1000",
			               "limit");
			return -1;
		}
		*limit = (size_t)v;
	}
	if (bw_api_query(c, "next_token", tok, sizeof(tok), &present) != 0)
		return -1;
	if (present) {
		char *end;
		long long v = strtoll(tok, &end, 10);
		if (*end || v < 1) {
			bw_reply_error(c, 400, "InvalidParameter", "next_token is not valid", "next_token");
			return -1;
		}
		*before = v;
	}
	return 0;
}

void bw_api_audit_list(struct bw_ctx *c)
{
	char a[72], r[16], p[56], s[24], u[24];
	struct bw_audit_filter f = {.instance_id = chain_of(c)};
	size_t limit, n = 0;
	if (filter(c, "action", a, sizeof(a), &f.action) || filter(c, "result", r, sizeof(r), &f.result) ||
	    filter(c, "principal_id", p, sizeof(p), &f.principal_id) ||
	    filter(c, "since", s, sizeof(s), &f.since) || filter(c, "until", u, sizeof(u), &f.until) ||
	    paging(c, &limit, &f.before_seq))
		return;
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
