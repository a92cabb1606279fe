/* A flow document becomes a graph: actions by index, branches resolved to
 * indexes. Everything wrong is reported with its path; a document with any
 * error yields no graph. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/flow_int.h"

static const struct bw_block_type *const blocks[] = {
	&bw_block_message_participant,
	&bw_block_get_participant_input,
	&bw_block_validate_input,
	&bw_block_store_customer_input,
	&bw_block_update_contact_attributes,
	&bw_block_compare,
	&bw_block_check_hours_of_operation,
	&bw_block_update_flow_logging_behavior,
	&bw_block_check_contact_filter,
	&bw_block_invoke_integration,
	&bw_block_transfer_contact_to_queue,
	&bw_block_disconnect_participant,
};

const struct bw_block_type *bw_flow__block(const char *name)
{
	for (size_t i = 0; name && i < sizeof(blocks) / sizeof(blocks[0]); i++)
		if (!strcmp(blocks[i]->name, name))
			return blocks[i];
	return NULL;
}

void bw_flow_free(struct bw_flow *f)
{
	if (!f)
		return;
	for (size_t i = 0; f->actions && i < f->nactions; i++) {
		free(f->actions[i].conds);
		free(f->actions[i].errs);
	}
	free(f->actions);
	json_decref(f->doc);
	free(f);
}

static int find_action(const struct bw_flow *f, const char *id)
{
	for (size_t i = 0; id && i < f->nactions; i++)
		if (f->actions[i].id && !strcmp(f->actions[i].id, id))
			return (int)i;
	return -1;
}

/* A NextAction naming an action; -1 (and an error) otherwise. */
static int target(struct bw_flow_check *ck, const struct bw_flow *f, const json_t *v,
                  const char *path)
{
	if (!json_is_string(v)) {
		bw_flow__error(ck, path, v ? "must be a string naming an action" :
		                             "this field is required");
		return -1;
	}
	int t = find_action(f, json_string_value(v));
	if (t < 0)
		bw_flow__error(ck, path, "names no action of this flow");
	return t;
}

static const char *const action_fields[] = {"Identifier", "Type", "Parameters", "Transitions",
                                            NULL};
static const char *const transition_fields[] = {"NextAction", "Conditions", "Errors", NULL};

/* Identifier, Type and Parameters of action i. */
static void action_head(struct bw_flow_check *ck, struct bw_flow *f, size_t i, const json_t *a,
                        json_t *empty)
{
	char path[64], p[BW_FLOW_PATH_MAX];
	struct bw_flow_action *act = &f->actions[i];
	bw_flow__pathf(path, sizeof(path), "Actions[%zu]", i);
	act->next = -1;
	act->params = empty;
	if (!json_is_object(a)) {
		bw_flow__error(ck, path, "an action must be an object");
		return;
	}
	bw_flow__only(ck, a, path, action_fields);
	const char *id;
	if (bw_flow__str(ck, a, "Identifier", path, 1, BW_FLOW_MAX_ID, true, &id) == 0) {
		int dup = find_action(f, id);
		if (dup >= 0) {
			bw_flow__pathf(p, sizeof(p), "%s.Identifier", path);
			bw_flow__error(ck, p, "the same Identifier as Actions[%d]", dup);
		} else {
			act->id = id;
		}
	}
	bw_flow__pathf(p, sizeof(p), "%s.Type", path);
	const json_t *type = json_object_get(a, "Type");
	if (!type)
		bw_flow__error(ck, p, "this field is required");
	else if (!json_is_string(type))
		bw_flow__error(ck, p, "must be a string");
	else if (!(act->type = bw_flow__block(json_string_value(type))))
		bw_flow__error(ck, p, "unknown action type");
	const json_t *params = json_object_get(a, "Parameters");
	if (params && !json_is_object(params)) {
		bw_flow__pathf(p, sizeof(p), "%s.Parameters", path);
		bw_flow__error(ck, p, "must be an object");
	} else if (params) {
		act->params = params;
	}
}

static void conditions(struct bw_flow_check *ck, struct bw_flow *f, struct bw_flow_action *act,
                       const json_t *conds, const char *tpath)
{
	char p[BW_FLOW_PATH_MAX], q[BW_FLOW_PATH_MAX];
	bw_flow__pathf(p, sizeof(p), "%s.Conditions", tpath);
	if (!json_is_array(conds) || json_array_size(conds) < 1 ||
	    json_array_size(conds) > BW_FLOW_MAX_BRANCHES) {
		bw_flow__error(ck, p, "must be an array of 1 to %d conditions", BW_FLOW_MAX_BRANCHES);
		return;
	}
	act->conds = calloc(json_array_size(conds), sizeof(*act->conds));
	if (!act->conds) {
		ck->nomem = true;
		return;
	}
	static const char *const cond_fields[] = {"NextAction", "Condition", NULL};
	static const char *const inner_fields[] = {"Operator", "Operands", NULL};
	size_t i;
	json_t *c;
	json_array_foreach(conds, i, c)
	{
		struct bw_flow_cond *bc = &act->conds[act->nconds++];
		bc->target = -1;
		bw_flow__pathf(p, sizeof(p), "%s.Conditions[%zu]", tpath, i);
		if (!json_is_object(c)) {
			bw_flow__error(ck, p, "a condition must be an object");
			continue;
		}
		bw_flow__only(ck, c, p, cond_fields);
		bw_flow__pathf(q, sizeof(q), "%s.NextAction", p);
		bc->target = target(ck, f, json_object_get(c, "NextAction"), q);
		const json_t *cond = json_object_get(c, "Condition");
		bw_flow__pathf(q, sizeof(q), "%s.Condition", p);
		if (!json_is_object(cond)) {
			bw_flow__error(ck, q, cond ? "must be an object" : "this field is required");
			continue;
		}
		bw_flow__only(ck, cond, q, inner_fields);
		bc->op = json_string_value(json_object_get(cond, "Operator"));
		bc->operands = json_object_get(cond, "Operands");
		if (!bc->op) {
			bw_flow__pathf(q, sizeof(q), "%s.Condition.Operator", p);
			bw_flow__error(ck, q, "must be a string");
		}
		if (!json_is_array(bc->operands)) {
			bw_flow__pathf(q, sizeof(q), "%s.Condition.Operands", p);
			bw_flow__error(ck, q, "must be an array");
			bc->operands = NULL;
		}
	}
}

static bool error_type_ok(const struct bw_block_type *bt, const char *t)
{
	for (const char *const *e = bt->error_types; e && *e; e++)
		if (!strcmp(*e, t))
			return true;
	return false;
}

static void errors(struct bw_flow_check *ck, struct bw_flow *f, struct bw_flow_action *act,
                   const json_t *errs, const char *tpath)
{
	char p[BW_FLOW_PATH_MAX], q[BW_FLOW_PATH_MAX];
	bw_flow__pathf(p, sizeof(p), "%s.Errors", tpath);
	if (!json_is_array(errs) || json_array_size(errs) > BW_FLOW_MAX_BRANCHES) {
		bw_flow__error(ck, p, "must be an array of at most %d error branches",
		               BW_FLOW_MAX_BRANCHES);
		return;
	}
	if (!json_array_size(errs))
		return;
	act->errs = calloc(json_array_size(errs), sizeof(*act->errs));
	if (!act->errs) {
		ck->nomem = true;
		return;
	}
	static const char *const err_fields[] = {"NextAction", "ErrorType", NULL};
	size_t i;
	json_t *e;
	json_array_foreach(errs, i, e)
	{
		bw_flow__pathf(p, sizeof(p), "%s.Errors[%zu]", tpath, i);
		if (!json_is_object(e)) {
			bw_flow__error(ck, p, "an error branch must be an object");
			continue;
		}
		bw_flow__only(ck, e, p, err_fields);
		bw_flow__pathf(q, sizeof(q), "%s.NextAction", p);
		int t = target(ck, f, json_object_get(e, "NextAction"), q);
		bw_flow__pathf(q, sizeof(q), "%s.ErrorType", p);
		const char *type = json_string_value(json_object_get(e, "ErrorType"));
		if (!type) {
			bw_flow__error(ck, q, "must be a string");
			continue;
		}
		if (act->type && !error_type_ok(act->type, type)) {
			bw_flow__error(ck, q, "not an error this action type raises");
			continue;
		}
		bool dup = false;
		for (size_t k = 0; k < act->nerrs; k++)
			dup = dup || !strcmp(act->errs[k].type, type);
		if (dup) {
			bw_flow__error(ck, q, "a second branch for the same ErrorType");
			continue;
		}
		act->errs[act->nerrs].type = type;
		act->errs[act->nerrs].target = t;
		act->nerrs++;
	}
}

/* Transitions of action i (identifiers are all known by now). */
static void transitions(struct bw_flow_check *ck, struct bw_flow *f, size_t i, const json_t *a)
{
	struct bw_flow_action *act = &f->actions[i];
	char path[64], p[BW_FLOW_PATH_MAX];
	bw_flow__pathf(path, sizeof(path), "Actions[%zu].Transitions", i);
	const json_t *t = json_is_object(a) ? json_object_get(a, "Transitions") : NULL;
	if (t && !json_is_object(t)) {
		bw_flow__error(ck, path, "must be an object");
		return;
	}
	if (t)
		bw_flow__only(ck, t, path, transition_fields);
	const struct bw_block_type *bt = act->type;
	const json_t *next = t ? json_object_get(t, "NextAction") : NULL;
	const json_t *conds = t ? json_object_get(t, "Conditions") : NULL;
	const json_t *errs = t ? json_object_get(t, "Errors") : NULL;
	bw_flow__pathf(p, sizeof(p), "%s.NextAction", path);
	if (bt && (bt->flags & (BW_BLOCK_END | BW_BLOCK_CONDITIONS)) && next)
		bw_flow__error(ck, p, "this action type takes no NextAction");
	else if (bt && !(bt->flags & (BW_BLOCK_END | BW_BLOCK_CONDITIONS)) && !next)
		bw_flow__error(ck, p, "this field is required");
	else if (next)
		act->next = target(ck, f, next, p);
	if (conds && bt && !(bt->flags & BW_BLOCK_CONDITIONS)) {
		bw_flow__pathf(p, sizeof(p), "%s.Conditions", path);
		bw_flow__error(ck, p, "this action type takes no Conditions");
	} else if (conds) {
		conditions(ck, f, act, conds, path);
	} else if (bt && (bt->flags & BW_BLOCK_CONDITIONS)) {
		bw_flow__pathf(p, sizeof(p), "%s.Conditions", path);
		bw_flow__error(ck, p, "this field is required");
	}
	if (errs)
		errors(ck, f, act, errs, path);
	if (bt && bt->required_error) {
		bool found = false;
		for (size_t k = 0; k < act->nerrs; k++)
			found = found || !strcmp(act->errs[k].type, bt->required_error);
		if (!found) {
			bw_flow__pathf(p, sizeof(p), "%s.Errors", path);
			bw_flow__error(ck, p, "a branch for the %s error is required",
			               bt->required_error);
		}
	}
}

static const char *const top_fields[] = {"Version", "StartAction", "Actions", "Metadata", NULL};

/* The checks of one document; f is filled as far as it goes. */
static void check(struct bw_flow_check *ck, struct bw_flow *f, const json_t *doc, json_t *empty)
{
	if (!json_is_object(doc)) {
		bw_flow__error(ck, "$", "a flow document must be a JSON object");
		return;
	}
	size_t size = json_dumpb(doc, NULL, 0, JSON_COMPACT);
	if (size == 0 || size > BW_FLOW_MAX_DOC) {
		bw_flow__error(ck, "$", "a flow document must be at most %d KiB of JSON",
		               BW_FLOW_MAX_DOC / 1024);
		return;
	}
	bw_flow__only(ck, doc, "", top_fields);
	const json_t *ver = json_object_get(doc, "Version");
	if (!json_is_string(ver) || strcmp(json_string_value(ver), BW_FLOW_LANGUAGE_VERSION) != 0)
		bw_flow__error(ck, "Version", "must be \"%s\"", BW_FLOW_LANGUAGE_VERSION);
	const json_t *meta = json_object_get(doc, "Metadata");
	if (meta && !json_is_object(meta))
		bw_flow__error(ck, "Metadata", "must be an object");
	const json_t *acts = json_object_get(doc, "Actions");
	if (!json_is_array(acts) || json_array_size(acts) < 1) {
		bw_flow__error(ck, "Actions", "must be an array of at least one action");
		return;
	}
	if (json_array_size(acts) > BW_FLOW_MAX_ACTIONS) {
		bw_flow__error(ck, "Actions", "at most %d actions", BW_FLOW_MAX_ACTIONS);
		return;
	}
	f->actions = calloc(json_array_size(acts), sizeof(*f->actions));
	if (!f->actions) {
		ck->nomem = true;
		return;
	}
	f->nactions = json_array_size(acts);
	for (size_t i = 0; i < f->nactions; i++)
		action_head(ck, f, i, json_array_get(acts, i), empty);
	const json_t *start = json_object_get(doc, "StartAction");
	f->start = target(ck, f, start, "StartAction");
	for (size_t i = 0; i < f->nactions; i++)
		transitions(ck, f, i, json_array_get(acts, i));
	for (size_t i = 0; i < f->nactions; i++) {
		const struct bw_flow_action *a = &f->actions[i];
		char path[64];
		bw_flow__pathf(path, sizeof(path), "Actions[%zu].Parameters", i);
		if (a->type && a->type->validate)
			a->type->validate(ck, a, path);
	}
	if (f->start >= 0)
		bw_flow__analyze(ck, f);
}

bw_result bw_flow_load(const json_t *doc, struct bw_flow **out, json_t **errs)
{
	*out = NULL;
	if (errs)
		*errs = NULL;
	struct bw_flow_check ck = {json_array(), false};
	struct bw_flow *f = calloc(1, sizeof(*f));
	json_t *empty = json_object();
	if (!ck.errors || !f || !empty) {
		json_decref(ck.errors);
		json_decref(empty);
		free(f);
		return BW_NOMEM;
	}
	f->start = -1;
	/* The graph borrows strings of the document: hold it. An empty
	 * Parameters object lives in a "Parameters" slot of no action, so it is
	 * kept in a side array the flow owns. */
	f->doc = json_pack("[O, o]", doc, empty);
	if (!f->doc) {
		json_decref(ck.errors);
		free(f);
		return BW_NOMEM;
	}
	check(&ck, f, doc, empty);
	bw_flow__scan_credentials(&ck, doc);
	if (ck.nomem) {
		json_decref(ck.errors);
		bw_flow_free(f);
		return BW_NOMEM;
	}
	if (json_array_size(ck.errors)) {
		if (errs)
			*errs = ck.errors;
		else
			json_decref(ck.errors);
		bw_flow_free(f);
		return BW_INVALID;
	}
	json_decref(ck.errors);
	*out = f;
	return BW_OK;
}

json_t *bw_flow_validate(const json_t *doc)
{
	struct bw_flow *f = NULL;
	json_t *errs = NULL;
	bw_result r = bw_flow_load(doc, &f, &errs);
	bw_flow_free(f);
	if (r == BW_OK)
		return json_array();
	return errs; /* NULL on BW_NOMEM */
}
