/* Asynchronous (InvocationType=Event) invocations: the dispatcher threads of
 * one lambda-api process.  Each claims queued rows of event_queue (db_aws.c)
 * with SELECT ... FOR UPDATE SKIP LOCKED, runs them through invoke_run with
 * the row's request id and source "event", and settles them.  Every process
 * runs dispatchers, so the queue drains while any process lives and resumes
 * when one starts again.
 *
 * A queued call runs up to api.event_max_attempts times (AWS's retries of
 * asynchronous invocations), each attempt once, with one invocation record
 * per attempt (its `attempt` column):
 *   - refused by the executor before running (queue full, executor down
 *     before the request went out): the row goes back to the queue and the
 *     attempt does not count;
 *   - it ran and succeeded: "done";
 *   - it ran and ended in error, timeout, oom, killed or internal: queued
 *     again for the next attempt after api.event_retry_delay_ms (doubled for
 *     each further one); after the last one "done" ("failed" if internal)
 *     with that run's status;
 *   - the process that claimed it died: another process settles the attempt
 *     from its invocation record (journaled before the run was answered);
 *     without one it is recorded with status "internal"; then as above. */
#ifndef LAMBDA_API_EVENT_QUEUE_H
#define LAMBDA_API_EVENT_QUEUE_H

#include "err.h"

#define EVENT_QUEUE_THREADS  2
#define EVENT_QUEUE_IDLE_MS  500         /* poll interval while idle */
#define EVENT_QUEUE_ORPHAN_S 10          /* a dead claimer's row waits this long */
#define EVENT_QUEUE_KEEP_S   (7 * 86400) /* settled rows are purged after this */

/* Starts the dispatcher threads (needs app set up: config, journal). */
int event_queue_start(struct err **e);
/* Stops them, letting runs in flight finish. */
void event_queue_stop(void);
/* Wakes this process's dispatchers: an event was just queued. */
void event_queue_notify(void);

/* The request id of an event's attempt: the event's own for attempt 1 (the
 * x-amzn-RequestId the client got); for attempt n > 1 a UUID (version 8,
 * RFC 9562) made of SHA-256("<request id>#<n>"), so that a process settling
 * an orphaned attempt finds its record. */
void event_attempt_request_id(const char *request_id, int attempt, char out[37]);

/* "<pid>:<start time in clock ticks>" of process pid (for claimed_by), or
 * -1 when it does not exist.  Exposed for the unit tests. */
int event_queue_process_token(long pid, char *out, size_t size);

#endif
