/* The store interface. Backends are const vtables (sqlite.c; postgres.c later).
 * A handle belongs to one thread. Every call that touches instance data takes
 * the instance id from the authenticated context, never from a request body. */
#ifndef BW_STORE_H
#define BW_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/result.h"

struct bw_store;

enum bw_durability { BW_DURABILITY_NORMAL, BW_DURABILITY_FULL };

struct bw_platform_key {
	char id[48];
	char name[256];
	long long created_at;
	long long last_used_at;
};

BW_MUST_USE bw_result bw_store_open(struct bw_store **out, const char *db_path,
                                    enum bw_durability d);
void bw_store_close(struct bw_store *s);
/* Applies pending migrations; returns the schema version reached. */
BW_MUST_USE bw_result bw_store_migrate(struct bw_store *s, int *version);
BW_MUST_USE bw_result bw_store_ping(struct bw_store *s);
/* Group commit: the calls between begin and end share one transaction;
 * each call's own transaction becomes a savepoint, so a failing call
 * undoes only itself. end commits (or rolls back when r is not BW_OK). */
BW_MUST_USE bw_result bw_store_batch_begin(struct bw_store *s);
BW_MUST_USE bw_result bw_store_batch_end(struct bw_store *s, bw_result r);
/* Changes whenever a write may change an authentication or authorization
 * decision (in this process); caches compare it before trusting an entry. */
unsigned long long bw_store_auth_epoch(void);

/* Platform keys (hash = BLAKE2b-256 of the key text). */
BW_MUST_USE bw_result bw_store_platform_key_insert(struct bw_store *s,
                                                   const struct bw_platform_key *k,
                                                   const uint8_t hash[32]);
BW_MUST_USE bw_result bw_store_platform_key_find(struct bw_store *s, const uint8_t hash[32],
                                                 struct bw_platform_key *out);
/* Lists active keys with id > after (NULL for the start), at most max. */
BW_MUST_USE bw_result bw_store_platform_key_list(struct bw_store *s, const char *after,
                                                 struct bw_platform_key *out, size_t max,
                                                 size_t *n);
/* BW_NOTFOUND for unknown or revoked, BW_CONFLICT for the last active key. */
BW_MUST_USE bw_result bw_store_platform_key_revoke(struct bw_store *s, const char *id,
                                                   long long now);

/* ---- identity (0002) ---- */

struct bw_instance {
	char id[48];
	char alias[72];
	char default_region[4];
	char *settings; /* JSON text, malloc'd; bw_instance_clear frees it */
	long long created_at, updated_at;
};
void bw_instance_clear(struct bw_instance *i);

struct bw_profile {
	char id[48];
	char instance_id[48];
	char name[136];
	char description[1040];
	char *permissions; /* JSON array text, malloc'd */
	long long created_at, updated_at;
};
void bw_profile_clear(struct bw_profile *p);

struct bw_user {
	char id[48];
	char instance_id[48];
	char username[136];
	char first_name[136];
	char last_name[136];
	char email[264];
	char routing_profile_id[48];
	char hierarchy_group[136];
	char status[40];
	bool disabled;
	bool mfa_enabled;
	long long mfa_last_step;
	long long created_at, updated_at;
	char *password_hash; /* malloc'd or NULL */
	uint8_t *mfa_secret; /* malloc'd sealed blob or NULL */
	size_t mfa_secret_len;
	/* keys (0008): first_name, last_name and email are sealed together at
	 * rest; the store's user calls seal and open them, so callers see
	 * plain fields. pii_error: the stored blob did not open (fields ""). */
	uint8_t *pii; /* backend only: the sealed blob, malloc'd */
	size_t pii_len;
	bool pii_error;
};
void bw_user_clear(struct bw_user *u);

struct bw_session {
	char id[48];
	char instance_id[48];
	char user_id[48];
	long long created_at, last_seen_at, expires_at;
	char source_ip[64];
	char user_agent[256];
	bool mfa_pending;
};

/* Instances: created with their default profiles and first user at once. */
BW_MUST_USE bw_result bw_store_instance_create(struct bw_store *s, const struct bw_instance *in,
                                               const struct bw_profile *profiles, size_t nprof,
                                               const struct bw_user *admin,
                                               const char *admin_profile_id);
BW_MUST_USE bw_result bw_store_instance_get(struct bw_store *s, const char *id,
                                            struct bw_instance *out);
BW_MUST_USE bw_result bw_store_instance_list(struct bw_store *s, const char *after,
                                             struct bw_instance *out, size_t max, size_t *n);
BW_MUST_USE bw_result bw_store_instance_update(struct bw_store *s, const struct bw_instance *in);
BW_MUST_USE bw_result bw_store_instance_delete(struct bw_store *s, const char *id);

/* Security profiles, always within one instance. */
BW_MUST_USE bw_result bw_store_profile_insert(struct bw_store *s, const struct bw_profile *p);
BW_MUST_USE bw_result bw_store_profile_get(struct bw_store *s, const char *iid, const char *id,
                                           struct bw_profile *out);
BW_MUST_USE bw_result bw_store_profile_list(struct bw_store *s, const char *iid, const char *after,
                                            struct bw_profile *out, size_t max, size_t *n);
BW_MUST_USE bw_result bw_store_profile_update(struct bw_store *s, const struct bw_profile *p);
/* BW_CONFLICT while a user holds it. */
BW_MUST_USE bw_result bw_store_profile_delete(struct bw_store *s, const char *iid, const char *id);

/* Users. profile_ids == NULL on update leaves the assignment alone. */
BW_MUST_USE bw_result bw_store_user_insert(struct bw_store *s, const struct bw_user *u,
                                           char **profile_ids, size_t nids);
BW_MUST_USE bw_result bw_store_user_get(struct bw_store *s, const char *iid, const char *id,
                                        struct bw_user *out);
BW_MUST_USE bw_result bw_store_user_by_name(struct bw_store *s, const char *iid,
                                            const char *username, struct bw_user *out);
BW_MUST_USE bw_result bw_store_user_list(struct bw_store *s, const char *iid, const char *after,
                                         struct bw_user *out, size_t max, size_t *n);
/* Writes every field of u (password_hash and mfa fields included). */
BW_MUST_USE bw_result bw_store_user_update(struct bw_store *s, const struct bw_user *u,
                                           char **profile_ids, size_t nids);
BW_MUST_USE bw_result bw_store_user_delete(struct bw_store *s, const char *iid, const char *id);
/* The profile ids and permission arrays of a user's profiles. */
BW_MUST_USE bw_result bw_store_user_profiles(struct bw_store *s, const char *iid, const char *uid,
                                             struct bw_profile *out, size_t max, size_t *n);
/* Accepts a TOTP step only if it is newer than the last one (replay). */
BW_MUST_USE bw_result bw_store_user_mfa_step(struct bw_store *s, const char *iid, const char *uid,
                                             long long step);
BW_MUST_USE bw_result bw_store_recovery_codes_set(struct bw_store *s, const char *iid,
                                                  const char *uid, const uint8_t (*hashes)[32],
                                                  size_t n);
/* Marks one unused code used; BW_NOTFOUND if none matches. */
BW_MUST_USE bw_result bw_store_recovery_code_use(struct bw_store *s, const char *iid,
                                                 const char *uid, const uint8_t hash[32],
                                                 long long now);

/* Sessions. */
BW_MUST_USE bw_result bw_store_session_insert(struct bw_store *s, const struct bw_session *se,
                                              const uint8_t hash[32]);
BW_MUST_USE bw_result bw_store_session_find(struct bw_store *s, const uint8_t hash[32],
                                            struct bw_session *out);
BW_MUST_USE bw_result bw_store_session_touch(struct bw_store *s, const char *id, long long now);
BW_MUST_USE bw_result bw_store_session_revoke(struct bw_store *s, const char *iid, const char *uid,
                                              const char *id, long long now);
/* The session may do everything now: its user enrolled MFA. */
BW_MUST_USE bw_result bw_store_session_mfa_done(struct bw_store *s, const char *iid,
                                                const char *id);
/* Ends every session of a user (password change, disable, MFA reset). */
BW_MUST_USE bw_result bw_store_session_revoke_user(struct bw_store *s, const char *iid,
                                                   const char *uid, long long now);
BW_MUST_USE bw_result bw_store_session_list(struct bw_store *s, const char *iid, const char *uid,
                                            long long now, long long seen_after, const char *after, struct bw_session *out, size_t max,
                                            size_t *n);

/* Login failures by key; counts and lock times are the caller's policy. */
struct bw_failures {
	long long failures;
	long long locked_until;
	long long updated_at;
};
BW_MUST_USE bw_result bw_store_failures_get(struct bw_store *s, const char *key,
                                            struct bw_failures *out);
BW_MUST_USE bw_result bw_store_failures_put(struct bw_store *s, const char *key,
                                            const struct bw_failures *f);
BW_MUST_USE bw_result bw_store_failures_clear(struct bw_store *s, const char *key);

/* ---- routing (0003) ---- */

/* Hours of operation ("hoo"): config and holidays are JSON array texts the
 * API validated and normalized. */
struct bw_hoo {
	char id[48];
	char instance_id[48];
	char name[136];
	char description[1040];
	char time_zone[72];
	char *config;   /* malloc'd */
	char *holidays; /* malloc'd */
	long long created_at, updated_at;
};
void bw_hoo_clear(struct bw_hoo *h);

struct bw_queue {
	char id[48];
	char instance_id[48];
	char name[136];
	char description[1040];
	char hours_id[48];
	long long max_contacts;
	long long created_at, updated_at;
};

#define BW_RP_MAX_QUEUES 50
struct bw_rp_queue {
	char queue_id[48];
	int priority;
	int delay_s;
};

struct bw_routing_profile {
	char id[48];
	char instance_id[48];
	char name[136];
	char description[1040];
	int chat, callback, voice; /* concurrency per channel */
	size_t nqueues;
	struct bw_rp_queue *queues; /* malloc'd; bw_routing_profile_clear frees it */
	long long created_at, updated_at;
};
void bw_routing_profile_clear(struct bw_routing_profile *p);

struct bw_entry_point {
	char id[48];
	char instance_id[48];
	char name[136];
	char type[12]; /* CHAT, CALLBACK, VOICE */
	char flow_id[48];
	char default_region[4]; /* "" when unset */
	long long created_at, updated_at;
};

/* Hours: BW_CONFLICT on a repeated name; delete gives BW_CONFLICT while a
 * queue uses them. */
BW_MUST_USE bw_result bw_store_hoo_insert(struct bw_store *s, const struct bw_hoo *h);
BW_MUST_USE bw_result bw_store_hoo_get(struct bw_store *s, const char *iid, const char *id,
                                       struct bw_hoo *out);
BW_MUST_USE bw_result bw_store_hoo_list(struct bw_store *s, const char *iid, const char *after,
                                        struct bw_hoo *out, size_t max, size_t *n);
BW_MUST_USE bw_result bw_store_hoo_update(struct bw_store *s, const struct bw_hoo *h);
BW_MUST_USE bw_result bw_store_hoo_delete(struct bw_store *s, const char *iid, const char *id);

/* Queues: insert and update give BW_INVALID when hours_id is not hours of
 * the instance; delete gives BW_CONFLICT while a routing profile lists it. */
BW_MUST_USE bw_result bw_store_queue_insert(struct bw_store *s, const struct bw_queue *q);
BW_MUST_USE bw_result bw_store_queue_get(struct bw_store *s, const char *iid, const char *id,
                                         struct bw_queue *out);
BW_MUST_USE bw_result bw_store_queue_list(struct bw_store *s, const char *iid, const char *after,
                                          struct bw_queue *out, size_t max, size_t *n);
BW_MUST_USE bw_result bw_store_queue_update(struct bw_store *s, const struct bw_queue *q);
BW_MUST_USE bw_result bw_store_queue_delete(struct bw_store *s, const char *iid, const char *id);

/* Routing profiles with their queue list: insert and update give
 * BW_INVALID when a queue is not of the instance; update replaces the list;
 * delete gives BW_CONFLICT while a user has the profile. */
BW_MUST_USE bw_result bw_store_rp_insert(struct bw_store *s, const struct bw_routing_profile *p);
BW_MUST_USE bw_result bw_store_rp_get(struct bw_store *s, const char *iid, const char *id,
                                      struct bw_routing_profile *out);
BW_MUST_USE bw_result bw_store_rp_list(struct bw_store *s, const char *iid, const char *after,
                                       struct bw_routing_profile *out, size_t max, size_t *n);
BW_MUST_USE bw_result bw_store_rp_update(struct bw_store *s, const struct bw_routing_profile *p);
BW_MUST_USE bw_result bw_store_rp_delete(struct bw_store *s, const char *iid, const char *id);

/* Entry points: insert and update give BW_INVALID when flow_id is not a
 * flow of the instance (checked once a flows table exists). */
BW_MUST_USE bw_result bw_store_ep_insert(struct bw_store *s, const struct bw_entry_point *e);
BW_MUST_USE bw_result bw_store_ep_get(struct bw_store *s, const char *iid, const char *id,
                                      struct bw_entry_point *out);
BW_MUST_USE bw_result bw_store_ep_list(struct bw_store *s, const char *iid, const char *after,
                                       struct bw_entry_point *out, size_t max, size_t *n);
BW_MUST_USE bw_result bw_store_ep_update(struct bw_store *s, const struct bw_entry_point *e);
BW_MUST_USE bw_result bw_store_ep_delete(struct bw_store *s, const char *iid, const char *id);

/* ---- end routing ---- */

/* ---- flows (0004) ---- */

/* A flow's draft: the document as last saved, valid or not. */
struct bw_flow_def {
	char id[48];
	char instance_id[48];
	char name[136];
	char description[1040];
	char *content;            /* compact JSON, malloc'd; NULL in lists */
	long long latest_version; /* 0 when never published */
	long long created_at, updated_at;
};
void bw_flow_def_clear(struct bw_flow_def *f);

/* A published version: immutable once written. */
struct bw_flow_version {
	char instance_id[48];
	char flow_id[48];
	long long version; /* from 1 per flow */
	char vid[24];      /* the version as text (list paging) */
	char *content;     /* malloc'd; NULL in lists */
	char published_by[48];
	long long published_at;
};
void bw_flow_version_clear(struct bw_flow_version *v);

#define BW_FLOW_MAX_VERSIONS 1000

BW_MUST_USE bw_result bw_store_flow_insert(struct bw_store *s, const struct bw_flow_def *f);
BW_MUST_USE bw_result bw_store_flow_get(struct bw_store *s, const char *iid, const char *id,
                                        struct bw_flow_def *out);
BW_MUST_USE bw_result bw_store_flow_list(struct bw_store *s, const char *iid, const char *after,
                                         struct bw_flow_def *out, size_t max, size_t *n);
/* Writes name, description and content. */
BW_MUST_USE bw_result bw_store_flow_update(struct bw_store *s, const struct bw_flow_def *f);
/* Deletes a flow and its versions; BW_CONFLICT while an entry point names it. */
BW_MUST_USE bw_result bw_store_flow_delete(struct bw_store *s, const char *iid, const char *id);
/* Appends v (instance_id, flow_id, content, published_by, published_at) as
 * the next version and sets v->version; BW_NOTFOUND without the flow,
 * BW_CONFLICT past BW_FLOW_MAX_VERSIONS. */
BW_MUST_USE bw_result bw_store_flow_publish(struct bw_store *s, struct bw_flow_version *v);
BW_MUST_USE bw_result bw_store_flow_version_get(struct bw_store *s, const char *iid,
                                                const char *fid, long long version,
                                                struct bw_flow_version *out);
/* Versions above `after` (0 for the start), oldest first. */
BW_MUST_USE bw_result bw_store_flow_version_list(struct bw_store *s, const char *iid,
                                                 const char *fid, long long after,
                                                 struct bw_flow_version *out, size_t max,
                                                 size_t *n);
/* ---- end flows ---- */

/* ---- contacts (0005) ---- */

/* A contact and its record (K6), modelled on Amazon Connect's. Times are
 * Unix milliseconds, 0 when not (yet) reached. Customer data (display name,
 * e-mail, address, attributes) is one sealed blob (bw_seal, column
 * "customer"): the store never sees it in clear. */
struct bw_contact {
	char id[48];
	char instance_id[48];
	char channel[12];           /* CHAT, CALLBACK */
	char initiation_method[16]; /* API */
	char state[24];   /* INITIATED IN_FLOW QUEUED OFFERED CONNECTED AFTER_CONTACT_WORK ENDED */
	char entry_point_id[48];
	char flow_id[48];
	long long flow_version;
	char queue_id[48];          /* "" when never queued */
	char agent_id[48];          /* "" when never connected */
	char disconnect_reason[40]; /* "" while live */
	long long initiated_at, enqueued_at, dequeued_at, connected_at, disconnected_at,
		acw_ended_at, updated_at;
	uint8_t *customer; /* sealed JSON, malloc'd; bw_contact_clear frees it */
	size_t customer_len;
};
void bw_contact_clear(struct bw_contact *c);

/* One chat message; content sealed (column "content", row = message id). */
struct bw_contact_message {
	char id[48];
	char instance_id[48];
	char contact_id[48];
	long long seq; /* from 1 per contact */
	char role[12]; /* SYSTEM, AGENT, CUSTOMER */
	char sender_id[48]; /* the agent's user id, "" otherwise */
	long long time; /* ms */
	uint8_t *content; /* malloc'd */
	size_t content_len;
};
void bw_contact_message_clear(struct bw_contact_message *m);

/* One step of a contact's flow log: which block ran and which branch it
 * took; never a value. */
struct bw_flow_log_entry {
	char instance_id[48];
	char contact_id[48];
	long long seq;
	long long time; /* ms */
	char action_id[136];
	char action_type[40];
	char branch[40]; /* "Next", "Condition[2]", an ErrorType, "Wait", "End" */
};

struct bw_contact_filter {
	const char *instance_id;
	long long since_ms, until_ms; /* on initiated_at; 0 = unbounded */
	const char *channel, *queue_id, *agent_id, *state; /* NULL = any */
	/* paging, newest first: rows strictly before (initiated_at, id) */
	long long before_ms;
	const char *before_id; /* NULL for the first page */
};

/* Insert or replace the whole row (instance_id, id); token_hash set only
 * when not NULL (insert), kept otherwise. */
BW_MUST_USE bw_result bw_store_contact_put(struct bw_store *s, const struct bw_contact *c,
                                           const uint8_t token_hash[32]);
BW_MUST_USE bw_result bw_store_contact_get(struct bw_store *s, const char *iid, const char *id,
                                           struct bw_contact *out);
/* The contact a participant token belongs to. */
BW_MUST_USE bw_result bw_store_contact_by_token(struct bw_store *s, const uint8_t hash[32],
                                                struct bw_contact *out);
BW_MUST_USE bw_result bw_store_contact_search(struct bw_store *s,
                                              const struct bw_contact_filter *f,
                                              struct bw_contact *out, size_t max, size_t *n);
/* Calls cb with every contact not ENDED (oldest first; customer data
 * sealed); a non-zero return stops the scan. */
typedef int(bw_contact_cb)(const struct bw_contact *c, void *arg);
BW_MUST_USE bw_result bw_store_contacts_live(struct bw_store *s, bw_contact_cb *cb, void *arg);
/* Every contact not ENDED is ended with reason and time (start-up after a
 * stop); *n receives how many. */
BW_MUST_USE bw_result bw_store_contacts_end_live(struct bw_store *s, const char *reason,
                                                 long long now_ms, size_t *n);
BW_MUST_USE bw_result bw_store_message_insert(struct bw_store *s,
                                              const struct bw_contact_message *m);
/* Messages with seq > after, oldest first. */
BW_MUST_USE bw_result bw_store_message_list(struct bw_store *s, const char *iid, const char *cid,
                                            long long after, struct bw_contact_message *out,
                                            size_t max, size_t *n);
BW_MUST_USE bw_result bw_store_flow_log_append(struct bw_store *s,
                                               const struct bw_flow_log_entry *e, size_t n);
BW_MUST_USE bw_result bw_store_flow_log_list(struct bw_store *s, const char *iid,
                                             const char *cid, long long after,
                                             struct bw_flow_log_entry *out, size_t max,
                                             size_t *n);
/* ---- end contacts ---- */

/* ---- integrations (0010) ---- */

/* An integration of the registry (C17): name and base URL, and its other
 * settings as one JSON text (src/integ/integ.h reads it). Times are Unix
 * ms; last_called_at 0: never called. */
struct bw_integration_row {
	char id[48];
	char instance_id[48];
	char name[136];
	char *base_url; /* malloc'd (bw_integration_row_clear) */
	char *config;   /* malloc'd JSON text */
	long long created_at, updated_at, last_called_at;
};
void bw_integration_row_clear(struct bw_integration_row *r);

/* BW_CONFLICT when the instance has an integration of that name. */
BW_MUST_USE bw_result bw_store_integration_insert(struct bw_store *s,
                                                  const struct bw_integration_row *r);
BW_MUST_USE bw_result bw_store_integration_get(struct bw_store *s, const char *iid,
                                               const char *id, struct bw_integration_row *out);
/* By id after `after`; unused_before > 0 keeps those nothing has called
 * since then: last_called_at, or created_at when never called, before it. */
BW_MUST_USE bw_result bw_store_integration_list(struct bw_store *s, const char *iid,
                                                const char *after, long long unused_before,
                                                struct bw_integration_row *out, size_t max,
                                                size_t *n);
/* Writes name, base_url, config and updated_at; BW_CONFLICT on a name. */
BW_MUST_USE bw_result bw_store_integration_update(struct bw_store *s,
                                                  const struct bw_integration_row *r);
BW_MUST_USE bw_result bw_store_integration_delete(struct bw_store *s, const char *iid,
                                                  const char *id);
/* Records a call through it at `at` (never moves last_called_at back). */
BW_MUST_USE bw_result bw_store_integration_touch(struct bw_store *s, const char *iid,
                                                 const char *id, long long at);
/* ---- end integrations ---- */

/* ---- event subscriptions and their outbox (0011) ---- */

/* A subscription (C18): name, whether it queues, and its settings as one
 * JSON text (src/events/subs.h reads it); the rest is what its deliveries
 * did. Times are Unix ms, 0: never. */
struct bw_event_sub_row {
	char id[48];
	char instance_id[48];
	char name[136];
	char *config; /* malloc'd JSON text (bw_event_sub_row_clear) */
	bool enabled;
	long long created_at, updated_at;
	long long delivered, last_delivered_at, last_error_at;
	char last_error[160];
};
void bw_event_sub_row_clear(struct bw_event_sub_row *r);

/* BW_CONFLICT when the instance has a subscription of that name. */
BW_MUST_USE bw_result bw_store_event_sub_insert(struct bw_store *s,
                                                const struct bw_event_sub_row *r);
BW_MUST_USE bw_result bw_store_event_sub_get(struct bw_store *s, const char *iid,
                                             const char *id, struct bw_event_sub_row *out);
/* By id after `after`; enabled_only keeps the ones that queue events. */
BW_MUST_USE bw_result bw_store_event_sub_list(struct bw_store *s, const char *iid,
                                              const char *after, bool enabled_only,
                                              struct bw_event_sub_row *out, size_t max,
                                              size_t *n);
/* Writes name, config, enabled and updated_at; BW_CONFLICT on a name. */
BW_MUST_USE bw_result bw_store_event_sub_update(struct bw_store *s,
                                                const struct bw_event_sub_row *r);
/* Drops what it had not delivered too. */
BW_MUST_USE bw_result bw_store_event_sub_delete(struct bw_store *s, const char *iid,
                                                const char *id);

/* One queued event for one subscription. payload is the sealed envelope. */
struct bw_outbox_row {
	long long seq; /* assigned by the store */
	char id[48];   /* et_... */
	char instance_id[48];
	char subscription_id[48];
	char type[24];
	char dedup_key[112];
	uint8_t *payload; /* malloc'd (bw_outbox_row_clear) */
	size_t payload_len;
	int attempts;
	bool dead;
	long long next_at, created_at, last_attempt_at;
	char last_error[160];
};
void bw_outbox_row_clear(struct bw_outbox_row *r);

BW_MUST_USE bw_result bw_store_outbox_insert(struct bw_store *s, const struct bw_outbox_row *rows,
                                             size_t n);
/* Up to max live rows of one subscription (NULL: any) due at `now`,
 * oldest first. */
BW_MUST_USE bw_result bw_store_outbox_due(struct bw_store *s, const char *sid, long long now,
                                          struct bw_outbox_row *out, size_t max, size_t *n);
/* The subscriptions whose sink is of type `sink` ("webhook", "nats",
 * "warehouse") and that have live rows, with the earliest next_at of each. */
struct bw_outbox_sub {
	char subscription_id[48];
	char instance_id[48];
	long long next_at;
};
BW_MUST_USE bw_result bw_store_outbox_subs(struct bw_store *s, const char *sink,
                                           struct bw_outbox_sub *out, size_t max, size_t *n);
/* Every live row waiting past `now` is due at `now` (start-up: leases of
 * the last run are void, and waits start over). *n how many. */
BW_MUST_USE bw_result bw_store_outbox_due_now(struct bw_store *s, long long now, long long *n);
/* Rows being delivered are not due again before `until` (a crash
 * mid-delivery sends them again then). */
BW_MUST_USE bw_result bw_store_outbox_lease(struct bw_store *s, const long long *seqs, size_t n,
                                            long long until);

/* What one try did: delivered (the row goes, the subscription counts it),
 * or failed (attempts, next_at, dead and last_error as given; the
 * subscription's last error too). */
struct bw_outbox_result {
	long long seq;
	const char *subscription_id;
	bool ok;
	int attempts;
	bool dead;
	long long next_at;
	const char *error;
};
/* All in one transaction, at `now`. */
BW_MUST_USE bw_result bw_store_outbox_settle(struct bw_store *s,
                                             const struct bw_outbox_result *res, size_t n,
                                             long long now);
/* Rows waiting (live) and dead for one subscription (NULL, NULL: all). */
BW_MUST_USE bw_result bw_store_outbox_counts(struct bw_store *s, const char *iid,
                                             const char *sid, long long *pending,
                                             long long *dead);
/* Dead letters after seq `after`, oldest first; payload left NULL. */
BW_MUST_USE bw_result bw_store_outbox_dead_list(struct bw_store *s, const char *iid,
                                                const char *sid, long long after,
                                                struct bw_outbox_row *out, size_t max,
                                                size_t *n);
/* Every dead letter of the subscription queued again (attempts 0, due at
 * now), or deleted; *n how many. */
BW_MUST_USE bw_result bw_store_outbox_dead_requeue(struct bw_store *s, const char *iid,
                                                   const char *sid, long long now,
                                                   long long *n);
BW_MUST_USE bw_result bw_store_outbox_dead_delete(struct bw_store *s, const char *iid,
                                                  const char *sid, long long *n);
/* Dead letters of any instance whose last try was before `before` are
 * deleted (retention); *n how many. */
BW_MUST_USE bw_result bw_store_outbox_dead_expire(struct bw_store *s, long long before,
                                                  long long *n);
/* ---- end event subscriptions ---- */

/* ---- approved origins' use (0012) ---- */
struct bw_origin_use {
	long long first_seen_at, last_used_at; /* Unix ms; last_used_at 0: never */
};
/* A public request came from the instance's approved origin at `at`. */
BW_MUST_USE bw_result bw_store_origin_used(struct bw_store *s, const char *iid,
                                           const char *origin, long long at);
/* Records the origin as seen at `at` when it has no row yet, and reads its
 * row. */
BW_MUST_USE bw_result bw_store_origin_seen(struct bw_store *s, const char *iid,
                                           const char *origin, long long at,
                                           struct bw_origin_use *out);
/* ---- end approved origins ---- */

/* ---- fraud (0006) ---- */

struct bw_deny_row {
	char id[48];
	char instance_id[48];
	char type[12];   /* IP, NUMBER, EMAIL */
	char value[256]; /* normalized (bw_fraud_deny_value) */
	char reason[520];
	char source[12]; /* MANUAL, AUTOMATIC */
	long long expires_at; /* ms, 0: never */
	long long created_at; /* ms */
};

struct bw_deny_filter {
	const char *instance_id;
	const char *type, *source; /* NULL = any */
	const char *after;         /* id paging */
};

/* BW_CONFLICT on a repeated (instance, type, value); an expired entry of
 * the same (type, value) is replaced. */
BW_MUST_USE bw_result bw_store_deny_insert(struct bw_store *s, const struct bw_deny_row *d);
/* All rows or none (one transaction); BW_CONFLICT names nothing. */
BW_MUST_USE bw_result bw_store_deny_insert_many(struct bw_store *s, const struct bw_deny_row *d,
                                                size_t n);
BW_MUST_USE bw_result bw_store_deny_get(struct bw_store *s, const char *iid, const char *id,
                                        struct bw_deny_row *out);
BW_MUST_USE bw_result bw_store_deny_list(struct bw_store *s, const struct bw_deny_filter *f,
                                         struct bw_deny_row *out, size_t max, size_t *n);
/* Writes reason and expires_at. */
BW_MUST_USE bw_result bw_store_deny_update(struct bw_store *s, const struct bw_deny_row *d);
BW_MUST_USE bw_result bw_store_deny_delete(struct bw_store *s, const char *iid, const char *id);
/* Every unexpired row of every instance (start-up), in id order. */
typedef int(bw_deny_cb)(const struct bw_deny_row *d, void *arg);
BW_MUST_USE bw_result bw_store_deny_scan(struct bw_store *s, long long now_ms, bw_deny_cb *cb,
                                         void *arg);
BW_MUST_USE bw_result bw_store_deny_purge(struct bw_store *s, long long now_ms);

/* Contact history: one row per identifier of an accepted contact, keyed by
 * the hashed key (bw_guard_key), never the raw value. */
struct bw_history_row {
	char instance_id[48];
	int kind;      /* enum bw_fraud_kind */
	char key[33];  /* 32 hex */
	long long at;  /* ms */
};
BW_MUST_USE bw_result bw_store_history_add(struct bw_store *s, const struct bw_history_row *h,
                                           size_t n);
typedef int(bw_history_cb)(const struct bw_history_row *h, void *arg);
/* Rows with at >= since_ms, oldest first. */
BW_MUST_USE bw_result bw_store_history_scan(struct bw_store *s, long long since_ms,
                                            bw_history_cb *cb, void *arg);
BW_MUST_USE bw_result bw_store_history_purge(struct bw_store *s, long long before_ms);

/* The contact filter's JSON text of an instance (docs/api.md shape);
 * BW_NOTFOUND when never set (the defaults apply). */
BW_MUST_USE bw_result bw_store_filter_get(struct bw_store *s, const char *iid, char **json);
BW_MUST_USE bw_result bw_store_filter_put(struct bw_store *s, const char *iid, const char *json);
/* Every instance's filter (start-up). */
typedef int(bw_filter_cb)(const char *iid, const char *json, void *arg);
BW_MUST_USE bw_result bw_store_filter_scan(struct bw_store *s, bw_filter_cb *cb, void *arg);
/* ---- end fraud ---- */

/* ---- secrets (0009) ---- */

/* A secret of the vault (C7): metadata only; values are sealed versions
 * (src/integ/secrets.c seals and opens them). Times are Unix ms. */
struct bw_secret {
	char id[48];
	char instance_id[48];
	char name[72];                     /* [A-Za-z0-9._-]{1,64} */
	long long version;                 /* the current one, from 1 */
	long long created_at;
	long long rotated_at;              /* 0: never rotated */
	long long previous_readable_until; /* 0: no previous version */
};

/* One sealed value of a secret. */
struct bw_secret_blob {
	char secret_id[48];
	long long version;
	uint8_t *value; /* sealed, malloc'd; bw_secret_blob_clear frees it */
	size_t len;
	long long readable_until; /* 0 while it is the current version */
};
void bw_secret_blob_clear(struct bw_secret_blob *b);

/* A secret and its version 1 in one transaction; BW_CONFLICT when the
 * instance has a secret of that name. */
BW_MUST_USE bw_result bw_store_secret_insert(struct bw_store *s, const struct bw_secret *sec,
                                             const uint8_t *sealed, size_t n);
BW_MUST_USE bw_result bw_store_secret_get(struct bw_store *s, const char *iid, const char *id,
                                          struct bw_secret *out);
/* By id after `after`; name (NULL: any) selects one name. */
BW_MUST_USE bw_result bw_store_secret_list(struct bw_store *s, const char *iid, const char *name,
                                           const char *after, struct bw_secret *out, size_t max,
                                           size_t *n);
/* Makes version from + 1 (sealed) current, leaves version `from` readable
 * until `until` and deletes the versions whose grace ended by `now`, in one
 * transaction. BW_CONFLICT when the secret is no longer at version `from`
 * (another rotation came first); out gets the row. */
BW_MUST_USE bw_result bw_store_secret_rotate(struct bw_store *s, const char *iid, const char *id,
                                             long long from, const uint8_t *sealed, size_t n,
                                             long long now, long long until,
                                             struct bw_secret *out);
BW_MUST_USE bw_result bw_store_secret_delete(struct bw_store *s, const char *iid, const char *id);
/* The sealed value of the secret named `name`: its current version
 * (version 0), or the given version while it is current or readable at
 * `now`; BW_NOTFOUND otherwise. */
BW_MUST_USE bw_result bw_store_secret_blob(struct bw_store *s, const char *iid, const char *name,
                                           long long version, long long now,
                                           struct bw_secret_blob *out);

/* An instance's Ed25519 role signing key (C7). */
struct bw_signing_key {
	char instance_id[48];
	char kid[48];          /* RFC 7638 thumbprint: 43 base64url characters */
	uint8_t public_key[32];
	uint8_t *private_key;  /* the sealed seed, malloc'd; NULL in lists */
	size_t private_len;
	long long created_at;   /* published (JWKS) from then, ms */
	long long activates_at; /* signs from then */
	long long retires_at;   /* stops signing then (its successor's start); 0: no successor */
};
void bw_signing_key_clear(struct bw_signing_key *k);

/* The instance's keys, newest first, without private keys. */
BW_MUST_USE bw_result bw_store_signing_key_list(struct bw_store *s, const char *iid,
                                                struct bw_signing_key *out, size_t max,
                                                size_t *n);
/* One key with its sealed private key. */
BW_MUST_USE bw_result bw_store_signing_key_get(struct bw_store *s, const char *iid,
                                               const char *kid, struct bw_signing_key *out);
/* Adds k as the instance's newest key in one transaction: BW_CONFLICT
 * unless the newest key is still newest_kid ("" for none), so that two
 * threads never rotate at once. The keys without a successor retire at
 * k->activates_at; keys that retired before purge_before are deleted. */
BW_MUST_USE bw_result bw_store_signing_key_add(struct bw_store *s, const struct bw_signing_key *k,
                                               const char *newest_kid, long long purge_before);
/* ---- end secrets ---- */

/* ---- encryption keys (0007) ---- */

/* An integrator's RSA public key for encrypted customer input (C15). */
#define BW_ENCKEY_MAX_ACTIVE 2
struct bw_enckey {
	char instance_id[48];
	char key_id[72];      /* [A-Za-z0-9._-]{1,64} */
	char status[12];      /* ACTIVE, DISABLED */
	char fingerprint[72]; /* 64 hex: SHA-256 of the DER public key */
	int bits;
	char *public_key; /* PEM, malloc'd; NULL in lists; bw_enckey_clear frees it */
	long long created_at, updated_at; /* ms */
};
void bw_enckey_clear(struct bw_enckey *k);

/* BW_CONFLICT when the key id exists in the instance, or when k is ACTIVE
 * and BW_ENCKEY_MAX_ACTIVE keys are active already. */
BW_MUST_USE bw_result bw_store_enckey_insert(struct bw_store *s, const struct bw_enckey *k);
BW_MUST_USE bw_result bw_store_enckey_get(struct bw_store *s, const char *iid,
                                          const char *key_id, struct bw_enckey *out);
/* By key id, without public_key. */
BW_MUST_USE bw_result bw_store_enckey_list(struct bw_store *s, const char *iid, const char *after,
                                           struct bw_enckey *out, size_t max, size_t *n);
/* ACTIVE or DISABLED; BW_CONFLICT when activating a third key. */
BW_MUST_USE bw_result bw_store_enckey_set_status(struct bw_store *s, const char *iid,
                                                 const char *key_id, const char *status,
                                                 long long now_ms);
BW_MUST_USE bw_result bw_store_enckey_delete(struct bw_store *s, const char *iid,
                                             const char *key_id);
/* The instance's ACTIVE keys with their PEM, by key id (0 to 2 of them):
 * what a flow encrypts customer input to. Each out[i] is cleared first; the
 * caller clears the *n it got. */
BW_MUST_USE bw_result bw_store_enckey_active(struct bw_store *s, const char *iid,
                                             struct bw_enckey out[BW_ENCKEY_MAX_ACTIVE],
                                             size_t *n);
/* ---- end encryption keys ---- */

/* ---- keys (0008) ---- */

/* Envelope encryption at rest (C14): KEKs per instance wrapped under the
 * root key, data keys wrapped under a KEK (src/sec/keyring.c). Only the
 * keyring's connections call these. Times are Unix ms. */
#define BW_WRAPPED_MAX 96
struct bw_kek_row {
	char instance_id[48];
	char id[48];
	char origin[12]; /* GENERATED, IMPORTED */
	char state[12];  /* ACTIVE, RETIRING */
	uint8_t wrapped[BW_WRAPPED_MAX];
	size_t wrapped_len;
	long long created_at;
};

struct bw_dk_row {
	char instance_id[48];
	uint32_t id; /* 1.. within the instance */
	char kek_id[48];
	uint8_t wrapped[BW_WRAPPED_MAX];
	size_t wrapped_len;
	long long created_at;
};

/* A data key moved from one KEK to another. */
struct bw_dk_rewrap {
	uint32_t id;
	char from_kek_id[48];
	char kek_id[48];
	uint8_t wrapped[BW_WRAPPED_MAX];
	size_t wrapped_len;
};

struct bw_key_rotation {
	char id[48];
	char instance_id[48];
	char kek_id[48];      /* the new KEK */
	char from_kek_id[48]; /* the active KEK it replaced */
	char state[12];       /* RUNNING, COMPLETED, FAILED */
	long long total, rewrapped;
	long long started_at, finished_at; /* finished_at 0 while RUNNING */
};

/* The platform's RSA key for BYOK imports; public_key and wrapped_private
 * are malloc'd (bw_import_key_clear). */
struct bw_import_key {
	char id[48];
	char *public_key; /* PEM */
	int bits;
	uint8_t *wrapped_private;
	size_t wrapped_len;
	long long created_at;
};
void bw_import_key_clear(struct bw_import_key *k);

/* KEKs of an instance still in the table (ACTIVE first, then RETIRING by
 * age); 0 rows is BW_OK with *n = 0. */
BW_MUST_USE bw_result bw_store_kek_list(struct bw_store *s, const char *iid,
                                        struct bw_kek_row *out, size_t max, size_t *n);
/* An instance's first KEK (ACTIVE): BW_CONFLICT when it has one already,
 * BW_DENIED when its keys were destroyed (tombstone). */
BW_MUST_USE bw_result bw_store_kek_insert(struct bw_store *s, const struct bw_kek_row *k);
/* BW_OK when the instance's keys were destroyed, BW_NOTFOUND otherwise. */
BW_MUST_USE bw_result bw_store_keys_destroyed(struct bw_store *s, const char *iid);
/* BW_CONFLICT when the instance has a data key of that id. */
BW_MUST_USE bw_result bw_store_dk_insert(struct bw_store *s, const struct bw_dk_row *d);
BW_MUST_USE bw_result bw_store_dk_get(struct bw_store *s, const char *iid, uint32_t id,
                                      struct bw_dk_row *out);
/* The newest data key of an instance (BW_NOTFOUND when none). */
BW_MUST_USE bw_result bw_store_dk_newest(struct bw_store *s, const char *iid,
                                         struct bw_dk_row *out);
BW_MUST_USE bw_result bw_store_dk_count(struct bw_store *s, const char *iid, long long *n);
/* Data keys of an instance not wrapped by kek_id, id > after, by id. */
BW_MUST_USE bw_result bw_store_dk_stale(struct bw_store *s, const char *iid, const char *kek_id,
                                        uint32_t after, struct bw_dk_row *out, size_t max,
                                        size_t *n);
/* Re-wraps in one transaction (a row whose KEK changed meanwhile is left)
 * and adds the rows changed to the rotation's count. */
BW_MUST_USE bw_result bw_store_dk_rewrap(struct bw_store *s, const char *iid, const char *rid,
                                         const struct bw_dk_rewrap *w, size_t n);
/* Starts a rotation to a new ACTIVE KEK k: the active KEK becomes RETIRING
 * (named in r->from_kek_id), r->total counts the data keys to move.
 * BW_CONFLICT while the instance has a RUNNING rotation; BW_DENIED after
 * its keys were destroyed; BW_NOTFOUND when it has no KEK. */
BW_MUST_USE bw_result bw_store_rotation_start(struct bw_store *s, const struct bw_kek_row *k,
                                              struct bw_key_rotation *r);
/* The newest rotation of an instance. */
BW_MUST_USE bw_result bw_store_rotation_last(struct bw_store *s, const char *iid,
                                             struct bw_key_rotation *out);
/* Every RUNNING rotation (start-up resumes them). */
BW_MUST_USE bw_result bw_store_rotation_running(struct bw_store *s, struct bw_key_rotation *out,
                                                size_t max, size_t *n);
/* Ends a rotation: COMPLETED when no data key of the instance is left
 * under another KEK (the RETIRING KEKs are then deleted), FAILED otherwise
 * (they stay, so that nothing becomes unreadable). out gets the row. */
BW_MUST_USE bw_result bw_store_rotation_finish(struct bw_store *s, const char *iid,
                                               const char *rid, long long now,
                                               struct bw_key_rotation *out);
/* Crypto-shredding: every KEK, data key, rotation and import token of the
 * instance goes in one transaction, and a tombstone stays. */
BW_MUST_USE bw_result bw_store_keys_destroy(struct bw_store *s, const char *iid, long long now);
/* The platform import key (BW_NOTFOUND before the first); insert gives
 * BW_CONFLICT when another was stored first. */
BW_MUST_USE bw_result bw_store_import_key_get(struct bw_store *s, struct bw_import_key *out);
BW_MUST_USE bw_result bw_store_import_key_insert(struct bw_store *s,
                                                 const struct bw_import_key *k);
/* Import tokens by hash; expired ones are purged on insert. take deletes a
 * valid token of the instance (BW_NOTFOUND: unknown, expired or another
 * instance's) and gives the import key it was issued with. */
BW_MUST_USE bw_result bw_store_import_token_insert(struct bw_store *s, const uint8_t hash[32],
                                                   const char *iid, const char *key_id,
                                                   long long expires_at, long long now);
BW_MUST_USE bw_result bw_store_import_token_take(struct bw_store *s, const uint8_t hash[32],
                                                 const char *iid, long long now,
                                                 char key_id[48]);
/* Overwrites deleted content (secure_delete) on this connection. */
BW_MUST_USE bw_result bw_store_keys_harden(struct bw_store *s);
/* Checkpoints the WAL and truncates it, so that no old page image of a
 * deleted key stays in it; BW_AGAIN when a reader kept it from finishing. */
BW_MUST_USE bw_result bw_store_wal_purge(struct bw_store *s);

/* Sealed columns (the keyring's one-time re-seal of values written before
 * 0008): a page of rows after a rowid, and new blobs written back in one
 * transaction. BW_SEALED_NAMES reads users' names in clear as JSON text
 * (blob) and writes the sealed blob to users.pii, clearing the columns. */
enum bw_sealed_col { BW_SEALED_MFA, BW_SEALED_CUSTOMER, BW_SEALED_MESSAGE, BW_SEALED_NAMES };
struct bw_sealed_item {
	long long rowid;
	char instance_id[48];
	char id[48];
	uint8_t *blob; /* malloc'd */
	size_t len;
};
BW_MUST_USE bw_result bw_store_sealed_page(struct bw_store *s, enum bw_sealed_col col,
                                           long long after, struct bw_sealed_item *out,
                                           size_t max, size_t *n);
BW_MUST_USE bw_result bw_store_sealed_put(struct bw_store *s, enum bw_sealed_col col,
                                          const struct bw_sealed_item *items, size_t n);
/* One-time keyring tasks: BW_OK while pending, BW_NOTFOUND when done. */
BW_MUST_USE bw_result bw_store_keyring_task(struct bw_store *s, const char *name);
BW_MUST_USE bw_result bw_store_keyring_task_done(struct bw_store *s, const char *name);
/* ---- end keys ---- */

/* ---- audit (0002) ---- */

struct bw_audit_event {
	char chain[48];
	long long seq;
	char id[48];
	char time[40];
	char instance_id[48];
	char principal_kind[16];
	char principal_id[48];
	char principal_name[264];
	char action[64];
	char resource[264];
	char source_ip[64];
	char user_agent[264];
	char result[16];
	int status;
	char error_code[40];
	char request_id[72];
	uint8_t prev_hash[32];
	uint8_t hash[32];
};

struct bw_audit_head {
	char chain[48];
	long long seq;
	uint8_t hash[32];
	uint8_t mac[32];
};

/* Appends events and sets the heads, in one transaction. */
BW_MUST_USE bw_result bw_store_audit_append(struct bw_store *s, const struct bw_audit_event *ev,
                                            size_t n, const struct bw_audit_head *heads,
                                            size_t nheads);
BW_MUST_USE bw_result bw_store_audit_head(struct bw_store *s, const char *chain,
                                          struct bw_audit_head *out);

struct bw_audit_filter {
	const char *instance_id; /* NULL: the platform chain */
	const char *action;
	const char *result;
	const char *principal_id;
	const char *since, *until; /* RFC 3339 */
	long long before_seq;      /* paging: 0 for the newest */
};
/* Newest first. */
BW_MUST_USE bw_result bw_store_audit_list(struct bw_store *s, const struct bw_audit_filter *f,
                                          struct bw_audit_event *out, size_t max, size_t *n);
/* Calls cb for every event of a chain in seq order (stops when cb returns non-zero). */
typedef int(bw_audit_cb)(const struct bw_audit_event *ev, void *arg);
BW_MUST_USE bw_result bw_store_audit_scan(struct bw_store *s, const char *chain, bw_audit_cb *cb,
                                          void *arg);
/* Every chain name that has events or a head. */
BW_MUST_USE bw_result bw_store_audit_chains(struct bw_store *s, char (*out)[48], size_t max,
                                            size_t *n);

#endif
