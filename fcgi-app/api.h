/* Shared by the api_<resource>.c handlers: the route tables they export and
 * small helpers for parameters and lists. */
#ifndef LAMBDA_API_API_H
#define LAMBDA_API_API_H

#include "reply.h"
#include "request.h"
#include "router.h"

extern const struct route_table api_health_routes;
extern const struct route_table api_functions_routes;
extern const struct route_table api_keys_routes;
extern const struct route_table api_invoke_routes;
extern const struct route_table api_invocations_routes;
extern const struct route_table api_metrics_routes;

/* GET /api/metrics/summary (api_metrics.c): the seed's shape plus percentiles. */
void api_metrics_summary(struct request *req, struct reply *rep);

#define API_LIMIT_DEFAULT 100
#define API_LIMIT_MAX     1000

/* Reads ?limit= (1..max, default def) and ?cursor= (an opaque positive
 * integer from X-Next-Cursor; 0 when absent).  Fills rep with 400 and
 * returns -1 on a bad value. */
int api_page(const struct request *req, struct reply *rep, int def, int max, int *limit,
             long long *cursor);
/* Lists are JSON arrays (the seed's clients iterate them); the cursor of the
 * next page, when there may be one, is in the X-Next-Cursor header. */
void api_next_cursor(struct reply *rep, int count, int limit, long long last);
/* Reads a whole-number query parameter within bounds; absent = def. */
int api_query_int(const struct request *req, struct reply *rep, const char *name, long long min,
                  long long max, long long def, long long *out);
struct function;
/* Loads the function named by the path ({id|name} in params[0]); fills rep
 * (400 for an impossible name, 404, 503) and returns -1 on failure. */
int api_load_function(struct request *req, struct reply *rep, int with_code, struct function *f);
/* Answers e (see reply_err) and frees it. */
void api_fail(struct reply *rep, struct err **e);

#endif
