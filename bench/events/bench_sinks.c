/* Event sinks (C19) in process, against real servers (bench/events/run.sh
 * starts them): deliveries per second through bw_sink_nats_deliver and
 * bw_sink_pg_deliver, each against the plainest client doing the same
 * work in the same run, rounds interleaved so that a change of load on the
 * machine touches both sides alike.
 *
 *   NATS:      the sink (batches of B envelopes of ~1.5 KB: subject, header,
 *              asynchronous publish, every acknowledgement awaited) against
 *              js_PublishAsync of the same bytes and js_PublishAsyncComplete
 *              per batch, without and with a Nats-Msg-Id header.
 *   warehouse: the sink (envelope parsed, one pipelined transaction per
 *              batch) against PQexecParams of the same upsert with
 *              ready-made parameters, one round trip per row, BEGIN/COMMIT
 *              per batch.
 *
 *   bench_sinks NATS_URL PG_URL [ROUNDS [BATCHES_PER_ROUND [BATCH]]] */
#include <libpq-fe.h>
#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "core/ids.h"
#include "events/sink.h"

#define BODY_MAX 2048

struct set {
	size_t n;
	struct bw_event_out *ev;
	char (*ids)[48];
	char (*cids)[48];
	char (*luts)[40];
	char (*bodies)[BODY_MAX];
};

static char iid_sink[BW_ID_LEN], iid_raw[BW_ID_LEN], iid_hdr[BW_ID_LEN], sub[BW_ID_LEN];
static unsigned long long counter;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* This process's CPU seconds, all threads (libnats' included). */
static double cpu(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_sinks: %s\n", what);
	exit(2);
}

/* A contact.ended envelope as the dispatcher writes it: a full record
 * (customer endpoint, queue, agent, attributes), about 1.5 KB. */
static void fill(struct set *s, const char *iid)
{
	for (size_t i = 0; i < s->n; i++) {
		unsigned long long k = ++counter;
		long long t = 1796040000000LL + (long long)k * 1000;
		char init[40], lut[40], enq[40], conn[40], disc[40];
		bw_time_rfc3339_ms(t - 600000, init, sizeof(init));
		bw_time_rfc3339_ms(t - 590000, enq, sizeof(enq));
		bw_time_rfc3339_ms(t - 500000, conn, sizeof(conn));
		bw_time_rfc3339_ms(t - 1000, disc, sizeof(disc));
		bw_time_rfc3339_ms(t, lut, sizeof(lut));
		snprintf(s->ids[i], sizeof(s->ids[i]), "et_bench%012llu", k);
		snprintf(s->cids[i], sizeof(s->cids[i]), "ct_bench%012llu", k);
		snprintf(s->luts[i], sizeof(s->luts[i]), "%s", lut);
		int len = snprintf(
		    s->bodies[i], BODY_MAX,
		    "{\"id\":\"%s\",\"type\":\"contact.ended\",\"time\":\"%s\","
		    "\"instance_id\":\"%s\",\"subscription_id\":\"%s\","
		    "\"dedup_key\":\"%s/%lld\",\"data\":{\"id\":\"%s\",\"instance_id\":\"%s\","
		    "\"channel\":\"CHAT\",\"initiation_method\":\"API\",\"state\":\"ENDED\","
		    "\"initiation_timestamp\":\"%s\",\"entry_point_id\":\"ep_Q2h4bmVsRW50cnlQb2ludA\","
		    "\"flow_id\":\"fl_U3VwcG9ydEZsb3dWZXJzaW9u\",\"flow_version\":3,"
		    "\"customer_endpoint\":{\"type\":\"CHAT\",\"display_name\":\"Ada Lovelace\","
		    "\"email\":\"ada.lovelace@example.com\",\"address\":\"203.0.113.9\","
		    "\"source_address\":\"203.0.113.9\"},"
		    "\"queue\":{\"id\":\"qu_U2FsZXNFTUVBUXVldWU\",\"enqueue_timestamp\":\"%s\","
		    "\"dequeue_timestamp\":\"%s\"},"
		    "\"agent\":{\"id\":\"us_QWdlbnRHcmFjZUhvcHBlcg\",\"connected_timestamp\":\"%s\","
		    "\"hierarchy_group\":\"Sales/EMEA/Team1\"},"
		    "\"attributes\":{\"callback_number\":\"+33612345678\",\"order_id\":\"A-2026-118842\","
		    "\"language\":\"fr\",\"segment\":\"gold\",\"topic\":\"billing\","
		    "\"note\":\"Customer asked about the November invoice and a refund for a "
		    "duplicate charge; agent confirmed the refund and sent the reference by "
		    "e-mail. Follow-up not needed.\"},"
		    "\"disconnect_reason\":\"CUSTOMER_DISCONNECT\",\"disconnect_timestamp\":\"%s\","
		    "\"after_contact_work_end_timestamp\":\"%s\",\"last_update_timestamp\":\"%s\","
		    "\"tags\":{\"campaign\":\"winter-2026\",\"region\":\"emea\"}}}",
		    s->ids[i], lut, iid, sub, s->cids[i], t, s->cids[i], iid, init, enq, conn, conn,
		    disc, lut, lut);
		if (len <= 0 || len >= BODY_MAX)
			die("envelope too long");
		s->ev[i] = (struct bw_event_out){
		    .outbox_id = (long long)k,
		    .instance_id = iid,
		    .subscription_id = sub,
		    .type = "contact.ended",
		    .event_id = s->ids[i],
		    .body = s->bodies[i],
		    .body_len = (size_t)len,
		};
	}
}

static void set_alloc(struct set *s, size_t n)
{
	s->n = n;
	s->ev = calloc(n, sizeof(*s->ev));
	s->ids = calloc(n, sizeof(*s->ids));
	s->cids = calloc(n, sizeof(*s->cids));
	s->luts = calloc(n, sizeof(*s->luts));
	s->bodies = calloc(n, sizeof(*s->bodies));
	if (!s->ev || !s->ids || !s->cids || !s->luts || !s->bodies)
		die("out of memory");
}

static void set_free(struct set *s)
{
	free(s->ev);
	free(s->ids);
	free(s->cids);
	free(s->luts);
	free(s->bodies);
}

static void all_ok(const struct set *s, const char *what)
{
	for (size_t i = 0; i < s->n; i++)
		if (!s->ev[i].ok) {
			fprintf(stderr, "bench_sinks: %s: event %zu: %s\n", what, i, s->ev[i].error);
			exit(2);
		}
}

/* ---- NATS ---- */

static double nats_sink(struct set *s, size_t batch)
{
	double t0 = now();
	for (size_t i = 0; i < s->n; i += batch)
		bw_sink_nats_deliver(s->ev + i, s->n - i < batch ? s->n - i : batch);
	double dt = now() - t0;
	all_ok(s, "nats sink");
	return (double)s->n / dt;
}

static double nats_raw(jsCtx *js, struct set *s, size_t batch, bool msgid)
{
	char subj[128];
	jsPubOptions po;
	jsPubOptions_Init(&po);
	po.MaxWait = 10000;
	double t0 = now();
	for (size_t i = 0; i < s->n; i += batch) {
		size_t end = s->n - i < batch ? s->n : i + batch;
		for (size_t k = i; k < end; k++) {
			snprintf(subj, sizeof(subj), "bulwark.%s.%s", s->ev[k].instance_id,
				 s->ev[k].type);
			natsStatus st;
			if (msgid) {
				char id[100];
				natsMsg *m = NULL;
				snprintf(id, sizeof(id), "%s/%s", s->ev[k].subscription_id,
					 s->ev[k].event_id);
				st = natsMsg_Create(&m, subj, NULL, s->ev[k].body,
						    (int)s->ev[k].body_len);
				if (st == NATS_OK)
					st = natsMsgHeader_Set(m, "Nats-Msg-Id", id);
				if (st == NATS_OK)
					st = js_PublishMsgAsync(js, &m, NULL);
				natsMsg_Destroy(m);
			} else {
				st = js_PublishAsync(js, subj, s->ev[k].body, (int)s->ev[k].body_len,
						     NULL);
			}
			if (st != NATS_OK)
				die("js_PublishAsync");
		}
		if (js_PublishAsyncComplete(js, &po) != NATS_OK)
			die("js_PublishAsyncComplete");
	}
	return (double)s->n / (now() - t0);
}

static void ensure_stream(jsCtx *js, const char *iid)
{
	char name[80], subj[80];
	const char *subjects[1] = {subj};
	jsStreamConfig cfg;
	jsStreamInfo *si = NULL;
	jsErrCode je = 0;
	snprintf(name, sizeof(name), "BULWARK_%s", iid);
	snprintf(subj, sizeof(subj), "bulwark.%s.>", iid);
	jsStreamConfig_Init(&cfg);
	cfg.Name = name;
	cfg.Subjects = subjects;
	cfg.SubjectsLen = 1;
	cfg.Storage = js_FileStorage;
	if (js_AddStream(&si, js, &cfg, NULL, &je) != NATS_OK)
		die("js_AddStream");
	jsStreamInfo_Destroy(si);
}

/* ---- PostgreSQL ---- */

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

static void pg_exec(PGconn *db, const char *sql)
{
	PGresult *r = PQexec(db, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		fprintf(stderr, "bench_sinks: %s: %s", sql, PQerrorMessage(db));
		exit(2);
	}
	PQclear(r);
}

static double pg_sink(struct set *s, size_t batch)
{
	double t0 = now();
	for (size_t i = 0; i < s->n; i += batch)
		bw_sink_pg_deliver(s->ev + i, s->n - i < batch ? s->n - i : batch);
	double dt = now() - t0;
	all_ok(s, "warehouse sink");
	return (double)s->n / dt;
}

/* The record's columns, taken out before the clock starts: the reference
 * pays no JSON parsing. */
static double pg_raw(PGconn *db, struct set *s, size_t batch)
{
	const char *rec = "{}";
	double t0 = now();
	for (size_t i = 0; i < s->n; i += batch) {
		size_t end = s->n - i < batch ? s->n : i + batch;
		pg_exec(db, "BEGIN");
		for (size_t k = i; k < end; k++) {
			const char *data = strstr(s->ev[k].body, "\"data\":");
			rec = data ? data + 7 : "{}";
			/* the body ends with "}}": the data object is all but the last '}' */
			char *record = strndup(rec, strlen(rec) - 1);
			const char *p[11] = {s->ev[k].instance_id, s->cids[k], s->luts[k], "CHAT",
					     "qu_U2FsZXNFTUVBUXVldWU", "us_QWdlbnRHcmFjZUhvcHBlcg",
					     s->luts[k], s->luts[k], "CUSTOMER_DISCONNECT",
					     s->ev[k].event_id, record};
			PGresult *r = PQexecParams(db, upsert_sql, 11, NULL, p, NULL, NULL, 0);
			if (PQresultStatus(r) != PGRES_COMMAND_OK) {
				fprintf(stderr, "bench_sinks: raw upsert: %s", PQerrorMessage(db));
				exit(2);
			}
			PQclear(r);
			free(record);
		}
		pg_exec(db, "COMMIT");
	}
	return (double)s->n / (now() - t0);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		die("usage: bench_sinks NATS_URL PG_URL [ROUNDS [BATCHES [BATCH]]]");
	int rounds = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 5;
	size_t batches = argc > 4 ? (size_t)strtoul(argv[4], NULL, 10) : 40;
	size_t batch = argc > 5 ? (size_t)strtoul(argv[5], NULL, 10) : 256;
	if (rounds < 1 || rounds > 100 || batches < 1 || batch < 1)
		die("bad numbers");
	size_t n = batches * batch;
	char schema[32], pgci[1024];
	struct set s;
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	double ns[100], nr[100], nh[100], nratio[100], nhratio[100];
	double ps[100], pr[100], pratio[100];
	double nsc[100], nrc[100], nhc[100], psc[100], prc[100]; /* client CPU us/event */

	bw_id_new(iid_sink, "in_");
	bw_id_new(iid_raw, "in_");
	bw_id_new(iid_hdr, "in_");
	bw_id_new(sub, "es_");
	set_alloc(&s, n);

	/* NATS: the reference's streams made beforehand, as the sink's is
	 * made by its first batch (a warm-up one). */
	if (natsConnection_ConnectTo(&nc, argv[1]) != NATS_OK ||
	    natsConnection_JetStream(&js, nc, NULL) != NATS_OK)
		die("cannot connect to NATS");
	ensure_stream(js, iid_raw);
	ensure_stream(js, iid_hdr);
	if (bw_sink_nats_start(argv[1]) != BW_OK)
		die("bw_sink_nats_start");
	fill(&s, iid_sink);
	nats_sink(&s, batch);

	/* PostgreSQL: a schema of the run's own. */
	snprintf(schema, sizeof(schema), "bench_%llu", (unsigned long long)time(NULL));
	PGconn *db = PQconnectdb(argv[2]);
	if (PQstatus(db) != CONNECTION_OK)
		die("cannot connect to PostgreSQL");
	char sql[200];
	snprintf(sql, sizeof(sql), "CREATE SCHEMA %s", schema);
	pg_exec(db, sql);
	snprintf(sql, sizeof(sql), "SET search_path = %s", schema);
	pg_exec(db, sql);
	snprintf(pgci, sizeof(pgci), "%s%soptions=-csearch_path%%3D%s", argv[2],
		 strchr(argv[2], '?') ? "&" : "?", schema);
	if (bw_sink_pg_start(pgci) != BW_OK)
		die("bw_sink_pg_start");
	set_alloc(&s, batch);
	fill(&s, iid_sink);
	pg_sink(&s, batch); /* makes the table */
	set_free(&s);
	set_alloc(&s, n);

	for (int r = 0; r < rounds; r++) {
		double c0;
		fill(&s, iid_sink);
		if (r == 0)
			printf("envelopes of %zu bytes, batches of %zu, %zu events per side per "
			       "round, %d rounds\n",
			       s.ev[0].body_len, batch, n, rounds);
		c0 = cpu();
		ns[r] = nats_sink(&s, batch);
		nsc[r] = (cpu() - c0) * 1e6 / (double)n;
		fill(&s, iid_raw);
		c0 = cpu();
		nr[r] = nats_raw(js, &s, batch, false);
		nrc[r] = (cpu() - c0) * 1e6 / (double)n;
		fill(&s, iid_hdr);
		c0 = cpu();
		nh[r] = nats_raw(js, &s, batch, true);
		nhc[r] = (cpu() - c0) * 1e6 / (double)n;
		nratio[r] = ns[r] / nr[r];
		nhratio[r] = ns[r] / nh[r];
		fill(&s, iid_sink);
		c0 = cpu();
		ps[r] = pg_sink(&s, batch);
		psc[r] = (cpu() - c0) * 1e6 / (double)n;
		fill(&s, iid_raw);
		c0 = cpu();
		pr[r] = pg_raw(db, &s, batch);
		prc[r] = (cpu() - c0) * 1e6 / (double)n;
		pratio[r] = ps[r] / pr[r];
		printf("round %d: nats sink %.0f/s, raw %.0f/s, raw+msgid %.0f/s (ratio %.2f, %.2f);"
		       " warehouse sink %.0f/s, raw %.0f/s (ratio %.2f)\n",
		       r + 1, ns[r], nr[r], nh[r], nratio[r], nhratio[r], ps[r], pr[r], pratio[r]);
		fflush(stdout);
	}
	printf("nats: sink %.0f deliveries/s, js_PublishAsync %.0f/s, with Nats-Msg-Id %.0f/s;"
	       " ratio sink/raw %.2f, sink/raw+msgid %.2f (medians of %d rounds)\n",
	       median(ns, rounds), median(nr, rounds), median(nh, rounds), median(nratio, rounds),
	       median(nhratio, rounds), rounds);
	printf("warehouse: sink %.0f records/s, PQexecParams %.0f/s; ratio %.2f (medians of %d "
	       "rounds)\n",
	       median(ps, rounds), median(pr, rounds), median(pratio, rounds), rounds);
	printf("client CPU per event (us, medians): nats sink %.2f, raw %.2f, raw+msgid %.2f;"
	       " warehouse sink %.2f, raw %.2f\n",
	       median(nsc, rounds), median(nrc, rounds), median(nhc, rounds), median(psc, rounds),
	       median(prc, rounds));

	bw_sink_pg_stop();
	snprintf(sql, sizeof(sql), "DROP SCHEMA %s CASCADE", schema);
	pg_exec(db, sql);
	PQfinish(db);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	bw_sink_nats_stop(); /* closes libnats: last */
	set_free(&s);
	return 0;
}
