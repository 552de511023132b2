/* The SQL of the metrics endpoints (issue 5): the per-minute rollup
 * (schema/050_metrics_rollup.sql) and recent raw invocations.  Prepared
 * statements only (db.h). */
#ifndef LAMBDA_API_DB_METRICS_H
#define LAMBDA_API_DB_METRICS_H

#include <stdint.h>

#include <cJSON.h>

#include "db.h"
#include "metrics.h"

/* Adds the rollup rows of [s->from, s->from + step * nbuckets) to s, for one
 * function (function_id > 0) or all. */
int db_metrics_series_rollup(struct db *db, struct metrics_series *s, long long function_id,
                             struct err **e);

/* Adds the raw invocations that started in the series' range (exact
 * percentiles).  Reads at most max_rows rows; *overflow is set when there
 * were more (the caller then answers from the rollup). */
int db_metrics_series_raw(struct db *db, struct metrics_series *s, long long function_id,
                          long max_rows, int *overflow, struct err **e);

/* Per function, from the rollup, since `since` (epoch seconds, 0 = all
 * time): the seed's summary shape (function_id, total_calls, avg_time in
 * seconds, error_count) plus function_name, p50_ms, p95_ms, p99_ms,
 * error_rate, cold_starts, last_call_at.  Appended to arr. */
int db_metrics_summary_rollup(struct db *db, long long function_id, int64_t since, cJSON *arr,
                              struct err **e);

/* One aggregate per (function name, isolation) over all time, for /metrics. */
struct db_metrics_counter {
	char function[65];
	int isolation; /* enum metrics_isolation */
	struct metrics_rollup r;
};
typedef int (*db_metrics_counter_fn)(const struct db_metrics_counter *c, void *arg);
int db_metrics_counters(struct db *db, db_metrics_counter_fn fn, void *arg, struct err **e);

/* Rolls up the invocations that the multi-row INSERT IGNORE just run
 * inserted (recs: its n records, affected: its affected rows, first_id: its
 * insert id, the id of the first row it inserted) into invocation_rollup
 * (schema/052).  Called by the record writer (db_inv_insert) after each batch. */
int db_metrics_rollup_inserted(struct db *db, cJSON *const *recs, int n,
                               unsigned long long affected, unsigned long long first_id,
                               struct err **e);

#endif
