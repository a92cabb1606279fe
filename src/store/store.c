/* Backend selection and the thin dispatch over the vtable. */
#include <stdlib.h>

#include "store/store_int.h"

#include <stdatomic.h>
#include <string.h>

#include "sec/seal.h" /* keys: users' names and e-mail are sealed here, for every backend */

/* Bumped by every write that can change who a credential is or what it may
 * do (revocation, disable, profile, settings); authentication caches hold
 * only what was read under the current value. */
static atomic_ullong auth_epoch = 1;

static void auth_changed(void)
{
	atomic_fetch_add(&auth_epoch, 1);
}

unsigned long long bw_store_auth_epoch(void)
{
	return atomic_load(&auth_epoch);
}

/* keys: what the backend writes for a user: a shallow copy of u with its
 * names and e-mail sealed into pii and emptied (the copy shares u's
 * other pointers; user_sealed_done frees only pii). */
static bw_result user_seal(const struct bw_user *u, struct bw_user *out)
{
	*out = *u;
	out->pii = NULL;
	out->pii_len = 0;
	bw_result r = bw_user_seal_pii(u, &out->pii, &out->pii_len);
	memset(out->first_name, 0, sizeof(out->first_name));
	memset(out->last_name, 0, sizeof(out->last_name));
	memset(out->email, 0, sizeof(out->email));
	return r;
}

static void user_sealed_done(struct bw_user *sealed)
{
	free(sealed->pii);
	sealed->pii = NULL;
}

bw_result bw_store_open(struct bw_store **out, const char *db_path, enum bw_durability d)
{
	return bw_store__sqlite_ops.open(out, db_path, d);
}

void bw_store_close(struct bw_store *s)
{
	if (s)
		s->ops->close(s);
}

bw_result bw_store_migrate(struct bw_store *s, int *version)
{
	return s->ops->migrate(s, version);
}

bw_result bw_store_ping(struct bw_store *s)
{
	return s->ops->ping(s);
}

bw_result bw_store_batch_begin(struct bw_store *s)
{
	return s->ops->batch_begin(s);
}

bw_result bw_store_batch_end(struct bw_store *s, bw_result r)
{
	return s->ops->batch_end(s, r);
}

bw_result bw_store_platform_key_insert(struct bw_store *s, const struct bw_platform_key *k,
                                       const uint8_t hash[32])
{
	return s->ops->pk_insert(s, k, hash);
}

bw_result bw_store_platform_key_find(struct bw_store *s, const uint8_t hash[32],
                                     struct bw_platform_key *out)
{
	return s->ops->pk_find(s, hash, out);
}

bw_result bw_store_platform_key_list(struct bw_store *s, const char *after,
                                     struct bw_platform_key *out, size_t max, size_t *n)
{
	return s->ops->pk_list(s, after, out, max, n);
}

bw_result bw_store_platform_key_revoke(struct bw_store *s, const char *id, long long now)
{
	bw_result r = s->ops->pk_revoke(s, id, now);
	auth_changed();
	return r;
}

bw_result bw_store_instance_create(struct bw_store *s, const struct bw_instance *in,
                                   const struct bw_profile *profiles, size_t nprof,
                                   const struct bw_user *admin, const char *admin_profile_id)
{
	struct bw_user sealed;
	bw_result r = user_seal(admin, &sealed);
	if (r == BW_OK)
		r = s->ops->instance_create(s, in, profiles, nprof, &sealed, admin_profile_id);
	s->ops->release(s);
	user_sealed_done(&sealed);
	return r;
}

bw_result bw_store_instance_get(struct bw_store *s, const char *id, struct bw_instance *out)
{
	bw_result r = s->ops->instance_get(s, id, out);
	s->ops->release(s);
	return r;
}

bw_result bw_store_instance_list(struct bw_store *s, const char *after, struct bw_instance *out,
                                 size_t max, size_t *n)
{
	bw_result r = s->ops->instance_list(s, after, out, max, n);
	s->ops->release(s);
	return r;
}

bw_result bw_store_instance_update(struct bw_store *s, const struct bw_instance *in)
{
	bw_result r = s->ops->instance_update(s, in);
	s->ops->release(s);
	auth_changed();
	return r;
}

bw_result bw_store_instance_delete(struct bw_store *s, const char *id)
{
	bw_result r = s->ops->instance_delete(s, id);
	s->ops->release(s);
	auth_changed();
	return r;
}

bw_result bw_store_profile_insert(struct bw_store *s, const struct bw_profile *p)
{
	bw_result r = s->ops->profile_insert(s, p);
	s->ops->release(s);
	return r;
}

bw_result bw_store_profile_get(struct bw_store *s, const char *iid, const char *id,
                               struct bw_profile *out)
{
	bw_result r = s->ops->profile_get(s, iid, id, out);
	s->ops->release(s);
	return r;
}

bw_result bw_store_profile_list(struct bw_store *s, const char *iid, const char *after,
                                struct bw_profile *out, size_t max, size_t *n)
{
	bw_result r = s->ops->profile_list(s, iid, after, out, max, n);
	s->ops->release(s);
	return r;
}

bw_result bw_store_profile_update(struct bw_store *s, const struct bw_profile *p)
{
	bw_result r = s->ops->profile_update(s, p);
	s->ops->release(s);
	auth_changed();
	return r;
}

bw_result bw_store_profile_delete(struct bw_store *s, const char *iid, const char *id)
{
	bw_result r = s->ops->profile_delete(s, iid, id);
	s->ops->release(s);
	auth_changed();
	return r;
}

bw_result bw_store_user_insert(struct bw_store *s, const struct bw_user *u, char **profile_ids,
                               size_t nids)
{
	struct bw_user sealed;
	bw_result r = user_seal(u, &sealed);
	if (r == BW_OK)
		r = s->ops->user_insert(s, &sealed, profile_ids, nids);
	s->ops->release(s);
	user_sealed_done(&sealed);
	return r;
}

bw_result bw_store_user_get(struct bw_store *s, const char *iid, const char *id,
                            struct bw_user *out)
{
	bw_result r = s->ops->user_get(s, iid, id, out);
	s->ops->release(s);
	if (r == BW_OK)
		bw_user_open_pii(out);
	return r;
}

bw_result bw_store_user_by_name(struct bw_store *s, const char *iid, const char *username,
                                struct bw_user *out)
{
	bw_result r = s->ops->user_by_name(s, iid, username, out);
	s->ops->release(s);
	if (r == BW_OK)
		bw_user_open_pii(out);
	return r;
}

bw_result bw_store_user_list(struct bw_store *s, const char *iid, const char *after,
                             struct bw_user *out, size_t max, size_t *n)
{
	bw_result r = s->ops->user_list(s, iid, after, out, max, n);
	s->ops->release(s);
	for (size_t i = 0; r == BW_OK && i < *n; i++)
		bw_user_open_pii(&out[i]);
	return r;
}

bw_result bw_store_user_update(struct bw_store *s, const struct bw_user *u, char **profile_ids,
                               size_t nids)
{
	struct bw_user sealed;
	bw_result r = user_seal(u, &sealed);
	if (r == BW_OK)
		r = s->ops->user_update(s, &sealed, profile_ids, nids);
	s->ops->release(s);
	user_sealed_done(&sealed);
	auth_changed();
	return r;
}

bw_result bw_store_user_delete(struct bw_store *s, const char *iid, const char *id)
{
	bw_result r = s->ops->user_delete(s, iid, id);
	s->ops->release(s);
	auth_changed();
	return r;
}

bw_result bw_store_user_profiles(struct bw_store *s, const char *iid, const char *uid,
                                 struct bw_profile *out, size_t max, size_t *n)
{
	bw_result r = s->ops->user_profiles(s, iid, uid, out, max, n);
	s->ops->release(s);
	return r;
}

bw_result bw_store_user_mfa_step(struct bw_store *s, const char *iid, const char *uid,
                                 long long step)
{
	bw_result r = s->ops->user_mfa_step(s, iid, uid, step);
	s->ops->release(s);
	return r;
}

bw_result bw_store_recovery_codes_set(struct bw_store *s, const char *iid, const char *uid,
                                      const uint8_t (*hashes)[32], size_t n)
{
	bw_result r = s->ops->recovery_codes_set(s, iid, uid, hashes, n);
	s->ops->release(s);
	return r;
}

bw_result bw_store_recovery_code_use(struct bw_store *s, const char *iid, const char *uid,
                                     const uint8_t hash[32], long long now)
{
	bw_result r = s->ops->recovery_code_use(s, iid, uid, hash, now);
	s->ops->release(s);
	return r;
}

bw_result bw_store_session_insert(struct bw_store *s, const struct bw_session *se,
                                  const uint8_t hash[32])
{
	bw_result r = s->ops->session_insert(s, se, hash);
	s->ops->release(s);
	return r;
}

bw_result bw_store_session_find(struct bw_store *s, const uint8_t hash[32], struct bw_session *out)
{
	bw_result r = s->ops->session_find(s, hash, out);
	s->ops->release(s);
	return r;
}

bw_result bw_store_session_touch(struct bw_store *s, const char *id, long long now)
{
	bw_result r = s->ops->session_touch(s, id, now);
	s->ops->release(s);
	return r;
}

bw_result bw_store_session_revoke(struct bw_store *s, const char *iid, const char *uid,
                                  const char *id, long long now)
{
	bw_result r = s->ops->session_revoke(s, iid, uid, id, now);
	s->ops->release(s);
	auth_changed();
	return r;
}

bw_result bw_store_session_revoke_user(struct bw_store *s, const char *iid, const char *uid,
                                       long long now)
{
	bw_result r = s->ops->session_revoke_user(s, iid, uid, now);
	s->ops->release(s);
	auth_changed();
	return r;
}

bw_result bw_store_session_list(struct bw_store *s, const char *iid, const char *uid, long long now, long long seen_after, const char *after,
                                struct bw_session *out, size_t max, size_t *n)
{
	bw_result r = s->ops->session_list(s, iid, uid, now, seen_after, after, out, max, n);
	s->ops->release(s);
	return r;
}

bw_result bw_store_failures_get(struct bw_store *s, const char *key, struct bw_failures *out)
{
	bw_result r = s->ops->failures_get(s, key, out);
	s->ops->release(s);
	return r;
}

bw_result bw_store_failures_put(struct bw_store *s, const char *key, const struct bw_failures *f)
{
	bw_result r = s->ops->failures_put(s, key, f);
	s->ops->release(s);
	return r;
}

bw_result bw_store_failures_clear(struct bw_store *s, const char *key)
{
	bw_result r = s->ops->failures_clear(s, key);
	s->ops->release(s);
	return r;
}

bw_result bw_store_audit_append(struct bw_store *s, const struct bw_audit_event *ev, size_t n,
                                const struct bw_audit_head *heads, size_t nheads)
{
	bw_result r = s->ops->audit_append(s, ev, n, heads, nheads);
	s->ops->release(s);
	return r;
}

bw_result bw_store_audit_head(struct bw_store *s, const char *chain, struct bw_audit_head *out)
{
	bw_result r = s->ops->audit_head(s, chain, out);
	s->ops->release(s);
	return r;
}

bw_result bw_store_audit_list(struct bw_store *s, const struct bw_audit_filter *f,
                              struct bw_audit_event *out, size_t max, size_t *n)
{
	bw_result r = s->ops->audit_list(s, f, out, max, n);
	s->ops->release(s);
	return r;
}

bw_result bw_store_audit_scan(struct bw_store *s, const char *chain, bw_audit_cb *cb, void *arg)
{
	bw_result r = s->ops->audit_scan(s, chain, cb, arg);
	s->ops->release(s);
	return r;
}

bw_result bw_store_audit_chains(struct bw_store *s, char (*out)[48], size_t max, size_t *n)
{
	bw_result r = s->ops->audit_chains(s, out, max, n);
	s->ops->release(s);
	return r;
}

void bw_instance_clear(struct bw_instance *i)
{
	free(i->settings);
	i->settings = NULL;
}

void bw_profile_clear(struct bw_profile *p)
{
	free(p->permissions);
	p->permissions = NULL;
}

void bw_user_clear(struct bw_user *u)
{
	free(u->password_hash);
	free(u->mfa_secret);
	free(u->pii);
	u->password_hash = NULL;
	u->mfa_secret = NULL;
	u->mfa_secret_len = 0;
	u->pii = NULL;
	u->pii_len = 0;
}

/* routing */
bw_result bw_store_hoo_insert(struct bw_store *s, const struct bw_hoo *h)
{
	bw_result r = s->ops->hoo_insert(s, h);
	s->ops->release(s);
	return r;
}

bw_result bw_store_hoo_get(struct bw_store *s, const char *iid, const char *id,
                           struct bw_hoo *out)
{
	bw_result r = s->ops->hoo_get(s, iid, id, out);
	s->ops->release(s);
	return r;
}

bw_result bw_store_hoo_list(struct bw_store *s, const char *iid, const char *after,
                            struct bw_hoo *out, size_t max, size_t *n)
{
	bw_result r = s->ops->hoo_list(s, iid, after, out, max, n);
	s->ops->release(s);
	return r;
}

bw_result bw_store_hoo_update(struct bw_store *s, const struct bw_hoo *h)
{
	bw_result r = s->ops->hoo_update(s, h);
	s->ops->release(s);
	return r;
}

bw_result bw_store_hoo_delete(struct bw_store *s, const char *iid, const char *id)
{
	bw_result r = s->ops->hoo_delete(s, iid, id);
	s->ops->release(s);
	return r;
}

bw_result bw_store_queue_insert(struct bw_store *s, const struct bw_queue *q)
{
	bw_result r = s->ops->queue_insert(s, q);
	s->ops->release(s);
	return r;
}

bw_result bw_store_queue_get(struct bw_store *s, const char *iid, const char *id,
                             struct bw_queue *out)
{
	bw_result r = s->ops->queue_get(s, iid, id, out);
	s->ops->release(s);
	return r;
}

bw_result bw_store_queue_list(struct bw_store *s, const char *iid, const char *after,
                              struct bw_queue *out, size_t max, size_t *n)
{
	bw_result r = s->ops->queue_list(s, iid, after, out, max, n);
	s->ops->release(s);
	return r;
}

bw_result bw_store_queue_update(struct bw_store *s, const struct bw_queue *q)
{
	bw_result r = s->ops->queue_update(s, q);
	s->ops->release(s);
	return r;
}

bw_result bw_store_queue_delete(struct bw_store *s, const char *iid, const char *id)
{
	bw_result r = s->ops->queue_delete(s, iid, id);
	s->ops->release(s);
	return r;
}

bw_result bw_store_rp_insert(struct bw_store *s, const struct bw_routing_profile *p)
{
	bw_result r = s->ops->rp_insert(s, p);
	s->ops->release(s);
	return r;
}

bw_result bw_store_rp_get(struct bw_store *s, const char *iid, const char *id,
                          struct bw_routing_profile *out)
{
	bw_result r = s->ops->rp_get(s, iid, id, out);
	s->ops->release(s);
	return r;
}

bw_result bw_store_rp_list(struct bw_store *s, const char *iid, const char *after,
                           struct bw_routing_profile *out, size_t max, size_t *n)
{
	bw_result r = s->ops->rp_list(s, iid, after, out, max, n);
	s->ops->release(s);
	return r;
}

bw_result bw_store_rp_update(struct bw_store *s, const struct bw_routing_profile *p)
{
	bw_result r = s->ops->rp_update(s, p);
	s->ops->release(s);
	return r;
}

bw_result bw_store_rp_delete(struct bw_store *s, const char *iid, const char *id)
{
	bw_result r = s->ops->rp_delete(s, iid, id);
	s->ops->release(s);
	return r;
}

bw_result bw_store_ep_insert(struct bw_store *s, const struct bw_entry_point *e)
{
	bw_result r = s->ops->ep_insert(s, e);
	s->ops->release(s);
	return r;
}

bw_result bw_store_ep_get(struct bw_store *s, const char *iid, const char *id,
                          struct bw_entry_point *out)
{
	bw_result r = s->ops->ep_get(s, iid, id, out);
	s->ops->release(s);
	return r;
}

bw_result bw_store_ep_list(struct bw_store *s, const char *iid, const char *after,
                           struct bw_entry_point *out, size_t max, size_t *n)
{
	bw_result r = s->ops->ep_list(s, iid, after, out, max, n);
	s->ops->release(s);
	return r;
}

bw_result bw_store_ep_update(struct bw_store *s, const struct bw_entry_point *e)
{
	bw_result r = s->ops->ep_update(s, e);
	s->ops->release(s);
	return r;
}

bw_result bw_store_ep_delete(struct bw_store *s, const char *iid, const char *id)
{
	bw_result r = s->ops->ep_delete(s, iid, id);
	s->ops->release(s);
	return r;
}

void bw_hoo_clear(struct bw_hoo *h)
{
	free(h->config);
	free(h->holidays);
	h->config = h->holidays = NULL;
}

void bw_routing_profile_clear(struct bw_routing_profile *p)
{
	free(p->queues);
	p->queues = NULL;
	p->nqueues = 0;
}
/* end routing */

/* flows */
bw_result bw_store_flow_insert(struct bw_store *s, const struct bw_flow_def *f)
{
	bw_result r = s->ops->flow_insert(s, f);
	s->ops->release(s);
	return r;
}

bw_result bw_store_flow_get(struct bw_store *s, const char *iid, const char *id,
                            struct bw_flow_def *out)
{
	bw_result r = s->ops->flow_get(s, iid, id, out);
	s->ops->release(s);
	return r;
}

bw_result bw_store_flow_list(struct bw_store *s, const char *iid, const char *after,
                             struct bw_flow_def *out, size_t max, size_t *n)
{
	bw_result r = s->ops->flow_list(s, iid, after, out, max, n);
	s->ops->release(s);
	return r;
}

bw_result bw_store_flow_update(struct bw_store *s, const struct bw_flow_def *f)
{
	bw_result r = s->ops->flow_update(s, f);
	s->ops->release(s);
	return r;
}

bw_result bw_store_flow_delete(struct bw_store *s, const char *iid, const char *id)
{
	bw_result r = s->ops->flow_delete(s, iid, id);
	s->ops->release(s);
	return r;
}

bw_result bw_store_flow_publish(struct bw_store *s, struct bw_flow_version *v)
{
	bw_result r = s->ops->flow_publish(s, v);
	s->ops->release(s);
	return r;
}

bw_result bw_store_flow_version_get(struct bw_store *s, const char *iid, const char *fid,
                                    long long version, struct bw_flow_version *out)
{
	bw_result r = s->ops->flow_version_get(s, iid, fid, version, out);
	s->ops->release(s);
	return r;
}

bw_result bw_store_flow_version_list(struct bw_store *s, const char *iid, const char *fid,
                                     long long after, struct bw_flow_version *out, size_t max,
                                     size_t *n)
{
	bw_result r = s->ops->flow_version_list(s, iid, fid, after, out, max, n);
	s->ops->release(s);
	return r;
}

void bw_flow_def_clear(struct bw_flow_def *f)
{
	free(f->content);
	f->content = NULL;
}

void bw_flow_version_clear(struct bw_flow_version *v)
{
	free(v->content);
	v->content = NULL;
}
/* end flows */

/* contacts */
bw_result bw_store_contact_put(struct bw_store *s, const struct bw_contact *c,
                               const uint8_t token_hash[32])
{
	bw_result r = s->ops->contact_put(s, c, token_hash);
	s->ops->release(s);
	return r;
}

bw_result bw_store_contact_get(struct bw_store *s, const char *iid, const char *id,
                               struct bw_contact *out)
{
	bw_result r = s->ops->contact_get(s, iid, id, out);
	s->ops->release(s);
	return r;
}

bw_result bw_store_contact_by_token(struct bw_store *s, const uint8_t hash[32],
                                    struct bw_contact *out)
{
	bw_result r = s->ops->contact_by_token(s, hash, out);
	s->ops->release(s);
	return r;
}

bw_result bw_store_contact_search(struct bw_store *s, const struct bw_contact_filter *f,
                                  struct bw_contact *out, size_t max, size_t *n)
{
	bw_result r = s->ops->contact_search(s, f, out, max, n);
	s->ops->release(s);
	return r;
}

bw_result bw_store_contacts_live(struct bw_store *s, bw_contact_cb *cb, void *arg)
{
	bw_result r = s->ops->contacts_live(s, cb, arg);
	s->ops->release(s);
	return r;
}

bw_result bw_store_contacts_end_live(struct bw_store *s, const char *reason, long long now_ms,
                                     size_t *n)
{
	bw_result r = s->ops->contacts_end_live(s, reason, now_ms, n);
	s->ops->release(s);
	return r;
}

bw_result bw_store_message_insert(struct bw_store *s, const struct bw_contact_message *m)
{
	bw_result r = s->ops->message_insert(s, m);
	s->ops->release(s);
	return r;
}

bw_result bw_store_message_list(struct bw_store *s, const char *iid, const char *cid,
                                long long after, struct bw_contact_message *out, size_t max,
                                size_t *n)
{
	bw_result r = s->ops->message_list(s, iid, cid, after, out, max, n);
	s->ops->release(s);
	return r;
}

bw_result bw_store_flow_log_append(struct bw_store *s, const struct bw_flow_log_entry *e,
                                   size_t n)
{
	bw_result r = s->ops->flow_log_append(s, e, n);
	s->ops->release(s);
	return r;
}

bw_result bw_store_flow_log_list(struct bw_store *s, const char *iid, const char *cid,
                                 long long after, struct bw_flow_log_entry *out, size_t max,
                                 size_t *n)
{
	bw_result r = s->ops->flow_log_list(s, iid, cid, after, out, max, n);
	s->ops->release(s);
	return r;
}

void bw_contact_clear(struct bw_contact *c)
{
	free(c->customer);
	c->customer = NULL;
	c->customer_len = 0;
}

void bw_contact_message_clear(struct bw_contact_message *m)
{
	free(m->content);
	m->content = NULL;
	m->content_len = 0;
}
/* end contacts */

/* integrations */
bw_result bw_store_integration_insert(struct bw_store *s, const struct bw_integration_row *r)
{
	bw_result res = s->ops->integration_insert(s, r);
	s->ops->release(s);
	return res;
}

bw_result bw_store_integration_get(struct bw_store *s, const char *iid, const char *id,
                                   struct bw_integration_row *out)
{
	bw_result res = s->ops->integration_get(s, iid, id, out);
	s->ops->release(s);
	return res;
}

bw_result bw_store_integration_list(struct bw_store *s, const char *iid, const char *after,
                                    long long unused_before, struct bw_integration_row *out,
                                    size_t max, size_t *n)
{
	bw_result res = s->ops->integration_list(s, iid, after, unused_before, out, max, n);
	s->ops->release(s);
	return res;
}

bw_result bw_store_integration_update(struct bw_store *s, const struct bw_integration_row *r)
{
	bw_result res = s->ops->integration_update(s, r);
	s->ops->release(s);
	return res;
}

bw_result bw_store_integration_delete(struct bw_store *s, const char *iid, const char *id)
{
	bw_result res = s->ops->integration_delete(s, iid, id);
	s->ops->release(s);
	return res;
}

bw_result bw_store_integration_touch(struct bw_store *s, const char *iid, const char *id,
                                     long long at)
{
	bw_result res = s->ops->integration_touch(s, iid, id, at);
	s->ops->release(s);
	return res;
}

void bw_integration_row_clear(struct bw_integration_row *r)
{
	free(r->base_url);
	free(r->config);
	r->base_url = r->config = NULL;
}
/* end integrations */

/* event subscriptions */
bw_result bw_store_event_sub_insert(struct bw_store *s, const struct bw_event_sub_row *r)
{
	bw_result res = s->ops->event_sub_insert(s, r);
	s->ops->release(s);
	return res;
}

bw_result bw_store_event_sub_get(struct bw_store *s, const char *iid, const char *id, struct bw_event_sub_row *out)
{
	bw_result res = s->ops->event_sub_get(s, iid, id, out);
	s->ops->release(s);
	return res;
}

bw_result bw_store_event_sub_list(struct bw_store *s, const char *iid, const char *after, bool enabled_only, struct bw_event_sub_row *out, size_t max, size_t *n)
{
	bw_result res = s->ops->event_sub_list(s, iid, after, enabled_only, out, max, n);
	s->ops->release(s);
	return res;
}

bw_result bw_store_event_sub_update(struct bw_store *s, const struct bw_event_sub_row *r)
{
	bw_result res = s->ops->event_sub_update(s, r);
	s->ops->release(s);
	return res;
}

bw_result bw_store_event_sub_delete(struct bw_store *s, const char *iid, const char *id)
{
	bw_result res = s->ops->event_sub_delete(s, iid, id);
	s->ops->release(s);
	return res;
}

bw_result bw_store_outbox_insert(struct bw_store *s, const struct bw_outbox_row *rows, size_t n)
{
	bw_result res = s->ops->outbox_insert(s, rows, n);
	s->ops->release(s);
	return res;
}

bw_result bw_store_outbox_due(struct bw_store *s, const char *sid, long long now,
                             struct bw_outbox_row *out, size_t max, size_t *n)
{
	bw_result res = s->ops->outbox_due(s, sid, now, out, max, n);
	s->ops->release(s);
	return res;
}

bw_result bw_store_outbox_subs(struct bw_store *s, const char *sink, struct bw_outbox_sub *out,
                               size_t max, size_t *n)
{
	bw_result res = s->ops->outbox_subs(s, sink, out, max, n);
	s->ops->release(s);
	return res;
}

bw_result bw_store_outbox_due_now(struct bw_store *s, long long now, long long *n)
{
	bw_result res = s->ops->outbox_due_now(s, now, n);
	s->ops->release(s);
	return res;
}

bw_result bw_store_outbox_lease(struct bw_store *s, const long long *seqs, size_t n,
                                long long until)
{
	bw_result res = s->ops->outbox_lease(s, seqs, n, until);
	s->ops->release(s);
	return res;
}

bw_result bw_store_outbox_settle(struct bw_store *s, const struct bw_outbox_result *out, size_t n, long long now)
{
	bw_result res = s->ops->outbox_settle(s, out, n, now);
	s->ops->release(s);
	return res;
}

bw_result bw_store_outbox_counts(struct bw_store *s, const char *iid, const char *sid, long long *pending, long long *dead)
{
	bw_result res = s->ops->outbox_counts(s, iid, sid, pending, dead);
	s->ops->release(s);
	return res;
}

bw_result bw_store_outbox_dead_list(struct bw_store *s, const char *iid, const char *sid, long long after, struct bw_outbox_row *out, size_t max, size_t *n)
{
	bw_result res = s->ops->outbox_dead_list(s, iid, sid, after, out, max, n);
	s->ops->release(s);
	return res;
}

bw_result bw_store_outbox_dead_requeue(struct bw_store *s, const char *iid, const char *sid, long long now, long long *n)
{
	bw_result res = s->ops->outbox_dead_requeue(s, iid, sid, now, n);
	s->ops->release(s);
	return res;
}

bw_result bw_store_outbox_dead_delete(struct bw_store *s, const char *iid, const char *sid, long long *n)
{
	bw_result res = s->ops->outbox_dead_delete(s, iid, sid, n);
	s->ops->release(s);
	return res;
}

bw_result bw_store_outbox_dead_expire(struct bw_store *s, long long before, long long *n)
{
	bw_result res = s->ops->outbox_dead_expire(s, before, n);
	s->ops->release(s);
	return res;
}

void bw_event_sub_row_clear(struct bw_event_sub_row *r)
{
	free(r->config);
	r->config = NULL;
}

void bw_outbox_row_clear(struct bw_outbox_row *r)
{
	free(r->payload);
	r->payload = NULL;
	r->payload_len = 0;
}
/* end event subscriptions */

/* approved origins */
bw_result bw_store_origin_used(struct bw_store *s, const char *iid, const char *origin,
                               long long at)
{
	bw_result res = s->ops->origin_used(s, iid, origin, at);
	s->ops->release(s);
	return res;
}

bw_result bw_store_origin_seen(struct bw_store *s, const char *iid, const char *origin,
                               long long at, struct bw_origin_use *out)
{
	bw_result res = s->ops->origin_seen(s, iid, origin, at, out);
	s->ops->release(s);
	return res;
}

/* fraud */
bw_result bw_store_deny_insert(struct bw_store *s, const struct bw_deny_row *d)
{
	bw_result r = s->ops->deny_insert(s, d);
	s->ops->release(s);
	return r;
}

bw_result bw_store_deny_insert_many(struct bw_store *s, const struct bw_deny_row *d, size_t n)
{
	bw_result r = s->ops->deny_insert_many(s, d, n);
	s->ops->release(s);
	return r;
}

bw_result bw_store_deny_get(struct bw_store *s, const char *iid, const char *id,
                            struct bw_deny_row *out)
{
	bw_result r = s->ops->deny_get(s, iid, id, out);
	s->ops->release(s);
	return r;
}

bw_result bw_store_deny_list(struct bw_store *s, const struct bw_deny_filter *f,
                             struct bw_deny_row *out, size_t max, size_t *n)
{
	bw_result r = s->ops->deny_list(s, f, out, max, n);
	s->ops->release(s);
	return r;
}

bw_result bw_store_deny_update(struct bw_store *s, const struct bw_deny_row *d)
{
	bw_result r = s->ops->deny_update(s, d);
	s->ops->release(s);
	return r;
}

bw_result bw_store_deny_delete(struct bw_store *s, const char *iid, const char *id)
{
	bw_result r = s->ops->deny_delete(s, iid, id);
	s->ops->release(s);
	return r;
}

bw_result bw_store_deny_scan(struct bw_store *s, long long now_ms, bw_deny_cb *cb, void *arg)
{
	bw_result r = s->ops->deny_scan(s, now_ms, cb, arg);
	s->ops->release(s);
	return r;
}

bw_result bw_store_deny_purge(struct bw_store *s, long long now_ms)
{
	bw_result r = s->ops->deny_purge(s, now_ms);
	s->ops->release(s);
	return r;
}

bw_result bw_store_history_add(struct bw_store *s, const struct bw_history_row *h, size_t n)
{
	bw_result r = s->ops->history_add(s, h, n);
	s->ops->release(s);
	return r;
}

bw_result bw_store_history_scan(struct bw_store *s, long long since_ms, bw_history_cb *cb,
                               void *arg)
{
	bw_result r = s->ops->history_scan(s, since_ms, cb, arg);
	s->ops->release(s);
	return r;
}

bw_result bw_store_history_purge(struct bw_store *s, long long before_ms)
{
	bw_result r = s->ops->history_purge(s, before_ms);
	s->ops->release(s);
	return r;
}

bw_result bw_store_filter_get(struct bw_store *s, const char *iid, char **json)
{
	bw_result r = s->ops->filter_get(s, iid, json);
	s->ops->release(s);
	return r;
}

bw_result bw_store_filter_put(struct bw_store *s, const char *iid, const char *json)
{
	bw_result r = s->ops->filter_put(s, iid, json);
	s->ops->release(s);
	return r;
}

bw_result bw_store_filter_scan(struct bw_store *s, bw_filter_cb *cb, void *arg)
{
	bw_result r = s->ops->filter_scan(s, cb, arg);
	s->ops->release(s);
	return r;
}
/* end fraud */

/* secrets */
bw_result bw_store_secret_insert(struct bw_store *s, const struct bw_secret *sec,
                                 const uint8_t *sealed, size_t n)
{
	bw_result r = s->ops->secret_insert(s, sec, sealed, n);
	s->ops->release(s);
	return r;
}

bw_result bw_store_secret_get(struct bw_store *s, const char *iid, const char *id,
                              struct bw_secret *out)
{
	bw_result r = s->ops->secret_get(s, iid, id, out);
	s->ops->release(s);
	return r;
}

bw_result bw_store_secret_list(struct bw_store *s, const char *iid, const char *name,
                               const char *after, struct bw_secret *out, size_t max, size_t *n)
{
	bw_result r = s->ops->secret_list(s, iid, name, after, out, max, n);
	s->ops->release(s);
	return r;
}

bw_result bw_store_secret_rotate(struct bw_store *s, const char *iid, const char *id,
                                 long long from, const uint8_t *sealed, size_t n, long long now,
                                 long long until, struct bw_secret *out)
{
	bw_result r = s->ops->secret_rotate(s, iid, id, from, sealed, n, now, until, out);
	s->ops->release(s);
	return r;
}

bw_result bw_store_secret_delete(struct bw_store *s, const char *iid, const char *id)
{
	bw_result r = s->ops->secret_delete(s, iid, id);
	s->ops->release(s);
	return r;
}

bw_result bw_store_secret_blob(struct bw_store *s, const char *iid, const char *name,
                               long long version, long long now, struct bw_secret_blob *out)
{
	bw_result r = s->ops->secret_blob(s, iid, name, version, now, out);
	s->ops->release(s);
	return r;
}

void bw_secret_blob_clear(struct bw_secret_blob *b)
{
	free(b->value);
	b->value = NULL;
	b->len = 0;
}

bw_result bw_store_signing_key_list(struct bw_store *s, const char *iid,
                                    struct bw_signing_key *out, size_t max, size_t *n)
{
	bw_result r = s->ops->signing_key_list(s, iid, out, max, n);
	s->ops->release(s);
	return r;
}

bw_result bw_store_signing_key_get(struct bw_store *s, const char *iid, const char *kid,
                                   struct bw_signing_key *out)
{
	bw_result r = s->ops->signing_key_get(s, iid, kid, out);
	s->ops->release(s);
	return r;
}

bw_result bw_store_signing_key_add(struct bw_store *s, const struct bw_signing_key *k,
                                   const char *newest_kid, long long purge_before)
{
	bw_result r = s->ops->signing_key_add(s, k, newest_kid, purge_before);
	s->ops->release(s);
	return r;
}

void bw_signing_key_clear(struct bw_signing_key *k)
{
	free(k->private_key);
	k->private_key = NULL;
	k->private_len = 0;
}
/* end secrets */

/* encryption keys */
bw_result bw_store_enckey_insert(struct bw_store *s, const struct bw_enckey *k)
{
	bw_result r = s->ops->enckey_insert(s, k);
	s->ops->release(s);
	return r;
}

bw_result bw_store_enckey_get(struct bw_store *s, const char *iid, const char *key_id,
                              struct bw_enckey *out)
{
	bw_result r = s->ops->enckey_get(s, iid, key_id, out);
	s->ops->release(s);
	return r;
}

bw_result bw_store_enckey_list(struct bw_store *s, const char *iid, const char *after,
                               struct bw_enckey *out, size_t max, size_t *n)
{
	bw_result r = s->ops->enckey_list(s, iid, after, out, max, n);
	s->ops->release(s);
	return r;
}

bw_result bw_store_enckey_set_status(struct bw_store *s, const char *iid, const char *key_id,
                                     const char *status, long long now_ms)
{
	bw_result r = s->ops->enckey_set_status(s, iid, key_id, status, now_ms);
	s->ops->release(s);
	return r;
}

bw_result bw_store_enckey_delete(struct bw_store *s, const char *iid, const char *key_id)
{
	bw_result r = s->ops->enckey_delete(s, iid, key_id);
	s->ops->release(s);
	return r;
}

bw_result bw_store_enckey_active(struct bw_store *s, const char *iid,
                                 struct bw_enckey out[BW_ENCKEY_MAX_ACTIVE], size_t *n)
{
	bw_result r = s->ops->enckey_active(s, iid, out, BW_ENCKEY_MAX_ACTIVE, n);
	s->ops->release(s);
	return r;
}

void bw_enckey_clear(struct bw_enckey *k)
{
	free(k->public_key);
	k->public_key = NULL;
}
/* end encryption keys */

/* keys */
bw_result bw_store_kek_list(struct bw_store *s, const char *iid, struct bw_kek_row *out, size_t max, size_t *n)
{
	bw_result r = s->ops->kek_list(s, iid, out, max, n);
	s->ops->release(s);
	return r;
}

bw_result bw_store_kek_insert(struct bw_store *s, const struct bw_kek_row *k)
{
	bw_result r = s->ops->kek_insert(s, k);
	s->ops->release(s);
	return r;
}

bw_result bw_store_keys_destroyed(struct bw_store *s, const char *iid)
{
	bw_result r = s->ops->keys_destroyed(s, iid);
	s->ops->release(s);
	return r;
}

bw_result bw_store_dk_insert(struct bw_store *s, const struct bw_dk_row *d)
{
	bw_result r = s->ops->dk_insert(s, d);
	s->ops->release(s);
	return r;
}

bw_result bw_store_dk_get(struct bw_store *s, const char *iid, uint32_t id, struct bw_dk_row *out)
{
	bw_result r = s->ops->dk_get(s, iid, id, out);
	s->ops->release(s);
	return r;
}

bw_result bw_store_dk_newest(struct bw_store *s, const char *iid, struct bw_dk_row *out)
{
	bw_result r = s->ops->dk_newest(s, iid, out);
	s->ops->release(s);
	return r;
}

bw_result bw_store_dk_count(struct bw_store *s, const char *iid, long long *n)
{
	bw_result r = s->ops->dk_count(s, iid, n);
	s->ops->release(s);
	return r;
}

bw_result bw_store_dk_stale(struct bw_store *s, const char *iid, const char *kek_id, uint32_t after, struct bw_dk_row *out, size_t max, size_t *n)
{
	bw_result r = s->ops->dk_stale(s, iid, kek_id, after, out, max, n);
	s->ops->release(s);
	return r;
}

bw_result bw_store_dk_rewrap(struct bw_store *s, const char *iid, const char *rid, const struct bw_dk_rewrap *w, size_t n)
{
	bw_result r = s->ops->dk_rewrap(s, iid, rid, w, n);
	s->ops->release(s);
	return r;
}

bw_result bw_store_rotation_start(struct bw_store *s, const struct bw_kek_row *k,
                                  struct bw_key_rotation *rot)
{
	bw_result r = s->ops->rotation_start(s, k, rot);
	s->ops->release(s);
	return r;
}

bw_result bw_store_rotation_last(struct bw_store *s, const char *iid, struct bw_key_rotation *out)
{
	bw_result r = s->ops->rotation_last(s, iid, out);
	s->ops->release(s);
	return r;
}

bw_result bw_store_rotation_running(struct bw_store *s, struct bw_key_rotation *out, size_t max, size_t *n)
{
	bw_result r = s->ops->rotation_running(s, out, max, n);
	s->ops->release(s);
	return r;
}

bw_result bw_store_rotation_finish(struct bw_store *s, const char *iid, const char *rid, long long now, struct bw_key_rotation *out)
{
	bw_result r = s->ops->rotation_finish(s, iid, rid, now, out);
	s->ops->release(s);
	return r;
}

bw_result bw_store_keys_destroy(struct bw_store *s, const char *iid, long long now)
{
	bw_result r = s->ops->keys_destroy(s, iid, now);
	s->ops->release(s);
	return r;
}

bw_result bw_store_import_key_get(struct bw_store *s, struct bw_import_key *out)
{
	bw_result r = s->ops->import_key_get(s, out);
	s->ops->release(s);
	return r;
}

bw_result bw_store_import_key_insert(struct bw_store *s, const struct bw_import_key *k)
{
	bw_result r = s->ops->import_key_insert(s, k);
	s->ops->release(s);
	return r;
}

bw_result bw_store_import_token_insert(struct bw_store *s, const uint8_t hash[32], const char *iid, const char *key_id, long long expires_at, long long now)
{
	bw_result r = s->ops->import_token_insert(s, hash, iid, key_id, expires_at, now);
	s->ops->release(s);
	return r;
}

bw_result bw_store_import_token_take(struct bw_store *s, const uint8_t hash[32], const char *iid, long long now, char key_id[48])
{
	bw_result r = s->ops->import_token_take(s, hash, iid, now, key_id);
	s->ops->release(s);
	return r;
}

bw_result bw_store_keys_harden(struct bw_store *s)
{
	bw_result r = s->ops->keys_harden(s);
	s->ops->release(s);
	return r;
}

bw_result bw_store_wal_purge(struct bw_store *s)
{
	bw_result r = s->ops->wal_purge(s);
	s->ops->release(s);
	return r;
}

bw_result bw_store_sealed_page(struct bw_store *s, enum bw_sealed_col col, long long after, struct bw_sealed_item *out, size_t max, size_t *n)
{
	bw_result r = s->ops->sealed_page(s, col, after, out, max, n);
	s->ops->release(s);
	return r;
}

bw_result bw_store_sealed_put(struct bw_store *s, enum bw_sealed_col col, const struct bw_sealed_item *items, size_t n)
{
	bw_result r = s->ops->sealed_put(s, col, items, n);
	s->ops->release(s);
	return r;
}

bw_result bw_store_keyring_task(struct bw_store *s, const char *name)
{
	bw_result r = s->ops->keyring_task(s, name);
	s->ops->release(s);
	return r;
}

bw_result bw_store_keyring_task_done(struct bw_store *s, const char *name)
{
	bw_result r = s->ops->keyring_task_done(s, name);
	s->ops->release(s);
	return r;
}

void bw_import_key_clear(struct bw_import_key *k)
{
	free(k->public_key);
	free(k->wrapped_private);
	k->public_key = NULL;
	k->wrapped_private = NULL;
	k->wrapped_len = 0;
}
/* end keys */

bw_result bw_store_session_mfa_done(struct bw_store *s, const char *iid, const char *id)
{
	bw_result r = s->ops->session_mfa_done(s, iid, id);
	s->ops->release(s);
	auth_changed();
	return r;
}
