/* The loop side of fraud protection (C10): one deny list and one set of
 * windows for the process, a per-address request throttle for the public
 * routes, and the figures for /metrics. Workers reach it through
 * bw_loop_call; the flow block calls it directly (it runs on the loop).
 * Identifiers are counted under keyed hashes, so neither memory nor the
 * stored history holds a raw number, address or e-mail. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/ids.h"
#include "core/metrics.h"
#include "fraud/fraud.h"
#include "net/net.h"
#include "sec/seal.h"
#include "store/store.h"

#define MAX_WINDOW_S 86400

struct figures {
	char iid[48];
	unsigned long long blocked[BW_FRAUD_KINDS], dry[BW_FRAUD_KINDS], denied;
};

static struct bw_fraud_denylist *deny;
static struct bw_fraud_windows *win, *rate;
static struct bw_fraud_rule rate_rule;
static uint8_t hash_key[32];
static struct figures *figs;
static size_t nfigs;

int bw_guard_key(const char *iid, enum bw_fraud_kind k, const char *value, char out[33])
{
	char norm[256];
	if (bw_fraud_key(k, value, norm, sizeof(norm)) != 0)
		return -1;
	uint8_t h[16];
	crypto_generichash_state st;
	crypto_generichash_init(&st, hash_key, sizeof(hash_key), sizeof(h));
	crypto_generichash_update(&st, (const uint8_t *)iid, strlen(iid) + 1);
	uint8_t kb = (uint8_t)k;
	crypto_generichash_update(&st, &kb, 1);
	crypto_generichash_update(&st, (const uint8_t *)norm, strlen(norm));
	crypto_generichash_final(&st, h, sizeof(h));
	sodium_bin2hex(out, 33, h, sizeof(h));
	return 0;
}

static struct figures *figures_of(const char *iid)
{
	for (size_t i = 0; i < nfigs; i++)
		if (!strcmp(figs[i].iid, iid))
			return &figs[i];
	struct figures *n = realloc(figs, (nfigs + 1) * sizeof(*n));
	if (!n)
		return NULL;
	figs = n;
	memset(&figs[nfigs], 0, sizeof(figs[nfigs]));
	snprintf(figs[nfigs].iid, sizeof(figs[nfigs].iid), "%s", iid);
	return &figs[nfigs++];
}

/* ---- start ---- */

struct filters {
	char (*iid)[48];
	struct bw_fraud_filter *f;
	size_t n;
};

static const struct bw_fraud_rule *rule_of(const struct bw_fraud_filter *f, int kind)
{
	for (size_t i = 0; i < f->nrules; i++)
		if ((int)f->rules[i].kind == kind)
			return &f->rules[i];
	return NULL;
}

static int load_filter(const char *iid, const char *json, void *arg)
{
	struct filters *fs = arg;
	char(*ni)[48] = realloc(fs->iid, (fs->n + 1) * sizeof(*ni));
	if (ni)
		fs->iid = ni;
	struct bw_fraud_filter *nf = realloc(fs->f, (fs->n + 1) * sizeof(*nf));
	if (nf)
		fs->f = nf;
	if (!ni || !nf)
		return -1;
	snprintf(fs->iid[fs->n], sizeof(fs->iid[0]), "%s", iid);
	bw_fraud_filter_parse(json, &fs->f[fs->n]);
	fs->n++;
	return 0;
}

static int load_deny(const struct bw_deny_row *d, void *arg)
{
	(void)arg;
	struct bw_fraud_deny e;
	memset(&e, 0, sizeof(e));
	int k = bw_fraud_kind_parse(d->type);
	if (k < 0)
		return 0;
	snprintf(e.id, sizeof(e.id), "%s", d->id);
	snprintf(e.instance_id, sizeof(e.instance_id), "%s", d->instance_id);
	e.kind = (enum bw_fraud_kind)k;
	snprintf(e.value, sizeof(e.value), "%s", d->value);
	e.expires_ms = d->expires_at;
	return bw_fraud_denylist_put(deny, &e) == BW_OK ? 0 : -1;
}

struct history_ctx {
	struct filters *fs;
	long long now;
};

static int load_history(const struct bw_history_row *h, void *arg)
{
	struct history_ctx *hc = arg;
	struct bw_fraud_filter def, *f = &def;
	bw_fraud_filter_defaults(&def);
	for (size_t i = 0; i < hc->fs->n; i++)
		if (!strcmp(hc->fs->iid[i], h->instance_id))
			f = &hc->fs->f[i];
	const struct bw_fraud_rule *r = rule_of(f, h->kind);
	if (!r || h->at < hc->now - (long long)r->window_s * 1000)
		return 0;
	return bw_fraud_count(win, h->instance_id, r, h->key, h->at) == BW_OK ? 0 : -1;
}

bw_result bw_guard_start(struct bw_store *s, long long now, int rate_limit, int rate_window_s)
{
	if (!bw_seal_root)
		return BW_ERR;
	static const char label[] = "bulwark contact history v1";
	crypto_generichash(hash_key, sizeof(hash_key), (const uint8_t *)label, sizeof(label),
	                   bw_seal_root, 32);
	deny = bw_fraud_denylist_new();
	win = bw_fraud_windows_new();
	rate = bw_fraud_windows_new();
	if (!deny || !win || !rate)
		return BW_NOMEM;
	rate_rule = (struct bw_fraud_rule){BW_FRAUD_ADDRESS, rate_limit, rate_window_s, 0};
	struct filters fs = {0};
	struct history_ctx hc = {&fs, now};
	bw_result r = bw_store_deny_scan(s, now, load_deny, NULL);
	if (r == BW_OK)
		r = bw_store_filter_scan(s, load_filter, &fs);
	if (r == BW_OK)
		r = bw_store_history_purge(s, now - (long long)MAX_WINDOW_S * 1000);
	if (r == BW_OK)
		r = bw_store_history_scan(s, now - (long long)MAX_WINDOW_S * 1000, load_history, &hc);
	if (r == BW_OK)
		r = bw_store_deny_purge(s, now);
	free(fs.iid);
	free(fs.f);
	return r;
}

void bw_guard_stop(void)
{
	bw_fraud_denylist_free(deny);
	bw_fraud_windows_free(win);
	bw_fraud_windows_free(rate);
	deny = NULL;
	win = rate = NULL;
	free(figs);
	figs = NULL;
	nfigs = 0;
	sodium_memzero(hash_key, sizeof(hash_key));
}

/* ---- the public checks ---- */

struct public_call {
	const char *iid, *address;
	bool denied;
	int retry;
};

static void public_on_loop(void *arg)
{
	struct public_call *p = arg;
	long long now = bw_now_ms();
	p->denied = bw_fraud_denied(deny, p->iid, BW_FRAUD_ADDRESS, p->address, now, NULL, 0);
	if (p->denied) {
		struct figures *f = figures_of(p->iid);
		if (f)
			f->denied++;
	}
	char key[256];
	if (bw_fraud_key(BW_FRAUD_ADDRESS, p->address, key, sizeof(key)) != 0)
		return;
	if (!bw_fraud_would_pass(rate, "", &rate_rule, key, now)) {
		long long ms = bw_fraud_wait_ms(rate, "", &rate_rule, key, now);
		p->retry = ms > 0 ? (int)((ms + 999) / 1000) : rate_rule.window_s;
	} else
		bw_ignore(bw_fraud_count(rate, "", &rate_rule, key, now));
}

void bw_guard_public_inline(struct bw_req *req)
{
	if (req->nparams < 1 || !req->params[0])
		return;
	struct public_call p = {req->params[0], req->peer, false, 0};
	public_on_loop(&p);
	req->guard.done = true;
	req->guard.denied = p.denied;
	req->guard.retry_after_s = p.retry;
}

void bw_guard_public(const char *iid, const char *address, bool *denied, int *retry_after_s)
{
	struct public_call p = {iid, address, false, 0};
	bw_loop_call(public_on_loop, &p);
	*denied = p.denied;
	*retry_after_s = p.retry;
}

struct contact_call {
	const char *iid;
	const struct bw_fraud_filter *f;
	const struct bw_fraud_id *ids;
	size_t nids;
	struct bw_fraud_verdict *v;
};

static void list_key(struct contact_call *c, const struct bw_fraud_id *id,
                     const struct bw_fraud_rule *r, long long now)
{
	struct bw_fraud_verdict *v = c->v;
	if (r->deny_s <= 0)
		return;
	struct bw_fraud_deny *e = &v->listed;
	bw_id_new(e->id, "dl_");
	snprintf(e->instance_id, sizeof(e->instance_id), "%s", c->iid);
	e->kind = id->kind;
	if (bw_fraud_key(id->kind, id->value, e->value, sizeof(e->value)) != 0) {
		e->id[0] = '\0';
		return;
	}
	e->expires_ms = now + (long long)r->deny_s * 1000;
	if (bw_fraud_denylist_put(deny, e) != BW_OK)
		e->id[0] = '\0';
}

static void contact_on_loop(void *arg)
{
	struct contact_call *c = arg;
	struct bw_fraud_verdict *v = c->v;
	long long now = bw_now_ms();
	struct figures *fig = figures_of(c->iid);
	for (size_t i = 0; i < c->nids; i++)
		if (bw_fraud_denied(deny, c->iid, c->ids[i].kind, c->ids[i].value, now, NULL, 0)) {
			v->blocked = v->by_deny_list = true;
			v->kind = c->ids[i].kind;
			if (fig)
				fig->blocked[v->kind]++;
			return;
		}
	if (!c->f->enabled)
		return;
	char keys[BW_FRAUD_KINDS][33];
	const struct bw_fraud_rule *rules[BW_FRAUD_KINDS] = {0};
	size_t n = c->nids < BW_FRAUD_KINDS ? c->nids : BW_FRAUD_KINDS;
	for (size_t i = 0; i < n; i++) {
		const struct bw_fraud_id *id = &c->ids[i];
		rules[i] = rule_of(c->f, (int)id->kind);
		if (!rules[i] || bw_guard_key(c->iid, id->kind, id->value, keys[i]) != 0) {
			rules[i] = NULL;
			continue;
		}
		if (bw_fraud_would_pass(win, c->iid, rules[i], keys[i], now) || v->blocked ||
		    v->would_block)
			continue;
		v->kind = id->kind;
		if (c->f->dry_run) {
			v->would_block = true;
			if (fig)
				fig->dry[id->kind]++;
		} else {
			v->blocked = true;
			if (fig)
				fig->blocked[id->kind]++;
			list_key(c, id, rules[i], now);
		}
	}
	if (v->blocked)
		return; /* a refused contact is not counted */
	for (size_t i = 0; i < n; i++) {
		if (!rules[i] || bw_fraud_count(win, c->iid, rules[i], keys[i], now) != BW_OK)
			continue;
		memcpy(v->counted[v->ncounted], keys[i], 33);
		v->counted_kind[v->ncounted++] = c->ids[i].kind;
	}
}

void bw_guard_contact(const char *iid, const struct bw_fraud_filter *f,
                      const struct bw_fraud_id *ids, size_t nids, struct bw_fraud_verdict *v)
{
	memset(v, 0, sizeof(*v));
	struct contact_call c = {iid, f, ids, nids, v};
	bw_loop_call(contact_on_loop, &c);
}

static void deny_put_on_loop(void *arg)
{
	if (bw_fraud_denylist_put(deny, arg) != BW_OK)
		return;
}

void bw_guard_deny_put(const struct bw_fraud_deny *e)
{
	bw_loop_call(deny_put_on_loop, (void *)e);
}

struct del_call {
	const char *iid, *id;
};

static void deny_del_on_loop(void *arg)
{
	struct del_call *d = arg;
	bw_fraud_denylist_del(deny, d->iid, d->id);
}

void bw_guard_deny_del(const char *iid, const char *id)
{
	struct del_call d = {iid, id};
	bw_loop_call(deny_del_on_loop, &d);
}

bool bw_guard_denied_any(const char *iid, const struct bw_fraud_id *ids, size_t nids)
{
	long long now = bw_now_ms();
	for (size_t i = 0; i < nids; i++)
		if (bw_fraud_denied(deny, iid, ids[i].kind, ids[i].value, now, NULL, 0))
			return true;
	return false;
}

void bw_guard_sweep(void)
{
	long long now = bw_now_ms();
	bw_fraud_denylist_sweep(deny, now);
	bw_fraud_windows_sweep(win, now, MAX_WINDOW_S);
	bw_fraud_windows_sweep(rate, now, rate_rule.window_s);
}

/* ---- figures ---- */

char *bw_guard_metrics_text(void)
{
	struct bw_metrics_text b = {0};
	bw_metrics_printf(&b, "# HELP bulwark_contacts_blocked_total contacts refused by the deny list or the "
	        "contact filter\n# TYPE bulwark_contacts_blocked_total counter\n");
	for (size_t i = 0; i < nfigs; i++)
		for (int k = 0; k < BW_FRAUD_KINDS; k++)
			bw_metrics_printf(&b, "bulwark_contacts_blocked_total{instance=\"%s\",identifier=\"%s\"} %llu\n",
			    figs[i].iid, bw_fraud_rule_name((enum bw_fraud_kind)k), figs[i].blocked[k]);
	bw_metrics_printf(&b, "# HELP bulwark_contacts_filter_dry_run_total contacts the filter would have "
	        "refused (dry run)\n# TYPE bulwark_contacts_filter_dry_run_total counter\n");
	for (size_t i = 0; i < nfigs; i++)
		for (int k = 0; k < BW_FRAUD_KINDS; k++)
			bw_metrics_printf(&b,
			    "bulwark_contacts_filter_dry_run_total{instance=\"%s\",identifier=\"%s\"} %llu\n",
			    figs[i].iid, bw_fraud_rule_name((enum bw_fraud_kind)k), figs[i].dry[k]);
	bw_metrics_printf(&b, "# HELP bulwark_public_requests_denied_total public requests from a deny-listed "
	        "address\n# TYPE bulwark_public_requests_denied_total counter\n");
	for (size_t i = 0; i < nfigs; i++)
		bw_metrics_printf(&b, "bulwark_public_requests_denied_total{instance=\"%s\"} %llu\n", figs[i].iid,
		    figs[i].denied);
	return b.buf;
}
