/* Milliseconds per argon2id hash at the chosen cost (t=2, m=19 MiB). */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/ids.h"
#include "sec/password.h"

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	char out[crypto_pwhash_STRBYTES];
	const char *pw = "correct horse battery staple";
	int n = 20;
	double t0 = bw_now_mono();
	for (int i = 0; i < n; i++)
		if (crypto_pwhash_str(out, pw, strlen(pw), BW_PW_OPSLIMIT, BW_PW_MEMLIMIT) != 0)
			return 1;
	double dt = bw_now_mono() - t0;
	printf("argon2id t=%d m=%u MiB: %.1f ms per hash (one core)\n", BW_PW_OPSLIMIT,
	       BW_PW_MEMLIMIT >> 20, dt * 1000.0 / n);
	return 0;
}
