/* Per-process function-row cache with a cross-process generation counter:
 * see fncache.h for the contract and docs/design.md "Function cache".  The
 * table is gentable.c's; this file says what a key and a value are. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "fncache.h"
#include "gentable.h"
#include "xalloc.h"

struct fncache {
	struct gentable *t; /* reference -> struct function (owned; code always NULL) */
};

static char *dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/* A deep copy of src without its code. */
static void copy_fn(void *to, const void *from)
{
	struct function *dst = to;
	const struct function *src = from;

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

static void drop_fn(void *f)
{
	function_free(f);
}

static int ref_equal(const char *stored, const char *ref)
{
	return strcmp(stored, ref) == 0;
}

static const struct gentable_ops fn_ops = {
    .key_max = FN_NAME_MAX,
    .value_size = sizeof(struct function),
    .key_equal = ref_equal,
    .copy = copy_fn,
    .drop = drop_fn,
};

struct fncache *fncache_open(const char *path, int max_age_ms, struct err **e)
{
	struct gentable *t = gentable_open(path, FNCACHE_SLOTS, max_age_ms, &fn_ops, e);
	struct fncache *fc;

	if (t == NULL)
		return NULL;
	fc = xmalloc(sizeof(*fc));
	fc->t = t;
	return fc;
}

void fncache_free(struct fncache *fc)
{
	if (fc == NULL)
		return;
	gentable_free(fc->t);
	free(fc);
}

int fncache_get(struct fncache *fc, const char *ref, struct function *out, uint64_t *gen)
{
	return gentable_get(fc->t, ref, mono_ms(), out, gen);
}

void fncache_put(struct fncache *fc, const char *ref, const struct function *f, uint64_t gen)
{
	gentable_put(fc->t, ref, f, gen, mono_ms());
}

void fncache_invalidate(struct fncache *fc)
{
	gentable_bump(fc->t);
}
