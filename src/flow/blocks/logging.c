/* UpdateFlowLoggingBehavior: turns the contact's flow log on or off (C8). */
#include <string.h>

#include "flow/flow_int.h"

static int validate(struct bw_flow_check *ck, const struct bw_flow_action *a, const char *path)
{
	static const char *const fields[] = {"FlowLoggingBehavior", NULL};
	static const char *const values[] = {"Enabled", "Disabled", NULL};
	const char *v;
	int bad = bw_flow__only(ck, a->params, path, fields);
	bad |= bw_flow__enum(ck, a->params, "FlowLoggingBehavior", path, values, true, &v);
	return bad;
}

static struct bw_branch run(const struct bw_flow_exec *x, const struct bw_flow_action *a)
{
	const char *v = json_string_value(json_object_get(a->params, "FlowLoggingBehavior"));
	x->h->set_logging(x->ctx, v && !strcmp(v, "Enabled"));
	return BW_BR(BW_BR_NEXT);
}

static const char *const errors[] = {NULL};

const struct bw_block_type bw_block_update_flow_logging_behavior = {
	.name = "UpdateFlowLoggingBehavior",
	.flags = 0,
	.error_types = errors,
	.validate = validate,
	.run = run,
};
