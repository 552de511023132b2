#include <config.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "cleanup.h"
#include "clock.h"
#include "config.h"
#include "docker.h"
#include "log.h"
#include "pool.h"
#include "taskdir.h"
#include "xalloc.h"

#define BATCH_MAX_ITEMS 256
#define RETRY_MIN_MS    50 /* an item is retried only with at least this much time left */
#define ATTEMPTS_MAX    3

size_t batch_frame_max(const struct xconfig *cfg)
{
	/* a result at the cap plus logs at the cap, JSON-escaped (\u00XX: x6) */
	return (size_t)cfg->result_cap_bytes + 6 * (size_t)cfg->log_cap_bytes + 65536;
}

/* ------------------------------------------------------------------ */
/* Starting a container                                                */
/* ------------------------------------------------------------------ */

int batch_start_container(struct ctr *c, const struct xconfig *cfg, const struct fnspec *fn,
                          struct err **e)
{
	struct docker_spec spec = {
	    .image = c->runtime == RT_PYTHON ? cfg->image_python : cfg->image_node,
	    .runtime = c->isolation == ISO_GVISOR ? cfg->runtime_gvisor : cfg->runtime_docker,
	    .instance = cfg->instance,
	    .function_id = fn != NULL ? fn->id : 0,
	    .version = fn != NULL ? fn->version : 0,
	    /* generic: its own empty directory, filled when a call claims it */
	    .code_dir = fn != NULL ? fn->code_dir : c->task_dir,
	    .memory_bytes = (long long)c->memory_mb * 1024 * 1024,
	    .nano_cpus = (long long)llround(cfg->cpus * 1e9),
	    .pids_limit = cfg->pids_limit,
	    .tmp_size_mb = cfg->tmp_size_mb,
	    .seccomp_json = cfg->seccomp_json,
	};
	char early[4096];
	size_t early_len = 0;
	struct err *e2 = NULL;
	char *id;
	int fd;

	id = docker_create(&spec, e);
	if (id == NULL)
		return err_wrap(e, "creating a %s container", runtime_name(c->runtime));
	pool_lock();
	c->id = id;
	snprintf(c->short_id, sizeof(c->short_id), "%.12s", id);
	pool_unlock();
	/* attach before start: nothing the bootstrap writes can be missed */
	fd = docker_attach(id, early, sizeof(early), &early_len, e);
	if (fd < 0)
		return -1;
	chan_init(&c->ch, fd, batch_frame_max(cfg), early, early_len);
	c->has_chan = 1;
	if (docker_start(id, e) < 0)
		return err_wrap(e, "starting %s", c->short_id);
	/* the cgroup exists once started; without it (cgroup v2, another
	 * driver) deaths are told apart by the exit status alone */
	if (oomwatch_arm(&c->oom, cfg->cgroup_root, id, &e2) < 0) {
		log_debug("container %s: %s", c->short_id, err_msg(e2));
		err_free(&e2);
	}
	return 0;
}

/* Waits for one frame of type `want` (other frames are unexpected). */
static int wait_frame(struct ctr *c, long long deadline, const char *want, cJSON **out,
                      struct err **e)
{
	for (;;) {
		struct chan_frame *f = NULL;
		const cJSON *t;
		int r = chan_recv(&c->ch, deadline, &f, e);

		if (r <= 0)
			return r < 0 ? -1
			             : err_set(e, ERR_TIMEOUT, "no %s before the deadline", want);
		t = cJSON_GetObjectItemCaseSensitive(f->json, "type");
		if (cJSON_IsString(t) && strncmp(t->valuestring, want, strlen(want)) == 0) {
			*out = f->json;
			f->json = NULL;
			chan_frame_free(f);
			return 0;
		}
		log_warnx("container %s: unexpected frame while waiting for %s", c->short_id, want);
		chan_frame_free(f);
	}
}

int batch_ping(struct ctr *c, long long deadline, struct err **e)
{
	_cleanup_cjson_ cJSON *ping = cJSON_CreateObject();
	_cleanup_cjson_ cJSON *pong = NULL;

	cJSON_AddStringToObject(ping, "type", "ping");
	if (chan_send_json(&c->ch, ping, e) < 0)
		return -1;
	return wait_frame(c, deadline, "pong", &pong, e);
}

/* ------------------------------------------------------------------ */
/* One batch                                                           */
/* ------------------------------------------------------------------ */

struct run {
	struct ctr *c;
	const struct xconfig *cfg;
	struct call **items;
	int n;
	int healthy;              /* the container may serve again */
	int warm;                 /* its code was loaded before this batch */
	double init_ms, batch_ms; /* start + load (cold), send to last result; -1: none */
	long long mem_peak, cpu0;
};

static void set_state_locked(struct ctr *c, enum ctr_state s)
{
	pool_lock();
	if (c->state != CTR_DRAINING) /* a drained container finishes its work as is */
		pool_ctr_set_state(c, s);
	pool_unlock();
}

static struct call *first_open(struct run *r)
{
	for (int i = 0; i < r->n; i++)
		if (!r->items[i]->finished)
			return r->items[i];
	return NULL;
}

static long long earliest_deadline(struct run *r)
{
	long long d = -1;

	for (int i = 0; i < r->n; i++)
		if (!r->items[i]->finished && (d < 0 || r->items[i]->deadline_ms < d))
			d = r->items[i]->deadline_ms;
	return d;
}

static char *item_logs(struct call *it, const char *boot_logs, int boot_trunc, int *trunc)
{
	struct logcap l;
	char *stderr_text;
	int st_trunc;
	char *out;

	stderr_text = logcap_finish(&it->stderr_cap, &st_trunc);
	logcap_init(&l, (size_t)it->stderr_cap.b.max);
	if (it->init_logs != NULL) {
		logcap_append(&l, it->init_logs, strlen(it->init_logs));
		free(it->init_logs);
		it->init_logs = NULL;
	}
	if (boot_logs != NULL)
		logcap_append(&l, boot_logs, strlen(boot_logs));
	logcap_append(&l, stderr_text, strlen(stderr_text));
	free(stderr_text);
	out = logcap_finish(&l, trunc);
	*trunc = *trunc || boot_trunc || st_trunc;
	logcap_free(&l);
	return out;
}

static void item_finish_status(struct run *r, struct call *it, const char *status, const char *type,
                               const char *msg)
{
	int trunc;
	char *logs = item_logs(it, NULL, 0, &trunc);

	call_set_status(it, status, type, msg, logs, trunc, mono_ms_f() - it->started_ms,
	                r->c->short_id);
	it->finished = 1;
}

/* A result frame for one item. */
static void item_result(struct run *r, struct call *it, cJSON *f)
{
	const cJSON *ok = cJSON_GetObjectItemCaseSensitive(f, "ok");
	const cJSON *lg = cJSON_GetObjectItemCaseSensitive(f, "logs");
	const cJSON *dur = cJSON_GetObjectItemCaseSensitive(f, "duration_ms");
	const cJSON *cpu = cJSON_GetObjectItemCaseSensitive(f, "cpu_ms");
	int trunc;
	char *logs =
	    item_logs(it, cJSON_IsString(lg) ? lg->valuestring : NULL,
	              cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "logs_truncated")), &trunc);
	double duration = cJSON_IsNumber(dur) ? dur->valuedouble : mono_ms_f() - it->started_ms;
	cJSON *res = cJSON_CreateObject();
	size_t rbytes = 0;

	if (cJSON_IsTrue(ok)) {
		cJSON *val = cJSON_DetachItemFromObjectCaseSensitive(f, "result");
		char *text = val != NULL ? cJSON_PrintUnformatted(val) : NULL;
		const cJSON *out = cJSON_GetObjectItemCaseSensitive(f, "output");

		rbytes = text != NULL ? strlen(text) : 4;
		cJSON_free(text);
		if (rbytes > (size_t)r->cfg->result_cap_bytes) {
			cJSON_Delete(val);
			call_set_status(it, "error", "Runtime.ResponseSizeTooLarge",
			                "response exceeded the allowed length", logs, trunc,
			                duration, r->c->short_id);
			cJSON_ReplaceItemInObject(it->result, "response_bytes",
			                          cJSON_CreateNumber((double)rbytes));
			cJSON_Delete(res);
			it->finished = 1;
			return;
		}
		cJSON_AddStringToObject(res, "status", "success");
		cJSON_AddItemToObject(res, "result", val != NULL ? val : cJSON_CreateNull());
		if (cJSON_IsString(out))
			cJSON_AddStringToObject(res, "output", out->valuestring);
	} else {
		cJSON *err = cJSON_DetachItemFromObjectCaseSensitive(f, "error");
		if (!cJSON_IsObject(err)) {
			cJSON_Delete(err);
			err = cJSON_CreateObject();
			cJSON_AddStringToObject(err, "errorMessage", "the function failed");
			cJSON_AddStringToObject(err, "errorType", "Runtime.Unknown");
		}
		cJSON_AddStringToObject(res, "status", "error");
		cJSON_AddItemToObject(res, "error", err);
	}
	cJSON_AddStringToObject(res, "logs", logs);
	cJSON_AddBoolToObject(res, "logs_truncated", trunc);
	cJSON_AddNumberToObject(res, "duration_ms", round(duration * 1000) / 1000);
	cJSON_AddNullToObject(res, "max_memory_bytes");
	/* In a batch the cgroup's figure covers every item: the bootstrap's own
	 * measure is used when it has one (Python, whose items run one at a
	 * time; Node runs them concurrently and sends none).  Alone, the
	 * cgroup's figure replaces it after the batch (run_items). */
	if (r->n > 1 && cJSON_IsNumber(cpu) && cpu->valuedouble >= 0)
		cJSON_AddNumberToObject(res, "cpu_ms", round(cpu->valuedouble * 1000) / 1000);
	else
		cJSON_AddNullToObject(res, "cpu_ms");
	cJSON_AddNumberToObject(res, "response_bytes", (double)rbytes);
	call_fill_common(it, res, r->c->short_id);
	free(logs);
	cJSON_Delete(it->result);
	it->result = res;
	it->finished = 1;
}

/* The container went away on its own: why (OOM, a signal, an exit)?
 * Fills status, type and msg (msg of msg_size bytes).  Returns -1 when the
 * engine cannot say (it is down or forgot the container: a restart of
 * dockerd), and the open items are then retried. */
static int death_cause(struct run *r, const char **status, const char **type, char *msg,
                       size_t msg_size)
{
	struct docker_state st = {0};
	struct err *e = NULL;
	int oom;

	for (int i = 0; i < 100; i++) { /* the engine records the exit a moment later */
		if (docker_inspect(r->c->id, &st, &e) < 0) {
			log_warnx("container %s: %s", r->c->short_id, err_msg(e));
			err_free(&e);
			return -1;
		}
		if (!st.running)
			break;
		usleep(20000);
	}
	*type = "Runtime.ExitError";
	/* The cgroup's own count of OOM kills decides (oomwatch.h): under runsc
	 * State.OOMKilled was seen missing and exit 137 is also what any outside
	 * SIGKILL gives.  Without it (no cgroup v1), the old rule: OOMKilled or
	 * exit 137 is oom, so an outside SIGKILL then reads as oom too. */
	oom = oomwatch_verdict(&r->c->oom, 1000);
	if (oom < 0)
		oom = st.oom_killed || st.exit_code == 137;
	if (oom) {
		*status = "oom";
		*type = "Runtime.OutOfMemory";
		snprintf(msg, msg_size, "Runtime exited with error: out of memory (limit %ld MB)",
		         r->c->memory_mb);
	} else if (st.exit_code > 128) {
		*status = "killed";
		snprintf(msg, msg_size, "Runtime exited with error: signal %d", st.exit_code - 128);
	} else {
		*status = "error";
		snprintf(msg, msg_size, "Runtime exited with error: exit status %d", st.exit_code);
	}
	return 0;
}

/* Every open item gets the same outcome (start or init failed). */
static void fail_all(struct run *r, const char *status, const char *type, const char *msg)
{
	for (int i = 0; i < r->n; i++)
		if (!r->items[i]->finished)
			item_finish_status(r, r->items[i], status, type, msg);
}

/* The container could not be started: no item ran. */
static void start_failed(struct run *r, struct err *e)
{
	for (int i = 0; i < r->n; i++) {
		if (e->code == ERR_UNAVAILABLE)
			call_fail(r->items[i], "docker_unavailable",
			          "executor unavailable: docker engine not reachable");
		else
			call_fail(r->items[i], "internal", "%s", e->msg);
		r->items[i]->finished = 1;
	}
	log_warnx("%s", e->msg);
}

/* The init frame: the code is at /var/task, bind-mounted read-only (the
 * function's code_dir, or a pre-warmed container's own directory that its
 * code was just copied into). */
static cJSON *init_frame(struct run *r)
{
	const struct call *lead = r->items[0];
	cJSON *init = cJSON_CreateObject();

	cJSON_AddStringToObject(init, "type", "init");
	cJSON_AddItemToObject(init, "function", cJSON_Duplicate(lead->function, 1));
	cJSON_AddNumberToObject(init, "log_cap_bytes", (double)r->cfg->log_cap_bytes);
	cJSON_AddNumberToObject(init, "result_cap_bytes", (double)r->cfg->result_cap_bytes);
	cJSON_AddStringToObject(init, "code_path", "/var/task");
	return init;
}

/* No answer to init: it timed out or the container died. */
static void init_failed(struct run *r, const struct err *e)
{
	const char *status, *type;
	char msg[160];

	if (e->code == ERR_TIMEOUT) {
		snprintf(msg, sizeof(msg), "Init timed out after %.2f seconds",
		         (double)r->cfg->init_timeout_ms / 1000.0);
		fail_all(r, "timeout", "Runtime.InitTimeout", msg);
	} else if (death_cause(r, &status, &type, msg, sizeof(msg)) == 0) {
		fail_all(r, status, type, msg);
	}
}

/* init_ok or init_error: returns 0 for init_ok. */
static int init_answer(struct run *r, const cJSON *ans)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(ans, "type");
	const cJSON *lg = cJSON_GetObjectItemCaseSensitive(ans, "logs");
	const cJSON *er, *m, *ty;

	/* what the module printed while loading goes to the lead's logs */
	if (cJSON_IsString(lg) && lg->valuestring[0] != '\0')
		r->items[0]->init_logs = xstrdup(lg->valuestring);
	if (strcmp(t->valuestring, "init_ok") == 0)
		return 0;
	er = cJSON_GetObjectItemCaseSensitive(ans, "error");
	m = cJSON_GetObjectItemCaseSensitive(er, "errorMessage");
	ty = cJSON_GetObjectItemCaseSensitive(er, "errorType");
	fail_all(r, "error", cJSON_IsString(ty) ? ty->valuestring : "Runtime.InitError",
	         cJSON_IsString(m) ? m->valuestring : "the function could not be loaded");
	return -1;
}

static int start_and_init(struct run *r)
{
	struct ctr *c = r->c;
	struct err *e = NULL;
	_cleanup_cjson_ cJSON *init = NULL;
	_cleanup_cjson_ cJSON *ans = NULL;
	double t0 = mono_ms_f();

	if (!c->has_chan && batch_start_container(c, r->cfg, &r->items[0]->fn, &e) < 0) {
		start_failed(r, e);
		err_free(&e);
		return -1;
	}
	set_state_locked(c, CTR_LOADING);
	/* A pre-warmed container's directory is empty until now; the
	 * container holds no other function's code, ever (one claim). */
	if (c->generic && taskdir_copy(r->items[0]->fn.code_dir, c->task_dir, &e) < 0) {
		log_warnx("container %s: %s", c->short_id, err_msg(e));
		err_free(&e);
		fail_all(r, "internal", "Runtime.CodeUnavailable",
		         "the function's code cannot be read");
		return -1;
	}
	init = init_frame(r);
	/* Starting the container and loading the code are not the function's
	 * time (as on AWS, init has its own limit): the items' deadlines move
	 * by what it took, once it is done. */
	if (chan_send_json(&c->ch, init, &e) < 0 ||
	    wait_frame(c, mono_ms() + r->cfg->init_timeout_ms, "init", &ans, &e) < 0) {
		init_failed(r, e);
		err_free(&e);
		return -1;
	}
	if (init_answer(r, ans) < 0)
		return -1;
	c->inited = 1;
	r->init_ms = mono_ms_f() - t0;
	for (int i = 0; i < r->n; i++) {
		struct call *it = r->items[i];
		it->init_ms = mono_ms_f() - t0;
		it->init_spent_ms += it->init_ms;
		it->deadline_ms += (long long)ceil(it->init_ms); /* never less than it took */
	}
	return 0;
}

/* An item's time left in whole ms, rounded down and never more than its
 * limit: deadlines are rounded up (proto_server.c), and the function's
 * context must not report more time than its timeout. */
static double time_left(const struct call *it, double now)
{
	double left = floor((double)it->deadline_ms - now);

	return left < (double)it->fn.timeout_ms ? left : (double)it->fn.timeout_ms;
}

static cJSON *invoke_frame(struct run *r)
{
	cJSON *f = cJSON_CreateObject();
	cJSON *arr;
	double now = mono_ms_f();

	cJSON_AddStringToObject(f, "type", "invoke");
	arr = cJSON_AddArrayToObject(f, "items");
	for (int i = 0; i < r->n; i++) {
		struct call *it = r->items[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "id", it->request_id);
		cJSON_AddItemToObject(o, "event",
		                      it->event != NULL ? cJSON_Duplicate(it->event, 1)
		                                        : cJSON_CreateNull());
		if (it->args != NULL && cJSON_IsArray(it->args))
			cJSON_AddItemToObject(o, "args", cJSON_Duplicate(it->args, 1));
		else
			cJSON_AddNullToObject(o, "args");
		cJSON_AddNumberToObject(o, "deadline_ms", time_left(it, now));
		cJSON_AddItemToArray(arr, o);
		it->started_ms = mono_ms_f();
	}
	return f;
}

static struct call *item_by_id(struct run *r, const cJSON *f)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(f, "id");

	if (!cJSON_IsString(id))
		return NULL;
	for (int i = 0; i < r->n; i++)
		if (!r->items[i]->finished && strcmp(r->items[i]->request_id, id->valuestring) == 0)
			return r->items[i];
	return NULL;
}

/* The items' deadlines passed: they time out, the container is killed. */
static void on_deadline(struct run *r)
{
	long long now = mono_ms();

	for (int i = 0; i < r->n; i++) {
		struct call *it = r->items[i];
		if (!it->finished && it->deadline_ms <= now) {
			char *m = call_timeout_message(it);
			/* what counted against the timeout: queue and run, not init */
			it->started_ms = it->arrive_ms + it->init_spent_ms;
			item_finish_status(r, it, "timeout", "Runtime.Timeout", m);
			free(m);
		}
	}
	r->healthy = 0;
}

/* Sends the invoke frame and collects the results. */
static void run_items(struct run *r)
{
	struct ctr *c = r->c;
	_cleanup_cjson_ cJSON *frame = invoke_frame(r);
	struct err *e = NULL;
	long long peak;

	pool_lock();
	c->busy_since_ms = mono_ms_f();
	if (c->state != CTR_DRAINING)
		pool_ctr_set_state(c, CTR_BUSY);
	pool_unlock();
	pool_cgroup_sample(c, &peak, &r->cpu0, 1);
	oomwatch_mark(&c->oom);
	if (chan_send_json(&c->ch, frame, &e) < 0) {
		err_free(&e);
		r->healthy = 0; /* the open items are retried */
		return;
	}
	while (first_open(r) != NULL) {
		struct chan_frame *f = NULL;
		struct call *cur = first_open(r);
		int rc;

		c->ch.sink = &cur->stderr_cap;
		rc = chan_recv(&c->ch, earliest_deadline(r), &f, &e);
		c->ch.sink = NULL;
		if (rc == 0) {
			on_deadline(r);
			return;
		}
		if (rc < 0) {
			const char *status, *type;
			char msg[160];
			err_free(&e);
			if (death_cause(r, &status, &type, msg, sizeof(msg)) == 0)
				item_finish_status(r, cur, status, type, msg);
			r->healthy = 0;
			return;
		}
		if (f->oversize) {
			item_finish_status(r, cur, "error", "Runtime.ResponseSizeTooLarge",
			                   "response exceeded the allowed length");
			cJSON_ReplaceItemInObject(cur->result, "response_bytes",
			                          cJSON_CreateNumber((double)f->len));
		} else {
			struct call *it = item_by_id(r, f->json);
			if (it != NULL)
				item_result(r, it, f->json);
			else
				log_warnx("container %s: a frame for no open item", c->short_id);
		}
		chan_frame_free(f);
	}
	r->batch_ms = mono_ms_f() - c->busy_since_ms;
	pool_cgroup_sample(c, &r->mem_peak, &peak, 0);
	if (r->n == 1 && r->items[0]->result != NULL) {
		cJSON *res = r->items[0]->result;
		if (r->mem_peak > 0)
			cJSON_ReplaceItemInObject(res, "max_memory_bytes",
			                          cJSON_CreateNumber((double)r->mem_peak));
		if (peak >= 0 && r->cpu0 >= 0)
			cJSON_ReplaceItemInObject(
			    res, "cpu_ms",
			    cJSON_CreateNumber(round((double)(peak - r->cpu0) / 1e3) / 1e3));
	}
}

void batch_lead(struct call *lead, struct ctr *c, const struct xconfig *cfg)
{
	struct call *items[BATCH_MAX_ITEMS];
	struct run r = {.c = c,
	                .cfg = cfg,
	                .items = items,
	                .n = 1,
	                .healthy = 1,
	                .warm = c->inited,
	                .init_ms = -1,
	                .batch_ms = -1};
	double now;

	items[0] = lead;
	/* Only a warm container takes queued calls along: behind a cold start
	 * they would wait for it, while a busy warm container frees up soon. */
	if (cfg->batch_max > 1 && c->fp != NULL && c->inited) {
		pool_await_followers(c);
		r.n += pool_take_followers(c, items + 1, (int)cfg->batch_max - 1);
	}
	now = mono_ms_f();
	for (int i = 0; i < r.n; i++) {
		items[i]->batch_size = r.n;
		items[i]->queue_ms = now - items[i]->arrive_ms;
		items[i]->finished = 0;
		items[i]->started_ms = now;
		if (items[i] != lead) {
			items[i]->cold = c->inited ? 0 : lead->cold;
			items[i]->cold_reason = c->inited ? NULL : lead->cold_reason;
		}
	}
	c->calls += r.n;
	pool_unlock();

	if (c->inited || start_and_init(&r) == 0)
		run_items(&r);
	else
		r.healthy = 0;

	pool_lock();
	if (r.init_ms >= 0)
		pool_note_start(c, r.init_ms);
	if (r.warm && r.healthy && r.batch_ms >= 0)
		pool_note_batch(c, r.n, r.batch_ms);
	pool_release(c, r.healthy);
	now = (double)mono_ms();
	for (int i = 0; i < r.n; i++) {
		struct call *it = items[i];
		if (it->finished || it->err_code != NULL) {
			it->wait = CALL_DONE;
		} else if ((double)it->deadline_ms - now > RETRY_MIN_MS &&
		           it->attempts + 1 < ATTEMPTS_MAX) {
			it->wait = CALL_RETRY;
		} else {
			char *m = call_timeout_message(it);
			item_finish_status(&r, it, "timeout", "Runtime.Timeout", m);
			free(m);
			it->wait = CALL_DONE;
		}
		if (it != lead) {
			if (it->wait == CALL_RETRY)
				it->attempts++;
			pthread_cond_signal(&it->cv);
		}
	}
}
