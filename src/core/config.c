#include "core/config.h"

#include "core/log.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(BW_SETTING_MAX >= 32, "room for settings");

int bw_config_index(const char *name)
{
	for (size_t i = 0; i < bw_settings_count; i++)
		if (strcmp(bw_settings[i].name, name) == 0)
			return (int)i;
	return -1;
}

void bw_config_init(struct bw_config *c)
{
	memset(c, 0, sizeof(*c));
}

void bw_config_free(struct bw_config *c)
{
	for (size_t i = 0; i < BW_SETTING_MAX; i++) {
		free(c->val[i]);
		c->val[i] = NULL;
	}
}

static void trim(char *s)
{
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	size_t k = 0;
	while (s[k] && isspace((unsigned char)s[k]))
		k++;
	memmove(s, s + k, n - k + 1);
}

int bw_parse_hostport(const char *s, char *host, size_t hostsz, uint16_t *port)
{
	const char *colon;
	const char *h = s;
	size_t hl;
	if (*s == '[') {
		const char *end = strchr(s, ']');
		if (!end || end[1] != ':')
			return -1;
		h = s + 1;
		hl = (size_t)(end - h);
		colon = end + 1;
	} else {
		colon = strchr(s, ':');
		if (!colon || strchr(colon + 1, ':'))
			return -1; /* an IPv6 address needs its brackets: [::1]:8080 */
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= hostsz)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	char *end;
	errno = 0;
	if (!isdigit((unsigned char)colon[1]))
		return -1;
	unsigned long p = strtoul(colon + 1, &end, 10);
	if (errno || *end || p > 65535)
		return -1;
	unsigned char buf[16];
	if (inet_pton(AF_INET, host, buf) != 1 && inet_pton(AF_INET6, host, buf) != 1 &&
	    strcmp(host, "localhost") != 0)
		return -1;
	*port = (uint16_t)p;
	return 0;
}

int bw_cidr_parse(const char *s, struct bw_cidr *out)
{
	char buf[64];
	size_t n = strlen(s);
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n + 1);
	char *slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	memset(out, 0, sizeof(*out));
	int maxp;
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = 4;
		maxp = 32;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = 6;
		maxp = 128;
	} else {
		return -1;
	}
	out->prefix = maxp;
	if (slash) {
		char *end;
		const char *ps = slash + 1;
		if (!isdigit((unsigned char)*ps))
			return -1;
		errno = 0;
		long p = strtol(ps, &end, 10);
		if (errno || *end || p < 0 || p > maxp)
			return -1;
		out->prefix = (int)p;
	}
	/* Host bits must be zero: "10.0.0.1/8" is almost always a typo. */
	int bytes = maxp / 8;
	for (int i = 0; i < bytes; i++) {
		int bit0 = i * 8;
		uint8_t mask;
		if (bit0 + 8 <= out->prefix)
			mask = 0xff;
		else if (bit0 >= out->prefix)
			mask = 0;
		else
			mask = (uint8_t)(0xff << (8 - (out->prefix - bit0)));
		if (out->addr[i] & (uint8_t)~mask)
			return -1;
	}
	return 0;
}

bool bw_cidr_match(const struct bw_cidr *c, int family, const uint8_t *addr)
{
	if (c->family != family)
		return false;
	int full = c->prefix / 8, rest = c->prefix % 8;
	if (memcmp(c->addr, addr, (size_t)full) != 0)
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));
		if ((c->addr[full] & mask) != (addr[full] & mask))
			return false;
	}
	return true;
}

static int fail(struct bw_config_err *err, const char *name, const char *why,
                const char *value, const struct bw_setting *s)
{
	if (s && s->secret)
		value = "(hidden)";
	snprintf(err->msg, sizeof(err->msg), "setting %s: %s%s%s%s", name, why,
	         value ? " (got \"" : "", value ? value : "", value ? "\")" : "");
	return -1;
}

static int validate(const struct bw_setting *s, const char *v, int64_t *num,
                    struct bw_config_err *err)
{
	char buf[160];
	switch (s->type) {
	case BW_SET_STRING:
	case BW_SET_PATH:
		if (!*v)
			return fail(err, s->name, "must not be empty", NULL, s);
		return 0;
	case BW_SET_ADDR: {
		char host[64];
		uint16_t port;
		if (bw_parse_hostport(v, host, sizeof(host), &port) != 0)
			return fail(err, s->name, "must be HOST:PORT with an IP address", v, s);
		return 0;
	}
	case BW_SET_INT: {
		char *end;
		errno = 0;
		if (!*v || !(isdigit((unsigned char)*v) || *v == '-'))
			return fail(err, s->name, "must be an integer", v, s);
		long long n = strtoll(v, &end, 10);
		if (errno || *end)
			return fail(err, s->name, "must be an integer", v, s);
		if (n < s->min || n > s->max) {
			snprintf(buf, sizeof(buf), "must be between %lld and %lld",
			         (long long)s->min, (long long)s->max);
			return fail(err, s->name, buf, v, s);
		}
		*num = n;
		return 0;
	}
	case BW_SET_ENUM: {
		size_t vl = strlen(v);
		const char *p = s->choices;
		while (p && *p) {
			const char *bar = strchr(p, '|');
			size_t l = bar ? (size_t)(bar - p) : strlen(p);
			if (l == vl && strncmp(p, v, l) == 0)
				return 0;
			p = bar ? bar + 1 : NULL;
		}
		snprintf(buf, sizeof(buf), "must be one of %s", s->choices);
		return fail(err, s->name, buf, v, s);
	}
	case BW_SET_CIDRS: {
		char *copy = strdup(v);
		if (!copy)
			return fail(err, s->name, "out of memory", NULL, s);
		int rc = 0;
		char *save = NULL;
		for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			trim(tok);
			struct bw_cidr c;
			if (*tok && bw_cidr_parse(tok, &c) != 0) {
				snprintf(buf, sizeof(buf), "bad CIDR \"%.60s\"", tok);
				rc = fail(err, s->name, buf, NULL, s);
				break;
			}
		}
		free(copy);
		return rc;
	}
	}
	return fail(err, s->name, "unknown type", NULL, s);
}

int bw_config_set(struct bw_config *c, const char *name, const char *value,
                  const char *source, struct bw_config_err *err)
{
	int i = bw_config_index(name);
	if (i < 0)
		return fail(err, name, "unknown setting", NULL, NULL);
	char *v = strdup(value);
	if (!v)
		return fail(err, name, "out of memory", NULL, NULL);
	trim(v);
	int64_t num = 0;
	if (validate(&bw_settings[i], v, &num, err) != 0) {
		free(v);
		return -1;
	}
	free(c->val[i]);
	c->val[i] = v;
	c->num[i] = num;
	c->source[i] = source;
	return 0;
}

struct ini_state {
	struct bw_config *c;
	struct bw_config_err *err;
	int failed;
};

static int ini_cb(void *user, const char *section, const char *name, const char *value)
{
	struct ini_state *st = user;
	if (st->failed)
		return 0;
	if (section && *section) {
		fail(st->err, name, "sections are not used; names are flat", NULL, NULL);
		st->failed = 1;
		return 0;
	}
	if (bw_config_set(st->c, name, value ? value : "", "file", st->err) != 0) {
		st->failed = 1;
		return 0;
	}
	return 1;
}

int bw_config_load_file(struct bw_config *c, const char *path, struct bw_config_err *err)
{
	struct ini_state st = {c, err, 0};
	int rc = ini_parse(path, ini_cb, &st);
	if (st.failed)
		return -1;
	if (rc < 0)
		return fail(err, "config", "cannot read file", path, NULL);
	if (rc > 0) {
		char buf[64];
		snprintf(buf, sizeof(buf), "syntax error on line %d of the file", rc);
		return fail(err, "config", buf, NULL, NULL);
	}
	return 0;
}

/* BULWARK_<NAME> sets the setting NAME. Other BULWARK_* variables (the CLI's
 * BULWARK_URL and BULWARK_TOKEN, a script's own) are ignored, as API.md says;
 * a warning names them (never their values) to catch a misspelt setting. */
int bw_config_load_env(struct bw_config *c, char **envp, struct bw_config_err *err)
{
	static const char *const cli[] = {"URL", "TOKEN", "INSTANCE", "ROOT_KEY", NULL};
	for (char **e = envp; e && *e; e++) {
		if (strncmp(*e, "BULWARK_", 8) != 0)
			continue;
		const char *eq = strchr(*e, '=');
		if (!eq)
			continue;
		size_t nl = (size_t)(eq - *e) - 8;
		char name[64];
		if (nl == 0 || nl >= sizeof(name))
			continue;
		for (size_t i = 0; i < nl; i++)
			name[i] = (char)tolower((unsigned char)(*e)[8 + i]);
		name[nl] = '\0';
		if (bw_config_index(name) < 0) {
			bool known = false;
			for (const char *const *k = cli; *k; k++)
				if (strlen(*k) == nl && !strncmp(*k, *e + 8, nl))
					known = true;
			if (!known)
				bw_log(BW_LOG_WARN, "ignoring an environment variable that names no setting",
				       "variable", name);
			continue;
		}
		if (bw_config_set(c, name, eq + 1, "env", err) != 0)
			return -1;
	}
	return 0;
}

int bw_config_finish(struct bw_config *c, struct bw_config_err *err)
{
	for (size_t i = 0; i < bw_settings_count; i++) {
		if (c->val[i] || !bw_settings[i].def)
			continue;
		if (!*bw_settings[i].def) {
			c->val[i] = strdup("");
			continue;
		}
		if (bw_config_set(c, bw_settings[i].name, bw_settings[i].def, "default", err) != 0)
			return -1;
	}
	if (!bw_config_str(c, "data"))
		return fail(err, "data", "is required (--data DIR)", NULL, NULL);
	bool cert = bw_config_str(c, "tls_cert") != NULL;
	bool key = bw_config_str(c, "tls_key") != NULL;
	if (cert != key)
		return fail(err, cert ? "tls_key" : "tls_cert", "is required with the other TLS setting",
		            NULL, NULL);
	return 0;
}

const char *bw_config_str(const struct bw_config *c, const char *name)
{
	int i = bw_config_index(name);
	return i < 0 ? NULL : c->val[i];
}

int64_t bw_config_int(const struct bw_config *c, const char *name)
{
	int i = bw_config_index(name);
	return i < 0 ? 0 : c->num[i];
}

void bw_config_print_help(void)
{
	printf("Settings (config file `name = value`, env BULWARK_<NAME>, or --name VALUE):\n");
	for (size_t i = 0; i < bw_settings_count; i++) {
		const struct bw_setting *s = &bw_settings[i];
		printf("  %-26s %s", s->name, s->help);
		if (s->def && *s->def)
			printf(" [default %s]", s->def);
		if (s->type == BW_SET_INT)
			printf(" (%lld..%lld)", (long long)s->min, (long long)s->max);
		printf("\n");
	}
}
