/* InvokeIntegration's calls (C7, C17): the loop never waits. The block
 * hands its request over (cc_invoke_start, loop); an API worker makes the
 * call ready (integ/call.h: the store, the vault, a role token) and gives
 * it back through a queue of our own and a kick; the loop sends it
 * (bw_egress_request) and, from its answer, resumes the contact's flow.
 * At each step the contact must still be there and still waiting on this
 * very call (its id): the customer may have left, the contact ended or
 * timed out, another call started since. A deadline (TimeoutSeconds, or
 * the longest an integration may take) is also kept by the tick, so that
 * a slow worker cannot hold a contact. When the server stops, what was
 * not sent is dropped and calls still out end with SHUTDOWN: the contact
 * stays where it is and the next start ends it (SERVER_RESTART).
 *
 * Secret references in the block's RequestAttributes come as names: the
 * worker reads each from the vault just before it makes the call ready and
 * adds it to the body, in memory wiped after use; a name the vault lacks
 * means nothing is sent (NOT_MADE), like an integration's own credential. */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cc/engine_int.h"
#include "core/log.h"
#include "integ/call.h"
#include "integ/secrets.h"
#include "net/egress.h"

#define CALL_DEADLINE_MAX_MS 30000 /* BW_INTEG_TIMEOUT_MAX: no integration takes longer */
#define CALL_GRACE_S 1.0           /* past the deadline, the tick steps in for the egress */
#define CALL_SECRETS_MAX 32        /* BW_FLOW_MAX_ATTRIBUTES: one per attribute at most */

/* A secret reference: names only, the value is read on the worker. */
struct cc_secret_ref {
	char attribute[BW_SECRET_NAME_MAX + 1];
	char name[BW_SECRET_NAME_MAX + 1];
};

struct cc_call {
	struct cc_call *next; /* in the ready queue */
	unsigned long long id;
	char cid[48], iid[48];
	char integration_id[72];
	char method[8];
	char *path;
	char *body;
	size_t body_len;
	struct cc_secret_ref *secrets;
	size_t nsecrets;
	bw_result prepared;
	struct bw_integ_call call; /* filled on the worker */
};

static unsigned long long last_id;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct cc_call *ready_head, *ready_tail; /* made ready, not yet sent (under mu) */

static void call_free(struct cc_call *k)
{
	if (!k)
		return;
	bw_integ_call_clear(&k->call);
	free(k->path);
	if (k->body) {
		sodium_memzero(k->body, k->body_len);
		free(k->body);
	}
	free(k->secrets);
	free(k);
}

/* The contact waiting on this call, or NULL. */
static struct cc_contact *waiting(const struct cc_call *k)
{
	struct cc_contact *c = cc_contact_find(k->cid);
	return c && !c->ended && c->waiting_call && c->call_id == k->id ? c : NULL;
}

static void answer(struct cc_contact *c, enum bw_flow_answer_kind kind, int status,
                   const void *body, size_t len)
{
	struct bw_flow_answer a = {.kind = kind, .status = status, .body = body, .body_len = len};
	cc_flow_answer(c, &a);
}

static void sent(void *arg, const struct bw_egress_resp *r)
{
	struct cc_call *k = arg;
	struct cc_contact *c = waiting(k);
	call_free(k);
	if (!c || r->result == BW_EGRESS_SHUTDOWN)
		return;
	if (r->result == BW_EGRESS_OK)
		answer(c, BW_FLOW_ANSWER_RESPONSE, r->status, r->body, r->body_len);
	else
		answer(c, r->result == BW_EGRESS_TIMEOUT ? BW_FLOW_ANSWER_TIMEOUT
		                                         : BW_FLOW_ANSWER_FAILED,
		       0, NULL, 0);
}

/* On the loop: a call made ready goes out, unless nobody waits for it. */
static void send_ready(struct cc_call *k)
{
	struct cc_contact *c = waiting(k);
	if (!c) {
		call_free(k);
		return;
	}
	if (k->prepared != BW_OK) {
		bool config = k->prepared == BW_NOTFOUND || k->prepared == BW_INVALID ||
		              k->prepared == BW_CONFLICT;
		call_free(k);
		answer(c, config ? BW_FLOW_ANSWER_NOT_MADE : BW_FLOW_ANSWER_FAILED, 0, NULL, 0);
		return;
	}
	double left_ms = (c->call_deadline - cc_now()) * 1000.0;
	if (left_ms < 1.0) {
		call_free(k);
		answer(c, BW_FLOW_ANSWER_TIMEOUT, 0, NULL, 0);
		return;
	}
	if (left_ms < (double)k->call.req.timeout_ms)
		k->call.req.timeout_ms = (uint32_t)left_ms;
	bw_result r = bw_egress_request(&k->call.req, sent, k);
	/* The egress copied what it sends: the credential goes now. */
	bw_integ_call_clear(&k->call);
	if (r != BW_OK) {
		call_free(k);
		answer(c, BW_FLOW_ANSWER_FAILED, 0, NULL, 0);
	}
}

static void ready_drain(void)
{
	pthread_mutex_lock(&mu);
	struct cc_call *k = ready_head;
	ready_head = ready_tail = NULL;
	pthread_mutex_unlock(&mu);
	while (k) {
		struct cc_call *next = k->next;
		k->next = NULL;
		send_ready(k);
		k = next;
	}
}

static const struct bw_loop_kick ready_kick = {ready_drain};

/* Is s (n bytes) UTF-8 (RFC 3629: no overlong form, surrogate or code
 * point past U+10FFFF)? A JSON body carries nothing else. */
static bool utf8_ok(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i];
		size_t len = c < 0x80             ? 1
		             : (c & 0xe0) == 0xc0 ? 2
		             : (c & 0xf0) == 0xe0 ? 3
		             : (c & 0xf8) == 0xf0 ? 4
		                                  : 0;
		if (!len || i + len > n || c == 0xc0 || c == 0xc1 || c > 0xf4)
			return false;
		for (size_t j = 1; j < len; j++)
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
		if ((c == 0xe0 && s[i + 1] < 0xa0) || (c == 0xed && s[i + 1] > 0x9f) ||
		    (c == 0xf0 && s[i + 1] < 0x90) || (c == 0xf4 && s[i + 1] > 0x8f))
			return false;
		i += len;
	}
	return true;
}

/* Appends v as the text of a JSON string (quotes, backslash and control
 * bytes escaped) at out + *len; out has room for 6 bytes per byte of v. */
static void put_json_text(char *out, size_t *len, const char *v)
{
	static const char hex[] = "0123456789abcdef";
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (*p == '"' || *p == '\\') {
			out[(*len)++] = '\\';
			out[(*len)++] = (char)*p;
		} else if (*p < 0x20) {
			memcpy(out + *len, "\\u00", 4);
			out[*len + 4] = hex[*p >> 4];
			out[*len + 5] = hex[*p & 15];
			*len += 6;
		} else {
			out[(*len)++] = (char)*p;
		}
	}
}

/* The block's body (a compact JSON object) with each secret reference's
 * current value added as ,"<attribute>":"<value>", into *out (wiped and
 * freed by the caller). The values read go back to the vault's wiped
 * memory at once. BW_CONFLICT when the vault has no such secret or it is
 * not text; why names the secret and the attribute, never a value. */
static bw_result with_secrets(struct bw_store *s, const struct cc_call *k, char **out,
                              size_t *outlen, char *why, size_t whysz)
{
	char *vals[CALL_SECRETS_MAX] = {0};
	size_t need = k->body_len + 1, len;
	bw_result r = BW_OK;
	if (!k->body || k->body_len < 2 || k->body[k->body_len - 1] != '}' ||
	    k->nsecrets > CALL_SECRETS_MAX)
		return BW_ERR;
	for (size_t i = 0; i < k->nsecrets; i++) {
		const struct cc_secret_ref *ref = &k->secrets[i];
		r = bw_secret_read(s, k->iid, ref->name, &vals[i]);
		if (r == BW_NOTFOUND ||
		    (r == BW_OK && !utf8_ok((unsigned char *)vals[i], strlen(vals[i])))) {
			snprintf(why, whysz, "the secret \"%s\" named by RequestAttributes.%s %s",
			         ref->name, ref->attribute,
			         r == BW_NOTFOUND ? "is not in the secrets vault"
			                          : "is not UTF-8 text");
			r = BW_CONFLICT;
		}
		if (r != BW_OK)
			goto out;
		need += strlen(ref->attribute) + 8 + 6 * strlen(vals[i]); /* ,"a":"v" */
	}
	*out = malloc(need);
	if (!*out) {
		r = BW_NOMEM;
		goto out;
	}
	len = k->body_len - 1; /* without its '}' */
	memcpy(*out, k->body, len);
	for (size_t i = 0; i < k->nsecrets; i++) {
		/* An attribute name needs no escaping ([A-Za-z0-9._-]). */
		len += (size_t)snprintf(*out + len, need - len, "%s\"%s\":\"", len > 1 ? "," : "",
		                        k->secrets[i].attribute);
		put_json_text(*out, &len, vals[i]);
		(*out)[len++] = '"';
	}
	(*out)[len++] = '}';
	*outlen = len;
out:
	for (size_t i = 0; i < k->nsecrets && i < CALL_SECRETS_MAX; i++)
		bw_secret_free(vals[i]);
	return r == BW_INVALID ? BW_ERR : r;
}

/* The integration, the body's secrets, its checks and its credential. */
static bw_result make_ready(struct bw_store *s, struct cc_call *k, char *why, size_t whysz)
{
	struct bw_integ_call_spec spec = {.method = k->method,
	                                  .path = k->path,
	                                  .body = k->body,
	                                  .body_len = k->body_len,
	                                  .contact_id = k->cid};
	char *body = NULL;
	size_t body_len = 0;
	bw_result r = bw_integ_call_open(s, k->iid, k->integration_id, &k->call);
	if (r == BW_NOTFOUND)
		snprintf(why, whysz, "no such integration");
	if (r == BW_OK && k->nsecrets) {
		r = with_secrets(s, k, &body, &body_len, why, whysz);
		spec.body = body;
		spec.body_len = body_len;
	}
	if (r == BW_OK)
		r = bw_integ_call_build(s, &k->call, &spec, why, whysz);
	if (body) {
		sodium_memzero(body, body_len);
		free(body);
	}
	return r;
}

/* On a worker: makes the call ready and hands it to the loop. */
static void prepare(struct bw_store *s, void *arg)
{
	struct cc_call *k = arg;
	char why[256] = "";
	k->prepared = s ? make_ready(s, k, why, sizeof(why)) : BW_ERR;
	if (k->prepared != BW_OK)
		bw_log(BW_LOG_WARN, "integration call not made", "integration", k->integration_id,
		       "contact", k->cid, "reason", k->prepared == BW_ERR ? "internal error" : why);
	pthread_mutex_lock(&mu);
	bool was_empty = !ready_head;
	if (ready_tail)
		ready_tail->next = k;
	else
		ready_head = k;
	ready_tail = k;
	pthread_mutex_unlock(&mu);
	if (was_empty)
		bw_loop_kick(&ready_kick);
}

int cc_invoke_start(void *ctx, const struct bw_flow_call *call)
{
	struct cc_contact *c = ctx;
	struct cc_call *k = calloc(1, sizeof(*k));
	if (!k)
		return -1;
	k->id = ++last_id;
	snprintf(k->cid, sizeof(k->cid), "%s", c->rec.id);
	snprintf(k->iid, sizeof(k->iid), "%s", c->rec.instance_id);
	snprintf(k->integration_id, sizeof(k->integration_id), "%s", call->integration_id);
	snprintf(k->method, sizeof(k->method), "%s", call->method);
	k->path = strdup(call->path);
	if (call->body) {
		k->body = malloc(call->body_len + 1);
		if (k->body) {
			memcpy(k->body, call->body, call->body_len);
			k->body[call->body_len] = '\0';
			k->body_len = call->body_len;
		}
	}
	if (call->nsecrets && call->body && call->nsecrets <= CALL_SECRETS_MAX) {
		k->secrets = calloc(call->nsecrets, sizeof(*k->secrets));
		for (size_t i = 0; k->secrets && i < call->nsecrets; i++) {
			snprintf(k->secrets[i].attribute, sizeof(k->secrets[i].attribute), "%s",
			         call->secrets[i].attribute);
			snprintf(k->secrets[i].name, sizeof(k->secrets[i].name), "%s",
			         call->secrets[i].name);
		}
		k->nsecrets = k->secrets ? call->nsecrets : 0;
	}
	if (!k->path || (call->body && !k->body) || k->nsecrets != call->nsecrets ||
	    bw_worker_post(prepare, k) != BW_OK) {
		call_free(k);
		return -1;
	}
	long ms = call->timeout_ms > 0 && call->timeout_ms < CALL_DEADLINE_MAX_MS
	              ? call->timeout_ms
	              : CALL_DEADLINE_MAX_MS;
	c->waiting_call = true;
	c->call_id = k->id;
	c->call_deadline = cc_now() + (double)ms / 1000.0;
	return 0;
}

void cc_invoke_tick(struct cc_contact *c, double now)
{
	/* The egress answers TIMEOUT at the deadline; this is for a call
	 * still waiting for a worker. Its answer, when it comes, is dropped. */
	if (now >= c->call_deadline + CALL_GRACE_S)
		answer(c, BW_FLOW_ANSWER_TIMEOUT, 0, NULL, 0);
}

void cc_invoke_stop(void)
{
	/* The workers have been joined: nothing is added any more. */
	pthread_mutex_lock(&mu);
	struct cc_call *k = ready_head;
	ready_head = ready_tail = NULL;
	pthread_mutex_unlock(&mu);
	while (k) {
		struct cc_call *next = k->next;
		call_free(k);
		k = next;
	}
}
