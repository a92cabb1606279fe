/* Internals of the engine (src/cc/engine*.c, route.c, chat.c, agent.c,
 * persist.c). Everything here lives on the loop thread, except what
 * persist.c hands to its writer thread (copies). */
#ifndef BW_CC_ENGINE_INT_H
#define BW_CC_ENGINE_INT_H

#include "cc/engine.h"
#include "flow/flow.h"

#define CC_MAX_SOCKETS 4     /* customer sockets of one contact, streams of one agent */
#define CC_MAX_HELD 16       /* contacts one agent holds (connected or in ACW) */
#define CC_MAX_EXCLUDED 8    /* agents who rejected or missed one contact */
#define CC_MAX_TRANSCRIPT 200 /* messages kept in memory for a reconnect */
#define CC_MAX_ATTRIBUTES 64

/* A string → pointer map (open addressing). */
struct cc_map {
	struct cc_map_slot {
		char *key;
		void *val;
	} *slots;
	size_t cap, n, used;
};
void *cc_map_get(const struct cc_map *m, const char *key);
int cc_map_put(struct cc_map *m, const char *key, void *val);
void cc_map_del(struct cc_map *m, const char *key);
void cc_map_free(struct cc_map *m);

struct cc_inst;
struct cc_agent;

/* A cached flow version: contacts of one version share its graph. */
struct cc_flow {
	char key[112]; /* flow id "@" version */
	struct bw_flow *graph;
	size_t refs;
};

struct cc_queue {
	struct cc_queue *next; /* in the instance */
	char id[48];
	long long max_contacts;
	struct cc_contact *head, *tail; /* oldest first */
	size_t count;
};

struct cc_contact {
	struct cc_contact *prev, *next;   /* every contact of the instance */
	struct cc_contact *qprev, *qnext; /* in its queue while queued or offered */
	struct cc_inst *in;
	struct bw_contact rec; /* rec.customer stays NULL: persist seals a copy */
	char display_name[136], email[264], address[64], phone_number[24], region[4];
	json_t *attrs;
	json_t *classes; /* class map (C13): the instance's at the start, raised by the flow */
	int redaction;   /* enum bw_redact_mode, the instance's at the start */
	char *input; /* $.StoredCustomerInput; wiped */
	struct cc_flow *flow;
	struct bw_flow_cursor cur;
	bool waiting_input;
	double input_deadline;
	bool waiting_call;           /* InvokeIntegration: a call is out (invoke.c) */
	unsigned long long call_id;  /* which one: a late answer to another is dropped */
	double call_deadline;
	bool logging;
	struct bw_cc_queue_snap *qsnaps;
	size_t nqsnaps;
	struct bw_cc_hours_snap *hsnaps;
	size_t nhsnaps;
	struct bw_enckey keys[BW_ENCKEY_MAX_ACTIVE];
	size_t nkeys;
	struct cc_queue *queue;
	struct cc_agent *agent; /* offered to, connected to, or in ACW with */
	bool offered, acw;
	double offer_deadline, acw_deadline;
	char excluded[CC_MAX_EXCLUDED][48];
	int nexcluded;
	struct bw_ws *cust[CC_MAX_SOCKETS];
	int ncust;
	long long next_seq;
	double last_activity;
	char **transcript; /* frame texts, oldest first */
	size_t ntranscript;
	bool ended;
	struct bw_flow_log_entry *log; /* the flow log not yet handed to the writer */
	size_t nlog, caplog;
	long long log_seq;
	const char *end_reason; /* set by a block that ends the contact (static) */
};

struct cc_agent {
	struct cc_agent *prev, *next;
	struct cc_inst *in;
	char uid[48];
	char name[136];
	char status[40];
	int cap_chat, cap_callback;
	bool outbound;
	bool sensitive_view; /* SensitiveData.View when the stream opened or the status was set */
	size_t nqueues;
	struct bw_rp_queue *queues;
	double idle_since;
	struct bw_ws *ws[CC_MAX_SOCKETS];
	int nws;
	struct cc_contact *offer;
	struct cc_contact *held[CC_MAX_HELD];
	int nheld;
	char last_offer[48]; /* the offer that expired or was withdrawn last */
};

struct cc_inst {
	char id[48];
	struct cc_contact *contacts; /* live and lingering (sockets still open) */
	struct cc_agent *agents;
	struct cc_queue *queues;
	size_t nqueued; /* contacts waiting in any queue */
};

/* engine.c */
extern struct bw_cc_settings cc_set;
extern struct cc_map cc__insts; /* instance id → struct cc_inst */
struct cc_inst *cc_inst_get(const char *iid, bool create);
struct cc_contact *cc_contact_find(const char *cid);
double cc_now(void);      /* seconds, monotonic */
/* Records a state change and stores the record; returns the writer ticket. */
unsigned long long cc_contact_save(struct cc_contact *c);
/* Ends the contact with reason (idempotent); returns the writer ticket. */
unsigned long long cc_contact_end(struct cc_contact *c, const char *reason);
/* Frees the contact once it has ended and nothing points to it. */
void cc_contact_release(struct cc_contact *c);
/* Starts or resumes the contact's flow. */
void cc_flow_continue(struct cc_contact *c);
/* The customer's input for a waiting GetParticipantInput. */
void cc_flow_input(struct cc_contact *c, const char *text, size_t n);
/* A pending InvokeIntegration's call ended: the flow goes on. */
void cc_flow_answer(struct cc_contact *c, const struct bw_flow_answer *ans);
/* The contact for an agent: attributes masked by class unless view. */
json_t *cc_contact_json(const struct cc_contact *c, bool view);
/* The attributes as a reader with or without SensitiveData.View sees them. */
json_t *cc_contact_attrs(const struct cc_contact *c, bool view);

/* invoke.c: InvokeIntegration's calls (made ready on a worker, sent by
 * the egress on the loop) */
int cc_invoke_start(void *ctx, const struct bw_flow_call *call);
/* The tick: a call past its deadline answers Timeout. */
void cc_invoke_tick(struct cc_contact *c, double now);
/* bw_cc_stop: frees what the loop did not get to. */
void cc_invoke_stop(void);

/* route.c */
/* The live state of a queue (made on first use: a contact or an agent). */
struct cc_queue *cc_queue_live(struct cc_inst *in, const char *qid, bool create);
int cc_queue_add(struct cc_contact *c, const char *qid);
void cc_queue_remove(struct cc_contact *c);
void cc_route(struct cc_inst *in);
void cc_offer_withdraw(struct cc_contact *c);
void cc_offer_expired(struct cc_contact *c);
bool cc_agent_release(struct cc_agent *a, struct cc_contact *c);
struct cc_agent *cc_agent_find(struct cc_inst *in, const char *uid);
void cc_agent_send(struct cc_agent *a, const char *text, size_t len);
void cc_agent_send_json(struct cc_agent *a, json_t *v);
void cc_agent_set_status(struct cc_agent *a, const char *status);
bw_result cc_accept(struct cc_agent *a, struct cc_contact *c);
void cc_reject(struct cc_agent *a, struct cc_contact *c);

/* chat.c */
/* A message of the chat: stored, then sent to every participant. */
unsigned long long cc_message(struct cc_contact *c, const char *role, const char *sender_id,
                              const char *display_name, const char *text, size_t n,
                              json_t **out);
/* A mask for a value kept out of the transcript (C15): bw_mask's. */
void cc_mask(const char *s, size_t n, char *out, size_t outsz);
/* An event to the customer sockets and the agent (when connected). */
void cc_event(struct cc_contact *c, const char *event, const char *role, const char *name,
              const char *reason);
void cc_customer_send_json(struct cc_contact *c, json_t *v);

/* persist.c: the writer thread (the store, never on the loop) */
bw_result cc_persist_start(const char *db_path, int durability);
void cc_persist_stop(void);
unsigned long long cc_persist_contact(const struct bw_contact *rec, char *customer_json,
                                      struct bw_flow_log_entry *log, size_t nlog);
/* Stores a message, then relays its frames on the loop: frame to the
 * customer, agent_frame (when not NULL; else frame) to the agent. */
unsigned long long cc_persist_message(const struct bw_contact_message *m, const char *text,
                                      size_t n, char *frame, char *agent_frame);
/* Writes a status the engine set into the user's row. */
unsigned long long cc_persist_status(const char *iid, const char *uid, const char *status);
/* Waits (on a worker) until the ticket is stored. */
void cc_persist_wait(unsigned long long ticket);
/* On the loop: a stored message's frames go out (both are freed). */
void cc_relay(const char *cid, char *frame, char *agent_frame);

#endif
