/* Running one invocation through the executor and recording it: shared by
 * /api/functions/{id}/invoke, the seed's /api/functions/execute, the AWS
 * Invoke API, function URLs and the event queue. */
#ifndef LAMBDA_API_INVOKE_H
#define LAMBDA_API_INVOKE_H

#include <cJSON.h>

#include "err.h"
#include "function.h"

struct worker;

struct invoke_req {
	const struct function *fn; /* loaded without code is enough */
	const char *isolation;     /* "docker" | "gvisor"; NULL = the function's */
	cJSON *event;              /* any JSON value; NULL = {} (borrowed) */
	cJSON *args;               /* seed style: array, or NULL (borrowed) */
	const char *source;        /* "api" | "aws" | "url" | "seed" | "event" */
	const char *request_id;    /* NULL: a new UUID; else this one (36 characters: an
	                            * event queued earlier keeps its id) */
	int attempt;               /* an Event's run: 1, 2, 3 (0: not an Event) */
};

struct invoke_out {
	char request_id[37];
	/* The executor's RESULT payload (owned; release with invoke_out_free):
	 * status, result, output, error, logs, duration_ms, init_ms, cold... */
	cJSON *result;
	const char *status; /* points into result */
	double total_ms;    /* measured by the API around the executor call */
};

/* Runs req and records it (journal) whatever its outcome.  Errors:
 *   ERR_UNAVAILABLE "executor unavailable: ..." (503): when it died during
 *     the call, the invocation is recorded with status "internal" and
 *     out->request_id names it (the only part of out written on failure:
 *     callers zero out first and answer it as X-Request-Id);
 *   ERR_TOO_MANY (429; *retry_after_s set) and others from an executor ERROR
 *     reply: nothing ran, nothing is recorded;
 *   ERR_INTERNAL when the record could not be journaled (no 2xx without its
 *     record). */
int invoke_run(struct worker *w, const struct invoke_req *req, struct invoke_out *out,
               int *retry_after_s, struct err **e);
void invoke_out_free(struct invoke_out *out);

/* The invocation record (a journal line) for a RESULT payload; exposed for
 * the unit tests.  started_at is "YYYY-MM-DD HH:MM:SS.mmm" UTC. */
cJSON *invoke_record(const struct function *fn, const char *request_id, const char *source,
                     const char *isolation, const char *started_at, double total_ms,
                     const cJSON *result);
/* The HTTP error an executor ERROR payload maps to (code, message). */
int invoke_error_of(const cJSON *error_payload, int *retry_after_s, struct err **e);
/* A copy of s cut to at most max bytes on a UTF-8 boundary, with invalid
 * sequences and control characters other than \n and \t replaced by '?'. */
char *utf8_clean(const char *s, size_t max);

#endif
