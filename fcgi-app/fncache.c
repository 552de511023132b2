/* Per-process function-row cache with a cross-process generation counter:
 * see fncache.h for the contract and docs/design.md "Function cache". */
#include <config.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fncache.h"
#include "gen.h"
#include "xalloc.h"

#define PROBE 8 /* slots tried from a reference's home slot */

struct entry {
	char ref[FN_NAME_MAX + 1]; /* "" = free slot */
	struct function f;         /* owned; code always NULL */
	long long added_ms;        /* CLOCK_MONOTONIC */
};

struct fncache {
	uint64_t *shared;   /* the generation, in the MAP_SHARED file mapping */
	int max_age_ms;     /* 0: never hit */
	pthread_mutex_t mu; /* guards everything below */
	uint64_t gen;       /* the generation the entries were found under */
	struct entry slot[FNCACHE_SLOTS];
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/* A deep copy of src without its code. */
static void copy_fn(struct function *dst, const struct function *src)
{
	*dst = *src;
	dst->code = NULL;
	dst->name = dup_or_null(src->name);
	dst->runtime = dup_or_null(src->runtime);
	dst->handler = dup_or_null(src->handler);
	dst->style = dup_or_null(src->style);
	dst->route = dup_or_null(src->route);
	dst->code_format = dup_or_null(src->code_format);
	dst->isolation = dup_or_null(src->isolation);
	dst->env = dup_or_null(src->env);
	dst->url_auth = dup_or_null(src->url_auth);
	dst->created_at = dup_or_null(src->created_at);
	dst->updated_at = dup_or_null(src->updated_at);
}

static void drop(struct entry *en)
{
	if (en->ref[0] != '\0')
		function_free(&en->f);
	en->ref[0] = '\0';
}

/* FNV-1a of the reference: the home slot. */
static size_t home(const char *ref)
{
	uint64_t x = 1469598103934665603ULL;

	for (; *ref != '\0'; ref++)
		x = (x ^ (unsigned char)*ref) * 1099511628211ULL;
	return (size_t)(x % FNCACHE_SLOTS);
}

static int ref_ok(const char *ref)
{
	size_t n = strlen(ref);

	return n > 0 && n <= FN_NAME_MAX;
}

struct fncache *fncache_open(const char *path, int max_age_ms, struct err **e)
{
	uint64_t *g = gen_map(path, e);
	struct fncache *fc;

	if (g == NULL)
		return NULL;
	fc = xcalloc(1, sizeof(*fc));
	fc->shared = g;
	fc->max_age_ms = max_age_ms;
	pthread_mutex_init(&fc->mu, NULL);
	fc->gen = gen_load(fc->shared);
	return fc;
}

void fncache_free(struct fncache *fc)
{
	if (fc == NULL)
		return;
	for (size_t i = 0; i < FNCACHE_SLOTS; i++)
		drop(&fc->slot[i]);
	gen_unmap(fc->shared);
	pthread_mutex_destroy(&fc->mu);
	free(fc);
}

/* With fc->mu held: empties the cache when the shared generation moved. */
static uint64_t sync_gen(struct fncache *fc)
{
	uint64_t g = gen_load(fc->shared);

	if (g != fc->gen) {
		for (size_t i = 0; i < FNCACHE_SLOTS; i++)
			drop(&fc->slot[i]);
		fc->gen = g;
	}
	return g;
}

static int get_at(struct fncache *fc, const char *ref, long long now, struct function *out,
                  uint64_t *gen)
{
	size_t h;
	int hit = 0;

	pthread_mutex_lock(&fc->mu);
	*gen = sync_gen(fc);
	if (fc->max_age_ms > 0 && ref_ok(ref)) {
		h = home(ref);
		for (int i = 0; i < PROBE && !hit; i++) {
			struct entry *en = &fc->slot[(h + (size_t)i) % FNCACHE_SLOTS];

			if (en->ref[0] == '\0' || strcmp(en->ref, ref) != 0)
				continue;
			if (now - en->added_ms >= fc->max_age_ms) {
				drop(en); /* expired: the caller asks the database */
				break;
			}
			copy_fn(out, &en->f);
			hit = 1;
		}
	}
	pthread_mutex_unlock(&fc->mu);
	return hit;
}

/* The slot for ref: its own, else a free or expired one in its probe run,
 * else the oldest of the run (evicted). */
static struct entry *slot_for(struct fncache *fc, const char *ref, long long now)
{
	size_t h = home(ref);
	struct entry *oldest = NULL;

	for (int i = 0; i < PROBE; i++) {
		struct entry *en = &fc->slot[(h + (size_t)i) % FNCACHE_SLOTS];

		if (en->ref[0] == '\0' || strcmp(en->ref, ref) == 0 ||
		    now - en->added_ms >= fc->max_age_ms)
			return en;
		if (oldest == NULL || en->added_ms < oldest->added_ms)
			oldest = en;
	}
	return oldest;
}

static void put_at(struct fncache *fc, const char *ref, const struct function *f, uint64_t gen,
                   long long now)
{
	struct entry *en;

	if (fc->max_age_ms <= 0 || !ref_ok(ref))
		return;
	pthread_mutex_lock(&fc->mu);
	/* A newer generation: the row may have changed after our SELECT. */
	if (sync_gen(fc) == gen) {
		en = slot_for(fc, ref, now);
		drop(en);
		copy_fn(&en->f, f);
		memcpy(en->ref, ref, strlen(ref) + 1);
		en->added_ms = now;
	}
	pthread_mutex_unlock(&fc->mu);
}

int fncache_get(struct fncache *fc, const char *ref, struct function *out, uint64_t *gen)
{
	return get_at(fc, ref, now_ms(), out, gen);
}

void fncache_put(struct fncache *fc, const char *ref, const struct function *f, uint64_t gen)
{
	put_at(fc, ref, f, gen, now_ms());
}

void fncache_invalidate(struct fncache *fc)
{
	gen_bump(fc->shared);
}
