#include "sec/audit.h"

#include <openssl/hmac.h>
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "core/log.h"
#include "events/events.h"

#define BATCH_MAX 512

struct pending {
	struct bw_audit_event *ev;
	struct pending *next;
	bw_result result;
	bool done;
};

struct chain_state {
	char chain[48];
	long long seq;
	uint8_t hash[32];
};

static struct {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	struct pending *head, *tail;
	bool stopping, running;
	struct bw_store *store;
	uint8_t mac_key[32];
	struct chain_state *chains;
	size_t nchains;
} W = {.mu = PTHREAD_MUTEX_INITIALIZER,
       .work = PTHREAD_COND_INITIALIZER,
       .done = PTHREAD_COND_INITIALIZER};

static void mac_key(const uint8_t *root, uint8_t out[32])
{
	static const char label[] = "bulwark audit head mac v1";
	crypto_generichash(out, 32, (const uint8_t *)label, sizeof(label), root, 32);
}

static void head_mac(const uint8_t key[32], const char *chain, long long seq,
                     const uint8_t hash[32], uint8_t out[32])
{
	uint8_t msg[48 + 8 + 32];
	size_t cl = strlen(chain);
	memset(msg, 0, sizeof(msg));
	memcpy(msg, chain, cl < 48 ? cl : 47);
	for (int i = 0; i < 8; i++)
		msg[48 + i] = (uint8_t)((unsigned long long)seq >> (56 - 8 * i));
	memcpy(msg + 56, hash, 32);
	unsigned int len = 32;
	HMAC(EVP_sha256(), key, 32, msg, sizeof(msg), out, &len);
}

static void put_field(crypto_generichash_state *st, const char *s)
{
	uint32_t n = (uint32_t)strlen(s);
	uint8_t len[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
	crypto_generichash_update(st, len, 4);
	crypto_generichash_update(st, (const uint8_t *)s, n);
}

/* hash = BLAKE2b-256(prev_hash || each field as u32 length + bytes). */
static void event_hash(const struct bw_audit_event *e, uint8_t out[32])
{
	char seq[24], status[16];
	snprintf(seq, sizeof(seq), "%lld", e->seq);
	snprintf(status, sizeof(status), "%d", e->status);
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, e->prev_hash, 32);
	const char *fields[] = {e->chain,          seq,           e->id,         e->time,
	                        e->instance_id,    e->principal_kind, e->principal_id,
	                        e->principal_name, e->action,     e->resource,   e->source_ip,
	                        e->user_agent,     e->result,     status,        e->error_code,
	                        e->request_id};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		put_field(&st, fields[i]);
	crypto_generichash_final(&st, out, 32);
}

static struct chain_state *chain_get(const char *chain)
{
	for (size_t i = 0; i < W.nchains; i++)
		if (strcmp(W.chains[i].chain, chain) == 0)
			return &W.chains[i];
	struct chain_state *n = realloc(W.chains, (W.nchains + 1) * sizeof(*n));
	if (!n)
		return NULL;
	W.chains = n;
	struct chain_state *c = &W.chains[W.nchains];
	memset(c, 0, sizeof(*c));
	snprintf(c->chain, sizeof(c->chain), "%s", chain);
	struct bw_audit_head h;
	bw_result r = bw_store_audit_head(W.store, chain, &h);
	if (r == BW_OK) {
		c->seq = h.seq;
		memcpy(c->hash, h.hash, 32);
	} else if (r != BW_NOTFOUND) {
		return NULL;
	}
	W.nchains++;
	return c;
}

/* The batch and the events (C18) its instance events make, in one
 * transaction; the events are prepared first (sealing may write a data
 * key through the keyring's own connection). */
static bw_result append_with_events(struct bw_audit_event *evs, size_t n,
                                    const struct bw_audit_head *heads, size_t nheads)
{
	struct bw_events_batch b = {0};
	for (size_t i = 0; i < n; i++) {
		const struct bw_audit_event *e = &evs[i];
		long long at = 0;
		if (!e->instance_id[0])
			continue;
		json_t *data = bw_audit_event_json(e);
		bw_ignore(bw_time_parse_rfc3339_ms(e->time, &at));
		struct bw_event_src src = {.type = "audit",
		                           .instance_id = e->instance_id,
		                           .data = data,
		                           .dedup_key = e->id,
		                           .time_ms = at};
		if (!data || bw_events_prepare(W.store, &src, &b) != BW_OK)
			bw_log(BW_LOG_ERROR, "an audit event could not be queued for its subscriptions",
			       "event", e->id);
		json_decref(data);
	}
	bool batch = b.n && bw_store_batch_begin(W.store) == BW_OK;
	bw_result r = bw_store_audit_append(W.store, evs, n, heads, nheads);
	if (r == BW_OK && b.n)
		r = bw_events_write(W.store, &b);
	if (batch)
		r = bw_store_batch_end(W.store, r);
	if (r == BW_OK && b.n)
		bw_events_notify();
	bw_events_batch_clear(&b);
	return r;
}

/* One transaction for a whole batch: the group commit. */
static bw_result write_batch(struct pending **batch, size_t n)
{
	struct bw_audit_event *evs = calloc(n, sizeof(*evs));
	struct bw_audit_head *heads = calloc(n, sizeof(*heads));
	size_t nheads = 0;
	bw_result r = BW_NOMEM;
	if (!evs || !heads)
		goto out;
	r = BW_OK;
	for (size_t i = 0; i < n && r == BW_OK; i++) {
		struct bw_audit_event *e = batch[i]->ev;
		if (!e->chain[0])
			snprintf(e->chain, sizeof(e->chain), "%s", BW_AUDIT_PLATFORM);
		struct chain_state *c = chain_get(e->chain);
		if (!c) {
			r = BW_ERR;
			break;
		}
		e->seq = ++c->seq;
		memcpy(e->prev_hash, c->hash, 32);
		event_hash(e, e->hash);
		memcpy(c->hash, e->hash, 32);
		evs[i] = *e;
		size_t h;
		for (h = 0; h < nheads; h++)
			if (strcmp(heads[h].chain, c->chain) == 0)
				break;
		if (h == nheads)
			nheads++;
		snprintf(heads[h].chain, sizeof(heads[h].chain), "%s", c->chain);
		heads[h].seq = c->seq;
		memcpy(heads[h].hash, c->hash, 32);
		head_mac(W.mac_key, c->chain, c->seq, c->hash, heads[h].mac);
	}
	if (r == BW_OK)
		r = append_with_events(evs, n, heads, nheads);
out:
	if (r != BW_OK) {
		/* Forget cached heads: they advanced in memory only. */
		free(W.chains);
		W.chains = NULL;
		W.nchains = 0;
	}
	free(evs);
	free(heads);
	return r;
}

static void *writer_main(void *arg)
{
	(void)arg;
	struct pending *batch[BATCH_MAX];
	pthread_mutex_lock(&W.mu);
	for (;;) {
		while (!W.head && !W.stopping)
			pthread_cond_wait(&W.work, &W.mu);
		if (!W.head)
			break;
		size_t n = 0;
		while (W.head && n < BATCH_MAX) {
			batch[n++] = W.head;
			W.head = W.head->next;
		}
		if (!W.head)
			W.tail = NULL;
		pthread_mutex_unlock(&W.mu);
		bw_result r = write_batch(batch, n);
		if (r != BW_OK)
			bw_log(BW_LOG_ERROR, "audit append failed");
		pthread_mutex_lock(&W.mu);
		for (size_t i = 0; i < n; i++) {
			batch[i]->result = r;
			batch[i]->done = true;
		}
		pthread_cond_broadcast(&W.done);
	}
	pthread_mutex_unlock(&W.mu);
	return NULL;
}

bw_result bw_audit_start(const char *db_path, int durability, const uint8_t *root_key)
{
	bw_result r = bw_store_open(&W.store, db_path,
	                            durability ? BW_DURABILITY_FULL : BW_DURABILITY_NORMAL);
	if (r != BW_OK)
		return r;
	mac_key(root_key, W.mac_key);
	W.stopping = false;
	if (pthread_create(&W.thread, NULL, writer_main, NULL) != 0)
		return BW_ERR;
	W.running = true;
	return BW_OK;
}

void bw_audit_stop(void)
{
	if (!W.running)
		return;
	pthread_mutex_lock(&W.mu);
	W.stopping = true;
	pthread_cond_broadcast(&W.work);
	pthread_mutex_unlock(&W.mu);
	pthread_join(W.thread, NULL);
	W.running = false;
	bw_store_close(W.store);
	W.store = NULL;
	free(W.chains);
	W.chains = NULL;
	W.nchains = 0;
	sodium_memzero(W.mac_key, sizeof(W.mac_key));
}

bw_result bw_audit_append(struct bw_audit_event *ev)
{
	struct pending p = {.ev = ev};
	pthread_mutex_lock(&W.mu);
	if (!W.running || W.stopping) {
		pthread_mutex_unlock(&W.mu);
		return BW_AGAIN;
	}
	if (W.tail)
		W.tail->next = &p;
	else
		W.head = &p;
	W.tail = &p;
	pthread_cond_signal(&W.work);
	while (!p.done)
		pthread_cond_wait(&W.done, &W.mu);
	pthread_mutex_unlock(&W.mu);
	return p.result;
}

/* ---- verification ---- */

struct verify_state {
	const char *chain;
	long long expect;
	uint8_t prev[32];
	long long checked;
	json_t *bad;
};

static void set_bad(struct verify_state *v, long long seq, const char *id, const char *reason)
{
	v->bad = json_pack("{s:s, s:I, s:s?, s:s}", "chain", v->chain, "seq", (json_int_t)seq, "id",
	                   id, "reason", reason);
}

static int verify_one(const struct bw_audit_event *e, void *arg)
{
	struct verify_state *v = arg;
	uint8_t h[32];
	v->checked++;
	if (e->seq != v->expect) {
		set_bad(v, v->expect, e->id,
		        e->seq > v->expect ? "record missing (gap in sequence)" : "records out of order");
		return 1;
	}
	if (sodium_memcmp(e->prev_hash, v->prev, 32) != 0) {
		set_bad(v, e->seq, e->id, "link to the previous record broken");
		return 1;
	}
	event_hash(e, h);
	if (sodium_memcmp(h, e->hash, 32) != 0) {
		set_bad(v, e->seq, e->id, "record edited (hash mismatch)");
		return 1;
	}
	memcpy(v->prev, e->hash, 32);
	v->expect++;
	return 0;
}

static bw_result verify_chain(struct bw_store *s, const uint8_t key[32], const char *chain,
                              long long *checked, json_t **bad)
{
	struct verify_state v = {.chain = chain, .expect = 1};
	bw_result r = bw_store_audit_scan(s, chain, verify_one, &v);
	*checked += v.checked;
	if (r != BW_OK)
		return r;
	if (v.bad) {
		*bad = v.bad;
		return BW_OK;
	}
	struct bw_audit_head h;
	r = bw_store_audit_head(s, chain, &h);
	long long last = v.expect - 1;
	if (r == BW_NOTFOUND) {
		if (last > 0) {
			set_bad(&v, last, NULL, "chain head missing");
			*bad = v.bad;
		}
		return BW_OK;
	}
	if (r != BW_OK)
		return r;
	uint8_t mac[32];
	head_mac(key, chain, h.seq, h.hash, mac);
	if (sodium_memcmp(mac, h.mac, 32) != 0) {
		set_bad(&v, h.seq, NULL, "chain head forged (MAC mismatch)");
	} else if (h.seq != last || sodium_memcmp(h.hash, v.prev, 32) != 0) {
		set_bad(&v, last + 1, NULL,
		        h.seq > last ? "tail cut (this record and those after it are missing)"
		                     : "chain longer than its head");
	}
	*bad = v.bad;
	return BW_OK;
}

bw_result bw_audit_verify(struct bw_store *s, const uint8_t *root_key, const char *chain,
                          json_t **report)
{
	uint8_t key[32];
	mac_key(root_key, key);
	long long checked = 0;
	json_t *bad = NULL;
	bw_result r = BW_OK;
	if (chain) {
		r = verify_chain(s, key, chain, &checked, &bad);
	} else {
		size_t max = 4096, n = 0;
		char(*chains)[48] = calloc(max, 48);
		if (!chains) {
			sodium_memzero(key, sizeof(key));
			return BW_NOMEM;
		}
		r = bw_store_audit_chains(s, chains, max, &n);
		for (size_t i = 0; r == BW_OK && !bad && i < n; i++)
			r = verify_chain(s, key, chains[i], &checked, &bad);
		free(chains);
	}
	sodium_memzero(key, sizeof(key));
	if (r != BW_OK) {
		json_decref(bad);
		return r;
	}
	*report = json_pack("{s:b, s:I, s:o}", "ok", bad == NULL, "checked", (json_int_t)checked,
	                    "first_bad", bad ? bad : json_null());
	return BW_OK;
}

json_t *bw_audit_event_json(const struct bw_audit_event *e)
{
	return json_pack("{s:s, s:s, s:s?, s:{s:s, s:s, s:s}, s:s, s:s, s:s, s:s, s:s, s:i, s:s?, "
	                 "s:s, s:I}",
	                 "id", e->id, "time", e->time, "instance_id",
	                 e->instance_id[0] ? e->instance_id : NULL, "principal", "kind",
	                 e->principal_kind, "id", e->principal_id, "name", e->principal_name,
	                 "action", e->action, "resource", e->resource, "source_ip", e->source_ip,
	                 "user_agent", e->user_agent, "result", e->result, "status", e->status,
	                 "error_code", e->error_code[0] ? e->error_code : NULL, "request_id",
	                 e->request_id, "seq", (json_int_t)e->seq);
}
