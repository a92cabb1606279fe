/* Document-wide checks over the graph: every action reachable from
 * StartAction, no loop that never waits for the customer, no use of the
 * customer's input on a path that skips validation, and no literal
 * credential anywhere in the document. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/flow_int.h"

/* Runs body for every resolved branch of a, with t its target and is_next
 * telling the NextAction apart (no `continue` in body: it would skip). */
#define FOR_EACH_EDGE(a, t, is_next, body)                                                         \
	do {                                                                                       \
		if ((a)->next >= 0) {                                                              \
			int t = (a)->next;                                                         \
			bool is_next = true;                                                       \
			body;                                                                      \
		}                                                                                  \
		for (size_t k_ = 0; k_ < (a)->nconds; k_++)                                        \
			if ((a)->conds[k_].target >= 0) {                                          \
				int t = (a)->conds[k_].target;                                     \
				bool is_next = false;                                              \
				body;                                                              \
			}                                                                          \
		for (size_t k_ = 0; k_ < (a)->nerrs; k_++)                                         \
			if ((a)->errs[k_].target >= 0) {                                           \
				int t = (a)->errs[k_].target;                                      \
				bool is_next = false;                                              \
				body;                                                              \
			}                                                                          \
	} while (0)

static void reachable(const struct bw_flow *f, bool *seen)
{
	int stack[BW_FLOW_MAX_ACTIONS];
	size_t sp = 0;
	seen[f->start] = true;
	stack[sp++] = f->start;
	while (sp) {
		const struct bw_flow_action *a = &f->actions[stack[--sp]];
		FOR_EACH_EDGE(a, t, is_next, {
			(void)is_next;
			if (!seen[t]) {
				seen[t] = true;
				stack[sp++] = t;
			}
		});
	}
}

/* Tarjan's strongly connected components over the actions that do not
 * wait: a component with a cycle in it is a loop the engine would spin. */
struct scc {
	const struct bw_flow *f;
	struct bw_flow_check *ck;
	int index[BW_FLOW_MAX_ACTIONS], low[BW_FLOW_MAX_ACTIONS];
	bool on[BW_FLOW_MAX_ACTIONS];
	int stack[BW_FLOW_MAX_ACTIONS];
	size_t sp;
	int next_index;
};

static bool waits(const struct bw_flow_action *a)
{
	return !a->type || (a->type->flags & BW_BLOCK_WAITS);
}

static void report_loop(struct scc *s, const int *members, size_t n)
{
	int first = members[0];
	for (size_t i = 1; i < n; i++)
		if (members[i] < first)
			first = members[i];
	char names[200];
	size_t o = 0;
	names[0] = '\0';
	for (size_t i = 0; i < n && i < 6; i++) {
		const char *id = s->f->actions[members[i]].id;
		int r = snprintf(names + o, sizeof(names) - o, "%s%.40s", i ? ", " : "", id ? id : "?");
		if (r < 0 || (size_t)r >= sizeof(names) - o)
			break;
		o += (size_t)r;
	}
	char path[64];
	bw_flow__pathf(path, sizeof(path), "Actions[%d]", first);
	bw_flow__error(s->ck, path,
	               "a loop that never waits for the customer (no GetParticipantInput in it): %s%s",
	               names, n > 6 ? ", ..." : "");
}

static void strongconnect(struct scc *s, int v)
{
	const struct bw_flow_action *a = &s->f->actions[v];
	s->index[v] = s->low[v] = s->next_index++;
	s->stack[s->sp++] = v;
	s->on[v] = true;
	bool self = false;
	FOR_EACH_EDGE(a, w, is_next, {
		(void)is_next;
		/* A waiting action is no part of the graph searched here. */
		if (!waits(&s->f->actions[w])) {
			if (w == v)
				self = true;
			if (s->index[w] < 0) {
				strongconnect(s, w);
				if (s->low[w] < s->low[v])
					s->low[v] = s->low[w];
			} else if (s->on[w] && s->index[w] < s->low[v]) {
				s->low[v] = s->index[w];
			}
		}
	});
	if (s->low[v] != s->index[v])
		return;
	size_t base = s->sp;
	while (base > 0 && s->stack[base - 1] != v)
		base--;
	base--; /* v itself */
	size_t n = s->sp - base;
	for (size_t i = base; i < s->sp; i++)
		s->on[s->stack[i]] = false;
	if (n > 1 || self)
		report_loop(s, s->stack + base, n);
	s->sp = base;
}

static void loops(struct bw_flow_check *ck, const struct bw_flow *f)
{
	struct scc *s = calloc(1, sizeof(*s));
	if (!s) {
		ck->nomem = true;
		return;
	}
	s->f = f;
	s->ck = ck;
	for (size_t i = 0; i < f->nactions; i++)
		s->index[i] = -1;
	for (size_t i = 0; i < f->nactions; i++)
		if (s->index[i] < 0 && !waits(&f->actions[i]))
			strongconnect(s, (int)i);
	free(s);
}

/* May the input be unvalidated on entry to each action? Forward "some path"
 * analysis: GetParticipantInput taints every branch it takes, the NextAction
 * of ValidateInput clears, every other branch carries what came in. */
static void input_before_validation(struct bw_flow_check *ck, const struct bw_flow *f,
                                    const bool *seen)
{
	bool tainted[BW_FLOW_MAX_ACTIONS] = {false};
	int work[BW_FLOW_MAX_ACTIONS * 2];
	size_t sp = 0;
	for (size_t i = 0; i < f->nactions; i++)
		if (seen[i])
			work[sp++] = (int)i;
	while (sp) {
		int u = work[--sp];
		const struct bw_flow_action *a = &f->actions[u];
		unsigned fl = a->type ? a->type->flags : 0;
		FOR_EACH_EDGE(a, v, is_next, {
			bool t = (fl & BW_BLOCK_GETS_INPUT) ? true :
			         (fl & BW_BLOCK_VALIDATES) && is_next ? false : tainted[u];
			if (t && !tainted[v]) {
				tainted[v] = true;
				if (sp < sizeof(work) / sizeof(work[0]))
					work[sp++] = v;
			}
		});
	}
	for (size_t i = 0; i < f->nactions; i++) {
		const struct bw_flow_action *a = &f->actions[i];
		if (!seen[i] || !tainted[i] || !a->type || (a->type->flags & BW_BLOCK_VALIDATES))
			continue;
		char path[64], where[BW_FLOW_PATH_MAX] = "";
		bw_flow__pathf(path, sizeof(path), "Actions[%zu].Parameters", i);
		if (bw_flow__mentions_input(a->params, path, where, sizeof(where)) ||
		    (a->type->flags & BW_BLOCK_READS_INPUT)) {
			if (!where[0] || (a->type->flags & BW_BLOCK_READS_INPUT))
				bw_flow__pathf(where, sizeof(where), "Actions[%zu]", i);
			bw_flow__error(ck, where,
			               "uses the customer's input ($.StoredCustomerInput) on a path from "
			               "GetParticipantInput that passes no ValidateInput");
		}
	}
}

void bw_flow__analyze(struct bw_flow_check *ck, const struct bw_flow *f)
{
	bool seen[BW_FLOW_MAX_ACTIONS] = {false};
	reachable(f, seen);
	for (size_t i = 0; i < f->nactions; i++)
		if (!seen[i]) {
			char path[64];
			bw_flow__pathf(path, sizeof(path), "Actions[%zu]", i);
			bw_flow__error(ck, path, "unreachable from StartAction");
		}
	loops(ck, f);
	input_before_validation(ck, f, seen);
}

/* ---- literal credentials ---- */

static bool upper_alnum(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool token68(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '.' || c == '_' || c == '~' ||
	       c == '+' || c == '/' || c == '=';
}

static const char *credential_in(const char *s)
{
	for (const char *p = s; *p; p++) {
		if ((!strncmp(p, "AKIA", 4) || !strncmp(p, "ASIA", 4))) {
			int n = 0;
			while (n < 16 && upper_alnum(p[4 + n]))
				n++;
			if (n == 16)
				return "an AWS access key id";
		}
		if ((p == s || !isalpha((unsigned char)p[-1])) && !strncasecmp(p, "bearer", 6) &&
		    (p[6] == ' ' || p[6] == '\t')) {
			const char *t = p + 6;
			while (*t == ' ' || *t == '\t')
				t++;
			size_t n = 0;
			bool mixed = false;
			for (; token68(t[n]); n++)
				mixed = mixed || !isalpha((unsigned char)t[n]);
			if (n >= 16 || (n >= 8 && mixed))
				return "a bearer token";
		}
	}
	const char *b = strstr(s, "-----BEGIN");
	if (b && strstr(b, "PRIVATE KEY-----"))
		return "a private key";
	return NULL;
}

static bool sensitive_key(const char *k)
{
	static const char *const words[] = {"password", "passwd", "secret", "api_key", "apikey",
	                                    "api-key", NULL};
	char low[128];
	size_t n = 0;
	for (; k[n] && n + 1 < sizeof(low); n++)
		low[n] = (char)tolower((unsigned char)k[n]);
	low[n] = '\0';
	for (const char *const *w = words; *w; w++)
		if (strstr(low, *w))
			return true;
	return false;
}

/* Is obj the RequestAttributes of an InvokeIntegration action of doc? Only
 * there is {"secret": "<name>"} a reference (a name) and not a literal. */
static bool invoke_attributes(const json_t *doc, const json_t *obj)
{
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(doc, "Actions"), i, a)
	{
		const char *type = json_string_value(json_object_get(a, "Type"));
		if (type && !strcmp(type, "InvokeIntegration") &&
		    json_object_get(json_object_get(a, "Parameters"), "RequestAttributes") == obj)
			return true;
	}
	return false;
}

static void scan(struct bw_flow_check *ck, const json_t *doc, const json_t *v, const char *path,
                 int depth)
{
	if (depth > BW_JSON_DEPTH_GUARD)
		return;
	char p[BW_FLOW_PATH_MAX];
	if (json_is_string(v)) {
		const char *what = credential_in(json_string_value(v));
		if (what)
			bw_flow__error(ck, path,
			               "holds a literal credential (%s): keep it in the secrets vault",
			               what);
		return;
	}
	if (json_is_object(v)) {
		const char *k;
		json_t *m;
		json_object_foreach((json_t *)v, k, m)
		{
			bw_flow__path_key(p, sizeof(p), path, k);
			const char *what = credential_in(k);
			if (what) {
				bw_flow__error(ck, p,
				               "the field name holds a literal credential (%s)", what);
			} else if (sensitive_key(k) && json_is_string(m) && json_string_length(m) &&
			           strncmp(json_string_value(m), "$.", 2) != 0) {
				bw_flow__error(ck, p,
				               "a literal password, secret or API key: keep it in the "
				               "secrets vault");
				continue;
			}
			if (bw_flow__secret_ref(m) && invoke_attributes(doc, v)) {
				/* A vault name: only the name is scanned, as any string. */
				char q[BW_FLOW_PATH_MAX];
				bw_flow__path_key(q, sizeof(q), p, "secret");
				scan(ck, doc, json_object_get(m, "secret"), q, depth + 2);
				continue;
			}
			scan(ck, doc, m, p, depth + 1);
		}
		return;
	}
	if (json_is_array(v)) {
		size_t i;
		json_t *m;
		json_array_foreach(v, i, m)
		{
			bw_flow__pathf(p, sizeof(p), "%s[%zu]", path, i);
			scan(ck, doc, m, p, depth + 1);
		}
	}
}

void bw_flow__scan_credentials(struct bw_flow_check *ck, const json_t *doc)
{
	scan(ck, doc, doc, "", 0);
}
