/* executor/pool.c without docker: the state machine's transitions and their
 * bookkeeping, capacity and LRU eviction order, the choice of container and
 * the cold reason, keep-alive expiry, the concurrency cap, a full queue. */
#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../executor/pool.c"

static struct xconfig cfg;

static int setup(void **state)
{
	(void)state;
	memset(&P.ctrs, 0, sizeof(P) - offsetof(__typeof__(P), ctrs));
	xconfig_defaults(&cfg);
	cfg.prewarm_min = 0;
	P.cfg = &cfg;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (struct ctr *c = P.ctrs; c != NULL; c = c->next)
		if (c->state != CTR_DEAD)
			pool_ctr_set_state(c, CTR_DEAD);
	sweep_dead();
	while (P.fps != NULL) {
		struct fnpool *fp = P.fps;
		P.fps = fp->next;
		free(fp->name);
		free(fp);
	}
	while (P.reap_head != NULL) {
		struct reap *r = P.reap_head;
		P.reap_head = r->next;
		free(r->id);
		free(r->task_dir);
		free(r);
	}
	P.reap_tail = NULL;
	xconfig_free(&cfg);
	return 0;
}

static struct call *mkcall(long id, int version, long memory_mb)
{
	struct call *c = xcalloc(1, sizeof(*c));

	c->fn.id = id;
	c->fn.version = version;
	c->fn.name = "f";
	c->fn.runtime = RT_PYTHON;
	c->fn.memory_mb = memory_mb;
	c->fn.timeout_ms = 1000;
	c->isolation = ISO_DOCKER;
	c->request_id = "r";
	{
		pthread_condattr_t ca;
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&c->cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	logcap_init(&c->stderr_cap, 1024);
	return c;
}

/* An idle warm container of fp, used last at `used`. */
static struct ctr *warm(struct fnpool *fp, double used)
{
	struct ctr *c = ctr_new(fp, RT_PYTHON, ISO_DOCKER, 128);

	c->inited = 1;
	assert_int_equal(pool_ctr_set_state(c, CTR_LOADING), 0);
	assert_int_equal(pool_ctr_set_state(c, CTR_BUSY), 0);
	assert_int_equal(pool_ctr_set_state(c, CTR_IDLE), 0);
	c->last_used_ms = used;
	return c;
}

static void test_transitions(void **state)
{
	struct call *call = mkcall(1, 1, 128);
	struct fnpool *fp = fp_get(call);
	struct ctr *c = ctr_new(fp, RT_PYTHON, ISO_DOCKER, 128);

	(void)state;
	assert_int_equal(c->state, CTR_CREATING);
	assert_int_equal(fp->ncreating, 1);
	assert_int_equal(fp->nlive, 1);
	assert_int_equal(P.nlive, 1);
	assert_int_equal(P.mem_mb, 128);
	/* refused: nothing changes */
	assert_int_equal(pool_ctr_set_state(c, CTR_BUSY), -1);
	assert_int_equal(c->state, CTR_CREATING);
	assert_int_equal(pool_ctr_set_state(c, CTR_LOADING), 0);
	assert_int_equal(fp->ncreating, 0);
	assert_int_equal(pool_ctr_set_state(c, CTR_IDLE), -1); /* LOADING -> IDLE: no */
	assert_int_equal(pool_ctr_set_state(c, CTR_BUSY), 0);
	assert_int_equal(pool_ctr_set_state(c, CTR_CREATING), -1);
	assert_int_equal(pool_ctr_set_state(c, CTR_IDLE), 0);
	assert_int_equal(pool_ctr_set_state(c, CTR_DRAINING), -1); /* idle ones die at once */
	assert_int_equal(pool_ctr_set_state(c, CTR_BUSY), 0);
	assert_int_equal(pool_ctr_set_state(c, CTR_DRAINING), 0);
	assert_int_equal(fp->nlive, 0); /* draining: no longer counts for its function */
	assert_int_equal(P.nlive, 1);   /* ... but still holds capacity */
	assert_int_equal(pool_ctr_set_state(c, CTR_BUSY), -1); /* a drained one never serves */
	assert_int_equal(pool_ctr_set_state(c, CTR_IDLE), -1);
	assert_int_equal(pool_ctr_set_state(c, CTR_DEAD), 0);
	assert_int_equal(P.nlive, 0);
	assert_int_equal(P.mem_mb, 0);
	for (int s = 0; s < CTR_NSTATES; s++)
		if (s != CTR_DEAD)
			assert_int_equal(pool_ctr_set_state(c, (enum ctr_state)s), -1);
	call_free(call);
}

static void test_lru_eviction_order(void **state)
{
	struct call *a = mkcall(1, 1, 128), *b = mkcall(2, 1, 128), *n = mkcall(3, 1, 128);
	struct fnpool *fa = fp_get(a), *fb = fp_get(b);
	struct ctr *c1 = warm(fa, 300), *c2 = warm(fb, 100), *c3 = warm(fa, 200);
	struct ctr *got;

	(void)state;
	cfg.max_containers = 3;
	assert_ptr_equal(lru_victim(), c2);
	/* a third function needs room: the least recently used goes first */
	got = acquire(fp_get(n), n);
	assert_non_null(got);
	assert_int_equal(c2->state, CTR_DEAD);
	assert_int_equal(c1->state, CTR_IDLE);
	assert_int_equal(c3->state, CTR_IDLE);
	assert_true(fb->evicted);
	assert_string_equal(n->cold_reason, "no_pool");
	/* and the next one: c3 (200) before c1 (300) */
	assert_ptr_equal(lru_victim(), c3);
	/* memory cap: 3 x 128 used, cap 300 -> no room without eviction */
	cfg.max_containers = 64;
	cfg.max_memory_mb = 300;
	assert_int_equal(make_room(128, 0), -1);
	assert_int_equal(make_room(128, 1), 0);
	assert_int_equal(c3->state, CTR_DEAD);
	assert_int_equal(c1->state, CTR_DEAD);
	/* busy containers are never evicted */
	got->inited = 1;
	assert_int_equal(make_room(300, 1), -1);
	/* a function whose containers were evicted says so */
	assert_null(find_idle(fb));
	cfg.max_memory_mb = 200;
	assert_null(acquire(fb, b)); /* no room */
	cfg.max_memory_mb = 16384;
	assert_non_null(acquire(fb, b));
	assert_string_equal(b->cold_reason, "evicted");
	call_free(a);
	call_free(b);
	call_free(n);
}

static void test_acquire_warm_mru_and_scale(void **state)
{
	struct call *a = mkcall(1, 1, 128);
	struct fnpool *fp = fp_get(a);
	struct ctr *old = warm(fp, 100), *recent = warm(fp, 200), *got;

	(void)state;
	got = acquire(fp, a);
	assert_ptr_equal(got, recent); /* most recently used: warmest caches */
	assert_int_equal(got->state, CTR_BUSY);
	assert_false(a->cold);
	got = acquire(fp, a);
	assert_ptr_equal(got, old);
	got = acquire(fp, a); /* all busy: scale up */
	assert_non_null(got);
	assert_int_equal(got->state, CTR_CREATING);
	assert_true(a->cold);
	assert_string_equal(a->cold_reason, "scale_up");
	/* one start at a time per function while its queue is short */
	assert_null(acquire(fp, a));
	/* the per-function concurrency cap */
	fp->ncreating = 0;
	fp->concurrency = 3;
	assert_null(acquire(fp, a));
	fp->concurrency = 4;
	assert_non_null(acquire(fp, a));
	call_free(a);
}

static void test_versions_never_mix(void **state)
{
	struct call *v1 = mkcall(7, 1, 128), *v2 = mkcall(7, 2, 128), *other = mkcall(8, 1, 128);
	struct fnpool *f1 = fp_get(v1);
	struct ctr *c1 = warm(f1, 100), *busy = warm(f1, 100), *got;
	struct fnpool *f2, *fo;

	(void)state;
	assert_int_equal(pool_ctr_set_state(busy, CTR_BUSY), 0);
	fo = fp_get(other);
	got = acquire(fo, other); /* function 8 never gets function 7's idle container */
	assert_ptr_not_equal(got, c1);
	f2 = fp_get(v2); /* version 2 appears: version 1 retires */
	assert_true(f1->retired);
	assert_int_equal(c1->state, CTR_DEAD);
	assert_int_equal(busy->state, CTR_DRAINING);
	got = acquire(f2, v2);
	assert_non_null(got);
	assert_ptr_not_equal(got, busy);
	assert_string_equal(v2->cold_reason, "new_version");
	/* the drained one dies when its call gives it back */
	pool_release(busy, 1);
	assert_int_equal(busy->state, CTR_DEAD);
	call_free(v1);
	call_free(v2);
	call_free(other);
}

static void test_prewarmed_generic(void **state)
{
	struct call *a = mkcall(1, 1, 128), *big = mkcall(2, 1, 256);
	struct fnpool *fp = fp_get(a), *fbig = fp_get(big);
	struct ctr *g = ctr_new(NULL, RT_PYTHON, ISO_DOCKER, 128), *got;

	(void)state;
	g->task_dir = xstrdup("/nonexistent/prewarm/1");
	assert_int_equal(pool_ctr_set_state(g, CTR_IDLE), 0);
	got = acquire(fbig, big); /* memory differs: not the generic one */
	assert_ptr_not_equal(got, g);
	got = acquire(fp, a);
	assert_ptr_equal(got, g);
	assert_ptr_equal(g->fp, fp);
	assert_int_equal(g->state, CTR_LOADING);
	assert_string_equal(a->cold_reason, "prewarmed");
	assert_int_equal(fp->nlive, 1);
	/* its directory goes with it, after the container (never created here) */
	assert_int_equal(pool_ctr_set_state(g, CTR_DEAD), 0);
	assert_non_null(P.reap_tail);
	assert_null(P.reap_tail->id);
	assert_string_equal(P.reap_tail->task_dir, "/nonexistent/prewarm/1");
	assert_null(g->task_dir);
	call_free(a);
	call_free(big);
}

static void test_keepalive_expiry(void **state)
{
	struct call *a = mkcall(1, 1, 128), *b = mkcall(2, 1, 128);
	struct fnpool *fa = fp_get(a), *fb;
	struct ctr *stale = warm(fa, mono_ms_f() - 5000), *fresh;

	(void)state;
	b->fn.keepalive_s = 10; /* per-function override */
	fb = fp_get(b);
	fresh = warm(fb, mono_ms_f() - 5000);
	cfg.keepalive_s = 4;
	pool_tick(); /* takes the lock itself */
	assert_int_equal(fa->nlive, 0);
	assert_true(fa->evicted);
	assert_int_equal(fresh->state, CTR_IDLE);
	(void)stale; /* freed by the sweep */
	call_free(a);
	call_free(b);
}

static void test_queue_full(void **state)
{
	struct call *a = mkcall(1, 1, 128);
	struct fnpool *fp = fp_get(a);

	(void)state;
	cfg.queue_max = 0;
	fp->concurrency = 1;
	a->fn.concurrency = 1;
	{
		struct ctr *c = warm(fp, 1);
		pool_ctr_set_state(c, CTR_BUSY);
	}
	a->deadline_ms = mono_ms() + 1000;
	pool_invoke(a);
	assert_null(a->result);
	assert_string_equal(a->err_code, "too_many_requests");
	assert_int_equal(a->retry_after, 1);
	assert_int_equal(P.inflight, 0);
	call_free(a);
}

static void test_queue_timeout(void **state)
{
	struct call *a = mkcall(1, 1, 128);
	struct fnpool *fp = fp_get(a);
	const cJSON *err;
	double t0 = mono_ms_f();

	(void)state;
	a->fn.concurrency = 1;
	{
		struct ctr *c = warm(fp, 1);
		pool_ctr_set_state(c, CTR_BUSY);
	}
	a->arrive_ms = t0;
	a->deadline_ms = (long long)t0 + 200;
	a->fn.timeout_ms = 200;
	pool_invoke(a); /* waits in the queue: queue time counts against the timeout */
	assert_true(mono_ms_f() - t0 >= 190);
	assert_non_null(a->result);
	assert_string_equal(cJSON_GetObjectItem(a->result, "status")->valuestring, "timeout");
	err = cJSON_GetObjectItem(a->result, "error");
	assert_string_equal(cJSON_GetObjectItem(err, "errorMessage")->valuestring,
	                    "Task timed out after 0.20 seconds");
	assert_int_equal(P.queued, 0);
	call_free(a);
}

/* executor.max_starting: containers in CREATING or LOADING, over every
 * function, pre-warmed ones taken included; a freed slot wakes a waiter. */
static void test_max_starting(void **state)
{
	struct call *a = mkcall(1, 1, 128), *b = mkcall(2, 1, 128), *c = mkcall(3, 1, 128);
	struct call *w = mkcall(3, 1, 128);
	struct fnpool *fa = fp_get(a), *fb = fp_get(b), *fc = fp_get(c);
	struct ctr *ca, *cb, *g;

	(void)state;
	cfg.max_starting = 2;
	cfg.batch_max = 1; /* batching off: the burst of issue 4 */
	ca = acquire(fa, a);
	cb = acquire(fb, b);
	assert_non_null(ca);
	assert_non_null(cb);
	assert_int_equal(P.starting, 2);
	assert_null(acquire(fc, c));                   /* the third start waits */
	g = ctr_new(NULL, RT_PYTHON, ISO_DOCKER, 128); /* a pre-warmed one comes up */
	assert_int_equal(pool_ctr_set_state(g, CTR_IDLE), 0);
	assert_int_equal(P.starting, 2);
	assert_null(acquire(fc, c)); /* loading code into it is a start too */
	cfg.prewarm_min = 1;         /* the other runtimes/isolations have none idle */
	prewarm_step();              /* and the background pre-warmer waits as well */
	cfg.prewarm_min = 0;
	assert_int_equal(P.starting, 2);
	assert_int_equal(P.prewarming, 0);
	/* a call of function 3 waits in its queue */
	w->wait = CALL_WAITING;
	q_push(fc, w, 0);
	assert_int_equal(pool_ctr_set_state(ca, CTR_LOADING), 0); /* still starting */
	assert_int_equal(P.starting, 2);
	assert_int_equal(w->wait, CALL_WAITING);
	assert_int_equal(pool_ctr_set_state(ca, CTR_BUSY), 0); /* code loaded: a slot frees */
	assert_int_equal(P.starting, 1);
	assert_int_equal(w->wait, CALL_RETRY); /* woken to try again */
	assert_int_equal(fc->nqueued, 0);
	assert_ptr_equal(acquire(fc, w), g); /* and takes the pre-warmed one */
	assert_int_equal(P.starting, 2);
	assert_null(acquire(fa, a));
	assert_int_equal(pool_ctr_set_state(cb, CTR_DEAD), 0); /* a failed start frees too */
	assert_int_equal(P.starting, 1);
	assert_non_null(acquire(fa, a));
	assert_int_equal(P.starting, 2);
	call_free(a);
	call_free(b);
	call_free(c);
	call_free(w);
}

/* Scale-up estimate: a busy pool of a fast function queues instead of
 * starting, until the expected wait reaches a start's time; a container
 * stuck in a long batch does not count as warm; a pool without measures
 * scales as before; idle CPUs let it scale only after a whole sample of
 * the pool being full. */
static void test_scale_estimate(void **state)
{
	struct call *a = mkcall(1, 1, 128), *b = mkcall(1, 1, 128);
	struct fnpool *fp = fp_get(a);
	struct ctr *w1 = warm(fp, 1), *got;
	struct call *q[40];
	int nq = 0;

	(void)state;
	cfg.batch_max = 1;
	assert_int_equal(pool_ctr_set_state(w1, CTR_BUSY), 0);
	w1->busy_since_ms = mono_ms_f();
	/* no measures yet: a start */
	got = acquire(fp, a);
	assert_non_null(got);
	assert_string_equal(a->cold_reason, "scale_up");
	assert_int_equal(pool_ctr_set_state(got, CTR_DEAD), 0);
	/* 1 ms a call, 300 ms a start: 1 warm container serves the queue */
	pool_note_batch(w1, 1, 1.0);
	pool_note_start(w1, 300.0);
	assert_true(fp->item_ms > 0.99 && fp->item_ms < 1.01);
	assert_null(acquire(fp, b));
	/* with 299 ahead of it the wait (300 ms) is a start's: scale up */
	while (nq < 40) {
		q[nq] = mkcall(1, 1, 128);
		q[nq]->wait = CALL_WAITING;
		q_push(fp, q[nq++], 0);
	}
	assert_null(acquire(fp, b));  /* 41 ms */
	pool_note_batch(w1, 1, 41.0); /* calls got slower: avg 9 ms */
	got = acquire(fp, b);         /* 41 x 9 ms >= 300 ms */
	assert_non_null(got);
	assert_int_equal(pool_ctr_set_state(got, CTR_DEAD), 0);
	while (nq > 0) {
		q_remove(fp, q[--nq]);
		call_free(q[nq]);
	}
	/* fast again, empty queue, but the only warm container has been busy
	 * for longer than a start: it does not count, so a start */
	for (int i = 0; i < 20; i++)
		pool_note_batch(w1, 1, 1.0);
	assert_null(acquire(fp, b));
	/* idle CPUs count only if the pool was full through the whole sample:
	 * not when the sample began before (a burst reading a pause) ... */
	assert_true(fp->full_since_ms > 0);
	P.host_idle = 0.5;
	P.idle_from_ms = fp->full_since_ms - 1;
	assert_null(acquire(fp, b));
	/* ... but then the estimate does not hold a start back */
	P.idle_from_ms = fp->full_since_ms;
	got = acquire(fp, b);
	assert_non_null(got);
	assert_int_equal(pool_ctr_set_state(got, CTR_DEAD), 0);
	P.host_idle = 0;
	assert_null(acquire(fp, b));
	/* a container going idle ends the full spell */
	assert_int_equal(pool_ctr_set_state(w1, CTR_IDLE), 0);
	assert_true(fp->full_since_ms == 0);
	assert_int_equal(pool_ctr_set_state(w1, CTR_BUSY), 0);
	w1->busy_since_ms = mono_ms_f() - 400;
	assert_non_null(acquire(fp, b));
	call_free(a);
	call_free(b);
}

/* A container of fp being started in the background at call's request. */
static struct ctr *claimed_start(struct fnpool *fp, struct call *call)
{
	struct ctr *c = ctr_new(fp, RT_PYTHON, ISO_DOCKER, 128);

	c->claimant = call;
	call->claim = c;
	return c;
}

/* Background scale-up (scale_done): the new container goes to the call
 * that asked for it while that call waits, with the start added to its
 * deadline; else to the first queued call, with nothing added; else it
 * idles without code and the next call loads it (cold, scale_up).  A
 * failed or drained start leaves the queue as it was. */
static void test_scale_background(void **state)
{
	struct call *a = mkcall(1, 1, 128), *b = mkcall(1, 1, 128), *d = mkcall(1, 1, 128);
	struct fnpool *fp = fp_get(a);
	struct ctr *w = warm(fp, 1), *c;
	struct err *e = NULL;
	long long dl;

	(void)state;
	cfg.batch_max = 1;
	assert_int_equal(pool_ctr_set_state(w, CTR_BUSY), 0);
	/* the claimant, queued behind b, gets it */
	c = claimed_start(fp, a);
	a->wait = b->wait = CALL_WAITING;
	q_push(fp, b, 0);
	q_push(fp, a, 0);
	a->arrive_ms = mono_ms_f() - 500;
	c->created_ms = mono_ms_f() - 400;
	dl = a->deadline_ms = mono_ms() + 100;
	scale_done(c, NULL, 400.0);
	assert_int_equal(a->wait, CALL_LEAD);
	assert_ptr_equal(a->ctr, c);
	assert_int_equal(c->state, CTR_LOADING);
	assert_true(a->cold);
	assert_string_equal(a->cold_reason, "scale_up");
	assert_null(a->claim);
	assert_null(c->claimant);
	assert_true(a->deadline_ms >= dl + 399 && a->deadline_ms <= dl + 450);
	assert_int_equal(b->wait, CALL_WAITING);
	assert_int_equal(fp->nqueued, 1);
	pool_note_start(c, 50.0); /* the code load plus the start */
	assert_true(fp->cold_ms > 449 && fp->cold_ms < 451);
	/* the claimant was served elsewhere: the first queued call, b */
	c = claimed_start(fp, d);
	dl = b->deadline_ms = mono_ms() + 1000;
	scale_done(c, NULL, 300.0);
	assert_int_equal(b->wait, CALL_LEAD);
	assert_ptr_equal(b->ctr, c);
	assert_int_equal(b->deadline_ms, dl);
	assert_null(d->claim);
	assert_int_equal(fp->nqueued, 0);
	/* nobody waits: it idles without code; a warm idle one goes first
	 * even if used before it came up, then the next call loads it */
	c = ctr_new(fp, RT_PYTHON, ISO_DOCKER, 128);
	scale_done(c, NULL, 300.0);
	assert_int_equal(c->state, CTR_IDLE);
	assert_int_equal(pool_ctr_set_state(w, CTR_IDLE), 0);
	w->last_used_ms = c->last_used_ms - 1;
	assert_ptr_equal(acquire(fp, d), w);
	assert_false(d->cold);
	assert_ptr_equal(acquire(fp, d), c);
	assert_int_equal(c->state, CTR_LOADING);
	assert_true(d->cold);
	assert_string_equal(d->cold_reason, "scale_up");
	/* failed: the claimant's claim is gone; the queue's first call retries
	 * (wake_starved: it may start one itself, or time out) */
	c = claimed_start(fp, d);
	d->wait = CALL_WAITING;
	q_push(fp, d, 0);
	err_set(&e, ERR_TIMEOUT, "no pong");
	scale_done(c, e, 300.0);
	err_free(&e);
	assert_int_equal(c->state, CTR_DEAD);
	assert_null(d->claim);
	assert_int_equal(d->wait, CALL_RETRY);
	assert_int_equal(fp->nqueued, 0);
	/* drained while starting: removed, nobody is handed it */
	d->wait = CALL_WAITING;
	d->ctr = NULL;
	q_push(fp, d, 0);
	c = ctr_new(fp, RT_PYTHON, ISO_DOCKER, 128);
	assert_int_equal(pool_ctr_set_state(c, CTR_DRAINING), 0);
	scale_done(c, NULL, 300.0);
	assert_int_equal(c->state, CTR_DEAD);
	assert_int_not_equal(d->wait, CALL_LEAD);
	assert_null(d->ctr);
	q_remove(fp, d);
	call_free(a);
	call_free(b);
	call_free(d);
}

struct later {
	struct ctr *c;
	int fail;
};

static void *finish_later(void *arg)
{
	struct later *l = arg;
	struct err *e = NULL;

	usleep(100 * 1000);
	if (l->fail)
		err_set(&e, ERR_TIMEOUT, "no pong");
	pool_lock();
	scale_done(l->c, e, 100.0);
	pool_unlock();
	err_free(&e);
	return NULL;
}

/* A claimant waits for its start past its deadline and gets the
 * container; when the start fails it is woken to retry (pool_invoke then
 * finds its deadline passed). */
static void test_claim_outlives_deadline(void **state)
{
	struct call *a = mkcall(1, 1, 128);
	struct fnpool *fp = fp_get(a);
	struct ctr *w = warm(fp, 1);
	pthread_t t;

	(void)state;
	assert_int_equal(pool_ctr_set_state(w, CTR_BUSY), 0);
	for (int fail = 0; fail <= 1; fail++) {
		struct later l = {.c = claimed_start(fp, a), .fail = fail};
		double t0 = mono_ms_f();

		a->wait = CALL_WAITING;
		a->arrive_ms = t0;
		a->deadline_ms = (long long)t0 + 20;
		pool_lock();
		q_push(fp, a, 0);
		assert_int_equal(pthread_create(&t, NULL, finish_later, &l), 0);
		wait_turn(fp, a);
		pool_unlock();
		pthread_join(t, NULL);
		assert_true(mono_ms_f() - t0 >= 95);
		assert_int_equal(a->wait, fail ? CALL_RETRY : CALL_LEAD);
		assert_null(a->claim);
		assert_false(a->queued);
		if (!fail) {
			assert_ptr_equal(a->ctr, l.c);
			assert_true(a->deadline_ms >= (long long)t0 + 110);
			assert_int_equal(pool_ctr_set_state(l.c, CTR_DEAD), 0);
		}
	}
	assert_int_equal(P.queued, 0);
	call_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_transitions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lru_eviction_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_acquire_warm_mru_and_scale, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_versions_never_mix, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prewarmed_generic, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keepalive_expiry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_queue_full, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_queue_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_max_starting, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scale_estimate, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scale_background, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_claim_outlives_deadline, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
