/* Dispatcher threads for queued Event invocations.  See event_queue.h. */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "cleanup.h"
#include "crypt.h"
#include "db.h"
#include "db_aws.h"
#include "db_core.h"
#include "event_queue.h"
#include "exec_client.h"
#include "function.h"
#include "invoke.h"
#include "journal.h"
#include "log.h"
#include "xalloc.h"

/* A thread's state, one at a time. */
enum dq_state {
	DQ_IDLE,    /* waiting for work (notify or the poll interval) */
	DQ_RUNNING, /* an event claimed and being run */
	DQ_STOPPED, /* asked to stop; the thread is gone */
};

struct dispatcher {
	pthread_t tid;
	int index;
	enum dq_state state;
	struct worker w;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int stopping;
	int started;
	unsigned pending; /* notifications not yet consumed */
	char token[64];   /* this process, for claimed_by */
	struct dispatcher d[EVENT_QUEUE_THREADS];
	/* rows of dead claimers, and when we first saw them (thread 0 only) */
	struct {
		long long id;
		time_t seen;
	} orphans[64];
	int norphans;
} q = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, "", {{0}}, {{0, 0}}, 0};

int event_queue_process_token(long pid, char *out, size_t size)
{
	char path[64], buf[1024];
	unsigned long long start = 0;
	FILE *f;
	char *p;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "re");
	if (f == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* the command may hold spaces and ')': fields count from the last ')' */
	p = strrchr(buf, ')');
	if (p == NULL)
		return -1;
	/* each space after ")" starts the next field: state is field 3,
	 * starttime field 22 */
	for (int field = 3; field <= 22 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p + 1, "%llu", &start) != 1)
		return -1;
	snprintf(out, size, "%ld:%llu", pid, start);
	return 0;
}

static int stopping(void)
{
	int s;

	pthread_mutex_lock(&q.lock);
	s = q.stopping;
	pthread_mutex_unlock(&q.lock);
	return s;
}

/* Sleeps up to ms, or until notified (or stopped). */
static void wait_ms(int ms, int wake_on_notify)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&q.lock);
	while (!q.stopping && !(wake_on_notify && q.pending > 0))
		if (pthread_cond_timedwait(&q.wake, &q.lock, &ts) == ETIMEDOUT)
			break;
	if (wake_on_notify && q.pending > 0)
		q.pending--;
	pthread_mutex_unlock(&q.lock);
}

void event_queue_notify(void)
{
	pthread_mutex_lock(&q.lock);
	q.pending++;
	pthread_cond_signal(&q.wake);
	pthread_mutex_unlock(&q.lock);
}

/* ------------------------------------------------- statements on a row */

/* One statement on an event's row and its arguments, for until_answered().
 * Each field is read only by the statements that take it. */
struct ev_stmt {
	int (*run)(struct db *db, const struct ev_stmt *s, struct err **e);
	const char *what;       /* names it in the log line; NULL: retried silently */
	long long id;           /* the event */
	const char *state;      /* finish */
	const char *status;     /* finish, retry */
	const char *error;      /* finish, retry */
	long long delay_ms;     /* retry */
	const char *claimed_by; /* claimed */
	const char *rid;        /* invocation_status: the attempt's request id */
	char **found;           /* invocation_status: its status, owned by the caller */
};

/* A claimed row must be settled even while the database restarts under us:
 * runs s until the database answers, every second, and returns what it
 * answered (>= 0), or -1 when we stop first. */
static int until_answered(struct db *db, const struct ev_stmt *s)
{
	struct err *e = NULL;
	int rc;

	while ((rc = s->run(db, s, &e)) < 0) {
		if (s->what != NULL)
			log_warnx("event %lld: %s: %s (retrying)", s->id, s->what, err_msg(e));
		err_free(&e);
		if (stopping())
			return -1;
		wait_ms(1000, 0);
	}
	return rc;
}

static int run_finish(struct db *db, const struct ev_stmt *s, struct err **e)
{
	return db_aws_event_finish(db, s->id, s->state, s->status, s->error, e);
}

static int run_requeue(struct db *db, const struct ev_stmt *s, struct err **e)
{
	return db_aws_event_requeue(db, s->id, e);
}

static int run_retry(struct db *db, const struct ev_stmt *s, struct err **e)
{
	return db_aws_event_retry(db, s->id, s->delay_ms, s->status, s->error, e);
}

static int run_claimed(struct db *db, const struct ev_stmt *s, struct err **e)
{
	return db_aws_event_claimed(db, s->id, s->claimed_by, e);
}

static int run_invocation_status(struct db *db, const struct ev_stmt *s, struct err **e)
{
	return db_aws_invocation_status(db, s->rid, s->found, e);
}

static void finish(struct db *db, long long id, const char *state, const char *status,
                   const char *error)
{
	const struct ev_stmt s = {.run = run_finish,
	                          .what = "settling",
	                          .id = id,
	                          .state = state,
	                          .status = status,
	                          .error = error};

	until_answered(db, &s);
}

static void requeue(struct db *db, long long id)
{
	const struct ev_stmt s = {.run = run_requeue, .what = "requeue", .id = id};

	until_answered(db, &s);
}

static void retry(struct db *db, long long id, long long delay_ms, const char *status,
                  const char *error)
{
	const struct ev_stmt s = {.run = run_retry,
	                          .what = "queueing its retry",
	                          .id = id,
	                          .delay_ms = delay_ms,
	                          .status = status,
	                          .error = error};

	until_answered(db, &s);
}

void event_attempt_request_id(const char *request_id, int attempt, char out[37])
{
	char buf[64], hex[65];
	int v;

	if (attempt <= 1) {
		snprintf(out, 37, "%s", request_id);
		return;
	}
	snprintf(buf, sizeof(buf), "%s#%d", request_id, attempt);
	crypt_sha256_hex(buf, strlen(buf), hex);
	v = hex[16] <= '9' ? hex[16] - '0' : hex[16] - 'a' + 10;
	hex[12] = '8';           /* version 8: custom */
	hex[16] = "89ab"[v & 3]; /* variant 10 */
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

/* An attempt that ran ended with status: the event is done, or its next
 * attempt is queued (AWS retries errors, timeouts and its own failures). */
static void after_run(struct db *db, const struct aws_event *ev, const char *status,
                      const char *error)
{
	int last = ev->attempt >= app->cfg.event_max_attempts;

	if (strcmp(status, "success") == 0)
		finish(db, ev->id, "done", status, error);
	else if (!last)
		retry(db, ev->id, (long long)app->cfg.event_retry_delay_ms << (ev->attempt - 1),
		      status, error);
	else
		finish(db, ev->id, strcmp(status, "internal") == 0 ? "failed" : "done", status,
		       error);
}

/* After ERR_UNAVAILABLE: invoke_run recorded the call (as internal) when the
 * request reached the executor, and nothing when it did not.  The journal
 * reaches the database within api.journal_flush_ms. */
static void settle_unavailable(struct worker *w, const struct aws_event *ev, const char *why)
{
	_cleanup_free_ char *status = NULL;
	char rid[37];
	const struct ev_stmt s = {
	    .run = run_invocation_status, .id = ev->id, .rid = rid, .found = &status};
	int rc;

	event_attempt_request_id(ev->request_id, ev->attempt, rid);
	wait_ms(1000 + app->cfg.journal_flush_ms, 0);
	rc = until_answered(w->db, &s);
	if (rc < 0)
		return;
	if (rc == 1)
		after_run(w->db, ev, status, why);
	else
		requeue(w->db, ev->id);
}

static void run_event(struct worker *w, const struct aws_event *ev)
{
	_cleanup_cjson_ cJSON *event = cJSON_ParseWithLength(ev->payload, ev->payload_len);
	struct invoke_req ir;
	struct invoke_out out;
	struct function f;
	struct err *e = NULL;
	char ref[32], rid[37];
	int retry_s = 0;

	event_attempt_request_id(ev->request_id, ev->attempt, rid);
	snprintf(ref, sizeof(ref), "%lld", ev->function_id);
	while (db_fn_get(w->db, ref, 0, &f, &e) < 0) {
		if (e->code == ERR_NOT_FOUND) {
			err_free(&e);
			finish(w->db, ev->id, "failed", NULL,
			       "the function was deleted before the event ran");
			return;
		}
		err_free(&e);
		if (stopping()) {
			requeue(w->db, ev->id);
			return;
		}
		wait_ms(1000, 0);
	}
	memset(&ir, 0, sizeof(ir));
	ir.fn = &f;
	ir.event = event;
	ir.source = "event";
	ir.request_id = rid;
	ir.attempt = ev->attempt;
	if (invoke_run(w, &ir, &out, &retry_s, &e) == 0) {
		const cJSON *er = cJSON_GetObjectItemCaseSensitive(out.result, "error");
		const cJSON *msg = cJSON_GetObjectItemCaseSensitive(er, "errorMessage");
		after_run(w->db, ev, out.status, cJSON_IsString(msg) ? msg->valuestring : NULL);
		invoke_out_free(&out);
	} else if (e->code == ERR_TOO_MANY) {
		requeue(w->db, ev->id);
		wait_ms(1000 * (retry_s > 0 ? retry_s : 1), 0);
	} else if (e->code == ERR_UNAVAILABLE) {
		settle_unavailable(w, ev, err_msg(e));
	} else {
		finish(w->db, ev->id, "failed", NULL, err_msg(e));
	}
	err_free(&e);
	function_free(&f);
}

/* ------------------------------------------------------------ orphans */

/* A row claimed by a process that is gone, seen for long enough, is
 * settled from its record, or recorded as internal and failed. */
static void settle_orphan(struct worker *w, const struct aws_event *ev)
{
	_cleanup_free_ char *status = NULL;
	struct err *e = NULL;
	char rid[37];
	int rc;

	event_attempt_request_id(ev->request_id, ev->attempt, rid);
	rc = db_aws_invocation_status(w->db, rid, &status, &e);
	if (rc < 0) {
		err_free(&e);
		return;
	}
	if (rc == 1) {
		after_run(w->db, ev, status, NULL);
		return;
	}
	{
		static const char why[] = "the API process running it stopped before it answered";
		_cleanup_cjson_ cJSON *res = cJSON_CreateObject();
		_cleanup_cjson_ cJSON *rec = NULL;
		struct function f;
		cJSON *er;
		char now[32];
		time_t t = time(NULL);
		struct tm tm;

		memset(&f, 0, sizeof(f));
		f.id = ev->function_id;
		f.name = ev->function_name;
		f.isolation = (char *)"docker";
		cJSON_AddStringToObject(res, "status", "internal");
		er = cJSON_AddObjectToObject(res, "error");
		cJSON_AddStringToObject(er, "errorType", "Executor.Unavailable");
		cJSON_AddStringToObject(er, "errorMessage", why);
		gmtime_r(&t, &tm);
		strftime(now, sizeof(now), "%Y-%m-%d %H:%M:%S.000", &tm);
		rec = invoke_record(&f, rid, "event", "docker", now, 0.0, res);
		cJSON_AddNumberToObject(rec, "attempt", ev->attempt);
		if (journal_append(app->journal, TAKE_PTR(rec), &e) < 0) {
			log_warnx("event %lld: %s", ev->id, err_msg(e));
			err_free(&e);
			return;
		}
		after_run(w->db, ev, "internal", why);
	}
}

/* Whether claimed_by ("<process token>#<thread>") names process token. */
static int claimed_by_process(const char *claimed_by, const char *token)
{
	size_t n = strlen(token);

	return claimed_by != NULL && strncmp(claimed_by, token, n) == 0 &&
	       (claimed_by[n] == '\0' || claimed_by[n] == '#');
}

static int claimer_gone(const char *claimed_by)
{
	char tok[64];
	long pid = claimed_by != NULL ? strtol(claimed_by, NULL, 10) : 0;

	if (pid <= 0)
		return 1;
	if (event_queue_process_token(pid, tok, sizeof(tok)) < 0)
		return 1;
	return !claimed_by_process(claimed_by, tok); /* the pid was reused */
}

static int check_orphan(const struct aws_event *ev, void *arg)
{
	struct worker *w = arg;
	time_t now = time(NULL);
	int i;

	if (claimed_by_process(ev->claimed_by, q.token) || !claimer_gone(ev->claimed_by))
		return 0;
	for (i = 0; i < q.norphans; i++)
		if (q.orphans[i].id == ev->id)
			break;
	if (i == q.norphans) {
		if (q.norphans < (int)(sizeof(q.orphans) / sizeof(q.orphans[0]))) {
			q.orphans[q.norphans].id = ev->id;
			q.orphans[q.norphans].seen = now;
			q.norphans++;
		}
		return 0;
	}
	if (now - q.orphans[i].seen < EVENT_QUEUE_ORPHAN_S)
		return 0;
	log_warnx("event %lld (%s): its claimer %s is gone; settling it", ev->id, ev->request_id,
	          ev->claimed_by);
	settle_orphan(w, ev);
	q.orphans[i] = q.orphans[--q.norphans];
	return 0;
}

static void housekeeping(struct worker *w, time_t *last_purge)
{
	struct err *e = NULL;

	if (db_aws_event_running(w->db, check_orphan, w, &e) < 0)
		err_free(&e);
	if (time(NULL) - *last_purge > 3600) {
		if (db_aws_event_purge(w->db, EVENT_QUEUE_KEEP_S, &e) < 0)
			err_free(&e);
		*last_purge = time(NULL);
	}
}

/* ------------------------------------------------------------ threads */

/* A claim whose COMMIT was lost after sending: whether it holds is read
 * back once the database answers (retrying while it restarts), so that a
 * claim that landed is run, not left "running" by a process that lives on.
 * Returns 1 when it is ours to run, 0 when it is not (or we stop). */
static int settle_claim(struct dispatcher *d, const struct aws_event *ev)
{
	const struct ev_stmt s = {.run = run_claimed,
	                          .what = "settling a claim whose COMMIT was lost",
	                          .id = ev->id,
	                          .claimed_by = ev->claimed_by};
	int rc = until_answered(d->w.db, &s);

	if (rc < 0)
		return 0; /* if it held, the next process settles it as an orphan */
	log_warnx("event %lld: a claim whose COMMIT was lost %s", ev->id,
	          rc == 1 ? "held: running it" : "did not hold");
	return rc;
}

static void *dispatcher_main(void *arg)
{
	struct dispatcher *d = arg;
	time_t last_house = 0, last_purge = time(NULL), last_warn = 0;
	struct aws_event ev;
	struct err *e = NULL;
	char claimer[sizeof(q.token) + 16];

	/* one claimer per thread: a settled claim is this thread's or not */
	snprintf(claimer, sizeof(claimer), "%s#%d", q.token, d->index);
	db_thread_init();
	d->w.db = db_new(&app->cfg);
	d->w.ec = exec_client_new(&app->cfg);
	while (!stopping()) {
		int rc;

		if (d->index == 0 && time(NULL) - last_house >= 5) {
			housekeeping(&d->w, &last_purge);
			last_house = time(NULL);
		}
		rc = db_aws_event_claim(d->w.db, claimer, &ev, &e);
		if (rc == -2) {
			err_free(&e);
			rc = settle_claim(d, &ev);
			if (rc == 0) {
				db_aws_event_free(&ev);
				continue;
			}
		}
		if (rc < 0) {
			if (time(NULL) - last_warn >= 60) {
				log_warnx("event queue: %s", err_msg(e));
				last_warn = time(NULL);
			}
			err_free(&e);
			wait_ms(1000, 0);
			continue;
		}
		if (rc == 0) {
			wait_ms(EVENT_QUEUE_IDLE_MS, 1);
			continue;
		}
		d->state = DQ_RUNNING;
		run_event(&d->w, &ev);
		db_aws_event_free(&ev);
		d->state = DQ_IDLE;
	}
	d->state = DQ_STOPPED;
	exec_client_free(d->w.ec);
	db_free(d->w.db);
	db_thread_end();
	return NULL;
}

int event_queue_start(struct err **e)
{
	if (event_queue_process_token((long)getpid(), q.token, sizeof(q.token)) < 0)
		return err_set(e, ERR_INTERNAL, "cannot read /proc/self/stat");
	q.stopping = 0;
	for (int i = 0; i < EVENT_QUEUE_THREADS; i++) {
		struct dispatcher *d = &q.d[i];
		memset(d, 0, sizeof(*d));
		d->index = i;
		d->w.id = 1000 + i;
		d->state = DQ_IDLE;
		if (pthread_create(&d->tid, NULL, dispatcher_main, d) != 0) {
			event_queue_stop();
			return err_set(e, ERR_INTERNAL, "pthread_create failed");
		}
		q.started = i + 1;
	}
	return 0;
}

void event_queue_stop(void)
{
	pthread_mutex_lock(&q.lock);
	q.stopping = 1;
	pthread_cond_broadcast(&q.wake);
	pthread_mutex_unlock(&q.lock);
	for (int i = 0; i < q.started; i++)
		pthread_join(q.d[i].tid, NULL);
	q.started = 0;
}
