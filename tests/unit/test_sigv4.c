/* SigV4 verification: AWS's published test-suite signatures (get-vanilla,
 * get-vanilla-query-order-key-case, get-utf8, post-x-www-form-urlencoded),
 * vectors made with botocore's SigV4Auth (the signer inside the aws CLI and
 * boto3) for the rules AWS clients rely on, and every refusal. */
#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sigv4.h"

#define AKID   "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define T0     1440938160 /* 20150830T123600Z */
#define SCOPE  "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"

struct hdrs {
	const char *kv[16]; /* name, value, name, value, ..., NULL */
};

static const char *hdr_get(void *ctx, const char *lname)
{
	struct hdrs *h = ctx;

	for (int i = 0; h->kv[i] != NULL; i += 2)
		if (strcmp(h->kv[i], lname) == 0)
			return h->kv[i + 1];
	return NULL;
}

static int lookups;

static int secret_get(void *ctx, const char *akid, char *secret, struct err **e)
{
	(void)ctx;
	lookups++;
	if (strcmp(akid, "DBDOWN") == 0)
		return err_set(e, ERR_UNAVAILABLE, "database unavailable");
	if (strcmp(akid, AKID) != 0)
		return 0;
	memcpy(secret, SECRET, sizeof(SECRET));
	return 1;
}

static enum sigv4_verdict verify(const char *method, const char *uri, struct hdrs *h,
                                 const char *body, time_t now, char **msg)
{
	struct sigv4_request r = {
	    .method = method,
	    .uri = uri,
	    .service = "service",
	    .body = body,
	    .body_len = body != NULL ? strlen(body) : 0,
	    .now = now,
	    .header = hdr_get,
	    .header_ctx = h,
	    .secret = secret_get,
	    .secret_ctx = NULL,
	};
	char akid[SIGV4_AKID_MAX] = "";
	struct err *e = NULL;
	enum sigv4_verdict v = sigv4_verify(&r, akid, &e);

	if (v == SIGV4_OK) {
		assert_null(e);
		assert_string_equal(akid, AKID);
	} else {
		assert_non_null(e);
		assert_string_equal(akid, ""); /* written on success only */
	}
	if (msg != NULL)
		*msg = e != NULL ? strdup(e->msg) : NULL;
	err_free(&e);
	return v;
}

static const char *auth(const char *signed_headers, const char *sig)
{
	static char buf[512];

	snprintf(buf, sizeof(buf), "AWS4-HMAC-SHA256 " SCOPE ", SignedHeaders=%s, Signature=%s",
	         signed_headers, sig);
	return buf;
}

/* get-vanilla and friends: host + x-amz-date only. */
static void check_basic(const char *method, const char *uri, const char *sig)
{
	struct hdrs h = {{"host", "example.amazonaws.com", "x-amz-date", "20150830T123600Z",
	                  "authorization", auth("host;x-amz-date", sig), NULL}};

	assert_int_equal(verify(method, uri, &h, NULL, T0, NULL), SIGV4_OK);
}

static void test_aws_suite(void **state)
{
	(void)state;
	/* get-vanilla */
	check_basic("GET", "/", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
	/* get-vanilla-query-order-key-case: the query is sorted before signing */
	check_basic("GET", "/?Param2=value2&Param1=value1",
	            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
	/* get-utf8: a raw UTF-8 path is encoded once */
	check_basic("GET", "/\xe1\x88\xb4",
	            "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85");
}

static void test_aws_suite_post_form(void **state)
{
	/* post-x-www-form-urlencoded: the body's hash is signed */
	struct hdrs h = {{"host", "example.amazonaws.com", "x-amz-date", "20150830T123600Z",
	                  "content-type", "application/x-www-form-urlencoded", "authorization",
	                  auth("content-type;host;x-amz-date",
	                       "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"),
	                  NULL}};

	(void)state;
	assert_int_equal(verify("POST", "/", &h, "Param1=value1", T0, NULL), SIGV4_OK);
	/* the same signature over another body fails */
	assert_int_equal(verify("POST", "/", &h, "Param1=value2", T0, NULL), SIGV4_BAD_SIGNATURE);
}

static void test_botocore_vectors(void **state)
{
	(void)state;
	/* dot segments removed, as botocore does */
	check_basic("GET", "/example/..",
	            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
	check_basic("GET", "/./",
	            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
	/* consecutive slashes collapsed, trailing slash kept */
	check_basic("GET", "//example//",
	            "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84");
	check_basic("GET", "/example space/",
	            "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741");
	/* repeated keys sorted by value */
	check_basic("GET", "/?Param1=value2&Param1=Value1",
	            "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1");
	check_basic("GET", "/?Param1=value-_.~",
	            "594c10c336bb678ed76fc1a3240d52dd79a85348356911a75ea1b63aa24b7dd4");
	/* an already-encoded query value means the same */
	check_basic("GET", "/?Param1=value%2D%5F%2E%7E",
	            "594c10c336bb678ed76fc1a3240d52dd79a85348356911a75ea1b63aa24b7dd4");
}

static void test_botocore_headers_trimmed(void **state)
{
	struct hdrs h = {{"host", "example.amazonaws.com", "x-amz-date", "20150830T123600Z",
	                  "my-header1", "    value1", "my-header2", "    \"a   b   c\"",
	                  "authorization",
	                  auth("host;my-header1;my-header2;x-amz-date",
	                       "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"),
	                  NULL}};

	(void)state;
	assert_int_equal(verify("GET", "/", &h, NULL, T0, NULL), SIGV4_OK);
}

/* What the aws CLI sends for an invoke by ARN: the path is encoded by the
 * client and encoded again for signing (%3A signs as %253A). */
static struct hdrs lambda_invoke_headers(void)
{
	struct hdrs h = {{"host", "example.amazonaws.com", "x-amz-date", "20150830T123600Z",
	                  "x-amz-invocation-type", "Event", "authorization",
	                  auth("host;x-amz-date;x-amz-invocation-type",
	                       "f45c2f0131142bdb5c7ecad5b0a66b955c5cf70a4985b5a79d9f00877be59d11"),
	                  NULL}};
	return h;
}

#define ARN_URI                                                                                    \
	"/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af/"      \
	"invocations"

static void test_double_encoded_path(void **state)
{
	struct hdrs h = lambda_invoke_headers();

	(void)state;
	assert_int_equal(verify("POST", ARN_URI, &h, "{\"a\":1}", T0, NULL), SIGV4_OK);
	/* the same path decoded is another request */
	assert_int_equal(verify("POST",
	                        "/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:"
	                        "function:f/invocations",
	                        &h, "{\"a\":1}", T0, NULL),
	                 SIGV4_BAD_SIGNATURE);
	/* a signed header changed in flight */
	h.kv[5] = "RequestResponse";
	assert_int_equal(verify("POST", ARN_URI, &h, "{\"a\":1}", T0, NULL), SIGV4_BAD_SIGNATURE);
}

static void test_payload_hash_header(void **state)
{
	struct hdrs h = lambda_invoke_headers();
	char *msg = NULL;

	(void)state;
	/* a matching x-amz-content-sha256 is fine (it is what was signed) */
	h.kv[8] = "x-amz-content-sha256";
	h.kv[9] = "015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862";
	assert_int_equal(verify("POST", ARN_URI, &h, "{\"a\":1}", T0, NULL), SIGV4_OK);
	/* one that does not describe the body is refused before any signing */
	h.kv[9] = "UNSIGNED-PAYLOAD";
	assert_int_equal(verify("POST", ARN_URI, &h, "{\"a\":1}", T0, &msg), SIGV4_BAD_SIGNATURE);
	assert_non_null(strstr(msg, "x-amz-content-sha256"));
	free(msg);
}

static void test_wrong_signature_last_digit(void **state)
{
	struct hdrs h = {{"host", "example.amazonaws.com", "x-amz-date", "20150830T123600Z",
	                  "authorization",
	                  auth("host;x-amz-date",
	                       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf30"),
	                  NULL}};
	char *msg = NULL;

	(void)state;
	assert_int_equal(verify("GET", "/", &h, NULL, T0, &msg), SIGV4_BAD_SIGNATURE);
	assert_non_null(strstr(msg, "does not match the signature you provided"));
	assert_string_equal(sigv4_verdict_type(SIGV4_BAD_SIGNATURE), "InvalidSignatureException");
	assert_int_equal(sigv4_verdict_status(SIGV4_BAD_SIGNATURE), 403);
	free(msg);
}

/* 15 minutes either way is the limit: just inside passes, one second more fails. */
static void test_date_skew_limit_pair(void **state)
{
	const char *sig = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
	struct hdrs h = {{"host", "example.amazonaws.com", "x-amz-date", "20150830T123600Z",
	                  "authorization", auth("host;x-amz-date", sig), NULL}};
	char *msg = NULL;

	(void)state;
	assert_int_equal(verify("GET", "/", &h, NULL, T0 + 900, NULL), SIGV4_OK);
	assert_int_equal(verify("GET", "/", &h, NULL, T0 + 901, &msg), SIGV4_EXPIRED);
	assert_string_equal(msg, "Signature expired: 20150830T123600Z is now earlier than "
	                         "20150830T123601Z (20150830T125101Z - 15 min.)");
	free(msg);
	assert_int_equal(verify("GET", "/", &h, NULL, T0 - 900, NULL), SIGV4_OK);
	assert_int_equal(verify("GET", "/", &h, NULL, T0 - 901, &msg), SIGV4_EXPIRED);
	assert_non_null(strstr(msg, "Signature not yet current"));
	free(msg);
	assert_string_equal(sigv4_verdict_type(SIGV4_EXPIRED), "InvalidSignatureException");
}

static void test_unknown_key_and_lookup_failure(void **state)
{
	struct hdrs h = {{"host", "example.amazonaws.com", "x-amz-date", "20150830T123600Z",
	                  "authorization",
	                  "AWS4-HMAC-SHA256 Credential=AKIDOTHER/20150830/us-east-1/service/"
	                  "aws4_request, SignedHeaders=host;x-amz-date, Signature="
	                  "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
	                  NULL}};
	char *msg = NULL;

	(void)state;
	assert_int_equal(verify("GET", "/", &h, NULL, T0, &msg), SIGV4_UNKNOWN_KEY);
	assert_string_equal(msg, "The security token included in the request is invalid.");
	assert_string_equal(sigv4_verdict_type(SIGV4_UNKNOWN_KEY), "UnrecognizedClientException");
	free(msg);
	h.kv[5] = "AWS4-HMAC-SHA256 Credential=DBDOWN/20150830/us-east-1/service/aws4_request, "
	          "SignedHeaders=host;x-amz-date, Signature="
	          "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
	assert_int_equal(verify("GET", "/", &h, NULL, T0, NULL), SIGV4_LOOKUP_FAILED);
	assert_int_equal(sigv4_verdict_status(SIGV4_LOOKUP_FAILED), 503);
}

static void test_missing(void **state)
{
	struct hdrs h = {{"host", "example.amazonaws.com", NULL}};
	char *msg = NULL;

	(void)state;
	assert_int_equal(verify("GET", "/", &h, NULL, T0, &msg), SIGV4_MISSING);
	assert_string_equal(msg, "Missing Authentication Token");
	assert_string_equal(sigv4_verdict_type(SIGV4_MISSING),
	                    "MissingAuthenticationTokenException");
	free(msg);
}

/* Malformed headers never reach the key lookup. */
static void test_incomplete(void **state)
{
	static const char *const bad[] = {
	    "AWS4-HMAC-SHA1 " SCOPE ", SignedHeaders=host;x-amz-date, Signature=00",
	    "AWS4-HMAC-SHA256",
	    "AWS4-HMAC-SHA256 " SCOPE,
	    "AWS4-HMAC-SHA256 " SCOPE ", SignedHeaders=host;x-amz-date",
	    "AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, Signature="
	    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
	    /* short, upper-case and non-hex signatures */
	    "AWS4-HMAC-SHA256 " SCOPE ", SignedHeaders=host;x-amz-date, Signature=5fa00f",
	    "AWS4-HMAC-SHA256 " SCOPE ", SignedHeaders=host;x-amz-date, Signature="
	    "5FA00FA31553B73EBF1942676E86291E8372FF2A2260956D9B8AAE1D763FBF31",
	    /* duplicated, unknown and empty parameters */
	    "AWS4-HMAC-SHA256 " SCOPE ", " SCOPE ", SignedHeaders=host;x-amz-date, Signature="
	    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
	    "AWS4-HMAC-SHA256 " SCOPE ", Foo=bar, SignedHeaders=host;x-amz-date, Signature="
	    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
	    "AWS4-HMAC-SHA256 Credential=, SignedHeaders=host;x-amz-date, Signature="
	    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
	    /* scopes: too few parts, bad date, bad terminator, wrong service */
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/aws4_request, "
	    "SignedHeaders=host;x-amz-date, Signature="
	    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/2015083x/us-east-1/service/aws4_request, "
	    "SignedHeaders=host;x-amz-date, Signature="
	    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws5_request, "
	    "SignedHeaders=host;x-amz-date, Signature="
	    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/s3/aws4_request, "
	    "SignedHeaders=host;x-amz-date, Signature="
	    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request/x, "
	    "SignedHeaders=host;x-amz-date, Signature="
	    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
	    /* scope date is not the request's date */
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150831/us-east-1/service/aws4_request, "
	    "SignedHeaders=host;x-amz-date, Signature="
	    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
	    /* signed headers: host or date missing, malformed lists */
	    "AWS4-HMAC-SHA256 " SCOPE ", SignedHeaders=x-amz-date, Signature="
	    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
	    "AWS4-HMAC-SHA256 " SCOPE ", SignedHeaders=host, Signature="
	    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
	    "AWS4-HMAC-SHA256 " SCOPE ", SignedHeaders=host;;x-amz-date, Signature="
	    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
	    "AWS4-HMAC-SHA256 " SCOPE ", SignedHeaders=Host;x-amz-date, Signature="
	    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
	    /* a signed header the request does not have */
	    "AWS4-HMAC-SHA256 " SCOPE ", SignedHeaders=host;x-amz-date;x-absent, Signature="
	    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
	};
	struct hdrs h = {{"host", "example.amazonaws.com", "x-amz-date", "20150830T123600Z",
	                  "authorization", NULL, NULL}};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum sigv4_verdict v;
		h.kv[5] = bad[i];
		lookups = 0;
		v = verify("GET", "/", &h, NULL, T0, NULL);
		if (v != SIGV4_INCOMPLETE)
			fail_msg("case %zu gave verdict %d: %s", i, v, bad[i]);
		/* only the absent-header case gets as far as the key */
		if (i + 1 < sizeof(bad) / sizeof(bad[0]))
			assert_int_equal(lookups, 0);
	}
	assert_string_equal(sigv4_verdict_type(SIGV4_INCOMPLETE), "IncompleteSignatureException");
}

static void test_bad_dates(void **state)
{
	static const char *const dates[] = {
	    "2015-08-30T12:36:00Z", "20150830T123600", "20151330T123600Z", "20150830T126000Z", "",
	    "20150830T123600Zx"};
	struct hdrs h = {{"host", "example.amazonaws.com", "x-amz-date", NULL, "authorization",
	                  auth("host;x-amz-date",
	                       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
	                  NULL}};
	time_t t;

	(void)state;
	for (size_t i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
		h.kv[3] = dates[i];
		assert_int_equal(verify("GET", "/", &h, NULL, T0, NULL), SIGV4_INCOMPLETE);
	}
	assert_int_equal(sigv4_parse_amz_date("20150830T123600Z", &t), 0);
	assert_int_equal(t, T0);
}

/* Without X-Amz-Date, an RFC 1123 Date header dates the request. */
static void test_date_header(void **state)
{
	struct hdrs h = {{"host", "example.amazonaws.com", "date", "Sun, 30 Aug 2015 12:36:00 GMT",
	                  "authorization", NULL, NULL}};
	struct sigv4_request r = {
	    .method = "GET", .uri = "/", .service = "service", .header = hdr_get, .header_ctx = &h};
	char sig[65], authz[512];
	struct buf creq;

	(void)state;
	buf_init(&creq, 4096);
	assert_int_equal(sigv4_canonical_request(&r, "date;host",
	                                         "e3b0c44298fc1c149afbf4c8996fb92"
	                                         "427ae41e4649b934ca495991b7852b855",
	                                         &creq, NULL),
	                 0);
	sigv4_signature(SECRET, "20150830T123600Z", "us-east-1", "service", creq.data, creq.len,
	                sig);
	buf_free(&creq);
	snprintf(authz, sizeof(authz), "%s", auth("date;host", sig));
	h.kv[5] = authz;
	assert_int_equal(verify("GET", "/", &h, NULL, T0, NULL), SIGV4_OK);
	/* signing with the date header but not listing it is refused */
	h.kv[5] = auth("host", sig);
	assert_int_equal(verify("GET", "/", &h, NULL, T0, NULL), SIGV4_INCOMPLETE);
}

static void expect_uri(const char *in, const char *want)
{
	struct buf b;

	buf_init(&b, 1 << 16);
	assert_int_equal(sigv4_canonical_uri(in, strlen(in), &b, NULL), 0);
	assert_string_equal(b.data, want);
	buf_free(&b);
}

static void expect_query(const char *in, const char *want)
{
	struct buf b;

	buf_init(&b, 1 << 16);
	assert_int_equal(sigv4_canonical_query(in, strlen(in), &b, NULL), 0);
	assert_string_equal(b.data != NULL ? b.data : "", want);
	buf_free(&b);
}

static void test_canonical_forms(void **state)
{
	struct buf b;
	char *longpath;
	struct err *e = NULL;

	(void)state;
	expect_uri("", "/");
	expect_uri("/", "/");
	expect_uri("/a/b/../c/./d", "/a/c/d");
	expect_uri("/../../a", "/a");
	expect_uri("/a%2Fb", "/a%252Fb");
	expect_uri("/$LATEST/~x", "/%24LATEST/~x");
	expect_query("", "");
	expect_query("b&a", "a=&b=");
	expect_query("a=1&&b=2&", "a=1&b=2");
	expect_query("k=a b", "k=a%20b");
	expect_query("k=a+b", "k=a%2Bb");
	expect_query("k=%zz&k=%4", "k=%254&k=%25zz");
	expect_query("MaxItems=2&Marker=abc%3D%3D", "Marker=abc%3D%3D&MaxItems=2");
	/* over the cap: refused, not truncated */
	longpath = malloc(SIGV4_URI_MAX + 2);
	memset(longpath, 'a', SIGV4_URI_MAX + 1);
	longpath[0] = '/';
	longpath[SIGV4_URI_MAX + 1] = '\0';
	buf_init(&b, 1 << 16);
	assert_int_equal(sigv4_canonical_uri(longpath, SIGV4_URI_MAX, &b, NULL), 0);
	assert_int_equal(sigv4_canonical_uri(longpath, SIGV4_URI_MAX + 1, &b, &e), -1);
	assert_int_equal(e->code, ERR_TOO_LARGE);
	err_free(&e);
	buf_free(&b);
	free(longpath);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_aws_suite),
	    cmocka_unit_test(test_aws_suite_post_form),
	    cmocka_unit_test(test_botocore_vectors),
	    cmocka_unit_test(test_botocore_headers_trimmed),
	    cmocka_unit_test(test_double_encoded_path),
	    cmocka_unit_test(test_payload_hash_header),
	    cmocka_unit_test(test_wrong_signature_last_digit),
	    cmocka_unit_test(test_date_skew_limit_pair),
	    cmocka_unit_test(test_unknown_key_and_lookup_failure),
	    cmocka_unit_test(test_missing),
	    cmocka_unit_test(test_incomplete),
	    cmocka_unit_test(test_bad_dates),
	    cmocka_unit_test(test_date_header),
	    cmocka_unit_test(test_canonical_forms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
