/* The AWS Lambda API, 2015-03-31 (issue 7): the control plane and Invoke as
 * botocore's lambda model describes them, so that the aws CLI and boto3 work
 * with --endpoint-url.  Requests are signed with SigV4 (sigv4.c) using one
 * of our API keys; functions live in the core registry (function.c,
 * db_core.c) and what AWS adds (runtime identifier, role, description) in
 * aws_functions (db_aws.c). */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "api_aws.h"
#include "app.h"
#include "auth.h"
#include "cleanup.h"
#include "code_store.h"
#include "crypt.h"
#include "db_aws.h"
#include "db_core.h"
#include "event_queue.h"
#include "exec_client.h"
#include "function.h"
#include "invoke.h"
#include "log.h"
#include "router.h"
#include "sigv4.h"
#include "xalloc.h"
#include "zip.h"

#define DEFAULT_ROLE       "arn:aws:iam::" AWS_ACCOUNT ":role/lambda-role"
#define LIST_DEFAULT_ITEMS 50
#define LIST_MAX_ITEMS     10000
#define AWS_MEMORY_MIN     128 /* AWS's minimum; our maximum is FN_MEMORY_MB_MAX */

/* ================================================================ errors */

void aws_error(struct reply *rep, int status, const char *type, const char *fmt, ...)
{
	char msg[1024];
	cJSON *o = cJSON_CreateObject();
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cJSON_AddStringToObject(o, "Type", status >= 500 ? "Service" : "User");
	cJSON_AddStringToObject(o, "message", msg);
	if (status == 429)
		cJSON_AddStringToObject(o, "Reason", "ConcurrentInvocationLimitExceeded");
	reply_header(rep, "X-Amzn-ErrorType", "%s", type);
	reply_json_take(rep, status, o);
}

void aws_fail(struct reply *rep, struct err **e)
{
	static const struct {
		int code, status;
		const char *type;
	} map[] = {
	    {ERR_INVALID, 400, "InvalidParameterValueException"},
	    {ERR_NOT_FOUND, 404, "ResourceNotFoundException"},
	    {ERR_CONFLICT, 409, "ResourceConflictException"},
	    {ERR_TOO_LARGE, 413, "RequestTooLargeException"},
	    {ERR_TOO_MANY, 429, "TooManyRequestsException"},
	    {ERR_UNAUTHORIZED, 403, "UnrecognizedClientException"},
	    {ERR_FORBIDDEN, 403, "AccessDeniedException"},
	    {ERR_UNAVAILABLE, 503, "ServiceException"},
	};
	int status = 500;
	const char *type = "ServiceException";

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (*e != NULL && (*e)->code == map[i].code) {
			status = map[i].status;
			type = map[i].type;
		}
	if (status == 500)
		log_warnx("%s", err_msg(*e));
	aws_error(rep, status, type, "%s", err_msg(*e));
	err_free(e);
}

/* ================================================================ auth */

struct key_lookup {
	struct request *req;
	long long key_id;
};

static const char *sig_header(void *ctx, const char *lname)
{
	return request_header(ctx, lname);
}

static int sig_secret(void *ctx, const char *akid, char *secret, struct err **e)
{
	struct key_lookup *k = ctx;
	char s[AUTH_SECRET_LEN + 1];
	struct db_key key;
	struct err *e1 = NULL;

	if (strlen(akid) != AUTH_AKID_LEN)
		return 0;
	if (db_key_find(k->req->w->db, akid, &key, &e1) < 0) {
		if (e1->code == ERR_NOT_FOUND) {
			err_free(&e1);
			return 0;
		}
		*e = e1;
		return -1;
	}
	if (key.revoked)
		return 0;
	auth_secret(app->master_key, akid, s);
	memcpy(secret, s, sizeof(s));
	k->key_id = key.id;
	return 1;
}

int aws_auth(struct request *req, struct reply *rep)
{
	struct key_lookup k = {req, 0};
	struct sigv4_request sr = {
	    .method = req->method,
	    .uri = req->uri,
	    .service = "lambda",
	    .body = req->body,
	    .body_len = req->body_len,
	    .now = time(NULL),
	    .header = sig_header,
	    .header_ctx = req,
	    .secret = sig_secret,
	    .secret_ctx = &k,
	};
	char akid[SIGV4_AKID_MAX];
	struct err *e = NULL;
	enum sigv4_verdict v = sigv4_verify(&sr, akid, &e);

	if (v == SIGV4_OK) {
		req->key_id = k.key_id;
		return 0;
	}
	aws_error(rep, sigv4_verdict_status(v), sigv4_verdict_type(v), "%s", err_msg(e));
	err_free(&e);
	return -1;
}

/* ================================================================ shapes */

static const struct {
	const char *aws; /* runtime identifier */
	const char *ours;
} runtimes[] = {
    {"python3.8", "python"},      {"python3.9", "python"},      {"python3.10", "python"},
    {"python3.11", "python"},     {"python3.12", "python"},     {"python3.13", "python"},
    {"nodejs16.x", "javascript"}, {"nodejs18.x", "javascript"}, {"nodejs20.x", "javascript"},
    {"nodejs22.x", "javascript"},
};

static const char *runtime_ours(const char *aws)
{
	for (size_t i = 0; i < sizeof(runtimes) / sizeof(runtimes[0]); i++)
		if (strcmp(runtimes[i].aws, aws) == 0)
			return runtimes[i].ours;
	return NULL;
}

/* What a function made through /api shows as its AWS runtime: what runs. */
static const char *runtime_default(const char *ours)
{
	return strcmp(ours, "python") == 0 ? "python3.11" : "nodejs18.x";
}

static char *function_arn(const char *name)
{
	return xasprintf("arn:aws:lambda:" AWS_REGION ":" AWS_ACCOUNT ":function:%s", name);
}

/* A RevisionId that changes with every change of the function. */
static void revision_id(const struct aws_fn *f, char out[37])
{
	char hex[65];
	char *s = xasprintf("%lld:%lld:%s", f->id, f->version, f->updated_at);

	crypt_sha256_hex(s, strlen(s), hex);
	free(s);
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

/* CodeSha256 is base64 of the digest, not hex. */
static char *code_sha256_b64(const char *hex)
{
	uint8_t d[32];

	for (int i = 0; i < 32; i++) {
		unsigned v = 0;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			v = 0;
		d[i] = (uint8_t)v;
	}
	return crypt_base64(d, sizeof(d));
}

/* "2026-11-26T19:40:00.123Z" -> "2026-11-26T19:40:00.123+0000" (AWS's form). */
static char *last_modified(const char *iso)
{
	size_t n = strlen(iso);

	if (n > 0 && iso[n - 1] == 'Z')
		return xasprintf("%.*s+0000", (int)(n - 1), iso);
	return xstrdup(iso);
}

/* FunctionConfiguration as botocore's model has it. */
static cJSON *fn_config(const struct aws_fn *f)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *env = cJSON_Parse(f->env);
	char rev[37];
	_cleanup_free_ char *arn = function_arn(f->name);
	_cleanup_free_ char *sha = code_sha256_b64(f->code_sha256);
	_cleanup_free_ char *mod = last_modified(f->updated_at);

	revision_id(f, rev);
	cJSON_AddStringToObject(o, "FunctionName", f->name);
	cJSON_AddStringToObject(o, "FunctionArn", arn);
	cJSON_AddStringToObject(
	    o, "Runtime", f->aws_runtime != NULL ? f->aws_runtime : runtime_default(f->runtime));
	cJSON_AddStringToObject(o, "Role", f->role != NULL ? f->role : DEFAULT_ROLE);
	cJSON_AddStringToObject(o, "Handler", f->handler);
	cJSON_AddNumberToObject(o, "CodeSize", (double)f->code_size);
	cJSON_AddStringToObject(o, "Description", f->description != NULL ? f->description : "");
	cJSON_AddNumberToObject(o, "Timeout", (double)((f->timeout_ms + 999) / 1000));
	cJSON_AddNumberToObject(o, "MemorySize", (double)f->memory_mb);
	cJSON_AddStringToObject(o, "LastModified", mod);
	cJSON_AddStringToObject(o, "CodeSha256", sha);
	cJSON_AddStringToObject(o, "Version", "$LATEST");
	if (cJSON_IsObject(env) && cJSON_GetArraySize(env) > 0) {
		cJSON *vars = cJSON_CreateObject();
		cJSON_AddItemToObject(vars, "Variables", env);
		cJSON_AddItemToObject(o, "Environment", vars);
		env = NULL;
	}
	cJSON_Delete(env);
	cJSON_AddItemToObject(o, "TracingConfig", cJSON_Parse("{\"Mode\":\"PassThrough\"}"));
	cJSON_AddStringToObject(o, "RevisionId", rev);
	cJSON_AddStringToObject(o, "State", "Active");
	cJSON_AddStringToObject(o, "LastUpdateStatus", "Successful");
	cJSON_AddStringToObject(o, "PackageType", "Zip");
	cJSON_AddItemToObject(o, "Architectures", cJSON_Parse("[\"x86_64\"]"));
	cJSON_AddItemToObject(o, "EphemeralStorage", cJSON_Parse("{\"Size\":512}"));
	return o;
}

/* ================================================================ requests */

/* The function a path names: a name, "name:$LATEST", a full or partial ARN.
 * Only $LATEST exists (no published versions or aliases).  Writes the name
 * into name[FN_NAME_MAX + 1] or fills rep. */
static int fn_ref(const struct request *req, const char *ref, char *name, struct reply *rep)
{
	_cleanup_free_ char *qual = NULL;
	const char *p = ref, *colon;
	struct err *e = NULL;
	size_t n;

	if (strncmp(p, "arn:aws:lambda:", 15) == 0) {
		p = strstr(p, ":function:");
		p = p != NULL ? p + 10 : ref;
	} else if (strncmp(p, AWS_ACCOUNT ":function:", strlen(AWS_ACCOUNT ":function:")) == 0) {
		p += strlen(AWS_ACCOUNT ":function:");
	}
	colon = strchr(p, ':');
	n = colon != NULL ? (size_t)(colon - p) : strlen(p);
	if (request_query(req, "Qualifier", &qual, &e) < 0) {
		aws_fail(rep, &e);
		return -1;
	}
	if (n == 0 || n > FN_NAME_MAX) {
		aws_error(rep, 400, "InvalidParameterValueException",
		          "FunctionName: must be a name matching [A-Za-z0-9_-]{1,64} or its ARN");
		return -1;
	}
	memcpy(name, p, n);
	name[n] = '\0';
	if (!function_name_valid(name)) {
		aws_error(rep, 400, "InvalidParameterValueException",
		          "FunctionName: must be a name matching [A-Za-z0-9_-]{1,64} or its ARN");
		return -1;
	}
	if ((colon != NULL && strcmp(colon + 1, "$LATEST") != 0) ||
	    (qual != NULL && strcmp(qual, "$LATEST") != 0)) {
		aws_error(rep, 404, "ResourceNotFoundException",
		          "Function not found: arn:aws:lambda:" AWS_REGION ":" AWS_ACCOUNT
		          ":function:%s:%s (only $LATEST exists here)",
		          name, colon != NULL ? colon + 1 : qual);
		return -1;
	}
	return 0;
}

static int load_fn(struct request *req, struct reply *rep, struct aws_fn *f)
{
	char name[FN_NAME_MAX + 1];
	struct err *e = NULL;

	if (fn_ref(req, req->params[0], name, rep) < 0)
		return -1;
	if (db_aws_fn_get(req->w->db, name, f, &e) < 0) {
		if (e->code == ERR_NOT_FOUND) {
			err_free(&e);
			aws_error(rep, 404, "ResourceNotFoundException",
			          "Function not found: arn:aws:lambda:" AWS_REGION ":" AWS_ACCOUNT
			          ":function:%s",
			          name);
			return -1;
		}
		aws_fail(rep, &e);
		return -1;
	}
	return 0;
}

static cJSON *parse_body(const struct request *req, struct reply *rep)
{
	cJSON *j = cJSON_ParseWithLength(req->body, req->body_len);

	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		aws_error(rep, 400, "InvalidRequestContentException",
		          "Could not parse request body into json: expected a JSON object");
		return NULL;
	}
	return j;
}

/* An optional string member of at most max bytes; *out borrowed or NULL. */
static int opt_string(const cJSON *o, const char *name, size_t max, const char **out,
                      struct reply *rep)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, name);

	*out = NULL;
	if (j == NULL || cJSON_IsNull(j))
		return 0;
	if (!cJSON_IsString(j) || strlen(j->valuestring) > max) {
		aws_error(rep, 400, "InvalidParameterValueException",
		          "%s: must be a string of at most %zu characters", name, max);
		return -1;
	}
	*out = j->valuestring;
	return 0;
}

/* An optional integer member within [min, max]; *given says if present. */
static int opt_int(const cJSON *o, const char *name, long long min, long long max, const char *unit,
                   long long *out, int *given, struct reply *rep)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, name);

	*given = 0;
	if (j == NULL || cJSON_IsNull(j))
		return 0;
	if (!cJSON_IsNumber(j) || j->valuedouble != (double)(long long)j->valuedouble ||
	    j->valuedouble < (double)min || j->valuedouble > (double)max) {
		aws_error(rep, 400, "InvalidParameterValueException",
		          "%s: must be an integer between %lld and %lld%s on this platform", name,
		          min, max, unit);
		return -1;
	}
	*out = (long long)j->valuedouble;
	*given = 1;
	return 0;
}

/* The fields both CreateFunction and UpdateFunctionConfiguration take,
 * checked with AWS's names and turned into our registry's JSON (in `ours`,
 * for function_parse, which checks everything once more). */
struct aws_cfg {
	const char *runtime; /* AWS identifier or NULL */
	const char *role;
	const char *description;
};

static int map_config(const cJSON *in, cJSON *ours, struct aws_cfg *c, struct reply *rep)
{
	const cJSON *env = cJSON_GetObjectItemCaseSensitive(in, "Environment");
	const char *handler = NULL;
	long long v = 0;
	int given = 0;

	if (opt_string(in, "Runtime", 32, &c->runtime, rep) < 0 ||
	    opt_string(in, "Role", 2048, &c->role, rep) < 0 ||
	    opt_string(in, "Description", 256, &c->description, rep) < 0 ||
	    opt_string(in, "Handler", FN_HANDLER_MAX, &handler, rep) < 0)
		return -1;
	if (c->runtime != NULL) {
		const char *r = runtime_ours(c->runtime);
		if (r == NULL) {
			aws_error(rep, 400, "InvalidParameterValueException",
			          "The runtime parameter of %s is not supported here: use "
			          "python3.8 to python3.13 (run by python 3.11) or nodejs16.x to "
			          "nodejs22.x (run by node 18)",
			          c->runtime);
			return -1;
		}
		cJSON_AddStringToObject(ours, "runtime", r);
	}
	if (handler != NULL)
		cJSON_AddStringToObject(ours, "handler", handler);
	if (opt_int(in, "Timeout", FN_TIMEOUT_S_MIN, FN_TIMEOUT_S_MAX, " seconds", &v, &given,
	            rep) < 0)
		return -1;
	if (given)
		cJSON_AddNumberToObject(ours, "timeout", (double)v);
	if (opt_int(in, "MemorySize", AWS_MEMORY_MIN, FN_MEMORY_MB_MAX, " MB", &v, &given, rep) < 0)
		return -1;
	if (given)
		cJSON_AddNumberToObject(ours, "memory_mb", (double)v);
	if (env != NULL && !cJSON_IsNull(env)) {
		const cJSON *vars = cJSON_GetObjectItemCaseSensitive(env, "Variables");
		if (!cJSON_IsObject(env) || (vars != NULL && !cJSON_IsObject(vars))) {
			aws_error(rep, 400, "InvalidParameterValueException",
			          "Environment: must be {\"Variables\": {NAME: value}}");
			return -1;
		}
		cJSON_AddItemToObject(
		    ours, "env", vars != NULL ? cJSON_Duplicate(vars, 1) : cJSON_CreateObject());
	}
	return 0;
}

/* The base64 ZipFile of a Code object or an UpdateFunctionCode body. */
static int map_zip(const cJSON *code, cJSON *ours, struct reply *rep)
{
	const cJSON *zip = cJSON_GetObjectItemCaseSensitive(code, "ZipFile");
	size_t n, pad = 0;

	if (cJSON_GetObjectItemCaseSensitive(code, "S3Bucket") != NULL ||
	    cJSON_GetObjectItemCaseSensitive(code, "ImageUri") != NULL) {
		aws_error(rep, 400, "InvalidParameterValueException",
		          "Only Code.ZipFile is supported here (no S3 or container images)");
		return -1;
	}
	if (!cJSON_IsString(zip)) {
		aws_error(rep, 400, "InvalidParameterValueException",
		          "ZipFile: required (the base64 bytes of a zip archive)");
		return -1;
	}
	/* 4 base64 characters carry 3 bytes, less the padding: the exact size,
	 * known before decoding anything */
	n = strlen(zip->valuestring);
	if (n >= 4 && zip->valuestring[n - 1] == '=')
		pad = zip->valuestring[n - 2] == '=' ? 2 : 1;
	if (n / 4 * 3 - pad > ZIP_MAX_ZIPPED) {
		aws_error(rep, 413, "RequestEntityTooLargeException",
		          "Zipped size must be at most %llu bytes", ZIP_MAX_ZIPPED);
		return -1;
	}
	cJSON_AddStringToObject(ours, "code_zip", zip->valuestring);
	return 0;
}

/* Errors of function_parse, code_store_write and zip.c in AWS's terms. */
static void fail_code(struct reply *rep, struct err **e)
{
	if ((*e)->code == ERR_TOO_LARGE && strstr((*e)->msg, "Unzipped") != NULL) {
		aws_error(rep, 400, "InvalidParameterValueException", "%s", (*e)->msg);
		err_free(e);
	} else if ((*e)->code == ERR_TOO_LARGE) {
		aws_error(rep, 413, "RequestEntityTooLargeException", "%s", (*e)->msg);
		err_free(e);
	} else if ((*e)->code == ERR_INVALID && strstr((*e)->msg, "zip") != NULL) {
		aws_error(rep, 400, "InvalidParameterValueException",
		          "Could not unzip uploaded file. Please check your file, then try to "
		          "upload again. (%s)",
		          (*e)->msg);
		err_free(e);
	} else {
		aws_fail(rep, e);
	}
}

/* The AWS API takes AWS's package size (50 MB zipped, checked exactly by
 * map_zip), whatever api.max_zip_bytes allows /api. */
static struct fn_limits fn_lim(void)
{
	struct fn_limits l = {(size_t)app->cfg.max_code_bytes, (size_t)app->cfg.max_env_bytes,
	                      (size_t)ZIP_MAX_ZIPPED};

	return l;
}

/* Parses our registry's JSON built from an AWS request. */
static int parse_ours(const cJSON *ours, int for_update, struct function *f, struct err **e)
{
	_cleanup_cjson_str_ char *txt = cJSON_PrintUnformatted(ours);
	struct fn_limits lim = fn_lim();

	if (txt == NULL)
		return err_set(e, ERR_INTERNAL, "out of memory");
	return function_parse(txt, strlen(txt), for_update, &lim, f, e);
}

static void answer_config(struct request *req, struct reply *rep, const char *name, int status)
{
	struct aws_fn f;
	struct err *e = NULL;

	if (db_aws_fn_get(req->w->db, name, &f, &e) < 0) {
		aws_fail(rep, &e);
		return;
	}
	reply_json_take(rep, status, fn_config(&f));
	db_aws_fn_free(&f);
}

static void drain(struct request *req, long long id)
{
	struct err *e = NULL;

	if (exec_client_drain(req->w->ec, id, &e) < 0) {
		log_warnx("drain of function %lld: %s", id, err_msg(e));
		err_free(&e);
	}
}

/* ================================================================ handlers */

static void aws_create(struct request *req, struct reply *rep)
{
	_cleanup_cjson_ cJSON *in = parse_body(req, rep);
	_cleanup_cjson_ cJSON *ours = cJSON_CreateObject();
	struct aws_cfg c = {NULL, NULL, NULL};
	const char *name = NULL, *pkg = NULL;
	struct function f;
	struct err *e = NULL;
	long long id = 0;

	if (in == NULL || opt_string(in, "FunctionName", 170, &name, rep) < 0 ||
	    opt_string(in, "PackageType", 16, &pkg, rep) < 0)
		return;
	if (name == NULL || !function_name_valid(name)) {
		aws_error(rep, 400, "InvalidParameterValueException",
		          "FunctionName: required, matching [A-Za-z0-9_-]{1,64}");
		return;
	}
	if (pkg != NULL && strcmp(pkg, "Zip") != 0) {
		aws_error(rep, 400, "InvalidParameterValueException",
		          "PackageType: only Zip is supported here");
		return;
	}
	cJSON_AddStringToObject(ours, "name", name);
	if (map_config(in, ours, &c, rep) < 0 ||
	    map_zip(cJSON_GetObjectItemCaseSensitive(in, "Code"), ours, rep) < 0)
		return;
	if (c.runtime == NULL || cJSON_GetObjectItemCaseSensitive(ours, "handler") == NULL) {
		aws_error(rep, 400, "InvalidParameterValueException",
		          "Runtime and Handler are required for a Zip package");
		return;
	}
	if (parse_ours(ours, 0, &f, &e) < 0) {
		fail_code(rep, &e);
		return;
	}
	/* code first: a row is visible only once its code is on disk */
	if (code_store_write(app->cfg.code_dir, &f, NULL, &e) < 0) {
		function_free(&f);
		fail_code(rep, &e);
		return;
	}
	if (db_fn_insert(req->w->db, &f, &id, &e) < 0) {
		function_free(&f);
		if (e->code == ERR_CONFLICT) {
			err_free(&e);
			aws_error(rep, 409, "ResourceConflictException",
			          "Function already exist: %s", name);
			return;
		}
		aws_fail(rep, &e);
		return;
	}
	function_free(&f);
	if (db_aws_meta_put(req->w->db, id, c.runtime, c.role != NULL ? c.role : DEFAULT_ROLE,
	                    c.description != NULL ? c.description : "", &e) < 0) {
		struct err *e2 = NULL;
		/* no half-made function: the row goes with its AWS fields */
		if (db_fn_delete(req->w->db, id, &e2) < 0) {
			log_warnx("function %lld left without AWS fields: %s", id, err_msg(e2));
			err_free(&e2);
		}
		aws_fail(rep, &e);
		return;
	}
	answer_config(req, rep, name, 201);
}

/* Loads the full function (with code) for an update, checking RevisionId. */
static int load_for_update(struct request *req, struct reply *rep, const cJSON *in,
                           struct aws_fn *af, struct function *f)
{
	const char *want = NULL;
	struct err *e = NULL;
	char rev[37], ref[32];

	if (load_fn(req, rep, af) < 0)
		return -1;
	if (opt_string(in, "RevisionId", 64, &want, rep) < 0)
		goto fail;
	revision_id(af, rev);
	if (want != NULL && strcmp(want, rev) != 0) {
		aws_error(rep, 412, "PreconditionFailedException",
		          "The RevisionId provided does not match the latest RevisionId for the "
		          "Lambda function or alias. Call the GetFunction or the GetAlias API "
		          "to retrieve the latest RevisionId for your resource.");
		goto fail;
	}
	snprintf(ref, sizeof(ref), "%lld", af->id);
	if (db_fn_get(req->w->db, ref, 1, f, &e) < 0) {
		aws_fail(rep, &e);
		goto fail;
	}
	if (f->version != af->version) {
		function_free(f);
		aws_error(rep, 409, "ResourceConflictException",
		          "The function changed while it was being updated; retry");
		goto fail;
	}
	return 0;
fail:
	db_aws_fn_free(af);
	return -1;
}

/* Merges ours into f and stores code and row; fills rep on failure. */
static int apply_update(struct request *req, struct reply *rep, const cJSON *ours,
                        struct function *f)
{
	struct function upd;
	struct err *e = NULL;
	long long version = f->version;

	if (parse_ours(ours, 1, &upd, &e) < 0) {
		fail_code(rep, &e);
		return -1;
	}
	if (function_merge(f, &upd, &e) < 0 ||
	    code_store_write(app->cfg.code_dir, f, NULL, &e) < 0 ||
	    db_fn_update(req->w->db, f, version, &e) < 0) {
		function_free(&upd);
		fail_code(rep, &e);
		return -1;
	}
	function_free(&upd);
	drain(req, f->id);
	return 0;
}

static void aws_update_code(struct request *req, struct reply *rep)
{
	_cleanup_cjson_ cJSON *in = parse_body(req, rep);
	_cleanup_cjson_ cJSON *ours = cJSON_CreateObject();
	struct aws_fn af;
	struct function f;

	if (in == NULL || map_zip(in, ours, rep) < 0 || load_for_update(req, rep, in, &af, &f) < 0)
		return;
	db_aws_fn_free(&af);
	if (apply_update(req, rep, ours, &f) == 0)
		answer_config(req, rep, f.name, 200);
	function_free(&f);
}

/* Runtime identifier, role and description: what the client gave, else what
 * the function had. */
static int update_meta(struct request *req, const struct aws_cfg *c, const struct aws_fn *af,
                       struct err **e)
{
	const char *rt = c->runtime != NULL        ? c->runtime
	                 : af->aws_runtime != NULL ? af->aws_runtime
	                                           : runtime_default(af->runtime);
	const char *role = c->role != NULL ? c->role : af->role != NULL ? af->role : DEFAULT_ROLE;
	const char *desc = c->description != NULL    ? c->description
	                   : af->description != NULL ? af->description
	                                             : "";

	if (c->runtime == NULL && c->role == NULL && c->description == NULL)
		return 0;
	return db_aws_meta_put(req->w->db, af->id, rt, role, desc, e);
}

static void aws_update_config(struct request *req, struct reply *rep)
{
	_cleanup_cjson_ cJSON *in = parse_body(req, rep);
	_cleanup_cjson_ cJSON *ours = cJSON_CreateObject();
	struct aws_cfg c = {NULL, NULL, NULL};
	struct aws_fn af;
	struct function f;
	struct err *e = NULL;

	if (in == NULL || map_config(in, ours, &c, rep) < 0 ||
	    load_for_update(req, rep, in, &af, &f) < 0)
		return;
	/* the registry first: a refused change leaves the AWS fields alone too */
	if (apply_update(req, rep, ours, &f) == 0) {
		if (update_meta(req, &c, &af, &e) < 0)
			aws_fail(rep, &e);
		else
			answer_config(req, rep, f.name, 200);
	}
	db_aws_fn_free(&af);
	function_free(&f);
}

static void aws_get_config(struct request *req, struct reply *rep)
{
	struct aws_fn f;

	if (load_fn(req, rep, &f) < 0)
		return;
	reply_json_take(rep, 200, fn_config(&f));
	db_aws_fn_free(&f);
}

static void aws_get(struct request *req, struct reply *rep)
{
	const char *host = request_header(req, "Host");
	cJSON *o, *code;
	struct aws_fn f;
	char *loc;

	if (load_fn(req, rep, &f) < 0)
		return;
	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "Configuration", fn_config(&f));
	code = cJSON_AddObjectToObject(o, "Code");
	cJSON_AddStringToObject(code, "RepositoryType", "S3");
	/* our REST endpoint for the code (needs a Bearer key) */
	loc =
	    xasprintf("http://%s/api/functions/%s/code", host != NULL ? host : "localhost", f.name);
	cJSON_AddStringToObject(code, "Location", loc);
	free(loc);
	reply_json_take(rep, 200, o);
	db_aws_fn_free(&f);
}

struct list_acc {
	cJSON *arr;
	int n, limit;
	long long last_id;
	int more;
};

static int list_one(const struct aws_fn *f, void *arg)
{
	struct list_acc *a = arg;

	if (a->n == a->limit) {
		a->more = 1;
		return 1;
	}
	cJSON_AddItemToArray(a->arr, fn_config(f));
	a->n++;
	a->last_id = f->id;
	return 0;
}

static void aws_list(struct request *req, struct reply *rep)
{
	_cleanup_free_ char *marker = NULL;
	struct list_acc a = {NULL, 0, LIST_DEFAULT_ITEMS, 0, 0};
	long long after = 0, max = 0;
	struct err *e = NULL;
	cJSON *o;

	if (api_query_int(req, rep, "MaxItems", 1, LIST_MAX_ITEMS, LIST_DEFAULT_ITEMS, &max) < 0) {
		reply_free(rep);
		reply_init(rep);
		aws_error(rep, 400, "InvalidParameterValueException",
		          "MaxItems: must be an integer between 1 and %d", LIST_MAX_ITEMS);
		return;
	}
	a.limit = (int)max;
	if (request_query(req, "Marker", &marker, &e) < 0) {
		aws_fail(rep, &e);
		return;
	}
	if (marker != NULL) {
		char *end = NULL;
		after = strtoll(marker, &end, 10);
		if (marker[0] < '0' || marker[0] > '9' || *end != '\0' || after < 0) {
			aws_error(rep, 400, "InvalidParameterValueException",
			          "Marker: not a marker this API returned");
			return;
		}
	}
	o = cJSON_CreateObject();
	a.arr = cJSON_AddArrayToObject(o, "Functions");
	if (db_aws_fn_list(req->w->db, after, a.limit + 1, list_one, &a, &e) < 0) {
		cJSON_Delete(o);
		aws_fail(rep, &e);
		return;
	}
	if (a.more) {
		char m[32];
		snprintf(m, sizeof(m), "%lld", a.last_id);
		cJSON_AddStringToObject(o, "NextMarker", m);
	}
	reply_json_take(rep, 200, o);
}

static void aws_delete(struct request *req, struct reply *rep)
{
	struct aws_fn f;
	struct err *e = NULL;

	if (load_fn(req, rep, &f) < 0)
		return;
	if (db_fn_delete(req->w->db, f.id, &e) < 0) {
		db_aws_fn_free(&f);
		aws_fail(rep, &e);
		return;
	}
	drain(req, f.id);
	db_aws_fn_free(&f);
	reply_empty(rep, 204);
}

/* ================================================================ Invoke */

static double num(const cJSON *o, const char *k)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(j) ? j->valuedouble : 0.0;
}

char *aws_log_text(const char *request_id, const cJSON *result, long long memory_mb)
{
	const cJSON *logs = cJSON_GetObjectItemCaseSensitive(result, "logs");
	const cJSON *cold = cJSON_GetObjectItemCaseSensitive(result, "cold");
	const char *l = cJSON_IsString(logs) ? logs->valuestring : "";
	double dur = num(result, "duration_ms"), mem = num(result, "max_memory_bytes");
	size_t n = strlen(l);
	char init[64] = "";

	if (cJSON_IsTrue(cold))
		snprintf(init, sizeof(init), "\tInit Duration: %.2f ms", num(result, "init_ms"));
	return xasprintf("START RequestId: %s Version: $LATEST\n%s%sEND RequestId: %s\n"
	                 "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %.0f ms\t"
	                 "Memory Size: %lld MB\tMax Memory Used: %.0f MB%s\t\n",
	                 request_id, l, n > 0 && l[n - 1] != '\n' ? "\n" : "", request_id,
	                 request_id, dur, dur < 1 ? 1 : dur + 0.5, memory_mb,
	                 mem > 0 ? mem / 1048576.0 : 0.0, init);
}

static void log_tail_header(struct reply *rep, const char *request_id, const cJSON *result,
                            long long memory_mb)
{
	_cleanup_free_ char *txt = aws_log_text(request_id, result, memory_mb);
	_cleanup_free_ char *b64 = NULL;
	size_t n = strlen(txt);
	size_t from = n > AWS_LOG_TAIL_BYTES ? n - AWS_LOG_TAIL_BYTES : 0;

	b64 = crypt_base64(txt + from, n - from);
	reply_header(rep, "X-Amz-Log-Result", "%s", b64);
}

/* The body of a failed invocation: {errorMessage, errorType, stackTrace}. */
static cJSON *error_body(const cJSON *result, const char *status, long long timeout_ms)
{
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(result, "error");
	cJSON *o;

	if (cJSON_IsObject(err) && cJSON_GetObjectItemCaseSensitive(err, "errorMessage") != NULL)
		return cJSON_Duplicate(err, 1);
	o = cJSON_CreateObject();
	if (strcmp(status, "timeout") == 0) {
		char m[96];
		snprintf(m, sizeof(m), "Task timed out after %.2f seconds",
		         (double)timeout_ms / 1000.0);
		cJSON_AddStringToObject(o, "errorMessage", m);
		cJSON_AddStringToObject(o, "errorType", "Runtime.Timeout");
	} else if (strcmp(status, "oom") == 0 || strcmp(status, "killed") == 0) {
		cJSON_AddStringToObject(o, "errorMessage",
		                        "Runtime exited with error: signal: killed");
		cJSON_AddStringToObject(o, "errorType", "Runtime.ExitError");
	} else {
		cJSON_AddStringToObject(o, "errorMessage", "Unknown error");
		cJSON_AddStringToObject(o, "errorType", "Runtime.Unknown");
	}
	cJSON_AddItemToObject(o, "stackTrace", cJSON_CreateArray());
	return o;
}

/* RequestResponse: run, answer the result (or the error with 200 and
 * X-Amz-Function-Error), the log tail when asked. */
static void invoke_sync(struct request *req, struct reply *rep, const struct aws_fn *af,
                        cJSON *event, int tail)
{
	struct function f;
	struct invoke_req ir;
	struct invoke_out out;
	struct err *e = NULL;
	int retry = 0;
	char ref[32];

	snprintf(ref, sizeof(ref), "%lld", af->id);
	if (db_fn_get(req->w->db, ref, 0, &f, &e) < 0) {
		aws_fail(rep, &e);
		return;
	}
	memset(&ir, 0, sizeof(ir));
	ir.fn = &f;
	ir.event = event;
	ir.source = "aws";
	if (invoke_run(req->w, &ir, &out, &retry, &e) < 0) {
		if (e->code == ERR_TOO_MANY)
			reply_header(rep, "Retry-After", "%d", retry > 0 ? retry : 1);
		function_free(&f);
		aws_fail(rep, &e);
		return;
	}
	reply_header(rep, "X-Amz-Executed-Version", "$LATEST");
	reply_header(rep, "x-amzn-RequestId", "%s", out.request_id);
	if (tail)
		log_tail_header(rep, out.request_id, out.result, f.memory_mb);
	if (strcmp(out.status, "success") == 0) {
		const cJSON *res = cJSON_GetObjectItemCaseSensitive(out.result, "result");
		_cleanup_cjson_str_ char *txt = res != NULL ? cJSON_PrintUnformatted(res) : NULL;
		const char *body = txt != NULL ? txt : "null";
		reply_raw(rep, 200, "application/json", body, strlen(body));
	} else {
		reply_header(rep, "X-Amz-Function-Error", "Unhandled");
		reply_json_take(rep, 200, error_body(out.result, out.status, f.timeout_ms));
	}
	invoke_out_free(&out);
	function_free(&f);
}

/* Event: queue durably, answer 202; a dispatcher runs it (event_queue.c). */
static void invoke_async(struct request *req, struct reply *rep, const struct aws_fn *af)
{
	char rid[37];
	struct err *e = NULL;

	if (req->body_len > AWS_ASYNC_PAYLOAD_MAX) {
		aws_error(rep, 413, "RequestTooLargeException",
		          "Request must be smaller than %d bytes for the InvokeAsync operation",
		          AWS_ASYNC_PAYLOAD_MAX + 1);
		return;
	}
	if (crypt_uuid7(rid, &e) < 0 ||
	    db_aws_event_insert(req->w->db, rid, af->id, af->name,
	                        req->body_len > 0 ? req->body : "{}",
	                        req->body_len > 0 ? req->body_len : 2, &e) < 0) {
		aws_fail(rep, &e);
		return;
	}
	event_queue_notify();
	reply_header(rep, "x-amzn-RequestId", "%s", rid);
	reply_empty(rep, 202);
}

static void aws_invoke(struct request *req, struct reply *rep)
{
	const char *type = request_header(req, "X-Amz-Invocation-Type");
	const char *log = request_header(req, "X-Amz-Log-Type");
	_cleanup_cjson_ cJSON *event = NULL;
	struct aws_fn f;

	if (type == NULL || *type == '\0')
		type = "RequestResponse";
	if (strcmp(type, "RequestResponse") != 0 && strcmp(type, "Event") != 0 &&
	    strcmp(type, "DryRun") != 0) {
		aws_error(rep, 400, "InvalidParameterValueException",
		          "X-Amz-Invocation-Type: must be RequestResponse, Event or DryRun");
		return;
	}
	if (log != NULL && strcmp(log, "None") != 0 && strcmp(log, "Tail") != 0) {
		aws_error(rep, 400, "InvalidParameterValueException",
		          "X-Amz-Log-Type: must be None or Tail");
		return;
	}
	if (strcmp(type, "Event") != 0 && req->body_len > AWS_SYNC_PAYLOAD_MAX) {
		aws_error(rep, 413, "RequestTooLargeException",
		          "Request must be smaller than %d bytes for the InvokeFunction operation",
		          AWS_SYNC_PAYLOAD_MAX + 1);
		return;
	}
	if (req->body_len > 0) {
		event = cJSON_ParseWithLength(req->body, req->body_len);
		if (event == NULL) {
			aws_error(rep, 400, "InvalidRequestContentException",
			          "Could not parse request body into json: the payload is not "
			          "valid JSON");
			return;
		}
	}
	if (load_fn(req, rep, &f) < 0)
		return;
	if (strcmp(type, "DryRun") == 0) {
		reply_header(rep, "X-Amz-Executed-Version", "$LATEST");
		reply_empty(rep, 204);
	} else if (strcmp(type, "Event") == 0) {
		invoke_async(req, rep, &f);
	} else {
		invoke_sync(req, rep, &f, event, log != NULL && strcmp(log, "Tail") == 0);
	}
	db_aws_fn_free(&f);
}

/* ================================================================ misses */

/* Operations of botocore's lambda model that are not built here: a clear
 * answer instead of a generic 404 (docs/aws.md "What is not built"). */
static const struct {
	const char *method, *pattern, *op, *why;
} not_built[] = {
#define VERSIONS "only $LATEST exists: there are no published versions or aliases"
#define POLICY   "resource-based policies are not kept: access is by API key (SigV4)"
#define EVCONF                                                                                     \
	"Event retries follow the platform's api.event_max_attempts and "                          \
	"api.event_retry_delay_ms; there are no destinations or maximum event age"
#define CONC "a function's concurrency is set through the REST API (PUT /api/functions/{name})"
#define URLS "function URLs always exist, at /fn/{name}/ (url_auth is set through the REST API)"
    {"POST", "/2015-03-31/functions/{}/versions", "PublishVersion", VERSIONS},
    {"GET", "/2015-03-31/functions/{}/versions", "ListVersionsByFunction", VERSIONS},
    {"POST", "/2015-03-31/functions/{}/aliases", "CreateAlias", VERSIONS},
    {"GET", "/2015-03-31/functions/{}/aliases", "ListAliases", VERSIONS},
    {"GET", "/2015-03-31/functions/{}/aliases/{}", "GetAlias", VERSIONS},
    {"PUT", "/2015-03-31/functions/{}/aliases/{}", "UpdateAlias", VERSIONS},
    {"DELETE", "/2015-03-31/functions/{}/aliases/{}", "DeleteAlias", VERSIONS},
    {"POST", "/2015-03-31/functions/{}/policy", "AddPermission", POLICY},
    {"GET", "/2015-03-31/functions/{}/policy", "GetPolicy", POLICY},
    {"DELETE", "/2015-03-31/functions/{}/policy/{}", "RemovePermission", POLICY},
    {"*", "/2015-03-31/event-source-mappings/{*}", "EventSourceMapping operations",
     "there are no event sources"},
    {"*", "/2019-09-25/functions/{}/event-invoke-config/{*}",
     "FunctionEventInvokeConfig operations", EVCONF},
    {"*", "/2017-10-31/functions/{}/concurrency", "FunctionConcurrency operations", CONC},
    {"GET", "/2019-09-30/functions/{}/concurrency", "GetFunctionConcurrency", CONC},
    {"*", "/2019-09-30/functions/{}/provisioned-concurrency", "ProvisionedConcurrency operations",
     "warm containers are kept by the executor (executor.prewarm_min, executor.keepalive_s)"},
    {"*", "/2021-10-31/functions/{}/url", "FunctionUrlConfig operations", URLS},
    {"GET", "/2021-10-31/functions/{}/urls", "ListFunctionUrlConfigs", URLS},
    {"*", "/2018-10-31/layers/{*}", "Layer operations", "there are no layers"},
    {"*", "/2017-03-31/tags/{*}", "Tag operations", "there are no tags"},
    {"GET", "/2016-08-19/account-settings", "GetAccountSettings", "there are no account settings"},
    {"*", "/2020-04-22/code-signing-configs/{*}", "CodeSigningConfig operations",
     "there is no code signing"},
    {"*", "/2020-06-30/functions/{}/code-signing-config", "FunctionCodeSigningConfig operations",
     "there is no code signing"},
    {"POST", "/2014-11-13/functions/{}/invoke-async", "InvokeAsync",
     "use Invoke with InvocationType Event"},
#undef VERSIONS
#undef POLICY
#undef EVCONF
#undef CONC
#undef URLS
};

/* "/YYYY-MM-DD" or "/YYYY-MM-DD/...": AWS's versioned API paths, which
 * lighttpd hands to us (lighttpd.conf). */
static int aws_path(const char *p)
{
	static const char shape[] = "/dddd-dd-dd";

	for (size_t i = 0; i < sizeof(shape) - 1; i++)
		if (shape[i] == 'd' ? (p[i] < '0' || p[i] > '9') : p[i] != shape[i])
			return 0;
	return p[sizeof(shape) - 1] == '\0' || p[sizeof(shape) - 1] == '/';
}

/* A request under an AWS prefix that no route takes: authenticated first
 * (as AWS does), then answered in AWS's shape, never our REST one. */
static int aws_miss(struct request *req, struct reply *rep, int status, const char *allow,
                    const char *msg)
{
	if (!aws_path(req->path))
		return 0;
	if (aws_auth(req, rep) < 0)
		return 1;
	if (status == 400) {
		aws_error(rep, 400, "InvalidParameterValueException", "%s", msg);
		return 1;
	}
	for (size_t i = 0; i < sizeof(not_built) / sizeof(not_built[0]); i++)
		if ((strcmp(not_built[i].method, "*") == 0 ||
		     strcmp(not_built[i].method, req->method) == 0) &&
		    router_pattern_matches(not_built[i].pattern, req->path)) {
			aws_error(rep, 501, "UnsupportedOperationException",
			          "%s: not built on this platform: %s", not_built[i].op,
			          not_built[i].why);
			return 1;
		}
	if (status == 405) {
		aws_error(rep, 405, "UnknownOperationException",
		          "Unknown operation %s %s (this path takes %s)", req->method, req->path,
		          allow);
		reply_header(rep, "Allow", "%s", allow);
		return 1;
	}
	aws_error(rep, 404, "UnknownOperationException", "Unknown operation %s %s", req->method,
	          req->path);
	return 1;
}

static const struct route routes[] = {
    {"POST", "/2015-03-31/functions", aws_auth, aws_create},
    {"GET", "/2015-03-31/functions", aws_auth, aws_list},
    {"GET", "/2015-03-31/functions/{}", aws_auth, aws_get},
    {"DELETE", "/2015-03-31/functions/{}", aws_auth, aws_delete},
    {"GET", "/2015-03-31/functions/{}/configuration", aws_auth, aws_get_config},
    {"PUT", "/2015-03-31/functions/{}/configuration", aws_auth, aws_update_config},
    {"PUT", "/2015-03-31/functions/{}/code", aws_auth, aws_update_code},
    {"POST", "/2015-03-31/functions/{}/invocations", aws_auth, aws_invoke},
};
ROUTE_TABLE_MISS(api_aws_routes, routes, aws_miss);
