/* Shared set-up for the front-end fuzzers (fuzz_http, fuzz_ws): the daemon's
 * limits, a connection without a socket whose output reaches a sink, and
 * feeding bytes split at points the input chooses.
 *
 * Input layout of both targets:
 *   byte 0      control: bits 0-3 = k, the count of split bytes that follow;
 *               bits 4-7 are target flags (see each target)
 *   bytes 1..k  chunk sizes, each byte b meaning b + 1 bytes, used in turn
 *   the rest    the client's byte stream (k = 0: delivered in one piece) */
#ifndef BW_FUZZ_NET_H
#define BW_FUZZ_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/net_int.h"

#define FUZZ_CTL_SPLITS 0x0f

struct fuzz_input {
	uint8_t ctl;
	const uint8_t *sizes;
	size_t nsizes;
	const uint8_t *data;
	size_t len;
};

/* Once per process: libre, sodium, limits from the settings table's
 * defaults, the header cap, trusted proxies, metrics, the WebSocket
 * registry; logs off. */
void fuzz_net_init(void);
/* Splits the raw input; false when it is empty. */
bool fuzz_input_parse(const uint8_t *buf, size_t n, struct fuzz_input *in);
/* A connection without a socket on a listener of the given side. */
struct bw_conn *fuzz_conn_new(bool admin, bool v6_peer);
/* Feeds data[0..len) in chunks per in->sizes starting at chunk *turn;
 * between chunks calls between(c, arg) when set. */
void fuzz_feed(struct bw_conn *c, const struct fuzz_input *in, const uint8_t *data, size_t len,
               size_t *turn, void (*between)(struct bw_conn *c, void *arg), void *arg);
/* Fires the pending header/body/idle deadline now, as the loop would. */
void fuzz_fire_deadline(struct bw_conn *c);
/* Closes (if open) and frees the connection as the loop would. */
void fuzz_conn_free(struct bw_conn *c);

/* FUZZ_DUMP=1 in the environment: what the sink receives goes to stderr
 * (reading a reproducer). */
extern bool fuzz_dump;
void fuzz_dump_bytes(const uint8_t *b, size_t n);

#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond))                                                                       \
			fuzz_fail(#cond, __FILE__, __LINE__);                                      \
	} while (0)
__attribute__((noreturn)) void fuzz_fail(const char *what, const char *file, int line);

#endif
