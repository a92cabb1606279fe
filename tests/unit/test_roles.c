/* Role signing keys and tokens (src/integ/role.c) on SQLite with a test
 * clock: the first key and the JWKS (RFC 7517/7638 checked field by field),
 * tokens verified here with libsodium against the published key (header,
 * every claim, the body digest recomputed, a changed byte refused), the
 * rotation schedule (a successor published before it signs, the replaced
 * key published for the overlap, then gone), a forced rotation, a late
 * rotation after idling, concurrent rotations, the private key sealed and
 * bound to its kid, and refusals (unknown instance, bad claims, a stored
 * public key that is not the seed's). */
#include "test_integ.h"

#include <jansson.h>
#include <sqlite3.h>

#include "integ/role.h"

#define ROTATE_S 100
#define OVERLAP_S 50
#define LEAD_MS 50000 /* half the rotation (under the 300 s cap) */

static int setup(void **state)
{
	bw_role_configure(ROTATE_S, OVERLAP_S);
	return fx_setup(state);
}

static int teardown(void **state)
{
	bw_role_configure(86400, 3600);
	return fx_teardown(state);
}

/* base64url (no padding) into out; its length, or -1. */
static long unb64(const char *in, size_t n, uint8_t *out, size_t cap)
{
	size_t len = 0;
	if (sodium_base642bin(out, cap, in, n, NULL, &len, NULL,
	                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return -1;
	return (long)len;
}

static json_t *jwks(struct bw_store *s, const char *iid)
{
	json_t *j = NULL;
	int age = -1;
	assert_int_equal(bw_role_jwks(s, iid, &j, &age), BW_OK);
	assert_int_equal(age, LEAD_MS / 1000);
	return j;
}

/* The kids of a JWKS, comma-joined, newest first. */
static void kids(json_t *set, char *out, size_t cap)
{
	size_t i, len = 0;
	json_t *k;
	out[0] = '\0';
	json_array_foreach(json_object_get(set, "keys"), i, k)
	{
		int w = snprintf(out + len, cap - len, "%s%s", i ? "," : "",
		                 json_string_value(json_object_get(k, "kid")));
		assert_true(w > 0 && (size_t)w < cap - len);
		len += (size_t)w;
	}
}

struct parsed {
	json_t *header, *claims;
	char kid[64];
};

static json_t *part_json(const char *p, size_t n)
{
	uint8_t buf[4096];
	long len = unb64(p, n, buf, sizeof(buf) - 1);
	assert_true(len > 0);
	buf[len] = '\0';
	json_t *v = json_loads((const char *)buf, JSON_REJECT_DUPLICATES, NULL);
	assert_non_null(v);
	return v;
}

/* 0 when jwt verifies against the JWKS key of its kid (with libsodium,
 * not the code under test), with p's claims parsed; -1 when the signature
 * is wrong, -2 when no key of its kid is published. */
static int verify(const char *jwt, json_t *set, struct parsed *p)
{
	const char *d1 = strchr(jwt, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	memset(p, 0, sizeof(*p));
	assert_non_null(d2);
	assert_null(strchr(d2 + 1, '.'));
	p->header = part_json(jwt, (size_t)(d1 - jwt));
	snprintf(p->kid, sizeof(p->kid), "%s",
	         json_string_value(json_object_get(p->header, "kid")));
	uint8_t sig[crypto_sign_BYTES + 1], pk[33];
	assert_int_equal(unb64(d2 + 1, strlen(d2 + 1), sig, sizeof(sig)), crypto_sign_BYTES);
	size_t i;
	json_t *k;
	json_array_foreach(json_object_get(set, "keys"), i, k)
	{
		if (strcmp(json_string_value(json_object_get(k, "kid")), p->kid))
			continue;
		const char *x = json_string_value(json_object_get(k, "x"));
		assert_int_equal(unb64(x, strlen(x), pk, sizeof(pk)), 32);
		if (crypto_sign_verify_detached(sig, (const uint8_t *)jwt, (size_t)(d2 - jwt), pk))
			return -1;
		p->claims = part_json(d1 + 1, (size_t)(d2 - d1 - 1));
		return 0;
	}
	return -2;
}

static void parsed_free(struct parsed *p)
{
	json_decref(p->header);
	json_decref(p->claims);
}

static char *token(struct bw_store *s, const char *iid, const char *body)
{
	char *jwt = NULL;
	struct bw_role_claims c = {.integration_id = "ig_1",
	                           .audience = "https://crm.example/api",
	                           .contact_id = "ct_9",
	                           .body = (const uint8_t *)body,
	                           .body_len = body ? strlen(body) : 0};
	assert_int_equal(bw_role_token(s, iid, &c, &jwt), BW_OK);
	return jwt;
}

/* The kid that signs now, by a token's header. */
static void signer_kid(struct bw_store *s, char *kid, size_t cap)
{
	char *jwt = token(s, "in_A", "{}");
	json_t *set = jwks(s, "in_A");
	struct parsed p;
	assert_int_equal(verify(jwt, set, &p), 0);
	snprintf(kid, cap, "%s", p.kid);
	parsed_free(&p);
	json_decref(set);
	free(jwt);
}

static void test_first_key_and_jwks(void **state)
{
	struct fixture *f = *state;
	json_t *set = jwks(f->s, "in_A");
	json_t *keys = json_object_get(set, "keys");
	assert_int_equal(json_object_size(set), 1);
	assert_int_equal(json_array_size(keys), 1);
	json_t *k = json_array_get(keys, 0);
	assert_int_equal(json_object_size(k), 6);
	assert_string_equal(json_string_value(json_object_get(k, "kty")), "OKP");
	assert_string_equal(json_string_value(json_object_get(k, "crv")), "Ed25519");
	assert_string_equal(json_string_value(json_object_get(k, "use")), "sig");
	assert_string_equal(json_string_value(json_object_get(k, "alg")), "EdDSA");
	assert_null(json_object_get(k, "d"));
	const char *x = json_string_value(json_object_get(k, "x"));
	uint8_t pk[33], h[32];
	assert_int_equal(strlen(x), 43);
	assert_int_equal(unb64(x, 43, pk, sizeof(pk)), 32);
	/* kid = RFC 7638 thumbprint, recomputed here. */
	char canon[128], kid[48];
	snprintf(canon, sizeof(canon), "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"%s\"}", x);
	crypto_hash_sha256(h, (const uint8_t *)canon, strlen(canon));
	sodium_bin2base64(kid, sizeof(kid), h, 32, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	assert_string_equal(json_string_value(json_object_get(k, "kid")), kid);
	/* Asking again makes no other key; each instance has its own. */
	json_t *again = jwks(f->s, "in_A"), *b = jwks(f->s, "in_B");
	assert_true(json_equal(set, again));
	char kb[200];
	kids(b, kb, sizeof(kb));
	assert_string_not_equal(kb, kid);
	json_decref(set);
	json_decref(again);
	json_decref(b);
}

static void test_token(void **state)
{
	struct fixture *f = *state;
	const char *body = "{\"contact_id\":\"ct_9\",\"queue\":\"sales\"}";
	char *jwt = token(f->s, "in_A", body);
	json_t *set = jwks(f->s, "in_A");
	struct parsed p;
	assert_int_equal(verify(jwt, set, &p), 0);
	assert_int_equal(json_object_size(p.header), 3);
	assert_string_equal(json_string_value(json_object_get(p.header, "alg")), "EdDSA");
	assert_string_equal(json_string_value(json_object_get(p.header, "typ")), "JWT");
	json_t *c = p.claims;
	long long now_s = fx_now / 1000;
	assert_string_equal(json_string_value(json_object_get(c, "iss")), "bulwark");
	assert_string_equal(json_string_value(json_object_get(c, "sub")), "ig_1");
	assert_string_equal(json_string_value(json_object_get(c, "aud")),
	                    "https://crm.example/api");
	assert_int_equal(json_integer_value(json_object_get(c, "iat")), now_s);
	assert_int_equal(json_integer_value(json_object_get(c, "nbf")), now_s);
	assert_int_equal(json_integer_value(json_object_get(c, "exp")), now_s + 300);
	assert_string_equal(json_string_value(json_object_get(c, "instance")), "in_A");
	assert_string_equal(json_string_value(json_object_get(c, "contact")), "ct_9");
	const char *jti = json_string_value(json_object_get(c, "jti"));
	assert_non_null(jti);
	assert_int_equal(strlen(jti), 22); /* 16 random bytes */
	uint8_t h[32];
	char want[64] = "sha-256=";
	crypto_hash_sha256(h, (const uint8_t *)body, strlen(body));
	sodium_bin2base64(want + 8, sizeof(want) - 8, h, 32, sodium_base64_VARIANT_ORIGINAL);
	assert_string_equal(json_string_value(json_object_get(c, "digest")), want);
	assert_int_equal(json_object_size(c), 10);

	/* Another token has another nonce; a changed byte does not verify. */
	char *jwt2 = token(f->s, "in_A", body);
	struct parsed p2;
	assert_int_equal(verify(jwt2, set, &p2), 0);
	assert_string_not_equal(json_string_value(json_object_get(p2.claims, "jti")), jti);
	char *dot = strchr(jwt2, '.') + 5;
	*dot = *dot == 'A' ? 'B' : 'A';
	struct parsed p3;
	assert_int_equal(verify(jwt2, set, &p3), -1);
	parsed_free(&p3);
	/* Another instance's JWKS does not hold the kid. */
	json_t *other = jwks(f->s, "in_B");
	struct parsed p4;
	assert_int_equal(verify(jwt, other, &p4), -2);
	parsed_free(&p4);

	/* No body, no contact, a ttl. */
	char *t3 = NULL;
	struct bw_role_claims cl = {
	    .integration_id = "ig_2", .audience = "https://x.example", .ttl_s = 60};
	assert_int_equal(bw_role_token(f->s, "in_A", &cl, &t3), BW_OK);
	struct parsed p5;
	assert_int_equal(verify(t3, set, &p5), 0);
	assert_null(json_object_get(p5.claims, "contact"));
	assert_int_equal(json_integer_value(json_object_get(p5.claims, "exp")), now_s + 60);
	assert_string_equal(json_string_value(json_object_get(p5.claims, "digest")),
	                    "sha-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
	parsed_free(&p5);
	free(t3);
	parsed_free(&p);
	parsed_free(&p2);
	json_decref(set);
	json_decref(other);
	free(jwt);
	free(jwt2);
}

static void test_bad_claims(void **state)
{
	struct fixture *f = *state;
	char *jwt = (char *)1;
	char big[BW_ROLE_CLAIM_MAX + 2];
	memset(big, 'a', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	struct bw_role_claims ok = {.integration_id = "ig", .audience = "https://a"};
	struct bw_role_claims c = ok;
	c.integration_id = NULL;
	assert_int_equal(bw_role_token(f->s, "in_A", &c, &jwt), BW_INVALID);
	assert_null(jwt);
	c = ok;
	c.audience = "";
	assert_int_equal(bw_role_token(f->s, "in_A", &c, &jwt), BW_INVALID);
	c = ok;
	c.audience = big;
	assert_int_equal(bw_role_token(f->s, "in_A", &c, &jwt), BW_INVALID);
	c = ok;
	c.ttl_s = BW_ROLE_TTL_MAX_S + 1;
	assert_int_equal(bw_role_token(f->s, "in_A", &c, &jwt), BW_INVALID);
	c = ok;
	c.ttl_s = -1;
	assert_int_equal(bw_role_token(f->s, "in_A", &c, &jwt), BW_INVALID);
	c = ok;
	c.body_len = 3; /* a length without a body */
	assert_int_equal(bw_role_token(f->s, "in_A", &c, &jwt), BW_INVALID);
	/* An unknown instance gets no key, no token, no JWKS. */
	json_t *set = NULL;
	int age;
	assert_int_equal(bw_role_token(f->s, "in_none", &ok, &jwt), BW_NOTFOUND);
	assert_int_equal(bw_role_jwks(f->s, "in_none", &set, &age), BW_NOTFOUND);
	assert_int_equal(bw_role_keys_ensure(f->s, "in_none"), BW_NOTFOUND);
	assert_int_equal(bw_role_rotate(f->s, "in_none", NULL), BW_NOTFOUND);
	assert_null(set);
}

static void test_rotation_schedule(void **state)
{
	struct fixture *f = *state;
	long long t0 = fx_now;
	char a[64], b[64], c[64], list[300];
	assert_int_equal(bw_role_keys_ensure(f->s, "in_A"), BW_OK);
	signer_kid(f->s, a, sizeof(a));

	/* Just before the successor is due: one key. */
	fx_now = t0 + ROTATE_S * 1000 - LEAD_MS - 1;
	json_t *set = jwks(f->s, "in_A");
	kids(set, list, sizeof(list));
	assert_string_equal(list, a);
	json_decref(set);

	/* Then the successor is published, but A still signs. */
	fx_now = t0 + ROTATE_S * 1000 - LEAD_MS;
	set = jwks(f->s, "in_A");
	assert_int_equal(json_array_size(json_object_get(set, "keys")), 2);
	snprintf(b, sizeof(b), "%s",
	         json_string_value(
	             json_object_get(json_array_get(json_object_get(set, "keys"), 0), "kid")));
	assert_string_not_equal(a, b);
	json_decref(set);
	char now_kid[64];
	signer_kid(f->s, now_kid, sizeof(now_kid));
	assert_string_equal(now_kid, a);
	char *old = token(f->s, "in_A", "old"); /* signed by A */

	struct bw_signing_key k[16];
	const struct bw_signing_key *signer = NULL;
	size_t n = 0;
	long long until = 0;
	assert_int_equal(bw_role_keys(f->s, "in_A", k, 16, &n, &signer), BW_OK);
	assert_int_equal(n, 2);
	assert_string_equal(bw_role_key_state(&k[0], signer, &until), "PENDING");
	assert_int_equal(k[0].activates_at, t0 + ROTATE_S * 1000);
	assert_string_equal(bw_role_key_state(&k[1], signer, &until), "ACTIVE");
	assert_int_equal(until, t0 + ROTATE_S * 1000 + OVERLAP_S * 1000);

	/* At its start B signs; A stays published for the overlap, and tokens
	 * it signed still verify. */
	fx_now = t0 + ROTATE_S * 1000;
	signer_kid(f->s, now_kid, sizeof(now_kid));
	assert_string_equal(now_kid, b);
	fx_now = t0 + ROTATE_S * 1000 + OVERLAP_S * 1000 - 1;
	set = jwks(f->s, "in_A");
	struct parsed p;
	assert_int_equal(verify(old, set, &p), 0);
	assert_string_equal(p.kid, a);
	parsed_free(&p);
	assert_int_equal(bw_role_keys(f->s, "in_A", k, 16, &n, &signer), BW_OK);
	assert_string_equal(bw_role_key_state(&k[n - 1], signer, &until), "RETIRED");
	json_decref(set);

	/* Then A is gone (and C, B's successor, is published). */
	fx_now = t0 + ROTATE_S * 1000 + OVERLAP_S * 1000;
	set = jwks(f->s, "in_A");
	kids(set, list, sizeof(list));
	assert_null(strstr(list, a));
	assert_non_null(strstr(list, b));
	assert_int_equal(verify(old, set, &p), -2);
	parsed_free(&p);
	snprintf(c, sizeof(c), "%s",
	         json_string_value(
	             json_object_get(json_array_get(json_object_get(set, "keys"), 0), "kid")));
	assert_string_not_equal(c, b);
	json_decref(set);
	free(old);

	/* A's row goes at a later rotation (its private key with it). */
	fx_now = t0 + 3 * ROTATE_S * 1000;
	assert_int_equal(bw_role_keys_ensure(f->s, "in_A"), BW_OK);
	struct bw_signing_key row;
	assert_int_equal(bw_store_signing_key_get(f->s, "in_A", a, &row), BW_NOTFOUND);
}

/* A key unused for long: its successor is published first and signs a lead
 * later (a receiver's cached JWKS never meets an unknown kid). */
static void test_late_rotation(void **state)
{
	struct fixture *f = *state;
	char a[64], now_kid[64];
	signer_kid(f->s, a, sizeof(a));
	fx_now += 10LL * ROTATE_S * 1000;
	signer_kid(f->s, now_kid, sizeof(now_kid));
	assert_string_equal(now_kid, a);
	fx_now += LEAD_MS;
	signer_kid(f->s, now_kid, sizeof(now_kid));
	assert_string_not_equal(now_kid, a);
}

static void test_forced_rotation(void **state)
{
	struct fixture *f = *state;
	char a[64], b[48], now_kid[64], list[300];
	signer_kid(f->s, a, sizeof(a));
	char *old = token(f->s, "in_A", "x");
	assert_int_equal(bw_role_rotate(f->s, "in_A", b), BW_OK);
	signer_kid(f->s, now_kid, sizeof(now_kid));
	assert_string_equal(now_kid, b);
	json_t *set = jwks(f->s, "in_A");
	kids(set, list, sizeof(list));
	struct parsed p;
	assert_int_equal(verify(old, set, &p), 0); /* the overlap */
	parsed_free(&p);
	json_decref(set);
	/* A forced rotation while a successor is pending: the new key signs,
	 * the pending one never will. */
	fx_now += ROTATE_S * 1000 - LEAD_MS;
	assert_int_equal(bw_role_keys_ensure(f->s, "in_A"), BW_OK);
	struct bw_signing_key k[16];
	const struct bw_signing_key *signer = NULL;
	size_t n = 0;
	long long until;
	assert_int_equal(bw_role_keys(f->s, "in_A", k, 16, &n, &signer), BW_OK);
	assert_string_equal(bw_role_key_state(&k[0], signer, &until), "PENDING");
	char pending[48], c[48];
	snprintf(pending, sizeof(pending), "%s", k[0].kid);
	assert_int_equal(bw_role_rotate(f->s, "in_A", c), BW_OK);
	signer_kid(f->s, now_kid, sizeof(now_kid));
	assert_string_equal(now_kid, c);
	fx_now += ROTATE_S * 1000;
	signer_kid(f->s, now_kid, sizeof(now_kid));
	assert_string_not_equal(now_kid, pending);
	free(old);
}

/* Two threads that read the same newest key: one successor between them. */
static void test_concurrent_add(void **state)
{
	struct fixture *f = *state;
	struct bw_signing_key k[4], x;
	size_t n = 0;
	assert_int_equal(bw_role_keys_ensure(f->s, "in_A"), BW_OK);
	assert_int_equal(bw_store_signing_key_list(f->s, "in_A", k, 4, &n), BW_OK);
	assert_int_equal(n, 1);
	memset(&x, 0, sizeof(x));
	snprintf(x.instance_id, sizeof(x.instance_id), "in_A");
	snprintf(x.kid, sizeof(x.kid), "test-kid");
	x.private_key = (uint8_t *)"not a sealed key";
	x.private_len = 16;
	x.created_at = x.activates_at = fx_now + 1;
	assert_int_equal(bw_store_signing_key_add(f->s, &x, "", 0), BW_CONFLICT);
	assert_int_equal(bw_store_signing_key_add(f->s, &x, "someone-else", 0), BW_CONFLICT);
	assert_int_equal(bw_store_signing_key_add(f->s, &x, k[0].kid, 0), BW_OK);
	assert_int_equal(bw_store_signing_key_add(f->s, &x, k[0].kid, 0), BW_CONFLICT);
	assert_int_equal(bw_store_signing_key_list(f->s, "in_A", k, 4, &n), BW_OK);
	assert_int_equal(n, 2);
	assert_string_equal(k[0].kid, "test-kid");
	assert_int_equal(k[1].retires_at, fx_now + 1);
	/* That key's private half does not open: no token is signed under it. */
	fx_now += 1;
	char *jwt = NULL;
	struct bw_role_claims c = {.integration_id = "ig", .audience = "https://a"};
	assert_int_equal(bw_role_token(f->s, "in_A", &c, &jwt), BW_ERR);
	assert_null(jwt);
}

static void test_private_key_sealed(void **state)
{
	struct fixture *f = *state;
	struct bw_signing_key k[4], row;
	size_t n = 0;
	uint8_t *seed = NULL, pk[32], sk[64];
	size_t len = 0;
	assert_int_equal(bw_role_rotate(f->s, "in_A", NULL), BW_OK);
	assert_int_equal(bw_role_rotate(f->s, "in_A", NULL), BW_OK);
	assert_int_equal(bw_store_signing_key_list(f->s, "in_A", k, 4, &n), BW_OK);
	assert_int_equal(n, 2);
	assert_null(k[0].private_key);
	assert_int_equal(bw_store_signing_key_get(f->s, "in_A", k[0].kid, &row), BW_OK);
	assert_non_null(row.private_key);
	assert_int_equal(bw_unseal("in_A", "signing_keys", row.kid, "private_key", row.private_key,
	                           row.private_len, &seed, &len),
	                 BW_OK);
	assert_int_equal(len, 32);
	crypto_sign_seed_keypair(pk, sk, seed);
	assert_memory_equal(pk, row.public_key, 32);
	/* The seed is in neither the file nor the WAL. */
	char wal[160];
	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	assert_true(fx_file_holds(f->path, seed, 32) != 1 && fx_file_holds(wal, seed, 32) != 1);
	bw_unseal_free(seed);
	sodium_memzero(sk, sizeof(sk));
	/* Bound to its kid and instance. */
	assert_int_not_equal(bw_unseal("in_A", "signing_keys", k[1].kid, "private_key",
	                               row.private_key, row.private_len, &seed, &len),
	                     BW_OK);
	assert_int_not_equal(bw_unseal("in_B", "signing_keys", row.kid, "private_key",
	                               row.private_key, row.private_len, &seed, &len),
	                     BW_OK);
	bw_signing_key_clear(&row);

	/* A stored public key that is not the seed's: refused, not signed. */
	sqlite3 *db = NULL;
	char sql[256];
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	snprintf(sql, sizeof(sql),
	         "UPDATE signing_keys SET public_key=(SELECT public_key FROM signing_keys "
	         "WHERE kid='%s') WHERE kid='%s'",
	         k[1].kid, k[0].kid);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	char *jwt = NULL;
	struct bw_role_claims c = {.integration_id = "ig", .audience = "https://a"};
	assert_int_equal(bw_role_token(f->s, "in_A", &c, &jwt), BW_ERR);
	assert_null(jwt);

	/* Deleting the instance takes its keys. */
	assert_int_equal(bw_store_instance_delete(f->s, "in_A"), BW_OK);
	assert_int_equal(bw_store_signing_key_list(f->s, "in_A", k, 4, &n), BW_OK);
	assert_int_equal(n, 0);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_first_key_and_jwks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_token, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_claims, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rotation_schedule, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_late_rotation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_forced_rotation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent_add, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_private_key_sealed, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
