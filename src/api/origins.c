/* The use of approved origins (C17): a public request from an approved
 * origin is noted (at most once a minute per instance and origin, so a busy
 * entry point does not write per request), and
 *   GET /v1/instances/{iid}/approved-origins?unused_for=30d
 * lists the approved origins nothing has used for that long (last use, or
 * when the list was first read with the origin), so that they can be
 * removed, as ?unused_for= does for integrations. */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "core/ids.h"
#include "core/log.h"
#include "sec/isettings.h"
#include "store/store.h"

#define NOTE_SLOTS 1024
#define NOTE_EVERY_MS 60000

static struct {
	uint8_t key[16]; /* BLAKE2b of instance and origin */
	long long at;
} notes[NOTE_SLOTS];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

void bw_api_origin_note(struct bw_ctx *c, const char *iid, const char *origin)
{
	uint8_t key[16];
	crypto_generichash_state st;
	long long now = bw_now_ms();
	crypto_generichash_init(&st, NULL, 0, sizeof(key));
	crypto_generichash_update(&st, (const uint8_t *)iid, strlen(iid) + 1);
	crypto_generichash_update(&st, (const uint8_t *)origin, strlen(origin));
	crypto_generichash_final(&st, key, sizeof(key));
	size_t slot = ((size_t)key[0] << 8 | key[1]) % NOTE_SLOTS;
	pthread_mutex_lock(&mu);
	bool fresh =
	    !memcmp(notes[slot].key, key, sizeof(key)) && now - notes[slot].at < NOTE_EVERY_MS;
	if (!fresh) {
		memcpy(notes[slot].key, key, sizeof(key));
		notes[slot].at = now;
	}
	pthread_mutex_unlock(&mu);
	if (!fresh && bw_store_origin_used(c->store, iid, origin, now) != BW_OK)
		bw_log(BW_LOG_WARN, "an origin's use was not recorded", "instance", iid);
}

void bw_api_origins_list(struct bw_ctx *c)
{
	long long now = bw_now_ms(), before;
	struct bw_instance in;
	if (bw_api_unused_before(c, now, &before) != 0 || bw_api_instance(c, &in) != 0)
		return;
	struct bw_isettings st;
	bw_isettings_parse(in.settings, &st);
	json_t *items = json_array();
	bw_result r = BW_OK;
	for (int i = 0; i < st.norigins && r == BW_OK; i++) {
		struct bw_origin_use u;
		r = bw_store_origin_seen(c->store, in.id, st.origins[i], now, &u);
		long long last = u.last_used_at ? u.last_used_at : u.first_seen_at;
		if (r == BW_OK && (!before || last < before))
			json_array_append_new(
			    items, json_pack("{s:s, s:o, s:o}", "origin", st.origins[i],
			                     "first_seen_at", bw_api_time_or_null(u.first_seen_at),
			                     "last_used_at", bw_api_time_or_null(u.last_used_at)));
	}
	bw_instance_clear(&in);
	if (r != BW_OK) {
		json_decref(items);
		bw_reply_result(c, r, NULL, NULL);
		return;
	}
	bw_reply_json(c, 200, json_pack("{s:o, s:n}", "items", items, "next_token"));
}
