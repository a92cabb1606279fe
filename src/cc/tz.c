/* IANA time zones without touching TZ.
 *
 * localtime_r follows the process-wide TZ: switching it with setenv() in a
 * threaded daemon races every other thread that reads the environment or
 * converts a time. So we read the zone's TZif file ourselves (RFC 8536): the
 * version 2+ block's 64-bit transition table, and, after the last
 * transition, the footer's POSIX TZ rule (e.g. "CET-1CEST,M3.5.0,M10.5.0/3").
 * A parsed zone is immutable and kept for the life of the process in a
 * small table behind a mutex; a tzdata upgrade is picked up at restart.
 * Leap-second ("right/") zones are refused: their clock is not POSIX time. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cc/cc_int.h"

#define TZ_FILE_MAX (256 * 1024)
#define TZ_MAX_TIMES 8192
#define TZ_MAX_TYPES 256
#define TZ_MAX_CHARS 4096
#define TZ_FOOTER_MAX 128
#define TZ_CACHE_MAX 2048

const char *bw_cc__zoneinfo_dir = "/usr/share/zoneinfo";

/* A POSIX TZ rule date: Jn (1..365, no Feb 29), n (0..365), Mm.w.d. */
struct rule_date {
	char kind; /* 'J', 'N', 'M' */
	int a, b, c;
	int32_t time; /* seconds after local midnight, -167h..167h */
};

struct rule {
	bool present;
	bool has_dst;
	int32_t std_off, dst_off; /* seconds east of UTC */
	struct rule_date start, end;
};

struct bw_cc__tz {
	char name[BW_TZ_NAME_MAX + 1];
	size_t n; /* transitions */
	int64_t *at;
	uint8_t *idx;
	size_t ntypes;
	int32_t utoff[TZ_MAX_TYPES];
	struct rule footer;
};

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static struct bw_cc__tz *cache[TZ_CACHE_MAX];
static size_t ncache;

/* ---- calendar ---- */

static int64_t fdiv(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if (a % b != 0 && ((a < 0) != (b < 0)))
		q--;
	return q;
}

bool bw_cc__leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int bw_cc__mdays(int64_t y, int m)
{
	static const int md[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && bw_cc__leap(y) ? 29 : md[m - 1];
}

/* H. Hinnant's days_from_civil / civil_from_days. */
int64_t bw_cc__days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = fdiv(y, 400);
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void bw_cc__civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	z += 719468;
	int64_t era = fdiv(z, 146097);
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* ---- the POSIX TZ footer ---- */

static bool digit(char c)
{
	return c >= '0' && c <= '9';
}

static const char *parse_abbr(const char *p)
{
	const char *s;
	if (*p == '<') {
		s = ++p;
		while (*p && *p != '>')
			p++;
		return *p == '>' && p - s >= 3 ? p + 1 : NULL;
	}
	s = p;
	while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
		p++;
	return p - s >= 3 ? p : NULL;
}

/* [+-]h[h[h]][:mm[:ss]] → signed seconds. */
static const char *parse_hms(const char *p, int max_h, int32_t *out)
{
	int sign = 1, part[3] = {0, 0, 0};
	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	for (int k = 0; k < 3; k++) {
		if (k && *p != ':')
			break;
		if (k)
			p++;
		if (!digit(*p))
			return NULL;
		int nd = 0;
		while (digit(*p) && nd < 3) {
			part[k] = part[k] * 10 + (*p++ - '0');
			nd++;
		}
		if ((k == 0 && part[0] > max_h) || (k > 0 && (nd > 2 || part[k] > 59)))
			return NULL;
	}
	*out = sign * (part[0] * 3600 + part[1] * 60 + part[2]);
	return p;
}

static const char *parse_num(const char *p, int lo, int hi, int *out)
{
	int v = 0, nd = 0;
	while (digit(*p) && nd < 4) {
		v = v * 10 + (*p++ - '0');
		nd++;
	}
	if (!nd || v < lo || v > hi)
		return NULL;
	*out = v;
	return p;
}

static const char *parse_date(const char *p, struct rule_date *d)
{
	memset(d, 0, sizeof(*d));
	d->time = 2 * 3600;
	if (*p == 'J') {
		d->kind = 'J';
		p = parse_num(p + 1, 1, 365, &d->a);
	} else if (*p == 'M') {
		d->kind = 'M';
		p = parse_num(p + 1, 1, 12, &d->a);
		if (p && *p == '.')
			p = parse_num(p + 1, 1, 5, &d->b);
		else
			p = NULL;
		if (p && *p == '.')
			p = parse_num(p + 1, 0, 6, &d->c);
		else
			p = NULL;
	} else {
		d->kind = 'N';
		p = parse_num(p, 0, 365, &d->a);
	}
	if (p && *p == '/')
		p = parse_hms(p + 1, 167, &d->time);
	return p;
}

static bool parse_rule(const char *p, struct rule *r)
{
	int32_t v;
	memset(r, 0, sizeof(*r));
	if (!*p)
		return true; /* empty footer: the last transition's type holds */
	if (!(p = parse_abbr(p)) || !(p = parse_hms(p, 24, &v)))
		return false;
	r->std_off = -v; /* POSIX offsets count west */
	r->present = true;
	if (!*p)
		return true;
	if (!(p = parse_abbr(p)))
		return false;
	r->has_dst = true;
	r->dst_off = r->std_off + 3600;
	if (*p && *p != ',') {
		if (!(p = parse_hms(p, 24, &v)))
			return false;
		r->dst_off = -v;
	}
	if (!*p) { /* no rule given: the US rule, as glibc assumes */
		r->start = (struct rule_date){'M', 3, 2, 0, 7200};
		r->end = (struct rule_date){'M', 11, 1, 0, 7200};
		return true;
	}
	if (*p != ',' || !(p = parse_date(p + 1, &r->start)) || *p != ',' ||
	    !(p = parse_date(p + 1, &r->end)) || *p)
		return false;
	return true;
}

static int64_t rule_day(const struct rule_date *d, int64_t y)
{
	int64_t jan1 = bw_cc__days_from_civil(y, 1, 1);
	if (d->kind == 'J')
		return jan1 + d->a - 1 + (bw_cc__leap(y) && d->a >= 60);
	if (d->kind == 'N')
		return jan1 + d->a;
	int64_t first = bw_cc__days_from_civil(y, d->a, 1);
	int wd = (int)(((first + 4) % 7 + 7) % 7); /* 0 = Sunday; 1970-01-01 was a Thursday */
	int64_t day = first + (d->c - wd + 7) % 7 + (int64_t)(d->b - 1) * 7;
	while (day >= first + bw_cc__mdays(y, d->a))
		day -= 7;
	return day;
}

static int32_t rule_offset(const struct rule *r, int64_t t)
{
	if (!r->has_dst)
		return r->std_off;
	int64_t y;
	int m, d;
	bw_cc__civil_from_days(fdiv(t + r->std_off, 86400), &y, &m, &d);
	/* Each change happens at a local time of the offset in force before it. */
	int64_t s = rule_day(&r->start, y) * 86400 + r->start.time - r->std_off;
	int64_t e = rule_day(&r->end, y) * 86400 + r->end.time - r->dst_off;
	bool dst = s < e ? (t >= s && t < e) : !(t >= e && t < s);
	return dst ? r->dst_off : r->std_off;
}

/* ---- TZif ---- */

struct hdr {
	uint8_t version;
	uint32_t isut, isstd, leap, time, type, chars;
};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static bool read_hdr(const uint8_t *p, size_t len, struct hdr *h)
{
	if (len < 44 || memcmp(p, "TZif", 4) != 0)
		return false;
	h->version = p[4];
	h->isut = be32(p + 20);
	h->isstd = be32(p + 24);
	h->leap = be32(p + 28);
	h->time = be32(p + 32);
	h->type = be32(p + 36);
	h->chars = be32(p + 40);
	return h->time <= TZ_MAX_TIMES && h->type >= 1 && h->type <= TZ_MAX_TYPES &&
	       h->chars >= 1 && h->chars <= TZ_MAX_CHARS && h->leap <= TZ_MAX_TIMES &&
	       (h->isstd == 0 || h->isstd == h->type) && (h->isut == 0 || h->isut == h->type);
}

static size_t block_len(const struct hdr *h, size_t tsz)
{
	return h->time * tsz + h->time + h->type * 6 + h->chars + h->leap * (tsz + 4) + h->isstd +
	       h->isut;
}

void bw_cc__tz_free(struct bw_cc__tz *z)
{
	if (z) {
		free(z->at);
		free(z->idx);
		free(z);
	}
}

struct bw_cc__tz *bw_cc__tz_parse(const uint8_t *buf, size_t len)
{
	struct hdr h;
	size_t off = 44, tsz = 4;
	if (!read_hdr(buf, len, &h))
		return NULL;
	if (h.version >= '2') {
		size_t skip = block_len(&h, 4);
		if (len - off < skip)
			return NULL;
		off += skip;
		if (!read_hdr(buf + off, len - off, &h))
			return NULL;
		off += 44;
		tsz = 8;
	} else if (h.version != 0) {
		return NULL;
	}
	size_t bl = block_len(&h, tsz);
	if (len - off < bl || h.leap != 0)
		return NULL;
	struct bw_cc__tz *z = calloc(1, sizeof(*z));
	if (!z)
		return NULL;
	z->n = h.time;
	z->ntypes = h.type;
	z->at = calloc(h.time ? h.time : 1, sizeof(*z->at));
	z->idx = calloc(h.time ? h.time : 1, 1);
	if (!z->at || !z->idx)
		goto bad;
	const uint8_t *p = buf + off;
	for (size_t i = 0; i < z->n; i++) {
		z->at[i] = tsz == 8 ? be64(p + 8 * i) : (int32_t)be32(p + 4 * i);
		if (i && z->at[i] <= z->at[i - 1])
			goto bad;
	}
	p += z->n * tsz;
	for (size_t i = 0; i < z->n; i++)
		if ((z->idx[i] = p[i]) >= z->ntypes)
			goto bad;
	p += z->n;
	for (size_t i = 0; i < z->ntypes; i++) {
		int32_t u = (int32_t)be32(p + 6 * i);
		if (u < -89999 || u > 93599 || p[6 * i + 4] > 1 || p[6 * i + 5] >= h.chars)
			goto bad;
		z->utoff[i] = u;
	}
	off += bl;
	if (tsz == 8) { /* the footer: "\n" TZ "\n" */
		char footer[TZ_FOOTER_MAX + 1];
		if (off >= len || buf[off] != '\n')
			goto bad;
		const uint8_t *e = memchr(buf + off + 1, '\n', len - off - 1);
		size_t fl = e ? (size_t)(e - (buf + off + 1)) : 0;
		if (!e || fl > TZ_FOOTER_MAX)
			goto bad;
		memcpy(footer, buf + off + 1, fl);
		footer[fl] = '\0';
		if (!parse_rule(footer, &z->footer))
			goto bad;
	}
	return z;
bad:
	bw_cc__tz_free(z);
	return NULL;
}

static bool name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > BW_TZ_NAME_MAX || s[0] == '/' || strstr(s, ".."))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || digit(c) || c == '_' ||
		      c == '+' || c == '-' || c == '/'))
			return false;
	}
	return true;
}

static struct bw_cc__tz *tz_read(const char *name)
{
	char path[512];
	struct stat sb;
	struct bw_cc__tz *z = NULL;
	int n = snprintf(path, sizeof(path), "%s/%s", bw_cc__zoneinfo_dir, name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	uint8_t *buf = NULL;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size < 44 ||
	    sb.st_size > TZ_FILE_MAX || !(buf = malloc((size_t)sb.st_size)))
		goto out;
	size_t got = 0, want = (size_t)sb.st_size;
	while (got < want) {
		ssize_t r = read(fd, buf + got, want - got);
		if (r <= 0)
			goto out;
		got += (size_t)r;
	}
	z = bw_cc__tz_parse(buf, got);
	if (z)
		snprintf(z->name, sizeof(z->name), "%s", name);
out:
	free(buf);
	close(fd);
	return z;
}

static struct bw_cc__tz *cache_find(const char *name)
{
	for (size_t i = 0; i < ncache; i++)
		if (!strcmp(cache[i]->name, name))
			return cache[i];
	return NULL;
}

const struct bw_cc__tz *bw_cc__tz_load(const char *name)
{
	if (!name || !name_ok(name))
		return NULL;
	pthread_mutex_lock(&cache_mu);
	struct bw_cc__tz *z = cache_find(name);
	pthread_mutex_unlock(&cache_mu);
	if (z)
		return z;
	struct bw_cc__tz *fresh = tz_read(name); /* outside the lock: file I/O */
	if (!fresh)
		return NULL;
	pthread_mutex_lock(&cache_mu);
	z = cache_find(name);
	if (!z && ncache < TZ_CACHE_MAX) {
		cache[ncache++] = fresh;
		z = fresh;
		fresh = NULL;
	}
	pthread_mutex_unlock(&cache_mu);
	bw_cc__tz_free(fresh);
	return z;
}

int32_t bw_cc__tz_offset(const struct bw_cc__tz *z, int64_t t)
{
	if (z->n == 0 || t > z->at[z->n - 1]) {
		if (z->footer.present)
			return rule_offset(&z->footer, t);
		return z->utoff[z->n ? z->idx[z->n - 1] : 0];
	}
	if (t < z->at[0])
		return z->utoff[0];
	size_t lo = 0, hi = z->n - 1; /* the last transition at or before t */
	while (lo < hi) {
		size_t mid = lo + (hi - lo + 1) / 2;
		if (z->at[mid] <= t)
			lo = mid;
		else
			hi = mid - 1;
	}
	return z->utoff[z->idx[lo]];
}
