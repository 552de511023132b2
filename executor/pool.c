#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "cgfile.h"
#include "cleanup.h"
#include "clock.h"
#include "config.h"
#include "docker.h"
#include "log.h"
#include "pool.h"
#include "taskdir.h"
#include "xalloc.h"

/* A removal waiting for the reaper thread. */
struct reap {
	struct reap *next;
	char *id;       /* the container, or NULL (it was never created) */
	char *task_dir; /* its pre-warm directory, removed after it, or NULL */
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t reap_cv;  /* reaper: work arrived */
	pthread_cond_t quiet_cv; /* shutdown: a call finished / the reaper emptied */
	const struct xconfig *cfg;
	struct ctr *ctrs;
	struct fnpool *fps;
	int nlive;    /* containers not DEAD */
	int starting; /* containers CREATING or LOADING: capped by max_starting */
	long mem_mb;  /* memory of containers not DEAD */
	int queued;   /* calls waiting in all queues */
	int inflight; /* calls inside pool_invoke */
	int shutting;
	struct reap *reap_head, *reap_tail;
	int reaping;                                          /* removals queued or running */
	int prewarming;                                       /* a pre-warm start is running */
	long long prewarm_backoff_until[RT_COUNT][ISO_COUNT]; /* after a failed start */
	double prewarm_start_ms[RT_COUNT][ISO_COUNT]; /* moving average of a pre-warm start */
	long long calls_total;
	unsigned long task_seq; /* names of pre-warm directories */
	double host_idle;       /* the host CPUs' idle share over the last tick, 0..1 */
	double idle_from_ms;    /* ... measured from this time (the tick before) */
	double idle_at_ms;      /* ... to this one */
	unsigned long long cpu_idle0, cpu_total0; /* /proc/stat at the last tick */
} P = {.lock = PTHREAD_MUTEX_INITIALIZER,
       .reap_cv = PTHREAD_COND_INITIALIZER,
       .quiet_cv = PTHREAD_COND_INITIALIZER};

void pool_lock(void)
{
	pthread_mutex_lock(&P.lock);
}

void pool_unlock(void)
{
	pthread_mutex_unlock(&P.lock);
}

/* ------------------------------------------------------------------ */
/* The state machine                                                   */
/* ------------------------------------------------------------------ */

static const char *const state_names[CTR_NSTATES] = {
    "creating", "idle", "loading", "busy", "draining", "dead",
};

const char *pool_state_name(enum ctr_state s)
{
	return s < CTR_NSTATES ? state_names[s] : "unknown";
}

/* allowed[from] is the set of states reachable from `from`. */
#define B(s) (1u << (s))
static const unsigned allowed[CTR_NSTATES] = {
    [CTR_CREATING] = B(CTR_IDLE) | B(CTR_LOADING) | B(CTR_DRAINING) | B(CTR_DEAD),
    [CTR_IDLE] = B(CTR_LOADING) | B(CTR_BUSY) | B(CTR_DEAD),
    [CTR_LOADING] = B(CTR_BUSY) | B(CTR_DRAINING) | B(CTR_DEAD),
    [CTR_BUSY] = B(CTR_IDLE) | B(CTR_DRAINING) | B(CTR_DEAD),
    [CTR_DRAINING] = B(CTR_DEAD),
    [CTR_DEAD] = 0,
};
#undef B

/* Queues the removal of container id (may be NULL) and then of task_dir
 * (consumed, may be NULL). */
static void reap_push(const char *id, char *task_dir)
{
	struct reap *r = xcalloc(1, sizeof(*r));

	r->id = id != NULL ? xstrdup(id) : NULL;
	r->task_dir = task_dir;
	if (P.reap_tail != NULL)
		P.reap_tail->next = r;
	else
		P.reap_head = r;
	P.reap_tail = r;
	P.reaping++;
	pthread_cond_signal(&P.reap_cv);
}

static int live_state(enum ctr_state s)
{
	return s != CTR_DEAD && s != CTR_DRAINING;
}

/* Being created, started or loading its code: the expensive part of a cold
 * start (a Node bootstrap boots while its init frame waits), which
 * executor.max_starting bounds. */
static int starting_state(enum ctr_state s)
{
	return s == CTR_CREATING || s == CTR_LOADING;
}

static void wake_start_waiters(void);
static void cg_close(struct ctr *c);

int pool_ctr_set_state(struct ctr *c, enum ctr_state s)
{
	enum ctr_state old = c->state;

	if (s >= CTR_NSTATES || (old != s && !(allowed[old] & (1u << s)))) {
		log_errx("container %s: %s -> %s is not allowed", c->short_id, pool_state_name(old),
		         pool_state_name(s));
		return -1;
	}
	if (old == s)
		return 0;
	/* bookkeeping that depends on leaving or entering a state */
	if (c->fp != NULL) {
		if (old == CTR_CREATING)
			c->fp->ncreating--;
		if (live_state(old) && !live_state(s))
			c->fp->nlive--;
		if (!live_state(old) && live_state(s))
			c->fp->nlive++;
	}
	if (starting_state(old) && !starting_state(s)) {
		P.starting--;
		wake_start_waiters(); /* a start slot is free */
	}
	if (!starting_state(old) && starting_state(s))
		P.starting++;
	if (s == CTR_DEAD) {
		P.nlive--;
		P.mem_mb -= c->memory_mb;
		if (c->has_chan) {
			chan_close(&c->ch);
			c->has_chan = 0;
		}
		oomwatch_close(&c->oom);
		cg_close(c);
		if (c->id != NULL || c->task_dir != NULL)
			reap_push(c->id, TAKE_PTR(c->task_dir));
	}
	if (s == CTR_IDLE) {
		c->last_used_ms = mono_ms_f();
		if (c->fp != NULL)
			c->fp->full_since_ms = 0; /* it has room again */
	}
	log_debug("container %s: %s -> %s", c->short_id[0] ? c->short_id : "(new)",
	          pool_state_name(old), pool_state_name(s));
	c->state = s;
	return 0;
}

/* A new container record in CREATING (lock held). */
static struct ctr *ctr_new(struct fnpool *fp, int runtime, int isolation, long memory_mb)
{
	struct ctr *c = xcalloc(1, sizeof(*c));

	c->state = CTR_CREATING;
	c->fp = fp;
	c->generic = fp == NULL;
	c->runtime = runtime;
	c->isolation = isolation;
	c->memory_mb = memory_mb;
	c->created_ms = c->last_used_ms = mono_ms_f();
	c->cpu_ns = c->mem_bytes = -1;
	c->cg_mem_fd = c->cg_cpu_fd = -1;
	oomwatch_init(&c->oom);
	c->next = P.ctrs;
	P.ctrs = c;
	P.nlive++;
	P.starting++;
	P.mem_mb += memory_mb;
	if (fp != NULL) {
		fp->nlive++;
		fp->ncreating++;
	}
	return c;
}

static void ctr_free(struct ctr *c)
{
	if (c->has_chan)
		chan_close(&c->ch);
	oomwatch_close(&c->oom);
	cg_close(c);
	free(c->task_dir);
	free(c->id);
	free(c);
}

/* Frees DEAD records: their holder let go when it made them DEAD. */
static void sweep_dead(void)
{
	struct ctr **pp = &P.ctrs;

	while (*pp != NULL) {
		struct ctr *c = *pp;
		if (c->state == CTR_DEAD) {
			*pp = c->next;
			ctr_free(c);
		} else {
			pp = &c->next;
		}
	}
}

/* ------------------------------------------------------------------ */
/* Function pools and their queues                                     */
/* ------------------------------------------------------------------ */

static void fp_retire(struct fnpool *fp)
{
	fp->retired = 1;
	for (struct ctr *c = P.ctrs; c != NULL; c = c->next) {
		if (c->fp != fp)
			continue;
		if (c->state == CTR_IDLE)
			pool_ctr_set_state(c, CTR_DEAD);
		else if (c->state != CTR_DEAD)
			pool_ctr_set_state(c, CTR_DRAINING);
	}
}

/* The pool of c's function version and isolation; a newer version retires
 * the older ones (their containers never serve anything else). */
static struct fnpool *fp_get(const struct call *c)
{
	struct fnpool *fp;
	int older_had = 0;

	for (fp = P.fps; fp != NULL; fp = fp->next)
		if (fp->id == c->fn.id && fp->version == c->fn.version &&
		    fp->isolation == c->isolation)
			break;
	if (fp == NULL) {
		for (struct fnpool *o = P.fps; o != NULL; o = o->next) {
			if (o->id != c->fn.id || o->version >= c->fn.version)
				continue;
			if (o->isolation == c->isolation && (o->nlive > 0 || o->calls > 0))
				older_had = 1;
			if (!o->retired)
				fp_retire(o);
		}
		fp = xcalloc(1, sizeof(*fp));
		cond_init_mono(&fp->batch_cv);
		fp->id = c->fn.id;
		fp->version = c->fn.version;
		fp->isolation = c->isolation;
		fp->runtime = c->fn.runtime;
		fp->name = xstrdup(c->fn.name);
		fp->new_version = older_had;
		fp->next = P.fps;
		P.fps = fp;
	}
	/* per-function settings travel with each call: the latest wins */
	fp->keepalive_s = c->fn.keepalive_s;
	fp->concurrency = c->fn.concurrency;
	return fp;
}

static void q_push(struct fnpool *fp, struct call *c, int front)
{
	c->qnext = NULL;
	if (front) {
		c->qnext = fp->qhead;
		fp->qhead = c;
		if (fp->qtail == NULL)
			fp->qtail = c;
	} else {
		if (fp->qtail != NULL)
			fp->qtail->qnext = c;
		else
			fp->qhead = c;
		fp->qtail = c;
	}
	c->queued = 1;
	fp->nqueued++;
	P.queued++;
	if (fp->batch_waiters > 0 && fp->nqueued >= fp->batch_want)
		pthread_cond_broadcast(&fp->batch_cv);
}

static void q_remove(struct fnpool *fp, struct call *c)
{
	struct call **pp = &fp->qhead, *prev = NULL;

	while (*pp != NULL && *pp != c) {
		prev = *pp;
		pp = &(*pp)->qnext;
	}
	if (*pp == NULL)
		return;
	*pp = c->qnext;
	if (fp->qtail == c)
		fp->qtail = prev;
	c->qnext = NULL;
	c->queued = 0;
	fp->nqueued--;
	P.queued--;
}

static struct call *q_pop(struct fnpool *fp)
{
	struct call *c = fp->qhead;

	if (c != NULL)
		q_remove(fp, c);
	return c;
}

/* Wakes the first queued call of pools that have no container at all: it
 * retries and may now start one (capacity freed up somewhere). */
static void wake_starved(void)
{
	for (struct fnpool *fp = P.fps; fp != NULL; fp = fp->next) {
		if (fp->qhead == NULL || fp->ncreating > 0)
			continue;
		if (fp->nlive > 0 && fp->concurrency > 0 && fp->nlive >= fp->concurrency)
			continue;
		struct call *c = q_pop(fp);
		c->wait = CALL_RETRY;
		pthread_cond_signal(&c->cv);
	}
}

static int may_scale(struct fnpool *fp);

/* A start slot came free: wakes the first queued call of pools that may
 * scale up, at most one per free slot; each retries and may start one.
 * Oldest pools first is not promised: the list order decides. */
static void wake_start_waiters(void)
{
	long free_slots = P.cfg->max_starting - P.starting;

	for (struct fnpool *fp = P.fps; fp != NULL && free_slots > 0; fp = fp->next) {
		struct call *c;
		if (fp->qhead == NULL || fp->retired || !may_scale(fp))
			continue;
		c = q_pop(fp);
		c->wait = CALL_RETRY;
		pthread_cond_signal(&c->cv);
		free_slots--;
	}
}

int pool_take_followers(struct ctr *c, struct call **out, int max)
{
	int n = 0;

	if (c->fp == NULL)
		return 0;
	while (n < max && c->fp->qhead != NULL) {
		struct call *q = q_pop(c->fp);
		q->wait = CALL_RUNNING;
		out[n++] = q;
	}
	return n;
}

/* Above this idle share of the host's CPUs a pool scales without the
 * estimate (scale_reason), and a batch's leader does not wait for followers
 * (followers_wait_ms). */
#define SCALE_IDLE_MIN 0.25

/* How long the call that took c waits for followers before it sends its
 * batch: batch_wait_ms when set; else, while the host's CPUs are busy (under
 * SCALE_IDLE_MIN idle over the last tick) and another container of the pool
 * is running a batch, batch_wait_busy_ms. Why the second: with the CPUs
 * saturated, a batch of one costs a whole round trip through dockerd, the
 * shim and the bootstrap (up to ~1.5 ms of CPU under runsc) for one call;
 * with 128 clients and wait 0, half the calls still went alone, because a
 * container that frees up finds the queue just emptied by another and then
 * takes the next call as it arrives. Neither condition holds for one client
 * or on an idle host, so warm latency is unchanged there. */
static long followers_wait_ms(const struct ctr *c, int *want)
{
	*want = (int)P.cfg->batch_max - 1;
	if (P.cfg->batch_wait_ms > 0)
		return P.cfg->batch_wait_ms;
	if (P.cfg->batch_wait_busy_ms == 0 || P.host_idle >= SCALE_IDLE_MIN)
		return 0;
	for (const struct ctr *o = P.ctrs; o != NULL; o = o->next)
		if (o != c && o->fp == c->fp && o->state == CTR_BUSY)
			return P.cfg->batch_wait_busy_ms;
	/* A pool of one container has no other to tell of the load: its last
	 * batch does.  Waiting for a full batch would hold it the whole wait
	 * under a few clients (python/runc, 4 clients: -24% calls/s), so the
	 * wait ends once as many followers as that batch had are queued.
	 * Without it, 128 clients on one container went in batches of 4.7 on
	 * average (2,923 calls/s); with it, 13.2 (3,923). */
	if (c->fp->nlive == 1 && c->fp->last_batch_n >= 2) {
		if (*want > c->fp->last_batch_n - 1)
			*want = c->fp->last_batch_n - 1;
		return P.cfg->batch_wait_busy_ms;
	}
	return 0;
}

/* Called by a batch's leader, locked, before pool_take_followers (so c is
 * a warm container of a pool, and batch_max > 1): when nothing is queued for
 * c's pool, waits up to followers_wait_ms() (unlocked meanwhile) or until
 * as many calls are queued as it wants (batch_max - 1, or fewer for a pool
 * of one container). The wait counts in the leader's queue_ms. */
void pool_await_followers(struct ctr *c)
{
	struct fnpool *fp = c->fp;
	long ms;
	int want;
	struct timespec ts;

	if (fp->qhead != NULL)
		return;
	ms = followers_wait_ms(c, &want);
	if (ms == 0)
		return;
	ts = mono_ts(mono_ms() + ms);
	/* q_push wakes the waiters at the lowest count any of them wants */
	if (fp->batch_waiters == 0 || want < fp->batch_want)
		fp->batch_want = want;
	fp->batch_waiters++;
	while (fp->nqueued < want && !P.shutting &&
	       pthread_cond_timedwait(&fp->batch_cv, &P.lock, &ts) != ETIMEDOUT)
		;
	fp->batch_waiters--;
}

/* ------------------------------------------------------------------ */
/* Capacity: caps and LRU eviction                                     */
/* ------------------------------------------------------------------ */

/* The least recently used idle container (function or generic), or NULL. */
static struct ctr *lru_victim(void)
{
	struct ctr *best = NULL;

	for (struct ctr *c = P.ctrs; c != NULL; c = c->next)
		if (c->state == CTR_IDLE && (best == NULL || c->last_used_ms < best->last_used_ms))
			best = c;
	return best;
}

static void evict(struct ctr *c, const char *why)
{
	log_info("evicting container %s (%s)", c->short_id, why);
	if (c->fp != NULL)
		c->fp->evicted = 1;
	pool_ctr_set_state(c, CTR_DEAD);
}

/* Makes room for one more container of mem_mb, evicting LRU idle ones.
 * Returns 0 when there is (or now is) room. */
static int make_room(long mem_mb, int may_evict)
{
	while (P.nlive + 1 > P.cfg->max_containers || P.mem_mb + mem_mb > P.cfg->max_memory_mb) {
		struct ctr *v;
		if (!may_evict || (v = lru_victim()) == NULL)
			return -1;
		evict(v, "capacity");
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Acquiring a container for a call                                    */
/* ------------------------------------------------------------------ */

/* The most recently used idle container of fp with its code loaded (the
 * warmest caches), else one started in the background that has none. */
static struct ctr *find_idle(struct fnpool *fp)
{
	struct ctr *best = NULL;

	for (struct ctr *c = P.ctrs; c != NULL; c = c->next)
		if (c->fp == fp && c->state == CTR_IDLE &&
		    (best == NULL || c->inited > best->inited ||
		     (c->inited == best->inited && c->last_used_ms > best->last_used_ms)))
			best = c;
	return best;
}

static struct ctr *find_generic(int runtime, int isolation, long memory_mb)
{
	for (struct ctr *c = P.ctrs; c != NULL; c = c->next)
		if (c->fp == NULL && c->state == CTR_IDLE && c->runtime == runtime &&
		    c->isolation == isolation && c->memory_mb == memory_mb)
			return c;
	return NULL;
}

#define EWMA(avg, x) ((avg) > 0 ? 0.8 * (avg) + 0.2 * (x) : (x))

/* The host CPUs' idle share since the previous call (once a second, from
 * the tick), from the first line of /proc/stat. */
static void sample_host_idle(void)
{
	unsigned long long v[8] = {0}, idle, total = 0;
	char line[256];
	FILE *f = fopen("/proc/stat", "re");

	if (f == NULL)
		return;
	if (fgets(line, sizeof(line), f) == NULL ||
	    sscanf(line, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
	           &v[4], &v[5], &v[6], &v[7]) < 4) {
		fclose(f);
		return;
	}
	fclose(f);
	for (int i = 0; i < 8; i++)
		total += v[i];
	idle = v[3] + v[4]; /* idle + iowait */
	if (P.cpu_total0 > 0 && total > P.cpu_total0)
		P.host_idle = (double)(idle - P.cpu_idle0) / (double)(total - P.cpu_total0);
	P.idle_from_ms = P.idle_at_ms;
	P.idle_at_ms = mono_ms_f();
	P.cpu_idle0 = idle;
	P.cpu_total0 = total;
}

void pool_note_batch(struct ctr *c, int n, double batch_ms)
{
	if (c->fp != NULL && n > 0 && batch_ms >= 0) {
		c->fp->item_ms = EWMA(c->fp->item_ms, batch_ms / n);
		c->fp->last_batch_n = n;
	}
}

void pool_note_start(struct ctr *c, double init_ms)
{
	/* A claimed pre-warmed container is replaced by the pre-warmer: that
	 * start is the scale-up's cost too, not only the code load. */
	if (c->fp == NULL || init_ms < 0)
		return;
	if (c->generic)
		init_ms += P.prewarm_start_ms[c->runtime][c->isolation];
	else
		init_ms += c->bg_start_ms; /* 0 unless started in the background */
	c->fp->cold_ms = EWMA(c->fp->cold_ms, init_ms);
}

/* Why a pool with no idle container should start one, or NULL when its
 * calls had better wait for a warm one.
 *
 * Would a call that queues now wait less for one of the pool's warm
 * containers than a new container takes to start?  Then starting one
 * only costs CPU and memory (a hello call takes ~1 ms, a start 300+ ms
 * of CPU): 32 clients of a fast function once kept 32 containers busy on
 * 2 cores.  A warm container whose batch has run longer than a start
 * does not count (a stuck or slow call), and without measures of both
 * (a new pool) the answer is to start one, so slow functions scale as
 * before.
 *
 * Spare CPU overrides the estimate: the calls then wait on something
 * else (a sleep, a child), and another container adds parallelism, not
 * contention.  But only when the pool was full through the whole second
 * the idle share covers: a burst that starts after a pause would read the
 * pause's idle CPUs (the likely reason an earlier 10-minute soak, made of
 * 30 s rounds, grew its pools from 12 to 40 containers; issue 6). */
static const char *scale_reason(const struct fnpool *fp)
{
	double now = mono_ms_f();
	int nwarm = 0;

	if (P.host_idle >= SCALE_IDLE_MIN && fp->full_since_ms > 0 &&
	    fp->full_since_ms <= P.idle_from_ms)
		return "idle CPUs";
	if (fp->item_ms <= 0 || fp->cold_ms <= 0)
		return "not measured yet";
	for (const struct ctr *c = P.ctrs; c != NULL; c = c->next) {
		if (c->fp != fp || !c->inited)
			continue;
		if (c->state == CTR_IDLE ||
		    (c->state == CTR_BUSY && now - c->busy_since_ms < fp->cold_ms))
			nwarm++;
	}
	if (nwarm > 0 && (fp->nqueued + 1) * fp->item_ms / nwarm < fp->cold_ms)
		return NULL;
	return nwarm > 0 ? "wait longer than a start" : "no warm container";
}

/* Lock held.  May fp start a container now?  *why says what tipped it. */
static int may_scale_why(struct fnpool *fp, const char **why)
{
	if (fp->concurrency > 0 && fp->nlive >= fp->concurrency)
		return 0;
	/* the whole executor: a burst must not start dozens at once (issue 4) */
	if (P.starting >= P.cfg->max_starting)
		return 0;
	/* one start at a time per function unless its queue outgrows what the
	 * starting containers will take in their first batches */
	if (fp->ncreating > 0 && fp->nqueued < fp->ncreating * P.cfg->batch_max)
		return 0;
	return (*why = scale_reason(fp)) != NULL;
}

static int may_scale(struct fnpool *fp)
{
	const char *why;

	return may_scale_why(fp, &why);
}

static const char *cold_reason(struct fnpool *fp)
{
	if (fp->nlive > 0)
		return "scale_up";
	if (fp->new_version)
		return "new_version";
	if (fp->evicted)
		return "evicted";
	return "no_pool";
}

/* Lock held.  An idle warm container, a pre-warmed one or a new one (in
 * CREATING, started by the caller), or NULL when the call must wait. */
static struct ctr *acquire(struct fnpool *fp, struct call *call)
{
	struct ctr *c = find_idle(fp);
	const char *why = NULL;

	if (c != NULL && !fp->retired && !c->inited) {
		/* started in the background and up before any call queued */
		pool_ctr_set_state(c, CTR_LOADING);
		call->cold = 1;
		call->cold_reason = "scale_up";
		return c;
	}
	if (c != NULL && !fp->retired) {
		pool_ctr_set_state(c, CTR_BUSY); /* taken now, under the lock */
		call->cold = 0;
		call->cold_reason = NULL;
		return c;
	}
	if (fp->full_since_ms <= 0)
		fp->full_since_ms = mono_ms_f();
	if (!may_scale_why(fp, &why))
		return NULL;
	if (fp->nlive > 0) /* the terms of the estimate, to tune it by */
		log_info("scaling up %s (%s): %d live, %d queued, item %.2f ms, start %.0f ms, "
		         "host %.0f%% idle",
		         fp->name, why, fp->nlive, fp->nqueued, fp->item_ms, fp->cold_ms,
		         100.0 * P.host_idle);
	c = find_generic(fp->runtime, fp->isolation, call->fn.memory_mb);
	if (c != NULL) {
		call->cold = 1;
		call->cold_reason = "prewarmed";
		c->fp = fp;
		fp->nlive++;
		pool_ctr_set_state(c, CTR_LOADING);
		return c;
	}
	if (make_room(call->fn.memory_mb, 1) < 0)
		return NULL;
	call->cold = 1;
	call->cold_reason = cold_reason(fp);
	fp->evicted = fp->new_version = 0;
	return ctr_new(fp, fp->runtime, fp->isolation, call->fn.memory_mb);
}

void pool_release(struct ctr *c, int healthy)
{
	struct fnpool *fp = c->fp;
	struct call *next;

	c->last_used_ms = mono_ms_f();
	if (!healthy || c->state == CTR_DRAINING || (fp != NULL && fp->retired) || P.shutting) {
		pool_ctr_set_state(c, CTR_DEAD);
		wake_starved();
		return;
	}
	if (fp != NULL && (next = q_pop(fp)) != NULL) {
		/* stays BUSY: handed straight to the next call, which leads;
		 * the container has its code loaded, so the call is warm */
		next->ctr = c;
		next->cold = 0;
		next->cold_reason = NULL;
		next->wait = CALL_LEAD;
		pthread_cond_signal(&next->cv);
		return;
	}
	pool_ctr_set_state(c, CTR_IDLE);
}

static void call_timeout_queued(struct call *c)
{
	char *msg = call_timeout_message(c);
	double now = mono_ms_f();

	c->queue_ms = now - c->arrive_ms;
	call_set_status(c, "timeout", "Runtime.Timeout", msg, NULL, 0, now - c->arrive_ms, NULL);
	free(msg);
}

/* Waits (lock held) until the call is handed a container, finished, told
 * to retry, or its deadline passes (then it leaves the queue).  A call
 * whose container is being started in the background waits for it past
 * its deadline: the start is not the function's time (scale_done). */
static void wait_turn(struct fnpool *fp, struct call *c)
{
	struct timespec ts = mono_ts(c->deadline_ms);

	while (c->wait == CALL_WAITING || c->wait == CALL_RUNNING) {
		int r = pthread_cond_timedwait(&c->cv, &P.lock, &ts);
		int late = r == ETIMEDOUT || mono_ms() >= c->deadline_ms;
		if (late && c->wait == CALL_WAITING && c->claim == NULL) {
			q_remove(fp, c);
			call_timeout_queued(c);
			c->wait = CALL_DONE;
		} else if (r == ETIMEDOUT) {
			/* RUNNING: the leader owns the deadline; claimed: the
			 * start ends in success or failure; wait for either */
			ts.tv_sec += 1;
		}
	}
}

/* ------------------------------------------------------------------ */
/* Scaling up in the background                                        */
/* ------------------------------------------------------------------ */

/* A call that scales up a pool with live containers does not start the
 * new one itself: it queues, and whichever comes first serves it, a
 * container of the pool freeing up or the new one.  Otherwise it waits a
 * whole start while its pool frees up every few ms (with 4 gVisor starts
 * at once under load, over 2 s: the client timeouts of issue 4). */
struct scale_job {
	struct ctr *c;
	struct fnspec fn; /* id, version and code_dir (owned) */
};

/* Lock held: the background start of c ended (e: how it failed).  The
 * container goes to the call that asked for it if that call still waits,
 * else to the first queued call, else it idles with no code loaded (the
 * next call loads it: acquire).  The call that asked gets the start's
 * time added to its deadline, as when a call starts a container itself;
 * a call that only happens to be first does not (it waited for others). */
static void scale_done(struct ctr *c, const struct err *e, double start_ms)
{
	struct fnpool *fp = c->fp;
	struct call *cl = c->claimant, *next;
	double now = mono_ms_f();

	if (cl != NULL) {
		cl->claim = NULL;
		c->claimant = NULL;
		pthread_cond_signal(&cl->cv); /* its deadline may have passed */
	}
	if (e != NULL || c->state != CTR_CREATING) {
		/* failed, or drained meanwhile: the queue stays for the rest */
		if (e != NULL)
			log_warnx("scaling up %s: %s", fp->name, err_msg(e));
		pool_ctr_set_state(c, CTR_DEAD);
		wake_starved();
		return;
	}
	c->bg_start_ms = start_ms;
	next = cl != NULL && cl->queued ? cl : fp->qhead;
	if (next == NULL) {
		pool_ctr_set_state(c, CTR_IDLE);
		return;
	}
	q_remove(fp, next);
	pool_ctr_set_state(c, CTR_LOADING);
	if (next == cl) {
		double waited =
		    now - (cl->arrive_ms > c->created_ms ? cl->arrive_ms : c->created_ms);
		cl->deadline_ms += (long long)ceil(waited);
		cl->init_spent_ms += waited;
	}
	next->ctr = c;
	next->cold = 1;
	next->cold_reason = "scale_up";
	next->wait = CALL_LEAD;
	pthread_cond_signal(&next->cv);
}

static void *scale_main(void *arg)
{
	struct scale_job *j = arg;
	struct ctr *c = j->c;
	struct err *e = NULL;
	double t0 = mono_ms_f();
	int ok = batch_start_container(c, P.cfg, &j->fn, &e) == 0 &&
	         batch_ping(c, mono_ms() + P.cfg->start_timeout_ms, &e) == 0;

	pool_lock();
	scale_done(c, ok ? NULL : e, mono_ms_f() - t0);
	pool_unlock();
	err_free(&e);
	free((char *)j->fn.code_dir);
	free(j);
	return NULL;
}

/* Lock held: c (CREATING, just made for call's pool) starts in the
 * background; call becomes its claimant unless it has one.  -1: no
 * thread, the call starts it itself. */
static int scale_in_background(struct ctr *c, struct call *call)
{
	struct scale_job *j = xcalloc(1, sizeof(*j));
	pthread_t t;

	j->c = c;
	j->fn.id = call->fn.id;
	j->fn.version = call->fn.version;
	j->fn.code_dir = xstrdup(call->fn.code_dir);
	if (pthread_create(&t, NULL, scale_main, j) != 0) {
		free((char *)j->fn.code_dir);
		free(j);
		return -1;
	}
	pthread_detach(t);
	if (call->claim == NULL) {
		call->claim = c;
		c->claimant = call;
	}
	return 0;
}

void pool_invoke(struct call *c)
{
	struct fnpool *fp;

	pool_lock();
	P.inflight++;
	P.calls_total++;
	fp = fp_get(c);
	fp->calls++;
	for (;;) {
		struct ctr *ctr;

		if (P.shutting) {
			call_fail(c, "internal", "executor shutting down");
			break;
		}
		if (mono_ms() >= c->deadline_ms) {
			call_timeout_queued(c);
			break;
		}
		c->wait = CALL_WAITING;
		ctr = acquire(fp, c);
		/* a pool with other live containers scales up in the background
		 * (unless the call could not queue) */
		if (ctr != NULL && ctr->state == CTR_CREATING && fp->nlive > 1 &&
		    P.queued < P.cfg->queue_max && scale_in_background(ctr, c) == 0)
			ctr = NULL;
		if (ctr == NULL) {
			if (P.queued >= P.cfg->queue_max) {
				call_fail(c, "too_many_requests",
				          "too many requests: %d calls queued (limit %ld)",
				          P.queued, P.cfg->queue_max);
				c->retry_after = 1;
				break;
			}
			q_push(fp, c, c->attempts > 0);
			wait_turn(fp, c);
			if (c->wait == CALL_DONE)
				break;
			if (c->wait == CALL_RETRY)
				continue;
			ctr = c->ctr; /* CALL_LEAD */
		}
		c->ctr = ctr;
		c->wait = CALL_LEAD;
		batch_lead(c, ctr, P.cfg); /* unlocks while it works */
		if (c->wait == CALL_DONE)
			break;
		c->attempts++;
	}
	if (c->claim != NULL) { /* served elsewhere: its start goes to the queue */
		c->claim->claimant = NULL;
		c->claim = NULL;
	}
	P.inflight--;
	pthread_cond_broadcast(&P.quiet_cv);
	pool_unlock();
}

int pool_drain_function(long function_id)
{
	int n = 0;

	pool_lock();
	for (struct ctr *c = P.ctrs; c != NULL; c = c->next) {
		if (c->fp == NULL || c->fp->id != function_id || c->state == CTR_DEAD)
			continue;
		n++;
		if (c->state == CTR_IDLE)
			pool_ctr_set_state(c, CTR_DEAD);
		else if (c->state != CTR_DRAINING)
			pool_ctr_set_state(c, CTR_DRAINING);
	}
	pool_unlock();
	return n;
}

int pool_count(void)
{
	int n;

	pool_lock();
	n = P.nlive;
	pool_unlock();
	return n;
}

/* ------------------------------------------------------------------ */
/* cgroup (v1) figures                                                 */
/* ------------------------------------------------------------------ */

static char *cg_path(const struct ctr *c, const char *ctl, const char *file)
{
	return xasprintf("%s/%s/docker/%s/%s", P.cfg->cgroup_root, ctl, c->id, file);
}

static void cg_close(struct ctr *c)
{
	if (c->cg_mem_fd >= 0)
		close(c->cg_mem_fd);
	if (c->cg_cpu_fd >= 0)
		close(c->cg_cpu_fd);
	c->cg_mem_fd = c->cg_cpu_fd = -1;
	c->cg_opened = 0;
}

/* Twice per batch: the files stay open (pread at 0 makes the kernel format
 * them anew), which saves an open and a close, each a path walk in kernfs,
 * per read. */
void pool_cgroup_sample(struct ctr *c, long long *mem_peak, long long *cpu_ns, int reset_peak)
{
	*mem_peak = *cpu_ns = -1;
	if (c->id == NULL)
		return;
	if (!c->cg_opened) {
		_cleanup_free_ char *mem = cg_path(c, "memory", "memory.max_usage_in_bytes");
		_cleanup_free_ char *cpu = cg_path(c, "cpuacct", "cpuacct.usage");
		c->cg_mem_fd = open(mem, O_RDWR | O_CLOEXEC);
		c->cg_cpu_fd = open(cpu, O_RDONLY | O_CLOEXEC);
		c->cg_opened = 1;
	}
	*mem_peak = cgfile_pread_ll(c->cg_mem_fd, NULL);
	if (reset_peak && *mem_peak >= 0 && pwrite(c->cg_mem_fd, "0", 1, 0) < 0)
		log_debug("cannot reset memory.max_usage_in_bytes of %s", c->short_id);
	*cpu_ns = cgfile_pread_ll(c->cg_cpu_fd, NULL);
}

void pool_cgroup_peek(const struct ctr *c, long long *mem_peak, long long *cpu_ns)
{
	char path[512];

	*mem_peak = *cpu_ns = -1;
	if (c->id == NULL)
		return;
	snprintf(path, sizeof(path), "%s/memory/docker/%s/memory.max_usage_in_bytes",
	         P.cfg->cgroup_root, c->id);
	*mem_peak = cgfile_read_ll(path, NULL);
	snprintf(path, sizeof(path), "%s/cpuacct/docker/%s/cpuacct.usage", P.cfg->cgroup_root,
	         c->id);
	*cpu_ns = cgfile_read_ll(path, NULL);
}

static long long cgroup_mem_usage(const struct ctr *c)
{
	char path[512];

	if (c->id == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/memory/docker/%s/memory.usage_in_bytes",
	         P.cfg->cgroup_root, c->id);
	return cgfile_read_ll(path, NULL);
}

/* ------------------------------------------------------------------ */
/* Reaper: removals off the request path                               */
/* ------------------------------------------------------------------ */

static void *reaper_main(void *arg)
{
	(void)arg;
	pool_lock();
	for (;;) {
		struct reap *r;
		struct err *e = NULL;

		while (P.reap_head == NULL)
			pthread_cond_wait(&P.reap_cv, &P.lock);
		r = P.reap_head;
		P.reap_head = r->next;
		if (P.reap_head == NULL)
			P.reap_tail = NULL;
		pool_unlock();
		if (r->id != NULL && docker_remove(r->id, &e) < 0) {
			log_warnx("removing %.12s: %s", r->id, err_msg(e));
			err_free(&e);
		}
		/* after the container: its mount of the directory is gone */
		if (r->task_dir != NULL && taskdir_remove(r->task_dir, &e) < 0) {
			log_warnx("%s", err_msg(e));
			err_free(&e);
		}
		free(r->id);
		free(r->task_dir);
		free(r);
		pool_lock();
		P.reaping--;
		pthread_cond_broadcast(&P.quiet_cv);
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Pre-warming                                                         */
/* ------------------------------------------------------------------ */

struct prewarm_job {
	struct ctr *c;
};

static void *prewarm_main(void *arg)
{
	struct ctr *c = arg;
	struct err *e = NULL;
	double t0 = mono_ms_f();
	int ok = c->task_dir != NULL && batch_start_container(c, P.cfg, NULL, &e) == 0 &&
	         batch_ping(c, mono_ms() + P.cfg->start_timeout_ms, &e) == 0;

	pool_lock();
	P.prewarming = 0;
	if (ok)
		P.prewarm_start_ms[c->runtime][c->isolation] =
		    EWMA(P.prewarm_start_ms[c->runtime][c->isolation], mono_ms_f() - t0);
	if (!ok) {
		log_warnx("pre-warming a %s/%s container: %s", runtime_name(c->runtime),
		          isolation_name(c->isolation), err_msg(e));
		err_free(&e);
		P.prewarm_backoff_until[c->runtime][c->isolation] = mono_ms() + 30000;
		pool_ctr_set_state(c, CTR_DEAD);
	} else if (c->state == CTR_CREATING) {
		pool_ctr_set_state(c, CTR_IDLE);
		log_debug("pre-warmed %s (%s/%s)", c->short_id, runtime_name(c->runtime),
		          isolation_name(c->isolation));
		wake_starved();
	} else {
		pool_ctr_set_state(c, CTR_DEAD); /* drained meanwhile (shutdown) */
	}
	pool_unlock();
	return NULL;
}

/* Lock held: starts at most one generic container in the background. */
static void prewarm_step(void)
{
	int have[RT_COUNT][ISO_COUNT] = {{0}};
	struct err *e = NULL;

	if (P.cfg->prewarm_min == 0 || P.prewarming || P.shutting ||
	    P.starting >= P.cfg->max_starting)
		return;
	for (struct ctr *c = P.ctrs; c != NULL; c = c->next)
		if (c->fp == NULL && (c->state == CTR_IDLE || c->state == CTR_CREATING))
			have[c->runtime][c->isolation]++;
	for (int rt = 0; rt < RT_COUNT; rt++) {
		for (int iso = 0; iso < ISO_COUNT; iso++) {
			pthread_t t;
			struct ctr *c;

			if (have[rt][iso] >= P.cfg->prewarm_min ||
			    mono_ms() < P.prewarm_backoff_until[rt][iso])
				continue;
			if (make_room(P.cfg->prewarm_memory_mb, 0) < 0)
				return;
			c = ctr_new(NULL, rt, iso, P.cfg->prewarm_memory_mb);
			c->task_dir = taskdir_create(P.cfg->var_dir, ++P.task_seq, &e);
			if (c->task_dir == NULL) {
				log_warnx("pre-warming: %s", err_msg(e));
				err_free(&e);
				P.prewarm_backoff_until[rt][iso] = mono_ms() + 30000;
				pool_ctr_set_state(c, CTR_DEAD);
				return;
			}
			P.prewarming = 1;
			if (pthread_create(&t, NULL, prewarm_main, c) != 0) {
				P.prewarming = 0;
				pool_ctr_set_state(c, CTR_DEAD);
				return;
			}
			pthread_detach(t);
			return;
		}
	}
}

/* ------------------------------------------------------------------ */
/* Housekeeping                                                        */
/* ------------------------------------------------------------------ */

/* An idle container whose stream ended (killed from outside, dockerd
 * restarted): it must not be handed to a call. */
static int idle_exited(struct ctr *c)
{
	struct pollfd pfd = {.fd = c->ch.fd, .events = POLLIN};
	struct err *e = NULL;

	if (poll(&pfd, 1, 0) <= 0)
		return 0;
	if (chan_pump(&c->ch, &e) < 0) {
		err_free(&e);
		return 1;
	}
	return 0;
}

void pool_tick(void)
{
	double now = mono_ms_f();

	pool_lock();
	for (struct ctr *c = P.ctrs; c != NULL; c = c->next) {
		long ttl;
		if (c->state != CTR_IDLE)
			continue;
		if (c->has_chan && idle_exited(c)) {
			evict(c, "exited while idle");
			continue;
		}
		if (c->fp == NULL)
			continue;
		ttl = c->fp->keepalive_s > 0 ? c->fp->keepalive_s : P.cfg->keepalive_s;
		if (now - c->last_used_ms > (double)ttl * 1000.0)
			evict(c, "keep-alive expired");
	}
	sweep_dead();
	sample_host_idle();
	wake_starved();
	wake_start_waiters(); /* normally woken by the transition; once a second too */
	prewarm_step();
	pool_unlock();
}

/* ------------------------------------------------------------------ */
/* Replies                                                             */
/* ------------------------------------------------------------------ */

/* Lock held: one container of the POOLS reply. */
static cJSON *describe_ctr(const struct ctr *c, double now)
{
	cJSON *o = cJSON_CreateObject();
	long long peak, cpu, mem = cgroup_mem_usage(c);

	pool_cgroup_peek(c, &peak, &cpu);
	cJSON_AddStringToObject(o, "id", c->short_id);
	if (c->fp != NULL) {
		cJSON_AddNumberToObject(o, "function_id", (double)c->fp->id);
		cJSON_AddStringToObject(o, "function_name", c->fp->name);
		cJSON_AddNumberToObject(o, "version", c->fp->version);
	} else {
		cJSON_AddNullToObject(o, "function_id");
		cJSON_AddNullToObject(o, "function_name");
		cJSON_AddNullToObject(o, "version");
	}
	cJSON_AddStringToObject(o, "runtime", runtime_name(c->runtime));
	cJSON_AddStringToObject(o, "isolation", isolation_name(c->isolation));
	cJSON_AddStringToObject(o, "state", pool_state_name(c->state));
	cJSON_AddNumberToObject(o, "age_s", (double)(long long)((now - c->created_ms) / 1000));
	cJSON_AddNumberToObject(
	    o, "idle_s",
	    c->state == CTR_IDLE ? (double)(long long)((now - c->last_used_ms) / 1000) : 0);
	cJSON_AddNumberToObject(o, "calls", (double)c->calls);
	cJSON_AddNumberToObject(o, "memory_limit_mb", (double)c->memory_mb);
	if (mem >= 0)
		cJSON_AddNumberToObject(o, "memory_bytes", (double)mem);
	else
		cJSON_AddNullToObject(o, "memory_bytes");
	if (cpu >= 0)
		cJSON_AddNumberToObject(o, "cpu_ms", (double)(cpu / 1000000));
	else
		cJSON_AddNullToObject(o, "cpu_ms");
	return o;
}

cJSON *pool_describe(void)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(root, "containers");
	cJSON *pre = cJSON_AddArrayToObject(root, "prewarmed");
	cJSON *lim = cJSON_AddObjectToObject(root, "limits");
	int idle[RT_COUNT][ISO_COUNT] = {{0}};
	double now = mono_ms_f();

	pool_lock();
	for (struct ctr *c = P.ctrs; c != NULL; c = c->next) {
		if (c->state == CTR_DEAD)
			continue;
		if (c->fp == NULL && c->state == CTR_IDLE)
			idle[c->runtime][c->isolation]++;
		cJSON_AddItemToArray(arr, describe_ctr(c, now));
	}
	for (int rt = 0; rt < RT_COUNT; rt++) {
		for (int iso = 0; iso < ISO_COUNT; iso++) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "runtime", runtime_name(rt));
			cJSON_AddStringToObject(o, "isolation", isolation_name(iso));
			cJSON_AddNumberToObject(o, "idle", idle[rt][iso]);
			cJSON_AddNumberToObject(o, "target", (double)P.cfg->prewarm_min);
			cJSON_AddItemToArray(pre, o);
		}
	}
	cJSON_AddNumberToObject(lim, "max_containers", (double)P.cfg->max_containers);
	cJSON_AddNumberToObject(lim, "max_memory_mb", (double)P.cfg->max_memory_mb);
	cJSON_AddNumberToObject(lim, "queue_max", (double)P.cfg->queue_max);
	cJSON_AddNumberToObject(lim, "batch_max", (double)P.cfg->batch_max);
	cJSON_AddNumberToObject(lim, "batch_wait_ms", (double)P.cfg->batch_wait_ms);
	cJSON_AddNumberToObject(lim, "batch_wait_busy_ms", (double)P.cfg->batch_wait_busy_ms);
	cJSON_AddNumberToObject(lim, "keepalive_s", (double)P.cfg->keepalive_s);
	cJSON_AddNumberToObject(lim, "prewarm_min", (double)P.cfg->prewarm_min);
	cJSON_AddNumberToObject(lim, "max_starting", (double)P.cfg->max_starting);
	cJSON_AddNumberToObject(root, "queued", P.queued);
	cJSON_AddNumberToObject(root, "starting", P.starting);
	cJSON_AddNumberToObject(root, "memory_mb", (double)P.mem_mb);
	cJSON_AddNumberToObject(root, "host_idle", P.host_idle); /* for the scale-up rule */
	pool_unlock();
	return root;
}

cJSON *pool_stats(void)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(root, "by_function");
	long long total_mem = 0;

	pool_lock();
	for (struct ctr *c = P.ctrs; c != NULL; c = c->next) {
		long long m = c->state == CTR_DEAD ? -1 : cgroup_mem_usage(c);
		if (m > 0)
			total_mem += m;
	}
	for (struct fnpool *fp = P.fps; fp != NULL; fp = fp->next) {
		cJSON *o;
		if (fp->nlive == 0 && fp->nqueued == 0)
			continue;
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "function_id", (double)fp->id);
		cJSON_AddStringToObject(o, "function_name", fp->name);
		cJSON_AddNumberToObject(o, "version", fp->version);
		cJSON_AddStringToObject(o, "isolation", isolation_name(fp->isolation));
		cJSON_AddNumberToObject(o, "containers", fp->nlive);
		cJSON_AddNumberToObject(o, "queued", fp->nqueued);
		cJSON_AddNumberToObject(o, "calls", (double)fp->calls);
		cJSON_AddItemToArray(arr, o);
	}
	cJSON_AddNumberToObject(root, "containers", P.nlive);
	cJSON_AddNumberToObject(root, "memory_bytes", (double)total_mem);
	cJSON_AddNumberToObject(root, "memory_limit_mb", (double)P.mem_mb);
	cJSON_AddNumberToObject(root, "queued", P.queued);
	cJSON_AddNumberToObject(root, "inflight", P.inflight);
	cJSON_AddNumberToObject(root, "calls_total", (double)P.calls_total);
	pool_unlock();
	return root;
}

/* ------------------------------------------------------------------ */
/* Start-up and shutdown                                               */
/* ------------------------------------------------------------------ */

int pool_remove_orphans(struct err **e)
{
	char **ids = NULL;
	size_t n = 0;
	int removed = 0;

	if (docker_list_by_label("lambda.instance", P.cfg->instance, &ids, &n, e) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct err *e2 = NULL;
		if (docker_remove(ids[i], &e2) < 0) {
			log_warnx("orphan %.12s: %s", ids[i], err_msg(e2));
			err_free(&e2);
		} else {
			removed++;
		}
		free(ids[i]);
	}
	free(ids);
	return removed;
}

/* Lock held: whether id is one of ours (in the table or being removed). */
static int known_id(const char *id)
{
	for (struct ctr *c = P.ctrs; c != NULL; c = c->next)
		if (c->id != NULL && strcmp(c->id, id) == 0)
			return 1;
	for (struct reap *r = P.reap_head; r != NULL; r = r->next)
		if (strcmp(r->id, id) == 0)
			return 1;
	return 0;
}

/* Lock held: a container is being created and its id is not known yet. */
static int creating_unnamed(void)
{
	for (struct ctr *c = P.ctrs; c != NULL; c = c->next)
		if (c->state == CTR_CREATING && c->id == NULL)
			return 1;
	return 0;
}

int pool_sweep_strays(struct err **e)
{
	char **ids = NULL;
	size_t n = 0;
	int removed = 0, busy;

	if (docker_list_by_label("lambda.instance", P.cfg->instance, &ids, &n, e) < 0)
		return -1;
	pool_lock();
	/* A container listed above whose record has no id yet is being
	 * created right now: then nothing is swept this time. */
	busy = creating_unnamed() || P.shutting;
	for (size_t i = 0; i < n; i++) {
		if (!busy && !known_id(ids[i])) {
			reap_push(ids[i], NULL);
			removed++;
		}
		free(ids[i]);
	}
	pool_unlock();
	free(ids);
	if (removed > 0)
		log_info("removing %d stray containers", removed);
	return removed;
}

int pool_init(const struct xconfig *cfg, struct err **e)
{
	pthread_t t;

	P.cfg = cfg;
	/* pre-warm directories of a previous run: its containers are orphans */
	if (taskdir_sweep(cfg->var_dir, e) < 0)
		return -1;
	if (pthread_create(&t, NULL, reaper_main, NULL) != 0)
		return err_setsys(e, ERR_INTERNAL, "pthread_create");
	pthread_detach(t);
	return 0;
}

static void wait_quiet(long long deadline, int what_reaping)
{
	while (what_reaping ? P.reaping > 0 : P.inflight > 0) {
		long long left = deadline - mono_ms();
		struct timespec ts;
		if (left <= 0)
			return;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&P.quiet_cv, &P.lock, &ts);
	}
}

void pool_shutdown(long grace_ms)
{
	struct err *e = NULL;

	pool_lock();
	P.shutting = 1;
	for (struct fnpool *fp = P.fps; fp != NULL; fp = fp->next) {
		struct call *c;
		while ((c = q_pop(fp)) != NULL) {
			call_fail(c, "internal", "executor shutting down");
			c->wait = CALL_DONE;
			pthread_cond_signal(&c->cv);
		}
	}
	wait_quiet(mono_ms() + grace_ms, 0);
	if (P.inflight > 0)
		log_warnx("%d calls still running after %ld ms: their containers go now",
		          P.inflight, grace_ms);
	for (struct ctr *c = P.ctrs; c != NULL; c = c->next) {
		if (c->state == CTR_IDLE || c->state == CTR_DRAINING)
			pool_ctr_set_state(c, CTR_DEAD);
		else if (c->state != CTR_DEAD)
			pool_ctr_set_state(c, CTR_DRAINING);
	}
	wait_quiet(mono_ms() + 30000, 1);
	pool_unlock();
	/* whatever is left (busy past the grace, being created): by label */
	if (pool_remove_orphans(&e) < 0) {
		log_warnx("final cleanup: %s", err_msg(e));
		err_free(&e);
	} else if (taskdir_sweep(P.cfg->var_dir, &e) < 0) {
		log_warnx("final cleanup: %s", err_msg(e));
		err_free(&e);
	}
}
