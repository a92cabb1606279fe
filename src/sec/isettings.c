#include "sec/isettings.h"

#include <stdio.h>
#include <string.h>

#include "sec/classify.h"
#include "sec/redact.h"

#define D_IDLE 1800
#define D_MAX_AGE 43200

json_t *bw_isettings_default_json(void)
{
	return json_pack("{s:b, s:[], s:[], s:I, s:I, s:{s:i}, s:{s:i, s:I, s:I, s:i}, s:{}, s:s}",
	                 "mfa_required", 0, "allowed_ip_ranges", "approved_origins",
	                 "session_idle_timeout_s", (json_int_t)D_IDLE, "session_max_age_s",
	                 (json_int_t)D_MAX_AGE, "password_policy", "min_length", 12, "lockout",
	                 "max_failures", 5, "base_lockout_s", (json_int_t)30, "max_lockout_s",
	                 (json_int_t)900, "address_max_failures", 50, "attribute_classes",
	                 "pii_redaction", "off");
}

static long long int_or(const json_t *o, const char *k, long long def)
{
	json_t *v = json_object_get(o, k);
	return json_is_integer(v) ? json_integer_value(v) : def;
}

void bw_isettings_parse(const char *text, struct bw_isettings *out)
{
	memset(out, 0, sizeof(*out));
	json_t *d = bw_isettings_default_json();
	json_t *o = text ? json_loads(text, 0, NULL) : NULL;
	if (json_is_object(o))
		json_object_update(d, o);
	out->mfa_required = json_is_true(json_object_get(d, "mfa_required"));
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(d, "allowed_ip_ranges"), i, v)
	{
		if (out->nranges < BW_MAX_RANGES && json_is_string(v) &&
		    bw_cidr_parse(json_string_value(v), &out->ranges[out->nranges]) == 0)
			out->nranges++;
	}
	json_array_foreach(json_object_get(d, "approved_origins"), i, v)
	{
		if (out->norigins < BW_MAX_ORIGINS && json_is_string(v))
			snprintf(out->origins[out->norigins++], 256, "%s", json_string_value(v));
	}
	out->idle_s = int_or(d, "session_idle_timeout_s", D_IDLE);
	out->max_age_s = int_or(d, "session_max_age_s", D_MAX_AGE);
	json_t *pp = json_object_get(d, "password_policy");
	out->min_length = (int)int_or(pp, "min_length", 12);
	json_t *lo = json_object_get(d, "lockout");
	out->max_failures = (int)int_or(lo, "max_failures", 5);
	out->base_lockout_s = int_or(lo, "base_lockout_s", 30);
	out->max_lockout_s = int_or(lo, "max_lockout_s", 900);
	out->address_max_failures = (int)int_or(lo, "address_max_failures", 50);
	int m = bw_redact_mode_parse(json_string_value(json_object_get(d, "pii_redaction")));
	out->pii_redaction = m < 0 ? BW_REDACT_OFF : m;
	json_decref(o);
	json_decref(d);
}

static bool attr_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '.' || *s == '_' || *s == '-'))
			return false;
	return true;
}

json_t *bw_isettings_classes(const char *text)
{
	json_t *o = text ? json_loads(text, 0, NULL) : NULL;
	json_t *m = json_object();
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(o, "attribute_classes"), k, v)
	{
		if (m && attr_name_ok(k) && bw_class_parse(json_string_value(v)) >= 0)
			json_object_set(m, k, v);
	}
	json_decref(o);
	return m;
}

/* attribute_classes: {name: class}, at most BW_CLASS_MAX_NAMES; a wrong
 * entry is named from the top ("attribute_classes.card"). */
static bool classes_ok(const json_t *v, const char **field, const char **msg)
{
	static _Thread_local char path[96];
	const char *k;
	json_t *c;
	if (!json_is_object(v) || json_object_size(v) > BW_CLASS_MAX_NAMES) {
		*msg = "an object of at most 64 attribute names, each with a class";
		return false;
	}
	json_object_foreach((json_t *)v, k, c)
	{
		if (!attr_name_ok(k) || bw_class_parse(json_string_value(c)) < 0) {
			snprintf(path, sizeof(path), "attribute_classes.%.64s", k);
			*field = attr_name_ok(k) ? path : "attribute_classes";
			*msg = attr_name_ok(k) ? "a class is public, internal, sensitive or restricted"
			                       : "an attribute name is 1 to 64 of letters, digits, '.', '_', '-'";
			return false;
		}
	}
	return true;
}

static bool int_in(const json_t *v, long long lo, long long hi)
{
	return json_is_integer(v) && json_integer_value(v) >= lo && json_integer_value(v) <= hi;
}

static bool valid_origin(const char *s)
{
	/* scheme://host[:port], no path, no trailing slash */
	const char *p = NULL;
	if (!strncmp(s, "https://", 8))
		p = s + 8;
	else if (!strncmp(s, "http://", 7))
		p = s + 7;
	if (!p || !*p || strlen(s) > 255)
		return false;
	for (; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		      *p == ':' || *p == '[' || *p == ']'))
			return false;
	return true;
}

/* Checks one nested object against allowed integer keys and bounds. */
struct ibound {
	const char *key;
	long long lo, hi;
};

static bool patch_ints(json_t *dst, const json_t *src, const struct ibound *b, size_t nb,
                       const char **field)
{
	/* Nested fields are named from the top: "lockout.max_failures". */
	static _Thread_local char path[96];
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)src, k, v)
	{
		size_t i;
		for (i = 0; i < nb; i++)
			if (!strcmp(b[i].key, k))
				break;
		if (i == nb || !int_in(v, b[i].lo, b[i].hi)) {
			snprintf(path, sizeof(path), "%s.%.60s", *field, k);
			*field = path;
			return false;
		}
		json_object_set(dst, k, v);
	}
	return true;
}

json_t *bw_isettings_patch(const char *stored, const json_t *patch, const char **field,
                           const char **msg)
{
	json_t *d = bw_isettings_default_json();
	json_t *cur = stored ? json_loads(stored, 0, NULL) : NULL;
	if (json_is_object(cur))
		json_object_update(d, cur);
	json_decref(cur);
	const char *k;
	json_t *v;
	*msg = "invalid value";
	json_object_foreach((json_t *)patch, k, v)
	{
		*field = k;
		if (!strcmp(k, "mfa_required")) {
			if (!json_is_boolean(v))
				goto bad;
			json_object_set(d, k, v);
		} else if (!strcmp(k, "allowed_ip_ranges") || !strcmp(k, "approved_origins")) {
			bool ranges = k[0] == 'a' && k[1] == 'l';
			if (!json_is_array(v) ||
			    json_array_size(v) > (size_t)(ranges ? BW_MAX_RANGES : BW_MAX_ORIGINS))
				goto bad;
			size_t i;
			json_t *e;
			json_array_foreach(v, i, e)
			{
				struct bw_cidr c;
				if (!json_is_string(e))
					goto bad;
				if (ranges && bw_cidr_parse(json_string_value(e), &c) != 0) {
					*msg = "each range must be an IPv4 or IPv6 CIDR with no host bits set";
					goto bad;
				}
				if (!ranges && !valid_origin(json_string_value(e))) {
					*msg = "each origin must be scheme://host[:port] in lower case";
					goto bad;
				}
			}
			json_object_set(d, k, v);
		} else if (!strcmp(k, "session_idle_timeout_s")) {
			if (!int_in(v, 60, 86400))
				goto bad;
			json_object_set(d, k, v);
		} else if (!strcmp(k, "session_max_age_s")) {
			if (!int_in(v, 300, 30 * 86400))
				goto bad;
			json_object_set(d, k, v);
		} else if (!strcmp(k, "password_policy")) {
			static const struct ibound b[] = {{"min_length", 8, 128}};
			if (!json_is_object(v) || !patch_ints(json_object_get(d, k), v, b, 1, field))
				goto bad;
		} else if (!strcmp(k, "lockout")) {
			static const struct ibound b[] = {{"max_failures", 1, 100},
			                                  {"base_lockout_s", 1, 86400},
			                                  {"max_lockout_s", 1, 7 * 86400},
			                                  {"address_max_failures", 1, 100000}};
			if (!json_is_object(v) || !patch_ints(json_object_get(d, k), v, b, 4, field))
				goto bad;
		} else if (!strcmp(k, "attribute_classes")) {
			if (!classes_ok(v, field, msg))
				goto bad;
			json_object_set(d, k, v);
		} else if (!strcmp(k, "pii_redaction")) {
			if (bw_redact_mode_parse(json_string_value(v)) < 0) {
				*msg = "one of off, stored, agents, both";
				goto bad;
			}
			json_object_set(d, k, v);
		} else {
			*msg = "unknown setting";
			goto bad;
		}
	}
	return d;
bad:
	json_decref(d);
	return NULL;
}

bool bw_isettings_ip_allowed(const struct bw_isettings *s, int family, const uint8_t *addr)
{
	if (s->nranges == 0)
		return true; /* no ranges: every address */
	uint8_t mapped[16];
	for (int i = 0; i < s->nranges; i++)
		if (bw_cidr_match(&s->ranges[i], family, addr))
			return true;
	/* An IPv4-mapped IPv6 peer matches IPv4 ranges. */
	static const uint8_t v4map[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (family == 6 && !memcmp(addr, v4map, 12)) {
		memcpy(mapped, addr + 12, 4);
		for (int i = 0; i < s->nranges; i++)
			if (bw_cidr_match(&s->ranges[i], 4, mapped))
				return true;
	}
	return false;
}

bool bw_isettings_origin_allowed(const struct bw_isettings *s, const char *origin)
{
	if (!origin)
		return true; /* a server or a mobile app: no Origin header */
	for (int i = 0; i < s->norigins; i++)
		if (!strcmp(s->origins[i], origin))
			return true;
	return false;
}
