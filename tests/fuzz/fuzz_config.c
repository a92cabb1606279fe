/* fuzz_config: every setting set to the input (src/core/config.c), the
 * CIDR and HOST:PORT parsers, and environment loading. What is accepted must
 * hold: integers within bounds, enums among the choices, addresses and CIDR
 * lists that parse again, a CIDR that matches its own network; an error
 * message never shows the value of a secret setting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"

#include "fuzz_check.h"

static bool enum_has(const char *choices, const char *v)
{
	size_t vl = strlen(v);
	for (const char *p = choices; p && *p;) {
		const char *bar = strchr(p, '|');
		size_t l = bar ? (size_t)(bar - p) : strlen(p);
		if (l == vl && !strncmp(p, v, l))
			return true;
		p = bar ? bar + 1 : NULL;
	}
	return false;
}

static void check_accepted(const struct bw_config *c, int i)
{
	const struct bw_setting *s = &bw_settings[i];
	const char *v = c->val[i];
	CHECK(v != NULL);
	switch (s->type) {
	case BW_SET_STRING:
	case BW_SET_PATH:
		CHECK(*v != '\0');
		break;
	case BW_SET_ADDR: {
		char host[64];
		uint16_t port;
		CHECK(bw_parse_hostport(v, host, sizeof(host), &port) == 0);
		break;
	}
	case BW_SET_INT: {
		CHECK(c->num[i] >= s->min && c->num[i] <= s->max);
		CHECK(strtoll(v, NULL, 10) == c->num[i]);
		break;
	}
	case BW_SET_ENUM:
		CHECK(enum_has(s->choices, v));
		break;
	case BW_SET_CIDRS: {
		char *copy = strdup(v);
		CHECK(copy != NULL);
		char *save = NULL;
		for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			while (*t == ' ' || *t == '\t' || *t == '\n' || *t == '\r' || *t == '\v' ||
			       *t == '\f')
				t++;
			size_t tl = strlen(t);
			while (tl && (t[tl - 1] == ' ' || t[tl - 1] == '\t' || t[tl - 1] == '\n' ||
			              t[tl - 1] == '\r' || t[tl - 1] == '\v' || t[tl - 1] == '\f'))
				t[--tl] = '\0';
			struct bw_cidr cidr;
			if (*t)
				CHECK(bw_cidr_parse(t, &cidr) == 0);
		}
		free(copy);
		break;
	}
	}
}

static void fuzz_settings(const char *value)
{
	struct bw_config c;
	bw_config_init(&c);
	bool data_ok = false;
	for (size_t i = 0; i < bw_settings_count; i++) {
		struct bw_config_err err;
		memset(err.msg, 'x', sizeof(err.msg));
		int rc = bw_config_set(&c, bw_settings[i].name, value, "fuzz", &err);
		if (rc == 0) {
			check_accepted(&c, (int)i);
			if (!strcmp(bw_settings[i].name, "data"))
				data_ok = true;
			continue;
		}
		CHECK(rc == -1);
		CHECK(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
		CHECK(strstr(err.msg, bw_settings[i].name) != NULL);
		if (bw_settings[i].secret) {
			const char *got = strstr(err.msg, "(got \"");
			CHECK(!got || !strncmp(got, "(got \"(hidden)\")", 16));
		}
	}
	/* tls_cert and tls_key share a type, so they were both set or neither:
	 * finishing fails exactly when data was refused. */
	struct bw_config_err err;
	int rc = bw_config_finish(&c, &err);
	CHECK((rc == 0) == data_ok);
	bw_config_free(&c);
}

static void fuzz_cidr(const char *s)
{
	struct bw_cidr c;
	if (bw_cidr_parse(s, &c) != 0)
		return;
	CHECK(c.family == 4 || c.family == 6);
	CHECK(c.prefix >= 0 && c.prefix <= (c.family == 4 ? 32 : 128));
	CHECK(bw_cidr_match(&c, c.family, c.addr));
	CHECK(!bw_cidr_match(&c, c.family == 4 ? 6 : 4, c.addr));
	/* Flipping the last network bit leaves the network. */
	if (c.prefix > 0) {
		uint8_t a[16];
		memcpy(a, c.addr, sizeof(a));
		int bit = c.prefix - 1;
		a[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
		CHECK(!bw_cidr_match(&c, c.family, a));
	}
}

static void fuzz_hostport(const char *s)
{
	static const size_t sizes[] = {1, 2, 8, 16, 64};
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		char host[64];
		uint16_t port = 7;
		memset(host, 'z', sizeof(host));
		if (bw_parse_hostport(s, host, sizes[k], &port) == 0)
			CHECK(strlen(host) < sizes[k] && host[0] != '\0');
	}
}

/* The input's lines become environment entries. */
static void fuzz_env(const char *s)
{
	char *copy = strdup(s);
	CHECK(copy != NULL);
	char *envp[9];
	size_t n = 0;
	char *save = NULL;
	for (char *t = strtok_r(copy, "\n", &save); t && n < 8; t = strtok_r(NULL, "\n", &save))
		envp[n++] = t;
	envp[n] = NULL;
	struct bw_config c;
	struct bw_config_err err;
	bw_config_init(&c);
	if (bw_config_load_env(&c, envp, &err) != 0)
		CHECK(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
	bw_config_free(&c);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t n)
{
	char *s = malloc(n + 1);
	if (!s)
		return 0;
	memcpy(s, buf, n);
	s[n] = '\0';
	fuzz_settings(s);
	fuzz_cidr(s);
	fuzz_hostport(s);
	fuzz_env(s);
	free(s);
	return 0;
}
