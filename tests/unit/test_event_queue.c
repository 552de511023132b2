/* fcgi-app/event_queue.c: an Event claim whose COMMIT was lost after sending
 * is read back, and run when it held (exactly once), or left to the next
 * claim when it did not.  The real dispatcher threads run against a fake
 * database layer (this file defines the db_*, invoke_* ... functions that
 * event_queue.c calls; the test links libcommon only, not libapi): one
 * event row, whose owner is set the way MariaDB would leave it. */
#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../fcgi-app/event_queue.c"

#define EVENT_ID  42
#define EVENT_RID "0b4c1a3e-5f1d-4c2a-9e3b-7a6d5c4b3a21"

/* The fake row and what the dispatchers did to it (under fake.lock). */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	int landed;        /* the lost COMMIT landed: the row is the claimer's */
	int claims;        /* db_aws_event_claim calls that handed out the row */
	int owner_fails;   /* read-backs to fail first (the database restarting) */
	int owner_reads;   /* db_aws_event_claimed calls that answered */
	char owner[128];   /* claimed_by of the row; "" = queued, nobody's */
	char state[16];    /* queued | running | done | failed */
	int runs;          /* invoke_run calls */
	char run_rid[37];  /* the request id the last run carried */
	int run_attempt;   /* its attempt */
	char finished[16]; /* the state db_aws_event_finish set */
	int finishes;
} fake = {.lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER};

static struct app test_app;
struct app *app = &test_app;

/* ------------------------------------------------ the fake database */

void db_thread_init(void)
{
}

void db_thread_end(void)
{
}

struct db *db_new(const struct config *cfg)
{
	(void)cfg;
	return xmalloc(1); /* an opaque handle nobody looks into */
}

void db_free(struct db *db)
{
	free(db);
}

struct exec_client *exec_client_new(const struct config *cfg)
{
	(void)cfg;
	return NULL;
}

void exec_client_free(struct exec_client *ec)
{
	(void)ec;
}

void db_aws_event_free(struct aws_event *ev)
{
	free(ev->function_name);
	free(ev->payload);
	free(ev->claimed_by);
	memset(ev, 0, sizeof(*ev));
}

/* The row, queued, is handed out once per claim; the first claim's COMMIT
 * is lost after sending (-2), and it landed or not as fake.landed says. */
int db_aws_event_claim(struct db *db, const char *claimer, struct aws_event *out, struct err **e)
{
	int rc = 0;

	(void)db;
	(void)e;
	pthread_mutex_lock(&fake.lock);
	if (strcmp(fake.state, "queued") == 0) {
		memset(out, 0, sizeof(*out));
		out->id = EVENT_ID;
		snprintf(out->request_id, sizeof(out->request_id), "%s", EVENT_RID);
		out->function_id = 7;
		out->function_name = xstrdup("fn");
		out->payload = xstrdup("{\"n\":7}");
		out->payload_len = strlen(out->payload);
		out->attempt = 1;
		out->claimed_by = xstrdup(claimer);
		rc = fake.claims++ == 0 ? -2 : 1;
		if (rc == 1 || fake.landed) {
			snprintf(fake.state, sizeof(fake.state), "running");
			snprintf(fake.owner, sizeof(fake.owner), "%s", claimer);
		}
		pthread_cond_broadcast(&fake.changed);
	}
	pthread_mutex_unlock(&fake.lock);
	return rc;
}

/* SELECT claimed_by ... WHERE state = 'running', compared with claimer. */
int db_aws_event_claimed(struct db *db, long long id, const char *claimer, struct err **e)
{
	int rc;

	(void)db;
	pthread_mutex_lock(&fake.lock);
	if (fake.owner_fails > 0) {
		fake.owner_fails--;
		pthread_mutex_unlock(&fake.lock);
		return err_set(e, ERR_UNAVAILABLE, "database unavailable: connection refused");
	}
	fake.owner_reads++;
	rc = id == EVENT_ID && strcmp(fake.state, "running") == 0 &&
	     strcmp(fake.owner, claimer) == 0;
	pthread_mutex_unlock(&fake.lock);
	return rc;
}

int db_aws_event_finish(struct db *db, long long id, const char *state, const char *status,
                        const char *error, struct err **e)
{
	(void)db;
	(void)status;
	(void)error;
	(void)e;
	pthread_mutex_lock(&fake.lock);
	if (id == EVENT_ID) {
		snprintf(fake.state, sizeof(fake.state), "%s", state);
		snprintf(fake.finished, sizeof(fake.finished), "%s", state);
		fake.finishes++;
		pthread_cond_broadcast(&fake.changed);
	}
	pthread_mutex_unlock(&fake.lock);
	return 0;
}

int db_aws_event_requeue(struct db *db, long long id, struct err **e)
{
	(void)db;
	(void)e;
	pthread_mutex_lock(&fake.lock);
	if (id == EVENT_ID && strcmp(fake.state, "running") == 0) {
		snprintf(fake.state, sizeof(fake.state), "queued");
		fake.owner[0] = '\0';
	}
	pthread_mutex_unlock(&fake.lock);
	return 0;
}

int db_aws_event_retry(struct db *db, long long id, long long delay_ms, const char *status,
                       const char *error, struct err **e)
{
	(void)delay_ms;
	(void)status;
	(void)error;
	return db_aws_event_requeue(db, id, e);
}

int db_aws_event_running(struct db *db, db_aws_event_cb fn, void *arg, struct err **e)
{
	(void)db;
	(void)fn;
	(void)arg;
	(void)e;
	return 0;
}

int db_aws_event_purge(struct db *db, long long max_age_s, struct err **e)
{
	(void)db;
	(void)max_age_s;
	(void)e;
	return 0;
}

int db_aws_invocation_status(struct db *db, const char *request_id, char **status, struct err **e)
{
	(void)db;
	(void)request_id;
	(void)status;
	(void)e;
	return 0;
}

int db_fn_get(struct db *db, const char *id_or_name, int with_code, struct function *out,
              struct err **e)
{
	(void)db;
	(void)with_code;
	(void)e;
	memset(out, 0, sizeof(*out));
	out->id = strtoll(id_or_name, NULL, 10);
	out->name = xstrdup("fn");
	return 0;
}

void function_free(struct function *f)
{
	free(f->name);
	memset(f, 0, sizeof(*f));
}

/* ------------------------------------------------ the fake run */

int invoke_run(struct worker *w, const struct invoke_req *req, struct invoke_out *out,
               int *retry_after_s, struct err **e)
{
	(void)w;
	(void)retry_after_s;
	(void)e;
	memset(out, 0, sizeof(*out));
	snprintf(out->request_id, sizeof(out->request_id), "%s", req->request_id);
	out->result = cJSON_CreateObject();
	cJSON_AddStringToObject(out->result, "status", "success");
	out->status = cJSON_GetObjectItemCaseSensitive(out->result, "status")->valuestring;
	pthread_mutex_lock(&fake.lock);
	fake.runs++;
	snprintf(fake.run_rid, sizeof(fake.run_rid), "%s", req->request_id);
	fake.run_attempt = req->attempt;
	pthread_mutex_unlock(&fake.lock);
	return 0;
}

void invoke_out_free(struct invoke_out *out)
{
	cJSON_Delete(out->result);
	out->result = NULL;
}

cJSON *invoke_record(const struct function *fn, const char *request_id, const char *source,
                     const char *isolation, const char *started_at, double total_ms,
                     const cJSON *result)
{
	(void)fn;
	(void)request_id;
	(void)source;
	(void)isolation;
	(void)started_at;
	(void)total_ms;
	(void)result;
	return cJSON_CreateObject();
}

int journal_append(struct journal *j, cJSON *rec, struct err **e)
{
	(void)j;
	(void)e;
	cJSON_Delete(rec);
	return 0;
}

void crypt_sha256_hex(const void *data, size_t len, char out[65])
{
	(void)data;
	(void)len;
	memset(out, '0', 64);
	out[64] = '\0';
}

/* ------------------------------------------------ the tests */

/* stderr (the log) goes to a temporary file while the dispatchers run. */
static FILE *log_to_file(int *saved)
{
	FILE *f = tmpfile();

	assert_non_null(f);
	*saved = dup(STDERR_FILENO);
	assert_true(*saved >= 0);
	assert_true(dup2(fileno(f), STDERR_FILENO) >= 0);
	return f;
}

static char *log_restore(FILE *f, int saved)
{
	static char text[16384];
	size_t n;

	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	rewind(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	fputs(text, stderr); /* the test's own log, for a failing run */
	return text;
}

/* Starts the dispatchers on a queued row and waits (up to 30 s: a loaded
 * machine) until it is settled; returns the log they wrote. */
static char *run_queue(int landed, int owner_fails)
{
	struct err *e = NULL;
	struct timespec until;
	int saved, rc = 0;
	FILE *log;

	pthread_mutex_lock(&fake.lock);
	fake.landed = landed;
	fake.owner_fails = owner_fails;
	snprintf(fake.state, sizeof(fake.state), "queued");
	pthread_mutex_unlock(&fake.lock);
	log = log_to_file(&saved);
	assert_int_equal(event_queue_start(&e), 0);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 30;
	pthread_mutex_lock(&fake.lock);
	while (fake.finishes == 0 && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&fake.changed, &fake.lock, &until);
	pthread_mutex_unlock(&fake.lock);
	event_queue_stop();
	return log_restore(log, saved);
}

static int reset(void **state)
{
	(void)state;
	pthread_mutex_lock(&fake.lock);
	fake.landed = fake.claims = fake.owner_fails = fake.owner_reads = 0;
	fake.runs = fake.run_attempt = fake.finishes = 0;
	fake.owner[0] = fake.state[0] = fake.run_rid[0] = fake.finished[0] = '\0';
	pthread_mutex_unlock(&fake.lock);
	app->cfg.event_max_attempts = 3;
	app->cfg.event_retry_delay_ms = 1000;
	app->cfg.journal_flush_ms = 100;
	return 0;
}

/* After claims hand-outs of the row and one read-back that answered, the
 * event ran once, as attempt 1 with its own request id, and is done. */
static void assert_ran_once(int claims)
{
	assert_int_equal(fake.claims, claims);
	assert_int_equal(fake.owner_reads, 1);
	assert_int_equal(fake.runs, 1);
	assert_string_equal(fake.run_rid, EVENT_RID);
	assert_int_equal(fake.run_attempt, 1);
	assert_int_equal(fake.finishes, 1);
	assert_string_equal(fake.finished, "done");
}

/* The COMMIT landed: the row is this dispatcher's.  The read-back first
 * meets a database that is not back yet (retried), then finds the claim
 * held, and the event runs once, with its own request id, and is done. */
static void test_lost_commit_held_runs_once(void **state)
{
	const char *log;

	(void)state;
	log = run_queue(1, 1);
	assert_ran_once(1);
	assert_non_null(strstr(log, "event 42: settling a claim whose COMMIT was lost: "
	                            "database unavailable: connection refused (retrying)"));
	assert_non_null(strstr(log, "event 42: a claim whose COMMIT was lost held: running it"));
	assert_null(strstr(log, "did not hold"));
}

/* The COMMIT did not land: the row is queued again, the dispatcher leaves
 * it, and the next claim runs it: once in all, done. */
static void test_lost_commit_not_held_claimed_again(void **state)
{
	const char *log;

	(void)state;
	log = run_queue(0, 0);
	assert_ran_once(2);
	assert_non_null(strstr(log, "event 42: a claim whose COMMIT was lost did not hold"));
	assert_null(strstr(log, "held: running it"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_lost_commit_held_runs_once, reset),
	    cmocka_unit_test_setup(test_lost_commit_not_held_claimed_again, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
