/* The contact filter inside a flow (C10). InvokeIntegration, which was a
 * seam here too, runs in invoke.c. */
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
