/* Per-process API-key cache with a cross-process generation counter: see
 * keycache.h for the contract and docs/design.md "API-key cache". */
#include <config.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypt.h"
#include "gen.h"
#include "keycache.h"
#include "xalloc.h"

#define HASH_HEX 64
#define PROBE    8 /* slots tried from a hash's home slot */

struct entry {
	char hash[HASH_HEX + 1]; /* "" = free slot */
	long long key_id;
	long long added_ms; /* CLOCK_MONOTONIC */
};

struct keycache {
	uint64_t *shared;   /* the generation, in the MAP_SHARED file mapping */
	int max_age_ms;     /* 0: never hit */
	pthread_mutex_t mu; /* guards everything below */
	uint64_t gen;       /* the generation the entries were found under */
	struct entry slot[KEYCACHE_SLOTS];
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int valid_hash(const char *h)
{
	return strlen(h) == HASH_HEX && strspn(h, "0123456789abcdefABCDEF") == HASH_HEX;
}

/* FNV-1a of the hex text: the home slot. */
static size_t home(const char *hash)
{
	uint64_t x = 1469598103934665603ULL;

	for (int i = 0; i < HASH_HEX; i++)
		x = (x ^ (unsigned char)hash[i]) * 1099511628211ULL;
	return (size_t)(x % KEYCACHE_SLOTS);
}

struct keycache *keycache_open(const char *path, int max_age_ms, struct err **e)
{
	uint64_t *g = gen_map(path, e);
	struct keycache *kc;

	if (g == NULL)
		return NULL;
	kc = xcalloc(1, sizeof(*kc));
	kc->shared = g;
	kc->max_age_ms = max_age_ms;
	pthread_mutex_init(&kc->mu, NULL);
	kc->gen = gen_load(kc->shared);
	return kc;
}

void keycache_free(struct keycache *kc)
{
	if (kc == NULL)
		return;
	gen_unmap(kc->shared);
	pthread_mutex_destroy(&kc->mu);
	free(kc);
}

/* With kc->mu held: empties the cache when the shared generation moved. */
static uint64_t sync_gen(struct keycache *kc)
{
	uint64_t g = gen_load(kc->shared);

	if (g != kc->gen) {
		for (size_t i = 0; i < KEYCACHE_SLOTS; i++)
			kc->slot[i].hash[0] = '\0';
		kc->gen = g;
	}
	return g;
}

static int get_at(struct keycache *kc, const char *hash, long long now, long long *key_id,
                  uint64_t *gen)
{
	size_t h;
	int hit = 0;

	pthread_mutex_lock(&kc->mu);
	*gen = sync_gen(kc);
	if (kc->max_age_ms > 0 && valid_hash(hash)) {
		h = home(hash);
		for (int i = 0; i < PROBE && !hit; i++) {
			struct entry *en = &kc->slot[(h + (size_t)i) % KEYCACHE_SLOTS];

			if (en->hash[0] == '\0' || !crypt_equal(en->hash, hash, HASH_HEX))
				continue;
			if (now - en->added_ms >= kc->max_age_ms) {
				en->hash[0] = '\0'; /* expired: the caller asks the database */
				break;
			}
			*key_id = en->key_id;
			hit = 1;
		}
	}
	pthread_mutex_unlock(&kc->mu);
	return hit;
}

/* The slot for hash: its own, else a free or expired one in its probe run,
 * else the oldest of the run (evicted). */
static struct entry *slot_for(struct keycache *kc, const char *hash, long long now)
{
	size_t h = home(hash);
	struct entry *oldest = NULL;

	for (int i = 0; i < PROBE; i++) {
		struct entry *en = &kc->slot[(h + (size_t)i) % KEYCACHE_SLOTS];

		if (en->hash[0] == '\0' || strcmp(en->hash, hash) == 0 ||
		    now - en->added_ms >= kc->max_age_ms)
			return en;
		if (oldest == NULL || en->added_ms < oldest->added_ms)
			oldest = en;
	}
	return oldest;
}

static void put_at(struct keycache *kc, const char *hash, long long key_id, uint64_t gen,
                   long long now)
{
	struct entry *en;

	if (kc->max_age_ms <= 0 || !valid_hash(hash))
		return;
	pthread_mutex_lock(&kc->mu);
	/* A newer generation: the key may have been revoked after our lookup. */
	if (sync_gen(kc) == gen) {
		en = slot_for(kc, hash, now);
		memcpy(en->hash, hash, HASH_HEX + 1);
		en->key_id = key_id;
		en->added_ms = now;
	}
	pthread_mutex_unlock(&kc->mu);
}

int keycache_get(struct keycache *kc, const char *hash, long long *key_id, uint64_t *gen)
{
	return get_at(kc, hash, now_ms(), key_id, gen);
}

void keycache_put(struct keycache *kc, const char *hash, long long key_id, uint64_t gen)
{
	put_at(kc, hash, key_id, gen, now_ms());
}

void keycache_invalidate(struct keycache *kc)
{
	gen_bump(kc->shared);
}
