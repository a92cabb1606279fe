/* The integrations registry's rules (src/integ/integ.c): settings from API
 * bodies with their defaults and the field each error names, the stored
 * form read back all or nothing, base URLs (http/https only, no userinfo,
 * query or fragment; the host curl will use), request paths and prefixes
 * (no way around a prefix with dot segments or encodings), durations, and
 * the target check at registration on IP literals and on `localhost`
 * (resolved from /etc/hosts; no packet is sent, not even a DNS query). */
#include "test_common.h"

#include <stdio.h>
#include <stdlib.h>

#include "integ/integ.h"

static json_t *js(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, 0, &e);
	if (!v)
		fail_msg("bad test JSON %s: %s", text, e.text);
	return v;
}

/* Applies text over the defaults; returns the field of the error or NULL. */
static const char *apply(struct bw_integ_config *c, const char *text, char *why, size_t n)
{
	const char *field = NULL;
	json_t *v = js(text);
	bw_integ_config_init(c);
	int r = bw_integ_config_apply(c, v, &field, why, n);
	json_decref(v);
	if (r == 0)
		assert_null(field);
	else
		assert_non_null(field);
	return r == 0 ? NULL : field;
}

static void test_defaults_and_json(void **state)
{
	(void)state;
	struct bw_integ_config c;
	char why[256];
	assert_null(apply(&c, "{}", why, sizeof(why)));
	json_t *v = bw_integ_config_json(&c);
	char *t = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(
	    t, "{\"allowed_address_ranges\":[],\"allowed_methods\":[\"GET\",\"POST\"],"
	       "\"allowed_path_prefixes\":[\"/\"],\"auth\":{\"type\":\"none\"},"
	       "\"ca_certificate\":null,\"max_response_bytes\":65536,\"timeout_ms\":5000}");
	free(t);
	json_decref(v);
	bw_integ_config_clear(&c);

	assert_null(
	    apply(&c,
	          "{\"allowed_methods\":[\"DELETE\",\"GET\"],\"allowed_path_prefixes\":"
	          "[\"/api/\",\"/v2/x\"],\"timeout_ms\":100,\"max_response_bytes\":1048576,"
	          "\"auth\":{\"type\":\"secret_header\",\"header\":\"X-Api-Key\",\"secret\":"
	          "\"crm-key\"},\"allowed_address_ranges\":[\"127.0.0.1\",\"fd00::/8\"]}",
	          why, sizeof(why)));
	assert_int_equal(c.methods, BW_INTEG_GET | BW_INTEG_DELETE);
	assert_int_equal(c.nprefixes, 2);
	assert_int_equal(c.timeout_ms, 100);
	assert_int_equal(c.max_response_bytes, 1048576);
	assert_int_equal(c.auth, BW_INTEG_AUTH_SECRET_HEADER);
	assert_string_equal(c.header, "X-Api-Key");
	assert_string_equal(c.secret, "crm-key");
	assert_int_equal(c.nranges, 2);
	v = bw_integ_config_json(&c);
	t = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(v);
	/* The stored text reads back to the same settings. */
	struct bw_integ_config back;
	assert_int_equal(bw_integ_config_load(&back, t), BW_OK);
	v = bw_integ_config_json(&back);
	char *t2 = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(v);
	assert_string_equal(t, t2);
	assert_contains(t, "\"allowed_address_ranges\":[\"127.0.0.1/32\",\"fd00::/8\"]");
	assert_contains(t, "\"allowed_methods\":[\"GET\",\"DELETE\"]");
	free(t);
	free(t2);
	bw_integ_config_clear(&back);
	bw_integ_config_clear(&c);
}

static void test_auth_kinds(void **state)
{
	(void)state;
	struct bw_integ_config c;
	char why[256];
	assert_null(apply(&c, "{\"auth\":{\"type\":\"role\"}}", why, sizeof(why)));
	assert_int_equal(c.auth, BW_INTEG_AUTH_ROLE);
	bw_integ_config_clear(&c);
	assert_null(
	    apply(&c, "{\"auth\":{\"type\":\"none\"},\"ca_certificate\":null}", why, sizeof(why)));
	assert_int_equal(c.auth, BW_INTEG_AUTH_NONE);
	assert_null(c.ca_certificate);
	/* mtls takes a certificate (never a key) and the key's secret name */
	assert_string_equal(apply(&c,
	                          "{\"auth\":{\"type\":\"mtls\",\"client_certificate\":\"nope\","
	                          "\"client_key_secret\":\"k\"}}",
	                          why, sizeof(why)),
	                    "auth.client_certificate");
	bw_integ_config_clear(&c);
	assert_string_equal(
	    apply(&c,
	          "{\"auth\":{\"type\":\"mtls\",\"client_certificate\":\"-----BEGIN "
	          "PRIVATE KEY-----\\nMII\\n-----END PRIVATE KEY-----\\n\","
	          "\"client_key_secret\":\"k\"}}",
	          why, sizeof(why)),
	    "auth.client_certificate");
	assert_contains(why, "secrets vault");
	bw_integ_config_clear(&c);
}

static void test_setting_errors(void **state)
{
	(void)state;
	static const struct {
		const char *body, *field;
	} cases[] = {
	    {"{\"allowed_methods\":[]}", "allowed_methods"},
	    {"{\"allowed_methods\":null}", "allowed_methods"},
	    {"{\"allowed_methods\":\"GET\"}", "allowed_methods"},
	    {"{\"allowed_methods\":[\"get\"]}", "allowed_methods"},
	    {"{\"allowed_methods\":[\"CONNECT\"]}", "allowed_methods"},
	    {"{\"allowed_methods\":[\"GET\",\"GET\"]}", "allowed_methods"},
	    {"{\"allowed_methods\":[1]}", "allowed_methods"},
	    {"{\"allowed_path_prefixes\":[]}", "allowed_path_prefixes"},
	    {"{\"allowed_path_prefixes\":[\"api/\"]}", "allowed_path_prefixes"},
	    {"{\"allowed_path_prefixes\":[\"/api/../\"]}", "allowed_path_prefixes"},
	    {"{\"allowed_path_prefixes\":[\"/api/..\"]}", "allowed_path_prefixes"},
	    {"{\"allowed_path_prefixes\":[\"/a?b\"]}", "allowed_path_prefixes"},
	    {"{\"allowed_path_prefixes\":[\"/a%2e\"]}", "allowed_path_prefixes"},
	    {"{\"allowed_path_prefixes\":[\"/a b\"]}", "allowed_path_prefixes"},
	    {"{\"timeout_ms\":99}", "timeout_ms"},
	    {"{\"timeout_ms\":30001}", "timeout_ms"},
	    {"{\"timeout_ms\":500.0}", "timeout_ms"},
	    {"{\"timeout_ms\":\"500\"}", "timeout_ms"},
	    {"{\"max_response_bytes\":0}", "max_response_bytes"},
	    {"{\"max_response_bytes\":1048577}", "max_response_bytes"},
	    {"{\"auth\":null}", "auth"},
	    {"{\"auth\":{}}", "auth.type"},
	    {"{\"auth\":{\"type\":\"basic\"}}", "auth.type"},
	    {"{\"auth\":{\"type\":\"none\",\"secret\":\"x\"}}", "auth.secret"},
	    {"{\"auth\":{\"type\":\"secret_header\",\"secret\":\"x\"}}", "auth.header"},
	    {"{\"auth\":{\"type\":\"secret_header\",\"header\":\"X-K\"}}", "auth.secret"},
	    {"{\"auth\":{\"type\":\"secret_header\",\"header\":\"X K\",\"secret\":\"x\"}}",
	     "auth.header"},
	    {"{\"auth\":{\"type\":\"secret_header\",\"header\":\"Host\",\"secret\":\"x\"}}",
	     "auth.header"},
	    {"{\"auth\":{\"type\":\"secret_header\",\"header\":\"X-K\",\"secret\":\"a b\"}}",
	     "auth.secret"},
	    {"{\"auth\":{\"type\":\"secret_header\",\"header\":\"X-K\",\"secret\":\"s\","
	     "\"value\":\"literal\"}}",
	     "auth.value"},
	    {"{\"auth\":{\"type\":\"mtls\",\"client_key_secret\":\"k\"}}",
	     "auth.client_certificate"},
	    {"{\"allowed_address_ranges\":[\"10.0.0.1/8\"]}", "allowed_address_ranges"},
	    {"{\"allowed_address_ranges\":[\"localhost\"]}", "allowed_address_ranges"},
	    {"{\"allowed_address_ranges\":\"10.0.0.0/8\"}", "allowed_address_ranges"},
	    {"{\"ca_certificate\":\"not a certificate\"}", "ca_certificate"},
	    {"{\"ca_certificate\":5}", "ca_certificate"},
	    {"{\"ca_certificate\":\"-----BEGIN EC PRIVATE KEY-----\\nMHc=\\n-----END EC PRIVATE "
	     "KEY-----\"}",
	     "ca_certificate"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bw_integ_config c;
		char why[256];
		const char *f = apply(&c, cases[i].body, why, sizeof(why));
		if (!f || strcmp(f, cases[i].field))
			fail_msg("%s: field %s, expected %s", cases[i].body, f ? f : "(none)",
			         cases[i].field);
		assert_true(why[0] != '\0');
		bw_integ_config_clear(&c);
	}
}

static void test_stored_text(void **state)
{
	(void)state;
	struct bw_integ_config c;
	static const char *const bad[] = {
	    NULL,
	    "",
	    "[]",
	    "{}",
	    "not json",
	    "{\"allowed_methods\":[\"GET\"],\"allowed_path_prefixes\":[\"/\"],\"timeout_ms\":5000,"
	    "\"max_response_bytes\":1,\"auth\":{\"type\":\"none\"}}", /* ranges missing */
	    "{\"allowed_methods\":[\"GET\"],\"allowed_path_prefixes\":[\"/\"],\"timeout_ms\":5,"
	    "\"max_response_bytes\":1,\"auth\":{\"type\":\"none\"},\"allowed_address_ranges\":[]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(bw_integ_config_load(&c, bad[i]), BW_INVALID);
}

static void test_urls(void **state)
{
	(void)state;
	static const struct {
		const char *in, *canonical, *host;
		bool https;
		unsigned port;
	} ok[] = {
	    {"https://crm.example.com", "https://crm.example.com", "crm.example.com", true, 443},
	    {"https://crm.example.com/", "https://crm.example.com", "crm.example.com", true, 443},
	    {"https://crm.example.com:8443/api/v1/", "https://crm.example.com:8443/api/v1",
	     "crm.example.com", true, 8443},
	    {"http://127.0.0.1:8080", "http://127.0.0.1:8080", "127.0.0.1", false, 8080},
	    {"HTTPS://CRM.example.com/x", "https://CRM.example.com/x", "CRM.example.com", true,
	     443},
	    {"http://[::1]:9000/a", "http://[::1]:9000/a", "::1", false, 9000},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct bw_integ_url u;
		const char *why = bw_integ_url_parse(ok[i].in, &u);
		if (why)
			fail_msg("%s: %s", ok[i].in, why);
		assert_string_equal(u.canonical, ok[i].canonical);
		assert_string_equal(u.host, ok[i].host);
		assert_int_equal(u.https, ok[i].https);
		assert_int_equal(u.port, ok[i].port);
	}
	static const char *const bad[] = {
	    "",
	    "crm.example.com",
	    "//crm.example.com",
	    "ftp://crm.example.com/",
	    "file:///etc/passwd",
	    "gopher://127.0.0.1/",
	    "https://user:pw@crm.example.com/",
	    "https://user@crm.example.com/",
	    "https://crm.example.com/#frag",
	    "https://crm.example.com/?q=1",
	    "https://crm.example.com/a b",
	    "https://crm.example.com\\@evil.example/",
	    "https://crm.exa%6dple.com/",
	    "https://[fe80::1%25eth0]/",
	    "https://crm.example.com:99999/",
	    "https:///path",
	    "https://crm.example.com/a/../b",
	    "https://-bad.example.com/",
	    "https://crm_x.example/",
	    "https://crm.example.com/\xc3\xa9",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct bw_integ_url u;
		if (!bw_integ_url_parse(bad[i], &u))
			fail_msg("%s was accepted (%s)", bad[i], u.canonical);
	}
	char out[64];
	assert_true(bw_integ_url_join("https://h/api", "/v1/x?y=1", out, sizeof(out)));
	assert_string_equal(out, "https://h/api/v1/x?y=1");
	assert_false(bw_integ_url_join("https://h/api", "/v1/x", out, 12));
}

static void test_paths(void **state)
{
	(void)state;
	struct bw_integ_config c;
	char why[256];
	assert_null(
	    apply(&c, "{\"allowed_path_prefixes\":[\"/api/\",\"/status\"]}", why, sizeof(why)));
	static const char *const ok[] = {"/api/",    "/api/x",      "/api/x/y?z=1&w=%2F",
	                                 "/status",  "/statusx",    "/status?x=1",
	                                 "/api/%41", "/api/a.b/..c"};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (bw_integ_path_check(&c, ok[i]))
			fail_msg("%s refused: %s", ok[i], bw_integ_path_check(&c, ok[i]));
	static const char *const bad[] = {
	    "",
	    "api/x",
	    "/",
	    "/apix",
	    "/api",
	    "/other/api/",
	    "/api/../admin",
	    "/api/./x",
	    "/api/..",
	    "/api/%2e%2e/admin",
	    "/api/%2E%2e/admin",
	    "/api%2f../admin",
	    "/api/%2fx",
	    "/api/x#y",
	    "/api/x y",
	    "/api\\x",
	    "/api/%zz",
	    "/api/%4",
	    "/api/%",
	    "/sta?tus",
	    "/api/\x01",
	    "/api/%00",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!bw_integ_path_check(&c, bad[i]))
			fail_msg("%s was accepted", bad[i]);
	assert_string_equal(bw_integ_path_check(&c, "/apix"),
	                    "is under none of allowed_path_prefixes");
	assert_int_equal(bw_integ_method_bit("PATCH"), BW_INTEG_PATCH);
	assert_int_equal(bw_integ_method_bit("patch"), 0);
	assert_int_equal(bw_integ_method_bit(NULL), 0);
}

static void test_durations(void **state)
{
	(void)state;
	long long ms;
	assert_true(bw_integ_duration_parse("30d", &ms));
	assert_int_equal(ms, 30LL * 86400 * 1000);
	assert_true(bw_integ_duration_parse("12h", &ms));
	assert_int_equal(ms, 12LL * 3600 * 1000);
	assert_true(bw_integ_duration_parse("90m", &ms));
	assert_int_equal(ms, 90LL * 60 * 1000);
	assert_true(bw_integ_duration_parse("1s", &ms));
	assert_int_equal(ms, 1000);
	assert_true(bw_integ_duration_parse("3650d", &ms));
	static const char *const bad[] = {"",      "d",         "30",   "0d",  "030d",
	                                  "3651d", "30D",       "30 d", "-3d", "1.5d",
	                                  "30dd",  "99999999d", "1w"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (bw_integ_duration_parse(bad[i], &ms))
			fail_msg("%s was accepted", bad[i]);
}

static bw_result target(const char *url, const char *settings, char *why, size_t n)
{
	struct bw_integ_config c;
	struct bw_integ_url u;
	char w[256];
	assert_null(apply(&c, settings, w, sizeof(w)));
	const char *bad = bw_integ_url_parse(url, &u);
	if (bad)
		fail_msg("%s: %s", url, bad);
	bw_result r = bw_integ_check_target(&u, &c, why, n);
	bw_integ_config_clear(&c);
	return r;
}

static void test_target(void **state)
{
	(void)state;
	char why[400];
	const char *one = "{\"allowed_address_ranges\":[\"127.0.0.1/32\"]}";
	assert_int_equal(target("http://127.0.0.1:9", one, why, sizeof(why)), BW_OK);
	assert_int_equal(target("https://127.0.0.1:9", one, why, sizeof(why)), BW_OK);
	assert_int_equal(target("http://127.0.0.2:9", one, why, sizeof(why)), BW_INVALID);
	assert_string_equal(why, "127.0.0.2 is a loopback address that allowed_address_ranges "
	                         "does not contain");
	assert_int_equal(target("https://169.254.169.254/",
	                        "{\"allowed_address_ranges\":"
	                        "[\"169.254.0.0/16\"]}",
	                        why, sizeof(why)),
	                 BW_INVALID);
	assert_contains(why, "cloud metadata");
	assert_int_equal(target("https://[::ffff:10.1.2.3]/", "{}", why, sizeof(why)), BW_INVALID);
	assert_contains(why, "private");
	/* Plain http needs its addresses listed. */
	assert_int_equal(target("http://127.0.0.1:9", "{}", why, sizeof(why)), BW_INVALID);
	assert_contains(why, "must be https");
	assert_int_equal(target("http://10.1.1.1:9",
	                        "{\"allowed_address_ranges\":"
	                        "[\"127.0.0.1/32\"]}",
	                        why, sizeof(why)),
	                 BW_INVALID);
	/* mtls over http makes no sense. */
	struct bw_integ_config c;
	struct bw_integ_url u;
	assert_null(apply(&c, one, why, sizeof(why)));
	c.auth = BW_INTEG_AUTH_MTLS;
	assert_null(bw_integ_url_parse("http://127.0.0.1:9", &u));
	assert_int_equal(bw_integ_check_target(&u, &c, why, sizeof(why)), BW_INVALID);
	assert_string_equal(why, "mutual TLS needs an https URL");
	/* A name is judged by every address it resolves to: localhost is loopback. */
	assert_int_equal(target("https://localhost:9", "{}", why, sizeof(why)), BW_INVALID);
	assert_contains(why, "localhost resolves to ");
	assert_contains(why, "a loopback address");
	assert_int_equal(target("https://localhost:9",
	                        "{\"allowed_address_ranges\":"
	                        "[\"127.0.0.0/8\",\"::1/128\"]}",
	                        why, sizeof(why)),
	                 BW_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults_and_json),
	    cmocka_unit_test(test_auth_kinds),
	    cmocka_unit_test(test_setting_errors),
	    cmocka_unit_test(test_stored_text),
	    cmocka_unit_test(test_urls),
	    cmocka_unit_test(test_paths),
	    cmocka_unit_test(test_durations),
	    cmocka_unit_test(test_target),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
