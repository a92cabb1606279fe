/* The keyring's background thread: re-wraps an instance's data keys under
 * its new KEK, a batch per transaction, on its own store connection, and
 * ends the rotation (the old KEK is deleted once nothing needs it). Data
 * is never touched: only the 72-byte wrapped keys. Readers meanwhile find
 * every data key under one KEK or the other, both in the cache. A stop
 * leaves the rotation RUNNING; the next start resumes it. */
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "sec/keyring_int.h"

struct job {
	struct job *next;
	struct bw_key_rotation r;
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t th;
	bool started, stopping, busy;
	bool purge; /* a WAL truncation that readers held back, to retry */
	struct job *head, *tail;
} bg = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

void bw_keyring__bg_push(const struct bw_key_rotation *r)
{
	struct job *j = calloc(1, sizeof(*j));
	if (!j) {
		bw_log(BW_LOG_ERROR, "a key rotation waits for the next start", "rotation_id",
		       r->id);
		return;
	}
	j->r = *r;
	pthread_mutex_lock(&bg.mu);
	if (bg.tail)
		bg.tail->next = j;
	else
		bg.head = j;
	bg.tail = j;
	pthread_cond_broadcast(&bg.cv);
	pthread_mutex_unlock(&bg.mu);
}

/* The pause between batches; false when stopping. */
static bool pause_between(unsigned ms)
{
	pthread_mutex_lock(&bg.mu);
	if (ms && !bg.stopping) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += ms / 1000;
		until.tv_nsec += (long)(ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!bg.stopping && pthread_cond_timedwait(&bg.cv, &bg.mu, &until) == 0)
			;
	}
	bool go = !bg.stopping;
	pthread_mutex_unlock(&bg.mu);
	return go;
}

/* One batch: the data keys after *after not yet under the active KEK.
 * Returns how many were read (0: done), -1 to stop. */
static int batch(struct bw_store *s, const struct bw_key_rotation *rot, uint32_t *after,
                 struct bw_dk_row *rows, struct bw_dk_rewrap *w, size_t max)
{
	uint8_t kek[BW_KEY_LEN], old[BW_KEY_LEN], dk[BW_KEY_LEN];
	char active[48];
	size_t n = 0, m = 0;
	if (bw_keyring__kek_copy(rot->instance_id, rot->kek_id, active, kek) != BW_OK)
		return -1; /* destroyed meanwhile */
	if (bw_store_dk_stale(s, rot->instance_id, rot->kek_id, *after, rows, max, &n) != BW_OK) {
		sodium_memzero(kek, sizeof(kek));
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct bw_dk_rewrap *x = &w[m];
		*after = rows[i].id;
		if (bw_keyring__kek_copy(rot->instance_id, rows[i].kek_id, NULL, old) != BW_OK ||
		    bw_keyring__dk_unwrap(&rows[i], old, dk) != BW_OK) {
			bw_log(BW_LOG_ERROR, "a data key does not open: it keeps its old KEK",
			       "instance_id", rot->instance_id, "kek_id", rows[i].kek_id);
			continue;
		}
		memset(x, 0, sizeof(*x));
		x->id = rows[i].id;
		memcpy(x->from_kek_id, rows[i].kek_id, sizeof(x->from_kek_id));
		memcpy(x->kek_id, active, sizeof(x->kek_id));
		if (bw_keyring__dk_wrap(rot->instance_id, x->id, active, kek, dk, x->wrapped,
		                        &x->wrapped_len) == BW_OK)
			m++;
	}
	sodium_memzero(kek, sizeof(kek));
	sodium_memzero(old, sizeof(old));
	sodium_memzero(dk, sizeof(dk));
	bw_result r = m ? bw_store_dk_rewrap(s, rot->instance_id, rot->id, w, m) : BW_OK;
	sodium_memzero(rows, max * sizeof(*rows));
	sodium_memzero(w, max * sizeof(*w));
	if (r != BW_OK) {
		bw_log(BW_LOG_ERROR,
		       "a re-wrap batch failed; the rotation resumes at the next start",
		       "rotation_id", rot->id);
		return -1;
	}
	return (int)n;
}

static void run(struct bw_store *s, const struct bw_key_rotation *rot)
{
	const struct bw_keyring_opts *o = bw_keyring__opts();
	size_t max = o->rotation_batch;
	struct bw_dk_row *rows = calloc(max, sizeof(*rows));
	struct bw_dk_rewrap *w = calloc(max, sizeof(*w));
	uint32_t after = 0;
	int n = rows && w ? 1 : -1;
	while (n > 0) {
		n = batch(s, rot, &after, rows, w, max);
		if (n > 0 && !pause_between(o->rotation_pause_ms))
			n = -1;
	}
	free(rows);
	free(w);
	if (n < 0)
		return;
	struct bw_key_rotation done;
	if (bw_keyring__finish(s, rot->instance_id, rot->id, &done) != BW_OK) {
		bw_log(BW_LOG_ERROR, "a key rotation could not end", "rotation_id", rot->id);
		return;
	}
	bw_log(!strcmp(done.state, "COMPLETED") ? BW_LOG_INFO : BW_LOG_ERROR, "key rotation ended",
	       "rotation_id", rot->id, "instance_id", rot->instance_id, "state", done.state);
	/* The retired KEK's rows were overwritten; old images leave the WAL. */
	if (bw_store_wal_purge(s) == BW_AGAIN)
		bw_keyring__bg_purge();
}

void bw_keyring__bg_purge(void)
{
	pthread_mutex_lock(&bg.mu);
	bg.purge = true;
	pthread_cond_broadcast(&bg.cv);
	pthread_mutex_unlock(&bg.mu);
}

/* With bg.mu held and nothing queued: retries a held-back WAL truncation
 * once a second until it goes through. */
static void purge_wait(struct bw_store *s)
{
	bg.busy = false;
	pthread_cond_broadcast(&bg.cv);
	if (!bg.purge || !s) {
		pthread_cond_wait(&bg.cv, &bg.mu);
		return;
	}
	pthread_mutex_unlock(&bg.mu);
	bw_result r = bw_store_wal_purge(s);
	pthread_mutex_lock(&bg.mu);
	if (r != BW_AGAIN) {
		bg.purge = false;
		if (r != BW_OK)
			bw_log(BW_LOG_ERROR, "the WAL could not be truncated");
		return;
	}
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 1;
	pthread_cond_timedwait(&bg.cv, &bg.mu, &until);
}

static void *bg_main(void *arg)
{
	(void)arg;
	struct bw_store *s = NULL;
	struct bw_key_rotation resume[64];
	size_t n = 0;
	if (bw_keyring__open_store(&s) != BW_OK) {
		bw_log(BW_LOG_ERROR, "the keyring's background thread cannot open the store");
	} else if (bw_store_rotation_running(s, resume, 64, &n) == BW_OK) {
		for (size_t i = 0; i < n; i++)
			bw_keyring__bg_push(&resume[i]);
	}
	for (;;) {
		pthread_mutex_lock(&bg.mu);
		while (!bg.stopping && !bg.head)
			purge_wait(s);
		if (bg.stopping) {
			pthread_mutex_unlock(&bg.mu);
			break;
		}
		struct job *j = bg.head;
		bg.head = j->next;
		if (!bg.head)
			bg.tail = NULL;
		bg.busy = true;
		pthread_mutex_unlock(&bg.mu);
		if (s)
			run(s, &j->r);
		free(j);
	}
	bw_store_close(s);
	return NULL;
}

bw_result bw_keyring__bg_start(void)
{
	pthread_mutex_lock(&bg.mu);
	bg.stopping = false;
	bg.busy = true; /* until the thread has looked for rotations to resume */
	int rc = pthread_create(&bg.th, NULL, bg_main, NULL);
	bg.started = rc == 0;
	pthread_mutex_unlock(&bg.mu);
	return rc == 0 ? BW_OK : BW_ERR;
}

void bw_keyring__bg_stop(void)
{
	pthread_mutex_lock(&bg.mu);
	bool started = bg.started;
	bg.stopping = true;
	pthread_cond_broadcast(&bg.cv);
	pthread_mutex_unlock(&bg.mu);
	if (started)
		pthread_join(bg.th, NULL);
	pthread_mutex_lock(&bg.mu);
	while (bg.head) {
		struct job *j = bg.head;
		bg.head = j->next;
		free(j);
	}
	bg.tail = NULL;
	bg.started = bg.busy = false;
	pthread_mutex_unlock(&bg.mu);
}

bw_result bw_keyring__bg_idle(long timeout_ms)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&bg.mu);
	int rc = 0;
	while (bg.started && (bg.busy || bg.head) && rc == 0)
		rc = pthread_cond_timedwait(&bg.cv, &bg.mu, &until);
	bool idle = !bg.busy && !bg.head;
	pthread_mutex_unlock(&bg.mu);
	return idle ? BW_OK : BW_AGAIN;
}
