-- Retries of asynchronous (Event) invocations, as AWS does them (issue 7):
-- a run that ends in error, timeout, oom, killed or internal is run again,
-- up to api.event_max_attempts in all, after api.event_retry_delay_ms and
-- then twice that (docs/aws.md "Event (async) invocations").

-- Which attempt of its event an invocation record is (1 for every record
-- that is not a retry, including those written before this migration).
ALTER TABLE invocations
  ADD COLUMN IF NOT EXISTS attempt TINYINT UNSIGNED NOT NULL DEFAULT 1 AFTER source;

-- A queued row is not claimed before run_after (NULL: at once); attempts
-- counts the runs that started.  The claim scans (state, id) as before and
-- filters on run_after: queued rows are few.
ALTER TABLE event_queue
  ADD COLUMN IF NOT EXISTS run_after DATETIME(3) NULL AFTER enqueued_at;
