/* The route table: (method, path pattern, auth, handler).  Each
 * api_<resource>.c exports a `const struct route_table`; main.c lists the
 * tables (router_tables[] in routes.c) and hands requests to router_dispatch().
 *
 * Pattern syntax: literal segments and "{}" for one non-empty segment
 * (percent-decoded into request->params[]), and a final "{*}" for the rest
 * of the path (possibly empty, kept encoded).  When several routes match, the
 * one with the most literal segments wins.  A path that matches with another
 * method gives 405 with Allow; no match gives 404. */
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

struct route_table {
	const struct route *routes;
	size_t n;
};

#define ROUTE_TABLE(name, arr) const struct route_table name = {arr, sizeof(arr) / sizeof(arr[0])}

/* Finds the route for req among the tables.  On success returns it and
 * fills req->params.  On failure returns NULL and fills rep (404, or 405
 * with Allow, or 400 for a badly encoded path). */
const struct route *router_match(const struct route_table *const *tables, size_t ntables,
                                 struct request *req, struct reply *rep);
/* router_match, then auth, then the handler. */
void router_dispatch(const struct route_table *const *tables, size_t ntables, struct request *req,
                     struct reply *rep);

/* The tables main.c serves (defined in routes.c: add yours there). */
extern const struct route_table *const router_tables[];
extern const size_t router_ntables;

#endif
