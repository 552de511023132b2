-- Per-minute rollup of invocations for the metrics endpoints (issue 5):
-- request counts by status, cold starts and a latency histogram per
-- (minute, function, isolation), so that percentiles over 24 h answer in
-- milliseconds whatever the number of recorded invocations.  See
-- docs/reporting.md.
--
-- Latency is invocations.total_ms (the call as the API saw it, the figure of
-- the seed's metrics).  Histogram bucket hNN counts latencies d (ms) with
-- bound[NN-1] < d <= bound[NN]; the bounds are metrics_hist_bounds[] in
-- fcgi-app/metrics.c (keep both in step), h31 is +Inf.
--
-- Maintained by triggers on invocations (the record writer inserts in
-- multi-row batches off the request path, so the per-row upsert never slows
-- a call).  Like invocations, rows outlive a deleted function.  Deleting old
-- invocations does not touch the rollup: it is a history of its own.

CREATE TABLE IF NOT EXISTS invocation_rollup (
  -- start of the minute, epoch seconds (UTC), a multiple of 60
  minute        INT UNSIGNED NOT NULL,
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
  PRIMARY KEY (minute, function_id, isolation),
  KEY ix_rollup_function_minute (function_id, minute)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- What is already recorded (a stack upgraded with data), before the trigger
-- exists: rows inserted between this statement and the trigger below would be
-- missed, so run migrations before the API starts (scripts/stack.sh does).
INSERT INTO invocation_rollup (minute, function_id, isolation, function_name, calls,
    n_success, n_error, n_timeout, n_oom, n_killed, n_internal, cold, sum_ms, min_ms, max_ms,
    last_at, h00, h01, h02, h03, h04, h05, h06, h07, h08, h09, h10, h11, h12, h13, h14, h15, h16, h17, h18, h19, h20, h21, h22, h23, h24, h25, h26, h27, h28, h29, h30, h31)
  SELECT minute, function_id, isolation, MAX(function_name), COUNT(*),
    SUM(status = 'success'), SUM(status = 'error'), SUM(status = 'timeout'),
    SUM(status = 'oom'), SUM(status = 'killed'), SUM(status = 'internal'), SUM(cold <> 0),
    SUM(d), MIN(d), MAX(d), MAX(started_at), SUM(b = 0), SUM(b = 1), SUM(b = 2), SUM(b = 3), SUM(b = 4), SUM(b = 5), SUM(b = 6), SUM(b = 7), SUM(b = 8), SUM(b = 9), SUM(b = 10), SUM(b = 11), SUM(b = 12), SUM(b = 13), SUM(b = 14), SUM(b = 15), SUM(b = 16), SUM(b = 17), SUM(b = 18), SUM(b = 19), SUM(b = 20), SUM(b = 21), SUM(b = 22), SUM(b = 23), SUM(b = 24), SUM(b = 25), SUM(b = 26), SUM(b = 27), SUM(b = 28), SUM(b = 29), SUM(b = 30), SUM(b = 31)
  FROM (SELECT TIMESTAMPDIFF(SECOND, '1970-01-01', started_at) DIV 60 * 60 AS minute,
          function_id, isolation, function_name, status, cold, started_at, total_ms AS d,
          CASE
            WHEN total_ms <= 0.25 THEN 0
            WHEN total_ms <= 0.5 THEN 1
            WHEN total_ms <= 1 THEN 2
            WHEN total_ms <= 1.5 THEN 3
            WHEN total_ms <= 2 THEN 4
            WHEN total_ms <= 3 THEN 5
            WHEN total_ms <= 5 THEN 6
            WHEN total_ms <= 7.5 THEN 7
            WHEN total_ms <= 10 THEN 8
            WHEN total_ms <= 15 THEN 9
            WHEN total_ms <= 20 THEN 10
            WHEN total_ms <= 30 THEN 11
            WHEN total_ms <= 50 THEN 12
            WHEN total_ms <= 75 THEN 13
            WHEN total_ms <= 100 THEN 14
            WHEN total_ms <= 150 THEN 15
            WHEN total_ms <= 200 THEN 16
            WHEN total_ms <= 300 THEN 17
            WHEN total_ms <= 500 THEN 18
            WHEN total_ms <= 750 THEN 19
            WHEN total_ms <= 1000 THEN 20
            WHEN total_ms <= 1500 THEN 21
            WHEN total_ms <= 2000 THEN 22
            WHEN total_ms <= 3000 THEN 23
            WHEN total_ms <= 5000 THEN 24
            WHEN total_ms <= 7500 THEN 25
            WHEN total_ms <= 10000 THEN 26
            WHEN total_ms <= 15000 THEN 27
            WHEN total_ms <= 30000 THEN 28
            WHEN total_ms <= 60000 THEN 29
            WHEN total_ms <= 300000 THEN 30
            ELSE 31 END AS b
        FROM invocations) AS x
  GROUP BY minute, function_id, isolation
ON DUPLICATE KEY UPDATE calls = invocation_rollup.calls;

DROP TRIGGER IF EXISTS invocations_rollup_ai;
DELIMITER //
CREATE TRIGGER invocations_rollup_ai AFTER INSERT ON invocations FOR EACH ROW
BEGIN
  DECLARE d DOUBLE DEFAULT NEW.total_ms;
  DECLARE b INT DEFAULT CASE
    WHEN d <= 0.25 THEN 0
    WHEN d <= 0.5 THEN 1
    WHEN d <= 1 THEN 2
    WHEN d <= 1.5 THEN 3
    WHEN d <= 2 THEN 4
    WHEN d <= 3 THEN 5
    WHEN d <= 5 THEN 6
    WHEN d <= 7.5 THEN 7
    WHEN d <= 10 THEN 8
    WHEN d <= 15 THEN 9
    WHEN d <= 20 THEN 10
    WHEN d <= 30 THEN 11
    WHEN d <= 50 THEN 12
    WHEN d <= 75 THEN 13
    WHEN d <= 100 THEN 14
    WHEN d <= 150 THEN 15
    WHEN d <= 200 THEN 16
    WHEN d <= 300 THEN 17
    WHEN d <= 500 THEN 18
    WHEN d <= 750 THEN 19
    WHEN d <= 1000 THEN 20
    WHEN d <= 1500 THEN 21
    WHEN d <= 2000 THEN 22
    WHEN d <= 3000 THEN 23
    WHEN d <= 5000 THEN 24
    WHEN d <= 7500 THEN 25
    WHEN d <= 10000 THEN 26
    WHEN d <= 15000 THEN 27
    WHEN d <= 30000 THEN 28
    WHEN d <= 60000 THEN 29
    WHEN d <= 300000 THEN 30
    ELSE 31 END;
  INSERT INTO invocation_rollup (minute, function_id, isolation, function_name, calls,
      n_success, n_error, n_timeout, n_oom, n_killed, n_internal, cold, sum_ms, min_ms, max_ms,
      last_at, h00, h01, h02, h03, h04, h05, h06, h07, h08, h09, h10, h11, h12, h13, h14, h15, h16, h17, h18, h19, h20, h21, h22, h23, h24, h25, h26, h27, h28, h29, h30, h31)
    VALUES (TIMESTAMPDIFF(SECOND, '1970-01-01', NEW.started_at) DIV 60 * 60, NEW.function_id,
      NEW.isolation, NEW.function_name, 1, NEW.status = 'success', NEW.status = 'error',
      NEW.status = 'timeout', NEW.status = 'oom', NEW.status = 'killed',
      NEW.status = 'internal', NEW.cold <> 0, d, d, d, NEW.started_at, b = 0, b = 1, b = 2, b = 3, b = 4, b = 5, b = 6, b = 7, b = 8, b = 9, b = 10, b = 11, b = 12, b = 13, b = 14, b = 15, b = 16, b = 17, b = 18, b = 19, b = 20, b = 21, b = 22, b = 23, b = 24, b = 25, b = 26, b = 27, b = 28, b = 29, b = 30, b = 31)
  ON DUPLICATE KEY UPDATE
    function_name = VALUES(function_name),
    calls = calls + 1,
    n_success = n_success + VALUES(n_success),
    n_error = n_error + VALUES(n_error),
    n_timeout = n_timeout + VALUES(n_timeout),
    n_oom = n_oom + VALUES(n_oom),
    n_killed = n_killed + VALUES(n_killed),
    n_internal = n_internal + VALUES(n_internal),
    cold = cold + VALUES(cold),
    sum_ms = sum_ms + VALUES(sum_ms),
    min_ms = LEAST(min_ms, VALUES(min_ms)),
    max_ms = GREATEST(max_ms, VALUES(max_ms)),
    last_at = GREATEST(COALESCE(last_at, VALUES(last_at)), VALUES(last_at)),
    h00 = h00 + VALUES(h00),
    h01 = h01 + VALUES(h01),
    h02 = h02 + VALUES(h02),
    h03 = h03 + VALUES(h03),
    h04 = h04 + VALUES(h04),
    h05 = h05 + VALUES(h05),
    h06 = h06 + VALUES(h06),
    h07 = h07 + VALUES(h07),
    h08 = h08 + VALUES(h08),
    h09 = h09 + VALUES(h09),
    h10 = h10 + VALUES(h10),
    h11 = h11 + VALUES(h11),
    h12 = h12 + VALUES(h12),
    h13 = h13 + VALUES(h13),
    h14 = h14 + VALUES(h14),
    h15 = h15 + VALUES(h15),
    h16 = h16 + VALUES(h16),
    h17 = h17 + VALUES(h17),
    h18 = h18 + VALUES(h18),
    h19 = h19 + VALUES(h19),
    h20 = h20 + VALUES(h20),
    h21 = h21 + VALUES(h21),
    h22 = h22 + VALUES(h22),
    h23 = h23 + VALUES(h23),
    h24 = h24 + VALUES(h24),
    h25 = h25 + VALUES(h25),
    h26 = h26 + VALUES(h26),
    h27 = h27 + VALUES(h27),
    h28 = h28 + VALUES(h28),
    h29 = h29 + VALUES(h29),
    h30 = h30 + VALUES(h30),
    h31 = h31 + VALUES(h31);
END//
DELIMITER ;
