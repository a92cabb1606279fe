/* The secrets vault (C7, docs/api.md "Secrets"): metadata in and out, a
 * value in only. No reply, error message or log line carries a value: the
 * errors about one name the field and the rule, never the text. Once a
 * handler has taken a value it wipes it from the parsed body and the raw
 * request, so that it does not linger in freed memory of the worker. */
#include <sodium.h>
#include <string.h>

#include "api/api.h"
#include "core/ids.h"
#include "integ/secrets.h"
#include "store/store.h"

static json_t *secret_json(const struct bw_secret *x)
{
	return json_pack("{s:s, s:s, s:I, s:o, s:o, s:o}", "id", x->id, "name", x->name, "version",
	                 (json_int_t)x->version, "created_at", bw_api_time_or_null(x->created_at),
	                 "rotated_at", bw_api_time_or_null(x->rotated_at), "previous_readable_until",
	                 bw_api_time_or_null(x->rotated_at ? x->previous_readable_until : 0));
}

/* Zeroes the value where this process holds it for the request. */
static void wipe_value(struct bw_ctx *c)
{
	json_t *v = json_object_get(c->in, "value");
	if (json_is_string(v))
		sodium_memzero((char *)json_string_value(v), json_string_length(v));
	if (c->req->body)
		sodium_memzero(c->req->body, c->req->body_len);
}

/* The body's "value": a string of 1..8192 bytes. */
static int value_in(struct bw_ctx *c, const char **value, size_t *n)
{
	json_t *v = json_object_get(c->in, "value");
	if (!json_is_string(v)) {
		bw_reply_error(c, 400, "InvalidParameter",
		               v ? "value must be a string" : "value is required", "value");
		return -1;
	}
	*n = json_string_length(v);
	*value = json_string_value(v);
	if (*n < 1 || *n > BW_SECRET_VALUE_MAX || strlen(*value) != *n) {
		bw_reply_error(c, 400, "InvalidParameter", "value is 1 to 8192 bytes of text",
		               "value");
		return -1;
	}
	return 0;
}

void bw_api_secrets_create(struct bw_ctx *c)
{
	static const char *const fields[] = {"name", "value", NULL};
	const char *name, *value;
	size_t n;
	struct bw_secret x;
	if (bw_api_only(c, fields) || bw_api_str(c, "name", 1, BW_SECRET_NAME_MAX, true, &name) ||
	    value_in(c, &value, &n))
		goto out;
	if (!bw_secret_name_ok(name)) {
		bw_reply_error(c, 400, "InvalidParameter",
		               "name is 1 to 64 of letters, digits, '.', '_', '-'", "name");
		goto out;
	}
	bw_result r = bw_secret_create(c->store, c->who.instance_id, name, value, n, &x);
	if (r == BW_OK)
		bw_reply_json(c, 201, secret_json(&x));
	else
		bw_reply_result(c, r, r == BW_CONFLICT ? "a secret with this name exists" : NULL,
		                r == BW_CONFLICT ? "name" : NULL);
out:
	wipe_value(c);
}

void bw_api_secrets_get(struct bw_ctx *c)
{
	struct bw_secret x;
	bw_result r = bw_store_secret_get(c->store, c->who.instance_id, c->req->params[1], &x);
	if (r == BW_OK)
		bw_reply_json(c, 200, secret_json(&x));
	else
		bw_reply_result(c, r, "no such secret", NULL);
}

void bw_api_secrets_rotate(struct bw_ctx *c)
{
	static const char *const fields[] = {"value", "grace_s", NULL};
	const char *value;
	size_t n;
	json_int_t grace = BW_SECRET_GRACE_DEFAULT_S;
	struct bw_secret x;
	if (bw_api_only(c, fields) || value_in(c, &value, &n))
		goto out;
	json_t *g = json_object_get(c->in, "grace_s");
	if (g && !json_is_null(g)) {
		if (!json_is_integer(g) || json_integer_value(g) < 0 ||
		    json_integer_value(g) > BW_SECRET_GRACE_MAX_S) {
			bw_reply_error(c, 400, "InvalidParameter",
			               "grace_s is an integer from 0 to 2592000 (30 days)",
			               "grace_s");
			goto out;
		}
		grace = json_integer_value(g);
	}
	bw_result r =
	    bw_secret_rotate(c->store, c->who.instance_id, c->req->params[1], value, n, grace, &x);
	if (r == BW_OK)
		bw_reply_json(c, 200, secret_json(&x));
	else
		bw_reply_result(c, r,
		                r == BW_CONFLICT ? "the secret is being rotated; try again"
		                                 : "no such secret",
		                NULL);
out:
	wipe_value(c);
}

void bw_api_secrets_delete(struct bw_ctx *c)
{
	bw_result r = bw_store_secret_delete(c->store, c->who.instance_id, c->req->params[1]);
	if (r == BW_OK)
		bw_reply_empty(c, 204);
	else
		bw_reply_result(c, r, "no such secret", NULL);
}

/* ?name= selects one name (what the CLI uses to find a secret). */
static bw_result sc_fetch(struct bw_ctx *c, const char *after, void *out, size_t max, size_t *n)
{
	char name[BW_SECRET_NAME_MAX + 2];
	if (bw_query_get(c->req, "name", name, sizeof(name)) != 0)
		name[0] = '\0';
	return bw_store_secret_list(c->store, c->who.instance_id, name[0] ? name : NULL, after, out,
	                            max, n);
}

static json_t *sc_encode(struct bw_ctx *c, const void *item)
{
	(void)c;
	return secret_json(item);
}

static const char *sc_id(const void *item)
{
	return ((const struct bw_secret *)item)->id;
}

void bw_api_secrets_list(struct bw_ctx *c)
{
	static const struct bw_api_lister l = {sizeof(struct bw_secret), sc_fetch, sc_encode, NULL,
	                                       sc_id};
	char name[BW_SECRET_NAME_MAX + 2];
	bool present;
	if (bw_api_query(c, "name", name, sizeof(name), &present))
		return;
	if (present && !bw_secret_name_ok(name)) {
		bw_reply_error(c, 400, "InvalidParameter",
		               "name is 1 to 64 of letters, digits, '.', '_', '-'", "name");
		return;
	}
	bw_api_list(c, &l);
}
