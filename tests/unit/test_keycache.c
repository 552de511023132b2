/* The per-process API-key cache (fcgi-app/keycache.c): hits, max age (just
 * inside / just over), the shared generation across caches and across a
 * real fork, a put that raced a revocation, eviction, a disabled cache. */
#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../fcgi-app/keycache.c"
#include "tmpdir.h"

/* hex SHA-256-shaped text from a number */
static void hash_of(int n, char out[65])
{
	char num[16];

	memset(out, 'a', 64);
	snprintf(num, sizeof(num), "%08x", (unsigned)n);
	memcpy(out, num, 8);
	out[64] = '\0';
}

/* keycache_get() and keycache_put() at a given time */
static int get_at(struct keycache *kc, const char *hash, long long now, long long *key_id,
                  uint64_t *gen)
{
	return gentable_get(kc->t, hash, now, key_id, gen);
}

static void put_at(struct keycache *kc, const char *hash, long long key_id, uint64_t gen,
                   long long now)
{
	gentable_put(kc->t, hash, &key_id, gen, now);
}

static struct keycache *open_ok(int max_age_ms)
{
	struct err *e = NULL;
	struct keycache *kc = keycache_open(tmpdir_path, max_age_ms, &e);

	assert_non_null(kc);
	assert_null(e);
	return kc;
}

static void test_hit_and_miss(void **state)
{
	struct keycache *kc = open_ok(5000);
	char h1[65], h2[65];
	long long id = 0;
	uint64_t gen;
	struct stat st;

	(void)state;
	hash_of(1, h1);
	hash_of(2, h2);
	assert_int_equal(keycache_get(kc, h1, &id, &gen), 0);
	keycache_put(kc, h1, 42, gen);
	id = 0;
	assert_int_equal(keycache_get(kc, h1, &id, &gen), 1);
	assert_int_equal(id, 42);
	assert_int_equal(keycache_get(kc, h2, &id, &gen), 0);
	/* not a hash: never stored, never found */
	keycache_put(kc, "short", 7, gen);
	assert_int_equal(keycache_get(kc, "short", &id, &gen), 0);
	assert_int_equal(stat(tmpdir_path, &st), 0);
	assert_int_equal(st.st_size, 8);
	assert_int_equal(st.st_mode & 0777, 0600);
	keycache_free(kc);
}

static void test_max_age_pair(void **state)
{
	struct keycache *kc = open_ok(5000);
	char h[65];
	long long id = 0;
	uint64_t gen;

	(void)state;
	hash_of(3, h);
	get_at(kc, h, 1000, &id, &gen);
	put_at(kc, h, 9, gen, 1000);
	assert_int_equal(get_at(kc, h, 1000 + 4999, &id, &gen), 1); /* just inside */
	assert_int_equal(id, 9);
	assert_int_equal(get_at(kc, h, 1000 + 5000, &id, &gen), 0); /* just over */
	/* and it stays gone: the caller refills from the database */
	assert_int_equal(get_at(kc, h, 1000 + 1, &id, &gen), 0);
	keycache_free(kc);
}

static void test_generation_between_caches(void **state)
{
	struct keycache *a = open_ok(5000), *b = open_ok(5000);
	char h[65];
	long long id;
	uint64_t ga, gb;

	(void)state;
	hash_of(4, h);
	keycache_get(a, h, &id, &ga);
	keycache_put(a, h, 1, ga);
	keycache_get(b, h, &id, &gb);
	keycache_put(b, h, 1, gb);
	assert_int_equal(keycache_get(a, h, &id, &ga), 1);
	assert_int_equal(keycache_get(b, h, &id, &gb), 1);
	keycache_invalidate(a);
	assert_int_equal(keycache_get(b, h, &id, &gb), 0); /* the other "process" */
	assert_int_equal(keycache_get(a, h, &id, &ga), 0); /* and the one that bumped */
	assert_int_equal(ga, gb);
	keycache_free(a);
	keycache_free(b);
}

static void test_generation_across_fork(void **state)
{
	struct keycache *kc = open_ok(5000);
	char h[65];
	long long id;
	uint64_t gen;
	int status = -1;
	pid_t pid;

	(void)state;
	hash_of(5, h);
	keycache_get(kc, h, &id, &gen);
	keycache_put(kc, h, 5, gen);
	assert_int_equal(keycache_get(kc, h, &id, &gen), 1);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct err *e = NULL;
		struct keycache *child = keycache_open(tmpdir_path, 5000, &e);

		if (child == NULL)
			_exit(1);
		keycache_invalidate(child);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(keycache_get(kc, h, &id, &gen), 0);
	keycache_free(kc);
}

/* A thread looked the key up in the database, a revocation was committed and
 * bumped meanwhile: its put must not bring the key back. */
static void test_put_after_bump_dropped(void **state)
{
	struct keycache *kc = open_ok(5000), *other = open_ok(5000);
	char h[65];
	long long id;
	uint64_t gen, g2;

	(void)state;
	hash_of(6, h);
	assert_int_equal(keycache_get(kc, h, &id, &gen), 0);
	keycache_invalidate(other);
	keycache_put(kc, h, 6, gen);
	assert_int_equal(keycache_get(kc, h, &id, &g2), 0);
	assert_int_equal(g2, gen + 1);
	keycache_put(kc, h, 6, g2); /* a lookup under the new generation is kept */
	assert_int_equal(keycache_get(kc, h, &id, &g2), 1);
	keycache_free(kc);
	keycache_free(other);
}

static void test_disabled_and_eviction(void **state)
{
	struct keycache *off = open_ok(0), *kc = open_ok(5000);
	char h[65];
	long long id = 0;
	uint64_t gen;
	int hits = 0;

	(void)state;
	hash_of(7, h);
	keycache_get(off, h, &id, &gen);
	keycache_put(off, h, 7, gen);
	assert_int_equal(keycache_get(off, h, &id, &gen), 0);
	/* three times the slots: the table never grows, the newest is found */
	for (int i = 0; i < 3 * KEYCACHE_SLOTS; i++) {
		hash_of(100 + i, h);
		put_at(kc, h, 100 + i, gen, 10 + i);
	}
	assert_int_equal(get_at(kc, h, 10 + 3 * KEYCACHE_SLOTS, &id, &gen), 1);
	assert_int_equal(id, 100 + 3 * KEYCACHE_SLOTS - 1);
	for (int i = 0; i < 3 * KEYCACHE_SLOTS; i++) {
		hash_of(100 + i, h);
		hits += get_at(kc, h, 10 + 3 * KEYCACHE_SLOTS, &id, &gen);
	}
	assert_true(hits > 0 && hits <= KEYCACHE_SLOTS);
	keycache_free(off);
	keycache_free(kc);
}

static void test_open_fails_cleanly(void **state)
{
	struct err *e = NULL;

	(void)state;
	assert_null(keycache_open("/nonexistent-dir/api-keys.gen", 5000, &e));
	assert_non_null(e);
	assert_non_null(strstr(err_msg(e), "/nonexistent-dir/api-keys.gen"));
	err_free(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TMPDIR_TEST(test_hit_and_miss),
	    TMPDIR_TEST(test_max_age_pair),
	    TMPDIR_TEST(test_generation_between_caches),
	    TMPDIR_TEST(test_generation_across_fork),
	    TMPDIR_TEST(test_put_after_bump_dropped),
	    TMPDIR_TEST(test_disabled_and_eviction),
	    cmocka_unit_test(test_open_fails_cleanly),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
