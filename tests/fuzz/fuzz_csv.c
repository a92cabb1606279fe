/* fuzz_csv: one CSV line through bw_csv_fields (the deny-list import).
 * Besides not crashing: the count is -1, 0..max or max + 1; every field
 * lies inside the buffer; and when the line splits cleanly, writing the
 * fields back as quoted CSV and splitting again gives the same fields. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/csv.h"

#include "fuzz_check.h"

#define MAX 6

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t n)
{
	if (n > 4096)
		return 0;
	char *line = malloc(n + 1);
	if (!line)
		return 0;
	memcpy(line, buf, n);
	line[n] = '\0'; /* an embedded NUL ends the line, as strlen would */
	size_t len = strlen(line);
	char *f[MAX];
	int k = bw_csv_fields(line, f, MAX);
	CHECK(k >= -1 && k <= MAX + 1);
	if (k >= 1 && k <= MAX) {
		/* Quote every field (doubling quotes), join, split again. */
		size_t cap = 3 * (len + 1) + 2 * MAX + 1, w = 0;
		char *again = malloc(cap);
		CHECK(again != NULL);
		for (int i = 0; i < k; i++) {
			CHECK(f[i] >= line && f[i] <= line + len);
			if (i)
				again[w++] = ',';
			again[w++] = '"';
			for (const char *p = f[i]; *p; p++) {
				if (*p == '"')
					again[w++] = '"';
				again[w++] = *p;
			}
			again[w++] = '"';
		}
		again[w] = '\0';
		CHECK(w < cap);
		char *g[MAX];
		CHECK(bw_csv_fields(again, g, MAX) == k);
		for (int i = 0; i < k; i++)
			CHECK(strcmp(f[i], g[i]) == 0);
		free(again);
	}
	free(line);
	return 0;
}
