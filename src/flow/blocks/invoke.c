/* InvokeIntegration (C7, C17): the flow calls one of the instance's
 * integrations and goes on with what it answers. The block sends only the
 * attributes RequestAttributes lists (their values resolved like any flow
 * value): a JSON object for POST, the query for GET. It then waits without
 * holding the loop: the host makes the call (a worker makes it ready, the
 * egress sends it) and resumes the action with how it ended. A 2xx JSON
 * object answer sets the contact's attributes from its top-level scalar
 * members. Nothing of a request or an answer reaches the flow log.
 *
 * A RequestAttributes value may also be {"secret": "<name>"}: the block
 * passes the name, never a value, and the host reads the vault secret at
 * call time into that request's body only (flow.h, struct
 * bw_flow_secret_ref). POST only: a GET would put it in the URL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "flow/flow_int.h"

#define INVOKE_PATH_MAX 2048   /* the integration's limit on a path and its query */
#define INVOKE_ANSWER_KEYS 32  /* top-level members of an answer, at most */

/* A path below the integration's base URL: no way out of it. */
static bool path_ok(const char *p)
{
	size_t n = strlen(p);
	if (p[0] != '/' || strpbrk(p, " \t\n#\\") || strstr(p, "//") || strstr(p, "/../") ||
	    strstr(p, "/./") || strcasestr(p, "%2e") || strcasestr(p, "%2f") ||
	    strcasestr(p, "%5c"))
		return false;
	return !(n >= 3 && !strcmp(p + n - 3, "/..")) && !(n >= 2 && !strcmp(p + n - 2, "/."));
}

/* A secret reference: its shape, and never in a GET's query (a URL ends up
 * in access logs, the receiver's and any proxy's). */
static int secret_value(struct bw_flow_check *ck, const json_t *v, const char *path,
                        const char *method)
{
	if (!bw_flow__secret_ref(v)) {
		bw_flow__error(ck, path,
		               "a secret reference is {\"secret\": \"<name>\"} and nothing "
		               "else, the name 1 to 64 of letters, digits, '.', '_', '-'");
		return -1;
	}
	if (method && !strcmp(method, "GET")) {
		bw_flow__error(ck, path,
		               "a secret cannot be sent with Method GET (it would be in the "
		               "URL, and so in access logs): use POST");
		return -1;
	}
	return 0;
}

static int ii_validate(struct bw_flow_check *ck, const struct bw_flow_action *a,
                       const char *path)
{
	static const char *const fields[] = {"IntegrationId", "Path", "Method", "TimeoutSeconds",
	                                     "RequestAttributes", NULL};
	static const char *const methods[] = {"GET", "POST", NULL};
	const char *iid, *p, *m;
	char q[BW_FLOW_PATH_MAX], r[BW_FLOW_PATH_MAX];
	int bad = bw_flow__only(ck, a->params, path, fields);
	bad |= bw_flow__ref_id(ck, a->params, "IntegrationId", path, true, &iid);
	bad |= bw_flow__enum(ck, a->params, "Method", path, methods, false, &m);
	bad |= bw_flow__int(ck, a->params, "TimeoutSeconds", path, 1, 30, false, NULL);
	if (bw_flow__str(ck, a->params, "Path", path, 1, BW_FLOW_MAX_TEXT, false, &p) != 0) {
		bad = -1;
	} else if (p && !path_ok(p)) {
		bw_flow__path_key(q, sizeof(q), path, "Path");
		bw_flow__error(ck, q, "must be a path below the integration's base URL ('/...', "
		                      "no '//', '..', '#' or spaces)");
		bad = -1;
	}
	const json_t *attrs = json_object_get(a->params, "RequestAttributes");
	bw_flow__path_key(q, sizeof(q), path, "RequestAttributes");
	if (attrs && (!json_is_object(attrs) || json_object_size(attrs) > BW_FLOW_MAX_ATTRIBUTES)) {
		bw_flow__error(ck, q, "must be an object of at most %d attributes",
		               BW_FLOW_MAX_ATTRIBUTES);
		return -1;
	}
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)attrs, k, v)
	{
		bw_flow__path_key(r, sizeof(r), q, k);
		if (!bw_flow__attr_name_ok(k)) {
			bw_flow__error(ck, r, "an attribute name is 1 to 64 of letters, digits, '.', '_', '-'");
			bad = -1;
		} else if (json_is_object(v)) {
			bad |= secret_value(ck, v, r, m);
		} else if (!json_is_string(v)) {
			bw_flow__error(ck, r,
			               "must be a string or a secret reference {\"secret\": "
			               "\"<name>\"}");
			bad = -1;
		} else if (bw_flow__value(ck, v, r) != 0) {
			bad = -1;
		}
	}
	return bad;
}

/* ---- the request ---- */

/* Appends s percent-encoded (all but RFC 3986's unreserved characters);
 * false when out is full. */
static bool put_encoded(char *out, size_t n, size_t *len, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		bool plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		             (*p >= '0' && *p <= '9') || strchr("-._~", *p);
		if (*len + (plain ? 1 : 3) >= n)
			return false;
		if (plain) {
			out[(*len)++] = (char)*p;
		} else {
			out[(*len)++] = '%';
			out[(*len)++] = hex[*p >> 4];
			out[(*len)++] = hex[*p & 15];
		}
	}
	out[*len] = '\0';
	return true;
}

/* GET: path?name=value&... into out; false when it passes the limit or
 * meets a secret reference (refused at publish: never in a URL). */
static bool query_path(const struct bw_flow_exec *x, const char *path, const json_t *attrs,
                       char *out, size_t n)
{
	size_t len = (size_t)snprintf(out, n, "%s", path);
	char sep = strchr(path, '?') ? '&' : '?';
	const char *k;
	json_t *v;
	if (len >= n)
		return false;
	json_object_foreach((json_t *)attrs, k, v)
	{
		if (len + 2 >= n || json_is_object(v))
			return false;
		out[len++] = sep;
		sep = '&';
		if (!put_encoded(out, n, &len, k) || len + 2 >= n)
			return false;
		out[len++] = '=';
		out[len] = '\0';
		if (!put_encoded(out, n, &len, bw_flow__resolve(x, v)))
			return false;
	}
	return true;
}

static long timeout_ms(const json_t *params)
{
	const json_t *t = json_object_get(params, "TimeoutSeconds");
	long s = json_is_integer(t) ? (long)json_integer_value(t)
	         : json_is_string(t) ? strtol(json_string_value(t), NULL, 10) : 0;
	return s > 0 ? s * 1000 : 0;
}

static struct bw_branch ii_run(const struct bw_flow_exec *x, const struct bw_flow_action *a)
{
	const json_t *attrs = json_object_get(a->params, "RequestAttributes");
	const char *method = json_string_value(json_object_get(a->params, "Method"));
	const char *path = json_string_value(json_object_get(a->params, "Path"));
	struct bw_flow_call call = {
	    .integration_id = json_string_value(json_object_get(a->params, "IntegrationId")),
	    .method = method ? method : "POST",
	    .path = path ? path : "/",
	    .timeout_ms = timeout_ms(a->params),
	};
	struct bw_flow_secret_ref refs[BW_FLOW_MAX_ATTRIBUTES];
	char *query = NULL, *body = NULL;
	int rc = -1;
	if (!x->h->invoke || !call.integration_id)
		return BW_BR_ERR("IntegrationError");
	if (!strcmp(call.method, "GET")) {
		query = malloc(INVOKE_PATH_MAX + 1);
		if (!query || !query_path(x, call.path, attrs, query, INVOKE_PATH_MAX + 1))
			goto out;
		call.path = query;
	} else {
		json_t *o = json_object();
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)attrs, k, v)
		{
			const char *name = bw_flow__secret_ref(v);
			if (name && call.nsecrets < BW_FLOW_MAX_ATTRIBUTES)
				refs[call.nsecrets++] = (struct bw_flow_secret_ref){k, name};
			else if (o && !name)
				json_object_set_new(o, k, json_string(bw_flow__resolve(x, v)));
		}
		body = o ? json_dumps(o, JSON_COMPACT) : NULL;
		json_decref(o);
		if (!body)
			goto out;
		call.body = body;
		call.body_len = strlen(body);
		call.secrets = call.nsecrets ? refs : NULL;
	}
	rc = x->h->invoke(x->ctx, &call);
out:
	free(query);
	free(body); /* the host copied it: values do not outlive the call here */
	return rc == 0 ? BW_BR(BW_BR_PENDING) : BW_BR_ERR("IntegrationError");
}

/* ---- the answer ---- */

/* A member's value as attribute text into buf, or NULL when it is not a
 * scalar of at most BW_FLOW_MAX_TEXT characters of text. */
static const char *scalar_text(const json_t *v, char *buf, size_t n)
{
	size_t chars;
	switch (json_typeof(v)) {
	case JSON_STRING:
		if (!bw_flow__utf8_text(json_string_value(v), json_string_length(v), true, &chars) ||
		    chars > BW_FLOW_MAX_TEXT)
			return NULL;
		return json_string_value(v);
	case JSON_INTEGER:
		snprintf(buf, n, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf;
	case JSON_REAL: snprintf(buf, n, "%.15g", json_real_value(v)); return buf;
	case JSON_TRUE: return "true";
	case JSON_FALSE: return "false";
	default: return NULL;
	}
}

static struct bw_branch ii_resume(const struct bw_flow_exec *x, const struct bw_flow_action *a,
                                  const struct bw_flow_answer *ans)
{
	(void)a;
	if (ans->kind == BW_FLOW_ANSWER_TIMEOUT)
		return BW_BR_ERR("Timeout");
	if (ans->kind == BW_FLOW_ANSWER_NOT_MADE)
		return BW_BR_ERR("NoMatchingError");
	if (ans->kind != BW_FLOW_ANSWER_RESPONSE || ans->status < 200 || ans->status > 299)
		return BW_BR_ERR("IntegrationError");
	if (!ans->body_len)
		return BW_BR(BW_BR_NEXT); /* 204, or a 2xx with nothing to say */
	const char *why;
	json_t *o = bw_json_parse(ans->body, ans->body_len, &why);
	if (!json_is_object(o) || json_object_size(o) > INVOKE_ANSWER_KEYS) {
		json_decref(o);
		return BW_BR_ERR("IntegrationError");
	}
	struct bw_branch b = BW_BR(BW_BR_NEXT);
	const char *k;
	json_t *v;
	char num[64];
	json_object_foreach(o, k, v)
	{
		const char *text = bw_flow__attr_name_ok(k) ? scalar_text(v, num, sizeof(num)) : NULL;
		if (text && x->h->attr_set(x->ctx, k, text) != 0) {
			b = BW_BR_ERR("NoMatchingError"); /* the contact holds too many attributes */
			break;
		}
	}
	json_decref(o);
	return b;
}

static const char *const ii_errors[] = {"NoMatchingError", "Timeout", "IntegrationError", NULL};

const struct bw_block_type bw_block_invoke_integration = {
	.name = "InvokeIntegration",
	.flags = 0,
	.error_types = ii_errors,
	.validate = ii_validate,
	.run = ii_run,
	.resume = ii_resume,
};
