/* Calls into the loop thread: a worker hands the engine a function to run
 * there (bw_loop_call waits for it, bw_loop_post does not). The engine's
 * state is touched by the loop alone, so it needs no locks. */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>

#include "net/net_int.h"

struct call {
	void (*fn)(void *arg);
	void *arg;
	bool wait;
	bool done;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

static struct mqueue *calls;
static pthread_t loop_thread;

static void call_handler(int id, void *data, void *arg)
{
	(void)arg;
	if (id == 1) {
		((const struct bw_loop_kick *)data)->fn();
		return;
	}
	struct call *c = data;
	c->fn(c->arg);
	if (!c->wait) {
		free(c);
		return;
	}
	pthread_mutex_lock(&c->mu);
	c->done = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

bool bw_on_loop(void)
{
	return calls && pthread_equal(pthread_self(), loop_thread);
}

static void push(struct call *c)
{
	/* The pipe can be momentarily full under load: retry, never drop. */
	while (mqueue_push(calls, 0, c) != 0)
		sched_yield();
}

void bw_loop_call(void (*fn)(void *arg), void *arg)
{
	if (bw_on_loop()) {
		fn(arg);
		return;
	}
	struct call c = {.fn = fn, .arg = arg, .wait = true};
	pthread_mutex_init(&c.mu, NULL);
	pthread_cond_init(&c.cv, NULL);
	push(&c);
	pthread_mutex_lock(&c.mu);
	while (!c.done)
		pthread_cond_wait(&c.cv, &c.mu);
	pthread_mutex_unlock(&c.mu);
	pthread_cond_destroy(&c.cv);
	pthread_mutex_destroy(&c.mu);
}

bw_result bw_loop_post(void (*fn)(void *arg), void *arg)
{
	struct call *c = calloc(1, sizeof(*c));
	if (!c)
		return BW_NOMEM;
	c->fn = fn;
	c->arg = arg;
	push(c);
	return BW_OK;
}

void bw_loop_kick(const struct bw_loop_kick *k)
{
	while (mqueue_push(calls, 1, (void *)(uintptr_t)k) != 0)
		sched_yield();
}

bw_result bw_loopcall__init(void)
{
	loop_thread = pthread_self();
	return mqueue_alloc(&calls, call_handler, NULL) == 0 ? BW_OK : BW_NOMEM;
}

void bw_loopcall__fini(void)
{
	calls = mem_deref(calls);
}
