#include "sec/token.h"

#include <sodium.h>
#include <string.h>

#include "core/ids.h"

static const char *const prefixes[] = {
	[BW_TOKEN_PLATFORM] = "bwp_",
	[BW_TOKEN_SESSION] = "bws_",
	[BW_TOKEN_CUSTOMER] = "bwc_",
};

void bw_token_new(enum bw_token_kind kind, char out[BW_TOKEN_LEN])
{
	bw_id_random(out, BW_TOKEN_LEN, prefixes[kind], 32);
}

enum bw_token_kind bw_token_kind_of(const char *tok, size_t n)
{
	if (n != 4 + 43)
		return BW_TOKEN_NONE;
	for (size_t i = 4; i < n; i++) {
		char c = tok[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return BW_TOKEN_NONE;
	}
	for (int k = BW_TOKEN_PLATFORM; k <= BW_TOKEN_CUSTOMER; k++)
		if (memcmp(tok, prefixes[k], 4) == 0)
			return (enum bw_token_kind)k;
	return BW_TOKEN_NONE;
}

void bw_token_hash(const char *tok, size_t n, uint8_t out[32])
{
	crypto_generichash(out, 32, (const unsigned char *)tok, n, NULL, 0);
}
