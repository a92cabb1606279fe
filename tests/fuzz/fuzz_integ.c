/* fuzz_integ: the integrations registry's parsers (src/integ/). The first
 * byte picks one; the rest is its input. Besides not crashing:
 *   0 base URL: an accepted URL's canonical form parses again to itself,
 *     with the same host, port and scheme, and holds no '@', '?', '#';
 *   1 address range: an accepted range formats to a text that parses back
 *     to the same range, which contains its own address;
 *   2 request path under "/api/": an accepted path starts with "/api/" and
 *     holds no "/../" or "/./" before its query;
 *   3 stored settings: accepted text encodes to JSON that reads back to the
 *     same JSON;
 *   4 an address (16 bytes, or 4): the class of an IPv4 address and of its
 *     IPv4-mapped IPv6 form agree, and a range listing nothing opens only
 *     public addresses. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "integ/integ.h"

#include "fuzz_check.h"

static void url(const char *s)
{
	struct bw_integ_url u, v;
	if (bw_integ_url_parse(s, &u))
		return;
	CHECK(!strpbrk(u.canonical, "@?#"));
	CHECK(bw_integ_url_parse(u.canonical, &v) == NULL);
	CHECK(!strcmp(u.canonical, v.canonical));
	CHECK(!strcmp(u.host, v.host));
	CHECK(u.port == v.port && u.https == v.https);
}

static void range(const char *s)
{
	struct bw_cidr c, d;
	char t[80];
	if (bw_addr_range_parse(s, &c))
		return;
	bw_addr_range_format(&c, t, sizeof(t));
	CHECK(bw_addr_range_parse(t, &d) == NULL);
	CHECK(c.family == d.family && c.prefix == d.prefix && !memcmp(c.addr, d.addr, 16));
	struct bw_ip ip = {.family = (uint8_t)c.family};
	memcpy(ip.b, c.addr, 16);
	CHECK(bw_addr_range_contains(&c, &ip));
}

static void path(const char *s)
{
	struct bw_integ_config c;
	bw_integ_config_init(&c);
	snprintf(c.prefixes[0], sizeof(c.prefixes[0]), "/api/");
	if (bw_integ_path_check(&c, s))
		return;
	CHECK(!strncmp(s, "/api/", 5));
	size_t n = strcspn(s, "?");
	char *p = strndup(s, n);
	CHECK(p != NULL);
	CHECK(!strstr(p, "/../") && !strstr(p, "/./"));
	CHECK(!(n >= 3 && !strcmp(p + n - 3, "/..")) && !(n >= 2 && !strcmp(p + n - 2, "/.")));
	free(p);
}

static void settings(const char *s)
{
	struct bw_integ_config c, d;
	if (bw_integ_config_load(&c, s) != BW_OK)
		return;
	json_t *a = bw_integ_config_json(&c);
	char *t = json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS);
	CHECK(t != NULL);
	CHECK(bw_integ_config_load(&d, t) == BW_OK);
	json_t *b = bw_integ_config_json(&d);
	char *u = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS);
	CHECK(u != NULL && !strcmp(t, u));
	free(t);
	free(u);
	json_decref(a);
	json_decref(b);
	bw_integ_config_clear(&c);
	bw_integ_config_clear(&d);
}

static void address(const uint8_t *b, size_t n)
{
	struct bw_ip v4 = {.family = 4}, m = {.family = 6}, v6 = {.family = 6};
	struct bw_addr_verdict v;
	if (n < 4)
		return;
	memcpy(v4.b, b, 4);
	m.b[10] = m.b[11] = 0xff;
	memcpy(m.b + 12, b, 4);
	CHECK(bw_addr_classify(&v4, NULL, NULL) == bw_addr_classify(&m, NULL, NULL));
	bw_addr_check(&v4, NULL, 0, &v);
	CHECK(v.allowed == (v.cls == BW_ADDR_PUBLIC) && !v.listed);
	if (n >= 16) {
		memcpy(v6.b, b, 16);
		bw_addr_check(&v6, NULL, 0, &v);
		CHECK(v.allowed == (v.cls == BW_ADDR_PUBLIC));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t n)
{
	if (n < 1 || n > 8192)
		return 0;
	uint8_t which = buf[0] % 5;
	if (which == 4) {
		address(buf + 1, n - 1);
		return 0;
	}
	char *s = malloc(n);
	if (!s)
		return 0;
	memcpy(s, buf + 1, n - 1);
	s[n - 1] = '\0';
	if (which == 0)
		url(s);
	else if (which == 1)
		range(s);
	else if (which == 2)
		path(s);
	else
		settings(s);
	free(s);
	return 0;
}
