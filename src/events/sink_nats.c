/* The NATS JetStream sink (C19, docs/api.md "Event subscriptions"; how it
 * works: docs/internals/events.md "Sinks"). One connection, made at the
 * first delivery; libnats reconnects it after a loss on its own threads.
 * A batch is published asynchronously (js_PublishMsgAsync, one round trip
 * for the whole batch instead of one per event) and each event is ok only
 * when the stream's acknowledgement for it came back. The acknowledgements
 * arrive on a libnats thread (on_ack): the batch table below is the only
 * thing it shares with the dispatcher's thread, under mu.
 *
 * Bounded waits: connecting 2 s; a stream's creation 2 s; the
 * acknowledgements of a batch 5 s, cut short when the connection drops;
 * while libnats is reconnecting, a batch fails at once instead of filling
 * its reconnect buffer. Neither the URL (it may hold credentials) nor an
 * event body is ever logged. */
#include <limits.h>
#include <nats/nats.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "core/log.h"
#include "events/sink.h"

#define CONNECT_TIMEOUT_MS 2000
#define JS_API_WAIT_MS 2000     /* stream creation */
#define ACK_WAIT_MS 5000        /* the acknowledgements of one batch */
#define ACK_SLICE_MS 100        /* how often the connection is looked at meanwhile */
#define RECONNECT_WAIT_MS 1000
#define PING_INTERVAL_MS 10000  /* two missed pings: a dead peer is seen in ~20 s */
#define CLOSE_WAIT_MS 5000      /* nats_CloseAndWait at stop */
#define MAX_ENSURED 4096        /* instances whose stream is known; then forgotten */
#define TOKEN_MAX 64
#define NO_RESPONDERS "nats: no responders" /* the stream is gone */

enum slot_state { SLOT_IDLE, SLOT_SENT, SLOT_OK, SLOT_FAILED };

struct slot {
	struct bw_event_out *ev;
	natsMsg *msg; /* while in flight: compared, never dereferenced by on_ack */
	enum slot_state state;
	natsStatus err;
	int jerr;
};

/* Dispatcher thread only (start, deliver, stop). */
static char *url;
static natsOptions *opts;
static natsConnection *nc;
static jsCtx *js;
static bool lib_used;   /* libnats was opened: stop closes it */
static char **ensured;  /* open addressing, MAX_ENSURED * 2 slots */
static size_t nensured;

/* Shared with on_ack, under mu. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct slot *table;
static size_t ntable, cursor;
static bool table_live;

/* ---- the instances whose stream exists ---- */

static size_t ens_cap(void)
{
	return MAX_ENSURED * 2;
}

static size_t ens_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (size_t)(h & (ens_cap() - 1));
}

static void ens_clear(void)
{
	if (!ensured)
		return;
	for (size_t i = 0; i < ens_cap(); i++) {
		free(ensured[i]);
		ensured[i] = NULL;
	}
	nensured = 0;
}

static size_t ens_find(const char *iid)
{
	size_t i = ens_hash(iid);
	while (ensured[i] && strcmp(ensured[i], iid) != 0)
		i = (i + 1) & (ens_cap() - 1);
	return i;
}

static bool ens_has(const char *iid)
{
	return ensured && ensured[ens_find(iid)] != NULL;
}

static void ens_add(const char *iid)
{
	if (!ensured && !(ensured = calloc(ens_cap(), sizeof(*ensured))))
		return; /* asked again next time */
	if (nensured >= MAX_ENSURED)
		ens_clear();
	size_t i = ens_find(iid);
	if (!ensured[i] && (ensured[i] = strdup(iid)))
		nensured++;
}

/* Removal in open addressing: take the entry out and put back the run
 * that follows it. */
static void ens_forget(const char *iid)
{
	if (!ensured)
		return;
	size_t i = ens_find(iid);
	if (!ensured[i])
		return;
	free(ensured[i]);
	ensured[i] = NULL;
	nensured--;
	for (size_t j = (i + 1) & (ens_cap() - 1); ensured[j]; j = (j + 1) & (ens_cap() - 1)) {
		char *s = ensured[j];
		ensured[j] = NULL;
		ensured[ens_find(s)] = s;
	}
}

/* ---- names ---- */

static bool token_ok(const char *s, bool dots)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > TOKEN_MAX || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || c == '_' || c == '-';
		if (!word && !(dots && c == '.' && s[i + 1] != '.'))
			return false;
	}
	return true;
}

/* Event and subscription ids go into a header value: printable ASCII. */
static bool id_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > TOKEN_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~' || s[i] == '/')
			return false;
	return true;
}

static void fail(struct bw_event_out *ev, const char *what)
{
	ev->ok = false;
	snprintf(ev->error, sizeof(ev->error), "nats: %s", what);
}

/* An error sentence from a status: short, lower case, no content. */
static void fail_status(struct bw_event_out *ev, natsStatus s, int jerr)
{
	switch (s) {
	case NATS_NO_SERVER:
		fail(ev, "no server available");
		break;
	case NATS_NO_RESPONDERS:
		snprintf(ev->error, sizeof(ev->error), "%s", NO_RESPONDERS);
		ev->ok = false;
		break;
	case NATS_TIMEOUT:
		fail(ev, "no acknowledgement in time");
		break;
	case NATS_CONNECTION_CLOSED:
	case NATS_CONNECTION_DISCONNECTED:
	case NATS_NOT_YET_CONNECTED:
		fail(ev, "not connected");
		break;
	case NATS_MAX_PAYLOAD:
		fail(ev, "event larger than the server's max_payload");
		break;
	default:
		if (jerr)
			snprintf(ev->error, sizeof(ev->error), "nats: JetStream error %d", jerr);
		else
			snprintf(ev->error, sizeof(ev->error), "nats: %s",
				 natsStatus_GetText(s));
		ev->ok = false;
	}
}

/* ---- the acknowledgements (a libnats thread) ---- */

static bool stream_is(const char *stream, const char *iid)
{
	return stream && strncmp(stream, "BULWARK_", 8) == 0 && strcmp(stream + 8, iid) == 0;
}

static void on_ack(jsCtx *j, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
	(void)j;
	(void)closure;
	pthread_mutex_lock(&mu);
	if (table_live) {
		/* Acknowledgements come back mostly in order: look at the
		 * cursor first. A destroyed message's address may be reused by
		 * the next one, so a matched slot lets go of its pointer. */
		size_t i = cursor < ntable && table[cursor].msg == msg ? cursor : ntable;
		for (size_t k = 0; i == ntable && k < ntable; k++)
			if (table[k].msg == msg)
				i = k;
		if (i < ntable && table[i].state == SLOT_SENT) {
			struct slot *sl = &table[i];
			sl->msg = NULL;
			if (pa && stream_is(pa->Stream, sl->ev->instance_id)) {
				sl->state = SLOT_OK;
			} else {
				sl->state = SLOT_FAILED;
				sl->err = pae ? pae->Err : NATS_ERR;
				sl->jerr = pae ? (int)pae->ErrCode : 0;
			}
			cursor = i + 1;
		}
	}
	pthread_mutex_unlock(&mu);
	natsMsg_Destroy(msg);
}

/* ---- connection ---- */

static void on_disconnected(natsConnection *c, void *closure)
{
	(void)closure;
	if (natsConnection_IsClosed(c))
		return; /* our own stop */
	bw_log(BW_LOG_WARN, "nats sink: disconnected; reconnecting");
}

static void on_reconnected(natsConnection *c, void *closure)
{
	(void)c;
	(void)closure;
	bw_log(BW_LOG_INFO, "nats sink: reconnected");
}

static void drop_connection(void)
{
	jsCtx_Destroy(js);
	js = NULL;
	natsConnection_Destroy(nc);
	nc = NULL;
	ens_clear(); /* a new server may have lost the streams */
}

static natsStatus make_options(void)
{
	natsStatus s = natsOptions_Create(&opts);
	lib_used = true;
	if (s == NATS_OK)
		s = natsOptions_SetURL(opts, url);
	if (s == NATS_OK)
		s = natsOptions_SetName(opts, "bulwark");
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(opts, CONNECT_TIMEOUT_MS);
	if (s == NATS_OK)
		s = natsOptions_SetAllowReconnect(opts, true);
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(opts, -1);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectWait(opts, RECONNECT_WAIT_MS);
	if (s == NATS_OK)
		s = natsOptions_SetPingInterval(opts, PING_INTERVAL_MS);
	if (s == NATS_OK)
		s = natsOptions_SetMaxPingsOut(opts, 2);
	if (s == NATS_OK)
		s = natsOptions_SetDisconnectedCB(opts, on_disconnected, NULL);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectedCB(opts, on_reconnected, NULL);
	if (s != NATS_OK) {
		natsOptions_Destroy(opts);
		opts = NULL;
	}
	return s;
}

/* NATS_OK with a connected nc and js, or why not. */
static natsStatus connection(void)
{
	natsStatus s = NATS_OK;
	if (nc && natsConnection_IsClosed(nc))
		drop_connection();
	if (!nc) {
		jsOptions jo;
		if (!opts && (s = make_options()) != NATS_OK)
			return s;
		s = natsConnection_Connect(&nc, opts);
		if (s == NATS_OK)
			s = jsOptions_Init(&jo);
		if (s == NATS_OK) {
			jo.Wait = JS_API_WAIT_MS;
			jo.PublishAsync.AckHandler = on_ack;
			s = natsConnection_JetStream(&js, nc, &jo);
		}
		if (s != NATS_OK) {
			drop_connection();
			return s;
		}
		bw_log(BW_LOG_INFO, "nats sink: connected");
	}
	if (natsConnection_Status(nc) != NATS_CONN_STATUS_CONNECTED)
		return NATS_CONNECTION_DISCONNECTED;
	return NATS_OK;
}

/* The instance's stream, made when missing (file storage, the default
 * two-minute duplicate window). Adding a stream that exists with the same
 * settings is ok; with other settings (an operator's), JetStream answers
 * "name in use" and we publish into it as it is. */
static natsStatus ensure_stream(const char *iid, int *jerr)
{
	char name[16 + TOKEN_MAX], subj[16 + TOKEN_MAX];
	const char *subjects[1] = {subj};
	jsStreamConfig cfg;
	jsStreamInfo *si = NULL;
	jsErrCode je = 0;

	*jerr = 0;
	if (ens_has(iid))
		return NATS_OK;
	snprintf(name, sizeof(name), "BULWARK_%s", iid);
	snprintf(subj, sizeof(subj), "bulwark.%s.>", iid);
	natsStatus s = jsStreamConfig_Init(&cfg);
	if (s != NATS_OK)
		return s;
	cfg.Name = name;
	cfg.Subjects = subjects;
	cfg.SubjectsLen = 1;
	cfg.Storage = js_FileStorage;
	s = js_AddStream(&si, js, &cfg, NULL, &je);
	jsStreamInfo_Destroy(si);
	if (s != NATS_OK && je == JSStreamNameExistErr)
		s = NATS_OK;
	if (s == NATS_OK)
		ens_add(iid);
	*jerr = (int)je;
	return s;
}

/* ---- one round of publishing ---- */

static natsStatus build_msg(natsMsg **out, const struct bw_event_out *ev)
{
	char subj[32 + 2 * TOKEN_MAX], id[2 + 2 * TOKEN_MAX];
	snprintf(subj, sizeof(subj), "bulwark.%s.%s", ev->instance_id, ev->type);
	snprintf(id, sizeof(id), "%s/%s", ev->subscription_id, ev->event_id);
	natsStatus s = natsMsg_Create(out, subj, NULL, ev->body, (int)ev->body_len);
	if (s == NATS_OK && (s = natsMsgHeader_Set(*out, "Nats-Msg-Id", id)) != NATS_OK) {
		natsMsg_Destroy(*out);
		*out = NULL;
	}
	return s;
}

/* Waits for the acknowledgements, at most ACK_WAIT_MS and no longer than
 * the connection stays up; what is still pending then is taken back. */
static void await_acks(void)
{
	jsPubOptions po;
	double deadline = bw_now_mono() + ACK_WAIT_MS / 1000.0;
	natsMsgList pending = {0};

	jsPubOptions_Init(&po);
	po.MaxWait = ACK_SLICE_MS;
	while (js_PublishAsyncComplete(js, &po) == NATS_TIMEOUT) {
		if (bw_now_mono() >= deadline ||
		    natsConnection_Status(nc) != NATS_CONN_STATUS_CONNECTED)
			break;
	}
	/* After this no handler is called for what it returns (a handler
	 * already running finds the table closed). */
	if (js_PublishAsyncGetPendingList(&pending, js) == NATS_OK)
		natsMsgList_Destroy(&pending);
}

/* Publishes ev[idx[0..n)] (whose stream exists) and sets their results.
 * The messages are made and entered in the table under one lock before
 * the first is sent (an acknowledgement can come back at once); a
 * message's slot is not touched again by this thread until the
 * acknowledgements are over, except when the library did not take it. */
static void publish_round(struct bw_event_out *ev, const size_t *idx, size_t n)
{
	size_t sent = 0;
	natsStatus down = NATS_OK;

	pthread_mutex_lock(&mu);
	for (size_t k = 0; k < n; k++) {
		natsMsg *m = NULL;
		natsStatus s = build_msg(&m, &ev[idx[k]]);
		table[k] = (struct slot){.ev = &ev[idx[k]], .msg = m,
					 .state = s == NATS_OK ? SLOT_SENT : SLOT_FAILED, .err = s};
	}
	ntable = n;
	cursor = 0;
	table_live = true;
	pthread_mutex_unlock(&mu);

	for (size_t k = 0; k < n; k++) {
		natsMsg *m = table[k].msg; /* only on_ack clears it, once sent */
		if (!m)
			continue;
		natsStatus s = down != NATS_OK ? down : js_PublishMsgAsync(js, &m, NULL);
		if (s == NATS_OK) {
			sent++;
			continue;
		}
		/* Not taken: the message is still ours. */
		pthread_mutex_lock(&mu);
		table[k].msg = NULL;
		table[k].state = SLOT_FAILED;
		table[k].err = s;
		pthread_mutex_unlock(&mu);
		natsMsg_Destroy(m);
		if (s == NATS_CONNECTION_CLOSED || s == NATS_CONNECTION_DISCONNECTED)
			down = s;
	}
	if (sent > 0)
		await_acks();

	pthread_mutex_lock(&mu);
	table_live = false;
	for (size_t k = 0; k < n; k++) {
		struct slot *sl = &table[k];
		if (sl->state == SLOT_OK) {
			sl->ev->ok = true;
			sl->ev->error[0] = '\0';
		} else if (sl->state == SLOT_FAILED) {
			fail_status(sl->ev, sl->err, sl->jerr);
		} else {
			fail_status(sl->ev, NATS_TIMEOUT, 0);
		}
		sl->msg = NULL;
	}
	ntable = 0;
	pthread_mutex_unlock(&mu);
}

/* Ensures the streams of ev[idx[..]]; those that cannot be published are
 * answered and left out. Returns how many remain in idx. */
static size_t ensure_all(struct bw_event_out *ev, size_t *idx, size_t n)
{
	size_t m = 0;
	for (size_t k = 0; k < n; k++) {
		if (idx[k] == SIZE_MAX)
			continue;
		struct bw_event_out *e = &ev[idx[k]];
		int jerr = 0;
		natsStatus s = ensure_stream(e->instance_id, &jerr);
		if (s != NATS_OK) {
			fail_status(e, s, jerr);
			/* Same instance later in the batch: the same answer,
			 * without a second 2 s wait. */
			for (size_t r = k + 1; r < n; r++)
				if (strcmp(ev[idx[r]].instance_id, e->instance_id) == 0) {
					fail_status(&ev[idx[r]], s, jerr);
					idx[r] = SIZE_MAX;
				}
			continue;
		}
		idx[m++] = idx[k];
	}
	return m;
}

/* ---- the interface ---- */

bw_result bw_sink_nats_start(const char *nats_url)
{
	bw_sink_nats_stop();
	if (!nats_url || !*nats_url)
		return BW_INVALID;
	url = strdup(nats_url);
	return url ? BW_OK : BW_NOMEM;
}

void bw_sink_nats_deliver(struct bw_event_out *ev, size_t n)
{
	size_t *idx = NULL, m = 0;
	natsStatus s;

	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++) {
		ev[i].ok = false;
		ev[i].error[0] = '\0';
	}
	if (!url) {
		for (size_t i = 0; i < n; i++)
			fail(&ev[i], "not started");
		return;
	}
	idx = calloc(n, sizeof(*idx));
	pthread_mutex_lock(&mu);
	struct slot *t = realloc(table, n * sizeof(*table));
	if (t)
		table = t;
	pthread_mutex_unlock(&mu);
	if (!idx || !t) {
		for (size_t i = 0; i < n; i++)
			fail(&ev[i], "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (!token_ok(ev[i].instance_id, false) || !token_ok(ev[i].type, true) ||
		    !id_ok(ev[i].subscription_id) || !id_ok(ev[i].event_id))
			fail(&ev[i], "bad instance, type or id");
		else if (!ev[i].body || ev[i].body_len > INT_MAX)
			fail(&ev[i], "bad body");
		else
			idx[m++] = i;
	}
	if (m == 0)
		goto out;
	if ((s = connection()) != NATS_OK) {
		for (size_t k = 0; k < m; k++)
			fail_status(&ev[idx[k]], s, 0);
		goto out;
	}
	m = ensure_all(ev, idx, m);
	publish_round(ev, idx, m);

	/* "No responders": nothing listens on the subject, so the stream is
	 * gone (deleted, or a new server without it). Make it again and send
	 * those once more. */
	size_t r = 0;
	for (size_t k = 0; k < m; k++)
		if (!ev[idx[k]].ok && strcmp(ev[idx[k]].error, NO_RESPONDERS) == 0) {
			ens_forget(ev[idx[k]].instance_id);
			idx[r++] = idx[k];
		}
	if (r > 0 && connection() == NATS_OK) {
		r = ensure_all(ev, idx, r);
		publish_round(ev, idx, r);
	}
out:
	free(idx);
}

void bw_sink_nats_stop(void)
{
	drop_connection(); /* also empties the cache */
	natsOptions_Destroy(opts);
	opts = NULL;
	free(ensured);
	ensured = NULL;
	nensured = 0;
	pthread_mutex_lock(&mu);
	free(table);
	table = NULL;
	ntable = 0;
	pthread_mutex_unlock(&mu);
	free(url);
	url = NULL;
	/* The library's threads and memory (the sink is the process's only
	 * user of libnats): gone before a leak check runs. */
	if (lib_used) {
		lib_used = false;
		nats_CloseAndWait(CLOSE_WAIT_MS);
	}
}
