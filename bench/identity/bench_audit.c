/* Audit appends per second through the writer thread (hash chain, head MAC,
 * group commit), against raw SQLite inserts of rows of the same shape batched
 * in transactions of the same size, measured side by side in one run.
 *   bench_audit DIR [THREADS] [EVENTS_PER_THREAD]                           */
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "sec/audit.h"
#include "store/store.h"

static int per_thread = 2000;

static void fill(struct bw_audit_event *e, int i)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->chain, sizeof(e->chain), "in_bench%d", i % 4);
	bw_id_new(e->id, "ev_");
	snprintf(e->time, sizeof(e->time), "2026-11-28T00:00:00Z");
	snprintf(e->instance_id, sizeof(e->instance_id), "%s", e->chain);
	snprintf(e->principal_kind, sizeof(e->principal_kind), "user");
	snprintf(e->principal_id, sizeof(e->principal_id), "us_bench");
	snprintf(e->principal_name, sizeof(e->principal_name), "bench");
	snprintf(e->action, sizeof(e->action), "users.create");
	snprintf(e->resource, sizeof(e->resource), "/v1/instances/%s/users", e->chain);
	snprintf(e->source_ip, sizeof(e->source_ip), "127.0.0.1");
	snprintf(e->user_agent, sizeof(e->user_agent), "bench");
	snprintf(e->result, sizeof(e->result), "allowed");
	e->status = 201;
	snprintf(e->request_id, sizeof(e->request_id), "req%d", i);
}

static void *appender(void *arg)
{
	int base = (int)(intptr_t)arg;
	struct bw_audit_event e;
	for (int i = 0; i < per_thread; i++) {
		fill(&e, base + i);
		if (bw_audit_append(&e) != BW_OK) {
			fprintf(stderr, "append failed\n");
			exit(1);
		}
	}
	return NULL;
}

static double run_audit(const char *db, int threads)
{
	struct bw_store *s;
	int v;
	uint8_t root[32];
	randombytes_buf(root, sizeof(root));
	if (bw_store_open(&s, db, BW_DURABILITY_NORMAL) != BW_OK || bw_store_migrate(s, &v) != BW_OK)
		exit(1);
	bw_store_close(s);
	if (bw_audit_start(db, 0, root) != BW_OK)
		exit(1);
	pthread_t t[64];
	double t0 = bw_now_mono();
	for (int i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, appender, (void *)(intptr_t)(i * per_thread));
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	double dt = bw_now_mono() - t0;
	bw_audit_stop();
	return threads * per_thread / dt;
}

/* The reference: the same rows, no hashing, one thread, batches of 512. */
static double run_raw(const char *db, int total)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	if (sqlite3_open(db, &h) != SQLITE_OK)
		exit(1);
	sqlite3_exec(h, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
	                "CREATE TABLE ev(chain TEXT, seq INTEGER, id TEXT, time TEXT, instance_id TEXT,"
	                " pk TEXT, pid TEXT, pname TEXT, action TEXT, resource TEXT, ip TEXT, ua TEXT,"
	                " result TEXT, status INTEGER, code TEXT, rid TEXT, prev BLOB, hash BLOB,"
	                " PRIMARY KEY(chain, seq))",
	             NULL, NULL, NULL);
	sqlite3_prepare_v2(h, "INSERT INTO ev VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", -1, &st,
	                   NULL);
	struct bw_audit_event e;
	uint8_t zero[32] = {0};
	double t0 = bw_now_mono();
	for (int i = 0; i < total; i++) {
		if (i % 512 == 0)
			sqlite3_exec(h, "BEGIN", NULL, NULL, NULL);
		fill(&e, i);
		sqlite3_bind_text(st, 1, e.chain, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, i);
		sqlite3_bind_text(st, 3, e.id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, e.time, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, e.instance_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, e.principal_kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, e.principal_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 8, e.principal_name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 9, e.action, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 10, e.resource, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 11, e.source_ip, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 12, e.user_agent, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 13, e.result, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 14, e.status);
		sqlite3_bind_null(st, 15);
		sqlite3_bind_text(st, 16, e.request_id, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 17, zero, 32, SQLITE_STATIC);
		sqlite3_bind_blob(st, 18, zero, 32, SQLITE_STATIC);
		sqlite3_step(st);
		sqlite3_reset(st);
		if (i % 512 == 511 || i == total - 1)
			sqlite3_exec(h, "COMMIT", NULL, NULL, NULL);
	}
	double dt = bw_now_mono() - t0;
	sqlite3_finalize(st);
	sqlite3_close(h);
	return total / dt;
}

int main(int argc, char **argv)
{
	if (argc < 2 || sodium_init() < 0) {
		fprintf(stderr, "usage: bench_audit DIR [THREADS] [EVENTS_PER_THREAD]\n");
		return 2;
	}
	int threads = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 16;
	if (threads < 1 || threads > 64)
		threads = 16;
	if (argc > 3)
		per_thread = (int)strtol(argv[3], NULL, 10);
	char a[4096], b[4096];
	snprintf(a, sizeof(a), "%s/audit.db", argv[1]);
	snprintf(b, sizeof(b), "%s/raw.db", argv[1]);
	double audit = run_audit(a, threads);
	double raw = run_raw(b, threads * per_thread);
	printf("audit appends: bulwark %.0f/s (%d threads waiting on group commit, hash chain + head MAC), "
	       "raw SQLite batched inserts %.0f/s, ratio %.2f\n",
	       audit, threads, raw, audit / raw);
	return 0;
}
