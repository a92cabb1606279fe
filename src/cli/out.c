/* Human-readable output: an object as "field: value" lines, a list as a
 * table, and the API's errors on standard error. */
#include <stdio.h>
#include <string.h>

#include "cli/cli_int.h"

#define CELL_MAX 200

/* The value at "a" or "a.b" of an object. */
static json_t *field(json_t *o, const char *path)
{
	const char *dot = strchr(path, '.');
	if (!dot)
		return json_object_get(o, path);
	char head[64];
	size_t n = (size_t)(dot - path);
	if (n >= sizeof(head))
		return NULL;
	memcpy(head, path, n);
	head[n] = '\0';
	return field(json_object_get(o, head), dot + 1);
}

/* Control characters from the server never reach the terminal. */
static void clean(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

static void format_raw(json_t *v, bool count, char *buf, size_t cap)
{
	buf[0] = '\0';
	if (!v || json_is_null(v)) {
		snprintf(buf, cap, "-");
	} else if (json_is_string(v)) {
		snprintf(buf, cap, "%s", json_string_value(v));
	} else if (json_is_boolean(v)) {
		snprintf(buf, cap, "%s", json_is_true(v) ? "yes" : "no");
	} else if (json_is_integer(v)) {
		snprintf(buf, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	} else if (json_is_array(v) && count) {
		snprintf(buf, cap, "%zu", json_array_size(v));
	} else if (json_is_array(v) && json_array_size(v) > 0 &&
	           json_is_string(json_array_get(v, 0))) {
		size_t i, len = 0;
		json_t *e;
		json_array_foreach(v, i, e)
		{
			int w = snprintf(buf + len, cap - len, "%s%s", i ? "," : "",
			                 json_string_value(e) ? json_string_value(e) : "?");
			if (w < 0 || (size_t)w >= cap - len)
				break;
			len += (size_t)w;
		}
	} else {
		char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		snprintf(buf, cap, "%s", s ? s : "?");
		bw_cli__jfree(s);
	}
}

/* Formats a value into buf: strings plain, arrays comma-joined. */
static void format(json_t *v, bool count, char *buf, size_t cap)
{
	format_raw(v, count, buf, cap);
	clean(buf);
}

int bw_cli__show_object(const struct bw_cli *c, int rc, json_t *o)
{
	if (rc == BW_CLI_OK && !c->json && json_is_object(o)) {
		int w = 0;
		const char *k;
		json_t *v;
		json_object_foreach(o, k, v)
		{
			if ((int)strlen(k) > w)
				w = (int)strlen(k);
		}
		json_object_foreach(o, k, v)
		{
			char cell[1024];
			format(v, false, cell, sizeof(cell));
			printf("%-*s  %s\n", w, k, cell);
		}
	}
	json_decref(o);
	return rc;
}

static void widths(json_t *items, const struct bw_cli_col *cols, int *w)
{
	for (size_t k = 0; cols[k].field; k++)
		w[k] = (int)strlen(cols[k].title);
	size_t i;
	json_t *row;
	json_array_foreach(items, i, row)
	{
		for (size_t k = 0; cols[k].field; k++) {
			char cell[CELL_MAX];
			format(field(row, cols[k].field), cols[k].count, cell, sizeof(cell));
			if ((int)strlen(cell) > w[k])
				w[k] = (int)strlen(cell);
		}
	}
}

static void print_row(json_t *row, const struct bw_cli_col *cols, const int *w)
{
	for (size_t k = 0; cols[k].field; k++) {
		char cell[CELL_MAX];
		if (row)
			format(field(row, cols[k].field), cols[k].count, cell, sizeof(cell));
		else
			snprintf(cell, sizeof(cell), "%s", cols[k].title);
		if (cols[k + 1].field)
			printf("%-*s  ", w[k], cell);
		else
			printf("%s\n", cell);
	}
}

int bw_cli__show_list(const struct bw_cli *c, int rc, json_t *o, const struct bw_cli_col *cols)
{
	json_t *items = json_object_get(o, "items");
	if (rc == BW_CLI_OK && !c->json && json_is_array(items)) {
		int w[16] = {0};
		size_t i;
		json_t *row;
		widths(items, cols, w);
		print_row(NULL, cols, w);
		json_array_foreach(items, i, row) print_row(row, cols, w);
		const char *next = json_string_value(json_object_get(o, "next_token"));
		if (next)
			printf("(more: add --next-token %s)\n", next);
	}
	json_decref(o);
	return rc;
}

int bw_cli__show_done(const struct bw_cli *c, int rc, json_t *o, const char *what, const char *id)
{
	if (rc == BW_CLI_OK && !c->json)
		printf("%s %s\n", what, id);
	json_decref(o);
	return rc;
}

/* The itemized errors some refusals carry, {"line"|"path", "message"}
 * (a CSV import, a flow), next to "error" or inside it. */
static void print_details(json_t *body)
{
	json_t *errs = json_object_get(body, "errors"), *e;
	size_t i;
	if (!json_is_array(errs))
		errs = json_object_get(json_object_get(body, "error"), "errors");
	json_array_foreach(errs, i, e)
	{
		char where[128], m[512];
		json_t *line = json_object_get(e, "line");
		const char *path = json_string_value(json_object_get(e, "path"));
		const char *msg = json_string_value(json_object_get(e, "message"));
		if (json_is_integer(line))
			snprintf(where, sizeof(where), "line %" JSON_INTEGER_FORMAT ": ",
			         json_integer_value(line));
		else
			snprintf(where, sizeof(where), "%s%s", path ? path : "", path ? ": " : "");
		snprintf(m, sizeof(m), "%s", msg ? msg : "?");
		clean(where);
		clean(m);
		fprintf(stderr, "bulwark:   %s%s\n", where, m);
	}
}

void bw_cli__print_error(const struct bw_cli_resp *r)
{
	json_t *body = r->body ? json_loadb(r->body, r->len, 0, NULL) : NULL;
	json_t *err = json_object_get(body, "error");
	const char *code = json_string_value(json_object_get(err, "code"));
	const char *msg = json_string_value(json_object_get(err, "message"));
	const char *fld = json_string_value(json_object_get(err, "field"));
	char c[128], m[512];
	snprintf(c, sizeof(c), "%s", code ? code : "");
	snprintf(m, sizeof(m), "%s", msg ? msg : "(no message)");
	clean(c);
	clean(m);
	if (code)
		fprintf(stderr, "bulwark: %s: %s\n", c, m);
	else
		fprintf(stderr, "bulwark: the server answered HTTP %ld\n", r->status);
	if (fld) {
		snprintf(m, sizeof(m), "%s", fld);
		clean(m);
		fprintf(stderr, "bulwark: (field: %s)\n", m);
	}
	if (r->retry_after > 0)
		fprintf(stderr, "bulwark: retry after %ld s\n", r->retry_after);
	print_details(body);
	json_decref(body);
}
