/* Running calls in a container: starting it, loading the function's code
 * (init frame), sending one `invoke` frame with one or more items (a batch)
 * and collecting one result per item, each with its own deadline, logs and
 * outcome.  A timeout of one item kills the container; the other unfinished
 * items are retried elsewhere while their deadline allows. */
#ifndef LAMBDA_EXECUTOR_BATCH_H
#define LAMBDA_EXECUTOR_BATCH_H

#include "call.h"
#include "err.h"

struct ctr;
struct xconfig;

/* Lock held on entry and on return (released while the container works).
 * lead->ctr is c.  Collects queued calls of the same function into the
 * batch, runs it, gives the container back (pool_release) and sets every
 * item's wait to CALL_DONE or CALL_RETRY (waking the followers). */
void batch_lead(struct call *lead, struct ctr *c, const struct xconfig *cfg);

/* Creates, attaches and starts c (CREATING, without the lock).  fn: the
 * function whose code_dir is bind-mounted, or NULL for a generic container
 * (its c->task_dir is bind-mounted).  Arms c->oom when it can. */
int batch_start_container(struct ctr *c, const struct xconfig *cfg, const struct fnspec *fn,
                          struct err **e);
/* Sends ping and waits for pong (bootstrap ready). */
int batch_ping(struct ctr *c, long long deadline, struct err **e);

/* The largest container frame held in memory. */
size_t batch_frame_max(const struct xconfig *cfg);

#endif
