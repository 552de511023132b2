/* The AWS Lambda-compatible API (/2015-03-31/functions...): what
 * api_aws.c shares with api_fnurl.c and event_queue.c. */
#ifndef LAMBDA_API_API_AWS_H
#define LAMBDA_API_API_AWS_H

#include <cJSON.h>

#include "err.h"
#include "reply.h"
#include "request.h"
#include "router.h"

#define AWS_ACCOUNT "000000000000"
#define AWS_REGION  "us-east-1"
/* Payload caps of Invoke, as AWS documents them. */
#define AWS_SYNC_PAYLOAD_MAX  6291456 /* 6 MB, RequestResponse and DryRun */
#define AWS_ASYNC_PAYLOAD_MAX 1048576 /* 1 MB, Event */
/* X-Amz-Log-Result carries the last 4 KB of the logs. */
#define AWS_LOG_TAIL_BYTES 4096

extern const struct route_table api_aws_routes;
extern const struct route_table api_fnurl_routes;

/* An AWS-shaped error: status, X-Amzn-ErrorType: type and the body
 * {"Type":"User"|"Service","message":...}. */
void aws_error(struct reply *rep, int status, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Maps an error of ours (enum err_code) to AWS's type and status. */
void aws_fail(struct reply *rep, struct err **e);

/* route_auth: AWS Signature Version 4 (service "lambda") with one of our API
 * keys as the credentials; sets req->key_id.  403 with AWS's exception
 * otherwise. */
int aws_auth(struct request *req, struct reply *rep);

/* The log tail AWS returns with X-Amz-Log-Type: Tail: START/END/REPORT lines
 * around the invocation's logs.  Caller frees. */
char *aws_log_text(const char *request_id, const cJSON *result, long long memory_mb);

#endif
