/* PII redaction (C13): card numbers, US social security numbers, e-mail
 * addresses and phone numbers found in text and replaced with a typed
 * placeholder ("[CARD]", "[SSN]", "[EMAIL]", "[PHONE]"). A pure function of
 * the text and a default region: no state, no I/O. The rules, and why they
 * make redaction idempotent, are in redact.c and docs/api.md. */
#ifndef BW_REDACT_H
#define BW_REDACT_H

#include <stdbool.h>
#include <stddef.h>

enum bw_pii {
	BW_PII_CARD,
	BW_PII_SSN,
	BW_PII_EMAIL,
	BW_PII_PHONE,
	BW_PII_KINDS,
};

/* "CARD", "SSN", "EMAIL", "PHONE". */
const char *bw_pii_name(enum bw_pii k);

/* The instance setting pii_redaction: where redacted text goes. */
enum bw_redact_mode {
	BW_REDACT_OFF,    /* nothing is redacted */
	BW_REDACT_STORED, /* the stored transcript and flow log; agents see the text as typed */
	BW_REDACT_AGENTS, /* what agents see; stored as typed (sealed) */
	BW_REDACT_BOTH,
};
/* "off", "stored", "agents", "both"; -1 for anything else. */
int bw_redact_mode_parse(const char *s);
const char *bw_redact_mode_name(enum bw_redact_mode m);
static inline bool bw_redact_stored(enum bw_redact_mode m)
{
	return m == BW_REDACT_STORED || m == BW_REDACT_BOTH;
}
static inline bool bw_redact_agents(enum bw_redact_mode m)
{
	return m == BW_REDACT_AGENTS || m == BW_REDACT_BOTH;
}

/* Text of n bytes never grows by more than this when redacted: the only
 * placeholder longer than what it replaces is "[EMAIL]" (7) for a six-byte
 * address, and findings do not overlap. */
#define BW_REDACT_BOUND(n) ((n) + (n) / 6)

/* The most phone-number candidates one text is checked for with
 * libphonenumber (about 45 µs each); past it, every run of seven or more
 * digits that is not a card or an SSN is redacted as [PHONE] unchecked. */
#define BW_REDACT_PHONE_BUDGET 64

/* The redacted copy of s (n bytes, need not be NUL-terminated), malloc'd
 * and NUL-terminated, its length in *outlen (≤ BW_REDACT_BOUND(n)). region:
 * ISO 3166 alpha-2 for phone numbers without a country code (NULL: only
 * +CC numbers). counts (when not NULL) has the findings of each kind added.
 * NULL when memory runs out. */
char *bw_redact(const char *s, size_t n, const char *region, size_t *outlen,
                unsigned counts[BW_PII_KINDS]);

/* Only counts the findings (the data scan); false when memory runs out. */
bool bw_redact_count(const char *s, size_t n, const char *region, unsigned counts[BW_PII_KINDS]);

#endif
