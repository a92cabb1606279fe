/* Input validation (C16): phone numbers to E.164 through libphonenumber,
 * digit counts, Luhn, calendar dates and bounded POSIX patterns. Reasons are
 * static sentences: nothing here copies the input into a message. */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/flow_int.h"
#include "flow/phone.h"

#define PHONE_INPUT_MAX 64   /* bytes: the longest formatted number plus an extension */
#define MAX_INTERVAL 255     /* a bound of {m,n} in a Pattern */
#define MAX_REPEAT_PRODUCT 1024

static const char *const kind_names[] = {"PhoneNumber", "Digits", "Luhn", "Date", "Pattern"};

int bw_input_kind_parse(const char *name)
{
	for (size_t i = 0; name && i < sizeof(kind_names) / sizeof(kind_names[0]); i++)
		if (!strcmp(name, kind_names[i]))
			return (int)i;
	return -1;
}

const char *bw_input_kind_name(enum bw_input_kind k)
{
	return (unsigned)k < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[k] : "?";
}

bool bw_input_region_ok(const char *region)
{
	return region && strlen(region) == 2 && region[0] >= 'A' && region[0] <= 'Z' &&
	       region[1] >= 'A' && region[1] <= 'Z' && bw_phone_region_known(region);
}

/* Overlong forms, surrogates, values past U+10FFFF and C0/C1 controls fail. */
bool bw_flow__utf8_text(const char *s, size_t n, bool lines, size_t *chars)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, c = 0;
	while (i < n) {
		unsigned b = p[i];
		size_t len;
		unsigned cp;
		if (b < 0x80) {
			if ((b < 0x20 && !(lines && (b == '\n' || b == '\t'))) || b == 0x7f)
				return false;
			i++;
			c++;
			continue;
		}
		if (b >= 0xc2 && b <= 0xdf) {
			len = 2;
			cp = b & 0x1f;
		} else if (b >= 0xe0 && b <= 0xef) {
			len = 3;
			cp = b & 0x0f;
		} else if (b >= 0xf0 && b <= 0xf4) {
			len = 4;
			cp = b & 0x07;
		} else {
			return false;
		}
		if (i + len > n)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp < 0xa0))
			return false;
		i += len;
		c++;
	}
	if (chars)
		*chars = c;
	return true;
}

/* The input is not acceptable: a verdict, not a failure. */
static bw_result invalid(struct bw_input_result *out, const char *why)
{
	out->valid = false;
	out->reason = why;
	out->normalized[0] = '\0';
	return BW_OK;
}

static const char *phone_reason(enum bw_phone_status st)
{
	switch (st) {
	case BW_PHONE_INVALID: return "not a valid phone number";
	case BW_PHONE_NOT_A_NUMBER: return "not a phone number";
	case BW_PHONE_NO_COUNTRY: return "no valid country code (and no default region to read it with)";
	case BW_PHONE_TOO_SHORT: return "too short to be a phone number";
	case BW_PHONE_TOO_LONG: return "too long to be a phone number";
	default: return "the number could not be checked";
	}
}

static bw_result phone(const struct bw_input_rule *r, const char *v, size_t n,
                       struct bw_input_result *out)
{
	if (r->region && !bw_input_region_ok(r->region)) {
		out->reason = "unknown region";
		return BW_INVALID;
	}
	if (n > PHONE_INPUT_MAX)
		return invalid(out, "too long to be a phone number");
	char buf[PHONE_INPUT_MAX + 1];
	memcpy(buf, v, n);
	buf[n] = '\0';
	struct bw_phone ph;
	enum bw_phone_status st = bw_phone_parse(buf, r->region, &ph);
	if (st == BW_PHONE_ERROR)
		return BW_ERR;
	if (st != BW_PHONE_VALID)
		return invalid(out, phone_reason(st));
	out->valid = true;
	out->number_type = ph.type;
	snprintf(out->normalized, sizeof(out->normalized), "%s", ph.e164);
	return BW_OK;
}

/* The digits of v, spaces and dashes ignored; -1 when anything else occurs. */
static int digits_of(const char *v, size_t n, char *out, size_t *count)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = v[i];
		if (ch == ' ' || ch == '-')
			continue;
		if (ch < '0' || ch > '9')
			return -1;
		out[c++] = ch;
	}
	out[c] = '\0';
	*count = c;
	return 0;
}

static bw_result digits(const struct bw_input_rule *r, const char *v, size_t n,
                        struct bw_input_result *out)
{
	if ((r->min >= 0 && r->max >= 0 && r->min > r->max) || r->max > BW_INPUT_MAX ||
	    r->min > BW_INPUT_MAX) {
		out->reason = "min and max must be from 0 to 1024 and min no more than max";
		return BW_INVALID;
	}
	size_t c;
	if (digits_of(v, n, out->normalized, &c) != 0)
		return invalid(out, "only digits, spaces and dashes are allowed");
	if (c == 0)
		return invalid(out, "no digits");
	if (r->min >= 0 && c < (size_t)r->min)
		return invalid(out, "too few digits");
	if (r->max >= 0 && c > (size_t)r->max)
		return invalid(out, "too many digits");
	out->valid = true;
	return BW_OK;
}

static bw_result luhn(const char *v, size_t n, struct bw_input_result *out)
{
	size_t c;
	if (digits_of(v, n, out->normalized, &c) != 0)
		return invalid(out, "only digits, spaces and dashes are allowed");
	if (c < 2)
		return invalid(out, "too few digits for a check digit");
	unsigned sum = 0;
	for (size_t i = 0; i < c; i++) {
		unsigned d = (unsigned)(out->normalized[c - 1 - i] - '0');
		if (i % 2 == 1) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	if (sum % 10 != 0)
		return invalid(out, "the check digit does not match (Luhn)");
	out->valid = true;
	return BW_OK;
}

static int num(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static bw_result date(const char *v, size_t n, struct bw_input_result *out)
{
	static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (n != 10 || v[4] != '-' || v[7] != '-')
		return invalid(out, "a date is written YYYY-MM-DD");
	int y = num(v, 4), m = num(v + 5, 2), d = num(v + 8, 2);
	if (y < 0 || m < 0 || d < 0)
		return invalid(out, "a date is written YYYY-MM-DD");
	if (y < 1 || m < 1 || m > 12 || d < 1)
		return invalid(out, "no such date");
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	int max = dim[m - 1] + (m == 2 && leap ? 1 : 0);
	if (d > max)
		return invalid(out, "no such date");
	memcpy(out->normalized, v, n);
	out->normalized[n] = '\0';
	out->valid = true;
	return BW_OK;
}

/* The repetition bounds of a pattern: each ≤ MAX_INTERVAL and their product
 * ≤ MAX_REPEAT_PRODUCT (what glibc's compiler would otherwise unroll), and
 * no back-reference (\1..\9 make matching exponential). */
static int pattern_shape(const char *p, const char **why)
{
	unsigned long product = 1;
	for (size_t i = 0; p[i]; i++) {
		if (p[i] == '\\') {
			if (p[i + 1] >= '1' && p[i + 1] <= '9') {
				*why = "back-references are not allowed";
				return -1;
			}
			if (p[i + 1])
				i++;
			continue;
		}
		if (p[i] == '[') {
			/* A bracket expression: ']' first is literal; [: :], [. .], [= =] nest. */
			size_t j = i + 1;
			if (p[j] == '^')
				j++;
			if (p[j] == ']')
				j++;
			while (p[j] && p[j] != ']') {
				if (p[j] == '[' && (p[j + 1] == ':' || p[j + 1] == '.' || p[j + 1] == '=')) {
					char close = p[j + 1];
					const char *e = p + j + 2;
					while (*e && !(e[0] == close && e[1] == ']'))
						e++;
					if (!*e)
						break;
					j = (size_t)(e - p) + 2;
					continue;
				}
				j++;
			}
			if (!p[j])
				break; /* unbalanced: regcomp refuses it */
			i = j;
			continue;
		}
		if (p[i] == '{') {
			size_t j = i + 1;
			unsigned long lo = 0, hi = 0;
			bool any = false, comma = false, hi_any = false;
			for (; p[j] >= '0' && p[j] <= '9'; j++, any = true)
				if ((lo = lo * 10 + (unsigned long)(p[j] - '0')) > MAX_INTERVAL)
					goto too_many;
			if (p[j] == ',') {
				comma = true;
				for (j++; p[j] >= '0' && p[j] <= '9'; j++, hi_any = true)
					if ((hi = hi * 10 + (unsigned long)(p[j] - '0')) > MAX_INTERVAL)
						goto too_many;
			}
			if (!any || p[j] != '}')
				continue; /* not an interval: regcomp decides */
			unsigned long m = comma && hi_any ? hi : lo;
			if (m > 1) {
				product *= m;
				if (product > MAX_REPEAT_PRODUCT)
					goto too_many;
			}
			i = j;
		}
	}
	return 0;
too_many:
	*why = "repetition bounds are too large";
	return -1;
}

/* Compiles p anchored to the whole input. */
static int compile_anchored(const char *p, regex_t *re)
{
	size_t n = strlen(p);
	char *a = malloc(n + 5);
	if (!a)
		return -1;
	memcpy(a, "^(", 2);
	memcpy(a + 2, p, n);
	memcpy(a + 2 + n, ")$", 3);
	int rc = regcomp(re, a, REG_EXTENDED | REG_NOSUB);
	free(a);
	return rc == 0 ? 0 : -1;
}

int bw_input_pattern_check(const char *pattern, const char **why)
{
	size_t chars;
	if (!pattern || !pattern[0]) {
		*why = "the pattern is empty";
		return -1;
	}
	if (!bw_flow__utf8_text(pattern, strlen(pattern), false, &chars)) {
		*why = "the pattern must be UTF-8 text without control characters";
		return -1;
	}
	if (chars > BW_FLOW_MAX_PATTERN) {
		*why = "the pattern is longer than 256 characters";
		return -1;
	}
	if (pattern_shape(pattern, why) != 0)
		return -1;
	regex_t re;
	if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0) {
		*why = "not a valid POSIX extended regular expression";
		return -1;
	}
	regfree(&re);
	if (compile_anchored(pattern, &re) != 0) {
		*why = "not a valid POSIX extended regular expression";
		return -1;
	}
	regfree(&re);
	return 0;
}

static bw_result pattern(const struct bw_input_rule *r, const char *v, size_t n,
                         struct bw_input_result *out)
{
	const char *why;
	if (bw_input_pattern_check(r->pattern, &why) != 0) {
		out->reason = why;
		return BW_INVALID;
	}
	regex_t re;
	if (compile_anchored(r->pattern, &re) != 0)
		return BW_ERR;
	memcpy(out->normalized, v, n);
	out->normalized[n] = '\0';
	int rc = regexec(&re, out->normalized, 0, NULL, 0);
	regfree(&re);
	if (rc != 0)
		return invalid(out, "does not match the pattern");
	out->valid = true;
	return BW_OK;
}

bw_result bw_input_validate(const struct bw_input_rule *r, const char *value, size_t len,
                            struct bw_input_result *out)
{
	memset(out, 0, sizeof(*out));
	if (!value) {
		value = "";
		len = 0;
	}
	if (len > BW_INPUT_MAX)
		return invalid(out, "longer than 1024 bytes");
	/* Text only: UTF-8, no control characters (NUL included). */
	if (!bw_flow__utf8_text(value, len, false, NULL))
		return invalid(out, "not text (invalid UTF-8 or a control character)");
	switch (r->kind) {
	case BW_INPUT_PHONE_NUMBER: return phone(r, value, len, out);
	case BW_INPUT_DIGITS: return digits(r, value, len, out);
	case BW_INPUT_LUHN: return luhn(value, len, out);
	case BW_INPUT_DATE: return date(value, len, out);
	case BW_INPUT_PATTERN: return pattern(r, value, len, out);
	}
	out->reason = "unknown kind";
	return BW_INVALID;
}
