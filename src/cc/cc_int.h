/* Internals of the contact-center area: time zones and calendar arithmetic. */
#ifndef BW_CC_INT_H
#define BW_CC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cc/hours.h"

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int64_t bw_cc__days_from_civil(int64_t y, int m, int d);
void bw_cc__civil_from_days(int64_t z, int64_t *y, int *m, int *d);
bool bw_cc__leap(int64_t y);
int bw_cc__mdays(int64_t y, int m);

struct bw_cc__tz;
/* The parsed zone of a name (cached for the life of the process; never
 * freed), or NULL when the name is not a usable TZif zone. */
const struct bw_cc__tz *bw_cc__tz_load(const char *name);
/* Parses a TZif image (for the fuzzer and tests); free with bw_cc__tz_free. */
struct bw_cc__tz *bw_cc__tz_parse(const uint8_t *buf, size_t len);
void bw_cc__tz_free(struct bw_cc__tz *z);
/* Seconds east of UTC in effect at t. */
int32_t bw_cc__tz_offset(const struct bw_cc__tz *z, int64_t t);
/* Where zone files are read (tests may point it elsewhere before any load). */
extern const char *bw_cc__zoneinfo_dir;

#endif
