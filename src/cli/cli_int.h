/* Internals of the admin command line, shared by the files of src/cli/. */
#ifndef BW_CLI_INT_H
#define BW_CLI_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cli/cli.h"

enum bw_cli_exit {
	BW_CLI_OK = 0,
	BW_CLI_REFUSED = 1,     /* the API answered 4xx */
	BW_CLI_USAGE = 2,       /* bad or missing arguments */
	BW_CLI_UNREACHABLE = 3, /* no answer, a transport error, or 5xx */
};

#define BW_CLI_MAX_RESPONSE (8u << 20) /* bytes of a response body we accept */
#define BW_CLI_MAX_BODY (1u << 20)     /* bytes of a request body we read */
#define BW_CLI_SECRET_MAX 1024         /* the API's longest password */
#define BW_CLI_PATH_MAX 2048

/* ---- arguments (args.c) ---- */

enum bw_cli_optkind { BW_OPT_FLAG, BW_OPT_VALUE, BW_OPT_LIST };

struct bw_cli_opt {
	const char *name; /* without the leading dashes */
	enum bw_cli_optkind kind;
};

#define BW_CLI_MAX_POS 4
#define BW_CLI_MAX_SET 64

struct bw_cli_args {
	const char *pos[BW_CLI_MAX_POS];
	size_t npos;
	const char *name[BW_CLI_MAX_SET];
	const char *val[BW_CLI_MAX_SET]; /* NULL for a flag */
	size_t nset;
	bool help;
};

/* Parses --name VALUE, --name=VALUE, flags and positionals against `opts`
 * plus the common options. Prints the reason and returns -1 when invalid. */
int bw_cli__parse(const struct bw_cli_opt *opts, int argc, char **argv, struct bw_cli_args *a);
const char *bw_cli__opt(const struct bw_cli_args *a, const char *name);
bool bw_cli__flag(const struct bw_cli_args *a, const char *name);
/* Every value of a repeatable option, in order; returns how many. */
size_t bw_cli__list(const struct bw_cli_args *a, const char *name, const char **out, size_t max);
/* The value of a required option, or NULL after printing why. */
const char *bw_cli__need(const struct bw_cli_args *a, const char *name);
/* 0 when `v` is an id: 1 to 64 of [A-Za-z0-9_-]; else prints and returns -1. */
int bw_cli__id(const char *what, const char *v);
/* Appends `?a=b&c=d` for each option of `map` ({option, parameter} pairs,
 * NULL-ended) that is set, percent-encoded. -1 after printing why. */
int bw_cli__query(const struct bw_cli_args *a, const char *const *map, char *out, size_t cap);

/* ---- settings and commands (cli.c) ---- */

enum bw_cli_kind { BW_CLI_NONE, BW_CLI_PLATFORM, BW_CLI_USER };

struct bw_cli {
	char url[512];         /* without a trailing slash */
	const char *token;     /* never printed, never logged */
	enum bw_cli_kind kind; /* by the token's prefix */
	const char *instance;  /* validated id, or NULL */
	bool json;
	long timeout_s;
};

#define BW_NEED_TOKEN 1u
#define BW_NEED_INSTANCE 2u
#define BW_MAY_INSTANCE 4u /* used when given (audit with a session token) */

struct bw_cli_cmd {
	const char *verb;              /* "list", "settings get"; "" for a command without verbs */
	const char *synopsis;          /* what follows the verb in the usage line */
	const char *help;              /* what it does, then its options */
	const struct bw_cli_opt *opts; /* ends with a NULL name */
	unsigned npos;                 /* exact number of positional arguments */
	unsigned need;                 /* BW_NEED_* */
	int (*run)(struct bw_cli *c, const struct bw_cli_args *a);
};

struct bw_cli_resource {
	const char *name;
	const char *summary;
	const struct bw_cli_cmd *cmds; /* ends with a NULL verb */
	const char *note;              /* extra lines for the resource's --help, or NULL */
};

extern const struct bw_cli_resource bw_cli_platform_key_res, bw_cli_instance_res, bw_cli_login_res,
    bw_cli_user_res, bw_cli_profile_res, bw_cli_audit_res;
extern const struct bw_cli_resource bw_cli_deny_list_res, bw_cli_contact_filter_res; /* fraud */
extern const struct bw_cli_resource bw_cli_enckey_res; /* encryption keys */
extern const struct bw_cli_resource bw_cli_scan_res;   /* classification */
extern const struct bw_cli_resource bw_cli_secret_res; /* secrets */

/* Formats an API path (ids validated beforehand). -1 when it does not fit. */
__attribute__((format(printf, 3, 4))) int bw_cli__path(char *out, size_t cap, const char *fmt, ...);

/* One API call. `body` is stolen; bw_cli__send refuses a NULL body (a value
 * json_pack could not take) as a usage error. On 2xx returns 0, prints the raw
 * body when --json, and stores the parsed body (NULL when empty) in *out; else
 * prints the API's error on stderr and returns the exit code. */
int bw_cli__get(struct bw_cli *c, const char *method, const char *path, json_t **out);
int bw_cli__send(struct bw_cli *c, const char *method, const char *path, json_t *body,
                 json_t **out);

/* ---- HTTP (http.c) ---- */

struct bw_cli_resp {
	long status;
	long retry_after; /* seconds, -1 when absent */
	char *body;       /* NUL-terminated; wiped on free */
	size_t len;
	char err[256]; /* why there is no response */
};

/* 0 with a response (any status), -1 when none came (err says why). */
int bw_cli__http(const struct bw_cli *c, const char *method, const char *path, const char *body,
                 struct bw_cli_resp *r);
void bw_cli__resp_free(struct bw_cli_resp *r);

/* ---- output (out.c) ---- */

struct bw_cli_col {
	const char *field; /* "a" or "a.b" */
	const char *title;
	bool count; /* an array shown as its length */
};

/* Each prints when rc is 0 and --json is off, frees `o`, returns rc. */
int bw_cli__show_object(const struct bw_cli *c, int rc, json_t *o);
int bw_cli__show_list(const struct bw_cli *c, int rc, json_t *o, const struct bw_cli_col *cols);
int bw_cli__show_done(const struct bw_cli *c, int rc, json_t *o, const char *what, const char *id);
/* The API's {"error": {...}} of a refused call, on stderr. */
void bw_cli__print_error(const struct bw_cli_resp *r);

/* ---- secrets (secret.c) ---- */

/* Jansson allocates through functions that wipe memory on free, so that
 * passwords and tokens do not outlive their use. json_dumps output must be
 * freed with bw_cli__jfree. */
void bw_cli__secure_json(void);
void bw_cli__jfree(void *p);
/* A password: from standard input when flag `stdin_flag` is set, else from
 * the environment variable `env`, else from the terminal when standard input
 * is one. 1 with the secret in buf, 0 when no source applies, -1 on error. */
int bw_cli__password(const struct bw_cli_args *a, const char *stdin_flag, const char *env,
                     char *buf, size_t cap);
/* All of standard input (at most `cap` - 1 bytes), or NULL after printing. */
char *bw_cli__read_stdin(size_t cap);

#endif
