/* The SQL of the core resources: functions, API keys, invocation records
 * and the seed's metrics.  Every statement is prepared (db.h). */
#ifndef LAMBDA_API_DB_CORE_H
#define LAMBDA_API_DB_CORE_H

#include <cJSON.h>

#include "db.h"
#include "function.h"

/* ---- functions
 * Without its code a function is served from the process's function cache
 * (app->fns, fncache.h) when it holds it; every insert, update and delete
 * bumps the cache's shared generation, done or failed. */
/* Inserts f (all fields set); *id is the new id.  ERR_CONFLICT when the name
 * is taken. */
int db_fn_insert(struct db *db, const struct function *f, long long *id, struct err **e);
/* Loads a function by id (all digits) or name, with its code when
 * with_code.  ERR_NOT_FOUND when there is none.  *out is released with
 * function_free. */
int db_fn_get(struct db *db, const char *id_or_name, int with_code, struct function *out,
              struct err **e);
/* Appends up to limit functions with id > after_id to arr (JSON, no code);
 * *last is the id of the last one (0 when none). */
int db_fn_list(struct db *db, long long after_id, int limit, cJSON *arr, long long *last,
               struct err **e);
/* Writes f over the row with f->id whose version is still `version`, and
 * bumps the version.  ERR_CONFLICT on a duplicate name or a concurrent
 * change, ERR_NOT_FOUND when the row is gone. */
int db_fn_update(struct db *db, const struct function *f, long long version, struct err **e);
/* ERR_NOT_FOUND when there is no such id. */
int db_fn_delete(struct db *db, long long id, struct err **e);

/* ---- API keys */
struct db_key {
	long long id;
	char hash[65];
	int revoked;
};
int db_key_find(struct db *db, const char *akid, struct db_key *out, struct err **e);
int db_key_insert(struct db *db, const char *name, const char *akid, const char *hash,
                  long long *id, struct err **e);
int db_key_touch(struct db *db, long long id, struct err **e);
int db_key_list(struct db *db, long long after_id, int limit, cJSON *arr, long long *last,
                struct err **e);
/* ERR_NOT_FOUND when there is no such key (revoking twice is fine). */
int db_key_revoke(struct db *db, long long id, struct err **e);
/* The key as JSON (without hash) by id; NULL + ERR_NOT_FOUND when none. */
cJSON *db_key_get(struct db *db, long long id, struct err **e);

/* ---- invocation records (rows of the journal, see journal.h) */
/* INSERT IGNORE of n records (JSON objects as built by record.c) into
 * invocations and invocation_logs, in multi-row statements. */
int db_inv_insert(struct db *db, cJSON *const *recs, int n, struct err **e);

struct inv_filter {
	long long function_id;     /* 0 = any */
	const char *function_name; /* NULL = any */
	const char *status;        /* NULL = any */
	long long before_id;       /* cursor: rows with id < before_id; 0 = newest */
	int limit;
};
/* Appends matching invocations, newest first; *last is the id of the last. */
int db_inv_list(struct db *db, const struct inv_filter *f, cJSON *arr, long long *last,
                struct err **e);
/* One invocation with its logs.  ERR_NOT_FOUND when none. */
cJSON *db_inv_get(struct db *db, const char *request_id, struct err **e);
/* Removes the invocations that started more than `days` days ago and
 * their logs, oldest first, in chunks, until none is left or budget_ms has
 * passed; *removed counts the invocations.  Only one process prunes at a
 * time (a MariaDB named lock): returns 1 without doing anything when
 * another holds it, else 0. */
int db_inv_prune(struct db *db, int days, long budget_ms, long long *removed, struct err **e);

/* ---- the seed's metrics */
/* Raw rows (function_id, timestamp, execution_time, was_error,
 * error_message), newest first, optionally for one function. */
int db_metrics_raw(struct db *db, long long function_id, long long before_id, int limit, cJSON *arr,
                   long long *last, struct err **e);

#endif
