/* The contact-center engine (K1, K2, K5, K7): live contacts, flows running,
 * queues, agents and offers, chat relay. Its state belongs to the loop
 * thread; handlers on workers call the functions below, which run there
 * (bw_loop_call) and wait until what they changed is stored. */
#ifndef BW_CC_ENGINE_H
#define BW_CC_ENGINE_H

#include <jansson.h>
#include <stdbool.h>

#include "cc/hours.h"
#include "core/result.h"
#include "net/net.h"
#include "store/store.h"

struct bw_config;
struct bw_flow;

#define BW_CC_MAX_SNAPSHOTS 32 /* queues or hours a flow names */

/* Settings read at start (docs/api.md, "Contact center"). */
struct bw_cc_settings {
	long offer_timeout_s, acw_timeout_s, chat_idle_timeout_s, chat_connect_timeout_s,
	    flow_step_limit;
	long max_message_chars;
};

/* Start: ends the contacts a previous run left live (SERVER_RESTART),
 * starts the writer thread and the engine's tick. */
BW_MUST_USE bw_result bw_cc_start(const struct bw_config *cfg, const char *db_path,
                                  int durability);
/* Stores what is queued and stops the writer. */
void bw_cc_stop(void);
const struct bw_cc_settings *bw_cc_settings(void);

struct bw_cc_queue_snap {
	char id[48];
	long long max_contacts; /* 0: no limit */
	bool has_hours;
	struct bw_hours hours;
};

struct bw_cc_hours_snap {
	char id[48];
	struct bw_hours hours;
};

/* A new contact, as the worker that accepted it loaded it: the record is
 * already stored (state INITIATED). The engine takes flow, attributes and
 * the snapshots (the queues and hours the flow names, read at its start). */
struct bw_cc_new_contact {
	struct bw_contact rec;
	struct bw_flow *flow;
	json_t *attributes; /* object of strings */
	char display_name[136];
	char email[264];
	char address[64];
	char phone_number[24]; /* CALLBACK: E.164 */
	char region[4];
	struct bw_cc_queue_snap *queues;
	size_t nqueues;
	struct bw_cc_hours_snap *hours;
	size_t nhours;
	struct bw_enckey keys[BW_ENCKEY_MAX_ACTIVE]; /* active encryption keys (C15) */
	size_t nkeys;
	json_t *classes;   /* the instance's attribute_classes (C13), a class map */
	int pii_redaction; /* the instance's pii_redaction (enum bw_redact_mode) */
};
/* Takes everything in n (also on failure). */
BW_MUST_USE bw_result bw_cc_contact_add(struct bw_cc_new_contact *n);

/* The JSON text a contact's customer blob holds (sealed by the writer):
 * the customer's endpoint, "attributes", and "classes", the class of each
 * attribute by the class map `classes` (sec/classify.h; NULL: internal). */
char *bw_cc_customer_json(const char *display_name, const char *email, const char *address,
                          const char *phone_number, const json_t *attributes,
                          const json_t *classes);

#define BW_CC_MAX_RP_QUEUES 50
struct bw_cc_agent_info {
	char instance_id[48];
	char user_id[48];
	char name[136];
	char status[40];
	int cap_chat, cap_callback;
	bool outbound; /* holds Contacts.Outbound: may be offered callbacks */
	bool sensitive_view; /* holds SensitiveData.View: sees sensitive attributes (C13) */
	size_t nqueues;
	struct bw_rp_queue queues[BW_CC_MAX_RP_QUEUES];
};
/* The agent's status and routing profile, after PUT /v1/me/status or when
 * a stream is about to open. */
void bw_cc_agent_update(const struct bw_cc_agent_info *a);

/* Agent actions: BW_NOTFOUND when the contact is not offered to or held by
 * the agent, BW_CONFLICT when its state forbids it. *out (when not NULL)
 * receives the contact or the message as JSON, the contact's attributes
 * masked by class unless `view` (the caller holds SensitiveData.View). */
BW_MUST_USE bw_result bw_cc_accept(const char *iid, const char *uid, const char *cid, bool view,
                                   json_t **out);
BW_MUST_USE bw_result bw_cc_reject(const char *iid, const char *uid, const char *cid);
BW_MUST_USE bw_result bw_cc_agent_end(const char *iid, const char *uid, const char *cid,
                                      bool view, json_t **out);
/* BW_INVALID with *why for bad text. */
BW_MUST_USE bw_result bw_cc_agent_message(const char *iid, const char *uid, const char *cid,
                                          const char *text, json_t **out, const char **why);
/* A callback's outcome (attributes callback_outcome, callback_note);
 * BW_INVALID for a contact that is not a callback. */
BW_MUST_USE bw_result bw_cc_outcome(const char *iid, const char *uid, const char *cid,
                                    const char *outcome, const char *note, bool view,
                                    json_t **out, const char **why);
/* Ends a live contact (reason API). */
BW_MUST_USE bw_result bw_cc_stop_contact(const char *iid, const char *cid);
/* Per-queue real-time figures of one instance. */
json_t *bw_cc_realtime(const char *iid);
/* Prometheus lines for /metrics (loop thread); malloc'd. */
char *bw_cc_metrics_text(void);

/* Checks chat text: valid UTF-8, 1..max characters, no control characters
 * but newline and tab. NULL when fine, else a static reason; *too_long
 * tells the size case apart. */
const char *bw_cc_text_check(const char *s, size_t n, long max, bool *too_long);
/* A participant's display name: 1 to max_chars characters, no control
 * character at all (C0, DEL, C1; no line break or tab either). The chat
 * and the callback entry use it alike. */
bool bw_cc_name_ok(const char *s, long max_chars);

extern const struct bw_ws_ops bw_cc_customer_ws;
extern const struct bw_ws_ops bw_cc_agent_ws;

#endif
