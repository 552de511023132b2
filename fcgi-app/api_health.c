/* GET /api/health: is the database reachable, is the executor (and through
 * it Docker)?  Public (no key): load balancers and scripts poll it. */
#include <config.h>

#include "api.h"
#include "app.h"
#include "cleanup.h"
#include "db.h"
#include "exec_client.h"

static void health(struct request *req, struct reply *rep)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *db = cJSON_AddObjectToObject(root, "database");
	cJSON *ex = cJSON_AddObjectToObject(root, "executor");
	cJSON *pong = NULL;
	struct err *e = NULL;
	int ok = 1;

	if (db_ping(req->w->db, &e) == 0) {
		cJSON_AddBoolToObject(db, "ok", 1);
	} else {
		ok = 0;
		cJSON_AddBoolToObject(db, "ok", 0);
		cJSON_AddStringToObject(db, "error", err_msg(e));
		err_free(&e);
	}
	if (exec_client_ping(req->w->ec, &pong, &e) == 0) {
		cJSON *d = cJSON_GetObjectItemCaseSensitive(pong, "docker");
		cJSON_AddBoolToObject(ex, "ok", 1);
		cJSON_AddItemToObject(ex, "pong", pong);
		if (cJSON_IsFalse(d))
			ok = 0;
	} else {
		ok = 0;
		cJSON_AddBoolToObject(ex, "ok", 0);
		cJSON_AddStringToObject(ex, "error", err_msg(e));
		err_free(&e);
	}
	cJSON_AddStringToObject(root, "status", ok ? "ok" : "degraded");
	reply_json_take(rep, ok ? 200 : 503, root);
}

static const struct route routes[] = {
    {"GET", "/api/health", NULL, health},
};
ROUTE_TABLE(api_health_routes, routes);
