/* Phone numbers through libphonenumber, behind a C interface: the C++ shim
 * (phone_shim.cc) is the only C++ in the project and lets no exception out. */
#ifndef BW_PHONE_H
#define BW_PHONE_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum bw_phone_status {
	BW_PHONE_VALID = 0,
	BW_PHONE_INVALID,      /* parsed, but no such number (libphonenumber's IsValidNumber) */
	BW_PHONE_NOT_A_NUMBER, /* no digits, or not shaped like a number */
	BW_PHONE_NO_COUNTRY,   /* no or an unknown country code, and no usable region */
	BW_PHONE_TOO_SHORT,
	BW_PHONE_TOO_LONG,
	BW_PHONE_ERROR, /* the library failed (out of memory, exception) */
};

/* E.164 has at most 15 digits after '+'. */
#define BW_PHONE_E164_MAX 16

struct bw_phone {
	char e164[BW_PHONE_E164_MAX + 1];
	const char *type; /* static: "MOBILE", "FIXED_LINE", "PREMIUM_RATE", ... */
};

/* Parses text (UTF-8, NUL-terminated, the caller bounds its length) read
 * with region (ISO 3166 alpha-2; NULL or unknown: the number must carry a
 * country code). Only a number libphonenumber holds valid is BW_PHONE_VALID. */
enum bw_phone_status bw_phone_parse(const char *text, const char *region, struct bw_phone *out);

/* Does libphonenumber know this region code ("US", "FR"; upper case)? */
bool bw_phone_region_known(const char *region);

#ifdef __cplusplus
}
#endif

#endif
