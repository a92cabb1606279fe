/* An event subscription's settings: validation, matching, projection. */
#include <stdio.h>
#include <string.h>

#include "events/subs.h"

static const char *const types[] = {"contact.ended", "contact.queued", "contact.blocked", "audit",
                                    NULL};
static const char *const channels[] = {"CHAT", "CALLBACK", NULL};

static bool one_of(const char *s, const char *const *set)
{
	for (; *set; set++)
		if (!strcmp(s, *set))
			return true;
	return false;
}

json_t *bw_event_sub_config_new(void)
{
	return json_pack("{s:[], s:n, s:n, s:n}", "event_types", "filters", "fields", "sink");
}

static bool id_text(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
			return false;
	return true;
}

/* A hierarchy group or business unit: printable, no control characters. */
static bool group_text(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* A list of 1..max distinct strings each passing ok(); NULL or a reason. */
static const char *string_list(const json_t *v, size_t max, bool (*ok)(const char *, size_t),
                               size_t len, const char *const *set)
{
	if (!json_is_array(v))
		return "must be an array of strings";
	size_t n = json_array_size(v);
	if (n == 0 || n > max)
		return max == 4 ? "must hold 1 to 4 entries" : "must hold 1 to 32 entries";
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(v, i));
		if (!s)
			return "must be an array of strings";
		if (set ? !one_of(s, set) : !ok(s, len))
			return set == types     ? "holds an unknown event type (contact.ended, "
			                          "contact.queued, contact.blocked, audit)"
			       : set == channels ? "holds an unknown channel (CHAT, CALLBACK)"
			                         : "holds an entry that is empty, too long or has "
			                           "characters it may not";
		for (size_t k = 0; k < i; k++)
			if (!strcmp(s, json_string_value(json_array_get(v, k))))
				return "repeats an entry";
	}
	return NULL;
}

static bool ok_any(const char *s, size_t max)
{
	(void)max;
	return s != NULL;
}

static int fail(const char **field, const char *f, char *why, size_t whysz, const char *r)
{
	*field = f;
	snprintf(why, whysz, "%s %s", f, r);
	return -1;
}

static int apply_filters(json_t *cfg, const json_t *v, const char **field, char *why, size_t n)
{
	static const char *const known[] = {"queues", "channels", "hierarchy_groups",
	                                    "business_units", NULL};
	if (json_is_null(v)) {
		json_object_set_new(cfg, "filters", json_null());
		return 0;
	}
	if (!json_is_object(v))
		return fail(field, "filters", why, n, "must be an object or null");
	const char *k;
	json_t *x;
	json_object_foreach((json_t *)v, k, x) {
		if (!one_of(k, known))
			return fail(field, "filters", why, n,
			            "takes only queues, channels, hierarchy_groups and business_units");
	}
	static const char *const names[] = {"filters.queues", "filters.channels",
	                                    "filters.hierarchy_groups", "filters.business_units"};
	for (int i = 0; i < 4; i++) {
		const json_t *l = json_object_get(v, known[i]);
		const char *r = NULL;
		if (!l)
			continue;
		if (i == 0)
			r = string_list(l, BW_EVENT_FILTER_MAX, id_text, 64, NULL);
		else if (i == 1)
			r = string_list(l, BW_EVENT_FILTER_MAX, ok_any, 0, channels);
		else
			r = string_list(l, BW_EVENT_FILTER_MAX, group_text, 128, NULL);
		if (r)
			return fail(field, names[i], why, n, r);
	}
	json_object_set(cfg, "filters", (json_t *)v);
	return 0;
}

/* "name" or "name.sub", each 1..64 of [A-Za-z0-9_]. */
static bool field_path(const char *s, size_t max)
{
	(void)max;
	size_t seg = 0;
	int dots = 0;
	for (const char *p = s;; p++) {
		if (*p == '.' || !*p) {
			if (seg == 0 || seg > 64 || (*p == '.' && ++dots > 1))
				return false;
			if (!*p)
				return true;
			seg = 0;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '_'))
			return false;
		seg++;
	}
}

static int apply_sink(json_t *cfg, const json_t *v, const char **field, char *why, size_t n)
{
	const char *type = json_string_value(json_object_get(v, "type"));
	if (!json_is_object(v) || !type)
		return fail(field, "sink", why, n, "must be an object with a type");
	const char *k;
	json_t *x;
	bool hook = !strcmp(type, "webhook");
	if (!hook && strcmp(type, "nats") && strcmp(type, "warehouse"))
		return fail(field, "sink.type", why, n, "must be webhook, nats or warehouse");
	json_object_foreach((json_t *)v, k, x) {
		if (strcmp(k, "type") && (!hook || (strcmp(k, "integration_id") && strcmp(k, "path"))))
			return fail(field, "sink", why, n,
			            hook ? "takes only type, integration_id and path"
			                 : "takes only type for this sink");
	}
	json_t *out = json_pack("{s:s}", "type", type);
	if (hook) {
		const char *ig = json_string_value(json_object_get(v, "integration_id"));
		const json_t *p = json_object_get(v, "path");
		if (!ig || !id_text(ig, 64)) {
			json_decref(out);
			return fail(field, "sink.integration_id", why, n,
			            "must name an integration of the instance");
		}
		if (p && (!json_is_string(p) || json_string_length(p) == 0 ||
		          json_string_length(p) > 2048)) {
			json_decref(out);
			return fail(field, "sink.path", why, n, "must be a path of 1 to 2048 characters");
		}
		json_object_set_new(out, "integration_id", json_string(ig));
		json_object_set_new(out, "path", json_string(p ? json_string_value(p) : "/"));
	}
	json_object_set_new(cfg, "sink", out);
	return 0;
}

int bw_event_sub_config_apply(json_t *cfg, const json_t *body, const char **field, char *why,
                              size_t whysz)
{
	const json_t *v;
	const char *r;
	if ((v = json_object_get(body, "event_types"))) {
		if ((r = string_list(v, 4, ok_any, 0, types)))
			return fail(field, "event_types", why, whysz, r);
		json_object_set(cfg, "event_types", (json_t *)v);
	}
	if ((v = json_object_get(body, "filters")) && apply_filters(cfg, v, field, why, whysz))
		return -1;
	if ((v = json_object_get(body, "fields"))) {
		if (json_is_null(v))
			json_object_set_new(cfg, "fields", json_null());
		else if ((r = string_list(v, BW_EVENT_FIELDS_MAX, field_path, 0, NULL)))
			return fail(field, "fields", why, whysz,
			            !strcmp(r, "must hold 1 to 32 entries")
			                ? "must hold 1 to 64 names"
			                : !strncmp(r, "holds an entry", 14)
			                      ? "holds a name that is not a field or field.member"
			                      : r);
		else
			json_object_set(cfg, "fields", (json_t *)v);
	}
	if ((v = json_object_get(body, "sink")) && apply_sink(cfg, v, field, why, whysz))
		return -1;
	return 0;
}

json_t *bw_event_sub_config_load(const char *text)
{
	json_error_t e;
	json_t *v = text ? json_loads(text, 0, &e) : NULL;
	if (!json_is_object(v) || !json_is_array(json_object_get(v, "event_types")) ||
	    !json_is_object(json_object_get(v, "sink"))) {
		json_decref(v);
		return NULL;
	}
	return v;
}

static bool in_list(const json_t *l, const char *s)
{
	size_t i;
	json_t *x;
	json_array_foreach(l, i, x) {
		if (s && !strcmp(json_string_value(x), s))
			return true;
	}
	return false;
}

/* group equal to g, or under it ("Sales/EMEA" takes "Sales/EMEA/Team1"). */
static bool under(const json_t *l, const char *group)
{
	size_t i;
	json_t *x;
	json_array_foreach(l, i, x) {
		const char *g = json_string_value(x);
		size_t n = strlen(g);
		if (!strncmp(group, g, n) && (group[n] == '\0' || group[n] == '/'))
			return true;
	}
	return false;
}

bool bw_event_sub_needs_group(const json_t *cfg)
{
	const json_t *f = json_object_get(cfg, "filters");
	return json_object_get(f, "hierarchy_groups") || json_object_get(f, "business_units");
}

bool bw_event_sub_takes(const json_t *cfg, const struct bw_event_src *e, const char *agent_group)
{
	if (!in_list(json_object_get(cfg, "event_types"), e->type))
		return false;
	const json_t *f = json_object_get(cfg, "filters"), *l;
	if (!json_is_object(f))
		return true;
	if ((l = json_object_get(f, "queues")) && !(e->queue_id && in_list(l, e->queue_id)))
		return false;
	if ((l = json_object_get(f, "channels")) && !(e->channel && in_list(l, e->channel)))
		return false;
	bool has_group = agent_group && agent_group[0];
	if ((l = json_object_get(f, "hierarchy_groups")) && !(has_group && under(l, agent_group)))
		return false;
	if ((l = json_object_get(f, "business_units"))) {
		char unit[136];
		if (!has_group)
			return false;
		size_t n = strcspn(agent_group, "/");
		snprintf(unit, sizeof(unit), "%.*s", (int)(n < 128 ? n : 128), agent_group);
		if (!in_list(l, unit))
			return false;
	}
	return true;
}

static void copy_path(json_t *out, const json_t *data, const char *path)
{
	const char *dot = strchr(path, '.');
	if (!dot) {
		json_t *v = json_object_get(data, path);
		if (v) /* a copy: a member added under it later must not reach data */
			json_object_set_new(out, path, json_deep_copy(v));
		return;
	}
	char top[65];
	snprintf(top, sizeof(top), "%.*s", (int)(dot - path < 64 ? dot - path : 64), path);
	json_t *inner = json_object_get(data, top);
	json_t *v = json_object_get(inner, dot + 1);
	if (!v)
		return;
	json_t *dst = json_object_get(out, top);
	if (!json_is_object(dst)) {
		dst = json_object();
		json_object_set_new(out, top, dst);
	}
	json_object_set(dst, dot + 1, v);
}

json_t *bw_event_project(const json_t *cfg, const char *type, const json_t *data)
{
	const json_t *fields = json_object_get(cfg, "fields");
	if (!json_is_array(fields))
		return json_incref((json_t *)data);
	json_t *out = json_object();
	size_t i;
	json_t *x;
	copy_path(out, data, "id");
	if (strcmp(type, "audit"))
		copy_path(out, data, "last_update_timestamp");
	json_array_foreach(fields, i, x) {
		copy_path(out, data, json_string_value(x));
	}
	return out;
}
