/* fuzz_events: an event subscription's settings (src/events/subs.c) from an
 * API body. Besides not crashing: accepted settings dump to JSON that reads
 * back equal (when they name a sink); the projection of a sample record
 * keeps only members the record has, always its keys, and projecting again
 * changes nothing; judging a sample event never touches what it judges. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/subs.h"

#include "fuzz_check.h"

static const char sample[] =
    "{\"id\":\"ct_1\",\"last_update_timestamp\":\"2026-01-01T00:00:00.000Z\",\"channel\":\"CHAT\","
    "\"queue\":{\"id\":\"qu_1\",\"enqueue_timestamp\":null},\"agent\":null,"
    "\"customer_endpoint\":{\"address\":\"1.2.3.4\",\"display_name\":\"Ada\"},"
    "\"attributes\":{\"x\":\"1\"}}";

/* Every member of p (one level down too) is in d with the same value. */
static void subset(const json_t *p, const json_t *d)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)p, k, v) {
		json_t *w = json_object_get(d, k);
		CHECK(w != NULL);
		if (json_is_object(v) && json_is_object(w))
			subset(v, w);
		else
			CHECK(json_equal(v, w));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(body)) {
		json_decref(body);
		return 0;
	}
	json_t *cfg = bw_event_sub_config_new(), *rec = json_loads(sample, 0, NULL);
	const char *field = NULL;
	char why[256];
	if (bw_event_sub_config_apply(cfg, body, &field, why, sizeof(why)) != 0) {
		CHECK(field && why[0]);
		goto out;
	}
	if (json_is_object(json_object_get(cfg, "sink"))) {
		char *text = json_dumps(cfg, JSON_COMPACT);
		json_t *back = bw_event_sub_config_load(text);
		CHECK(back && json_equal(back, cfg));
		json_decref(back);
		free(text);
	}
	json_t *before = json_deep_copy(rec);
	json_t *p = bw_event_project(cfg, "contact.ended", rec);
	CHECK(p && json_object_get(p, "id") && json_object_get(p, "last_update_timestamp"));
	subset(p, rec);
	json_t *again = bw_event_project(cfg, "contact.ended", p);
	CHECK(json_equal(again, p));
	struct bw_event_src e = {.type = "contact.ended", .instance_id = "in_1", .data = rec,
	                         .queue_id = "qu_1", .channel = "CHAT"};
	(void)bw_event_sub_takes(cfg, &e, "Sales/EMEA");
	(void)bw_event_sub_takes(cfg, &e, NULL);
	CHECK(json_equal(before, rec));
	json_decref(again);
	json_decref(p);
	json_decref(before);
out:
	json_decref(rec);
	json_decref(cfg);
	json_decref(body);
	return 0;
}
