/* libFuzzer target: the SigV4 verifier on hostile requests.
 *
 * Input: newline-separated fields method, request-target, Authorization,
 * X-Amz-Date, Host, x-amz-content-sha256 (empty line: absent), then the
 * body.  The key AKIDEXAMPLE exists; the clock is 20150830T123600Z, so the
 * published vectors in the seed corpus verify all the way through. */
#include <config.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sigv4.h"

#define NFIELDS 6

struct fields {
	char *f[NFIELDS];
};

static const char *hdr(void *ctx, const char *lname)
{
	struct fields *x = ctx;
	const char *v = NULL;

	if (strcmp(lname, "authorization") == 0)
		v = x->f[2];
	else if (strcmp(lname, "x-amz-date") == 0)
		v = x->f[3];
	else if (strcmp(lname, "host") == 0)
		v = x->f[4];
	else if (strcmp(lname, "x-amz-content-sha256") == 0)
		v = x->f[5];
	return v != NULL && *v != '\0' ? v : NULL;
}

static int secret(void *ctx, const char *akid, char *out, struct err **e)
{
	(void)ctx;
	if (strcmp(akid, "DBDOWN") == 0)
		return err_set(e, ERR_UNAVAILABLE, "down");
	if (strcmp(akid, "AKIDEXAMPLE") != 0)
		return 0;
	memcpy(out, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", 41);
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1);
	struct fields x;
	char *p = copy, *body;
	char akid[SIGV4_AKID_MAX];
	struct err *e = NULL;
	struct buf b;

	memcpy(copy, data, size);
	copy[size] = '\0';
	for (int i = 0; i < NFIELDS; i++) {
		char *nl = p != NULL ? strchr(p, '\n') : NULL;
		x.f[i] = p;
		if (nl != NULL)
			*nl = '\0';
		p = nl != NULL ? nl + 1 : NULL;
	}
	body = p;
	if (x.f[0] != NULL && x.f[1] != NULL) {
		struct sigv4_request r = {
		    .method = x.f[0],
		    .uri = x.f[1],
		    .service = "service",
		    .body = body,
		    .body_len = body != NULL ? size - (size_t)(body - copy) : 0,
		    .now = 1440938160,
		    .header = hdr,
		    .header_ctx = &x,
		    .secret = secret,
		};
		sigv4_verify(&r, akid, &e);
		err_free(&e);
	}
	/* The canonical forms on the raw bytes, NULs included. */
	buf_init(&b, 1 << 20);
	sigv4_canonical_uri((const char *)data, size, &b, &e);
	err_free(&e);
	buf_reset(&b);
	sigv4_canonical_query((const char *)data, size, &b, &e);
	err_free(&e);
	buf_free(&b);
	free(copy);
	return 0;
}
