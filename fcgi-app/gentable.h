/* A per-process cache table keyed by text, that a generation counter shared
 * by every lambda-api process of a stack empties at once (keycache.h,
 * fncache.h are its users; docs/design.md "API-key cache").
 *
 * The counter: a small file holding one 64-bit number that each process
 * maps MAP_SHARED.  Whoever changes what the caches hold bumps it after the
 * change is committed; each lookup compares it with the generation the
 * table was filled under and empties the table when it moved.  A reader
 * that missed remembers the generation its lookup returned and stores its
 * answer only if the table is still at that generation: a read that raced
 * a write is never stored.  Entries also expire after max_age_ms.
 *
 * The table: a fixed number of slots (a power of two), open addressing with
 * a short linear probe run from a key's home slot (FNV-1a of the key); a
 * full run evicts its oldest entry, so the table never grows.  One mutex
 * guards it, so the process's threads share it.  A value is held in the
 * slot (ops->value_size bytes) and copied in and out through ops->copy:
 * with a flat value (copy NULL) a hit allocates nothing. */
#ifndef LAMBDA_API_GENTABLE_H
#define LAMBDA_API_GENTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* What one table's keys and values are.  Keys are NUL-terminated text of
 * 1..key_max bytes; any other key is never stored nor found. */
struct gentable_ops {
	size_t key_max;    /* longest key, without its NUL */
	size_t value_size; /* bytes of one value, held in its slot */
	/* 1 if key (1..key_max bytes) may be stored; NULL: every such key. */
	int (*key_ok)(const char *key);
	/* 1 if the stored key equals key (both passed key_ok).  Where the key
	 * is a secret's hash, make it constant-time. */
	int (*key_equal)(const char *stored, const char *key);
	/* Copies a value into a slot (put) and out of it (hit); NULL: memcpy. */
	void (*copy)(void *dst, const void *src);
	/* Releases what copy gave a slot; NULL: nothing to release. */
	void (*drop)(void *value);
};

struct gentable;

/* Maps the generation file at path (created 0600 with generation 0 when
 * missing, never truncated: a concurrent opener never zeroes a live
 * counter) and returns an empty table of slots slots (a power of two) whose
 * entries live max_age_ms; ops must outlive it.  The caller frees it with
 * gentable_free().  max_age_ms 0 gives a table that never hits (and never
 * stores) but still bumps. */
struct gentable *gentable_open(const char *path, size_t slots, int max_age_ms,
                               const struct gentable_ops *ops, struct err **e);
/* Drops every entry (ops->drop), unmaps the counter, frees t. */
void gentable_free(struct gentable *t);

/* Looks key up at time now_ms (mono_ms(), clock.h).  Always writes *gen: the generation the
 * answer is valid for, to give to gentable_put() after a miss.  Returns 1
 * on a hit and copies the value into *out (ops->copy), 0 on a miss (*out
 * untouched).  An expired entry is dropped and misses. */
int gentable_get(struct gentable *t, const char *key, long long now_ms, void *out, uint64_t *gen);
/* Stores a copy of *value (ops->copy) for key at time now_ms, found after a
 * miss whose gentable_get() returned gen.  Dropped when the generation moved
 * since: what was read may have changed meanwhile. */
void gentable_put(struct gentable *t, const char *key, const void *value, uint64_t gen,
                  long long now_ms);
/* Bumps the shared generation: every process's table keyed to the same
 * file (this one included) empties at its next lookup. */
void gentable_bump(struct gentable *t);

#endif
