/* Fraud and abuse protection (C10): the in-memory side. A deny list (exact
 * identifiers and IP ranges, with expiry) and sliding-window limiters per
 * identifier, owned by the loop thread (no locks; one instance of each per
 * process, keyed by instance id). Persistence is the caller's: it loads
 * what the store holds at start and stores what it changes. */
#ifndef BW_FRAUD_H
#define BW_FRAUD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/result.h"

struct bw_store;

/* What is counted and deny-listed. A chat's endpoint is its client address:
 * an IPv4 address, or the /64 of an IPv6 one. */
enum bw_fraud_kind {
	BW_FRAUD_ADDRESS = 0, /* deny entries: an address or a CIDR range */
	BW_FRAUD_NUMBER,      /* E.164 */
	BW_FRAUD_EMAIL,       /* lower-cased */
	BW_FRAUD_KINDS
};
/* "IP" | "NUMBER" | "EMAIL" (deny-list types) → kind, -1 otherwise. */
int bw_fraud_kind_parse(const char *s);
const char *bw_fraud_kind_name(enum bw_fraud_kind k); /* "IP", "NUMBER", "EMAIL"; else NULL */

/* The key an identifier is counted under: ADDRESS values are normalized (an
 * IPv6 address → "2001:db8:1:2::/64", IPv4 as is); EMAIL lower-cased;
 * NUMBER as given (already E.164). -1 when the value is not of the kind
 * (or out is too small), else 0. An IPv4-mapped IPv6 address
 * (::ffff:203.0.113.9, what a dual-stack socket reports) is its IPv4
 * address: by its /64 every IPv4 client would share the key "::/64". A key
 * given back (an IPv6 /64) is its own key; every key is a valid deny value
 * that bw_fraud_deny_value leaves as it is. */
int bw_fraud_key(enum bw_fraud_kind k, const char *value, char *out, size_t outsz);

/* ---- deny list ---- */

struct bw_fraud_deny {
	char id[48];
	char instance_id[48];
	enum bw_fraud_kind kind;
	char value[256];     /* ADDRESS: "203.0.113.9", "203.0.113.0/24", "2001:db8::/64" */
	long long expires_ms; /* 0: never */
};

/* Checks a value: ADDRESS must be an address or a CIDR (prefix within the
 * family's bits, no host bits set); NUMBER "+" and 8..15 digits, the first
 * not 0; EMAIL one '@' with text on both sides, ≤ 254 bytes, no spaces or
 * control bytes. Normalizes into out: ADDRESS in RFC 5952 form (lower
 * case, the longest zero run as "::", never a dotted IPv4 tail), a /32 or
 * /128 as the bare address, IPv4-mapped addresses and ranges (/96 and
 * longer inside ::ffff:0:0/96) as IPv4; EMAIL lower-cased (ASCII). A
 * normalized value normalizes to itself. NULL when fine, else a static
 * reason. */
const char *bw_fraud_deny_value(enum bw_fraud_kind k, const char *value, char *out,
                                size_t outsz);

struct bw_fraud_denylist;
struct bw_fraud_denylist *bw_fraud_denylist_new(void);
void bw_fraud_denylist_free(struct bw_fraud_denylist *d);
/* Adds or replaces (by id). */
BW_MUST_USE bw_result bw_fraud_denylist_put(struct bw_fraud_denylist *d,
                                            const struct bw_fraud_deny *e);
void bw_fraud_denylist_del(struct bw_fraud_denylist *d, const char *instance_id, const char *id);
/* Does an unexpired entry of the instance match? ADDRESS values are single
 * addresses (v4 or v6) matched against exact entries and ranges; the
 * matching entry's id goes to match_id when not NULL (the most specific
 * range when several match). An entry stops matching at expires_ms (it
 * matches while now_ms < expires_ms). An ADDRESS value may also be a range
 * (a window key, "2001:db8:1:2::/64"): entries that hold all of it match.
 * IPv4-mapped IPv6 addresses are IPv4; an IPv6 range shorter than /96
 * (::/0) does not match IPv4 clients. Costs at most one probe per prefix
 * length the instance's address entries use, usually one or two. */
bool bw_fraud_denied(const struct bw_fraud_denylist *d, const char *instance_id,
                     enum bw_fraud_kind k, const char *value, long long now_ms, char *match_id,
                     size_t idsz);
/* Drops expired entries (the caller runs it now and then). */
void bw_fraud_denylist_sweep(struct bw_fraud_denylist *d, long long now_ms);
/* Entries held, expired ones not yet swept included. */
size_t bw_fraud_denylist_size(const struct bw_fraud_denylist *d);

/* ---- sliding windows ---- */

struct bw_fraud_rule {
	enum bw_fraud_kind kind;
	int limit;     /* contacts allowed per window, 1..10000 */
	int window_s;  /* 1..86400 */
	int deny_s;    /* how long a key past the limit is deny-listed, 0..2592000 */
};

struct bw_fraud_windows;
struct bw_fraud_windows *bw_fraud_windows_new(void);
void bw_fraud_windows_free(struct bw_fraud_windows *w);
/* Would one more contact under key pass the rule at now? Exact: the key
 * keeps the times of its last `limit` contacts within the window, and one
 * more passes while fewer than `limit` of them are later than now -
 * window_s (a contact at t leaves the window at t + window_s). Times only
 * move forward for would_pass. A rule out of bounds (here limit
 * 1..1,000,000, which the public throttle's setting allows; window_s
 * 1..86400), an instance id over 47 bytes or a key that is empty or over
 * 255 bytes never passes. Memory follows a key's contacts in its window,
 * not its limit. */
bool bw_fraud_would_pass(const struct bw_fraud_windows *w, const char *instance_id,
                         const struct bw_fraud_rule *r, const char *key, long long now_ms);
/* Counts a contact at `at_ms` (also used to reload history at start, in
 * any order: the newest `limit` times are kept). BW_INVALID as above. When
 * a key's limit changes, its newest times are kept; when a rule's limit or
 * window is raised, contacts the old rule had already let go of (past its
 * limit or its window) are not counted again. */
BW_MUST_USE bw_result bw_fraud_count(struct bw_fraud_windows *w, const char *instance_id,
                                     const struct bw_fraud_rule *r, const char *key,
                                     long long at_ms);
/* Drops keys whose newest contact is older than max_window_s (at or before
 * now - max_window_s: it has left every window that long or shorter). */
void bw_fraud_windows_sweep(struct bw_fraud_windows *w, long long now_ms, int max_window_s);
/* Milliseconds until one more contact would pass (0: passes now; -1 for a
 * bad rule or key as above): for Retry-After. */
long long bw_fraud_wait_ms(const struct bw_fraud_windows *w, const char *instance_id,
                           const struct bw_fraud_rule *r, const char *key, long long now_ms);
size_t bw_fraud_windows_keys(const struct bw_fraud_windows *w);
size_t bw_fraud_windows_bytes(const struct bw_fraud_windows *w); /* heap held, for metrics */

/* ---- an instance's contact filter (src/fraud/filter.c) ---- */

struct bw_fraud_filter {
	bool enabled, dry_run;
	size_t nrules;
	struct bw_fraud_rule rules[BW_FRAUD_KINDS]; /* at most one per kind */
};
/* The defaults of API.md: ADDRESS 20/600 s, NUMBER 5/3600 s, EMAIL 10/3600 s,
 * each deny-listing for 3600 s; enabled, not dry run. */
void bw_fraud_filter_defaults(struct bw_fraud_filter *f);
/* From the stored JSON text (docs/api.md shape); the defaults for NULL or
 * text that does not parse. */
void bw_fraud_filter_parse(const char *json_text, struct bw_fraud_filter *f);
/* The JSON object of docs/api.md (new reference). */
json_t *bw_fraud_filter_json(const struct bw_fraud_filter *f);
/* "ADDRESS" | "NUMBER" | "EMAIL" (rule identifiers) */
const char *bw_fraud_rule_name(enum bw_fraud_kind k);
int bw_fraud_rule_parse(const char *s);

/* ---- the loop side (src/fraud/guard.c): one deny list, one set of windows ---- */

struct bw_fraud_id {
	enum bw_fraud_kind kind;
	char value[256]; /* ADDRESS: the client address as text; NUMBER E.164; EMAIL */
};

struct bw_fraud_verdict {
	bool blocked;          /* refuse with 403 ContactBlocked */
	bool by_deny_list;     /* an entry matched (nothing new is listed) */
	bool would_block;      /* dry run: it would have been refused */
	enum bw_fraud_kind kind; /* the identifier that tripped */
	struct bw_fraud_deny listed; /* blocked by a rule: the AUTOMATIC entry made
	                                (id set; the caller stores it) */
	size_t ncounted;         /* accepted: the windows counted these keys ... */
	char counted[BW_FRAUD_KINDS][72];
	enum bw_fraud_kind counted_kind[BW_FRAUD_KINDS];
};

/* Start: loads unexpired deny entries and recent history from the store
 * (the caller's connection, on the loop thread before it runs). */
BW_MUST_USE bw_result bw_guard_start(struct bw_store *s, long long now_ms,
                                     int rate_limit, int rate_window_s);
void bw_guard_stop(void);
/* From a worker: the deny-list check for one identifier (the public
 * checks' first step), and the per-address request throttle counted at the
 * same time. *retry_after_s > 0 when throttled. */
void bw_guard_public(const char *iid, const char *address, bool *denied, int *retry_after_s);
/* The same on the loop for a request before it queues (the server's
 * public guard, bw_server_set_public_guard): fills req->guard. */
struct bw_req;
void bw_guard_public_inline(struct bw_req *req);
/* From a worker: deny list, then the filter's windows, for a new contact's
 * identifiers; counts them when accepted (see the verdict). */
void bw_guard_contact(const char *iid, const struct bw_fraud_filter *f,
                      const struct bw_fraud_id *ids, size_t nids, struct bw_fraud_verdict *v);
/* From a worker after a deny-list write. */
void bw_guard_deny_put(const struct bw_fraud_deny *e);
void bw_guard_deny_del(const char *iid, const char *id);
/* On the loop (the flow block): does the deny list hold any of these? */
bool bw_guard_denied_any(const char *iid, const struct bw_fraud_id *ids, size_t nids);
/* Drops expired entries and idle keys (the engine's tick, now and then). */
void bw_guard_sweep(void);
/* Prometheus lines (loop thread); malloc'd. */
char *bw_guard_metrics_text(void);
/* The key a window counts an identifier under, hashed so that neither the
 * windows nor the stored history hold the raw value: 32 hex characters. */
int bw_guard_key(const char *iid, enum bw_fraud_kind k, const char *value, char out[33]);

#endif
