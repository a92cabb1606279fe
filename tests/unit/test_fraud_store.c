/* Fraud (0006) on the SQLite backend in a temporary folder: deny-list round
 * trips, repeated values, the takeover of an expired entry, all-or-nothing
 * imports, filters and paging, scans and purges, instance scoping; the
 * contact history and the stored contact filters. */
#include "test_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "store/store.h"
#include "test_db.h"

static void make_instance(struct bw_store *s, const char *iid)
{
	test_db_instance(s, iid, NULL);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f || test_db_open(f, "fraud", 6) != 0)
		return -1;
	make_instance(f->s, "in_A");
	make_instance(f->s, "in_B");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	test_db_close(f);
	free(f);
	return 0;
}

static struct bw_deny_row deny(const char *iid, const char *id, const char *type, const char *value,
                               long long created, long long expires)
{
	struct bw_deny_row d;
	memset(&d, 0, sizeof(d));
	snprintf(d.id, sizeof(d.id), "%s", id);
	snprintf(d.instance_id, sizeof(d.instance_id), "%s", iid);
	snprintf(d.type, sizeof(d.type), "%s", type);
	snprintf(d.value, sizeof(d.value), "%s", value);
	snprintf(d.source, sizeof(d.source), "MANUAL");
	d.created_at = created;
	d.expires_at = expires;
	return d;
}

static void insert(struct bw_store *s, const struct bw_deny_row *d)
{
	assert_int_equal(bw_store_deny_insert(s, d), BW_OK);
}

static void test_deny_round_trip(void **state)
{
	struct fixture *f = *state;
	struct bw_deny_row d = deny("in_A", "dl_1", "IP", "203.0.113.0/24", 1000, 0), g;
	snprintf(d.reason, sizeof(d.reason), "abuse from this range");
	insert(f->s, &d);
	assert_int_equal(bw_store_deny_get(f->s, "in_A", "dl_1", &g), BW_OK);
	assert_string_equal(g.id, "dl_1");
	assert_string_equal(g.instance_id, "in_A");
	assert_string_equal(g.type, "IP");
	assert_string_equal(g.value, "203.0.113.0/24");
	assert_string_equal(g.reason, "abuse from this range");
	assert_string_equal(g.source, "MANUAL");
	assert_int_equal(g.expires_at, 0);
	assert_int_equal(g.created_at, 1000);

	/* An expiry and an empty reason (stored as NULL, read back as ""). */
	struct bw_deny_row e = deny("in_A", "dl_2", "EMAIL", "a@example.com", 1000, 1764504000123);
	snprintf(e.source, sizeof(e.source), "AUTOMATIC");
	insert(f->s, &e);
	assert_int_equal(bw_store_deny_get(f->s, "in_A", "dl_2", &g), BW_OK);
	assert_string_equal(g.reason, "");
	assert_string_equal(g.source, "AUTOMATIC");
	assert_int_equal(g.expires_at, 1764504000123);

	/* Update writes reason and expiry, nothing else. */
	snprintf(d.reason, sizeof(d.reason), "changed");
	snprintf(d.value, sizeof(d.value), "198.51.100.1");
	snprintf(d.source, sizeof(d.source), "AUTOMATIC");
	d.expires_at = 5000;
	assert_int_equal(bw_store_deny_update(f->s, &d), BW_OK);
	assert_int_equal(bw_store_deny_get(f->s, "in_A", "dl_1", &g), BW_OK);
	assert_string_equal(g.reason, "changed");
	assert_int_equal(g.expires_at, 5000);
	assert_string_equal(g.value, "203.0.113.0/24");
	assert_string_equal(g.source, "MANUAL");
	d.reason[0] = '\0';
	d.expires_at = 0;
	assert_int_equal(bw_store_deny_update(f->s, &d), BW_OK);
	assert_int_equal(bw_store_deny_get(f->s, "in_A", "dl_1", &g), BW_OK);
	assert_string_equal(g.reason, "");
	assert_int_equal(g.expires_at, 0);

	assert_int_equal(bw_store_deny_delete(f->s, "in_A", "dl_1"), BW_OK);
	assert_int_equal(bw_store_deny_get(f->s, "in_A", "dl_1", &g), BW_NOTFOUND);
	assert_int_equal(bw_store_deny_delete(f->s, "in_A", "dl_1"), BW_NOTFOUND);
	struct bw_deny_row gone = deny("in_A", "dl_1", "IP", "203.0.113.0/24", 1000, 0);
	assert_int_equal(bw_store_deny_update(f->s, &gone), BW_NOTFOUND);

	/* A type the schema does not know is refused. */
	struct bw_deny_row bad = deny("in_A", "dl_x", "PHONE", "+33612345678", 1000, 0);
	assert_int_equal(bw_store_deny_insert(f->s, &bad), BW_CONFLICT);
	assert_int_equal(bw_store_deny_get(f->s, "in_A", "dl_x", &g), BW_NOTFOUND);
}

static void test_deny_conflicts_and_expiry(void **state)
{
	struct fixture *f = *state;
	struct bw_deny_row g;
	struct bw_deny_row a = deny("in_A", "dl_a", "NUMBER", "+33612345678", 1000, 0);
	insert(f->s, &a);
	/* The same (type, value), unexpired: 409, the first entry untouched. */
	struct bw_deny_row b = deny("in_A", "dl_b", "NUMBER", "+33612345678", 2000, 0);
	assert_int_equal(bw_store_deny_insert(f->s, &b), BW_CONFLICT);
	assert_int_equal(bw_store_deny_get(f->s, "in_A", "dl_b", &g), BW_NOTFOUND);
	assert_int_equal(bw_store_deny_get(f->s, "in_A", "dl_a", &g), BW_OK);
	assert_int_equal(g.created_at, 1000);
	/* A repeated id is a conflict too. */
	struct bw_deny_row c = deny("in_A", "dl_a", "NUMBER", "+33699999999", 2000, 0);
	assert_int_equal(bw_store_deny_insert(f->s, &c), BW_CONFLICT);
	/* The same value of another type, or in another instance, is its own entry. */
	struct bw_deny_row d = deny("in_A", "dl_d", "EMAIL", "+33612345678", 1000, 0);
	insert(f->s, &d);
	struct bw_deny_row e = deny("in_B", "dl_e", "NUMBER", "+33612345678", 1000, 0);
	insert(f->s, &e);

	/* An entry that expires at 5000: still in force at 4999 ... */
	struct bw_deny_row x = deny("in_A", "dl_x1", "IP", "192.0.2.7", 1000, 5000);
	snprintf(x.reason, sizeof(x.reason), "old");
	insert(f->s, &x);
	struct bw_deny_row y = deny("in_A", "dl_x2", "IP", "192.0.2.7", 4999, 0);
	assert_int_equal(bw_store_deny_insert(f->s, &y), BW_CONFLICT);
	/* ... expired at 5000, when a new entry replaces it whole. */
	y.created_at = 5000;
	snprintf(y.source, sizeof(y.source), "AUTOMATIC");
	insert(f->s, &y);
	assert_int_equal(bw_store_deny_get(f->s, "in_A", "dl_x1", &g), BW_NOTFOUND);
	assert_int_equal(bw_store_deny_get(f->s, "in_A", "dl_x2", &g), BW_OK);
	assert_string_equal(g.value, "192.0.2.7");
	assert_string_equal(g.reason, "");
	assert_string_equal(g.source, "AUTOMATIC");
	assert_int_equal(g.expires_at, 0);
	assert_int_equal(g.created_at, 5000);
	/* An entry that never expires is never replaced. */
	struct bw_deny_row z = deny("in_A", "dl_x3", "IP", "192.0.2.7", 1LL << 50, 0);
	assert_int_equal(bw_store_deny_insert(f->s, &z), BW_CONFLICT);
	/* An expired entry of another instance is not touched by this one's insert. */
	struct bw_deny_row bx = deny("in_B", "dl_bx", "IP", "192.0.2.8", 1000, 2000);
	insert(f->s, &bx);
	struct bw_deny_row ax = deny("in_A", "dl_ax", "IP", "192.0.2.8", 3000, 0);
	insert(f->s, &ax);
	assert_int_equal(bw_store_deny_get(f->s, "in_B", "dl_bx", &g), BW_OK);
}

static void test_deny_insert_many(void **state)
{
	struct fixture *f = *state;
	struct bw_deny_row g, rows[3];
	size_t n = 0;
	struct bw_deny_filter all = {.instance_id = "in_A"};
	insert(f->s, (struct bw_deny_row[]){deny("in_A", "dl_0", "IP", "10.0.0.1", 1000, 0)});

	/* The third row repeats an existing entry: none of the three is stored. */
	rows[0] = deny("in_A", "dl_1", "IP", "10.0.0.2", 1000, 0);
	rows[1] = deny("in_A", "dl_2", "EMAIL", "x@example.com", 1000, 0);
	rows[2] = deny("in_A", "dl_3", "IP", "10.0.0.1", 1000, 0);
	assert_int_equal(bw_store_deny_insert_many(f->s, rows, 3), BW_CONFLICT);
	struct bw_deny_row out[8];
	assert_int_equal(bw_store_deny_list(f->s, &all, out, 8, &n), BW_OK);
	assert_int_equal(n, 1);
	assert_int_equal(bw_store_deny_get(f->s, "in_A", "dl_1", &g), BW_NOTFOUND);

	/* Two rows of the batch that repeat each other: none either. */
	rows[2] = deny("in_A", "dl_3", "IP", "10.0.0.2", 1000, 0);
	assert_int_equal(bw_store_deny_insert_many(f->s, rows, 3), BW_CONFLICT);
	assert_int_equal(bw_store_deny_list(f->s, &all, out, 8, &n), BW_OK);
	assert_int_equal(n, 1);

	/* A row of an instance that does not exist fails its foreign key. */
	rows[2] = deny("in_nope", "dl_3", "IP", "10.0.0.3", 1000, 0);
	assert_int_equal(bw_store_deny_insert_many(f->s, rows, 3), BW_CONFLICT);
	assert_int_equal(bw_store_deny_list(f->s, &all, out, 8, &n), BW_OK);
	assert_int_equal(n, 1);

	/* All good: all stored, one of them taking over an expired entry. */
	struct bw_deny_row old = deny("in_A", "dl_old", "EMAIL", "y@example.com", 100, 200);
	insert(f->s, &old);
	rows[2] = deny("in_A", "dl_3", "EMAIL", "y@example.com", 1000, 0);
	assert_int_equal(bw_store_deny_insert_many(f->s, rows, 3), BW_OK);
	assert_int_equal(bw_store_deny_list(f->s, &all, out, 8, &n), BW_OK);
	assert_int_equal(n, 4);
	assert_string_equal(out[0].id, "dl_0");
	assert_string_equal(out[3].id, "dl_3");
	assert_int_equal(bw_store_deny_get(f->s, "in_A", "dl_old", &g), BW_NOTFOUND);
	/* An empty batch is fine. */
	assert_int_equal(bw_store_deny_insert_many(f->s, rows, 0), BW_OK);
}

static void test_deny_list_filters_and_paging(void **state)
{
	struct fixture *f = *state;
	char id[16];
	for (int i = 0; i < 10; i++) {
		char v[32];
		snprintf(id, sizeof(id), "dl_%02d", i);
		snprintf(v, sizeof(v), "10.0.0.%d", i);
		struct bw_deny_row d = deny("in_A", id, i % 2 ? "IP" : "EMAIL", v, 1000, 0);
		if (i % 3 == 0)
			snprintf(d.source, sizeof(d.source), "AUTOMATIC");
		insert(f->s, &d);
	}
	insert(f->s, (struct bw_deny_row[]){deny("in_B", "dl_00b", "IP", "10.0.0.1", 1000, 0)});

	struct bw_deny_row out[16];
	size_t n = 0;
	struct bw_deny_filter q = {.instance_id = "in_A"};
	assert_int_equal(bw_store_deny_list(f->s, &q, out, 16, &n), BW_OK);
	assert_int_equal(n, 10);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(out[i].instance_id, "in_A");

	/* Pages of 4 by id. */
	q.after = NULL;
	assert_int_equal(bw_store_deny_list(f->s, &q, out, 4, &n), BW_OK);
	assert_int_equal(n, 4);
	assert_string_equal(out[3].id, "dl_03");
	q.after = "dl_03";
	assert_int_equal(bw_store_deny_list(f->s, &q, out, 4, &n), BW_OK);
	assert_int_equal(n, 4);
	assert_string_equal(out[0].id, "dl_04");
	q.after = "dl_07";
	assert_int_equal(bw_store_deny_list(f->s, &q, out, 4, &n), BW_OK);
	assert_int_equal(n, 2);
	assert_string_equal(out[1].id, "dl_09");

	/* By type, by source, both. */
	struct bw_deny_filter t = {.instance_id = "in_A", .type = "IP"};
	assert_int_equal(bw_store_deny_list(f->s, &t, out, 16, &n), BW_OK);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(out[i].type, "IP");
	struct bw_deny_filter so = {.instance_id = "in_A", .source = "AUTOMATIC"};
	assert_int_equal(bw_store_deny_list(f->s, &so, out, 16, &n), BW_OK);
	assert_int_equal(n, 4); /* 0, 3, 6, 9 */
	struct bw_deny_filter both = {.instance_id = "in_A", .type = "IP", .source = "AUTOMATIC"};
	assert_int_equal(bw_store_deny_list(f->s, &both, out, 16, &n), BW_OK);
	assert_int_equal(n, 2); /* 3, 9 */
	assert_string_equal(out[0].id, "dl_03");
	assert_string_equal(out[1].id, "dl_09");
	struct bw_deny_filter empty = {.instance_id = "in_A", .type = "", .source = ""};
	assert_int_equal(bw_store_deny_list(f->s, &empty, out, 16, &n), BW_OK);
	assert_int_equal(n, 10);
}

static void test_deny_scoping(void **state)
{
	struct fixture *f = *state;
	struct bw_deny_row g;
	insert(f->s, (struct bw_deny_row[]){deny("in_B", "dl_b1", "IP", "10.9.9.9", 1000, 0)});
	/* A's path never reaches B's entry. */
	assert_int_equal(bw_store_deny_get(f->s, "in_A", "dl_b1", &g), BW_NOTFOUND);
	struct bw_deny_row u = deny("in_A", "dl_b1", "IP", "10.9.9.9", 1000, 7);
	assert_int_equal(bw_store_deny_update(f->s, &u), BW_NOTFOUND);
	assert_int_equal(bw_store_deny_delete(f->s, "in_A", "dl_b1"), BW_NOTFOUND);
	assert_int_equal(bw_store_deny_get(f->s, "in_B", "dl_b1", &g), BW_OK);
	assert_int_equal(g.expires_at, 0);
	/* Deleting an instance takes its entries, filters and history with it. */
	char *json = NULL;
	struct bw_history_row h = {.instance_id = "in_B", .kind = 1, .key = "0123", .at = 5};
	assert_int_equal(bw_store_history_add(f->s, &h, 1), BW_OK);
	assert_int_equal(bw_store_filter_put(f->s, "in_B", "{}"), BW_OK);
	assert_int_equal(bw_store_instance_delete(f->s, "in_B"), BW_OK);
	assert_int_equal(bw_store_deny_get(f->s, "in_B", "dl_b1", &g), BW_NOTFOUND);
	assert_int_equal(bw_store_filter_get(f->s, "in_B", &json), BW_NOTFOUND);
	assert_null(json);
}

struct collect {
	size_t n;
	char ids[16][128];
	long long at[16];
	int kinds[16];
	int stop_after; /* 0: never */
};

static int collect_deny(const struct bw_deny_row *d, void *arg)
{
	struct collect *c = arg;
	if (c->n < 16)
		snprintf(c->ids[c->n], sizeof(c->ids[0]), "%s/%s", d->instance_id, d->id);
	c->n++;
	return c->stop_after && (int)c->n >= c->stop_after;
}

static void test_deny_scan_and_purge(void **state)
{
	struct fixture *f = *state;
	insert(f->s, (struct bw_deny_row[]){deny("in_A", "dl_1", "IP", "10.0.0.1", 1, 0)});
	insert(f->s, (struct bw_deny_row[]){deny("in_A", "dl_2", "IP", "10.0.0.2", 1, 1000)});
	insert(f->s, (struct bw_deny_row[]){deny("in_B", "dl_3", "IP", "10.0.0.3", 1, 2000)});
	insert(f->s, (struct bw_deny_row[]){deny("in_B", "dl_0", "IP", "10.0.0.4", 1, 0)});

	/* At 1000, dl_2 has expired: every instance's other rows, in id order. */
	struct collect c = {0};
	assert_int_equal(bw_store_deny_scan(f->s, 1000, collect_deny, &c), BW_OK);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.ids[0], "in_B/dl_0");
	assert_string_equal(c.ids[1], "in_A/dl_1");
	assert_string_equal(c.ids[2], "in_B/dl_3");
	/* At 999 it has not. */
	memset(&c, 0, sizeof(c));
	assert_int_equal(bw_store_deny_scan(f->s, 999, collect_deny, &c), BW_OK);
	assert_int_equal(c.n, 4);
	/* A callback that returns non-zero stops the scan. */
	memset(&c, 0, sizeof(c));
	c.stop_after = 2;
	assert_int_equal(bw_store_deny_scan(f->s, 0, collect_deny, &c), BW_OK);
	assert_int_equal(c.n, 2);

	/* The purge at 1999 removes only dl_2; at 2000 dl_3 too; the others stay. */
	struct bw_deny_row g;
	assert_int_equal(bw_store_deny_purge(f->s, 1999), BW_OK);
	assert_int_equal(bw_store_deny_get(f->s, "in_A", "dl_2", &g), BW_NOTFOUND);
	assert_int_equal(bw_store_deny_get(f->s, "in_B", "dl_3", &g), BW_OK);
	assert_int_equal(bw_store_deny_purge(f->s, 2000), BW_OK);
	assert_int_equal(bw_store_deny_get(f->s, "in_B", "dl_3", &g), BW_NOTFOUND);
	assert_int_equal(bw_store_deny_purge(f->s, 1LL << 60), BW_OK);
	assert_int_equal(bw_store_deny_get(f->s, "in_A", "dl_1", &g), BW_OK);
	assert_int_equal(bw_store_deny_get(f->s, "in_B", "dl_0", &g), BW_OK);
}

static int collect_history(const struct bw_history_row *h, void *arg)
{
	struct collect *c = arg;
	if (c->n < 16) {
		snprintf(c->ids[c->n], sizeof(c->ids[0]), "%s/%s", h->instance_id, h->key);
		c->at[c->n] = h->at;
		c->kinds[c->n] = h->kind;
	}
	c->n++;
	return c->stop_after && (int)c->n >= c->stop_after;
}

static struct bw_history_row hist(const char *iid, int kind, const char *key, long long at)
{
	struct bw_history_row h;
	memset(&h, 0, sizeof(h));
	snprintf(h.instance_id, sizeof(h.instance_id), "%s", iid);
	h.kind = kind;
	snprintf(h.key, sizeof(h.key), "%s", key);
	h.at = at;
	return h;
}

static void test_history(void **state)
{
	struct fixture *f = *state;
	const char *k1 = "00112233445566778899aabbccddeeff";
	const char *k2 = "ffeeddccbbaa99887766554433221100";
	struct bw_history_row rows[4] = {hist("in_A", 0, k1, 3000), hist("in_A", 2, k2, 3000),
	                                 hist("in_B", 1, k1, 1000), hist("in_A", 0, k1, 2000)};
	assert_int_equal(bw_store_history_add(f->s, rows, 4), BW_OK);

	/* Oldest first; equal times in the order they were added. */
	struct collect c = {0};
	assert_int_equal(bw_store_history_scan(f->s, 0, collect_history, &c), BW_OK);
	assert_int_equal(c.n, 4);
	assert_int_equal(c.at[0], 1000);
	assert_string_equal(c.ids[0], "in_B/00112233445566778899aabbccddeeff");
	assert_int_equal(c.kinds[0], 1);
	assert_int_equal(c.at[1], 2000);
	assert_int_equal(c.at[2], 3000);
	assert_int_equal(c.kinds[2], 0);
	assert_int_equal(c.kinds[3], 2);
	assert_string_equal(c.ids[3], "in_A/ffeeddccbbaa99887766554433221100");
	/* since is inclusive. */
	memset(&c, 0, sizeof(c));
	assert_int_equal(bw_store_history_scan(f->s, 2000, collect_history, &c), BW_OK);
	assert_int_equal(c.n, 3);
	memset(&c, 0, sizeof(c));
	c.stop_after = 1;
	assert_int_equal(bw_store_history_scan(f->s, 0, collect_history, &c), BW_OK);
	assert_int_equal(c.n, 1);

	/* All or nothing: a bad kind in the batch stores none of it. */
	struct bw_history_row bad[2] = {hist("in_A", 0, k1, 4000), hist("in_A", 7, k1, 4000)};
	assert_int_equal(bw_store_history_add(f->s, bad, 2), BW_CONFLICT);
	memset(&c, 0, sizeof(c));
	assert_int_equal(bw_store_history_scan(f->s, 4000, collect_history, &c), BW_OK);
	assert_int_equal(c.n, 0);

	/* before is exclusive. */
	assert_int_equal(bw_store_history_purge(f->s, 2000), BW_OK);
	memset(&c, 0, sizeof(c));
	assert_int_equal(bw_store_history_scan(f->s, 0, collect_history, &c), BW_OK);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.at[0], 2000);
	assert_int_equal(bw_store_history_purge(f->s, 3001), BW_OK);
	memset(&c, 0, sizeof(c));
	assert_int_equal(bw_store_history_scan(f->s, 0, collect_history, &c), BW_OK);
	assert_int_equal(c.n, 0);
}

struct filters {
	size_t n;
	char iid[4][48];
	char json[4][64];
};

static int collect_filter(const char *iid, const char *json, void *arg)
{
	struct filters *c = arg;
	if (c->n < 4) {
		snprintf(c->iid[c->n], sizeof(c->iid[0]), "%s", iid);
		snprintf(c->json[c->n], sizeof(c->json[0]), "%s", json);
	}
	c->n++;
	return 0;
}

static void test_filters(void **state)
{
	struct fixture *f = *state;
	char *json = (char *)"untouched";
	assert_int_equal(bw_store_filter_get(f->s, "in_A", &json), BW_NOTFOUND);
	assert_null(json);
	assert_int_equal(bw_store_filter_put(f->s, "in_A", "{\"enabled\":false}"), BW_OK);
	assert_int_equal(bw_store_filter_get(f->s, "in_A", &json), BW_OK);
	assert_string_equal(json, "{\"enabled\":false}");
	free(json);
	/* A second put replaces the first. */
	assert_int_equal(bw_store_filter_put(f->s, "in_A", "{\"enabled\":true}"), BW_OK);
	assert_int_equal(bw_store_filter_get(f->s, "in_A", &json), BW_OK);
	assert_string_equal(json, "{\"enabled\":true}");
	free(json);
	/* B has none of A's. */
	assert_int_equal(bw_store_filter_get(f->s, "in_B", &json), BW_NOTFOUND);
	/* No instance, no filter. */
	assert_int_equal(bw_store_filter_put(f->s, "in_nope", "{}"), BW_CONFLICT);

	assert_int_equal(bw_store_filter_put(f->s, "in_B", "{\"dry_run\":true}"), BW_OK);
	struct filters c = {0};
	assert_int_equal(bw_store_filter_scan(f->s, collect_filter, &c), BW_OK);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.iid[0], "in_A");
	assert_string_equal(c.json[0], "{\"enabled\":true}");
	assert_string_equal(c.iid[1], "in_B");
	assert_string_equal(c.json[1], "{\"dry_run\":true}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_deny_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_deny_conflicts_and_expiry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_deny_insert_many, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_deny_list_filters_and_paging, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_deny_scoping, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_deny_scan_and_purge, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_history, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
