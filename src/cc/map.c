/* A string → pointer map with open addressing (FNV-1a, linear probing,
 * tombstones) for the engine's lookups by id. */
#include <stdlib.h>
#include <string.h>

#include "cc/engine_int.h"

static char tomb;

static size_t hash(const char *s)
{
	size_t h = 1469598103934665603ull;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static struct cc_map_slot *find(const struct cc_map *m, const char *key)
{
	if (!m->cap)
		return NULL;
	for (size_t i = hash(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		struct cc_map_slot *s = &m->slots[i];
		if (!s->key)
			return NULL;
		if (s->key != &tomb && !strcmp(s->key, key))
			return s;
	}
}

void *cc_map_get(const struct cc_map *m, const char *key)
{
	struct cc_map_slot *s = find(m, key);
	return s ? s->val : NULL;
}

static int grow(struct cc_map *m)
{
	/* Sized by the live keys: the rehash drops tombstones, so a table full
	 * of them (ids that came and went) is rebuilt at its size, not doubled. */
	size_t cap = m->cap ? m->cap : 64;
	while ((m->n + 1) * 2 >= cap)
		cap *= 2;
	struct cc_map_slot *old = m->slots, *ns = calloc(cap, sizeof(*ns));
	if (!ns)
		return -1;
	size_t oldcap = m->cap;
	m->slots = ns;
	m->cap = cap;
	m->used = m->n;
	for (size_t i = 0; i < oldcap; i++) {
		if (!old[i].key || old[i].key == &tomb)
			continue;
		size_t j = hash(old[i].key) & (cap - 1);
		while (ns[j].key)
			j = (j + 1) & (cap - 1);
		ns[j] = old[i];
	}
	free(old);
	return 0;
}

int cc_map_put(struct cc_map *m, const char *key, void *val)
{
	struct cc_map_slot *s = find(m, key);
	if (s) {
		s->val = val;
		return 0;
	}
	if ((m->used + 1) * 4 >= m->cap * 3 && grow(m) != 0)
		return -1;
	char *k = strdup(key);
	if (!k)
		return -1;
	size_t i = hash(key) & (m->cap - 1);
	while (m->slots[i].key && m->slots[i].key != &tomb)
		i = (i + 1) & (m->cap - 1);
	if (!m->slots[i].key)
		m->used++;
	m->slots[i].key = k;
	m->slots[i].val = val;
	m->n++;
	return 0;
}

void cc_map_del(struct cc_map *m, const char *key)
{
	struct cc_map_slot *s = find(m, key);
	if (!s)
		return;
	free(s->key);
	s->key = &tomb;
	s->val = NULL;
	m->n--;
}

void cc_map_free(struct cc_map *m)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key && m->slots[i].key != &tomb)
			free(m->slots[i].key);
	free(m->slots);
	memset(m, 0, sizeof(*m));
}
