/* The generation-checked cache table (fcgi-app/gentable.c) that the key and
 * function caches share: colliding keys and where they land, probing that
 * wraps past the last slot, a full table evicting its oldest entry, a
 * generation bump emptying the table (and releasing its values), a read
 * that raced a bump not stored, max age, keys it never stores, and that
 * every value copied in is released once (ASan's leak check sees the rest). */
#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../fcgi-app/gentable.c"
#include "tmpdir.h"

#define KEY_MAX 15

/* A value that owns memory, to see copy and drop at work. */
struct tval {
	char *s;
	long long n;
};

static int copies, drops;

static int no_bang(const char *key)
{
	return key[0] != '!';
}

static int str_equal(const char *stored, const char *key)
{
	return strcmp(stored, key) == 0;
}

static void tval_copy(void *to, const void *from)
{
	struct tval *dst = to;
	const struct tval *src = from;

	dst->s = xstrdup(src->s);
	dst->n = src->n;
	copies++;
}

static void tval_drop(void *v)
{
	free(((struct tval *)v)->s);
	drops++;
}

static const struct gentable_ops ops = {
    .key_max = KEY_MAX,
    .value_size = sizeof(struct tval),
    .key_ok = no_bang,
    .key_equal = str_equal,
    .copy = tval_copy,
    .drop = tval_drop,
};

static int setup(void **state)
{
	copies = drops = 0;
	return tmpdir_setup(state);
}

static struct gentable *open_ok(size_t slots, int max_age_ms)
{
	struct err *e = NULL;
	struct gentable *t = gentable_open(tmpdir_path, slots, max_age_ms, &ops, &e);

	assert_non_null(t);
	assert_null(e);
	return t;
}

static void put(struct gentable *t, const char *key, long long n, long long now)
{
	struct tval v = {.s = (char *)"value", .n = n};

	gentable_put(t, key, &v, gen_load(t->shared), now); /* as after a miss */
}

/* The value found for key at time now, -1 on a miss. */
static long long get(struct gentable *t, const char *key, long long now)
{
	struct tval out = {.s = NULL, .n = -1};
	uint64_t gen;

	if (!gentable_get(t, key, now, &out, &gen))
		return -1;
	assert_string_equal(out.s, "value");
	free(out.s); /* a hit is the caller's own copy */
	return out.n;
}

/* n distinct keys whose home is slot. */
static void keys_homed_at(const struct gentable *t, size_t slot, int n, char out[][KEY_MAX + 1])
{
	int found = 0;

	for (int i = 0; found < n; i++) {
		snprintf(out[found], KEY_MAX + 1, "k%d", i);
		if (home(t, out[found]) == slot)
			found++;
	}
}

static void test_collisions_probe_on(void **state)
{
	struct gentable *t = open_ok(16, 1000);
	char k[4][KEY_MAX + 1];

	(void)state;
	keys_homed_at(t, 5, 4, k);
	for (int i = 0; i < 3; i++)
		put(t, k[i], 10 + i, 100);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(get(t, k[i], 100), 10 + i);
		assert_string_equal(key_at(t, 5 + (size_t)i), k[i]); /* home, then the next ones */
	}
	assert_int_equal(get(t, k[3], 100), -1); /* same home, never stored */
	/* a second put of a key replaces its value in its own slot */
	put(t, k[1], 99, 101);
	assert_int_equal(get(t, k[1], 101), 99);
	assert_string_equal(key_at(t, 6), k[1]);
	assert_string_equal(key_at(t, 8), "");
	gentable_free(t);
	assert_int_equal(drops, copies - 4); /* every stored value released; 4 hits were ours */
}

static void test_probe_wraps_around(void **state)
{
	struct gentable *t = open_ok(16, 1000);
	char k[3][KEY_MAX + 1];

	(void)state;
	keys_homed_at(t, 15, 3, k);
	for (int i = 0; i < 3; i++)
		put(t, k[i], i, 100);
	assert_string_equal(key_at(t, 15), k[0]);
	assert_string_equal(key_at(t, 0), k[1]); /* past the last slot: the first ones */
	assert_string_equal(key_at(t, 1), k[2]);
	for (int i = 0; i < 3; i++)
		assert_int_equal(get(t, k[i], 100), i);
	gentable_free(t);
}

/* 8 slots = one probe run: the table is full after 8 keys, and a ninth
 * evicts the oldest, wherever its home. */
static void test_full_table_evicts_oldest(void **state)
{
	struct gentable *t = open_ok(PROBE, 1000);
	char key[KEY_MAX + 1];
	int before;

	(void)state;
	for (int i = 0; i < PROBE; i++) {
		snprintf(key, sizeof(key), "full-%d", i);
		put(t, key, i, 100 + i);
	}
	for (size_t s = 0; s < PROBE; s++)
		assert_true(key_at(t, s)[0] != '\0');
	before = drops;
	put(t, "ninth", 9, 100 + PROBE);
	assert_int_equal(drops, before + 1); /* exactly one released */
	assert_int_equal(get(t, "full-0", 100 + PROBE), -1);
	assert_int_equal(get(t, "ninth", 100 + PROBE), 9);
	for (int i = 1; i < PROBE; i++) {
		snprintf(key, sizeof(key), "full-%d", i);
		assert_int_equal(get(t, key, 100 + PROBE), i);
	}
	gentable_free(t);
	assert_int_equal(copies - drops, PROBE); /* the hits' copies, freed by get() */
}

static void test_bump_empties_and_races(void **state)
{
	struct gentable *t = open_ok(16, 1000), *other = open_ok(16, 1000);
	struct tval v = {.s = (char *)"value", .n = 7}, out;
	char key[KEY_MAX + 1];
	uint64_t gen, g2;
	int stored;

	(void)state;
	for (int i = 0; i < 5; i++) {
		snprintf(key, sizeof(key), "gen-%d", i);
		put(t, key, i, 100);
	}
	assert_int_equal(get(t, "gen-0", 100), 0);
	gentable_get(t, "late", 100, &out, &gen); /* a reader misses, goes to the database */
	gentable_bump(other);                     /* a write commits meanwhile, elsewhere */
	stored = copies;
	gentable_put(t, "late", &v, gen, 100);
	assert_int_equal(copies, stored); /* what it read may be stale: not stored */
	assert_int_equal(drops, 5);       /* and the table emptied, values released */
	for (size_t s = 0; s < 16; s++)
		assert_string_equal(key_at(t, s), "");
	assert_int_equal(gentable_get(t, "gen-1", 100, &out, &g2), 0);
	assert_int_equal(g2, gen + 1);
	gentable_put(t, "late", &v, g2, 100); /* read under the new generation: kept */
	assert_int_equal(get(t, "late", 100), 7);
	gentable_free(t);
	gentable_free(other);
}

static void test_max_age(void **state)
{
	struct gentable *t = open_ok(16, 1000);
	char k[3][KEY_MAX + 1];

	(void)state;
	keys_homed_at(t, 3, 3, k);
	put(t, k[0], 1, 5000);
	assert_int_equal(get(t, k[0], 5000 + 999), 1);   /* just inside */
	assert_int_equal(get(t, k[0], 5000 + 1000), -1); /* just over */
	assert_int_equal(drops, 1);                      /* released at once */
	assert_int_equal(get(t, k[0], 5000 + 1), -1);    /* and gone */
	/* an expired entry's slot is taken before a free one further on */
	put(t, k[0], 1, 5000);
	put(t, k[1], 2, 5500);
	put(t, k[2], 3, 6200); /* k[0] is 1200 ms old, k[1] 700 */
	assert_string_equal(key_at(t, 3), k[2]);
	assert_string_equal(key_at(t, 4), k[1]);
	assert_string_equal(key_at(t, 5), "");
	assert_int_equal(drops, 2);
	assert_int_equal(get(t, k[1], 6200), 2);
	assert_int_equal(get(t, k[2], 6200), 3);
	gentable_free(t);
}

static void test_keys_never_stored(void **state)
{
	struct gentable *t = open_ok(16, 1000), *off = open_ok(16, 0);
	char long_key[KEY_MAX + 2];

	(void)state;
	memset(long_key, 'a', KEY_MAX + 1);
	long_key[KEY_MAX + 1] = '\0';
	put(t, "", 1, 100);
	put(t, long_key, 2, 100);
	put(t, "!refused", 3, 100); /* ops->key_ok */
	put(off, "fine", 4, 100);   /* max age 0: a disabled cache */
	assert_int_equal(copies, 0);
	assert_int_equal(get(t, "", 100), -1);
	assert_int_equal(get(t, long_key, 100), -1);
	assert_int_equal(get(t, "!refused", 100), -1);
	assert_int_equal(get(off, "fine", 100), -1);
	long_key[KEY_MAX] = '\0'; /* key_max itself is fine */
	put(t, long_key, 5, 100);
	assert_int_equal(get(t, long_key, 100), 5);
	gentable_free(t);
	gentable_free(off);
}

static void test_flat_values_and_open_errors(void **state)
{
	static const struct gentable_ops flat = {
	    .key_max = KEY_MAX, .value_size = sizeof(long long), .key_equal = str_equal};
	struct err *e = NULL;
	struct gentable *t;
	long long v = 42, out = 0;
	uint64_t gen;

	(void)state;
	t = gentable_open(tmpdir_path, 16, 1000, &flat, &e);
	assert_non_null(t);
	gentable_get(t, "flat", 100, &out, &gen);
	gentable_put(t, "flat", &v, gen, 100); /* no copy: memcpy */
	assert_int_equal(gentable_get(t, "flat", 100, &out, &gen), 1);
	assert_int_equal(out, 42);
	gentable_free(t);
	assert_null(gentable_open(tmpdir_path, 12, 1000, &flat, &e));
	assert_non_null(e);
	assert_non_null(strstr(err_msg(e), "power of two"));
	err_free(&e);
	assert_null(gentable_open("/nonexistent-dir/x.gen", 16, 1000, &flat, &e));
	assert_non_null(e);
	assert_non_null(strstr(err_msg(e), "/nonexistent-dir/x.gen"));
	err_free(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_collisions_probe_on, setup, tmpdir_teardown),
	    cmocka_unit_test_setup_teardown(test_probe_wraps_around, setup, tmpdir_teardown),
	    cmocka_unit_test_setup_teardown(test_full_table_evicts_oldest, setup, tmpdir_teardown),
	    cmocka_unit_test_setup_teardown(test_bump_empties_and_races, setup, tmpdir_teardown),
	    cmocka_unit_test_setup_teardown(test_max_age, setup, tmpdir_teardown),
	    cmocka_unit_test_setup_teardown(test_keys_never_stored, setup, tmpdir_teardown),
	    cmocka_unit_test_setup_teardown(test_flat_values_and_open_errors, setup,
	                                    tmpdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
