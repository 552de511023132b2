/* Pure computations behind the metrics endpoints (no SQL, no HTTP): time
 * windows and steps, latency histograms and percentiles, bucketed series and
 * their JSON, host figures from /proc.  db_metrics.c fills the series from
 * MariaDB, api_metrics.c answers with them. */
#ifndef LAMBDA_METRICS_H
#define LAMBDA_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "err.h"

/* Latency histogram: bucket i counts durations d (ms) with
 * bound[i-1] < d <= bound[i] (Prometheus "le"); the last bucket is +Inf.
 * The same bounds are written out in schema/050_metrics_rollup.sql. */
#define METRICS_HIST_BUCKETS 32
extern const double metrics_hist_bounds[METRICS_HIST_BUCKETS - 1];

/* Index of the bucket that counts a duration of ms milliseconds. */
int metrics_hist_index(double ms);

/* Quantile q (0..1) of a histogram, interpolated linearly inside the bucket
 * and clamped to the observed [min_ms, max_ms].  NAN when counts are all 0. */
double metrics_hist_quantile(const uint64_t *counts, double q, double min_ms, double max_ms);

/* Quantile q of n values sorted ascending (linear between closest ranks).
 * NAN when n is 0. */
double metrics_quantile_sorted(const double *v, size_t n, double q);

/* Invocation statuses and isolations, in the order the series keeps them. */
enum metrics_status { MS_SUCCESS, MS_ERROR, MS_TIMEOUT, MS_OOM, MS_KILLED, MS_INTERNAL, MS_N };
extern const char *const metrics_status_names[MS_N];
int metrics_status_index(const char *name); /* -1 when unknown */

enum metrics_isolation { MI_DOCKER, MI_GVISOR, MI_N };
extern const char *const metrics_isolation_names[MI_N];
int metrics_isolation_index(const char *name); /* -1 when unknown */

/* A time window of the timeseries endpoint. */
struct metrics_window {
	const char *name; /* "5m" | "1h" | "24h" */
	int seconds;      /* its length */
	int default_step; /* seconds per bucket when no step is given */
	int min_step;     /* smallest step allowed */
	bool rollup;      /* answered from the per-minute rollup table */
};

/* Parses the window parameter (NULL or "" means "5m").  ERR_INVALID with a
 * message naming the allowed values otherwise. */
int metrics_window_parse(const char *s, struct metrics_window *out, struct err **e);

/* Parses the step parameter for window w: seconds ("30", "30s", "5m", "1h");
 * NULL or "" gives w's default.  Bounds: >= w->min_step, a multiple of 60
 * for rollup windows, <= the window, and at most METRICS_MAX_BUCKETS buckets.
 * *step is written only on success. */
#define METRICS_MAX_BUCKETS 1440
int metrics_step_parse(const char *s, const struct metrics_window *w, int *step, struct err **e);

/* One cell of a series: calls in one bucket for one isolation (or merged). */
struct metrics_cell {
	uint64_t calls;
	uint64_t cold;
	uint64_t by_status[MS_N];
	uint64_t hist[METRICS_HIST_BUCKETS];
	double sum_ms;
	double min_ms;
	double max_ms;
	/* exact series only: every duration, sorted before percentiles */
	double *dur;
	size_t ndur;
	size_t capdur;
};

/* A bucketed series over [from, from + step * nbuckets). */
struct metrics_series {
	int64_t from; /* epoch seconds, a multiple of step */
	int step;
	size_t nbuckets;
	bool exact;                 /* percentiles from raw durations, else histograms */
	struct metrics_cell *cells; /* nbuckets * MI_N */
};

/* Creates an empty series ending at `now` (rounded up to a step): owned by
 * the caller, released with metrics_series_free. */
struct metrics_series *metrics_series_new(int64_t now, int window_s, int step, bool exact);
void metrics_series_free(struct metrics_series *s);

/* Adds one raw invocation (exact series).  Out-of-range times are ignored. */
void metrics_series_add_raw(struct metrics_series *s, int64_t ts, int iso, int status, bool cold,
                            double duration_ms);

/* One row of the per-minute rollup (or a sum of rows). */
struct metrics_rollup {
	uint64_t calls;
	uint64_t cold;
	uint64_t by_status[MS_N];
	uint64_t hist[METRICS_HIST_BUCKETS];
	double sum_ms;
	double min_ms;
	double max_ms;
};
/* Adds aggregated rows to the bucket holding ts (histogram series). */
void metrics_series_add_rollup(struct metrics_series *s, int64_t ts, int iso,
                               const struct metrics_rollup *r);

/* {"buckets":[...],"totals":{...}} as documented in docs/reporting.md; the
 * caller owns the result. */
cJSON *metrics_series_json(struct metrics_series *s);

/* Percentiles and rates of a cell as JSON fields added to obj. */
void metrics_cell_json_fields(cJSON *obj, struct metrics_cell *c, bool exact);
void metrics_cell_merge(struct metrics_cell *dst, const struct metrics_cell *src);

/* ---- host figures from /proc ---- */
struct metrics_cpu_sample {
	uint64_t busy;
	uint64_t total;
};
/* Parses the aggregate "cpu " line of /proc/stat text. */
int metrics_parse_proc_stat(const char *text, struct metrics_cpu_sample *out, struct err **e);
/* Parses MemTotal and MemAvailable (bytes) out of /proc/meminfo text. */
int metrics_parse_meminfo(const char *text, uint64_t *total, uint64_t *available, struct err **e);
/* Busy percentage between two samples; NAN when no time passed. */
double metrics_cpu_percent(const struct metrics_cpu_sample *a, const struct metrics_cpu_sample *b);

#endif
