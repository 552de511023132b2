/* The SQL of the metrics endpoints: see db_metrics.h.  All times are UTC
 * epoch seconds computed with TIMESTAMPDIFF from 1970-01-01, which does not
 * depend on the session's time zone. */
#include <config.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db_metrics.h"

/* The aggregate columns of struct metrics_rollup, in rollup_of_row's order. */
#define ROLLUP_SUMS                                                                                \
	"SUM(calls), SUM(cold), SUM(n_success), SUM(n_error), SUM(n_timeout), SUM(n_oom), "        \
	"SUM(n_killed), SUM(n_internal), SUM(sum_ms), MIN(min_ms), MAX(max_ms), "                  \
	"SUM(h00), SUM(h01), SUM(h02), SUM(h03), SUM(h04), SUM(h05), SUM(h06), "                   \
	"SUM(h07), SUM(h08), SUM(h09), SUM(h10), SUM(h11), SUM(h12), SUM(h13), "                   \
	"SUM(h14), SUM(h15), SUM(h16), SUM(h17), SUM(h18), SUM(h19), SUM(h20), "                   \
	"SUM(h21), SUM(h22), SUM(h23), SUM(h24), SUM(h25), SUM(h26), SUM(h27), "                   \
	"SUM(h28), SUM(h29), SUM(h30), SUM(h31)"
/* The same columns, unaggregated (the caller adds rows up in C: cheaper
 * than SQL's DECIMAL sums and its temporary table for GROUP BY). */
#define ROLLUP_COLS                                                                                \
	"calls, cold, n_success, n_error, n_timeout, n_oom, n_killed, n_internal, sum_ms, "        \
	"min_ms, "                                                                                 \
	"max_ms, "                                                                                 \
	"h00, h01, h02, h03, h04, h05, h06, h07, h08, h09, h10, h11, h12, h13, h14, "              \
	"h15, h16, h17, h18, h19, h20, h21, h22, h23, h24, h25, h26, h27, h28, h29, "              \
	"h30, h31"
#define ROLLUP_NCOLS (11 + METRICS_HIST_BUCKETS)

static void rollup_of_row(const struct db_row *row, int first, struct metrics_rollup *r)
{
	int c = first;

	r->calls = (uint64_t)db_row_i64(row, c++);
	r->cold = (uint64_t)db_row_i64(row, c++);
	for (int i = 0; i < MS_N; i++)
		r->by_status[i] = (uint64_t)db_row_i64(row, c++);
	r->sum_ms = db_row_double(row, c++);
	r->min_ms = db_row_double(row, c++);
	r->max_ms = db_row_double(row, c++);
	for (int i = 0; i < METRICS_HIST_BUCKETS; i++)
		r->hist[i] = (uint64_t)db_row_i64(row, c++);
}

/* ------------------------------------------------------------ series */

/* The coarsest resolution whose buckets tile the step. */
static int res_for_step(int step)
{
	return step % 600 == 0 ? 600 : 60;
}

/* One row per (bucket, function, isolation) of the range, in primary key
 * order (or ix_rollup_function's for one function): a plain range scan. */
static const char SQL_SERIES_ROLLUP[] =
    "SELECT bucket, isolation, " ROLLUP_COLS " FROM invocation_rollup "
    "WHERE res = ? AND bucket >= ? AND bucket < ? AND (? = 0 OR function_id = ?)";

static int series_rollup_row(const struct db_row *row, void *arg)
{
	struct metrics_series *s = arg;
	struct metrics_rollup r;
	int iso = metrics_isolation_index(row->v[1]);

	if (row->n < 2 + ROLLUP_NCOLS || iso < 0)
		return 0;
	rollup_of_row(row, 2, &r);
	metrics_series_add_rollup(s, db_row_i64(row, 0), iso, &r);
	return 0;
}

int db_metrics_series_rollup(struct db *db, struct metrics_series *s, long long function_id,
                             struct err **e)
{
	struct db_param p[5] = {
	    DBP_I64(res_for_step(s->step)),
	    DBP_I64(s->from),
	    DBP_I64(s->from + (int64_t)s->step * (int64_t)s->nbuckets),
	    DBP_I64(function_id),
	    DBP_I64(function_id),
	};

	return db_query(db, SQL_SERIES_ROLLUP, p, 5, series_rollup_row, s, e) < 0 ? -1 : 0;
}

/* The index on started_at (or function_id, started_at) bounds the scan. */
static const char SQL_SERIES_RAW[] =
    "SELECT TIMESTAMPDIFF(SECOND, '1970-01-01', started_at), isolation, status, cold, "
    "total_ms FROM invocations "
    "WHERE started_at >= TIMESTAMP('1970-01-01') + INTERVAL ? SECOND "
    "AND started_at < TIMESTAMP('1970-01-01') + INTERVAL ? SECOND "
    "AND (? = 0 OR function_id = ?) LIMIT ?";

struct raw_ctx {
	struct metrics_series *s;
	long rows;
	long max_rows;
};

static int series_raw_row(const struct db_row *row, void *arg)
{
	struct raw_ctx *c = arg;

	if (++c->rows > c->max_rows)
		return 1; /* overflow: stop reading */
	metrics_series_add_raw(c->s, db_row_i64(row, 0), metrics_isolation_index(row->v[1]),
	                       metrics_status_index(row->v[2]), db_row_i64(row, 3) != 0,
	                       db_row_double(row, 4));
	return 0;
}

int db_metrics_series_raw(struct db *db, struct metrics_series *s, long long function_id,
                          long max_rows, int *overflow, struct err **e)
{
	struct raw_ctx c = {s, 0, max_rows};
	struct db_param p[5] = {
	    DBP_I64(s->from),      DBP_I64(s->from + (int64_t)s->step * (int64_t)s->nbuckets),
	    DBP_I64(function_id),  DBP_I64(function_id),
	    DBP_I64(max_rows + 1),
	};
	int rc = db_query(db, SQL_SERIES_RAW, p, 5, series_raw_row, &c, e);

	if (rc < 0)
		return -1;
	*overflow = rc > 0;
	return 0;
}

/* ----------------------------------------------------------- summary */

static const char SQL_SUMMARY_ROLLUP[] =
    "SELECT function_id, MAX(function_name), "
    "DATE_FORMAT(MAX(last_at), '%Y-%m-%dT%H:%i:%s.%fZ'), " ROLLUP_SUMS
    " FROM invocation_rollup WHERE res = ? AND bucket >= ? AND (? = 0 OR function_id = ?) "
    "GROUP BY function_id ORDER BY function_id";

static int summary_row(const struct db_row *row, void *arg)
{
	cJSON *o = cJSON_CreateObject();
	struct metrics_cell c;
	struct metrics_rollup r;
	uint64_t errors;

	if (row->n < 3 + ROLLUP_NCOLS) {
		cJSON_Delete(o);
		return 0;
	}
	rollup_of_row(row, 3, &r);
	errors = r.calls - r.by_status[MS_SUCCESS];
	/* the seed's shape first: avg_time in seconds, like its execution_time */
	cJSON_AddNumberToObject(o, "function_id", db_row_double(row, 0));
	cJSON_AddNumberToObject(o, "total_calls", (double)r.calls);
	cJSON_AddNumberToObject(o, "avg_time", r.calls ? r.sum_ms / (double)r.calls / 1000.0 : 0);
	cJSON_AddNumberToObject(o, "error_count", (double)errors);
	cJSON_AddStringToObject(o, "function_name", row->v[1] ? row->v[1] : "");
	if (row->v[2] != NULL)
		cJSON_AddStringToObject(o, "last_call_at", row->v[2]);
	else
		cJSON_AddNullToObject(o, "last_call_at");
	memset(&c, 0, sizeof(c));
	c.calls = r.calls;
	c.cold = r.cold;
	memcpy(c.by_status, r.by_status, sizeof(c.by_status));
	memcpy(c.hist, r.hist, sizeof(c.hist));
	c.sum_ms = r.sum_ms;
	c.min_ms = r.min_ms;
	c.max_ms = r.max_ms;
	/* calls, errors, by_status, cold, p50/p95/p99, avg, max, rates */
	metrics_cell_json_fields(o, &c, false);
	cJSON_AddNumberToObject(o, "cold_starts", (double)r.cold);
	cJSON_AddItemToArray((cJSON *)arg, o);
	return 0;
}

int db_metrics_summary_rollup(struct db *db, long long function_id, int64_t since, cJSON *arr,
                              struct err **e)
{
	/* all time: days; else minutes for up to an hour, 10 minutes beyond */
	int res = since == 0 ? 86400 : (time(NULL) - since <= 3600 + 60 ? 60 : 600);
	struct db_param p[4] = {DBP_I64(res), DBP_I64(since / res * res), DBP_I64(function_id),
	                        DBP_I64(function_id)};

	return db_query(db, SQL_SUMMARY_ROLLUP, p, 4, summary_row, arr, e) < 0 ? -1 : 0;
}

/* ---------------------------------------------------------- counters */

/* By name, not id: a deleted and re-created function keeps one series. */
static const char SQL_COUNTERS[] =
    "SELECT function_name, isolation, " ROLLUP_SUMS " FROM invocation_rollup "
    "WHERE res = 86400 GROUP BY function_name, isolation ORDER BY function_name, isolation";

struct counters_ctx {
	db_metrics_counter_fn fn;
	void *arg;
};

static int counters_row(const struct db_row *row, void *arg)
{
	struct counters_ctx *c = arg;
	struct db_metrics_counter k;

	memset(&k, 0, sizeof(k));
	if (row->n < 2 + ROLLUP_NCOLS || row->v[0] == NULL || row->len[0] >= sizeof(k.function))
		return 0;
	memcpy(k.function, row->v[0], row->len[0]);
	k.isolation = metrics_isolation_index(row->v[1]);
	if (k.isolation < 0)
		return 0;
	rollup_of_row(row, 2, &k.r);
	return c->fn(&k, c->arg);
}

int db_metrics_counters(struct db *db, db_metrics_counter_fn fn, void *arg, struct err **e)
{
	struct counters_ctx c = {fn, arg};

	return db_query(db, SQL_COUNTERS, NULL, 0, counters_row, &c, e) < 0 ? -1 : 0;
}

/* ------------------------------------------------------------ rollup */

static const char SQL_ID_OF_REQUEST[] = "SELECT id FROM invocations WHERE request_id = ?";
static const char SQL_ROLLUP[] = "CALL rollup_invocations(?, ?)";

static int first_i64(const struct db_row *row, void *arg)
{
	*(long long *)arg = row->n > 0 && row->v[0] ? db_row_i64(row, 0) : 0;
	return 1;
}

int db_metrics_rollup_inserted(struct db *db, cJSON *const *recs, int n,
                               unsigned long long affected, unsigned long long first_id,
                               struct err **e)
{
	/* The statement's own insert id, not a later SELECT LAST_INSERT_ID():
	 * after a reconnect that would ask another connection. */
	long long lid = (long long)first_id, hi = 0;
	struct db_param p[2];

	if (affected == 0)
		return 0;
	if (lid <= 0)
		return err_set(e, ERR_INTERNAL, "rollup: no insert id for the batch just written");
	if (affected == (unsigned long long)n) {
		hi = lid + n - 1; /* consecutive ids (innodb_autoinc_lock_mode <= 1) */
	} else {
		/* Some were duplicates (a replay): ours are the rows of this batch
		 * with ids from lid on (older duplicates have smaller ids). */
		for (int i = 0; i < n; i++) {
			const cJSON *rid = cJSON_GetObjectItemCaseSensitive(recs[i], "request_id");
			struct db_param q;
			long long id = 0;

			if (!cJSON_IsString(rid))
				continue;
			q = DBP_STR(rid->valuestring);
			if (db_query(db, SQL_ID_OF_REQUEST, &q, 1, first_i64, &id, e) < 0)
				return -1;
			if (id > hi)
				hi = id;
		}
		if (hi < lid)
			return 0;
	}
	p[0] = DBP_I64(lid);
	p[1] = DBP_I64(hi);
	return db_exec(db, SQL_ROLLUP, p, 2, NULL, NULL, e);
}
