/* One HTTP request as the FastCGI layer hands it to a handler.  Built by
 * main.c from the FastCGI parameters, or by tests and the fuzzer from plain
 * strings: nothing in here depends on libfcgi. */
#ifndef LAMBDA_API_REQUEST_H
#define LAMBDA_API_REQUEST_H

#include <stddef.h>

#include "err.h"

#define REQUEST_MAX_PARAMS 4

struct worker;

struct request {
	const char *method; /* "GET", ... (borrowed) */
	const char *uri;    /* REQUEST_URI as received, with the query (borrowed) */
	char *path;         /* uri without the query, still percent-encoded (owned) */
	const char *query;  /* after '?', "" when none (points into uri) */
	char *const *env;   /* CGI-style "NAME=value" list, NULL-terminated (borrowed) */
	const char *body;   /* NUL-terminated; body_len bytes (owned by the caller) */
	size_t body_len;
	const char *remote_addr; /* "" when unknown (borrowed) */
	/* Filled by the router: the {} segments of the matched pattern, decoded. */
	char *params[REQUEST_MAX_PARAMS];
	int nparams;
	/* Filled by authentication: the id of the API key used, 0 when none. */
	long long key_id;
	struct worker *w; /* the thread serving it: database, executor, journal */
};

/* Initialises r for method and uri (both borrowed, must outlive r). */
void request_init(struct request *r, const char *method, const char *uri, char *const *env);
/* Frees what the request owns (path, params). */
void request_free(struct request *r);

/* A header by its HTTP name ("Authorization", "X-Amz-Date"): looks up
 * HTTP_<NAME> (CONTENT_TYPE / CONTENT_LENGTH without the prefix).
 * Returns a borrowed string or NULL. */
const char *request_header(const struct request *r, const char *name);
/* A raw CGI variable ("REMOTE_ADDR"). Borrowed or NULL. */
const char *request_env(const struct request *r, const char *name);

/* The decoded value of the first query parameter `name`, newly allocated
 * (caller frees), or NULL when absent.  ERR_INVALID when it is present but
 * badly encoded (or decodes to a NUL byte). */
int request_query(const struct request *r, const char *name, char **out, struct err **e);
/* 1 when the query string names the parameter at all. */
int request_query_has(const struct request *r, const char *name);

/* Percent-decodes n bytes of s into a new string (caller frees); '+' is a
 * space only when plus_space.  ERR_INVALID on a bad escape or a NUL byte. */
int url_decode(const char *s, size_t n, int plus_space, char **out, struct err **e);

#endif
