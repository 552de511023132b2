/* Function URLs: ANY /fn/{name}/{path...} calls the function with an API
 * Gateway v2 / Lambda function-URL event (payload format 2.0) and turns
 * what it returns into the HTTP response, as AWS documents for function
 * URLs:
 *   - {"statusCode", "headers", "body", "isBase64Encoded", "cookies"} is
 *     used as given (content type application/json unless set);
 *   - any other JSON value becomes a 200 application/json body;
 *   - a function error or timeout is a 502 "Internal Server Error" (details
 *     stay in the invocation record, named by x-amzn-RequestId).
 * Per function, url_auth "none" makes the URL public; "key" (the default)
 * wants an API key: Authorization: Bearer <key>, or a SigV4 signature made
 * with one (AWS_IAM style).  The Authorization header is never passed on to
 * the function. */
#include <config.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

#include "api.h"
#include "api_aws.h"
#include "app.h"
#include "auth.h"
#include "cleanup.h"
#include "crypt.h"
#include "db_aws.h"
#include "db_core.h"
#include "function.h"
#include "invoke.h"
#include "log.h"
#include "xalloc.h"

/* ================================================================ event */

/* "HTTP_X_FOO_BAR" -> "x-foo-bar"; CONTENT_TYPE/LENGTH are headers too. */
static char *header_name(const char *var, size_t n)
{
	char *out;

	if (n > 5 && strncmp(var, "HTTP_", 5) == 0) {
		var += 5;
		n -= 5;
	} else if (!((n == 12 && strncmp(var, "CONTENT_TYPE", 12) == 0) ||
	             (n == 14 && strncmp(var, "CONTENT_LENGTH", 14) == 0))) {
		return NULL;
	}
	out = xstrndup(var, n);
	for (char *p = out; *p != '\0'; p++)
		*p = *p == '_' ? '-' : (char)tolower((unsigned char)*p);
	return out;
}

/* Adds name: value to obj, joining repeated names with a comma. */
static void add_joined(cJSON *obj, const char *name, const char *value)
{
	cJSON *old = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (old != NULL && cJSON_IsString(old)) {
		char *v = xasprintf("%s,%s", old->valuestring, value);
		cJSON_ReplaceItemInObjectCaseSensitive(obj, name, cJSON_CreateString(v));
		free(v);
		return;
	}
	cJSON_AddStringToObject(obj, name, value);
}

static void add_headers(const struct request *req, cJSON *ev)
{
	cJSON *h = cJSON_AddObjectToObject(ev, "headers");
	cJSON *cookies = NULL;

	for (char *const *env = req->env; env != NULL && *env != NULL; env++) {
		const char *eq = strchr(*env, '=');
		_cleanup_free_ char *name = NULL;

		if (eq == NULL)
			continue;
		name = header_name(*env, (size_t)(eq - *env));
		if (name == NULL || strcmp(name, "authorization") == 0 ||
		    strcmp(name, "proxy") == 0)
			continue;
		if (strcmp(name, "cookie") == 0) {
			/* v2 events carry cookies apart, one per element */
			_cleanup_free_ char *all = xstrdup(eq + 1);
			char *save = NULL;
			if (cookies == NULL)
				cookies = cJSON_CreateArray();
			for (char *c = strtok_r(all, ";", &save); c != NULL;
			     c = strtok_r(NULL, ";", &save)) {
				while (*c == ' ')
					c++;
				if (*c != '\0')
					cJSON_AddItemToArray(cookies, cJSON_CreateString(c));
			}
			continue;
		}
		add_joined(h, name, eq + 1);
	}
	if (cookies != NULL)
		cJSON_AddItemToObject(ev, "cookies", cookies);
}

static void add_query(const char *q, cJSON *ev)
{
	cJSON *qs = NULL;

	while (*q != '\0') {
		size_t n = strcspn(q, "&");
		const char *eq = memchr(q, '=', n);
		size_t kn = eq != NULL ? (size_t)(eq - q) : n;
		char *k = NULL, *v = NULL;

		if (n > 0) {
			if (url_decode(q, kn, 1, &k, NULL) < 0)
				k = xstrndup(q, kn);
			if (eq == NULL)
				v = xstrdup("");
			else if (url_decode(eq + 1, n - kn - 1, 1, &v, NULL) < 0)
				v = xstrndup(eq + 1, n - kn - 1);
			if (qs == NULL)
				qs = cJSON_AddObjectToObject(ev, "queryStringParameters");
			add_joined(qs, k, v);
			free(k);
			free(v);
		}
		q += n;
		if (*q == '&')
			q++;
	}
}

/* Text bodies go as they are, anything else base64 (isBase64Encoded). */
static int textual(const char *ctype)
{
	static const char *const kinds[] = {"text/",
	                                    "application/json",
	                                    "application/xml",
	                                    "application/javascript",
	                                    "application/x-www-form-urlencoded",
	                                    "+json",
	                                    "+xml"};

	if (ctype == NULL)
		return 0;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strncasecmp(ctype, kinds[i], strlen(kinds[i])) == 0 ||
		    (kinds[i][0] == '+' && strcasestr(ctype, kinds[i]) != NULL))
			return 1;
	return 0;
}

static cJSON *build_event(const struct request *req, const char *fn_name, const char *rid)
{
	cJSON *ev = cJSON_CreateObject(), *ctx, *http;
	const char *rest = req->nparams > 1 ? req->params[1] : "";
	const char *ua = request_header(req, "User-Agent");
	const char *host = request_header(req, "Host");
	const char *proto = request_env(req, "SERVER_PROTOCOL");
	_cleanup_free_ char *raw_path = xasprintf("/%s", rest);
	struct timeval tv;
	struct tm tm;
	char when[64];

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(when, sizeof(when), "%d/%b/%Y:%H:%M:%S +0000", &tm);
	cJSON_AddStringToObject(ev, "version", "2.0");
	cJSON_AddStringToObject(ev, "routeKey", "$default");
	cJSON_AddStringToObject(ev, "rawPath", raw_path);
	cJSON_AddStringToObject(ev, "rawQueryString", req->query);
	add_headers(req, ev);
	add_query(req->query, ev);
	ctx = cJSON_AddObjectToObject(ev, "requestContext");
	cJSON_AddStringToObject(ctx, "accountId", "anonymous");
	cJSON_AddStringToObject(ctx, "apiId", fn_name);
	cJSON_AddStringToObject(ctx, "domainName", host != NULL ? host : "");
	cJSON_AddStringToObject(ctx, "domainPrefix", fn_name);
	http = cJSON_AddObjectToObject(ctx, "http");
	cJSON_AddStringToObject(http, "method", req->method);
	cJSON_AddStringToObject(http, "path", raw_path);
	cJSON_AddStringToObject(http, "protocol", proto != NULL ? proto : "HTTP/1.1");
	cJSON_AddStringToObject(http, "sourceIp", req->remote_addr);
	cJSON_AddStringToObject(http, "userAgent", ua != NULL ? ua : "");
	cJSON_AddStringToObject(ctx, "requestId", rid);
	cJSON_AddStringToObject(ctx, "routeKey", "$default");
	cJSON_AddStringToObject(ctx, "stage", "$default");
	cJSON_AddStringToObject(ctx, "time", when);
	cJSON_AddNumberToObject(ctx, "timeEpoch",
	                        (double)tv.tv_sec * 1000.0 + (double)(tv.tv_usec / 1000));
	if (req->body_len > 0) {
		int text = textual(request_header(req, "Content-Type")) &&
		           utf8_valid(req->body, req->body_len);
		if (text) {
			cJSON_AddStringToObject(ev, "body", req->body);
		} else {
			char *b = crypt_base64(req->body, req->body_len);
			cJSON_AddStringToObject(ev, "body", b);
			free(b);
		}
		cJSON_AddBoolToObject(ev, "isBase64Encoded", !text);
	} else {
		cJSON_AddBoolToObject(ev, "isBase64Encoded", 0);
	}
	return ev;
}

/* ================================================================ response */

static int hop_by_hop(const char *name)
{
	static const char *const no[] = {"content-length", "transfer-encoding", "connection",
	                                 "status",         "keep-alive",        "upgrade",
	                                 "content-type"};

	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (strcasecmp(name, no[i]) == 0)
			return 1;
	return 0;
}

/* A header name we pass on: an HTTP token. */
static int token(const char *s)
{
	if (*s == '\0' || strlen(s) > 256)
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("!#$%&'*+-.^_`|~", *s) == NULL)
			return 0;
	return 1;
}

static void bad_gateway(struct reply *rep, const char *why)
{
	log_info("function URL: %s", why);
	reply_error(rep, 502, "bad_gateway", "Internal Server Error");
}

/* The structured response {statusCode, headers, body, isBase64Encoded,
 * cookies}. */
static void structured(struct reply *rep, const cJSON *res)
{
	const cJSON *sc = cJSON_GetObjectItemCaseSensitive(res, "statusCode");
	const cJSON *hs = cJSON_GetObjectItemCaseSensitive(res, "headers");
	const cJSON *body = cJSON_GetObjectItemCaseSensitive(res, "body");
	const cJSON *b64 = cJSON_GetObjectItemCaseSensitive(res, "isBase64Encoded");
	const cJSON *cookies = cJSON_GetObjectItemCaseSensitive(res, "cookies");
	const char *ctype = "application/json";
	_cleanup_free_ uint8_t *raw = NULL;
	_cleanup_cjson_str_ char *printed = NULL;
	const char *data = "";
	size_t len = 0;
	const cJSON *h;
	int status;

	if (!cJSON_IsNumber(sc) || sc->valuedouble < 100 || sc->valuedouble > 599) {
		bad_gateway(rep, "statusCode is not a number between 100 and 599");
		return;
	}
	status = (int)sc->valuedouble;
	if (cJSON_IsString(body)) {
		data = body->valuestring;
		len = strlen(data);
		if (cJSON_IsTrue(b64)) {
			struct err *e = NULL;
			if (crypt_base64_decode(data, len, AWS_SYNC_PAYLOAD_MAX, &raw, &len, &e) <
			    0) {
				err_free(&e);
				bad_gateway(rep, "body is not valid base64");
				return;
			}
			data = (const char *)raw;
		}
	} else if (body != NULL && !cJSON_IsNull(body)) {
		printed = cJSON_PrintUnformatted(body);
		data = printed != NULL ? printed : "";
		len = strlen(data);
	}
	cJSON_ArrayForEach(h, hs)
	{
		_cleanup_cjson_str_ char *v = NULL;
		const char *val;

		if (h->string == NULL || !token(h->string))
			continue;
		if (cJSON_IsString(h)) {
			val = h->valuestring;
		} else {
			v = cJSON_PrintUnformatted(h);
			val = v != NULL ? v : "";
		}
		if (strcasecmp(h->string, "content-type") == 0)
			ctype = val;
		else if (!hop_by_hop(h->string))
			reply_header(rep, h->string, "%s", val);
	}
	cJSON_ArrayForEach(h, cookies) if (cJSON_IsString(h))
	    reply_header(rep, "Set-Cookie", "%s", h->valuestring);
	/* ctype may point into res, which outlives this call */
	reply_raw(rep, status, ctype, data, len);
}

static void answer(struct reply *rep, const struct invoke_out *out)
{
	const cJSON *res = cJSON_GetObjectItemCaseSensitive(out->result, "result");
	_cleanup_cjson_str_ char *txt = NULL;

	if (strcmp(out->status, "success") != 0) {
		reply_header(rep, "X-Amz-Function-Error", "Unhandled");
		bad_gateway(rep, out->status);
		return;
	}
	if (cJSON_IsObject(res) && cJSON_GetObjectItemCaseSensitive(res, "statusCode") != NULL) {
		structured(rep, res);
		return;
	}
	txt = res != NULL ? cJSON_PrintUnformatted(res) : NULL;
	reply_raw(rep, 200, "application/json", txt != NULL ? txt : "null",
	          txt != NULL ? strlen(txt) : 4);
}

/* ================================================================ handler */

static int url_auth(struct request *req, struct reply *rep, const struct aws_fn *f)
{
	const char *authz = request_header(req, "Authorization");

	if (strcmp(f->url_auth, "none") == 0)
		return 0;
	if (authz != NULL && strncmp(authz, "AWS4-HMAC-SHA256 ", 17) == 0)
		return aws_auth(req, rep);
	return auth_bearer(req, rep);
}

static void fn_url(struct request *req, struct reply *rep)
{
	_cleanup_cjson_ cJSON *event = NULL;
	struct invoke_req ir;
	struct invoke_out out;
	struct function f;
	struct aws_fn af;
	struct err *e = NULL;
	char rid[37], ref[32];
	int retry = 0;

	if (!function_name_valid(req->params[0])) {
		reply_error(rep, 404, "not_found", "no function URL here");
		return;
	}
	if (db_aws_fn_get(req->w->db, req->params[0], &af, &e) < 0) {
		if (e->code == ERR_NOT_FOUND) {
			err_free(&e);
			reply_error(rep, 404, "not_found", "no function named '%s'",
			            req->params[0]);
			return;
		}
		api_fail(rep, &e);
		return;
	}
	snprintf(ref, sizeof(ref), "%lld", af.id);
	if (url_auth(req, rep, &af) < 0 || db_fn_get(req->w->db, ref, 0, &f, &e) < 0) {
		if (e != NULL)
			api_fail(rep, &e);
		db_aws_fn_free(&af);
		return;
	}
	db_aws_fn_free(&af);
	if (req->body_len > AWS_SYNC_PAYLOAD_MAX) {
		reply_error(rep, 413, "too_large", "request body exceeds %d bytes",
		            AWS_SYNC_PAYLOAD_MAX);
		function_free(&f);
		return;
	}
	if (crypt_uuid7(rid, &e) < 0) {
		function_free(&f);
		api_fail(rep, &e);
		return;
	}
	event = build_event(req, f.name, rid);
	memset(&ir, 0, sizeof(ir));
	ir.fn = &f;
	ir.event = event;
	ir.source = "url";
	ir.request_id = rid;
	if (invoke_run(req->w, &ir, &out, &retry, &e) < 0) {
		if (e->code == ERR_TOO_MANY)
			reply_header(rep, "Retry-After", "%d", retry > 0 ? retry : 1);
		function_free(&f);
		api_fail(rep, &e);
		return;
	}
	reply_header(rep, "x-amzn-RequestId", "%s", out.request_id);
	answer(rep, &out);
	invoke_out_free(&out);
	function_free(&f);
}

static const struct route routes[] = {
    {"*", "/fn/{}/{*}", NULL, fn_url},
};
ROUTE_TABLE(api_fnurl_routes, routes);
