#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "router.h"
#include "xalloc.h"

#define ROUTER_MAX_SEGMENTS 32

struct seg {
	const char *p;
	size_t n;
};

/* Splits an absolute path into segments.  Returns the count, or -1 when the
 * path is not absolute, has empty segments ("//", except one trailing '/')
 * or too many of them. */
static int split(const char *path, struct seg *segs, int max)
{
	int n = 0;
	const char *p = path;

	if (*p != '/')
		return -1;
	p++;
	if (*p == '\0')
		return 0;
	while (*p != '\0') {
		const char *slash = strchr(p, '/');
		size_t len = slash != NULL ? (size_t)(slash - p) : strlen(p);

		if (len == 0)
			return -1;
		if (n == max)
			return -1;
		segs[n].p = p;
		segs[n].n = len;
		n++;
		p += len;
		if (*p == '/') {
			p++;
			if (*p == '\0')
				break; /* one trailing slash is tolerated */
		}
	}
	return n;
}

/* Returns the number of literal segments matched (>= 0) or -1 when the
 * pattern does not match.  Records where the {} segments are in idx. */
static int pattern_match(const char *pattern, const struct seg *segs, int nsegs,
                         int idx[REQUEST_MAX_PARAMS], int *nidx, int *rest)
{
	struct seg ps[ROUTER_MAX_SEGMENTS];
	int np = split(pattern, ps, ROUTER_MAX_SEGMENTS);
	int literal = 0, k = 0;

	*rest = -1;
	if (np < 0)
		return -1;
	for (int i = 0; i < np; i++) {
		if (ps[i].n == 3 && memcmp(ps[i].p, "{*}", 3) == 0) {
			*rest = i; /* the rest of the path, from segment i on */
			*nidx = k;
			return literal;
		}
		if (i >= nsegs)
			return -1;
		if (ps[i].n == 2 && memcmp(ps[i].p, "{}", 2) == 0) {
			if (k == REQUEST_MAX_PARAMS)
				return -1;
			idx[k++] = i;
			continue;
		}
		if (ps[i].n != segs[i].n || memcmp(ps[i].p, segs[i].p, segs[i].n) != 0)
			return -1;
		literal++;
	}
	if (np != nsegs)
		return -1;
	*nidx = k;
	return literal;
}

static int method_ok(const struct route *rt, const char *method)
{
	return strcmp(rt->method, "*") == 0 || strcmp(rt->method, method) == 0;
}

static void add_allow(char *allow, size_t cap, const char *method)
{
	size_t n = strlen(method);
	const char *p = allow;

	while ((p = strstr(p, method)) != NULL) {
		if ((p == allow || p[-1] == ' ') && (p[n] == ',' || p[n] == '\0'))
			return;
		p += n;
	}
	if (strlen(allow) + n + 3 >= cap)
		return;
	if (allow[0] != '\0')
		strncat(allow, ", ", cap - strlen(allow) - 1);
	strncat(allow, method, cap - strlen(allow) - 1);
}

/* No route takes req: the table that owns its path answers, else we do. */
static void miss(const struct route_table *const *tables, size_t ntables, struct request *req,
                 struct reply *rep, int status, const char *allow, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (size_t t = 0; t < ntables; t++)
		if (tables[t]->miss != NULL && tables[t]->miss(req, rep, status, allow, msg))
			return;
	if (status == 400) {
		reply_error(rep, 400, "invalid", "%s", msg);
	} else if (status == 405) {
		reply_error(rep, 405, "method_not_allowed", "%s", msg);
		reply_header(rep, "Allow", "%s", allow);
	} else {
		reply_error(rep, 404, "not_found", "%s", msg);
	}
}

static int fill_params(struct request *req, const struct seg *segs, const int *idx, int nidx,
                       int rest, int nsegs, struct reply *rep,
                       const struct route_table *const *tables, size_t ntables)
{
	struct err *e = NULL;

	for (int i = 0; i < nidx; i++) {
		char *v = NULL;
		if (url_decode(segs[idx[i]].p, segs[idx[i]].n, 0, &v, &e) < 0) {
			miss(tables, ntables, req, rep, 400, "", "path: %s", err_msg(e));
			err_free(&e);
			return -1;
		}
		req->params[req->nparams++] = v;
	}
	if (rest >= 0 && req->nparams < REQUEST_MAX_PARAMS)
		req->params[req->nparams++] = xstrdup(rest < nsegs ? segs[rest].p : "");
	return 0;
}

const struct route *router_match(const struct route_table *const *tables, size_t ntables,
                                 struct request *req, struct reply *rep)
{
	struct seg segs[ROUTER_MAX_SEGMENTS];
	int nsegs = split(req->path, segs, ROUTER_MAX_SEGMENTS);
	const struct route *best = NULL;
	int best_lit = -1, best_idx[REQUEST_MAX_PARAMS], best_nidx = 0, best_rest = -1;
	char allow[128] = "";

	if (nsegs < 0) {
		miss(tables, ntables, req, rep, 404, "", "no such resource");
		return NULL;
	}
	for (size_t t = 0; t < ntables; t++) {
		for (size_t i = 0; i < tables[t]->n; i++) {
			const struct route *rt = &tables[t]->routes[i];
			int idx[REQUEST_MAX_PARAMS], nidx = 0, rest;
			int lit = pattern_match(rt->pattern, segs, nsegs, idx, &nidx, &rest);

			if (lit < 0)
				continue;
			if (!method_ok(rt, req->method)) {
				add_allow(allow, sizeof(allow), rt->method);
				continue;
			}
			if (lit > best_lit) {
				best = rt;
				best_lit = lit;
				memcpy(best_idx, idx, sizeof(idx));
				best_nidx = nidx;
				best_rest = rest;
			}
		}
	}
	if (best == NULL) {
		if (allow[0] != '\0')
			miss(tables, ntables, req, rep, 405, allow,
			     "method %s is not allowed here; allowed: %s", req->method, allow);
		else
			miss(tables, ntables, req, rep, 404, "", "no such resource");
		return NULL;
	}
	if (fill_params(req, segs, best_idx, best_nidx, best_rest, nsegs, rep, tables, ntables) < 0)
		return NULL;
	return best;
}

int router_pattern_matches(const char *pattern, const char *path)
{
	struct seg segs[ROUTER_MAX_SEGMENTS];
	int nsegs = split(path, segs, ROUTER_MAX_SEGMENTS);
	int idx[REQUEST_MAX_PARAMS], nidx = 0, rest;

	return nsegs >= 0 && pattern_match(pattern, segs, nsegs, idx, &nidx, &rest) >= 0;
}

void router_dispatch(const struct route_table *const *tables, size_t ntables, struct request *req,
                     struct reply *rep)
{
	const struct route *rt = router_match(tables, ntables, req, rep);

	if (rt == NULL)
		return;
	if (rt->auth != NULL && rt->auth(req, rep) < 0)
		return;
	rt->handler(req, rep);
	if (rep->status == 0)
		reply_error(rep, 500, "internal", "the handler gave no answer");
}
