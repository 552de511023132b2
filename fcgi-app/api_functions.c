/* /api/functions: the function registry (issue 2). */
#include <config.h>

#include <string.h>

#include "api.h"
#include "app.h"
#include "auth.h"
#include "cleanup.h"
#include "code_store.h"
#include "db_core.h"
#include "exec_client.h"
#include "function.h"
#include "log.h"

static struct fn_limits limits(void)
{
	struct fn_limits l = {(size_t)app->cfg.max_code_bytes, (size_t)app->cfg.max_env_bytes,
	                      (size_t)app->cfg.max_zip_bytes};

	return l;
}

/* Validates the {id|name} path parameter: 400 for what can be neither. */
static int check_ref(const char *ref, struct reply *rep)
{
	if (!function_name_valid(ref)) {
		reply_error(rep, 400, "invalid",
		            "function: must be an id or a name matching [A-Za-z0-9_-]{1,64}");
		return -1;
	}
	return 0;
}

int api_load_function(struct request *req, struct reply *rep, int with_code, struct function *f)
{
	struct err *e = NULL;

	if (check_ref(req->params[0], rep) < 0)
		return -1;
	if (db_fn_get(req->w->db, req->params[0], with_code, f, &e) < 0) {
		api_fail(rep, &e);
		return -1;
	}
	return 0;
}

static void drain(struct request *req, long long id)
{
	struct err *e = NULL;

	if (exec_client_drain(req->w->ec, id, &e) < 0) {
		log_warnx("drain of function %lld: %s", id, err_msg(e));
		err_free(&e);
	}
}

static void answer_function(struct request *req, struct reply *rep, long long id, int status)
{
	struct function f;
	struct err *e = NULL;
	char ref[32];

	snprintf(ref, sizeof(ref), "%lld", id);
	if (db_fn_get(req->w->db, ref, 0, &f, &e) < 0) {
		api_fail(rep, &e);
		return;
	}
	if (status == 201)
		reply_header(rep, "Location", "/api/functions/%lld", id);
	reply_json_take(rep, status, function_to_json(&f, 0));
	function_free(&f);
}

static void fn_create(struct request *req, struct reply *rep)
{
	struct fn_limits lim = limits();
	struct function f;
	struct err *e = NULL;
	long long id = 0;

	if (function_parse(req->body, req->body_len, 0, &lim, &f, &e) < 0) {
		api_fail(rep, &e);
		return;
	}
	/* code first: a row is visible only once its code is on disk */
	if (code_store_write(app->cfg.code_dir, &f, NULL, &e) < 0 ||
	    db_fn_insert(req->w->db, &f, &id, &e) < 0) {
		function_free(&f);
		api_fail(rep, &e);
		return;
	}
	function_free(&f);
	answer_function(req, rep, id, 201);
}

static void fn_list(struct request *req, struct reply *rep)
{
	cJSON *arr;
	struct err *e = NULL;
	long long cursor, last = 0;
	int limit;

	if (api_page(req, rep, API_LIMIT_DEFAULT, API_LIMIT_MAX, &limit, &cursor) < 0)
		return;
	arr = cJSON_CreateArray();
	if (db_fn_list(req->w->db, cursor, limit, arr, &last, &e) < 0) {
		cJSON_Delete(arr);
		api_fail(rep, &e);
		return;
	}
	api_next_cursor(rep, cJSON_GetArraySize(arr), limit, last);
	reply_json_take(rep, 200, arr);
}

static void fn_get(struct request *req, struct reply *rep)
{
	struct function f;

	if (api_load_function(req, rep, 0, &f) < 0)
		return;
	reply_json_take(rep, 200, function_to_json(&f, 0));
	function_free(&f);
}

static void fn_update(struct request *req, struct reply *rep)
{
	struct fn_limits lim = limits();
	struct function f, upd;
	struct err *e = NULL;
	long long version;

	if (api_load_function(req, rep, 1, &f) < 0)
		return;
	if (function_parse(req->body, req->body_len, 1, &lim, &upd, &e) < 0) {
		function_free(&f);
		api_fail(rep, &e);
		return;
	}
	version = f.version;
	if (function_merge(&f, &upd, &e) < 0 ||
	    code_store_write(app->cfg.code_dir, &f, NULL, &e) < 0 ||
	    db_fn_update(req->w->db, &f, version, &e) < 0) {
		function_free(&f);
		function_free(&upd);
		api_fail(rep, &e);
		return;
	}
	drain(req, f.id);
	answer_function(req, rep, f.id, 200);
	function_free(&f);
	function_free(&upd);
}

static void fn_delete(struct request *req, struct reply *rep)
{
	struct function f;
	struct err *e = NULL;

	if (api_load_function(req, rep, 0, &f) < 0)
		return;
	if (db_fn_delete(req->w->db, f.id, &e) < 0) {
		function_free(&f);
		api_fail(rep, &e);
		return;
	}
	drain(req, f.id);
	function_free(&f);
	reply_empty(rep, 204);
}

static void fn_code(struct request *req, struct reply *rep)
{
	struct function f;
	cJSON *o, *full;

	if (api_load_function(req, rep, 1, &f) < 0)
		return;
	full = function_to_json(&f, 1);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", f.name);
	cJSON_AddStringToObject(o, "handler", f.handler);
	cJSON_AddStringToObject(o, "code_format", f.code_format);
	cJSON_AddStringToObject(o, "code_sha256", f.code_sha256);
	cJSON_AddNumberToObject(o, "code_size", (double)f.code_len);
	if (cJSON_GetObjectItemCaseSensitive(full, "code_zip") != NULL)
		cJSON_AddItemToObject(o, "code_zip", cJSON_DetachItemFromObject(full, "code_zip"));
	else
		cJSON_AddItemToObject(o, "code", cJSON_DetachItemFromObject(full, "code"));
	cJSON_Delete(full);
	reply_json_take(rep, 200, o);
	function_free(&f);
}

static const struct route routes[] = {
    {"POST", "/api/functions", auth_bearer, fn_create},
    {"GET", "/api/functions", auth_bearer, fn_list},
    {"GET", "/api/functions/{}", auth_bearer, fn_get},
    {"PUT", "/api/functions/{}", auth_bearer, fn_update},
    {"DELETE", "/api/functions/{}", auth_bearer, fn_delete},
    {"GET", "/api/functions/{}/code", auth_bearer, fn_code},
};
ROUTE_TABLE(api_functions_routes, routes);
