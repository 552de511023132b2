-- One row per accepted invocation, whatever its outcome (issues 3 and 4).
-- Written in batches from the API's journals (docs/design.md "Records"):
-- INSERT IGNORE on request_id makes a replay harmless.  No foreign key to
-- functions: records outlive a deleted function.

CREATE TABLE IF NOT EXISTS invocations (
  id               BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  request_id       CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  function_id      BIGINT UNSIGNED NOT NULL,
  function_name    VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  function_version INT UNSIGNED NOT NULL,
  source           ENUM('api', 'aws', 'url', 'seed', 'event') NOT NULL DEFAULT 'api',
  isolation        ENUM('docker', 'gvisor') NOT NULL,
  started_at       DATETIME(3) NOT NULL,
  -- what the function ran (executor's figure); the call as a whole is below
  duration_ms      DOUBLE NOT NULL DEFAULT 0,
  total_ms         DOUBLE NOT NULL DEFAULT 0,
  init_ms          DOUBLE NULL,
  queue_ms         DOUBLE NULL,
  cold             TINYINT(1) NOT NULL DEFAULT 0,
  cold_reason      VARCHAR(16) CHARACTER SET ascii NULL,
  status           ENUM('success', 'error', 'timeout', 'oom', 'killed', 'internal') NOT NULL,
  error_type       VARCHAR(128) NULL,
  -- capped at 1024 bytes (valid UTF-8) by the API
  error_message    TEXT NULL,
  max_memory_bytes BIGINT UNSIGNED NULL,
  cpu_ms           DOUBLE NULL,
  response_bytes   BIGINT UNSIGNED NULL,
  batch_size       INT UNSIGNED NOT NULL DEFAULT 1,
  container        VARCHAR(64) CHARACTER SET ascii NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_invocations_request_id (request_id),
  -- listing per function / per status, newest first (InnoDB appends id)
  KEY ix_invocations_function (function_id),
  KEY ix_invocations_name (function_name),
  KEY ix_invocations_status (status),
  -- time windows for metrics
  KEY ix_invocations_started (started_at),
  KEY ix_invocations_function_started (function_id, started_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE IF NOT EXISTS invocation_logs (
  request_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  -- capped by the executor (1 MiB default) with a marker line when cut
  logs       MEDIUMBLOB NOT NULL,
  truncated  TINYINT(1) NOT NULL DEFAULT 0,
  PRIMARY KEY (request_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
