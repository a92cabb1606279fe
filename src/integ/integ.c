/* The integrations registry's rules (integ.h): settings, base URLs, request
 * paths and the target check at registration. URLs are read with libcurl's
 * own parser, the one the egress uses, so that both see the same host. */
#include <curl/curl.h>
#include <netdb.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "integ/integ.h"

#define MAX_ADDRS 64

static const struct {
	const char *name;
	unsigned bit;
} methods[] = {
    {"GET", BW_INTEG_GET},     {"POST", BW_INTEG_POST},     {"PUT", BW_INTEG_PUT},
    {"PATCH", BW_INTEG_PATCH}, {"DELETE", BW_INTEG_DELETE},
};
#define NMETHODS (sizeof(methods) / sizeof(methods[0]))

static const char *const auth_names[] = {
    [BW_INTEG_AUTH_NONE] = "none",
    [BW_INTEG_AUTH_SECRET_HEADER] = "secret_header",
    [BW_INTEG_AUTH_MTLS] = "mtls",
    [BW_INTEG_AUTH_ROLE] = "role",
};

void bw_integ_config_init(struct bw_integ_config *c)
{
	memset(c, 0, sizeof(*c));
	c->methods = BW_INTEG_GET | BW_INTEG_POST;
	c->nprefixes = 1;
	snprintf(c->prefixes[0], sizeof(c->prefixes[0]), "/");
	c->timeout_ms = BW_INTEG_TIMEOUT_DEFAULT;
	c->max_response_bytes = BW_INTEG_RESPONSE_DEFAULT;
	c->auth = BW_INTEG_AUTH_NONE;
}

void bw_integ_config_clear(struct bw_integ_config *c)
{
	free(c->client_certificate);
	free(c->ca_certificate);
	c->client_certificate = c->ca_certificate = NULL;
}

unsigned bw_integ_method_bit(const char *m)
{
	for (size_t i = 0; m && i < NMETHODS; i++)
		if (!strcmp(methods[i].name, m))
			return methods[i].bit;
	return 0;
}

/* ---- checks of single values ---- */

static bool token_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("!#$%&'*+-.^_`|~", c);
}

static const char *header_name_check(const char *s)
{
	static const char *const reserved[] = {"host",
	                                       "content-length",
	                                       "transfer-encoding",
	                                       "connection",
	                                       "expect",
	                                       "upgrade",
	                                       "te",
	                                       "keep-alive",
	                                       "proxy-authorization",
	                                       "proxy-connection",
	                                       "trailer",
	                                       "content-type",
	                                       NULL};
	size_t n = strlen(s);
	if (n < 1 || n > BW_INTEG_HEADER_MAX)
		return "must be 1 to 64 characters";
	for (const char *p = s; *p; p++)
		if (!token_char(*p))
			return "must be an HTTP header name (token characters)";
	for (const char *const *r = reserved; *r; r++)
		if (!strcasecmp(*r, s))
			return "names a header the transport sets";
	return NULL;
}

/* A vault secret's name: [A-Za-z0-9._-]{1,64}. */
static const char *secret_name_check(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > BW_INTEG_SECRET_NAME_MAX)
		return "must be a secret's name of 1 to 64 characters";
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-'))
			return "must be a secret's name ([A-Za-z0-9._-])";
	return NULL;
}

/* A segment "." or ".." anywhere in p[0..n). */
static bool has_dot_segment(const char *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		size_t j = i;
		while (j < n && p[j] != '/')
			j++;
		size_t len = j - i;
		if ((len == 1 && p[i] == '.') || (len == 2 && p[i] == '.' && p[i + 1] == '.'))
			return true;
		i = j + 1;
	}
	return false;
}

static const char *prefix_check(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > BW_INTEG_PREFIX_MAX || s[0] != '/')
		return "each prefix must start with / and be at most 256 characters";
	for (const char *p = s; *p; p++)
		if (*p < 0x21 || *p > 0x7e || strchr("?#%\\", *p))
			return "a prefix holds printable characters other than ? # % and \\";
	if (has_dot_segment(s, n))
		return "a prefix may not hold . or .. segments";
	return NULL;
}

/* One PEM certificate or more (a CA bundle), and nothing secret. */
static const char *certificate_check(const char *pem)
{
	if (strlen(pem) > BW_INTEG_CERT_MAX)
		return "must be PEM certificates of at most 16384 bytes";
	if (strstr(pem, "PRIVATE KEY"))
		return "holds a private key: keep it in the secrets vault and name it";
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	if (!x)
		return "must be a PEM certificate";
	X509_free(x);
	return NULL;
}

/* ---- settings from JSON ---- */

struct err {
	const char **field;
	char *why;
	size_t whysz;
};

static int fail(const struct err *e, const char *field, const char *why)
{
	*e->field = field;
	snprintf(e->why, e->whysz, "%s", why);
	return -1;
}

static int strings_of(const json_t *v, size_t min, size_t max, const struct err *e,
                      const char *field)
{
	if (!json_is_array(v) || json_array_size(v) < min || json_array_size(v) > max) {
		char why[96];
		snprintf(why, sizeof(why), "must be an array of %zu to %zu strings", min, max);
		return fail(e, field, why);
	}
	size_t i;
	json_t *s;
	json_array_foreach(v, i, s)
	{
		if (!json_is_string(s) || strlen(json_string_value(s)) != json_string_length(s))
			return fail(e, field, "must hold strings only");
	}
	return 0;
}

static int apply_methods(struct bw_integ_config *c, const json_t *v, const struct err *e)
{
	if (strings_of(v, 1, NMETHODS, e, "allowed_methods"))
		return -1;
	unsigned bits = 0;
	size_t i;
	json_t *s;
	json_array_foreach(v, i, s)
	{
		unsigned b = bw_integ_method_bit(json_string_value(s));
		if (!b)
			return fail(e, "allowed_methods",
			            "each must be GET, POST, PUT, PATCH or DELETE");
		if (bits & b)
			return fail(e, "allowed_methods", "a method is listed twice");
		bits |= b;
	}
	c->methods = bits;
	return 0;
}

static int apply_prefixes(struct bw_integ_config *c, const json_t *v, const struct err *e)
{
	if (strings_of(v, 1, BW_INTEG_MAX_PREFIXES, e, "allowed_path_prefixes"))
		return -1;
	size_t i;
	json_t *s;
	json_array_foreach(v, i, s)
	{
		const char *why = prefix_check(json_string_value(s));
		if (why)
			return fail(e, "allowed_path_prefixes", why);
		snprintf(c->prefixes[i], sizeof(c->prefixes[i]), "%s", json_string_value(s));
	}
	c->nprefixes = json_array_size(v);
	return 0;
}

static int apply_ranges(struct bw_integ_config *c, const json_t *v, const struct err *e)
{
	if (strings_of(v, 0, BW_INTEG_MAX_RANGES, e, "allowed_address_ranges"))
		return -1;
	size_t i;
	json_t *s;
	json_array_foreach(v, i, s)
	{
		const char *why = bw_addr_range_parse(json_string_value(s), &c->ranges[i]);
		if (why) {
			char msg[200];
			snprintf(msg, sizeof(msg), "\"%.64s\" %s", json_string_value(s), why);
			return fail(e, "allowed_address_ranges", msg);
		}
	}
	c->nranges = json_array_size(v);
	return 0;
}

static int apply_ca(struct bw_integ_config *c, const json_t *v, const struct err *e)
{
	const char *why;
	free(c->ca_certificate);
	c->ca_certificate = NULL;
	if (json_is_null(v))
		return 0;
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return fail(e, "ca_certificate", "must be a string of PEM certificates, or null");
	if ((why = certificate_check(json_string_value(v))))
		return fail(e, "ca_certificate", why);
	c->ca_certificate = strdup(json_string_value(v));
	return c->ca_certificate ? 0 : fail(e, "ca_certificate", "out of memory");
}

static int uint_field(const json_t *v, long long lo, long long hi, const struct err *e,
                      const char *field, uint32_t *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		char why[96];
		snprintf(why, sizeof(why), "must be an integer from %lld to %lld", lo, hi);
		return fail(e, field, why);
	}
	*out = (uint32_t)json_integer_value(v);
	return 0;
}

/* A string member of an auth object, checked. */
static int auth_str(const json_t *a, const char *key, const char *field, const struct err *e,
                    const char **out)
{
	json_t *v = json_object_get(a, key);
	if (!v || json_is_null(v))
		return fail(e, field, "this field is required");
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return fail(e, field, "must be a string");
	*out = json_string_value(v);
	return 0;
}

static int only_keys(const json_t *a, const char *const *keys, const struct err *e)
{
	static _Thread_local char field[96]; /* named by *e->field after return */
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)a, k, v)
	{
		bool ok = false;
		for (const char *const *p = keys; *p; p++)
			ok |= !strcmp(*p, k);
		if (!ok) {
			snprintf(field, sizeof(field), "auth.%.64s", k);
			return fail(e, field, "unknown field for this auth type");
		}
	}
	return 0;
}

static int apply_auth(struct bw_integ_config *c, const json_t *a, const struct err *e)
{
	static const char *const k_plain[] = {"type", NULL};
	static const char *const k_header[] = {"type", "header", "secret", NULL};
	static const char *const k_mtls[] = {"type", "client_certificate", "client_key_secret",
	                                     NULL};
	const char *type, *s1, *s2, *why;
	if (!json_is_object(a))
		return fail(e, "auth", "must be an object");
	if (auth_str(a, "type", "auth.type", e, &type))
		return -1;
	bw_integ_config_clear(c);
	c->header[0] = c->secret[0] = '\0';
	if (!strcmp(type, "none") || !strcmp(type, "role")) {
		c->auth = type[0] == 'n' ? BW_INTEG_AUTH_NONE : BW_INTEG_AUTH_ROLE;
		return only_keys(a, k_plain, e);
	}
	if (!strcmp(type, "secret_header")) {
		if (only_keys(a, k_header, e) || auth_str(a, "header", "auth.header", e, &s1) ||
		    auth_str(a, "secret", "auth.secret", e, &s2))
			return -1;
		if ((why = header_name_check(s1)))
			return fail(e, "auth.header", why);
		if ((why = secret_name_check(s2)))
			return fail(e, "auth.secret", why);
		c->auth = BW_INTEG_AUTH_SECRET_HEADER;
		snprintf(c->header, sizeof(c->header), "%s", s1);
		snprintf(c->secret, sizeof(c->secret), "%s", s2);
		return 0;
	}
	if (!strcmp(type, "mtls")) {
		if (only_keys(a, k_mtls, e) ||
		    auth_str(a, "client_certificate", "auth.client_certificate", e, &s1) ||
		    auth_str(a, "client_key_secret", "auth.client_key_secret", e, &s2))
			return -1;
		if ((why = certificate_check(s1)))
			return fail(e, "auth.client_certificate", why);
		if ((why = secret_name_check(s2)))
			return fail(e, "auth.client_key_secret", why);
		c->client_certificate = strdup(s1);
		if (!c->client_certificate)
			return fail(e, "auth", "out of memory");
		c->auth = BW_INTEG_AUTH_MTLS;
		snprintf(c->secret, sizeof(c->secret), "%s", s2);
		return 0;
	}
	return fail(e, "auth.type", "must be none, secret_header, mtls or role");
}

int bw_integ_config_apply(struct bw_integ_config *c, const json_t *obj, const char **field,
                          char *why, size_t whysz)
{
	const struct err e = {field, why, whysz};
	json_t *v;
	*field = NULL;
	why[0] = '\0';
	if ((v = json_object_get(obj, "allowed_methods")) && apply_methods(c, v, &e))
		return -1;
	if ((v = json_object_get(obj, "allowed_path_prefixes")) && apply_prefixes(c, v, &e))
		return -1;
	if ((v = json_object_get(obj, "timeout_ms")) &&
	    uint_field(v, BW_INTEG_TIMEOUT_MIN, BW_INTEG_TIMEOUT_MAX, &e, "timeout_ms",
	               &c->timeout_ms))
		return -1;
	if ((v = json_object_get(obj, "max_response_bytes")) &&
	    uint_field(v, 1, BW_INTEG_RESPONSE_MAX, &e, "max_response_bytes",
	               &c->max_response_bytes))
		return -1;
	if ((v = json_object_get(obj, "auth")) && apply_auth(c, v, &e))
		return -1;
	if ((v = json_object_get(obj, "allowed_address_ranges")) && apply_ranges(c, v, &e))
		return -1;
	if ((v = json_object_get(obj, "ca_certificate")) && apply_ca(c, v, &e))
		return -1;
	return 0;
}

json_t *bw_integ_config_json(const struct bw_integ_config *c)
{
	json_t *m = json_array(), *p = json_array(), *r = json_array(), *a;
	for (size_t i = 0; i < NMETHODS; i++)
		if (c->methods & methods[i].bit)
			json_array_append_new(m, json_string(methods[i].name));
	for (size_t i = 0; i < c->nprefixes; i++)
		json_array_append_new(p, json_string(c->prefixes[i]));
	for (size_t i = 0; i < c->nranges; i++) {
		char t[80];
		bw_addr_range_format(&c->ranges[i], t, sizeof(t));
		json_array_append_new(r, json_string(t));
	}
	a = json_pack("{s:s}", "type", auth_names[c->auth]);
	if (c->auth == BW_INTEG_AUTH_SECRET_HEADER) {
		json_object_set_new(a, "header", json_string(c->header));
		json_object_set_new(a, "secret", json_string(c->secret));
	} else if (c->auth == BW_INTEG_AUTH_MTLS) {
		json_object_set_new(a, "client_certificate", json_string(c->client_certificate));
		json_object_set_new(a, "client_key_secret", json_string(c->secret));
	}
	return json_pack("{s:o, s:o, s:I, s:I, s:o, s:o, s:o}", "allowed_methods", m,
	                 "allowed_path_prefixes", p, "timeout_ms", (json_int_t)c->timeout_ms,
	                 "max_response_bytes", (json_int_t)c->max_response_bytes, "auth", a,
	                 "allowed_address_ranges", r, "ca_certificate",
	                 c->ca_certificate ? json_string(c->ca_certificate) : json_null());
}

bw_result bw_integ_config_load(struct bw_integ_config *c, const char *text)
{
	static const char *const keys[] = {"allowed_methods",
	                                   "allowed_path_prefixes",
	                                   "timeout_ms",
	                                   "max_response_bytes",
	                                   "auth",
	                                   "allowed_address_ranges",
	                                   NULL};
	const char *field;
	char why[256];
	bw_integ_config_init(c);
	json_t *v = text ? json_loads(text, JSON_REJECT_DUPLICATES, NULL) : NULL;
	bool ok = json_is_object(v);
	for (const char *const *k = keys; ok && *k; k++)
		ok = json_object_get(v, *k) != NULL;
	if (ok)
		ok = bw_integ_config_apply(c, v, &field, why, sizeof(why)) == 0;
	json_decref(v);
	if (!ok)
		bw_integ_config_clear(c);
	return ok ? BW_OK : BW_INVALID;
}

/* ---- URLs and paths ---- */

static bool host_ok(const char *h)
{
	size_t n = strlen(h);
	if (n >= 2 && h[0] == '[' && h[n - 1] == ']')
		return true; /* an IPv6 literal, checked by curl */
	if (n < 1 || n > 253 || h[0] == '-' || h[0] == '.')
		return false;
	for (const char *p = h; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'))
			return false;
	return true;
}

/* A part of u, or NULL when it is absent; free with curl_free. */
static char *part(CURLU *u, CURLUPart what, unsigned flags)
{
	char *s = NULL;
	return curl_url_get(u, what, &s, flags) == CURLUE_OK ? s : NULL;
}

const char *bw_integ_url_parse(const char *url, struct bw_integ_url *out)
{
	const char *why = NULL;
	memset(out, 0, sizeof(*out));
	size_t n = strlen(url);
	if (n < 1 || n > BW_INTEG_URL_MAX)
		return "must be a URL of at most 2048 characters";
	for (const char *p = url; *p; p++)
		if (*p < 0x21 || *p > 0x7e || *p == '\\')
			return "must be a URL of printable ASCII without spaces or backslashes";
	/* "scheme://" and a host, written plainly: curl would take more
	 * ("https:///h", a %XX in a host) and store another name than given. */
	const char *auth = NULL;
	if (!strncasecmp(url, "https://", 8))
		auth = url + 8;
	else if (!strncasecmp(url, "http://", 7))
		auth = url + 7;
	else
		return "must be an https URL (or http toward allowed addresses)";
	size_t alen = strcspn(auth, "/");
	if (alen == 0 || memchr(auth, '%', alen))
		return "must name a host (letters, digits, dots and dashes) or an IP address";
	if (has_dot_segment(auth + alen, strlen(auth + alen)))
		return "may not hold . or .. path segments";
	CURLU *u = curl_url();
	if (!u)
		return "cannot be read now";
	char *scheme = NULL, *user = NULL, *pass = NULL, *opts = NULL, *frag = NULL, *query = NULL,
	     *host = NULL, *zone = NULL, *port = NULL, *path = NULL;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
		why = "must be an absolute http or https URL";
		goto out;
	}
	scheme = part(u, CURLUPART_SCHEME, 0);
	user = part(u, CURLUPART_USER, 0);
	pass = part(u, CURLUPART_PASSWORD, 0);
	opts = part(u, CURLUPART_OPTIONS, 0);
	frag = part(u, CURLUPART_FRAGMENT, 0);
	query = part(u, CURLUPART_QUERY, 0);
	host = part(u, CURLUPART_HOST, 0);
	zone = part(u, CURLUPART_ZONEID, 0);
	port = part(u, CURLUPART_PORT, CURLU_DEFAULT_PORT);
	path = part(u, CURLUPART_PATH, 0);
	if (!scheme || (strcmp(scheme, "https") && strcmp(scheme, "http")))
		why = "must be an https URL (or http toward allowed addresses)";
	else if (user || pass || opts || strchr(url, '@'))
		why = "may not hold a user name or password: use auth";
	else if (frag || strchr(url, '#'))
		why = "may not hold a fragment";
	else if (query || strchr(url, '?'))
		why = "may not hold a query: give it in the request path";
	else if (!host || zone || !host_ok(host))
		why = "must name a host (letters, digits, dots and dashes) or an IP address";
	else if (!port || !path || path[0] != '/' || has_dot_segment(path, strlen(path)))
		why = "has a port or a path that cannot be used";
	if (why)
		goto out;
	out->https = !strcmp(scheme, "https");
	out->port = (unsigned)strtoul(port, NULL, 10);
	size_t hl = strlen(host);
	if (host[0] == '[')
		snprintf(out->host, sizeof(out->host), "%.*s", (int)(hl - 2), host + 1);
	else
		snprintf(out->host, sizeof(out->host), "%s", host);
	char *given_port = part(u, CURLUPART_PORT, 0);
	size_t pl = strlen(path);
	while (pl > 0 && path[pl - 1] == '/')
		pl--;
	snprintf(out->canonical, sizeof(out->canonical), "%s://%s%s%s%.*s", scheme, host,
	         given_port ? ":" : "", given_port ? given_port : "", (int)pl, path);
	curl_free(given_port);
out:
	curl_free(scheme);
	curl_free(user);
	curl_free(pass);
	curl_free(opts);
	curl_free(frag);
	curl_free(query);
	curl_free(host);
	curl_free(zone);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
	return why;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

const char *bw_integ_path_check(const struct bw_integ_config *c, const char *path)
{
	size_t n = strlen(path);
	if (n < 1 || n > BW_INTEG_PATH_MAX || path[0] != '/')
		return "must start with / and be at most 2048 characters";
	for (const char *p = path; *p; p++)
		if (*p < 0x21 || *p > 0x7e || *p == '#' || *p == '\\')
			return "must be printable ASCII without spaces, # or \\";
	const char *q = strchr(path, '?');
	size_t pn = q ? (size_t)(q - path) : n;
	for (size_t i = 0; i < pn; i++) {
		if (path[i] != '%')
			continue;
		int hi = i + 2 < pn ? hexval(path[i + 1]) : -1;
		int lo = hi >= 0 ? hexval(path[i + 2]) : -1;
		if (hi < 0 || lo < 0)
			return "holds a % that is not followed by two hex digits";
		int ch = hi * 16 + lo;
		if (ch == '.' || ch == '/' || ch == '\\' || ch < 0x20 || ch == 0x7f)
			return "may not encode dots, slashes or control characters";
	}
	if (has_dot_segment(path, pn))
		return "may not hold . or .. segments";
	for (size_t i = 0; i < c->nprefixes; i++)
		if (!strncmp(path, c->prefixes[i], strlen(c->prefixes[i])) &&
		    strlen(c->prefixes[i]) <= pn)
			return NULL;
	return "is under none of allowed_path_prefixes";
}

bool bw_integ_url_join(const char *base, const char *path, char *out, size_t n)
{
	int w = snprintf(out, n, "%s%s", base, path);
	return w > 0 && (size_t)w < n;
}

/* ---- the target at registration ---- */

static void refusal(const struct bw_integ_url *u, const char *addr, bool literal,
                    const struct bw_addr_verdict *v, char *why, size_t n)
{
	char who[352];
	if (literal)
		snprintf(who, sizeof(who), "%s is", addr);
	else
		snprintf(who, sizeof(who), "%.255s resolves to %s,", u->host, addr);
	if (!v->allowed)
		snprintf(why, n, "%s a %s address that allowed_address_ranges does not contain",
		         who, bw_addr_class_name(v->cls));
	else
		snprintf(why, n,
		         "plain http goes only to addresses allowed_address_ranges lists, and %s "
		         "not one of them: use https",
		         who);
}

bw_result bw_integ_check_target(const struct bw_integ_url *u, const struct bw_integ_config *c,
                                char *why, size_t whysz)
{
	struct bw_ip ips[MAX_ADDRS];
	size_t n = 0;
	why[0] = '\0';
	if (c->auth == BW_INTEG_AUTH_MTLS && !u->https) {
		snprintf(why, whysz, "mutual TLS needs an https URL");
		return BW_INVALID;
	}
	if (!u->https && !c->nranges) {
		snprintf(why, whysz,
		         "must be https: plain http goes only to addresses allowed_address_ranges "
		         "lists, and it lists none");
		return BW_INVALID;
	}
	bool literal = bw_ip_parse(u->host, &ips[0]);
	if (literal) {
		n = 1;
	} else {
		struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
		struct addrinfo *res = NULL;
		int rc = getaddrinfo(u->host, NULL, &hints, &res);
		if (rc != 0) {
			snprintf(why, whysz, "the host %.255s does not resolve (%s)", u->host,
			         gai_strerror(rc));
			return BW_NOTFOUND;
		}
		for (struct addrinfo *a = res; a && n < MAX_ADDRS; a = a->ai_next)
			if (bw_ip_from_sockaddr(a->ai_addr, &ips[n]))
				n++;
		freeaddrinfo(res);
		if (!n) {
			snprintf(why, whysz, "the host %.255s has no IP address", u->host);
			return BW_NOTFOUND;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct bw_addr_verdict v;
		bw_addr_check(&ips[i], c->ranges, c->nranges, &v);
		if (v.allowed && (u->https || v.listed))
			continue;
		char a[64];
		bw_ip_format(&ips[i], a, sizeof(a));
		refusal(u, a, literal, &v, why, whysz);
		return BW_INVALID;
	}
	return BW_OK;
}

bool bw_integ_duration_parse(const char *s, long long *ms)
{
	size_t digits = strspn(s, "0123456789");
	if (digits < 1 || digits > 7 || s[0] == '0' || strlen(s) != digits + 1)
		return false;
	long long v = strtoll(s, NULL, 10), unit;
	switch (s[digits]) {
	case 's':
		unit = 1000;
		break;
	case 'm':
		unit = 60 * 1000;
		break;
	case 'h':
		unit = 3600 * 1000;
		break;
	case 'd':
		unit = 86400 * 1000LL;
		break;
	default:
		return false;
	}
	if (v * unit > 3650 * 86400 * 1000LL)
		return false;
	*ms = v * unit;
	return true;
}
