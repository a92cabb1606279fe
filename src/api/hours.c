/* Hours of operation: weekly ranges in an IANA time zone, with holidays,
 * and their state at an instant (src/cc/hours.c does the arithmetic). The
 * stored config and holidays are normalized copies of what was validated. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/routing_int.h"
#include "cc/hours.h"
#include "core/ids.h"
#include "store/store.h"

/* A validation failure of a nested value: where, and why. */
struct verr {
	char field[64];
	const char *msg;
};

static int fail(struct verr *e, const char *msg, const char *fmt, size_t i, const char *sub)
{
	snprintf(e->field, sizeof(e->field), fmt, i, sub);
	e->msg = msg;
	return -1;
}

static int fail_top(struct verr *e, const char *msg, const char *field)
{
	snprintf(e->field, sizeof(e->field), "%s", field);
	e->msg = msg;
	return -1;
}

static bool only_keys(const json_t *o, const char *const *allowed, const char **bad)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)o, k, v)
	{
		bool ok = false;
		for (const char *const *a = allowed; *a; a++)
			ok = ok || !strcmp(*a, k);
		if (!ok) {
			*bad = k;
			return false;
		}
	}
	return true;
}

static const char *str_of(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* config: [{"day","start","end"}] → ranges of h, and a normalized copy. */
static int config_decode(const json_t *v, struct bw_hours *h, json_t *norm, struct verr *e)
{
	static const char *const keys[] = {"day", "start", "end", NULL};
	size_t i;
	json_t *r;
	if (!json_is_array(v) || json_array_size(v) > BW_HOURS_MAX_RANGES)
		return fail_top(e, "an array of at most 28 ranges", "config");
	json_array_foreach(v, i, r)
	{
		const char *bad = NULL, *day, *start, *end;
		if (!json_is_object(r))
			return fail(e, "must be an object", "config[%zu]%s", i, "");
		if (!only_keys(r, keys, &bad)) {
			snprintf(e->field, sizeof(e->field), "config[%zu].%.32s", i, bad);
			e->msg = "unknown field";
			return -1;
		}
		int d = (day = str_of(r, "day")) ? bw_hours_day(day) : -1;
		if (d < 0)
			return fail(
			    e,
			    "one of MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, "
			    "SUNDAY",
			    "config[%zu].%s", i, "day");
		int s = (start = str_of(r, "start")) ? bw_hours_hhmm(start, false) : -1;
		if (s < 0)
			return fail(e, "a time HH:MM from 00:00 to 23:59", "config[%zu].%s", i,
			            "start");
		int en = (end = str_of(r, "end")) ? bw_hours_hhmm(end, true) : -1;
		if (en < 0)
			return fail(e, "a time HH:MM from 00:01 to 24:00", "config[%zu].%s", i,
			            "end");
		const char *why = bw_hours_add_range(h, d, s, en);
		if (why)
			return fail(e, why, "config[%zu].%s", i, "end");
		json_array_append_new(
		    norm, json_pack("{s:s, s:s, s:s}", "day", day, "start", start, "end", end));
	}
	return 0;
}

/* holidays: [{"date","name"?}] → holidays of h, and a normalized copy. */
static int holidays_decode(const json_t *v, struct bw_hours *h, json_t *norm, struct verr *e)
{
	static const char *const keys[] = {"date", "name", NULL};
	size_t i;
	json_t *o;
	if (!json_is_array(v) || json_array_size(v) > BW_HOURS_MAX_HOLIDAYS)
		return fail_top(e, "an array of at most 366 holidays", "holidays");
	json_array_foreach(v, i, o)
	{
		const char *bad = NULL, *date;
		int32_t day;
		if (!json_is_object(o))
			return fail(e, "must be an object", "holidays[%zu]%s", i, "");
		if (!only_keys(o, keys, &bad)) {
			snprintf(e->field, sizeof(e->field), "holidays[%zu].%.32s", i, bad);
			e->msg = "unknown field";
			return -1;
		}
		if (!(date = str_of(o, "date")) || !bw_hours_date(date, &day))
			return fail(e, "a date YYYY-MM-DD", "holidays[%zu].%s", i, "date");
		json_t *name = json_object_get(o, "name");
		if (name && !json_is_null(name) &&
		    (!json_is_string(name) || json_string_length(name) > 128 ||
		     strlen(json_string_value(name)) != json_string_length(name)))
			return fail(e, "a string of at most 128 bytes", "holidays[%zu].%s", i,
			            "name");
		const char *why = bw_hours_add_holiday(h, day);
		if (why)
			return fail(e, why, "holidays[%zu].%s", i, "date");
		json_t *n = json_pack("{s:s}", "date", date);
		if (name && json_is_string(name))
			json_object_set(n, "name", name);
		json_array_append_new(norm, n);
	}
	return 0;
}

static json_t *parsed(const char *text)
{
	json_t *v = text ? json_loads(text, 0, NULL) : NULL;
	return v ? v : json_array();
}

static json_t *hoo_json(const struct bw_hoo *h)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "id", h->id, "name", h->name,
	                      "description", h->description, "time_zone", h->time_zone, "config",
	                      parsed(h->config), "holidays", parsed(h->holidays));
	return bw_api__times(o, h->created_at, h->updated_at);
}

static int zone(struct bw_ctx *c, bool required, const char **tz)
{
	if (bw_api_str(c, "time_zone", 1, BW_TZ_NAME_MAX, required, tz))
		return -1;
	if (*tz && !bw_hours_zone_ok(*tz)) {
		bw_reply_error(c, 400, "InvalidParameter",
		               "not a known IANA time zone (such as Europe/Paris)", "time_zone");
		return -1;
	}
	return 0;
}

/* Decodes body.key with fn into a malloc'd normalized JSON text. */
static int decode_part(struct bw_ctx *c, const char *key, bool required,
                       int (*fn)(const json_t *, struct bw_hours *, json_t *, struct verr *),
                       char **text)
{
	struct bw_hours *h = calloc(1, sizeof(*h));
	json_t *v = json_object_get(c->in, key), *norm = json_array();
	struct verr e = {{0}, NULL};
	int rc = -1;
	*text = NULL;
	if (!h || !norm) {
		bw_reply_result(c, BW_NOMEM, NULL, NULL);
		goto out;
	}
	if (!v || json_is_null(v)) {
		if (required)
			bw_reply_error(c, 400, "InvalidParameter", "this field is required", key);
		else
			rc = 0;
		goto out;
	}
	if (fn(v, h, norm, &e) != 0) {
		bw_reply_error(c, 400, "InvalidParameter", e.msg, e.field);
		goto out;
	}
	if (!(*text = json_dumps(norm, JSON_COMPACT))) {
		bw_reply_result(c, BW_NOMEM, NULL, NULL);
		goto out;
	}
	rc = 0;
out:
	json_decref(norm);
	free(h);
	return rc;
}

static const char *const hoo_fields[] = {"name",   "description", "time_zone",
                                         "config", "holidays",    NULL};

static void reply_write(struct bw_ctx *c, bw_result r, const struct bw_hoo *h, int status)
{
	if (r == BW_OK)
		bw_reply_json(c, status, hoo_json(h));
	else
		bw_reply_result(c, r,
		                r == BW_CONFLICT ? "hours of operation with this name exist"
		                                 : "no such hours of operation",
		                r == BW_CONFLICT ? "name" : NULL);
}

void bw_api_hours_create(struct bw_ctx *c)
{
	const char *name, *desc, *tz;
	struct bw_hoo h = {0};
	if (bw_api_only(c, hoo_fields) || bw_api__name_desc(c, true, &name, &desc) ||
	    zone(c, true, &tz) || decode_part(c, "config", true, config_decode, &h.config) ||
	    decode_part(c, "holidays", false, holidays_decode, &h.holidays))
		goto out;
	bw_id_new(h.id, "ho_");
	snprintf(h.instance_id, sizeof(h.instance_id), "%s", c->who.instance_id);
	snprintf(h.name, sizeof(h.name), "%s", name);
	snprintf(h.description, sizeof(h.description), "%s", desc ? desc : "");
	snprintf(h.time_zone, sizeof(h.time_zone), "%s", tz);
	h.created_at = h.updated_at = bw_now_unix();
	reply_write(c, bw_store_hoo_insert(c->store, &h), &h, 201);
out:
	bw_hoo_clear(&h);
}

static bw_result ho_fetch(struct bw_ctx *c, const char *after, void *out, size_t max, size_t *n)
{
	return bw_store_hoo_list(c->store, c->who.instance_id, after, out, max, n);
}

static json_t *ho_encode(struct bw_ctx *c, const void *item)
{
	(void)c;
	return hoo_json(item);
}

static void ho_clear(void *item)
{
	bw_hoo_clear(item);
}

static const char *ho_id(const void *item)
{
	return ((const struct bw_hoo *)item)->id;
}

void bw_api_hours_list(struct bw_ctx *c)
{
	static const struct bw_api_lister l = {sizeof(struct bw_hoo), ho_fetch, ho_encode, ho_clear,
	                                       ho_id};
	bw_api_list(c, &l);
}

static int load(struct bw_ctx *c, struct bw_hoo *h)
{
	memset(h, 0, sizeof(*h));
	bw_result r = bw_store_hoo_get(c->store, c->who.instance_id, c->req->params[1], h);
	if (r != BW_OK) {
		bw_reply_result(c, r, "no such hours of operation", NULL);
		return -1;
	}
	return 0;
}

void bw_api_hours_get(struct bw_ctx *c)
{
	struct bw_hoo h;
	if (load(c, &h) != 0)
		return;
	bw_reply_json(c, 200, hoo_json(&h));
	bw_hoo_clear(&h);
}

void bw_api_hours_update(struct bw_ctx *c)
{
	const char *name, *desc, *tz;
	char *config = NULL, *holidays = NULL;
	struct bw_hoo h = {0};
	if (bw_api_only(c, hoo_fields) || bw_api__name_desc(c, false, &name, &desc) ||
	    zone(c, false, &tz) || decode_part(c, "config", false, config_decode, &config) ||
	    decode_part(c, "holidays", false, holidays_decode, &holidays) || load(c, &h) != 0)
		goto out;
	if (name)
		snprintf(h.name, sizeof(h.name), "%s", name);
	if (desc)
		snprintf(h.description, sizeof(h.description), "%s", desc);
	if (tz)
		snprintf(h.time_zone, sizeof(h.time_zone), "%s", tz);
	if (config) {
		free(h.config);
		h.config = config;
		config = NULL;
	}
	if (holidays) {
		free(h.holidays);
		h.holidays = holidays;
		holidays = NULL;
	}
	h.updated_at = bw_now_unix();
	reply_write(c, bw_store_hoo_update(c->store, &h), &h, 200);
out:
	free(config);
	free(holidays);
	bw_hoo_clear(&h);
}

void bw_api_hours_delete(struct bw_ctx *c)
{
	bw_result r = bw_store_hoo_delete(c->store, c->who.instance_id, c->req->params[1]);
	if (r != BW_OK) {
		bw_reply_result(c, r,
		                r == BW_CONFLICT ? "a queue uses these hours of operation"
		                                 : "no such hours of operation",
		                NULL);
		return;
	}
	bw_reply_empty(c, 204);
}

/* Rebuilds the evaluable form of stored hours. */
int bw_api_hours_of(const struct bw_hoo *row, struct bw_hours *h)
{
	struct verr e;
	json_t *cfg = parsed(row->config), *hol = parsed(row->holidays), *n1 = json_array(),
	       *n2 = json_array();
	memset(h, 0, sizeof(*h));
	snprintf(h->time_zone, sizeof(h->time_zone), "%.64s", row->time_zone);
	int rc = config_decode(cfg, h, n1, &e) || holidays_decode(hol, h, n2, &e) ? -1 : 0;
	json_decref(cfg);
	json_decref(hol);
	json_decref(n1);
	json_decref(n2);
	return rc;
}

/* GET .../hours-of-operation/{hid}/status?at=<RFC 3339>: open or not, and
 * why, at that instant (now by default). */
void bw_api_hours_status(struct bw_ctx *c)
{
	static const char *const reasons[] = {"closed", "open", "holiday"};
	char at[64];
	bool present;
	time_t t = (time_t)bw_now_unix();
	if (bw_api_query(c, "at", at, sizeof(at), &present) != 0)
		return;
	if (present) {
		/* '+' in a query decodes to a space: take it back for the offset. */
		for (char *p = at; *p; p++)
			if (*p == ' ')
				*p = '+';
		if (!bw_rfc3339_parse(at, &t)) {
			bw_reply_error(c, 400, "InvalidParameter",
			               "an RFC 3339 time such as 2026-11-28T18:00:00Z", "at");
			return;
		}
	}
	struct bw_hoo row;
	if (load(c, &row) != 0)
		return;
	struct bw_hours *h = calloc(1, sizeof(*h));
	struct bw_hours_status st;
	if (!h || bw_api_hours_of(&row, h) != 0 || bw_hours_eval(h, t, &st) != 0)
		bw_reply_result(c, BW_ERR, NULL, NULL);
	else
		bw_reply_json(c, 200,
		              json_pack("{s:b, s:s, s:s}", "open", st.open, "local_time",
		                        st.local_time, "reason", reasons[st.reason]));
	free(h);
	bw_hoo_clear(&row);
}
