/* Splitting one CSV line (RFC 4180 quoting within the line; unquoted fields
 * trimmed of spaces and tabs). */
#ifndef BW_CSV_H
#define BW_CSV_H

/* Splits s (NUL-terminated, without its line end) into fields in place;
 * f receives up to max pointers into s. Returns the number of fields,
 * max + 1 when there are more, -1 when a quote is not closed or text
 * follows a closing quote. */
int bw_csv_fields(char *s, char **f, int max);

#endif
