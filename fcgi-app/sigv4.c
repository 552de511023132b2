/* AWS Signature Version 4 verification.  See sigv4.h for the rules. */
#include <config.h>

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "cleanup.h"
#include "sigv4.h"
#include "xalloc.h"

#define ALGORITHM "AWS4-HMAC-SHA256"

static const char hexdig[] = "0123456789abcdef";

/* ------------------------------------------------------------------ */
/* Hashing                                                              */
/* ------------------------------------------------------------------ */

static void to_hex(const unsigned char *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexdig[in[i] >> 4];
		out[2 * i + 1] = hexdig[in[i] & 15];
	}
	out[2 * n] = '\0';
}

void sigv4_sha256_hex(const void *data, size_t len, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	EVP_Digest(data != NULL ? data : "", len, md, &mdlen, EVP_sha256(), NULL);
	to_hex(md, 32, hex);
}

static void hmac256(const void *key, size_t keylen, const void *msg, size_t msglen,
                    unsigned char out[32])
{
	unsigned int outlen = 32;

	HMAC(EVP_sha256(), key, (int)keylen, msg, msglen, out, &outlen);
}

void sigv4_signature(const char *secret, const char *amz_date, const char *region,
                     const char *service, const char *canonical_request, size_t creq_len,
                     char sig_hex[65])
{
	unsigned char k[32], kk[32], sig[32];
	char kdate[SIGV4_SECRET_MAX + 8];
	char creq_hex[65];
	char sts[512];
	int n;

	/* String to sign: algorithm, timestamp, scope, hash of the canonical request. */
	sigv4_sha256_hex(canonical_request, creq_len, creq_hex);
	n = snprintf(sts, sizeof(sts), ALGORITHM "\n%s\n%.8s/%s/%s/aws4_request\n%s", amz_date,
	             amz_date, region, service, creq_hex);
	if (n < 0 || (size_t)n >= sizeof(sts))
		n = (int)sizeof(sts) - 1; /* bounded inputs make this unreachable */

	/* Signing key: HMAC chain from "AWS4" + secret through the scope. */
	snprintf(kdate, sizeof(kdate), "AWS4%s", secret);
	hmac256(kdate, strlen(kdate), amz_date, 8, k);
	hmac256(k, 32, region, strlen(region), kk);
	hmac256(kk, 32, service, strlen(service), k);
	hmac256(k, 32, "aws4_request", 12, kk);
	hmac256(kk, 32, sts, (size_t)n, sig);
	to_hex(sig, 32, sig_hex);
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(kk, sizeof(kk));
	OPENSSL_cleanse(kdate, sizeof(kdate));
}

/* ------------------------------------------------------------------ */
/* The Authorization header                                             */
/* ------------------------------------------------------------------ */

static int all_chars(const char *s, size_t n, const char *extra)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!isalnum(c) && (c == '\0' || strchr(extra, c) == NULL))
			return 0;
	}
	return 1;
}

/* Copies [s, s+n) into dst[size] if it fits and only has allowed chars. */
static int copy_field(char *dst, size_t size, const char *s, size_t n, const char *extra)
{
	if (n == 0 || n >= size || !all_chars(s, n, extra))
		return -1;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

static int parse_credential(const char *v, size_t n, struct sigv4_auth *a, struct err **e)
{
	const char *part[5];
	size_t plen[5];
	size_t k = 0;
	const char *p = v, *end = v + n;

	while (k < 5) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		const char *stop = slash != NULL ? slash : end;
		part[k] = p;
		plen[k] = (size_t)(stop - p);
		k++;
		if (slash == NULL)
			break;
		p = slash + 1;
	}
	if (k != 5 || p + plen[4] != end)
		return err_set(e, ERR_INVALID,
		               "Credential should be scoped to a valid region, not '%.*s'. ",
		               (int)(n > 200 ? 200 : n), v);
	if (copy_field(a->akid, sizeof(a->akid), part[0], plen[0], "") < 0)
		return err_set(e, ERR_INVALID, "Credential has an invalid access key id.");
	if (plen[1] != 8 || !all_chars(part[1], 8, "") || strspn(part[1], "0123456789") < 8)
		return err_set(e, ERR_INVALID, "Credential has an invalid date.");
	memcpy(a->date, part[1], 8);
	a->date[8] = '\0';
	if (copy_field(a->region, sizeof(a->region), part[2], plen[2], "-") < 0)
		return err_set(e, ERR_INVALID, "Credential should be scoped to a valid region.");
	if (copy_field(a->service, sizeof(a->service), part[3], plen[3], "-") < 0)
		return err_set(e, ERR_INVALID, "Credential should be scoped to a valid service.");
	if (plen[4] != 12 || memcmp(part[4], "aws4_request", 12) != 0)
		return err_set(
		    e, ERR_INVALID,
		    "Credential should be scoped with a valid terminator: 'aws4_request'.");
	return 0;
}

static int parse_signed_headers(const char *v, size_t n, struct sigv4_auth *a, struct err **e)
{
	size_t names = 1;

	if (n == 0 || n >= sizeof(a->signed_headers) || !all_chars(v, n, "-;_") || v[0] == ';' ||
	    v[n - 1] == ';')
		return err_set(e, ERR_INVALID, "SignedHeaders is malformed.");
	for (size_t i = 0; i < n; i++) {
		if (isupper((unsigned char)v[i]))
			return err_set(e, ERR_INVALID, "SignedHeaders must be lower case.");
		if (v[i] == ';') {
			if (v[i + 1] == ';')
				return err_set(e, ERR_INVALID, "SignedHeaders is malformed.");
			names++;
		}
	}
	if (names > SIGV4_MAX_HEADERS)
		return err_set(e, ERR_INVALID, "SignedHeaders names too many headers.");
	memcpy(a->signed_headers, v, n);
	a->signed_headers[n] = '\0';
	return 0;
}

static int parse_signature(const char *v, size_t n, struct sigv4_auth *a, struct err **e)
{
	if (n != 64 || strspn(v, "0123456789abcdef") < 64)
		return err_set(e, ERR_INVALID, "Signature must be 64 lower-case hex digits.");
	memcpy(a->signature, v, 64);
	a->signature[64] = '\0';
	return 0;
}

/* "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..." */
int sigv4_parse_authorization(const char *value, struct sigv4_auth *out, struct err **e)
{
	static const char *const names[3] = {"Credential", "SignedHeaders", "Signature"};
	struct sigv4_auth a;
	int seen[3] = {0, 0, 0};
	const char *p = value;

	memset(&a, 0, sizeof(a));
	if (strncmp(p, ALGORITHM, strlen(ALGORITHM)) != 0 ||
	    (p[strlen(ALGORITHM)] != ' ' && p[strlen(ALGORITHM)] != '\t'))
		return err_set(e, ERR_INVALID,
		               "Authorization header must start with '" ALGORITHM " '.");
	p += strlen(ALGORITHM);
	while (*p != '\0') {
		const char *key, *eq, *val, *stop;
		int i;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		key = p;
		eq = strchr(key, '=');
		if (eq == NULL)
			return err_set(e, ERR_INVALID, "Authorization header is malformed.");
		val = eq + 1;
		stop = val + strcspn(val, ", \t");
		for (i = 0; i < 3; i++)
			if ((size_t)(eq - key) == strlen(names[i]) &&
			    memcmp(key, names[i], (size_t)(eq - key)) == 0)
				break;
		if (i == 3 || seen[i])
			return err_set(e, ERR_INVALID, "Authorization header is malformed.");
		seen[i] = 1;
		if ((i == 0 && parse_credential(val, (size_t)(stop - val), &a, e) < 0) ||
		    (i == 1 && parse_signed_headers(val, (size_t)(stop - val), &a, e) < 0) ||
		    (i == 2 && parse_signature(val, (size_t)(stop - val), &a, e) < 0))
			return -1;
		p = stop;
	}
	for (int i = 0; i < 3; i++)
		if (!seen[i])
			return err_set(e, ERR_INVALID,
			               "Authorization header requires '%s' parameter.", names[i]);
	*out = a;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Canonical request                                                    */
/* ------------------------------------------------------------------ */

static int unreserved(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

static int append_encoded(struct buf *out, const char *s, size_t n, int keep_slash, struct err **e)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char enc[3];

		if (unreserved(c) || (keep_slash && c == '/')) {
			if (buf_append(out, &s[i], 1, e) < 0)
				return -1;
			continue;
		}
		enc[0] = '%';
		enc[1] = "0123456789ABCDEF"[c >> 4];
		enc[2] = "0123456789ABCDEF"[c & 15];
		if (buf_append(out, enc, 3, e) < 0)
			return -1;
	}
	return 0;
}

/* Like botocore's remove_dot_segments: "." and empty segments vanish, ".."
 * removes the previous one; a leading and a trailing slash are kept. */
int sigv4_canonical_uri(const char *path, size_t len, struct buf *out, struct err **e)
{
	_cleanup_free_ size_t *starts = NULL;
	_cleanup_free_ size_t *lens = NULL;
	size_t nseg = 0;
	size_t i = 0;

	if (len > SIGV4_URI_MAX)
		return err_set(e, ERR_TOO_LARGE, "request URI longer than %d bytes", SIGV4_URI_MAX);
	starts = xcalloc(len / 2 + 1, sizeof(*starts));
	lens = xcalloc(len / 2 + 1, sizeof(*lens));
	while (i < len) {
		size_t j = i;
		while (j < len && path[j] != '/')
			j++;
		if (j - i == 2 && path[i] == '.' && path[i + 1] == '.') {
			if (nseg > 0)
				nseg--;
		} else if (j > i && !(j - i == 1 && path[i] == '.')) {
			starts[nseg] = i;
			lens[nseg] = j - i;
			nseg++;
		}
		i = j + 1;
	}
	if (len == 0 || path[0] == '/')
		if (buf_append(out, "/", 1, e) < 0)
			return -1;
	for (size_t k = 0; k < nseg; k++) {
		if (k > 0 && buf_append(out, "/", 1, e) < 0)
			return -1;
		if (append_encoded(out, path + starts[k], lens[k], 0, e) < 0)
			return -1;
	}
	if (len > 0 && path[len - 1] == '/' && nseg > 0)
		if (buf_append(out, "/", 1, e) < 0)
			return -1;
	return 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decodes %XX in [s, s+n) and re-encodes strictly into out. */
static int reencode(const char *s, size_t n, struct buf *out, struct err **e)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '%' && i + 2 < n && hexval((unsigned char)s[i + 1]) >= 0 &&
		    hexval((unsigned char)s[i + 2]) >= 0) {
			c = (char)(hexval((unsigned char)s[i + 1]) * 16 +
			           hexval((unsigned char)s[i + 2]));
			i += 2;
		}
		if (append_encoded(out, &c, 1, 0, e) < 0)
			return -1;
	}
	return 0;
}

struct qpair {
	char *key;
	char *val;
};

static int qpair_cmp(const void *a, const void *b)
{
	const struct qpair *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c != 0 ? c : strcmp(x->val, y->val);
}

#define SIGV4_MAX_QUERY_PARAMS 128

int sigv4_canonical_query(const char *query, size_t len, struct buf *out, struct err **e)
{
	struct qpair pairs[SIGV4_MAX_QUERY_PARAMS];
	size_t n = 0, i = 0;
	int rc = -1;

	while (i < len) {
		size_t j = i, eq;
		struct buf k, v;

		while (j < len && query[j] != '&')
			j++;
		if (j == i) { /* "a=1&&b=2": nothing to sign in between */
			i = j + 1;
			continue;
		}
		if (n == SIGV4_MAX_QUERY_PARAMS) {
			err_set(e, ERR_INVALID, "more than %d query parameters",
			        SIGV4_MAX_QUERY_PARAMS);
			goto out;
		}
		for (eq = i; eq < j && query[eq] != '='; eq++)
			;
		buf_init(&k, 3 * (eq - i) + 1);
		buf_init(&v, 3 * (j - eq) + 1);
		reencode(query + i, eq - i, &k, NULL);
		if (eq < j)
			reencode(query + eq + 1, j - eq - 1, &v, NULL);
		pairs[n].key = k.data != NULL ? buf_take(&k) : xstrdup("");
		pairs[n].val = v.data != NULL ? buf_take(&v) : xstrdup("");
		n++;
		i = j + 1;
	}
	if (n > 1) /* also keeps cppcheck from reading the unused tail */
		qsort(pairs, n, sizeof(pairs[0]), qpair_cmp);
	for (i = 0; i < n; i++) {
		if ((i > 0 && buf_append(out, "&", 1, e) < 0) ||
		    buf_appendf(out, e, "%s=%s", pairs[i].key, pairs[i].val) < 0)
			goto out;
	}
	rc = 0;
out:
	for (i = 0; i < n; i++) {
		free(pairs[i].key);
		free(pairs[i].val);
	}
	return rc;
}

/* Appends "name:value\n" with the value trimmed and inner runs of
 * whitespace collapsed to one space (AWS's Trimall). */
static int append_header(struct buf *out, const char *name, size_t nlen, const char *value,
                         struct err **e)
{
	int space = 0, any = 0;

	if (buf_append(out, name, nlen, e) < 0 || buf_append(out, ":", 1, e) < 0)
		return -1;
	for (const char *p = value; *p != '\0'; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\v' ||
		    *p == '\f') {
			space = any;
			continue;
		}
		if (space && buf_append(out, " ", 1, e) < 0)
			return -1;
		if (buf_append(out, p, 1, e) < 0)
			return -1;
		space = 0;
		any = 1;
	}
	return buf_append(out, "\n", 1, e);
}

int sigv4_canonical_request(const struct sigv4_request *req, const char *signed_headers,
                            const char *payload_hash, struct buf *out, struct err **e)
{
	const char *q = strchr(req->uri, '?');
	size_t plen = q != NULL ? (size_t)(q - req->uri) : strlen(req->uri);
	const char *p = signed_headers;

	buf_reset(out);
	if (buf_appendf(out, e, "%s\n", req->method) < 0 ||
	    sigv4_canonical_uri(req->uri, plen, out, e) < 0 || buf_append(out, "\n", 1, e) < 0)
		return -1;
	if (q != NULL && sigv4_canonical_query(q + 1, strlen(q + 1), out, e) < 0)
		return -1;
	if (buf_append(out, "\n", 1, e) < 0)
		return -1;
	while (*p != '\0') {
		size_t n = strcspn(p, ";");
		char name[SIGV4_SIGNED_MAX];
		const char *v;

		if (n >= sizeof(name))
			return err_set(e, ERR_INVALID, "signed header name too long");
		memcpy(name, p, n);
		name[n] = '\0';
		v = req->header(req->header_ctx, name);
		if (v == NULL)
			return err_set(e, ERR_INVALID,
			               "The request does not have the signed header '%s'.", name);
		if (append_header(out, p, n, v, e) < 0)
			return -1;
		p += n;
		if (*p == ';')
			p++;
	}
	return buf_appendf(out, e, "\n%s\n%s", signed_headers, payload_hash);
}

/* ------------------------------------------------------------------ */
/* Dates                                                                */
/* ------------------------------------------------------------------ */

int sigv4_parse_amz_date(const char *s, time_t *t)
{
	struct tm tm;
	int v[6];
	const int pos[6] = {0, 4, 6, 9, 11, 13}, len[6] = {4, 2, 2, 2, 2, 2};

	if (strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
		return -1;
	for (int i = 0; i < 6; i++) {
		v[i] = 0;
		for (int j = 0; j < len[i]; j++) {
			char c = s[pos[i] + j];
			if (c < '0' || c > '9')
				return -1;
			v[i] = v[i] * 10 + (c - '0');
		}
	}
	if (v[0] < 1970 || v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 ||
	    v[4] > 59 || v[5] > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = v[0] - 1900;
	tm.tm_mon = v[1] - 1;
	tm.tm_mday = v[2];
	tm.tm_hour = v[3];
	tm.tm_min = v[4];
	tm.tm_sec = v[5];
	*t = timegm(&tm);
	return 0;
}

/* The request's timestamp as "YYYYMMDDTHHMMSSZ": X-Amz-Date, else an RFC
 * 1123 Date header.  Also says which header it came from. */
static int request_date(const struct sigv4_request *req, char amz[17], time_t *t, const char **from,
                        struct err **e)
{
	const char *v = req->header(req->header_ctx, "x-amz-date");
	struct tm tm;

	if (v != NULL) {
		if (sigv4_parse_amz_date(v, t) < 0)
			return err_set(e, ERR_INVALID,
			               "X-Amz-Date must be in the ISO8601 basic format "
			               "YYYYMMDD'T'HHMMSS'Z'.");
		memcpy(amz, v, 17);
		*from = "x-amz-date";
		return 0;
	}
	v = req->header(req->header_ctx, "date");
	if (v == NULL)
		return err_set(e, ERR_INVALID,
		               "Authorization header requires existence of either a 'X-Amz-Date' "
		               "or a 'Date' header.");
	memset(&tm, 0, sizeof(tm));
	{
		const char *end = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
		if (end == NULL || *end != '\0')
			return err_set(e, ERR_INVALID, "Date header is not an RFC 1123 date.");
	}
	*t = timegm(&tm);
	strftime(amz, 17, "%Y%m%dT%H%M%SZ", &tm);
	*from = "date";
	return 0;
}

static void fmt_amz(time_t t, char out[17])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

static int check_fresh(const char *amz, time_t t, time_t now, struct err **e)
{
	char nows[17], edge[17];

	fmt_amz(now, nows);
	if (t < now - SIGV4_MAX_SKEW_S) {
		fmt_amz(now - SIGV4_MAX_SKEW_S, edge);
		return err_set(e, ERR_FORBIDDEN,
		               "Signature expired: %s is now earlier than %s (%s - 15 min.)", amz,
		               edge, nows);
	}
	if (t > now + SIGV4_MAX_SKEW_S) {
		fmt_amz(now + SIGV4_MAX_SKEW_S, edge);
		return err_set(
		    e, ERR_FORBIDDEN,
		    "Signature not yet current: %s is still later than %s (%s + 15 min.)", amz,
		    edge, nows);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Verification                                                         */
/* ------------------------------------------------------------------ */

static int list_has(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; *p != '\0';) {
		size_t m = strcspn(p, ";");
		if (m == n && memcmp(p, name, n) == 0)
			return 1;
		p += m;
		if (*p == ';')
			p++;
	}
	return 0;
}

/* The payload hash to sign: the x-amz-content-sha256 header, which must then
 * describe the body we received, or the body's own hash. */
static int payload_hash(const struct sigv4_request *req, char hash[65], struct err **e)
{
	const char *h = req->header(req->header_ctx, "x-amz-content-sha256");

	sigv4_sha256_hex(req->body, req->body_len, hash);
	if (h != NULL && strcmp(h, hash) != 0)
		return err_set(e, ERR_FORBIDDEN,
		               "The provided 'x-amz-content-sha256' header does not match what was "
		               "computed.");
	return 0;
}

/* The parts of verification that need no secret: the scope and the date. */
static enum sigv4_verdict check_scope(const struct sigv4_request *req, const struct sigv4_auth *a,
                                      char amz[17], time_t *t, struct err **e)
{
	const char *date_from = NULL;

	if (strcmp(a->service, req->service) != 0) {
		err_set(e, ERR_INVALID, "Credential should be scoped to correct service: '%s'.",
		        req->service);
		return SIGV4_INCOMPLETE;
	}
	if (request_date(req, amz, t, &date_from, e) < 0)
		return SIGV4_INCOMPLETE;
	if (!list_has(a->signed_headers, "host") || !list_has(a->signed_headers, date_from)) {
		err_set(e, ERR_INVALID, "Signed headers must include 'host' and '%s'.", date_from);
		return SIGV4_INCOMPLETE;
	}
	if (memcmp(a->date, amz, 8) != 0) {
		err_set(e, ERR_INVALID,
		        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
		        "date from HTTP: '%s' != '%.8s', from '%s'.",
		        a->date, amz, amz);
		return SIGV4_INCOMPLETE;
	}
	return SIGV4_OK;
}

/* Recomputes the signature with the secret and compares in constant time. */
static enum sigv4_verdict check_signature(const struct sigv4_request *req,
                                          const struct sigv4_auth *a, const char *secret,
                                          const char *amz, struct err **e)
{
	char hash[65], sig[65];
	struct buf creq;
	int rc;

	if (payload_hash(req, hash, e) < 0)
		return SIGV4_BAD_SIGNATURE;
	buf_init(&creq, SIGV4_URI_MAX * 4 + 64 * 1024);
	rc = sigv4_canonical_request(req, a->signed_headers, hash, &creq, e);
	if (rc == 0)
		sigv4_signature(secret, amz, a->region, a->service, creq.data, creq.len, sig);
	buf_free(&creq);
	if (rc < 0)
		return SIGV4_INCOMPLETE;
	if (CRYPTO_memcmp(sig, a->signature, 64) != 0) {
		err_set(
		    e, ERR_FORBIDDEN,
		    "The request signature we calculated does not match the signature you "
		    "provided. Check your AWS Secret Access Key and signing method. Consult the "
		    "service documentation for details.");
		return SIGV4_BAD_SIGNATURE;
	}
	return SIGV4_OK;
}

enum sigv4_verdict sigv4_verify(const struct sigv4_request *req, char *akid_out, struct err **e)
{
	struct sigv4_auth a;
	char secret[SIGV4_SECRET_MAX];
	char amz[17];
	const char *authz = req->header(req->header_ctx, "authorization");
	enum sigv4_verdict v;
	time_t t = 0;
	int rc;

	if (authz == NULL || *authz == '\0') {
		err_set(e, ERR_UNAUTHORIZED, "Missing Authentication Token");
		return SIGV4_MISSING;
	}
	if (sigv4_parse_authorization(authz, &a, e) < 0)
		return SIGV4_INCOMPLETE;
	v = check_scope(req, &a, amz, &t, e);
	if (v != SIGV4_OK)
		return v;
	rc = req->secret(req->secret_ctx, a.akid, secret, e);
	if (rc < 0)
		return SIGV4_LOOKUP_FAILED;
	if (rc == 0) {
		err_set(e, ERR_UNAUTHORIZED,
		        "The security token included in the request is invalid.");
		return SIGV4_UNKNOWN_KEY;
	}
	secret[SIGV4_SECRET_MAX - 1] = '\0';
	if (check_fresh(amz, t, req->now, e) < 0)
		v = SIGV4_EXPIRED;
	else
		v = check_signature(req, &a, secret, amz, e);
	OPENSSL_cleanse(secret, sizeof(secret));
	if (v == SIGV4_OK)
		memcpy(akid_out, a.akid, strlen(a.akid) + 1);
	return v;
}

const char *sigv4_verdict_type(enum sigv4_verdict v)
{
	switch (v) {
	case SIGV4_OK:
		return "";
	case SIGV4_MISSING:
		return "MissingAuthenticationTokenException";
	case SIGV4_INCOMPLETE:
		return "IncompleteSignatureException";
	case SIGV4_UNKNOWN_KEY:
		return "UnrecognizedClientException";
	case SIGV4_BAD_SIGNATURE:
	case SIGV4_EXPIRED:
		return "InvalidSignatureException";
	case SIGV4_LOOKUP_FAILED:
		return "ServiceException";
	}
	return "ServiceException";
}

int sigv4_verdict_status(enum sigv4_verdict v)
{
	switch (v) {
	case SIGV4_OK:
		return 200;
	case SIGV4_LOOKUP_FAILED:
		return 503;
	default:
		return 403;
	}
}
