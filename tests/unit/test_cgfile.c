/* The cgroup file reader (executor/cgfile.c) on files shaped like the
 * kernel's: a whole-file number, a keyed file's field (not a longer key
 * that starts like it), a file rewritten under an open fd (read anew from
 * offset 0), and -1 for a missing file, an empty one, a missing field and
 * no fd. */
#include <config.h>

#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cgfile.h"
#include "tmpdir.h"

static void put_file(const char *text)
{
	FILE *f = fopen(tmpdir_path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void test_whole_file_number(void **state)
{
	(void)state;
	put_file("123456789012\n");
	assert_int_equal(cgfile_read_ll(tmpdir_path, NULL), 123456789012LL);
	put_file("0\n");
	assert_int_equal(cgfile_read_ll(tmpdir_path, NULL), 0);
	put_file("");
	assert_int_equal(cgfile_read_ll(tmpdir_path, NULL), -1); /* empty: nothing read */
	unlink(tmpdir_path);
	assert_int_equal(cgfile_read_ll(tmpdir_path, NULL), -1); /* the cgroup is gone */
	assert_int_equal(cgfile_pread_ll(-1, NULL), -1);
}

static void test_keyed_field(void **state)
{
	(void)state;
	/* memory.oom_control: oom_kill_disable comes first and must not match */
	put_file("oom_kill_disable 7\nunder_oom 0\noom_kill 3\n");
	assert_int_equal(cgfile_read_ll(tmpdir_path, "oom_kill "), 3);
	assert_int_equal(cgfile_read_ll(tmpdir_path, "under_oom "), 0);
	assert_int_equal(cgfile_read_ll(tmpdir_path, "oom_kill_disable "), 7);
	put_file("oom_kill_disable 0\nunder_oom 0\n"); /* an older kernel: no counter */
	assert_int_equal(cgfile_read_ll(tmpdir_path, "oom_kill "), -1);
}

static void test_open_fd_reads_anew(void **state)
{
	int fd;

	(void)state;
	put_file("oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
	fd = open(tmpdir_path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(cgfile_pread_ll(fd, "oom_kill "), 1);
	assert_int_equal(cgfile_pread_ll(fd, "oom_kill "), 1); /* from offset 0 again */
	put_file("oom_kill_disable 0\nunder_oom 0\noom_kill 12\n");
	assert_int_equal(cgfile_pread_ll(fd, "oom_kill "), 12);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TMPDIR_TEST(test_whole_file_number),
	    TMPDIR_TEST(test_keyed_field),
	    TMPDIR_TEST(test_open_fd_reads_anew),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
