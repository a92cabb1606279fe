/* One line of CSV (RFC 4180 quoting within a line), split in place: the
 * deny-list import reads its files with it. */
#include "core/csv.h"

#include <string.h>

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/* Splits one line (without its line end) into fields in place, with RFC
 * 4180 quoting inside the line; unquoted fields are trimmed. Returns the
 * number of fields (max + 1 when there are more), -1 when a quote is not
 * closed or text follows a closing quote. */
int bw_csv_fields(char *s, char **f, int max)
{
	int n = 0;
	for (;;) {
		if (n == max)
			return max + 1;
		char *start = s;
		while (*start == ' ' || *start == '\t')
			start++;
		if (*start != '"') {
			char *comma = strchr(s, ',');
			if (comma)
				*comma = '\0';
			f[n++] = trim(s);
			if (!comma)
				return n;
			s = comma + 1;
			continue;
		}
		char *out = start, *r = start + 1;
		f[n++] = start;
		for (;;) {
			if (!*r)
				return -1;
			if (*r == '"' && r[1] == '"') {
				*out++ = '"';
				r += 2;
			} else if (*r == '"') {
				r++;
				break;
			} else {
				*out++ = *r++;
			}
		}
		while (*r == ' ' || *r == '\t')
			r++;
		char next = *r;
		*out = '\0'; /* out < r: the rest of the line is intact */
		if (next != ',' && next)
			return -1;
		if (!next)
			return n;
		s = r + 1;
	}
}

