/* The configuration table: defaults, bounds pairs, unknown keys, the other
 * program's prefix, derived paths. */
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

#include "conf.h"
#include "log.h"

static void test_defaults(void **state)
{
	struct config c;
	struct err *e = NULL;

	(void)state;
	assert_int_equal(config_parse(&c, "", "/srv/var", &e), 0);
	assert_string_equal(c.var_dir, "/srv/var");
	assert_string_equal(c.code_dir, "/srv/var/code");
	assert_string_equal(c.journal_dir, "/srv/var/journal");
	assert_string_equal(c.executor_socket, "/srv/var/run/executor.sock");
	assert_string_equal(c.db_socket, "/srv/var/run/mysql.sock");
	assert_string_equal(c.master_key, "/srv/var/master.key");
	assert_string_equal(c.db_name, "lambda");
	assert_int_equal(c.threads, 16);
	assert_int_equal(c.log_level, LOG_LVL_INFO);
	assert_int_equal(c.journal_flush_ms, 50);
	assert_int_equal(strlen(c.instance), 12);
	assert_int_equal(strspn(c.instance, "0123456789abcdef"), 12);
	config_free(&c);
}

static void test_values_and_prefixes(void **state)
{
	struct config c;
	struct err *e = NULL;
	const char *text = "# comment\n"
	                   "var_dir = /v\n"
	                   "  log_level = debug  \n"
	                   "\n"
	                   "api.threads = 4\r\n"
	                   "api.db_password = p=q # not a comment\n"
	                   "executor.anything = whatever\n"
	                   "code_dir = /elsewhere\n";

	(void)state;
	assert_int_equal(config_parse(&c, text, "/ignored", &e), 0);
	assert_string_equal(c.var_dir, "/v");
	assert_int_equal(c.log_level, LOG_LVL_DEBUG);
	assert_int_equal(c.threads, 4);
	assert_string_equal(c.db_password, "p=q # not a comment");
	assert_string_equal(c.code_dir, "/elsewhere");
	assert_string_equal(c.journal_dir, "/v/journal");
	config_free(&c);
}

static void expect_error(const char *text, const char *msg)
{
	struct config c;
	struct err *e = NULL;

	assert_int_equal(config_parse(&c, text, "/v", &e), -1);
	if (strcmp(e->msg, msg) != 0)
		fail_msg("got '%s', want '%s'", e->msg, msg);
	err_free(&e);
}

static void test_errors_and_bounds(void **state)
{
	struct config c;
	struct err *e = NULL;

	(void)state;
	expect_error("nonsense = 1\n", "line 1: unknown key 'nonsense'");
	expect_error("\napi.nope = 1\n", "line 2: unknown key 'api.nope'");
	expect_error("just words\n", "line 1: expected 'key = value'");
	expect_error("log_level = loud\n",
	             "line 1: log_level: expected error|warn|info|debug, got 'loud'");
	expect_error("api.threads = x\n", "line 1: api.threads: expected an integer, got 'x'");
	expect_error("api.threads = 0\n", "line 1: api.threads: 0 is out of bounds [1, 256]");
	expect_error("api.threads = 257\n", "line 1: api.threads: 257 is out of bounds [1, 256]");
	expect_error("api.journal_flush_ms = 51\n",
	             "line 1: api.journal_flush_ms: 51 is out of bounds [1, 50]");
	expect_error("var_dir = relative\n", "var_dir: must be an absolute path, got 'relative'");
	expect_error("api.key_cache_ms = -1\n",
	             "line 1: api.key_cache_ms: -1 is out of bounds [0, 60000]");
	expect_error("api.key_cache_ms = 60001\n",
	             "line 1: api.key_cache_ms: 60001 is out of bounds [0, 60000]");
	assert_int_equal(config_parse(&c, "api.key_cache_ms = 60000\n", "/v", &e), 0);
	assert_int_equal(c.key_cache_ms, 60000);
	assert_string_equal(c.key_cache_file, "/v/run/api-keys.gen");
	assert_int_equal(c.fn_cache_ms, 1000);
	assert_string_equal(c.fn_cache_file, "/v/run/functions.gen");
	config_free(&c);
	expect_error("api.fn_cache_ms = -1\n",
	             "line 1: api.fn_cache_ms: -1 is out of bounds [0, 60000]");
	expect_error("api.fn_cache_ms = 60001\n",
	             "line 1: api.fn_cache_ms: 60001 is out of bounds [0, 60000]");
	assert_int_equal(config_parse(&c, "api.key_cache_ms = 0\n", "/v", &e), 0);
	assert_int_equal(c.key_cache_ms, 0);
	config_free(&c);
	assert_int_equal(config_parse(&c, "api.threads = 1\n", "/v", &e), 0);
	assert_int_equal(c.threads, 1);
	config_free(&c);
	assert_int_equal(config_parse(&c, "api.threads = 256\n", "/v", &e), 0);
	assert_int_equal(c.threads, 256);
	config_free(&c);
	/* the keys of issue 7's writes and retries, each as a pair */
	expect_error("api.db_bulk_timeout_s = 3601\n",
	             "line 1: api.db_bulk_timeout_s: 3601 is out of bounds [1, 3600]");
	expect_error("api.event_max_attempts = 4\n",
	             "line 1: api.event_max_attempts: 4 is out of bounds [1, 3]");
	expect_error("api.event_max_attempts = 0\n",
	             "line 1: api.event_max_attempts: 0 is out of bounds [1, 3]");
	expect_error("api.event_retry_delay_ms = 3600001\n",
	             "line 1: api.event_retry_delay_ms: 3600001 is out of bounds [0, 3600000]");
	assert_int_equal(config_parse(&c, "", "/v", &e), 0);
	assert_int_equal(c.db_bulk_timeout_s, 60);
	assert_int_equal(c.event_max_attempts, 3);
	assert_int_equal(c.event_retry_delay_ms, 1000);
	config_free(&c);
	assert_int_equal(config_parse(&c,
	                              "api.db_bulk_timeout_s = 3600\napi.event_max_attempts = 1\n"
	                              "api.event_retry_delay_ms = 3600000\n",
	                              "/v", &e),
	                 0);
	assert_int_equal(c.db_bulk_timeout_s, 3600);
	assert_int_equal(c.event_max_attempts, 1);
	assert_int_equal(c.event_retry_delay_ms, 3600000);
	config_free(&c);
}

static void test_table_sane(void **state)
{
	(void)state;
	for (size_t i = 0; i < config_table_len; i++) {
		const struct conf_entry *ce = &config_table[i];
		assert_non_null(ce->name);
		if (ce->type == CONF_INT || ce->type == CONF_LONG) {
			assert_non_null(ce->def);
			assert_true(ce->min <= ce->max);
			assert_true((double)strtoll(ce->def, NULL, 10) >= ce->min);
			assert_true((double)strtoll(ce->def, NULL, 10) <= ce->max);
		}
		for (size_t j = i + 1; j < config_table_len; j++)
			assert_string_not_equal(ce->name, config_table[j].name);
	}
}

static void test_load_file(void **state)
{
	char dir[] = "/tmp/test_config_XXXXXX", path[64];
	struct config c;
	struct err *e = NULL;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/lambda.conf", dir);
	f = fopen(path, "w");
	fputs("api.threads = 3\n", f);
	fclose(f);
	assert_int_equal(config_load(&c, path, &e), 0);
	assert_int_equal(c.threads, 3);
	assert_string_equal(c.var_dir, dir); /* default: the file's directory */
	config_free(&c);
	setenv("LAMBDA_CONF", path, 1);
	assert_int_equal(config_load(&c, NULL, &e), 0);
	config_free(&c);
	unlink(path);
	assert_int_equal(config_load(&c, path, &e), -1);
	err_free(&e);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),          cmocka_unit_test(test_values_and_prefixes),
	    cmocka_unit_test(test_errors_and_bounds), cmocka_unit_test(test_table_sane),
	    cmocka_unit_test(test_load_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
