/* executor/config.c: the table, its bounds (pairs: just inside / just over),
 * unknown keys, the API's keys, the file format. */
#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "executor/config.h"

static void test_defaults(void **state)
{
	struct xconfig c;

	(void)state;
	xconfig_defaults(&c);
	assert_string_equal(c.docker_socket, "/var/run/docker.sock");
	assert_string_equal(c.image_python, "lambda-python:latest");
	assert_string_equal(c.image_node, "lambda-node:latest");
	assert_string_equal(c.runtime_docker, "runc");
	assert_string_equal(c.runtime_gvisor, "runsc-lambda");
	assert_null(c.seccomp_profile);
	assert_int_equal(c.pids_limit, 128);
	assert_int_equal(c.log_cap_bytes, 1048576);
	assert_int_equal(c.result_cap_bytes, 6291456);
	assert_int_equal(c.keepalive_s, 600);
	assert_int_equal(c.batch_wait_ms, 0);
	assert_int_equal(c.batch_wait_busy_ms, 5);
	assert_null(c.var_dir);
	xconfig_free(&c);
}

struct pair {
	const char *key, *inside, *over;
};

static void test_bounds_pairs(void **state)
{
	static const struct pair pairs[] = {
	    {"executor.pids_limit", "16", "15"},
	    {"executor.pids_limit", "65536", "65537"},
	    {"executor.log_cap_bytes", "1024", "1023"},
	    {"executor.log_cap_bytes", "8388608", "8388609"},
	    {"executor.result_cap_bytes", "8388608", "8388609"},
	    {"executor.keepalive_s", "1", "0"},
	    {"executor.queue_max", "0", "-1"},
	    {"executor.batch_max", "256", "257"},
	    {"executor.batch_wait_ms", "1000", "1001"},
	    {"executor.batch_wait_busy_ms", "1000", "1001"},
	    {"executor.batch_wait_busy_ms", "0", "-1"},
	    {"executor.max_starting", "1", "0"},
	    {"executor.max_starting", "64", "65"},
	    {"executor.max_containers", "1", "0"},
	    {"executor.cpus", "0.01", "0.009"},
	    {"executor.cpus", "64", "64.5"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		struct xconfig c;
		struct err *e = NULL;

		xconfig_defaults(&c);
		assert_int_equal(xconfig_set(&c, pairs[i].key, pairs[i].inside, &e), 0);
		assert_int_equal(xconfig_set(&c, pairs[i].key, pairs[i].over, &e), -1);
		assert_int_equal(e->code, ERR_INVALID);
		assert_non_null(strstr(e->msg, "out of bounds"));
		assert_non_null(strstr(e->msg, pairs[i].key));
		err_free(&e);
		xconfig_free(&c);
	}
}

static void test_bad_values_and_keys(void **state)
{
	struct xconfig c;
	struct err *e = NULL;

	(void)state;
	xconfig_defaults(&c);
	assert_int_equal(xconfig_set(&c, "executor.pids_limit", "12x", &e), -1);
	assert_string_equal(e->msg, "executor.pids_limit: expected an integer, got '12x'");
	err_free(&e);
	assert_int_equal(xconfig_set(&c, "executor.cpus", "nan", &e), -1);
	err_free(&e);
	assert_int_equal(xconfig_set(&c, "executor.nope", "1", &e), -1);
	assert_string_equal(e->msg, "unknown key 'executor.nope'");
	err_free(&e);
	assert_int_equal(xconfig_set(&c, "frobnicate", "1", &e), -1);
	err_free(&e);
	/* the API's keys are not ours: ignored, whatever their value */
	assert_int_equal(xconfig_set(&c, "api.threads", "not a number", &e), 0);
	assert_null(e);
	xconfig_free(&c);
}

static char *write_tmp(const char *text)
{
	char *path = strdup("/tmp/test_executor_config.XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_file(void **state)
{
	struct xconfig c;
	struct err *e = NULL;
	char *path = write_tmp("# comment\n\nvar_dir = /srv/lambda/var\ninstance = abc123\n"
	                       "  executor.pids_limit=256  \napi.db_name = lambda\n"
	                       "executor.cpus = 0.5\n");

	(void)state;
	xconfig_defaults(&c);
	assert_int_equal(xconfig_load(&c, path, &e), 0);
	assert_int_equal(xconfig_finish(&c, &e), 0);
	assert_int_equal(c.pids_limit, 256);
	assert_true(c.cpus > 0.49 && c.cpus < 0.51);
	assert_string_equal(c.executor_socket, "/srv/lambda/var/run/executor.sock");
	assert_string_equal(c.code_dir, "/srv/lambda/var/code");
	assert_string_equal(c.seccomp_profile, "/srv/lambda/var/run/seccomp.json");
	xconfig_free(&c);
	unlink(path);
	free(path);

	path = write_tmp("var_dir = /v\nthis line has no equals sign\n");
	xconfig_defaults(&c);
	assert_int_equal(xconfig_load(&c, path, &e), -1);
	assert_non_null(strstr(e->msg, ": line 2: expected 'key = value'"));
	err_free(&e);
	xconfig_free(&c);
	unlink(path);
	free(path);
}

static void test_finish_checks(void **state)
{
	struct xconfig c;
	struct err *e = NULL;

	(void)state;
	xconfig_defaults(&c);
	assert_int_equal(xconfig_finish(&c, &e), -1);
	assert_string_equal(e->msg, "var_dir must be set to an absolute path");
	err_free(&e);
	assert_int_equal(xconfig_set(&c, "var_dir", "/v", &e), 0);
	assert_int_equal(xconfig_finish(&c, &e), -1);
	assert_string_equal(e->msg, "instance must be set");
	err_free(&e);
	assert_int_equal(xconfig_set(&c, "instance", "a b", &e), 0);
	assert_int_equal(xconfig_finish(&c, &e), -1);
	err_free(&e);
	assert_int_equal(xconfig_set(&c, "instance", "0123abcd", &e), 0);
	assert_int_equal(xconfig_set(&c, "log_level", "loud", &e), 0);
	assert_int_equal(xconfig_finish(&c, &e), -1);
	assert_non_null(strstr(e->msg, "log_level"));
	err_free(&e);
	assert_int_equal(xconfig_set(&c, "log_level", "debug", &e), 0);
	assert_int_equal(xconfig_finish(&c, &e), 0);
	xconfig_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_bounds_pairs),
	    cmocka_unit_test(test_bad_values_and_keys),
	    cmocka_unit_test(test_file),
	    cmocka_unit_test(test_finish_checks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
