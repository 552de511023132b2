/* A safe zip unpacker.  See zip.h for what it refuses and why. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <zlib.h>

#include "cleanup.h"
#include "xalloc.h"
#include "zip.h"

const struct zip_limits zip_default_limits = {
    .max_zipped = ZIP_MAX_ZIPPED,
    .max_unzipped = ZIP_MAX_UNZIPPED,
    .max_entries = ZIP_MAX_ENTRIES,
};

#define SIG_LOCAL   0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_EOCD    0x06054b50u
#define SIG_EOCD64L 0x07064b50u
#define SIG_EOCD64  0x06064b50u

#define LOCAL_LEN   30u
#define CENTRAL_LEN 46u
#define EOCD_LEN    22u

#define CHUNK (64 * 1024)

/* One central-directory entry, as checked. */
struct centry {
	uint16_t flags;
	uint16_t method;
	uint32_t crc;
	uint64_t csize;
	uint64_t usize;
	uint64_t local_off; /* local header */
	uint64_t data_off;  /* compressed data, found through the local header */
	uint64_t data_end;  /* data_off + csize */
	int is_dir;
	int executable;
	char *name; /* NUL-terminated, validated */
};

static uint16_t rd16(const unsigned char *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t rd32(const unsigned char *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

static uint64_t rd64(const unsigned char *p)
{
	return (uint64_t)rd32(p) | ((uint64_t)rd32(p + 4) << 32);
}

/* ------------------------------------------------------------------ */
/* Names                                                                */
/* ------------------------------------------------------------------ */

/* Accepts "a/b/c.py" and "a/b/" (a directory); refuses anything that could
 * leave the destination or mean something else on another system. */
static int check_name(const char *n, size_t len, int *is_dir, struct err **e)
{
	size_t i = 0;

	if (len == 0)
		return err_set(e, ERR_INVALID, "an entry has an empty name");
	if (len > ZIP_MAX_NAME)
		return err_set(e, ERR_INVALID, "an entry name is longer than %d bytes",
		               ZIP_MAX_NAME);
	for (size_t k = 0; k < len; k++) {
		unsigned char c = (unsigned char)n[k];
		if (c == '\0' || c < 0x20 || c == 0x7f)
			return err_set(e, ERR_INVALID,
			               "entry '%.*s' has a control character or NUL", (int)k, n);
		if (c == '\\')
			return err_set(e, ERR_INVALID, "entry '%.*s' contains a backslash",
			               (int)len, n);
	}
	if (n[0] == '/')
		return err_set(e, ERR_INVALID, "entry '%.*s' is an absolute path", (int)len, n);
	*is_dir = n[len - 1] == '/';
	if (*is_dir)
		len--;
	if (len == 0 || n[len - 1] == '/')
		return err_set(e, ERR_INVALID, "entry '%.*s' has an empty path component",
		               (int)len + 1, n);
	while (i < len) {
		size_t j = i;
		while (j < len && n[j] != '/')
			j++;
		if (j == i)
			return err_set(e, ERR_INVALID, "entry '%.*s' has an empty path component",
			               (int)len, n);
		if ((j - i == 1 && n[i] == '.') || (j - i == 2 && n[i] == '.' && n[i + 1] == '.'))
			return err_set(e, ERR_INVALID, "entry '%.*s' has a '.' or '..' component",
			               (int)len, n);
		i = j + 1;
	}
	return 0;
}

/* Unix file type from the external attributes, when the creator was Unix. */
static int check_mode(uint16_t made_by, uint32_t ext, const char *name, int *is_dir,
                      int *executable, struct err **e)
{
	uint32_t mode = ext >> 16;

	*executable = 0;
	if ((made_by >> 8) != 3 || mode == 0) /* not Unix: only the MS-DOS dir bit counts */
		return 0;
	switch (mode & S_IFMT) {
	case S_IFLNK:
		return err_set(e, ERR_INVALID, "entry '%s' is a symbolic link", name);
	case S_IFDIR:
		if (!*is_dir)
			return err_set(e, ERR_INVALID, "entry '%s' is a directory without a '/'",
			               name);
		return 0;
	case S_IFREG:
	case 0:
		if (*is_dir)
			return err_set(e, ERR_INVALID,
			               "entry '%s' is a file named like a directory", name);
		*executable = (mode & 0111) != 0;
		return 0;
	default:
		return err_set(e, ERR_INVALID, "entry '%s' is a special file", name);
	}
}

/* ------------------------------------------------------------------ */
/* Directory parsing                                                    */
/* ------------------------------------------------------------------ */

struct archive {
	const unsigned char *p;
	size_t len;
	uint64_t cd_off;
	uint64_t cd_size;
	size_t count;
	struct centry *ents;
};

static void archive_free(struct archive *a)
{
	for (size_t i = 0; a->ents != NULL && i < a->count; i++)
		free(a->ents[i].name);
	free(a->ents);
	a->ents = NULL;
}

/* The ZIP64 end record, found through the locator at loc (just before the
 * classic record); its values replace the classic ones, and *end becomes
 * where the central directory must end. */
static int read_eocd64(struct archive *a, size_t loc, size_t *end, struct err **e)
{
	const unsigned char *p = a->p;
	uint64_t off = rd64(p + loc + 8);

	if (rd32(p + loc + 4) != 0 || rd32(p + loc + 16) != 1)
		return err_set(e, ERR_INVALID, "multi-disk zip archives are not supported");
	if (off > loc || loc - off < 56 || rd32(p + off) != SIG_EOCD64 ||
	    rd64(p + off + 4) != loc - off - 12)
		return err_set(e, ERR_INVALID, "corrupt zip file (bad ZIP64 end record)");
	if (rd32(p + off + 16) != 0 || rd32(p + off + 20) != 0 ||
	    rd64(p + off + 24) != rd64(p + off + 32))
		return err_set(e, ERR_INVALID, "multi-disk zip archives are not supported");
	if (rd64(p + off + 32) > SIZE_MAX / 2)
		return err_set(e, ERR_TOO_LARGE, "the zip file has too many entries");
	a->count = (size_t)rd64(p + off + 32);
	a->cd_size = rd64(p + off + 40);
	a->cd_off = rd64(p + off + 48);
	*end = (size_t)off;
	return 0;
}

static int find_eocd(struct archive *a, const struct zip_limits *lim, struct err **e)
{
	const unsigned char *p = a->p;
	size_t len = a->len, i, stop, end;

	if (len < EOCD_LEN)
		return err_set(e, ERR_INVALID, "not a zip file (too short)");
	/* The record is last, followed only by a comment of at most 65535 bytes;
	 * the first match from the end whose comment length fits is it. */
	stop = len - EOCD_LEN > 65535 ? len - EOCD_LEN - 65535 : 0;
	for (i = len - EOCD_LEN;; i--) {
		if (rd32(p + i) == SIG_EOCD && i + EOCD_LEN + rd16(p + i + 20) == len)
			break;
		if (i == stop)
			return err_set(e, ERR_INVALID,
			               "not a zip file (no end of central directory record)");
	}
	if (rd16(p + i + 4) != 0 || rd16(p + i + 6) != 0 || rd16(p + i + 8) != rd16(p + i + 10))
		return err_set(e, ERR_INVALID, "multi-disk zip archives are not supported");
	a->count = rd16(p + i + 10);
	a->cd_size = rd32(p + i + 12);
	a->cd_off = rd32(p + i + 16);
	end = i;
	/* Streaming writers (zip -) add ZIP64 records even for small archives. */
	if (i >= 20 && rd32(p + i - 20) == SIG_EOCD64L && read_eocd64(a, i - 20, &end, e) < 0)
		return -1;
	if (a->count > lim->max_entries)
		return err_set(e, ERR_TOO_LARGE, "the zip file has more than %zu entries",
		               lim->max_entries);
	if (a->cd_off > end || a->cd_size != end - a->cd_off)
		return err_set(e, ERR_INVALID,
		               "truncated or corrupt zip file (central directory out of place)");
	return 0;
}

/* Sizes and offset that do not fit 32 bits are 0xffffffff in the entry and
 * follow, in that order, in the ZIP64 extra field (tag 1). */
static int zip64_extra(const unsigned char *x, size_t xlen, struct centry *ce, struct err **e)
{
	uint64_t *want[3] = {&ce->usize, &ce->csize, &ce->local_off};

	while (xlen >= 4) {
		uint16_t tag = rd16(x), sz = rd16(x + 2);
		const unsigned char *q = x + 4;
		size_t left = sz;

		if ((size_t)sz + 4 > xlen)
			return err_set(e, ERR_INVALID, "corrupt zip file (extra field of '%s')",
			               ce->name);
		for (int k = 0; tag == 1 && k < 3; k++) {
			if (*want[k] != 0xffffffffu)
				continue;
			if (left < 8)
				return err_set(e, ERR_INVALID,
				               "corrupt zip file (ZIP64 field of '%s' too short)",
				               ce->name);
			*want[k] = rd64(q);
			q += 8;
			left -= 8;
		}
		x += 4 + sz;
		xlen -= 4 + (size_t)sz;
	}
	return 0;
}

/* Parses central entry number idx at *off; advances *off. */
static int parse_central(struct archive *a, size_t idx, uint64_t *off, struct err **e)
{
	const unsigned char *c = a->p + *off;
	struct centry *ce = &a->ents[idx];
	uint16_t nlen, xlen, clen;
	uint32_t ext;

	if (*off + CENTRAL_LEN > a->cd_off + a->cd_size || rd32(c) != SIG_CENTRAL)
		return err_set(e, ERR_INVALID, "corrupt zip file (bad central directory entry %zu)",
		               idx);
	nlen = rd16(c + 28);
	xlen = rd16(c + 30);
	clen = rd16(c + 32);
	if (*off + CENTRAL_LEN + nlen + xlen + clen > a->cd_off + a->cd_size)
		return err_set(e, ERR_INVALID,
		               "corrupt zip file (central directory entry %zu "
		               "overruns the directory)",
		               idx);
	ce->flags = rd16(c + 8);
	ce->method = rd16(c + 10);
	ce->crc = rd32(c + 16);
	ce->csize = rd32(c + 20);
	ce->usize = rd32(c + 24);
	ext = rd32(c + 38);
	ce->local_off = rd32(c + 42);
	if (check_name((const char *)c + CENTRAL_LEN, nlen, &ce->is_dir, e) < 0)
		return -1;
	ce->name = xstrndup((const char *)c + CENTRAL_LEN, nlen);
	if ((ce->csize == 0xffffffffu || ce->usize == 0xffffffffu ||
	     ce->local_off == 0xffffffffu) &&
	    zip64_extra(c + CENTRAL_LEN + nlen, xlen, ce, e) < 0)
		return -1;
	if (ce->csize > a->len || ce->local_off > a->len)
		return err_set(e, ERR_INVALID, "corrupt zip file (entry '%s' is out of range)",
		               ce->name);
	if (ce->flags & 0x41)
		return err_set(e, ERR_INVALID, "entry '%s' is encrypted", ce->name);
	if (ce->method != 0 && ce->method != 8)
		return err_set(e, ERR_INVALID,
		               "entry '%s' uses compression method %u (only stored and deflate "
		               "are supported)",
		               ce->name, ce->method);
	if (check_mode(rd16(c + 4), ext, ce->name, &ce->is_dir, &ce->executable, e) < 0)
		return -1;
	if (ce->is_dir && ce->usize != 0)
		return err_set(e, ERR_INVALID, "directory entry '%s' has content", ce->name);
	if (ce->method == 0 && ce->csize != ce->usize)
		return err_set(e, ERR_INVALID, "stored entry '%s' has inconsistent sizes",
		               ce->name);
	*off += CENTRAL_LEN + nlen + xlen + clen;
	return 0;
}

/* Finds the entry's data through its local header, which must agree. */
static int locate_data(struct archive *a, struct centry *ce, struct err **e)
{
	const unsigned char *l;
	uint16_t nlen, xlen;

	if ((uint64_t)ce->local_off + LOCAL_LEN > a->cd_off)
		return err_set(e, ERR_INVALID, "truncated zip file (entry '%s' is out of range)",
		               ce->name);
	l = a->p + ce->local_off;
	if (rd32(l) != SIG_LOCAL)
		return err_set(e, ERR_INVALID, "corrupt zip file (no local header for '%s')",
		               ce->name);
	nlen = rd16(l + 26);
	xlen = rd16(l + 28);
	if ((uint64_t)ce->local_off + LOCAL_LEN + nlen + xlen > a->cd_off ||
	    nlen != strlen(ce->name) || memcmp(l + LOCAL_LEN, ce->name, nlen) != 0)
		return err_set(
		    e, ERR_INVALID,
		    "corrupt zip file (local header of '%s' does not match the directory)",
		    ce->name);
	if (rd16(l + 8) != ce->method)
		return err_set(e, ERR_INVALID, "corrupt zip file (method of '%s' differs)",
		               ce->name);
	ce->data_off = (uint64_t)ce->local_off + LOCAL_LEN + nlen + xlen;
	ce->data_end = ce->data_off + ce->csize;
	if (ce->data_end > a->cd_off)
		return err_set(e, ERR_INVALID, "truncated zip file (data of '%s' is cut short)",
		               ce->name);
	return 0;
}

static int cmp_off(const void *x, const void *y)
{
	const struct centry *const *a = x, *const *b = y;

	if ((*a)->local_off != (*b)->local_off)
		return (*a)->local_off < (*b)->local_off ? -1 : 1;
	return 0;
}

/* Entries whose bytes overlap are how the densest zip bombs are built;
 * honest archives never have them. */
static int check_overlap(struct archive *a, struct err **e)
{
	_cleanup_free_ struct centry **v = NULL;

	if (a->count < 2)
		return 0;
	v = xcalloc(a->count, sizeof(*v));
	for (size_t i = 0; i < a->count; i++)
		v[i] = &a->ents[i];
	qsort(v, a->count, sizeof(*v), cmp_off);
	for (size_t i = 1; i < a->count; i++)
		if (v[i]->local_off < v[i - 1]->data_end)
			return err_set(e, ERR_INVALID,
			               "corrupt zip file (entries '%s' and '%s' overlap)",
			               v[i - 1]->name, v[i]->name);
	return 0;
}

static int parse_archive(struct archive *a, const struct zip_limits *lim, struct err **e)
{
	uint64_t off, declared = 0;

	if (find_eocd(a, lim, e) < 0)
		return -1;
	a->ents = xcalloc(a->count ? a->count : 1, sizeof(*a->ents));
	off = a->cd_off;
	for (size_t i = 0; i < a->count; i++) {
		if (parse_central(a, i, &off, e) < 0 || locate_data(a, &a->ents[i], e) < 0)
			return -1;
		if (a->ents[i].usize > lim->max_unzipped - declared)
			return err_set(e, ERR_TOO_LARGE, "Unzipped size must be at most %llu bytes",
			               (unsigned long long)lim->max_unzipped);
		declared += a->ents[i].usize;
	}
	if (off != a->cd_off + a->cd_size)
		return err_set(e, ERR_INVALID,
		               "corrupt zip file (central directory size mismatch)");
	return check_overlap(a, e);
}

/* ------------------------------------------------------------------ */
/* Decompression                                                        */
/* ------------------------------------------------------------------ */

static int emit(const struct zip_sink *sink, const struct centry *ce, const unsigned char *p,
                size_t n, uint64_t *done, uLong *crc, struct err **e)
{
	if (n > ce->usize - *done)
		return err_set(e, ERR_INVALID, "entry '%s' is larger than it says", ce->name);
	*done += n;
	*crc = crc32(*crc, p, (uInt)n);
	return sink->write(sink->ctx, p, n, e);
}

static int inflate_entry(const unsigned char *in, const struct centry *ce,
                         const struct zip_sink *sink, uint64_t *done, uLong *crc, struct err **e)
{
	_cleanup_free_ unsigned char *out = xmalloc(CHUNK);
	z_stream zs;
	int zr = Z_OK, rc = 0;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, -MAX_WBITS) != Z_OK)
		return err_set(e, ERR_INTERNAL, "inflateInit2 failed");
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)ce->csize; /* <= max_zipped, far below 4 GiB */
	while (zr != Z_STREAM_END) {
		zs.next_out = out;
		zs.avail_out = CHUNK;
		zr = inflate(&zs, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END) {
			rc = err_set(e, ERR_INVALID, "entry '%s' is not valid deflate data (%s)",
			             ce->name, zs.msg != NULL ? zs.msg : "truncated");
			break;
		}
		if (emit(sink, ce, out, CHUNK - zs.avail_out, done, crc, e) < 0) {
			rc = -1;
			break;
		}
		if (zr == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) {
			rc = err_set(e, ERR_INVALID, "entry '%s' is truncated", ce->name);
			break;
		}
	}
	inflateEnd(&zs);
	return rc;
}

static int extract_entry(const struct archive *a, const struct centry *ce,
                         const struct zip_sink *sink, struct err **e)
{
	struct zip_entry_info info = {ce->name, ce->is_dir, ce->executable, ce->usize};
	const unsigned char *in = a->p + ce->data_off;
	uint64_t done = 0;
	uLong crc = crc32(0L, Z_NULL, 0);

	if (sink->begin(sink->ctx, &info, e) < 0)
		return -1;
	if (!ce->is_dir) {
		if (ce->method == 0) {
			for (uint64_t o = 0; o < ce->csize; o += CHUNK) {
				size_t n = ce->csize - o < CHUNK ? (size_t)(ce->csize - o) : CHUNK;
				if (emit(sink, ce, in + o, n, &done, &crc, e) < 0)
					return -1;
			}
		} else if (inflate_entry(in, ce, sink, &done, &crc, e) < 0) {
			return -1;
		}
		if (done != ce->usize)
			return err_set(e, ERR_INVALID, "entry '%s' is smaller than it says",
			               ce->name);
		if (crc != ce->crc)
			return err_set(e, ERR_INVALID, "entry '%s' fails its CRC-32 check",
			               ce->name);
	}
	return sink->end(sink->ctx, e);
}

int zip_walk(const void *data, size_t len, const struct zip_limits *lim,
             const struct zip_sink *sink, struct zip_stats *st, struct err **e)
{
	struct archive a = {.p = data, .len = len};
	struct zip_stats s = {0, 0, 0};
	int rc = -1;

	if (lim == NULL)
		lim = &zip_default_limits;
	if (len > lim->max_zipped)
		return err_set(e, ERR_TOO_LARGE, "Zipped size must be at most %llu bytes",
		               (unsigned long long)lim->max_zipped);
	if (parse_archive(&a, lim, e) < 0)
		goto out;
	for (size_t i = 0; i < a.count; i++) {
		if (extract_entry(&a, &a.ents[i], sink, e) < 0)
			goto out;
		s.entries++;
		if (!a.ents[i].is_dir) {
			s.files++;
			s.unzipped += a.ents[i].usize;
		}
	}
	if (st != NULL)
		*st = s;
	rc = 0;
out:
	archive_free(&a);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Writing to disk                                                      */
/* ------------------------------------------------------------------ */

struct disk_sink {
	int root; /* the private directory being filled */
	int fd;   /* the file being written, or -1 */
	const char *name;
};

/* Opens (creating as needed) the directory holding name's last component;
 * returns its fd and points *leaf at that component.  Never follows a
 * symlink (there are none: we create everything ourselves). */
static int open_parent(int root, const char *name, const char **leaf, struct err **e)
{
	int dir = dup(root);
	const char *p = name;

	if (dir < 0)
		return err_setsys(e, ERR_IO, "dup");
	for (;;) {
		const char *slash = strchr(p, '/');
		char comp[ZIP_MAX_NAME + 1];
		int next;

		if (slash == NULL || slash[1] == '\0')
			break;
		memcpy(comp, p, (size_t)(slash - p));
		comp[slash - p] = '\0';
		if (mkdirat(dir, comp, 0755) < 0 && errno != EEXIST) {
			close(dir);
			return err_setsys(e, ERR_IO, "creating directory for '%s'", name);
		}
		next = openat(dir, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(dir);
		if (next < 0)
			return err_set(e, ERR_INVALID,
			               "entry '%s' conflicts with a file in the archive", name);
		dir = next;
		p = slash + 1;
	}
	*leaf = p;
	return dir;
}

static int disk_begin(void *ctx, const struct zip_entry_info *ent, struct err **e)
{
	struct disk_sink *d = ctx;
	_cleanup_close_ int dir = -1;
	_cleanup_free_ char *leaf_copy = NULL;
	const char *leaf = NULL;

	dir = open_parent(d->root, ent->name, &leaf, e);
	if (dir < 0)
		return -1;
	d->name = ent->name;
	if (ent->is_dir) {
		struct stat sb;
		leaf_copy = xstrndup(leaf, strcspn(leaf, "/"));
		if (mkdirat(dir, leaf_copy, 0755) < 0 && errno != EEXIST)
			return err_setsys(e, ERR_IO, "creating directory '%s'", ent->name);
		if (fstatat(dir, leaf_copy, &sb, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(sb.st_mode))
			return err_set(e, ERR_INVALID, "entry '%s' conflicts with a file",
			               ent->name);
		return 0;
	}
	d->fd = openat(dir, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	               ent->executable ? 0755 : 0644);
	if (d->fd < 0 && errno == EEXIST)
		return err_set(e, ERR_INVALID, "entry '%s' appears twice in the archive",
		               ent->name);
	if (d->fd < 0)
		return err_setsys(e, ERR_IO, "creating '%s'", ent->name);
	/* The umask must not take away the read bits the containers need. */
	if (fchmod(d->fd, ent->executable ? 0755 : 0644) < 0)
		return err_setsys(e, ERR_IO, "chmod '%s'", ent->name);
	return 0;
}

static int disk_write(void *ctx, const void *p, size_t n, struct err **e)
{
	struct disk_sink *d = ctx;
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(d->fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return err_setsys(e, ERR_IO, "writing '%s'", d->name);
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int disk_end(void *ctx, struct err **e)
{
	struct disk_sink *d = ctx;
	int fd = d->fd;

	d->fd = -1;
	if (fd >= 0 && close(fd) < 0)
		return err_setsys(e, ERR_IO, "closing '%s'", d->name);
	return 0;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT ? -1 : 0;
}

int zip_remove_tree(const char *dir, struct err **e)
{
	if (nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT)
		return err_setsys(e, ERR_IO, "removing '%s'", dir);
	return 0;
}

/* Fills the open directory root with the archive's entries. */
static int walk_into(int root, const void *data, size_t len, const struct zip_limits *lim,
                     struct zip_stats *st, struct err **e)
{
	struct disk_sink d = {.root = root, .fd = -1, .name = ""};
	struct zip_sink sink = {disk_begin, disk_write, disk_end, &d};
	int rc = zip_walk(data, len, lim, &sink, st, e);

	if (d.fd >= 0)
		close(d.fd);
	return rc;
}

int zip_extract(const void *data, size_t len, const char *dir, const struct zip_limits *lim,
                struct zip_stats *st, struct err **e)
{
	_cleanup_close_ int root = -1;
	_cleanup_free_ char *tmp = NULL;
	struct zip_stats s;
	unsigned char rnd[6];
	int rc = -1;

	if (access(dir, F_OK) == 0)
		return err_set(e, ERR_CONFLICT, "'%s' exists already", dir);
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return err_set(e, ERR_INTERNAL, "no random bytes for a temporary name");
	tmp = xasprintf("%s.tmp-%d-%02x%02x%02x%02x%02x%02x", dir, (int)getpid(), rnd[0], rnd[1],
	                rnd[2], rnd[3], rnd[4], rnd[5]);
	if (mkdir(tmp, 0755) < 0)
		return err_setsys(e, ERR_IO, "creating '%s'", tmp);
	if (chmod(tmp, 0755) < 0) {
		err_setsys(e, ERR_IO, "chmod '%s'", tmp);
		goto out;
	}
	root = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (root < 0) {
		err_setsys(e, ERR_IO, "opening '%s'", tmp);
		goto out;
	}
	if (walk_into(root, data, len, lim, &s, e) < 0)
		goto out;
	/* NOREPLACE: plain rename would silently replace an empty directory. */
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, RENAME_NOREPLACE) < 0) {
		if (errno == EEXIST || errno == ENOTEMPTY)
			err_set(e, ERR_CONFLICT, "'%s' exists already", dir);
		else
			err_setsys(e, ERR_IO, "renaming '%s' to '%s'", tmp, dir);
		goto out;
	}
	if (st != NULL)
		*st = s;
	rc = 0;
out:
	if (rc < 0)
		zip_remove_tree(tmp, NULL);
	return rc;
}

int zip_unpack_dir(const void *data, size_t len, const char *dir, struct err **e)
{
	_cleanup_close_ int root = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (root < 0)
		return err_setsys(e, ERR_IO, "opening '%s'", dir);
	return walk_into(root, data, len, &zip_default_limits, NULL, e);
}
