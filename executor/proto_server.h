/* The executor's socket: the framed protocol of common/proto.h, one thread
 * per client connection, one request at a time per connection. */
#ifndef LAMBDA_EXECUTOR_PROTO_SERVER_H
#define LAMBDA_EXECUTOR_PROTO_SERVER_H

#include "err.h"

struct xconfig;

/* Binds the unix socket (mode 0660; a stale socket file is replaced) and
 * starts the accepting thread. */
int proto_server_start(const struct xconfig *cfg, struct err **e);
/* Stops accepting (closes and unlinks the socket). */
void proto_server_stop(void);

/* Handles one request frame; returns the reply type and sets *reply (caller
 * frees).  Exposed for tests. */
int proto_server_dispatch(int type, const char *payload, size_t len, char **reply);

#endif
