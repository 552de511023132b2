/* common/clock.c: the units agree with each other, time moves forward,
 * and mono_ts() is a deadline a CLOCK_MONOTONIC condition variable keeps. */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <time.h>
#include <cmocka.h>

#include "clock.h"

static void test_ts_split(void **state)
{
	static const struct {
		long long ms;
		time_t sec;
		long nsec;
	} cases[] = {
	    {0, 0, 0},
	    {1, 0, 1000000},
	    {999, 0, 999000000},
	    {1000, 1, 0},
	    {1500, 1, 500000000},
	    {86400123, 86400, 123000000},
	    {4102444800001LL, 4102444800, 1000000}, /* past 2038 in ms: no overflow */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct timespec ts = mono_ts(cases[i].ms);

		assert_int_equal(ts.tv_sec, cases[i].sec);
		assert_int_equal(ts.tv_nsec, cases[i].nsec);
	}
}

/* Read in order, the three units bracket each other. */
static void test_units_agree(void **state)
{
	long long a, b;
	double f;
	unsigned long long us;

	(void)state;
	a = mono_ms();
	f = mono_ms_f();
	us = mono_us();
	b = mono_ms();
	assert_true(a > 0);
	assert_true((long long)f >= a && (long long)f <= b);
	assert_true((long long)(us / 1000) >= (long long)f && (long long)(us / 1000) <= b);
	assert_true(f - (double)(long long)f < 1.0);
}

static void test_moves_forward(void **state)
{
	const struct timespec nap = {0, 20 * 1000 * 1000};
	long long a = mono_ms();
	unsigned long long ua = mono_us();
	long long d;

	(void)state;
	nanosleep(&nap, NULL);
	d = mono_ms() - a;
	assert_true(d >= 20 && d < 5000);
	assert_true(mono_us() - ua >= 20000);
}

/* A timed wait to mono_ts(mono_ms() + 30) ends by timing out, not before
 * 30 ms and not seconds later (a realtime clock's deadline would be read
 * as decades away or long past). */
static void test_ts_deadline(void **state)
{
	pthread_condattr_t ca;
	pthread_cond_t cv;
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	long long start, until;
	struct timespec ts;
	int rc = 0;

	(void)state;
	pthread_condattr_init(&ca);
	assert_int_equal(pthread_condattr_setclock(&ca, CLOCK_MONOTONIC), 0);
	pthread_cond_init(&cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_lock(&mu);
	start = mono_ms();
	until = start + 30;
	ts = mono_ts(until);
	while (rc != ETIMEDOUT) /* spurious wake-ups go back to sleep */
		rc = pthread_cond_timedwait(&cv, &mu, &ts);
	pthread_mutex_unlock(&mu);
	assert_true(mono_ms() >= until);
	assert_true(mono_ms() - start < 5000);
	pthread_cond_destroy(&cv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ts_split),
	    cmocka_unit_test(test_units_agree),
	    cmocka_unit_test(test_moves_forward),
	    cmocka_unit_test(test_ts_deadline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
