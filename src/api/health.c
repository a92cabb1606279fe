/* Liveness, readiness, and the Prometheus exposition (admin listener). */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "events/events.h"
#include "cc/engine.h"
#include "fraud/fraud.h"
#include "core/metrics.h"
#include "store/store.h"

void bw_api_healthz(struct bw_ctx *c)
{
	bw_reply_json(c, 200, json_pack("{s:s}", "status", "ok"));
}

void bw_api_readyz(struct bw_ctx *c)
{
	if (bw_store_ping(c->store) != BW_OK) {
		bw_reply_error(c, 503, "Unavailable", "the store does not answer", NULL);
		return;
	}
	bw_reply_json(c, 200, json_pack("{s:s}", "status", "ready"));
}

/* part (malloc'd, NULL when it could not be made) after *text; freed. */
static void append(char **text, size_t *len, char *part)
{
	if (!part)
		return;
	size_t n = strlen(part);
	char *both = realloc(*text, *len + n + 1);
	if (both) {
		memcpy(both + *len, part, n + 1);
		*text = both;
		*len += n;
	}
	free(part);
}

void bw_api_metrics(struct bw_ctx *c)
{
	size_t len = 0;
	char *text = bw_metrics_render(bw_ws_count(), bw_net_queue_depth(), bw_net_hash_queue_depth(),
	                               bw_net_connections(), &len);
	if (!text) {
		bw_reply_result(c, BW_NOMEM, NULL, NULL);
		return;
	}
	/* Inline route: on the loop, where the engine's figures live. */
	append(&text, &len, bw_cc_metrics_text());
	append(&text, &len, bw_guard_metrics_text());
	append(&text, &len, bw_events_metrics_text());
	c->resp->status = 200;
	c->resp->body = text;
	c->resp->body_len = len;
	c->resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
}
