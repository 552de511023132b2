/* Metrics for the dashboard and for Prometheus (issue 5):
 *   GET /api/metrics/timeseries?function=&window=5m|1h|24h&step=
 *   GET /api/metrics/summary?function_id=&window=  (the seed's shape + percentiles)
 *   GET /api/pools      the executor's POOLS reply, as is
 *   GET /api/stats      host CPU / memory from /proc, containers from the executor
 *   GET /metrics        Prometheus text exposition
 * Every route needs an API key (Prometheus: `authorization: credentials`). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "app.h"
#include "auth.h"
#include "cleanup.h"
#include "clock.h"
#include "db_core.h"
#include "db_metrics.h"
#include "exec_client.h"
#include "function.h"
#include "metrics.h"
#include "prometheus.h"
#include "proto.h"
#include "xalloc.h"

#define EXEC_TIMEOUT_MS 2000
/* More raw rows than this in a 5 min window and the series comes from the
 * per-minute rollup instead (see docs/reporting.md). */
#define RAW_MAX_ROWS 200000

/* ------------------------------------------------------- parameters */

/* Reads a text query parameter; -1 after answering 400. */
static int query_str(const struct request *req, struct reply *rep, const char *name, char **out)
{
	struct err *e = NULL;

	if (request_query(req, name, out, &e) < 0) {
		api_fail(rep, &e);
		return -1;
	}
	return 0;
}

/* ?function= (an id or a name) -> its id; 0 when absent.  400 on a bad
 * value, 404 when there is no such function. */
static int query_function(struct request *req, struct reply *rep, long long *id, char **name)
{
	_cleanup_free_ char *v = NULL;
	struct function f;
	struct err *e = NULL;

	*id = 0;
	if (query_str(req, rep, "function", &v) < 0)
		return -1;
	if (v == NULL || *v == '\0')
		return 0;
	if (!function_name_valid(v)) {
		reply_error(rep, 400, "invalid",
		            "function: must be an id or a name matching [A-Za-z0-9_-]{1,64}");
		return -1;
	}
	if (db_fn_get(req->w->db, v, 0, &f, &e) < 0) {
		api_fail(rep, &e);
		return -1;
	}
	*id = f.id;
	*name = xstrdup(f.name);
	function_free(&f);
	return 0;
}

static int query_window(const struct request *req, struct reply *rep, struct metrics_window *w,
                        int *step)
{
	_cleanup_free_ char *win = NULL;
	_cleanup_free_ char *st = NULL;
	struct err *e = NULL;

	if (query_str(req, rep, "window", &win) < 0 || query_str(req, rep, "step", &st) < 0)
		return -1;
	if (metrics_window_parse(win, w, &e) < 0 || metrics_step_parse(st, w, step, &e) < 0) {
		api_fail(rep, &e);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------- timeseries */

/* Fills a series for the window: exact from raw rows for short windows
 * unless there are too many, else from the rollup.  *out owned by caller. */
static int build_series(struct db *db, const struct metrics_window *w, int step, long long fid,
                        struct metrics_series **out, struct err **e)
{
	time_t now = time(NULL);
	struct metrics_series *s;
	int overflow = 0;

	if (!w->rollup) {
		s = metrics_series_new((int64_t)now, w->seconds, step, true);
		if (db_metrics_series_raw(db, s, fid, RAW_MAX_ROWS, &overflow, e) < 0) {
			metrics_series_free(s);
			return -1;
		}
		if (!overflow) {
			*out = s;
			return 0;
		}
		metrics_series_free(s);
		step = step < 60 ? 60 : (step + 59) / 60 * 60;
	}
	s = metrics_series_new((int64_t)now, w->seconds, step, false);
	if (db_metrics_series_rollup(db, s, fid, e) < 0) {
		metrics_series_free(s);
		return -1;
	}
	*out = s;
	return 0;
}

static void timeseries(struct request *req, struct reply *rep)
{
	_cleanup_free_ char *fname = NULL;
	struct metrics_window w;
	struct metrics_series *s = NULL;
	struct err *e = NULL;
	long long fid = 0;
	int step = 0;
	cJSON *root, *f;

	if (query_window(req, rep, &w, &step) < 0 || query_function(req, rep, &fid, &fname) < 0)
		return;
	if (build_series(req->w->db, &w, step, fid, &s, &e) < 0) {
		api_fail(rep, &e);
		return;
	}
	root = metrics_series_json(s);
	cJSON_AddStringToObject(root, "window", w.name);
	cJSON_AddNumberToObject(root, "step_s", s->step);
	cJSON_AddNumberToObject(root, "from", (double)s->from);
	cJSON_AddNumberToObject(root, "to",
	                        (double)(s->from + (int64_t)s->step * (int64_t)s->nbuckets));
	cJSON_AddStringToObject(root, "source", s->exact ? "raw" : "rollup");
	if (fid > 0) {
		f = cJSON_AddObjectToObject(root, "function");
		cJSON_AddNumberToObject(f, "id", (double)fid);
		cJSON_AddStringToObject(f, "name", fname);
	} else {
		cJSON_AddNullToObject(root, "function");
	}
	metrics_series_free(s);
	reply_json_take(rep, 200, root);
}

/* ---------------------------------------------------------- summary */

void api_metrics_summary(struct request *req, struct reply *rep)
{
	_cleanup_free_ char *win = NULL;
	struct metrics_window w;
	struct err *e = NULL;
	long long fid = 0;
	int64_t since = 0;
	cJSON *arr;

	if (api_query_int(req, rep, "function_id", 1, 1LL << 62, 0, &fid) < 0 ||
	    query_str(req, rep, "window", &win) < 0)
		return;
	if (win != NULL) { /* absent = all time, as the seed's summary */
		if (metrics_window_parse(win, &w, &e) < 0) {
			api_fail(rep, &e);
			return;
		}
		since = ((int64_t)time(NULL) - w.seconds) / 60 * 60;
	}
	arr = cJSON_CreateArray();
	if (db_metrics_summary_rollup(req->w->db, fid, since, arr, &e) < 0) {
		cJSON_Delete(arr);
		api_fail(rep, &e);
		return;
	}
	reply_json_take(rep, 200, arr);
}

/* ------------------------------------------------------------ pools */

/* Asks the executor; *out is the reply payload (caller deletes). */
static int exec_ask(struct request *req, int type, int reply_type, cJSON **out, struct err **e)
{
	_cleanup_cjson_ cJSON *payload = cJSON_CreateObject();
	cJSON *reply = NULL;
	int rtype = 0, sent = 0;

	if (exec_client_call(req->w->ec, type, payload, EXEC_TIMEOUT_MS, &rtype, &reply, &sent, e) <
	    0)
		return -1;
	if (rtype != reply_type) {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(reply, "message");
		err_set(e, ERR_UNAVAILABLE, "executor unavailable: %s",
		        cJSON_IsString(m) ? m->valuestring : "unexpected reply");
		cJSON_Delete(reply);
		return -1;
	}
	*out = reply;
	return 0;
}

static void pools(struct request *req, struct reply *rep)
{
	cJSON *reply = NULL;
	struct err *e = NULL;

	if (exec_ask(req, PROTO_POOLS, PROTO_POOLS_REPLY, &reply, &e) < 0) {
		api_fail(rep, &e);
		return;
	}
	reply_json_take(rep, 200, reply);
}

/* ------------------------------------------------------------ stats */

/* Reads a small /proc file whole (they are a few KiB). */
static char *read_proc(const char *path, struct err **e)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *b;
	ssize_t n;
	size_t len = 0, cap = 16384;

	if (fd < 0) {
		err_setsys(e, ERR_INTERNAL, "open %s", path);
		return NULL;
	}
	b = xmalloc(cap);
	while ((n = read(fd, b + len, cap - 1 - len)) > 0)
		len += (size_t)n;
	if (n < 0) {
		err_setsys(e, ERR_INTERNAL, "read %s", path);
		free(b);
		return NULL;
	}
	b[len] = '\0';
	return b;
}

static int cpu_sample(struct metrics_cpu_sample *s, struct err **e)
{
	_cleanup_free_ char *t = read_proc("/proc/stat", e);

	return t == NULL ? -1 : metrics_parse_proc_stat(t, s, e);
}

/* Host CPU busy % since the sample kept by this process (threads share it),
 * which is replaced at most once a second so that frequent callers still
 * see a meaningful interval; the first time, over 100 ms. */
static int host_cpu(double *pct, struct err **e)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static struct metrics_cpu_sample last;
	static long long last_at;
	struct metrics_cpu_sample now;
	long long t;
	double age;
	int rc = -1;

	pthread_mutex_lock(&lock);
	t = mono_ms();
	age = (double)(t - last_at) / 1000.0;
	if (last.total == 0 || age > 60) {
		const struct timespec pause = {0, 100 * 1000 * 1000};
		if (cpu_sample(&last, e) < 0)
			goto out;
		last_at = t;
		age = 0;
		nanosleep(&pause, NULL);
	}
	if (cpu_sample(&now, e) < 0)
		goto out;
	*pct = metrics_cpu_percent(&last, &now);
	if (age >= 1.0) {
		last = now;
		last_at = t;
	}
	rc = 0;
out:
	pthread_mutex_unlock(&lock);
	return rc;
}

static cJSON *host_json(struct err **e)
{
	_cleanup_free_ char *mem = read_proc("/proc/meminfo", e);
	_cleanup_free_ char *load = NULL;
	cJSON *h;
	uint64_t total, avail;
	double cpu = NAN, l1 = 0, l5 = 0, l15 = 0;

	if (mem == NULL || metrics_parse_meminfo(mem, &total, &avail, e) < 0 ||
	    host_cpu(&cpu, e) < 0)
		return NULL;
	load = read_proc("/proc/loadavg", e);
	if (load == NULL || sscanf(load, "%lf %lf %lf", &l1, &l5, &l15) != 3) {
		err_set(e, ERR_INTERNAL, "/proc/loadavg: unreadable");
		return NULL;
	}
	h = cJSON_CreateObject();
	if (isfinite(cpu))
		cJSON_AddNumberToObject(h, "cpu_percent", round(cpu * 10) / 10);
	else
		cJSON_AddNullToObject(h, "cpu_percent");
	cJSON_AddNumberToObject(h, "cpus", (double)sysconf(_SC_NPROCESSORS_ONLN));
	cJSON_AddNumberToObject(h, "load1", l1);
	cJSON_AddNumberToObject(h, "load5", l5);
	cJSON_AddNumberToObject(h, "load15", l15);
	cJSON_AddNumberToObject(h, "mem_total_bytes", (double)total);
	cJSON_AddNumberToObject(h, "mem_available_bytes", (double)avail);
	cJSON_AddNumberToObject(h, "mem_used_percent",
	                        round(1000.0 * (double)(total - avail) / (double)total) / 10);
	return h;
}

/* Host figures always; the executor's STATS when it answers (else
 * executor.ok = false and the reason: the host part is still useful). */
static void stats(struct request *req, struct reply *rep)
{
	cJSON *root, *host, *ex, *st = NULL;
	struct err *e = NULL;

	host = host_json(&e);
	if (host == NULL) {
		api_fail(rep, &e);
		return;
	}
	root = cJSON_CreateObject();
	cJSON_AddItemToObject(root, "host", host);
	ex = cJSON_AddObjectToObject(root, "executor");
	if (exec_ask(req, PROTO_STATS, PROTO_STATS_REPLY, &st, &e) == 0) {
		cJSON *c = cJSON_GetObjectItemCaseSensitive(st, "containers");
		cJSON *m = cJSON_GetObjectItemCaseSensitive(st, "memory_bytes");
		cJSON_AddBoolToObject(ex, "ok", 1);
		cJSON_AddNumberToObject(root, "containers", cJSON_IsNumber(c) ? c->valuedouble : 0);
		cJSON_AddNumberToObject(root, "containers_memory_bytes",
		                        cJSON_IsNumber(m) ? m->valuedouble : 0);
		cJSON_AddItemToObject(ex, "stats", st);
	} else {
		cJSON_AddBoolToObject(ex, "ok", 0);
		cJSON_AddStringToObject(ex, "error", err_msg(e));
		cJSON_AddNullToObject(root, "containers");
		err_free(&e);
	}
	reply_json_take(rep, 200, root);
}

/* ------------------------------------------------------- prometheus */

struct counters {
	struct db_metrics_counter *v;
	size_t n, cap;
};

static int collect_counter(const struct db_metrics_counter *c, void *arg)
{
	struct counters *cs = arg;

	if (cs->n == cs->cap) {
		cs->cap = cs->cap ? cs->cap * 2 : 32;
		cs->v = xrealloc(cs->v, cs->cap * sizeof(*cs->v));
	}
	cs->v[cs->n++] = *c;
	return 0;
}

static void prometheus(struct request *req, struct reply *rep)
{
	struct counters cs = {NULL, 0, 0};
	cJSON *pools_reply = NULL;
	struct err *e = NULL;
	struct buf out;

	if (db_metrics_counters(req->w->db, collect_counter, &cs, &e) < 0) {
		free(cs.v);
		api_fail(rep, &e);
		return;
	}
	if (exec_ask(req, PROTO_POOLS, PROTO_POOLS_REPLY, &pools_reply, &e) < 0)
		err_free(&e); /* reported as lambda_executor_up 0 */
	buf_init(&out, PROMETHEUS_MAX_BYTES);
	if (prometheus_render(&out, cs.v, cs.n, pools_reply, &e) < 0) {
		api_fail(rep, &e);
	} else {
		reply_raw(rep, 200, "text/plain; version=0.0.4; charset=utf-8", out.data, out.len);
	}
	buf_free(&out);
	cJSON_Delete(pools_reply);
	free(cs.v);
}

static const struct route routes[] = {
    {"GET", "/api/metrics/timeseries", auth_bearer, timeseries},
    {"GET", "/api/pools", auth_bearer, pools},
    {"GET", "/api/stats", auth_bearer, stats},
    {"GET", "/metrics", auth_bearer, prometheus},
};
ROUTE_TABLE(api_metrics_routes, routes);
