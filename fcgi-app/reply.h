/* What a handler answers: status, content type, extra headers and a body.
 * main.c serialises it onto the FastCGI stream; tests read it directly. */
#ifndef LAMBDA_API_REPLY_H
#define LAMBDA_API_REPLY_H

#include <stddef.h>

#include <cJSON.h>

#include "buf.h"
#include "err.h"

#define REPLY_MAX_HEADERS_BYTES (64 * 1024)
#define REPLY_MAX_BODY_BYTES    (64u * 1024 * 1024)

struct reply {
	int status;         /* 0 until a handler sets it */
	char *content_type; /* owned; NULL = none */
	struct buf headers; /* "Name: value\r\n" lines */
	struct buf body;
};

void reply_init(struct reply *r);
void reply_free(struct reply *r);

/* Replaces the body with the compact print of j.  j stays the caller's. */
void reply_json(struct reply *r, int status, const cJSON *j);
/* Same, and deletes j (handy for freshly built objects). */
void reply_json_take(struct reply *r, int status, cJSON *j);
/* A body of len bytes with the given content type. */
void reply_raw(struct reply *r, int status, const char *ctype, const void *data, size_t len);
/* A status without a body (204, 202...). */
void reply_empty(struct reply *r, int status);
/* Adds a header line; value is printf-formatted.  CR/LF in the value are
 * replaced by spaces (no header injection). */
void reply_header(struct reply *r, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* {"error":{"code":code,"message":...}} with the status. */
void reply_error(struct reply *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Maps e->code (enum err_code) to its status and error code and answers with
 * e's message.  e stays the caller's. */
void reply_err(struct reply *r, const struct err *e);
/* The status and the error code word for an enum err_code. */
int reply_status_of(int err_code, const char **code_word);
/* The reason phrase of a status ("Not Found"). */
const char *reply_reason(int status);

/* Writes the CGI response head ("Status: ...\r\n...\r\n\r\n") into out. */
void reply_head(const struct reply *r, struct buf *out);

#endif
