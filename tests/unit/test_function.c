/* Validation of each function field (limit pairs), defaults, merge, JSON
 * mapping. */
#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "crypt.h"
#include "function.h"
#include "xalloc.h"

static const struct fn_limits lim = {64, 40, 64};

static int parse(const char *body, int upd, struct function *f, struct err **e)
{
	return function_parse(body, strlen(body), upd, &lim, f, e);
}

static void ok(const char *body)
{
	struct function f;
	struct err *e = NULL;

	if (parse(body, 0, &f, &e) != 0)
		fail_msg("expected success for %s, got %s", body, err_msg(e));
	function_free(&f);
}

static void bad(const char *body, int code, const char *msg)
{
	struct function f;
	struct err *e = NULL;

	memset(&f, 0x5a, sizeof(f));
	assert_int_equal(parse(body, 0, &f, &e), -1);
	assert_non_null(e);
	if (strcmp(e->msg, msg) != 0)
		fail_msg("for %s: got '%s', want '%s'", body, e->msg, msg);
	assert_int_equal(e->code, code);
	err_free(&e);
}

#define BASE     "\"runtime\":\"python\",\"code\":\"x\""
#define NAME_MSG "name: must match [A-Za-z0-9_-]{1,64} (1 to 64 letters, digits, '_' or '-')"

static void test_name(void **state)
{
	char body[256];

	(void)state;
	snprintf(body, sizeof(body), "{\"name\":\"%.64s\"," BASE "}",
	         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	ok(body); /* 64: just inside */
	snprintf(body, sizeof(body), "{\"name\":\"%.65s\"," BASE "}",
	         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	bad(body, ERR_INVALID, NAME_MSG); /* 65: just over */
	ok("{\"name\":\"A-z_9\"," BASE "}");
	bad("{\"name\":\"\"," BASE "}", ERR_INVALID, NAME_MSG);
	bad("{\"name\":\"../x\"," BASE "}", ERR_INVALID, NAME_MSG);
	bad("{\"name\":\"a/b\"," BASE "}", ERR_INVALID, NAME_MSG);
	bad("{\"name\":\"a b\"," BASE "}", ERR_INVALID, NAME_MSG);
	bad("{\"name\":\"caf\xc3\xa9\"," BASE "}", ERR_INVALID, NAME_MSG);
	bad("{\"name\":\"ab\\u0000cd\"," BASE "}", ERR_INVALID, NAME_MSG);
	bad("{\"name\":7," BASE "}", ERR_INVALID, "name: must be a string");
	bad("{" BASE "}", ERR_INVALID, "name: required");
	/* an escaped backslash before u0000 is not a NUL */
	ok("{\"name\":\"n\"," BASE ",\"route\":\"/\\\\u0000\"}");
	bad("{\"name\":\"n\"," BASE ",\"env\":{\"A\":\"x\\u0000\"}}", ERR_INVALID,
	    "strings must not contain NUL characters (\\u0000)");
}

static void test_json_shape(void **state)
{
	(void)state;
	bad("", ERR_INVALID, "malformed JSON in the request body");
	bad("{\"name\":", ERR_INVALID, "malformed JSON in the request body");
	bad("[]", ERR_INVALID, "the request body must be a JSON object");
	bad("\"x\"", ERR_INVALID, "the request body must be a JSON object");
	bad("null", ERR_INVALID, "the request body must be a JSON object");
}

static void test_runtime(void **state)
{
	(void)state;
	ok("{\"name\":\"n\",\"runtime\":\"javascript\",\"code\":\"x\"}");
	ok("{\"name\":\"n\",\"language\":\"python\"}");
	bad("{\"name\":\"n\",\"runtime\":\"cobol\",\"code\":\"x\"}", ERR_INVALID,
	    "runtime: unknown runtime; expected 'python' (python 3.11) or 'javascript' (node 18)");
	bad("{\"name\":\"n\",\"runtime\":\"python\",\"language\":\"javascript\",\"code\":\"x\"}",
	    ERR_INVALID, "language: must equal runtime when both are given");
	bad("{\"name\":\"n\",\"code\":\"x\"}", ERR_INVALID,
	    "runtime: required ('python' or 'javascript')");
}

static void test_timeout_memory_pairs(void **state)
{
	(void)state;
	ok("{\"name\":\"n\"," BASE ",\"timeout_ms\":100}");
	bad("{\"name\":\"n\"," BASE ",\"timeout_ms\":99}", ERR_INVALID,
	    "timeout_ms: must be an integer between 100 and 900000 ms");
	ok("{\"name\":\"n\"," BASE ",\"timeout_ms\":900000}");
	bad("{\"name\":\"n\"," BASE ",\"timeout_ms\":900001}", ERR_INVALID,
	    "timeout_ms: must be an integer between 100 and 900000 ms");
	bad("{\"name\":\"n\"," BASE ",\"timeout_ms\":1e400}", ERR_INVALID,
	    "timeout_ms: must be an integer between 100 and 900000 ms");
	ok("{\"name\":\"n\"," BASE ",\"timeout\":1}");
	bad("{\"name\":\"n\"," BASE ",\"timeout\":0}", ERR_INVALID,
	    "timeout: must be an integer between 1 and 900 seconds");
	ok("{\"name\":\"n\"," BASE ",\"timeout\":900}");
	bad("{\"name\":\"n\"," BASE ",\"timeout\":901}", ERR_INVALID,
	    "timeout: must be an integer between 1 and 900 seconds");
	bad("{\"name\":\"n\"," BASE ",\"timeout\":\"5\"}", ERR_INVALID,
	    "timeout: must be an integer between 1 and 900 seconds");
	bad("{\"name\":\"n\"," BASE ",\"timeout\":5,\"timeout_ms\":5000}", ERR_INVALID,
	    "timeout: give either timeout (seconds) or timeout_ms, not both");
	ok("{\"name\":\"n\"," BASE ",\"memory_mb\":64}");
	bad("{\"name\":\"n\"," BASE ",\"memory_mb\":63}", ERR_INVALID,
	    "memory_mb: must be an integer between 64 and 4096 MB");
	ok("{\"name\":\"n\"," BASE ",\"memory\":4096}");
	bad("{\"name\":\"n\"," BASE ",\"memory_mb\":4097}", ERR_INVALID,
	    "memory_mb: must be an integer between 64 and 4096 MB");
	ok("{\"name\":\"n\"," BASE ",\"concurrency\":1000}");
	bad("{\"name\":\"n\"," BASE ",\"concurrency\":1001}", ERR_INVALID,
	    "concurrency: must be an integer between 0 and 1000");
}

static void test_code_env_caps(void **state)
{
	char body[512];

	(void)state;
	/* lim: 64 bytes of code, 40 bytes of env JSON */
	snprintf(body, sizeof(body), "{\"name\":\"n\",\"runtime\":\"python\",\"code\":\"%064d\"}",
	         0);
	ok(body);
	snprintf(body, sizeof(body), "{\"name\":\"n\",\"runtime\":\"python\",\"code\":\"%065d\"}",
	         0);
	bad(body, ERR_TOO_LARGE, "code: exceeds 64 bytes");
	bad("{\"name\":\"n\",\"runtime\":\"python\"}", ERR_INVALID,
	    "code: required (source text in 'code' or a base64 zip in 'code_zip')");
	bad("{\"name\":\"n\"," BASE ",\"code_zip\":\"UEs=\"}", ERR_INVALID,
	    "code: give either code (text) or code_zip (base64), not both");
	/* the zip cap (64 here) applies to the decoded archive: 64 bytes is
	 * 88 base64 characters, 65 bytes 88 with one '=' less */
	{
		char *b64 = crypt_base64(
		    "0123456789012345678901234567890123456789012345678901234567890123", 64);
		char *b65 = crypt_base64(
		    "01234567890123456789012345678901234567890123456789012345678901234", 65);
		snprintf(body, sizeof(body),
		         "{\"name\":\"n\",\"runtime\":\"python\",\"code_zip\":\"%s\"}", b64);
		ok(body);
		snprintf(body, sizeof(body),
		         "{\"name\":\"n\",\"runtime\":\"python\",\"code_zip\":\"%s\"}", b65);
		bad(body, ERR_TOO_LARGE, "code_zip: decodes to 65 bytes, the limit is 64");
		free(b64);
		free(b65);
	}
	bad("{\"name\":\"n\",\"runtime\":\"python\",\"code_zip\":\"!!!!\"}", ERR_INVALID,
	    "code_zip: not base64: bad character at 0");
	/* {"A":"<32 x v>"} is 40 bytes */
	snprintf(body, sizeof(body), "{\"name\":\"n\"," BASE ",\"env\":{\"A\":\"%.*s\"}}", 32,
	         "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv");
	ok(body);
	snprintf(body, sizeof(body), "{\"name\":\"n\"," BASE ",\"env\":{\"A\":\"%.*s\"}}", 33,
	         "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv");
	bad(body, ERR_INVALID, "env: exceeds 40 bytes as JSON");
	bad("{\"name\":\"n\"," BASE ",\"env\":{\"A-B\":\"x\"}}", ERR_INVALID,
	    "env: names must match [A-Za-z_][A-Za-z0-9_]{0,127}");
	bad("{\"name\":\"n\"," BASE ",\"env\":{\"A\":1}}", ERR_INVALID,
	    "env: value of A must be a string");
	bad("{\"name\":\"n\"," BASE ",\"env\":{\"A\":\"\xff\"}}", ERR_INVALID,
	    "env: value of A must be valid UTF-8");
}

static void test_handler_route_isolation(void **state)
{
	(void)state;
	ok("{\"name\":\"n\"," BASE ",\"handler\":\"dir/mod.fn\"}");
	ok("{\"name\":\"n\"," BASE ",\"handler\":\"hello.py\"}");
	bad("{\"name\":\"n\"," BASE ",\"handler\":\"hello.js\"}", ERR_INVALID,
	    "handler: a python function's file must end in .py");
	bad("{\"name\":\"n\"," BASE ",\"handler\":\"../x.fn\"}", ERR_INVALID,
	    "handler: must look like 'module.function' or 'file.py' / 'file.js' ([A-Za-z0-9_-] "
	    "parts, '/' between directories), at most 128 characters");
	bad("{\"name\":\"n\"," BASE ",\"handler\":\"/abs.fn\"}", ERR_INVALID,
	    "handler: must look like 'module.function' or 'file.py' / 'file.js' ([A-Za-z0-9_-] "
	    "parts, '/' between directories), at most 128 characters");
	bad("{\"name\":\"n\"," BASE ",\"handler\":\"nodot\"}", ERR_INVALID,
	    "handler: must look like 'module.function' or 'file.py' / 'file.js' ([A-Za-z0-9_-] "
	    "parts, '/' between directories), at most 128 characters");
	ok("{\"name\":\"n\"," BASE ",\"route\":\"/x'OR'1'='1\"}");
	bad("{\"name\":\"n\"," BASE ",\"route\":\"x\"}", ERR_INVALID,
	    "route: must start with '/' and have 1 to 255 characters");
	bad("{\"name\":\"n\"," BASE ",\"route\":\"/a b\"}", ERR_INVALID,
	    "route: only printable ASCII without spaces");
	ok("{\"name\":\"n\"," BASE ",\"isolation\":\"gvisor\"}");
	bad("{\"name\":\"n\"," BASE ",\"isolation\":\"runc\"}", ERR_INVALID,
	    "isolation: must be 'docker' or 'gvisor'");
}

static void test_defaults_and_json(void **state)
{
	struct function f;
	struct err *e = NULL;
	cJSON *j;
	char *file;

	(void)state;
	assert_int_equal(parse("{\"name\":\"hello\",\"language\":\"python\",\"route\":\"/h\","
	                       "\"timeout\":5}",
	                       0, &f, &e),
	                 0);
	assert_string_equal(f.handler, "hello.py");
	assert_string_equal(f.style, "seed");
	assert_int_equal(f.timeout_ms, 5000);
	assert_int_equal(f.memory_mb, 128);
	assert_string_equal(f.isolation, "docker");
	assert_int_equal(f.code_len, 0);
	/* sha256 of "" */
	assert_string_equal(f.code_sha256,
	                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	file = function_code_file(&f);
	assert_string_equal(file, "hello.py");
	free(file);
	f.id = 7;
	j = function_to_json(&f, 0);
	assert_int_equal(cJSON_GetObjectItem(j, "id")->valueint, 7);
	assert_string_equal(cJSON_GetObjectItem(j, "language")->valuestring, "python");
	assert_string_equal(cJSON_GetObjectItem(j, "route")->valuestring, "/h");
	assert_int_equal(cJSON_GetObjectItem(j, "timeout")->valueint, 5);
	assert_null(cJSON_GetObjectItem(j, "code"));
	cJSON_Delete(j);
	function_free(&f);

	assert_int_equal(
	    parse("{\"name\":\"n\",\"runtime\":\"javascript\",\"code\":\"c\"}", 0, &f, &e), 0);
	assert_string_equal(f.handler, "index.handler");
	file = function_code_file(&f);
	assert_string_equal(file, "index.js");
	free(file);
	j = function_to_json(&f, 1);
	assert_string_equal(cJSON_GetObjectItem(j, "route")->valuestring, "/fn/n");
	assert_string_equal(cJSON_GetObjectItem(j, "code")->valuestring, "c");
	cJSON_Delete(j);
	function_free(&f);
}

static void test_update_merge(void **state)
{
	struct function f, u;
	struct err *e = NULL;
	char *file;

	(void)state;
	assert_int_equal(parse("{\"name\":\"n\",\"runtime\":\"python\",\"code\":\"a\","
	                       "\"handler\":\"pkg/m.h\"}",
	                       0, &f, &e),
	                 0);
	assert_int_equal(parse("{}", 1, &u, &e), -1);
	assert_string_equal(e->msg, "nothing to update: give at least one field");
	err_free(&e);
	assert_int_equal(parse("{\"runtime\":\"javascript\",\"code\":\"b\"}", 1, &u, &e), 0);
	assert_int_equal(u.given, FN_F_RUNTIME | FN_F_CODE);
	assert_int_equal(function_merge(&f, &u, &e), 0);
	assert_string_equal(f.runtime, "javascript");
	assert_string_equal(f.code, "b");
	assert_string_equal(f.name, "n"); /* untouched */
	file = function_code_file(&f);
	assert_string_equal(file, "pkg/m.js");
	free(file);
	function_free(&u);
	assert_int_equal(parse("{\"handler\":\"x.py\"}", 1, &u, &e), 0);
	assert_int_equal(function_merge(&f, &u, &e), -1);
	assert_string_equal(e->msg, "handler: a javascript function's file must end in .js");
	err_free(&e);
	function_free(&u);
	function_free(&f);
}

static void test_utf8(void **state)
{
	(void)state;
	assert_true(utf8_valid("abc", 3));
	assert_true(utf8_valid("\xc3\xa9", 2));
	assert_true(utf8_valid("\xf0\x9f\x98\x80", 4));
	assert_false(utf8_valid("\xc3", 1));
	assert_false(utf8_valid("\xc0\xaf", 2));     /* overlong */
	assert_false(utf8_valid("\xed\xa0\x80", 3)); /* surrogate */
	assert_false(utf8_valid("a\0b", 3));
	assert_false(utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_name),
	    cmocka_unit_test(test_json_shape),
	    cmocka_unit_test(test_runtime),
	    cmocka_unit_test(test_timeout_memory_pairs),
	    cmocka_unit_test(test_code_env_caps),
	    cmocka_unit_test(test_handler_route_isolation),
	    cmocka_unit_test(test_defaults_and_json),
	    cmocka_unit_test(test_update_merge),
	    cmocka_unit_test(test_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
