/* Settings: one declarative table (settings.c), read from defaults, then the
 * config file, then BULWARK_* environment variables, then flags. */
#ifndef BW_CONFIG_H
#define BW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum bw_setting_type {
	BW_SET_STRING,  /* free text */
	BW_SET_PATH,    /* a file or folder path */
	BW_SET_ADDR,    /* HOST:PORT, port 0 picks a free one */
	BW_SET_INT,     /* integer within [min, max] */
	BW_SET_ENUM,    /* one of choices, "a|b|c" */
	BW_SET_CIDRS,   /* comma-separated IPv4/IPv6 CIDR list */
};

struct bw_setting {
	const char *name;
	enum bw_setting_type type;
	const char *def;     /* default as text, NULL for unset */
	int64_t min, max;    /* BW_SET_INT bounds */
	const char *choices; /* BW_SET_ENUM */
	bool secret;         /* never printed */
	bool reloadable;     /* may change without a restart (none yet) */
	const char *help;
};

#define BW_SETTING_MAX 64

struct bw_config {
	char *val[BW_SETTING_MAX]; /* text of each setting, NULL if unset */
	int64_t num[BW_SETTING_MAX];
	const char *source[BW_SETTING_MAX];
};

extern const struct bw_setting bw_settings[];
extern const size_t bw_settings_count;

/* Error text for the one-line start-up failure; names the setting. */
struct bw_config_err {
	char msg[512];
};

void bw_config_init(struct bw_config *c);
void bw_config_free(struct bw_config *c);
/* Sets by name from a source; validates; 0 or -1 with err filled. */
int bw_config_set(struct bw_config *c, const char *name, const char *value,
                  const char *source, struct bw_config_err *err);
int bw_config_load_file(struct bw_config *c, const char *path,
                        struct bw_config_err *err);
int bw_config_load_env(struct bw_config *c, char **envp, struct bw_config_err *err);
/* Fills defaults for what is unset and checks cross-setting rules. */
int bw_config_finish(struct bw_config *c, struct bw_config_err *err);

const char *bw_config_str(const struct bw_config *c, const char *name);
int64_t bw_config_int(const struct bw_config *c, const char *name);
int bw_config_index(const char *name);

/* HOST:PORT split ([v6]:port accepted); returns 0 on success. */
int bw_parse_hostport(const char *s, char *host, size_t hostsz, uint16_t *port);

/* CIDR parsing, shared with network checks. */
struct bw_cidr {
	int family; /* 4 or 6 */
	uint8_t addr[16];
	int prefix;
};
int bw_cidr_parse(const char *s, struct bw_cidr *out);
bool bw_cidr_match(const struct bw_cidr *c, int family, const uint8_t *addr);

void bw_config_print_help(void);

#endif
