/* /api/keys: create (the key is shown once), list, revoke. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "app.h"
#include "auth.h"
#include "cleanup.h"
#include "db_core.h"
#include "keycache.h"

static void key_create(struct request *req, struct reply *rep)
{
	_cleanup_cjson_ cJSON *body = NULL;
	const cJSON *name;
	char akid[AUTH_AKID_LEN + 1], key[AUTH_KEY_LEN + 1], hash[65];
	struct err *e = NULL;
	long long id = 0;
	cJSON *o;

	body = cJSON_ParseWithLength(req->body, req->body_len);
	if (body == NULL) {
		reply_error(rep, 400, "invalid", "malformed JSON in the request body");
		return;
	}
	if (!cJSON_IsObject(body)) {
		reply_error(rep, 400, "invalid", "the request body must be a JSON object");
		return;
	}
	name = cJSON_GetObjectItemCaseSensitive(body, "name");
	if (name == NULL) {
		reply_error(rep, 400, "invalid", "name: required");
		return;
	}
	if (!cJSON_IsString(name) || !auth_name_valid(name->valuestring)) {
		reply_error(rep, 400, "invalid",
		            "name: must be a string of 1 to 64 printable ASCII characters");
		return;
	}
	if (auth_key_new(app->master_key, akid, key, hash, &e) < 0 ||
	    db_key_insert(req->w->db, name->valuestring, akid, hash, &id, &e) < 0) {
		api_fail(rep, &e);
		return;
	}
	o = db_key_get(req->w->db, id, &e);
	if (o == NULL) {
		api_fail(rep, &e);
		return;
	}
	cJSON_AddStringToObject(o, "key", key);
	reply_header(rep, "Location", "/api/keys/%lld", id);
	reply_json_take(rep, 201, o);
}

static void key_list(struct request *req, struct reply *rep)
{
	struct err *e = NULL;
	long long cursor, last = 0;
	int limit;
	cJSON *arr;

	if (api_page(req, rep, API_LIMIT_DEFAULT, API_LIMIT_MAX, &limit, &cursor) < 0)
		return;
	arr = cJSON_CreateArray();
	if (db_key_list(req->w->db, cursor, limit, arr, &last, &e) < 0) {
		cJSON_Delete(arr);
		api_fail(rep, &e);
		return;
	}
	api_next_cursor(rep, cJSON_GetArraySize(arr), limit, last);
	reply_json_take(rep, 200, arr);
}

static int parse_id(const char *s, long long *id)
{
	char *end;

	if (*s < '1' || *s > '9' || strlen(s) > 18)
		return -1;
	*id = strtoll(s, &end, 10);
	return *end == '\0' ? 0 : -1;
}

static void key_revoke(struct request *req, struct reply *rep)
{
	struct err *e = NULL;
	long long id;

	if (parse_id(req->params[0], &id) < 0) {
		reply_error(rep, 400, "invalid", "id: must be a positive integer");
		return;
	}
	if (db_key_revoke(req->w->db, id, &e) < 0) {
		api_fail(rep, &e);
		return;
	}
	/* committed: every process forgets its cached keys before we answer */
	if (app->keys != NULL)
		keycache_invalidate(app->keys);
	reply_empty(rep, 204);
}

static const struct route routes[] = {
    {"POST", "/api/keys", auth_bearer, key_create},
    {"GET", "/api/keys", auth_bearer, key_list},
    {"DELETE", "/api/keys/{}", auth_bearer, key_revoke},
};
ROUTE_TABLE(api_keys_routes, routes);
