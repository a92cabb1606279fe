/* Freeing memory that held a secret or customer data: wiped first. */
#ifndef BW_WIPE_H
#define BW_WIPE_H

#include <sodium.h>
#include <stdlib.h>

/* Wipes n bytes at p, then frees it; nothing for NULL. */
static inline void bw_wipe_free(void *p, size_t n)
{
	if (p) {
		sodium_memzero(p, n);
		free(p);
	}
}

#endif
