/* Unit tests of src/sec/: the permission catalog and default profiles,
 * instance settings (defaults, PATCH validation, IP ranges, origins), CORS,
 * the password policy, TOTP and sealing. */
#include "test_common.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sec/authz.h"
#include "sec/cors.h"
#include "sec/isettings.h"
#include "sec/keyring.h"
#include "sec/password.h"
#include "sec/seal.h"
#include "sec/totp.h"

static bw_perms names(const char *const *l)
{
	bw_perms s = 0;
	for (; *l; l++) {
		assert_true(bw_perm_bit(*l) != 0);
		s |= bw_perm_bit(*l);
	}
	return s;
}

static const struct bw_default_profile *profile(const char *name)
{
	for (size_t i = 0; i < bw_default_profiles_count; i++)
		if (!strcmp(bw_default_profiles[i].name, name))
			return &bw_default_profiles[i];
	fail_msg("no default profile %s", name);
	return NULL;
}

static void test_catalog(void **state)
{
	(void)state;
	assert_int_equal(bw_catalog_count, 40);
	assert_int_equal(bw_perm_index("Users.View"), 0);
	assert_int_equal(bw_perm_index("Alarms.Edit"), 39);
	assert_int_equal(bw_perm_index("Users.view"), -1); /* exact names only */
	assert_true(bw_perms_grant(bw_perm_bit("Users.Edit"), "Users.View"));
	assert_false(bw_perms_grant(bw_perm_bit("Users.View"), "Users.Edit"));
	assert_false(bw_perms_grant(bw_perm_bit("Users.EditPermission"), "Users.View"));
	assert_false(bw_perms_grant(~(bw_perms)0, "No.Such"));
}

static void test_default_profiles(void **state)
{
	(void)state;
	static const char *const agent[] = {"Contacts.Handle", "Contacts.Outbound",
	                                    "Contacts.Transfer", NULL};
	static const char *const manager[] = {
		"Users.View", "Users.Edit", "Users.EditPermission", "Queues.View", "Queues.Edit",
		"RoutingProfiles.View", "RoutingProfiles.Edit", "HoursOfOperation.View",
		"HoursOfOperation.Edit", "Metrics.RealTime.View", "Metrics.Historical.View",
		"ContactSearch.View", "Transcripts.View", "Contacts.Handle", "Contacts.Stop", NULL};
	static const char *const qa[] = {"Metrics.RealTime.View", "Metrics.Historical.View",
	                                 "ContactSearch.View", "Transcripts.View",
	                                 "Recordings.Listen", NULL};
	assert_int_equal(bw_default_profiles_count, 4);
	assert_int_equal(profile("Admin")->perms(), ((bw_perms)1 << 40) - 1);
	assert_int_equal(profile("Agent")->perms(), names(agent));
	assert_int_equal(profile("CallCenterManager")->perms(), names(manager));
	assert_int_equal(profile("QualityAnalyst")->perms(), names(qa));
}

static void test_perms_json(void **state)
{
	(void)state;
	const char *bad = NULL;
	bw_perms p;
	json_t *ok = json_loads("[\"Users.View\",\"Audit.View\"]", 0, NULL);
	assert_int_equal(bw_perms_from_json(ok, &p, &bad), 0);
	assert_int_equal(p, bw_perm_bit("Users.View") | bw_perm_bit("Audit.View"));
	char *text = bw_perms_to_text(p);
	assert_int_equal(bw_perms_from_text(text), p);
	free(text);
	json_decref(ok);
	json_t *dup = json_loads("[\"Users.View\",\"Users.View\"]", 0, NULL);
	assert_int_equal(bw_perms_from_json(dup, &p, &bad), -1);
	assert_string_equal(bad, "Users.View");
	json_decref(dup);
	json_t *unknown = json_loads("[\"Root.All\"]", 0, NULL);
	assert_int_equal(bw_perms_from_json(unknown, &p, &bad), -1);
	json_decref(unknown);
	json_t *notstr = json_loads("[1]", 0, NULL);
	assert_int_equal(bw_perms_from_json(notstr, &p, &bad), -1);
	json_decref(notstr);
}

static void test_settings_defaults_and_patch(void **state)
{
	(void)state;
	struct bw_isettings s;
	bw_isettings_parse(NULL, &s);
	assert_false(s.mfa_required);
	assert_int_equal(s.min_length, 12);
	assert_int_equal(s.idle_s, 1800);
	assert_int_equal(s.max_failures, 5);
	const char *field = NULL, *msg = NULL;
	json_t *patch = json_loads("{\"allowed_ip_ranges\":[\"10.0.0.0/8\",\"2001:db8::/32\"],"
	                           "\"lockout\":{\"max_failures\":3}}", 0, NULL);
	json_t *next = bw_isettings_patch(NULL, patch, &field, &msg);
	assert_non_null(next);
	char *text = json_dumps(next, 0);
	bw_isettings_parse(text, &s);
	assert_int_equal(s.nranges, 2);
	assert_int_equal(s.max_failures, 3);
	assert_int_equal(s.base_lockout_s, 30); /* untouched siblings keep their value */
	free(text);
	json_decref(next);
	json_decref(patch);
	static const char *const bad[][2] = {
		{"{\"allowed_ip_ranges\":[\"10.0.0.1/8\"]}", "allowed_ip_ranges"},
		{"{\"allowed_ip_ranges\":\"10.0.0.0/8\"}", "allowed_ip_ranges"},
		{"{\"session_idle_timeout_s\":5}", "session_idle_timeout_s"},
		{"{\"mfa_required\":\"yes\"}", "mfa_required"},
		{"{\"password_policy\":{\"min_length\":4}}", "password_policy.min_length"},
		{"{\"lockout\":{\"max_failures\":3,\"bogus\":1}}", "lockout.bogus"},
		{"{\"approved_origins\":[\"https://shop.example/path\"]}", "approved_origins"},
		{"{\"no_such\":1}", "no_such"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *p = json_loads(bad[i][0], 0, NULL);
		assert_non_null(p);
		assert_null(bw_isettings_patch(NULL, p, &field, &msg));
		assert_string_equal(field, bad[i][1]);
		json_decref(p);
	}
}

static void test_ip_ranges(void **state)
{
	(void)state;
	struct bw_isettings s;
	bw_isettings_parse("{\"allowed_ip_ranges\":[\"10.0.0.0/8\",\"2001:db8::/32\"]}", &s);
	uint8_t v4[16] = {10, 1, 2, 3}, other[16] = {192, 0, 2, 1};
	uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 9, 9, 9};
	assert_true(bw_isettings_ip_allowed(&s, 4, v4));
	assert_false(bw_isettings_ip_allowed(&s, 4, other));
	assert_true(bw_isettings_ip_allowed(&s, 6, v6));
	assert_true(bw_isettings_ip_allowed(&s, 6, mapped));
	bw_isettings_parse(NULL, &s);
	assert_true(bw_isettings_ip_allowed(&s, 4, other)); /* no ranges: any address */
}

static void test_cors(void **state)
{
	(void)state;
	struct bw_isettings s;
	char out[512];
	bw_isettings_parse("{\"approved_origins\":[\"https://shop.example\"]}", &s);
	assert_int_equal(bw_cors_check(&s, NULL), BW_CORS_NONE);
	assert_int_equal(bw_cors_check(&s, "https://shop.example"), BW_CORS_ALLOW);
	assert_int_equal(bw_cors_check(&s, "https://shop.example.evil"), BW_CORS_DENY);
	assert_int_equal(bw_cors_check(&s, "http://shop.example"), BW_CORS_DENY);
	assert_true(bw_cors_headers("https://shop.example", true, "POST", out, sizeof(out)) > 0);
	assert_contains(out, "Access-Control-Allow-Origin: https://shop.example\r\n");
	assert_contains(out, "Vary: Origin\r\n");
	assert_contains(out, "Access-Control-Allow-Methods: POST\r\n");
	assert_true(bw_cors_headers("https://shop.example", false, NULL, out, sizeof(out)) > 0);
	assert_not_contains(out, "Allow-Methods");
	assert_true(bw_cors_frame_ancestors(&s, out, sizeof(out)) > 0);
	assert_string_equal(out, "frame-ancestors 'self' https://shop.example");
	bw_isettings_parse(NULL, &s);
	assert_int_equal(bw_cors_check(&s, "https://shop.example"), BW_CORS_DENY); /* none by default */
}

static void test_password_policy(void **state)
{
	(void)state;
	assert_non_null(bw_password_policy_check("short", "u", 12));
	assert_non_null(bw_password_policy_check("Password1234", "u", 12)); /* common, any case */
	assert_non_null(bw_password_policy_check("aaaaaaaaaaaaaa", "u", 12));
	assert_non_null(bw_password_policy_check("alice.longname", "Alice.Longname", 12));
	assert_null(bw_password_policy_check("tangerine orbit 42", "alice", 12));
	char big[300];
	memset(big, 'x', sizeof(big) - 1);
	big[0] = 'y';
	big[sizeof(big) - 1] = '\0';
	assert_non_null(bw_password_policy_check(big, "u", 12));
}

static void test_totp(void **state)
{
	(void)state;
	/* RFC 6238 appendix B, SHA-1 secret "12345678901234567890", T=59 → 94287082 (8 digits);
	 * 6 digits are the last six: 287082. */
	const uint8_t *secret = (const uint8_t *)"12345678901234567890";
	long long step = 0;
	assert_int_equal(bw_totp_check(secret, 20, "287082", 59, &step), BW_OK);
	assert_int_equal(step, 1);
	assert_int_equal(bw_totp_check(secret, 20, "287082", 59 + 30, &step), BW_OK); /* one step skew */
	assert_int_equal(step, 1);
	assert_int_equal(bw_totp_check(secret, 20, "287082", 59 + 90, &step), BW_DENIED);
	assert_int_equal(bw_totp_check(secret, 20, "28708", 59, &step), BW_INVALID);
	assert_int_equal(bw_totp_check(secret, 20, "28708a", 59, &step), BW_INVALID);
	char *uri = bw_totp_uri(secret, 20, "Bulwark", "alice@example");
	assert_non_null(uri);
	assert_contains(uri, "otpauth://totp/Bulwark:alice@example?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
	char *svg = bw_qr_svg(uri);
	assert_contains(svg, "<svg");
	free(svg);
	free(uri);
}

static void test_seal(void **state)
{
	(void)state;
	static uint8_t root[32];
	char dir[] = "/tmp/bw_test_seal_XXXXXX", db[64];
	struct bw_store *s = NULL;
	int v = 0;
	randombytes_buf(root, sizeof(root));
	/* keys (C14): values are sealed under the instance's data key */
	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/bulwark.db", dir);
	assert_int_equal(bw_store_open(&s, db, BW_DURABILITY_NORMAL), BW_OK);
	assert_int_equal(bw_store_migrate(s, &v), BW_OK);
	bw_store_close(s);
	assert_int_equal(bw_keyring_start(db, 0, root, NULL), BW_OK);
	uint8_t *ct = NULL, *pt = NULL;
	size_t cl = 0, pl = 0;
	assert_int_equal(bw_seal("in_a", "users", "us_1", "mfa_secret", (const uint8_t *)"seed", 4,
	                         &ct, &cl), BW_OK);
	assert_int_equal(bw_unseal("in_a", "users", "us_1", "mfa_secret", ct, cl, &pt, &pl), BW_OK);
	assert_int_equal(pl, 4);
	assert_memory_equal(pt, "seed", 4);
	bw_unseal_free(pt);
	/* Moved to another row or instance, it does not open. */
	assert_int_equal(bw_unseal("in_a", "users", "us_2", "mfa_secret", ct, cl, &pt, &pl), BW_DENIED);
	assert_int_not_equal(bw_unseal("in_b", "users", "us_1", "mfa_secret", ct, cl, &pt, &pl), BW_OK);
	ct[cl - 1] ^= 1;
	assert_int_equal(bw_unseal("in_a", "users", "us_1", "mfa_secret", ct, cl, &pt, &pl), BW_DENIED);
	free(ct);
	bw_keyring_stop();
	const char *suffix[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < 3; i++) {
		char p[96];
		snprintf(p, sizeof(p), "%s%s", db, suffix[i]);
		unlink(p);
	}
	rmdir(dir);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_catalog),
		cmocka_unit_test(test_default_profiles),
		cmocka_unit_test(test_perms_json),
		cmocka_unit_test(test_settings_defaults_and_patch),
		cmocka_unit_test(test_ip_ranges),
		cmocka_unit_test(test_cors),
		cmocka_unit_test(test_password_policy),
		cmocka_unit_test(test_totp),
		cmocka_unit_test(test_seal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
