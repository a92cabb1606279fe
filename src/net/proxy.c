/* The client address behind a load balancer: X-Forwarded-For is believed
 * only when the socket peer is one of trusted_proxies, and then the client
 * is the rightmost address that is not itself a trusted proxy. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "net/net_int.h"

#define MAX_TRUSTED 64

static struct bw_cidr trusted[MAX_TRUSTED];
static int ntrusted;

bw_result bw_net__trusted_init(const char *list)
{
	ntrusted = 0;
	if (!list || !*list)
		return BW_OK;
	char *copy = strdup(list);
	if (!copy)
		return BW_NOMEM;
	char *save = NULL;
	for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
		if (ntrusted == MAX_TRUSTED || bw_cidr_parse(t, &trusted[ntrusted]) != 0) {
			free(copy);
			return BW_INVALID;
		}
		ntrusted++;
	}
	free(copy);
	return BW_OK;
}

void bw_net__trusted_free(void)
{
	ntrusted = 0;
}

static bool is_trusted(int family, const uint8_t *addr)
{
	for (int i = 0; i < ntrusted; i++)
		if (bw_cidr_match(&trusted[i], family, addr))
			return true;
	return false;
}

static bool parse_ip(const char *s, size_t n, int *family, uint8_t addr[16])
{
	char buf[64];
	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, buf, addr) == 1) {
		*family = 4;
		return true;
	}
	if (inet_pton(AF_INET6, buf, addr) == 1) {
		*family = 6;
		return true;
	}
	return false;
}

void bw_net__client_from_xff(struct bw_req *r)
{
	if (!ntrusted || !is_trusted(r->peer_family, r->peer_addr))
		return;
	const char *x = r->xff;
	size_t end = strlen(x);
	while (end > 0) {
		size_t start = end;
		while (start > 0 && x[start - 1] != ',')
			start--;
		size_t a = start, b = end;
		while (a < b && (x[a] == ' ' || x[a] == '\t'))
			a++;
		while (b > a && (x[b - 1] == ' ' || x[b - 1] == '\t'))
			b--;
		int family;
		uint8_t addr[16];
		if (!parse_ip(x + a, b - a, &family, addr))
			return; /* junk: keep the socket peer */
		r->peer_family = family;
		memcpy(r->peer_addr, addr, 16);
		snprintf(r->peer, sizeof(r->peer), "%.*s", (int)(b - a), x + a);
		if (!is_trusted(family, addr))
			return;
		end = start ? start - 1 : 0;
	}
}
