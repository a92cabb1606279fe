/* MessageParticipant: sends Text to the customer as a SYSTEM message. */
#include "flow/flow_int.h"

static int validate(struct bw_flow_check *ck, const struct bw_flow_action *a, const char *path)
{
	static const char *const fields[] = {"Text", NULL};
	const char *text;
	int bad = bw_flow__only(ck, a->params, path, fields);
	bad |= bw_flow__str(ck, a->params, "Text", path, 1, BW_FLOW_MAX_TEXT, true, &text);
	return bad;
}

static struct bw_branch run(const struct bw_flow_exec *x, const struct bw_flow_action *a)
{
	x->h->say(x->ctx, json_string_value(json_object_get(a->params, "Text")));
	return BW_BR(BW_BR_NEXT);
}

static const char *const errors[] = {"NoMatchingError", NULL};

const struct bw_block_type bw_block_message_participant = {
	.name = "MessageParticipant",
	.flags = 0,
	.error_types = errors,
	.validate = validate,
	.run = run,
};
