/* Unit tests for fcgi-app/metrics.c: histogram bounds and percentiles,
 * window/step parsing (each limit just inside and just over), series
 * bucketing and JSON, /proc parsing. */
#include <config.h>

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"

static void test_hist_index(void **state)
{
	(void)state;
	assert_int_equal(metrics_hist_index(0), 0);
	assert_int_equal(metrics_hist_index(0.25), 0); /* le: the bound belongs to its bucket */
	assert_int_equal(metrics_hist_index(0.2501), 1);
	assert_int_equal(metrics_hist_index(1), 2);
	assert_int_equal(metrics_hist_index(300000), METRICS_HIST_BUCKETS - 2);
	assert_int_equal(metrics_hist_index(300000.1), METRICS_HIST_BUCKETS - 1);
	assert_int_equal(metrics_hist_index(NAN), METRICS_HIST_BUCKETS - 1);
	for (int i = 1; i < METRICS_HIST_BUCKETS - 1; i++)
		assert_true(metrics_hist_bounds[i] > metrics_hist_bounds[i - 1]);
}

static void test_hist_quantile(void **state)
{
	uint64_t c[METRICS_HIST_BUCKETS] = {0};
	(void)state;
	assert_true(isnan(metrics_hist_quantile(c, 0.5, 0, 0)));
	/* 100 values spread evenly in (10, 15]: p50 near 12.5 */
	c[metrics_hist_index(12)] = 100;
	assert_float_equal(metrics_hist_quantile(c, 0.5, 10.0, 15.0), 12.5, 0.01);
	/* observed extremes narrow the bucket */
	assert_float_equal(metrics_hist_quantile(c, 1.0, 11.0, 13.0), 13.0, 0.01);
	assert_float_equal(metrics_hist_quantile(c, 0.0, 11.0, 13.0), 11.0, 0.01);
	/* two buckets: p95 falls into the slow one */
	memset(c, 0, sizeof(c));
	c[metrics_hist_index(1)] = 90;
	c[metrics_hist_index(900)] = 10;
	assert_true(metrics_hist_quantile(c, 0.5, 0.6, 1000) <= 1.0);
	assert_true(metrics_hist_quantile(c, 0.95, 0.6, 1000) > 750);
	/* +Inf bucket uses the maximum */
	memset(c, 0, sizeof(c));
	c[METRICS_HIST_BUCKETS - 1] = 1;
	assert_float_equal(metrics_hist_quantile(c, 0.99, 400000, 400000), 400000, 0.01);
}

static void test_quantile_sorted(void **state)
{
	double v[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
	(void)state;
	assert_true(isnan(metrics_quantile_sorted(v, 0, 0.5)));
	assert_float_equal(metrics_quantile_sorted(v, 10, 0.5), 5.5, 1e-9);
	assert_float_equal(metrics_quantile_sorted(v, 10, 0), 1, 1e-9);
	assert_float_equal(metrics_quantile_sorted(v, 10, 1), 10, 1e-9);
	assert_float_equal(metrics_quantile_sorted(v, 1, 0.99), 1, 1e-9);
	assert_float_equal(metrics_quantile_sorted(v, 10, 0.99), 9.91, 1e-9);
}

static void test_window_parse(void **state)
{
	struct metrics_window w;
	struct err *e = NULL;
	(void)state;
	assert_int_equal(metrics_window_parse(NULL, &w, &e), 0);
	assert_string_equal(w.name, "5m");
	assert_int_equal(metrics_window_parse("24h", &w, &e), 0);
	assert_int_equal(w.seconds, 86400);
	assert_true(w.rollup);
	assert_int_equal(metrics_window_parse("2h", &w, &e), -1);
	assert_int_equal(e->code, ERR_INVALID);
	assert_string_equal(e->msg, "window: must be one of 5m, 1h, 24h");
	err_free(&e);
}

static void step_bad(const struct metrics_window *w, const char *s, const char *msg)
{
	struct err *e = NULL;
	int step = -7;
	assert_int_equal(metrics_step_parse(s, w, &step, &e), -1);
	assert_int_equal(step, -7); /* untouched on failure */
	assert_non_null(e);
	assert_string_equal(e->msg, msg);
	err_free(&e);
}

static void test_step_parse(void **state)
{
	struct metrics_window w5, w1, w24;
	struct err *e = NULL;
	int step = 0;
	(void)state;
	metrics_window_parse("5m", &w5, NULL);
	metrics_window_parse("1h", &w1, NULL);
	metrics_window_parse("24h", &w24, NULL);
	assert_int_equal(metrics_step_parse(NULL, &w5, &step, &e), 0);
	assert_int_equal(step, 10);
	assert_int_equal(metrics_step_parse("1", &w5, &step, &e), 0); /* smallest */
	assert_int_equal(step, 1);
	assert_int_equal(metrics_step_parse("5m", &w5, &step, &e), 0); /* the whole window */
	assert_int_equal(step, 300);
	step_bad(&w5, "301", "step: at most the window (300 s)");
	step_bad(&w5, "0", "step: at least 1 s for window 5m");
	step_bad(&w5, "abc", "step: expected a number of seconds such as 10, 30s, 5m or 1h");
	step_bad(&w5, "10x", "step: expected a number of seconds such as 10, 30s, 5m or 1h");
	step_bad(&w5, "-5", "step: expected a number of seconds such as 10, 30s, 5m or 1h");
	assert_int_equal(metrics_step_parse("60", &w24, &step, &e),
	                 0); /* 1440 buckets: just inside */
	assert_int_equal(step, 60);
	step_bad(&w24, "59", "step: at least 60 s for window 24h");
	step_bad(&w1, "90", "step: must be a multiple of 60 s for window 1h");
	assert_int_equal(metrics_step_parse("2m", &w1, &step, &e), 0);
	assert_int_equal(step, 120);
	step_bad(&w1, "99999999999", "step: too large (at most the window, 3600 s)");
	assert_null(e);
}

static void test_series_exact(void **state)
{
	struct metrics_series *s = metrics_series_new(1000, 300, 10, true);
	cJSON *j, *b, *t;
	(void)state;
	assert_int_equal(s->nbuckets, 30);
	assert_int_equal(s->from, 710); /* last bucket [1000, 1010) holds now */
	metrics_series_add_raw(s, 1000, MI_DOCKER, MS_SUCCESS, true, 2.0);
	metrics_series_add_raw(s, 1001, MI_DOCKER, MS_SUCCESS, false, 4.0);
	metrics_series_add_raw(s, 1005, MI_GVISOR, MS_TIMEOUT, false, 1000.0);
	metrics_series_add_raw(s, 700, MI_DOCKER, MS_SUCCESS, false, 1.0);  /* before: ignored */
	metrics_series_add_raw(s, 1010, MI_DOCKER, MS_SUCCESS, false, 1.0); /* after: ignored */
	metrics_series_add_raw(s, 710, MI_DOCKER, MS_ERROR, false, 8.0);    /* first bucket */
	j = metrics_series_json(s);
	b = cJSON_GetObjectItem(j, "buckets");
	assert_int_equal(cJSON_GetArraySize(b), 30);
	t = cJSON_GetArrayItem(b, 29);
	assert_int_equal(cJSON_GetObjectItem(t, "ts")->valuedouble, 1000);
	assert_int_equal(cJSON_GetObjectItem(t, "calls")->valuedouble, 3);
	assert_int_equal(cJSON_GetObjectItem(t, "cold")->valuedouble, 1);
	assert_int_equal(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(t, "by_status"), "timeout")->valuedouble, 1);
	assert_float_equal(cJSON_GetObjectItem(t, "p50_ms")->valuedouble, 4.0, 1e-9);
	assert_float_equal(
	    cJSON_GetObjectItem(
	        cJSON_GetObjectItem(cJSON_GetObjectItem(t, "by_isolation"), "docker"), "p50_ms")
	        ->valuedouble,
	    3.0, 1e-9);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(b, 5), "p95_ms")));
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(b, 0), "errors")->valuedouble, 1);
	t = cJSON_GetObjectItem(j, "totals");
	assert_int_equal(cJSON_GetObjectItem(t, "calls")->valuedouble, 4);
	assert_float_equal(cJSON_GetObjectItem(t, "error_rate")->valuedouble, 0.5, 1e-9);
	assert_float_equal(cJSON_GetObjectItem(t, "cold_rate")->valuedouble, 0.25, 1e-9);
	assert_float_equal(cJSON_GetObjectItem(t, "max_ms")->valuedouble, 1000, 1e-9);
	cJSON_Delete(j);
	metrics_series_free(s);
}

static void test_series_rollup(void **state)
{
	struct metrics_series *s = metrics_series_new(86400 * 100 + 30, 3600, 60, false);
	struct metrics_rollup r;
	cJSON *j, *t;
	(void)state;
	memset(&r, 0, sizeof(r));
	r.calls = 10;
	r.by_status[MS_SUCCESS] = 9;
	r.by_status[MS_OOM] = 1;
	r.hist[metrics_hist_index(3)] = 10;
	r.sum_ms = 25;
	r.min_ms = 2.1;
	r.max_ms = 2.9;
	metrics_series_add_rollup(s, 86400 * 100, MI_GVISOR, &r);
	j = metrics_series_json(s);
	t = cJSON_GetObjectItem(j, "totals");
	assert_int_equal(cJSON_GetObjectItem(t, "calls")->valuedouble, 10);
	assert_int_equal(cJSON_GetObjectItem(t, "errors")->valuedouble, 1);
	assert_float_equal(cJSON_GetObjectItem(t, "avg_ms")->valuedouble, 2.5, 1e-9);
	assert_true(cJSON_GetObjectItem(t, "p50_ms")->valuedouble >= 2.1);
	assert_true(cJSON_GetObjectItem(t, "p99_ms")->valuedouble <= 2.9);
	assert_int_equal(
	    cJSON_GetObjectItem(
	        cJSON_GetObjectItem(cJSON_GetObjectItem(t, "by_isolation"), "docker"), "calls")
	        ->valuedouble,
	    0);
	cJSON_Delete(j);
	metrics_series_free(s);
}

static void test_proc(void **state)
{
	struct metrics_cpu_sample a, b;
	uint64_t tot = 0, av = 0;
	struct err *e = NULL;
	(void)state;
	assert_int_equal(
	    metrics_parse_proc_stat("cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 1 2 3 4\n", &a, &e), 0);
	assert_int_equal(a.total, 1000);
	assert_int_equal(a.busy, 200);
	assert_int_equal(metrics_parse_proc_stat("cpu  200 0 200 1400 200 0 0 0 0 0\n", &b, &e), 0);
	assert_float_equal(metrics_cpu_percent(&a, &b), 20.0, 1e-9);
	assert_true(isnan(metrics_cpu_percent(&a, &a)));
	assert_int_equal(metrics_parse_proc_stat("intr 1 2 3\n", &a, &e), -1);
	err_free(&e);
	assert_int_equal(
	    metrics_parse_meminfo(
	        "MemTotal:       8000 kB\nMemFree: 1 kB\nMemAvailable:   6000 kB\n", &tot, &av, &e),
	    0);
	assert_int_equal(tot, 8000 * 1024);
	assert_int_equal(av, 6000 * 1024);
	assert_int_equal(metrics_parse_meminfo("MemTotal: 1 kB\n", &tot, &av, &e), -1);
	assert_non_null(e);
	err_free(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hist_index),      cmocka_unit_test(test_hist_quantile),
	    cmocka_unit_test(test_quantile_sorted), cmocka_unit_test(test_window_parse),
	    cmocka_unit_test(test_step_parse),      cmocka_unit_test(test_series_exact),
	    cmocka_unit_test(test_series_rollup),   cmocka_unit_test(test_proc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
