/* Per-process cache of function rows (without their code), keyed by the
 * reference a request used (an id or a name), so that GET
 * /api/functions/{name} and an invoke cost no SQL round trip for the row.
 *
 * Changes are seen by every lambda-api process at once: the shared
 * generation file `api.fn_cache_file` (default $VAR/run/functions.gen,
 * gentable.h) is bumped by db_fn_insert/update/delete after every write to the
 * functions table, in whatever process; each lookup compares it with the
 * generation the cache was filled under and empties the cache when it
 * moved.  Entries also expire after `api.fn_cache_ms` (default 1 s): the
 * bound for a row changed behind the API's back (SQL by hand, a delete
 * whose connection was lost and that the server finished later).
 * Unknown functions are never cached.  Thread-safe. */
#ifndef LAMBDA_API_FNCACHE_H
#define LAMBDA_API_FNCACHE_H

#include <stdint.h>

#include "err.h"
#include "function.h"

#define FNCACHE_SLOTS 256 /* entries per process (a power of two); a full probe run evicts */

struct fncache;

/* Maps the generation file at path (created 0600 with generation 0 when
 * missing) and returns an empty cache whose entries live max_age_ms; the
 * caller frees it with fncache_free().  max_age_ms 0 gives a cache that
 * never hits but still bumps. */
struct fncache *fncache_open(const char *path, int max_age_ms, struct err **e);
void fncache_free(struct fncache *fc);

/* Looks ref (an id or a name, as the request gave it) up.  Always writes
 * *gen: the generation the answer is valid for, to give to fncache_put()
 * after a miss.  Returns 1 on a hit and fills *out with a copy (code NULL;
 * the caller releases it with function_free), 0 on a miss (*out untouched). */
int fncache_get(struct fncache *fc, const char *ref, struct function *out, uint64_t *gen);
/* Remembers a copy of f (its code is not copied), found in the database
 * for ref after a miss whose fncache_get() returned gen.  Dropped when the
 * generation moved since: the row may have changed after the SELECT. */
void fncache_put(struct fncache *fc, const char *ref, const struct function *f, uint64_t gen);
/* Bumps the shared generation: every process's cache (this one included)
 * empties at its next lookup.  Call after a write to functions. */
void fncache_invalidate(struct fncache *fc);

#endif
