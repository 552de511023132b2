/* common/xalloc.c: xalloc_trim hands free pages inside the heap back. */
#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_trim_releases_holes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
