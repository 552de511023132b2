#include <config.h>

#include <errno.h>
#include <stdlib.h>

#include "api.h"
#include "app.h"
#include "cleanup.h"

struct app *app;

int api_query_int(const struct request *req, struct reply *rep, const char *name, long long min,
                  long long max, long long def, long long *out)
{
	_cleanup_free_ char *v = NULL;
	struct err *e = NULL;
	char *end;
	long long n;

	if (request_query(req, name, &v, &e) < 0) {
		api_fail(rep, &e);
		return -1;
	}
	if (v == NULL) {
		*out = def;
		return 0;
	}
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < min || n > max) {
		reply_error(rep, 400, "invalid", "%s: must be an integer between %lld and %lld",
		            name, min, max);
		return -1;
	}
	*out = n;
	return 0;
}

int api_page(const struct request *req, struct reply *rep, int def, int max, int *limit,
             long long *cursor)
{
	long long l, c;

	if (api_query_int(req, rep, "limit", 1, max, def, &l) < 0)
		return -1;
	if (api_query_int(req, rep, "cursor", 1, (1LL << 62), 0, &c) < 0) {
		/* name the parameter for what it is */
		reply_error(rep, 400, "invalid", "cursor: not a cursor from X-Next-Cursor");
		return -1;
	}
	*limit = (int)l;
	*cursor = c;
	return 0;
}

void api_next_cursor(struct reply *rep, int count, int limit, long long last)
{
	if (count >= limit && last > 0)
		reply_header(rep, "X-Next-Cursor", "%lld", last);
}

void api_fail(struct reply *rep, struct err **e)
{
	reply_err(rep, *e);
	err_free(e);
}
