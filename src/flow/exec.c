/* Running a flow: the engine calls bw_flow_run on the loop thread; each
 * action's block says which way to go, and this file follows the branch,
 * counts steps (a runaway flow stops at the limit) and writes the flow log
 * (block and branch, never a value). */
#include <stdio.h>
#include <string.h>

#include "flow/flow_int.h"

const char *bw_flow__resolve(const struct bw_flow_exec *x, const json_t *v)
{
	const char *s = json_string_value(v);
	if (!s)
		return "";
	if (strncmp(s, "$.", 2) != 0)
		return s;
	const char *r = !strncmp(s, "$.Attributes.", 13) ? x->h->attr_get(x->ctx, s + 13)
	                                                  : x->h->ref(x->ctx, s);
	return r ? r : "";
}

void bw_flow_begin(const struct bw_flow *f, struct bw_flow_cursor *cur)
{
	cur->pc = f->start;
	cur->steps = 0;
	cur->wait_s = 0;
}

static int error_target(const struct bw_flow_action *a, const char *type)
{
	for (size_t i = 0; i < a->nerrs; i++)
		if (!strcmp(a->errs[i].type, type))
			return a->errs[i].target;
	return -1;
}

static void log_branch(const struct bw_flow_host *h, void *ctx, const struct bw_flow_action *a,
                       const struct bw_branch *b)
{
	char br[48];
	switch (b->kind) {
	case BW_BR_NEXT: snprintf(br, sizeof(br), "Next"); break;
	case BW_BR_COND: snprintf(br, sizeof(br), "Condition[%d]", b->cond); break;
	case BW_BR_ERROR: snprintf(br, sizeof(br), "%s", b->error); break;
	case BW_BR_WAIT: snprintf(br, sizeof(br), "Wait"); break;
	case BW_BR_QUEUED: snprintf(br, sizeof(br), "Queued"); break;
	case BW_BR_END: snprintf(br, sizeof(br), "End"); break;
	case BW_BR_PENDING: snprintf(br, sizeof(br), "Wait"); break;
	}
	h->log(ctx, a->id, a->type->name, br);
}

enum bw_flow_outcome bw_flow_run(const struct bw_flow *f, struct bw_flow_cursor *cur,
                                 long step_limit, const struct bw_flow_host *h, void *ctx)
{
	const struct bw_flow_exec x = {h, ctx};
	while (cur->pc >= 0 && (size_t)cur->pc < f->nactions) {
		if (cur->steps >= step_limit) {
			h->log(ctx, f->actions[cur->pc].id, f->actions[cur->pc].type->name, "StepLimit");
			return BW_FLOW_FAILED;
		}
		cur->steps++;
		const struct bw_flow_action *a = &f->actions[cur->pc];
		struct bw_branch b = a->type->run(&x, a);
		log_branch(h, ctx, a, &b);
		switch (b.kind) {
		case BW_BR_NEXT: cur->pc = a->next; break;
		case BW_BR_COND:
			cur->pc = b.cond >= 0 && (size_t)b.cond < a->nconds ? a->conds[b.cond].target : -1;
			break;
		case BW_BR_ERROR: cur->pc = error_target(a, b.error); break;
		case BW_BR_WAIT: cur->wait_s = b.wait_s; return BW_FLOW_WAIT;
		case BW_BR_QUEUED: return BW_FLOW_QUEUED;
		case BW_BR_END: return BW_FLOW_DISCONNECT;
		case BW_BR_PENDING: return BW_FLOW_PENDING;
		}
	}
	return BW_FLOW_FAILED; /* a branch the document does not have */
}

bool bw_flow_input(const struct bw_flow *f, struct bw_flow_cursor *cur, bool timed_out,
                   const struct bw_flow_host *h, void *ctx)
{
	if (cur->pc < 0 || (size_t)cur->pc >= f->nactions)
		return false;
	const struct bw_flow_action *a = &f->actions[cur->pc];
	h->log(ctx, a->id, a->type->name, timed_out ? "NoMatchingError" : "Next");
	cur->pc = timed_out ? error_target(a, "NoMatchingError") : a->next;
	return cur->pc >= 0;
}

bool bw_flow_resume(const struct bw_flow *f, struct bw_flow_cursor *cur,
                    const struct bw_flow_answer *ans, const struct bw_flow_host *h, void *ctx)
{
	if (cur->pc < 0 || (size_t)cur->pc >= f->nactions || !f->actions[cur->pc].type->resume)
		return false;
	const struct bw_flow_exec x = {h, ctx};
	const struct bw_flow_action *a = &f->actions[cur->pc];
	struct bw_branch b = a->type->resume(&x, a, ans);
	log_branch(h, ctx, a, &b);
	if (b.kind == BW_BR_NEXT)
		cur->pc = a->next;
	else if (b.kind == BW_BR_ERROR)
		cur->pc = error_target(a, b.error);
	else
		cur->pc = -1; /* a resume goes on or fails, nothing else */
	return cur->pc >= 0;
}
