/* The SQL of the metrics endpoints: see db_metrics.h.  All times are UTC
 * epoch seconds computed with TIMESTAMPDIFF from 1970-01-01, which does not
 * depend on the session's time zone. */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "db_metrics.h"
#include "xalloc.h"

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

/* --- the same rollup computed here, for a batch whose rows all went in --- */

/* schema/052's rollup_invocations, one row per (res, bucket, function,
 * isolation), aggregated by the writer: the procedure's INSERT ... SELECT
 * over the rows just written (a CASE of 32 bounds per row and resolution,
 * GROUP BY in a temporary table) cost MariaDB ~39 us per record, about a
 * third of its CPU per call at full load; rows aggregated here cost it one
 * small upsert per batch. Same columns and ON DUPLICATE KEY UPDATE. */
static const char RU_HEAD[] =
    "INSERT INTO invocation_rollup (res, bucket, function_id, isolation, function_name, calls, "
    "n_success, n_error, n_timeout, n_oom, n_killed, n_internal, cold, sum_ms, min_ms, max_ms, "
    "last_at, h00, h01, h02, h03, h04, h05, h06, h07, h08, h09, h10, h11, h12, h13, h14, h15, "
    "h16, h17, h18, h19, h20, h21, h22, h23, h24, h25, h26, h27, h28, h29, h30, h31) VALUES ";
#define RU_NCOLS (17 + METRICS_HIST_BUCKETS)
/* The procedure's ON DUPLICATE KEY UPDATE, word for word. */
static const char RU_UPDATE[] =
    " ON DUPLICATE KEY UPDATE function_name = VALUES(function_name), "
    "calls = invocation_rollup.calls + VALUES(calls), "
    "n_success = invocation_rollup.n_success + VALUES(n_success), "
    "n_error = invocation_rollup.n_error + VALUES(n_error), "
    "n_timeout = invocation_rollup.n_timeout + VALUES(n_timeout), "
    "n_oom = invocation_rollup.n_oom + VALUES(n_oom), "
    "n_killed = invocation_rollup.n_killed + VALUES(n_killed), "
    "n_internal = invocation_rollup.n_internal + VALUES(n_internal), "
    "cold = invocation_rollup.cold + VALUES(cold), "
    "sum_ms = invocation_rollup.sum_ms + VALUES(sum_ms), "
    "min_ms = LEAST(invocation_rollup.min_ms, VALUES(min_ms)), "
    "max_ms = GREATEST(invocation_rollup.max_ms, VALUES(max_ms)), "
    "last_at = GREATEST(COALESCE(invocation_rollup.last_at, VALUES(last_at)), VALUES(last_at)), "
    "h00 = invocation_rollup.h00 + VALUES(h00), "
    "h01 = invocation_rollup.h01 + VALUES(h01), "
    "h02 = invocation_rollup.h02 + VALUES(h02), "
    "h03 = invocation_rollup.h03 + VALUES(h03), "
    "h04 = invocation_rollup.h04 + VALUES(h04), "
    "h05 = invocation_rollup.h05 + VALUES(h05), "
    "h06 = invocation_rollup.h06 + VALUES(h06), "
    "h07 = invocation_rollup.h07 + VALUES(h07), "
    "h08 = invocation_rollup.h08 + VALUES(h08), "
    "h09 = invocation_rollup.h09 + VALUES(h09), "
    "h10 = invocation_rollup.h10 + VALUES(h10), "
    "h11 = invocation_rollup.h11 + VALUES(h11), "
    "h12 = invocation_rollup.h12 + VALUES(h12), "
    "h13 = invocation_rollup.h13 + VALUES(h13), "
    "h14 = invocation_rollup.h14 + VALUES(h14), "
    "h15 = invocation_rollup.h15 + VALUES(h15), "
    "h16 = invocation_rollup.h16 + VALUES(h16), "
    "h17 = invocation_rollup.h17 + VALUES(h17), "
    "h18 = invocation_rollup.h18 + VALUES(h18), "
    "h19 = invocation_rollup.h19 + VALUES(h19), "
    "h20 = invocation_rollup.h20 + VALUES(h20), "
    "h21 = invocation_rollup.h21 + VALUES(h21), "
    "h22 = invocation_rollup.h22 + VALUES(h22), "
    "h23 = invocation_rollup.h23 + VALUES(h23), "
    "h24 = invocation_rollup.h24 + VALUES(h24), "
    "h25 = invocation_rollup.h25 + VALUES(h25), "
    "h26 = invocation_rollup.h26 + VALUES(h26), "
    "h27 = invocation_rollup.h27 + VALUES(h27), "
    "h28 = invocation_rollup.h28 + VALUES(h28), "
    "h29 = invocation_rollup.h29 + VALUES(h29), "
    "h30 = invocation_rollup.h30 + VALUES(h30), "
    "h31 = invocation_rollup.h31 + VALUES(h31)";

static const long RU_RES[] = {60, 600, 86400};
#define RU_NRES 3

struct ru_group {
	long res;
	long long bucket, function_id;
	int isolation;
	const char *name;    /* the greatest, as MAX() */
	const char *last_at; /* started_at of the latest */
	long long last_ms;
	struct metrics_rollup r;
};

/* "YYYY-MM-DD HH:MM:SS[.fff]" (UTC, as the API writes started_at) in ms
 * since the epoch; -1 when it is not that. */
static long long started_ms(const char *s)
{
	struct tm tm;
	int ms = 0, n = 0;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2d %2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	           &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 ||
	    n != 19)
		return -1;
	if (s[19] == '.') {
		if (strlen(s) != 23 || sscanf(s + 20, "%3d", &ms) != 1)
			return -1;
	} else if (s[19] != '\0') {
		return -1;
	}
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (long long)timegm(&tm) * 1000 + ms;
}

/* Adds rec to groups; 0, or -1 when rec lacks what the rollup needs (the
 * caller then lets the procedure read the stored rows). */
static int ru_add(struct ru_group *g, int *ng, const cJSON *rec)
{
	const cJSON *fid = cJSON_GetObjectItemCaseSensitive(rec, "function_id");
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(rec, "function_name");
	const cJSON *iso = cJSON_GetObjectItemCaseSensitive(rec, "isolation");
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(rec, "status");
	const cJSON *at = cJSON_GetObjectItemCaseSensitive(rec, "started_at");
	const cJSON *tot = cJSON_GetObjectItemCaseSensitive(rec, "total_ms");
	const cJSON *cold = cJSON_GetObjectItemCaseSensitive(rec, "cold");
	int isolation, status, hist;
	long long ms;
	double d;

	if (!cJSON_IsNumber(fid) || !cJSON_IsString(name) || !cJSON_IsString(iso) ||
	    !cJSON_IsString(st) || !cJSON_IsString(at))
		return -1;
	isolation = metrics_isolation_index(iso->valuestring);
	status = metrics_status_index(st->valuestring);
	ms = started_ms(at->valuestring);
	if (isolation < 0 || status < 0 || ms < 0)
		return -1;
	d = cJSON_IsNumber(tot) ? tot->valuedouble : 0; /* the INSERT stores 0 */
	hist = metrics_hist_index(d);
	for (int k = 0; k < RU_NRES; k++) {
		long long bucket = ms / 1000 / RU_RES[k] * RU_RES[k];
		struct ru_group *x = NULL;

		for (int i = 0; i < *ng && x == NULL; i++)
			if (g[i].res == RU_RES[k] && g[i].bucket == bucket &&
			    g[i].function_id == (long long)fid->valuedouble &&
			    g[i].isolation == isolation)
				x = &g[i];
		if (x == NULL) {
			x = &g[(*ng)++];
			memset(x, 0, sizeof(*x));
			x->res = RU_RES[k];
			x->bucket = bucket;
			x->function_id = (long long)fid->valuedouble;
			x->isolation = isolation;
			x->name = name->valuestring;
			x->last_at = at->valuestring;
			x->last_ms = ms;
			x->r.min_ms = d;
			x->r.max_ms = d;
		}
		x->r.calls++;
		x->r.by_status[status]++;
		x->r.cold += cJSON_IsTrue(cold) || (cJSON_IsNumber(cold) && cold->valuedouble != 0);
		x->r.sum_ms += d;
		x->r.min_ms = d < x->r.min_ms ? d : x->r.min_ms;
		x->r.max_ms = d > x->r.max_ms ? d : x->r.max_ms;
		x->r.hist[hist]++;
		if (strcmp(name->valuestring, x->name) > 0)
			x->name = name->valuestring;
		if (ms > x->last_ms) {
			x->last_ms = ms;
			x->last_at = at->valuestring;
		}
	}
	return 0;
}

/* 1 when done, 0 when a record needs the procedure, -1 on error. */
static int rollup_in_c(struct db *db, cJSON *const *recs, int n, struct err **e)
{
	_cleanup_free_ struct ru_group *g = xcalloc((size_t)n * RU_NRES, sizeof(*g));
	_cleanup_free_ struct db_param *p = NULL;
	int ng = 0;

	for (int i = 0; i < n; i++)
		if (ru_add(g, &ng, recs[i]) < 0)
			return 0;
	p = xcalloc((size_t)ng * RU_NCOLS, sizeof(*p));
	for (int i = 0; i < ng; i++) {
		struct db_param *q = p + (size_t)i * RU_NCOLS;
		const struct metrics_rollup *r = &g[i].r;
		int c = 0;

		q[c++] = DBP_I64(g[i].res);
		q[c++] = DBP_I64(g[i].bucket);
		q[c++] = DBP_I64(g[i].function_id);
		q[c++] = DBP_STR(metrics_isolation_names[g[i].isolation]);
		q[c++] = DBP_STR(g[i].name);
		q[c++] = DBP_I64(r->calls);
		for (int k = 0; k < MS_N; k++)
			q[c++] = DBP_I64(r->by_status[k]);
		q[c++] = DBP_I64(r->cold);
		q[c++] = DBP_DOUBLE(r->sum_ms);
		q[c++] = DBP_DOUBLE(r->min_ms);
		q[c++] = DBP_DOUBLE(r->max_ms);
		q[c++] = DBP_STR(g[i].last_at);
		for (int k = 0; k < METRICS_HIST_BUCKETS; k++)
			q[c++] = DBP_I64(r->hist[k]);
	}
	/* A batch of 40 records of many functions makes up to 120 rows, more
	 * than one statement may bind. */
	for (int i = 0; i < ng; i += DB_MAX_PARAMS / RU_NCOLS) {
		int k = ng - i < DB_MAX_PARAMS / RU_NCOLS ? ng - i : DB_MAX_PARAMS / RU_NCOLS;
		/* at most DB_MAX_PARAMS / RU_NCOLS (20) shapes: all kept */
		if (db_exec_values(db, RU_HEAD, k, RU_NCOLS, RU_UPDATE, 1, p + (size_t)i * RU_NCOLS,
		                   NULL, NULL, e) < 0)
			return -1;
	}
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
		int rc = rollup_in_c(db, recs, n, e);
		if (rc != 0)
			return rc < 0 ? -1 : 0;
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
