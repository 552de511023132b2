-- AWS Lambda API compatibility (issue 7): what an AWS client sets that the
-- core registry has no column for, and the durable queue of asynchronous
-- (InvocationType=Event) invocations.

-- One row per function created or changed through the AWS API.  A function
-- without a row (made through /api) shows AWS defaults derived from its
-- runtime.  Deleted with its function.
CREATE TABLE IF NOT EXISTS aws_functions (
  function_id BIGINT UNSIGNED NOT NULL,
  -- the runtime identifier the client gave ('python3.12', 'nodejs20.x')
  aws_runtime VARCHAR(32) CHARACTER SET ascii NOT NULL,
  role        VARCHAR(2048) NOT NULL DEFAULT '',
  description VARCHAR(256) NOT NULL DEFAULT '',
  PRIMARY KEY (function_id),
  CONSTRAINT fk_aws_functions_function FOREIGN KEY (function_id)
    REFERENCES functions (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Asynchronous invocations.  The API answers 202 once the row is committed;
-- a dispatcher thread in every lambda-api process claims rows with
-- SELECT ... FOR UPDATE SKIP LOCKED (state queued -> running), runs them
-- through the executor and marks them done.  A row left running by a
-- process that is gone is settled from its invocation record: each queued
-- call runs at most once, and has exactly one invocation record.
CREATE TABLE IF NOT EXISTS event_queue (
  id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  -- returned to the client (x-amzn-RequestId) and used as the invocation's
  -- request_id, which is how a run is recognised after a crash
  request_id    CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  function_id   BIGINT UNSIGNED NOT NULL,
  function_name VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  payload       MEDIUMBLOB NOT NULL,
  state         ENUM('queued', 'running', 'done', 'failed') NOT NULL DEFAULT 'queued',
  attempts      INT UNSIGNED NOT NULL DEFAULT 0,
  -- '<pid>:<process start time>' of the claiming lambda-api process
  claimed_by    VARCHAR(64) CHARACTER SET ascii NULL,
  enqueued_at   DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  claimed_at    DATETIME(3) NULL,
  finished_at   DATETIME(3) NULL,
  -- the invocation's status (success, error, timeout...) or why it failed
  result_status VARCHAR(16) CHARACTER SET ascii NULL,
  error         TEXT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_event_queue_request_id (request_id),
  KEY ix_event_queue_state (state, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
