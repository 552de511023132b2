#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "proto.h"

static void test_roundtrip_header(void **state)
{
	struct proto_hdr in = {PROTO_VERSION, PROTO_INVOKE, 0, 1234, 0x0102030405060708ULL}, out;
	uint8_t raw[PROTO_HDR_SIZE];
	struct err *e = NULL;

	(void)state;
	proto_hdr_encode(&in, raw);
	assert_int_equal(raw[0], PROTO_VERSION);
	assert_int_equal(raw[8], 0x01);
	assert_int_equal(raw[15], 0x08);
	assert_int_equal(proto_hdr_decode(raw, &out, &e), 0);
	assert_null(e);
	assert_int_equal(out.type, PROTO_INVOKE);
	assert_int_equal(out.length, 1234);
	assert_true(out.request_id == in.request_id);
}

static void expect_bad(struct proto_hdr h, const char *needle)
{
	uint8_t raw[PROTO_HDR_SIZE];
	struct proto_hdr out = {0, 0, 0, 0, 77};
	struct err *e = NULL;

	proto_hdr_encode(&h, raw);
	assert_int_equal(proto_hdr_decode(raw, &out, &e), -1);
	assert_non_null(e);
	assert_int_equal(e->code, ERR_PROTO);
	assert_non_null(strstr(e->msg, needle));
	assert_true(out.request_id == 77); /* untouched on failure */
	err_free(&e);
}

static void test_rejects_bad_headers(void **state)
{
	(void)state;
	expect_bad((struct proto_hdr){2, PROTO_INVOKE, 0, 0, 1}, "version");
	expect_bad((struct proto_hdr){PROTO_VERSION, 0, 0, 0, 1}, "unknown frame type");
	expect_bad((struct proto_hdr){PROTO_VERSION, PROTO_TYPE_MAX + 1, 0, 0, 1},
	           "unknown frame type");
	expect_bad((struct proto_hdr){PROTO_VERSION, PROTO_PING, 1, 0, 1}, "flags");
	expect_bad((struct proto_hdr){PROTO_VERSION, PROTO_PING, 0, PROTO_MAX_PAYLOAD + 1, 1},
	           "exceeds");
}

static void test_limit_pair(void **state)
{
	uint8_t raw[PROTO_HDR_SIZE];
	struct proto_hdr h = {PROTO_VERSION, PROTO_RESULT, 0, PROTO_MAX_PAYLOAD, 9}, out;
	struct err *e = NULL;

	(void)state;
	proto_hdr_encode(&h, raw);
	assert_int_equal(proto_hdr_decode(raw, &out, &e), 0);
	assert_int_equal(out.length, PROTO_MAX_PAYLOAD);
}

static void test_socket_roundtrip(void **state)
{
	int sv[2];
	struct proto_hdr h;
	char *payload = NULL;
	struct err *e = NULL;
	char big[10000];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(proto_write(sv[0], PROTO_PING, 42, "{}", 2, &e), 0);
	assert_int_equal(proto_read(sv[1], &h, &payload, 1000, &e), 0);
	assert_int_equal(h.type, PROTO_PING);
	assert_true(h.request_id == 42);
	assert_string_equal(payload, "{}");
	free(payload);

	memset(big, 'x', sizeof(big));
	assert_int_equal(proto_write(sv[0], PROTO_RESULT, 43, big, sizeof(big), &e), 0);
	assert_int_equal(proto_read(sv[1], &h, &payload, 1000, &e), 0);
	assert_int_equal(h.length, sizeof(big));
	assert_int_equal(payload[9999], 'x');
	free(payload);

	/* nothing sent: times out */
	assert_int_equal(proto_read(sv[1], &h, &payload, 50, &e), -1);
	assert_int_equal(e->code, ERR_TIMEOUT);
	err_free(&e);

	/* peer closes: a clear error */
	close(sv[0]);
	assert_int_equal(proto_read(sv[1], &h, &payload, 1000, &e), -1);
	assert_int_equal(e->code, ERR_IO);
	assert_string_equal(e->msg, "connection closed");
	err_free(&e);
	close(sv[1]);
}

static void test_truncated_frame(void **state)
{
	int sv[2];
	struct proto_hdr h = {PROTO_VERSION, PROTO_INVOKE, 0, 100, 5};
	uint8_t raw[PROTO_HDR_SIZE];
	char *payload = NULL;
	struct err *e = NULL;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	proto_hdr_encode(&h, raw);
	assert_int_equal(write(sv[0], raw, sizeof(raw)), (ssize_t)sizeof(raw));
	assert_int_equal(write(sv[0], "abc", 3), 3);
	close(sv[0]);
	assert_int_equal(proto_read(sv[1], &h, &payload, 1000, &e), -1);
	assert_null(payload);
	assert_string_equal(e->msg, "connection closed mid-frame");
	err_free(&e);
	close(sv[1]);
}

/* A frame whose body comes in pieces, later than its header: read whole,
 * with and without a timeout (the body's first read finds nothing yet). */
static void test_body_in_pieces(void **state)
{
	int sv[2];
	struct proto_hdr h = {PROTO_VERSION, PROTO_RESULT, 0, 6, 9};
	uint8_t raw[PROTO_HDR_SIZE];
	char *payload = NULL;
	struct err *e = NULL;
	pid_t pid;

	(void)state;
	proto_hdr_encode(&h, raw);
	for (int timeout = -1; timeout <= 1000; timeout += 1001) {
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(sv[1]);
			if (write(sv[0], raw, sizeof(raw)) != (ssize_t)sizeof(raw))
				_exit(1);
			usleep(30000);
			if (write(sv[0], "abc", 3) != 3)
				_exit(1);
			usleep(30000);
			_exit(write(sv[0], "def", 3) == 3 ? 0 : 1);
		}
		close(sv[0]);
		assert_int_equal(proto_read(sv[1], &h, &payload, timeout, &e), 0);
		assert_int_equal(h.length, 6);
		assert_string_equal(payload, "abcdef");
		free(payload);
		payload = NULL;
		assert_int_equal(waitpid(pid, NULL, 0), pid);
		close(sv[1]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip_header), cmocka_unit_test(test_rejects_bad_headers),
	    cmocka_unit_test(test_limit_pair),       cmocka_unit_test(test_socket_roundtrip),
	    cmocka_unit_test(test_truncated_frame),  cmocka_unit_test(test_body_in_pieces),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
