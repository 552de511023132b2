/* The zip unpacker: honest archives unpack exactly; traversal, symlinks,
 * bombs, lies about sizes and CRCs, truncation and non-zips are refused with
 * nothing left behind; every limit is tested in pairs (just inside passes,
 * just over fails with its fixed message). */
#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <zlib.h>

#include "zip.h"

/* ------------------------------------------------------------------ */
/* A zip writer that can also lie                                       */
/* ------------------------------------------------------------------ */

struct zb {
	unsigned char *p;
	size_t len;
	unsigned char *cd;
	size_t cdlen;
	unsigned count;
};

struct ent {
	const char *name;
	size_t namelen; /* 0: strlen(name) */
	const void *data;
	size_t dlen;
	int method;       /* 0 stored, 8 deflate, other: written as is */
	uint16_t made_by; /* 0x0314 = Unix; 0 = MS-DOS */
	uint32_t mode;    /* Unix mode in the external attributes */
	uint16_t flags;
	int crc_delta;    /* added to the real CRC */
	long usize_delta; /* added to the real uncompressed size */
	long local_off;   /* >= 0: point the central entry here instead */
};

static void put(unsigned char **buf, size_t *len, const void *p, size_t n)
{
	*buf = realloc(*buf, *len + n + 1);
	if (n > 0)
		memcpy(*buf + *len, p, n);
	*len += n;
}

static void put16(unsigned char **b, size_t *l, unsigned v)
{
	unsigned char x[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
	put(b, l, x, 2);
}

static void put32(unsigned char **b, size_t *l, uint32_t v)
{
	unsigned char x[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
	                      (unsigned char)(v >> 24)};
	put(b, l, x, 4);
}

static unsigned char *deflate_raw(const void *in, size_t n, size_t *outlen)
{
	z_stream zs;
	size_t cap = compressBound((uLong)n) + 64;
	unsigned char *out = malloc(cap);

	memset(&zs, 0, sizeof(zs));
	assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)n;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	*outlen = zs.total_out;
	deflateEnd(&zs);
	return out;
}

static void zb_add(struct zb *z, const struct ent *e)
{
	size_t nlen = e->namelen ? e->namelen : strlen(e->name);
	uint32_t crc = (uint32_t)crc32(0, e->data, (uInt)e->dlen) + (uint32_t)e->crc_delta;
	uint32_t usize = (uint32_t)((long)e->dlen + e->usize_delta);
	unsigned char *cdata = (unsigned char *)(uintptr_t)e->data;
	size_t clen = e->dlen;
	uint32_t off = (uint32_t)z->len;

	if (e->method == 8)
		cdata = deflate_raw(e->data, e->dlen, &clen);
	put32(&z->p, &z->len, 0x04034b50);
	put16(&z->p, &z->len, 20);
	put16(&z->p, &z->len, e->flags);
	put16(&z->p, &z->len, (unsigned)e->method);
	put16(&z->p, &z->len, 0);
	put16(&z->p, &z->len, 0);
	put32(&z->p, &z->len, crc);
	put32(&z->p, &z->len, (uint32_t)clen);
	put32(&z->p, &z->len, usize);
	put16(&z->p, &z->len, (unsigned)nlen);
	put16(&z->p, &z->len, 0);
	put(&z->p, &z->len, e->name, nlen);
	put(&z->p, &z->len, cdata, clen);

	put32(&z->cd, &z->cdlen, 0x02014b50);
	put16(&z->cd, &z->cdlen, e->made_by);
	put16(&z->cd, &z->cdlen, 20);
	put16(&z->cd, &z->cdlen, e->flags);
	put16(&z->cd, &z->cdlen, (unsigned)e->method);
	put16(&z->cd, &z->cdlen, 0);
	put16(&z->cd, &z->cdlen, 0);
	put32(&z->cd, &z->cdlen, crc);
	put32(&z->cd, &z->cdlen, (uint32_t)clen);
	put32(&z->cd, &z->cdlen, usize);
	put16(&z->cd, &z->cdlen, (unsigned)nlen);
	put16(&z->cd, &z->cdlen, 0);
	put16(&z->cd, &z->cdlen, 0);
	put16(&z->cd, &z->cdlen, 0);
	put16(&z->cd, &z->cdlen, 0);
	put32(&z->cd, &z->cdlen, e->mode << 16);
	put32(&z->cd, &z->cdlen, e->local_off >= 0 ? (uint32_t)e->local_off : off);
	put(&z->cd, &z->cdlen, e->name, nlen);
	z->count++;
	if (cdata != e->data)
		free(cdata);
}

/* Appends the central directory and the end record; returns the archive. */
static unsigned char *zb_finish(struct zb *z, size_t *len)
{
	uint32_t cdoff = (uint32_t)z->len;

	put(&z->p, &z->len, z->cd, z->cdlen);
	put32(&z->p, &z->len, 0x06054b50);
	put16(&z->p, &z->len, 0);
	put16(&z->p, &z->len, 0);
	put16(&z->p, &z->len, z->count);
	put16(&z->p, &z->len, z->count);
	put32(&z->p, &z->len, (uint32_t)z->cdlen);
	put32(&z->p, &z->len, cdoff);
	put16(&z->p, &z->len, 0);
	free(z->cd);
	*len = z->len;
	return z->p;
}

#define FILE_ENT(n, d, m)                                                                          \
	{                                                                                          \
		.name = (n), .data = (d), .dlen = strlen(d), .method = (m), .made_by = 0x0314,     \
		.mode = 0100644, .local_off = -1                                                   \
	}

static unsigned char *one_entry(const struct ent *e, size_t *len)
{
	struct zb z = {0};

	zb_add(&z, e);
	return zb_finish(&z, len);
}

/* ------------------------------------------------------------------ */
/* Sinks                                                                */
/* ------------------------------------------------------------------ */

struct count_sink {
	uint64_t bytes;
	int begun, ended;
};

static int c_begin(void *ctx, const struct zip_entry_info *ent, struct err **e)
{
	struct count_sink *c = ctx;

	(void)ent;
	(void)e;
	c->begun++;
	return 0;
}

static int c_write(void *ctx, const void *p, size_t n, struct err **e)
{
	struct count_sink *c = ctx;

	(void)p;
	(void)e;
	c->bytes += n;
	return 0;
}

static int c_end(void *ctx, struct err **e)
{
	struct count_sink *c = ctx;

	(void)e;
	c->ended++;
	return 0;
}

static int walk(const unsigned char *p, size_t len, const struct zip_limits *lim, char **msg,
                int *code)
{
	struct count_sink c = {0, 0, 0};
	struct zip_sink s = {c_begin, c_write, c_end, &c};
	struct zip_stats st;
	struct err *e = NULL;
	int rc = zip_walk(p, len, lim, &s, &st, &e);

	if (msg != NULL)
		*msg = e != NULL ? strdup(e->msg) : NULL;
	if (code != NULL)
		*code = e != NULL ? e->code : 0;
	if (rc == 0)
		assert_int_equal(st.unzipped, c.bytes);
	err_free(&e);
	return rc;
}

static char tmpdir[] = "/tmp/test_zip.XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	return zip_remove_tree(tmpdir, NULL);
}

static char *path(const char *rel)
{
	static char buf[4][512];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", tmpdir, rel);
	return buf[k];
}

static void assert_file(const char *rel, const char *want, mode_t mode)
{
	char got[256] = "";
	struct stat sb;
	FILE *f = fopen(path(rel), "r");

	assert_non_null(f);
	assert_int_equal(fread(got, 1, sizeof(got) - 1, f), strlen(want));
	fclose(f);
	assert_string_equal(got, want);
	assert_int_equal(stat(path(rel), &sb), 0);
	assert_int_equal(sb.st_mode & 0777, mode);
}

/* The destination dir is absent and the parent holds nothing but what it
 * held before: no temporary directory is left after a failure. */
static void assert_nothing_left(const char *dest)
{
	char cmd[600];

	assert_int_equal(access(path(dest), F_OK), -1);
	snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A %s | grep -v '^keep$')\"", tmpdir);
	assert_int_equal(system(cmd), 0);
}

static int extract(const unsigned char *p, size_t len, const char *dest, char **msg)
{
	struct err *e = NULL;
	int rc = zip_extract(p, len, path(dest), NULL, NULL, &e);

	if (msg != NULL)
		*msg = e != NULL ? strdup(e->msg) : NULL;
	err_free(&e);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Tests                                                                */
/* ------------------------------------------------------------------ */

static void test_extract_honest(void **state)
{
	struct zb z = {0};
	struct ent d = {.name = "lib/", .made_by = 0x0314, .mode = 040755, .local_off = -1};
	struct ent f1 = FILE_ENT("main.py", "def handler(e, c):\n    return e\n", 8);
	struct ent f2 = FILE_ENT("lib/util.py", "X = 1\n", 0);
	struct ent f3 = FILE_ENT("deep/er/run.sh", "#!/bin/sh\n", 8);
	struct ent f4 = {.name = "dos.txt",
	                 .data = "dos",
	                 .dlen = 3,
	                 .method = 0,
	                 .made_by = 0,
	                 .mode = 0,
	                 .local_off = -1};
	struct zip_stats st;
	struct err *e = NULL;
	unsigned char *zip;
	size_t len;

	(void)state;
	f3.mode = 0100755;
	zb_add(&z, &d);
	zb_add(&z, &f1);
	zb_add(&z, &f2);
	zb_add(&z, &f3);
	zb_add(&z, &f4);
	zip = zb_finish(&z, &len);
	assert_int_equal(zip_extract(zip, len, path("ok"), NULL, &st, &e), 0);
	assert_null(e);
	assert_int_equal(st.entries, 5);
	assert_int_equal(st.files, 4);
	assert_int_equal(st.unzipped, f1.dlen + f2.dlen + f3.dlen + 3);
	assert_file("ok/main.py", "def handler(e, c):\n    return e\n", 0644);
	assert_file("ok/lib/util.py", "X = 1\n", 0644);
	assert_file("ok/deep/er/run.sh", "#!/bin/sh\n", 0755);
	assert_file("ok/dos.txt", "dos", 0644);
	/* a second unpack to the same place is a conflict, and leaves it alone */
	assert_int_equal(zip_extract(zip, len, path("ok"), NULL, NULL, &e), -1);
	assert_int_equal(e->code, ERR_CONFLICT);
	err_free(&e);
	assert_file("ok/main.py", "def handler(e, c):\n    return e\n", 0644);
	assert_int_equal(zip_remove_tree(path("ok"), NULL), 0);
	free(zip);
}

static void test_traversal_and_bad_names(void **state)
{
	static const struct {
		const char *name;
		size_t len;
		const char *msg;
	} bad[] = {
	    {"../evil.py", 0, "'..' component"},
	    {"a/../../evil.py", 0, "'..' component"},
	    {"a/..", 0, "'..' component"},
	    {"..", 0, "'..' component"},
	    {"/etc/evil", 0, "absolute path"},
	    {"/", 0, "absolute path"},
	    {"a\\..\\evil.py", 0, "backslash"},
	    {"..\\evil.py", 0, "backslash"},
	    {"a\0/../../x", 10, "NUL"},
	    {"./main.py", 0, "'.' or '..' component"},
	    {"a//b.py", 0, "empty path component"},
	    {"a//", 0, "empty path component"},
	    {"a\nb", 0, "control character"},
	    {"", 0, "empty name"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ent en = FILE_ENT(bad[i].name, "x", 0);
		size_t len;
		unsigned char *zip;
		char *msg = NULL;

		en.namelen = bad[i].len;
		if (bad[i].name[0] == '\0')
			en.namelen = 0;
		zip = one_entry(&en, &len);
		assert_int_equal(extract(zip, len, "trav", &msg), -1);
		if (strstr(msg, bad[i].msg) == NULL)
			fail_msg("case %zu (%s): message '%s'", i, bad[i].name, msg);
		assert_nothing_left("trav");
		assert_int_equal(access("/tmp/evil.py", F_OK), -1);
		free(msg);
		free(zip);
	}
}

static void test_symlinks_and_special_files(void **state)
{
	static const uint32_t modes[] = {0120777, 020644, 060644, 010644, 0140644};
	(void)state;
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		struct ent en = FILE_ENT("link", "/etc/passwd", 0);
		size_t len;
		unsigned char *zip;
		char *msg = NULL;

		en.mode = modes[i];
		zip = one_entry(&en, &len);
		assert_int_equal(extract(zip, len, "sym", &msg), -1);
		assert_non_null(strstr(msg, i == 0 ? "symbolic link" : "special file"));
		assert_nothing_left("sym");
		free(msg);
		free(zip);
	}
}

static void test_not_a_zip(void **state)
{
	static const char *const junk[] = {"", "PK", "PK\x03\x04", "hello world, not a zip",
	                                   "PK\x05\x06"};
	unsigned char big[70000];
	char *msg = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		assert_int_equal(
		    walk((const unsigned char *)junk[i], strlen(junk[i]), NULL, &msg, NULL), -1);
		assert_non_null(strstr(msg, "not a zip file"));
		free(msg);
	}
	/* an end record hidden further back than a comment can reach is not found */
	memset(big, 'x', sizeof(big));
	memcpy(big, "PK\x05\x06", 4);
	assert_int_equal(walk(big, sizeof(big), NULL, &msg, NULL), -1);
	assert_non_null(strstr(msg, "not a zip file"));
	free(msg);
}

/* Every proper prefix of a valid archive is refused. */
static void test_truncated(void **state)
{
	struct zb z = {0};
	struct ent f1 = FILE_ENT("a.py", "print('a')\n", 8);
	struct ent f2 = FILE_ENT("b.py", "print('b')\n", 0);
	unsigned char *zip;
	size_t len;

	(void)state;
	zb_add(&z, &f1);
	zb_add(&z, &f2);
	zip = zb_finish(&z, &len);
	assert_int_equal(walk(zip, len, NULL, NULL, NULL), 0);
	for (size_t n = 0; n < len; n++)
		if (walk(zip, n, NULL, NULL, NULL) != -1)
			fail_msg("prefix of %zu bytes accepted", n);
	/* and a deflate stream cut short inside an otherwise consistent archive */
	{
		char text[4096];
		struct ent f = FILE_ENT("t.txt", "", 8);
		unsigned char *z2;
		size_t l2;
		char *msg = NULL;

		for (size_t i = 0; i < sizeof(text) - 1; i++)
			text[i] = (char)('a' + (i * 7919) % 26);
		text[sizeof(text) - 1] = '\0';
		f.data = text;
		f.dlen = strlen(text);
		f.usize_delta = 100; /* declares more than the stream holds */
		z2 = one_entry(&f, &l2);
		assert_int_equal(walk(z2, l2, NULL, &msg, NULL), -1);
		assert_non_null(strstr(msg, "smaller than it says"));
		free(msg);
		free(z2);
	}
	free(zip);
}

static void test_lies(void **state)
{
	struct ent crc = FILE_ENT("c.txt", "content", 8);
	struct ent big = FILE_ENT("b.txt", "content that is longer than declared", 8);
	struct ent enc = FILE_ENT("e.txt", "secret", 0);
	struct ent bz = FILE_ENT("z.txt", "bzip2", 12);
	struct ent st = FILE_ENT("s.txt", "stored", 0);
	const struct {
		struct ent *e;
		const char *msg;
	} cases[] = {
	    {&crc, "CRC-32"},
	    {&big, "larger than it says"},
	    {&enc, "encrypted"},
	    {&bz, "compression method 12"},
	    {&st, "inconsistent sizes"},
	};
	(void)state;
	crc.crc_delta = 1;
	big.usize_delta = -10;
	enc.flags = 1;
	st.usize_delta = 1;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len;
		unsigned char *zip = one_entry(cases[i].e, &len);
		char *msg = NULL;
		int code = 0;

		assert_int_equal(walk(zip, len, NULL, &msg, &code), -1);
		if (strstr(msg, cases[i].msg) == NULL)
			fail_msg("case %zu: message '%s'", i, msg);
		assert_int_equal(code, ERR_INVALID);
		free(msg);
		free(zip);
	}
}

/* A bomb that lies about its size stops at the declared size, not at the
 * 100 MB it would inflate to. */
static void test_lying_bomb(void **state)
{
	size_t n = 100u << 20;
	char *zeros = calloc(1, n);
	struct ent b = {.name = "bomb",
	                .data = zeros,
	                .dlen = n,
	                .method = 8,
	                .made_by = 0x0314,
	                .mode = 0100644,
	                .local_off = -1};
	size_t len;
	unsigned char *zip;
	char *msg = NULL;

	(void)state;
	b.usize_delta = -(long)n + 1000;
	zip = one_entry(&b, &len);
	free(zeros);
	assert_int_equal(walk(zip, len, NULL, &msg, NULL), -1);
	assert_non_null(strstr(msg, "larger than it says"));
	free(msg);
	free(zip);
}

/* Two directory entries sharing one local header: the overlapping bomb. */
static void test_overlap_and_duplicates(void **state)
{
	struct zb z = {0};
	struct ent a = FILE_ENT("a.txt", "aaaa", 0);
	struct ent b = FILE_ENT("b.txt", "aaaa", 0);
	struct ent c = FILE_ENT("same.txt", "1", 0);
	unsigned char *zip;
	size_t len;
	char *msg = NULL;

	(void)state;
	zb_add(&z, &a);
	b.local_off = 0;
	zb_add(&z, &b);
	zip = zb_finish(&z, &len);
	assert_int_equal(walk(zip, len, NULL, &msg, NULL), -1);
	/* the names differ from the shared local header's, or the ranges overlap */
	assert_true(strstr(msg, "overlap") != NULL || strstr(msg, "does not match") != NULL);
	free(msg);
	free(zip);

	memset(&z, 0, sizeof(z));
	zb_add(&z, &c);
	zb_add(&z, &c);
	zip = zb_finish(&z, &len);
	assert_int_equal(extract(zip, len, "dup", &msg), -1);
	assert_non_null(strstr(msg, "appears twice"));
	assert_nothing_left("dup");
	free(msg);
	free(zip);

	/* a file and a directory of the same name */
	memset(&z, 0, sizeof(z));
	{
		struct ent f = FILE_ENT("x", "file", 0);
		struct ent g = FILE_ENT("x/y", "under a file", 0);
		zb_add(&z, &f);
		zb_add(&z, &g);
	}
	zip = zb_finish(&z, &len);
	assert_int_equal(extract(zip, len, "clash", &msg), -1);
	assert_non_null(strstr(msg, "conflicts"));
	assert_nothing_left("clash");
	free(msg);
	free(zip);
}

/* Limits in pairs, with small limits. */
static void test_limit_pairs_small(void **state)
{
	struct zb z = {0};
	struct ent f1 = FILE_ENT("a", "0123456789", 8);
	struct ent f2 = FILE_ENT("b", "0123456789", 0);
	struct zip_limits lim;
	unsigned char *zip;
	size_t len;
	char *msg = NULL;
	int code;

	(void)state;
	zb_add(&z, &f1);
	zb_add(&z, &f2);
	zip = zb_finish(&z, &len);

	lim = (struct zip_limits){.max_zipped = len, .max_unzipped = 20, .max_entries = 2};
	assert_int_equal(walk(zip, len, &lim, NULL, NULL), 0);

	lim.max_zipped = len - 1;
	assert_int_equal(walk(zip, len, &lim, &msg, &code), -1);
	assert_int_equal(code, ERR_TOO_LARGE);
	assert_non_null(strstr(msg, "Zipped size must be at most"));
	free(msg);

	lim = (struct zip_limits){.max_zipped = len, .max_unzipped = 19, .max_entries = 2};
	assert_int_equal(walk(zip, len, &lim, &msg, &code), -1);
	assert_int_equal(code, ERR_TOO_LARGE);
	assert_string_equal(msg, "Unzipped size must be at most 19 bytes");
	free(msg);

	lim = (struct zip_limits){.max_zipped = len, .max_unzipped = 20, .max_entries = 1};
	assert_int_equal(walk(zip, len, &lim, &msg, &code), -1);
	assert_int_equal(code, ERR_TOO_LARGE);
	assert_string_equal(msg, "the zip file has more than 1 entries");
	free(msg);
	free(zip);
}

/* AWS's own figures: 250 MB unzipped and 50 MB zipped, in pairs. */
static void test_limit_pairs_aws(void **state)
{
	size_t n = ZIP_MAX_UNZIPPED;
	char *zeros = calloc(1, n + 1);
	struct ent b = {.name = "big",
	                .data = zeros,
	                .dlen = n,
	                .method = 8,
	                .made_by = 0x0314,
	                .mode = 0100644,
	                .local_off = -1};
	unsigned char *zip;
	size_t len;
	char *msg = NULL;
	int code;

	(void)state;
	zip = one_entry(&b, &len);
	assert_int_equal(walk(zip, len, NULL, NULL, NULL), 0);
	free(zip);
	b.dlen = n + 1;
	zip = one_entry(&b, &len);
	assert_int_equal(walk(zip, len, NULL, &msg, &code), -1);
	assert_int_equal(code, ERR_TOO_LARGE);
	assert_string_equal(msg, "Unzipped size must be at most 262144000 bytes");
	free(msg);
	free(zip);

	/* a stored entry making the archive exactly 50 MB, then one byte more */
	b.method = 0;
	b.dlen = ZIP_MAX_ZIPPED - (30 + 3) - (46 + 3) - 22;
	zip = one_entry(&b, &len);
	assert_int_equal(len, ZIP_MAX_ZIPPED);
	assert_int_equal(walk(zip, len, NULL, NULL, NULL), 0);
	free(zip);
	b.dlen++;
	zip = one_entry(&b, &len);
	assert_int_equal(walk(zip, len, NULL, &msg, &code), -1);
	assert_int_equal(code, ERR_TOO_LARGE);
	assert_string_equal(msg, "Zipped size must be at most 52428800 bytes");
	free(msg);
	free(zip);
	free(zeros);
}

/* A comment after the end record is allowed (up to 65535 bytes). */
static void test_comment_and_empty(void **state)
{
	struct ent f = FILE_ENT("a", "x", 0);
	unsigned char *zip, *grown;
	size_t len;
	struct zb z = {0};

	(void)state;
	zip = one_entry(&f, &len);
	zip[len - 2] = 5;
	grown = realloc(zip, len + 5);
	assert_non_null(grown);
	zip = grown;
	memcpy(zip + len, "hello", 5);
	assert_int_equal(walk(zip, len + 5, NULL, NULL, NULL), 0);
	/* a comment length that does not match the bytes that follow */
	assert_int_equal(walk(zip, len + 4, NULL, NULL, NULL), -1);
	free(zip);
	/* an empty archive is a valid, empty package */
	zip = zb_finish(&z, &len);
	assert_int_equal(len, 22);
	assert_int_equal(walk(zip, len, NULL, NULL, NULL), 0);
	free(zip);
}

/* What Info-ZIP writes when streaming (zip -fz - main.py sub/y.txt > f.zip):
 * data descriptors, ZIP64 extra fields and ZIP64 end records. */
static const unsigned char infozip_stream[] = "\x50\x4b\x03\x04\x2d\x00\x00\x00\x00\x00\x69\x9c\x7a"
                                              "\x5d\x06\x1e\xe1\x3c\xff\xff\xff\xff\xff\xff"
                                              "\xff\xff\x07\x00\x30\x00\x6d\x61\x69\x6e\x2e\x70\x79"
                                              "\x55\x54\x09\x00\x03\xf5\x89\x08\x6b\xf5\x89"
                                              "\x08\x6b\x75\x78\x0b\x00\x01\x04\x00\x00\x00\x00\x04"
                                              "\x00\x00\x00\x00\x01\x00\x10\x00\x09\x00\x00"
                                              "\x00\x00\x00\x00\x00\x09\x00\x00\x00\x00\x00\x00\x00"
                                              "\x70\x72\x69\x6e\x74\x28\x31\x29\x0a\x50\x4b"
                                              "\x03\x04\x2d\x00\x00\x00\x00\x00\x69\x9c\x7a\x5d\x1f"
                                              "\x08\xea\x46\xff\xff\xff\xff\xff\xff\xff\xff"
                                              "\x09\x00\x30\x00\x73\x75\x62\x2f\x79\x2e\x74\x78\x74"
                                              "\x55\x54\x09\x00\x03\xf5\x89\x08\x6b\xf5\x89"
                                              "\x08\x6b\x75\x78\x0b\x00\x01\x04\x00\x00\x00\x00\x04"
                                              "\x00\x00\x00\x00\x01\x00\x10\x00\x02\x00\x00"
                                              "\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00"
                                              "\x78\x0a\x50\x4b\x01\x02\x1e\x03\x2d\x00\x00"
                                              "\x00\x00\x00\x69\x9c\x7a\x5d\x06\x1e\xe1\x3c\x09\x00"
                                              "\x00\x00\xff\xff\xff\xff\x07\x00\x24\x00\x00"
                                              "\x00\x00\x00\x01\x00\x00\x00\xa4\x81\x00\x00\x00\x00"
                                              "\x6d\x61\x69\x6e\x2e\x70\x79\x55\x54\x05\x00"
                                              "\x03\xf5\x89\x08\x6b\x75\x78\x0b\x00\x01\x04\x00\x00"
                                              "\x00\x00\x04\x00\x00\x00\x00\x01\x00\x08\x00"
                                              "\x09\x00\x00\x00\x00\x00\x00\x00\x50\x4b\x01\x02\x1e"
                                              "\x03\x2d\x00\x00\x00\x00\x00\x69\x9c\x7a\x5d"
                                              "\x1f\x08\xea\x46\x02\x00\x00\x00\xff\xff\xff\xff\x09"
                                              "\x00\x24\x00\x00\x00\x00\x00\x01\x00\x00\x00"
                                              "\xed\x81\x5e\x00\x00\x00\x73\x75\x62\x2f\x79\x2e\x74"
                                              "\x78\x74\x55\x54\x05\x00\x03\xf5\x89\x08\x6b"
                                              "\x75\x78\x0b\x00\x01\x04\x00\x00\x00\x00\x04\x00\x00"
                                              "\x00\x00\x01\x00\x08\x00\x02\x00\x00\x00\x00"
                                              "\x00\x00\x00\x50\x4b\x06\x06\x2c\x00\x00\x00\x00\x00"
                                              "\x00\x00\x1e\x03\x2d\x00\x00\x00\x00\x00\x00"
                                              "\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x02\x00"
                                              "\x00\x00\x00\x00\x00\x00\xb4\x00\x00\x00\x00"
                                              "\x00\x00\x00\xb7\x00\x00\x00\x00\x00\x00\x00\x50\x4b"
                                              "\x06\x07\x00\x00\x00\x00\x6b\x01\x00\x00\x00"
                                              "\x00\x00\x00\x01\x00\x00\x00\x50\x4b\x05\x06\x00\x00"
                                              "\x00\x00\x02\x00\x02\x00\xb4\x00\x00\x00\xff"
                                              "\xff\xff\xff\x00\x00";

static void test_zip64_streaming_writer(void **state)
{
	struct zip_stats st;
	struct err *e = NULL;
	size_t len = sizeof(infozip_stream) - 1;
	unsigned char *cut;

	(void)state;
	assert_int_equal(len, 461);
	assert_int_equal(zip_extract(infozip_stream, len, path("z64"), NULL, &st, &e), 0);
	assert_null(e);
	assert_int_equal(st.files, 2);
	assert_file("z64/main.py", "print(1)\n", 0644);
	assert_file("z64/sub/y.txt", "x\n", 0755);
	assert_int_equal(zip_remove_tree(path("z64"), NULL), 0);
	/* the ZIP64 record pointing elsewhere is refused */
	cut = malloc(len);
	memcpy(cut, infozip_stream, len);
	cut[len - 22 - 20 + 8] ^= 1;
	assert_int_equal(walk(cut, len, NULL, NULL, NULL), -1);
	free(cut);
}

/* The code_store hook: into an existing empty directory. */
static void test_unpack_dir_hook(void **state)
{
	struct ent f = FILE_ENT("index.mjs", "export const handler = async () => 1;\n", 8);
	struct ent bad = FILE_ENT("../x.mjs", "x", 0);
	struct err *e = NULL;
	unsigned char *zip;
	size_t len;

	(void)state;
	zip = one_entry(&f, &len);
	assert_int_equal(mkdir(path("hook"), 0755), 0);
	assert_int_equal(zip_unpack_dir(zip, len, path("hook"), &e), 0);
	assert_file("hook/index.mjs", "export const handler = async () => 1;\n", 0644);
	free(zip);
	zip = one_entry(&bad, &len);
	assert_int_equal(zip_unpack_dir(zip, len, path("hook"), &e), -1);
	assert_int_equal(e->code, ERR_INVALID);
	err_free(&e);
	assert_int_equal(zip_unpack_dir(zip, len, path("no-such-dir"), &e), -1);
	assert_int_equal(e->code, ERR_IO);
	err_free(&e);
	assert_int_equal(zip_remove_tree(path("hook"), NULL), 0);
	free(zip);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_extract_honest),
	    cmocka_unit_test(test_traversal_and_bad_names),
	    cmocka_unit_test(test_symlinks_and_special_files),
	    cmocka_unit_test(test_not_a_zip),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_lies),
	    cmocka_unit_test(test_lying_bomb),
	    cmocka_unit_test(test_overlap_and_duplicates),
	    cmocka_unit_test(test_limit_pairs_small),
	    cmocka_unit_test(test_limit_pairs_aws),
	    cmocka_unit_test(test_comment_and_empty),
	    cmocka_unit_test(test_zip64_streaming_writer),
	    cmocka_unit_test(test_unpack_dir_hook),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
