/* Running flows (src/flow/exec.c and each block's run()): a test-double
 * host records what a flow says, sets, logs and asks for, and answers
 * hours and queue questions as each test wants. Every document passes
 * bw_flow_load first: the runner only ever sees checked graphs. */
#include "test_common.h"

#include <stdio.h>
#include <stdlib.h>

#include "flow/flow.h"
#include "flow/flow_int.h"

/* ---- the test-double host ---- */

#define REC_MAX 256
#define ATTR_MAX 16

struct host {
	char *said[REC_MAX];
	size_t nsaid;
	char *logs[REC_MAX]; /* "action_id Type Branch" */
	size_t nlogs;
	char *queued[REC_MAX];
	size_t nqueued;
	char *hours_asked[REC_MAX];
	size_t nhours_asked;
	struct {
		char *name, *value;
	} attrs[ATTR_MAX];
	size_t nattrs;
	size_t attr_cap;     /* attr_set of a new name fails past this */
	int logging[REC_MAX]; /* set_logging calls, in order */
	size_t nlogging;
	/* Answers. */
	bool can_ask;
	int hours;        /* 1, 0, -1 */
	int queue_result; /* 0, -1, -2 */
	const char *input; /* $.StoredCustomerInput */
	const char *contact_id;
	const char *region;
	/* InvokeIntegration: the calls asked for (copies) and the answer. */
	int invoke_result; /* 0 started, -1 cannot */
	size_t ncalls;
	char *call_integration, *call_method, *call_path, *call_body;
	long call_timeout_ms;
	size_t call_nsecrets; /* secret references: attribute and name */
	char *call_secret_attr[8], *call_secret_name[8];
};

static char *dup_or_fail(const char *s)
{
	assert_non_null(s);
	char *d = strdup(s);
	assert_non_null(d);
	return d;
}

static void record(char **list, size_t *n, const char *s)
{
	assert_true(*n < REC_MAX);
	list[(*n)++] = dup_or_fail(s);
}

static void h_say(void *ctx, const char *text)
{
	struct host *h = ctx;
	record(h->said, &h->nsaid, text);
}

static const char *h_attr_get(void *ctx, const char *name)
{
	struct host *h = ctx;
	for (size_t i = 0; i < h->nattrs; i++)
		if (!strcmp(h->attrs[i].name, name))
			return h->attrs[i].value;
	return NULL;
}

static int h_attr_set(void *ctx, const char *name, const char *value)
{
	struct host *h = ctx;
	char *v = dup_or_fail(value); /* value may be the old one: copy it first */
	for (size_t i = 0; i < h->nattrs; i++)
		if (!strcmp(h->attrs[i].name, name)) {
			free(h->attrs[i].value);
			h->attrs[i].value = v;
			return 0;
		}
	if (h->nattrs >= h->attr_cap) {
		free(v);
		return -1;
	}
	h->attrs[h->nattrs].name = dup_or_fail(name);
	h->attrs[h->nattrs].value = v;
	h->nattrs++;
	return 0;
}

static const char *h_ref(void *ctx, const char *name)
{
	struct host *h = ctx;
	if (!strcmp(name, "$.StoredCustomerInput"))
		return h->input;
	if (!strcmp(name, "$.ContactId"))
		return h->contact_id;
	if (!strcmp(name, "$.Channel"))
		return "CHAT";
	return NULL;
}

static bool h_can_ask(void *ctx)
{
	struct host *h = ctx;
	return h->can_ask;
}

static int h_hours_open(void *ctx, const char *hours_id)
{
	struct host *h = ctx;
	record(h->hours_asked, &h->nhours_asked, hours_id);
	return h->hours;
}

static int h_queue(void *ctx, const char *queue_id)
{
	struct host *h = ctx;
	record(h->queued, &h->nqueued, queue_id);
	return h->queue_result;
}

static const char *h_region(void *ctx)
{
	struct host *h = ctx;
	return h->region;
}

static void h_log(void *ctx, const char *action_id, const char *type, const char *branch)
{
	struct host *h = ctx;
	char line[512];
	snprintf(line, sizeof(line), "%s %s %s", action_id, type, branch);
	record(h->logs, &h->nlogs, line);
}

static void h_set_logging(void *ctx, bool on)
{
	struct host *h = ctx;
	assert_true(h->nlogging < REC_MAX);
	h->logging[h->nlogging++] = on;
}

static void replace(char **dst, const char *s)
{
	free(*dst);
	*dst = s ? dup_or_fail(s) : NULL;
}

static int h_invoke(void *ctx, const struct bw_flow_call *call)
{
	struct host *h = ctx;
	h->ncalls++;
	replace(&h->call_integration, call->integration_id);
	replace(&h->call_method, call->method);
	replace(&h->call_path, call->path);
	replace(&h->call_body, call->body);
	if (call->body)
		assert_int_equal(strlen(call->body), call->body_len);
	h->call_timeout_ms = call->timeout_ms;
	assert_true(call->nsecrets <= 8);
	assert_true(!call->nsecrets == !call->secrets);
	for (size_t i = 0; i < call->nsecrets; i++) {
		replace(&h->call_secret_attr[i], call->secrets[i].attribute);
		replace(&h->call_secret_name[i], call->secrets[i].name);
	}
	h->call_nsecrets = call->nsecrets;
	return h->invoke_result;
}

static const struct bw_flow_host host_vt = {
	.say = h_say,
	.attr_get = h_attr_get,
	.attr_set = h_attr_set,
	.ref = h_ref,
	.can_ask = h_can_ask,
	.hours_open = h_hours_open,
	.queue = h_queue,
	.region = h_region,
	.log = h_log,
	.set_logging = h_set_logging,
};

/* The same host with a way to call integrations. */
static const struct bw_flow_host host_inv = {
	.say = h_say,
	.attr_get = h_attr_get,
	.attr_set = h_attr_set,
	.ref = h_ref,
	.can_ask = h_can_ask,
	.hours_open = h_hours_open,
	.queue = h_queue,
	.region = h_region,
	.log = h_log,
	.set_logging = h_set_logging,
	.invoke = h_invoke,
};

static void host_init(struct host *h)
{
	memset(h, 0, sizeof(*h));
	h->attr_cap = ATTR_MAX;
	h->can_ask = true;
	h->hours = 1;
	h->contact_id = "ct_42";
	h->region = "US";
}

static void free_list(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
}

static void host_free(struct host *h)
{
	free_list(h->said, h->nsaid);
	free_list(h->logs, h->nlogs);
	free_list(h->queued, h->nqueued);
	free_list(h->hours_asked, h->nhours_asked);
	for (size_t i = 0; i < h->nattrs; i++) {
		free(h->attrs[i].name);
		free(h->attrs[i].value);
	}
	free(h->call_integration);
	free(h->call_method);
	free(h->call_path);
	free(h->call_body);
	for (size_t i = 0; i < 8; i++) {
		free(h->call_secret_attr[i]);
		free(h->call_secret_name[i]);
	}
}

static bool has_log(const struct host *h, const char *line)
{
	for (size_t i = 0; i < h->nlogs; i++)
		if (!strcmp(h->logs[i], line))
			return true;
	return false;
}

#define assert_log(h, line)                                                                        \
	do {                                                                                       \
		if (!has_log((h), (line)))                                                         \
			fail_msg("no log line \"%s\" (%zu lines, last \"%s\")", (line),           \
			         (h)->nlogs, (h)->nlogs ? (h)->logs[(h)->nlogs - 1] : "");        \
	} while (0)

#define assert_last_log(h, line)                                                                   \
	do {                                                                                       \
		assert_true((h)->nlogs > 0);                                                       \
		assert_string_equal((h)->logs[(h)->nlogs - 1], (line));                            \
	} while (0)

/* No log line and nothing said holds the customer's input. */
static void assert_input_kept_out(const struct host *h, const char *input)
{
	for (size_t i = 0; i < h->nlogs; i++)
		assert_not_contains(h->logs[i], input);
	for (size_t i = 0; i < h->nsaid; i++)
		assert_not_contains(h->said[i], input);
}

/* ---- documents ---- */

/* JSON with ' for " (the documents below hold no apostrophe). */
static json_t *J(const char *text)
{
	char *s = dup_or_fail(text);
	for (char *p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	json_error_t err;
	json_t *v = json_loads(s, JSON_REJECT_DUPLICATES, &err);
	if (!v)
		fail_msg("bad test JSON: %s: %s", err.text, s);
	free(s);
	return v;
}

#define FLOW(start, actions)                                                                       \
	"{'Version': '2019-10-30', 'StartAction': '" start "', 'Actions': [" actions "]}"

#define BYE "{'Identifier': 'bye', 'Type': 'DisconnectParticipant', 'Transitions': {}}"

/* A MessageParticipant `id` saying `text`, then `next`. */
#define SAY(id, text, next)                                                                        \
	"{'Identifier': '" id "', 'Type': 'MessageParticipant', 'Parameters': {'Text': '" text     \
	"'}, 'Transitions': {'NextAction': '" next "'}}"

/* A Transitions.Conditions entry. */
#define COND(next, op, operand)                                                                    \
	"{'NextAction': '" next "', 'Condition': {'Operator': '" op "', 'Operands': ['" operand    \
	"']}}"

/* Loads a document that must be valid. */
static struct bw_flow *load(const char *text)
{
	json_t *doc = J(text);
	struct bw_flow *f = NULL;
	json_t *errs = NULL;
	bw_result r = bw_flow_load(doc, &f, &errs);
	if (r != BW_OK) {
		char *s = errs ? json_dumps(errs, JSON_COMPACT) : NULL;
		fail_msg("the document does not load (%d): %s", (int)r, s ? s : "");
	}
	json_decref(doc); /* the graph holds its own reference */
	return f;
}

static int index_of(const struct bw_flow *f, const char *id)
{
	for (size_t i = 0; i < f->nactions; i++)
		if (!strcmp(f->actions[i].id, id))
			return (int)i;
	fail_msg("no action %s", id);
	return -1;
}

static enum bw_flow_outcome start(const struct bw_flow *f, struct bw_flow_cursor *cur,
                                  struct host *h)
{
	bw_flow_begin(f, cur);
	assert_int_equal(cur->pc, f->start);
	assert_int_equal(cur->steps, 0);
	return bw_flow_run(f, cur, 1000, &host_vt, h);
}

/* ---- MessageParticipant, DisconnectParticipant ---- */

static void test_message_then_disconnect(void **state)
{
	(void)state;
	struct bw_flow *f = load(FLOW("greet", SAY("greet", "Hello there", "bye") "," BYE));
	struct host h;
	host_init(&h);
	struct bw_flow_cursor cur;
	assert_int_equal(start(f, &cur, &h), BW_FLOW_DISCONNECT);
	assert_int_equal(h.nsaid, 1);
	assert_string_equal(h.said[0], "Hello there");
	assert_int_equal(h.nlogs, 2);
	assert_string_equal(h.logs[0], "greet MessageParticipant Next");
	assert_string_equal(h.logs[1], "bye DisconnectParticipant End");
	assert_int_equal(cur.steps, 2);
	host_free(&h);
	bw_flow_free(f);
}

/* ---- GetParticipantInput and bw_flow_input ---- */

#define ASK_FLOW(params)                                                                           \
	FLOW("ask",                                                                                \
	     "{'Identifier': 'ask', 'Type': 'GetParticipantInput', 'Parameters': " params ","     \
	     " 'Transitions': {'NextAction': 'thanks',"                                           \
	     "  'Errors': [{'NextAction': 'sorry', 'ErrorType': 'NoMatchingError'}]}},"           \
	     SAY("thanks", "Thanks", "bye") "," SAY("sorry", "Too slow", "bye") "," BYE)

static void test_input_waits(void **state)
{
	(void)state;
	struct bw_flow *f =
		load(ASK_FLOW("{'Text': 'Your number?', 'InputTimeLimitSeconds': '45'}"));
	struct host h;
	host_init(&h);
	struct bw_flow_cursor cur;
	assert_int_equal(start(f, &cur, &h), BW_FLOW_WAIT);
	assert_int_equal(cur.wait_s, 45);
	assert_int_equal(cur.pc, index_of(f, "ask"));
	assert_int_equal(h.nsaid, 1);
	assert_string_equal(h.said[0], "Your number?");
	assert_last_log(&h, "ask GetParticipantInput Wait");

	/* Answered: Next. */
	h.input = "555";
	assert_true(bw_flow_input(f, &cur, false, &host_vt, &h));
	assert_int_equal(cur.pc, index_of(f, "thanks"));
	assert_last_log(&h, "ask GetParticipantInput Next");
	assert_int_equal(bw_flow_run(f, &cur, 1000, &host_vt, &h), BW_FLOW_DISCONNECT);
	assert_int_equal(h.nsaid, 2);
	assert_string_equal(h.said[1], "Thanks");
	assert_int_equal(cur.steps, 3); /* ask, thanks, bye: the answer is no step */
	assert_input_kept_out(&h, "555");
	host_free(&h);
	bw_flow_free(f);
}

static void test_input_timeout(void **state)
{
	(void)state;
	/* A JSON integer for the limit; no Text: nothing is said before waiting. */
	struct bw_flow *f = load(ASK_FLOW("{'InputTimeLimitSeconds': 7}"));
	struct host h;
	host_init(&h);
	struct bw_flow_cursor cur;
	assert_int_equal(start(f, &cur, &h), BW_FLOW_WAIT);
	assert_int_equal(cur.wait_s, 7);
	assert_int_equal(h.nsaid, 0);
	assert_true(bw_flow_input(f, &cur, true, &host_vt, &h));
	assert_int_equal(cur.pc, index_of(f, "sorry"));
	assert_last_log(&h, "ask GetParticipantInput NoMatchingError");
	assert_int_equal(bw_flow_run(f, &cur, 1000, &host_vt, &h), BW_FLOW_DISCONNECT);
	assert_int_equal(h.nsaid, 1);
	assert_string_equal(h.said[0], "Too slow");
	host_free(&h);
	bw_flow_free(f);

	/* The default limit is 300 s. */
	f = load(ASK_FLOW("{'StoreInput': 'True'}"));
	host_init(&h);
	assert_int_equal(start(f, &cur, &h), BW_FLOW_WAIT);
	assert_int_equal(cur.wait_s, 300);
	host_free(&h);
	bw_flow_free(f);
}

static void test_input_cannot_ask(void **state)
{
	(void)state;
	struct bw_flow *f = load(ASK_FLOW("{'Text': 'Your number?'}"));
	struct host h;
	host_init(&h);
	h.can_ask = false;
	struct bw_flow_cursor cur;
	assert_int_equal(start(f, &cur, &h), BW_FLOW_DISCONNECT);
	/* The question is not put to a channel that cannot answer. */
	assert_int_equal(h.nsaid, 1);
	assert_string_equal(h.said[0], "Too slow");
	assert_log(&h, "ask GetParticipantInput NoMatchingError");
	assert_false(has_log(&h, "ask GetParticipantInput Wait"));
	host_free(&h);
	bw_flow_free(f);
}

static void test_input_without_error_branch(void **state)
{
	(void)state;
	struct bw_flow *f = load(FLOW("ask", "{'Identifier': 'ask', 'Type': 'GetParticipantInput',"
	                                     " 'Transitions': {'NextAction': 'bye'}}," BYE));
	struct host h;
	host_init(&h);
	struct bw_flow_cursor cur;
	assert_int_equal(start(f, &cur, &h), BW_FLOW_WAIT);
	/* A time-out with no NoMatchingError branch: the contact fails. */
	assert_false(bw_flow_input(f, &cur, true, &host_vt, &h));
	assert_int_equal(cur.pc, -1);
	assert_int_equal(bw_flow_run(f, &cur, 1000, &host_vt, &h), BW_FLOW_FAILED);
	/* A cursor that points nowhere takes no input. */
	assert_false(bw_flow_input(f, &cur, false, &host_vt, &h));
	cur.pc = (int)f->nactions;
	assert_false(bw_flow_input(f, &cur, false, &host_vt, &h));

	/* Same when the channel cannot ask: run() itself finds no branch. */
	host_free(&h);
	host_init(&h);
	h.can_ask = false;
	assert_int_equal(start(f, &cur, &h), BW_FLOW_FAILED);
	assert_last_log(&h, "ask GetParticipantInput NoMatchingError");
	host_free(&h);
	bw_flow_free(f);
}

/* ---- ValidateInput ---- */

/* ask → check (ValidateInput with params) → ok | bad. */
#define CHECK_FLOW(params)                                                                         \
	FLOW("ask",                                                                                \
	     "{'Identifier': 'ask', 'Type': 'GetParticipantInput', 'Parameters': {'Text': 'Go'},"  \
	     " 'Transitions': {'NextAction': 'check'}},"                                           \
	     "{'Identifier': 'check', 'Type': 'ValidateInput', 'Parameters': " params ","          \
	     " 'Transitions': {'NextAction': 'ok', 'Errors': ["                                    \
	     "  {'NextAction': 'bad', 'ErrorType': 'InvalidInput'},"                               \
	     "  {'NextAction': 'oops', 'ErrorType': 'NoMatchingError'}]}},"                        \
	     SAY("ok", "ok", "bye") "," SAY("bad", "bad", "bye") "," SAY("oops", "oops", "bye")   \
	     "," BYE)

/* Runs the CHECK_FLOW f with input; returns what the flow said last. */
static const char *answer(const struct bw_flow *f, struct host *h, const char *input)
{
	struct bw_flow_cursor cur;
	assert_int_equal(start(f, &cur, h), BW_FLOW_WAIT);
	h->input = input;
	assert_true(bw_flow_input(f, &cur, false, &host_vt, h));
	assert_int_equal(bw_flow_run(f, &cur, 1000, &host_vt, h), BW_FLOW_DISCONNECT);
	assert_true(h->nsaid >= 2);
	assert_input_kept_out(h, input);
	return h->said[h->nsaid - 1];
}

static void test_validate_phone(void **state)
{
	(void)state;
	struct bw_flow *f = load(CHECK_FLOW("{'Kind': 'PhoneNumber', 'Attribute': 'callback'}"));
	struct host h;
	host_init(&h);
	assert_string_equal(answer(f, &h, "+33 6 12 34 56 78"), "ok");
	assert_log(&h, "check ValidateInput Next");
	assert_string_equal(h_attr_get(&h, "callback"), "+33612345678"); /* E.164 */
	host_free(&h);

	host_init(&h);
	assert_string_equal(answer(f, &h, "12"), "bad");
	assert_log(&h, "check ValidateInput InvalidInput");
	assert_null(h_attr_get(&h, "callback"));
	assert_int_equal(h.nattrs, 0);
	host_free(&h);

	/* A national number reads in the host's region when the block names none. */
	host_init(&h);
	h.region = "FR";
	assert_string_equal(answer(f, &h, "06 12 34 56 78"), "ok");
	assert_string_equal(h_attr_get(&h, "callback"), "+33612345678");
	host_free(&h);
	host_init(&h); /* ... and not in the US */
	assert_string_equal(answer(f, &h, "06 12 34 56 78"), "bad");
	host_free(&h);

	/* A region the host gives that libphonenumber does not know: the rule
	 * is wrong, not the input. */
	host_init(&h);
	h.region = "ZZ";
	assert_string_equal(answer(f, &h, "06 12 34 56 78"), "oops");
	assert_log(&h, "check ValidateInput NoMatchingError");
	host_free(&h);

	/* No room for the attribute: NoMatchingError, nothing stored. */
	host_init(&h);
	h.attr_cap = 0;
	assert_string_equal(answer(f, &h, "+33 6 12 34 56 78"), "oops");
	assert_int_equal(h.nattrs, 0);
	host_free(&h);
	bw_flow_free(f);

	/* DefaultRegion of the block wins over the host's. */
	f = load(CHECK_FLOW("{'Kind': 'PhoneNumber', 'DefaultRegion': 'FR', 'Attribute': 'cb'}"));
	host_init(&h);
	assert_string_equal(answer(f, &h, "06 12 34 56 78"), "ok");
	assert_string_equal(h_attr_get(&h, "cb"), "+33612345678");
	host_free(&h);
	bw_flow_free(f);
}

static void test_validate_digits(void **state)
{
	(void)state;
	/* Min and Max reach the rule whether given as text or integers. */
	struct bw_flow *f =
		load(CHECK_FLOW("{'Kind': 'Digits', 'Min': '4', 'Max': 4, 'Attribute': 'pin'}"));
	struct host h;
	host_init(&h);
	assert_string_equal(answer(f, &h, "12-34"), "ok");
	assert_string_equal(h_attr_get(&h, "pin"), "1234");
	host_free(&h);
	host_init(&h);
	assert_string_equal(answer(f, &h, "123"), "bad");
	assert_null(h_attr_get(&h, "pin"));
	host_free(&h);
	host_init(&h);
	assert_string_equal(answer(f, &h, "12345"), "bad");
	host_free(&h);
	bw_flow_free(f);

	/* No Attribute: valid input goes Next and sets nothing. */
	f = load(CHECK_FLOW("{'Kind': 'Luhn'}"));
	host_init(&h);
	assert_string_equal(answer(f, &h, "4111 1111 1111 1111"), "ok");
	assert_int_equal(h.nattrs, 0);
	host_free(&h);
	bw_flow_free(f);
}

static void test_validate_without_input(void **state)
{
	(void)state;
	/* A ValidateInput before any input was taken: InvalidInput. */
	struct bw_flow *f = load(
		FLOW("check", "{'Identifier': 'check', 'Type': 'ValidateInput',"
		              " 'Parameters': {'Kind': 'Date', 'Attribute': 'd'},"
		              " 'Transitions': {'NextAction': 'bye',"
		              "  'Errors': [{'NextAction': 'bad', 'ErrorType': 'InvalidInput'}]}},"
		     SAY("bad", "bad", "bye") "," BYE));
	struct host h;
	host_init(&h);
	struct bw_flow_cursor cur;
	assert_int_equal(start(f, &cur, &h), BW_FLOW_DISCONNECT);
	assert_log(&h, "check ValidateInput InvalidInput");
	assert_int_equal(h.nattrs, 0);
	host_free(&h);
	bw_flow_free(f);
}

/* ---- UpdateContactAttributes ---- */

static void test_update_attributes(void **state)
{
	(void)state;
	struct bw_flow *f = load(FLOW(
		"set", "{'Identifier': 'set', 'Type': 'UpdateContactAttributes',"
		       " 'Parameters': {'TargetContact': 'Current', 'Attributes': {"
		       "  'greeting': 'hi', 'copy': '$.Attributes.src', 'cid': '$.ContactId',"
		       "  'chan': '$.Channel', 'missing': '$.Attributes.nope',"
		       "  'src': 'overwritten'}},"
		       " 'Transitions': {'NextAction': 'bye',"
		       "  'Errors': [{'NextAction': 'full', 'ErrorType': 'NoMatchingError'}]}},"
		SAY("full", "full", "bye") "," BYE));
	struct host h;
	host_init(&h);
	assert_int_equal(h_attr_set(&h, "src", "from-src"), 0);
	struct bw_flow_cursor cur;
	assert_int_equal(start(f, &cur, &h), BW_FLOW_DISCONNECT);
	assert_log(&h, "set UpdateContactAttributes Next");
	assert_string_equal(h_attr_get(&h, "greeting"), "hi");
	assert_string_equal(h_attr_get(&h, "copy"), "from-src"); /* read before src changes */
	assert_string_equal(h_attr_get(&h, "cid"), "ct_42");
	assert_string_equal(h_attr_get(&h, "chan"), "CHAT");
	assert_string_equal(h_attr_get(&h, "missing"), ""); /* an unset reference is empty */
	assert_string_equal(h_attr_get(&h, "src"), "overwritten");
	assert_int_equal(h.nsaid, 0);
	host_free(&h);

	/* The host refuses a new attribute: NoMatchingError. */
	host_init(&h);
	h.attr_cap = 2;
	assert_int_equal(start(f, &cur, &h), BW_FLOW_DISCONNECT);
	assert_log(&h, "set UpdateContactAttributes NoMatchingError");
	assert_int_equal(h.nsaid, 1);
	assert_string_equal(h.said[0], "full");
	host_free(&h);
	bw_flow_free(f);

	/* ... and with no branch for it, the contact fails. */
	f = load(FLOW("set", "{'Identifier': 'set', 'Type': 'UpdateContactAttributes',"
	                     " 'Parameters': {'Attributes': {'a': 'b'}},"
	                     " 'Transitions': {'NextAction': 'bye'}}," BYE));
	host_init(&h);
	h.attr_cap = 0;
	assert_int_equal(start(f, &cur, &h), BW_FLOW_FAILED);
	assert_last_log(&h, "set UpdateContactAttributes NoMatchingError");
	host_free(&h);
	bw_flow_free(f);
}

/* ---- Compare ---- */

struct cmp_case {
	const char *op, *operand, *value;
	bool holds;
};

static const struct cmp_case cmp_cases[] = {
	{"Equals", "abc", "abc", true},
	{"Equals", "abc", "abd", false},
	{"Equals", "abc", "ABC", false},
	{"TextStartsWith", "ab", "abc", true},
	{"TextStartsWith", "bc", "abc", false},
	{"TextStartsWith", "abcd", "abc", false},
	{"TextEndsWith", "bc", "abc", true},
	{"TextEndsWith", "ab", "abc", false},
	{"TextEndsWith", "xabc", "abc", false},
	{"TextContains", "b", "abc", true},
	{"TextContains", "z", "abc", false},
	{"NumberGreaterThan", "10", "11", true},
	{"NumberGreaterThan", "10", "10", false},
	{"NumberGreaterThan", "10", "9.5", false},
	{"NumberGreaterThan", "9", "10", true}, /* numbers, not text */
	{"NumberGreaterThan", "10", "abc", false},
	{"NumberGreaterThan", "10", "", false},
	{"NumberLessThan", "10", "9.5", true},
	{"NumberLessThan", "10", "-3", true},
	{"NumberLessThan", "10", "10", false},
	{"NumberLessThan", "10", "1e3", false},
	{"NumberGreaterOrEqualTo", "10", "10", true},
	{"NumberGreaterOrEqualTo", "10", "10.0", true},
	{"NumberGreaterOrEqualTo", "10", "9", false},
	{"NumberLessOrEqualTo", "10", "10", true},
	{"NumberLessOrEqualTo", "10", "11", false},
	{"NumberLessOrEqualTo", "-1.5", "-2", true},
};

#define CMP_FLOW_FMT                                                                               \
	FLOW("cmp", "{'Identifier': 'cmp', 'Type': 'Compare',"                                     \
	            " 'Parameters': {'ComparisonValue': '$.Attributes.v'},"                        \
	            " 'Transitions': {'Conditions': [{'NextAction': 'yes',"                       \
	            "  'Condition': {'Operator': '%s', 'Operands': ['%s']}}],"                     \
	            "  'Errors': [{'NextAction': 'no', 'ErrorType': 'NoMatchingCondition'}]}},"    \
	            SAY("yes", "yes", "bye") "," SAY("no", "no", "bye") "," BYE)

static void test_compare_operators(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cmp_cases) / sizeof(cmp_cases[0]); i++) {
		const struct cmp_case *c = &cmp_cases[i];
		char doc[2048];
		snprintf(doc, sizeof(doc), CMP_FLOW_FMT, c->op, c->operand);
		struct bw_flow *f = load(doc);
		struct host h;
		host_init(&h);
		assert_int_equal(h_attr_set(&h, "v", c->value), 0);
		struct bw_flow_cursor cur;
		assert_int_equal(start(f, &cur, &h), BW_FLOW_DISCONNECT);
		assert_int_equal(h.nsaid, 1);
		if (strcmp(h.said[0], c->holds ? "yes" : "no") != 0)
			fail_msg("case %zu: \"%s\" %s \"%s\" should %shold", i, c->value, c->op,
			         c->operand, c->holds ? "" : "not ");
		assert_log(&h, c->holds ? "cmp Compare Condition[0]"
		                        : "cmp Compare NoMatchingCondition");
		host_free(&h);
		bw_flow_free(f);
	}
}

static void test_compare_branches(void **state)
{
	(void)state;
	/* The first condition that holds wins; operands may be references. */
	struct bw_flow *f = load(FLOW(
		"cmp", "{'Identifier': 'cmp', 'Type': 'Compare',"
		       " 'Parameters': {'ComparisonValue': '$.Attributes.v'},"
		       " 'Transitions': {'Conditions': ["
		       COND("big", "NumberGreaterThan", "100") ","
		       COND("mid", "NumberGreaterThan", "10") ","
		       COND("same", "Equals", "$.Attributes.w") "]}},"
		SAY("big", "big", "bye") "," SAY("mid", "mid", "bye") "," SAY("same", "same", "bye")
		"," BYE));
	static const struct {
		const char *v, *w, *said, *log;
	} cases[] = {
		{"500", "x", "big", "cmp Compare Condition[0]"},
		{"50", "x", "mid", "cmp Compare Condition[1]"},
		{"5", "5", "same", "cmp Compare Condition[2]"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct host h;
		host_init(&h);
		assert_int_equal(h_attr_set(&h, "v", cases[i].v), 0);
		assert_int_equal(h_attr_set(&h, "w", cases[i].w), 0);
		struct bw_flow_cursor cur;
		assert_int_equal(start(f, &cur, &h), BW_FLOW_DISCONNECT);
		assert_string_equal(h.said[0], cases[i].said);
		assert_log(&h, cases[i].log);
		host_free(&h);
	}
	/* Nothing holds and there is no NoMatchingCondition branch: failed. */
	struct host h;
	host_init(&h);
	assert_int_equal(h_attr_set(&h, "v", "5"), 0);
	struct bw_flow_cursor cur;
	assert_int_equal(start(f, &cur, &h), BW_FLOW_FAILED);
	assert_last_log(&h, "cmp Compare NoMatchingCondition");
	assert_int_equal(h.nsaid, 0);
	host_free(&h);
	bw_flow_free(f);
}

/* ---- CheckHoursOfOperation ---- */

static void test_hours(void **state)
{
	(void)state;
	struct bw_flow *f = load(FLOW(
		"hours", "{'Identifier': 'hours', 'Type': 'CheckHoursOfOperation',"
		         " 'Parameters': {'HoursOfOperationId': 'h_main'},"
		         " 'Transitions': {'Conditions': ["
		         COND("open", "Equals", "True") "," COND("closed", "Equals", "False") "],"
		         " 'Errors': [{'NextAction': 'unknown', 'ErrorType': 'NoMatchingError'}]}},"
		SAY("open", "open", "bye") "," SAY("closed", "closed", "bye") ","
		SAY("unknown", "unknown", "bye") "," BYE));
	static const struct {
		int answer;
		const char *said, *log;
	} cases[] = {
		{1, "open", "hours CheckHoursOfOperation Condition[0]"},
		{0, "closed", "hours CheckHoursOfOperation Condition[1]"},
		{-1, "unknown", "hours CheckHoursOfOperation NoMatchingError"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct host h;
		host_init(&h);
		h.hours = cases[i].answer;
		struct bw_flow_cursor cur;
		assert_int_equal(start(f, &cur, &h), BW_FLOW_DISCONNECT);
		assert_int_equal(h.nhours_asked, 1);
		assert_string_equal(h.hours_asked[0], "h_main");
		assert_int_equal(h.nsaid, 1);
		assert_string_equal(h.said[0], cases[i].said);
		assert_log(&h, cases[i].log);
		host_free(&h);
	}
	bw_flow_free(f);

	/* Only an open branch: closed takes NoMatchingError; without one, failed. */
	f = load(FLOW("hours",
	              "{'Identifier': 'hours', 'Type': 'CheckHoursOfOperation',"
	              " 'Parameters': {'HoursOfOperationId': 'h_main'},"
	              " 'Transitions': {'Conditions': ["
	              COND("bye", "Equals", "True") "]}},"
	              BYE));
	struct host h;
	host_init(&h);
	h.hours = 0;
	struct bw_flow_cursor cur;
	assert_int_equal(start(f, &cur, &h), BW_FLOW_FAILED);
	assert_last_log(&h, "hours CheckHoursOfOperation NoMatchingError");
	host_free(&h);
	host_init(&h);
	h.hours = -1;
	assert_int_equal(start(f, &cur, &h), BW_FLOW_FAILED);
	host_free(&h);
	bw_flow_free(f);
}

/* ---- TransferContactToQueue ---- */

static void test_queue(void **state)
{
	(void)state;
	struct bw_flow *f = load(FLOW(
		"q", "{'Identifier': 'q', 'Type': 'TransferContactToQueue',"
		     " 'Parameters': {'QueueId': 'q_sales'},"
		     " 'Transitions': {'Errors': ["
		     "  {'NextAction': 'full', 'ErrorType': 'QueueAtCapacity'},"
		     "  {'NextAction': 'nosuch', 'ErrorType': 'NoMatchingError'}]}},"
		SAY("full", "full", "bye") "," SAY("nosuch", "nosuch", "bye") "," BYE));
	struct host h;
	host_init(&h);
	struct bw_flow_cursor cur;
	assert_int_equal(start(f, &cur, &h), BW_FLOW_QUEUED);
	assert_int_equal(h.nqueued, 1);
	assert_string_equal(h.queued[0], "q_sales");
	assert_int_equal(h.nsaid, 0);
	assert_last_log(&h, "q TransferContactToQueue Queued");
	assert_int_equal(cur.steps, 1);
	host_free(&h);

	host_init(&h);
	h.queue_result = -1;
	assert_int_equal(start(f, &cur, &h), BW_FLOW_DISCONNECT);
	assert_string_equal(h.said[0], "full");
	assert_log(&h, "q TransferContactToQueue QueueAtCapacity");
	host_free(&h);

	host_init(&h);
	h.queue_result = -2;
	assert_int_equal(start(f, &cur, &h), BW_FLOW_DISCONNECT);
	assert_string_equal(h.said[0], "nosuch");
	assert_log(&h, "q TransferContactToQueue NoMatchingError");
	host_free(&h);
	bw_flow_free(f);

	/* A missing error branch at run time: the contact fails. */
	f = load(FLOW("q", "{'Identifier': 'q', 'Type': 'TransferContactToQueue',"
	                   " 'Parameters': {'QueueId': 'q_sales'}}"));
	for (int r = -2; r <= -1; r++) {
		host_init(&h);
		h.queue_result = r;
		assert_int_equal(start(f, &cur, &h), BW_FLOW_FAILED);
		assert_last_log(&h, r == -1 ? "q TransferContactToQueue QueueAtCapacity"
		                            : "q TransferContactToQueue NoMatchingError");
		assert_int_equal(h.nlogs, 1);
		host_free(&h);
	}
	bw_flow_free(f);
}

/* ---- UpdateFlowLoggingBehavior ---- */

static void test_logging_behavior(void **state)
{
	(void)state;
	struct bw_flow *f = load(FLOW(
		"off", "{'Identifier': 'off', 'Type': 'UpdateFlowLoggingBehavior',"
		       " 'Parameters': {'FlowLoggingBehavior': 'Disabled'},"
		       " 'Transitions': {'NextAction': 'on'}},"
		       "{'Identifier': 'on', 'Type': 'UpdateFlowLoggingBehavior',"
		       " 'Parameters': {'FlowLoggingBehavior': 'Enabled'},"
		       " 'Transitions': {'NextAction': 'bye'}}," BYE));
	struct host h;
	host_init(&h);
	struct bw_flow_cursor cur;
	assert_int_equal(start(f, &cur, &h), BW_FLOW_DISCONNECT);
	assert_int_equal(h.nlogging, 2);
	assert_false(h.logging[0]);
	assert_true(h.logging[1]);
	assert_log(&h, "off UpdateFlowLoggingBehavior Next");
	assert_log(&h, "on UpdateFlowLoggingBehavior Next");
	host_free(&h);
	bw_flow_free(f);
}

/* ---- blocks that wait for their subsystems ---- */

static void test_seams(void **state)
{
	(void)state;
	struct bw_flow *f = load(FLOW(
		"filter", "{'Identifier': 'filter', 'Type': 'CheckContactFilter',"
		          " 'Parameters': {'Identifier': 'CustomerEndpoint'},"
		          " 'Transitions': {'NextAction': 'call'}},"
		          "{'Identifier': 'call', 'Type': 'InvokeIntegration',"
		          " 'Parameters': {'IntegrationId': 'crm', 'Path': '/lookup',"
		          "  'Method': 'POST'},"
		          " 'Transitions': {'NextAction': 'unreached', 'Errors': ["
		          "  {'NextAction': 'store', 'ErrorType': 'IntegrationError'}]}},"
		          "{'Identifier': 'store', 'Type': 'StoreCustomerInput',"
		          " 'Parameters': {'Attribute': 'card', 'EncryptionKeyId': 'k1'},"
		          " 'Transitions': {'NextAction': 'unreached', 'Errors': ["
		          "  {'NextAction': 'bye', 'ErrorType': 'NoMatchingError'}]}},"
		SAY("unreached", "unreached", "bye") "," BYE));
	struct host h;
	host_init(&h);
	h.input = "4111111111111111";
	struct bw_flow_cursor cur;
	assert_int_equal(start(f, &cur, &h), BW_FLOW_DISCONNECT);
	assert_int_equal(h.nlogs, 4);
	assert_string_equal(h.logs[0], "filter CheckContactFilter Next");
	assert_string_equal(h.logs[1], "call InvokeIntegration IntegrationError");
	assert_string_equal(h.logs[2], "store StoreCustomerInput NoMatchingError");
	assert_string_equal(h.logs[3], "bye DisconnectParticipant End");
	assert_int_equal(h.nsaid, 0);
	assert_int_equal(h.nattrs, 0); /* the input is stored nowhere */
	assert_input_kept_out(&h, "4111111111111111");
	host_free(&h);
	bw_flow_free(f);
}

/* ---- InvokeIntegration: the request, the wait, the answer ---- */

/* An InvokeIntegration `call` with params; Next to `done`, every error
 * type to an action of its name. */
#define INVOKE_FLOW(params)                                                                        \
	FLOW("call",                                                                               \
	     "{'Identifier': 'call', 'Type': 'InvokeIntegration', 'Parameters': " params ","      \
	     " 'Transitions': {'NextAction': 'done', 'Errors': ["                                 \
	     "  {'NextAction': 'timeout', 'ErrorType': 'Timeout'},"                               \
	     "  {'NextAction': 'failed', 'ErrorType': 'IntegrationError'},"                       \
	     "  {'NextAction': 'nomatch', 'ErrorType': 'NoMatchingError'}]}},"                    \
	     SAY("done", "done", "bye") "," SAY("timeout", "timeout", "bye") ","                 \
	     SAY("failed", "failed", "bye") "," SAY("nomatch", "nomatch", "bye") "," BYE)

static struct bw_flow_answer response(int status, const char *body)
{
	return (struct bw_flow_answer){.kind = BW_FLOW_ANSWER_RESPONSE, .status = status,
	                               .body = body, .body_len = body ? strlen(body) : 0};
}

/* Starts f (which must pend), answers, and checks where it went. */
static void pend_then(struct bw_flow *f, struct host *h, const struct bw_flow_answer *ans,
                      const char *branch, const char *said)
{
	struct bw_flow_cursor cur;
	bw_flow_begin(f, &cur);
	assert_int_equal(bw_flow_run(f, &cur, 1000, &host_inv, h), BW_FLOW_PENDING);
	assert_int_equal(cur.pc, index_of(f, "call"));
	assert_last_log(h, "call InvokeIntegration Wait");
	assert_true(bw_flow_resume(f, &cur, ans, &host_inv, h));
	char line[128];
	snprintf(line, sizeof(line), "call InvokeIntegration %s", branch);
	assert_last_log(h, line);
	assert_int_equal(bw_flow_run(f, &cur, 1000, &host_inv, h), BW_FLOW_DISCONNECT);
	assert_string_equal(h->said[h->nsaid - 1], said);
}

static void test_invoke_post(void **state)
{
	(void)state;
	struct bw_flow *f = load(INVOKE_FLOW(
		"{'IntegrationId': 'crm', 'Path': '/lookup', 'TimeoutSeconds': '5',"
		" 'RequestAttributes': {'account': '$.Attributes.acct', 'lit': 'hello',"
		"  'contact': '$.ContactId', 'unset': '$.Attributes.nothing'}}"));
	struct host h;
	host_init(&h);
	assert_int_equal(h_attr_set(&h, "acct", "A-981"), 0);
	assert_int_equal(h_attr_set(&h, "card", "4111111111111111"), 0); /* not listed */
	struct bw_flow_answer ans = response(
		200, "{\"tier\":\"gold\",\"visits\":3,\"vip\":true,\"score\":1.5,\"acct\":\"A-982\","
		     "\"bad name\":\"x\",\"nested\":{\"a\":1},\"list\":[1],\"nil\":null}");
	pend_then(f, &h, &ans, "Next", "done");
	/* The request: POST by default, only the listed attributes. */
	assert_int_equal(h.ncalls, 1);
	assert_string_equal(h.call_integration, "crm");
	assert_string_equal(h.call_method, "POST");
	assert_string_equal(h.call_path, "/lookup");
	assert_int_equal(h.call_timeout_ms, 5000);
	json_t *body = json_loads(h.call_body, 0, NULL);
	json_t *want = J("{'account': 'A-981', 'lit': 'hello', 'contact': 'ct_42', 'unset': ''}");
	assert_true(json_equal(body, want));
	json_decref(body);
	json_decref(want);
	assert_not_contains(h.call_body, "4111");
	/* The answer: its scalars into attributes, the rest left out. */
	assert_string_equal(h_attr_get(&h, "tier"), "gold");
	assert_string_equal(h_attr_get(&h, "visits"), "3");
	assert_string_equal(h_attr_get(&h, "vip"), "true");
	assert_string_equal(h_attr_get(&h, "score"), "1.5");
	assert_string_equal(h_attr_get(&h, "acct"), "A-982"); /* may overwrite */
	assert_null(h_attr_get(&h, "bad name"));
	assert_null(h_attr_get(&h, "nested"));
	assert_null(h_attr_get(&h, "list"));
	assert_null(h_attr_get(&h, "nil"));
	/* No value in the log. */
	for (size_t i = 0; i < h.nlogs; i++) {
		assert_not_contains(h.logs[i], "A-98");
		assert_not_contains(h.logs[i], "gold");
	}
	host_free(&h);
	bw_flow_free(f);
}

static void test_invoke_get(void **state)
{
	(void)state;
	struct bw_flow *f = load(INVOKE_FLOW(
		"{'IntegrationId': 'crm', 'Path': '/q?v=1', 'Method': 'GET',"
		" 'RequestAttributes': {'name': '$.Attributes.who', 'x.y': 'a&b=c'}}"));
	struct host h;
	host_init(&h);
	assert_int_equal(h_attr_set(&h, "who", "Zo\xc3\xa9 D/1%"), 0);
	struct bw_flow_answer ans = response(204, NULL);
	pend_then(f, &h, &ans, "Next", "done");
	assert_string_equal(h.call_method, "GET");
	assert_string_equal(h.call_path, "/q?v=1&name=Zo%C3%A9%20D%2F1%25&x.y=a%26b%3Dc");
	assert_null(h.call_body);
	assert_int_equal(h.call_timeout_ms, 0); /* the integration's own */
	host_free(&h);
	bw_flow_free(f);

	/* No Path, no attributes: "/" and no query; a POST sends {}. */
	f = load(INVOKE_FLOW("{'IntegrationId': 'crm', 'Method': 'GET'}"));
	host_init(&h);
	ans = response(200, "{}");
	pend_then(f, &h, &ans, "Next", "done");
	assert_string_equal(h.call_path, "/");
	host_free(&h);
	bw_flow_free(f);
	f = load(INVOKE_FLOW("{'IntegrationId': 'crm'}"));
	host_init(&h);
	pend_then(f, &h, &ans, "Next", "done");
	assert_string_equal(h.call_path, "/");
	assert_string_equal(h.call_body, "{}");
	host_free(&h);
	bw_flow_free(f);
}

/* A secret reference goes to the host as a name: the runner reads nothing
 * (no attribute of that name, no value), and the body holds only the other
 * attributes; the host adds the secret when it makes the call. */
static void test_invoke_secret(void **state)
{
	(void)state;
	struct bw_flow *f = load(INVOKE_FLOW(
		"{'IntegrationId': 'crm', 'Path': '/lookup',"
		" 'RequestAttributes': {'account': '$.Attributes.acct', 'apiKey': {'secret': 'crm-api-key'},"
		"  'sig': {'secret': 'signing.key_2'}}}"));
	struct host h;
	host_init(&h);
	assert_int_equal(h_attr_set(&h, "acct", "A-981"), 0);
	/* An attribute named like the secret: never taken for it. */
	assert_int_equal(h_attr_set(&h, "crm-api-key", "from-attributes"), 0);
	struct bw_flow_answer ans = response(204, NULL);
	pend_then(f, &h, &ans, "Next", "done");
	assert_int_equal(h.ncalls, 1);
	assert_string_equal(h.call_method, "POST");
	json_t *body = json_loads(h.call_body, 0, NULL);
	json_t *want = J("{'account': 'A-981'}");
	assert_true(json_equal(body, want));
	json_decref(body);
	json_decref(want);
	assert_int_equal(h.call_nsecrets, 2);
	assert_string_equal(h.call_secret_attr[0], "apiKey");
	assert_string_equal(h.call_secret_name[0], "crm-api-key");
	assert_string_equal(h.call_secret_attr[1], "sig");
	assert_string_equal(h.call_secret_name[1], "signing.key_2");
	for (size_t i = 0; i < h.nlogs; i++)
		assert_not_contains(h.logs[i], "crm-api-key");
	host_free(&h);
	bw_flow_free(f);

	/* Only secrets: the body is {} and the host adds them all. */
	f = load(INVOKE_FLOW("{'IntegrationId': 'crm', 'RequestAttributes': {'k': {'secret': 's'}}}"));
	host_init(&h);
	pend_then(f, &h, &ans, "Next", "done");
	assert_string_equal(h.call_body, "{}");
	assert_int_equal(h.call_nsecrets, 1);
	assert_string_equal(h.call_secret_name[0], "s");
	host_free(&h);
	bw_flow_free(f);

	/* No reference: none passed. */
	f = load(INVOKE_FLOW("{'IntegrationId': 'crm', 'RequestAttributes': {'k': 'v'}}"));
	host_init(&h);
	pend_then(f, &h, &ans, "Next", "done");
	assert_int_equal(h.call_nsecrets, 0);
	host_free(&h);
	bw_flow_free(f);
}

static void test_invoke_branches(void **state)
{
	(void)state;
	char many[2048];
	size_t n = (size_t)snprintf(many, sizeof(many), "{");
	for (int i = 0; i < 33; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "%s\"k%d\":1", i ? "," : "", i);
	snprintf(many + n, sizeof(many) - n, "}");
	char long_value[1100];
	memset(long_value, 'x', sizeof(long_value));
	memcpy(long_value, "{\"v\":\"", 6);
	memcpy(long_value + 6 + 1025, "\"}", 3); /* 1025 characters: left out */
	static const struct {
		struct bw_flow_answer ans;
		const char *branch, *said;
	} cases[] = {
		{{.kind = BW_FLOW_ANSWER_TIMEOUT}, "Timeout", "timeout"},
		{{.kind = BW_FLOW_ANSWER_FAILED}, "IntegrationError", "failed"},
		{{.kind = BW_FLOW_ANSWER_NOT_MADE}, "NoMatchingError", "nomatch"},
		{{.kind = BW_FLOW_ANSWER_RESPONSE, .status = 500, .body = "{}", .body_len = 2},
		 "IntegrationError", "failed"},
		{{.kind = BW_FLOW_ANSWER_RESPONSE, .status = 302}, "IntegrationError", "failed"},
		{{.kind = BW_FLOW_ANSWER_RESPONSE, .status = 200, .body = "[1]", .body_len = 3},
		 "IntegrationError", "failed"},
		{{.kind = BW_FLOW_ANSWER_RESPONSE, .status = 200, .body = "not json", .body_len = 8},
		 "IntegrationError", "failed"},
		{{.kind = BW_FLOW_ANSWER_RESPONSE, .status = 200, .body = "{\"a\":1,\"a\":2}",
		  .body_len = 13},
		 "IntegrationError", "failed"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bw_flow *f = load(INVOKE_FLOW("{'IntegrationId': 'crm'}"));
		struct host h;
		host_init(&h);
		pend_then(f, &h, &cases[i].ans, cases[i].branch, cases[i].said);
		assert_int_equal(h.nattrs, 0);
		host_free(&h);
		bw_flow_free(f);
	}
	struct bw_flow *f = load(INVOKE_FLOW("{'IntegrationId': 'crm'}"));
	struct host h;
	/* More than 32 members: refused whole. */
	host_init(&h);
	struct bw_flow_answer ans = response(200, many);
	pend_then(f, &h, &ans, "IntegrationError", "failed");
	assert_int_equal(h.nattrs, 0);
	host_free(&h);
	/* A value over 1024 characters is left out, the rest kept. */
	host_init(&h);
	ans = response(201, long_value);
	pend_then(f, &h, &ans, "Next", "done");
	assert_int_equal(h.nattrs, 0);
	host_free(&h);
	/* The contact holds too many attributes. */
	host_init(&h);
	h.attr_cap = 1;
	ans = response(200, "{\"a\":\"1\",\"b\":\"2\"}");
	pend_then(f, &h, &ans, "NoMatchingError", "nomatch");
	host_free(&h);
	/* The host cannot start the call: IntegrationError at once. */
	host_init(&h);
	h.invoke_result = -1;
	struct bw_flow_cursor cur;
	bw_flow_begin(f, &cur);
	assert_int_equal(bw_flow_run(f, &cur, 1000, &host_inv, &h), BW_FLOW_DISCONNECT);
	assert_string_equal(h.logs[0], "call InvokeIntegration IntegrationError");
	assert_string_equal(h.said[0], "failed");
	host_free(&h);
	/* Only a pending action resumes. */
	host_init(&h);
	bw_flow_begin(f, &cur);
	cur.pc = index_of(f, "done");
	assert_false(bw_flow_resume(f, &cur, &ans, &host_inv, &h));
	host_free(&h);
	bw_flow_free(f);

	/* An error branch the document lacks ends the contact. */
	f = load(FLOW("call", "{'Identifier': 'call', 'Type': 'InvokeIntegration',"
	                      " 'Parameters': {'IntegrationId': 'crm'},"
	                      " 'Transitions': {'NextAction': 'bye'}}," BYE));
	host_init(&h);
	bw_flow_begin(f, &cur);
	assert_int_equal(bw_flow_run(f, &cur, 1000, &host_inv, &h), BW_FLOW_PENDING);
	ans = (struct bw_flow_answer){.kind = BW_FLOW_ANSWER_TIMEOUT};
	assert_false(bw_flow_resume(f, &cur, &ans, &host_inv, &h));
	assert_last_log(&h, "call InvokeIntegration Timeout");
	host_free(&h);
	bw_flow_free(f);
}

/* ---- the step limit ---- */

/* A loop through a GetParticipantInput passes validation. */
#define LOOP_FLOW                                                                                  \
	FLOW("again", SAY("again", "Again", "ask") ","                                             \
	              "{'Identifier': 'ask', 'Type': 'GetParticipantInput', 'Parameters': {},"     \
	              " 'Transitions': {'NextAction': 'again',"                                   \
	              "  'Errors': [{'NextAction': 'again', 'ErrorType': 'NoMatchingError'}]}}")

static void test_step_limit_spin(void **state)
{
	(void)state;
	/* Where the channel cannot ask, the waiting block never waits. */
	struct bw_flow *f = load(LOOP_FLOW);
	struct host h;
	host_init(&h);
	h.can_ask = false;
	struct bw_flow_cursor cur;
	bw_flow_begin(f, &cur);
	assert_int_equal(bw_flow_run(f, &cur, 10, &host_vt, &h), BW_FLOW_FAILED);
	assert_int_equal(cur.steps, 10);
	assert_int_equal(h.nlogs, 11); /* ten actions and the StepLimit line */
	assert_last_log(&h, "again MessageParticipant StepLimit");
	assert_int_equal(h.nsaid, 5);
	/* It stays failed: a later run runs nothing. */
	assert_int_equal(bw_flow_run(f, &cur, 10, &host_vt, &h), BW_FLOW_FAILED);
	assert_int_equal(cur.steps, 10);
	assert_int_equal(h.nsaid, 5);
	host_free(&h);

	/* A limit of 0 runs nothing. */
	host_init(&h);
	bw_flow_begin(f, &cur);
	assert_int_equal(bw_flow_run(f, &cur, 0, &host_vt, &h), BW_FLOW_FAILED);
	assert_int_equal(cur.steps, 0);
	assert_int_equal(h.nsaid, 0);
	assert_int_equal(h.nlogs, 1);
	assert_string_equal(h.logs[0], "again MessageParticipant StepLimit");
	host_free(&h);
	bw_flow_free(f);
}

static void test_step_limit_across_inputs(void **state)
{
	(void)state;
	/* Steps add up over the answers of one contact. */
	struct bw_flow *f = load(LOOP_FLOW);
	struct host h;
	host_init(&h);
	struct bw_flow_cursor cur;
	bw_flow_begin(f, &cur);
	int waits = 0;
	enum bw_flow_outcome out;
	while ((out = bw_flow_run(f, &cur, 7, &host_vt, &h)) == BW_FLOW_WAIT) {
		waits++;
		assert_true(waits < 100);
		h.input = "ANSWER-77";
		assert_true(bw_flow_input(f, &cur, waits % 2 == 0, &host_vt, &h));
	}
	assert_int_equal(out, BW_FLOW_FAILED);
	assert_int_equal(cur.steps, 7);
	assert_int_equal(waits, 3); /* again, ask ×3, then again and the limit */
	assert_last_log(&h, "ask GetParticipantInput StepLimit");
	assert_input_kept_out(&h, "ANSWER-77");
	host_free(&h);
	bw_flow_free(f);
}

/* ---- the flow log holds no value ---- */

static void test_log_holds_no_input(void **state)
{
	(void)state;
	/* The input goes through validation, into an attribute, and a Compare. */
	struct bw_flow *f = load(FLOW(
		"ask", "{'Identifier': 'ask', 'Type': 'GetParticipantInput',"
		       " 'Parameters': {'Text': 'Code?'}, 'Transitions': {'NextAction': 'check'}},"
		       "{'Identifier': 'check', 'Type': 'ValidateInput',"
		       " 'Parameters': {'Kind': 'Pattern', 'Pattern': '[A-Z]+-[0-9]+',"
		       "  'Attribute': 'code'},"
		       " 'Transitions': {'NextAction': 'copy',"
		       "  'Errors': [{'NextAction': 'ask', 'ErrorType': 'InvalidInput'}]}},"
		       "{'Identifier': 'copy', 'Type': 'UpdateContactAttributes',"
		       " 'Parameters': {'Attributes': {'raw': '$.StoredCustomerInput'}},"
		       " 'Transitions': {'NextAction': 'cmp'}},"
		       "{'Identifier': 'cmp', 'Type': 'Compare',"
		       " 'Parameters': {'ComparisonValue': '$.StoredCustomerInput'},"
		       " 'Transitions': {'Conditions': [{'NextAction': 'bye',"
		       "  'Condition': {'Operator': 'TextStartsWith', 'Operands': ['SECRET']}}]}},"
		BYE));
	struct host h;
	host_init(&h);
	struct bw_flow_cursor cur;
	assert_int_equal(start(f, &cur, &h), BW_FLOW_WAIT);
	h.input = "secret-4242"; /* invalid: asked again */
	assert_true(bw_flow_input(f, &cur, false, &host_vt, &h));
	assert_int_equal(bw_flow_run(f, &cur, 1000, &host_vt, &h), BW_FLOW_WAIT);
	assert_log(&h, "check ValidateInput InvalidInput");
	h.input = "SECRET-4242";
	assert_true(bw_flow_input(f, &cur, false, &host_vt, &h));
	assert_int_equal(bw_flow_run(f, &cur, 1000, &host_vt, &h), BW_FLOW_DISCONNECT);
	assert_log(&h, "cmp Compare Condition[0]");
	assert_string_equal(h_attr_get(&h, "code"), "SECRET-4242");
	assert_string_equal(h_attr_get(&h, "raw"), "SECRET-4242");
	assert_input_kept_out(&h, "4242");
	assert_input_kept_out(&h, "secret");
	assert_input_kept_out(&h, "SECRET");
	host_free(&h);
	bw_flow_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_message_then_disconnect),
		cmocka_unit_test(test_input_waits),
		cmocka_unit_test(test_input_timeout),
		cmocka_unit_test(test_input_cannot_ask),
		cmocka_unit_test(test_input_without_error_branch),
		cmocka_unit_test(test_validate_phone),
		cmocka_unit_test(test_validate_digits),
		cmocka_unit_test(test_validate_without_input),
		cmocka_unit_test(test_update_attributes),
		cmocka_unit_test(test_compare_operators),
		cmocka_unit_test(test_compare_branches),
		cmocka_unit_test(test_hours),
		cmocka_unit_test(test_queue),
		cmocka_unit_test(test_logging_behavior),
		cmocka_unit_test(test_seams),
		cmocka_unit_test(test_invoke_post),
		cmocka_unit_test(test_invoke_get),
		cmocka_unit_test(test_invoke_secret),
		cmocka_unit_test(test_invoke_branches),
		cmocka_unit_test(test_step_limit_spin),
		cmocka_unit_test(test_step_limit_across_inputs),
		cmocka_unit_test(test_log_holds_no_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
