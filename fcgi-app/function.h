/* A function as the API sees it: validation of the JSON a client sends
 * (our shape and the seed's {"name","language","route","timeout"}) and the
 * JSON we answer.  No I/O here: unit tests and the fuzzer reach all of it. */
#ifndef LAMBDA_API_FUNCTION_H
#define LAMBDA_API_FUNCTION_H

#include <stddef.h>

#include <cJSON.h>

#include "err.h"

#define FN_NAME_MAX        64
#define FN_HANDLER_MAX     128
#define FN_ROUTE_MAX       255
#define FN_TIMEOUT_MS_MIN  100
#define FN_TIMEOUT_MS_MAX  900000
#define FN_TIMEOUT_S_MIN   1
#define FN_TIMEOUT_S_MAX   900
#define FN_MEMORY_MB_MIN   64
#define FN_MEMORY_MB_MAX   4096
#define FN_CONCURRENCY_MAX 1000
#define FN_ENV_KEY_MAX     128

/* Which fields a request body set (an update changes only these). */
enum fn_field {
	FN_F_NAME = 1 << 0,
	FN_F_RUNTIME = 1 << 1,
	FN_F_HANDLER = 1 << 2,
	FN_F_ROUTE = 1 << 3,
	FN_F_CODE = 1 << 4,
	FN_F_TIMEOUT = 1 << 5,
	FN_F_MEMORY = 1 << 6,
	FN_F_ISOLATION = 1 << 7,
	FN_F_ENV = 1 << 8,
	FN_F_CONCURRENCY = 1 << 9,
	FN_F_URL_AUTH = 1 << 10,
};

struct function {
	long long id;
	char *name;
	char *runtime; /* "python" | "javascript" */
	char *handler; /* "main.handler" | "hello.py" */
	char *style;   /* "aws" | "seed" (derived from handler) */
	char *route;   /* NULL = none */
	char *code;    /* code_len bytes (text, or zip bytes) */
	size_t code_len;
	char *code_format; /* "text" | "zip" */
	char code_sha256[65];
	long long timeout_ms;
	long long memory_mb;
	char *isolation; /* "docker" | "gvisor" */
	char *env;       /* compact JSON object text */
	long long concurrency;
	char *url_auth; /* function URL (/fn/name/...): "key" (default) | "none" (public) */
	long long version;
	char *created_at; /* ISO 8601, from the database */
	char *updated_at;
	unsigned given; /* enum fn_field bits set by function_parse */
};

struct fn_limits {
	size_t max_code_bytes; /* source text */
	size_t max_env_bytes;  /* env as compact JSON */
	size_t max_zip_bytes;  /* a zip archive, decoded */
};

/* Parses and validates a create (for_update = 0: required fields and
 * defaults applied) or an update body (only what is given).  On success
 * fills *out (released with function_free).  Errors are ERR_INVALID with a
 * message that names the field and its bounds, or ERR_TOO_LARGE for code
 * or env over their caps. */
int function_parse(const char *body, size_t len, int for_update, const struct fn_limits *lim,
                   struct function *out, struct err **e);
/* Copies the fields set in `upd->given` onto f (consuming them from upd);
 * re-derives style and the code hash; validates the combination. */
int function_merge(struct function *f, struct function *upd, struct err **e);
/* Recomputes code_sha256 from code. */
void function_hash_code(struct function *f);
void function_free(struct function *f);

/* The JSON shape of a function (with code when with_code). Caller owns it. */
cJSON *function_to_json(const struct function *f, int with_code);

/* The name rule [A-Za-z0-9_-]{1,64}. */
int function_name_valid(const char *name);
/* The file the handler lives in ("main.handler" -> "main.py"); the caller
 * frees.  NULL when the handler has no module part. */
char *function_code_file(const struct function *f);
/* 1 when s is valid UTF-8 without NUL bytes. */
int utf8_valid(const char *s, size_t n);

#endif
