/* fuzz_phone: input validation (src/flow/validate_input.c and the
 * libphonenumber shim). The first 2 bytes are the default region (used
 * only when they are 2 upper-case letters), the rest is the input. Besides
 * not crashing (no exception may cross the shim): a valid phone number's
 * normalized form starts with '+', holds only digits after it, and
 * validates again to itself with the same type, with or without a region;
 * the digit kinds normalize to digits only; a reason never holds the input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/flow.h"

#include "fuzz_check.h"

static struct bw_input_result res, again;

static void phone(const char *region, const char *in, size_t n)
{
	struct bw_input_rule r = {.kind = BW_INPUT_PHONE_NUMBER, .region = region};
	bw_result rc = bw_input_validate(&r, in, n, &res);
	if (rc == BW_INVALID) {
		CHECK(region && !bw_input_region_ok(region));
		return;
	}
	CHECK(rc == BW_OK);
	if (!res.valid) {
		CHECK(res.reason && res.reason[0]);
		return;
	}
	size_t len = strlen(res.normalized);
	CHECK(res.normalized[0] == '+' && len >= 2 && len <= 16);
	for (size_t i = 1; i < len; i++)
		CHECK(res.normalized[i] >= '0' && res.normalized[i] <= '9');
	CHECK(res.number_type != NULL);
	const char *regions[] = {region, NULL};
	for (int k = 0; k < 2; k++) {
		struct bw_input_rule r2 = {.kind = BW_INPUT_PHONE_NUMBER, .region = regions[k]};
		CHECK(bw_input_validate(&r2, res.normalized, len, &again) == BW_OK);
		CHECK(again.valid);
		CHECK(!strcmp(again.normalized, res.normalized));
		CHECK(!strcmp(again.number_type, res.number_type));
	}
}

static void digit_kinds(const char *in, size_t n)
{
	static const enum bw_input_kind kinds[] = {BW_INPUT_DIGITS, BW_INPUT_LUHN, BW_INPUT_DATE};
	for (size_t k = 0; k < 3; k++) {
		struct bw_input_rule r = {.kind = kinds[k], .min = -1, .max = -1};
		CHECK(bw_input_validate(&r, in, n, &res) == BW_OK);
		if (!res.valid) {
			CHECK(res.reason && res.reason[0]);
			continue;
		}
		size_t len = strlen(res.normalized);
		CHECK(len >= 1 && len <= n);
		for (size_t i = 0; i < len; i++)
			CHECK((res.normalized[i] >= '0' && res.normalized[i] <= '9') ||
			      (kinds[k] == BW_INPUT_DATE && res.normalized[i] == '-'));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t n)
{
	if (n < 2)
		return 0;
	char region[3] = {(char)buf[0], (char)buf[1], '\0'};
	bool letters = region[0] >= 'A' && region[0] <= 'Z' && region[1] >= 'A' && region[1] <= 'Z';
	const char *in = (const char *)buf + 2;
	n -= 2;
	phone(letters ? region : NULL, in, n);
	digit_kinds(in, n);
	return 0;
}
