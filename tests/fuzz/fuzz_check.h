/* The fuzz targets' invariant check: a broken invariant aborts, which
 * libFuzzer records as a crash with its input. */
#ifndef BW_FUZZ_CHECK_H
#define BW_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", #cond, __FILE__,    \
			        __LINE__);                                                         \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#endif
