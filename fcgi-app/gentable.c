/* The generation-checked cache table: see gentable.h. */
#include <config.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "gentable.h"
#include "xalloc.h"

#define PROBE 8 /* slots tried from a key's home slot */

struct gentable {
	const struct gentable_ops *ops;
	uint64_t *shared;     /* the generation, in the MAP_SHARED file mapping */
	size_t mask;          /* slots - 1 */
	int max_age_ms;       /* 0: never hit */
	pthread_mutex_t mu;   /* guards everything below */
	uint64_t gen;         /* the generation the entries were found under */
	char *keys;           /* slots x (key_max + 1); "" = free slot */
	long long *added_ms;  /* slots; CLOCK_MONOTONIC */
	unsigned char *value; /* slots x value_size */
};

/* ------------------------------------------------------ the shared counter */

static uint64_t *gen_map(const char *path, struct err **e)
{
	_cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	struct stat st;
	void *m;

	if (fd < 0 || fstat(fd, &st) < 0) {
		err_setsys(e, ERR_IO, "%s", path);
		return NULL;
	}
	/* Only ever grows it: a concurrent opener never zeroes a live counter. */
	if (st.st_size < (off_t)sizeof(uint64_t) && ftruncate(fd, sizeof(uint64_t)) < 0) {
		err_setsys(e, ERR_IO, "%s: ftruncate", path);
		return NULL;
	}
	m = mmap(NULL, sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		err_setsys(e, ERR_IO, "%s: mmap", path);
		return NULL;
	}
	return m;
}

static uint64_t gen_load(const uint64_t *g)
{
	return __atomic_load_n(g, __ATOMIC_ACQUIRE);
}

void gentable_bump(struct gentable *t)
{
	__atomic_add_fetch(t->shared, 1, __ATOMIC_ACQ_REL);
}

/* ---------------------------------------------------------------- slots */

static char *key_at(const struct gentable *t, size_t i)
{
	return t->keys + i * (t->ops->key_max + 1);
}

static void *value_at(const struct gentable *t, size_t i)
{
	return t->value + i * t->ops->value_size;
}

static void copy_value(const struct gentable *t, void *dst, const void *src)
{
	if (t->ops->copy != NULL)
		t->ops->copy(dst, src);
	else
		memcpy(dst, src, t->ops->value_size);
}

/* Frees slot i (and what its value holds). */
static void drop(struct gentable *t, size_t i)
{
	char *k = key_at(t, i);

	if (k[0] != '\0' && t->ops->drop != NULL)
		t->ops->drop(value_at(t, i));
	k[0] = '\0';
}

static int key_ok(const struct gentable *t, const char *key)
{
	size_t n = strnlen(key, t->ops->key_max + 1);

	return n > 0 && n <= t->ops->key_max && (t->ops->key_ok == NULL || t->ops->key_ok(key));
}

/* FNV-1a of the key: its home slot. */
static size_t home(const struct gentable *t, const char *key)
{
	uint64_t x = 1469598103934665603ULL;

	for (; *key != '\0'; key++)
		x = (x ^ (unsigned char)*key) * 1099511628211ULL;
	return (size_t)x & t->mask;
}

/* ---------------------------------------------------------------- table */

struct gentable *gentable_open(const char *path, size_t slots, int max_age_ms,
                               const struct gentable_ops *ops, struct err **e)
{
	uint64_t *g;
	struct gentable *t;

	if (slots == 0 || (slots & (slots - 1)) != 0) {
		err_set(e, ERR_INTERNAL, "%s: %zu slots is not a power of two", path, slots);
		return NULL;
	}
	g = gen_map(path, e);
	if (g == NULL)
		return NULL;
	t = xcalloc(1, sizeof(*t));
	t->ops = ops;
	t->shared = g;
	t->mask = slots - 1;
	t->max_age_ms = max_age_ms;
	pthread_mutex_init(&t->mu, NULL);
	t->gen = gen_load(g);
	t->keys = xcalloc(slots, ops->key_max + 1);
	t->added_ms = xcalloc(slots, sizeof(*t->added_ms));
	t->value = xcalloc(slots, ops->value_size);
	return t;
}

void gentable_free(struct gentable *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i <= t->mask; i++)
		drop(t, i);
	munmap(t->shared, sizeof(uint64_t));
	pthread_mutex_destroy(&t->mu);
	free(t->keys);
	free(t->added_ms);
	free(t->value);
	free(t);
}

/* With t->mu held: empties the table when the shared generation moved. */
static uint64_t sync_gen(struct gentable *t)
{
	uint64_t g = gen_load(t->shared);

	if (g != t->gen) {
		for (size_t i = 0; i <= t->mask; i++)
			drop(t, i);
		t->gen = g;
	}
	return g;
}

int gentable_get(struct gentable *t, const char *key, long long now_ms, void *out, uint64_t *gen)
{
	size_t h;
	int hit = 0;

	pthread_mutex_lock(&t->mu);
	*gen = sync_gen(t);
	if (t->max_age_ms > 0 && key_ok(t, key)) {
		h = home(t, key);
		for (size_t i = 0; i < PROBE && !hit; i++) {
			size_t s = (h + i) & t->mask;
			const char *k = key_at(t, s);

			if (k[0] == '\0' || !t->ops->key_equal(k, key))
				continue;
			if (now_ms - t->added_ms[s] >= t->max_age_ms) {
				drop(t, s); /* expired: the caller asks the database */
				break;
			}
			copy_value(t, out, value_at(t, s));
			hit = 1;
		}
	}
	pthread_mutex_unlock(&t->mu);
	return hit;
}

/* The slot for key: its own, else a free or expired one in its probe run,
 * else the oldest of the run (evicted). */
static size_t slot_for(const struct gentable *t, const char *key, long long now_ms)
{
	size_t h = home(t, key), oldest = h;

	for (size_t i = 0; i < PROBE; i++) {
		size_t s = (h + i) & t->mask;
		const char *k = key_at(t, s);

		if (k[0] == '\0' || t->ops->key_equal(k, key) ||
		    now_ms - t->added_ms[s] >= t->max_age_ms)
			return s;
		if (t->added_ms[s] < t->added_ms[oldest])
			oldest = s;
	}
	return oldest;
}

void gentable_put(struct gentable *t, const char *key, const void *value, uint64_t gen,
                  long long now_ms)
{
	size_t s;

	if (t->max_age_ms <= 0 || !key_ok(t, key))
		return;
	pthread_mutex_lock(&t->mu);
	/* A newer generation: what the caller read may have changed since. */
	if (sync_gen(t) == gen) {
		s = slot_for(t, key, now_ms);
		drop(t, s);
		copy_value(t, value_at(t, s), value);
		memcpy(key_at(t, s), key, strlen(key) + 1);
		t->added_ms[s] = now_ms;
	}
	pthread_mutex_unlock(&t->mu);
}
