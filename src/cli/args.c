/* Argument parsing for the admin command line: options declared per command
 * in a small table, plus the options every command takes. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_int.h"

static const struct bw_cli_opt common[] = {
    {"url", BW_OPT_VALUE},     {"token", BW_OPT_VALUE}, {"instance", BW_OPT_VALUE},
    {"timeout", BW_OPT_VALUE}, {"json", BW_OPT_FLAG},   {NULL, BW_OPT_FLAG},
};

static const struct bw_cli_opt *find_in(const struct bw_cli_opt *t, const char *name, size_t n)
{
	for (; t && t->name; t++)
		if (strlen(t->name) == n && !strncmp(t->name, name, n))
			return t;
	return NULL;
}

static int add(struct bw_cli_args *a, const struct bw_cli_opt *o, const char *val)
{
	if (o->kind != BW_OPT_LIST && bw_cli__opt(a, o->name)) {
		fprintf(stderr, "bulwark: --%s is given twice\n", o->name);
		return -1;
	}
	if (o->kind == BW_OPT_FLAG && bw_cli__flag(a, o->name)) {
		fprintf(stderr, "bulwark: --%s is given twice\n", o->name);
		return -1;
	}
	if (a->nset >= BW_CLI_MAX_SET) {
		fprintf(stderr, "bulwark: too many options\n");
		return -1;
	}
	a->name[a->nset] = o->name;
	a->val[a->nset++] = val;
	return 0;
}

/* One "--name[=value]" at argv[*i]; may consume the next argument. */
static int option(const struct bw_cli_opt *opts, int argc, char **argv, int *i,
                  struct bw_cli_args *a)
{
	const char *s = argv[*i] + 2;
	const char *eq = strchr(s, '=');
	size_t n = eq ? (size_t)(eq - s) : strlen(s);
	const struct bw_cli_opt *o = find_in(opts, s, n);
	if (!o)
		o = find_in(common, s, n);
	if (!o) {
		fprintf(stderr, "bulwark: unknown option --%.*s\n", (int)(n > 64 ? 64 : n), s);
		return -1;
	}
	if (o->kind == BW_OPT_FLAG) {
		if (eq) {
			fprintf(stderr, "bulwark: --%s takes no value\n", o->name);
			return -1;
		}
		return add(a, o, NULL);
	}
	if (eq)
		return add(a, o, eq + 1);
	if (*i + 1 >= argc) {
		fprintf(stderr, "bulwark: --%s needs a value\n", o->name);
		return -1;
	}
	return add(a, o, argv[++*i]);
}

int bw_cli__parse(const struct bw_cli_opt *opts, int argc, char **argv, struct bw_cli_args *a)
{
	memset(a, 0, sizeof(*a));
	bool dashdash = false;
	for (int i = 0; i < argc; i++) {
		const char *s = argv[i];
		if (!dashdash && (!strcmp(s, "--help") || !strcmp(s, "-h"))) {
			a->help = true;
		} else if (!dashdash && !strcmp(s, "--")) {
			dashdash = true;
		} else if (!dashdash && !strncmp(s, "--", 2)) {
			if (option(opts, argc, argv, &i, a) != 0)
				return -1;
		} else if (!dashdash && s[0] == '-' && s[1]) {
			fprintf(stderr, "bulwark: unknown option %.64s\n", s);
			return -1;
		} else if (a->npos < BW_CLI_MAX_POS) {
			a->pos[a->npos++] = s;
		} else {
			fprintf(stderr, "bulwark: too many arguments\n");
			return -1;
		}
	}
	return 0;
}

const char *bw_cli__opt(const struct bw_cli_args *a, const char *name)
{
	const char *v = NULL;
	for (size_t i = 0; i < a->nset; i++)
		if (!strcmp(a->name[i], name) && a->val[i])
			v = a->val[i];
	return v;
}

bool bw_cli__flag(const struct bw_cli_args *a, const char *name)
{
	for (size_t i = 0; i < a->nset; i++)
		if (!strcmp(a->name[i], name) && !a->val[i])
			return true;
	return false;
}

size_t bw_cli__list(const struct bw_cli_args *a, const char *name, const char **out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < a->nset && n < max; i++)
		if (!strcmp(a->name[i], name) && a->val[i])
			out[n++] = a->val[i];
	return n;
}

const char *bw_cli__need(const struct bw_cli_args *a, const char *name)
{
	const char *v = bw_cli__opt(a, name);
	if (!v || !*v) {
		fprintf(stderr, "bulwark: --%s is required\n", name);
		return NULL;
	}
	return v;
}

static bool id_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '-';
}

int bw_cli__id(const char *what, const char *v)
{
	size_t n = v ? strlen(v) : 0;
	bool ok = n >= 1 && n <= 64;
	for (size_t i = 0; ok && i < n; i++)
		ok = id_char(v[i]);
	if (!ok) /* the value is not echoed: it might be a misplaced secret */
		fprintf(stderr, "bulwark: the %s must be 1 to 64 letters, digits, '_' or '-'\n",
		        what);
	return ok ? 0 : -1;
}

int bw_cli__path(char *out, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out, cap, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap) {
		fprintf(stderr, "bulwark: the request path is too long\n");
		return -1;
	}
	return 0;
}

/* Percent-encodes v (RFC 3986 unreserved characters stay) after out[*len]. */
static int encode(const char *v, char *out, size_t cap, size_t *len)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		bool plain = id_char((char)*p) || *p == '.' || *p == '~';
		if (*len + (plain ? 1 : 3) >= cap)
			return -1;
		if (plain) {
			out[(*len)++] = (char)*p;
		} else {
			out[(*len)++] = '%';
			out[(*len)++] = hex[*p >> 4];
			out[(*len)++] = hex[*p & 15];
		}
	}
	out[*len] = '\0';
	return 0;
}

static int limit_ok(const char *v)
{
	char *end;
	long n = strtol(v, &end, 10);
	if (!*v || *end || n < 1 || n > 1000) {
		fprintf(stderr, "bulwark: --limit must be an integer from 1 to 1000\n");
		return -1;
	}
	return 0;
}

int bw_cli__query(const struct bw_cli_args *a, const char *const *map, char *out, size_t cap)
{
	size_t len = strlen(out);
	bool first = strchr(out, '?') == NULL;
	for (; map[0]; map += 2) {
		const char *v = bw_cli__opt(a, map[0]);
		if (!v)
			continue;
		if (!strcmp(map[0], "limit") && limit_ok(v) != 0)
			return -1;
		size_t pl = strlen(map[1]);
		if (len + pl + 2 >= cap)
			goto toolong;
		out[len++] = first ? '?' : '&';
		memcpy(out + len, map[1], pl);
		len += pl;
		out[len++] = '=';
		out[len] = '\0';
		first = false;
		if (encode(v, out, cap, &len) != 0)
			goto toolong;
	}
	return 0;
toolong:
	fprintf(stderr, "bulwark: the query is too long\n");
	return -1;
}
