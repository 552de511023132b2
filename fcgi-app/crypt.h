/* Small wrappers around OpenSSL's libcrypto: hashes, HMAC, randomness and
 * the encodings the API needs.  Thread-safe (the one shared state: the
 * SHA-256 implementation, fetched once). */
#ifndef LAMBDA_API_CRYPT_H
#define LAMBDA_API_CRYPT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define CRYPT_SHA256_LEN 32

void crypt_sha256(const void *data, size_t len, uint8_t out[CRYPT_SHA256_LEN]);
/* out receives 64 lower-case hex digits and a NUL. */
void crypt_sha256_hex(const void *data, size_t len, char out[65]);
void crypt_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                       uint8_t out[CRYPT_SHA256_LEN]);
/* Fills buf with n cryptographically random bytes; ERR_INTERNAL on failure. */
int crypt_random(void *buf, size_t n, struct err **e);
/* Constant-time comparison of two equally long buffers: 1 if equal. */
int crypt_equal(const void *a, const void *b, size_t n);
/* Lower-case hex of n bytes into out (2n+1 bytes). */
void crypt_hex(const uint8_t *in, size_t n, char *out);
/* Base64 (standard alphabet, padded) of n bytes; the caller frees the result. */
char *crypt_base64(const void *in, size_t n);
/* Base64url without padding; the caller frees the result. */
char *crypt_base64url(const void *in, size_t n);
/* Decodes standard base64 (padding required, no whitespace).  On success
 * *out is a new buffer (freed by the caller) of *outlen bytes.  ERR_INVALID
 * when the input is not base64; ERR_TOO_LARGE when it decodes to more than max. */
int crypt_base64_decode(const char *in, size_t len, size_t max, uint8_t **out, size_t *outlen,
                        struct err **e);
/* A UUID v7 (RFC 9562) in canonical text form (37 bytes with the NUL): the
 * Unix time in ms, then 74 random bits. Request ids are these: ids made in
 * time order land at the right edge of invocations' unique index instead of
 * on a random page of it, which at ~1M rows (a few minutes at full load) cost
 * MariaDB a page read per record once the index outgrew its buffer pool
 * (inserts of 8,000 rows: 35-42 us/row with v4 ids, 26-29 with v7). */
int crypt_uuid7(char out[37], struct err **e);

#endif
