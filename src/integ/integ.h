/* The integrations registry (C17, docs/api.md "Integrations"): an
 * integration's settings as the API takes them and the store keeps them
 * (one JSON object), its base URL, the requests it may make, and the check
 * of its target at registration: the host is resolved (getaddrinfo: it
 * blocks, so workers only) and every address must pass the address policy
 * (integ/addrpolicy.h); plain http only toward listed addresses. The same
 * policy is applied again at every connection by the egress. Secrets are
 * named here and read from the vault (integ/secrets.h) only for a call. */
#ifndef BW_INTEG_H
#define BW_INTEG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/result.h"
#include "integ/addrpolicy.h"

#define BW_INTEG_NAME_MAX 128
#define BW_INTEG_URL_MAX 2048
#define BW_INTEG_PATH_MAX 2048
#define BW_INTEG_MAX_PREFIXES 16
#define BW_INTEG_PREFIX_MAX 256
#define BW_INTEG_MAX_RANGES 32
#define BW_INTEG_SECRET_NAME_MAX 64
#define BW_INTEG_HEADER_MAX 64
#define BW_INTEG_CERT_MAX 16384 /* a PEM certificate or CA bundle */
#define BW_INTEG_TIMEOUT_MIN 100
#define BW_INTEG_TIMEOUT_MAX 30000
#define BW_INTEG_TIMEOUT_DEFAULT 5000
#define BW_INTEG_RESPONSE_MAX (1024 * 1024)
#define BW_INTEG_RESPONSE_DEFAULT 65536

enum bw_integ_method {
	BW_INTEG_GET = 1 << 0,
	BW_INTEG_POST = 1 << 1,
	BW_INTEG_PUT = 1 << 2,
	BW_INTEG_PATCH = 1 << 3,
	BW_INTEG_DELETE = 1 << 4,
};

enum bw_integ_auth {
	BW_INTEG_AUTH_NONE,
	BW_INTEG_AUTH_SECRET_HEADER, /* header: the value of a vault secret */
	BW_INTEG_AUTH_MTLS,          /* a client certificate; its key is a vault secret */
	BW_INTEG_AUTH_ROLE,          /* a short-lived signed token (C7) */
};

struct bw_integ_config {
	unsigned methods; /* enum bw_integ_method bits */
	size_t nprefixes;
	char prefixes[BW_INTEG_MAX_PREFIXES][BW_INTEG_PREFIX_MAX + 1];
	uint32_t timeout_ms;
	uint32_t max_response_bytes;
	enum bw_integ_auth auth;
	char header[BW_INTEG_HEADER_MAX + 1];      /* secret_header */
	char secret[BW_INTEG_SECRET_NAME_MAX + 1]; /* secret_header: the value; mtls: the key */
	char *client_certificate;                  /* mtls: PEM, malloc'd */
	char *
	    ca_certificate; /* trust anchors (PEM, malloc'd) instead of the system's; NULL: those */
	size_t nranges;
	struct bw_cidr ranges[BW_INTEG_MAX_RANGES];
};

/* Defaults: GET and POST, prefix "/", 5000 ms, 64 KiB, no auth, no range. */
void bw_integ_config_init(struct bw_integ_config *c);
void bw_integ_config_clear(struct bw_integ_config *c);

/* Applies the settings of an API body (create or PATCH: only the fields
 * given; null is refused, except for ca_certificate, which it removes)
 * over c. -1 with *field naming the field and why
 * a sentence; c may then be half changed. Other fields are ignored here. */
int bw_integ_config_apply(struct bw_integ_config *c, const json_t *obj, const char **field,
                          char *why, size_t whysz);
/* The settings as the API shows them and the store keeps them:
 * allowed_methods, allowed_path_prefixes, timeout_ms, max_response_bytes,
 * auth, allowed_address_ranges, ca_certificate (null when none). */
json_t *bw_integ_config_json(const struct bw_integ_config *c);
/* Reads the stored text (all or nothing); BW_INVALID when it is not one. */
BW_MUST_USE bw_result bw_integ_config_load(struct bw_integ_config *c, const char *text);

/* A base URL: http or https, a host (a name of letters, digits, dots and
 * dashes, or an IP literal), an optional port and path; no userinfo, query
 * or fragment. canonical: the URL as stored (no trailing slash). */
struct bw_integ_url {
	bool https;
	char host[256]; /* without brackets */
	unsigned port;
	char canonical[BW_INTEG_URL_MAX + 1];
};
/* NULL, or a sentence saying what is wrong. */
const char *bw_integ_url_parse(const char *url, struct bw_integ_url *out);

/* A request path (with an optional query) the integration may call:
 * starts with "/", printable ASCII, no "#", "\", dot segments or encoded
 * dots and slashes, and under one of the prefixes (plain string prefixes).
 * NULL, or a sentence. */
const char *bw_integ_path_check(const struct bw_integ_config *c, const char *path);
/* "GET" ... to its bit; 0 for anything else. */
unsigned bw_integ_method_bit(const char *m);
/* base (canonical) + path into out; false when it does not fit. */
bool bw_integ_url_join(const char *base, const char *path, char *out, size_t n);

/* The target check at registration: the scheme rule and every address the
 * host resolves to (blocking). BW_OK, or BW_INVALID with why naming the
 * address and the reason; BW_NOTFOUND when the host does not resolve. */
BW_MUST_USE bw_result bw_integ_check_target(const struct bw_integ_url *u,
                                            const struct bw_integ_config *c, char *why,
                                            size_t whysz);

/* "30d", "12h", "90m", "45s" (1..3650 days) to milliseconds. */
bool bw_integ_duration_parse(const char *s, long long *ms);

#endif
