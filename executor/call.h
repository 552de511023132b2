/* One invocation request as the executor holds it while it is queued, run
 * and answered: parsed and validated from an INVOKE payload, and its
 * outcome (a RESULT payload or an ERROR code). */
#ifndef LAMBDA_EXECUTOR_CALL_H
#define LAMBDA_EXECUTOR_CALL_H

#include <pthread.h>

#include <cJSON.h>

#include "chan.h"
#include "err.h"

struct xconfig;
struct ctr;

enum runtime_kind { RT_PYTHON = 0, RT_NODE = 1, RT_COUNT };
enum isolation_kind { ISO_DOCKER = 0, ISO_GVISOR = 1, ISO_COUNT };

const char *runtime_name(int rt);
const char *isolation_name(int iso);

/* The function fields the executor uses (from INVOKE "function"). */
struct fnspec {
	long id;
	int version;
	const char *name;     /* borrowed from the request JSON */
	int runtime;          /* enum runtime_kind */
	const char *code_dir; /* borrowed */
	long timeout_ms;
	long memory_mb;
	long concurrency; /* 0: only the global caps */
	long keepalive_s; /* 0: the configured default */
};

/* Where a waiting call stands (changed only under the pool lock). */
enum call_wait {
	CALL_WAITING, /* queued: no container yet */
	CALL_LEAD,    /* handed a container: this call's thread runs the batch */
	CALL_RUNNING, /* taken into another call's batch: wait for DONE/RETRY */
	CALL_DONE,    /* outcome set */
	CALL_RETRY,   /* the container died before this call finished: try again */
};

struct call {
	struct call *qnext;     /* function queue link */
	cJSON *req;             /* the INVOKE payload, owned */
	const char *request_id; /* borrowed from req */
	struct fnspec fn;
	int isolation;
	const cJSON *function; /* req.function, sent to the bootstrap in init */
	const cJSON *event;    /* borrowed */
	const cJSON *args;     /* borrowed, or NULL */
	double arrive_ms;      /* mono */
	long long deadline_ms; /* mono: arrival + timeout */
	enum call_wait wait;
	pthread_cond_t cv;
	struct ctr *ctr;   /* for CALL_LEAD */
	int queued;        /* on a queue now */
	struct ctr *claim; /* a container started in the background at its request */
	int attempts;

	/* outcome */
	int cold;
	const char *cold_reason; /* static string or NULL */
	double queue_ms;
	double init_ms;
	double init_spent_ms; /* container start + code loading: added to the deadline */
	int batch_size;
	cJSON *result;        /* the RESULT payload, owned (NULL: see err_code) */
	const char *err_code; /* ERROR frame code when result is NULL */
	char *err_msg;
	int retry_after;

	/* while running: what the container's stderr adds to this call's logs */
	struct logcap stderr_cap;
	char *init_logs; /* what the code printed while loading (this call's cold start) */
	int finished;    /* in the current batch */
	double started_ms;
};

/* A condition variable whose timed waits take CLOCK_MONOTONIC deadlines (all of ours). */
void cond_init_mono(pthread_cond_t *cv);

/* Parses and validates an INVOKE payload; takes ownership of req (also on
 * failure).  ERR_INVALID names the field. */
struct call *call_new(cJSON *req, const struct xconfig *cfg, struct err **e);
void call_free(struct call *c);

/* Sets the outcome to an ERROR frame (code as in design.md). */
void call_fail(struct call *c, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Builds the RESULT payload of status with an error object; logs consumed. */
void call_set_status(struct call *c, const char *status, const char *err_type, const char *err_msg,
                     char *logs, int logs_truncated, double duration_ms, const char *container);
/* "Task timed out after 1.00 seconds" */
char *call_timeout_message(const struct call *c);
/* Fills the common RESULT fields (cold, queue_ms, ...) into res. */
void call_fill_common(struct call *c, cJSON *res, const char *container);

#endif
