/* Where a FastCGI request's time goes, inside lambda-api: a debug hook for
 * the p99 tail of issue 2, off unless LAMBDA_API_HIST names a file.  Each
 * worker thread counts into its own histograms (no lock, no syscall but
 * clock_gettime); the process adds them up and appends a table to
 * "$LAMBDA_API_HIST.<pid>" on SIGUSR2 and when it exits.  Buckets are quarter powers of
 * two of microseconds (a percentile is the bucket's upper bound, within
 * 19%). */
#ifndef LAMBDA_REQTIME_H
#define LAMBDA_REQTIME_H

#include <stdint.h>
#include <stdio.h>

/* The phases of one request on one worker thread. */
enum reqtime_phase {
	REQTIME_WAIT,   /* FCGX_Accept_r: idle in accept, then reading the params */
	REQTIME_SERVE,  /* from FCGX_Accept_r's return to the reply written */
	REQTIME_FINISH, /* FCGX_Finish_r: flush, then the close (lingering or not) */
	REQTIME_NPHASES
};

#define REQTIME_NBUCKETS 100

struct reqtime_hist {
	uint64_t n[REQTIME_NPHASES][REQTIME_NBUCKETS];
};

/* Reads LAMBDA_API_HIST; with it set, allocates nthreads histograms (kept
 * to the end of the process).  Returns 1 when enabled, 0 when not. */
int reqtime_init(int nthreads);
/* Monotonic microseconds; 0 when the hook is off (costs nothing then). */
uint64_t reqtime_now(void);
/* Counts one duration (t1 - t0, microseconds) for the thread; no-op when
 * off or when t0 is 0. */
void reqtime_add(int thread, enum reqtime_phase ph, uint64_t t0, uint64_t t1);
/* Sums the threads' histograms, appends the table to the file and zeroes
 * them (main calls it on SIGUSR2 and at exit). */
void reqtime_dump(void);

/* For the unit test: bucket of a duration, a bucket's upper bound, and the
 * table of one histogram (sum of threads) written to f. */
int reqtime_bucket(uint64_t us);
uint64_t reqtime_bucket_max(int b);
void reqtime_print(FILE *f, const struct reqtime_hist *h);

#endif
