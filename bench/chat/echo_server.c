/* The reference for bench/chat: `bulwark serve` with a route table of two
 * rows, /healthz and a WebSocket echo. Everything else is the daemon's own
 * code from libbulwark.a (settings, listener, HTTP parsing, phases, the
 * WebSocket sessions on wslay, the sweep timer): this file's bw_routes and
 * bw_routes_count take the place of src/api/routes.c, which the linker then
 * leaves out. So the echo measures the same front end the chat relay runs
 * on, minus the chat engine and its store writes.
 *
 *   bench_chat_echo init --data DIR
 *   bench_chat_echo serve --data DIR --listen 127.0.0.1:0 ...   (as bulwark serve)
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "api/api.h"
#include "cmd/cmd.h"
#include "net/net.h"

static void echo_upgrade(struct bw_ctx *c)
{
	c->resp->ws_accept = true;
	c->resp->principal = c->who;
	c->resp->status = 101;
}

/* Each text message goes back on the same session, as the relay sends a
 * chat message back to its sender (the echo is the acknowledgement). */
static void echo_message(struct bw_ws *ws, const char *text, size_t len)
{
	bw_ws_send(ws, text, len);
}

static const struct bw_ws_ops echo_ws = {.message = echo_message};

const struct bw_route bw_routes[] = {
	{"GET", "/healthz", 0, BW_PERM_PUBLIC, bw_api_healthz, BW_ROUTE_INLINE, NULL, NULL},
	{"GET", "/echo", 0, BW_PERM_PUBLIC, echo_upgrade, BW_ROUTE_WS | BW_ROUTE_INLINE, &echo_ws,
	 NULL},
};
const size_t bw_routes_count = sizeof(bw_routes) / sizeof(bw_routes[0]);

int main(int argc, char **argv, char **envp)
{
	umask(077);
	if (sodium_init() < 0)
		return 1;
	if (argc >= 2 && !strcmp(argv[1], "init"))
		return bw_cmd_init(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "serve"))
		return bw_cmd_serve(argc - 1, argv + 1, envp);
	fprintf(stderr, "usage: bench_chat_echo init|serve --data DIR [serve options]\n");
	return 2;
}
