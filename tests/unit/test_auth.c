/* API keys: generation, format, hashing, constant-time compare, the master
 * key file; the crypt helpers they use. */
#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "auth.h"
#include "crypt.h"

static const uint8_t master[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                   17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

static void test_new_key_shape(void **state)
{
	char akid[AUTH_AKID_LEN + 1], key[AUTH_KEY_LEN + 1], hash[65], parsed[AUTH_AKID_LEN + 1];
	char secret[AUTH_SECRET_LEN + 1], want[65];
	struct err *e = NULL;

	(void)state;
	assert_int_equal(auth_key_new(master, akid, key, hash, &e), 0);
	assert_int_equal(strlen(akid), 20);
	assert_memory_equal(akid, "LK", 2);
	assert_int_equal(strspn(akid + 2, "0123456789ABCDEF"), 18);
	assert_int_equal(strlen(key), AUTH_KEY_LEN);
	assert_int_equal(key[20], '.');
	auth_secret(master, akid, secret);
	assert_string_equal(key + 21, secret);
	crypt_sha256_hex(key, strlen(key), want);
	assert_string_equal(hash, want);
	assert_int_equal(auth_key_parse(key, parsed), 0);
	assert_string_equal(parsed, akid);
}

static void test_secret_is_hmac(void **state)
{
	char secret[AUTH_SECRET_LEN + 1];

	(void)state;
	/* base64url(HMAC-SHA256(master, "LK000000000000000000"))[:40], from
	 * python: hmac.new(bytes(range(1,33)), b"LK000000000000000000", sha256) */
	auth_secret(master, "LK000000000000000000", secret);
	assert_string_equal(secret, "awDKUFT28wDxuSNQYNqkeQ-J5AiRPLFjJE4n9Rbs");
}

/* FIPS 180-2's vectors, through the implementation crypt.c fetches once
 * and then shares between threads and calls. */
static void test_sha256_vectors(void **state)
{
	char hex[65];

	(void)state;
	for (int i = 0; i < 2; i++) {
		crypt_sha256_hex("abc", 3, hex);
		assert_string_equal(
		    hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
		crypt_sha256_hex("", 0, hex);
		assert_string_equal(
		    hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	}
}

static void test_parse_rejects(void **state)
{
	char akid[AUTH_AKID_LEN + 1] = "untouched";
	const char *good_secret = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	char key[128];

	(void)state;
	snprintf(key, sizeof(key), "LK0123456789ABCDEF01.%s", good_secret);
	assert_int_equal(auth_key_parse(key, akid), 0);
	snprintf(key, sizeof(key), "LK0123456789abcdef01.%s", good_secret); /* lower hex */
	assert_int_equal(auth_key_parse(key, akid), -1);
	snprintf(key, sizeof(key), "AK0123456789ABCDEF01.%s", good_secret);
	assert_int_equal(auth_key_parse(key, akid), -1);
	snprintf(key, sizeof(key), "LK0123456789ABCDEF01.%sa", good_secret); /* 41 */
	assert_int_equal(auth_key_parse(key, akid), -1);
	snprintf(key, sizeof(key), "LK0123456789ABCDEF01.%.39s", good_secret); /* 39 */
	assert_int_equal(auth_key_parse(key, akid), -1);
	snprintf(key, sizeof(key), "LK0123456789ABCDEF01.%.39s+", good_secret);
	assert_int_equal(auth_key_parse(key, akid), -1);
	assert_int_equal(auth_key_parse("", akid), -1);
}

static void test_hash_equal(void **state)
{
	char a[65], b[65];

	(void)state;
	auth_key_hash("one", a);
	auth_key_hash("one", b);
	assert_true(auth_hash_equal(a, b));
	b[63] = b[63] == '0' ? '1' : '0';
	assert_false(auth_hash_equal(a, b));
	assert_false(auth_hash_equal(a, "short"));
	assert_true(crypt_equal("abc", "abc", 3));
	assert_false(crypt_equal("abc", "abd", 3));
}

static void test_master_key_file(void **state)
{
	char dir[] = "/tmp/test_auth_XXXXXX", path[64];
	uint8_t k1[32], k2[32];
	struct err *e = NULL;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/master.key", dir);
	assert_int_equal(auth_master_load(path, 0, k1, &e), -1); /* missing, no create */
	assert_int_equal(e->code, ERR_NOT_FOUND);
	err_free(&e);
	assert_int_equal(auth_master_load(path, 1, k1, &e), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 32);
	assert_int_equal(auth_master_load(path, 1, k2, &e), 0); /* reused, not replaced */
	assert_memory_equal(k1, k2, 32);
	unlink(path);
	rmdir(dir);
}

static void test_names(void **state)
{
	(void)state;
	assert_true(auth_name_valid("admin"));
	assert_true(auth_name_valid("ci key #1"));
	assert_false(auth_name_valid(""));
	assert_false(auth_name_valid("tab\there"));
	assert_true(
	    auth_name_valid("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"));
	assert_false(
	    auth_name_valid("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"));
}

static void test_base64(void **state)
{
	uint8_t *out = NULL;
	size_t n = 0;
	struct err *e = NULL;
	char *s;

	(void)state;
	s = crypt_base64("foobar", 6);
	assert_string_equal(s, "Zm9vYmFy");
	free(s);
	s = crypt_base64("fooba", 5);
	assert_string_equal(s, "Zm9vYmE=");
	free(s);
	s = crypt_base64url("\xfb\xff", 2);
	assert_string_equal(s, "-_8");
	free(s);
	assert_int_equal(crypt_base64_decode("Zm9vYg==", 8, 100, &out, &n, &e), 0);
	assert_int_equal(n, 4);
	assert_memory_equal(out, "foob", 4);
	free(out);
	assert_int_equal(crypt_base64_decode("Zm9vYg==", 8, 3, &out, &n, &e), -1);
	assert_int_equal(e->code, ERR_TOO_LARGE);
	err_free(&e);
	assert_int_equal(crypt_base64_decode("Zm9=Yg==", 8, 100, &out, &n, &e), -1);
	err_free(&e);
	assert_int_equal(crypt_base64_decode("Zm9", 3, 100, &out, &n, &e), -1);
	err_free(&e);
}

/* Version 7: canonical form, version and variant nibbles, the current time in
 * the first 48 bits, random bits that differ, and text order = time order. */
static void test_uuid7(void **state)
{
	char a[37], b[37], hex[13];
	struct err *e = NULL;
	struct timespec ts;
	long long now, ms;

	(void)state;
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	assert_int_equal(crypt_uuid7(a, &e), 0);
	assert_int_equal(strlen(a), 36);
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			assert_int_equal(a[i], '-');
		else
			assert_non_null(strchr("0123456789abcdef", a[i]));
	}
	assert_int_equal(a[14], '7');
	assert_non_null(strchr("89ab", a[19]));
	memcpy(hex, a, 8);
	memcpy(hex + 8, a + 9, 4);
	hex[12] = '\0';
	ms = strtoll(hex, NULL, 16);
	assert_true(ms >= now && ms < now + 1000);
	usleep(2000);
	assert_int_equal(crypt_uuid7(b, &e), 0);
	assert_true(strcmp(a, b) < 0);
	assert_true(strcmp(a + 19, b + 19) != 0);
}

/* Ids drawn from the per-thread buffer (refilled every 25 ids) do not
 * repeat, and a forked child does not hand out its parent's next ones. */
static int cmp_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void test_uuid7_unique(void **state)
{
	enum { N = 2000 };
	static char ids[N + 1][37];
	struct err *e = NULL;
	int fd[2];
	pid_t pid;

	(void)state;
	for (int i = 0; i < N - 1; i++)
		assert_int_equal(crypt_uuid7(ids[i], &e), 0);
	assert_int_equal(pipe(fd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char c[37];
		_exit(crypt_uuid7(c, NULL) == 0 && write(fd[1], c, 37) == 37 ? 0 : 1);
	}
	assert_int_equal(crypt_uuid7(ids[N - 1], &e), 0);
	assert_int_equal(read(fd[0], ids[N], 37), 37);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	close(fd[0]);
	close(fd[1]);
	/* the parent's and the child's first ids after the fork differ in their random part */
	assert_true(strcmp(ids[N - 1] + 19, ids[N] + 19) != 0);
	qsort(ids, N + 1, sizeof(ids[0]), cmp_id);
	for (int i = 1; i <= N; i++)
		assert_true(strcmp(ids[i - 1], ids[i]) != 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_new_key_shape),  cmocka_unit_test(test_secret_is_hmac),
	    cmocka_unit_test(test_sha256_vectors), cmocka_unit_test(test_parse_rejects),
	    cmocka_unit_test(test_hash_equal),     cmocka_unit_test(test_master_key_file),
	    cmocka_unit_test(test_names),          cmocka_unit_test(test_base64),
	    cmocka_unit_test(test_uuid7),          cmocka_unit_test(test_uuid7_unique),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
