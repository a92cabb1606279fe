/* Event subscriptions (C18): the settings' validation, which events a
 * subscription takes (types and every filter), the field projection, and
 * the outbox in the store (queue, due, settle, dead letters, requeue). */
#include "test_db.h"

#include <string.h>

#include "events/subs.h"

static json_t *body(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, 0, &e);
	assert_non_null(v);
	return v;
}

/* The field and reason of a refused body, or NULL field when taken. */
static const char *refused(const char *text, char *why, size_t n)
{
	json_t *cfg = bw_event_sub_config_new(), *b = body(text);
	const char *field = NULL;
	int rc = bw_event_sub_config_apply(cfg, b, &field, why, n);
	json_decref(cfg);
	json_decref(b);
	return rc == 0 ? NULL : field;
}

static void test_validation(void **state)
{
	(void)state;
	char why[256];
	assert_null(refused("{\"event_types\":[\"contact.ended\",\"audit\"],"
	                    "\"filters\":{\"queues\":[\"qu_1\"],\"channels\":[\"CHAT\"],"
	                    "\"hierarchy_groups\":[\"Sales/EMEA\"],\"business_units\":[\"Sales\"]},"
	                    "\"fields\":[\"id\",\"queue.id\"],"
	                    "\"sink\":{\"type\":\"webhook\",\"integration_id\":\"ig_1\"}}",
	                    why, sizeof(why)));
	const struct {
		const char *text, *field;
	} bad[] = {
	    {"{\"event_types\":[]}", "event_types"},
	    {"{\"event_types\":[\"contact.started\"]}", "event_types"},
	    {"{\"event_types\":[\"audit\",\"audit\"]}", "event_types"},
	    {"{\"event_types\":\"audit\"}", "event_types"},
	    {"{\"event_types\":[\"audit\",\"contact.ended\",\"contact.queued\",\"contact.blocked\","
	     "\"audit\"]}",
	     "event_types"},
	    {"{\"filters\":{\"queue\":[\"qu_1\"]}}", "filters"},
	    {"{\"filters\":[]}", "filters"},
	    {"{\"filters\":{\"queues\":[]}}", "filters.queues"},
	    {"{\"filters\":{\"queues\":[\"a b\"]}}", "filters.queues"},
	    {"{\"filters\":{\"channels\":[\"VOICE\"]}}", "filters.channels"},
	    {"{\"filters\":{\"hierarchy_groups\":[\"a\\u0001\"]}}", "filters.hierarchy_groups"},
	    {"{\"fields\":[]}", "fields"},
	    {"{\"fields\":[\"a.b.c\"]}", "fields"},
	    {"{\"fields\":[\"a-b\"]}", "fields"},
	    {"{\"fields\":[\".a\"]}", "fields"},
	    {"{\"sink\":{\"type\":\"kafka\"}}", "sink.type"},
	    {"{\"sink\":{}}", "sink"},
	    {"{\"sink\":{\"type\":\"nats\",\"subject\":\"x\"}}", "sink"},
	    {"{\"sink\":{\"type\":\"webhook\"}}", "sink.integration_id"},
	    {"{\"sink\":{\"type\":\"webhook\",\"integration_id\":\"ig_1\",\"path\":\"\"}}",
	     "sink.path"},
	    {"{\"sink\":{\"type\":\"webhook\",\"integration_id\":\"ig_1\",\"path\":7}}", "sink.path"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *f = refused(bad[i].text, why, sizeof(why));
		assert_non_null(f);
		assert_string_equal(f, bad[i].field);
		assert_non_null(strstr(why, bad[i].field)); /* the sentence names it */
	}
}

static json_t *cfg_of(const char *text)
{
	json_t *cfg = bw_event_sub_config_new(), *b = body(text);
	const char *field;
	char why[256];
	assert_int_equal(bw_event_sub_config_apply(cfg, b, &field, why, sizeof(why)), 0);
	json_decref(b);
	return cfg;
}

static void test_takes(void **state)
{
	(void)state;
	json_t *all = cfg_of("{\"event_types\":[\"contact.ended\"]}");
	json_t *f = cfg_of("{\"event_types\":[\"contact.ended\",\"audit\"],\"filters\":{"
	                   "\"queues\":[\"qu_a\"],\"channels\":[\"CHAT\"]}}");
	json_t *hg = cfg_of("{\"event_types\":[\"contact.ended\"],\"filters\":{"
	                    "\"hierarchy_groups\":[\"Sales/EMEA\"]}}");
	json_t *bu = cfg_of("{\"event_types\":[\"contact.ended\"],\"filters\":{"
	                    "\"business_units\":[\"Sales\"]}}");
	struct bw_event_src e = {.type = "contact.ended", .queue_id = "qu_a", .channel = "CHAT"};
	assert_true(bw_event_sub_takes(all, &e, NULL));
	assert_true(bw_event_sub_takes(f, &e, NULL));
	e.type = "contact.queued";
	assert_false(bw_event_sub_takes(all, &e, NULL)); /* not its type */
	e.type = "contact.ended";
	e.queue_id = "qu_b";
	assert_false(bw_event_sub_takes(f, &e, NULL));
	e.queue_id = "qu_a";
	e.channel = "CALLBACK";
	assert_false(bw_event_sub_takes(f, &e, NULL));
	/* an audit event has no queue: a queue filter does not take it */
	struct bw_event_src a = {.type = "audit"};
	assert_false(bw_event_sub_takes(f, &a, NULL));
	assert_false(bw_event_sub_needs_group(f));
	assert_true(bw_event_sub_needs_group(hg));
	assert_true(bw_event_sub_takes(hg, &e, "Sales/EMEA"));
	assert_true(bw_event_sub_takes(hg, &e, "Sales/EMEA/Team1"));
	assert_false(bw_event_sub_takes(hg, &e, "Sales/EMEAX"));
	assert_false(bw_event_sub_takes(hg, &e, "Sales"));
	assert_false(bw_event_sub_takes(hg, &e, "")); /* no agent */
	assert_true(bw_event_sub_takes(bu, &e, "Sales/EMEA/Team1"));
	assert_true(bw_event_sub_takes(bu, &e, "Sales"));
	assert_false(bw_event_sub_takes(bu, &e, "Support/Sales"));
	assert_false(bw_event_sub_takes(bu, &e, NULL));
	json_decref(all);
	json_decref(f);
	json_decref(hg);
	json_decref(bu);
}

static void test_project(void **state)
{
	(void)state;
	json_t *data = body("{\"id\":\"ct_1\",\"last_update_timestamp\":\"t\",\"channel\":\"CHAT\","
	                    "\"queue\":{\"id\":\"qu_1\",\"enqueue_timestamp\":\"e\"},"
	                    "\"customer_endpoint\":{\"address\":\"1.2.3.4\",\"email\":\"a@b\"},"
	                    "\"attributes\":{\"x\":\"1\"}}");
	json_t *cfg = cfg_of("{\"fields\":[\"channel\",\"queue.id\",\"customer_endpoint.address\","
	                     "\"absent\",\"queue.nothing\"]}");
	json_t *p = bw_event_project(cfg, "contact.ended", data);
	json_t *want = body("{\"id\":\"ct_1\",\"last_update_timestamp\":\"t\",\"channel\":\"CHAT\","
	                    "\"queue\":{\"id\":\"qu_1\"},"
	                    "\"customer_endpoint\":{\"address\":\"1.2.3.4\"}}");
	assert_true(json_equal(p, want));
	json_decref(p);
	json_decref(want);
	/* a whole member, then one of its members: the source is untouched */
	json_t *cfg2 = cfg_of("{\"fields\":[\"queue\",\"queue.id\"]}");
	p = bw_event_project(cfg2, "audit", data);
	assert_null(json_object_get(p, "last_update_timestamp")); /* not a key of audit */
	assert_int_equal(json_object_size(json_object_get(data, "queue")), 2);
	assert_int_equal(json_object_size(json_object_get(p, "queue")), 2);
	json_decref(p);
	/* no fields: all of it */
	json_t *all = cfg_of("{\"event_types\":[\"audit\"]}");
	p = bw_event_project(all, "contact.ended", data);
	assert_true(json_equal(p, data));
	json_decref(p);
	json_decref(all);
	json_decref(cfg);
	json_decref(cfg2);
	json_decref(data);
}

/* ---- the outbox ---- */

static void sub(struct bw_store *s, const char *iid, const char *id)
{
	struct bw_event_sub_row r = {.enabled = true, .created_at = 1, .updated_at = 1};
	snprintf(r.id, sizeof(r.id), "%s", id);
	snprintf(r.instance_id, sizeof(r.instance_id), "%s", iid);
	snprintf(r.name, sizeof(r.name), "name-%s", id);
	r.config = "{\"event_types\":[\"audit\"],\"sink\":{\"type\":\"nats\"}}";
	assert_int_equal(bw_store_event_sub_insert(s, &r), BW_OK);
	assert_int_equal(bw_store_event_sub_insert(s, &r), BW_CONFLICT);
}

static void queue(struct bw_store *s, const char *iid, const char *sid, const char *eid,
                  long long at)
{
	uint8_t blob[3] = {1, 2, 3};
	struct bw_outbox_row o = {.payload = blob, .payload_len = 3, .next_at = at, .created_at = at};
	snprintf(o.id, sizeof(o.id), "%s", eid);
	snprintf(o.instance_id, sizeof(o.instance_id), "%s", iid);
	snprintf(o.subscription_id, sizeof(o.subscription_id), "%s", sid);
	snprintf(o.type, sizeof(o.type), "audit");
	snprintf(o.dedup_key, sizeof(o.dedup_key), "k-%s", eid);
	assert_int_equal(bw_store_outbox_insert(s, &o, 1), BW_OK);
}

static void test_outbox(void **state)
{
	(void)state;
	struct fixture f;
	assert_int_equal(test_db_open(&f, "events", 11), 0);
	test_db_instance(f.s, "in_a", NULL);
	test_db_instance(f.s, "in_b", NULL);
	sub(f.s, "in_a", "es_1");
	sub(f.s, "in_b", "es_2");
	queue(f.s, "in_a", "es_1", "et_1", 100);
	queue(f.s, "in_a", "es_1", "et_2", 200);
	queue(f.s, "in_b", "es_2", "et_3", 300);
	struct bw_outbox_row rows[8];
	size_t n;
	long long pending, dead;
	assert_int_equal(bw_store_outbox_due(f.s, NULL, 250, rows, 8, &n), BW_OK);
	assert_int_equal(n, 2); /* et_3 is not due yet */
	assert_string_equal(rows[0].id, "et_1");
	assert_int_equal(rows[0].payload_len, 3);
	assert_int_equal(rows[1].payload[2], 3);
	/* et_1 delivered; et_2 failed twice, the second time for good */
	struct bw_outbox_result res[2] = {
	    {.seq = rows[0].seq, .subscription_id = "es_1", .ok = true},
	    {.seq = rows[1].seq, .subscription_id = "es_1", .attempts = 1, .next_at = 1000,
	     .error = "nats: no responders"}};
	assert_int_equal(bw_store_outbox_settle(f.s, res, 2, 260), BW_OK);
	for (size_t i = 0; i < n; i++)
		bw_outbox_row_clear(&rows[i]);
	/* per sink type: es_1 (nats) waits from 1000, es_2 (nats) from 300 */
	struct bw_outbox_sub subs[4];
	assert_int_equal(bw_store_outbox_subs(f.s, "nats", subs, 4, &n), BW_OK);
	assert_int_equal(n, 2);
	assert_string_equal(subs[0].subscription_id, "es_2");
	assert_int_equal(subs[0].next_at, 300);
	assert_string_equal(subs[1].subscription_id, "es_1");
	assert_int_equal(subs[1].next_at, 1000);
	assert_int_equal(bw_store_outbox_subs(f.s, "webhook", subs, 4, &n), BW_OK);
	assert_int_equal(n, 0);
	/* one subscription's due rows; a lease keeps a row from being due */
	assert_int_equal(bw_store_outbox_due(f.s, "es_1", 5000, rows, 8, &n), BW_OK);
	assert_int_equal(n, 1);
	long long leased = rows[0].seq;
	bw_outbox_row_clear(&rows[0]);
	assert_int_equal(bw_store_outbox_lease(f.s, &leased, 1, 9000), BW_OK);
	assert_int_equal(bw_store_outbox_due(f.s, "es_1", 5000, rows, 8, &n), BW_OK);
	assert_int_equal(n, 0);
	/* start-up: a lease of the last run is void, the row is due at once */
	long long moved;
	assert_int_equal(bw_store_outbox_due_now(f.s, 5000, &moved), BW_OK);
	assert_true(moved >= 1);
	assert_int_equal(bw_store_outbox_due(f.s, "es_1", 5000, rows, 8, &n), BW_OK);
	assert_int_equal(n, 1);
	bw_outbox_row_clear(&rows[0]);
	assert_int_equal(bw_store_outbox_counts(f.s, "in_a", "es_1", &pending, &dead), BW_OK);
	assert_int_equal(pending, 1);
	assert_int_equal(dead, 0);
	struct bw_event_sub_row sr;
	assert_int_equal(bw_store_event_sub_get(f.s, "in_a", "es_1", &sr), BW_OK);
	assert_int_equal(sr.delivered, 1);
	assert_int_equal(sr.last_delivered_at, 260);
	assert_string_equal(sr.last_error, "nats: no responders");
	bw_event_sub_row_clear(&sr);
	/* another instance does not see it */
	assert_int_equal(bw_store_event_sub_get(f.s, "in_b", "es_1", &sr), BW_NOTFOUND);
	res[1].attempts = 2;
	res[1].dead = true;
	assert_int_equal(bw_store_outbox_settle(f.s, &res[1], 1, 270), BW_OK);
	assert_int_equal(bw_store_outbox_due(f.s, NULL, 5000, rows, 8, &n), BW_OK);
	assert_int_equal(n, 1); /* the dead letter is not due: only et_3 */
	assert_string_equal(rows[0].id, "et_3");
	bw_outbox_row_clear(&rows[0]);
	assert_int_equal(bw_store_outbox_dead_list(f.s, "in_a", "es_1", 0, rows, 8, &n), BW_OK);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].id, "et_2");
	assert_int_equal(rows[0].attempts, 2);
	assert_null(rows[0].payload); /* never the content */
	assert_int_equal(bw_store_outbox_dead_list(f.s, "in_b", "es_1", 0, rows, 8, &n), BW_OK);
	assert_int_equal(n, 0);
	assert_int_equal(bw_store_outbox_counts(f.s, NULL, NULL, &pending, &dead), BW_OK);
	assert_int_equal(pending, 1);
	assert_int_equal(dead, 1);
	long long k;
	assert_int_equal(bw_store_outbox_dead_requeue(f.s, "in_b", "es_1", 400, &k), BW_OK);
	assert_int_equal(k, 0); /* wrong instance: nothing */
	assert_int_equal(bw_store_outbox_dead_requeue(f.s, "in_a", "es_1", 400, &k), BW_OK);
	assert_int_equal(k, 1);
	assert_int_equal(bw_store_outbox_due(f.s, NULL, 400, rows, 8, &n), BW_OK);
	assert_int_equal(n, 2);
	assert_int_equal(rows[0].attempts, 0);
	for (size_t i = 0; i < n; i++)
		bw_outbox_row_clear(&rows[i]);
	/* retention: a dead letter goes once its last try is older than the cut */
	queue(f.s, "in_a", "es_1", "et_4", 500);
	assert_int_equal(bw_store_outbox_due(f.s, "es_1", 500, rows, 8, &n), BW_OK);
	long long seq4 = 0;
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(rows[i].id, "et_4"))
			seq4 = rows[i].seq;
		bw_outbox_row_clear(&rows[i]);
	}
	struct bw_outbox_result d4 = {.seq = seq4, .subscription_id = "es_1", .attempts = 1,
	                              .dead = true, .next_at = 600, .error = "webhook: status 500"};
	assert_int_equal(bw_store_outbox_settle(f.s, &d4, 1, 700), BW_OK);
	assert_int_equal(bw_store_outbox_dead_expire(f.s, 700, &k), BW_OK);
	assert_int_equal(k, 0); /* tried at 700: not before it */
	assert_int_equal(bw_store_outbox_dead_expire(f.s, 701, &k), BW_OK);
	assert_int_equal(k, 1);
	assert_int_equal(bw_store_outbox_dead_list(f.s, "in_a", "es_1", 0, rows, 8, &n), BW_OK);
	assert_int_equal(n, 0);
	/* deleting a subscription drops what it had queued */
	assert_int_equal(bw_store_event_sub_delete(f.s, "in_a", "es_1"), BW_OK);
	assert_int_equal(bw_store_event_sub_delete(f.s, "in_a", "es_1"), BW_NOTFOUND);
	assert_int_equal(bw_store_outbox_counts(f.s, NULL, NULL, &pending, &dead), BW_OK);
	assert_int_equal(pending, 1);
	/* deleting the instance drops its subscriptions and their rows */
	assert_int_equal(bw_store_instance_delete(f.s, "in_b"), BW_OK);
	assert_int_equal(bw_store_outbox_counts(f.s, NULL, NULL, &pending, &dead), BW_OK);
	assert_int_equal(pending, 0);
	test_db_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_validation),
	    cmocka_unit_test(test_takes),
	    cmocka_unit_test(test_project),
	    cmocka_unit_test(test_outbox),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
