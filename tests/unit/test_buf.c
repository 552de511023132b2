#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"

static void test_limit_pair(void **state)
{
	struct buf b;
	struct err *e = NULL;

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(buf_append(&b, "12345678", 8, &e), 0); /* just inside */
	assert_int_equal(b.len, 8);
	assert_int_equal(buf_append(&b, "9", 1, &e), -1); /* just over */
	assert_int_equal(e->code, ERR_TOO_LARGE);
	assert_string_equal(b.data, "12345678"); /* kept what it had */
	err_free(&e);
	buf_free(&b);
}

static void test_trunc_and_take(void **state)
{
	struct buf b;
	char *s;

	(void)state;
	buf_init(&b, 5);
	assert_int_equal(buf_append_trunc(&b, "abc", 3), 0);
	assert_int_equal(buf_append_trunc(&b, "defg", 4), 2);
	s = buf_take(&b);
	assert_string_equal(s, "abcde");
	assert_null(b.data);
	free(s);
	s = buf_take(&b);
	assert_string_equal(s, "");
	free(s);
}

static void test_appendf_grows(void **state)
{
	struct buf b;
	struct err *e = NULL;

	(void)state;
	buf_init(&b, 1 << 20);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(buf_appendf(&b, &e, "%04d", i), 0);
	assert_int_equal(b.len, 4000);
	assert_memory_equal(b.data + 3996, "0999", 4);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_limit_pair),
	    cmocka_unit_test(test_trunc_and_take),
	    cmocka_unit_test(test_appendf_grows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
