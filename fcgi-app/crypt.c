#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "crypt.h"
#include "xalloc.h"

/* OpenSSL 3 looks the implementation of EVP_sha256() up in its providers
 * (a lock and name compares) on every digest made with it, an "implicit
 * fetch": 2% of lambda-api's CPU under load, for the API key hash of every
 * request (perf, 128 wrk clients).  Fetched once here, kept for the life of
 * the process (one object, never freed). */
static const EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
#endif
	if (sha256_md == NULL)
		sha256_md = EVP_sha256();
}

static const EVP_MD *sha256(void)
{
	pthread_once(&sha256_once, sha256_fetch);
	return sha256_md;
}

void crypt_sha256(const void *data, size_t len, uint8_t out[CRYPT_SHA256_LEN])
{
	unsigned int n = CRYPT_SHA256_LEN;

	EVP_Digest(data, len, out, &n, sha256(), NULL);
}

void crypt_hex(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

void crypt_sha256_hex(const void *data, size_t len, char out[65])
{
	uint8_t md[CRYPT_SHA256_LEN];

	crypt_sha256(data, len, md);
	crypt_hex(md, sizeof(md), out);
}

void crypt_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                       uint8_t out[CRYPT_SHA256_LEN])
{
	unsigned int n = CRYPT_SHA256_LEN;

	HMAC(sha256(), key, (int)keylen, data, len, out, &n);
}

int crypt_random(void *buf, size_t n, struct err **e)
{
	if (RAND_bytes(buf, (int)n) != 1)
		return err_set(e, ERR_INTERNAL, "no random bytes available");
	return 0;
}

int crypt_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

static char *b64(const void *in, size_t n, int url)
{
	static const char std[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	static const char safe[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const char *al = url ? safe : std;
	const uint8_t *p = in;
	char *out = xmalloc((n + 2) / 3 * 4 + 1);
	size_t o = 0, i;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		out[o++] = al[v >> 18];
		out[o++] = al[(v >> 12) & 63];
		out[o++] = al[(v >> 6) & 63];
		out[o++] = al[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
		out[o++] = al[v >> 18];
		out[o++] = al[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = al[(v >> 6) & 63];
		else if (!url)
			out[o++] = '=';
		if (!url)
			out[o++] = '=';
	}
	out[o] = '\0';
	return out;
}

char *crypt_base64(const void *in, size_t n)
{
	return b64(in, n, 0);
}

char *crypt_base64url(const void *in, size_t n)
{
	return b64(in, n, 1);
}

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int crypt_base64_decode(const char *in, size_t len, size_t max, uint8_t **out, size_t *outlen,
                        struct err **e)
{
	size_t pad = 0, n, o = 0;
	uint8_t *buf;

	if (len % 4 != 0)
		return err_set(e, ERR_INVALID, "not base64: length is not a multiple of 4");
	if (len >= 1 && in[len - 1] == '=')
		pad++;
	if (len >= 2 && in[len - 2] == '=')
		pad++;
	n = len / 4 * 3 - pad;
	if (n > max)
		return err_set(e, ERR_TOO_LARGE, "decodes to %zu bytes, the limit is %zu", n, max);
	buf = xmalloc(n + 1);
	for (size_t i = 0; i < len; i += 4) {
		int v[4];
		for (int k = 0; k < 4; k++) {
			v[k] = b64val(in[i + k]);
			if (v[k] < 0 && !(in[i + k] == '=' && i + 4 == len && k >= 4 - (int)pad)) {
				free(buf);
				return err_set(e, ERR_INVALID, "not base64: bad character at %zu",
				               i + (size_t)k);
			}
			if (v[k] < 0)
				v[k] = 0;
		}
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
		             (uint32_t)v[3];
		if (o < n)
			buf[o++] = (uint8_t)(w >> 16);
		if (o < n)
			buf[o++] = (uint8_t)(w >> 8);
		if (o < n)
			buf[o++] = (uint8_t)w;
	}
	buf[n] = '\0';
	*out = buf;
	*outlen = n;
	return 0;
}

/* Request ids are not secrets (they are returned to the caller and logged),
 * but must not repeat: 74 random bits per id from the kernel's CSPRNG,
 * drawn 256 bytes at a time per thread.  RAND_bytes cost ~4 us a call here
 * (locking, and a getpid() for its fork check); one getrandom() per 25 ids
 * does not.  A fork empties the child's buffer (the generation below), so a
 * child never hands out its parent's bytes. */
#define ID_POOL 256
static unsigned id_generation;
static pthread_once_t id_once = PTHREAD_ONCE_INIT;

static void id_after_fork(void)
{
	id_generation++;
}

static void id_register(void)
{
	pthread_atfork(NULL, NULL, id_after_fork);
}

static int id_random(uint8_t *out, size_t n, struct err **e)
{
	static __thread uint8_t pool[ID_POOL];
	static __thread size_t left;
	static __thread unsigned gen;

	pthread_once(&id_once, id_register);
	if (gen != id_generation)
		left = 0;
	if (left < n) {
		size_t got = 0;
		while (got < sizeof(pool)) {
			ssize_t r = getrandom(pool + got, sizeof(pool) - got, 0);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				return crypt_random(out, n, e);
			got += (size_t)r;
		}
		left = sizeof(pool);
		gen = id_generation;
	}
	memcpy(out, pool + sizeof(pool) - left, n);
	left -= n;
	return 0;
}

int crypt_uuid7(char out[37], struct err **e)
{
	uint8_t r[16];
	char hex[33];
	struct timespec ts;
	uint64_t ms;

	if (id_random(r + 6, sizeof(r) - 6, e) < 0)
		return -1;
	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	for (int i = 0; i < 6; i++)
		r[i] = (uint8_t)(ms >> (8 * (5 - i)));
	r[6] = (uint8_t)((r[6] & 0x0f) | 0x70);
	r[8] = (uint8_t)((r[8] & 0x3f) | 0x80);
	crypt_hex(r, sizeof(r), hex);
	memcpy(out, hex, 8);
	out[8] = '-';
	memcpy(out + 9, hex + 8, 4);
	out[13] = '-';
	memcpy(out + 14, hex + 12, 4);
	out[18] = '-';
	memcpy(out + 19, hex + 16, 4);
	out[23] = '-';
	memcpy(out + 24, hex + 20, 12);
	out[36] = '\0';
	return 0;
}
