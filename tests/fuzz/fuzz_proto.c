/* Fuzzes the executor protocol's frame reader (common/proto.c) the way the
 * executor and the fcgi-app use it: frames read one after the other from a
 * stream socket until an error, each payload parsed as JSON.
 *
 * fuzz-sources: common/proto.c common/err.c common/xalloc.c common/buf.c common/log.c
 * fuzz-pkgs: libcjson
 * fuzz-args: -max_len=65536
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cJSON.h>

#include "err.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sv[2];
	struct err *e = NULL;

	/* The whole input must fit in the socket buffer: run with -max_len. */
	if (size > 65536 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return 0;
	int sndbuf = 1 << 20;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	if (size > 0 && write(sv[0], data, size) != (ssize_t)size) {
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	shutdown(sv[0], SHUT_WR);

	for (;;) {
		struct proto_hdr h;
		char *payload = NULL;

		if (proto_read(sv[1], &h, &payload, 1000, &e) < 0)
			break;
		/* What every receiver does next. */
		cJSON *j = cJSON_ParseWithLength(payload, h.length);
		(void)proto_type_name(h.type);
		cJSON_Delete(j);
		free(payload);
	}
	err_free(&e);
	close(sv[0]);
	close(sv[1]);
	return 0;
}
