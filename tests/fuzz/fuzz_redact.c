/* fuzz_redact: PII redaction (src/sec/redact.c). The first 2 bytes are the
 * default region (used only when they are 2 upper-case letters), the rest
 * is the text. Besides not crashing: the output is NUL-free where the
 * input was, never longer than BW_REDACT_BOUND, and redacting it again
 * changes nothing and finds nothing (idempotence: no finding is left);
 * counting agrees with redacting. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sec/redact.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	char region[3] = {(char)data[0], (char)data[1], '\0'};
	bool upper = region[0] >= 'A' && region[0] <= 'Z' && region[1] >= 'A' && region[1] <= 'Z';
	const char *reg = upper ? region : NULL;
	const char *text = (const char *)data + 2;
	size_t n = size - 2, n1 = 0, n2 = 0;
	unsigned c1[BW_PII_KINDS] = {0}, c2[BW_PII_KINDS] = {0}, cc[BW_PII_KINDS] = {0};
	char *once = bw_redact(text, n, reg, &n1, c1);
	if (!once)
		return 0; /* out of memory */
	CHECK(n1 <= BW_REDACT_BOUND(n));
	CHECK(once[n1] == '\0');
	CHECK((memchr(text, '\0', n) != NULL) == (memchr(once, '\0', n1) != NULL));
	char *twice = bw_redact(once, n1, reg, &n2, c2);
	if (twice) {
		CHECK(n2 == n1 && memcmp(once, twice, n1) == 0);
		for (int k = 0; k < BW_PII_KINDS; k++)
			CHECK(c2[k] == 0);
	}
	if (bw_redact_count(text, n, reg, cc))
		CHECK(memcmp(c1, cc, sizeof(cc)) == 0);
	free(once);
	free(twice);
	return 0;
}
