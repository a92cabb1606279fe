/* Blocks checked now and run once their subsystems exist: the contact
 * filter (C10) and outbound integrations (C7, C17). */
#include <string.h>

#include "flow/flow_int.h"

static int ccf_validate(struct bw_flow_check *ck, const struct bw_flow_action *a,
                        const char *path)
{
	static const char *const fields[] = {"Identifier", NULL};
	static const char *const ids[] = {"CustomerEndpoint", "SourceIp", "Email", NULL};
	const char *id;
	int bad = bw_flow__only(ck, a->params, path, fields);
	bad |= bw_flow__enum(ck, a->params, "Identifier", path, ids, false, &id);
	return bad;
}

/* The contact filter inside a flow (C10): the deny list is asked again
 * (an entry may have been added since the contact arrived); a blocked
 * contact takes the ContactBlocked branch, or is ended when the flow has
 * none. Window limits are counted at the entry only. */
static struct bw_branch ccf_run(const struct bw_flow_exec *x, const struct bw_flow_action *a)
{
	const char *id = json_string_value(json_object_get(a->params, "Identifier"));
	if (!x->h->denied || !x->h->denied(x->ctx, id))
		return BW_BR(BW_BR_NEXT);
	for (size_t i = 0; i < a->nerrs; i++)
		if (!strcmp(a->errs[i].type, "ContactBlocked"))
			return BW_BR_ERR("ContactBlocked");
	if (x->h->blocked)
		x->h->blocked(x->ctx);
	return BW_BR(BW_BR_END);
}

static const char *const ccf_errors[] = {"ContactBlocked", "NoMatchingError", NULL};

const struct bw_block_type bw_block_check_contact_filter = {
	.name = "CheckContactFilter",
	.flags = 0,
	.error_types = ccf_errors,
	.validate = ccf_validate,
	.run = ccf_run,
};

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
		} else if (bw_flow__value(ck, v, r) != 0) {
			bad = -1;
		}
	}
	return bad;
}

/* A seam for the integrations issue: until the registry exists the call
 * fails and the flow takes the IntegrationError branch. */
static struct bw_branch ii_run(const struct bw_flow_exec *x, const struct bw_flow_action *a)
{
	(void)x;
	(void)a;
	return BW_BR_ERR("IntegrationError");
}

static const char *const ii_errors[] = {"NoMatchingError", "Timeout", "IntegrationError", NULL};

const struct bw_block_type bw_block_invoke_integration = {
	.name = "InvokeIntegration",
	.flags = 0,
	.error_types = ii_errors,
	.validate = ii_validate,
	.run = ii_run,
};
