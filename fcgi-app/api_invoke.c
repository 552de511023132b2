/* POST /api/functions/{id|name}/invoke and the seed's POST
 * /api/functions/execute (issue 3). */
#include <config.h>

#include <string.h>

#include "api.h"
#include "app.h"
#include "auth.h"
#include "cleanup.h"
#include "db_core.h"
#include "function.h"
#include "invoke.h"

static void answer_failure(struct reply *rep, const struct invoke_out *out, struct err **e,
                           int retry_after)
{
	if (out->request_id[0] != '\0') /* it was recorded (as internal) */
		reply_header(rep, "X-Request-Id", "%s", out->request_id);
	if ((*e)->code == ERR_TOO_MANY)
		reply_header(rep, "Retry-After", "%d", retry_after > 0 ? retry_after : 1);
	api_fail(rep, e);
}

static int isolation_param(const struct request *req, struct reply *rep, char **iso)
{
	struct err *e = NULL;

	if (request_query(req, "isolation", iso, &e) < 0) {
		api_fail(rep, &e);
		return -1;
	}
	if (*iso != NULL && strcmp(*iso, "docker") != 0 && strcmp(*iso, "gvisor") != 0) {
		reply_error(rep, 400, "invalid", "isolation: must be 'docker' or 'gvisor'");
		return -1;
	}
	return 0;
}

/* Moves member k of the executor's reply into the response: the reply is
 * freed right after (and recorded before), so its parts need no copy.  k
 * is a literal: the response keeps it as its key (cJSON's CS variant). */
static void move_from(cJSON *to, cJSON *from, const char *k, int null_if_absent)
{
	cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(from, k);

	if (v != NULL)
		cJSON_AddItemToObjectCS(to, k, v);
	else if (null_if_absent)
		cJSON_AddNullToObject(to, k);
}

/* Takes the members it answers with out of o->result. */
static cJSON *invoke_json(const struct function *fn, struct invoke_out *o)
{
	cJSON *j = cJSON_CreateObject();
	cJSON *r = o->result;
	static const char *const keys[] = {"duration_ms", "init_ms",          "queue_ms",
	                                   "cold_reason", "isolation",        "container",
	                                   "batch_size",  "max_memory_bytes", "cpu_ms"};

	cJSON_AddStringToObject(j, "request_id", o->request_id);
	cJSON_AddStringToObject(j, "function", fn->name);
	cJSON_AddNumberToObject(j, "version", (double)fn->version);
	cJSON_AddStringToObject(j, "status", o->status);
	if (strcmp(o->status, "success") == 0)
		move_from(j, r, "result", 1);
	else
		move_from(j, r, "error", 1);
	move_from(j, r, "output", 0);
	move_from(j, r, "logs", 0);
	cJSON_AddBoolToObject(j, "logs_truncated",
	                      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "logs_truncated")));
	cJSON_AddBoolToObject(j, "cold", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "cold")));
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		move_from(j, r, keys[i], 0);
	cJSON_AddNumberToObject(j, "total_ms", o->total_ms);
	return j;
}

static void fn_invoke(struct request *req, struct reply *rep)
{
	_cleanup_free_ char *iso = NULL;
	_cleanup_cjson_ cJSON *event = NULL;
	struct function fn;
	struct invoke_req ir;
	struct invoke_out out;
	struct err *e = NULL;
	int retry = 0;

	if (isolation_param(req, rep, &iso) < 0)
		return;
	if ((long)req->body_len > app->cfg.max_event_bytes) {
		reply_error(rep, 413, "too_large", "event: exceeds %ld bytes",
		            app->cfg.max_event_bytes);
		return;
	}
	if (req->body_len > 0) {
		event = cJSON_ParseWithLength(req->body, req->body_len);
		if (event == NULL) {
			reply_error(rep, 400, "invalid",
			            "event: malformed JSON in the request body");
			return;
		}
	}
	if (api_load_function(req, rep, 0, &fn) < 0)
		return;
	memset(&out, 0, sizeof(out));
	ir = (struct invoke_req){.fn = &fn, .isolation = iso, .event = event, .source = "api"};
	if (invoke_run(req->w, &ir, &out, &retry, &e) < 0) {
		function_free(&fn);
		answer_failure(rep, &out, &e, retry);
		return;
	}
	reply_header(rep, "X-Request-Id", "%s", out.request_id);
	reply_json_take(rep, 200, invoke_json(&fn, &out));
	invoke_out_free(&out);
	function_free(&fn);
}

/* ------------------------------------------------------------------ seed */

static int seed_params(const struct request *req, struct reply *rep, char ref[32], cJSON **args,
                       const char **iso)
{
	_cleanup_cjson_ cJSON *body = cJSON_ParseWithLength(req->body, req->body_len);
	const cJSON *id, *a, *g;

	if (body == NULL || !cJSON_IsObject(body)) {
		reply_error(rep, 400, "invalid",
		            body == NULL ? "malformed JSON in the request body"
		                         : "the request body must be a JSON object");
		return -1;
	}
	id = cJSON_GetObjectItemCaseSensitive(body, "id");
	if (cJSON_IsNumber(id) && id->valuedouble >= 1 && id->valuedouble < 1e15 &&
	    id->valuedouble == (double)(long long)id->valuedouble) {
		snprintf(ref, 32, "%lld", (long long)id->valuedouble);
	} else if (cJSON_IsString(id) && function_name_valid(id->valuestring)) {
		snprintf(ref, 32, "%s", id->valuestring);
	} else {
		reply_error(rep, 400, "invalid",
		            id == NULL ? "id: required"
		                       : "id: must be a function id (positive integer) or name");
		return -1;
	}
	a = cJSON_GetObjectItemCaseSensitive(body, "args");
	if (a != NULL && !cJSON_IsNull(a) && !cJSON_IsArray(a)) {
		reply_error(rep, 400, "invalid", "args: must be an array");
		return -1;
	}
	g = cJSON_GetObjectItemCaseSensitive(body, "use_gvisor");
	if (g != NULL && !cJSON_IsBool(g) && !cJSON_IsNull(g)) {
		reply_error(rep, 400, "invalid", "use_gvisor: must be true or false");
		return -1;
	}
	*iso = cJSON_IsBool(g) ? (cJSON_IsTrue(g) ? "gvisor" : "docker") : NULL;
	*args = a != NULL && cJSON_IsArray(a) ? cJSON_Duplicate(a, 1) : cJSON_CreateArray();
	return 0;
}

static cJSON *seed_json(const struct function *fn, const struct invoke_out *o)
{
	cJSON *j = cJSON_CreateObject();
	const cJSON *output = cJSON_GetObjectItemCaseSensitive(o->result, "output");
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(o->result, "error");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(err, "errorMessage");

	cJSON_AddStringToObject(j, "output", cJSON_IsString(output) ? output->valuestring : "");
	if (strcmp(o->status, "success") == 0) {
		cJSON_AddNullToObject(j, "error");
	} else if (strcmp(o->status, "timeout") == 0) {
		char m[96];
		snprintf(m, sizeof(m), "Execution timed out after %g seconds",
		         (double)fn->timeout_ms / 1000.0);
		cJSON_AddStringToObject(j, "error", m);
	} else {
		cJSON_AddStringToObject(j, "error",
		                        cJSON_IsString(msg) ? msg->valuestring : o->status);
	}
	cJSON_AddStringToObject(j, "request_id", o->request_id);
	cJSON_AddStringToObject(j, "status", o->status);
	return j;
}

static void fn_execute(struct request *req, struct reply *rep)
{
	_cleanup_cjson_ cJSON *args = NULL;
	const char *iso = NULL;
	char ref[32];
	struct function fn;
	struct invoke_req ir;
	struct invoke_out out;
	struct err *e = NULL;
	int retry = 0;

	if (seed_params(req, rep, ref, &args, &iso) < 0)
		return;
	if (db_fn_get(req->w->db, ref, 0, &fn, &e) < 0) {
		api_fail(rep, &e);
		return;
	}
	memset(&out, 0, sizeof(out));
	ir = (struct invoke_req){.fn = &fn, .isolation = iso, .args = args, .source = "seed"};
	if (invoke_run(req->w, &ir, &out, &retry, &e) < 0) {
		function_free(&fn);
		answer_failure(rep, &out, &e, retry);
		return;
	}
	reply_header(rep, "X-Request-Id", "%s", out.request_id);
	reply_json_take(rep, 200, seed_json(&fn, &out));
	invoke_out_free(&out);
	function_free(&fn);
}

static const struct route routes[] = {
    {"POST", "/api/functions/{}/invoke", auth_bearer, fn_invoke},
    {"POST", "/api/functions/execute", auth_bearer, fn_execute},
};
ROUTE_TABLE(api_invoke_routes, routes);
