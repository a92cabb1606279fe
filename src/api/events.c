/* The platform event stream (WebSocket): a hello on connect, an
 * application-level ping, and every platform audit event as it is committed,
 * pushed from the worker that wrote it through the loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/json.h"
#include "sec/audit.h"

void bw_api_events_upgrade(struct bw_ctx *c)
{
	c->resp->ws_accept = true;
	c->resp->principal = c->who;
	c->resp->status = 101;
}

static void on_open(struct bw_ws *ws)
{
	char sid[24];
	snprintf(sid, sizeof(sid), "%llu", (unsigned long long)bw_ws_id(ws));
	bw_ws_send_json(ws, json_pack("{s:s, s:s, s:s}", "type", "hello", "session_id", sid,
	                              "principal_id", bw_ws_principal(ws)->id));
}

static void send_error(struct bw_ws *ws, const char *code, const char *msg)
{
	bw_ws_send_json(ws, json_pack("{s:s, s:s, s:s}", "type", "error", "code", code, "message", msg));
}

static void on_message(struct bw_ws *ws, const char *text, size_t len)
{
	const char *why = NULL;
	json_t *v = bw_json_parse(text, len, &why);
	if (!v) {
		send_error(ws, "InvalidJson", why);
		return;
	}
	const char *type = bw_json_str(v, "type");
	if (type && strcmp(type, "ping") == 0)
		bw_ws_send_json(ws, json_pack("{s:s}", "type", "pong"));
	else
		send_error(ws, "InvalidParameter", "unknown message type");
	json_decref(v);
}

const struct bw_ws_ops bw_api_events_ws = {
	.open = on_open,
	.message = on_message,
	.close = NULL,
};

void bw_api_events_audit(const struct bw_audit_event *e)
{
	json_t *v = json_pack("{s:s, s:o}", "type", "audit", "event", bw_audit_event_json(e));
	char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
	json_decref(v);
	if (text) {
		bw_ws_broadcast(&bw_api_events_ws, text, strlen(text));
		free(text);
	}
}
