/* The SQLite backend's operations, assembled into its vtable in sqlite.c. */
#ifndef BW_SQLITE_OPS_H
#define BW_SQLITE_OPS_H

#include "store/sqlite_int.h"

bw_result bw_sq__instance_create(struct bw_store *s, const struct bw_instance *in,
                                 const struct bw_profile *profiles, size_t nprof,
                                 const struct bw_user *admin, const char *admin_profile_id);
bw_result bw_sq__instance_get(struct bw_store *s, const char *id, struct bw_instance *out);
bw_result bw_sq__instance_list(struct bw_store *s, const char *after, struct bw_instance *out,
                               size_t max, size_t *n);
bw_result bw_sq__instance_update(struct bw_store *s, const struct bw_instance *in);
bw_result bw_sq__instance_delete(struct bw_store *s, const char *id);
bw_result bw_sq__profile_insert(struct bw_store *s, const struct bw_profile *p);
bw_result bw_sq__profile_get(struct bw_store *s, const char *iid, const char *id,
                             struct bw_profile *out);
bw_result bw_sq__profile_list(struct bw_store *s, const char *iid, const char *after,
                              struct bw_profile *out, size_t max, size_t *n);
bw_result bw_sq__profile_update(struct bw_store *s, const struct bw_profile *p);
bw_result bw_sq__profile_delete(struct bw_store *s, const char *iid, const char *id);
bw_result bw_sq__user_insert(struct bw_store *s, const struct bw_user *u, char **profile_ids,
                             size_t nids);
bw_result bw_sq__user_get(struct bw_store *s, const char *iid, const char *id, struct bw_user *out);
bw_result bw_sq__user_by_name(struct bw_store *s, const char *iid, const char *username,
                              struct bw_user *out);
bw_result bw_sq__user_list(struct bw_store *s, const char *iid, const char *after,
                           struct bw_user *out, size_t max, size_t *n);
bw_result bw_sq__user_update(struct bw_store *s, const struct bw_user *u, char **profile_ids,
                             size_t nids);
bw_result bw_sq__user_delete(struct bw_store *s, const char *iid, const char *id);
bw_result bw_sq__user_profiles(struct bw_store *s, const char *iid, const char *uid,
                               struct bw_profile *out, size_t max, size_t *n);
bw_result bw_sq__user_mfa_step(struct bw_store *s, const char *iid, const char *uid,
                               long long step);
bw_result bw_sq__recovery_codes_set(struct bw_store *s, const char *iid, const char *uid,
                                    const uint8_t (*hashes)[32], size_t n);
bw_result bw_sq__recovery_code_use(struct bw_store *s, const char *iid, const char *uid,
                                   const uint8_t hash[32], long long now);
bw_result bw_sq__session_insert(struct bw_store *s, const struct bw_session *se,
                                const uint8_t hash[32]);
bw_result bw_sq__session_find(struct bw_store *s, const uint8_t hash[32], struct bw_session *out);
bw_result bw_sq__session_touch(struct bw_store *s, const char *id, long long now);
bw_result bw_sq__session_revoke(struct bw_store *s, const char *iid, const char *uid,
                                const char *id, long long now);
bw_result bw_sq__session_mfa_done(struct bw_store *s, const char *iid, const char *id);
bw_result bw_sq__session_revoke_user(struct bw_store *s, const char *iid, const char *uid,
                                     long long now);
bw_result bw_sq__session_list(struct bw_store *s, const char *iid, const char *uid, long long now, long long seen_after, const char *after,
                              struct bw_session *out, size_t max, size_t *n);
bw_result bw_sq__failures_get(struct bw_store *s, const char *key, struct bw_failures *out);
bw_result bw_sq__failures_put(struct bw_store *s, const char *key, const struct bw_failures *f);
bw_result bw_sq__failures_clear(struct bw_store *s, const char *key);
bw_result bw_sq__audit_append(struct bw_store *s, const struct bw_audit_event *ev, size_t n,
                              const struct bw_audit_head *heads, size_t nheads);
bw_result bw_sq__audit_head(struct bw_store *s, const char *chain, struct bw_audit_head *out);
bw_result bw_sq__audit_list(struct bw_store *s, const struct bw_audit_filter *f,
                            struct bw_audit_event *out, size_t max, size_t *n);
bw_result bw_sq__audit_scan(struct bw_store *s, const char *chain, bw_audit_cb *cb, void *arg);
bw_result bw_sq__audit_chains(struct bw_store *s, char (*out)[48], size_t max, size_t *n);
/* routing */
bw_result bw_sq__hoo_insert(struct bw_store *s, const struct bw_hoo *v);
bw_result bw_sq__hoo_get(struct bw_store *s, const char *iid, const char *id,
                         struct bw_hoo *out);
bw_result bw_sq__hoo_list(struct bw_store *s, const char *iid, const char *after,
                          struct bw_hoo *out, size_t max, size_t *n);
bw_result bw_sq__hoo_update(struct bw_store *s, const struct bw_hoo *v);
bw_result bw_sq__hoo_delete(struct bw_store *s, const char *iid, const char *id);
bw_result bw_sq__queue_insert(struct bw_store *s, const struct bw_queue *v);
bw_result bw_sq__queue_get(struct bw_store *s, const char *iid, const char *id,
                           struct bw_queue *out);
bw_result bw_sq__queue_list(struct bw_store *s, const char *iid, const char *after,
                            struct bw_queue *out, size_t max, size_t *n);
bw_result bw_sq__queue_update(struct bw_store *s, const struct bw_queue *v);
bw_result bw_sq__queue_delete(struct bw_store *s, const char *iid, const char *id);
bw_result bw_sq__rp_insert(struct bw_store *s, const struct bw_routing_profile *v);
bw_result bw_sq__rp_get(struct bw_store *s, const char *iid, const char *id,
                        struct bw_routing_profile *out);
bw_result bw_sq__rp_list(struct bw_store *s, const char *iid, const char *after,
                         struct bw_routing_profile *out, size_t max, size_t *n);
bw_result bw_sq__rp_update(struct bw_store *s, const struct bw_routing_profile *v);
bw_result bw_sq__rp_delete(struct bw_store *s, const char *iid, const char *id);
bw_result bw_sq__ep_insert(struct bw_store *s, const struct bw_entry_point *v);
bw_result bw_sq__ep_get(struct bw_store *s, const char *iid, const char *id,
                        struct bw_entry_point *out);
bw_result bw_sq__ep_list(struct bw_store *s, const char *iid, const char *after,
                         struct bw_entry_point *out, size_t max, size_t *n);
bw_result bw_sq__ep_update(struct bw_store *s, const struct bw_entry_point *v);
bw_result bw_sq__ep_delete(struct bw_store *s, const char *iid, const char *id);
/* end routing */
/* flows */
bw_result bw_sq__flow_insert(struct bw_store *s, const struct bw_flow_def *f);
bw_result bw_sq__flow_get(struct bw_store *s, const char *iid, const char *id,
                          struct bw_flow_def *out);
bw_result bw_sq__flow_list(struct bw_store *s, const char *iid, const char *after,
                           struct bw_flow_def *out, size_t max, size_t *n);
bw_result bw_sq__flow_update(struct bw_store *s, const struct bw_flow_def *f);
bw_result bw_sq__flow_delete(struct bw_store *s, const char *iid, const char *id);
bw_result bw_sq__flow_publish(struct bw_store *s, struct bw_flow_version *v);
bw_result bw_sq__flow_version_get(struct bw_store *s, const char *iid, const char *fid,
                                  long long version, struct bw_flow_version *out);
bw_result bw_sq__flow_version_list(struct bw_store *s, const char *iid, const char *fid,
                                   long long after, struct bw_flow_version *out, size_t max,
                                   size_t *n);
/* end flows */
/* contacts */
bw_result bw_sq__contact_put(struct bw_store *s, const struct bw_contact *c,
                             const uint8_t token_hash[32]);
bw_result bw_sq__contact_get(struct bw_store *s, const char *iid, const char *id,
                             struct bw_contact *out);
bw_result bw_sq__contact_by_token(struct bw_store *s, const uint8_t hash[32],
                                  struct bw_contact *out);
bw_result bw_sq__contact_search(struct bw_store *s, const struct bw_contact_filter *f,
                                struct bw_contact *out, size_t max, size_t *n);
bw_result bw_sq__contacts_live(struct bw_store *s, bw_contact_cb *cb, void *arg);
bw_result bw_sq__contacts_end_live(struct bw_store *s, const char *reason, long long now_ms,
                                   size_t *n);
bw_result bw_sq__message_insert(struct bw_store *s, const struct bw_contact_message *m);
bw_result bw_sq__message_list(struct bw_store *s, const char *iid, const char *cid,
                              long long after, struct bw_contact_message *out, size_t max,
                              size_t *n);
bw_result bw_sq__flow_log_append(struct bw_store *s, const struct bw_flow_log_entry *e,
                                 size_t n);
bw_result bw_sq__flow_log_list(struct bw_store *s, const char *iid, const char *cid,
                               long long after, struct bw_flow_log_entry *out, size_t max,
                               size_t *n);
/* end contacts */
/* integrations */
bw_result bw_sq__integration_insert(struct bw_store *s, const struct bw_integration_row *r);
bw_result bw_sq__integration_get(struct bw_store *s, const char *iid, const char *id,
                                 struct bw_integration_row *out);
bw_result bw_sq__integration_list(struct bw_store *s, const char *iid, const char *after,
                                  long long unused_before, struct bw_integration_row *out,
                                  size_t max, size_t *n);
bw_result bw_sq__integration_update(struct bw_store *s, const struct bw_integration_row *r);
bw_result bw_sq__integration_delete(struct bw_store *s, const char *iid, const char *id);
bw_result bw_sq__integration_touch(struct bw_store *s, const char *iid, const char *id,
                                   long long at);
/* end integrations */
/* event subscriptions */
bw_result bw_sq__event_sub_insert(struct bw_store *s, const struct bw_event_sub_row *r);
bw_result bw_sq__event_sub_get(struct bw_store *s, const char *iid, const char *id,
                               struct bw_event_sub_row *out);
bw_result bw_sq__event_sub_list(struct bw_store *s, const char *iid, const char *after,
                                bool enabled_only, struct bw_event_sub_row *out, size_t max,
                                size_t *n);
bw_result bw_sq__event_sub_update(struct bw_store *s, const struct bw_event_sub_row *r);
bw_result bw_sq__event_sub_delete(struct bw_store *s, const char *iid, const char *id);
bw_result bw_sq__outbox_insert(struct bw_store *s, const struct bw_outbox_row *rows, size_t n);
bw_result bw_sq__outbox_due(struct bw_store *s, const char *sid, long long now,
                            struct bw_outbox_row *out, size_t max, size_t *n);
bw_result bw_sq__outbox_subs(struct bw_store *s, const char *sink, struct bw_outbox_sub *out,
                             size_t max, size_t *n);
bw_result bw_sq__outbox_due_now(struct bw_store *s, long long now, long long *n);
bw_result bw_sq__outbox_lease(struct bw_store *s, const long long *seqs, size_t n, long long until);
bw_result bw_sq__outbox_settle(struct bw_store *s, const struct bw_outbox_result *res, size_t n,
                               long long now);
bw_result bw_sq__outbox_counts(struct bw_store *s, const char *iid, const char *sid,
                               long long *pending, long long *dead);
bw_result bw_sq__outbox_dead_list(struct bw_store *s, const char *iid, const char *sid,
                                  long long after, struct bw_outbox_row *out, size_t max,
                                  size_t *n);
bw_result bw_sq__outbox_dead_requeue(struct bw_store *s, const char *iid, const char *sid,
                                     long long now, long long *n);
bw_result bw_sq__outbox_dead_delete(struct bw_store *s, const char *iid, const char *sid,
                                    long long *n);
bw_result bw_sq__outbox_dead_expire(struct bw_store *s, long long before, long long *n);
/* end event subscriptions */
/* approved origins */
bw_result bw_sq__origin_used(struct bw_store *s, const char *iid, const char *origin, long long at);
bw_result bw_sq__origin_seen(struct bw_store *s, const char *iid, const char *origin, long long at,
                             struct bw_origin_use *out);
/* fraud */
bw_result bw_sq__deny_insert(struct bw_store *s, const struct bw_deny_row *d);
bw_result bw_sq__deny_insert_many(struct bw_store *s, const struct bw_deny_row *d, size_t n);
bw_result bw_sq__deny_get(struct bw_store *s, const char *iid, const char *id,
                          struct bw_deny_row *out);
bw_result bw_sq__deny_list(struct bw_store *s, const struct bw_deny_filter *f,
                           struct bw_deny_row *out, size_t max, size_t *n);
bw_result bw_sq__deny_update(struct bw_store *s, const struct bw_deny_row *d);
bw_result bw_sq__deny_delete(struct bw_store *s, const char *iid, const char *id);
bw_result bw_sq__deny_scan(struct bw_store *s, long long now_ms, bw_deny_cb *cb, void *arg);
bw_result bw_sq__deny_purge(struct bw_store *s, long long now_ms);
bw_result bw_sq__history_add(struct bw_store *s, const struct bw_history_row *h, size_t n);
bw_result bw_sq__history_scan(struct bw_store *s, long long since_ms, bw_history_cb *cb,
                              void *arg);
bw_result bw_sq__history_purge(struct bw_store *s, long long before_ms);
bw_result bw_sq__filter_get(struct bw_store *s, const char *iid, char **json);
bw_result bw_sq__filter_put(struct bw_store *s, const char *iid, const char *json);
bw_result bw_sq__filter_scan(struct bw_store *s, bw_filter_cb *cb, void *arg);
/* end fraud */
/* secrets */
bw_result bw_sq__secret_insert(struct bw_store *s, const struct bw_secret *sec,
                               const uint8_t *sealed, size_t n);
bw_result bw_sq__secret_get(struct bw_store *s, const char *iid, const char *id,
                            struct bw_secret *out);
bw_result bw_sq__secret_list(struct bw_store *s, const char *iid, const char *name,
                             const char *after, struct bw_secret *out, size_t max, size_t *n);
bw_result bw_sq__secret_rotate(struct bw_store *s, const char *iid, const char *id, long long from,
                               const uint8_t *sealed, size_t n, long long now, long long until,
                               struct bw_secret *out);
bw_result bw_sq__secret_delete(struct bw_store *s, const char *iid, const char *id);
bw_result bw_sq__secret_blob(struct bw_store *s, const char *iid, const char *name,
                             long long version, long long now, struct bw_secret_blob *out);
bw_result bw_sq__signing_key_list(struct bw_store *s, const char *iid, struct bw_signing_key *out,
                                  size_t max, size_t *n);
bw_result bw_sq__signing_key_get(struct bw_store *s, const char *iid, const char *kid,
                                 struct bw_signing_key *out);
bw_result bw_sq__signing_key_add(struct bw_store *s, const struct bw_signing_key *k,
                                 const char *newest_kid, long long purge_before);
/* end secrets */
/* encryption keys */
bw_result bw_sq__enckey_insert(struct bw_store *s, const struct bw_enckey *k);
bw_result bw_sq__enckey_get(struct bw_store *s, const char *iid, const char *key_id,
                            struct bw_enckey *out);
bw_result bw_sq__enckey_list(struct bw_store *s, const char *iid, const char *after,
                             struct bw_enckey *out, size_t max, size_t *n);
bw_result bw_sq__enckey_set_status(struct bw_store *s, const char *iid, const char *key_id,
                                   const char *status, long long now_ms);
bw_result bw_sq__enckey_delete(struct bw_store *s, const char *iid, const char *key_id);
bw_result bw_sq__enckey_active(struct bw_store *s, const char *iid, struct bw_enckey *out,
                               size_t max, size_t *n);
/* end encryption keys */
/* keys */
bw_result bw_sq__kek_list(struct bw_store *s, const char *iid, struct bw_kek_row *out,
                          size_t max, size_t *n);
bw_result bw_sq__kek_insert(struct bw_store *s, const struct bw_kek_row *k);
bw_result bw_sq__keys_destroyed(struct bw_store *s, const char *iid);
bw_result bw_sq__dk_insert(struct bw_store *s, const struct bw_dk_row *d);
bw_result bw_sq__dk_get(struct bw_store *s, const char *iid, uint32_t id, struct bw_dk_row *out);
bw_result bw_sq__dk_newest(struct bw_store *s, const char *iid, struct bw_dk_row *out);
bw_result bw_sq__dk_count(struct bw_store *s, const char *iid, long long *n);
bw_result bw_sq__dk_stale(struct bw_store *s, const char *iid, const char *kek_id,
                          uint32_t after, struct bw_dk_row *out, size_t max, size_t *n);
bw_result bw_sq__dk_rewrap(struct bw_store *s, const char *iid, const char *rid,
                           const struct bw_dk_rewrap *w, size_t n);
bw_result bw_sq__rotation_start(struct bw_store *s, const struct bw_kek_row *k,
                                struct bw_key_rotation *r);
bw_result bw_sq__rotation_last(struct bw_store *s, const char *iid, struct bw_key_rotation *out);
bw_result bw_sq__rotation_running(struct bw_store *s, struct bw_key_rotation *out, size_t max,
                                  size_t *n);
bw_result bw_sq__rotation_finish(struct bw_store *s, const char *iid, const char *rid,
                                 long long now, struct bw_key_rotation *out);
bw_result bw_sq__keys_destroy(struct bw_store *s, const char *iid, long long now);
bw_result bw_sq__import_key_get(struct bw_store *s, struct bw_import_key *out);
bw_result bw_sq__import_key_insert(struct bw_store *s, const struct bw_import_key *k);
bw_result bw_sq__import_token_insert(struct bw_store *s, const uint8_t hash[32], const char *iid,
                                     const char *key_id, long long expires_at, long long now);
bw_result bw_sq__import_token_take(struct bw_store *s, const uint8_t hash[32], const char *iid,
                                   long long now, char key_id[48]);
bw_result bw_sq__keys_harden(struct bw_store *s);
bw_result bw_sq__wal_purge(struct bw_store *s);
bw_result bw_sq__sealed_page(struct bw_store *s, enum bw_sealed_col col, long long after,
                             struct bw_sealed_item *out, size_t max, size_t *n);
bw_result bw_sq__sealed_put(struct bw_store *s, enum bw_sealed_col col,
                            const struct bw_sealed_item *items, size_t n);
bw_result bw_sq__keyring_task(struct bw_store *s, const char *name);
bw_result bw_sq__keyring_task_done(struct bw_store *s, const char *name);
/* end keys */

#endif
