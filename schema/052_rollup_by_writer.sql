-- The metrics rollup, second design (replaces 050's per-row trigger, which
-- cost ~8x the insert itself): the record writer rolls up each batch it
-- inserts with one statement, CALL rollup_invocations(first_id, last_id)
-- (fcgi-app/db_metrics.c, after the multi-row INSERT in db_core.c), at three
-- resolutions so that every query reads few rows:
--   res = 60     per minute       1 h windows, 5 min windows with many calls
--   res = 600    per 10 minutes   24 h windows (144 points)
--   res = 86400  per UTC day      all-time summary, /metrics, daily reports
-- See docs/reporting.md.  Latency is invocations.total_ms; histogram bucket
-- hNN counts latencies d with bound[NN-1] < d <= bound[NN] (ms), bounds =
-- metrics_hist_bounds[] in fcgi-app/metrics.c, h31 = +Inf.

DROP TRIGGER IF EXISTS invocations_rollup_ai;
DROP VIEW IF EXISTS report_function_daily, report_hourly_volume;
DROP TABLE IF EXISTS invocation_rollup;

CREATE TABLE invocation_rollup (
  res           INT UNSIGNED NOT NULL,  -- seconds per bucket: 60, 600 or 86400
  bucket        INT UNSIGNED NOT NULL,  -- bucket start, epoch seconds (UTC), a multiple of res
  function_id   BIGINT UNSIGNED NOT NULL,
  isolation     ENUM('docker', 'gvisor') NOT NULL,
  function_name VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  calls         INT UNSIGNED NOT NULL DEFAULT 0,
  n_success     INT UNSIGNED NOT NULL DEFAULT 0,
  n_error       INT UNSIGNED NOT NULL DEFAULT 0,
  n_timeout     INT UNSIGNED NOT NULL DEFAULT 0,
  n_oom         INT UNSIGNED NOT NULL DEFAULT 0,
  n_killed      INT UNSIGNED NOT NULL DEFAULT 0,
  n_internal    INT UNSIGNED NOT NULL DEFAULT 0,
  cold          INT UNSIGNED NOT NULL DEFAULT 0,
  sum_ms        DOUBLE NOT NULL DEFAULT 0,
  min_ms        DOUBLE NOT NULL DEFAULT 0,
  max_ms        DOUBLE NOT NULL DEFAULT 0,
  last_at       DATETIME(3) NULL,
  h00 INT UNSIGNED NOT NULL DEFAULT 0,
  h01 INT UNSIGNED NOT NULL DEFAULT 0,
  h02 INT UNSIGNED NOT NULL DEFAULT 0,
  h03 INT UNSIGNED NOT NULL DEFAULT 0,
  h04 INT UNSIGNED NOT NULL DEFAULT 0,
  h05 INT UNSIGNED NOT NULL DEFAULT 0,
  h06 INT UNSIGNED NOT NULL DEFAULT 0,
  h07 INT UNSIGNED NOT NULL DEFAULT 0,
  h08 INT UNSIGNED NOT NULL DEFAULT 0,
  h09 INT UNSIGNED NOT NULL DEFAULT 0,
  h10 INT UNSIGNED NOT NULL DEFAULT 0,
  h11 INT UNSIGNED NOT NULL DEFAULT 0,
  h12 INT UNSIGNED NOT NULL DEFAULT 0,
  h13 INT UNSIGNED NOT NULL DEFAULT 0,
  h14 INT UNSIGNED NOT NULL DEFAULT 0,
  h15 INT UNSIGNED NOT NULL DEFAULT 0,
  h16 INT UNSIGNED NOT NULL DEFAULT 0,
  h17 INT UNSIGNED NOT NULL DEFAULT 0,
  h18 INT UNSIGNED NOT NULL DEFAULT 0,
  h19 INT UNSIGNED NOT NULL DEFAULT 0,
  h20 INT UNSIGNED NOT NULL DEFAULT 0,
  h21 INT UNSIGNED NOT NULL DEFAULT 0,
  h22 INT UNSIGNED NOT NULL DEFAULT 0,
  h23 INT UNSIGNED NOT NULL DEFAULT 0,
  h24 INT UNSIGNED NOT NULL DEFAULT 0,
  h25 INT UNSIGNED NOT NULL DEFAULT 0,
  h26 INT UNSIGNED NOT NULL DEFAULT 0,
  h27 INT UNSIGNED NOT NULL DEFAULT 0,
  h28 INT UNSIGNED NOT NULL DEFAULT 0,
  h29 INT UNSIGNED NOT NULL DEFAULT 0,
  h30 INT UNSIGNED NOT NULL DEFAULT 0,
  h31 INT UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY (res, bucket, function_id, isolation),
  KEY ix_rollup_function (res, function_id, bucket)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Adds the invocations with first_id <= id <= last_id to the rollup.  The
-- caller guarantees that this id range was never rolled up before (the
-- writer passes the ids its own INSERT just created).
DROP PROCEDURE IF EXISTS rollup_invocations;
DELIMITER //
CREATE PROCEDURE rollup_invocations(IN first_id BIGINT UNSIGNED, IN last_id BIGINT UNSIGNED)
  MODIFIES SQL DATA
BEGIN
  INSERT INTO invocation_rollup (res, bucket, function_id, isolation, function_name, calls,
      n_success, n_error, n_timeout, n_oom, n_killed, n_internal, cold, sum_ms, min_ms, max_ms,
      last_at, h00, h01, h02, h03, h04, h05, h06, h07, h08, h09, h10, h11, h12, h13, h14, h15, h16, h17, h18, h19, h20, h21, h22, h23, h24, h25, h26, h27, h28, h29, h30, h31)
  SELECT x.res, x.t DIV x.res * x.res, x.function_id, x.isolation, MAX(x.function_name),
      COUNT(*), SUM(x.status = 'success'), SUM(x.status = 'error'), SUM(x.status = 'timeout'),
      SUM(x.status = 'oom'), SUM(x.status = 'killed'), SUM(x.status = 'internal'),
      SUM(x.cold <> 0), SUM(x.d), MIN(x.d), MAX(x.d), MAX(x.started_at),
      SUM(b = 0), SUM(b = 1), SUM(b = 2), SUM(b = 3), SUM(b = 4), SUM(b = 5), SUM(b = 6), SUM(b = 7),
      SUM(b = 8), SUM(b = 9), SUM(b = 10), SUM(b = 11), SUM(b = 12), SUM(b = 13), SUM(b = 14), SUM(b = 15),
      SUM(b = 16), SUM(b = 17), SUM(b = 18), SUM(b = 19), SUM(b = 20), SUM(b = 21), SUM(b = 22), SUM(b = 23),
      SUM(b = 24), SUM(b = 25), SUM(b = 26), SUM(b = 27), SUM(b = 28), SUM(b = 29), SUM(b = 30), SUM(b = 31)
  FROM (SELECT r.res, TIMESTAMPDIFF(SECOND, '1970-01-01', i.started_at) AS t, i.function_id,
          i.isolation, i.function_name, i.status, i.cold, i.started_at, i.total_ms AS d,
          CASE
        WHEN i.total_ms <= 0.25 THEN 0
        WHEN i.total_ms <= 0.5 THEN 1
        WHEN i.total_ms <= 1 THEN 2
        WHEN i.total_ms <= 1.5 THEN 3
        WHEN i.total_ms <= 2 THEN 4
        WHEN i.total_ms <= 3 THEN 5
        WHEN i.total_ms <= 5 THEN 6
        WHEN i.total_ms <= 7.5 THEN 7
        WHEN i.total_ms <= 10 THEN 8
        WHEN i.total_ms <= 15 THEN 9
        WHEN i.total_ms <= 20 THEN 10
        WHEN i.total_ms <= 30 THEN 11
        WHEN i.total_ms <= 50 THEN 12
        WHEN i.total_ms <= 75 THEN 13
        WHEN i.total_ms <= 100 THEN 14
        WHEN i.total_ms <= 150 THEN 15
        WHEN i.total_ms <= 200 THEN 16
        WHEN i.total_ms <= 300 THEN 17
        WHEN i.total_ms <= 500 THEN 18
        WHEN i.total_ms <= 750 THEN 19
        WHEN i.total_ms <= 1000 THEN 20
        WHEN i.total_ms <= 1500 THEN 21
        WHEN i.total_ms <= 2000 THEN 22
        WHEN i.total_ms <= 3000 THEN 23
        WHEN i.total_ms <= 5000 THEN 24
        WHEN i.total_ms <= 7500 THEN 25
        WHEN i.total_ms <= 10000 THEN 26
        WHEN i.total_ms <= 15000 THEN 27
        WHEN i.total_ms <= 30000 THEN 28
        WHEN i.total_ms <= 60000 THEN 29
        WHEN i.total_ms <= 300000 THEN 30
        ELSE 31 END AS b
        FROM invocations AS i
        JOIN (SELECT 60 AS res UNION ALL SELECT 600 UNION ALL SELECT 86400) AS r
        WHERE i.id BETWEEN first_id AND last_id) AS x
  GROUP BY x.res, x.t DIV x.res, x.function_id, x.isolation
  ON DUPLICATE KEY UPDATE
    function_name = VALUES(function_name),
    calls = invocation_rollup.calls + VALUES(calls),
    n_success = invocation_rollup.n_success + VALUES(n_success),
    n_error = invocation_rollup.n_error + VALUES(n_error),
    n_timeout = invocation_rollup.n_timeout + VALUES(n_timeout),
    n_oom = invocation_rollup.n_oom + VALUES(n_oom),
    n_killed = invocation_rollup.n_killed + VALUES(n_killed),
    n_internal = invocation_rollup.n_internal + VALUES(n_internal),
    cold = invocation_rollup.cold + VALUES(cold),
    sum_ms = invocation_rollup.sum_ms + VALUES(sum_ms),
    min_ms = LEAST(invocation_rollup.min_ms, VALUES(min_ms)),
    max_ms = GREATEST(invocation_rollup.max_ms, VALUES(max_ms)),
    last_at = GREATEST(COALESCE(invocation_rollup.last_at, VALUES(last_at)), VALUES(last_at)),
    h00 = invocation_rollup.h00 + VALUES(h00),
    h01 = invocation_rollup.h01 + VALUES(h01),
    h02 = invocation_rollup.h02 + VALUES(h02),
    h03 = invocation_rollup.h03 + VALUES(h03),
    h04 = invocation_rollup.h04 + VALUES(h04),
    h05 = invocation_rollup.h05 + VALUES(h05),
    h06 = invocation_rollup.h06 + VALUES(h06),
    h07 = invocation_rollup.h07 + VALUES(h07),
    h08 = invocation_rollup.h08 + VALUES(h08),
    h09 = invocation_rollup.h09 + VALUES(h09),
    h10 = invocation_rollup.h10 + VALUES(h10),
    h11 = invocation_rollup.h11 + VALUES(h11),
    h12 = invocation_rollup.h12 + VALUES(h12),
    h13 = invocation_rollup.h13 + VALUES(h13),
    h14 = invocation_rollup.h14 + VALUES(h14),
    h15 = invocation_rollup.h15 + VALUES(h15),
    h16 = invocation_rollup.h16 + VALUES(h16),
    h17 = invocation_rollup.h17 + VALUES(h17),
    h18 = invocation_rollup.h18 + VALUES(h18),
    h19 = invocation_rollup.h19 + VALUES(h19),
    h20 = invocation_rollup.h20 + VALUES(h20),
    h21 = invocation_rollup.h21 + VALUES(h21),
    h22 = invocation_rollup.h22 + VALUES(h22),
    h23 = invocation_rollup.h23 + VALUES(h23),
    h24 = invocation_rollup.h24 + VALUES(h24),
    h25 = invocation_rollup.h25 + VALUES(h25),
    h26 = invocation_rollup.h26 + VALUES(h26),
    h27 = invocation_rollup.h27 + VALUES(h27),
    h28 = invocation_rollup.h28 + VALUES(h28),
    h29 = invocation_rollup.h29 + VALUES(h29),
    h30 = invocation_rollup.h30 + VALUES(h30),
    h31 = invocation_rollup.h31 + VALUES(h31);
END//
DELIMITER ;

-- What is already recorded.  Run migrations before the API starts (the
-- stack scripts do): a batch written during this statement would be missed.
CALL rollup_invocations(0, 18446744073709551615);

-- The reporting views of 051 that read the rollup, on its new shape.
-- One row per function and UTC day.
CREATE OR REPLACE VIEW report_function_daily AS
SELECT
  DATE(TIMESTAMP('1970-01-01') + INTERVAL r.bucket SECOND) AS day,
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
WHERE r.res = 86400
GROUP BY r.bucket, r.function_id;

-- One row per function and UTC hour: volume and error rate.
CREATE OR REPLACE VIEW report_hourly_volume AS
SELECT
  TIMESTAMP('1970-01-01') + INTERVAL (r.bucket DIV 3600 * 3600) SECOND AS hour,
  r.function_id,
  MAX(r.function_name)                                 AS function_name,
  SUM(r.calls)                                         AS calls,
  SUM(r.calls) - SUM(r.n_success)                      AS errors,
  ROUND((SUM(r.calls) - SUM(r.n_success)) / SUM(r.calls), 4) AS error_rate,
  SUM(r.n_timeout)                                     AS timeouts,
  SUM(r.cold)                                          AS cold_starts,
  ROUND(SUM(r.sum_ms) / SUM(r.calls), 3)               AS avg_ms
FROM invocation_rollup AS r
WHERE r.res = 600
GROUP BY r.bucket DIV 3600, r.function_id;
