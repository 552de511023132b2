-- Reporting views straight from MariaDB (issue 5).  Examples in
-- docs/reporting.md.  All days and hours are UTC.
--
-- The daily and hourly views read the per-minute rollup (050): they answer
-- in milliseconds at millions of invocations.  The percentile and slowest
-- call views read invocations itself (exact, and proportionally slower: filter
-- them by day or function).

-- One row per function and UTC day.
CREATE OR REPLACE VIEW report_function_daily AS
SELECT
  DATE(TIMESTAMP('1970-01-01') + INTERVAL (r.minute DIV 86400 * 86400) SECOND) AS day,
  r.function_id,
  MAX(r.function_name)                                 AS function_name,
  SUM(r.calls)                                         AS calls,
  SUM(r.n_success)                                     AS successes,
  SUM(r.calls) - SUM(r.n_success)                      AS errors,
  SUM(r.n_error)                                       AS status_error,
  SUM(r.n_timeout)                                     AS status_timeout,
  SUM(r.n_oom)                                         AS status_oom,
  SUM(r.n_killed)                                      AS status_killed,
  SUM(r.n_internal)                                    AS status_internal,
  ROUND((SUM(r.calls) - SUM(r.n_success)) / SUM(r.calls), 4) AS error_rate,
  SUM(r.cold)                                          AS cold_starts,
  ROUND(SUM(r.cold) / SUM(r.calls), 4)                 AS cold_rate,
  ROUND(SUM(r.sum_ms) / SUM(r.calls), 3)               AS avg_ms,
  ROUND(MIN(r.min_ms), 3)                              AS min_ms,
  ROUND(MAX(r.max_ms), 3)                              AS max_ms,
  SUM(IF(r.isolation = 'docker', r.calls, 0))          AS docker_calls,
  SUM(IF(r.isolation = 'gvisor', r.calls, 0))          AS gvisor_calls
FROM invocation_rollup AS r
GROUP BY r.minute DIV 86400, r.function_id;

-- One row per function and UTC hour: volume and error rate.
CREATE OR REPLACE VIEW report_hourly_volume AS
SELECT
  TIMESTAMP('1970-01-01') + INTERVAL (r.minute DIV 3600 * 3600) SECOND AS hour,
  r.function_id,
  MAX(r.function_name)                                 AS function_name,
  SUM(r.calls)                                         AS calls,
  SUM(r.calls) - SUM(r.n_success)                      AS errors,
  ROUND((SUM(r.calls) - SUM(r.n_success)) / SUM(r.calls), 4) AS error_rate,
  SUM(r.n_timeout)                                     AS timeouts,
  SUM(r.cold)                                          AS cold_starts,
  ROUND(SUM(r.sum_ms) / SUM(r.calls), 3)               AS avg_ms
FROM invocation_rollup AS r
GROUP BY r.minute DIV 3600, r.function_id;

-- Exact latency percentiles per function and UTC day (total_ms, the call as
-- the API saw it).
CREATE OR REPLACE VIEW report_daily_percentiles AS
SELECT DISTINCT
  DATE(i.started_at)                                   AS day,
  i.function_id,
  i.function_name,
  COUNT(*) OVER (PARTITION BY DATE(i.started_at), i.function_id) AS calls,
  ROUND(PERCENTILE_CONT(0.50) WITHIN GROUP (ORDER BY i.total_ms) OVER (PARTITION BY DATE(i.started_at), i.function_id), 3) AS p50_ms,
  ROUND(PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY i.total_ms) OVER (PARTITION BY DATE(i.started_at), i.function_id), 3) AS p95_ms,
  ROUND(PERCENTILE_CONT(0.99) WITHIN GROUP (ORDER BY i.total_ms) OVER (PARTITION BY DATE(i.started_at), i.function_id), 3) AS p99_ms
FROM invocations AS i;

-- Every call with its rank among its function's calls, slowest first:
-- WHERE slow_rank <= 10 gives each function's ten slowest.
CREATE OR REPLACE VIEW report_slowest_calls AS
SELECT
  i.request_id,
  i.function_id,
  i.function_name,
  i.function_version,
  i.started_at,
  i.total_ms,
  i.duration_ms,
  i.init_ms,
  i.queue_ms,
  i.cold,
  i.cold_reason,
  i.status,
  i.isolation,
  i.error_type,
  RANK() OVER (PARTITION BY i.function_id ORDER BY i.total_ms DESC) AS slow_rank
FROM invocations AS i;
