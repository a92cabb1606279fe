/* Worker pools: fixed threads, a bounded FIFO of jobs.
 * Each thread owns a context made by init (its store connection). */
#ifndef BW_POOL_H
#define BW_POOL_H

#include <stddef.h>

#include "core/result.h"

struct bw_job;
typedef void(bw_job_fn)(struct bw_job *job, void *thread_ctx);

struct bw_job {
	bw_job_fn *run;
	struct bw_job *next;
};

struct bw_pool;

typedef void *(bw_pool_init_fn)(void *arg);   /* per-thread context */
typedef void(bw_pool_fini_fn)(void *thread_ctx);

BW_MUST_USE bw_result bw_pool_start(struct bw_pool **out, const char *name, int threads,
                                    size_t max_queue, bw_pool_init_fn *init,
                                    bw_pool_fini_fn *fini, void *arg);
/* BW_AGAIN when the queue is full (the caller answers 503). */
BW_MUST_USE bw_result bw_pool_submit(struct bw_pool *p, struct bw_job *job);
size_t bw_pool_depth(const struct bw_pool *p);
/* Runs fn(arg) on the pool and waits for it (a worker handing CPU-heavy work,
 * such as password hashing, to its own bounded pool). */
BW_MUST_USE bw_result bw_pool_call(struct bw_pool *p, void (*fn)(void *), void *arg);
/* Runs what is queued, then joins the threads. */
void bw_pool_stop(struct bw_pool *p);

#endif
