/* Request timing histograms (reqtime.h): a debug hook, off by default. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "reqtime.h"
#include "xalloc.h"

static struct reqtime_hist *hists; /* one per thread, NULL when off */
static int nhists;
static char *out_path;

static const char *const phase_name[REQTIME_NPHASES] = {"wait", "serve", "finish"};

int reqtime_init(int nthreads)
{
	const char *p = getenv("LAMBDA_API_HIST");

	if (p == NULL || *p == '\0' || nthreads <= 0)
		return 0;
	out_path = xasprintf("%s.%ld", p, (long)getpid());
	hists = xcalloc((size_t)nthreads, sizeof(*hists));
	nhists = nthreads;
	return 1;
}

uint64_t reqtime_now(void)
{
	if (hists == NULL)
		return 0;
	return (uint64_t)mono_us();
}

/* floor(4 * log2(us + 1)), from the top bit and the two bits below it. */
int reqtime_bucket(uint64_t us)
{
	uint64_t v = us + 1;
	int top = 63 - __builtin_clzll(v);
	int sub = top >= 2 ? (int)((v >> (top - 2)) & 3) : (int)((v << (2 - top)) & 3);
	int b = top * 4 + sub;

	return b < REQTIME_NBUCKETS ? b : REQTIME_NBUCKETS - 1;
}

/* The largest duration that falls in bucket b. */
uint64_t reqtime_bucket_max(int b)
{
	int top = b / 4, sub = b % 4;
	uint64_t lo =
	    top >= 2 ? ((uint64_t)(4 + sub) << (top - 2)) : (uint64_t)(4 + sub) >> (2 - top);
	uint64_t width = top >= 2 ? (uint64_t)1 << (top - 2) : 1;

	return lo + width - 2; /* bucket holds v = us + 1 in [lo, lo + width) */
}

void reqtime_add(int thread, enum reqtime_phase ph, uint64_t t0, uint64_t t1)
{
	if (hists == NULL || t0 == 0 || thread < 0 || thread >= nhists)
		return;
	hists[thread].n[ph][reqtime_bucket(t1 > t0 ? t1 - t0 : 0)]++;
}

static uint64_t percentile(const uint64_t *n, uint64_t total, double q)
{
	uint64_t want = (uint64_t)((double)total * q + 0.999999), seen = 0;

	for (int b = 0; b < REQTIME_NBUCKETS; b++) {
		seen += n[b];
		if (seen >= want && n[b] > 0)
			return reqtime_bucket_max(b);
	}
	return 0;
}

void reqtime_print(FILE *f, const struct reqtime_hist *h)
{
	static const double qs[] = {0.5, 0.9, 0.99, 0.999};

	fprintf(f, "phase count p50_us p90_us p99_us p99.9_us max_us\n");
	for (int ph = 0; ph < REQTIME_NPHASES; ph++) {
		uint64_t total = 0;
		int last = 0;

		for (int b = 0; b < REQTIME_NBUCKETS; b++) {
			total += h->n[ph][b];
			if (h->n[ph][b] > 0)
				last = b;
		}
		fprintf(f, "%s %llu", phase_name[ph], (unsigned long long)total);
		for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
			fprintf(f, " %llu", (unsigned long long)percentile(h->n[ph], total, qs[i]));
		fprintf(f, " %llu\n",
		        total > 0 ? (unsigned long long)reqtime_bucket_max(last) : 0ull);
	}
}

void reqtime_dump(void)
{
	struct reqtime_hist sum;
	FILE *f;

	if (hists == NULL)
		return;
	memset(&sum, 0, sizeof(sum));
	/* Racy against the workers' counting: a count lost or kept across the
	 * zeroing is noise in a debug histogram, and no lock on their path. */
	for (int t = 0; t < nhists; t++) {
		for (int ph = 0; ph < REQTIME_NPHASES; ph++)
			for (int b = 0; b < REQTIME_NBUCKETS; b++)
				sum.n[ph][b] += hists[t].n[ph][b];
		memset(&hists[t], 0, sizeof(hists[t]));
	}
	f = fopen(out_path, "a");
	if (f != NULL) {
		reqtime_print(f, &sum);
		fclose(f);
	}
}
