/* MariaDB access for one thread: one connection, prepared statements only
 * (mysql_stmt_*), cached per connection by SQL text pointer.  All SQL of the
 * API sits in db*.c (db.c core, db_metrics.c, db_aws.c).
 *
 * A connection is opened lazily in the thread that uses it (after the fork).
 * When the server went away before a statement reached it (2006, killed,
 * shutting down) the statement is retried once on a new connection with its
 * statements re-prepared; never after "lost during query" (2013) or a
 * timeout, and never at all for db_write_once.  Connection failures map to
 * ERR_UNAVAILABLE ("database unavailable: ..."), duplicate keys to
 * ERR_CONFLICT, anything else to ERR_INTERNAL. */
#ifndef LAMBDA_API_DB_H
#define LAMBDA_API_DB_H

#include <stddef.h>
#include <string.h>

#include "err.h"

struct config;
struct db;

enum db_type { DB_NULL, DB_I64, DB_DOUBLE, DB_STR };

/* One statement parameter; strings are borrowed for the call. */
struct db_param {
	int type;
	long long i;
	double d;
	const char *s;
	size_t len;
};

#define DBP_NULL           ((struct db_param){DB_NULL, 0, 0, NULL, 0})
#define DBP_I64(v)         ((struct db_param){DB_I64, (long long)(v), 0, NULL, 0})
#define DBP_DOUBLE(v)      ((struct db_param){DB_DOUBLE, 0, (double)(v), NULL, 0})
#define DBP_STR(v)         ((struct db_param){DB_STR, 0, 0, (v), strlen(v)})
#define DBP_BLOB(v, n)     ((struct db_param){DB_STR, 0, 0, (const char *)(v), (n)})
#define DBP_STR_OR_NULL(v) ((v) != NULL ? DBP_STR(v) : DBP_NULL)

/* One result row: every column as text (NULL for SQL NULL), len[i] bytes,
 * NUL-terminated.  Valid during the callback only. */
struct db_row {
	int n;
	char **v;
	unsigned long *len;
};

/* Called per row; a non-zero return stops the iteration (the rest is
 * discarded) and is returned by db_query. */
typedef int (*db_row_fn)(const struct db_row *row, void *arg);

/* A new, unconnected handle for the calling thread.  Freed with db_free. */
struct db *db_new(const struct config *cfg);
void db_free(struct db *db);

/* Connects (if needed) and pings the server. */
int db_ping(struct db *db, struct err **e);

/* Runs a cached prepared statement: sql must be a string with static
 * storage (its address is the cache key).  fn may be NULL.  Returns 0 or
 * fn's non-zero value; -1 and *e on failure. */
int db_query(struct db *db, const char *sql, const struct db_param *p, int np, db_row_fn fn,
             void *arg, struct err **e);
/* For INSERT/UPDATE/DELETE: *affected and *insert_id may be NULL. */
int db_exec(struct db *db, const char *sql, const struct db_param *p, int np,
            unsigned long long *affected, unsigned long long *insert_id, struct err **e);
/* Like db_exec for a statement that must not run twice (a plain INSERT, an
 * UPDATE that bumps a version): once it may have reached the server it is
 * never sent again.  When the connection breaks after sending (lost, timed
 * out, killed), it returns -1 (ERR_UNAVAILABLE) with *unknown = 1: the
 * statement may or may not have run, and the caller settles it with
 * db_settle() and a read.  *unknown is written on failure only. */
int db_write_once(struct db *db, const char *sql, const struct db_param *p, int np,
                  unsigned long long *affected, unsigned long long *insert_id, int *unknown,
                  struct err **e);
/* After db_write_once's *unknown: waits until the server has finished the
 * statement of the lost connection (it goes on after its client left), so
 * that a read tells whether it was done; after api.db_bulk_timeout_s it
 * kills it (a rollback) and waits for that.  ERR_UNAVAILABLE when neither
 * happened. */
int db_settle(struct db *db, struct err **e);

/* The handle for statements that carry a function's code (up to 50 MB): a
 * second connection of this thread, with api.db_bulk_timeout_s as its read
 * and write timeout.  Owned by db (freed with it); db_bulk of it is itself. */
struct db *db_bulk(struct db *db);

/* The most parameters a statement may bind: a multi-row INSERT of cols
 * columns takes at most DB_MAX_PARAMS / cols rows. */
#define DB_MAX_PARAMS 1024
/* Like db_exec for the multi-row INSERT "head (?, ..., ?), (...) tail" of
 * rows x cols placeholders, bound to rows * cols parameters.  keep: a shape
 * that recurs (a full chunk, a rollup of few rows) stays prepared in the
 * statement cache, so the server does not parse it again for every batch;
 * head and tail must have static storage (they are its key).  Any other
 * statement is prepared, run and closed. */
int db_exec_values(struct db *db, const char *head, int rows, int cols, const char *tail, int keep,
                   const struct db_param *p, unsigned long long *affected,
                   unsigned long long *insert_id, struct err **e);

/* Row helpers: column i as a number (0 when NULL or not a number). */
long long db_row_i64(const struct db_row *row, int i);
double db_row_double(const struct db_row *row, int i);

/* Needs to run once per process before any thread uses the database. */
void db_library_init(void);
/* Per thread, around the thread's use of the database. */
void db_thread_init(void);
void db_thread_end(void);

#endif
