/* PII detection and redaction (C13).
 *
 * E-mail addresses first: local@domain with a dotted domain whose last
 * label is two or more letters. Then numbers, outside the addresses. A
 * "run" is digits joined by short separators (1 to 3 of space - . ( ) +,
 * '+' only last), optionally opened by '+' or '('; it may be cut into
 * windows only where the separator is spaces (then optionally '(' or '+'),
 * so "(202) 456-1111" and "123-45-6789-01" stay whole while "4111 1111 1111
 * 1111 12" gives up its trailing "12". A window that starts or ends at the
 * run's edge must not touch a word ("A2024561111", "order#…", "…/25", an
 * address, a placeholder's bracket). From each start, windows of at most
 * six groups are tried longest first:
 *   card   13-19 digits, spaces or dashes only, an issuer prefix (2221-2720,
 *          3[0456789], 4, 5, 6) and a valid Luhn check digit;
 *   SSN    AAA-GG-SSSS (dashes or spaces), area 001-899 but 666, group
 *          01-99, serial 0001-9999;
 *   phone  7-15 digits, not shaped like a date or an IPv4 address, valid
 *          for libphonenumber with the default region (or +CC).
 * The first that matches is replaced and the scan goes on after it.
 *
 * Idempotence (redact(redact(x)) == redact(x), which the fuzzer checks):
 * every decision depends only on the window's own text and on whether its
 * edges may be cut, and a replacement keeps that true for what is left: a
 * placeholder's brackets block a number as the address it replaced did,
 * and a window left beside a replaced one still starts or ends at spaces.
 * Past BW_REDACT_PHONE_BUDGET candidates, runs left over of seven or more
 * digits are all [PHONE]: what remains then has too few digits to match. */
#include "sec/redact.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flow/flow.h"

#define MAX_WINDOW_GROUPS 6
#define MAX_WINDOW_DIGITS 19
#define PHONE_TEXT_MAX 64

static const char *const pii_names[BW_PII_KINDS] = {"CARD", "SSN", "EMAIL", "PHONE"};
static const char *const placeholders[BW_PII_KINDS] = {"[CARD]", "[SSN]", "[EMAIL]", "[PHONE]"};
static const char *const mode_names[] = {"off", "stored", "agents", "both"};

const char *bw_pii_name(enum bw_pii k)
{
	return (unsigned)k < BW_PII_KINDS ? pii_names[k] : "?";
}

int bw_redact_mode_parse(const char *s)
{
	for (int i = 0; s && i < 4; i++)
		if (!strcmp(s, mode_names[i]))
			return i;
	return -1;
}

const char *bw_redact_mode_name(enum bw_redact_mode m)
{
	return (unsigned)m < 4 ? mode_names[m] : "off";
}

/* ---- findings ---- */

struct find {
	size_t off, end;
	enum bw_pii kind;
};

struct finds {
	struct find *v;
	size_t n, cap;
	bool nomem;
};

static void add(struct finds *f, size_t off, size_t end, enum bw_pii kind)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 16;
		struct find *v = realloc(f->v, cap * sizeof(*v));
		if (!v) {
			f->nomem = true;
			return;
		}
		f->v = v;
		f->cap = cap;
	}
	f->v[f->n++] = (struct find){off, end, kind};
}

/* ---- characters ---- */

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_alnum(unsigned char c)
{
	return is_digit(c) || is_alpha(c);
}

static bool local_ch(unsigned char c)
{
	return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

static bool domain_ch(unsigned char c)
{
	return is_alnum(c) || c == '.' || c == '-';
}

static bool sep_ch(unsigned char c)
{
	return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '+';
}

/* The text being scanned, with the addresses found (numbers stay out). */
struct text {
	const char *s;
	size_t n;
	const uint8_t *in_email; /* NULL when there is none */
};

static bool in_email(const struct text *t, size_t i)
{
	return t->in_email && t->in_email[i];
}

/* What a number may not touch: letters and digits, any non-ASCII byte,
 * marks of codes and amounts, the placeholders' brackets, an address. */
static bool wordish(const struct text *t, size_t i)
{
	unsigned char c = (unsigned char)t->s[i];
	return in_email(t, i) || is_alnum(c) || c >= 0x80 || c == '_' || c == '@' || c == '[' ||
	       c == ']' || c == '#' || c == '/' || c == '\\' || c == '$' || c == '%' || c == '&';
}

/* ---- e-mail addresses ---- */

static bool domain_ok(const char *d, size_t n)
{
	size_t labels = 0, i = 0;
	if (n > 253)
		return false;
	while (i <= n) {
		size_t e = i;
		while (e < n && d[e] != '.')
			e++;
		size_t len = e - i;
		if (len < 1 || len > 63 || d[i] == '-' || d[e - 1] == '-')
			return false;
		labels++;
		if (e == n) { /* the last label: two or more letters */
			if (len < 2)
				return false;
			for (size_t k = i; k < e; k++)
				if (!is_alpha((unsigned char)d[k]))
					return false;
		}
		i = e + 1;
	}
	return labels >= 2;
}

static void emails(const char *s, size_t n, struct finds *f)
{
	size_t lo = 0; /* the end of the last address: a local part starts after it */
	for (size_t at = 0; at < n; at++) {
		if (s[at] != '@')
			continue;
		size_t l = at, r = at + 1;
		while (l > lo && local_ch((unsigned char)s[l - 1]))
			l--;
		while (l < at && s[l] == '.')
			l++;
		if (l == at || s[at - 1] == '.')
			continue;
		while (r < n && domain_ch((unsigned char)s[r]))
			r++;
		while (r > at + 1 && (s[r - 1] == '.' || s[r - 1] == '-'))
			r--;
		if (!domain_ok(s + at + 1, r - at - 1))
			continue;
		add(f, l, r, BW_PII_EMAIL);
		lo = r;
		at = r - 1;
	}
}

/* ---- numbers ---- */

struct group {
	size_t start, end; /* the digits */
};

struct run {
	size_t start; /* the first character: a digit, or '+' or '(' before it */
	size_t g, ng; /* its groups in the shared array */
	bool left_free, right_free; /* its edges touch no word */
};

struct runs {
	struct group *g;
	size_t ng, capg;
	struct run *r;
	size_t nr, capr;
	bool nomem;
};

static bool grow(void **v, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return true;
	size_t c = *cap ? *cap * 2 : 32;
	while (c < need)
		c *= 2;
	void *p = realloc(*v, c * size);
	if (!p)
		return false;
	*v = p;
	*cap = c;
	return true;
}

/* A separator inside a run: 1-3 of " -.()+", '+' only last. */
static bool sep_ok(const char *s, size_t k)
{
	for (size_t i = 0; i + 1 < k; i++)
		if (s[i] == '+')
			return false;
	return true;
}

static bool left_free(const struct text *t, size_t start)
{
	if (start == 0)
		return true;
	if (wordish(t, start - 1))
		return false;
	char b = t->s[start - 1];
	return !((b == '-' || b == '.') && start >= 2 && wordish(t, start - 2));
}

static bool right_free(const struct text *t, size_t end)
{
	if (end >= t->n)
		return true;
	if (wordish(t, end))
		return false;
	char a = t->s[end];
	return !((a == '-' || a == '.') && end + 1 < t->n && wordish(t, end + 1));
}

static void tokenize(const struct text *t, struct runs *rs)
{
	const char *s = t->s;
	size_t n = t->n, i = 0;
	while (i < n && !rs->nomem) {
		bool pre = (s[i] == '+' || s[i] == '(') && i + 1 < n && is_digit((unsigned char)s[i + 1]) &&
		           !in_email(t, i + 1);
		if (in_email(t, i) || (!is_digit((unsigned char)s[i]) && !pre)) {
			i++;
			continue;
		}
		struct run r = {.start = i, .g = rs->ng, .ng = 0};
		size_t p = i + pre;
		for (;;) {
			size_t gs = p;
			while (p < n && is_digit((unsigned char)s[p]) && !in_email(t, p))
				p++;
			if (!grow((void **)&rs->g, &rs->capg, rs->ng + 1, sizeof(*rs->g))) {
				rs->nomem = true;
				return;
			}
			rs->g[rs->ng++] = (struct group){gs, p};
			r.ng++;
			size_t q = p, k = 0;
			while (q < n && k < 3 && sep_ch((unsigned char)s[q]) && !in_email(t, q)) {
				q++;
				k++;
			}
			if (!k || q >= n || !is_digit((unsigned char)s[q]) || in_email(t, q) ||
			    !sep_ok(s + p, k))
				break;
			p = q;
		}
		r.left_free = left_free(t, r.start);
		r.right_free = right_free(t, p);
		if (!grow((void **)&rs->r, &rs->capr, rs->nr + 1, sizeof(*rs->r))) {
			rs->nomem = true;
			return;
		}
		rs->r[rs->nr++] = r;
		i = p;
	}
}

/* May a window start at group k of the run (k > 0)? Only after spaces,
 * optionally followed by the '(' or '+' that opens the window. */
static bool cut_before(const struct text *t, const struct group *g, size_t k)
{
	size_t a = g[k - 1].end, b = g[k].start;
	if (b > a && (t->s[b - 1] == '(' || t->s[b - 1] == '+'))
		b--;
	if (a == b)
		return false;
	for (size_t i = a; i < b; i++)
		if (t->s[i] != ' ')
			return false;
	return true;
}

/* Where a window starting at group k begins (its '(' or '+' included). */
static size_t window_start(const struct text *t, const struct run *r, const struct group *g,
                           size_t k)
{
	if (k == 0)
		return r->start;
	size_t b = g[k].start;
	return t->s[b - 1] == '(' || t->s[b - 1] == '+' ? b - 1 : b;
}

static int atoi_n(const char *d, size_t n)
{
	int v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (d[i] - '0');
	return v;
}

static bool luhn(const char *d, size_t n)
{
	int sum = 0;
	for (size_t i = 0; i < n; i++) {
		int v = d[n - 1 - i] - '0';
		if (i % 2) {
			v *= 2;
			if (v > 9)
				v -= 9;
		}
		sum += v;
	}
	return sum % 10 == 0;
}

static bool issuer(const char *d, size_t n)
{
	int two = (d[0] - '0') * 10 + (d[1] - '0');
	int four = two * 100 + (d[2] - '0') * 10 + (d[3] - '0');
	switch (d[0]) {
	case '2': return n == 16 && four >= 2221 && four <= 2720;
	case '3': return two != 31 && two != 32 && two != 33;
	case '4':
	case '5':
	case '6': return true;
	default: return false;
	}
}

/* A window of a run: groups [i, j], its text [off, end). */
struct window {
	const struct group *g;
	size_t i, j, off, end;
	char digits[MAX_WINDOW_DIGITS + 1];
	size_t nd;
};

/* Every separator inside the window is made of the characters of `set`;
 * *single: each is one character, all the same. */
static bool seps_in(const struct text *t, const struct window *w, const char *set, bool *single)
{
	char first = 0;
	*single = true;
	for (size_t k = w->i + 1; k <= w->j; k++) {
		size_t a = w->g[k - 1].end, b = w->g[k].start;
		if (b - a != 1 || (first && t->s[a] != first))
			*single = false;
		if (!first)
			first = t->s[a];
		for (size_t x = a; x < b; x++)
			if (!strchr(set, t->s[x]))
				return false;
	}
	return true;
}

static size_t glen(const struct window *w, size_t k)
{
	return w->g[k].end - w->g[k].start;
}

/* Cards and SSNs may sit in parentheses, never after a '+'. */
static bool no_plus(const struct text *t, const struct window *w)
{
	return t->s[w->off] != '+';
}

static bool is_card(const struct text *t, const struct window *w)
{
	bool single;
	if (w->nd < 13 || !no_plus(t, w) || !seps_in(t, w, " -", &single))
		return false;
	return issuer(w->digits, w->nd) && luhn(w->digits, w->nd);
}

static bool is_ssn(const struct text *t, const struct window *w)
{
	bool single;
	if (w->j - w->i != 2 || glen(w, w->i) != 3 || glen(w, w->i + 1) != 2 ||
	    glen(w, w->j) != 4 || !no_plus(t, w) ||
	    !seps_in(t, w, " -", &single) || !single)
		return false;
	int area = atoi_n(w->digits, 3), group = atoi_n(w->digits + 3, 2),
	    serial = atoi_n(w->digits + 5, 4);
	return area >= 1 && area <= 899 && area != 666 && group >= 1 && serial >= 1;
}

/* Dates (2026-12-25, 25.12.2026) and IPv4 addresses are not phone numbers. */
static bool date_or_address(const struct text *t, const struct window *w)
{
	bool single;
	size_t ng = w->j - w->i + 1;
	if (ng == 3 && seps_in(t, w, "-. ", &single) && single) {
		size_t a = glen(w, w->i), b = glen(w, w->i + 1), c = glen(w, w->j);
		if ((a == 4 && b == 2 && c == 2) || (a == 2 && b == 2 && c == 4))
			return true;
	}
	if (ng == 4 && seps_in(t, w, ".", &single) && single) {
		for (size_t k = w->i; k <= w->j; k++)
			if (glen(w, k) > 3)
				return false;
		return true;
	}
	return false;
}

/* A window worth asking libphonenumber about. */
static bool phone_candidate(const struct text *t, const struct window *w)
{
	return w->nd >= 7 && w->nd <= 15 && w->end - w->off <= PHONE_TEXT_MAX &&
	       !date_or_address(t, w);
}

static bool is_phone(const struct text *t, const struct window *w, const char *region)
{
	struct bw_input_rule rule = {.kind = BW_INPUT_PHONE_NUMBER, .region = region, .min = -1,
	                             .max = -1};
	struct bw_input_result res;
	return bw_input_validate(&rule, t->s + w->off, w->end - w->off, &res) == BW_OK && res.valid;
}

/* Fills w for groups [i, j] of run r; false when it holds too many digits. */
static bool window_at(const struct text *t, const struct run *r, const struct group *g, size_t i,
                      size_t j, struct window *w)
{
	w->g = g;
	w->i = i;
	w->j = j;
	w->off = window_start(t, r, g, i);
	w->end = g[j].end;
	w->nd = 0;
	for (size_t k = i; k <= j; k++) {
		size_t len = g[k].end - g[k].start;
		if (w->nd + len > MAX_WINDOW_DIGITS)
			return false;
		memcpy(w->digits + w->nd, t->s + g[k].start, len);
		w->nd += len;
	}
	w->digits[w->nd] = '\0';
	return true;
}

static bool may_start(const struct text *t, const struct run *r, const struct group *g, size_t k)
{
	return k == 0 ? r->left_free : cut_before(t, g, k);
}

static bool may_end(const struct text *t, const struct run *r, const struct group *g, size_t k)
{
	return k + 1 == r->ng ? r->right_free : cut_before(t, g, k + 1);
}

static size_t last_group(const struct run *r, size_t i)
{
	return i + MAX_WINDOW_GROUPS - 1 < r->ng ? i + MAX_WINDOW_GROUPS - 1 : r->ng - 1;
}

/* The windows of a run that is_phone would be asked about, at most. */
static size_t candidates(const struct text *t, const struct run *r, const struct group *g)
{
	size_t c = 0;
	struct window w;
	for (size_t i = 0; i < r->ng; i++) {
		if (!may_start(t, r, g, i))
			continue;
		for (size_t j = i; j <= last_group(r, i); j++)
			if (may_end(t, r, g, j) && window_at(t, r, g, i, j, &w) && phone_candidate(t, &w))
				c++;
	}
	return c;
}

/* A stretch of groups [first, last] left between findings: with phones
 * off (past the budget) it is a [PHONE] when it holds seven digits. Groups
 * glued to a word at the run's edges stay (up to the nearest cut), as they
 * would with phones on: replacing them could change the word they touch. */
static void leftover(const struct text *t, const struct run *r, const struct group *g,
                     size_t first, size_t last, struct finds *f)
{
	size_t digits = 0;
	if (first > last)
		return;
	if (first == 0 && !r->left_free) {
		while (first <= last && (first == 0 || !cut_before(t, g, first)))
			first++;
		if (first > last)
			return;
	}
	if (last + 1 == r->ng && !r->right_free) {
		while (last >= first && (last + 1 == r->ng || !cut_before(t, g, last + 1))) {
			if (last == first)
				return;
			last--;
		}
	}
	for (size_t k = first; k <= last; k++)
		digits += g[k].end - g[k].start;
	if (digits >= 7)
		add(f, window_start(t, r, g, first), g[last].end, BW_PII_PHONE);
}

static void scan_run(const struct text *t, const struct run *r, const struct group *g,
                     const char *region, bool phones, struct finds *f)
{
	size_t i = 0, seg = 0;
	while (i < r->ng) {
		size_t next = i + 1;
		for (size_t j = last_group(r, i) + 1; may_start(t, r, g, i) && j-- > i;) {
			struct window w;
			if (!may_end(t, r, g, j) || !window_at(t, r, g, i, j, &w))
				continue;
			int kind = is_card(t, &w)  ? BW_PII_CARD
			           : is_ssn(t, &w) ? BW_PII_SSN
			           : phones && phone_candidate(t, &w) && is_phone(t, &w, region)
			               ? BW_PII_PHONE
			               : -1;
			if (kind < 0)
				continue;
			if (!phones && i > 0)
				leftover(t, r, g, seg, i - 1, f);
			/* A card's or an SSN's opening parenthesis stays. */
			add(f, kind == BW_PII_PHONE ? w.off : g[i].start, w.end, (enum bw_pii)kind);
			next = seg = j + 1;
			break;
		}
		i = next;
	}
	if (!phones && seg < r->ng)
		leftover(t, r, g, seg, r->ng - 1, f);
}

static int by_offset(const void *a, const void *b)
{
	const struct find *x = a, *y = b;
	return x->off < y->off ? -1 : x->off > y->off;
}

/* Every finding of s, in order. */
static bool find_all(const char *s, size_t n, const char *region, struct finds *f)
{
	struct text t = {s, n, NULL};
	struct runs rs = {0};
	uint8_t *mark = NULL;
	emails(s, n, f);
	if (f->n && !f->nomem) {
		if (!(mark = calloc(n, 1)))
			f->nomem = true;
		for (size_t k = 0; mark && k < f->n; k++)
			memset(mark + f->v[k].off, 1, f->v[k].end - f->v[k].off);
		t.in_email = mark;
	}
	if (!f->nomem)
		tokenize(&t, &rs);
	size_t cand = 0;
	for (size_t k = 0; k < rs.nr && cand <= BW_REDACT_PHONE_BUDGET; k++)
		cand += candidates(&t, &rs.r[k], rs.g + rs.r[k].g);
	bool phones = cand <= BW_REDACT_PHONE_BUDGET;
	for (size_t k = 0; k < rs.nr && !rs.nomem; k++)
		scan_run(&t, &rs.r[k], rs.g + rs.r[k].g, region, phones, f);
	bool ok = !f->nomem && !rs.nomem;
	if (ok && f->n > 1)
		qsort(f->v, f->n, sizeof(*f->v), by_offset);
	free(mark);
	free(rs.g);
	free(rs.r);
	return ok;
}

char *bw_redact(const char *s, size_t n, const char *region, size_t *outlen,
                unsigned counts[BW_PII_KINDS])
{
	struct finds f = {0};
	char *out = NULL;
	if (!find_all(s, n, region, &f) || !(out = malloc(BW_REDACT_BOUND(n) + 1)))
		goto out;
	size_t o = 0, pos = 0;
	for (size_t k = 0; k < f.n; k++) {
		const struct find *x = &f.v[k];
		const char *ph = placeholders[x->kind];
		size_t pl = strlen(ph);
		memcpy(out + o, s + pos, x->off - pos);
		o += x->off - pos;
		memcpy(out + o, ph, pl);
		o += pl;
		pos = x->end;
		if (counts)
			counts[x->kind]++;
	}
	memcpy(out + o, s + pos, n - pos);
	o += n - pos;
	out[o] = '\0';
	*outlen = o;
out:
	free(f.v);
	return out;
}

bool bw_redact_count(const char *s, size_t n, const char *region, unsigned counts[BW_PII_KINDS])
{
	struct finds f = {0};
	bool ok = find_all(s, n, region, &f);
	for (size_t k = 0; ok && k < f.n; k++)
		counts[f.v[k].kind]++;
	free(f.v);
	return ok;
}
