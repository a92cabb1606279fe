/* Contacts (0005) on the SQLite backend in a temporary folder: round trips,
 * instance scoping, the participant token lookup, search filters and
 * paging, ending live contacts, messages and flow logs; then the times with
 * milliseconds and the JSON of a record and a message (src/api/contacts.c). */
#include "test_common.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "api/api.h"
#include "core/ids.h"
#include "sec/keyring.h"
#include "test_db.h"
#include "sec/seal.h"
#include "store/store.h"

/* keys (C14): the keyring seals users' names and the values below */
static const uint8_t keyring_root[32] = {9, 9, 9};

static void make_instance(struct bw_store *s, const char *iid)
{
	test_db_instance(s, iid, "Grace");
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f || test_db_open(f, "contacts", 0) != 0 ||
	    bw_keyring_start(f->path, 0, keyring_root, NULL) != BW_OK)
		return -1;
	make_instance(f->s, "in_A");
	make_instance(f->s, "in_B");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	bw_keyring_stop(); /* before the files go */
	test_db_close(f);
	free(f);
	return 0;
}

static void contact(struct bw_contact *c, const char *iid, const char *id, long long at)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->id, sizeof(c->id), "%s", id);
	snprintf(c->instance_id, sizeof(c->instance_id), "%s", iid);
	snprintf(c->channel, sizeof(c->channel), "CHAT");
	snprintf(c->initiation_method, sizeof(c->initiation_method), "API");
	snprintf(c->state, sizeof(c->state), "INITIATED");
	c->initiated_at = c->updated_at = at;
}

static void put(struct bw_store *s, const struct bw_contact *c, const uint8_t *tok)
{
	assert_int_equal(bw_store_contact_put(s, c, tok), BW_OK);
}

static void test_round_trip(void **state)
{
	struct fixture *f = *state;
	struct bw_contact c, g;
	static const uint8_t blob[] = {1, 2, 0, 3};
	contact(&c, "in_A", "ct_1", 1764504000123);
	snprintf(c.entry_point_id, sizeof(c.entry_point_id), "ep_1");
	snprintf(c.flow_id, sizeof(c.flow_id), "fl_1");
	c.flow_version = 3;
	c.customer = (uint8_t *)blob;
	c.customer_len = sizeof(blob);
	put(f->s, &c, NULL);
	assert_int_equal(bw_store_contact_get(f->s, "in_A", "ct_1", &g), BW_OK);
	assert_string_equal(g.id, "ct_1");
	assert_string_equal(g.instance_id, "in_A");
	assert_string_equal(g.channel, "CHAT");
	assert_string_equal(g.initiation_method, "API");
	assert_string_equal(g.state, "INITIATED");
	assert_string_equal(g.entry_point_id, "ep_1");
	assert_string_equal(g.flow_id, "fl_1");
	assert_int_equal(g.flow_version, 3);
	assert_string_equal(g.queue_id, "");
	assert_string_equal(g.agent_id, "");
	assert_string_equal(g.disconnect_reason, "");
	assert_int_equal(g.initiated_at, 1764504000123);
	assert_int_equal(g.enqueued_at, 0);
	assert_int_equal(g.connected_at, 0);
	assert_int_equal(g.customer_len, sizeof(blob));
	assert_memory_equal(g.customer, blob, sizeof(blob));
	bw_contact_clear(&g);
	assert_null(g.customer);

	/* A later put replaces every column. */
	snprintf(c.state, sizeof(c.state), "ENDED");
	snprintf(c.queue_id, sizeof(c.queue_id), "qu_1");
	snprintf(c.agent_id, sizeof(c.agent_id), "us_9");
	snprintf(c.disconnect_reason, sizeof(c.disconnect_reason), "AGENT_DISCONNECT");
	c.enqueued_at = 1764504001000;
	c.dequeued_at = 1764504002000;
	c.connected_at = 1764504002500;
	c.disconnected_at = 1764504009000;
	c.acw_ended_at = 1764504010000;
	c.updated_at = 1764504010000;
	c.customer = NULL;
	c.customer_len = 0;
	put(f->s, &c, NULL);
	assert_int_equal(bw_store_contact_get(f->s, "in_A", "ct_1", &g), BW_OK);
	assert_string_equal(g.state, "ENDED");
	assert_string_equal(g.queue_id, "qu_1");
	assert_string_equal(g.agent_id, "us_9");
	assert_string_equal(g.disconnect_reason, "AGENT_DISCONNECT");
	assert_int_equal(g.enqueued_at, 1764504001000);
	assert_int_equal(g.dequeued_at, 1764504002000);
	assert_int_equal(g.connected_at, 1764504002500);
	assert_int_equal(g.disconnected_at, 1764504009000);
	assert_int_equal(g.acw_ended_at, 1764504010000);
	assert_int_equal(g.updated_at, 1764504010000);
	assert_null(g.customer);
	bw_contact_clear(&g);

	/* The schema refuses what the record cannot hold. */
	snprintf(c.state, sizeof(c.state), "DANCING");
	assert_int_equal(bw_store_contact_put(f->s, &c, NULL), BW_CONFLICT);
}

static void test_instance_scope(void **state)
{
	struct fixture *f = *state;
	struct bw_contact c, g;
	struct bw_contact_message m = {0}, out[4];
	struct bw_flow_log_entry e = {0}, lo[4];
	size_t n = 9;
	contact(&c, "in_A", "ct_a", 1000);
	put(f->s, &c, NULL);
	assert_int_equal(bw_store_contact_get(f->s, "in_B", "ct_a", &g), BW_NOTFOUND);
	assert_int_equal(bw_store_contact_get(f->s, "in_A", "ct_none", &g), BW_NOTFOUND);

	/* B cannot take over A's id, and A's row stays as it was. */
	contact(&c, "in_B", "ct_a", 2000);
	snprintf(c.state, sizeof(c.state), "ENDED");
	assert_int_equal(bw_store_contact_put(f->s, &c, NULL), BW_CONFLICT);
	assert_int_equal(bw_store_contact_get(f->s, "in_A", "ct_a", &g), BW_OK);
	assert_string_equal(g.state, "INITIATED");
	assert_int_equal(g.initiated_at, 1000);
	bw_contact_clear(&g);

	/* A message or log step of A's contact filed under B is refused. */
	snprintf(m.id, sizeof(m.id), "ms_x");
	snprintf(m.instance_id, sizeof(m.instance_id), "in_B");
	snprintf(m.contact_id, sizeof(m.contact_id), "ct_a");
	snprintf(m.role, sizeof(m.role), "SYSTEM");
	m.seq = 1;
	m.content = (uint8_t *)"x";
	m.content_len = 1;
	assert_int_equal(bw_store_message_insert(f->s, &m), BW_CONFLICT);
	snprintf(e.instance_id, sizeof(e.instance_id), "in_B");
	snprintf(e.contact_id, sizeof(e.contact_id), "ct_a");
	snprintf(e.action_id, sizeof(e.action_id), "a");
	snprintf(e.action_type, sizeof(e.action_type), "MessageParticipant");
	snprintf(e.branch, sizeof(e.branch), "Next");
	assert_int_equal(bw_store_flow_log_append(f->s, &e, 1), BW_CONFLICT);

	/* Filed under A, they are not listed for B. */
	snprintf(m.instance_id, sizeof(m.instance_id), "in_A");
	snprintf(e.instance_id, sizeof(e.instance_id), "in_A");
	assert_int_equal(bw_store_message_insert(f->s, &m), BW_OK);
	assert_int_equal(bw_store_flow_log_append(f->s, &e, 1), BW_OK);
	assert_int_equal(bw_store_message_list(f->s, "in_B", "ct_a", 0, out, 4, &n), BW_OK);
	assert_int_equal(n, 0);
	assert_int_equal(bw_store_flow_log_list(f->s, "in_B", "ct_a", 0, lo, 4, &n), BW_OK);
	assert_int_equal(n, 0);
	assert_int_equal(bw_store_message_list(f->s, "in_A", "ct_a", 0, out, 4, &n), BW_OK);
	assert_int_equal(n, 1);
	bw_contact_message_clear(&out[0]);

	/* B's search does not see A's contact. */
	struct bw_contact_filter fb = {.instance_id = "in_B"};
	struct bw_contact rows[4];
	assert_int_equal(bw_store_contact_search(f->s, &fb, rows, 4, &n), BW_OK);
	assert_int_equal(n, 0);

	/* Deleting the instance takes its contacts, messages and log along. */
	assert_int_equal(bw_store_instance_delete(f->s, "in_A"), BW_OK);
	assert_int_equal(bw_store_contact_get(f->s, "in_A", "ct_a", &g), BW_NOTFOUND);
	assert_int_equal(bw_store_message_list(f->s, "in_A", "ct_a", 0, out, 4, &n), BW_OK);
	assert_int_equal(n, 0);
}

static void test_token(void **state)
{
	struct fixture *f = *state;
	struct bw_contact c, g;
	uint8_t t1[32], t2[32];
	memset(t1, 0x11, sizeof(t1));
	memset(t2, 0x22, sizeof(t2));
	contact(&c, "in_B", "ct_t", 5000);
	put(f->s, &c, t1);
	assert_int_equal(bw_store_contact_by_token(f->s, t1, &g), BW_OK);
	assert_string_equal(g.id, "ct_t");
	assert_string_equal(g.instance_id, "in_B");
	bw_contact_clear(&g);
	assert_int_equal(bw_store_contact_by_token(f->s, t2, &g), BW_NOTFOUND);

	/* Puts without a token keep it. */
	snprintf(c.state, sizeof(c.state), "QUEUED");
	put(f->s, &c, NULL);
	assert_int_equal(bw_store_contact_by_token(f->s, t1, &g), BW_OK);
	assert_string_equal(g.state, "QUEUED");
	bw_contact_clear(&g);

	/* A token belongs to one contact. */
	contact(&c, "in_B", "ct_u", 6000);
	assert_int_equal(bw_store_contact_put(f->s, &c, t1), BW_CONFLICT);
	assert_int_equal(bw_store_contact_get(f->s, "in_B", "ct_u", &g), BW_NOTFOUND);
	put(f->s, &c, t2);
	assert_int_equal(bw_store_contact_by_token(f->s, t2, &g), BW_OK);
	assert_string_equal(g.id, "ct_u");
	bw_contact_clear(&g);
}

/* Twelve contacts of A: times 1000..1011 s with two sharing 1005 s;
 * channels, queues, agents and states vary with i. */
static void fill(struct bw_store *s)
{
	for (int i = 0; i < 12; i++) {
		struct bw_contact c;
		char id[16];
		snprintf(id, sizeof(id), "ct_%02d", i);
		contact(&c, "in_A", id, (i == 6 ? 1005 : 1000 + i) * 1000LL);
		if (i % 3 == 0)
			snprintf(c.channel, sizeof(c.channel), "CALLBACK");
		snprintf(c.queue_id, sizeof(c.queue_id), "qu_%d", i % 2);
		if (i % 4 == 0)
			snprintf(c.agent_id, sizeof(c.agent_id), "us_x");
		snprintf(c.state, sizeof(c.state), "%s", i < 10 ? "ENDED" : "QUEUED");
		put(s, &c, NULL);
	}
	struct bw_contact other;
	contact(&other, "in_B", "ct_other", 1003000);
	put(s, &other, NULL);
}

static size_t search(struct bw_store *s, struct bw_contact_filter *fl, char ids[][48], size_t max)
{
	struct bw_contact rows[16];
	size_t n = 0;
	assert_true(max <= 16);
	assert_int_equal(bw_store_contact_search(s, fl, rows, max, &n), BW_OK);
	for (size_t i = 0; i < n; i++) {
		snprintf(ids[i], 48, "%.47s", rows[i].id);
		assert_string_equal(rows[i].instance_id, "in_A");
		bw_contact_clear(&rows[i]);
	}
	return n;
}

static void test_search(void **state)
{
	struct fixture *f = *state;
	char ids[16][48];
	fill(f->s);

	/* Newest first, ties on time by id descending. */
	struct bw_contact_filter fl = {.instance_id = "in_A"};
	assert_int_equal(search(f->s, &fl, ids, 16), 12);
	const char *order[] = {"ct_11", "ct_10", "ct_09", "ct_08", "ct_07", "ct_06",
	                       "ct_05", "ct_04", "ct_03", "ct_02", "ct_01", "ct_00"};
	for (int i = 0; i < 12; i++)
		assert_string_equal(ids[i], order[i]);

	/* Pages of 5 by (before_ms, before_id) cover the same, once each,
	 * across the tie at 1005 s. */
	char seen[16][48];
	size_t total = 0, n;
	struct bw_contact_filter pg = {.instance_id = "in_A"};
	struct bw_contact rows[5];
	char before[48];
	do {
		assert_int_equal(bw_store_contact_search(f->s, &pg, rows, 5, &n), BW_OK);
		for (size_t i = 0; i < n; i++) {
			snprintf(seen[total++], 48, "%.47s", rows[i].id);
			bw_contact_clear(&rows[i]);
		}
		if (n) {
			snprintf(before, sizeof(before), "%s", seen[total - 1]);
			pg.before_id = before;
			pg.before_ms = rows[n - 1].initiated_at;
		}
	} while (n == 5);
	assert_int_equal(total, 12);
	for (int i = 0; i < 12; i++)
		assert_string_equal(seen[i], order[i]);

	/* Each filter alone. */
	fl = (struct bw_contact_filter){.instance_id = "in_A", .channel = "CALLBACK"};
	assert_int_equal(search(f->s, &fl, ids, 16), 4); /* 9 6 3 0 */
	assert_string_equal(ids[0], "ct_09");
	assert_string_equal(ids[3], "ct_00");
	fl = (struct bw_contact_filter){.instance_id = "in_A", .queue_id = "qu_1"};
	assert_int_equal(search(f->s, &fl, ids, 16), 6);
	fl = (struct bw_contact_filter){.instance_id = "in_A", .agent_id = "us_x"};
	assert_int_equal(search(f->s, &fl, ids, 16), 3); /* 8 4 0 */
	assert_string_equal(ids[0], "ct_08");
	fl = (struct bw_contact_filter){.instance_id = "in_A", .state = "QUEUED"};
	assert_int_equal(search(f->s, &fl, ids, 16), 2);
	fl = (struct bw_contact_filter){
	    .instance_id = "in_A", .since_ms = 1005000, .until_ms = 1007000};
	assert_int_equal(search(f->s, &fl, ids, 16), 3); /* 7, then 6 and 5 at 1005 s */
	assert_string_equal(ids[0], "ct_07");
	assert_string_equal(ids[1], "ct_06");
	assert_string_equal(ids[2], "ct_05");
	fl = (struct bw_contact_filter){.instance_id = "in_A", .until_ms = -1};
	assert_int_equal(search(f->s, &fl, ids, 16), 0);

	/* Filters together, and with paging. */
	fl = (struct bw_contact_filter){
	    .instance_id = "in_A", .channel = "CALLBACK", .queue_id = "qu_0", .agent_id = "us_x"};
	assert_int_equal(search(f->s, &fl, ids, 16), 1); /* 0 (6 has no agent) */
	assert_string_equal(ids[0], "ct_00");
	fl = (struct bw_contact_filter){
	    .instance_id = "in_A", .queue_id = "qu_0", .before_ms = 1005000, .before_id = "ct_06"};
	assert_int_equal(search(f->s, &fl, ids, 16), 3); /* 4 2 0 */
	assert_string_equal(ids[0], "ct_04");
	fl = (struct bw_contact_filter){.instance_id = "in_A", .channel = "", .queue_id = ""};
	assert_int_equal(search(f->s, &fl, ids, 3), 3); /* "" is any, like NULL */
	assert_string_equal(ids[0], "ct_11");
}

static void test_end_live(void **state)
{
	struct fixture *f = *state;
	struct bw_contact c, g;
	size_t n = 99;
	const char *live[] = {"INITIATED", "IN_FLOW", "QUEUED", "OFFERED", "CONNECTED"};
	for (int i = 0; i < 5; i++) {
		char id[16];
		snprintf(id, sizeof(id), "ct_live%d", i);
		contact(&c, i % 2 ? "in_A" : "in_B", id, 1000 + i);
		snprintf(c.state, sizeof(c.state), "%s", live[i]);
		put(f->s, &c, NULL);
	}
	contact(&c, "in_A", "ct_acw", 2000);
	snprintf(c.state, sizeof(c.state), "AFTER_CONTACT_WORK");
	snprintf(c.disconnect_reason, sizeof(c.disconnect_reason), "CUSTOMER_DISCONNECT");
	c.disconnected_at = 2500;
	put(f->s, &c, NULL);
	contact(&c, "in_A", "ct_done", 3000);
	snprintf(c.state, sizeof(c.state), "ENDED");
	snprintf(c.disconnect_reason, sizeof(c.disconnect_reason), "AGENT_DISCONNECT");
	c.disconnected_at = c.updated_at = 3500;
	put(f->s, &c, NULL);

	assert_int_equal(bw_store_contacts_end_live(f->s, "SERVER_RESTART", 9000, &n), BW_OK);
	assert_int_equal(n, 6);
	for (int i = 0; i < 5; i++) {
		char id[16];
		snprintf(id, sizeof(id), "ct_live%d", i);
		assert_int_equal(bw_store_contact_get(f->s, i % 2 ? "in_A" : "in_B", id, &g),
		                 BW_OK);
		assert_string_equal(g.state, "ENDED");
		assert_string_equal(g.disconnect_reason, "SERVER_RESTART");
		assert_int_equal(g.disconnected_at, 9000);
		assert_int_equal(g.updated_at, 9000);
		assert_int_equal(g.acw_ended_at, 0);
		bw_contact_clear(&g);
	}
	/* After-contact work: the customer had left; the work ends now. */
	assert_int_equal(bw_store_contact_get(f->s, "in_A", "ct_acw", &g), BW_OK);
	assert_string_equal(g.state, "ENDED");
	assert_string_equal(g.disconnect_reason, "CUSTOMER_DISCONNECT");
	assert_int_equal(g.disconnected_at, 2500);
	assert_int_equal(g.acw_ended_at, 9000);
	bw_contact_clear(&g);
	/* An ended contact is left alone. */
	assert_int_equal(bw_store_contact_get(f->s, "in_A", "ct_done", &g), BW_OK);
	assert_string_equal(g.disconnect_reason, "AGENT_DISCONNECT");
	assert_int_equal(g.updated_at, 3500);
	bw_contact_clear(&g);

	assert_int_equal(bw_store_contacts_end_live(f->s, "SERVER_RESTART", 9500, &n), BW_OK);
	assert_int_equal(n, 0);
}

static void message(struct bw_contact_message *m, const char *id, long long seq, const char *role,
                    const char *text)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->id, sizeof(m->id), "%s", id);
	snprintf(m->instance_id, sizeof(m->instance_id), "in_A");
	snprintf(m->contact_id, sizeof(m->contact_id), "ct_m");
	snprintf(m->role, sizeof(m->role), "%s", role);
	if (!strcmp(role, "AGENT"))
		snprintf(m->sender_id, sizeof(m->sender_id), "us_in_A");
	m->seq = seq;
	m->time = 7000 + seq;
	m->content = (uint8_t *)text;
	m->content_len = strlen(text);
}

static void test_messages(void **state)
{
	struct fixture *f = *state;
	struct bw_contact c;
	struct bw_contact_message m, out[8];
	size_t n = 0;
	contact(&c, "in_A", "ct_m", 7000);
	put(f->s, &c, NULL);
	message(&m, "ms_1", 1, "SYSTEM", "hello");
	assert_int_equal(bw_store_message_insert(f->s, &m), BW_OK);
	message(&m, "ms_2", 2, "CUSTOMER", "hi");
	assert_int_equal(bw_store_message_insert(f->s, &m), BW_OK);
	message(&m, "ms_3", 0, "AGENT", "how can I help?"); /* 0: the next seq */
	assert_int_equal(bw_store_message_insert(f->s, &m), BW_OK);
	message(&m, "ms_dup", 2, "CUSTOMER", "again");
	assert_int_equal(bw_store_message_insert(f->s, &m), BW_CONFLICT);
	message(&m, "ms_1", 9, "CUSTOMER", "same id");
	assert_int_equal(bw_store_message_insert(f->s, &m), BW_CONFLICT);
	message(&m, "ms_bad", 10, "ROBOT", "?");
	assert_int_equal(bw_store_message_insert(f->s, &m), BW_CONFLICT);

	assert_int_equal(bw_store_message_list(f->s, "in_A", "ct_m", 0, out, 8, &n), BW_OK);
	assert_int_equal(n, 3);
	assert_string_equal(out[0].id, "ms_1");
	assert_string_equal(out[0].role, "SYSTEM");
	assert_string_equal(out[0].sender_id, "");
	assert_int_equal(out[0].time, 7001);
	assert_int_equal(out[0].content_len, 5);
	assert_memory_equal(out[0].content, "hello", 5);
	assert_string_equal(out[2].id, "ms_3");
	assert_int_equal(out[2].seq, 3);
	assert_string_equal(out[2].sender_id, "us_in_A");
	for (size_t i = 0; i < n; i++)
		bw_contact_message_clear(&out[i]);
	assert_int_equal(bw_store_message_list(f->s, "in_A", "ct_m", 1, out, 1, &n), BW_OK);
	assert_int_equal(n, 1);
	assert_string_equal(out[0].id, "ms_2");
	bw_contact_message_clear(&out[0]);
	assert_null(out[0].content);
	assert_int_equal(bw_store_message_list(f->s, "in_A", "ct_m", 3, out, 8, &n), BW_OK);
	assert_int_equal(n, 0);
}

static void test_flow_log(void **state)
{
	struct fixture *f = *state;
	struct bw_contact c;
	struct bw_flow_log_entry e[3], out[8];
	size_t n = 0;
	contact(&c, "in_A", "ct_f", 8000);
	put(f->s, &c, NULL);
	const char *types[] = {"MessageParticipant", "UpdateContactAttributes", "TransferToQueue"};
	const char *branches[] = {"Next", "Condition[2]", "QueueAtCapacity"};
	for (int i = 0; i < 3; i++) {
		memset(&e[i], 0, sizeof(e[i]));
		snprintf(e[i].instance_id, sizeof(e[i].instance_id), "in_A");
		snprintf(e[i].contact_id, sizeof(e[i].contact_id), "ct_f");
		snprintf(e[i].action_id, sizeof(e[i].action_id), "block-%d", i);
		snprintf(e[i].action_type, sizeof(e[i].action_type), "%s", types[i]);
		snprintf(e[i].branch, sizeof(e[i].branch), "%s", branches[i]);
		e[i].time = 8000 + i;
	}
	assert_int_equal(bw_store_flow_log_append(f->s, e, 2), BW_OK); /* seq 0: numbered 1, 2 */
	e[2].seq = 2; /* taken: nothing of this batch is written */
	struct bw_flow_log_entry batch[2] = {e[2], e[2]};
	batch[0].seq = 3;
	assert_int_equal(bw_store_flow_log_append(f->s, batch, 2), BW_CONFLICT);
	e[2].seq = 0;
	assert_int_equal(bw_store_flow_log_append(f->s, &e[2], 1), BW_OK);
	assert_int_equal(bw_store_flow_log_list(f->s, "in_A", "ct_f", 0, out, 8, &n), BW_OK);
	assert_int_equal(n, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(out[i].seq, i + 1);
		assert_int_equal(out[i].time, 8000 + i);
		assert_string_equal(out[i].action_type, types[i]);
		assert_string_equal(out[i].branch, branches[i]);
	}
	assert_string_equal(out[1].action_id, "block-1");
	assert_int_equal(bw_store_flow_log_list(f->s, "in_A", "ct_f", 2, out, 8, &n), BW_OK);
	assert_int_equal(n, 1);
	assert_string_equal(out[0].action_id, "block-2");
}

static void test_time_ms(void **state)
{
	(void)state;
	char b[40];
	long long ms = 0;
	bw_time_rfc3339_ms(1796040000123LL, b, sizeof(b));
	assert_string_equal(b, "2026-11-30T12:00:00.123Z");
	bw_time_rfc3339_ms(1796040000000LL, b, sizeof(b));
	assert_string_equal(b, "2026-11-30T12:00:00.000Z");
	bw_time_rfc3339_ms(-1, b, sizeof(b));
	assert_string_equal(b, "1969-12-31T23:59:59.999Z");

	assert_true(bw_time_parse_rfc3339_ms("2026-11-30T12:00:00.123Z", &ms));
	assert_int_equal(ms, 1796040000123LL);
	assert_true(bw_time_parse_rfc3339_ms("2026-11-30T12:00:00Z", &ms));
	assert_int_equal(ms, 1796040000000LL);
	assert_true(bw_time_parse_rfc3339_ms("2026-11-30T13:30:00.5+01:30", &ms));
	assert_int_equal(ms, 1796040000500LL);
	assert_true(bw_time_parse_rfc3339_ms("2026-11-30t11:00:00.123456789-01:00", &ms));
	assert_int_equal(ms, 1796040000123LL);
	assert_true(bw_time_parse_rfc3339_ms("2024-02-29T00:00:00Z", &ms));
	const char *bad[] = {"",
	                     "2026-11-30",
	                     "2026-11-30T12:00:00",
	                     "2026-11-30 12:00:00Z",
	                     "2026-13-01T00:00:00Z",
	                     "2026-02-29T00:00:00Z",
	                     "2026-11-31T00:00:00Z",
	                     "2026-11-30T24:00:00Z",
	                     "2026-11-30T12:60:00Z",
	                     "2026-11-30T12:00:00.Z",
	                     "2026-11-30T12:00:00+0100",
	                     "2026-11-30T12:00:00+01",
	                     "2026-11-30T12:00:00+",
	                     "2026-11-30T12:00:00Zjunk",
	                     "2026-11-30T12:00:00.1234567890Z",
	                     "yyyy-11-30T12:00:00Z",
	                     "1764504000"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (bw_time_parse_rfc3339_ms(bad[i], &ms))
			fail_msg("accepted \"%s\"", bad[i]);
}

static const uint8_t test_root[32] = {7, 7, 7, 7};

static void test_contact_json(void **state)
{
	(void)state;
	bw_seal_root = test_root;
	struct bw_contact c;
	contact(&c, "in_A", "ct_j", 1796040000123LL);
	snprintf(c.state, sizeof(c.state), "ENDED");
	snprintf(c.entry_point_id, sizeof(c.entry_point_id), "ep_1");
	snprintf(c.flow_id, sizeof(c.flow_id), "fl_1");
	c.flow_version = 3;
	snprintf(c.queue_id, sizeof(c.queue_id), "qu_1");
	c.enqueued_at = 1796040001000LL;
	snprintf(c.disconnect_reason, sizeof(c.disconnect_reason), "CUSTOMER_DISCONNECT");
	c.disconnected_at = 1796040002000LL;
	const char *cust = "{\"display_name\":\"Ada\",\"address\":\"203.0.113.9\","
	                   "\"attributes\":{\"callback_number\":\"+33612345678\"}}";
	assert_int_equal(bw_seal("in_A", "contacts", "ct_j", "customer", (const uint8_t *)cust,
	                         strlen(cust), &c.customer, &c.customer_len),
	                 BW_OK);
	json_t *o = bw_api_contact_json(&c, NULL);
	char *s = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
	assert_contains(s, "\"id\":\"ct_j\"");
	assert_contains(s, "\"instance_id\":\"in_A\"");
	assert_contains(s, "\"initiation_timestamp\":\"2026-11-30T12:00:00.123Z\"");
	assert_contains(s, "\"flow_version\":3");
	assert_contains(s, "\"customer_endpoint\":{\"address\":\"203.0.113.9\","
	                   "\"display_name\":\"Ada\",\"email\":null,"
	                   "\"source_address\":\"203.0.113.9\",\"type\":\"CHAT\"}");
	assert_contains(s, "\"queue\":{\"dequeue_timestamp\":null,"
	                   "\"enqueue_timestamp\":\"2026-11-30T12:00:01.000Z\",\"id\":\"qu_1\"}");
	assert_contains(s, "\"agent\":null");
	assert_contains(s, "\"attributes\":{\"callback_number\":\"+33612345678\"}");
	assert_contains(s, "\"disconnect_reason\":\"CUSTOMER_DISCONNECT\"");
	assert_contains(s, "\"disconnect_timestamp\":\"2026-11-30T12:00:02.000Z\"");
	assert_contains(s, "\"after_contact_work_end_timestamp\":null");
	free(s);
	json_decref(o);

	/* Sealed for another row, the blob does not open: no customer data. */
	snprintf(c.id, sizeof(c.id), "ct_moved");
	o = bw_api_contact_json(&c, NULL);
	s = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
	assert_not_contains(s, "Ada");
	assert_contains(s, "\"display_name\":null");
	assert_contains(s, "\"attributes\":{}");
	free(s);
	json_decref(o);
	bw_contact_clear(&c);

	struct bw_contact_message m = {0};
	snprintf(m.id, sizeof(m.id), "ms_1");
	snprintf(m.role, sizeof(m.role), "CUSTOMER");
	m.time = 1796040000123LL;
	o = bw_api_message_json(&m, "h\xc3\xa9llo", 6, "Ada");
	s = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
	assert_string_equal(
	    s, "{\"content\":\"h\xc3\xa9llo\",\"display_name\":\"Ada\",\"id\":\"ms_1\","
	       "\"participant_role\":\"CUSTOMER\",\"time\":\"2026-11-30T12:00:00.123Z\"}");
	free(s);
	json_decref(o);
	o = bw_api_message_json(&m, "x", 1, NULL);
	assert_null(json_object_get(o, "display_name"));
	json_decref(o);
	bw_seal_root = NULL;
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_instance_scope, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_token, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_search, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_end_live, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_messages, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flow_log, setup, teardown),
	    cmocka_unit_test(test_time_ms),
	    cmocka_unit_test_setup_teardown(test_contact_json, setup, teardown), /* keys: a keyring */
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
