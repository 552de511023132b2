#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "reply.h"
#include "xalloc.h"

void reply_init(struct reply *r)
{
	r->status = 0;
	r->content_type = NULL;
	buf_init(&r->headers, REPLY_MAX_HEADERS_BYTES);
	buf_init(&r->body, REPLY_MAX_BODY_BYTES);
}

void reply_free(struct reply *r)
{
	free(r->content_type);
	r->content_type = NULL;
	buf_free(&r->headers);
	buf_free(&r->body);
}

void reply_raw(struct reply *r, int status, const char *ctype, const void *data, size_t len)
{
	struct err *e = NULL;

	r->status = status;
	free(r->content_type);
	r->content_type = ctype != NULL ? xstrdup(ctype) : NULL;
	buf_reset(&r->body);
	if (buf_append(&r->body, data, len, &e) < 0) {
		err_free(&e);
		reply_error(r, 500, "internal", "response exceeds %u bytes", REPLY_MAX_BODY_BYTES);
	}
}

void reply_empty(struct reply *r, int status)
{
	reply_raw(r, status, NULL, "", 0);
}

void reply_json(struct reply *r, int status, const cJSON *j)
{
	_cleanup_cjson_str_ char *s = cJSON_PrintUnformatted(j);

	if (s == NULL) {
		reply_error(r, 500, "internal", "could not serialise the response");
		return;
	}
	reply_raw(r, status, "application/json", s, strlen(s));
}

void reply_json_take(struct reply *r, int status, cJSON *j)
{
	reply_json(r, status, j);
	cJSON_Delete(j);
}

void reply_header(struct reply *r, const char *name, const char *fmt, ...)
{
	_cleanup_free_ char *v = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&v, fmt, ap) < 0)
		v = NULL;
	va_end(ap);
	if (v == NULL)
		return;
	for (char *c = v; *c != '\0'; c++)
		if (*c == '\r' || *c == '\n')
			*c = ' ';
	buf_appendf(&r->headers, NULL, "%s: %s\r\n", name, v);
}

static const struct {
	int err_code;
	int status;
	const char *word;
} err_map[] = {
    {ERR_INVALID, 400, "invalid"},           {ERR_UNAUTHORIZED, 401, "unauthorized"},
    {ERR_FORBIDDEN, 403, "forbidden"},       {ERR_NOT_FOUND, 404, "not_found"},
    {ERR_METHOD, 405, "method_not_allowed"}, {ERR_CONFLICT, 409, "conflict"},
    {ERR_TOO_LARGE, 413, "too_large"},       {ERR_TOO_MANY, 429, "too_many_requests"},
    {ERR_UNAVAILABLE, 503, "unavailable"},   {ERR_TIMEOUT, 503, "unavailable"},
};

int reply_status_of(int err_code, const char **code_word)
{
	for (size_t i = 0; i < sizeof(err_map) / sizeof(err_map[0]); i++) {
		if (err_map[i].err_code == err_code) {
			*code_word = err_map[i].word;
			return err_map[i].status;
		}
	}
	*code_word = "internal";
	return 500;
}

static void reply_verror(struct reply *r, int status, const char *code, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static void reply_verror(struct reply *r, int status, const char *code, const char *fmt, va_list ap)
{
	char msg[1024];
	cJSON *root = cJSON_CreateObject();
	cJSON *err = cJSON_AddObjectToObject(root, "error");

	vsnprintf(msg, sizeof(msg), fmt, ap);
	cJSON_AddStringToObject(err, "code", code);
	cJSON_AddStringToObject(err, "message", msg);
	reply_json_take(r, status, root);
}

void reply_error(struct reply *r, int status, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_verror(r, status, code, fmt, ap);
	va_end(ap);
}

void reply_err(struct reply *r, const struct err *e)
{
	const char *word;
	int status = reply_status_of(e != NULL ? e->code : ERR_INTERNAL, &word);

	reply_error(r, status, word, "%s", err_msg(e));
}

const char *reply_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 413:
		return "Payload Too Large";
	case 429:
		return "Too Many Requests";
	case 500:
		return "Internal Server Error";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	default:
		return "Status";
	}
}

void reply_head(const struct reply *r, struct buf *out)
{
	int status = r->status ? r->status : 500;

	buf_appendf(out, NULL, "Status: %d %s\r\n", status, reply_reason(status));
	if (r->content_type != NULL)
		buf_appendf(out, NULL, "Content-Type: %s\r\n", r->content_type);
	buf_appendf(out, NULL, "Content-Length: %zu\r\n", r->body.len);
	if (r->headers.len > 0)
		buf_append(out, r->headers.data, r->headers.len, NULL);
	buf_append(out, "\r\n", 2, NULL);
}
