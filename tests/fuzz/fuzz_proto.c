/* libFuzzer target for the executor protocol frame parser (common/proto.c):
 * the input is written to one end of a socketpair and read back as frames
 * until the parser refuses or the data runs out.  Every refusal must be a
 * clean error; every accepted frame must have exactly the announced length. */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sv[2];
	struct proto_hdr h;
	char *payload = NULL;
	struct err *e = NULL;

	if (size >= PROTO_HDR_SIZE) {
		/* The pure decoder: accepts only what the spec allows. */
		if (proto_hdr_decode(data, &h, &e) == 0) {
			if (h.version != PROTO_VERSION || h.type < 1 || h.type > PROTO_TYPE_MAX ||
			    h.length > PROTO_MAX_PAYLOAD || h.flags != 0)
				abort();
		} else {
			if (e == NULL || e->code != ERR_PROTO)
				abort();
			err_free(&e);
		}
	}
	if (size > 60000 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return 0;
	if (size > 0 && write(sv[0], data, size) != (ssize_t)size)
		abort();
	close(sv[0]);
	for (;;) {
		if (proto_read(sv[1], &h, &payload, 100, &e) < 0) {
			err_free(&e);
			break;
		}
		if (strlen(payload) > h.length)
			abort();
		free(payload);
		payload = NULL;
	}
	close(sv[1]);
	return 0;
}
