/* Flow validation (K1, src/flow/): for each rule a valid document and an
 * invalid one, and the path the error names. */
#include "test_common.h"

#include <stdio.h>
#include <stdlib.h>

#include "flow/flow.h"
#include "flow/flow_int.h"

/* JSON with ' for " (the documents below hold no apostrophe). */
static json_t *J(const char *text)
{
	char *s = strdup(text);
	assert_non_null(s);
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

/* The example of API.md: greet, ask, check, queue, bye. */
static const char *const BASE =
	"{'Version': '2019-10-30', 'StartAction': 'greet', 'Actions': ["
	" {'Identifier': 'greet', 'Type': 'MessageParticipant',"
	"  'Parameters': {'Text': 'Hello! What number can we reach you on?'},"
	"  'Transitions': {'NextAction': 'ask'}},"
	" {'Identifier': 'ask', 'Type': 'GetParticipantInput',"
	"  'Parameters': {'StoreInput': 'True', 'InputTimeLimitSeconds': '60'},"
	"  'Transitions': {'NextAction': 'check',"
	"   'Errors': [{'NextAction': 'bye', 'ErrorType': 'NoMatchingError'}]}},"
	" {'Identifier': 'check', 'Type': 'ValidateInput',"
	"  'Parameters': {'Kind': 'PhoneNumber', 'Attribute': 'callback_number'},"
	"  'Transitions': {'NextAction': 'queue',"
	"   'Errors': [{'NextAction': 'greet', 'ErrorType': 'InvalidInput'}]}},"
	" {'Identifier': 'queue', 'Type': 'TransferContactToQueue',"
	"  'Parameters': {'QueueId': 'q_123'},"
	"  'Transitions': {'Errors': [{'NextAction': 'bye', 'ErrorType': 'QueueAtCapacity'}]}},"
	" {'Identifier': 'bye', 'Type': 'DisconnectParticipant', 'Parameters': {}, 'Transitions': {}}"
	"]}";

enum { GREET, ASK, CHECK, QUEUE, BYE };

static json_t *base(void)
{
	return J(BASE);
}

static json_t *action(json_t *doc, size_t i)
{
	return json_array_get(json_object_get(doc, "Actions"), i);
}

static json_t *params(json_t *doc, size_t i)
{
	return json_object_get(action(doc, i), "Parameters");
}

static json_t *trans(json_t *doc, size_t i)
{
	return json_object_get(action(doc, i), "Transitions");
}

static void set_param(json_t *doc, size_t i, const char *k, json_t *v)
{
	json_object_set_new(params(doc, i), k, v);
}

/* Appends an action given as 'JSON' text. */
static void add_action(json_t *doc, const char *text)
{
	json_array_append_new(json_object_get(doc, "Actions"), J(text));
}

static char *dump(const json_t *v)
{
	return json_dumps(v, JSON_COMPACT);
}

static void assert_valid_doc(json_t *doc)
{
	json_t *errs = bw_flow_validate(doc);
	assert_non_null(errs);
	if (json_array_size(errs)) {
		char *s = dump(errs);
		fail_msg("expected valid, got %s", s);
	}
	json_decref(errs);
	json_decref(doc);
}

/* The document is invalid with an error at `path` whose message holds `msg`. */
static void assert_error_at(json_t *doc, const char *path, const char *msg)
{
	json_t *errs = bw_flow_validate(doc);
	assert_non_null(errs);
	size_t i;
	json_t *e;
	bool found = false;
	json_array_foreach(errs, i, e)
	{
		const char *p = json_string_value(json_object_get(e, "path"));
		const char *m = json_string_value(json_object_get(e, "message"));
		assert_non_null(p);
		assert_true(p[0] != '\0');
		assert_non_null(m);
		if (!strcmp(p, path) && (!msg || strstr(m, msg)))
			found = true;
	}
	if (!found) {
		char *s = dump(errs);
		fail_msg("no error at %s (%s) in %s", path, msg ? msg : "*", s);
	}
	/* No graph for an invalid document. */
	struct bw_flow *f = (struct bw_flow *)1;
	assert_int_equal(bw_flow_load(doc, &f, NULL), BW_INVALID);
	assert_null(f);
	json_decref(errs);
	json_decref(doc);
}

static void test_example_is_valid(void **state)
{
	(void)state;
	assert_valid_doc(base());
}

static void test_graph(void **state)
{
	(void)state;
	json_t *doc = base();
	struct bw_flow *f = NULL;
	json_t *errs = NULL;
	assert_int_equal(bw_flow_load(doc, &f, &errs), BW_OK);
	json_decref(doc); /* the graph holds its own reference */
	assert_null(errs);
	assert_int_equal(f->nactions, 5);
	assert_int_equal(f->start, GREET);
	assert_string_equal(f->actions[ASK].id, "ask");
	assert_ptr_equal(f->actions[ASK].type, &bw_block_get_participant_input);
	assert_int_equal(f->actions[GREET].next, ASK);
	assert_int_equal(f->actions[ASK].next, CHECK);
	assert_int_equal(f->actions[ASK].nerrs, 1);
	assert_string_equal(f->actions[ASK].errs[0].type, "NoMatchingError");
	assert_int_equal(f->actions[ASK].errs[0].target, BYE);
	assert_int_equal(f->actions[QUEUE].next, -1);
	assert_string_equal(json_string_value(json_object_get(f->actions[QUEUE].params, "QueueId")),
	                    "q_123");
	assert_true(json_is_object(f->actions[BYE].params));
	bw_flow_free(f);
}

static void test_version(void **state)
{
	(void)state;
	json_t *doc = base();
	json_object_set_new(doc, "Version", json_string("2020-01-01"));
	assert_error_at(doc, "Version", "2019-10-30");
	doc = base();
	json_object_del(doc, "Version");
	assert_error_at(doc, "Version", NULL);
}

static void test_start_action(void **state)
{
	(void)state;
	json_t *doc = base();
	json_object_set_new(doc, "StartAction", json_string("nowhere"));
	assert_error_at(doc, "StartAction", "names no action");
	doc = base();
	json_object_del(doc, "StartAction");
	assert_error_at(doc, "StartAction", "required");
	/* Starting elsewhere is fine as long as everything is reachable. */
	doc = base();
	json_object_set_new(doc, "StartAction", json_string("ask"));
	assert_valid_doc(doc);
}

static void test_duplicate_identifier(void **state)
{
	(void)state;
	json_t *doc = base();
	json_object_set_new(action(doc, CHECK), "Identifier", json_string("ask"));
	assert_error_at(doc, "Actions[2].Identifier", "Actions[1]");
}

static void test_unknown_type(void **state)
{
	(void)state;
	json_t *doc = base();
	json_object_set_new(action(doc, GREET), "Type", json_string("PlayPrompt"));
	assert_error_at(doc, "Actions[0].Type", "unknown action type");
	doc = base();
	json_object_set_new(action(doc, GREET), "Colour", json_string("blue"));
	assert_error_at(doc, "Actions[0].Colour", "unknown field");
	doc = base();
	json_object_set_new(doc, "Extra", json_true());
	assert_error_at(doc, "Extra", "unknown field");
}

static void test_text_bounds(void **state)
{
	(void)state;
	char text[1030];
	memset(text, 'a', sizeof(text));
	text[1024] = '\0';
	json_t *doc = base();
	set_param(doc, GREET, "Text", json_string(text));
	assert_valid_doc(doc);
	/* 1024 characters, more bytes: characters count. */
	doc = base();
	char wide[1024 * 2 + 1];
	for (int i = 0; i < 1024; i++)
		memcpy(wide + 2 * i, "\xc3\xa9", 2);
	wide[2048] = '\0';
	set_param(doc, GREET, "Text", json_string(wide));
	assert_valid_doc(doc);
	text[1025] = '\0';
	text[1024] = 'a';
	doc = base();
	set_param(doc, GREET, "Text", json_string(text));
	assert_error_at(doc, "Actions[0].Parameters.Text", "1024");
	doc = base();
	json_object_del(params(doc, GREET), "Text");
	assert_error_at(doc, "Actions[0].Parameters.Text", "required");
	doc = base();
	set_param(doc, GREET, "Text", json_integer(3));
	assert_error_at(doc, "Actions[0].Parameters.Text", "string");
	doc = base();
	set_param(doc, GREET, "Text", json_string("line one\nline two"));
	assert_valid_doc(doc);
}

static void test_input_time_limit(void **state)
{
	(void)state;
	const char *ok[] = {"1", "3600"};
	for (int i = 0; i < 2; i++) {
		json_t *doc = base();
		set_param(doc, ASK, "InputTimeLimitSeconds", json_string(ok[i]));
		assert_valid_doc(doc);
	}
	json_t *doc = base();
	set_param(doc, ASK, "InputTimeLimitSeconds", json_integer(60));
	assert_valid_doc(doc);
	const char *bad[] = {"0", "3601", "-5", "60s", ""};
	for (int i = 0; i < 5; i++) {
		doc = base();
		set_param(doc, ASK, "InputTimeLimitSeconds", json_string(bad[i]));
		assert_error_at(doc, "Actions[1].Parameters.InputTimeLimitSeconds", "1 to 3600");
	}
	doc = base();
	set_param(doc, ASK, "InputTimeLimitSeconds", json_integer(3601));
	assert_error_at(doc, "Actions[1].Parameters.InputTimeLimitSeconds", "1 to 3600");
	doc = base();
	set_param(doc, ASK, "StoreInput", json_string("Maybe"));
	assert_error_at(doc, "Actions[1].Parameters.StoreInput", "True");
}

static void test_validate_input_params(void **state)
{
	(void)state;
	json_t *doc = base();
	set_param(doc, CHECK, "DefaultRegion", json_string("FR"));
	assert_valid_doc(doc);
	doc = base();
	set_param(doc, CHECK, "DefaultRegion", json_string("XX"));
	assert_error_at(doc, "Actions[2].Parameters.DefaultRegion", "region");
	doc = base();
	set_param(doc, CHECK, "Kind", json_string("Email"));
	assert_error_at(doc, "Actions[2].Parameters.Kind", "one of");
	doc = base();
	set_param(doc, CHECK, "Kind", json_string("Pattern"));
	set_param(doc, CHECK, "Pattern", json_string("[0-9]{4}"));
	assert_valid_doc(doc);
	doc = base();
	set_param(doc, CHECK, "Kind", json_string("Pattern"));
	set_param(doc, CHECK, "Pattern", json_string("([0-9]{4}"));
	assert_error_at(doc, "Actions[2].Parameters.Pattern", "POSIX");
	char longp[300];
	memset(longp, 'a', 257);
	longp[257] = '\0';
	doc = base();
	set_param(doc, CHECK, "Kind", json_string("Pattern"));
	set_param(doc, CHECK, "Pattern", json_string(longp));
	assert_error_at(doc, "Actions[2].Parameters.Pattern", "256");
	doc = base();
	set_param(doc, CHECK, "Kind", json_string("Pattern"));
	assert_error_at(doc, "Actions[2].Parameters.Pattern", "needs a Pattern");
	doc = base();
	set_param(doc, CHECK, "Kind", json_string("Digits"));
	set_param(doc, CHECK, "Min", json_string("4"));
	set_param(doc, CHECK, "Max", json_integer(6));
	assert_valid_doc(doc);
	doc = base();
	set_param(doc, CHECK, "Kind", json_string("Digits"));
	set_param(doc, CHECK, "Min", json_integer(7));
	set_param(doc, CHECK, "Max", json_integer(6));
	assert_error_at(doc, "Actions[2].Parameters.Min", "greater than Max");
	doc = base();
	set_param(doc, CHECK, "Min", json_integer(1));
	assert_error_at(doc, "Actions[2].Parameters.Min", "only Kind Digits");
	doc = base();
	set_param(doc, CHECK, "Attribute", json_string("bad name!"));
	assert_error_at(doc, "Actions[2].Parameters.Attribute", "attribute name");
	doc = base();
	set_param(doc, CHECK, "Colour", json_string("red"));
	assert_error_at(doc, "Actions[2].Parameters.Colour", "unknown field");
	/* ValidateInput must say where invalid input goes. */
	doc = base();
	json_object_del(trans(doc, CHECK), "Errors");
	assert_error_at(doc, "Actions[2].Transitions.Errors", "InvalidInput");
}

static void test_block_parameters(void **state)
{
	(void)state;
	json_t *doc = base();
	json_object_del(params(doc, QUEUE), "QueueId");
	assert_error_at(doc, "Actions[3].Parameters.QueueId", "required");
	doc = base();
	set_param(doc, QUEUE, "QueueId", json_string("q 1"));
	assert_error_at(doc, "Actions[3].Parameters.QueueId", "id");
	doc = base();
	set_param(doc, BYE, "Reason", json_string("done"));
	assert_error_at(doc, "Actions[4].Parameters.Reason", "unknown field");
	doc = base();
	json_object_set_new(action(doc, GREET), "Parameters", json_string("x"));
	assert_error_at(doc, "Actions[0].Parameters", "object");
	/* A block that ends the flow takes no NextAction; others need one. */
	doc = base();
	json_object_set_new(trans(doc, BYE), "NextAction", json_string("greet"));
	assert_error_at(doc, "Actions[4].Transitions.NextAction", "no NextAction");
	doc = base();
	json_object_del(trans(doc, GREET), "NextAction");
	assert_error_at(doc, "Actions[0].Transitions.NextAction", "required");
	/* An ErrorType the block does not raise. */
	doc = base();
	json_object_set_new(json_array_get(json_object_get(trans(doc, ASK), "Errors"), 0),
	                    "ErrorType", json_string("QueueAtCapacity"));
	assert_error_at(doc, "Actions[1].Transitions.Errors[0].ErrorType", "not an error");
}

/* A flow with every other block: logging, attributes, compare, hours,
 * contact filter, integration, encrypted storage, each branch used. */
static json_t *all_blocks(void)
{
	json_t *doc = base();
	/* greet → log → hours → ask; check → attrs → cmp → filter → integ → store → queue */
	json_object_set_new(trans(doc, GREET), "NextAction", json_string("log"));
	json_object_set_new(trans(doc, CHECK), "NextAction", json_string("attrs"));
	add_action(doc, "{'Identifier': 'log', 'Type': 'UpdateFlowLoggingBehavior',"
	                " 'Parameters': {'FlowLoggingBehavior': 'Enabled'},"
	                " 'Transitions': {'NextAction': 'hours'}}"); /* 5 */
	add_action(doc, "{'Identifier': 'hours', 'Type': 'CheckHoursOfOperation',"
	                " 'Parameters': {'HoursOfOperationId': 'hoo_1'},"
	                " 'Transitions': {'Conditions': ["
	                "  {'NextAction': 'ask', 'Condition': {'Operator': 'Equals', 'Operands': ['True']}},"
	                "  {'NextAction': 'bye', 'Condition': {'Operator': 'Equals', 'Operands': ['False']}}],"
	                "  'Errors': [{'NextAction': 'bye', 'ErrorType': 'NoMatchingError'}]}}"); /* 6 */
	add_action(doc, "{'Identifier': 'attrs', 'Type': 'UpdateContactAttributes',"
	                " 'Parameters': {'Attributes': {'raw': '$.StoredCustomerInput', 'lang': 'fr',"
	                "  'copy': '$.Attributes.callback_number'}},"
	                " 'Transitions': {'NextAction': 'cmp'}}"); /* 7 */
	add_action(doc, "{'Identifier': 'cmp', 'Type': 'Compare',"
	                " 'Parameters': {'ComparisonValue': '$.StoredCustomerInput'},"
	                " 'Transitions': {'Conditions': ["
	                "  {'NextAction': 'filter', 'Condition': {'Operator': 'TextStartsWith', 'Operands': ['+33']}},"
	                "  {'NextAction': 'filter', 'Condition': {'Operator': 'NumberGreaterThan', 'Operands': ['10']}}],"
	                "  'Errors': [{'NextAction': 'filter', 'ErrorType': 'NoMatchingCondition'}]}}"); /* 8 */
	add_action(doc, "{'Identifier': 'filter', 'Type': 'CheckContactFilter',"
	                " 'Parameters': {'Identifier': 'CustomerEndpoint'},"
	                " 'Transitions': {'NextAction': 'integ',"
	                "  'Errors': [{'NextAction': 'bye', 'ErrorType': 'ContactBlocked'}]}}"); /* 9 */
	add_action(doc, "{'Identifier': 'integ', 'Type': 'InvokeIntegration',"
	                " 'Parameters': {'IntegrationId': 'int_1', 'Path': '/lookup', 'Method': 'POST',"
	                "  'TimeoutSeconds': '5', 'RequestAttributes': {'phone': '$.StoredCustomerInput'}},"
	                " 'Transitions': {'NextAction': 'store',"
	                "  'Errors': [{'NextAction': 'store', 'ErrorType': 'Timeout'}]}}"); /* 10 */
	add_action(doc, "{'Identifier': 'store', 'Type': 'StoreCustomerInput',"
	                " 'Parameters': {'Attribute': 'card', 'EncryptionKeyId': 'key-1'},"
	                " 'Transitions': {'NextAction': 'queue'}}"); /* 11 */
	return doc;
}

static void test_all_blocks_valid(void **state)
{
	(void)state;
	assert_valid_doc(all_blocks());
	json_t *doc = all_blocks();
	set_param(doc, 10, "Path", json_string("/../admin"));
	assert_error_at(doc, "Actions[10].Parameters.Path", "below");
	doc = all_blocks();
	json_object_set_new(json_object_get(json_array_get(json_object_get(trans(doc, 8), "Conditions"), 1),
	                                    "Condition"),
	                    "Operands", J("['ten']"));
	assert_error_at(doc, "Actions[8].Transitions.Conditions[1].Condition.Operands[0]", "number");
	doc = all_blocks();
	json_object_set_new(json_object_get(json_array_get(json_object_get(trans(doc, 8), "Conditions"), 0),
	                                    "Condition"),
	                    "Operator", json_string("Matches"));
	assert_error_at(doc, "Actions[8].Transitions.Conditions[0].Condition.Operator", "operator");
	doc = all_blocks();
	set_param(doc, 6, "HoursOfOperationId", json_null());
	assert_error_at(doc, "Actions[6].Parameters.HoursOfOperationId", "string");
	doc = all_blocks();
	set_param(doc, 7, "Attributes", J("{'x': '$.Secrets.db'}"));
	assert_error_at(doc, "Actions[7].Parameters.Attributes.x", "unknown reference");
	doc = all_blocks();
	set_param(doc, 5, "FlowLoggingBehavior", json_string("Verbose"));
	assert_error_at(doc, "Actions[5].Parameters.FlowLoggingBehavior", "Enabled");
}

static void test_dangling_branches(void **state)
{
	(void)state;
	json_t *doc = base();
	json_object_set_new(trans(doc, GREET), "NextAction", json_string("nowhere"));
	assert_error_at(doc, "Actions[0].Transitions.NextAction", "names no action");
	doc = base();
	json_object_set_new(json_array_get(json_object_get(trans(doc, ASK), "Errors"), 0),
	                    "NextAction", json_string("gone"));
	assert_error_at(doc, "Actions[1].Transitions.Errors[0].NextAction", "names no action");
	doc = all_blocks();
	json_object_set_new(json_array_get(json_object_get(trans(doc, 6), "Conditions"), 1),
	                    "NextAction", json_string("gone"));
	assert_error_at(doc, "Actions[6].Transitions.Conditions[1].NextAction", "names no action");
}

static void test_unreachable(void **state)
{
	(void)state;
	json_t *doc = base();
	add_action(doc, "{'Identifier': 'orphan', 'Type': 'DisconnectParticipant'}");
	assert_error_at(doc, "Actions[5]", "unreachable");
	/* Reached through an error branch only: reachable. */
	doc = base();
	add_action(doc, "{'Identifier': 'sorry', 'Type': 'MessageParticipant',"
	                " 'Parameters': {'Text': 'Busy'}, 'Transitions': {'NextAction': 'bye'}}");
	json_object_set_new(json_array_get(json_object_get(trans(doc, QUEUE), "Errors"), 0),
	                    "NextAction", json_string("sorry"));
	assert_valid_doc(doc);
}

static void test_loops(void **state)
{
	(void)state;
	/* check → (InvalidInput) greet → ask → check: a loop that waits. */
	assert_valid_doc(base());
	/* greet → note → greet: never waits. */
	json_t *doc = base();
	json_object_set_new(trans(doc, GREET), "NextAction", json_string("note"));
	add_action(doc, "{'Identifier': 'note', 'Type': 'UpdateContactAttributes',"
	                " 'Parameters': {'Attributes': {'looped': 'yes'}},"
	                " 'Transitions': {'NextAction': 'greet',"
	                "  'Errors': [{'NextAction': 'ask', 'ErrorType': 'NoMatchingError'}]}}");
	assert_error_at(doc, "Actions[0]", "loop");
	/* A block that branches to itself. */
	doc = base();
	json_object_set_new(trans(doc, GREET), "NextAction", json_string("greet"));
	add_action(doc, "{'Identifier': 'x', 'Type': 'MessageParticipant', 'Parameters': {'Text': 'x'},"
	                " 'Transitions': {'NextAction': 'ask'}}");
	json_object_set_new(doc, "StartAction", json_string("x"));
	assert_error_at(doc, "Actions[0]", "loop");
}

static void test_input_before_validation(void **state)
{
	(void)state;
	/* After ValidateInput's NextAction: fine (all_blocks reads it there). */
	assert_valid_doc(all_blocks());
	/* Compare right after GetParticipantInput. */
	json_t *doc = all_blocks();
	json_object_set_new(trans(doc, ASK), "NextAction", json_string("cmp"));
	json_object_set_new(doc, "StartAction", json_string("greet"));
	/* check is still reached through hours? no: make it reachable from cmp. */
	json_object_set_new(json_array_get(json_object_get(trans(doc, 8), "Conditions"), 0),
	                    "NextAction", json_string("check"));
	assert_error_at(doc, "Actions[8].Parameters.ComparisonValue", "ValidateInput");
	/* On ValidateInput's InvalidInput branch the input is still unvalidated. */
	doc = all_blocks();
	json_object_set_new(json_array_get(json_object_get(trans(doc, CHECK), "Errors"), 0),
	                    "NextAction", json_string("store"));
	assert_error_at(doc, "Actions[11]", "ValidateInput");
	/* UpdateContactAttributes copying the raw input before validation. */
	doc = base();
	json_object_set_new(trans(doc, ASK), "NextAction", json_string("copy"));
	add_action(doc, "{'Identifier': 'copy', 'Type': 'UpdateContactAttributes',"
	                " 'Parameters': {'Attributes': {'said': '$.StoredCustomerInput'}},"
	                " 'Transitions': {'NextAction': 'check'}}");
	assert_error_at(doc, "Actions[5].Parameters.Attributes.said", "ValidateInput");
	/* Copying the validated attribute is fine. */
	doc = base();
	json_object_set_new(trans(doc, ASK), "NextAction", json_string("copy"));
	add_action(doc, "{'Identifier': 'copy', 'Type': 'UpdateContactAttributes',"
	                " 'Parameters': {'Attributes': {'said': '$.Attributes.callback_number'}},"
	                " 'Transitions': {'NextAction': 'check'}}");
	assert_valid_doc(doc);
	/* A second GetParticipantInput after validation taints again. */
	doc = all_blocks();
	json_object_set_new(trans(doc, 7), "NextAction", json_string("again"));
	add_action(doc, "{'Identifier': 'again', 'Type': 'GetParticipantInput',"
	                " 'Parameters': {'Text': 'Card number?'}, 'Transitions': {'NextAction': 'cmp'}}");
	assert_error_at(doc, "Actions[8].Parameters.ComparisonValue", "ValidateInput");
	/* StoreCustomerInput reads the input without naming it. */
	doc = all_blocks();
	json_object_set_new(trans(doc, 10), "NextAction", json_string("again"));
	add_action(doc, "{'Identifier': 'again', 'Type': 'GetParticipantInput',"
	                " 'Parameters': {'Text': 'Card number?'}, 'Transitions': {'NextAction': 'store'}}");
	assert_error_at(doc, "Actions[11]", "ValidateInput");
}

static void test_credentials(void **state)
{
	(void)state;
	struct {
		const char *text, *what;
	} bad[] = {
		{"key AKIAIOSFODNN7EXAMPLE here", "AWS"},
		{"ASIAABCDEFGHIJKLMNOP", "AWS"},
		{"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc", "bearer"},
		{"bearer 0123456789abcdef", "bearer"},
		{"-----BEGIN RSA PRIVATE KEY-----\nMIIB...\n-----END RSA PRIVATE KEY-----", "private key"},
		{"-----BEGIN PRIVATE KEY----- abc", "private key"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *doc = base();
		set_param(doc, GREET, "Text", json_string(bad[i].text));
		assert_error_at(doc, "Actions[0].Parameters.Text", bad[i].what);
	}
	const char *fine[] = {"Hello, bearer of good news", "AKIA is a prefix", "-----BEGIN CERTIFICATE-----",
	                      "Bearer token goes here"};
	for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
		json_t *doc = base();
		set_param(doc, GREET, "Text", json_string(fine[i]));
		assert_valid_doc(doc);
	}
	/* A password/secret/api_key field with a literal value, anywhere. */
	const char *keys[] = {"password", "db_password", "client_secret", "api_key", "X-Api-Key"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *doc = all_blocks();
		json_object_set_new(json_object_get(params(doc, 10), "RequestAttributes"), keys[i],
		                    json_string("hunter2"));
		char path[128];
		snprintf(path, sizeof(path), "Actions[10].Parameters.RequestAttributes%s%s%s",
		         strchr(keys[i], '-') ? "[\"" : ".", keys[i], strchr(keys[i], '-') ? "\"]" : "");
		assert_error_at(doc, path, "secrets vault");
	}
	/* Empty, or a reference: no literal. */
	json_t *doc = all_blocks();
	json_object_set_new(json_object_get(params(doc, 10), "RequestAttributes"), "api_key",
	                    json_string("$.Attributes.key_name"));
	assert_valid_doc(doc);
	/* In Metadata too (not run, but stored and exported). */
	doc = base();
	json_object_set_new(doc, "Metadata", J("{'notes': {'password': 'letmein'}}"));
	assert_error_at(doc, "Metadata.notes.password", "secrets vault");
	/* The message never repeats the credential. */
	doc = base();
	set_param(doc, GREET, "Text", json_string("AKIAIOSFODNN7EXAMPLE"));
	json_t *errs = bw_flow_validate(doc);
	char *s = dump(errs);
	assert_not_contains(s, "AKIAIOSFODNN7EXAMPLE");
	free(s);
	json_decref(errs);
	json_decref(doc);
}

/* InvokeIntegration's RequestAttributes may name a vault secret,
 * {"secret": "<name>"}: the credential scan takes it for a name, not a
 * literal, there and only there; its shape is checked; never with GET. */
static void test_secret_refs(void **state)
{
	(void)state;
	const char *attrs = "Actions[10].Parameters.RequestAttributes";
	char path[160];
	/* The reference form passes, also under names the scan watches. */
	json_t *doc = all_blocks();
	set_param(doc, 10, "RequestAttributes",
	          J("{'phone': '$.StoredCustomerInput', 'apiKey': {'secret': 'crm-api-key'},"
	            " 'client_secret': {'secret': 'a.b_C-9'}, 'password': {'secret': 'db-pass'}}"));
	assert_valid_doc(doc);
	/* A literal under such a name is still refused, beside a reference. */
	doc = all_blocks();
	set_param(doc, 10, "RequestAttributes",
	          J("{'apiKey': 'hunter2', 'other': {'secret': 'crm-api-key'}}"));
	snprintf(path, sizeof(path), "%s.apiKey", attrs);
	assert_error_at(doc, path, "secrets vault");
	/* The name itself is scanned like any string. */
	doc = all_blocks();
	set_param(doc, 10, "RequestAttributes", J("{'k': {'secret': 'AKIAIOSFODNN7EXAMPLE'}}"));
	snprintf(path, sizeof(path), "%s.k.secret", attrs);
	assert_error_at(doc, path, "an AWS access key id");
	/* Bad shapes, each named by its path (a key that is not a plain name
	 * in brackets). */
	const char *bad[] = {
	    "{'secret': 'bad name'}", "{'secret': ''}", "{'secret': 5}", "{'secret': null}",
	    "{'Secret': 'crm-api-key'}", "{}", "{'secret': 'crm-api-key', 'version': '2'}",
	    "{'secret': {'secret': 'crm-api-key'}}",
	    "{'secret': 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'}", /* 65 */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		doc = all_blocks();
		json_t *ra = J("{}");
		json_object_set_new(ra, "crm-key", J(bad[i]));
		set_param(doc, 10, "RequestAttributes", ra);
		snprintf(path, sizeof(path), "%s[\"crm-key\"]", attrs);
		assert_error_at(doc, path, "a secret reference is {\"secret\": \"<name>\"}");
	}
	json_t *not_text[] = {json_integer(5), json_true(), J("['crm-api-key']")};
	for (size_t i = 0; i < sizeof(not_text) / sizeof(not_text[0]); i++) {
		doc = all_blocks();
		json_t *ra = J("{}");
		json_object_set_new(ra, "key", not_text[i]);
		set_param(doc, 10, "RequestAttributes", ra);
		snprintf(path, sizeof(path), "%s.key", attrs);
		assert_error_at(doc, path, "must be a string or a secret reference");
	}
	/* 64 characters is fine. */
	doc = all_blocks();
	set_param(doc, 10, "RequestAttributes",
	          J("{'k': {'secret': 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'}}"));
	assert_valid_doc(doc);
	/* GET would put it in the URL. */
	doc = all_blocks();
	set_param(doc, 10, "Method", json_string("GET"));
	set_param(doc, 10, "RequestAttributes",
	          J("{'phone': '$.StoredCustomerInput', 'apiKey': {'secret': 'crm-api-key'}}"));
	snprintf(path, sizeof(path), "%s.apiKey", attrs);
	assert_error_at(doc, path, "cannot be sent with Method GET");
	/* Other blocks' values stay text; elsewhere the form is a literal. */
	doc = all_blocks();
	set_param(doc, 7, "Attributes", J("{'k': {'secret': 'crm-api-key'}}"));
	assert_error_at(doc, "Actions[7].Parameters.Attributes.k", "must be a string");
	doc = all_blocks();
	set_param(doc, 7, "Attributes", J("{'k': {'secret': 'crm-api-key'}}"));
	assert_error_at(doc, "Actions[7].Parameters.Attributes.k.secret", "secrets vault");
	doc = base();
	json_object_set_new(doc, "Metadata", J("{'notes': {'secret': 'crm-api-key'}}"));
	assert_error_at(doc, "Metadata.notes.secret", "secrets vault");
	/* The same object in an action of another type at the same place. */
	doc = all_blocks();
	json_t *a = action(doc, 10);
	json_object_set_new(a, "Type", json_string("UpdateContactAttributes"));
	json_object_set_new(a, "Parameters",
	                    J("{'RequestAttributes': {'k': {'secret': 'crm-api-key'}}}"));
	snprintf(path, sizeof(path), "%s.k.secret", attrs);
	assert_error_at(doc, path, "secrets vault");
}

/* A chain of n MessageParticipant actions ending in a disconnect. */
static json_t *chain(size_t n)
{
	json_t *doc = J("{'Version': '2019-10-30', 'StartAction': 'a0', 'Actions': []}");
	for (size_t i = 0; i < n; i++) {
		char id[24], next[24], text[256];
		snprintf(id, sizeof(id), "a%zu", i);
		snprintf(next, sizeof(next), "a%zu", i + 1);
		snprintf(text, sizeof(text),
		         i + 1 == n ? "{'Identifier': '%s', 'Type': 'DisconnectParticipant'}"
		                    : "{'Identifier': '%s', 'Type': 'MessageParticipant',"
		                      " 'Parameters': {'Text': 'step'}, 'Transitions': {'NextAction': '%s'}}",
		         id, next);
		add_action(doc, text);
	}
	return doc;
}

static void test_caps(void **state)
{
	(void)state;
	assert_valid_doc(chain(BW_FLOW_MAX_ACTIONS));
	assert_error_at(chain(BW_FLOW_MAX_ACTIONS + 1), "Actions", "at most 200");
	/* 256 KiB of document: 199 prompts of 1024 characters fit, bigger ones do not. */
	json_t *doc = chain(200);
	char text[1025];
	memset(text, 'x', 1024);
	text[1024] = '\0';
	for (size_t i = 0; i < 199; i++)
		set_param(doc, i, "Text", json_string(text));
	assert_valid_doc(doc);
	doc = chain(200);
	char wide[1024 * 3 + 1];
	for (int i = 0; i < 1024; i++)
		memcpy(wide + 3 * i, "\xe2\x82\xac", 3); /* 1024 characters, 3 KiB */
	wide[3072] = '\0';
	for (size_t i = 0; i < 199; i++)
		set_param(doc, i, "Text", json_string(wide));
	assert_error_at(doc, "$", "256 KiB");
	assert_error_at(J("[]"), "$", "object");
	assert_error_at(J("{'Version': '2019-10-30', 'StartAction': 'a', 'Actions': []}"), "Actions",
	                "at least one");
	/* Errors are capped. */
	doc = chain(200);
	for (size_t i = 0; i < 199; i++)
		set_param(doc, i, "Text", json_integer(1));
	json_t *errs = bw_flow_validate(doc);
	assert_int_equal(json_array_size(errs), BW_FLOW_MAX_ERRORS);
	json_decref(errs);
	json_decref(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_is_valid),
		cmocka_unit_test(test_graph),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_start_action),
		cmocka_unit_test(test_duplicate_identifier),
		cmocka_unit_test(test_unknown_type),
		cmocka_unit_test(test_text_bounds),
		cmocka_unit_test(test_input_time_limit),
		cmocka_unit_test(test_validate_input_params),
		cmocka_unit_test(test_block_parameters),
		cmocka_unit_test(test_all_blocks_valid),
		cmocka_unit_test(test_dangling_branches),
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_loops),
		cmocka_unit_test(test_input_before_validation),
		cmocka_unit_test(test_credentials),
		cmocka_unit_test(test_secret_refs),
		cmocka_unit_test(test_caps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
