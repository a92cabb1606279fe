/* SQLite backend: contacts, their chat messages and flow logs (0005).
 * Every query of instance data is bound to the instance id; the one lookup
 * that is not, by participant token hash, is how a customer's token finds
 * its contact (and so its instance). Empty strings and zero times are
 * stored as NULL and read back as "" and 0. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_int.h"
#include "store/sqlite_ops.h"

static void bind_ms(sqlite3_stmt *st, int i, long long ms)
{
	if (ms)
		sqlite3_bind_int64(st, i, ms);
	else
		sqlite3_bind_null(st, i);
}

static uint8_t *dup_blob(sqlite3_stmt *st, int col, size_t *len)
{
	const void *b = sqlite3_column_blob(st, col);
	int n = sqlite3_column_bytes(st, col);
	*len = 0;
	if (!b || n <= 0)
		return NULL;
	uint8_t *p = malloc((size_t)n);
	if (p) {
		memcpy(p, b, (size_t)n);
		*len = (size_t)n;
	}
	return p;
}

/* ---- contacts ---- */

#define CONTACT_COLS                                                                               \
	"id,instance_id,channel,initiation_method,state,entry_point_id,flow_id,flow_version,"      \
	"queue_id,agent_id,disconnect_reason,initiated_at,enqueued_at,dequeued_at,connected_at,"   \
	"disconnected_at,acw_ended_at,updated_at,customer"

static void contact_row(sqlite3_stmt *st, void *item)
{
	struct bw_contact *c = item;
	memset(c, 0, sizeof(*c));
	bw_sq__text(c->id, sizeof(c->id), st, 0);
	bw_sq__text(c->instance_id, sizeof(c->instance_id), st, 1);
	bw_sq__text(c->channel, sizeof(c->channel), st, 2);
	bw_sq__text(c->initiation_method, sizeof(c->initiation_method), st, 3);
	bw_sq__text(c->state, sizeof(c->state), st, 4);
	bw_sq__text(c->entry_point_id, sizeof(c->entry_point_id), st, 5);
	bw_sq__text(c->flow_id, sizeof(c->flow_id), st, 6);
	c->flow_version = sqlite3_column_int64(st, 7);
	bw_sq__text(c->queue_id, sizeof(c->queue_id), st, 8);
	bw_sq__text(c->agent_id, sizeof(c->agent_id), st, 9);
	bw_sq__text(c->disconnect_reason, sizeof(c->disconnect_reason), st, 10);
	c->initiated_at = sqlite3_column_int64(st, 11);
	c->enqueued_at = sqlite3_column_int64(st, 12);
	c->dequeued_at = sqlite3_column_int64(st, 13);
	c->connected_at = sqlite3_column_int64(st, 14);
	c->disconnected_at = sqlite3_column_int64(st, 15);
	c->acw_ended_at = sqlite3_column_int64(st, 16);
	c->updated_at = sqlite3_column_int64(st, 17);
	c->customer = dup_blob(st, 18, &c->customer_len);
}

/* An upsert, not INSERT OR REPLACE: replacing would delete the row and
 * cascade to its messages and flow log. A row of another instance with the
 * same id is left alone (no change: BW_CONFLICT). */
bw_result bw_sq__contact_put(struct bw_store *s, const struct bw_contact *c,
                             const uint8_t token_hash[32])
{
	struct sq_store *q = SQ(s);
	sqlite3_stmt *st = bw_sq__stmt(
	    q, "INSERT INTO contacts(" CONTACT_COLS ",token_hash) "
	       "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20) "
	       "ON CONFLICT(id) DO UPDATE SET channel=excluded.channel,"
	       "initiation_method=excluded.initiation_method,state=excluded.state,"
	       "entry_point_id=excluded.entry_point_id,flow_id=excluded.flow_id,"
	       "flow_version=excluded.flow_version,queue_id=excluded.queue_id,"
	       "agent_id=excluded.agent_id,disconnect_reason=excluded.disconnect_reason,"
	       "initiated_at=excluded.initiated_at,enqueued_at=excluded.enqueued_at,"
	       "dequeued_at=excluded.dequeued_at,connected_at=excluded.connected_at,"
	       "disconnected_at=excluded.disconnected_at,acw_ended_at=excluded.acw_ended_at,"
	       "updated_at=excluded.updated_at,customer=excluded.customer,"
	       "token_hash=coalesce(excluded.token_hash,contacts.token_hash) "
	       "WHERE contacts.instance_id=excluded.instance_id");
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, c->id);
	bw_sq__bind(st, 2, c->instance_id);
	bw_sq__bind(st, 3, c->channel);
	bw_sq__bind(st, 4, c->initiation_method);
	bw_sq__bind(st, 5, c->state);
	bw_sq__bind_opt(st, 6, c->entry_point_id);
	bw_sq__bind_opt(st, 7, c->flow_id);
	sqlite3_bind_int64(st, 8, c->flow_version);
	bw_sq__bind_opt(st, 9, c->queue_id);
	bw_sq__bind_opt(st, 10, c->agent_id);
	bw_sq__bind_opt(st, 11, c->disconnect_reason);
	sqlite3_bind_int64(st, 12, c->initiated_at);
	bind_ms(st, 13, c->enqueued_at);
	bind_ms(st, 14, c->dequeued_at);
	bind_ms(st, 15, c->connected_at);
	bind_ms(st, 16, c->disconnected_at);
	bind_ms(st, 17, c->acw_ended_at);
	sqlite3_bind_int64(st, 18, c->updated_at);
	if (c->customer && c->customer_len)
		sqlite3_bind_blob(st, 19, c->customer, (int)c->customer_len, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 19);
	if (token_hash)
		sqlite3_bind_blob(st, 20, token_hash, 32, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 20);
	bw_result r = bw_sq__step_changed(q, st);
	return r == BW_NOTFOUND ? BW_CONFLICT : r;
}

bw_result bw_sq__contact_get(struct bw_store *s, const char *iid, const char *id,
                             struct bw_contact *out)
{
	return bw_sq__one(SQ(s),
	                  "SELECT " CONTACT_COLS " FROM contacts WHERE instance_id=? AND id=?", iid,
	                  id, contact_row, out);
}

bw_result bw_sq__contact_by_token(struct bw_store *s, const uint8_t hash[32],
                                  struct bw_contact *out)
{
	sqlite3_stmt *st =
	    bw_sq__stmt(SQ(s), "SELECT " CONTACT_COLS " FROM contacts WHERE token_hash=?");
	if (!st)
		return BW_ERR;
	sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		contact_row(st, out);
		return BW_OK;
	}
	return rc == SQLITE_DONE ? BW_NOTFOUND : BW_ERR;
}

/* One text per leading filter, so that the planner sees an equality on the
 * column of an index (instance_id, <col>, initiated_at, id) and walks it
 * newest first from min(until, the page's start); the other filters are
 * checked on the rows it reads. The page condition is spelled out: as a
 * row value, (initiated_at,id)<(?8,?9), SQLite 3.40 prefers the index
 * without the filter's column. */
#define SEARCH_SQL(lead)                                                                           \
	"SELECT " CONTACT_COLS " FROM contacts WHERE instance_id=?1 " lead                         \
	"AND initiated_at>=?2 AND initiated_at<=min(?3,?8) "                                       \
	"AND (?4 IS NULL OR channel=?4) AND (?5 IS NULL OR queue_id=?5) "                          \
	"AND (?6 IS NULL OR agent_id=?6) AND (?7 IS NULL OR state=?7) "                            \
	"AND (initiated_at<?8 OR (initiated_at=?8 AND id<?9)) "                                    \
	"ORDER BY initiated_at DESC,id DESC LIMIT ?10"

static const char search_any[] = SEARCH_SQL("");
static const char search_agent[] = SEARCH_SQL("AND agent_id=?6 ");
static const char search_queue[] = SEARCH_SQL("AND queue_id=?5 ");
static const char search_channel[] = SEARCH_SQL("AND channel=?4 ");

static bool given(const char *v)
{
	return v && *v;
}

bw_result bw_sq__contact_search(struct bw_store *s, const struct bw_contact_filter *f,
                                struct bw_contact *out, size_t max, size_t *n)
{
	const char *sql = given(f->agent_id)   ? search_agent
	                  : given(f->queue_id) ? search_queue
	                  : given(f->channel)  ? search_channel
	                                       : search_any;
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), sql);
	*n = 0;
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, f->instance_id);
	sqlite3_bind_int64(st, 2, f->since_ms ? f->since_ms : LLONG_MIN);
	sqlite3_bind_int64(st, 3, f->until_ms ? f->until_ms : LLONG_MAX);
	bw_sq__bind_opt(st, 4, f->channel);
	bw_sq__bind_opt(st, 5, f->queue_id);
	bw_sq__bind_opt(st, 6, f->agent_id);
	bw_sq__bind_opt(st, 7, f->state);
	/* The first page starts before (LLONG_MAX, ""): after every row. */
	if (f->before_id) {
		sqlite3_bind_int64(st, 8, f->before_ms);
		bw_sq__bind(st, 9, f->before_id);
	} else {
		sqlite3_bind_int64(st, 8, LLONG_MAX);
		bw_sq__bind(st, 9, "");
	}
	sqlite3_bind_int64(st, 10, (sqlite3_int64)max);
	int rc = SQLITE_DONE;
	while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
		contact_row(st, &out[(*n)++]);
	return *n == max || rc == SQLITE_DONE ? BW_OK : BW_ERR;
}

/* A contact that already left (after-contact work) keeps the reason and
 * time it left with; its after-contact work ends now. */
bw_result bw_sq__contacts_live(struct bw_store *s, bw_contact_cb *cb, void *arg)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "SELECT " CONTACT_COLS " FROM contacts "
	                                      "WHERE state<>'ENDED' ORDER BY initiated_at");
	int rc;
	if (!st)
		return BW_ERR;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct bw_contact c;
		contact_row(st, &c);
		int stop = cb(&c, arg);
		bw_contact_clear(&c);
		if (stop)
			return BW_OK;
	}
	return rc == SQLITE_DONE ? BW_OK : BW_ERR;
}

bw_result bw_sq__contacts_end_live(struct bw_store *s, const char *reason, long long now_ms,
                                   size_t *n)
{
	struct sq_store *q = SQ(s);
	*n = 0;
	sqlite3_stmt *st = bw_sq__stmt(
	    q, "UPDATE contacts SET "
	       "acw_ended_at=CASE WHEN state='AFTER_CONTACT_WORK' THEN ?2 ELSE acw_ended_at END,"
	       "state='ENDED',disconnect_reason=coalesce(disconnect_reason,?1),"
	       "disconnected_at=coalesce(disconnected_at,?2),updated_at=?2 WHERE state<>'ENDED'");
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, reason);
	sqlite3_bind_int64(st, 2, now_ms);
	bw_result r = bw_sq__step_done(st);
	if (r == BW_OK)
		*n = (size_t)sqlite3_changes(q->db);
	return r;
}

/* ---- messages ---- */

/* A seq of 0 takes the next number of the contact. */
bw_result bw_sq__message_insert(struct bw_store *s, const struct bw_contact_message *m)
{
	sqlite3_stmt *st = bw_sq__stmt(
	    SQ(s), "INSERT INTO contact_messages(id,instance_id,contact_id,seq,role,sender_id,"
	           "time,content) VALUES(?1,?2,?3,CASE WHEN ?4>0 THEN ?4 ELSE (SELECT "
	           "coalesce(max(seq),0)+1 FROM contact_messages WHERE contact_id=?3) END,"
	           "?5,?6,?7,?8)");
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, m->id);
	bw_sq__bind(st, 2, m->instance_id);
	bw_sq__bind(st, 3, m->contact_id);
	sqlite3_bind_int64(st, 4, m->seq);
	bw_sq__bind(st, 5, m->role);
	bw_sq__bind_opt(st, 6, m->sender_id);
	sqlite3_bind_int64(st, 7, m->time);
	sqlite3_bind_blob(st, 8, m->content ? (const void *)m->content : "", (int)m->content_len,
	                  SQLITE_STATIC);
	return bw_sq__step_done(st);
}

static void message_row(sqlite3_stmt *st, struct bw_contact_message *m)
{
	memset(m, 0, sizeof(*m));
	bw_sq__text(m->id, sizeof(m->id), st, 0);
	bw_sq__text(m->instance_id, sizeof(m->instance_id), st, 1);
	bw_sq__text(m->contact_id, sizeof(m->contact_id), st, 2);
	m->seq = sqlite3_column_int64(st, 3);
	bw_sq__text(m->role, sizeof(m->role), st, 4);
	bw_sq__text(m->sender_id, sizeof(m->sender_id), st, 5);
	m->time = sqlite3_column_int64(st, 6);
	m->content = dup_blob(st, 7, &m->content_len);
}

bw_result bw_sq__message_list(struct bw_store *s, const char *iid, const char *cid, long long after,
                              struct bw_contact_message *out, size_t max, size_t *n)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "SELECT id,instance_id,contact_id,seq,role,sender_id,"
	                                      "time,content FROM contact_messages WHERE "
	                                      "instance_id=? AND contact_id=? AND seq>? "
	                                      "ORDER BY seq LIMIT ?");
	*n = 0;
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, iid);
	bw_sq__bind(st, 2, cid);
	sqlite3_bind_int64(st, 3, after);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)max);
	int rc = SQLITE_DONE;
	while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
		message_row(st, &out[(*n)++]);
	return *n == max || rc == SQLITE_DONE ? BW_OK : BW_ERR;
}

/* ---- flow log ---- */

/* All entries or none; a seq of 0 takes the next number of the contact. */
bw_result bw_sq__flow_log_append(struct bw_store *s, const struct bw_flow_log_entry *e, size_t n)
{
	struct sq_store *q = SQ(s);
	if (bw_sq__begin(q) != BW_OK)
		return BW_ERR;
	bw_result r = BW_OK;
	for (size_t i = 0; i < n && r == BW_OK; i++) {
		sqlite3_stmt *st = bw_sq__stmt(
		    q, "INSERT INTO contact_flow_log(instance_id,contact_id,seq,time,action_id,"
		       "action_type,branch) VALUES(?1,?2,CASE WHEN ?3>0 THEN ?3 ELSE (SELECT "
		       "coalesce(max(seq),0)+1 FROM contact_flow_log WHERE contact_id=?2) END,"
		       "?4,?5,?6,?7)");
		if (!st) {
			r = BW_ERR;
			break;
		}
		bw_sq__bind(st, 1, e[i].instance_id);
		bw_sq__bind(st, 2, e[i].contact_id);
		sqlite3_bind_int64(st, 3, e[i].seq);
		sqlite3_bind_int64(st, 4, e[i].time);
		bw_sq__bind(st, 5, e[i].action_id);
		bw_sq__bind(st, 6, e[i].action_type);
		bw_sq__bind(st, 7, e[i].branch);
		r = bw_sq__step_done(st);
	}
	return bw_sq__end(q, r);
}

static void flow_log_row(sqlite3_stmt *st, struct bw_flow_log_entry *e)
{
	memset(e, 0, sizeof(*e));
	bw_sq__text(e->instance_id, sizeof(e->instance_id), st, 0);
	bw_sq__text(e->contact_id, sizeof(e->contact_id), st, 1);
	e->seq = sqlite3_column_int64(st, 2);
	e->time = sqlite3_column_int64(st, 3);
	bw_sq__text(e->action_id, sizeof(e->action_id), st, 4);
	bw_sq__text(e->action_type, sizeof(e->action_type), st, 5);
	bw_sq__text(e->branch, sizeof(e->branch), st, 6);
}

bw_result bw_sq__flow_log_list(struct bw_store *s, const char *iid, const char *cid,
                               long long after, struct bw_flow_log_entry *out, size_t max,
                               size_t *n)
{
	sqlite3_stmt *st = bw_sq__stmt(SQ(s), "SELECT instance_id,contact_id,seq,time,action_id,"
	                                      "action_type,branch FROM contact_flow_log WHERE "
	                                      "instance_id=? AND contact_id=? AND seq>? "
	                                      "ORDER BY seq LIMIT ?");
	*n = 0;
	if (!st)
		return BW_ERR;
	bw_sq__bind(st, 1, iid);
	bw_sq__bind(st, 2, cid);
	sqlite3_bind_int64(st, 3, after);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)max);
	int rc = SQLITE_DONE;
	while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
		flow_log_row(st, &out[(*n)++]);
	return *n == max || rc == SQLITE_DONE ? BW_OK : BW_ERR;
}
