/* One outbound call of an integration made ready (integ/call.h): what the
 * test route did alone, shared with the InvokeIntegration block and the
 * webhook sinks. Workers only (the store, the vault, role signing). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/wipe.h"
#include "integ/call.h"
#include "integ/integ_int.h"
#include "integ/role.h"
#include "integ/secrets.h"

static void say(char *why, size_t whysz, const char *text)
{
	if (why && whysz)
		snprintf(why, whysz, "%s", text);
}

void bw_integ_call_clear(struct bw_integ_call *k)
{
	bw_wipe_free(k->body, k->body_len);
	free(k->content_type);
	for (size_t i = 0; i < 2 * BW_INTEG_CALL_MAX_EXTRA; i++)
		bw_wipe_free(k->extra[i], k->extra[i] ? strlen(k->extra[i]) : 0);
	bw_secret_free(k->secret);
	bw_wipe_free(k->auth_line, k->auth_line_len);
	if (k->loaded)
		bw_integration_row_clear(&k->row);
	bw_integ_config_clear(&k->cfg);
	sodium_memzero(k, sizeof(*k));
}

bw_result bw_integ_call_open(struct bw_store *s, const char *iid, const char *integration_id,
                             struct bw_integ_call *k)
{
	memset(k, 0, sizeof(*k));
	bw_integ_config_init(&k->cfg);
	bw_result r = bw_store_integration_get(s, iid, integration_id, &k->row);
	if (r != BW_OK)
		return r;
	k->loaded = true;
	if (bw_integ_config_load(&k->cfg, k->row.config) != BW_OK) {
		bw_log(BW_LOG_ERROR, "stored integration does not read", "integration", k->row.id);
		return BW_ERR;
	}
	return BW_OK;
}

/* A role token for this call (C7): the audience is the base URL, the
 * digest that of the body, the contact the one the call is made for. */
static bw_result role_line(struct bw_store *s, struct bw_integ_call *k, const char *contact_id)
{
	struct bw_role_claims cl = {.integration_id = k->row.id,
	                            .audience = k->row.base_url,
	                            .contact_id = contact_id,
	                            .body = k->body,
	                            .body_len = k->body_len};
	char *jwt = NULL;
	bw_result r = bw_role_token(s, k->row.instance_id, &cl, &jwt);
	if (r != BW_OK)
		return r;
	k->auth_line_len = strlen(jwt) + 8;
	k->auth_line = malloc(k->auth_line_len);
	if (k->auth_line)
		snprintf(k->auth_line, k->auth_line_len, "Bearer %s", jwt);
	sodium_memzero(jwt, strlen(jwt));
	free(jwt);
	return k->auth_line ? BW_OK : BW_NOMEM;
}

static bool header_value_ok(const char *v)
{
	for (const char *p = v; *p; p++)
		if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
			return false;
	return true;
}

/* The integration's credential into k's headers (or its client key). */
static bw_result credentials(struct bw_store *s, struct bw_integ_call *k, const char *contact_id,
                             char *why, size_t whysz)
{
	const struct bw_integ_config *cfg = &k->cfg;
	bw_result r = BW_OK;
	if (cfg->auth == BW_INTEG_AUTH_SECRET_HEADER || cfg->auth == BW_INTEG_AUTH_MTLS) {
		r = bw_secret_read(s, k->row.instance_id, cfg->secret, &k->secret);
		if (r == BW_NOTFOUND && why && whysz)
			snprintf(why, whysz, "the secret \"%s\" named by %s is not in the secrets vault",
			         cfg->secret,
			         cfg->auth == BW_INTEG_AUTH_MTLS ? "auth.client_key_secret"
			                                         : "auth.secret");
	} else if (cfg->auth == BW_INTEG_AUTH_ROLE) {
		r = role_line(s, k, contact_id);
		if (r == BW_NOTFOUND)
			say(why, whysz, "no role token can be issued for this instance");
	}
	if (r == BW_NOTFOUND)
		return BW_CONFLICT;
	if (r != BW_OK)
		return r == BW_INVALID ? BW_ERR : r;
	if (cfg->auth == BW_INTEG_AUTH_SECRET_HEADER) {
		if (!header_value_ok(k->secret)) {
			say(why, whysz, "the secret named by auth.secret cannot be sent as a header value");
			return BW_CONFLICT;
		}
		k->headers[k->nheaders++] = (struct bw_egress_header){cfg->header, k->secret};
	} else if (cfg->auth == BW_INTEG_AUTH_ROLE) {
		k->headers[k->nheaders++] = (struct bw_egress_header){"Authorization", k->auth_line};
	}
	return BW_OK;
}

/* The caller's own headers, copied after the others (which they may not
 * repeat). */
static bw_result extra_headers(struct bw_integ_call *k, const struct bw_integ_call_spec *sp,
                               char *why, size_t whysz)
{
	if (sp->nextra > BW_INTEG_CALL_MAX_EXTRA) {
		say(why, whysz, "too many extra headers");
		return BW_INVALID;
	}
	for (size_t i = 0; i < sp->nextra; i++) {
		const struct bw_egress_header *h = &sp->extra[i];
		bool clash = !h->name || !h->value || !strcasecmp(h->name, "Authorization") ||
		             !strcasecmp(h->name, "Content-Type") ||
		             (k->cfg.auth == BW_INTEG_AUTH_SECRET_HEADER &&
		              !strcasecmp(h->name, k->cfg.header));
		if (clash || !header_value_ok(h->value)) {
			say(why, whysz, "an extra header repeats one of the call's or holds a control "
			                "character");
			return BW_INVALID;
		}
		k->extra[2 * i] = strdup(h->name);
		k->extra[2 * i + 1] = strdup(h->value);
		if (!k->extra[2 * i] || !k->extra[2 * i + 1])
			return BW_NOMEM;
		k->headers[k->nheaders++] =
		    (struct bw_egress_header){k->extra[2 * i], k->extra[2 * i + 1]};
	}
	return BW_OK;
}

/* Method, body and path against the settings; the URL into k. */
static bw_result request_line(struct bw_integ_call *k, const struct bw_integ_call_spec *sp,
                              char *why, size_t whysz)
{
	const char *bad;
	unsigned bit = bw_integ_method_bit(sp->method);
	if (!bit || !(k->cfg.methods & bit)) {
		k->field = "method";
		say(why, whysz,
		    bit ? "is not one of allowed_methods" : "must be GET, POST, PUT, PATCH or DELETE");
		return BW_INVALID;
	}
	snprintf(k->method, sizeof(k->method), "%s", sp->method);
	if (sp->body && bit == BW_INTEG_GET) {
		k->field = "body";
		say(why, whysz, "a GET sends no body");
		return BW_INVALID;
	}
	if (sp->body && sp->body_len > BW_EGRESS_MAX_BODY) {
		k->field = "body";
		say(why, whysz, "is larger than 1 MiB");
		return BW_INVALID;
	}
	if (!sp->path)
		bad = "is required";
	else if (!(bad = bw_integ_path_check(&k->cfg, sp->path)) &&
	         !bw_integ_url_join(k->row.base_url, sp->path, k->url, sizeof(k->url)))
		bad = "makes the URL too long";
	if (bad) {
		k->field = "path";
		if (why && whysz)
			snprintf(why, whysz, "path %s", bad);
		return BW_INVALID;
	}
	return BW_OK;
}

bw_result bw_integ_call_build(struct bw_store *s, struct bw_integ_call *k,
                              const struct bw_integ_call_spec *sp, char *why, size_t whysz)
{
	bw_result r = request_line(k, sp, why, whysz);
	if (r != BW_OK)
		return r;
	if (sp->body) {
		k->body = malloc(sp->body_len ? sp->body_len : 1);
		k->content_type = strdup(sp->content_type ? sp->content_type : "application/json");
		if (!k->body || !k->content_type)
			return BW_NOMEM;
		memcpy(k->body, sp->body, sp->body_len);
		k->body_len = sp->body_len;
		k->headers[k->nheaders++] =
		    (struct bw_egress_header){"Content-Type", k->content_type};
	}
	r = credentials(s, k, sp->contact_id, why, whysz);
	if (r == BW_OK)
		r = extra_headers(k, sp, why, whysz);
	if (r == BW_INVALID && !k->field)
		k->field = "extra";
	if (r != BW_OK)
		return r;
	k->req = (struct bw_egress_req){
	    .method = k->method,
	    .url = k->url,
	    .headers = k->headers,
	    .nheaders = k->nheaders,
	    .body = k->body,
	    .body_len = k->body_len,
	    .timeout_ms = k->cfg.timeout_ms,
	    .max_response_bytes = k->cfg.max_response_bytes,
	    .ranges = k->cfg.ranges,
	    .nranges = k->cfg.nranges,
	    .ca_pem = k->cfg.ca_certificate,
	};
	if (k->cfg.auth == BW_INTEG_AUTH_MTLS) {
		k->req.client_cert_pem = k->cfg.client_certificate;
		k->req.client_key_pem = k->secret;
	}
	/* An attempt is a use, whatever comes of it. */
	if (bw_store_integration_touch(s, k->row.instance_id, k->row.id, bw_integ__now_ms()) !=
	    BW_OK)
		bw_log(BW_LOG_WARN, "integration call not recorded", "integration", k->row.id);
	return BW_OK;
}

bw_result bw_integ_call_prepare(struct bw_store *s, const char *iid, const char *integration_id,
                                const struct bw_integ_call_spec *spec, struct bw_integ_call *out,
                                char *why, size_t whysz)
{
	bw_result r = bw_integ_call_open(s, iid, integration_id, out);
	if (r == BW_NOTFOUND)
		say(why, whysz, "no such integration");
	if (r != BW_OK)
		return r;
	return bw_integ_call_build(s, out, spec, why, whysz);
}
