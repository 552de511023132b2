/* Warm pools: the containers the executor owns, their states, the queues of
 * calls waiting for them, pre-warming, keep-alive, caps and LRU eviction.
 *
 * Everything here is guarded by one mutex (pool_lock/pool_unlock); a
 * container's I/O is done without it by the one thread that holds the
 * container (state LOADING/BUSY, or CREATING while it is being started). */
#ifndef LAMBDA_EXECUTOR_POOL_H
#define LAMBDA_EXECUTOR_POOL_H

#include <pthread.h>

#include <cJSON.h>

#include "call.h"
#include "chan.h"
#include "err.h"
#include "oomwatch.h"

struct xconfig;

enum ctr_state {
	CTR_CREATING, /* being created, attached and started by one thread; not usable yet */
	CTR_IDLE, /* running and waiting: generic (no function yet) or warm for one function version
	           */
	CTR_LOADING,  /* taken by a call: the function's code is being loaded (init frame) */
	CTR_BUSY,     /* running a batch of one or more calls */
	CTR_DRAINING, /* must not take new work: removed when its current user lets go */
	CTR_DEAD,     /* gone or going: removal queued; the struct is freed after that */
	CTR_NSTATES
};

struct fnpool;

struct ctr {
	struct ctr *next; /* all containers */
	char *id;         /* docker id, NULL until created */
	char short_id[13];
	enum ctr_state state;
	int runtime, isolation;
	long memory_mb;
	struct fnpool *fp; /* NULL: generic pre-warmed container */
	int generic;       /* started generic: its code is copied into task_dir when claimed */
	char *task_dir;    /* generic: host dir bind-mounted at /var/task:ro, NULL otherwise */
	int inited;        /* code loaded */
	double created_ms, last_used_ms;
	/* Started in the background for a busy pool (scale_main): how long the
	 * start took (counted in the pool's start estimate with the code load
	 * of the call that takes it), and the call that asked for it while that
	 * call waits in the queue (it goes first; pool lock). */
	double bg_start_ms;
	struct call *claimant;
	long calls;
	double busy_since_ms; /* mono: when its current batch was sent (BUSY) */
	long long cpu_ns;     /* cgroup figure at the last sample */
	/* memory.max_usage_in_bytes and cpuacct.usage, opened by the call that
	 * holds the container at its first sample, closed when it dies */
	int cg_mem_fd, cg_cpu_fd, cg_opened;
	long long mem_bytes;
	int has_chan;
	struct chan ch;
	struct oomwatch oom; /* armed once started (cgroup v1) */
};

/* Calls of one function version on one isolation share a pool. */
struct fnpool {
	struct fnpool *next;
	long id;
	int version;
	int isolation;
	int runtime;
	char *name;
	long keepalive_s;
	long concurrency;
	struct call *qhead, *qtail;
	int nqueued;
	int nlive; /* containers not DEAD/DRAINING */
	int ncreating;
	int evicted;     /* its containers were evicted (TTL/LRU): next cold is "evicted" */
	int new_version; /* an older version was drained: next cold is "new_version" */
	int retired;     /* a newer version exists or it was drained */
	long calls;
	/* Scale-up estimate (pool_note_batch, pool_note_start): moving averages
	 * of a call's share of a warm batch and of a container's start + code
	 * loading, in ms; 0 until measured. */
	double item_ms;
	int last_batch_n; /* items in its last warm batch */
	double cold_ms;
	/* When the pool last found no idle container (0: one went idle since):
	 * spare CPU counts for scaling only if the pool was full through the
	 * whole sample (scale_reason). */
	double full_since_ms;
	/* Calls that took a container and wait for followers (pool_await_followers);
	 * q_push wakes them once the queue holds batch_want calls. */
	int batch_waiters;
	int batch_want;          /* queued calls that end their wait (the lowest they want) */
	pthread_cond_t batch_cv; /* CLOCK_MONOTONIC */
};

int pool_init(const struct xconfig *cfg, struct err **e);
void pool_lock(void);
void pool_unlock(void);

/* Serves one call: finds or starts a container (or queues), runs it (maybe
 * in a batch) and leaves the outcome in c (result or err_code).  Blocks. */
void pool_invoke(struct call *c);

/* The one place where a container changes state (lock held).  Returns -1
 * and changes nothing for a transition that is not allowed. */
int pool_ctr_set_state(struct ctr *c, enum ctr_state s);

/* Lock held.  Feed the scale-up estimate of c's pool: a warm batch of n
 * calls took batch_ms from send to its last result; a start and code
 * load took init_ms. */
void pool_note_batch(struct ctr *c, int n, double batch_ms);
void pool_note_start(struct ctr *c, double init_ms);
const char *pool_state_name(enum ctr_state s);

/* Lock held: the container the leader gives back; healthy=0 kills it.
 * Hands it to the next queued call of its function, or makes it idle. */
void pool_release(struct ctr *c, int healthy);

/* Lock held: moves up to max queued calls of c's function into a batch
 * (their wait becomes CALL_RUNNING).  Returns how many. */
int pool_take_followers(struct ctr *c, struct call **out, int max);
void pool_await_followers(struct ctr *c);

/* Drains all containers of function id (every version): idle ones are
 * removed now, busy ones when their call ends.  Returns how many. */
int pool_drain_function(long function_id);

/* Housekeeping, once a second: keep-alive expiry, pre-warming, reaping. */
void pool_tick(void);
/* Replies. Caller owns the JSON. */
cJSON *pool_describe(void);
cJSON *pool_stats(void);
int pool_count(void);

/* Start-up and shutdown: remove containers with our label (never others');
 * returns the count or -1 (docker down). */
int pool_remove_orphans(struct err **e);
/* Removes containers with our label that the pool does not know (left
 * behind when a removal failed, e.g. while dockerd was down).  Does the
 * docker calls without the lock.  Returns the count or -1. */
int pool_sweep_strays(struct err **e);
/* Stops taking calls: queued calls fail; returns when in-flight calls have
 * finished or grace_ms passed; then removes every container. */
void pool_shutdown(long grace_ms);

/* Reads the container's cgroup (v1) memory peak (then resets it) and CPU
 * total; -1 when unknown.  Only by the call that holds the container (it
 * keeps the files open in c until the container dies). */
void pool_cgroup_sample(struct ctr *c, long long *mem_peak, long long *cpu_ns, int reset_peak);
/* The same by path, for readers that do not hold the container (GET POOLS). */
void pool_cgroup_peek(const struct ctr *c, long long *mem_peak, long long *cpu_ns);

#endif
