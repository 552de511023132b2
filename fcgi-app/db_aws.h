/* The SQL of the AWS-compatible API: function configurations as AWS shows
 * them (functions joined with aws_functions), the async event queue and
 * the function-URL setting.  Prepared statements only (db.h). */
#ifndef LAMBDA_API_DB_AWS_H
#define LAMBDA_API_DB_AWS_H

#include <stddef.h>

#include "db.h"
#include "err.h"

/* A function as the AWS API shows it (no code). */
struct aws_fn {
	long long id;
	char *name;
	char *runtime; /* ours: "python" | "javascript" */
	char *handler;
	char code_sha256[65]; /* hex */
	long long code_size;
	long long timeout_ms;
	long long memory_mb;
	char *env; /* JSON object text */
	long long version;
	char *updated_at;  /* "YYYY-MM-DDTHH:MM:SS.mmmZ" */
	char *aws_runtime; /* "python3.12"; NULL when created through /api */
	char *role;        /* NULL when created through /api */
	char *description;
	char *url_auth; /* "none" | "key" */
};

void db_aws_fn_free(struct aws_fn *f);

/* Loads one function by name.  ERR_NOT_FOUND when there is none. */
int db_aws_fn_get(struct db *db, const char *name, struct aws_fn *out, struct err **e);

/* Calls fn for up to limit functions with id > after_id, in id order; the
 * aws_fn is valid during the call only.  A non-zero return of fn stops. */
typedef int (*db_aws_fn_cb)(const struct aws_fn *f, void *arg);
int db_aws_fn_list(struct db *db, long long after_id, int limit, db_aws_fn_cb fn, void *arg,
                   struct err **e);

/* Records what an AWS client set that the registry has no column for. */
int db_aws_meta_put(struct db *db, long long function_id, const char *aws_runtime, const char *role,
                    const char *description, struct err **e);

/* ---- the event queue */

struct aws_event {
	long long id;
	char request_id[37];
	long long function_id;
	char *function_name;
	char *payload; /* payload_len bytes, NUL-terminated */
	size_t payload_len;
	int attempt; /* the run this claim is (1, 2, 3) */
	char *claimed_by;
};

void db_aws_event_free(struct aws_event *ev);

/* Queues an Event invocation (committed when this returns 0). */
int db_aws_event_insert(struct db *db, const char *request_id, long long function_id,
                        const char *function_name, const char *payload, size_t len, struct err **e);
/* Claims the oldest queued event for claimer (SELECT ... FOR UPDATE SKIP
 * LOCKED, then state running, in one transaction).  Returns 1 and fills
 * *out, 0 when nothing is queued, -1 on error.  Returns -2 with *out filled
 * (and *e set) when the connection broke after the COMMIT was sent: the claim
 * may or may not hold, and db_aws_event_claimed() says which. */
int db_aws_event_claim(struct db *db, const char *claimer, struct aws_event *out, struct err **e);
/* Whether event id is running under claimer (so one claimer must not claim
 * twice at once): 1 yes, 0 no, -1 when the database cannot say yet. */
int db_aws_event_claimed(struct db *db, long long id, const char *claimer, struct err **e);
/* Settles a claimed event: state "done" or "failed", with the invocation's
 * status and an error text (either may be NULL). */
int db_aws_event_finish(struct db *db, long long id, const char *state, const char *status,
                        const char *error, struct err **e);
/* Puts a claimed event back in the queue (it did not run: the attempt is
 * not counted). */
int db_aws_event_requeue(struct db *db, long long id, struct err **e);
/* Puts a claimed event that ran and failed back in the queue for its next
 * attempt, not claimed before delay_ms from now; keeps the failed run's
 * status and error. */
int db_aws_event_retry(struct db *db, long long id, long long delay_ms, const char *status,
                       const char *error, struct err **e);
/* Calls fn for every running event (claimed_by filled); fn's non-zero
 * return stops. */
typedef int (*db_aws_event_cb)(const struct aws_event *ev, void *arg);
int db_aws_event_running(struct db *db, db_aws_event_cb fn, void *arg, struct err **e);
/* Counts events in a state (for tests and health). */
int db_aws_event_count(struct db *db, const char *state, long long *n, struct err **e);
/* Removes settled events finished more than max_age_s ago. */
int db_aws_event_purge(struct db *db, long long max_age_s, struct err **e);

/* The status of the invocation record with this request id: 1 and *status
 * (caller frees) when it exists, 0 when not. */
int db_aws_invocation_status(struct db *db, const char *request_id, char **status, struct err **e);

#endif
