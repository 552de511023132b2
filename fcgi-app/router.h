/* The route table: (method, path pattern, auth, handler).  Each
 * api_<resource>.c exports a `const struct route_table`; main.c lists the
 * tables (router_tables[] in routes.c) and hands requests to router_dispatch().
 *
 * Pattern syntax: literal segments and "{}" for one non-empty segment
 * (percent-decoded into request->params[]), and a final "{*}" for the rest
 * of the path (possibly empty, kept encoded).  When several routes match, the
 * one with the most literal segments wins.  A path that matches with another
 * method gives 405 with Allow; no match gives 404; a badly encoded segment
 * 400.  A table may answer these itself for the paths it owns (its `miss`:
 * the AWS API answers in AWS's shape under its dated prefixes). */
#ifndef LAMBDA_API_ROUTER_H
#define LAMBDA_API_ROUTER_H

#include <stddef.h>

#include "reply.h"
#include "request.h"

typedef void (*route_handler)(struct request *req, struct reply *rep);
/* Returns 0 to let the handler run, or -1 after filling rep (401...). */
typedef int (*route_auth)(struct request *req, struct reply *rep);

struct route {
	const char *method;  /* "GET", "POST", ...; "*" = any */
	const char *pattern; /* "/api/functions/{}" */
	route_auth auth;     /* NULL = public */
	route_handler handler;
};

/* Called when no route takes req: returns 1 after filling rep when req's
 * path is the table's to answer, 0 to let the router answer in our REST
 * shape.  status is 404 (no route), 405 (other methods: allow lists them)
 * or 400 (a badly encoded path: msg says why). */
typedef int (*route_miss)(struct request *req, struct reply *rep, int status, const char *allow,
                          const char *msg);

struct route_table {
	const struct route *routes;
	size_t n;
	route_miss miss; /* NULL: misses get our REST errors */
};

#define ROUTE_TABLE(name, arr)                                                                     \
	const struct route_table name = {arr, sizeof(arr) / sizeof(arr[0]), NULL}
#define ROUTE_TABLE_MISS(name, arr, miss)                                                          \
	const struct route_table name = {arr, sizeof(arr) / sizeof(arr[0]), miss}

/* Finds the route for req among the tables.  On success returns it and
 * fills req->params.  On failure returns NULL and fills rep (404, or 405
 * with Allow, or 400 for a badly encoded path). */
const struct route *router_match(const struct route_table *const *tables, size_t ntables,
                                 struct request *req, struct reply *rep);
/* Whether path matches pattern (the syntax above; the method is not
 * looked at). */
int router_pattern_matches(const char *pattern, const char *path);
/* router_match, then auth, then the handler. */
void router_dispatch(const struct route_table *const *tables, size_t ntables, struct request *req,
                     struct reply *rep);

/* The tables main.c serves (defined in routes.c: add yours there). */
extern const struct route_table *const router_tables[];
extern const size_t router_ntables;

#endif
