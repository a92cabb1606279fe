/* An instance's security settings: parsed from its JSON column with
 * defaults, validated on PATCH, and used by login and every user request. */
#ifndef BW_ISETTINGS_H
#define BW_ISETTINGS_H

#include <jansson.h>
#include <stdbool.h>

#include "core/config.h"

#define BW_MAX_RANGES 64
#define BW_MAX_ORIGINS 32

struct bw_isettings {
	bool mfa_required;
	struct bw_cidr ranges[BW_MAX_RANGES];
	int nranges;
	char origins[BW_MAX_ORIGINS][256];
	int norigins;
	long long idle_s, max_age_s;
	int min_length;
	int max_failures;        /* per username before lockout */
	long long base_lockout_s; /* doubles with each further failure */
	long long max_lockout_s;
	int address_max_failures; /* per client address */
	int pii_redaction;        /* enum bw_redact_mode (sec/redact.h) */
};

/* The defaults of a new instance, as JSON. */
json_t *bw_isettings_default_json(void);
/* Reads stored JSON text (missing fields take defaults). */
void bw_isettings_parse(const char *text, struct bw_isettings *out);
/* Applies a PATCH object onto stored JSON; returns the new JSON or NULL with
 * *field and *msg naming the problem. */
json_t *bw_isettings_patch(const char *stored, const json_t *patch, const char **field,
                           const char **msg);
/* The attribute_classes of stored JSON text as a class map (a new object,
 * sec/classify.h); entries that do not check out are left out. */
json_t *bw_isettings_classes(const char *text);
bool bw_isettings_ip_allowed(const struct bw_isettings *s, int family, const uint8_t *addr);
bool bw_isettings_origin_allowed(const struct bw_isettings *s, const char *origin);

#endif
