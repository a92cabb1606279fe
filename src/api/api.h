/* Handlers, one file per resource; the route table in routes.c names them. */
#ifndef BW_API_H
#define BW_API_H

#include "net/net.h"

void bw_api_healthz(struct bw_ctx *c);
void bw_api_readyz(struct bw_ctx *c);
void bw_api_metrics(struct bw_ctx *c);

void bw_api_platform_keys_create(struct bw_ctx *c);
void bw_api_platform_keys_list(struct bw_ctx *c);
void bw_api_platform_keys_delete(struct bw_ctx *c);

void bw_api_events_upgrade(struct bw_ctx *c);
extern const struct bw_ws_ops bw_api_events_ws;
struct bw_audit_event;
/* Pushes a platform audit event to every platform event stream (any thread). */
void bw_api_events_audit(const struct bw_audit_event *e);

void bw_api_instances_create(struct bw_ctx *c);
void bw_api_instances_list(struct bw_ctx *c);
void bw_api_instances_get(struct bw_ctx *c);
void bw_api_instances_update(struct bw_ctx *c);
void bw_api_instances_delete(struct bw_ctx *c);
void bw_api_security_settings_get(struct bw_ctx *c);
void bw_api_security_settings_update(struct bw_ctx *c);

void bw_api_permissions_list(struct bw_ctx *c);
void bw_api_profiles_create(struct bw_ctx *c);
void bw_api_profiles_list(struct bw_ctx *c);
void bw_api_profiles_get(struct bw_ctx *c);
void bw_api_profiles_update(struct bw_ctx *c);
void bw_api_profiles_delete(struct bw_ctx *c);

void bw_api_users_create(struct bw_ctx *c);
void bw_api_users_list(struct bw_ctx *c);
void bw_api_users_get(struct bw_ctx *c);
void bw_api_users_update(struct bw_ctx *c);
void bw_api_users_delete(struct bw_ctx *c);

void bw_api_mfa_enroll(struct bw_ctx *c);
void bw_api_mfa_verify(struct bw_ctx *c);
void bw_api_mfa_reset(struct bw_ctx *c);

void bw_api_login(struct bw_ctx *c);
void bw_api_logout(struct bw_ctx *c);
void bw_api_me(struct bw_ctx *c);
void bw_api_me_status(struct bw_ctx *c);
void bw_api_me_sessions(struct bw_ctx *c);
void bw_api_me_session_revoke(struct bw_ctx *c);

void bw_api_audit_list(struct bw_ctx *c);
void bw_api_audit_verify(struct bw_ctx *c);

/* routing */
void bw_api_hours_create(struct bw_ctx *c);
void bw_api_hours_list(struct bw_ctx *c);
void bw_api_hours_get(struct bw_ctx *c);
void bw_api_hours_update(struct bw_ctx *c);
void bw_api_hours_delete(struct bw_ctx *c);
void bw_api_hours_status(struct bw_ctx *c);
void bw_api_queues_create(struct bw_ctx *c);
void bw_api_queues_list(struct bw_ctx *c);
void bw_api_queues_get(struct bw_ctx *c);
void bw_api_queues_update(struct bw_ctx *c);
void bw_api_queues_delete(struct bw_ctx *c);
void bw_api_rp_create(struct bw_ctx *c);
void bw_api_rp_list(struct bw_ctx *c);
void bw_api_rp_get(struct bw_ctx *c);
void bw_api_rp_update(struct bw_ctx *c);
void bw_api_rp_delete(struct bw_ctx *c);
void bw_api_ep_create(struct bw_ctx *c);
void bw_api_ep_list(struct bw_ctx *c);
void bw_api_ep_get(struct bw_ctx *c);
void bw_api_ep_update(struct bw_ctx *c);
void bw_api_ep_delete(struct bw_ctx *c);
/* end routing */

/* flows */
void bw_api_flows_create(struct bw_ctx *c);
void bw_api_flows_list(struct bw_ctx *c);
void bw_api_flows_get(struct bw_ctx *c);
void bw_api_flows_update(struct bw_ctx *c);
void bw_api_flows_delete(struct bw_ctx *c);
void bw_api_flows_publish(struct bw_ctx *c);
void bw_api_flow_versions_list(struct bw_ctx *c);
void bw_api_flow_versions_get(struct bw_ctx *c);
void bw_api_flows_validate_input(struct bw_ctx *c);
/* end flows */

/* integrations (C17) */
void bw_api_integrations_create(struct bw_ctx *c);
void bw_api_integrations_list(struct bw_ctx *c);
void bw_api_integrations_get(struct bw_ctx *c);
void bw_api_integrations_update(struct bw_ctx *c);
void bw_api_integrations_delete(struct bw_ctx *c);
void bw_api_integrations_test(struct bw_ctx *c);
/* end integrations */
/* event subscriptions (C18) */
void bw_api_event_subs_create(struct bw_ctx *c);
void bw_api_event_subs_list(struct bw_ctx *c);
void bw_api_event_subs_get(struct bw_ctx *c);
void bw_api_event_subs_update(struct bw_ctx *c);
void bw_api_event_subs_delete(struct bw_ctx *c);
void bw_api_event_subs_dead_list(struct bw_ctx *c);
void bw_api_event_subs_dead_retry(struct bw_ctx *c);
void bw_api_event_subs_dead_delete(struct bw_ctx *c);
/* BW_OK with the name of a subscription of the caller's instance whose
 * webhook goes to integration ig; BW_NOTFOUND when none does. */
bw_result bw_api_event_subs_using(struct bw_ctx *c, const char *ig, char *name, size_t n);
/* end event subscriptions */
/* approved origins' use (C17) */
void bw_api_origins_list(struct bw_ctx *c);
/* A public request came from the instance's approved origin. */
void bw_api_origin_note(struct bw_ctx *c, const char *iid, const char *origin);

/* fraud */
void bw_api_deny_create(struct bw_ctx *c);
void bw_api_deny_list(struct bw_ctx *c);
void bw_api_deny_get(struct bw_ctx *c);
void bw_api_deny_update(struct bw_ctx *c);
void bw_api_deny_delete(struct bw_ctx *c);
void bw_api_deny_import(struct bw_ctx *c);
void bw_api_filter_get(struct bw_ctx *c);
void bw_api_filter_update(struct bw_ctx *c);
/* end fraud */

/* secrets and roles (C7) */
void bw_api_secrets_create(struct bw_ctx *c);
void bw_api_secrets_list(struct bw_ctx *c);
void bw_api_secrets_get(struct bw_ctx *c);
void bw_api_secrets_rotate(struct bw_ctx *c);
void bw_api_secrets_delete(struct bw_ctx *c);
void bw_api_jwks(struct bw_ctx *c);
void bw_api_signing_keys_list(struct bw_ctx *c);
void bw_api_signing_keys_rotate(struct bw_ctx *c);
void bw_api_signing_keys_test_sign(struct bw_ctx *c);
/* end secrets and roles */

/* encryption keys */
void bw_api_enckeys_create(struct bw_ctx *c);
void bw_api_enckeys_list(struct bw_ctx *c);
void bw_api_enckeys_get(struct bw_ctx *c);
void bw_api_enckeys_update(struct bw_ctx *c);
void bw_api_enckeys_delete(struct bw_ctx *c);
void bw_api_enckeys_test_encrypt(struct bw_ctx *c);
/* end encryption keys */

/* keys (C14) */
void bw_api_keys_get(struct bw_ctx *c);
void bw_api_keys_rotate(struct bw_ctx *c);
void bw_api_keys_import_params(struct bw_ctx *c);
void bw_api_keys_import(struct bw_ctx *c);
/* Destroys the instance's keys (crypto-shredding) and audits it
 * (keys.destroy); replies and returns -1 when that failed. */
int bw_api_keys_shred(struct bw_ctx *c, const char *iid);
/* end keys */

/* contacts */
void bw_api_contacts_search(struct bw_ctx *c);
void bw_api_contacts_get(struct bw_ctx *c);
void bw_api_contacts_transcript(struct bw_ctx *c);
void bw_api_contacts_flow_log(struct bw_ctx *c);
struct bw_contact;
struct bw_contact_message;
/* How a reader sees a record's attributes (C13). */
struct bw_api_view {
	bool sensitive; /* the reader holds SensitiveData.View */
	json_t *classes; /* the instance's attribute_classes now (a class map), or NULL */
};
/* The caller's view: its permission and the instance's classes (replies
 * and returns -1 when they cannot be read); free with bw_api_view_clear. */
int bw_api_view_load(struct bw_ctx *c, struct bw_api_view *v);
void bw_api_view_clear(struct bw_api_view *v);
/* A contact record as docs/api.md shows it (customer data unsealed), its
 * attributes masked by class for the view (NULL: a reader who sees no
 * sensitive value). */
json_t *bw_api_contact_json(const struct bw_contact *c, const struct bw_api_view *v);
/* The unsealed customer blob of a record, or NULL (none, or it does not
 * open: logged by contact id). */
json_t *bw_api_contact_customer(const struct bw_contact *c);
/* The opened text of a message (sodium_malloc'd, free with
 * bw_unseal_free), or NULL when it does not open (logged by id). */
uint8_t *bw_api_message_open(const struct bw_contact_message *m, size_t *len);
/* A chat message {"id","participant_role","display_name"?,"content","time"}
 * from its opened text; display_name NULL leaves it out. */
json_t *bw_api_message_json(const struct bw_contact_message *m, const char *plaintext,
                            size_t len, const char *display_name);
/* GET .../data-scan (C13, src/api/data_scan.c). */
void bw_api_data_scan(struct bw_ctx *c);
/* end contacts */

/* chat and agents */
void bw_api_chats_create(struct bw_ctx *c);
void bw_api_chat_upgrade(struct bw_ctx *c);
void bw_api_agent_stream(struct bw_ctx *c);
void bw_api_agent_accept(struct bw_ctx *c);
void bw_api_agent_reject(struct bw_ctx *c);
void bw_api_agent_end(struct bw_ctx *c);
void bw_api_agent_message(struct bw_ctx *c);
void bw_api_contacts_stop(struct bw_ctx *c);
void bw_api_agent_outcome(struct bw_ctx *c);
void bw_api_callbacks_create(struct bw_ctx *c);
void bw_api_public_preflight(struct bw_ctx *c);
struct bw_instance;
struct bw_cc_new_contact;
struct bw_contact;
struct bw_fraud_id;
/* The public checks before any flow (deny list, origin, throttle); replies
 * and returns -1 when the request is refused. */
int bw_api_public_guard(struct bw_ctx *c, const struct bw_instance *in);
/* The contact filter for a new contact's identifiers; a refused contact's
 * record (rec, sealed customer data included) is stored ENDED with
 * CONTACT_FILTER. Replies and returns -1 when refused. */
int bw_api_contact_filter(struct bw_ctx *c, const char *iid, const struct bw_fraud_id *ids,
                          size_t nids, struct bw_contact *rec);
/* Entry point (of the type), flow, snapshots, the record's first fields;
 * replies and returns -1 on failure. */
int bw_api_contact_prepare(struct bw_ctx *c, const struct bw_instance *in, const char *epid,
                           const char *type, struct bw_cc_new_contact *n);
/* Seals the customer data into n->rec (for a refused contact's record). */
int bw_api_contact_seal(struct bw_cc_new_contact *n);
/* Stores the record (with the participant token's hash, or NULL) and hands
 * the contact to the engine; replies and returns -1 on failure. */
int bw_api_contact_start(struct bw_ctx *c, struct bw_cc_new_contact *n,
                         const uint8_t token_hash[32]);
void bw_api_contact_free(struct bw_cc_new_contact *n);
void bw_api_realtime(struct bw_ctx *c);
struct bw_user;
struct bw_store;
struct bw_cc_agent_info;
struct bw_hoo;
struct bw_hours;
bw_result bw_api_agent_info(struct bw_store *s, const struct bw_user *u,
                            struct bw_cc_agent_info *out);
/* Tells the engine about the caller's status and routing profile. */
bw_result bw_api_agent_sync(struct bw_ctx *c, const struct bw_user *u);
/* The evaluable form of stored hours; -1 when they do not decode. */
int bw_api_hours_of(const struct bw_hoo *row, struct bw_hours *h);
/* end chat and agents */

struct bw_instance;
/* Loads the path's {iid}; replies 404 and returns -1 when it does not exist. */
int bw_api_instance(struct bw_ctx *c, struct bw_instance *in);

/* A string field of c->in within [min, max] bytes; replies 400 and returns
 * -1 when wrong; *out NULL when absent and not required. */
int bw_api_str(struct bw_ctx *c, const char *key, size_t min, size_t max, bool required,
               const char **out);
/* A name-like string field: 1..max bytes, no control character (400
 * naming the field otherwise). */
int bw_api_label(struct bw_ctx *c, const char *key, size_t max, bool required, const char **out);
/* The same for a nested object, naming the field as `field` in errors. */
int bw_api_str_in(struct bw_ctx *c, const json_t *obj, const char *key, const char *field,
                  size_t min, size_t max, bool required, const char **out);
/* Refuses fields outside the NULL-ended list (400 naming the field). */
int bw_api_only(struct bw_ctx *c, const char *const *allowed);
int bw_api_only_in(struct bw_ctx *c, const json_t *obj, const char *prefix,
                   const char *const *allowed);
/* A query parameter: replies 400 and returns -1 when too long or empty. */
int bw_api_query(struct bw_ctx *c, const char *name, char *buf, size_t n, bool *present);
bool bw_api_name_ok(const char *s); /* [A-Za-z0-9._@+-]* */
/* ?unused_for= (30d, 12h, 90m, 45s; at most 3650d) as the time before
 * which a thing counts as unused (now minus the duration); *before 0 when
 * absent; -1 (replied 400) when wrong. */
int bw_api_unused_before(struct bw_ctx *c, long long now, long long *before);
/* Unix ms as an RFC 3339 UTC time with milliseconds; 0 (never) as null. */
json_t *bw_api_time_or_null(long long ms);
bool bw_api_id_ok(const char *s);

/* A list route: fetch a page of items of item_size bytes after an id, encode
 * each, and reply {"items","next_token"}. */
struct bw_api_lister {
	size_t item_size;
	bw_result (*fetch)(struct bw_ctx *c, const char *after, void *out, size_t max, size_t *n);
	json_t *(*encode)(struct bw_ctx *c, const void *item);
	void (*clear)(void *item); /* NULL when items own no memory */
	const char *(*id)(const void *item);
};
void bw_api_list(struct bw_ctx *c, const struct bw_api_lister *l);

/* Shared list paging: ?limit= (default 50, max 1000) and ?next_token=. */
int bw_api_page(struct bw_ctx *c, size_t *limit, char *after, size_t aftersz);
/* ?limit= alone, for lists paged by something other than an id. */
int bw_api_limit(struct bw_ctx *c, size_t *limit);

#endif
