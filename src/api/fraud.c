/* An instance's deny list and contact filter (C10, docs/api.md "Fraud and
 * abuse protection"). Values are checked and normalized by the fraud core
 * (bw_fraud_deny_value) before they are stored; every successful write is
 * passed on to the loop's deny list (bw_guard_deny_put/_del), so that it
 * applies to the next public request. Error messages never echo a value:
 * a deny-list value is personal data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/routing_int.h"
#include "core/csv.h"
#include "core/ids.h"
#include "fraud/fraud.h"
#include "store/store.h"

#define REASON_MAX 512
#define VALUE_MAX 1024 /* what is read of a value before it is checked */
#define IMPORT_MAX_ROWS 10000
#define IMPORT_MAX_ERRORS 100 /* listed in a refusal; the count says how many */
#define IMPORT_HEADER "type,value,reason,expires_at"

static json_t *deny_json(const struct bw_deny_row *d)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_string(d->id));
	json_object_set_new(o, "type", json_string(d->type));
	json_object_set_new(o, "value", json_string(d->value));
	json_object_set_new(o, "reason", json_string(d->reason));
	json_object_set_new(o, "expires_at", bw_api_time_or_null(d->expires_at));
	json_object_set_new(o, "source", json_string(d->source));
	json_object_set_new(o, "created_at", bw_api_time_or_null(d->created_at));
	return o;
}

/* The loop's deny list learns of a stored row. */
static void guard_put(const struct bw_deny_row *d)
{
	struct bw_fraud_deny e;
	int k = bw_fraud_kind_parse(d->type);
	if (k < 0)
		return;
	memset(&e, 0, sizeof(e));
	snprintf(e.id, sizeof(e.id), "%s", d->id);
	snprintf(e.instance_id, sizeof(e.instance_id), "%s", d->instance_id);
	e.kind = (enum bw_fraud_kind)k;
	snprintf(e.value, sizeof(e.value), "%s", d->value);
	e.expires_ms = d->expires_at;
	bw_guard_deny_put(&e);
}

/* ---- checks shared by the JSON routes and the CSV import ---- */

static const char *check_type(const char *type, struct bw_deny_row *d, int *kind)
{
	int k = bw_fraud_kind_parse(type);
	*kind = k;
	if (k < 0)
		return "type must be IP, NUMBER or EMAIL";
	snprintf(d->type, sizeof(d->type), "%s", bw_fraud_kind_name((enum bw_fraud_kind)k));
	return NULL;
}

static const char *check_reason(const char *s, size_t n, struct bw_deny_row *d)
{
	if (n > REASON_MAX)
		return "reason is longer than 512 bytes";
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return "reason holds a control character";
	memcpy(d->reason, s, n);
	d->reason[n] = '\0';
	return NULL;
}

static const char *check_expiry(const char *s, long long now, long long *out)
{
	if (!bw_time_parse_rfc3339_ms(s, out))
		return "expires_at must be an RFC 3339 time";
	if (*out <= now)
		return "expires_at must be in the future";
	return NULL;
}

/* A new MANUAL row of the caller's instance, created now. */
static void new_row(struct bw_ctx *c, struct bw_deny_row *d, long long now)
{
	bw_id_new(d->id, "dl_");
	snprintf(d->instance_id, sizeof(d->instance_id), "%s", c->who.instance_id);
	snprintf(d->source, sizeof(d->source), "MANUAL");
	d->created_at = now;
}

/* "reason" and "expires_at" of the body into d when given (null clears
 * them); replies 400 and returns -1 when wrong. */
static int reason_expiry_in(struct bw_ctx *c, long long now, struct bw_deny_row *d)
{
	json_t *r = json_object_get(c->in, "reason"), *e = json_object_get(c->in, "expires_at");
	const char *why;
	if (r && json_is_null(r)) {
		d->reason[0] = '\0';
	} else if (r) {
		if (!json_is_string(r)) {
			bw_reply_error(c, 400, "InvalidParameter", "must be a string", "reason");
			return -1;
		}
		const char *s = json_string_value(r);
		size_t n = json_string_length(r);
		if (strlen(s) != n)
			why = "reason holds a control character";
		else
			why = check_reason(s, n, d);
		if (why) {
			bw_reply_error(c, 400, "InvalidParameter", why, "reason");
			return -1;
		}
	}
	if (e && json_is_null(e)) {
		d->expires_at = 0;
	} else if (e) {
		if (!json_is_string(e)) {
			bw_reply_error(c, 400, "InvalidParameter", "must be a string",
			               "expires_at");
			return -1;
		}
		if ((why = check_expiry(json_string_value(e), now, &d->expires_at))) {
			bw_reply_error(c, 400, "InvalidParameter", why, "expires_at");
			return -1;
		}
	}
	return 0;
}

/* ---- one entry ---- */

static const char *const create_fields[] = {"type", "value", "reason", "expires_at", NULL};
static const char *const update_fields[] = {"reason", "expires_at", NULL};

void bw_api_deny_create(struct bw_ctx *c)
{
	struct bw_deny_row d;
	const char *type, *value, *why;
	int kind;
	long long now = bw_now_ms();
	memset(&d, 0, sizeof(d));
	if (bw_api_only(c, create_fields) || bw_api_str(c, "type", 1, 16, true, &type))
		return;
	if ((why = check_type(type, &d, &kind))) {
		bw_reply_error(c, 400, "InvalidParameter", why, "type");
		return;
	}
	if (bw_api_str(c, "value", 0, VALUE_MAX, true, &value))
		return;
	if ((why =
	         bw_fraud_deny_value((enum bw_fraud_kind)kind, value, d.value, sizeof(d.value)))) {
		bw_reply_error(c, 400, "InvalidParameter", why, "value");
		return;
	}
	if (reason_expiry_in(c, now, &d) != 0)
		return;
	new_row(c, &d, now);
	bw_result r = bw_store_deny_insert(c->store, &d);
	if (r != BW_OK) {
		bw_reply_result(c, r, "an entry of this type and value exists", "value");
		return;
	}
	guard_put(&d);
	bw_reply_json(c, 201, deny_json(&d));
}

static int load(struct bw_ctx *c, struct bw_deny_row *d)
{
	memset(d, 0, sizeof(*d));
	bw_result r = bw_store_deny_get(c->store, c->who.instance_id, c->req->params[1], d);
	if (r != BW_OK) {
		bw_reply_result(c, r, "no such deny-list entry", NULL);
		return -1;
	}
	return 0;
}

void bw_api_deny_get(struct bw_ctx *c)
{
	struct bw_deny_row d;
	if (load(c, &d) == 0)
		bw_reply_json(c, 200, deny_json(&d));
}

void bw_api_deny_update(struct bw_ctx *c)
{
	struct bw_deny_row d;
	if (bw_api_only(c, update_fields) || load(c, &d) != 0 ||
	    reason_expiry_in(c, bw_now_ms(), &d) != 0)
		return;
	bw_result r = bw_store_deny_update(c->store, &d);
	if (r != BW_OK) {
		bw_reply_result(c, r, "no such deny-list entry", NULL);
		return;
	}
	guard_put(&d);
	bw_reply_json(c, 200, deny_json(&d));
}

void bw_api_deny_delete(struct bw_ctx *c)
{
	const char *id = c->req->params[1];
	bw_result r = bw_store_deny_delete(c->store, c->who.instance_id, id);
	if (r != BW_OK) {
		bw_reply_result(c, r, "no such deny-list entry", NULL);
		return;
	}
	bw_guard_deny_del(c->who.instance_id, id);
	bw_reply_empty(c, 204);
}

/* ---- the list ---- */

/* ?type= and ?source= (checked by the handler before the page is read). */
struct list_query {
	char type[16], source[16];
};

static int list_query(struct bw_ctx *c, struct list_query *q)
{
	bool has_type, has_source;
	if (bw_api_query(c, "type", q->type, sizeof(q->type), &has_type) != 0 ||
	    bw_api_query(c, "source", q->source, sizeof(q->source), &has_source) != 0)
		return -1;
	if (!has_type)
		q->type[0] = '\0';
	else if (bw_fraud_kind_parse(q->type) < 0) {
		bw_reply_error(c, 400, "InvalidParameter", "type must be IP, NUMBER or EMAIL",
		               "type");
		return -1;
	}
	if (!has_source)
		q->source[0] = '\0';
	else if (strcmp(q->source, "MANUAL") && strcmp(q->source, "AUTOMATIC")) {
		bw_reply_error(c, 400, "InvalidParameter", "source must be MANUAL or AUTOMATIC",
		               "source");
		return -1;
	}
	return 0;
}

static bw_result dl_fetch(struct bw_ctx *c, const char *after, void *out, size_t max, size_t *n)
{
	struct list_query q;
	memset(&q, 0, sizeof(q));
	/* Valid by now: the handler checked them. */
	if (bw_query_get(c->req, "type", q.type, sizeof(q.type)) != 0)
		q.type[0] = '\0';
	if (bw_query_get(c->req, "source", q.source, sizeof(q.source)) != 0)
		q.source[0] = '\0';
	struct bw_deny_filter f = {c->who.instance_id, q.type, q.source, after};
	return bw_store_deny_list(c->store, &f, out, max, n);
}

static json_t *dl_encode(struct bw_ctx *c, const void *item)
{
	(void)c;
	return deny_json(item);
}

static const char *dl_id(const void *item)
{
	return ((const struct bw_deny_row *)item)->id;
}

void bw_api_deny_list(struct bw_ctx *c)
{
	static const struct bw_api_lister l = {sizeof(struct bw_deny_row), dl_fetch, dl_encode,
	                                       NULL, dl_id};
	struct list_query q;
	if (list_query(c, &q) == 0)
		bw_api_list(c, &l);
}

/* ---- the CSV import ---- */

struct line_error {
	int line;
	const char *message; /* static */
};

struct import {
	struct bw_deny_row *rows;
	int *lines; /* the file's line of each row (the header is line 1) */
	size_t n, cap;
	struct line_error errs[IMPORT_MAX_ERRORS];
	size_t nerrs, total; /* listed, and found */
	long long now;
};

static void line_error(struct import *im, int line, const char *message)
{
	if (im->nerrs < IMPORT_MAX_ERRORS)
		im->errs[im->nerrs++] = (struct line_error){line, message};
	im->total++;
}

static bool header_ok(char *line)
{
	static const char *const names[] = {"type", "value", "reason", "expires_at"};
	char *f[4];
	if (!strncmp(line, "\xef\xbb\xbf", 3)) /* a byte order mark */
		line += 3;
	if (bw_csv_fields(line, f, 4) != 4)
		return false;
	for (int i = 0; i < 4; i++)
		if (strcasecmp(f[i], names[i]))
			return false;
	return true;
}

/* One data line into the next row, or a line error. */
static void import_line(struct bw_ctx *c, struct import *im, char *line, int lineno)
{
	char *f[4];
	int kind, nf = bw_csv_fields(line, f, 4);
	struct bw_deny_row *d = &im->rows[im->n];
	const char *why = NULL;
	memset(d, 0, sizeof(*d));
	if (nf < 0)
		why = "a quoted field is not closed";
	else if (nf != 4)
		why = "a row has 4 columns: " IMPORT_HEADER;
	else if (!(why = check_type(f[0], d, &kind)) &&
	         !(why = bw_fraud_deny_value((enum bw_fraud_kind)kind, f[1], d->value,
	                                     sizeof(d->value))) &&
	         !(why = check_reason(f[2], strlen(f[2]), d)) && f[3][0])
		why = check_expiry(f[3], im->now, &d->expires_at);
	if (why) {
		line_error(im, lineno, why);
		return;
	}
	new_row(c, d, im->now);
	im->lines[im->n++] = lineno;
}

static int blank(const char *s)
{
	return s[strspn(s, " \t")] == '\0';
}

/* Reads the file into im->rows; 0 when it was read to its end (line
 * errors or not), -1 when it stopped (no header, too many rows). */
static int import_read(struct bw_ctx *c, struct import *im, char *text)
{
	int lineno = 0;
	bool header = false;
	for (char *line = text; line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		size_t len = strlen(line);
		if (len && line[len - 1] == '\r')
			line[len - 1] = '\0';
		lineno++;
		if (!blank(line)) {
			if (!header) {
				if (!header_ok(line)) {
					line_error(im, lineno,
					           "the first line must be " IMPORT_HEADER);
					return -1;
				}
				header = true;
			} else if (im->n + im->total >= IMPORT_MAX_ROWS) {
				line_error(im, lineno, "more than 10000 rows");
				return -1;
			} else {
				import_line(c, im, line, lineno);
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	if (!header)
		line_error(im, 1, "the first line must be " IMPORT_HEADER);
	return header ? 0 : -1;
}

static int cmp_key(const struct bw_deny_row *a, const struct bw_deny_row *b)
{
	int t = strcmp(a->type, b->type);
	return t ? t : strcmp(a->value, b->value);
}

/* Rows by (type, value), then by their place in the file. */
static int cmp_row(const void *a, const void *b)
{
	const struct bw_deny_row *x = *(const struct bw_deny_row *const *)a;
	const struct bw_deny_row *y = *(const struct bw_deny_row *const *)b;
	int k = cmp_key(x, y);
	return k ? k : (x > y) - (x < y);
}

static int cmp_line(const void *a, const void *b)
{
	const struct line_error *x = a, *y = b;
	return (x->line > y->line) - (x->line < y->line);
}

/* The rows sorted by (type, value); NULL when out of memory. */
static const struct bw_deny_row **sorted(const struct import *im)
{
	const struct bw_deny_row **ix = malloc((im->n ? im->n : 1) * sizeof(*ix));
	if (!ix)
		return NULL;
	for (size_t i = 0; i < im->n; i++)
		ix[i] = &im->rows[i];
	qsort(ix, im->n, sizeof(*ix), cmp_row);
	return ix;
}

static int line_of(const struct import *im, const struct bw_deny_row *d)
{
	return im->lines[d - im->rows];
}

/* A (type, value) the file repeats: an error on each later line. */
static void import_repeats(struct import *im, const struct bw_deny_row *const *ix)
{
	for (size_t i = 1; i < im->n; i++)
		if (!cmp_key(ix[i - 1], ix[i]))
			line_error(im, line_of(im, ix[i]),
			           "this type and value repeat an earlier line");
}

/* After the store refused the rows: the lines whose (type, value) an
 * unexpired entry of the instance already holds. */
static bw_result import_existing(struct bw_ctx *c, struct import *im,
                                 const struct bw_deny_row *const *ix)
{
	enum { PAGE = 256 };
	struct bw_deny_row *page = malloc(PAGE * sizeof(*page));
	char after[48] = "";
	size_t n = 0;
	bw_result r = page ? BW_OK : BW_NOMEM;
	while (r == BW_OK) {
		struct bw_deny_filter f = {c->who.instance_id, NULL, NULL, after[0] ? after : NULL};
		if ((r = bw_store_deny_list(c->store, &f, page, PAGE, &n)) != BW_OK || n == 0)
			break;
		for (size_t i = 0; i < n; i++) {
			if (page[i].expires_at && page[i].expires_at <= im->now)
				continue; /* taken over by the import */
			size_t lo = 0, hi = im->n;
			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;
				int k = cmp_key(ix[mid], &page[i]);
				if (!k) {
					line_error(im, line_of(im, ix[mid]),
					           "an entry of this type and value exists");
					break;
				}
				if (k < 0)
					lo = mid + 1;
				else
					hi = mid;
			}
		}
		snprintf(after, sizeof(after), "%s", page[n - 1].id);
		if (n < PAGE)
			break;
	}
	free(page);
	return r;
}

static void reply_line_errors(struct bw_ctx *c, struct import *im)
{
	char msg[128];
	qsort(im->errs, im->nerrs, sizeof(im->errs[0]), cmp_line);
	json_t *arr = json_array();
	for (size_t i = 0; i < im->nerrs; i++)
		json_array_append_new(arr, json_pack("{s:i, s:s}", "line", im->errs[i].line,
		                                     "message", im->errs[i].message));
	snprintf(msg, sizeof(msg), "%zu line%s of the file %s not valid%s; nothing was imported",
	         im->total, im->total == 1 ? "" : "s", im->total == 1 ? "is" : "are",
	         im->total > im->nerrs ? " (the first ones are listed)" : "");
	/* The list inside the error object, as InvalidFlow has it. */
	json_t *body = json_pack("{s:{s:s, s:s, s:s, s:o}}", "error", "code", "InvalidParameter",
	                         "message", msg, "field", "csv", "errors", arr);
	if (!body)
		bw_reply_result(c, BW_NOMEM, NULL, NULL);
	else
		bw_reply_json(c, 400, body);
}

static const char *const import_fields[] = {"csv", NULL};

/* All rows or none: every line is checked first (errors listed by line),
 * then the rows go to the store in one transaction. */
void bw_api_deny_import(struct bw_ctx *c)
{
	const char *csv;
	struct import im;
	const struct bw_deny_row **ix = NULL;
	char *text = NULL;
	bw_result r = BW_NOMEM;
	memset(&im, 0, sizeof(im));
	if (bw_api_only(c, import_fields) || bw_api_str(c, "csv", 0, SIZE_MAX / 2, true, &csv))
		return;
	im.now = bw_now_ms();
	for (const char *p = csv; (p = strchr(p, '\n')); p++)
		im.cap++;
	im.cap = im.cap < IMPORT_MAX_ROWS ? im.cap + 1 : IMPORT_MAX_ROWS;
	text = strdup(csv);
	im.rows = calloc(im.cap, sizeof(*im.rows));
	im.lines = calloc(im.cap, sizeof(*im.lines));
	if (!text || !im.rows || !im.lines)
		goto out;
	if (import_read(c, &im, text) == 0) {
		if (!(ix = sorted(&im)))
			goto out;
		import_repeats(&im, ix);
	}
	if (im.total) {
		reply_line_errors(c, &im);
		r = BW_OK;
		goto out;
	}
	r = bw_store_deny_insert_many(c->store, im.rows, im.n);
	if (r == BW_CONFLICT) {
		if ((r = import_existing(c, &im, ix)) == BW_OK && im.total)
			reply_line_errors(c, &im);
		else if (r == BW_OK)
			bw_reply_error(c, 409, "Conflict", "the deny list changed; try again",
			               NULL);
		r = BW_OK;
		goto out;
	}
	if (r == BW_OK) {
		for (size_t i = 0; i < im.n; i++)
			guard_put(&im.rows[i]);
		bw_reply_json(c, 200, json_pack("{s:I}", "imported", (json_int_t)im.n));
	}
out:
	if (r != BW_OK)
		bw_reply_result(c, r, NULL, NULL);
	free((void *)ix);
	free(text);
	free(im.rows);
	free(im.lines);
}

/* ---- the contact filter ---- */

static const char *const filter_fields[] = {"enabled", "dry_run", "rules", NULL};
static const char *const rule_fields[] = {"identifier", "limit", "window_s", "deny_s", NULL};

static bw_result filter_load(struct bw_ctx *c, struct bw_fraud_filter *f)
{
	char *json = NULL;
	bw_result r = bw_store_filter_get(c->store, c->who.instance_id, &json);
	if (r == BW_OK || r == BW_NOTFOUND)
		bw_fraud_filter_parse(json, f);
	free(json);
	return r == BW_NOTFOUND ? BW_OK : r;
}

static int bool_in(struct bw_ctx *c, const char *key, bool *out)
{
	json_t *v = json_object_get(c->in, key);
	if (!v)
		return 0;
	if (!json_is_boolean(v)) {
		bw_reply_error(c, 400, "InvalidParameter", "must be true or false", key);
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}

/* "rules": the whole new list, at most one rule per identifier. */
static int rules_in(struct bw_ctx *c, struct bw_fraud_filter *f)
{
	json_t *rules = json_object_get(c->in, "rules"), *o;
	size_t i;
	if (!rules)
		return 0;
	if (!json_is_array(rules)) {
		bw_reply_error(c, 400, "InvalidParameter", "must be an array of rules", "rules");
		return -1;
	}
	f->nrules = 0;
	json_array_foreach(rules, i, o)
	{
		char at[32], field[64];
		const char *id;
		long long lim, win, deny;
		bool present;
		snprintf(at, sizeof(at), "rules[%zu]", i);
		if (!json_is_object(o)) {
			bw_reply_error(c, 400, "InvalidParameter", "must be an object", at);
			return -1;
		}
		snprintf(field, sizeof(field), "%s.identifier", at);
		if (bw_api_only_in(c, o, at, rule_fields) ||
		    bw_api_str_in(c, o, "identifier", field, 1, 16, true, &id))
			return -1;
		int k = bw_fraud_rule_parse(id);
		bool repeated = false;
		for (size_t j = 0; k >= 0 && j < f->nrules; j++)
			repeated |= f->rules[j].kind == (enum bw_fraud_kind)k;
		if (k < 0 || repeated) {
			bw_reply_error(c, 400, "InvalidParameter",
			               k < 0 ? "identifier must be ADDRESS, NUMBER or EMAIL"
			                     : "at most one rule per identifier",
			               field);
			return -1;
		}
		char fl[64], fw[64], fd[64];
		snprintf(fl, sizeof(fl), "%s.limit", at);
		snprintf(fw, sizeof(fw), "%s.window_s", at);
		snprintf(fd, sizeof(fd), "%s.deny_s", at);
		if (bw_api__int_in(c, o, "limit", fl, 1, 10000, true, &lim, &present) ||
		    bw_api__int_in(c, o, "window_s", fw, 1, 86400, true, &win, &present) ||
		    bw_api__int_in(c, o, "deny_s", fd, 0, 2592000, true, &deny, &present))
			return -1;
		f->rules[f->nrules++] =
		    (struct bw_fraud_rule){(enum bw_fraud_kind)k, (int)lim, (int)win, (int)deny};
	}
	return 0;
}

void bw_api_filter_get(struct bw_ctx *c)
{
	struct bw_fraud_filter f;
	bw_result r = filter_load(c, &f);
	json_t *o = r == BW_OK ? bw_fraud_filter_json(&f) : NULL;
	if (!o)
		bw_reply_result(c, r == BW_OK ? BW_NOMEM : r, NULL, NULL);
	else
		bw_reply_json(c, 200, o);
}

void bw_api_filter_update(struct bw_ctx *c)
{
	struct bw_fraud_filter f;
	if (bw_api_only(c, filter_fields))
		return;
	bw_result r = filter_load(c, &f);
	if (r != BW_OK) {
		bw_reply_result(c, r, NULL, NULL);
		return;
	}
	if (bool_in(c, "enabled", &f.enabled) || bool_in(c, "dry_run", &f.dry_run) ||
	    rules_in(c, &f))
		return;
	json_t *o = bw_fraud_filter_json(&f);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	r = text ? bw_store_filter_put(c->store, c->who.instance_id, text) : BW_NOMEM;
	free(text);
	if (r != BW_OK) {
		json_decref(o);
		bw_reply_result(c, r, NULL, NULL);
		return;
	}
	bw_reply_json(c, 200, o);
}
