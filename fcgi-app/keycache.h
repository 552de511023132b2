/* Per-process cache of valid API keys, keyed by the hex SHA-256 of the key,
 * so that an authenticated request costs no SQL round trip for its key.
 *
 * Revocation is seen at once by every lambda-api process: a small file
 * (`api.key_cache_file`, default $VAR/run/api-keys.gen) holds a 64-bit
 * generation counter that every process maps MAP_SHARED (gentable.h).
 * Whoever changes a key bumps it after the change is committed; each lookup
 * compares it with the generation the cache was filled under and empties
 * the cache when it moved.  Entries also expire after `api.key_cache_ms` (default 5 s): the
 * safety net for a key changed behind the API's back (SQL by hand).
 * Only valid, unrevoked keys are cached: unknown and revoked keys always go
 * to the database, so creating a key needs no bump.  Thread-safe. */
#ifndef LAMBDA_API_KEYCACHE_H
#define LAMBDA_API_KEYCACHE_H

#include <stdint.h>

#include "err.h"

#define KEYCACHE_SLOTS 1024 /* entries per process (a power of two); a full probe run evicts */

struct keycache;

/* Maps the generation file at path (created 0600 with generation 0 when
 * missing) and returns an empty cache whose entries live max_age_ms; the
 * caller frees it with keycache_free().  max_age_ms 0 gives a cache that
 * never hits (lookups always go to the database) but still bumps. */
struct keycache *keycache_open(const char *path, int max_age_ms, struct err **e);
void keycache_free(struct keycache *kc);

/* Looks hash (64 hex digits) up.  Always writes *gen: the generation the
 * answer is valid for, to give to keycache_put() after a miss.  Returns 1
 * and writes *key_id on a hit, 0 on a miss. */
int keycache_get(struct keycache *kc, const char *hash, long long *key_id, uint64_t *gen);
/* Remembers a valid, unrevoked key found in the database after a miss whose
 * keycache_get() returned gen.  Dropped when the generation moved since:
 * the key may have been revoked between the lookup and now. */
void keycache_put(struct keycache *kc, const char *hash, long long key_id, uint64_t gen);
/* Bumps the shared generation: every process's cache (this one included)
 * empties at its next lookup.  Call after a key change is committed. */
void keycache_invalidate(struct keycache *kc);

#endif
