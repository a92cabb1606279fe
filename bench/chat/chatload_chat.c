/* chatload chat: the scenario (see chatload.c). Agents first, then the ramp
 * to N live chats, the paced messages, the closed-loop flood, the ends. */
#include <re_types.h>
#include <re_fmt.h>
#include <re_list.h>
#include <re_main.h>
#include <re_tmr.h>

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chatload.h"
#include "loadconn.h"

#define OPENING_MAX 200   /* agent stream handshakes in flight */
#define CUSTOMER_HTTP 32  /* keep-alive connections for POST .../chats */
#define STALL_S 60        /* no progress this long in a phase: give up */
#define DRAIN_S 30        /* wait for relays after the last send */
#define SECS 600          /* seconds of the paced phase shown in the timeline */

struct agent {
	int idx;
	char token[128];
	char id[64];
	struct lc_conn *stream, *http;
	bool opening, open, hello, available, status_busy;
	int held, offers;
};

enum cst { C_NEW, C_POSTING, C_WS, C_WAIT, C_ACCEPTING, C_LIVE, C_ENDING, C_CLEARING, C_DONE,
           C_FAILED };

struct chat {
	int idx;
	enum cst st;
	char cid[64];
	struct lc_conn *ws;
	struct agent *ag;
	uint8_t sent_c, sent_a, got_a, got_c; /* paced messages */
	bool fl_c, fl_a;                      /* flood: a message in flight that way */
	bool joined, ended_seen, acw_seen;
	int end_posts;
	uint64_t t0;
};

enum phase { P_AGENTS, P_RAMP, P_HOLD, P_DRAIN, P_FLOOD, P_FLOOD_DRAIN, P_END, P_DONE };
static const char *phase_names[] = {"agents", "ramp", "hold", "drain", "flood", "flood-drain",
                                    "end", "done"};

static struct {
	enum phase phase;
	struct agent *ag;
	int nag, ag_next, ag_opening, ag_ready;
	struct chat *ch;
	int n, next, in_setup, live, failed, ending, done, end_next;
	struct lc_conn *http[CUSTOMER_HTTP];
	int http_rr;
	/* contact id -> chat (open addressing) */
	struct chat **map;
	size_t map_cap;
	/* times (µs) */
	uint64_t t_start, t_agents, t_ramp0, t_ramp1, t_hold0, t_hold1, t_drain1, t_flood0,
	        t_flood1, t_end0, t_end1, t_progress, t_print;
	/* paced messages */
	uint64_t sched, sched_total, relays_hold, sent_hold, echoes;
	/* flood */
	uint64_t fl_relays, fl_sent;
	bool flooding;
	long rss_base, rss_ckpt, rss_live, rss_peak, rss_end, cpu_fl0, cpu_fl1;
	long cpu_ramp0, cpu_ramp1, cpu_hold0, cpu_hold1, cpu_end0, cpu_end1;
	int ckpt_live, peak_live;
	double ccpu_fl0, ccpu_fl1, ccpu_hold0, ccpu_hold1;
	struct cl_lat lat_c2a, lat_a2c, lat_fl, lat_setup;
	/* the paced phase second by second: relays, the slowest, those over 5 ms */
	uint32_t sec_n[SECS], sec_max[SECS], sec_slow[SECS];
	uint64_t offers_unknown, accept_conflicts, status_puts, missed, withdrawn;
	uint64_t end_replies[6]; /* 200 ACW, 200 other, 404, 409, other, failed */
	struct tmr tick;
	int rc;
} S;

/* ---- contact id map ---- */

static uint64_t hash_str(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
	return h;
}

static void map_put(struct chat *ch)
{
	size_t i = hash_str(ch->cid, strlen(ch->cid)) & (S.map_cap - 1);
	while (S.map[i])
		i = (i + 1) & (S.map_cap - 1);
	S.map[i] = ch;
}

static struct chat *map_get(const char *cid, size_t n)
{
	size_t i = hash_str(cid, n) & (S.map_cap - 1);
	for (; S.map[i]; i = (i + 1) & (S.map_cap - 1))
		if (strlen(S.map[i]->cid) == n && !memcmp(S.map[i]->cid, cid, n))
			return S.map[i];
	return NULL;
}

static struct chat *chat_of(const char *text, size_t len)
{
	const char *v;
	size_t vl;
	if (!cl_json_str(text, len, "contact_id", &v, &vl))
		return NULL;
	return map_get(v, vl);
}

/* ---- state changes ---- */

static void chat_fail(struct chat *ch, const char *why)
{
	if (ch->st == C_FAILED || ch->st == C_DONE)
		return;
	cl_fail(why);
	bool setup = ch->st < C_LIVE;
	bool ending = ch->st == C_ENDING || ch->st == C_CLEARING;
	if (setup)
		S.in_setup--;
	else if (ch->ag)
		ch->ag->held--;
	if (!setup && !ending)
		S.live--;
	if (ending)
		S.ending--;
	ch->st = C_FAILED;
	S.failed++;
	S.t_progress = lc_now_us();
	if (ch->ws) {
		lc_conn_drop(ch->ws);
		ch->ws = NULL;
	}
}

static void chat_done(struct chat *ch)
{
	ch->st = C_DONE;
	S.ending--;
	S.done++;
	S.live--;
	if (ch->ag)
		ch->ag->held--;
	S.t_progress = lc_now_us();
	if (ch->ws)
		lc_ws_close(ch->ws);
}

static void hold_sample(struct cl_lat *l, uint64_t now, uint64_t t)
{
	uint64_t us = now - t, sec = (now - S.t_hold0) / 1000000u;
	cl_lat_add(l, us);
	if (sec < SECS) {
		S.sec_n[sec]++;
		if (us > S.sec_max[sec])
			S.sec_max[sec] = (uint32_t)us;
		if (us > 5000)
			S.sec_slow[sec]++;
	}
}

/* ---- sending ---- */

static void send_customer(struct chat *ch, int k)
{
	char content[512], buf[640];
	cl_content(content, sizeof(content), ch->idx, k);
	int n = snprintf(buf, sizeof(buf), "{\"type\":\"message\",\"content\":\"%s\"}", content);
	if (lc_ws_send(ch->ws, buf, (size_t)n) != 0)
		cl_fail("customer send failed");
}

static void send_agent(struct chat *ch, int k)
{
	char content[512], buf[768];
	cl_content(content, sizeof(content), ch->idx, k);
	int n = snprintf(buf, sizeof(buf),
	                 "{\"type\":\"message\",\"contact_id\":\"%s\",\"content\":\"%s\"}", ch->cid,
	                 content);
	if (!ch->ag || lc_ws_send(ch->ag->stream, buf, (size_t)n) != 0)
		cl_fail("agent send failed");
}

/* ---- agents ---- */

static void status_reply(int status, const char *body, size_t len, void *arg)
{
	struct agent *a = arg;
	a->status_busy = false;
	if (status != 200) {
		cl_note("PUT /v1/me/status refused", body ? body : "", len);
		return;
	}
	if (!a->available) {
		a->available = true;
		S.ag_ready++;
	}
}

static void put_available(struct agent *a)
{
	if (a->status_busy)
		return;
	a->status_busy = true;
	S.status_puts++;
	lc_http_request(a->http, "PUT", "/v1/me/status", a->token, "{\"status\":\"Available\"}",
	                status_reply, a);
}

static void accept_reply(int status, const char *body, size_t len, void *arg)
{
	struct chat *ch = arg;
	if (ch->st != C_ACCEPTING)
		return;
	if (status == 200) {
		ch->st = C_LIVE;
		S.in_setup--;
		S.live++;
		ch->ag->held++;
		S.t_progress = lc_now_us();
		cl_lat_add(&S.lat_setup, S.t_progress - ch->t0);
		return;
	}
	if (status == 409) { /* expired or withdrawn: it will be offered again */
		S.accept_conflicts++;
		ch->st = ch->ws && lc_ws_is_open(ch->ws) ? C_WAIT : C_WS;
		ch->ag = NULL;
		return;
	}
	cl_note("accept refused", body ? body : "", len);
	chat_fail(ch, "accept failed");
}

static void on_offer(struct agent *a, const char *text, size_t len)
{
	struct chat *ch = chat_of(text, len);
	a->offers++;
	/* The flow starts when the server opens the customer socket, so the offer
	 * can arrive before the client has read the 101 (state C_WS). */
	if (!ch || (ch->st != C_WAIT && ch->st != C_WS)) {
		S.offers_unknown++;
		return;
	}
	ch->st = C_ACCEPTING;
	ch->ag = a;
	char path[256];
	snprintf(path, sizeof(path), "/v1/instances/%s/agent/contacts/%s/accept", cl_opt.iid,
	         ch->cid);
	lc_http_request(a->http, "POST", path, a->token, NULL, accept_reply, ch);
}

static void end_reply(int status, const char *body, size_t len, void *arg);

static void post_end(struct chat *ch)
{
	char path[256];
	ch->end_posts++;
	snprintf(path, sizeof(path), "/v1/instances/%s/agent/contacts/%s/end", cl_opt.iid, ch->cid);
	lc_http_request(ch->ag->http, "POST", path, ch->ag->token, NULL, end_reply, ch);
}

/* The customer ended: the agent clears after-contact work with POST .../end,
 * once more while a reply still says AFTER_CONTACT_WORK. */
static void end_reply(int status, const char *body, size_t len, void *arg)
{
	struct chat *ch = arg;
	if (ch->st != C_CLEARING)
		return;
	bool acw = status == 200 && body && cl_json_is(body, len, "state", "AFTER_CONTACT_WORK");
	S.end_replies[status == 200 ? (acw ? 0 : 1)
	              : status == 404 ? 2
	              : status == 409 ? 3
	              : status == 0   ? 5
	                              : 4]++;
	if (acw && ch->end_posts < 3) {
		post_end(ch);
		return;
	}
	if (status == 200 || ((status == 404 || status == 409) && ch->end_posts > 1)) {
		chat_done(ch);
		return;
	}
	cl_note("POST .../end refused", body ? body : "", len);
	chat_fail(ch, "end failed");
}

static void start_clearing(struct chat *ch)
{
	if (ch->st != C_ENDING)
		return;
	ch->st = C_CLEARING;
	post_end(ch);
}

static void agent_frame(struct agent *a, const char *text, size_t len)
{
	const char *type;
	size_t tl;
	if (!cl_json_str(text, len, "type", &type, &tl))
		return;
#define IS(s) (tl == sizeof(s) - 1 && !memcmp(type, s, tl))
	if (IS("message")) {
		struct chat *ch = chat_of(text, len);
		if (!ch) {
			cl_fail("agent: message for an unknown contact");
			return;
		}
		if (!cl_json_is(text, len, "participant_role", "CUSTOMER")) {
			S.echoes++;
			return;
		}
		uint64_t t = cl_sent_at(text, len), now = lc_now_us();
		if (!t)
			return;
		if (S.phase == P_HOLD || S.phase == P_DRAIN) {
			hold_sample(&S.lat_c2a, now, t);
			ch->got_a++;
			S.relays_hold++;
		} else if (ch->fl_c) {
			cl_lat_add(&S.lat_fl, now - t);
			ch->fl_c = false;
			if (S.flooding) {
				S.fl_relays++;
				ch->fl_c = true;
				S.fl_sent++;
				send_customer(ch, 100);
			}
		}
	} else if (IS("offer")) {
		on_offer(a, text, len);
	} else if (IS("hello")) {
		const char *v;
		size_t vl;
		a->hello = true;
		if (cl_json_str(text, len, "agent_id", &v, &vl))
			snprintf(a->id, sizeof(a->id), "%.*s", (int)vl, v);
		if (cl_json_is(text, len, "status", "Available")) {
			a->available = true;
			S.ag_ready++;
		} else {
			put_available(a);
		}
	} else if (IS("status")) {
		if (!cl_json_is(text, len, "status", "Available")) {
			if (a->available) {
				a->available = false;
				S.ag_ready--;
			}
			put_available(a);
		}
	} else if (IS("offer_missed")) {
		S.missed++;
		struct chat *ch = chat_of(text, len);
		if (ch && ch->st == C_ACCEPTING && ch->ag == a)
			cl_fail("offer missed while accepting");
	} else if (IS("offer_withdrawn")) {
		S.withdrawn++;
	} else if (IS("contact")) {
		struct chat *ch = chat_of(text, len);
		if (ch && (cl_json_is(text, len, "state", "AFTER_CONTACT_WORK") ||
		           cl_json_is(text, len, "state", "ENDED"))) {
			ch->acw_seen = true;
			start_clearing(ch);
		}
	} else if (IS("error")) {
		cl_note("agent stream error frame", text, len);
	}
#undef IS
}

static void agent_open(struct lc_conn *c, void *arg)
{
	(void)c;
	struct agent *a = arg;
	a->opening = false;
	a->open = true;
	S.ag_opening--;
}

static void agent_msg(struct lc_conn *c, const char *text, size_t len, void *arg)
{
	(void)c;
	agent_frame(arg, text, len);
}

static void agent_close(struct lc_conn *c, int err, void *arg)
{
	struct agent *a = arg;
	lc_conn_drop(c);
	a->stream = NULL;
	if (a->opening) {
		a->opening = false;
		S.ag_opening--;
		cl_fail(err < 0 ? "agent stream refused" : "agent stream connect failed");
	} else if (S.phase != P_DONE) {
		cl_fail("agent stream closed by the server");
	}
	if (a->available)
		S.ag_ready--;
	a->open = a->available = false;
}

static const struct lc_ws_handlers agent_handlers = {agent_open, agent_msg, agent_close};

/* ---- customers ---- */

static void customer_frame(struct chat *ch, const char *text, size_t len)
{
	const char *type;
	size_t tl;
	if (!cl_json_str(text, len, "type", &type, &tl))
		return;
	if (tl == 7 && !memcmp(type, "message", 7)) {
		if (!cl_json_is(text, len, "participant_role", "AGENT")) {
			S.echoes++;
			return;
		}
		uint64_t t = cl_sent_at(text, len), now = lc_now_us();
		if (!t)
			return;
		if (S.phase == P_HOLD || S.phase == P_DRAIN) {
			hold_sample(&S.lat_a2c, now, t);
			ch->got_c++;
			S.relays_hold++;
		} else if (ch->fl_a) {
			cl_lat_add(&S.lat_fl, now - t);
			ch->fl_a = false;
			if (S.flooding) {
				S.fl_relays++;
				ch->fl_a = true;
				S.fl_sent++;
				send_agent(ch, 100);
			}
		}
	} else if (tl == 5 && !memcmp(type, "event", 5)) {
		if (cl_json_is(text, len, "event", "joined"))
			ch->joined = true;
		else if (cl_json_is(text, len, "event", "ended")) {
			ch->ended_seen = true;
			if (ch->st == C_ENDING)
				start_clearing(ch);
			else if (ch->st < C_ENDING)
				chat_fail(ch, "chat ended by the server");
		}
	} else if (tl == 5 && !memcmp(type, "error", 5)) {
		cl_note("customer error frame", text, len);
	}
}

static void customer_open(struct lc_conn *c, void *arg)
{
	(void)c;
	struct chat *ch = arg;
	if (ch->st == C_WS)
		ch->st = C_WAIT;
}

static void customer_msg(struct lc_conn *c, const char *text, size_t len, void *arg)
{
	(void)c;
	customer_frame(arg, text, len);
}

static void customer_close(struct lc_conn *c, int err, void *arg)
{
	struct chat *ch = arg;
	lc_conn_drop(c);
	ch->ws = NULL;
	if (ch->st == C_DONE || ch->st == C_FAILED)
		return;
	if (ch->st == C_CLEARING || (ch->st == C_ENDING && ch->ended_seen))
		return; /* the server may close a finished chat's socket */
	chat_fail(ch, err < 0 ? "customer socket refused" : "customer socket closed");
}

static const struct lc_ws_handlers customer_handlers = {customer_open, customer_msg,
                                                        customer_close};

static void chat_created(int status, const char *body, size_t len, void *arg)
{
	struct chat *ch = arg;
	const char *v;
	size_t vl;
	char token[160];
	if (status != 201 || !body) {
		cl_note("POST .../chats refused", body ? body : "", len);
		chat_fail(ch, "chat start refused");
		return;
	}
	if (!cl_json_str(body, len, "contact_id", &v, &vl) || vl >= sizeof(ch->cid)) {
		chat_fail(ch, "chat start: no contact_id");
		return;
	}
	memcpy(ch->cid, v, vl);
	ch->cid[vl] = '\0';
	if (!cl_json_str(body, len, "participant_token", &v, &vl) || vl >= sizeof(token)) {
		chat_fail(ch, "chat start: no participant_token");
		return;
	}
	memcpy(token, v, vl);
	token[vl] = '\0';
	map_put(ch);
	ch->st = C_WS;
	ch->ws = lc_ws_open("/v1/public/chat", token, &customer_handlers, ch);
	if (!ch->ws)
		chat_fail(ch, "customer connect failed");
}

static void start_chat(struct chat *ch)
{
	char path[256], body[256];
	ch->st = C_POSTING;
	ch->t0 = lc_now_us();
	S.in_setup++;
	snprintf(path, sizeof(path), "/v1/public/instances/%s/chats", cl_opt.iid);
	snprintf(body, sizeof(body), "{\"entry_point\":\"%s\",\"display_name\":\"Load %d\"}",
	         cl_opt.ep, ch->idx);
	struct lc_conn *h = S.http[S.http_rr++ % CUSTOMER_HTTP];
	lc_http_request(h, "POST", path, NULL, body, chat_created, ch);
}

/* ---- phases ---- */

static void phase_set(enum phase p, uint64_t now)
{
	S.phase = p;
	S.t_progress = now;
	fprintf(stderr, "chatload: phase %s at %.1f s\n", phase_names[p], cl_secs(S.t_start, now));
}

static void tick_agents(uint64_t now)
{
	while (S.ag_opening < OPENING_MAX && S.ag_next < S.nag) {
		struct agent *a = &S.ag[S.ag_next++];
		char path[160];
		snprintf(path, sizeof(path), "/v1/instances/%s/agent/stream", cl_opt.iid);
		a->stream = lc_ws_open(path, a->token, &agent_handlers, a);
		if (!a->stream) {
			cl_fail("agent connect failed");
			continue;
		}
		a->opening = true;
		S.ag_opening++;
	}
	if (S.ag_ready == S.nag) {
		S.t_agents = now;
		S.rss_base = cl_rss_kib();
		S.cpu_ramp0 = cl_cpu_ticks();
		S.t_ramp0 = now;
		phase_set(P_RAMP, now);
	}
}

static void tick_ramp(uint64_t now)
{
	while (S.in_setup < cl_opt.inflight && S.next < S.n)
		start_chat(&S.ch[S.next++]);
	/* a checkpoint for the marginal cost, past one-time growth */
	if (!S.ckpt_live && S.live >= S.n / 5 && S.n >= 50) {
		S.ckpt_live = S.live;
		S.rss_ckpt = cl_rss_kib();
	}
	if (S.next == S.n && S.in_setup == 0) {
		S.t_ramp1 = now;
		S.cpu_ramp1 = S.cpu_hold0 = cl_cpu_ticks();
		S.ccpu_hold0 = cl_client_cpu_s();
		S.rss_live = cl_rss_kib();
		S.peak_live = S.live;
		S.t_hold0 = now;
		S.sched_total = (uint64_t)S.n * 2 * CL_MSGS_EACH_WAY;
		phase_set(P_HOLD, now);
	}
}

/* Message s of the schedule: round s / N, chat s % N; even rounds are the
 * customer's, odd rounds the agent's. Each chat sends every interval. */
static void tick_hold(uint64_t now)
{
	double rate = (double)S.n * 1000.0 / cl_opt.interval_ms; /* messages per second */
	uint64_t due = (uint64_t)(cl_secs(S.t_hold0, now) * rate) + 1;
	while (S.sched < due && S.sched < S.sched_total) {
		uint64_t s = S.sched++;
		struct chat *ch = &S.ch[s % (uint64_t)S.n];
		int round = (int)(s / (uint64_t)S.n);
		if (ch->st != C_LIVE)
			continue;
		S.sent_hold++;
		if (round % 2 == 0) {
			ch->sent_c++;
			send_customer(ch, round);
		} else {
			ch->sent_a++;
			send_agent(ch, round);
		}
	}
	if (S.sched == S.sched_total) {
		S.t_hold1 = now;
		phase_set(P_DRAIN, now);
	}
}

static void flood_start(uint64_t now)
{
	S.cpu_fl0 = cl_cpu_ticks();
	S.ccpu_fl0 = cl_client_cpu_s();
	S.t_flood0 = now;
	S.flooding = true;
	phase_set(P_FLOOD, now);
	for (int i = 0; i < S.n; i++) {
		struct chat *ch = &S.ch[i];
		if (ch->st != C_LIVE)
			continue;
		ch->fl_c = ch->fl_a = true;
		S.fl_sent += 2;
		send_customer(ch, 100);
		send_agent(ch, 100);
	}
}

static void tick_drain(uint64_t now)
{
	if (S.relays_hold < S.sent_hold && cl_secs(S.t_hold1, now) < DRAIN_S)
		return;
	S.t_drain1 = now;
	S.cpu_hold1 = cl_cpu_ticks();
	S.ccpu_hold1 = cl_client_cpu_s();
	S.rss_peak = cl_rss_kib();
	if (cl_opt.flood_s > 0) {
		flood_start(now);
	} else {
		S.t_end0 = now;
		S.cpu_end0 = cl_cpu_ticks();
		phase_set(P_END, now);
	}
}

static void tick_flood(uint64_t now)
{
	if (S.phase == P_FLOOD) {
		if (now < S.t_flood0 + (uint64_t)cl_opt.flood_s * 1000000u)
			return;
		S.flooding = false;
		S.t_flood1 = now;
		S.cpu_fl1 = cl_cpu_ticks();
		S.ccpu_fl1 = cl_client_cpu_s();
		phase_set(P_FLOOD_DRAIN, now);
		return;
	}
	bool quiet = true;
	for (int i = 0; i < S.n && quiet; i++)
		quiet = S.ch[i].st != C_LIVE || (!S.ch[i].fl_a && !S.ch[i].fl_c);
	if (quiet || cl_secs(S.t_flood1, now) > DRAIN_S) {
		S.t_end0 = now;
		S.cpu_end0 = cl_cpu_ticks();
		phase_set(P_END, now);
	}
}

static void tick_end(uint64_t now)
{
	while (S.ending < cl_opt.inflight && S.end_next < S.n) {
		struct chat *ch = &S.ch[S.end_next++];
		if (ch->st != C_LIVE)
			continue;
		ch->st = C_ENDING;
		S.ending++;
		if (lc_ws_send(ch->ws, "{\"type\":\"end\"}", 14) != 0)
			chat_fail(ch, "customer end failed");
	}
	if (S.end_next == S.n && S.ending == 0) {
		S.t_end1 = now;
		S.cpu_end1 = cl_cpu_ticks();
		phase_set(P_DONE, now);
	}
}

static void print_progress(uint64_t now)
{
	int st[C_FAILED + 1] = {0};
	for (int i = 0; i < S.n; i++)
		st[S.ch[i].st]++;
	fprintf(stderr,
	        "chatload %s %.0fs: agents %d/%d ready; chats new %d posting %d ws %d waiting %d "
	        "accepting %d live %d ending %d clearing %d done %d failed %d; relays %" PRIu64
	        "/%" PRIu64 " flood %" PRIu64 "\n",
	        phase_names[S.phase], cl_secs(S.t_start, now), S.ag_ready, S.nag, st[C_NEW],
	        st[C_POSTING], st[C_WS], st[C_WAIT], st[C_ACCEPTING], st[C_LIVE], st[C_ENDING],
	        st[C_CLEARING], st[C_DONE], st[C_FAILED], S.relays_hold, S.sent_hold, S.fl_relays);
}

static void tick_h(void *arg)
{
	(void)arg;
	uint64_t now = lc_now_us();
	lc_reap();
	switch (S.phase) {
	case P_AGENTS: tick_agents(now); break;
	case P_RAMP: tick_ramp(now); break;
	case P_HOLD: tick_hold(now); break;
	case P_DRAIN: tick_drain(now); break;
	case P_FLOOD:
	case P_FLOOD_DRAIN: tick_flood(now); break;
	case P_END: tick_end(now); break;
	case P_DONE: break;
	}
	if (cl_secs(S.t_print, now) >= 5) {
		S.t_print = now;
		print_progress(now);
	}
	if (S.phase == P_DONE) {
		S.rss_end = cl_rss_kib();
		re_cancel();
		return;
	}
	bool waiting = S.phase == P_AGENTS || S.phase == P_RAMP || S.phase == P_END;
	if (waiting && cl_secs(S.t_progress, now) > STALL_S) {
		fprintf(stderr, "chatload: no progress for %d s in phase %s: giving up\n", STALL_S,
		        phase_names[S.phase]);
		print_progress(now);
		S.rc = 1;
		re_cancel();
		return;
	}
	tmr_start(&S.tick, 1, tick_h, NULL);
}

/* ---- report ---- */

static void report(void)
{
	double lc2a[3], la2c[3], lall[3], lfl[3], lsetup[3];
	struct cl_lat all = {0};
	for (size_t i = 0; i < S.lat_c2a.n; i++)
		cl_lat_add(&all, S.lat_c2a.v[i]);
	for (size_t i = 0; i < S.lat_a2c.n; i++)
		cl_lat_add(&all, S.lat_a2c.v[i]);
	cl_lat_summary(&S.lat_c2a, lc2a);
	cl_lat_summary(&S.lat_a2c, la2c);
	cl_lat_summary(&all, lall);
	cl_lat_summary(&S.lat_fl, lfl);
	cl_lat_summary(&S.lat_setup, lsetup);
	int peak = S.peak_live; /* chats live at the end of the ramp */
	double ramp_s = cl_secs(S.t_ramp0, S.t_ramp1), end_s = cl_secs(S.t_end0, S.t_end1);
	double fl_s = cl_secs(S.t_flood0, S.t_flood1);
	double setup_rate = ramp_s > 0 ? (S.n - S.failed) / ramp_s : 0;
	double end_rate = end_s > 0 ? S.done / end_s : 0;
	double fl_rate = fl_s > 0 ? S.fl_relays / fl_s : 0;
	long tck = sysconf(_SC_CLK_TCK);
	double fl_cpu = S.cpu_fl0 >= 0 && S.cpu_fl1 >= 0 ? (double)(S.cpu_fl1 - S.cpu_fl0) / tck : -1;
	double fl_us = fl_cpu >= 0 && S.fl_relays ? fl_cpu * 1e6 / (double)S.fl_relays : -1;
	double ms_setup = S.cpu_ramp0 >= 0 && S.cpu_ramp1 >= 0 && peak > 0
	                          ? (double)(S.cpu_ramp1 - S.cpu_ramp0) * 1000.0 / tck / peak
	                          : -1;
	double ms_end = S.cpu_end0 >= 0 && S.cpu_end1 >= 0 && S.done > 0
	                        ? (double)(S.cpu_end1 - S.cpu_end0) * 1000.0 / tck / S.done
	                        : -1;
	double us_hold = S.cpu_hold0 >= 0 && S.cpu_hold1 >= 0 && S.relays_hold > 0
	                         ? (double)(S.cpu_hold1 - S.cpu_hold0) * 1e6 / tck / S.relays_hold
	                         : -1;
	double kib_live = peak > 0 ? (double)(S.rss_live - S.rss_base) / peak : 0;
	double kib_peak = peak > 0 ? (double)(S.rss_peak - S.rss_base) / peak : 0;
	double kib_marg = peak > S.ckpt_live && S.ckpt_live
	                          ? (double)(S.rss_live - S.rss_ckpt) / (peak - S.ckpt_live)
	                          : 0;
	printf("chat %s: %d chats (%d failed, %d live at the peak), %d agents, one message every "
	       "%d ms per chat\n",
	       cl_opt.label, S.n, S.failed, peak, S.nag, cl_opt.interval_ms);
	printf("  setup: %d live in %.1f s = %.0f contacts/s (start -> accepted: p50 %.0f ms, "
	       "p99 %.0f ms)\n",
	       S.n - S.failed, ramp_s, setup_rate, lsetup[0], lsetup[1]);
	double hold_s = cl_secs(S.t_hold0, S.t_drain1);
	printf("  server CPU: %.2f ms per contact set up, %.2f ms per contact ended, %.1f µs per "
	       "paced relay; this client used %.0f%% of one core in the paced phase\n",
	       ms_setup, ms_end, us_hold,
	       hold_s > 0 ? 100.0 * (S.ccpu_hold1 - S.ccpu_hold0) / hold_s : 0);
	printf("  end:   %d ended and cleared in %.1f s = %.0f contacts/s\n", S.done, end_s,
	       end_rate);
	printf("  relay latency (%" PRIu64 "/%" PRIu64 " relayed): p50 %.2f ms, p99 %.2f ms, "
	       "max %.2f ms; customer->agent p99 %.2f ms, agent->customer p99 %.2f ms\n",
	       S.relays_hold, S.sent_hold, lall[0], lall[1], lall[2], lc2a[1], la2c[1]);
	printf("  memory: VmRSS %ld KiB before, %ld live, %ld after the messages: %.1f KiB per "
	       "live chat (%.1f right after the ramp; marginal %.1f between %d and %d live); "
	       "%ld KiB after the ends\n",
	       S.rss_base, S.rss_live, S.rss_peak, kib_peak, kib_live, kib_marg, S.ckpt_live, peak,
	       S.rss_end);
	printf("  flood: %.0f relays/s over %.1f s (p50 %.2f ms, p99 %.2f ms), server CPU %.1f "
	       "µs/relay, client CPU %.2f s\n",
	       fl_rate, fl_s, lfl[0], lfl[1], fl_us, S.ccpu_fl1 - S.ccpu_fl0);
	printf("  events: %" PRIu64 " echoes to senders, %" PRIu64 " status PUTs, %" PRIu64
	       " missed offers, %" PRIu64 " withdrawn, %" PRIu64 " unknown offers, %" PRIu64
	       " accept conflicts; end replies: %" PRIu64 " 200 ACW, %" PRIu64 " 200, %" PRIu64
	       " 404, %" PRIu64 " 409, %" PRIu64 " other, %" PRIu64 " failed\n",
	       S.echoes, S.status_puts, S.missed, S.withdrawn, S.offers_unknown, S.accept_conflicts,
	       S.end_replies[0], S.end_replies[1], S.end_replies[2], S.end_replies[3],
	       S.end_replies[4], S.end_replies[5]);
	cl_print_reasons();
	printf("  paced phase by second (s: relays, slowest ms, count over 5 ms):");
	for (int i = 0; i < SECS && S.sec_n[i]; i++)
		printf("%s%d: %u %.1f %u", i % 6 ? "  " : "\n    ", i, S.sec_n[i],
		       S.sec_max[i] / 1000.0, S.sec_slow[i]);
	printf("\n");
	printf("RESULT {\"mode\":\"chat\",\"label\":\"%s\",\"chats\":%d,\"failed\":%d,"
	       "\"agents\":%d,\"interval_ms\":%d,\"setup_s\":%.2f,\"contacts_per_s\":%.1f,"
	       "\"setup_p50_ms\":%.1f,\"setup_p99_ms\":%.1f,\"end_s\":%.2f,\"end_per_s\":%.1f,"
	       "\"relayed\":%" PRIu64 ",\"sent\":%" PRIu64 ",\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
	       "\"max_ms\":%.3f,\"c2a_p99_ms\":%.3f,\"a2c_p99_ms\":%.3f,\"rss_base_kib\":%ld,"
	       "\"rss_live_kib\":%ld,\"rss_peak_kib\":%ld,\"rss_end_kib\":%ld,"
	       "\"kib_per_chat\":%.2f,\"kib_per_chat_ramp\":%.2f,\"kib_marginal\":%.2f,"
	       "\"flood_s\":%.2f,"
	       "\"msgs_per_s\":%.0f,\"flood_p50_ms\":%.3f,\"flood_p99_ms\":%.3f,"
	       "\"server_us_per_msg\":%.2f,\"server_ms_per_setup\":%.3f,"
	       "\"server_ms_per_end\":%.3f,\"server_us_per_paced_relay\":%.2f}\n",
	       cl_opt.label, S.n, S.failed, S.nag, cl_opt.interval_ms, ramp_s, setup_rate, lsetup[0],
	       lsetup[1], end_s, end_rate, S.relays_hold, S.sent_hold, lall[0], lall[1], lall[2],
	       lc2a[1], la2c[1], S.rss_base, S.rss_live, S.rss_peak, S.rss_end, kib_peak, kib_live, kib_marg,
	       fl_s, fl_rate, lfl[0], lfl[1], fl_us, ms_setup, ms_end, us_hold);
	fflush(stdout);
	free(all.v);
}

/* ---- setup ---- */

static int read_agents(void)
{
	FILE *f = fopen(cl_opt.agents_file, "r");
	if (!f) {
		fprintf(stderr, "chatload: cannot read %s\n", cl_opt.agents_file);
		return -1;
	}
	char line[256];
	S.nag = 0;
	while (S.nag < cl_opt.agents && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!*line)
			continue;
		struct agent *a = &S.ag[S.nag];
		size_t tl = strlen(line);
		if (tl >= sizeof(a->token)) {
			fprintf(stderr, "chatload: a token in %s is too long\n", cl_opt.agents_file);
			fclose(f);
			return -1;
		}
		memcpy(a->token, line, tl + 1);
		a->idx = S.nag++;
		a->http = lc_http_new();
		if (!a->http) {
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	if (S.nag < cl_opt.agents) {
		fprintf(stderr, "chatload: %s holds %d tokens, %d wanted\n", cl_opt.agents_file, S.nag,
		        cl_opt.agents);
		return -1;
	}
	return 0;
}

int cl_chat_run(void)
{
	S.n = cl_opt.chats;
	S.ag = calloc((size_t)cl_opt.agents, sizeof(*S.ag));
	S.ch = calloc((size_t)S.n, sizeof(*S.ch));
	for (S.map_cap = 1024; S.map_cap < (size_t)S.n * 2; S.map_cap *= 2)
		;
	S.map = calloc(S.map_cap, sizeof(*S.map));
	if (!S.ag || !S.ch || !S.map || read_agents() != 0)
		return 1;
	for (int i = 0; i < S.n; i++)
		S.ch[i].idx = i;
	for (int i = 0; i < CUSTOMER_HTTP; i++)
		if (!(S.http[i] = lc_http_new()))
			return 1;
	S.t_start = S.t_progress = S.t_print = lc_now_us();
	tmr_init(&S.tick);
	tmr_start(&S.tick, 0, tick_h, NULL);
	fprintf(stderr, "chatload: %d agents, %d chats\n", S.nag, S.n);
	cl_loop();
	tmr_cancel(&S.tick);
	if (cl.interrupted)
		return 130;
	report();
	/* close what is still open */
	for (int i = 0; i < S.n; i++)
		if (S.ch[i].ws)
			lc_conn_drop(S.ch[i].ws);
	for (int i = 0; i < S.nag; i++) {
		if (S.ag[i].stream)
			lc_conn_drop(S.ag[i].stream);
		lc_conn_drop(S.ag[i].http);
	}
	for (int i = 0; i < CUSTOMER_HTTP; i++)
		lc_conn_drop(S.http[i]);
	return S.rc ? S.rc : (S.failed ? 1 : 0);
}
