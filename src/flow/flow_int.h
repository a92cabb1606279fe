/* Internals of src/flow/: the graph a document becomes, the block vtable,
 * and the helpers blocks use to check their parameters. */
#ifndef BW_FLOW_INT_H
#define BW_FLOW_INT_H

#include <stdbool.h>

#include "flow/flow.h"

#define BW_FLOW_PATH_MAX 256
#define BW_FLOW_MAX_ID 128        /* bytes of an action Identifier */
#define BW_FLOW_MAX_BRANCHES 50   /* Conditions or Errors of one action */
#define BW_FLOW_MAX_ATTRIBUTES 32 /* keys of one UpdateContactAttributes */
#define BW_JSON_DEPTH_GUARD 64    /* recursion bound for documents built in memory */

/* A Compare / CheckHoursOfOperation branch. */
struct bw_flow_cond {
	const char *op;        /* Condition.Operator (borrowed from the document) */
	const json_t *operands; /* Condition.Operands (borrowed) */
	int target;            /* action index */
};

/* An error branch: ErrorType → action. */
struct bw_flow_err {
	const char *type; /* borrowed */
	int target;
};

struct bw_block_type;

/* A running action's view of the engine. */
struct bw_flow_exec {
	const struct bw_flow_host *h;
	void *ctx;
};

/* Which way an action goes. */
enum bw_branch_kind {
	BW_BR_NEXT,   /* Transitions.NextAction */
	BW_BR_COND,   /* Transitions.Conditions[cond] */
	BW_BR_ERROR,  /* the Errors entry for error */
	BW_BR_WAIT,   /* waits for the customer for wait_s */
	BW_BR_QUEUED, /* the contact is in a queue */
	BW_BR_END,    /* the contact is disconnected */
	BW_BR_PENDING, /* waits for a call it started (the block's resume) */
};

struct bw_branch {
	enum bw_branch_kind kind;
	int cond;
	const char *error;
	long wait_s;
};

#define BW_BR(k) ((struct bw_branch){.kind = (k)})
#define BW_BR_ERR(e) ((struct bw_branch){.kind = BW_BR_ERROR, .error = (e)})

/* A Parameters value: literal text, or a reference resolved through the
 * host ("" when unset). */
const char *bw_flow__resolve(const struct bw_flow_exec *x, const json_t *v);

struct bw_flow_action {
	const char *id;                   /* Identifier (borrowed) */
	const struct bw_block_type *type; /* NULL while unknown (the check fails) */
	const json_t *params;             /* Parameters: an object, never NULL */
	int next;                         /* Transitions.NextAction index, -1 for none */
	struct bw_flow_cond *conds;
	size_t nconds;
	struct bw_flow_err *errs;
	size_t nerrs;
};

struct bw_flow {
	json_t *doc; /* a reference: every borrowed string lives in it */
	struct bw_flow_action *actions;
	size_t nactions;
	int start; /* StartAction index */
};

/* The errors found so far (an array of {"path","message"}). */
struct bw_flow_check {
	json_t *errors;
	bool nomem;
};

void bw_flow__error(struct bw_flow_check *ck, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* snprintf for paths: a path too long is cut, which is fine for a message. */
void bw_flow__pathf(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* path + "." + key (or ["key"] when the key is not a plain name). */
void bw_flow__path_key(char *out, size_t n, const char *path, const char *key);

enum {
	BW_BLOCK_WAITS = 1 << 0,       /* waits for the customer: a loop through it is paced */
	BW_BLOCK_GETS_INPUT = 1 << 1,  /* sets $.StoredCustomerInput (unvalidated) */
	BW_BLOCK_VALIDATES = 1 << 2,   /* its NextAction means the input is valid */
	BW_BLOCK_READS_INPUT = 1 << 3, /* uses $.StoredCustomerInput without naming it */
	BW_BLOCK_CONDITIONS = 1 << 4,  /* branches by Transitions.Conditions (no NextAction) */
	BW_BLOCK_END = 1 << 5,         /* no NextAction: the contact leaves the flow */
};

/* A block: a const vtable per action Type (src/flow/blocks/). */
struct bw_block_type {
	const char *name;
	unsigned flags;
	const char *const *error_types;   /* NULL-ended ErrorType values it takes */
	const char *required_error;       /* an ErrorType that must have a branch, or NULL */
	/* Checks a->params (and a->conds); reports under path ("Actions[3]").
	 * Returns 0 when it found nothing wrong. */
	int (*validate)(struct bw_flow_check *ck, const struct bw_flow_action *a, const char *path);
	/* Runs the action on the loop thread; says which way to go. */
	struct bw_branch (*run)(const struct bw_flow_exec *x, const struct bw_flow_action *a);
	/* After run said BW_BR_PENDING: the call ended; which way to go now
	 * (NULL for blocks that never pend). */
	struct bw_branch (*resume)(const struct bw_flow_exec *x, const struct bw_flow_action *a,
	                           const struct bw_flow_answer *ans);
};

extern const struct bw_block_type bw_block_message_participant;
extern const struct bw_block_type bw_block_get_participant_input;
extern const struct bw_block_type bw_block_validate_input;
extern const struct bw_block_type bw_block_store_customer_input;
extern const struct bw_block_type bw_block_update_contact_attributes;
extern const struct bw_block_type bw_block_compare;
extern const struct bw_block_type bw_block_check_hours_of_operation;
extern const struct bw_block_type bw_block_update_flow_logging_behavior;
extern const struct bw_block_type bw_block_check_contact_filter;
extern const struct bw_block_type bw_block_invoke_integration;
extern const struct bw_block_type bw_block_transfer_contact_to_queue;
extern const struct bw_block_type bw_block_disconnect_participant;

const struct bw_block_type *bw_flow__block(const char *name);

/* ---- parameter helpers (src/flow/params.c); each reports its own error ---- */

/* Refuses keys outside the NULL-ended list. */
int bw_flow__only(struct bw_flow_check *ck, const json_t *obj, const char *path,
                  const char *const *allowed);
/* A string of min..max characters (UTF-8 text); *out NULL when absent. */
int bw_flow__str(struct bw_flow_check *ck, const json_t *obj, const char *key, const char *path,
                 size_t min, size_t max, bool required, const char **out);
/* An integer, given as a JSON integer or a string of digits, in [min, max]. */
int bw_flow__int(struct bw_flow_check *ck, const json_t *obj, const char *key, const char *path,
                 long min, long max, bool required, long *out);
/* "True"/"False" (any case) or a JSON boolean. */
int bw_flow__bool(struct bw_flow_check *ck, const json_t *obj, const char *key, const char *path,
                  bool required, bool *out);
/* One of the NULL-ended names. */
int bw_flow__enum(struct bw_flow_check *ck, const json_t *obj, const char *key, const char *path,
                  const char *const *names, bool required, const char **out);
/* An id of another resource ([A-Za-z0-9._-], 1..64). */
int bw_flow__ref_id(struct bw_flow_check *ck, const json_t *obj, const char *key,
                    const char *path, bool required, const char **out);
/* An attribute name ([A-Za-z0-9_.-], 1..64). */
bool bw_flow__attr_name_ok(const char *s);
/* A value: literal text up to BW_FLOW_MAX_TEXT characters, or a reference
 * ($.StoredCustomerInput, $.Attributes.<name>, $.ContactId, $.Channel,
 * $.CustomerEndpoint.Address, $.InstanceId). */
int bw_flow__value(struct bw_flow_check *ck, const json_t *v, const char *path);
/* The vault secret's name when v is a secret reference, {"secret": "<name>"}
 * with exactly that member and a name of [A-Za-z0-9._-]{1,64}; else NULL.
 * Only InvokeIntegration's RequestAttributes take one. */
const char *bw_flow__secret_ref(const json_t *v);
/* Conditions use only these operators, each with one operand (a value).
 * path is the Parameters path validate() was given. */
int bw_flow__conds(struct bw_flow_check *ck, const struct bw_flow_action *a, const char *path,
                   const char *const *ops);
/* "Actions[3]" from "Actions[3].Parameters". */
void bw_flow__action_path(char *out, size_t n, const char *params_path);

/* Valid UTF-8 without control characters (lines: newline and tab allowed);
 * the count of code points in *chars when not NULL. */
bool bw_flow__utf8_text(const char *s, size_t n, bool lines, size_t *chars);

/* ---- document-wide checks (src/flow/analyze.c) ---- */

/* Reachability, loops without a waiting block, customer input read before
 * validation. */
void bw_flow__analyze(struct bw_flow_check *ck, const struct bw_flow *f);
/* Literal credentials anywhere in the document ({"secret": "<name>"} in an
 * InvokeIntegration's RequestAttributes is a vault name, not a literal). */
void bw_flow__scan_credentials(struct bw_flow_check *ck, const json_t *doc);
/* Does any string under v mention $.StoredCustomerInput? Its path in where. */
bool bw_flow__mentions_input(const json_t *v, const char *path, char *where, size_t n);

#endif
