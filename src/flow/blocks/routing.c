/* Routing: CheckHoursOfOperation branches on whether an hours-of-operation
 * is open now; TransferContactToQueue ends the flow in a queue;
 * DisconnectParticipant ends the contact. */
#include <stdio.h>
#include <string.h>

#include "flow/flow_int.h"

static int choo_validate(struct bw_flow_check *ck, const struct bw_flow_action *a,
                         const char *path)
{
	static const char *const fields[] = {"HoursOfOperationId", NULL};
	static const char *const ops[] = {"Equals", NULL};
	const char *hid;
	int bad = bw_flow__only(ck, a->params, path, fields);
	bad |= bw_flow__ref_id(ck, a->params, "HoursOfOperationId", path, true, &hid);
	char tpath[BW_FLOW_PATH_MAX];
	bw_flow__action_path(tpath, sizeof(tpath), path);
	if (bw_flow__conds(ck, a, path, ops) != 0)
		return -1;
	bool seen[2] = {false, false};
	for (size_t i = 0; i < a->nconds; i++) {
		const char *v = json_string_value(json_array_get(a->conds[i].operands, 0));
		int which = v && !strcmp(v, "True") ? 1 : v && !strcmp(v, "False") ? 0 : -1;
		char p[BW_FLOW_PATH_MAX];
		bw_flow__pathf(p, sizeof(p), "%s.Transitions.Conditions[%zu].Condition.Operands[0]", tpath,
		         i);
		if (which < 0) {
			bw_flow__error(ck, p, "must be \"True\" (open) or \"False\" (closed)");
			bad = -1;
		} else if (seen[which]) {
			bw_flow__error(ck, p, "a second branch for the same value");
			bad = -1;
		} else {
			seen[which] = true;
		}
	}
	return bad;
}

static struct bw_branch choo_run(const struct bw_flow_exec *x, const struct bw_flow_action *a)
{
	const char *hid = json_string_value(json_object_get(a->params, "HoursOfOperationId"));
	int open = x->h->hours_open(x->ctx, hid);
	if (open < 0)
		return BW_BR_ERR("NoMatchingError");
	for (size_t i = 0; i < a->nconds; i++) {
		const char *v = json_string_value(json_array_get(a->conds[i].operands, 0));
		if (v && !strcmp(v, open ? "True" : "False"))
			return (struct bw_branch){.kind = BW_BR_COND, .cond = (int)i};
	}
	return BW_BR_ERR("NoMatchingError");
}

static const char *const choo_errors[] = {"NoMatchingError", NULL};

const struct bw_block_type bw_block_check_hours_of_operation = {
	.name = "CheckHoursOfOperation",
	.flags = BW_BLOCK_CONDITIONS,
	.error_types = choo_errors,
	.validate = choo_validate,
	.run = choo_run,
};

static int tcq_validate(struct bw_flow_check *ck, const struct bw_flow_action *a,
                        const char *path)
{
	static const char *const fields[] = {"QueueId", NULL};
	const char *qid;
	int bad = bw_flow__only(ck, a->params, path, fields);
	bad |= bw_flow__ref_id(ck, a->params, "QueueId", path, true, &qid);
	return bad;
}

static struct bw_branch tcq_run(const struct bw_flow_exec *x, const struct bw_flow_action *a)
{
	int r = x->h->queue(x->ctx, json_string_value(json_object_get(a->params, "QueueId")));
	if (r == 0)
		return BW_BR(BW_BR_QUEUED);
	return BW_BR_ERR(r == -1 ? "QueueAtCapacity" : "NoMatchingError");
}

static const char *const tcq_errors[] = {"QueueAtCapacity", "NoMatchingError", NULL};

const struct bw_block_type bw_block_transfer_contact_to_queue = {
	.name = "TransferContactToQueue",
	.flags = BW_BLOCK_END,
	.error_types = tcq_errors,
	.validate = tcq_validate,
	.run = tcq_run,
};

static int dp_validate(struct bw_flow_check *ck, const struct bw_flow_action *a,
                       const char *path)
{
	static const char *const fields[] = {NULL};
	return bw_flow__only(ck, a->params, path, fields);
}

static struct bw_branch dp_run(const struct bw_flow_exec *x, const struct bw_flow_action *a)
{
	(void)x;
	(void)a;
	return BW_BR(BW_BR_END);
}

static const char *const dp_errors[] = {NULL};

const struct bw_block_type bw_block_disconnect_participant = {
	.name = "DisconnectParticipant",
	.flags = BW_BLOCK_END,
	.error_types = dp_errors,
	.validate = dp_validate,
	.run = dp_run,
};
