/* The settings table: name, type, default, bounds, secret, help.
 * The sample in conf/bulwark.conf.sample follows this table. */
#include "core/config.h"

#define KIB 1024
#define MIB (1024 * 1024)

const struct bw_setting bw_settings[] = {
	{"data", BW_SET_PATH, NULL, 0, 0, NULL, false, false,
	 "data folder made by `bulwark init` (required)"},
	{"listen", BW_SET_ADDR, "127.0.0.1:8080", 0, 0, NULL, false, false,
	 "public listener, HOST:PORT (port 0 picks a free port)"},
	{"admin_listen", BW_SET_ADDR, "127.0.0.1:9090", 0, 0, NULL, false, false,
	 "admin listener for /metrics, HOST:PORT"},
	{"tls_cert", BW_SET_PATH, NULL, 0, 0, NULL, false, false,
	 "PEM certificate chain; with tls_key the public listener speaks HTTPS"},
	{"tls_key", BW_SET_PATH, NULL, 0, 0, NULL, true, false,
	 "PEM private key for tls_cert"},
	{"hsts_max_age_s", BW_SET_INT, "31536000", 0, 63072000, NULL, false, false,
	 "Strict-Transport-Security max-age on HTTPS"},
	{"max_body_bytes", BW_SET_INT, "1048576", KIB, 64 * MIB, NULL, false, false,
	 "largest request body accepted (413 beyond)"},
	{"max_connections", BW_SET_INT, "10000", 1, 1000000, NULL, false, false,
	 "open connections accepted in all"},
	{"max_connections_per_addr", BW_SET_INT, "256", 1, 1000000, NULL, false, false,
	 "open connections accepted from one client address"},
	{"header_timeout_ms", BW_SET_INT, "10000", 100, 600000, NULL, false, false,
	 "time allowed for a whole request header section"},
	{"body_timeout_ms", BW_SET_INT, "30000", 100, 600000, NULL, false, false,
	 "time allowed for a request body"},
	{"idle_timeout_ms", BW_SET_INT, "15000", 100, 3600000, NULL, false, false,
	 "keep-alive idle time between requests"},
	{"ws_max_message_bytes", BW_SET_INT, "65536", 128, 16 * MIB, NULL, false, false,
	 "largest WebSocket message accepted (close 1009 beyond)"},
	{"ws_max_queue_bytes", BW_SET_INT, "1048576", 4 * KIB, 64 * MIB, NULL, false, false,
	 "bytes queued to one WebSocket before the slow reader is disconnected"},
	{"ws_ping_interval_s", BW_SET_INT, "30", 1, 3600, NULL, false, false,
	 "seconds between server pings on an idle WebSocket"},
	{"ws_idle_timeout_s", BW_SET_INT, "60", 2, 86400, NULL, false, false,
	 "a WebSocket silent this long (no pong either) is closed"},
	{"workers", BW_SET_INT, "4", 1, 256, NULL, false, false,
	 "API worker threads"},
	{"hash_workers", BW_SET_INT, "2", 1, 64, NULL, false, false,
	 "password hashing threads (bounded so a login storm cannot starve the API)"},
	{"max_fds", BW_SET_INT, "65536", 1024, 1048576, NULL, false, false,
	 "descriptor table size for the event loop"},
	{"log_level", BW_SET_ENUM, "info", 0, 0, "debug|info|warn|error", false, false,
	 "lowest level written to standard error"},
	{"durability", BW_SET_ENUM, "normal", 0, 0, "normal|full", false, false,
	 "normal survives a process crash; full also a power cut (fsync each commit)"},
	{"trusted_proxies", BW_SET_CIDRS, "", 0, 0, NULL, false, false,
	 "addresses whose X-Forwarded-For is believed, e.g. 127.0.0.1/32, ::1/128"},
	{"shutdown_timeout_ms", BW_SET_INT, "10000", 0, 600000, NULL, false, false,
	 "time given to in-flight work on SIGTERM"},
};

const size_t bw_settings_count = sizeof(bw_settings) / sizeof(bw_settings[0]);
