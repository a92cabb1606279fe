/* One outbound call of an integration, made ready (C17, C7): the
 * integration read from the store, the method and path checked against its
 * settings, its credential fetched (a vault secret in a header, a client
 * key for mTLS, or a role token signed for this very body and contact),
 * and a struct bw_egress_req filled that bw_egress_request (loop) or
 * bw_egress_call (worker) takes as it is. The test route, the
 * InvokeIntegration block and webhook sinks share it.
 *
 * Preparing blocks on the store: workers only, each with its own store
 * handle. The request's memory (URL, body, headers, secrets) lives in the
 * struct bw_integ_call until bw_integ_call_clear wipes and frees it; the
 * egress copies what it sends, so a caller may clear at once after
 * bw_egress_request returns.
 *
 * A successful preparation counts as a use of the integration
 * (last_called_at): callers prepare only what they mean to send. */
#ifndef BW_INTEG_CALL_H
#define BW_INTEG_CALL_H

#include <stdbool.h>
#include <stddef.h>

#include "core/result.h"
#include "integ/integ.h"
#include "net/egress.h"
#include "store/store.h"

#define BW_INTEG_CALL_MAX_EXTRA 4 /* headers of the caller's own (signatures, event ids) */
#define BW_INTEG_CALL_MAX_HEADERS (2 + BW_INTEG_CALL_MAX_EXTRA)

/* What to call. Everything is copied. */
struct bw_integ_call_spec {
	const char *method; /* one of the integration's allowed_methods */
	const char *path;   /* "/..." with an optional query (bw_integ_path_check) */
	const void *body;   /* NULL: none (never with GET) */
	size_t body_len;
	const char *content_type; /* of the body; NULL: application/json */
	const char *contact_id;   /* the role token's contact claim; NULL: none */
	/* Headers of the caller's own, at most BW_INTEG_CALL_MAX_EXTRA; none
	 * may repeat Content-Type, Authorization or the integration's auth
	 * header. Values may be secrets: the copies are wiped. */
	const struct bw_egress_header *extra;
	size_t nextra;
};

struct bw_integ_call {
	struct bw_integration_row row; /* the integration as read */
	struct bw_integ_config cfg;    /* its settings */
	struct bw_egress_req req;      /* ready after bw_integ_call_prepare */
	const char *field; /* BW_INVALID: the spec's field at fault ("method", "path", "body", "extra") */
	/* private */
	bool loaded;
	char method[8];
	char url[BW_INTEG_URL_MAX + BW_INTEG_PATH_MAX + 1];
	void *body;
	size_t body_len;
	char *content_type;
	struct bw_egress_header headers[BW_INTEG_CALL_MAX_HEADERS];
	size_t nheaders;
	char *extra[2 * BW_INTEG_CALL_MAX_EXTRA]; /* names and values, copied */
	char *secret;    /* from the vault: a header value or a client key */
	char *auth_line; /* "Bearer <role token>" */
	size_t auth_line_len;
};

/* Both steps below. */
BW_MUST_USE bw_result bw_integ_call_prepare(struct bw_store *s, const char *iid,
                                            const char *integration_id,
                                            const struct bw_integ_call_spec *spec,
                                            struct bw_integ_call *out, char *why,
                                            size_t whysz);

/* Step one: reads the instance's integration into out (zeroed first).
 * BW_NOTFOUND when the instance has no such integration; BW_ERR when its
 * stored settings do not read (logged by id). */
BW_MUST_USE bw_result bw_integ_call_open(struct bw_store *s, const char *iid,
                                         const char *integration_id, struct bw_integ_call *out);

/* Step two, on an opened call: checks the spec against the settings,
 * fetches the credential, fills out->req and records the use.
 * BW_INVALID: the method, path, body or extra headers are refused
 * (out->field names which, why says how). BW_CONFLICT: the credential
 * cannot be had (the vault has no such secret, the secret cannot be a
 * header value, no role token can be issued); why says which, never the
 * value. BW_ERR, BW_NOMEM otherwise. */
BW_MUST_USE bw_result bw_integ_call_build(struct bw_store *s, struct bw_integ_call *k,
                                          const struct bw_integ_call_spec *spec, char *why,
                                          size_t whysz);

/* Wipes the secrets and the body, frees everything; out may then be
 * opened again. Fine on a zeroed or half-prepared call. */
void bw_integ_call_clear(struct bw_integ_call *k);

#endif
