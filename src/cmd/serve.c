/* `bulwark serve`: settings, the store's schema, the listeners, the loop.
 * SIGTERM and SIGINT arrive through a signalfd on the loop, so that shutdown
 * runs as ordinary loop code. */
#include "net/re_min.h"
/* re_dbg.h wants these before it is read (for its own DEBUG_* macros). */
#define DEBUG_MODULE "serve"
#define DEBUG_LEVEL 0
#include <re_dbg.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "core/config.h"
#include "events/events.h"
#include "core/log.h"
#include "cc/engine.h"
#include "integ/role.h"
#include "net/net.h"
#include "sec/keyring.h"
#include "sec/rootkey.h"
#include "store/store.h"

static int sigfd = -1;
static bool stopping;

static void usage(FILE *f)
{
	fprintf(f, "usage: bulwark serve --data DIR [--listen HOST:PORT] [--admin-listen HOST:PORT]\n"
	           "                     [--config FILE] [--tls-cert F --tls-key F] [--NAME VALUE ...]\n"
	           "Prints one line {\"listening\": ..., \"admin\": ...} when ready; logs go to\n"
	           "standard error; SIGTERM stops it gracefully.\n\n");
	bw_config_print_help();
}

static void done(void)
{
	re_cancel();
}

static void signal_readable(int flags, void *arg)
{
	(void)flags;
	(void)arg;
	struct signalfd_siginfo si;
	if (read(sigfd, &si, sizeof(si)) != sizeof(si))
		return;
	if (stopping)
		return;
	stopping = true;
	bw_log(BW_LOG_INFO, "shutting down");
	bw_server_shutdown(done);
}

/* Flags: --name VALUE or --name=VALUE, dashes or underscores. */
static int parse_flags(struct bw_config *cfg, int argc, char **argv, const char **config_file,
                       struct bw_config_err *err)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strncmp(a, "--", 2) != 0) {
			snprintf(err->msg, sizeof(err->msg), "unexpected argument \"%.100s\"", a);
			return -1;
		}
		char name[64];
		const char *eq = strchr(a + 2, '=');
		size_t nl = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
		if (nl == 0 || nl >= sizeof(name)) {
			snprintf(err->msg, sizeof(err->msg), "setting %.100s: unknown setting", a);
			return -1;
		}
		for (size_t k = 0; k < nl; k++)
			name[k] = a[2 + k] == '-' ? '_' : a[2 + k];
		name[nl] = '\0';
		const char *val = eq ? eq + 1 : NULL;
		if (!val) {
			if (i + 1 >= argc) {
				snprintf(err->msg, sizeof(err->msg), "setting %s: needs a value", name);
				return -1;
			}
			val = argv[++i];
		}
		if (!strcmp(name, "config")) {
			if (config_file)
				*config_file = val;
			continue;
		}
		if (!config_file && bw_config_set(cfg, name, val, "flag", err) != 0)
			return -1;
	}
	return 0;
}

static int load_settings(struct bw_config *cfg, int argc, char **argv, char **envp)
{
	struct bw_config_err err = {{0}};
	const char *file = NULL;
	/* First pass finds --config; then file < environment < flags. */
	if (parse_flags(cfg, argc, argv, &file, &err) != 0 ||
	    (file && bw_config_load_file(cfg, file, &err) != 0) ||
	    bw_config_load_env(cfg, envp, &err) != 0 ||
	    parse_flags(cfg, argc, argv, NULL, &err) != 0 || bw_config_finish(cfg, &err) != 0) {
		fprintf(stderr, "bulwark: %s\n", err.msg);
		return -1;
	}
	enum bw_log_level lvl;
	if (bw_log_level_parse(bw_config_str(cfg, "log_level"), &lvl) == 0)
		bw_log_min = lvl;
	return 0;
}

static int prepare_store(const char *db, int durability)
{
	struct bw_store *s = NULL;
	int version = 0;
	if (bw_store_open(&s, db, durability ? BW_DURABILITY_FULL : BW_DURABILITY_NORMAL) != BW_OK)
		return -1;
	bw_result r = bw_store_migrate(s, &version);
	bw_store_close(s);
	return r == BW_OK ? 0 : -1;
}

int bw_cmd_serve(int argc, char **argv, char **envp)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		}
	struct bw_config cfg;
	bw_config_init(&cfg);
	int rc = 1;
	uint8_t *root_key = NULL;
	bool keyring = false;
	if (load_settings(&cfg, argc, argv, envp) != 0) {
		bw_config_free(&cfg);
		return 2;
	}
	bw_role_configure(bw_config_int(&cfg, "signing_key_rotate_s"), /* C7 */
	                  bw_config_int(&cfg, "signing_key_overlap_s"));
	const char *data = bw_config_str(&cfg, "data");
	char key_path[4096], db[4096];
	snprintf(key_path, sizeof(key_path), "%s/root.key", data);
	snprintf(db, sizeof(db), "%s/bulwark.db", data);
	bw_result kr = bw_rootkey_load(key_path, &root_key);
	if (kr != BW_OK) {
		fprintf(stderr, "bulwark: %s is not an initialized data folder (run `bulwark init --data %s`)\n",
		        data, data);
		goto out;
	}
	int durability = !strcmp(bw_config_str(&cfg, "durability"), "full");
	if (prepare_store(db, durability) != 0) {
		fprintf(stderr, "bulwark: cannot open or migrate %s\n", db);
		goto out;
	}
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* before any thread starts */
	signal(SIGPIPE, SIG_IGN);
	/* keys (C14): after the signal mask (its thread inherits it), before any
	 * thread that seals; stopped after the last one */
	struct bw_keyring_opts ko = {
	    (unsigned long long)bw_config_int(&cfg, "data_key_max_seals"),
	    (unsigned)bw_config_int(&cfg, "key_rotation_batch"),
	    (unsigned)bw_config_int(&cfg, "key_rotation_pause_ms")};
	if (bw_keyring_start(db, durability, root_key, &ko) != BW_OK) {
		fprintf(stderr, "bulwark: cannot start the keyring on %s\n", db);
		goto out;
	}
	keyring = true;
	if (libre_init() != 0)
		goto out;
	/* libre prints its own warnings to standard error, unstructured (a
	 * refused TLS handshake writes OpenSSL's error queue there: a line per
	 * anonymous attempt). Only its errors and worse get through; our own
	 * log says what matters, as JSON. */
	dbg_init(DBG_ERR, DBG_NONE);
	sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	char listen_at[128] = "", admin_at[128] = "";
	bool engine = false;
	struct bw_server_opts o = {&cfg, db, durability, root_key};
	if (sigfd < 0 || bw_server_start(&o, listen_at, sizeof(listen_at), admin_at,
	                                 sizeof(admin_at)) != BW_OK) {
		fprintf(stderr, "bulwark: cannot start the listeners\n");
		goto stop;
	}
	if (bw_cc_start(&cfg, db, durability) != BW_OK) {
		fprintf(stderr, "bulwark: cannot start the contact-center engine\n");
		goto stop;
	}
	engine = true;
	/* event subscriptions (C18, C19): after the egress (webhooks) and the
	 * engine (producers); stopped after the listeners have answered every
	 * egress call, so that a webhook in flight returns */
	struct bw_events_settings es = {bw_config_str(&cfg, "nats_url"),
	                                bw_config_str(&cfg, "warehouse_url"),
	                                bw_config_int(&cfg, "event_retry_base_ms"),
	                                bw_config_int(&cfg, "event_retry_max_ms"),
	                                (int)bw_config_int(&cfg, "event_max_attempts"),
	                                bw_config_int(&cfg, "event_dead_letter_retention_s") * 1000};
	if (bw_events_start(db, durability, &es) != BW_OK) {
		fprintf(stderr, "bulwark: cannot start the event dispatcher\n");
		goto stop;
	}
	if (fd_listen(sigfd, FD_READ, signal_readable, NULL) != 0)
		goto stop;
	printf("{\"listening\": \"%s\", \"admin\": \"%s\"}\n", listen_at, admin_at);
	fflush(stdout);
	bw_log(BW_LOG_INFO, "ready", "listening", listen_at, "admin", admin_at);
	re_main(NULL);
	rc = 0;
	bw_log(BW_LOG_INFO, "stopped");
stop:
	if (sigfd >= 0) {
		fd_close(sigfd);
		close(sigfd);
	}
	bw_server_free();
	bw_events_stop();
	if (engine)
		bw_cc_stop();
	libre_close();
out:
	if (keyring)
		bw_keyring_stop();
	bw_rootkey_free(root_key);
	bw_config_free(&cfg);
	return rc;
}
