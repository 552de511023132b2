/* db_core.c: the SQL of functions, API keys, invocation records and the
 * seed's metrics.  Prepared statements only; strings are never spliced. */
#include <config.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "cleanup.h"
#include "clock.h"
#include "db_core.h"
#include "db_metrics.h"
#include "fncache.h"
#include "log.h"
#include "xalloc.h"

#define TS(col)                                                                                    \
	"CONCAT(DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%s.'), LPAD(MICROSECOND(" col                 \
	") DIV 1000, 3, "                                                                          \
	"'0'), 'Z')"

/* ============================================================ functions */

#define FN_COLS                                                                                    \
	"id, name, runtime, handler, style, route, code_format, code_sha256, code_size, "          \
	"timeout_ms, memory_mb, isolation, env, concurrency, version, " TS("created_at") ", " TS(  \
	    "updated_at") ", url_auth"

static const char SQL_FN_INSERT[] =
    "INSERT INTO functions (name, runtime, handler, style, route, code, code_format, "
    "code_sha256, code_size, timeout_ms, memory_mb, isolation, env, concurrency, url_auth, "
    "version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)";
static const char SQL_FN_BY_ID[] = "SELECT " FN_COLS " FROM functions WHERE id = ?";
static const char SQL_FN_BY_NAME[] = "SELECT " FN_COLS " FROM functions WHERE name = ?";
static const char SQL_FN_CODE_BY_ID[] = "SELECT " FN_COLS ", code FROM functions WHERE id = ?";
static const char SQL_FN_CODE_BY_NAME[] = "SELECT " FN_COLS ", code FROM functions WHERE name = ?";
static const char SQL_FN_LIST[] =
    "SELECT " FN_COLS " FROM functions WHERE id > ? ORDER BY id LIMIT ?";
static const char SQL_FN_UPDATE[] =
    "UPDATE functions SET name = ?, runtime = ?, handler = ?, style = ?, route = ?, "
    "code = ?, code_format = ?, code_sha256 = ?, code_size = ?, timeout_ms = ?, "
    "memory_mb = ?, isolation = ?, env = ?, concurrency = ?, url_auth = ?, "
    "version = version + 1, "
    "updated_at = CURRENT_TIMESTAMP(3) WHERE id = ? AND version = ?";
static const char SQL_FN_EXISTS[] = "SELECT version FROM functions WHERE id = ?";
/* settling a write whose connection was lost (db_write_once) */
static const char SQL_FN_WRITTEN_NEW[] =
    "SELECT id FROM functions WHERE name = ? AND code_sha256 = ? AND version = 1";
static const char SQL_FN_WRITTEN[] =
    "SELECT COUNT(*) FROM functions WHERE id = ? AND version = ? AND code_sha256 = ?";
static const char SQL_FN_DELETE[] = "DELETE FROM functions WHERE id = ?";

static char *dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static void fn_from_row(const struct db_row *r, struct function *f)
{
	memset(f, 0, sizeof(*f));
	f->id = db_row_i64(r, 0);
	f->name = dup_or_null(r->v[1]);
	f->runtime = dup_or_null(r->v[2]);
	f->handler = dup_or_null(r->v[3]);
	f->style = dup_or_null(r->v[4]);
	f->route = dup_or_null(r->v[5]);
	f->code_format = dup_or_null(r->v[6]);
	snprintf(f->code_sha256, sizeof(f->code_sha256), "%s", r->v[7] != NULL ? r->v[7] : "");
	f->code_len = (size_t)db_row_i64(r, 8);
	f->timeout_ms = db_row_i64(r, 9);
	f->memory_mb = db_row_i64(r, 10);
	f->isolation = dup_or_null(r->v[11]);
	f->env = dup_or_null(r->v[12]);
	f->concurrency = db_row_i64(r, 13);
	f->version = db_row_i64(r, 14);
	f->created_at = dup_or_null(r->v[15]);
	f->updated_at = dup_or_null(r->v[16]);
	f->url_auth = xstrdup(r->v[17] != NULL ? r->v[17] : "key");
	if (r->n > 18 && r->v[18] != NULL) {
		f->code = xmalloc(r->len[18] + 1);
		memcpy(f->code, r->v[18], r->len[18]);
		f->code[r->len[18]] = '\0';
		f->code_len = r->len[18];
	}
}

static int one_fn(const struct db_row *r, void *arg)
{
	fn_from_row(r, arg);
	return 1;
}

static void fn_params(const struct function *f, struct db_param *p)
{
	p[0] = DBP_STR(f->name);
	p[1] = DBP_STR(f->runtime);
	p[2] = DBP_STR(f->handler);
	p[3] = DBP_STR(f->style);
	p[4] = DBP_STR_OR_NULL(f->route);
	p[5] = DBP_BLOB(f->code != NULL ? f->code : "", f->code_len);
	p[6] = DBP_STR(f->code_format);
	p[7] = DBP_STR(f->code_sha256);
	p[8] = DBP_I64(f->code_len);
	p[9] = DBP_I64(f->timeout_ms);
	p[10] = DBP_I64(f->memory_mb);
	p[11] = DBP_STR(f->isolation);
	p[12] = DBP_STR(f->env != NULL ? f->env : "{}");
	p[13] = DBP_I64(f->concurrency);
	p[14] = DBP_STR(f->url_auth != NULL ? f->url_auth : "key");
}

static int one_i64(const struct db_row *r, void *arg)
{
	*(long long *)arg = db_row_i64(r, 0);
	return 1;
}

static void fn_changed(void)
{
	if (app != NULL && app->fns != NULL)
		fncache_invalidate(app->fns);
}

/* The write's connection broke after sending: wait for the server to finish
 * it, then read whether it was done (1), or not (0). */
static int settle_write(struct db *db, const char *sql, const struct db_param *p, int np,
                        long long *val, struct err **e)
{
	long long v = 0;
	int rc;

	if (db_settle(db, e) < 0)
		return -1;
	rc = db_query(db, sql, p, np, one_i64, &v, e);
	if (rc < 0)
		return err_wrap(e, "settling a write whose connection was lost");
	*val = v;
	return rc;
}

static int fn_insert_sql(struct db *db, const struct function *f, long long *id, struct err **e)
{
	struct db_param p[15];
	struct err *e1 = NULL;
	unsigned long long nid = 0;
	int unknown = 0;

	db = db_bulk(db); /* the row carries the code */
	fn_params(f, p);
	if (db_write_once(db, SQL_FN_INSERT, p, 15, NULL, &nid, &unknown, &e1) < 0) {
		if (unknown) {
			struct db_param q[2] = {DBP_STR(f->name), DBP_STR(f->code_sha256)};
			long long got = 0;
			int rc = settle_write(db, SQL_FN_WRITTEN_NEW, q, 2, &got, e);

			log_warnx("function '%s': connection lost during INSERT (%s); settled: %s",
			          f->name, err_msg(e1),
			          rc < 0               ? "unknown"
			          : rc == 1 && got > 0 ? "created"
			                               : "not created");
			if (rc < 0 || (rc == 1 && got > 0)) {
				err_free(&e1);
				if (rc < 0)
					return -1;
				*id = got;
				return 0;
			}
			err_free(&e1);
			return err_set(e, ERR_UNAVAILABLE,
			               "database unavailable: the connection was lost while "
			               "writing the function; it was not created");
		}
		if (e1->code == ERR_CONFLICT) {
			err_free(&e1);
			return err_set(e, ERR_CONFLICT,
			               "name: a function named '%s' already exists", f->name);
		}
		*e = e1;
		return -1;
	}
	*id = (long long)nid;
	return 0;
}

/* Every write to functions, done or failed (a lost connection may still
 * commit), moves the function cache's generation in every process. */
int db_fn_insert(struct db *db, const struct function *f, long long *id, struct err **e)
{
	int rc = fn_insert_sql(db, f, id, e);

	fn_changed();
	return rc;
}

static int all_digits(const char *s)
{
	if (*s == '\0' || strlen(s) > 18)
		return 0;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

int db_fn_get(struct db *db, const char *id_or_name, int with_code, struct function *out,
              struct err **e)
{
	struct fncache *fc = app != NULL ? app->fns : NULL;
	struct function f;
	struct db_param p;
	uint64_t gen = 0;
	int rc = 0;

	memset(&f, 0, sizeof(f));
	if (with_code)
		db = db_bulk(db); /* up to 50 MB of code to read */
	else if (fc != NULL && fncache_get(fc, id_or_name, out, &gen))
		return 0;
	if (all_digits(id_or_name)) {
		p = DBP_I64(strtoll(id_or_name, NULL, 10));
		rc = db_query(db, with_code ? SQL_FN_CODE_BY_ID : SQL_FN_BY_ID, &p, 1, one_fn, &f,
		              e);
		if (rc < 0)
			return -1;
	}
	if (rc == 0) {
		p = DBP_STR(id_or_name);
		rc = db_query(db, with_code ? SQL_FN_CODE_BY_NAME : SQL_FN_BY_NAME, &p, 1, one_fn,
		              &f, e);
		if (rc < 0)
			return -1;
	}
	if (rc == 0)
		return err_set(e, ERR_NOT_FOUND, "no function with id or name '%s'", id_or_name);
	if (!with_code && fc != NULL)
		fncache_put(fc, id_or_name, &f, gen);
	*out = f;
	return 0;
}

struct list_ctx {
	cJSON *arr;
	long long last;
};

static int fn_list_row(const struct db_row *r, void *arg)
{
	struct list_ctx *c = arg;
	struct function f;

	fn_from_row(r, &f);
	cJSON_AddItemToArray(c->arr, function_to_json(&f, 0));
	c->last = f.id;
	function_free(&f);
	return 0;
}

int db_fn_list(struct db *db, long long after_id, int limit, cJSON *arr, long long *last,
               struct err **e)
{
	struct db_param p[2] = {DBP_I64(after_id), DBP_I64(limit)};
	struct list_ctx c = {arr, 0};

	if (db_query(db, SQL_FN_LIST, p, 2, fn_list_row, &c, e) < 0)
		return -1;
	*last = c.last;
	return 0;
}

static int fn_update_sql(struct db *db, const struct function *f, long long version, struct err **e)
{
	struct db_param p[17];
	struct err *e1 = NULL;
	unsigned long long n = 0;
	long long cur = 0;
	int rc, unknown = 0;

	db = db_bulk(db); /* the row carries the code */
	fn_params(f, p);
	p[15] = DBP_I64(f->id);
	p[16] = DBP_I64(version);
	if (db_write_once(db, SQL_FN_UPDATE, p, 17, &n, NULL, &unknown, &e1) < 0) {
		if (unknown) {
			struct db_param q[3] = {DBP_I64(f->id), DBP_I64(version + 1),
			                        DBP_STR(f->code_sha256)};
			long long got = 0;

			rc = settle_write(db, SQL_FN_WRITTEN, q, 3, &got, e);
			log_warnx("function %lld: connection lost during UPDATE (%s); settled: %s",
			          f->id, err_msg(e1),
			          rc < 0    ? "unknown"
			          : got > 0 ? "updated"
			                    : "not updated");
			err_free(&e1);
			if (rc < 0)
				return -1;
			if (got > 0)
				return 0;
			return err_set(e, ERR_UNAVAILABLE,
			               "database unavailable: the connection was lost while "
			               "writing the function; this change is not in it");
		}
		if (e1->code == ERR_CONFLICT) {
			err_free(&e1);
			return err_set(e, ERR_CONFLICT,
			               "name: a function named '%s' already exists", f->name);
		}
		*e = e1;
		return -1;
	}
	if (n == 1)
		return 0;
	rc = db_query(db, SQL_FN_EXISTS, &p[15], 1, one_i64, &cur, e);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return err_set(e, ERR_NOT_FOUND, "no function with id %lld", f->id);
	return err_set(e, ERR_CONFLICT, "the function changed while it was being updated; retry");
}

int db_fn_update(struct db *db, const struct function *f, long long version, struct err **e)
{
	int rc = fn_update_sql(db, f, version, e);

	fn_changed();
	return rc;
}

static int fn_delete_sql(struct db *db, long long id, struct err **e)
{
	struct db_param p = DBP_I64(id);
	unsigned long long n = 0;

	if (db_exec(db, SQL_FN_DELETE, &p, 1, &n, NULL, e) < 0)
		return -1;
	if (n == 0)
		return err_set(e, ERR_NOT_FOUND, "no function with id %lld", id);
	return 0;
}

int db_fn_delete(struct db *db, long long id, struct err **e)
{
	int rc = fn_delete_sql(db, id, e);

	fn_changed();
	return rc;
}

/* ============================================================= API keys */

static const char SQL_KEY_FIND[] =
    "SELECT id, key_hash, revoked FROM api_keys WHERE access_key_id = ?";
static const char SQL_KEY_INSERT[] =
    "INSERT INTO api_keys (name, access_key_id, key_hash) VALUES (?, ?, ?)";
static const char SQL_KEY_TOUCH[] =
    "UPDATE api_keys SET last_used_at = CURRENT_TIMESTAMP(3) WHERE id = ?";
#define KEY_COLS                                                                                   \
	"id, name, access_key_id, " TS("created_at") ", " TS("last_used_at") ", revoked, " TS(     \
	    "revoked_at")
static const char SQL_KEY_LIST[] =
    "SELECT " KEY_COLS " FROM api_keys WHERE id > ? ORDER BY id LIMIT ?";
static const char SQL_KEY_GET[] = "SELECT " KEY_COLS " FROM api_keys WHERE id = ?";
static const char SQL_KEY_REVOKE[] =
    "UPDATE api_keys SET revoked = 1, revoked_at = COALESCE(revoked_at, "
    "CURRENT_TIMESTAMP(3)) WHERE id = ?";
static const char SQL_KEY_EXISTS[] = "SELECT id FROM api_keys WHERE id = ?";

static int key_row(const struct db_row *r, void *arg)
{
	struct db_key *k = arg;

	k->id = db_row_i64(r, 0);
	snprintf(k->hash, sizeof(k->hash), "%s", r->v[1] != NULL ? r->v[1] : "");
	k->revoked = (int)db_row_i64(r, 2);
	return 1;
}

int db_key_find(struct db *db, const char *akid, struct db_key *out, struct err **e)
{
	struct db_param p = DBP_STR(akid);
	struct db_key k;
	int rc = db_query(db, SQL_KEY_FIND, &p, 1, key_row, &k, e);

	if (rc < 0)
		return -1;
	if (rc == 0)
		return err_set(e, ERR_NOT_FOUND, "no such key");
	*out = k;
	return 0;
}

int db_key_insert(struct db *db, const char *name, const char *akid, const char *hash,
                  long long *id, struct err **e)
{
	struct db_param p[3] = {DBP_STR(name), DBP_STR(akid), DBP_STR(hash)};
	unsigned long long nid = 0;

	if (db_exec(db, SQL_KEY_INSERT, p, 3, NULL, &nid, e) < 0)
		return -1;
	*id = (long long)nid;
	return 0;
}

int db_key_touch(struct db *db, long long id, struct err **e)
{
	struct db_param p = DBP_I64(id);

	return db_exec(db, SQL_KEY_TOUCH, &p, 1, NULL, NULL, e);
}

static void add_str_or_null(cJSON *o, const char *k, const char *v)
{
	if (v != NULL)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

static cJSON *key_json(const struct db_row *r)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "id", (double)db_row_i64(r, 0));
	add_str_or_null(o, "name", r->v[1]);
	add_str_or_null(o, "access_key_id", r->v[2]);
	add_str_or_null(o, "created_at", r->v[3]);
	add_str_or_null(o, "last_used_at", r->v[4]);
	cJSON_AddBoolToObject(o, "revoked", db_row_i64(r, 5) != 0);
	add_str_or_null(o, "revoked_at", r->v[6]);
	return o;
}

static int key_list_row(const struct db_row *r, void *arg)
{
	struct list_ctx *c = arg;

	cJSON_AddItemToArray(c->arr, key_json(r));
	c->last = db_row_i64(r, 0);
	return 0;
}

int db_key_list(struct db *db, long long after_id, int limit, cJSON *arr, long long *last,
                struct err **e)
{
	struct db_param p[2] = {DBP_I64(after_id), DBP_I64(limit)};
	struct list_ctx c = {arr, 0};

	if (db_query(db, SQL_KEY_LIST, p, 2, key_list_row, &c, e) < 0)
		return -1;
	*last = c.last;
	return 0;
}

static int key_get_row(const struct db_row *r, void *arg)
{
	*(cJSON **)arg = key_json(r);
	return 1;
}

cJSON *db_key_get(struct db *db, long long id, struct err **e)
{
	struct db_param p = DBP_I64(id);
	cJSON *o = NULL;
	int rc = db_query(db, SQL_KEY_GET, &p, 1, key_get_row, &o, e);

	if (rc < 0)
		return NULL;
	if (rc == 0) {
		err_set(e, ERR_NOT_FOUND, "no API key with id %lld", id);
		return NULL;
	}
	return o;
}

int db_key_revoke(struct db *db, long long id, struct err **e)
{
	struct db_param p = DBP_I64(id);
	long long found = 0;
	int rc;

	if (db_exec(db, SQL_KEY_REVOKE, &p, 1, NULL, NULL, e) < 0)
		return -1;
	rc = db_query(db, SQL_KEY_EXISTS, &p, 1, one_i64, &found, e);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return err_set(e, ERR_NOT_FOUND, "no API key with id %lld", id);
	return 0;
}

/* ==================================================== invocation records */

#define INV_NCOLS        22
#define INV_CHUNK_ROWS   40
#define LOGS_CHUNK_BYTES (4u * 1024 * 1024)

static const char INV_INSERT_HEAD[] =
    "INSERT IGNORE INTO invocations (request_id, function_id, function_name, "
    "function_version, source, isolation, started_at, duration_ms, total_ms, init_ms, "
    "queue_ms, cold, cold_reason, status, error_type, error_message, max_memory_bytes, "
    "cpu_ms, response_bytes, batch_size, container, attempt) VALUES ";
static const char NO_TAIL[] = "";
static const char LOGS_INSERT_HEAD[] =
    "INSERT IGNORE INTO invocation_logs (request_id, logs, truncated) VALUES ";

static struct db_param jstr(const cJSON *o, const char *k)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(j) ? DBP_STR(j->valuestring) : DBP_NULL;
}

static struct db_param jnum(const cJSON *o, const char *k)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(j) ? DBP_DOUBLE(j->valuedouble) : DBP_NULL;
}

static struct db_param jint(const cJSON *o, const char *k, long long def)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, k);

	if (cJSON_IsNumber(j))
		return DBP_I64((long long)j->valuedouble);
	if (cJSON_IsBool(j))
		return DBP_I64(cJSON_IsTrue(j) ? 1 : 0);
	return def >= 0 ? DBP_I64(def) : DBP_NULL;
}

static void inv_params(const cJSON *o, struct db_param *p)
{
	struct db_param dur = jnum(o, "duration_ms"), tot = jnum(o, "total_ms");

	p[0] = jstr(o, "request_id");
	p[1] = jint(o, "function_id", 0);
	p[2] = jstr(o, "function_name");
	p[3] = jint(o, "function_version", 0);
	p[4] = jstr(o, "source");
	p[5] = jstr(o, "isolation");
	p[6] = jstr(o, "started_at");
	p[7] = dur.type == DB_NULL ? DBP_DOUBLE(0) : dur;
	p[8] = tot.type == DB_NULL ? DBP_DOUBLE(0) : tot;
	p[9] = jnum(o, "init_ms");
	p[10] = jnum(o, "queue_ms");
	p[11] = jint(o, "cold", 0);
	p[12] = jstr(o, "cold_reason");
	p[13] = jstr(o, "status");
	p[14] = jstr(o, "error_type");
	p[15] = jstr(o, "error_message");
	p[16] = jint(o, "max_memory_bytes", -1);
	p[17] = jnum(o, "cpu_ms");
	p[18] = jint(o, "response_bytes", -1);
	p[19] = jint(o, "batch_size", 1);
	p[20] = jstr(o, "container");
	p[21] = jint(o, "attempt", 1);
}

static int insert_inv_chunk(struct db *db, cJSON *const *recs, int n, struct err **e)
{
	_cleanup_free_ struct db_param *p = xcalloc((size_t)n * INV_NCOLS, sizeof(*p));

	unsigned long long affected = 0, first_id = 0;
	struct err *e2 = NULL;

	for (int i = 0; i < n; i++)
		inv_params(recs[i], p + (size_t)i * INV_NCOLS);
	if (db_exec_values(db, INV_INSERT_HEAD, n, INV_NCOLS, NO_TAIL, n == INV_CHUNK_ROWS, p,
	                   &affected, &first_id, e) < 0)
		return -1;
	/* The metrics rollup (db_metrics.c) is derived data: a failure there
	 * must not make the writer retry records that are safely stored. */
	if (db_metrics_rollup_inserted(db, recs, n, affected, first_id, &e2) < 0) {
		log_warnx("metrics rollup of %d records: %s", n, err_msg(e2));
		err_free(&e2);
	}
	return 0;
}

static int insert_logs_chunk(struct db *db, cJSON *const *recs, int n, struct err **e)
{
	_cleanup_free_ struct db_param *p = xcalloc((size_t)n * 3, sizeof(*p));

	for (int i = 0; i < n; i++) {
		struct db_param logs = jstr(recs[i], "logs");
		p[3 * i] = jstr(recs[i], "request_id");
		p[3 * i + 1] = logs.type == DB_NULL ? DBP_STR("") : logs;
		p[3 * i + 2] = jint(recs[i], "logs_truncated", 0);
	}
	return db_exec_values(db, LOGS_INSERT_HEAD, n, 3, NO_TAIL, n == INV_CHUNK_ROWS, p, NULL,
	                      NULL, e);
}

static size_t logs_len(const cJSON *o)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, "logs");

	return cJSON_IsString(j) ? strlen(j->valuestring) : 0;
}

/* A record with no logs (empty and not cut) gets no invocation_logs row:
 * db_inv_get reads a missing row as "" and not truncated.  Most calls print
 * nothing, and the row was a second B-tree insert per call. */
static int has_logs(const cJSON *o)
{
	return logs_len(o) > 0 || jint(o, "logs_truncated", 0).i != 0;
}

/* The logs go in before their invocations: a reader who finds an
 * invocation finds its logs, and a retention pass (db_inv_prune, which
 * deletes from the invocations down) between the two cannot leave a logs
 * row behind.  A logs row whose invocation did not go in yet is invisible
 * (read through its invocation) and its retry is INSERT IGNORE. */
int db_inv_insert(struct db *db, cJSON *const *recs, int n, struct err **e)
{
	_cleanup_free_ cJSON **logged = NULL;
	int nl = 0;

	for (int i = 0; i < n; i++) {
		if (!has_logs(recs[i]))
			continue;
		if (logged == NULL)
			logged = xmalloc((size_t)n * sizeof(*logged));
		logged[nl++] = recs[i];
	}
	for (int i = 0; i < nl;) {
		size_t bytes = 0;
		int k = 0;
		while (i + k < nl && k < INV_CHUNK_ROWS &&
		       (k == 0 || bytes + logs_len(logged[i + k]) <= LOGS_CHUNK_BYTES))
			bytes += logs_len(logged[i + k++]);
		if (insert_logs_chunk(db, logged + i, k, e) < 0)
			return -1;
		i += k;
	}
	for (int i = 0; i < n; i += INV_CHUNK_ROWS) {
		int k = n - i < INV_CHUNK_ROWS ? n - i : INV_CHUNK_ROWS;
		if (insert_inv_chunk(db, recs + i, k, e) < 0)
			return -1;
	}
	return 0;
}

#define INV_COLS                                                                                   \
	"i.id, i.request_id, i.function_id, i.function_name, i.function_version, i.source, "       \
	"i.isolation, " TS(                                                                        \
	    "i.started_at") ", i.duration_ms, i.total_ms, i.init_ms, i.queue_ms, "                 \
	                    "i.cold, i.cold_reason, i.status, i.error_type, "                      \
	                    "i.error_message, i.max_memory_bytes, "                                \
	                    "i.cpu_ms, i.response_bytes, i.batch_size, i.container, "              \
	                    "i.attempt"

/* The filters are optional: "? = 0 OR col = ?" keeps one prepared statement
 * for every combination. */
/* One statement per filter combination, so that each can use its index
 * ((function_id, id), (function_name, id), (status, id), or the primary key):
 * "? = 0 OR col = ?" would make MariaDB scan.  Without a cursor, id < 2^62. */
#define INV_LIST(where)                                                                            \
	"SELECT " INV_COLS " FROM invocations i WHERE " where "i.id < ? ORDER BY i.id DESC LIMIT " \
	"?"
static const char *const SQL_INV_LIST[3][2] = {
    /* [by: none, id, name][status given] */
    {INV_LIST(""), INV_LIST("i.status = ? AND ")},
    {INV_LIST("i.function_id = ? AND "), INV_LIST("i.function_id = ? AND i.status = ? AND ")},
    {INV_LIST("i.function_name = ? AND "), INV_LIST("i.function_name = ? AND i.status = ? AND ")},
};
#define CURSOR_NONE (1LL << 62)
static const char SQL_INV_GET[] =
    "SELECT " INV_COLS ", l.logs, l.truncated FROM invocations i "
    "LEFT JOIN invocation_logs l ON l.request_id = i.request_id WHERE i.request_id = ?";

static void add_num_or_null(cJSON *o, const char *k, const struct db_row *r, int i)
{
	if (r->v[i] != NULL)
		cJSON_AddNumberToObject(o, k, db_row_double(r, i));
	else
		cJSON_AddNullToObject(o, k);
}

static cJSON *inv_json(const struct db_row *r)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "request_id", r->v[1]);
	cJSON_AddNumberToObject(o, "function_id", db_row_double(r, 2));
	add_str_or_null(o, "function_name", r->v[3]);
	cJSON_AddNumberToObject(o, "function_version", db_row_double(r, 4));
	add_str_or_null(o, "source", r->v[5]);
	add_str_or_null(o, "isolation", r->v[6]);
	add_str_or_null(o, "started_at", r->v[7]);
	add_num_or_null(o, "duration_ms", r, 8);
	add_num_or_null(o, "total_ms", r, 9);
	add_num_or_null(o, "init_ms", r, 10);
	add_num_or_null(o, "queue_ms", r, 11);
	cJSON_AddBoolToObject(o, "cold", db_row_i64(r, 12) != 0);
	add_str_or_null(o, "cold_reason", r->v[13]);
	add_str_or_null(o, "status", r->v[14]);
	add_str_or_null(o, "error_type", r->v[15]);
	add_str_or_null(o, "error_message", r->v[16]);
	add_num_or_null(o, "max_memory_bytes", r, 17);
	add_num_or_null(o, "cpu_ms", r, 18);
	add_num_or_null(o, "response_bytes", r, 19);
	add_num_or_null(o, "batch_size", r, 20);
	add_str_or_null(o, "container", r->v[21]);
	cJSON_AddNumberToObject(o, "attempt", db_row_double(r, 22));
	return o;
}

static int inv_list_row(const struct db_row *r, void *arg)
{
	struct list_ctx *c = arg;

	cJSON_AddItemToArray(c->arr, inv_json(r));
	c->last = db_row_i64(r, 0);
	return 0;
}

int db_inv_list(struct db *db, const struct inv_filter *f, cJSON *arr, long long *last,
                struct err **e)
{
	struct db_param p[4];
	struct list_ctx c = {arr, 0};
	int by = f->function_id > 0 ? 1 : f->function_name != NULL ? 2 : 0;
	int np = 0;

	if (by == 1)
		p[np++] = DBP_I64(f->function_id);
	else if (by == 2)
		p[np++] = DBP_STR(f->function_name);
	if (f->status != NULL)
		p[np++] = DBP_STR(f->status);
	p[np++] = DBP_I64(f->before_id > 0 ? f->before_id : CURSOR_NONE);
	p[np++] = DBP_I64(f->limit);
	if (db_query(db, SQL_INV_LIST[by][f->status != NULL], p, np, inv_list_row, &c, e) < 0)
		return -1;
	*last = c.last;
	return 0;
}

static int inv_get_row(const struct db_row *r, void *arg)
{
	cJSON *o = inv_json(r);

	if (r->v[23] != NULL)
		cJSON_AddItemToObject(o, "logs", cJSON_CreateString(r->v[23]));
	else
		cJSON_AddStringToObject(o, "logs", "");
	cJSON_AddBoolToObject(o, "logs_truncated", db_row_i64(r, 24) != 0);
	*(cJSON **)arg = o;
	return 1;
}

cJSON *db_inv_get(struct db *db, const char *request_id, struct err **e)
{
	struct db_param p = DBP_STR(request_id);
	cJSON *o = NULL;
	int rc = db_query(db, SQL_INV_GET, &p, 1, inv_get_row, &o, e);

	if (rc < 0)
		return NULL;
	if (rc == 0) {
		err_set(e, ERR_NOT_FOUND, "no invocation with request id '%s'", request_id);
		return NULL;
	}
	return o;
}

/* ---- retention */

#define PRUNE_CHUNK "1000"
/* The oldest first, by ix_invocations_started.  The derived table has a
 * LIMIT, so MariaDB materialises it and may delete from the table it
 * selected from (error 1093 otherwise). */
#define PRUNE_OLDEST                                                                               \
	"(SELECT id, request_id FROM invocations WHERE started_at < ? ORDER BY started_at "        \
	"LIMIT " PRUNE_CHUNK ") o"
static const char SQL_PRUNE_COUNT[] = "SELECT COUNT(*) FROM " PRUNE_OLDEST;
static const char SQL_PRUNE[] =
    "DELETE i, l FROM invocations i JOIN " PRUNE_OLDEST " ON o.id = i.id "
    "LEFT JOIN invocation_logs l ON l.request_id = o.request_id";
static const char SQL_PRUNE_LOCK[] = "SELECT GET_LOCK('lambda.records_prune', 0)";
static const char SQL_PRUNE_UNLOCK[] = "SELECT RELEASE_LOCK('lambda.records_prune')";

int db_inv_prune(struct db *db, int days, long budget_ms, long long *removed, struct err **e)
{
	time_t t = time(NULL) - (time_t)days * 86400;
	char before[32];
	struct tm tm;
	struct db_param p;
	double until = mono_ms_f() + (double)budget_ms;
	long long got = 0, n = 1;
	int rc = 0;

	*removed = 0;
	gmtime_r(&t, &tm); /* started_at is UTC (invoke.c) */
	strftime(before, sizeof(before), "%Y-%m-%d %H:%M:%S", &tm);
	p = DBP_STR(before);
	if (db_query(db, SQL_PRUNE_LOCK, NULL, 0, one_i64, &got, e) < 0)
		return -1;
	if (got != 1)
		return 1; /* another process prunes now */
	/* An invocation and its logs go in one statement: no orphan logs.
	 * The count before it is for the caller's log line (a record the
	 * journal replays meanwhile may make it one off). */
	while (n > 0 && mono_ms_f() < until) {
		if (db_query(db, SQL_PRUNE_COUNT, &p, 1, one_i64, &n, e) < 0 ||
		    (n > 0 && db_exec(db, SQL_PRUNE, &p, 1, NULL, NULL, e) < 0)) {
			rc = -1;
			break;
		}
		*removed += n;
	}
	/* a lost connection released the lock with it */
	if (db_query(db, SQL_PRUNE_UNLOCK, NULL, 0, NULL, NULL, rc < 0 ? NULL : e) < 0)
		rc = -1;
	return rc;
}

/* ============================================================ metrics */

#define METRICS_RAW(where)                                                                         \
	"SELECT id, function_id, " TS("started_at") ", total_ms / 1000.0, status <> 'success', "   \
	                                            "error_message FROM invocations WHERE " where  \
	                                            "id < ? ORDER BY id DESC LIMIT ?"
static const char *const SQL_METRICS_RAW[2] = {METRICS_RAW(""),
                                               METRICS_RAW("function_id = ? AND ")};

static int raw_row(const struct db_row *r, void *arg)
{
	struct list_ctx *c = arg;
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "function_id", db_row_double(r, 1));
	add_str_or_null(o, "timestamp", r->v[2]);
	cJSON_AddNumberToObject(o, "execution_time", db_row_double(r, 3));
	cJSON_AddBoolToObject(o, "was_error", db_row_i64(r, 4) != 0);
	add_str_or_null(o, "error_message", r->v[5]);
	cJSON_AddItemToArray(c->arr, o);
	c->last = db_row_i64(r, 0);
	return 0;
}

int db_metrics_raw(struct db *db, long long function_id, long long before_id, int limit, cJSON *arr,
                   long long *last, struct err **e)
{
	struct db_param p[3];
	struct list_ctx c = {arr, 0};
	int np = 0;

	if (function_id > 0)
		p[np++] = DBP_I64(function_id);
	p[np++] = DBP_I64(before_id > 0 ? before_id : CURSOR_NONE);
	p[np++] = DBP_I64(limit);
	if (db_query(db, SQL_METRICS_RAW[function_id > 0], p, np, raw_row, &c, e) < 0)
		return -1;
	*last = c.last;
	return 0;
}
