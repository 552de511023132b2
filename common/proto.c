#include <config.h>

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "clock.h"
#include "proto.h"
#include "xalloc.h"

static const char *const type_names[] = {
    "UNKNOWN",     "INVOKE", "RESULT", "POOLS", "POOLS_REPLY", "DRAIN",
    "DRAIN_REPLY", "PING",   "PONG",   "STATS", "STATS_REPLY", "ERROR",
};

const char *proto_type_name(int type)
{
	if (type < 1 || type > PROTO_TYPE_MAX)
		return type_names[0];
	return type_names[type];
}

void proto_hdr_encode(const struct proto_hdr *h, uint8_t out[PROTO_HDR_SIZE])
{
	out[0] = h->version;
	out[1] = h->type;
	out[2] = (uint8_t)(h->flags >> 8);
	out[3] = (uint8_t)h->flags;
	for (int i = 0; i < 4; i++)
		out[4 + i] = (uint8_t)(h->length >> (24 - 8 * i));
	for (int i = 0; i < 8; i++)
		out[8 + i] = (uint8_t)(h->request_id >> (56 - 8 * i));
}

int proto_hdr_decode(const uint8_t in[PROTO_HDR_SIZE], struct proto_hdr *h, struct err **e)
{
	struct proto_hdr t;

	t.version = in[0];
	t.type = in[1];
	t.flags = (uint16_t)((in[2] << 8) | in[3]);
	t.length = 0;
	for (int i = 0; i < 4; i++)
		t.length = (t.length << 8) | in[4 + i];
	t.request_id = 0;
	for (int i = 0; i < 8; i++)
		t.request_id = (t.request_id << 8) | in[8 + i];
	if (t.version != PROTO_VERSION)
		return err_set(e, ERR_PROTO, "protocol version %u, expected %u", t.version,
		               PROTO_VERSION);
	if (t.type < 1 || t.type > PROTO_TYPE_MAX)
		return err_set(e, ERR_PROTO, "unknown frame type %u", t.type);
	if (t.flags != 0)
		return err_set(e, ERR_PROTO, "unknown frame flags 0x%x", t.flags);
	if (t.length > PROTO_MAX_PAYLOAD)
		return err_set(e, ERR_PROTO, "frame of %u bytes exceeds the limit of %u", t.length,
		               PROTO_MAX_PAYLOAD);
	*h = t;
	return 0;
}

static int write_all(int fd, const void *p, size_t n, struct err **e)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return err_setsys(e, ERR_IO, "write");
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int proto_write(int fd, uint8_t type, uint64_t request_id, const char *payload, size_t len,
                struct err **e)
{
	struct proto_hdr h = {PROTO_VERSION, type, 0, (uint32_t)len, request_id};
	uint8_t hdr[PROTO_HDR_SIZE];

	if (len > PROTO_MAX_PAYLOAD)
		return err_set(e, ERR_TOO_LARGE, "frame of %zu bytes exceeds the limit of %u", len,
		               PROTO_MAX_PAYLOAD);
	proto_hdr_encode(&h, hdr);
	/* Small frames go out in one write so that the peer sees them whole. */
	if (len <= 4096) {
		char one[PROTO_HDR_SIZE + 4096];
		memcpy(one, hdr, PROTO_HDR_SIZE);
		if (len > 0)
			memcpy(one + PROTO_HDR_SIZE, payload, len);
		return write_all(fd, one, PROTO_HDR_SIZE + len, e);
	}
	if (write_all(fd, hdr, PROTO_HDR_SIZE, e) < 0)
		return -1;
	return write_all(fd, payload, len, e);
}

/* Reads exactly n bytes before the deadline (deadline < 0: none).
 *
 * Waits in poll(), never in a blocking read: a thread asleep in read() on a
 * unix stream socket is woken each time the peer consumes data we sent
 * (unix_write_space wakes every sleeper on the socket; only poll's waits
 * filter on the event), so the executor's client threads were woken once
 * for nothing per call, each wake a context switch.  Data that has arrived
 * (a body behind its header, nearly always) is taken with MSG_DONTWAIT
 * first, without a poll. */
static int read_all(int fd, void *p, size_t n, long long deadline, int first, struct err **e)
{
	char *c = p;
	size_t got = 0;
	int ready = !first; /* a frame's header is awaited; its body is there */

	while (got < n) {
		ssize_t r;

		if (!ready) {
			long long left = deadline < 0 ? -1 : deadline - mono_ms();
			struct pollfd pfd = {.fd = fd, .events = POLLIN};
			int pr;

			if (deadline >= 0 && left <= 0)
				return err_set(e, ERR_TIMEOUT, "timed out reading a frame");
			pr = poll(&pfd, 1, left > 1000000 ? 1000000 : (int)left);
			if (pr < 0 && errno != EINTR)
				return err_setsys(e, ERR_IO, "poll");
			if (pr <= 0)
				continue;
		}
		r = recv(fd, c + got, n - got, MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				ready = 0;
				continue;
			}
			return err_setsys(e, ERR_IO, "read");
		}
		if (r == 0)
			return err_set(e, ERR_IO,
			               first && got == 0 ? "connection closed"
			                                 : "connection closed mid-frame");
		got += (size_t)r;
		ready = 1; /* more of a frame follows what came: try before polling */
	}
	return 0;
}

int proto_read(int fd, struct proto_hdr *h, char **payload, int timeout_ms, struct err **e)
{
	uint8_t raw[PROTO_HDR_SIZE] = {0}; /* scan-build cannot see that err_set() returns -1 */
	struct proto_hdr t;
	_cleanup_free_ char *p = NULL;
	long long deadline = timeout_ms < 0 ? -1 : mono_ms() + timeout_ms;

	if (read_all(fd, raw, sizeof(raw), deadline, 1, e) < 0)
		return -1;
	if (proto_hdr_decode(raw, &t, e) < 0)
		return -1;
	p = xmalloc((size_t)t.length + 1);
	if (read_all(fd, p, t.length, deadline, 0, e) < 0)
		return -1;
	p[t.length] = '\0';
	*h = t;
	*payload = TAKE_PTR(p);
	return 0;
}
