/* Router matching (incl. bad paths, 405 + Allow), request parsing helpers. */
#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "reply.h"
#include "request.h"
#include "router.h"

static int calls;

static void h_one(struct request *req, struct reply *rep)
{
	(void)req;
	calls++;
	reply_empty(rep, 200);
}

static void h_lit(struct request *req, struct reply *rep)
{
	(void)req;
	calls += 100;
	reply_empty(rep, 201);
}

static void h_silent(struct request *req, struct reply *rep)
{
	(void)req;
	(void)rep;
}

static int deny(struct request *req, struct reply *rep)
{
	(void)req;
	reply_error(rep, 401, "unauthorized", "no");
	return -1;
}

static const struct route routes[] = {
    {"GET", "/api/functions", NULL, h_one},
    {"POST", "/api/functions", NULL, h_one},
    {"GET", "/api/functions/{}", NULL, h_one},
    {"PUT", "/api/functions/{}", NULL, h_one},
    {"POST", "/api/functions/execute", NULL, h_lit},
    {"POST", "/api/functions/{}/invoke", NULL, h_one},
    {"GET", "/api/secret", deny, h_one},
    {"GET", "/api/silent", NULL, h_silent},
    {"*", "/fn/{}/{*}", NULL, h_one},
};
ROUTE_TABLE(test_routes, routes);
static const struct route_table *const tables[] = {&test_routes};

static const struct route *match(const char *method, const char *uri, struct request *req,
                                 struct reply *rep)
{
	request_init(req, method, uri, NULL);
	reply_init(rep);
	return router_match(tables, 1, req, rep);
}

static void test_literal_and_params(void **state)
{
	struct request req;
	struct reply rep;
	const struct route *rt;

	(void)state;
	rt = match("GET", "/api/functions", &req, &rep);
	assert_non_null(rt);
	assert_string_equal(rt->pattern, "/api/functions");
	request_free(&req);
	reply_free(&rep);

	rt = match("GET", "/api/functions/hello%2Dworld?x=1", &req, &rep);
	assert_non_null(rt);
	assert_int_equal(req.nparams, 1);
	assert_string_equal(req.params[0], "hello-world");
	assert_string_equal(req.query, "x=1");
	request_free(&req);
	reply_free(&rep);

	/* the literal segment wins over {} */
	rt = match("POST", "/api/functions/execute", &req, &rep);
	assert_non_null(rt);
	assert_string_equal(rt->pattern, "/api/functions/execute");
	request_free(&req);
	reply_free(&rep);

	rt = match("POST", "/api/functions/f1/invoke", &req, &rep);
	assert_non_null(rt);
	assert_string_equal(req.params[0], "f1");
	request_free(&req);
	reply_free(&rep);

	/* one trailing slash is tolerated */
	rt = match("GET", "/api/functions/", &req, &rep);
	assert_non_null(rt);
	request_free(&req);
	reply_free(&rep);
}

static void test_rest_pattern(void **state)
{
	struct request req;
	struct reply rep;
	const struct route *rt;

	(void)state;
	rt = match("DELETE", "/fn/f/a/b%20c?q", &req, &rep);
	assert_non_null(rt);
	assert_int_equal(req.nparams, 2);
	assert_string_equal(req.params[0], "f");
	assert_string_equal(req.params[1], "a/b%20c");
	request_free(&req);
	reply_free(&rep);
	rt = match("GET", "/fn/f", &req, &rep);
	assert_non_null(rt);
	assert_string_equal(req.params[1], "");
	request_free(&req);
	reply_free(&rep);
}

static void expect_fail(const char *method, const char *uri, int status, const char *allow)
{
	struct request req;
	struct reply rep;

	assert_null(match(method, uri, &req, &rep));
	assert_int_equal(rep.status, status);
	assert_non_null(strstr(rep.body.data, "\"error\""));
	if (allow != NULL) {
		char want[128];
		snprintf(want, sizeof(want), "Allow: %s\r\n", allow);
		assert_non_null(rep.headers.data);
		assert_non_null(strstr(rep.headers.data, want));
	}
	request_free(&req);
	reply_free(&rep);
}

static void test_bad_paths(void **state)
{
	(void)state;
	expect_fail("GET", "/api/nothing", 404, NULL);
	expect_fail("GET", "/api//functions", 404, NULL);
	expect_fail("GET", "relative", 404, NULL);
	expect_fail("GET", "/api/functions/a/b", 404, NULL);
	expect_fail("GET", "/api/functions/%zz", 400, NULL);
	expect_fail("GET", "/api/functions/%00", 400, NULL);
	expect_fail("GET", "/api/functions/%4", 400, NULL);
	expect_fail("DELETE", "/api/functions", 405, "GET, POST");
	expect_fail("PATCH", "/api/functions/x", 405, "GET, PUT");
	expect_fail("GET", "/api/functions/x/invoke", 405, "POST");
	expect_fail("GET", "/api/functions/execute/x/y/z/w/v", 404, NULL);
}

static void test_dispatch_auth_and_silence(void **state)
{
	struct request req;
	struct reply rep;

	(void)state;
	calls = 0;
	request_init(&req, "GET", "/api/secret", NULL);
	reply_init(&rep);
	router_dispatch(tables, 1, &req, &rep);
	assert_int_equal(rep.status, 401);
	assert_int_equal(calls, 0); /* the handler did not run */
	request_free(&req);
	reply_free(&rep);

	request_init(&req, "GET", "/api/silent", NULL);
	reply_init(&rep);
	router_dispatch(tables, 1, &req, &rep);
	assert_int_equal(rep.status, 500);
	request_free(&req);
	reply_free(&rep);

	request_init(&req, "POST", "/api/functions/execute", NULL);
	reply_init(&rep);
	router_dispatch(tables, 1, &req, &rep);
	assert_int_equal(rep.status, 201);
	assert_int_equal(calls, 100);
	request_free(&req);
	reply_free(&rep);
}

/* A table that owns /own/...: its misses come to it, the others' do not. */
static int miss_status;
static char miss_allow[64];

static int own_miss(struct request *req, struct reply *rep, int status, const char *allow,
                    const char *msg)
{
	(void)msg;
	if (strncmp(req->path, "/own/", 5) != 0)
		return 0;
	miss_status = status;
	snprintf(miss_allow, sizeof(miss_allow), "%s", allow);
	reply_empty(rep, 418);
	return 1;
}

static const struct route own_routes[] = {
    {"POST", "/own/{}/run", NULL, h_one},
};
ROUTE_TABLE_MISS(own_table, own_routes, own_miss);

static void expect_miss(const char *method, const char *uri, int status, const char *allow)
{
	static const struct route_table *const both[] = {&test_routes, &own_table};
	struct request req;
	struct reply rep;

	miss_status = 0;
	miss_allow[0] = '\0';
	request_init(&req, method, uri, NULL);
	reply_init(&rep);
	router_dispatch(both, 2, &req, &rep);
	if (strncmp(uri, "/own/", 5) == 0) {
		assert_int_equal(rep.status, 418); /* the owner answered */
		assert_int_equal(miss_status, status);
		assert_string_equal(miss_allow, allow);
	} else {
		assert_int_equal(rep.status, status); /* ours, as before */
		assert_int_equal(miss_status, 0);
	}
	request_free(&req);
	reply_free(&rep);
}

static void test_miss_hook(void **state)
{
	(void)state;
	expect_miss("GET", "/own/nothing/here", 404, "");
	expect_miss("GET", "/own/x/run", 405, "POST");
	expect_miss("POST", "/own/%zz/run", 400, "");
	expect_miss("GET", "/own//run", 404, "");
	expect_miss("GET", "/api/nothing", 404, "");
	expect_miss("DELETE", "/api/functions", 405, "");
	assert_true(router_pattern_matches("/own/{}/run", "/own/a/run"));
	assert_true(router_pattern_matches("/own/{*}", "/own"));
	assert_true(router_pattern_matches("/own/{*}", "/own/a/b"));
	assert_false(router_pattern_matches("/own/{}/run", "/own/a/walk"));
	assert_false(router_pattern_matches("/own/{}", "/own//"));
}

static void test_request_helpers(void **state)
{
	char *env[] = {"HTTP_AUTHORIZATION=Bearer x", "CONTENT_TYPE=application/json",
	               "HTTP_X_AMZ_DATE=20250101T000000Z", NULL};
	struct request req;
	struct err *e = NULL;
	char *v = NULL;

	(void)state;
	request_init(&req, "GET", "/p?a=1&b=x%20y+z&flag&c=%zz&d=%00", env);
	assert_string_equal(request_header(&req, "Authorization"), "Bearer x");
	assert_string_equal(request_header(&req, "content-type"), "application/json");
	assert_string_equal(request_header(&req, "X-Amz-Date"), "20250101T000000Z");
	assert_null(request_header(&req, "X-Missing"));
	assert_int_equal(request_query(&req, "b", &v, &e), 0);
	assert_string_equal(v, "x y z");
	free(v);
	assert_int_equal(request_query(&req, "flag", &v, &e), 0);
	assert_string_equal(v, "");
	free(v);
	assert_int_equal(request_query(&req, "nope", &v, &e), 0);
	assert_null(v);
	assert_true(request_query_has(&req, "a"));
	assert_false(request_query_has(&req, "fla"));
	assert_int_equal(request_query(&req, "c", &v, &e), -1);
	assert_int_equal(e->code, ERR_INVALID);
	assert_string_equal(e->msg, "query parameter 'c': bad percent-escape");
	err_free(&e);
	assert_int_equal(request_query(&req, "d", &v, &e), -1);
	err_free(&e);
	request_free(&req);
}

static void test_reply(void **state)
{
	struct reply rep;
	struct buf head;
	struct err *e = NULL;

	(void)state;
	reply_init(&rep);
	err_set(&e, ERR_CONFLICT, "name: taken");
	reply_err(&rep, e);
	err_free(&e);
	assert_int_equal(rep.status, 409);
	assert_string_equal(rep.body.data,
	                    "{\"error\":{\"code\":\"conflict\",\"message\":\"name: taken\"}}");
	reply_header(&rep, "X-Evil", "a\r\nSet-Cookie: x");
	buf_init(&head, 1 << 16);
	reply_head(&rep, &head);
	assert_non_null(strstr(head.data, "Status: 409 Conflict\r\n"));
	assert_non_null(strstr(head.data, "X-Evil: a  Set-Cookie: x\r\n"));
	assert_non_null(strstr(head.data, "Content-Type: application/json\r\n"));
	buf_free(&head);
	reply_free(&rep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_literal_and_params),
	    cmocka_unit_test(test_rest_pattern),
	    cmocka_unit_test(test_bad_paths),
	    cmocka_unit_test(test_dispatch_auth_and_silence),
	    cmocka_unit_test(test_miss_hook),
	    cmocka_unit_test(test_request_helpers),
	    cmocka_unit_test(test_reply),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
