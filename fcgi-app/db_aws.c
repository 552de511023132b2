/* db_aws.c: the SQL of the AWS-compatible API and the event queue.
 * Prepared statements only; strings are never spliced. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "db_aws.h"
#include "log.h"
#include "xalloc.h"

/* ============================================================ functions */

#define AWS_FN_COLS                                                                                \
	"f.id, f.name, f.runtime, f.handler, f.code_sha256, f.code_size, f.timeout_ms, "           \
	"f.memory_mb, f.env, f.version, "                                                          \
	"CONCAT(DATE_FORMAT(f.updated_at, '%Y-%m-%dT%H:%i:%s.'), "                                 \
	"LPAD(MICROSECOND(f.updated_at) DIV 1000, 3, '0'), 'Z'), "                                 \
	"a.aws_runtime, a.role, a.description, f.url_auth"

static const char SQL_AWS_FN_GET[] =
    "SELECT " AWS_FN_COLS " FROM functions f LEFT JOIN aws_functions a "
    "ON a.function_id = f.id WHERE f.name = ?";
static const char SQL_AWS_FN_LIST[] =
    "SELECT " AWS_FN_COLS " FROM functions f LEFT JOIN aws_functions a "
    "ON a.function_id = f.id WHERE f.id > ? ORDER BY f.id LIMIT ?";
static const char SQL_AWS_META_PUT[] =
    "INSERT INTO aws_functions (function_id, aws_runtime, role, description) "
    "VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE aws_runtime = VALUES(aws_runtime), "
    "role = VALUES(role), description = VALUES(description)";

static char *dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static void fn_from_row(const struct db_row *r, struct aws_fn *f)
{
	memset(f, 0, sizeof(*f));
	f->id = db_row_i64(r, 0);
	f->name = dup_or_null(r->v[1]);
	f->runtime = dup_or_null(r->v[2]);
	f->handler = dup_or_null(r->v[3]);
	snprintf(f->code_sha256, sizeof(f->code_sha256), "%s", r->v[4] != NULL ? r->v[4] : "");
	f->code_size = db_row_i64(r, 5);
	f->timeout_ms = db_row_i64(r, 6);
	f->memory_mb = db_row_i64(r, 7);
	f->env = xstrdup(r->v[8] != NULL ? r->v[8] : "{}");
	f->version = db_row_i64(r, 9);
	f->updated_at = xstrdup(r->v[10] != NULL ? r->v[10] : "");
	f->aws_runtime = dup_or_null(r->v[11]);
	f->role = dup_or_null(r->v[12]);
	f->description = dup_or_null(r->v[13]);
	f->url_auth = xstrdup(r->v[14] != NULL ? r->v[14] : "key");
}

void db_aws_fn_free(struct aws_fn *f)
{
	free(f->name);
	free(f->runtime);
	free(f->handler);
	free(f->env);
	free(f->updated_at);
	free(f->aws_runtime);
	free(f->role);
	free(f->description);
	free(f->url_auth);
	memset(f, 0, sizeof(*f));
}

static int one_fn(const struct db_row *r, void *arg)
{
	fn_from_row(r, arg);
	return 1;
}

int db_aws_fn_get(struct db *db, const char *name, struct aws_fn *out, struct err **e)
{
	struct db_param p = DBP_STR(name);
	struct aws_fn f;
	int rc;

	memset(&f, 0, sizeof(f));
	rc = db_query(db, SQL_AWS_FN_GET, &p, 1, one_fn, &f, e);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return err_set(e, ERR_NOT_FOUND, "no function named '%s'", name);
	*out = f;
	return 0;
}

struct list_ctx {
	db_aws_fn_cb fn;
	void *arg;
};

static int list_row(const struct db_row *r, void *arg)
{
	struct list_ctx *c = arg;
	struct aws_fn f;
	int rc;

	fn_from_row(r, &f);
	rc = c->fn(&f, c->arg);
	db_aws_fn_free(&f);
	return rc;
}

int db_aws_fn_list(struct db *db, long long after_id, int limit, db_aws_fn_cb fn, void *arg,
                   struct err **e)
{
	struct db_param p[2] = {DBP_I64(after_id), DBP_I64(limit)};
	struct list_ctx c = {fn, arg};

	return db_query(db, SQL_AWS_FN_LIST, p, 2, list_row, &c, e) < 0 ? -1 : 0;
}

int db_aws_meta_put(struct db *db, long long function_id, const char *aws_runtime, const char *role,
                    const char *description, struct err **e)
{
	struct db_param p[4] = {DBP_I64(function_id), DBP_STR(aws_runtime), DBP_STR(role),
	                        DBP_STR(description)};

	return db_exec(db, SQL_AWS_META_PUT, p, 4, NULL, NULL, e);
}

/* ============================================================ event queue */

static const char SQL_EV_INSERT[] =
    "INSERT INTO event_queue (request_id, function_id, function_name, payload) "
    "VALUES (?, ?, ?, ?)";
static const char SQL_EV_BEGIN[] = "START TRANSACTION";
static const char SQL_EV_COMMIT[] = "COMMIT";
static const char SQL_EV_ROLLBACK[] = "ROLLBACK";
static const char SQL_EV_PICK[] =
    "SELECT id, request_id, function_id, function_name, payload, attempts + 1 FROM event_queue "
    "WHERE state = 'queued' AND (run_after IS NULL OR run_after <= CURRENT_TIMESTAMP(3)) "
    "ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED";
static const char SQL_EV_MARK[] =
    "UPDATE event_queue SET state = 'running', claimed_by = ?, claimed_at = "
    "CURRENT_TIMESTAMP(3), attempts = attempts + 1 WHERE id = ? AND state = 'queued'";
static const char SQL_EV_FINISH[] =
    "UPDATE event_queue SET state = ?, result_status = ?, error = ?, finished_at = "
    "CURRENT_TIMESTAMP(3) WHERE id = ?";
static const char SQL_EV_REQUEUE[] =
    "UPDATE event_queue SET state = 'queued', claimed_by = NULL, claimed_at = NULL, "
    "attempts = GREATEST(attempts, 1) - 1 WHERE id = ? AND state = 'running'";
static const char SQL_EV_RETRY[] =
    "UPDATE event_queue SET state = 'queued', claimed_by = NULL, claimed_at = NULL, "
    "run_after = CURRENT_TIMESTAMP(3) + INTERVAL ? MICROSECOND, result_status = ?, error = ? "
    "WHERE id = ? AND state = 'running'";
static const char SQL_EV_RUNNING[] =
    "SELECT id, request_id, function_id, function_name, '', attempts, claimed_by "
    "FROM event_queue WHERE state = 'running' ORDER BY id";
static const char SQL_EV_OWNER[] =
    "SELECT claimed_by FROM event_queue WHERE id = ? AND state = 'running'";
static const char SQL_EV_COUNT[] = "SELECT COUNT(*) FROM event_queue WHERE state = ?";
static const char SQL_EV_PURGE[] =
    "DELETE FROM event_queue WHERE state IN ('done', 'failed') AND finished_at < "
    "CURRENT_TIMESTAMP(3) - INTERVAL ? SECOND";
static const char SQL_EV_QUEUED[] = "SELECT COUNT(*) FROM event_queue WHERE request_id = ?";
static const char SQL_INV_STATUS[] = "SELECT status FROM invocations WHERE request_id = ?";

static int one_count(const struct db_row *r, void *arg)
{
	*(long long *)arg = db_row_i64(r, 0);
	return 1;
}

void db_aws_event_free(struct aws_event *ev)
{
	free(ev->function_name);
	free(ev->payload);
	free(ev->claimed_by);
	memset(ev, 0, sizeof(*ev));
}

static void ev_from_row(const struct db_row *r, struct aws_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->id = db_row_i64(r, 0);
	snprintf(ev->request_id, sizeof(ev->request_id), "%s", r->v[1] != NULL ? r->v[1] : "");
	ev->function_id = db_row_i64(r, 2);
	ev->function_name = xstrdup(r->v[3] != NULL ? r->v[3] : "");
	ev->payload_len = r->v[4] != NULL ? r->len[4] : 0;
	ev->payload = xmalloc(ev->payload_len + 1);
	if (ev->payload_len > 0)
		memcpy(ev->payload, r->v[4], ev->payload_len);
	ev->payload[ev->payload_len] = '\0';
	ev->attempt = (int)db_row_i64(r, 5);
	if (r->n > 6)
		ev->claimed_by = dup_or_null(r->v[6]);
}

int db_aws_event_insert(struct db *db, const char *request_id, long long function_id,
                        const char *function_name, const char *payload, size_t len, struct err **e)
{
	struct db_param p[4] = {DBP_STR(request_id), DBP_I64(function_id), DBP_STR(function_name),
	                        DBP_BLOB(payload != NULL ? payload : "", len)};
	struct err *e1 = NULL;
	long long n = 0;
	int unknown = 0;

	if (db_write_once(db, SQL_EV_INSERT, p, 4, NULL, NULL, &unknown, &e1) == 0)
		return 0;
	if (!unknown) {
		*e = e1;
		return -1;
	}
	/* The connection broke after sending: queued or not, the answer must
	 * say which (a 202 for a lost call, or a 503 for a queued one that the
	 * client sends again, would both be wrong). */
	if (db_settle(db, e) < 0 || db_query(db, SQL_EV_QUEUED, p, 1, one_count, &n, e) < 0) {
		log_warnx("event %s: connection lost during INSERT (%s); settled: unknown",
		          request_id, err_msg(e1));
		err_free(&e1);
		return err_wrap(e, "the event may or may not be queued");
	}
	log_warnx("event %s: connection lost during INSERT (%s); settled: %s", request_id,
	          err_msg(e1), n > 0 ? "queued" : "not queued");
	err_free(&e1);
	if (n == 0)
		return err_set(e, ERR_UNAVAILABLE,
		               "database unavailable: the connection was lost "
		               "while queueing the event; it was not queued");
	return 0;
}

static int one_ev(const struct db_row *r, void *arg)
{
	ev_from_row(r, arg);
	return 1;
}

int db_aws_event_claim(struct db *db, const char *claimer, struct aws_event *out, struct err **e)
{
	struct aws_event ev;
	struct db_param p[2];
	unsigned long long n = 0;
	int rc, unknown = 0;

	memset(&ev, 0, sizeof(ev));
	if (db_exec(db, SQL_EV_BEGIN, NULL, 0, NULL, NULL, e) < 0)
		return -1;
	rc = db_query(db, SQL_EV_PICK, NULL, 0, one_ev, &ev, e);
	if (rc <= 0)
		goto rollback;
	p[0] = DBP_STR(claimer);
	p[1] = DBP_I64(ev.id);
	/* "AND state = 'queued'" keeps the claim exclusive even if the lock
	 * was lost to a reconnection in between. */
	if (db_exec(db, SQL_EV_MARK, p, 2, &n, NULL, e) < 0) {
		rc = -1;
		goto rollback;
	}
	if (n != 1) {
		rc = 0;
		goto rollback;
	}
	/* Sent once: a COMMIT re-sent on a new connection "succeeds" with the
	 * claim rolled back, and one lost after sending may have landed. */
	if (db_write_once(db, SQL_EV_COMMIT, NULL, 0, NULL, NULL, &unknown, e) < 0) {
		if (!unknown) {
			db_aws_event_free(&ev);
			return -1;
		}
		rc = -2;
	} else {
		rc = 1;
	}
	ev.claimed_by = xstrdup(claimer);
	*out = ev;
	return rc;
rollback:
	db_aws_event_free(&ev);
	{
		struct err *e2 = NULL; /* the first error is the one to report */
		db_exec(db, SQL_EV_ROLLBACK, NULL, 0, NULL, NULL, &e2);
		err_free(&e2);
	}
	return rc;
}

static int owner_row(const struct db_row *r, void *arg)
{
	char **owner = arg;

	*owner = xstrdup(r->v[0] != NULL ? r->v[0] : "");
	return 1;
}

int db_aws_event_claimed(struct db *db, long long id, const char *claimer, struct err **e)
{
	struct db_param p = DBP_I64(id);
	_cleanup_free_ char *owner = NULL;

	if (db_settle(db, e) < 0 || db_query(db, SQL_EV_OWNER, &p, 1, owner_row, &owner, e) < 0)
		return -1;
	return owner != NULL && strcmp(owner, claimer) == 0;
}

int db_aws_event_finish(struct db *db, long long id, const char *state, const char *status,
                        const char *error, struct err **e)
{
	struct db_param p[4] = {DBP_STR(state), DBP_STR_OR_NULL(status), DBP_STR_OR_NULL(error),
	                        DBP_I64(id)};

	return db_exec(db, SQL_EV_FINISH, p, 4, NULL, NULL, e);
}

int db_aws_event_requeue(struct db *db, long long id, struct err **e)
{
	struct db_param p = DBP_I64(id);

	return db_exec(db, SQL_EV_REQUEUE, &p, 1, NULL, NULL, e);
}

int db_aws_event_retry(struct db *db, long long id, long long delay_ms, const char *status,
                       const char *error, struct err **e)
{
	struct db_param p[4] = {DBP_I64(delay_ms * 1000), DBP_STR_OR_NULL(status),
	                        DBP_STR_OR_NULL(error), DBP_I64(id)};

	return db_exec(db, SQL_EV_RETRY, p, 4, NULL, NULL, e);
}

struct ev_ctx {
	db_aws_event_cb fn;
	void *arg;
};

static int ev_row(const struct db_row *r, void *arg)
{
	struct ev_ctx *c = arg;
	struct aws_event ev;
	int rc;

	ev_from_row(r, &ev);
	rc = c->fn(&ev, c->arg);
	db_aws_event_free(&ev);
	return rc;
}

int db_aws_event_running(struct db *db, db_aws_event_cb fn, void *arg, struct err **e)
{
	struct ev_ctx c = {fn, arg};

	return db_query(db, SQL_EV_RUNNING, NULL, 0, ev_row, &c, e) < 0 ? -1 : 0;
}

int db_aws_event_count(struct db *db, const char *state, long long *n, struct err **e)
{
	struct db_param p = DBP_STR(state);
	long long v = 0;

	if (db_query(db, SQL_EV_COUNT, &p, 1, one_count, &v, e) < 0)
		return -1;
	*n = v;
	return 0;
}

int db_aws_event_purge(struct db *db, long long max_age_s, struct err **e)
{
	struct db_param p = DBP_I64(max_age_s);

	return db_exec(db, SQL_EV_PURGE, &p, 1, NULL, NULL, e);
}

static int one_str(const struct db_row *r, void *arg)
{
	*(char **)arg = xstrdup(r->v[0] != NULL ? r->v[0] : "");
	return 1;
}

int db_aws_invocation_status(struct db *db, const char *request_id, char **status, struct err **e)
{
	struct db_param p = DBP_STR(request_id);
	char *s = NULL;
	int rc = db_query(db, SQL_INV_STATUS, &p, 1, one_str, &s, e);

	if (rc < 0)
		return -1;
	if (rc == 0)
		return 0;
	*status = s;
	return 1;
}
