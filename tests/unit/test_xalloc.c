/* common/xalloc.c: xalloc_trim hands free pages inside the heap back;
 * xalloc_tcache_off executes the program again with the tunable set;
 * xalloc_arenas caps glibc's arenas, and skips the cap under ASan. */
#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "xalloc.h"

#define BLOCKS 256
#define BLOCK  (64 * 1024) /* under glibc's mmap threshold: from the heap */

/* Holes of 7 x 64 KiB between kept blocks: free pages that only a trim of
 * the whole arena (not of its top) can return. */
static void test_trim_releases_holes(void **state)
{
	static char *blocks[BLOCKS];

	(void)state;
	for (int i = 0; i < BLOCKS; i++) {
		blocks[i] = xmalloc(BLOCK);
		memset(blocks[i], i, BLOCK);
	}
	for (int i = 0; i < BLOCKS; i++)
		if (i % 8 != 0) {
			free(blocks[i]);
			blocks[i] = NULL;
		}
#if defined(HAVE_MALLOC_TRIM) && !defined(__SANITIZE_ADDRESS__)
	assert_int_equal(xalloc_trim(), 1);
#else
	/* ASan's allocator (malloc_trim does not manage it) or no malloc_trim:
	 * only harmless, and the kept blocks intact */
	assert_int_equal(xalloc_trim(), 0);
#endif
	for (int i = 0; i < BLOCKS; i += 8) {
		assert_int_equal((unsigned char)blocks[i][BLOCK - 1], (unsigned char)i);
		free(blocks[i]);
	}
}

#define PRINT_ENV "--print-tunables"

/* In a child whose stdout is a pipe: GLIBC_TUNABLES set to env (NULL:
 * unset), then xalloc_tcache_off with argv {self, PRINT_ENV}.  Returns
 * what the child printed: "exec:<tunables>" from the program executed
 * again (main below), or "returned" when the call came back. */
static char *tcache_off_in_child(const char *env)
{
	static char out[512];
	int fd[2], st;
	ssize_t n, got = 0;
	pid_t pid;

	assert_int_equal(pipe(fd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *argv[] = {(char *)"test_xalloc", (char *)PRINT_ENV, NULL};
		dup2(fd[1], 1);
		if (env != NULL)
			setenv("GLIBC_TUNABLES", env, 1);
		else
			unsetenv("GLIBC_TUNABLES");
		xalloc_tcache_off(argv);
		fputs("returned", stdout);
		fflush(stdout);
		_exit(0);
	}
	close(fd[1]);
	while ((n = read(fd[0], out + got, sizeof(out) - 1 - (size_t)got)) > 0)
		got += n;
	out[got] = '\0';
	close(fd[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	return out;
}

static void test_tcache_off(void **state)
{
	(void)state;
	assert_string_equal(tcache_off_in_child(NULL), "exec:glibc.malloc.tcache_count=0");
	assert_string_equal(tcache_off_in_child(""), "exec:glibc.malloc.tcache_count=0");
	/* the caller's other tunables are kept */
	assert_string_equal(tcache_off_in_child("glibc.malloc.arena_max=2"),
	                    "exec:glibc.malloc.arena_max=2:glibc.malloc.tcache_count=0");
	/* already chosen (by the caller, or by the first run): no exec */
	assert_string_equal(tcache_off_in_child("glibc.malloc.tcache_count=3"), "returned");
}

/* glibc takes the cap (0); under ASan (the --enable-sanitizers build) its
 * allocator has no arenas, and the cap is skipped (1), not failed (-1),
 * so that the daemons warn about nothing there. */
static void test_arenas(void **state)
{
	(void)state;
#if defined(__SANITIZE_ADDRESS__)
	assert_int_equal(xalloc_arenas(2), 1);
#elif defined(HAVE_MALLOPT) && defined(HAVE_MALLOC_H)
	assert_int_equal(xalloc_arenas(2), 0);
#else
	assert_int_equal(xalloc_arenas(2), -1);
#endif
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_trim_releases_holes),
	    cmocka_unit_test(test_tcache_off),
	    cmocka_unit_test(test_arenas),
	};

	if (argc == 2 && strcmp(argv[1], PRINT_ENV) == 0) { /* executed again */
		const char *t = getenv("GLIBC_TUNABLES");
		printf("exec:%s", t != NULL ? t : "(unset)");
		return 0;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
