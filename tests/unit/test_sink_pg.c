/* The PostgreSQL warehouse sink (src/events/sink_pg.c) against a real
 * server: the one of scripts/test-servers.sh (BULWARK_TEST_PG_URL; `make
 * test` always starts it; without it these tests are skipped). Each test
 * runs in a schema of its own (search_path in the conninfo), so that the
 * table the sink makes, and a constraint a test adds to it, touch nothing
 * else. Checked: the columns of a full and of a projected record; a newer
 * version replaces an older one, never the reverse; a repeat changes
 * nothing; a wrong type or a malformed envelope fails alone; a failed
 * transaction fails the whole batch and leaves no row; a server that is
 * down fails fast with a sentence naming no secret; a connection the
 * server dropped is made again without losing the batch. */
#include "test_common.h"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/ids.h"
#include "events/sink.h"

#define MAXEV 8

struct fixture {
	PGconn *db;           /* ours, to look */
	char schema[64];
	char conninfo[512];   /* the sink's: the URL with our search_path */
	char iid[BW_ID_LEN], sub[BW_ID_LEN];
};

struct batch {
	struct bw_event_out ev[MAXEV];
	char ids[MAXEV][BW_ID_LEN];
	char *bodies[MAXEV];
	size_t n;
};

static const char *env_url(void)
{
	const char *u = getenv("BULWARK_TEST_PG_URL");
	return u && *u ? u : NULL;
}

static void exec_ok(PGconn *db, const char *sql)
{
	PGresult *r = PQexec(db, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(db));
	PQclear(r);
}

static int setup(void **state)
{
	static struct fixture f;
	char sql[128];
	if (!env_url()) {
		*state = NULL;
		return 0;
	}
	memset(&f, 0, sizeof(f));
	f.db = PQconnectdb(env_url());
	if (PQstatus(f.db) != CONNECTION_OK) {
		fprintf(stderr, "cannot connect: %s\n", PQerrorMessage(f.db));
		return -1;
	}
	/* A schema name: lower case letters and digits only. */
	unsigned char rnd[8];
	char id[BW_ID_LEN];
	bw_id_new(id, "x");
	snprintf(f.schema, sizeof(f.schema), "bwtest_");
	for (size_t i = 0; i < sizeof(rnd); i++)
		rnd[i] = (unsigned char)id[1 + i];
	for (size_t i = 0; i < sizeof(rnd); i++)
		f.schema[7 + i] = (char)('a' + rnd[i] % 26);
	f.schema[7 + sizeof(rnd)] = '\0';
	snprintf(sql, sizeof(sql), "CREATE SCHEMA %s", f.schema);
	exec_ok(f.db, sql);
	snprintf(sql, sizeof(sql), "SET search_path = %s", f.schema);
	exec_ok(f.db, sql);
	/* Our application_name too, to find the sink's session. */
	snprintf(f.conninfo, sizeof(f.conninfo),
		 "%s%soptions=-csearch_path%%3D%s&application_name=%s", env_url(),
		 strchr(env_url(), '?') ? "&" : "?", f.schema, f.schema);
	bw_id_new(f.iid, "in_");
	bw_id_new(f.sub, "es_");
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char sql[128];
	bw_sink_pg_stop();
	if (!f)
		return 0;
	snprintf(sql, sizeof(sql), "DROP SCHEMA %s CASCADE", f->schema);
	exec_ok(f->db, sql);
	PQfinish(f->db);
	return 0;
}

#define FIXTURE(f)                                                                                 \
	struct fixture *f = *state;                                                                \
	do {                                                                                       \
		if (!f) {                                                                          \
			print_message("BULWARK_TEST_PG_URL unset (scripts/test-servers.sh): "      \
				      "skipped\n");                                                \
			skip();                                                                    \
		}                                                                                  \
	} while (0)

/* Adds an event whose data is the JSON text given. */
static void add(struct batch *b, struct fixture *f, const char *type, const char *data)
{
	size_t i = b->n++;
	assert_true(i < MAXEV);
	bw_id_new(b->ids[i], "et_");
	size_t cap = strlen(data) + 512;
	b->bodies[i] = malloc(cap);
	assert_non_null(b->bodies[i]);
	int len = snprintf(b->bodies[i], cap,
			   "{\"id\":\"%s\",\"type\":\"%s\",\"time\":\"2026-11-30T15:00:00.000Z\","
			   "\"instance_id\":\"%s\",\"subscription_id\":\"%s\","
			   "\"dedup_key\":\"x\",\"data\":%s}",
			   b->ids[i], type, f->iid, f->sub, data);
	b->ev[i] = (struct bw_event_out){
		.outbox_id = (long long)i + 1,
		.instance_id = f->iid,
		.subscription_id = f->sub,
		.type = type,
		.event_id = b->ids[i],
		.body = b->bodies[i],
		.body_len = (size_t)len,
	};
}

static void batch_free(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->bodies[i]);
	memset(b, 0, sizeof(*b));
}

static void deliver_all_ok(struct batch *b)
{
	bw_sink_pg_deliver(b->ev, b->n);
	for (size_t i = 0; i < b->n; i++)
		if (!b->ev[i].ok)
			fail_msg("event %zu: %s", i, b->ev[i].error);
}

/* One value of a one-row query ("" for NULL); the row must exist. */
static char *one(struct fixture *f, const char *sql, const char *cid)
{
	static char out[4096];
	const char *p[2] = {f->iid, cid};
	PGresult *r = PQexecParams(f->db, sql, 2, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(f->db));
	assert_int_equal(PQntuples(r), 1);
	snprintf(out, sizeof(out), "%s", PQgetisnull(r, 0, 0) ? "" : PQgetvalue(r, 0, 0));
	PQclear(r);
	return out;
}

static long rows(struct fixture *f)
{
	PGresult *r = PQexec(f->db, "SELECT count(*) FROM bulwark_contact_records");
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	long n = strtol(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return n;
}

#define COLS                                                                                       \
	"SELECT concat_ws('|', channel, coalesce(queue_id, '-'), coalesce(agent_id, '-'),"        \
	" to_char(last_update_time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS'),"         \
	" coalesce(to_char(initiation_time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS'),"  \
	" '-'),"                                                                                  \
	" coalesce(to_char(disconnect_time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS'),"  \
	" '-'), coalesce(disconnect_reason, '-'))"                                                \
	" FROM bulwark_contact_records WHERE instance_id = $1 AND contact_id = $2"

static const char full_rec[] =
	"{\"id\":\"ct_1\",\"instance_id\":\"in_x\",\"channel\":\"CHAT\","
	"\"initiation_method\":\"API\",\"state\":\"ENDED\","
	"\"initiation_timestamp\":\"2026-11-30T12:00:00.123Z\","
	"\"customer_endpoint\":{\"type\":\"CHAT\",\"display_name\":\"Ada\"},"
	"\"queue\":{\"id\":\"qu_1\",\"enqueue_timestamp\":\"2026-11-30T12:00:01.000Z\"},"
	"\"agent\":{\"id\":\"us_1\",\"connected_timestamp\":\"2026-11-30T12:00:02.000Z\"},"
	"\"attributes\":{},\"disconnect_reason\":\"CUSTOMER_DISCONNECT\","
	"\"disconnect_timestamp\":\"2026-11-30T13:00:00+01:00\","
	"\"last_update_timestamp\":\"2026-11-30T12:05:00.500Z\"}";

static void test_full_and_projected_records(void **state)
{
	FIXTURE(f);
	struct batch b = {0};

	assert_int_equal(bw_sink_pg_start(f->conninfo), BW_OK);
	add(&b, f, "contact.ended", full_rec);
	/* Projected: only the keys and the channel; queue without agent. */
	add(&b, f, "contact.ended",
	    "{\"id\":\"ct_2\",\"channel\":\"CALLBACK\","
	    "\"last_update_timestamp\":\"2026-11-30T12:00:00Z\"}");
	add(&b, f, "contact.ended",
	    "{\"id\":\"ct_3\",\"channel\":\"CHAT\",\"queue\":{\"id\":\"qu_9\"},\"agent\":null,"
	    "\"disconnect_reason\":null,\"last_update_timestamp\":\"2026-11-30T12:00:00Z\"}");
	deliver_all_ok(&b);

	assert_int_equal(rows(f), 3);
	assert_string_equal(one(f, COLS, "ct_1"),
			    "CHAT|qu_1|us_1|2026-11-30T12:05:00.500|2026-11-30T12:00:00.123|"
			    "2026-11-30T12:00:00.000|CUSTOMER_DISCONNECT");
	assert_string_equal(one(f, COLS, "ct_2"), "CALLBACK|-|-|2026-11-30T12:00:00.000|-|-|-");
	assert_string_equal(one(f, COLS, "ct_3"), "CHAT|qu_9|-|2026-11-30T12:00:00.000|-|-|-");
	/* record is the data as jsonb; event_id the event's. */
	assert_string_equal(one(f,
				"SELECT record->'customer_endpoint'->>'display_name' FROM "
				"bulwark_contact_records WHERE instance_id = $1 AND contact_id = $2",
				"ct_1"),
			    "Ada");
	assert_string_equal(one(f,
				"SELECT event_id FROM bulwark_contact_records WHERE "
				"instance_id = $1 AND contact_id = $2",
				"ct_2"),
			    b.ids[1]);
	batch_free(&b);
}

static void test_newest_wins(void **state)
{
	FIXTURE(f);
	struct batch b = {0};
	const char *q = "SELECT disconnect_reason FROM bulwark_contact_records"
			" WHERE instance_id = $1 AND contact_id = $2";

	assert_int_equal(bw_sink_pg_start(f->conninfo), BW_OK);
	add(&b, f, "contact.ended",
	    "{\"id\":\"ct_1\",\"disconnect_reason\":\"B\","
	    "\"last_update_timestamp\":\"2026-11-30T12:00:02Z\"}");
	deliver_all_ok(&b);
	batch_free(&b);

	/* Older: delivered (ok), changes nothing. */
	add(&b, f, "contact.ended",
	    "{\"id\":\"ct_1\",\"disconnect_reason\":\"A\","
	    "\"last_update_timestamp\":\"2026-11-30T12:00:01Z\"}");
	deliver_all_ok(&b);
	assert_string_equal(one(f, q, "ct_1"), "B");
	batch_free(&b);

	/* Within one batch: the newer of two, whatever their order. */
	add(&b, f, "contact.ended",
	    "{\"id\":\"ct_1\",\"disconnect_reason\":\"D\","
	    "\"last_update_timestamp\":\"2026-11-30T12:00:04Z\"}");
	add(&b, f, "contact.ended",
	    "{\"id\":\"ct_1\",\"disconnect_reason\":\"C\","
	    "\"last_update_timestamp\":\"2026-11-30T12:00:03Z\"}");
	deliver_all_ok(&b);
	assert_string_equal(one(f, q, "ct_1"), "D");

	/* The same batch again (a retry): nothing changes. */
	bw_sink_pg_deliver(b.ev, b.n);
	assert_true(b.ev[0].ok && b.ev[1].ok);
	assert_string_equal(one(f, q, "ct_1"), "D");
	assert_int_equal(rows(f), 1);
	batch_free(&b);
}

static void test_bad_events_fail_alone(void **state)
{
	FIXTURE(f);
	struct batch b = {0};

	assert_int_equal(bw_sink_pg_start(f->conninfo), BW_OK);
	add(&b, f, "contact.ended",
	    "{\"id\":\"ct_ok\",\"last_update_timestamp\":\"2026-11-30T12:00:00Z\"}");
	add(&b, f, "contact.queued",
	    "{\"id\":\"ct_q\",\"last_update_timestamp\":\"2026-11-30T12:00:00Z\"}");
	add(&b, f, "contact.ended", "{\"id\":\"ct_nolut\"}");
	add(&b, f, "contact.ended",
	    "{\"id\":\"ct_badtime\",\"last_update_timestamp\":\"yesterday\"}");
	add(&b, f, "contact.ended",
	    "{\"id\":\"ct_badq\",\"queue\":\"qu_1\","
	    "\"last_update_timestamp\":\"2026-11-30T12:00:00Z\"}");
	add(&b, f, "contact.ended", "[1,2]");
	add(&b, f, "contact.ended", "{\"last_update_timestamp\":\"2026-11-30T12:00:00Z\"}");
	add(&b, f, "contact.ended",
	    "{\"id\":\"ct_ok2\",\"last_update_timestamp\":\"2026-11-30T12:00:00Z\"}");
	b.ev[7].body_len -= 2; /* cut: not JSON */
	bw_sink_pg_deliver(b.ev, b.n);

	assert_true(b.ev[0].ok);
	assert_string_equal(b.ev[1].error, "warehouse: only contact.ended events are loaded");
	assert_string_equal(b.ev[2].error, "warehouse: malformed record (last_update_timestamp)");
	assert_string_equal(b.ev[3].error, "warehouse: malformed record (last_update_timestamp)");
	assert_string_equal(b.ev[4].error, "warehouse: malformed record (a field of the wrong type)");
	assert_string_equal(b.ev[5].error, "warehouse: malformed envelope (no data object)");
	assert_string_equal(b.ev[6].error, "warehouse: malformed record (id)");
	assert_string_equal(b.ev[7].error, "warehouse: malformed envelope (no data object)");
	for (size_t i = 1; i < b.n; i++)
		assert_false(b.ev[i].ok);
	assert_int_equal(rows(f), 1);
	batch_free(&b);
}

static void test_failed_transaction_fails_all(void **state)
{
	FIXTURE(f);
	struct batch b = {0};

	assert_int_equal(bw_sink_pg_start(f->conninfo), BW_OK);
	add(&b, f, "contact.ended",
	    "{\"id\":\"ct_0\",\"last_update_timestamp\":\"2026-11-30T12:00:00Z\"}");
	deliver_all_ok(&b); /* makes the table */
	batch_free(&b);
	exec_ok(f->db, "ALTER TABLE bulwark_contact_records ADD CONSTRAINT no_poison"
		       " CHECK (disconnect_reason IS DISTINCT FROM 'POISON')");

	add(&b, f, "contact.ended",
	    "{\"id\":\"ct_1\",\"last_update_timestamp\":\"2026-11-30T12:00:00Z\"}");
	add(&b, f, "contact.ended",
	    "{\"id\":\"ct_2\",\"disconnect_reason\":\"POISON\","
	    "\"last_update_timestamp\":\"2026-11-30T12:00:00Z\"}");
	add(&b, f, "contact.ended",
	    "{\"id\":\"ct_3\",\"last_update_timestamp\":\"2026-11-30T12:00:00Z\"}");
	bw_sink_pg_deliver(b.ev, b.n);
	for (size_t i = 0; i < b.n; i++) {
		assert_false(b.ev[i].ok);
		assert_string_equal(b.ev[i].error, "warehouse: upsert failed (SQLSTATE 23514)");
		assert_not_contains(b.ev[i].error, "POISON");
	}
	assert_int_equal(rows(f), 1);

	/* The connection is still good for the next batch. */
	b.n = 1;
	deliver_all_ok(&b);
	assert_int_equal(rows(f), 2);
	b.n = 3;
	batch_free(&b);
}

static void test_server_down_fails_fast(void **state)
{
	FIXTURE(f);
	struct batch b = {0};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	char ci[160];

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(ci, sizeof(ci), "host=127.0.0.1 port=%d dbname=x user=u password=s3cretpw",
		 ntohs(sa.sin_port));
	assert_int_equal(bw_sink_pg_start(ci), BW_OK);
	add(&b, f, "contact.ended",
	    "{\"id\":\"ct_1\",\"last_update_timestamp\":\"2026-11-30T12:00:00Z\"}");
	double t0 = bw_now_mono();
	bw_sink_pg_deliver(b.ev, b.n);
	assert_true(bw_now_mono() - t0 < 5.0);
	assert_false(b.ev[0].ok);
	assert_string_equal(b.ev[0].error, "warehouse: connection refused");
	batch_free(&b);
	close(fd);
}

static void test_dropped_connection_made_again(void **state)
{
	FIXTURE(f);
	struct batch b = {0};

	assert_int_equal(bw_sink_pg_start(f->conninfo), BW_OK);
	add(&b, f, "contact.ended",
	    "{\"id\":\"ct_1\",\"last_update_timestamp\":\"2026-11-30T12:00:00Z\"}");
	deliver_all_ok(&b);
	batch_free(&b);
	/* The server ends the sink's session (as a restart would). */
	char sql[200];
	snprintf(sql, sizeof(sql),
		 "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
		 " WHERE application_name = '%s'",
		 f->schema);
	exec_ok(f->db, sql);
	add(&b, f, "contact.ended",
	    "{\"id\":\"ct_2\",\"last_update_timestamp\":\"2026-11-30T12:00:00Z\"}");
	deliver_all_ok(&b);
	assert_int_equal(rows(f), 2);
	batch_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_full_and_projected_records, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_newest_wins, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_events_fail_alone, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failed_transaction_fails_all, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_server_down_fails_fast, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dropped_connection_made_again, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
