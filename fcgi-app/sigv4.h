/* AWS Signature Version 4 verification (the server side of what botocore's
 * SigV4Auth signs), for the AWS-compatible routes.
 *
 * The canonical request follows AWS's rules for every service but S3: the
 * path as sent is normalised (dot segments and empty segments removed) and
 * then URI-encoded once more (so "%3A" signs as "%253A"); query keys and
 * values are decoded, re-encoded strictly (RFC 3986 unreserved kept) and
 * sorted; signed header values are trimmed with inner whitespace collapsed.
 * The payload hash is the x-amz-content-sha256 header when present (and it
 * must then match the body) or the SHA-256 of the body. */
#ifndef LAMBDA_SIGV4_H
#define LAMBDA_SIGV4_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "err.h"

#define SIGV4_MAX_SKEW_S  (15 * 60) /* how far X-Amz-Date may be from now */
#define SIGV4_SECRET_MAX  128       /* secret access key, with its NUL */
#define SIGV4_AKID_MAX    128       /* access key id, with its NUL */
#define SIGV4_SCOPE_MAX   64        /* region or service name, with its NUL */
#define SIGV4_SIGNED_MAX  2048      /* the SignedHeaders list, with its NUL */
#define SIGV4_MAX_HEADERS 64        /* names in SignedHeaders */
#define SIGV4_URI_MAX     8192      /* request-target we are willing to canonicalise */

/* Why a request was refused, each with AWS's exception name and status
 * (sigv4_verdict_type / sigv4_verdict_status). */
enum sigv4_verdict {
	SIGV4_OK = 0,
	SIGV4_MISSING,       /* no Authorization header: MissingAuthenticationTokenException */
	SIGV4_INCOMPLETE,    /* malformed header or scope: IncompleteSignatureException */
	SIGV4_UNKNOWN_KEY,   /* access key id not ours (or revoked): UnrecognizedClientException */
	SIGV4_BAD_SIGNATURE, /* signature or payload hash mismatch: InvalidSignatureException */
	SIGV4_EXPIRED,       /* X-Amz-Date more than 15 min away: InvalidSignatureException */
	SIGV4_LOOKUP_FAILED, /* the key lookup itself failed (database down): *e says why */
};

/* The parsed Authorization header. */
struct sigv4_auth {
	char akid[SIGV4_AKID_MAX];
	char date[9]; /* YYYYMMDD of the credential scope */
	char region[SIGV4_SCOPE_MAX];
	char service[SIGV4_SCOPE_MAX];
	char signed_headers[SIGV4_SIGNED_MAX]; /* as sent: "host;x-amz-date" */
	char signature[65];                    /* 64 lower-case hex digits */
};

/* Returns the value of a request header by its lower-case name, or NULL. */
typedef const char *(*sigv4_header_fn)(void *ctx, const char *lname);

/* Looks up the secret of an access key id.  Returns 1 and writes the
 * NUL-terminated secret into secret[SIGV4_SECRET_MAX] when the key is known
 * and usable, 0 when it is unknown or revoked, -1 with *e set when the lookup
 * itself failed. */
typedef int (*sigv4_secret_fn)(void *ctx, const char *akid, char *secret, struct err **e);

/* One request to verify.  Nothing here is owned by the verifier. */
struct sigv4_request {
	const char *method;  /* "POST" */
	const char *uri;     /* the request-target as sent: path[?query] */
	const char *service; /* the service the credential must be scoped to: "lambda" */
	const void *body;    /* request body (may be NULL when body_len is 0) */
	size_t body_len;
	time_t now;             /* the server's clock */
	sigv4_header_fn header; /* header lookup; "authorization" included */
	void *header_ctx;
	sigv4_secret_fn secret; /* key lookup */
	void *secret_ctx;
};

/* Verifies req.  Returns SIGV4_OK and writes the verified access key id into
 * akid_out[SIGV4_AKID_MAX], or another verdict with *e holding the message the
 * client should see (AWS's wording where AWS has one). */
enum sigv4_verdict sigv4_verify(const struct sigv4_request *req, char *akid_out, struct err **e);

/* AWS's exception name for a verdict ("InvalidSignatureException"...). */
const char *sigv4_verdict_type(enum sigv4_verdict v);
/* The HTTP status for a verdict (403, or 503 for SIGV4_LOOKUP_FAILED). */
int sigv4_verdict_status(enum sigv4_verdict v);

/* Parses an Authorization header value.  0 and *out filled on success. */
int sigv4_parse_authorization(const char *value, struct sigv4_auth *out, struct err **e);

/* Appends the canonical URI of path (len bytes, no query) to out. */
int sigv4_canonical_uri(const char *path, size_t len, struct buf *out, struct err **e);
/* Appends the canonical query string of query (len bytes, after the '?'). */
int sigv4_canonical_query(const char *query, size_t len, struct buf *out, struct err **e);

/* Builds the canonical request into out (reset first).  payload_hash is 64
 * hex digits (or a literal like UNSIGNED-PAYLOAD). */
int sigv4_canonical_request(const struct sigv4_request *req, const char *signed_headers,
                            const char *payload_hash, struct buf *out, struct err **e);

/* The signature (64 hex digits + NUL into sig_hex[65]) of a canonical
 * request, for amz_date "YYYYMMDDTHHMMSSZ" and the given scope. */
void sigv4_signature(const char *secret, const char *amz_date, const char *region,
                     const char *service, const char *canonical_request, size_t creq_len,
                     char sig_hex[65]);

/* Lower-case hex SHA-256 of data into hex[65]. */
void sigv4_sha256_hex(const void *data, size_t len, char hex[65]);

/* Parses "YYYYMMDDTHHMMSSZ" into *t (UTC).  0 on success, -1 otherwise. */
int sigv4_parse_amz_date(const char *s, time_t *t);

#endif
