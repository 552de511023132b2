/* Request timing histograms (fcgi-app/reqtime.c): bucket bounds, the
 * percentiles of the printed table, the env var that turns it on, and the
 * dump that appends and zeroes. */
#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../fcgi-app/reqtime.c"

/* Every duration falls in a bucket whose bounds hold it, buckets grow in
 * order, and a bucket is at most a quarter power of two wide (19%). */
static void test_buckets(void **state)
{
	(void)state;
	assert_int_equal(reqtime_bucket(0), 0);
	assert_int_equal(reqtime_bucket_max(0), 0);
	for (uint64_t us = 0; us < 5000000; us += 1 + us / 50) {
		int b = reqtime_bucket(us);

		assert_true(reqtime_bucket_max(b) >= us);
		if (b > 0)
			assert_true(reqtime_bucket_max(b - 1) < us);
		if (us >= 8)
			assert_true(reqtime_bucket_max(b) <= us + us / 4 + 1);
	}
	/* beyond the last bucket: counted in it, not past the array */
	assert_int_equal(reqtime_bucket(UINT64_C(1) << 40), REQTIME_NBUCKETS - 1);
}

static void test_percentiles(void **state)
{
	struct reqtime_hist h;
	char line[256];
	unsigned long long n, p50, p90, p99, p999, mx;
	char name[16];
	FILE *f = tmpfile();

	(void)state;
	memset(&h, 0, sizeof(h));
	/* 980 requests of 100 us, 20 of 10 ms: p50 100, p99 10 ms */
	h.n[REQTIME_SERVE][reqtime_bucket(100)] = 980;
	h.n[REQTIME_SERVE][reqtime_bucket(10000)] = 20;
	reqtime_print(f, &h);
	rewind(f);
	assert_non_null(fgets(line, sizeof(line), f)); /* header */
	assert_non_null(fgets(line, sizeof(line), f)); /* wait: empty */
	assert_int_equal(sscanf(line, "%15s %llu", name, &n), 2);
	assert_string_equal(name, "wait");
	assert_int_equal(n, 0);
	assert_non_null(fgets(line, sizeof(line), f));
	assert_int_equal(sscanf(line, "%15s %llu %llu %llu %llu %llu %llu", name, &n, &p50, &p90,
	                        &p99, &p999, &mx),
	                 7);
	assert_string_equal(name, "serve");
	assert_int_equal(n, 1000);
	assert_in_range(p50, 100, 125);
	assert_in_range(p90, 100, 125);
	assert_in_range(p99, 10000, 12500);
	assert_int_equal(p999, p99);
	assert_int_equal(mx, p99);
	fclose(f);
}

/* Off without LAMBDA_API_HIST: nothing counted, no clock read, no file. */
static void test_off_then_on(void **state)
{
	char tmpl[] = "/tmp/test_reqtime.XXXXXX", path[64], line[256];
	unsigned long long serve[2] = {0, 0};
	int nserve = 0;
	FILE *f;

	(void)state;
	unsetenv("LAMBDA_API_HIST");
	assert_int_equal(reqtime_init(2), 0);
	assert_int_equal(reqtime_now(), 0);
	reqtime_add(0, REQTIME_SERVE, 1, 5); /* a no-op, not a crash */
	reqtime_dump();

	assert_non_null(mkdtemp(tmpl));
	snprintf(path, sizeof(path), "%s/hist", tmpl);
	setenv("LAMBDA_API_HIST", path, 1);
	assert_int_equal(reqtime_init(2), 1);
	assert_true(reqtime_now() > 0);
	reqtime_add(0, REQTIME_SERVE, 1000, 1100);
	reqtime_add(1, REQTIME_SERVE, 1000, 1300);
	reqtime_add(2, REQTIME_SERVE, 1000, 1300); /* no such thread: ignored */
	reqtime_add(1, REQTIME_SERVE, 0, 1300);    /* t0 0 (was off): ignored */
	reqtime_dump();                            /* appends, then zeroes */
	reqtime_dump();
	f = fopen(out_path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "serve ", 6) == 0 && nserve < 2)
			assert_int_equal(sscanf(line + 6, "%llu", &serve[nserve++]), 1);
	assert_int_equal(nserve, 2);
	assert_int_equal(serve[0], 2); /* threads 0 and 1 */
	assert_int_equal(serve[1], 0); /* zeroed by the first dump */
	fclose(f);
	unlink(out_path);
	rmdir(tmpl);
	unsetenv("LAMBDA_API_HIST");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_buckets),
	    cmocka_unit_test(test_percentiles),
	    cmocka_unit_test(test_off_then_on),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
