/* The API's side of the executor protocol (common/proto.h, docs/design.md):
 * one connection per thread, opened lazily, dropped on any error and opened
 * again by the next call.  One request at a time per connection. */
#ifndef LAMBDA_API_EXEC_CLIENT_H
#define LAMBDA_API_EXEC_CLIENT_H

#include <stdint.h>

#include <cJSON.h>

#include "err.h"

struct config;
struct exec_client;

struct exec_client *exec_client_new(const struct config *cfg);
void exec_client_free(struct exec_client *ec);

/* Sends one request of `type` with the JSON payload and waits up to
 * timeout_ms for its reply.  On success *reply_type and *reply (parsed JSON,
 * caller deletes) are set.  Errors (ERR_UNAVAILABLE, message starting with
 * "executor unavailable: "):
 *   - not connected and connecting fails: *sent stays 0;
 *   - the connection broke or timed out after the request went out: *sent = 1
 *     (the executor may have run it). */
int exec_client_call(struct exec_client *ec, int type, const cJSON *payload, int timeout_ms,
                     int *reply_type, cJSON **reply, int *sent, struct err **e);

/* PING; on success *pong is the PONG payload (caller deletes). */
int exec_client_ping(struct exec_client *ec, cJSON **pong, struct err **e);
/* DRAIN a function's containers (best effort: errors are only returned). */
int exec_client_drain(struct exec_client *ec, long long function_id, struct err **e);

#endif
