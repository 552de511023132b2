/* A fresh directory for each test, for the unit tests of code that makes
 * files (the caches' generation files): cmocka setup and teardown. */
#ifndef LAMBDA_TEST_TMPDIR_H
#define LAMBDA_TEST_TMPDIR_H

#define TMPDIR_FILE "table.gen"

/* The running test's directory, and TMPDIR_FILE in it (not created). */
extern char tmpdir_dir[64];
extern char tmpdir_path[96];

/* Makes a new /tmp/lambda-unit.XXXXXX: 0, or -1 (the test fails). */
int tmpdir_setup(void **state);
/* Removes the files in the directory and the directory: 0, or -1 when it
 * could not (a test left a subdirectory behind). */
int tmpdir_teardown(void **state);

/* A cmocka test run in its own fresh directory. */
#define TMPDIR_TEST(f) cmocka_unit_test_setup_teardown(f, tmpdir_setup, tmpdir_teardown)

#endif
