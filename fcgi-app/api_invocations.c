/* Invocation records: GET /api/invocations[/{request_id}] and the seed's
 * GET /api/metrics and /api/metrics/summary, all answered from MariaDB. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "app.h"
#include "auth.h"
#include "cleanup.h"
#include "db_core.h"
#include "function.h"

static const char *const statuses[] = {"success", "error", "timeout", "oom", "killed", "internal"};

static int status_valid(const char *s)
{
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (strcmp(s, statuses[i]) == 0)
			return 1;
	return 0;
}

/* ?function= is an id (digits) or a name. */
static int function_filter(const struct request *req, struct reply *rep, long long *id, char **name)
{
	_cleanup_free_ char *v = NULL;
	struct err *e = NULL;

	*id = 0;
	*name = NULL;
	if (request_query(req, "function", &v, &e) < 0) {
		api_fail(rep, &e);
		return -1;
	}
	if (v == NULL)
		return 0;
	if (!function_name_valid(v)) {
		reply_error(rep, 400, "invalid",
		            "function: must be an id or a name matching [A-Za-z0-9_-]{1,64}");
		return -1;
	}
	if (strspn(v, "0123456789") == strlen(v) && strlen(v) <= 18)
		*id = strtoll(v, NULL, 10);
	else
		*name = TAKE_PTR(v);
	return 0;
}

static void inv_list(struct request *req, struct reply *rep)
{
	_cleanup_free_ char *name = NULL;
	_cleanup_free_ char *status = NULL;
	struct inv_filter f;
	struct err *e = NULL;
	long long last = 0;
	cJSON *arr;

	memset(&f, 0, sizeof(f));
	if (api_page(req, rep, API_LIMIT_DEFAULT, API_LIMIT_MAX, &f.limit, &f.before_id) < 0 ||
	    function_filter(req, rep, &f.function_id, &name) < 0)
		return;
	if (request_query(req, "status", &status, &e) < 0) {
		api_fail(rep, &e);
		return;
	}
	if (status != NULL && !status_valid(status)) {
		reply_error(rep, 400, "invalid",
		            "status: must be one of success, error, timeout, "
		            "oom, killed, internal");
		return;
	}
	f.function_name = name;
	f.status = status;
	arr = cJSON_CreateArray();
	if (db_inv_list(req->w->db, &f, arr, &last, &e) < 0) {
		cJSON_Delete(arr);
		api_fail(rep, &e);
		return;
	}
	api_next_cursor(rep, cJSON_GetArraySize(arr), f.limit, last);
	reply_json_take(rep, 200, arr);
}

static int request_id_valid(const char *s)
{
	if (strlen(s) != 36)
		return 0;
	for (int i = 0; i < 36; i++) {
		char c = s[i];
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return 0;
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
			return 0;
		}
	}
	return 1;
}

static void inv_get(struct request *req, struct reply *rep)
{
	struct err *e = NULL;
	cJSON *o;

	if (!request_id_valid(req->params[0])) {
		reply_error(rep, 400, "invalid", "request_id: must be a lower-case UUID");
		return;
	}
	o = db_inv_get(req->w->db, req->params[0], &e);
	if (o == NULL) {
		api_fail(rep, &e);
		return;
	}
	reply_json_take(rep, 200, o);
}

static void metrics_raw(struct request *req, struct reply *rep)
{
	struct err *e = NULL;
	long long fid = 0, cursor = 0, last = 0;
	int limit;
	cJSON *arr;

	if (api_page(req, rep, API_LIMIT_MAX, API_LIMIT_MAX, &limit, &cursor) < 0 ||
	    api_query_int(req, rep, "function_id", 1, 1LL << 62, 0, &fid) < 0)
		return;
	arr = cJSON_CreateArray();
	if (db_metrics_raw(req->w->db, fid, cursor, limit, arr, &last, &e) < 0) {
		cJSON_Delete(arr);
		api_fail(rep, &e);
		return;
	}
	api_next_cursor(rep, cJSON_GetArraySize(arr), limit, last);
	reply_json_take(rep, 200, arr);
}

static const struct route routes[] = {
    {"GET", "/api/invocations", auth_bearer, inv_list},
    {"GET", "/api/invocations/{}", auth_bearer, inv_get},
    {"GET", "/api/metrics", auth_bearer, metrics_raw},
    {"GET", "/api/metrics/summary", auth_bearer, api_metrics_summary},
};
ROUTE_TABLE(api_invocations_routes, routes);
