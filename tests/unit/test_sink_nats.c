/* The NATS JetStream sink (src/events/sink_nats.c) against a real
 * nats-server: the one of scripts/test-servers.sh (BULWARK_TEST_NATS_URL;
 * `make test` always starts it; without it these tests are skipped), and
 * for the loss-and-return case one of this test's own
 * (BULWARK_TEST_NATS_SERVER) that it kills and starts again on the same
 * port and store. What the stream holds is read back with libnats: the
 * subject, the Nats-Msg-Id header and the bytes of every event; a repeat
 * is stored once; a deleted stream is made again; a bad event fails alone;
 * a server that is down fails the batch in bounded time. */
#include "test_common.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <nats/nats.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/ids.h"
#include "events/sink.h"

#define MAXEV 600

struct batch {
	struct bw_event_out ev[MAXEV];
	char iid[BW_ID_LEN], sub[BW_ID_LEN];
	char ids[MAXEV][BW_ID_LEN];
	char bodies[MAXEV][2048];
	size_t n;
};

static const char *env_url(void)
{
	const char *u = getenv("BULWARK_TEST_NATS_URL");
	return u && *u ? u : NULL;
}

#define NEED_SERVER()                                                                              \
	do {                                                                                       \
		if (!env_url()) {                                                                  \
			print_message("BULWARK_TEST_NATS_URL unset (scripts/test-servers.sh): "    \
				      "skipped\n");                                                \
			skip();                                                                    \
		}                                                                                  \
	} while (0)

/* n events of iid (a new instance when iid is NULL), ~1 KB bodies. */
static void make_batch(struct batch *b, const char *iid, size_t n, const char *type)
{
	char keep[BW_ID_LEN];
	if (iid)
		snprintf(keep, sizeof(keep), "%s", iid); /* iid may be b->iid */
	memset(b, 0, sizeof(*b));
	if (iid)
		snprintf(b->iid, sizeof(b->iid), "%s", keep);
	else
		bw_id_new(b->iid, "in_");
	bw_id_new(b->sub, "es_");
	b->n = n;
	for (size_t i = 0; i < n; i++) {
		bw_id_new(b->ids[i], "et_");
		int len = snprintf(b->bodies[i], sizeof(b->bodies[i]),
				   "{\"id\":\"%s\",\"type\":\"%s\",\"instance_id\":\"%s\","
				   "\"subscription_id\":\"%s\",\"data\":{\"id\":\"ct_%zu\","
				   "\"pad\":\"%0900d\"}}",
				   b->ids[i], type, b->iid, b->sub, i, 0);
		b->ev[i] = (struct bw_event_out){
			.outbox_id = (long long)i + 1,
			.instance_id = b->iid,
			.subscription_id = b->sub,
			.type = type,
			.event_id = b->ids[i],
			.body = b->bodies[i],
			.body_len = (size_t)len,
		};
	}
}

static size_t count_ok(const struct batch *b)
{
	size_t k = 0;
	for (size_t i = 0; i < b->n; i++)
		k += b->ev[i].ok;
	return k;
}

/* ---- reading the stream back ---- */

struct reader {
	natsConnection *nc;
	jsCtx *js;
};

static void reader_open(struct reader *r, const char *url)
{
	assert_int_equal(natsConnection_ConnectTo(&r->nc, url), NATS_OK);
	assert_int_equal(natsConnection_JetStream(&r->js, r->nc, NULL), NATS_OK);
}

static void reader_close(struct reader *r)
{
	jsCtx_Destroy(r->js);
	natsConnection_Destroy(r->nc);
	memset(r, 0, sizeof(*r));
}

static uint64_t stream_msgs(struct reader *r, const char *iid)
{
	char name[80];
	jsStreamInfo *si = NULL;
	jsErrCode je = 0;
	snprintf(name, sizeof(name), "BULWARK_%s", iid);
	assert_int_equal(js_GetStreamInfo(&si, r->js, name, NULL, &je), NATS_OK);
	assert_int_equal(si->Config->Storage, js_FileStorage);
	assert_int_equal(si->Config->SubjectsLen, 1);
	char want[80];
	snprintf(want, sizeof(want), "bulwark.%s.>", iid);
	assert_string_equal(si->Config->Subjects[0], want);
	uint64_t n = si->State.Msgs;
	jsStreamInfo_Destroy(si);
	return n;
}

/* Every event of b is in the stream once, in order from seq first. */
static void check_stored(struct reader *r, const struct batch *b, uint64_t first)
{
	char name[80], subj[160], id[100];
	snprintf(name, sizeof(name), "BULWARK_%s", b->iid);
	for (size_t i = 0; i < b->n; i++) {
		natsMsg *m = NULL;
		const char *hv = NULL;
		jsErrCode je = 0;
		assert_int_equal(js_GetMsg(&m, r->js, name, first + i, NULL, &je), NATS_OK);
		snprintf(subj, sizeof(subj), "bulwark.%s.%s", b->iid, b->ev[i].type);
		assert_string_equal(natsMsg_GetSubject(m), subj);
		assert_int_equal(natsMsgHeader_Get(m, "Nats-Msg-Id", &hv), NATS_OK);
		snprintf(id, sizeof(id), "%s/%s", b->sub, b->ids[i]);
		assert_string_equal(hv, id);
		assert_int_equal((size_t)natsMsg_GetDataLength(m), b->ev[i].body_len);
		assert_memory_equal(natsMsg_GetData(m), b->ev[i].body, b->ev[i].body_len);
		natsMsg_Destroy(m);
	}
}

/* ---- tests ---- */

static void test_batch_delivered_and_stored(void **state)
{
	(void)state;
	NEED_SERVER();
	static struct batch b, q;
	struct reader r;

	assert_int_equal(bw_sink_nats_start(env_url()), BW_OK);
	make_batch(&b, NULL, 300, "contact.ended");
	bw_sink_nats_deliver(b.ev, b.n);
	for (size_t i = 0; i < b.n; i++)
		if (!b.ev[i].ok)
			fail_msg("event %zu: %s", i, b.ev[i].error);
	/* Another type of the same instance: the same stream. */
	make_batch(&q, b.iid, 5, "contact.queued");
	bw_sink_nats_deliver(q.ev, q.n);
	assert_int_equal(count_ok(&q), q.n);

	reader_open(&r, env_url());
	assert_int_equal(stream_msgs(&r, b.iid), 305);
	check_stored(&r, &b, 1);
	check_stored(&r, &q, 301);
	reader_close(&r);
	bw_sink_nats_stop();
}

static void test_repeat_stored_once(void **state)
{
	(void)state;
	NEED_SERVER();
	static struct batch b;
	struct reader r;

	assert_int_equal(bw_sink_nats_start(env_url()), BW_OK);
	make_batch(&b, NULL, 20, "contact.ended");
	bw_sink_nats_deliver(b.ev, b.n);
	assert_int_equal(count_ok(&b), b.n);
	/* A retry (same subscription and event ids): acknowledged as a
	 * duplicate, not stored again. */
	bw_sink_nats_deliver(b.ev, b.n);
	assert_int_equal(count_ok(&b), b.n);
	/* And after a restart of the sink, whose first batch adds the
	 * stream that exists already. */
	bw_sink_nats_stop();
	assert_int_equal(bw_sink_nats_start(env_url()), BW_OK);
	bw_sink_nats_deliver(b.ev, b.n);
	assert_int_equal(count_ok(&b), b.n);
	reader_open(&r, env_url());
	assert_int_equal(stream_msgs(&r, b.iid), 20);
	reader_close(&r);
	bw_sink_nats_stop();
}

static void test_deleted_stream_made_again(void **state)
{
	(void)state;
	NEED_SERVER();
	static struct batch b, c;
	struct reader r;
	char name[80];
	jsErrCode je = 0;

	assert_int_equal(bw_sink_nats_start(env_url()), BW_OK);
	make_batch(&b, NULL, 10, "contact.ended");
	bw_sink_nats_deliver(b.ev, b.n);
	assert_int_equal(count_ok(&b), b.n);

	reader_open(&r, env_url());
	snprintf(name, sizeof(name), "BULWARK_%s", b.iid);
	assert_int_equal(js_DeleteStream(r.js, name, NULL, &je), NATS_OK);
	/* The sink still believes the stream exists: the publish finds no
	 * responder, the stream is made again and the events sent again. */
	make_batch(&c, b.iid, 10, "contact.ended");
	bw_sink_nats_deliver(c.ev, c.n);
	for (size_t i = 0; i < c.n; i++)
		if (!c.ev[i].ok)
			fail_msg("event %zu: %s", i, c.ev[i].error);
	assert_int_equal(stream_msgs(&r, b.iid), 10);
	check_stored(&r, &c, 1);
	reader_close(&r);
	bw_sink_nats_stop();
}

static void test_bad_events_fail_alone(void **state)
{
	(void)state;
	NEED_SERVER();
	static struct batch b;

	assert_int_equal(bw_sink_nats_start(env_url()), BW_OK);
	make_batch(&b, NULL, 6, "contact.ended");
	b.ev[1].instance_id = "in_a.b";    /* would change the subject's shape */
	b.ev[2].type = "contact.>";        /* a wildcard */
	b.ev[3].event_id = "et_x\r\nX: y"; /* header injection */
	b.ev[4].type = "";
	bw_sink_nats_deliver(b.ev, b.n);
	assert_true(b.ev[0].ok);
	assert_true(b.ev[5].ok);
	for (size_t i = 1; i <= 4; i++) {
		assert_false(b.ev[i].ok);
		assert_string_equal(b.ev[i].error, "nats: bad instance, type or id");
	}
	bw_sink_nats_stop();
}

static void test_server_down_fails_fast(void **state)
{
	(void)state;
	static struct batch b;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	char url[64];

	/* A port nobody listens on: bound, never listening. */
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(url, sizeof(url), "nats://127.0.0.1:%d", ntohs(sa.sin_port));

	assert_int_equal(bw_sink_nats_start(url), BW_OK);
	make_batch(&b, NULL, 50, "contact.ended");
	double t0 = bw_now_mono();
	bw_sink_nats_deliver(b.ev, b.n);
	bw_sink_nats_deliver(b.ev, b.n); /* tries again, as fast */
	assert_true(bw_now_mono() - t0 < 5.0);
	for (size_t i = 0; i < b.n; i++) {
		assert_false(b.ev[i].ok);
		assert_string_equal(b.ev[i].error, "nats: no server available");
	}
	bw_sink_nats_stop();
	close(fd);
}

/* ---- a server of our own, killed and started again ---- */

struct own {
	pid_t pid;
	int port;
	char dir[64], log[96];
};

static void own_start(struct own *o)
{
	const char *bin = getenv("BULWARK_TEST_NATS_SERVER");
	char port[16], store[96];
	snprintf(port, sizeof(port), "%d", o->port ? o->port : -1);
	snprintf(store, sizeof(store), "%s/store", o->dir);
	snprintf(o->log, sizeof(o->log), "%s/log", o->dir);
	unlink(o->log);
	o->pid = fork();
	assert_true(o->pid >= 0);
	if (o->pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execl(bin, bin, "-js", "-a", "127.0.0.1", "-p", port, "-sd", store, "-l", o->log,
		      (char *)NULL);
		_exit(127);
	}
	/* Ready when the log says so (poll with a deadline). */
	double end = bw_now_mono() + 10;
	int got = 0;
	while (bw_now_mono() < end && !got) {
		char line[512];
		FILE *f = fopen(o->log, "r");
		bool ready = false;
		while (f && fgets(line, sizeof(line), f)) {
			const char *p = strstr(line, "Listening for client connections on ");
			if (p && (p = strrchr(p, ':')))
				got = (int)strtol(p + 1, NULL, 10);
			if (strstr(line, "Server is ready"))
				ready = true;
		}
		if (f)
			fclose(f);
		if (!ready)
			got = 0;
		if (!got) {
			struct timespec ts = {0, 20 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
	}
	assert_true(got > 0);
	if (o->port)
		assert_int_equal(got, o->port);
	o->port = got;
}

static void own_kill(struct own *o)
{
	int st;
	kill(o->pid, SIGKILL);
	waitpid(o->pid, &st, 0);
	o->pid = 0;
}

/* The test's own server, stopped and removed by the teardown even when an
 * assertion ended the test early. */
static struct own own;

static int own_teardown(void **state)
{
	char cmd[128];
	(void)state;
	bw_sink_nats_stop();
	if (own.pid > 0)
		own_kill(&own);
	if (own.dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", own.dir);
		if (system(cmd) != 0)
			return -1;
	}
	memset(&own, 0, sizeof(own));
	return 0;
}

static void test_server_lost_and_back(void **state)
{
	(void)state;
	static struct batch b;
	struct own *op = &own;
	char url[64];

	if (!getenv("BULWARK_TEST_NATS_SERVER")) {
		print_message("BULWARK_TEST_NATS_SERVER unset: skipped\n");
		skip();
	}
	snprintf(op->dir, sizeof(op->dir), "/tmp/bw-test-nats.XXXXXX");
	if (!mkdtemp(op->dir)) {
		op->dir[0] = '\0';
		fail_msg("mkdtemp");
	}
	own_start(op);
	snprintf(url, sizeof(url), "nats://127.0.0.1:%d", op->port);
	assert_int_equal(bw_sink_nats_start(url), BW_OK);
	make_batch(&b, NULL, 100, "contact.ended");
	bw_sink_nats_deliver(b.ev, b.n);
	assert_int_equal(count_ok(&b), b.n);

	/* Down: every batch fails, none waits long. */
	own_kill(op);
	double t0 = bw_now_mono();
	for (int i = 0; i < 3; i++) {
		make_batch(&b, b.iid, 100, "contact.ended");
		bw_sink_nats_deliver(b.ev, b.n);
		assert_int_equal(count_ok(&b), 0);
		assert_string_not_equal(b.ev[0].error, "");
	}
	assert_true(bw_now_mono() - t0 < 10.0);

	/* Back on the same port and store: libnats reconnects; delivered
	 * again within a few seconds (polled with a deadline). */
	own_start(op);
	double end = bw_now_mono() + 15;
	size_t ok = 0;
	make_batch(&b, b.iid, 100, "contact.ended");
	while (bw_now_mono() < end && ok < b.n) {
		bw_sink_nats_deliver(b.ev, b.n);
		ok = count_ok(&b);
		if (ok < b.n) {
			print_message("not yet: %s\n", b.ev[0].error);
			struct timespec ts = {0, 200 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
	}
	assert_int_equal(ok, b.n);
}

static void test_not_started(void **state)
{
	(void)state;
	static struct batch b;
	assert_int_equal(bw_sink_nats_start(""), BW_INVALID);
	make_batch(&b, NULL, 2, "contact.ended");
	bw_sink_nats_deliver(b.ev, b.n);
	assert_false(b.ev[0].ok);
	assert_string_equal(b.ev[0].error, "nats: not started");
	bw_sink_nats_stop();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_batch_delivered_and_stored),
	    cmocka_unit_test(test_repeat_stored_once),
	    cmocka_unit_test(test_deleted_stream_made_again),
	    cmocka_unit_test(test_bad_events_fail_alone),
	    cmocka_unit_test(test_server_down_fails_fast),
	    cmocka_unit_test_teardown(test_server_lost_and_back, own_teardown),
	    cmocka_unit_test(test_not_started),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
