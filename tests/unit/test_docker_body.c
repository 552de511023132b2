/* executor/docker.c: the create request carries every limit. */
#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <cJSON.h>

#include "docker.h"

static const cJSON *get(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	assert_non_null(v);
	return v;
}

static void test_create_body_limits(void **state)
{
	struct docker_spec s = {
	    .image = "lambda-python:latest",
	    .runtime = "runsc",
	    .instance = "abc",
	    .function_id = 42,
	    .version = 7,
	    .code_dir = "/var/x/code/ff",
	    .memory_bytes = 128LL << 20,
	    .nano_cpus = 500000000,
	    .pids_limit = 128,
	    .tmp_size_mb = 64,
	    .seccomp_json = "{\"defaultAction\":\"SCMP_ACT_ERRNO\"}",
	};
	cJSON *b = docker_create_body(&s);
	const cJSON *h = get(b, "HostConfig"), *l = get(b, "Labels"), *u;

	(void)state;
	assert_string_equal(get(b, "Image")->valuestring, "lambda-python:latest");
	assert_string_equal(get(b, "User")->valuestring, "1000:1000");
	assert_true(cJSON_IsTrue(get(b, "OpenStdin")));
	assert_true(cJSON_IsFalse(get(b, "Tty")));
	assert_true(cJSON_IsTrue(get(b, "NetworkDisabled")));
	assert_string_equal(get(l, "lambda.instance")->valuestring, "abc");
	assert_string_equal(get(l, "lambda.function")->valuestring, "42");
	assert_string_equal(get(l, "lambda.version")->valuestring, "7");
	assert_string_equal(get(h, "Runtime")->valuestring, "runsc");
	assert_string_equal(get(h, "NetworkMode")->valuestring, "none");
	assert_true(get(h, "Memory")->valuedouble == 134217728.0);
	assert_true(get(h, "MemorySwap")->valuedouble == 134217728.0);
	assert_true(get(h, "NanoCpus")->valuedouble == 500000000.0);
	assert_int_equal(get(h, "PidsLimit")->valueint, 128);
	u = cJSON_GetArrayItem(get(h, "Ulimits"), 0);
	assert_string_equal(get(u, "Name")->valuestring, "nofile");
	assert_int_equal(get(u, "Soft")->valueint, 1024);
	assert_int_equal(get(u, "Hard")->valueint, 1024);
	assert_true(cJSON_IsTrue(get(h, "ReadonlyRootfs")));
	assert_string_equal(get(get(h, "Tmpfs"), "/tmp")->valuestring,
	                    "rw,nosuid,nodev,noexec,size=64m");
	assert_string_equal(cJSON_GetArrayItem(get(h, "CapDrop"), 0)->valuestring, "ALL");
	assert_int_equal(cJSON_GetArraySize(get(h, "SecurityOpt")), 2);
	assert_string_equal(cJSON_GetArrayItem(get(h, "SecurityOpt"), 0)->valuestring,
	                    "no-new-privileges");
	/* the profile's content, not a path: the Engine API reads no file */
	assert_string_equal(cJSON_GetArrayItem(get(h, "SecurityOpt"), 1)->valuestring,
	                    "seccomp={\"defaultAction\":\"SCMP_ACT_ERRNO\"}");
	assert_string_equal(cJSON_GetArrayItem(get(h, "Binds"), 0)->valuestring,
	                    "/var/x/code/ff:/var/task:ro");
	assert_string_equal(get(get(h, "LogConfig"), "Type")->valuestring, "none");
	cJSON_Delete(b);
}

static void test_generic_has_no_bind(void **state)
{
	struct docker_spec s = {
	    .image = "i",
	    .runtime = "runc",
	    .instance = "abc",
	    .function_id = 0,
	    .memory_bytes = 1,
	    .nano_cpus = 1,
	    .pids_limit = 128,
	    .tmp_size_mb = 1,
	};
	cJSON *b = docker_create_body(&s);

	(void)state;
	assert_null(cJSON_GetObjectItemCaseSensitive(get(b, "HostConfig"), "Binds"));
	/* no profile given: no seccomp= option (Docker's default applies) */
	assert_int_equal(cJSON_GetArraySize(get(get(b, "HostConfig"), "SecurityOpt")), 1);
	assert_string_equal(get(get(b, "Labels"), "lambda.function")->valuestring, "0");
	cJSON_Delete(b);
}

static void test_unreachable_engine(void **state)
{
	struct err *e = NULL;
	long st;

	(void)state;
	docker_global_init("/nonexistent/docker.sock");
	assert_int_equal(docker_request("GET", "/info", NULL, &st, NULL, &e), -1);
	assert_int_equal(e->code, ERR_UNAVAILABLE);
	err_free(&e);
	assert_int_equal(docker_ping(&e), -1);
	assert_int_equal(e->code, ERR_UNAVAILABLE);
	err_free(&e);
	docker_global_cleanup();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_body_limits),
	    cmocka_unit_test(test_generic_has_no_bind),
	    cmocka_unit_test(test_unreachable_engine),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
