/* The invocation journal: one line per record, parsing with torn lines,
 * the lock that tells live owners from dead ones; the record mapping. */
#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "invoke.h"
#include "journal.h"
#include "xalloc.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = xmalloc(1 << 20);

	assert_non_null(f);
	*len = fread(buf, 1, (1 << 20) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static void test_parse(void **state)
{
	const char *data = "{\"request_id\":\"a\",\"x\":1}\n"
	                   "not json\n"
	                   "\n"
	                   "{\"no_request_id\":1}\n"
	                   "[1]\n"
	                   "{\"request_id\":\"b\"}\n"
	                   "{\"request_id\":\"c\",\"torn";
	cJSON **recs;
	int n, bad;

	(void)state;
	journal_parse(data, strlen(data), &recs, &n, &bad);
	assert_int_equal(n, 2);
	assert_int_equal(bad, 4); /* not json, no id, array, torn tail */
	assert_string_equal(cJSON_GetObjectItem(recs[0], "request_id")->valuestring, "a");
	assert_string_equal(cJSON_GetObjectItem(recs[1], "request_id")->valuestring, "b");
	journal_recs_free(recs, n);
	journal_parse("", 0, &recs, &n, &bad);
	assert_int_equal(n + bad, 0);
	journal_recs_free(recs, n);
}

static void test_append_lines_and_locks(void **state)
{
	char dir[] = "/tmp/test_journal_XXXXXX", path[128], orphan[128];
	struct journal *j;
	struct err *e = NULL;
	cJSON *rec = cJSON_CreateObject();
	cJSON **recs;
	char *data;
	size_t len;
	int n, bad;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	j = journal_open(dir, &e);
	assert_non_null(j);
	cJSON_AddStringToObject(rec, "request_id", "r1");
	cJSON_AddStringToObject(rec, "logs", "line1\nline2\n");
	assert_int_equal(journal_append(j, cJSON_Duplicate(rec, 1), &e), 0);
	cJSON_ReplaceItemInObject(rec, "request_id", cJSON_CreateString("r2"));
	assert_int_equal(journal_append(j, cJSON_Duplicate(rec, 1), &e), 0);
	cJSON_Delete(rec);
	snprintf(path, sizeof(path), "%s/api-%d-a.jnl", dir, (int)getpid());
	data = slurp(path, &len);
	journal_parse(data, len, &recs, &n, &bad);
	assert_int_equal(n, 2);
	assert_int_equal(bad, 0);
	assert_string_equal(cJSON_GetObjectItem(recs[0], "logs")->valuestring, "line1\nline2\n");
	journal_recs_free(recs, n);
	free(data);

	/* a live owner's journal is not replayed (it is locked); a dead one's
	 * (unlocked, here empty) is removed */
	snprintf(orphan, sizeof(orphan), "%s/api-999999-a.jnl", dir);
	f = fopen(orphan, "w");
	fclose(f);
	assert_int_equal(journal_replay_orphans(dir, NULL, NULL, &e), 0);
	assert_int_equal(access(orphan, F_OK), -1);
	assert_int_equal(access(path, F_OK), 0); /* locked by j: kept */

	/* at close without a database the records stay for the next worker */
	journal_close(j, 0);
	assert_int_equal(access(path, F_OK), 0);
	unlink(path);
	snprintf(path, sizeof(path), "%s/api-%d-b.jnl", dir, (int)getpid());
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

/* A short write (disk full; here RLIMIT_FSIZE) fails the append and leaves no
 * torn line behind: the next record appended is whole and parses. */
static void test_short_write_leaves_no_torn_line(void **state)
{
	char dir[] = "/tmp/test_journal_XXXXXX", path[128];
	struct journal *j;
	struct err *e = NULL;
	cJSON *rec = cJSON_CreateObject();
	cJSON **recs;
	struct rlimit old, lim;
	char *data, big[300];
	size_t len;
	int n, bad;

	(void)state;
	assert_non_null(mkdtemp(dir));
	j = journal_open(dir, &e);
	assert_non_null(j);
	cJSON_AddStringToObject(rec, "request_id", "r1");
	assert_int_equal(journal_append(j, cJSON_Duplicate(rec, 1), &e), 0);
	snprintf(path, sizeof(path), "%s/api-%d-a.jnl", dir, (int)getpid());

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cJSON_AddStringToObject(rec, "logs", big);
	cJSON_ReplaceItemInObject(rec, "request_id", cJSON_CreateString("r2"));
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 100; /* r1 is ~20 bytes: r2 is cut short */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(journal_append(j, cJSON_Duplicate(rec, 1), &e), -1);
	assert_non_null(e);
	err_free(&e);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);

	cJSON_DeleteItemFromObject(rec, "logs");
	cJSON_ReplaceItemInObject(rec, "request_id", cJSON_CreateString("r3"));
	assert_int_equal(journal_append(j, cJSON_Duplicate(rec, 1), &e), 0);
	cJSON_Delete(rec);
	data = slurp(path, &len);
	journal_parse(data, len, &recs, &n, &bad);
	assert_int_equal(bad, 0);
	assert_int_equal(n, 2);
	assert_string_equal(cJSON_GetObjectItem(recs[0], "request_id")->valuestring, "r1");
	assert_string_equal(cJSON_GetObjectItem(recs[1], "request_id")->valuestring, "r3");
	journal_recs_free(recs, n);
	free(data);
	journal_close(j, 0);
	unlink(path);
	snprintf(path, sizeof(path), "%s/api-%d-b.jnl", dir, (int)getpid());
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

static void test_record_mapping(void **state)
{
	struct function fn;
	cJSON *res = cJSON_Parse(
	    "{\"status\":\"error\",\"error\":{\"errorMessage\":\"bad\\u0001\\n\","
	    "\"errorType\":\"Runtime.X\"},\"logs\":\"l\",\"logs_truncated\":true,"
	    "\"duration_ms\":1.5,\"init_ms\":2,\"cold\":true,\"cold_reason\":\"prewarmed\","
	    "\"isolation\":\"gvisor\",\"max_memory_bytes\":null,\"response_bytes\":3}");
	cJSON *r;

	(void)state;
	memset(&fn, 0, sizeof(fn));
	fn.id = 4;
	fn.name = "f";
	fn.version = 2;
	r = invoke_record(&fn, "rid", "api", "docker", "2026-01-01 00:00:00.000", 9.5, res);
	assert_string_equal(cJSON_GetObjectItem(r, "request_id")->valuestring, "rid");
	assert_int_equal(cJSON_GetObjectItem(r, "function_id")->valueint, 4);
	assert_int_equal(cJSON_GetObjectItem(r, "function_version")->valueint, 2);
	assert_string_equal(cJSON_GetObjectItem(r, "isolation")->valuestring, "gvisor");
	assert_string_equal(cJSON_GetObjectItem(r, "status")->valuestring, "error");
	assert_string_equal(cJSON_GetObjectItem(r, "error_type")->valuestring, "Runtime.X");
	assert_string_equal(cJSON_GetObjectItem(r, "error_message")->valuestring, "bad?\n");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r, "cold")));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r, "logs_truncated")));
	assert_null(cJSON_GetObjectItem(r, "max_memory_bytes"));
	assert_true(cJSON_GetObjectItem(r, "total_ms")->valuedouble == 9.5);
	cJSON_Delete(r);
	cJSON_Delete(res);
	/* no status at all: internal */
	res = cJSON_Parse("{}");
	r = invoke_record(&fn, "rid", "seed", "docker", "t", 0, res);
	assert_string_equal(cJSON_GetObjectItem(r, "status")->valuestring, "internal");
	assert_string_equal(cJSON_GetObjectItem(r, "isolation")->valuestring, "docker");
	cJSON_Delete(r);
	cJSON_Delete(res);
}

static void test_utf8_clean(void **state)
{
	char *s;

	(void)state;
	s = utf8_clean("abc\xff"
	               "d",
	               100);
	assert_string_equal(s, "abc?d");
	free(s);
	s = utf8_clean("\xc3\xa9\xc3\xa9", 3); /* cut on a boundary, not inside */
	assert_string_equal(s, "\xc3\xa9");
	free(s);
	s = utf8_clean("12345", 5);
	assert_string_equal(s, "12345");
	free(s);
	s = utf8_clean("123456", 5);
	assert_string_equal(s, "12345");
	free(s);
}

static void test_error_mapping(void **state)
{
	cJSON *p = cJSON_Parse("{\"code\":\"too_many_requests\",\"message\":\"full\","
	                       "\"retry_after\":3}");
	struct err *e = NULL;
	int ra = 0;

	(void)state;
	assert_int_equal(invoke_error_of(p, &ra, &e), -1);
	assert_int_equal(e->code, ERR_TOO_MANY);
	assert_int_equal(ra, 3);
	err_free(&e);
	cJSON_Delete(p);
	p = cJSON_Parse("{\"code\":\"docker_unavailable\",\"message\":\"executor unavailable: "
	                "docker engine not reachable\"}");
	assert_int_equal(invoke_error_of(p, &ra, &e), -1);
	assert_int_equal(e->code, ERR_UNAVAILABLE);
	assert_string_equal(e->msg, "executor unavailable: docker engine not reachable");
	err_free(&e);
	cJSON_Delete(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_append_lines_and_locks),
	    cmocka_unit_test(test_record_mapping),
	    cmocka_unit_test(test_utf8_clean),
	    cmocka_unit_test(test_error_mapping),
	    cmocka_unit_test(test_short_write_leaves_no_torn_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
