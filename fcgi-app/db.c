/* db.c: the connection, the statement cache and the generic query runner.
 * The SQL of the core resources lives in db_functions.c, db_keys.c,
 * db_invocations.c. */
#include <config.h>

#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>

#include "buf.h"
#include "cleanup.h"
#include "conf.h"
#include "db.h"
#include "log.h"
#include "xalloc.h"

#define DB_MAX_STMTS 64
#define DB_COL_INIT  256

struct cached_stmt {
	const char *sql; /* key: the address of a static string */
	MYSQL_STMT *stmt;
};

struct db {
	const struct config *cfg;
	unsigned int rw_timeout_s; /* api.db_rw_timeout_s, or the bulk one */
	MYSQL *conn;               /* NULL while disconnected */
	struct cached_stmt stmts[DB_MAX_STMTS];
	int nstmts;
	struct db *bulk; /* the code writers' sibling (db_bulk), lazily made */
	int is_bulk;
	/* The server's id of the connection whose last write's outcome is
	 * unknown (0 = none): db_settle waits for its statement to end. */
	unsigned long lost_conn_id;
	const char *lost_sql; /* its statement (static storage) */
};

void db_library_init(void)
{
	mysql_library_init(0, NULL, NULL);
}

void db_thread_init(void)
{
	mysql_thread_init();
}

void db_thread_end(void)
{
	mysql_thread_end();
}

struct db *db_new(const struct config *cfg)
{
	struct db *db = xcalloc(1, sizeof(*db));

	db->cfg = cfg;
	db->rw_timeout_s = (unsigned int)cfg->db_rw_timeout_s;
	return db;
}

struct db *db_bulk(struct db *db)
{
	if (db->is_bulk)
		return db;
	if (db->bulk == NULL) {
		db->bulk = db_new(db->cfg);
		db->bulk->rw_timeout_s = (unsigned int)db->cfg->db_bulk_timeout_s;
		db->bulk->is_bulk = 1;
	}
	return db->bulk;
}

static void db_disconnect(struct db *db)
{
	for (int i = 0; i < db->nstmts; i++)
		mysql_stmt_close(db->stmts[i].stmt);
	db->nstmts = 0;
	if (db->conn != NULL)
		mysql_close(db->conn);
	db->conn = NULL;
}

void db_free(struct db *db)
{
	if (db == NULL)
		return;
	db_disconnect(db);
	db_free(db->bulk);
	free(db);
}

static int is_gone(unsigned int code)
{
	return code == CR_SERVER_GONE_ERROR || code == CR_SERVER_LOST ||
	       code == CR_CONNECTION_ERROR || code == CR_CONN_HOST_ERROR ||
	       code == CR_SERVER_LOST_EXTENDED || code == ER_CONNECTION_KILLED ||
	       code == ER_SERVER_SHUTDOWN;
}

/* Maps a MariaDB error to ours. */
static int db_error(struct err **e, unsigned int code, const char *msg)
{
	if (is_gone(code) || (code >= 2000 && code < 3000))
		return err_set(e, ERR_UNAVAILABLE, "database unavailable: %s", msg);
	if (code == ER_DUP_ENTRY)
		return err_set(e, ERR_CONFLICT, "duplicate: %s", msg);
	/* the values themselves are refused: retrying cannot help */
	if (code == ER_TRUNCATED_WRONG_VALUE_FOR_FIELD || code == ER_DATA_TOO_LONG ||
	    code == ER_WARN_DATA_OUT_OF_RANGE || code == WARN_DATA_TRUNCATED ||
	    code == ER_BAD_NULL_ERROR || code == ER_TRUNCATED_WRONG_VALUE)
		return err_set(e, ERR_INVALID, "value refused by the database: %s", msg);
	if (code == ER_LOCK_WAIT_TIMEOUT || code == ER_LOCK_DEADLOCK)
		return err_set(e, ERR_UNAVAILABLE, "database busy: %s", msg);
	return err_set(e, ERR_INTERNAL, "database error %u: %s", code, msg);
}

/* An idle connection has nothing to read: if its socket is readable or hung
 * up, the server closed it (or sent a "connection killed" packet) while we
 * were not looking.  One poll(2), no round trip. */
static int conn_stale(MYSQL *m)
{
	struct pollfd pfd = {.fd = (int)mysql_get_socket(m), .events = POLLIN | POLLRDHUP};

	if (pfd.fd < 0)
		return 1;
	if (poll(&pfd, 1, 0) < 0)
		return 0;
	return (pfd.revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

static int db_connect(struct db *db, struct err **e)
{
	const struct config *c = db->cfg;
	unsigned int ct = (unsigned int)c->db_connect_timeout_s;
	unsigned int rw = db->rw_timeout_s;
	my_bool off = 0;
	MYSQL *m;

	if (db->conn != NULL) {
		if (!conn_stale(db->conn))
			return 0;
		/* The server went away while we were idle (restart, kill): start
		 * afresh now, before a statement is sent into a dead socket and
		 * fails in a way that cannot safely be retried (2013). */
		log_info("database connection closed by the server while idle; reconnecting");
		db_disconnect(db);
	}
	m = mysql_init(NULL);
	if (m == NULL)
		return err_set(e, ERR_INTERNAL, "mysql_init failed");
	mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
	mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &rw);
	mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &rw);
	mysql_options(m, MYSQL_OPT_RECONNECT, &off);
	mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_options(m, MYSQL_INIT_COMMAND,
	              "SET time_zone = '+00:00', sql_mode = "
	              "'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ENGINE_SUBSTITUTION'");
	if (mysql_real_connect(m, NULL, c->db_user, c->db_password, c->db_name, 0, c->db_socket,
	                       CLIENT_FOUND_ROWS) == NULL) {
		db_error(e, mysql_errno(m), mysql_error(m));
		mysql_close(m);
		return -1;
	}
	db->conn = m;
	return 0;
}

int db_ping(struct db *db, struct err **e)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		if (db_connect(db, e) < 0)
			return -1;
		if (mysql_ping(db->conn) == 0)
			return 0;
		if (!is_gone(mysql_errno(db->conn)) || attempt == 1) {
			db_error(e, mysql_errno(db->conn), mysql_error(db->conn));
			db_disconnect(db);
			return -1;
		}
		db_disconnect(db);
	}
	return err_set(e, ERR_UNAVAILABLE, "database unavailable");
}

static MYSQL_STMT *prepare(struct db *db, const char *sql, struct err **e)
{
	MYSQL_STMT *st = mysql_stmt_init(db->conn);

	if (st == NULL) {
		db_error(e, mysql_errno(db->conn), mysql_error(db->conn));
		return NULL;
	}
	if (mysql_stmt_prepare(st, sql, (unsigned long)strlen(sql)) != 0) {
		db_error(e, mysql_stmt_errno(st), mysql_stmt_error(st));
		mysql_stmt_close(st);
		return NULL;
	}
	return st;
}

static MYSQL_STMT *cached(struct db *db, const char *sql, struct err **e)
{
	MYSQL_STMT *st;

	for (int i = 0; i < db->nstmts; i++)
		if (db->stmts[i].sql == sql)
			return db->stmts[i].stmt;
	st = prepare(db, sql, e);
	if (st == NULL)
		return NULL;
	if (db->nstmts == DB_MAX_STMTS) {
		/* full: drop the oldest (statements are cheap to prepare again) */
		mysql_stmt_close(db->stmts[0].stmt);
		memmove(db->stmts, db->stmts + 1, sizeof(db->stmts[0]) * (DB_MAX_STMTS - 1));
		db->nstmts--;
	}
	db->stmts[db->nstmts].sql = sql;
	db->stmts[db->nstmts].stmt = st;
	db->nstmts++;
	return st;
}

/* Binds the parameters and executes.  The length array lives on this
 * stack frame, which is why binding and executing happen together.  *sent
 * is set once the statement may have reached the server. */
static int bind_execute(MYSQL_STMT *st, const struct db_param *p, int np, int *sent, struct err **e)
{
	MYSQL_BIND *b;
	unsigned long *lens;
	int rc = 0;

	if (np > DB_MAX_PARAMS || (unsigned long)np != mysql_stmt_param_count(st))
		return err_set(e, ERR_INTERNAL, "statement wants %lu parameters, got %d",
		               mysql_stmt_param_count(st), np);
	b = xcalloc((size_t)np + 1, sizeof(*b));
	lens = xcalloc((size_t)np + 1, sizeof(*lens));
	for (int i = 0; i < np; i++) {
		switch (p[i].type) {
		case DB_NULL:
			b[i].buffer_type = MYSQL_TYPE_NULL;
			break;
		case DB_I64:
			b[i].buffer_type = MYSQL_TYPE_LONGLONG;
			b[i].buffer = (void *)&p[i].i;
			break;
		case DB_DOUBLE:
			b[i].buffer_type = MYSQL_TYPE_DOUBLE;
			b[i].buffer = (void *)&p[i].d;
			break;
		default:
			b[i].buffer_type = MYSQL_TYPE_STRING;
			b[i].buffer = (void *)(p[i].s != NULL ? p[i].s : "");
			lens[i] = (unsigned long)p[i].len;
			b[i].buffer_length = lens[i];
			b[i].length = &lens[i];
			break;
		}
	}
	if (np > 0 && mysql_stmt_bind_param(st, b) != 0) {
		rc = db_error(e, mysql_stmt_errno(st), mysql_stmt_error(st));
	} else {
		*sent = 1;
		if (mysql_stmt_execute(st) != 0)
			rc = db_error(e, mysql_stmt_errno(st), mysql_stmt_error(st));
	}
	free(b);
	free(lens);
	return rc;
}

struct result {
	int ncols;
	MYSQL_BIND *b;
	char **bufs;
	unsigned long *lens;
	my_bool *nulls;
	my_bool *errs;
	char **vals;
	int rebind; /* a buffer grew: bind again before the next fetch */
};

static void result_free(struct result *r)
{
	for (int i = 0; i < r->ncols; i++)
		free(r->bufs[i]);
	free(r->b);
	free(r->bufs);
	free(r->lens);
	free(r->nulls);
	free(r->errs);
	free(r->vals);
}

static int result_bind(MYSQL_STMT *st, struct result *r, struct err **e)
{
	r->ncols = (int)mysql_stmt_field_count(st);
	r->b = xcalloc((size_t)r->ncols + 1, sizeof(*r->b));
	r->bufs = xcalloc((size_t)r->ncols + 1, sizeof(char *));
	r->lens = xcalloc((size_t)r->ncols + 1, sizeof(unsigned long));
	r->nulls = xcalloc((size_t)r->ncols + 1, sizeof(my_bool));
	r->errs = xcalloc((size_t)r->ncols + 1, sizeof(my_bool));
	r->vals = xcalloc((size_t)r->ncols + 1, sizeof(char *));
	for (int i = 0; i < r->ncols; i++) {
		r->bufs[i] = xmalloc(DB_COL_INIT);
		r->b[i].buffer_type = MYSQL_TYPE_STRING;
		r->b[i].buffer = r->bufs[i];
		r->b[i].buffer_length = DB_COL_INIT - 1;
		r->b[i].length = &r->lens[i];
		r->b[i].is_null = &r->nulls[i];
		r->b[i].error = &r->errs[i];
	}
	if (r->ncols > 0 && mysql_stmt_bind_result(st, r->b) != 0)
		return db_error(e, mysql_stmt_errno(st), mysql_stmt_error(st));
	return 0;
}

/* Fetches the columns that did not fit, then NUL-terminates all. */
static int result_complete(MYSQL_STMT *st, struct result *r, struct err **e)
{
	for (int i = 0; i < r->ncols; i++) {
		if (r->nulls[i]) {
			r->vals[i] = NULL;
			continue;
		}
		if (r->lens[i] >= r->b[i].buffer_length) {
			MYSQL_BIND one;
			unsigned long need = r->lens[i];

			r->bufs[i] = xrealloc(r->bufs[i], (size_t)need + 1);
			memset(&one, 0, sizeof(one));
			one.buffer_type = MYSQL_TYPE_STRING;
			one.buffer = r->bufs[i];
			one.buffer_length = need + 1;
			one.length = &r->lens[i];
			if (mysql_stmt_fetch_column(st, &one, (unsigned int)i, 0) != 0)
				return db_error(e, mysql_stmt_errno(st), mysql_stmt_error(st));
			/* the next row binds the grown buffer */
			r->b[i].buffer = r->bufs[i];
			r->b[i].buffer_length = need;
			r->rebind = 1;
		}
		r->bufs[i][r->lens[i]] = '\0';
		r->vals[i] = r->bufs[i];
	}
	return 0;
}

static int fetch_rows(MYSQL_STMT *st, db_row_fn fn, void *arg, struct err **e)
{
	struct result r;
	int rc = 0, stop = 0;

	memset(&r, 0, sizeof(r));
	if (result_bind(st, &r, e) < 0) {
		result_free(&r);
		return -1;
	}
	for (;;) {
		int f;

		if (r.rebind) {
			if (mysql_stmt_bind_result(st, r.b) != 0) {
				rc = db_error(e, mysql_stmt_errno(st), mysql_stmt_error(st));
				break;
			}
			r.rebind = 0;
		}
		f = mysql_stmt_fetch(st);
		if (f == MYSQL_NO_DATA)
			break;
		if (f == 1) {
			rc = db_error(e, mysql_stmt_errno(st), mysql_stmt_error(st));
			break;
		}
		if (stop != 0)
			continue; /* drain the rest */
		if (result_complete(st, &r, e) < 0) {
			rc = -1;
			break;
		}
		if (fn != NULL) {
			struct db_row row = {r.ncols, r.vals, r.lens};
			stop = fn(&row, arg);
		}
	}
	mysql_stmt_free_result(st);
	result_free(&r);
	return rc < 0 ? -1 : stop;
}

/* The parts of a statement's run that do not change between attempts
 * (inputs only: what a run did comes back in a struct run_out of the
 * caller's, passed along as an argument, so that no address of a local
 * is ever kept in here). */
struct run_args {
	const char *sql;
	int cache; /* keep it prepared (sql has static storage) */
	int once;  /* never re-send (see db_write_once) */
	const struct db_param *p;
	int np;
	db_row_fn fn;
	void *arg;
};

/* What a run did besides its rows, whatever its outcome. */
struct run_out {
	unsigned long long affected, insert_id;
	int unknown; /* once: it failed after sending and may or may not have run */
};

/* One attempt: returns -1 with *e, or what fetch_rows returned. */
static int run_once(MYSQL_STMT *st, const struct run_args *a, struct run_out *o, int *sent,
                    struct err **e)
{
	int rc;

	if (bind_execute(st, a->p, a->np, sent, e) < 0)
		return -1;
	o->affected = (unsigned long long)mysql_stmt_affected_rows(st);
	o->insert_id = (unsigned long long)mysql_stmt_insert_id(st);
	if (mysql_stmt_field_count(st) == 0)
		return 0;
	if (mysql_stmt_store_result(st) != 0)
		return db_error(e, mysql_stmt_errno(st), mysql_stmt_error(st));
	rc = fetch_rows(st, a->fn, a->arg, e);
	return rc;
}

/* Whether a failed statement may run again on a new connection: only when
 * it cannot have reached the server (gone away before sending, server said
 * it shuts down or killed us, statement handle stale).  "Lost connection
 * during query" (2013) and timeouts are not retried: an INSERT may have been
 * done, and a hung server must answer 503 quickly, not twice as slowly. */
static int retryable(struct db *db, MYSQL_STMT *st)
{
	unsigned int code = st != NULL ? mysql_stmt_errno(st) : 0;

	if (code == 0 && db->conn != NULL)
		code = mysql_errno(db->conn);
	return code == CR_SERVER_GONE_ERROR || code == ER_CONNECTION_KILLED ||
	       code == ER_SERVER_SHUTDOWN || code == ER_UNKNOWN_STMT_HANDLER ||
	       code == ER_NEED_REPREPARE;
}

/* Whether a failure after sending leaves the statement's outcome open: the
 * connection broke (lost, timed out, killed, server shutting down) before
 * the server's answer arrived. */
static int outcome_open(struct db *db, MYSQL_STMT *st)
{
	unsigned int code = st != NULL ? mysql_stmt_errno(st) : 0;

	if (code == 0 && db->conn != NULL)
		code = mysql_errno(db->conn);
	return (code >= 2000 && code < 3000) || code == ER_CONNECTION_KILLED ||
	       code == ER_SERVER_SHUTDOWN;
}

static int run(struct db *db, const struct run_args *a, struct run_out *o, struct err **e)
{
	for (int attempt = 0;; attempt++) {
		struct err *e1 = NULL;
		MYSQL_STMT *st = NULL;
		unsigned long conn_id = 0;
		int rc = -1, sent = 0;

		if (db_connect(db, &e1) == 0) {
			conn_id = mysql_thread_id(db->conn);
			st = a->cache ? cached(db, a->sql, &e1) : prepare(db, a->sql, &e1);
			if (st != NULL)
				rc = run_once(st, a, o, &sent, &e1);
		}
		if (rc < 0 && a->once && sent && e1 != NULL && outcome_open(db, st)) {
			db->lost_conn_id = conn_id;
			db->lost_sql = a->sql;
			o->unknown = 1;
		}
		if (rc >= 0 || attempt == 1 || e1 == NULL || db->conn == NULL ||
		    (a->once && sent) || !retryable(db, st)) {
			if (!a->cache && st != NULL)
				mysql_stmt_close(st);
			if (rc < 0) {
				/* A dead connection is dropped: the next call reconnects. */
				if (e1 != NULL && e1->code == ERR_UNAVAILABLE)
					db_disconnect(db);
				*e = e1;
			}
			return rc;
		}
		log_warnx("database connection lost (%s); reconnecting", err_msg(e1));
		if (!a->cache && st != NULL)
			mysql_stmt_close(st);
		err_free(&e1);
		db_disconnect(db);
	}
}

int db_query(struct db *db, const char *sql, const struct db_param *p, int np, db_row_fn fn,
             void *arg, struct err **e)
{
	const struct run_args a = {sql, 1, 0, p, np, fn, arg};
	struct run_out o = {0, 0, 0};

	return run(db, &a, &o, e);
}

/* A statement that returns no rows (db_exec, db_write_once, db_exec_once):
 * *affected and *insert_id (each may be NULL) are written on success only,
 * *unknown (may be NULL) on failure only. */
static int run_write(struct db *db, const struct run_args *a, unsigned long long *affected,
                     unsigned long long *insert_id, int *unknown, struct err **e)
{
	struct run_out o = {0, 0, 0};

	if (run(db, a, &o, e) < 0) {
		if (unknown != NULL)
			*unknown = o.unknown;
		return -1;
	}
	if (affected != NULL)
		*affected = o.affected;
	if (insert_id != NULL)
		*insert_id = o.insert_id;
	return 0;
}

int db_exec(struct db *db, const char *sql, const struct db_param *p, int np,
            unsigned long long *affected, unsigned long long *insert_id, struct err **e)
{
	const struct run_args a = {sql, 1, 0, p, np, NULL, NULL};

	return run_write(db, &a, affected, insert_id, NULL, e);
}

int db_write_once(struct db *db, const char *sql, const struct db_param *p, int np,
                  unsigned long long *affected, unsigned long long *insert_id, int *unknown,
                  struct err **e)
{
	const struct run_args a = {sql, 1, 1, p, np, NULL, NULL};

	return run_write(db, &a, affected, insert_id, unknown, e);
}

/* The lost connection, while it still runs our statement (a connection id
 * is reused only after a server restart, and then runs something else). */
static const char SQL_CONN_BUSY[] = "SELECT COUNT(*) FROM information_schema.PROCESSLIST "
                                    "WHERE ID = ? AND COMMAND <> 'Sleep' AND INFO = ?";

static int one_count(const struct db_row *r, void *arg)
{
	*(long long *)arg = db_row_i64(r, 0);
	return 1;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Waits until the lost connection no longer runs the statement, for up to
 * wait_s: 1 when it is done, 0 when it still runs. */
static int wait_done(struct db *db, int wait_s, struct err **e)
{
	struct db_param p[2] = {DBP_I64((long long)db->lost_conn_id), DBP_STR(db->lost_sql)};
	time_t deadline = time(NULL) + wait_s;

	for (;;) {
		long long busy = 0;

		if (db_query(db, SQL_CONN_BUSY, p, 2, one_count, &busy, e) < 0)
			return -1;
		if (busy == 0)
			return 1;
		if (time(NULL) >= deadline)
			return 0;
		sleep_ms(100);
	}
}

/* The server goes on with a statement whose client went away (and commits
 * it); only once it has ended is the outcome settled.  After
 * api.db_bulk_timeout_s it is killed (rolled back), which settles it too.
 * A user sees its own connections without the PROCESS privilege. */
int db_settle(struct db *db, struct err **e)
{
	int rc;

	if (db->lost_conn_id == 0)
		return 0;
	rc = wait_done(db, db->cfg->db_bulk_timeout_s, e);
	if (rc == 0) {
		log_warnx("a write of lost connection %lu still runs after %d s: killing it",
		          db->lost_conn_id, db->cfg->db_bulk_timeout_s);
		if (db->conn != NULL && mysql_kill(db->conn, db->lost_conn_id) != 0)
			log_warnx("KILL %lu: %s", db->lost_conn_id, mysql_error(db->conn));
		rc = wait_done(db, 10, e);
	}
	if (rc < 0)
		return err_wrap(e, "settling a write whose connection was lost");
	if (rc == 0)
		return err_set(e, ERR_UNAVAILABLE,
		               "database unavailable: a write whose connection was lost could not "
		               "be settled");
	db->lost_conn_id = 0;
	return 0;
}

/* "head (?, ..., ?), (...) tail" with rows x cols placeholders; caller frees. */
static char *db_values_sql(const char *head, int rows, int cols, const char *tail)
{
	struct buf b;

	buf_init(&b, (size_t)1 << 20);
	buf_append(&b, head, strlen(head), NULL);
	for (int r = 0; r < rows; r++) {
		buf_append(&b, r ? ",(" : "(", r ? 2 : 1, NULL);
		for (int c = 0; c < cols; c++)
			buf_append(&b, c ? ",?" : "?", c ? 2 : 1, NULL);
		buf_append(&b, ")", 1, NULL);
	}
	buf_append(&b, tail, strlen(tail), NULL);
	return buf_take(&b);
}

/* A statement built at run time: prepared, run and closed, never cached. */
static int db_exec_once(struct db *db, const char *sql, const struct db_param *p, int np,
                        unsigned long long *affected, unsigned long long *insert_id, struct err **e)
{
	const struct run_args a = {sql, 0, 0, p, np, NULL, NULL};

	return run_write(db, &a, affected, insert_id, NULL, e);
}

/* The texts of the kept shapes, made once per process and never freed:
 * the statement cache is keyed by the address of a text that lives as long
 * as the process.  Beyond DB_KEPT_SHAPES shapes, statements run once. */
#define DB_KEPT_SHAPES 48
static struct {
	const char *head, *tail;
	int rows, cols;
	char *sql;
} kept[DB_KEPT_SHAPES];
static int nkept;
static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *kept_sql(const char *head, int rows, int cols, const char *tail)
{
	const char *sql = NULL;

	pthread_mutex_lock(&kept_lock);
	for (int i = 0; i < nkept && sql == NULL; i++)
		if (kept[i].head == head && kept[i].tail == tail && kept[i].rows == rows &&
		    kept[i].cols == cols)
			sql = kept[i].sql;
	if (sql == NULL && nkept < DB_KEPT_SHAPES) {
		kept[nkept].head = head;
		kept[nkept].tail = tail;
		kept[nkept].rows = rows;
		kept[nkept].cols = cols;
		kept[nkept].sql = db_values_sql(head, rows, cols, tail);
		sql = kept[nkept++].sql;
	}
	pthread_mutex_unlock(&kept_lock);
	return sql;
}

int db_exec_values(struct db *db, const char *head, int rows, int cols, const char *tail, int keep,
                   const struct db_param *p, unsigned long long *affected,
                   unsigned long long *insert_id, struct err **e)
{
	const char *sql = keep ? kept_sql(head, rows, cols, tail) : NULL;
	_cleanup_free_ char *once = NULL;

	if (sql != NULL)
		return db_exec(db, sql, p, rows * cols, affected, insert_id, e);
	once = db_values_sql(head, rows, cols, tail);
	return db_exec_once(db, once, p, rows * cols, affected, insert_id, e);
}

long long db_row_i64(const struct db_row *row, int i)
{
	return i < row->n && row->v[i] != NULL ? strtoll(row->v[i], NULL, 10) : 0;
}

double db_row_double(const struct db_row *row, int i)
{
	return i < row->n && row->v[i] != NULL ? strtod(row->v[i], NULL) : 0;
}
