/* The AWS API's pure parts: function references (names, ARNs, qualifiers),
 * runtime identifiers, the shapes botocore parses (FunctionConfiguration,
 * errors), the log tail, and the event queue's process tokens. */
#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../fcgi-app/api_aws.c"

static const char *body_of(struct reply *rep)
{
	return rep->body.data != NULL ? rep->body.data : "";
}

static int ref(const char *uri, const char *param, char *name, struct reply *rep)
{
	struct request req;
	int rc;

	request_init(&req, "GET", uri, NULL);
	reply_init(rep);
	rc = fn_ref(&req, param, name, rep);
	request_free(&req);
	return rc;
}

static void test_fn_ref(void **state)
{
	static const char *const good[] = {
	    "f",
	    "f:$LATEST",
	    "arn:aws:lambda:us-east-1:000000000000:function:f",
	    "arn:aws:lambda:eu-west-1:000000000000:function:f:$LATEST",
	    "000000000000:function:f",
	};
	char name[FN_NAME_MAX + 1];
	struct reply rep;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (ref("/x", good[i], name, &rep) != 0)
			fail_msg("%s: %s", good[i], body_of(&rep));
		assert_string_equal(name, "f");
		reply_free(&rep);
	}
	assert_int_equal(ref("/x?Qualifier=%24LATEST", "f", name, &rep), 0);
	reply_free(&rep);
	/* versions and aliases do not exist here */
	assert_int_equal(ref("/x", "f:1", name, &rep), -1);
	assert_int_equal(rep.status, 404);
	assert_non_null(strstr(body_of(&rep), "Function not found"));
	reply_free(&rep);
	assert_int_equal(ref("/x?Qualifier=prod", "f", name, &rep), -1);
	assert_int_equal(rep.status, 404);
	reply_free(&rep);
	/* impossible names */
	assert_int_equal(ref("/x", "../etc", name, &rep), -1);
	assert_int_equal(rep.status, 400);
	assert_non_null(
	    strstr(rep.headers.data, "X-Amzn-ErrorType: InvalidParameterValueException"));
	reply_free(&rep);
	assert_int_equal(ref("/x", ":$LATEST", name, &rep), -1);
	assert_int_equal(rep.status, 400);
	reply_free(&rep);
	/* 64 characters is the longest name, 65 is refused */
	{
		char n64[66];
		memset(n64, 'a', 65);
		n64[64] = '\0';
		assert_int_equal(ref("/x", n64, name, &rep), 0);
		reply_free(&rep);
		n64[64] = 'a';
		n64[65] = '\0';
		assert_int_equal(ref("/x", n64, name, &rep), -1);
		assert_int_equal(rep.status, 400);
		reply_free(&rep);
	}
}

static void test_runtimes(void **state)
{
	(void)state;
	assert_string_equal(runtime_ours("python3.8"), "python");
	assert_string_equal(runtime_ours("python3.13"), "python");
	assert_string_equal(runtime_ours("nodejs16.x"), "javascript");
	assert_string_equal(runtime_ours("nodejs22.x"), "javascript");
	assert_null(runtime_ours("python2.7"));
	assert_null(runtime_ours("java21"));
	assert_null(runtime_ours("python"));
	assert_string_equal(runtime_default("python"), "python3.11");
	assert_string_equal(runtime_default("javascript"), "nodejs18.x");
}

static void test_config_shape(void **state)
{
	struct aws_fn f = {
	    .id = 7,
	    .name = (char *)"hello",
	    .runtime = (char *)"python",
	    .handler = (char *)"lambda_function.lambda_handler",
	    /* sha256 of the empty string */
	    .code_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    .code_size = 123,
	    .timeout_ms = 2500,
	    .memory_mb = 256,
	    .env = (char *)"{\"A\":\"b\"}",
	    .version = 3,
	    .updated_at = (char *)"2026-11-26T19:40:00.123Z",
	};
	cJSON *o = fn_config(&f);
	cJSON *env;
	char rev1[37], rev2[37];

	(void)state;
	assert_string_equal(cJSON_GetObjectItem(o, "FunctionArn")->valuestring,
	                    "arn:aws:lambda:us-east-1:000000000000:function:hello");
	assert_string_equal(cJSON_GetObjectItem(o, "CodeSha256")->valuestring,
	                    "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
	assert_string_equal(cJSON_GetObjectItem(o, "LastModified")->valuestring,
	                    "2026-11-26T19:40:00.123+0000");
	assert_string_equal(cJSON_GetObjectItem(o, "Runtime")->valuestring, "python3.11");
	assert_string_equal(cJSON_GetObjectItem(o, "Role")->valuestring, DEFAULT_ROLE);
	assert_int_equal(cJSON_GetObjectItem(o, "Timeout")->valueint, 3); /* 2.5 s rounds up */
	assert_int_equal(cJSON_GetObjectItem(o, "MemorySize")->valueint, 256);
	assert_string_equal(cJSON_GetObjectItem(o, "Version")->valuestring, "$LATEST");
	assert_string_equal(cJSON_GetObjectItem(o, "State")->valuestring, "Active");
	env = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "Environment"), "Variables");
	assert_string_equal(cJSON_GetObjectItem(env, "A")->valuestring, "b");
	cJSON_Delete(o);
	/* the RevisionId changes with the version */
	revision_id(&f, rev1);
	f.version = 4;
	revision_id(&f, rev2);
	assert_int_equal(strlen(rev1), 36);
	assert_string_not_equal(rev1, rev2);
	/* no variables: no Environment */
	f.env = (char *)"{}";
	f.aws_runtime = (char *)"python3.12";
	o = fn_config(&f);
	assert_null(cJSON_GetObjectItem(o, "Environment"));
	assert_string_equal(cJSON_GetObjectItem(o, "Runtime")->valuestring, "python3.12");
	cJSON_Delete(o);
}

static void test_errors(void **state)
{
	static const struct {
		int code, status;
		const char *type;
	} cases[] = {
	    {ERR_INVALID, 400, "InvalidParameterValueException"},
	    {ERR_NOT_FOUND, 404, "ResourceNotFoundException"},
	    {ERR_CONFLICT, 409, "ResourceConflictException"},
	    {ERR_TOO_LARGE, 413, "RequestTooLargeException"},
	    {ERR_TOO_MANY, 429, "TooManyRequestsException"},
	    {ERR_UNAVAILABLE, 503, "ServiceException"},
	    {ERR_INTERNAL, 500, "ServiceException"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct reply rep;
		struct err *e = NULL;
		cJSON *b;
		char want[128];

		reply_init(&rep);
		err_set(&e, cases[i].code, "why %zu", i);
		aws_fail(&rep, &e);
		assert_null(e);
		assert_int_equal(rep.status, cases[i].status);
		snprintf(want, sizeof(want), "X-Amzn-ErrorType: %s\r\n", cases[i].type);
		assert_non_null(strstr(rep.headers.data, want));
		b = cJSON_Parse(body_of(&rep));
		assert_string_equal(cJSON_GetObjectItem(b, "Type")->valuestring,
		                    cases[i].status >= 500 ? "Service" : "User");
		snprintf(want, sizeof(want), "why %zu", i);
		assert_string_equal(cJSON_GetObjectItem(b, "message")->valuestring, want);
		cJSON_Delete(b);
		reply_free(&rep);
	}
}

static void test_log_tail(void **state)
{
	cJSON *res = cJSON_Parse("{\"logs\":\"line 1\\nline 2\",\"duration_ms\":12.345,"
	                         "\"cold\":true,\"init_ms\":80.5,\"max_memory_bytes\":20971520}");
	char *txt = aws_log_text("rid-1", res, 128);

	(void)state;
	assert_string_equal(txt,
	                    "START RequestId: rid-1 Version: $LATEST\nline 1\nline 2\n"
	                    "END RequestId: rid-1\nREPORT RequestId: rid-1\tDuration: 12.35 ms\t"
	                    "Billed Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 20 MB"
	                    "\tInit Duration: 80.50 ms\t\n");
	free(txt);
	cJSON_Delete(res);
}

static void test_process_token(void **state)
{
	char tok[64], again[64];

	(void)state;
	assert_int_equal(event_queue_process_token((long)getpid(), tok, sizeof(tok)), 0);
	assert_int_equal(strtol(tok, NULL, 10), (long)getpid());
	assert_non_null(strchr(tok, ':'));
	/* the start time (field 22 of /proc/PID/stat), which no process has as 0 */
	assert_true(strtoull(strchr(tok, ':') + 1, NULL, 10) > 0);
	assert_int_equal(event_queue_process_token((long)getpid(), again, sizeof(again)), 0);
	assert_string_equal(tok, again); /* stable for the life of the process */
	assert_int_equal(event_queue_process_token(0x7ffffff0L, tok, sizeof(tok)), -1);
}

/* Attempt 1 is the id the client got; retries get ids derived from it
 * (vectors computed with Python's hashlib). */
static void test_attempt_request_id(void **state)
{
	static const char rid[] = "0f8fad5b-d9cb-469f-a165-70867728950e";
	char out[37];

	(void)state;
	event_attempt_request_id(rid, 1, out);
	assert_string_equal(out, rid);
	event_attempt_request_id(rid, 2, out);
	assert_string_equal(out, "e6afad94-2c2d-836c-8e14-eb7cde7fef8d");
	event_attempt_request_id(rid, 3, out);
	assert_string_equal(out, "41853056-6682-8ac9-a51b-7a215d5bad0f");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fn_ref),
	    cmocka_unit_test(test_runtimes),
	    cmocka_unit_test(test_config_shape),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_log_tail),
	    cmocka_unit_test(test_process_token),
	    cmocka_unit_test(test_attempt_request_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
