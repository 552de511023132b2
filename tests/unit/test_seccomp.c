/* executor/seccomp.c: the profile file is checked at start; the size limit
 * in a pair (just inside loads, just over fails with a fixed message). */
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

#include "seccomp.h"

#define GOOD                                                                                       \
	"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [\n"                                \
	"  {\"names\": [\"read\", \"write\"], \"action\": \"SCMP_ACT_ALLOW\"}]}"

static char tmpl[] = "/tmp/test_seccomp.XXXXXX";
static char *dir;

static char *write_file(const char *name, const char *data, size_t len)
{
	char *path = NULL;
	FILE *f;

	assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
	return path;
}

/* Loads text from a file; returns the error message (or NULL on success). */
static char *load_text(const char *text, char **json)
{
	struct err *e = NULL;
	char *path = write_file("p.json", text, strlen(text)), *msg = NULL;

	*json = NULL;
	if (seccomp_profile_load(path, json, &e) < 0) {
		assert_null(*json);
		msg = strdup(strstr(e->msg, "p.json") + strlen("p.json: "));
		err_free(&e);
	}
	free(path);
	return msg;
}

static void test_good_profile_is_compacted(void **state)
{
	char *json, *msg = load_text(GOOD, &json);

	(void)state;
	assert_null(msg);
	assert_string_equal(json, "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":"
	                          "[\"read\",\"write\"],\"action\":\"SCMP_ACT_ALLOW\"}]}");
	free(json);
}

static void expect_error(const char *text, const char *want)
{
	char *json, *msg = load_text(text, &json);

	assert_non_null(msg);
	assert_string_equal(msg, want);
	free(msg);
}

static void test_bad_profiles(void **state)
{
	(void)state;
	expect_error("{\"defaultAction\": ", "not valid JSON");
	expect_error("[1, 2]", "not a JSON object");
	expect_error("{\"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\"}]}",
	             "no string \"defaultAction\"");
	expect_error("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
	             "[\"ptrace\"], \"action\": \"SCMP_ACT_ERRNO\"}]}",
	             "defaultAction SCMP_ACT_ALLOW: the profile must deny what it does not list");
	expect_error("{\"defaultAction\": \"SCMP_ACT_ERRNO\"}", "no non-empty \"syscalls\" array");
	expect_error("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": []}",
	             "no non-empty \"syscalls\" array");
	expect_error("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [3]}",
	             "syscalls[0] is not an object");
	expect_error(
	    "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": "
	    "[\"read\"], \"action\": \"SCMP_ACT_ALLOW\"}, {\"action\": \"SCMP_ACT_ALLOW\"}]}",
	    "syscalls[1] has no \"names\" array");
	expect_error("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": "
	             "[\"read\", 7], \"action\": \"SCMP_ACT_ALLOW\"}]}",
	             "syscalls[0]: names must be non-empty strings");
	expect_error("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": "
	             "[\"read\"]}]}",
	             "syscalls[0] has no string \"action\"");
}

/* GOOD padded with spaces to n bytes. */
static char *padded(size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	assert_true(n >= strlen(GOOD));
	memset(s, ' ', n);
	memcpy(s, GOOD, strlen(GOOD));
	s[n] = '\0';
	return s;
}

static void test_size_limit_pair(void **state)
{
	char *inside = padded(SECCOMP_PROFILE_MAX), *over = padded(SECCOMP_PROFILE_MAX + 1);
	char *json, *msg;
	char want[64];

	(void)state;
	msg = load_text(inside, &json);
	assert_null(msg);
	assert_non_null(json);
	free(json);
	snprintf(want, sizeof(want), "larger than %u bytes", SECCOMP_PROFILE_MAX);
	expect_error(over, want);
	free(inside);
	free(over);
}

static void test_missing_and_not_regular(void **state)
{
	struct err *e = NULL;
	char *json = NULL;

	(void)state;
	assert_int_equal(seccomp_profile_load("/nonexistent/seccomp.json", &json, &e), -1);
	assert_int_equal(e->code, ERR_INVALID);
	assert_non_null(strstr(e->msg, "/nonexistent/seccomp.json"));
	assert_non_null(strstr(e->msg, "No such file"));
	err_free(&e);
	assert_int_equal(seccomp_profile_load(dir, &json, &e), -1);
	assert_non_null(strstr(e->msg, "not a regular file"));
	err_free(&e);
	assert_null(json);
}

static int setup(void **state)
{
	(void)state;
	dir = mkdtemp(tmpl);
	return dir == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	char *path = NULL;

	(void)state;
	if (asprintf(&path, "%s/p.json", dir) > 0)
		unlink(path);
	free(path);
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_profile_is_compacted),
	    cmocka_unit_test(test_bad_profiles),
	    cmocka_unit_test(test_size_limit_pair),
	    cmocka_unit_test(test_missing_and_not_regular),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
