/* executor/chan.c: the attach-stream demultiplexer and the frame assembler
 * fed split and partial input, and the log cap. */
#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "chan.h"
#include "clock.h"

struct sink {
	char out[4096], errs[4096];
	size_t nout, nerr;
	int pieces;
};

static void collect(void *ctx, int stream, const char *data, size_t len)
{
	struct sink *s = ctx;

	if (stream == 1) {
		memcpy(s->out + s->nout, data, len);
		s->nout += len;
	} else {
		memcpy(s->errs + s->nerr, data, len);
		s->nerr += len;
	}
	s->pieces++;
}

static size_t mux(char *dst, int stream, const char *data)
{
	size_t n = strlen(data);

	dst[0] = (char)stream;
	dst[1] = dst[2] = dst[3] = 0;
	dst[4] = (char)(n >> 24);
	dst[5] = (char)(n >> 16);
	dst[6] = (char)(n >> 8);
	dst[7] = (char)n;
	memcpy(dst + 8, data, n);
	return 8 + n;
}

static void test_demux_split_everywhere(void **state)
{
	char stream[256];
	size_t n = 0;

	(void)state;
	n += mux(stream + n, 1, "hello ");
	n += mux(stream + n, 2, "warn!");
	n += mux(stream + n, 1, "world");
	n += mux(stream + n, 1, "");
	/* every split point, including inside the 8-byte headers */
	for (size_t cut = 0; cut <= n; cut++) {
		struct demux d;
		struct sink s = {0};
		struct err *e = NULL;

		demux_init(&d);
		assert_int_equal(demux_feed(&d, stream, cut, collect, &s, &e), 0);
		assert_int_equal(demux_feed(&d, stream + cut, n - cut, collect, &s, &e), 0);
		assert_int_equal(s.nout, 11);
		assert_memory_equal(s.out, "hello world", 11);
		assert_int_equal(s.nerr, 5);
		assert_memory_equal(s.errs, "warn!", 5);
	}
	/* one byte at a time */
	{
		struct demux d;
		struct sink s = {0};
		demux_init(&d);
		for (size_t i = 0; i < n; i++)
			assert_int_equal(demux_feed(&d, stream + i, 1, collect, &s, NULL), 0);
		assert_int_equal(s.nout, 11);
		assert_int_equal(s.nerr, 5);
	}
}

static void test_demux_bad_header(void **state)
{
	struct demux d;
	struct sink s = {0};
	struct err *e = NULL;
	const char bad[8] = {7, 0, 0, 0, 0, 0, 0, 1};

	(void)state;
	demux_init(&d);
	assert_int_equal(demux_feed(&d, bad, 8, collect, &s, &e), -1);
	assert_int_equal(e->code, ERR_PROTO);
	err_free(&e);
}

struct frames {
	int n, oversize;
	char last[256];
	size_t oversize_len;
};

static void on_frame(void *ctx, int ev, const char *data, size_t len)
{
	struct frames *f = ctx;

	if (ev == FASM_OVERSIZE) {
		f->oversize++;
		f->oversize_len = len;
		return;
	}
	f->n++;
	memcpy(f->last, data, len);
	f->last[len] = '\0';
}

static size_t frame(char *dst, const char *json, size_t len)
{
	dst[0] = (char)(len >> 24);
	dst[1] = (char)(len >> 16);
	dst[2] = (char)(len >> 8);
	dst[3] = (char)len;
	memcpy(dst + 4, json, len);
	return 4 + len;
}

static void test_fasm_split_and_oversize(void **state)
{
	char big[200], in[512];
	size_t n = 0;

	(void)state;
	memset(big, 'x', sizeof(big));
	n += frame(in + n, "{\"a\":1}", 7);
	n += frame(in + n, big, sizeof(big)); /* over the limit of 64: skipped */
	n += frame(in + n, "{\"b\":2}", 7);
	for (size_t cut = 0; cut <= n; cut++) {
		struct fasm fa;
		struct frames f = {0};

		fasm_init(&fa, 64);
		fasm_feed(&fa, in, cut, on_frame, &f);
		fasm_feed(&fa, in + cut, n - cut, on_frame, &f);
		assert_int_equal(f.n, 2);
		assert_string_equal(f.last, "{\"b\":2}");
		assert_int_equal(f.oversize, 1);
		assert_int_equal(f.oversize_len, 200);
		fasm_free(&fa);
	}
}

static void test_fasm_limit_pair(void **state)
{
	char in[256], body[64];
	struct fasm fa;
	struct frames f = {0};
	size_t n;

	(void)state;
	memset(body, 'y', sizeof(body));
	fasm_init(&fa, 64);
	n = frame(in, body, 64); /* just inside */
	fasm_feed(&fa, in, n, on_frame, &f);
	assert_int_equal(f.n, 1);
	n = frame(in, body, 64);
	in[3] = 65; /* just over: a 65-byte frame */
	fasm_feed(&fa, in, n, on_frame, &f);
	fasm_feed(&fa, "z", 1, on_frame, &f);
	assert_int_equal(f.oversize, 1);
	assert_int_equal(f.n, 1);
	fasm_free(&fa);
}

static void test_logcap(void **state)
{
	struct logcap l;
	int trunc;
	char *s;
	char line[100];

	(void)state;
	/* inside the cap: unchanged, no marker */
	logcap_init(&l, 1024);
	logcap_append(&l, "abc\n", 4);
	s = logcap_finish(&l, &trunc);
	assert_string_equal(s, "abc\n");
	assert_false(trunc);
	free(s);
	/* exactly the cap: still no marker */
	memset(line, 'a', sizeof(line));
	logcap_append(&l, line, 100);
	logcap_free(&l);
	logcap_init(&l, 100);
	logcap_append(&l, line, 100);
	s = logcap_finish(&l, &trunc);
	assert_false(trunc);
	assert_int_equal(strlen(s), 100);
	free(s);
	/* one byte over: the marker is the last line and the whole fits the cap */
	logcap_append(&l, line, 100);
	logcap_append(&l, "b", 1);
	s = logcap_finish(&l, &trunc);
	assert_true(trunc);
	assert_true(strlen(s) <= 100);
	assert_non_null(strstr(s, "\n[logs truncated: "));
	{
		/* what is kept plus what the marker says was dropped is what came in */
		const char *m = strrchr(s, '\n');
		unsigned long dropped = 0;
		assert_int_equal(sscanf(m, "\n[logs truncated: %lu bytes dropped]", &dropped), 1);
		assert_int_equal((size_t)(m - s) + dropped, 101);
		assert_string_equal(m + strlen(m) - 15, " bytes dropped]");
	}
	free(s);
	/* many megabytes through a 1 KiB cap: memory stays at the cap */
	for (int i = 0; i < 100000; i++)
		logcap_append(&l, line, sizeof(line));
	assert_true(l.b.cap <= 2048);
	s = logcap_finish(&l, &trunc);
	assert_true(trunc);
	assert_non_null(strstr(s, "[logs truncated: 9999"));
	free(s);
	logcap_free(&l);
}

static void test_logcap_utf8(void **state)
{
	struct logcap l;
	int trunc;
	char *s;

	(void)state;
	logcap_init(&l, 64);
	{
		const char *in = "bad \xff byte, then \xc3\xa9t\xc3\xa9";

		logcap_append(&l, in, strlen(in));
		s = logcap_finish(&l, &trunc);
	}
	assert_string_equal(s, "bad ? byte, then \xc3\xa9t\xc3\xa9");
	free(s);
	logcap_free(&l);
}

static void test_chan_roundtrip(void **state)
{
	int sv[2];
	struct chan c;
	struct chan_frame *f = NULL;
	struct err *e = NULL;
	struct logcap errs;
	char wire[256];
	size_t n = 0;
	int trunc;
	char *s;
	char payload[64];
	size_t pl = frame(payload, "{\"type\":\"pong\"}", 15);

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	chan_init(&c, sv[0], 1024, NULL, 0);
	logcap_init(&errs, 1024);
	c.sink = &errs;
	/* stdout frame split across two multiplexed pieces, stderr between */
	wire[n] = 1, memset(wire + n + 1, 0, 6), wire[n + 7] = 5, n += 8;
	memcpy(wire + n, payload, 5), n += 5;
	n += mux(wire + n, 2, "oops");
	wire[n] = 1, memset(wire + n + 1, 0, 6), wire[n + 7] = (char)(pl - 5), n += 8;
	memcpy(wire + n, payload + 5, pl - 5), n += pl - 5;
	assert_int_equal(write(sv[1], wire, n), (ssize_t)n);
	assert_int_equal(chan_recv(&c, mono_ms() + 1000, &f, &e), 1);
	assert_string_equal(cJSON_GetObjectItem(f->json, "type")->valuestring, "pong");
	chan_frame_free(f);
	s = logcap_finish(&errs, &trunc);
	assert_string_equal(s, "oops");
	free(s);
	/* nothing more: the deadline passes */
	assert_int_equal(chan_recv(&c, mono_ms() + 50, &f, &e), 0);
	/* EOF */
	close(sv[1]);
	assert_int_equal(chan_recv(&c, mono_ms() + 1000, &f, &e), -1);
	assert_string_equal(e->msg, "container closed the channel");
	err_free(&e);
	logcap_free(&errs);
	chan_close(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_demux_split_everywhere),
	    cmocka_unit_test(test_demux_bad_header),
	    cmocka_unit_test(test_fasm_split_and_oversize),
	    cmocka_unit_test(test_fasm_limit_pair),
	    cmocka_unit_test(test_logcap),
	    cmocka_unit_test(test_logcap_utf8),
	    cmocka_unit_test(test_chan_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
