/* The monotonic clock, in the units our code measures in.  One helper for
 * both programs: deadlines, timeouts, ages and durations all come from
 * CLOCK_MONOTONIC (never the wall clock, which NTP and the admin may move). */
#ifndef LAMBDA_CLOCK_H
#define LAMBDA_CLOCK_H

#include <time.h>

/* Milliseconds, whole (deadlines, ages, budgets). */
long long mono_ms(void);
/* Milliseconds with the sub-millisecond part (durations that get reported). */
double mono_ms_f(void);
/* Microseconds (request timing histograms). */
unsigned long long mono_us(void);
/* A mono_ms() time as the deadline of a timed wait on a condition variable
 * whose clock is CLOCK_MONOTONIC (pthread_condattr_setclock). */
struct timespec mono_ts(long long ms);

#endif
