#include "core/pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "core/log.h"

struct bw_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct bw_job *head, *tail;
	size_t depth, max_queue;
	atomic_size_t depth_seen;
	bool stopping;
	int nthreads;
	pthread_t *threads;
	bw_pool_init_fn *init;
	bw_pool_fini_fn *fini;
	void *arg;
	const char *name;
};

static void *thread_main(void *a)
{
	struct bw_pool *p = a;
	void *ctx = p->init ? p->init(p->arg) : NULL;
	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (!p->head && !p->stopping)
			pthread_cond_wait(&p->cv, &p->mu);
		struct bw_job *j = p->head;
		if (!j) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		p->head = j->next;
		if (!p->head)
			p->tail = NULL;
		p->depth--;
		atomic_store(&p->depth_seen, p->depth);
		pthread_mutex_unlock(&p->mu);
		j->next = NULL;
		j->run(j, ctx);
	}
	if (p->fini)
		p->fini(ctx);
	return NULL;
}

bw_result bw_pool_start(struct bw_pool **out, const char *name, int threads, size_t max_queue,
                        bw_pool_init_fn *init, bw_pool_fini_fn *fini, void *arg)
{
	struct bw_pool *p = calloc(1, sizeof(*p));
	if (!p)
		return BW_NOMEM;
	p->threads = calloc((size_t)threads, sizeof(pthread_t));
	if (!p->threads) {
		free(p);
		return BW_NOMEM;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->max_queue = max_queue;
	p->init = init;
	p->fini = fini;
	p->arg = arg;
	p->name = name;
	for (int i = 0; i < threads; i++) {
		if (pthread_create(&p->threads[i], NULL, thread_main, p) != 0) {
			bw_log(BW_LOG_ERROR, "cannot start thread", "pool", name);
			p->nthreads = i;
			bw_pool_stop(p);
			return BW_ERR;
		}
		p->nthreads = i + 1;
	}
	*out = p;
	return BW_OK;
}

bw_result bw_pool_submit(struct bw_pool *p, struct bw_job *job)
{
	if (!p)
		return BW_AGAIN; /* no pool (the fuzzers): answered 503 */
	pthread_mutex_lock(&p->mu);
	if (p->stopping || p->depth >= p->max_queue) {
		pthread_mutex_unlock(&p->mu);
		return BW_AGAIN;
	}
	job->next = NULL;
	if (p->tail)
		p->tail->next = job;
	else
		p->head = job;
	p->tail = job;
	p->depth++;
	atomic_store(&p->depth_seen, p->depth);
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return BW_OK;
}

size_t bw_pool_depth(const struct bw_pool *p)
{
	return p ? atomic_load(&((struct bw_pool *)p)->depth_seen) : 0;
}

void bw_pool_stop(struct bw_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stopping = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p->threads);
	free(p);
}

struct call_job {
	struct bw_job base;
	void (*fn)(void *);
	void *arg;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
};

static void call_run(struct bw_job *bj, void *ctx)
{
	(void)ctx;
	struct call_job *j = (struct call_job *)bj;
	j->fn(j->arg);
	pthread_mutex_lock(&j->mu);
	j->done = true;
	pthread_cond_signal(&j->cv);
	pthread_mutex_unlock(&j->mu);
}

bw_result bw_pool_call(struct bw_pool *p, void (*fn)(void *), void *arg)
{
	struct call_job j = {.base.run = call_run, .fn = fn, .arg = arg};
	pthread_mutex_init(&j.mu, NULL);
	pthread_cond_init(&j.cv, NULL);
	bw_result r = p ? bw_pool_submit(p, &j.base) : BW_AGAIN;
	if (r == BW_OK) {
		pthread_mutex_lock(&j.mu);
		while (!j.done)
			pthread_cond_wait(&j.cv, &j.mu);
		pthread_mutex_unlock(&j.mu);
	}
	pthread_mutex_destroy(&j.mu);
	pthread_cond_destroy(&j.cv);
	return r;
}
