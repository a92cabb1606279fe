/* The PostgreSQL warehouse sink (C19, docs/api.md "Event subscriptions";
 * docs/internals/events.md "Sinks"). One connection, made at the first
 * delivery and again after a loss; bulwark_contact_records is made when
 * missing. A batch is one transaction: BEGIN, one prepared upsert per
 * event, COMMIT, sent in libpq's pipeline mode (one round trip per chunk
 * instead of one per event). An upsert never overwrites a newer
 * last_update_time, so a repeat or an out-of-order older version changes
 * nothing.
 *
 * The conninfo may hold a password: it is never logged, and neither is a
 * server's error text (it can quote a value); error sentences carry the
 * SQLSTATE. Bounded waits: connect_timeout 5 s, tcp_user_timeout 10 s,
 * statement_timeout 10 s (all overridable by the conninfo). */
#include <jansson.h>
#include <libpq-fe.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "core/log.h"
#include "events/sink.h"

#define MAX_ENVELOPE (1024 * 1024)
#define CHUNK 256 /* statements between two pipeline syncs */
#define NPARAMS 11

static const char create_sql[] =
	"CREATE TABLE IF NOT EXISTS bulwark_contact_records ("
	" instance_id text NOT NULL,"
	" contact_id text NOT NULL,"
	" last_update_time timestamptz NOT NULL,"
	" channel text,"
	" queue_id text,"
	" agent_id text,"
	" initiation_time timestamptz,"
	" disconnect_time timestamptz,"
	" disconnect_reason text,"
	" event_id text NOT NULL,"
	" record jsonb NOT NULL,"
	" loaded_at timestamptz NOT NULL DEFAULT now(),"
	" PRIMARY KEY (instance_id, contact_id))";

static const char upsert_sql[] =
	"INSERT INTO bulwark_contact_records (instance_id, contact_id, last_update_time,"
	" channel, queue_id, agent_id, initiation_time, disconnect_time, disconnect_reason,"
	" event_id, record)"
	" VALUES ($1, $2, $3::timestamptz, $4, $5, $6, $7::timestamptz, $8::timestamptz, $9,"
	" $10, $11::jsonb)"
	" ON CONFLICT (instance_id, contact_id) DO UPDATE SET"
	" last_update_time = EXCLUDED.last_update_time, channel = EXCLUDED.channel,"
	" queue_id = EXCLUDED.queue_id, agent_id = EXCLUDED.agent_id,"
	" initiation_time = EXCLUDED.initiation_time,"
	" disconnect_time = EXCLUDED.disconnect_time,"
	" disconnect_reason = EXCLUDED.disconnect_reason, event_id = EXCLUDED.event_id,"
	" record = EXCLUDED.record, loaded_at = now()"
	" WHERE bulwark_contact_records.last_update_time <= EXCLUDED.last_update_time";

/* Dispatcher thread only. */
static char *conninfo;
static PGconn *conn;

/* One event's parameters. */
struct row {
	const char *p[NPARAMS];
	char lut[40], init[40], disc[40];
	char *record;
	json_t *root;
};

static void fail(struct bw_event_out *ev, const char *what)
{
	ev->ok = false;
	snprintf(ev->error, sizeof(ev->error), "warehouse: %s", what);
}

/* ---- the envelope ---- */

/* NULL when absent or null, "" (invalid) when not a string. */
static const char *opt_str(json_t *o, const char *key, bool *bad)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_string(v) || json_string_length(v) == 0) {
		*bad = true;
		return NULL;
	}
	return json_string_value(v);
}

/* An RFC 3339 time, normalized to UTC milliseconds for the server. */
static bool opt_time(json_t *o, const char *key, char *out, size_t outsz, const char **param,
		     bool *bad)
{
	long long ms;
	const char *s = opt_str(o, key, bad);
	*param = NULL;
	if (!s)
		return !*bad;
	if (!bw_time_parse_rfc3339_ms(s, &ms)) {
		*bad = true;
		return false;
	}
	bw_time_rfc3339_ms(ms, out, outsz);
	*param = out;
	return true;
}

/* queue.id or agent.id: the object may be absent or null. */
static const char *sub_id(json_t *data, const char *key, bool *bad)
{
	json_t *v = json_object_get(data, key);
	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_object(v)) {
		*bad = true;
		return NULL;
	}
	return opt_str(v, "id", bad);
}

/* Fills r from ev's envelope; false with ev answered when it cannot be. */
static bool parse(struct bw_event_out *ev, struct row *r)
{
	json_error_t jerr;
	json_t *data;
	bool bad = false;
	const char *iid;

	memset(r, 0, sizeof(*r));
	if (!ev->type || strcmp(ev->type, "contact.ended") != 0) {
		fail(ev, "only contact.ended events are loaded");
		return false;
	}
	if (!ev->body || ev->body_len > MAX_ENVELOPE || !ev->instance_id || !ev->event_id) {
		fail(ev, "malformed envelope");
		return false;
	}
	r->root = json_loadb(ev->body, ev->body_len, JSON_REJECT_DUPLICATES, &jerr);
	data = json_object_get(r->root, "data");
	if (!json_is_object(r->root) || !json_is_object(data)) {
		fail(ev, "malformed envelope (no data object)");
		return false;
	}
	iid = opt_str(r->root, "instance_id", &bad);
	if (bad || (iid && strcmp(iid, ev->instance_id) != 0)) {
		fail(ev, "malformed envelope (instance_id)");
		return false;
	}
	r->p[0] = ev->instance_id;
	r->p[1] = opt_str(data, "id", &bad);
	if (!r->p[1]) {
		fail(ev, "malformed record (id)");
		return false;
	}
	if (!opt_time(data, "last_update_timestamp", r->lut, sizeof(r->lut), &r->p[2], &bad) ||
	    !r->p[2]) {
		fail(ev, "malformed record (last_update_timestamp)");
		return false;
	}
	r->p[3] = opt_str(data, "channel", &bad);
	r->p[4] = sub_id(data, "queue", &bad);
	r->p[5] = sub_id(data, "agent", &bad);
	opt_time(data, "initiation_timestamp", r->init, sizeof(r->init), &r->p[6], &bad);
	opt_time(data, "disconnect_timestamp", r->disc, sizeof(r->disc), &r->p[7], &bad);
	r->p[8] = opt_str(data, "disconnect_reason", &bad);
	if (bad) {
		fail(ev, "malformed record (a field of the wrong type)");
		return false;
	}
	r->p[9] = ev->event_id;
	r->record = json_dumps(data, JSON_COMPACT);
	if (!r->record) {
		fail(ev, "out of memory");
		return false;
	}
	r->p[10] = r->record;
	return true;
}

static void row_free(struct row *r)
{
	free(r->record);
	json_decref(r->root);
}

/* ---- the connection ---- */

/* What the client library said, as a sentence without its details. */
static const char *connect_error(PGconn *c)
{
	const char *m = c ? PQerrorMessage(c) : "";
	if (!c)
		return "out of memory";
	if (strstr(m, "Connection refused"))
		return "connection refused";
	if (strstr(m, "timeout expired") || strstr(m, "timed out"))
		return "connection timed out";
	if (strstr(m, "authentication failed") || strstr(m, "password"))
		return "authentication failed";
	if (strstr(m, "does not exist"))
		return "database or role does not exist";
	if (strstr(m, "translate host name"))
		return "host not found";
	return "cannot connect";
}

static void result_error(char *out, size_t outsz, const PGresult *res, const char *what)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	snprintf(out, outsz, "warehouse: %s failed (SQLSTATE %s)", what, state ? state : "none");
}

static bool exec_ok(const char *sql, char *err, size_t errsz, const char *what)
{
	PGresult *res = PQexec(conn, sql);
	bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok)
		result_error(err, errsz, res, what);
	PQclear(res);
	return ok;
}

/* libpq would print the server's notices on standard error, which holds
 * JSON log lines only. */
static void no_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static void drop(void)
{
	PQfinish(conn);
	conn = NULL;
}

/* A connection with the table and the statement, or false with err set. */
static bool connect_db(char *err, size_t errsz)
{
	/* Ours first: what the conninfo names (dbname, expanded) wins. */
	const char *keys[] = {"connect_timeout", "tcp_user_timeout", "application_name",
			      "dbname", NULL};
	const char *vals[] = {"5", "10000", "bulwark", conninfo, NULL};
	PGresult *res;

	if (conn && PQstatus(conn) == CONNECTION_OK)
		return true;
	drop();
	conn = PQconnectdbParams(keys, vals, 1);
	if (!conn || PQstatus(conn) != CONNECTION_OK) {
		snprintf(err, errsz, "warehouse: %s", connect_error(conn));
		bw_log(BW_LOG_WARN, "warehouse sink: cannot connect", "host",
		       conn && PQhost(conn) ? PQhost(conn) : "", "port",
		       conn && PQport(conn) ? PQport(conn) : "", "dbname",
		       conn && PQdb(conn) ? PQdb(conn) : "", "error", err);
		drop();
		return false;
	}
	PQsetNoticeProcessor(conn, no_notice, NULL);
	if (!exec_ok("SET statement_timeout = 10000", err, errsz, "set-up") ||
	    !exec_ok(create_sql, err, errsz, "creating bulwark_contact_records"))
		goto bad;
	res = PQprepare(conn, "bw_upsert", upsert_sql, NPARAMS, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		result_error(err, errsz, res, "preparing the upsert");
		PQclear(res);
		goto bad;
	}
	PQclear(res);
	bw_log(BW_LOG_INFO, "warehouse sink: connected", "host", PQhost(conn) ? PQhost(conn) : "",
	       "port", PQport(conn), "dbname", PQdb(conn));
	return true;
bad:
	bw_log(BW_LOG_WARN, "warehouse sink: set-up failed", "error", err);
	drop();
	return false;
}

/* ---- one transaction ---- */

/* Reads the results up to the next sync. False with err set at the first
 * failure (the rest of the chunk is then reported aborted). */
static bool drain(char *err, size_t errsz)
{
	bool ok = true;
	int nulls = 0;
	for (;;) {
		PGresult *res = PQgetResult(conn);
		if (!res) {
			/* One NULL ends each statement's results; a broken
			 * connection gives nothing more. */
			if (PQstatus(conn) != CONNECTION_OK || ++nulls > 2) {
				if (ok)
					snprintf(err, errsz, "warehouse: connection lost");
				return false;
			}
			continue;
		}
		nulls = 0;
		ExecStatusType st = PQresultStatus(res);
		if (st == PGRES_PIPELINE_SYNC) {
			PQclear(res);
			return ok;
		}
		if (ok && st != PGRES_COMMAND_OK) {
			ok = false;
			if (st == PGRES_PIPELINE_ABORTED)
				snprintf(err, errsz, "warehouse: transaction aborted");
			else
				result_error(err, errsz, res, "upsert");
		}
		PQclear(res);
	}
}

static bool send_simple(const char *sql)
{
	return PQsendQueryParams(conn, sql, 0, NULL, NULL, NULL, NULL, 0) == 1;
}

/* BEGIN, the upserts, COMMIT; true when committed. */
static bool load(struct row *rows, size_t n, char *err, size_t errsz)
{
	bool ok = PQenterPipelineMode(conn) == 1 && send_simple("BEGIN");
	size_t i = 0;

	if (!ok)
		snprintf(err, errsz, "warehouse: connection lost");
	while (ok) {
		size_t end = i + CHUNK < n ? i + CHUNK : n;
		for (; ok && i < end; i++)
			ok = PQsendQueryPrepared(conn, "bw_upsert", NPARAMS, rows[i].p, NULL, NULL,
						 0) == 1;
		if (ok && i == n)
			ok = send_simple("COMMIT");
		if (!ok) {
			snprintf(err, errsz, "warehouse: connection lost");
			break;
		}
		if (PQpipelineSync(conn) != 1) {
			snprintf(err, errsz, "warehouse: connection lost");
			ok = false;
			break;
		}
		ok = drain(err, errsz);
		if (i == n)
			break;
	}
	if (PQstatus(conn) != CONNECTION_OK)
		return false;
	if (PQexitPipelineMode(conn) != 1) {
		drop(); /* results we could not read: start afresh */
		return false;
	}
	if (!ok) {
		char e2[160];
		(void)exec_ok("ROLLBACK", e2, sizeof(e2), "rollback");
	}
	return ok;
}

/* ---- the interface ---- */

bw_result bw_sink_pg_start(const char *ci)
{
	bw_sink_pg_stop();
	if (!ci || !*ci)
		return BW_INVALID;
	conninfo = strdup(ci);
	return conninfo ? BW_OK : BW_NOMEM;
}

void bw_sink_pg_deliver(struct bw_event_out *ev, size_t n)
{
	struct row *rows;
	struct bw_event_out **who;
	size_t m = 0;
	char err[sizeof(ev->error)] = "";

	if (n == 0)
		return;
	rows = calloc(n, sizeof(*rows));
	who = calloc(n, sizeof(*who));
	for (size_t i = 0; i < n; i++) {
		ev[i].ok = false;
		ev[i].error[0] = '\0';
		if (!rows || !who)
			fail(&ev[i], "out of memory");
		else if (!conninfo)
			fail(&ev[i], "not started");
		else if (parse(&ev[i], &rows[m]))
			who[m++] = &ev[i];
		else
			row_free(&rows[m]);
	}
	if (m == 0)
		goto out;
	/* A connection lost since the last batch (a server restart) is
	 * seen only when used: connect again and send once more. The
	 * upsert is idempotent, so a COMMIT that did arrive is harmless. */
	bool ok = false;
	for (int attempt = 0; attempt < 2 && !ok; attempt++) {
		bool had = conn != NULL;
		if (!connect_db(err, sizeof(err)))
			break;
		ok = load(rows, m, err, sizeof(err));
		if (ok || !had || (conn && PQstatus(conn) == CONNECTION_OK))
			break;
		drop();
	}
	if (!ok && conn && PQstatus(conn) != CONNECTION_OK)
		drop();
	for (size_t k = 0; k < m; k++) {
		who[k]->ok = ok;
		if (!ok)
			snprintf(who[k]->error, sizeof(who[k]->error), "%s", err);
	}
out:
	for (size_t k = 0; k < m; k++)
		row_free(&rows[k]);
	free(rows);
	free(who);
}

void bw_sink_pg_stop(void)
{
	drop();
	if (conninfo) {
		sodium_memzero(conninfo, strlen(conninfo)); /* it may hold a password */
		free(conninfo);
		conninfo = NULL;
	}
}
