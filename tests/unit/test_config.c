/* Settings (src/core/config.c, settings.c): types, bounds, enums, CIDR
 * lists, the file and environment sources, HOST:PORT and CIDR parsing. */
#include "test_common.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/config.h"

static struct bw_config cfg;
static struct bw_config_err err;

static int setup(void **state)
{
	(void)state;
	bw_config_init(&cfg);
	memset(&err, 0, sizeof(err));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	bw_config_free(&cfg);
	return 0;
}

static int set(const char *name, const char *value)
{
	memset(&err, 0, sizeof(err));
	return bw_config_set(&cfg, name, value, "test", &err);
}

static void test_unknown_setting(void **state)
{
	(void)state;
	assert_int_equal(set("no_such_setting", "1"), -1);
	assert_contains(err.msg, "no_such_setting");
	assert_contains(err.msg, "unknown setting");
	assert_int_equal(bw_config_index("no_such_setting"), -1);
	assert_true(bw_config_index("listen") >= 0);
}

static void test_int_bounds(void **state)
{
	(void)state;
	/* max_body_bytes is [1 KiB, 64 MiB]. */
	assert_int_equal(set("max_body_bytes", "1024"), 0);
	assert_int_equal(bw_config_int(&cfg, "max_body_bytes"), 1024);
	assert_int_equal(set("max_body_bytes", "67108864"), 0);
	assert_int_equal(bw_config_int(&cfg, "max_body_bytes"), 67108864);
	assert_int_equal(set("max_body_bytes", "1023"), -1);
	assert_contains(err.msg, "max_body_bytes");
	assert_contains(err.msg, "between 1024 and 67108864");
	assert_contains(err.msg, "(got \"1023\")");
	assert_int_equal(set("max_body_bytes", "67108865"), -1);
	/* A refused value leaves the previous one in place. */
	assert_int_equal(bw_config_int(&cfg, "max_body_bytes"), 67108864);
	assert_string_equal(bw_config_str(&cfg, "max_body_bytes"), "67108864");
	/* The lower bound 0 is allowed where the table says so. */
	assert_int_equal(set("shutdown_timeout_ms", "0"), 0);
	assert_int_equal(set("workers", "0"), -1);
	assert_int_equal(set("workers", "-1"), -1);
}

static void test_int_type(void **state)
{
	(void)state;
	const char *bad[] = {"",    "abc", "12x", "1.5", "+5", "0x10", "99999999999999999999",
	                     "- 1", "4 4"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(set("workers", bad[i]), -1);
		assert_contains(err.msg, "workers");
	}
	/* Surrounding white space is trimmed. */
	assert_int_equal(set("workers", "  8\t"), 0);
	assert_int_equal(bw_config_int(&cfg, "workers"), 8);
	assert_string_equal(bw_config_str(&cfg, "workers"), "8");
}

static void test_enum(void **state)
{
	(void)state;
	assert_int_equal(set("log_level", "debug"), 0);
	assert_string_equal(bw_config_str(&cfg, "log_level"), "debug");
	assert_int_equal(set("log_level", "error"), 0);
	const char *bad[] = {"DEBUG", "deb", "debugx", "", "info|warn", "|"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(set("log_level", bad[i]), -1);
	assert_contains(err.msg, "debug|info|warn|error");
	assert_string_equal(bw_config_str(&cfg, "log_level"), "error");
	assert_int_equal(set("durability", "full"), 0);
	assert_int_equal(set("durability", "fsync"), -1);
}

static void test_cidr_list(void **state)
{
	(void)state;
	assert_int_equal(set("trusted_proxies", "10.0.0.0/8, ::1/128,192.168.1.0/24"), 0);
	assert_int_equal(set("trusted_proxies", ""), 0); /* the empty list */
	assert_int_equal(set("trusted_proxies", "127.0.0.1"), 0);
	assert_int_equal(set("trusted_proxies", "10.0.0.0/8,,::1"), 0);
	assert_int_equal(set("trusted_proxies", "10.0.0.1/8"), -1);
	assert_contains(err.msg, "trusted_proxies");
	assert_contains(err.msg, "10.0.0.1/8");
	assert_int_equal(set("trusted_proxies", "10.0.0.0/8, garbage"), -1);
	assert_contains(err.msg, "garbage");
	assert_int_equal(set("trusted_proxies", "10.0.0.0/33"), -1);
	assert_int_equal(set("trusted_proxies", "::/129"), -1);
}

static void test_addr_and_path(void **state)
{
	(void)state;
	assert_int_equal(set("listen", "127.0.0.1:0"), 0);
	assert_int_equal(set("listen", "[::1]:0"), 0);
	assert_int_equal(set("listen", "localhost:8080"), 0);
	const char *bad[] = {
	    "example.com:80", "127.0.0.1", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:+1",
	    "127.0.0.1:",     ":80",       "[::1]",           "[::1]80",      "::1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(set("listen", bad[i]), -1);
		assert_contains(err.msg, "listen");
	}
	assert_string_equal(bw_config_str(&cfg, "listen"), "localhost:8080");
	assert_int_equal(set("data", "/var/lib/bulwark"), 0);
	assert_int_equal(set("data", ""), -1);
	assert_int_equal(set("data", "   "), -1);
}

static void test_finish(void **state)
{
	(void)state;
	assert_int_equal(bw_config_finish(&cfg, &err), -1);
	assert_contains(err.msg, "data");
	assert_int_equal(set("data", "/tmp/x"), 0);
	assert_int_equal(set("workers", "7"), 0);
	assert_int_equal(bw_config_finish(&cfg, &err), 0);
	assert_string_equal(bw_config_str(&cfg, "listen"), "127.0.0.1:8080");
	assert_int_equal(bw_config_int(&cfg, "max_body_bytes"), 1048576);
	assert_int_equal(bw_config_int(&cfg, "workers"), 7); /* not overwritten */
	assert_string_equal(cfg.source[bw_config_index("workers")], "test");
	assert_string_equal(cfg.source[bw_config_index("listen")], "default");
	assert_null(bw_config_str(&cfg, "tls_cert"));
	assert_int_equal(bw_config_int(&cfg, "no_such"), 0);
	assert_null(bw_config_str(&cfg, "no_such"));
}

static void test_finish_tls_pair(void **state)
{
	(void)state;
	assert_int_equal(set("data", "/tmp/x"), 0);
	assert_int_equal(set("tls_cert", "/tmp/cert.pem"), 0);
	assert_int_equal(bw_config_finish(&cfg, &err), -1);
	assert_contains(err.msg, "tls_key");
}

static void test_env(void **state)
{
	(void)state;
	char *envp[] = {
	    "PATH=/usr/bin",
	    "BULWARK_URL=http://127.0.0.1:8080", /* the CLI's, ignored by serve */
	    "BULWARK_TOKEN=bwp_x",
	    "BULWARK_ROOT_KEY=/x/root.key",
	    "BULWARK_LISTEN=127.0.0.1:1234",
	    "BULWARK_LOG_LEVEL=warn",
	    "BULWARKLISTEN=1",
	    NULL,
	};
	assert_int_equal(bw_config_load_env(&cfg, envp, &err), 0);
	assert_string_equal(bw_config_str(&cfg, "listen"), "127.0.0.1:1234");
	assert_string_equal(bw_config_str(&cfg, "log_level"), "warn");
	assert_string_equal(cfg.source[bw_config_index("listen")], "env");

	/* Variables naming no setting are ignored (API.md): a script's own, a typo. */
	char *unknown[] = {"BULWARK_FOO=1", "BULWARK_URLS=x", "BULWARK_BIN=/x", NULL};
	assert_int_equal(bw_config_load_env(&cfg, unknown, &err), 0);
	assert_string_equal(bw_config_str(&cfg, "listen"), "127.0.0.1:1234");

	char *bounds[] = {"BULWARK_WORKERS=0", NULL};
	assert_int_equal(bw_config_load_env(&cfg, bounds, &err), -1);
	assert_contains(err.msg, "workers");

	char longname[200] = "BULWARK_";
	memset(longname + 8, 'A', 150);
	memcpy(longname + 158, "=1", 3);
	char *toolong[] = {longname, NULL};
	assert_int_equal(bw_config_load_env(&cfg, toolong, &err), 0); /* names nothing: ignored */
}

static void test_file(void **state)
{
	(void)state;
	char path[] = "/tmp/bw_test_config_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("# comment\nlisten = 127.0.0.1:0\nworkers = 8\n", f);
	fclose(f);
	assert_int_equal(bw_config_load_file(&cfg, path, &err), 0);
	assert_int_equal(bw_config_int(&cfg, "workers"), 8);
	assert_string_equal(cfg.source[bw_config_index("workers")], "file");

	f = fopen(path, "w");
	assert_non_null(f);
	fputs("[server]\nworkers = 8\n", f);
	fclose(f);
	assert_int_equal(bw_config_load_file(&cfg, path, &err), -1);
	assert_contains(err.msg, "sections");

	f = fopen(path, "w");
	assert_non_null(f);
	fputs("workers = 9\nbogus = 1\n", f);
	fclose(f);
	assert_int_equal(bw_config_load_file(&cfg, path, &err), -1);
	assert_contains(err.msg, "bogus");
	unlink(path);

	assert_int_equal(bw_config_load_file(&cfg, "/nonexistent/bulwark.conf", &err), -1);
	assert_contains(err.msg, "cannot read");
}

static void test_hostport(void **state)
{
	(void)state;
	char host[64];
	uint16_t port = 1;
	assert_int_equal(bw_parse_hostport("[::1]:0", host, sizeof(host), &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 0);
	assert_int_equal(bw_parse_hostport("127.0.0.1:8080", host, sizeof(host), &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 8080);
	assert_int_equal(bw_parse_hostport("[2001:db8::1]:65535", host, sizeof(host), &port), 0);
	assert_string_equal(host, "2001:db8::1");
	assert_int_equal(port, 65535);
	assert_int_equal(bw_parse_hostport("localhost:1", host, sizeof(host), &port), 0);
	const char *bad[] = {
	    "[::1]",         "[::1]:",     "[::1:80",         "::1]:80",       ":80",
	    "1.2.3.4:99999", "1.2.3.4:8x", "host.example:80", "[1.2.3.4.5]:1", ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		port = 4242;
		assert_int_equal(bw_parse_hostport(bad[i], host, sizeof(host), &port), -1);
		assert_int_equal(port, 4242); /* untouched on failure */
	}
	/* A host longer than the buffer is refused, not cut. */
	char small[8];
	assert_int_equal(bw_parse_hostport("192.168.100.200:1", small, sizeof(small), &port), -1);
}

static void v4(const char *s, uint8_t out[16])
{
	memset(out, 0, 16);
	assert_int_equal(inet_pton(AF_INET, s, out), 1);
}

static void v6(const char *s, uint8_t out[16])
{
	assert_int_equal(inet_pton(AF_INET6, s, out), 1);
}

static void test_cidr_v4(void **state)
{
	(void)state;
	struct bw_cidr c;
	uint8_t a[16];
	assert_int_equal(bw_cidr_parse("10.0.0.0/8", &c), 0);
	assert_int_equal(c.family, 4);
	assert_int_equal(c.prefix, 8);
	v4("10.255.1.2", a);
	assert_true(bw_cidr_match(&c, 4, a));
	v4("11.0.0.0", a);
	assert_false(bw_cidr_match(&c, 4, a));

	assert_int_equal(bw_cidr_parse("192.168.0.0/23", &c), 0);
	v4("192.168.1.255", a);
	assert_true(bw_cidr_match(&c, 4, a));
	v4("192.168.2.1", a);
	assert_false(bw_cidr_match(&c, 4, a));

	assert_int_equal(bw_cidr_parse("203.0.113.9", &c), 0); /* a host */
	assert_int_equal(c.prefix, 32);
	v4("203.0.113.9", a);
	assert_true(bw_cidr_match(&c, 4, a));
	v4("203.0.113.8", a);
	assert_false(bw_cidr_match(&c, 4, a));

	assert_int_equal(bw_cidr_parse("0.0.0.0/0", &c), 0);
	v4("1.2.3.4", a);
	assert_true(bw_cidr_match(&c, 4, a));
	v6("::1", a);
	assert_false(bw_cidr_match(&c, 6, a)); /* another family never matches */

	/* Host bits set: almost always a typo. */
	assert_int_equal(bw_cidr_parse("10.0.0.1/8", &c), -1);
	assert_int_equal(bw_cidr_parse("192.168.1.0/23", &c), -1);
	assert_int_equal(bw_cidr_parse("0.0.0.1/0", &c), -1);
	const char *bad[] = {"",
	                     "/8",
	                     "10.0.0.0/",
	                     "10.0.0.0/-1",
	                     "10.0.0.0/ 8",
	                     "10.0.0.0/8x",
	                     "10.0.0.0/33",
	                     "10.0.0/8",
	                     "10.0.0.0/+8",
	                     "10.0.0.0 /8",
	                     "x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(bw_cidr_parse(bad[i], &c), -1);
}

static void test_cidr_v6(void **state)
{
	(void)state;
	struct bw_cidr c;
	uint8_t a[16];
	assert_int_equal(bw_cidr_parse("2001:db8::/32", &c), 0);
	assert_int_equal(c.family, 6);
	assert_int_equal(c.prefix, 32);
	v6("2001:db8:ffff::1", a);
	assert_true(bw_cidr_match(&c, 6, a));
	v6("2001:db9::", a);
	assert_false(bw_cidr_match(&c, 6, a));
	v4("32.1.13.184", a); /* the same first bytes, as IPv4 */
	assert_false(bw_cidr_match(&c, 4, a));

	assert_int_equal(bw_cidr_parse("fe80::/10", &c), 0);
	v6("febf::1", a);
	assert_true(bw_cidr_match(&c, 6, a));
	v6("fec0::1", a);
	assert_false(bw_cidr_match(&c, 6, a));

	assert_int_equal(bw_cidr_parse("::1/128", &c), 0);
	v6("::1", a);
	assert_true(bw_cidr_match(&c, 6, a));
	v6("::2", a);
	assert_false(bw_cidr_match(&c, 6, a));

	assert_int_equal(bw_cidr_parse("2001:db8::1/32", &c), -1); /* host bits */
	assert_int_equal(bw_cidr_parse("fe80::/8", &c), -1);       /* 0x80 is past /8 */
	assert_int_equal(bw_cidr_parse("::/129", &c), -1);
	char longs[80];
	memset(longs, '1', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = '\0';
	assert_int_equal(bw_cidr_parse(longs, &c), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_unknown_setting, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_int_bounds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_int_type, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_enum, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cidr_list, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_addr_and_path, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_finish, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_finish_tls_pair, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_env, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_file, setup, teardown),
	    cmocka_unit_test(test_hostport),
	    cmocka_unit_test(test_cidr_v4),
	    cmocka_unit_test(test_cidr_v6),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
