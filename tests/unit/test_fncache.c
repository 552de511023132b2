/* The per-process function-row cache (fcgi-app/fncache.c): a hit is a deep
 * copy without code, max age (just inside / just over), the shared
 * generation across caches and across a real fork, a put that raced a
 * write, eviction, a disabled cache, references it never stores. */
#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../fcgi-app/fncache.c"
#include "tmpdir.h"

/* fncache_get() and fncache_put() at a given time */
static int get_at(struct fncache *fc, const char *ref, long long now, struct function *out,
                  uint64_t *gen)
{
	return gentable_get(fc->t, ref, now, out, gen);
}

static void put_at(struct fncache *fc, const char *ref, const struct function *f, uint64_t gen,
                   long long now)
{
	gentable_put(fc->t, ref, f, gen, now);
}

static struct fncache *open_ok(int max_age_ms)
{
	struct err *e = NULL;
	struct fncache *fc = fncache_open(tmpdir_path, max_age_ms, &e);

	assert_non_null(fc);
	assert_null(e);
	return fc;
}

/* A row as db_fn_get gives it, with code, named name, at version v. */
static void make_fn(struct function *f, const char *name, long long v)
{
	memset(f, 0, sizeof(*f));
	f->id = v * 10;
	f->name = xstrdup(name);
	f->runtime = xstrdup("python");
	f->handler = xstrdup("main.handler");
	f->style = xstrdup("aws");
	f->code = xstrdup("def handler(e, c): return 1\n");
	f->code_len = strlen(f->code);
	f->code_format = xstrdup("text");
	snprintf(f->code_sha256, sizeof(f->code_sha256), "%064d", 7);
	f->timeout_ms = 3000;
	f->memory_mb = 128;
	f->isolation = xstrdup("docker");
	f->env = xstrdup("{\"A\":\"1\"}");
	f->url_auth = xstrdup("key");
	f->version = v;
	f->created_at = xstrdup("2026-12-06T16:00:00.000Z");
	f->updated_at = xstrdup("2026-12-06T16:00:01.000Z");
}

static void test_hit_is_a_copy(void **state)
{
	struct fncache *fc = open_ok(1000);
	struct function f, got;
	uint64_t gen;

	(void)state;
	make_fn(&f, "hello", 3);
	assert_int_equal(fncache_get(fc, "hello", &got, &gen), 0);
	fncache_put(fc, "hello", &f, gen);
	function_free(&f); /* the cache holds its own copy */
	assert_int_equal(fncache_get(fc, "hello", &got, &gen), 1);
	assert_string_equal(got.name, "hello");
	assert_string_equal(got.env, "{\"A\":\"1\"}");
	assert_string_equal(got.updated_at, "2026-12-06T16:00:01.000Z");
	assert_int_equal(got.version, 3);
	assert_int_equal(got.id, 30);
	assert_null(got.code); /* never the code */
	assert_int_equal(got.code_len, strlen("def handler(e, c): return 1\n"));
	function_free(&got); /* and the caller its own */
	assert_int_equal(fncache_get(fc, "hello", &got, &gen), 1);
	function_free(&got);
	assert_int_equal(fncache_get(fc, "hellO", &got, &gen), 0);
	assert_int_equal(fncache_get(fc, "30", &got, &gen), 0); /* keyed by the reference */
	fncache_free(fc);
}

static void test_max_age_pair(void **state)
{
	struct fncache *fc = open_ok(1000);
	struct function f, got;
	uint64_t gen;

	(void)state;
	make_fn(&f, "aged", 1);
	get_at(fc, "aged", 5000, &got, &gen);
	put_at(fc, "aged", &f, gen, 5000);
	function_free(&f);
	assert_int_equal(get_at(fc, "aged", 5000 + 999, &got, &gen), 1); /* just inside */
	function_free(&got);
	assert_int_equal(get_at(fc, "aged", 5000 + 1000, &got, &gen), 0); /* just over */
	assert_int_equal(get_at(fc, "aged", 5000 + 1, &got, &gen), 0);    /* and gone */
	fncache_free(fc);
}

static void test_generation_between_caches(void **state)
{
	struct fncache *a = open_ok(1000), *b = open_ok(1000);
	struct function f, got;
	uint64_t ga, gb;

	(void)state;
	make_fn(&f, "shared", 1);
	fncache_get(a, "shared", &got, &ga);
	fncache_put(a, "shared", &f, ga);
	fncache_get(b, "shared", &got, &gb);
	fncache_put(b, "shared", &f, gb);
	function_free(&f);
	assert_int_equal(fncache_get(a, "shared", &got, &ga), 1);
	function_free(&got);
	assert_int_equal(fncache_get(b, "shared", &got, &gb), 1);
	function_free(&got);
	fncache_invalidate(a);
	assert_int_equal(fncache_get(b, "shared", &got, &gb), 0); /* the other "process" */
	assert_int_equal(fncache_get(a, "shared", &got, &ga), 0); /* and the writer's */
	assert_int_equal(ga, gb);
	fncache_free(a);
	fncache_free(b);
}

static void test_generation_across_fork(void **state)
{
	struct fncache *fc = open_ok(1000);
	struct function f, got;
	uint64_t gen;
	int status = -1;
	pid_t pid;

	(void)state;
	make_fn(&f, "forked", 1);
	fncache_get(fc, "forked", &got, &gen);
	fncache_put(fc, "forked", &f, gen);
	function_free(&f);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct err *e = NULL;
		struct fncache *child = fncache_open(tmpdir_path, 1000, &e);

		if (child == NULL)
			_exit(1);
		fncache_invalidate(child);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(fncache_get(fc, "forked", &got, &gen), 0);
	fncache_free(fc);
}

/* A thread read the old row, an update committed and bumped meanwhile: its
 * put must not bring the old version back. */
static void test_put_after_bump_dropped(void **state)
{
	struct fncache *fc = open_ok(1000), *other = open_ok(1000);
	struct function old, got;
	uint64_t gen, g2;

	(void)state;
	make_fn(&old, "raced", 1);
	assert_int_equal(fncache_get(fc, "raced", &got, &gen), 0);
	fncache_invalidate(other);
	fncache_put(fc, "raced", &old, gen);
	assert_int_equal(fncache_get(fc, "raced", &got, &g2), 0);
	assert_int_equal(g2, gen + 1);
	fncache_put(fc, "raced", &old, g2); /* read under the new generation: kept */
	assert_int_equal(fncache_get(fc, "raced", &got, &g2), 1);
	function_free(&got);
	function_free(&old);
	fncache_free(fc);
	fncache_free(other);
}

static void test_disabled_eviction_and_bad_refs(void **state)
{
	struct fncache *off = open_ok(0), *fc = open_ok(1000);
	struct function f, got;
	char name[FN_NAME_MAX + 2];
	uint64_t gen;
	int hits = 0;

	(void)state;
	make_fn(&f, "x", 1);
	fncache_get(off, "x", &got, &gen);
	fncache_put(off, "x", &f, gen);
	assert_int_equal(fncache_get(off, "x", &got, &gen), 0);
	/* too long or empty: never stored */
	memset(name, 'a', FN_NAME_MAX + 1);
	name[FN_NAME_MAX + 1] = '\0';
	fncache_put(fc, name, &f, gen);
	assert_int_equal(fncache_get(fc, name, &got, &gen), 0);
	fncache_put(fc, "", &f, gen);
	assert_int_equal(fncache_get(fc, "", &got, &gen), 0);
	/* three times the slots: the table never grows, the newest is found */
	for (int i = 0; i < 3 * FNCACHE_SLOTS; i++) {
		snprintf(name, sizeof(name), "fn-%d", i);
		put_at(fc, name, &f, gen, 10 + i);
	}
	assert_int_equal(get_at(fc, name, 10 + 3 * FNCACHE_SLOTS, &got, &gen), 1);
	function_free(&got);
	for (int i = 0; i < 3 * FNCACHE_SLOTS; i++) {
		snprintf(name, sizeof(name), "fn-%d", i);
		if (get_at(fc, name, 10 + 3 * FNCACHE_SLOTS, &got, &gen)) {
			hits++;
			function_free(&got);
		}
	}
	assert_true(hits > 0 && hits <= FNCACHE_SLOTS);
	function_free(&f);
	fncache_free(off);
	fncache_free(fc); /* frees every entry: ASan's leak check sees the rest */
}

static void test_open_fails_cleanly(void **state)
{
	struct err *e = NULL;

	(void)state;
	assert_null(fncache_open("/nonexistent-dir/functions.gen", 1000, &e));
	assert_non_null(e);
	assert_non_null(strstr(err_msg(e), "/nonexistent-dir/functions.gen"));
	err_free(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TMPDIR_TEST(test_hit_is_a_copy),
	    TMPDIR_TEST(test_max_age_pair),
	    TMPDIR_TEST(test_generation_between_caches),
	    TMPDIR_TEST(test_generation_across_fork),
	    TMPDIR_TEST(test_put_after_bump_dropped),
	    TMPDIR_TEST(test_disabled_eviction_and_bad_refs),
	    TMPDIR_TEST(test_open_fails_cleanly),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
