/* Includes cmocka needs first, and small helpers shared by the unit tests. */
#ifndef BW_TEST_COMMON_H
#define BW_TEST_COMMON_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#define assert_contains(hay, needle)                                                               \
	do {                                                                                       \
		const char *h_ = (hay);                                                            \
		if (!h_ || !strstr(h_, (needle)))                                                  \
			fail_msg("\"%s\" does not contain \"%s\"", h_ ? h_ : "(null)", (needle));  \
	} while (0)

#define assert_not_contains(hay, needle)                                                           \
	do {                                                                                       \
		const char *h_ = (hay);                                                            \
		if (h_ && strstr(h_, (needle)))                                                    \
			fail_msg("\"%s\" contains \"%s\"", h_, (needle));                          \
	} while (0)

#endif
