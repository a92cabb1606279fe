/* Route matching (src/net/router.c) on the real route table
 * (src/api/routes.c): path parameters, 404 against 405 with its Allow list,
 * and admin-only routes kept off the public listener. */
#include "test_common.h"

#include <stdlib.h>

#include "net/net_int.h"

struct match {
	struct bw_req req;
	enum bw_match m;
	char allow[128];
};

static enum bw_match match(struct match *x, const char *method, const char *path, bool admin)
{
	memset(x, 0, sizeof(*x));
	x->req.method = method;
	x->req.path = strdup(path);
	assert_non_null(x->req.path);
	memset(x->allow, 'x', sizeof(x->allow));
	x->m = bw_router__match(&x->req, admin, x->allow, sizeof(x->allow));
	return x->m;
}

static void done(struct match *x)
{
	free(x->req.path);
	for (int i = 0; i < x->req.nparams; i++)
		free(x->req.params[i]);
	for (int i = x->req.nparams; i < BW_MAX_PARAMS; i++)
		assert_null(x->req.params[i]); /* nothing left behind by a failed try */
}

static const struct bw_route *route(const char *method, const char *pattern)
{
	for (size_t i = 0; i < bw_routes_count; i++)
		if (!strcmp(bw_routes[i].method, method) && !strcmp(bw_routes[i].pattern, pattern))
			return &bw_routes[i];
	fail_msg("no route %s %s", method, pattern);
	return NULL;
}

static void test_plain(void **state)
{
	(void)state;
	struct match x;
	assert_int_equal(match(&x, "GET", "/healthz", false), BW_MATCH_OK);
	assert_ptr_equal(x.req.route, route("GET", "/healthz"));
	assert_int_equal(x.req.nparams, 0);
	assert_int_equal(bw_router__index(x.req.route), (size_t)(x.req.route - bw_routes));
	done(&x);
	assert_int_equal(match(&x, "POST", "/v1/platform-keys", false), BW_MATCH_OK);
	assert_ptr_equal(x.req.route, route("POST", "/v1/platform-keys"));
	assert_true(x.req.route->flags & BW_ROUTE_BODY);
	done(&x);
	assert_int_equal(match(&x, "GET", "/v1/events", false), BW_MATCH_OK);
	assert_true(x.req.route->flags & BW_ROUTE_WS);
	done(&x);
	assert_int_equal(bw_router__index(NULL), bw_routes_count); /* "unmatched" */
}

static void test_params(void **state)
{
	(void)state;
	struct match x;
	assert_int_equal(match(&x, "DELETE", "/v1/platform-keys/pk_123", false), BW_MATCH_OK);
	assert_ptr_equal(x.req.route, route("DELETE", "/v1/platform-keys/{id}"));
	assert_int_equal(x.req.nparams, 1);
	assert_string_equal(x.req.params[0], "pk_123");
	done(&x);

	/* One whole, non-empty segment of at most 128 bytes. */
	assert_int_equal(match(&x, "DELETE", "/v1/platform-keys/", false), BW_MATCH_NOPATH);
	done(&x);
	assert_int_equal(match(&x, "DELETE", "/v1/platform-keys/a/b", false), BW_MATCH_NOPATH);
	done(&x);
	char path[200] = "/v1/platform-keys/";
	size_t pl = strlen(path);
	memset(path + pl, 'k', 128);
	path[pl + 128] = '\0';
	assert_int_equal(match(&x, "DELETE", path, false), BW_MATCH_OK);
	assert_int_equal(strlen(x.req.params[0]), 128);
	done(&x);
	path[pl + 128] = 'k';
	path[pl + 129] = '\0';
	assert_int_equal(match(&x, "DELETE", path, false), BW_MATCH_NOPATH);
	done(&x);
}

static void test_not_found(void **state)
{
	(void)state;
	struct match x;
	const char *paths[] = {"/",
	                       "/nope",
	                       "/healthz/",
	                       "/HEALTHZ",
	                       "/healthzz",
	                       "//healthz",
	                       "/v1/platform-keys/x/",
	                       "/v1",
	                       "/v1/events/"};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		assert_int_equal(match(&x, "GET", paths[i], false), BW_MATCH_NOPATH);
		assert_null(x.req.route);
		assert_string_equal(x.allow, "");
		done(&x);
	}
}

static void test_method_not_allowed(void **state)
{
	(void)state;
	struct match x;
	assert_int_equal(match(&x, "PUT", "/v1/platform-keys", false), BW_MATCH_NOMETHOD);
	assert_null(x.req.route);
	/* Every method the path takes, in table order, comma separated. */
	assert_string_equal(x.allow, "POST, GET");
	done(&x);
	assert_int_equal(match(&x, "POST", "/healthz", false), BW_MATCH_NOMETHOD);
	assert_string_equal(x.allow, "GET");
	done(&x);
	assert_int_equal(match(&x, "GET", "/v1/platform-keys/pk_1", false), BW_MATCH_NOMETHOD);
	assert_string_equal(x.allow, "DELETE");
	assert_int_equal(x.req.nparams, 0);
	done(&x);
	/* Methods compare exactly. */
	assert_int_equal(match(&x, "get", "/healthz", false), BW_MATCH_NOMETHOD);
	done(&x);
}

static void test_allow_fits(void **state)
{
	(void)state;
	/* A tiny buffer still gets a terminated (possibly shorter) list. */
	struct bw_req req = {.method = "PUT", .path = "/v1/platform-keys"};
	char allow[8];
	memset(allow, 'x', sizeof(allow));
	assert_int_equal(bw_router__match(&req, false, allow, sizeof(allow)), BW_MATCH_NOMETHOD);
	assert_non_null(memchr(allow, '\0', sizeof(allow)));
	assert_string_equal(allow, "POST");
}

static void test_admin_side(void **state)
{
	(void)state;
	struct match x;
	/* /metrics lives on the admin listener only: unknown on the public one,
	 * with no hint (404, not 405). */
	assert_int_equal(match(&x, "GET", "/metrics", false), BW_MATCH_NOPATH);
	assert_string_equal(x.allow, "");
	done(&x);
	assert_int_equal(match(&x, "POST", "/metrics", false), BW_MATCH_NOPATH);
	done(&x);
	assert_int_equal(match(&x, "GET", "/metrics", true), BW_MATCH_OK);
	assert_ptr_equal(x.req.route, route("GET", "/metrics"));
	assert_true(x.req.route->flags & BW_ROUTE_ADMIN);
	done(&x);
	/* ... and the public routes are not served on the admin listener. */
	assert_int_equal(match(&x, "GET", "/healthz", true), BW_MATCH_NOPATH);
	done(&x);
	assert_int_equal(match(&x, "GET", "/v1/platform-keys", true), BW_MATCH_NOPATH);
	done(&x);
	assert_int_equal(match(&x, "POST", "/metrics", true), BW_MATCH_NOMETHOD);
	assert_string_equal(x.allow, "GET");
	done(&x);
}

static void test_table_shape(void **state)
{
	(void)state;
	/* Every route declares who may call and a permission; PUBLIC ones
	 * take no credential. A route cannot skip the phases. */
	for (size_t i = 0; i < bw_routes_count; i++) {
		const struct bw_route *rt = &bw_routes[i];
		assert_non_null(rt->method);
		assert_int_equal(rt->pattern[0], '/');
		assert_non_null(rt->permission);
		assert_non_null(rt->handler);
		if (!strcmp(rt->permission, BW_PERM_PUBLIC))
			assert_int_equal(rt->kinds, 0);
		else
			assert_int_not_equal(rt->kinds, 0);
		if (rt->flags & BW_ROUTE_WS)
			assert_non_null(rt->ws);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain),       cmocka_unit_test(test_params),
	    cmocka_unit_test(test_not_found),   cmocka_unit_test(test_method_not_allowed),
	    cmocka_unit_test(test_allow_fits),  cmocka_unit_test(test_admin_side),
	    cmocka_unit_test(test_table_shape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
