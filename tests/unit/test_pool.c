/* Worker pools (src/core/pool.c): every job runs exactly once, a full queue
 * refuses with BW_AGAIN, and stop drains what is queued. Waits are on
 * condition variables, never sleeps. */
#include "test_common.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "core/pool.h"

/* ---- run once ---- */

#define NJOBS 2000

struct count_job {
	struct bw_job base;
	atomic_int *runs;
	void **ctx_seen;
};

static void count_run(struct bw_job *j, void *ctx)
{
	struct count_job *cj = (struct count_job *)j;
	atomic_fetch_add(cj->runs, 1);
	*cj->ctx_seen = ctx;
}

static atomic_int inits, finis;
static int ctx_tokens[16];

static void *thread_init(void *arg)
{
	assert_ptr_equal(arg, ctx_tokens); /* the start argument reaches init */
	int k = atomic_fetch_add(&inits, 1);
	return &ctx_tokens[k % 16];
}

static void thread_fini(void *ctx)
{
	assert_true((int *)ctx >= ctx_tokens && (int *)ctx < ctx_tokens + 16);
	atomic_fetch_add(&finis, 1);
}

static void test_each_job_once(void **state)
{
	(void)state;
	struct bw_pool *p = NULL;
	atomic_store(&inits, 0);
	atomic_store(&finis, 0);
	assert_int_equal(bw_pool_start(&p, "t", 4, NJOBS, thread_init, thread_fini, ctx_tokens),
	                 BW_OK);
	struct count_job *jobs = calloc(NJOBS, sizeof(*jobs));
	atomic_int *runs = calloc(NJOBS, sizeof(*runs));
	void **ctx = calloc(NJOBS, sizeof(*ctx));
	assert_non_null(jobs);
	assert_non_null(runs);
	assert_non_null(ctx);
	for (int i = 0; i < NJOBS; i++) {
		jobs[i].base.run = count_run;
		jobs[i].runs = &runs[i];
		jobs[i].ctx_seen = &ctx[i];
		assert_int_equal(bw_pool_submit(p, &jobs[i].base), BW_OK);
	}
	bw_pool_stop(p); /* drains, then joins */
	for (int i = 0; i < NJOBS; i++) {
		assert_int_equal(atomic_load(&runs[i]), 1);
		/* Each job saw its thread's context from init. */
		assert_true((int *)ctx[i] >= ctx_tokens && (int *)ctx[i] < ctx_tokens + 4);
	}
	assert_int_equal(atomic_load(&inits), 4);
	assert_int_equal(atomic_load(&finis), 4);
	free(jobs);
	free(runs);
	free(ctx);
}

/* ---- many producers ---- */

struct producer {
	struct bw_pool *p;
	struct count_job *jobs;
	int n;
	int refused;
};

static void *produce(void *arg)
{
	struct producer *pr = arg;
	for (int i = 0; i < pr->n; i++)
		if (bw_pool_submit(pr->p, &pr->jobs[i].base) != BW_OK)
			pr->refused++;
	return NULL;
}

static void test_concurrent_submit(void **state)
{
	(void)state;
	enum { NPROD = 4, PER = 500 };
	struct bw_pool *p = NULL;
	assert_int_equal(bw_pool_start(&p, "t", 2, NPROD * PER, NULL, NULL, NULL), BW_OK);
	struct count_job *jobs = calloc(NPROD * PER, sizeof(*jobs));
	atomic_int *runs = calloc(NPROD * PER, sizeof(*runs));
	void **ctx = calloc(NPROD * PER, sizeof(*ctx));
	assert_non_null(jobs);
	assert_non_null(runs);
	assert_non_null(ctx);
	for (int i = 0; i < NPROD * PER; i++) {
		jobs[i].base.run = count_run;
		jobs[i].runs = &runs[i];
		jobs[i].ctx_seen = &ctx[i];
	}
	struct producer pr[NPROD];
	pthread_t th[NPROD];
	for (int k = 0; k < NPROD; k++) {
		pr[k] = (struct producer){p, jobs + k * PER, PER, 0};
		assert_int_equal(pthread_create(&th[k], NULL, produce, &pr[k]), 0);
	}
	for (int k = 0; k < NPROD; k++) {
		pthread_join(th[k], NULL);
		assert_int_equal(pr[k].refused, 0);
	}
	bw_pool_stop(p);
	for (int i = 0; i < NPROD * PER; i++) {
		assert_int_equal(atomic_load(&runs[i]), 1);
		assert_null(ctx[i]); /* no init: a NULL context */
	}
	free(jobs);
	free(runs);
	free(ctx);
}

/* ---- a full queue ---- */

struct gate {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool started, open;
};

struct gate_job {
	struct bw_job base;
	struct gate *g;
};

static void gate_run(struct bw_job *j, void *ctx)
{
	(void)ctx;
	struct gate *g = ((struct gate_job *)j)->g;
	pthread_mutex_lock(&g->mu);
	g->started = true;
	pthread_cond_broadcast(&g->cv);
	while (!g->open)
		pthread_cond_wait(&g->cv, &g->mu);
	pthread_mutex_unlock(&g->mu);
}

static void test_queue_full(void **state)
{
	(void)state;
	struct gate g = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	struct gate_job blocker = {{gate_run, NULL}, &g};
	struct bw_pool *p = NULL;
	assert_int_equal(bw_pool_start(&p, "t", 1, 3, NULL, NULL, NULL), BW_OK);
	assert_int_equal(bw_pool_depth(p), 0);
	assert_int_equal(bw_pool_submit(p, &blocker.base), BW_OK);
	/* Wait until the only worker holds the blocker: the queue is empty. */
	pthread_mutex_lock(&g.mu);
	while (!g.started)
		pthread_cond_wait(&g.cv, &g.mu);
	pthread_mutex_unlock(&g.mu);

	struct count_job jobs[5];
	atomic_int runs[5];
	void *ctx[5];
	for (int i = 0; i < 5; i++) {
		atomic_init(&runs[i], 0);
		jobs[i] = (struct count_job){{count_run, NULL}, &runs[i], &ctx[i]};
	}
	for (int i = 0; i < 3; i++)
		assert_int_equal(bw_pool_submit(p, &jobs[i].base), BW_OK);
	assert_int_equal(bw_pool_depth(p), 3);
	assert_int_equal(bw_pool_submit(p, &jobs[3].base), BW_AGAIN);
	assert_int_equal(bw_pool_submit(p, &jobs[4].base), BW_AGAIN);
	assert_int_equal(bw_pool_depth(p), 3);

	pthread_mutex_lock(&g.mu);
	g.open = true;
	pthread_cond_broadcast(&g.cv);
	pthread_mutex_unlock(&g.mu);
	bw_pool_stop(p);
	for (int i = 0; i < 3; i++)
		assert_int_equal(atomic_load(&runs[i]), 1);
	assert_int_equal(atomic_load(&runs[3]), 0); /* refused means never run */
	assert_int_equal(atomic_load(&runs[4]), 0);
}

static void test_stop_drains(void **state)
{
	(void)state;
	/* Everything queued behind a blocked worker still runs on stop. */
	struct gate g = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	struct gate_job blocker = {{gate_run, NULL}, &g};
	struct bw_pool *p = NULL;
	assert_int_equal(bw_pool_start(&p, "t", 1, 100, NULL, NULL, NULL), BW_OK);
	assert_int_equal(bw_pool_submit(p, &blocker.base), BW_OK);
	struct count_job jobs[50];
	atomic_int runs[50];
	void *ctx[50];
	for (int i = 0; i < 50; i++) {
		atomic_init(&runs[i], 0);
		jobs[i] = (struct count_job){{count_run, NULL}, &runs[i], &ctx[i]};
		assert_int_equal(bw_pool_submit(p, &jobs[i].base), BW_OK);
	}
	pthread_mutex_lock(&g.mu);
	while (!g.started)
		pthread_cond_wait(&g.cv, &g.mu);
	g.open = true;
	pthread_cond_broadcast(&g.cv);
	pthread_mutex_unlock(&g.mu);
	bw_pool_stop(p);
	for (int i = 0; i < 50; i++)
		assert_int_equal(atomic_load(&runs[i]), 1);
}

static void test_no_pool(void **state)
{
	(void)state;
	struct count_job j = {{count_run, NULL}, NULL, NULL};
	assert_int_equal(bw_pool_submit(NULL, &j.base), BW_AGAIN);
	assert_int_equal(bw_pool_depth(NULL), 0);
	bw_pool_stop(NULL); /* a no-op */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_each_job_once), cmocka_unit_test(test_concurrent_submit),
	    cmocka_unit_test(test_queue_full),    cmocka_unit_test(test_stop_drains),
	    cmocka_unit_test(test_no_pool),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
