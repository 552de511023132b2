/* A generation counter shared by every lambda-api process of a stack: a
 * small file holding one 64-bit counter that each process maps MAP_SHARED.
 * A per-process cache remembers the generation it was filled under and
 * empties itself when the counter moved; whoever changes what the cache
 * holds bumps the counter after the change is committed (keycache.h,
 * fncache.h). */
#ifndef LAMBDA_API_GEN_H
#define LAMBDA_API_GEN_H

#include <stdint.h>

#include "err.h"

/* Maps the counter at path (created 0600 with generation 0 when missing,
 * never truncated: a concurrent opener never zeroes a live counter).  The
 * caller releases it with gen_unmap(). */
uint64_t *gen_map(const char *path, struct err **e);
void gen_unmap(uint64_t *g);

static inline uint64_t gen_load(const uint64_t *g)
{
	return __atomic_load_n(g, __ATOMIC_ACQUIRE);
}

/* Every process's cache keyed to g empties at its next lookup. */
static inline void gen_bump(uint64_t *g)
{
	__atomic_add_fetch(g, 1, __ATOMIC_ACQ_REL);
}

#endif
