#include <config.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "call.h"
#include "cleanup.h"
#include "config.h"
#include "xalloc.h"

static const char *const rt_names[RT_COUNT] = {"python", "javascript"};
static const char *const iso_names[ISO_COUNT] = {"docker", "gvisor"};

const char *runtime_name(int rt)
{
	return rt >= 0 && rt < RT_COUNT ? rt_names[rt] : "unknown";
}

const char *isolation_name(int iso)
{
	return iso >= 0 && iso < ISO_COUNT ? iso_names[iso] : "unknown";
}

/* An integer field within [min, max]; absent -> def (or an error when
 * def < min, i.e. required). */
static int get_long(const cJSON *obj, const char *name, long min, long max, long def, long *out,
                    struct err **e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	/* (each failure returns -1 itself: the analyser cannot see that
	 * err_set always does) */
	if (v == NULL || cJSON_IsNull(v)) {
		if (def < min) {
			err_set(e, ERR_INVALID, "function.%s is required", name);
			return -1;
		}
		*out = def;
		return 0;
	}
	if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble)) {
		err_set(e, ERR_INVALID, "function.%s must be an integer", name);
		return -1;
	}
	if (v->valuedouble < (double)min || v->valuedouble > (double)max) {
		err_set(e, ERR_INVALID, "function.%s must be between %ld and %ld", name, min, max);
		return -1;
	}
	*out = (long)v->valuedouble;
	return 0;
}

static const char *get_str(const cJSON *obj, const char *name, struct err **e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (!cJSON_IsString(v) || v->valuestring[0] == '\0') {
		err_set(e, ERR_INVALID, "function.%s must be a non-empty string", name);
		return NULL;
	}
	return v->valuestring;
}

static int parse_function(struct call *c, const cJSON *f, const struct xconfig *cfg, struct err **e)
{
	const char *rt;
	long v;

	if (!cJSON_IsObject(f))
		return err_set(e, ERR_INVALID, "function must be an object");
	c->function = f;
	if (get_long(f, "id", 1, 2147483647L, 0, &c->fn.id, e) < 0 ||
	    get_long(f, "version", 1, 2147483647L, 0, &v, e) < 0)
		return -1;
	c->fn.version = (int)v;
	if ((c->fn.name = get_str(f, "name", e)) == NULL || get_str(f, "handler", e) == NULL ||
	    (rt = get_str(f, "runtime", e)) == NULL ||
	    (c->fn.code_dir = get_str(f, "code_dir", e)) == NULL)
		return -1;
	if (strcmp(rt, "python") == 0)
		c->fn.runtime = RT_PYTHON;
	else if (strcmp(rt, "javascript") == 0 || strcmp(rt, "node") == 0)
		c->fn.runtime = RT_NODE;
	else
		return err_set(e, ERR_INVALID, "function.runtime must be python or javascript");
	if (c->fn.code_dir[0] != '/')
		return err_set(e, ERR_INVALID, "function.code_dir must be an absolute path");
	if (get_long(f, "timeout_ms", 1, cfg->timeout_max_ms, 0, &c->fn.timeout_ms, e) < 0 ||
	    get_long(f, "memory_mb", cfg->memory_min_mb, cfg->memory_max_mb, 0, &c->fn.memory_mb,
	             e) < 0 ||
	    get_long(f, "concurrency", 0, 100000, 0, &c->fn.concurrency, e) < 0 ||
	    get_long(f, "keepalive_s", 0, 86400, 0, &c->fn.keepalive_s, e) < 0)
		return -1;
	return 0;
}

void cond_init_mono(pthread_cond_t *cv)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(cv, &ca);
	pthread_condattr_destroy(&ca);
}

struct call *call_new(cJSON *req, const struct xconfig *cfg, struct err **e)
{
	struct call *c = xcalloc(1, sizeof(*c));
	const cJSON *v;

	c->req = req;
	cond_init_mono(&c->cv);
	logcap_init(&c->stderr_cap, (size_t)cfg->log_cap_bytes);
	c->batch_size = 1;
	if (!cJSON_IsObject(req)) {
		err_set(e, ERR_INVALID, "INVOKE payload must be a JSON object");
		goto fail;
	}
	v = cJSON_GetObjectItemCaseSensitive(req, "request_id");
	if (!cJSON_IsString(v) || v->valuestring[0] == '\0' || strlen(v->valuestring) > 128) {
		err_set(e, ERR_INVALID, "request_id must be a string of 1 to 128 characters");
		goto fail;
	}
	c->request_id = v->valuestring;
	if (parse_function(c, cJSON_GetObjectItemCaseSensitive(req, "function"), cfg, e) < 0)
		goto fail;
	v = cJSON_GetObjectItemCaseSensitive(req, "isolation");
	if (v == NULL || cJSON_IsNull(v) ||
	    (cJSON_IsString(v) && strcmp(v->valuestring, "docker") == 0)) {
		c->isolation = ISO_DOCKER;
	} else if (cJSON_IsString(v) && strcmp(v->valuestring, "gvisor") == 0) {
		c->isolation = ISO_GVISOR;
	} else {
		err_set(e, ERR_INVALID, "isolation must be docker or gvisor");
		goto fail;
	}
	c->event = cJSON_GetObjectItemCaseSensitive(req, "event");
	c->args = cJSON_GetObjectItemCaseSensitive(req, "args");
	if (c->args != NULL && !cJSON_IsNull(c->args) && !cJSON_IsArray(c->args)) {
		err_set(e, ERR_INVALID, "args must be an array");
		goto fail;
	}
	return c;
fail:
	call_free(c);
	return NULL;
}

void call_free(struct call *c)
{
	if (c == NULL)
		return;
	cJSON_Delete(c->req);
	cJSON_Delete(c->result);
	free(c->err_msg);
	free(c->init_logs);
	logcap_free(&c->stderr_cap);
	pthread_cond_destroy(&c->cv);
	free(c);
}

void call_fail(struct call *c, const char *code, const char *fmt, ...)
{
	va_list ap;
	char msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cJSON_Delete(c->result);
	c->result = NULL;
	free(c->err_msg);
	c->err_code = code;
	c->err_msg = xstrdup(msg);
}

char *call_timeout_message(const struct call *c)
{
	return xasprintf("Task timed out after %.2f seconds", (double)c->fn.timeout_ms / 1000.0);
}

void call_fill_common(struct call *c, cJSON *res, const char *container)
{
	cJSON_AddStringToObject(res, "request_id", c->request_id);
	cJSON_AddNumberToObject(res, "init_ms", round(c->init_ms * 1000) / 1000);
	cJSON_AddNumberToObject(res, "queue_ms", round(c->queue_ms * 1000) / 1000);
	cJSON_AddBoolToObject(res, "cold", c->cold);
	if (c->cold_reason != NULL)
		cJSON_AddStringToObject(res, "cold_reason", c->cold_reason);
	else
		cJSON_AddNullToObject(res, "cold_reason");
	cJSON_AddStringToObject(res, "isolation", isolation_name(c->isolation));
	if (container != NULL)
		cJSON_AddStringToObject(res, "container", container);
	else
		cJSON_AddNullToObject(res, "container");
	cJSON_AddNumberToObject(res, "batch_size", c->batch_size);
	cJSON_AddNumberToObject(res, "attempts", c->attempts);
}

void call_set_status(struct call *c, const char *status, const char *err_type, const char *err_msg,
                     char *logs, int logs_truncated, double duration_ms, const char *container)
{
	cJSON *res = cJSON_CreateObject();
	cJSON *err;

	cJSON_AddStringToObject(res, "status", status);
	err = cJSON_AddObjectToObject(res, "error");
	cJSON_AddStringToObject(err, "errorMessage", err_msg);
	cJSON_AddStringToObject(err, "errorType", err_type);
	cJSON_AddArrayToObject(err, "stackTrace");
	cJSON_AddStringToObject(res, "logs", logs != NULL ? logs : "");
	cJSON_AddBoolToObject(res, "logs_truncated", logs_truncated);
	cJSON_AddNumberToObject(res, "duration_ms", round(duration_ms * 1000) / 1000);
	cJSON_AddNullToObject(res, "max_memory_bytes");
	cJSON_AddNullToObject(res, "cpu_ms");
	cJSON_AddNumberToObject(res, "response_bytes", 0);
	call_fill_common(c, res, container);
	free(logs);
	cJSON_Delete(c->result);
	c->result = res;
}
