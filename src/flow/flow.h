/* Contact flows (K1) and input validation (C16).
 *
 * A flow document is JSON in the shape of Amazon Connect's flow language
 * (API.md, "Flow language"). bw_flow_load checks it and builds the graph the
 * engine runs; bw_flow_validate only checks. Input validation (phone numbers
 * to E.164, digits, Luhn, dates, patterns) serves the ValidateInput block,
 * the public endpoints and an admin endpoint alike. */
#ifndef BW_FLOW_H
#define BW_FLOW_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/result.h"

#define BW_FLOW_LANGUAGE_VERSION "2019-10-30"
#define BW_FLOW_MAX_ACTIONS 200
#define BW_FLOW_MAX_DOC (256 * 1024) /* bytes of the compact JSON text */
#define BW_FLOW_MAX_ERRORS 100       /* errors listed per document */
#define BW_FLOW_MAX_TEXT 1024        /* characters of a prompt or a value */
#define BW_FLOW_MAX_PATTERN 256      /* characters of a Pattern */

struct bw_flow; /* a checked graph; opaque outside src/flow/ */

/* Checks a flow document. Returns a new array of {"path","message"} objects,
 * empty when the document is valid; NULL only when memory runs out. */
json_t *bw_flow_validate(const json_t *doc);

/* Checks a document and builds its graph. BW_OK: *out holds it (it keeps a
 * reference to doc). BW_INVALID: *errors (when errors is not NULL) receives
 * the array of bw_flow_validate. BW_NOMEM otherwise. */
BW_MUST_USE bw_result bw_flow_load(const json_t *doc, struct bw_flow **out, json_t **errors);
void bw_flow_free(struct bw_flow *f);

/* ---- running a flow (src/flow/exec.c; the engine, loop thread) ---- */

/* A RequestAttributes value {"secret": "<name>"}: the attribute carries the
 * current value of the instance's vault secret of that name. The flow never
 * reads it: the host does, on a worker, at call time, and puts it only into
 * that request's body. */
struct bw_flow_secret_ref {
	const char *attribute; /* the member of the body */
	const char *name;      /* the vault secret's name ([A-Za-z0-9._-]{1,64}) */
};

/* An InvokeIntegration call as the block asks for it: only the attributes
 * its RequestAttributes names, their values resolved, but for secret
 * references, which are passed as names. */
struct bw_flow_call {
	const char *integration_id;
	const char *method; /* "GET" or "POST" */
	const char *path;   /* GET: with the attributes as its query */
	const char *body;   /* POST: a JSON object of the attributes but those in
	                     * secrets; GET: NULL */
	size_t body_len;
	long timeout_ms; /* TimeoutSeconds, or 0: the integration's own timeout */
	/* POST only (a GET with one is refused at publish): members the host
	 * adds to body, each the value of a vault secret read at call time; a
	 * secret the vault does not hold makes the call NOT_MADE. */
	const struct bw_flow_secret_ref *secrets;
	size_t nsecrets;
};

/* How the call ended, for bw_flow_resume. */
enum bw_flow_answer_kind {
	BW_FLOW_ANSWER_RESPONSE, /* a response came: status and body */
	BW_FLOW_ANSWER_TIMEOUT,
	BW_FLOW_ANSWER_FAILED,    /* refused address, connection, TLS, too big, ... */
	BW_FLOW_ANSWER_NOT_MADE,  /* no such integration, a method or path it does not
	                           * allow, its credential missing: nothing was sent */
};

struct bw_flow_answer {
	enum bw_flow_answer_kind kind;
	int status;
	const void *body; /* valid during the call */
	size_t body_len;
};

/* What the engine lends a running flow. ctx is the engine's contact. */
struct bw_flow_host {
	/* Sends text to the customer as a SYSTEM message. */
	void (*say)(void *ctx, const char *text);
	/* The value of an attribute, or NULL. */
	const char *(*attr_get)(void *ctx, const char *name);
	/* 0, or -1 when the contact holds too many attributes. */
	int (*attr_set)(void *ctx, const char *name, const char *value);
	/* $.StoredCustomerInput, $.ContactId, $.Channel, $.InstanceId,
	 * $.CustomerEndpoint.Address; NULL when unset. */
	const char *(*ref)(void *ctx, const char *name);
	/* Can the channel ask the customer for input (chat yes, callback no)? */
	bool (*can_ask)(void *ctx);
	/* 1 open, 0 closed, -1 unknown hours. */
	int (*hours_open)(void *ctx, const char *hours_id);
	/* 0 queued, -1 the queue is at capacity, -2 no such queue. */
	int (*queue)(void *ctx, const char *queue_id);
	/* The default region for phone numbers ("US"). */
	const char *(*region)(void *ctx);
	/* One flow-log line: the block and the branch it took (never a value). */
	void (*log)(void *ctx, const char *action_id, const char *type, const char *branch);
	void (*set_logging)(void *ctx, bool on);
	/* CheckContactFilter: is any of the contact's identifiers deny-listed?
	 * identifier is "CustomerEndpoint", "SourceIp", "Email" or NULL (all). */
	bool (*denied)(void *ctx, const char *identifier);
	/* The contact is refused by the filter and leaves the flow. */
	void (*blocked)(void *ctx);
	/* StoreCustomerInput: encrypts $.StoredCustomerInput to the instance's
	 * active keys (one of them key_id) into the attribute and drops the
	 * plaintext; 0, or -1 (no input, no such active key, a failure). */
	int (*encrypt_input)(void *ctx, const char *key_id, const char *attribute);
	/* UpdateContactAttributes' Classes (C13): raises the attribute's class
	 * ("public", "internal", "sensitive", "restricted"; never lowers it);
	 * 0, or -1. A host without it fails the block (classes are not dropped). */
	int (*attr_class)(void *ctx, const char *name, const char *cls);
	/* InvokeIntegration: starts the call (the host copies what it keeps)
	 * and answers later through bw_flow_resume, never from inside this
	 * call; 0, or -1 when it cannot start (the block takes
	 * IntegrationError). A host without it fails the block the same way. */
	int (*invoke)(void *ctx, const struct bw_flow_call *call);
};

/* Where a contact is in its flow. */
struct bw_flow_cursor {
	int pc;        /* the action to run next, or the one waiting */
	long steps;    /* actions run so far */
	long wait_s;   /* BW_FLOW_WAIT: how long to wait for the customer */
};

enum bw_flow_outcome {
	BW_FLOW_WAIT,       /* waits for the customer's input (bw_flow_input) */
	BW_FLOW_QUEUED,     /* the contact went to a queue: the flow is over */
	BW_FLOW_DISCONNECT, /* DisconnectParticipant */
	BW_FLOW_FAILED,     /* step limit, or a branch the document lacks */
	BW_FLOW_PENDING,    /* waits for a call it started (bw_flow_resume) */
};

void bw_flow_begin(const struct bw_flow *f, struct bw_flow_cursor *cur);
/* Runs actions from cur->pc until one waits or the flow leaves. */
enum bw_flow_outcome bw_flow_run(const struct bw_flow *f, struct bw_flow_cursor *cur,
                                 long step_limit, const struct bw_flow_host *h, void *ctx);
/* The customer answered (or the time limit passed) the waiting action:
 * moves the cursor along its Next or NoMatchingError branch. false when the
 * document has no such branch (the contact fails). */
bool bw_flow_input(const struct bw_flow *f, struct bw_flow_cursor *cur, bool timed_out,
                   const struct bw_flow_host *h, void *ctx);
/* The call the pending action started has ended: the action takes its
 * branch (an InvokeIntegration maps a JSON answer into attributes first).
 * false when the document has no such branch (the contact fails). */
bool bw_flow_resume(const struct bw_flow *f, struct bw_flow_cursor *cur,
                    const struct bw_flow_answer *ans, const struct bw_flow_host *h, void *ctx);

/* ---- input validation (src/flow/validate_input.c) ---- */

#define BW_INPUT_MAX 1024 /* bytes of input any kind accepts */

enum bw_input_kind {
	BW_INPUT_PHONE_NUMBER,
	BW_INPUT_DIGITS,
	BW_INPUT_LUHN,
	BW_INPUT_DATE,
	BW_INPUT_PATTERN,
};

/* "PhoneNumber", "Digits", "Luhn", "Date", "Pattern"; -1 for anything else. */
int bw_input_kind_parse(const char *name);
const char *bw_input_kind_name(enum bw_input_kind k);

struct bw_input_rule {
	enum bw_input_kind kind;
	const char *region;  /* PhoneNumber: ISO 3166 alpha-2 for numbers without +CC */
	int min, max;        /* Digits: bounds on the count of digits; -1 = none */
	const char *pattern; /* Pattern: POSIX ERE that must match the whole input */
};

struct bw_input_result {
	bool valid;
	const char *reason;      /* static text when !valid; never holds the input */
	const char *number_type; /* PhoneNumber: "MOBILE", ...; NULL otherwise */
	char normalized[BW_INPUT_MAX + 1]; /* E.164, the digits, or the input */
};

/* Checks value (len bytes, need not be NUL-terminated) against rule.
 * BW_OK: out->valid tells. BW_INVALID: the rule itself is wrong (unknown
 * region, bad pattern, min > max), out->reason says why. */
BW_MUST_USE bw_result bw_input_validate(const struct bw_input_rule *rule, const char *value,
                                        size_t len, struct bw_input_result *out);

/* A region libphonenumber knows ("US", "FR"). */
bool bw_input_region_ok(const char *region);
/* A Pattern the validator accepts: ≤ BW_FLOW_MAX_PATTERN characters, no
 * back-references, bounded repetition, compiles as a POSIX ERE. 0 or -1
 * with a static reason. */
int bw_input_pattern_check(const char *pattern, const char **why);

#endif
