/* The deny list (fraud.h). Per instance: entries by id, entries by value
 * for NUMBER and EMAIL, and for each address family one map per prefix
 * length in use, keyed by the masked network (a single address is a /32
 * or /128). A lookup masks the address once for each length in use, most
 * specific first, so it costs at most as many probes as there are distinct
 * prefix lengths (usually a handful), and an exact address is one probe.
 * A map per length keeps the range maps small, and so in cache, beside a
 * large map of single addresses. When ranges use several lengths, a
 * summary (65,536 bits by the top 16 bits of an IPv4 address, or a hash of
 * the top 32 of an IPv6 one) says which addresses some range of those
 * lengths may hold, so most lookups skip them: an exact entry and a bit.
 * Entries with the same value (the store refuses them, but an expired row
 * may not be purged yet) are chained. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fraud/fraud.h"
#include "fraud/fraud_int.h"

struct deny {
	struct bw_fraud_deny e; /* value normalized */
	struct deny *next;      /* same value in the instance */
	size_t idlen, vlen;
	uint8_t family, plen;
	uint8_t net[16]; /* ADDRESS: the masked network, its map's key */
};

#define SUMMARY_WORDS 1024 /* 65,536 bits */

struct nets {
	struct bw_fraud__map *bylen[129]; /* NULL: no entry of that length */
	uint8_t lens[129];                /* the lengths in use, longest first */
	int n;
	/* Bits for the networks of the summarized lengths (sum_lo() up to the
	 * full length, exclusive); NULL: probe every length. Deletions leave
	 * their bits (a needless probe, never a wrong answer) until a sweep
	 * rebuilds it. */
	uint64_t *summary;
	size_t stale;
};

struct inst {
	char id[48];
	size_t idlen, n;
	struct bw_fraud__map byid, values[BW_FRAUD_KINDS]; /* values[ADDRESS] unused */
	struct nets nets[2];                               /* IPv4, IPv6 */
};

struct bw_fraud_denylist {
	struct bw_fraud__map insts;
	uint64_t seed[2], nseed[5];
	size_t n;
};

static const void *inst_key(const void *v, size_t *len)
{
	const struct inst *i = v;
	*len = i->idlen;
	return i->id;
}

static const void *id_key(const void *v, size_t *len)
{
	const struct deny *d = v;
	*len = d->idlen;
	return d->e.id;
}

static const void *value_key(const void *v, size_t *len)
{
	const struct deny *d = v;
	*len = d->vlen;
	return d->e.kind == BW_FRAUD_ADDRESS ? (const void *)d->net : (const void *)d->e.value;
}

static const void *vkey(const struct deny *x)
{
	size_t len;
	return value_key(x, &len);
}

/* Networks are hashed by vector multiply-add-shift over 32-bit words
 * (Dietzfelbinger): universal in the top bits, which pick the slot, so
 * listed addresses cannot be chosen to share a probe run, at a multiply a
 * word where SipHash would take ten times as long; a lookup hashes once per
 * prefix length in use. */
static uint64_t net_hash(const struct bw_fraud_denylist *d, const uint8_t *net, size_t len)
{
	uint64_t h = d->nseed[4];
	for (size_t i = 0; i < len / 4; i++) {
		uint32_t w;
		memcpy(&w, net + 4 * i, 4);
		h += d->nseed[i] * w;
	}
	return h;
}

static uint64_t value_hash(const struct bw_fraud_denylist *d, const struct bw_fraud__map *m,
                           const struct deny *x)
{
	const void *k = vkey(x);
	return x->e.kind == BW_FRAUD_ADDRESS ? net_hash(d, k, x->vlen)
	                                     : bw_fraud__map_hash(m, k, x->vlen);
}

/* The map that holds x's value; NULL for an address length not in use. */
static struct bw_fraud__map *vmap(struct inst *in, const struct deny *x)
{
	if (x->e.kind != BW_FRAUD_ADDRESS)
		return &in->values[x->e.kind];
	return in->nets[x->family == 6].bylen[x->plen];
}

struct bw_fraud_denylist *bw_fraud_denylist_new(void)
{
	struct bw_fraud_denylist *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	uint64_t last[2];
	bw_fraud__seed(d->seed);
	bw_fraud__seed(d->nseed);
	bw_fraud__seed(d->nseed + 2);
	bw_fraud__seed(last);
	d->nseed[4] = last[0];
	bw_fraud__map_init(&d->insts, d->seed, inst_key);
	return d;
}

static void inst_free(struct inst *in)
{
	for (size_t i = 0; i < in->byid.cap; i++)
		if (bw_fraud__live(&in->byid.slots[i]))
			free(in->byid.slots[i].val);
	bw_fraud__map_free(&in->byid);
	for (int k = 0; k < BW_FRAUD_KINDS; k++)
		bw_fraud__map_free(&in->values[k]);
	for (int f = 0; f < 2; f++) {
		for (int p = 0; p <= 128; p++)
			if (in->nets[f].bylen[p]) {
				bw_fraud__map_free(in->nets[f].bylen[p]);
				free(in->nets[f].bylen[p]);
			}
		free(in->nets[f].summary);
	}
	free(in);
}

void bw_fraud_denylist_free(struct bw_fraud_denylist *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->insts.cap; i++)
		if (bw_fraud__live(&d->insts.slots[i]))
			inst_free(d->insts.slots[i].val);
	bw_fraud__map_free(&d->insts);
	free(d);
}

size_t bw_fraud_denylist_size(const struct bw_fraud_denylist *d)
{
	return d ? d->n : 0;
}

/* ---- prefix lengths in use, and their summary ---- */

static int sum_lo(int v6)
{
	return v6 ? 32 : 16;
}

static int full_len(int v6)
{
	return v6 ? 128 : 32;
}

static bool summarized(int v6, int plen)
{
	return plen >= sum_lo(v6) && plen < full_len(v6);
}

/* The summary bit of an address, or of a network of a summarized length
 * (the same bit for every address inside). */
static uint32_t bucket(const struct bw_fraud_denylist *d, int v6, const uint8_t *a)
{
	if (!v6)
		return (uint32_t)a[0] << 8 | a[1];
	uint32_t w;
	memcpy(&w, a, 4);
	return (uint32_t)((d->nseed[0] * w + d->nseed[4]) >> 48);
}

static void summary_set(const struct bw_fraud_denylist *d, struct nets *ns, int v6,
                        const struct deny *x)
{
	uint32_t b = bucket(d, v6, x->net);
	ns->summary[b >> 6] |= 1ull << (b & 63);
}

static void summary_build(const struct bw_fraud_denylist *d, struct nets *ns, int v6)
{
	memset(ns->summary, 0, SUMMARY_WORDS * sizeof(uint64_t));
	for (int p = sum_lo(v6); p < full_len(v6); p++) {
		const struct bw_fraud__map *m = ns->bylen[p];
		for (size_t i = 0; m && i < m->cap; i++)
			if (bw_fraud__live(&m->slots[i]))
				summary_set(d, ns, v6, m->slots[i].val);
	}
	ns->stale = 0;
}

/* The lengths in use changed: rebuilds the list, and keeps a summary while
 * it saves two probes or more (best effort: none when memory is short). */
static void lens_rebuild(const struct bw_fraud_denylist *d, struct nets *ns, int v6)
{
	int k = 0;
	ns->n = 0;
	for (int p = 128; p >= 0; p--)
		if (ns->bylen[p]) {
			ns->lens[ns->n++] = (uint8_t)p;
			k += summarized(v6, p);
		}
	if (k < 2) {
		free(ns->summary);
		ns->summary = NULL;
	} else if (!ns->summary && (ns->summary = malloc(SUMMARY_WORDS * sizeof(uint64_t)))) {
		summary_build(d, ns, v6);
	}
}

/* The map for x's prefix length, made when missing. */
static struct bw_fraud__map *len_map(struct bw_fraud_denylist *d, struct inst *in,
                                     const struct deny *x)
{
	struct nets *ns = &in->nets[x->family == 6];
	if (!ns->bylen[x->plen]) {
		struct bw_fraud__map *m = malloc(sizeof(*m));
		if (!m)
			return NULL;
		bw_fraud__map_init(m, d->seed, value_key);
		ns->bylen[x->plen] = m;
		lens_rebuild(d, ns, x->family == 6);
	}
	return ns->bylen[x->plen];
}

/* Drops x's length map once it holds nothing. */
static void len_map_release(const struct bw_fraud_denylist *d, struct inst *in,
                            const struct deny *x)
{
	struct nets *ns = &in->nets[x->family == 6];
	struct bw_fraud__map *m = ns->bylen[x->plen];
	if (!m || m->n)
		return;
	bw_fraud__map_free(m);
	free(m);
	ns->bylen[x->plen] = NULL;
	lens_rebuild(d, ns, x->family == 6);
}

/* ---- entries ---- */

static struct inst *inst_get(const struct bw_fraud_denylist *d, const char *id)
{
	size_t len = strnlen(id, 48);
	return bw_fraud__map_get(&d->insts, id, len, bw_fraud__map_hash(&d->insts, id, len));
}

static struct inst *inst_make(struct bw_fraud_denylist *d, const char *id, size_t idlen)
{
	struct inst *in = calloc(1, sizeof(*in));
	if (!in)
		return NULL;
	if (bw_fraud__map_reserve(&d->insts, 1) != BW_OK) {
		free(in);
		return NULL;
	}
	memcpy(in->id, id, idlen);
	in->idlen = idlen;
	bw_fraud__map_init(&in->byid, d->seed, id_key);
	for (int k = 0; k < BW_FRAUD_KINDS; k++)
		bw_fraud__map_init(&in->values[k], d->seed, value_key);
	bw_fraud__map_set(&d->insts, in, bw_fraud__map_hash(&d->insts, id, idlen));
	return in;
}

static void inst_drop(struct bw_fraud_denylist *d, struct inst *in)
{
	bw_fraud__map_del(&d->insts, in->id, in->idlen,
	                  bw_fraud__map_hash(&d->insts, in->id, in->idlen));
}

/* Takes x out of the instance's maps (no allocation). With release, a
 * length map left empty goes too. */
static void unlink_entry(struct bw_fraud_denylist *d, struct inst *in, struct deny *x, bool release)
{
	struct bw_fraud__map *vm = vmap(in, x);
	const void *vk = vkey(x);
	uint64_t h = value_hash(d, vm, x);
	struct deny *head = bw_fraud__map_get(vm, vk, x->vlen, h);
	if (head == x) {
		if (x->next) {
			bw_fraud__map_set(vm, x->next, h); /* same key: a replacement */
		} else {
			bw_fraud__map_del(vm, vk, x->vlen, h);
			if (release && x->e.kind == BW_FRAUD_ADDRESS)
				len_map_release(d, in, x);
		}
	} else {
		struct deny *p = head;
		while (p && p->next != x)
			p = p->next;
		if (p)
			p->next = x->next;
	}
	if (x->e.kind == BW_FRAUD_ADDRESS && summarized(x->family == 6, x->plen))
		in->nets[x->family == 6].stale++;
	bw_fraud__map_del(&in->byid, x->e.id, x->idlen,
	                  bw_fraud__map_hash(&in->byid, x->e.id, x->idlen));
	in->n--;
	d->n--;
}

/* A checked, normalized copy of e; NULL with *r set otherwise. */
static struct deny *entry_new(const struct bw_fraud_deny *e, bw_result *r)
{
	*r = BW_INVALID;
	if ((unsigned)e->kind >= BW_FRAUD_KINDS)
		return NULL;
	size_t idlen = strnlen(e->id, sizeof(e->id));
	size_t ilen = strnlen(e->instance_id, sizeof(e->instance_id));
	if (!idlen || idlen == sizeof(e->id) || !ilen || ilen == sizeof(e->instance_id) ||
	    strnlen(e->value, sizeof(e->value)) == sizeof(e->value))
		return NULL;
	struct deny *x = calloc(1, sizeof(*x));
	if (!x) {
		*r = BW_NOMEM;
		return NULL;
	}
	x->e = *e;
	if (bw_fraud_deny_value(e->kind, e->value, x->e.value, sizeof(x->e.value))) {
		free(x);
		return NULL;
	}
	x->idlen = idlen;
	if (e->kind == BW_FRAUD_ADDRESS) {
		struct bw_fraud__net n;
		if (!bw_fraud__parse_net(x->e.value, &n)) { /* cannot happen: just checked */
			free(x);
			return NULL;
		}
		x->family = n.family;
		x->plen = n.plen;
		memcpy(x->net, n.a, sizeof(x->net));
		x->vlen = n.family == 4 ? 4 : 16;
	} else {
		x->vlen = strlen(x->e.value);
	}
	*r = BW_OK;
	return x;
}

bw_result bw_fraud_denylist_put(struct bw_fraud_denylist *d, const struct bw_fraud_deny *e)
{
	if (!d || !e)
		return BW_INVALID;
	bw_result r;
	struct deny *x = entry_new(e, &r);
	if (!x)
		return r;
	struct inst *in = inst_get(d, x->e.instance_id);
	bool fresh = !in;
	if (fresh && !(in = inst_make(d, x->e.instance_id, strlen(x->e.instance_id)))) {
		r = BW_NOMEM;
		goto out;
	}
	struct bw_fraud__map *vm =
	    x->e.kind == BW_FRAUD_ADDRESS ? len_map(d, in, x) : &in->values[x->e.kind];
	if (!vm) {
		r = BW_NOMEM;
		goto out;
	}
	if ((r = bw_fraud__map_reserve(&in->byid, 1)) != BW_OK ||
	    (r = bw_fraud__map_reserve(vm, 1)) != BW_OK)
		goto out;
	/* From here on nothing can fail. */
	uint64_t hid = bw_fraud__map_hash(&in->byid, x->e.id, x->idlen);
	struct deny *old = bw_fraud__map_get(&in->byid, x->e.id, x->idlen, hid);
	if (old)
		unlink_entry(d, in, old, false); /* its map may be vm */
	const void *vk = vkey(x);
	uint64_t hv = value_hash(d, vm, x);
	struct deny *head = bw_fraud__map_get(vm, vk, x->vlen, hv);
	if (head) {
		x->next = head->next;
		head->next = x;
	} else {
		bw_fraud__map_set(vm, x, hv);
	}
	struct nets *ns = &in->nets[x->family == 6];
	if (x->e.kind == BW_FRAUD_ADDRESS && ns->summary && summarized(x->family == 6, x->plen))
		summary_set(d, ns, x->family == 6, x);
	bw_fraud__map_set(&in->byid, x, hid);
	in->n++;
	d->n++;
	if (old) {
		if (old->e.kind == BW_FRAUD_ADDRESS)
			len_map_release(d, in, old);
		free(old);
	}
	return BW_OK;
out:
	if (in && x->e.kind == BW_FRAUD_ADDRESS)
		len_map_release(d, in, x); /* made for x, and still empty */
	if (fresh && in) {
		inst_drop(d, in);
		inst_free(in);
	}
	free(x);
	return r;
}

void bw_fraud_denylist_del(struct bw_fraud_denylist *d, const char *instance_id, const char *id)
{
	if (!d || !instance_id || !id)
		return;
	struct inst *in = inst_get(d, instance_id);
	if (!in)
		return;
	size_t len = strnlen(id, sizeof(((struct bw_fraud_deny *)0)->id));
	struct deny *x =
	    bw_fraud__map_get(&in->byid, id, len, bw_fraud__map_hash(&in->byid, id, len));
	if (!x)
		return;
	unlink_entry(d, in, x, true);
	free(x);
	if (!in->n) {
		inst_drop(d, in);
		inst_free(in);
	}
}

/* ---- lookups ---- */

static bool live(const struct deny *x, long long now_ms)
{
	return x->e.expires_ms == 0 || now_ms < x->e.expires_ms;
}

static const struct deny *first_live(const struct deny *x, long long now_ms)
{
	for (; x; x = x->next)
		if (live(x, now_ms))
			return x;
	return NULL;
}

static const struct deny *match_address(const struct bw_fraud_denylist *d, const struct inst *in,
                                        const char *value, long long now_ms)
{
	struct bw_fraud__net n;
	if (!bw_fraud__parse_net(value, &n))
		return NULL;
	int v6 = n.family == 6, skip = -1;
	const struct nets *ns = &in->nets[v6];
	size_t len = v6 ? 16 : 4;
	for (int i = 0; i < ns->n; i++) {
		int plen = ns->lens[i];
		if (plen > n.plen) /* a range given: only entries holding all of it */
			continue;
		if (ns->summary && summarized(v6, plen)) {
			if (skip < 0) {
				uint32_t b = bucket(d, v6, n.a);
				skip = !(ns->summary[b >> 6] >> (b & 63) & 1);
			}
			if (skip)
				continue;
		}
		const struct bw_fraud__map *m = ns->bylen[plen];
		uint8_t k[16];
		memcpy(k, n.a, sizeof(k));
		bw_fraud__mask(k, n.family, plen);
		const struct deny *x =
		    first_live(bw_fraud__map_get(m, k, len, net_hash(d, k, len)), now_ms);
		if (x)
			return x;
	}
	return NULL;
}

bool bw_fraud_denied(const struct bw_fraud_denylist *d, const char *instance_id,
                     enum bw_fraud_kind k, const char *value, long long now_ms, char *match_id,
                     size_t idsz)
{
	if (!d || !instance_id || !value || (unsigned)k >= BW_FRAUD_KINDS || !d->n)
		return false;
	const struct inst *in = inst_get(d, instance_id);
	if (!in)
		return false;
	const struct deny *x;
	if (k == BW_FRAUD_ADDRESS) {
		x = match_address(d, in, value, now_ms);
	} else {
		char norm[256];
		if (bw_fraud_key(k, value, norm, sizeof(norm)) != 0)
			return false;
		const struct bw_fraud__map *vm = &in->values[k];
		size_t len = strlen(norm);
		x = first_live(bw_fraud__map_get(vm, norm, len, bw_fraud__map_hash(vm, norm, len)),
		               now_ms);
	}
	if (x && match_id && idsz)
		snprintf(match_id, idsz, "%s", x->e.id);
	return x != NULL;
}

void bw_fraud_denylist_sweep(struct bw_fraud_denylist *d, long long now_ms)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->insts.cap; i++) {
		if (!bw_fraud__live(&d->insts.slots[i]))
			continue;
		struct inst *in = d->insts.slots[i].val;
		/* Deleting while walking is safe: a deletion only turns its slot,
		 * and tombstones before it, into tombstones or empty slots. */
		for (size_t j = 0; j < in->byid.cap; j++) {
			if (!bw_fraud__live(&in->byid.slots[j]))
				continue;
			struct deny *x = in->byid.slots[j].val;
			if (live(x, now_ms))
				continue;
			unlink_entry(d, in, x, true);
			free(x);
		}
		if (!in->n) {
			bw_fraud__map_del_at(&d->insts, i);
			inst_free(in);
			continue;
		}
		bw_fraud__map_tidy(&in->byid);
		for (int k = 0; k < BW_FRAUD_KINDS; k++)
			bw_fraud__map_tidy(&in->values[k]);
		for (int f = 0; f < 2; f++) {
			for (int p = 0; p <= 128; p++)
				if (in->nets[f].bylen[p])
					bw_fraud__map_tidy(in->nets[f].bylen[p]);
			if (in->nets[f].summary && in->nets[f].stale)
				summary_build(d, &in->nets[f], f);
		}
	}
	bw_fraud__map_tidy(&d->insts);
}
