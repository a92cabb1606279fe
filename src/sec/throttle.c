#include "sec/throttle.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define SLOTS 1024 /* keys in flight at once; beyond it attempts wait their turn */

static struct {
	char key[256];
	int n;
} table[SLOTS];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static unsigned hash(const char *s)
{
	unsigned h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* The slot holding key, or a free one on its probe path; NULL when full. */
static int find(const char *key, bool create)
{
	unsigned h = hash(key);
	int free_slot = -1;
	for (unsigned i = 0; i < SLOTS; i++) {
		int k = (int)((h + i) % SLOTS);
		if (table[k].n > 0 && !strcmp(table[k].key, key))
			return k;
		if (table[k].n == 0 && free_slot < 0)
			free_slot = k;
	}
	if (!create || free_slot < 0)
		return -1;
	snprintf(table[free_slot].key, sizeof(table[free_slot].key), "%s", key);
	return free_slot;
}

int bw_throttle_enter(const char *key, int allowed)
{
	pthread_mutex_lock(&mu);
	int k = find(key, true);
	int n = k >= 0 && table[k].n < allowed ? ++table[k].n : 0;
	pthread_mutex_unlock(&mu);
	return n;
}

void bw_throttle_leave(const char *key)
{
	pthread_mutex_lock(&mu);
	int k = find(key, false);
	if (k >= 0)
		table[k].n--;
	pthread_mutex_unlock(&mu);
}
