/* Per-process API-key cache with a cross-process generation counter: see
 * keycache.h for the contract and docs/design.md "API-key cache".  The
 * table is gentable.c's; this file says what a key and a value are. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "crypt.h"
#include "gentable.h"
#include "keycache.h"
#include "xalloc.h"

#define HASH_HEX 64

struct keycache {
	struct gentable *t; /* hex SHA-256 -> long long key id */
};

static int valid_hash(const char *h)
{
	return strlen(h) == HASH_HEX && strspn(h, "0123456789abcdefABCDEF") == HASH_HEX;
}

/* Constant-time: the time a lookup takes tells nothing about stored hashes. */
static int hash_equal(const char *stored, const char *hash)
{
	return crypt_equal(stored, hash, HASH_HEX);
}

static const struct gentable_ops key_ops = {
    .key_max = HASH_HEX,
    .value_size = sizeof(long long),
    .key_ok = valid_hash,
    .key_equal = hash_equal,
};

struct keycache *keycache_open(const char *path, int max_age_ms, struct err **e)
{
	struct gentable *t = gentable_open(path, KEYCACHE_SLOTS, max_age_ms, &key_ops, e);
	struct keycache *kc;

	if (t == NULL)
		return NULL;
	kc = xmalloc(sizeof(*kc));
	kc->t = t;
	return kc;
}

void keycache_free(struct keycache *kc)
{
	if (kc == NULL)
		return;
	gentable_free(kc->t);
	free(kc);
}

int keycache_get(struct keycache *kc, const char *hash, long long *key_id, uint64_t *gen)
{
	return gentable_get(kc->t, hash, mono_ms(), key_id, gen);
}

void keycache_put(struct keycache *kc, const char *hash, long long key_id, uint64_t gen)
{
	gentable_put(kc->t, hash, &key_id, gen, mono_ms());
}

void keycache_invalidate(struct keycache *kc)
{
	gentable_bump(kc->t);
}
