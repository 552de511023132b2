#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "app.h"
#include "cleanup.h"
#include "clock.h"
#include "code_store.h"
#include "crypt.h"
#include "db_core.h"
#include "exec_client.h"
#include "invoke.h"
#include "journal.h"
#include "log.h"
#include "proto.h"
#include "xalloc.h"

#define ERROR_MESSAGE_MAX 1024
#define ERROR_TYPE_MAX    128

char *utf8_clean(const char *s, size_t max)
{
	size_t n = strlen(s), o = 0, i = 0;
	char *out = xmalloc((n < max ? n : max) + 1);

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t k = c < 0x80             ? 1
		           : (c & 0xe0) == 0xc0 ? 2
		           : (c & 0xf0) == 0xe0 ? 3
		           : (c & 0xf8) == 0xf0 ? 4
		                                : 0;
		int ok = k > 0 && i + k <= n && utf8_valid(s + i, k);

		if (!ok)
			k = 1;
		if (o + k > max)
			break;
		if (!ok || (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
			out[o++] = '?';
		else {
			memcpy(out + o, s + i, k);
			o += k;
		}
		i += k;
	}
	out[o] = '\0';
	return out;
}

static void now_utc(char out[32])
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%03ld", ts.tv_nsec / 1000000);
}

static void copy_item(cJSON *to, const cJSON *from, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(from, k);

	if (v != NULL && !cJSON_IsNull(v))
		cJSON_AddItemToObject(to, k, cJSON_Duplicate(v, 1));
}

static void add_capped(cJSON *to, const char *k, const cJSON *v, size_t max)
{
	if (cJSON_IsString(v)) {
		_cleanup_free_ char *c = utf8_clean(v->valuestring, max);
		cJSON_AddStringToObject(to, k, c);
	}
}

cJSON *invoke_record(const struct function *fn, const char *request_id, const char *source,
                     const char *isolation, const char *started_at, double total_ms,
                     const cJSON *result)
{
	cJSON *r = cJSON_CreateObject();
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(result, "error");
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(result, "status");
	const cJSON *iso = cJSON_GetObjectItemCaseSensitive(result, "isolation");
	static const char *const numbers[] = {"duration_ms",      "init_ms", "queue_ms",
	                                      "max_memory_bytes", "cpu_ms",  "response_bytes",
	                                      "batch_size"};

	cJSON_AddStringToObject(r, "request_id", request_id);
	cJSON_AddNumberToObject(r, "function_id", (double)fn->id);
	cJSON_AddStringToObject(r, "function_name", fn->name);
	cJSON_AddNumberToObject(r, "function_version", (double)fn->version);
	cJSON_AddStringToObject(r, "source", source);
	cJSON_AddStringToObject(r, "isolation",
	                        cJSON_IsString(iso) && (strcmp(iso->valuestring, "docker") == 0 ||
	                                                strcmp(iso->valuestring, "gvisor") == 0)
	                            ? iso->valuestring
	                            : isolation);
	cJSON_AddStringToObject(r, "started_at", started_at);
	cJSON_AddNumberToObject(r, "total_ms", total_ms);
	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(result, numbers[i]);
		if (cJSON_IsNumber(v) && v->valuedouble >= 0)
			cJSON_AddNumberToObject(r, numbers[i], v->valuedouble);
	}
	cJSON_AddBoolToObject(r, "cold",
	                      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(result, "cold")));
	add_capped(r, "cold_reason", cJSON_GetObjectItemCaseSensitive(result, "cold_reason"), 16);
	cJSON_AddStringToObject(r, "status", cJSON_IsString(st) ? st->valuestring : "internal");
	if (cJSON_IsObject(err)) {
		add_capped(r, "error_type", cJSON_GetObjectItemCaseSensitive(err, "errorType"),
		           ERROR_TYPE_MAX);
		add_capped(r, "error_message",
		           cJSON_GetObjectItemCaseSensitive(err, "errorMessage"),
		           ERROR_MESSAGE_MAX);
	}
	add_capped(r, "container", cJSON_GetObjectItemCaseSensitive(result, "container"), 64);
	copy_item(r, result, "logs");
	cJSON_AddBoolToObject(
	    r, "logs_truncated",
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(result, "logs_truncated")));
	return r;
}

static const char *const result_statuses[] = {"success", "error",  "timeout",
                                              "oom",     "killed", "internal"};

/* A RESULT whose status we do not know is recorded as internal. */
static void normalise_status(cJSON *result)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(result, "status");

	if (cJSON_IsString(st))
		for (size_t i = 0; i < sizeof(result_statuses) / sizeof(result_statuses[0]); i++)
			if (strcmp(st->valuestring, result_statuses[i]) == 0)
				return;
	cJSON_DeleteItemFromObjectCaseSensitive(result, "status");
	cJSON_AddStringToObject(result, "status", "internal");
}

int invoke_error_of(const cJSON *p, int *retry_after_s, struct err **e)
{
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(p, "code");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(p, "message");
	const cJSON *ra = cJSON_GetObjectItemCaseSensitive(p, "retry_after");
	const char *c = cJSON_IsString(code) ? code->valuestring : "internal";
	const char *m = cJSON_IsString(msg) ? msg->valuestring : "the executor refused the call";

	if (strcmp(c, "too_many_requests") == 0) {
		*retry_after_s =
		    cJSON_IsNumber(ra) && ra->valuedouble >= 1 ? (int)ra->valuedouble : 1;
		return err_set(e, ERR_TOO_MANY, "%s", m);
	}
	if (strcmp(c, "docker_unavailable") == 0)
		return err_set(e, ERR_UNAVAILABLE, "%s", m);
	if (strcmp(c, "invalid") == 0)
		return err_set(e, ERR_INVALID, "%s", m);
	return err_set(e, ERR_INTERNAL, "executor: %s", m);
}

static cJSON *function_payload(const struct function *fn, const char *code_dir)
{
	cJSON *f = cJSON_CreateObject();
	cJSON *env = cJSON_Parse(fn->env != NULL ? fn->env : "{}");

	cJSON_AddNumberToObject(f, "id", (double)fn->id);
	cJSON_AddStringToObject(f, "name", fn->name);
	cJSON_AddNumberToObject(f, "version", (double)fn->version);
	cJSON_AddStringToObject(f, "runtime", fn->runtime);
	cJSON_AddStringToObject(f, "handler", fn->handler);
	cJSON_AddStringToObject(f, "style", fn->style);
	cJSON_AddStringToObject(f, "code_sha256", fn->code_sha256);
	cJSON_AddStringToObject(f, "code_dir", code_dir);
	cJSON_AddNumberToObject(f, "timeout_ms", (double)fn->timeout_ms);
	cJSON_AddNumberToObject(f, "memory_mb", (double)fn->memory_mb);
	cJSON_AddItemToObject(f, "env", env != NULL ? env : cJSON_CreateObject());
	cJSON_AddNumberToObject(f, "concurrency", (double)fn->concurrency);
	return f;
}

/* The code directory must exist for the executor; it may be gone (var/code
 * wiped, database restored): write it again from the database. */
static int ensure_code(struct worker *w, const struct function *fn, char **dir, struct err **e)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", app->cfg.code_dir, fn->code_sha256);
	struct function full;
	char ref[32];
	struct stat st;
	int rc;

	if (stat(path, &st) == 0) {
		*dir = TAKE_PTR(path);
		return 0;
	}
	snprintf(ref, sizeof(ref), "%lld", fn->id);
	if (db_fn_get(w->db, ref, 1, &full, e) < 0)
		return -1;
	rc = code_store_write(app->cfg.code_dir, &full, dir, e);
	function_free(&full);
	return rc;
}

static int record(const struct invoke_req *req, const char *rid, const char *iso,
                  const char *started, double total_ms, const cJSON *result, struct err **e)
{
	_cleanup_cjson_ cJSON *rec =
	    invoke_record(req->fn, rid, req->source, iso, started, total_ms, result);

	if (req->attempt > 0)
		cJSON_AddNumberToObject(rec, "attempt", req->attempt);
	if (journal_append(app->journal, TAKE_PTR(rec), e) < 0) {
		log_errx("invocation %s not recorded: %s", rid, err_msg(*e));
		return err_wrap(e, "the invocation could not be recorded");
	}
	return 0;
}

int invoke_run(struct worker *w, const struct invoke_req *req, struct invoke_out *out,
               int *retry_after_s, struct err **e)
{
	_cleanup_cjson_ cJSON *msg = cJSON_CreateObject();
	_cleanup_free_ char *code_dir = NULL;
	const char *iso = req->isolation != NULL ? req->isolation : req->fn->isolation;
	char rid[37], started[32];
	cJSON *reply = NULL;
	struct err *e1 = NULL;
	int type = 0, sent = 0;
	double t0;

	if (req->request_id != NULL) {
		if (strlen(req->request_id) != 36)
			return err_set(e, ERR_INTERNAL, "request id '%s' is not a UUID",
			               req->request_id);
		memcpy(rid, req->request_id, sizeof(rid));
	} else if (crypt_uuid7(rid, e) < 0) {
		return -1;
	}
	if (ensure_code(w, req->fn, &code_dir, e) < 0)
		return -1;
	cJSON_AddStringToObject(msg, "request_id", rid);
	cJSON_AddItemToObject(msg, "function", function_payload(req->fn, code_dir));
	cJSON_AddStringToObject(msg, "isolation", iso);
	cJSON_AddItemToObject(msg, "event",
	                      req->event != NULL ? cJSON_Duplicate(req->event, 1)
	                                         : cJSON_CreateObject());
	if (req->args != NULL)
		cJSON_AddItemToObject(msg, "args", cJSON_Duplicate(req->args, 1));
	now_utc(started);
	t0 = mono_ms_f();
	if (exec_client_call(w->ec, PROTO_INVOKE, msg,
	                     (int)req->fn->timeout_ms + app->cfg.exec_margin_ms, &type, &reply,
	                     &sent, &e1) < 0) {
		if (sent) {
			/* it may have run: it is recorded as internal */
			_cleanup_cjson_ cJSON *r = cJSON_CreateObject();
			cJSON *er = cJSON_AddObjectToObject(r, "error");
			cJSON_AddStringToObject(r, "status", "internal");
			cJSON_AddStringToObject(er, "errorType", "Executor.Unavailable");
			cJSON_AddStringToObject(er, "errorMessage", err_msg(e1));
			if (record(req, rid, iso, started, mono_ms_f() - t0, r, e) < 0) {
				err_free(&e1);
				return -1;
			}
			/* the caller can name the record in its error answer */
			memcpy(out->request_id, rid, sizeof(rid));
		}
		*e = e1;
		return -1;
	}
	if (type == PROTO_ERROR) {
		invoke_error_of(reply, retry_after_s, e);
		cJSON_Delete(reply);
		return -1;
	}
	if (type != PROTO_RESULT || !cJSON_IsObject(reply)) {
		cJSON_Delete(reply);
		reply = cJSON_CreateObject();
		cJSON_AddStringToObject(reply, "status", "internal");
		cJSON *er = cJSON_AddObjectToObject(reply, "error");
		cJSON_AddStringToObject(er, "errorType", "Executor.Protocol");
		cJSON_AddStringToObject(er, "errorMessage", "unexpected reply from the executor");
	}
	normalise_status(reply);
	out->total_ms = mono_ms_f() - t0;
	if (record(req, rid, iso, started, out->total_ms, reply, e) < 0) {
		cJSON_Delete(reply);
		return -1;
	}
	memcpy(out->request_id, rid, sizeof(rid));
	out->result = reply;
	out->status = cJSON_GetObjectItemCaseSensitive(reply, "status")->valuestring;
	return 0;
}

void invoke_out_free(struct invoke_out *out)
{
	cJSON_Delete(out->result);
	out->result = NULL;
	out->status = NULL;
}
