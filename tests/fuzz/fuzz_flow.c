/* fuzz_flow: flow documents (src/flow/) through the strict body decoder and
 * the validator. Besides not crashing: every error names a non-empty path
 * and a message, at most BW_FLOW_MAX_ERRORS are listed, the graph is built
 * exactly when the document is valid and every branch of it lands on an
 * action, and a valid document is still valid after a JSON round trip.
 *
 * A valid document is then run (src/flow/exec.c) with a host whose answers
 * (can ask, hours, queue, attribute room, the customer's inputs and time-outs)
 * come from the input: the bytes after the first NUL, or the document's own
 * bytes when there is none. The outcome is one of the enum, no more than
 * RUN_STEP_LIMIT actions run, every log line names an action of the flow, its
 * type, and a branch that action can take (never a value). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "flow/flow.h"
#include "flow/flow_int.h"

#include "fuzz_check.h"

static void check_errors(const json_t *errs)
{
	CHECK(json_is_array(errs));
	CHECK(json_array_size(errs) <= BW_FLOW_MAX_ERRORS);
	size_t i;
	json_t *e;
	json_array_foreach(errs, i, e)
	{
		const char *p = json_string_value(json_object_get(e, "path"));
		const char *m = json_string_value(json_object_get(e, "message"));
		CHECK(p != NULL && p[0] != '\0');
		CHECK(m != NULL && m[0] != '\0');
	}
}

static void check_graph(const struct bw_flow *f)
{
	CHECK(f->nactions >= 1 && f->nactions <= BW_FLOW_MAX_ACTIONS);
	CHECK(f->start >= 0 && (size_t)f->start < f->nactions);
	for (size_t i = 0; i < f->nactions; i++) {
		const struct bw_flow_action *a = &f->actions[i];
		CHECK(a->id != NULL && a->type != NULL && json_is_object(a->params));
		CHECK(a->next >= -1 && a->next < (int)f->nactions);
		for (size_t k = 0; k < a->nconds; k++)
			CHECK(a->conds[k].target >= 0 && a->conds[k].target < (int)f->nactions);
		for (size_t k = 0; k < a->nerrs; k++)
			CHECK(a->errs[k].target >= 0 && a->errs[k].target < (int)f->nactions);
	}
}

/* ---- running a valid flow ---- */

#define RUN_STEP_LIMIT 64
#define RUN_MAX_WAITS 16
#define RUN_MAX_INPUT 32
#define RUN_MAX_ATTRS 8

struct run {
	const struct bw_flow *f;
	const uint8_t *ans; /* the answers, taken in turn and cycled */
	size_t nans, next;
	json_t *attrs;
	char input[RUN_MAX_INPUT + 1];
	bool has_input;
	bool in_run;    /* inside bw_flow_run (else bw_flow_input) */
	long actions;   /* actions run: log lines of bw_flow_run but StepLimit */
	bool limit_hit; /* a StepLimit line */
	int last_queue; /* the last queue() answer */
};

static uint8_t take(struct run *r)
{
	if (!r->nans)
		return 0;
	uint8_t b = r->ans[r->next % r->nans];
	r->next++;
	return b;
}

static void r_say(void *ctx, const char *text)
{
	(void)ctx;
	CHECK(text != NULL && text[0] != '\0');
}

static const char *r_attr_get(void *ctx, const char *name)
{
	struct run *r = ctx;
	CHECK(name != NULL);
	return json_string_value(json_object_get(r->attrs, name));
}

static int r_attr_set(void *ctx, const char *name, const char *value)
{
	struct run *r = ctx;
	CHECK(name != NULL && bw_flow__attr_name_ok(name) && value != NULL);
	if (!json_object_get(r->attrs, name) &&
	    (json_object_size(r->attrs) >= RUN_MAX_ATTRS || (take(r) & 0x0f) == 0))
		return -1;
	return json_object_set_new(r->attrs, name, json_string(value)) ? -1 : 0;
}

static const char *r_ref(void *ctx, const char *name)
{
	struct run *r = ctx;
	CHECK(name != NULL && !strncmp(name, "$.", 2));
	if (!strcmp(name, "$.StoredCustomerInput"))
		return r->has_input ? r->input : NULL;
	if (!strcmp(name, "$.ContactId"))
		return "ct_fuzz";
	return take(r) & 1 ? NULL : "12025550143";
}

static bool r_can_ask(void *ctx)
{
	return take(ctx) & 1;
}

static int r_hours_open(void *ctx, const char *hours_id)
{
	CHECK(hours_id != NULL && hours_id[0] != '\0');
	return take(ctx) % 3 - 1;
}

static int r_queue(void *ctx, const char *queue_id)
{
	struct run *r = ctx;
	CHECK(queue_id != NULL && queue_id[0] != '\0');
	r->last_queue = -(int)(take(r) % 3);
	return r->last_queue;
}

static const char *r_region(void *ctx)
{
	static const char *const regions[] = {"US", "FR", "GB", "DE", "ZZ"};
	return regions[take(ctx) % 5];
}

static bool takes_error(const struct bw_block_type *t, const char *branch)
{
	for (const char *const *e = t->error_types; e && *e; e++)
		if (!strcmp(*e, branch))
			return true;
	return false;
}

/* A branch the action can take: a fixed name, never a value. */
static bool branch_ok(const struct bw_flow_action *a, const char *b, bool in_run)
{
	if (!in_run) /* bw_flow_input on a waiting action */
		return (a->type->flags & BW_BLOCK_WAITS) &&
		       (!strcmp(b, "Next") || !strcmp(b, "NoMatchingError"));
	if (!strncmp(b, "Condition[", 10)) {
		char *end;
		long k = strtol(b + 10, &end, 10);
		return end != b + 10 && !strcmp(end, "]") && k >= 0 && (size_t)k < a->nconds;
	}
	if (!strcmp(b, "Next"))
		return !(a->type->flags & (BW_BLOCK_END | BW_BLOCK_CONDITIONS));
	if (!strcmp(b, "Wait"))
		return a->type->flags & BW_BLOCK_WAITS;
	if (!strcmp(b, "Queued"))
		return a->type == &bw_block_transfer_contact_to_queue;
	if (!strcmp(b, "End"))
		return a->type == &bw_block_disconnect_participant;
	return !strcmp(b, "StepLimit") || takes_error(a->type, b);
}

static void r_log(void *ctx, const char *action_id, const char *type, const char *branch)
{
	struct run *r = ctx;
	CHECK(action_id != NULL && type != NULL && branch != NULL);
	const struct bw_flow_action *a = NULL;
	for (size_t i = 0; i < r->f->nactions && !a; i++)
		if (!strcmp(r->f->actions[i].id, action_id))
			a = &r->f->actions[i];
	CHECK(a != NULL);
	CHECK(!strcmp(a->type->name, type));
	CHECK(branch_ok(a, branch, r->in_run));
	if (!r->in_run)
		return;
	if (!strcmp(branch, "StepLimit")) {
		CHECK(!r->limit_hit);
		r->limit_hit = true;
	} else {
		r->actions++;
	}
}

static void r_set_logging(void *ctx, bool on)
{
	(void)ctx;
	(void)on;
}

static const struct bw_flow_host run_host = {
	.say = r_say,
	.attr_get = r_attr_get,
	.attr_set = r_attr_set,
	.ref = r_ref,
	.can_ask = r_can_ask,
	.hours_open = r_hours_open,
	.queue = r_queue,
	.region = r_region,
	.log = r_log,
	.set_logging = r_set_logging,
};

/* The customer's answer: mostly phone-number-like text, sometimes raw bytes. */
static void answer(struct run *r)
{
	static const char alphabet[] = "0123456789+ -()ABZaz.#";
	uint8_t how = take(r);
	size_t len = take(r) % (RUN_MAX_INPUT + 1);
	for (size_t i = 0; i < len; i++) {
		uint8_t b = take(r);
		r->input[i] = how & 2 ? alphabet[b % (sizeof(alphabet) - 1)] : (char)(b ? b : 'x');
	}
	r->input[len] = '\0';
	r->has_input = true;
}

static void run_flow(const struct bw_flow *f, const uint8_t *ans, size_t nans)
{
	struct run r = {.f = f, .ans = ans, .nans = nans, .attrs = json_object(), .last_queue = 1};
	CHECK(r.attrs != NULL);
	struct bw_flow_cursor cur;
	bw_flow_begin(f, &cur);
	CHECK(cur.pc == f->start && cur.steps == 0);
	enum bw_flow_outcome out = BW_FLOW_WAIT;
	for (int waits = 0; waits <= RUN_MAX_WAITS; waits++) {
		r.in_run = true;
		out = bw_flow_run(f, &cur, RUN_STEP_LIMIT, &run_host, &r);
		r.in_run = false;
		CHECK(out == BW_FLOW_WAIT || out == BW_FLOW_QUEUED || out == BW_FLOW_DISCONNECT ||
		      out == BW_FLOW_FAILED);
		CHECK(cur.steps >= 0 && cur.steps <= RUN_STEP_LIMIT);
		CHECK(r.actions == cur.steps);
		if (out != BW_FLOW_WAIT)
			break;
		CHECK(cur.pc >= 0 && (size_t)cur.pc < f->nactions);
		CHECK(f->actions[cur.pc].type->flags & BW_BLOCK_WAITS);
		CHECK(cur.wait_s >= 1 && cur.wait_s <= 3600);
		bool timed_out = take(&r) & 1;
		if (!timed_out)
			answer(&r);
		bool moved = bw_flow_input(f, &cur, timed_out, &run_host, &r);
		CHECK(moved == (cur.pc >= 0));
		if (!moved)
			break;
	}
	CHECK(r.actions <= RUN_STEP_LIMIT);
	CHECK(!r.limit_hit || (out == BW_FLOW_FAILED && cur.steps == RUN_STEP_LIMIT));
	if (out == BW_FLOW_FAILED && !r.limit_hit)
		CHECK(cur.pc == -1); /* a branch the document lacks */
	if (out == BW_FLOW_QUEUED)
		CHECK(f->actions[cur.pc].type == &bw_block_transfer_contact_to_queue &&
		      r.last_queue == 0);
	if (out == BW_FLOW_DISCONNECT)
		CHECK(f->actions[cur.pc].type == &bw_block_disconnect_participant);
	json_decref(r.attrs);
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t n)
{
	/* The document, then (after a NUL, which no document holds) the answers. */
	const uint8_t *nul = memchr(buf, '\0', n);
	size_t doc_n = nul ? (size_t)(nul - buf) : n;
	const uint8_t *ans = nul ? nul + 1 : buf;
	size_t nans = nul ? n - doc_n - 1 : n;
	const char *why = NULL;
	json_t *doc = bw_json_parse((const char *)buf, doc_n, &why);
	if (!doc)
		return 0;
	json_t *errs = bw_flow_validate(doc);
	CHECK(errs != NULL);
	check_errors(errs);
	bool valid = json_array_size(errs) == 0;
	struct bw_flow *f = NULL;
	json_t *errs2 = NULL;
	bw_result r = bw_flow_load(doc, &f, &errs2);
	CHECK(r == (valid ? BW_OK : BW_INVALID));
	CHECK(valid ? f != NULL && errs2 == NULL : f == NULL && errs2 != NULL);
	if (!valid)
		CHECK(json_equal(errs, errs2)); /* deterministic */
	if (f) {
		check_graph(f);
		run_flow(f, ans, nans);
	}
	bw_flow_free(f);
	json_decref(errs2);
	if (valid) {
		char *text = json_dumps(doc, JSON_COMPACT);
		CHECK(text != NULL);
		json_t *again = bw_json_parse(text, strlen(text), &why);
		CHECK(again != NULL);
		json_t *e = bw_flow_validate(again);
		CHECK(e != NULL && json_array_size(e) == 0);
		json_decref(e);
		json_decref(again);
		free(text);
	}
	json_decref(errs);
	json_decref(doc);
	return 0;
}
