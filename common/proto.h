/* The fcgi-app <-> executor wire protocol, defined once.
 *
 * A frame is a fixed 16-byte header followed by `length` bytes of JSON:
 *
 *   offset 0  u8   version     PROTO_VERSION; anything else is a protocol error
 *   offset 1  u8   type        enum proto_type; an unknown type is a protocol error
 *   offset 2  u16  flags       0 for now; must be 0
 *   offset 4  u32  length      payload bytes, <= PROTO_MAX_PAYLOAD (checked before reading)
 *   offset 8  u64  request_id  correlation id chosen by the client, echoed in the reply
 *
 * All integers are big-endian.  The payload schemas per type are documented
 * in docs/design.md ("Executor protocol"). */
#ifndef LAMBDA_PROTO_H
#define LAMBDA_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define PROTO_VERSION  1
#define PROTO_HDR_SIZE 16
/* 6 MB result + 1 MiB logs + JSON escaping overhead fit comfortably. */
#define PROTO_MAX_PAYLOAD (16u * 1024 * 1024)

enum proto_type {
	PROTO_INVOKE = 1,       /* client -> executor: run one invocation */
	PROTO_RESULT = 2,       /* executor -> client: outcome of an INVOKE */
	PROTO_POOLS = 3,        /* client -> executor: describe pools */
	PROTO_POOLS_REPLY = 4,  /* executor -> client */
	PROTO_DRAIN = 5,        /* client -> executor: drop a function's containers */
	PROTO_DRAIN_REPLY = 6,  /* executor -> client */
	PROTO_PING = 7,         /* client -> executor: health (includes docker reachability) */
	PROTO_PONG = 8,         /* executor -> client */
	PROTO_STATS = 9,        /* client -> executor: container / resource figures */
	PROTO_STATS_REPLY = 10, /* executor -> client */
	PROTO_ERROR = 11,       /* executor -> client: the request could not be served */
	PROTO_TYPE_MAX = 11,
};

struct proto_hdr {
	uint8_t version;
	uint8_t type;
	uint16_t flags;
	uint32_t length;
	uint64_t request_id;
};

/* Encodes h into out (exactly PROTO_HDR_SIZE bytes). */
void proto_hdr_encode(const struct proto_hdr *h, uint8_t out[PROTO_HDR_SIZE]);
/* Decodes and validates a header: version, known type, flags 0, length
 * within PROTO_MAX_PAYLOAD.  Writes *h only on success.  ERR_PROTO on failure. */
int proto_hdr_decode(const uint8_t in[PROTO_HDR_SIZE], struct proto_hdr *h, struct err **e);
/* The name of a type ("INVOKE"...), or "UNKNOWN". */
const char *proto_type_name(int type);

/* Writes one whole frame to a blocking fd (retries short writes and EINTR).
 * ERR_IO on failure (the peer is gone), ERR_TOO_LARGE if len is too big. */
int proto_write(int fd, uint8_t type, uint64_t request_id, const char *payload, size_t len,
                struct err **e);
/* Reads one whole frame from a blocking fd.  On success *h is filled and
 * *payload is a newly allocated NUL-terminated buffer of h->length bytes
 * that the caller frees.  timeout_ms < 0 waits forever; otherwise ERR_TIMEOUT
 * when no whole frame arrived in time.  A clean EOF before any byte is
 * ERR_IO with message "connection closed". */
int proto_read(int fd, struct proto_hdr *h, char **payload, int timeout_ms, struct err **e);

#endif
